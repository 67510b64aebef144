//! Acquisition on the alternations (steps 3 and 4 of [`super`]): symbol timing, AGC and
//! the reversal into the conditioning pattern, which sets the carrier phase and frequency
//! (V.29 §6, V.17 §7).

use num_complex::Complex32;

use super::*;

impl RxCore {
    pub(super) fn acquire(&mut self, y: Complex32) -> Tick {
        self.since_up += 1;
        if self.since_up > 2400 {
            // A second of carrier without alternations.
            self.stage = Stage::Parked;
            return Tick::AcquisitionFailed;
        }
        if self.since_up <= ACQ_SKIP {
            return Tick::Nothing;
        }
        // e^{-jπn/2} is 1, −j, −1, j; e^{+jπn/2} its conjugate.
        let n = self.acq_n;
        let (p, m) = match n & 3 {
            0 => (y, y),
            1 => (Complex32::new(y.im, -y.re), Complex32::new(-y.im, y.re)),
            2 => (-y, -y),
            _ => (Complex32::new(-y.im, y.re), Complex32::new(y.im, -y.re)),
        };
        self.acq_plus += p;
        self.acq_minus += m;
        self.acq_sum += y;
        self.acq_pow += y.norm_sqr();
        self.acq_n += 1;
        if self.acq_n < ACQ_LEN {
            return Tick::Nothing;
        }
        let k = 1.0 / ACQ_LEN as f32;
        let mean = self.acq_sum * k;
        let (dp, dm) = (self.acq_plus * k, self.acq_minus * k);
        // Power of the alternation (its two band-edge lines, so that a tilted line does not
        // hide it) against the total: ABAB gives 0.5–1.4, a tone 0, random data about 0.1.
        let alt = 2.0 * (dp.norm_sqr() + dm.norm_sqr());
        let pow = self.acq_pow * k;
        self.restart_acquisition();
        if !(pow > 0.0 && alt > 0.35 * pow) {
            return Tick::Nothing;
        }
        // The alternation is cos(πn/2 − φ) with φ = π·(symbol centre − sample 0)/T.
        let phi = (dm * dp.conj()).arg() / 2.0;
        let mut frac = phi / PI;
        if frac < 0.0 {
            frac += 1.0;
        }
        // The next output is an on-time sample (the window was a multiple of 4 long):
        // delay it to the symbol centre.
        self.rel += clock(frac as f64 * SAMPLES_PER_SYMBOL);
        let target = (self.pts.a.norm_sqr() + self.pts.b.norm_sqr()) / 2.0;
        let on_power = mean.norm_sqr() + alt;
        self.agc = (target / on_power).sqrt();
        if !self.agc.is_finite() {
            self.agc = 1.0;
        }
        // A retrain keeps the level of the last good training when close to it.
        if let (true, Some(s)) = (self.use_saved, self.saved)
            && (self.agc / s.agc - 1.0).abs() < 0.25
        {
            self.agc = s.agc;
        }
        // The saved equaliser was trained with the clock where the timing loop left it,
        // not where the acquisition put it (on a line with delay distortion the two differ
        // by a fraction of a sample): put it there again, and keep following the drift.
        self.t_moved = 0.0;
        self.t_syms = 0.0;
        if let (true, Some(s)) = (self.use_saved, self.saved) {
            self.c_re = s.c_re;
            self.c_im = s.c_im;
            self.omega = s.omega;
            self.rel += clock(s.timing);
            self.t_moved = s.timing;
            self.t_integ = s.drift;
        }
        self.eq_re = [0.0; 2 * EQ_RING];
        self.eq_im = [0.0; 2 * EQ_RING];
        self.energy = 0.0;
        self.z_prev = Complex32::default();
        self.d_prev = Complex32::default();
        self.on_time = true;
        self.stage = Stage::Search;
        self.searched = 0;
        self.stable = 0;
        self.prev_negative = false;
        self.freq_acc = Complex32::default();
        Tick::Nothing
    }

    pub(super) fn search(&mut self, z: Complex32) -> Tick {
        self.searched += 1;
        self.since_up += 2;
        self.hist.copy_within(1.., 0);
        self.hist[7] = z;
        if self.searched > 400 || self.since_up > 2400 {
            self.stage = Stage::Parked;
            return Tick::AcquisitionFailed;
        }
        // Let the equaliser's delay line fill with samples taken on the new clock.
        if self.searched <= (EQ_LEN / 2) as u32 + 2 {
            return Tick::Nothing;
        }
        let slot = (self.searched & 1) as usize;
        let p = z * self.hist[5].conj();
        if self.stable < 8 {
            // Steady alternations first: each symbol like the one two before.
            if p.re > 0.5 * z.norm() * self.hist[5].norm() {
                self.stable += 1;
                self.slot_ref[slot] = z;
                if self.stable > 4 {
                    self.freq_acc += p;
                }
            } else {
                self.stable = 0;
                self.freq_acc = Complex32::default();
                if self.searched > 64 {
                    // No alternations here after all: look again.
                    self.stage = Stage::Acquire;
                    self.restart_acquisition();
                }
            }
            return Tick::Nothing;
        }
        // Then each symbol against its slot's (smoothed) point: near 1 on A and B, near −1 on
        // C and D, in between on the symbols a line's delay distortion smears the reversal
        // over. Below 0.2 on two symbols in a row is the reversal.
        let r = self.slot_ref[slot];
        let c = (z * r.conj()).re / r.norm_sqr().max(1e-12);
        if c < 0.2 {
            if self.prev_negative {
                self.reversal();
                return Tick::Reversal;
            }
            self.prev_negative = true;
        } else {
            self.prev_negative = false;
            if c > 0.5 {
                self.slot_ref[slot] += (z - r) * 0.125;
                self.freq_acc += p;
            }
        }
        Tick::Nothing
    }

    /// The reversal was seen at hist[6] (C) and hist[7] (D): set up the carrier and gain
    /// from the six alternations before.
    pub(super) fn reversal(&mut self) {
        let p = self.pts;
        let omega = if self.freq_acc.norm_sqr() > 0.0 {
            self.freq_acc.arg() / 2.0
        } else {
            0.0
        };
        let refs = [p.a, p.b, p.a, p.b, p.a, p.b];
        let mut acc = Complex32::default();
        let mut e = 0.0;
        for (j, (z, r)) in self.hist.iter().zip(refs).enumerate() {
            let back = omega * (7 - j) as f32;
            acc += z * r.conj() * Complex32::new(back.cos(), back.sin());
            e += r.norm_sqr();
        }
        let gain = acc.norm() / e;
        if gain.is_finite() && gain > 1e-6 {
            for v in self.c_re.iter_mut().chain(self.c_im.iter_mut()) {
                *v /= gain;
            }
        }
        // Phase of the next symbol.
        let theta = acc.arg() + omega;
        self.theta = (theta * RAD_TO_U32) as i32 as u32;
        if !(self.use_saved && self.saved.is_some()) || omega.abs() > 0.0 {
            self.omega = omega;
        }
        // The previous symbol for the timing detector: D, turned to the new phase.
        self.z_prev = self.hist[7] * Complex32::new((theta - omega).cos(), -(theta - omega).sin())
            / gain.max(1e-6);
        self.d_prev = p.d;
        self.ref_power = self.power();
        self.level_power = self.power();
        self.stage = Stage::Track;
    }
}
