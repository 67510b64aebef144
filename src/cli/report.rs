//! `softfax report [--quick] [--peer-send CMD] [--peer-recv CMD] --out DIR`
//! (docs/contracts/cli.md): runs the report's parts ([`crate::report`]) and the BER sweeps
//! of the `ber` command, progress on stderr, and writes `DIR/report.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use softfax_dsp::image::Page;
use softfax_dsp::linesim::LineParams;
use softfax_dsp::t4::Coding;
use softfax_dsp::tiff::{WriteOptions, write_pages};

use super::ber::{default_range, measure};
use super::modem::{ModemKind, name};
use crate::plot::{Series, ber_chart};
use crate::report::matrix::{self, Direction, Outcome, Peer, Plan};
use crate::report::{Report, codecs, figures, peer_ber, speed, table};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The short form: fewer impairment rows, shorter BER runs, no speed benches (< 5 min).
    #[arg(long)]
    pub quick: bool,
    /// The far end that sends when softfax receives: a command with {line}, {opts}, {pages}.
    #[arg(long, value_name = "CMD")]
    pub peer_send: Option<String>,
    /// The far end that receives when softfax sends: a command with {line}, {opts}, {out}.
    #[arg(long, value_name = "CMD")]
    pub peer_recv: Option<String>,
    /// The folder of report.md and its figures.
    #[arg(long)]
    pub out: PathBuf,
    /// A minimal run of every part, for the test suite.
    #[arg(long, hide = true)]
    pub smoke: bool,
    /// Only the impairment matrix (its full size, or `--quick`'s), for re-measuring it.
    #[arg(long, hide = true)]
    pub matrix_only: bool,
}

/// How big each part is.
struct Size {
    rows: Vec<matrix::Row>,
    modes: Vec<matrix::Mode>,
    ber_bits: u64,
    ber_step: f64,
    modems: Vec<(ModemKind, u32)>,
    pages: usize,
    speed: bool,
}

const ALL_MODEMS: [(ModemKind, u32); 9] = [
    (ModemKind::V21, 300),
    (ModemKind::V27ter, 2400),
    (ModemKind::V27ter, 4800),
    (ModemKind::V29, 7200),
    (ModemKind::V29, 9600),
    (ModemKind::V17, 7200),
    (ModemKind::V17, 9600),
    (ModemKind::V17, 12000),
    (ModemKind::V17, 14400),
];

fn size(args: &ReportArgs) -> Size {
    let rows = |names: &[&str]| {
        matrix::ROWS
            .iter()
            .filter(|r| names.contains(&r.name))
            .cloned()
            .collect::<Vec<_>>()
    };
    if args.smoke {
        Size {
            rows: rows(&["clean line", "G.711 A-law"]),
            modes: vec![matrix::MODES[0]],
            ber_bits: 4000,
            ber_step: 6.0,
            modems: vec![(ModemKind::V21, 300), (ModemKind::V29, 9600)],
            pages: 1,
            speed: false,
        }
    } else if args.quick {
        Size {
            rows: rows(matrix::QUICK_ROWS),
            modes: matrix::MODES.to_vec(),
            ber_bits: 20_000,
            ber_step: 2.0,
            modems: ALL_MODEMS.to_vec(),
            pages: 1,
            speed: false,
        }
    } else {
        Size {
            rows: matrix::ROWS.to_vec(),
            modes: matrix::MODES.to_vec(),
            ber_bits: 100_000,
            ber_step: 1.0,
            modems: ALL_MODEMS.to_vec(),
            pages: 2,
            speed: true,
        }
    }
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:28} [{bar:30}] {pos}/{len}, {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// `softfax report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let size = size(args);
    let mut rep = Report::new(&args.out, "softfax report")?;
    rep.text(&format!(
        "softfax {} — `softfax report{}`. Every figure below is measured by this run.",
        env!("CARGO_PKG_VERSION"),
        if args.quick { " --quick" } else { "" }
    ));

    if !args.matrix_only {
        let b = bar(1, "T.4/T.6 codecs");
        let (c_ok, c_all) = codecs::section(&mut rep)?;
        b.finish_and_clear();
        eprintln!("codecs: {c_ok}/{c_all} round trips");
        ber_section(&mut rep, &size)?;
    }

    let (cells, summary) = matrix_section(&mut rep, args, &size)?;
    if !args.matrix_only {
        speed::section(&mut rep, size.speed);
    }

    let path = rep.finish()?;
    eprintln!(
        "{} ({summary}; {} cells) in {:.0} s",
        path.display(),
        cells,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn ber_section(rep: &mut Report, size: &Size) -> anyhow::Result<()> {
    rep.section("Bit error rate against SNR");
    let peers_dir = rep.dir().join("peers");
    let peer = std::fs::create_dir_all(&peers_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| peer_ber::find(&peers_dir));
    rep.text(&format!(
        "The `ber` command's measurement: a PRBS 2²³−1 from softfax's transmitter at −13 dBm0, \
         one training, white Gaussian noise over 0–4 kHz (SNR of a −13 dBm0 signal over the \
         noise), counted after softfax's receiver trained; {} bits per point. {}",
        size.ber_bits,
        match &peer {
            Ok(p) => format!(
                "Beside each softfax curve (thick, squares), spandsp's (thin, crosses, same \
                 colour): spandsp's own transmitter and receiver (`{}`, libspandsp) through \
                 the same simulated line, noise and seed, the same number of bits; its BER \
                 counts the bits its receiver missed as errors.",
                p.display()
            ),
            Err(why) => format!("spandsp's curves are not drawn: {why}."),
        }
    ));
    let peer = peer.ok();
    let mut points_total = 0;
    let sweeps: Vec<(ModemKind, u32, Vec<f64>)> = size
        .modems
        .iter()
        .map(|&(k, r)| {
            let (from, to, _) = default_range(k, r);
            let snrs: Vec<f64> = (0..)
                .map(|i| from + i as f64 * size.ber_step)
                .take_while(|&x| x <= to + 1e-9)
                .collect();
            points_total += snrs.len();
            (k, r, snrs)
        })
        .collect();
    let b = bar(points_total as u64, "BER sweeps");
    let mut rows = Vec::new();
    let mut families: Vec<(ModemKind, Vec<Series>)> = Vec::new();
    for (k, r, snrs) in sweeps {
        let mut pts = Vec::new();
        let mut theirs = Vec::new();
        for (i, &snr) in snrs.iter().enumerate() {
            let params = LineParams {
                snr_db: Some(snr as f32),
                seed: 0x5EED_0000 + i as u64,
                ..Default::default()
            };
            let p = measure(k, r, size.ber_bits, params)?;
            pts.push((snr, if p.trained { p.ber() } else { 1.0 }));
            if let Some(peer) = &peer
                && let Some((ber, _)) = peer_ber::point(peer, name(k), r, size.ber_bits, params)
            {
                theirs.push((snr, ber));
            }
            b.inc(1);
        }
        let clean = |pts: &[(f64, f64)]| pts.iter().find(|p| p.1 == 0.0).map(|p| p.0);
        let at_1e3 = |pts: &[(f64, f64)]| pts.iter().find(|p| p.1 < 1e-3).map(|p| p.0);
        let db = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.0} dB"));
        let mut row = vec![
            format!("{} {r}", name(k)),
            db(at_1e3(&pts)),
            db(clean(&pts)),
        ];
        if peer.is_some() {
            row.extend([db(at_1e3(&theirs)), db(clean(&theirs))]);
        }
        rows.push(row);
        let mut series = vec![Series {
            label: format!("{} {r}", name(k)),
            peer: false,
            points: pts,
        }];
        if !theirs.is_empty() {
            series.push(Series {
                label: format!("spandsp {} {r}", name(k)),
                peer: true,
                points: theirs,
            });
        }
        match families.iter_mut().find(|f| f.0 == k) {
            Some(f) => f.1.extend(series),
            None => families.push((k, series)),
        }
    }
    b.finish_and_clear();
    let mut header = vec!["modem", "BER < 1E-3 from", "no error from"];
    if peer.is_some() {
        header.extend(["spandsp: BER < 1E-3 from", "spandsp: no error from"]);
    }
    rep.text(&table(&header, &rows));
    for (k, series) in families {
        let title = format!("{} PRBS AWGN {} BITS PER POINT", name(k), size.ber_bits);
        rep.figure(
            &format!("ber-{}.png", name(k)),
            &format!("BER against SNR, {}", name(k)),
            &ber_chart(&title, &series),
        )?;
    }
    eprintln!("BER: {} sweeps", rows.len());
    Ok(())
}

/// The document every call sends: ITU charts 1 (and 4), written as MR TIFF.
fn document(dir: &Path, n: usize) -> anyhow::Result<(Vec<Page>, PathBuf)> {
    let charts = codecs::charts();
    let pages: Vec<Page> = charts
        .into_iter()
        .filter(|(name, _)| name == "itu1" || name == "itu4")
        .map(|c| c.1)
        .take(n)
        .collect();
    anyhow::ensure!(
        !pages.is_empty(),
        "the ITU charts (vectors/ccitt-t24) are not here"
    );
    let data = write_pages(
        &pages,
        WriteOptions {
            coding: Some(Coding::Mr { k: 4 }),
            align_eol: false,
        },
    )?;
    let path = dir.join("document.tif");
    std::fs::write(&path, data).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((pages, path))
}

fn matrix_section(
    rep: &mut Report,
    args: &ReportArgs,
    size: &Size,
) -> anyhow::Result<(usize, String)> {
    rep.section("Impairment matrix");
    let exe = std::env::current_exe().context("where is softfax?")?;
    let mut peer = Peer::softfax(&exe);
    let mut directions = vec![Direction::Send, Direction::Recv];
    if args.peer_send.is_some() || args.peer_recv.is_some() {
        directions.clear();
        peer.name = "the peer".into();
        if let Some(cmd) = &args.peer_recv {
            peer.recv = cmd.clone();
            directions.push(Direction::Send);
        }
        if let Some(cmd) = &args.peer_send {
            peer.send = cmd.clone();
            directions.push(Direction::Recv);
        }
    }
    let work = rep.dir().join("calls");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let (pages, document) = document(&work, size.pages)?;
    let plan = Plan {
        rows: size.rows.clone(),
        modes: size.modes.clone(),
        directions: directions.clone(),
        peer: peer.clone(),
        exe,
        pages: &pages,
        document,
        work: work.clone(),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let total = plan.rows.len() * plan.modes.len() * directions.len();
    let b = bar(total as u64, "impairment matrix");
    let cells = matrix::run(&plan, &|_| b.inc(1));
    b.finish_and_clear();
    let who = match (&args.peer_send, &args.peer_recv) {
        (None, None) => {
            "softfax itself (`fax send|recv --line stdio:` on softfax's `exec:` line)".to_string()
        }
        _ => format!(
            "the peer commands{}{}",
            args.peer_recv
                .as_ref()
                .map_or(String::new(), |c| format!(" — receiving: `{c}`")),
            args.peer_send
                .as_ref()
                .map_or(String::new(), |c| format!(" — sending: `{c}`"))
        ),
    };
    rep.text(&format!(
        "Each cell is one call of {} page(s) (ITU charts 1 and 4, fine) through the row's \
         `--impair` SPEC (both directions of the line; docs/contracts/lines.md), in the \
         column's mode, against {who}. A cell passes when softfax's result is `ok`, the far \
         end's own account (its result object, or spandsp's report line) says the same, and \
         the received pages equal the sent ones pel for pel — except, without ECM, across sample \
         slips, where rows are lost on the line: those pass when both ends complete, with the \
         damage counted. Failed cells name the class (L \
         line: no T.30 frame heard; M modem training; P protocol step; D page data; F far \
         end), the hangup, and the T.30 frames softfax saw (`<-`) and sent (`->`). The files \
         of failed calls stay in `calls/`.",
        pages.len()
    ));
    let row_names: Vec<&str> = plan.rows.iter().map(|r| r.name).collect();
    let mode_names: Vec<&str> = plan.modes.iter().map(|m| m.name).collect();
    let mut summary = Vec::new();
    for &d in &directions {
        let mine: Vec<&matrix::Cell> = cells.iter().filter(|c| c.direction == d).collect();
        let passed = mine.iter().filter(|c| c.outcome.passed()).count();
        summary.push(format!("{}: {passed}/{}", d.title(), mine.len()));
        rep.text(&format!(
            "### {}: {passed}/{} cells pass",
            d.title(),
            mine.len()
        ));
        let mut header = vec!["impairment", "SPEC"];
        header.extend(mode_names.iter());
        let rows: Vec<Vec<String>> = plan
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let mut v = vec![row.name.to_string(), format!("`{}`", row.spec)];
                for m in 0..plan.modes.len() {
                    v.push(
                        match mine
                            .iter()
                            .find(|c| c.row == r && c.mode == m)
                            .map(|c| &c.outcome)
                        {
                            Some(Outcome::Pass) => "pass".into(),
                            Some(Outcome::Lossy { .. }) => "pass (rows lost)".into(),
                            Some(Outcome::Fail { class, .. }) => {
                                format!("**{}**", figures::class_letter(class))
                            }
                            None => "—".into(),
                        },
                    );
                }
                v
            })
            .collect();
        rep.text(&table(&header, &rows));
        let fig = figures::matrix(
            &format!("{} - {}", d.title(), peer.name),
            &row_names,
            &mode_names,
            &cells,
            d,
        );
        let file = match d {
            Direction::Send => "matrix-send.png",
            Direction::Recv => "matrix-recv.png",
        };
        rep.figure(file, &format!("impairment matrix, {}", d.title()), &fig)?;
        let causes: Vec<Vec<String>> = mine
            .iter()
            .filter_map(|c| match &c.outcome {
                Outcome::Fail {
                    class,
                    detail,
                    frames,
                } => Some(vec![
                    plan.rows[c.row].name.to_string(),
                    plan.modes[c.mode].name.to_string(),
                    class.to_string(),
                    detail.clone(),
                    format!("`{frames}`"),
                ]),
                Outcome::Lossy { detail } => Some(vec![
                    plan.rows[c.row].name.to_string(),
                    plan.modes[c.mode].name.to_string(),
                    "passed: rows lost on the line (no ECM)".into(),
                    detail.clone(),
                    String::new(),
                ]),
                Outcome::Pass => None,
            })
            .collect();
        if !causes.is_empty() {
            rep.text(&format!("Causes, {}:", d.title()));
            rep.text(&table(
                &[
                    "impairment",
                    "mode",
                    "class",
                    "what happened",
                    "T.30 frames",
                ],
                &causes,
            ));
        }
    }
    let summary = summary.join(", ");
    eprintln!("matrix: {summary}");
    if cells.iter().all(|c| c.outcome.passed()) {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok((cells.len(), summary))
}
