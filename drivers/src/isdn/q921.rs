//! ITU-T Q.921 (LAPD) on a PRI D-channel, point-to-point, TEI 0: the frame
//! codec and the data-link state machine for multiple-frame operation, sans-IO.
//!
//! **Frames** (Q.921 §2–§3): address `SAPI·C/R·EA=0 | TEI·EA=1`, control modulo 128: I
//! (`N(S)<<1 | 0`, `N(R)<<1 | P`), RR/RNR/REJ (`0x01/0x05/0x09`, `N(R)<<1 | P/F`), and the
//! unnumbered SABME `0x6F`, DM `0x0F`, UI `0x03`, DISC `0x43`, UA `0x63`, FRMR `0x87`, XID `0xAF`
//! (P/F = `0x10`). Commands from the user side carry C/R 0, responses C/R 1; the network side
//! the inverse. FCS and flags belong to the card or kernel.
//!
//! **State machine** (Q.921 §5, Annex B SDL, simplified to what a PRI needs): TEI assigned
//! (link down) → awaiting establishment (SABME P=1, T200 × N200) → multiple frame
//! established (I-frames with window k = 7, acknowledgement by RR or piggy-backed N(R),
//! REJ on a sequence error once, RNR stops our sending, T203 idle poll) ⇄ timer recovery
//! (RR command P=1 after T200, N200 times, then re-establishment); SABME received →
//! UA and reset; DISC → UA; DM/FRMR or an invalid N(R) → re-establish. A PRI link is
//! persistent: after N200 failed SABMEs the link reports [`LinkEvent::Failed`] and keeps
//! trying.
//!
//! Sans-IO: `handle_frame(now, bytes)`, `handle_timeout(now)`, `poll_transmit()`,
//! `poll_event()`, `poll_timeout()`; time is milliseconds from any origin.
//!
//! **Not supported:** TEI management (SAPI 63; BRI point-to-multipoint), XID negotiation,
//! modulo-8 operation, own-receiver-busy (we never send RNR).
//!
//! **Tested by:** unit tests below (golden frames of an outgoing call as tshark decodes them,
//! a user side against a network side with loss and timers), `drivers/tests/isdn_libpri.rs`
//! (against libpri), `fuzz/fuzz_targets/q921_frame.rs`.

use std::collections::VecDeque;
use std::fmt;

/// T200: retransmission timer, ms.
pub const T200_MS: u64 = 1000;
/// T203: maximum idle time, ms.
pub const T203_MS: u64 = 10_000;
/// N200: maximum retransmissions.
pub const N200: u32 = 3;
/// k: maximum outstanding I-frames (PRI).
pub const K: usize = 7;
/// N201: maximum information octets.
pub const N201: usize = 260;

/// Which side of the interface we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// TE/CPE: commands carry C/R 0.
    User,
    /// NT/network: commands carry C/R 1.
    Network,
}

/// The control field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    I { ns: u8, nr: u8, p: bool },
    Rr { nr: u8, pf: bool },
    Rnr { nr: u8, pf: bool },
    Rej { nr: u8, pf: bool },
    Sabme { p: bool },
    Dm { f: bool },
    Ui { p: bool },
    Disc { p: bool },
    Ua { f: bool },
    Frmr { f: bool },
    Xid { pf: bool },
}

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pf = |b: bool| if b { " P/F" } else { "" };
        match *self {
            Control::I { ns, nr, p } => write!(f, "I N(S)={ns} N(R)={nr}{}", pf(p)),
            Control::Rr { nr, pf: b } => write!(f, "RR N(R)={nr}{}", pf(b)),
            Control::Rnr { nr, pf: b } => write!(f, "RNR N(R)={nr}{}", pf(b)),
            Control::Rej { nr, pf: b } => write!(f, "REJ N(R)={nr}{}", pf(b)),
            Control::Sabme { p } => write!(f, "SABME{}", pf(p)),
            Control::Dm { f: b } => write!(f, "DM{}", pf(b)),
            Control::Ui { p } => write!(f, "UI{}", pf(p)),
            Control::Disc { p } => write!(f, "DISC{}", pf(p)),
            Control::Ua { f: b } => write!(f, "UA{}", pf(b)),
            Control::Frmr { f: b } => write!(f, "FRMR{}", pf(b)),
            Control::Xid { pf: b } => write!(f, "XID{}", pf(b)),
        }
    }
}

/// A parsed LAPD frame (borrowing its information field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub sapi: u8,
    pub cr: bool,
    pub tei: u8,
    pub control: Control,
    pub info: &'a [u8],
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("LAPD frame of {0} bytes is too short")]
    TooShort(usize),
    #[error("LAPD address {0:#04x} {1:#04x}: EA bits wrong (expected 0 then 1)")]
    BadAddress(u8, u8),
    #[error("LAPD control {0:#04x} is not a known frame")]
    UnknownControl(u8),
    #[error("LAPD {0} carries {1} information octets (none allowed)")]
    UnexpectedInfo(&'static str, usize),
    #[error("LAPD I-frame with {0} information octets (N201 = 260)")]
    TooLong(usize),
}

impl<'a> Frame<'a> {
    /// Parse address + control + information (no FCS).
    pub fn parse(b: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        if b.len() < 3 {
            return Err(FrameError::TooShort(b.len()));
        }
        if b[0] & 1 != 0 || b[1] & 1 != 1 {
            return Err(FrameError::BadAddress(b[0], b[1]));
        }
        let sapi = b[0] >> 2;
        let cr = b[0] & 2 != 0;
        let tei = b[1] >> 1;
        let c = b[2];
        let two = |name: &'static str| -> Result<(u8, bool), FrameError> {
            let o = *b.get(3).ok_or(FrameError::TooShort(b.len()))?;
            if b.len() > 4 {
                return Err(FrameError::UnexpectedInfo(name, b.len() - 4));
            }
            Ok((o >> 1, o & 1 != 0))
        };
        let (control, info): (Control, &[u8]) = if c & 1 == 0 {
            let o = *b.get(3).ok_or(FrameError::TooShort(b.len()))?;
            if b.len() - 4 > N201 {
                return Err(FrameError::TooLong(b.len() - 4));
            }
            (
                Control::I {
                    ns: c >> 1,
                    nr: o >> 1,
                    p: o & 1 != 0,
                },
                &b[4..],
            )
        } else if c & 3 == 1 {
            match c {
                0x01 => {
                    let (nr, pf) = two("RR")?;
                    (Control::Rr { nr, pf }, &[])
                }
                0x05 => {
                    let (nr, pf) = two("RNR")?;
                    (Control::Rnr { nr, pf }, &[])
                }
                0x09 => {
                    let (nr, pf) = two("REJ")?;
                    (Control::Rej { nr, pf }, &[])
                }
                _ => return Err(FrameError::UnknownControl(c)),
            }
        } else {
            let pf = c & 0x10 != 0;
            let rest = &b[3..];
            let none = |name: &'static str, ctl: Control| {
                if rest.is_empty() {
                    Ok((ctl, &[][..]))
                } else {
                    Err(FrameError::UnexpectedInfo(name, rest.len()))
                }
            };
            match c & !0x10 {
                0x6F => none("SABME", Control::Sabme { p: pf })?,
                0x0F => none("DM", Control::Dm { f: pf })?,
                0x43 => none("DISC", Control::Disc { p: pf })?,
                0x63 => none("UA", Control::Ua { f: pf })?,
                0x03 => (Control::Ui { p: pf }, rest),
                0x87 => (Control::Frmr { f: pf }, rest),
                0xAF => (Control::Xid { pf }, rest),
                _ => return Err(FrameError::UnknownControl(c)),
            }
        };
        Ok(Frame {
            sapi,
            cr,
            tei,
            control,
            info,
        })
    }

    /// Build a frame.
    pub fn build(sapi: u8, cr: bool, tei: u8, control: Control, info: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + info.len());
        v.push((sapi << 2) | ((cr as u8) << 1));
        v.push((tei << 1) | 1);
        let pf = |b: bool| if b { 0x10 } else { 0 };
        match control {
            Control::I { ns, nr, p } => {
                v.push(ns << 1);
                v.push((nr << 1) | p as u8);
            }
            Control::Rr { nr, pf: b } => v.extend([0x01, (nr << 1) | b as u8]),
            Control::Rnr { nr, pf: b } => v.extend([0x05, (nr << 1) | b as u8]),
            Control::Rej { nr, pf: b } => v.extend([0x09, (nr << 1) | b as u8]),
            Control::Sabme { p } => v.push(0x6F | pf(p)),
            Control::Dm { f } => v.push(0x0F | pf(f)),
            Control::Ui { p } => v.push(0x03 | pf(p)),
            Control::Disc { p } => v.push(0x43 | pf(p)),
            Control::Ua { f } => v.push(0x63 | pf(f)),
            Control::Frmr { f } => v.push(0x87 | pf(f)),
            Control::Xid { pf: b } => v.push(0xAF | pf(b)),
        }
        v.extend_from_slice(info);
        v
    }
}

/// What the link tells layer 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Multiple-frame operation established (DL-ESTABLISH).
    Established,
    /// The link was released or lost (DL-RELEASE).
    Released,
    /// N200 attempts failed (MDL-ERROR); the link keeps trying.
    Failed,
    /// A layer-3 message (DL-DATA).
    Data(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// 4: TEI assigned, no multiple-frame operation.
    Down,
    /// 5: SABME sent.
    AwaitingEstablishment,
    /// 7.
    Established,
    /// 8.
    TimerRecovery,
}

/// Counters for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub i_sent: u64,
    pub i_resent: u64,
    pub i_received: u64,
    pub rej_sent: u64,
    pub bad_frames: u64,
    pub reestablished: u64,
}

/// A Q.921 data link, TEI 0, SAPI 0.
pub struct Link {
    side: Side,
    state: State,
    vs: u8,
    va: u8,
    vr: u8,
    rc: u32,
    t200: Option<u64>,
    t203: Option<u64>,
    peer_busy: bool,
    reject_exception: bool,
    ack_pending: bool,
    /// Layer-3 messages not yet sent.
    queue: VecDeque<Vec<u8>>,
    /// Sent, not yet acknowledged: (N(S), message).
    unacked: VecDeque<(u8, Vec<u8>)>,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<LinkEvent>,
    pub stats: LinkStats,
}

const SAPI: u8 = 0;
const TEI: u8 = 0;

fn inc(v: u8) -> u8 {
    (v + 1) & 0x7F
}

/// `a ≤ b ≤ c` modulo 128, counting from `a`.
fn between(a: u8, b: u8, c: u8) -> bool {
    b.wrapping_sub(a) & 0x7F <= c.wrapping_sub(a) & 0x7F
}

impl Link {
    pub fn new(side: Side) -> Link {
        Link {
            side,
            state: State::Down,
            vs: 0,
            va: 0,
            vr: 0,
            rc: 0,
            t200: None,
            t203: None,
            peer_busy: false,
            reject_exception: false,
            ack_pending: false,
            queue: VecDeque::new(),
            unacked: VecDeque::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            stats: LinkStats::default(),
        }
    }

    /// True in multiple-frame operation (also during timer recovery).
    pub fn is_up(&self) -> bool {
        matches!(self.state, State::Established | State::TimerRecovery)
    }

    fn cmd_cr(&self) -> bool {
        self.side == Side::Network
    }

    fn send(&mut self, command: bool, control: Control, info: &[u8]) {
        let cr = if command {
            self.cmd_cr()
        } else {
            !self.cmd_cr()
        };
        tracing::trace!("Q.921 -> {control}");
        self.out
            .push_back(Frame::build(SAPI, cr, TEI, control, info));
    }

    /// Start establishing the link (SABME P=1).
    pub fn establish(&mut self, now: u64) {
        self.rc = 0;
        self.send(true, Control::Sabme { p: true }, &[]);
        self.state = State::AwaitingEstablishment;
        self.t200 = Some(now + T200_MS);
        self.t203 = None;
    }

    /// Queue a layer-3 message (sent once the link is up and the window allows).
    pub fn send_data(&mut self, now: u64, msg: Vec<u8>) {
        self.queue.push_back(msg);
        if self.state == State::Down {
            self.establish(now);
        }
        self.transmit_i(now);
    }

    fn transmit_i(&mut self, now: u64) {
        if self.state != State::Established || self.peer_busy {
            return;
        }
        while self.unacked.len() < K {
            let Some(msg) = self.queue.pop_front() else {
                break;
            };
            let ctl = Control::I {
                ns: self.vs,
                nr: self.vr,
                p: false,
            };
            self.send(true, ctl, &msg);
            self.stats.i_sent += 1;
            self.unacked.push_back((self.vs, msg));
            self.vs = inc(self.vs);
            self.ack_pending = false;
            if self.t200.is_none() {
                self.t200 = Some(now + T200_MS);
                self.t203 = None;
            }
        }
    }

    fn reset_variables(&mut self) {
        self.vs = 0;
        self.va = 0;
        self.vr = 0;
        self.peer_busy = false;
        self.reject_exception = false;
        self.ack_pending = false;
    }

    fn established(&mut self, now: u64) {
        let was_up = self.is_up();
        self.state = State::Established;
        self.t200 = None;
        self.t203 = Some(now + T203_MS);
        self.rc = 0;
        // Frames sent before a reset were never acknowledged: send them again.
        while let Some((_, m)) = self.unacked.pop_back() {
            self.queue.push_front(m);
        }
        if !was_up {
            self.events.push_back(LinkEvent::Established);
        }
        self.transmit_i(now);
    }

    fn reestablish(&mut self, now: u64) {
        self.stats.reestablished += 1;
        self.events.push_back(LinkEvent::Released);
        self.reset_variables();
        self.establish(now);
    }

    /// Acknowledge frames up to `nr`; false if `nr` is not within V(A)..=V(S).
    fn ack(&mut self, now: u64, nr: u8) -> bool {
        if !between(self.va, nr, self.vs) {
            return false;
        }
        while self.va != nr {
            self.unacked.pop_front();
            self.va = inc(self.va);
            self.rc = 0;
        }
        if self.state == State::Established {
            if self.unacked.is_empty() {
                self.t200 = None;
                self.t203 = Some(now + T203_MS);
            } else {
                self.t200 = Some(now + T200_MS);
            }
        }
        true
    }

    /// Resend every unacknowledged I-frame from V(A).
    fn retransmit(&mut self, now: u64) {
        self.stats.i_resent += self.unacked.len() as u64;
        while let Some((_, m)) = self.unacked.pop_back() {
            self.queue.push_front(m);
        }
        self.vs = self.va;
        self.t200 = None;
        self.transmit_i(now);
    }

    /// A frame from the peer (address + control + information, no FCS).
    pub fn handle_frame(&mut self, now: u64, bytes: &[u8]) {
        let f = match Frame::parse(bytes) {
            Ok(f) => f,
            Err(e) => {
                self.stats.bad_frames += 1;
                tracing::debug!("Q.921: dropped: {e}");
                return;
            }
        };
        if f.sapi != SAPI || f.tei != TEI {
            tracing::debug!("Q.921: ignored SAPI {} TEI {}", f.sapi, f.tei);
            return;
        }
        let command = f.cr != self.cmd_cr();
        tracing::trace!("Q.921 <- {}", f.control);
        match f.control {
            Control::Sabme { p } => {
                self.send(false, Control::Ua { f: p }, &[]);
                self.reset_variables();
                self.established(now);
            }
            Control::Disc { p } => {
                if self.is_up() || self.state == State::AwaitingEstablishment {
                    self.send(false, Control::Ua { f: p }, &[]);
                    if self.is_up() {
                        self.events.push_back(LinkEvent::Released);
                    }
                } else {
                    self.send(false, Control::Dm { f: p }, &[]);
                }
                self.state = State::Down;
                self.t200 = None;
                self.t203 = None;
            }
            Control::Ua { f: fb } => {
                if self.state == State::AwaitingEstablishment && fb {
                    self.reset_variables();
                    self.established(now);
                }
            }
            Control::Dm { f: fb } => match self.state {
                State::AwaitingEstablishment if fb => {
                    // Refused: keep trying on T200.
                }
                State::Established | State::TimerRecovery if !fb => self.reestablish(now),
                _ => {}
            },
            Control::Frmr { .. } => {
                if self.is_up() {
                    self.reestablish(now);
                }
            }
            Control::Ui { .. } => {
                if !f.info.is_empty() {
                    self.events.push_back(LinkEvent::Data(f.info.to_vec()));
                }
            }
            Control::Xid { .. } => {}
            Control::I { ns, nr, p } => {
                if !self.is_up() {
                    if self.state == State::Down && p {
                        self.send(false, Control::Dm { f: true }, &[]);
                    }
                    return;
                }
                if ns == self.vr {
                    self.vr = inc(self.vr);
                    self.reject_exception = false;
                    self.stats.i_received += 1;
                    self.events.push_back(LinkEvent::Data(f.info.to_vec()));
                    if p {
                        self.send(
                            false,
                            Control::Rr {
                                nr: self.vr,
                                pf: true,
                            },
                            &[],
                        );
                    } else {
                        self.ack_pending = true;
                    }
                } else if !self.reject_exception {
                    self.reject_exception = true;
                    self.stats.rej_sent += 1;
                    self.send(false, Control::Rej { nr: self.vr, pf: p }, &[]);
                } else if p {
                    self.send(
                        false,
                        Control::Rr {
                            nr: self.vr,
                            pf: true,
                        },
                        &[],
                    );
                }
                if !self.ack(now, nr) {
                    self.reestablish(now);
                    return;
                }
            }
            Control::Rr { nr, pf } | Control::Rnr { nr, pf } | Control::Rej { nr, pf } => {
                if !self.is_up() {
                    if command && pf && self.state == State::Down {
                        self.send(false, Control::Dm { f: true }, &[]);
                    }
                    return;
                }
                self.peer_busy = matches!(f.control, Control::Rnr { .. });
                let rej = matches!(f.control, Control::Rej { .. });
                if command && pf {
                    self.send(
                        false,
                        Control::Rr {
                            nr: self.vr,
                            pf: true,
                        },
                        &[],
                    );
                    self.ack_pending = false;
                }
                if !self.ack(now, nr) {
                    self.reestablish(now);
                    return;
                }
                if self.state == State::TimerRecovery && !command && pf {
                    // The answer to our enquiry: back to normal, resend what is missing.
                    self.state = State::Established;
                    self.rc = 0;
                    self.t200 = None;
                    self.t203 = Some(now + T203_MS);
                    if !self.peer_busy {
                        self.retransmit(now);
                    }
                } else if rej && self.state == State::Established {
                    self.retransmit(now);
                } else if self.peer_busy && self.state == State::Established {
                    // Poll the busy peer with T200.
                    self.t200.get_or_insert(now + T200_MS);
                }
            }
        }
        self.transmit_i(now);
        if self.ack_pending && self.is_up() {
            self.ack_pending = false;
            self.send(
                false,
                Control::Rr {
                    nr: self.vr,
                    pf: false,
                },
                &[],
            );
        }
    }

    /// When [`Link::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<u64> {
        match (self.t200, self.t203) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Run expired timers.
    pub fn handle_timeout(&mut self, now: u64) {
        if let Some(t) = self.t200
            && now >= t
        {
            self.t200 = None;
            match self.state {
                State::AwaitingEstablishment => {
                    if self.rc < N200 {
                        self.rc += 1;
                        self.send(true, Control::Sabme { p: true }, &[]);
                        self.t200 = Some(now + T200_MS);
                    } else {
                        // Persistent PRI link: report and start over.
                        self.events.push_back(LinkEvent::Failed);
                        self.establish(now);
                    }
                }
                State::Established => {
                    self.rc = 0;
                    self.enquire(now);
                }
                State::TimerRecovery => {
                    if self.rc < N200 {
                        self.enquire(now);
                    } else {
                        self.events.push_back(LinkEvent::Failed);
                        self.reestablish(now);
                    }
                }
                State::Down => {}
            }
        }
        if let Some(t) = self.t203
            && now >= t
        {
            self.t203 = None;
            if self.state == State::Established {
                self.rc = 0;
                self.enquire(now);
            }
        }
    }

    fn enquire(&mut self, now: u64) {
        self.send(
            true,
            Control::Rr {
                nr: self.vr,
                pf: true,
            },
            &[],
        );
        self.rc += 1;
        self.state = State::TimerRecovery;
        self.t200 = Some(now + T200_MS);
        self.t203 = None;
    }

    /// The next frame to send (address + control + information).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    /// The next event for layer 3.
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isdn::hex as h;

    #[test]
    fn golden_frames_of_the_reference() {
        // An outgoing call as tshark decodes it, user side, frames 1, 2, 5, 10.
        assert_eq!(
            Frame::build(0, false, 0, Control::Sabme { p: true }, &[]),
            h("00 01 7F")
        );
        let ua_bytes = h("00 01 73");
        let ua = Frame::parse(&ua_bytes).unwrap();
        assert_eq!(ua.control, Control::Ua { f: true });
        assert!(!ua.cr);
        assert_eq!(
            Frame::build(0, true, 0, Control::Rr { nr: 1, pf: false }, &[]),
            h("02 01 01 02")
        );
        let i_bytes = h("02 01 00 02 08 02 80 01 02");
        let i = Frame::parse(&i_bytes).unwrap();
        assert_eq!(
            i.control,
            Control::I {
                ns: 0,
                nr: 1,
                p: false
            }
        );
        assert!(i.cr);
        assert_eq!(i.info, &h("08 02 80 01 02")[..]);
        // Round trip of every control.
        for c in [
            Control::I {
                ns: 127,
                nr: 5,
                p: true,
            },
            Control::Rr { nr: 9, pf: true },
            Control::Rnr { nr: 0, pf: false },
            Control::Rej { nr: 127, pf: true },
            Control::Sabme { p: false },
            Control::Dm { f: true },
            Control::Disc { p: true },
            Control::Ua { f: false },
        ] {
            let b = Frame::build(0, true, 0, c, &[]);
            assert_eq!(Frame::parse(&b).unwrap().control, c);
        }
    }

    #[test]
    fn bad_frames_are_typed_errors() {
        assert_eq!(Frame::parse(&[0, 1]), Err(FrameError::TooShort(2)));
        assert!(matches!(
            Frame::parse(&[1, 1, 0x7F]),
            Err(FrameError::BadAddress(..))
        ));
        assert!(matches!(
            Frame::parse(&[0, 1, 0x0D, 0]),
            Err(FrameError::UnknownControl(_))
        ));
        assert!(matches!(
            Frame::parse(&[0, 1, 0x7F, 9]),
            Err(FrameError::UnexpectedInfo(..))
        ));
        assert!(matches!(
            Frame::parse(&[0, 1, 0x01]),
            Err(FrameError::TooShort(3))
        ));
        let mut long = vec![0, 1, 0, 0];
        long.extend(std::iter::repeat_n(0, 261));
        assert!(matches!(Frame::parse(&long), Err(FrameError::TooLong(261))));
    }

    /// Two links wired together; `drop` decides which frames get lost.
    fn pump(a: &mut Link, b: &mut Link, now: u64, drop: &mut dyn FnMut(&[u8]) -> bool) {
        for _ in 0..100 {
            let mut moved = false;
            while let Some(f) = a.poll_transmit() {
                moved = true;
                if !drop(&f) {
                    b.handle_frame(now, &f);
                }
            }
            while let Some(f) = b.poll_transmit() {
                moved = true;
                if !drop(&f) {
                    a.handle_frame(now, &f);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("frames ping-pong for ever");
    }

    fn data(l: &mut Link) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        while let Some(e) = l.poll_event() {
            if let LinkEvent::Data(d) = e {
                v.push(d);
            }
        }
        v
    }

    #[test]
    fn establish_transfer_and_recover_from_loss() {
        let mut u = Link::new(Side::User);
        let mut n = Link::new(Side::Network);
        u.establish(0);
        pump(&mut u, &mut n, 0, &mut |_| false);
        assert!(u.is_up() && n.is_up());
        assert_eq!(u.poll_event(), Some(LinkEvent::Established));
        assert_eq!(n.poll_event(), Some(LinkEvent::Established));
        // 20 messages, more than the window, every third I-frame lost once.
        let mut count = 0;
        let mut lost = std::collections::HashSet::new();
        for i in 0..20u8 {
            u.send_data(10, vec![i; 5]);
        }
        let mut got = Vec::new();
        let mut now = 10;
        while got.len() < 20 && now < 60_000 {
            pump(&mut u, &mut n, now, &mut |f| {
                let fr = Frame::parse(f).unwrap();
                if let Control::I { .. } = fr.control {
                    count += 1;
                    return count % 3 == 0 && lost.insert(fr.info.to_vec());
                }
                false
            });
            got.extend(data(&mut n));
            now = u.poll_timeout().unwrap_or(now + 100).max(now + 1);
            u.handle_timeout(now);
            n.handle_timeout(now);
        }
        let want: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 5]).collect();
        assert_eq!(got, want);
        assert!(u.stats.i_resent > 0);
    }

    #[test]
    fn sabme_retries_n200_times_then_reports_failure() {
        let mut u = Link::new(Side::User);
        u.establish(0);
        let mut sabmes = 0;
        let mut now = 0;
        while u.poll_event().is_none() {
            while let Some(f) = u.poll_transmit() {
                assert_eq!(f, vec![0x00, 0x01, 0x7F]);
                sabmes += 1;
            }
            now += T200_MS;
            u.handle_timeout(now);
        }
        assert_eq!(sabmes, 1 + N200 as usize, "SABME and N200 retries");
        assert_eq!(now, (1 + N200 as u64) * T200_MS);
        assert_eq!(
            u.poll_transmit(),
            Some(vec![0x00, 0x01, 0x7F]),
            "keeps trying"
        );
    }

    #[test]
    fn idle_link_polls_with_t203() {
        let mut u = Link::new(Side::User);
        let mut n = Link::new(Side::Network);
        u.establish(0);
        pump(&mut u, &mut n, 0, &mut |_| false);
        assert_eq!(u.poll_timeout(), Some(T203_MS));
        u.handle_timeout(T203_MS);
        let f = u.poll_transmit().unwrap();
        assert_eq!(f, vec![0x00, 0x01, 0x01, 0x01], "RR command P=1");
        n.handle_frame(T203_MS, &f);
        let r = n.poll_transmit().unwrap();
        assert_eq!(
            r,
            vec![0x00, 0x01, 0x01, 0x01],
            "RR response F=1 (network C/R 0)"
        );
        u.handle_frame(T203_MS, &r);
        assert!(u.is_up());
        assert_eq!(u.poll_timeout(), Some(2 * T203_MS));
    }

    #[test]
    fn invalid_nr_reestablishes() {
        let mut u = Link::new(Side::User);
        let mut n = Link::new(Side::Network);
        u.establish(0);
        pump(&mut u, &mut n, 0, &mut |_| false);
        while u.poll_event().is_some() {}
        // RR acknowledging a frame never sent.
        u.handle_frame(
            5,
            &Frame::build(0, false, 0, Control::Rr { nr: 9, pf: false }, &[]),
        );
        assert_eq!(u.poll_event(), Some(LinkEvent::Released));
        assert_eq!(u.poll_transmit(), Some(vec![0x00, 0x01, 0x7F]));
    }
}
