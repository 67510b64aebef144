//! Replays every committed fuzz corpus file and every crash ever found (fuzz/corpus/<target>/
//! and fuzz/artifacts/<target>/) through the cargo-fuzz targets themselves, so CI exercises
//! them on the stable toolchain. The fuzz crate (its own workspace) builds on stable —
//! cargo-fuzz adds only the coverage instrumentation — and its release profile turns on
//! overflow checks and debug assertions in softfax's crates, as cargo-fuzz does: an integer
//! overflow fails the replay as it fails a fuzzing run (this crate's tests, built
//! `--release`, have them off). libFuzzer given files runs each once and exits non-zero on a
//! panic. The first test builds the fuzz crate (`.ci/run` has built it already).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use softfax::dsp::t4::Coding;

/// The fuzz crate's folder.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Build the fuzz targets once per run; the folder of the binaries.
fn targets() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(fuzz_dir())
            // Not --locked: a dependency added to the workspace updates fuzz/Cargo.lock here
            // (commit it); .ci/run builds --locked, so CI insists the committed one is current.
            .args(["build", "--release"]);
        // Not the variables cargo sets for this test (CARGO_MANIFEST_DIR …): build scripts
        // watch some, and the build would not be the one `.ci/run` made.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_PKG_")
                || key.starts_with("CARGO_BIN_")
                || key.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "OUT_DIR",
                ]
                .contains(&key.as_ref())
            {
                build.env_remove(key.as_ref());
            }
        }
        let out = build.output().expect("run cargo");
        assert!(
            out.status.success(),
            "building the fuzz targets failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| fuzz_dir().join("target"));
        dir.join("release")
    })
}

fn replay(target: &str) {
    let mut inputs = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_file() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                inputs.push(path);
            }
        }
    }
    assert!(!inputs.is_empty(), "no corpus for fuzz target {target}");
    let out = Command::new(targets().join(target))
        .args(&inputs)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the fuzz target {target}: {e}"));
    let log = String::from_utf8_lossy(&out.stderr);
    let failed = log.lines().rev().find(|l| l.starts_with("Running: "));
    assert!(
        out.status.success(),
        "{target}: {} fails:\n{log}",
        failed.unwrap_or("an input")
    );
    // libFuzzer says `Executed <file> in N ms` for every input it ran.
    let ran = log.lines().filter(|l| l.starts_with("Executed ")).count();
    assert_eq!(ran, inputs.len(), "{target}: inputs run:\n{log}");
    eprintln!("{target}: replayed {ran} inputs");
}

macro_rules! replay {
    ($($target:ident),* $(,)?) => {$(
        #[test]
        fn $target() {
            replay(stringify!($target));
        }
    )*};
}

replay!(
    t4_decode_mh,
    t4_decode_mr,
    t4_decode_mmr,
    t4_roundtrip,
    tiff_read,
    hdlc_deframe,
    t30_frame,
    pbm_read,
    pcap_rtp,
    q921_frame,
    q931_message,
    impair_spec,
    mime_to_pages,
    pdf_to_pages,
    text_markup,
    t30_engine,
    smtp_command,
    fax_address,
    modem_rx,
);

/// Writes the seed corpora (run once with `cargo test --release --test fuzz_corpus --
/// --ignored`): crops of the ITU charts in every coding, small TIFFs in every compression
/// libtiff writes, small PBMs. Files stay small so that fuzzing is fast.
#[test]
#[ignore]
fn generate_seed_corpus() {
    use softfax::dsp::image::{Page, Resolution};
    use softfax::dsp::t4::{BitOrder, EncodeOptions, Encoder};
    use softfax::dsp::{pbm, tiff};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    };
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let crop = |n: u32, y0: u32, rows: u32, width: u32| -> Page {
        let data = std::fs::read(vectors.join(format!("ccitt-t24/pbm/itu{n}.pbm"))).unwrap();
        let full = pbm::read_pbm(&data, Resolution::FINE).unwrap().remove(0);
        let mut p = Page::new(width, rows, Resolution::FINE);
        for y in 0..rows {
            for x in 0..width {
                if full.pel(x + (1728 - width) / 2, y0 + y) {
                    p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        p
    };
    let crops = [
        (1, 300, 12, 1728),
        (4, 1000, 6, 1728),
        (8, 1500, 10, 1728),
        (2, 800, 16, 200),
        (7, 900, 8, 61),
    ];
    for (i, &(n, y0, rows, width)) in crops.iter().enumerate() {
        let page = crop(n, y0, rows, width);
        let w = (width - 1).to_le_bytes();
        for (target, coding) in [
            ("t4_decode_mh", Coding::Mh),
            ("t4_decode_mr", Coding::Mr { k: 4 }),
            ("t4_decode_mmr", Coding::Mmr),
        ] {
            for (sel, order, fill) in [
                (0u8, BitOrder::MsbFirst, 0),
                (1, BitOrder::LsbFirst, 10),
                (0x19, BitOrder::LsbFirst, 0),
            ] {
                let mut opts = EncodeOptions::new(coding, width).min_scan_time(fill, 9600);
                opts.bit_order = order;
                let mut data = vec![sel, w[0], w[1]];
                Encoder::encode_page(opts, &page.data, page.stride(), &mut data).unwrap();
                write(target, &format!("itu{n}-{i}-{sel:02x}"), &data);
            }
        }
        let mut rt = vec![w[0], w[1], 4 | 0x80];
        rt.extend_from_slice(&page.data);
        write("t4_roundtrip", &format!("itu{n}-{i}"), &rt);
        for (name, coding) in [
            ("none", None),
            ("mh", Some(Coding::Mh)),
            ("mr", Some(Coding::Mr { k: 2 })),
            ("mmr", Some(Coding::Mmr)),
        ] {
            let t = tiff::write_pages(
                &[page.clone(), crop(3, 100, 4, width)],
                tiff::WriteOptions {
                    coding,
                    align_eol: name == "mr",
                },
            )
            .unwrap();
            write("tiff_read", &format!("itu{n}-{i}-{name}.tif"), &t);
        }
        let mut p = Vec::new();
        pbm::write_pbm(std::slice::from_ref(&page), &mut p);
        write("pbm_read", &format!("itu{n}-{i}.pbm"), &p);
    }
    write(
        "pbm_read",
        "plain.pbm",
        b"P1\n# a comment\n5 3\n0 1 0 1 0\n11111\n0 0 0 0 1\nP1 2 1 10\n",
    );
    write(
        "t4_roundtrip",
        "checker",
        &[7, 0, 3, 0xAA, 0x55, 0xAA, 0x55, 0xFF, 0x00],
    );
    for f in [
        "libtiff/g3test.tif",
        "libtiff/fax2d.tif",
        "ccitt-t24/g4-tiff/CCITT_2.TIF",
    ] {
        let data = std::fs::read(vectors.join(f)).unwrap();
        write(
            "tiff_read",
            Path::new(f).file_name().unwrap().to_str().unwrap(),
            &data,
        );
    }
}
