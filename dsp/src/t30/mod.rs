//! ITU-T T.30 — the Group 3 fax protocol, in two layers. The frame layer: the facsimile
//! control field codes ([`Fcf`], T.30 §5.3.6 Table 1), raw frames and their typed meaning
//! ([`Frame`] → [`FrameRepr`], smoltcp's Packet/Repr habit) and the capabilities of
//! DIS/DTC/DCS spelled out ([`Caps`], T.30 Table 2).
//!
//! Above it the [`Engine`] runs a call (phases A–E, timers T1/T2/T4/T5, the 3-try rule, FTT
//! fallback, copy quality, ECM per Annex A) and ends it with a Class 2 hangup code
//! ([`Outcome`], T.32); `fax::Terminal` joins it to the modems.
//!
//! **Not supported yet:** polling (DTC), PRI-x operator interrupts, T.30 Annex C/V.34.
//!
//! **Tested by:** unit tests with frames of T.30's own examples and of a real call (the
//! DIS and DCS of vectors/real-fax-audio), two engines back to back (`tests.rs`: every phase,
//! fallback, lost frames, RTN, ECM with PPR/CTC/EOR, timeouts), the `t30_engine` fuzz target,
//! `tests/real_fax_audio.rs`, `tests/fax_failures.rs` and `tests/interop_spandsp_fax.rs`.

mod caps;
mod engine;
mod fcf;
mod frame;
mod outcome;
#[cfg(test)]
mod tests;

pub use caps::{Caps, Coding, DataRate, Modulation, Resolution, ScanTime, Width};
pub use engine::{Action, Config, Document, Engine, Event, Input, RATE, SampleTime, Timer};
pub use fcf::Fcf;
pub use frame::{Frame, FrameError, FrameRepr, ident_from_fif, ident_to_fif};
pub use outcome::{Hangup, Outcome};
