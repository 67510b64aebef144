//! A polyphase windowed-sinc fractional resampler with continuous phase, for rates that
//! differ by a ratio near or above one (a sample clock that drifts; upsampling). Its
//! cutoff is the input's Nyquist frequency, so it does not filter before decimating:
//! well below one, content above the output's Nyquist frequency aliases.
//!
//! Output sample k is the input interpolated at input time t_k = k / ratio − H
//! (H = [`HALF_TAPS`]), computed from k directly (not accumulated), so the ratio is exact
//! over any run and the position never wanders.
//!
//! The kernel is sinc(t)·Kaiser(t/H, β = 9) over 2H = 48 input samples, tabulated at
//! [`PHASES`] fractional positions and linearly interpolated between two of them (two dot
//! products per output). At ratio 1 the kernel is a pure delay of H; the transition band is
//! ≈ 0.875–1.125 of the input's Nyquist frequency: at 8 kHz, a tone up to 3.5 kHz comes out
//! with everything else (images, interpolation error) more than 80 dB below it (test
//! `tones_pass_cleanly`), while content between 3.6 kHz and 4 kHz is partly lost and partly
//! aliased. The stage delays by H input samples.

use super::fir::dot;
use super::window::kaiser;

/// Half the kernel length, input samples: the stage's delay.
pub const HALF_TAPS: usize = 24;
/// Fractional positions tabulated.
pub const PHASES: usize = 256;
/// Kaiser β of the kernel.
const BETA: f64 = 9.0;

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Resampler {
    /// (PHASES + 1) rows of 2H coefficients; row p is for fraction p/PHASES.
    table: Vec<f32>,
    /// Input samples per output sample, 1/ratio.
    step: f64,
    /// Input samples not yet consumed, starting at absolute index `base` (the stream is
    /// primed with 2H − 1 zeros so that output starts at once).
    buf: Vec<f32>,
    base: u64,
    /// Index of the next output sample.
    k: u64,
}

impl Resampler {
    /// A resampler giving `ratio` output samples per input sample (a far-end clock fast by
    /// `ppm`: 1 + ppm·10⁻⁶). The ratio is taken within \[10⁻³, 10³\]; not a number as 1.
    pub fn new(ratio: f64) -> Resampler {
        let ratio = if ratio.is_nan() {
            1.0
        } else {
            ratio.clamp(1e-3, 1e3)
        };
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
        Resampler {
            table,
            step: 1.0 / ratio,
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
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
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

/// sin(πt)/(πt).
pub fn sinc(t: f64) -> f64 {
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
        let row = &Resampler::new(1.0).table[..2 * HALF_TAPS];
        for (j, &c) in row.iter().enumerate() {
            let want = if j == HALF_TAPS - 1 { 1.0 } else { 0.0 };
            assert!((c - want).abs() < 1e-7, "tap {j}: {c}");
        }
    }

    #[test]
    fn ratio_one_delays_by_half_taps() {
        let x: Vec<f32> = (0..500).map(|i| ((i * 31 % 97) as f32) - 48.0).collect();
        for ratio in [1.0, f64::NAN] {
            let mut d = Resampler::new(ratio);
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
    }

    /// How well a tone survives: the error against the ideally resampled tone, dB below it.
    fn residual_db(f_hz: f64, ppm: f64) -> f64 {
        let n = 40_000;
        let w_in = std::f64::consts::TAU * f_hz / 8000.0;
        let x: Vec<f32> = (0..n).map(|i| (w_in * i as f64).cos() as f32).collect();
        let mut d = Resampler::new(1.0 + ppm * 1e-6);
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

    #[test]
    fn output_count_follows_the_ratio() {
        for ratio in [0.5, 1.0001, 2.0, 6.0] {
            let mut d = Resampler::new(ratio);
            let mut y = Vec::new();
            for _ in 0..100 {
                d.process(&[0.5; 160], &mut y);
            }
            let want = 16_000.0 * ratio;
            assert!((y.len() as f64 - want).abs() <= 2.0 * HALF_TAPS as f64 * ratio + 1.0);
        }
    }
}
