//! softfax — a soft-modem fax engine and e-mail-to-fax gateway.
//!
//! This crate is the gateway and the command line (DESIGN §1, §4). The signal processing
//! and protocol cores live in [`softfax_dsp`]; the telephone lines in [`softfax_drivers`].
//!
//! Modules today:
//! - [`cli`] — the `softfax` command line (clap), every subcommand of DESIGN §4.
//! - [`t4cmd`] — `softfax t4 encode|decode|info`.
//! - [`faxcmd`] — `softfax fax send|recv`: one call over a line, the result JSON.
//! - [`modemcmd`] — `softfax modem tx|rx`.
//! - [`bercmd`] — `softfax ber`: BER sweeps through the line simulator.
//! - [`pngout`] — pages written as PNG for people to look at.
//! - [`plot`] — BER curves and constellations as PNG.
//! - [`documents`] — fax-mail (MIME: TIFF, text/plain, cover page) → fax pages.

pub mod bercmd;
pub mod cli;
pub mod documents;
pub mod faxcmd;
pub mod modemcmd;
pub mod plot;
pub mod pngout;
pub mod t4cmd;

pub use softfax_drivers as drivers;
pub use softfax_dsp as dsp;
