//! The 8-state trellis code of V.17 §2 (the V.32 code) seen from the receiver, and its
//! Viterbi decoder.

use super::next_state;
use crate::simd::{Isa, Survivors8, Trellis8};

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

/// Decisions come out in blocks of this many symbols (one per `BLOCK` steps).
pub(super) const BLOCK: usize = 8;
/// Saved survivors, one per `BLOCK` steps (enough for `TRACEBACK + BLOCK − 1`).
const SAVED: usize = 4;
const _: () = assert!(TRACEBACK.is_multiple_of(BLOCK) && SAVED > TRACEBACK / BLOCK);

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

/// The Viterbi decoder of the 8-state code. The survivors are kept by register exchange
/// ([`Survivors8`]: per state the last eight labels of its survivor, updated with the
/// add-compare-select in byte shuffles), so the tentative decision a few symbols back is a
/// load; every `BLOCK` steps the survivors are saved with the origins of the paths (the
/// state each was in `BLOCK` steps before), so that the decisions `TRACEBACK` back are
/// `TRACEBACK / BLOCK` look-ups: the best state now, its origin, that one's origin … and
/// the saved labels there. The decisions are those of a traceback from the best state,
/// which this replaced (a chain of dependent look-ups per symbol).
#[derive(Debug, Clone)]
pub(super) struct Viterbi {
    /// The kernels' instruction set (the receiver's branch metrics use it too).
    pub(super) isa: Isa,
    metric: [f32; 8],
    /// The best state after the last step.
    best: usize,
    /// The survivors now …
    surv: Survivors8,
    /// … and at the last `SAVED` multiples of `BLOCK` steps (by step / `BLOCK` mod `SAVED`).
    saved: [Survivors8; SAVED],
    /// Steps so far.
    pub(super) steps: usize,
}

impl Viterbi {
    /// The label `depth` < 8 symbols back on the best path so far: a tentative decision,
    /// far better than the nearest point and late by only `depth`.
    #[inline]
    pub(super) fn tentative(&self, depth: usize) -> u8 {
        self.surv.label[depth & 7][self.best]
    }

    /// A decoder whose path starts in state 0 (the encoder's state at segment 4).
    pub(super) fn new() -> Viterbi {
        let surv = Survivors8 {
            origin: Survivors8::HERE,
            ..Survivors8::default()
        };
        Viterbi {
            isa: Isa::detect(),
            metric: [0.0, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3],
            best: 0,
            surv,
            saved: [surv; SAVED],
            steps: 0,
        }
    }

    /// One symbol: the best label and its squared distance in each subset. Every `BLOCK`
    /// symbols, once the path is `TRACEBACK` deep, returns the labels of the `BLOCK` oldest
    /// undecided symbols (oldest first), all at least `TRACEBACK − 1` symbols back.
    #[inline]
    pub(super) fn step(&mut self, labels: &[u8; 8], dist: &[f32; 8]) -> Option<[u8; BLOCK]> {
        // Add-compare-select and register exchange, all eight states at once.
        let state = self.isa.acs8_survivors(
            &KERNEL_TRELLIS,
            &mut self.metric,
            dist,
            labels,
            &mut self.surv,
            METRIC_CAP,
        );
        self.best = state;
        self.steps += 1;
        if self.steps.is_multiple_of(BLOCK) {
            self.saved[self.steps / BLOCK % SAVED] = self.surv;
            self.surv.origin = Survivors8::HERE;
        }
        let first = TRACEBACK + BLOCK - 1;
        if self.steps < first || !(self.steps - first).is_multiple_of(BLOCK) {
            return None;
        }
        // The best path's labels TRACEBACK − 1 … TRACEBACK + BLOCK − 2 symbols back: the
        // last save was BLOCK − 1 steps ago; follow the origins back TRACEBACK / BLOCK − 1
        // saves more, to the one holding them.
        let mut at = (self.steps - (BLOCK - 1)) / BLOCK;
        let mut s = self.surv.origin[state] as usize & 7;
        for _ in 1..TRACEBACK / BLOCK {
            s = self.saved[at % SAVED].origin[s] as usize & 7;
            at -= 1;
        }
        let there = &self.saved[at % SAVED].label;
        Some(std::array::from_fn(|k| there[BLOCK - 1 - k][s]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::scalar;

    /// The textbook decoder: every step's chosen branches and labels kept, decisions by
    /// traceback from the best state.
    struct Traceback {
        metric: [f32; 8],
        arg: Vec<[u8; 8]>,
        labels: Vec<[u8; 8]>,
        best: usize,
    }

    impl Traceback {
        /// The label `depth` back on the best path.
        fn label(&self, depth: usize) -> u8 {
            let mut s = self.best;
            let mut t = self.arg.len() - 1;
            loop {
                let y = self.arg[t][s] as usize;
                if t + depth == self.arg.len() - 1 {
                    return self.labels[t][SUBSET[y][s] as usize];
                }
                s = PRED[y][s] as usize;
                t -= 1;
            }
        }
    }

    /// Register exchange makes the decisions a traceback makes: the tentative ones at every
    /// depth below 8 after every step, and every block, on noisy symbols (near ties
    /// included: coarse distances in one run).
    #[test]
    fn decisions_are_a_tracebacks() {
        for coarse in [false, true] {
            let mut seed = 3u64;
            let mut rnd = move || {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) as u32
            };
            let mut v = Viterbi::new();
            let mut r = Traceback {
                metric: [0.0, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3],
                arg: Vec::new(),
                labels: Vec::new(),
                best: 0,
            };
            let mut blocks = 0;
            for step in 0..5000 {
                let labels: [u8; 8] = std::array::from_fn(|s| (rnd() % 16) as u8 * 8 + s as u8);
                let dist: [f32; 8] = std::array::from_fn(|_| {
                    let d = (rnd() % 10_000) as f32 / 100.0;
                    if coarse { d.round() } else { d }
                });
                let block = v.step(&labels, &dist);
                let (arg, best) = scalar::acs8(&KERNEL_TRELLIS, &mut r.metric, &dist, METRIC_CAP);
                r.arg.push(arg);
                r.labels.push(labels);
                r.best = best;
                for depth in 0..8.min(step + 1) {
                    assert_eq!(
                        v.tentative(depth),
                        r.label(depth),
                        "step {step} depth {depth}"
                    );
                }
                if let Some(block) = block {
                    let want: [u8; BLOCK] =
                        std::array::from_fn(|k| r.label(TRACEBACK + BLOCK - 2 - k));
                    assert_eq!(block, want, "step {step}");
                    blocks += 1;
                }
            }
            assert_eq!(blocks, (5000 - (TRACEBACK + BLOCK - 1)) / BLOCK + 1);
        }
    }
}
