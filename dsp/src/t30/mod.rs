//! ITU-T T.30 — the Group 3 fax protocol. So far its frame layer: the facsimile control
//! field codes ([`Fcf`], T.30 §5.3.6 Table 1), raw frames and their typed meaning
//! ([`Frame`] → [`FrameRepr`], smoltcp's Packet/Repr habit) and the capabilities of
//! DIS/DTC/DCS spelled out ([`Caps`], T.30 Table 2).
//!
//! **Not supported yet:** the engine (phases A–E, timers, ECM): issue 5 continues here.
//!
//! **Tested by:** unit tests with frames of T.30's own examples and of a real call (the
//! DIS and DCS of vectors/real-fax-audio), and `tests/real_fax_audio.rs`.

mod caps;
mod fcf;
mod frame;

pub use caps::{Caps, Coding, DataRate, Modulation, Resolution, ScanTime, Width};
pub use fcf::Fcf;
pub use frame::{Frame, FrameError, FrameRepr, ident_from_fif, ident_to_fif};
