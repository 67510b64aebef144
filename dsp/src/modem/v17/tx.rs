//! The V.17 transmitter: the training of V.17 §7 and the encoder of §2 through the shared
//! QAM pulse shaper.

use num_complex::Complex32;

use super::{
    ABCD, CARRIER_HZ, Constellation, SCRAMBLER_SEED, SEG1, SEG2_LONG, SEG2_SHORT, SEG3, SEG4,
    SeededScrambler, WordScrambler, next_state,
};
use crate::modem::qam::{DataTail, QamSymbols, Shaper, TailSymbol};
use crate::modem::rate::V17Rate;
use crate::modem::{GetBit, Transmitter};

/// The V.17 transmitter: its symbols through the shared QAM pulse shaper.
#[derive(Debug, Clone)]
pub struct V17Tx {
    shaper: Shaper,
    symbols: Symbols,
}

/// The V.17 symbol sequence: training, data, trailer, ring-down.
#[derive(Debug, Clone)]
struct Symbols {
    bits_per_symbol: u32,
    constellation: &'static Constellation,
    short_train: bool,
    scrambler: SeededScrambler,
    /// The scrambler from the first data-part symbol on (`in_data`).
    words: WordScrambler,
    in_data: bool,
    /// Symbols produced so far.
    symbol: u32,
    /// Index into [`ABCD`] of the last training point.
    abcd: usize,
    /// Differential encoder output Y and convolutional encoder state.
    y: u8,
    state: u8,
    tail: DataTail,
    /// The symbol where segment 4 (scrambled ones, coded as data) begins ...
    data_from: u32,
    /// ... and where the data bits begin.
    bits_from: u32,
}

/// [`next_state`] as a table: `[state][Y]`.
const NEXT_STATE: [[u8; 4]; 8] = {
    let mut t = [[0u8; 4]; 8];
    let mut s = 0;
    while s < 8 {
        let mut y = 0;
        while y < 4 {
            t[s][y] = next_state(s as u8, y as u8);
            y += 1;
        }
        s += 1;
    }
    t
};

impl V17Tx {
    /// A transmitter at `rate` and `level_dbm0`, with the long training or (T.30 pages after
    /// the first) the short one.
    pub fn new(rate: V17Rate, level_dbm0: f32, short_train: bool) -> V17Tx {
        V17Tx {
            shaper: Shaper::new(CARRIER_HZ, level_dbm0, rate.constellation().energy),
            symbols: Symbols::new(rate, short_train),
        }
    }

    /// The pulse shaper (tests move its carrier).
    #[cfg(test)]
    pub fn shaper(&mut self) -> &mut Shaper {
        &mut self.shaper
    }
}

impl Symbols {
    fn new(rate: V17Rate, short_train: bool) -> Symbols {
        let data_from = if short_train {
            SEG1 + SEG2_SHORT
        } else {
            SEG1 + SEG2_LONG + SEG3
        };
        Symbols {
            bits_per_symbol: rate.bits_per_symbol(),
            constellation: rate.constellation(),
            short_train,
            scrambler: SeededScrambler(SCRAMBLER_SEED),
            words: SeededScrambler(SCRAMBLER_SEED).words(),
            in_data: false,
            symbol: 0,
            abcd: 0,
            y: if short_train { 0 } else { 1 },
            state: 0,
            tail: DataTail::default(),
            data_from,
            bits_from: data_from + SEG4,
        }
    }

    fn data_symbol(&mut self, bits: &mut dyn GetBit, data: bool) -> Complex32 {
        let w = self.tail.word(bits, data, self.bits_per_symbol);
        if !self.in_data {
            // The data part carries on the training's scrambler, a word at a time.
            self.words = self.scrambler.words();
            self.in_data = true;
        }
        let q = self.words.scramble(w, self.bits_per_symbol) as usize;
        self.y = (self.y + (q & 3) as u8) & 3;
        let y0 = self.state & 1;
        self.state = NEXT_STATE[self.state as usize & 7][self.y as usize];
        let label = (q >> 2) << 3 | (self.y as usize) << 1 | y0 as usize;
        self.constellation.point(label)
    }

    fn next_symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        let k = self.symbol;
        self.symbol = self.symbol.saturating_add(1);
        // The data part first: nearly every symbol is one of it.
        if k >= self.data_from {
            if !self.tail.ended() {
                return Some(self.data_symbol(bits, k >= self.bits_from));
            }
            // The trailer of ones, then the pulse shaper rings down.
            return match self.tail.next_symbol()? {
                TailSymbol::Ones => Some(self.data_symbol(bits, false)),
                TailSymbol::Silence => Some(Complex32::default()),
            };
        }
        let seg2 = if self.short_train {
            SEG2_SHORT
        } else {
            SEG2_LONG
        };
        if k < SEG1 {
            return Some(ABCD[(k & 1) as usize]);
        }
        if k < SEG1 + seg2 {
            self.abcd = self.scrambler.cdba();
            return Some(ABCD[self.abcd]);
        }
        self.abcd = (self.abcd + self.scrambler.bridge_step(k - SEG1 - seg2)) & 3;
        Some(ABCD[self.abcd])
    }
}

impl QamSymbols for Symbols {
    fn symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        self.next_symbol(bits)
    }
}

impl Transmitter for V17Tx {
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize {
        self.shaper.transmit(out, bits, &mut self.symbols)
    }
}
