//! softfax — a soft-modem fax engine and e-mail-to-fax gateway.
//!
//! This crate is the gateway and the command line (`docs/architecture.md`,
//! `docs/contracts/cli.md`). The signal processing and protocol cores live in [`softfax_dsp`];
//! the telephone lines in [`softfax_drivers`].
//!
//! Modules:
//! - [`cli`] — the `softfax` command line (clap): one module per subcommand (`t4`, `fax` and
//!   `loopback`, `modem`, `ber`, `serve`/`demo`/`accounting`, `analyze`).
//! - [`analyze`] — `softfax analyze`: a recorded or captured call decoded offline.
//! - [`pngout`] — pages written as PNG for people to look at.
//! - [`plot`] — BER curves and constellations as PNG.
//! - [`documents`] — fax-mail (MIME: TIFF, text/plain, cover page) → fax pages.
//! - [`esmtp`] — the ESMTP off-ramp: command parser (XACT), sans-IO session, tokio server.
//! - [`delivery`] — immediate and queued delivery, the line pool, DSNs.
//! - [`envelope`] — a message as the server accepted it: envelope, DSN parameters, data.
//! - [`gateway`] — delivery, queue workers, the on-ramp and the ESMTP server started together.
//! - [`onramp`] — answering lines: received faxes mailed as RFC 2305 fax-mail.
//! - [`smtp_client`] — submits one message to an MTA (STARTTLS, AUTH, 4yz/5yz).
//! - [`metrics`], [`radius`], [`service`] — operations: Prometheus text at `/metrics`,
//!   RADIUS accounting, systemd notification, journald logs, signals.
//! - [`call`] — one fax call over a line, with call-progress detection.
//! - [`config`], [`address`], [`dialplan`], [`accounting`] — `softfax.toml`, RFC 2304
//!   addresses, dial plan and policy, the accounting log.

pub mod accounting;
pub mod address;
pub mod analyze;
pub mod call;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod dialplan;
pub mod documents;
pub mod envelope;
pub mod esmtp;
pub mod gateway;
pub mod metrics;
pub mod onramp;
pub mod plot;
pub mod pngout;
pub mod radius;
pub mod report;
pub mod service;
pub mod smtp_client;

pub use softfax_drivers as drivers;
pub use softfax_dsp as dsp;
