//! softfax line drivers (DESIGN §2): the [`Line`] seam between the fax terminal and the
//! telephone network. A line moves 8 kHz mono 16-bit sample blocks of 20 ms both ways, in
//! lock-step, and reports how the call ended.
//!
//! Lines today:
//! - [`exec::ExecLine`] — `exec:COMMAND`: the far end is a child process speaking the
//!   lock-step protocol of DESIGN §3.
//! - [`wav::WavLine`] — `wav:FILE`: replays the far end's audio from a WAV file.
//! - [`sim::SimLine`] — `sim:?…`: an in-process far end (a softfax terminal) through the
//!   line simulator with the URI's impairments.
//! - [`sound`] — `sound:[DEVICE]`: a sound card through cpal (feature `soundcard`).
//! - [`wav::WavTap`] — wraps any line and records the call as stereo WAV (left sent, right
//!   received): `--record`.
//!
//! - [`dahdi::FxoLine`] — `dahdi:N[?…]`: an analog FXO port on a DAHDI channel (dialling,
//!   call progress, ring detection); on a clear channel a PRI B-channel
//!   ([`isdn::pri::PriPort`], Q.921/Q.931 on the span's D-channel).
//!

pub mod dahdi;
pub mod exec;
pub mod fuzzing;
pub mod isdn;
pub mod sim;
pub mod sound;
pub mod wav;

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
    #[error("'{0}' lines are not implemented yet")]
    NotYet(String),
    /// The call could not be placed or answered; `cause` is its Q.850 cause.
    #[error("call failed: {reason} (Q.850 cause {cause})")]
    CallFailed { cause: u8, reason: String },
    /// The line or span is out of service (alarm, no battery): Q.850 cause 38.
    #[error("line down: {0}")]
    LineDown(String),
    #[error(transparent)]
    Dahdi(#[from] dahdi::DahdiError),
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

    /// Place the call to `number` (lines with call control: DAHDI FXO). Returns once the far
    /// end answered; an unsuccessful attempt is [`LineError::CallFailed`] with its Q.850
    /// cause, or [`LineError::LineDown`]. Lines without dialling accept and ignore it.
    fn dial(&mut self, _number: &str) -> Result<(), LineError> {
        Ok(())
    }

    /// Wait for an incoming call and answer it (DAHDI FXO: after the configured rings).
    /// Lines that are connected from the start return at once.
    fn answer(&mut self) -> Result<(), LineError> {
        Ok(())
    }

    /// Span alarms and error counters before and after the call (DAHDI lines).
    fn span_report(&self) -> Option<dahdi::SpanReport> {
        None
    }
}

impl<L: Line + ?Sized> Line for Box<L> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
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
    fn span_report(&self) -> Option<dahdi::SpanReport> {
        (**self).span_report()
    }
}

/// Open a line from its URI (DESIGN §2). A `sim:` line's far end is `far`.
pub fn open(uri: &str, far: sim::FarEnd) -> Result<Box<dyn Line>, LineError> {
    let (scheme, rest) = uri.split_once(':').ok_or_else(|| LineError::BadUri {
        uri: uri.into(),
        why: "expected SCHEME:…, e.g. exec:COMMAND, wav:FILE, sim:, dahdi:1".into(),
    })?;
    match scheme {
        "exec" if !rest.trim().is_empty() => Ok(Box::new(exec::ExecLine::spawn(rest)?)),
        "exec" => Err(LineError::BadUri {
            uri: uri.into(),
            why: "exec: needs a command".into(),
        }),
        "wav" => Ok(Box::new(wav::WavLine::open(std::path::Path::new(rest))?)),
        "sim" => Ok(Box::new(sim::SimLine::new(rest, far)?)),
        "dahdi" => {
            let (root, spec, cfg) =
                dahdi::fxo::parse_uri(rest).map_err(|why| LineError::BadUri {
                    uri: uri.into(),
                    why,
                })?;
            dahdi::open_line(&root, &spec, cfg)
        }
        "sound" => sound::open(rest),
        // `softfax loopback --line sound:DEVICE`: the far end is a built-in terminal on the
        // card's other channel.
        "sound-loopback" => sound::open_loopback(rest, far),
        _ => Err(LineError::BadUri {
            uri: uri.into(),
            why: format!("unknown line type '{scheme}'"),
        }),
    }
}
