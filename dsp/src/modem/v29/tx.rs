//! The V.29 transmitter: the training of V.29 §6 and the encoder of §4 through the shared
//! QAM pulse shaper.

use num_complex::Complex32;

use super::{
    CARRIER_HZ, PHASE_CHANGE, PHASE_CHANGE_4800, POINTS, SEG1, SEG2, SEG3, SEG4, TrainingPattern,
};
use crate::modem::common::WordScrambler23;
use crate::modem::qam::{DataTail, QamSymbols, Shaper, TailSymbol, TrainingPoints};
use crate::modem::rate::V29Rate;
use crate::modem::{GetBit, Transmitter};

/// `SYMBOL_MAP[r][o]`: for the scrambled bits `o` of a data symbol (the first in line order
/// in bit 0) at rate `r` (9600, 7200, 4800), the amplitude bit (Q1 at 9600) times 8 plus the
/// phase change in 45° steps (Q2 Q3 Q4 at 9600 and 7200, Q2 Q3 at 4800; V.29 §4).
const SYMBOL_MAP: [[u8; 16]; 3] = {
    let mut t = [[0u8; 16]; 3];
    let mut r = 0;
    while r < 3 {
        let n = 4 - r;
        let mut o = 0;
        while o < 1 << n {
            // The first bit in line order highest.
            let mut q = 0;
            let mut i = 0;
            while i < n {
                q |= (o >> i & 1) << (n - 1 - i);
                i += 1;
            }
            t[r][o] = match r {
                0 => ((q >> 3) << 3) as u8 | PHASE_CHANGE[q & 7],
                1 => PHASE_CHANGE[q],
                _ => PHASE_CHANGE_4800[q],
            };
            o += 1;
        }
        r += 1;
    }
    t
};

/// The V.29 transmitter: its symbols through the shared QAM pulse shaper.
#[derive(Debug, Clone)]
pub struct V29Tx {
    shaper: Shaper,
    symbols: Symbols,
}

/// The V.29 symbol sequence: training, data, trailer, ring-down.
#[derive(Debug, Clone)]
struct Symbols {
    /// Data bits per symbol and their [`SYMBOL_MAP`] row.
    n: u32,
    map: &'static [u8; 16],
    scrambler: WordScrambler23,
    pattern: TrainingPattern,
    pts: TrainingPoints,
    /// Symbols produced so far.
    symbol: u32,
    /// Absolute phase of the last data symbol, 45° steps.
    phase: u8,
    /// Symbols of trailer or ring-down still to send once the data ended.
    tail: DataTail,
}

impl V29Tx {
    /// A transmitter at `rate` sending its data part at `level_dbm0` (fax: −13 … −9 dBm0
    /// typically).
    pub fn new(rate: V29Rate, level_dbm0: f32) -> V29Tx {
        V29Tx {
            shaper: Shaper::new(CARRIER_HZ, level_dbm0, rate.energy()),
            symbols: Symbols::new(rate),
        }
    }

    /// The pulse shaper (tests move its carrier).
    #[cfg(test)]
    pub fn shaper(&mut self) -> &mut Shaper {
        &mut self.shaper
    }
}

impl Symbols {
    fn new(rate: V29Rate) -> Symbols {
        Symbols {
            n: match rate {
                V29Rate::Bps9600 => 4,
                V29Rate::Bps7200 => 3,
                V29Rate::Bps4800 => 2,
            },
            map: &SYMBOL_MAP[match rate {
                V29Rate::Bps9600 => 0,
                V29Rate::Bps7200 => 1,
                V29Rate::Bps4800 => 2,
            }],
            scrambler: WordScrambler23::default(),
            pattern: TrainingPattern::new(),
            pts: rate.training_points(),
            symbol: 0,
            phase: 0,
            tail: DataTail::default(),
        }
    }

    fn data_symbol(&mut self, bits: &mut dyn GetBit, data: bool) -> Complex32 {
        let w = self.tail.word(bits, data, self.n);
        let e = self.map[self.scrambler.scramble(w, self.n) as usize & 15];
        self.phase = (self.phase + (e & 7)) & 7;
        POINTS[(e & 8 | self.phase) as usize]
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

impl QamSymbols for Symbols {
    fn symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        self.next_symbol(bits)
    }
}

impl Transmitter for V29Tx {
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize {
        self.shaper.transmit(out, bits, &mut self.symbols)
    }
}
