//! One fax call over a [`Line`]: the loop that feeds a [`Terminal`] what the line received
//! and puts on the line what the terminal sends, 20 ms at a time, until the terminal has an
//! outcome, the far end's call progress says there is no fax to talk to, or the call runs
//! too long. `softfax fax send|recv`, `loopback` and the gateway's delivery all use it.
//!
//! **Call progress before the fax answers** (docs/reference/q850-causes.md): a calling terminal's received
//! audio goes through the call-progress detector ([`ProgressDetector`], every built-in tone
//! plan) and the CED detector until the first fax signal is heard (CED, or a V.21 frame).
//! Busy tone ends the call as busy (Q.850 17), reorder/congestion as 34, a special
//! information tone as 1 (number unobtainable); ringback is remembered, so a call that then
//! times out without a fax answer reports 19 ("no answer from user, user alerted").
//!
//! **Time:** samples. `modem_s` runs from the first fax signal heard to the hang-up (the
//! `x` of `fax_modem_time`, docs/contracts/accounting.md), `call_s` is the whole call.

use std::io::Write;

use softfax_drivers::{BLOCK, Line, LineError};
use softfax_dsp::fax::Terminal;
use softfax_dsp::image::Page;
use softfax_dsp::t30::{Event, Hangup, Outcome};
use softfax_dsp::tones::fax::{FaxTone, FaxToneDetector, FaxToneEvent};
use softfax_dsp::tones::progress::{ALL_PLANS, CallProgress, ProgressDetector, ProgressEvent};

/// The longest call, in simulated or real time: 30 minutes.
pub const MAX_CALL_SAMPLES: u64 = 30 * 60 * 8000;

/// How to run a call.
pub struct CallOptions<'a> {
    /// Watch for busy, reorder, SIT and ringback before the fax answers (calling side).
    pub call_progress: bool,
    /// A readable protocol trace, one line per event.
    pub log: Option<&'a mut dyn Write>,
    /// Give up after this many samples.
    pub max_samples: u64,
    /// Called with the pages received so far whenever one more has come, before the next
    /// block goes out on the line — so before the page is confirmed (MCF): the on-ramp
    /// spools each page there. An error ends the call at once, the page unconfirmed.
    pub on_page: Option<PageHook<'a>>,
}

/// What [`CallOptions::on_page`] calls with the pages received so far.
pub type PageHook<'a> = &'a mut dyn FnMut(&[Page]) -> std::io::Result<()>;

impl Default for CallOptions<'_> {
    fn default() -> Self {
        CallOptions {
            call_progress: true,
            log: None,
            max_samples: MAX_CALL_SAMPLES,
            on_page: None,
        }
    }
}

/// How a call went.
#[derive(Debug, Clone)]
pub struct CallReport {
    pub outcome: Outcome,
    /// Seconds from the first fax signal heard to the hang-up (0 if none was heard).
    pub modem_s: f64,
    /// Seconds of the whole call.
    pub call_s: f64,
    /// Bytes of page data handed to the modem.
    pub transmit_bytes: u64,
    /// The Q.850 cause: from the line when it knows one, else derived (docs/reference/q850-causes.md).
    pub q850: u8,
    /// A call-progress tone that ended the call before any fax signal (busy, congestion, SIT).
    pub progress: Option<CallProgress>,
    /// Ringback was heard before the fax answered (or instead of it).
    pub ringback: bool,
    /// A fax signal (CED or a V.21 frame) was heard from the far end.
    pub fax_heard: bool,
}

/// Run one call: `term` over `line`, until it ends. The line is hung up at the end.
pub fn place_call(
    line: &mut dyn Line,
    term: &mut Terminal,
    mut opts: CallOptions<'_>,
) -> Result<CallReport, LineError> {
    let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
    let mut samples = 0u64;
    let mut watch = if opts.call_progress {
        Some((
            ProgressDetector::new(&ALL_PLANS).expect("the built-in tone plans are valid"),
            FaxToneDetector::new(),
        ))
    } else {
        None
    };
    let (mut pev, mut fev) = (Vec::<ProgressEvent>::new(), Vec::<FaxToneEvent>::new());
    let mut fax_at: Option<u64> = None;
    let mut ringback = false;
    let mut stopped_by: Option<CallProgress> = None;
    let mut down = false;
    let mut pages_seen = 0u64;
    while term.outcome().is_none() && samples < opts.max_samples {
        term.process(&rx, &mut tx);
        samples += BLOCK as u64;
        if let Some(f) = opts.on_page.as_mut()
            && term.received_revision() != pages_seen
        {
            pages_seen = term.received_revision();
            if let Err(source) = f(term.received_pages()) {
                let _ = line.hangup();
                return Err(LineError::Io {
                    what: "keeping a received page".into(),
                    source,
                });
            }
        }
        if !down && !line.exchange(&tx, &mut rx)? {
            down = true;
            term.line_down();
        }
        for e in term.take_events() {
            if fax_at.is_none() && matches!(e, Event::FrameIn(_) | Event::BadFrameIn(_)) {
                fax_at = Some(samples);
            }
            tracing::debug!(t = samples as f64 / 8000.0, "{e:?}");
            if let Some(w) = opts.log.as_mut() {
                writeln!(w, "{:8.2} {}", samples as f64 / 8000.0, describe(&e)).map_err(
                    |source| LineError::Io {
                        what: "writing the protocol log".into(),
                        source,
                    },
                )?;
            }
        }
        if fax_at.is_some() {
            watch = None;
        }
        if let Some((progress, ced)) = watch.as_mut() {
            ced.process(&rx, &mut fev);
            for e in fev.drain(..) {
                if let FaxToneEvent::Start {
                    tone: FaxTone::Ced,
                    at,
                } = e
                {
                    let started = at.saturating_sub(FaxTone::Ced.min_duration_ms() as u64 * 8);
                    fax_at.get_or_insert(started.max(1));
                }
            }
            progress.process(&rx, &mut pev);
            for e in pev.drain(..) {
                tracing::debug!(t = e.at as f64 / 8000.0, tone = %e.tone, "call progress");
                if let Some(w) = opts.log.as_mut() {
                    let _ = writeln!(
                        w,
                        "{:8.2}    call progress: {}",
                        e.at as f64 / 8000.0,
                        e.tone
                    );
                }
                match e.tone {
                    CallProgress::Ringback => ringback = true,
                    CallProgress::Busy | CallProgress::Congestion | CallProgress::Sit => {
                        stopped_by = Some(e.tone)
                    }
                    CallProgress::DialTone | CallProgress::Silence => {}
                }
            }
            if stopped_by.is_some() {
                break;
            }
        }
    }
    line.hangup()?;
    let tone_cause = match stopped_by {
        Some(CallProgress::Busy) => Some(17),
        Some(CallProgress::Congestion) => Some(34),
        Some(CallProgress::Sit) => Some(1),
        _ => None,
    };
    let outcome = match (tone_cause, term.outcome()) {
        (Some(cause), _) => no_fax(unreached_hangup(cause)),
        (None, Some(o)) => o.clone(),
        // The terminal did not finish within `max_samples`: still in phase A.
        (None, None) => no_fax(Hangup::TxPhaseA),
    };
    let q850 = match tone_cause {
        Some(cause) => cause,
        None if fax_at.is_none() && ringback && outcome.hangup != Hangup::Normal => 19,
        // Normal clearing, a fax failure after the answer, or an answer without a fax (the
        // hang-up code tells those apart).
        None => line.q850_cause().unwrap_or(16),
    };
    Ok(CallReport {
        modem_s: if opts.call_progress {
            fax_at.map_or(0.0, |t| samples.saturating_sub(t) as f64 / 8000.0)
        } else {
            // Answering: from the first sound of the caller (CNG) on.
            term.modem_seconds()
        },
        call_s: samples as f64 / 8000.0,
        transmit_bytes: term.transmit_bytes,
        q850,
        progress: stopped_by,
        ringback,
        fax_heard: fax_at.is_some(),
        outcome,
    })
}

impl CallReport {
    /// A call that never reached a fax machine: the line could not place (or answer) it and
    /// gave the Q.850 `cause` — busy, no answer, number unobtainable, … It reports the
    /// hang-up of [`unreached_hangup`], no pages, no modem time, the cause, and ringback
    /// when the cause says the far end was alerted (19).
    pub fn unreached(cause: u8, call_s: f64) -> CallReport {
        CallReport {
            outcome: no_fax(unreached_hangup(cause)),
            modem_s: 0.0,
            call_s,
            transmit_bytes: 0,
            q850: cause,
            progress: None,
            ringback: cause == 19,
            fax_heard: false,
        }
    }
}

/// The T.30 hang-up of a call that never reached a fax machine, by its Q.850 cause: 11 "no
/// answer" for busy, no answer and every other failure before any T.30 signal; 10
/// "unspecified phase A error" when there was no call (0) or the line was out of order (38)
/// (docs/reference/t30-hangup-codes.md, docs/reference/q850-causes.md).
pub fn unreached_hangup(cause: u8) -> Hangup {
    match cause {
        0 | 38 => Hangup::TxPhaseA,
        _ => Hangup::NoAnswer,
    }
}

/// An outcome with nothing from a fax machine.
fn no_fax(hangup: Hangup) -> Outcome {
    Outcome {
        hangup,
        pages: 0,
        rate: None,
        ecm: false,
        coding: None,
        resolution: None,
        remote_ident: None,
    }
}

/// One line of the protocol trace for `e`.
pub fn describe(e: &Event) -> String {
    match e {
        Event::FrameIn(f) => format!("<- {f}"),
        Event::FrameOut(f) => format!("-> {f}"),
        Event::BadFrameIn(why) => format!("<- bad frame: {why}"),
        Event::EchoIn(fcf) => format!("<- {fcf} of our own (echo), ignored"),
        Event::Negotiated(c) => format!("   negotiated: {c}"),
        Event::PageConfirmed(n) => format!("   page {} confirmed", n + 1),
        Event::PageRefused(n) => format!("   page {} refused (RTN)", n + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreached_calls() {
        let busy = CallReport::unreached(17, 3.0);
        assert_eq!(busy.outcome.hangup.code(), 11);
        assert_eq!((busy.q850, busy.outcome.pages, busy.modem_s), (17, 0, 0.0));
        assert!(!busy.ringback && !busy.fax_heard && busy.progress.is_none());
        assert!(CallReport::unreached(19, 0.0).ringback);
        assert_eq!(CallReport::unreached(16, 0.0).outcome.hangup.code(), 11);
        assert_eq!(CallReport::unreached(38, 0.0).outcome.hangup.code(), 10);
        assert_eq!(CallReport::unreached(0, 0.0).outcome.hangup.code(), 10);
    }
}
