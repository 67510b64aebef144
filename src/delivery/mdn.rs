//! Message disposition notifications (RFC 3798, in an RFC 6522 `multipart/report;
//! report-type=disposition-notification`), for a fax-mail that carries
//! `Disposition-Notification-To` (docs/contracts/smtp.md). The off-ramp reports the
//! disposition RFC 2532 (extended mode) gives an off-ramp: `processed` once the fax reached the remote
//! terminal, and `processed/error` with an `Error` field (RFC 3798 §3.2.6–3.2.7) when
//! a message the gateway accepted could not be faxed.
//!
//! Sent as RFC 3798 §2.1 asks: `MAIL FROM:<>`, never for the null reverse-path, and only
//! automatically when the address asked for is the envelope sender (the message's
//! `Return-Path`); at most one per job. It goes the way DSNs go (`[dsn]`, [`super::dsn`]).

use super::dsn::{headers_part, post, report_head};
use super::header;
use super::job::Job;
use crate::accounting::Record;
use crate::config::Config;

/// The address `Disposition-Notification-To` asks the MDN to go to, when the gateway may
/// send one automatically: a single address, equal to the envelope sender.
pub fn requested(data: &[u8], sender: &str) -> Option<String> {
    if sender.is_empty() {
        return None;
    }
    let v = header(data, "disposition-notification-to")?;
    let addrs: Vec<&str> = v.split(',').map(address).collect();
    match addrs.as_slice() {
        [a] if a.eq_ignore_ascii_case(sender) => Some(a.to_string()),
        _ => {
            tracing::info!(asked = %v, sender, "Disposition-Notification-To is not the envelope sender: no MDN");
            None
        }
    }
}

/// The address of one mailbox (`Name <a@b>` or `a@b`).
fn address(mailbox: &str) -> &str {
    let m = mailbox.trim();
    match (m.rfind('<'), m.rfind('>')) {
        (Some(i), Some(j)) if i < j => m[i + 1..j].trim(),
        _ => m,
    }
}

/// Build the MDN for `job`'s outcome `r` (CRLF line ends), addressed to `to`.
pub fn build(config: &Config, job: &Job, data: &[u8], r: &Record, to: &str) -> String {
    let gw = &config.gateway_id;
    let ok = r.reply_code / 100 == 2;
    let boundary = format!("softfax-mdn-{}", job.id);
    let word = if ok { "processed" } else { "failed" };
    let refs = if job.message_id.is_empty() {
        String::new()
    } else {
        format!("In-Reply-To: {0}\r\nReferences: {0}\r\n", job.message_id)
    };
    let mut m = report_head(
        gw,
        to,
        &format!("Fax {word} : {}", job.recipient),
        &format!("mdn-{}", job.id),
        &refs,
        "disposition-notification",
        &boundary,
    );
    let what = if ok {
        format!("was sent to the remote fax machine ({} pages)", r.fax_pages)
    } else {
        format!(
            "could not be sent to the remote fax machine: {}",
            r.status_text
        )
    };
    m.push_str(&format!(
        "This is the softfax fax gateway {gw}.\r\n\r\nYour fax to {} (dialled as {}) {what}.\r\n\r\n",
        job.recipient, job.dial
    ));
    for l in r.accounting_lines() {
        m.push_str(&format!("  {l}\r\n"));
    }
    m.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n"
    ));
    m.push_str(&format!(
        "Reporting-UA: {gw}; softfax {}\r\n",
        env!("CARGO_PKG_VERSION")
    ));
    let original = header(data, "original-recipient").or_else(|| job.orcpt.clone());
    if let Some(o) = original {
        m.push_str(&format!("Original-Recipient: {o}\r\n"));
    }
    m.push_str(&format!("Final-Recipient: rfc822; {}\r\n", job.recipient));
    if !job.message_id.is_empty() {
        m.push_str(&format!("Original-Message-ID: {}\r\n", job.message_id));
    }
    if ok {
        m.push_str("Disposition: automatic-action/MDN-sent-automatically; processed\r\n");
    } else {
        m.push_str("Disposition: automatic-action/MDN-sent-automatically; processed/error\r\n");
        m.push_str(&format!(
            "Error: {} {} {}; T30 {}; Q850 {}\r\n",
            r.reply_code, r.enhanced_code, r.status_text, r.t30_error_code, r.isdn_disconnect_code
        ));
    }
    headers_part(&mut m, data, &boundary);
    m
}

/// Send (or file) the MDN for `job`'s final outcome when the message asked for one.
pub fn send(config: &Config, job: &Job, data: &[u8], r: &Record) {
    let Some(to) = requested(data, &job.sender) else {
        return;
    };
    let msg = build(config, job, data, r, &to);
    let name = if r.reply_code / 100 == 2 {
        "mdn-processed"
    } else {
        "mdn-failed"
    };
    post(config, &job.id, &format!("{}-{name}", job.id), &to, &msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asked_by_the_sender_only() {
        let m = b"From: a\r\nDisposition-Notification-To: Ann <Ann@Example.org>\r\n\r\nx";
        assert_eq!(
            requested(m, "ann@example.org").as_deref(),
            Some("Ann@Example.org")
        );
        assert_eq!(requested(m, "bob@example.org"), None);
        assert_eq!(requested(m, ""), None, "never for the null reverse-path");
        let two = b"Disposition-Notification-To: a@x, b@y\r\n\r\n";
        assert_eq!(requested(two, "a@x"), None);
        assert_eq!(requested(b"Subject: no\r\n\r\n", "a@x"), None);
        assert_eq!(
            requested(b"Disposition-Notification-To: a@x\r\n\r\n", "a@x").as_deref(),
            Some("a@x")
        );
    }
}
