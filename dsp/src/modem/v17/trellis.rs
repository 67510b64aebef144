//! The 8-state trellis code of V.17 §2 (the V.32 code) seen from the receiver, and its
//! Viterbi decoder.

use super::next_state;
use crate::simd::{Isa, Trellis8};

/// Viterbi traceback depth, symbols.
pub(super) const TRACEBACK: usize = 24;

/// The trellis seen from the receiver: for each state and each Y, the state before and the
/// subset (Y0 | Y << 1) of the branch. Y0 is the earlier state's S0, which is the later
/// state's S2.
pub(super) const TRELLIS: [[(u8, u8); 4]; 8] = {
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

/// Survivor history kept by the Viterbi decoder (a power of two ≥ TRACEBACK + BLOCK − 1).
pub(super) const HISTORY: usize = 32;
/// Decisions come out in blocks of this many symbols (one traceback per block).
pub(super) const BLOCK: usize = 8;

/// The trellis by branch: for Y = Y1 + 2·Y2 and each later state, the earlier state.
pub(super) const PRED: [[u8; 8]; 4] = {
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
pub(super) const SUBSET: [[u8; 8]; 4] = {
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

/// The trellis as the add-compare-select kernel reads it.
static KERNEL_TRELLIS: Trellis8 = Trellis8::new(PRED, SUBSET);

/// Metrics are capped here (keeps garbage from growing without bound).
const METRIC_CAP: f32 = 1e6;

/// The Viterbi decoder of the 8-state code. Survivors are kept for traceback: per step, the
/// branch chosen into each state and the best label of each subset (16 bytes, a ring of
/// `HISTORY` steps), so a step stores two words and a decision `depth` back is `depth`
/// table look-ups from the best state (register exchange, which this replaced, copied
/// eight 32-symbol paths on every step; the decisions are the same).
#[derive(Debug, Clone)]
pub(super) struct Viterbi {
    isa: Isa,
    metric: [f32; 8],
    /// The best state after the last step.
    best: usize,
    /// Per step modulo `HISTORY`: the branch Y chosen into each state …
    arg: [[u8; 8]; HISTORY],
    /// … and the best label of each subset.
    labels: [[u8; 8]; HISTORY],
    /// Steps so far.
    pub(super) steps: usize,
}

impl Viterbi {
    /// The label `depth` < `HISTORY` symbols back on the best path so far: a tentative
    /// decision, far better than the nearest point and late by only `depth`.
    #[inline]
    pub(super) fn tentative(&self, depth: usize) -> u8 {
        self.trace(self.best, self.steps + HISTORY - 1, depth, |_, _| {})
    }

    /// From state `s` at step `at` (mod `HISTORY`), back `depth` steps along the survivor:
    /// the label there; `each(d, label)` sees the label `d` back for every `d` ≤ `depth`.
    #[inline(always)]
    fn trace(&self, mut s: usize, at: usize, depth: usize, mut each: impl FnMut(usize, u8)) -> u8 {
        let mut d = 0;
        loop {
            let t = (at - d) % HISTORY;
            let y = (self.arg[t][s] & 3) as usize;
            let label = self.labels[t][SUBSET[y][s] as usize & 7];
            each(d, label);
            if d == depth {
                return label;
            }
            s = PRED[y][s] as usize & 7;
            d += 1;
        }
    }

    /// A decoder whose path starts in state 0 (the encoder's state at segment 4).
    pub(super) fn new() -> Viterbi {
        Viterbi {
            isa: Isa::detect(),
            metric: [0.0, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3],
            best: 0,
            arg: [[0; 8]; HISTORY],
            labels: [[0; 8]; HISTORY],
            steps: 0,
        }
    }

    /// One symbol: the best label and its squared distance in each subset. Every `BLOCK`
    /// symbols, once the path is `TRACEBACK` deep, returns the labels of the `BLOCK` oldest
    /// undecided symbols (oldest first), all at least `TRACEBACK − 1` symbols back.
    #[inline]
    pub(super) fn step(&mut self, labels: &[u8; 8], dist: &[f32; 8]) -> Option<[u8; BLOCK]> {
        let t = self.steps % HISTORY;
        // Add-compare-select, all eight states at once.
        let (arg, state) = self
            .isa
            .acs8(&KERNEL_TRELLIS, &mut self.metric, dist, METRIC_CAP);
        self.arg[t] = arg;
        self.labels[t] = *labels;
        self.best = state;
        self.steps += 1;
        let first = TRACEBACK + BLOCK - 1;
        if self.steps < first || !(self.steps - first).is_multiple_of(BLOCK) {
            return None;
        }
        // The best path's labels TRACEBACK − 1 … TRACEBACK + BLOCK − 2 symbols back.
        let mut out = [0u8; BLOCK];
        self.trace(state, t + HISTORY, first - 1, |d, label| {
            if d >= TRACEBACK - 1 {
                out[BLOCK - 1 - (d - (TRACEBACK - 1))] = label;
            }
        });
        Some(out)
    }
}
