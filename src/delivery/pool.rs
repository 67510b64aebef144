//! The lines of `[[line]]`, one call each at a time: a job waits for a free line that dials
//! (`dial = true`); the on-ramp takes its answering line by index for each incoming call
//! ([`LinePool::acquire_line`]) and gives it back between calls, so a line that both answers
//! and dials carries one call at a time, in either direction.
//!
//! Each line is in one [`PortState`]: idle, waiting (held by the on-ramp until a call comes)
//! or on a call; `/metrics` shows them (`softfax_ports`).
//!
//! [`DestinationLimit`] counts immediate mode's calls per destination number
//! (`max_calls_per_destination`); the queue's schedule keeps its own count
//! (super::schedule).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::LineConfig;

/// What a line is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    /// Free: no call, nobody waiting on it.
    Idle,
    /// Held by an answering line waiting for a call to come (not a call yet).
    Waiting,
    /// A call holds it, placed or answered.
    Busy,
}

impl PortState {
    /// The label `/metrics` gives the state.
    pub fn label(self) -> &'static str {
        match self {
            PortState::Idle => "idle",
            PortState::Waiting => "waiting",
            PortState::Busy => "busy",
        }
    }
}

/// The lines, one call each at a time.
pub struct LinePool {
    lines: Vec<LineConfig>,
    states: Mutex<Vec<PortState>>,
    /// Signalled whenever a line is given back.
    freed: Notify,
    /// Jobs waiting for a line to dial on.
    dialers: AtomicUsize,
    /// Lines taken to dial, now.
    dialing: AtomicUsize,
    /// Draining: no more lines for dialling.
    closed: AtomicBool,
    closing: Notify,
}

/// A line taken from the pool; given back on drop.
pub struct LineGuard {
    pool: Arc<LinePool>,
    index: usize,
    /// Taken to dial ([`LinePool::acquire`]), counted in [`LinePool::dialing`].
    dialing: bool,
}

impl LineGuard {
    pub fn line(&self) -> &LineConfig {
        &self.pool.lines[self.index]
    }

    /// An answering line's call came: the line is on a call now (not waiting any more).
    pub fn in_call(&self) {
        self.pool.set(self.index, PortState::Busy);
    }
}

impl Drop for LineGuard {
    fn drop(&mut self) {
        self.pool.set(self.index, PortState::Idle);
        if self.dialing {
            self.pool.dialing.fetch_sub(1, Ordering::SeqCst);
        }
        self.pool.freed.notify_waiters();
    }
}

/// Counts a waiting dialler while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LinePool {
    pub fn new(lines: Vec<LineConfig>) -> Arc<LinePool> {
        let n = lines.len();
        Arc::new(LinePool {
            lines,
            states: Mutex::new(vec![PortState::Idle; n]),
            freed: Notify::new(),
            dialers: AtomicUsize::new(0),
            dialing: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            closing: Notify::new(),
        })
    }

    fn set(&self, index: usize, state: PortState) {
        let mut s = self.states.lock().unwrap_or_else(|p| p.into_inner());
        s[index] = state;
    }

    /// Each line's `port` and its state now.
    pub fn states(&self) -> Vec<(String, PortState)> {
        let s = self.states.lock().unwrap_or_else(|p| p.into_inner());
        self.lines
            .iter()
            .map(|l| l.port.clone())
            .zip(s.iter().copied())
            .collect()
    }

    /// Lines on a call now, placed or answered (an answering line waiting for a call is not
    /// one).
    pub fn busy(&self) -> usize {
        self.states()
            .iter()
            .filter(|s| s.1 == PortState::Busy)
            .count()
    }

    /// Lines taken to dial out, now.
    pub fn dialing(&self) -> usize {
        self.dialing.load(Ordering::SeqCst)
    }

    /// Start no more calls (draining): every waiting and later [`acquire`](Self::acquire)
    /// gets `None`, answering lines answer no new call (the on-ramp asks
    /// [`is_closed`](Self::is_closed)); calls that hold a line finish.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.closing.notify_waiters();
    }

    /// [`close`](Self::close) was called: the gateway is draining.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Returns once [`close`](Self::close) was called.
    pub async fn closed(&self) {
        loop {
            let n = self.closing.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            n.await;
        }
    }

    /// The configured lines, in order.
    pub fn lines(&self) -> &[LineConfig] {
        &self.lines
    }

    /// Take the first free line among those `pick` accepts, putting it in state `to`, or
    /// `None` now.
    fn try_take(
        self: &Arc<Self>,
        to: PortState,
        pick: impl Fn(usize, &LineConfig) -> bool,
    ) -> Option<LineGuard> {
        let mut s = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let index =
            (0..self.lines.len()).find(|&i| s[i] == PortState::Idle && pick(i, &self.lines[i]))?;
        s[index] = to;
        Some(LineGuard {
            pool: self.clone(),
            index,
            dialing: false,
        })
    }

    /// Wait until `pick` finds a free line.
    async fn take(
        self: &Arc<Self>,
        to: PortState,
        pick: impl Fn(usize, &LineConfig) -> bool,
    ) -> LineGuard {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the look, so a line given back in between is not missed.
            freed.as_mut().enable();
            if let Some(g) = self.try_take(to, &pick) {
                return g;
            }
            freed.await;
        }
    }

    /// Take a free line that dials, waiting at most `wait` (forever with `None`); `None`
    /// when none became free in time, or no line dials.
    pub async fn acquire(self: &Arc<Self>, wait: Option<Duration>) -> Option<LineGuard> {
        if !self.lines.iter().any(|l| l.dial) || self.closed.load(Ordering::SeqCst) {
            return None;
        }
        self.dialers.fetch_add(1, Ordering::SeqCst);
        let _w = Waiting(&self.dialers);
        let take = async {
            tokio::select! {
                biased;
                () = self.closed() => None,
                g = self.take(PortState::Busy, |_, l| l.dial) => Some(g),
            }
        };
        let mut g = match wait {
            Some(w) => tokio::time::timeout(w, take).await.ok().flatten(),
            None => take.await,
        }?;
        g.dialing = true;
        self.dialing.fetch_add(1, Ordering::SeqCst);
        Some(g)
    }

    /// Take line `index` (an answering line), waiting until it is free; it is
    /// [`PortState::Waiting`] until [`LineGuard::in_call`].
    pub async fn acquire_line(self: &Arc<Self>, index: usize) -> LineGuard {
        self.take(PortState::Waiting, |i, _| i == index).await
    }

    /// Jobs are waiting for a line to dial on (the on-ramp lets them have its line between
    /// incoming calls).
    pub fn dialers_waiting(&self) -> bool {
        self.dialers.load(Ordering::SeqCst) > 0
    }
}

/// Calls in progress per destination number, at most `max` each (immediate mode).
pub struct DestinationLimit {
    max: AtomicU32,
    calls: Mutex<HashMap<String, u32>>,
    freed: Notify,
}

/// One call's place in [`DestinationLimit`]; given back on drop.
pub struct DestinationSlot {
    limit: Arc<DestinationLimit>,
    number: String,
}

impl Drop for DestinationSlot {
    fn drop(&mut self) {
        let mut c = self.limit.calls.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.get_mut(&self.number) {
            *n -= 1;
            if *n == 0 {
                c.remove(&self.number);
            }
        }
        drop(c);
        self.limit.freed.notify_waiters();
    }
}

impl DestinationLimit {
    pub fn new(max: u32) -> Arc<DestinationLimit> {
        Arc::new(DestinationLimit {
            max: AtomicU32::new(max.max(1)),
            calls: Mutex::new(HashMap::new()),
            freed: Notify::new(),
        })
    }

    /// A new limit (a reload); calls in progress keep their places.
    pub fn set_max(&self, max: u32) {
        self.max.store(max.max(1), Ordering::SeqCst);
        self.freed.notify_waiters();
    }

    fn try_take(self: &Arc<Self>, number: &str) -> Option<DestinationSlot> {
        let mut c = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let n = c.entry(number.to_string()).or_insert(0);
        if *n >= self.max.load(Ordering::SeqCst) {
            return None;
        }
        *n += 1;
        Some(DestinationSlot {
            limit: self.clone(),
            number: number.to_string(),
        })
    }

    /// Wait until `number` has fewer than `max` calls in progress, and count one more.
    pub async fn acquire(self: &Arc<Self>, number: &str) -> DestinationSlot {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(s) = self.try_take(number) {
                return s;
            }
            freed.await;
        }
    }

    /// Calls in progress to `number`.
    pub fn calls(&self, number: &str) -> u32 {
        let c = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        c.get(number).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_destination_at_its_limit_waits_and_the_others_do_not() {
        let limit = DestinationLimit::new(1);
        let a = limit.acquire("+1").await;
        // Another number goes at once.
        let b = limit.acquire("+2").await;
        assert_eq!((limit.calls("+1"), limit.calls("+2")), (1, 1));
        let l2 = limit.clone();
        let second = tokio::spawn(async move { l2.acquire("+1").await.number.clone() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!second.is_finished(), "+1 has its one call");
        drop(b);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !second.is_finished(),
            "another number's end frees nothing for +1"
        );
        drop(a);
        assert_eq!(second.await.unwrap(), "+1");
        assert_eq!(limit.calls("+1"), 0, "given back on drop");
        limit.set_max(2);
        let _x = limit.acquire("+1").await;
        let _y = limit.acquire("+1").await;
        assert_eq!(limit.calls("+1"), 2);
    }

    fn line(port: &str, dial: bool) -> LineConfig {
        LineConfig {
            uri: "sim:".into(),
            port: port.into(),
            max_rate: None,
            capture: None,
            ecm: true,
            prefer_v17: false,
            impair: None,
            answer: !dial,
            dial,
        }
    }

    #[tokio::test]
    async fn dialling_skips_answer_only_lines_and_waits_for_a_free_one() {
        let pool = LinePool::new(vec![line("a", false), line("b", true)]);
        let g = pool.acquire(Some(Duration::from_millis(10))).await.unwrap();
        assert_eq!(g.line().port, "b");
        assert!(
            pool.acquire(Some(Duration::from_millis(10)))
                .await
                .is_none()
        );
        let p2 = pool.clone();
        let waiter =
            tokio::spawn(async move { p2.acquire(None).await.map(|g| g.line().port.clone()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(pool.dialers_waiting());
        drop(g);
        assert_eq!(waiter.await.unwrap().as_deref(), Some("b"));
        assert!(!pool.dialers_waiting());
    }

    #[tokio::test]
    async fn closing_ends_the_wait_for_a_line_to_dial() {
        let pool = LinePool::new(vec![line("a", true)]);
        let g = pool.acquire(None).await.unwrap();
        let p2 = pool.clone();
        let waiter = tokio::spawn(async move { p2.acquire(None).await.is_none() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        pool.close();
        assert!(waiter.await.unwrap(), "the waiting job gets no line");
        assert_eq!(
            (pool.busy(), pool.dialing()),
            (1, 1),
            "the call holding a line goes on"
        );
        drop(g);
        assert!(
            pool.acquire(Some(Duration::from_millis(10)))
                .await
                .is_none()
        );
        assert_eq!(pool.states(), vec![("a".to_string(), PortState::Idle)]);
        assert_eq!(pool.dialing(), 0);
    }

    #[tokio::test]
    async fn an_answering_line_is_taken_by_index_one_call_at_a_time() {
        let pool = LinePool::new(vec![line("a", true), line("b", true)]);
        let a = pool.acquire_line(0).await;
        let d = pool.acquire(Some(Duration::from_millis(10))).await.unwrap();
        assert_eq!(d.line().port, "b");
        // Waiting for a call is not being on one.
        assert_eq!(
            pool.states(),
            vec![
                ("a".to_string(), PortState::Waiting),
                ("b".to_string(), PortState::Busy)
            ]
        );
        assert_eq!(pool.busy(), 1);
        a.in_call();
        assert_eq!(pool.busy(), 2);
        let p2 = pool.clone();
        let again = tokio::spawn(async move { p2.acquire_line(0).await.line().port.clone() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!again.is_finished());
        drop(a);
        assert_eq!(again.await.unwrap(), "a");
    }
}
