//! A PRI D-channel session (user side): [`q921::Link`] and [`q931::Calls`] driven over a
//! frame transport ([`FrameIo`]) with a wall clock, and [`place_call`], which follows an
//! outgoing call to CONNECT or to its clearing (ITU-T Q.931 §5.1).
//!
//! The transport is injected: a DAHDI D-channel (`crate::dahdi::pri`) or, here, a datagram
//! socket carrying one frame per datagram with two FCS placeholder bytes after it (libpri's
//! own convention, so libpri runs on the other end in the tests). Nothing here touches a
//! device.

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use super::q921::{self, Link, LinkEvent, Side};
use super::q931::{CallEvent, CallId, CallState, Calls, Cause, Setup};

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

/// What goes wrong on the D-channel.
#[derive(Debug, thiserror::Error)]
pub enum PriError {
    #[error("D-channel I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the D-channel did not come up within {0:?} (layer 2 down)")]
    LinkDown(Duration),
    #[error("no answer from the network within {0:?}")]
    Timeout(Duration),
    #[error("the span's D-channel is gone: {0}")]
    Dead(String),
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
        Pri::with_calls(io, Calls::new())
    }

    /// A user-side session for a span whose B-channels are known ([`Calls::with_channels`]).
    pub fn with_calls(io: T, calls: Calls) -> Pri<T> {
        let mut p = Pri {
            io,
            link: Link::new(Side::User),
            calls,
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
    pub fn link_stats(&self) -> q921::LinkStats {
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
                    self.calls.link_up(now);
                }
                LinkEvent::Released | LinkEvent::Failed => {
                    if self.link_up {
                        tracing::warn!("PRI: D-channel down");
                        self.calls.link_down(now);
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

    /// The state of call `id` (Q.931 §2.1.1).
    pub fn call_state(&self, id: CallId) -> CallState {
        self.calls.state(id)
    }

    /// Place a call.
    pub fn setup(&mut self, s: &Setup) -> CallId {
        let now = self.now();
        self.calls.setup(now, s)
    }

    /// Release every call here with `cause`; their events (queued ones first).
    pub fn clear_all(&mut self, cause: u8) -> Vec<CallEvent> {
        self.calls.clear_all(cause);
        while let Some(e) = self.calls.poll_event() {
            self.events.push_back(e);
        }
        self.events.drain(..).collect()
    }

    /// The call table.
    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    /// Move an incoming call asked for as preferred to another free channel.
    pub fn reassign(&mut self, id: CallId, channel: u8) -> bool {
        self.calls.reassign(id, channel)
    }

    /// Restart a channel, or all of them (Q.931 §5.5).
    pub fn restart(&mut self, channel: Option<u8>) {
        let now = self.now();
        self.calls.restart(now, channel)
    }

    /// Ask the network for the state of a call (Q.931 §5.8.10).
    pub fn status_enquiry(&mut self, id: CallId) {
        let now = self.now();
        self.calls.status_enquiry(now, id)
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
    let mut channel = s.channel;
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
