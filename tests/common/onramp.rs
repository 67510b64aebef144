//! Helpers for the on-ramp's tests: a plain SMTP listener (tests/peers/smtp_sink.py), the
//! on-ramp's configuration, the fax-mail parsed by Python's `email` package
//! (tests/peers/faxmail.py) and its pages checked with libtiff and Ghostscript. Include with
//! `#[path = "common/onramp.rs"] mod onramp;` beside `mod common;` and `mod gateway;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_same_pels, libtiff_pages, pbm_file_pages};
use crate::gateway::{self, Server};

/// A running tests/peers/smtp_sink.py.
pub struct Sink {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Sink {
    pub fn start(dir: &Path, args: &[&str]) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/smtp_sink.py"
            ))
            .arg(dir)
            .args(args)
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

    /// The messages taken, in order.
    pub fn messages(&self) -> Vec<PathBuf> {
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

/// Python 3 and libtiff's decoder, or `None` (skip).
pub fn peers() -> Option<()> {
    (gateway::require_peer("python3", "python3") && gateway::require_peer("tifftopnm", "netpbm"))
        .then_some(())
}

/// The on-ramp configuration: `lines` and an `[onramp]` to `relay` attaching TIFF, PNG and
/// PDF, routed by port (`slot:1 port:N` to `fax-N@`, `slot:2` to `wrong@`), `fax@` else.
pub fn config(lines: &str, relay: u16) -> String {
    config_routed(
        lines,
        relay,
        r#"attach = ["tiff", "png", "pdf"]

[[route]]
match = "^slot:2 "
to = "wrong@example.com"

[[route]]
match = "^slot:1 port:(\\d+)$"
to = "fax-$1@example.com"
"#,
    )
}

/// The on-ramp configuration: `lines`, an `[onramp]` to `relay` from `fax@gw.example.com`
/// followed by `more` (its other keys, then `[[route]]`s), and `fax@` as the default mailbox.
pub fn config_routed(lines: &str, relay: u16, more: &str) -> String {
    format!(
        r#"gateway_id = "gw.example.com"
listen = "127.0.0.1:0"
spool = "{{dir}}/spool"
domains = ["example.com"]

{lines}

[onramp]
relay = "127.0.0.1:{relay}"
from = "fax@gw.example.com"
{more}
[onramp.default]
to = "fax@example.com"
"#
    )
}

pub fn wait_for(what: &str, server: &Server, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "{what} within {limit:?}; server log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Parse `eml` with Python's email package; the attachments go to `out`.
pub fn parse_mail(eml: &Path, out: &Path) -> serde_json::Value {
    std::fs::create_dir_all(out).unwrap();
    let o = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/faxmail.py"
        ))
        .arg(eml)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The fax-mail's TIFF (as libtiff decodes it) has exactly `want`'s pels.
pub fn assert_pages(mail: &serde_json::Value, out: &Path, want: &[softfax::dsp::image::Page]) {
    let parts = mail["parts"].as_array().unwrap();
    let tif = parts
        .iter()
        .find(|p| p["type"] == "image/tiff")
        .expect("an image/tiff part");
    assert_eq!(tif["application"], "faxbw", "{mail}");
    let got = libtiff_pages(&out.join(tif["filename"].as_str().unwrap()));
    assert_eq!(got.len(), want.len(), "pages");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_same_pels(&format!("page {}", i + 1), g, w);
    }
    let pngs = parts.iter().filter(|p| p["type"] == "image/png").count();
    assert_eq!(pngs, want.len(), "a PNG a page: {mail}");
    // The PDF, as Ghostscript renders it at the pages' own resolution.
    let pdf = parts
        .iter()
        .find(|p| p["type"] == "application/pdf")
        .expect("an application/pdf part");
    if !gateway::require_peer("gs", "ghostscript") {
        return;
    }
    let pdf = out.join(pdf["filename"].as_str().unwrap());
    let o = Command::new("gs")
        .args([
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=pbmraw",
            "-r204x196",
        ])
        .arg(format!(
            "-sOutputFile={}",
            out.join("gs-%03d.pbm").display()
        ))
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gs: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (i, w) in want.iter().enumerate() {
        let got = pbm_file_pages(&out.join(format!("gs-{:03}.pbm", i + 1)));
        assert_same_pels(&format!("PDF page {}", i + 1), &got[0], w);
    }
    assert!(!out.join(format!("gs-{:03}.pbm", want.len() + 1)).exists());
}
