//! PRI lines on DAHDI (ITU-T Q.931 call control over Q.921 on the span's D-channel, audio on
//! a B-channel): the D-channel as a [`FrameIo`] (`hardhdlc`/`dchan`: one frame per read or
//! write, two FCS bytes appended on read and expected on write; docs/reference/dahdi.md),
//! [`PriLine`], a connected call on a B-channel in audio mode, and [`PriPort`], the `dahdi:N`
//! line on a clear channel that places or takes that call through its span's one D-channel
//! thread ([`SpanHandle`]), shared by every line of the span in the process.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use softfax_dsp::g711::Law;

use super::channel::{Channel, ReadOutcome};
use super::{ChannelSpec, DahdiError, sys};
use crate::isdn::pri::{FrameIo, Placed, PriError};
use crate::isdn::q931::{CallEvent, Cause, e1_channels, t1_channels};
use crate::isdn::span::{CallRequest, PriCall, SpanHandle, WeakSpan};
use crate::{BLOCK, Line, LineError};

fn dahdi_io(e: DahdiError) -> io::Error {
    io::Error::other(e)
}

impl FrameIo for Channel {
    fn send_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let mut v = frame.to_vec();
        v.extend([0, 0]);
        let n = self.write(&v).map_err(dahdi_io)?;
        if n == v.len() {
            Ok(())
        } else {
            Err(io::Error::other("D-channel: frame not taken whole"))
        }
    }

    fn recv_frame(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        buf.resize(1024, 0);
        loop {
            match self.read(buf).map_err(dahdi_io)? {
                ReadOutcome::Data(n) => {
                    buf.truncate(n.saturating_sub(2));
                    return Ok(true);
                }
                ReadOutcome::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        buf.clear();
                        return Ok(false);
                    }
                    // Short slices: a poll that wakes early costs one more read.
                    let r = self
                        .poll(false, left.min(Duration::from_millis(10)))
                        .map_err(dahdi_io)?;
                    if r.event {
                        // ALARM, BADFCS, ABORT …: counted in the channel's event list.
                        self.drain_events().map_err(dahdi_io)?;
                    }
                }
            }
        }
    }
}

/// A fax call on a PRI: its [`PriCall`] on the span's shared D-channel, audio on a B-channel.
pub struct PriLine {
    call: PriCall,
    bchan: Channel,
    law: Law,
    cause: Option<Cause>,
    ended: bool,
    txbuf: Vec<u8>,
    rxbuf: Vec<u8>,
}

impl PriLine {
    /// Take a connected call: B-channel in audio mode, law of the bearer, block size 160,
    /// echo canceller off, flushed (docs/reference/dahdi.md, "PRI B-channel, per call").
    pub fn new(call: PriCall, mut bchan: Channel, alaw: bool) -> Result<Self, LineError> {
        if bchan.params().sigtype != sys::DAHDI_SIG_CLEAR {
            return Err(DahdiError::WrongSignalling {
                what: bchan.what().to_string(),
                sigtype: bchan.params().sigtype,
                expected: "a clear channel (bchan= in system.conf)",
            }
            .into());
        }
        bchan.set_audio_mode(true)?;
        bchan.set_law(if alaw {
            sys::DAHDI_LAW_ALAW
        } else {
            sys::DAHDI_LAW_MULAW
        })?;
        bchan.set_blocksize(BLOCK)?;
        bchan.echo_canceller_off()?;
        bchan.flush(sys::DAHDI_FLUSH_ALL)?;
        Ok(PriLine {
            call,
            bchan,
            law: if alaw { Law::Alaw } else { Law::Ulaw },
            cause: None,
            ended: false,
            txbuf: Vec::with_capacity(BLOCK),
            rxbuf: vec![0; BLOCK],
        })
    }

    /// The call on the span (to ask its state, or to look at it after the call).
    pub fn call(&mut self) -> &mut PriCall {
        &mut self.call
    }

    /// The call's cause once known (with its location).
    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    fn poll_signalling(&mut self) {
        while let Some(e) = self.call.poll_event() {
            match e {
                CallEvent::Disconnected { cause, .. } | CallEvent::Released { cause, .. } => {
                    self.cause.get_or_insert(cause);
                    self.ended = true;
                }
                _ => {}
            }
        }
    }
}

impl Line for PriLine {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        self.poll_signalling();
        if self.ended {
            rx.fill(0);
            return Ok(false);
        }
        self.txbuf.clear();
        self.law.encode(tx, &mut self.txbuf);
        let t = Duration::from_secs(2);
        self.bchan.write_all(&self.txbuf, t)?;
        self.bchan.read_block(&mut self.rxbuf, t, false)?;
        for (o, &c) in rx.iter_mut().zip(&self.rxbuf) {
            *o = self.law.decode_sample(c);
        }
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        let c = self
            .call
            .hangup(16, Duration::from_secs(10))
            .map_err(pri_err)?;
        self.cause.get_or_insert(c);
        self.ended = true;
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        self.cause.map(|c| c.value)
    }
}

/// The spans this process runs, by device root and D-channel number: every `dahdi:` line
/// on a span shares its one D-channel thread, open while any of them is.
static SPANS: Mutex<Vec<(PathBuf, u32, WeakSpan)>> = Mutex::new(Vec::new());

/// The span whose D-channel is `d` under `root`: the running one, or a new one (the
/// D-channel opened, its thread started).
fn span_for(root: &Path, d: u32, e1: bool) -> Result<SpanHandle, LineError> {
    let mut spans = SPANS.lock().unwrap_or_else(|e| e.into_inner());
    spans.retain(|(_, _, w)| w.upgrade().is_some_and(|h| h.dead().is_none()));
    if let Some(h) = spans
        .iter()
        .find(|(r, n, _)| r == root && *n == d)
        .and_then(|(_, _, w)| w.upgrade())
    {
        return Ok(h);
    }
    let mut dc = Channel::open(root, &ChannelSpec::Number(d))?;
    let sig = dc.params().sigtype;
    if sig != sys::DAHDI_SIG_HDLCFCS && sig != sys::DAHDI_SIG_HARDHDLC {
        return Err(DahdiError::WrongSignalling {
            what: dc.what().to_string(),
            sigtype: sig,
            expected: "a D-channel (hardhdlc= or dchan= in system.conf)",
        }
        .into());
    }
    dc.set_bufinfo(sys::DahdiBufferInfo {
        txbufpolicy: sys::DAHDI_POLICY_IMMEDIATE,
        rxbufpolicy: sys::DAHDI_POLICY_IMMEDIATE,
        numbufs: 32,
        bufsize: 1024,
        readbufs: -1,
        writebufs: -1,
    })?;
    let bchans = if e1 { e1_channels() } else { t1_channels() };
    let h = SpanHandle::start(dc, bchans, true, &format!("dchan {d}"));
    spans.push((root.to_path_buf(), d, h.downgrade()));
    Ok(h)
}

/// `dahdi:N` on a PRI B-channel (a clear channel): the span's D-channel (`dchan=M` in the
/// URI, else channel 16 of an E1 span or 24 of a T1 span) is shared by every line of the
/// span in this process — opened by the first, run by one thread ([`SpanHandle`]) — and
/// [`Line::dial`] / [`Line::answer`] place or take a call on this B-channel (exclusive);
/// the fax then runs on its audio.
pub struct PriPort {
    span: SpanHandle,
    bchan: Option<Channel>,
    line: Option<PriLine>,
    /// Q.931 channel number (the B-channel's position in its span).
    chanpos: u8,
    alaw: bool,
    cause: Option<u8>,
    answer_timeout: Duration,
    calling: Option<String>,
    /// The called party number of the SETUP answered (DNIS/DID).
    called: Option<String>,
}

impl PriPort {
    /// Join (or start) the span of `bchan` and wait until its D-channel is up and its
    /// channels restarted.
    pub fn open(
        root: &Path,
        bchan: Channel,
        dchan: Option<u32>,
        answer_timeout: Duration,
        calling: Option<String>,
    ) -> Result<PriPort, LineError> {
        let p = *bchan.params();
        let span = bchan.span_health()?;
        if span.in_alarm() {
            return Err(LineError::LineDown(format!(
                "{}: span {} in {} alarm",
                bchan.what(),
                span.spanno,
                span.alarm_names()
            )));
        }
        let first = p.channo - p.chanpos + 1;
        // SPANSTAT's totalchans tells E1 (31: D in timeslot 16) from T1 (24: D last).
        let e1 = span.totalchans >= 31;
        let d = match dchan {
            Some(d) => d,
            None => (first + if e1 { 15 } else { 23 }) as u32,
        };
        let handle = span_for(root, d, e1)?;
        handle
            .wait_ready(Duration::from_secs(10))
            .map_err(|e| LineError::LineDown(format!("PRI D-channel {d}: {e}")))?;
        Ok(PriPort {
            span: handle,
            alaw: p.curlaw == sys::DAHDI_LAW_ALAW,
            chanpos: p.chanpos as u8,
            bchan: Some(bchan),
            line: None,
            cause: None,
            answer_timeout,
            calling,
            called: None,
        })
    }

    /// The span this port is on.
    pub fn span(&self) -> &SpanHandle {
        &self.span
    }

    fn connected(&mut self, call: PriCall) -> Result<(), LineError> {
        let Some(b) = self.bchan.take() else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        self.line = Some(PriLine::new(call, b, self.alaw)?);
        Ok(())
    }

    fn used(&self) -> Result<(), LineError> {
        if self.bchan.is_none() {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        }
        Ok(())
    }
}

fn pri_err(e: PriError) -> LineError {
    LineError::Io {
        what: "PRI D-channel".into(),
        source: io::Error::other(e),
    }
}

impl Line for PriPort {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        match self.line.as_mut() {
            Some(l) => l.exchange(tx, rx),
            None => Err(LineError::CallFailed {
                cause: 0,
                reason: "a PRI line needs a call: fax send --dial NUMBER, or fax recv".into(),
            }),
        }
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        if let Some(l) = self.line.as_mut() {
            l.hangup()?;
            self.cause = l.q850_cause();
        }
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        self.line
            .as_ref()
            .and_then(|l| l.q850_cause())
            .or(self.cause)
    }

    fn dial(&mut self, number: &str) -> Result<(), LineError> {
        self.used()?;
        let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            self.cause = Some(28);
            return Err(LineError::CallFailed {
                cause: 28,
                reason: format!("'{number}' has no digits"),
            });
        }
        let req = CallRequest {
            called: digits,
            calling: self.calling.clone(),
            channel: Some(self.chanpos),
            exclusive: true,
            alaw: self.alaw,
            sending_complete: true,
        };
        let (call, placed) = self.span.dial(req, self.answer_timeout).map_err(pri_err)?;
        match placed {
            Placed::Connected { channel } if channel == Some(self.chanpos) => self.connected(call),
            Placed::Connected { channel } => {
                // Our SETUP was exclusive: the network may not move it.
                drop(call);
                self.cause = Some(6);
                Err(LineError::CallFailed {
                    cause: 6,
                    reason: format!(
                        "the network connected the call on channel {channel:?}, not {}",
                        self.chanpos
                    ),
                })
            }
            Placed::Failed(c) => {
                self.cause = Some(c.value);
                Err(LineError::CallFailed {
                    cause: c.value,
                    reason: format!("cleared by the network (location {})", c.location),
                })
            }
        }
    }

    fn called_number(&self) -> Option<String> {
        self.called.clone()
    }

    fn answer(&mut self) -> Result<(), LineError> {
        self.used()?;
        let timeout = self.answer_timeout;
        let Some(inc) = self
            .span
            .wait_call(self.chanpos, timeout)
            .map_err(pri_err)?
        else {
            return Err(LineError::CallFailed {
                cause: 0,
                reason: format!("no incoming call within {timeout:?}"),
            });
        };
        self.called = inc.called;
        let mut call = inc.call;
        match call.answer(Duration::from_secs(10)).map_err(pri_err)? {
            Ok(()) => self.connected(call),
            Err(cause) => {
                self.cause = Some(cause.value);
                Err(LineError::CallFailed {
                    cause: cause.value,
                    reason: "the caller cleared before the call was connected".into(),
                })
            }
        }
    }
}
