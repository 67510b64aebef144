//! ITU-T T.30 — the Group 3 fax protocol. So far its frame layer: the facsimile control
//! field codes ([`Fcf`], T.30 §5.3.6 Table 1), raw frames and their typed meaning
//! ([`Frame`] → [`FrameRepr`], smoltcp's Packet/Repr habit) and the capabilities of
//! DIS/DTC/DCS spelled out ([`Caps`], T.30 Table 2).
//!
//! The [`Engine`] runs a call at frame level (phases A–E, timers T1/T2/T4, the 3-try rule,
//! FTT fallback, copy quality, Class 2 hangup codes); `fax::Terminal` (to come) joins it to
//! the modems.
//!
//! **Not supported yet:** ECM (T.30 Annex A), polling; the terminal that drives the engine
//! with audio.
//!
//! **Tested by:** unit tests with frames of T.30's own examples and of a real call (the
//! DIS and DCS of vectors/real-fax-audio), and `tests/real_fax_audio.rs`.

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
