//! DID routing on a PRI: `softfax serve` answers two `dahdi:` B-channel lines of one E1 span
//! on the FUSE fake `/dev/dahdi` (drivers/tests/fake_dahdi), whose D-channel (timeslot 16)
//! is carried to **libpri** as the network side (tests/peers/libpri_span.c). libpri sends
//! two SETUPs at once with different called party numbers; each call's far end is a fax
//! machine sending a page. The on-ramp routes each fax-mail by its Q.931 called number
//! (`[[route]]`, first match, `$1` capture): the mail reaches a plain SMTP listener
//! (tests/peers/smtp_sink.py) addressed to the routed mailbox, Python's `email` package
//! reads it and libtiff decodes its TIFF to the pels the caller sent.

mod common;
#[path = "../drivers/tests/fake_dahdi/mod.rs"]
mod fake_dahdi;
#[path = "common/gateway.rs"]
mod gateway;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{assert_same_pels, libtiff_pages};
use fake_dahdi::far::FaxPeer;
use fake_dahdi::{FakeChannel, FakeDahdi, SIG_CLEAR, SIG_HDLCFCS, mount_or_skip};
use gateway::Server;
use softfax::dsp::g711::Law;
use softfax::dsp::image::{Page, Resolution};

/// A running tests/peers/smtp_sink.py.
struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    fn start(dir: &Path) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/smtp_sink.py"
            ))
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("smtp_sink: {line:?}"));
        Sink {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn messages(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// libpri_span built with `cc -lpri`, or `None` (reported as unavailable).
fn libpri_span() -> Option<PathBuf> {
    if !Path::new("/usr/include/libpri.h").exists() {
        gateway::unavailable("libpri", "libpri.h not found (apt-get install libpri-dev)");
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/libpri_span.c");
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("onramp_libpri_span");
    let o = Command::new("cc")
        .args(["-O2", "-Wall", "-o"])
        .arg(&bin)
        .arg(&src)
        .arg("-lpri")
        .output();
    match o {
        Ok(o) if o.status.success() => Some(bin),
        Ok(o) => {
            gateway::unavailable("libpri", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            gateway::unavailable("cc", e.to_string());
            None
        }
    }
}

/// The network side, scripted on stdin, its event lines gathered.
struct Network {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Network {
    fn start(bin: &Path) -> (Network, UnixDatagram) {
        let (ours, theirs) = UnixDatagram::pair().unwrap();
        nix::fcntl::fcntl(
            &theirs,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        )
        .unwrap();
        let mut child = Command::new(bin)
            .arg(theirs.as_raw_fd().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        drop(theirs);
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let o = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                o.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        (Network { child, out }, ours)
    }

    fn cmd(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Offer a call on `ch` until a line of the server answers it (a SETUP that comes while
    /// no line is waiting yet is refused, and offered again).
    fn offer(&mut self, ch: u8, called: &str, server: &Server) {
        let start = Instant::now();
        loop {
            let refused = self
                .output()
                .matches(&format!("HANGUP channel={ch} "))
                .count();
            self.cmd(&format!("call {ch} {called} 2125550000"));
            loop {
                let out = self.output();
                if out.contains(&format!("ANSWER channel={ch}\n")) {
                    return;
                }
                if out.matches(&format!("HANGUP channel={ch} ")).count() > refused {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "no line answered on channel {ch}:\n{out}\nserver log:\n{}",
                    server.log()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A short fine page the calling fax machines send.
fn page(seed: u32) -> Page {
    let (w, h) = (1728u32, 120u32);
    let mut p = Page::new(w, h, Resolution::FINE);
    for y in 0..h {
        for x in 0..w {
            let frame = !(32..w - 32).contains(&x) || !(8..h - 8).contains(&y);
            let bars = (30..60).contains(&y) && ((x + 40 * seed) / 64).is_multiple_of(2);
            if frame || bars {
                p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    p
}

#[test]
fn pri_calls_are_routed_by_their_called_number() {
    if !(gateway::require_peer("python3", "python3")
        && gateway::require_peer("tifftopnm", "netpbm"))
    {
        return;
    }
    let Some(bin) = libpri_span() else {
        return;
    };
    let (mut net, sock) = Network::start(&bin);
    let pages = [page(1), page(2)];
    let mut chans = Vec::new();
    for (ch, p) in [(1, &pages[0]), (2, &pages[1])] {
        let mut b = FakeChannel::new(
            ch,
            SIG_CLEAR,
            Law::Alaw,
            Box::new(FaxPeer::caller(vec![p.clone()])),
        );
        b.totalchans = 31;
        chans.push(b);
    }
    let mut d = FakeChannel::new(16, SIG_HDLCFCS, Law::Alaw, Box::new(FaxPeer::answerer()));
    d.totalchans = 31;
    sock.set_nonblocking(true).unwrap();
    d.hdlc = Some(sock);
    chans.push(d);
    let Some(m) = mount_or_skip(FakeDahdi::new(chans)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"));
    let lines: String = (1..=2)
        .map(|ch| {
            format!(
                "[[line]]\nuri = \"dahdi:{ch}?root={}\"\nport = \"span:1 b:{ch}\"\nanswer = true\ndial = false\n\n",
                m.root.display()
            )
        })
        .collect();
    let config = format!(
        r#"gateway_id = "gw.example.com"
listen = "127.0.0.1:0"
spool = "{{dir}}/spool"
domains = ["example.com"]

{lines}
[onramp]
relay = "127.0.0.1:{relay}"
from = "fax@gw.example.com"

[[route]]
match = "^5550001$"
to = "alice@example.com"

[[route]]
match = "^555(\\d+)$"
to = "did-$1@example.com"

[onramp.default]
to = "fax@example.com"
"#,
        relay = sink.port
    );
    let server = Server::start(dir.path(), &config);
    // Both calls at once.
    net.offer(1, "5550001", &server);
    net.offer(2, "5550002", &server);
    let start = Instant::now();
    while server.accounting().len() < 2 || sink.messages().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "two fax-mails; network:\n{}\nserver log:\n{}",
            net.output(),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut got = Vec::new();
    for eml in sink.messages() {
        let env: serde_json::Value =
            serde_json::from_slice(&std::fs::read(eml.with_extension("env")).unwrap()).unwrap();
        let to = env["to"][0].as_str().unwrap().to_string();
        let out = dir.path().join(format!("parts-{to}"));
        std::fs::create_dir_all(&out).unwrap();
        let o = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/faxmail.py"
            ))
            .arg(&eml)
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mail: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(mail["defects"], 0);
        assert_eq!(mail["to"], to);
        let summary = mail["summary"].as_str().unwrap().to_string();
        let tif = mail["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "image/tiff")
            .expect("an image/tiff part")["filename"]
            .as_str()
            .unwrap()
            .to_string();
        let decoded = libtiff_pages(&out.join(tif));
        got.push((to, summary, decoded));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want = [
        ("alice@example.com", "5550001", &pages[0]),
        ("did-0002@example.com", "5550002", &pages[1]),
    ];
    for ((to, summary, decoded), (want_to, called, want_page)) in got.iter().zip(want) {
        assert_eq!(to, want_to, "routed by the called number");
        assert!(
            summary.contains("Called:") && summary.contains(called),
            "the called number in the summary:\n{summary}"
        );
        assert_eq!(decoded.len(), 1, "{to}");
        assert_same_pels(to, &decoded[0], want_page);
    }
    let records = server.accounting();
    let mut recipients: Vec<&str> = records
        .iter()
        .map(|r| r["recipient"].as_str().unwrap())
        .collect();
    recipients.sort();
    assert_eq!(recipients, ["alice@example.com", "did-0002@example.com"]);
    assert!(records.iter().all(|r| r["call_type"] == "Fax Receive"));
    let out = net.output();
    assert_eq!(out.matches("ANSWER channel=").count(), 2, "{out}");
    for ch in 1..=2 {
        assert!(
            out.contains(&format!("HANGUP_REQ channel={ch} cause=16")),
            "the server cleared the call on {ch} with 16:
{out}"
        );
    }
    drop(server);
    drop(m);
}
