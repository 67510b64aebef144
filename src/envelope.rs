//! A message as the SMTP server accepted it, for delivery: the envelope (RFC 5321 §3.3:
//! reverse-path, one or more forward-paths) with its DSN parameters (RFC 3461 §4: `RET`,
//! `ENVID`, `NOTIFY`, `ORCPT`), and the message data. The ESMTP session builds it and
//! delivery consumes it; neither needs the other to name it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::address::FaxAddress;
use crate::dialplan::Route;

/// `BODY=` (RFC 6152 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    SevenBit,
    EightBitMime,
}

/// `RET=` (RFC 3461 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Full,
    Hdrs,
}

/// MAIL parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParams {
    pub size: Option<u64>,
    pub body: Option<Body>,
    pub ret: Option<Ret>,
    /// `ENVID`, xtext-decoded.
    pub envid: Option<String>,
}

/// `NOTIFY=` (RFC 3461 §4.1). Stored with a queued job, as JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub never: bool,
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
}

/// One accepted recipient.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// As the client wrote it (inside the angle brackets).
    pub address: String,
    /// `None` for `postmaster`.
    pub fax: Option<(FaxAddress, Route)>,
    pub notify: Option<Notify>,
    pub orcpt: Option<(String, String)>,
}

/// A message to deliver.
#[derive(Debug, Clone)]
pub struct Message {
    pub helo: String,
    pub peer: Option<IpAddr>,
    pub sender: String,
    pub mail: MailParams,
    pub recipients: Vec<Recipient>,
    /// The message as received (dot-unstuffed, CRLF line ends as sent).
    pub data: Vec<u8>,
    /// XACCOUNTING was turned on.
    pub xact: bool,
    pub authenticated: Option<String>,
}
