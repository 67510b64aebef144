//! The V.27ter receiver (V.27ter §§2–7); how it works is told on [`V27terRx`]. The matched
//! filter is in [`filter`], finding and following the training in [`training`].

use num_complex::Complex32;

use super::{
    POINTS, SEG4_SHORT, SEG5, STEP_DIBIT, STEP_TRIBIT, Scrambler27, TRAININGS, Training, V27terRate,
};
use crate::modem::common::{TURN, cos_u32, sin_u32};
use crate::modem::{Receiver, RxEvent, RxQuality, RxSink};

mod filter;
mod training;

use filter::{Bank, CARRIER_PERIOD, DEMOD, DEMOD_BACK, DEMOD_LEN, PHASES, bank_for};

/// Input history (power of two), ≥ a chunk of input + filter taps + the deepest look-back:
/// a chunk is written in one pass, then its T/2 instants are worked through.
const RING: usize = 256;
/// Input samples written per pass.
const CHUNK: usize = RING - 64;
const _: () = assert!(CHUNK + 48 + 16 <= RING);
/// Sample times are fixed point with this many fractional bits.
const FRAC_BITS: u32 = 20;
const ONE: i32 = 1 << FRAC_BITS;
/// The farthest back (samples) an output instant may lie before the chunk's first sample
/// (the history keeps RING − CHUNK samples before it).
const MAX_BACK: i32 = 16 * ONE;
const _: () = assert!(
    (MAX_BACK >> FRAC_BITS) as usize <= DEMOD_BACK
        && CARRIER_PERIOD + CHUNK + DEMOD_BACK <= DEMOD_LEN
);
/// Equaliser taps, T/2 spaced (12 symbols).
const EQ_LEN: usize = 24;
/// Equaliser history (power of two ≥ EQ_LEN).
const EQ_RING: usize = 32;
/// Symbols between the newest equaliser input and its centre tap.
const EQ_DELAY: usize = 6;
const EQ_CENTRE: usize = EQ_LEN - 1 - 2 * EQ_DELAY;
/// Symbols between fresh sums of the equaliser span's power (the running sum drifts).
const EQ_RENORM: u32 = 128;
const _: () = assert!(EQ_RING >= EQ_LEN + 2);

/// Carrier detect (V.27ter §7: on above −43, off below −48 dBm0).
const CARRIER_ON_DBM0: f32 = -45.0;
const CARRIER_OFF_DBM0: f32 = -48.0;
/// The detector's power window. A 5 ms window fluctuates ±1.5 dB on noise, enough to
/// cross a 3 dB hysteresis often when noise sits near the thresholds; so it switches on
/// over the long window, or over the short one only when segment 3's reversals are seen
/// (a short train cannot wait), and off over the long one.
const POWER_WINDOW_MS: f32 = 10.0;
/// After a carrier that brought no training (noise near the threshold, most likely), the
/// long-window threshold is this much higher (still under −43 dBm0) …
const RAISED_DB: f32 = 1.5;
/// … for this long.
const RAISED_MS: u32 = 200;
/// Power history, one entry a symbol (power of two > the window in symbols).
const PW_RING: usize = 32;

/// Reversals are recognised when the mean of the normalised reversal phasors reaches this …
const REVERSAL_RATIO: f32 = 0.6;
/// … for this many symbols in a row …
const REVERSAL_SYMBOLS: u32 = 2;
/// … over this many symbols.
const REVERSAL_WINDOW: usize = 6;
/// A carrier that goes after this long without a training is reported as a failed one
/// (shorter ones may be the echo protection tone, 185–267 ms, or a glitch).
const REPORT_MS: u32 = 300;
/// Carrier detect changes state after this many symbols on the other side of its
/// threshold: on after 2 (1.3–1.7 ms), off after 6 (3.8–5 ms), so that noise near the
/// threshold does not flicker (V.27ter §7 allows 5–15 ms for the detector's response).
const DEBOUNCE_ON: u32 = 2;
const DEBOUNCE_OFF: u32 = 6;
/// Symbols after timing lock by which segment 4 must have begun.
const ALIGN_SYMBOLS: u32 = 80;

/// Reversals used for the carrier offset only from this many symbols after timing lock …
const FREQ_SETTLE: u32 = 4;
/// … and trusted over the last training's offset from this many.
const FREQ_MIN: u32 = 12;
/// Carrier loop noise bandwidths B·T (ζ = 0.707): pull-in for the first PULL_IN_SYMBOLS of
/// training, the rest of training, data.
const PLL_BT_PULL_IN: f32 = 0.06;
const PLL_BT_TRAIN: f32 = 0.02;
const PLL_BT_DATA: f32 = 0.005;
const PULL_IN_SYMBOLS: i32 = 32;
/// Largest carrier offset tracked, Hz.
const MAX_OFFSET_HZ: f32 = 25.0;
/// Timing loop gains per symbol on the normalised Gardner error (±2): phase (share of T/2)
/// and rate integrator; reversals, training, data.
const TIMING_KP_REVERSALS: f32 = 0.05;
const TIMING_KP_TRAIN: f32 = 0.02;
const TIMING_KI_TRAIN: f32 = 2e-5;
const TIMING_KP_DATA: f32 = 0.006;
const TIMING_KI_DATA: f32 = 2e-6;
/// Largest sample-clock offset tracked.
const MAX_RATE_ADJ: f32 = 1e-3;
/// Normalised LMS steps: first part of training, rest of training, data.
const MU_TRAIN_FAST: f32 = 0.25;
const MU_TRAIN: f32 = 0.1;
const MU_DATA: f32 = 0.03;
/// Training symbols with the fast step.
const FAST_SYMBOLS: i32 = 200;
/// On data the equaliser adapts every this many symbols (the channel holds still; the
/// loops follow carrier and clock).
const DATA_UPDATE_EVERY: u32 = 2;
/// Tap leakage on data, per symbol, applied every 64 (keeps the out-of-band part of the
/// T/2 equaliser from wandering).
const LEAK: f32 = 1e-5;
/// Smoothing of the decision error power.
const MSE_ALPHA_TRAIN: f32 = 1.0 / 16.0;
const MSE_ALPHA_DATA: f32 = 1.0 / 128.0;
/// Training fails when the mean squared decision error (unit-radius points) is above this at
/// the end: 4800 bit/s needs the points 0.77 apart resolved, 2400 bit/s 1.41.
const MSE_MAX_4800: f32 = 0.1;
const MSE_MAX_2400: f32 = 0.25;
/// Early abort: this far into segment 4 …
const EARLY_CHECK: i32 = 48;
/// … an error this large means the alignment was wrong.
const MSE_EARLY_MAX: f32 = 0.5;

/// Nearest of the eight states (45° steps).
#[inline(always)]
fn octant(z: Complex32) -> u8 {
    // Rotated by 22.5°, the decision boundaries are the axes and the diagonals.
    const R: Complex32 = Complex32::new(0.923_879_5, 0.382_683_43);
    let w = z * R;
    let q = quadrant_of(w);
    let steep = w.im.abs() > w.re.abs();
    2 * q + (steep ^ (q & 1 == 1)) as u8
}

/// Nearest of the four states on the axes (0°, 90°, 180°, 270° → 0, 2, 4, 6).
#[inline(always)]
fn axis_state(z: Complex32) -> u8 {
    const R: Complex32 = Complex32::new(
        std::f32::consts::FRAC_1_SQRT_2,
        std::f32::consts::FRAC_1_SQRT_2,
    );
    2 * quadrant_of(z * R)
}

/// 0 for [0°, 90°), 1 for [90°, 180°), …
#[inline(always)]
fn quadrant_of(w: Complex32) -> u8 {
    match (w.re >= 0.0, w.im >= 0.0) {
        (true, true) => 0,
        (false, true) => 1,
        (false, false) => 2,
        (true, false) => 3,
    }
}

/// Gains (proportional, integral) of a second-order loop with noise bandwidth `bt` (×
/// update period) and damping 0.707, for a unit-gain detector.
fn loop_gains(bt: f32) -> (f32, f32) {
    let zeta = std::f32::consts::FRAC_1_SQRT_2;
    let theta = bt / (zeta + 0.25 / zeta);
    let d = 1.0 + 2.0 * zeta * theta + theta * theta;
    (4.0 * zeta * theta / d, 4.0 * theta * theta / d)
}

/// Samples → fixed point (saturating; NaN → 0).
#[inline(always)]
fn to_fixed(samples: f32) -> i32 {
    (samples * ONE as f32) as i32
}

/// Radians → u32 phase units.
const RAD: f32 = (TURN / std::f64::consts::TAU) as f32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// No carrier.
    Idle,
    /// Carrier: looking for segment 3's reversals.
    Search,
    /// Symbol timing set from the reversals; estimating the carrier and waiting for the
    /// first symbol of segment 4.
    Align,
    /// Segments 4 and 5: the equaliser and the loops learn from the known symbols.
    Train,
    Data,
}

/// The V.27ter receiver.
///
/// How it works:
/// - **Matched filter and baseband.** Each input sample goes into a short history; nothing
///   else runs per input sample. At each T/2 instant (2.5 or 3⅓ samples apart, placed by the
///   timing loop to 1/64 sample) one row of a 65-row polyphase bank gives the output of the
///   root-raised-cosine matched filter (rolloff 0.5, Kaiser β = 3; 32 taps = 6.4 symbols at
///   4800 bit/s, 48 taps = 7.2 symbols at 2400) with the carrier folded into its complex
///   coefficients: filtering, the analytic signal and the fractional delay in two real dot
///   products. 1800/8000 = 9/40, so the mix to baseband is a 40-entry table, and the
///   carrier phase of the fractional instant cancels out of it.
/// - **Carrier detect** on the power of that output — in band only, so DC, hum or
///   out-of-band noise is no carrier — summed over each symbol's two T/2 samples and
///   judged once a symbol, scaled to line dBm0 for V.27ter's own spectrum:
///   on above −45 dBm0 over 10 ms (over 5 ms, and corrected for their band-edge spectrum,
///   when segment 3's reversals are seen, so a short train loses no time), off below
///   −48 dBm0 over 10 ms, each after a short debounce. A carrier that brought no training
///   raises the on-threshold by 1.5 dB for 200 ms, so noise sitting near the thresholds
///   makes it come and go less often.
/// - **Finding the training (segment 3).** On reversals the baseband is A·cos(π(t − τ)/T),
///   so each symbol's three T/2 samples x₀, x₁, x₂ give A²·e^{j2πτ/T} as
///   (|x₀|² − |x₁|²) + j(Re x₀x₁* − Re x₁x₂*). Normalised by A² and summed over 6 symbols
///   this is 6·e^{j2πτ/T} on reversals and much shorter on data, tones or noise; at ≥ 60 %
///   for 2 symbols the sampling grid jumps by τ, straight onto the symbol centres. Then
///   (Gardner on, fast) symbol-to-symbol products give the carrier offset (their mean angle
///   less 180°) and the level (the AGC: unit radius, then frozen). The first symbol that
///   does *not* reverse, at the reversals' level, is the first of segment 4 (its scrambler
///   bit is 0): that fixes the symbol count of the training.
/// - **Equaliser.** 24 complex taps at T/2 (12 symbols, centre 6 symbols back), normalised
///   LMS. It starts from the taps of the last good training (what a short train relies
///   on) or a single centre tap. The carrier is removed *after* it by a rotator, so the
///   carrier loop has no equaliser delay inside it; the error is rotated back for the
///   update. It trains on the known symbols of segments 4 and 5 — the receiver runs the
///   transmitter's scrambler from its seed — with μ = 0.25 for 200 symbols then 0.1; on
///   data it is decision directed, μ = 0.03 every second symbol, with a slight leak.
/// - **Long or short.** Both forms start alike; after 58 symbols of segment 4 the next 8
///   either keep to 0°/180° (long) or are the short form's segment 5. Both are scored over
///   those 8 symbols (decision directed meanwhile) and the closer one is followed.
/// - **Carrier loop.** Second order, on Im(z·t*) against the training symbol or the
///   decision; noise bandwidth 0.06 × baud for the first 32 training symbols (pull-in from
///   the reversals' estimate, or from the last training's offset for a short train), 0.02
///   for the rest of the training, 0.005 on data. Tracks ±25 Hz.
/// - **Timing loop.** Gardner on the equaliser's input (T/2 samples), second order: a share
///   of the error moves the next instant (5 % per symbol on reversals, 2 % training, 0.6 %
///   data) and an integrator trims the T/2 step, which follows a sample clock off by up to
///   ±1000 ppm with no lag and gives the offset. Each symbol's correction is applied at the
///   next symbol's update, so that placing the next instants does not wait on this
///   symbol's samples (the receiver's critical path otherwise).
/// - **Training verdict.** The decision error power at the end of segment 5 must be under
///   0.1 (4800: 10 dB) or 0.25 (2400: 6 dB); 48 symbols into segment 4 anything over 0.5
///   (a wrong alignment) ends it early. A failed training is reported and the receiver
///   looks for the next one; loss of carrier ends the training or the data anywhere.
/// - **Data.** Nearest point → phase change from the previous one → bits (Tables 1 and 2)
///   → descrambler, which starts in the state the training leaves the transmitter's, so the
///   first data bit is the first bit out.
/// - **Events.** CarrierUp/CarrierDown from the detector; TrainingSucceeded before the
///   first data bit; TrainingFailed when a training that began fails, or when a carrier of
///   300 ms or more goes without one (shorter: the echo tone, or a glitch).
/// - **Safety.** Every division has a floor, loops and steps are clamped, and a non-finite
///   equaliser output resets the equaliser; any input, silence to full-scale square
///   waves, gives finite quality figures.
#[derive(Debug, Clone)]
pub struct V27terRx {
    /// Equaliser outputs kept for a constellation plot, when asked.
    captured: crate::modem::SymbolTap,
    rate: V27terRate,
    /// The instruction set the filter and equaliser kernels run on.
    isa: crate::simd::Isa,
    bank: &'static Bank,
    trainings: &'static [Training; 2],
    ring: [f32; 2 * RING],
    /// Where the next sample goes, and its index modulo the carrier's period
    /// (1800/8000 = 9/40).
    pos: usize,
    n40: usize,
    demod: &'static [Complex32; DEMOD_LEN],
    /// The next T/2 instant, samples (fixed point) after the sample that goes in next
    /// (while a chunk is worked: after the chunk's first sample).
    next_at: i32,
    /// Nominal T/2, samples.
    half_t: f32,
    /// Timing loop integrator: the T/2 step is half_t·(1 + rate_adj) …
    rate_adj: f32,
    /// … this, in fixed point.
    step: i32,
    /// The timing loop's last correction and T/2 step, applied one symbol late (at the
    /// next symbol's update): the placement of the next two T/2 instants then does not wait
    /// for this symbol's samples, which took the loop off the receiver's critical path
    /// (the delay is nothing to a loop this slow).
    timing_pending: (i32, i32),
    /// The next T/2 sample is a symbol centre.
    next_is_centre: bool,
    /// |matched filter output|² history, summed over each symbol's two T/2 samples.
    pw: [f32; PW_RING],
    /// |matched filter output|² at the last T/2 instant between symbol centres.
    pw_mid: f32,
    pw_pos: usize,
    /// Window lengths (symbols) and the sums over them.
    pw_len: usize,
    pw_len_short: usize,
    pw_long: f32,
    pw_short: f32,
    /// Window sums → line power for V.27ter data (16-bit units, mean square).
    pw_scale_long: f32,
    pw_scale_short: f32,
    /// Thresholds, line power.
    carrier_on: f32,
    carrier_on_raised: f32,
    carrier_off: f32,
    /// Symbols left with the raised threshold.
    raised: u32,
    /// The matched filter reads reversals low (their power sits at its −3 dB points): this
    /// corrects the reading while the reversal detector sees them.
    reversal_boost: f32,
    /// reversal_boost while reversals are seen, else 1.
    boost: f32,
    pw_renorm: u32,
    /// Carrier: the thresholds' verdict, and the debounced state reported.
    carrier_raw: bool,
    carrier_present: bool,
    debounce: u32,
    /// A training succeeded or failed since the carrier came.
    reported: bool,
    /// AGC gain applied at baseband.
    gain: f32,
    eq_re: [f32; 2 * EQ_RING],
    eq_im: [f32; 2 * EQ_RING],
    eq_pos: usize,
    /// Σ|r|² over the equaliser span.
    eq_power: f32,
    eq_renorm: u32,
    c_re: [f32; EQ_LEN],
    c_im: [f32; EQ_LEN],
    saved_re: [f32; EQ_LEN],
    saved_im: [f32; EQ_LEN],
    have_saved: bool,
    // Reversal detector.
    /// The last REVERSAL_WINDOW symbols' normalised reversal phasors (e^{j2πτ/T} each on
    /// reversals).
    rev: [Complex32; REVERSAL_WINDOW],
    rev_pos: usize,
    /// Σ rev: REVERSAL_WINDOW·e^{j2πτ/T} on reversals (τ: where the symbol centres lie
    /// after the current ones), much shorter otherwise.
    rev_sum: Complex32,
    stage: Stage,
    /// Symbols since the carrier came.
    since_up: u32,
    /// Symbols since timing lock (Align).
    count: u32,
    /// Symbols in a row with reversals seen.
    streak: u32,
    /// The previous symbol-centre sample (Align).
    prev_d: Complex32,
    /// Σ of −dₙ·dₙ₋₁* over settled reversals (angle: carrier advance per symbol), and how many.
    freq_acc: Complex32,
    freq_n: u32,
    /// The carrier offset of the last good training (for a short train after it).
    saved_omega: f32,
    /// Reversals seen since timing lock, and their mean |d|².
    reversals: u32,
    amp2: f32,
    // Training.
    /// Index of the symbol at the equaliser's output: 0 = first of segment 4.
    j: i32,
    /// Long or short form, once told apart.
    long: Option<bool>,
    err_long: f32,
    err_short: f32,
    // Carrier loop: phase of the rotator (u32 turn), offset (radians per symbol), limit.
    theta: u32,
    omega: f32,
    max_omega: f32,
    /// Carrier and timing loop gains (proportional, integral), LMS step.
    pll: (f32, f32),
    timing: (f32, f32),
    mu: f32,
    /// Mean squared decision (or training) error, unit-radius points.
    mse: f32,
    // Data.
    leak_count: u32,
    last_state: u8,
    descrambler: Scrambler27,
}

impl V27terRx {
    /// A receiver for `rate`.
    pub fn new(rate: V27terRate) -> V27terRx {
        let half_t = (rate.samples_per_symbol() / 2.0) as f32;
        // Window lengths in symbols; the sums are over twice as many T/2 samples.
        let pw_len = (POWER_WINDOW_MS * 1e-3 * rate.baud() as f32).round() as usize;
        let pw_len = pw_len.min(PW_RING - 1);
        let mut rx = V27terRx {
            captured: crate::modem::SymbolTap::default(),
            rate,
            isa: crate::simd::Isa::detect(),
            bank: bank_for(rate),
            trainings: &TRAININGS[rate.index()],
            ring: [0.0; 2 * RING],
            pos: 0,
            n40: 0,
            demod: &DEMOD,
            next_at: to_fixed(half_t) - ONE,
            half_t,
            rate_adj: 0.0,
            step: to_fixed(half_t),
            timing_pending: (0, to_fixed(half_t)),
            next_is_centre: true,
            pw: [0.0; PW_RING],
            pw_mid: 0.0,
            pw_pos: 0,
            pw_len,
            pw_len_short: pw_len / 2,
            pw_long: 0.0,
            pw_short: 0.0,
            pw_scale_long: 1.0 / (bank_for(rate).data_gain * (2 * pw_len) as f32),
            pw_scale_short: 1.0 / (bank_for(rate).data_gain * (2 * (pw_len / 2)) as f32),
            carrier_on: crate::modem::dbm0_to_rms(CARRIER_ON_DBM0).powi(2),
            carrier_on_raised: crate::modem::dbm0_to_rms(CARRIER_ON_DBM0 + RAISED_DB).powi(2),
            raised: 0,
            carrier_off: crate::modem::dbm0_to_rms(CARRIER_OFF_DBM0).powi(2),
            reversal_boost: bank_for(rate).data_gain / bank_for(rate).reversal_gain,
            boost: 1.0,
            pw_renorm: 0,
            carrier_raw: false,
            carrier_present: false,
            debounce: 0,
            reported: false,
            gain: 1.0,
            eq_re: [0.0; 2 * EQ_RING],
            eq_im: [0.0; 2 * EQ_RING],
            eq_pos: 0,
            eq_power: 0.0,
            eq_renorm: 0,
            c_re: [0.0; EQ_LEN],
            c_im: [0.0; EQ_LEN],
            saved_re: [0.0; EQ_LEN],
            saved_im: [0.0; EQ_LEN],
            have_saved: false,
            rev: [Complex32::default(); REVERSAL_WINDOW],
            rev_pos: 0,
            rev_sum: Complex32::default(),
            stage: Stage::Idle,
            since_up: 0,
            count: 0,
            streak: 0,
            prev_d: Complex32::default(),
            freq_acc: Complex32::default(),
            freq_n: 0,
            saved_omega: 0.0,
            reversals: 0,
            amp2: 0.0,
            j: 0,
            long: None,
            err_long: 0.0,
            err_short: 0.0,
            theta: 0,
            omega: 0.0,
            max_omega: std::f32::consts::TAU * MAX_OFFSET_HZ / rate.baud() as f32,
            pll: loop_gains(PLL_BT_TRAIN),
            timing: (TIMING_KP_TRAIN, TIMING_KI_TRAIN),
            mu: MU_TRAIN_FAST,
            mse: 1.0,
            leak_count: 0,
            last_state: 0,
            descrambler: Scrambler27::TRAINING,
        };
        rx.c_re[EQ_CENTRE] = 1.0;
        rx
    }

    /// Forget everything, including the equaliser kept for a short train.
    pub fn reset(&mut self) {
        let captured = std::mem::take(&mut self.captured);
        *self = V27terRx::new(self.rate);
        self.captured = captured;
    }

    /// The bit rate.
    pub fn rate(&self) -> V27terRate {
        self.rate
    }

    /// Is a carrier present now?
    pub fn carrier_present(&self) -> bool {
        self.carrier_present
    }

    /// One T/2 instant: matched filter, power, baseband, and (every other time) a symbol.
    /// `newest` is the sample at or just after the instant, as a place in `ring` (mirror
    /// half), and its index into `demod`; the instant is `frac` (fixed point, < 1) before it.
    #[inline(always)]
    fn half_baud(&mut self, sink: &mut dyn RxSink, newest: (usize, usize), frac: i32) {
        let shift = FRAC_BITS - PHASES.trailing_zeros();
        let p = ((frac + (1 << (shift - 1))) >> shift) as usize;
        let end = newest.0 + 1;
        let taps = self.bank.taps;
        let (bre, bim) = self.bank.row(p);
        let x = &self.ring[end - taps..end];
        // Both rates' lengths (32 taps at 4800 bit/s, 48 at 2400) on the unrolled
        // fixed-length kernels: the same sums as the slice kernel.
        let (yr, yi) = if let (Ok(x), Ok(a), Ok(b)) = (x.try_into(), bre.try_into(), bim.try_into())
        {
            self.isa.dot2_fixed::<32>(x, a, b)
        } else if let (Ok(x), Ok(a), Ok(b)) = (x.try_into(), bre.try_into(), bim.try_into()) {
            self.isa.dot2_fixed::<48>(x, a, b)
        } else {
            self.isa.dot2_f32(x, bre, bim)
        };

        // In-band power; carrier detect once a symbol, on the power of its two T/2 samples.
        let pw = yr * yr + yi * yi;
        let centre = self.next_is_centre;
        self.next_is_centre = !centre;
        if centre {
            self.detect_carrier(self.pw_mid + pw, sink);
        } else {
            self.pw_mid = pw;
        }

        // Baseband at the exact instant, with the AGC gain.
        let lo = self.demod[newest.1] * self.gain;
        let r = Complex32::new(yr, yi) * lo;

        // Into the equaliser history.
        self.eq_pos = (self.eq_pos + 1) & (EQ_RING - 1);
        let w = self.eq_pos + EQ_RING;
        self.eq_re[self.eq_pos] = r.re;
        self.eq_re[w] = r.re;
        self.eq_im[self.eq_pos] = r.im;
        self.eq_im[w] = r.im;

        if centre {
            self.update_eq_power();
            self.symbol(r, sink);
        }
        self.next_at += self.step;
    }

    /// The carrier detector, once a symbol with `pw` the power of its two T/2 samples: the
    /// window sums, the thresholds and the debounce.
    #[inline(always)]
    fn detect_carrier(&mut self, pw: f32, sink: &mut dyn RxSink) {
        let m = PW_RING - 1;
        self.pw_short += pw - self.pw[(self.pw_pos + PW_RING - self.pw_len_short) & m];
        self.pw_long += pw - self.pw[(self.pw_pos + PW_RING - self.pw_len) & m];
        self.pw[self.pw_pos] = pw;
        self.pw_pos = (self.pw_pos + 1) & m;
        self.pw_renorm += 1;
        if self.pw_renorm >= 512 {
            self.pw_renorm = 0;
            self.recompute_power();
        }
        let long = self.pw_long * self.pw_scale_long * self.boost;
        self.carrier_raw = if self.carrier_raw {
            long > self.carrier_off
        } else {
            let short = self.pw_short * self.pw_scale_short * self.boost;
            let on = if self.raised > 0 {
                self.raised -= 1;
                self.carrier_on_raised
            } else {
                self.carrier_on
            };
            long > on || self.boost > 1.0 && short > self.carrier_on
        };
        if self.carrier_raw == self.carrier_present {
            self.debounce = 0;
        } else {
            self.debounce += 1;
            let need = if self.carrier_present {
                DEBOUNCE_OFF
            } else {
                DEBOUNCE_ON
            };
            if self.debounce >= need {
                self.debounce = 0;
                self.carrier_present = self.carrier_raw;
                if self.carrier_present {
                    sink.event(RxEvent::CarrierUp);
                    self.stage = Stage::Search;
                    self.since_up = 0;
                    self.reported = false;
                } else {
                    self.carrier_lost(sink);
                }
            }
        }
    }

    /// Σ|r|² over the equaliser span, at a symbol centre: the two samples in since the last
    /// centre in, the two gone out; worked out afresh now and then, or when asked for
    /// (`eq_renorm` set to EQ_RENORM), or when not finite.
    #[inline(always)]
    fn update_eq_power(&mut self) {
        let w = self.eq_pos + EQ_RING;
        let norm = |i: usize| self.eq_re[i] * self.eq_re[i] + self.eq_im[i] * self.eq_im[i];
        let change = norm(w) + norm(w - 1) - norm(w - EQ_LEN) - norm(w - 1 - EQ_LEN);
        self.eq_power += change;
        self.eq_renorm += 1;
        if self.eq_renorm >= EQ_RENORM || !self.eq_power.is_finite() {
            self.eq_renorm = 0;
            self.recompute_eq_power();
        }
    }

    fn recompute_power(&mut self) {
        let m = PW_RING - 1;
        let sum = |n: usize| {
            (1..=n)
                .map(|k| self.pw[(self.pw_pos + PW_RING - k) & m])
                .sum()
        };
        self.pw_short = sum(self.pw_len_short);
        self.pw_long = sum(self.pw_len);
    }

    fn recompute_eq_power(&mut self) {
        let w = self.eq_pos + EQ_RING + 1;
        let s: f32 = (w - EQ_LEN..w)
            .map(|i| self.eq_re[i] * self.eq_re[i] + self.eq_im[i] * self.eq_im[i])
            .sum();
        self.eq_power = if s.is_finite() { s } else { 0.0 };
    }

    /// The equaliser history, oldest first.
    #[inline(always)]
    fn eq_input(&self) -> (&[f32], &[f32]) {
        let w = self.eq_pos + EQ_RING + 1;
        (&self.eq_re[w - EQ_LEN..w], &self.eq_im[w - EQ_LEN..w])
    }

    #[inline(always)]
    fn equalise(&self) -> Complex32 {
        let (xr, xi) = self.eq_input();
        match (xr.try_into(), xi.try_into()) {
            (Ok(xr), Ok(xi)) => self.isa.cdot_split_fixed(&self.c_re, &self.c_im, xr, xi),
            _ => self.isa.cdot_split(&self.c_re, &self.c_im, xr, xi),
        }
    }

    /// LMS: c += μ·err·x*/Σ|x|², `err` in the equaliser's own frame.
    #[inline(always)]
    fn adapt(&mut self, err: Complex32, mu: f32) {
        let m = err * (mu / (self.eq_power + 1e-6));
        let w = self.eq_pos + EQ_RING + 1;
        let xr = &self.eq_re[w - EQ_LEN..w];
        let xi = &self.eq_im[w - EQ_LEN..w];
        match (xr.try_into(), xi.try_into()) {
            (Ok(xr), Ok(xi)) => self
                .isa
                .lms_split_fixed(&mut self.c_re, &mut self.c_im, m, xr, xi),
            _ => self
                .isa
                .lms_split(&mut self.c_re, &mut self.c_im, m, xr, xi),
        }
    }

    /// Gardner timing error on the equaliser input, normalised by its power.
    #[inline(always)]
    #[allow(clippy::manual_clamp)] // max/min on purpose: see below
    fn track_timing(&mut self) {
        let n = self.eq_pos + EQ_RING;
        let e = (self.eq_re[n - 2] - self.eq_re[n]) * self.eq_re[n - 1]
            + (self.eq_im[n - 2] - self.eq_im[n]) * self.eq_im[n - 1];
        let norm = self.eq_power * (1.0 / EQ_LEN as f32) + 1e-9;
        // max/min, not clamp: a NaN becomes a bound, so the step below stays positive.
        let e = (e / norm).max(-2.0).min(2.0);
        let (kp, ki) = self.timing;
        let (adjust, step) = self.timing_pending;
        self.next_at += adjust;
        self.step = step;
        let mut step = step;
        if ki != 0.0 {
            self.rate_adj = (self.rate_adj + ki * e)
                .max(-MAX_RATE_ADJ)
                .min(MAX_RATE_ADJ);
            step = to_fixed(self.half_t * (1.0 + self.rate_adj));
        }
        self.timing_pending = (to_fixed(kp * e * self.half_t), step);
    }

    /// Carrier loop on the rotated equaliser output `z` against the point `t`.
    #[inline(always)]
    fn track_carrier(&mut self, z: Complex32, t: Complex32) {
        let pe = (z.im * t.re - z.re * t.im).clamp(-1.0, 1.0);
        let (kp, ki) = self.pll;
        self.omega = (self.omega + ki * pe).clamp(-self.max_omega, self.max_omega);
        self.theta = self
            .theta
            .wrapping_add(((self.omega + kp * pe) * RAD) as i32 as u32);
    }

    /// The rotator that takes the equaliser output to the training's frame.
    #[inline(always)]
    fn rotator(&self) -> Complex32 {
        Complex32::new(cos_u32(self.theta), -sin_u32(self.theta))
    }

    #[inline(always)]
    fn symbol(&mut self, r: Complex32, sink: &mut dyn RxSink) {
        if matches!(self.stage, Stage::Idle | Stage::Search | Stage::Align) {
            self.reversal_statistic();
            // Counted before the carrier is up too, so a short train loses no time.
            self.streak = if self.reversals_seen() {
                self.streak + 1
            } else {
                0
            };
        }
        self.since_up = self.since_up.saturating_add(1);
        match self.stage {
            Stage::Idle => {}
            Stage::Search => self.search(),
            Stage::Align => self.align(r),
            Stage::Train => self.train(sink),
            Stage::Data => self.data(sink),
        }
    }

    #[inline(always)]
    fn decide(&self, z: Complex32) -> u8 {
        match self.rate {
            V27terRate::Bps2400 => axis_state(z),
            V27terRate::Bps4800 => octant(z),
        }
    }

    #[inline(always)]
    fn data(&mut self, sink: &mut dyn RxSink) {
        let rot = self.rotator();
        let z = self.equalise() * rot;
        if !(z.re.is_finite() && z.im.is_finite()) {
            return self.blow_up(sink);
        }
        let k = self.decide(z);
        self.captured.push(z);
        let step = k.wrapping_sub(self.last_state) & 7;
        self.last_state = k;
        let (v, n) = match self.rate {
            V27terRate::Bps2400 => (STEP_DIBIT[(step >> 1) as usize], 2),
            V27terRate::Bps4800 => (STEP_TRIBIT[step as usize], 3),
        };
        let out = self.descrambler.descramble_word(v as u32, n);
        sink.put_bits(out, n);
        let t = POINTS[k as usize];
        let err = t - z;
        self.mse += (err.norm_sqr() - self.mse) * MSE_ALPHA_DATA;
        self.track_carrier(z, t);
        self.leak_count += 1;
        if self.leak_count.is_multiple_of(DATA_UPDATE_EVERY) {
            self.adapt(err * rot.conj(), self.mu);
        }
        if self.leak_count == 64 {
            self.leak_count = 0;
            let keep = 1.0 - 64.0 * LEAK;
            self.c_re
                .iter_mut()
                .chain(self.c_im.iter_mut())
                .for_each(|c| *c *= keep);
        }
        self.track_timing();
    }

    /// Non-finite state: start afresh.
    fn blow_up(&mut self, sink: &mut dyn RxSink) {
        if self.stage == Stage::Train {
            self.fail(sink);
        }
        self.c_re = [0.0; EQ_LEN];
        self.c_im = [0.0; EQ_LEN];
        self.c_re[EQ_CENTRE] = 1.0;
        self.have_saved = false;
        self.eq_re = [0.0; 2 * EQ_RING];
        self.eq_im = [0.0; 2 * EQ_RING];
        self.eq_power = 0.0;
        self.gain = 1.0;
        self.omega = 0.0;
        self.rate_adj = 0.0;
        self.step = to_fixed(self.half_t);
        self.timing_pending = (0, self.step);
        self.rev = [Complex32::default(); REVERSAL_WINDOW];
        self.rev_sum = Complex32::default();
        self.stage = Stage::Search;
        self.streak = 0;
    }

    fn carrier_lost(&mut self, sink: &mut dyn RxSink) {
        let long = self.since_up >= REPORT_MS * self.rate.baud() / 1000;
        if self.stage == Stage::Train || self.stage != Stage::Data && !self.reported && long {
            sink.event(RxEvent::TrainingFailed);
        }
        sink.event(RxEvent::CarrierDown);
        if !self.reported {
            self.raised = RAISED_MS * self.rate.baud() / 1000;
        }
        self.stage = Stage::Idle;
        // The next transmission brings its own level.
        let f = 1.0 / self.gain;
        if f.is_finite() {
            self.eq_re
                .iter_mut()
                .chain(self.eq_im.iter_mut())
                .for_each(|v| *v *= f);
            // Summed afresh at this symbol centre (the detector runs before its sample
            // is in).
            self.eq_renorm = EQ_RENORM;
        }
        self.gain = 1.0;
    }
}

impl Receiver for V27terRx {
    fn capture_symbols(&mut self, on: bool) {
        self.captured.set(on);
    }

    fn take_symbols(&mut self) -> Vec<Complex32> {
        self.captured.take()
    }

    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        let isa = self.isa;
        crate::modem::receive_compiled(isa, self, samples, sink)
    }

    fn quality(&self) -> RxQuality {
        let power = self.pw_long.max(0.0) * self.pw_scale_long;
        RxQuality {
            level_dbm0: crate::modem::rms_to_dbm0(power.sqrt()),
            snr_db: (-10.0 * self.mse.max(1e-6).log10()).min(60.0),
            carrier_offset_hz: self.omega * self.rate.baud() as f32 / std::f32::consts::TAU,
            timing_offset_ppm: -self.rate_adj * 1e6,
        }
    }
}

/// [`Receiver::receive`]'s work.
impl crate::modem::ReceiveBlock for V27terRx {
    #[inline(always)]
    fn receive_block(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        for chunk in samples.chunks(CHUNK) {
            // The chunk into the history (mirrored, so any window is contiguous) …
            let (pos, n40) = (self.pos, self.n40);
            let (a, b) = chunk.split_at((RING - pos).min(chunk.len()));
            for (at, part) in [(pos, a), (0, b)] {
                for at in [at, at + RING] {
                    for (d, &s) in self.ring[at..at + part.len()].iter_mut().zip(part) {
                        *d = s as f32;
                    }
                }
            }
            // … then its T/2 instants, each from the samples up to the first at or after it
            // (sample k of the chunk is at k·ONE). The loops move an instant by less than
            // a sample, so one never lies further back than the history holds; the floor
            // makes sure of it.
            let last = (chunk.len() as i32 - 1) * ONE;
            loop {
                let at = self.next_at.max(-MAX_BACK);
                if at > last {
                    break;
                }
                let k = (at + (ONE - 1)) >> FRAC_BITS;
                let ring_end = ((pos as i32 + k) as usize & (RING - 1)) + RING;
                let demod_at = (n40 as i32 + k) as usize + DEMOD_BACK;
                self.next_at = at;
                self.half_baud(sink, (ring_end, demod_at), (k << FRAC_BITS) - at);
            }
            self.next_at -= chunk.len() as i32 * ONE;
            self.pos = (pos + chunk.len()) & (RING - 1);
            self.n40 = (n40 + chunk.len()) % CARRIER_PERIOD;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_pick_the_nearest_point() {
        for k in 0..8u8 {
            for off in [-20.0f32, -5.0, 0.0, 5.0, 20.0] {
                let a = (k as f32 * 45.0 + off).to_radians();
                let z = Complex32::new(a.cos(), a.sin()) * 0.7;
                assert_eq!(octant(z), k, "{k} {off}");
                let a = (k as f32 * 45.0 + 2.0 * off).to_radians();
                let z = Complex32::new(a.cos(), a.sin()) * 1.3;
                if k % 2 == 0 {
                    assert_eq!(axis_state(z), k, "{k} {off}");
                }
            }
        }
    }
}
