//! ITU-T Q.931 basic call control, user side, for a PRI fax off-ramp: the message and
//! information-element codec ([`message`]) and a sans-IO call state machine ([`Calls`]).
//!
//! **Calls** (Q.931 §5, user side): outgoing U0 → U1 (SETUP, T303 twice) → U3 (CALL
//! PROCEEDING, T310) → U4 (ALERTING) → U10 (CONNECT; CONNECT ACK sent); incoming U0 → U6
//! (SETUP) → U9 (CALL PROCEEDING) → U8 (CONNECT, T313) → U10 (CONNECT ACK); clearing by
//! us U11 (DISCONNECT, T305) → U19 (RELEASE, T308) → U0, by the network U12 (DISCONNECT →
//! RELEASE) → U0 (RELEASE COMPLETE). The first cause received is the call's Q.850 cause
//! (docs/reference/q850-causes.md); timer expiry gives 102; STATUS ENQUIRY is answered with
//! STATUS (cause 30); a message for an unknown call reference with RELEASE COMPLETE cause 81;
//! RESTART with RESTART ACKNOWLEDGE (calls on the restarted channels cleared locally).
//!
//! **Not supported:** overlap sending (SETUP ACKNOWLEDGE/INFORMATION), supplementary
//! services (FACILITY), SERVICE messages, mandatory-IE checks with STATUS 96/100 (a missing
//! cause reads as 31).
//!
//! **Tested by:** unit tests below and in [`message`] (golden messages of an outgoing call
//! as tshark decodes them), `drivers/tests/isdn_libpri.rs` (libpri as the network side), the
//! `q931_message` fuzz target.

pub mod message;

use std::collections::{HashMap, VecDeque};

pub use message::{
    Cause, Message, MessageError, MsgType, PD_Q931, bearer_3k1, build, called_number,
    calling_number, channel_id, ie,
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
}

/// A call's handle: its call reference as we allocated or received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId {
    pub cr: u16,
    /// True for calls the network allocated (incoming).
    pub incoming: bool,
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// An incoming SETUP.
    Incoming {
        call: CallId,
        channel: Option<u8>,
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
    /// The network restarted channels (RESTART), calls on them were cleared.
    Restarted,
}

/// Timers (ms).
pub const T303_MS: u64 = 4_000;
pub const T305_MS: u64 = 30_000;
pub const T308_MS: u64 = 4_000;
pub const T310_MS: u64 = 30_000;
pub const T313_MS: u64 = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    T303,
    T305,
    T308,
    T310,
    T313,
}

struct Call {
    state: CallState,
    cause: Option<Cause>,
    channel: Option<u8>,
    timer: Option<(Timer, u64)>,
    retried: bool,
    /// The SETUP, kept for the T303 resend.
    setup: Vec<u8>,
}

/// The user side's calls on one D-channel (sans-IO: messages in, messages out).
pub struct Calls {
    next_cr: u16,
    calls: HashMap<CallId, Call>,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<CallEvent>,
}

/// What to put in a SETUP.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub called: &'a str,
    pub calling: Option<&'a str>,
    /// B-channel number (T1 1–23, E1 1–15/17–31).
    pub channel: u8,
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
    pub fn new() -> Calls {
        Calls {
            next_cr: 1,
            calls: HashMap::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn send(&mut self, id: CallId, mt: MsgType, ies: &[(u8, &[u8])]) {
        tracing::debug!("Q.931 -> {mt} CR {}", id.cr);
        // Flag 0 on our own call references, 1 on the network's.
        self.out.push_back(build(id.cr, id.incoming, mt, ies));
    }

    /// Place a call: SETUP (T303).
    pub fn setup(&mut self, now: u64, s: &Setup) -> CallId {
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
        let bc = bearer_3k1(s.alaw);
        let ch = channel_id(s.channel);
        let called = called_number(s.called);
        let calling = s.calling.map(calling_number);
        let mut ies: Vec<(u8, &[u8])> = vec![(ie::BEARER_CAPABILITY, &bc), (ie::CHANNEL_ID, &ch)];
        if let Some(c) = &calling {
            ies.push((ie::CALLING_NUMBER, c));
        }
        ies.push((ie::CALLED_NUMBER, &called));
        if s.sending_complete {
            ies.push((ie::SENDING_COMPLETE, &[]));
        }
        let msg = build(cr, false, MsgType::Setup, &ies);
        tracing::debug!("Q.931 -> SETUP CR {cr} to {}", s.called);
        self.out.push_back(msg.clone());
        self.calls.insert(
            id,
            Call {
                state: CallState::CallInitiated,
                cause: None,
                channel: Some(s.channel),
                timer: Some((Timer::T303, now + T303_MS)),
                retried: false,
                setup: msg,
            },
        );
        id
    }

    /// Answer an incoming call: CALL PROCEEDING (if not yet sent) and CONNECT (T313).
    pub fn answer(&mut self, now: u64, id: CallId) {
        let Some(c) = self.calls.get(&id) else {
            return;
        };
        let ch = c.channel.map(channel_id);
        if c.state == CallState::CallPresent {
            let ies: Vec<(u8, &[u8])> = ch.iter().map(|c| (ie::CHANNEL_ID, &c[..])).collect();
            self.send(id, MsgType::CallProceeding, &ies);
        }
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

    /// The state of a call (Null when gone).
    pub fn state(&self, id: CallId) -> CallState {
        self.calls.get(&id).map_or(CallState::Null, |c| c.state)
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
            self.global(&m);
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
                MsgType::Setup if id.incoming => self.incoming(now, id, &m),
                MsgType::ReleaseComplete => {}
                MsgType::Release => {
                    self.send(id, MsgType::ReleaseComplete, &[]);
                }
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
        match m.mt {
            MsgType::CallProceeding if state == CallState::CallInitiated => {
                if let Some(ch) = m.channel() {
                    c.channel = Some(ch);
                }
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
                if let Some(ch) = m.channel() {
                    c.channel = Some(ch);
                }
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
                if let Some(ch) = m.channel() {
                    c.channel = Some(ch);
                }
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
                if state == CallState::DisconnectRequest {
                    // Clear collision: answer with RELEASE.
                }
                c.state = CallState::ReleaseRequest;
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
                // A peer in the Null state has lost the call.
                if m.ie(ie::CALL_STATE)
                    .and_then(|s| s.first())
                    .map(|s| s & 0x3F)
                    == Some(0)
                {
                    let cause = c.cause.or(cause).unwrap_or(Cause::new(101));
                    self.release(id, cause);
                }
            }
            _ => {
                tracing::debug!("Q.931: {} ignored in state {:?}", m.mt, state);
            }
        }
    }

    fn incoming(&mut self, _now: u64, id: CallId, m: &Message) {
        let channel = m.channel();
        self.calls.insert(
            id,
            Call {
                state: CallState::CallPresent,
                cause: None,
                channel,
                timer: None,
                retried: false,
                setup: Vec::new(),
            },
        );
        self.events.push_back(CallEvent::Incoming {
            call: id,
            channel,
            called: m.number(ie::CALLED_NUMBER),
            calling: m.number(ie::CALLING_NUMBER),
        });
    }

    fn global(&mut self, m: &Message) {
        if m.mt == MsgType::Restart {
            // Clear the calls on the restarted channel (or all), acknowledge with the same IEs.
            let ch = m.channel();
            let gone: Vec<CallId> = self
                .calls
                .iter()
                .filter(|(_, c)| ch.is_none() || c.channel == ch)
                .map(|(id, _)| *id)
                .collect();
            for id in gone {
                self.release(id, Cause::new(41));
            }
            let ies: Vec<(u8, &[u8])> = m.ies.clone();
            self.out
                .push_back(build(0, true, MsgType::RestartAcknowledge, &ies));
            self.events.push_back(CallEvent::Restarted);
        }
    }

    /// The link went down: calls are kept (T309 is the caller's business); this clears them
    /// all with `cause` (41 or 38).
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
            .filter_map(|c| c.timer.map(|t| t.1))
            .min()
    }

    /// Run expired timers.
    pub fn handle_timeout(&mut self, now: u64) {
        let due: Vec<(CallId, Timer)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| c.timer.filter(|t| now >= t.1).map(|t| (*id, t.0)))
            .collect();
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
                    self.send(id, MsgType::Release, &[]);
                }
                Timer::T303 => {
                    // No answer to SETUP twice: clear locally (Q.931 §5.1.1).
                    c.cause.get_or_insert(Cause::new(102));
                    self.release(id, Cause::new(102));
                }
                Timer::T308 => self.release(id, Cause::new(102)),
                Timer::T305 => {
                    let cause = Cause::new(102).encode();
                    self.send(id, MsgType::Release, &[(ie::CAUSE, &cause)]);
                    let c = self.calls.get_mut(&id).unwrap();
                    c.state = CallState::ReleaseRequest;
                    c.retried = false;
                    c.timer = Some((Timer::T308, now + T308_MS));
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
            channel,
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
}
