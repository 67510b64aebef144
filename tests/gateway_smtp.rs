//! The ESMTP off-ramp against real clients (Python smtplib, swaks) and raw sockets:
//! the seed session's exact lines, XACCOUNTING replies for success and busy, the far end
//! being spandsp's fax terminal on an `exec:` line (spandsp's report agrees; the pages it
//! wrote, decoded by libtiff, are the rendered pages pel for pel), hostile clients, a
//! configuration with errors, and `softfax accounting`.

mod common;
#[path = "common/gateway.rs"]
mod gateway;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::process::Command;
use std::time::Duration;

use gateway::*;

const SIM_LINE: &str = "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:2\"\n";

const SMTPLIB_SESSION: &str = r#"
import smtplib, sys, json
host, port, rcpt, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = smtplib.SMTP(timeout=700)
out = {}
out['greeting'] = list(s.connect(host, port))
code, msg = s.ehlo('client.test')
out['ehlo'] = [code, msg.decode()]
out['has_xaccounting'] = s.has_extn('xaccounting')
out['mail'] = list(s.mail(''))
out['rcpt'] = list(s.rcpt(rcpt))
out['xact'] = list(s.docmd('XACT'))
code, msg = s.data(open(path, 'rb').read())
out['data'] = [code, msg.decode()]
out['quit'] = list(s.quit())
print(json.dumps(out, default=lambda b: b.decode()))
"#;

fn smtplib(server: &Server, rcpt: &str, msg: &[u8]) -> Option<serde_json::Value> {
    let path = server.dir.join("msg.eml");
    std::fs::write(&path, msg).unwrap();
    let o = python(
        SMTPLIB_SESSION,
        &[
            "127.0.0.1",
            &server.addr.port().to_string(),
            rcpt,
            path.to_str().unwrap(),
        ],
    )?;
    assert!(
        o.status.success(),
        "smtplib: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        server.log()
    );
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

#[test]
fn smtplib_seed_session_with_xaccounting() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &config("immediate", "", SIM_LINE));
    let msg = fax_mail("FAX=+1408555-7442@example.com", "A note.", &chart_tiff());
    let Some(v) = smtplib(&server, "FAX=+1408555-7442@example.com", &msg) else {
        return;
    };
    assert_eq!(v["greeting"][0], 220);
    assert_eq!(v["greeting"][1], "gw.example.com softfax ESMTP");
    assert_eq!(
        v["ehlo"][1].as_str().unwrap(),
        "gw.example.com hello client.test [127.0.0.1]\nENHANCEDSTATUSCODES\n8BITMIME\nPIPELINING\nHELP\nDSN\nXSESSION\nXACCOUNTING\nSIZE 10485760"
    );
    assert_eq!(v["has_xaccounting"], true);
    assert_eq!(v["mail"][0], 250);
    assert_eq!(v["rcpt"][0], 250);
    assert_eq!(
        v["rcpt"][1],
        "2.1.5 Recipient <FAX=+1408555-7442@example.com> ok, maps to '5557442' (cp=yes)"
    );
    assert_eq!(v["xact"][0], 250);
    assert_eq!(v["xact"][1], "2.5.0 XACCOUNTING enabled");
    assert_eq!(v["data"][0], 250, "{}", server.log());
    let lines: Vec<&str> = v["data"][1].as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), 12, "{lines:?}");
    assert_eq!(lines[0], "2.5.0 Message delivered to remote fax machine");
    let records = server.accounting();
    let pages = records[0]["document_pages"].as_u64().unwrap();
    assert!(pages >= 2, "a cover page and the chart: {pages}");
    assert!(lines[1].starts_with("2.5.0 fax_modem_time = "));
    let (x, y) = lines[1][23..].split_once('/').unwrap();
    let (x, y): (u64, u64) = (x.parse().unwrap(), y.parse().unwrap());
    assert!(x > 10 && y >= x, "{x}/{y}");
    assert_eq!(lines[2], format!("2.5.0 fax_pages = {pages}"));
    assert_eq!(lines[3], "2.5.0 gateway_id = gw.example.com");
    assert_eq!(lines[4], "2.5.0 fax_connect_speed = 14400bps");
    assert!(lines[5].starts_with("2.5.0 transmit_bytes = "));
    assert!(lines[5][23..].parse::<u64>().unwrap() > 1000);
    assert_eq!(lines[6], "2.5.0 port_used = slot:1 port:2");
    assert_eq!(lines[7], "2.5.0 call_type = Fax Send");
    assert_eq!(lines[8], "2.5.0 abort_cause = 0");
    assert_eq!(lines[9], "2.5.0 T30_error_code = 0");
    assert_eq!(lines[10], "2.5.0 ISDN_disconnect_code = 16");
    assert_eq!(lines[11], "2.5.0 CSID =softfax sim");
    assert_eq!(v["quit"][0], 221);
    // The accounting record has the same facts.
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["status"], "ok");
    assert_eq!(r["dial"], "5557442");
    assert_eq!(r["fax_pages"].as_u64().unwrap(), pages);
    assert_eq!(r["T30_error_code"], 0);
    assert_eq!(r["CSID"], "softfax sim");
}

#[test]
fn busy_line_gives_the_cisco_busy_reply() {
    let dir = tempfile::tempdir().unwrap();
    if !require_peer("python3", "python3") {
        return;
    }
    // North American busy: 480 + 620 Hz, 0.5 s on, 0.5 s off.
    let far = tone_far_end(dir.path(), &[480.0, 620.0], 500, 500);
    let line = format!("[[line]]\nuri = '{far}'\nport = \"slot:1 port:3\"\n");
    let server = Server::start(dir.path(), &config("immediate", "", &line));
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<>");
    c.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
    assert_eq!(c.cmd("XACT"), "250 2.5.0 XACCOUNTING enabled\r\n");
    assert!(c.cmd("DATA").starts_with("354 "));
    c.send(b"Subject: x\r\n\r\nbusy test\r\n.\r\n");
    let reply = c.reply();
    let lines: Vec<&str> = reply.lines().collect();
    assert_eq!(lines.len(), 12, "{reply}\n{}", server.log());
    assert_eq!(lines[0], "450-4.3.2 Modem busy");
    assert!(
        lines[1].starts_with("450-4.3.2 fax_modem_time = 0/"),
        "{reply}"
    );
    let expect = [
        "450-4.3.2 fax_pages = 0",
        "450-4.3.2 gateway_id = gw.example.com",
        "450-4.3.2 fax_connect_speed = 2400bps",
        "450-4.3.2 transmit_bytes = 0",
        "450-4.3.2 port_used = slot:1 port:3",
        "450-4.3.2 call_type = Fax Send",
        "450-4.3.2 abort_cause = 1",
        "450-4.3.2 T30_error_code = 11",
        "450-4.3.2 ISDN_disconnect_code = 17",
        "450 4.3.2 CSID =",
    ];
    assert_eq!(&lines[2..], &expect, "{reply}");
    // Without XACT: one line.
    c.cmd("MAIL FROM:<>");
    c.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
    assert_eq!(c.cmd("RSET"), "250 2.0.0 Reset state\r\n");
    let mut c2 = Client::connect(server.addr);
    c2.reply();
    c2.cmd("EHLO c2");
    c2.cmd("MAIL FROM:<>");
    c2.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
    c2.cmd("DATA");
    c2.send(b"\r\nbusy again\r\n.\r\n");
    assert_eq!(c2.reply(), "450 4.3.2 Modem busy\r\n");
    let r = server.accounting();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["status"], "busy");
    assert_eq!(r[0]["ISDN_disconnect_code"], 17);
}

#[test]
fn spandsp_receives_the_fax_pel_identical() {
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    if !require_peer("tifftopnm", "netpbm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spandsp.tif");
    // V.27ter 4800 (tests/interop_spandsp_fax.rs runs every rate).
    let line = format!(
        "[[line]]\nuri = 'exec:{} recv {}'\nport = \"slot:2 port:1\"\nmax_rate = 4800\n",
        peer.display(),
        out.display()
    );
    let server = Server::start(dir.path(), &config("immediate", "", &line));
    let msg = fax_mail(
        "FAX=+4930123456@example.com",
        "Note for spandsp.",
        &chart_tiff(),
    );
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<sender@example.org>");
    assert!(
        c.cmd("RCPT TO:<FAX=+4930123456@example.com>")
            .contains("(cp=no)")
    );
    c.cmd("XACT");
    c.cmd("DATA");
    let mut body = Vec::new();
    for l in msg.split_inclusive(|&b| b == b'\n') {
        if l.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(l);
    }
    body.extend_from_slice(b".\r\n");
    c.send(&body);
    let reply = c.reply();
    assert!(
        reply.starts_with("250-2.5.0 Message delivered to remote fax machine"),
        "{reply}\n{}",
        server.log()
    );
    assert!(reply.contains("fax_connect_speed = 4800bps"), "{reply}");
    assert!(
        reply.ends_with("250 2.5.0 CSID =spandsp receiver\r\n"),
        "{reply}"
    );
    // spandsp's own account of the call.
    let report = spandsp::FaxReport::parse(&server.log())
        .unwrap_or_else(|| panic!("no spandsp report:\n{}", server.log()));
    let want = softfax::documents::message_to_pages(
        &msg,
        &softfax::documents::RenderOptions {
            resolution: softfax::dsp::image::Resolution::FINE,
            paper: softfax::documents::Paper::A4,
            cover_page: false,
            recipient: "+4930123456".into(),
            gateway_id: "gw.example.com".into(),
        },
    )
    .unwrap();
    assert_eq!(
        (report.result, report.pages as usize, report.bit_rate),
        (0, want.pages.len(), 4800),
        "{report:?}"
    );
    assert!(!report.ecm && report.compression == "mr", "{report:?}");
    assert_eq!(report.bad_rows, 0, "{report:?}");
    // What spandsp stored, decoded by libtiff, is what the documents module rendered.
    let got = common::libtiff_pages(&out);
    assert_eq!(got.len(), want.pages.len());
    for (i, (g, w)) in got.iter().zip(&want.pages).enumerate() {
        assert_eq!((g.width, g.height), (w.width, w.height), "page {i}");
        assert!(g.data == w.data, "page {}: pels differ", i + 1);
    }
}

#[test]
fn swaks_sends_ordinary_fax_mail() {
    if !require_peer("swaks", "swaks") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &config("immediate", "", SIM_LINE));
    let tif = dir.path().join("page.tif");
    std::fs::write(&tif, chart_tiff()).unwrap();
    let port = server.addr.port().to_string();
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--from", "<>", "--to", "FAX=+1408555-7442@example.com"])
        .args(["--attach-type", "image/tiff; application=faxbw"])
        .arg("--attach")
        .arg(format!("@{}", tif.display()))
        .args(["--body", "A note from swaks.", "--pipeline"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", server.log());
    assert!(
        out.contains("<-  250 2.5.0 Message delivered to remote fax machine"),
        "{out}"
    );
    // A foreign domain is never relayed; a denied number is refused by policy.
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args([
            "--from",
            "a@b.org",
            "--to",
            "someone@elsewhere.org",
            "--quit-after",
            "RCPT",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("<** 550 5.7.1"), "{out}");
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args([
            "--from",
            "a@b.org",
            "--to",
            "FAX=+1900-555-0100@example.com",
            "--quit-after",
            "RCPT",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("<** 550 5.7.1"), "{out}");
    let r = server.accounting();
    let denied = r.iter().find(|x| x["status"] == "denied").unwrap();
    assert_eq!(denied["abort_cause"], 5);
}

#[test]
fn hostile_clients_get_replies_or_a_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "";
    let lines = format!(
        "{SIM_LINE}\n[limits]\ncommand_timeout_s = 2\ndata_timeout_s = 2\nmax_message_size = 200000\nmax_connections_per_ip = 5\n"
    );
    let server = Server::start(dir.path(), &config("immediate", extra, &lines));
    // Garbage, NULs, invalid UTF-8, commands out of order, an over-long line.
    let mut c = Client::connect(server.addr);
    assert_eq!(c.reply(), "220 gw.example.com softfax ESMTP\r\n");
    assert_eq!(
        c.cmd("\x01\x02garbage"),
        "500 5.5.1 Command unrecognized\r\n"
    );
    c.send(b"NO\0OP\r\n");
    assert_eq!(c.reply(), "500 5.5.2 Invalid characters in command\r\n");
    c.send(b"HELO \xff\xfe\r\n");
    assert_eq!(c.reply(), "500 5.5.2 Invalid characters in command\r\n");
    assert_eq!(c.cmd("DATA"), "503 5.5.1 Need MAIL command\r\n");
    assert_eq!(
        c.cmd("RCPT TO:<FAX=+1@example.com>"),
        "503 5.5.1 Need MAIL before RCPT\r\n"
    );
    assert_eq!(
        c.cmd(&format!("NOOP {}", "x".repeat(20000))),
        "500 5.5.6 Line too long\r\n"
    );
    assert_eq!(c.cmd("NOOP"), "250 2.0.0 OK\r\n");
    // PIPELINING: a whole group in one write, replies in order.
    c.send(b"EHLO p\r\nMAIL FROM:<>\r\nRCPT TO:<FAX=+1408555-7442@example.com>\r\nRCPT TO:<FAX=+1408555-7443@example.com>\r\nRSET\r\nMAIL FROM:<a@b> SIZE=999999999\r\nNOOP\r\n");
    assert!(c.reply().starts_with("250-gw.example.com"));
    assert_eq!(c.reply(), "250 2.1.0 Sender <> ok\r\n");
    assert!(c.reply().starts_with("250 2.1.5 Recipient"));
    assert!(c.reply().starts_with("452 4.5.3 "));
    assert_eq!(c.reply(), "250 2.0.0 Reset state\r\n");
    assert!(c.reply().starts_with("552 5.3.4 "));
    assert_eq!(c.reply(), "250 2.0.0 OK\r\n");
    assert_eq!(c.cmd("EXPN list"), "502 5.5.1 EXPN not implemented\r\n");
    assert!(c.cmd("VRFY bob").starts_with("252 2.1.5"));
    assert!(c.cmd("HELP").starts_with("214-2.0.0"));
    assert_eq!(c.cmd("STARTTLS"), "454 4.7.0 TLS not available\r\n");
    assert_eq!(
        c.cmd("AUTH PLAIN AGFAYg=="),
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@b> BODY=BINARYMIME"),
        "555 5.5.4 Parameter BODY=BINARYMIME not supported\r\n"
    );
    assert!(c.cmd("QUIT").starts_with("221 2.0.0"));
    assert!(c.closed_within(Duration::from_secs(5)));

    // Too big during DATA: read to the dot, then 552.
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO x");
    c.cmd("MAIL FROM:<>");
    c.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
    c.cmd("DATA");
    let big = format!("{}\r\n", "y".repeat(998)).repeat(300);
    c.send(big.as_bytes());
    c.send(b".\r\n");
    assert!(c.reply().starts_with("552 5.3.4 Message too big"));
    // The client vanishes mid-DATA: no call, an abort record (abort_cause 2).
    c.cmd("MAIL FROM:<a@b.org>");
    c.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
    c.cmd("DATA");
    c.send(b"Subject: half\r\n\r\nhalf a mess");
    drop(c);
    // The idle timeout closes with 421.
    let mut c = Client::connect(server.addr);
    c.reply();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        c.reply()
            .starts_with("421 4.4.2 gw.example.com Error: timeout exceeded")
    );
    // Connections per address are limited.
    let many: Vec<Client> = (0..5).map(|_| Client::connect(server.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = Client::connect(server.addr);
    assert!(
        extra
            .reply()
            .starts_with("421 4.7.0 gw.example.com Too many connections")
    );
    drop(many);
    std::thread::sleep(Duration::from_millis(500));
    let r = server.accounting();
    let aborted = r
        .iter()
        .find(|x| x["status"] == "smtp_aborted")
        .expect("abort record");
    assert_eq!(aborted["abort_cause"], 2);
    assert_eq!(aborted["sender"], "a@b.org");
    // The server survived it all.
    let mut c = Client::connect(server.addr);
    assert_eq!(c.reply(), "220 gw.example.com softfax ESMTP\r\n");
}

#[test]
fn a_config_with_errors_names_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = config("immediate", "", SIM_LINE)
        .replace("{dir}", &dir.path().display().to_string())
        .replace("cover_page = true", "cover_page = \"yes\"");
    let path = dir.path().join("softfax.toml");
    std::fs::write(&path, &bad).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let line = bad
        .lines()
        .position(|l| l.starts_with("cover_page = \"yes\""))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("softfax.toml line {line}, key cover_page:")),
        "{err}"
    );
    let bad = bad
        .replace("cover_page = \"yes\"", "cover_page = true")
        .replace("^\\\\+1900", "^\\\\+1900(");
    std::fs::write(&path, &bad).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let line = bad.lines().position(|l| l.starts_with("deny = ")).unwrap() + 1;
    assert!(
        err.contains(&format!(
            "softfax.toml line {line}, key policy.deny[1]: not a regular expression"
        )),
        "{err}"
    );
}

#[test]
fn accounting_command_reads_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &config("immediate", "", SIM_LINE));
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO x");
    c.cmd("MAIL FROM:<a@b.org>");
    c.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
    c.cmd("DATA");
    c.send(b"Subject: hi\r\n\r\nhello\r\n.\r\n");
    assert!(c.reply().starts_with("250 2.5.0"));
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
            .arg("accounting")
            .args(args)
            .arg("--config")
            .arg(dir.path().join("softfax.toml"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let t = run(&[]);
    assert!(t.starts_with("time "), "{t}");
    assert!(
        t.contains(" ok ") && t.contains("5557442") && t.ends_with("1 record(s)\n"),
        "{t}"
    );
    let j = run(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(j.lines().next().unwrap()).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["port_used"], "slot:1 port:2");
    let csv = run(&["--format", "csv", "--since", "1h"]);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let none = run(&["--format", "csv", "--since", "2999-01-01"]);
    assert_eq!(none.lines().count(), 1, "{none}");
}

#[test]
fn demo_delivers_and_writes_tiff_and_png() {
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
    assert!(
        text.contains("C: XACT\nS: 250 2.5.0 XACCOUNTING enabled\n"),
        "{text}"
    );
    assert!(
        text.contains("S: 250-2.5.0 Message delivered to remote fax machine\n"),
        "{text}"
    );
    assert!(text.contains("S: 250 2.5.0 CSID =softfax sim\n"), "{text}");
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let tif = names.iter().find(|n| n.ends_with(".tif")).expect("a TIFF");
    let pages = softfax::dsp::tiff::read_pages(&std::fs::read(out.join(tif)).unwrap()).unwrap();
    let pngs = names.iter().filter(|n| n.ends_with(".png")).count();
    assert!(pages.len() >= 2, "cover page, note and chart");
    assert_eq!(pngs, pages.len());
    assert!(
        text.contains(&format!("fax_pages = {}", pages.len())),
        "{text}"
    );
}

#[test]
fn serve_without_a_config_file_says_so() {
    let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(["serve", "--config", "/nonexistent/softfax.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read /nonexistent/softfax.toml"));
}

/// 200 concurrent smtplib sessions, one message each, each to its own number.
const SMTPLIB_CROWD: &str = r#"
import smtplib, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = [None] * n
def one(i):
    try:
        s = smtplib.SMTP(host, port, timeout=120)
        s.ehlo('crowd.test')
        s.mail('crowd@example.org')
        s.rcpt('FAX=+1408555%04d@example.com' % i)
        try:
            code, msg = s.data(b'Subject: crowd %d\r\n\r\nhello\r\n' % i)
        except smtplib.SMTPDataError as e:
            code, msg = e.smtp_code, e.smtp_error
        out[i] = '%d %s' % (code, msg.decode().split()[0])
        s.quit()
    except Exception as e:
        out[i] = 'error %r' % e
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print('\n'.join(out))
"#;

/// Immediate mode under a crowd: 200 sessions at once on 4 ports whose calls take 1 s (a
/// far end that never answers), `line_wait_s = 2`. Every session gets its final reply, none
/// hangs: the call's result (`450 4.4.1`, no fax answered) for those that got a port in
/// time, `450 4.3.2 Modem busy` for the others — and the accounting log agrees, session for
/// session. (benches/smtp_load.sh measures 1000 sessions on 24 ports.)
#[test]
fn a_crowd_in_immediate_mode_gets_every_reply() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (1..=4)
        .map(|p| format!("[[line]]\nuri = \"exec:sleep 1\"\nport = \"port:{p}\"\n"))
        .collect();
    let limits = "[limits]\nline_wait_s = 2\nmax_connections_per_ip = 300\n";
    let server = Server::start(
        dir.path(),
        &config("immediate", "", &format!("{lines}\n{limits}")),
    );
    const N: usize = 200;
    let Some(o) = python(
        SMTPLIB_CROWD,
        &["127.0.0.1", &server.addr.port().to_string(), &N.to_string()],
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let replies: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(replies.len(), N);
    let called = replies.iter().filter(|r| *r == "450 4.4.1").count();
    let waited = replies.iter().filter(|r| *r == "450 4.3.2").count();
    assert_eq!(
        called + waited,
        N,
        "every session has its final reply: {replies:?}\n{}",
        server.log()
    );
    assert!(called >= 4, "each port placed a call: {called}");
    assert!(waited > 0, "4 ports cannot place 200 calls in 2 s");
    let recs = server.accounting();
    let count = |s: &str| recs.iter().filter(|r| r["status"] == s).count();
    assert_eq!(
        (count("no_fax_answer"), count("no_line"), recs.len()),
        (called, waited, N),
        "{recs:?}"
    );
}
