//! The `softfax` command line: t4 encode/decode/info end to end, honest "not implemented"
//! answers, and exit status 2 with a message that names the file, page and row on bad input.

mod common;

use std::process::{Command, Output};

use common::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn encode_decode_info_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    // A two-page PBM: charts 1 and 8.
    let mut two = std::fs::read(vectors().join("ccitt-t24/pbm/itu1.pbm")).unwrap();
    two.extend(std::fs::read(vectors().join("ccitt-t24/pbm/itu8.pbm")).unwrap());
    std::fs::write(d("two.pbm"), &two).unwrap();
    for (comp, k) in [
        ("mh", "4"),
        ("mr", "2"),
        ("mr", "4"),
        ("mmr", "4"),
        ("none", "4"),
    ] {
        let tif = d(&format!("two-{comp}-{k}.tif"));
        let o = softfax(&[
            "t4",
            "encode",
            "--compression",
            comp,
            "--k",
            k,
            &d("two.pbm"),
            &tif,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = softfax(&["t4", "info", &tif]);
        assert!(o.status.success(), "{}", stderr(&o));
        let info = String::from_utf8(o.stdout).unwrap();
        assert!(info.contains("2 pages"), "{info}");
        assert!(
            info.contains("page 2: 1728 x 2376 pels, 204 x 196 dpi"),
            "{info}"
        );
        assert!(info.contains(&format!("compression {comp}")), "{info}");
        let back = d(&format!("back-{comp}-{k}.pbm"));
        let o = softfax(&["t4", "decode", &tif, &back]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            pbm_pages(&std::fs::read(&back).unwrap()),
            pbm_pages(&two),
            "{comp} k={k}"
        );
    }
    // PNG: one file per page.
    let o = softfax(&["t4", "decode", &d("two-mmr-4.tif"), &d("page.png")]);
    assert!(o.status.success(), "{}", stderr(&o));
    for n in [1, 2] {
        let png = std::fs::read(d(&format!("page-{n}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn unimplemented_subcommands_say_so() {
    // Every subcommand is implemented now; analyze of a missing file is bad input (exit 2).
    let o = softfax(&["analyze", "call.wav"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("call.wav"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_usage_and_bad_input_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    // Usage.
    assert_eq!(
        softfax(&["t4", "encode", "--compression", "jbig", "a", "b"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        softfax(&["t4", "encode", "--k", "0", "a", "b"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(softfax(&["nonsense"]).status.code(), Some(2));
    // Missing file.
    let o = softfax(&["t4", "info", &d("missing.tif")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.tif"), "{}", stderr(&o));
    // Not an image.
    std::fs::write(d("junk.tif"), b"hello world").unwrap();
    let o = softfax(&["t4", "decode", &d("junk.tif"), &d("out.pbm")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("junk.tif"), "{}", stderr(&o));
    // A G4 page whose data is cut short: file, page and row are named.
    let mut g4 = std::fs::read(vectors().join("ccitt-t24/g4-tiff/CCITT_1.TIF")).unwrap();
    let strip_start = 8; // the image data follows the header in these files
    let n = g4.len();
    for b in &mut g4[strip_start + (n - strip_start) / 3..strip_start + (n - strip_start) / 3 + 40]
    {
        *b = 0;
    }
    std::fs::write(d("cut.tif"), &g4).unwrap();
    let o = softfax(&["t4", "decode", &d("cut.tif"), &d("out.pbm")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains("cut.tif") && msg.contains("page 1") && msg.contains("row "),
        "{msg}"
    );
    assert!(!msg.contains("panicked"), "{msg}");
}

/// A page received with errors keeps its record: decoding an MH page with a damaged row
/// reports the bad row, and re-encoding writes BadFaxLines / CleanFaxData /
/// ConsecutiveBadFaxLines, which libtiff reads back.
#[test]
fn damaged_rows_are_reported_and_recorded_in_tiff_f() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let mh = d("mh.tif");
    let o = softfax(&[
        "t4",
        "encode",
        "--compression",
        "mh",
        vectors().join("ccitt-t24/pbm/itu1.pbm").to_str().unwrap(),
        &mh,
    ]);
    assert!(o.status.success());
    let mut data = std::fs::read(&mh).unwrap();
    // Our writer puts the strip right after the 8-byte header: damage bytes in its middle.
    let mid = 8 + (data.len() - 300) / 2;
    for b in &mut data[mid..mid + 3] {
        *b = 0xFF;
    }
    std::fs::write(d("damaged.tif"), &data).unwrap();
    let o = softfax(&[
        "t4",
        "encode",
        "--compression",
        "mmr",
        &d("damaged.tif"),
        &d("resent.tif"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad rows replaced"), "{}", stderr(&o));
    let o = softfax(&["t4", "info", &d("resent.tif")]);
    let info = String::from_utf8(o.stdout).unwrap();
    assert!(
        info.contains("as received: ") && info.contains("data regenerated"),
        "{info}"
    );
    if require_peer("tiffinfo", "libtiff-tools") {
        let out = run(Command::new("tiffinfo").arg(d("resent.tif")));
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("Bad Fax Lines: ") && !text.contains("Bad Fax Lines: 0"),
            "{text}"
        );
        assert!(text.contains("Fax Data: receiver regenerated"), "{text}");
    }
}

/// `modem tx | modem rx` through files, every modem: the bytes come back, the summary says
/// the training succeeded, and `--constellation` writes a PNG of the received symbols.
#[test]
fn modem_tx_rx_round_trip_and_constellation() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let msg: Vec<u8> = (0..600u32).map(|i| (i * 37 % 251) as u8).collect();
    std::fs::write(d("msg.bin"), &msg).unwrap();
    for (m, rate) in [("v27ter", "4800"), ("v29", "9600"), ("v17", "14400")] {
        let raw = d(&format!("{m}.raw"));
        let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
            .args(["modem", "tx", m, "--rate", rate, "--input", &d("msg.bin")])
            .output()
            .unwrap();
        assert!(o.status.success());
        std::fs::write(&raw, &o.stdout).unwrap();
        let png = d(&format!("{m}.png"));
        let o = Command::new(env!("CARGO_BIN_EXE_softfax"))
            .args(["modem", "rx", m, "--rate", rate, "--constellation", &png])
            .stdin(std::fs::File::open(&raw).unwrap())
            .output()
            .unwrap();
        assert!(o.status.success(), "{m}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("training succeeded"),
            "{m}: {}",
            stderr(&o)
        );
        assert!(o.stdout.starts_with(&msg), "{m}: the bytes came back");
        let png = std::fs::read(&png).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.len() > 2000, "{m}: a plot with points");
    }
}
