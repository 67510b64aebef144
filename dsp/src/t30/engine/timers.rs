//! The T.30 timers (T.30 §5.4.3.2, and T5 of Annex A): one deadline slot per timer, so
//! starting, stopping and expiry take the same path for all four.

use super::{Config, SampleTime};

/// The T.30 timers (durations as [`Config`] gives them; the defaults are T.30's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Identify each other in phase B: 35 s.
    T1,
    /// Wait for a command (page, post-page command): 7 s.
    T2,
    /// Wait for a response before repeating the command: 3.45 s.
    T4,
    /// ECM: wait for the receiver to leave the busy state (RNR): 65 s.
    T5,
}

impl Timer {
    /// The order in which timers that expired together fire.
    pub(super) const FIRING_ORDER: [Timer; 4] = [Timer::T4, Timer::T2, Timer::T1, Timer::T5];

    fn slot(self) -> usize {
        match self {
            Timer::T1 => 0,
            Timer::T2 => 1,
            Timer::T4 => 2,
            Timer::T5 => 3,
        }
    }
}

impl Config {
    /// How long timer `t` runs, in samples.
    pub fn duration(&self, t: Timer) -> u64 {
        match t {
            Timer::T1 => self.t1,
            Timer::T2 => self.t2,
            Timer::T4 => self.t4,
            Timer::T5 => self.t5,
        }
    }
}

/// When each running timer expires.
#[derive(Debug, Default)]
pub(super) struct Timers([Option<SampleTime>; 4]);

impl Timers {
    pub fn start_at(&mut self, t: Timer, at: SampleTime) {
        self.0[t.slot()] = Some(at);
    }

    pub fn stop(&mut self, t: Timer) {
        self.0[t.slot()] = None;
    }

    pub fn stop_all(&mut self) {
        self.0 = [None; 4];
    }

    pub fn running(&self, t: Timer) -> bool {
        self.0[t.slot()].is_some()
    }

    /// The earliest deadline of the running timers.
    pub fn next(&self) -> Option<SampleTime> {
        self.0.iter().flatten().min().copied()
    }

    /// Whether `t` has expired by `now`; an expired timer stops.
    pub fn take_expired(&mut self, t: Timer, now: SampleTime) -> bool {
        let slot = &mut self.0[t.slot()];
        let expired = slot.is_some_and(|at| at <= now);
        if expired {
            *slot = None;
        }
        expired
    }
}
