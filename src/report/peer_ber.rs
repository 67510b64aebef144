//! spandsp's BER curves for the report's BER figures: spandsp's own transmitter and receiver
//! (the test peer `tests/peers/spandsp_modem.c`, libspandsp 0.0.6) through the same line as
//! softfax's sweep — softfax's line simulator with white Gaussian noise at the point's SNR
//! and seed — so the two curves on a figure differ only by the modems. The peer is
//! `spandsp_modem` on the PATH, or built from the source tree with `cc` and `pkg-config`
//! when libspandsp-dev is installed; without it the report says so and draws softfax alone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use softfax_dsp::linesim::{LineParams, LineSim};

/// The peer program: on the PATH, else built into `dir` from `tests/peers/spandsp_modem.c`.
/// `Err` says why there is none.
pub fn find(dir: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("spandsp_modem"))
            .find(|p| p.is_file())
    }) {
        return Ok(p);
    }
    let rel = Path::new("tests/peers/spandsp_modem.c");
    let src = [
        rel.to_path_buf(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or("tests/peers/spandsp_modem.c is not in this tree")?;
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "spandsp"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .ok_or("pkg-config finds no spandsp (libspandsp-dev)")?;
    let flags = String::from_utf8_lossy(&flags.stdout).to_string();
    let bin = dir.join("spandsp_modem");
    let o = Command::new("cc")
        .args(["-O2", "-std=c11", "-o"])
        .arg(&bin)
        .arg(&src)
        .args(flags.split_whitespace())
        .args(["-ltiff", "-lm"])
        .output()
        .map_err(|e| format!("cc: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(format!(
            "cc could not build spandsp_modem: {}",
            err.lines().next().unwrap_or("")
        ));
    }
    Ok(bin)
}

/// One point: spandsp's transmitter sends `bits` PRBS bits at −13 dBm0, the line adds the
/// noise of `params`, spandsp's receiver counts the errors. `None` when the peer did not
/// run; `Some((ber, trained))` otherwise (BER 1 when it never trained or never found the
/// PRBS).
pub fn point(
    peer: &Path,
    modem: &str,
    rate: u32,
    bits: u64,
    params: LineParams,
) -> Option<(f64, bool)> {
    let n = bits.to_string();
    let rate = rate.to_string();
    let tx = Command::new(peer)
        .args(["tx", modem, &rate, "--prbs", &n])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let samples: Vec<i16> = tx
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut line = LineSim::new(params);
    let mut heard = Vec::with_capacity(samples.len() + 400);
    let mut out = Vec::with_capacity(200);
    for block in samples.chunks(160) {
        out.clear();
        line.process(block, &mut out);
        heard.extend_from_slice(&out);
    }
    let bytes: Vec<u8> = heard.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut rx = Command::new(peer)
        .args(["rx", modem, &rate, "--prbs", &n])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = rx.stdin.take()?;
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let o = rx.wait_with_output().ok()?;
    let _ = writer.join();
    let report = String::from_utf8_lossy(&o.stderr);
    let line = report.lines().find(|l| l.starts_with("spandsp: modem="))?;
    Some(parse(line))
}

/// (BER, trained) from the receiver's report line.
fn parse(line: &str) -> (f64, bool) {
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
    };
    let trained = field("trained") == Some("1");
    let synced = field("sync") == Some("1");
    let num = |k: &str| field(k).and_then(|v| v.parse::<f64>().ok());
    match (
        trained && synced,
        num("bits"),
        num("errors"),
        num("missing"),
    ) {
        (true, Some(b), Some(e), m) if b > 0.0 => (((e + m.unwrap_or(0.0)) / b).min(1.0), true),
        _ => (1.0, trained),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_receivers_report_line_is_read() {
        let l = "spandsp: modem=v29 rate=9600 trained=1 training=ok snr=28.0 received_bits=20304 \
                 sync=1 bits=20000 errors=20 rx_offset=0 prbs_offset=0 missing=0 extra=304";
        assert_eq!(parse(l), (0.001, true));
        let l = "spandsp: modem=v29 rate=9600 trained=0 training=failed sync=0 bits=20000 errors=0";
        assert_eq!(parse(l), (1.0, false));
    }
}
