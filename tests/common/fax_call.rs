//! Whole fax calls between softfax (the `softfax fax send|recv` command) and spandsp's fax
//! terminal (tests/peers/spandsp_fax.c) on an `exec:` line, judged by both sides' own
//! accounts and by the pages libtiff decodes. Shared by the interop and real-line tests;
//! include it with `#[path = "common/fax_call.rs"] mod fax_call;` beside `mod common;` and
//! `#[path = "common/spandsp.rs"] mod spandsp;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;
// Where the tests that include this file have always found them.
pub use crate::common::{json_field, softfax};
use crate::spandsp::{self, FaxReport};
use softfax::dsp::image::Page;

/// The spandsp fax peer and libtiff's decoder, or `None` (skip) without them.
pub fn peers() -> Option<PathBuf> {
    let peer = spandsp::build_spandsp_fax()?;
    require_peer("tifftopnm", "netpbm").then_some(peer)
}

/// The source document: the ITU charts `charts` as one PBM file, encoded by softfax as the
/// TIFF the sender sends (`dir/doc.tif`). Returns the TIFF and the source pages.
pub fn document(dir: &Path, charts: &[u32]) -> (PathBuf, Vec<Page>) {
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

/// What a call must have done.
pub struct Want<'a> {
    /// The bit rate both sides must report; `None` accepts any (a call that fell back).
    pub rate: Option<u32>,
    pub ecm: bool,
    pub compression: &'a str,
}

/// Judge one call: softfax's exit status and JSON, spandsp's report, and the received TIFF
/// `out` (decoded by libtiff) against the `source` pages. `Err` says what is wrong.
pub fn judge(o: &Output, want: &Want, out: &Path, source: &[Page]) -> Result<(), String> {
    let json = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let tail = || err.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
    let report = FaxReport::parse(&err).ok_or_else(|| format!("no spandsp report: {}", tail()))?;
    let pages = source.len().to_string();
    let ecm = want.ecm.to_string();
    let json_rate = json_field(&json, "bit_rate").and_then(|r| r.parse::<u32>().ok());
    let checks = [
        (o.status.code() == Some(0), "softfax exit 0"),
        (
            json_field(&json, "status") == Some("ok"),
            "softfax status ok",
        ),
        (json_field(&json, "pages") == Some(&pages), "softfax pages"),
        (
            want.rate.is_none_or(|r| json_rate == Some(r)),
            "softfax bit rate",
        ),
        (json_field(&json, "ecm") == Some(&ecm), "softfax ECM"),
        (
            json_field(&json, "compression") == Some(want.compression),
            "softfax coding",
        ),
        (report.result == 0, "spandsp result 0"),
        (report.pages as usize == source.len(), "spandsp pages"),
        (
            json_rate == Some(report.bit_rate),
            "spandsp bit rate (as softfax's)",
        ),
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
pub fn call(
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
