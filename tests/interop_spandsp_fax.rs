//! Whole fax calls between softfax and spandsp's own fax terminal (tests/peers/spandsp_fax.c,
//! on an `exec:` line): both sides report success and the page arrives pel for pel. Skips
//! with a printed reason without cc or libspandsp-dev; fails under CI=true.

mod common;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::process::Command;

use common::*;

fn softfax(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(args)
        .output()
        .unwrap()
}

fn pages(path: &std::path::Path) -> Vec<softfax::dsp::image::Page> {
    softfax::dsp::tiff::read_pages(&std::fs::read(path).unwrap())
        .unwrap()
        .into_iter()
        .map(|d| d.page)
        .collect()
}

fn chart_tiff(dir: &std::path::Path) -> std::path::PathBuf {
    let tif = dir.join("chart.tif");
    let o = softfax(&[
        "t4",
        "encode",
        vectors().join("ccitt-t24/pbm/itu1.pbm").to_str().unwrap(),
        tif.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    tif
}

#[test]
fn spandsp_sends_softfax_receives() {
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tif = chart_tiff(dir.path());
    let out = dir.path().join("received.tif");
    let line = format!("exec:{} send {}", peer.display(), tif.display());
    let o = softfax(&["fax", "recv", "--line", &line, out.to_str().unwrap()]);
    let json = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{json} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        json.contains("\"pages\":1") && json.contains("\"remote_ident\":\"spandsp sender\""),
        "{json}"
    );
    assert!(json.contains("\"bit_rate\":14400"), "{json}");
    let got = pages(&out);
    let want = pages(&tif);
    assert_eq!(got.len(), 1);
    assert_same_pels("spandsp -> softfax", &got[0], &want[0]);
}

/// softfax sends the chart to spandsp's receiving terminal with `extra` options; returns
/// softfax's output, the chart and what spandsp wrote (in `dir`).
fn send_to_spandsp(
    peer: &std::path::Path,
    dir: &std::path::Path,
    extra: &[&str],
) -> (std::process::Output, std::path::PathBuf, std::path::PathBuf) {
    let tif = chart_tiff(dir);
    let out = dir.join("spandsp.tif");
    let line = format!("exec:{} recv {}", peer.display(), out.display());
    let mut args = vec!["fax", "send"];
    args.extend_from_slice(extra);
    args.extend(["--line", &line, tif.to_str().unwrap()]);
    (softfax(&args), tif, out)
}

#[test]
fn softfax_sends_spandsp_receives_at_4800() {
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (o, tif, out) = send_to_spandsp(&peer, dir.path(), &["--max-rate", "4800"]);
    let json = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{json} {err}");
    assert!(err.contains("spandsp-fax: result=0"), "{err}");
    assert!(
        json.contains("\"pages\":1") && json.contains("\"bit_rate\":4800"),
        "{json}"
    );
    let got = pages(&out);
    assert_eq!(got.len(), 1);
    assert_same_pels("softfax -> spandsp", &got[0], &pages(&tif)[0]);
}

/// V.17 pages go with the short retrain after TCF, as spandsp's receiver expects.
#[test]
fn softfax_sends_spandsp_receives_at_14400() {
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (o, tif, out) = send_to_spandsp(&peer, dir.path(), &[]);
    let json = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{json} {err}");
    assert!(err.contains("spandsp-fax: result=0"), "{err}");
    assert!(
        json.contains("\"pages\":1") && json.contains("\"bit_rate\":14400"),
        "{json}"
    );
    let got = pages(&out);
    assert_eq!(got.len(), 1);
    assert_same_pels("softfax -> spandsp", &got[0], &pages(&tif)[0]);
}
