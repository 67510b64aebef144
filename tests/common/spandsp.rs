//! The spandsp modem peer (tests/peers/spandsp_modem.c): build it once per test run and
//! drive its `tx` / `rx` modes. Uses only std, so it can be a submodule of
//! tests/common/mod.rs (`mod spandsp;`) or be included directly by a test file
//! (`#[path = "common/spandsp.rs"] mod spandsp;`).
//!
//! Audio is 8 kHz mono i16; data bytes go on the line least significant bit first. See
//! tests/peers/README.md for the command-line contract, the PRBS and how bits line up.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Every modem and rate the peer (and softfax) runs: (MODEM argument, bit rate).
pub const SPANDSP_MODEMS: &[(&str, u32)] = &[
    ("v21", 300),
    ("v27ter", 2400),
    ("v27ter", 4800),
    ("v29", 7200),
    ("v29", 9600),
    ("v17", 7200),
    ("v17", 9600),
    ("v17", 12000),
    ("v17", 14400),
];

/// Build a spandsp peer (tests/peers/NAME.c); Err(reason) when cc or libspandsp-dev is
/// missing.
fn compile(name: &str) -> Result<PathBuf, String> {
    let mut libs = softfax_peers::pkg_config("spandsp", &["-lspandsp"]);
    libs.extend(["-ltiff".to_string(), "-lm".to_string()]);
    softfax_peers::CPeer {
        name,
        libs,
        package: "libspandsp-dev",
        missing_if: &["spandsp.h", "-lspandsp", "tiffio.h"],
    }
    .build(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// Compile tests/peers/spandsp_modem.c (once per test run, into CARGO_TARGET_TMPDIR) and
/// return its path. None, with a printed `SKIP: …` reason, when cc or libspandsp-dev is
/// missing — except under CI, where that panics.
pub fn build_spandsp_modem() -> Option<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    available(BIN.get_or_init(|| compile("spandsp_modem")))
}

/// Compile tests/peers/spandsp_fax.c (spandsp's fax terminal on an exec: line), like
/// [`build_spandsp_modem`].
#[allow(dead_code)]
pub fn build_spandsp_fax() -> Option<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    available(BIN.get_or_init(|| compile("spandsp_fax")))
}

fn available(built: &Result<PathBuf, String>) -> Option<PathBuf> {
    match built {
        Ok(bin) => Some(bin.clone()),
        Err(reason) => {
            softfax_peers::unavailable("spandsp", reason);
            None
        }
    }
}

fn peer() -> PathBuf {
    build_spandsp_modem().expect("spandsp peer unavailable: call build_spandsp_modem() first")
}

/// Run the peer with `args`, feeding `stdin`; panic on failure; return (stdout, stderr).
fn run_peer(args: &[String], stdin: Vec<u8>) -> (Vec<u8>, String) {
    let bin = peer();
    let mut child = Command::new(&bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let mut input = child.stdin.take().unwrap();
    // Feed stdin from a thread so a large output cannot deadlock against a large input.
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("wait for the spandsp peer");
    feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "spandsp_modem {args:?} failed ({}): {stderr}",
        out.status
    );
    (out.stdout, stderr)
}

/// i16 samples -> s16le bytes.
pub fn samples_to_s16le(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// s16le bytes -> i16 samples (an odd trailing byte is ignored).
pub fn s16le_to_samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Bytes -> bits (one 0/1 per element), each byte least significant bit first.
pub fn bytes_to_bits_lsb(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|&b| (0..8).map(move |i| (b >> i) & 1))
        .collect()
}

/// Bits (0/1) -> bytes, least significant bit first; a partial last byte is zero-padded.
pub fn bits_to_bytes_lsb(bits: &[u8]) -> Vec<u8> {
    bits.chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |a, (i, &b)| a | ((b & 1) << i))
        })
        .collect()
}

/// First bit offset at which `needle` occurs in `haystack` (both one 0/1 per element).
pub fn find_bits(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The peer's PRBS: 2^23−1, x^23 + x^18 + 1 (not inverted), Fibonacci form, 23-bit
/// register seeded to all ones, emitting the new bit each step (b[n] = b[n−23] ^ b[n−18],
/// b[−23..−1] = 1). The first `n` bits, one 0/1 per element.
pub fn prbs23(n: usize) -> Vec<u8> {
    let mut reg: u32 = 0x7F_FFFF;
    (0..n)
        .map(|_| {
            let bit = ((reg >> 22) ^ (reg >> 17)) & 1;
            reg = ((reg << 1) | bit) & 0x7F_FFFF;
            bit as u8
        })
        .collect()
}

/// Options of `spandsp_modem tx` beyond MODEM and RATE.
#[derive(Clone, Debug, Default)]
pub struct TxOptions {
    /// Transmit level in dBm0 (peer default −13).
    pub level: Option<f32>,
    /// V.17 only: the short training sequence.
    pub short_train: bool,
    /// Send the TEP tone (V.27ter/V.29/V.17).
    pub tep: bool,
    /// Silence before / after the signal in ms (peer defaults 100 / 250).
    pub lead_ms: Option<u32>,
    pub tail_ms: Option<u32>,
}

impl TxOptions {
    fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(l) = self.level {
            a.extend(["--level".to_string(), l.to_string()]);
        }
        if self.short_train {
            a.push("--short-train".to_string());
        }
        if self.tep {
            a.push("--tep".to_string());
        }
        if let Some(ms) = self.lead_ms {
            a.extend(["--lead".to_string(), ms.to_string()]);
        }
        if let Some(ms) = self.tail_ms {
            a.extend(["--tail".to_string(), ms.to_string()]);
        }
        a
    }
}

fn base_args(mode: &str, modem: &str, rate: u32) -> Vec<String> {
    vec![mode.to_string(), modem.to_string(), rate.to_string()]
}

/// spandsp transmits `input` (bytes, LSB first) with default options: silence, training,
/// the data, the modem's normal ending, silence.
pub fn spandsp_tx(modem: &str, rate: u32, input: &[u8]) -> Vec<i16> {
    spandsp_tx_opts(modem, rate, input, &TxOptions::default())
}

/// As `spandsp_tx`, with options.
pub fn spandsp_tx_opts(modem: &str, rate: u32, input: &[u8], opts: &TxOptions) -> Vec<i16> {
    let mut args = base_args("tx", modem, rate);
    args.extend(opts.args());
    s16le_to_samples(&run_peer(&args, input.to_vec()).0)
}

/// spandsp transmits the first `nbits` bits of `prbs23` with default options.
pub fn spandsp_tx_prbs(modem: &str, rate: u32, nbits: u64) -> Vec<i16> {
    spandsp_tx_prbs_opts(modem, rate, nbits, &TxOptions::default())
}

/// As `spandsp_tx_prbs`, with options.
pub fn spandsp_tx_prbs_opts(modem: &str, rate: u32, nbits: u64, opts: &TxOptions) -> Vec<i16> {
    let mut args = base_args("tx", modem, rate);
    args.extend(["--prbs".to_string(), nbits.to_string()]);
    args.extend(opts.args());
    s16le_to_samples(&run_peer(&args, Vec::new()).0)
}

/// What spandsp's receiver made of a signal.
#[derive(Clone, Debug, Default)]
pub struct SpandspRx {
    /// Received data bits, one 0/1 per element (empty in PRBS mode).
    pub bits: Vec<u8>,
    /// The same bits packed LSB first; the last byte zero-padded (empty in PRBS mode).
    pub bytes: Vec<u8>,
    /// Reached data mode: QAM modems TRAINING_SUCCEEDED, V.21 CARRIER_UP.
    pub trained: bool,
    /// "ok", "failed" (TRAINING_FAILED seen, never succeeded) or "none".
    pub training: String,
    /// PRBS mode: bit errors counted after synchronising (all compared bits without sync).
    pub errors: Option<u64>,
    /// PRBS mode: PRBS bits compared after sync.
    pub prbs_bits: Option<u64>,
    /// PRBS mode: synchronised to the PRBS.
    pub synced: bool,
    /// Sample indices of the first CARRIER_UP, the first TRAINING_SUCCEEDED (V.21: the
    /// first CARRIER_UP) and the last CARRIER_DOWN.
    pub carrier_up_at: Option<u64>,
    pub trained_at: Option<u64>,
    pub carrier_down_at: Option<u64>,
    /// QAM modems: SNR in dB from the error vectors of data-mode symbols.
    pub snr_db: Option<f64>,
    /// Every key=value of the report line (e.g. rx_offset, prbs_offset, missing, extra).
    pub report: HashMap<String, String>,
    /// The peer's whole stderr (events and the report line).
    pub stderr: String,
}

impl SpandspRx {
    /// A report field as a number.
    pub fn field(&self, key: &str) -> Option<i64> {
        self.report.get(key).and_then(|v| v.parse().ok())
    }
}

fn parse_rx(stdout: Vec<u8>, stderr: String, prbs: bool) -> SpandspRx {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("spandsp: "))
        .unwrap_or_else(|| panic!("no report line from the spandsp peer: {stderr}"));
    let report: HashMap<String, String> = line["spandsp: ".len()..]
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let num = |k: &str| report.get(k).and_then(|v| v.parse::<i64>().ok());
    let at = |k: &str| num(k).filter(|&v| v >= 0).map(|v| v as u64);
    let mut rx = SpandspRx {
        trained: num("trained") == Some(1),
        training: report.get("training").cloned().unwrap_or_default(),
        carrier_up_at: at("carrier_up_at"),
        trained_at: at("trained_at"),
        carrier_down_at: at("carrier_down_at"),
        snr_db: report.get("snr").and_then(|v| match v.as_str() {
            "inf" => Some(f64::INFINITY),
            v => v.parse().ok(),
        }),
        ..Default::default()
    };
    if prbs {
        rx.synced = num("sync") == Some(1);
        rx.errors = num("errors").map(|v| v as u64);
        rx.prbs_bits = num("bits").map(|v| v as u64);
    } else {
        let n = num("bits").expect("bits= in the report") as usize;
        let mut bits = bytes_to_bits_lsb(&stdout);
        assert!(bits.len() >= n, "peer wrote fewer bits than it reported");
        bits.truncate(n);
        rx.bits = bits;
        rx.bytes = stdout;
    }
    rx.report = report;
    rx.stderr = stderr;
    rx
}

/// spandsp's receiver over `samples`: the received bits / bytes and its report.
pub fn spandsp_rx(modem: &str, rate: u32, samples: &[i16]) -> SpandspRx {
    let (out, err) = run_peer(&base_args("rx", modem, rate), samples_to_s16le(samples));
    parse_rx(out, err, false)
}

/// spandsp's receiver over `samples`, checking the first `nbits` bits of `prbs23`.
pub fn spandsp_rx_prbs(modem: &str, rate: u32, samples: &[i16], nbits: u64) -> SpandspRx {
    let mut args = base_args("rx", modem, rate);
    args.extend(["--prbs".to_string(), nbits.to_string()]);
    let (out, err) = run_peer(&args, samples_to_s16le(samples));
    parse_rx(out, err, true)
}

/// The report line spandsp's fax terminal (tests/peers/spandsp_fax.c) prints last on
/// stderr: what spandsp itself says the call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxReport {
    /// spandsp's T.30 completion code (`T30_ERR_OK` = 0).
    pub result: i32,
    /// Pages sent (calling) or received (answering).
    pub pages: u32,
    pub bit_rate: u32,
    pub ecm: bool,
    /// `mh`, `mr` or `mmr`.
    pub compression: String,
    /// Pels and rows of the last page.
    pub width: u32,
    pub length: u32,
    pub bad_rows: u32,
    /// The far end's TSI/CSI as spandsp decoded it, spaces and all.
    pub remote_ident: String,
}

impl FaxReport {
    /// The last `spandsp-fax: result=…` line in `stderr` (the peer's, or a log holding it).
    pub fn parse(stderr: &str) -> Option<FaxReport> {
        let line = stderr
            .lines()
            .rev()
            .find_map(|l| l.split_once("spandsp-fax: result="))?
            .1;
        let fields: HashMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let num = |k: &str| fields.get(k)?.parse::<u32>().ok();
        Some(FaxReport {
            result: line.split_whitespace().next()?.parse().ok()?,
            pages: num("pages")?,
            bit_rate: num("bit_rate")?,
            ecm: num("ecm")? != 0,
            compression: fields.get("compression")?.to_string(),
            width: num("width")?,
            length: num("length")?,
            bad_rows: num("bad_rows")?,
            remote_ident: line
                .split_once("remote_ident='")
                .and_then(|(_, r)| r.rsplit_once('\''))
                .map_or_else(String::new, |(id, _)| id.to_string()),
        })
    }
}
