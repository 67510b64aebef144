//! Tones at 8000 samples/s: what a fax terminal sends and listens for besides its modems.
//!
//! - [`fax`] — the T.30 §4 calling tone CNG (1100 Hz, 0.5 s on / 3 s off) and the called
//!   terminal identification CED (2100 Hz, 2.6–4 s).
//! - [`dtmf`] — dual-tone multi-frequency signalling: the frequencies of ITU-T Q.23, a
//!   receiver after Q.24 (frequency, twist, duration and pause limits).
//! - [`progress`] — call progress tones (dial, ringback, busy, congestion, special
//!   information tone) with the cadence tables of North America, CEPT and the UK.
//!
//! Every signal has a generator (a [`ToneGenerator`] playing a list of [`Segment`]s) and a
//! detector. Detectors are sans-IO: `process(&mut self, &[i16], &mut Vec<Event>)` takes
//! samples in chunks of any size and appends what it recognised; each event carries `at`,
//! the index of the sample at which it was recognised, counted from 0 when the detector was
//! made. Results do not depend on how the samples are chunked.
//!
//! **How detection works.** All detectors analyse frames of samples with Goertzel filters
//! (a single DFT bin each) and decide on the *share* of the frame's energy found in the
//! expected bins, not on the absolute level alone: a tone puts nearly all its energy in its
//! bins, speech and noise spread theirs. An absolute floor (about −46 to −48 dBm0) keeps
//! line noise out. Decisions per frame then go through a duration or cadence check.
//! No allocation happens per sample or per frame.
//!
//! Levels are in dBm0 as in [`crate::modem::dbm0_to_rms`] (a full-scale sine is +3.14 dBm0);
//! for tones of two frequencies the level is that of *each* frequency, as the
//! recommendations state it.
//!
//! **Not supported:** ANSam's amplitude modulation and phase reversals (V.8/V.25; ANSam
//! reads as CED); the E.180 SIT frequencies 950/1400/1800 Hz (only the North American
//! 913.8/985.2, 1370.6/1428.5 and 1776.7 Hz); the tone plans of other countries (add a
//! [`progress::TonePlan`]).
//!
//! **Tested by:** the unit tests in each sub-module: every generator into its detector at
//! −10, −30 and −43 dBm0 with white noise at 15 dB SNR, and no detection on white noise,
//! silence, a chirp, speech-like signals, garbage or each other's tones.

pub mod dtmf;
pub mod fax;
pub mod progress;

mod analysis;
mod generator;
#[cfg(test)]
pub(crate) mod testutil;

pub use generator::{Segment, Tone, ToneGenerator};

/// Samples per second of every signal here.
pub const SAMPLE_RATE: u32 = 8000;

/// Samples in `ms` milliseconds at 8000 samples/s (saturating: 149 hours at most).
pub const fn ms_to_samples(ms: u32) -> u32 {
    ms.saturating_mul(SAMPLE_RATE / 1000)
}

/// What is wrong with a tone asked of a generator.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum ToneError {
    /// Levels must be finite and at most full scale (+3.14 dBm0).
    #[error("level {dbm0} dBm0 is not finite or above full scale (+3.14 dBm0)")]
    BadLevel { dbm0: f32 },
    /// Frequencies must lie between 0 and 4000 Hz (exclusive).
    #[error("frequency {hz} Hz is not between 0 and 4000 Hz")]
    BadFrequency { hz: f32 },
    /// A DTMF digit string may only hold `0-9 * # A-D` (lower case a-d accepted).
    #[error("{ch:?} at position {index} is not a DTMF digit (0-9 * # A-D)")]
    NotDtmfDigit { index: usize, ch: char },
    /// A repeating pattern must last at least one sample.
    #[error("a repeating pattern of zero length")]
    EmptyPattern,
    /// A call progress tone plan the detector cannot use.
    #[error("tone {tone:?} of plan {plan:?}: {reason}")]
    BadPlan {
        plan: &'static str,
        tone: &'static str,
        reason: &'static str,
    },
}

/// Mean square (16-bit linear) of a sine at `dbm0`.
fn dbm0_to_power(dbm0: f32) -> f32 {
    let rms = crate::modem::dbm0_to_rms(dbm0);
    rms * rms
}
