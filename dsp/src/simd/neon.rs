//! NEON (AdvSIMD) kernels for aarch64. Every function requires NEON: callers hold a
//! [`super::NeonToken`], made only after `is_aarch64_feature_detected!("neon")`, which is
//! why calling them is sound.
//!
//! Complex slices are read as interleaved floats (`Complex32` is `#[repr(C)]`). `vld2q_f32`
//! de-interleaves four complex values into a vector of real parts and one of imaginary
//! parts, so the complex products are plain fused multiply-adds on those halves.

use std::arch::aarch64::*;

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
// ---------------------------------------------------------------------------------------
// The receivers' kernels on split (real, imaginary) arrays: 4 lanes per step (8 for the
// real dot products), the rest scalar.

/// NEON (Σ x·a, Σ x·b). Requires NEON.
#[target_feature(enable = "neon")]
#[inline]
pub unsafe fn dot2_f32_neon(x: &[f32], a: &[f32], b: &[f32]) -> (f32, f32) {
    let n = x.len().min(a.len()).min(b.len());
    let mut i = 0;
    unsafe {
        let (mut p0, mut p1) = (vdupq_n_f32(0.0), vdupq_n_f32(0.0));
        let (mut q0, mut q1) = (vdupq_n_f32(0.0), vdupq_n_f32(0.0));
        let (xp, ap, bp) = (x.as_ptr(), a.as_ptr(), b.as_ptr());
        while i + 8 <= n {
            let x0 = vld1q_f32(xp.add(i));
            let x1 = vld1q_f32(xp.add(i + 4));
            p0 = vfmaq_f32(p0, x0, vld1q_f32(ap.add(i)));
            p1 = vfmaq_f32(p1, x1, vld1q_f32(ap.add(i + 4)));
            q0 = vfmaq_f32(q0, x0, vld1q_f32(bp.add(i)));
            q1 = vfmaq_f32(q1, x1, vld1q_f32(bp.add(i + 4)));
            i += 8;
        }
        let mut p = vaddvq_f32(vaddq_f32(p0, p1));
        let mut q = vaddvq_f32(vaddq_f32(q0, q1));
        while i < n {
            p += x[i] * a[i];
            q += x[i] * b[i];
            i += 1;
        }
        (p, q)
    }
}

/// NEON Σ c·y on split arrays. Requires NEON.
#[target_feature(enable = "neon")]
#[inline]
pub unsafe fn cdot_split_neon(cr: &[f32], ci: &[f32], yr: &[f32], yi: &[f32]) -> Complex32 {
    let n = cr.len().min(ci.len()).min(yr.len()).min(yi.len());
    let mut i = 0;
    unsafe {
        let (mut re0, mut re1) = (vdupq_n_f32(0.0), vdupq_n_f32(0.0));
        let (mut im0, mut im1) = (vdupq_n_f32(0.0), vdupq_n_f32(0.0));
        while i + 4 <= n {
            let a = vld1q_f32(cr.as_ptr().add(i));
            let b = vld1q_f32(ci.as_ptr().add(i));
            let u = vld1q_f32(yr.as_ptr().add(i));
            let v = vld1q_f32(yi.as_ptr().add(i));
            re0 = vfmaq_f32(re0, a, u);
            re1 = vfmsq_f32(re1, b, v);
            im0 = vfmaq_f32(im0, a, v);
            im1 = vfmaq_f32(im1, b, u);
            i += 4;
        }
        let mut s = Complex32::new(
            vaddvq_f32(vaddq_f32(re0, re1)),
            vaddvq_f32(vaddq_f32(im0, im1)),
        );
        while i < n {
            s += Complex32::new(cr[i] * yr[i] - ci[i] * yi[i], cr[i] * yi[i] + ci[i] * yr[i]);
            i += 1;
        }
        s
    }
}

/// NEON c += e·conj(y) on split arrays. Requires NEON.
#[target_feature(enable = "neon")]
#[inline]
pub unsafe fn lms_split_neon(cr: &mut [f32], ci: &mut [f32], e: Complex32, yr: &[f32], yi: &[f32]) {
    let n = cr.len().min(ci.len()).min(yr.len()).min(yi.len());
    let mut i = 0;
    unsafe {
        let (er, ei) = (vdupq_n_f32(e.re), vdupq_n_f32(e.im));
        while i + 4 <= n {
            let u = vld1q_f32(yr.as_ptr().add(i));
            let v = vld1q_f32(yi.as_ptr().add(i));
            let a = vld1q_f32(cr.as_ptr().add(i));
            let b = vld1q_f32(ci.as_ptr().add(i));
            let a = vfmaq_f32(vfmaq_f32(a, ei, v), er, u);
            let b = vfmaq_f32(vfmsq_f32(b, er, v), ei, u);
            vst1q_f32(cr.as_mut_ptr().add(i), a);
            vst1q_f32(ci.as_mut_ptr().add(i), b);
            i += 4;
        }
    }
    while i < n {
        cr[i] += e.re * yr[i] + e.im * yi[i];
        ci[i] += e.im * yr[i] - e.re * yi[i];
        i += 1;
    }
}

// ---------------------------------------------------------------------------------------
// The receivers' kernels at a length fixed when compiled (the QAM core's 32, V.27ter's 48
// and 24): the split-array kernels above inlined with the length known (the same sums,
// bit for bit).

/// [`dot2_f32_neon`] on N samples. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn dot2_fixed_neon<const N: usize>(
    x: &[f32; N],
    a: &[f32; N],
    b: &[f32; N],
) -> (f32, f32) {
    unsafe { dot2_f32_neon(x, a, b) }
}

/// [`cdot_split_neon`] on N taps. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn cdot_split_fixed_neon<const N: usize>(
    cr: &[f32; N],
    ci: &[f32; N],
    yr: &[f32; N],
    yi: &[f32; N],
) -> Complex32 {
    unsafe { cdot_split_neon(cr, ci, yr, yi) }
}

/// [`lms_split_neon`] on N taps. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn lms_split_fixed_neon<const N: usize>(
    cr: &mut [f32; N],
    ci: &mut [f32; N],
    e: Complex32,
    yr: &[f32; N],
    yi: &[f32; N],
) {
    unsafe { lms_split_neon(cr, ci, e, yr, yi) }
}

// ---------------------------------------------------------------------------------------
// The Viterbi decoder's survivors, by register exchange: the add-compare-select (two
// 4-lane halves, the permutations as two-register table lookups, `tbl`) also choosing each state's predecessor and branch label, then the survivors'
// eight depths (two per register) gathered from those predecessors with table lookups.

/// NEON [`super::Isa::acs8_survivors`]. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn acs8_survivors_neon(
    t: &super::Trellis8,
    metric: &mut [f32; 8],
    dist: &[f32; 8],
    labels: &[u8; 8],
    surv: &mut super::Survivors8,
    cap: f32,
) -> usize {
    unsafe {
        let src = |p: &[f32; 8]| {
            uint8x16x2_t(
                vreinterpretq_u8_f32(vld1q_f32(p.as_ptr())),
                vreinterpretq_u8_f32(vld1q_f32(p.as_ptr().add(4))),
            )
        };
        let m = src(metric);
        let d = src(dist);
        // A trellis table's four entries for half h, one per 32-bit lane.
        let lanes = |row: &[u8; 8], h: usize| {
            let w = vmovl_u8(vld1_u8(row.as_ptr()));
            vmovl_u16(if h == 0 {
                vget_low_u16(w)
            } else {
                vget_high_u16(w)
            })
        };
        let mut best = [vdupq_n_f32(f32::INFINITY); 2];
        // Branch 0 unless a later one is better (as the scalar code's argmin starts).
        let mut pc = [lanes(&t.pred[0], 0), lanes(&t.pred[0], 1)];
        let mut bc = [lanes(&t.branch[0], 0), lanes(&t.branch[0], 1)];
        for y in 0..4 {
            for h in 0..2 {
                let pm = vqtbl2q_u8(m, vld1q_u8(t.bytes[y][0].as_ptr().add(16 * h)));
                let pd = vqtbl2q_u8(d, vld1q_u8(t.bytes[y][1].as_ptr().add(16 * h)));
                let v = vaddq_f32(vreinterpretq_f32_u8(pm), vreinterpretq_f32_u8(pd));
                let lt = vcltq_f32(v, best[h]);
                best[h] = vbslq_f32(lt, v, best[h]);
                pc[h] = vbslq_u32(lt, lanes(&t.pred[y], h), pc[h]);
                bc[h] = vbslq_u32(lt, lanes(&t.branch[y], h), bc[h]);
            }
        }
        let mn = vminvq_f32(vminq_f32(best[0], best[1]));
        let s = vdupq_n_f32(mn);
        let mut b = [0f32; 8];
        vst1q_f32(b.as_mut_ptr(), best[0]);
        vst1q_f32(b.as_mut_ptr().add(4), best[1]);
        let state = b.iter().position(|&v| v == mn).unwrap_or(0);
        let c = vdupq_n_f32(cap);
        vst1q_f32(metric.as_mut_ptr(), vminnmq_f32(vsubq_f32(best[0], s), c));
        vst1q_f32(
            metric.as_mut_ptr().add(4),
            vminnmq_f32(vsubq_f32(best[1], s), c),
        );
        let bytes = |v: [uint32x4_t; 2]| {
            vand_u8(
                vmovn_u16(vcombine_u16(vmovn_u32(v[0]), vmovn_u32(v[1]))),
                vdup_n_u8(7),
            )
        };
        let (pc, bc) = (bytes(pc), bytes(bc));
        // Bytes pc, then pc + 8: the same state from the low and the high depth of a register.
        let idx = vcombine_u8(pc, vadd_u8(pc, vdup_n_u8(8)));
        let lab = vtbl1_u8(vld1_u8(labels.as_ptr()), bc);
        let p = surv.label.as_mut_ptr() as *mut u8;
        let q0 = vqtbl1q_u8(vld1q_u8(p), idx);
        let q1 = vqtbl1q_u8(vld1q_u8(p.add(16)), idx);
        let q2 = vqtbl1q_u8(vld1q_u8(p.add(32)), idx);
        let q3 = vqtbl1q_u8(vld1q_u8(p.add(48)), idx);
        vst1q_u8(p, vcombine_u8(lab, vget_low_u8(q0)));
        vst1q_u8(p.add(16), vextq_u8::<8>(q0, q1));
        vst1q_u8(p.add(32), vextq_u8::<8>(q1, q2));
        vst1q_u8(p.add(48), vextq_u8::<8>(q2, q3));
        let o = surv.origin.as_mut_ptr();
        vst1_u8(o, vtbl1_u8(vld1_u8(o), pc));
        state
    }
}

/// NEON [`super::Isa::distances8`]: two halves of four (multiplies and adds, not fused, as
/// the scalar reference rounds). Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn distances8_neon(z: Complex32, re: &[i8; 8], im: &[i8; 8]) -> [f32; 8] {
    unsafe {
        let (zr, zi) = (vdupq_n_f32(z.re), vdupq_n_f32(z.im));
        let (r, i) = (
            vmovl_s8(vld1_s8(re.as_ptr())),
            vmovl_s8(vld1_s8(im.as_ptr())),
        );
        let half = |v: int16x8_t, h: usize| {
            vcvtq_f32_s32(vmovl_s16(if h == 0 {
                vget_low_s16(v)
            } else {
                vget_high_s16(v)
            }))
        };
        let mut out = [0f32; 8];
        for h in 0..2 {
            let x = vsubq_f32(zr, half(r, h));
            let y = vsubq_f32(zi, half(i, h));
            vst1q_f32(
                out.as_mut_ptr().add(4 * h),
                vaddq_f32(vmulq_f32(x, x), vmulq_f32(y, y)),
            );
        }
        out
    }
}

/// [`super::front::front_blocks`] compiled for NEON. Requires NEON.
#[target_feature(enable = "neon")]
pub unsafe fn front_block_neon(
    st: &mut FrontState,
    xs: &[i16],
    out: FrontOut,
    b: (f32, f32),
) -> usize {
    super::front::front_blocks::<true>(st, xs, out, b)
}
