//! The on-ramp's MTA is a real Postfix (tests/common/postfix.rs: a private instance whose
//! `virtual` agent writes example.com's mail into Maildirs here).
//!
//! - spandsp's fax terminal calls an `exec:` answering line while Postfix is stopped: the
//!   fax is spooled and tried; Postfix is started again; the fax-mail lands in the mailbox's Maildir
//!   exactly once (Postfix's log: one delivery, its queue id the one in the accounting
//!   record), read by Python's `email` package, its TIFF decoded by libtiff to the pels
//!   spandsp sent. The on-ramp's default opportunistic TLS is used (Postfix offers STARTTLS).
//! - A relay that demands STARTTLS and AUTH (`smtpd_tls_security_level = encrypt`, Cyrus SASL
//!   from a sasldb, `permit_sasl_authenticated` only): with `tls = "required"` and no `ca`
//!   its certificate (signed by a CA made here) is refused and nothing is sent — no AUTH
//!   either — the fax waits in the outbox; a SIGHUP with `ca` set delivers it with TLS and
//!   AUTH PLAIN. A wrong password gets Postfix's 535 5.7.8, and the fax is kept in `failed/`
//!   with `AUTH: 535 5.7.8 …` as the record's reason.

mod common;
#[path = "common/fax_call.rs"]
mod fax_call;
#[path = "common/gateway.rs"]
mod gateway;
#[path = "common/onramp.rs"]
mod onramp;
#[path = "common/postfix.rs"]
mod postfix;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::path::Path;
use std::time::Duration;

use fax_call::document;
use gateway::Server;
use onramp::{assert_pages, config, parse_mail, peers, wait_for};
use postfix::{Options, Postfix};

fn folders(p: &Path) -> usize {
    std::fs::read_dir(p).map_or(0, |d| d.count())
}

#[test]
fn spandsp_calls_in_while_postfix_is_down_and_the_fax_reaches_a_maildir_once() {
    let Some(()) = peers() else { return };
    let opts = Options {
        tls: Some("may"),
        ..Options::default()
    };
    if !postfix::available(&opts) {
        return;
    }
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (doc, pages) = document(dir.path(), &[1, 3]);
    // Postfix runs, then is stopped: the MTA is down when the fax comes.
    let pf = Postfix::configure(&dir.path().join("postfix"), &opts);
    pf.start();
    pf.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", pf.port)).is_err());
    let line = format!(
        "[[line]]\nuri = \"exec:mkdir {d}/called 2>/dev/null && exec {peer} send {doc} --ecm\"\nport = \"slot:1 port:7\"\nanswer = true\ndial = false\n",
        d = dir.path().display(),
        peer = peer.display(),
        doc = doc.display()
    );
    let gw = dir.path().join("gw");
    std::fs::create_dir_all(&gw).unwrap();
    let server = Server::start(&gw, &config(&line, pf.port));
    let outbox = gw.join("spool/onramp/outbox");
    wait_for(
        "the fax spooled and tried while Postfix is down",
        &server,
        Duration::from_secs(60),
        || server.log().contains("fax-mail not taken"),
    );
    assert_eq!(folders(&outbox), 1, "{}", server.log());
    assert!(server.accounting().is_empty());
    let report = spandsp::FaxReport::parse(&server.log()).expect("spandsp's report line");
    assert_eq!((report.result, report.pages), (0, 2), "{}", server.log());

    pf.start();
    wait_for(
        "Postfix takes the fax-mail",
        &server,
        Duration::from_secs(60),
        || !server.accounting().is_empty(),
    );
    let msgs = pf.wait_delivered("fax-7", 1, Duration::from_secs(30));
    assert_eq!(msgs.len(), 1, "exactly once:\n{}", pf.log());
    assert_eq!(folders(&outbox), 0);
    let records = server.accounting();
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(
        (r["call_type"].as_str(), r["status"].as_str()),
        (Some("Fax Receive"), Some("ok"))
    );
    assert_eq!(r["reply_code"], 250);
    assert!(r["attempt"].as_u64().unwrap() >= 2, "{r}");
    // `250 2.0.0 Ok: queued as 4F2A…`: the queue id Postfix delivered, once.
    let text = r["status_text"].as_str().unwrap();
    let qid = text
        .split("queued as ")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"))
        .trim();
    let log = pf.log();
    let delivered: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("status=sent (delivered to maildir)"))
        .collect();
    assert_eq!(delivered.len(), 1, "{log}");
    assert!(
        delivered[0].contains(&format!("{qid}: to=<fax-7@example.com>")),
        "{log}"
    );
    assert!(
        log.contains("TLS connection established from localhost[127.0.0.1]"),
        "opportunistic STARTTLS: {log}"
    );

    let out = dir.path().join("parts");
    let mail = parse_mail(&msgs[0], &out);
    assert_eq!(mail["type"], "multipart/mixed");
    assert_eq!(mail["to"], "fax-7@example.com");
    assert_eq!(mail["message_id"], r["message_id"]);
    assert_eq!(mail["subject"], "Fax from spandsp sender, 2 pages");
    assert_pages(&mail, &out, &pages);
}

/// The on-ramp's `[onramp]` with `more` keys added (tls, ca, user, password).
fn config_with(line: &str, port: u16, more: &str) -> String {
    let attach = "attach = [\"tiff\", \"png\", \"pdf\"]\n";
    let c = config(line, port);
    assert!(c.contains(attach));
    c.replace(attach, &format!("{attach}{more}\n"))
}

fn sim_line(doc: &Path, port: u32) -> String {
    format!(
        "[[line]]\nuri = \"sim:?caller={}\"\nport = \"slot:1 port:{port}\"\nanswer = true\ndial = false\n",
        doc.display()
    )
}

#[test]
fn a_relay_that_demands_tls_and_auth_gets_them_and_a_wrong_password_is_kept_in_failed() {
    let Some(()) = peers() else { return };
    let opts = Options {
        tls: Some("encrypt"),
        users: vec![("fax", "fax-secret")],
        ..Options::default()
    };
    if !postfix::available(&opts) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pf = Postfix::configure(&dir.path().join("postfix"), &opts);
    pf.start();
    let ca = pf.ca.clone().unwrap();
    let (doc, pages) = document(dir.path(), &[2]);

    // TLS required, the relay's CA not configured: its certificate is not trusted.
    let gw = dir.path().join("gw1");
    std::fs::create_dir_all(&gw).unwrap();
    let auth = "tls = \"required\"\nuser = \"fax\"\npassword = \"fax-secret\"";
    let mut server = Server::start(&gw, &config_with(&sim_line(&doc, 5), pf.port, auth));
    wait_for(
        "the relay's certificate refused",
        &server,
        Duration::from_secs(30),
        || server.log().contains("fax-mail not taken"),
    );
    let log = server.log();
    assert!(
        log.contains("TLS handshake") && log.contains("UnknownIssuer"),
        "{log}"
    );
    assert!(!log.contains("fax-secret"), "{log}");
    assert_eq!(folders(&gw.join("spool/onramp/outbox")), 1);
    assert!(
        !pf.log().contains("sasl_username"),
        "no AUTH before a verified TLS: {}",
        pf.log()
    );

    // The CA configured and reloaded: sent at once, over TLS, authenticated.
    let text = config_with(
        &sim_line(&doc, 5),
        pf.port,
        &format!("{auth}\nca = \"{}\"", ca.display()),
    )
    .replace("{dir}", &gw.display().to_string());
    std::fs::write(gw.join("softfax.toml"), text).unwrap();
    server.signal("-HUP");
    wait_for(
        "the fax-mail taken after the reload",
        &server,
        Duration::from_secs(30),
        || !server.accounting().is_empty(),
    );
    let msgs = pf.wait_delivered("fax-5", 1, Duration::from_secs(30));
    assert_eq!(msgs.len(), 1);
    let r = &server.accounting()[0];
    assert_eq!(
        (r["status"].as_str(), r["reply_code"].as_u64()),
        (Some("ok"), Some(250))
    );
    let log = pf.log();
    assert!(
        log.contains("sasl_method=PLAIN, sasl_username=fax@postfix.test"),
        "{log}"
    );
    assert!(
        log.contains("TLS connection established from localhost[127.0.0.1]"),
        "{log}"
    );
    let out = dir.path().join("parts");
    let mail = parse_mail(&msgs[0], &out);
    assert_pages(&mail, &out, &pages);
    server.kill9();

    // A wrong password: Postfix's 535 is for good; the fax is kept in failed/.
    let gw = dir.path().join("gw2");
    std::fs::create_dir_all(&gw).unwrap();
    let wrong = format!(
        "tls = \"required\"\nca = \"{}\"\nuser = \"fax\"\npassword = \"not-the-secret\"",
        ca.display()
    );
    let server = Server::start(&gw, &config_with(&sim_line(&doc, 6), pf.port, &wrong));
    wait_for(
        "the refusal recorded",
        &server,
        Duration::from_secs(30),
        || !server.accounting().is_empty(),
    );
    let r = &server.accounting()[0];
    assert_eq!(r["status"], "mail_refused", "{r}");
    assert_eq!(r["reply_code"], 535);
    assert_eq!(r["enhanced_code"], "5.7.8");
    let why = r["status_text"].as_str().unwrap();
    assert!(why.starts_with("AUTH: 535 5.7.8 "), "{why}");
    assert!(!why.contains("not-the-secret") && !server.log().contains("not-the-secret"));
    let failed = gw.join("spool/onramp/failed");
    assert_eq!(folders(&failed), 1);
    assert!(pf.maildir("fax-6").is_empty());
    assert!(
        pf.log()
            .contains("SASL PLAIN authentication failed: authentication failure, sasl_username=fax@postfix.test"),
        "{}",
        pf.log()
    );
}
