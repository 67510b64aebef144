//! The peers the tests compare softfax with (libtiff, netpbm, spandsp, libpri, Postfix …):
//! where to find them, how to build the C ones in this folder, and the one rule for a peer
//! that is missing. Every test file — the root crate's, `softfax-dsp`'s, `softfax-drivers'` —
//! goes through [`unavailable`], so the rule is the same everywhere:
//!
//! * under CI (`CI=true` or `CI=1`, as CI services set it) a missing peer is a failure:
//!   the test panics with the reason;
//! * elsewhere the test prints `SKIP: <peer>: <reason>` on stderr and passes.
//!
//! Test-only (`publish = false`); nothing in softfax links it.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod libpri;

/// True under CI, where a missing peer fails the test instead of skipping it: the `CI`
/// variable is `true` (any case) or `1`.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The peer `peer` cannot run, because `why` (say how to install it). Under CI this panics;
/// elsewhere it prints `SKIP: …` and returns, and the caller returns without testing.
#[track_caller]
pub fn unavailable(peer: &str, why: impl Display) {
    if under_ci() {
        panic!("peer {peer} unavailable under CI: {why} (.ci/run installs every peer)");
    }
    eprintln!("SKIP: {peer}: {why}; skipping this test");
}

/// The program `tool` on PATH (or in /usr/sbin, where Debian puts Postfix), if any.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// Is the program `tool` (Debian package `package`) installed? When not, [`unavailable`]
/// decides: false (skip) outside CI, a panic under it.
#[track_caller]
pub fn require_peer(tool: &str, package: &str) -> bool {
    let found = find_tool(tool).is_some();
    if !found {
        unavailable(
            tool,
            format_args!("not installed (apt-get install {package})"),
        );
    }
    found
}

/// A C peer from this folder, compiled once per test run into `out_dir` (the test's
/// `CARGO_TARGET_TMPDIR`) and rebuilt when its source is newer.
pub struct CPeer<'a> {
    /// The source's stem in tests/peers/ (`spandsp_fax` for `spandsp_fax.c`); also the
    /// binary's name.
    pub name: &'a str,
    /// Linker flags after the source (`-lpri`, pkg-config's output …).
    pub libs: Vec<String>,
    /// What to install when the compiler cannot find the library's header or library.
    pub package: &'a str,
    /// Words in the compiler's complaint that mean the library is missing (`libpri.h`,
    /// `-lpri`), as opposed to a bug in the source.
    pub missing_if: &'a [&'a str],
}

impl CPeer<'_> {
    /// Build the peer: its path, or why it cannot be built (no compiler, no library) for
    /// the caller to pass to [`unavailable`]. A source that does not compile panics.
    pub fn build(&self, out_dir: &Path) -> Result<PathBuf, String> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("{}.c", self.name));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        if Command::new(&cc)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            return Err(format!("C compiler `{cc}` not found (apt-get install gcc)"));
        }
        std::fs::create_dir_all(out_dir).expect("create the test's tmpdir");
        let bin = out_dir.join(self.name);
        if is_fresh(&bin, &src) {
            return Ok(bin);
        }
        // Build under a private name and rename, so that test binaries running at the same
        // time never see a half-written peer.
        let tmp = out_dir.join(format!("{}.{}.tmp", self.name, std::process::id()));
        let out = Command::new(&cc)
            .args(["-O2", "-std=gnu11", "-Wall", "-o"])
            .arg(&tmp)
            .arg(&src)
            .args(&self.libs)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
        if !out.status.success() {
            let _ = std::fs::remove_file(&tmp);
            let err = String::from_utf8_lossy(&out.stderr);
            if let Some(line) = err
                .lines()
                .find(|l| self.missing_if.iter().any(|w| l.contains(w)))
            {
                return Err(format!(
                    "headers or library not found (apt-get install {}): {line}",
                    self.package
                ));
            }
            panic!("compiling {} failed:\n{err}", src.display());
        }
        std::fs::rename(&tmp, &bin).expect("move the built peer into place");
        Ok(bin)
    }
}

/// `pkg-config --cflags --libs PKG`, or `fallback` when pkg-config does not know it.
pub fn pkg_config(pkg: &str, fallback: &[&str]) -> Vec<String> {
    Command::new("pkg-config")
        .args(["--cflags", "--libs", pkg])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| fallback.iter().map(|s| s.to_string()).collect())
}

fn is_fresh(bin: &Path, src: &Path) -> bool {
    let (Ok(b), Ok(s)) = (std::fs::metadata(bin), std::fs::metadata(src)) else {
        return false;
    };
    match (b.modified(), s.modified()) {
        (Ok(b), Ok(s)) => b >= s,
        _ => false,
    }
}
