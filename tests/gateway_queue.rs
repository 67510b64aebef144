//! Store-and-forward delivery: messages accepted in queue mode survive `kill -9` and are
//! each delivered exactly once after a restart; retries with back-off end in an RFC 3464
//! DSN (multipart/report) in the outbox; NOTIFY=SUCCESS gets a "delivered" DSN.

#[path = "common/gateway.rs"]
mod gateway;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gateway::*;

fn queue_config(lines: &str) -> String {
    config(
        "queue",
        "",
        &format!(
            "{lines}\n[queue]\nretry_s = [1]\nmax_attempts = 2\n\n[dsn]\noutbox = \"{{dir}}/outbox\"\n"
        ),
    )
}

fn pending(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("spool/queue"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".job")
            })
            .count()
        })
        .unwrap_or(0)
}

fn submit(c: &mut Client, n: usize, notify: &str) -> String {
    c.cmd("MAIL FROM:<sender@example.org>");
    let r = c.cmd(&format!(
        "RCPT TO:<FAX=+1408555-{:04}@example.com>{notify}",
        7000 + n
    ));
    assert!(r.starts_with("250 2.1.5"), "{r}");
    assert!(c.cmd("DATA").starts_with("354"));
    // A long note: several pages, so the calls take a while.
    let text: String = (0..240)
        .map(|i| format!("Line {i} of message {n}.\r\n"))
        .collect();
    c.send(
        format!("From: <sender@example.org>\r\nSubject: q{n}\r\nMessage-ID: <q{n}@test>\r\n\r\n{text}.\r\n")
            .as_bytes(),
    );
    c.reply()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kill_9_and_restart_delivers_every_accepted_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let lines =
        "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\ncapture = \"{dir}/received\"\n";
    let mut server = Server::start(dir.path(), &queue_config(lines));
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO queue.test");
    const N: usize = 8;
    for n in 0..N {
        let notify = if n == 0 { " NOTIFY=SUCCESS" } else { "" };
        let r = submit(&mut c, n, notify);
        assert!(r.starts_with("250 2.0.0 Queued for delivery as "), "{r}");
    }
    // Everything acknowledged is on disk: pull the plug now.
    server.kill9();
    let left = pending(dir.path());
    let done_before: usize = accounting(dir.path())
        .iter()
        .filter(|r| r["status"] == "ok")
        .count();
    assert_eq!(left + done_before, N, "accepted = delivered + spooled");
    assert!(
        left > 0,
        "the kill came after every call had finished; nothing was tested"
    );
    let server = Server::start_existing(dir.path());
    wait_until("the queue to drain", Duration::from_secs(240), || {
        pending(dir.path()) == 0
    });
    std::thread::sleep(Duration::from_millis(300));
    let records = server.accounting();
    let mut per_message: HashMap<String, usize> = HashMap::new();
    for r in records.iter().filter(|r| r["status"] == "ok") {
        *per_message
            .entry(r["message_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_message.len(), N, "{per_message:?}");
    assert!(per_message.values().all(|&k| k == 1), "{per_message:?}");
    // The far end received each job once (one TIFF per job id).
    let tifs = std::fs::read_dir(dir.path().join("received"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tif")
        })
        .count();
    assert_eq!(tifs, N);
    // NOTIFY=SUCCESS: a "delivered" DSN for message 0 only.
    let dsns: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(dsns.len(), 1, "{dsns:?}");
    let d = &dsns[0];
    assert!(
        d.contains("Content-Type: multipart/report; report-type=delivery-status;"),
        "{d}"
    );
    assert!(
        d.contains("Final-Recipient: rfc822; FAX=+1408555-7000@example.com\r\n"),
        "{d}"
    );
    assert!(d.contains("Action: delivered\r\nStatus: 2.0.0\r\n"), "{d}");
    assert!(d.contains("Reporting-MTA: dns; gw.example.com\r\n"), "{d}");
    assert!(d.contains("Content-Type: text/rfc822-headers"), "{d}");
    assert!(d.contains("To: <sender@example.org>"), "{d}");
}

#[test]
fn retries_then_a_failure_dsn() {
    let dir = tempfile::tempdir().unwrap();
    if !require_peer("python3", "python3") {
        return;
    }
    let far = tone_far_end(dir.path(), &[480.0, 620.0], 500, 500);
    let lines = format!("[[line]]\nuri = '{far}'\nport = \"slot:1 port:4\"\n");
    let server = Server::start(dir.path(), &queue_config(&lines));
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO queue.test");
    c.cmd("MAIL FROM:<sender@example.org> RET=HDRS ENVID=QQ314");
    let r = c.cmd(
        "RCPT TO:<FAX=+1408555-7442@example.com> ORCPT=rfc822;FAX+3D+2B1408555-7442@example.com",
    );
    assert!(r.starts_with("250 2.1.5"), "{r}");
    c.cmd("DATA");
    c.send(b"Subject: to a busy line\r\nMessage-ID: <busy@test>\r\n\r\nhello\r\n.\r\n");
    assert!(c.reply().starts_with("250 2.0.0 Queued"));
    // A null sender gets no DSN, whatever happens.
    c.cmd("MAIL FROM:<>");
    c.cmd("RCPT TO:<FAX=+1408555-7443@example.com>");
    c.cmd("DATA");
    c.send(b"Subject: null sender\r\n\r\nhello\r\n.\r\n");
    assert!(c.reply().starts_with("250 2.0.0 Queued"));
    wait_until("both jobs to give up", Duration::from_secs(120), || {
        pending(dir.path()) == 0
    });
    std::thread::sleep(Duration::from_millis(300));
    let recs = server.accounting();
    let busy: Vec<_> = recs
        .iter()
        .filter(|r| r["message_id"] == "<busy@test>")
        .collect();
    assert_eq!(busy.len(), 2, "two attempts: {recs:?}");
    assert_eq!(busy[0]["attempt"], 1);
    assert_eq!(busy[1]["attempt"], 2);
    assert!(
        busy.iter()
            .all(|r| r["status"] == "busy" && r["ISDN_disconnect_code"] == 17)
    );
    let dsns: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(dsns.len(), 1, "only the real sender gets a DSN");
    let d = &dsns[0];
    // Failed for good after two busy attempts (450 4.3.2 each): RFC 3464 §2.3.4 wants a
    // permanent 5.x.x status for `Action: failed` (4.x.x is for `delayed`), so the class
    // becomes 5 and the subject and detail stay those of the last attempt.
    assert!(d.contains("Action: failed\r\nStatus: 5.3.2\r\n"), "{d}");
    assert!(d.contains("Original-Envelope-Id: QQ314\r\n"), "{d}");
    assert!(
        d.contains("Original-Recipient: rfc822;FAX=+1408555-7442@example.com\r\n"),
        "{d}"
    );
    assert!(
        d.contains("Diagnostic-Code: X-FAX; T30 11 Modem busy; Q850 17\r\n"),
        "{d}"
    );
    assert!(
        d.contains("  450 4.3.2 CSID =") || d.contains("  CSID ="),
        "{d}"
    );
    assert!(d.contains("Subject: to a busy line"), "{d}");
}

/// `[limits] max_calls_per_destination` (1 by default) and the destination's back-off: five
/// jobs for one number arrive before one each for two others, and three ports are free. The
/// far ends are all busy (an `exec:` far end playing busy tone, as the telephone network
/// does). The busy number gets one call, not three; the two others get theirs on the other
/// ports meanwhile; after the busy signal the number backs off (`retry_s`, an hour here), so
/// its four other jobs, though due, stay in the spool untried while nothing holds the ports.
#[test]
fn one_busy_number_does_not_take_every_port() {
    let dir = tempfile::tempdir().unwrap();
    if !require_peer("python3", "python3") {
        return;
    }
    let far = tone_far_end(dir.path(), &[480.0, 620.0], 500, 500);
    let lines: String = (1..=3)
        .map(|p| format!("[[line]]\nuri = '{far}'\nport = \"slot:1 port:{p}\"\n"))
        .collect();
    let text = config(
        "queue",
        "",
        &format!("{lines}\n[queue]\nretry_s = [3600]\nmax_attempts = 3\n"),
    );
    let server = Server::start(dir.path(), &text);
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO queue.test");
    let mut send = |number: &str, k: usize| {
        c.cmd("MAIL FROM:<sender@example.org> RET=HDRS");
        let r = c.cmd(&format!("RCPT TO:<FAX={number}@example.com> NOTIFY=NEVER"));
        assert!(r.starts_with("250 2.1.5"), "{r}");
        c.cmd("DATA");
        let r = c.cmd(&format!(
            "Subject: {number} {k}\r\nMessage-ID: <{number}.{k}@test>\r\n\r\nhello\r\n."
        ));
        assert!(r.starts_with("250 2.0.0 Queued"), "{r}");
    };
    for k in 0..5 {
        send("+14085557001", k);
    }
    send("+14085557002", 0);
    send("+14085557003", 0);
    c.cmd("QUIT");
    let per_number = |recs: &[serde_json::Value], n: &str| {
        recs.iter()
            .filter(|r| r["recipient"] == format!("FAX={n}@example.com").as_str())
            .count()
    };
    wait_until("a call to each number", Duration::from_secs(60), || {
        let recs = server.accounting();
        ["+14085557002", "+14085557003"]
            .iter()
            .all(|n| per_number(&recs, n) == 1)
            && per_number(&recs, "+14085557001") >= 1
    });
    // Longer than one more busy call takes: had the number not backed off, the ports
    // (free again) would have called it.
    std::thread::sleep(Duration::from_secs(3));
    let recs = server.accounting();
    assert!(
        recs.iter().all(|r| r["status"] == "busy"),
        "every far end is busy: {recs:?}"
    );
    assert_eq!(
        per_number(&recs, "+14085557001"),
        1,
        "one call to the busy number, then it backs off: {recs:?}\n{}",
        server.log()
    );
    assert_eq!(recs.len(), 3, "{recs:?}");
    // The number's four other jobs wait in the spool, never tried.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["queue", "list", "--format", "json", "--config"])
        .arg(dir.path().join("softfax.toml"))
        .output()
        .unwrap();
    let jobs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let untried = jobs
        .iter()
        .filter(|j| j["number"] == "+14085557001" && j["attempts"] == 0)
        .count();
    assert_eq!(untried, 4, "{jobs:?}");
    assert_eq!(jobs.len(), 7, "every job waits for its retry: {jobs:?}");
}
