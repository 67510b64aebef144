//! softfax-dsp — everything that turns bits into samples and back, and the protocols above
//! them (DESIGN §1). Pure: no files, sockets, threads or clocks; time enters as sample counts.
//!
//! Modules today:
//! - [`t4`] — the fax image codecs of ITU-T T.4 (MH, MR) and T.6 (MMR), row-streaming.
//! - [`image`] — bilevel pages (packed rows) shared by the codecs and containers.
//! - [`tiff`] — TIFF reading (any bilevel CCITT/uncompressed/PackBits) and TIFF Class F writing.
//! - [`pbm`] — netpbm PBM (P4 and P1), several images per file.
//! - [`simd`] — the hot-loop kernels with run-time ISA choice (SSE4.1, AVX2), proved against scalar.
//! - [`fuzzing`] — the bodies of the cargo-fuzz targets, shared with the corpus-replay test.
//! - [`modem`] — V.21 ch 2, V.27ter, V.29, V.17 (issue 4, in progress).
//! - [`g711`], [`tones`], [`linesim`] — G.711, fax/DTMF/call-progress tones, the line simulator.
//!
//! `unsafe` is denied everywhere but in [`simd`].
//!
//! - [`hdlc`] — T.30's HDLC framing: flags, zero-bit insertion, FCS, aborts.
//!
//! - [`t30`] — T.30 frames: FCF codes, DIS/DTC/DCS capabilities spelled out, identities.
//!
//! - [`fax`] — the fax terminal: T.30 engine + modems + HDLC + tones + T.4, driven by samples.
//!
//! **Not supported yet:** ECM.

#![deny(unsafe_code)]

pub mod fax;
pub mod fuzzing;
pub mod g711;
pub mod hdlc;
pub mod image;
pub mod linesim;
pub mod modem;
pub mod pbm;
pub mod signal;
#[allow(unsafe_code)]
pub mod simd;
pub mod t30;
pub mod t4;
pub mod tiff;
pub mod tones;
