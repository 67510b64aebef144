//! `--impair SPEC` (docs/contracts/lines.md, "Impairments"): the line simulator in front of
//! any line, both directions. Whole calls with spandsp's fax terminal (tests/peers/
//! spandsp_fax.c on an `exec:` line) through a moderate impairment, both directions, judged by
//! both sides' accounts and libtiff's decode of the received pages; the same seed gives the
//! same call, sample for sample; bad SPECs are refused naming the item. Skips with a printed
//! reason without cc, libspandsp-dev or netpbm; fails under CI.

mod common;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::path::{Path, PathBuf};

use common::*;
use spandsp::FaxReport;

/// G.711 A-law, the 300–3400 Hz band, noise at −56 dBm0, 6 dB of loss and a weak talker
/// echo: an ordinary digital-exchange line.
const MODERATE: &str = "noise=-56,bandpass,law=alaw,gain=-6,echo=-40@20ms,seed=3";

fn peers() -> Option<PathBuf> {
    let peer = spandsp::build_spandsp_fax()?;
    require_peer("tifftopnm", "netpbm").then_some(peer)
}

/// ITU chart 1 as the TIFF softfax encodes (`dir/doc.tif`), and its PBM.
fn document(dir: &Path) -> (PathBuf, PathBuf) {
    let pbm = vectors().join("ccitt-t24/pbm/itu1.pbm");
    let tif = dir.join("doc.tif");
    let o = softfax(&["t4", "encode", pbm.to_str().unwrap(), tif.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (tif, pbm)
}

/// One call through MODERATE, softfax `sending` or receiving, `ecm` offered by spandsp.
fn call(sending: bool, ecm: bool) {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, pbm) = document(dir.path());
    let out = dir.path().join("out.tif");
    let (ours, theirs, verb, peer_verb) = if sending {
        (&tif, &out, "send", "recv")
    } else {
        (&out, &tif, "recv", "send")
    };
    let ecm_arg = if ecm { " --ecm" } else { "" };
    let line = format!(
        "exec:{} {peer_verb} {}{ecm_arg}",
        peer.display(),
        theirs.display()
    );
    let o = softfax(&[
        "fax",
        verb,
        "--impair",
        MODERATE,
        "--line",
        &line,
        ours.to_str().unwrap(),
    ]);
    let json = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let report = FaxReport::parse(&err).unwrap_or_else(|| panic!("no spandsp report: {err}"));
    let what = format!("{verb} ecm={ecm}: {json} {report:?}");
    assert_eq!(o.status.code(), Some(0), "{what}");
    assert!(json.contains("\"status\":\"ok\""), "{what}");
    assert!(json.contains("\"pages\":1,"), "{what}");
    assert!(json.contains(&format!("\"ecm\":{ecm}")), "{what}");
    assert_eq!(report.result, 0, "{what}");
    assert_eq!(report.pages, 1, "{what}");
    assert_eq!(report.bad_rows, 0, "{what}");
    let got = libtiff_pages(&out);
    let want = pbm_file_pages(&pbm);
    assert_eq!(got.len(), 1, "{what}");
    assert_same_pels(&what, &got[0], &want[0]);
}

#[test]
fn softfax_sends_to_spandsp_through_a_moderate_line() {
    call(true, false);
}

#[test]
fn spandsp_sends_to_softfax_through_a_moderate_line_with_ecm() {
    call(false, true);
}

/// The same SPEC and seed: the same call, sample for sample (the recording); another seed
/// gives other noise.
#[test]
fn the_same_seed_records_the_same_call() {
    let dir = tempfile::tempdir().unwrap();
    let (tif, _) = document(dir.path());
    let record = |name: &str, seed: u32| {
        let wav = dir.path().join(name);
        let spec = format!("noise=-50,drift_ppm=30,offset_hz=2,echo=-30@30ms,seed={seed}");
        let o = softfax(&[
            "fax",
            "send",
            "--impair",
            &spec,
            "--record",
            wav.to_str().unwrap(),
            "--line",
            "sim:",
            tif.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read(wav).unwrap()
    };
    let a = record("a.wav", 7);
    assert_eq!(a, record("b.wav", 7));
    assert_ne!(a, record("c.wav", 8));
}

#[test]
fn bad_specs_are_refused_naming_the_item() {
    for (spec, named) in [
        ("noise=-46,wobble=3", "wobble=3"),
        ("echo=-20", "echo=-20"),
        ("law=pcm", "law=pcm"),
    ] {
        for cmd in [
            &["fax", "send", "--line", "sim:", "--impair", spec, "x.tif"][..],
            &["loopback", "--impair", spec],
        ] {
            let o = softfax(cmd);
            assert_eq!(o.status.code(), Some(2), "{cmd:?}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(named), "{cmd:?}: {err}");
        }
    }
}

#[test]
fn loopback_through_impairments() {
    let o = softfax(&["loopback", "--impair", "noise=-60,law=ulaw,gain=-10,seed=1"]);
    let json = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{json}");
    assert!(json.contains("\"status\":\"ok\""), "{json}");
}

/// `impair = "SPEC"` on a `[[line]]`: parsed with the line, a bad one refused with its key.
#[test]
fn a_config_line_takes_an_impairment() {
    let text = |spec: &str| {
        format!(
            "gateway_id = \"gw.example.com\"\nlisten = \"127.0.0.1:2525\"\nspool = \"/tmp/sfx\"\n\
             domains = [\"example.com\"]\n\n[[line]]\nuri = \"sim:\"\nimpair = \"{spec}\"\n"
        )
    };
    let parse = |t: &str| softfax::config::Config::parse(t, "softfax.toml", Path::new("/"));
    let c = parse(&text("noise=-50,law=alaw,seed=4")).unwrap();
    let spec = c.lines[0].impair.expect("the impairment");
    assert_eq!(spec.to_string(), "noise=-50,law=alaw,seed=4");
    let e = parse(&text("noise=-50,hum=60")).unwrap_err().to_string();
    assert!(e.contains("line[1].impair") && e.contains("hum=60"), "{e}");
}

/// `stdio:`: softfax faces itself — `fax send` runs `fax recv --line stdio:` as the far end
/// of its `exec:` line, through an impairment — and the pages arrive identical. The child's
/// result object is the last line of its stderr (its stdout carried the audio).
#[test]
fn softfax_faces_itself_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let (tif, pbm) = document(dir.path());
    let out = dir.path().join("out.tif");
    let child_err = dir.path().join("child.err");
    let line = format!(
        "exec:{} fax recv --line stdio: {} 2>{}",
        env!("CARGO_BIN_EXE_softfax"),
        out.display(),
        child_err.display()
    );
    let o = softfax(&[
        "fax",
        "send",
        "--impair",
        "noise=-56,law=ulaw,seed=2",
        "--line",
        &line,
        tif.to_str().unwrap(),
    ]);
    let json = String::from_utf8_lossy(&o.stdout);
    let err = std::fs::read_to_string(&child_err).unwrap();
    let child = err.lines().last().unwrap_or("");
    assert!(o.status.success(), "{json} / {err}");
    assert!(json.contains("\"status\":\"ok\""), "{json}");
    assert!(json.contains("\"pages\":1,"), "{json}");
    assert!(
        child.starts_with('{') && child.contains("\"status\":\"ok\""),
        "{err}"
    );
    assert!(child.contains("\"pages\":1,"), "{err}");
    let got = softfax::dsp::tiff::read_pages(&std::fs::read(&out).unwrap()).unwrap();
    let want = pbm_file_pages(&pbm);
    assert_eq!(got.len(), 1);
    assert_same_pels("stdio", &got[0].page, &want[0]);
}

#[test]
fn stdio_takes_no_argument() {
    let o = softfax(&["fax", "recv", "--line", "stdio:x", "out.tif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stdio:"));
}
