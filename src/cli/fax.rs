//! `softfax fax send|recv` and `softfax loopback` (`docs/contracts/cli.md`): one fax call over a
//! line, the result as one JSON object on stdout (exit 0 on success, 1 on a failed call, 2 on
//! bad usage).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use softfax_drivers::Line;
use softfax_drivers::impair::{ImpairSpec, wrap};
use softfax_drivers::sim::{FarEnd, test_page};
use softfax_drivers::wav::WavTap;
use softfax_dsp::fax::Terminal;
use softfax_dsp::t30::{Coding, Config, DataRate, Hangup};
use softfax_dsp::tiff;

use super::pages::load_pages;
use crate::call::{CallOptions, CallReport, place_call};

#[derive(Debug, Subcommand)]
pub enum FaxCommand {
    /// Place one fax call and send the pages of the TIFF files.
    Send {
        #[command(flatten)]
        line: LineArgs,
        #[arg(long)]
        dial: Option<String>,
        #[command(flatten)]
        ecm: EcmArgs,
        #[arg(long)]
        max_rate: Option<u32>,
        /// At 9600 and 7200 bit/s use V.17 rather than V.29 when the receiver offers both.
        #[arg(long)]
        prefer_v17: bool,
        #[arg(long)]
        ident: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Answer one fax call and write the pages received.
    Recv {
        #[command(flatten)]
        line: LineArgs,
        #[command(flatten)]
        ecm: EcmArgs,
        #[arg(long)]
        ident: Option<String>,
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct LineArgs {
    /// Line URI: sim:…, exec:COMMAND, dahdi:N, sound:DEVICE, wav:FILE, stdio:.
    #[arg(long)]
    pub line: String,
    /// Record the call as stereo 8 kHz WAV (left sent, right received).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write a readable protocol trace.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Put the line simulator between softfax and the line, both directions
    /// (noise=-46,drift_ppm=50,offset_hz=7,echo=-20@20ms,slip_every_s=10,bandpass,…).
    #[arg(long, value_name = "SPEC")]
    pub impair: Option<ImpairSpec>,
}

#[derive(Debug, Args)]
pub struct EcmArgs {
    /// Offer and use error correction mode (T.30 Annex A; the default).
    #[arg(long, overrides_with = "no_ecm")]
    pub ecm: bool,
    /// Do not use ECM (nor MMR, which needs it).
    #[arg(long)]
    pub no_ecm: bool,
}

#[derive(Debug, Args)]
pub struct LoopbackArgs {
    #[arg(long)]
    pub line: Option<String>,
    /// Impairments between the calling terminal and the line (as for `fax send`).
    #[arg(long, value_name = "SPEC")]
    pub impair: Option<ImpairSpec>,
}

/// Run one `fax` subcommand.
pub fn run(cmd: FaxCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FaxCommand::Send {
            line,
            ecm,
            max_rate,
            prefer_v17,
            ident,
            files,
            dial,
        } => send(
            &line,
            dial.as_deref(),
            max_rate,
            ident.as_deref(),
            &files,
            SendOptions {
                ecm: !ecm.no_ecm,
                prefer_v17,
            },
        ),
        FaxCommand::Recv {
            line,
            ecm,
            ident,
            out,
        } => recv(&line, ident.as_deref(), &out, !ecm.no_ecm),
    }
}

/// The sender's T.30 choices.
#[derive(Debug, Clone, Copy)]
pub struct SendOptions {
    /// Use ECM when the receiver offers it.
    pub ecm: bool,
    /// V.17 rather than V.29 at 9600 and 7200 bit/s ([`Config::prefer_v17`]).
    pub prefer_v17: bool,
}

/// `fax send [--dial NUMBER]`: lines with call control (DAHDI FXO) dial first.
pub fn send(
    line: &LineArgs,
    dial: Option<&str>,
    max_rate: Option<u32>,
    ident: Option<&str>,
    files: &[PathBuf],
    opts: SendOptions,
) -> anyhow::Result<ExitCode> {
    let mut pages = Vec::new();
    for f in files {
        pages.extend(load_pages(f, softfax_dsp::image::Resolution::FINE)?);
    }
    anyhow::ensure!(!pages.is_empty(), "no pages to send");
    let config = Config {
        ecm: opts.ecm,
        prefer_v17: opts.prefer_v17,
        ..config(max_rate, ident)?
    };
    let term = Terminal::caller(config, pages);
    let placement = match dial {
        Some(n) => Placement::Dial(n),
        None => Placement::Connected,
    };
    run_call(line, term, FarEnd::Receiver, None, placement)
}

/// `loopback`: a whole call between two built-in terminals — over the line simulator when
/// no line is given (or a `sim:` one); the result JSON as `fax send` prints it.
pub fn loopback(args: &LoopbackArgs) -> anyhow::Result<ExitCode> {
    let uri = args.line.as_deref().unwrap_or("sim:");
    // Through a sound card: the far end is a built-in terminal on the card's other channel.
    let uri = match uri.strip_prefix("sound:") {
        Some(device) => format!("sound-loopback:{device}"),
        None if uri.starts_with("sim:") => uri.to_string(),
        None => {
            eprintln!("softfax: 'loopback --line {uri}': loopback takes sim: or sound: lines");
            return Ok(ExitCode::from(2));
        }
    };
    let args = LineArgs {
        line: uri,
        record: None,
        log: None,
        impair: args.impair,
    };
    let term = Terminal::caller(config(None, Some("softfax loopback"))?, vec![test_page()]);
    run_call(&args, term, FarEnd::Receiver, None, Placement::Connected)
}

/// `fax recv`.
pub fn recv(
    line: &LineArgs,
    ident: Option<&str>,
    out: &Path,
    ecm: bool,
) -> anyhow::Result<ExitCode> {
    let config = Config {
        ecm,
        ..config(None, ident)?
    };
    let term = Terminal::answerer(config);
    run_call(
        line,
        term,
        FarEnd::Sender(vec![test_page()]),
        Some(out),
        Placement::Answer,
    )
}

fn config(max_rate: Option<u32>, ident: Option<&str>) -> anyhow::Result<Config> {
    let mut c = Config {
        ident: ident.unwrap_or("softfax").to_string(),
        ..Config::default()
    };
    if let Some(bps) = max_rate {
        let mut r = Some(DataRate::V17_14400);
        while let Some(rate) = r {
            if rate.bps <= bps {
                break;
            }
            r = rate.fallback();
        }
        c.max_rate = r.with_context(|| format!("--max-rate {bps}: the lowest fax rate is 2400"))?;
    }
    Ok(c)
}

/// How the call is set up before the fax starts.
pub enum Placement<'a> {
    /// The line is connected from the start (sim:, exec:, wav:).
    Connected,
    /// `--dial NUMBER` (lines with call control dial it; others ignore it).
    Dial(&'a str),
    /// Wait for an incoming call and answer it (lines with call control).
    Answer,
}

/// One call: place or answer it, then run the fax terminal over the line.
pub fn run_call(
    args: &LineArgs,
    mut term: Terminal,
    far: FarEnd,
    out: Option<&Path>,
    placement: Placement,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let line =
        softfax_drivers::open(&args.line, far).with_context(|| format!("--line {}", args.line))?;
    let line = wrap(line, args.impair.as_ref());
    let mut line: Box<dyn Line> = match &args.record {
        Some(path) => Box::new(WavTap::new(line, path)?),
        None => line,
    };
    let placed = match placement {
        Placement::Connected => Ok(()),
        Placement::Dial(number) => line.dial(number),
        Placement::Answer => line.answer(),
    };
    if let Err(e) = placed {
        // A call that never reached the fax: busy, no answer, line down … (Q.850 causes,
        // `docs/reference/q850-causes.md`).
        let Some(cause) = e.q850_cause() else {
            return Err(e).with_context(|| format!("--line {}", args.line));
        };
        eprintln!("softfax: {e}");
        result(&args.line, &json(&CallReport::unreached(cause, 0.0)));
        return Ok(ExitCode::from(1));
    }
    let mut log = match &args.log {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => None,
    };
    let calling = out.is_none();
    let report = place_call(
        &mut *line,
        &mut term,
        CallOptions {
            call_progress: calling,
            log: log.as_mut().map(|w| w as &mut dyn std::io::Write),
            ..CallOptions::default()
        },
    )?;
    if let Some(report) = line.span_report() {
        // Span alarms and slip/error counters before and after the call (DAHDI lines).
        tracing::info!("span health: {report}");
        if let Some(w) = log.as_mut() {
            use std::io::Write;
            writeln!(w, "         span: {report}")?;
        }
    }
    if let Some(path) = out {
        let pages = term.received_pages();
        if !pages.is_empty() {
            let data = tiff::write_pages(
                pages,
                tiff::WriteOptions {
                    coding: Some(softfax_dsp::t4::Coding::Mr { k: 4 }),
                    align_eol: false,
                },
            )?;
            std::fs::write(path, data)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    tracing::info!(wall_s = started.elapsed().as_secs_f64(), "call finished");
    result(&args.line, &json(&report));
    Ok(if report.outcome.hangup == Hangup::Normal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints the result object: on stdout, or with `--line stdio:` (stdout carries the audio) on
/// stderr as its last line.
fn result(line: &str, json: &str) {
    if line.starts_with("stdio:") {
        eprintln!("{json}");
    } else {
        println!("{json}");
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The result object of a call (`docs/contracts/cli.md`).
pub fn json(report: &CallReport) -> String {
    let o = &report.outcome;
    let status = if o.hangup == Hangup::Normal {
        "ok".to_string()
    } else {
        "failed".to_string()
    };
    let compression = match o.coding {
        Some(Coding::Mh) => "mh",
        Some(Coding::Mr) => "mr",
        Some(Coding::Mmr) => "mmr",
        None => "none",
    };
    format!(
        "{{\"status\":{},\"hangup_code\":{},\"hangup_text\":{},\"pages\":{},\"bit_rate\":{},\"ecm\":{},\"compression\":{},\"remote_ident\":{},\"modem_time_s\":{},\"call_time_s\":{},\"transmit_bytes\":{},\"q850_cause\":{}}}",
        esc(&status),
        o.hangup.code(),
        esc(o.hangup.text()),
        o.pages,
        o.rate.map_or(2400, |r| r.bps),
        o.ecm,
        esc(compression),
        esc(o.remote_ident.as_deref().unwrap_or("")),
        report.modem_s.floor() as u64,
        report.call_s.floor() as u64,
        report.transmit_bytes,
        report.q850
    )
}
