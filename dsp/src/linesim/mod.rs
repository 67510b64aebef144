//! The line simulator: one direction of a telephone connection, in-process, seeded and
//! deterministic — what the modem tests and the `sim:` line (docs/contracts/lines.md) send
//! their samples through. A full-duplex call uses two [`LineSim`]s, one per direction.
//!
//! **What does it do?** [`LineSim::process`] takes 16-bit samples at 8000/s and gives back
//! what the far end would receive after the impairments of [`LineParams`]. An ideal line
//! ([`LineParams::default`]) gives the input back bit for bit, undelayed. The `sim:` query
//! form is parsed by [`LineParams::from_query`] (`snr=30&offset_hz=7&model=2&law=ulaw`).
//!
//! **How does it work?** Each impairment is a stage, skipped when it is off (so an ideal
//! line costs a copy), applied in the order of a real analogue-and-digital connection. The
//! delay each stage adds follows the dash.
//!
//! 1. **Channel filter** ([`LineModel`], a 256-tap FIR) — models 1–3: [`BULK_DELAY`] = 80
//!    samples = 10 ms, plus the model's delay distortion at each frequency. The local loop
//!    and the analogue band-limiting come first.
//! 2. **Echo**, + a delayed, attenuated copy — none (the copy comes `delay_ms` later). The
//!    reflection at the far hybrid is of the band-limited signal.
//! 3. **Carrier offset**, the analytic signal (127-tap Hilbert FIR) × e^{j2π·Δf·t} — 63
//!    samples. FDM carrier systems shift the whole spectrum, echo included.
//! 4. **Clock drift**, a polyphase windowed-sinc resampler (48 taps × 256 phases) — 24 input
//!    samples. The receiving end samples with its own clock.
//! 5. **Gain** — none. The level plan of the connection.
//! 6. **White Gaussian noise** — none. Circuit noise adds at the receiving end's A/D, after
//!    the level is set, so the SNR does not depend on the gain.
//! 7. **Rounding to 16 bits** (saturating), then **G.711** — none. The codec at the exchange.
//! 8. **Slips**, a sample dropped or repeated every N — none. Controlled slips happen in the
//!    digital network, one 125 µs frame (= one sample of a channel) at a time.
//!
//! The delays add up: [`LineSim::latency_samples`] gives the total (in input samples), and
//! [`LineSim::group_delay_samples`] adds a model's frequency-dependent part.
//!
//! Stage details:
//! - **Noise**: xoshiro256** seeded by [`LineParams::seed`], Box–Muller. White over the whole
//!   0–4 kHz band; the SNR is that of a −13 dBm0 reference signal (whatever the actual
//!   signal's level) over the total noise power, as spandsp measures it:
//!   [`noise_rms_for_snr`]. Levels use [`crate::modem::dbm0_to_rms`] (full-scale sine =
//!   +3.14 dBm0).
//! - **Carrier offset**: the Hilbert transformer's magnitude is flat within ±0.005 dB from
//!   150 Hz to 3850 Hz, so the unwanted sideband is > 70 dB down (measured: 93 dB for a 1 kHz
//!   tone). Outside that band the shift is imperfect: content near 0 Hz or 4 kHz leaks an
//!   image at −f − Δf, and DC becomes a tone at Δf (use a band-limiting model with a large
//!   offset if the signal has DC). A tone at f comes out at f + Δf, measured to 0.001 Hz.
//! - **Drift**: output sample k is the input at time k/(1 + ppm·10⁻⁶) − 24, computed from k
//!   (never accumulated); output k is given as soon as input ⌊k/(1 + ppm·10⁻⁶)⌋ has arrived,
//!   so after N input samples ⌈N·(1 + ppm·10⁻⁶)⌉ outputs have been given, at every point of
//!   any run. Up to 3.5 kHz, images and interpolation error are > 85 dB down. Frequencies
//!   scale by 1/(1 + ppm·10⁻⁶): a 1 kHz tone at +100 ppm comes out at 999.9 Hz.
//! - **Echo**: `y[n] = x[n] + 10^(−att/20)·x[n − d]`, d = round(8·delay_ms) ≥ 1 samples: a
//!   single reflection of the same signal (a one-direction simulator has no other).
//! - **G.711**: a round trip through [`crate::g711`] (exact G.711, checked against Python's audioop).
//! - **Slips**: every N-th sample (N = `slip_every`) is dropped — or emitted twice with
//!   `slip_repeat` — so the output is (N ∓ 1)/N times as long.
//!
//! Cost: O(taps) per sample — at most 256 + 127 + 96 multiply-adds, one `sin_cos` and one
//! Gaussian deviate — and no allocation once the scratch buffers have grown to the chunk
//! size. Everything on, 60 s of signal takes about 0.15 s (release build, one core).
//!
//! **Not supported:** phase jitter, impulse noise, harmonic distortion, time-varying levels
//! (fading, dropouts), slips of more than one sample, the near-end echo of the other
//! direction (a one-direction simulator sees only its own signal).
//!
//! **Tested by:** unit tests in each submodule (the building blocks, against direct
//! computation) and `linesim/tests.rs` (the whole simulator: determinism, chunking, measured
//! SNR, offset, drift, model responses and group delays, echo, G.711, slips, the parser).

mod channel;
mod delay;
mod g711;
mod params;
mod rng;
mod shift;
#[cfg(test)]
mod tests;

pub use channel::BULK_DELAY;
pub use delay::{FRACTIONAL_LATENCY, FractionalDelay};
pub use params::{Echo, Law, LineModel, LineParams, ParamError};

use crate::modem::dbm0_to_rms;
use crate::signal::fir::{Fir, keep_tail};
use crate::signal::resample::{HALF_TAPS, Resampler};
use rng::Gaussian;
use shift::{FreqShift, HILBERT_TAPS};

/// Sample rate of the line, Hz.
pub const SAMPLE_RATE: f64 = 8000.0;

/// The reference level SNRs are quoted against, dBm0.
pub const SNR_REFERENCE_DBM0: f32 = -13.0;

/// RMS (16-bit linear units) of white noise that is `snr_db` below a −13 dBm0 reference
/// signal: `dbm0_to_rms(-13) / 10^(snr_db/20)`. At 30 dB that is ≈ 114.
pub fn noise_rms_for_snr(snr_db: f32) -> f32 {
    dbm0_to_rms(SNR_REFERENCE_DBM0) * 10f32.powf(-snr_db / 20.0)
}

/// One direction of a simulated line. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct LineSim {
    params: LineParams,
    channel: Option<Fir>,
    echo: Option<EchoStage>,
    shift: Option<FreqShift>,
    drift: Option<Resampler>,
    gain: f32,
    /// The noise source and its RMS.
    noise: Option<(Gaussian, f32)>,
    slips: Option<Slips>,
    /// Scratch buffers, reused by every call.
    a: Vec<f32>,
    b: Vec<f32>,
}

impl LineSim {
    /// A line with these impairments. Never panics: values out of the ranges
    /// [`LineParams::from_query`] accepts are clamped into them and NaNs count as the ideal
    /// value (see [`LineSim::params`] for what is used); [`LineSim::try_new`] reports them
    /// instead. Designs the filters (a few milliseconds).
    pub fn new(params: LineParams) -> LineSim {
        let p = params.sanitized();
        let channel = channel::design(p.model).map(|taps| Fir::new(&taps));
        let echo = p.echo.map(EchoStage::new);
        let shift = (p.carrier_offset_hz != 0.0)
            .then(|| FreqShift::new(p.carrier_offset_hz as f64, SAMPLE_RATE));
        let drift = (p.drift_ppm != 0.0).then(|| Resampler::new(1.0 + p.drift_ppm as f64 * 1e-6));
        let noise_rms = match (p.noise_dbm0, p.snr_db) {
            (Some(dbm0), _) => Some(dbm0_to_rms(dbm0)),
            (None, Some(snr)) => Some(noise_rms_for_snr(snr)),
            (None, None) => None,
        };
        let slips = p.slip_every.map(|every| Slips {
            every,
            repeat: p.slip_repeat,
            count: 0,
        });
        LineSim {
            params: p,
            channel,
            echo,
            shift,
            drift,
            gain: 10f32.powf(p.gain_db / 20.0),
            noise: noise_rms.map(|rms| (Gaussian::new(p.seed), rms)),
            slips,
            a: Vec::new(),
            b: Vec::new(),
        }
    }

    /// Like [`LineSim::new`], but out-of-range parameters are an error.
    pub fn try_new(params: LineParams) -> Result<LineSim, ParamError> {
        params.validate()?;
        Ok(LineSim::new(params))
    }

    /// The parameters in use (after clamping).
    pub fn params(&self) -> &LineParams {
        &self.params
    }

    /// The line's fixed delay, in input samples: the channel filter's bulk delay, the Hilbert
    /// transformer's and the resampler's, for the stages that are on. 0 for an ideal line.
    pub fn latency_samples(&self) -> f64 {
        let mut d = 0.0;
        if self.channel.is_some() {
            d += BULK_DELAY as f64;
        }
        if self.shift.is_some() {
            d += ((HILBERT_TAPS - 1) / 2) as f64;
        }
        if self.drift.is_some() {
            d += HALF_TAPS as f64;
        }
        d
    }

    /// The group delay at `freq_hz`, input samples: [`latency_samples`](Self::latency_samples)
    /// plus the channel model's delay distortion there.
    pub fn group_delay_samples(&self, freq_hz: f64) -> f64 {
        let model = self.params.model;
        let distortion = if model == LineModel::None {
            0.0
        } else {
            model.group_delay_samples(freq_hz) - BULK_DELAY as f64
        };
        self.latency_samples() + distortion
    }

    /// Sends `input` down the line. `output` is cleared, then holds what arrives: as many
    /// samples as went in, give or take what the drift and slips add or remove (a few at a
    /// time), and the stages keep their state between calls, so any chunking of a stream gives
    /// the same output stream.
    pub fn process(&mut self, input: &[i16], output: &mut Vec<i16>) {
        output.clear();
        let a = &mut self.a;
        a.clear();
        a.extend(input.iter().map(|&x| x as f32));
        if let Some(f) = &mut self.channel {
            f.process(a);
        }
        if let Some(e) = &mut self.echo {
            e.process(a);
        }
        if let Some(s) = &mut self.shift {
            s.process(a);
        }
        if let Some(d) = &mut self.drift {
            self.b.clear();
            d.process(a, &mut self.b);
            std::mem::swap(&mut self.a, &mut self.b);
        }
        let gain = self.gain;
        for &v in self.a.iter() {
            let mut v = v * gain;
            if let Some((g, rms)) = &mut self.noise {
                v += (g.next() * *rms as f64) as f32;
            }
            // Saturate at the 16-bit range (`as` also maps NaN to 0).
            let mut s = v.round().clamp(i16::MIN as f32, i16::MAX as f32) as i16;
            if let Some(law) = self.params.law {
                s = g711::round_trip(law, s);
            }
            match &mut self.slips {
                None => output.push(s),
                Some(slips) => slips.push(s, output),
            }
        }
    }
}

/// `y[n] = x[n] + g·x[n − d]`.
#[derive(Debug, Clone)]
struct EchoStage {
    delay: usize,
    gain: f32,
    /// The last `delay` inputs, then (during a call) the chunk.
    work: Vec<f32>,
}

impl EchoStage {
    fn new(e: Echo) -> Self {
        let delay = ((e.delay_ms as f64 * SAMPLE_RATE / 1000.0).round() as usize).max(1);
        Self {
            delay,
            gain: 10f32.powf(-e.attenuation_db / 20.0),
            work: vec![0.0; delay],
        }
    }

    fn process(&mut self, buf: &mut [f32]) {
        self.work.extend_from_slice(buf);
        for (i, y) in buf.iter_mut().enumerate() {
            *y += self.gain * self.work[i];
        }
        keep_tail(&mut self.work, self.delay);
    }
}

/// Drops (or repeats) every `every`-th sample.
#[derive(Debug, Clone)]
struct Slips {
    every: u64,
    repeat: bool,
    count: u64,
}

impl Slips {
    fn push(&mut self, s: i16, out: &mut Vec<i16>) {
        self.count += 1;
        if self.count < self.every {
            out.push(s);
            return;
        }
        self.count = 0;
        if self.repeat {
            out.push(s);
            out.push(s);
        }
    }
}
