//! One delivery attempt (blocking): render the message into fax pages, take the line,
//! dial, run the call, and make the accounting record — with the fallback ladder that
//! lowers the rate (and toggles ECM) from one attempt to the next.

use std::path::Path;
use std::time::{Instant, SystemTime};

use softfax_drivers::Line;
use softfax_drivers::impair::{Impaired, wrap};
use softfax_drivers::sim::{FarEnd, SimLine};
use softfax_dsp::fax::Terminal;
use softfax_dsp::t30::{Coding, Config as T30Config, DataRate};

use super::job::Job;
use super::record::{job_record, line_down};
use super::verdict::{Verdict, classify};
use crate::accounting::{self, Record};
use crate::call::{CallOptions, CallReport, place_call};
use crate::config::{Config, LineConfig, PaperSize};
use crate::documents::{self, Paper, RenderOptions};

/// The fallback ladder across attempts (on a noisy line a lower rate often gets through): the
/// first try at the line's top rate, then 9600, then 9600 with ECM toggled (off when the
/// line uses it, on when not). Returns (the rate cap, toggle ECM).
pub fn ladder(step: u32) -> (u32, bool) {
    match step {
        0 => (14400, false),
        1 => (9600, false),
        _ => (9600, true),
    }
}

/// Render, dial and send one job on `line` (blocking). `step` is the fallback-ladder step,
/// `mail_s` the seconds since 354 before the call started.
pub fn attempt(
    config: &Config,
    job: &Job,
    data: &[u8],
    line: &LineConfig,
    attempt: u32,
    step: u32,
    mail_s: f64,
) -> Record {
    let started = Instant::now();
    let mut r = job_record(config, job, &line.port, attempt);
    let opts = RenderOptions {
        resolution: if config.fine {
            softfax_dsp::image::Resolution::FINE
        } else {
            softfax_dsp::image::Resolution::STANDARD
        },
        paper: match config.paper {
            PaperSize::A4 => Paper::A4,
            PaperSize::Letter => Paper::Letter,
        },
        cover_page: job.cover_page,
        recipient: job.number.clone(),
        gateway_id: config.gateway_id.clone(),
    };
    let doc = match documents::message_to_pages(data, &opts) {
        Ok(d) => d,
        Err(e) => {
            let (code, esc, text) = e.smtp_reply();
            Verdict::without_call("bad_document", text, (code, esc), e.abort_cause(), 0)
                .stamp(&mut r);
            r.fax_modem_time = format!("0/{}", (mail_s + started.elapsed().as_secs_f64()) as u64);
            return r;
        }
    };
    r.document_pages = doc.pages.len() as u32;
    if doc.pages.is_empty() || doc.pages.len() > config.limits.max_pages {
        let text = format!(
            "The document has {} pages; the limit is {}",
            doc.pages.len(),
            config.limits.max_pages
        );
        Verdict::without_call("too_many_pages", text, (552, "5.2.3"), 2, 0).stamp(&mut r);
        return r;
    }
    let (ladder_rate, toggle_ecm) = ladder(step);
    let top = line.max_rate.unwrap_or(14400).min(ladder_rate);
    let mut max_rate = DataRate::V17_14400;
    while max_rate.bps > top
        && let Some(f) = max_rate.fallback()
    {
        max_rate = f;
    }
    let t30 = T30Config {
        ident: config.ident.clone(),
        max_rate,
        ecm: line.ecm != toggle_ecm,
        prefer_v17: line.prefer_v17,
        ..T30Config::default()
    };
    let mut term = Terminal::caller(t30, doc.pages.clone());
    tracing::info!(job = %job.id, line = %line.uri, dial = %job.dial, pages = doc.pages.len(), rate = max_rate.bps, "dialling");
    let report = if let Some(q) = line.uri.strip_prefix("sim:") {
        let mut sim = match SimLine::new(q, FarEnd::Receiver) {
            Ok(s) => s,
            Err(e) => return line_down(r, &e.to_string(), mail_s),
        };
        let rep = match &line.impair {
            Some(spec) => place_call(
                &mut Impaired::new(&mut sim, spec),
                &mut term,
                CallOptions::default(),
            ),
            None => place_call(&mut sim, &mut term, CallOptions::default()),
        };
        if let (Ok(_), Some(dir)) = (&rep, &line.capture) {
            let pages = sim.far_end().received_pages();
            if let Err(e) = capture(dir, &job.id, pages) {
                tracing::warn!(dir = %dir.display(), "cannot write the captured pages: {e}");
            }
        }
        rep
    } else {
        match softfax_drivers::open(&line.uri, FarEnd::Receiver)
            .map(|l| wrap(l, line.impair.as_ref()))
        {
            Ok(mut l) => match l.dial(&job.dial) {
                Ok(()) => {
                    let rep = place_call(&mut *l, &mut term, CallOptions::default());
                    let _ = l.hangup();
                    if let Some(after) = l.span_report().and_then(|s| s.after) {
                        crate::metrics::global().span(&after);
                    }
                    rep
                }
                // The call never reached a fax machine: busy, no answer, … (docs/reference/q850-causes.md).
                Err(e) => match e.q850_cause() {
                    Some(38) => return line_down(r, &e.to_string(), mail_s),
                    Some(cause) => {
                        let _ = l.hangup();
                        Ok(CallReport::unreached(
                            cause,
                            started.elapsed().as_secs_f64(),
                        ))
                    }
                    None => return line_down(r, &e.to_string(), mail_s),
                },
            },
            Err(e) => return line_down(r, &e.to_string(), mail_s),
        }
    };
    let report = match report {
        Ok(rep) => rep,
        Err(e) => return line_down(r, &e.to_string(), mail_s),
    };
    classify(&report, doc.pages.len() as u32).stamp(&mut r);
    let o = &report.outcome;
    r.fax_pages = o.pages;
    r.fax_connect_speed = format!("{}bps", o.rate.map_or(2400, |x| x.bps));
    r.transmit_bytes = report.transmit_bytes;
    r.fax_modem_time = format!(
        "{}/{}",
        report.modem_s.floor() as u64,
        (mail_s + report.call_s).floor() as u64
    );
    r.csid = o.remote_ident.clone().unwrap_or_default();
    r.hangup_text = o.hangup.text().into();
    r.ecm = o.ecm;
    r.compression = match o.coding {
        Some(Coding::Mh) => "mh",
        Some(Coding::Mr) => "mr",
        Some(Coding::Mmr) => "mmr",
        None => "none",
    }
    .into();
    r.resolution = o
        .resolution
        .map_or(String::new(), |x| format!("{x:?}").to_lowercase());
    r.time = accounting::rfc3339(SystemTime::now());
    tracing::info!(job = %job.id, status = %r.status, pages = r.fax_pages, "call ended");
    r
}

/// Write what a simulated far end received: `<job>.tif` and `<job>-page-N.png`.
fn capture(dir: &Path, job: &str, pages: &[softfax_dsp::image::Page]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    if pages.is_empty() {
        return Ok(());
    }
    let tif = softfax_dsp::tiff::write_pages(
        pages,
        softfax_dsp::tiff::WriteOptions {
            coding: Some(softfax_dsp::t4::Coding::Mr { k: 4 }),
            align_eol: false,
        },
    )?;
    std::fs::write(dir.join(format!("{job}.tif")), tif)?;
    for (i, p) in pages.iter().enumerate() {
        let f = std::fs::File::create(dir.join(format!("{job}-page-{}.png", i + 1)))?;
        crate::pngout::page_png(p, std::io::BufWriter::new(f))?;
    }
    Ok(())
}
