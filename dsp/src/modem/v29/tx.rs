//! The V.29 transmitter: the training of V.29 §6 and the encoder of §4 through the shared
//! QAM pulse shaper.

use num_complex::Complex32;

use super::{
    CARRIER_HZ, PHASE_CHANGE, PHASE_CHANGE_4800, POINTS, SEG1, SEG2, SEG3, SEG4, TrainingPattern,
};
use crate::modem::GetBit;
use crate::modem::common::Scrambler;
use crate::modem::qam::{DataTail, QamTx, Shaper, TailSymbol, TrainingPoints};
use crate::modem::rate::V29Rate;

/// The V.29 transmitter.
#[derive(Debug, Clone)]
pub struct V29Tx {
    rate: V29Rate,
    shaper: Shaper,
    scrambler: Scrambler,
    pattern: TrainingPattern,
    pts: TrainingPoints,
    /// Symbols produced so far.
    symbol: u32,
    /// Absolute phase of the last data symbol, 45° steps.
    phase: u8,
    /// Symbols of trailer or ring-down still to send once the data ended.
    tail: DataTail,
    done: bool,
}

impl V29Tx {
    /// A transmitter at `rate` sending its data part at `level_dbm0` (fax: −13 … −9 dBm0
    /// typically).
    pub fn new(rate: V29Rate, level_dbm0: f32) -> V29Tx {
        V29Tx {
            rate,
            shaper: Shaper::new(CARRIER_HZ, level_dbm0, rate.energy()),
            scrambler: Scrambler::new(18, 23),
            pattern: TrainingPattern::new(),
            pts: rate.training_points(),
            symbol: 0,
            phase: 0,
            tail: DataTail::default(),
            done: false,
        }
    }

    /// One scrambled bit: data while there is any (ones in training and in the tail).
    fn bit(&mut self, bits: &mut dyn GetBit, data: bool) -> bool {
        let b = self.tail.bit(bits, data);
        self.scrambler.scramble(b)
    }

    fn data_symbol(&mut self, bits: &mut dyn GetBit, data: bool) -> Complex32 {
        let rate = self.rate;
        let mut b = || self.bit(bits, data) as usize;
        let (amp, change) = match rate {
            V29Rate::Bps9600 => {
                let q1 = b();
                let q = b() << 2 | b() << 1;
                (q1, PHASE_CHANGE[q | b()])
            }
            V29Rate::Bps7200 => {
                let q = b() << 2 | b() << 1;
                (0, PHASE_CHANGE[q | b()])
            }
            V29Rate::Bps4800 => {
                let q = b() << 1;
                (0, PHASE_CHANGE_4800[q | b()])
            }
        };
        self.phase = (self.phase + change) & 7;
        POINTS[amp << 3 | self.phase as usize]
    }

    fn next_symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        let k = self.symbol;
        self.symbol = self.symbol.saturating_add(1);
        if k < SEG1 {
            return Some(Complex32::default());
        }
        if k < SEG1 + SEG2 {
            return Some(if (k - SEG1).is_multiple_of(2) {
                self.pts.a
            } else {
                self.pts.b
            });
        }
        if k < SEG1 + SEG2 + SEG3 {
            return Some(if self.pattern.next() {
                self.pts.d
            } else {
                self.pts.c
            });
        }
        if !self.tail.ended() {
            let data = k >= SEG1 + SEG2 + SEG3 + SEG4;
            return Some(self.data_symbol(bits, data));
        }
        // The trailer of ones, then the pulse shaper rings down.
        match self.tail.next_symbol()? {
            TailSymbol::Ones => Some(self.data_symbol(bits, false)),
            TailSymbol::Silence => Some(Complex32::default()),
        }
    }
}

impl QamTx for V29Tx {
    fn shaper(&mut self) -> &mut Shaper {
        &mut self.shaper
    }
    fn ended(&mut self) -> &mut bool {
        &mut self.done
    }
    fn symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        self.next_symbol(bits)
    }
}
