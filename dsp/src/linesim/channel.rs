//! The band-limited channel models: FIR filters designed here, at construction, by frequency
//! sampling from an amplitude response and a group-delay curve per model.
//!
//! Every model is the product of
//! - the **band edges** shared by all models: |H| = sin(π/2 · s(u)) across 200→400 Hz and
//!   3500→3300 Hz, s(u) = (1 − cos πu)/2, so the edges are smooth (the impulse response is
//!   short), the response is −3.01 dB at exactly 300 Hz and 3400 Hz, 1 between 400 and
//!   3300 Hz and 0 below 200 Hz and above 3500 Hz;
//! - an **attenuation distortion** curve: loss in dB relative to 1000 Hz (positive = more
//!   loss), a monotone cubic (Fritsch–Carlson) through the points tabulated per model;
//! - a **group delay**: [`BULK_DELAY`] samples plus a group-delay distortion curve (ms,
//!   ≥ 0, tabulated like the loss), so the delay is smallest in mid-band, as on real lines.
//!
//! Design: the target H(f) = A(f)·e^{jφ(f)}, φ(f) = −2π ∫₀^f τ(ν) dν, is sampled on a
//! [`DESIGN_DFT`]-point grid, brought to the time domain by an inverse DFT and cut to
//! [`CHANNEL_TAPS`] taps with short cosine tapers at both ends; the taps are then scaled so
//! that the gain at 1000 Hz is exactly 0 dB. The response realised by the taps follows the
//! target within 0.05 dB and 0.02 ms over 300–3400 Hz (tests `model_matches_design` here and
//! the measurements through the whole simulator in `tests.rs`).

use std::f64::consts::TAU;

use super::LineModel;

/// Length of every channel filter (32 ms at 8 kHz).
pub(crate) const CHANNEL_TAPS: usize = 256;
/// The smallest group delay of every model, samples (10 ms): where the delay distortion is 0.
/// Flat band-pass (model 1) is linear phase with exactly this delay.
pub const BULK_DELAY: usize = 80;
/// Size of the design grid (1.95 Hz per point).
const DESIGN_DFT: usize = 4096;
/// Length of the cosine taper at each end of the impulse response.
const TAPER: usize = 24;
const FS: f64 = 8000.0;

/// (frequency Hz, value) points of a curve; flat beyond the first and last.
type Curve = &'static [(f64, f64)];

/// Model 2, "moderate": loss relative to 1 kHz, dB. About C1-conditioned / ITU-T M.1025
/// quality: within −1…+3 dB over 500–2800 Hz, a gentle rise at both ends.
const MODERATE_LOSS: Curve = &[
    (300.0, 2.0),
    (500.0, 1.0),
    (1000.0, 0.0),
    (1500.0, 0.2),
    (2000.0, 0.6),
    (2500.0, 1.2),
    (3000.0, 2.0),
    (3400.0, 3.0),
];
/// Model 2 group-delay distortion, ms above the mid-band minimum at 1700 Hz: 0.3 ms at
/// 1000 Hz, 0.6 ms at 2800 Hz, 1.2 ms at 500 Hz.
const MODERATE_GDD: Curve = &[
    (300.0, 2.0),
    (500.0, 1.2),
    (600.0, 0.9),
    (1000.0, 0.3),
    (1700.0, 0.0),
    (2400.0, 0.15),
    (2600.0, 0.3),
    (2800.0, 0.6),
    (3000.0, 1.0),
    (3400.0, 2.0),
];
/// Model 3, "severe": on the limits of ITU-T M.1020 (a circuit for modems *without*
/// equalisers: −1…+3 dB over 500–2800 Hz, −2…+6 dB over 300–500 and 2800–3000 Hz) and
/// beyond them outside 300–3000 Hz, like a long loaded loop: 6 dB at 3000 Hz, 10 dB at 3400.
const SEVERE_LOSS: Curve = &[
    (300.0, 6.0),
    (400.0, 4.5),
    (500.0, 3.0),
    (700.0, 1.5),
    (1000.0, 0.0),
    (1500.0, 0.5),
    (2000.0, 1.2),
    (2500.0, 2.2),
    (2800.0, 3.0),
    (3000.0, 6.0),
    (3200.0, 8.0),
    (3400.0, 10.0),
];
/// Model 3 group-delay distortion: the M.1020 limits (3.0 ms at 500 Hz, 1.5 ms at 600 Hz,
/// 0.5 ms over 1000–2600 Hz, 3.0 ms at 2800 Hz), minimum 0 at 1800 Hz, 5 ms at 300 and
/// 3400 Hz.
const SEVERE_GDD: Curve = &[
    (300.0, 5.0),
    (500.0, 3.0),
    (600.0, 1.5),
    (1000.0, 0.5),
    (1800.0, 0.0),
    (2600.0, 0.5),
    (2800.0, 3.0),
    (3000.0, 4.0),
    (3400.0, 5.0),
];

fn curves(model: LineModel) -> Option<(Curve, Curve)> {
    match model {
        LineModel::None => None,
        LineModel::Flat => Some((&[], &[])),
        LineModel::Moderate => Some((MODERATE_LOSS, MODERATE_GDD)),
        LineModel::Severe => Some((SEVERE_LOSS, SEVERE_GDD)),
    }
}

/// The shared band edges, amplitude 0…1.
fn band_edges(f: f64) -> f64 {
    let rise = |u: f64| {
        let u = u.clamp(0.0, 1.0);
        (std::f64::consts::FRAC_PI_2 * 0.5 * (1.0 - (std::f64::consts::PI * u).cos())).sin()
    };
    rise((f - 200.0) / 200.0) * rise((3500.0 - f) / 200.0)
}

/// Monotone piecewise-cubic interpolation (Fritsch–Carlson tangents) through `curve`, constant
/// outside it; an empty curve is 0.
fn interpolate(curve: Curve, f: f64) -> f64 {
    let n = curve.len();
    if n == 0 {
        return 0.0;
    }
    if f <= curve[0].0 {
        return curve[0].1;
    }
    if f >= curve[n - 1].0 {
        return curve[n - 1].1;
    }
    let i = curve.windows(2).position(|w| f < w[1].0).unwrap_or(n - 2);
    let slope = |k: usize| (curve[k + 1].1 - curve[k].1) / (curve[k + 1].0 - curve[k].0);
    // Tangent at point k: 0 at the ends (the curve continues flat), the weighted harmonic
    // mean of the neighbouring slopes inside, 0 at a local extremum.
    let tangent = |k: usize| -> f64 {
        if k == 0 || k == n - 1 {
            return 0.0;
        }
        let (d0, d1) = (slope(k - 1), slope(k));
        if d0 * d1 <= 0.0 {
            return 0.0;
        }
        let (h0, h1) = (curve[k].0 - curve[k - 1].0, curve[k + 1].0 - curve[k].0);
        let (w0, w1) = (2.0 * h1 + h0, h1 + 2.0 * h0);
        (w0 + w1) / (w0 / d0 + w1 / d1)
    };
    let (x0, y0) = curve[i];
    let (x1, y1) = curve[i + 1];
    let h = x1 - x0;
    let t = (f - x0) / h;
    let (m0, m1) = (tangent(i) * h, tangent(i + 1) * h);
    let (t2, t3) = (t * t, t * t * t);
    (2.0 * t3 - 3.0 * t2 + 1.0) * y0
        + (t3 - 2.0 * t2 + t) * m0
        + (-2.0 * t3 + 3.0 * t2) * y1
        + (t3 - t2) * m1
}

/// The model's designed gain at `f` Hz relative to 1000 Hz, dB (band edges included;
/// −∞ outside 200–3500 Hz). `None` for [`LineModel::None`].
pub(crate) fn gain_db(model: LineModel, f: f64) -> Option<f64> {
    let (loss, _) = curves(model)?;
    Some(20.0 * band_edges(f).log10() - interpolate(loss, f))
}

/// The model's designed group delay at `f` Hz, samples (bulk delay included).
pub(crate) fn group_delay(model: LineModel, f: f64) -> Option<f64> {
    let (_, gdd) = curves(model)?;
    Some(BULK_DELAY as f64 + interpolate(gdd, f) * 1e-3 * FS)
}

/// Designs the model's FIR taps; `None` for [`LineModel::None`].
pub(crate) fn design(model: LineModel) -> Option<Vec<f32>> {
    let (loss, gdd) = curves(model)?;
    let n = DESIGN_DFT;
    let half = n / 2;
    let df = FS / n as f64;
    // φ(f) = −2π ∫ τ: integrate the delay (seconds) across each grid step by Simpson's rule.
    let tau = |f: f64| BULK_DELAY as f64 / FS + interpolate(gdd, f) * 1e-3;
    let mut spectrum = Vec::with_capacity(half + 1);
    let mut phase = 0.0f64;
    for k in 0..=half {
        let f = k as f64 * df;
        if k > 0 {
            let f0 = f - df;
            phase -= TAU * df / 6.0 * (tau(f0) + 4.0 * tau(f0 + df / 2.0) + tau(f));
        }
        let amp = band_edges(f) * 10f64.powf(-interpolate(loss, f) / 20.0);
        spectrum.push((amp * phase.cos(), amp * phase.sin()));
    }
    // Inverse real DFT of the Hermitian-symmetric spectrum, first CHANNEL_TAPS points.
    let twiddle: Vec<(f64, f64)> = (0..n)
        .map(|j| {
            let w = TAU * j as f64 / n as f64;
            (w.cos(), w.sin())
        })
        .collect();
    let mut taps: Vec<f64> = (0..CHANNEL_TAPS)
        .map(|t| {
            let mut acc = spectrum[0].0 + spectrum[half].0 * if t % 2 == 0 { 1.0 } else { -1.0 };
            for (k, &(re, im)) in spectrum.iter().enumerate().take(half).skip(1) {
                let (c, s) = twiddle[(k * t) % n];
                acc += 2.0 * (re * c - im * s);
            }
            acc / n as f64
        })
        .collect();
    for i in 0..TAPER {
        let w = 0.5 - 0.5 * (std::f64::consts::PI * (i as f64 + 0.5) / TAPER as f64).cos();
        taps[i] *= w;
        taps[CHANNEL_TAPS - 1 - i] *= w;
    }
    // Exactly 0 dB at 1 kHz.
    let (re, im) = response(&taps, 1000.0);
    let g = (re * re + im * im).sqrt();
    Some(taps.iter().map(|&h| (h / g) as f32).collect())
}

/// Complex response of `taps` at `f` Hz.
fn response(taps: &[f64], f: f64) -> (f64, f64) {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &h) in taps.iter().enumerate() {
        let w = -TAU * f / FS * n as f64;
        re += h * w.cos();
        im += h * w.sin();
    }
    (re, im)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realised(taps: &[f32], f: f64) -> (f64, f64) {
        let taps: Vec<f64> = taps.iter().map(|&h| h as f64).collect();
        let (re, im) = response(&taps, f);
        let gain_db = 10.0 * (re * re + im * im).log10();
        // Group delay by a central difference of the phase.
        let d = 1.0;
        let ph = |f: f64| {
            let (re, im) = response(&taps, f);
            im.atan2(re)
        };
        let mut dphi = ph(f + d) - ph(f - d);
        dphi = (dphi + std::f64::consts::PI).rem_euclid(TAU) - std::f64::consts::PI;
        (gain_db, -dphi / (TAU * 2.0 * d) * FS)
    }

    #[test]
    fn interpolation_passes_through_points_and_is_monotone_between() {
        for curve in [MODERATE_LOSS, MODERATE_GDD, SEVERE_LOSS, SEVERE_GDD] {
            for &(f, v) in curve {
                assert!((interpolate(curve, f) - v).abs() < 1e-12);
            }
            for w in curve.windows(2) {
                let (lo, hi) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
                for i in 0..=50 {
                    let f = w[0].0 + (w[1].0 - w[0].0) * i as f64 / 50.0;
                    let v = interpolate(curve, f);
                    assert!(
                        v >= lo - 1e-9 && v <= hi + 1e-9,
                        "{f} Hz: {v} outside {lo}..{hi}"
                    );
                }
            }
        }
    }

    #[test]
    fn band_edges_are_3db_at_300_and_3400() {
        for f in [300.0, 3400.0] {
            assert!((20.0 * band_edges(f).log10() + 3.0103).abs() < 1e-3);
        }
        assert_eq!(band_edges(1000.0), 1.0);
        assert_eq!(band_edges(150.0), 0.0);
        assert_eq!(band_edges(3600.0), 0.0);
    }

    #[test]
    fn model_matches_design() {
        for model in [LineModel::Flat, LineModel::Moderate, LineModel::Severe] {
            let taps = design(model).unwrap();
            let (mut worst_db, mut worst_ms) = (0.0f64, 0.0f64);
            for f in (300..=3400).step_by(25) {
                let f = f as f64;
                let (g, tau) = realised(&taps, f);
                let want_g = gain_db(model, f).unwrap();
                let want_tau = group_delay(model, f).unwrap();
                worst_db = worst_db.max((g - want_g).abs());
                worst_ms = worst_ms.max((tau - want_tau).abs() / 8.0);
            }
            eprintln!("{model:?}: worst {worst_db:.4} dB, {worst_ms:.4} ms");
            assert!(worst_db < 0.05, "{model:?}: gain off by {worst_db} dB");
            assert!(
                worst_ms < 0.02,
                "{model:?}: group delay off by {worst_ms} ms"
            );
        }
    }
}
