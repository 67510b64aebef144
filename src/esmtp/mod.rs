//! The ESMTP off-ramp (RFC 5321; the replies are docs/contracts/smtp.md): our own command
//! [`parser`] (XACT included), the message-data receiver ([`data`]), AUTH's decoding and
//! password check ([`auth`]), the sans-IO [`session`] state machine, and the tokio
//! [`server`] that runs sessions over TCP (and STARTTLS) and hands each accepted
//! [`Message`] to a [`Deliver`]er — the gateway's delivery, which this module never names.

pub mod auth;
pub mod data;
pub mod fuzzing;
pub mod parser;
pub mod server;
pub mod session;

use std::future::Future;
use std::time::Instant;

use crate::envelope::Message;

/// Where the server hands what it accepted.
pub trait Deliver: Send + Sync + 'static {
    /// The reply to the final dot for `msg` (one or more CRLF-terminated lines);
    /// `data_started` is when 354 went out.
    fn deliver(
        &self,
        msg: Box<Message>,
        data_started: Instant,
    ) -> impl Future<Output = String> + Send;

    /// A recipient was refused by the policy (abort_cause 5). Called on a blocking thread.
    fn policy_denied(&self, sender: &str, recipient: &str, number: &str);

    /// The client left during DATA (abort_cause 2). Called on a blocking thread.
    fn data_aborted(&self, sender: &str, recipients: &[String]);
}
