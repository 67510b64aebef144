//! NEON (AdvSIMD) kernels for aarch64. Every function requires NEON: callers hold a
//! [`super::NeonToken`], made only after `is_aarch64_feature_detected!("neon")`, which is
//! why calling them is sound.
//!
//! Complex slices are read as interleaved floats (`Complex32` is `#[repr(C)]`). `vld2q_f32`
//! de-interleaves four complex values into a vector of real parts and one of imaginary
//! parts, so the complex products are plain fused multiply-adds on those halves.

use std::arch::aarch64::*;

use num_complex::Complex32;

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

/// NEON Σ a·b. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn dot_f32_neon(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut i = 0;
    unsafe {
        let mut acc0 = vdupq_n_f32(0.0);
        let mut acc1 = vdupq_n_f32(0.0);
        while i + 8 <= n {
            acc0 = vfmaq_f32(
                acc0,
                vld1q_f32(a.as_ptr().add(i)),
                vld1q_f32(b.as_ptr().add(i)),
            );
            acc1 = vfmaq_f32(
                acc1,
                vld1q_f32(a.as_ptr().add(i + 4)),
                vld1q_f32(b.as_ptr().add(i + 4)),
            );
            i += 8;
        }
        let mut s = vaddvq_f32(vaddq_f32(acc0, acc1));
        while i < n {
            s += a[i] * b[i];
            i += 1;
        }
        s
    }
}

/// NEON Σ h·x, real taps over complex samples. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn dot_real_complex_neon(h: &[f32], x: &[Complex32]) -> Complex32 {
    let n = h.len().min(x.len());
    let xf = as_f32(&x[..n]);
    let mut i = 0;
    unsafe {
        let mut re = vdupq_n_f32(0.0);
        let mut im = vdupq_n_f32(0.0);
        while i + 4 <= n {
            let hv = vld1q_f32(h.as_ptr().add(i));
            let xv = vld2q_f32(xf.as_ptr().add(2 * i));
            re = vfmaq_f32(re, hv, xv.0);
            im = vfmaq_f32(im, hv, xv.1);
            i += 4;
        }
        let mut s = Complex32::new(vaddvq_f32(re), vaddvq_f32(im));
        while i < n {
            s += x[i] * h[i];
            i += 1;
        }
        s
    }
}

/// NEON Σ w·x over complex values. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn dot_complex_neon(w: &[Complex32], x: &[Complex32]) -> Complex32 {
    let n = w.len().min(x.len());
    let (wf, xf) = (as_f32(&w[..n]), as_f32(&x[..n]));
    let mut i = 0;
    unsafe {
        let mut re = vdupq_n_f32(0.0);
        let mut im = vdupq_n_f32(0.0);
        while i + 4 <= n {
            let wv = vld2q_f32(wf.as_ptr().add(2 * i));
            let xv = vld2q_f32(xf.as_ptr().add(2 * i));
            // (a+bi)(c+di) = (ac − bd) + (ad + bc)i
            re = vfmaq_f32(re, wv.0, xv.0);
            re = vfmsq_f32(re, wv.1, xv.1);
            im = vfmaq_f32(im, wv.0, xv.1);
            im = vfmaq_f32(im, wv.1, xv.0);
            i += 4;
        }
        let mut s = Complex32::new(vaddvq_f32(re), vaddvq_f32(im));
        while i < n {
            s += w[i] * x[i];
            i += 1;
        }
        s
    }
}

/// NEON w += g·conj(x). Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn lms_update_neon(w: &mut [Complex32], g: Complex32, x: &[Complex32]) {
    let n = w.len().min(x.len());
    let xf = as_f32(&x[..n]);
    let wf = as_f32_mut(&mut w[..n]);
    let mut i = 0;
    unsafe {
        let (gr, gi) = (vdupq_n_f32(g.re), vdupq_n_f32(g.im));
        while i + 4 <= n {
            let xv = vld2q_f32(xf.as_ptr().add(2 * i));
            let mut wv = vld2q_f32(wf.as_ptr().add(2 * i));
            // g·conj(x) = (gr·xr + gi·xi) + (gi·xr − gr·xi)i
            wv.0 = vfmaq_f32(wv.0, gr, xv.0);
            wv.0 = vfmaq_f32(wv.0, gi, xv.1);
            wv.1 = vfmaq_f32(wv.1, gi, xv.0);
            wv.1 = vfmsq_f32(wv.1, gr, xv.1);
            vst2q_f32(wf.as_mut_ptr().add(2 * i), wv);
            i += 4;
        }
    }
    while i < n {
        let (xr, xi) = (xf[2 * i], xf[2 * i + 1]);
        wf[2 * i] += g.re * xr + g.im * xi;
        wf[2 * i + 1] += g.im * xr - g.re * xi;
        i += 1;
    }
}
