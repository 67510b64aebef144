//! Shared helpers for the integration tests: peers, vectors, temporary files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use softfax::dsp::image::{Page, Resolution};
use softfax::dsp::pbm;

// The one rule for a missing peer (skip, or fail under CI), shared by every test crate.
#[allow(unused_imports)]
pub use softfax_peers::{find_tool, require_peer, unavailable, under_ci};

/// The project's test vectors.
pub fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// The 8 ITU charts as pages (204 × 196 dpi).
pub fn itu_charts() -> Vec<(String, Page)> {
    (1..=8)
        .map(|n| {
            let path = vectors().join(format!("ccitt-t24/pbm/itu{n}.pbm"));
            let data = std::fs::read(&path).unwrap();
            let mut pages = pbm::read_pbm(&data, Resolution::FINE).unwrap();
            (format!("itu{n}"), pages.remove(0))
        })
        .collect()
}

/// Run the softfax binary with `args`.
pub fn softfax(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(args)
        .output()
        .unwrap()
}

/// A field of softfax's result JSON (strings without their quotes).
pub fn json_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("\"{key}\":");
    let rest = &json[json.find(&k)? + k.len()..];
    Some(match rest.strip_prefix('"') {
        Some(s) => &s[..s.find('"')?],
        None => &rest[..rest.find([',', '}'])?],
    })
}

/// [`json_field`], which must be there.
pub fn field<'a>(json: &'a str, key: &str) -> &'a str {
    json_field(json, key).unwrap_or_else(|| panic!("no {key} in {json}"))
}

/// Run a command; panic with its stderr if it fails; return stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The pages of a TIFF file as libtiff decodes them (netpbm's `tifftopnm`, every page).
pub fn libtiff_pages(tif: &Path) -> Vec<Page> {
    pbm_pages(&run(Command::new("tifftopnm").arg("-quiet").arg(tif)))
}

/// The pages of a PBM file (one after another, as netpbm writes them).
pub fn pbm_file_pages(path: &Path) -> Vec<Page> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pbm_pages(&data)
}

/// Pages of a PBM stream (what netpbm's tools write).
pub fn pbm_pages(data: &[u8]) -> Vec<Page> {
    pbm::read_pbm(data, Resolution::FINE).expect("peer wrote a readable PBM")
}

/// Assert two pages have the same pels; on failure name the first differing row.
pub fn assert_same_pels(what: &str, got: &Page, want: &Page) {
    assert_eq!(
        (got.width, got.height),
        (want.width, want.height),
        "{what}: size"
    );
    if got.data != want.data {
        let s = got.stride();
        let row = (0..got.height as usize)
            .find(|&y| got.data[y * s..(y + 1) * s] != want.data[y * s..(y + 1) * s]);
        panic!("{what}: pels differ, first at row {row:?}");
    }
}
