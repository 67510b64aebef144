//! Helpers for the gateway tests: start `softfax serve` on a free loopback port with a
//! configuration, talk raw SMTP to it, and read its accounting log. Include with
//! `#[path = "common/gateway.rs"] mod gateway;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// The one rule for a missing peer (skip, or fail under CI), shared by every test crate.
#[allow(unused_imports)]
pub use softfax_peers::{require_peer, unavailable, under_ci};

/// The standard test configuration; `{dir}` is replaced by the server's folder. `lines` is
/// the `[[line]]` part, `extra` goes at the top level (before any table).
pub fn config(delivery: &str, extra: &str, lines: &str) -> String {
    format!(
        r#"gateway_id = "gw.example.com"
listen = "127.0.0.1:0"
spool = "{{dir}}/spool"
delivery = "{delivery}"
domains = ["example.com"]
{extra}

{lines}

[[dialplan]]
match = "^\\+1408(555\\d{{4}})$"
dial = "$1"
cover_page = true

[[dialplan]]
match = "^\\+(\\d+)$"
dial = "011$1"

[policy]
deny = ["^\\+1900", "^\\+8[78]"]
"#
    )
}

/// A running `softfax serve`.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Write `config` (with `{dir}` replaced) to `dir/softfax.toml` and start the server.
    pub fn start(dir: &Path, config: &str) -> Server {
        let text = config.replace("{dir}", &dir.display().to_string());
        std::fs::write(dir.join("softfax.toml"), text).unwrap();
        Server::start_existing(dir)
    }

    /// Start on the configuration already in `dir/softfax.toml`.
    pub fn start_existing(dir: &Path) -> Server {
        Server::start_env(dir, &[])
    }

    /// Start on `dir/softfax.toml` with more environment variables.
    pub fn start_env(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_softfax"))
            .args(["-v", "serve", "--config"])
            .arg(dir.join("softfax.toml"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if let Some(a) = line.split("listening on ").nth(1)
                    && let Some(t) = tx.take()
                {
                    let addr = a.split_whitespace().next().unwrap().to_string();
                    let _ = t.send(addr);
                }
                let mut l = log2.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("softfax serve did not start: {}", log.lock().unwrap());
            }
        };
        Server {
            child,
            addr,
            dir: dir.to_path_buf(),
            stderr: log,
        }
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Where `/metrics` is served (`[metrics] listen`), from the server's start-up line.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        let log = self.log();
        let a = log.split("metrics on http://").nth(1)?;
        a.split('/').next()?.parse().ok()
    }

    /// The accounting records (JSON lines).
    pub fn accounting(&self) -> Vec<serde_json::Value> {
        accounting(&self.dir)
    }

    /// Send the server a signal: `"-HUP"` (reload), `"-TERM"` (drain) …
    pub fn signal(&self, sig: &str) {
        signal(self.child.id(), sig);
    }

    /// Wait (at most `limit`) until the server exits by itself (after a SIGTERM's drain);
    /// panics with its log otherwise.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                start.elapsed() < limit,
                "the server did not exit within {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

/// Send process `pid` a signal with kill(1) (`"-HUP"`, `"-TERM"` …).
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn accounting(dir: &Path) -> Vec<serde_json::Value> {
    let Ok(text) = std::fs::read_to_string(dir.join("spool/accounting.jsonl")) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A raw SMTP connection.
pub struct Client {
    pub r: BufReader<TcpStream>,
    pub w: TcpStream,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        Client {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    /// One whole reply (all its lines, CRLF kept).
    pub fn reply(&mut self) -> String {
        let mut out = String::new();
        loop {
            let mut l = Vec::new();
            let n = self.r.read_until(b'\n', &mut l).unwrap_or(0);
            if n == 0 {
                out.push_str("<closed>");
                return out;
            }
            let l = String::from_utf8_lossy(&l).to_string();
            out.push_str(&l);
            if l.as_bytes().get(3) != Some(&b'-') {
                return out;
            }
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).unwrap();
    }

    /// Send a command line, return its reply.
    pub fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Has the server closed the connection (within `wait`)? Data still arriving is read
    /// and dropped.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        self.w.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 256];
        loop {
            match self.r.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
    }
}

/// A fax-mail with a text part and the given TIFF attachment.
pub fn fax_mail(to: &str, text: &str, tiff: &[u8]) -> Vec<u8> {
    let b64 = base64_encode(tiff);
    let mut m = format!(
        "From: <sender@example.org>\r\nTo: <{to}>\r\nSubject: test fax\r\nMessage-ID: <{}@test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n--b1\r\nContent-Type: image/tiff; application=faxbw\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        std::process::id()
    );
    for c in b64.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(c).unwrap());
        m.push_str("\r\n");
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

/// A one-page TIFF (the ITU chart 1, MH, fine).
pub fn chart_tiff() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/ccitt-t24/pbm/itu1.pbm");
    let page = softfax::dsp::pbm::read_pbm(
        &std::fs::read(p).unwrap(),
        softfax::dsp::image::Resolution::FINE,
    )
    .unwrap()
    .remove(0);
    softfax::dsp::tiff::write_pages(
        &[page],
        softfax::dsp::tiff::WriteOptions {
            coding: Some(softfax::dsp::t4::Coding::Mh),
            align_eol: false,
        },
    )
    .unwrap()
}

fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len() * 4 / 3 + 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        o.push(T[(n >> 18) as usize & 63] as char);
        o.push(T[(n >> 12) as usize & 63] as char);
        o.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        o.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    o
}

/// Run a Python script with arguments; None (SKIP) when python3 is missing.
pub fn python(script: &str, args: &[&str]) -> Option<std::process::Output> {
    if !require_peer("python3", "python3") {
        return None;
    }
    Some(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .output()
            .unwrap(),
    )
}

/// An `exec:` far end that answers with call-progress tone: `freqs` (Hz), `on`/`off` ms,
/// forever (until softfax hangs up). Needs python3.
pub fn tone_far_end(dir: &Path, freqs: &[f64], on_ms: u32, off_ms: u32) -> String {
    let script = dir.join("tone_far_end.py");
    std::fs::write(
        &script,
        format!(
            r#"import sys, math, struct
freqs = {freqs:?}
on, off = {on_ms} * 8, {off_ms} * 8
n = 0
inp, out = sys.stdin.buffer, sys.stdout.buffer
amp = 3000.0
while True:
    b = inp.read(320)
    if len(b) < 320:
        break
    blk = []
    for i in range(160):
        t = n % (on + off)
        v = sum(math.sin(2 * math.pi * f * n / 8000.0) for f in freqs) * amp if t < on else 0.0
        blk.append(int(v))
        n += 1
    out.write(struct.pack('<160h', *blk))
    out.flush()
"#
        ),
    )
    .unwrap();
    format!("exec:python3 {}", script.display())
}
