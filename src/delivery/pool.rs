//! The lines of `[[line]]`, one call each at a time: a job waits for a free line that dials
//! (`dial = true`); the on-ramp takes its answering line by index for each incoming call
//! ([`LinePool::acquire_line`]) and gives it back between calls, so a line that both answers
//! and dials carries one call at a time, in either direction.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::LineConfig;

/// The lines, one call each at a time.
pub struct LinePool {
    lines: Vec<LineConfig>,
    busy: Mutex<Vec<bool>>,
    /// Signalled whenever a line is given back.
    freed: Notify,
    /// Jobs waiting for a line to dial on.
    dialers: AtomicUsize,
}

/// A line taken from the pool; given back on drop.
pub struct LineGuard {
    pool: Arc<LinePool>,
    index: usize,
}

impl LineGuard {
    pub fn line(&self) -> &LineConfig {
        &self.pool.lines[self.index]
    }
}

impl Drop for LineGuard {
    fn drop(&mut self) {
        let mut b = self.pool.busy.lock().unwrap_or_else(|p| p.into_inner());
        b[self.index] = false;
        drop(b);
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
            busy: Mutex::new(vec![false; n]),
            freed: Notify::new(),
            dialers: AtomicUsize::new(0),
        })
    }

    /// The configured lines, in order.
    pub fn lines(&self) -> &[LineConfig] {
        &self.lines
    }

    /// Take the first free line among those `pick` accepts, or `None` now.
    fn try_take(self: &Arc<Self>, pick: impl Fn(usize, &LineConfig) -> bool) -> Option<LineGuard> {
        let mut b = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let index = (0..self.lines.len()).find(|&i| !b[i] && pick(i, &self.lines[i]))?;
        b[index] = true;
        Some(LineGuard {
            pool: self.clone(),
            index,
        })
    }

    /// Wait until `pick` finds a free line.
    async fn take(self: &Arc<Self>, pick: impl Fn(usize, &LineConfig) -> bool) -> LineGuard {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the look, so a line given back in between is not missed.
            freed.as_mut().enable();
            if let Some(g) = self.try_take(&pick) {
                return g;
            }
            freed.await;
        }
    }

    /// Take a free line that dials, waiting at most `wait` (forever with `None`); `None`
    /// when none became free in time, or no line dials.
    pub async fn acquire(self: &Arc<Self>, wait: Option<Duration>) -> Option<LineGuard> {
        if !self.lines.iter().any(|l| l.dial) {
            return None;
        }
        self.dialers.fetch_add(1, Ordering::SeqCst);
        let _w = Waiting(&self.dialers);
        let take = self.take(|_, l| l.dial);
        match wait {
            Some(w) => tokio::time::timeout(w, take).await.ok(),
            None => Some(take.await),
        }
    }

    /// Take line `index` (an answering line), waiting until it is free.
    pub async fn acquire_line(self: &Arc<Self>, index: usize) -> LineGuard {
        self.take(|i, _| i == index).await
    }

    /// Jobs are waiting for a line to dial on (the on-ramp lets them have its line between
    /// incoming calls).
    pub fn dialers_waiting(&self) -> bool {
        self.dialers.load(Ordering::SeqCst) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(port: &str, dial: bool) -> LineConfig {
        LineConfig {
            uri: "sim:".into(),
            port: port.into(),
            max_rate: None,
            capture: None,
            ecm: true,
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
    async fn an_answering_line_is_taken_by_index_one_call_at_a_time() {
        let pool = LinePool::new(vec![line("a", true), line("b", true)]);
        let a = pool.acquire_line(0).await;
        let d = pool.acquire(Some(Duration::from_millis(10))).await.unwrap();
        assert_eq!(d.line().port, "b");
        let p2 = pool.clone();
        let again = tokio::spawn(async move { p2.acquire_line(0).await.line().port.clone() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!again.is_finished());
        drop(a);
        assert_eq!(again.await.unwrap(), "a");
    }
}
