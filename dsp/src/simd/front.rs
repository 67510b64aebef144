//! The QAM receivers' input recurrences — clip extension, DC blocker, power meter and the
//! carrier detector's threshold test ([`Isa::front_block`](super::Isa::front_block)) — eight
//! samples at a time.
//!
//! Per sample (the reference, [`front_ref`]): a sample on the rail is taken as 1.1 times the
//! rail (a clipped peak was beyond it); `hp = x − x₋₁ + 0.995·hp₋₁` (flushed to zero below
//! 10⁻³, so that silence never reaches denormals); `p += (hp² − p)/64` (likewise); the block
//! stops after the first sample whose `p` is below `lo` or above `hi` (the carrier comes or
//! goes there).
//!
//! Eight at a time: both recurrences are linear, so the eight outputs are the state before
//! them times the pole's powers plus the eight inputs each weighted by the pole's powers —
//! on SSE4.1 and NEON a lower-triangular matrix of them ([`front_blocks`], which the
//! compiler turns into broadcast multiply-adds), on AVX2 a log-step scan (three lane
//! permutes and multiply-adds per recurrence, [`scan_coefs`]); either way no serial chain
//! of sixteen dependent steps. The flush applies to the outputs and the state carried on
//! (not inside the eight), so results agree with the reference to rounding (tests:
//! relative 10⁻⁵ of the values and of the input's scale).

/// Where a block's results go: per sample its input (clip-extended), DC-blocked value and
/// power, newest first (sample i of n at n − 1 − i).
pub struct FrontOut<'a> {
    pub x: &'a mut [f32],
    pub hp: &'a mut [f32],
    pub power: &'a mut [f32],
}

impl<'a> FrontOut<'a> {
    /// The first `n` entries of each (a block's oldest places: where its last samples go).
    pub fn head(self, n: usize) -> FrontOut<'a> {
        FrontOut {
            x: &mut self.x[..n],
            hp: &mut self.hp[..n],
            power: &mut self.power[..n],
        }
    }
}

/// The state the recurrences carry from sample to sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrontState {
    /// The last input (after clip extension).
    pub x: f32,
    /// The DC blocker's last output.
    pub hp: f32,
    /// The power meter's last output.
    pub power: f32,
}

/// The DC blocker's pole.
pub const DC_POLE: f32 = 0.995;
/// The power meter's time constant, samples.
pub const POWER_TC: f32 = 64.0;
/// Where a sample on the rail is taken to have been, times the rail.
pub const CLIP_EXTEND: f32 = 1.1;
/// Values below this are flushed to zero.
pub const FLUSH: f32 = 1e-3;

/// `x` as f32, a sample on the rail taken as beyond it.
#[inline(always)]
fn extend(x: i16) -> f32 {
    let rail = (x as u16 ^ 0x8000).wrapping_add(1) <= 1;
    x as f32 * if rail { CLIP_EXTEND } else { 1.0 }
}

/// One sample of the reference: updates `st`, returns whether the power left [lo, hi].
#[inline(always)]
fn step(st: &mut FrontState, x: i16, lo: f32, hi: f32) -> bool {
    let x = extend(x);
    let mut hp = x - st.x + DC_POLE * st.hp;
    if hp.abs() < FLUSH {
        hp = 0.0;
    }
    let mut power = st.power + (hp * hp - st.power) * (1.0 / POWER_TC);
    if power < FLUSH {
        power = 0.0;
    }
    *st = FrontState { x, hp, power };
    power < lo || power > hi
}

/// The reference: `xs` sample by sample into `out`, stopping after the first sample whose
/// power is below `bounds.0` or above `bounds.1`. Returns the samples taken. Panics if an
/// output is shorter than `xs`.
pub fn front_ref(st: &mut FrontState, xs: &[i16], out: FrontOut<'_>, bounds: (f32, f32)) -> usize {
    let n = xs.len();
    let out = out.head(n);
    let (lo, hi) = bounds;
    for (i, &x) in xs.iter().enumerate() {
        let crossed = step(st, x, lo, hi);
        out.x[n - 1 - i] = st.x;
        out.hp[n - 1 - i] = st.hp;
        out.power[n - 1 - i] = st.power;
        if crossed {
            return i + 1;
        }
    }
    n
}

/// Powers of a pole for eight outputs at once: `m[j][k]` = g·aᵏ⁻ʲ (k ≥ j, else 0), what
/// input j adds to output k; `c[k]` = aᵏ⁺¹, what the state before does.
struct Powers8 {
    m: [[f32; 8]; 8],
    c: [f32; 8],
}

const fn powers8(a: f64, g: f64) -> Powers8 {
    let mut p = Powers8 {
        m: [[0.0; 8]; 8],
        c: [0.0; 8],
    };
    let mut k = 0;
    while k < 8 {
        let mut ak = 1.0;
        let mut i = 0;
        while i <= k {
            ak *= a;
            i += 1;
        }
        p.c[k] = ak as f32;
        let mut j = 0;
        while j <= k {
            let mut akj = g;
            let mut i = 0;
            while i < k - j {
                akj *= a;
                i += 1;
            }
            p.m[j][k] = akj as f32;
            j += 1;
        }
        k += 1;
    }
    p
}

static HP8: Powers8 = powers8(DC_POLE as f64, 1.0);
static PW8: Powers8 = powers8(1.0 - 1.0 / POWER_TC as f64, 1.0 / POWER_TC as f64);

/// A log-step scan's coefficients for pole `a` over eight lanes: `[0]`, `[1]`, `[2]` the
/// multipliers of the lanes shifted by 1, 2 and 4 (a, a², a⁴; 0 in the lanes below the
/// shift), `[3]` the state's (aᵏ⁺¹ in lane k).
pub const fn scan_coefs(a: f64) -> [[f32; 8]; 4] {
    // a^e by repeated multiplication (const).
    const fn pow(a: f64, e: usize) -> f64 {
        let (mut p, mut i) = (1.0, 0);
        while i < e {
            p *= a;
            i += 1;
        }
        p
    }
    let mut c = [[0f32; 8]; 4];
    let mut k = 0;
    while k < 8 {
        if k >= 1 {
            c[0][k] = pow(a, 1) as f32;
        }
        if k >= 2 {
            c[1][k] = pow(a, 2) as f32;
        }
        if k >= 4 {
            c[2][k] = pow(a, 4) as f32;
        }
        c[3][k] = pow(a, k + 1) as f32;
        k += 1;
    }
    c
}

/// [`scan_coefs`] of the DC blocker's pole and of the power meter's.
pub static HP_SCAN: [[f32; 8]; 4] = scan_coefs(DC_POLE as f64);
pub static PW_SCAN: [[f32; 8]; 4] = scan_coefs(1.0 - 1.0 / POWER_TC as f64);

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// [`front_ref`] eight samples at a time (the rest, fewer than eight, by the reference).
/// `FMA`: multiply-adds fused (only where the ISA has them: elsewhere `mul_add` is a
/// library call). Written for the ISA wrappers to instantiate with their features enabled,
/// where the compiler turns each `[f32; 8]` loop into one or two vector instructions.
#[allow(clippy::needless_range_loop)] // lanes by index, as the matrix is written
#[inline(always)]
pub fn front_blocks<const FMA: bool>(
    st: &mut FrontState,
    xs: &[i16],
    out: FrontOut<'_>,
    bounds: (f32, f32),
) -> usize {
    let n = xs.len();
    let out = out.head(n);
    let (lo, hi) = bounds;
    // (Opaque to the optimiser: with the powers' values and zeros known it unrolls the
    // products into scalar multiply-adds instead of eight vector ones each.)
    let (hp8, pw8) = std::hint::black_box((&HP8, &PW8));
    let mut i = 0;
    while i + 8 <= n {
        let xs8: &[i16; 8] = xs[i..i + 8].try_into().expect("eight samples");
        let x: [f32; 8] = std::array::from_fn(|k| extend(xs8[k]));
        let mut d = [0f32; 8];
        d[0] = x[0] - st.x;
        for k in 1..8 {
            d[k] = x[k] - x[k - 1];
        }
        let mut hp: [f32; 8] = std::array::from_fn(|k| hp8.c[k] * st.hp);
        for j in 0..8 {
            for k in 0..8 {
                hp[k] = madd::<FMA>(hp8.m[j][k], d[j], hp[k]);
            }
        }
        for v in &mut hp {
            *v = if v.abs() < FLUSH { 0.0 } else { *v };
        }
        let s: [f32; 8] = std::array::from_fn(|k| hp[k] * hp[k]);
        let mut pw: [f32; 8] = std::array::from_fn(|k| pw8.c[k] * st.power);
        for j in 0..8 {
            for k in 0..8 {
                pw[k] = madd::<FMA>(pw8.m[j][k], s[j], pw[k]);
            }
        }
        let mut crossed = 0u32;
        for (k, v) in pw.iter_mut().enumerate() {
            *v = if *v < FLUSH { 0.0 } else { *v };
            crossed |= ((*v < lo || *v > hi) as u32) << k;
        }
        // Newest first: sample i + k at n − 1 − i − k.
        let at = n - 8 - i;
        let (xo, ho, po): (&mut [f32; 8], &mut [f32; 8], &mut [f32; 8]) = (
            (&mut out.x[at..at + 8]).try_into().expect("eight"),
            (&mut out.hp[at..at + 8]).try_into().expect("eight"),
            (&mut out.power[at..at + 8]).try_into().expect("eight"),
        );
        for k in 0..8 {
            xo[7 - k] = x[k];
            ho[7 - k] = hp[k];
            po[7 - k] = pw[k];
        }
        let take = if crossed != 0 {
            crossed.trailing_zeros() as usize + 1
        } else {
            8
        };
        *st = FrontState {
            x: x[take - 1],
            hp: hp[take - 1],
            power: pw[take - 1],
        };
        i += take;
        if crossed != 0 {
            return i;
        }
    }
    i + front_ref(st, &xs[i..], out.head(n - i), bounds)
}

#[cfg(test)]
mod tests {
    use super::super::Isa;
    use super::*;

    /// Equal to rounding: relative to the values, and to the input's scale `x` (the DC
    /// blocker's output is a difference of inputs: its rounding is the inputs' size).
    fn close(a: f32, b: f32, x: f32) -> bool {
        (a - b).abs() <= 1e-5 * a.abs().max(b.abs()) + 1e-5 * x + 2e-3
    }

    /// Signals for the tests: a tone at a level, silence, clipping, steps.
    fn signal(kind: u32, n: usize, seed: &mut u64) -> Vec<i16> {
        (0..n)
            .map(|i| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((*seed >> 33) as i32 % 64 - 32) as f32;
                let t = i as f32;
                let v = match kind {
                    0 => 3000.0 * (t * 0.7).sin() + noise,
                    1 => 0.0,
                    2 => 60000.0 * (t * 0.3).sin(),
                    3 => 200.0 + noise * 0.01,
                    4 => (t * 37.0).sin() * 2.0,
                    _ => 8000.0 * (t * 0.05).sin() * (t / 400.0),
                };
                v.clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    #[test]
    fn front_block_matches_the_reference() {
        let mut seed = 7u64;
        for isa in Isa::available() {
            for kind in 0..6 {
                for n in [0, 1, 7, 8, 9, 15, 16, 17, 64, 160, 192] {
                    let xs = signal(kind, n, &mut seed);
                    // Thresholds that never cross, and ones that the signals cross.
                    for (lo, hi) in [
                        (f32::NEG_INFINITY, f32::INFINITY),
                        (f32::NEG_INFINITY, 2e5),
                        (1e4, f32::INFINITY),
                    ] {
                        let start = FrontState {
                            x: 10.0,
                            hp: -40.0,
                            power: 3e4,
                        };
                        let (mut a, mut b) = (start, start);
                        let [mut ax, mut ah, mut ap] = [0; 3].map(|_| vec![f32::NAN; n]);
                        let [mut bx, mut bh, mut bp] = [0; 3].map(|_| vec![-1e30f32; n]);
                        let out = |x, hp, power| FrontOut { x, hp, power };
                        let ta = front_ref(&mut a, &xs, out(&mut ax, &mut ah, &mut ap), (lo, hi));
                        let tb =
                            isa.front_block(&mut b, &xs, out(&mut bx, &mut bh, &mut bp), (lo, hi));
                        let what = format!("{} kind {kind} n {n} lo {lo} hi {hi}", isa.name());
                        assert_eq!(ta, tb, "{what}: taken");
                        let x = xs
                            .iter()
                            .map(|&v| (v as f32).abs() * 1.1)
                            .fold(100f32, f32::max);
                        for i in n - ta..n {
                            assert_eq!(ax[i], bx[i], "{what}: x at {i}");
                            let (h, p) = ((ah[i], bh[i]), (ap[i], bp[i]));
                            assert!(close(h.0, h.1, x), "{what}: hp at {i} {h:?}");
                            assert!(close(p.0, p.1, 3.0 * x * x), "{what}: power at {i} {p:?}");
                        }
                        assert_eq!(a.x, b.x, "{what}");
                        assert!(close(a.hp, b.hp, x), "{what}");
                        assert!(close(a.power, b.power, 3.0 * x * x), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn silence_decays_to_zero_not_denormals() {
        for isa in Isa::available() {
            let mut st = FrontState {
                x: 0.0,
                hp: 500.0,
                power: 1e5,
            };
            let xs = [0i16; 192];
            let mut o = [[0f32; 192]; 3];
            for _ in 0..400 {
                let [x, hp, power] = &mut o;
                let out = FrontOut { x, hp, power };
                let all = (f32::NEG_INFINITY, f32::INFINITY);
                assert_eq!(isa.front_block(&mut st, &xs, out, all), 192);
            }
            assert_eq!((st.hp, st.power), (0.0, 0.0), "{}", isa.name());
        }
    }
}
