//! `dahdi:CHANNEL` lines (docs/contracts/lines.md): Linux DAHDI telephony channels driven
//! through `nix` ioctls, after the DAHDI user-space ABI (docs/reference/dahdi.md).
//!
//! - [`sys`] — request numbers, `#[repr(C)]` structures, constants: the ioctl table of
//!   docs/reference/dahdi.md, with compile-time layout assertions and a golden test of every
//!   number.
//! - [`channel::Channel`] — open + DAHDI_SPECIFY (or a device node), GET_PARAMS, per-call
//!   set-up, block reads/writes with the errno-500 (`ELAST`) event model, poll, hook, span
//!   status.
//! - [`fxo::FxoLine`] — an analog FXO port (FXS signalling): off hook, dial tone, DTMF,
//!   call progress with a Q.850 cause for every outcome, ring detection and answer.
//! - [`pri::PriPort`] — a clear channel (`bchan=`) is a PRI B-channel: it joins its span's
//!   D-channel thread ([`crate::isdn::span`], started by the span's first line), shared by all
//!   the span's B-channels, and places or takes its calls there.
//! - [`SpanHealth`] — DAHDI_SPANSTAT alarms and error counters, before and after a call
//!   (reported as the driver-neutral [`SpanStatus`]).
//!
//! The device root (normally `/dev/dahdi`) is configurable (`dahdi:N?root=DIR` or the
//! environment variable `SOFTFAX_DAHDI_ROOT`) so the tests can mount a FUSE fake there.
//!
//! **Not supported:** a D-channel shared by several processes (DAHDI opens it exclusively:
//! one process per span, all its calls at once); MFC-R2/CAS; pulse dialling; hardware DTMF.
//!
//! **Tested by:** `sys` golden tests; `drivers/tests/dahdi_fake.rs` (a FUSE fake
//! `/dev/dahdi` whose far end is a PSTN script and a softfax fax terminal);
//! `drivers/tests/isdn_libpri.rs` (PRI `dahdi:` lines with libpri on the fake D-channel, a
//! whole E1 of fax calls at once).

pub mod channel;
pub mod fxo;
pub mod pri;
pub mod sys;

use std::path::PathBuf;

use nix::errno::Errno;

use crate::{Line, LineError, SpanStatus};
pub use channel::{Channel, ChannelSpec};
pub use fxo::{FxoConfig, FxoLine};
pub use pri::{PriLine, PriPort};

/// What goes wrong on a DAHDI channel.
#[derive(Debug, thiserror::Error)]
pub enum DahdiError {
    #[error("{what}: {op} failed: {errno} ({})", errno.desc())]
    Sys {
        what: String,
        op: &'static str,
        errno: Errno,
    },
    #[error("DAHDI channel {0} does not exist (DAHDI_SPECIFY: EINVAL)")]
    NoSuchChannel(u32),
    #[error("DAHDI channel {0} is not configured (sig 0; see /etc/dahdi/system.conf)")]
    Unconfigured(u32),
    #[error("DAHDI channel {0} is busy (already open elsewhere)")]
    Busy(u32),
    #[error("{0}: the device was removed")]
    Removed(String),
    #[error("{0}: {1} stalled (no block within the timeout)")]
    Stalled(String, &'static str),
    #[error("{0}: more than 256 events pending")]
    EventStorm(String),
    #[error("{what}: signalling {sigtype:#x} is not {expected}")]
    WrongSignalling {
        what: String,
        sigtype: i32,
        expected: &'static str,
    },
}

/// A DAHDI event (DAHDI_GETEVENT; codes in docs/reference/dahdi.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    OnHook,
    RingOffHook,
    WinkFlash,
    Alarm,
    NoAlarm,
    Abort,
    Overrun,
    BadFcs,
    DialComplete,
    RingerOn,
    RingerOff,
    HookComplete,
    BitsChanged,
    PulseStart,
    Polarity,
    RingBegin,
    EcDisabled,
    Removed,
    TxCedDetected,
    RxCedDetected,
    ReadOverrun,
    WriteUnderrun,
    DtmfDown(char),
    DtmfUp(char),
    PulseDigit(char),
    Other(i32),
}

impl Event {
    /// Decode an event code.
    pub fn from_code(code: i32) -> Event {
        let digit = |c: i32| char::from_u32((c & 0xFFFF) as u32).unwrap_or('?');
        match code {
            1 => Event::OnHook,
            2 => Event::RingOffHook,
            3 => Event::WinkFlash,
            4 => Event::Alarm,
            5 => Event::NoAlarm,
            6 => Event::Abort,
            7 => Event::Overrun,
            8 => Event::BadFcs,
            9 => Event::DialComplete,
            10 => Event::RingerOn,
            11 => Event::RingerOff,
            12 => Event::HookComplete,
            13 => Event::BitsChanged,
            14 => Event::PulseStart,
            17 => Event::Polarity,
            18 => Event::RingBegin,
            19 => Event::EcDisabled,
            20 => Event::Removed,
            23 => Event::TxCedDetected,
            24 => Event::RxCedDetected,
            29 => Event::ReadOverrun,
            30 => Event::WriteUnderrun,
            c if c & 0x70000 == 0x10000 => Event::PulseDigit(digit(c)),
            c if c & 0x70000 == 0x20000 => Event::DtmfDown(digit(c)),
            c if c & 0x70000 == 0x40000 => Event::DtmfUp(digit(c)),
            c => Event::Other(c),
        }
    }
}

/// A span's alarms and error counters (DAHDI_SPANSTAT; docs/reference/dahdi.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanHealth {
    pub spanno: i32,
    pub name: String,
    pub spantype: String,
    pub alarms: i32,
    /// Channels in the span (E1 31, T1 24).
    pub totalchans: i32,
    /// Span used as the clock source; 0 = free-running (slips likely).
    pub syncsrc: i32,
    pub bpvcount: i32,
    pub crc4count: i32,
    pub ebitcount: i32,
    pub fascount: i32,
    pub fecount: i32,
    pub cvcount: i32,
    pub becount: i32,
    pub errsec: i32,
}

impl SpanHealth {
    pub fn from_spaninfo(s: &sys::DahdiSpanInfo) -> SpanHealth {
        // Copy packed fields out by value.
        let (name, spantype) = (s.name, s.spantype);
        SpanHealth {
            spanno: s.spanno,
            name: sys::c_str(&name),
            spantype: sys::c_str(&spantype),
            alarms: s.alarms,
            totalchans: s.totalchans,
            syncsrc: s.syncsrc,
            bpvcount: s.bpvcount,
            crc4count: s.crc4count,
            ebitcount: s.ebitcount,
            fascount: s.fascount,
            fecount: s.fecount,
            cvcount: s.cvcount,
            becount: s.becount,
            errsec: s.errsec,
        }
    }

    /// True when the span is in an alarm that stops calls (RED, BLUE, YELLOW, LOOPBACK,
    /// NOTOPEN); RECOVER alone is not.
    pub fn in_alarm(&self) -> bool {
        self.alarms & !sys::DAHDI_ALARM_RECOVER != 0
    }

    /// The alarm bits by name.
    pub fn alarm_list(&self) -> Vec<&'static str> {
        let names = [
            (sys::DAHDI_ALARM_RECOVER, "RECOVER"),
            (sys::DAHDI_ALARM_LOOPBACK, "LOOPBACK"),
            (sys::DAHDI_ALARM_YELLOW, "YELLOW"),
            (sys::DAHDI_ALARM_RED, "RED"),
            (sys::DAHDI_ALARM_BLUE, "BLUE"),
            (sys::DAHDI_ALARM_NOTOPEN, "NOTOPEN"),
            (0x100, "LOS"),
            (0x200, "LFA"),
            (0x400, "LMFA"),
        ];
        names
            .iter()
            .filter(|(b, _)| self.alarms & b != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// The alarm bits in words: "RED", "YELLOW+BLUE", "none".
    pub fn alarm_names(&self) -> String {
        let v = self.alarm_list();
        if v.is_empty() {
            "none".into()
        } else {
            v.join("+")
        }
    }

    /// The driver-neutral status of the span (names and counters for the call record).
    pub fn status(&self) -> SpanStatus {
        SpanStatus {
            number: self.spanno,
            name: self.name.clone(),
            kind: self.spantype.clone(),
            alarms: self.alarm_list(),
            clock_from: (self.syncsrc != 0).then_some(self.syncsrc),
            counters: [
                ("bpv", self.bpvcount),
                ("crc4", self.crc4count),
                ("ebit", self.ebitcount),
                ("fas", self.fascount),
                ("fe", self.fecount),
                ("cv", self.cvcount),
                ("be", self.becount),
                ("errsec", self.errsec),
            ]
            .into_iter()
            .map(|(n, v)| (n, v as i64))
            .collect(),
        }
    }
}

impl From<DahdiError> for LineError {
    fn from(e: DahdiError) -> LineError {
        LineError::Device(Box::new(e))
    }
}

/// Open a `dahdi:` line: an FXO port (FXS signalling) becomes an [`FxoLine`], a clear
/// channel a PRI B-channel ([`PriPort`], with the span's D-channel).
pub fn open_line(
    root: &std::path::Path,
    spec: &ChannelSpec,
    cfg: FxoConfig,
) -> Result<Box<dyn Line>, LineError> {
    let chan = Channel::open(root, spec)?;
    if chan.params().sigtype == sys::DAHDI_SIG_CLEAR {
        let (dchan, answer, calling) = (cfg.dchan, cfg.answer_timeout, cfg.calling.clone());
        return Ok(Box::new(PriPort::open(root, chan, dchan, answer, calling)?));
    }
    Ok(Box::new(FxoLine::from_channel(chan, cfg)?))
}

/// Where the device nodes are: `SOFTFAX_DAHDI_ROOT` or `/dev/dahdi`.
pub fn default_root() -> PathBuf {
    std::env::var_os("SOFTFAX_DAHDI_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/dahdi"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes() {
        assert_eq!(Event::from_code(1), Event::OnHook);
        assert_eq!(Event::from_code(18), Event::RingBegin);
        assert_eq!(
            Event::from_code(0x20000 | b'5' as i32),
            Event::DtmfDown('5')
        );
        assert_eq!(Event::from_code(0x40000 | b'#' as i32), Event::DtmfUp('#'));
        assert_eq!(Event::from_code(99), Event::Other(99));
    }

    #[test]
    fn span_alarms_and_counters() {
        let b = SpanHealth {
            alarms: sys::DAHDI_ALARM_RED | sys::DAHDI_ALARM_YELLOW,
            crc4count: 3,
            ..SpanHealth::default()
        };
        assert!(b.in_alarm());
        assert_eq!(b.alarm_names(), "YELLOW+RED");
        let a = SpanHealth {
            crc4count: 5,
            errsec: 1,
            ..SpanHealth::default()
        };
        assert!(!a.in_alarm());
        assert_eq!(
            b.status().errors_since(&a.status()),
            vec![("crc4", 2), ("errsec", 1)]
        );
        assert_eq!(b.status().alarms, vec!["YELLOW", "RED"]);
        assert_eq!(a.status().clock_from, None);
        let r = SpanHealth {
            alarms: sys::DAHDI_ALARM_RECOVER,
            ..SpanHealth::default()
        };
        assert!(!r.in_alarm());
    }
}
