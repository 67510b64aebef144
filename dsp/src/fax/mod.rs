//! A fax terminal (T.30 over the PSTN) and the analysis of recorded calls, built on the
//! T.30 engine, the modems, HDLC, the fax tones and the T.4 codec.
//!
//! - [`terminal`]: the [`Terminal`] state machine — T.30 drives it, it drives the modems.
//! - [`modems`]: the modem set, which modem carries which phase of the call.
//! - `sinks`: the receive sinks (V.21/HDLC frames, TCF, ECM frames, page data).
//! - [`pages`]: the one DCS → T.4 coding and resolution mapping; pages coded and decoded.
//! - [`analysis`]: a recorded call (audio in) read back as tones, frames, modem segments
//!   and pages, with the terminal's receivers and sinks.

pub mod analysis;
pub mod modems;
pub mod pages;
mod sinks;
pub mod terminal;

pub use modems::{TX_LEVEL_DBM0, image_rx, image_tx, modem_rate};
pub use terminal::{Terminal, run_pair};
