//! The far-echo canceller of the V.17 receiver (an addition of this receiver's: V.17 asks
//! nothing of the kind, but a reflection beyond the equaliser's span would otherwise eat
//! into the 128-point constellation's margin).

use num_complex::Complex32;

/// Echo delays the far-echo canceller covers, symbols: from beyond the decoder's delay
/// (decisions are final by then) to 128 (53 ms).
pub(super) const ECHO_MIN: usize = 32;
pub(super) const ECHO_MAX: usize = 128;
/// Echoes it cancels at most.
pub(super) const ECHO_TAPS: usize = 4;
/// Symbols kept for it (a power of two above `ECHO_MAX`).
pub(super) const ECHO_RING: usize = 256;
/// Segment 2 symbols after which the echo estimate starts (the equaliser has settled).
pub(super) const ECHO_FROM: u32 = 500;

/// Cancels echoes of the signal itself that arrive more than `ECHO_MIN` symbols late (a
/// reflection at the far end of the line; the equaliser spans only 16 symbols). Each one
/// adds h·d[k−m] to symbol k: over segment 2, where d is known, the correlation of the
/// equaliser's error with d[k−m] measures h for every m; the strongest few are kept and,
/// from then on, h·d[k−m] is taken off each symbol, d being the training symbols and then
/// the decoder's final decisions.
#[derive(Debug, Clone)]
pub(super) struct EchoCanceller {
    /// What was sent, as known or decided, by symbol number (since segment 2 began): real
    /// and imaginary parts, each written twice (at k mod `ECHO_RING` and `ECHO_RING` further
    /// on), so that the `LAGS` symbols a measurement correlates with are one run of memory.
    sent_re: [f32; 2 * ECHO_RING],
    sent_im: [f32; 2 * ECHO_RING],
    /// Σ error·d*[k−m], index j for delay m = `ECHO_MAX` − j, split; and the symbols summed.
    acc_re: [f32; LAGS],
    acc_im: [f32; LAGS],
    count: u32,
    /// The echoes: delay and gain.
    taps: [(usize, Complex32); ECHO_TAPS],
    ntaps: usize,
}

/// Delays measured: `ECHO_MIN` to `ECHO_MAX`.
const LAGS: usize = ECHO_MAX - ECHO_MIN + 1;

impl EchoCanceller {
    pub(super) fn new() -> EchoCanceller {
        EchoCanceller {
            sent_re: [0.0; 2 * ECHO_RING],
            sent_im: [0.0; 2 * ECHO_RING],
            acc_re: [0.0; LAGS],
            acc_im: [0.0; LAGS],
            count: 0,
            taps: [(0, Complex32::default()); ECHO_TAPS],
            ntaps: 0,
        }
    }

    /// Start a new signal (the echoes found last time stay for a short retrain).
    pub(super) fn restart(&mut self, measure: bool) {
        self.sent_re = [0.0; 2 * ECHO_RING];
        self.sent_im = [0.0; 2 * ECHO_RING];
        self.acc_re = [0.0; LAGS];
        self.acc_im = [0.0; LAGS];
        self.count = 0;
        if measure {
            self.ntaps = 0;
        }
    }

    pub(super) fn set(&mut self, n: u32, d: Complex32) {
        let k = n as usize % ECHO_RING;
        self.sent_re[k] = d.re;
        self.sent_re[k + ECHO_RING] = d.re;
        self.sent_im[k] = d.im;
        self.sent_im[k + ECHO_RING] = d.im;
    }

    /// What was sent `m` symbols before symbol `n` (`m` ≤ `ECHO_RING`).
    #[inline]
    fn sent(&self, n: u32, m: usize) -> Complex32 {
        let k = (n as usize + ECHO_RING - m) % ECHO_RING;
        Complex32::new(self.sent_re[k], self.sent_im[k])
    }

    /// Are echoes being cancelled (else what was sent need not be kept after training)?
    #[inline]
    pub(super) fn active(&self) -> bool {
        self.ntaps > 0
    }

    /// The echo in symbol `n`.
    #[inline]
    pub(super) fn echo(&self, n: u32) -> Complex32 {
        let mut e = Complex32::default();
        for &(m, h) in &self.taps[..self.ntaps] {
            e += h * self.sent(n, m);
        }
        e
    }

    /// Measure: symbol `n` came out `err` away from the known `d` (already `set`). Every
    /// delay's term is err·d*[n−m], the same products as one complex multiply each, over
    /// split arrays the compiler vectorises (it runs on every symbol of segment 2).
    pub(super) fn measure(&mut self, n: u32, err: Complex32) {
        if n < ECHO_FROM || !err.norm_sqr().is_finite() {
            return;
        }
        // d[n − ECHO_MAX] … d[n − ECHO_MIN], oldest first.
        let from = (n as usize + ECHO_RING - ECHO_MAX) % ECHO_RING;
        let re = &self.sent_re[from..from + LAGS];
        let im = &self.sent_im[from..from + LAGS];
        for (((a_re, a_im), &s_re), &s_im) in
            self.acc_re.iter_mut().zip(&mut self.acc_im).zip(re).zip(im)
        {
            // err·conj(s): (e_re·s_re − e_im·(−s_im), e_re·(−s_im) + e_im·s_re).
            *a_re += err.re * s_re - err.im * -s_im;
            *a_im += err.re * -s_im + err.im * s_re;
        }
        self.count += 1;
    }

    /// Keep the echoes clearly above the estimate's noise (a few thousandths).
    pub(super) fn decide(&mut self, energy: f32) {
        self.ntaps = 0;
        if self.count == 0 {
            return;
        }
        let scale = 1.0 / (self.count as f32 * energy);
        let mut found: [(usize, Complex32); ECHO_TAPS] = [(0, Complex32::default()); ECHO_TAPS];
        // Shortest delay first (ties keep the shorter one).
        for (j, (&re, &im)) in self.acc_re.iter().zip(&self.acc_im).enumerate().rev() {
            let h = Complex32::new(re, im) * scale;
            // Replace the weakest kept if this one is stronger.
            let weakest = (0..ECHO_TAPS)
                .min_by(|&x, &y| found[x].1.norm_sqr().total_cmp(&found[y].1.norm_sqr()))
                .unwrap_or(0);
            if h.norm_sqr() > found[weakest].1.norm_sqr() {
                found[weakest] = (ECHO_MAX - j, h);
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
