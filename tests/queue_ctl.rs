//! `softfax queue list | show | cancel | retry` against a running gateway in queue mode,
//! whose line fails every call (so jobs wait for their next attempt): `list` and `show` read
//! the spool, `retry` makes a job due at once, `cancel` removes one and sends its failure
//! DSN — both through the running `serve`, the spool's one writer. With `serve` stopped
//! the command takes the spool's lock and applies the change itself.

#[path = "common/gateway.rs"]
mod gateway;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use gateway::*;

fn queue(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .arg("queue")
        .args(args)
        .arg("--config")
        .arg(dir.join("softfax.toml"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn wait_until(what: &str, server: &Server, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn submit(c: &mut Client, number: &str, notify: &str) -> String {
    c.cmd("MAIL FROM:<sender@example.org>");
    let r = c.cmd(&format!("RCPT TO:<FAX={number}@example.com>{notify}"));
    assert!(r.starts_with("250"), "{r}");
    c.cmd("DATA");
    c.send(
        format!("Subject: to {number}\r\nMessage-ID: <{number}@test>\r\n\r\nhello\r\n").as_bytes(),
    );
    let r = c.cmd(".");
    r.trim()
        .strip_prefix("250 2.0.0 Queued for delivery as ")
        .unwrap_or_else(|| panic!("{r}"))
        .to_string()
}

#[test]
fn list_show_retry_and_cancel_while_serve_runs() {
    let dir = tempfile::tempdir().unwrap();
    // The far end hangs up at once: every attempt fails (4yz) and waits an hour to retry.
    let lines = "[[line]]\nuri = \"exec:true\"\nport = \"slot:1 port:1\"\n\n[queue]\nretry_s = [3600]\nmax_attempts = 5\n\n[dsn]\noutbox = \"{dir}/outbox\"\n";
    let mut server = Server::start(dir.path(), &config("queue", "", lines));
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO ctl.test");
    let a = submit(&mut c, "+14085557001", "");
    let b = submit(&mut c, "+14085557002", " NOTIFY=FAILURE");
    c.cmd("QUIT");
    wait_until("a first attempt of both jobs", &server, || {
        server.accounting().len() == 2
    });

    let (code, out, err) = queue(dir.path(), &["list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let jobs: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(jobs.len(), 2, "{out}");
    assert_eq!(jobs[0]["id"], a.as_str());
    assert_eq!(jobs[1]["id"], b.as_str());
    for j in &jobs {
        assert_eq!(j["attempts"], 1);
        assert!(!j["next_attempt"].as_str().unwrap().is_empty(), "{j}");
    }
    let (code, out, _) = queue(dir.path(), &["list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&a) && out.contains("+14085557002") && out.contains("2 job(s)"),
        "{out}"
    );

    let (code, out, err) = queue(dir.path(), &["show", &a, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["recipient"], "FAX=+14085557001@example.com");
    assert_eq!(v["records"].as_array().unwrap().len(), 1, "{out}");

    // retry: the job is due now, and the running serve calls again.
    let (code, out, err) = queue(dir.path(), &["retry", &a]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("job {a} is due now").as_str()),
        "{err}"
    );
    wait_until("the retried attempt", &server, || {
        server
            .accounting()
            .iter()
            .any(|r| r["job"] == a.as_str() && r["attempt"] == 2)
    });
    assert!(
        !server
            .accounting()
            .iter()
            .any(|r| r["job"] == b.as_str() && r["attempt"] == 2),
        "only the retried job was called again"
    );

    // cancel: gone from the spool, a 'cancelled' record, the failure DSN.
    let (code, out, err) = queue(dir.path(), &["cancel", &b, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let ans: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ans["result"], "done");
    assert!(!dir.path().join(format!("spool/queue/{b}.job")).exists());
    let rec = server
        .accounting()
        .into_iter()
        .find(|r| r["job"] == b.as_str() && r["status"] == "cancelled")
        .expect("a cancelled record");
    assert_eq!(rec["reply_code"], 554);
    let dsns: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(dsns.len(), 1, "{dsns:?}");
    assert!(
        dsns[0].contains("Action: failed\r\nStatus: 5.0.0\r\n"),
        "{}",
        dsns[0]
    );
    assert!(dsns[0].contains("Final-Recipient: rfc822; FAX=+14085557002@example.com"));

    let (code, _, err) = queue(dir.path(), &["cancel", "1234567890123456-1-1"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = queue(dir.path(), &["show", "../softfax"]);
    assert_eq!(code, 2);

    // serve stopped: the command is the writer itself.
    server.kill9();
    let (code, out, err) = queue(dir.path(), &["cancel", &a]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("job {a} cancelled").as_str()),
        "{err}"
    );
    let (code, out, _) = queue(dir.path(), &["list", "--format", "json"]);
    assert_eq!((code, out.trim()), (0, "[]"));
}
