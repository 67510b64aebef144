//! `softfax fax send --line dahdi:N --dial NUMBER` and `fax recv --line dahdi:N` as users run
//! them, against the FUSE fake `/dev/dahdi` (drivers/tests/fake_dahdi) mounted by this test
//! process: the result JSON with its Q.850 cause, the exit status, and the pages: what the
//! far terminal received against the sent TIFF, and the received TIFF against the page the
//! far terminal sent, both TIFFs decoded by libtiff (`tifftopnm`).

mod common;
#[path = "../drivers/tests/fake_dahdi/mod.rs"]
mod fake_dahdi;

use softfax::dsp::image::Page;

use common::*;
use fake_dahdi::far::{Callee, Caller, Pstn};
use fake_dahdi::{ALARM_RED, FakeChannel, FakeDahdi, SIG_FXSKS, mount_or_skip};
use softfax::dsp::g711::Law;
use softfax::dsp::tones::progress::NORTH_AMERICA;

fn document(dir: &std::path::Path) -> String {
    let tif = dir.join("doc.tif").to_str().unwrap().to_string();
    let pbm = vectors().join("ccitt-t24/pbm/itu1.pbm");
    let o = softfax(&[
        "t4",
        "encode",
        "--compression",
        "mr",
        pbm.to_str().unwrap(),
        &tif,
    ]);
    assert!(o.status.success());
    tif
}

/// What `fax send` did: its output, the digits the far end heard, the protocol trace, the
/// pages the far terminal received and the sent TIFF's path (in `_dir`).
struct Sent {
    o: std::process::Output,
    digits: String,
    trace: String,
    received: Vec<Page>,
    doc: String,
    _dir: tempfile::TempDir,
}

fn send(callee: Callee, alarms: i32) -> Option<Sent> {
    let far = Pstn::new(NORTH_AMERICA, "5551234", callee);
    let digits = far.digits.clone();
    let terminal = far.terminal.clone();
    let mut ch = FakeChannel::new(4, SIG_FXSKS, Law::Ulaw, Box::new(far));
    ch.span_alarms = alarms;
    let m = mount_or_skip(FakeDahdi::new(vec![ch]))?;
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path());
    let line = format!("dahdi:4?root={}&zone=us", m.root.display());
    let log = dir.path().join("trace.txt");
    let o = softfax(&[
        "fax",
        "send",
        "--line",
        &line,
        "--dial",
        "555-1234",
        "--log",
        log.to_str().unwrap(),
        &doc,
    ]);
    let digits = digits.lock().unwrap().clone();
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    let received = terminal
        .lock()
        .unwrap()
        .as_ref()
        .map(|f| f.0.received_pages().to_vec())
        .unwrap_or_default();
    Some(Sent {
        o,
        digits,
        trace,
        received,
        doc,
        _dir: dir,
    })
}

#[test]
fn fax_send_dials_and_delivers() {
    if !require_peer("tifftopnm", "netpbm") {
        return;
    }
    let Some(Sent {
        o,
        digits,
        trace,
        received,
        doc,
        _dir,
    }) = send(Callee::Fax { rings: 1 }, 0)
    else {
        return;
    };
    assert!(
        trace.contains("span: span 1"),
        "span health in the trace: {trace}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(digits, "5551234");
    assert_eq!(field(&out, "status"), "ok");
    assert_eq!(field(&out, "pages"), "1");
    assert_eq!(field(&out, "q850_cause"), "16");
    let sent = libtiff_pages(std::path::Path::new(&doc));
    assert_eq!((received.len(), sent.len()), (1, 1));
    assert_same_pels("received by the far terminal", &received[0], &sent[0]);
}

#[test]
fn fax_send_to_a_busy_line_reports_17() {
    let Some(Sent { o, .. }) = send(Callee::Busy, 0) else {
        return;
    };
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(field(&out, "status"), "failed");
    assert_eq!(field(&out, "q850_cause"), "17");
    assert!(String::from_utf8_lossy(&o.stderr).contains("busy"));
}

#[test]
fn fax_send_on_a_span_in_alarm_is_line_down_38() {
    let Some(Sent { o, digits, .. }) = send(Callee::Fax { rings: 1 }, ALARM_RED) else {
        return;
    };
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(field(&out, "q850_cause"), "38");
    assert!(String::from_utf8_lossy(&o.stderr).contains("line down"));
    assert!(digits.is_empty());
}

#[test]
fn fax_recv_answers_and_writes_the_tiff() {
    if !require_peer("tifftopnm", "netpbm") {
        return;
    }
    let far = Caller::new(vec![softfax::drivers::sim::test_page()]);
    let ch = FakeChannel::new(2, SIG_FXSKS, Law::Alaw, Box::new(far));
    let Some(m) = mount_or_skip(FakeDahdi::new(vec![ch])) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out_tif = dir.path().join("in.tif");
    let line = format!("dahdi:2?root={}&rings=2", m.root.display());
    let o = softfax(&["fax", "recv", "--line", &line, out_tif.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(field(&out, "pages"), "1");
    let got = libtiff_pages(&out_tif);
    assert_eq!(got.len(), 1);
    assert_same_pels(
        "the received TIFF",
        &got[0],
        &softfax::drivers::sim::test_page(),
    );
    assert_eq!(m.fs.record().hooks, vec![1, 0]);
}
