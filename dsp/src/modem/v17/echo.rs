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
    pub(super) fn new() -> EchoCanceller {
        EchoCanceller {
            sent: [Complex32::default(); ECHO_RING],
            acc: [Complex32::default(); ECHO_MAX - ECHO_MIN + 1],
            count: 0,
            taps: [(0, Complex32::default()); ECHO_TAPS],
            ntaps: 0,
        }
    }

    /// Start a new signal (the echoes found last time stay for a short retrain).
    pub(super) fn restart(&mut self, measure: bool) {
        self.sent = [Complex32::default(); ECHO_RING];
        self.acc = [Complex32::default(); ECHO_MAX - ECHO_MIN + 1];
        self.count = 0;
        if measure {
            self.ntaps = 0;
        }
    }

    pub(super) fn set(&mut self, n: u32, d: Complex32) {
        self.sent[n as usize % ECHO_RING] = d;
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
            e += h * self.sent[(n as usize + ECHO_RING - m) % ECHO_RING];
        }
        e
    }

    /// Measure: symbol `n` came out `err` away from the known `d` (already `set`).
    pub(super) fn measure(&mut self, n: u32, err: Complex32) {
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
    pub(super) fn decide(&mut self, energy: f32) {
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
