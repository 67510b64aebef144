//! The report's speed part: the ratios `benches/speed.sh` prints (softfax's time over the
//! peer's for the same work, one line each), run as they are and quoted.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Report;

/// `benches/speed.sh` under the current folder or the source tree softfax was built from.
pub fn script() -> Option<PathBuf> {
    let rel = Path::new("benches/speed.sh");
    [
        rel.to_path_buf(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// The lines of the script's output that carry a ratio (`softfax/…` or `ratio`).
pub fn ratio_lines(out: &str) -> Vec<&str> {
    out.lines()
        .map(str::trim)
        .filter(|l| l.contains("ratio") || l.contains("softfax/"))
        .collect()
}

/// Writes the speed section; `run` false (`--quick`) only says how to get it.
pub fn section(rep: &mut Report, run: bool) {
    rep.section("Speed against the peers");
    let Some(script) = script() else {
        rep.text("Not measured: `benches/speed.sh` is not in this tree.");
        return;
    };
    if !run {
        rep.text(&format!(
            "Not run with `--quick`: the full report runs `{}` and quotes its ratios.",
            script.display()
        ));
        return;
    }
    let o = match Command::new("sh").arg(&script).output() {
        Ok(o) => o,
        Err(e) => {
            rep.text(&format!("`{}` could not run: {e}", script.display()));
            return;
        }
    };
    let out = String::from_utf8_lossy(&o.stdout);
    let lines = ratio_lines(&out);
    if !o.status.success() || lines.is_empty() {
        let err = String::from_utf8_lossy(&o.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        rep.text(&format!(
            "`{}` ended with {} and printed no ratio. Its last words:\n\n```\n{}\n```",
            script.display(),
            o.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
        return;
    }
    rep.text(&format!(
        "`{}` (softfax's time over the peer's for the same work; below 1 softfax is \
         faster):\n\n```\n{}\n```",
        script.display(),
        lines.join("\n")
    ));
}
