//! The T.30 engine (T.30 §5, Phases A–E, and ECM per Annex A), sans-IO: frames and modem results go in
//! through [`Engine::handle`], time through [`Engine::handle_timeout`]; what to do next comes
//! out of [`Engine::poll_action`] (send these frames, send TCF, send a page, listen, hang up)
//! and what happened out of [`Engine::poll_event`]. Time is a sample count at 8 kHz, so a
//! 35-second T1 in a test costs nothing.
//!
//! The order, per call: create with [`Engine::caller`] or [`Engine::answerer`], then loop:
//! drain `poll_action` and carry each out (a `Send*` action is followed by
//! `handle(Input::SendDone)` when its signal has gone out), feed received frames and modem
//! results with `handle`, and call `handle_timeout(now)` when `poll_timeout` says.
//!
//! - Caller (sends the document): CNG, wait for DIS (T1), choose DCS (highest common rate,
//!   MR when both can), send TSI+DCS and TCF, wait for CFR (T4, three tries), walk down the
//!   rate ladder after FTT (V.17 14400 → … → V.27ter 2400), send each page and MPS/EOP, wait
//!   for MCF/RTP/RTN (T4, three tries, CRP repeats), DCN.
//! - Answerer (receives): CED, CSI+DIS repeated every T4 until DCS (T1), check TCF, CFR or
//!   FTT, receive pages (T2), judge copy quality (bad-row ratio and longest bad run), answer
//!   MCF or RTN, wait for DCN.
//!
//! - ECM (Annex A), both roles: the caller asks the terminal for the coded page
//!   ([`Action::EncodePage`]), sends it in blocks of up to 256 FCD frames (256 octets each)
//!   and three RCP on the image modem, then PPS-NULL/MPS/EOP; PPR's bitmap makes it resend
//!   those frames; after four PPRs CTC one rate lower (CTR, long training), or EOR at the
//!   lowest rate; RNR is answered with RR within T5. The answerer stores FCD frames by number,
//!   answers PPS with MCF or PPR, RR with its last answer, CTC with CTR, EOR with ERR, and hands
//!   each complete page over with [`Action::PageReceived`]. MMR is used only with ECM.
//!
//! **Not supported yet:** polling (DTC), PRI-x operator interrupts (answered like their
//! non-PRI twins), T0 and T3; 64-octet frames are accepted but never sent.

use std::collections::VecDeque;

use super::caps::{Caps, Coding, DataRate, Modulation, Resolution, ScanTime, Width};
use super::fcf::Fcf;
use super::frame::{Frame, FrameRepr};
use super::outcome::{Hangup, Outcome};

/// A point in time: samples at 8000 per second since the call began.
pub type SampleTime = u64;
/// Samples per second.
pub const RATE: u64 = 8000;

/// The T.30 timers (T.30 §5.4.3.2 / Annex A; values of hangup-codes.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Identify each other in phase B: 35 s.
    T1,
    /// Wait for a command (page, post-page command): 7 s.
    T2,
    /// Wait for a response before repeating the command: 3.45 s.
    T4,
    /// ECM: wait for the receiver to leave the busy state (RNR): 65 s.
    T5,
}

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
    pub t1: u64,
    pub t2: u64,
    pub t4: u64,
    /// ECM (T.30 Annex A): offer it (receiving) and use it when the far end offers it
    /// (sending). MMR is only used with ECM.
    pub ecm: bool,
    /// ECM: the RNR wait (T5).
    pub t5: u64,
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
    t1: Option<SampleTime>,
    t2: Option<SampleTime>,
    t4: Option<SampleTime>,
    t5: Option<SampleTime>,
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
    /// Caller: the post-page command sent (MPS/EOP).
    post_cmd: Fcf,
    /// Receiver: the verdict on the last page, and the response sent to the last command.
    last_page_ok: bool,
    last_response: Option<(Fcf, Fcf)>,
    /// After RTP: a retrain comes first, then the next page.
    retrain_then_page: bool,
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
        e.t1 = Some(e.config.t1);
        e
    }

    /// The answering station.
    pub fn answerer(config: Config) -> Engine {
        let mut e = Engine::new(Role::Answerer, config, None);
        e.push(Action::SendCed);
        e.in_flight.push_back(Sending::Tone);
        e.send_dis();
        e.t1 = Some(e.config.t1);
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
            t1: None,
            t2: None,
            t4: None,
            t5: None,
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
            post_cmd: Fcf::Eop,
            last_page_ok: true,
            last_response: None,
            retrain_then_page: false,
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
        [self.t1, self.t2, self.t4, self.t5]
            .into_iter()
            .flatten()
            .min()
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
        let expired = |t: Option<SampleTime>| t.is_some_and(|t| t <= now);
        if expired(self.t4) {
            self.t4 = None;
            self.on_timeout(Timer::T4);
        }
        if expired(self.t2) {
            self.t2 = None;
            self.on_timeout(Timer::T2);
        }
        if expired(self.t1) {
            self.t1 = None;
            self.on_timeout(Timer::T1);
        }
        if expired(self.t5) {
            self.t5 = None;
            self.on_timeout(Timer::T5);
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
                    self.t2 = None;
                    self.page_attempted = true;
                }
                if self.state == State::WaitEcm {
                    // A burst is coming (up to 64 KiB at 2400 bit/s): T2 resumes at RCP.
                    self.t2 = Some(self.now + self.config.t2.max(300 * RATE));
                }
            }
            Input::PageData(data) => {
                if self.state == State::WaitPageData {
                    self.ecm_page_data(data);
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
                    (Role::Caller, 'B') => Hangup::TxPhaseB,
                    (Role::Caller, 'C') => Hangup::TxPhaseC,
                    (Role::Caller, _) => Hangup::TxPhaseD,
                    (Role::Answerer, 'A') | (Role::Answerer, 'B') => Hangup::RxPhaseB,
                    (Role::Answerer, 'C') => Hangup::RxPhaseC,
                    (Role::Answerer, _) => Hangup::RxPhaseD,
                };
                self.finish(h, false);
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

    fn send_frames(&mut self, frames: Vec<FrameRepr>) {
        let n = frames.len();
        let octets = frames
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.emit(
                    self.role == Role::Caller && self.remote_dis.is_some(),
                    i + 1 == n,
                )
            })
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
        self.t4 = None;
        self.t2 = None;
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
                self.t2 = Some(self.now + self.config.t2);
                self.push(Action::ReceiveFrames);
            }
            State::WaitDcs => {
                // Phase B again (no TCF came, or after EOM): T1 bounds it, so a caller that
                // has gone quiet cannot keep us repeating DIS for ever (found by fuzzing).
                if self.t1.is_none() {
                    self.t1 = Some(self.now + self.config.t1);
                }
                self.t4 = Some(self.now + self.config.t4);
                self.push(Action::ReceiveFrames);
            }
            State::WaitCfr
            | State::WaitPostPageResponse
            | State::WaitPpsResponse
            | State::WaitCtr
            | State::WaitErr
            | State::WaitRrResponse => {
                self.t4 = Some(self.now + self.config.t4);
                self.push(Action::ReceiveFrames);
            }
            State::WaitEcm => {
                self.t2 = Some(self.now + self.config.t2);
                let dcs = self.dcs.clone().expect("DCS before a page");
                self.push(Action::ReceiveEcm { dcs });
            }
            State::WaitPage | State::WaitPostPage | State::WaitDcn => {
                if s == State::WaitPage {
                    self.page_attempted = false;
                }
                self.t2 = Some(self.now + self.config.t2);
                if s == State::WaitPage {
                    let dcs = self.dcs.clone().expect("DCS before a page");
                    self.push(Action::ReceivePage { dcs });
                } else {
                    self.push(Action::ReceiveFrames);
                }
            }
            State::Done => {
                let h = self.pending_hangup.take().unwrap_or(Hangup::Normal);
                self.finish(h, true);
            }
            _ => {}
        }
    }

    fn finish(&mut self, hangup: Hangup, _orderly: bool) {
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
        self.t1 = None;
        self.t2 = None;
        self.t4 = None;
        self.t5 = None;
        self.outcome = Some(outcome.clone());
        self.push(Action::Hangup(outcome));
    }

    /// End the call: send DCN first unless the far end already released.
    fn fail(&mut self, hangup: Hangup, send_dcn: bool) {
        if send_dcn {
            self.send_frames(vec![FrameRepr::Plain(Fcf::Dcn)]);
            self.pending_hangup = Some(hangup);
            self.then(State::Done);
        } else {
            self.finish(hangup, false);
        }
    }
}

impl Engine {
    // ---- received frames -------------------------------------------------------------

    fn frame(&mut self, octets: &[u8]) {
        self.frames_heard = true;
        if self.role == Role::Answerer
            && octets.len() >= 3
            && octets[0] == super::frame::ADDRESS
            && matches!(octets[2] & 0xFE, 0x06 | 0x86)
        {
            return self.ecm_data_frame(octets);
        }
        if self.role == Role::Answerer
            && self.state == State::WaitEcm
            && octets.len() >= 3
            && octets[2] & 0xFE == Fcf::Ctc as u8
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

    fn caller_frame(&mut self, repr: FrameRepr, last: bool) {
        let fcf = repr.fcf();
        match (self.state, repr) {
            (_, FrameRepr::Ident(Fcf::Csi, id)) => self.remote_ident = Some(id),
            (_, FrameRepr::NonStandard(..)) => {}
            (State::WaitDis | State::WaitCfr, FrameRepr::Dis(caps)) if last => {
                self.dis_seen += 1;
                self.t1 = None;
                if self.dis_seen > 3 {
                    return self.fail(Hangup::Incompatible, true);
                }
                if !caps.receive {
                    self.remote_dis = Some(caps);
                    return self.fail(Hangup::RemoteCannotReceive, true);
                }
                let first = self.remote_dis.is_none();
                self.remote_dis = Some(caps);
                if first || self.rate.is_none() {
                    self.rate = self.best_rate();
                }
                if self.rate.is_none() {
                    return self.fail(Hangup::Incompatible, true);
                }
                self.tries = 0;
                self.send_dcs_and_tcf();
            }
            (State::WaitDis, FrameRepr::Plain(Fcf::Dcn)) => self.fail(Hangup::TxGotDcn, false),
            (State::WaitCfr, FrameRepr::Plain(Fcf::Cfr)) => {
                self.t4 = None;
                self.tries = 0;
                if self.retrain_then_page {
                    self.retrain_then_page = false;
                }
                if self.dcs.as_ref().is_some_and(|d| d.ecm) {
                    if self.ecm.data.is_empty() || self.ecm.page != self.page {
                        self.ecm_start_page();
                    } else {
                        // After FTT/CTC-style retraining mid-page: carry on with the block.
                        self.ecm_send_burst();
                    }
                } else {
                    self.send_page();
                }
            }
            (State::WaitCfr, FrameRepr::Plain(Fcf::Ftt)) => {
                self.t4 = None;
                match self.rate.and_then(|r| self.next_rate_below(r)) {
                    Some(r) => {
                        self.rate = Some(r);
                        self.tries = 0;
                        self.send_dcs_and_tcf();
                    }
                    None => self.fail(Hangup::CannotTrain, true),
                }
            }
            (State::WaitCfr, FrameRepr::Plain(Fcf::Dcn)) => self.fail(Hangup::TxRspDcn, false),
            (State::WaitCfr, FrameRepr::Plain(Fcf::Crp)) => self.send_dcs_and_tcf(),
            (State::WaitCfr, _) => self.fail(Hangup::TxInvalidResponse, true),
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Mcf | Fcf::Rtp)) => {
                self.t4 = None;
                self.pages_confirmed += 1;
                self.events.push_back(Event::PageConfirmed(self.page));
                self.page += 1;
                self.page_retries = 0;
                let retrain = fcf == Fcf::Rtp;
                if self.post_cmd == Fcf::Eop {
                    self.send_frames(vec![FrameRepr::Plain(Fcf::Dcn)]);
                    self.pending_hangup = Some(Hangup::Normal);
                    self.then(State::Done);
                } else if retrain {
                    self.retrain_then_page = true;
                    self.tries = 0;
                    self.send_dcs_and_tcf();
                } else {
                    self.send_page();
                }
            }
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Rtn)) => {
                self.t4 = None;
                self.events.push_back(Event::PageRefused(self.page));
                if self.post_cmd == Fcf::Eop {
                    // T.30 lets the sender retrain and try again, but a receiver that
                    // answered EOP with RTN may only wait for DCN (spandsp's does, and takes
                    // a DCS then as an unexpected message): release, the last page refused.
                    return self.fail(Hangup::TxPhaseD, true);
                }
                self.page_retries += 1;
                if self.page_retries > 3 {
                    return self.fail(Hangup::TxPhaseD, true);
                }
                // Retrain one step lower and send the page again.
                if let Some(r) = self.rate.and_then(|r| self.next_rate_below(r)) {
                    self.rate = Some(r);
                }
                self.retrain_then_page = true;
                self.tries = 0;
                self.send_dcs_and_tcf();
            }
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Crp)) => self.send_post_cmd(),
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Dcn)) => {
                self.fail(Hangup::TxGotDcnPhaseD, false)
            }
            (State::WaitPostPageResponse, _) => {
                let h = match self.post_cmd {
                    Fcf::Mps => Hangup::InvalidResponseMps,
                    Fcf::Eom => Hangup::InvalidResponseEom,
                    _ => Hangup::InvalidResponseEop,
                };
                self.fail(h, true)
            }
            (
                State::WaitPpsResponse | State::WaitRrResponse | State::WaitCtr | State::WaitErr,
                repr,
            ) => self.ecm_response(repr),
            (State::WaitDis, _) => {} // frames before DIS: noted (code 23 at T1)
            _ => {}
        }
    }

    fn answerer_frame(&mut self, repr: FrameRepr, last: bool) {
        match (self.state, repr) {
            (_, FrameRepr::Ident(Fcf::Tsi, id)) => self.remote_ident = Some(id),
            (_, FrameRepr::NonStandard(..)) => {}
            (
                State::WaitDcs
                | State::ReceivingTcf
                | State::WaitPage
                | State::WaitEcm
                | State::Sending,
                FrameRepr::Dcs(dcs),
            ) if last => {
                self.awaiting_retrain = false;
                self.t1 = None;
                self.t4 = None;
                self.t2 = None;
                if !self.acceptable(&dcs) {
                    // Not something we offered: say DIS again (T.30 §5.3.6.2.2).
                    self.events.push_back(Event::BadFrameIn(
                        "DCS asks for something not offered in DIS".into(),
                    ));
                    return self.send_dis();
                }
                self.rate = dcs.rate;
                self.events.push_back(Event::Negotiated(dcs.clone()));
                self.dcs = Some(dcs);
                self.state = State::ReceivingTcf;
                self.push(Action::ReceiveTcf {
                    rate: self.rate.expect("DCS has a rate"),
                });
                // If no TCF comes, the caller will repeat DCS; T2 bounds the wait.
                self.t2 = Some(self.now + self.config.t2);
            }
            (
                State::WaitPostPage | State::WaitPage,
                FrameRepr::Plain(
                    cmd
                    @ (Fcf::Mps | Fcf::Eop | Fcf::Eom | Fcf::PriMps | Fcf::PriEop | Fcf::PriEom),
                ),
            ) => {
                self.t2 = None;
                let cmd = match cmd {
                    Fcf::PriMps => Fcf::Mps,
                    Fcf::PriEop => Fcf::Eop,
                    Fcf::PriEom => Fcf::Eom,
                    c => c,
                };
                if self.state == State::WaitPage {
                    // A repeated command: our response was lost; repeat it.
                    if let Some((c, r)) = self.last_response
                        && c == cmd
                        && !self.page_attempted
                    {
                        return self.respond(cmd, r);
                    }
                    // Else the page did not come through (no carrier, or no training):
                    // a bad page, RTN (T.30 §5.3.6.1.8).
                    self.last_page_ok = false;
                }
                let r = if self.last_page_ok {
                    Fcf::Mcf
                } else {
                    Fcf::Rtn
                };
                if r == Fcf::Mcf {
                    self.pages_confirmed += 1;
                    self.events.push_back(Event::PageConfirmed(self.page));
                } else {
                    self.events.push_back(Event::PageRefused(self.page));
                }
                self.page += 1;
                self.respond(cmd, r);
            }
            (State::WaitEcm, repr) if !matches!(repr, FrameRepr::Dcs(_)) => self.ecm_command(repr),
            (State::WaitDcn, FrameRepr::Plain(Fcf::Dcn)) => self.finish(Hangup::Normal, true),
            (State::WaitDcn, FrameRepr::Plain(cmd @ (Fcf::Eop | Fcf::PriEop))) => {
                let _ = cmd;
                self.respond(Fcf::Eop, Fcf::Mcf)
            }
            (State::WaitDcs, FrameRepr::Plain(Fcf::Dcn))
                if matches!(self.last_response, Some((_, Fcf::Rtn))) =>
            {
                // Released after our RTN: the last page was not received well.
                self.finish(Hangup::RxPhaseD, false)
            }
            (State::WaitDcs | State::ReceivingTcf, FrameRepr::Plain(Fcf::Dcn)) => {
                self.finish(Hangup::RxGotDcn, false)
            }
            (State::WaitPage, FrameRepr::Plain(Fcf::Dcn)) => self.finish(Hangup::RxPhaseC, false),
            (State::WaitEcm, FrameRepr::Plain(Fcf::Dcn)) => self.finish(Hangup::RxPhaseC, false),
            (State::WaitPostPage, FrameRepr::Plain(Fcf::Dcn)) => {
                self.finish(Hangup::RxPhaseD, false)
            }
            (State::WaitPostPage, _) => self.fail(Hangup::RxInvalidPostPage, true),
            (State::WaitDcs, FrameRepr::Dis(_)) => {
                // Two answering stations: T.30 §5.3 collision; keep waiting (T1 ends it).
            }
            _ => {}
        }
    }

    // ---- caller steps ----------------------------------------------------------------

    fn best_rate(&self) -> Option<DataRate> {
        let dis = self.remote_dis.as_ref()?;
        let mut r = Some(self.config.max_rate);
        while let Some(rate) = r {
            if self.remote_offers(dis, rate) {
                return Some(rate);
            }
            r = rate.fallback();
        }
        None
    }

    fn remote_offers(&self, dis: &Caps, rate: DataRate) -> bool {
        dis.modulations.contains(&rate.modulation)
            && (rate != DataRate::V27TER_4800 || dis.v27ter_4800)
    }

    fn next_rate_below(&self, r: DataRate) -> Option<DataRate> {
        let dis = self.remote_dis.as_ref()?;
        let mut n = r.fallback();
        while let Some(rate) = n {
            if self.remote_offers(dis, rate) {
                return Some(rate);
            }
            n = rate.fallback();
        }
        None
    }

    fn build_dcs(&self) -> Caps {
        let dis = self.remote_dis.as_ref().expect("DIS before DCS");
        let doc = self.doc.expect("caller has a document");
        let ecm = self.config.ecm && dis.ecm;
        let both = |c: Coding| self.config.codings.contains(&c) && dis.codings.contains(&c);
        let coding = if ecm && both(Coding::Mmr) {
            Coding::Mmr
        } else if both(Coding::Mr) {
            Coding::Mr
        } else {
            Coding::Mh
        };
        // The document's resolution if the receiver takes it, else standard (the terminal
        // drops rows to fit).
        let resolution = if dis.resolutions.contains(&doc.resolution) {
            doc.resolution
        } else {
            Resolution::Standard
        };
        let width = doc.width.min(dis.width);
        let scan = match resolution {
            Resolution::Standard => dis.scan_time.normal_ms,
            _ => dis.scan_time.fine_ms,
        };
        Caps {
            polling: false,
            receive: true,
            modulations: Vec::new(),
            v27ter_4800: false,
            rate: self.rate,
            resolutions: vec![resolution],
            codings: vec![coding],
            width,
            length: dis.length,
            scan_time: ScanTime {
                normal_ms: scan,
                fine_ms: scan,
            },
            uncompressed: false,
            ecm,
            ecm_64: false,
            inch_based: false,
            metric_based: false,
        }
    }

    fn send_dcs_and_tcf(&mut self) {
        self.tries += 1;
        if self.tries > 3 {
            return self.fail(Hangup::DcsNoResponse, true);
        }
        let dcs = self.build_dcs();
        self.events.push_back(Event::Negotiated(dcs.clone()));
        self.dcs = Some(dcs.clone());
        let mut frames = Vec::new();
        if !self.config.ident.is_empty() {
            frames.push(FrameRepr::Ident(Fcf::Tsi, self.config.ident.clone()));
        }
        frames.push(FrameRepr::Dcs(dcs));
        self.send_frames(frames);
        self.push(Action::SendTcf {
            rate: self.rate.expect("a rate"),
        });
        self.in_flight.push_back(Sending::Tcf);
        self.then(State::WaitCfr);
    }

    fn send_page(&mut self) {
        let doc = self.doc.expect("caller has a document");
        let dcs = self.dcs.clone().expect("DCS before a page");
        self.push(Action::SendPage {
            index: self.page,
            dcs,
        });
        self.in_flight.push_back(Sending::Page);
        self.post_cmd = if self.page + 1 >= doc.pages {
            Fcf::Eop
        } else {
            Fcf::Mps
        };
        self.tries = 0;
        self.send_post_cmd();
    }

    fn send_post_cmd(&mut self) {
        self.tries += 1;
        if self.tries > 3 {
            let h = match self.post_cmd {
                Fcf::Mps => Hangup::NoResponseMps,
                Fcf::Eom => Hangup::NoResponseEom,
                _ => Hangup::NoResponseEop,
            };
            return self.fail(h, true);
        }
        self.send_frames(vec![FrameRepr::Plain(self.post_cmd)]);
        self.then(State::WaitPostPageResponse);
    }

    // ---- answerer steps --------------------------------------------------------------

    fn our_dis(&self) -> Caps {
        let c = &self.config;
        let mods: Vec<Modulation> = [Modulation::V27ter, Modulation::V29, Modulation::V17]
            .into_iter()
            .filter(|m| *m <= c.max_rate.modulation || *m == Modulation::V27ter)
            .collect();
        Caps {
            polling: false,
            receive: true,
            v27ter_4800: c.max_rate != DataRate::V27TER_2400,
            modulations: mods,
            rate: None,
            resolutions: c.resolutions.clone(),
            codings: c
                .codings
                .iter()
                .copied()
                .filter(|x| *x != Coding::Mmr || c.ecm)
                .collect(),
            width: c.width,
            length: 2,
            scan_time: ScanTime {
                normal_ms: c.min_scan_ms,
                fine_ms: c.min_scan_ms,
            },
            uncompressed: false,
            ecm: c.ecm,
            ecm_64: false,
            inch_based: false,
            metric_based: false,
        }
    }

    fn acceptable(&self, dcs: &Caps) -> bool {
        let ours = self.our_dis();
        let Some(rate) = dcs.rate else { return false };
        ours.modulations.contains(&rate.modulation)
            && dcs.codings.iter().all(|c| ours.codings.contains(c))
            && dcs.resolutions.iter().all(|r| ours.resolutions.contains(r))
            && dcs.width <= ours.width
            && (!dcs.ecm || ours.ecm)
            && (dcs.ecm || !dcs.codings.contains(&Coding::Mmr))
    }

    fn send_dis(&mut self) {
        self.awaiting_retrain = false;
        let mut frames = Vec::new();
        if !self.config.ident.is_empty() {
            frames.push(FrameRepr::Ident(Fcf::Csi, self.config.ident.clone()));
        }
        frames.push(FrameRepr::Dis(self.our_dis()));
        self.send_frames(frames);
        self.then(State::WaitDcs);
    }

    fn tcf(&mut self, ok: bool) {
        if self.state != State::ReceivingTcf {
            return;
        }
        self.t2 = None;
        if ok {
            self.send_frames(vec![FrameRepr::Plain(Fcf::Cfr)]);
            if self.dcs.as_ref().is_some_and(|d| d.ecm) {
                self.ecm.rx_reset_block();
                self.then(State::WaitEcm);
            } else {
                self.then(State::WaitPage);
            }
        } else {
            self.send_frames(vec![FrameRepr::Plain(Fcf::Ftt)]);
            self.awaiting_retrain = true;
            self.then(State::WaitDcs);
        }
    }

    fn page_in(&mut self, rows: u32, bad_rows: u32, max_bad_run: u32) {
        if self.state != State::WaitPage {
            return;
        }
        self.t2 = None;
        let ratio = if rows == 0 {
            1.0
        } else {
            bad_rows as f32 / rows as f32
        };
        self.last_page_ok = rows > 0
            && ratio <= self.config.max_bad_row_ratio
            && max_bad_run <= self.config.max_bad_run;
        self.enter(State::WaitPostPage);
    }

    fn respond(&mut self, cmd: Fcf, r: Fcf) {
        self.last_response = Some((cmd, r));
        self.send_frames(vec![FrameRepr::Plain(r)]);
        let next = match (cmd, r) {
            (Fcf::Eop, Fcf::Mcf) => State::WaitDcn,
            (Fcf::Mps, Fcf::Mcf) => State::WaitPage,
            (Fcf::Eom, Fcf::Mcf) => {
                // Back to phase B: a new DIS after the response.
                self.send_dis();
                return;
            }
            // After RTN the caller retrains (DCS and TCF come again) or releases.
            _ => {
                self.awaiting_retrain = true;
                State::WaitDcs
            }
        };
        self.then(next);
    }

    // ---- timers ----------------------------------------------------------------------

    fn on_timeout(&mut self, t: Timer) {
        if self.state == State::Done {
            return;
        }
        match (self.role, t, self.state) {
            (Role::Caller, Timer::T1, _) => {
                let h = if self.frames_heard {
                    Hangup::NoDis
                } else {
                    Hangup::NoAnswer
                };
                self.fail(h, self.frames_heard);
            }
            (Role::Caller, Timer::T4, State::WaitCfr) => self.send_dcs_and_tcf(),
            (Role::Caller, Timer::T4, State::WaitPostPageResponse) => self.send_post_cmd(),
            (Role::Caller, Timer::T4, State::WaitPpsResponse) => self.ecm_send_pps(),
            (Role::Caller, Timer::T4, State::WaitCtr) => self.ecm_send_ctc(),
            (Role::Caller, Timer::T4, State::WaitErr) => self.ecm_send_eor(),
            (Role::Caller, Timer::T4, State::WaitRrResponse) => self.ecm_send_rr(),
            (Role::Caller, Timer::T5, _) => self.fail(Hangup::TxPhaseD, true),
            (Role::Answerer, Timer::T2, State::WaitEcm) => {
                let h = if self.ecm.rx_any || !self.ecm.rx_page.is_empty() {
                    Hangup::RxPhaseC
                } else {
                    Hangup::RxNoPage
                };
                self.fail(h, true)
            }
            (Role::Answerer, Timer::T1, _) => {
                let h = if self.frames_heard {
                    Hangup::RxPhaseB
                } else {
                    Hangup::RingNoHandshake
                };
                self.fail(h, self.frames_heard);
            }
            (Role::Answerer, Timer::T4, State::WaitDcs) => self.send_dis(),
            (Role::Answerer, Timer::T2, State::WaitDcs) => self.fail(Hangup::RxPhaseB, true),
            (Role::Answerer, Timer::T2, State::ReceivingTcf) => self.enter(State::WaitDcs),
            (Role::Answerer, Timer::T2, State::WaitPage) => self.fail(Hangup::RxNoPage, true),
            (Role::Answerer, Timer::T2, State::WaitPostPage) => self.fail(Hangup::RxPhaseD, true),
            // No DCN after MCF to EOP: the message is complete anyway.
            (Role::Answerer, Timer::T2, State::WaitDcn) => self.finish(Hangup::Normal, true),
            _ => {}
        }
    }
}

/// ECM (T.30 Annex A) state of both sides.
#[derive(Debug, Default)]
struct EcmState {
    // Sender.
    /// The coded page being sent, and which page it is.
    data: Vec<u8>,
    page: u32,
    /// Offset in `data` of the current block (partial page), its number in the page.
    block_start: usize,
    block: u32,
    /// The FCD frames of the current block, and which of them still have to go.
    frames: Vec<Vec<u8>>,
    resend: Vec<bool>,
    /// PPRs for this block since the last CTC.
    pprs: u32,
    /// The next burst starts with the long training (after CTC).
    long_train: bool,
    // Receiver.
    /// The frames of the block so far, by frame number.
    rx: Vec<Option<Vec<u8>>>,
    /// Frames in the block, as the first PPS gave it.
    rx_frames: Option<usize>,
    /// Blocks of the page accepted so far, and the block awaited.
    rx_page: Vec<u8>,
    rx_block: u32,
    /// Any FCD seen since the last page.
    rx_any: bool,
    /// The response to the last PPS (MCF or PPR), repeated on RR.
    last_reply: Option<FrameRepr>,
}

impl EcmState {
    fn rx_reset_block(&mut self) {
        self.rx = vec![None; 256];
        self.rx_frames = None;
    }
}

/// Octets of image data per FCD frame (T.30 §A.3.1: 256, or 64 when DCS says so).
fn ecm_frame_size(dcs: &Caps) -> usize {
    if dcs.ecm_64 { 64 } else { 256 }
}

/// The FCD frames of a block: address, control, FCD, the frame number, the data padded to
/// the frame size (T.30 §A.3.1, T.4 Annex A).
fn fcd_frames(chunk: &[u8], size: usize) -> Vec<Vec<u8>> {
    let mut frames: Vec<Vec<u8>> = chunk
        .chunks(size)
        .enumerate()
        .map(|(i, c)| {
            let mut f = Vec::with_capacity(4 + size);
            f.extend_from_slice(&[
                super::frame::ADDRESS,
                super::frame::CONTROL_NOT_FINAL,
                Fcf::Fcd as u8,
                i as u8,
            ]);
            f.extend_from_slice(c);
            f.resize(4 + size, 0);
            f
        })
        .collect();
    if frames.is_empty() {
        let mut f = vec![
            super::frame::ADDRESS,
            super::frame::CONTROL_NOT_FINAL,
            Fcf::Fcd as u8,
            0,
        ];
        f.resize(4 + size, 0);
        frames.push(f);
    }
    frames
}

/// RCP, sent three times after the FCD frames (T.4 §A.2).
const RCP: [u8; 3] = [super::frame::ADDRESS, super::frame::CONTROL_NOT_FINAL, 0x86];

impl Engine {
    // ---- ECM sender --------------------------------------------------------------------

    fn ecm_start_page(&mut self) {
        let dcs = self.dcs.clone().expect("DCS before a page");
        self.push(Action::EncodePage {
            index: self.page,
            dcs,
        });
        self.state = State::WaitPageData;
    }

    fn ecm_page_data(&mut self, data: Vec<u8>) {
        let doc = self.doc.expect("caller has a document");
        self.post_cmd = if self.page + 1 >= doc.pages {
            Fcf::Eop
        } else {
            Fcf::Mps
        };
        self.ecm.data = data;
        self.ecm.page = self.page;
        self.ecm.block_start = 0;
        self.ecm.block = 0;
        self.ecm_next_block();
    }

    fn ecm_block_len(&self) -> usize {
        256 * ecm_frame_size(self.dcs.as_ref().expect("DCS"))
    }

    fn ecm_last_block(&self) -> bool {
        self.ecm.block_start + self.ecm_block_len() >= self.ecm.data.len()
    }

    fn ecm_next_block(&mut self) {
        let size = ecm_frame_size(self.dcs.as_ref().expect("DCS"));
        let end = (self.ecm.block_start + 256 * size).min(self.ecm.data.len());
        let start = self.ecm.block_start.min(end);
        self.ecm.frames = fcd_frames(&self.ecm.data[start..end], size);
        self.ecm.resend = vec![true; self.ecm.frames.len()];
        self.ecm.pprs = 0;
        self.ecm_send_burst();
    }

    fn ecm_send_burst(&mut self) {
        let mut frames: Vec<Vec<u8>> = self
            .ecm
            .frames
            .iter()
            .zip(&self.ecm.resend)
            .filter(|(_, r)| **r)
            .map(|(f, _)| f.clone())
            .collect();
        frames.extend(std::iter::repeat_n(RCP.to_vec(), 3));
        let long_train = std::mem::take(&mut self.ecm.long_train);
        self.push(Action::SendEcmFrames {
            rate: self.rate.expect("a rate"),
            frames,
            long_train,
        });
        self.in_flight.push_back(Sending::Page);
        self.tries = 0;
        self.ecm_send_pps();
    }

    fn ecm_fcf2(&self) -> Option<Fcf> {
        self.ecm_last_block().then_some(self.post_cmd)
    }

    fn ecm_send_pps(&mut self) {
        self.tries += 1;
        if self.tries > 3 {
            let h = match self.ecm_fcf2() {
                Some(Fcf::Mps) => Hangup::NoResponseMps,
                Some(Fcf::Eop) => Hangup::NoResponseEop,
                Some(_) => Hangup::NoResponseEom,
                None => Hangup::TxPhaseD,
            };
            return self.fail(h, true);
        }
        self.send_frames(vec![FrameRepr::Pps {
            fcf2: self.ecm_fcf2(),
            page: self.ecm.page as u8,
            block: self.ecm.block as u8,
            frames: self.ecm.frames.len() as u16,
        }]);
        self.then(State::WaitPpsResponse);
    }

    fn ecm_send_ctc(&mut self) {
        self.tries += 1;
        if self.tries > 3 {
            return self.fail(Hangup::TxPhaseD, true);
        }
        // The FIF carries DCS bits 9–16, whose bits 11–14 give the new rate (T.30 §A.4.3.4).
        let mut dcs = self.build_dcs();
        dcs.rate = self.rate;
        let fif = dcs.to_fif(true);
        let octets = vec![
            super::frame::ADDRESS,
            super::frame::CONTROL_FINAL,
            Fcf::Ctc.octet(true),
            0,
            fif.get(1).copied().unwrap_or(0),
        ];
        self.events
            .push_back(Event::FrameOut(FrameRepr::Plain(Fcf::Ctc)));
        self.push(Action::SendFrames(vec![octets]));
        self.in_flight.push_back(Sending::Frames);
        self.then(State::WaitCtr);
    }

    fn ecm_send_eor(&mut self) {
        self.tries += 1;
        if self.tries > 3 {
            return self.fail(Hangup::TxPhaseD, true);
        }
        self.send_frames(vec![FrameRepr::Eor {
            fcf2: self.ecm_fcf2(),
        }]);
        self.then(State::WaitErr);
    }

    fn ecm_send_rr(&mut self) {
        self.tries += 1;
        if self.tries > 3 {
            return self.fail(Hangup::TxPhaseD, true);
        }
        self.send_frames(vec![FrameRepr::Plain(Fcf::Rr)]);
        self.then(State::WaitRrResponse);
    }

    /// The block went through (MCF, or ERR after EOR): the next block, page, or the end.
    fn ecm_block_done(&mut self) {
        self.t4 = None;
        self.t5 = None;
        if !self.ecm_last_block() {
            self.ecm.block_start += self.ecm_block_len();
            self.ecm.block += 1;
            return self.ecm_next_block();
        }
        self.pages_confirmed += 1;
        self.events.push_back(Event::PageConfirmed(self.page));
        self.page += 1;
        self.ecm.data.clear();
        if self.post_cmd == Fcf::Eop {
            self.send_frames(vec![FrameRepr::Plain(Fcf::Dcn)]);
            self.pending_hangup = Some(Hangup::Normal);
            self.then(State::Done);
        } else {
            self.ecm_start_page();
        }
    }

    fn ecm_response(&mut self, repr: FrameRepr) {
        let state = self.state;
        match (state, repr) {
            (
                State::WaitPpsResponse | State::WaitRrResponse,
                FrameRepr::Plain(Fcf::Mcf | Fcf::Rtp),
            ) => self.ecm_block_done(),
            (State::WaitErr, FrameRepr::Plain(Fcf::Err)) => self.ecm_block_done(),
            (State::WaitPpsResponse | State::WaitRrResponse, FrameRepr::Ppr(map)) => {
                self.t4 = None;
                self.t5 = None;
                for (i, r) in self.ecm.resend.iter_mut().enumerate() {
                    *r = map[i / 8] >> (i % 8) & 1 != 0;
                }
                self.ecm.pprs += 1;
                self.tries = 0;
                if self.ecm.pprs >= 4 {
                    // Four PPRs for one block: continue to correct, one rate lower when
                    // there is one (CTC), else end the retransmission (EOR).
                    self.ecm.pprs = 0;
                    if let Some(r) = self.rate.and_then(|r| self.next_rate_below(r)) {
                        self.rate = Some(r);
                        if let Some(d) = self.dcs.as_mut() {
                            d.rate = Some(r);
                        }
                        return self.ecm_send_ctc();
                    }
                    return self.ecm_send_eor();
                }
                self.ecm_send_burst();
            }
            (State::WaitCtr, FrameRepr::Plain(Fcf::Ctr)) => {
                self.t4 = None;
                self.ecm.long_train = true;
                self.ecm_send_burst();
            }
            (
                State::WaitPpsResponse | State::WaitRrResponse | State::WaitErr,
                FrameRepr::Plain(Fcf::Rnr),
            ) => {
                // The receiver is busy: ask again with RR until it is ready, within T5.
                self.t4 = None;
                if self.t5.is_none() {
                    self.t5 = Some(self.now + self.config.t5);
                }
                self.tries = 0;
                self.ecm_send_rr();
            }
            (_, FrameRepr::Plain(Fcf::Crp)) => match state {
                State::WaitCtr => self.ecm_send_ctc(),
                State::WaitErr => self.ecm_send_eor(),
                State::WaitRrResponse => self.ecm_send_rr(),
                _ => self.ecm_send_pps(),
            },
            (_, FrameRepr::Plain(Fcf::Dcn)) => self.fail(Hangup::TxGotDcnPhaseD, false),
            _ => {
                let h = match self.ecm_fcf2() {
                    Some(Fcf::Mps) => Hangup::InvalidResponseMps,
                    Some(Fcf::Eop) => Hangup::InvalidResponseEop,
                    Some(_) => Hangup::InvalidResponseEom,
                    None => Hangup::TxPhaseD,
                };
                self.fail(h, true)
            }
        }
    }

    // ---- ECM receiver ------------------------------------------------------------------

    /// An FCD or RCP frame from the image modem.
    fn ecm_data_frame(&mut self, octets: &[u8]) {
        if self.state != State::WaitEcm {
            return;
        }
        if octets[2] & 0xFE == 0x86 {
            // RCP: the burst is over; the post-message command follows on V.21.
            self.t2 = Some(self.now + self.config.t2);
            return;
        }
        let Some((&n, data)) = octets.get(3..).and_then(|f| f.split_first()) else {
            return;
        };
        if data.is_empty() || data.len() > 256 {
            return;
        }
        if self.ecm.rx.len() < 256 {
            self.ecm.rx_reset_block();
        }
        self.ecm.rx_any = true;
        self.ecm.rx[n as usize] = Some(data.to_vec());
    }

    fn ecm_reply(&mut self, r: FrameRepr) {
        self.ecm.last_reply = Some(r.clone());
        self.send_frames(vec![r]);
    }

    /// Take the block into the page (missing frames, after EOR, as nothing).
    fn ecm_accept_block(&mut self) {
        let n = self.ecm.rx_frames.unwrap_or(0);
        for f in self.ecm.rx.iter_mut().take(n) {
            if let Some(d) = f.take() {
                self.ecm.rx_page.extend_from_slice(&d);
            }
        }
        self.ecm.rx_reset_block();
        self.ecm.rx_block += 1;
    }

    /// The block is in: if the command ends the page, deliver it; respond and go on.
    fn ecm_block_in(&mut self, fcf2: Option<Fcf>, response: FrameRepr) {
        self.ecm_accept_block();
        let Some(cmd) = fcf2 else {
            self.ecm_reply(response);
            return self.then(State::WaitEcm);
        };
        let cmd = match cmd {
            Fcf::PriMps => Fcf::Mps,
            Fcf::PriEop => Fcf::Eop,
            Fcf::PriEom => Fcf::Eom,
            c => c,
        };
        let data = std::mem::take(&mut self.ecm.rx_page);
        let dcs = self.dcs.clone().expect("DCS before a page");
        self.push(Action::PageReceived { data, dcs });
        self.pages_confirmed += 1;
        self.events.push_back(Event::PageConfirmed(self.page));
        self.page += 1;
        self.ecm.rx_block = 0;
        self.ecm.rx_any = false;
        self.last_response = Some((cmd, Fcf::Mcf));
        self.ecm_reply(response);
        match cmd {
            Fcf::Eop => self.then(State::WaitDcn),
            Fcf::Eom => self.send_dis(),
            _ => self.then(State::WaitEcm),
        }
    }

    fn ecm_command(&mut self, repr: FrameRepr) {
        match repr {
            FrameRepr::Pps {
                fcf2,
                page,
                block,
                frames,
            } => {
                self.t2 = None;
                if page != self.page as u8 || block != self.ecm.rx_block as u8 {
                    // Our MCF to the previous block was lost: the same PPS again.
                    let prev_block =
                        page == self.page as u8 && block == self.ecm.rx_block.wrapping_sub(1) as u8;
                    let prev_page = page == self.page.wrapping_sub(1) as u8;
                    if prev_block || prev_page {
                        self.ecm_reply(FrameRepr::Plain(Fcf::Mcf));
                        return self.then(State::WaitEcm);
                    }
                    return self.fail(Hangup::RxPhaseD, true);
                }
                if self.ecm.rx.len() < 256 {
                    self.ecm.rx_reset_block();
                }
                let n = *self
                    .ecm
                    .rx_frames
                    .get_or_insert(frames.clamp(1, 256) as usize);
                let mut map = [0u8; 32];
                let mut missing = 0;
                for i in 0..n {
                    if self.ecm.rx[i].is_none() {
                        map[i / 8] |= 1 << (i % 8);
                        missing += 1;
                    }
                }
                if missing == 0 {
                    self.ecm_block_in(fcf2, FrameRepr::Plain(Fcf::Mcf));
                } else {
                    self.ecm_reply(FrameRepr::Ppr(Box::new(map)));
                    self.then(State::WaitEcm);
                }
            }
            FrameRepr::Eor { fcf2 } => {
                self.t2 = None;
                if self.ecm.rx_frames.is_none() {
                    self.ecm.rx_frames = Some(256);
                }
                self.ecm_block_in(fcf2, FrameRepr::Plain(Fcf::Err));
            }
            FrameRepr::Plain(Fcf::Ctc) => {
                // The rate was read by `ecm_ctc` from the raw frame; answer CTR, then the
                // retransmission comes with long training.
                self.t2 = None;
                self.send_frames(vec![FrameRepr::Plain(Fcf::Ctr)]);
                self.then(State::WaitEcm);
            }
            FrameRepr::Plain(Fcf::Rr) => {
                self.t2 = None;
                let r = self
                    .ecm
                    .last_reply
                    .clone()
                    .unwrap_or(FrameRepr::Plain(Fcf::Mcf));
                self.send_frames(vec![r]);
                self.then(State::WaitEcm);
            }
            FrameRepr::Plain(Fcf::Crp) => {
                if let Some(r) = self.ecm.last_reply.clone() {
                    self.send_frames(vec![r]);
                    self.then(State::WaitEcm);
                }
            }
            FrameRepr::Plain(Fcf::Dcn) => {
                let h = if self.ecm.rx_any {
                    Hangup::RxPhaseC
                } else {
                    Hangup::RxPhaseD
                };
                self.finish(h, false)
            }
            FrameRepr::Plain(Fcf::Mps | Fcf::Eop | Fcf::Eom) => {
                // A non-ECM post-page command while in ECM: not valid here.
                self.fail(Hangup::RxInvalidPostPage, true)
            }
            _ => {}
        }
    }

    /// CTC's new rate (its FIF: DCS bits 9–16), read from the raw frame.
    fn ecm_ctc(&mut self, octets: &[u8]) {
        let Some(&bits) = octets.get(4) else { return };
        let mut fif = vec![0u8, bits, 0];
        if let Some(d) = self.dcs.as_ref() {
            let mut ours = d.to_fif(true);
            if ours.len() >= 2 {
                ours[1] = bits;
                fif = ours;
            }
        }
        if let Ok(c) = Caps::parse(&fif, true)
            && let Some(r) = c.rate
            && self.our_dis().modulations.contains(&r.modulation)
        {
            self.rate = Some(r);
            if let Some(d) = self.dcs.as_mut() {
                d.rate = Some(r);
            }
        }
    }
}
