//! `softfax analyze`: the real captured fax calls (vectors/real-fax-audio), a `--record` WAV
//! of a `sim:` call against the call's own log and page, `wav:` lines replaying a recorded
//! far end, `--record` on every line kind, `--spectrogram`, and garbage, truncated and
//! mislabelled files.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use softfax::analyze::{self, SegmentKind, What, input};
use softfax::dsp::t30::{DataRate, FrameRepr, Modulation};
use softfax::dsp::tones::fax::FaxTone;

fn softfax(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_softfax"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn real(name: &str) -> analyze::Report {
    let path = vectors().join("real-fax-audio").join(name);
    analyze::analyze(name, input::load(&path).unwrap())
}

fn tones(r: &analyze::Report, tag: &str) -> Vec<FaxTone> {
    r.items
        .iter()
        .filter(|i| r.channels[i.channel].0 == tag)
        .filter_map(|i| match i.what {
            What::FaxTone { tone, .. } => Some(tone),
            _ => None,
        })
        .collect()
}

#[test]
fn answering_side_of_the_real_capture() {
    let r = real("asterisk_t38_two_reinvite_CUSTOMER_G711U.pcap");
    assert_eq!(r.channels.len(), 2, "{r}");
    assert!(
        r.channels[1]
            .1
            .starts_with("204.101.5.68:15440 → 81.201.84.200:11464"),
        "{r}"
    );
    let frames = r.frames();
    let b: Vec<&FrameRepr> = frames
        .iter()
        .filter(|(t, _)| t == "B")
        .map(|(_, f)| f)
        .collect();
    assert_eq!(b.len(), 3, "{r}");
    assert!(matches!(b[0], FrameRepr::NonStandard(_, d) if d.len() == 37));
    assert!(matches!(b[1], FrameRepr::Ident(_, s) if s.len() == 20));
    let FrameRepr::Dis(dis) = b[2] else {
        panic!("{r}")
    };
    assert_eq!(dis.modulations, vec![Modulation::V27ter, Modulation::V29]);
    assert!(dis.receive && dis.v27ter_4800 && !dis.ecm);
    assert_eq!(tones(&r, "B"), vec![FaxTone::Ced]);
    assert_eq!(tones(&r, "A"), vec![FaxTone::Cng, FaxTone::Cng]);
    // The printed report spells the DIS out, in time order.
    let text = r.to_string();
    let dis_line = text.lines().find(|l| l.contains(" DIS ")).unwrap();
    assert!(dis_line.contains("modems V.27ter 4800/V.29"), "{dis_line}");
    let t: f64 = dis_line.split_whitespace().next().unwrap().parse().unwrap();
    assert!((7.3..7.7).contains(&t), "DIS at {t} s (spandsp: 7.46 s)");
}

#[test]
fn calling_side_of_the_real_capture_with_its_v29_tcf() {
    let r = real("asterisk_t38_two_reinvite_CARRIER_G711U.pcap");
    assert_eq!(r.channels.len(), 1);
    assert!(r.channels[0].1.contains("14 lost"), "{r}");
    let frames = r.frames();
    assert!(matches!(frames[0].1, FrameRepr::Ident(_, _)), "{r}");
    let FrameRepr::Dcs(dcs) = &frames[1].1 else {
        panic!("{r}")
    };
    assert_eq!(dcs.rate, Some(DataRate::V29_9600));
    // The V.29 9600 TCF after the DCS (spandsp: trained at 10.38 s).
    let segs = r.segments();
    let tcf = segs.first().expect("a modem segment");
    assert_eq!(
        (tcf.rate, tcf.trained, tcf.probed),
        (DataRate::V29_9600, true, false)
    );
    let SegmentKind::Tcf {
        longest_zero_run, ..
    } = tcf.kind
    else {
        panic!("{r}")
    };
    assert!(longest_zero_run >= 9600, "{r}");
    assert!(tcf.quality.snr_db > 20.0, "{r}");
    assert_eq!(tones(&r, "A"), vec![FaxTone::Cng, FaxTone::Cng]);
}

/// The frame lines of a `--log` trace or an analyze report: (direction, text), in order.
fn frame_lines(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let t: f64 = w.next()?.parse().ok()?;
            let dir = w.next()?;
            if dir != "->" && dir != "<-" {
                return None;
            }
            let rest = w.collect::<Vec<_>>().join(" ");
            let first = rest.split_whitespace().next()?.to_string();
            let is_frame = first.chars().all(|c| c.is_ascii_uppercase() || c == '-')
                && !["CNG", "CED", "DTMF", "V.21:", "ECM"].contains(&first.as_str())
                && !rest.contains("bit/s:");
            is_frame.then(|| (dir.to_string(), rest, t))
        })
        .collect()
}

/// A `sim:` call recorded with `--record` and analysed: the same frames in the same order as
/// the call's own `--log`, the TCF, and the page pel for pel — with ECM (the default: FCD
/// frames put together at PPS, MMR) and without (MR straight from the modem).
fn recorded_sim_call(ecm: bool) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let chart = vectors().join("ccitt-t24/pbm/itu1.pbm");
    let o = softfax(
        &[
            "t4",
            "encode",
            "--compression",
            "mh",
            chart.to_str().unwrap(),
            "p.tif",
        ],
        d,
    );
    assert!(o.status.success());
    let mut args = vec![
        "fax",
        "send",
        "--line",
        "sim:?snr=35&law=alaw",
        "--record",
        "call.wav",
        "--log",
        "call.log",
    ];
    if !ecm {
        args.push("--no-ecm");
    }
    args.push("p.tif");
    let o = softfax(&args, d);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut args = vec!["analyze", "call.wav", "--pages", "."];
    if ecm {
        args.extend(["--spectrogram", "spectrum.png"]);
    }
    let o = softfax(&args, d);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = String::from_utf8(o.stdout).unwrap();
    if ecm {
        // A PNG of the size the layout of the recording's two channels says.
        let input = input::load(&d.join("call.wav")).unwrap();
        let layout = analyze::spectrogram::Layout::of(&input.channels);
        let png = std::fs::read(d.join("spectrum.png")).unwrap();
        let info = png::Decoder::new(&png[..])
            .read_info()
            .unwrap()
            .info()
            .clone();
        assert_eq!((info.width, info.height), (layout.width, layout.height));
        assert_eq!(input.channels.len(), 2);
    }
    let log = std::fs::read_to_string(d.join("call.log")).unwrap();
    let (want, got) = (frame_lines(&log), frame_lines(&report));
    assert!(want.len() >= 7, "{log}");
    let strip = |v: &[(String, String, f64)]| {
        v.iter()
            .map(|(a, b, _)| (a.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&got), strip(&want), "report:\n{report}\nlog:\n{log}");
    for ((dir, text, tg), (_, _, tw)) in got.iter().zip(&want) {
        // Received frames: the log stamps them as they are decoded, as analyze does (the
        // line's 100 ms of delay aside). Sent ones: the log stamps them when queued (EOP
        // before the page), the recording has them when they went out.
        if dir == "<-" {
            assert!((tg - tw).abs() < 0.2, "{text}: {tg} vs {tw}");
        } else {
            assert!(*tg >= tw - 0.05, "{text}: {tg} vs {tw}");
        }
    }
    // TCF and page, at the rate of the DCS, and the page pel for pel.
    assert!(report.contains("V.17 14400 bit/s: trained"), "{report}");
    assert!(
        report.contains("TCF: ") && report.contains("good (≥ 1 s)"),
        "{report}"
    );
    assert_eq!(report.contains("ECM page 1:"), ecm, "{report}");
    let png = d.join("call-page-1.png");
    assert!(png.is_file(), "{report}");
    let r = analyze::analyze("call.wav", input::load(&d.join("call.wav")).unwrap());
    let pages = r.pages();
    assert_eq!(pages.len(), 1);
    let want = &itu_charts()[0].1;
    assert_eq!(
        (pages[0].page.width, pages[0].page.height),
        (want.width, want.height)
    );
    assert!(pages[0].page.data == want.data, "page pels differ");
    assert_eq!(pages[0].bad_rows, 0);
}

#[test]
fn a_recorded_sim_call_reads_as_its_own_log_and_its_ecm_page_comes_back() {
    recorded_sim_call(true);
}

#[test]
fn a_recorded_non_ecm_sim_call_reads_as_its_own_log_and_its_page_comes_back() {
    recorded_sim_call(false);
}

#[test]
fn wav_line_replays_a_recorded_sender_and_record_works_on_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Receive from the simulated sender, recording: the right channel is the sender.
    let o = softfax(
        &[
            "fax",
            "recv",
            "--line",
            "sim:",
            "--record",
            "sender.wav",
            "first.tif",
        ],
        d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Answer that recording again: the pages come back from the WAV alone.
    let o = softfax(
        &[
            "fax",
            "recv",
            "--line",
            "wav:sender.wav",
            "--record",
            "again.wav",
            "--log",
            "again.log",
            "again.tif",
        ],
        d,
    );
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(d.join("again.log")).unwrap_or_default()
    );
    let a = std::fs::read(d.join("first.tif")).unwrap();
    let b = std::fs::read(d.join("again.tif")).unwrap();
    assert_eq!(a, b, "the same pages from the replay");
    // --record on a wav: line: right = what the file played, left = what we sent.
    let right = |p: &str| -> Vec<i16> {
        let i = input::load(&d.join(p)).unwrap();
        i.channels[1].samples.clone()
    };
    let (orig, replay) = (right("sender.wav"), right("again.wav"));
    assert_eq!(
        &replay[..orig.len().min(replay.len())],
        &orig[..orig.len().min(replay.len())]
    );
    let left = &input::load(&d.join("again.wav")).unwrap().channels[0].samples;
    assert!(left.iter().any(|&s| s.abs() > 1000), "we answered");
    // …and on an exec: line (the far end echoes).
    let o = softfax(
        &[
            "fax", "recv", "--line", "exec:cat", "--record", "exec.wav", "x.tif",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1), "no fax on that line");
    let i = input::load(&d.join("exec.wav")).unwrap();
    assert_eq!(i.channels.len(), 2);
    assert!(
        i.channels[0].samples.len() >= 160_000,
        "{}",
        i.channels[0].samples.len()
    );
}

#[test]
fn garbage_truncation_and_wrong_names_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Random bytes as raw audio: a report, nothing in it.
    let mut x = 0x1234_5678u32;
    let noise: Vec<u8> = (0..80_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(d.join("noise.raw"), &noise).unwrap();
    let o = softfax(&["analyze", "noise.raw"], d);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains(" DIS ") && !out.contains("page 1"), "{out}");
    // The same bytes called .wav or .pcap, or with no known name: exit 2, a clear message.
    for (name, want) in [
        ("noise.wav", "not a WAV file"),
        ("noise.pcap", "not a pcap"),
        ("noise.bin", "cannot tell the format"),
    ] {
        std::fs::write(d.join(name), &noise).unwrap();
        let o = softfax(&["analyze", name], d);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
    let o = softfax(&["analyze", "missing.wav"], d);
    assert_eq!(o.status.code(), Some(2));
    // Truncated captures and WAVs: what is there is analysed.
    let cap = std::fs::read(
        vectors().join("real-fax-audio/asterisk_t38_two_reinvite_CUSTOMER_G711U.pcap"),
    )
    .unwrap();
    for cut in [0, 3, 23, 24, 40, 1000, 90_001, cap.len() - 1] {
        match input::from_bytes("cut.pcap", "pcap", &cap[..cut]) {
            Ok(i) => {
                let r = analyze::analyze("cut.pcap", i);
                let _ = r.to_string();
            }
            Err(e) => assert!(e.to_string().starts_with("cut.pcap: "), "{e}"),
        }
    }
    let i = input::from_bytes("cut.pcap", "pcap", &cap[..90_001]).unwrap();
    assert!(
        i.notes.iter().any(|n| n.contains("truncated")),
        "{:?}",
        i.notes
    );
    // Random bytes after a valid pcap header: no stream, a note, no panic.
    let mut junk = cap[..24].to_vec();
    junk.extend_from_slice(&noise[..5000]);
    let i = input::from_bytes("junk.pcap", "pcap", &junk).unwrap();
    let _ = analyze::analyze("junk.pcap", i).to_string();
}
