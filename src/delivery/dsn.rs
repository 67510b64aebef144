//! Delivery status notifications (RFC 3464, in an RFC 6522 `multipart/report`), for mail
//! the gateway accepted with 250 (docs/contracts/smtp.md), in both delivery modes:
//! *delivered* when the RCPT asked `NOTIFY=SUCCESS`, *failed* unless `NOTIFY=NEVER`,
//! *delayed* when asked `NOTIFY=DELAY`; never to the null reverse-path. Parts: a text for people with the XACCOUNTING lines,
//! `message/delivery-status`, and the original headers (`text/rfc822-headers`) or, with
//! `RET=FULL`, the whole message (`message/rfc822`).
//!
//! A DSN goes to the `[dsn] relay` (SMTP, `MAIL FROM:<>`) or into the `[dsn] outbox`
//! folder as `<id>.eml`; with neither it is logged and dropped.

use std::time::{Duration, SystemTime};

use super::job::{Job, write_durable};
use crate::accounting::{Record, rfc5322};
use crate::config::Config;
use crate::envelope::Notify;
use crate::smtp_client::{self, ClientOptions};

/// What happened to the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Delivered,
    Failed,
    Delayed,
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Action::Delivered => "delivered",
            Action::Failed => "failed",
            Action::Delayed => "delayed",
        }
    }
}

/// Build the DSN message (CRLF line ends).
pub fn build(config: &Config, job: &Job, data: &[u8], r: &Record, action: Action) -> String {
    let now = rfc5322(SystemTime::now());
    let boundary = format!("softfax-dsn-{}", job.id);
    let gw = &config.gateway_id;
    let status = match action {
        Action::Delivered => "2.0.0".to_string(),
        Action::Failed => permanent(&r.enhanced_code),
        Action::Delayed => r.enhanced_code.clone(),
    };
    let subject = format!("Fax {} : {}", action.word(), job.recipient);
    let mut m = report_head(
        gw,
        &job.sender,
        &subject,
        &format!("dsn-{}", job.id),
        "",
        "delivery-status",
        &boundary,
    );
    let what = match action {
        Action::Delivered => "was delivered to the remote fax machine".to_string(),
        Action::Failed => format!("could not be delivered: {}", r.status_text),
        Action::Delayed => format!(
            "has not been delivered yet ({}); the gateway keeps trying",
            r.status_text
        ),
    };
    m.push_str(&format!(
        "This is the softfax fax gateway {gw}.\r\n\r\nYour fax to {} (dialled as {}) {what}.\r\nAttempts: {}.\r\n\r\n",
        job.recipient, job.dial, r.attempt
    ));
    for l in r.accounting_lines() {
        m.push_str(&format!("  {l}\r\n"));
    }
    m.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
    ));
    if let Some(e) = &job.envid {
        m.push_str(&format!("Original-Envelope-Id: {e}\r\n"));
    }
    m.push_str(&format!("Reporting-MTA: dns; {gw}\r\n"));
    if !job.helo.is_empty() {
        m.push_str(&format!("Received-From-MTA: dns; {}\r\n", job.helo));
    }
    m.push_str(&format!("Arrival-Date: {}\r\n\r\n", job.arrival));
    if let Some(o) = &job.orcpt {
        m.push_str(&format!("Original-Recipient: {o}\r\n"));
    }
    m.push_str(&format!("Final-Recipient: rfc822; {}\r\n", job.recipient));
    m.push_str(&format!(
        "Action: {}\r\nStatus: {status}\r\n",
        action.word()
    ));
    if action != Action::Delivered {
        m.push_str(&format!(
            "Diagnostic-Code: X-FAX; T30 {} {}; Q850 {}\r\n",
            r.t30_error_code, r.status_text, r.isdn_disconnect_code
        ));
    }
    m.push_str(&format!(
        "Last-Attempt-Date: {now}\r\nFinal-Log-ID: {}\r\n",
        job.id
    ));
    m.push_str(&format!(
        "X-Fax-Pages: {}\r\nX-Fax-CSID: {}\r\nX-Fax-Modem-Time: {}\r\n",
        r.fax_pages, r.csid, r.fax_modem_time
    ));
    if job.ret_full {
        m.push_str(&format!(
            "\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        ));
        m.push_str(&String::from_utf8_lossy(data));
        if !m.ends_with("\r\n") {
            m.push_str("\r\n");
        }
        m.push_str(&format!("--{boundary}--\r\n"));
    } else {
        headers_part(&mut m, data, &boundary);
    }
    m
}

/// The status of a recipient that failed for good: class 5 (permanent, RFC 3463 §3.1) with
/// the subject and detail of the last attempt's code. A job that gave up after its last
/// temporary failure (`450 4.3.2 Modem busy` on every attempt) is reported `5.3.2`:
/// RFC 3464 §2.3.4 wants a 5.x.x status for `Action: failed`, and 4.x.x only for `delayed`.
pub fn permanent(esc: &str) -> String {
    match esc.split_once('.') {
        Some((_, rest)) if !rest.is_empty() => format!("5.{rest}"),
        _ => "5.0.0".to_string(),
    }
}

/// The head of a notification from the gateway to `to` (RFC 6522 `multipart/report` of
/// `report_type`), through the start of its first part, `text/plain`; `extra` holds more
/// header lines (CRLF ended).
pub(super) fn report_head(
    gw: &str,
    to: &str,
    subject: &str,
    id: &str,
    extra: &str,
    report_type: &str,
    boundary: &str,
) -> String {
    let mut m = format!("From: Mail Delivery System <MAILER-DAEMON@{gw}>\r\nTo: <{to}>\r\n");
    m.push_str(&format!("Subject: {subject}\r\n"));
    m.push_str(&format!("Date: {}\r\n", rfc5322(SystemTime::now())));
    m.push_str(&format!("Message-ID: <{id}@{gw}>\r\n{extra}"));
    m.push_str("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/report; report-type={report_type};\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str("This is a MIME-encapsulated report.\r\n\r\n");
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    ));
    m
}

/// The last part: the original message's header as `text/rfc822-headers` (RFC 6522 §4),
/// and the closing boundary.
pub(super) fn headers_part(m: &mut String, data: &[u8], boundary: &str) {
    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(data.len(), |i| i + 2);
    m.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    ));
    m.push_str(&String::from_utf8_lossy(&data[..head_end]));
    if !m.ends_with("\r\n") {
        m.push_str("\r\n");
    }
    m.push_str(&format!("--{boundary}--\r\n"));
}

/// The DSNs due once a job has its outcome: *delivered* on success when the RCPT asked
/// `NOTIFY=SUCCESS`; *failed* when `last` (no retry follows) unless `NOTIFY=NEVER` — without
/// NOTIFY, failures only (RFC 3461 §4.1); *delayed* for a retried failure when asked.
pub fn due(job: &Job, r: &Record, last: bool) -> Option<Action> {
    let n = job.notify.unwrap_or(Notify {
        never: false,
        success: false,
        failure: true,
        delay: false,
    });
    if n.never {
        None
    } else if r.reply_code / 100 == 2 {
        n.success.then_some(Action::Delivered)
    } else if last {
        n.failure.then_some(Action::Failed)
    } else {
        n.delay.then_some(Action::Delayed)
    }
}

/// Send (or file) the DSN when one is due for this sender.
pub fn send(config: &Config, job: &Job, data: &[u8], r: &Record, action: Action) {
    if job.sender.is_empty() {
        return; // never to the null reverse-path
    }
    let msg = build(config, job, data, r, action);
    post(
        config,
        &job.id,
        &format!("{}-{}", job.id, action.word()),
        &job.sender,
        &msg,
    );
}

/// Hand a notification (`MAIL FROM:<>`) to `[dsn] relay`, or file it in `[dsn] outbox` as
/// `<name>.eml`; with neither it is logged and dropped. Errors are logged.
pub(super) fn post(config: &Config, job: &str, name: &str, to: &str, msg: &str) {
    let result = if let Some(relay) = &config.dsn.relay {
        relay_send(relay, &config.gateway_id, to, msg)
    } else if let Some(dir) = &config.dsn.outbox {
        let path = dir.join(format!("{name}.eml"));
        write_durable(dir, &path, msg.as_bytes()).map_err(|e| e.to_string())
    } else {
        tracing::info!(job, name, "no [dsn] relay or outbox: notification dropped");
        Ok(())
    };
    match result {
        Ok(()) => tracing::info!(job, name, "notification sent"),
        Err(e) => tracing::error!(job, name, "notification not sent: {e}"),
    }
}

/// Submit with the SMTP client (`MAIL FROM:<>`, one RCPT; STARTTLS when offered).
fn relay_send(relay: &str, helo: &str, to: &str, msg: &str) -> Result<(), String> {
    let opts = ClientOptions {
        timeout: Duration::from_secs(60),
        ..ClientOptions::default()
    };
    smtp_client::submit(relay, &opts, helo, "", &[to], msg.as_bytes())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_recipient_gets_a_permanent_status() {
        assert_eq!(permanent("4.3.2"), "5.3.2");
        assert_eq!(permanent("4.4.1"), "5.4.1");
        assert_eq!(permanent("5.3.3"), "5.3.3");
        assert_eq!(permanent(""), "5.0.0");
    }
}
