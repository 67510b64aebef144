//! The receiver's front end — the complex band-pass matched filter, one of 64 phases per
//! T/2 output (see [`super::rx`], step 2), and the oscillator that brings its output to
//! baseband. The front end's and the equaliser's dot products
//! and the LMS update run on the run-time chosen kernels of [`crate::simd`] at their fixed
//! length of 32 ([`crate::simd::Isa::dot2_fixed`], [`crate::simd::Isa::cdot_split_fixed`],
//! [`crate::simd::Isa::lms_split_fixed`]).

use std::sync::LazyLock;

use num_complex::Complex32;

use super::{ROLLOFF, SAMPLES_PER_SYMBOL};
use crate::signal::rrc::rrc;

/// Half the front-end filter length, samples.
pub(super) const FE_HALF: usize = 16;
/// Front-end filter length, samples (9.6 symbols).
pub(super) const FE_LEN: usize = 2 * FE_HALF;
/// Interpolation phases per sample (timing resolution 1/213 symbol).
pub(super) const FE_PHASES: usize = 64;
/// The receiver's input history, samples: the front end's window and room for a slice of
/// input written in one pass.
pub(super) const HIST: usize = FE_LEN + 192;
/// Equaliser taps (T/2 spaced).
pub const EQ_LEN: usize = 32;
// Multiples of the kernels' widest step (8 lanes): no scalar tails.
const _: () = assert!(EQ_LEN.is_multiple_of(8) && FE_LEN.is_multiple_of(8));

/// The carriers (1700 and 1800 Hz) repeat every this many samples at 8000 samples/s: the
/// oscillator is a table of one period (and as much again as the history holds).
pub(super) const OSC_PERIOD: usize = 80;

/// The complex band-pass front end for one carrier frequency.
pub(super) struct RxBank {
    /// Phase q's filter h(τ)·e^{jω_c τ}, turned on by e^{jω_c(J − μ)} (J = [`FE_HALF`],
    /// μ = q/64), the carrier's phase from the output instant up to the window's newest
    /// sample: the output times [`RxBank::osc`] at the newest sample is at baseband.
    pub(super) re: [[f32; FE_LEN]; FE_PHASES],
    pub(super) im: [[f32; FE_LEN]; FE_PHASES],
    /// e^{−jω_c n} for n = 0 … [`OSC_PERIOD`] + [`HIST`] − 1 (the period repeated, so
    /// that a sample's entry is found from its place in the history with no modulo).
    pub(super) osc: [Complex32; OSC_PERIOD + HIST],
}

pub(super) fn rx_bank(carrier_hz: f32) -> RxBank {
    let w = std::f64::consts::TAU * carrier_hz as f64 / 8000.0;
    // (A whole number of carrier cycles in the period.)
    debug_assert!((carrier_hz as f64 * OSC_PERIOD as f64 / 8000.0).fract() == 0.0);
    let mut bank = RxBank {
        re: [[0.0; FE_LEN]; FE_PHASES],
        im: [[0.0; FE_LEN]; FE_PHASES],
        osc: std::array::from_fn(|n| {
            let (s, c) = (-w * n as f64).sin_cos();
            Complex32::new(c as f32, s as f32)
        }),
    };
    // Unity gain at DC of the baseband response, from the μ = 0 phase.
    let norm: f64 = (0..FE_LEN)
        .map(|a| rrc((a as f64 - FE_HALF as f64) / SAMPLES_PER_SYMBOL, ROLLOFF))
        .sum();
    for q in 0..FE_PHASES {
        let mu = q as f64 / FE_PHASES as f64;
        for a in 0..FE_LEN {
            // Sample of age a lies τ = a − J + μ samples before the output instant.
            let tau = a as f64 - FE_HALF as f64 + mu;
            let h = rrc(tau / SAMPLES_PER_SYMBOL, ROLLOFF) / norm;
            // τ from the output instant, plus J − μ up to the newest sample: a − … = a.
            bank.re[q][a] = (h * (w * a as f64).cos()) as f32;
            bank.im[q][a] = (h * (w * a as f64).sin()) as f32;
        }
    }
    bank
}

pub(super) static RX_BANK_1700: LazyLock<RxBank> = LazyLock::new(|| rx_bank(1700.0));
pub(super) static RX_BANK_1800: LazyLock<RxBank> = LazyLock::new(|| rx_bank(1800.0));

/// A window of a mirrored ring buffer as an array.
#[inline(always)]
pub(super) fn window<const N: usize>(buf: &[f32], at: usize) -> &[f32; N] {
    buf[at..at + N].try_into().expect("window inside the ring")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_end_bank_is_a_bandpass() {
        // A tone at the carrier passes with unit gain at every phase; one at 300 Hz beyond the
        // band edge (1700 ± 1500 Hz) is stopped.
        let bank = &*RX_BANK_1700;
        for q in [0, 17, 63] {
            let gain = |hz: f64| -> f64 {
                let w = std::f64::consts::TAU * hz / 8000.0;
                let (mut r, mut i) = (0.0, 0.0);
                for a in 0..FE_LEN {
                    // A complex exponential input e^{jw(t_out − τ)}: the response at τ.
                    let tau = a as f64 - FE_HALF as f64 + q as f64 / FE_PHASES as f64;
                    let (s, c) = (-w * tau).sin_cos();
                    r += bank.re[q][a] as f64 * c - bank.im[q][a] as f64 * s;
                    i += bank.re[q][a] as f64 * s + bank.im[q][a] as f64 * c;
                }
                (r * r + i * i).sqrt()
            };
            assert!((gain(1700.0) - 1.0).abs() < 0.02, "{}", gain(1700.0));
            assert!(gain(1700.0 + 1800.0) < 0.05, "{}", gain(3500.0));
            assert!(gain(-1700.0) < 0.01, "image {}", gain(-1700.0));
        }
    }
}
