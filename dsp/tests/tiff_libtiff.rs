//! Checks that the TIFF Class F writer's output is accepted by libtiff (`tiffinfo`, `tiffdump`,
//! `tiffcp`) and by netpbm (`tifftopnm`), pel for pel.
//!
//! Needs the tools from the `libtiff-tools` and `netpbm` packages. When one is missing the
//! test prints why and passes, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use softfax_dsp::image::{Page, PageQuality, Resolution};
use softfax_dsp::pbm::read_pbm;
use softfax_dsp::tiff::{Compression, FillOrder, PageMeta, TiffWriter, parse};

/// The tool's path, or `None` (after printing `SKIP:`) when it is not installed; a failure
/// under CI.
fn tool(name: &str) -> Option<PathBuf> {
    let found = softfax_peers::find_tool(name);
    if found.is_none() {
        softfax_peers::unavailable(name, "not installed (apt-get install libtiff-tools netpbm)");
    }
    found
}

fn run(tool: &Path, args: &[&Path]) -> Output {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    assert!(
        out.status.success(),
        "{} {:?} failed: {}\n{}",
        tool.display(),
        args,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A scratch directory, removed again even when the test fails.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("softfax-tiff-libtiff-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The test pictures: a pattern with a frame, different on every page.
fn pel(page: u32, x: u32, y: u32, width: u32, height: u32) -> bool {
    let frame = x == 0 || y == 0 || x == width - 1 || y == height - 1;
    frame || (x * 3 + y * 5 + page) % 7 < 3
}

const SIZES: [(u32, u32); 2] = [(37, 10), (64, 5)];
const RESOLUTIONS: [Resolution; 2] = [
    Resolution::FINE,
    Resolution {
        x_dpi: 200.0,
        y_dpi: 100.0,
    },
];

/// A page drawn through the `Page` API.
fn page(n: u32) -> Page {
    let (w, h) = SIZES[n as usize];
    let mut p = Page::new(w, h, RESOLUTIONS[n as usize]);
    for y in 0..h {
        for x in 0..w {
            if pel(n, x, y, w, h) {
                p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    p
}

/// The expected images as plain PBM text, written pel by pel.
fn expected_pbm() -> Vec<u8> {
    let mut text = String::new();
    for (n, &(w, h)) in SIZES.iter().enumerate() {
        text += &format!("P1\n{w} {h}\n");
        for y in 0..h {
            for x in 0..w {
                text.push(if pel(n as u32, x, y, w, h) { '1' } else { '0' });
            }
            text.push('\n');
        }
    }
    text.into_bytes()
}

#[test]
fn libtiff_and_netpbm_read_our_tiff_class_f() {
    let (Some(tiffinfo), Some(tiffdump), Some(tiffcp), Some(tifftopnm)) = (
        tool("tiffinfo"),
        tool("tiffdump"),
        tool("tiffcp"),
        tool("tifftopnm"),
    ) else {
        return;
    };

    let pages = [page(0), page(1)];
    let mut w = TiffWriter::new();
    for (i, p) in pages.iter().enumerate() {
        let meta = PageMeta {
            width: p.width,
            height: p.height,
            resolution: p.resolution,
            compression: Compression::None,
            t4_options: 0,
            t6_options: 0,
            fill_order: FillOrder::MsbFirst,
            quality: (i == 1).then_some(PageQuality {
                bad_rows: 2,
                max_consecutive_bad_rows: 1,
            }),
        };
        w.add_page(&meta, &p.data);
    }
    let file = w.finish();

    let dir = TempDir::new();
    let dir = &dir.0;
    let tif = dir.join("two-pages.tif");
    std::fs::write(&tif, &file).unwrap();

    // tiffinfo: two directories with our sizes and resolutions, and no complaints.
    let info = run(&tiffinfo, &[&tif]);
    let text = String::from_utf8_lossy(&info.stdout);
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert_eq!(
        text.matches("TIFF Directory at offset").count(),
        2,
        "{text}"
    );
    for needle in [
        "Image Width: 37 Image Length: 10",
        "Image Width: 64 Image Length: 5",
        "Resolution: 204, 196 pixels/inch",
        "Resolution: 200, 100 pixels/inch",
        "Bits/Sample: 1",
        "Compression Scheme: None",
        "Photometric Interpretation: min-is-white",
        "Page Number: 0-2",
        "Page Number: 1-2",
        "Software: softfax",
    ] {
        assert!(text.contains(needle), "tiffinfo lacks {needle:?}:\n{text}");
    }
    // libtiff only knows the fax quality tags (326-328) when a CCITT codec is in use, so on
    // this uncompressed file it warns about them; nothing else may be reported.
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !["326", "327", "328"]
                .iter()
                .any(|t| l.contains(&format!("Unknown field with tag {t} ")))
        })
        .collect();
    assert!(complaints.is_empty(), "tiffinfo complained:\n{stderr}");

    // tiffdump: the raw tags, including the fax quality ones on page 2.
    let dump = run(&tiffdump, &[&tif]);
    let text = String::from_utf8_lossy(&dump.stdout);
    assert_eq!(text.matches("Directory ").count(), 2, "{text}");
    for needle in [
        "BadFaxLines (326) LONG (4) 1<2>",
        "CleanFaxData (327) SHORT (3) 1<1>",
        "ConsecutiveBadFaxLines (328) LONG (4) 1<1>",
        "PageNumber (297) SHORT (3) 2<1 2>",
    ] {
        assert_eq!(
            text.matches(needle).count(),
            1,
            "tiffdump: {needle}:\n{text}"
        );
    }

    // tiffcp rewrites it; our reader takes libtiff's layout back.
    let copy = dir.join("copy.tif");
    run(&tiffcp, &[Path::new("-c"), Path::new("none"), &tif, &copy]);
    let copied = std::fs::read(&copy).unwrap();
    let ifds = parse(&copied).unwrap();
    assert_eq!(ifds.len(), 2);
    for (ifd, p) in ifds.iter().zip(&pages) {
        assert_eq!((ifd.width, ifd.height), (p.width, p.height));
        assert_eq!(ifd.compression, Compression::None);
        let mut data = Vec::new();
        for i in 0..ifd.strips.len() {
            data.extend_from_slice(ifd.strip_data(&copied, i));
        }
        assert_eq!(data, p.data, "page {} after tiffcp", ifd.index + 1);
    }

    // tifftopnm: the same pels as the PBM written by hand.
    let pnm = run(&tifftopnm, &[&tif]);
    let got = read_pbm(&pnm.stdout, Resolution::FINE).unwrap();
    let want = read_pbm(&expected_pbm(), Resolution::FINE).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got, want);
    for (g, p) in got.iter().zip(&pages) {
        assert_eq!(g.data, p.data);
    }
}
