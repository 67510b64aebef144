//! The portable reference kernels: plain loops, the definition the fast paths are held to.

use num_complex::Complex32;

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn dot_real_complex(h: &[f32], x: &[Complex32]) -> Complex32 {
    h.iter()
        .zip(x)
        .fold(Complex32::default(), |acc, (h, x)| acc + x * h)
}

pub fn dot_complex(w: &[Complex32], x: &[Complex32]) -> Complex32 {
    w.iter()
        .zip(x)
        .fold(Complex32::default(), |acc, (w, x)| acc + w * x)
}

pub fn lms_update(w: &mut [Complex32], g: Complex32, x: &[Complex32]) {
    for (w, x) in w.iter_mut().zip(x) {
        *w += g * x.conj();
    }
}

pub fn axpy2(acc: &mut [f32], a: f32, x: &[f32], b: f32, y: &[f32]) {
    for ((acc, x), y) in acc.iter_mut().zip(x).zip(y) {
        *acc += a * x + b * y;
    }
}

/// `x` to 16 bits, rounded half away from zero and clamped to the i16 range (NaN gives 0):
/// `f32::round` then a saturating cast, without the libm call (see `modem::common::to_i16`,
/// the same formula).
#[inline(always)]
pub fn round_i16(v: f32) -> i16 {
    let v = v.clamp(-32768.0, 32767.0);
    let t = v as i32;
    let f = v - t as f32;
    (t + (f >= 0.5) as i32 - (f <= -0.5) as i32) as i16
}

pub fn round_to_i16(x: &[f32], out: &mut [i16]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = round_i16(v);
    }
}

pub fn overlap_add(acc: &mut [f32], x: &[f32], y: &[f32], len: usize, strokes: &[super::Stroke]) {
    for s in strokes {
        let (at, p) = (s.at as usize, s.pulse as usize);
        axpy2(
            &mut acc[at..at + len],
            s.a,
            &x[p..p + len],
            s.b,
            &y[p..p + len],
        );
    }
}

/// One add-compare-select step of an 8-state trellis, the reference of
/// [`super::Isa::acs8_survivors`]: returns the branch chosen into each state and the best
/// state (the first of equal ones).
pub fn acs8(
    t: &super::Trellis8,
    metric: &mut [f32; 8],
    dist: &[f32; 8],
    cap: f32,
) -> ([u8; 8], usize) {
    let mut best = [f32::INFINITY; 8];
    let mut arg = [0u8; 8];
    for y in 0..4 {
        for n in 0..8 {
            let m = metric[t.pred[y][n] as usize] + dist[t.branch[y][n] as usize];
            if m < best[n] {
                best[n] = m;
                arg[n] = y as u8;
            }
        }
    }
    let mut min = best[0];
    let mut state = 0;
    for (n, &m) in best.iter().enumerate().skip(1) {
        if m < min {
            min = m;
            state = n;
        }
    }
    for (m, &b) in metric.iter_mut().zip(&best) {
        *m = (b - min).min(cap);
    }
    (arg, state)
}

// The receivers' kernels on complex vectors held as separate real and imaginary parts.

/// (Σ x·a, Σ x·b): a complex band-pass filter's two real dot products.
pub fn dot2_f32(x: &[f32], a: &[f32], b: &[f32]) -> (f32, f32) {
    x.iter()
        .zip(a)
        .zip(b)
        .fold((0.0, 0.0), |(p, q), ((x, a), b)| (p + x * a, q + x * b))
}

/// Σ c·y, c = cr + j·ci, y = yr + j·yi.
pub fn cdot_split(cr: &[f32], ci: &[f32], yr: &[f32], yi: &[f32]) -> Complex32 {
    let mut s = Complex32::default();
    for (((cr, ci), yr), yi) in cr.iter().zip(ci).zip(yr).zip(yi) {
        s += Complex32::new(cr * yr - ci * yi, cr * yi + ci * yr);
    }
    s
}

/// c += e·conj(y), c = cr + j·ci, y = yr + j·yi (the LMS step, e = µ·error).
pub fn lms_split(cr: &mut [f32], ci: &mut [f32], e: Complex32, yr: &[f32], yi: &[f32]) {
    for (((cr, ci), yr), yi) in cr.iter_mut().zip(ci.iter_mut()).zip(yr).zip(yi) {
        *cr += e.re * yr + e.im * yi;
        *ci += e.im * yr - e.re * yi;
    }
}

// The Viterbi decoder's survivors, by register exchange.

/// One add-compare-select step of an 8-state trellis with the survivors kept by register
/// exchange (see [`super::Isa::acs8_survivors`]).
pub fn acs8_survivors(
    t: &super::Trellis8,
    metric: &mut [f32; 8],
    dist: &[f32; 8],
    labels: &[u8; 8],
    surv: &mut super::Survivors8,
    cap: f32,
) -> usize {
    let (arg, state) = acs8(t, metric, dist, cap);
    let old = *surv;
    for n in 0..8 {
        let y = arg[n] as usize;
        let p = t.pred[y][n] as usize & 7;
        surv.label[0][n] = labels[t.branch[y][n] as usize & 7];
        for d in 1..8 {
            surv.label[d][n] = old.label[d - 1][p];
        }
        surv.origin[n] = old.origin[p];
    }
    state
}

/// The squared distances from `z` to eight points with small integer coordinates (see
/// [`super::Isa::distances8`]).
pub fn distances8(z: Complex32, re: &[i8; 8], im: &[i8; 8]) -> [f32; 8] {
    std::array::from_fn(|s| {
        let (x, y) = (z.re - re[s] as f32, z.im - im[s] as f32);
        x * x + y * y
    })
}
