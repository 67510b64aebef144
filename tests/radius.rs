//! RADIUS accounting (RFC 2866) against a real FreeRADIUS: every call of a running gateway is
//! recorded — a Start and a Stop with the same Acct-Session-Id — and the Stop carries the
//! values of the call's XACCOUNTING reply in Cisco's T.37 VSAs, as FreeRADIUS decodes them
//! with its own dictionary into its `detail` file. The first configured server never
//! answers: the requests are retransmitted to it (new Acct-Delay-Time, new Identifier), then
//! fail over to FreeRADIUS.
//!
//! Calls the on-ramp answers get the same: a Start when the call is answered (Cisco-Call-Type
//! `Fax Receive`, the mailbox as User-Name), a Stop once the MTA took the fax-mail, with the
//! values of that call's accounting record — pages, speed, modem time, the caller's CSI —
//! and how long after the call it was sent (Acct-Delay-Time: the MTA refused the first try).

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
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway::*;

const SECRET: &str = "testing123";

/// A FreeRADIUS of the test's own: its configuration folder (`detail` is written there) and
/// its accounting port.
struct Radiusd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Radiusd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// [`freeradius`] in `base/raddb` on a free port; `None` (skip, or a failure under CI)
/// without FreeRADIUS.
fn start_freeradius(base: &Path) -> Option<Radiusd> {
    if !require_peer("freeradius", "freeradius") {
        return None;
    }
    let dir = base.join("raddb");
    std::fs::create_dir_all(&dir).unwrap();
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let Some(child) = freeradius(&dir, port) else {
        softfax_peers::unavailable("freeradius", "not found");
        return None;
    };
    Some(Radiusd { child, dir, port })
}

/// FreeRADIUS in the foreground (`-X`) on a private configuration in `dir`: one client
/// (127.0.0.1 with SECRET), one accounting listener on `port`, the `detail` module writing
/// every Accounting-Request to `dir/detail`.
fn freeradius(dir: &Path, port: u16) -> Option<Child> {
    let d = dir.display();
    let conf = format!(
        r#"prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
confdir = {d}
raddbdir = {d}
radacctdir = {d}/radacct
logdir = {d}
run_dir = {d}
libdir = /usr/lib/freeradius
pidfile = {d}/radiusd.pid
name = radiusd
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
	destination = stdout
}}
security {{
	allow_core_dumps = no
	allow_vulnerable_openssl = yes
}}
client local {{
	ipaddr = 127.0.0.1
	secret = {SECRET}
}}
modules {{
	detail {{
		filename = {d}/detail
		escape_filenames = no
		permissions = 0600
		header = "%t"
	}}
}}
server acct {{
	listen {{
		type = acct
		ipaddr = 127.0.0.1
		port = {port}
	}}
	preacct {{
	}}
	accounting {{
		detail
	}}
}}
"#
    );
    std::fs::write(dir.join("radiusd.conf"), conf).unwrap();
    let bin =
        softfax_peers::find_tool("freeradius").or_else(|| softfax_peers::find_tool("radiusd"))?;
    let mut child = Command::new(bin)
        .args(["-X", "-d"])
        .arg(dir)
        .args(["-n", "radiusd"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if l.contains("Ready to process requests")
                && let Some(t) = tx.take()
            {
                let _ = t.send(());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => Some(child),
        Err(_) => {
            let _ = child.kill();
            panic!("FreeRADIUS did not start with {}/radiusd.conf", d);
        }
    }
}

/// The records of a FreeRADIUS `detail` file: attribute → values (repeated ones in order).
fn detail(path: &Path) -> Vec<HashMap<String, Vec<String>>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut rec: HashMap<String, Vec<String>> = HashMap::new();
        for line in block.lines().skip(1) {
            if let Some((k, v)) = line.trim().split_once(" = ") {
                rec.entry(k.to_string())
                    .or_default()
                    .push(v.trim_matches('"').to_string());
            }
        }
        out.push(rec);
    }
    out
}

fn one<'a>(r: &'a HashMap<String, Vec<String>>, k: &str) -> &'a str {
    r.get(k)
        .and_then(|v| v.first())
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {k} in {r:?}"))
}

/// The XACCOUNTING reply's `name = value` lines.
fn xact_fields(reply: &str) -> HashMap<String, String> {
    reply
        .lines()
        .filter_map(|l| l.get(10..))
        .filter_map(|l| {
            l.split_once(" = ")
                .or_else(|| l.split_once(" ="))
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn send_fax(c: &mut Client, to: &str, text: &str) -> String {
    assert!(c.cmd("MAIL FROM:<alice@example.org>").starts_with("250"));
    let r = c.cmd(&format!("RCPT TO:<{to}>"));
    assert!(r.starts_with("250"), "{r}");
    assert!(c.cmd("XACT").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    let mail = fax_mail(to, text, &chart_tiff());
    c.send(&mail);
    c.send(b".\r\n");
    c.reply()
}

#[test]
fn freeradius_records_every_call_with_the_xaccounting_values() {
    let dir = tempfile::tempdir().unwrap();
    let Some(radiusd) = start_freeradius(dir.path()) else {
        return;
    };
    let (rdir, port) = (&radiusd.dir, radiusd.port);
    // A server that takes every request and never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let radius = format!(
        "[radius]\nservers = [\"{silent_addr}\", \"127.0.0.1:{port}\"]\nsecret = \"{SECRET}\"\ntimeout_ms = 600\nretries = 2\nnas_ip = \"192.0.2.7\"\n"
    );
    let cfg = config(
        "immediate",
        "ident = \"+1 555 0100\"",
        &format!("[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:3\"\n\n{radius}"),
    );
    let server = Server::start(dir.path(), &cfg);
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO radius.test");
    let replies = [
        send_fax(&mut c, "FAX=+1408555-7442@example.com", "first"),
        send_fax(
            &mut c,
            "FAX=+1408555-7443@example.com",
            "second\r\nwith more text",
        ),
    ];
    c.cmd("QUIT");
    for r in &replies {
        assert!(r.starts_with("250-2.5.0 Message delivered"), "{r}");
    }

    // Wait for both Stops (each waits out the silent server first: 0.6 + 1.2 s).
    let path = rdir.join("detail");
    let start = Instant::now();
    let recs = loop {
        let recs = detail(&path);
        let stops = recs
            .iter()
            .filter(|r| r.get("Acct-Status-Type").is_some_and(|v| v[0] == "Stop"))
            .count();
        if stops == 2 {
            break recs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "FreeRADIUS has {recs:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(recs.len(), 4, "a Start and a Stop per call: {recs:?}");

    // The silent server saw each request twice: the retransmission has a new Identifier and
    // Acct-Delay-Time (type 41).
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = silent.recv(&mut buf) {
        seen.push(buf[..n].to_vec());
    }
    assert_eq!(seen.len(), 8, "2 transmissions × 4 requests");
    let has_delay = |p: &[u8]| {
        let mut i = 20;
        while i + 2 <= p.len() {
            if p[i] == 41 {
                return true;
            }
            i += (p[i + 1] as usize).max(2);
        }
        false
    };
    assert!(
        seen.iter().filter(|p| has_delay(p)).count() >= 4,
        "retransmissions carry Acct-Delay-Time"
    );
    let ids: std::collections::HashSet<u8> = seen.iter().map(|p| p[1]).collect();
    assert!(
        ids.len() > 4,
        "retransmissions take new Identifiers: {ids:?}"
    );

    let acct = server.accounting();
    assert_eq!(acct.len(), 2);
    for (i, reply) in replies.iter().enumerate() {
        let x = xact_fields(reply);
        let rec = &acct[i];
        let session = format!("{}-1", rec["job"].as_str().unwrap());
        let of = |kind: &str| {
            recs.iter()
                .find(|r| {
                    r.get("Acct-Session-Id").is_some_and(|v| v[0] == session)
                        && one(r, "Acct-Status-Type") == kind
                })
                .unwrap_or_else(|| panic!("no {kind} for {session} in {recs:?}"))
        };
        let (start, stop) = (of("Start"), of("Stop"));
        let dial = rec["dial"].as_str().unwrap();
        for r in [start, stop] {
            assert_eq!(one(r, "Called-Station-Id"), dial);
            assert_eq!(one(r, "Calling-Station-Id"), "+1 555 0100");
            assert_eq!(one(r, "NAS-Identifier"), "gw.example.com");
            assert_eq!(one(r, "NAS-IP-Address"), "192.0.2.7");
            assert_eq!(one(r, "NAS-Port-Id"), "slot:1 port:3");
            assert_eq!(one(r, "User-Name"), "alice@example.org");
            assert_eq!(one(r, "Cisco-Port-Used"), x["port_used"]);
            // Every request reached FreeRADIUS after the silent server's 1.8 s.
            assert!(
                one(r, "Acct-Delay-Time").parse::<u32>().unwrap() >= 1,
                "{r:?}"
            );
        }
        assert_eq!(one(stop, "Acct-Terminate-Cause"), "NAS-Request");
        assert!(one(stop, "Acct-Session-Time").parse::<u32>().unwrap() < 30);
        assert_eq!(one(stop, "Acct-Output-Octets"), x["transmit_bytes"]);
        assert_eq!(one(stop, "Cisco-Fax-Pages"), x["fax_pages"]);
        assert_eq!(one(stop, "Cisco-Fax-Modem-Time"), x["fax_modem_time"]);
        assert_eq!(one(stop, "Cisco-Fax-Connect-Speed"), x["fax_connect_speed"]);
        assert_eq!(one(stop, "Cisco-Gateway-Id"), x["gateway_id"]);
        assert_eq!(one(stop, "Cisco-Call-Type"), x["call_type"]);
        assert_eq!(one(stop, "Cisco-Abort-Cause"), x["abort_cause"]);
        assert_eq!(
            one(stop, "Cisco-Fax-Msg-Id"),
            rec["message_id"].as_str().unwrap()
        );
        let pairs = &stop["Cisco-AVPair"];
        for k in ["transmit_bytes", "T30_error_code", "ISDN_disconnect_code"] {
            assert!(pairs.contains(&format!("{k}={}", x[k])), "{k}: {pairs:?}");
        }
        assert!(pairs.contains(&format!("CSID={}", x["CSID"])), "{pairs:?}");
        assert!(x["fax_pages"].parse::<u32>().unwrap() >= 2);
    }
}

/// FreeRADIUS's detail records once it has `stops` Stops (bounded wait).
fn wait_stops(path: &Path, stops: usize, server: &Server) -> Vec<HashMap<String, Vec<String>>> {
    let start = Instant::now();
    loop {
        let recs = detail(path);
        let n = recs
            .iter()
            .filter(|r| r.get("Acct-Status-Type").is_some_and(|v| v[0] == "Stop"))
            .count();
        if n >= stops {
            return recs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "FreeRADIUS has {recs:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn freeradius_records_a_received_fax_with_its_accounting_values() {
    let Some(()) = onramp::peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(radiusd) = start_freeradius(dir.path()) else {
        return;
    };
    let (rdir, port) = (&radiusd.dir, radiusd.port);
    // The MTA refuses the first end of data with 451: the mail goes on the second try, a
    // second or more after the call ended.
    let sink = onramp::Sink::start(&dir.path().join("mail"), &["--tempfail", "1"]);
    let (doc, _) = fax_call::document(dir.path(), &[1, 2]);
    let lines = format!(
        "[[line]]\nuri = \"sim:?caller={}\"\nport = \"slot:1 port:4\"\nanswer = true\ndial = false\n",
        doc.display()
    );
    let cfg = onramp::config(&lines, sink.port).replace(
        "[onramp]",
        &format!(
            "[radius]\nservers = [\"127.0.0.1:{port}\"]\nsecret = \"{SECRET}\"\nnas_ip = \"192.0.2.7\"\n\n[onramp]"
        ),
    );
    let server = Server::start(dir.path(), &cfg);
    let recs = wait_stops(&rdir.join("detail"), 1, &server);
    assert_eq!(recs.len(), 2, "a Start and a Stop: {recs:?}");
    let acct = server.accounting();
    assert_eq!(acct.len(), 1, "{acct:?}");
    let rec = &acct[0];
    assert_eq!(rec["call_type"], "Fax Receive");
    assert_eq!(rec["attempt"], 2);
    let session = rec["job"].as_str().unwrap();
    let of = |kind: &str| {
        recs.iter()
            .find(|r| one(r, "Acct-Status-Type") == kind)
            .unwrap_or_else(|| panic!("no {kind} in {recs:?}"))
    };
    let (start, stop) = (of("Start"), of("Stop"));
    for r in [start, stop] {
        assert_eq!(one(r, "Acct-Session-Id"), session);
        assert_eq!(one(r, "User-Name"), "fax-4@example.com");
        assert_eq!(one(r, "NAS-Identifier"), "gw.example.com");
        assert_eq!(one(r, "NAS-IP-Address"), "192.0.2.7");
        assert_eq!(one(r, "NAS-Port-Id"), "slot:1 port:4");
        assert_eq!(one(r, "Cisco-Port-Used"), "slot:1 port:4");
        assert_eq!(one(r, "Cisco-Call-Type"), "Fax Receive");
        assert_eq!(one(r, "Cisco-Gateway-Id"), "gw.example.com");
        // A sim: line gives no called number.
        assert!(!r.contains_key("Called-Station-Id"), "{r:?}");
    }
    assert!(!start.contains_key("Calling-Station-Id"), "{start:?}");
    // The Stop carries the record's values.
    let s = |k: &str| rec[k].as_str().unwrap().to_string();
    assert_eq!(one(stop, "Calling-Station-Id"), s("CSID"));
    assert_eq!(s("CSID"), "softfax sim");
    assert_eq!(one(stop, "Cisco-Fax-Pages"), rec["fax_pages"].to_string());
    assert_eq!(rec["fax_pages"], 2);
    assert_eq!(one(stop, "Cisco-Fax-Modem-Time"), s("fax_modem_time"));
    assert_eq!(one(stop, "Cisco-Fax-Connect-Speed"), s("fax_connect_speed"));
    assert_eq!(one(stop, "Cisco-Fax-Msg-Id"), s("message_id"));
    assert_eq!(
        one(stop, "Cisco-Abort-Cause"),
        rec["abort_cause"].to_string()
    );
    assert_eq!(one(stop, "Cisco-Fax-Process-Abort-Flag"), "false");
    assert_eq!(one(stop, "Acct-Terminate-Cause"), "User-Request");
    let call_s = s("fax_modem_time").split('/').nth(1).unwrap().to_string();
    assert_eq!(one(stop, "Acct-Session-Time"), call_s);
    let pairs = &stop["Cisco-AVPair"];
    for k in ["T30_error_code", "ISDN_disconnect_code", "CSID"] {
        let v = rec[k]
            .as_str()
            .map_or_else(|| rec[k].to_string(), str::to_string);
        assert!(pairs.contains(&format!("{k}={v}")), "{k}: {pairs:?}");
    }
    // Sent after the MTA's second try, so later than the call's end.
    assert!(
        one(stop, "Acct-Delay-Time").parse::<u32>().unwrap() >= 1,
        "{stop:?}"
    );
    assert!(!stop.contains_key("Cisco-Fax-Dsn-Address"), "{stop:?}");
}
