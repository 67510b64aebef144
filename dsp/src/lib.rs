//! softfax-dsp — everything that turns bits into samples and back, and the protocols above
//! them (docs/architecture.md). Pure: no files, sockets, threads or clocks; time enters as
//! sample counts.
//!
//! - [`t4`] — the fax image codecs of ITU-T T.4 (MH, MR) and T.6 (MMR), row-streaming.
//! - [`image`] — bilevel pages (packed rows) shared by the codecs and containers.
//! - [`tiff`] — TIFF reading (any bilevel CCITT/uncompressed/PackBits) and TIFF Class F writing.
//! - [`pbm`] — netpbm PBM (P4 and P1), several images per file.
//! - [`modem`] — V.21 channel 2, V.27ter, V.29 and V.17.
//! - [`signal`] — windows, RRC pulses, FIR filters and resampling, shared by the modems, the
//!   line simulator and the drivers.
//! - [`simd`] — the modems' hot-loop kernels with run-time ISA choice (SSE4.1 and AVX2+FMA on
//!   x86-64, NEON on aarch64), each proved against its scalar reference.
//! - [`hdlc`] — T.30's HDLC framing: flags, zero-bit insertion, FCS, aborts.
//! - [`t30`] — T.30: frames, DIS/DTC/DCS capabilities, and the engine that runs a call
//!   (phases A–E, ECM per Annex A, Class 2 hangup codes).
//! - [`fax`] — the fax terminal: T.30 engine + modems + HDLC + tones + T.4, driven by samples.
//! - [`g711`], [`tones`], [`linesim`] — G.711, fax/DTMF/call-progress tones, the line simulator.
//! - [`fuzzing`] — the bodies of the cargo-fuzz targets, shared with the corpus-replay test.
//!
//! `unsafe` is denied everywhere but in [`simd`].
//!
//! **Not supported yet:** polling (DTC), PRI-x operator interrupts, V.34 fax (T.30 Annex C).

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
