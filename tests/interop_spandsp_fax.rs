//! Whole fax calls between softfax and spandsp's own fax terminal (tests/peers/spandsp_fax.c,
//! on an `exec:` line). Each call is judged by both sides' own accounts — softfax's result
//! JSON and spandsp's report line (pages, bit rate, ECM, coding, bad rows), which must agree
//! with each other and with what the call asked for — and by the pages: whichever side
//! received writes a TIFF, libtiff decodes it (`tifftopnm`), and it must equal the source
//! PBM pel for pel. Skips with a printed reason without cc, libspandsp-dev or netpbm; fails
//! under CI.

mod common;
#[path = "common/spandsp.rs"]
mod spandsp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use softfax::dsp::image::Page;
use spandsp::FaxReport;

fn softfax(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(args)
        .output()
        .unwrap()
}

/// The spandsp fax peer and libtiff's decoder, or `None` (skip) without them.
fn peers() -> Option<PathBuf> {
    let peer = spandsp::build_spandsp_fax()?;
    require_peer("tifftopnm", "netpbm").then_some(peer)
}

/// The source document: the ITU charts `charts` as one PBM file, encoded by softfax as the
/// TIFF the sender sends (`dir/doc.tif`). Returns the TIFF and the source pages.
fn document(dir: &Path, charts: &[u32]) -> (PathBuf, Vec<Page>) {
    let pbm = dir.join("doc.pbm");
    let mut data = Vec::new();
    for n in charts {
        data.extend(std::fs::read(vectors().join(format!("ccitt-t24/pbm/itu{n}.pbm"))).unwrap());
    }
    std::fs::write(&pbm, data).unwrap();
    let tif = dir.join("doc.tif");
    let o = softfax(&["t4", "encode", pbm.to_str().unwrap(), tif.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (tif, pbm_file_pages(&pbm))
}

fn json_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("\"{key}\":");
    let rest = &json[json.find(&k)? + k.len()..];
    Some(match rest.strip_prefix('"') {
        Some(s) => &s[..s.find('"')?],
        None => &rest[..rest.find([',', '}'])?],
    })
}

/// What a call must have done.
struct Want<'a> {
    rate: u32,
    ecm: bool,
    compression: &'a str,
}

/// Judge one call: softfax's exit status and JSON, spandsp's report, and the received TIFF
/// `out` (decoded by libtiff) against the `source` pages. `Err` says what is wrong.
fn judge(o: &Output, want: &Want, out: &Path, source: &[Page]) -> Result<(), String> {
    let json = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let tail = || err.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
    let report = FaxReport::parse(&err).ok_or_else(|| format!("no spandsp report: {}", tail()))?;
    let pages = source.len().to_string();
    let (rate, ecm) = (want.rate.to_string(), want.ecm.to_string());
    let checks = [
        (o.status.code() == Some(0), "softfax exit 0"),
        (
            json_field(&json, "status") == Some("ok"),
            "softfax status ok",
        ),
        (json_field(&json, "pages") == Some(&pages), "softfax pages"),
        (
            json_field(&json, "bit_rate") == Some(&rate),
            "softfax bit rate",
        ),
        (json_field(&json, "ecm") == Some(&ecm), "softfax ECM"),
        (
            json_field(&json, "compression") == Some(want.compression),
            "softfax coding",
        ),
        (report.result == 0, "spandsp result 0"),
        (report.pages as usize == source.len(), "spandsp pages"),
        (report.bit_rate == want.rate, "spandsp bit rate"),
        (report.ecm == want.ecm, "spandsp ECM"),
        (report.compression == want.compression, "spandsp coding"),
        (report.bad_rows == 0, "spandsp bad rows"),
    ];
    if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
        return Err(format!("{what}: {json} {report:?} {}", tail()));
    }
    let got = libtiff_pages(out);
    if got.len() != source.len() {
        return Err(format!("libtiff decodes {} pages", got.len()));
    }
    for (i, (g, w)) in got.iter().zip(source).enumerate() {
        if (g.width, g.height) != (w.width, w.height) {
            return Err(format!(
                "page {}: {}×{}, sent {}×{}",
                i + 1,
                g.width,
                g.height,
                w.width,
                w.height
            ));
        }
        if g.data != w.data {
            return Err(format!("page {}: pels differ from the source", i + 1));
        }
    }
    Ok(())
}

/// One call: softfax sends `tif` to spandsp (`sending`) or receives it from spandsp, with
/// the peer's options `peer_args` and softfax's `extra` arguments; the receiver writes
/// `dir/out.tif`. Returns softfax's output and the received TIFF's path.
fn call(
    peer: &Path,
    dir: &Path,
    tif: &Path,
    sending: bool,
    peer_args: &str,
    extra: &[&str],
) -> (Output, PathBuf) {
    let out = dir.join("out.tif");
    // spandsp's file is the one it sends or writes; softfax's the other.
    let (ours, theirs, verb, peer_verb) = if sending {
        (tif, out.as_path(), "send", "recv")
    } else {
        (out.as_path(), tif, "recv", "send")
    };
    let line = format!(
        "exec:{} {peer_verb} {} {peer_args}",
        peer.display(),
        theirs.display()
    );
    let mut args = vec!["fax", verb];
    args.extend_from_slice(extra);
    args.extend(["--line", &line, ours.to_str().unwrap()]);
    (softfax(&args), out)
}

#[test]
fn spandsp_sends_softfax_receives() {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1]);
    let (o, out) = call(&peer, dir.path(), &tif, false, "", &[]);
    let json = String::from_utf8_lossy(&o.stdout);
    assert!(
        json.contains("\"remote_ident\":\"spandsp sender\""),
        "{json}"
    );
    let want = Want {
        rate: 14400,
        ecm: false,
        compression: "mr",
    };
    if let Err(e) = judge(&o, &want, &out, &source) {
        panic!("spandsp -> softfax: {e}");
    }
}

#[test]
fn softfax_sends_spandsp_receives_at_4800() {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1]);
    let (o, out) = call(&peer, dir.path(), &tif, true, "", &["--max-rate", "4800"]);
    let want = Want {
        rate: 4800,
        ecm: false,
        compression: "mr",
    };
    if let Err(e) = judge(&o, &want, &out, &source) {
        panic!("softfax -> spandsp at 4800: {e}");
    }
}

/// V.17 pages go with the short retrain after TCF, as spandsp's receiver expects.
#[test]
fn softfax_sends_spandsp_receives_at_14400() {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1]);
    let (o, out) = call(&peer, dir.path(), &tif, true, "", &[]);
    let want = Want {
        rate: 14400,
        ecm: false,
        compression: "mr",
    };
    if let Err(e) = judge(&o, &want, &out, &source) {
        panic!("softfax -> spandsp at 14400: {e}");
    }
}

/// One call in one mode, judged; `Some(failure)` when it fails.
fn one_mode(
    peer: &Path,
    tif: &Path,
    source: &[Page],
    sending: bool,
    ecm: bool,
    rate: u32,
    compression: &str,
) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut peer_args = format!("--rate {rate} --compression {compression}");
    if ecm {
        peer_args.push_str(" --ecm");
    }
    let (o, out) = call(peer, dir.path(), tif, sending, &peer_args, &[]);
    let want = Want {
        rate,
        ecm,
        // MMR (T.6) needs ECM: without it the call falls back to MR.
        compression: if compression == "mmr" && !ecm {
            "mr"
        } else {
            compression
        },
    };
    judge(&o, &want, &out, source).err().map(|e| {
        let dir = if sending {
            "softfax->spandsp"
        } else {
            "spandsp->softfax"
        };
        format!("{dir} ecm={ecm} {rate} {compression}: {e}")
    })
}

/// The modes each direction runs: V.17 14400, V.29 9600, V.27ter 4800, each with ECM (MH,
/// MR, MMR) and without (MH, MR) — 15 calls.
fn modes() -> Vec<(bool, u32, &'static str)> {
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
    modes
}

/// Every mode in one direction, two pages each (ITU charts 1 and 4).
fn every_mode(sending: bool) {
    let Some(peer) = peers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (tif, source) = document(dir.path(), &[1, 4]);
    let modes = modes();
    assert_eq!(modes.len(), 15);
    // Two at a time (the calls run in simulated time, bounded by CPU).
    let failures: Vec<String> = modes
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|s| {
                let hs: Vec<_> = pair
                    .iter()
                    .map(|&(ecm, rate, comp)| {
                        let (peer, tif, source) = (&peer, &tif, &source);
                        s.spawn(move || one_mode(peer, tif, source, sending, ecm, rate, comp))
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
