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
//! - [`analyze`] — `softfax analyze`: a recorded or captured call decoded offline.
//! - [`pngout`] — pages written as PNG for people to look at.
//! - [`plot`] — BER curves and constellations as PNG.
//! - [`documents`] — fax-mail (MIME: TIFF, text/plain, cover page) → fax pages.
//! - [`esmtp`] — the ESMTP off-ramp: command parser (XACT), sans-IO session, tokio server.
//! - [`delivery`] — immediate and queued delivery, the line pool, DSNs.
//! - [`call`] — one fax call over a line, with call-progress detection.
//! - [`config`], [`address`], [`dialplan`], [`accounting`] — `softfax.toml`, RFC 2304
//!   addresses, dial plan and policy, the accounting log.
//! - [`gatewaycmd`] — `softfax serve`, `demo`, `accounting`.

pub mod accounting;
pub mod address;
pub mod analyze;
pub mod bercmd;
pub mod call;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod dialplan;
pub mod documents;
pub mod envelope;
pub mod esmtp;
pub mod faxcmd;
pub mod gateway;
pub mod gatewaycmd;
pub mod modemcmd;
pub mod plot;
pub mod pngout;
pub mod t4cmd;

pub use softfax_drivers as drivers;
pub use softfax_dsp as dsp;
