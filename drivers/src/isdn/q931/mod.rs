//! ITU-T Q.931 basic call control, user side, for a PRI fax gateway: the message and
//! information-element codec ([`message`]) and a sans-IO call table ([`Calls`]) for every
//! call on one D-channel, keyed by call reference (messages in, messages out, an injected
//! clock in milliseconds).
//!
//! **Calls** (Q.931 §5, user side): outgoing U0 → U1 (SETUP, T303 twice) → U3 (CALL
//! PROCEEDING, T310) → U4 (ALERTING) → U10 (CONNECT; CONNECT ACK sent); incoming U0 → U6
//! (SETUP) → U9 (CALL PROCEEDING) → U8 (CONNECT, T313) → U10 (CONNECT ACK); clearing by
//! us U11 (DISCONNECT, T305) → U19 (RELEASE, T308) → U0, by the network U12 (DISCONNECT →
//! RELEASE) → U0 (RELEASE COMPLETE). The first cause received is the call's Q.850 cause
//! (docs/reference/q850-causes.md); timer expiry gives 102.
//!
//! **Channels** (§5.1.2, §5.2.3.1): the span's B-channels ([`Calls::with_channels`]) are
//! tracked per call. A SETUP we send names one channel, exclusive or preferred (or, with no
//! channel asked for, the highest free one as preferred: the network hunts from the low end);
//! the network may move a preferred call in its first answer. An incoming SETUP on a free
//! channel takes it; on a busy one it is moved to a free channel when preferred, refused with
//! RELEASE COMPLETE 44 when exclusive, and with 34 when no channel is free. **Glare** — the
//! network's SETUP names the channel of our own SETUP still unanswered (U1): the network
//! wins (§5.1.2), its call gets the channel and ours waits for the network to move it
//! (preferred) or clear it with 44 (exclusive).
//!
//! **Restart** (§5.5): [`Calls::restart`] clears the calls on one channel or on all, sends
//! RESTART (Restart indicator class 0 with a Channel identification, or class 7) and keeps
//! the channels out of use until RESTART ACKNOWLEDGE (T316, resent on expiry). A call whose
//! RELEASE is unanswered twice (T308, §5.3.4.3) leaves its channel in maintenance and the
//! channel is restarted. A RESTART from the network clears the calls on its channels and is
//! acknowledged with the same IEs.
//!
//! **Status** (§5.8.10–§5.8.11): STATUS ENQUIRY is answered with STATUS (cause 30, our call
//! state); [`Calls::status_enquiry`] asks the network (T322: sent again once, then the call
//! is cleared with 41); a STATUS naming state 0 releases the call, one naming a state
//! incompatible with ours clears it with RELEASE 101. A message for an unknown call reference
//! gets RELEASE COMPLETE 81 (§5.8.3.2).
//!
//! **Data link failure** (§5.8.9): [`Calls::link_down`] clears the calls not active and
//! starts T309 on the active ones; [`Calls::link_up`] stops T309 and sends STATUS ENQUIRY
//! for each; T309's expiry clears the call with 27.
//!
//! **Timers** (Table 9-1): T303 4 s, T305 30 s, T308 4 s, T309 90 s, T310 30 s, T313 4 s,
//! T316 120 s, T322 4 s.
//!
//! **Not supported:** overlap sending (SETUP ACKNOWLEDGE/INFORMATION), supplementary
//! services (FACILITY), SERVICE messages, mandatory-IE checks with STATUS 96/100 (a missing
//! cause reads as 31), more than one B-channel per call.
//!
//! **Tested by:** unit tests below and in [`message`] (golden messages of an outgoing call
//! as tshark decodes them; every timer on the injected clock), `drivers/tests/isdn_libpri.rs`
//! (libpri as the network side, one call and a span of calls at once), the `q931_message`
//! fuzz target.

pub mod message;

use std::collections::{BTreeSet, HashMap, VecDeque};

pub use message::{
    Cause, Message, MessageError, MsgType, PD_Q931, bearer_3k1, build, called_number,
    calling_number, channel_id, channel_id_sel, ie, restart_indicator,
};

/// Q.931 user-side call states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Null,
    CallInitiated,
    OutgoingCallProceeding,
    CallDelivered,
    CallPresent,
    ConnectRequest,
    IncomingCallProceeding,
    Active,
    DisconnectRequest,
    DisconnectIndication,
    ReleaseRequest,
}

impl CallState {
    /// The number of the state (Call state IE).
    pub fn code(self) -> u8 {
        match self {
            CallState::Null => 0,
            CallState::CallInitiated => 1,
            CallState::OutgoingCallProceeding => 3,
            CallState::CallDelivered => 4,
            CallState::CallPresent => 6,
            CallState::ConnectRequest => 8,
            CallState::IncomingCallProceeding => 9,
            CallState::Active => 10,
            CallState::DisconnectRequest => 11,
            CallState::DisconnectIndication => 12,
            CallState::ReleaseRequest => 19,
        }
    }

    /// Whether the network's state `theirs` (from a STATUS) can go with ours (§5.8.11):
    /// an active call against a call still being set up, or one being set up against an
    /// idle or released call, cannot.
    fn compatible_with(self, theirs: u8) -> bool {
        const SETTING_UP: [u8; 8] = [1, 3, 4, 6, 7, 8, 9, 25];
        const CLEARING: [u8; 4] = [11, 12, 19, 22];
        match self {
            CallState::Active => theirs == 10 || CLEARING.contains(&theirs),
            CallState::Null
            | CallState::DisconnectRequest
            | CallState::DisconnectIndication
            | CallState::ReleaseRequest => true,
            _ => SETTING_UP.contains(&theirs) || theirs == 10 || CLEARING.contains(&theirs),
        }
    }
}

/// A call's handle: its call reference as we allocated or received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId {
    pub cr: u16,
    /// True for calls the network allocated (incoming).
    pub incoming: bool,
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// An incoming SETUP, given `channel` (the one it asked for, or the free channel it was
    /// moved to when it asked for a busy one as preferred).
    Incoming {
        call: CallId,
        channel: Option<u8>,
        /// The SETUP asked for its channel exclusively.
        exclusive: bool,
        called: Option<String>,
        calling: Option<String>,
    },
    Proceeding {
        call: CallId,
        channel: Option<u8>,
    },
    Alerting {
        call: CallId,
    },
    /// The call is connected (outgoing: CONNECT received; incoming: CONNECT ACK received).
    Connected {
        call: CallId,
    },
    /// The network disconnected (DISCONNECT, or RELEASE/RELEASE COMPLETE unannounced).
    Disconnected {
        call: CallId,
        cause: Cause,
    },
    /// The call is gone; `cause` is its Q.850 cause (the first one received, else ours).
    Released {
        call: CallId,
        cause: Cause,
    },
    /// The network restarted a channel (or all, `None`); calls on it were released.
    Restarted {
        channel: Option<u8>,
    },
    /// Our RESTART of a channel (or of all) was acknowledged: the channels are free again.
    RestartAcknowledged {
        channel: Option<u8>,
    },
}

/// Timers (ms), Q.931 Table 9-1.
pub const T303_MS: u64 = 4_000;
pub const T305_MS: u64 = 30_000;
pub const T308_MS: u64 = 4_000;
pub const T309_MS: u64 = 90_000;
pub const T310_MS: u64 = 30_000;
pub const T313_MS: u64 = 4_000;
pub const T316_MS: u64 = 120_000;
pub const T322_MS: u64 = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    T303,
    T305,
    T308,
    T309,
    T310,
    T313,
}

struct Call {
    state: CallState,
    cause: Option<Cause>,
    channel: Option<u8>,
    exclusive: bool,
    timer: Option<(Timer, u64)>,
    retried: bool,
    /// T322: a STATUS ENQUIRY of ours unanswered until then; and whether it was sent again.
    t322: Option<u64>,
    enquired_again: bool,
    /// The SETUP, kept for the T303 resend.
    setup: Vec<u8>,
}

impl Call {
    fn new(state: CallState, channel: Option<u8>, exclusive: bool) -> Call {
        Call {
            state,
            cause: None,
            channel,
            exclusive,
            timer: None,
            retried: false,
            t322: None,
            enquired_again: false,
            setup: Vec::new(),
        }
    }

    /// Does this call hold its channel? A SETUP of ours still unanswered only asks for it.
    fn holds_channel(&self) -> bool {
        self.state != CallState::CallInitiated
    }
}

/// A RESTART of ours waiting for its acknowledgement (T316).
struct Restart {
    channel: Option<u8>,
    due: u64,
}

/// The B-channels of an E1 span (timeslots 1–15 and 17–31; 16 is the D-channel).
pub fn e1_channels() -> Vec<u8> {
    (1..=31).filter(|&c| c != 16).collect()
}

/// The B-channels of a T1 span (1–23; 24 is the D-channel).
pub fn t1_channels() -> Vec<u8> {
    (1..=23).collect()
}

/// The user side's calls on one D-channel (sans-IO: messages in, messages out).
pub struct Calls {
    next_cr: u16,
    /// The span's B-channels; empty when not known (any channel named is taken as free).
    bchans: Vec<u8>,
    /// Channels out of service until a RESTART of ours is acknowledged.
    maintenance: BTreeSet<u8>,
    restarts: Vec<Restart>,
    calls: HashMap<CallId, Call>,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<CallEvent>,
    /// STATUS messages received for calls in the table.
    pub statuses_received: u64,
}

/// What to put in a SETUP.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub called: &'a str,
    pub calling: Option<&'a str>,
    /// B-channel number (T1 1–23, E1 1–15/17–31); `None`: any free channel.
    pub channel: Option<u8>,
    /// Only that channel is acceptable (else preferred: the network may choose another).
    pub exclusive: bool,
    pub alaw: bool,
    /// EuroISDN en-bloc: add Sending complete.
    pub sending_complete: bool,
}

impl Default for Calls {
    fn default() -> Self {
        Self::new()
    }
}

impl Calls {
    /// A call table that does not know the span's channels.
    pub fn new() -> Calls {
        Calls::with_channels(Vec::new())
    }

    /// A call table for a span with these B-channels ([`e1_channels`], [`t1_channels`]).
    pub fn with_channels(bchans: Vec<u8>) -> Calls {
        Calls {
            next_cr: 1,
            bchans,
            maintenance: BTreeSet::new(),
            restarts: Vec::new(),
            calls: HashMap::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            statuses_received: 0,
        }
    }

    fn send(&mut self, id: CallId, mt: MsgType, ies: &[(u8, &[u8])]) {
        tracing::debug!("Q.931 -> {mt} CR {}", id.cr);
        // Flag 0 on our own call references, 1 on the network's.
        self.out.push_back(build(id.cr, id.incoming, mt, ies));
    }

    /// The call holding channel `ch`, if any.
    pub fn channel_owner(&self, ch: u8) -> Option<CallId> {
        self.calls
            .iter()
            .filter(|(_, c)| c.channel == Some(ch) && c.holds_channel())
            .map(|(id, _)| *id)
            .min()
    }

    /// Is `ch` one of ours, idle and in service?
    pub fn is_free(&self, ch: u8) -> bool {
        (self.bchans.is_empty() || self.bchans.contains(&ch))
            && !self.maintenance.contains(&ch)
            && !self
                .calls
                .values()
                .any(|c| c.channel == Some(ch) && c.state != CallState::Null)
    }

    /// The free channels, lowest first.
    pub fn free_channels(&self) -> Vec<u8> {
        self.bchans
            .iter()
            .copied()
            .filter(|&c| self.is_free(c))
            .collect()
    }

    /// The channels waiting for a RESTART ACKNOWLEDGE.
    pub fn in_maintenance(&self) -> Vec<u8> {
        self.maintenance.iter().copied().collect()
    }

    /// The number of calls in the table.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    fn new_cr(&mut self) -> u16 {
        loop {
            let cr = self.next_cr;
            self.next_cr = if self.next_cr >= 0x7FFF {
                1
            } else {
                self.next_cr + 1
            };
            let id = CallId {
                cr,
                incoming: false,
            };
            if !self.calls.contains_key(&id) {
                return cr;
            }
        }
    }

    /// Place a call: SETUP (T303). With no free channel to ask for, the call is released at
    /// once with 34 (no circuit/channel available).
    pub fn setup(&mut self, now: u64, s: &Setup) -> CallId {
        let cr = self.new_cr();
        let id = CallId {
            cr,
            incoming: false,
        };
        let (channel, exclusive) = match s.channel {
            Some(c) => (Some(c), s.exclusive),
            None => (self.free_channels().last().copied(), false),
        };
        if channel.is_none() && !self.bchans.is_empty() {
            self.calls
                .insert(id, Call::new(CallState::CallInitiated, None, false));
            self.release(id, Cause::new(34));
            return id;
        }
        let bc = bearer_3k1(s.alaw);
        let ch = channel.map(|c| channel_id_sel(c, exclusive));
        let called = called_number(s.called);
        let calling = s.calling.map(calling_number);
        let mut ies: Vec<(u8, &[u8])> = vec![(ie::BEARER_CAPABILITY, &bc)];
        if let Some(ch) = &ch {
            ies.push((ie::CHANNEL_ID, ch));
        }
        if let Some(c) = &calling {
            ies.push((ie::CALLING_NUMBER, c));
        }
        ies.push((ie::CALLED_NUMBER, &called));
        if s.sending_complete {
            ies.push((ie::SENDING_COMPLETE, &[]));
        }
        let msg = build(cr, false, MsgType::Setup, &ies);
        tracing::debug!("Q.931 -> SETUP CR {cr} to {} on {channel:?}", s.called);
        self.out.push_back(msg.clone());
        let mut c = Call::new(CallState::CallInitiated, channel, exclusive);
        c.timer = Some((Timer::T303, now + T303_MS));
        c.setup = msg;
        self.calls.insert(id, c);
        id
    }

    /// Move an incoming call that asked for its channel as preferred to `channel` (free),
    /// before it is answered. False (nothing done) otherwise.
    pub fn reassign(&mut self, id: CallId, channel: u8) -> bool {
        let free = self.is_free(channel);
        match self.calls.get_mut(&id) {
            Some(c) if c.state == CallState::CallPresent && !c.exclusive && free => {
                c.channel = Some(channel);
                true
            }
            _ => false,
        }
    }

    /// Accept an incoming call: CALL PROCEEDING naming its channel, exclusive (U9).
    pub fn proceed(&mut self, id: CallId) {
        let Some(c) = self.calls.get(&id) else {
            return;
        };
        if c.state != CallState::CallPresent {
            return;
        }
        let ch = c.channel.map(channel_id);
        let ies: Vec<(u8, &[u8])> = ch.iter().map(|c| (ie::CHANNEL_ID, &c[..])).collect();
        self.send(id, MsgType::CallProceeding, &ies);
        if let Some(c) = self.calls.get_mut(&id) {
            c.state = CallState::IncomingCallProceeding;
        }
    }

    /// Answer an incoming call: CALL PROCEEDING (if not yet sent) and CONNECT (T313).
    pub fn answer(&mut self, now: u64, id: CallId) {
        let Some(c) = self.calls.get(&id) else {
            return;
        };
        if !matches!(
            c.state,
            CallState::CallPresent | CallState::IncomingCallProceeding
        ) {
            return;
        }
        self.proceed(id);
        self.send(id, MsgType::Connect, &[]);
        if let Some(c) = self.calls.get_mut(&id) {
            c.state = CallState::ConnectRequest;
            c.timer = Some((Timer::T313, now + T313_MS));
        }
    }

    /// Clear a call with `cause` (16 after a completed fax).
    pub fn hangup(&mut self, now: u64, id: CallId, cause: u8) {
        let Some(c) = self.calls.get(&id) else {
            return;
        };
        let cause_ie = Cause::new(cause).encode();
        match c.state {
            CallState::Null | CallState::DisconnectRequest | CallState::ReleaseRequest => {}
            CallState::DisconnectIndication => {
                self.send(id, MsgType::Release, &[]);
                let c = self.calls.get_mut(&id).unwrap();
                c.state = CallState::ReleaseRequest;
                c.timer = Some((Timer::T308, now + T308_MS));
            }
            CallState::CallPresent => {
                self.send(id, MsgType::ReleaseComplete, &[(ie::CAUSE, &cause_ie)]);
                self.release(id, Cause::new(cause));
            }
            _ => {
                self.send(id, MsgType::Disconnect, &[(ie::CAUSE, &cause_ie)]);
                let c = self.calls.get_mut(&id).unwrap();
                c.cause.get_or_insert(Cause::new(cause));
                c.state = CallState::DisconnectRequest;
                c.timer = Some((Timer::T305, now + T305_MS));
            }
        }
    }

    /// Ask the network for the state of a call: STATUS ENQUIRY (T322).
    pub fn status_enquiry(&mut self, now: u64, id: CallId) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.t322.is_some() {
            return;
        }
        c.t322 = Some(now + T322_MS);
        c.enquired_again = false;
        self.send(id, MsgType::StatusEnquiry, &[]);
    }

    /// Restart one channel or, with `None`, all (§5.5.1): the calls on them are released
    /// here (cause 41), RESTART goes out and the channels stay out of use until RESTART
    /// ACKNOWLEDGE (T316).
    pub fn restart(&mut self, now: u64, channel: Option<u8>) {
        let gone: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| channel.is_none() || c.channel == channel)
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.release(id, Cause::new(41));
        }
        match channel {
            Some(c) => {
                self.maintenance.insert(c);
            }
            None => self.maintenance.extend(self.bchans.iter().copied()),
        }
        self.restarts.retain(|r| r.channel != channel);
        self.restarts.push(Restart {
            channel,
            due: now + T316_MS,
        });
        self.send_restart(channel);
    }

    fn send_restart(&mut self, channel: Option<u8>) {
        tracing::debug!("Q.931 -> RESTART {channel:?}");
        let ri = restart_indicator(channel.is_none());
        let ch = channel.map(channel_id);
        let mut ies: Vec<(u8, &[u8])> = Vec::new();
        if let Some(ch) = &ch {
            ies.push((ie::CHANNEL_ID, ch));
        }
        ies.push((ie::RESTART_INDICATOR, &ri));
        self.out.push_back(build(0, false, MsgType::Restart, &ies));
    }

    /// Layer 2 went down (§5.8.9): calls not active are cleared here (cause 41, events
    /// out), active calls wait for the link under T309.
    pub fn link_down(&mut self, now: u64) {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            let c = self.calls.get_mut(&id).unwrap();
            if c.state == CallState::Active {
                c.timer = Some((Timer::T309, now + T309_MS));
                c.t322 = None;
            } else {
                self.release(id, Cause::new(41));
            }
        }
    }

    /// Layer 2 is (back) up: T309 stopped, the state of each call that waited asked for.
    pub fn link_up(&mut self, now: u64) {
        let waiting: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| matches!(c.timer, Some((Timer::T309, _))))
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            self.calls.get_mut(&id).unwrap().timer = None;
            self.status_enquiry(now, id);
        }
    }

    /// The state of a call (Null when gone).
    pub fn state(&self, id: CallId) -> CallState {
        self.calls.get(&id).map_or(CallState::Null, |c| c.state)
    }

    /// The channel of a call.
    pub fn channel(&self, id: CallId) -> Option<u8> {
        self.calls.get(&id).and_then(|c| c.channel)
    }

    fn release(&mut self, id: CallId, fallback: Cause) {
        if let Some(c) = self.calls.remove(&id) {
            let cause = c.cause.unwrap_or(fallback);
            self.events
                .push_back(CallEvent::Released { call: id, cause });
        }
    }

    /// A layer-3 message from the network.
    pub fn handle_message(&mut self, now: u64, bytes: &[u8]) {
        let m = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!("Q.931: dropped: {e}");
                return;
            }
        };
        tracing::debug!("Q.931 <- {} CR {}", m.mt, m.cr);
        if m.cr == 0 {
            self.global(now, &m);
            return;
        }
        // Flag 1 from the network: a call we allocated.
        let id = CallId {
            cr: m.cr,
            incoming: !m.cr_flag,
        };
        let cause = m.cause();
        let Some(state) = self.calls.get(&id).map(|c| c.state) else {
            match m.mt {
                MsgType::Setup if id.incoming => self.incoming(id, &m),
                MsgType::ReleaseComplete => {}
                MsgType::Release => {
                    self.send(id, MsgType::ReleaseComplete, &[]);
                }
                MsgType::StatusEnquiry => {
                    let cause = Cause::new(30).encode();
                    self.send(
                        id,
                        MsgType::Status,
                        &[(ie::CAUSE, &cause), (ie::CALL_STATE, &[0])],
                    );
                }
                MsgType::Status if m.call_state() == Some(0) => {}
                _ => {
                    // Q.931 §5.8.3.2: unknown call reference.
                    let c = Cause::new(81).encode();
                    self.send(id, MsgType::ReleaseComplete, &[(ie::CAUSE, &c)]);
                }
            }
            return;
        };
        let c = self.calls.get_mut(&id).unwrap();
        if c.cause.is_none()
            && matches!(
                m.mt,
                MsgType::Disconnect | MsgType::Release | MsgType::ReleaseComplete
            )
        {
            c.cause = cause;
        }
        // The network's first answer to our SETUP names the channel (it may move a
        // preferred one, or one that lost a glare).
        let first_answer = |c: &mut Call| {
            if let Some((ch, _)) = m.channel_sel() {
                c.channel = Some(ch);
            }
        };
        match m.mt {
            MsgType::CallProceeding if state == CallState::CallInitiated => {
                first_answer(c);
                c.state = CallState::OutgoingCallProceeding;
                c.timer = Some((Timer::T310, now + T310_MS));
                let channel = c.channel;
                self.events
                    .push_back(CallEvent::Proceeding { call: id, channel });
            }
            MsgType::Alerting
                if matches!(
                    state,
                    CallState::CallInitiated | CallState::OutgoingCallProceeding
                ) =>
            {
                first_answer(c);
                c.state = CallState::CallDelivered;
                c.timer = None;
                self.events.push_back(CallEvent::Alerting { call: id });
            }
            MsgType::Progress => {
                if state == CallState::CallInitiated {
                    c.timer = Some((Timer::T310, now + T310_MS));
                }
            }
            MsgType::Connect
                if matches!(
                    state,
                    CallState::CallInitiated
                        | CallState::OutgoingCallProceeding
                        | CallState::CallDelivered
                ) =>
            {
                first_answer(c);
                c.state = CallState::Active;
                c.timer = None;
                self.send(id, MsgType::ConnectAcknowledge, &[]);
                self.events.push_back(CallEvent::Connected { call: id });
            }
            MsgType::ConnectAcknowledge if state == CallState::ConnectRequest => {
                c.state = CallState::Active;
                c.timer = None;
                self.events.push_back(CallEvent::Connected { call: id });
            }
            MsgType::Disconnect => {
                let cause = c.cause.unwrap_or(Cause::new(31));
                // A clear collision (we are in U11 too) is answered with RELEASE as well.
                c.state = CallState::ReleaseRequest;
                c.retried = false;
                c.t322 = None;
                c.timer = Some((Timer::T308, now + T308_MS));
                self.events
                    .push_back(CallEvent::Disconnected { call: id, cause });
                self.send(id, MsgType::Release, &[]);
            }
            MsgType::Release => {
                let cause = c.cause.unwrap_or(Cause::new(31));
                if state != CallState::DisconnectRequest && state != CallState::ReleaseRequest {
                    self.events
                        .push_back(CallEvent::Disconnected { call: id, cause });
                }
                self.send(id, MsgType::ReleaseComplete, &[]);
                self.release(id, cause);
            }
            MsgType::ReleaseComplete => {
                let cause = c.cause.unwrap_or(Cause::new(31));
                if !matches!(
                    state,
                    CallState::ReleaseRequest | CallState::DisconnectRequest
                ) {
                    self.events
                        .push_back(CallEvent::Disconnected { call: id, cause });
                }
                self.release(id, cause);
            }
            MsgType::StatusEnquiry => {
                let st = [state.code()];
                let cause = Cause::new(30).encode();
                self.send(
                    id,
                    MsgType::Status,
                    &[(ie::CAUSE, &cause), (ie::CALL_STATE, &st)],
                );
            }
            MsgType::Status => {
                self.statuses_received += 1;
                let c = self.calls.get_mut(&id).unwrap();
                c.t322 = None;
                match m.call_state() {
                    // The network has lost the call: released here (§5.8.11).
                    Some(0) => {
                        let cause = c.cause.or(cause).unwrap_or(Cause::new(101));
                        self.release(id, cause);
                    }
                    Some(theirs) if !state.compatible_with(theirs) => {
                        tracing::warn!(
                            "Q.931: CR {} is in state {} here, {theirs} at the network: cleared",
                            id.cr,
                            state.code()
                        );
                        let cause = Cause::new(101);
                        c.cause.get_or_insert(cause);
                        c.state = CallState::ReleaseRequest;
                        c.retried = false;
                        c.timer = Some((Timer::T308, now + T308_MS));
                        self.send(id, MsgType::Release, &[(ie::CAUSE, &cause.encode())]);
                    }
                    _ => {}
                }
            }
            _ => {
                tracing::debug!("Q.931: {} ignored in state {:?}", m.mt, state);
            }
        }
    }

    fn incoming(&mut self, id: CallId, m: &Message) {
        let (asked, exclusive) = match m.channel_sel() {
            Some((c, x)) => (Some(c), x),
            None => (None, false),
        };
        let refuse = |calls: &mut Calls, cause: u8| {
            let c = Cause::new(cause).encode();
            calls.send(id, MsgType::ReleaseComplete, &[(ie::CAUSE, &c)]);
        };
        if let Some(ch) = asked {
            // Glare (§5.1.2): the network's call takes the channel from our unanswered
            // SETUP; the network moves or clears ours.
            for c in self.calls.values_mut() {
                if c.channel == Some(ch) && c.state == CallState::CallInitiated {
                    tracing::info!("Q.931: glare on channel {ch}: the network's call has it");
                    c.channel = None;
                }
            }
        }
        let channel = match asked {
            Some(c) if self.is_free(c) => Some(c),
            Some(c) if exclusive || self.bchans.is_empty() => {
                tracing::info!("Q.931: SETUP for busy channel {c} (exclusive): 44");
                return refuse(self, 44);
            }
            _ => match self.free_channels().first() {
                Some(&c) => Some(c),
                None if self.bchans.is_empty() => None,
                None => return refuse(self, 34),
            },
        };
        self.calls
            .insert(id, Call::new(CallState::CallPresent, channel, exclusive));
        self.events.push_back(CallEvent::Incoming {
            call: id,
            channel,
            exclusive,
            called: m.number(ie::CALLED_NUMBER),
            calling: m.number(ie::CALLING_NUMBER),
        });
    }

    fn global(&mut self, _now: u64, m: &Message) {
        match m.mt {
            MsgType::Restart => {
                // Clear the calls on the restarted channel (or all), acknowledge with the
                // same IEs.
                let all = m.restart_class() != Some(0);
                let ch = if all { None } else { m.channel() };
                let gone: Vec<CallId> = self
                    .calls
                    .iter()
                    .filter(|(_, c)| ch.is_none() || c.channel == ch)
                    .map(|(id, _)| *id)
                    .collect();
                for id in gone {
                    self.release(id, Cause::new(41));
                }
                match ch {
                    Some(c) => {
                        self.maintenance.remove(&c);
                    }
                    None => self.maintenance.clear(),
                }
                let ies: Vec<(u8, &[u8])> = m.ies.clone();
                self.out
                    .push_back(build(0, true, MsgType::RestartAcknowledge, &ies));
                self.events.push_back(CallEvent::Restarted { channel: ch });
            }
            MsgType::RestartAcknowledge => {
                let ch = if m.restart_class() == Some(0) {
                    m.channel()
                } else {
                    None
                };
                let before = self.restarts.len();
                self.restarts.retain(|r| r.channel != ch);
                if self.restarts.len() == before {
                    tracing::debug!("Q.931: RESTART ACKNOWLEDGE for {ch:?}, not asked for");
                    return;
                }
                match ch {
                    Some(c) => {
                        self.maintenance.remove(&c);
                    }
                    None => {
                        let pending: Vec<u8> =
                            self.restarts.iter().filter_map(|r| r.channel).collect();
                        self.maintenance.retain(|c| pending.contains(c));
                    }
                }
                self.events
                    .push_back(CallEvent::RestartAcknowledged { channel: ch });
            }
            _ => {}
        }
    }

    /// Release every call here with `cause` (the D-channel is given up).
    pub fn clear_all(&mut self, cause: u8) {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            self.release(id, Cause::new(cause));
        }
    }

    /// The next timer deadline.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.calls
            .values()
            .flat_map(|c| [c.timer.map(|t| t.1), c.t322])
            .flatten()
            .chain(self.restarts.iter().map(|r| r.due))
            .min()
    }

    /// Run expired timers.
    pub fn handle_timeout(&mut self, now: u64) {
        for i in 0..self.restarts.len() {
            if now >= self.restarts[i].due {
                // T316 (§5.5.1): RESTART again.
                self.restarts[i].due = now + T316_MS;
                let ch = self.restarts[i].channel;
                self.send_restart(ch);
            }
        }
        let mut enquiries: Vec<(CallId, bool)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.t322.is_some_and(|t| now >= t))
            .map(|(id, c)| (*id, c.enquired_again))
            .collect();
        enquiries.sort();
        for (id, again) in enquiries {
            if again {
                // T322 twice (§5.8.10): the call is cleared.
                let c = self.calls.get_mut(&id).unwrap();
                c.t322 = None;
                c.cause.get_or_insert(Cause::new(41));
                self.hangup(now, id, 41);
            } else {
                let c = self.calls.get_mut(&id).unwrap();
                c.t322 = Some(now + T322_MS);
                c.enquired_again = true;
                self.send(id, MsgType::StatusEnquiry, &[]);
            }
        }
        let mut due: Vec<(CallId, Timer)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| c.timer.filter(|t| now >= t.1).map(|t| (*id, t.0)))
            .collect();
        due.sort_by_key(|d| d.0);
        for (id, t) in due {
            let c = self.calls.get_mut(&id).unwrap();
            c.timer = None;
            match t {
                Timer::T303 if !c.retried => {
                    c.retried = true;
                    c.timer = Some((Timer::T303, now + T303_MS));
                    let m = c.setup.clone();
                    self.out.push_back(m);
                }
                Timer::T308 if !c.retried => {
                    c.retried = true;
                    c.timer = Some((Timer::T308, now + T308_MS));
                    let cause = c.cause.unwrap_or(Cause::new(102)).encode();
                    self.send(id, MsgType::Release, &[(ie::CAUSE, &cause)]);
                }
                Timer::T303 => {
                    // No answer to SETUP twice: clear locally (§5.1.1).
                    c.cause.get_or_insert(Cause::new(102));
                    self.release(id, Cause::new(102));
                }
                Timer::T308 => {
                    // RELEASE unanswered twice (§5.3.4.3): the channel is stuck; restart it.
                    let ch = c.channel;
                    self.release(id, Cause::new(102));
                    if let Some(ch) = ch {
                        tracing::warn!("Q.931: channel {ch} stuck (T308 twice): RESTART");
                        self.restart(now, Some(ch));
                    }
                }
                Timer::T305 => {
                    let cause = c.cause.unwrap_or(Cause::new(102)).encode();
                    self.send(id, MsgType::Release, &[(ie::CAUSE, &cause)]);
                    let c = self.calls.get_mut(&id).unwrap();
                    c.state = CallState::ReleaseRequest;
                    c.retried = false;
                    c.timer = Some((Timer::T308, now + T308_MS));
                }
                Timer::T309 => {
                    // The link did not come back (§5.8.9): destination out of order.
                    c.cause.get_or_insert(Cause::new(27));
                    self.release(id, Cause::new(27));
                }
                Timer::T310 | Timer::T313 => {
                    c.cause.get_or_insert(Cause::new(102));
                    self.hangup(now, id, 102);
                }
            }
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<CallEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isdn::hex as h;

    /// A SETUP to `called` on B-channel `channel`, µ-law, no calling number.
    fn to(called: &str, channel: u8) -> Setup<'_> {
        Setup {
            called,
            calling: None,
            channel: Some(channel),
            exclusive: true,
            alaw: false,
            sending_complete: false,
        }
    }

    #[test]
    fn setup_is_the_golden_setup() {
        // An outgoing call's SETUP (the layer-3 part of its third frame) as tshark decodes it.
        let mut calls = Calls::new();
        calls.setup(0, &to("2125551234", 1));
        let m = calls.poll_transmit().unwrap();
        let golden = h(
            "08 02 00 01 05 04 03 90 90 A2 18 03 A9 83 81 6C 06 21 81 35 35 35 31 70 0B A1 32 31 32 35 35 35 31 32 33 34",
        );
        let g = Message::parse(&golden).unwrap();
        let ours = Message::parse(&m).unwrap();
        assert_eq!(ours.mt, MsgType::Setup);
        assert_eq!(&m[..15], &golden[..15], "header, bearer and channel id");
        assert_eq!(ours.number(ie::CALLED_NUMBER), g.number(ie::CALLED_NUMBER));
        assert_eq!(g.number(ie::CALLING_NUMBER).as_deref(), Some("5551"));
        assert_eq!(ours.channel(), Some(1));
    }

    #[test]
    fn outgoing_call_answered_and_cleared_golden() {
        let mut calls = Calls::new();
        let id = calls.setup(
            0,
            &Setup {
                calling: Some("5551"),
                ..to("2125551234", 1)
            },
        );
        calls.poll_transmit();
        calls.handle_message(10, &h("08 02 80 01 02 18 03 A9 83 81"));
        assert_eq!(
            calls.poll_event(),
            Some(CallEvent::Proceeding {
                call: id,
                channel: Some(1)
            })
        );
        calls.handle_message(20, &h("08 02 80 01 01 1E 02 82 88"));
        assert_eq!(calls.poll_event(), Some(CallEvent::Alerting { call: id }));
        calls.handle_message(30, &h("08 02 80 01 07"));
        assert_eq!(calls.poll_event(), Some(CallEvent::Connected { call: id }));
        assert_eq!(
            calls.poll_transmit(),
            Some(h("08 02 00 01 0F")),
            "CONNECT ACK"
        );
        calls.hangup(40, id, 16);
        assert_eq!(
            calls.poll_transmit(),
            Some(h("08 02 00 01 45 08 02 80 90")),
            "DISCONNECT 16"
        );
        calls.handle_message(50, &h("08 02 80 01 4D"));
        assert_eq!(
            calls.poll_transmit(),
            Some(h("08 02 00 01 5A")),
            "RELEASE COMPLETE"
        );
        assert_eq!(
            calls.poll_event(),
            Some(CallEvent::Released {
                call: id,
                cause: Cause::new(16)
            })
        );
        assert_eq!(calls.state(id), CallState::Null);
    }

    #[test]
    fn busy_from_the_network_is_17_with_its_location() {
        let mut calls = Calls::new();
        let id = calls.setup(
            0,
            &Setup {
                alaw: true,
                sending_complete: true,
                ..to("1", 3)
            },
        );
        calls.poll_transmit();
        calls.handle_message(10, &h("08 02 80 01 02"));
        calls.handle_message(20, &h("08 02 80 01 45 08 02 82 91"));
        calls.poll_event();
        let e = calls.poll_event().unwrap();
        assert_eq!(
            e,
            CallEvent::Disconnected {
                call: id,
                cause: Cause {
                    coding: 0,
                    location: 2,
                    value: 17
                }
            }
        );
        assert_eq!(calls.poll_transmit(), Some(h("08 02 00 01 4D")), "RELEASE");
        calls.handle_message(30, &h("08 02 80 01 5A"));
        assert!(matches!(
            calls.poll_event(),
            Some(CallEvent::Released {
                cause: Cause { value: 17, .. },
                ..
            })
        ));
    }

    #[test]
    fn t303_twice_is_102_and_status_enquiry_is_answered() {
        let mut calls = Calls::new();
        let id = calls.setup(0, &to("1", 1));
        let first = calls.poll_transmit().unwrap();
        calls.handle_timeout(T303_MS);
        assert_eq!(calls.poll_transmit(), Some(first), "SETUP resent once");
        calls.handle_timeout(2 * T303_MS);
        assert_eq!(
            calls.poll_event(),
            Some(CallEvent::Released {
                call: id,
                cause: Cause::new(102)
            })
        );
        let id = calls.setup(0, &to("1", 1));
        calls.poll_transmit();
        calls.handle_message(5, &[0x08, 0x02, 0x80, id.cr as u8, 0x75]);
        let st = calls.poll_transmit().unwrap();
        let m = Message::parse(&st).unwrap();
        assert_eq!(m.mt, MsgType::Status);
        assert_eq!(m.cause().unwrap().value, 30);
        assert_eq!(m.ie(ie::CALL_STATE), Some(&[1u8][..]));
        // Unknown call reference → RELEASE COMPLETE 81.
        calls.handle_message(6, &h("08 02 80 55 07"));
        let m = calls.poll_transmit().unwrap();
        let m = Message::parse(&m).unwrap();
        assert_eq!(
            (m.mt, m.cause().unwrap().value),
            (MsgType::ReleaseComplete, 81)
        );
    }

    #[test]
    fn incoming_call_is_answered() {
        let mut calls = Calls::new();
        // SETUP from the network, CR 5 (flag 0: the network allocated it).
        let setup = build(
            5,
            false,
            MsgType::Setup,
            &[
                (ie::BEARER_CAPABILITY, &bearer_3k1(true)),
                (ie::CHANNEL_ID, &channel_id(7)),
                (ie::CALLED_NUMBER, &called_number("4321")),
            ],
        );
        calls.handle_message(0, &setup);
        let Some(CallEvent::Incoming {
            call,
            channel,
            called,
            ..
        }) = calls.poll_event()
        else {
            panic!()
        };
        assert_eq!((channel, called.as_deref()), (Some(7), Some("4321")));
        calls.answer(1, call);
        let cp = Message::parse(&calls.poll_transmit().unwrap()).unwrap().mt;
        let mut m = calls.poll_transmit().unwrap();
        assert_eq!(cp, MsgType::CallProceeding);
        assert_eq!(m[2], 0x80, "flag set on the network's call reference");
        assert_eq!(Message::parse(&m).unwrap().mt, MsgType::Connect);
        m = build(5, false, MsgType::ConnectAcknowledge, &[]);
        calls.handle_message(2, &m);
        assert_eq!(calls.poll_event(), Some(CallEvent::Connected { call }));
    }

    /// A SETUP from the network, CR `cr`, on `channel` (exclusive or preferred), to `called`.
    fn net_setup(cr: u16, channel: u8, exclusive: bool, called: &str) -> Vec<u8> {
        build(
            cr,
            false,
            MsgType::Setup,
            &[
                (ie::BEARER_CAPABILITY, &bearer_3k1(true)),
                (ie::CHANNEL_ID, &channel_id_sel(channel, exclusive)),
                (ie::CALLED_NUMBER, &called_number(called)),
            ],
        )
    }

    fn sent(calls: &mut Calls) -> Vec<(MsgType, u16, Option<u8>, Option<u8>)> {
        std::iter::from_fn(|| calls.poll_transmit())
            .map(|b| {
                let m = Message::parse(&b).unwrap();
                (m.mt, m.cr, m.channel(), m.cause().map(|c| c.value))
            })
            .collect()
    }

    fn events(calls: &mut Calls) -> Vec<CallEvent> {
        std::iter::from_fn(|| calls.poll_event()).collect()
    }

    /// An outgoing call taken to U10 on `channel`.
    fn active(calls: &mut Calls, channel: u8) -> CallId {
        let id = calls.setup(0, &to("1", channel));
        calls.handle_message(1, &build(id.cr, true, MsgType::Connect, &[]));
        sent(calls);
        events(calls);
        assert_eq!(calls.state(id), CallState::Active);
        id
    }

    #[test]
    fn a_span_of_calls_both_ways_keyed_by_call_reference() {
        let mut calls = Calls::with_channels(e1_channels());
        let out: Vec<CallId> = (1..=15).map(|ch| calls.setup(0, &to("1", ch))).collect();
        for (i, ch) in (17..=31).enumerate() {
            calls.handle_message(1, &net_setup(100 + i as u16, ch, true, "555"));
        }
        let inc: Vec<CallId> = events(&mut calls)
            .into_iter()
            .map(|e| match e {
                CallEvent::Incoming { call, .. } => call,
                e => panic!("{e:?}"),
            })
            .collect();
        assert_eq!(inc.len(), 15);
        for id in &out {
            calls.handle_message(2, &build(id.cr, true, MsgType::Connect, &[]));
        }
        for id in &inc {
            calls.answer(3, *id);
            calls.handle_message(4, &build(id.cr, false, MsgType::ConnectAcknowledge, &[]));
        }
        assert_eq!(calls.len(), 30);
        assert!(calls.free_channels().is_empty());
        assert!(
            out.iter()
                .chain(&inc)
                .all(|&id| calls.state(id) == CallState::Active)
        );
        // One more from the network: no channel left.
        sent(&mut calls);
        calls.handle_message(5, &net_setup(200, 3, false, "555"));
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::ReleaseComplete, 200, None, Some(34))]
        );
        // Our call reference 1 and the network's 1 are two calls.
        calls.handle_message(6, &net_setup(1, 1, true, "555"));
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::ReleaseComplete, 1, None, Some(44))]
        );
        assert_eq!(calls.state(out[0]), CallState::Active);
    }

    #[test]
    fn glare_the_network_wins_and_moves_or_clears_ours() {
        let mut calls = Calls::with_channels(t1_channels());
        let ours = calls.setup(0, &to("1", 5));
        let pref = calls.setup(
            0,
            &Setup {
                exclusive: false,
                ..to("1", 6)
            },
        );
        sent(&mut calls);
        // The network's SETUPs cross ours on channels 5 and 6.
        calls.handle_message(10, &net_setup(40, 5, true, "700"));
        calls.handle_message(10, &net_setup(41, 6, true, "701"));
        let ev = events(&mut calls);
        assert!(matches!(
            ev[0],
            CallEvent::Incoming {
                channel: Some(5),
                exclusive: true,
                ..
            }
        ));
        assert!(matches!(
            ev[1],
            CallEvent::Incoming {
                channel: Some(6),
                ..
            }
        ));
        assert_eq!(calls.channel_owner(5).map(|c| c.cr), Some(40));
        // Ours, exclusive, is refused with 44; the preferred one moved to 7.
        calls.handle_message(20, &h("08 02 80 01 5A 08 02 82 AC"));
        calls.handle_message(
            20,
            &build(
                pref.cr,
                true,
                MsgType::CallProceeding,
                &[(ie::CHANNEL_ID, &channel_id(7))],
            ),
        );
        let ev = events(&mut calls);
        assert!(ev.contains(&CallEvent::Released {
            call: ours,
            cause: Cause {
                coding: 0,
                location: 2,
                value: 44
            }
        }));
        assert!(ev.contains(&CallEvent::Proceeding {
            call: pref,
            channel: Some(7)
        }));
        assert_eq!(calls.channel_owner(7), Some(pref));
    }

    #[test]
    fn a_busy_channel_preferred_is_moved_exclusive_refused() {
        let mut calls = Calls::with_channels(t1_channels());
        let a = active(&mut calls, 1);
        calls.handle_message(1, &net_setup(9, 1, false, "42"));
        let Some(CallEvent::Incoming {
            call,
            channel,
            exclusive,
            called,
            ..
        }) = calls.poll_event()
        else {
            panic!()
        };
        assert_eq!(
            (channel, exclusive, called.as_deref()),
            (Some(2), false, Some("42"))
        );
        assert!(
            calls.reassign(call, 9),
            "a preferred call may move before the answer"
        );
        calls.answer(2, call);
        assert_eq!(
            sent(&mut calls),
            vec![
                (MsgType::CallProceeding, 9, Some(9), None),
                (MsgType::Connect, 9, None, None)
            ]
        );
        calls.handle_message(3, &net_setup(10, 1, true, "42"));
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::ReleaseComplete, 10, None, Some(44))]
        );
        assert_eq!(calls.state(a), CallState::Active);
    }

    #[test]
    fn restart_on_start_and_for_a_stuck_channel() {
        let mut calls = Calls::with_channels(e1_channels());
        calls.restart(0, None);
        let r = calls.poll_transmit().unwrap();
        assert_eq!(r, h("08 02 00 00 46 79 01 87"), "RESTART, all interfaces");
        assert!(
            calls.free_channels().is_empty(),
            "nothing goes out before the ACK"
        );
        calls.handle_timeout(T316_MS);
        assert_eq!(calls.poll_transmit(), Some(r), "T316: sent again");
        calls.handle_message(T316_MS + 5, &h("08 02 80 00 4E 79 01 87"));
        assert_eq!(
            events(&mut calls),
            vec![CallEvent::RestartAcknowledged { channel: None }]
        );
        assert_eq!(calls.free_channels().len(), 30);
        // A call whose RELEASE goes unanswered: T308 twice, then RESTART of its channel.
        let id = active(&mut calls, 4);
        calls.hangup(0, id, 16);
        calls.handle_message(1, &build(id.cr, true, MsgType::Disconnect, &[]));
        calls.handle_message(2, &build(id.cr, true, MsgType::Release, &[]));
        let id = active(&mut calls, 5);
        calls.hangup(10, id, 16);
        calls.handle_timeout(10 + T305_MS);
        assert_eq!(
            sent(&mut calls)[1],
            (MsgType::Release, id.cr, None, Some(16))
        );
        calls.handle_timeout(10 + T305_MS + T308_MS);
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::Release, id.cr, None, Some(16))]
        );
        calls.handle_timeout(10 + T305_MS + 2 * T308_MS);
        assert_eq!(sent(&mut calls), vec![(MsgType::Restart, 0, Some(5), None)]);
        assert!(!calls.is_free(5) && calls.is_free(4));
        assert_eq!(calls.in_maintenance(), vec![5]);
        calls.handle_message(
            0,
            &build(
                0,
                true,
                MsgType::RestartAcknowledge,
                &[
                    (ie::CHANNEL_ID, &channel_id(5)),
                    (ie::RESTART_INDICATOR, &restart_indicator(false)),
                ],
            ),
        );
        assert!(calls.is_free(5));
        // The network restarts channel 6 under an active call.
        let id = active(&mut calls, 6);
        let ri = restart_indicator(false);
        let ch = channel_id(6);
        calls.handle_message(
            0,
            &build(
                0,
                false,
                MsgType::Restart,
                &[(ie::CHANNEL_ID, &ch), (ie::RESTART_INDICATOR, &ri)],
            ),
        );
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::RestartAcknowledge, 0, Some(6), None)]
        );
        let ev = events(&mut calls);
        assert!(ev.contains(&CallEvent::Restarted { channel: Some(6) }));
        assert!(ev.contains(&CallEvent::Released {
            call: id,
            cause: Cause::new(41)
        }));
    }

    #[test]
    fn status_enquiry_both_ways_and_t322() {
        let mut calls = Calls::with_channels(t1_channels());
        let a = active(&mut calls, 1);
        calls.status_enquiry(100, a);
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::StatusEnquiry, a.cr, None, None)]
        );
        let status = |st: u8| {
            build(
                a.cr,
                true,
                MsgType::Status,
                &[
                    (ie::CAUSE, &Cause::new(30).encode()),
                    (ie::CALL_STATE, &[st]),
                ],
            )
        };
        calls.handle_message(110, &status(10));
        calls.handle_timeout(100 + 3 * T322_MS);
        assert!(sent(&mut calls).is_empty(), "answered: T322 stopped");
        assert_eq!(calls.state(a), CallState::Active);
        // No answer: sent again once, then the call is cleared with 41.
        calls.status_enquiry(200, a);
        calls.handle_timeout(200 + T322_MS);
        calls.handle_timeout(200 + 2 * T322_MS);
        assert_eq!(
            sent(&mut calls),
            vec![
                (MsgType::StatusEnquiry, a.cr, None, None),
                (MsgType::StatusEnquiry, a.cr, None, None),
                (MsgType::Disconnect, a.cr, None, Some(41)),
            ]
        );
        // A STATUS naming a state incompatible with ours: RELEASE 101.
        let b = active(&mut calls, 2);
        calls.handle_message(
            300,
            &build(
                b.cr,
                true,
                MsgType::Status,
                &[
                    (ie::CAUSE, &Cause::new(30).encode()),
                    (ie::CALL_STATE, &[6]),
                ],
            ),
        );
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::Release, b.cr, None, Some(101))]
        );
        // State 0 at the network: released here.
        let c = active(&mut calls, 3);
        calls.handle_message(
            400,
            &build(
                c.cr,
                true,
                MsgType::Status,
                &[
                    (ie::CAUSE, &Cause::new(81).encode()),
                    (ie::CALL_STATE, &[0]),
                ],
            ),
        );
        assert!(events(&mut calls).contains(&CallEvent::Released {
            call: c,
            cause: Cause::new(81)
        }));
        // Enquiry for a call we do not have: STATUS state 0.
        calls.handle_message(500, &build(77, false, MsgType::StatusEnquiry, &[]));
        let b = calls.poll_transmit().unwrap();
        assert_eq!(Message::parse(&b).unwrap().call_state(), Some(0));
    }

    #[test]
    fn t309_keeps_active_calls_through_a_link_failure() {
        let mut calls = Calls::with_channels(t1_channels());
        let a = active(&mut calls, 1);
        let b = active(&mut calls, 2);
        let setting_up = calls.setup(0, &to("1", 3));
        sent(&mut calls);
        calls.link_down(1000);
        assert_eq!(
            events(&mut calls),
            vec![CallEvent::Released {
                call: setting_up,
                cause: Cause::new(41)
            }]
        );
        assert_eq!(calls.poll_timeout(), Some(1000 + T309_MS));
        calls.link_up(5000);
        let mut s = sent(&mut calls);
        s.sort_by_key(|m| m.1);
        assert_eq!(
            s,
            vec![
                (MsgType::StatusEnquiry, a.cr, None, None),
                (MsgType::StatusEnquiry, b.cr, None, None)
            ]
        );
        calls.handle_message(
            5001,
            &build(a.cr, true, MsgType::Status, &[(ie::CALL_STATE, &[10])]),
        );
        calls.handle_message(
            5001,
            &build(b.cr, true, MsgType::Status, &[(ie::CALL_STATE, &[10])]),
        );
        calls.link_down(6000);
        calls.handle_timeout(6000 + T309_MS - 1);
        assert!(events(&mut calls).is_empty());
        calls.handle_timeout(6000 + T309_MS);
        let ev = events(&mut calls);
        assert_eq!(ev.len(), 2);
        assert!(ev.iter().all(|e| matches!(
            e,
            CallEvent::Released {
                cause: Cause { value: 27, .. },
                ..
            }
        )));
        assert!(calls.is_empty());
    }

    #[test]
    fn t310_t313_and_t305_clear_with_102() {
        let mut calls = Calls::with_channels(t1_channels());
        let a = calls.setup(0, &to("1", 1));
        calls.handle_message(10, &build(a.cr, true, MsgType::CallProceeding, &[]));
        sent(&mut calls);
        calls.handle_timeout(10 + T310_MS - 1);
        assert!(sent(&mut calls).is_empty());
        calls.handle_timeout(10 + T310_MS);
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::Disconnect, a.cr, None, Some(102))]
        );
        calls.handle_timeout(10 + T310_MS + T305_MS);
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::Release, a.cr, None, Some(102))]
        );
        calls.handle_message(0, &build(a.cr, true, MsgType::ReleaseComplete, &[]));
        assert!(events(&mut calls).contains(&CallEvent::Released {
            call: a,
            cause: Cause::new(102)
        }));
        // T313: CONNECT unacknowledged.
        calls.handle_message(0, &net_setup(3, 2, true, "1"));
        let Some(CallEvent::Incoming { call, .. }) = calls.poll_event() else {
            panic!()
        };
        calls.answer(100, call);
        sent(&mut calls);
        calls.handle_timeout(100 + T313_MS);
        assert_eq!(
            sent(&mut calls),
            vec![(MsgType::Disconnect, 3, None, Some(102))]
        );
        // No channel free for a SETUP that names none: 34 at once.
        let mut full = Calls::with_channels(vec![1]);
        active(&mut full, 1);
        let x = full.setup(
            0,
            &Setup {
                channel: None,
                ..to("1", 1)
            },
        );
        assert_eq!(
            events(&mut full),
            vec![CallEvent::Released {
                call: x,
                cause: Cause::new(34)
            }]
        );
        // With a channel free, a SETUP that names none asks for the highest, preferred.
        let mut some = Calls::with_channels(t1_channels());
        some.setup(
            0,
            &Setup {
                channel: None,
                ..to("1", 1)
            },
        );
        let m = some.poll_transmit().unwrap();
        assert_eq!(Message::parse(&m).unwrap().channel_sel(), Some((23, false)));
    }
}
