//! The Kaiser window (J. F. Kaiser, "Nonrecursive digital filter design using the I₀-sinh
//! window function", 1974) and the Bessel function it is built from.

/// The zeroth-order modified Bessel function of the first kind, I₀(x), by its power series
/// Σ ((x/2)^k / k!)², summed until the terms no longer change the sum (a few dozen terms
/// for the β ≤ 12 windows use).
pub fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// The Kaiser window of shape `beta` at `t` ∈ \[−1, 1\] (1 at the centre t = 0,
/// I₀(β√(1 − t²))/I₀(β)); 0 outside.
pub fn kaiser(t: f64, beta: f64) -> f64 {
    if t.abs() > 1.0 {
        return 0.0;
    }
    bessel_i0(beta * (1.0 - t * t).sqrt()) / bessel_i0(beta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_i0_matches_tabulated_values() {
        // Abramowitz & Stegun Table 9.8 (I₀(x), to 10 significant digits).
        for (x, want) in [
            (0.0, 1.0),
            (1.0, 1.266_065_878),
            (2.0, 2.279_585_302),
            (5.0, 27.239_871_82),
            (10.0, 2_815.716_628),
        ] {
            let got = bessel_i0(x);
            assert!(
                (got / want - 1.0).abs() < 1e-9,
                "I0({x}) = {got}, want {want}"
            );
            assert_eq!(bessel_i0(-x), got);
        }
    }

    #[test]
    fn kaiser_is_one_at_the_centre_symmetric_and_zero_outside() {
        for beta in [0.0, 3.0, 7.0, 9.0, 12.0] {
            assert_eq!(kaiser(0.0, beta), 1.0);
            assert!((kaiser(1.0, beta) - 1.0 / bessel_i0(beta)).abs() < 1e-15);
            assert_eq!(kaiser(1.0001, beta), 0.0);
            assert_eq!(kaiser(-3.0, beta), 0.0);
            let mut last = 1.0;
            for i in 1..=100 {
                let t = i as f64 / 100.0;
                let w = kaiser(t, beta);
                assert_eq!(w, kaiser(-t, beta));
                assert!(w <= last && w > 0.0, "β {beta}, t {t}: {w}");
                last = w;
            }
        }
        // β = 0 is the rectangular window.
        assert_eq!(kaiser(0.7, 0.0), 1.0);
    }
}
