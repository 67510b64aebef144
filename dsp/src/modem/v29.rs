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
//!   [`RxEvent::TrainingSucceeded`] and hands out the descrambled data bits. Decisions are the
//!   nearest constellation point; the equaliser and the carrier loop keep adapting on them.
//!
//! **Not supported:** the optional echo-protection tone (the receiver ignores one if sent).
//!
//! **Tested by:** unit tests here (round trip at every rate, −43 and 0 dBm0, ±100 ppm clock,
//! ±7 Hz carrier, distorted lines, bit error rates at 18 and 20 dB SNR, garbage) and
//! `tests/interop_spandsp.rs` (spandsp's V.29 in both directions).

use num_complex::Complex32;

use super::common::Scrambler;
use super::qam::{Descrambler, Loops, RxCore, Shaper, TX_SPAN, Tick, TrainingPoints};
use super::rate::V29Rate;
use super::{GetBit, Receiver, RxEvent, RxQuality, RxSink, Transmitter};

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
/// Scrambled ones sent after the data, symbols.
const TRAILER: u32 = 32;

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
    data_ended: bool,
    left: u32,
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
            data_ended: false,
            left: 0,
            done: false,
        }
    }

    /// One scrambled bit: data while there is any (ones during segment 4 and the trailer).
    fn bit(&mut self, bits: &mut dyn GetBit, data: bool) -> bool {
        let b = if data && !self.data_ended {
            match bits.get_bit() {
                Some(b) => b,
                None => {
                    self.data_ended = true;
                    self.left = TRAILER + TX_SPAN as u32;
                    true
                }
            }
        } else {
            true
        };
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
        if !self.data_ended {
            let data = k >= SEG1 + SEG2 + SEG3 + SEG4;
            return Some(self.data_symbol(bits, data));
        }
        // Trailer of ones, then the pulse shaper rings down.
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if self.left >= TX_SPAN as u32 {
            Some(self.data_symbol(bits, false))
        } else {
            Some(Complex32::default())
        }
    }
}

impl super::qam::QamTx for V29Tx {
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

impl Transmitter for V29Tx {
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize {
        super::qam::transmit_symbols(self, out, bits)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// No carrier, or the core is looking for the training.
    Waiting,
    /// Segment 3: `n` symbols since its first.
    Training,
    /// Segment 4.
    Ones,
    Data,
    /// Training failed: wait for the carrier to go.
    Parked,
}

/// The V.29 receiver.
#[derive(Debug, Clone)]
pub struct V29Rx {
    /// Equaliser outputs kept for a constellation plot, when asked.
    captured: crate::modem::SymbolTap,
    rate: V29Rate,
    core: RxCore,
    stage: Stage,
    /// Symbols since the first of segment 3.
    n: u32,
    pattern: TrainingPattern,
    pts: TrainingPoints,
    phase: u8,
    descrambler: Descrambler,
    /// The rate's points for the slicer (unused entries far away).
    cand_re: [f32; 16],
    cand_im: [f32; 16],
}

/// Normalised LMS step while training, fast then fine.
const MU_TRAIN: f32 = 0.25;
const MU_FINE: f32 = 0.08;
/// LMS step on decisions.
const MU_DATA: f32 = 0.03;

impl V29Rx {
    /// A receiver for `rate`.
    pub fn new(rate: V29Rate) -> V29Rx {
        V29Rx {
            captured: crate::modem::SymbolTap::default(),
            rate,
            core: RxCore::new(CARRIER_HZ, rate.training_points(), rate.energy()),
            stage: Stage::Waiting,
            n: 0,
            pattern: TrainingPattern::new(),
            pts: rate.training_points(),
            phase: 0,
            descrambler: Descrambler::default(),
            cand_re: std::array::from_fn(|i| {
                if Self::uses(rate, i) {
                    POINTS[i].re
                } else {
                    1e6
                }
            }),
            cand_im: std::array::from_fn(|i| {
                if Self::uses(rate, i) {
                    POINTS[i].im
                } else {
                    1e6
                }
            }),
        }
    }

    /// Whether the rate sends point `i`.
    fn uses(rate: V29Rate, i: usize) -> bool {
        match rate {
            V29Rate::Bps9600 => true,
            V29Rate::Bps7200 => i < 8,
            V29Rate::Bps4800 => i < 8 && i.is_multiple_of(2),
        }
    }

    /// Is a carrier present now?
    pub fn carrier_present(&self) -> bool {
        self.core.carrier_present()
    }

    /// The nearest point of the rate's constellation (index into [`POINTS`]).
    #[inline]
    fn slice(&self, z: Complex32) -> usize {
        // Branch-free: a non-negative f32's bits order like the value, so the distance with
        // its low 4 bits replaced by the index is a key whose minimum names the point.
        let mut best = u32::MAX;
        for i in 0..16 {
            let d = (z.re - self.cand_re[i]).powi(2) + (z.im - self.cand_im[i]).powi(2);
            best = best.min((d.to_bits() & !15) | i as u32);
        }
        (best & 15) as usize
    }

    fn fail(&mut self, sink: &mut dyn RxSink) {
        self.stage = Stage::Parked;
        self.core.park();
        sink.event(RxEvent::TrainingFailed);
    }

    fn symbol(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        match self.stage {
            Stage::Training => {
                let target = if self.pattern.next() {
                    self.pts.d
                } else {
                    self.pts.c
                };
                let mu = if self.n < 200 { MU_TRAIN } else { MU_FINE };
                self.core.adapt(z, target, mu);
                self.n += 1;
                if self.n == 120 {
                    self.core.set_loops(Loops {
                        carrier_hz: 20.0,
                        timing_hz: 8.0,
                    });
                }
                if self.n == SEG3 - 64 {
                    self.core.reset_mse(64.0);
                }
                if self.n == SEG3 {
                    if self.core.snr_db() < self.rate.min_snr_db() {
                        return self.fail(sink);
                    }
                    self.core.set_loops(Loops {
                        carrier_hz: 12.0,
                        timing_hz: 4.0,
                    });
                    self.stage = Stage::Ones;
                    self.phase = 0;
                }
            }
            Stage::Ones | Stage::Data => {
                let idx = self.slice(z);
                // The equaliser adapts on every other symbol (half the work, same speed).
                let mu = if self.n & 1 == 0 { 2.0 * MU_DATA } else { 0.0 };
                self.core.adapt(z, POINTS[idx], mu);
                let ph = (idx & 7) as u8;
                let change = (ph.wrapping_sub(self.phase) & 7) as usize;
                self.phase = ph;
                let q = PHASE_BITS[change];
                // The symbol's bits in line order, the first one highest.
                let (w, n) = match self.rate {
                    V29Rate::Bps9600 => (((idx >> 3) as u32) << 3 | q as u32, 4),
                    V29Rate::Bps7200 => (q as u32, 3),
                    V29Rate::Bps4800 => (PHASE_BITS_4800[change >> 1] as u32, 2),
                };
                let out = self.descrambler.bits(w, n);
                if self.stage == Stage::Data {
                    for i in (0..n).rev() {
                        sink.put_bit(out >> i & 1 != 0);
                    }
                }
                self.n += 1;
                if self.stage == Stage::Ones && self.n == SEG3 + SEG4 {
                    if self.core.snr_db() < self.rate.min_snr_db() {
                        return self.fail(sink);
                    }
                    self.core.reset_mse(256.0);
                    self.stage = Stage::Data;
                    sink.event(RxEvent::TrainingSucceeded);
                }
            }
            Stage::Waiting | Stage::Parked => {}
        }
    }
}

impl Receiver for V29Rx {
    fn capture_symbols(&mut self, on: bool) {
        self.captured.set(on);
    }

    fn take_symbols(&mut self) -> Vec<Complex32> {
        self.captured.take()
    }

    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        for &x in samples {
            match self.core.push(x) {
                Tick::Nothing => {}
                Tick::Symbol(z) => {
                    if self.stage == Stage::Data {
                        self.captured.push(z);
                    }
                    self.symbol(z, sink)
                }
                Tick::CarrierUp => {
                    self.stage = Stage::Waiting;
                    sink.event(RxEvent::CarrierUp);
                }
                Tick::CarrierDown => {
                    if matches!(self.stage, Stage::Waiting | Stage::Training | Stage::Ones) {
                        sink.event(RxEvent::TrainingFailed);
                    }
                    self.stage = Stage::Waiting;
                    sink.event(RxEvent::CarrierDown);
                }
                Tick::AcquisitionFailed => self.fail(sink),
                Tick::Reversal => {
                    // The reversal was seen on C and D, the first two pattern symbols.
                    self.pattern = TrainingPattern::new();
                    self.pattern.next();
                    self.pattern.next();
                    self.n = 2;
                    self.stage = Stage::Training;
                    self.descrambler = Descrambler::default();
                    self.core.set_loops(Loops {
                        carrier_hz: 40.0,
                        timing_hz: 10.0,
                    });
                    self.core.reset_mse(64.0);
                }
            }
        }
    }

    fn quality(&self) -> RxQuality {
        RxQuality {
            level_dbm0: self.core.level_dbm0(),
            snr_db: self.core.snr_db(),
            carrier_offset_hz: self.core.carrier_offset_hz(),
            timing_offset_ppm: self.core.timing_offset_ppm(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::qam::testutil::*;

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
            t.shaper.set_carrier(CARRIER_HZ + off);
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
        let mut rx = V29Rx::new(rate);
        let c = receive(&mut rx, &line);
        assert_eq!(
            events(&c)[..2],
            [RxEvent::CarrierUp, RxEvent::TrainingSucceeded],
            "{snr} dB"
        );
        let (n, e) = count_errors(&c.bits, &bits);
        assert!(n >= nbits - 10, "{snr} dB: only {n} bits");
        (e as f64 / n as f64, rx.quality())
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
        let mut seed = 1u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as i16
        };
        let inputs: Vec<(&str, Vec<i16>)> = vec![
            ("silence", vec![0; 20_000]),
            ("dc", vec![12_000; 20_000]),
            ("full-scale dc", vec![i16::MIN; 20_000]),
            (
                "square",
                (0..20_000)
                    .map(|i| if i % 6 < 3 { i16::MAX } else { i16::MIN })
                    .collect(),
            ),
            ("noise", (0..40_000).map(|_| rnd()).collect()),
            (
                "clipped tone",
                (0..20_000)
                    .map(|i| ((i as f32 * 0.3).sin() * 1e6).clamp(-32768.0, 32767.0) as i16)
                    .collect(),
            ),
        ];
        for (what, x) in inputs {
            for rate in RATES {
                let mut rx = V29Rx::new(rate);
                let c = receive(&mut rx, &x);
                let q = rx.quality();
                assert!(
                    q.snr_db.is_finite()
                        && q.level_dbm0.is_finite()
                        && q.carrier_offset_hz.is_finite()
                        && q.timing_offset_ppm.is_finite(),
                    "{what}: {q:?}"
                );
                let ev = events(&c);
                assert!(
                    !ev.contains(&RxEvent::TrainingSucceeded) && c.bits.is_empty(),
                    "{what}: {ev:?}"
                );
                if what == "silence" {
                    assert!(ev.is_empty(), "{what}: {ev:?}");
                }
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
        let t0 = std::time::Instant::now();
        let reps = 20;
        let mut nbits = 0;
        for _ in 0..reps {
            let mut rx = V29Rx::new(V29Rate::Bps9600);
            let mut c = crate::modem::Collect::default();
            for chunk in line.chunks(160) {
                rx.receive(chunk, &mut c);
            }
            nbits += c.bits.len();
        }
        let secs = t0.elapsed().as_secs_f64();
        let sps = (line.len() * reps) as f64 / secs;
        eprintln!(
            "V.29 9600 rx: {:.1} Msamples/s = {:.0} channels per core ({nbits} bits)",
            sps / 1e6,
            sps / 8000.0
        );
    }
}
