//! ITU-T V.29: 9600 bit/s (and the fall-backs 7200 and 4800 bit/s) at 2400 symbols/s on a
//! 1700 Hz carrier — the image modem of T.30 Group 3 fax below V.17. (Clauses: V.29 §§1–7;
//! the figure and tables named below are the recommendation's.)
//!
//! The signal:
//! - *Constellation* (Figure 1): 16 points in 8 phases 45° apart; on the axes (0°, 90°, …)
//!   the amplitudes are 3 and 5, on the diagonals √2 and 3√2 (the points (±1, ±1) and
//!   (±3, ±3)).
//! - *Encoding*: each symbol takes 4 bits at 9600 bit/s. The first, Q1, picks the amplitude
//!   (0: inner, 1: outer); Q2 Q3 Q4 give the phase *change* from the previous symbol: 001 0°,
//!   000 45°, 010 90°, 011 135°, 111 180°, 110 225°, 100 270°, 101 315°. At 7200 bit/s Q1 is
//!   not sent (inner points only) and Q2 Q3 Q4 are the three bits; at 4800 bit/s the two bits
//!   Q2 Q3 give 00 0°, 01 90°, 11 180°, 10 270° on the four inner axis points.
//! - *Scrambler*: 1 + x⁻¹⁸ + x⁻²³, self-synchronising, on all data bits.
//! - *Training*: segment 1, 48 symbols of silence; segment 2, 128 symbols alternating
//!   A = (−3, 0) and B = (3, −3) at 9600, (1, −1) at 7200, (0, −3) at 4800; segment 3, 384
//!   symbols of C = (3, 0) and D = −B chosen by the pattern generator 1 + x⁻⁶ + x⁻⁷ started
//!   at 0101010 (0 sends C); segment 4, 48 symbols of scrambled binary ones, differentially
//!   encoded from phase 0°. Data follow. The optional echo-protection tone before segment 1
//!   is not sent (fax does not use it).
//! - *Carrier detect*: this receiver switches on above −45 dBm0 and off below −48 dBm0 (the
//!   V.17 window; V.29's own −26/−31 dBm0 is stricter than fax needs).
//!
//! How it works:
//! - Transmit: symbols from the training generator or the encoder go through the shared
//!   polyphase RRC shaper of [`super::qam`]. After the last data bit the transmitter sends
//!   32 symbols of scrambled ones (so that a receiver's pipeline delivers every data bit),
//!   lets the pulse shaper ring down for 12 symbols, and ends.
//! - Receive: the shared core ([`super::qam::RxCore`]) detects the carrier, times the symbols
//!   on the ABAB alternations, finds the reversal into CDCD and sets the carrier phase and
//!   frequency; this module then trains the equaliser on the 382 known CDCD symbols that are
//!   left, checks the mean squared error, decodes segment 4 (the descrambler synchronises on
//!   it; its bits are dropped), checks the error again, reports
//!   [`RxEvent::TrainingSucceeded`](crate::modem::RxEvent::TrainingSucceeded) and hands out the descrambled data bits. Decisions are the
//!   nearest constellation point; the equaliser and the carrier loop keep adapting on them.
//!
//! **Not supported:** the optional echo-protection tone (the receiver ignores one if sent).
//!
//! **Tested by:** unit tests here (round trip at every rate, −43 and 0 dBm0, ±100 ppm clock,
//! ±7 Hz carrier, distorted lines, bit error rates at 18 and 20 dB SNR, sample slips undone
//! (`qam/slip.rs`), garbage) and
//! `tests/interop_spandsp.rs` (spandsp's V.29 in both directions).

use num_complex::Complex32;

use super::qam::TrainingPoints;
use super::rate::V29Rate;

mod rx;
mod tx;

pub use rx::V29Rx;
pub use tx::V29Tx;

/// Carrier frequency, Hz (V.29 §1).
pub const CARRIER_HZ: f32 = 1700.0;

/// Segment 1 (silence), symbols.
const SEG1: u32 = 48;
/// Segment 2 (ABAB), symbols.
const SEG2: u32 = 128;
/// Segment 3 (CDCD), symbols.
const SEG3: u32 = 384;
/// Segment 4 (scrambled ones), symbols.
const SEG4: u32 = 48;

impl V29Rate {
    /// Mean energy of the data symbols (constellation units).
    fn energy(self) -> f32 {
        match self {
            V29Rate::Bps9600 => 13.5,
            V29Rate::Bps7200 => 5.5,
            V29Rate::Bps4800 => 9.0,
        }
    }

    /// A, B, C, D of the training (§6).
    fn training_points(self) -> TrainingPoints {
        let b = match self {
            V29Rate::Bps9600 => Complex32::new(3.0, -3.0),
            V29Rate::Bps7200 => Complex32::new(1.0, -1.0),
            V29Rate::Bps4800 => Complex32::new(0.0, -3.0),
        };
        TrainingPoints {
            a: Complex32::new(-3.0, 0.0),
            b,
            c: Complex32::new(3.0, 0.0),
            d: -b,
        }
    }

    /// Lowest SNR (dB) at the end of training worth going on with (bit errors near 1e-2 below).
    fn min_snr_db(self) -> f32 {
        match self {
            V29Rate::Bps9600 => 13.0,
            V29Rate::Bps7200 => 10.0,
            V29Rate::Bps4800 => 7.0,
        }
    }
}

/// The point of amplitude bit `index >> 3` and absolute phase `(index & 7)·45°` (Figure 1).
const fn point(index: usize) -> Complex32 {
    let (amp, ph) = (index >> 3 & 1, index & 7);
    let (mut x, mut y) = match (ph & 1, amp) {
        (0, 0) => (3.0, 0.0),
        (0, _) => (5.0, 0.0),
        (_, 0) => (1.0, 1.0),
        _ => (3.0, 3.0),
    };
    let mut turns = ph >> 1;
    while turns > 0 {
        (x, y) = (-y, x);
        turns -= 1;
    }
    Complex32::new(x, y)
}

const POINTS: [Complex32; 16] = {
    let mut p = [Complex32::new(0.0, 0.0); 16];
    let mut i = 0;
    while i < 16 {
        p[i] = point(i);
        i += 1;
    }
    p
};

/// Phase change in 45° steps for Q2 Q3 Q4 (Q2 the most significant), Table 1.
const PHASE_CHANGE: [u8; 8] = [1, 0, 2, 3, 6, 7, 5, 4];
/// Phase change in 45° steps for Q2 Q3 at 4800 bit/s.
const PHASE_CHANGE_4800: [u8; 4] = [0, 2, 6, 4];

/// Q2 Q3 for a phase change of 0°, 90°, 180°, 270° at 4800 bit/s.
const PHASE_BITS_4800: [u8; 4] = [0b00, 0b01, 0b11, 0b10];

/// Q2 Q3 Q4 for a phase change (the inverse of [`PHASE_CHANGE`]).
const PHASE_BITS: [u8; 8] = {
    let mut inv = [0u8; 8];
    let mut q = 0;
    while q < 8 {
        inv[PHASE_CHANGE[q] as usize] = q as u8;
        q += 1;
    }
    inv
};

/// Segment 3's pattern generator 1 + x⁻⁶ + x⁻⁷ from 0101010: p[n] = p[n−6] ⊕ p[n−7] with
/// p[0..7] = 0, 1, 0, 1, 0, 1, 0. Bit i of the register is p[n+i].
#[derive(Debug, Clone, Copy)]
struct TrainingPattern(u8);

impl TrainingPattern {
    fn new() -> TrainingPattern {
        TrainingPattern(0b010_1010)
    }

    fn next(&mut self) -> bool {
        let out = self.0 & 1;
        let new = (self.0 ^ (self.0 >> 1)) & 1;
        self.0 = (self.0 >> 1) | (new << 6);
        out != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::qam::{TRAILER, TX_SPAN};
    use crate::modem::testutil::*;
    use crate::modem::{Receiver, RxEvent, RxQuality, Transmitter};

    const RATES: [V29Rate; 3] = [V29Rate::Bps9600, V29Rate::Bps7200, V29Rate::Bps4800];

    fn tx(rate: V29Rate, level: f32, bits: &[bool]) -> Vec<i16> {
        transmit(&mut V29Tx::new(rate, level), bits, 800, 2000)
    }

    fn assert_clean(rate: V29Rate, samples: &[i16], sent: &[bool], what: &str) -> V29Rx {
        let mut rx = V29Rx::new(rate);
        let c = receive(&mut rx, samples);
        let (n, errors) = count_errors(&c.bits, sent);
        assert_eq!(
            events(&c),
            [
                RxEvent::CarrierUp,
                RxEvent::TrainingSucceeded,
                RxEvent::CarrierDown
            ],
            "{what}: {:?}",
            c.events
        );
        assert!(
            n == sent.len() && errors == 0,
            "{what}: {errors} errors in {n} of {} bits",
            sent.len()
        );
        rx
    }

    #[test]
    fn constellation_and_tables() {
        assert_eq!(POINTS[0], Complex32::new(3.0, 0.0));
        assert_eq!(POINTS[1], Complex32::new(1.0, 1.0));
        assert_eq!(POINTS[10], Complex32::new(0.0, 5.0));
        assert_eq!(POINTS[15], Complex32::new(3.0, -3.0));
        let e: f32 = POINTS.iter().map(|p| p.norm_sqr()).sum::<f32>() / 16.0;
        assert_eq!(e, 13.5);
        for (q, &c) in PHASE_CHANGE.iter().enumerate() {
            assert_eq!(PHASE_BITS[c as usize] as usize, q);
        }
        // The pattern generator: 0101010 then p[n] = p[n-6] ^ p[n-7].
        let mut g = TrainingPattern::new();
        let p: Vec<bool> = (0..200).map(|_| g.next()).collect();
        assert_eq!(&p[..7], &[false, true, false, true, false, true, false]);
        for n in 7..200 {
            assert_eq!(p[n], p[n - 6] ^ p[n - 7]);
        }
        // Period 127 (a maximal-length sequence).
        assert_eq!(&p[..60], &p[127..187]);
    }

    #[test]
    fn round_trip_every_rate() {
        let bits = prbs(24_000);
        for rate in RATES {
            assert_clean(rate, &tx(rate, -13.0, &bits), &bits, &format!("{rate:?}"));
        }
    }

    #[test]
    fn lowest_and_highest_levels() {
        let bits = prbs(20_000);
        for level in [-43.0, 0.0] {
            let rx = assert_clean(
                V29Rate::Bps9600,
                &tx(V29Rate::Bps9600, level, &bits),
                &bits,
                &format!("{level} dBm0"),
            );
            let q = rx.quality();
            assert!(q.snr_db > 25.0, "{level}: {q:?}");
        }
    }

    #[test]
    fn clock_offset_100_ppm() {
        let bits = prbs(40_000);
        let clean = tx(V29Rate::Bps9600, -13.0, &bits);
        for ppm in [100.0, -100.0] {
            let line = resample(&clean, 1.0 / (1.0 + ppm * 1e-6));
            let rx = assert_clean(V29Rate::Bps9600, &line, &bits, &format!("{ppm} ppm"));
            let q = rx.quality();
            assert!(
                (q.timing_offset_ppm - ppm as f32).abs() < 30.0,
                "{ppm}: {q:?}"
            );
        }
    }

    #[test]
    fn carrier_offset_7_hz() {
        let bits = prbs(30_000);
        for off in [7.0, -7.0] {
            let mut t = V29Tx::new(V29Rate::Bps9600, -13.0);
            t.shaper().set_carrier(CARRIER_HZ + off);
            let line = transmit(&mut t, &bits, 800, 2000);
            let rx = assert_clean(V29Rate::Bps9600, &line, &bits, &format!("{off} Hz"));
            let q = rx.quality();
            assert!((q.carrier_offset_hz - off).abs() < 0.5, "{off}: {q:?}");
        }
    }

    #[test]
    fn equalises_distorted_lines() {
        let bits = prbs(30_000);
        for rate in [V29Rate::Bps9600, V29Rate::Bps4800] {
            let clean = tx(rate, -13.0, &bits);
            for (name, h) in LINES {
                let line = add_noise(&channel(&clean, h), -13.0, 40.0, 4);
                assert_clean(rate, &line, &bits, &format!("{rate:?} {name}"));
            }
        }
    }

    fn ber(rate: V29Rate, snr: f32, nbits: usize, seed: u64) -> (f64, RxQuality) {
        let bits = prbs(nbits);
        let line = add_noise(&tx(rate, -13.0, &bits), -13.0, snr, seed);
        bit_error_rate(&mut V29Rx::new(rate), &line, &bits, &format!("{snr} dB"))
    }

    #[test]
    fn bit_error_rate_at_18_and_20_db() {
        let (b18, q18) = ber(V29Rate::Bps9600, 18.0, 400_000, 1);
        let (b20, q20) = ber(V29Rate::Bps9600, 20.0, 400_000, 2);
        eprintln!("V.29 9600: BER {b18:.2e} at 18 dB ({q18:?}), {b20:.2e} at 20 dB ({q20:?})");
        assert!(b18 <= 1.2e-3, "18 dB: {b18:e}");
        assert!(b20 <= 1e-4, "20 dB: {b20:e}");
    }

    #[test]
    fn training_fails_in_heavy_noise() {
        let bits = prbs(5000);
        let line = add_noise(&tx(V29Rate::Bps9600, -13.0, &bits), -13.0, 6.0, 3);
        let mut rx = V29Rx::new(V29Rate::Bps9600);
        let c = receive(&mut rx, &line);
        let ev = events(&c);
        assert_eq!(ev.first(), Some(&RxEvent::CarrierUp));
        assert!(ev.contains(&RxEvent::TrainingFailed), "{ev:?}");
        assert!(!ev.contains(&RxEvent::TrainingSucceeded), "{ev:?}");
        assert!(c.bits.is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        let inputs = garbage();
        for (what, x) in inputs {
            for rate in RATES {
                let mut rx = V29Rx::new(rate);
                let c = receive(&mut rx, &x);
                assert_untrained(what, &rx, &c);
                if what.contains("dc") {
                    // The step into DC is a click; after it, nothing.
                    assert!(!rx.carrier_present(), "{what}");
                }
            }
        }
    }

    #[test]
    fn transmitter_ends_and_levels() {
        // No data at all: training, trailer, ring-down, end.
        let mut t = V29Tx::new(V29Rate::Bps9600, -10.0);
        let out = transmit(&mut t, &[], 0, 0);
        let symbols = SEG1 + SEG2 + SEG3 + SEG4 + TRAILER + TX_SPAN as u32;
        assert!(
            (out.len() as f64 - symbols as f64 * 10.0 / 3.0).abs() < 8.0,
            "{}",
            out.len()
        );
        let mut buf = [0i16; 10];
        assert_eq!(t.transmit(&mut buf, &mut || Some(true)), 0);
        // Level of the data part.
        let bits = prbs(40_000);
        let line = tx(V29Rate::Bps7200, -10.0, &bits);
        let data = &line[800 + 2500..line.len() - 4000];
        let rms =
            (data.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / data.len() as f64).sqrt();
        let dbm0 = crate::modem::rms_to_dbm0(rms as f32);
        assert!((dbm0 + 10.0).abs() < 0.2, "{dbm0}");
    }

    /// Receiver speed: `cargo test -p softfax-dsp --release --lib v29 -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn receiver_speed() {
        let bits = prbs(200_000);
        let line = add_noise(&tx(V29Rate::Bps9600, -13.0, &bits), -13.0, 30.0, 9);
        time_receiver("V.29 9600", &line, || V29Rx::new(V29Rate::Bps9600));
    }

    /// One sample dropped or repeated every 40 000 samples: each slip is undone at the
    /// input (`qam/slip.rs`) and costs a few dozen bits; without that, V.29 lost its lock
    /// after some slips (24 000 errors in 48 000 bits after them, where it depended on
    /// where the slip fell). No trial starts at 20 dB without slips.
    #[test]
    fn sample_slips_are_undone() {
        let bits = prbs(300_000);
        let clean = tx(V29Rate::Bps9600, -13.0, &bits);
        for at0 in [20_000usize, 20_001, 31_111] {
            for repeat in [false, true] {
                let mut line = Vec::with_capacity(clean.len() + 10);
                let mut slips = 0;
                for (i, &v) in clean.iter().enumerate() {
                    let slip = i >= at0 && (i - at0) % 40_000 == 0;
                    slips += slip as u32;
                    if !slip || repeat {
                        line.push(v);
                    }
                    if slip && repeat {
                        line.push(v);
                    }
                }
                let mut rx = V29Rx::new(V29Rate::Bps9600);
                let c = receive(&mut rx, &line);
                let (n, errors) = count_errors(&c.bits, &bits);
                let what = format!("slips from {at0}, repeat {repeat}");
                assert_eq!(n, bits.len(), "{what}");
                assert_eq!(rx.slips_undone(), slips, "{what}");
                assert!(
                    errors < 100 * slips as usize,
                    "{what}: {errors} errors, {slips} slips"
                );
            }
        }
        let mut rx = V29Rx::new(V29Rate::Bps9600);
        receive(&mut rx, &add_noise(&clean, -13.0, 20.0, 3));
        assert_eq!(rx.slips_undone(), 0, "no slips at 20 dB");
    }
}
