//! softfax line drivers (docs/contracts/lines.md): the [`Line`] seam (in `line.rs`) between
//! the fax terminal and the telephone network. A line moves 8 kHz mono 16-bit sample blocks
//! of 20 ms both ways, in lock-step, and reports how the call ended.
//!
//! Lines today:
//! - [`exec::ExecLine`] — `exec:COMMAND`: the far end is a child process speaking the
//!   lock-step `exec:` protocol (docs/contracts/lines.md).
//! - [`wav::WavLine`] — `wav:FILE`: replays the far end's audio from a WAV file.
//! - [`sim::SimLine`] — `sim:?…`: an in-process far end (a softfax terminal) through the
//!   line simulator with the URI's impairments.
//! - [`stdio::StdioLine`] — `stdio:`: softfax as the child of another program's `exec:`
//!   line, on its own standard input and output.
//! - [`sound`] — `sound:[DEVICE]`: a sound card through cpal (feature `soundcard`).
//! - [`impair::Impaired`] — wraps any line and puts the line simulator in both directions:
//!   `--impair SPEC`, `impair = "SPEC"`.
//! - [`wav::WavTap`] — wraps any line and records the call as stereo WAV (left sent, right
//!   received): `--record`.
//! - [`dahdi::FxoLine`] — `dahdi:N[?…]`: an analog FXO port on a DAHDI channel (dialling,
//!   call progress, ring detection); on a clear channel a PRI B-channel
//!   ([`dahdi::pri::PriPort`]: Q.921/Q.931 of [`isdn`] on the span's D-channel).

pub mod dahdi;
pub mod exec;
pub mod fuzzing;
pub mod impair;
pub mod isdn;
mod line;
pub mod sim;
pub mod sound;
pub mod stdio;
pub mod wav;

pub use line::{BLOCK, Line, LineError, SpanReport, SpanStatus};

/// Open a line from its URI (docs/contracts/lines.md). A `sim:` line's far end is `far`.
pub fn open(uri: &str, far: sim::FarEnd) -> Result<Box<dyn Line>, LineError> {
    let (scheme, rest) = uri.split_once(':').ok_or_else(|| LineError::BadUri {
        uri: uri.into(),
        why: "expected SCHEME:…, e.g. exec:COMMAND, wav:FILE, sim:, dahdi:1, stdio:".into(),
    })?;
    match scheme {
        "exec" if !rest.trim().is_empty() => Ok(Box::new(exec::ExecLine::spawn(rest)?)),
        "exec" => Err(LineError::BadUri {
            uri: uri.into(),
            why: "exec: needs a command".into(),
        }),
        "wav" => Ok(Box::new(wav::WavLine::open(std::path::Path::new(rest))?)),
        "stdio" if rest.is_empty() => Ok(Box::new(stdio::StdioLine::open())),
        "stdio" => Err(LineError::BadUri {
            uri: uri.into(),
            why: "stdio: takes nothing after the colon".into(),
        }),
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
