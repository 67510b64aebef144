//! The V.27ter receiver finding and following the training (V.27ter §2.5, Table 3): the
//! reversals of segment 3, the alignment on segment 4's first symbol, and training on
//! segments 4 and 5 until the verdict (see [`super::V27terRx`]).

use num_complex::Complex32;

use super::*;

impl V27terRx {
    /// On reversals the baseband is A·cos(π(t − τ)/T): with x₀, x₁, x₂ the last three T/2
    /// samples (x₀ and x₂ at the current symbol centres), |x₀|² − |x₁|² = A²·cos 2πτ/T and
    /// Re(x₀x₁*) − Re(x₁x₂*) = A²·sin 2πτ/T, and (|x₀|² + |x₂|²)/2 + |x₁|² = A².
    #[inline(always)]
    pub(super) fn reversal_statistic(&mut self) {
        let n = self.eq_pos + EQ_RING;
        let x0 = Complex32::new(self.eq_re[n - 2], self.eq_im[n - 2]);
        let x1 = Complex32::new(self.eq_re[n - 1], self.eq_im[n - 1]);
        let x2 = Complex32::new(self.eq_re[n], self.eq_im[n]);
        let (e0, e1) = (x0.norm_sqr(), x1.norm_sqr());
        let c = (x0 * x1.conj()).re - (x1 * x2.conj()).re;
        let p = Complex32::new(e0 - e1, c) / (0.5 * (e0 + x2.norm_sqr()) + e1 + 1e-12);
        self.rev[self.rev_pos] = p;
        self.rev_pos = (self.rev_pos + 1) % REVERSAL_WINDOW;
        self.rev_sum = self.rev.iter().sum();
        self.boost = if self.reversals_seen() {
            self.reversal_boost
        } else {
            1.0
        };
    }

    /// Does the baseband look like segment 3?
    #[inline(always)]
    pub(super) fn reversals_seen(&self) -> bool {
        self.rev_sum.norm_sqr() > (REVERSAL_RATIO * REVERSAL_WINDOW as f32).powi(2)
    }

    pub(super) fn search(&mut self) {
        if self.streak >= REVERSAL_SYMBOLS {
            // Symbol centres lie τ after the current centres: 2πτ/T = arg(v).
            let tau = self.rev_sum.im.atan2(self.rev_sum.re) / std::f32::consts::PI * self.half_t;
            self.next_at += to_fixed(tau);
            self.timing_pending = (0, self.step);
            self.stage = Stage::Align;
            self.rev = [Complex32::default(); REVERSAL_WINDOW];
            self.rev_sum = Complex32::default();
            self.count = 0;
            self.reversals = 0;
            self.freq_acc = Complex32::default();
            self.freq_n = 0;
            self.amp2 = 0.0;
            self.timing = (TIMING_KP_REVERSALS, 0.0);
        }
    }

    /// A training attempt failed: say so and look for the next one.
    pub(super) fn fail(&mut self, sink: &mut dyn RxSink) {
        sink.event(RxEvent::TrainingFailed);
        self.reported = true;
        self.stage = Stage::Search;
        self.streak = 0;
    }

    pub(super) fn align(&mut self, d: Complex32) {
        self.count += 1;
        if self.count > 2 {
            self.track_timing();
        }
        if self.count >= 2 {
            let u = d * self.prev_d.conj();
            if u.re < -u.im.abs() {
                // Within 45° of a reversal.
                self.reversals += 1;
                if self.count > FREQ_SETTLE {
                    // Once the timing has settled (on a tilted line the phase of the
                    // reversals depends on it).
                    self.freq_acc -= u;
                    self.freq_n += 1;
                }
                let a = d.norm_sqr();
                self.amp2 = if self.reversals == 1 {
                    a
                } else {
                    self.amp2 + (a - self.amp2) * 0.25
                };
            } else if self.reversals >= 3
                && u.re > u.im.abs()
                && (0.25 * self.amp2..4.0 * self.amp2).contains(&d.norm_sqr())
            {
                // No change, at the reversals' level: segment 4 has begun.
                self.start_training();
                self.prev_d = d;
                return;
            } else {
                // Not segment 3 after all (a transient, a tone, noise): look again.
                self.stage = Stage::Search;
                self.streak = 0;
            }
        }
        self.prev_d = d;
        if self.count > ALIGN_SYMBOLS {
            self.stage = Stage::Search;
            self.streak = 0;
        }
    }

    /// The newest symbol is the first of segment 4: set the AGC, the equaliser and the
    /// carrier loop.
    pub(super) fn start_training(&mut self) {
        // AGC: unit radius for the reversal symbols.
        let f = 1.0 / self.amp2.max(1e-12).sqrt();
        self.gain *= f;
        self.eq_re
            .iter_mut()
            .chain(self.eq_im.iter_mut())
            .for_each(|v| *v *= f);
        self.recompute_eq_power();
        if self.have_saved {
            self.c_re = self.saved_re;
            self.c_im = self.saved_im;
        } else {
            self.c_re = [0.0; EQ_LEN];
            self.c_im = [0.0; EQ_LEN];
            self.c_re[EQ_CENTRE] = 1.0;
        }
        // Carrier offset from the reversals (radians per symbol), or from the last good
        // training when there were too few (a short train).
        let measured = self.freq_acc.im.atan2(self.freq_acc.re);
        self.omega = if self.freq_n >= FREQ_MIN || !self.have_saved && self.freq_n >= 2 {
            measured
        } else if self.have_saved {
            self.saved_omega
        } else {
            0.0
        }
        .clamp(-self.max_omega, self.max_omega);
        // The equaliser output now is the reversal EQ_DELAY symbols back, whose point is
        // +1 when that count is odd (the last reversal is state 0).
        let z = self.equalise();
        let z = if EQ_DELAY % 2 == 1 { z } else { -z };
        self.theta = (z.im.atan2(z.re) * RAD) as i32 as u32;
        self.j = -(EQ_DELAY as i32) + 1;
        self.long = None;
        self.err_long = 0.0;
        self.err_short = 0.0;
        self.boost = 1.0;
        self.pll = loop_gains(PLL_BT_PULL_IN);
        self.timing = (TIMING_KP_TRAIN, TIMING_KI_TRAIN);
        self.mu = MU_TRAIN_FAST;
        self.mse = 1.0;
        self.stage = Stage::Train;
    }

    pub(super) fn train(&mut self, sink: &mut dyn RxSink) {
        let rot = self.rotator();
        let z = self.equalise() * rot;
        if !(z.re.is_finite() && z.im.is_finite()) {
            return self.blow_up(sink);
        }
        let trainings: &'static [Training; 2] = self.trainings;
        let [short, long] = trainings;
        let j = self.j;
        let hypotheses = self.long.is_none() && j >= SEG4_SHORT as i32;
        let target = if j < 0 {
            // Segment 3: the last reversal (j = −1) is state 0.
            if j % 2 == 0 { POINTS[4] } else { POINTS[0] }
        } else if hypotheses {
            self.err_long += (z - POINTS[long.states[j as usize] as usize]).norm_sqr();
            self.err_short += (z - POINTS[short.states[j as usize] as usize]).norm_sqr();
            POINTS[self.decide(z) as usize]
        } else {
            POINTS[long.states[j as usize] as usize]
        };
        let err = target - z;
        self.mse += (err.norm_sqr() - self.mse) * MSE_ALPHA_TRAIN;
        self.track_carrier(z, target);
        self.adapt(err * rot.conj(), self.mu);
        self.track_timing();
        self.j += 1;
        if self.j == PULL_IN_SYMBOLS {
            self.pll = loop_gains(PLL_BT_TRAIN);
        }
        if self.j == FAST_SYMBOLS {
            self.mu = MU_TRAIN;
        }
        if self.j == EARLY_CHECK && self.mse > MSE_EARLY_MAX {
            return self.fail(sink);
        }
        if hypotheses && self.j == (SEG4_SHORT + SEG5) as i32 {
            if self.err_short < self.err_long {
                return self.finish_training(false, sink);
            }
            self.long = Some(true);
        }
        if self.j == long.states.len() as i32 {
            self.finish_training(true, sink);
        }
    }

    pub(super) fn finish_training(&mut self, long: bool, sink: &mut dyn RxSink) {
        let max = match self.rate {
            V27terRate::Bps2400 => MSE_MAX_2400,
            V27terRate::Bps4800 => MSE_MAX_4800,
        };
        if self.mse > max {
            return self.fail(sink);
        }
        let t = &self.trainings[long as usize];
        self.descrambler = t.scrambler;
        self.last_state = t.states[t.states.len() - 1];
        self.saved_re = self.c_re;
        self.saved_im = self.c_im;
        self.saved_omega = self.omega;
        self.have_saved = true;
        self.pll = loop_gains(PLL_BT_DATA);
        self.timing = (TIMING_KP_DATA, TIMING_KI_DATA);
        self.mu = MU_DATA;
        self.stage = Stage::Data;
        self.reported = true;
        sink.event(RxEvent::TrainingSucceeded);
    }
}
