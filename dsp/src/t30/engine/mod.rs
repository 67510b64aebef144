//! The T.30 engine (T.30 §5, phases A–E, and ECM per Annex A), sans-IO: frames and modem
//! results go in through [`Engine::handle`], time through [`Engine::handle_timeout`]; what to do next comes
//! out of [`Engine::poll_action`] (send these frames, send TCF, send a page, listen, hang up)
//! and what happened out of [`Engine::poll_event`]. Time is a sample count at 8 kHz, so a
//! 35-second T1 in a test costs nothing.
//!
//! The order, per call: create with [`Engine::caller`] or [`Engine::answerer`], then loop:
//! drain `poll_action` and carry each out (a `Send*` action is followed by
//! `handle(Input::SendDone)` when its signal has gone out), feed received frames and modem
//! results with `handle`, and call `handle_timeout(now)` when `poll_timeout` says.
//!
//! This file holds the state, inputs, actions and events and the dispatch; the steps of each
//! side are in `caller.rs` (sends the document), `answerer.rs` (receives it) and `ecm.rs`
//! (Annex A, both sides), the four timers in `timers.rs`.
//!
//! **Not supported yet:** polling (DTC), PRI-x operator interrupts (answered like their
//! non-PRI twins), T0 and T3; 64-octet frames are accepted but never sent.

mod answerer;
mod caller;
mod ecm;
mod timers;

use std::collections::VecDeque;

use super::caps::{Caps, Coding, DataRate, Resolution, Width};
use super::fcf::Fcf;
use super::frame::{Frame, FrameRepr};
use super::outcome::{Hangup, Outcome};
use ecm::EcmState;
pub use timers::Timer;
use timers::Timers;

/// A point in time: samples at 8000 per second since the call began.
pub type SampleTime = u64;
/// Samples per second.
pub const RATE: u64 = 8000;

/// How often a command is sent without a response before the call is given up (T.30 §5.3.2:
/// the command, then two repeats).
const MAX_TRIES: u32 = 3;

/// How a station behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Our identity (CSI or TSI), up to 20 characters.
    pub ident: String,
    /// The fastest rate to use or offer.
    pub max_rate: DataRate,
    /// Codings we offer (receiving) or may use (sending). MMR needs ECM and is not offered
    /// without it.
    pub codings: Vec<Coding>,
    /// Resolutions we can receive.
    pub resolutions: Vec<Resolution>,
    /// The widest page we can receive.
    pub width: Width,
    /// Minimum scan-line time we need when receiving, ms.
    pub min_scan_ms: u8,
    /// Copy quality (receiver): at most this share of bad rows…
    pub max_bad_row_ratio: f32,
    /// …and no run of more consecutive bad rows than this, else RTN.
    pub max_bad_run: u32,
    /// The timers' durations, in samples ([`Timer`]).
    pub t1: u64,
    pub t2: u64,
    pub t4: u64,
    /// ECM (T.30 Annex A): offer it (receiving) and use it when the far end offers it
    /// (sending). MMR is only used with ECM.
    pub ecm: bool,
    /// ECM: the RNR wait (T5).
    pub t5: u64,
    /// At 9600 and 7200 bit/s use V.17 (pages after its short retrain) rather than V.29
    /// when the far end offers both. Off by default: V.29's long training holds where a
    /// short retrain is lost (clock drift, offset).
    pub prefer_v17: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ident: String::new(),
            max_rate: DataRate::V17_14400,
            codings: vec![Coding::Mh, Coding::Mr, Coding::Mmr],
            resolutions: vec![
                Resolution::Standard,
                Resolution::Fine,
                Resolution::Superfine,
            ],
            width: Width::A4,
            min_scan_ms: 0,
            max_bad_row_ratio: 0.05,
            max_bad_run: 16,
            t1: 35 * RATE,
            t2: 7 * RATE,
            t4: 27_600,
            ecm: true,
            t5: 65 * RATE,
            prefer_v17: false,
        }
    }
}

/// What the caller sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document {
    pub pages: u32,
    pub resolution: Resolution,
    pub width: Width,
}

/// Inputs to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A frame received on V.21 with a good FCS (address … FIF).
    Frame(Vec<u8>),
    /// A frame received with a bad FCS.
    BadFrame,
    /// The signal of the last `Send*` action has gone out completely.
    SendDone,
    /// Receiver: the TCF check's verdict.
    Tcf { ok: bool },
    /// Receiver: a page came in (its carrier ended), with the decoder's counts.
    Page {
        rows: u32,
        bad_rows: u32,
        max_bad_run: u32,
    },
    /// Receiver: image data has started (the modem trained): T2 no longer applies.
    PageStarted,
    /// Receiver: no image data came (no carrier or no training).
    NoPage,
    /// Receiver: a high-speed carrier is on the line but the modem has not trained on it
    /// (yet). The sender is sending a page or an ECM burst that may be lost: T2 waits for
    /// the end of it and the command after it (up to 300 s) rather than running out in the
    /// middle (T.30 §5.4.3.2), and the command is then answered as for a lost page (RTN,
    /// ECM: PPR).
    CarrierHeard,
    /// The line went down (far end hung up).
    LineDown,
    /// Sender, ECM: the coded page asked for by [`Action::EncodePage`] (T.4/T.6 octets as
    /// they go on the line, RTC or EOFB included).
    PageData(Vec<u8>),
}

/// What the engine asks the terminal to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send the calling tone (repeating) while listening for V.21, until the next send.
    SendCng,
    /// Send the answer tone (about 3 s).
    SendCed,
    /// Send these frames on V.21 (preamble of flags first).
    SendFrames(Vec<Vec<u8>>),
    /// Send TCF: 1.5 s of zeros at `rate` with long training.
    SendTcf { rate: DataRate },
    /// Send page `index` (0-based) with the settings of `dcs`.
    SendPage { index: u32, dcs: Caps },
    /// Listen for frames on V.21.
    ReceiveFrames,
    /// Receive TCF at `rate` (and report [`Input::Tcf`]); keep listening on V.21 too.
    ReceiveTcf { rate: DataRate },
    /// Receive a page with the settings of `dcs` (report [`Input::Page`]); V.21 too.
    ReceivePage { dcs: Caps },
    /// ECM sender: code page `index` with the settings of `dcs` and hand the octets back at
    /// once with [`Input::PageData`].
    EncodePage { index: u32, dcs: Caps },
    /// ECM: send these HDLC frames (FCD … RCP) on the image modem at `rate`; `long_train`
    /// after CTC.
    SendEcmFrames {
        rate: DataRate,
        frames: Vec<Vec<u8>>,
        long_train: bool,
    },
    /// ECM receiver: receive HDLC frames on the image modem with the settings of `dcs`
    /// (each reported as [`Input::Frame`] / [`Input::BadFrame`]); V.21 too.
    ReceiveEcm { dcs: Caps },
    /// ECM receiver: a page came in complete and error-free (its coded octets).
    PageReceived { data: Vec<u8>, dcs: Caps },
    /// The call is over.
    Hangup(Outcome),
}

/// Things that happened, for logs and accounting.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    FrameIn(FrameRepr),
    FrameOut(FrameRepr),
    /// A frame that could not be understood.
    BadFrameIn(String),
    /// One of our own frames heard back (a talker echo): ignored.
    EchoIn(Fcf),
    /// The settings for the next message.
    Negotiated(Caps),
    /// A page was confirmed (sender: MCF/RTP received; receiver: MCF sent).
    PageConfirmed(u32),
    /// A page was refused (RTN).
    PageRefused(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    // Caller.
    WaitDis,
    WaitCfr,
    WaitPostPageResponse,
    /// ECM: waiting for the coded page.
    WaitPageData,
    /// ECM: PPS sent, waiting for MCF/PPR/RNR.
    WaitPpsResponse,
    /// ECM: CTC sent, waiting for CTR.
    WaitCtr,
    /// ECM: EOR sent, waiting for ERR.
    WaitErr,
    /// ECM: RR sent after RNR.
    WaitRrResponse,
    // Answerer.
    /// ECM: FCD frames and then PPS (or CTC, EOR, RR).
    WaitEcm,
    WaitDcs,
    ReceivingTcf,
    WaitPage,
    WaitPostPage,
    WaitDcn,
    // Both: sending, then `next`.
    Sending,
    Done,
}

/// A signal being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    Tone,
    Frames,
    Tcf,
    Page,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Caller,
    Answerer,
}

/// The T.30 engine for one call.
#[derive(Debug)]
pub struct Engine {
    role: Role,
    config: Config,
    doc: Option<Document>,
    state: State,
    /// Where to go when the sends in flight are done.
    after_send: State,
    /// What is being sent, in order (each ends with `Input::SendDone`).
    in_flight: VecDeque<Sending>,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    now: SampleTime,
    timers: Timers,
    /// Tries of the command now awaiting a response.
    tries: u32,
    dis_seen: u32,
    frames_heard: bool,
    remote_dis: Option<Caps>,
    remote_ident: Option<String>,
    dcs: Option<Caps>,
    rate: Option<DataRate>,
    /// Caller: the page being sent / next; receiver: pages received.
    page: u32,
    pages_confirmed: u32,
    page_retries: u32,
    /// Caller: back in phase B because the receiver did not get the page; the hang-up to
    /// report if DCS now goes unanswered (that of the post-page command).
    recovering: Option<Hangup>,
    /// Caller: the post-page command sent (MPS/EOP).
    post_cmd: Fcf,
    /// Receiver: the verdict on the last page, and the response sent to the last command.
    last_page_ok: bool,
    last_response: Option<(Fcf, Fcf)>,
    /// Receiver: the image signal of the awaited page has started.
    page_attempted: bool,
    /// Receiver: FTT or RTN was sent; the caller retrains (DCS) without a new DIS.
    awaiting_retrain: bool,
    /// ECM, both sides.
    ecm: EcmState,
    /// The hangup to report once the DCN being sent has gone out.
    pending_hangup: Option<Hangup>,
    /// The call is over.
    outcome: Option<Outcome>,
}

impl Engine {
    /// The calling station, sending `doc`.
    pub fn caller(config: Config, doc: Document) -> Engine {
        let mut e = Engine::new(Role::Caller, config, Some(doc));
        e.push(Action::SendCng);
        e.push(Action::ReceiveFrames);
        e.state = State::WaitDis;
        e.start(Timer::T1);
        e
    }

    /// The answering station.
    pub fn answerer(config: Config) -> Engine {
        let mut e = Engine::new(Role::Answerer, config, None);
        e.push(Action::SendCed);
        e.in_flight.push_back(Sending::Tone);
        e.send_dis();
        e.start(Timer::T1);
        e
    }

    fn new(role: Role, config: Config, doc: Option<Document>) -> Engine {
        Engine {
            role,
            config,
            doc,
            state: State::Sending,
            after_send: State::Done,
            in_flight: VecDeque::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            now: 0,
            timers: Timers::default(),
            tries: 0,
            dis_seen: 0,
            frames_heard: false,
            remote_dis: None,
            remote_ident: None,
            dcs: None,
            rate: None,
            page: 0,
            pages_confirmed: 0,
            page_retries: 0,
            recovering: None,
            post_cmd: Fcf::Eop,
            last_page_ok: true,
            last_response: None,
            page_attempted: false,
            awaiting_retrain: false,
            ecm: EcmState::default(),
            pending_hangup: None,
            outcome: None,
        }
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Engine::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<SampleTime> {
        self.timers.next()
    }

    /// The outcome, once the call is over.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Time has reached `now`: fire the timers that expired.
    pub fn handle_timeout(&mut self, now: SampleTime) {
        self.now = self.now.max(now);
        if self.state == State::Done {
            return;
        }
        for t in Timer::FIRING_ORDER {
            if self.timers.take_expired(t, now) && self.state != State::Done {
                match (t, self.role) {
                    (Timer::T1, _) => self.phase_b_timeout(),
                    (_, Role::Caller) => self.caller_timeout(t),
                    (_, Role::Answerer) => self.answerer_timeout(t),
                }
            }
        }
    }

    /// Something came in at `now`.
    pub fn handle(&mut self, now: SampleTime, input: Input) {
        self.now = self.now.max(now);
        if self.state == State::Done {
            return;
        }
        match input {
            Input::SendDone => self.send_done(),
            Input::Frame(octets) => self.frame(&octets),
            Input::BadFrame => {
                // Not a frame heard: line noise makes these too (a silent or noisy line is
                // "no answer", 11, not "no DIS", 23).
                self.events.push_back(Event::BadFrameIn("bad FCS".into()));
            }
            Input::Tcf { ok } => self.tcf(ok),
            Input::Page {
                rows,
                bad_rows,
                max_bad_run,
            } => self.page_in(rows, bad_rows, max_bad_run),
            Input::PageStarted => {
                if self.state == State::WaitPage {
                    self.timers.stop(Timer::T2);
                    self.page_attempted = true;
                }
                if self.state == State::WaitEcm {
                    // A burst is coming (up to 64 KiB at 2400 bit/s): T2 resumes at RCP.
                    let at = self.now + self.config.t2.max(300 * RATE);
                    self.timers.start_at(Timer::T2, at);
                }
            }
            Input::PageData(data) => {
                if self.state == State::WaitPageData {
                    self.ecm_page_data(data);
                }
            }
            Input::CarrierHeard => {
                if matches!(self.state, State::WaitPage | State::WaitEcm) {
                    if self.state == State::WaitPage {
                        self.page_attempted = true;
                    }
                    let at = self.now + self.config.t2.max(300 * RATE);
                    self.timers.start_at(Timer::T2, at);
                }
            }
            Input::NoPage => {
                if self.state == State::WaitPage {
                    // Keep waiting (T2): the caller may be retraining after a lost CFR.
                    self.push(Action::ReceiveFrames);
                }
            }
            Input::LineDown => {
                let h = match (self.role, self.phase()) {
                    (_, 'E') => Hangup::Normal,
                    (Role::Caller, 'A') => Hangup::NoAnswer,
                    // Retraining after a refused or lost page: that page's code.
                    (Role::Caller, 'B') if self.recovering.is_some() => {
                        self.recovering.unwrap_or(Hangup::TxPhaseB)
                    }
                    (Role::Caller, 'B') => Hangup::TxPhaseB,
                    (Role::Caller, 'C') => Hangup::TxPhaseC,
                    (Role::Caller, _) => Hangup::TxPhaseD,
                    (Role::Answerer, 'A') | (Role::Answerer, 'B') => Hangup::RxPhaseB,
                    (Role::Answerer, 'C') => Hangup::RxPhaseC,
                    (Role::Answerer, _) => Hangup::RxPhaseD,
                };
                self.finish(h);
            }
        }
    }

    /// The T.30 phase we are in: A (call set-up), B (pre-message), C (message), D
    /// (post-message), E (release).
    pub fn phase(&self) -> char {
        if self.in_flight.front() == Some(&Sending::Page) {
            return 'C';
        }
        let s = if self.state == State::Sending {
            self.after_send
        } else {
            self.state
        };
        match s {
            State::WaitDis if self.frames_heard => 'B',
            State::WaitDis => 'A',
            State::WaitDcs if !self.frames_heard => 'A',
            State::WaitDcs | State::WaitCfr | State::ReceivingTcf => 'B',
            State::WaitPage | State::WaitPageData | State::WaitEcm => 'C',
            State::WaitPostPageResponse
            | State::WaitPostPage
            | State::WaitPpsResponse
            | State::WaitCtr
            | State::WaitErr
            | State::WaitRrResponse => 'D',
            State::WaitDcn | State::Done | State::Sending => 'E',
        }
    }

    // ---- plumbing ---------------------------------------------------------------------

    fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    /// The X bit of our frames (T.30 §5.3.6.1): 1 from the station that received a valid
    /// DIS (the caller, once DIS came), 0 from the station that received the response to its
    /// DIS (the answerer).
    fn our_x(&self) -> bool {
        self.role == Role::Caller && self.remote_dis.is_some()
    }

    /// Whether a received frame is one of ours come back (a talker echo, as an unbalanced
    /// hybrid returns it): a code our side sends, carrying our X bit where the code has one.
    /// The far end's frames have the other X value (T.30 §5.3.6.1), or are codes only it
    /// sends, so they are never taken for echoes — not even from a far end that gets the X
    /// bit wrong, unless the code is one both sides send (DCN, CRP).
    fn own_frame(&self, frame: &Frame<'_>) -> bool {
        let fcf = frame.fcf();
        let ours = match self.role {
            Role::Caller => fcf.sent_by_caller(),
            Role::Answerer => fcf.sent_by_answerer(),
        };
        ours && (!fcf.has_x_bit() || frame.x_bit() == self.our_x())
    }

    fn send_frames(&mut self, frames: Vec<FrameRepr>) {
        let n = frames.len();
        let x = self.our_x();
        let octets = frames
            .iter()
            .enumerate()
            .map(|(i, r)| r.emit(x, i + 1 == n))
            .collect();
        for f in frames {
            self.events.push_back(Event::FrameOut(f));
        }
        self.push(Action::SendFrames(octets));
        self.in_flight.push_back(Sending::Frames);
    }

    /// After the sends in flight, go to `next` (and start its timer there).
    fn then(&mut self, next: State) {
        self.after_send = next;
        self.state = State::Sending;
        self.timers.stop(Timer::T4);
        self.timers.stop(Timer::T2);
        if self.in_flight.is_empty() {
            self.enter(next);
        }
    }

    fn send_done(&mut self) {
        self.in_flight.pop_front();
        if self.in_flight.is_empty() && self.state == State::Sending {
            self.enter(self.after_send);
        }
    }

    fn enter(&mut self, s: State) {
        self.state = s;
        match s {
            State::WaitDcs if self.awaiting_retrain => {
                // After FTT or RTN the caller sends DCS again (T2 bounds the wait).
                self.start(Timer::T2);
                self.push(Action::ReceiveFrames);
            }
            State::WaitDcs => {
                // Phase B again (no TCF came, or after EOM): T1 bounds it, so a caller that
                // has gone quiet cannot keep us repeating DIS for ever (found by fuzzing).
                if !self.timers.running(Timer::T1) {
                    self.start(Timer::T1);
                }
                self.start(Timer::T4);
                self.push(Action::ReceiveFrames);
            }
            State::WaitCfr
            | State::WaitPostPageResponse
            | State::WaitPpsResponse
            | State::WaitCtr
            | State::WaitErr
            | State::WaitRrResponse => {
                self.start(Timer::T4);
                self.push(Action::ReceiveFrames);
            }
            State::WaitEcm => {
                self.start(Timer::T2);
                let dcs = self.dcs.clone().expect("DCS before a page");
                self.push(Action::ReceiveEcm { dcs });
            }
            State::WaitPage | State::WaitPostPage | State::WaitDcn => {
                if s == State::WaitPage {
                    self.page_attempted = false;
                }
                self.start(Timer::T2);
                if s == State::WaitPage {
                    let dcs = self.dcs.clone().expect("DCS before a page");
                    self.push(Action::ReceivePage { dcs });
                } else {
                    self.push(Action::ReceiveFrames);
                }
            }
            State::Done => {
                let h = self.pending_hangup.take().unwrap_or(Hangup::Normal);
                self.finish(h);
            }
            _ => {}
        }
    }

    /// The call is over, with `hangup`: report the outcome.
    fn finish(&mut self, hangup: Hangup) {
        let dcs = self.dcs.as_ref();
        let outcome = Outcome {
            hangup,
            pages: self.pages_confirmed,
            rate: self.rate,
            ecm: dcs.is_some_and(|d| d.ecm),
            coding: dcs.and_then(|d| d.codings.first().copied()),
            resolution: dcs.and_then(|d| d.resolutions.first().copied()),
            remote_ident: self.remote_ident.clone(),
        };
        self.state = State::Done;
        self.timers.stop_all();
        self.outcome = Some(outcome.clone());
        self.push(Action::Hangup(outcome));
    }

    /// End the call: send DCN first unless the far end already released.
    fn fail(&mut self, hangup: Hangup, send_dcn: bool) {
        if send_dcn {
            self.release(hangup);
        } else {
            self.finish(hangup);
        }
    }

    /// Send DCN; once it has gone out the call is over with `hangup`.
    fn release(&mut self, hangup: Hangup) {
        self.send_frames(vec![FrameRepr::Plain(Fcf::Dcn)]);
        self.pending_hangup = Some(hangup);
        self.then(State::Done);
    }

    /// Start timer `t` for its configured duration from now.
    fn start(&mut self, t: Timer) {
        let at = self.now + self.config.duration(t);
        self.timers.start_at(t, at);
    }

    /// T1 ran out: phase B never completed. The far end gets DCN only if it was heard.
    fn phase_b_timeout(&mut self) {
        let h = match (self.role, self.frames_heard) {
            (Role::Caller, true) => Hangup::NoDis,
            (Role::Caller, false) => Hangup::NoAnswer,
            (Role::Answerer, true) => Hangup::RxPhaseB,
            (Role::Answerer, false) => Hangup::RingNoHandshake,
        };
        self.fail(h, self.frames_heard);
    }

    /// One more try of the command awaiting a response: false once [`MAX_TRIES`] are spent.
    fn next_try(&mut self) -> bool {
        self.tries += 1;
        self.tries <= MAX_TRIES
    }

    /// The page in hand was confirmed (MCF/RTP received, or MCF sent): count it.
    fn confirm_page(&mut self) {
        self.pages_confirmed += 1;
        self.events.push_back(Event::PageConfirmed(self.page));
        self.page += 1;
    }

    // ---- received frames -------------------------------------------------------------

    fn frame(&mut self, octets: &[u8]) {
        if let Ok(f) = Frame::new(octets)
            && self.own_frame(&f)
        {
            // Our own signal back: never the far end's answer.
            self.events.push_back(Event::EchoIn(f.fcf()));
            return;
        }
        self.frames_heard = true;
        let fcf = octets.get(2).map(|o| o & 0xFE);
        if self.role == Role::Answerer
            && octets.first() == Some(&super::frame::ADDRESS)
            && (fcf == Some(Fcf::Fcd as u8) || fcf == Some(Fcf::Rcp as u8))
        {
            return self.ecm_data_frame(octets);
        }
        if self.role == Role::Answerer
            && self.state == State::WaitEcm
            && fcf == Some(Fcf::Ctc as u8)
        {
            self.ecm_ctc(octets);
        }
        let parsed =
            Frame::new(octets).and_then(|f| FrameRepr::parse(&f).map(|r| (r, f.is_final())));
        let (repr, last) = match parsed {
            Ok(x) => x,
            Err(e) => {
                self.events.push_back(Event::BadFrameIn(e.to_string()));
                return;
            }
        };
        self.events.push_back(Event::FrameIn(repr.clone()));
        match self.role {
            Role::Caller => self.caller_frame(repr, last),
            Role::Answerer => self.answerer_frame(repr, last),
        }
    }
}
