//! SSE4.1 and AVX2+FMA kernels. Every function requires its feature: callers hold the
//! matching token (see the parent module), which is why calling them is sound.
//!
//! Complex slices are read as interleaved floats (re, im, re, im, …: `Complex32` is
//! `#[repr(C)]`). Products of complex vectors use two accumulators: `a·b` elementwise
//! (re·re, im·im) and `a·swap(b)` (re·im, im·re); the real part is the even lanes minus
//! the odd lanes of the first, the imaginary part the sum of the second.

use std::arch::x86_64::*;

use num_complex::Complex32;

use super::front::{FrontOut, FrontState};

#[inline(always)]
fn as_f32(x: &[Complex32]) -> &[f32] {
    // SAFETY: Complex32 is #[repr(C)] { re: f32, im: f32 }: two f32s, no padding.
    unsafe { std::slice::from_raw_parts(x.as_ptr() as *const f32, x.len() * 2) }
}

#[inline(always)]
fn as_f32_mut(x: &mut [Complex32]) -> &mut [f32] {
    // SAFETY: as above; the borrow is unique.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr() as *mut f32, x.len() * 2) }
}

/// `work` with AVX2 and FMA enabled for what is inlined into it. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn compiled_for_avx2<W: super::Compiled>(work: W) -> W::Out {
    work.run()
}

#[target_feature(enable = "sse4.1")]
unsafe fn hsum128(v: __m128) -> f32 {
    let s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0b01));
    _mm_cvtss_f32(s)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn hsum256(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps(v, 1);
    unsafe { hsum128(_mm_add_ps(lo, hi)) }
}

/// SSE4.1 Σ a·b. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn dot_f32_sse41(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc0 = _mm_setzero_ps();
    let mut acc1 = _mm_setzero_ps();
    let mut i = 0;
    unsafe {
        while i + 8 <= n {
            acc0 = _mm_add_ps(
                acc0,
                _mm_mul_ps(
                    _mm_loadu_ps(a.as_ptr().add(i)),
                    _mm_loadu_ps(b.as_ptr().add(i)),
                ),
            );
            acc1 = _mm_add_ps(
                acc1,
                _mm_mul_ps(
                    _mm_loadu_ps(a.as_ptr().add(i + 4)),
                    _mm_loadu_ps(b.as_ptr().add(i + 4)),
                ),
            );
            i += 8;
        }
        let mut s = hsum128(_mm_add_ps(acc0, acc1));
        while i < n {
            s += a[i] * b[i];
            i += 1;
        }
        s
    }
}

/// AVX2+FMA Σ a·b. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut i = 0;
    unsafe {
        while i + 16 <= n {
            acc0 = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(i)),
                _mm256_loadu_ps(b.as_ptr().add(i)),
                acc0,
            );
            acc1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(i + 8)),
                _mm256_loadu_ps(b.as_ptr().add(i + 8)),
                acc1,
            );
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(i)),
                _mm256_loadu_ps(b.as_ptr().add(i)),
                acc0,
            );
            i += 8;
        }
        let mut s = hsum256(_mm256_add_ps(acc0, acc1));
        while i < n {
            s += a[i] * b[i];
            i += 1;
        }
        s
    }
}

/// SSE4.1 Σ h·x (real taps, complex samples). Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn dot_real_complex_sse41(h: &[f32], x: &[Complex32]) -> Complex32 {
    let n = h.len().min(x.len());
    let xf = as_f32(x);
    let mut acc = _mm_setzero_ps(); // re, im, re, im
    let mut i = 0;
    unsafe {
        while i + 2 <= n {
            // h0 h0 h1 h1
            let hh = _mm_castsi128_ps(_mm_loadl_epi64(h.as_ptr().add(i) as *const __m128i));
            let hh = _mm_unpacklo_ps(hh, hh);
            acc = _mm_add_ps(acc, _mm_mul_ps(hh, _mm_loadu_ps(xf.as_ptr().add(2 * i))));
            i += 2;
        }
        let mut v = [0f32; 4];
        _mm_storeu_ps(v.as_mut_ptr(), acc);
        let mut s = Complex32::new(v[0] + v[2], v[1] + v[3]);
        while i < n {
            s += x[i] * h[i];
            i += 1;
        }
        s
    }
}

/// AVX2 Σ h·x (real taps, complex samples). Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_real_complex_avx2(h: &[f32], x: &[Complex32]) -> Complex32 {
    let n = h.len().min(x.len());
    let xf = as_f32(x);
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    // Duplicate each tap: h0 h0 h1 h1 h2 h2 h3 h3.
    let dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    let mut i = 0;
    unsafe {
        while i + 8 <= n {
            let h8 = _mm256_loadu_ps(h.as_ptr().add(i));
            let hlo = _mm256_permutevar8x32_ps(h8, dup);
            let hhi = _mm256_permutevar8x32_ps(_mm256_permute2f128_ps(h8, h8, 0x11), dup);
            acc0 = _mm256_fmadd_ps(hlo, _mm256_loadu_ps(xf.as_ptr().add(2 * i)), acc0);
            acc1 = _mm256_fmadd_ps(hhi, _mm256_loadu_ps(xf.as_ptr().add(2 * i + 8)), acc1);
            i += 8;
        }
        let acc = _mm256_add_ps(acc0, acc1);
        let mut v = [0f32; 8];
        _mm256_storeu_ps(v.as_mut_ptr(), acc);
        let mut s = Complex32::new(v[0] + v[2] + v[4] + v[6], v[1] + v[3] + v[5] + v[7]);
        while i < n {
            s += x[i] * h[i];
            i += 1;
        }
        s
    }
}

/// SSE4.1 Σ w·x (complex). Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn dot_complex_sse41(w: &[Complex32], x: &[Complex32]) -> Complex32 {
    let n = w.len().min(x.len());
    let (wf, xf) = (as_f32(w), as_f32(x));
    let mut p = _mm_setzero_ps(); // wr·xr, wi·xi
    let mut q = _mm_setzero_ps(); // wr·xi, wi·xr
    let mut i = 0;
    unsafe {
        while i + 2 <= n {
            let a = _mm_loadu_ps(wf.as_ptr().add(2 * i));
            let b = _mm_loadu_ps(xf.as_ptr().add(2 * i));
            p = _mm_add_ps(p, _mm_mul_ps(a, b));
            q = _mm_add_ps(q, _mm_mul_ps(a, _mm_shuffle_ps(b, b, 0b10_11_00_01)));
            i += 2;
        }
        let mut pv = [0f32; 4];
        let mut qv = [0f32; 4];
        _mm_storeu_ps(pv.as_mut_ptr(), p);
        _mm_storeu_ps(qv.as_mut_ptr(), q);
        let mut s = Complex32::new(pv[0] - pv[1] + pv[2] - pv[3], qv[0] + qv[1] + qv[2] + qv[3]);
        while i < n {
            s += w[i] * x[i];
            i += 1;
        }
        s
    }
}

/// AVX2 Σ w·x (complex). Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_complex_avx2(w: &[Complex32], x: &[Complex32]) -> Complex32 {
    let n = w.len().min(x.len());
    let (wf, xf) = (as_f32(w), as_f32(x));
    let mut p = _mm256_setzero_ps();
    let mut q = _mm256_setzero_ps();
    let mut i = 0;
    unsafe {
        while i + 4 <= n {
            let a = _mm256_loadu_ps(wf.as_ptr().add(2 * i));
            let b = _mm256_loadu_ps(xf.as_ptr().add(2 * i));
            p = _mm256_fmadd_ps(a, b, p);
            q = _mm256_fmadd_ps(a, _mm256_permute_ps(b, 0b10_11_00_01), q);
            i += 4;
        }
        // Real: even lanes minus odd lanes of p; imaginary: all lanes of q.
        let sign = _mm256_setr_ps(1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0);
        let re = hsum256(_mm256_mul_ps(p, sign));
        let im = hsum256(q);
        let mut s = Complex32::new(re, im);
        while i < n {
            s += w[i] * x[i];
            i += 1;
        }
        s
    }
}

/// SSE4.1 w += g·conj(x). Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn lms_update_sse41(w: &mut [Complex32], g: Complex32, x: &[Complex32]) {
    let n = w.len().min(x.len());
    let xf = as_f32(x);
    let wf = as_f32_mut(w);
    // g·conj(x) = (gr·xr + gi·xi) + j(gi·xr − gr·xi)
    //           = [gr, gi]·[xr, xr] + [gi, −gr]·[xi, xi]
    let g1 = _mm_setr_ps(g.re, g.im, g.re, g.im);
    let g2 = _mm_setr_ps(g.im, -g.re, g.im, -g.re);
    let mut i = 0;
    unsafe {
        while i + 2 <= n {
            let b = _mm_loadu_ps(xf.as_ptr().add(2 * i));
            let xr = _mm_moveldup_ps(b);
            let xi = _mm_movehdup_ps(b);
            let d = _mm_add_ps(_mm_mul_ps(g1, xr), _mm_mul_ps(g2, xi));
            let p = wf.as_mut_ptr().add(2 * i);
            _mm_storeu_ps(p, _mm_add_ps(_mm_loadu_ps(p), d));
            i += 2;
        }
    }
    while i < n {
        w[i] += g * x[i].conj();
        i += 1;
    }
}

/// AVX2 w += g·conj(x). Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn lms_update_avx2(w: &mut [Complex32], g: Complex32, x: &[Complex32]) {
    let n = w.len().min(x.len());
    let xf = as_f32(x);
    let wf = as_f32_mut(w);
    let g1 = _mm256_setr_ps(g.re, g.im, g.re, g.im, g.re, g.im, g.re, g.im);
    let g2 = _mm256_setr_ps(g.im, -g.re, g.im, -g.re, g.im, -g.re, g.im, -g.re);
    let mut i = 0;
    unsafe {
        while i + 4 <= n {
            let b = _mm256_loadu_ps(xf.as_ptr().add(2 * i));
            let xr = _mm256_moveldup_ps(b);
            let xi = _mm256_movehdup_ps(b);
            let p = wf.as_mut_ptr().add(2 * i);
            let d = _mm256_fmadd_ps(g2, xi, _mm256_fmadd_ps(g1, xr, _mm256_loadu_ps(p)));
            _mm256_storeu_ps(p, d);
            i += 4;
        }
    }
    while i < n {
        w[i] += g * x[i].conj();
        i += 1;
    }
}
/// SSE4.1 acc += a·x + b·y. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn axpy2_sse41(acc: &mut [f32], a: f32, x: &[f32], b: f32, y: &[f32]) {
    let n = acc.len().min(x.len()).min(y.len());
    let (va, vb) = (_mm_set1_ps(a), _mm_set1_ps(b));
    let mut i = 0;
    unsafe {
        while i + 4 <= n {
            let p = acc.as_mut_ptr().add(i);
            let t = _mm_add_ps(
                _mm_mul_ps(va, _mm_loadu_ps(x.as_ptr().add(i))),
                _mm_mul_ps(vb, _mm_loadu_ps(y.as_ptr().add(i))),
            );
            _mm_storeu_ps(p, _mm_add_ps(_mm_loadu_ps(p), t));
            i += 4;
        }
    }
    while i < n {
        acc[i] += a * x[i] + b * y[i];
        i += 1;
    }
}

/// AVX2 acc += a·x + b·y (fused). Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn axpy2_avx2(acc: &mut [f32], a: f32, x: &[f32], b: f32, y: &[f32]) {
    let n = acc.len().min(x.len()).min(y.len());
    let (va, vb) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
    let mut i = 0;
    unsafe {
        while i + 8 <= n {
            let p = acc.as_mut_ptr().add(i);
            let t = _mm256_fmadd_ps(vb, _mm256_loadu_ps(y.as_ptr().add(i)), _mm256_loadu_ps(p));
            _mm256_storeu_ps(
                p,
                _mm256_fmadd_ps(va, _mm256_loadu_ps(x.as_ptr().add(i)), t),
            );
            i += 8;
        }
    }
    while i < n {
        acc[i] += a * x[i] + b * y[i];
        i += 1;
    }
}

// ---------------------------------------------------------------------------------------
// The receivers' kernels on split (real, imaginary) arrays: 8 lanes (AVX2) or 2 × 4 (SSE)
// per step, the rest scalar.

/// SSE4.1 (Σ x·a, Σ x·b). Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
#[inline]
pub unsafe fn dot2_f32_sse41(x: &[f32], a: &[f32], b: &[f32]) -> (f32, f32) {
    let n = x.len().min(a.len()).min(b.len());
    let (mut p0, mut p1, mut q0, mut q1) = (
        _mm_setzero_ps(),
        _mm_setzero_ps(),
        _mm_setzero_ps(),
        _mm_setzero_ps(),
    );
    let mut i = 0;
    unsafe {
        let (xp, ap, bp) = (x.as_ptr(), a.as_ptr(), b.as_ptr());
        while i + 8 <= n {
            let x0 = _mm_loadu_ps(xp.add(i));
            let x1 = _mm_loadu_ps(xp.add(i + 4));
            p0 = _mm_add_ps(p0, _mm_mul_ps(x0, _mm_loadu_ps(ap.add(i))));
            p1 = _mm_add_ps(p1, _mm_mul_ps(x1, _mm_loadu_ps(ap.add(i + 4))));
            q0 = _mm_add_ps(q0, _mm_mul_ps(x0, _mm_loadu_ps(bp.add(i))));
            q1 = _mm_add_ps(q1, _mm_mul_ps(x1, _mm_loadu_ps(bp.add(i + 4))));
            i += 8;
        }
        let mut p = hsum128(_mm_add_ps(p0, p1));
        let mut q = hsum128(_mm_add_ps(q0, q1));
        while i < n {
            p += x[i] * a[i];
            q += x[i] * b[i];
            i += 1;
        }
        (p, q)
    }
}

/// AVX2+FMA (Σ x·a, Σ x·b). Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn dot2_f32_avx2(x: &[f32], a: &[f32], b: &[f32]) -> (f32, f32) {
    let n = x.len().min(a.len()).min(b.len());
    let (mut p0, mut p1, mut q0, mut q1) = (
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
    );
    let mut i = 0;
    unsafe {
        let (xp, ap, bp) = (x.as_ptr(), a.as_ptr(), b.as_ptr());
        while i + 16 <= n {
            let x0 = _mm256_loadu_ps(xp.add(i));
            let x1 = _mm256_loadu_ps(xp.add(i + 8));
            p0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(ap.add(i)), p0);
            p1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(ap.add(i + 8)), p1);
            q0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(bp.add(i)), q0);
            q1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(bp.add(i + 8)), q1);
            i += 16;
        }
        if i + 8 <= n {
            let x0 = _mm256_loadu_ps(xp.add(i));
            p0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(ap.add(i)), p0);
            q0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(bp.add(i)), q0);
            i += 8;
        }
        let mut p = hsum256(_mm256_add_ps(p0, p1));
        let mut q = hsum256(_mm256_add_ps(q0, q1));
        while i < n {
            p += x[i] * a[i];
            q += x[i] * b[i];
            i += 1;
        }
        (p, q)
    }
}

/// SSE4.1 Σ c·y on split arrays. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
#[inline]
pub unsafe fn cdot_split_sse41(cr: &[f32], ci: &[f32], yr: &[f32], yi: &[f32]) -> Complex32 {
    let n = cr.len().min(ci.len()).min(yr.len()).min(yi.len());
    let (mut re, mut im) = (_mm_setzero_ps(), _mm_setzero_ps());
    let mut i = 0;
    unsafe {
        while i + 4 <= n {
            let a = _mm_loadu_ps(cr.as_ptr().add(i));
            let b = _mm_loadu_ps(ci.as_ptr().add(i));
            let u = _mm_loadu_ps(yr.as_ptr().add(i));
            let v = _mm_loadu_ps(yi.as_ptr().add(i));
            re = _mm_add_ps(re, _mm_sub_ps(_mm_mul_ps(a, u), _mm_mul_ps(b, v)));
            im = _mm_add_ps(im, _mm_add_ps(_mm_mul_ps(a, v), _mm_mul_ps(b, u)));
            i += 4;
        }
        let mut s = Complex32::new(hsum128(re), hsum128(im));
        while i < n {
            s += Complex32::new(cr[i] * yr[i] - ci[i] * yi[i], cr[i] * yi[i] + ci[i] * yr[i]);
            i += 1;
        }
        s
    }
}

/// AVX2+FMA Σ c·y on split arrays. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn cdot_split_avx2(cr: &[f32], ci: &[f32], yr: &[f32], yi: &[f32]) -> Complex32 {
    let n = cr.len().min(ci.len()).min(yr.len()).min(yi.len());
    let (mut re0, mut im0) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut re1, mut im1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    unsafe {
        while i + 8 <= n {
            let a = _mm256_loadu_ps(cr.as_ptr().add(i));
            let b = _mm256_loadu_ps(ci.as_ptr().add(i));
            let u = _mm256_loadu_ps(yr.as_ptr().add(i));
            let v = _mm256_loadu_ps(yi.as_ptr().add(i));
            re0 = _mm256_fmadd_ps(a, u, re0);
            re1 = _mm256_fnmadd_ps(b, v, re1);
            im0 = _mm256_fmadd_ps(a, v, im0);
            im1 = _mm256_fmadd_ps(b, u, im1);
            i += 8;
        }
        let mut s = Complex32::new(
            hsum256(_mm256_add_ps(re0, re1)),
            hsum256(_mm256_add_ps(im0, im1)),
        );
        while i < n {
            s += Complex32::new(cr[i] * yr[i] - ci[i] * yi[i], cr[i] * yi[i] + ci[i] * yr[i]);
            i += 1;
        }
        s
    }
}

/// SSE4.1 c += e·conj(y) on split arrays. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
#[inline]
pub unsafe fn lms_split_sse41(
    cr: &mut [f32],
    ci: &mut [f32],
    e: Complex32,
    yr: &[f32],
    yi: &[f32],
) {
    let n = cr.len().min(ci.len()).min(yr.len()).min(yi.len());
    let (er, ei) = (_mm_set1_ps(e.re), _mm_set1_ps(e.im));
    let mut i = 0;
    unsafe {
        while i + 4 <= n {
            let u = _mm_loadu_ps(yr.as_ptr().add(i));
            let v = _mm_loadu_ps(yi.as_ptr().add(i));
            let a = _mm_loadu_ps(cr.as_ptr().add(i));
            let b = _mm_loadu_ps(ci.as_ptr().add(i));
            let a = _mm_add_ps(a, _mm_add_ps(_mm_mul_ps(er, u), _mm_mul_ps(ei, v)));
            let b = _mm_add_ps(b, _mm_sub_ps(_mm_mul_ps(ei, u), _mm_mul_ps(er, v)));
            _mm_storeu_ps(cr.as_mut_ptr().add(i), a);
            _mm_storeu_ps(ci.as_mut_ptr().add(i), b);
            i += 4;
        }
    }
    while i < n {
        cr[i] += e.re * yr[i] + e.im * yi[i];
        ci[i] += e.im * yr[i] - e.re * yi[i];
        i += 1;
    }
}

/// AVX2+FMA c += e·conj(y) on split arrays. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn lms_split_avx2(cr: &mut [f32], ci: &mut [f32], e: Complex32, yr: &[f32], yi: &[f32]) {
    let n = cr.len().min(ci.len()).min(yr.len()).min(yi.len());
    let (er, ei) = (_mm256_set1_ps(e.re), _mm256_set1_ps(e.im));
    let mut i = 0;
    unsafe {
        while i + 8 <= n {
            let u = _mm256_loadu_ps(yr.as_ptr().add(i));
            let v = _mm256_loadu_ps(yi.as_ptr().add(i));
            let a = _mm256_loadu_ps(cr.as_ptr().add(i));
            let b = _mm256_loadu_ps(ci.as_ptr().add(i));
            let a = _mm256_fmadd_ps(er, u, _mm256_fmadd_ps(ei, v, a));
            let b = _mm256_fmadd_ps(ei, u, _mm256_fnmadd_ps(er, v, b));
            _mm256_storeu_ps(cr.as_mut_ptr().add(i), a);
            _mm256_storeu_ps(ci.as_mut_ptr().add(i), b);
            i += 8;
        }
    }
    while i < n {
        cr[i] += e.re * yr[i] + e.im * yi[i];
        ci[i] += e.im * yr[i] - e.re * yi[i];
        i += 1;
    }
}

/// SSE4.1 [`axpy2_sse41`] of every stroke in turn (see `Isa::overlap_add`).
#[target_feature(enable = "sse4.1")]
pub unsafe fn overlap_add_sse41(
    acc: &mut [f32],
    x: &[f32],
    y: &[f32],
    len: usize,
    strokes: &[super::Stroke],
) {
    if !len.is_multiple_of(4) {
        for s in strokes {
            let (at, p) = (s.at as usize, s.pulse as usize);
            // SAFETY: the caller holds the SSE4.1 token.
            unsafe {
                axpy2_sse41(
                    &mut acc[at..at + len],
                    s.a,
                    &x[p..p + len],
                    s.b,
                    &y[p..p + len],
                )
            };
        }
        return;
    }
    for s in strokes {
        let (at, p) = (s.at as usize, s.pulse as usize);
        assert!(at + len <= acc.len() && p + len <= x.len() && p + len <= y.len());
        let (va, vb) = (_mm_set1_ps(s.a), _mm_set1_ps(s.b));
        // SAFETY: at + len and p + len are within the slices (checked above).
        unsafe {
            let (q, xp, yp) = (
                acc.as_mut_ptr().add(at),
                x.as_ptr().add(p),
                y.as_ptr().add(p),
            );
            let mut i = 0;
            while i < len {
                let t = _mm_add_ps(
                    _mm_mul_ps(va, _mm_loadu_ps(xp.add(i))),
                    _mm_mul_ps(vb, _mm_loadu_ps(yp.add(i))),
                );
                _mm_storeu_ps(q.add(i), _mm_add_ps(_mm_loadu_ps(q.add(i)), t));
                i += 4;
            }
        }
    }
}

/// AVX2 [`axpy2_avx2`] of every stroke in turn (see `Isa::overlap_add`). Requires AVX2
/// and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn overlap_add_avx2(
    acc: &mut [f32],
    x: &[f32],
    y: &[f32],
    len: usize,
    strokes: &[super::Stroke],
) {
    if !len.is_multiple_of(8) {
        for s in strokes {
            let (at, p) = (s.at as usize, s.pulse as usize);
            // SAFETY: the caller holds the AVX2 token.
            unsafe {
                axpy2_avx2(
                    &mut acc[at..at + len],
                    s.a,
                    &x[p..p + len],
                    s.b,
                    &y[p..p + len],
                )
            };
        }
        return;
    }
    // Measured: by output vector (below) is faster where strokes are at least 4 samples
    // apart on average (V.27ter's 5 and 6⅔ samples a symbol: −6 to −7 % CPU), slower where
    // they are closer (V.17 and V.29, 3⅓: +18 %, the varying number of strokes per vector
    // mispredicted).
    let m = strokes.len();
    if m > 1 && (strokes[m - 1].at as usize).saturating_sub(strokes[0].at as usize) >= 4 * (m - 1) {
        // SAFETY: the caller holds the AVX2 token.
        if unsafe { overlap_add_by_vector_avx2(acc, x, y, len, strokes) } {
            return;
        }
    }
    for s in strokes {
        let (at, p) = (s.at as usize, s.pulse as usize);
        assert!(at + len <= acc.len() && p + len <= x.len() && p + len <= y.len());
        let (va, vb) = (_mm256_set1_ps(s.a), _mm256_set1_ps(s.b));
        // SAFETY: at + len and p + len are within the slices (checked above).
        unsafe {
            let (q, xp, yp) = (
                acc.as_mut_ptr().add(at),
                x.as_ptr().add(p),
                y.as_ptr().add(p),
            );
            let mut i = 0;
            while i < len {
                let t = _mm256_fmadd_ps(vb, _mm256_loadu_ps(yp.add(i)), _mm256_loadu_ps(q.add(i)));
                _mm256_storeu_ps(q.add(i), _mm256_fmadd_ps(va, _mm256_loadu_ps(xp.add(i)), t));
                i += 8;
            }
        }
    }
}

/// [`overlap_add_avx2`] output vector by output vector, where the strokes are in order of
/// place and each on an 8-sample boundary (`len` a multiple of 8); false (nothing done)
/// where they are not. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn overlap_add_by_vector_avx2(
    acc: &mut [f32],
    x: &[f32],
    y: &[f32],
    len: usize,
    strokes: &[super::Stroke],
) -> bool {
    // Strokes in order of place, each on an 8-sample boundary (the shapers' blocks): the
    // sums are made output vector by output vector in a register, every stroke over it in
    // turn — the same operations in the same order for each sample as stroke by stroke,
    // without a load and store of the accumulator per stroke, whose chains through memory
    // (each stroke's store read back by the next) bound the stroke-by-stroke loop.
    let mut fits = true;
    let mut last = 0;
    for s in strokes {
        let (at, p) = (s.at as usize, s.pulse as usize);
        assert!(at + len <= acc.len() && p + len <= x.len() && p + len <= y.len());
        fits &= at.is_multiple_of(8) && at >= last;
        last = at;
    }
    if fits && !strokes.is_empty() {
        let m = strokes.len();
        let (first, end) = (strokes[0].at as usize, strokes[m - 1].at as usize + len);
        let mut lo = 0;
        let mut pos = first;
        // SAFETY: the caller holds the AVX2 token; for every stroke s taken at output `pos`,
        // s.at ≤ pos < s.at + len, so pos + 8 ≤ s.at + len ≤ acc.len() and the pulse's
        // offset pos − s.at + 8 ≤ len stays inside x and y (checked above).
        unsafe {
            while pos < end {
                while (strokes[lo].at as usize) + len <= pos {
                    lo += 1;
                }
                let q = acc.as_mut_ptr().add(pos);
                let mut v = _mm256_loadu_ps(q);
                let mut k = lo;
                while k < m && (strokes[k].at as usize) <= pos {
                    let s = &strokes[k];
                    let off = s.pulse as usize + pos - s.at as usize;
                    let t = _mm256_fmadd_ps(
                        _mm256_set1_ps(s.b),
                        _mm256_loadu_ps(y.as_ptr().add(off)),
                        v,
                    );
                    v = _mm256_fmadd_ps(
                        _mm256_set1_ps(s.a),
                        _mm256_loadu_ps(x.as_ptr().add(off)),
                        t,
                    );
                    k += 1;
                }
                _mm256_storeu_ps(q, v);
                pos += 8;
            }
        }
        return true;
    }
    false
}

/// SSE4.1 `scalar::round_i16` of 4 lanes: clamp, truncate, one away from zero when the
/// fraction reaches ½ (exact, as in the scalar formula), NaN lanes 0.
#[inline]
#[target_feature(enable = "sse4.1")]
fn round_i16x4(v: __m128) -> __m128i {
    let ordered = _mm_castps_si128(_mm_cmpord_ps(v, v));
    // max/min with the bound first keep a NaN (masked to 0 below).
    let v = _mm_min_ps(_mm_set1_ps(32767.0), _mm_max_ps(_mm_set1_ps(-32768.0), v));
    let t = _mm_and_si128(_mm_cvttps_epi32(v), ordered);
    let f = _mm_sub_ps(v, _mm_cvtepi32_ps(t));
    let up = _mm_castps_si128(_mm_cmpge_ps(f, _mm_set1_ps(0.5)));
    let down = _mm_castps_si128(_mm_cmple_ps(f, _mm_set1_ps(-0.5)));
    _mm_add_epi32(_mm_sub_epi32(t, up), down)
}

/// SSE4.1 `scalar::round_to_i16` over the shorter length.
#[target_feature(enable = "sse4.1")]
pub unsafe fn round_to_i16_sse41(x: &[f32], out: &mut [i16]) {
    let n = x.len().min(out.len());
    let mut i = 0;
    // SAFETY: i + 8 <= n, within both slices.
    unsafe {
        while i + 8 <= n {
            let a = round_i16x4(_mm_loadu_ps(x.as_ptr().add(i)));
            let b = round_i16x4(_mm_loadu_ps(x.as_ptr().add(i + 4)));
            _mm_storeu_si128(
                out.as_mut_ptr().add(i) as *mut __m128i,
                _mm_packs_epi32(a, b),
            );
            i += 8;
        }
    }
    super::scalar::round_to_i16(&x[i..n], &mut out[i..n]);
}

/// AVX2 `scalar::round_to_i16` over the shorter length.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn round_to_i16_avx2(x: &[f32], out: &mut [i16]) {
    let n = x.len().min(out.len());
    let (lo, hi) = (_mm256_set1_ps(-32768.0), _mm256_set1_ps(32767.0));
    let (half, neg_half) = (_mm256_set1_ps(0.5), _mm256_set1_ps(-0.5));
    let mut i = 0;
    // SAFETY: i + 8 <= n, within both slices.
    unsafe {
        while i + 8 <= n {
            let v = _mm256_loadu_ps(x.as_ptr().add(i));
            let ordered = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_ORD_Q>(v, v));
            // max/min with the bound first keep a NaN (masked to 0 below).
            let v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
            let t = _mm256_and_si256(_mm256_cvttps_epi32(v), ordered);
            let f = _mm256_sub_ps(v, _mm256_cvtepi32_ps(t));
            let up = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GE_OQ>(f, half));
            let down = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(f, neg_half));
            let r = _mm256_add_epi32(_mm256_sub_epi32(t, up), down);
            let packed =
                _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256::<1>(r));
            _mm_storeu_si128(out.as_mut_ptr().add(i) as *mut __m128i, packed);
            i += 8;
        }
    }
    super::scalar::round_to_i16(&x[i..n], &mut out[i..n]);
}

// ---------------------------------------------------------------------------------------
// The receivers' kernels at a length fixed when compiled (the QAM core's 32, V.27ter's 48
// and 24): the split-array kernels above inlined with the length known, so that their
// loops unroll and the length logic and tails go (the same sums, bit for bit).

/// [`dot2_f32_sse41`] on N samples. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn dot2_fixed_sse41<const N: usize>(
    x: &[f32; N],
    a: &[f32; N],
    b: &[f32; N],
) -> (f32, f32) {
    unsafe { dot2_f32_sse41(x, a, b) }
}

/// [`dot2_f32_avx2`] on N samples. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn dot2_fixed_avx2<const N: usize>(
    x: &[f32; N],
    a: &[f32; N],
    b: &[f32; N],
) -> (f32, f32) {
    unsafe { dot2_f32_avx2(x, a, b) }
}

/// [`cdot_split_sse41`] on N taps. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn cdot_split_fixed_sse41<const N: usize>(
    cr: &[f32; N],
    ci: &[f32; N],
    yr: &[f32; N],
    yi: &[f32; N],
) -> Complex32 {
    unsafe { cdot_split_sse41(cr, ci, yr, yi) }
}

/// [`cdot_split_avx2`] on N taps. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn cdot_split_fixed_avx2<const N: usize>(
    cr: &[f32; N],
    ci: &[f32; N],
    yr: &[f32; N],
    yi: &[f32; N],
) -> Complex32 {
    unsafe { cdot_split_avx2(cr, ci, yr, yi) }
}

/// [`lms_split_sse41`] on N taps. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn lms_split_fixed_sse41<const N: usize>(
    cr: &mut [f32; N],
    ci: &mut [f32; N],
    e: Complex32,
    yr: &[f32; N],
    yi: &[f32; N],
) {
    unsafe { lms_split_sse41(cr, ci, e, yr, yi) }
}

/// [`lms_split_avx2`] on N taps. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn lms_split_fixed_avx2<const N: usize>(
    cr: &mut [f32; N],
    ci: &mut [f32; N],
    e: Complex32,
    yr: &[f32; N],
    yi: &[f32; N],
) {
    unsafe { lms_split_avx2(cr, ci, e, yr, yi) }
}

// ---------------------------------------------------------------------------------------
// The Viterbi decoder's survivors, by register exchange: the add-compare-select of
// `acs8_*` also choosing each state's predecessor and branch label, then the survivors'
// eight depths (two per register) gathered from those predecessors with byte shuffles.

/// The register exchange shared by the SSE4.1 and AVX2 kernels: `pc` the chosen
/// predecessors (bytes 0..8, below 8), `bc` the chosen branches' metric indices (ditto).
#[target_feature(enable = "sse4.1")]
unsafe fn exchange8_sse41(
    pc: __m128i,
    bc: __m128i,
    labels: &[u8; 8],
    surv: &mut super::Survivors8,
) {
    unsafe {
        let seven = _mm_set1_epi8(7);
        let pc = _mm_and_si128(pc, seven);
        let bc = _mm_and_si128(bc, seven);
        // Bytes pc, then pc + 8: the same state from the low and the high depth of a register.
        let idx = _mm_unpacklo_epi64(pc, _mm_add_epi8(pc, _mm_set1_epi8(8)));
        let lab = _mm_shuffle_epi8(_mm_loadl_epi64(labels.as_ptr() as *const __m128i), bc);
        let p = surv.label.as_mut_ptr() as *mut __m128i;
        let q0 = _mm_shuffle_epi8(_mm_loadu_si128(p), idx);
        let q1 = _mm_shuffle_epi8(_mm_loadu_si128(p.add(1)), idx);
        let q2 = _mm_shuffle_epi8(_mm_loadu_si128(p.add(2)), idx);
        let q3 = _mm_shuffle_epi8(_mm_loadu_si128(p.add(3)), idx);
        _mm_storeu_si128(p, _mm_unpacklo_epi64(lab, q0));
        _mm_storeu_si128(p.add(1), _mm_alignr_epi8::<8>(q1, q0));
        _mm_storeu_si128(p.add(2), _mm_alignr_epi8::<8>(q2, q1));
        _mm_storeu_si128(p.add(3), _mm_alignr_epi8::<8>(q3, q2));
        let o = surv.origin.as_mut_ptr() as *mut __m128i;
        _mm_storel_epi64(o, _mm_shuffle_epi8(_mm_loadl_epi64(o), pc));
    }
}

/// AVX2 [`super::Isa::acs8_survivors`]: the add-compare-select, one lane per state with
/// `vpermps` for the trellis's permutations, blending in the predecessor and branch indices
/// too, then the shared register exchange. Requires AVX2.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn acs8_survivors_avx2(
    t: &super::Trellis8,
    metric: &mut [f32; 8],
    dist: &[f32; 8],
    labels: &[u8; 8],
    surv: &mut super::Survivors8,
    cap: f32,
) -> usize {
    unsafe {
        let m = _mm256_loadu_ps(metric.as_ptr());
        let d = _mm256_loadu_ps(dist.as_ptr());
        let mut best = _mm256_set1_ps(f32::INFINITY);
        // Branch 0 unless a later one is better (as the scalar code's argmin starts).
        let mut pc = _mm256_cvtepu8_epi32(_mm_loadl_epi64(t.pred[0].as_ptr() as *const __m128i));
        let mut bc = _mm256_cvtepu8_epi32(_mm_loadl_epi64(t.branch[0].as_ptr() as *const __m128i));
        for y in 0..4 {
            let pi = _mm256_cvtepu8_epi32(_mm_loadl_epi64(t.pred[y].as_ptr() as *const __m128i));
            let bi = _mm256_cvtepu8_epi32(_mm_loadl_epi64(t.branch[y].as_ptr() as *const __m128i));
            let v = _mm256_add_ps(
                _mm256_permutevar8x32_ps(m, pi),
                _mm256_permutevar8x32_ps(d, bi),
            );
            let lt = _mm256_cmp_ps::<_CMP_LT_OQ>(v, best);
            best = _mm256_blendv_ps(best, v, lt);
            pc = _mm256_blendv_epi8(pc, pi, _mm256_castps_si256(lt));
            bc = _mm256_blendv_epi8(bc, bi, _mm256_castps_si256(lt));
        }
        let s = _mm256_min_ps(best, _mm256_permute2f128_ps::<1>(best, best));
        let s = _mm256_min_ps(s, _mm256_permute_ps::<0b01_00_11_10>(s));
        let s = _mm256_min_ps(s, _mm256_permute_ps::<0b10_11_00_01>(s));
        let eq = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(best, s)) as u32;
        let state = if eq == 0 {
            0
        } else {
            eq.trailing_zeros() as usize
        };
        _mm256_storeu_ps(
            metric.as_mut_ptr(),
            _mm256_min_ps(_mm256_sub_ps(best, s), _mm256_set1_ps(cap)),
        );
        // Both index vectors to bytes 0..8 of one register each (values below 8 pack as is).
        let bytes = |v: __m256i| {
            let p = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
            _mm_packus_epi16(p, p)
        };
        exchange8_sse41(bytes(pc), bytes(bc), labels, surv);
        state
    }
}

/// SSE4.1 [`super::Isa::acs8_survivors`]: the add-compare-select in two 4-lane halves, the
/// permutations as byte shuffles of both source halves, blending in the predecessor and
/// branch indices too, then the register exchange. Requires SSE4.1 (and so SSSE3).
#[target_feature(enable = "sse4.1")]
pub unsafe fn acs8_survivors_sse41(
    t: &super::Trellis8,
    metric: &mut [f32; 8],
    dist: &[f32; 8],
    labels: &[u8; 8],
    surv: &mut super::Survivors8,
    cap: f32,
) -> usize {
    unsafe {
        let src = |p: &[f32; 8]| {
            (
                _mm_loadu_si128(p.as_ptr() as *const __m128i),
                _mm_loadu_si128(p.as_ptr().add(4) as *const __m128i),
            )
        };
        let (m0, m1) = src(metric);
        let (d0, d1) = src(dist);
        let perm = |(s0, s1): (__m128i, __m128i), lo: &[u8; 32], hi: &[u8; 32], h: usize| {
            _mm_castsi128_ps(_mm_or_si128(
                _mm_shuffle_epi8(
                    s0,
                    _mm_loadu_si128(lo.as_ptr().add(16 * h) as *const __m128i),
                ),
                _mm_shuffle_epi8(
                    s1,
                    _mm_loadu_si128(hi.as_ptr().add(16 * h) as *const __m128i),
                ),
            ))
        };
        // A trellis table's four entries for half h, one per 32-bit lane.
        let lanes = |row: &[u8; 8], h: usize| {
            _mm_cvtepu8_epi32(_mm_cvtsi32_si128(u32::from_le_bytes([
                row[4 * h],
                row[4 * h + 1],
                row[4 * h + 2],
                row[4 * h + 3],
            ]) as i32))
        };
        let mut best = [_mm_set1_ps(f32::INFINITY); 2];
        // Branch 0 unless a later one is better (as the scalar code's argmin starts).
        let mut pc = [lanes(&t.pred[0], 0), lanes(&t.pred[0], 1)];
        let mut bc = [lanes(&t.branch[0], 0), lanes(&t.branch[0], 1)];
        for y in 0..4 {
            for h in 0..2 {
                let v = _mm_add_ps(
                    perm((m0, m1), &t.lo[y][0], &t.hi[y][0], h),
                    perm((d0, d1), &t.lo[y][1], &t.hi[y][1], h),
                );
                let lt = _mm_castps_si128(_mm_cmplt_ps(v, best[h]));
                best[h] = _mm_blendv_ps(best[h], v, _mm_castsi128_ps(lt));
                pc[h] = _mm_blendv_epi8(pc[h], lanes(&t.pred[y], h), lt);
                bc[h] = _mm_blendv_epi8(bc[h], lanes(&t.branch[y], h), lt);
            }
        }
        let s = _mm_min_ps(best[0], best[1]);
        let s = _mm_min_ps(s, _mm_shuffle_ps::<0b01_00_11_10>(s, s));
        let s = _mm_min_ps(s, _mm_shuffle_ps::<0b10_11_00_01>(s, s));
        let eq = (_mm_movemask_ps(_mm_cmpeq_ps(best[0], s))
            | _mm_movemask_ps(_mm_cmpeq_ps(best[1], s)) << 4) as u32;
        let state = if eq == 0 {
            0
        } else {
            eq.trailing_zeros() as usize
        };
        let c = _mm_set1_ps(cap);
        _mm_storeu_ps(metric.as_mut_ptr(), _mm_min_ps(_mm_sub_ps(best[0], s), c));
        _mm_storeu_ps(
            metric.as_mut_ptr().add(4),
            _mm_min_ps(_mm_sub_ps(best[1], s), c),
        );
        let bytes = |v: [__m128i; 2]| {
            let p = _mm_packs_epi32(v[0], v[1]);
            _mm_packus_epi16(p, p)
        };
        exchange8_sse41(bytes(pc), bytes(bc), labels, surv);
        state
    }
}

/// AVX2 [`super::Isa::distances8`]: all eight at once (multiplies and adds, not fused, as
/// the scalar reference rounds). Requires AVX2.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn distances8_avx2(z: Complex32, re: &[i8; 8], im: &[i8; 8]) -> [f32; 8] {
    unsafe {
        let coord = |c: &[i8; 8]| {
            _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
                c.as_ptr() as *const __m128i
            )))
        };
        let x = _mm256_sub_ps(_mm256_set1_ps(z.re), coord(re));
        let y = _mm256_sub_ps(_mm256_set1_ps(z.im), coord(im));
        let mut out = [0f32; 8];
        _mm256_storeu_ps(
            out.as_mut_ptr(),
            _mm256_add_ps(_mm256_mul_ps(x, x), _mm256_mul_ps(y, y)),
        );
        out
    }
}

/// SSE4.1 [`super::Isa::distances8`]: two halves of four. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn distances8_sse41(z: Complex32, re: &[i8; 8], im: &[i8; 8]) -> [f32; 8] {
    unsafe {
        let (zr, zi) = (_mm_set1_ps(z.re), _mm_set1_ps(z.im));
        let coord = |c: &[i8; 8], h: usize| {
            let w = i32::from_le_bytes([
                c[4 * h] as u8,
                c[4 * h + 1] as u8,
                c[4 * h + 2] as u8,
                c[4 * h + 3] as u8,
            ]);
            _mm_cvtepi32_ps(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(w)))
        };
        let mut out = [0f32; 8];
        for h in 0..2 {
            let x = _mm_sub_ps(zr, coord(re, h));
            let y = _mm_sub_ps(zi, coord(im, h));
            _mm_storeu_ps(
                out.as_mut_ptr().add(4 * h),
                _mm_add_ps(_mm_mul_ps(x, x), _mm_mul_ps(y, y)),
            );
        }
        out
    }
}

/// [`super::front::front_blocks`] compiled for SSE4.1. Requires SSE4.1.
#[target_feature(enable = "sse4.1")]
pub unsafe fn front_block_sse41(
    st: &mut FrontState,
    xs: &[i16],
    out: FrontOut,
    b: (f32, f32),
) -> usize {
    super::front::front_blocks::<false>(st, xs, out, b)
}

/// AVX2 [`super::front::front_blocks`]: the two recurrences over eight samples as
/// log-step scans (y += aᵏ·y shifted k lanes, k = 1, 2, 4: three lane permutes and
/// multiply-adds each, against the matrix form's eight broadcasts), plus the state before
/// them times the pole's powers. Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn front_block_avx2(
    st: &mut FrontState,
    xs: &[i16],
    out: FrontOut,
    b: (f32, f32),
) -> usize {
    use super::front::{CLIP_EXTEND, FLUSH, HP_SCAN, POWER_TC, PW_SCAN};
    let n = xs.len();
    let out = out.head(n);
    let (lo, hi) = b;
    let (hp_k, pw_k) = (&HP_SCAN, &PW_SCAN);
    let mut i = 0;
    // SAFETY: the caller holds the AVX2+FMA token; every load reads xs[i..i + 8] and every
    // store writes out[at..at + 8] with at + 8 = n − i ≤ n (i + 8 ≤ n), inside the slices.
    unsafe {
        let load = |v: &[f32; 8]| _mm256_loadu_ps(v.as_ptr());
        let (h1, h2, h4, hc) = (
            load(&hp_k[0]),
            load(&hp_k[1]),
            load(&hp_k[2]),
            load(&hp_k[3]),
        );
        let (p1, p2, p4, pc) = (
            load(&pw_k[0]),
            load(&pw_k[1]),
            load(&pw_k[2]),
            load(&pw_k[3]),
        );
        let sh1 = _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6);
        let sh2 = _mm256_setr_epi32(0, 0, 0, 1, 2, 3, 4, 5);
        let sh4 = _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 2, 3);
        let rev = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
        let (rail_lo, rail_hi) = (_mm_set1_epi16(i16::MIN), _mm_set1_epi16(i16::MAX));
        let (one, ext) = (_mm256_set1_ps(1.0), _mm256_set1_ps(CLIP_EXTEND));
        let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
        let flush = _mm256_set1_ps(FLUSH);
        let gain = _mm256_set1_ps(1.0 / POWER_TC);
        let (vlo, vhi) = (_mm256_set1_ps(lo), _mm256_set1_ps(hi));
        // y[k] + Σ_{j<k} aᵏ⁻ʲ·y[j] in three steps (lanes below the shift get a 0 coefficient).
        let scan = |y: __m256, c1: __m256, c2: __m256, c4: __m256| {
            let y = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(y, sh1), c1, y);
            let y = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(y, sh2), c2, y);
            _mm256_fmadd_ps(_mm256_permutevar8x32_ps(y, sh4), c4, y)
        };
        while i + 8 <= n {
            let raw = _mm_loadu_si128(xs.as_ptr().add(i) as *const __m128i);
            let rail = _mm_or_si128(_mm_cmpeq_epi16(raw, rail_lo), _mm_cmpeq_epi16(raw, rail_hi));
            let scale =
                _mm256_blendv_ps(one, ext, _mm256_castsi256_ps(_mm256_cvtepi16_epi32(rail)));
            let x = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(raw)), scale);
            // The previous input of each lane: lane 0 the state's.
            let prev = _mm256_blend_ps::<1>(_mm256_permutevar8x32_ps(x, sh1), _mm256_set1_ps(st.x));
            let d = _mm256_sub_ps(x, prev);
            let hp = _mm256_fmadd_ps(hc, _mm256_set1_ps(st.hp), scan(d, h1, h2, h4));
            let hp = _mm256_and_ps(
                hp,
                _mm256_cmp_ps::<_CMP_GE_OQ>(_mm256_and_ps(hp, abs), flush),
            );
            let s = _mm256_mul_ps(_mm256_mul_ps(hp, hp), gain);
            let pw = _mm256_fmadd_ps(pc, _mm256_set1_ps(st.power), scan(s, p1, p2, p4));
            let pw = _mm256_and_ps(pw, _mm256_cmp_ps::<_CMP_GE_OQ>(pw, flush));
            let beyond = _mm256_or_ps(
                _mm256_cmp_ps::<_CMP_LT_OQ>(pw, vlo),
                _mm256_cmp_ps::<_CMP_GT_OQ>(pw, vhi),
            );
            let crossed = _mm256_movemask_ps(beyond) as u32;
            let at = n - 8 - i;
            _mm256_storeu_ps(out.x.as_mut_ptr().add(at), _mm256_permutevar8x32_ps(x, rev));
            _mm256_storeu_ps(
                out.hp.as_mut_ptr().add(at),
                _mm256_permutevar8x32_ps(hp, rev),
            );
            _mm256_storeu_ps(
                out.power.as_mut_ptr().add(at),
                _mm256_permutevar8x32_ps(pw, rev),
            );
            let take = if crossed != 0 {
                crossed.trailing_zeros() as usize + 1
            } else {
                8
            };
            // Sample i + take − 1 was stored at at + 8 − take.
            let last = at + 8 - take;
            *st = FrontState {
                x: out.x[last],
                hp: out.hp[last],
                power: out.power[last],
            };
            i += take;
            if crossed != 0 {
                return i;
            }
        }
    }
    // The rest, fewer than eight, by the reference.
    i + super::front::front_ref(st, &xs[i..], out.head(n - i), b)
}
