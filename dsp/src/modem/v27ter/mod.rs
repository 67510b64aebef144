//! ITU-T V.27ter: 4800 bit/s (1600 baud, 8-phase differential PSK, tribits) with its
//! 2400 bit/s fallback (1200 baud, 4-phase, dibits) on an 1800 Hz carrier — the Group 3
//! fax image modem of T.4 §5, trained after DCS (TCF) and before each page.
//!
//! What the recommendation fixes, and what this module follows:
//! - Carrier 1800 Hz; 1600 baud at 4800 bit/s, 1200 baud at 2400 bit/s (§2).
//! - Differential phase encoding, first bit in time on the left: Table 1 (4800 bit/s:
//!   001 → 0°, 000 → 45°, 010 → 90°, 011 → 135°, 111 → 180°, 110 → 225°, 100 → 270°,
//!   101 → 315°) and Table 2 (2400 bit/s: 00 → 0°, 01 → 90°, 11 → 180°, 10 → 270°). The
//!   phase changes are counter-clockwise; the 2400 bit/s points sit on the axes.
//! - The self-synchronising scrambler 1 + x⁻⁶ + x⁻⁷ with its guard against repeating
//!   patterns: line bits that equal at least one of the bits 8, 9 or 12 before them are
//!   counted, any other bit clears the count, and after 33 in a row the next line bit is
//!   inverted (the descrambler mirrors it). The shared
//!   [`common::Scrambler`](super::common::Scrambler) has no guard, so this module carries
//!   its own (private `Scrambler27`).
//! - The synchronizing signals of §2.5.1, Table 3, in symbol intervals, the same at both
//!   rates: segment 1, unmodulated carrier for talker echo protection (185–200 ms; here
//!   190 ms, only with [`V27terTx::with_tep`]); segment 2, 20 ms of no energy (with the
//!   tone only); segment 3, continuous 180° reversals, 50 (long) or 14 (short); segment 4,
//!   the equaliser conditioning pattern, 1074 (long) or 58 (short): scrambler fed with
//!   ones, started from 0011110 (bits 1–7 back = 0,0,1,1,1,1,0), and every third bit
//!   selects 0° or 180°; segment 5, 8 symbols of scrambled ones coded as data. Data follow.
//!   Long at 4800 bit/s is 708 ms, at 2400 bit/s 943 ms (plus 210 ms with the tone).
//! - Turn-off: 32 symbols of scrambled ones after the data (20 ms at 4800 bit/s), then the
//!   pulse tails out; the recommendation leaves the turn-off to the modem.
//! - Received line signal detector (§7): on above −43 dBm0, off below −48 dBm0. This
//!   receiver switches on at −45 dBm0 and off at −48 dBm0 (between the two the
//!   recommendation lets the detector choose), measured in the receive band after the
//!   matched filter, so DC and out-of-band noise do not count.
//!
//! How it works — see [`V27terTx`] and [`V27terRx`]. Both directions shape with a
//! root-raised-cosine pulse of rolloff [`ROLLOFF`] = 0.5, which puts the −3 dB points of
//! the line spectrum at 1000/2600 Hz (4800) and 1200/2400 Hz (2400) as the recommendation's
//! spectrum note asks, and a Kaiser window (β = [`KAISER_BETA`]) on the truncated pulse.
//!
//! **Not supported:** the 75 bit/s backward channel and the four-wire/multipoint options
//! (fax uses neither); a short train is received best after a long one from the same
//! transmitter (the receiver keeps that equaliser and carrier offset), and there is no API
//! to hand it an equaliser from elsewhere. Noise whose in-band level lies between the
//! detector's thresholds (−45…−48 dBm0) can still bring the carrier and take it away a
//! few times a second; trainings are found all the same.
//!
//! **Tested by:** the unit tests in this folder (tx → rx at both rates, long and short
//! training, −43…0 dBm0, ±100 ppm clock, ±7 Hz carrier, white noise, echoes, the echo
//! tone, random combinations, other signals, garbage; `ber_table` and `rx_speed` print
//! figures when asked) and `tests/interop_spandsp.rs` (spandsp's V.27ter both ways).

use num_complex::Complex32;
use std::sync::LazyLock;

use crate::signal::rrc::rrc;
use crate::signal::window::kaiser;

mod rx;
mod tx;

pub use super::rate::V27terRate;
pub use rx::V27terRx;
pub use tx::V27terTx;

/// The carrier, Hz.
pub const CARRIER_HZ: f32 = 1800.0;

/// Excess bandwidth of the root-raised-cosine pulse, transmitter and receiver.
pub const ROLLOFF: f64 = 0.5;

/// β of the Kaiser window on the truncated pulses.
pub const KAISER_BETA: f64 = 3.0;

/// Symbols the transmit pulse spans.
const TX_SPAN: usize = 10;

/// Segment 3 (180° reversals), symbols: long and short training.
const SEG3_LONG: u32 = 50;
const SEG3_SHORT: u32 = 14;
/// Segment 4 (equaliser conditioning), symbols.
const SEG4_LONG: usize = 1074;
const SEG4_SHORT: usize = 58;
/// Segment 5 (scrambled ones as data), symbols.
const SEG5: usize = 8;

impl V27terRate {
    fn baud(self) -> u32 {
        match self {
            V27terRate::Bps2400 => 1200,
            V27terRate::Bps4800 => 1600,
        }
    }

    fn bits_per_symbol(self) -> usize {
        match self {
            V27terRate::Bps2400 => 2,
            V27terRate::Bps4800 => 3,
        }
    }

    /// Samples per symbol as the fraction `den / num` (5/1 and 20/3).
    fn samples_per_symbol_frac(self) -> (u32, u32) {
        match self {
            V27terRate::Bps2400 => (20, 3),
            V27terRate::Bps4800 => (5, 1),
        }
    }

    fn samples_per_symbol(self) -> f64 {
        8000.0 / self.baud() as f64
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Tribit (first bit in time as the most significant) → phase change in 45° steps (Table 1).
const TRIBIT_STEP: [u8; 8] = [1, 0, 2, 3, 6, 7, 5, 4];
/// Dibit (first bit in time as the most significant) → phase change in 45° steps (Table 2).
const DIBIT_STEP: [u8; 4] = [0, 2, 6, 4];
/// Phase change in 45° steps → tribit (inverse of [`TRIBIT_STEP`]).
const STEP_TRIBIT: [u8; 8] = [1, 0, 2, 3, 7, 6, 4, 5];
/// Phase change in 90° steps → dibit (inverse of [`DIBIT_STEP`]).
const STEP_DIBIT: [u8; 4] = [0, 1, 3, 2];

const H: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// The eight carrier states, unit amplitude, state k at k·45°.
const POINTS: [Complex32; 8] = [
    Complex32::new(1.0, 0.0),
    Complex32::new(H, H),
    Complex32::new(0.0, 1.0),
    Complex32::new(-H, H),
    Complex32::new(-1.0, 0.0),
    Complex32::new(-H, -H),
    Complex32::new(0.0, -1.0),
    Complex32::new(H, -H),
];

/// The V.27ter scrambler/descrambler 1 + x⁻⁶ + x⁻⁷ with the repeated-pattern guard. `reg`
/// holds the last 12 line bits, the newest in bit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scrambler27 {
    reg: u32,
    count: u32,
}

impl Scrambler27 {
    /// The state at the start of segment 4: 0011110 reading from the newest bit.
    const TRAINING: Scrambler27 = Scrambler27 {
        reg: 0x3C,
        count: 0,
    };

    /// Count line bits that repeat the bit 8, 9 or 12 before them.
    #[inline(always)]
    fn guard(&mut self, line: u32) {
        let r = self.reg;
        if ((r >> 7) ^ line) & ((r >> 8) ^ line) & ((r >> 11) ^ line) & 1 != 0 {
            self.count = 0;
        } else {
            self.count += 1;
        }
    }

    #[inline(always)]
    fn scramble(&mut self, bit: bool) -> bool {
        let mut out = (bit as u32 ^ (self.reg >> 5) ^ (self.reg >> 6)) & 1;
        if self.count >= 33 {
            out ^= 1;
            self.count = 0;
        } else {
            self.guard(out);
        }
        self.reg = ((self.reg << 1) | out) & 0xFFF;
        out != 0
    }

    #[inline(always)]
    fn descramble(&mut self, line: bool) -> bool {
        let line = line as u32;
        let mut out = (line ^ (self.reg >> 5) ^ (self.reg >> 6)) & 1;
        if self.count >= 33 {
            out ^= 1;
            self.count = 0;
        } else {
            self.guard(line);
        }
        self.reg = ((self.reg << 1) | line) & 0xFFF;
        out != 0
    }

    /// [`Scrambler27::descramble`] on `n` ≤ 8 line bits at once, given and returned with the
    /// first bit highest (bit n−1). While the guard cannot fire within the word it is a few
    /// word operations; otherwise bit by bit.
    #[inline(always)]
    fn descramble_word(&mut self, w: u32, n: u32) -> u32 {
        if self.count + n > 33 {
            return (0..n)
                .rev()
                .fold(0, |o, i| o << 1 | self.descramble(w >> i & 1 != 0) as u32);
        }
        let mask = (1 << n) - 1;
        // The register extended by the word: the bit k places before bit i is bit i + k.
        let ext = (self.reg << n) | (w & mask);
        let out = (ext ^ (ext >> 6) ^ (ext >> 7)) & mask;
        // Bits that repeat none of the bits 8, 9 and 12 before them restart the count.
        let fresh = ((ext >> 8) ^ ext) & ((ext >> 9) ^ ext) & ((ext >> 12) ^ ext) & mask;
        self.count = if fresh == 0 {
            self.count + n
        } else {
            fresh.trailing_zeros()
        };
        self.reg = ext & 0xFFF;
        out
    }
}

/// One symbol of segment 4: three scrambled ones, the first picks 0° or 180°.
fn conditioning_step(s: &mut Scrambler27) -> u8 {
    let b = s.scramble(true);
    s.scramble(true);
    s.scramble(true);
    if b { 4 } else { 0 }
}

/// The phase change (45° steps) of one data symbol carrying `data` (first bit in time
/// first; at 2400 bit/s only the first two are used).
fn encode(rate: V27terRate, s: &mut Scrambler27, data: [bool; 3]) -> u8 {
    let mut v = 0usize;
    for &b in &data[..rate.bits_per_symbol()] {
        v = (v << 1) | s.scramble(b) as usize;
    }
    match rate {
        V27terRate::Bps2400 => DIBIT_STEP[v],
        V27terRate::Bps4800 => TRIBIT_STEP[v],
    }
}

/// Segments 4 and 5 as the receiver expects them.
#[derive(Debug)]
struct Training {
    /// Carrier state (45° steps) of each symbol of segments 4 and 5, counted from the last
    /// reversal of segment 3 (state 0).
    states: Vec<u8>,
    /// The scrambler after segment 5, where the data start.
    scrambler: Scrambler27,
}

fn training(rate: V27terRate, long: bool) -> Training {
    let mut s = Scrambler27::TRAINING;
    let mut state = 0u8;
    let seg4 = if long { SEG4_LONG } else { SEG4_SHORT };
    let mut states = Vec::with_capacity(seg4 + SEG5);
    for _ in 0..seg4 {
        state = (state + conditioning_step(&mut s)) & 7;
        states.push(state);
    }
    for _ in 0..SEG5 {
        state = (state + encode(rate, &mut s, [true; 3])) & 7;
        states.push(state);
    }
    Training {
        states,
        scrambler: s,
    }
}

/// `[rate][short, long]`.
static TRAININGS: LazyLock<[[Training; 2]; 2]> = LazyLock::new(|| {
    [V27terRate::Bps2400, V27terRate::Bps4800].map(|r| [training(r, false), training(r, true)])
});

/// The windowed pulse: RRC times a Kaiser window reaching zero at ±`half_span` symbols.
fn pulse(t: f64, half_span: f64) -> f64 {
    if t.abs() >= half_span {
        return 0.0;
    }
    rrc(t, ROLLOFF) * kaiser(t / half_span, KAISER_BETA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::common::{Prbs23, PrbsChecker};
    use crate::modem::testutil::{self, count_errors, events, prbs};
    use crate::modem::{Collect, Receiver, RxEvent, RxQuality, dbm0_to_rms};

    #[test]
    fn word_descrambler_matches_the_bitwise_one() {
        // Random line bits, and runs of repeating patterns that make the guard fire.
        let mut p = Prbs23::default();
        let (mut slow, mut fast) = (Scrambler27::TRAINING, Scrambler27::TRAINING);
        for k in 0..200_000u32 {
            let n = [2, 3, 1, 8][(k % 4) as usize];
            let w = if (k / 500) % 3 == 0 {
                [0, 0xFF, 0xAA, 0x92][((k / 1500) % 4) as usize] & ((1 << n) - 1)
            } else {
                (0..n).fold(0, |w, _| w << 1 | p.next_bit() as u32)
            };
            let want = (0..n)
                .rev()
                .fold(0, |o, i| o << 1 | slow.descramble(w >> i & 1 != 0) as u32);
            assert_eq!(fast.descramble_word(w, n), want, "word {k}");
            assert_eq!(fast, slow, "word {k}");
        }
    }

    #[test]
    fn phase_tables_invert() {
        for v in 0..8 {
            assert_eq!(STEP_TRIBIT[TRIBIT_STEP[v] as usize] as usize, v);
        }
        for v in 0..4 {
            assert_eq!(STEP_DIBIT[(DIBIT_STEP[v] / 2) as usize] as usize, v);
        }
        // Table 1 spot checks: 001 → 0°, 111 → 180°, 101 → 315°.
        assert_eq!(
            (TRIBIT_STEP[0b001], TRIBIT_STEP[0b111], TRIBIT_STEP[0b101]),
            (0, 4, 7)
        );
        // Table 2: 01 → 90°, 10 → 270°.
        assert_eq!((DIBIT_STEP[0b01], DIBIT_STEP[0b10]), (2, 6));
    }

    #[test]
    fn scrambler_guard_round_trips_repetitive_data() {
        // Patterns that excite the guard (periods 1, 2, 3, 4, 6, 8, 9, 12) and a PRBS.
        let mut p = Prbs23::default();
        let data: Vec<bool> = (0..20_000)
            .map(|i| match i / 2000 {
                0 => true,
                1 => false,
                2 => i % 2 == 0,
                3 => i % 3 == 0,
                4 => i % 4 < 2,
                5 => i % 6 < 3,
                6 => i % 8 == 1,
                7 => i % 9 < 4,
                8 => i % 12 < 5,
                _ => p.next_bit(),
            })
            .collect();
        let mut s = Scrambler27::TRAINING;
        let mut d = Scrambler27 {
            reg: 0x5A5,
            count: 7,
        }; // starts out of step
        let mut inversions = 0;
        let mut errors_late = 0;
        for (i, &b) in data.iter().enumerate() {
            let before = s.count;
            let line = s.scramble(b);
            inversions += (before >= 33) as u32;
            if d.descramble(line) != b && i > 100 {
                errors_late += 1;
            }
        }
        assert!(inversions > 0, "the guard never fired");
        assert_eq!(errors_late, 0);
    }

    #[test]
    fn training_forms_share_their_start() {
        for r in 0..2 {
            let [short, long] = &TRAININGS[r];
            assert_eq!(short.states.len(), SEG4_SHORT + SEG5);
            assert_eq!(long.states.len(), SEG4_LONG + SEG5);
            assert_eq!(short.states[..SEG4_SHORT], long.states[..SEG4_SHORT]);
            // The first conditioning symbol does not reverse (scrambler bit 0).
            assert_eq!(long.states[0], 0);
            // Segment 4 is 0°/180° only.
            assert!(long.states[..SEG4_LONG].iter().all(|&s| s == 0 || s == 4));
            // What follows symbol 58 differs between the forms.
            let diff = (SEG4_SHORT..SEG4_SHORT + SEG5)
                .filter(|&j| short.states[j] != long.states[j])
                .count();
            assert!(diff >= 4, "rate {r}: only {diff} of 8 differ");
        }
    }

    /// Little test RNG (xorshift64*) with a Gaussian.
    struct Rng(u64);
    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn gauss(&mut self) -> f64 {
            let u = self.uniform().max(1e-300);
            let v = self.uniform();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// 100 ms of silence, the transmission of `bits`, 250 ms of silence.
    fn transmit(mut tx: V27terTx, bits: &[bool]) -> Vec<i16> {
        testutil::transmit(&mut tx, bits, 800, 2000)
    }

    /// Run a receiver over `samples` in uneven chunks; quality is read 80 % of the way in.
    fn receive(rx: &mut V27terRx, samples: &[i16]) -> (Collect, RxQuality) {
        let mut c = Collect::default();
        let at = samples.len() * 4 / 5;
        let mut q = RxQuality::default();
        let mut i = 0;
        let mut k = 0;
        while i < samples.len() {
            let n = [1, 160, 37, 1000, 7][k % 5].min(samples.len() - i);
            rx.receive(&samples[i..i + n], &mut c);
            if i < at && i + n >= at {
                q = rx.quality();
            }
            i += n;
            k += 1;
        }
        (c, q)
    }

    /// White Gaussian noise at `snr_db` below a −13 dBm0 signal, over the whole 0–4 kHz band.
    fn add_noise(s: &[i16], snr_db: f64, seed: u64) -> Vec<i16> {
        let mut rng = Rng(seed);
        let sigma = dbm0_to_rms(-13.0) as f64 / 10f64.powf(snr_db / 20.0);
        s.iter()
            .map(|&x| {
                (x as f64 + sigma * rng.gauss())
                    .round()
                    .clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    /// Read `s` with a clock `ppm` fast (positive: the far end's clock runs fast, so its
    /// symbols arrive early), by windowed-sinc interpolation (±12 taps, Hann).
    fn resample(s: &[i16], ppm: f64) -> Vec<i16> {
        let ratio = 1.0 + ppm * 1e-6;
        let n = ((s.len() - 13) as f64 / ratio) as usize;
        (13..n)
            .map(|i| {
                let t = i as f64 * ratio;
                let k = t.floor() as isize;
                let f = t - k as f64;
                let mut acc = 0.0;
                for m in -12isize..=12 {
                    let x = m as f64 - f;
                    let sinc = if x.abs() < 1e-12 {
                        1.0
                    } else {
                        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                    };
                    let w = 0.5 + 0.5 * (std::f64::consts::PI * x / 13.0).cos();
                    acc += s[(k + m) as usize] as f64 * sinc * w;
                }
                acc.round().clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    /// Exactly the data, from the first bit, and the normal events.
    fn assert_clean(c: &Collect, sent: &[bool], what: &str) {
        assert_eq!(
            events(c),
            [
                RxEvent::CarrierUp,
                RxEvent::TrainingSucceeded,
                RxEvent::CarrierDown
            ],
            "{what}"
        );
        assert!(
            c.bits.len() >= sent.len(),
            "{what}: {} of {} bits",
            c.bits.len(),
            sent.len()
        );
        let (n, e) = count_errors(&c.bits, sent);
        assert_eq!(e, 0, "{what}: {e} errors in {n}");
        // What follows the data is the trailer's ones (plus a few at the carrier's end).
        let tail = &c.bits[sent.len()..];
        assert!(tail.iter().take(40).all(|&b| b), "{what}: trailer");
        assert!(
            tail.len() < 200,
            "{what}: {} bits after the data",
            tail.len()
        );
    }

    #[test]
    fn round_trip_clean_both_rates_both_trainings_all_levels() {
        let sent = prbs(21_000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            for long in [true, false] {
                for level in [-43.0, -13.0, 0.0] {
                    let s = transmit(V27terTx::new(rate, level, long), &sent);
                    let mut rx = V27terRx::new(rate);
                    let (c, q) = receive(&mut rx, &s);
                    let what = format!("{rate} long={long} {level} dBm0: {q:?}");
                    assert_clean(&c, &sent, &what);
                    assert!((q.level_dbm0 - level).abs() < 1.0, "{what}");
                    assert!(q.snr_db > 25.0, "{what}");
                    assert!(q.carrier_offset_hz.abs() < 0.5, "{what}");
                    assert!(q.timing_offset_ppm.abs() < 30.0, "{what}");
                }
            }
        }
    }

    #[test]
    fn round_trip_with_echo_protection_tone() {
        let sent = prbs(5000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            let s = transmit(V27terTx::new(rate, -20.0, true).with_tep(true), &sent);
            let mut rx = V27terRx::new(rate);
            let (c, _) = receive(&mut rx, &s);
            // The tone and the gap come and go; then the training and the data.
            let ev = events(&c);
            assert_eq!(
                ev[ev.len() - 3..],
                [
                    RxEvent::CarrierUp,
                    RxEvent::TrainingSucceeded,
                    RxEvent::CarrierDown
                ]
            );
            assert!(!ev.contains(&RxEvent::TrainingFailed), "{ev:?}");
            let (n, e) = count_errors(&c.bits, &sent);
            assert_eq!((n, e), (sent.len(), 0));
        }
    }

    #[test]
    fn sample_clock_off_by_100_ppm() {
        let sent = prbs(24_000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            for ppm in [100.0, -100.0] {
                let s = resample(&transmit(V27terTx::new(rate, -13.0, true), &sent), ppm);
                let mut rx = V27terRx::new(rate);
                let (c, q) = receive(&mut rx, &s);
                let what = format!("{rate} {ppm} ppm: {q:?}");
                assert_clean(&c, &sent, &what);
                assert!((q.timing_offset_ppm - ppm as f32).abs() < 15.0, "{what}");
            }
        }
    }

    #[test]
    fn carrier_off_by_7_hz() {
        let sent = prbs(21_000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            for long in [true, false] {
                for off in [7.0, -7.0] {
                    let tx = V27terTx::new(rate, -13.0, long).with_carrier_hz(CARRIER_HZ + off);
                    let s = transmit(tx, &sent);
                    let mut rx = V27terRx::new(rate);
                    let (c, q) = receive(&mut rx, &s);
                    let what = format!("{rate} long={long} {off} Hz: {q:?}");
                    assert_clean(&c, &sent, &what);
                    assert!((q.carrier_offset_hz - off).abs() < 0.3, "{what}");
                }
            }
        }
    }

    #[test]
    fn white_noise() {
        // 4800 bit/s at 20 dB and 2400 bit/s at 12 dB (−13 dBm0 over 0–4 kHz noise).
        for (rate, snr, nbits) in [
            (V27terRate::Bps4800, 20.0, 60_000),
            (V27terRate::Bps2400, 12.0, 40_000),
        ] {
            let sent = prbs(nbits);
            let s = add_noise(&transmit(V27terTx::new(rate, -13.0, true), &sent), snr, 7);
            let mut rx = V27terRx::new(rate);
            let (c, q) = receive(&mut rx, &s);
            let what = format!("{rate} at {snr} dB: {q:?}");
            assert!(
                events(&c).starts_with(&[RxEvent::CarrierUp, RxEvent::TrainingSucceeded]),
                "{what} {:?}",
                c.events
            );
            let (n, e) = count_errors(&c.bits, &sent);
            assert_eq!(n, sent.len(), "{what}");
            assert!((e as f64) / (n as f64) < 1e-4, "{what}: {e} errors in {n}");
            // The estimate: SNR at the decision point ≈ line SNR + 10·log(4000/baud).
            let expect = snr as f32
                + 10.0
                    * (4000.0
                        / (rate.bps() as f32
                            / if rate == V27terRate::Bps4800 {
                                3.0
                            } else {
                                2.0
                            }))
                    .log10();
            assert!(
                (q.snr_db - expect).abs() < 2.5,
                "{what}: expected about {expect}"
            );
        }
    }

    #[test]
    fn everything_at_once() {
        // Noise, drift and offset together, then a short train that reuses the equaliser.
        let sent = prbs(22_000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            let snr = if rate == V27terRate::Bps4800 {
                22.0
            } else {
                16.0
            };
            let mut s = transmit(
                V27terTx::new(rate, -30.0, true).with_carrier_hz(CARRIER_HZ - 5.0),
                &sent,
            );
            s.extend(transmit(
                V27terTx::new(rate, -30.0, false).with_carrier_hz(CARRIER_HZ - 5.0),
                &sent,
            ));
            let s = add_noise(&resample(&s, 80.0), snr + 17.0, 99); // signal at −30, not −13
            let mut rx = V27terRx::new(rate);
            let mut c = Collect::default();
            rx.receive(&s, &mut c);
            let ev = events(&c);
            let ok = ev
                .iter()
                .filter(|&&e| e == RxEvent::TrainingSucceeded)
                .count();
            assert_eq!(ok, 2, "{rate}: {ev:?}");
            let second = c
                .events
                .iter()
                .filter(|e| e.1 == RxEvent::TrainingSucceeded)
                .nth(1)
                .unwrap()
                .0;
            let (n1, e1) = count_errors(&c.bits, &sent);
            let (n2, e2) = count_errors(&c.bits[second..], &sent);
            assert_eq!((n1, n2), (sent.len(), sent.len()));
            assert!(e1 + e2 <= 2, "{rate}: {e1} + {e2} errors");
        }
    }

    /// Convolve with a channel impulse response (8 kHz taps).
    fn channel(s: &[i16], h: &[f64]) -> Vec<i16> {
        (0..s.len())
            .map(|n| {
                let v: f64 = h
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k <= n)
                    .map(|(k, c)| c * s[n - k] as f64)
                    .sum();
                v.round().clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    #[test]
    fn distorted_line() {
        // Echoes up to 14 samples (almost 3 symbols at 4800 bit/s) and a tilt: the eye is
        // shut before the equaliser, open after it.
        let h = [
            0.15, 0.3, 1.0, 0.0, -0.35, 0.0, 0.2, 0.0, 0.0, -0.12, 0.0, 0.0, 0.0, 0.0, 0.08,
        ];
        let sent = prbs(24_000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            for long in [true, false] {
                let mut s = Vec::new();
                if !long {
                    // A short train follows a long one, whose equaliser it inherits.
                    s = channel(&transmit(V27terTx::new(rate, -13.0, true), &prbs(3000)), &h);
                }
                s.extend(channel(
                    &transmit(V27terTx::new(rate, -13.0, long), &sent),
                    &h,
                ));
                let s = add_noise(&s, 30.0, 3);
                let mut rx = V27terRx::new(rate);
                let (c, q) = receive(&mut rx, &s);
                let what = format!("{rate} long={long}: {q:?} {:?}", c.events);
                let ok: Vec<usize> = c
                    .events
                    .iter()
                    .filter(|e| e.1 == RxEvent::TrainingSucceeded)
                    .map(|e| e.0)
                    .collect();
                assert_eq!(ok.len(), if long { 1 } else { 2 }, "{what}");
                let (n, e) = count_errors(&c.bits[*ok.last().unwrap()..], &sent);
                assert_eq!((n, e), (sent.len(), 0), "{what}");
                assert!(q.snr_db > 20.0, "{what}");
            }
        }
    }

    #[test]
    fn below_the_threshold_is_silence() {
        let s = transmit(V27terTx::new(V27terRate::Bps4800, -50.0, true), &prbs(2000));
        let mut rx = V27terRx::new(V27terRate::Bps4800);
        let (c, _) = receive(&mut rx, &s);
        assert!(c.events.is_empty() && c.bits.is_empty(), "{:?}", c.events);
    }

    #[test]
    fn a_lost_carrier_fails_the_training_and_recovers() {
        let sent = prbs(6000);
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            let s = transmit(V27terTx::new(rate, -13.0, true), &sent);
            // Cut the line 300 ms into the training, then send a whole transmission.
            let mut cut = s[..800 + 2400].to_vec();
            cut.extend(std::iter::repeat_n(0, 800));
            cut.extend(&s);
            let mut rx = V27terRx::new(rate);
            let (c, _) = receive(&mut rx, &cut);
            use RxEvent::*;
            assert_eq!(
                events(&c),
                [
                    CarrierUp,
                    TrainingFailed,
                    CarrierDown,
                    CarrierUp,
                    TrainingSucceeded,
                    CarrierDown
                ]
            );
            assert_eq!(count_errors(&c.bits, &sent), (sent.len(), 0));
        }
    }

    #[test]
    fn other_signals_do_not_train() {
        // A 1800 Hz tone, V.21 channel 2 FSK, noise and V.27ter at the other rate: carrier,
        // no training.
        let mut rng = Rng(5);
        let amp = dbm0_to_rms(-13.0) * std::f32::consts::SQRT_2;
        let tone: Vec<i16> = (0..16_000)
            .map(|n| (amp * (std::f32::consts::TAU * 1800.0 * n as f32 / 8000.0).sin()) as i16)
            .collect();
        let (mut ph, mut f) = (0f32, 1650.0);
        let fsk: Vec<i16> = (0..16_000)
            .map(|n| {
                if n % 27 == 0 {
                    f = if rng.uniform() < 0.5 { 1650.0 } else { 1850.0 };
                }
                ph += std::f32::consts::TAU * f / 8000.0;
                (amp * ph.sin()) as i16
            })
            .collect();
        let noise: Vec<i16> = (0..16_000).map(|_| (rng.gauss() * 3000.0) as i16).collect();
        let v27_4800 = transmit(V27terTx::new(V27terRate::Bps4800, -13.0, true), &prbs(4000));
        let v27_2400 = transmit(V27terTx::new(V27terRate::Bps2400, -13.0, true), &prbs(4000));
        let silence = vec![0i16; 800];
        for (name, rate, s) in [
            ("tone", V27terRate::Bps4800, tone),
            ("fsk", V27terRate::Bps2400, fsk),
            ("noise", V27terRate::Bps4800, noise),
            ("4800 into 2400", V27terRate::Bps2400, v27_4800),
            ("2400 into 4800", V27terRate::Bps4800, v27_2400),
        ] {
            let mut rx = V27terRx::new(rate);
            let (c, _) = receive(&mut rx, &[&s[..], &silence].concat());
            let ev = events(&c);
            assert!(!ev.contains(&RxEvent::TrainingSucceeded), "{name}: {ev:?}");
            assert!(c.bits.is_empty(), "{name}");
            assert!(ev.contains(&RxEvent::TrainingFailed), "{name}: {ev:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = Rng(3);
        let junk: Vec<i16> = (0..80_000)
            .map(|i| match i / 10_000 {
                0 => (rng.uniform() * 65536.0 - 32768.0) as i16,
                1 => i16::MAX,
                2 => i16::MIN,
                3 => {
                    if i % 2 == 0 {
                        i16::MIN
                    } else {
                        i16::MAX
                    }
                }
                4 => {
                    if (i / 3) % 2 == 0 {
                        i16::MIN
                    } else {
                        i16::MAX
                    }
                }
                5 => ((i as f32 * 0.7).sin() * 40_000.0).clamp(-32768.0, 32767.0) as i16,
                6 => 0,
                _ => (rng.gauss() * 20_000.0).clamp(-32768.0, 32767.0) as i16,
            })
            .collect();
        for rate in [V27terRate::Bps2400, V27terRate::Bps4800] {
            let mut rx = V27terRx::new(rate);
            let mut c = Collect::default();
            for chunk in junk.chunks(999) {
                rx.receive(chunk, &mut c);
                let q = rx.quality();
                assert!(q.level_dbm0.is_finite() && q.snr_db.is_finite());
                assert!(q.carrier_offset_hz.is_finite() && q.timing_offset_ppm.is_finite());
            }
            // DC is no carrier (its step may be, briefly).
            let mut rx = V27terRx::new(rate);
            let mut c = Collect::default();
            rx.receive(&junk[10_000..20_000], &mut c);
            assert!(!rx.carrier_present(), "DC: {:?}", c.events);
            assert!(
                c.events.len() <= 2 && c.bits.is_empty(),
                "DC: {:?}",
                c.events
            );
            // A clipped transmission (far too loud) still arrives.
            let sent = prbs(4000);
            let loud: Vec<i16> = transmit(V27terTx::new(rate, 0.0, true), &sent)
                .iter()
                .map(|&x| (x as i32 * 3).clamp(-32768, 32767) as i16)
                .collect();
            let mut rx = V27terRx::new(rate);
            let (c, _) = receive(&mut rx, &loud);
            assert!(
                events(&c).contains(&RxEvent::TrainingSucceeded),
                "{rate}: {:?}",
                c.events
            );
            // After garbage and a reset, it still works.
            rx.receive(&junk, &mut Collect::default());
            rx.reset();
            let (c, _) = receive(&mut rx, &transmit(V27terTx::new(rate, -13.0, false), &sent));
            assert_clean(&c, &sent, "after reset");
        }
    }

    /// Random lines: level −43…0 dBm0, carrier ±7 Hz, clock ±100 ppm, a random start, the
    /// echo tone or not, long or short, one of three channels, white noise at 20 dB
    /// (4800) or 14 dB (2400) below the signal. (300 trials pass; 60 run here.)
    #[test]
    fn random_lines() {
        let sent = prbs(3000);
        let mut rng = Rng(12345);
        let mut fails = Vec::new();
        let trials = 60;
        for t in 0..trials {
            let rate = if rng.uniform() < 0.5 {
                V27terRate::Bps4800
            } else {
                V27terRate::Bps2400
            };
            let long = rng.uniform() < 0.5;
            let level = -43.0 + 43.0 * rng.uniform() as f32;
            let off = (rng.uniform() as f32 - 0.5) * 14.0;
            let ppm = (rng.uniform() - 0.5) * 200.0;
            let lead = (rng.uniform() * 800.0) as usize;
            let tep = rng.uniform() < 0.2;
            let mut s = vec![0i16; lead];
            s.extend(transmit(
                V27terTx::new(rate, level, long)
                    .with_tep(tep)
                    .with_carrier_hz(CARRIER_HZ + off),
                &sent,
            ));
            let s = resample(&s, ppm);
            let h: &[f64] = match t % 3 {
                0 => &[1.0],
                1 => &[
                    0.15, 0.3, 1.0, 0.0, -0.35, 0.0, 0.2, 0.0, 0.0, -0.12, 0.0, 0.0, 0.0, 0.0, 0.08,
                ],
                _ => &[0.5, 1.0, 0.5, 0.0, 0.0, 0.0, -0.2],
            };
            let s = channel(&s, h);
            let mut r2 = Rng(t as u64 + 1);
            let snr = if rate == V27terRate::Bps4800 {
                20.0
            } else {
                14.0
            };
            let sigma = dbm0_to_rms(level - snr) as f64;
            let s: Vec<i16> = s
                .iter()
                .map(|&x| {
                    (x as f64 + sigma * r2.gauss())
                        .round()
                        .clamp(-32768.0, 32767.0) as i16
                })
                .collect();
            let mut rx = V27terRx::new(rate);
            let (c, q) = receive(&mut rx, &s);
            let ok = c
                .events
                .iter()
                .filter(|e| e.1 == RxEvent::TrainingSucceeded)
                .count()
                == 1;
            let (n, e) = count_errors(&c.bits, &sent);
            if !ok || n < sent.len() || e > 0 {
                fails.push(format!("t{t} {rate} long={long} {level:.1} dBm0 {off:.1} Hz {ppm:.0} ppm lead {lead} tep {tep}: {:?} n {n} e {e} {q:?}", c.events.iter().map(|e| e.1).collect::<Vec<_>>()));
            }
        }
        assert!(
            fails.is_empty(),
            "{} of {trials} failed:\n{}",
            fails.len(),
            fails.join("\n")
        );
    }

    /// BER against line SNR (print only): `cargo test -p softfax-dsp --release --lib
    /// v27ter::tests::ber_table -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn ber_table() {
        let sent = prbs(100_000);
        for (rate, snrs) in [
            (V27terRate::Bps4800, [10.0, 12.0, 14.0, 16.0, 18.0]),
            (V27terRate::Bps2400, [4.0, 6.0, 8.0, 10.0, 12.0]),
        ] {
            let clean = transmit(V27terTx::new(rate, -13.0, true), &sent);
            for snr in snrs {
                let s = add_noise(&clean, snr, 11);
                let mut rx = V27terRx::new(rate);
                let (c, q) = receive(&mut rx, &s);
                let mut chk = PrbsChecker::default();
                c.bits.iter().take(sent.len()).for_each(|&b| chk.put(b));
                let (n, e) = count_errors(&c.bits, &sent);
                println!(
                    "{rate} bit/s  SNR {snr:4.1} dB: trained {:5}  BER {:.2e} ({e}/{n})  est. SNR {:.1} dB",
                    events(&c).contains(&RxEvent::TrainingSucceeded),
                    e as f64 / n.max(1) as f64,
                    q.snr_db
                );
            }
        }
    }

    /// Receive speed (print only): `cargo test -p softfax-dsp --release --lib
    /// v27ter::tests::rx_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn rx_speed() {
        for rate in [V27terRate::Bps4800, V27terRate::Bps2400] {
            let sent = prbs(60 * rate.bps() as usize);
            let s = add_noise(&transmit(V27terTx::new(rate, -13.0, true), &sent), 30.0, 1);
            let mut best = f64::MAX;
            for _ in 0..5 {
                let mut rx = V27terRx::new(rate);
                let mut c = Collect::default();
                c.bits.reserve(sent.len() + 1000);
                let t = std::time::Instant::now();
                for chunk in s.chunks(160) {
                    rx.receive(chunk, &mut c);
                }
                best = best.min(t.elapsed().as_secs_f64());
                assert_eq!(count_errors(&c.bits, &sent), (sent.len(), 0));
            }
            let sps = s.len() as f64 / best;
            println!(
                "V.27ter {rate} rx: {:.1} s of signal in {:.1} ms: {:.2e} samples/s = {:.0} channels per core",
                s.len() as f64 / 8000.0,
                best * 1e3,
                sps,
                sps / 8000.0
            );
        }
    }
}
