//! The carrier-frequency offset: every frequency shifted by a constant through the analytic
//! signal (a Hilbert transformer and a complex mixer).

use crate::signal::fir::{dot, hilbert, keep_tail};

/// Length of the Hilbert transformer (odd); its delay is `(HILBERT_TAPS − 1) / 2` samples.
pub(crate) const HILBERT_TAPS: usize = 127;
/// Kaiser shape of the Hilbert transformer's window.
const HILBERT_BETA: f64 = 7.0;

/// Shifts every frequency by a constant: x_a = x + j·Hilbert(x) (the analytic signal, positive
/// frequencies only), times e^{j2π·Δf·n/fs}, real part. The real branch is delayed by M to
/// line up with the Hilbert branch, so the stage delays by M samples.
#[derive(Debug, Clone)]
pub(crate) struct FreqShift {
    taps_rev: Vec<f32>,
    work: Vec<f32>,
    /// Mixer phase, cycles in \[0, 1).
    phase: f64,
    /// Cycles per sample.
    step: f64,
}

impl FreqShift {
    pub(crate) fn new(offset_hz: f64, sample_rate: f64) -> Self {
        let taps = hilbert(HILBERT_TAPS, HILBERT_BETA);
        Self {
            taps_rev: taps.iter().rev().copied().collect(),
            work: vec![0.0; taps.len() - 1],
            phase: 0.0,
            step: offset_hz / sample_rate,
        }
    }

    pub(crate) fn process(&mut self, buf: &mut [f32]) {
        let len = self.taps_rev.len();
        let m = (len - 1) / 2;
        self.work.extend_from_slice(buf);
        for (i, y) in buf.iter_mut().enumerate() {
            let win = &self.work[i..i + len];
            let re = win[m] as f64;
            let im = dot(&self.taps_rev, win) as f64;
            let (s, c) = (std::f64::consts::TAU * self.phase).sin_cos();
            *y = (re * c - im * s) as f32;
            self.phase += self.step;
            self.phase -= self.phase.floor();
        }
        keep_tail(&mut self.work, len - 1);
    }
}
