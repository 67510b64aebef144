//! The accounting records delivery writes: one per call attempt, and one for each job
//! that ended before a call (no free line, the line out of order, a refusal, a client
//! that left during DATA). Fields: docs/contracts/accounting.md.

use std::time::SystemTime;

use super::job::Job;
use super::verdict::Verdict;
use crate::accounting::{self, Log, Record};
use crate::config::Config;
use crate::radius;

/// Append `r` to the accounting log (an error is logged: the reply still goes out) and
/// count it in the metrics.
pub fn append(log: &Log, r: &Record) {
    if let Err(e) = log.append(r) {
        tracing::error!(path = %log.path().display(), "accounting log: {e}");
    }
    crate::metrics::global().record(r);
}

/// A call of `job` took the line with `port`: RADIUS Accounting Start (when configured).
/// The session id is the job's id and the attempt number.
pub fn call_started(
    radius: Option<&radius::Client>,
    job: &Job,
    port: &str,
    attempt: u32,
) -> Option<radius::Session> {
    let id = format!("{}-{attempt}", job.id);
    radius.map(|c| c.start(&id, port, &job.dial, &job.sender, "Fax Send"))
}

/// The call ended with record `r` (already appended): RADIUS Accounting Stop.
pub fn call_ended(radius: Option<&radius::Client>, session: Option<radius::Session>, r: &Record) {
    if let (Some(c), Some(s)) = (radius, session) {
        c.stop(&s, r);
    }
}

/// A record with nothing but the time, the gateway and the line's `port`.
pub fn blank_record(gateway_id: &str, port: &str) -> Record {
    Record {
        time: accounting::rfc3339(SystemTime::now()),
        status: String::new(),
        status_text: String::new(),
        reply_code: 0,
        enhanced_code: String::new(),
        fax_modem_time: "0/0".into(),
        fax_pages: 0,
        gateway_id: gateway_id.into(),
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

/// A record of `job`'s attempt number `attempt` on the line with `port`.
pub fn job_record(config: &Config, job: &Job, port: &str, attempt: u32) -> Record {
    let mut r = blank_record(&config.gateway_id, port);
    r.message_id = job.message_id.clone();
    r.sender = job.sender.clone();
    r.recipient = job.recipient.clone();
    r.dial = job.dial.clone();
    r.attempt = attempt;
    r.job = job.id.clone();
    r
}

/// No line became free within `line_wait_s` (Q.850 34, no circuit available).
pub fn no_line_record(config: &Config, job: &Job, mail_s: f64) -> Record {
    let mut r = job_record(config, job, "", 1);
    Verdict::without_call("no_line", "Modem busy", (450, "4.3.2"), 1, 34).stamp(&mut r);
    r.fax_modem_time = format!("0/{}", mail_s.floor() as u64);
    r
}

/// The line could not be opened or dialled, or failed mid-call: Q.850 38, out of order.
pub fn line_down(mut r: Record, why: &str, mail_s: f64) -> Record {
    tracing::error!("line: {why}");
    Verdict::without_call("line_down", "Line out of order", (451, "4.4.2"), 1, 38).stamp(&mut r);
    r.hangup_text = why.chars().take(200).collect();
    r.fax_modem_time = format!("0/{}", mail_s.floor() as u64);
    r
}

/// The delivery thread itself failed.
pub fn panic_record(config: &Config, job: &Job) -> Record {
    let mut r = job_record(config, job, "", 1);
    let text = "Local error in processing";
    Verdict::without_call("internal_error", text, (451, "4.3.0"), 1, 31).stamp(&mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn an_internal_error_names_the_gateway_and_the_job() {
        let text = "gateway_id = \"gw.example.com\"\nlisten = \"127.0.0.1:0\"\nspool = \"/tmp\"\ndomains = [\"example.com\"]\n[[line]]\nuri = \"sim:\"\n";
        let config = Config::parse(text, "t.toml", Path::new("/")).unwrap();
        let job: Job = serde_json::from_str(
            r#"{"id":"j1","sender":"a@b","recipient":"FAX=+1@example.com","number":"+1","subaddress":null,"dial":"1","cover_page":false,"notify":null,"orcpt":null,"envid":null,"ret_full":false,"helo":"x","arrival":"","message_id":"<m@x>","xact":true}"#,
        )
        .unwrap();
        let r = panic_record(&config, &job);
        assert_eq!(
            (r.gateway_id.as_str(), r.job.as_str(), r.recipient.as_str()),
            ("gw.example.com", "j1", "FAX=+1@example.com")
        );
        assert_eq!(
            (
                r.reply_code,
                r.enhanced_code.as_str(),
                r.isdn_disconnect_code
            ),
            (451, "4.3.0", 31)
        );
    }
}
