//! Frame analysis shared by the detectors: samples are cut into frames of `N` samples every
//! `HOP` samples (overlapping when `HOP < N`), optionally weighted by a Hann window, and
//! single DFT bins are measured with the Goertzel recurrence.
//!
//! Powers are normalised so that they read as the mean square of a sine: a sine of
//! amplitude A measured at its own frequency gives A²/2 from [`Analyser::tone_power`], and
//! any signal of mean square P gives P from the frame's total power. The share of a tone in
//! a frame is then one division (or, as the detectors write it, one multiplication).

use super::SAMPLE_RATE;

/// The Goertzel coefficient `2 cos ω` of a frequency.
pub(super) fn coefficient(hz: f32) -> f32 {
    (2.0 * (std::f64::consts::TAU * hz as f64 / SAMPLE_RATE as f64).cos()) as f32
}

/// |X(ω)|² of `x` by the Goertzel recurrence for up to eight frequencies at once, each
/// given by its [`coefficient`] (the recurrences run side by side, which the compiler turns
/// into vector arithmetic): `coeffs` and `out` of equal length ≤ 8.
#[inline]
fn goertzel8(x: &[f32], coeffs: &[f32], out: &mut [f32]) {
    const L: usize = 8;
    let k = coeffs.len().min(out.len()).min(L);
    let mut c = [0f32; L];
    c[..k].copy_from_slice(&coeffs[..k]);
    let (mut s1, mut s2) = ([0f32; L], [0f32; L]);
    for &v in x {
        for j in 0..L {
            let s0 = v + c[j] * s1[j] - s2[j];
            s2[j] = s1[j];
            s1[j] = s0;
        }
    }
    for j in 0..k {
        out[j] = (s1[j] * s1[j] + s2[j] * s2[j] - c[j] * s1[j] * s2[j]).max(0.0);
    }
}

/// Magnitude of the Hann window's spectrum `u` bins (of `SAMPLE_RATE / N` Hz) off its
/// centre, relative to the centre: `sinc(u) / (1 − u²)` (main lobe out to |u| = 2).
pub(super) fn hann_kernel(u: f32) -> f32 {
    let u = u.abs();
    if u < 1e-6 {
        return 1.0;
    }
    let d = 1.0 - u * u;
    if d.abs() < 1e-4 {
        return 0.5;
    }
    let pu = std::f32::consts::PI * u;
    (pu.sin() / pu / d).abs()
}

/// Cuts samples into (windowed) frames and measures them.
#[derive(Debug, Clone)]
pub(super) struct Analyser<const N: usize, const HOP: usize> {
    raw: [f32; N],
    fill: usize,
    window: Option<[f32; N]>,
    frame: [f32; N],
    /// Goertzel |X|² → mean square of the sine: 2 / (Σw)².
    tone_norm: f32,
    /// Σ(w·x)² → mean square: 1 / Σw².
    power_norm: f32,
    /// Samples taken so far.
    now: u64,
}

impl<const N: usize, const HOP: usize> Analyser<N, HOP> {
    /// An analyser with a rectangular window (`hann == false`) or a Hann window.
    pub(super) fn new(hann: bool) -> Self {
        const { assert!(HOP > 0 && HOP <= N) };
        let window = hann.then(|| {
            let mut w = [0f32; N];
            for (n, v) in w.iter_mut().enumerate() {
                let s = (std::f64::consts::PI * (n as f64 + 0.5) / N as f64).sin();
                *v = (s * s) as f32;
            }
            w
        });
        let (sum, sum_sq) = match &window {
            Some(w) => (w.iter().sum::<f32>(), w.iter().map(|v| v * v).sum::<f32>()),
            None => (N as f32, N as f32),
        };
        Analyser {
            raw: [0.0; N],
            fill: 0,
            window,
            frame: [0.0; N],
            tone_norm: 2.0 / (sum * sum),
            power_norm: 1.0 / sum_sq,
            now: 0,
        }
    }

    /// Takes samples until a frame is complete. Returns how many were taken and, when a
    /// frame is complete, its mean-square power; the frame can then be measured with
    /// [`Analyser::tone_power`] until the next call.
    pub(super) fn feed(&mut self, samples: &[i16]) -> (usize, Option<f32>) {
        if self.fill == N {
            self.raw.copy_within(HOP.., 0);
            self.fill = N - HOP;
        }
        let n = (N - self.fill).min(samples.len());
        for (d, &s) in self.raw[self.fill..self.fill + n].iter_mut().zip(samples) {
            *d = s as f32;
        }
        self.fill += n;
        self.now += n as u64;
        if self.fill < N {
            return (n, None);
        }
        match &self.window {
            Some(w) => {
                for ((f, &r), &w) in self.frame.iter_mut().zip(&self.raw).zip(w) {
                    *f = r * w;
                }
            }
            None => self.frame = self.raw,
        }
        let energy: f32 = self.frame.iter().map(|v| v * v).sum();
        (n, Some(energy * self.power_norm))
    }

    /// The mean square of a sine at the frequency of `coeff` in the current frame.
    #[cfg(test)]
    fn tone_power(&self, coeff: f32) -> f32 {
        let mut p = [0.0];
        self.tone_powers(&[coeff], &mut p);
        p[0]
    }

    /// The mean square of a sine at the frequency of each of `coeffs` in the current frame,
    /// into `out`.
    pub(super) fn tone_powers(&self, coeffs: &[f32], out: &mut [f32]) {
        for (c, o) in coeffs.chunks(8).zip(out.chunks_mut(8)) {
            goertzel8(&self.frame, c, o);
            for v in o.iter_mut() {
                *v *= self.tone_norm;
            }
        }
    }

    /// Samples taken so far: the index of the sample after the current frame.
    pub(super) fn now(&self) -> u64 {
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f32, amplitude: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let p = std::f64::consts::TAU * hz as f64 * i as f64 / SAMPLE_RATE as f64;
                (amplitude as f64 * (p + 0.3).sin()).round() as i16
            })
            .collect()
    }

    #[test]
    fn powers_read_as_mean_square() {
        for hann in [false, true] {
            let mut a = Analyser::<160, 80>::new(hann);
            let x = sine(1000.0, 10_000.0, 160);
            let (used, power) = a.feed(&x);
            assert_eq!(used, 160);
            let power = power.unwrap();
            let expected = 10_000f32.powi(2) / 2.0;
            assert!((power / expected - 1.0).abs() < 0.02, "{hann}: {power}");
            let tone = a.tone_power(coefficient(1000.0));
            assert!((tone / expected - 1.0).abs() < 0.01, "{hann}: {tone}");
            // A bin 100 Hz off sees nothing with a rectangular window of 20 ms (a null)
            // and the Hann window's first null at 2 bins.
            let off = a.tone_power(coefficient(if hann { 1100.0 } else { 1050.0 }));
            assert!(off < expected * 0.01, "{hann}: {off}");
            // Several at once give the same.
            let freqs = [
                300.0, 1000.0, 1050.0, 1100.0, 2000.0, 3000.0, 999.0, 1001.0, 1500.0,
            ];
            let coeffs = freqs.map(coefficient);
            let mut many = [0f32; 9];
            a.tone_powers(&coeffs, &mut many);
            for (c, m) in coeffs.iter().zip(many) {
                let one = a.tone_power(*c);
                assert!((m - one).abs() <= 1e-4 * expected, "{hann}: {m} vs {one}");
            }
        }
    }

    #[test]
    fn hann_kernel_matches_measurement() {
        for u in [0.0f32, 0.3, 0.7, 1.0, 1.4, 1.9] {
            let mut a = Analyser::<320, 320>::new(true);
            let hz = 1000.0 + u * SAMPLE_RATE as f32 / 320.0;
            let (_, _) = a.feed(&sine(hz, 10_000.0, 320));
            let measured = (a.tone_power(coefficient(1000.0)) / (10_000f32.powi(2) / 2.0)).sqrt();
            assert!(
                (measured - hann_kernel(u)).abs() < 0.01,
                "u = {u}: {measured}"
            );
        }
    }

    #[test]
    fn frames_overlap_by_hop() {
        let mut a = Analyser::<4, 2>::new(false);
        let x: Vec<i16> = (1..=8).collect();
        let mut frames = Vec::new();
        let mut rest = &x[..];
        while !rest.is_empty() {
            let (used, p) = a.feed(rest);
            rest = &rest[used..];
            if p.is_some() {
                frames.push((a.now(), a.frame));
            }
        }
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0], (4, [1.0, 2.0, 3.0, 4.0]));
        assert_eq!(frames[1], (6, [3.0, 4.0, 5.0, 6.0]));
        assert_eq!(frames[2], (8, [5.0, 6.0, 7.0, 8.0]));
    }
}
