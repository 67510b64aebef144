//! Delivery (issue 6 §4): from an accepted message to fax calls, accounting records and
//! replies. Two modes (DESIGN §6 `delivery`):
//!
//! - **immediate** (XSESSION): the session waits; a line is taken from the pool, the call
//!   placed, and the reply to the final dot is made from the call's accounting record
//!   (offramp.md §3: success 250 2.5.0, busy 450 4.3.2 `Modem busy`, …).
//! - **queue** (store and forward, [`queue`]): the message is made durable in the spool and
//!   answered `250 2.0.0`; workers deliver with retries, back-off and a rate/ECM fallback
//!   ladder, and send RFC 3464 DSNs ([`dsn`]).
//!
//! The [`LinePool`] holds the `[[line]]`s: one call per line at a time; `port_used` is the
//! line's `port`. A call runs on a blocking thread ([`attempt`]).

pub mod dsn;
pub mod queue;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use softfax_drivers::Line;
use softfax_drivers::sim::{FarEnd, SimLine};
use softfax_dsp::fax::Terminal;
use softfax_dsp::t30::{Coding, Config as T30Config, DataRate, Hangup};
use softfax_dsp::tones::progress::CallProgress;

use crate::accounting::{self, Record};
use crate::call::{CallOptions, CallReport, place_call};
use crate::config::{Config, DeliveryMode, LineConfig, PaperSize};
use crate::documents::{self, Paper, RenderOptions};
use crate::esmtp::parser::{Notify, Ret};
use crate::esmtp::session::Message;

/// One fax job: one recipient of one message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub sender: String,
    /// The recipient as written (`FAX=+1408555-7442@example.com`).
    pub recipient: String,
    pub number: String,
    pub subaddress: Option<String>,
    pub dial: String,
    pub cover_page: bool,
    pub notify: Option<NotifyFlags>,
    pub orcpt: Option<String>,
    pub envid: Option<String>,
    pub ret_full: bool,
    pub helo: String,
    pub arrival: String,
    pub message_id: String,
    pub xact: bool,
}

/// RCPT NOTIFY, stored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotifyFlags {
    pub never: bool,
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
}

impl From<Notify> for NotifyFlags {
    fn from(n: Notify) -> Self {
        NotifyFlags {
            never: n.never,
            success: n.success,
            failure: n.failure,
            delay: n.delay,
        }
    }
}

/// The fallback ladder across attempts (field-notes: "lowering the rate fixes it"): the
/// first try at the line's top rate, then 9600, then 9600 with ECM toggled (off when the
/// line uses it, on when not). Returns (the rate cap, toggle ECM).
pub fn ladder(step: u32) -> (u32, bool) {
    match step {
        0 => (14400, false),
        1 => (9600, false),
        _ => (9600, true),
    }
}

/// The lines, one call each at a time.
pub struct LinePool {
    lines: Vec<LineConfig>,
    busy: Mutex<Vec<bool>>,
    permits: Arc<tokio::sync::Semaphore>,
}

/// A line taken from the pool; given back on drop.
pub struct LineGuard {
    pool: Arc<LinePool>,
    index: usize,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl LineGuard {
    pub fn line(&self) -> &LineConfig {
        &self.pool.lines[self.index]
    }
}

impl Drop for LineGuard {
    fn drop(&mut self) {
        let mut b = self.pool.busy.lock().unwrap_or_else(|p| p.into_inner());
        b[self.index] = false;
    }
}

impl LinePool {
    pub fn new(lines: Vec<LineConfig>) -> Arc<LinePool> {
        let n = lines.len();
        Arc::new(LinePool {
            lines,
            busy: Mutex::new(vec![false; n]),
            permits: Arc::new(tokio::sync::Semaphore::new(n)),
        })
    }

    /// Take a free line, waiting at most `wait` (forever with `None`).
    pub async fn acquire(self: &Arc<Self>, wait: Option<Duration>) -> Option<LineGuard> {
        let p = self.permits.clone().acquire_owned();
        let permit = match wait {
            Some(w) => tokio::time::timeout(w, p).await.ok()?.ok()?,
            None => p.await.ok()?,
        };
        let mut b = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let index = b.iter().position(|x| !x)?;
        b[index] = true;
        Some(LineGuard {
            pool: self.clone(),
            index,
            _permit: permit,
        })
    }
}

/// The gateway's shared state.
pub struct Gateway {
    pub config: Arc<Config>,
    pub pool: Arc<LinePool>,
    pub log: accounting::Log,
    pub queue: Option<Arc<queue::Queue>>,
    seq: Mutex<u64>,
}

impl Gateway {
    /// Set up the spool and (queue mode) recover the queue.
    pub fn new(config: Arc<Config>) -> std::io::Result<Arc<Gateway>> {
        std::fs::create_dir_all(&config.spool)?;
        let queue = match config.delivery {
            DeliveryMode::Queue => Some(Arc::new(queue::Queue::open(&config.spool)?)),
            DeliveryMode::Immediate => None,
        };
        Ok(Arc::new(Gateway {
            pool: LinePool::new(config.lines.clone()),
            log: accounting::Log::new(config.accounting_log.clone()),
            config,
            queue,
            seq: Mutex::new(0),
        }))
    }

    /// A fresh job id: time, process and a counter.
    pub fn new_id(&self) -> String {
        let mut s = self.seq.lock().unwrap_or_else(|p| p.into_inner());
        *s += 1;
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}{:06}-{}-{}",
            t.as_secs(),
            t.subsec_micros(),
            std::process::id(),
            *s
        )
    }

    /// The reply to the final dot for `msg`; `data_started` is when 354 went out.
    pub async fn deliver(self: &Arc<Self>, msg: Box<Message>, data_started: Instant) -> String {
        let message_id = message_id(&msg.data);
        let mut jobs = Vec::new();
        let mut postmaster = false;
        for r in &msg.recipients {
            let Some((fax, route)) = &r.fax else {
                postmaster = true;
                continue;
            };
            jobs.push(Job {
                id: self.new_id(),
                sender: msg.sender.clone(),
                recipient: r.address.clone(),
                number: fax.number.clone(),
                subaddress: fax.subaddress.clone(),
                dial: route.dial.clone(),
                cover_page: route.cover_page,
                notify: r.notify.map(Into::into),
                orcpt: r.orcpt.as_ref().map(|o| format!("{};{}", o.0, o.1)),
                envid: msg.mail.envid.clone(),
                ret_full: msg.mail.ret == Some(Ret::Full),
                helo: msg.helo.clone(),
                arrival: accounting::rfc3339(SystemTime::now()),
                message_id: message_id.clone(),
                xact: msg.xact,
            });
        }
        if postmaster {
            let dir = self.config.spool.join("postmaster");
            let path = dir.join(format!("{}.eml", self.new_id()));
            if let Err(e) = queue::write_durable(&dir, &path, &msg.data) {
                tracing::error!("postmaster mail: {e}");
                return "451 4.3.0 Local error writing the message\r\n".into();
            }
            if jobs.is_empty() {
                return "250 2.0.0 Message accepted for the postmaster\r\n".into();
            }
        }
        let data = Arc::new(msg.data);
        match &self.queue {
            Some(q) => match q.enqueue(&jobs, &data) {
                Ok(()) => {
                    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
                    format!("250 2.0.0 Queued for delivery as {}\r\n", ids.join(" "))
                }
                Err(e) => {
                    tracing::error!("spool: {e}");
                    "452 4.3.1 Insufficient system storage\r\n".into()
                }
            },
            None => {
                let job = jobs.remove(0);
                let xact = job.xact;
                let record = self.immediate(job, data, data_started).await;
                record.reply(xact)
            }
        }
    }

    async fn immediate(self: &Arc<Self>, job: Job, data: Arc<Vec<u8>>, started: Instant) -> Record {
        let wait = Duration::from_secs(self.config.limits.line_wait_s);
        let Some(guard) = self.pool.acquire(Some(wait)).await else {
            let r = no_line_record(&self.config, &job, started.elapsed().as_secs_f64());
            self.append(&r);
            return r;
        };
        let gw = self.clone();
        let mail_s = started.elapsed().as_secs_f64();
        let r = tokio::task::spawn_blocking(move || {
            let line = guard.line().clone();
            let out = attempt(&gw.config, &job, &data, &line, 1, 0, mail_s);
            drop(guard);
            out
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!("delivery thread failed: {e}");
            panic_record()
        });
        self.append(&r);
        r
    }

    /// Append to the accounting log (an error is logged: the reply still goes out).
    pub fn append(&self, r: &Record) {
        if let Err(e) = self.log.append(r) {
            tracing::error!(path = %self.log.path().display(), "accounting log: {e}");
        }
    }

    /// A recipient refused by policy (abort_cause 5).
    pub fn record_refusal(&self, sender: &str, recipient: &str, number: &str) {
        let mut r = blank_record(&self.config, "");
        r.status = "denied".into();
        r.status_text = format!("Number {number} not authorized by policy");
        r.reply_code = 550;
        r.enhanced_code = "5.7.1".into();
        r.abort_cause = 5;
        r.sender = sender.into();
        r.recipient = recipient.into();
        self.append(&r);
    }

    /// The client left during DATA (abort_cause 2).
    pub fn record_abort(&self, sender: &str, recipients: &[String]) {
        for rcpt in recipients {
            let mut r = blank_record(&self.config, "");
            r.status = "smtp_aborted".into();
            r.status_text = "Client disconnected during DATA".into();
            r.reply_code = 451;
            r.enhanced_code = "4.4.2".into();
            r.abort_cause = 2;
            r.sender = sender.into();
            r.recipient = rcpt.clone();
            self.append(&r);
        }
    }
}

fn panic_record() -> Record {
    let mut r = blank_record(
        &Config::parse(EMPTY, "", Path::new("/")).expect("valid"),
        "",
    );
    r.status = "internal_error".into();
    r.status_text = "Local error in processing".into();
    r.reply_code = 451;
    r.enhanced_code = "4.3.0".into();
    r.abort_cause = 1;
    r.isdn_disconnect_code = 31;
    r
}

const EMPTY: &str = "gateway_id = \"localhost\"\nlisten = \"127.0.0.1:0\"\nspool = \"/tmp\"\ndomains = [\"localhost\"]\n[[line]]\nuri = \"sim:\"\n";

/// The `Message-ID` header of a message, or empty.
pub fn message_id(data: &[u8]) -> String {
    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len().min(64 * 1024));
    let head = String::from_utf8_lossy(&data[..head_end]);
    for line in head.split("\r\n") {
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("message-id")
        {
            return v.trim().chars().take(200).collect();
        }
    }
    String::new()
}

fn blank_record(config: &Config, port: &str) -> Record {
    Record {
        time: accounting::rfc3339(SystemTime::now()),
        status: String::new(),
        status_text: String::new(),
        reply_code: 0,
        enhanced_code: String::new(),
        fax_modem_time: "0/0".into(),
        fax_pages: 0,
        gateway_id: config.gateway_id.clone(),
        fax_connect_speed: "2400bps".into(),
        transmit_bytes: 0,
        port_used: port.into(),
        call_type: "Fax Send".into(),
        abort_cause: 0,
        t30_error_code: 0,
        isdn_disconnect_code: 0,
        csid: String::new(),
        message_id: String::new(),
        sender: String::new(),
        recipient: String::new(),
        dial: String::new(),
        hangup_text: String::new(),
        ecm: false,
        compression: "none".into(),
        resolution: String::new(),
        attempt: 1,
        document_pages: 0,
        job: String::new(),
    }
}

fn job_record(config: &Config, job: &Job, port: &str, attempt: u32) -> Record {
    let mut r = blank_record(config, port);
    r.message_id = job.message_id.clone();
    r.sender = job.sender.clone();
    r.recipient = job.recipient.clone();
    r.dial = job.dial.clone();
    r.attempt = attempt;
    r.job = job.id.clone();
    r
}

fn no_line_record(config: &Config, job: &Job, mail_s: f64) -> Record {
    let mut r = job_record(config, job, "", 1);
    r.status = "no_line".into();
    r.status_text = "Modem busy".into();
    r.reply_code = 450;
    r.enhanced_code = "4.3.2".into();
    r.abort_cause = 1;
    r.isdn_disconnect_code = 34;
    r.fax_modem_time = format!("0/{}", mail_s.floor() as u64);
    r
}

/// What an outcome means to the client (offramp.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: &'static str,
    pub text: String,
    pub code: u16,
    pub esc: &'static str,
    pub abort_cause: u8,
    pub t30: u8,
    pub q850: u8,
}

/// Map a finished call to the reply (offramp.md §3, hangup-codes.md §3, q850.md §4).
pub fn classify(report: &CallReport, doc_pages: u32) -> Verdict {
    let h = report.outcome.hangup;
    let q = report.q850;
    let v = |status, text: &str, code, esc, t30| Verdict {
        status,
        text: text.to_string(),
        code,
        esc,
        abort_cause: 1,
        t30,
        q850: q,
    };
    match report.progress {
        Some(CallProgress::Busy) => return v("busy", "Modem busy", 450, "4.3.2", 11),
        Some(CallProgress::Congestion) => {
            return v("congestion", "Network congestion", 451, "4.4.5", 0);
        }
        Some(CallProgress::Sit) => {
            return v("not_in_service", "Number not in service", 550, "5.1.1", 11);
        }
        _ => {}
    }
    let pages = report.outcome.pages;
    if h == Hangup::Normal && pages >= doc_pages {
        return Verdict {
            status: "ok",
            text: "Message delivered to remote fax machine".into(),
            code: 250,
            esc: "2.5.0",
            abort_cause: 0,
            t30: 0,
            q850: q,
        };
    }
    let t30 = h.code();
    if !report.fax_heard {
        // Causes a line with call control reported while dialling (q850.md §4).
        match q {
            17 => return v("busy", "Modem busy", 450, "4.3.2", 11),
            34 | 42 => return v("congestion", "Network congestion", 451, "4.4.5", 0),
            41 => {
                return v(
                    "temporary_failure",
                    "Temporary network failure",
                    451,
                    "4.4.2",
                    0,
                );
            }
            1 => return v("not_in_service", "Number not in service", 550, "5.1.1", 11),
            22 => return v("number_changed", "Number changed", 550, "5.1.6", 11),
            18 => return v("no_answer", "No answer", 450, "4.4.1", 11),
            _ => {}
        }
        if report.ringback {
            return v("no_answer", "No answer", 450, "4.4.1", 11);
        }
        if matches!(h, Hangup::NoAnswer | Hangup::TxPhaseA | Hangup::NoDis) {
            return v("no_fax_answer", "No fax answer", 450, "4.4.1", 11);
        }
        return v(
            "line_dropped",
            "Line dropped before the fax answered",
            451,
            "4.4.2",
            t30,
        );
    }
    match h {
        Hangup::Normal => v(
            "partial",
            &format!("Partial delivery, {pages} of {doc_pages} pages"),
            451,
            "4.4.2",
            50,
        ),
        Hangup::NoAnswer | Hangup::NoDis => v("no_fax_answer", "No fax answer", 450, "4.4.1", t30),
        Hangup::CannotTrain => v("training_failed", "Training failed", 451, "4.4.2", t30),
        Hangup::RemoteCannotReceive => v(
            "incapable",
            "Remote fax machine cannot receive",
            554,
            "5.3.3",
            t30,
        ),
        Hangup::Incompatible => v(
            "incapable",
            "No common capability with the remote fax machine",
            554,
            "5.3.3",
            t30,
        ),
        _ if pages > 0 => v(
            "partial",
            &format!("Partial delivery, {pages} of {doc_pages} pages"),
            451,
            "4.4.2",
            t30,
        ),
        Hangup::TxPhaseC
        | Hangup::TxPhaseD
        | Hangup::TxGotDcnPhaseD
        | Hangup::NoResponseMps
        | Hangup::NoResponseEop
        | Hangup::NoResponseEom
        | Hangup::InvalidResponseMps
        | Hangup::InvalidResponseEop
        | Hangup::InvalidResponseEom => v(
            "page_failed",
            &format!("Page transfer failed: {}", h.text()),
            451,
            "4.4.2",
            t30,
        ),
        _ => v(
            "handshake_failed",
            &format!("Fax handshake failed: {}", h.text()),
            451,
            "4.4.2",
            t30,
        ),
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
            r.status = "bad_document".into();
            r.status_text = text;
            r.reply_code = code;
            r.enhanced_code = esc.into();
            r.abort_cause = e.abort_cause();
            r.fax_modem_time = format!("0/{}", (mail_s + started.elapsed().as_secs_f64()) as u64);
            return r;
        }
    };
    r.document_pages = doc.pages.len() as u32;
    if doc.pages.is_empty() || doc.pages.len() > config.limits.max_pages {
        r.status = "too_many_pages".into();
        r.status_text = format!(
            "The document has {} pages; the limit is {}",
            doc.pages.len(),
            config.limits.max_pages
        );
        r.reply_code = 552;
        r.enhanced_code = "5.2.3".into();
        r.abort_cause = 2;
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
        ..T30Config::default()
    };
    let mut term = Terminal::caller(t30, doc.pages.clone());
    tracing::info!(job = %job.id, line = %line.uri, dial = %job.dial, pages = doc.pages.len(), rate = max_rate.bps, "dialling");
    let report = if let Some(q) = line.uri.strip_prefix("sim:") {
        let mut sim = match SimLine::new(q, FarEnd::Receiver) {
            Ok(s) => s,
            Err(e) => return line_down(r, &e.to_string(), mail_s),
        };
        let rep = place_call(&mut sim, &mut term, CallOptions::default());
        if let (Ok(_), Some(dir)) = (&rep, &line.capture) {
            let pages = sim.far_end().received_pages();
            if let Err(e) = capture(dir, &job.id, pages) {
                tracing::warn!(dir = %dir.display(), "cannot write the captured pages: {e}");
            }
        }
        rep
    } else {
        match softfax_drivers::open(&line.uri, FarEnd::Receiver) {
            Ok(mut l) => match l.dial(&job.dial) {
                Ok(()) => {
                    let rep = place_call(&mut *l, &mut term, CallOptions::default());
                    let _ = l.hangup();
                    rep
                }
                // The call never reached a fax machine: busy, no answer, … (q850.md §4).
                Err(e) => match e.q850_cause() {
                    Some(38) => return line_down(r, &e.to_string(), mail_s),
                    Some(cause) => {
                        let _ = l.hangup();
                        Ok(CallReport {
                            outcome: softfax_dsp::t30::Outcome {
                                hangup: Hangup::NoAnswer,
                                pages: 0,
                                rate: None,
                                ecm: false,
                                coding: None,
                                resolution: None,
                                remote_ident: None,
                            },
                            modem_s: 0.0,
                            call_s: started.elapsed().as_secs_f64(),
                            transmit_bytes: 0,
                            q850: cause,
                            progress: None,
                            ringback: cause == 19,
                            fax_heard: false,
                        })
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
    let v = classify(&report, doc.pages.len() as u32);
    let o = &report.outcome;
    r.status = v.status.into();
    r.status_text = v.text;
    r.reply_code = v.code;
    r.enhanced_code = v.esc.into();
    r.abort_cause = v.abort_cause;
    r.t30_error_code = v.t30;
    r.isdn_disconnect_code = v.q850;
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

fn line_down(mut r: Record, why: &str, mail_s: f64) -> Record {
    tracing::error!("line: {why}");
    r.status = "line_down".into();
    r.status_text = "Line out of order".into();
    r.hangup_text = why.chars().take(200).collect();
    r.reply_code = 451;
    r.enhanced_code = "4.4.2".into();
    r.abort_cause = 1;
    r.isdn_disconnect_code = 38;
    r.fax_modem_time = format!("0/{}", mail_s.floor() as u64);
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

#[cfg(test)]
mod tests {
    use super::*;
    use softfax_dsp::t30::Outcome;

    fn report(h: Hangup, pages: u32, heard: bool, progress: Option<CallProgress>) -> CallReport {
        CallReport {
            outcome: Outcome {
                hangup: h,
                pages,
                rate: None,
                ecm: false,
                coding: None,
                resolution: None,
                remote_ident: None,
            },
            modem_s: 0.0,
            call_s: 59.0,
            transmit_bytes: 0,
            q850: if progress == Some(CallProgress::Busy) {
                17
            } else {
                16
            },
            progress,
            ringback: false,
            fax_heard: heard,
        }
    }

    #[test]
    fn outcome_table() {
        let busy = classify(
            &report(Hangup::NoAnswer, 0, false, Some(CallProgress::Busy)),
            2,
        );
        assert_eq!(
            (
                busy.code,
                busy.esc,
                busy.text.as_str(),
                busy.abort_cause,
                busy.t30,
                busy.q850
            ),
            (450, "4.3.2", "Modem busy", 1, 11, 17)
        );
        let ok = classify(&report(Hangup::Normal, 2, true, None), 2);
        assert_eq!(
            (ok.code, ok.esc, ok.abort_cause, ok.t30),
            (250, "2.5.0", 0, 0)
        );
        let nofax = classify(&report(Hangup::NoAnswer, 0, false, None), 2);
        assert_eq!((nofax.code, nofax.esc, nofax.t30), (450, "4.4.1", 11));
        let train = classify(&report(Hangup::CannotTrain, 0, true, None), 2);
        assert_eq!((train.code, train.esc, train.t30), (451, "4.4.2", 27));
        let part = classify(&report(Hangup::NoResponseEop, 1, true, None), 2);
        assert_eq!(part.text, "Partial delivery, 1 of 2 pages");
        let cap = classify(&report(Hangup::Incompatible, 0, true, None), 2);
        assert_eq!((cap.code, cap.esc, cap.t30), (554, "5.3.3", 26));
        let sit = classify(
            &report(Hangup::NoAnswer, 0, false, Some(CallProgress::Sit)),
            2,
        );
        assert_eq!((sit.code, sit.esc), (550, "5.1.1"));
        let cong = classify(
            &report(Hangup::NoAnswer, 0, false, Some(CallProgress::Congestion)),
            2,
        );
        assert_eq!((cong.code, cong.esc, cong.t30), (451, "4.4.5", 0));
    }

    #[test]
    fn message_ids() {
        assert_eq!(
            message_id(b"From: a\r\nMessage-Id: <x@y>\r\n\r\nbody"),
            "<x@y>"
        );
        assert_eq!(message_id(b"no headers"), "");
    }
}
