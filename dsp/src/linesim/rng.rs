//! The noise source: a seeded xoshiro256** generator (Blackman & Vigna, 2018) and a
//! Box–Muller Gaussian on top of it. Written here so that a seed gives the same noise on every
//! platform and with every version of every dependency.

/// xoshiro256**: 256 bits of state, period 2^256 − 1, passes BigCrush; seeded by SplitMix64 so
/// that any `u64` (0 included) gives a good, non-zero state.
#[derive(Debug, Clone)]
pub(crate) struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    pub(crate) fn new(seed: u64) -> Self {
        // SplitMix64 (Steele, Lea & Flood) expands the seed into the four state words.
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in (0, 1]: the top 53 bits, plus one, times 2^−53. Never 0, so `ln` is finite.
    pub(crate) fn uniform_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Standard normal deviates by the Box–Muller transform: each pair of uniforms gives two
/// independent N(0, 1) values; the second is kept for the next call.
#[derive(Debug, Clone)]
pub(crate) struct Gaussian {
    rng: Xoshiro256,
    spare: Option<f64>,
}

impl Gaussian {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: Xoshiro256::new(seed),
            spare: None,
        }
    }

    pub(crate) fn next(&mut self) -> f64 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let u1 = self.rng.uniform_open0();
        let u2 = self.rng.uniform_open0();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_in_range_and_centred() {
        let mut r = Xoshiro256::new(0);
        let n = 200_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = r.uniform_open0();
            assert!(u > 0.0 && u <= 1.0);
            sum += u;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.003);
    }

    #[test]
    fn gaussian_moments() {
        let mut g = Gaussian::new(42);
        let n = 400_000;
        let (mut m1, mut m2, mut m4) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let x = g.next();
            m1 += x;
            m2 += x * x;
            m4 += x * x * x * x;
        }
        let (m1, m2, m4) = (m1 / n as f64, m2 / n as f64, m4 / n as f64);
        assert!(m1.abs() < 0.01, "mean {m1}");
        assert!((m2 - 1.0).abs() < 0.01, "variance {m2}");
        assert!(
            (m4 - 3.0).abs() < 0.06,
            "fourth moment {m4} (3 for a Gaussian)"
        );
    }

    #[test]
    fn seeds_give_different_streams() {
        let a: Vec<u64> = {
            let mut r = Xoshiro256::new(1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Xoshiro256::new(2);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_ne!(a, b);
        let mut r = Xoshiro256::new(1);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
    }
}
