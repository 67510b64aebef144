//! The accounting records delivery writes: one per call attempt, and one for each job
//! that ended before a call (no free line, the line out of order, a refusal, a client
//! that left during DATA). Fields: docs/contracts/accounting.md.

use std::path::Path;
use std::time::SystemTime;

use super::job::Job;
use crate::accounting::{self, Log, Record};
use crate::config::Config;

/// Append `r` to the accounting log; an error is logged (the reply still goes out).
pub fn append(log: &Log, r: &Record) {
    if let Err(e) = log.append(r) {
        tracing::error!(path = %log.path().display(), "accounting log: {e}");
    }
}

pub fn blank_record(config: &Config, port: &str) -> Record {
    Record {
        time: accounting::rfc3339(SystemTime::now()),
        status: String::new(),
        status_text: String::new(),
        reply_code: 0,
        enhanced_code: String::new(),
        fax_modem_time: "0/0".into(),
        fax_pages: 0,
        gateway_id: config.gateway_id.clone(),
        fax_connect_speed: "2400bps".into(),
        transmit_bytes: 0,
        port_used: port.into(),
        call_type: "Fax Send".into(),
        abort_cause: 0,
        t30_error_code: 0,
        isdn_disconnect_code: 0,
        csid: String::new(),
        message_id: String::new(),
        sender: String::new(),
        recipient: String::new(),
        dial: String::new(),
        hangup_text: String::new(),
        ecm: false,
        compression: "none".into(),
        resolution: String::new(),
        attempt: 1,
        document_pages: 0,
        job: String::new(),
    }
}

pub fn job_record(config: &Config, job: &Job, port: &str, attempt: u32) -> Record {
    let mut r = blank_record(config, port);
    r.message_id = job.message_id.clone();
    r.sender = job.sender.clone();
    r.recipient = job.recipient.clone();
    r.dial = job.dial.clone();
    r.attempt = attempt;
    r.job = job.id.clone();
    r
}

pub fn no_line_record(config: &Config, job: &Job, mail_s: f64) -> Record {
    let mut r = job_record(config, job, "", 1);
    r.status = "no_line".into();
    r.status_text = "Modem busy".into();
    r.reply_code = 450;
    r.enhanced_code = "4.3.2".into();
    r.abort_cause = 1;
    r.isdn_disconnect_code = 34;
    r.fax_modem_time = format!("0/{}", mail_s.floor() as u64);
    r
}

/// The line could not be opened or dialled, or failed mid-call: Q.850 38, out of order.
pub fn line_down(mut r: Record, why: &str, mail_s: f64) -> Record {
    tracing::error!("line: {why}");
    r.status = "line_down".into();
    r.status_text = "Line out of order".into();
    r.hangup_text = why.chars().take(200).collect();
    r.reply_code = 451;
    r.enhanced_code = "4.4.2".into();
    r.abort_cause = 1;
    r.isdn_disconnect_code = 38;
    r.fax_modem_time = format!("0/{}", mail_s.floor() as u64);
    r
}

/// The delivery thread itself failed.
pub fn panic_record() -> Record {
    let mut r = blank_record(
        &Config::parse(EMPTY, "", Path::new("/")).expect("valid"),
        "",
    );
    r.status = "internal_error".into();
    r.status_text = "Local error in processing".into();
    r.reply_code = 451;
    r.enhanced_code = "4.3.0".into();
    r.abort_cause = 1;
    r.isdn_disconnect_code = 31;
    r
}

const EMPTY: &str = "gateway_id = \"localhost\"\nlisten = \"127.0.0.1:0\"\nspool = \"/tmp\"\ndomains = [\"localhost\"]\n[[line]]\nuri = \"sim:\"\n";
