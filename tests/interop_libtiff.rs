//! Interop with libtiff (libtiff-tools, and netpbm's tifftopnm which decodes through
//! libtiff): pages we encode decode pel-identical in libtiff, pages libtiff encodes decode
//! pel-identical in softfax, and every TIFF in vectors/ decodes as libtiff decodes it.
//! Skips with a printed reason without the tools; fails under CI=true.

mod common;

use std::process::Command;

use common::*;
use softfax::dsp::image::Page;
use softfax::dsp::t4::{BitOrder, Coding, DecodeOptions, Decoder};
use softfax::dsp::tiff::{self, WriteOptions};

fn codings() -> Vec<(Coding, bool, &'static str)> {
    vec![
        (Coding::Mh, false, "mh"),
        (Coding::Mh, true, "mh-aligned"),
        (Coding::Mr { k: 2 }, false, "mr-k2"),
        (Coding::Mr { k: 4 }, true, "mr-k4-aligned"),
        (Coding::Mr { k: 100 }, false, "mr-k100"),
        (Coding::Mmr, false, "mmr"),
    ]
}

#[test]
fn libtiff_decodes_what_we_encode() {
    if !require_peer("tifftopnm", "netpbm") || !require_peer("tiffcp", "libtiff-tools") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let charts = itu_charts();
    for (name, page) in &charts {
        for (coding, align_eol, cname) in codings() {
            let data = tiff::write_pages(
                std::slice::from_ref(page),
                WriteOptions {
                    coding: Some(coding),
                    align_eol,
                },
            )
            .unwrap();
            let path = dir.path().join(format!("{name}-{cname}.tif"));
            std::fs::write(&path, &data).unwrap();
            let got = libtiff_pages(&path);
            assert_eq!(got.len(), 1);
            assert_same_pels(
                &format!("libtiff decoding our {cname} {name}"),
                &got[0],
                page,
            );
        }
    }
    // A multi-page document: libtiff sees every page, with the right page count.
    let pages: Vec<Page> = charts.iter().map(|(_, p)| p.clone()).collect();
    for (coding, align_eol, cname) in codings() {
        let data = tiff::write_pages(
            &pages,
            WriteOptions {
                coding: Some(coding),
                align_eol,
            },
        )
        .unwrap();
        let path = dir.path().join(format!("all-{cname}.tif"));
        std::fs::write(&path, &data).unwrap();
        let info = String::from_utf8(run(Command::new("tiffinfo").arg(&path))).unwrap();
        assert_eq!(info.matches("TIFF Directory at").count(), 8, "{info}");
        assert_eq!(info.matches("Page Number: 7-8").count(), 1, "{info}");
        let plain = dir.path().join(format!("all-{cname}-none.tif"));
        run(Command::new("tiffcp")
            .args(["-c", "none"])
            .arg(&path)
            .arg(&plain));
        let back = tiff::read_pages(&std::fs::read(&plain).unwrap()).unwrap();
        assert_eq!(back.len(), 8);
        for (b, p) in back.iter().zip(&pages) {
            assert_same_pels(&format!("tiffcp -c none of our {cname}"), &b.page, p);
        }
    }
}

#[test]
fn we_decode_what_libtiff_encodes() {
    if !require_peer("tiffcp", "libtiff-tools") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, page) in itu_charts() {
        let plain = dir.path().join(format!("{name}-none.tif"));
        std::fs::write(
            &plain,
            tiff::write_pages(
                std::slice::from_ref(&page),
                WriteOptions {
                    coding: None,
                    align_eol: false,
                },
            )
            .unwrap(),
        )
        .unwrap();
        for args in [
            &["-c", "g3:1d"][..],
            &["-c", "g3:2d"],
            &["-c", "g3:1d:fill"],
            &["-c", "g3:2d:fill"],
            &["-c", "g4"],
            &["-c", "g3:1d", "-f", "lsb2msb"],
            &["-c", "g3:2d:fill", "-f", "lsb2msb"],
            &["-c", "g4", "-f", "lsb2msb"],
            &["-c", "g3:2d", "-r", "100"],
            &["-c", "g4", "-r", "37"],
            &["-c", "none", "-r", "64"],
            &["-c", "packbits"],
        ] {
            let out = dir
                .path()
                .join(format!("{name}-{}.tif", args.join("_").replace(':', "-")));
            run(Command::new("tiffcp").args(args).arg(&plain).arg(&out));
            let decoded = tiff::read_pages(&std::fs::read(&out).unwrap())
                .unwrap_or_else(|e| panic!("tiffcp {args:?} {name}: {e}"));
            assert_eq!(decoded.len(), 1);
            assert_eq!(decoded[0].stats.bad_rows, 0, "tiffcp {args:?} {name}");
            assert_same_pels(&format!("tiffcp {args:?} {name}"), &decoded[0].page, &page);
        }
    }
}

#[test]
fn every_vector_tiff_decodes_as_libtiff_decodes_it() {
    if !require_peer("tifftopnm", "netpbm") {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(vectors().join("ccitt-t24/g4-tiff"))
        .unwrap()
        .chain(std::fs::read_dir(vectors().join("libtiff")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e == "tiff")
        })
        // LZW, not a fax coding: the expected pels for testfax4 (see g4_with_zero_length_runs).
        .filter(|p| !p.ends_with("o-testfax4.tiff"))
        .collect();
    files.sort();
    assert!(files.len() >= 11, "{files:?}");
    for path in files {
        let ours = tiff::read_pages(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let theirs = libtiff_pages(&path);
        assert_eq!(ours.len(), theirs.len(), "{}", path.display());
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o.stats.bad_rows, 0, "{}", path.display());
            assert_same_pels(&path.display().to_string(), &o.page, t);
        }
    }
}

/// libtiff's regression for G4 data with zero-length runs: testfax4 (T.6) must decode to the
/// pels of o-testfax4 (the same image, LZW, decoded by libtiff).
#[test]
fn g4_with_zero_length_runs() {
    if !require_peer("tifftopnm", "netpbm") {
        return;
    }
    let ours =
        tiff::read_pages(&std::fs::read(vectors().join("libtiff/testfax4.tiff")).unwrap()).unwrap();
    let theirs = libtiff_pages(&vectors().join("libtiff/o-testfax4.tiff"));
    assert_same_pels("testfax4 vs o-testfax4", &ours[0].page, &theirs[0]);
}

/// A raw MH stream (no TIFF around it), decoded until RTC, against fax2tiff's reading of it.
#[test]
fn raw_mh_stream_against_fax2tiff() {
    if !require_peer("fax2tiff", "libtiff-tools") || !require_peer("tifftopnm", "netpbm") {
        return;
    }
    let raw = std::fs::read(vectors().join("libtiff/miniswhite-1c-1b.g3")).unwrap();
    let mut opts = DecodeOptions::new(Coding::Mh, 1728);
    opts.bit_order = BitOrder::MsbFirst;
    let mut rows = Vec::new();
    let stats = Decoder::decode_page(opts, &raw, |r| rows.extend_from_slice(r)).unwrap();
    assert_eq!(stats.bad_rows, 0, "{stats:?}");
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("fax2tiff.tif");
    run(Command::new("fax2tiff")
        .arg("-M")
        .arg("-o")
        .arg(&tif)
        .arg(vectors().join("libtiff/miniswhite-1c-1b.g3")));
    let theirs = libtiff_pages(&tif).remove(0);
    // fax2tiff counts the EOLs of RTC as extra (white) rows; the page itself is ours.
    assert!(
        theirs.height >= stats.rows && theirs.height - stats.rows <= 6,
        "{} vs {}",
        theirs.height,
        stats.rows
    );
    let s = theirs.stride();
    assert!(
        rows[..] == theirs.data[..stats.rows as usize * s],
        "pels differ"
    );
    assert!(
        theirs.data[stats.rows as usize * s..]
            .iter()
            .all(|&b| b == 0)
    );
}

/// Files made by libtiff in the forms the tools reach less often: big-endian, min-is-black,
/// resolution in centimetres, CCITT RLE (Compression 2, written through libtiff itself),
/// several strips with FillOrder 2.
#[test]
fn we_decode_libtiff_variants() {
    if !require_peer("tiffcp", "libtiff-tools")
        || !require_peer("pnmtotiff", "netpbm")
        || !require_peer("python3", "python3")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let charts = itu_charts();
    let (name, page) = &charts[1];
    let pbm = vectors().join(format!("ccitt-t24/pbm/{name}.pbm"));
    let plain = dir.path().join("plain.tif");
    std::fs::write(
        &plain,
        tiff::write_pages(
            std::slice::from_ref(page),
            WriteOptions {
                coding: None,
                align_eol: false,
            },
        )
        .unwrap(),
    )
    .unwrap();
    // Pels must equal libtiff's own decoding of the file (tifftopnm), and for every file but
    // one also the chart itself: pnmtotiff's "-g3 -2d -fill -lsb2msb" does not reproduce
    // chart 2 exactly (row 161 on), in libtiff's reading as in ours.
    let check = |what: &str, path: &std::path::Path| {
        let decoded = tiff::read_pages(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(decoded.len(), 1, "{what}");
        let theirs = pbm_pages(&run(Command::new("tifftopnm")
            .args(["-quiet", "-respectfillorder"])
            .arg(path)));
        assert_same_pels(&format!("{what} vs libtiff"), &decoded[0].page, &theirs[0]);
        if !what.starts_with("g3 2d fill") {
            assert_same_pels(what, &decoded[0].page, page);
        }
        decoded.into_iter().next().unwrap()
    };
    for (args, what) in [
        (&["-B", "-c", "g4"][..], "big-endian g4"),
        (
            &["-B", "-c", "g3:2d", "-f", "lsb2msb", "-r", "50"],
            "big-endian g3:2d lsb2msb 50 rows/strip",
        ),
        (&["-B", "-c", "none"], "big-endian none"),
    ] {
        let out = dir
            .path()
            .join(format!("{}.tif", what.replace([' ', ':', '/'], "_")));
        run(Command::new("tiffcp").args(args).arg(&plain).arg(&out));
        assert_eq!(&std::fs::read(&out).unwrap()[..2], b"MM", "{what}");
        check(what, &out);
    }
    for (args, what) in [
        (&["-minisblack", "-g4"][..], "min-is-black g4"),
        (&["-minisblack"], "min-is-black uncompressed"),
        (&["-g3", "-2d", "-fill", "-lsb2msb"], "g3 2d fill lsb2msb"),
    ] {
        let out = dir.path().join(format!("{}.tif", what.replace(' ', "_")));
        let tif = run(Command::new("pnmtotiff").args(args).arg(&pbm));
        std::fs::write(&out, tif).unwrap();
        check(what, &out);
    }
    // Resolution in centimetres: 80 × 77 pels/cm = 203.2 × 195.58 dpi.
    let out = dir.path().join("cm.tif");
    let tif = run(Command::new("pnmtotiff")
        .args([
            "-g4",
            "-resolutionunit",
            "centimeter",
            "-xresolution",
            "80",
            "-yresolution",
            "77",
        ])
        .arg(&pbm));
    std::fs::write(&out, tif).unwrap();
    let d = check("resolution in cm", &out);
    let r = d.info.resolution.expect("resolution");
    assert!(
        (r.x_dpi - 203.2).abs() < 0.01 && (r.y_dpi - 195.58).abs() < 0.01,
        "{r:?}"
    );
    // CCITT RLE (Compression 2), both fill orders, written by libtiff's own encoder.
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/libtiff_write.py");
    for fill in ["1", "2"] {
        let out = dir.path().join(format!("rle-{fill}.tif"));
        run(Command::new("python3")
            .arg(&script)
            .arg(&pbm)
            .arg(&out)
            .arg("2")
            .arg(fill));
        let d = check(&format!("CCITT RLE fill order {fill}"), &out);
        assert_eq!(d.info.compression_name(), "rle");
    }
}
