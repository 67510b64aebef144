//! ITU-T Q.931 messages (§4) and the information elements a PRI fax call needs: protocol
//! discriminator `0x08`, call reference (2 octets on a PRI; the flag bit 8 is 0 from the side
//! that allocated it), message type, IEs in codeset 0 (`id, length, contents`, or a single
//! octet when bit 8 is set). Types: SETUP, CALL PROCEEDING, ALERTING, PROGRESS, CONNECT,
//! CONNECT ACKNOWLEDGE, DISCONNECT, RELEASE, RELEASE COMPLETE, STATUS, STATUS ENQUIRY,
//! RESTART, RESTART ACKNOWLEDGE. IEs built: Bearer capability (3.1 kHz audio, G.711 µ/A-law),
//! Channel identification (PRI, exclusive, one B-channel), Calling/Called party number, Cause
//! (ITU-T Q.850 §2.2), Call state, Sending complete.
//!
//! **Not supported:** codesets other than 0.

use std::fmt;

/// Protocol discriminator of Q.931 call control.
pub const PD_Q931: u8 = 0x08;

/// Message types (Q.931 Table 4-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgType {
    Alerting,
    CallProceeding,
    Progress,
    Setup,
    Connect,
    SetupAcknowledge,
    ConnectAcknowledge,
    Disconnect,
    Restart,
    Release,
    RestartAcknowledge,
    ReleaseComplete,
    Facility,
    Notify,
    StatusEnquiry,
    Information,
    Status,
    Other(u8),
}

impl MsgType {
    pub fn from_code(c: u8) -> MsgType {
        match c {
            0x01 => MsgType::Alerting,
            0x02 => MsgType::CallProceeding,
            0x03 => MsgType::Progress,
            0x05 => MsgType::Setup,
            0x07 => MsgType::Connect,
            0x0D => MsgType::SetupAcknowledge,
            0x0F => MsgType::ConnectAcknowledge,
            0x45 => MsgType::Disconnect,
            0x46 => MsgType::Restart,
            0x4D => MsgType::Release,
            0x4E => MsgType::RestartAcknowledge,
            0x5A => MsgType::ReleaseComplete,
            0x62 => MsgType::Facility,
            0x6E => MsgType::Notify,
            0x75 => MsgType::StatusEnquiry,
            0x7B => MsgType::Information,
            0x7D => MsgType::Status,
            c => MsgType::Other(c),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            MsgType::Alerting => 0x01,
            MsgType::CallProceeding => 0x02,
            MsgType::Progress => 0x03,
            MsgType::Setup => 0x05,
            MsgType::Connect => 0x07,
            MsgType::SetupAcknowledge => 0x0D,
            MsgType::ConnectAcknowledge => 0x0F,
            MsgType::Disconnect => 0x45,
            MsgType::Restart => 0x46,
            MsgType::Release => 0x4D,
            MsgType::RestartAcknowledge => 0x4E,
            MsgType::ReleaseComplete => 0x5A,
            MsgType::Facility => 0x62,
            MsgType::Notify => 0x6E,
            MsgType::StatusEnquiry => 0x75,
            MsgType::Information => 0x7B,
            MsgType::Status => 0x7D,
            MsgType::Other(c) => c,
        }
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MsgType::Alerting => f.write_str("ALERTING"),
            MsgType::CallProceeding => f.write_str("CALL PROCEEDING"),
            MsgType::Progress => f.write_str("PROGRESS"),
            MsgType::Setup => f.write_str("SETUP"),
            MsgType::Connect => f.write_str("CONNECT"),
            MsgType::SetupAcknowledge => f.write_str("SETUP ACKNOWLEDGE"),
            MsgType::ConnectAcknowledge => f.write_str("CONNECT ACKNOWLEDGE"),
            MsgType::Disconnect => f.write_str("DISCONNECT"),
            MsgType::Restart => f.write_str("RESTART"),
            MsgType::Release => f.write_str("RELEASE"),
            MsgType::RestartAcknowledge => f.write_str("RESTART ACKNOWLEDGE"),
            MsgType::ReleaseComplete => f.write_str("RELEASE COMPLETE"),
            MsgType::Facility => f.write_str("FACILITY"),
            MsgType::Notify => f.write_str("NOTIFY"),
            MsgType::StatusEnquiry => f.write_str("STATUS ENQUIRY"),
            MsgType::Information => f.write_str("INFORMATION"),
            MsgType::Status => f.write_str("STATUS"),
            MsgType::Other(c) => write!(f, "message {c:#04x}"),
        }
    }
}

/// IE identifiers (Q.931 Table 4-3).
pub mod ie {
    pub const BEARER_CAPABILITY: u8 = 0x04;
    pub const CAUSE: u8 = 0x08;
    pub const CALL_STATE: u8 = 0x14;
    pub const CHANNEL_ID: u8 = 0x18;
    pub const PROGRESS: u8 = 0x1E;
    pub const DISPLAY: u8 = 0x28;
    pub const CALLING_NUMBER: u8 = 0x6C;
    pub const CALLED_NUMBER: u8 = 0x70;
    pub const RESTART_INDICATOR: u8 = 0x79;
    pub const SENDING_COMPLETE: u8 = 0xA1;
}

/// A parsed message (IEs borrowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Call reference value (15 bits; 0 = global).
    pub cr: u16,
    /// The call-reference flag: true when sent by the side that did *not* allocate it.
    pub cr_flag: bool,
    pub mt: MsgType,
    /// (id, contents) in order; single-octet IEs have empty contents.
    pub ies: Vec<(u8, &'a [u8])>,
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("Q.931 message of {0} bytes is too short")]
    TooShort(usize),
    #[error("protocol discriminator {0:#04x} is not Q.931 (0x08)")]
    NotQ931(u8),
    #[error("call reference length {0} (0–2 allowed)")]
    BadCrLength(u8),
    #[error("information element {id:#04x} at offset {at} runs past the end")]
    TruncatedIe { id: u8, at: usize },
}

impl<'a> Message<'a> {
    pub fn parse(b: &'a [u8]) -> Result<Message<'a>, MessageError> {
        if b.len() < 3 {
            return Err(MessageError::TooShort(b.len()));
        }
        if b[0] != PD_Q931 {
            return Err(MessageError::NotQ931(b[0]));
        }
        let crlen = b[1] & 0x0F;
        if crlen > 2 || b[1] & 0xF0 != 0 {
            return Err(MessageError::BadCrLength(b[1]));
        }
        let crlen = crlen as usize;
        if b.len() < 3 + crlen {
            return Err(MessageError::TooShort(b.len()));
        }
        let (cr, cr_flag) = match crlen {
            0 => (0, false),
            1 => ((b[2] & 0x7F) as u16, b[2] & 0x80 != 0),
            _ => (
                (((b[2] & 0x7F) as u16) << 8) | b[3] as u16,
                b[2] & 0x80 != 0,
            ),
        };
        let mt = MsgType::from_code(b[2 + crlen] & 0x7F);
        let mut ies = Vec::new();
        let mut i = 3 + crlen;
        while i < b.len() {
            let id = b[i];
            if id & 0x80 != 0 {
                ies.push((id, &b[i..i]));
                i += 1;
                continue;
            }
            let len = *b
                .get(i + 1)
                .ok_or(MessageError::TruncatedIe { id, at: i })? as usize;
            let body = b
                .get(i + 2..i + 2 + len)
                .ok_or(MessageError::TruncatedIe { id, at: i })?;
            ies.push((id, body));
            i += 2 + len;
        }
        Ok(Message {
            cr,
            cr_flag,
            mt,
            ies,
        })
    }

    /// The first IE with this id.
    pub fn ie(&self, id: u8) -> Option<&'a [u8]> {
        self.ies.iter().find(|(i, _)| *i == id).map(|(_, b)| *b)
    }

    /// The cause IE, decoded.
    pub fn cause(&self) -> Option<Cause> {
        Cause::parse(self.ie(ie::CAUSE)?)
    }

    /// The B-channel of a PRI channel identification IE.
    pub fn channel(&self) -> Option<u8> {
        self.channel_sel().map(|(c, _)| c)
    }

    /// The B-channel of a PRI channel identification IE and whether it is exclusive
    /// (Q.931 §4.5.13: octet 3 bit 4 set = "only the indicated channel is acceptable").
    pub fn channel_sel(&self) -> Option<(u8, bool)> {
        let c = self.ie(ie::CHANNEL_ID)?;
        // octet 3: ext·int type(1 = PRI)·spare·excl·D·sel(01 = as indicated);
        // octet 3.2: ext·coding·number/map·type; octet 3.3: ext·channel number.
        if c.len() >= 3 && c[0] & 0x20 != 0 && c[0] & 3 == 1 {
            Some((c[2] & 0x7F, c[0] & 0x08 != 0))
        } else {
            None
        }
    }

    /// The class of a Restart indicator IE (Q.931 §4.5.25: 0 indicated channels,
    /// 6 single interface, 7 all interfaces).
    pub fn restart_class(&self) -> Option<u8> {
        self.ie(ie::RESTART_INDICATOR)?.first().map(|c| c & 7)
    }

    /// The call state in a Call state IE (Q.931 §4.5.7, bits 6–1).
    pub fn call_state(&self) -> Option<u8> {
        self.ie(ie::CALL_STATE)?.first().map(|s| s & 0x3F)
    }

    /// Digits of a called or calling party number IE.
    pub fn number(&self, id: u8) -> Option<String> {
        let b = self.ie(id)?;
        let first = b.first()?;
        let skip = if first & 0x80 == 0 { 2 } else { 1 };
        Some(b.get(skip..)?.iter().map(|&c| (c & 0x7F) as char).collect())
    }
}

/// Build a message: call reference `cr` (2 octets) with `flag`, type, IEs.
pub fn build(cr: u16, flag: bool, mt: MsgType, ies: &[(u8, &[u8])]) -> Vec<u8> {
    let mut v = vec![
        PD_Q931,
        2,
        ((cr >> 8) as u8 & 0x7F) | if flag { 0x80 } else { 0 },
        cr as u8,
        mt.code(),
    ];
    for (id, body) in ies {
        v.push(*id);
        if id & 0x80 == 0 {
            v.push(body.len() as u8);
            v.extend_from_slice(body);
        }
    }
    v
}

/// A cause IE (Q.850 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    /// Coding standard (0 = ITU-T).
    pub coding: u8,
    /// Location (0 user, 2 public network serving the local user, …).
    pub location: u8,
    /// The Q.850 cause value.
    pub value: u8,
}

impl Cause {
    pub fn new(value: u8) -> Cause {
        Cause {
            coding: 0,
            location: 0,
            value,
        }
    }

    pub fn parse(b: &[u8]) -> Option<Cause> {
        let o3 = *b.first()?;
        // Octet 3a (recommendation) is present when octet 3's extension bit is 0.
        let vi = if o3 & 0x80 == 0 { 2 } else { 1 };
        Some(Cause {
            coding: (o3 >> 5) & 3,
            location: o3 & 0x0F,
            value: b.get(vi)? & 0x7F,
        })
    }

    pub fn encode(self) -> [u8; 2] {
        [0x80 | (self.coding << 5) | self.location, 0x80 | self.value]
    }
}

/// Bearer capability: 3.1 kHz audio, circuit 64 kbit/s, G.711 (`04 03 90 90 A2/A3`).
pub fn bearer_3k1(alaw: bool) -> [u8; 3] {
    [0x90, 0x90, if alaw { 0xA3 } else { 0xA2 }]
}

/// Channel identification: PRI, exclusive, B-channel `n` (`18 03 A9 83 8n`).
pub fn channel_id(n: u8) -> [u8; 3] {
    channel_id_sel(n, true)
}

/// Channel identification: PRI, B-channel `n`, exclusive (`A9`) or preferred (`A1`).
pub fn channel_id_sel(n: u8, exclusive: bool) -> [u8; 3] {
    [if exclusive { 0xA9 } else { 0xA1 }, 0x83, 0x80 | n]
}

/// Restart indicator: class 0 (the indicated channels) or 7 (all interfaces).
pub fn restart_indicator(all: bool) -> [u8; 1] {
    [if all { 0x87 } else { 0x80 }]
}

/// Called party number: unknown type, E.164 plan (`70 len 81 digits`).
pub fn called_number(digits: &str) -> Vec<u8> {
    let mut v = vec![0x81];
    v.extend(digits.bytes());
    v
}

/// Calling party number: national, E.164, presentation allowed, user-provided not
/// screened (`6C len 21 80 digits`).
pub fn calling_number(digits: &str) -> Vec<u8> {
    let mut v = vec![0x21, 0x80];
    v.extend(digits.bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_messages_are_typed_errors() {
        assert_eq!(Message::parse(&[8, 2]), Err(MessageError::TooShort(2)));
        assert_eq!(
            Message::parse(&[9, 2, 0, 1, 5]),
            Err(MessageError::NotQ931(9))
        );
        assert_eq!(
            Message::parse(&[8, 3, 0, 1, 5, 0]),
            Err(MessageError::BadCrLength(3))
        );
        assert!(matches!(
            Message::parse(&[8, 2, 0, 1, 5, 0x70, 9, 1]),
            Err(MessageError::TruncatedIe { id: 0x70, .. })
        ));
        assert_eq!(Cause::parse(&[0x80]), None);
        assert_eq!(Cause::parse(&[0x02, 0x88, 0x91]).map(|c| c.value), Some(17));
    }

    #[test]
    fn channel_selection_and_restart_class() {
        let ch = channel_id_sel(5, false);
        let m = build(1, false, MsgType::Setup, &[(ie::CHANNEL_ID, &ch)]);
        assert_eq!(Message::parse(&m).unwrap().channel_sel(), Some((5, false)));
        let ch = channel_id(30);
        let ri = restart_indicator(false);
        let m = build(
            0,
            false,
            MsgType::Restart,
            &[(ie::CHANNEL_ID, &ch), (ie::RESTART_INDICATOR, &ri)],
        );
        let m = Message::parse(&m).unwrap();
        assert_eq!(
            (m.channel_sel(), m.restart_class()),
            (Some((30, true)), Some(0))
        );
    }
}
