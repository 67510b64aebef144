//! `softfax fax send|recv` over `sim:` lines: the result JSON (docs/contracts/cli.md), the exit
//! status, the received TIFF, the protocol log and the call recording.

mod common;

use common::*;

#[test]
fn send_two_pages_over_an_impaired_sim_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let mut two = std::fs::read(vectors().join("ccitt-t24/pbm/itu1.pbm")).unwrap();
    two.extend(std::fs::read(vectors().join("ccitt-t24/pbm/itu5.pbm")).unwrap());
    std::fs::write(d("doc.pbm"), &two).unwrap();
    assert!(
        softfax(&[
            "t4",
            "encode",
            "--compression",
            "mmr",
            &d("doc.pbm"),
            &d("doc.tif")
        ])
        .status
        .success()
    );
    let o = softfax(&[
        "fax",
        "send",
        "--line",
        "sim:?snr=35&drift_ppm=-80&law=alaw",
        "--no-ecm",
        "--ident",
        "+1 408 555 0001",
        "--log",
        &d("trace.txt"),
        "--record",
        &d("call.wav"),
        &d("doc.tif"),
    ]);
    let json = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{json} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json.lines().count(), 1);
    assert_eq!(field(&json, "status"), "ok");
    assert_eq!(field(&json, "hangup_code"), "0");
    assert_eq!(
        field(&json, "hangup_text"),
        "Normal and proper end of connection"
    );
    assert_eq!(field(&json, "pages"), "2");
    // The rate the TCF proved on this line (V.17 14400 on a clean one; lower here).
    let rate: u32 = field(&json, "bit_rate").parse().unwrap();
    assert!([7200, 9600, 12000, 14400].contains(&rate), "{json}");
    assert_eq!(field(&json, "ecm"), "false");
    assert_eq!(field(&json, "compression"), "mr");
    assert_eq!(field(&json, "remote_ident"), "softfax sim");
    assert_eq!(field(&json, "q850_cause"), "16");
    assert!(field(&json, "transmit_bytes").parse::<u64>().unwrap() > 20_000);
    let trace = std::fs::read_to_string(d("trace.txt")).unwrap();
    for want in [
        "<- DIS",
        "-> DCS V.17 14400 bit/s",
        "<- CFR",
        "-> MPS",
        "<- MCF",
        "-> DCN",
    ] {
        assert!(trace.contains(want), "{want} not in\n{trace}");
    }
    let wav = std::fs::read(d("call.wav")).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert!(
        wav.len() > 8000 * 4 * 30,
        "a call of more than 30 s, stereo 16-bit"
    );
}

#[test]
fn receive_writes_the_pages_as_tiff_f() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("in.tif");
    let o = softfax(&["fax", "recv", "--line", "sim:", out.to_str().unwrap()]);
    let json = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{json}");
    assert_eq!(field(&json, "pages"), "1");
    let info = String::from_utf8(softfax(&["t4", "info", out.to_str().unwrap()]).stdout).unwrap();
    assert!(
        info.contains("1 page") && info.contains("1728 x 2200 pels, 204 x 196 dpi"),
        "{info}"
    );
}

#[test]
fn a_line_too_noisy_to_train_fails_honestly() {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("p.tif");
    assert!(
        softfax(&[
            "t4",
            "encode",
            vectors().join("ccitt-t24/pbm/itu2.pbm").to_str().unwrap(),
            tif.to_str().unwrap()
        ])
        .status
        .success()
    );
    let o = softfax(&["fax", "send", "--line", "sim:?snr=0", tif.to_str().unwrap()]);
    let json = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{json}");
    assert_eq!(field(&json, "status"), "failed");
    assert_eq!(field(&json, "pages"), "0");
    assert_ne!(field(&json, "hangup_code"), "0");
}

#[test]
fn bad_lines_and_files_are_usage_errors() {
    let o = softfax(&["fax", "send", "--line", "nonsense", "x.tif"]);
    assert_eq!(o.status.code(), Some(2));
    let o = softfax(&["fax", "send", "--line", "sim:?snr=loud", "/nonexistent.tif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nonexistent"));
}

#[test]
fn loopback_runs_a_whole_call_through_the_simulator() {
    let o = softfax(&["loopback"]);
    let json = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{json}");
    assert_eq!(field(&json, "status"), "ok");
    assert_eq!(field(&json, "pages"), "1");
    assert_eq!(field(&json, "bit_rate"), "14400");
    if !cfg!(feature = "soundcard") {
        // Without the feature sound: lines say how to get it (tests/sound.rs has the rest).
        let o = softfax(&["loopback", "--line", "sound:"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("--features soundcard"));
    }
}

/// ECM (the default) through a noisy sim: line: MMR, PPS/MCF per block, pages pel-identical.
#[test]
fn send_and_receive_with_ecm_over_a_noisy_sim_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let mut two = std::fs::read(vectors().join("ccitt-t24/pbm/itu2.pbm")).unwrap();
    two.extend(std::fs::read(vectors().join("ccitt-t24/pbm/itu3.pbm")).unwrap());
    std::fs::write(d("doc.pbm"), &two).unwrap();
    assert!(
        softfax(&["t4", "encode", &d("doc.pbm"), &d("doc.tif")])
            .status
            .success()
    );
    let o = softfax(&[
        "fax",
        "send",
        "--line",
        "sim:?snr=26&drift_ppm=100&law=ulaw",
        "--log",
        &d("trace.txt"),
        &d("doc.tif"),
    ]);
    let json = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{json}");
    assert_eq!(field(&json, "pages"), "2");
    assert_eq!(field(&json, "ecm"), "true");
    assert_eq!(field(&json, "compression"), "mmr");
    let trace = std::fs::read_to_string(d("trace.txt")).unwrap();
    for want in ["-> PPS", "<- MCF", "-> DCN"] {
        assert!(trace.contains(want), "{want} not in\n{trace}");
    }
    // And receiving: the sim: far end sends its test page with ECM.
    let o = softfax(&["fax", "recv", "--line", "sim:?snr=30", &d("in.tif")]);
    let json = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{json}");
    assert_eq!((field(&json, "ecm"), field(&json, "pages")), ("true", "1"));
    let got = softfax::dsp::tiff::read_pages(&std::fs::read(d("in.tif")).unwrap()).unwrap();
    let want = softfax::drivers::sim::test_page();
    assert_same_pels("sim ECM page", &got[0].page, &want);
}
