//! Building blocks shared by the modems: a table-driven oscillator, self-synchronising scramblers (V.27ter §2.5, V.29 §5, V.17 §5), a power
//! meter with the carrier-detect hysteresis of V.21 §8 / V.27ter §7 / V.29 §7 / V.17 §7, and
//! the PRBS used by tests and the `ber` command.

use num_complex::Complex32;

/// One turn of phase as a `u32` (phase accumulators wrap naturally).
pub const TURN: f64 = 4_294_967_296.0;

const SIN_BITS: u32 = 10;
const SIN_SIZE: usize = 1 << SIN_BITS;

/// A quarter-wave-free full sine table with linear interpolation.
static SIN_TABLE: std::sync::LazyLock<[f32; SIN_SIZE + 1]> = std::sync::LazyLock::new(|| {
    let mut t = [0f32; SIN_SIZE + 1];
    for (i, v) in t.iter_mut().enumerate() {
        *v = (i as f64 * std::f64::consts::TAU / SIN_SIZE as f64).sin() as f32;
    }
    t
});

/// sin of a `u32` phase (one turn = 2³²), linear interpolation in a 1024-point table
/// (error < 5e-6).
#[inline(always)]
pub fn sin_u32(phase: u32) -> f32 {
    let t = &*SIN_TABLE;
    let i = (phase >> (32 - SIN_BITS)) as usize;
    let frac = (phase << SIN_BITS) as f32 * (1.0 / TURN as f32);
    t[i] + (t[i + 1] - t[i]) * frac
}

/// The sine table [`sin_u32`] reads, for loops that look it up many times (the lazy
/// initialisation is checked once, here).
#[inline(always)]
pub fn sine_table() -> &'static [f32; SIN_SIZE + 1] {
    &SIN_TABLE
}

/// (cos, sin) of a `u32` phase from `table` ([`sine_table`]): exactly
/// ([`cos_u32`], [`sin_u32`]).
#[inline(always)]
pub fn cos_sin_in(table: &[f32; SIN_SIZE + 1], phase: u32) -> (f32, f32) {
    let at = |p: u32| {
        let i = (p >> (32 - SIN_BITS)) as usize;
        let frac = (p << SIN_BITS) as f32 * (1.0 / TURN as f32);
        table[i] + (table[i + 1] - table[i]) * frac
    };
    (at(phase.wrapping_add(1 << 30)), at(phase))
}

/// `out[i] = amplitude · sin(phase + i·step)` truncated toward zero (`as i16`), a tone a
/// block at a time (the table looked up once, not per sample); returns the phase after.
#[inline]
pub fn sine_block_i16(out: &mut [i16], mut phase: u32, step: u32, amplitude: f32) -> u32 {
    let t = &*SIN_TABLE;
    for o in out {
        let i = (phase >> (32 - SIN_BITS)) as usize;
        let frac = (phase << SIN_BITS) as f32 * (1.0 / TURN as f32);
        *o = ((t[i] + (t[i + 1] - t[i]) * frac) * amplitude) as i16;
        phase = phase.wrapping_add(step);
    }
    phase
}

/// A sample value to 16 bits: rounded half away from zero (as `f32::round`) and clamped to
/// the i16 range, without a call into libm (`roundf` is a function call on baseline x86-64,
/// a fifth of a transmitter's time) and in f32 lanes, so that a block of them vectorises
/// four or eight wide. Exact: once clamped, v − trunc(v) is exact in f32 (the fraction is a
/// multiple of v's last place), and the truncation is moved one away from zero when that
/// fraction reaches ½. NaN gives 0.
#[inline(always)]
pub fn to_i16(v: f32) -> i16 {
    let v = v.clamp(-32768.0, 32767.0);
    let t = v as i32;
    let f = v - t as f32;
    (t + (f >= 0.5) as i32 - (f <= -0.5) as i32) as i16
}

/// cos of a `u32` phase.
#[inline(always)]
pub fn cos_u32(phase: u32) -> f32 {
    sin_u32(phase.wrapping_add(1 << 30))
}

/// The phase step per sample of a tone of `hz` at 8000 samples/s.
pub fn phase_step(hz: f32) -> u32 {
    ((hz as f64 / 8000.0) * TURN).round() as i64 as u32
}

/// A numerically controlled oscillator.
#[derive(Debug, Clone, Copy)]
pub struct Nco {
    pub phase: u32,
    pub step: u32,
}

impl Nco {
    pub fn new(hz: f32) -> Nco {
        Nco {
            phase: 0,
            step: phase_step(hz),
        }
    }

    /// e^{jφ} at the current phase, then advance.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)] // an oscillator, not an iterator
    pub fn next(&mut self) -> Complex32 {
        let c = Complex32::new(cos_u32(self.phase), sin_u32(self.phase));
        self.phase = self.phase.wrapping_add(self.step);
        c
    }
}

/// A self-synchronising scrambler `1 + x^-a + x^-b` (V.27ter: a=6, b=7; V.29/V.17: a=18,
/// b=23). The same register serves scrambling and descrambling.
#[derive(Debug, Clone, Copy)]
pub struct Scrambler {
    reg: u32,
    a: u32,
    b: u32,
}

impl Scrambler {
    pub fn new(a: u32, b: u32) -> Scrambler {
        Scrambler { reg: 0, a, b }
    }

    /// Scramble one bit (transmitter).
    #[inline(always)]
    pub fn scramble(&mut self, bit: bool) -> bool {
        let out = bit as u32 ^ (self.reg >> (self.a - 1)) & 1 ^ (self.reg >> (self.b - 1)) & 1;
        self.reg = (self.reg << 1) | out;
        out != 0
    }

    /// Descramble one bit (receiver).
    #[inline(always)]
    pub fn descramble(&mut self, bit: bool) -> bool {
        let out = bit as u32 ^ (self.reg >> (self.a - 1)) & 1 ^ (self.reg >> (self.b - 1)) & 1;
        self.reg = (self.reg << 1) | bit as u32;
        out != 0
    }
}

/// The scrambler 1 + x⁻¹⁸ + x⁻²³ of V.29 §5 and V.17 §5 ([`Scrambler::new`]`(18, 23)`,
/// from the same all-zero register) a word at a time: the register kept with the newest
/// output bit highest in a `u64`, so that the outputs 18 and 23 bits back of every bit of a
/// word of up to 18 bits line up under it with two shifts — no bit of a word depends on
/// another of the same word.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordScrambler23(u64);

impl WordScrambler23 {
    /// Scramble `n` (1 ≤ `n` ≤ 18) bits, the first in bit 0; the output is laid out the
    /// same way. The same as [`Scrambler::scramble`] `n` times.
    #[inline(always)]
    pub fn scramble(&mut self, w: u32, n: u32) -> u32 {
        debug_assert!((1..=18).contains(&n));
        let o = (w as u64 ^ (self.0 >> 46) ^ (self.0 >> 41)) & (u64::MAX >> (64 - n));
        self.0 = (self.0 >> n) | (o << (64 - n));
        o as u32
    }
}

/// A one-pole power meter over 16-bit samples, read in dBm0.
#[derive(Debug, Clone, Copy)]
pub struct PowerMeter {
    power: f32,
    alpha: f32,
}

impl PowerMeter {
    /// `time_constant` in samples.
    pub fn new(time_constant: f32) -> PowerMeter {
        PowerMeter {
            power: 0.0,
            alpha: 1.0 / time_constant.max(1.0),
        }
    }

    #[inline(always)]
    pub fn update(&mut self, x: f32) -> f32 {
        self.power += (x * x - self.power) * self.alpha;
        self.power
    }

    /// Mean square of the samples (16-bit units).
    pub fn power(&self) -> f32 {
        self.power
    }

    pub fn dbm0(&self) -> f32 {
        super::rms_to_dbm0(self.power.sqrt())
    }
}

/// Carrier detection with the hysteresis the recommendations ask: on above `on_dbm0`, off
/// below `off_dbm0` (V.21/V.27ter/V.29/V.17: on > −43 dBm0, off < −48 dBm0).
#[derive(Debug, Clone, Copy)]
pub struct CarrierDetect {
    on: f32,
    off: f32,
    pub present: bool,
}

impl CarrierDetect {
    pub fn new(on_dbm0: f32, off_dbm0: f32) -> CarrierDetect {
        let p = |d: f32| super::dbm0_to_rms(d).powi(2);
        CarrierDetect {
            on: p(on_dbm0),
            off: p(off_dbm0),
            present: false,
        }
    }

    /// The powers between which [`CarrierDetect::update`] changes nothing (inclusive):
    /// it answers `Some` exactly when a power is below the first or above the second.
    #[inline(always)]
    pub fn bounds(&self) -> (f32, f32) {
        if self.present {
            (self.off, f32::INFINITY)
        } else {
            (f32::NEG_INFINITY, self.on)
        }
    }

    /// Feed a power (mean square); returns `Some(true)` on carrier up, `Some(false)` on down.
    #[inline(always)]
    pub fn update(&mut self, power: f32) -> Option<bool> {
        if !self.present && power > self.on {
            self.present = true;
            Some(true)
        } else if self.present && power < self.off {
            self.present = false;
            Some(false)
        } else {
            None
        }
    }
}

/// The 2²³−1 pseudo-random bit sequence (x²³ + x¹⁸ + 1, as in O.151 for data circuits),
/// seeded with all ones: the test pattern of `softfax ber` and the interop tests.
#[derive(Debug, Clone, Copy)]
pub struct Prbs23 {
    reg: u32,
}

impl Default for Prbs23 {
    fn default() -> Self {
        Prbs23 { reg: 0x7F_FFFF }
    }
}

impl Prbs23 {
    #[inline(always)]
    pub fn next_bit(&mut self) -> bool {
        let bit = ((self.reg >> 22) ^ (self.reg >> 17)) & 1;
        self.reg = ((self.reg << 1) | bit) & 0x7F_FFFF;
        bit != 0
    }

    /// The same sequence from here on, a word at a time.
    pub fn words(self) -> Prbs23Words {
        Prbs23Words((self.reg.reverse_bits() as u64) << 32)
    }
}

/// [`Prbs23`] a word at a time: the register kept with the newest bit highest in a `u64`
/// (as [`WordScrambler23`]; the PRBS is that scrambler fed with zeros).
#[derive(Debug, Clone, Copy)]
pub struct Prbs23Words(u64);

impl Prbs23Words {
    /// The next `n` (1 ≤ `n` ≤ 18) bits, the first in bit 0: [`Prbs23::next_bit`] `n` times.
    #[inline(always)]
    pub fn next_bits(&mut self, n: u32) -> u32 {
        debug_assert!((1..=18).contains(&n));
        let o = ((self.0 >> 46) ^ (self.0 >> 41)) & (u64::MAX >> (64 - n));
        self.0 = (self.0 >> n) | (o << (64 - n));
        o as u32
    }
}

/// Count errors of received bits against the PRBS, after finding where the stream starts:
/// the receiver's first bits may be lost or garbage, so the checker seeds itself from 23
/// received bits and then predicts (the PRBS is self-synchronising in this sense).
#[derive(Debug, Clone, Copy, Default)]
pub struct PrbsChecker {
    reg: u32,
    fill: u32,
    pub bits: u64,
    pub errors: u64,
}

impl PrbsChecker {
    pub fn put(&mut self, bit: bool) {
        let b = bit as u32;
        if self.fill < 23 {
            self.reg = ((self.reg << 1) | b) & 0x7F_FFFF;
            self.fill += 1;
            return;
        }
        let predicted = ((self.reg >> 22) ^ (self.reg >> 17)) & 1;
        self.bits += 1;
        if predicted != b {
            self.errors += 1;
        }
        // Keep predicting from the received bits (an error costs 3 errors, as in O.151).
        self.reg = ((self.reg << 1) | b) & 0x7F_FFFF;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_i16_rounds_as_round_then_clamp() {
        let mut seed = 9u32;
        let mut vals: Vec<f32> = vec![
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999997,
            -0.49999997,
            32766.5,
            32767.49,
            32767.5,
            40000.0,
            -32768.5,
            -32767.5,
            -40000.0,
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-30,
        ];
        for _ in 0..100_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            vals.push(((seed >> 8) as f32 / (1 << 24) as f32 - 0.5) * 80000.0);
            vals.push((seed >> 20) as f32 * 0.5 - 1024.0);
        }
        for v in vals {
            assert_eq!(to_i16(v), v.round().clamp(-32768.0, 32767.0) as i16, "{v}");
        }
    }

    #[test]
    fn sine_table_is_accurate() {
        for i in 0..10_000u32 {
            let p = i.wrapping_mul(429_497);
            let x = p as f64 / TURN * std::f64::consts::TAU;
            assert!((sin_u32(p) as f64 - x.sin()).abs() < 1e-5);
            assert!((cos_u32(p) as f64 - x.cos()).abs() < 1e-5);
        }
    }

    #[test]
    fn scrambler_round_trips_and_whitens() {
        for (a, b) in [(6, 7), (18, 23)] {
            let mut s = Scrambler::new(a, b);
            let mut d = Scrambler::new(a, b);
            let mut p = Prbs23::default();
            let mut ones = 0;
            for i in 0..10_000 {
                let bit = i % 3 == 0 || p.next_bit();
                let sc = s.scramble(bit);
                ones += sc as u32;
                assert_eq!(d.descramble(sc), bit);
            }
            assert!(ones > 4000 && ones < 6000);
            // All ones in: not all ones out.
            let mut s = Scrambler::new(a, b);
            let out: u32 = (0..1000).map(|_| s.scramble(true) as u32).sum();
            assert!(out < 900, "{out}");
        }
    }

    #[test]
    fn word_scrambler_is_the_bit_scrambler() {
        let (mut bit, mut word) = (Scrambler::new(18, 23), WordScrambler23::default());
        let mut prbs = Prbs23::default();
        for k in 0..20_000u32 {
            let n = 1 + k % 18;
            let w = (0..n).fold(0, |w, i| w | (prbs.next_bit() as u32) << i);
            let want = (0..n).fold(0, |o, i| o | (bit.scramble(w >> i & 1 != 0) as u32) << i);
            assert_eq!(word.scramble(w, n), want, "{k}");
        }
    }

    #[test]
    fn prbs_words_are_its_bits() {
        let mut bit = Prbs23::default();
        for _ in 0..5 {
            bit.next_bit();
        }
        let mut word = bit.words();
        for k in 0..20_000u32 {
            let n = 1 + k % 18;
            let want = (0..n).fold(0, |w, i| w | (bit.next_bit() as u32) << i);
            assert_eq!(word.next_bits(n), want, "{k}");
        }
    }

    #[test]
    fn prbs_checker_finds_errors() {
        let mut p = Prbs23::default();
        let mut c = PrbsChecker::default();
        for i in 0..100_000 {
            let b = p.next_bit();
            c.put(if i == 50_000 { !b } else { b });
        }
        assert_eq!(c.bits, 100_000 - 23);
        assert_eq!(c.errors, 3);
    }
}
