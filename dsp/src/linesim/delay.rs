//! A sub-sample delay: a 32-tap Kaiser-windowed sinc interpolator, `y[n] = x(n − M − frac)`
//! with M = [`FRACTIONAL_LATENCY`] samples of fixed latency. What a line does when the far
//! end's sampling instants fall between the near end's (a digital–analogue–digital path).

use crate::signal::fir::Fir;
use crate::signal::resample::sinc;
use crate::signal::window::kaiser;

/// Taps of the interpolator.
const TAPS: usize = 32;

/// The fixed part of the delay, samples: the interpolator's centre.
pub const FRACTIONAL_LATENCY: usize = TAPS / 2 - 1;

/// A delay of `frac` (0 ≤ frac < 1) samples on top of [`FRACTIONAL_LATENCY`].
#[derive(Debug, Clone)]
pub struct FractionalDelay {
    fir: Fir,
}

impl FractionalDelay {
    /// `frac` is taken modulo 1 (a NaN counts as 0). Flat within 0.1 dB to 3.4 kHz.
    pub fn new(frac: f64) -> FractionalDelay {
        let frac = if frac.is_finite() {
            frac.rem_euclid(1.0)
        } else {
            0.0
        };
        let centre = FRACTIONAL_LATENCY as f64 + frac;
        let half = TAPS as f64 / 2.0;
        let taps: Vec<f32> = (0..TAPS)
            .map(|n| {
                let t = n as f64 - centre;
                (sinc(t) * kaiser(t / half, 6.0)) as f32
            })
            .collect();
        FractionalDelay {
            fir: Fir::new(&taps),
        }
    }

    /// Delays `buf` in place (the state carries over between calls).
    pub fn process(&mut self, buf: &mut [f32]) {
        self.fir.process(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 kHz tone comes out delayed by 15.5 samples: its phase against the input's.
    #[test]
    fn half_a_sample_moves_a_tone_by_half_a_sample() {
        let f = 1000.0 / 8000.0;
        let x: Vec<f32> = (0..800)
            .map(|n| (std::f64::consts::TAU * f * n as f64).sin() as f32 * 1000.0)
            .collect();
        let mut y = x.clone();
        FractionalDelay::new(0.5).process(&mut y);
        let want = FRACTIONAL_LATENCY as f64 + 0.5;
        for (n, &v) in y.iter().enumerate().skip(100) {
            let e = (std::f64::consts::TAU * f * (n as f64 - want)).sin() * 1000.0;
            assert!((v as f64 - e).abs() < 5.0, "n {n}: {v} vs {e}");
        }
    }

    #[test]
    fn zero_is_a_whole_sample_delay() {
        let mut y = vec![0f32; 40];
        y[0] = 1.0;
        FractionalDelay::new(0.0).process(&mut y);
        for (n, v) in y.iter().enumerate() {
            let want = if n == FRACTIONAL_LATENCY { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-6, "{n}: {v}");
        }
    }
}
