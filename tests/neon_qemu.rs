//! The aarch64 build: softfax-dsp cross-compiled for aarch64-unknown-linux-gnu and its whole
//! unit-test suite (every modem, codec and the SIMD kernels, which there run on NEON and are
//! held to the scalar reference) run under qemu-aarch64.
//!
//! Needs the rustup target `aarch64-unknown-linux-gnu`, Debian's `gcc-aarch64-linux-gnu`
//! (linker, with `libc6-dev-arm64-cross`) and `qemu-user`; skips with a printed reason
//! without them, except under `CI=true` (`.ci/run` installs them).

mod common;

use std::process::Command;

fn have_target() -> bool {
    // rustc knows where the target's std lives; its absence means the target is not installed.
    let out = Command::new("rustc")
        .args([
            "--print",
            "target-libdir",
            "--target",
            "aarch64-unknown-linux-gnu",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
            std::fs::read_dir(&dir)
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
                })
                .unwrap_or(false)
        }
        _ => false,
    }
}

#[test]
fn dsp_unit_tests_pass_on_aarch64_with_neon() {
    if !common::require_peer("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
        || !common::require_peer("qemu-aarch64", "qemu-user")
    {
        return;
    }
    if !have_target() {
        common::unavailable(
            "the rust target aarch64-unknown-linux-gnu",
            "not installed (rustup target add aarch64-unknown-linux-gnu)",
        );
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "--release",
            "-p",
            "softfax-dsp",
            "--lib",
            "--target",
            "aarch64-unknown-linux-gnu",
            "--target-dir",
            "target/aarch64",
        ])
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "aarch64-linux-gnu-gcc",
        )
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER",
            "qemu-aarch64 -L /usr/aarch64-linux-gnu",
        )
        .output()
        .expect("cannot run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "aarch64 test run failed:\n{stdout}\n{stderr}"
    );
    // The run must really have tested the NEON kernels, not filtered them away.
    assert!(
        stdout.contains("simd::tests::neon_is_chosen_on_aarch64 ... ok"),
        "the NEON check did not run:\n{stdout}"
    );
    eprintln!(
        "{}",
        stdout
            .lines()
            .filter(|l| l.starts_with("test result"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
