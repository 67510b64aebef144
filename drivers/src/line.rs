//! The [`Line`] seam between a fax terminal and the telephone network, the same for every
//! driver (docs/contracts/lines.md): 8 kHz mono 16-bit blocks of 20 ms both ways in
//! lock-step, call control where the line has it, the release's Q.850 cause (ITU-T Q.850
//! §2.2), and a [`SpanReport`] of the transmission facility's health around the call.

use std::fmt;

/// Samples per block: 20 ms at 8 kHz.
pub const BLOCK: usize = 160;

/// What can go wrong on a line.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("line URI '{uri}': {why}")]
    BadUri { uri: String, why: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Wav(String),
    /// The call could not be placed or answered; `cause` is its Q.850 cause.
    #[error("call failed: {reason} (Q.850 cause {cause})")]
    CallFailed { cause: u8, reason: String },
    /// The line or span is out of service (alarm, no battery): Q.850 cause 38.
    #[error("line down: {0}")]
    LineDown(String),
    /// The telephony device failed (a DAHDI channel's system call, …); the driver's own
    /// error is the source.
    #[error(transparent)]
    Device(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A line kind behind a cargo feature this build lacks.
    #[error("'{scheme}:' lines: {how}")]
    NotBuilt { scheme: String, how: String },
}

impl LineError {
    /// The Q.850 cause this error stands for, when it is a call outcome.
    pub fn q850_cause(&self) -> Option<u8> {
        match self {
            LineError::CallFailed { cause, .. } => Some(*cause),
            LineError::LineDown(_) => Some(38),
            _ => None,
        }
    }
}

/// One telephone line, one call.
pub trait Line {
    /// Send one block and receive one (lock-step). `Ok(false)`: the far end has hung up
    /// (`rx` is then silence).
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError>;

    /// Hang up. Idempotent.
    fn hangup(&mut self) -> Result<(), LineError>;

    /// The Q.850 cause of the release, when the line knows one (ISDN); analog and
    /// simulated lines derive theirs from call progress.
    fn q850_cause(&self) -> Option<u8> {
        None
    }

    /// Place the call to `number` (lines with call control: DAHDI FXO and PRI). Returns once
    /// the far end answered; an unsuccessful attempt is [`LineError::CallFailed`] with its
    /// Q.850 cause, or [`LineError::LineDown`]. Lines without dialling accept and ignore it.
    fn dial(&mut self, _number: &str) -> Result<(), LineError> {
        Ok(())
    }

    /// Wait for an incoming call and answer it (DAHDI FXO: after the configured rings).
    /// Lines that are connected from the start return at once.
    fn answer(&mut self) -> Result<(), LineError> {
        Ok(())
    }

    /// The span's alarms and error counters before and after the call (lines on a digital
    /// span or a telephony card: DAHDI).
    fn span_report(&self) -> Option<SpanReport> {
        None
    }

    /// The number the answered call was made to (DNIS/DID: the Q.931 called party number
    /// on PRI), when the line knows it.
    fn called_number(&self) -> Option<String> {
        None
    }
}

macro_rules! forward_line {
    ($t:ty) => {
        impl<L: Line + ?Sized> Line for $t {
            fn exchange(
                &mut self,
                tx: &[i16; BLOCK],
                rx: &mut [i16; BLOCK],
            ) -> Result<bool, LineError> {
                (**self).exchange(tx, rx)
            }
            fn hangup(&mut self) -> Result<(), LineError> {
                (**self).hangup()
            }
            fn q850_cause(&self) -> Option<u8> {
                (**self).q850_cause()
            }
            fn dial(&mut self, number: &str) -> Result<(), LineError> {
                (**self).dial(number)
            }
            fn answer(&mut self) -> Result<(), LineError> {
                (**self).answer()
            }
            fn span_report(&self) -> Option<SpanReport> {
                (**self).span_report()
            }
            fn called_number(&self) -> Option<String> {
                (**self).called_number()
            }
        }
    };
}
forward_line!(Box<L>);
forward_line!(&mut L);

/// A span (the E1/T1 or card a line runs on) at one moment, as its driver reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanStatus {
    pub number: i32,
    pub name: String,
    /// "E1", "T1", "FXO" …
    pub kind: String,
    /// The alarms in force by name ("RED", "YELLOW" …); empty when there are none.
    pub alarms: Vec<&'static str>,
    /// The span this one takes its clock from; `None`: free-running (slips likely).
    pub clock_from: Option<i32>,
    /// Error counters (name, count) in the driver's order: line code violations, CRC-4
    /// errors, E-bits, frame alignment errors, errored seconds …
    pub counters: Vec<(&'static str, i64)>,
}

impl SpanStatus {
    /// The counter named `name`.
    pub fn counter(&self, name: &str) -> Option<i64> {
        self.counters.iter().find(|(n, _)| *n == name).map(|c| c.1)
    }

    /// Counters that changed from `self` (before the call) to `after`: (name, increase).
    pub fn errors_since(&self, after: &SpanStatus) -> Vec<(&'static str, i64)> {
        after
            .counters
            .iter()
            .filter_map(|&(n, a)| {
                let b = self.counter(n).unwrap_or(0);
                (a != b).then_some((n, a - b))
            })
            .collect()
    }
}

impl fmt::Display for SpanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alarms = if self.alarms.is_empty() {
            "none".to_string()
        } else {
            self.alarms.join("+")
        };
        write!(
            f,
            "span {} '{}' {} alarms {alarms} sync ",
            self.number, self.name, self.kind
        )?;
        match self.clock_from {
            None => write!(f, "free-running")?,
            Some(s) => write!(f, "from span {s}")?,
        }
        for (n, v) in &self.counters {
            write!(f, " {n} {v}")?;
        }
        Ok(())
    }
}

/// A span's status before and after one call (for the call record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanReport {
    pub before: Option<SpanStatus>,
    pub after: Option<SpanStatus>,
}

impl fmt::Display for SpanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => {
                let d = b.errors_since(a);
                write!(f, "{a}; during the call: ")?;
                if d.is_empty() {
                    write!(f, "no errors")
                } else {
                    let s: Vec<String> = d.iter().map(|(n, v)| format!("{n} +{v}")).collect();
                    write!(f, "{}", s.join(", "))
                }
            }
            (Some(b), None) => write!(f, "{b} (not read after the call)"),
            _ => write!(f, "span status unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_report_names_what_grew_during_the_call() {
        let before = SpanStatus {
            number: 1,
            name: "E1/0".into(),
            kind: "E1".into(),
            counters: vec![("crc4", 3), ("errsec", 0)],
            ..SpanStatus::default()
        };
        let after = SpanStatus {
            alarms: vec!["YELLOW"],
            clock_from: Some(2),
            counters: vec![("crc4", 5), ("errsec", 1)],
            ..before.clone()
        };
        assert_eq!(
            before.errors_since(&after),
            vec![("crc4", 2), ("errsec", 1)]
        );
        let r = SpanReport {
            before: Some(before.clone()),
            after: Some(after),
        };
        assert_eq!(
            r.to_string(),
            "span 1 'E1/0' E1 alarms YELLOW sync from span 2 crc4 5 errsec 1; \
             during the call: crc4 +2, errsec +1"
        );
        let r = SpanReport {
            before: Some(before),
            after: None,
        };
        assert!(r.to_string().ends_with("(not read after the call)"), "{r}");
    }
}
