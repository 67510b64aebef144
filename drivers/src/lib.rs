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
//! - [`wav::WavTap`] — wraps any line and records the call as stereo WAV (left sent, right
//!   received): `--record`.
//!
//! **Not supported yet:** `dahdi:` (FXO, PRI; issue 7), `sound:` (cpal, issue 7).

pub mod exec;
pub mod sim;
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
        "dahdi" | "sound" => Err(LineError::NotYet(scheme.into())),
        _ => Err(LineError::BadUri {
            uri: uri.into(),
            why: format!("unknown line type '{scheme}'"),
        }),
    }
}
