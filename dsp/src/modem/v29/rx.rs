//! The V.29 receiver: training (V.29 §6) on the shared QAM core, then differential
//! decoding of the nearest point.

use num_complex::Complex32;

use super::{CARRIER_HZ, PHASE_BITS, PHASE_BITS_4800, POINTS, SEG3, SEG4, TrainingPattern};
use crate::modem::qam::slip::{self, SlipRx, SlipWatch};
use crate::modem::qam::{Descrambler, Loops, QamRx, RxCore, TrainingPoints};
use crate::modem::rate::V29Rate;
use crate::modem::{RxEvent, RxSink, SymbolTap};

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
    captured: SymbolTap,
    rate: V29Rate,
    core: RxCore,
    stage: Stage,
    /// Symbols since the first of segment 3.
    n: u32,
    pattern: TrainingPattern,
    pts: TrainingPoints,
    phase: u8,
    descrambler: Descrambler,
    /// The slicer's candidates in the first octant (0 ≤ im ≤ re) by [`CHAMBER`] (unused
    /// entries far away).
    cand_re: [f32; 4],
    cand_im: [f32; 4],
    /// Sample slips: watched for, and undone ([`slip`]).
    slip: SlipWatch<V29Rx>,
}

/// The points of the first octant (0 ≤ im ≤ re), as indices into [`POINTS`]: bit 0 of the
/// position is the diagonal, bit 1 the outer amplitude — (3, 0), (1, 1), (5, 0), (3, 3).
const CHAMBER: [usize; 4] = [0, 1, 8, 9];

/// Normalised LMS step while training, fast then fine.
const MU_TRAIN: f32 = 0.25;
const MU_FINE: f32 = 0.08;
/// LMS step on decisions.
const MU_DATA: f32 = 0.03;

impl V29Rx {
    /// A receiver for `rate`.
    pub fn new(rate: V29Rate) -> V29Rx {
        V29Rx {
            captured: SymbolTap::default(),
            rate,
            core: RxCore::new(CARRIER_HZ, rate.training_points(), rate.energy()),
            stage: Stage::Waiting,
            n: 0,
            pattern: TrainingPattern::new(),
            pts: rate.training_points(),
            phase: 0,
            descrambler: Descrambler::default(),
            cand_re: std::array::from_fn(|k| {
                if Self::uses(rate, CHAMBER[k]) {
                    POINTS[CHAMBER[k]].re
                } else {
                    1e6
                }
            }),
            cand_im: std::array::from_fn(|k| {
                if Self::uses(rate, CHAMBER[k]) {
                    POINTS[CHAMBER[k]].im
                } else {
                    1e6
                }
            }),
            slip: SlipWatch::default(),
        }
    }

    /// Sample slips undone so far ([`slip`]).
    pub fn slips_undone(&self) -> u32 {
        self.slip.undone()
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
    ///
    /// The constellation is symmetric about both axes and the diagonal, so `z` is folded
    /// into the first octant (|re|, |im|, the larger first), where the nearest point is one
    /// of the four there ([`CHAMBER`]), and that point is unfolded: the same point as the
    /// nearest of all sixteen (the mirror image of a nearer point would be nearer still).
    #[inline]
    fn slice(&self, z: Complex32) -> usize {
        let (a, b) = (z.re.abs(), z.im.abs());
        let (u, v) = (a.max(b), a.min(b));
        // Branch-free: a non-negative f32's bits order like the value, so the distance with
        // its low 2 bits replaced by the index is a key whose minimum names the point.
        let mut best = u32::MAX;
        for k in 0..4 {
            let d = (u - self.cand_re[k]).powi(2) + (v - self.cand_im[k]).powi(2);
            best = best.min((d.to_bits() & !3) | k as u32);
        }
        let k = (best & 3) as usize;
        // The phase in the first quadrant (0°, 45° or 90°), then mirrored into z's.
        let mut ph = if k & 1 != 0 {
            1
        } else if b > a {
            2
        } else {
            0
        };
        if z.re < 0.0 {
            ph = 4 - ph;
        }
        if z.im < 0.0 {
            ph = (8 - ph) & 7;
        }
        ph | (k >> 1) << 3
    }

    #[inline(always)]
    fn on_symbol(&mut self, z: Complex32, sink: &mut dyn RxSink) {
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
                    // The timing loop stays at 8 Hz: over a line with delay distortion the
                    // clock the equaliser settles on is still moving when the data starts,
                    // and at 4 Hz it lagged enough for a symbol error (issue 12, class 5).
                    self.core.set_loops(Loops {
                        carrier_hz: 12.0,
                        timing_hz: 8.0,
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
                if self.stage == Stage::Data {
                    self.slip
                        .observe((z - POINTS[idx]).norm_sqr(), self.rate.energy());
                }
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
                    sink.put_bits(out, n);
                }
                self.n += 1;
                if self.stage == Stage::Ones && self.n == SEG3 + SEG4 {
                    if self.core.snr_db() < self.rate.min_snr_db() {
                        return self.fail(sink);
                    }
                    self.core.reset_mse(256.0);
                    self.slip.restart();
                    self.stage = Stage::Data;
                    sink.event(RxEvent::TrainingSucceeded);
                }
            }
            Stage::Waiting | Stage::Parked => {}
        }
    }
}

impl QamRx for V29Rx {
    fn core(&self) -> &RxCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut RxCore {
        &mut self.core
    }
    fn tap(&mut self) -> &mut SymbolTap {
        &mut self.captured
    }
    fn in_data(&self) -> bool {
        self.stage == Stage::Data
    }
    fn settled(&self) -> bool {
        matches!(self.stage, Stage::Data | Stage::Parked)
    }
    fn wait(&mut self) {
        self.stage = Stage::Waiting;
    }
    fn fail(&mut self, sink: &mut dyn RxSink) {
        self.stage = Stage::Parked;
        self.core.park();
        sink.event(RxEvent::TrainingFailed);
    }
    fn reversal(&mut self) {
        // The reversal was seen on C and D, the first two pattern symbols.
        self.pattern = TrainingPattern::new();
        self.pattern.next();
        self.pattern.next();
        self.n = 2;
        self.stage = Stage::Training;
        self.descrambler = Descrambler::default();
    }
    #[inline(always)]
    fn symbol(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        self.on_symbol(z, sink)
    }
    #[inline(always)]
    fn intercept(&mut self, x: i16, sink: &mut dyn RxSink) -> bool {
        self.slip.active() && slip::intercept(self, x, sink)
    }
}

impl SlipRx for V29Rx {
    fn watch(&mut self) -> &mut SlipWatch<V29Rx> {
        &mut self.slip
    }
    fn take_tap(&mut self, other: &mut V29Rx) {
        self.captured = std::mem::take(&mut other.captured);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_slicer_finds_the_nearest_point() {
        // Against the nearest of the rate's points by brute force, on a grid over and beyond
        // the constellation (points where two are equally near left out), and on the points.
        for rate in [V29Rate::Bps9600, V29Rate::Bps7200, V29Rate::Bps4800] {
            let rx = V29Rx::new(rate);
            let used: Vec<usize> = (0..16).filter(|&i| V29Rx::uses(rate, i)).collect();
            for &i in &used {
                assert_eq!(rx.slice(POINTS[i]), i, "{rate:?} point {i}");
            }
            let mut checked = 0;
            for x in -160..=160 {
                for y in -160..=160 {
                    let z = Complex32::new(x as f32 * 0.05 + 0.013, y as f32 * 0.05 - 0.007);
                    let mut d: Vec<(f32, usize)> = used
                        .iter()
                        .map(|&i| ((z - POINTS[i]).norm_sqr(), i))
                        .collect();
                    d.sort_by(|a, b| a.0.total_cmp(&b.0));
                    if d[1].0 - d[0].0 < 1e-3 {
                        continue;
                    }
                    assert_eq!(rx.slice(z), d[0].1, "{rate:?} {z}");
                    checked += 1;
                }
            }
            assert!(checked > 100_000);
        }
        // Garbage gives some point, not a panic.
        let rx = V29Rx::new(V29Rate::Bps9600);
        for z in [f32::NAN, f32::INFINITY, -f32::INFINITY] {
            assert!(rx.slice(Complex32::new(z, 1.0)) < 16);
            assert!(rx.slice(Complex32::new(z, z)) < 16);
        }
    }
}
