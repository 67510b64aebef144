//! The 8-state trellis code of V.17 §2 (the V.32 code) seen from the receiver, and its
//! Viterbi decoder.

use super::next_state;

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

/// The Viterbi decoder of the 8-state code.
#[derive(Debug, Clone)]
pub(super) struct Viterbi {
    metric: [f32; 8],
    /// The best state after the last step.
    best: usize,
    /// Per step: the Y of the branch into each state, and the nearest label in each subset.
    choice: [[u8; 8]; HISTORY],
    labels: [[u8; 8]; HISTORY],
    /// Steps so far.
    pub(super) steps: usize,
}

impl Viterbi {
    /// The label `depth` < `HISTORY` symbols back on the best path so far: a tentative
    /// decision, far better than the nearest point and late by only `depth`.
    #[inline]
    pub(super) fn tentative(&self, depth: usize) -> u8 {
        let mut state = self.best;
        let mut j = (self.steps + HISTORY - 1) % HISTORY;
        for _ in 0..depth {
            state = PRED[self.choice[j][state] as usize][state] as usize;
            j = (j + HISTORY - 1) % HISTORY;
        }
        self.labels[j][SUBSET[self.choice[j][state] as usize][state] as usize]
    }

    /// A decoder whose path starts in state 0 (the encoder's state at segment 4).
    pub(super) fn new() -> Viterbi {
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
    pub(super) fn step(&mut self, labels: &[u8; 8], dist: &[f32; 8]) -> Option<[u8; BLOCK]> {
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
