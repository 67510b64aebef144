//! Postfix as the real MTA in front of the gateway: a private Postfix instance (its own
//! config_directory and queue_directory, on free loopback ports) relays fax-mail for
//! example.com to `softfax serve` through a transport map
//! (`example.com fax:[127.0.0.1]:PORT`, master.cf `fax unix - - n - 1 smtp`), as README's
//! "Postfix integration" describes. The client asks for DSNs (RFC 3461 RET, ENVID, NOTIFY);
//! a recording relay between Postfix and the gateway shows that Postfix passed them on and
//! the gateway took them. Postfix must run as root; the test skips (with a reason) when
//! Postfix is missing or we are not root — except under CI.

#[path = "common/gateway.rs"]
mod gateway;
#[path = "common/postfix.rs"]
mod postfix;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway::*;
use postfix::{Options, Postfix};

/// A private Postfix (tests/common/postfix.rs) relaying example.com through its `fax`
/// transport to `nexthop` (`[127.0.0.1]:PORT`, or a list of them tried in order), started.
fn start_postfix(dir: &Path, nexthop: String) -> Postfix {
    let opts = Options {
        relay: Some(nexthop),
        ..Options::default()
    };
    let pf = Postfix::configure(dir, &opts);
    pf.start();
    pf
}

/// Submits the message asking for DSNs: headers only, envelope id `fax-test-1`, on success
/// and on failure.
const SEND: &str = r#"
import smtplib, sys
port, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('client.test')
s.sendmail('sender@example.org', [rcpt], open(path, 'rb').read(),
           mail_options=['RET=HDRS', 'ENVID=fax-test-1'],
           rcpt_options=['NOTIFY=SUCCESS,FAILURE'])
s.quit()
"#;

/// A TCP relay in front of `to` that keeps everything its clients send (the SMTP commands
/// and the message), so the test sees what Postfix said to the gateway.
struct Recorder {
    port: u16,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    fn start(to: SocketAddr) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let keep = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { break };
                let Ok(mut server) = TcpStream::connect(to) else {
                    break;
                };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || std::io::copy(&mut s2, &mut c2));
                let keep = keep.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = client.read(&mut buf) {
                        keep.lock().unwrap().extend_from_slice(&buf[..n]);
                        if server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Recorder { port, sent }
    }

    /// The first command line the clients sent that starts with `verb` (case-insensitive).
    fn command(&self, verb: &str) -> Option<String> {
        let sent = String::from_utf8_lossy(&self.sent.lock().unwrap()).to_string();
        sent.lines()
            .find(|l| {
                l.get(..verb.len())
                    .is_some_and(|v| v.eq_ignore_ascii_case(verb))
            })
            .map(str::to_string)
    }
}

#[test]
fn postfix_relays_fax_mail_to_the_gateway() {
    if !postfix::available(&Options::default()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).unwrap();
    let server = Server::start(
        &gw_dir,
        &config(
            "immediate",
            "",
            "[[line]]\nuri = \"sim:\"\nport = \"slot:1 port:1\"\n",
        ),
    );
    let recorder = Recorder::start(server.addr);
    let pf = start_postfix(
        &dir.path().join("postfix"),
        format!("[127.0.0.1]:{}", recorder.port),
    );
    let smtp_port = pf.port;
    let msg = fax_mail(
        "FAX=+1408555-7442@example.com",
        "Relayed by Postfix.",
        &chart_tiff(),
    );
    let path = dir.path().join("msg.eml");
    std::fs::write(&path, &msg).unwrap();
    let Some(o) = python(
        SEND,
        &[
            &smtp_port.to_string(),
            "FAX=+1408555-7442@example.com",
            path.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    assert!(
        o.status.success(),
        "submitting to Postfix: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Postfix queues it, then its `fax` transport delivers to the gateway.
    let sent = pf.wait_sent(
        "FAX=+1408555-7442@example.com",
        Duration::from_secs(90),
        || server.log(),
    );
    assert!(
        sent.contains("relay=127.0.0.1[127.0.0.1]")
            && sent.contains("250 2.5.0 Message delivered to remote fax machine"),
        "{sent}"
    );
    let records = server.accounting();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["status"], "ok");
    assert_eq!(records[0]["sender"], "sender@example.org");
    assert_eq!(records[0]["recipient"], "FAX=+1408555-7442@example.com");
    assert_eq!(records[0]["dial"], "5557442");
    // Postfix passed the DSN parameters on (the gateway offers DSN) and the gateway took
    // them (it delivered): RET and ENVID on MAIL, NOTIFY and the original recipient on RCPT.
    let mail = recorder.command("MAIL FROM:").expect("Postfix sent MAIL");
    assert!(
        mail.starts_with("MAIL FROM:<sender@example.org>")
            && mail.contains(" RET=HDRS")
            && mail.contains(" ENVID=fax-test-1"),
        "{mail}"
    );
    let rcpt = recorder.command("RCPT TO:").expect("Postfix sent RCPT");
    assert!(
        rcpt.starts_with("RCPT TO:<FAX=+1408555-7442@example.com>")
            && rcpt.contains(" NOTIFY=SUCCESS,FAILURE")
            && rcpt.contains(" ORCPT=rfc822;FAX+3D+2B1408555-7442@example.com"),
        "{rcpt}"
    );
    assert!(server.log().contains("dialling"), "{}", server.log());
}

/// Beyond one host (docs/operations.md): two gateways behind one Postfix, one transport with
/// both as next hops (`fax:[127.0.0.1]:A, [127.0.0.1]:B`). Postfix tries them in order and
/// moves to the next on a connection refused or a 4yz, so the MTA is the queue in front of
/// both. Gateway A's one line is on a call to the same number (immediate mode,
/// `line_wait_s = 1`): A answers the relayed message `450 4.3.2 Modem busy` and Postfix
/// delivers it through B. Then A is stopped: the next message goes straight to B.
#[test]
fn postfix_fails_over_between_two_gateways() {
    if !postfix::available(&Options::default()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("gw-a"), dir.path().join("gw-b"));
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    // A: its line's far end never answers and hangs up after 8 s, so a call holds it 8 s.
    let mut a = Server::start(
        &a_dir,
        &config(
            "immediate",
            "",
            "[[line]]\nuri = \"exec:sleep 8\"\nport = \"gw-a port 1\"\n\n[limits]\nline_wait_s = 1\n",
        ),
    );
    let b = Server::start(
        &b_dir,
        &config(
            "immediate",
            "",
            "[[line]]\nuri = \"sim:\"\nport = \"gw-b port 1\"\n",
        ),
    );
    // A client of A's own takes its line.
    let a_addr = a.addr;
    let holder = std::thread::spawn(move || {
        let mut c = Client::connect(a_addr);
        c.reply();
        c.cmd("EHLO holder.test");
        c.cmd("MAIL FROM:<holder@example.org>");
        c.cmd("RCPT TO:<FAX=+1408555-7442@example.com>");
        c.cmd("DATA");
        c.cmd("Subject: holds the line\r\n\r\nhello\r\n.")
    });
    let start = Instant::now();
    while !a.log().contains("dialling") {
        assert!(start.elapsed() < Duration::from_secs(30), "{}", a.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let pf = start_postfix(
        &dir.path().join("postfix"),
        format!(
            "[127.0.0.1]:{}, [127.0.0.1]:{}",
            a.addr.port(),
            b.addr.port()
        ),
    );
    let smtp_port = pf.port;
    let submit = |rcpt: &str, text: &str| {
        let path = dir.path().join("msg.eml");
        std::fs::write(&path, fax_mail(rcpt, text, &chart_tiff())).unwrap();
        let o = python(
            SEND,
            &[&smtp_port.to_string(), rcpt, path.to_str().unwrap()],
        )?;
        assert!(
            o.status.success(),
            "submitting to Postfix: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Some(())
    };
    if submit("FAX=+1408555-7442@example.com", "A is busy.").is_none() {
        return;
    }
    let sent = pf.wait_sent(
        "FAX=+1408555-7442@example.com",
        Duration::from_secs(90),
        || format!("A busy\n{}\n{}", a.log(), b.log()),
    );
    assert!(
        sent.contains(&format!("relay=127.0.0.1[127.0.0.1]:{}", b.addr.port()))
            && sent.contains("250 2.5.0 Message delivered to remote fax machine"),
        "{sent}"
    );
    // A refused it for want of a line, and Postfix took that as a reason to try B.
    let a_recs = a.accounting();
    assert!(
        a_recs.iter().any(|r| r["sender"] == "sender@example.org"
            && r["status"] == "no_line"
            && r["reply_code"] == 450
            && r["enhanced_code"] == "4.3.2"),
        "{a_recs:?}"
    );
    let log = pf.log();
    assert!(
        log.contains("450 4.3.2 Modem busy"),
        "Postfix saw A's reply:\n{log}"
    );
    let holder_reply = holder.join().unwrap();
    assert!(holder_reply.starts_with("450 4.4.1"), "{holder_reply}");

    // A down: connection refused, straight to B.
    a.kill9();
    if submit("FAX=+1408555-7443@example.com", "A is down.").is_none() {
        return;
    }
    let sent = pf.wait_sent(
        "FAX=+1408555-7443@example.com",
        Duration::from_secs(90),
        || format!("A down\n{}", b.log()),
    );
    assert!(
        sent.contains(&format!("relay=127.0.0.1[127.0.0.1]:{}", b.addr.port())),
        "{sent}"
    );
    let ok: Vec<String> = b
        .accounting()
        .iter()
        .filter(|r| r["status"] == "ok")
        .map(|r| r["recipient"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ok,
        [
            "FAX=+1408555-7442@example.com",
            "FAX=+1408555-7443@example.com"
        ],
        "B delivered both"
    );
}
