//! The root-raised-cosine pulse: half (in the frequency domain) of a raised-cosine
//! spectrum, so that transmit and receive filters alike give zero intersymbol interference
//! together. It is the spectral shaping V.29 §2 (β = 0.5 … 0.9 allowed, T.30 modems use
//! 0.5), V.17 §3 and V.27ter §2.4 (50 % roll-off) ask of their transmitters.

use std::f64::consts::PI;

/// The root-raised-cosine pulse of roll-off `beta` ∈ (0, 1\] at `t` symbols from its
/// centre; its peak is 1 − β + 4β/π and its energy one symbol's.
pub fn rrc(t: f64, beta: f64) -> f64 {
    if t.abs() < 1e-9 {
        return 1.0 - beta + 4.0 * beta / PI;
    }
    let x = 4.0 * beta * t;
    if (x.abs() - 1.0).abs() < 1e-9 {
        let a = PI / (4.0 * beta);
        return beta / 2f64.sqrt() * ((1.0 + 2.0 / PI) * a.sin() + (1.0 - 2.0 / PI) * a.cos());
    }
    ((PI * t * (1.0 - beta)).sin() + x * (PI * t * (1.0 + beta)).cos()) / (PI * t * (1.0 - x * x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_pair_has_zero_isi_and_unit_energy() {
        // rrc ⊛ rrc is the raised cosine: 1 at t = 0 and 0 at every other whole symbol.
        let per_symbol: i32 = 40;
        for beta in [0.25, 0.5, 0.9] {
            let h: Vec<f64> = (-16 * per_symbol..=16 * per_symbol)
                .map(|i| rrc(i as f64 / per_symbol as f64, beta))
                .collect();
            let at = |lag: usize| -> f64 {
                h.iter().zip(&h[lag..]).map(|(a, b)| a * b).sum::<f64>() / per_symbol as f64
            };
            assert!((at(0) - 1.0).abs() < 2e-3, "β {beta}: energy {}", at(0));
            for s in 1..8 {
                let isi = at(s * per_symbol as usize);
                assert!(isi.abs() < 2e-3, "β {beta}: ISI at {s}: {isi}");
            }
        }
    }

    #[test]
    fn continuous_through_its_removable_points() {
        for beta in [0.25, 0.5, 0.9] {
            assert_eq!(rrc(0.0, beta), 1.0 - beta + 4.0 * beta / PI);
            for t in [0.0, 1.0 / (4.0 * beta), -1.0 / (4.0 * beta)] {
                let (a, b) = (rrc(t - 1e-6, beta), rrc(t + 1e-6, beta));
                assert!(
                    (rrc(t, beta) - (a + b) / 2.0).abs() < 1e-6,
                    "β {beta}, t {t}"
                );
            }
            assert_eq!(rrc(0.37, beta), rrc(-0.37, beta));
        }
    }
}
