//! ITU-T V.17: trellis-coded modulation at 14400, 12000, 9600 and 7200 bit/s, 2400 symbols/s
//! on an 1800 Hz carrier — the fastest T.30 image modem. (Clauses: V.17 §§1–8; the figures
//! and tables named below are the recommendation's.)
//!
//! The signal:
//! - *Encoding*: each symbol takes 6, 5, 4 or 3 scrambled bits Q1 Q2 Q3 … (Q1 first). Q1 Q2
//!   are differentially encoded (the differential encoding table): Y = Y1 + 2·Y2 is the
//!   previous Y plus Q1 + 2·Q2, modulo 4. A systematic 8-state convolutional encoder (the
//!   V.32 code) adds the redundant bit Y0 from Y1 Y2. With delay cells S0 S1 S2 the
//!   recursion is S0' = S1 ⊕ S0·Y1 ⊕ Y2, S1' = S0·S1 ⊕ S2 ⊕ Y1 ⊕ Y2 ⊕ S0·Y2, S2' = S0, and
//!   Y0 = S0 (the cell before the update); the encoder starts at S = 0. Y0 Y1 Y2 pick one of
//!   the eight subsets and Q3 … the point in it.
//! - *Constellations*: 128, 64, 32 or 16 points with binary labels Q6 Q5 Q4 Q3 Y2 Y1 Y0. A
//!   90° turn of a point keeps Q3 … and maps Y to Y − 1 and Y0 to its complement — the code
//!   is transparent to 90° turns, which the differential Y absorbs — so each constellation
//!   is given here by its points for Y = 0 (Y0 = 0 and 1), and the rest follow by rotation.
//! - *Scrambler*: 1 + x⁻¹⁸ + x⁻²³ on all bits from segment 2 of the training on.
//! - *Training*: segment 1, 256 symbols alternating A = (−6, −2) and B = (2, −6); segment 2,
//!   2976 symbols (38 in the short retrain) of C = (6, 2), D = (−2, 6), B, A chosen by pairs
//!   of scrambled binary ones (first bit high: 00 C, 01 D, 10 B, 11 A; the scrambler starts
//!   at 0x2ECDD5); segment 3, only in the long training: 64 symbols of the TCM bridge — the
//!   scrambled bits of the pattern 0x8880 sent two at a time (least significant first) as
//!   phase steps round A B C D (00 +90°, 01 0°, 10 +180°, 11 +270°) from the last segment-2
//!   point; segment 4, 48 symbols of scrambled ones through the full trellis encoder, the
//!   differential encoder starting at Y = 1 after the long training and Y = 0 after the
//!   short one. Data follow.
//! - *Carrier detect*: on above −43 dBm0, off below −48 dBm0 (this receiver: on above
//!   −45 dBm0).
//!
//! How it works:
//! - Transmit: training symbols or encoded data through the shared polyphase RRC shaper of
//!   [`super::qam`]; after the data, 32 symbols of encoded ones (so that a receiver's
//!   trellis decoder delivers every data bit), 12 symbols of ring-down, end.
//! - Receive: the shared core ([`super::qam::RxCore`]) finds the carrier, the symbol timing
//!   and the ABAB → CDBA reversal; the equaliser then trains on segment 2 (known from the
//!   scrambler) and on the bridge (also known), the error is checked, and segment 4 and the
//!   data are decoded by a Viterbi decoder: per symbol the nearest point of each of the
//!   eight subsets (from a 0.5-unit grid table built once per rate) gives eight branch
//!   metrics, add-compare-select runs over the 8 states (four branches into each, all states
//!   at once), and every 8 symbols one traceback from the best state decides the 8 symbols
//!   lying 24 to 31 symbols back. The equaliser, carrier and timing loops adapt on the
//!   decoder's tentative decision 6 symbols back (the best path's; at the SNR where 14400
//!   bit/s still works a nearest-point decision is wrong one time in ten, enough to upset
//!   the loops). Segment 4 synchronises the descrambler and its error is checked before
//!   [`RxEvent::TrainingSucceeded`].
//! - Far echoes: a reflection more than 32 symbols late (the equaliser spans 16) would eat
//!   into the 128-point constellation's margin. Over segment 2 the equaliser's error is
//!   correlated with the known symbols 32–128 back; up to four echoes clearly above the
//!   estimate's noise are kept and taken off every later symbol, using the training symbols
//!   and then the decoder's final decisions (a −20 dB echo at 20 ms costs nothing then).
//! - Short retrain (T.30 on pages after the first): [`V17Rx::restart`] with `short_train`
//!   makes the receiver start from the equaliser, AGC and carrier frequency of its last good
//!   training (from scratch if there was none). Whichever training it was told to expect,
//!   the receiver looks at symbols 38–45 of segment 2: if they follow the scrambler it is a
//!   long training, else they were the start of segment 4 of a short one (kept and decoded).
//!
//! **Not supported:** the optional echo-protection tone (the receiver ignores one if sent),
//! and V.32bis 4800 bit/s (not a V.17 rate).
//!
//! **Tested by:** unit tests here (encoder and constellation properties, round trip at every
//! rate with long and short training either way round, −43 and 0 dBm0, ±100 ppm, ±7 Hz,
//! distorted lines, bit error rates at 22 and 24 dB SNR, garbage) and
//! `tests/interop_spandsp.rs` (spandsp's V.17 in both directions).

use std::sync::LazyLock;

use num_complex::Complex32;

use super::qam::{Descrambler, Loops, RxCore, Shaper, TX_SPAN, Tick, TrainingPoints};
use super::rate::V17Rate;
use super::{GetBit, Receiver, RxEvent, RxQuality, RxSink, Transmitter};

/// Carrier frequency, Hz (V.17 §1).
pub const CARRIER_HZ: f32 = 1800.0;

/// Segment 1 (ABAB), symbols.
const SEG1: u32 = 256;
/// Segment 2 (CDBA), symbols: long and short training.
const SEG2_LONG: u32 = 2976;
const SEG2_SHORT: u32 = 38;
/// Segment 3 (TCM bridge, long training only), symbols.
const SEG3: u32 = 64;
/// Segment 4 (scrambled ones, trellis coded), symbols.
const SEG4: u32 = 48;
/// Encoded ones sent after the data, symbols.
const TRAILER: u32 = 32;
/// The bridge pattern (segment 3), sent least significant bit first.
const BRIDGE_WORD: u16 = 0x8880;
/// The scrambler's state at the start of segment 2.
const SCRAMBLER_SEED: u32 = 0x2E_CDD5;
/// How late the decisions the loops adapt on are, symbols (a tentative traceback).
const TENTATIVE: usize = 6;
/// Equalised symbols kept for them.
const LATE: usize = 8;
/// Echo delays the far-echo canceller covers, symbols: from beyond the decoder's delay
/// (decisions are final by then) to 128 (53 ms).
const ECHO_MIN: usize = 32;
const ECHO_MAX: usize = 128;
/// Echoes it cancels at most.
const ECHO_TAPS: usize = 4;
/// Symbols kept for it (a power of two above `ECHO_MAX`).
const ECHO_RING: usize = 256;
/// Segment 2 symbols after which the echo estimate starts (the equaliser has settled).
const ECHO_FROM: u32 = 500;

/// Cancels echoes of the signal itself that arrive more than `ECHO_MIN` symbols late (a
/// reflection at the far end of the line; the equaliser spans only 16 symbols). Each one
/// adds h·d[k−m] to symbol k: over segment 2, where d is known, the correlation of the
/// equaliser's error with d[k−m] measures h for every m; the strongest few are kept and,
/// from then on, h·d[k−m] is taken off each symbol, d being the training symbols and then
/// the decoder's final decisions.
#[derive(Debug, Clone)]
struct EchoCanceller {
    /// What was sent, as known or decided, by symbol number (since segment 2 began).
    sent: [Complex32; ECHO_RING],
    /// Σ error·d*[k−m] for m = ECHO_MIN…ECHO_MAX, and the symbols summed.
    acc: [Complex32; ECHO_MAX - ECHO_MIN + 1],
    count: u32,
    /// The echoes: delay and gain.
    taps: [(usize, Complex32); ECHO_TAPS],
    ntaps: usize,
}

impl EchoCanceller {
    fn new() -> EchoCanceller {
        EchoCanceller {
            sent: [Complex32::default(); ECHO_RING],
            acc: [Complex32::default(); ECHO_MAX - ECHO_MIN + 1],
            count: 0,
            taps: [(0, Complex32::default()); ECHO_TAPS],
            ntaps: 0,
        }
    }

    /// Start a new signal (the echoes found last time stay for a short retrain).
    fn restart(&mut self, measure: bool) {
        self.sent = [Complex32::default(); ECHO_RING];
        self.acc = [Complex32::default(); ECHO_MAX - ECHO_MIN + 1];
        self.count = 0;
        if measure {
            self.ntaps = 0;
        }
    }

    fn set(&mut self, n: u32, d: Complex32) {
        self.sent[n as usize % ECHO_RING] = d;
    }

    /// The echo in symbol `n`.
    #[inline]
    fn echo(&self, n: u32) -> Complex32 {
        let mut e = Complex32::default();
        for &(m, h) in &self.taps[..self.ntaps] {
            e += h * self.sent[(n as usize + ECHO_RING - m) % ECHO_RING];
        }
        e
    }

    /// Measure: symbol `n` came out `err` away from the known `d` (already `set`).
    fn measure(&mut self, n: u32, err: Complex32) {
        if n < ECHO_FROM || !err.norm_sqr().is_finite() {
            return;
        }
        let n = n as usize;
        for (i, a) in self.acc.iter_mut().enumerate() {
            *a += err * self.sent[(n + ECHO_RING - ECHO_MIN - i) % ECHO_RING].conj();
        }
        self.count += 1;
    }

    /// Keep the echoes clearly above the estimate's noise (a few thousandths).
    fn decide(&mut self, energy: f32) {
        self.ntaps = 0;
        if self.count == 0 {
            return;
        }
        let scale = 1.0 / (self.count as f32 * energy);
        let mut found: [(usize, Complex32); ECHO_TAPS] = [(0, Complex32::default()); ECHO_TAPS];
        for (i, a) in self.acc.iter().enumerate() {
            let h = a * scale;
            // Replace the weakest kept if this one is stronger.
            let weakest = (0..ECHO_TAPS)
                .min_by(|&x, &y| found[x].1.norm_sqr().total_cmp(&found[y].1.norm_sqr()))
                .unwrap_or(0);
            if h.norm_sqr() > found[weakest].1.norm_sqr() {
                found[weakest] = (ECHO_MIN + i, h);
            }
        }
        for f in found {
            if f.1.norm() > 0.02 {
                self.taps[self.ntaps] = f;
                self.ntaps += 1;
            }
        }
    }
}

/// Symbols looked at to tell long from short training.
const PROBE: usize = 8;
/// Viterbi traceback depth, symbols.
const TRACEBACK: usize = 24;

impl V17Rate {
    fn bits_per_symbol(self) -> u32 {
        match self {
            V17Rate::Bps14400 => 6,
            V17Rate::Bps12000 => 5,
            V17Rate::Bps9600 => 4,
            V17Rate::Bps7200 => 3,
        }
    }

    fn constellation(self) -> &'static Constellation {
        match self {
            V17Rate::Bps14400 => &C14400,
            V17Rate::Bps12000 => &C12000,
            V17Rate::Bps9600 => &C9600,
            V17Rate::Bps7200 => &C7200,
        }
    }

    /// Lowest SNR (dB) at the decision point worth going on with.
    fn min_snr_db(self) -> f32 {
        match self {
            V17Rate::Bps14400 => 17.0,
            V17Rate::Bps12000 => 14.0,
            V17Rate::Bps9600 => 11.0,
            V17Rate::Bps7200 => 8.0,
        }
    }
}

/// The training points A, B, C, D (§7).
const ABCD: [Complex32; 4] = [
    Complex32::new(-6.0, -2.0),
    Complex32::new(2.0, -6.0),
    Complex32::new(6.0, 2.0),
    Complex32::new(-2.0, 6.0),
];

fn training_points() -> TrainingPoints {
    TrainingPoints {
        a: ABCD[0],
        b: ABCD[1],
        c: ABCD[2],
        d: ABCD[3],
    }
}

/// The points with Y1 = Y2 = 0, by Q3 Q4 … (index), for Y0 = 0 and Y0 = 1 (Figures 2–5).
#[rustfmt::skip]
const BASE_14400: [[(i8, i8); 16]; 2] = [
    [(-8, -3), (-8, 1), (-4, -3), (-4, 1), (4, -3), (4, 1), (0, -3), (0, 1),
     (8, -3), (8, 1), (-4, -7), (-4, 5), (4, -7), (4, 5), (0, -7), (0, 5)],
    [(9, 2), (9, -2), (5, 2), (5, -2), (-3, 2), (-3, -2), (1, 2), (1, -2),
     (-7, 2), (-7, -2), (5, 6), (5, -6), (-3, 6), (-3, -6), (1, 6), (1, -6)],
];
#[rustfmt::skip]
const BASE_12000: [[(i8, i8); 8]; 2] = [
    [(7, 1), (3, -3), (7, -7), (-1, -7), (3, 5), (-1, 1), (-5, 5), (-5, -3)],
    [(-5, -1), (-1, 3), (-5, 7), (3, 7), (-1, -5), (3, -1), (7, -5), (7, 3)],
];
#[rustfmt::skip]
const BASE_9600: [[(i8, i8); 4]; 2] = [
    [(-8, 2), (0, 2), (0, -6), (8, 2)],
    [(-6, -4), (-6, 4), (2, -4), (2, 4)],
];
const BASE_7200: [[(i8, i8); 2]; 2] = [[(6, -6), (-2, 2)], [(-2, 6), (6, -2)]];

/// Grid of the subset lookup: cells of 0.5 from −10 to +10.
const GRID: usize = 40;

/// A constellation with its decoder tables.
struct Constellation {
    /// Number of points.
    n: usize,
    /// Points by label Q… Y2 Y1 Y0 (the unused end of the arrays stays zero).
    re: [f32; 128],
    im: [f32; 128],
    /// Mean energy.
    energy: f32,
    /// For each grid cell, the label of the nearest point of each subset (Y0 Y1 Y2).
    nearest: Box<[[u8; 8]; GRID * GRID]>,
}

impl std::fmt::Debug for Constellation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Constellation({} points)", self.n)
    }
}

impl Constellation {
    fn new(base: [&[(i8, i8)]; 2]) -> Constellation {
        let nq = base[0].len();
        let n = nq * 8;
        let (mut re, mut im) = ([0f32; 128], [0f32; 128]);
        for label in 0..n {
            let (q, y, y0) = (label >> 3, (label >> 1) & 3, label & 1);
            // The base point turned r quarter turns has Y = −r and Y0 flipped r times.
            let r = (4 - y) & 3;
            let (mut x, mut v) = base[y0 ^ (r & 1)][q];
            for _ in 0..r {
                (x, v) = (-v, x);
            }
            re[label] = x as f32;
            im[label] = v as f32;
        }
        let energy = re.iter().zip(&im).map(|(a, b)| a * a + b * b).sum::<f32>() / n as f32;
        let mut nearest = Box::new([[0u8; 8]; GRID * GRID]);
        for (cell, best) in nearest.iter_mut().enumerate() {
            let cx = -10.0 + 0.5 * (cell / GRID) as f32 + 0.25;
            let cy = -10.0 + 0.5 * (cell % GRID) as f32 + 0.25;
            for (sub, b) in best.iter_mut().enumerate() {
                let mut d = f32::INFINITY;
                for label in (sub..n).step_by(8) {
                    let e = (re[label] - cx).powi(2) + (im[label] - cy).powi(2);
                    if e < d {
                        d = e;
                        *b = label as u8;
                    }
                }
            }
        }
        Constellation {
            n,
            re,
            im,
            energy,
            nearest,
        }
    }

    #[inline]
    fn point(&self, label: usize) -> Complex32 {
        Complex32::new(self.re[label & 127], self.im[label & 127])
    }
}

static C14400: LazyLock<Constellation> =
    LazyLock::new(|| Constellation::new([&BASE_14400[0], &BASE_14400[1]]));
static C12000: LazyLock<Constellation> =
    LazyLock::new(|| Constellation::new([&BASE_12000[0], &BASE_12000[1]]));
static C9600: LazyLock<Constellation> =
    LazyLock::new(|| Constellation::new([&BASE_9600[0], &BASE_9600[1]]));
static C7200: LazyLock<Constellation> =
    LazyLock::new(|| Constellation::new([&BASE_7200[0], &BASE_7200[1]]));

/// The convolutional encoder: next state from state `s` and Y = Y1 + 2·Y2.
const fn next_state(s: u8, y: u8) -> u8 {
    let (s0, s1, s2) = (s & 1, (s >> 1) & 1, (s >> 2) & 1);
    let (y1, y2) = (y & 1, (y >> 1) & 1);
    let n0 = s1 ^ (s0 & y1) ^ y2;
    let n1 = (s0 & s1) ^ s2 ^ y1 ^ y2 ^ (s0 & y2);
    n0 | n1 << 1 | s0 << 2
}

/// The trellis seen from the receiver: for each state and each Y, the state before and the
/// subset (Y0 | Y << 1) of the branch. Y0 is the earlier state's S0, which is the later
/// state's S2.
const TRELLIS: [[(u8, u8); 4]; 8] = {
    let mut t = [[(0u8, 0u8); 4]; 8];
    let mut s = 0;
    while s < 8 {
        let mut y = 0;
        while y < 4 {
            let n = next_state(s, y);
            t[n as usize][y as usize] = (s, (s & 1) | y << 1);
            y += 1;
        }
        s += 1;
    }
    t
};

/// Six bits reversed.
const REVERSE6: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        let mut r = 0;
        let mut b = 0;
        while b < 6 {
            r |= ((i >> b) & 1) << (5 - b);
            b += 1;
        }
        t[i] = r as u8;
        i += 1;
    }
    t
};

/// The scrambler with a settable register (the transmitter starts segment 2 from a seed).
#[derive(Debug, Clone, Copy)]
struct SeededScrambler(u32);

impl SeededScrambler {
    fn scramble(&mut self, bit: bool) -> bool {
        let out = (bit as u32 ^ (self.0 >> 17) ^ (self.0 >> 22)) & 1;
        self.0 = (self.0 << 1) | out;
        out != 0
    }

    /// Segment 2's point for the next two scrambled ones, as an index into [`ABCD`].
    fn cdba(&mut self) -> usize {
        let b = (self.scramble(true) as usize) << 1 | self.scramble(true) as usize;
        [2, 3, 1, 0][b]
    }

    /// Segment 3's step round A B C D for bridge symbol `k`.
    fn bridge_step(&mut self, k: u32) -> usize {
        let shift = (k & 7) * 2;
        let b1 = self.scramble(BRIDGE_WORD >> shift & 1 != 0);
        let b2 = self.scramble(BRIDGE_WORD >> (shift + 1) & 1 != 0);
        [1, 0, 2, 3][(b1 as usize) << 1 | b2 as usize]
    }
}

/// The V.17 transmitter.
#[derive(Debug, Clone)]
pub struct V17Tx {
    rate: V17Rate,
    short_train: bool,
    shaper: Shaper,
    scrambler: SeededScrambler,
    /// Symbols produced so far.
    symbol: u32,
    /// Index into [`ABCD`] of the last training point.
    abcd: usize,
    /// Differential encoder output Y and convolutional encoder state.
    y: u8,
    state: u8,
    data_ended: bool,
    left: u32,
    done: bool,
}

impl V17Tx {
    /// A transmitter at `rate` and `level_dbm0`, with the long training or (T.30 pages after
    /// the first) the short one.
    pub fn new(rate: V17Rate, level_dbm0: f32, short_train: bool) -> V17Tx {
        V17Tx {
            rate,
            short_train,
            shaper: Shaper::new(CARRIER_HZ, level_dbm0, rate.constellation().energy),
            scrambler: SeededScrambler(SCRAMBLER_SEED),
            symbol: 0,
            abcd: 0,
            y: if short_train { 0 } else { 1 },
            state: 0,
            data_ended: false,
            left: 0,
            done: false,
        }
    }

    fn bit(&mut self, bits: &mut dyn GetBit, data: bool) -> bool {
        let b = if data && !self.data_ended {
            match bits.get_bit() {
                Some(b) => b,
                None => {
                    self.data_ended = true;
                    self.left = TRAILER + TX_SPAN as u32;
                    true
                }
            }
        } else {
            true
        };
        self.scrambler.scramble(b)
    }

    fn data_symbol(&mut self, bits: &mut dyn GetBit, data: bool) -> Complex32 {
        let mut q = 0usize;
        for i in 0..self.rate.bits_per_symbol() {
            q |= (self.bit(bits, data) as usize) << i;
        }
        self.y = (self.y + (q & 3) as u8) & 3;
        let y0 = self.state & 1;
        self.state = next_state(self.state, self.y);
        let label = (q >> 2) << 3 | (self.y as usize) << 1 | y0 as usize;
        self.rate.constellation().point(label)
    }

    fn next_symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        let k = self.symbol;
        self.symbol = self.symbol.saturating_add(1);
        let seg2 = if self.short_train {
            SEG2_SHORT
        } else {
            SEG2_LONG
        };
        let seg3 = if self.short_train { 0 } else { SEG3 };
        if k < SEG1 {
            return Some(ABCD[(k & 1) as usize]);
        }
        if k < SEG1 + seg2 {
            self.abcd = self.scrambler.cdba();
            return Some(ABCD[self.abcd]);
        }
        if k < SEG1 + seg2 + seg3 {
            self.abcd = (self.abcd + self.scrambler.bridge_step(k - SEG1 - seg2)) & 3;
            return Some(ABCD[self.abcd]);
        }
        if !self.data_ended {
            let data = k >= SEG1 + seg2 + seg3 + SEG4;
            return Some(self.data_symbol(bits, data));
        }
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if self.left >= TX_SPAN as u32 {
            Some(self.data_symbol(bits, false))
        } else {
            Some(Complex32::default())
        }
    }
}

impl super::qam::QamTx for V17Tx {
    fn shaper(&mut self) -> &mut Shaper {
        &mut self.shaper
    }
    fn ended(&mut self) -> &mut bool {
        &mut self.done
    }
    fn symbol(&mut self, bits: &mut dyn GetBit) -> Option<Complex32> {
        self.next_symbol(bits)
    }
}

impl Transmitter for V17Tx {
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize {
        super::qam::transmit_symbols(self, out, bits)
    }
}

/// Survivor history kept by the Viterbi decoder (a power of two ≥ TRACEBACK + BLOCK − 1).
const HISTORY: usize = 32;
/// Decisions come out in blocks of this many symbols (one traceback per block).
const BLOCK: usize = 8;

/// The trellis by branch: for Y = Y1 + 2·Y2 and each later state, the earlier state.
const PRED: [[u8; 8]; 4] = {
    let mut t = [[0u8; 8]; 4];
    let mut n = 0;
    while n < 8 {
        let mut y = 0;
        while y < 4 {
            t[y][n] = TRELLIS[n][y].0;
            y += 1;
        }
        n += 1;
    }
    t
};

/// The trellis by branch: for Y and each later state, the subset Y0 | Y << 1.
const SUBSET: [[u8; 8]; 4] = {
    let mut t = [[0u8; 8]; 4];
    let mut n = 0;
    while n < 8 {
        let mut y = 0;
        while y < 4 {
            t[y][n] = TRELLIS[n][y].1;
            y += 1;
        }
        n += 1;
    }
    t
};

/// The Viterbi decoder of the 8-state code.
#[derive(Debug, Clone)]
struct Viterbi {
    metric: [f32; 8],
    /// The best state after the last step.
    best: usize,
    /// Per step: the Y of the branch into each state, and the nearest label in each subset.
    choice: [[u8; 8]; HISTORY],
    labels: [[u8; 8]; HISTORY],
    /// Steps so far.
    steps: usize,
}

impl Viterbi {
    /// The label `depth` < `HISTORY` symbols back on the best path so far: a tentative
    /// decision, far better than the nearest point and late by only `depth`.
    #[inline]
    fn tentative(&self, depth: usize) -> u8 {
        let mut state = self.best;
        let mut j = (self.steps + HISTORY - 1) % HISTORY;
        for _ in 0..depth {
            state = PRED[self.choice[j][state] as usize][state] as usize;
            j = (j + HISTORY - 1) % HISTORY;
        }
        self.labels[j][SUBSET[self.choice[j][state] as usize][state] as usize]
    }

    /// A decoder whose path starts in state 0 (the encoder's state at segment 4).
    fn new() -> Viterbi {
        Viterbi {
            metric: [0.0, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3],
            best: 0,
            choice: [[0; 8]; HISTORY],
            labels: [[0; 8]; HISTORY],
            steps: 0,
        }
    }

    /// One symbol: the best label and its squared distance in each subset. Every `BLOCK`
    /// symbols, once the path is `TRACEBACK` deep, returns the labels of the `BLOCK` oldest
    /// undecided symbols (oldest first), all at least `TRACEBACK − 1` symbols back.
    #[inline]
    fn step(&mut self, labels: &[u8; 8], dist: &[f32; 8]) -> Option<[u8; BLOCK]> {
        let t = self.steps % HISTORY;
        // Add-compare-select, all eight states at once for each branch Y.
        let mut best = [f32::INFINITY; 8];
        let mut arg = [0u8; 8];
        for y in 0..4 {
            let m: [f32; 8] = std::array::from_fn(|n| {
                self.metric[PRED[y][n] as usize] + dist[SUBSET[y][n] as usize]
            });
            for n in 0..8 {
                let better = m[n] < best[n];
                best[n] = if better { m[n] } else { best[n] };
                arg[n] = if better { y as u8 } else { arg[n] };
            }
        }
        self.choice[t] = arg;
        self.labels[t] = *labels;
        let mut min = best[0];
        let mut state = 0;
        for (n, &m) in best.iter().enumerate().skip(1) {
            if m < min {
                min = m;
                state = n;
            }
        }
        for (m, &new) in self.metric.iter_mut().zip(&best) {
            // Renormalise (and keep garbage from growing without bound).
            *m = (new - min).min(1e6);
        }
        self.best = state;
        self.steps += 1;
        let first = TRACEBACK + BLOCK - 1;
        if self.steps < first || !(self.steps - first).is_multiple_of(BLOCK) {
            return None;
        }
        let mut j = t;
        let mut back = |state: &mut usize| -> u8 {
            let y = self.choice[j][*state] as usize;
            let label = self.labels[j][SUBSET[y][*state] as usize];
            *state = PRED[y][*state] as usize;
            j = (j + HISTORY - 1) % HISTORY;
            label
        };
        for _ in 0..TRACEBACK - 1 {
            back(&mut state);
        }
        let mut out = [0u8; BLOCK];
        for k in (0..BLOCK).rev() {
            out[k] = back(&mut state);
        }
        Some(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// No carrier, or the core is looking for the training.
    Waiting,
    /// Segments 2 and 3: known symbols.
    Training,
    /// The symbols after 38 of segment 2: more of segment 2 (long training) or segment 4
    /// (short)?
    Probe,
    /// Segment 4 and data, through the Viterbi decoder.
    Trellis,
    /// Training failed: wait for the carrier to go.
    Parked,
}

/// The V.17 receiver.
#[derive(Debug, Clone)]
pub struct V17Rx {
    /// Equaliser outputs kept for a constellation plot, when asked.
    captured: crate::modem::SymbolTap,
    rate: V17Rate,
    /// What the caller said comes next, and what this reception turned out to be.
    expect_short: bool,
    short_train: bool,
    /// Symbols kept while telling long from short training, and their squared distance
    /// from what segment 2 would have sent.
    probe: [Complex32; PROBE],
    probe_dist: f32,
    /// SNR over the first 38 symbols of segment 2.
    short_snr: f32,
    core: RxCore,
    stage: Stage,
    /// Symbols since the first of segment 2.
    n: u32,
    scrambler: SeededScrambler,
    abcd: usize,
    viterbi: Viterbi,
    /// Symbols out of the Viterbi decoder since the first of segment 4.
    decoded: u32,
    y: u8,
    descrambler: Descrambler,
    constellation: &'static Constellation,
    /// The last equalised symbols, by `n`.
    zs: [Complex32; LATE],
    echo: EchoCanceller,
    /// Symbols given to the trellis decoder.
    tcm_n: u32,
}

/// Normalised LMS steps: training fast, fine, and on decisions.
const MU_TRAIN: f32 = 0.25;
const MU_FINE: f32 = 0.05;
const MU_DATA: f32 = 0.02;

impl V17Rx {
    /// A receiver for `rate`, expecting the long training.
    pub fn new(rate: V17Rate) -> V17Rx {
        let c = rate.constellation();
        V17Rx {
            captured: crate::modem::SymbolTap::default(),
            rate,
            expect_short: false,
            short_train: false,
            probe: [Complex32::default(); PROBE],
            probe_dist: 0.0,
            short_snr: 0.0,
            core: RxCore::new(CARRIER_HZ, training_points(), c.energy),
            stage: Stage::Waiting,
            n: 0,
            scrambler: SeededScrambler(SCRAMBLER_SEED),
            abcd: 0,
            viterbi: Viterbi::new(),
            decoded: 0,
            y: 0,
            descrambler: Descrambler::default(),
            constellation: c,
            zs: [Complex32::default(); LATE],
            echo: EchoCanceller::new(),
            tcm_n: 0,
        }
    }

    /// Prepare for the next signal: at `rate`, expecting the long training or the short
    /// retrain (which starts from the equaliser, AGC and carrier frequency of the last good
    /// training, if any). T.30 sends the short one on the pages after the first at the same
    /// rate. Either way the receiver follows the training that actually comes.
    pub fn restart(&mut self, rate: V17Rate, short_train: bool) {
        self.rate = rate;
        self.constellation = rate.constellation();
        self.core
            .set_points(training_points(), self.constellation.energy);
        self.expect_short = short_train;
        self.core.use_saved(short_train);
        if !self.core.carrier_present() {
            self.stage = Stage::Waiting;
        }
    }

    /// Is a carrier present now?
    pub fn carrier_present(&self) -> bool {
        self.core.carrier_present()
    }

    fn seg2(&self) -> u32 {
        if self.short_train {
            SEG2_SHORT
        } else {
            SEG2_LONG
        }
    }

    fn tcm_start(&self) -> u32 {
        if self.short_train {
            SEG2_SHORT
        } else {
            SEG2_LONG + SEG3
        }
    }

    fn fail(&mut self, sink: &mut dyn RxSink) {
        self.stage = Stage::Parked;
        self.core.park();
        sink.event(RxEvent::TrainingFailed);
    }

    fn symbol(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        match self.stage {
            Stage::Training => self.training(z, sink),
            Stage::Probe => self.probe(z, sink),
            Stage::Trellis => self.trellis(z, true, sink),
            Stage::Waiting | Stage::Parked => {}
        }
    }

    fn training(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        let seg2 = self.seg2();
        let target = if self.n < seg2 {
            self.abcd = self.scrambler.cdba();
            ABCD[self.abcd]
        } else {
            self.abcd = (self.abcd + self.scrambler.bridge_step(self.n - seg2)) & 3;
            ABCD[self.abcd]
        };
        self.echo.set(self.n, target);
        let z = z - self.echo.echo(self.n);
        if !self.short_train && self.n < SEG2_LONG {
            self.echo.measure(self.n, z - target);
        }
        let fresh = !(self.short_train && self.core.has_saved());
        let mu = if self.short_train {
            if fresh { MU_TRAIN } else { MU_FINE }
        } else if self.n < 400 {
            MU_TRAIN
        } else if self.n < 1500 {
            0.1
        } else {
            MU_FINE
        };
        self.core.adapt(z, target, mu);
        self.n += 1;
        if !self.short_train {
            match self.n {
                150 => self.core.set_loops(Loops {
                    carrier_hz: 20.0,
                    timing_hz: 8.0,
                }),
                1500 => self.core.set_loops(Loops {
                    carrier_hz: 12.0,
                    timing_hz: 4.0,
                }),
                _ => {}
            }
        }
        if self.n == 8 || self.n == SEG2_LONG - 128 {
            self.core.reset_mse(128.0);
        }
        if self.n == SEG2_SHORT {
            // Long or short? The next symbols tell (see `probe`).
            self.short_snr = self.core.snr_db();
            self.probe_dist = 0.0;
            self.stage = Stage::Probe;
            return;
        }
        if self.n == SEG2_LONG {
            self.echo.decide(40.0);
        }
        if self.n == SEG2_LONG && self.core.snr_db() < self.rate.min_snr_db() {
            return self.fail(sink);
        }
        if self.n == self.tcm_start() {
            self.start_trellis();
        }
    }

    /// Symbols 38 to 45 of segment 2 — or the first 8 of segment 4 after a short training.
    /// Whatever the caller expected, if they follow segment 2's scrambler it is the long
    /// training, else the short one: on segment 2 the mean squared distance is the
    /// equaliser's error (well under half the symbol energy even half-trained), on data it
    /// is about twice the symbol energy.
    fn probe(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        let i = (self.n - SEG2_SHORT) as usize;
        self.abcd = self.scrambler.cdba();
        let target = ABCD[self.abcd];
        self.probe[i] = z;
        self.probe_dist += (z - target).norm_sqr().min(1e3);
        self.echo.set(self.n, target);
        self.n += 1;
        if i + 1 < PROBE {
            return;
        }
        if self.probe_dist < 0.4 * 40.0 * PROBE as f32 {
            self.short_train = false;
            self.stage = Stage::Training;
            return;
        }
        self.short_train = true;
        if self.short_snr < self.rate.min_snr_db() {
            return self.fail(sink);
        }
        self.start_trellis();
        let probe = self.probe;
        for z in probe {
            if self.stage == Stage::Trellis {
                self.trellis(z, false, sink);
            }
        }
    }

    fn start_trellis(&mut self) {
        self.stage = Stage::Trellis;
        self.viterbi = Viterbi::new();
        self.decoded = 0;
        self.tcm_n = 0;
        self.y = if self.short_train { 0 } else { 1 };
        self.core.set_loops(Loops {
            carrier_hz: 12.0,
            timing_hz: 4.0,
        });
        self.core.reset_mse(64.0);
    }

    fn trellis(&mut self, z: Complex32, adapt: bool, sink: &mut dyn RxSink) {
        let z = z - self.echo.echo(self.tcm_start() + self.tcm_n);
        self.tcm_n += 1;
        let c = self.constellation;
        let cell = |v: f32| (((v + 10.0) * 2.0).max(0.0) as usize).min(GRID - 1);
        let labels = &c.nearest[cell(z.re) * GRID + cell(z.im)];
        let mut dist = [0f32; 8];
        for s in 0..8 {
            let l = labels[s] as usize & 127;
            dist[s] = (z.re - c.re[l]).powi(2) + (z.im - c.im[l]).powi(2);
        }
        let block = self.viterbi.step(labels, &dist);
        // The loops adapt on the decoder's tentative decision a few symbols back: at the
        // SNR where V.17 14400 works a nearest-point decision is wrong one time in ten.
        self.zs[self.n as usize % LATE] = z;
        self.n += 1;
        let (tent, mud) = (TENTATIVE, MU_DATA);
        if self.viterbi.steps > tent {
            let late = self.zs[(self.n as usize + LATE - 1 - tent) % LATE];
            let decision = c.point(self.viterbi.tentative(tent) as usize);
            if adapt {
                let mu = if self.n & 1 == 0 { 2.0 * mud } else { 0.0 };
                self.core.adapt_delayed(late, decision, mu, tent);
            } else {
                self.core.observe(late, decision);
            }
        }
        let Some(block) = block else {
            return;
        };
        for label in block {
            if self.stage != Stage::Trellis {
                return;
            }
            self.decode(label, sink);
        }
    }

    /// One decided symbol: differential decoding, then the bits Q1 Q2 Q3 … in order.
    fn decode(&mut self, label: u8, sink: &mut dyn RxSink) {
        let at = self.tcm_start() + self.decoded;
        self.echo.set(at, self.constellation.point(label as usize));
        let y = (label >> 1) & 3;
        let q = ((y.wrapping_sub(self.y) & 3) as u32) | ((label >> 3) as u32) << 2;
        self.y = y;
        // Q1 first: reversed into line order with the first bit highest.
        let n = self.rate.bits_per_symbol();
        let out = self
            .descrambler
            .bits(REVERSE6[q as usize] as u32 >> (6 - n), n);
        if self.decoded >= SEG4 {
            for i in (0..n).rev() {
                sink.put_bit(out >> i & 1 != 0);
            }
        }
        self.decoded += 1;
        if self.decoded == SEG4 {
            // Segment 4 went through the decoder: check it before the data.
            if self.core.snr_db() < self.rate.min_snr_db() {
                return self.fail(sink);
            }
            self.core.save();
            self.core.reset_mse(256.0);
            sink.event(RxEvent::TrainingSucceeded);
        }
    }
}

impl Receiver for V17Rx {
    fn capture_symbols(&mut self, on: bool) {
        self.captured.set(on);
    }

    fn take_symbols(&mut self) -> Vec<Complex32> {
        self.captured.take()
    }

    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        for &x in samples {
            match self.core.push(x) {
                Tick::Nothing => {}
                Tick::Symbol(z) => {
                    if self.stage == Stage::Trellis {
                        self.captured.push(z);
                    }
                    self.symbol(z, sink)
                }
                Tick::CarrierUp => {
                    self.stage = Stage::Waiting;
                    sink.event(RxEvent::CarrierUp);
                }
                Tick::CarrierDown => {
                    let trained = self.stage == Stage::Trellis && self.decoded >= SEG4;
                    if !trained && self.stage != Stage::Parked {
                        sink.event(RxEvent::TrainingFailed);
                    }
                    self.stage = Stage::Waiting;
                    sink.event(RxEvent::CarrierDown);
                }
                Tick::AcquisitionFailed => self.fail(sink),
                Tick::Reversal => {
                    // The reversal was seen on C and D, the first two points of segment 2.
                    self.scrambler = SeededScrambler(SCRAMBLER_SEED);
                    self.abcd = self.scrambler.cdba();
                    self.abcd = self.scrambler.cdba();
                    self.n = 2;
                    self.short_train = self.expect_short;
                    self.echo.restart(!self.expect_short);
                    self.echo.set(0, ABCD[2]);
                    self.echo.set(1, ABCD[3]);
                    self.stage = Stage::Training;
                    self.descrambler = Descrambler::default();
                    self.core.set_loops(Loops {
                        carrier_hz: 40.0,
                        timing_hz: 10.0,
                    });
                    self.core.reset_mse(64.0);
                }
            }
        }
    }

    fn quality(&self) -> RxQuality {
        RxQuality {
            level_dbm0: self.core.level_dbm0(),
            snr_db: self.core.snr_db(),
            carrier_offset_hz: self.core.carrier_offset_hz(),
            timing_offset_ppm: self.core.timing_offset_ppm(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::qam::testutil::*;

    const RATES: [V17Rate; 4] = [
        V17Rate::Bps14400,
        V17Rate::Bps12000,
        V17Rate::Bps9600,
        V17Rate::Bps7200,
    ];

    fn tx(rate: V17Rate, level: f32, short: bool, bits: &[bool]) -> Vec<i16> {
        transmit(&mut V17Tx::new(rate, level, short), bits, 800, 2000)
    }

    fn check(c: &crate::modem::Collect, sent: &[bool], what: &str) {
        let (n, errors) = count_errors(&c.bits, sent);
        assert_eq!(
            events(c),
            [
                RxEvent::CarrierUp,
                RxEvent::TrainingSucceeded,
                RxEvent::CarrierDown
            ],
            "{what}: {:?}",
            c.events
        );
        assert!(
            n == sent.len() && errors == 0,
            "{what}: {errors} errors in {n} of {} bits",
            sent.len()
        );
    }

    fn assert_clean(rate: V17Rate, samples: &[i16], sent: &[bool], what: &str) -> V17Rx {
        let mut rx = V17Rx::new(rate);
        let c = receive(&mut rx, samples);
        check(&c, sent, what);
        rx
    }

    #[test]
    fn encoder_and_constellations() {
        // Each state has four branches in and four out; the branches into a state share Y0.
        let mut seen = [[false; 4]; 8];
        for (n, branches) in TRELLIS.iter().enumerate() {
            for (y, &(s, subset)) in branches.iter().enumerate() {
                assert_eq!(next_state(s, y as u8), n as u8);
                assert_eq!(subset & 1, (n as u8 >> 2) & 1);
                assert!(!seen[s as usize][y]);
                seen[s as usize][y] = true;
            }
        }
        for (rate, points, energy, dmin2, sub2) in [
            (V17Rate::Bps14400, 128, 41.0, 2.0, 16.0),
            (V17Rate::Bps12000, 64, 42.0, 4.0, 32.0),
            (V17Rate::Bps9600, 32, 40.0, 8.0, 64.0),
            (V17Rate::Bps7200, 16, 40.0, 16.0, 128.0),
        ] {
            let c = rate.constellation();
            assert_eq!(c.n, points);
            assert!((c.energy - energy).abs() < 1e-3, "{rate:?} {}", c.energy);
            let mut min_all = f32::INFINITY;
            let mut min_sub = f32::INFINITY;
            for i in 0..points {
                for j in 0..i {
                    let d = (c.point(i) - c.point(j)).norm_sqr();
                    assert!(d > 0.0, "{rate:?}: {i} and {j} coincide");
                    min_all = min_all.min(d);
                    if i % 8 == j % 8 {
                        min_sub = min_sub.min(d);
                    }
                }
                // A quarter turn keeps Q, takes one from Y and flips Y0.
                let turned = c.point(i) * Complex32::new(0.0, 1.0);
                let y = (i >> 1) & 3;
                let j = (i >> 3) << 3 | ((y + 3) & 3) << 1 | (i & 1 ^ 1);
                assert_eq!(c.point(j), turned, "{rate:?} label {i}");
            }
            assert_eq!((min_all, min_sub), (dmin2, sub2), "{rate:?}");
        }
        // Labels the recommendation's figures show.
        for (label, x, y) in [
            (0x00, -8.0, -3.0),
            (0x07, 3.0, -8.0),
            (0x3f, -1.0, 0.0),
            (0x40, 8.0, -3.0),
        ] {
            assert_eq!(
                C14400.point(label),
                Complex32::new(x, y),
                "label {label:#x}"
            );
        }
    }

    #[test]
    fn round_trip_every_rate_long_training() {
        let bits = prbs(24_000);
        for rate in RATES {
            assert_clean(
                rate,
                &tx(rate, -13.0, false, &bits),
                &bits,
                &format!("{rate:?}"),
            );
        }
    }

    #[test]
    fn short_training_after_long() {
        let bits = prbs(24_000);
        for rate in RATES {
            let mut rx = V17Rx::new(rate);
            let c = receive(&mut rx, &tx(rate, -13.0, false, &bits));
            check(&c, &bits, &format!("{rate:?} long"));
            rx.restart(rate, true);
            let c = receive(&mut rx, &tx(rate, -13.0, true, &bits));
            check(&c, &bits, &format!("{rate:?} short"));
        }
    }

    #[test]
    fn short_training_from_scratch() {
        let bits = prbs(20_000);
        for rate in RATES {
            let mut rx = V17Rx::new(rate);
            rx.restart(rate, true);
            let c = receive(&mut rx, &tx(rate, -13.0, true, &bits));
            check(&c, &bits, &format!("{rate:?} short"));
        }
    }

    #[test]
    fn tells_long_from_short_training() {
        // Whatever the receiver was told, it follows what comes.
        let bits = prbs(20_000);
        for rate in RATES {
            let mut rx = V17Rx::new(rate);
            let c = receive(&mut rx, &tx(rate, -13.0, true, &bits));
            check(&c, &bits, &format!("{rate:?} short, long expected"));
            rx.restart(rate, true);
            let c = receive(&mut rx, &tx(rate, -13.0, false, &bits));
            check(&c, &bits, &format!("{rate:?} long, short expected"));
            let c = receive(&mut rx, &tx(rate, -13.0, true, &bits));
            check(&c, &bits, &format!("{rate:?} short again"));
        }
    }

    #[test]
    fn lowest_and_highest_levels() {
        let bits = prbs(20_000);
        for level in [-43.0, 0.0] {
            let rx = assert_clean(
                V17Rate::Bps14400,
                &tx(V17Rate::Bps14400, level, false, &bits),
                &bits,
                &format!("{level} dBm0"),
            );
            assert!(rx.quality().snr_db > 25.0, "{level}: {:?}", rx.quality());
        }
    }

    #[test]
    fn clock_offset_100_ppm() {
        let bits = prbs(60_000);
        let clean = tx(V17Rate::Bps14400, -13.0, false, &bits);
        for ppm in [100.0, -100.0] {
            let line = resample(&clean, 1.0 / (1.0 + ppm * 1e-6));
            let rx = assert_clean(V17Rate::Bps14400, &line, &bits, &format!("{ppm} ppm"));
            let q = rx.quality();
            assert!(
                (q.timing_offset_ppm - ppm as f32).abs() < 30.0,
                "{ppm}: {q:?}"
            );
        }
    }

    #[test]
    fn carrier_offset_7_hz() {
        let bits = prbs(40_000);
        for off in [7.0, -7.0] {
            let mut t = V17Tx::new(V17Rate::Bps14400, -13.0, false);
            t.shaper.set_carrier(CARRIER_HZ + off);
            let line = transmit(&mut t, &bits, 800, 2000);
            let rx = assert_clean(V17Rate::Bps14400, &line, &bits, &format!("{off} Hz"));
            let q = rx.quality();
            assert!((q.carrier_offset_hz - off).abs() < 0.5, "{off}: {q:?}");
        }
    }

    #[test]
    fn equalises_distorted_lines() {
        let bits = prbs(30_000);
        for rate in [V17Rate::Bps14400, V17Rate::Bps7200] {
            let clean = tx(rate, -13.0, false, &bits);
            for (name, h) in LINES {
                let line = add_noise(&channel(&clean, h), -13.0, 40.0, 4);
                assert_clean(rate, &line, &bits, &format!("{rate:?} {name}"));
            }
        }
    }

    #[test]
    fn far_echo_is_cancelled() {
        // A reflection 20 ms late and 20 dB down: beyond the equaliser, and at 14400 bit/s
        // enough to cost errors unless taken off.
        let bits = prbs(40_000);
        let mut h = vec![0.0; 161];
        h[0] = 1.0;
        h[160] = 0.1;
        for rate in [V17Rate::Bps14400, V17Rate::Bps12000] {
            let line = add_noise(&channel(&tx(rate, -13.0, false, &bits), &h), -13.0, 40.0, 5);
            let rx = assert_clean(rate, &line, &bits, &format!("{rate:?} echo"));
            assert!(rx.quality().snr_db > 30.0, "{:?}", rx.quality());
        }
    }

    fn ber(rate: V17Rate, snr: f32, nbits: usize, seed: u64) -> (f64, RxQuality) {
        let bits = prbs(nbits);
        let line = add_noise(&tx(rate, -13.0, false, &bits), -13.0, snr, seed);
        let mut rx = V17Rx::new(rate);
        let c = receive(&mut rx, &line);
        assert_eq!(
            events(&c)[..2],
            [RxEvent::CarrierUp, RxEvent::TrainingSucceeded],
            "{snr} dB"
        );
        let (n, e) = count_errors(&c.bits, &bits);
        assert!(n >= nbits - 10, "{snr} dB: only {n} bits");
        (e as f64 / n as f64, rx.quality())
    }

    #[test]
    fn bit_error_rate_at_22_and_24_db() {
        let (b22, q22) = ber(V17Rate::Bps14400, 22.0, 600_000, 1);
        let (b24, q24) = ber(V17Rate::Bps14400, 24.0, 1_000_000, 2);
        eprintln!("V.17 14400: BER {b22:.2e} at 22 dB ({q22:?}), {b24:.2e} at 24 dB ({q24:?})");
        assert!(b22 <= 1.5e-3, "22 dB: {b22:e}");
        assert!(b24 <= 2e-5, "24 dB: {b24:e}");
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 1u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as i16
        };
        let inputs: Vec<(&str, Vec<i16>)> = vec![
            ("silence", vec![0; 20_000]),
            ("dc", vec![12_000; 20_000]),
            ("full-scale dc", vec![i16::MIN; 20_000]),
            (
                "square",
                (0..20_000)
                    .map(|i| if i % 6 < 3 { i16::MAX } else { i16::MIN })
                    .collect(),
            ),
            ("noise", (0..40_000).map(|_| rnd()).collect()),
            (
                "clipped tone",
                (0..20_000)
                    .map(|i| ((i as f32 * 0.3).sin() * 1e6).clamp(-32768.0, 32767.0) as i16)
                    .collect(),
            ),
        ];
        for (what, x) in inputs {
            for rate in RATES {
                for short in [false, true] {
                    let mut rx = V17Rx::new(rate);
                    rx.restart(rate, short);
                    let c = receive(&mut rx, &x);
                    let q = rx.quality();
                    assert!(
                        q.snr_db.is_finite()
                            && q.level_dbm0.is_finite()
                            && q.carrier_offset_hz.is_finite()
                            && q.timing_offset_ppm.is_finite(),
                        "{what}: {q:?}"
                    );
                    let ev = events(&c);
                    assert!(
                        !ev.contains(&RxEvent::TrainingSucceeded) && c.bits.is_empty(),
                        "{what}: {ev:?}"
                    );
                    if what == "silence" {
                        assert!(ev.is_empty(), "{what}: {ev:?}");
                    }
                    if what.contains("dc") {
                        assert!(!rx.carrier_present(), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn transmitter_ends() {
        for short in [false, true] {
            let mut t = V17Tx::new(V17Rate::Bps9600, -10.0, short);
            let out = transmit(&mut t, &[], 0, 0);
            let seg2 = if short { SEG2_SHORT } else { SEG2_LONG + SEG3 };
            let symbols = SEG1 + seg2 + SEG4 + TRAILER + TX_SPAN as u32;
            assert!(
                (out.len() as f64 - symbols as f64 * 10.0 / 3.0).abs() < 8.0,
                "{}",
                out.len()
            );
            let mut buf = [0i16; 10];
            assert_eq!(t.transmit(&mut buf, &mut || Some(true)), 0);
        }
    }

    /// Receiver speed: `cargo test -p softfax-dsp --release --lib v17 -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn receiver_speed() {
        let bits = prbs(300_000);
        let line = add_noise(&tx(V17Rate::Bps14400, -13.0, false, &bits), -13.0, 35.0, 9);
        let t0 = std::time::Instant::now();
        let reps = 20;
        let mut nbits = 0;
        for _ in 0..reps {
            let mut rx = V17Rx::new(V17Rate::Bps14400);
            let mut c = crate::modem::Collect::default();
            for chunk in line.chunks(160) {
                rx.receive(chunk, &mut c);
            }
            nbits += c.bits.len();
        }
        let secs = t0.elapsed().as_secs_f64();
        let sps = (line.len() * reps) as f64 / secs;
        eprintln!(
            "V.17 14400 rx: {:.1} Msamples/s = {:.0} channels per core ({nbits} bits)",
            sps / 1e6,
            sps / 8000.0
        );
    }
}
