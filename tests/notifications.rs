//! DSN (RFC 3461/3464) and MDN (RFC 3798) in both delivery modes, read back by Python's
//! `email` package as `multipart/report`: a fax delivered in immediate mode gets the
//! `delivered` DSN NOTIFY=SUCCESS asked for and a `processed` MDN; one that fails after a
//! queue-mode 250 gets a `failed` DSN and a `processed/error` MDN. XSESSION is advertised in
//! immediate mode only.

#[path = "common/gateway.rs"]
mod gateway;

use std::path::Path;
use std::time::{Duration, Instant};

use gateway::*;

/// Every `.eml` in `dir`, parsed by Python's `email`: one JSON object per file with the
/// report type, the part types and the machine-readable fields.
const PARSE: &str = r#"
import email, json, os, sys
from email import policy
out = {}
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.endswith('.eml'):
        continue
    m = email.message_from_binary_file(open(os.path.join(d, name), 'rb'), policy=policy.compat32)
    parts = m.get_payload()
    r = {'type': m.get_content_type(), 'report_type': m.get_param('report-type'),
         'to': m['To'], 'date': m['Date'], 'parts': [p.get_content_type() for p in parts],
         'fields': {}}
    machine = parts[1]
    blocks = machine.get_payload()
    for b in blocks:
        for k, v in b.items():
            r['fields'][k.lower()] = ' '.join(v.split())
    out[name] = r
print(json.dumps(out))
"#;

fn parsed(outbox: &Path) -> Option<serde_json::Value> {
    let o = python(PARSE, &[outbox.to_str().unwrap()])?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

fn eml_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".eml")
        })
        .count()
    })
}

fn wait_for(dir: &Path, n: usize, limit: Duration) {
    let start = Instant::now();
    while eml_count(dir) < n {
        assert!(start.elapsed() < limit, "timed out waiting for {n} notices");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
}

fn the<'a>(all: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    let (_, v) = all
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {all}"));
    v
}

/// An RFC 5322 date-time (`Fri, 04 Dec 2026 01:02:03 +0000`), as RFC 3464 §2.2.5 asks.
fn is_rfc5322_date(s: &str) -> bool {
    let w: Vec<&str> = s.split_whitespace().collect();
    w.len() == 6
        && w[0].ends_with(',')
        && w[1].parse::<u32>().is_ok()
        && w[3].parse::<u32>().is_ok()
        && w[4].len() == 8
        && w[5] == "+0000"
}

fn send(c: &mut Client, rcpt: &str, dnt: &str, id: &str) -> String {
    assert!(c.cmd("MAIL FROM:<sender@example.org>").starts_with("250"));
    assert!(c.cmd(&format!("RCPT TO:<{rcpt}")).starts_with("250 2.1.5"));
    assert!(c.cmd("DATA").starts_with("354"));
    c.send(
        format!(
            "From: <sender@example.org>\r\nSubject: notices\r\nMessage-ID: <{id}@test>\r\n{dnt}\r\nA short note.\r\n.\r\n"
        )
        .as_bytes(),
    );
    c.reply()
}

#[test]
fn immediate_mode_sends_the_dsn_and_mdn_asked_for() {
    if !require_peer("python3", "python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lines =
        "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\n\n[dsn]\noutbox = \"{dir}/outbox\"\n";
    let server = Server::start(dir.path(), &config("immediate", "", lines));
    let mut c = Client::connect(server.addr);
    c.reply();
    assert!(c.cmd("EHLO n.test").contains("250-XSESSION\r\n"));
    let r = send(
        &mut c,
        "FAX=+1408555-7442@example.com> NOTIFY=SUCCESS ORCPT=rfc822;FAX+3D+2B1408555-7442@example.com",
        "Disposition-Notification-To: Sender <sender@example.org>\r\n",
        "imm1",
    );
    assert!(r.starts_with("250 2.5.0"), "{r}");
    // Neither asked for (the MDN address is not the sender; no NOTIFY=SUCCESS): no notice.
    let r = send(
        &mut c,
        "FAX=+1408555-7443@example.com>",
        "Disposition-Notification-To: <someone.else@example.org>\r\n",
        "imm2",
    );
    assert!(r.starts_with("250 2.5.0"), "{r}");
    let outbox = dir.path().join("outbox");
    wait_for(&outbox, 2, Duration::from_secs(20));
    assert_eq!(eml_count(&outbox), 2);
    let Some(all) = parsed(&outbox) else { return };

    let dsn = the(&all, "-delivered.eml");
    assert_eq!(dsn["type"], "multipart/report", "{dsn}");
    assert_eq!(dsn["report_type"], "delivery-status");
    assert_eq!(
        dsn["parts"],
        serde_json::json!([
            "text/plain",
            "message/delivery-status",
            "text/rfc822-headers"
        ])
    );
    let f = &dsn["fields"];
    assert_eq!(f["reporting-mta"], "dns; gw.example.com");
    assert_eq!(
        f["final-recipient"],
        "rfc822; FAX=+1408555-7442@example.com"
    );
    assert_eq!(
        f["original-recipient"],
        "rfc822;FAX=+1408555-7442@example.com"
    );
    assert_eq!(f["action"], "delivered");
    assert_eq!(f["status"], "2.0.0");
    assert_eq!(f["received-from-mta"], "dns; n.test");
    let arrival = f["arrival-date"].as_str().unwrap();
    assert!(is_rfc5322_date(arrival), "Arrival-Date: {arrival}");
    assert_eq!(dsn["to"], "<sender@example.org>");

    let mdn = the(&all, "-mdn-processed.eml");
    assert_eq!(mdn["type"], "multipart/report", "{mdn}");
    assert_eq!(mdn["report_type"], "disposition-notification");
    assert_eq!(
        mdn["parts"],
        serde_json::json!([
            "text/plain",
            "message/disposition-notification",
            "text/rfc822-headers"
        ])
    );
    let f = &mdn["fields"];
    assert!(
        f["reporting-ua"]
            .as_str()
            .unwrap()
            .starts_with("gw.example.com; softfax"),
        "{f}"
    );
    assert_eq!(
        f["final-recipient"],
        "rfc822; FAX=+1408555-7442@example.com"
    );
    assert_eq!(f["original-message-id"], "<imm1@test>");
    assert_eq!(
        f["disposition"],
        "automatic-action/MDN-sent-automatically; processed"
    );
    assert_eq!(mdn["to"], "<sender@example.org>");
}

#[test]
fn queue_mode_failure_sends_a_failed_dsn_and_an_error_mdn() {
    if !require_peer("python3", "python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let far = tone_far_end(dir.path(), &[480.0, 620.0], 500, 500);
    let lines = format!(
        "[[line]]\nuri = '{far}'\nport = \"slot:1 port:4\"\n\n[queue]\nretry_s = [1]\nmax_attempts = 1\n\n[dsn]\noutbox = \"{{dir}}/outbox\"\n"
    );
    let server = Server::start(dir.path(), &config("queue", "", &lines));
    let mut c = Client::connect(server.addr);
    c.reply();
    let ehlo = c.cmd("EHLO n.test");
    assert!(!ehlo.contains("XSESSION"), "{ehlo}");
    let r = send(
        &mut c,
        "FAX=+1408555-7442@example.com>",
        "Disposition-Notification-To: sender@example.org\r\n",
        "q1",
    );
    assert!(r.starts_with("250 2.0.0 Queued"), "{r}");
    let outbox = dir.path().join("outbox");
    wait_for(&outbox, 2, Duration::from_secs(40));
    let Some(all) = parsed(&outbox) else { return };
    let dsn = the(&all, "-failed.eml");
    assert_eq!(dsn["report_type"], "delivery-status", "{dsn}");
    assert_eq!(dsn["fields"]["action"], "failed");
    // The last attempt was busy (450 4.3.2); failed for good, so class 5 (RFC 3464 §2.3.4).
    assert_eq!(dsn["fields"]["status"], "5.3.2");
    let mdn = the(&all, "-mdn-failed.eml");
    assert_eq!(mdn["type"], "multipart/report", "{mdn}");
    assert_eq!(mdn["report_type"], "disposition-notification");
    let f = &mdn["fields"];
    assert_eq!(
        f["disposition"],
        "automatic-action/MDN-sent-automatically; processed/error"
    );
    assert_eq!(f["original-message-id"], "<q1@test>");
    assert_eq!(
        f["final-recipient"],
        "rfc822; FAX=+1408555-7442@example.com"
    );
    assert!(f["error"].as_str().unwrap().contains("Modem busy"), "{f}");
    drop(server);
}
