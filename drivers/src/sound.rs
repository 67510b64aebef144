//! Sound-card lines (`sound:[DEVICE]`, docs/contracts/lines.md) and the pure parts under them.
//!
//! A sound card runs at its own rate (44.1 or 48 kHz, sometimes 8 or 16 kHz) and on its own
//! clock, in callbacks of its own size; a [`Line`](crate::Line) moves 160-sample blocks at
//! 8 kHz in lock-step. Between them:
//!
//! - [`Resampler`]: a streaming rate converter for any pair of rates, rubato's asynchronous
//!   sinc resampler at a fixed ratio (Blackman-Harris window, 8 ms of input long, linear
//!   interpolation between 256 phases) with its −6 dB point at 3.7 kHz, below both Nyquist
//!   frequencies: flat to 3.4 kHz within 0.2 dB, everything from 4 kHz on 80 dB down, so the
//!   one kernel interpolates up and stops aliasing down. Its delay is 4 ms; [`resample`] of
//!   a whole buffer takes it off, so its output lines up with the input (`analyze` uses that
//!   for WAV files at other rates). Equal rates pass through.
//! - [`Duplex`]: the buffering that keeps the two directions in step. The card's capture
//!   clock paces the call: a block is exchanged each time 160 captured samples (8 kHz) are
//!   ready. What the line sends is converted to the device rate and queued for playback
//!   with a fixed latency target; when the card's output clock runs faster than its input
//!   clock the queue runs dry and silence is inserted, when slower the excess is dropped
//!   ([`DuplexStats`] counts both). Lanes: one or two 8 kHz signals map onto the device's
//!   channels (two lanes on a stereo device: lane 0 left, lane 1 right; otherwise the lanes
//!   are mixed onto every channel and every lane hears channel 0).
//! - `card` (feature `soundcard`): the cpal streams feeding a [`Duplex`] from their
//!   callbacks, and [`SoundLine`] on top. Without the feature `open` says how to enable it.
//!
//! **Not supported:** devices that only play or only record; exclusive-mode or
//! latency tuning beyond cpal's defaults.
//!
//! **Tested by:** the unit tests below (resampler round trips 8 k ↔ 44.1 k/48 k with tone
//! SNR and timing, pass band and aliasing rejection, block-size independence; the duplex
//! buffer under clock skew and lanes), and `tests/sound.rs` (builds with `--features
//! soundcard`, opens ALSA's null device through a test ALSA configuration).

use std::collections::VecDeque;
use std::fmt;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Resampler as _, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};
use softfax_dsp::fax::Terminal;
use softfax_dsp::t30::Config;

use crate::sim::FarEnd;
use crate::{BLOCK, LineError};

#[cfg(feature = "soundcard")]
mod card;
#[cfg(feature = "soundcard")]
pub use card::{SoundLine, devices};

/// Cutoff of the conversion's low-pass, Hz (the fax band ends near 3.4 kHz).
pub const CUTOFF_HZ: f64 = 3700.0;
/// Length of the interpolation filter, ms of input: sets its transition band (about
/// 4/length wide with a Blackman-Harris window) and its delay (half the length).
const FILTER_MS: usize = 8;
/// Input fed to rubato per call, ms: bounds what waits for a whole chunk.
const CHUNK_MS: usize = 2;

/// A streaming sample-rate converter for one channel (see the module documentation):
/// rubato's asynchronous sinc resampler at a fixed ratio, fed in whole chunks. Equal rates
/// pass through unchanged.
pub struct Resampler {
    from: u32,
    to: u32,
    /// Filter length, input samples (a multiple of 8, as rubato rounds it).
    taps: usize,
    inner: Option<Async<f32>>,
    /// Input waiting for a whole chunk.
    pending: Vec<f32>,
    /// One chunk's output.
    out: Vec<f32>,
}

impl fmt::Debug for Resampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Resampler {
    /// From `from` Hz to `to` Hz (both > 0).
    pub fn new(from: u32, to: u32) -> Resampler {
        let (from, to) = (from.max(1), to.max(1));
        let chunk = (from as usize * CHUNK_MS / 1000).max(1);
        let taps = (from as usize * FILTER_MS / 1000).max(16).div_ceil(8) * 8;
        let inner = (from != to).then(|| {
            let ratio = to as f64 / from as f64;
            // The -6 dB point, relative to the lower Nyquist frequency (rubato scales it down
            // itself when it decimates).
            let cutoff = (CUTOFF_HZ / (from.min(to) as f64 / 2.0)).min(0.925) as f32;
            let params = SincInterpolationParameters::new(taps, WindowFunction::BlackmanHarris)
                .f_cutoff(cutoff)
                .oversampling_factor(256)
                .interpolation(SincInterpolationType::Linear);
            Async::<f32>::new_sinc(ratio, 1.0, &params, chunk, 1, FixedAsync::Input)
                .expect("a positive ratio, a chunk of at least one sample, one channel")
        });
        let out_max = inner.as_ref().map_or(0, |r| r.output_frames_max());
        Resampler {
            from,
            to,
            taps,
            inner,
            pending: Vec::with_capacity(chunk),
            out: vec![0.0; out_max],
        }
    }

    /// Output samples the converter lags its input by: half the filter, less the one output
    /// sample rubato's sinc resampler starts ahead (measured; the round-trip test holds it).
    pub fn delay(&self) -> f64 {
        match self.inner {
            Some(_) => (self.taps / 2) as f64 * self.to as f64 / self.from as f64 - 1.0,
            None => 0.0,
        }
    }

    /// Convert what came; the output is appended to `out`. Output sample k is the input
    /// signal at time (k − [`Resampler::delay`]) / `to` s (input sample 0 at time 0).
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let Some(r) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            return;
        };
        for &x in input {
            self.pending.push(x as f32);
            if self.pending.len() < r.input_frames_next() {
                continue;
            }
            let (n, room) = (self.pending.len(), self.out.len());
            let written = InterleavedSlice::new(&self.pending[..], 1, n)
                .ok()
                .zip(InterleavedSlice::new_mut(&mut self.out[..], 1, room).ok())
                .and_then(|(i, mut o)| r.process_into_buffer(&i, &mut o, None).ok())
                .map_or(0, |(_, w)| w);
            out.extend(
                self.out[..written]
                    .iter()
                    .map(|&y| y.round().clamp(-32768.0, 32767.0) as i16),
            );
            self.pending.clear();
        }
    }

    pub fn from_hz(&self) -> u32 {
        self.from
    }

    pub fn to_hz(&self) -> u32 {
        self.to
    }
}

/// Convert a whole buffer from `from` Hz to `to` Hz: the output has `len · to / from`
/// samples and lines up with the input in time (the filter's delay taken off).
pub fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to {
        return input.to_vec();
    }
    let mut r = Resampler::new(from, to);
    let (from, to) = (r.from as u64, r.to as u64);
    let want = (input.len() as u64 * to / from) as usize;
    // Lead in with zeros so that the delay is a whole number of output samples, then drop
    // those: the output starts with input sample 0.
    let (half, step) = ((r.taps / 2) as u64, from / gcd(from, to));
    let lead = (step - half % step) % step;
    let skip = ((half + lead) * to / from).saturating_sub(1) as usize;
    let mut out = Vec::with_capacity(want + skip + 64);
    r.process(&vec![0i16; lead as usize], &mut out);
    r.process(input, &mut out);
    // Push the tail through the filter.
    let flush = vec![0i16; (from as usize / 100).max(16)];
    while out.len() < want + skip {
        r.process(&flush, &mut out);
    }
    out.drain(..skip);
    out.truncate(want);
    out
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Underruns and overruns of a [`Duplex`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DuplexStats {
    /// Blocks exchanged.
    pub blocks: u64,
    /// Device samples of silence played because the line had not sent enough yet.
    pub underrun_samples: u64,
    /// Device samples dropped from the playback queue (output clock slower than input).
    pub dropped_samples: u64,
    /// 8 kHz samples captured but dropped because the line did not take them in time.
    pub overrun_samples: u64,
}

/// The two directions of a sound card, kept in step (see the module documentation).
/// Sans-IO: the card's callbacks call [`Duplex::capture`] and [`Duplex::playback`], the
/// line calls [`Duplex::exchange`].
#[derive(Debug)]
pub struct Duplex {
    in_rate: u32,
    in_channels: usize,
    out_rate: u32,
    out_channels: usize,
    lanes: usize,
    /// Per lane: device → 8 kHz, and the 8 kHz samples waiting for the line.
    down: Vec<Resampler>,
    rx: Vec<VecDeque<i16>>,
    /// Per lane: 8 kHz → device, and the device samples waiting for the card.
    up: Vec<Resampler>,
    tx: Vec<VecDeque<i16>>,
    /// Playback queue target and limit, device samples.
    target: usize,
    limit: usize,
    /// Captured 8 kHz samples kept at most (older ones are dropped).
    rx_limit: usize,
    stats: DuplexStats,
    scratch: Vec<i16>,
    lane_buf: Vec<i16>,
}

impl Duplex {
    /// A device recording at `in_rate` Hz with `in_channels` interleaved channels and
    /// playing at `out_rate` Hz with `out_channels`, carrying `lanes` (1 or 2) 8 kHz
    /// signals, with `latency_ms` of playback queued.
    pub fn new(
        in_rate: u32,
        in_channels: usize,
        out_rate: u32,
        out_channels: usize,
        lanes: usize,
        latency_ms: u32,
    ) -> Duplex {
        let lanes = lanes.clamp(1, 2);
        let target = (out_rate as usize * latency_ms as usize / 1000).max(1);
        let mut d = Duplex {
            in_rate,
            in_channels: in_channels.max(1),
            out_rate,
            out_channels: out_channels.max(1),
            lanes,
            down: (0..lanes).map(|_| Resampler::new(in_rate, 8000)).collect(),
            rx: vec![VecDeque::new(); lanes],
            up: (0..lanes).map(|_| Resampler::new(8000, out_rate)).collect(),
            tx: vec![VecDeque::new(); lanes],
            target,
            limit: 3 * target + out_rate as usize / 50,
            rx_limit: 8000,
            stats: DuplexStats::default(),
            scratch: Vec::new(),
            lane_buf: Vec::new(),
        };
        for q in d.tx.iter_mut() {
            q.extend(std::iter::repeat_n(0, target));
        }
        d
    }

    pub fn stats(&self) -> DuplexStats {
        self.stats
    }

    /// Device rates (recording, playing), Hz.
    pub fn rates(&self) -> (u32, u32) {
        (self.in_rate, self.out_rate)
    }

    /// Lanes carried.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// The card recorded `input` (interleaved, `channels` per frame).
    pub fn capture(&mut self, input: &[i16]) {
        // Each lane its own channel when there are enough, else every lane hears channel 0.
        let separate = self.lanes > 1 && self.in_channels >= self.lanes;
        for l in 0..self.lanes {
            let ch = if separate { l } else { 0 };
            self.lane_buf.clear();
            self.lane_buf
                .extend(input.chunks_exact(self.in_channels).map(|f| f[ch]));
            self.scratch.clear();
            self.down[l].process(&self.lane_buf, &mut self.scratch);
            let q = &mut self.rx[l];
            q.extend(self.scratch.iter().copied());
            if q.len() > self.rx_limit {
                let excess = q.len() - self.rx_limit;
                q.drain(..excess);
                if l == 0 {
                    self.stats.overrun_samples += excess as u64;
                }
            }
        }
    }

    /// The card wants `out` (interleaved, `channels` per frame) to play.
    pub fn playback(&mut self, out: &mut [i16]) {
        let separate = self.lanes > 1 && self.out_channels >= self.lanes;
        for frame in out.chunks_exact_mut(self.out_channels) {
            let mut short = false;
            let mut lane = [0i32; 2];
            for (l, q) in self.tx.iter_mut().enumerate() {
                match q.pop_front() {
                    Some(s) => lane[l] = s as i32,
                    None => short = true,
                }
            }
            if short {
                self.stats.underrun_samples += 1;
            }
            if separate {
                for (c, s) in frame.iter_mut().enumerate() {
                    *s = lane.get(c).copied().unwrap_or(0) as i16;
                }
            } else {
                let mix = (lane[0] + lane[1]).clamp(-32768, 32767) as i16;
                frame.fill(mix);
            }
        }
    }

    /// Whether a block can be exchanged now (160 captured samples are waiting).
    pub fn ready(&self) -> bool {
        self.rx.iter().all(|q| q.len() >= BLOCK)
    }

    /// Exchange one block per lane: queue `tx[l]` for playback and take 160 captured samples
    /// of lane `l` into `rx[l]`. `false` (nothing done) until [`Duplex::ready`].
    pub fn exchange(&mut self, tx: &[[i16; BLOCK]], rx: &mut [[i16; BLOCK]]) -> bool {
        if !self.ready() {
            return false;
        }
        for l in 0..self.lanes {
            for (d, s) in rx[l].iter_mut().zip(self.rx[l].drain(..BLOCK)) {
                *d = s;
            }
            self.scratch.clear();
            self.up[l].process(&tx[l], &mut self.scratch);
            let q = &mut self.tx[l];
            q.extend(self.scratch.iter().copied());
            if q.len() > self.limit {
                // The output clock is slower than the input clock: come back to the target.
                let excess = q.len() - self.target;
                q.drain(..excess);
                if l == 0 {
                    self.stats.dropped_samples += excess as u64;
                }
            }
        }
        self.stats.blocks += 1;
        true
    }
}

/// Two 8 kHz lanes exchanged with a sound device in lock-step, one block each.
pub trait Lanes {
    /// Send `tx[l]` on lane `l` and receive what came back on each lane.
    fn exchange_lanes(
        &mut self,
        tx: &[[i16; BLOCK]; 2],
        rx: &mut [[i16; BLOCK]; 2],
    ) -> Result<(), LineError>;
}

/// `softfax loopback --line sound:DEVICE`: a whole call through a sound device between the
/// caller's terminal (lane 0, left) and a built-in far end (lane 1, right). With a stereo
/// cable (or ALSA's snd-aloop) from out to in, each terminal hears the other's channel;
/// on a mono device both lanes are mixed onto the line and each terminal hears the mix
/// (T.30 is half duplex: a terminal does not listen while it sends).
pub struct Loopback<C: Lanes> {
    card: C,
    far: Terminal,
    far_rx: [i16; BLOCK],
    far_tx: [i16; BLOCK],
    ended: bool,
}

impl<C: Lanes> Loopback<C> {
    pub fn new(card: C, far: FarEnd) -> Loopback<C> {
        let cfg = Config {
            ident: "softfax loopback".into(),
            ..Config::default()
        };
        let far = match far {
            FarEnd::Receiver => Terminal::answerer(cfg),
            FarEnd::Sender(pages) => Terminal::caller(cfg, pages),
        };
        Loopback {
            card,
            far,
            far_rx: [0; BLOCK],
            far_tx: [0; BLOCK],
            ended: false,
        }
    }

    /// The far end's terminal (its outcome and received pages).
    pub fn far_end(&self) -> &Terminal {
        &self.far
    }

    /// The device under the call.
    pub fn card(&self) -> &C {
        &self.card
    }
}

impl<C: Lanes> crate::Line for Loopback<C> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        rx.fill(0);
        if self.ended {
            return Ok(false);
        }
        self.far.process(&self.far_rx, &mut self.far_tx);
        let mut got = [[0i16; BLOCK]; 2];
        self.card.exchange_lanes(&[*tx, self.far_tx], &mut got)?;
        *rx = got[1];
        self.far_rx = got[0];
        if self.far.outcome().is_some() {
            self.ended = true;
        }
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        if self.far.outcome().is_none() {
            self.far.line_down();
        }
        self.ended = true;
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        Some(16)
    }
}

/// A simulated sound card with a cable from its outputs to its inputs: a [`Duplex`] driven
/// in device-sized periods as a card's callbacks would drive it. For tests and benches of
/// everything `sound:` lines do but the device itself.
#[derive(Debug)]
pub struct CableSim {
    duplex: Duplex,
    period: usize,
    channels: usize,
    out: Vec<i16>,
}

impl CableSim {
    /// A card at `rate` Hz with `channels` channels, callbacks of `period_ms`.
    pub fn new(rate: u32, channels: usize, period_ms: u32) -> CableSim {
        let channels = channels.max(1);
        CableSim {
            duplex: Duplex::new(rate, channels, rate, channels, 2, 2 * period_ms),
            period: (rate as usize * period_ms as usize / 1000).max(1),
            channels,
            out: Vec::new(),
        }
    }

    pub fn stats(&self) -> DuplexStats {
        self.duplex.stats()
    }
}

impl Lanes for CableSim {
    fn exchange_lanes(
        &mut self,
        tx: &[[i16; BLOCK]; 2],
        rx: &mut [[i16; BLOCK]; 2],
    ) -> Result<(), LineError> {
        while !self.duplex.exchange(tx, rx) {
            // One period: the card plays, the cable carries it back, the card records it.
            self.out.resize(self.period * self.channels, 0);
            self.duplex.playback(&mut self.out);
            self.duplex.capture(&self.out);
        }
        Ok(())
    }
}

#[cfg(not(feature = "soundcard"))]
fn not_built() -> LineError {
    LineError::NotBuilt {
        scheme: "sound".into(),
        how: "this softfax was built without sound-card support: rebuild with `cargo build --release --features soundcard` (needs the ALSA headers: apt-get install libasound2-dev pkg-config)".into(),
    }
}

/// Open `sound:DEVICE` (empty = the default devices): the far end is whatever the card
/// is connected to.
pub fn open(device: &str) -> Result<Box<dyn crate::Line>, LineError> {
    #[cfg(feature = "soundcard")]
    return Ok(Box::new(SoundLine::open(device, 1)?));
    #[cfg(not(feature = "soundcard"))]
    {
        let _ = device;
        Err(not_built())
    }
}

/// Open a loopback call through `sound:DEVICE`: the far end is a built-in terminal on the
/// card's second channel ([`Loopback`]).
pub fn open_loopback(device: &str, far: FarEnd) -> Result<Box<dyn crate::Line>, LineError> {
    #[cfg(feature = "soundcard")]
    return Ok(Box::new(Loopback::new(SoundLine::open(device, 2)?, far)));
    #[cfg(not(feature = "soundcard"))]
    {
        let _ = (device, far);
        Err(not_built())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, rate: u32, n: usize, amp: f64) -> Vec<i16> {
        (0..n)
            .map(|i| {
                (amp * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin()) as i16
            })
            .collect()
    }

    /// SNR (dB) of `x` against the best-fitting sine at `hz` (least squares), skipping edges.
    fn tone_snr(x: &[i16], hz: f64, rate: u32) -> f64 {
        let x = &x[400..x.len() - 400];
        let w = 2.0 * std::f64::consts::PI * hz / rate as f64;
        let (mut ss, mut cc, mut sc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let (s, c) = ((w * i as f64).sin(), (w * i as f64).cos());
            ss += s * s;
            cc += c * c;
            sc += s * c;
            xs += v as f64 * s;
            xc += v as f64 * c;
        }
        let det = ss * cc - sc * sc;
        let a = (xs * cc - xc * sc) / det;
        let b = (xc * ss - xs * sc) / det;
        let (mut sig, mut err) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let fit = a * (w * i as f64).sin() + b * (w * i as f64).cos();
            sig += fit * fit;
            err += (v as f64 - fit).powi(2);
        }
        10.0 * (sig / err.max(1e-9)).log10()
    }

    #[test]
    fn round_trips_8k_to_device_rates_and_back() {
        for rate in [44_100, 48_000, 16_000] {
            for hz in [300.0, 1100.0, 1800.0, 3000.0] {
                let x = tone(hz, 8000, 8000, 8000.0);
                let up = resample(&x, 8000, rate);
                assert_eq!(up.len(), rate as usize);
                let snr_up = tone_snr(&up, hz, rate);
                let back = resample(&up, rate, 8000);
                assert_eq!(back.len(), 8000);
                let snr = tone_snr(&back, hz, 8000);
                assert!(
                    snr_up > 35.0 && snr > 40.0,
                    "{rate} Hz, {hz} Hz: {snr_up:.1} / {snr:.1} dB"
                );
                // In time with the input (no delay left): compare samples directly.
                let err: f64 = x[400..7600]
                    .iter()
                    .zip(&back[400..7600])
                    .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                    .sum::<f64>()
                    / 7200.0;
                assert!(
                    err.sqrt() < 8000.0 * 0.05,
                    "{rate} {hz}: rms error {}",
                    err.sqrt()
                );
            }
        }
    }

    #[test]
    fn down_conversion_rejects_what_would_alias() {
        // 10 kHz at 48 kHz would fold to 2 kHz at 8 kHz without the low-pass.
        let x = tone(10_000.0, 48_000, 48_000, 10_000.0);
        let y = resample(&x, 48_000, 8000);
        let rms = (y[200..7800]
            .iter()
            .map(|&v| (v as f64).powi(2))
            .sum::<f64>()
            / 7600.0)
            .sqrt();
        assert!(
            rms < 10_000.0 * std::f64::consts::FRAC_1_SQRT_2 * 0.01,
            "alias at {rms:.1} rms (−40 dB wanted)"
        );
    }

    #[test]
    fn flat_over_the_fax_band_and_nothing_folds_back() {
        let rms = |x: &[i16]| {
            let x = &x[x.len() / 4..3 * x.len() / 4];
            (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        for (from, to) in [
            (8000, 48_000),
            (48_000, 8000),
            (8000, 44_100),
            (44_100, 8000),
        ] {
            for hz in [300.0, 1800.0, 3000.0, 3400.0, 4000.0, 4600.0, 10_000.0] {
                if hz >= from as f64 / 2.0 {
                    continue;
                }
                let x = tone(hz, from, from as usize, 10_000.0);
                let gain = 20.0 * (rms(&resample(&x, from, to)) / rms(&x)).log10();
                if hz <= 3400.0 {
                    assert!(gain.abs() < 0.2, "{from} → {to} Hz, {hz} Hz: {gain:.2} dB");
                } else {
                    assert!(gain < -80.0, "{from} → {to} Hz, {hz} Hz: {gain:.2} dB");
                }
            }
        }
    }

    #[test]
    fn streaming_does_not_depend_on_block_sizes() {
        let x = tone(1700.0, 48_000, 9600, 9000.0);
        let mut a = Resampler::new(48_000, 8000);
        let mut whole = Vec::new();
        a.process(&x, &mut whole);
        let mut b = Resampler::new(48_000, 8000);
        let mut parts = Vec::new();
        let mut i = 0;
        for n in [1usize, 7, 480, 441, 13].iter().cycle() {
            if i >= x.len() {
                break;
            }
            let e = (i + n).min(x.len());
            b.process(&x[i..e], &mut parts);
            i = e;
        }
        assert_eq!(whole, parts);
    }

    #[test]
    fn duplex_keeps_directions_in_step_under_clock_skew() {
        // Stereo 48 kHz card, two lanes; output clock 0.5 % faster than the input clock.
        let mut d = Duplex::new(48_000, 2, 48_000, 2, 2, 40);
        let mut rx = [[0i16; BLOCK]; 2];
        let tx = [[1000i16; BLOCK], [-1000i16; BLOCK]];
        let mut out = vec![0i16; 2 * 965];
        let mut got = 0;
        for _ in 0..500 {
            d.capture(&vec![500i16; 2 * 960]); // 20 ms in
            while d.exchange(&tx, &mut rx) {
                got += 1;
            }
            d.playback(&mut out); // 20.1 ms out
        }
        assert!(
            (498..=500).contains(&got),
            "one block per 20 ms captured: {got}"
        );
        let st = d.stats();
        assert!(
            st.underrun_samples > 0 && st.underrun_samples < 5 * 500 + 2000,
            "{st:?}"
        );
        assert_eq!(st.dropped_samples, 0);
        // Lanes stay on their channels.
        // Lanes stay on their channels (the last frames of a period may be underrun silence).
        let right = out.chunks(2).filter(|f| f[0] > 900 && f[1] < -900).count();
        assert!(right > 900, "{right} of 965 frames carry the lanes");
        assert!(
            out.chunks(2).all(|f| f[0] >= 0 && f[1] <= 0),
            "lanes swapped"
        );
        assert!(
            rx[0].iter().all(|&s| (s - 500).abs() < 5),
            "{:?}",
            &rx[0][..4]
        );

        // Output clock slower: the queue is trimmed back, never grows without bound.
        let mut d = Duplex::new(48_000, 1, 48_000, 1, 1, 40);
        let mut rx = [[0i16; BLOCK]; 1];
        let mut out = vec![0i16; 950];
        for _ in 0..1000 {
            d.capture(&[0i16; 960]);
            while d.exchange(&tx[..1], &mut rx) {}
            d.playback(&mut out);
        }
        assert!(d.stats().dropped_samples > 0);
        assert!(d.tx[0].len() <= d.limit);
    }

    /// A whole fax call between two terminals through the resamplers and buffers of a
    /// simulated 48 kHz stereo card with a cable, and through a mono 44.1 kHz one.
    #[test]
    fn a_fax_call_through_a_simulated_card_and_cable() {
        use crate::Line;
        use softfax_dsp::t30::Hangup;
        for (rate, ch) in [(48_000, 2), (44_100, 1)] {
            let mut line = Loopback::new(CableSim::new(rate, ch, 10), FarEnd::Receiver);
            let page = crate::sim::test_page();
            let mut me = Terminal::caller(Config::default(), vec![page.clone()]);
            let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
            for _ in 0..50 * 120 {
                me.process(&rx, &mut tx);
                if !line.exchange(&tx, &mut rx).unwrap() {
                    me.line_down();
                }
                if me.outcome().is_some() {
                    break;
                }
            }
            let o = me.outcome().expect("the call ended");
            assert_eq!(
                (o.hangup, o.pages),
                (Hangup::Normal, 1),
                "{rate} Hz × {ch}: {o:?}"
            );
            let got = &line.far_end().received_pages()[0];
            assert!(got.data == page.data, "{rate} Hz × {ch}: page pels differ");
            let st = line.card().stats();
            assert_eq!((st.dropped_samples, st.overrun_samples), (0, 0), "{st:?}");
        }
    }

    #[test]
    fn mono_device_mixes_lanes_and_every_lane_hears_it() {
        let mut d = Duplex::new(8000, 1, 8000, 1, 2, 20);
        let tx = [[300i16; BLOCK], [200i16; BLOCK]];
        let mut rx = [[0i16; BLOCK]; 2];
        d.capture(&[700i16; BLOCK * 2]);
        assert!(d.exchange(&tx, &mut rx));
        let mut out = vec![0i16; 300];
        d.playback(&mut out);
        // 160 samples of latency, then the mix (equal rates: no filter).
        assert_eq!(out[100], 0);
        assert!((out[299] - 500).abs() < 10, "{}", out[299]);
        assert_eq!(rx[0][100], rx[1][100]);
    }
}
