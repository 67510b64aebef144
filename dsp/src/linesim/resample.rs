//! Sample-clock drift: a polyphase windowed-sinc fractional resampler with continuous phase.
//!
//! Output sample k is the input interpolated at input time t_k = k / (1 + ppm·10⁻⁶) − H
//! (H = [`HALF_TAPS`]): the far end's clock runs fast by `ppm`, so it takes 1 + ppm·10⁻⁶
//! samples for each one sent. t_k is computed from k directly (not accumulated), so the
//! ratio is exact over any run and the position never wanders.
//!
//! The kernel is sinc(t)·Kaiser(t/H, β = 9) over 2H = 48 input samples, tabulated at
//! [`PHASES`] fractional positions and linearly interpolated between two of them (two dot
//! products per output). Cutoff is fs/2 — at drift 0 the kernel is a pure delay of H — and
//! the transition band is ≈ 3500–4500 Hz: a tone up to 3.5 kHz comes out with everything
//! else (images, interpolation error) more than 85 dB below it (test `tones_pass_cleanly`).
//! Content between 3.6 kHz and 4 kHz is partly lost and partly aliased (a telephone channel
//! has none). The stage delays by H = 24 input samples.

use super::fir::{dot, kaiser};

/// Half the kernel length, input samples: the stage's delay.
pub(crate) const HALF_TAPS: usize = 24;
/// Fractional positions tabulated.
const PHASES: usize = 256;
const BETA: f64 = 9.0;

#[derive(Debug, Clone)]
pub(crate) struct Drift {
    /// (PHASES + 1) rows of 2H coefficients; row p is for fraction p/PHASES.
    table: Vec<f32>,
    /// Input samples per output sample, 1/(1 + ppm·10⁻⁶).
    step: f64,
    /// Input samples not yet consumed, starting at absolute index `base` (the stream is
    /// primed with 2H − 1 zeros so that output starts at once).
    buf: Vec<f32>,
    base: u64,
    /// Index of the next output sample.
    k: u64,
}

impl Drift {
    pub(crate) fn new(ppm: f64) -> Self {
        let taps = 2 * HALF_TAPS;
        let mut table = Vec::with_capacity((PHASES + 1) * taps);
        for p in 0..=PHASES {
            let frac = p as f64 / PHASES as f64;
            // Tap j sits at input index i0 − H + 1 + j; its distance from t = i0 + frac:
            let row: Vec<f64> = (0..taps)
                .map(|j| {
                    let t = j as f64 - (HALF_TAPS as f64 - 1.0) - frac;
                    sinc(t) * kaiser(t / HALF_TAPS as f64, BETA)
                })
                .collect();
            // Unity gain at DC for every fraction (no gain ripple as the phase turns).
            let sum: f64 = row.iter().sum();
            table.extend(row.iter().map(|&c| (c / sum) as f32));
        }
        Self {
            table,
            step: 1.0 / (1.0 + ppm * 1e-6),
            buf: vec![0.0; 2 * HALF_TAPS - 1],
            base: 0,
            k: 0,
        }
    }

    /// Where output `k` falls in the primed stream (absolute buffer index, fractional).
    fn position(&self, k: u64) -> f64 {
        k as f64 * self.step + (HALF_TAPS - 1) as f64
    }

    /// Appends the outputs that `input` completes to `out`.
    pub(crate) fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let taps = 2 * HALF_TAPS;
        self.buf.extend_from_slice(input);
        let end = self.base + self.buf.len() as u64;
        loop {
            let q = self.position(self.k);
            let i0 = q.floor();
            let frac = q - i0;
            let i0 = i0 as u64;
            // Needs input indices i0 − H + 1 ..= i0 + H.
            if i0 + HALF_TAPS as u64 >= end {
                break;
            }
            let start = (i0 + 1 - HALF_TAPS as u64 - self.base) as usize;
            let win = &self.buf[start..start + taps];
            let pf = frac * PHASES as f64;
            let p = (pf as usize).min(PHASES - 1);
            let alpha = (pf - p as f64) as f32;
            let d0 = dot(&self.table[p * taps..(p + 1) * taps], win);
            let d1 = dot(&self.table[(p + 1) * taps..(p + 2) * taps], win);
            out.push(d0 + alpha * (d1 - d0));
            self.k += 1;
        }
        // Drop what no later output needs.
        let need = self.position(self.k).floor() as u64 + 1 - HALF_TAPS as u64;
        if need > self.base {
            let n = ((need - self.base) as usize).min(self.buf.len());
            self.buf.drain(..n);
            self.base += n as u64;
        }
    }
}

fn sinc(t: f64) -> f64 {
    if t.abs() < 1e-12 {
        1.0
    } else {
        let x = std::f64::consts::PI * t;
        x.sin() / x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_zero_is_a_pure_delay() {
        let row = &Drift::new(0.0).table[..2 * HALF_TAPS];
        for (j, &c) in row.iter().enumerate() {
            let want = if j == HALF_TAPS - 1 { 1.0 } else { 0.0 };
            assert!((c - want).abs() < 1e-7, "tap {j}: {c}");
        }
    }

    #[test]
    fn zero_drift_delays_by_half_taps() {
        let x: Vec<f32> = (0..500).map(|i| ((i * 31 % 97) as f32) - 48.0).collect();
        let mut d = Drift::new(0.0);
        let mut y = Vec::new();
        d.process(&x, &mut y);
        assert_eq!(y.len(), x.len());
        for (n, &v) in y.iter().enumerate() {
            let want = if n >= HALF_TAPS {
                x[n - HALF_TAPS]
            } else {
                0.0
            };
            assert!((v - want).abs() < 1e-3, "{n}: {v} vs {want}");
        }
    }

    /// How well a tone survives: the error against the ideally resampled tone, dB below it.
    fn residual_db(f_hz: f64, ppm: f64) -> f64 {
        let n = 40_000;
        let w_in = std::f64::consts::TAU * f_hz / 8000.0;
        let x: Vec<f32> = (0..n).map(|i| (w_in * i as f64).cos() as f32).collect();
        let mut d = Drift::new(ppm);
        let mut y = Vec::new();
        for c in x.chunks(160) {
            d.process(c, &mut y);
        }
        // y[k] = x(k·step − H): a cosine at w_in·step, phase −w_in·H.
        let step = 1.0 / (1.0 + ppm * 1e-6);
        let skip = 200;
        let (mut err, mut sig) = (0.0, 0.0);
        for (k, &v) in y.iter().enumerate().skip(skip) {
            let want = (w_in * (k as f64 * step - HALF_TAPS as f64)).cos();
            err += (v as f64 - want).powi(2);
            sig += want * want;
        }
        10.0 * (err / sig).log10()
    }

    #[test]
    fn tones_pass_cleanly() {
        for ppm in [100.0, -100.0, 1000.0, -5000.0, 10_000.0] {
            for f in [300.0, 1000.0, 1800.0, 3000.0, 3400.0, 3500.0] {
                let residual_db = residual_db(f, ppm);
                assert!(
                    residual_db < -80.0,
                    "{ppm} ppm, {f} Hz: residual {residual_db:.1} dB"
                );
            }
        }
    }
}
