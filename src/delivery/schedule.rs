//! The queue's schedule (sans-IO): which waiting job the next free line takes, and when a
//! job or a destination may be tried again. Time is given by the caller, in milliseconds.
//!
//! - **Per destination** (the job's E.164 number): at most `max_calls_per_destination` calls
//!   in progress at once. Jobs for a destination at its limit wait without holding up the
//!   others: the schedule keeps each destination's jobs in their own queue and offers the
//!   destination that became eligible first.
//! - **Back-off**: after a call to a destination ends busy or unanswered, no call goes to it
//!   for the next `retry_s` step (the first after one such call, the second after two in a
//!   row, …); a call that reaches the fax machine ends the back-off. The job itself waits its
//!   own `retry_s` step as before.
//! - **Jitter**: every retry and back-off delay is stretched or shortened by a random
//!   fraction up to `retry_jitter` (seeded; a test gives the seed), so jobs that failed
//!   together are not all tried again in the same second.
//!
//! Every operation is O(log n) in the jobs waiting: 100,000 standing jobs cost one ordered
//! set entry each and a map entry.

use std::collections::{BTreeSet, HashMap};

/// Milliseconds since the Unix epoch (or any origin the caller keeps to).
pub type Millis = u64;

/// How a call to a destination ended, as far as the destination's back-off goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The fax machine answered (whatever happened next): the back-off ends.
    Answered,
    /// Busy, no answer, or no fax answered: the destination backs off.
    Unanswered,
    /// No call reached the network (our line was down, the document was refused, the job
    /// was gone): the destination's back-off is left as it was.
    NotCalled,
}

impl Ended {
    /// From an accounting record's `status` (docs/contracts/smtp.md).
    pub fn from_status(status: &str) -> Ended {
        match status {
            "busy" | "no_answer" | "no_fax_answer" => Ended::Unanswered,
            "line_down" | "bad_document" | "too_many_pages" | "internal_error" | "no_line"
            | "cancelled" => Ended::NotCalled,
            _ => Ended::Answered,
        }
    }
}

/// A job taken for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub id: String,
    pub destination: String,
}

#[derive(Debug, Default)]
struct Destination {
    /// Its jobs waiting, by due time.
    waiting: BTreeSet<(Millis, String)>,
    /// Calls in progress.
    calls: u32,
    /// No call before this.
    backoff_until: Millis,
    /// Busy or unanswered calls in a row.
    failures: u32,
    /// Its entry in [`Schedule::ready`], when it has one.
    key: Option<Millis>,
}

/// The tunables, from `[queue]` (docs/contracts/config.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    pub max_calls_per_destination: u32,
    /// The retry steps, milliseconds (`retry_s`); the last repeats.
    pub retry_ms: Vec<Millis>,
    /// 0 … 1: each delay is multiplied by a uniform factor in 1 ± this.
    pub jitter: f64,
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a small seeded generator, enough for jitter.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn symmetric(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The waiting jobs, their destinations and the destinations' state.
#[derive(Debug)]
pub struct Schedule {
    tuning: Tuning,
    rng: SplitMix64,
    /// Waiting job → (destination, due).
    jobs: HashMap<String, (String, Millis)>,
    destinations: HashMap<String, Destination>,
    /// (eligible at, destination) for every destination below its limit with a job waiting.
    ready: BTreeSet<(Millis, String)>,
}

impl Schedule {
    pub fn new(tuning: Tuning, seed: u64) -> Schedule {
        Schedule {
            tuning: Tuning {
                max_calls_per_destination: tuning.max_calls_per_destination.max(1),
                jitter: tuning.jitter.clamp(0.0, 1.0),
                ..tuning
            },
            rng: SplitMix64(seed),
            jobs: HashMap::new(),
            destinations: HashMap::new(),
            ready: BTreeSet::new(),
        }
    }

    /// New tunables (a configuration reload); the jobs stay where they are.
    pub fn retune(&mut self, tuning: Tuning) {
        let seed = self.rng.0;
        let old = std::mem::replace(self, Schedule::new(tuning, seed));
        self.jobs = old.jobs;
        self.destinations = old.destinations;
        let names: Vec<String> = self.destinations.keys().cloned().collect();
        for d in names {
            if let Some(dest) = self.destinations.get_mut(&d) {
                dest.key = None;
            }
            self.refresh(&d, 0);
        }
    }

    /// Jobs waiting (not on a call).
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Is job `id` waiting here?
    pub fn contains(&self, id: &str) -> bool {
        self.jobs.contains_key(id)
    }

    /// Calls in progress to `destination`.
    pub fn calls(&self, destination: &str) -> u32 {
        self.destinations.get(destination).map_or(0, |d| d.calls)
    }

    /// Until when `destination` backs off (0: it does not).
    pub fn backoff_until(&self, destination: &str) -> Millis {
        self.destinations
            .get(destination)
            .map_or(0, |d| d.backoff_until)
    }

    /// Add a waiting job, due at `due`; `false` (and nothing changes) when it is already
    /// here.
    pub fn insert(&mut self, id: &str, destination: &str, due: Millis) -> bool {
        if self.jobs.contains_key(id) {
            return false;
        }
        self.jobs
            .insert(id.to_string(), (destination.to_string(), due));
        let d = self
            .destinations
            .entry(destination.to_string())
            .or_default();
        d.waiting.insert((due, id.to_string()));
        self.refresh(destination, 0);
        true
    }

    /// Take job `id` out (cancelled, or finished elsewhere).
    pub fn remove(&mut self, id: &str) -> bool {
        let Some((dest, due)) = self.jobs.remove(id) else {
            return false;
        };
        if let Some(d) = self.destinations.get_mut(&dest) {
            d.waiting.remove(&(due, id.to_string()));
        }
        self.refresh(&dest, 0);
        true
    }

    /// Make waiting job `id` due at `due` (queue control's `retry`).
    pub fn reschedule(&mut self, id: &str, due: Millis) -> bool {
        let Some((dest, _)) = self.jobs.get(id).cloned() else {
            return false;
        };
        self.remove(id);
        self.insert(id, &dest, due)
    }

    /// The operator's `retry` (queue control): waiting job `id` is due at `now`, and its
    /// destination's back-off is lifted.
    pub fn retry_now(&mut self, id: &str, now: Millis) -> bool {
        let Some((dest, _)) = self.jobs.get(id).cloned() else {
            return false;
        };
        if let Some(d) = self.destinations.get_mut(&dest) {
            d.backoff_until = 0;
        }
        self.reschedule(id, now)
    }

    /// When the next job may be taken: the earliest time a destination below its limit has
    /// a due job and no back-off; `None` when nothing waits that could be taken.
    pub fn next_at(&self) -> Option<Millis> {
        self.ready.first().map(|(t, _)| *t)
    }

    /// Take the job to call now, if any: of the destinations eligible by `now`, the one
    /// eligible first; of its jobs, the one due first. Its destination counts one more call
    /// until [`ended`](Self::ended).
    pub fn take(&mut self, now: Millis) -> Option<Taken> {
        let (at, dest) = self.ready.first()?.clone();
        if at > now {
            return None;
        }
        let d = self.destinations.get_mut(&dest)?;
        let (_, id) = d.waiting.pop_first()?;
        d.calls += 1;
        self.jobs.remove(&id);
        self.refresh(&dest, now);
        Some(Taken {
            id,
            destination: dest,
        })
    }

    /// A call to `destination` (from [`take`](Self::take)) ended at `now`.
    pub fn ended(&mut self, destination: &str, how: Ended, now: Millis) {
        let step = match self.destinations.get_mut(destination) {
            Some(d) => {
                d.calls = d.calls.saturating_sub(1);
                match how {
                    Ended::Answered => {
                        d.failures = 0;
                        d.backoff_until = 0;
                        None
                    }
                    Ended::Unanswered => {
                        d.failures += 1;
                        Some(d.failures)
                    }
                    Ended::NotCalled => None,
                }
            }
            None => return,
        };
        if let Some(n) = step {
            let delay = self.retry_delay(n);
            if let Some(d) = self.destinations.get_mut(destination) {
                d.backoff_until = d.backoff_until.max(now + delay);
            }
        }
        self.refresh(destination, now);
    }

    /// The wait before attempt `attempts + 1` after `attempts` failed ones (≥ 1): the
    /// `retry_s` step, with jitter.
    pub fn retry_delay(&mut self, attempts: u32) -> Millis {
        let steps = &self.tuning.retry_ms;
        let base = steps
            .get((attempts.max(1) as usize - 1).min(steps.len().saturating_sub(1)))
            .copied()
            .unwrap_or(60_000);
        let f = 1.0 + self.tuning.jitter * self.rng.symmetric();
        (base as f64 * f).round().max(0.0) as Millis
    }

    /// Put `destination`'s entry in `ready` right, and forget a destination with nothing
    /// left to remember.
    fn refresh(&mut self, destination: &str, now: Millis) {
        let max = self.tuning.max_calls_per_destination;
        let Some(d) = self.destinations.get_mut(destination) else {
            return;
        };
        let key = match d.waiting.first() {
            Some((due, _)) if d.calls < max => Some((*due).max(d.backoff_until)),
            _ => None,
        };
        if key != d.key {
            if let Some(old) = d.key {
                self.ready.remove(&(old, destination.to_string()));
            }
            if let Some(k) = key {
                self.ready.insert((k, destination.to_string()));
            }
            d.key = key;
        }
        if d.waiting.is_empty() && d.calls == 0 && d.backoff_until <= now {
            self.destinations.remove(destination);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(max: u32) -> Schedule {
        Schedule::new(
            Tuning {
                max_calls_per_destination: max,
                retry_ms: vec![60_000, 300_000],
                jitter: 0.2,
            },
            7,
        )
    }

    #[test]
    fn one_destination_at_its_limit_does_not_hold_up_the_others() {
        let mut s = schedule(1);
        // Five jobs for a busy number arrive first, then one each for two others.
        for i in 0..5 {
            s.insert(&format!("busy-{i}"), "+14085550001", 1000 + i);
        }
        s.insert("a", "+14085550002", 2000);
        s.insert("b", "+14085550003", 2001);
        let first = s.take(5000).unwrap();
        assert_eq!(first.id, "busy-0");
        // The busy number has its one call: the next lines go to the others.
        assert_eq!(s.take(5000).unwrap().id, "a");
        assert_eq!(s.take(5000).unwrap().id, "b");
        assert_eq!(s.take(5000), None, "busy-1.. wait for the call in progress");
        assert_eq!(s.calls("+14085550001"), 1);
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn a_limit_of_two_allows_two_calls() {
        let mut s = schedule(2);
        for i in 0..3 {
            s.insert(&format!("j{i}"), "+1", i);
        }
        assert!(s.take(10).is_some());
        assert!(s.take(10).is_some());
        assert_eq!(s.take(10), None);
        s.ended("+1", Ended::Answered, 20);
        assert_eq!(s.take(20).unwrap().id, "j2");
    }

    #[test]
    fn busy_backs_the_destination_off_and_an_answer_ends_it() {
        let mut s = schedule(1);
        s.insert("j0", "+1", 0);
        s.insert("j1", "+1", 0);
        s.insert("other", "+2", 10);
        let t = s.take(100).unwrap();
        assert_eq!(t.id, "j0");
        s.ended("+1", Ended::Unanswered, 1000);
        let until = s.backoff_until("+1");
        // 60 s ± 20 %.
        assert!((1000 + 48_000..=1000 + 72_000).contains(&until), "{until}");
        // j1 is due, but its destination backs off; +2 goes first.
        assert_eq!(s.take(1000).unwrap().id, "other");
        assert_eq!(s.take(until - 1), None);
        assert_eq!(s.next_at(), Some(until));
        let t = s.take(until).unwrap();
        assert_eq!(t.id, "j1");
        // Busy again: the second step (300 s ± 20 %).
        s.insert("j2", "+1", until);
        s.ended("+1", Ended::Unanswered, until);
        let second = s.backoff_until("+1") - until;
        assert!((240_000..=360_000).contains(&second), "{second}");
        // A call that reaches the fax ends the back-off.
        s.ended("+2", Ended::Answered, until);
        s.reschedule("j2", until);
        let t = s.take(s.backoff_until("+1")).unwrap();
        s.insert("j3", "+1", 0);
        s.ended(&t.destination, Ended::Answered, s.backoff_until("+1"));
        assert_eq!(s.backoff_until("+1"), 0);
        assert_eq!(s.take(0).unwrap().id, "j3");
    }

    #[test]
    fn the_operators_retry_lifts_the_backoff() {
        let mut s = schedule(1);
        s.insert("j0", "+1", 0);
        s.insert("j1", "+1", 50_000);
        let t = s.take(0).unwrap();
        s.ended(&t.destination, Ended::Unanswered, 10);
        assert!(s.backoff_until("+1") > 40_000);
        assert_eq!(s.take(100), None);
        assert!(s.retry_now("j1", 100));
        assert_eq!(s.backoff_until("+1"), 0);
        assert_eq!(s.take(100).unwrap().id, "j1");
        assert!(!s.retry_now("gone", 100));
    }

    #[test]
    fn a_line_that_never_called_leaves_the_backoff_alone() {
        let mut s = schedule(1);
        s.insert("j0", "+1", 0);
        s.insert("j1", "+1", 0);
        let t = s.take(0).unwrap();
        s.ended(&t.destination, Ended::NotCalled, 5);
        assert_eq!(s.backoff_until("+1"), 0);
        assert_eq!(s.take(5).unwrap().id, "j1");
    }

    #[test]
    fn jitter_is_seeded_and_spreads_the_retries() {
        let mut a = schedule(1);
        let mut b = schedule(1);
        let da: Vec<Millis> = (0..100).map(|_| a.retry_delay(1)).collect();
        let db: Vec<Millis> = (0..100).map(|_| b.retry_delay(1)).collect();
        assert_eq!(da, db, "same seed, same delays");
        assert!(da.iter().all(|d| (48_000..=72_000).contains(d)), "{da:?}");
        let mut sorted = da.clone();
        sorted.sort();
        sorted.dedup();
        assert!(sorted.len() > 90, "the delays differ: {sorted:?}");
        // Both halves of the range are used.
        assert!(da.iter().any(|&d| d < 54_000) && da.iter().any(|&d| d > 66_000));
        // The last step repeats.
        assert!((240_000..=360_000).contains(&a.retry_delay(9)));
        let mut none = Schedule::new(
            Tuning {
                max_calls_per_destination: 1,
                retry_ms: vec![1000],
                jitter: 0.0,
            },
            1,
        );
        assert_eq!(none.retry_delay(1), 1000);
    }

    #[test]
    fn insert_is_idempotent_and_remove_forgets() {
        let mut s = schedule(1);
        assert!(s.insert("j", "+1", 5));
        assert!(!s.insert("j", "+1", 0), "already waiting");
        assert_eq!(s.next_at(), Some(5));
        assert!(s.remove("j"));
        assert!(!s.remove("j"));
        assert_eq!(s.next_at(), None);
        assert!(s.is_empty());
        assert!(s.destinations.is_empty(), "nothing left to remember");
    }

    #[test]
    fn retuning_keeps_the_jobs_and_applies_the_new_limit() {
        let mut s = schedule(1);
        for i in 0..3 {
            s.insert(&format!("j{i}"), "+1", 0);
        }
        assert!(s.take(0).is_some());
        assert_eq!(s.take(0), None);
        s.retune(Tuning {
            max_calls_per_destination: 3,
            retry_ms: vec![1000],
            jitter: 0.0,
        });
        assert!(s.take(0).is_some());
        assert!(s.take(0).is_some());
        assert_eq!(s.take(0), None);
        assert_eq!(s.calls("+1"), 3);
    }

    #[test]
    fn the_oldest_eligible_destination_goes_first_among_many() {
        let mut s = schedule(1);
        for i in 0..10_000u64 {
            s.insert(&format!("j{i}"), &format!("+{}", i % 1000), 10_000 - i);
        }
        let mut last = 0;
        for _ in 0..1000 {
            let t = s.take(20_000).unwrap();
            let due = 10_000 - t.id[1..].parse::<u64>().unwrap();
            assert!(due >= last);
            last = due;
        }
        // Every destination has its one call now.
        assert_eq!(s.take(20_000), None);
        assert_eq!(s.len(), 9000);
    }
}
