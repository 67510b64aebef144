//! A whole PRI span on one D-channel: one thread owns the D-channel's [`Pri`] (the Q.921
//! link and the Q.931 call table, keyed by call reference) and every B-channel's line
//! talks to it through a [`SpanHandle`] — commands in over a channel, each call's events out
//! over its own channel. So 23 (T1) or 30 (E1) calls run at once, in and out, over the one
//! D-channel that DAHDI lets one process open.
//!
//! The thread: on the link's first establishment it restarts all channels (Q.931 §5.5,
//! RESTART class 7; the span is *ready* once that is acknowledged), then serves commands
//! between frames and timers. An incoming SETUP goes to the line listening on its channel;
//! a preferred one asked for a channel nobody listens on is moved to a free channel whose
//! line listens; otherwise it is refused (44 for its exclusive channel, 34 when no line
//! waits). Every line's call events reach only that line. The thread ends when the
//! transport fails (every call released with 41, the span marked dead) or when every
//! handle is gone and no call is left.
//!
//! **Tested by:** `drivers/tests/isdn_libpri.rs` (libpri as the network side: a span of
//! calls at once in and out with glare, RESTART and STATUS ENQUIRY; an E1 of fax calls on
//! the FUSE fake DAHDI).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::pri::{FrameIo, Placed, Pri, PriError};
use super::q931::{CallEvent, CallId, Calls, Cause, Setup};

/// A SETUP's contents, owned (sent to the span's thread).
#[derive(Debug, Clone, Default)]
pub struct CallRequest {
    pub called: String,
    pub calling: Option<String>,
    pub channel: Option<u8>,
    pub exclusive: bool,
    pub alaw: bool,
    pub sending_complete: bool,
}

enum Command {
    Setup {
        req: CallRequest,
        events: Sender<CallEvent>,
        id: Sender<CallId>,
    },
    Listen {
        channel: u8,
        events: Sender<CallEvent>,
    },
    Unlisten {
        channel: u8,
    },
    Answer(CallId),
    Hangup(CallId, u8),
    StatusEnquiry(CallId),
    Restart(Option<u8>),
    /// The last handle is gone.
    Close,
}

/// What the span's thread shows to the handles.
#[derive(Default)]
struct Shown {
    up: AtomicBool,
    ready: AtomicBool,
    dead: Mutex<Option<String>>,
    calls: AtomicU64,
    most_at_once: AtomicU64,
    restarts_by_network: AtomicU64,
    refused: AtomicU64,
    statuses: AtomicU64,
    listening: AtomicU64,
    maintenance: AtomicU64,
}

/// Counters of a span, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanStats {
    /// Calls in the call table now.
    pub calls: u64,
    /// The most calls the table held at once.
    pub most_at_once: u64,
    /// RESTARTs received from the network.
    pub restarts_by_network: u64,
    /// Incoming SETUPs refused because no line listened.
    pub refused: u64,
    /// STATUS messages received for our calls.
    pub statuses: u64,
    /// Lines waiting for a call.
    pub listening: u64,
    /// Channels waiting for a RESTART ACKNOWLEDGE.
    pub in_maintenance: u64,
}

/// A handle on a span's D-channel thread; cheap to clone, one per line. When the last
/// clone goes, the thread gives the calls left up to [`CLOSING`] to clear, closes the
/// D-channel and is joined.
#[derive(Clone)]
pub struct SpanHandle {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Sender<Command>,
    shown: Arc<Shown>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Close);
        let t = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }
}

/// How long a closing span waits for its last calls to clear.
pub const CLOSING: Duration = Duration::from_secs(2);

/// A weak reference to a span, for registries that must not keep it alive.
#[derive(Clone)]
pub struct WeakSpan(std::sync::Weak<Inner>);

impl WeakSpan {
    pub fn upgrade(&self) -> Option<SpanHandle> {
        self.0.upgrade().map(|inner| SpanHandle { inner })
    }
}

/// The span's thread's poll interval for commands while no frame arrives.
const TICK: Duration = Duration::from_millis(5);

impl SpanHandle {
    /// Start the span's thread on `io`, for a span with B-channels `bchans`; with `restart`,
    /// all channels are restarted when the link first comes up.
    pub fn start<T: FrameIo + Send + 'static>(
        io: T,
        bchans: Vec<u8>,
        restart: bool,
        name: &str,
    ) -> SpanHandle {
        let (tx, rx) = mpsc::channel();
        let shown = Arc::new(Shown::default());
        if !restart {
            shown.ready.store(true, Ordering::SeqCst);
        }
        let s = shown.clone();
        let pri = Pri::with_calls(io, Calls::with_channels(bchans));
        let name = name.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("pri {name}"))
            .spawn(move || {
                let mut task = Task {
                    pri,
                    rx,
                    shown: s.clone(),
                    routes: HashMap::new(),
                    listeners: HashMap::new(),
                    restart,
                    restarted: false,
                    closing: None,
                };
                let end = task.run();
                let why = match end {
                    Ok(()) => "every handle closed".to_string(),
                    Err(e) => {
                        tracing::error!("PRI span {name}: {e}");
                        e.to_string()
                    }
                };
                s.up.store(false, Ordering::SeqCst);
                s.ready.store(false, Ordering::SeqCst);
                *s.dead.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            })
            .expect("spawn the PRI span thread");
        SpanHandle {
            inner: Arc::new(Inner {
                tx,
                shown,
                thread: Mutex::new(Some(thread)),
            }),
        }
    }

    /// A reference that does not keep the span open.
    pub fn downgrade(&self) -> WeakSpan {
        WeakSpan(Arc::downgrade(&self.inner))
    }

    /// Layer 2 is up.
    pub fn is_up(&self) -> bool {
        self.inner.shown.up.load(Ordering::SeqCst)
    }

    /// Why the span's thread ended, if it did.
    pub fn dead(&self) -> Option<String> {
        self.inner
            .shown
            .dead
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn stats(&self) -> SpanStats {
        let s = &self.inner.shown;
        SpanStats {
            calls: s.calls.load(Ordering::SeqCst),
            most_at_once: s.most_at_once.load(Ordering::SeqCst),
            restarts_by_network: s.restarts_by_network.load(Ordering::SeqCst),
            refused: s.refused.load(Ordering::SeqCst),
            statuses: s.statuses.load(Ordering::SeqCst),
            listening: s.listening.load(Ordering::SeqCst),
            in_maintenance: s.maintenance.load(Ordering::SeqCst),
        }
    }

    /// Wait until the link is up and the start-up RESTART acknowledged.
    pub fn wait_ready(&self, timeout: Duration) -> Result<(), PriError> {
        let end = Instant::now() + timeout;
        while !self.inner.shown.ready.load(Ordering::SeqCst) {
            if let Some(why) = self.dead() {
                return Err(PriError::Dead(why));
            }
            if Instant::now() >= end {
                return Err(PriError::LinkDown(timeout));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    fn send(&self, c: Command) -> Result<(), PriError> {
        self.inner
            .tx
            .send(c)
            .map_err(|_| PriError::Dead(self.dead().unwrap_or_else(|| "gone".into())))
    }

    /// Send a SETUP; the call's events come on the returned [`PriCall`].
    pub fn setup(&self, req: CallRequest) -> Result<PriCall, PriError> {
        let (etx, erx) = mpsc::channel();
        let (itx, irx) = mpsc::channel();
        let channel = req.channel;
        self.send(Command::Setup {
            req,
            events: etx,
            id: itx,
        })?;
        let id = irx
            .recv()
            .map_err(|_| PriError::Dead(self.dead().unwrap_or_else(|| "gone".into())))?;
        Ok(PriCall {
            span: self.clone(),
            call: id,
            events: erx,
            released: None,
            channel,
        })
    }

    /// Place a call and follow it to CONNECT or to its clearing (answer timeout `answer`:
    /// after ALERTING cleared with 19, before it with 18).
    pub fn dial(&self, req: CallRequest, answer: Duration) -> Result<(PriCall, Placed), PriError> {
        let mut call = self.setup(req)?;
        let end = Instant::now() + answer;
        let mut alerted = false;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let cause = if alerted { 19 } else { 18 };
                let c = call.hangup(cause, Duration::from_secs(10))?;
                return Ok((call, Placed::Failed(c)));
            }
            match call.next_event(left)? {
                Some(CallEvent::Alerting { .. }) => alerted = true,
                Some(CallEvent::Connected { .. }) => {
                    let channel = call.channel;
                    return Ok((call, Placed::Connected { channel }));
                }
                Some(CallEvent::Released { cause, .. }) => {
                    return Ok((call, Placed::Failed(cause)));
                }
                _ => {}
            }
        }
    }

    /// Wait up to `timeout` for a call on B-channel `channel` (or one moved to it).
    pub fn wait_call(
        &self,
        channel: u8,
        timeout: Duration,
    ) -> Result<Option<IncomingCall>, PriError> {
        let (etx, erx) = mpsc::channel();
        self.send(Command::Listen {
            channel,
            events: etx,
        })?;
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.send(Command::Unlisten { channel })?;
                // A SETUP routed here meanwhile is still ours.
                if let Ok(CallEvent::Incoming {
                    call,
                    channel,
                    called,
                    calling,
                    ..
                }) = erx.try_recv()
                {
                    return Ok(Some(self.incoming(call, channel, called, calling, erx)));
                }
                return Ok(None);
            }
            match erx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(CallEvent::Incoming {
                    call,
                    channel,
                    called,
                    calling,
                    ..
                }) => return Ok(Some(self.incoming(call, channel, called, calling, erx))),
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PriError::Dead(self.dead().unwrap_or_else(|| "gone".into())));
                }
            }
        }
    }

    fn incoming(
        &self,
        call: CallId,
        channel: Option<u8>,
        called: Option<String>,
        calling: Option<String>,
        events: Receiver<CallEvent>,
    ) -> IncomingCall {
        IncomingCall {
            call: PriCall {
                span: self.clone(),
                call,
                events,
                released: None,
                channel,
            },
            called,
            calling,
        }
    }

    /// Restart a channel, or all (Q.931 §5.5); the calls on them are released.
    pub fn restart(&self, channel: Option<u8>) -> Result<(), PriError> {
        self.send(Command::Restart(channel))
    }
}

/// A SETUP from the network, routed to the line listening on its channel.
pub struct IncomingCall {
    pub call: PriCall,
    pub called: Option<String>,
    pub calling: Option<String>,
}

/// One call on a span: its events, and the commands that act on it. Dropped before its
/// release, the call is cleared (16).
pub struct PriCall {
    span: SpanHandle,
    call: CallId,
    events: Receiver<CallEvent>,
    released: Option<Cause>,
    channel: Option<u8>,
}

impl PriCall {
    pub fn id(&self) -> CallId {
        self.call
    }

    /// The B-channel (the network's choice once it answered).
    pub fn channel(&self) -> Option<u8> {
        self.channel
    }

    /// The cause once released.
    pub fn released(&self) -> Option<Cause> {
        self.released
    }

    fn note(&mut self, e: &CallEvent) {
        match e {
            CallEvent::Proceeding {
                channel: Some(c), ..
            } => self.channel = Some(*c),
            CallEvent::Released { cause, .. } => self.released = Some(*cause),
            _ => {}
        }
    }

    /// The next event within `timeout` (`None`: none came).
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<CallEvent>, PriError> {
        if self.released.is_some() {
            return Ok(None);
        }
        match self.events.recv_timeout(timeout) {
            Ok(e) => {
                self.note(&e);
                Ok(Some(e))
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => {
                self.released = Some(Cause::new(41));
                Err(PriError::Dead(
                    self.span.dead().unwrap_or_else(|| "gone".into()),
                ))
            }
        }
    }

    /// An event if one is waiting.
    pub fn poll_event(&mut self) -> Option<CallEvent> {
        match self.events.try_recv() {
            Ok(e) => {
                self.note(&e);
                Some(e)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                if self.released.is_none() {
                    self.released = Some(Cause::new(41));
                    return Some(CallEvent::Released {
                        call: self.call,
                        cause: Cause::new(41),
                    });
                }
                None
            }
        }
    }

    /// Answer (CALL PROCEEDING, CONNECT) and wait for CONNECT ACKNOWLEDGE.
    pub fn answer(&mut self, timeout: Duration) -> Result<Result<(), Cause>, PriError> {
        self.span.send(Command::Answer(self.call))?;
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PriError::Timeout(timeout));
            }
            match self.next_event(left)? {
                Some(CallEvent::Connected { .. }) => return Ok(Ok(())),
                Some(CallEvent::Released { cause, .. }) => return Ok(Err(cause)),
                _ => {}
            }
        }
    }

    /// Ask the network for the call's state (STATUS ENQUIRY).
    pub fn status_enquiry(&self) -> Result<(), PriError> {
        self.span.send(Command::StatusEnquiry(self.call))
    }

    /// Clear with `cause` and wait for the release; the call's cause.
    pub fn hangup(&mut self, cause: u8, timeout: Duration) -> Result<Cause, PriError> {
        if let Some(c) = self.released {
            return Ok(c);
        }
        self.span.send(Command::Hangup(self.call, cause))?;
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PriError::Timeout(timeout));
            }
            if let Some(CallEvent::Released { cause, .. }) = self.next_event(left)? {
                return Ok(cause);
            }
        }
    }
}

impl Drop for PriCall {
    fn drop(&mut self) {
        if self.released.is_none() {
            let _ = self.span.send(Command::Hangup(self.call, 16));
        }
    }
}

struct Task<T: FrameIo> {
    pri: Pri<T>,
    rx: Receiver<Command>,
    shown: Arc<Shown>,
    routes: HashMap<CallId, Sender<CallEvent>>,
    listeners: HashMap<u8, Sender<CallEvent>>,
    restart: bool,
    restarted: bool,
    /// Closing: the calls left have until then to clear.
    closing: Option<Instant>,
}

impl<T: FrameIo> Task<T> {
    fn run(&mut self) -> Result<(), PriError> {
        let mut handles_gone = false;
        loop {
            loop {
                match self.rx.try_recv() {
                    Ok(c) => self.command(c),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        handles_gone = true;
                        break;
                    }
                }
            }
            if let Some(end) = self.closing
                && (self.pri.calls().is_empty() || Instant::now() >= end)
            {
                return Ok(());
            }
            if handles_gone && self.pri.calls().is_empty() {
                return Ok(());
            }
            let mut wait = TICK;
            loop {
                let step = self.pri.step(wait);
                let e = match step {
                    Ok(e) => e,
                    Err(e) => {
                        for ev in self.pri.clear_all(41) {
                            self.event(ev);
                        }
                        self.routes.clear();
                        return Err(e);
                    }
                };
                let Some(e) = e else { break };
                self.event(e);
                wait = Duration::ZERO;
            }
            let up = self.pri.is_up();
            self.shown.up.store(up, Ordering::SeqCst);
            if up && self.restart && !self.restarted {
                self.restarted = true;
                tracing::info!("PRI: restarting all channels (RESTART, class 7)");
                self.pri.restart(None);
            }
            let calls = self.pri.calls();
            let n = calls.len() as u64;
            let (st, mt) = (calls.statuses_received, calls.in_maintenance().len() as u64);
            self.shown.statuses.store(st, Ordering::SeqCst);
            self.shown.maintenance.store(mt, Ordering::SeqCst);
            self.shown
                .listening
                .store(self.listeners.len() as u64, Ordering::SeqCst);
            self.shown.calls.store(n, Ordering::SeqCst);
            self.shown.most_at_once.fetch_max(n, Ordering::SeqCst);
        }
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Setup { req, events, id } => {
                let s = Setup {
                    called: &req.called,
                    calling: req.calling.as_deref(),
                    channel: req.channel,
                    exclusive: req.exclusive,
                    alaw: req.alaw,
                    sending_complete: req.sending_complete,
                };
                let call = self.pri.setup(&s);
                self.routes.insert(call, events);
                let _ = id.send(call);
            }
            Command::Listen { channel, events } => {
                self.listeners.insert(channel, events);
            }
            Command::Unlisten { channel } => {
                self.listeners.remove(&channel);
            }
            Command::Answer(id) => self.pri.answer(id),
            Command::Hangup(id, cause) => self.pri.hangup(id, cause),
            Command::StatusEnquiry(id) => self.pri.status_enquiry(id),
            Command::Restart(ch) => self.pri.restart(ch),
            Command::Close => self.closing = Some(Instant::now() + CLOSING),
        }
    }

    fn event(&mut self, e: CallEvent) {
        match e {
            CallEvent::Incoming {
                call,
                channel,
                exclusive,
                called,
                calling,
            } => {
                let mut ev = CallEvent::Incoming {
                    call,
                    channel,
                    exclusive,
                    called,
                    calling,
                };
                // The line on its channel; a preferred call may move to a listening one.
                let mut candidates: Vec<u8> = channel.into_iter().collect();
                if !exclusive {
                    let free = self.pri.calls().free_channels();
                    candidates.extend(
                        free.into_iter()
                            .filter(|c| Some(*c) != channel && self.listeners.contains_key(c)),
                    );
                }
                for ch in candidates {
                    let Some(l) = self.listeners.remove(&ch) else {
                        continue;
                    };
                    if Some(ch) != channel && !self.pri.reassign(call, ch) {
                        self.listeners.insert(ch, l);
                        continue;
                    }
                    if let CallEvent::Incoming { channel, .. } = &mut ev {
                        *channel = Some(ch);
                    }
                    match l.send(ev) {
                        Ok(()) => {
                            self.routes.insert(call, l);
                            return;
                        }
                        // The line stopped listening meanwhile.
                        Err(mpsc::SendError(back)) => ev = back,
                    }
                }
                let cause = if exclusive { 44 } else { 34 };
                tracing::info!("PRI: no line waits for the call on {channel:?}: refused ({cause})");
                self.shown.refused.fetch_add(1, Ordering::SeqCst);
                self.pri.hangup(call, cause);
            }
            CallEvent::Restarted { channel } => {
                tracing::info!("PRI: the network restarted {channel:?}");
                self.shown
                    .restarts_by_network
                    .fetch_add(1, Ordering::SeqCst);
                if channel.is_none() {
                    self.shown.ready.store(true, Ordering::SeqCst);
                }
            }
            CallEvent::RestartAcknowledged { channel } => {
                tracing::info!("PRI: RESTART of {channel:?} acknowledged");
                if channel.is_none() {
                    self.shown.ready.store(true, Ordering::SeqCst);
                }
            }
            CallEvent::Proceeding { call, .. }
            | CallEvent::Alerting { call }
            | CallEvent::Connected { call }
            | CallEvent::Disconnected { call, .. } => {
                if let Some(r) = self.routes.get(&call) {
                    let _ = r.send(e);
                }
            }
            CallEvent::Released { call, .. } => {
                if let Some(r) = self.routes.remove(&call) {
                    let _ = r.send(e);
                }
            }
        }
    }
}
