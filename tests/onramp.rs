//! The on-ramp in `softfax serve`: answering lines receive faxes and mail them.
//!
//! - spandsp's own fax terminal (tests/peers/spandsp_fax.c `send`) calls an `exec:` line with
//!   `answer = true`; the mail reaches a plain SMTP listener (tests/peers/smtp_sink.py), is
//!   parsed by Python's `email` package (tests/peers/faxmail.py), and its TIFF, decoded by
//!   libtiff, has the pels the caller sent. The mailbox comes from a `[[route]]` on the line's
//!   port with a `$1` capture; the listener's first end of data is refused with 451, so the
//!   message is sent again and arrives once.
//! - Nothing is lost: a fax received while the MTA is down stays in the spool through a
//!   kill -9 of the server, and is mailed exactly once when the MTA is up and the server
//!   restarted; a 5yz refusal keeps the fax in `failed/` with its record.
//! - SIGHUP mid-call (spandsp's call held at a fixed point of its audio by
//!   tests/peers/gate.py): the new relay, sender and route apply — the call under way ends
//!   with every page, mailed to the mailbox chosen when it was answered; the next call takes
//!   the new route — and `/metrics` shows the line busy during a call and waiting (not busy)
//!   while it waits for one.

mod common;
#[path = "common/fax_call.rs"]
mod fax_call;
#[path = "common/gateway.rs"]
mod gateway;
#[path = "common/onramp.rs"]
mod onramp;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{assert_same_pels, libtiff_pages};
use fax_call::document;
use gateway::Server;
use onramp::{Sink, assert_pages, config, parse_mail, peers, wait_for};
use softfax::dsp::image::Page;

#[test]
fn spandsp_calls_an_exec_line_and_the_fax_arrives_as_mail() {
    let Some(()) = peers() else { return };
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (doc, pages) = document(dir.path(), &[1, 3]);
    let sink = Sink::start(&dir.path().join("mail"), &["--tempfail", "1"]);
    // The child calls once; started again when the line is idle, it makes no call.
    let line = format!(
        "[[line]]\nuri = \"exec:mkdir {d}/called 2>/dev/null && exec {peer} send {doc} --ecm\"\nport = \"slot:1 port:7\"\nanswer = true\ndial = false\n",
        d = dir.path().display(),
        peer = peer.display(),
        doc = doc.display()
    );
    let server = Server::start(dir.path(), &config(&line, sink.port));
    wait_for(
        "the fax-mail arrives",
        &server,
        Duration::from_secs(50),
        || !server.accounting().is_empty(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1, "exactly one message: {}", server.log());
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(msgs[0].with_extension("env")).unwrap()).unwrap();
    assert_eq!(env["from"], "fax@gw.example.com");
    assert_eq!(env["to"], serde_json::json!(["fax-7@example.com"]));

    let report = spandsp::FaxReport::parse(&server.log()).expect("spandsp's report line");
    assert_eq!(report.result, 0, "spandsp: {}", server.log());
    assert_eq!(report.pages, 2);

    let out = dir.path().join("parts");
    let mail = parse_mail(&msgs[0], &out);
    assert_eq!(mail["type"], "multipart/mixed");
    assert_eq!(mail["defects"], 0);
    assert_eq!(mail["to"], "fax-7@example.com");
    assert!(mail["date_ok"].as_bool().unwrap());
    assert_eq!(mail["subject"], "Fax from spandsp sender, 2 pages");
    let summary = mail["summary"].as_str().unwrap();
    for want in [
        "spandsp sender",
        "Pages:        2",
        "14400 bit/s",
        "ECM",
        "slot:1 port:7",
        "Normal and proper end of connection",
        "Copy quality: good",
    ] {
        assert!(summary.contains(want), "{want:?} in\n{summary}");
    }
    assert_pages(&mail, &out, &pages);

    let records = server.accounting();
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r["call_type"], "Fax Receive");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["fax_pages"], 2);
    assert_eq!(r["CSID"], "spandsp sender");
    assert_eq!(r["fax_connect_speed"], "14400bps");
    assert_eq!(r["recipient"], "fax-7@example.com");
    assert_eq!(r["port_used"], "slot:1 port:7");
    assert_eq!(
        (r["reply_code"].as_u64(), r["attempt"].as_u64()),
        (Some(250), Some(2))
    );
    assert_eq!(r["status_text"], "250 2.0.0 Ok: queued as SINK1");
    assert_eq!(r["message_id"], mail["message_id"]);
}

#[test]
fn a_fax_spooled_while_the_mta_is_down_survives_kill_9_and_is_mailed_once() {
    let Some(()) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (doc, pages) = document(dir.path(), &[2]);
    // A port with nothing listening: the MTA is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let line = format!(
        "[[line]]\nuri = \"sim:?caller={}\"\nport = \"slot:1 port:3\"\nanswer = true\ndial = false\n",
        doc.display()
    );
    let mut server = Server::start(dir.path(), &config(&line, port));
    let outbox = dir.path().join("spool/onramp/outbox");
    wait_for(
        "the fax in the outbox, tried and not taken",
        &server,
        Duration::from_secs(20),
        || server.log().contains("fax-mail not taken"),
    );
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 1);
    server.kill9();
    assert!(
        server.accounting().is_empty(),
        "no record before the MTA took it"
    );

    // The MTA comes up; the server starts again, without the calling line.
    let sink = Sink::start(&dir.path().join("mail"), &["--port", &port.to_string()]);
    let restart = config("[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\n", port);
    let server = Server::start(dir.path(), &restart);
    wait_for(
        "the fax-mail after the restart",
        &server,
        Duration::from_secs(20),
        || !server.accounting().is_empty(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(sink.messages().len(), 1, "exactly once: {}", server.log());
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 0);
    let out = dir.path().join("parts");
    let mail = parse_mail(&sink.messages()[0], &out);
    assert_eq!(mail["to"], "fax-3@example.com");
    assert_pages(&mail, &out, &pages);
    let records = server.accounting();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["call_type"], "Fax Receive");
    assert_eq!(records[0]["status"], "ok");
    assert_eq!(records[0]["CSID"], "softfax sim");
}

#[test]
fn a_mailbox_the_mta_refuses_keeps_the_fax_in_failed() {
    let Some(()) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (doc, _) = document(dir.path(), &[5]);
    let line = format!(
        "[[line]]\nuri = \"sim:?caller={}\"\nport = \"slot:9 port:1\"\nanswer = true\ndial = false\n",
        doc.display()
    );
    // No route matches slot:9: the default mailbox, which this MTA refuses.
    let text = config(&line, sink.port).replace(
        "to = \"fax@example.com\"",
        "to = \"reject-fax@example.com\"",
    );
    let server = Server::start(dir.path(), &text);
    wait_for(
        "the refusal recorded",
        &server,
        Duration::from_secs(20),
        || !server.accounting().is_empty(),
    );
    let r = &server.accounting()[0];
    assert_eq!(r["status"], "mail_refused");
    assert_eq!(r["reply_code"], 550);
    assert_eq!(r["enhanced_code"], "5.1.1");
    assert_eq!(r["recipient"], "reject-fax@example.com");
    assert!(sink.messages().is_empty());
    let failed = dir.path().join("spool/onramp/failed");
    let kept: Vec<_> = std::fs::read_dir(&failed).unwrap().collect();
    assert_eq!(kept.len(), 1, "the fax is kept");
    let folder = kept.into_iter().next().unwrap().unwrap().path();
    assert!(folder.join("message.eml").is_file() && folder.join("page-001.tif").is_file());
}

#[test]
fn demo_shows_a_fax_in_mailed_to_its_built_in_mailbox() {
    let Some(()) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Both directions, as transcripts.
    let fax_in = text.find("== Fax in").expect("the fax-in part");
    assert!(
        text[..fax_in].contains("S: 250 2.5.0 CSID =softfax sim\n"),
        "{text}"
    );
    let inbound = &text[fax_in..];
    for want in [
        "C: MAIL FROM:<fax@gw.example.com>\n",
        "C: RCPT TO:<fax-port2@example.com>\n",
        "S: 250 2.0.0 Ok: delivered to ",
        "Subject: Fax from softfax sim, 1 page",
        "Pages:        1",
    ] {
        assert!(inbound.contains(want), "{want:?} in\n{inbound}");
    }
    // The fax-mail in the mailbox, read by Python; its TIFF is the page the caller sent.
    let fin = out.join("fax-in");
    let mail = parse_mail(&fin.join("mailbox/1.eml"), &dir.path().join("parts"));
    assert_eq!(mail["to"], "fax-port2@example.com");
    assert_pages(
        &mail,
        &dir.path().join("parts"),
        &libtiff_pages(&fin.join("caller.tif")),
    );
    let records = gateway::accounting(&out);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["call_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{records:?}");
    assert!(
        kinds.contains(&"Fax Send") && kinds.contains(&"Fax Receive"),
        "{kinds:?}"
    );
}

#[test]
fn pages_kept_before_a_kill_9_mid_call_are_mailed_after_the_restart() {
    let Some(()) = peers() else { return };
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (doc, pages) = document(dir.path(), &[1, 2, 3, 4]);
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let line = format!(
        "[[line]]\nuri = \"exec:mkdir {d}/called 2>/dev/null && exec {peer} send {doc}\"\nport = \"slot:1 port:4\"\nanswer = true\ndial = false\n",
        d = dir.path().display(),
        peer = peer.display(),
        doc = doc.display()
    );
    let mut server = Server::start(dir.path(), &config(&line, sink.port));
    wait_for(
        "the first page kept",
        &server,
        Duration::from_secs(30),
        || server.log().contains("page kept"),
    );
    server.kill9();
    let receiving = dir.path().join("spool/onramp/receiving");
    assert_eq!(
        std::fs::read_dir(&receiving).unwrap().count(),
        1,
        "{}",
        server.log()
    );
    assert!(sink.messages().is_empty());

    let restart = config(
        "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\n",
        sink.port,
    );
    let server = Server::start(dir.path(), &restart);
    wait_for(
        "the cut-off fax mailed",
        &server,
        Duration::from_secs(20),
        || !server.accounting().is_empty(),
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(sink.messages().len(), 1, "exactly once: {}", server.log());
    assert_eq!(std::fs::read_dir(&receiving).unwrap().count(), 0);
    let out = dir.path().join("parts");
    let mail = parse_mail(&sink.messages()[0], &out);
    assert_eq!(mail["to"], "fax-4@example.com");
    assert!(
        mail["summary"]
            .as_str()
            .unwrap()
            .contains("the call was cut off"),
        "{mail}"
    );
    let tif = mail["parts"][1]["filename"].as_str().unwrap().to_string();
    let got = libtiff_pages(&out.join(tif));
    assert!(
        !got.is_empty() && got.len() < pages.len(),
        "{} pages",
        got.len()
    );
    for (i, (g, w)) in got.iter().zip(&pages).enumerate() {
        assert_same_pels(&format!("page {}", i + 1), g, w);
    }
    let r = &server.accounting()[0];
    assert_eq!(
        (r["call_type"].as_str(), r["status"].as_str()),
        (Some("Fax Receive"), Some("partial"))
    );
    assert_eq!(r["fax_pages"].as_u64(), Some(got.len() as u64));
}

/// The samples of `softfax_ports` and `softfax_port_busy` the server's `/metrics` shows:
/// (state → value, port → busy).
fn port_states(server: &Server) -> (HashMap<String, f64>, HashMap<String, f64>) {
    use std::io::{Read, Write};
    let addr = server.metrics_addr().expect("metrics address in the log");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (mut states, mut ports) = (HashMap::new(), HashMap::new());
    for l in text.lines() {
        let Some((name, v)) = l.rsplit_once(' ') else {
            continue;
        };
        let v: f64 = v.parse().unwrap_or(f64::NAN);
        if let Some(st) = name.strip_prefix("softfax_ports{state=\"") {
            states.insert(st.trim_end_matches("\"}").to_string(), v);
        } else if let Some(p) = name.strip_prefix("softfax_port_busy{port=\"") {
            ports.insert(p.trim_end_matches("\"}").to_string(), v);
        }
    }
    (states, ports)
}

/// Two callers on one answering `exec:` line (port `slot:1 port:7`), spandsp's fax terminal
/// sending: the first run of the command calls with the charts `first`, held after
/// `hold_bytes` of its audio (16 000 a second) until `go1` exists in `d`; once `go2` exists,
/// the next run calls with `second` (and makes `c2`); otherwise the command waits (the line
/// is waiting, not on a call) and ends. The line, and the pages of each document.
fn two_callers(
    d: &Path,
    peer: &Path,
    first: &[u32],
    second: &[u32],
    hold_bytes: u32,
) -> (String, Vec<Page>, Vec<Page>) {
    std::fs::create_dir_all(d.join("doc1")).unwrap();
    std::fs::create_dir_all(d.join("doc2")).unwrap();
    let (doc1, pages1) = document(&d.join("doc1"), first);
    let (doc2, pages2) = document(&d.join("doc2"), second);
    let line = format!(
        "[[line]]\nuri = \"exec:if mkdir {d}/c1 2>/dev/null; then {peer} send {doc1} | python3 {gate} {hold_bytes} {d}/go1; elif [ -e {d}/go2 ] && mkdir {d}/c2 2>/dev/null; then exec {peer} send {doc2}; else exec sleep 5; fi\"\nport = \"slot:1 port:7\"\nanswer = true\ndial = false\n",
        d = d.display(),
        peer = peer.display(),
        doc1 = doc1.display(),
        doc2 = doc2.display(),
        gate = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/gate.py"),
    );
    (line, pages1, pages2)
}

#[test]
fn sighup_reloads_relay_from_and_routes_while_a_call_goes_on() {
    let Some(()) = peers() else { return };
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // doc1 held after 60 s of its audio (page 1 is kept by then, the call lasts about 116 s)
    // until the test has reloaded.
    let (line, pages1, pages2) = two_callers(d, &peer, &[1, 2, 3, 4], &[5], 960000);
    let (a, b) = (
        Sink::start(&d.join("mail-a"), &[]),
        Sink::start(&d.join("mail-b"), &[]),
    );
    let metrics = "\n[metrics]\nlisten = \"127.0.0.1:0\"\n";
    let server = Server::start(d, &format!("{}{metrics}", config(&line, a.port)));
    wait_for(
        "the first page kept",
        &server,
        Duration::from_secs(30),
        || server.log().contains("page kept"),
    );
    // On a call: busy, not waiting.
    let (states, ports) = port_states(&server);
    assert_eq!(
        (states["busy"], states["waiting"], states["idle"]),
        (1.0, 0.0, 0.0),
        "{states:?}"
    );
    assert_eq!(ports["slot:1 port:7"], 1.0);

    // A new relay, sender and route, while the call goes on.
    let reloaded = format!("{}{metrics}", config(&line, b.port))
        .replace(
            "from = \"fax@gw.example.com\"",
            "from = \"fax2@gw.example.com\"",
        )
        .replace("to = \"fax-$1@example.com\"", "to = \"new-$1@example.com\"")
        .replace("{dir}", &d.display().to_string());
    assert!(reloaded.contains("new-$1") && reloaded.contains("fax2@"));
    std::fs::write(d.join("softfax.toml"), reloaded).unwrap();
    server.signal("-HUP");
    wait_for("the reload", &server, Duration::from_secs(10), || {
        server.log().contains("configuration reloaded")
    });
    assert!(
        !server.log().contains("call ended"),
        "the call is still on: {}",
        server.log()
    );
    std::fs::write(d.join("go2"), b"").unwrap();
    std::fs::write(d.join("go1"), b"").unwrap();
    wait_for(
        "both calls mailed",
        &server,
        Duration::from_secs(90),
        || server.accounting().len() >= 2,
    );

    // The call under way was not dropped: spandsp sent every page of both calls.
    let log = server.log();
    let reports: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once("spandsp-fax: result=").map(|x| x.1))
        .collect();
    assert_eq!(reports.len(), 2, "{log}");
    assert!(
        reports[0].starts_with("0 ") && reports[0].contains(" pages=4"),
        "{log}"
    );
    assert!(
        reports[1].starts_with("0 ") && reports[1].contains(" pages=1"),
        "{log}"
    );

    let records = server.accounting();
    let r: Vec<(&str, &str, u64)> = records
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["recipient"].as_str().unwrap(),
                r["fax_pages"].as_u64().unwrap(),
            )
        })
        .collect();
    // The first call keeps the mailbox its route chose when it was answered; the second
    // takes the new route. Both go to the new relay, from the new sender (the first call's
    // mail was made after the reload).
    assert_eq!(
        r,
        [
            ("ok", "fax-7@example.com", 4),
            ("ok", "new-7@example.com", 1)
        ]
    );
    assert!(a.messages().is_empty(), "nothing to the old relay");
    let msgs = b.messages();
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        let env: serde_json::Value =
            serde_json::from_slice(&std::fs::read(m.with_extension("env")).unwrap()).unwrap();
        assert_eq!(env["from"], "fax2@gw.example.com");
    }
    for (i, (m, want)) in msgs.iter().zip([&pages1, &pages2]).enumerate() {
        let out = d.join(format!("parts{i}"));
        let mail = parse_mail(m, &out);
        assert_pages(&mail, &out, want);
    }

    // Between calls the line waits for the next: waiting, not busy.
    let start = std::time::Instant::now();
    loop {
        let (states, ports) = port_states(&server);
        if states["waiting"] == 1.0 {
            assert_eq!((states["busy"], states["idle"]), (0.0, 0.0), "{states:?}");
            assert_eq!(ports["slot:1 port:7"], 0.0);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the line never waiting: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGTERM while an answering line is on a call (docs/operations.md, "Stopping"): the call
/// under way ends with every page and becomes a fax-mail, but the line answers no new call
/// while the gateway drains. spandsp's call is held mid-page (tests/peers/gate.py) when the
/// signal comes; a second caller is ready the moment the first call ends (the `exec:`
/// command, run again, would call with another document) — it is never run, and the
/// gateway exits.
#[test]
fn sigterm_lets_the_call_finish_and_answers_no_new_call() {
    let Some(()) = peers() else { return };
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The first call held after 30 s of its audio, mid-page.
    let (line, _, _) = two_callers(d, &peer, &[1, 2], &[5], 480000);
    let sink = Sink::start(&d.join("mail"), &[]);
    let mut server = Server::start(d, &config(&line, sink.port));
    wait_for(
        "the call answered",
        &server,
        Duration::from_secs(30),
        || server.log().contains("answered a call"),
    );
    server.signal("-TERM");
    wait_for("draining", &server, Duration::from_secs(10), || {
        server.log().contains("draining:")
    });
    assert!(
        !server.log().contains("call ended"),
        "the call is still on: {}",
        server.log()
    );
    // A second caller is ready, and the first call goes on.
    std::fs::write(d.join("go2"), b"").unwrap();
    std::fs::write(d.join("go1"), b"").unwrap();
    let status = server.wait_exit(Duration::from_secs(60));
    let log = server.log();
    assert!(status.success(), "{status}\n{log}");
    // No new call: the command never ran again, one call answered.
    assert!(!d.join("c2").exists(), "a second call was answered:\n{log}");
    assert_eq!(log.matches("answered a call").count(), 1, "{log}");
    // The call under way was not cut: spandsp sent both pages, and they make one fax-mail,
    // mailed or kept in the outbox for the next start; nothing left half received.
    let report = spandsp::FaxReport::parse(&log).expect("spandsp's report line");
    assert_eq!((report.result, report.pages), (0, 2), "{log}");
    assert!(log.contains("fax-mail in the outbox"), "{log}");
    let count =
        |sub: &str| std::fs::read_dir(d.join("spool/onramp").join(sub)).map_or(0, |r| r.count());
    assert_eq!(count("receiving"), 0, "{log}");
    // (Both only when the stop fell between the MTA's reply and the move to sent/.)
    let (mailed, kept) = (sink.messages().len(), count("outbox"));
    assert!(
        mailed + kept >= 1 && mailed <= 1 && kept <= 1,
        "mailed {mailed}, kept {kept}:\n{log}"
    );
}
