//! Fast paths for the modems' hot loops, chosen at run time, each proved against the
//! scalar reference in [`scalar`] (tests: every kernel × every ISA at lengths 0..=67, on
//! unaligned slices, with garbage in the outputs).
//!
//! Holding an [`Isa`] value other than `Scalar` proves the CPU has the feature: its token
//! can only be made by [`Isa::detect`] / [`Isa::available`], which ask the CPU
//! (`is_x86_feature_detected!`). This module is the only place in softfax-dsp with
//! `unsafe` (the intrinsics).
//!
//! Kernels (complex values are `num_complex::Complex32`, stored re, im):
//! - [`Isa::dot_f32`]: Σ a\[i\]·b\[i\]
//! - [`Isa::dot_real_complex`]: Σ h\[i\]·x\[i\], real taps over complex samples (matched filters)
//! - [`Isa::dot_complex`]: Σ w\[i\]·x\[i\] (equalisers)
//! - [`Isa::lms_update`]: w\[i\] += g·conj(x\[i\]) (LMS tap update)
//! - [`Isa::axpy2`]: acc\[i\] += a·x\[i\] + b·y\[i\] (the transmitters' overlap-add;
//!   on NEON the compiler's vectorisation of the scalar loop)
//! - [`Isa::dot2_f32`], [`Isa::cdot_split`], [`Isa::lms_split`]: the receivers' complex
//!   band-pass front ends and T/2 equalisers (filtering and LMS update), on complex
//!   vectors held as separate real and imaginary arrays
//! - [`Isa::overlap_add`]: [`Isa::axpy2`] for a block's worth of [`Stroke`]s in one call
//!   (the transmit shaper's symbols of a block; no dispatch or bounds checks per symbol)
//! - [`Isa::round_to_i16`]: samples to 16 bits, rounded half away from zero and clamped
//!   (the transmitters' output)
//! - [`Isa::dot2_fixed`], [`Isa::cdot_split_fixed`], [`Isa::lms_split_fixed`]: the same
//!   at a length fixed when compiled (the QAM receiver core's 32, the V.27ter receiver's
//!   48 and 24), unrolled (no length logic, no tails)
//! - [`Isa::acs8_survivors`]: add-compare-select of an 8-state trellis with four branches
//!   into each state (the V.17 / V.32 code), all eight states in one 8-lane register, the
//!   survivor paths kept by register exchange ([`Survivors8`]: each state's last eight
//!   labels, moved with byte shuffles)
//! - [`Isa::distances8`]: the squared distances from a point to eight points with small
//!   integer coordinates (the V.17 decoder's branch metrics)
//! - [`Isa::front_block`]: the QAM receivers' input recurrences (DC blocker, power meter,
//!   carrier threshold) eight samples at a time ([`front`])
//!
//! ISAs: SSE4.1 and AVX2+FMA on x86-64, NEON on aarch64 (tested under qemu-aarch64 by
//! tests/neon_qemu.rs). **Not supported:** AVX-512.

use num_complex::Complex32;

pub mod front;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use front::{FrontOut, FrontState};

/// Proof that the CPU has SSE4.1 (made only after asking it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sse41Token(());
/// Proof that the CPU has AVX2 and FMA (made only after asking it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Avx2Token(());
/// Proof that the CPU has NEON (AdvSIMD; made only after asking it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeonToken(());

/// An 8-state trellis with four branches into each state, as [`Isa::acs8_survivors`] reads
/// it: for branch `y` into state `n`, the earlier state `pred[y][n]` and the branch metric
/// `branch[y][n]` (an index into the eight metrics). The byte tables are the same
/// permutations for byte shuffles (SSSE3 `pshufb`, NEON `tbl`), made by [`Trellis8::new`].
#[derive(Debug, Clone)]
pub struct Trellis8 {
    pub pred: [[u8; 8]; 4],
    pub branch: [[u8; 8]; 4],
    /// Per branch y: byte shuffles of the metrics (`[0]`) and branch metrics (`[1]`), as
    /// indices into 32 bytes (NEON), and split into the low and high 16 bytes of the
    /// source with 0x80 (zero) elsewhere (SSE).
    bytes: [[[u8; 32]; 2]; 4],
    lo: [[[u8; 32]; 2]; 4],
    hi: [[[u8; 32]; 2]; 4],
}

impl Trellis8 {
    /// The trellis from its predecessor and branch-metric tables (every entry below 8).
    pub const fn new(pred: [[u8; 8]; 4], branch: [[u8; 8]; 4]) -> Trellis8 {
        let mut t = Trellis8 {
            pred,
            branch,
            bytes: [[[0; 32]; 2]; 4],
            lo: [[[0; 32]; 2]; 4],
            hi: [[[0; 32]; 2]; 4],
        };
        let mut y = 0;
        while y < 4 {
            let mut k = 0;
            while k < 2 {
                let perm = if k == 0 { pred[y] } else { branch[y] };
                let mut j = 0;
                while j < 32 {
                    let b = (perm[j / 4] & 7) * 4 + (j % 4) as u8;
                    t.bytes[y][k][j] = b;
                    t.lo[y][k][j] = if b < 16 { b } else { 0x80 };
                    t.hi[y][k][j] = if b >= 16 { b - 16 } else { 0x80 };
                    j += 1;
                }
                k += 1;
            }
            y += 1;
        }
        t
    }
}

/// The survivors of an 8-state Viterbi decoder kept by register exchange
/// ([`Isa::acs8_survivors`]): for each state, the labels of its survivor path's last eight
/// branches, and the state that path was in when `origin` was last set (the caller sets it
/// to [`Survivors8::HERE`] to start counting; decisions deeper than eight are made by
/// chaining saved copies' origins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, align(16))]
pub struct Survivors8 {
    /// `label[d][n]`: the label `d` steps back on the survivor into state `n` (0 the latest).
    pub label: [[u8; 8]; 8],
    /// `origin[n]`: the survivor into state `n` was in state `origin[n]` when last set.
    pub origin: [u8; 8],
}

impl Survivors8 {
    /// Every state its own origin.
    pub const HERE: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
}

/// One pulse of an overlap-add ([`Isa::overlap_add`]): `acc[at..at + len] += a·x[pulse..]
/// + b·y[pulse..]` (`len` samples of each).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stroke {
    pub at: u32,
    pub pulse: u32,
    pub a: f32,
    pub b: f32,
}

/// Work for [`Isa::compiled_for`]: its `run` is to be `#[inline(always)]`, so that it is
/// generated inside the instruction set's entry point, with its features.
pub trait Compiled {
    type Out;
    fn run(self) -> Self::Out;
}

/// An instruction set to run the kernels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Portable Rust: the reference.
    Scalar,
    /// x86-64 SSE4.1.
    Sse41(Sse41Token),
    /// x86-64 AVX2 + FMA.
    Avx2(Avx2Token),
    /// aarch64 NEON.
    Neon(NeonToken),
}

impl Isa {
    /// Runs `work` compiled for this instruction set: what is inlined into
    /// [`Compiled::run`] (a receiver's per-block loop, say) is generated with the set's
    /// features — three-operand vector encodings for the scalar arithmetic, kernels inlined
    /// rather than called — with the same results (Rust does not contract a multiply and an
    /// add into a fused one).
    #[inline(always)]
    pub fn compiled_for<W: Compiled>(self, work: W) -> W::Out {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::compiled_for_avx2(work) },
            _ => work.run(),
        }
    }

    /// The fastest the CPU offers (asked once per process).
    pub fn detect() -> Isa {
        static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| *Isa::available().last().unwrap_or(&Isa::Scalar))
    }

    /// Every ISA this CPU can run, slowest first (for tests and benchmarks).
    pub fn available() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut v = vec![Isa::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("sse4.1") {
                v.push(Isa::Sse41(Sse41Token(())));
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                v.push(Isa::Avx2(Avx2Token(())));
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            if std::arch::is_aarch64_feature_detected!("neon") {
                v.push(Isa::Neon(NeonToken(())));
            }
        }
        v
    }

    /// Short name: `scalar`, `sse4.1`, `avx2`, `neon`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Sse41(_) => "sse4.1",
            Isa::Avx2(_) => "avx2",
            Isa::Neon(_) => "neon",
        }
    }

    /// Σ a\[i\]·b\[i\] over the shorter length.
    #[inline]
    pub fn dot_f32(self, a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        match self {
            Isa::Scalar => scalar::dot_f32(a, b),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::dot_f32_sse41(a, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::dot_f32_avx2(a, b) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::dot_f32_neon(a, b) },
            _ => scalar::dot_f32(a, b),
        }
    }

    /// Σ h\[i\]·x\[i\]: real taps over complex samples.
    #[inline]
    pub fn dot_real_complex(self, h: &[f32], x: &[Complex32]) -> Complex32 {
        let n = h.len().min(x.len());
        let (h, x) = (&h[..n], &x[..n]);
        match self {
            Isa::Scalar => scalar::dot_real_complex(h, x),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::dot_real_complex_sse41(h, x) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::dot_real_complex_avx2(h, x) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::dot_real_complex_neon(h, x) },
            _ => scalar::dot_real_complex(h, x),
        }
    }

    /// Σ w\[i\]·x\[i\] over complex values.
    #[inline]
    pub fn dot_complex(self, w: &[Complex32], x: &[Complex32]) -> Complex32 {
        let n = w.len().min(x.len());
        let (w, x) = (&w[..n], &x[..n]);
        match self {
            Isa::Scalar => scalar::dot_complex(w, x),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::dot_complex_sse41(w, x) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::dot_complex_avx2(w, x) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::dot_complex_neon(w, x) },
            _ => scalar::dot_complex(w, x),
        }
    }

    /// w\[i\] += g·conj(x\[i\]) (the LMS step, with g = µ·error).
    #[inline]
    pub fn lms_update(self, w: &mut [Complex32], g: Complex32, x: &[Complex32]) {
        let n = w.len().min(x.len());
        let (w, x) = (&mut w[..n], &x[..n]);
        match self {
            Isa::Scalar => scalar::lms_update(w, g, x),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::lms_update_sse41(w, g, x) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::lms_update_avx2(w, g, x) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::lms_update_neon(w, g, x) },
            _ => scalar::lms_update(w, g, x),
        }
    }

    /// acc\[i\] += a·x\[i\] + b·y\[i\] over the shortest length (the transmit shaper adds
    /// a symbol's pulse on the carrier, Re(z·(x + jy)), with it).
    #[inline]
    pub fn axpy2(self, acc: &mut [f32], a: f32, x: &[f32], b: f32, y: &[f32]) {
        let n = acc.len().min(x.len()).min(y.len());
        let (acc, x, y) = (&mut acc[..n], &x[..n], &y[..n]);
        match self {
            Isa::Scalar => scalar::axpy2(acc, a, x, b, y),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::axpy2_sse41(acc, a, x, b, y) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::axpy2_avx2(acc, a, x, b, y) },
            _ => scalar::axpy2(acc, a, x, b, y),
        }
    }

    /// [`Isa::axpy2`] of every stroke in turn: `acc[s.at..][..len] += s.a·x[s.pulse..][..len]
    /// + s.b·y[s.pulse..][..len]`, the same sums in the same order (bit for bit what
    /// [`Isa::axpy2`] gives on this ISA). Panics if a stroke reaches past a slice's end.
    #[inline]
    pub fn overlap_add(
        self,
        acc: &mut [f32],
        x: &[f32],
        y: &[f32],
        len: usize,
        strokes: &[Stroke],
    ) {
        match self {
            Isa::Scalar => scalar::overlap_add(acc, x, y, len, strokes),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::overlap_add_sse41(acc, x, y, len, strokes) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::overlap_add_avx2(acc, x, y, len, strokes) },
            _ => scalar::overlap_add(acc, x, y, len, strokes),
        }
    }

    /// `out[i]` = `x[i]` rounded half away from zero and clamped to the i16 range (NaN
    /// gives 0), over the shorter length: the transmitters' samples to 16 bits. Exact on
    /// every ISA.
    #[inline]
    pub fn round_to_i16(self, x: &[f32], out: &mut [i16]) {
        match self {
            Isa::Scalar => scalar::round_to_i16(x, out),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::round_to_i16_sse41(x, out) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::round_to_i16_avx2(x, out) },
            _ => scalar::round_to_i16(x, out),
        }
    }
}

/// The Viterbi decoder's survivors, by register exchange.
impl Isa {
    /// One step of the Viterbi decoder of an 8-state trellis ([`scalar::acs8`]: for each
    /// state `n` the best of its four branches, `metric[pred[y][n]] + dist[branch[y][n]]`
    /// (the first of equal ones), then the metrics renormalised to the best state's (0) and
    /// capped at `cap`; bit-exact on every ISA, plain adds and compares) keeping the survivors by
    /// register exchange: for each state `n`, with `y` its chosen branch and `p =
    /// pred[y][n]`, the new `surv.label[0][n]` is `labels[branch[y][n]]` (the branch's
    /// label), `surv.label[d][n]` the old `surv.label[d − 1][p]` and `surv.origin[n]` the
    /// old `surv.origin[p]`. Returns the best state. A traceback's work, done a step at a
    /// time with byte shuffles: a decision up to 8 deep is a load, none is a chain of
    /// dependent look-ups.
    #[inline]
    pub fn acs8_survivors(
        self,
        t: &Trellis8,
        metric: &mut [f32; 8],
        dist: &[f32; 8],
        labels: &[u8; 8],
        surv: &mut Survivors8,
        cap: f32,
    ) -> usize {
        match self {
            Isa::Scalar => scalar::acs8_survivors(t, metric, dist, labels, surv, cap),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe {
                x86::acs8_survivors_sse41(t, metric, dist, labels, surv, cap)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::acs8_survivors_avx2(t, metric, dist, labels, surv, cap) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe {
                neon::acs8_survivors_neon(t, metric, dist, labels, surv, cap)
            },
            _ => scalar::acs8_survivors(t, metric, dist, labels, surv, cap),
        }
    }
}

impl Isa {
    /// The squared distances from `z` to the eight points `re[s] + j·im[s]`, computed as
    /// (z.re − re)² + (z.im − im)² with separate multiplies and adds (bit-exact on every ISA).
    #[inline]
    pub fn distances8(self, z: Complex32, re: &[i8; 8], im: &[i8; 8]) -> [f32; 8] {
        match self {
            Isa::Scalar => scalar::distances8(z, re, im),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::distances8_sse41(z, re, im) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::distances8_avx2(z, re, im) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::distances8_neon(z, re, im) },
            _ => scalar::distances8(z, re, im),
        }
    }
}

/// The receivers' kernels, on complex vectors held as separate real and imaginary arrays
/// (the layout their delay lines and taps use).
impl Isa {
    /// (Σ x\[i\]·a\[i\], Σ x\[i\]·b\[i\]) over the shortest length: a complex band-pass
    /// filter's two real dot products on one window of input.
    #[inline]
    pub fn dot2_f32(self, x: &[f32], a: &[f32], b: &[f32]) -> (f32, f32) {
        match self {
            Isa::Scalar => scalar::dot2_f32(x, a, b),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::dot2_f32_sse41(x, a, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::dot2_f32_avx2(x, a, b) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::dot2_f32_neon(x, a, b) },
            _ => scalar::dot2_f32(x, a, b),
        }
    }

    /// Σ c\[i\]·y\[i\] with c = cr + j·ci and y = yr + j·yi, over the shortest length
    /// (an equaliser's output).
    #[inline]
    pub fn cdot_split(self, cr: &[f32], ci: &[f32], yr: &[f32], yi: &[f32]) -> Complex32 {
        match self {
            Isa::Scalar => scalar::cdot_split(cr, ci, yr, yi),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::cdot_split_sse41(cr, ci, yr, yi) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::cdot_split_avx2(cr, ci, yr, yi) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::cdot_split_neon(cr, ci, yr, yi) },
            _ => scalar::cdot_split(cr, ci, yr, yi),
        }
    }

    /// c\[i\] += e·conj(y\[i\]) with c = cr + j·ci and y = yr + j·yi, over the shortest
    /// length (an equaliser's LMS step, e = µ·error).
    #[inline]
    pub fn lms_split(self, cr: &mut [f32], ci: &mut [f32], e: Complex32, yr: &[f32], yi: &[f32]) {
        match self {
            Isa::Scalar => scalar::lms_split(cr, ci, e, yr, yi),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::lms_split_sse41(cr, ci, e, yr, yi) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::lms_split_avx2(cr, ci, e, yr, yi) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::lms_split_neon(cr, ci, e, yr, yi) },
            _ => scalar::lms_split(cr, ci, e, yr, yi),
        }
    }
}

/// The receivers' kernels at a length fixed when compiled — the QAM core's (V.17, V.29)
/// 32-tap front end and equaliser, V.27ter's 48-tap matched filter (2400 bit/s) and 24-tap
/// equaliser: [`Isa::dot2_f32`], [`Isa::cdot_split`] and [`Isa::lms_split`] on arrays,
/// their loops unrolled with no length logic or tails; the same sums as the slice kernels
/// on the same ISA, bit for bit.
impl Isa {
    /// [`Isa::dot2_f32`] on N samples.
    #[inline(always)]
    pub fn dot2_fixed<const N: usize>(
        self,
        x: &[f32; N],
        a: &[f32; N],
        b: &[f32; N],
    ) -> (f32, f32) {
        match self {
            Isa::Scalar => scalar::dot2_f32(x, a, b),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::dot2_fixed_sse41(x, a, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::dot2_fixed_avx2(x, a, b) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::dot2_fixed_neon(x, a, b) },
            _ => scalar::dot2_f32(x, a, b),
        }
    }

    /// [`Isa::cdot_split`] on N taps.
    #[inline(always)]
    pub fn cdot_split_fixed<const N: usize>(
        self,
        cr: &[f32; N],
        ci: &[f32; N],
        yr: &[f32; N],
        yi: &[f32; N],
    ) -> Complex32 {
        match self {
            Isa::Scalar => scalar::cdot_split(cr, ci, yr, yi),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::cdot_split_fixed_sse41(cr, ci, yr, yi) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::cdot_split_fixed_avx2(cr, ci, yr, yi) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::cdot_split_fixed_neon(cr, ci, yr, yi) },
            _ => scalar::cdot_split(cr, ci, yr, yi),
        }
    }

    /// [`Isa::lms_split`] on N taps.
    #[inline(always)]
    pub fn lms_split_fixed<const N: usize>(
        self,
        cr: &mut [f32; N],
        ci: &mut [f32; N],
        e: Complex32,
        yr: &[f32; N],
        yi: &[f32; N],
    ) {
        match self {
            Isa::Scalar => scalar::lms_split(cr, ci, e, yr, yi),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::lms_split_fixed_sse41(cr, ci, e, yr, yi) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::lms_split_fixed_avx2(cr, ci, e, yr, yi) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::lms_split_fixed_neon(cr, ci, e, yr, yi) },
            _ => scalar::lms_split(cr, ci, e, yr, yi),
        }
    }
}

/// The QAM receivers' input recurrences.
impl Isa {
    /// [`front::front_ref`] (clip extension, DC blocker, power meter over `xs` into `out`;
    /// stops after the first sample whose power leaves [`bounds.0`, `bounds.1`]; returns the
    /// samples taken), eight samples at a time on the SIMD ISAs ([`front::front_blocks`],
    /// equal to rounding). Entries of the outputs for samples not taken are unspecified.
    /// Panics if an output is shorter than `xs`.
    #[inline(always)]
    pub fn front_block(
        self,
        st: &mut FrontState,
        xs: &[i16],
        out: FrontOut,
        b: (f32, f32),
    ) -> usize {
        match self {
            Isa::Scalar => front::front_ref(st, xs, out, b),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse41(_) => unsafe { x86::front_block_sse41(st, xs, out, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => unsafe { x86::front_block_avx2(st, xs, out, b) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon(_) => unsafe { neon::front_block_neon(st, xs, out, b) },
            _ => front::front_ref(st, xs, out, b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn close(a: Complex32, b: Complex32, scale: f32) -> bool {
        (a - b).norm() <= 1e-5 * scale.max(1.0)
    }

    /// Every kernel × ISA against scalar at lengths 0..=67, at every alignment offset 0..4,
    /// with garbage (NaN) in outputs the kernel must overwrite.
    #[test]
    fn every_kernel_matches_scalar() {
        let mut seed = 42u64;
        let big_f: Vec<f32> = (0..80).map(|_| rng(&mut seed)).collect();
        let big_c: Vec<Complex32> = (0..80)
            .map(|_| Complex32::new(rng(&mut seed), rng(&mut seed)))
            .collect();
        let big_d: Vec<Complex32> = (0..80)
            .map(|_| Complex32::new(rng(&mut seed), rng(&mut seed)))
            .collect();
        for isa in Isa::available() {
            for n in 0..=67usize {
                for off in 0..4usize {
                    let a = &big_f[off..off + n];
                    let b = &big_f[off + 5..off + 5 + n];
                    let x = &big_c[off..off + n];
                    let w = &big_d[off + 3..off + 3 + n];
                    let scale = n as f32;
                    let (s, v) = (scalar::dot_f32(a, b), isa.dot_f32(a, b));
                    assert!(
                        (s - v).abs() <= 1e-5 * scale.max(1.0),
                        "{} dot_f32 n={n} off={off}: {s} vs {v}",
                        isa.name()
                    );
                    assert!(
                        close(
                            scalar::dot_real_complex(a, x),
                            isa.dot_real_complex(a, x),
                            scale
                        ),
                        "{} dot_real_complex n={n}",
                        isa.name()
                    );
                    assert!(
                        close(scalar::dot_complex(w, x), isa.dot_complex(w, x), scale),
                        "{} dot_complex n={n}",
                        isa.name()
                    );
                    let mut want = b.to_vec();
                    scalar::axpy2(&mut want, 0.7, a, -1.3, &big_f[off + 9..off + 9 + n]);
                    let mut buf = vec![f32::NAN; n + 3];
                    buf[1..1 + n].copy_from_slice(b);
                    isa.axpy2(
                        &mut buf[1..1 + n],
                        0.7,
                        a,
                        -1.3,
                        &big_f[off + 9..off + 9 + n],
                    );
                    assert!(buf[0].is_nan() && buf[n + 1].is_nan() && buf[n + 2].is_nan());
                    for (p, q) in buf[1..1 + n].iter().zip(&want) {
                        assert!(
                            (p - q).abs() <= 1e-5,
                            "{} axpy2 n={n} off={off}",
                            isa.name()
                        );
                    }
                    let g = Complex32::new(0.01, -0.02);
                    let mut want = w.to_vec();
                    scalar::lms_update(&mut want, g, x);
                    // Output buffer at an odd offset, the rest poisoned: only [..n] may change.
                    let mut buf = vec![Complex32::new(f32::NAN, f32::NAN); n + 3];
                    buf[1..1 + n].copy_from_slice(w);
                    isa.lms_update(&mut buf[1..1 + n], g, x);
                    assert!(buf[0].re.is_nan() && buf[n + 1].re.is_nan() && buf[n + 2].re.is_nan());
                    for (p, q) in buf[1..1 + n].iter().zip(&want) {
                        assert!(
                            close(*p, *q, 1.0),
                            "{} lms_update n={n} off={off}",
                            isa.name()
                        );
                    }
                }
            }
        }
    }

    /// The fixed-length receiver kernels × ISA, `dot2_fixed` at D and the split kernels at
    /// S: the slice kernels' sums on that ISA bit for bit (those are held to the scalar
    /// reference above), and within rounding of the scalar reference.
    fn fixed_length_kernels_match<const D: usize, const S: usize>(mut seed: u64) {
        let mut arr = || -> ([f32; D], [f32; S]) {
            (
                std::array::from_fn(|_| rng(&mut seed) * 3.0),
                std::array::from_fn(|_| rng(&mut seed) * 3.0),
            )
        };
        for _ in 0..50 {
            let ((x, cr), (a, ci), (b, yr), (_, yi)) = (arr(), arr(), arr(), arr());
            let e = Complex32::new(0.013, -0.021);
            for isa in Isa::available() {
                let name = isa.name();
                let (p, q) = isa.dot2_fixed(&x, &a, &b);
                let (p1, q1) = isa.dot2_f32(&x, &a, &b);
                assert_eq!(
                    (p.to_bits(), q.to_bits()),
                    (p1.to_bits(), q1.to_bits()),
                    "{name}"
                );
                let (ps, qs) = scalar::dot2_f32(&x, &a, &b);
                assert!((p - ps).abs() <= 1e-4 && (q - qs).abs() <= 1e-4, "{name}");
                let z = isa.cdot_split_fixed(&cr, &ci, &yr, &yi);
                let z1 = isa.cdot_split(&cr, &ci, &yr, &yi);
                assert_eq!(
                    (z.re.to_bits(), z.im.to_bits()),
                    (z1.re.to_bits(), z1.im.to_bits()),
                    "{name}"
                );
                assert!(
                    close(z, scalar::cdot_split(&cr, &ci, &yr, &yi), 300.0),
                    "{name}"
                );
                let (mut c0, mut c1) = (cr, ci);
                isa.lms_split_fixed(&mut c0, &mut c1, e, &yr, &yi);
                let (mut d0, mut d1) = (cr, ci);
                isa.lms_split(&mut d0, &mut d1, e, &yr, &yi);
                assert_eq!((c0, c1), (d0, d1), "{name}");
                let (mut s0, mut s1) = (cr, ci);
                scalar::lms_split(&mut s0, &mut s1, e, &yr, &yi);
                for k in 0..S {
                    assert!(
                        (c0[k] - s0[k]).abs() <= 1e-5 && (c1[k] - s1[k]).abs() <= 1e-5,
                        "{name}"
                    );
                }
            }
        }
    }

    /// A receiver's kind of scalar arithmetic (products and sums, a division, a square
    /// root, bounds, conversions to fixed point, a complex rotation) with a kernel call in
    /// it: compiled for each instruction set by [`Isa::compiled_for`], the same bits as
    /// compiled for the baseline.
    #[test]
    fn compiled_for_gives_the_same_numbers() {
        struct Work<'a> {
            isa: Isa,
            x: &'a [f32; 32],
            a: &'a [f32; 32],
        }
        impl Compiled for Work<'_> {
            type Out = Vec<u32>;
            #[inline(always)]
            fn run(self) -> Vec<u32> {
                let mut out = Vec::new();
                let (mut acc, mut theta) = (0.3f32, 7u32);
                let mut z = Complex32::new(0.6, -0.8);
                for k in 0..32 {
                    let (p, q) = self.isa.dot2_fixed(self.x, self.a, self.a);
                    let e = (p * self.x[k] - q * self.a[k]) / (acc * acc + 1e-3);
                    acc = (acc + 0.01 * e).clamp(-2.0, 2.0) + (e.abs() + 1.0).sqrt() * 1e-3;
                    theta = theta.wrapping_add((e * 1e6) as i32 as u32);
                    z = z * Complex32::new(e.cos(), e.sin()) + Complex32::new(p, q) * 1e-3;
                    out.extend([acc.to_bits(), theta, z.re.to_bits(), z.im.to_bits()]);
                    out.push(((z.re * 4096.0).round() as i64) as u32);
                }
                out
            }
        }
        let mut seed = 5u64;
        let x: [f32; 32] = std::array::from_fn(|_| rng(&mut seed));
        let a: [f32; 32] = std::array::from_fn(|_| rng(&mut seed));
        for isa in Isa::available() {
            let work = || Work { isa, x: &x, a: &a };
            assert_eq!(isa.compiled_for(work()), work().run(), "{}", isa.name());
        }
    }

    /// The QAM receiver core's length (32) for all three.
    #[test]
    fn fixed_length_receiver_kernels_match() {
        fixed_length_kernels_match::<32, 32>(23);
    }

    /// The V.27ter receiver's lengths: its 48-tap matched filter, its 24-tap equaliser.
    #[test]
    fn v27ter_fixed_length_kernels_match() {
        fixed_length_kernels_match::<48, 24>(29);
    }

    #[test]
    fn overlap_add_is_axpy2_stroke_by_stroke() {
        let mut seed = 11u64;
        let x: Vec<f32> = (0..200).map(|_| rng(&mut seed)).collect();
        let y: Vec<f32> = (0..200).map(|_| rng(&mut seed)).collect();
        // Strokes anywhere in any order, and as the shapers make them: in order of place,
        // on 8-sample boundaries, several on one (the AVX2 kernel's register path).
        for (len, shaper) in (0..=40usize).flat_map(|len| [(len, false), (len, true)]) {
            let strokes: Vec<Stroke> = (0..23)
                .map(|k| Stroke {
                    at: if shaper { k * 5 / 8 * 8 } else { k * 7 % 61 } as u32,
                    pulse: (k * 13 % 150) as u32,
                    a: rng(&mut seed) * 3.0,
                    b: rng(&mut seed) * 3.0,
                })
                .collect();
            let start: Vec<f32> = (0..150).map(|_| rng(&mut seed)).collect();
            let mut reference = start.clone();
            scalar::overlap_add(&mut reference, &x, &y, len, &strokes);
            for isa in Isa::available() {
                let mut want = start.clone();
                for s in &strokes {
                    let (at, p) = (s.at as usize, s.pulse as usize);
                    isa.axpy2(
                        &mut want[at..at + len],
                        s.a,
                        &x[p..p + len],
                        s.b,
                        &y[p..p + len],
                    );
                }
                let mut got = start.clone();
                isa.overlap_add(&mut got, &x, &y, len, &strokes);
                assert_eq!(got, want, "{} len={len}", isa.name());
                for (g, r) in got.iter().zip(&reference) {
                    assert!(
                        (g - r).abs() <= 1e-5 * 23.0 * 9.0,
                        "{} len={len}",
                        isa.name()
                    );
                }
            }
        }
    }

    /// round_to_i16 × ISA against scalar, exactly: random values at every scale, the
    /// halves and their neighbours, the clamp edges, infinities and NaN, every length.
    #[test]
    fn round_to_i16_matches_scalar() {
        let mut seed = 5u64;
        let mut x: Vec<f32> = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            32766.5,
            -32767.5,
            32767.0,
            -32768.0,
            32767.5,
            -32768.5,
            40000.0,
            -40000.0,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            8388607.5,
            0.49999997,
            -0.49999997,
        ];
        for k in 0..2000 {
            let v = x[k % 25];
            x.push(f32::from_bits(v.to_bits().wrapping_add(1)));
            x.push(f32::from_bits(v.to_bits().wrapping_sub(1)));
            x.push(rng(&mut seed) * [1.0, 10.0, 1000.0, 40000.0][k % 4]);
            x.push((rng(&mut seed) * 100.0).trunc() + 0.5);
        }
        let mut want = vec![0i16; x.len()];
        scalar::round_to_i16(&x, &mut want);
        assert_eq!(scalar::round_i16(f32::NAN), 0);
        assert_eq!(scalar::round_i16(-2.5), -3);
        assert_eq!(scalar::round_i16(1e9), 32767);
        for (v, w) in x.iter().zip(&want) {
            if !v.is_nan() {
                assert_eq!(*w, v.round().clamp(-32768.0, 32767.0) as i16, "{v}");
            }
        }
        for isa in Isa::available() {
            for n in [0, 1, 7, 8, 9, 15, 16, 17, 31, x.len()] {
                let mut got = vec![123i16; n + 2];
                isa.round_to_i16(&x[..n], &mut got[..n]);
                assert_eq!(&got[..n], &want[..n], "{} n={n}", isa.name());
                assert_eq!(&got[n..], &[123, 123], "{} n={n}", isa.name());
            }
        }
    }

    /// The register-exchange kernel against scalar: runs of 40 steps on random trellises,
    /// metrics (coarse in some rounds, so that ties happen), labels and survivors, the
    /// origins reset now and then; then infinite and NaN branch metrics.
    #[test]
    fn acs8_survivors_matches_scalar() {
        let mut seed = 11u64;
        let byte = |seed: &mut u64, n: f32| ((rng(seed) + 1.0) * n * 0.5) as u8;
        for round in 0..300 {
            let mut pred = [[0u8; 8]; 4];
            let mut branch = [[0u8; 8]; 4];
            for y in 0..4 {
                for n in 0..8 {
                    pred[y][n] = byte(&mut seed, 8.0) & 7;
                    branch[y][n] = byte(&mut seed, 8.0) & 7;
                }
            }
            let t = Trellis8::new(pred, branch);
            let mut want_m: [f32; 8] = std::array::from_fn(|_| rng(&mut seed).abs() * 10.0);
            let mut want_s = Survivors8 {
                label: std::array::from_fn(|_| std::array::from_fn(|_| byte(&mut seed, 256.0))),
                origin: std::array::from_fn(|_| byte(&mut seed, 8.0) & 7),
            };
            let isas = Isa::available();
            let mut got: Vec<_> = isas.iter().map(|_| (want_m, want_s)).collect();
            for step in 0..40 {
                let dist: [f32; 8] = std::array::from_fn(|_| {
                    let v = rng(&mut seed).abs();
                    if round % 3 == 0 {
                        (v * 4.0).round()
                    } else {
                        v * 100.0
                    }
                });
                let labels: [u8; 8] = std::array::from_fn(|_| byte(&mut seed, 256.0));
                let cap = if round % 5 == 0 { 1.0 } else { 1e6 };
                if step % 8 == 0 {
                    want_s.origin = Survivors8::HERE;
                    got.iter_mut().for_each(|g| g.1.origin = Survivors8::HERE);
                }
                let want =
                    scalar::acs8_survivors(&t, &mut want_m, &dist, &labels, &mut want_s, cap);
                for (isa, (m, s)) in isas.iter().zip(got.iter_mut()) {
                    let state = isa.acs8_survivors(&t, m, &dist, &labels, s, cap);
                    let what = format!("{} round {round} step {step}", isa.name());
                    assert_eq!(state, want, "{what}");
                    assert_eq!(*m, want_m, "{what}");
                    assert_eq!(*s, want_s, "{what}");
                }
            }
        }
        let t = Trellis8::new([[0, 1, 2, 3, 4, 5, 6, 7]; 4], [[7, 6, 5, 4, 3, 2, 1, 0]; 4]);
        let labels = [9, 8, 7, 6, 5, 4, 3, 2];
        for bad in [f32::INFINITY, f32::NAN] {
            let (mut want_m, mut want_s) = ([0.0; 8], Survivors8::default());
            let want =
                scalar::acs8_survivors(&t, &mut want_m, &[bad; 8], &labels, &mut want_s, 1e6);
            for isa in Isa::available() {
                let (mut m, mut s) = ([0.0; 8], Survivors8::default());
                let got = isa.acs8_survivors(&t, &mut m, &[bad; 8], &labels, &mut s, 1e6);
                assert_eq!((got, m, s), (want, want_m, want_s), "{} {bad}", isa.name());
            }
        }
    }

    /// The branch-metric kernel against scalar, bit for bit: random points and coordinates
    /// (the full i8 range), then infinite and NaN points.
    #[test]
    fn distances8_matches_scalar() {
        let mut seed = 5u64;
        let mut cases = Vec::new();
        for _ in 0..3000 {
            let z = Complex32::new(rng(&mut seed) * 20.0, rng(&mut seed) * 20.0);
            let c = |seed: &mut u64| ((rng(seed) + 1.0) * 127.99 - 128.0) as i8;
            let re: [i8; 8] = std::array::from_fn(|_| c(&mut seed));
            let im: [i8; 8] = std::array::from_fn(|_| c(&mut seed));
            cases.push((z, re, im));
        }
        for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            cases.push((
                Complex32::new(bad, 1.5),
                [-128, 127, 0, 1, 2, 3, 4, 5],
                [0; 8],
            ));
            cases.push((
                Complex32::new(0.25, bad),
                [0; 8],
                [-128, 127, 0, 1, 2, 3, 4, 5],
            ));
        }
        for (z, re, im) in cases {
            let want = scalar::distances8(z, &re, &im).map(f32::to_bits);
            for isa in Isa::available() {
                let got = isa.distances8(z, &re, &im).map(f32::to_bits);
                // NaNs need not carry the same payload.
                let same = got.iter().zip(&want).all(|(g, w)| {
                    g == w || (f32::from_bits(*g).is_nan() && f32::from_bits(*w).is_nan())
                });
                assert!(
                    same,
                    "{} {z} {re:?} {im:?}: {got:x?} vs {want:x?}",
                    isa.name()
                );
            }
        }
    }

    /// The receivers' split-array kernels × ISA against scalar: random inputs of every
    /// length 0..=67 at every offset 0..4, outputs poisoned around the slice they may write.
    #[test]
    fn receiver_kernels_match_scalar() {
        let mut seed = 99u64;
        let v: Vec<Vec<f32>> = (0..6)
            .map(|_| (0..80).map(|_| rng(&mut seed) * 100.0).collect())
            .collect();
        for isa in Isa::available() {
            for n in 0..=67usize {
                for off in 0..4usize {
                    let s = |k: usize, o: usize| &v[k][off + o..off + o + n];
                    let scale = 1e4 * n as f32;
                    let want = scalar::dot2_f32(s(0, 0), s(1, 3), s(2, 1));
                    let got = isa.dot2_f32(s(0, 0), s(1, 3), s(2, 1));
                    assert!(
                        (want.0 - got.0).abs() <= 1e-5 * scale.max(1.0)
                            && (want.1 - got.1).abs() <= 1e-5 * scale.max(1.0),
                        "{} dot2_f32 n={n} off={off}: {want:?} vs {got:?}",
                        isa.name()
                    );
                    let want = scalar::cdot_split(s(0, 1), s(1, 0), s(2, 2), s(3, 3));
                    let got = isa.cdot_split(s(0, 1), s(1, 0), s(2, 2), s(3, 3));
                    assert!(
                        (want - got).norm() <= 1e-5 * scale.max(1.0),
                        "{} cdot_split n={n} off={off}: {want} vs {got}",
                        isa.name()
                    );
                    let e = Complex32::new(rng(&mut seed) * 1e-3, rng(&mut seed) * 1e-3);
                    let (mut wr, mut wi) = (s(4, 0).to_vec(), s(5, 2).to_vec());
                    scalar::lms_split(&mut wr, &mut wi, e, s(0, 3), s(1, 1));
                    let mut br = vec![f32::NAN; n + 3];
                    let mut bi = vec![f32::NAN; n + 3];
                    br[1..1 + n].copy_from_slice(s(4, 0));
                    bi[2..2 + n].copy_from_slice(s(5, 2));
                    isa.lms_split(&mut br[1..1 + n], &mut bi[2..2 + n], e, s(0, 3), s(1, 1));
                    assert!(br[0].is_nan() && br[n + 1].is_nan() && br[n + 2].is_nan());
                    assert!(bi[0].is_nan() && bi[1].is_nan() && bi[n + 2].is_nan());
                    for k in 0..n {
                        assert!(
                            (br[1 + k] - wr[k]).abs() <= 1e-4 && (bi[2 + k] - wi[k]).abs() <= 1e-4,
                            "{} lms_split n={n} off={off} k={k}",
                            isa.name()
                        );
                    }
                }
            }
        }
    }

    /// NEON is part of the aarch64 Linux ABI: the fast path must be the one chosen there.
    #[test]
    #[cfg(target_arch = "aarch64")]
    fn neon_is_chosen_on_aarch64() {
        assert_eq!(Isa::detect().name(), "neon");
    }

    #[test]
    fn mismatched_lengths_use_the_shorter() {
        let a = [1.0f32; 10];
        let b = [2.0f32; 7];
        for isa in Isa::available() {
            assert_eq!(isa.dot_f32(&a, &b), 14.0);
        }
    }
}
