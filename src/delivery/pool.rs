//! The lines of `[[line]]`, one call each at a time: a job waits for a free one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::LineConfig;

/// The lines, one call each at a time.
pub struct LinePool {
    lines: Vec<LineConfig>,
    busy: Mutex<Vec<bool>>,
    permits: Arc<tokio::sync::Semaphore>,
}

/// A line taken from the pool; given back on drop.
pub struct LineGuard {
    pool: Arc<LinePool>,
    index: usize,
    _permit: tokio::sync::OwnedSemaphorePermit,
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
    }
}

impl LinePool {
    pub fn new(lines: Vec<LineConfig>) -> Arc<LinePool> {
        let n = lines.len();
        Arc::new(LinePool {
            lines,
            busy: Mutex::new(vec![false; n]),
            permits: Arc::new(tokio::sync::Semaphore::new(n)),
        })
    }

    /// Take a free line, waiting at most `wait` (forever with `None`).
    pub async fn acquire(self: &Arc<Self>, wait: Option<Duration>) -> Option<LineGuard> {
        let p = self.permits.clone().acquire_owned();
        let permit = match wait {
            Some(w) => tokio::time::timeout(w, p).await.ok()?.ok()?,
            None => p.await.ok()?,
        };
        let mut b = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let index = b.iter().position(|x| !x)?;
        b[index] = true;
        Some(LineGuard {
            pool: self.clone(),
            index,
            _permit: permit,
        })
    }
}
