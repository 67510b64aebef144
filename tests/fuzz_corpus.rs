//! Replays every committed fuzz corpus file and every crash ever found (fuzz/corpus/<target>/
//! and fuzz/artifacts/<target>/) through the same bodies the cargo-fuzz targets run, so CI
//! exercises them on the stable toolchain.

use std::path::Path;

use softfax::dsp::fuzzing;
use softfax::dsp::t4::Coding;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_file() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                let data = std::fs::read(&path).unwrap();
                let r = std::panic::catch_unwind(|| body(&data));
                assert!(r.is_ok(), "{} panics", path.display());
                n += 1;
            }
        }
    }
    assert!(n > 0, "no corpus for fuzz target {target}");
    eprintln!("{target}: replayed {n} inputs");
}

#[test]
fn t4_decode_mh() {
    replay("t4_decode_mh", |d| fuzzing::t4_decode(Coding::Mh, d));
}

#[test]
fn t4_decode_mr() {
    replay("t4_decode_mr", |d| {
        fuzzing::t4_decode(Coding::Mr { k: 0 }, d)
    });
}

#[test]
fn t4_decode_mmr() {
    replay("t4_decode_mmr", |d| fuzzing::t4_decode(Coding::Mmr, d));
}

#[test]
fn t4_roundtrip() {
    replay("t4_roundtrip", fuzzing::t4_roundtrip);
}

#[test]
fn tiff_read() {
    replay("tiff_read", fuzzing::tiff_read);
}

#[test]
fn hdlc_deframe() {
    replay("hdlc_deframe", fuzzing::hdlc_deframe);
}

#[test]
fn t30_frame() {
    replay("t30_frame", fuzzing::t30_frame);
}

#[test]
fn pbm_read() {
    replay("pbm_read", fuzzing::pbm_read);
}

#[test]
fn pcap_rtp() {
    replay("pcap_rtp", softfax::analyze::pcap::fuzz);
}

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

#[test]
fn q921_frame() {
    replay("q921_frame", softfax::drivers::fuzzing::q921_frame);
}

#[test]
fn q931_message() {
    replay("q931_message", softfax::drivers::fuzzing::q931_message);
}

#[test]
fn mime_to_pages() {
    replay("mime_to_pages", softfax::documents::fuzzing::mime_to_pages);
}

#[test]
fn t30_engine() {
    replay("t30_engine", fuzzing::t30_engine);
}

#[test]
fn smtp_command() {
    replay("smtp_command", softfax::esmtp::fuzzing::smtp_command);
}

#[test]
fn fax_address() {
    replay("fax_address", softfax::esmtp::fuzzing::fax_address);
}
