//! Answering: each `[[line]]` with `answer = true` waits for a call, receives the fax with the
//! terminal `fax recv` uses, keeps each page in the spool before it is confirmed, and hands
//! the finished call to the outbox. The line is taken from the pool for each call and given
//! back between calls, so the off-ramp can dial on it then.
//!
//! Per line type (docs/contracts/lines.md): `exec:` runs its command once per call (the child
//! is the calling fax) and again when the line is idle, waiting longer each time the command
//! ends without a call (1 s doubling to 60 s); `sim:` takes one simulated call per run of the
//! gateway (`caller=FILE.tif`, else the built-in test page); `dahdi:` waits for rings (FXO)
//! or a SETUP (PRI) within the line's ring timeout and tries again.
//!
//! Draining (SIGTERM, the pool closed): a line answers no new call. It takes no turn after
//! the call it is on; a call that the driver answers while the line was already waiting is
//! hung up at once, before the fax starts (docs/operations.md, "Stopping").

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use softfax_drivers::sim::{FarEnd, test_page};
use softfax_dsp::fax::Terminal;
use softfax_dsp::image::Page;
use softfax_dsp::t30::{Config as T30Config, DataRate};

use super::OnRamp;
use super::spool::{CallEnd, CallStart};
use crate::call::{CallOptions, place_call};
use crate::delivery::pool::LineGuard;

/// How one turn of a line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// A call came (with or without pages).
    Call,
    /// No call: the line's wait ended, or an `exec:` command ended without calling.
    NoCall,
    /// The line takes no more calls (a `sim:` line after its call, or the gateway drains).
    Finished,
}

/// The longest pause between tries on a line that gives no calls.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Answer calls on line `index` for as long as the gateway runs.
pub async fn run_line(ramp: Arc<OnRamp>, index: usize) {
    let mut backoff = Duration::ZERO;
    loop {
        if !backoff.is_zero() {
            tokio::time::sleep(backoff).await;
        }
        let pool = ramp.delivery().pool.clone();
        if pool.dialers_waiting() {
            // Between calls the line is the off-ramp's if it wants it.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let guard = tokio::select! {
            biased;
            () = pool.closed() => None,
            g = pool.acquire_line(index) => Some(g),
        };
        let Some(guard) = guard.filter(|_| !pool.is_closed()) else {
            let uri = &ramp.delivery().config.lines[index].uri;
            tracing::info!(line = %uri, "draining: the line answers no more calls");
            return;
        };
        let r = ramp.clone();
        let turn = tokio::task::spawn_blocking(move || {
            let out = answer_one(&r, &guard);
            drop(guard);
            out
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!("answering thread failed: {e}");
            Answered::NoCall
        });
        match turn {
            Answered::Call => backoff = Duration::ZERO,
            Answered::NoCall => {
                backoff = (backoff * 2).clamp(Duration::from_secs(1), MAX_BACKOFF);
            }
            Answered::Finished => return,
        }
    }
}

/// Wait for one call on the line `guard` holds and receive it (blocking). The line counts
/// as waiting until the call comes, then as on a call.
pub fn answer_one(ramp: &OnRamp, guard: &LineGuard) -> Answered {
    let line = guard.line();
    let sim = line.uri.starts_with("sim:");
    let pool = ramp.delivery().pool.clone();
    if pool.is_closed() {
        return Answered::Finished;
    }
    let opened = softfax_drivers::open(&line.uri, FarEnd::Sender(vec![test_page()]));
    let mut l = match opened.map(|l| softfax_drivers::impair::wrap(l, line.impair.as_ref())) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(line = %line.uri, "cannot open the line to answer: {e}");
            return Answered::NoCall;
        }
    };
    if let Err(e) = l.answer() {
        match e.q850_cause() {
            Some(0) => tracing::debug!(line = %line.uri, "no call: {e}"),
            _ => tracing::warn!(line = %line.uri, "answering: {e}"),
        }
        let _ = l.hangup();
        return Answered::NoCall;
    }
    if pool.is_closed() {
        // The call came while the line waited and the gateway began to drain: not taken.
        tracing::warn!(line = %line.uri, "draining: hanging up a call that came in, not answering it");
        let _ = l.hangup();
        return Answered::Finished;
    }
    guard.in_call();
    let now = SystemTime::now();
    // The configuration in force when the call came: a reload meanwhile does not change
    // this call's mailbox or identity.
    let delivery = ramp.delivery();
    let number = l.called_number();
    let called = number.clone().unwrap_or_else(|| line.port.clone());
    let mailbox = ramp.config().mailbox(&called).unwrap_or_default();
    let id = delivery.new_id();
    let start = CallStart {
        id: id.clone(),
        uri: line.uri.clone(),
        port: line.port.clone(),
        called: called.clone(),
        mailbox: mailbox.clone(),
        started: crate::accounting::rfc3339(now),
        started_unix: now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
    };
    if let Err(e) = ramp.spool.begin(&start) {
        // A fax we could not keep must not be confirmed: hang up before it starts.
        tracing::error!(spool = ?ramp.spool.path(super::spool::State::Receiving, &id), "cannot spool a call, not answering it: {e}");
        let _ = l.hangup();
        return Answered::NoCall;
    }
    tracing::info!(id, line = %line.uri, called, mailbox, "answered a call");
    if let Some(radius) = &delivery.radius {
        radius.start(
            &id,
            &line.port,
            number.as_deref().unwrap_or(""),
            &mailbox,
            "Fax Receive",
        );
    }
    let mut max_rate = DataRate::V17_14400;
    while max_rate.bps > line.max_rate.unwrap_or(14400)
        && let Some(f) = max_rate.fallback()
    {
        max_rate = f;
    }
    let mut term = Terminal::answerer(T30Config {
        ident: delivery.config.ident.clone(),
        max_rate,
        ecm: line.ecm,
        ..T30Config::default()
    });
    let spool = ramp.spool.clone();
    let mut kept = 0;
    let mut keep = |pages: &[Page]| -> std::io::Result<()> {
        // No new page: the last one was refused and replaced by its retransmission.
        let from = if pages.len() <= kept {
            pages.len().saturating_sub(1)
        } else {
            kept
        };
        for (i, p) in pages.iter().enumerate().skip(from) {
            spool.add_page(&id, i, p)?;
            tracing::info!(id, page = i + 1, "page kept");
        }
        kept = pages.len();
        Ok(())
    };
    let report = place_call(
        &mut *l,
        &mut term,
        CallOptions {
            call_progress: false,
            on_page: Some(&mut keep),
            ..CallOptions::default()
        },
    );
    let _ = l.hangup();
    let heard = match report {
        Ok(rep) => {
            let o = &rep.outcome;
            let end = CallEnd {
                remote_ident: o.remote_ident.clone().unwrap_or_default(),
                pages: o.pages,
                bit_rate: o.rate.map_or(2400, |r| r.bps),
                modulation: o.rate.map_or(String::new(), |r| {
                    format!("{:?}", r.modulation).replacen('V', "V.", 1)
                }),
                ecm: o.ecm,
                compression: o
                    .coding
                    .map_or("none", |c| match c {
                        softfax_dsp::t30::Coding::Mh => "mh",
                        softfax_dsp::t30::Coding::Mr => "mr",
                        softfax_dsp::t30::Coding::Mmr => "mmr",
                    })
                    .into(),
                resolution: o
                    .resolution
                    .map_or(String::new(), |x| format!("{x:?}").to_lowercase()),
                hangup_code: o.hangup.code(),
                hangup_text: o.hangup.text().into(),
                q850: rep.q850,
                modem_s: rep.modem_s,
                call_s: rep.call_s,
                ended_unix: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs(),
            };
            if let Err(e) = ramp.spool.end(&id, &end) {
                tracing::error!(id, "cannot record the end of the call: {e}");
            }
            tracing::info!(id, pages = kept, hangup = %o.hangup.text(), "call ended");
            o.remote_ident.is_some() || kept > 0
        }
        Err(e) => {
            tracing::error!(id, "the call failed: {e}");
            kept > 0
        }
    };
    ramp.finish(&id);
    if sim {
        Answered::Finished
    } else if heard {
        Answered::Call
    } else {
        Answered::NoCall
    }
}
