//! The V.27ter receiver's matched filter with the carrier folded in (see [`super::V27terRx`],
//! "Matched filter and baseband") and the dot products it and the equaliser run on.

use std::sync::LazyLock;

use num_complex::Complex32;

use super::super::{CARRIER_HZ, TX_SPAN, V27terRate, pulse};

/// Fractional-delay rows in the matched-filter bank (timing resolution 1/64 sample).
pub(super) const PHASES: usize = 64;

/// The matched filter with the carrier folded in: row p, slot s (oldest first) holds
/// 2·g(k − p/P)·e^{jω₀k} for the sample k = taps−1−s back. The output for the instant p/P
/// before sample m, times e^{−jω₀m}, is the baseband at that instant: the fractional part
/// of the carrier phase cancels.
#[derive(Debug)]
pub(super) struct Bank {
    pub(super) taps: usize,
    pub(super) re: Vec<f32>,
    pub(super) im: Vec<f32>,
    /// Mean |output|² over line power, for V.27ter data …
    pub(super) data_gain: f32,
    /// … and for segment 3's reversals, whose power sits at the band edges.
    pub(super) reversal_gain: f32,
}

impl Bank {
    #[inline(always)]
    pub(super) fn row(&self, p: usize) -> (&[f32], &[f32]) {
        let a = p * self.taps;
        (&self.re[a..a + self.taps], &self.im[a..a + self.taps])
    }
}

pub(super) fn bank(rate: V27terRate) -> Bank {
    // 6.4 symbols at 1600 baud, 7.2 at 1200 (multiples of 8 for the dot products).
    let taps = match rate {
        V27terRate::Bps2400 => 48,
        V27terRate::Bps4800 => 32,
    };
    let sps = rate.samples_per_symbol();
    let centre = taps as f64 / 2.0 - 0.5;
    let half = centre / sps;
    let w0 = std::f64::consts::TAU * CARRIER_HZ as f64 / 8000.0;
    let dc: f64 = (0..taps)
        .map(|k| pulse((k as f64 - centre) / sps, half))
        .sum();
    let mut re = vec![0f32; (PHASES + 1) * taps];
    let mut im = vec![0f32; (PHASES + 1) * taps];
    for p in 0..=PHASES {
        let d = p as f64 / PHASES as f64;
        for k in 0..taps {
            let t = k as f64 - d;
            let g = 2.0 * pulse((t - centre) / sps, half) / dc;
            let slot = p * taps + taps - 1 - k;
            re[slot] = (g * (w0 * k as f64).cos()) as f32;
            im[slot] = (g * (w0 * k as f64).sin()) as f32;
        }
    }
    // The output power for V.27ter's own signal: data and reversals, through the
    // transmitter's pulse (continuous, unit power per symbol) and these taps (phase 0).
    let tx = |t: f64| pulse(t / sps, TX_SPAN as f64 / 2.0);
    let rx: Vec<f64> = (0..taps)
        .map(|k| pulse((k as f64 - centre) / sps, half) / dc)
        .collect();
    // On a grid of `STEP` samples; every argument below is a grid point (an integer number
    // of samples from one), so the pulse and the reversal signal are tabulated once.
    const STEP: f64 = 0.125;
    const PER: usize = 8; // grid points per sample
    let span = TX_SPAN as f64 * sps / 2.0;
    // Data: ∫|tx * rx|² over ∫|tx|². tx at −span − taps + i·STEP.
    let t0 = -span - taps as f64;
    let tx_tab: Vec<f64> = (0..((2.0 * span + 2.0 * taps as f64) / STEP) as usize + 1)
        .map(|i| tx(t0 + i as f64 * STEP))
        .collect();
    let n_data = ((2.0 * span + taps as f64) / STEP) as usize;
    let h2: f64 = (0..n_data)
        .map(|i| {
            // t = −span + i·STEP; tx(t − k) is entry i + (taps − k)·PER.
            rx.iter()
                .enumerate()
                .map(|(k, g)| g * tx_tab[i + (taps - k) * PER])
                .sum::<f64>()
                .powi(2)
        })
        .sum();
    let g2: f64 = (0..((2.0 * span) / STEP) as usize)
        .map(|i| tx_tab[i + taps * PER].powi(2))
        .sum();
    // Reversals: mean |y|² over mean |b|² across one period; rev at i·STEP.
    let rev = |t: f64| -> f64 {
        (-30i32..=30)
            .map(|m| if m % 2 == 0 { 1.0 } else { -1.0 } * tx(t - m as f64 * sps))
            .sum()
    };
    let n_rev = ((2.0 * sps) / STEP) as usize;
    let rev_tab: Vec<f64> = (0..n_rev + taps * PER + 1)
        .map(|i| rev(i as f64 * STEP))
        .collect();
    let (mut y2, mut b2) = (0.0, 0.0);
    for i in 0..n_rev {
        // conv(rev, t + taps) with t = i·STEP: Σ rx[k]·rev(t + taps − k).
        let y: f64 = rx
            .iter()
            .enumerate()
            .map(|(k, g)| g * rev_tab[i + (taps - k) * PER])
            .sum();
        y2 += y * y;
        b2 += rev_tab[i].powi(2);
    }
    Bank {
        taps,
        re,
        im,
        data_gain: (2.0 * h2 / g2) as f32,
        reversal_gain: (2.0 * y2 / b2) as f32,
    }
}

/// Samples per carrier cycle group: 1800 Hz at 8000 samples/s repeats every 40 samples.
pub(super) const CARRIER_PERIOD: usize = 40;

/// How far back (whole samples) from the newest sample an instant may lie, at most.
pub(super) const DEMOD_BACK: usize = 16;
/// Entries in [`DEMOD`]: the carrier's period, a chunk of input (≤ 256 samples) and
/// [`DEMOD_BACK`].
pub(super) const DEMOD_LEN: usize = CARRIER_PERIOD + 256 + DEMOD_BACK;

/// e^{−jω₀(n − DEMOD_BACK)}, n = 0..DEMOD_LEN: the mix to baseband for the sample `back`
/// samples before one whose index modulo the carrier's period is m, plus k, is entry
/// m + k + DEMOD_BACK − back (no modulo per instant).
pub(super) static DEMOD: LazyLock<[Complex32; DEMOD_LEN]> = LazyLock::new(|| {
    std::array::from_fn(|j| {
        let n = (j + CARRIER_PERIOD - DEMOD_BACK % CARRIER_PERIOD) % CARRIER_PERIOD;
        let w = -std::f64::consts::TAU * CARRIER_HZ as f64 / 8000.0 * n as f64;
        Complex32::new(w.cos() as f32, w.sin() as f32)
    })
});

/// Each rate's bank, built when first used.
static BANK_2400: LazyLock<Bank> = LazyLock::new(|| bank(V27terRate::Bps2400));
static BANK_4800: LazyLock<Bank> = LazyLock::new(|| bank(V27terRate::Bps4800));

/// The bank of `rate`.
pub(super) fn bank_for(rate: V27terRate) -> &'static Bank {
    match rate {
        V27terRate::Bps2400 => &BANK_2400,
        V27terRate::Bps4800 => &BANK_4800,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_filter_is_nyquist_with_the_transmitter() {
        // tx pulse (10 symbols) * rx pulse, sampled at the symbol spacing: small ISI.
        for rate in [V27terRate::Bps2400, V27terRate::Bps4800] {
            let sps = rate.samples_per_symbol();
            let b = bank_for(rate);
            let (re, im) = b.row(0);
            // Baseband rx taps (oldest-first slot → tap k), carrier removed.
            let w0 = std::f64::consts::TAU * CARRIER_HZ as f64 / 8000.0;
            let g: Vec<f64> = (0..b.taps)
                .map(|k| {
                    let s = b.taps - 1 - k;
                    let c = Complex32::new(re[s], im[s]);
                    (c * Complex32::new(
                        (w0 * k as f64).cos() as f32,
                        -(w0 * k as f64).sin() as f32,
                    ))
                    .re as f64
                })
                .collect();
            // Combined response at offsets m·T (fine grid via the continuous tx pulse).
            let resp = |t: f64| -> f64 {
                g.iter()
                    .enumerate()
                    .map(|(k, gk)| gk * pulse((t - k as f64) / sps, 5.0))
                    .sum()
            };
            // Find the peak on a fine grid.
            let (mut best, mut tp) = (0.0, 0.0);
            let mut t = 0.0;
            while t < b.taps as f64 {
                let v = resp(t);
                if v > best {
                    best = v;
                    tp = t;
                }
                t += 0.01;
            }
            let isi: f64 = (1..8)
                .flat_map(|m| [-1.0, 1.0].map(|s| resp(tp + s * m as f64 * sps).powi(2)))
                .sum();
            let db = 10.0 * (isi / (best * best)).log10();
            assert!(db < -33.0, "{rate:?}: ISI {db:.1} dB");
        }
    }

    #[test]
    fn dc_is_rejected() {
        for rate in [V27terRate::Bps2400, V27terRate::Bps4800] {
            let b = bank_for(rate);
            for p in [0, PHASES / 3, PHASES] {
                let (re, im) = b.row(p);
                let dc = (re.iter().sum::<f32>().powi(2) + im.iter().sum::<f32>().powi(2)).sqrt();
                // 2 at the carrier; DC at least 60 dB down.
                assert!(dc < 2e-3, "{rate:?} {p}: {dc}");
            }
        }
    }
}
