//! The receiver core of V.29 and V.17 ([`RxCore`]); the modems drive it symbol by symbol
//! with their training contents and decisions.
//!
//!   1. *Carrier detect* on the power of the DC-blocked input (on above −45 dBm0, off below
//!      −48 dBm0: inside the −43/−48 dBm0 window V.17 leaves to the receiver).
//!      A sample on the rail is taken as 1.1 times the rail (a clipped peak was beyond it),
//!      which keeps a 0 dBm0 signal error-free.
//!   2. *Matched filter, interpolation and down-conversion in one step*: the input goes into a
//!      history buffer, and at every T/2 instant (4800 a second, timed by a fractional clock)
//!      one of 64 precomputed phases of the complex band-pass filter `h(τ)·e^{jω_c τ}` (h: RRC
//!      with roll-off 0.25 over 32 samples) is applied, then the result is turned to baseband
//!      by the oscillator. Two 32-tap real dot products per T/2 output
//!      ([`crate::simd::Isa::dot2_fixed`]). Each phase's filter is turned on by the carrier's
//!      phase from its output instant to the window's newest sample, so the oscillator is
//!      needed only at whole samples: both carriers repeat every 80 samples, and it is a
//!      table of one period (exact, no interpolation).
//!
//!   The core works a block of input in two passes ([`RxCore::run`]): steps 1 and the
//!   history over the whole block (up to a carrier change), then the T/2 instants among its
//!   samples, counted down in whole samples — the same numbers, bit for bit, as sample by
//!   sample. The clock moves only when a symbol's error comes back, so when a symbol is made
//!   the front end's next two outputs are worked out on the clock as it stands and taken
//!   if their sample and phase still hold (nearly always): their dot products are then off
//!   the serial path from one symbol's decision through the loops to the next symbol.
//!   3. *Acquisition* on the A/B alternations: over 16 symbols the T/2 samples are correlated
//!      with e^{∓jπn/2}. The alternating part of an ABAB signal is a cosine at half the symbol
//!      rate whatever the pulse (for a raised-cosine overall response), so the two
//!      correlations give the symbol timing in one shot (to a few thousandths of a sample on
//!      a clean line), the power in them tells ABAB from an echo-protection tone, silence or
//!      data (a window that fails is simply tried again), and with the mean they set the AGC.
//!   4. *Reversal*: the equaliser output (main tap only so far) is watched for the ABAB →
//!      CDCD (V.29) or CDBA (V.17) phase reversal: z·z*₋₂ turns negative on two symbols in a
//!      row after at least 8 steady ones. The carrier frequency comes from the mean of z·z*₋₂
//!      over the alternations (±7 Hz is 2° per symbol pair), the phase and gain from the last
//!      eight symbols (A B A B A B C D) against their known values. From there the modem
//!      drives: for each symbol it gives the target (known during training, the decision
//!      after).
//!   5. *Equaliser*: 32 complex taps at T/2 spacing (a 16-symbol span, main tap in the
//!      middle), normalised LMS (step 0.25 → 0.05 on the training, 0.02–0.03 on decisions,
//!      then applied every other symbol with twice the step). Decisions may come late (a
//!      trellis decoder's): the delay line keeps 8 symbols more and the de-rotations of the
//!      last 8, so the update uses the samples the late symbol was made of.
//!   6. *Carrier*: the equaliser output is turned by a phase θ from a decision-directed
//!      second-order PLL (phase error Im(z·d*)/E_s, damping 0.7, noise bandwidth 40 → 20 →
//!      12 Hz); being after the equaliser, its loop has one symbol of delay; the LMS error is
//!      turned back by θ.
//!   7. *Symbol timing*: Mueller–Müller, Re{d*₋₁·z − d*·z₋₁}, on the equalised symbols and
//!      their targets — zero on time whatever the data, so it has next to no self-noise
//!      (Gardner on the raw T/2 samples had 3 samples r.m.s. of pattern noise per symbol with
//!      a 0.25 roll-off) — drives a second-order loop (10 → 4 Hz) that moves the fractional
//!      clock; its integrator follows a constant clock offset with no residual error, so
//!      ±100 ppm (0.24 symbol a second) leaves the equaliser still.
//!   8. *Retrain* (V.17's short training after TCF): the equaliser, AGC and carrier
//!      frequency of the last good training are kept, and so are where the timing loop had
//!      moved the clock from the acquisition's estimate (drift left out) and the drift: on a
//!      line with delay distortion the alternations' timing and the equaliser's differ by a
//!      fraction of a sample (a third on the moderate channel), which 38 symbols of training
//!      do not make up. The carrier phase moves on by the tracked frequency on every
//!      symbol, including those a modem holds its loops on.
//!   9. *Quality*: SNR from the mean squared decision error against the constellation's mean
//!      energy; carrier offset from the PLL integrator; timing offset from the timing loop's
//!      integrator; level from the power meter. Once the signal has gone, quality() holds
//!      the values from 128–256 symbols before, so the ring-down does not spoil them.

use std::f32::consts::{PI, TAU};

use num_complex::Complex32;

mod acquire;

use super::filters::HIST;
use super::filters::{
    EQ_LEN, FE_HALF, FE_LEN, FE_PHASES, OSC_PERIOD, RX_BANK_1700, RX_BANK_1800, RxBank, window,
};
use super::{BAUD, SAMPLES_PER_SYMBOL, SINE, cis};
use crate::modem::RxQuality;
use crate::modem::common::CarrierDetect;
use crate::simd::{FrontOut, FrontState, Isa};

/// Radians to `u32` phase units.
const RAD_TO_U32: f32 = 4_294_967_296.0 / TAU;

/// The longest decision delay [`RxCore::adapt_delayed`] takes, symbols.
pub const MAX_DELAY: usize = 8;
/// The de-rotations kept (a power of two > MAX_DELAY).
const ROTS: usize = 16;
const _: () = assert!(ROTS.is_power_of_two() && ROTS > MAX_DELAY);
/// Equaliser delay line: the taps' span plus room for decisions that come late.
const EQ_RING: usize = EQ_LEN + 2 * MAX_DELAY;
const _: () = assert!(EQ_RING > EQ_LEN + 1);
/// The main tap (an on-time sample, 8 symbols back).
const EQ_MAIN: usize = 16;
/// T/2 samples skipped after carrier up before acquiring (filter fill, tx ramp-up).
const ACQ_SKIP: u32 = 16;
/// T/2 samples per acquisition window (16 symbols; a multiple of 4).
const ACQ_LEN: u32 = 32;

/// The fractional clock's unit: 2⁻³² sample (fixed point, 32 fraction bits). Rounding
/// the half-symbol step (5/3 sample) to it drifts the clock by 0.05 ppm, which the timing
/// loop takes up with everything else.
const CLOCK_ONE: i64 = 1 << 32;
/// A T/2 step on the clock.
const CLOCK_HALF_SYMBOL: i64 = (SAMPLES_PER_SYMBOL / 2.0 * CLOCK_ONE as f64 + 0.5) as i64;
/// The clock below which an output is due: 1 − [`FE_HALF`] samples.
const CLOCK_DUE: i64 = (1 - FE_HALF as i64) * CLOCK_ONE;

/// Samples (a real number) on the clock (saturating; NaN is 0).
#[inline(always)]
fn clock(samples: f64) -> i64 {
    (samples * CLOCK_ONE as f64) as i64
}

/// Samples from the clock `rel` to the next T/2 output instant (≥ 1), and the clock then:
/// the first n with rel − n (one taken at a time, as a per-sample count does) below the
/// threshold.
#[inline(always)]
fn due_from(rel: i64) -> (usize, i64) {
    let n = ((rel - CLOCK_DUE) >> 32).max(0) + 1;
    (n as usize, rel - n * CLOCK_ONE)
}

/// The front end's phase (of [`FE_PHASES`]) for an output at clock `rel`.
#[inline(always)]
fn phase_of(rel: i64) -> usize {
    let mu = (rel + FE_HALF as i64 * CLOCK_ONE).max(0);
    ((mu >> (32 - FE_PHASES.trailing_zeros())) as usize).min(FE_PHASES - 1)
}

/// What one input sample led to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tick {
    /// Nothing new (no symbol due, or no carrier).
    Nothing,
    /// The carrier came: acquisition starts.
    CarrierUp,
    /// The carrier went.
    CarrierDown,
    /// No alternations, or no reversal where one was due: training failed (the core parks).
    AcquisitionFailed,
    /// The phase reversal was found: the symbol just past was the second symbol (D) of the
    /// conditioning pattern. Further symbols come as [`Tick::Symbol`].
    Reversal,
    /// An equalised, de-rotated symbol; answer with [`RxCore::adapt`].
    Symbol(Complex32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Idle,
    Acquire,
    Search,
    Track,
    Parked,
}

/// The training points the acquisition knows: alternations A, B, then C, D (the first two
/// symbols of the conditioning pattern, A and B turned by 180°).
#[derive(Debug, Clone, Copy)]
pub struct TrainingPoints {
    pub a: Complex32,
    pub b: Complex32,
    pub c: Complex32,
    pub d: Complex32,
}

/// Equaliser, AGC and carrier frequency kept from a good training (V.17 short retrain).
#[derive(Debug, Clone, Copy)]
struct Saved {
    c_re: [f32; EQ_LEN],
    c_im: [f32; EQ_LEN],
    omega: f32,
    agc: f32,
    /// Where the timing loop had moved the clock from the acquisition's estimate, drift
    /// left out, samples; and the drift, samples per symbol.
    timing: f64,
    drift: f64,
}

/// Loop settings the modem chooses per stage.
#[derive(Debug, Clone, Copy)]
pub struct Loops {
    /// Carrier PLL noise bandwidth, Hz.
    pub carrier_hz: f32,
    /// Symbol timing loop noise bandwidth, Hz.
    pub timing_hz: f32,
}

/// Mueller–Müller detector gain per sample of timing error, normalised by the symbol
/// energy (measured on the RRC 0.25 chain; see the tests).
const MM_GAIN: f64 = 0.56;

/// The receiver core. See the module documentation.
#[derive(Clone)]
pub struct RxCore {
    /// The instruction set the filter and equaliser kernels run on.
    isa: Isa,
    bank: &'static RxBank,
    sine: &'static [f32; 1025],
    pts: TrainingPoints,
    /// Mean symbol energy of the data constellation (normalises the phase detector).
    es: f32,
    inv_es: f32,
    // Input, newest first: the sample being worked through at `hpos` (the front end's
    // window is `input[hpos..hpos + FE_LEN]`), the samples the front end has run ahead
    // over below it down to `fpos`; slid up when the bottom is reached.
    input: [f32; HIST],
    hpos: usize,
    fpos: usize,
    /// The DC blocker's output and the power after each sample of `input`.
    hp_at: [f32; HIST],
    power_at: [f32; HIST],
    /// The front end's state after the sample at `fpos` (clip extension, DC blocker, power
    /// meter: [`crate::simd::front`]).
    fe: FrontState,
    /// The sample at `fpos` is where the carrier comes or goes.
    crossing: bool,
    /// The front end's next two outputs worked out ahead (see [`RxCore::speculate`]): the
    /// input position and phase each was made for (position usize::MAX: none), and the
    /// two dot products.
    spec: [(usize, usize, Complex32); 2],
    carrier: CarrierDetect,
    /// The oscillator's entry for the sample at `hpos` is `bank.osc[osc_base + HIST − hpos]`
    /// (`osc_base` < [`OSC_PERIOD`]; moved when the history slides).
    osc_base: usize,
    /// Fractional clock: the next T/2 output instant relative to the newest sample, in
    /// units of [`CLOCK_ONE`] (2⁻³² sample).
    rel: i64,
    on_time: bool,
    agc: f32,
    stage: Stage,
    since_up: u32,
    // Acquisition.
    acq_n: u32,
    acq_sum: Complex32,
    acq_plus: Complex32,
    acq_minus: Complex32,
    acq_pow: f32,
    // Symbol timing (Mueller–Müller on the equalised symbols).
    z_prev: Complex32,
    d_prev: Complex32,
    t_integ: f64,
    /// The clock moved by the timing loop since the acquisition, samples, and the symbols
    /// since (for [`Saved::timing`]).
    t_moved: f64,
    t_syms: f64,
    t_kp: f64,
    t_ki: f64,
    // Equaliser.
    eq_re: [f32; 2 * EQ_RING],
    eq_im: [f32; 2 * EQ_RING],
    epos: usize,
    /// The de-rotations of the last symbols, by symbol count.
    rots: [Complex32; ROTS],
    rot_pos: usize,
    energy: f32,
    renorm: u32,
    c_re: [f32; EQ_LEN],
    c_im: [f32; EQ_LEN],
    // Carrier.
    theta: u32,
    omega: f32,
    p_kp: f32,
    p_ki: f32,
    rot: Complex32,
    // Reversal search.
    hist: [Complex32; 8],
    searched: u32,
    stable: u32,
    prev_negative: bool,
    freq_acc: Complex32,
    /// The alternations as received, per slot parity.
    slot_ref: [Complex32; 2],
    // Quality.
    mse: f32,
    mse_n: f32,
    mse_len: f32,
    mse_alpha: f32,
    /// Power when the training was found, and the power of the signal since (quality()).
    ref_power: f32,
    level_power: f32,
    /// Mean squared error and power 128–256 and 0–128 symbols ago, for quality() once the
    /// signal went (its tail is not counted).
    snap: [(f32, f32); 2],
    snap_count: u32,
    saved: Option<Saved>,
    use_saved: bool,
}

impl std::fmt::Debug for RxCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxCore")
            .field("stage", &self.stage)
            .field("agc", &self.agc)
            .field("omega", &self.omega)
            .field("t_integ", &self.t_integ)
            .field("mse", &self.mse)
            .finish_non_exhaustive()
    }
}

/// The most samples [`RxCore::run`] gives the front end at once (the history's room).
const FRONT_MAX: usize = HIST - FE_LEN;

impl RxCore {
    /// A core for `carrier_hz` (1700 or 1800), training points `pts` and a data constellation
    /// of mean energy `es`.
    pub fn new(carrier_hz: f32, pts: TrainingPoints, es: f32) -> RxCore {
        let bank: &'static RxBank = if carrier_hz < 1750.0 {
            &RX_BANK_1700
        } else {
            &RX_BANK_1800
        };
        let mut core = RxCore {
            isa: Isa::detect(),
            bank,
            sine: &SINE,
            pts,
            es,
            inv_es: 1.0 / es,
            input: [0.0; HIST],
            hpos: HIST - FE_LEN,
            fpos: HIST - FE_LEN,
            hp_at: [0.0; HIST],
            power_at: [0.0; HIST],
            fe: FrontState::default(),
            crossing: false,
            spec: [(usize::MAX, 0, Complex32::new(0.0, 0.0)); 2],
            carrier: CarrierDetect::new(-45.0, -48.0),
            osc_base: OSC_PERIOD - FE_LEN % OSC_PERIOD,
            rel: 0,
            on_time: true,
            agc: 1.0,
            stage: Stage::Idle,
            since_up: 0,
            acq_n: 0,
            acq_sum: Complex32::default(),
            acq_plus: Complex32::default(),
            acq_minus: Complex32::default(),
            acq_pow: 0.0,
            z_prev: Complex32::default(),
            d_prev: Complex32::default(),
            t_integ: 0.0,
            t_moved: 0.0,
            t_syms: 0.0,
            t_kp: 0.0,
            t_ki: 0.0,
            eq_re: [0.0; 2 * EQ_RING],
            eq_im: [0.0; 2 * EQ_RING],
            epos: 0,
            rots: [Complex32::new(1.0, 0.0); ROTS],
            rot_pos: 0,
            energy: 0.0,
            renorm: 0,
            c_re: [0.0; EQ_LEN],
            c_im: [0.0; EQ_LEN],
            theta: 0,
            omega: 0.0,
            p_kp: 0.0,
            p_ki: 0.0,
            rot: Complex32::new(1.0, 0.0),
            hist: [Complex32::default(); 8],
            searched: 0,
            stable: 0,
            prev_negative: false,
            freq_acc: Complex32::default(),
            slot_ref: [Complex32::default(); 2],
            mse: 0.0,
            mse_n: 0.0,
            mse_len: 64.0,
            mse_alpha: 1.0,
            ref_power: 0.0,
            level_power: 0.0,
            snap: [(0.0, 0.0); 2],
            snap_count: 0,
            saved: None,
            use_saved: false,
        };
        core.set_loops(Loops {
            carrier_hz: 0.0,
            timing_hz: 0.0,
        });
        core
    }

    /// Change the training points and data energy (a rate change).
    pub fn set_points(&mut self, pts: TrainingPoints, es: f32) {
        self.pts = pts;
        self.es = es;
        self.inv_es = 1.0 / es;
    }

    /// Power after the sample being worked through.
    #[inline(always)]
    fn power(&self) -> f32 {
        self.power_at[self.hpos]
    }

    /// The instruction set the kernels run on.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Is a carrier present?
    pub fn carrier_present(&self) -> bool {
        self.carrier.present
    }

    /// Set the loop bandwidths (second order, damping 0.707).
    pub fn set_loops(&mut self, l: Loops) {
        // Discrete PI loop: Kp = 4ζ/(ζ+1/4ζ)·BT, Ki = 4/(ζ+1/4ζ)²·(BT)², per symbol.
        let zeta = std::f64::consts::FRAC_1_SQRT_2;
        let k = zeta + 1.0 / (4.0 * zeta);
        let bt = l.carrier_hz as f64 / BAUD;
        self.p_kp = (4.0 * zeta / k * bt) as f32;
        self.p_ki = (4.0 / (k * k) * bt * bt) as f32;
        let bt = l.timing_hz as f64 / BAUD;
        self.t_kp = 4.0 * zeta / k * bt / MM_GAIN;
        self.t_ki = 4.0 / (k * k) * bt * bt / MM_GAIN;
    }

    /// Keep the equaliser, AGC and carrier frequency of the training just completed.
    pub fn save(&mut self) {
        self.saved = Some(Saved {
            c_re: self.c_re,
            c_im: self.c_im,
            omega: self.omega,
            agc: self.agc,
            timing: self.t_moved - self.t_integ * self.t_syms,
            drift: self.t_integ,
        });
    }

    /// Start the next trainings from the saved equaliser (V.17 short retrain) or from scratch.
    pub fn use_saved(&mut self, yes: bool) {
        self.use_saved = yes;
    }

    /// Whether a saved training exists.
    pub fn has_saved(&self) -> bool {
        self.saved.is_some()
    }

    /// Stop processing until the carrier goes.
    pub fn park(&mut self) {
        if self.stage != Stage::Idle {
            self.stage = Stage::Parked;
        }
    }

    /// Mean squared error over the recent symbols divided by the symbol energy: 1/SNR.
    pub fn mse_ratio(&self) -> f32 {
        self.mse / self.es
    }

    /// Restart the error average: a plain mean over the next `symbols`, then a running
    /// average with that time constant.
    pub fn reset_mse(&mut self, symbols: f32) {
        self.mse = 0.0;
        self.mse_n = 0.0;
        self.mse_len = symbols.max(1.0);
    }

    #[inline]
    fn track_mse(&mut self, e2: f32) {
        if self.mse_n < self.mse_len {
            self.mse_n += 1.0;
            self.mse_alpha = 1.0 / self.mse_n;
        }
        // (Written so that a NaN error is dropped.)
        if e2 < 100.0 * self.es {
            self.mse += (e2 - self.mse) * self.mse_alpha;
        } else if !e2.is_nan() {
            self.mse += (100.0 * self.es - self.mse) * self.mse_alpha;
        }
    }

    /// Level of the received signal, dBm0: of the last training and data while they last
    /// (so that it still holds after the carrier went), else of whatever comes in.
    pub fn level_dbm0(&self) -> f32 {
        let p = if self.level_power <= 0.0 {
            self.power()
        } else if self.live() || self.snap_count < 256 {
            self.level_power
        } else {
            self.snap[0].1
        };
        crate::modem::rms_to_dbm0(p.sqrt())
    }

    /// A trained signal is coming in.
    fn live(&self) -> bool {
        self.stage == Stage::Track && self.power() >= 0.5 * self.ref_power
    }

    /// Estimated SNR at the decision point, dB: of the recent symbols while a trained signal
    /// comes in, else as it was a while before the signal went (not counting its tail).
    pub fn snr_db(&self) -> f32 {
        let r = if self.live() || self.snap_count < 256 {
            self.mse_ratio()
        } else {
            self.snap[0].0 / self.es
        };
        if r.is_finite() && r > 0.0 {
            (-10.0 * r.log10()).min(99.0)
        } else {
            99.0
        }
    }

    /// Carrier frequency offset tracked, Hz.
    pub fn carrier_offset_hz(&self) -> f32 {
        self.omega * BAUD as f32 / TAU
    }

    /// Symbol clock offset tracked, ppm (positive: the far end's clock is fast).
    pub fn timing_offset_ppm(&self) -> f32 {
        (-self.t_integ / SAMPLES_PER_SYMBOL * 1e6) as f32
    }

    /// All of the above, as the modems report it.
    pub fn quality(&self) -> RxQuality {
        RxQuality {
            level_dbm0: self.level_dbm0(),
            snr_db: self.snr_db(),
            carrier_offset_hz: self.carrier_offset_hz(),
            timing_offset_ppm: self.timing_offset_ppm(),
        }
    }

    fn start(&mut self) {
        self.stage = Stage::Acquire;
        self.since_up = 0;
        self.acq_n = 0;
        self.restart_acquisition();
        // The ring already holds the recent past: the first output can come at once.
        self.rel = clock(0.5 - FE_HALF as f64);
        self.on_time = true;
        self.agc = 1.0;
        self.t_integ = 0.0;
        self.theta = 0;
        self.omega = 0.0;
        self.rot = Complex32::new(1.0, 0.0);
        self.reset_mse(64.0);
        self.ref_power = 0.0;
        self.level_power = 0.0;
        self.snap_count = 0;
        self.reset_equaliser();
        self.set_loops(Loops {
            carrier_hz: 0.0,
            timing_hz: 0.0,
        });
    }

    fn restart_acquisition(&mut self) {
        self.acq_n = 0;
        self.acq_sum = Complex32::default();
        self.acq_plus = Complex32::default();
        self.acq_minus = Complex32::default();
        self.acq_pow = 0.0;
    }

    fn reset_equaliser(&mut self) {
        self.eq_re = [0.0; 2 * EQ_RING];
        self.eq_im = [0.0; 2 * EQ_RING];
        self.energy = 0.0;
        self.c_re = [0.0; EQ_LEN];
        self.c_im = [0.0; EQ_LEN];
        self.c_re[EQ_MAIN] = 1.0;
    }

    /// Process one input sample ([`RxCore::run`] on one sample).
    #[inline]
    pub fn push(&mut self, x: i16) -> Tick {
        self.run(&[x]).1
    }

    /// Work through `xs` until a sample leads to something: returns how many samples were
    /// taken and what the last of them led to ([`Tick::Nothing`] when all were taken).
    /// The same as [`RxCore::push`] sample by sample, bit for bit, in two passes: the
    /// front end (DC blocker, power meter, carrier detect, input history) runs over up to
    /// [`FRONT_MAX`] samples at once, stopping at a carrier change, then the T/2 output
    /// instants among them are worked through (counted down in whole samples).
    ///
    /// The front end may have run ahead of the last sample taken: the next call must go
    /// on with the samples after those taken (`&xs[n..]`), or [`RxCore::rewind`] first.
    #[inline(always)]
    pub fn run(&mut self, xs: &[i16]) -> (usize, Tick) {
        let mut i = 0;
        loop {
            if self.hpos == self.fpos {
                if i == xs.len() {
                    return (i, Tick::Nothing);
                }
                let n = (xs.len() - i).min(FRONT_MAX);
                self.front(&xs[i..i + n]);
            }
            let ahead = self.hpos - self.fpos;
            // Samples that may be worked through before the carrier change, if any.
            let free = ahead - self.crossing as usize;
            if !matches!(self.stage, Stage::Idle | Stage::Parked) {
                let (due, rel) = self.due();
                if due <= free {
                    self.advance(due);
                    i += due;
                    self.rel = rel;
                    let t = self.outputs();
                    if !matches!(t, Tick::Nothing) {
                        return (i, t);
                    }
                    continue;
                }
                // (The clock as the per-sample count leaves it: 1 taken per sample.)
                self.rel -= free as i64 * CLOCK_ONE;
            }
            self.advance(free);
            i += free;
            if self.crossing {
                // The carrier came or went on this sample (nothing else happens on it).
                self.advance(1);
                i += 1;
                self.crossing = false;
                return if self.carrier.update(self.power()) == Some(true) {
                    self.start();
                    (i, Tick::CarrierUp)
                } else {
                    self.stage = Stage::Idle;
                    (i, Tick::CarrierDown)
                };
            }
        }
    }

    /// Forget what the front end ran ahead over (the next samples given may be others:
    /// a slip trial's).
    pub fn rewind(&mut self) {
        if self.fpos != self.hpos {
            self.fpos = self.hpos;
            self.fe = FrontState {
                x: self.input[self.hpos],
                hp: self.hp_at[self.hpos],
                power: self.power_at[self.hpos],
            };
            self.crossing = false;
            self.spec[0].0 = usize::MAX;
            self.spec[1].0 = usize::MAX;
        }
    }

    /// Take `n` samples of those the front end ran ahead over.
    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.hpos -= n;
    }

    /// Samples until the next T/2 output instant (≥ 1), and the clock then: the first n
    /// with rel − n (one taken at a time, as [`RxCore::push`] did) below the threshold.
    #[inline(always)]
    fn due(&self) -> (usize, i64) {
        due_from(self.rel)
    }

    /// The front end over `xs` (at most [`FRONT_MAX`] samples, none ahead yet): clip
    /// extension, DC blocker, power meter, input history, carrier detect. Stops after the
    /// first sample at which the carrier comes or goes (`crossing`).
    #[inline(always)]
    fn front(&mut self, xs: &[i16]) {
        if self.fpos < xs.len() {
            // Slide the window's history to the top of the buffer.
            let (from, to) = (self.fpos, HIST - FE_LEN + 1);
            self.input.copy_within(from..from + FE_LEN - 1, to);
            self.hp_at[to] = self.hp_at[from];
            self.power_at[to] = self.power_at[from];
            // The samples move up by to − from places: so do their oscillator entries.
            self.osc_base = (self.osc_base + (to - from)) % OSC_PERIOD;
            self.fpos = to;
            self.hpos = to;
            self.spec[0].0 = usize::MAX;
            self.spec[1].0 = usize::MAX;
        }
        // The carrier detector's live threshold: off below `lo` while present (`hi` is
        // infinite then), on above `hi` while not (`lo` is minus infinity).
        let (lo, hi) = self.carrier.bounds();
        // The history newest first: sample i of xs goes to fpos − 1 − i.
        let span = self.fpos - xs.len()..self.fpos;
        let out = FrontOut {
            x: &mut self.input[span.clone()],
            hp: &mut self.hp_at[span.clone()],
            power: &mut self.power_at[span],
        };
        let taken = self.isa.front_block(&mut self.fe, xs, out, (lo, hi));
        self.crossing = taken < xs.len() || {
            let p = self.fe.power;
            p < lo || p > hi
        };
        self.fpos -= taken;
    }

    /// The T/2 outputs due now (usually one).
    #[inline(always)]
    fn outputs(&mut self) -> Tick {
        let mut tick = Tick::Nothing;
        while self.rel < CLOCK_DUE {
            let q = phase_of(self.rel);
            let [a, b] = self.spec;
            // (Taken from the outputs worked out ahead, y depends on the clock only through
            // these branches: the oscillator's entry was looked up there.)
            let y = if a.0 == self.hpos && a.1 == q {
                a.2
            } else if b.0 == self.hpos && b.1 == q {
                b.2
            } else {
                self.front_output(self.hpos, q)
            } * self.agc;
            self.rel += CLOCK_HALF_SYMBOL;
            let on = self.on_time;
            self.on_time = !on;
            let t = self.half_symbol(y, on);
            if t != Tick::Nothing {
                tick = t;
            }
        }
        if matches!(tick, Tick::Symbol(_)) {
            self.speculate();
        }
        tick
    }

    /// The front end's output at baseband for the input window whose newest sample is at
    /// `pos`, phase `q`: its two dot products, turned by the oscillator's entry there.
    #[inline(always)]
    fn front_output(&self, pos: usize, q: usize) -> Complex32 {
        let x = window::<FE_LEN>(&self.input, pos);
        let (sr, si) = self.isa.dot2_fixed(x, &self.bank.re[q], &self.bank.im[q]);
        Complex32::new(sr, si) * self.bank.osc[self.osc_base + HIST - pos]
    }

    /// Work out the front end's next two outputs now, on the clock as it stands, where
    /// the front end has run far enough ahead. The clock moves only when a symbol's error
    /// comes back ([`RxCore::adapt`]), and then rarely to another phase or sample; made
    /// before the symbol goes to the modem, these dot products are off the path from its
    /// decision back to the next symbol (the loops' path), and [`RxCore::outputs`] takes
    /// them when the position and phase still match — the same numbers, bit for bit.
    #[inline(always)]
    fn speculate(&mut self) {
        let free = self.hpos - self.fpos - self.crossing as usize;
        let mut r = self.rel;
        let mut taken = 0;
        for k in 0..2 {
            self.spec[k].0 = usize::MAX;
            if r < CLOCK_DUE {
                // (Two outputs on one sample: rare, not worked ahead.)
                return;
            }
            let (n, at) = due_from(r);
            taken += n;
            if taken > free {
                return;
            }
            let (pos, q) = (self.hpos - taken, phase_of(at));
            self.spec[k] = (pos, q, self.front_output(pos, q));
            r = at + CLOCK_HALF_SYMBOL;
        }
    }

    /// One T/2 sample of the matched-filter output.
    #[inline(always)]
    fn half_symbol(&mut self, y: Complex32, on: bool) -> Tick {
        match self.stage {
            Stage::Acquire => self.acquire(y),
            Stage::Search | Stage::Track => {
                self.eq_push(y, on);
                if !on {
                    return Tick::Nothing;
                }
                let z = self.equalise();
                self.t_syms += 1.0;
                if self.stage == Stage::Track {
                    Tick::Symbol(z)
                } else {
                    self.search(z)
                }
            }
            Stage::Idle | Stage::Parked => Tick::Nothing,
        }
    }

    /// The T/2 sample `y` into the equaliser's delay line; at a symbol instant (`on`) the
    /// taps' window energy moves on by the two samples in and the two out since the last
    /// (no one reads it in between).
    #[inline(always)]
    fn eq_push(&mut self, y: Complex32, on: bool) {
        // (One place, in a local below the ring's length: the stores need no bounds checks
        // and do not make the compiler read the place back from memory after each.)
        let e = if self.epos == 0 {
            EQ_RING - 1
        } else {
            (self.epos - 1).min(EQ_RING - 1)
        };
        self.epos = e;
        let (re_lo, re_hi) = self.eq_re.split_at_mut(EQ_RING);
        let (im_lo, im_hi) = self.eq_im.split_at_mut(EQ_RING);
        re_lo[e] = y.re;
        re_hi[e] = y.re;
        im_lo[e] = y.im;
        im_hi[e] = y.im;
        if !on {
            return;
        }
        // The samples that left the taps' window (e + EQ_LEN + 1 < 2·EQ_RING), and the one
        // before y (e + 1 ≤ EQ_RING: its mirror when e is the ring's last place).
        let norm = |i: usize| self.eq_re[i] * self.eq_re[i] + self.eq_im[i] * self.eq_im[i];
        let energy = self.energy
            + ((y.norm_sqr() + norm(e + 1)) - (norm(e + EQ_LEN) + norm(e + EQ_LEN + 1)));
        self.energy = energy;
        self.renorm += 1;
        #[allow(clippy::neg_cmp_op_on_partial_ord)] // one compare, NaN included
        if self.renorm >= 2048 || !(energy >= 0.0) {
            self.renorm = 0;
            let w = e..e + EQ_LEN;
            self.energy = self.eq_re[w.clone()]
                .iter()
                .chain(&self.eq_im[w])
                .map(|v| v * v)
                .sum();
        }
    }

    #[inline(always)]
    fn equalise(&mut self) -> Complex32 {
        let yr = window::<EQ_LEN>(&self.eq_re, self.epos);
        let yi = window::<EQ_LEN>(&self.eq_im, self.epos);
        let z = self.isa.cdot_split_fixed(&self.c_re, &self.c_im, yr, yi);
        self.rot = cis(self.sine, self.theta);
        self.rot_pos = (self.rot_pos + 1) & (ROTS - 1);
        self.rots[self.rot_pos] = self.rot;
        if self.stage == Stage::Track {
            // The carrier moves on by the tracked frequency whether or not this symbol's
            // error comes back (a modem may hold its loops for a few symbols).
            self.theta = self
                .theta
                .wrapping_add((self.omega * RAD_TO_U32) as i32 as u32);
        }
        z * self.rot.conj()
    }

    /// Adapt to the symbol `z` just returned, whose right value was `target`: carrier PLL,
    /// symbol timing, equaliser (normalised LMS step `mu`, 0 to hold), error statistics.
    #[inline(always)]
    pub fn adapt(&mut self, z: Complex32, target: Complex32, mu: f32) {
        self.adapt_delayed(z, target, mu, 0);
    }

    /// [`RxCore::adapt`] for the symbol returned `delay` ≤ [`MAX_DELAY`] symbols ago (its
    /// value decided late, e.g. by a trellis decoder): the loops take the error then, the
    /// equaliser the samples it had then.
    #[inline(always)]
    pub fn adapt_delayed(&mut self, z: Complex32, target: Complex32, mu: f32, delay: usize) {
        let delay = delay.min(MAX_DELAY);
        if self.power() < 0.1 * self.ref_power {
            // The signal is going (10 dB down): hold everything as it is.
            return;
        }
        self.level_power += (self.power() - self.level_power) * (1.0 / 256.0);
        self.snap_count += 1;
        if self.snap_count.is_multiple_of(128) {
            self.snap = [self.snap[1], (self.mse, self.level_power)];
        }
        let err = target - z;
        let pe = ((z.im * target.re - z.re * target.im) * self.inv_es).clamp(-1.0, 1.0);
        let omega = (self.omega + self.p_ki * pe).clamp(-0.1, 0.1);
        // (The carrier already moved on by the old frequency when the symbol was made.)
        let step = omega - self.omega + self.p_kp * pe;
        self.omega = omega;
        self.theta = self.theta.wrapping_add((step * RAD_TO_U32) as i32 as u32);
        // Symbol timing: Mueller–Müller, Re{d*[k−1]·z[k] − d*[k]·z[k−1]}, zero at the right
        // instant on a Nyquist channel whatever the data; negative when sampling late.
        let e = ((self.d_prev.conj() * z).re - (target.conj() * self.z_prev).re) * self.inv_es;
        self.z_prev = z;
        self.d_prev = target;
        // Bound the error so that a burst of garbage cannot throw the clock far.
        let e = e.clamp(-2.0, 2.0) as f64;
        self.t_integ = (self.t_integ + self.t_ki * e).clamp(-0.01, 0.01);
        let step = (self.t_kp * e + self.t_integ).clamp(-0.2, 0.2);
        self.rel += clock(step);
        self.t_moved += step;
        self.track_mse(err.norm_sqr());
        if mu > 0.0 {
            let g = mu / (self.energy + 1e-3 * self.es);
            let rot = self.rots[self.rot_pos.wrapping_sub(delay) & (ROTS - 1)];
            let ee = err * rot * g;
            let yr = window::<EQ_LEN>(&self.eq_re, self.epos + 2 * delay);
            let yi = window::<EQ_LEN>(&self.eq_im, self.epos + 2 * delay);
            self.isa
                .lms_split_fixed(&mut self.c_re, &mut self.c_im, ee, yr, yi);
        }
    }

    /// Update only the error statistics (symbols whose target is unknown).
    pub fn observe(&mut self, z: Complex32, target: Complex32) {
        self.track_mse((target - z).norm_sqr());
    }
}

#[cfg(test)]
mod chain_tests {
    use super::super::{ReferenceShaper as Shaper, TX_SPAN};
    use super::*;

    /// Shaper output for `syms`, and the sample index at which symbol 0's pulse peaks.
    fn shaped(syms: &[Complex32]) -> (Vec<f32>, f64) {
        let mut s = Shaper::new(1700.0, -13.0, 13.5);
        let mut out = Vec::new();
        let mut it = syms.iter();
        let mut first = None;
        for n in 0..(syms.len() as f64 * SAMPLES_PER_SYMBOL) as usize + 60 {
            if s.symbol_due() {
                if first.is_none() {
                    first = Some(n);
                }
                s.push(it.next().copied().unwrap_or_default());
            }
            out.push(s.sample() as f32);
        }
        // Symbol 0 entered at sample `first` with phase 0; its pulse peaks TX_SPAN/2 later.
        (
            out,
            first.unwrap() as f64 + TX_SPAN as f64 / 2.0 * SAMPLES_PER_SYMBOL,
        )
    }

    /// Baseband front-end output at time t (samples), by the bank.
    fn fe(x: &[f32], t: f64) -> Complex32 {
        let bank = &*RX_BANK_1700;
        let n0 = t.floor();
        let mu = t - n0;
        let q = ((mu * FE_PHASES as f64) as usize).min(FE_PHASES - 1);
        let newest = n0 as i64 + FE_HALF as i64;
        let (mut sr, mut si) = (0f32, 0f32);
        for a in 0..FE_LEN {
            let k = newest - a as i64;
            let v = if k >= 0 && (k as usize) < x.len() {
                x[k as usize]
            } else {
                0.0
            };
            sr += v * bank.re[q][a];
            si += v * bank.im[q][a];
        }
        let w = std::f64::consts::TAU * 1700.0 / 8000.0;
        let ph = -(w * newest as f64);
        let (s, c) = ph.sin_cos();
        Complex32::new(sr, si) * Complex32::new(c as f32, s as f32)
    }

    #[test]
    fn chain_is_nyquist_at_the_right_time() {
        let mut seed = 3u32;
        let syms: Vec<Complex32> = (0..400)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                Complex32::new(
                    if seed & 0x10000 != 0 { 3.0 } else { -3.0 },
                    if seed & 0x20000 != 0 { 3.0 } else { -3.0 },
                )
            })
            .collect();
        let (x, peak0) = shaped(&syms);
        let mut best = (0.0, f32::INFINITY);
        for off in -10..=10 {
            let dt = off as f64 * 0.05;
            // Least-squares gain between received and sent over symbols 50..350.
            let (mut num, mut den) = (Complex32::default(), 0f32);
            let ys: Vec<Complex32> = (50..350)
                .map(|k| fe(&x, peak0 + k as f64 * SAMPLES_PER_SYMBOL + dt))
                .collect();
            for (y, s) in ys.iter().zip(&syms[50..350]) {
                num += y * s.conj();
                den += s.norm_sqr();
            }
            let g = num / den;
            let err: f32 = ys
                .iter()
                .zip(&syms[50..350])
                .map(|(y, s)| (y - g * s).norm_sqr())
                .sum::<f32>()
                / (g.norm_sqr() * den);
            eprintln!("offset {dt:+.2} samples: SNR {:.1} dB", -10.0 * err.log10());
            if err < best.1 {
                best = (dt, err);
            }
        }
        assert!(best.0.abs() < 0.11 && best.1 < 1e-3, "{best:?}");
    }

    #[test]
    fn timing_detector_s_curve() {
        // Mueller–Müller on random 16-QAM through the RRC chain: zero on time, slope MM_GAIN.
        let mut seed = 11u32;
        let syms: Vec<Complex32> = (0..3000)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let l = |b: u32| [-3.0, -1.0, 1.0, 3.0][(b & 3) as usize];
                Complex32::new(l(seed >> 16), l(seed >> 18))
            })
            .collect();
        let (x, peak0) = shaped(&syms);
        let g = {
            let (mut num, mut den) = (0f32, 0f32);
            for (k, s) in syms.iter().enumerate().take(2900).skip(50) {
                let y = fe(&x, peak0 + k as f64 * SAMPLES_PER_SYMBOL);
                num += (y * s.conj()).re;
                den += s.norm_sqr();
            }
            num / den
        };
        let mean = |off: f64| -> f64 {
            let n = 2800;
            let mut acc = 0f64;
            for k in 60..60 + n {
                let t = peak0 + k as f64 * SAMPLES_PER_SYMBOL + off;
                let y = fe(&x, t) / g;
                let yp = fe(&x, t - SAMPLES_PER_SYMBOL) / g;
                acc += (((syms[k - 1].conj() * y).re - (syms[k].conj() * yp).re) / 10.0) as f64;
            }
            acc / n as f64
        };
        assert!(mean(0.0).abs() < 0.01, "{}", mean(0.0));
        let slope = (mean(-0.1) - mean(0.1)) / 0.2;
        assert!((slope / MM_GAIN - 1.0).abs() < 0.15, "slope {slope}");
    }

    #[test]
    fn acquisition_lands_on_the_symbol_centres() {
        // ABAB, then random C/D: with the equaliser left as it starts (main tap only), the
        // symbols after the reversal are as clean as the timing is right (40 dB on time,
        // 27 dB a tenth of a sample off).
        let a = Complex32::new(-3.0, 0.0);
        let b = Complex32::new(3.0, -3.0);
        let mut seed = 5u32;
        let mut syms: Vec<Complex32> = (0..128).map(|k| if k % 2 == 0 { a } else { b }).collect();
        syms.extend([-a, -b]);
        syms.extend((0..300).map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if seed & 0x10000 != 0 { -a } else { -b }
        }));
        for lead in [0usize, 1, 2, 5] {
            let (x, _) = shaped(&syms);
            let mut core = RxCore::new(1700.0, TrainingPoints { a, b, c: -a, d: -b }, 13.5);
            let mut line = vec![0f32; 800 + lead];
            line.extend(&x);
            let mut k = None;
            for &v in &line {
                match core.push(v as i16) {
                    Tick::Reversal => k = Some(130),
                    Tick::Symbol(z) => {
                        let n = k.unwrap();
                        if n == 160 {
                            core.reset_mse(100.0);
                        }
                        if n < syms.len() {
                            core.adapt(z, syms[n], 0.0);
                        }
                        k = Some(n + 1);
                    }
                    _ => {}
                }
            }
            assert!(k.unwrap() > 300, "lead {lead}: {k:?}");
            let snr = core.snr_db();
            assert!(snr > 33.0, "lead {lead}: {snr} dB");
        }
    }
}
