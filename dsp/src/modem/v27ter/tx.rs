//! The V.27ter transmitter.

use std::sync::{Arc, LazyLock};

use num_complex::Complex32;

use super::{
    DIBIT_STEP, POINTS, SEG3_LONG, SEG3_SHORT, SEG4_LONG, SEG4_SHORT, SEG5, Scrambler27,
    TRIBIT_STEP, V27terRate, conditioning_step, encode, pulse,
};
use crate::modem::common::phase_step;
use crate::modem::shaping::{PassbandShaper, Pulses};
use crate::modem::{GetBit, Transmitter};

/// Symbols the transmit pulse spans.
const SPAN: usize = super::TX_SPAN;
/// Segment 1, the talker echo protection tone: 190 ms (V.27ter: 185–200 ms).
const TEP_MS: u32 = 190;
/// Segment 2, silence after the tone: 20 ms.
const GAP_MS: u32 = 20;
/// Scrambled ones sent after the data.
const TRAILER: u32 = 32;

/// The pulse-shaping filter as a polyphase bank: row `c` gives the taps for the sample
/// `c/num` samples after the newest symbol (tap 0 = newest symbol).
#[derive(Debug)]
struct Bank {
    rows: Vec<[f32; SPAN]>,
    /// Symbol amplitude that gives the echo tone the power of the data signal.
    tep: f32,
}

fn bank(rate: V27terRate) -> Bank {
    let (den, num) = rate.samples_per_symbol_frac();
    let sps = rate.samples_per_symbol();
    let half = SPAN as f64 / 2.0;
    let mut rows: Vec<[f64; SPAN]> = (0..den)
        .map(|c| {
            let since = c as f64 / num as f64 / sps; // symbols since the newest symbol
            std::array::from_fn(|i| pulse(since + i as f64 - half, half))
        })
        .collect();
    // Unit-power random symbols give unit mean |baseband|² (every phase is visited equally
    // often: gcd(num, den) = 1).
    let power: f64 = rows.iter().flatten().map(|h| h * h).sum::<f64>() / den as f64;
    let scale = 1.0 / power.sqrt();
    rows.iter_mut().flatten().for_each(|h| *h *= scale);
    let dc: f64 = rows.iter().flatten().sum::<f64>() / den as f64;
    Bank {
        rows: rows.iter().map(|r| r.map(|h| h as f32)).collect(),
        tep: (1.0 / dc) as f32,
    }
}

/// `[rate]`.
static BANKS: LazyLock<[Bank; 2]> =
    LazyLock::new(|| [bank(V27terRate::Bps2400), bank(V27terRate::Bps4800)]);

/// The banks' pulses on the carrier, `[rate]`.
static PULSES: LazyLock<[Arc<Pulses>; 2]> = LazyLock::new(|| {
    [V27terRate::Bps2400, V27terRate::Bps4800].map(|r| pulses(r, super::CARRIER_HZ))
});

fn pulses(rate: V27terRate, carrier_hz: f32) -> Arc<Pulses> {
    let (den, num) = rate.samples_per_symbol_frac();
    let bank = &BANKS[rate.index()];
    Arc::new(Pulses::new(
        den,
        num,
        SPAN,
        phase_step(carrier_hz),
        |r, j| bank.rows[r][j],
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    /// Segment 1: unmodulated carrier.
    Tep,
    /// Segment 2: no energy.
    Gap,
    /// Segment 3: 180° reversals.
    Reversals,
    /// Segment 4: equaliser conditioning.
    Conditioning,
    /// Segment 5: scrambled ones.
    Ones,
    Data,
    /// Scrambled ones after the data.
    Trailer,
    /// Zero symbols while the last pulses die away.
    Ramp,
    Done,
}

/// The V.27ter transmitter.
///
/// How it works: a symbol clock of `num/den` symbols per sample (1/5 at 1600 baud, 3/20 at
/// 1200 baud) takes symbols from the training sequencer, then from the bit source through
/// the scrambler and the differential encoder. Each output sample is the complex baseband
/// — the last 10 symbols weighted by one row of a precomputed polyphase root-raised-cosine
/// bank (5 or 20 rows, one per sample position within a symbol) — modulated onto the
/// 1800 Hz carrier, computed a block at a time by overlap-add ([`crate::modem::shaping`]). After `get_bit` returns `None` it sends 32
/// symbols of scrambled ones and lets the last pulse tail out (10 symbols), then
/// [`transmit`](Transmitter::transmit) returns fewer samples than asked: the
/// transmission has ended.
#[derive(Debug, Clone)]
pub struct V27terTx {
    shaper: PassbandShaper,
    symbols: Symbols,
}

/// The symbol sequence: training, data, trailer, ring-down.
#[derive(Debug, Clone)]
struct Symbols {
    rate: V27terRate,
    long_train: bool,
    tep: bool,
    /// Carrier state, 45° steps.
    state: u8,
    stage: Stage,
    left: u32,
    scrambler: Scrambler27,
    data_ended: bool,
}

impl V27terTx {
    /// A transmitter at `rate` sending at `level_dbm0` (fax: −13 … −9 dBm0 typically),
    /// preceded by the long (`long_train`, what T.30 uses after DCS and on fallback) or the
    /// short training sequence.
    pub fn new(rate: V27terRate, level_dbm0: f32, long_train: bool) -> V27terTx {
        // The bank gives unit mean |baseband|²; the carrier halves it.
        let gain = crate::modem::dbm0_to_rms(level_dbm0) * std::f32::consts::SQRT_2;
        V27terTx {
            shaper: PassbandShaper::new(PULSES[rate.index()].clone(), gain),
            symbols: Symbols {
                rate,
                long_train,
                tep: false,
                state: 0,
                stage: Stage::Start,
                left: 0,
                scrambler: Scrambler27::TRAINING,
                data_ended: false,
            },
        }
    }

    /// Precede the training with segments 1 and 2: 190 ms of unmodulated carrier (talker
    /// echo protection) and 20 ms of silence. Off by default (T.30 makes it optional).
    pub fn with_tep(mut self, tep: bool) -> V27terTx {
        self.symbols.tep = tep;
        self
    }

    /// Shift the carrier (tests: a receiver's carrier recovery).
    #[cfg(test)]
    pub(super) fn with_carrier_hz(mut self, hz: f32) -> V27terTx {
        let p = pulses(self.symbols.rate, hz);
        self.shaper = PassbandShaper::new(p, self.shaper.gain());
        self
    }
}

impl Symbols {
    fn enter(&mut self, stage: Stage, symbols: u32) {
        self.stage = stage;
        self.left = symbols;
    }

    fn ms_to_symbols(&self, ms: u32) -> u32 {
        ms * self.rate.baud() / 1000
    }

    /// Advance the carrier state by `step` (45° units) and give the new point.
    fn step(&mut self, step: u8) -> Complex32 {
        self.state = (self.state + step) & 7;
        POINTS[self.state as usize]
    }

    /// The phase change of a data symbol carrying the `n` bits of `w` (the first in bit 0):
    /// [`encode`]'s, from a word.
    #[inline(always)]
    fn encode_word(&mut self, w: u32, n: u32) -> u8 {
        // The bits in time order from the highest, as the scrambler's word step takes them.
        let w = match n {
            3 => (w & 1) << 2 | (w & 2) | (w >> 2 & 1),
            _ => (w & 1) << 1 | (w >> 1 & 1),
        };
        let v = scramble_word(&mut self.scrambler, w, n) as usize;
        match self.rate {
            V27terRate::Bps2400 => DIBIT_STEP[v & 3],
            V27terRate::Bps4800 => TRIBIT_STEP[v & 7],
        }
    }

    /// The next symbol, `None` once everything has been sent.
    fn next_symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        loop {
            match self.stage {
                Stage::Start => {
                    if self.tep {
                        self.enter(Stage::Tep, self.ms_to_symbols(TEP_MS));
                    } else {
                        let n = if self.long_train {
                            SEG3_LONG
                        } else {
                            SEG3_SHORT
                        };
                        self.enter(Stage::Reversals, n);
                    }
                }
                Stage::Tep => {
                    if self.left > 0 {
                        self.left -= 1;
                        let a = BANKS[self.rate.index()].tep;
                        return Some(POINTS[self.state as usize] * a);
                    }
                    self.enter(Stage::Gap, self.ms_to_symbols(GAP_MS));
                }
                Stage::Gap => {
                    if self.left > 0 {
                        self.left -= 1;
                        return Some(Complex32::default());
                    }
                    let n = if self.long_train {
                        SEG3_LONG
                    } else {
                        SEG3_SHORT
                    };
                    self.enter(Stage::Reversals, n);
                }
                Stage::Reversals => {
                    if self.left > 0 {
                        self.left -= 1;
                        return Some(self.step(4));
                    }
                    self.scrambler = Scrambler27::TRAINING;
                    let n = if self.long_train {
                        SEG4_LONG
                    } else {
                        SEG4_SHORT
                    };
                    self.enter(Stage::Conditioning, n as u32);
                }
                Stage::Conditioning => {
                    if self.left > 0 {
                        self.left -= 1;
                        let s = conditioning_step(&mut self.scrambler);
                        return Some(self.step(s));
                    }
                    self.enter(Stage::Ones, SEG5 as u32);
                }
                Stage::Ones | Stage::Trailer => {
                    if self.left > 0 {
                        self.left -= 1;
                        let s = encode(self.rate, &mut self.scrambler, [true; 3]);
                        return Some(self.step(s));
                    }
                    if self.stage == Stage::Ones {
                        self.enter(Stage::Data, 0);
                    } else {
                        self.enter(Stage::Ramp, SPAN as u32);
                    }
                }
                Stage::Data => {
                    if !self.data_ended {
                        let n = self.rate.bits_per_symbol() as u32;
                        let (w, got) = bits.get_bits(n);
                        if got < n {
                            self.data_ended = true;
                        }
                        if got > 0 {
                            // A last partial symbol is padded with ones.
                            let w = w | ((1 << n) - 1) & !((1 << got) - 1);
                            let s = self.encode_word(w, n);
                            return Some(self.step(s));
                        }
                    }
                    self.enter(Stage::Trailer, TRAILER);
                }
                Stage::Ramp => {
                    if self.left > 0 {
                        self.left -= 1;
                        return Some(Complex32::default());
                    }
                    self.enter(Stage::Done, 0);
                }
                Stage::Done => return None,
            }
        }
    }
}

/// [`Scrambler27::scramble`] on `n` ≤ 5 bits at once, given and returned with the first bit
/// highest (bit n−1): the outputs 6 and 7 bits back of every bit of such a word are in the
/// register, so while the guard cannot fire within the word it is a few word operations (as
/// the receiver's `descramble_word`); otherwise bit by bit.
#[inline(always)]
fn scramble_word(s: &mut Scrambler27, w: u32, n: u32) -> u32 {
    if s.count + n > 33 {
        return (0..n)
            .rev()
            .fold(0, |o, i| o << 1 | s.scramble(w >> i & 1 != 0) as u32);
    }
    let mask = (1 << n) - 1;
    let r = s.reg << n;
    let out = (w ^ (r >> 6) ^ (r >> 7)) & mask;
    // The register extended by the word: the bit k places before bit i is bit i + k.
    let ext = r | out;
    // Line bits that repeat none of the bits 8, 9 and 12 before them restart the count.
    let fresh = ((ext >> 8) ^ ext) & ((ext >> 9) ^ ext) & ((ext >> 12) ^ ext) & mask;
    s.count = if fresh == 0 {
        s.count + n
    } else {
        fresh.trailing_zeros()
    };
    s.reg = ext & 0xFFF;
    out
}

impl Transmitter for V27terTx {
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize {
        let symbols = &mut self.symbols;
        self.shaper.transmit(out, || symbols.next_symbol(bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(tx: &mut V27terTx, nbits: usize) -> Vec<i16> {
        let mut left = nbits;
        let mut src = move || {
            (left > 0).then(|| {
                left -= 1;
                left.is_multiple_of(3)
            })
        };
        let mut out = Vec::new();
        let mut buf = [0i16; 173];
        loop {
            let n = tx.transmit(&mut buf, &mut src);
            out.extend_from_slice(&buf[..n]);
            if n < buf.len() {
                break;
            }
        }
        // Once ended it stays ended.
        assert_eq!(tx.transmit(&mut buf, &mut src), 0);
        out
    }

    #[test]
    fn word_scrambler_is_the_bit_scrambler() {
        // Long runs of one input make the line repeat and fire the guard; random stretches
        // in between. Every word size, the same outputs and state as bit by bit.
        let (mut bit, mut word) = (Scrambler27::TRAINING, Scrambler27::TRAINING);
        let mut seed = 1u32;
        let mut fired = 0;
        for k in 0..200_000u32 {
            let n = 1 + k % 5;
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let w = match (k / 500) % 3 {
                0 => seed >> 16,
                1 => 0,
                _ => u32::MAX,
            } & ((1 << n) - 1);
            let want = (0..n).rev().fold(0, |o, i| {
                fired += (bit.count >= 33) as u32;
                o << 1 | bit.scramble(w >> i & 1 != 0) as u32
            });
            assert_eq!(scramble_word(&mut word, w, n), want, "{k}");
            assert_eq!((word.reg, word.count), (bit.reg, bit.count), "{k}");
        }
        assert!(fired > 0, "the guard never fired");
    }

    #[test]
    fn lengths_follow_table_3() {
        for (rate, baud) in [(V27terRate::Bps4800, 1600), (V27terRate::Bps2400, 1200)] {
            for long in [false, true] {
                for tep in [false, true] {
                    let mut tx = V27terTx::new(rate, -13.0, long).with_tep(tep);
                    let nbits = 3000;
                    let n = send(&mut tx, nbits).len();
                    let bps = if rate == V27terRate::Bps4800 { 3 } else { 2 };
                    let train = if long { 50 + 1074 + 8 } else { 14 + 58 + 8 };
                    let tep_syms = if tep { (190 + 20) * baud / 1000 } else { 0 };
                    let symbols = tep_syms + train + nbits.div_ceil(bps) + 32 + SPAN;
                    let expect = symbols as f64 * 8000.0 / baud as f64;
                    assert!(
                        (n as f64 - expect).abs() <= 8.0,
                        "{rate} {long} {tep}: {n} vs {expect}"
                    );
                }
            }
        }
    }

    #[test]
    fn level_is_as_asked() {
        for rate in [V27terRate::Bps2400, V27terRate::Bps4800] {
            for level in [-43.0, -13.0, 0.0] {
                let mut tx = V27terTx::new(rate, level, true);
                let s = send(&mut tx, 40_000);
                // Data part only (skip training and the ending).
                let mid = &s[12_000..s.len() - 2_000];
                let ms = mid.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / mid.len() as f64;
                let got = crate::modem::rms_to_dbm0(ms.sqrt() as f32);
                assert!((got - level).abs() < 0.2, "{rate} {level}: {got}");
                let peak = mid.iter().map(|&x| (x as i32).abs()).max().unwrap();
                if level == 0.0 {
                    // Crest factor of the shaped 8-PSK: the peaks stay near full scale.
                    assert!(peak > 25_000, "{peak}");
                }
            }
        }
    }

    #[test]
    fn tep_tone_has_the_data_level() {
        let mut tx = V27terTx::new(V27terRate::Bps4800, -10.0, true).with_tep(true);
        let s = send(&mut tx, 10);
        let tone = &s[200..1400]; // inside the 190 ms tone
        let ms = tone.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / tone.len() as f64;
        let got = crate::modem::rms_to_dbm0(ms.sqrt() as f32);
        assert!((got + 10.0).abs() < 0.2, "{got}");
        // The 20 ms gap is silent (after the tone's pulse tail).
        let gap_start = 190 * 8 + 40;
        assert!(s[gap_start..gap_start + 100].iter().all(|&x| x.abs() < 50));
    }

    #[test]
    fn spectrum_stays_in_band() {
        // Energy outside 450–3150 Hz (4800) is well below the in-band energy.
        let mut tx = V27terTx::new(V27terRate::Bps4800, -13.0, true);
        let s = send(&mut tx, 30_000);
        let x: Vec<f64> = s[4000..12192].iter().map(|&v| v as f64).collect();
        let band = |f0: f64, f1: f64| -> f64 {
            let mut e = 0.0;
            let mut f = f0;
            while f < f1 {
                let w = std::f64::consts::TAU * f / 8000.0;
                let (mut c, mut d) = (0.0, 0.0);
                for (n, v) in x.iter().enumerate() {
                    c += v * (w * n as f64).cos();
                    d += v * (w * n as f64).sin();
                }
                e += c * c + d * d;
                f += 25.0;
            }
            e
        };
        let inside = band(1000.0, 2600.0) / 64.0;
        let low = band(100.0, 450.0) / 14.0;
        let high = band(3150.0, 3900.0) / 30.0;
        assert!(
            10.0 * (low / inside).log10() < -30.0,
            "low {}",
            10.0 * (low / inside).log10()
        );
        assert!(
            10.0 * (high / inside).log10() < -30.0,
            "high {}",
            10.0 * (high / inside).log10()
        );
    }
}
