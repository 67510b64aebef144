//! A PRI D-channel session: [`q921::Link`] and [`q931::Calls`] driven over a frame
//! transport with a wall clock, and [`PriLine`], a fax call whose signalling runs on the
//! D-channel and whose audio runs on a DAHDI B-channel in audio mode (dahdi.md §8).
//!
//! Transports ([`FrameIo`]): a DAHDI D-channel ([`Channel`], `hardhdlc`/`dchan`: one frame
//! per read/write, two FCS bytes appended on read and expected on write, dahdi.md §7) and a
//! datagram socket (the same "+2 bytes" convention, so libpri runs on the other end, §14).

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use softfax_dsp::g711::Law;

use super::q921::{Link, LinkEvent, Side};
use super::q931::{CallEvent, CallId, Calls, Cause, Setup};
use crate::dahdi::channel::{Channel, ReadOutcome};
use crate::dahdi::{DahdiError, sys};
use crate::{BLOCK, LineError};

/// One HDLC frame per call, two FCS bytes after it on the wire of the transport.
pub trait FrameIo {
    /// Send one frame (address + control + information).
    fn send_frame(&mut self, frame: &[u8]) -> io::Result<()>;
    /// Receive one frame into `buf` (FCS bytes removed), waiting up to `timeout`.
    /// `Ok(false)` on timeout.
    fn recv_frame(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<bool>;
}

impl FrameIo for UnixDatagram {
    fn send_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let mut v = frame.to_vec();
        v.extend([0, 0]);
        self.send(&v).map(|_| ())
    }

    fn recv_frame(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<bool> {
        // A zero timeout polls without blocking.
        self.set_nonblocking(timeout.is_zero())?;
        if !timeout.is_zero() {
            self.set_read_timeout(Some(timeout))?;
        }
        buf.resize(512, 0);
        match self.recv(buf) {
            Ok(n) => {
                buf.truncate(n.saturating_sub(2));
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                buf.clear();
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

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

/// What goes wrong on the D-channel.
#[derive(Debug, thiserror::Error)]
pub enum PriError {
    #[error("D-channel I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the D-channel did not come up within {0:?} (layer 2 down)")]
    LinkDown(Duration),
    #[error("no answer from the network within {0:?}")]
    Timeout(Duration),
}

/// Q.921 + Q.931 user side over a transport.
pub struct Pri<T: FrameIo> {
    io: T,
    link: Link,
    calls: Calls,
    start: Instant,
    events: VecDeque<CallEvent>,
    buf: Vec<u8>,
    link_up: bool,
}

impl<T: FrameIo> Pri<T> {
    /// A user-side session; starts establishing the link at once.
    pub fn new(io: T) -> Pri<T> {
        let mut p = Pri {
            io,
            link: Link::new(Side::User),
            calls: Calls::new(),
            start: Instant::now(),
            events: VecDeque::new(),
            buf: Vec::new(),
            link_up: false,
        };
        p.link.establish(0);
        p
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn is_up(&self) -> bool {
        self.link_up
    }

    /// The Q.921 counters.
    pub fn link_stats(&self) -> super::q921::LinkStats {
        self.link.stats
    }

    fn flush(&mut self) -> io::Result<()> {
        let now = self.now();
        while let Some(m) = self.calls.poll_transmit() {
            self.link.send_data(now, m);
        }
        while let Some(f) = self.link.poll_transmit() {
            self.io.send_frame(&f)?;
        }
        Ok(())
    }

    fn absorb(&mut self) {
        let now = self.now();
        while let Some(e) = self.link.poll_event() {
            match e {
                LinkEvent::Established => {
                    tracing::info!("PRI: D-channel up");
                    self.link_up = true;
                }
                LinkEvent::Released | LinkEvent::Failed => {
                    if self.link_up {
                        tracing::warn!("PRI: D-channel down");
                    }
                    self.link_up = false;
                }
                LinkEvent::Data(m) => self.calls.handle_message(now, &m),
            }
        }
        while let Some(e) = self.calls.poll_event() {
            self.events.push_back(e);
        }
    }

    /// Run the session for up to `max`, returning early with the first call event.
    pub fn step(&mut self, max: Duration) -> Result<Option<CallEvent>, PriError> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        let deadline = self.now() + max.as_millis() as u64;
        loop {
            self.flush()?;
            let now = self.now();
            let next = [
                self.link.poll_timeout(),
                self.calls.poll_timeout(),
                Some(deadline),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(deadline);
            let wait = Duration::from_millis(next.saturating_sub(now));
            if self.io.recv_frame(&mut self.buf, wait)? {
                let now = self.now();
                let f = std::mem::take(&mut self.buf);
                self.link.handle_frame(now, &f);
                self.buf = f;
            }
            let now = self.now();
            self.link.handle_timeout(now);
            self.calls.handle_timeout(now);
            self.absorb();
            self.flush()?;
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            if self.now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Wait until layer 2 is up.
    pub fn wait_up(&mut self, timeout: Duration) -> Result<(), PriError> {
        let end = Instant::now() + timeout;
        while !self.link_up {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PriError::LinkDown(timeout));
            }
            if let Some(e) = self.step(left.min(Duration::from_millis(200)))? {
                self.events.push_front(e);
                break;
            }
        }
        Ok(())
    }

    /// Place a call.
    pub fn setup(&mut self, s: &Setup) -> CallId {
        let now = self.now();
        self.calls.setup(now, s)
    }

    /// Answer an incoming call.
    pub fn answer(&mut self, id: CallId) {
        let now = self.now();
        self.calls.answer(now, id)
    }

    /// Clear a call with `cause`.
    pub fn hangup(&mut self, id: CallId, cause: u8) {
        let now = self.now();
        self.calls.hangup(now, id, cause)
    }

    /// Wait until `id` is released, up to `timeout`; its cause.
    pub fn wait_released(&mut self, id: CallId, timeout: Duration) -> Result<Cause, PriError> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PriError::Timeout(timeout));
            }
            if let Some(CallEvent::Released { call, cause }) = self.step(left)?
                && call == id
            {
                return Ok(cause);
            }
        }
    }
}

/// How an outgoing PRI call ended before the fax could start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// CONNECT: the call is up on this B-channel.
    Connected { channel: Option<u8> },
    /// Cleared by the network (or by our timers) with this cause.
    Failed(Cause),
}

/// Place a call and follow it to CONNECT or to its clearing (answer timeout `answer`:
/// after ALERTING cleared with 19, before it with 18).
pub fn place_call<T: FrameIo>(
    pri: &mut Pri<T>,
    s: &Setup,
    answer: Duration,
) -> Result<(CallId, Placed), PriError> {
    let id = pri.setup(s);
    let end = Instant::now() + answer;
    let mut alerted = false;
    let mut channel = Some(s.channel);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let cause = if alerted { 19 } else { 18 };
            pri.hangup(id, cause);
            let c = pri.wait_released(id, Duration::from_secs(10))?;
            return Ok((id, Placed::Failed(c)));
        }
        match pri.step(left)? {
            Some(CallEvent::Proceeding {
                call,
                channel: Some(c),
            }) if call == id => channel = Some(c),
            Some(CallEvent::Alerting { call }) if call == id => alerted = true,
            Some(CallEvent::Connected { call }) if call == id => {
                return Ok((id, Placed::Connected { channel }));
            }
            Some(CallEvent::Disconnected { call, .. }) if call == id => {}
            Some(CallEvent::Released { call, cause }) if call == id => {
                return Ok((id, Placed::Failed(cause)));
            }
            _ => {}
        }
    }
}

/// A fax call on a PRI: Q.931 on the D-channel, audio on a B-channel.
pub struct PriLine<T: FrameIo> {
    pri: Pri<T>,
    call: CallId,
    bchan: Channel,
    law: Law,
    cause: Option<Cause>,
    ended: bool,
    txbuf: Vec<u8>,
    rxbuf: Vec<u8>,
}

impl<T: FrameIo> PriLine<T> {
    /// Take a connected call: B-channel in audio mode, law of the bearer, block size 160,
    /// echo canceller off, flushed (dahdi.md §8 "PRI B-channel, per call").
    pub fn new(
        pri: Pri<T>,
        call: CallId,
        mut bchan: Channel,
        alaw: bool,
    ) -> Result<Self, LineError> {
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
            pri,
            call,
            bchan,
            law: if alaw { Law::Alaw } else { Law::Ulaw },
            cause: None,
            ended: false,
            txbuf: Vec::with_capacity(BLOCK),
            rxbuf: vec![0; BLOCK],
        })
    }

    /// The session (to clear or inspect after the call).
    pub fn pri(&mut self) -> &mut Pri<T> {
        &mut self.pri
    }

    /// The call's cause once known (with its location).
    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    fn poll_signalling(&mut self) -> Result<(), LineError> {
        let step = self.pri.step(Duration::ZERO).map_err(|e| LineError::Io {
            what: "PRI D-channel".into(),
            source: io::Error::other(e),
        })?;
        match step {
            Some(CallEvent::Disconnected { call, cause }) if call == self.call => {
                self.cause.get_or_insert(cause);
                self.ended = true;
            }
            Some(CallEvent::Released { call, cause }) if call == self.call => {
                self.cause.get_or_insert(cause);
                self.ended = true;
            }
            _ => {}
        }
        Ok(())
    }
}

impl<T: FrameIo> crate::Line for PriLine<T> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        self.poll_signalling()?;
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
        if self.pri.calls.state(self.call) == super::q931::CallState::Null {
            return Ok(());
        }
        self.pri.hangup(self.call, 16);
        let c = self
            .pri
            .wait_released(self.call, Duration::from_secs(10))
            .map_err(|e| LineError::Io {
                what: "PRI D-channel".into(),
                source: io::Error::other(e),
            })?;
        self.cause.get_or_insert(c);
        self.ended = true;
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        self.cause.map(|c| c.value)
    }
}

/// `dahdi:N` on a PRI B-channel (a clear channel): the D-channel of the same span is opened
/// for the duration of the call (`dchan=M` in the URI, else channel 16 of an E1 span or 24 of
/// a T1 span), Q.921 brought up, and [`crate::Line::dial`] / [`crate::Line::answer`] place or
/// take the call on this B-channel; the fax then runs on its audio.
pub struct PriPort {
    pri: Option<Pri<Channel>>,
    bchan: Option<Channel>,
    line: Option<PriLine<Channel>>,
    /// Q.931 channel number (the B-channel's position in its span).
    chanpos: u8,
    alaw: bool,
    cause: Option<u8>,
    answer_timeout: Duration,
    calling: Option<String>,
}

impl PriPort {
    /// Open the D-channel of `bchan`'s span and bring layer 2 up.
    pub fn open(
        root: &std::path::Path,
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
        let d = match dchan {
            Some(d) => d,
            // SPANSTAT's totalchans tells E1 (31: D in timeslot 16) from T1 (24: D last).
            None => (first + if span.totalchans >= 31 { 15 } else { 23 }) as u32,
        };
        let mut dc = Channel::open(root, &crate::dahdi::ChannelSpec::Number(d))?;
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
        let mut pri = Pri::new(dc);
        pri.wait_up(Duration::from_secs(10))
            .map_err(|e| LineError::LineDown(format!("PRI D-channel {d}: {e}")))?;
        Ok(PriPort {
            pri: Some(pri),
            alaw: p.curlaw == sys::DAHDI_LAW_ALAW,
            chanpos: p.chanpos as u8,
            bchan: Some(bchan),
            line: None,
            cause: None,
            answer_timeout,
            calling,
        })
    }

    fn connected(&mut self, call: CallId) -> Result<(), LineError> {
        let (pri, b) = (self.pri.take(), self.bchan.take());
        let (Some(pri), Some(b)) = (pri, b) else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        self.line = Some(PriLine::new(pri, call, b, self.alaw)?);
        Ok(())
    }
}

fn pri_err(e: PriError) -> LineError {
    LineError::Io {
        what: "PRI D-channel".into(),
        source: io::Error::other(e),
    }
}

impl crate::Line for PriPort {
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
        let Some(pri) = self.pri.as_mut() else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            self.cause = Some(28);
            return Err(LineError::CallFailed {
                cause: 28,
                reason: format!("'{number}' has no digits"),
            });
        }
        let setup = Setup {
            called: &digits,
            calling: self.calling.as_deref(),
            channel: self.chanpos,
            alaw: self.alaw,
            sending_complete: true,
        };
        let (id, placed) = place_call(pri, &setup, self.answer_timeout).map_err(pri_err)?;
        match placed {
            Placed::Connected { .. } => self.connected(id),
            Placed::Failed(c) => {
                self.cause = Some(c.value);
                Err(LineError::CallFailed {
                    cause: c.value,
                    reason: format!("cleared by the network (location {})", c.location),
                })
            }
        }
    }

    fn answer(&mut self) -> Result<(), LineError> {
        let chanpos = self.chanpos;
        let timeout = self.answer_timeout;
        let Some(pri) = self.pri.as_mut() else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        let end = Instant::now() + timeout;
        let mut ours = None;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LineError::CallFailed {
                    cause: 0,
                    reason: format!("no incoming call within {timeout:?}"),
                });
            }
            match pri.step(left).map_err(pri_err)? {
                Some(CallEvent::Incoming { call, channel, .. }) => {
                    if channel.is_none_or(|c| c == chanpos) && ours.is_none() {
                        ours = Some(call);
                        pri.answer(call);
                    } else {
                        // Not for this B-channel: channel unacceptable.
                        pri.hangup(call, 6);
                    }
                }
                Some(CallEvent::Connected { call }) if Some(call) == ours => {
                    return self.connected(call);
                }
                Some(CallEvent::Released { call, cause }) if Some(call) == ours => {
                    self.cause = Some(cause.value);
                    return Err(LineError::CallFailed {
                        cause: cause.value,
                        reason: "the caller cleared before the call was connected".into(),
                    });
                }
                _ => {}
            }
        }
    }
}
