//! The transmit side of V.29 and V.17 (V.29 §2, V.17 §3: the shaping is the
//! implementer's, a root-raised cosine with 25 % roll-off here):
//! - [`Shaper`]: symbols go through a root-raised-cosine pulse shaper (roll-off
//!   0.25, 12 symbols long) kept as a 10-phase polyphase bank — 2400 baud at 8000 samples/s is
//!   3⅓ samples per symbol, so the sample clock advances 3/10 of a symbol each sample and the
//!   phase picks the taps — and modulate the carrier, by overlap-add a block at a time
//!   ([`crate::modem::shaping`]; `ReferenceShaper`, the same sums a sample at a time, is what
//!   the tests hold it to). The gain puts the data part
//!   of the signal at the requested level in dBm0 (random data assumed; samples beyond full
//!   scale are clipped, which happens above about −6 dBm0: these signals peak 9 dB over
//!   their mean).

use std::sync::{Arc, LazyLock};

use num_complex::Complex32;

use super::ROLLOFF;
#[cfg(test)]
use super::{SINE, cis};
use crate::modem::GetBit;
use crate::modem::common::phase_step;
#[cfg(test)]
use crate::modem::common::to_i16;
use crate::modem::shaping::{PassbandShaper, Pulses};
use crate::signal::rrc::rrc;

/// Phases of the transmit bank: sample instants fall on tenths of a symbol.
const TX_PHASES: usize = 10;
/// Length of the transmit pulse, symbols.
pub const TX_SPAN: usize = 12;

struct TxBank {
    /// `taps[d][j]`: the pulse at d/10 symbol after the newest symbol, for the symbol j older.
    taps: [[f32; TX_SPAN]; TX_PHASES],
    /// Mean over the phases of Σ taps², the power gain for unit-energy random symbols.
    energy: f64,
}

static TX_BANK: LazyLock<TxBank> = LazyLock::new(|| {
    let mut taps = [[0f32; TX_SPAN]; TX_PHASES];
    let mut energy = 0.0;
    for (d, row) in taps.iter_mut().enumerate() {
        for (j, t) in row.iter_mut().enumerate() {
            let at = (d + TX_PHASES * j) as f64 / TX_PHASES as f64 - TX_SPAN as f64 / 2.0;
            let v = rrc(at, ROLLOFF);
            *t = v as f32;
            energy += v * v;
        }
    }
    TxBank {
        taps,
        energy: energy / TX_PHASES as f64,
    }
});

/// Where a QAM transmitter's symbols come from.
pub trait QamSymbols {
    /// The next symbol; `None` once the transmission (trailer, ring-down) is over.
    fn symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32>;
}

/// Scrambled ones sent after the data, symbols: V.29's receiver pipeline and V.17's trellis
/// decoder (24 symbols deep) then deliver every data bit before the carrier goes.
pub const TRAILER: u32 = 32;

/// The end of a QAM transmission: the data bits while there are any, then [`TRAILER`]
/// symbols of ones and [`TX_SPAN`] silent ones while the pulse shaper rings down.
#[derive(Debug, Clone, Default)]
pub struct DataTail {
    /// The data has ended ...
    ended: bool,
    /// ... and this many symbols of the tail are left.
    left: u32,
}

/// A symbol of the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailSymbol {
    /// Data symbol made of ones.
    Ones,
    /// Silence (the shaper rings down).
    Silence,
}

impl DataTail {
    /// The next bit to scramble: one of `bits` if `data` (the data part has begun) and they
    /// have not run out, else a one. When they run out the tail starts.
    pub fn bit(&mut self, bits: &mut dyn GetBit, data: bool) -> bool {
        if !data || self.ended {
            return true;
        }
        match bits.get_bit() {
            Some(b) => b,
            None => {
                self.ended = true;
                self.left = TRAILER + TX_SPAN as u32;
                true
            }
        }
    }

    /// The next `n` ≤ 16 bits to scramble, the first in bit 0: as [`DataTail::bit`] `n`
    /// times (one [`GetBit::get_bits`] call).
    #[inline]
    pub fn word(&mut self, bits: &mut dyn GetBit, data: bool, n: u32) -> u32 {
        let ones = (1u32 << n) - 1;
        if !data || self.ended {
            return ones;
        }
        let (w, got) = bits.get_bits(n);
        if got < n {
            self.ended = true;
            self.left = TRAILER + TX_SPAN as u32;
            return w | (ones & !((1 << got) - 1));
        }
        w
    }

    /// Have the data bits run out?
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The next symbol of the tail, `None` once it is over.
    pub fn next_symbol(&mut self) -> Option<TailSymbol> {
        self.left = self.left.checked_sub(1)?;
        Some(if self.left >= TX_SPAN as u32 {
            TailSymbol::Ones
        } else {
            TailSymbol::Silence
        })
    }
}

/// The pulses of the bank on the 1700 Hz (V.29) and 1800 Hz (V.17) carriers.
static PULSES_1700: LazyLock<Arc<Pulses>> = LazyLock::new(|| pulses(1700.0));
static PULSES_1800: LazyLock<Arc<Pulses>> = LazyLock::new(|| pulses(1800.0));

fn pulses(carrier_hz: f32) -> Arc<Pulses> {
    let bank = &*TX_BANK;
    Arc::new(Pulses::new(
        TX_PHASES as u32,
        3,
        TX_SPAN,
        phase_step(carrier_hz),
        |r, j| bank.taps[r][j],
    ))
}

/// The gain that puts the output at `level_dbm0` for symbols of mean energy
/// `symbol_energy`.
fn gain(level_dbm0: f32, symbol_energy: f32) -> f32 {
    let rms_per_unit = (symbol_energy as f64 * TX_BANK.energy / 2.0).sqrt();
    (crate::modem::dbm0_to_rms(level_dbm0) as f64 / rms_per_unit) as f32
}

/// Pulse shaper and modulator of V.29 and V.17, a block at a time.
#[derive(Debug, Clone)]
pub struct Shaper {
    inner: PassbandShaper,
}

impl Shaper {
    /// A shaper for `carrier_hz` whose output is at `level_dbm0` when the symbols have mean
    /// energy `symbol_energy` (in constellation units).
    pub fn new(carrier_hz: f32, level_dbm0: f32, symbol_energy: f32) -> Shaper {
        let pulses = if carrier_hz == 1700.0 {
            PULSES_1700.clone()
        } else if carrier_hz == 1800.0 {
            PULSES_1800.clone()
        } else {
            pulses(carrier_hz)
        };
        Shaper {
            inner: PassbandShaper::new(pulses, gain(level_dbm0, symbol_energy)),
        }
    }

    /// Change the carrier frequency before the first sample (tests simulate a frequency
    /// offset with it).
    #[cfg(test)]
    pub fn set_carrier(&mut self, hz: f32) {
        self.inner = PassbandShaper::new(pulses(hz), self.inner.gain());
    }

    /// `Transmitter::transmit` of the QAM modems: the symbols of `s` shaped into `out`;
    /// fewer samples than asked once the symbols end.
    #[inline]
    pub fn transmit(
        &mut self,
        out: &mut [i16],
        bits: &mut dyn GetBit,
        s: &mut impl QamSymbols,
    ) -> usize {
        self.inner.transmit(out, || s.symbol(bits))
    }
}

/// The per-sample shaper the block [`Shaper`] replaced, kept as the tests' reference: give
/// it a symbol whenever [`ReferenceShaper::symbol_due`] says so, and take one sample per
/// call of [`ReferenceShaper::sample`].
#[cfg(test)]
#[derive(Debug, Clone)]
pub struct ReferenceShaper {
    re: [f32; 2 * TX_SPAN],
    im: [f32; 2 * TX_SPAN],
    pos: usize,
    /// Tenths of a symbol since the newest symbol (advances 3 per sample).
    baud_phase: u8,
    phase: u32,
    step: u32,
    gain: f32,
    sine: &'static [f32; 1025],
    bank: &'static TxBank,
}

impl std::fmt::Debug for TxBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TxBank")
    }
}

#[cfg(test)]
impl ReferenceShaper {
    /// As [`Shaper::new`].
    pub fn new(carrier_hz: f32, level_dbm0: f32, symbol_energy: f32) -> ReferenceShaper {
        ReferenceShaper {
            re: [0.0; 2 * TX_SPAN],
            im: [0.0; 2 * TX_SPAN],
            pos: 0,
            baud_phase: 7,
            phase: 0,
            step: phase_step(carrier_hz),
            gain: gain(level_dbm0, symbol_energy),
            sine: &SINE,
            bank: &TX_BANK,
        }
    }

    /// Advance the symbol clock by one sample: true if a new symbol must be pushed before
    /// the next [`Shaper::sample`].
    #[inline]
    pub fn symbol_due(&mut self) -> bool {
        self.baud_phase += 3;
        if self.baud_phase >= TX_PHASES as u8 {
            self.baud_phase -= TX_PHASES as u8;
            true
        } else {
            false
        }
    }

    /// The next symbol.
    #[inline]
    pub fn push(&mut self, s: Complex32) {
        self.pos = if self.pos == 0 {
            TX_SPAN - 1
        } else {
            self.pos - 1
        };
        self.re[self.pos] = s.re;
        self.re[self.pos + TX_SPAN] = s.re;
        self.im[self.pos] = s.im;
        self.im[self.pos + TX_SPAN] = s.im;
    }

    /// One output sample.
    #[inline]
    pub fn sample(&mut self) -> i16 {
        let taps = &self.bank.taps[self.baud_phase as usize];
        let re = &self.re[self.pos..self.pos + TX_SPAN];
        let im = &self.im[self.pos..self.pos + TX_SPAN];
        let (mut xr, mut xi) = (0f32, 0f32);
        for j in 0..TX_SPAN {
            xr += taps[j] * re[j];
            xi += taps[j] * im[j];
        }
        let c = cis(self.sine, self.phase);
        self.phase = self.phase.wrapping_add(self.step);
        to_i16((xr * c.re - xi * c.im) * self.gain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_bank_is_a_nyquist_root() {
        // The pulse convolved with itself (the RRC chain) has no ISI at symbol spacing.
        let h: Vec<f64> = (0..=TX_SPAN * 10)
            .map(|i| rrc(i as f64 / 10.0 - TX_SPAN as f64 / 2.0, ROLLOFF))
            .collect();
        let n = h.len();
        let conv = |k: usize| -> f64 {
            (0..n)
                .filter(|&i| k >= i && k - i < n)
                .map(|i| h[i] * h[k - i])
                .sum()
        };
        let peak = conv(n - 1);
        for s in 1..5 {
            let isi = conv(n - 1 + 10 * s) / peak;
            assert!(isi.abs() < 0.01, "ISI at {s}: {isi}");
        }
    }

    /// Random QPSK-like symbols (energy 2) from `seed`, then `None` after `n`.
    struct Qpsk {
        seed: u32,
        left: usize,
    }

    impl QamSymbols for Qpsk {
        fn symbol(&mut self, _: &mut dyn GetBit) -> Option<Complex32> {
            self.left = self.left.checked_sub(1)?;
            self.seed = self.seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let re = if self.seed & 0x10000 != 0 { 1.0 } else { -1.0 };
            let im = if self.seed & 0x20000 != 0 { 1.0 } else { -1.0 };
            Some(Complex32::new(re, im))
        }
    }

    #[test]
    fn block_shaper_is_the_per_sample_one() {
        // Same symbols through both, at every carrier the modems use plus an offset one,
        // in blocks of odd sizes: the same samples within one LSB, ending at the same one.
        for (hz, level) in [
            (1700.0, -13.0),
            (1800.0, -13.0),
            (1807.0, 0.0),
            (1800.0, -43.0),
        ] {
            let n_syms = 3000;
            let mut block = Shaper::new(hz, level, 2.0);
            let mut src = Qpsk {
                seed: 3,
                left: n_syms,
            };
            let mut none = || None::<bool>;
            let mut got = Vec::new();
            let mut buf = [0i16; 173];
            loop {
                let k = block.transmit(&mut buf, &mut none, &mut src);
                got.extend_from_slice(&buf[..k]);
                if k < buf.len() {
                    break;
                }
            }
            assert_eq!(block.transmit(&mut buf, &mut none, &mut src), 0);
            let mut reference = ReferenceShaper::new(1800.0, level, 2.0);
            reference.step = phase_step(hz);
            let mut src = Qpsk {
                seed: 3,
                left: n_syms,
            };
            let mut want = Vec::new();
            'outer: loop {
                if reference.symbol_due() {
                    match src.symbol(&mut none) {
                        Some(s) => reference.push(s),
                        None => break 'outer,
                    }
                }
                want.push(reference.sample());
            }
            assert_eq!(got.len(), want.len(), "{hz}");
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (*a as i32 - *b as i32).abs())
                .max()
                .unwrap();
            assert!(worst <= 1, "{hz} {level}: {worst}");
            assert!(want.iter().any(|&v| v.abs() > 100 || level < -40.0));
        }
    }

    #[test]
    fn shaper_level_is_right() {
        // Random QPSK-like symbols of energy 2 at −13 dBm0.
        let mut s = ReferenceShaper::new(1800.0, -13.0, 2.0);
        let mut seed = 7u32;
        let mut acc = 0f64;
        let n = 200_000;
        for _ in 0..n {
            if s.symbol_due() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let re = if seed & 0x10000 != 0 { 1.0 } else { -1.0 };
                let im = if seed & 0x20000 != 0 { 1.0 } else { -1.0 };
                s.push(Complex32::new(re, im));
            }
            let v = s.sample() as f64;
            acc += v * v;
        }
        let dbm0 = crate::modem::rms_to_dbm0((acc / n as f64).sqrt() as f32);
        assert!((dbm0 + 13.0).abs() < 0.15, "{dbm0}");
    }
}
