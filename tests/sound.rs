//! `sound:` lines. Without the `soundcard` feature they say how to get it (exit 2). With it
//! (needs ALSA's headers: libasound2-dev, pkg-config) softfax is built into a separate
//! target directory with the light `soundtest` profile (Cargo.toml), the sound module's
//! tests run there — resampler round trips, the duplex
//! buffer, a fax call through a simulated card and cable — and a real cpal device is opened:
//! ALSA's null plugin through an ALSA configuration made here (ALSA_CONFIG_PATH), since a
//! container has no sound card. Finally `softfax loopback --line sound:` runs a call on it.

mod common;

use std::path::Path;
use std::process::Command;

use common::unavailable;

#[test]
fn sound_lines_without_the_feature_say_how_to_enable_it() {
    if cfg!(feature = "soundcard") {
        eprintln!("SKIP: built with --features soundcard");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chart = common::vectors().join("ccitt-t24/pbm/itu1.pbm");
    let softfax = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_softfax"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    assert!(
        softfax(&["t4", "encode", chart.to_str().unwrap(), "x.tif"])
            .status
            .success()
    );
    for args in [
        vec!["loopback", "--line", "sound:"],
        vec!["loopback", "--line", "sound:hw:1"],
        vec!["fax", "send", "--line", "sound:", "x.tif"],
        vec!["fax", "recv", "--line", "sound:default", "y.tif"],
    ] {
        let o = softfax(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("--features soundcard") && err.contains("libasound2-dev"),
            "{err}"
        );
    }
}

fn alsa_headers() -> bool {
    let ok = Command::new("pkg-config")
        .args(["--exists", "alsa"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        unavailable(
            "ALSA headers",
            "`pkg-config alsa` fails (apt-get install libasound2-dev pkg-config)",
        );
    }
    ok
}

#[test]
fn builds_with_the_soundcard_feature_and_runs_on_alsa_null() {
    if !alsa_headers() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("soundcard");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("asound.conf");
    // Only what the test needs: the default device is ALSA's null plugin, behind `plug`
    // so that any rate and format is accepted.
    std::fs::write(
        &conf,
        "pcm.!default {\n    type plug\n    slave.pcm \"nullpcm\"\n}\npcm.nullpcm {\n    type null\n}\n",
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(&cargo)
        .args([
            "test",
            "--profile",
            "soundtest",
            "-p",
            "softfax-drivers",
            "--features",
            "soundcard",
            "--lib",
        ])
        .arg("--target-dir")
        .arg(&target)
        .args(["sound::", "--", "--nocapture"])
        .env("ALSA_CONFIG_PATH", &conf)
        .env("SOFTFAX_TEST_SOUND_DEVICE", "default")
        .current_dir(root)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    for t in [
        "round_trips_8k_to_device_rates_and_back ... ok",
        "a_fax_call_through_a_simulated_card_and_cable ... ok",
        "exchanges_blocks_through_a_real_device ... ok",
    ] {
        assert!(out.contains(t), "{t} missing:\n{out}");
    }
    assert!(err.contains("opened default / default"), "{err}");

    // The binary with the feature: a loopback call on the null device, which brings back
    // only silence — so the call runs and fails with "no answer", through cpal all the way.
    let o = Command::new(&cargo)
        .args([
            "build",
            "--profile",
            "soundtest",
            "--features",
            "soundcard",
            "--bin",
            "softfax",
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(target.join("soundtest").join("softfax"))
        .args(["loopback", "--line", "sound:"])
        .env("ALSA_CONFIG_PATH", &conf)
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{json}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        json.contains("\"status\":\"failed\"") && json.contains("\"pages\":0"),
        "{json}"
    );
}
