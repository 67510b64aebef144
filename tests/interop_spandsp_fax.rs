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

/// A two-page document (ITU charts 1 and 4) as TIFF.
fn two_page_tiff(dir: &std::path::Path) -> std::path::PathBuf {
    let pbm = dir.join("two.pbm");
    let mut two = std::fs::read(vectors().join("ccitt-t24/pbm/itu1.pbm")).unwrap();
    two.extend(std::fs::read(vectors().join("ccitt-t24/pbm/itu4.pbm")).unwrap());
    std::fs::write(&pbm, two).unwrap();
    let tif = dir.join("two.tif");
    let o = softfax(&["t4", "encode", pbm.to_str().unwrap(), tif.to_str().unwrap()]);
    assert!(o.status.success());
    tif
}

fn json_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("\"{key}\":");
    let rest = &json[json.find(&k)? + k.len()..];
    Some(match rest.strip_prefix('"') {
        Some(s) => &s[..s.find('"')?],
        None => &rest[..rest.find([',', '}'])?],
    })
}

/// One call in every mode: (softfax sends?, ECM, rate, compression). Returns a failure text.
fn one_mode(
    peer: &std::path::Path,
    tif: &std::path::Path,
    sending: bool,
    ecm: bool,
    rate: u32,
    compression: &str,
) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tif");
    let mut peer_args = format!("--rate {rate} --compression {compression}");
    if ecm {
        peer_args.push_str(" --ecm");
    }
    let o = if sending {
        let line = format!("exec:{} recv {} {peer_args}", peer.display(), out.display());
        softfax(&["fax", "send", "--line", &line, tif.to_str().unwrap()])
    } else {
        let line = format!("exec:{} send {} {peer_args}", peer.display(), tif.display());
        softfax(&["fax", "recv", "--line", &line, out.to_str().unwrap()])
    };
    let json = String::from_utf8_lossy(&o.stdout).to_string();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let mode = format!(
        "{} ecm={ecm} {rate} {compression}",
        if sending {
            "softfax->spandsp"
        } else {
            "spandsp->softfax"
        }
    );
    let want_comp = if compression == "mmr" && !ecm {
        "mr"
    } else {
        compression
    };
    let checks = [
        (o.status.code() == Some(0), "exit 0"),
        (err.contains("spandsp-fax: result=0"), "spandsp result 0"),
        (json_field(&json, "pages") == Some("2"), "2 pages"),
        (
            json_field(&json, "bit_rate") == Some(&rate.to_string()),
            "bit rate",
        ),
        (
            json_field(&json, "ecm") == Some(if ecm { "true" } else { "false" }),
            "ecm",
        ),
        (
            json_field(&json, "compression") == Some(want_comp),
            "compression",
        ),
    ];
    for (ok, what) in checks {
        if !ok {
            let tail: String = err.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
            return Some(format!("{mode}: {what}: {json} {tail}"));
        }
    }
    let got = pages(&out);
    let want = pages(tif);
    if got.len() != want.len() {
        return Some(format!("{mode}: {} pages written", got.len()));
    }
    for (g, w) in got.iter().zip(&want) {
        if (g.width, g.height) != (w.width, w.height) || g.data != w.data {
            return Some(format!("{mode}: pels differ"));
        }
    }
    None
}

/// Every mode both ways, with and without ECM: V.17 14400, V.29 9600, V.27ter 4800 × MH, MR
/// (and MMR with ECM); two pages each, pel-identical, both sides report success with the
/// right rate, ECM and coding.
fn every_mode(sending: bool) {
    let Some(peer) = spandsp::build_spandsp_fax() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tif = two_page_tiff(dir.path());
    let mut modes = Vec::new();
    for ecm in [true, false] {
        for rate in [14400, 9600, 4800] {
            for comp in ["mh", "mr", "mmr"] {
                if comp == "mmr" && !ecm {
                    continue;
                }
                modes.push((ecm, rate, comp));
            }
        }
    }
    // Two at a time (the calls run in simulated time, bounded by CPU).
    let failures: Vec<String> = modes
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|s| {
                let hs: Vec<_> = pair
                    .iter()
                    .map(|&(ecm, rate, comp)| {
                        let (peer, tif) = (&peer, &tif);
                        s.spawn(move || one_mode(peer, tif, sending, ecm, rate, comp))
                    })
                    .collect();
                hs.into_iter()
                    .filter_map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} modes failed:\n{}",
        failures.len(),
        modes.len(),
        failures.join("\n")
    );
}

#[test]
fn softfax_sends_to_spandsp_in_every_mode() {
    every_mode(true);
}

#[test]
fn spandsp_sends_to_softfax_in_every_mode() {
    every_mode(false);
}
