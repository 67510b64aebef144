//! Store-and-forward delivery (`delivery = "queue"`): a durable spool and its workers.
//!
//! **Durability.** A job is one file, `queue/<id>.job`: a JSON line (the [`Job`]) and the
//! message bytes. It is written to `tmp/`, `fsync`ed, renamed into `queue/`, and `queue/`
//! is `fsync`ed — only then is the final dot answered `250`. Retry state lives next to it
//! in `queue/<id>.state` (written the same way). A finished job's accounting record is
//! appended and synced *before* its files are removed, so after `kill -9` and a restart
//! every job still in `queue/` is delivered (one cut off mid-call is tried again) and no
//! finished one is sent twice.
//!
//! **Workers.** One loop hands due jobs to free lines (one call per line); a call runs on
//! a blocking thread. Temporary failures (4yz) are retried after `retry_s` (back-off) up to
//! `max_attempts`, stepping the fallback ladder ([`super::attempt::ladder`]) after each failure that
//! happened once the fax had answered; permanent failures (5yz) end the job. DSNs
//! ([`super::dsn`]) go out per RFC 3461 NOTIFY, an MDN ([`super::mdn`]) when the message asks.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::attempt::attempt;
use super::job::{Job, sync_dir, write_durable};
use super::pool::LinePool;
use super::record::{append, call_ended, call_started};
use super::{dsn, mdn};
use crate::accounting::{Log, Record};
use crate::config::Config;

/// Retry state of a job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Attempts made so far.
    pub attempts: u32,
    /// Fallback-ladder step for the next attempt.
    pub step: u32,
    /// Not before this (seconds since the epoch).
    pub next_at: u64,
    /// A delay DSN was sent.
    pub delay_notified: bool,
}

/// The spool queue.
pub struct Queue {
    dir: PathBuf,
    tmp: PathBuf,
    in_flight: Mutex<HashSet<String>>,
    wake: tokio::sync::Notify,
    /// `spool/queue.lock`, held: this process is the spool's one writer (queue control,
    /// `super::control`, explains how the others agree).
    _lock: std::fs::File,
}

/// The lock file that makes its holder the spool's one writer.
pub fn lock_path(spool: &Path) -> PathBuf {
    spool.join("queue.lock")
}

/// Take the spool's writer lock without waiting: `Ok(None)` when another process holds it.
pub fn try_lock(spool: &Path) -> std::io::Result<Option<std::fs::File>> {
    std::fs::create_dir_all(spool)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(spool))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A job held out of the workers' reach (queue control); released on drop.
pub struct Hold<'a> {
    q: &'a Queue,
    id: String,
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        self.q
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// The ids of the jobs in the queue folder `dir`, sorted (oldest first).
pub fn pending_in(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut ids = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name();
        if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".job"))
            && !id.starts_with('.')
        {
            ids.push(id.to_string());
        }
    }
    ids.sort();
    Ok(ids)
}

/// Read job `id` from the queue folder `dir`: the job, the message and its retry state.
pub fn load_from(dir: &Path, id: &str) -> std::io::Result<(Job, Vec<u8>, State)> {
    let raw = std::fs::read(dir.join(format!("{id}.job")))?;
    let nl = raw
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| std::io::Error::other("job file without its header line"))?;
    let job: Job = serde_json::from_slice(&raw[..nl]).map_err(std::io::Error::other)?;
    let data = raw[nl + 1..].to_vec();
    let state = match std::fs::read(dir.join(format!("{id}.state"))) {
        Ok(s) => serde_json::from_slice(&s).unwrap_or_default(),
        Err(_) => State::default(),
    };
    Ok((job, data, state))
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl Queue {
    /// Open (and create) `spool/queue` and `spool/tmp`; leftovers in `tmp/` are incomplete
    /// writes that were never acknowledged, and are removed.
    pub fn open(spool: &Path) -> std::io::Result<Queue> {
        let lock = try_lock(spool)?.ok_or_else(|| {
            std::io::Error::other(format!(
                "{} is held: another softfax serve uses this spool",
                lock_path(spool).display()
            ))
        })?;
        Queue::open_locked(spool, lock)
    }

    /// [`open`](Self::open) with the spool's writer lock already taken.
    pub fn open_locked(spool: &Path, lock: std::fs::File) -> std::io::Result<Queue> {
        let dir = spool.join("queue");
        let tmp = spool.join("tmp");
        std::fs::create_dir_all(&dir)?;
        std::fs::create_dir_all(&tmp)?;
        for e in std::fs::read_dir(&tmp)? {
            let _ = std::fs::remove_file(e?.path());
        }
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".tmp-"))
            {
                let _ = std::fs::remove_file(p);
            }
        }
        Ok(Queue {
            dir,
            tmp,
            in_flight: Mutex::new(HashSet::new()),
            wake: tokio::sync::Notify::new(),
            _lock: lock,
        })
    }

    /// Make the jobs durable (all of them, or an error).
    pub fn enqueue(&self, jobs: &[Job], data: &[u8]) -> std::io::Result<()> {
        for job in jobs {
            let mut buf = serde_json::to_vec(job).map_err(std::io::Error::other)?;
            buf.push(b'\n');
            buf.extend_from_slice(data);
            let tmp = self.tmp.join(format!("{}.job", job.id));
            {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&buf)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, self.dir.join(format!("{}.job", job.id)))?;
        }
        sync_dir(&self.dir)?;
        self.wake.notify_one();
        Ok(())
    }

    /// Jobs waiting in the spool (ids).
    pub fn pending(&self) -> std::io::Result<Vec<String>> {
        pending_in(&self.dir)
    }

    pub(crate) fn load(&self, id: &str) -> std::io::Result<(Job, Vec<u8>, State)> {
        load_from(&self.dir, id)
    }

    /// Jobs on a call now (or held by queue control).
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Hold job `id` out of the workers' reach, unless it is on a call (`None`).
    pub fn hold_if_idle(&self, id: &str) -> Option<Hold<'_>> {
        let mut f = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if !f.insert(id.to_string()) {
            return None;
        }
        Some(Hold {
            q: self,
            id: id.to_string(),
        })
    }

    /// Wake the workers (a job became due).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn save_state(&self, id: &str, s: &State) -> std::io::Result<()> {
        let data = serde_json::to_vec(s).map_err(std::io::Error::other)?;
        write_durable(&self.dir, &self.dir.join(format!("{id}.state")), &data)
    }

    pub(crate) fn finish(&self, id: &str) -> std::io::Result<()> {
        let _ = std::fs::remove_file(self.dir.join(format!("{id}.state")));
        std::fs::remove_file(self.dir.join(format!("{id}.job")))?;
        sync_dir(&self.dir)
    }
}

/// Run the queue's workers forever.
pub async fn run(
    q: Arc<Queue>,
    config: Arc<Config>,
    pool: Arc<LinePool>,
    log: Arc<Log>,
    radius: Option<crate::radius::Client>,
) {
    loop {
        let ids = q.pending().unwrap_or_else(|e| {
            tracing::error!("spool: {e}");
            Vec::new()
        });
        let now = now_s();
        let mut next_due: Option<u64> = None;
        for id in ids {
            if q.in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&id)
            {
                continue;
            }
            let (job, data, state) = match q.load(&id) {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(job = %id, "unreadable job, left in the spool: {e}");
                    continue;
                }
            };
            if state.next_at > now {
                next_due = Some(next_due.map_or(state.next_at, |d| d.min(state.next_at)));
                continue;
            }
            // Wait for a line (one call per line), then hand the job over.
            let Some(guard) = pool.acquire(None).await else {
                return;
            };
            // Queue control may have held, cancelled or changed the job while we waited.
            let taken = {
                let mut f = q.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                !f.contains(&id) && q.dir.join(format!("{id}.job")).exists() && f.insert(id.clone())
            };
            if !taken {
                continue;
            }
            let (config, log, q2) = (config.clone(), log.clone(), q.clone());
            let n = state.attempts + 1;
            let session = call_started(radius.as_ref(), &job, &guard.line().port, n);
            let radius = radius.clone();
            tokio::task::spawn_blocking(move || {
                let line = guard.line().clone();
                let r = attempt(&config, &job, &data, &line, n, state.step, 0.0);
                drop(guard);
                append(&log, &r);
                call_ended(radius.as_ref(), session, &r);
                settle(&config, &q2, &job, &data, state, r);
                q2.in_flight
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&job.id);
                q2.wake.notify_one();
            });
        }
        let sleep = next_due.map_or(Duration::from_secs(1), |d| {
            Duration::from_secs(d.saturating_sub(now_s()).clamp(0, 1))
        });
        let _ =
            tokio::time::timeout(sleep.max(Duration::from_millis(200)), q.wake.notified()).await;
    }
}

/// After an attempt: done, retry later, or give up — with the DSN and MDN due.
fn settle(cfg: &Config, q: &Queue, job: &Job, data: &[u8], mut state: State, r: Record) {
    let started = Instant::now();
    state.attempts += 1;
    let last = r.reply_code / 100 != 4 || state.attempts >= cfg.queue.max_attempts;
    match dsn::due(job, &r, last) {
        Some(dsn::Action::Delayed) if state.delay_notified => {}
        Some(action) => {
            dsn::send(cfg, job, data, &r, action);
            state.delay_notified |= action == dsn::Action::Delayed;
        }
        None => {}
    }
    if last {
        mdn::send(cfg, job, data, &r);
    }
    let result = if last {
        q.finish(&job.id)
    } else {
        let i = (state.attempts as usize - 1).min(cfg.queue.retry_s.len() - 1);
        state.next_at = now_s() + cfg.queue.retry_s[i];
        // Step down the ladder only when the fax answered and the transfer failed.
        if r.fax_modem_time.split('/').next().is_some_and(|x| x != "0") {
            state.step += 1;
        }
        q.save_state(&job.id, &state)
    };
    if let Err(e) = result {
        tracing::error!(job = %job.id, "spool: {e}");
    }
    tracing::debug!(job = %job.id, ms = started.elapsed().as_millis() as u64, "settled");
}
