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
//! **Workers.** The waiting jobs are indexed in memory ([`super::schedule`]: by destination
//! number and due time, read from the spool once at start and kept up to date by every
//! enqueue, attempt and queue-control change), so a free line is given its next job without
//! reading the spool, however many jobs stand in it. One loop hands the job the schedule
//! offers to a free line (one call per line, at most `max_calls_per_destination` per
//! number); a call runs on a blocking thread. Temporary failures (4yz) are retried after
//! `retry_s` with jitter up to `max_attempts`, stepping the fallback ladder
//! ([`super::attempt::ladder`]) after each failure that happened once the fax had answered;
//! a busy or unanswered call also backs its destination off; permanent failures (5yz) end
//! the job. DSNs ([`super::dsn`]) go out per RFC 3461 NOTIFY, an MDN ([`super::mdn`]) when
//! the message asks.

use std::collections::HashSet;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::attempt::attempt;
use super::job::{Job, sync_dir, write_durable};
use super::pool::LinePool;
use super::record::{append, call_ended, call_started};
use super::schedule::{Ended, Millis, Schedule, Tuning};
use super::{dsn, mdn};
use crate::accounting::{Log, Record};
use crate::config::{Config, Limits, QueueConfig};

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
    /// The waiting jobs by destination and due time (the in-flight ones are not in it).
    schedule: Mutex<Schedule>,
    /// The schedule was filled from the spool (once per process: a reload keeps it).
    recovered: std::sync::atomic::AtomicBool,
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

/// Read job `id`'s header line and retry state only (not the message).
pub fn load_head(dir: &Path, id: &str) -> std::io::Result<(Job, State)> {
    let f = std::fs::File::open(dir.join(format!("{id}.job")))?;
    let mut line = Vec::new();
    std::io::BufReader::new(f)
        .take(1 << 20)
        .read_until(b'\n', &mut line)?;
    let job: Job = serde_json::from_slice(&line).map_err(std::io::Error::other)?;
    let state = match std::fs::read(dir.join(format!("{id}.state"))) {
        Ok(s) => serde_json::from_slice(&s).unwrap_or_default(),
        Err(_) => State::default(),
    };
    Ok((job, state))
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as Millis
}

/// The schedule's tunables from the configuration.
fn tuning(limits: &Limits, queue: &QueueConfig) -> Tuning {
    Tuning {
        max_calls_per_destination: limits.max_calls_per_destination,
        retry_ms: queue.retry_s.iter().map(|s| s * 1000).collect(),
        jitter: queue.retry_jitter,
    }
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
        let seed = now_ms() ^ (u64::from(std::process::id()) << 32);
        Ok(Queue {
            dir,
            tmp,
            in_flight: Mutex::new(HashSet::new()),
            schedule: Mutex::new(Schedule::new(
                tuning(&Limits::default(), &QueueConfig::default()),
                seed,
            )),
            recovered: std::sync::atomic::AtomicBool::new(false),
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
        {
            let now = now_ms();
            let mut s = self.schedule();
            for job in jobs {
                s.insert(&job.id, &job.number, now);
            }
        }
        self.wake.notify_one();
        Ok(())
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fill the schedule from the spool (once; a reload's workers find it filled): every
    /// job by its number and the time its retry state says. Blocking.
    fn recover(&self) -> std::io::Result<usize> {
        if self
            .recovered
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(0);
        }
        let mut n = 0;
        for id in self.pending()? {
            match load_head(&self.dir, &id) {
                Ok((job, state)) => {
                    n += usize::from(self.schedule().insert(
                        &id,
                        &job.number,
                        state.next_at.saturating_mul(1000),
                    ));
                }
                // Gone meanwhile (delivered or cancelled), or unreadable: left alone.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::error!(job = %id, "unreadable job, left in the spool: {e}"),
            }
        }
        Ok(n)
    }

    /// Queue control's `retry`: waiting job `id` is due now, its destination's back-off
    /// lifted.
    pub(crate) fn retry_now(&self, id: &str) {
        self.schedule().retry_now(id, now_ms());
        self.wake();
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
        self.schedule().remove(id);
        let _ = std::fs::remove_file(self.dir.join(format!("{id}.state")));
        std::fs::remove_file(self.dir.join(format!("{id}.job")))?;
        sync_dir(&self.dir)
    }
}

/// Run the queue's workers until the pool closes (draining).
pub async fn run(
    q: Arc<Queue>,
    config: Arc<Config>,
    pool: Arc<LinePool>,
    log: Arc<Log>,
    radius: Option<crate::radius::Client>,
) {
    q.schedule().retune(tuning(&config.limits, &config.queue));
    let q2 = q.clone();
    match tokio::task::spawn_blocking(move || q2.recover()).await {
        Ok(Ok(n)) if n > 0 => tracing::info!(jobs = n, "queue recovered from the spool"),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!("spool: {e}"),
        Err(e) => tracing::error!("queue recovery failed: {e}"),
    }
    loop {
        let now = now_ms();
        let next = q.schedule().next_at();
        let wait = match next {
            Some(t) if t <= now => None,
            // Woken earlier by a new job, a call's end or queue control.
            Some(t) => Some(Duration::from_millis(t - now)),
            None => Some(Duration::from_secs(3600)),
        };
        if let Some(w) = wait {
            let _ = tokio::time::timeout(w, q.wake.notified()).await;
            continue;
        }
        // A job is ready: wait for a line (one call per line), then take what is ready now.
        let Some(guard) = pool.acquire(None).await else {
            return;
        };
        let taken = q.schedule().take(now_ms());
        let Some(taken) = taken else {
            continue;
        };
        // Queue control may hold the job (cancel, retry under way): back it goes.
        let free = q
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(taken.id.clone());
        if !free {
            let mut s = q.schedule();
            s.ended(&taken.destination, Ended::NotCalled, now_ms());
            s.insert(&taken.id, &taken.destination, now_ms() + 1000);
            continue;
        }
        let (config, log, q2, radius) = (config.clone(), log.clone(), q.clone(), radius.clone());
        tokio::task::spawn_blocking(move || {
            let ended = match q2.load(&taken.id) {
                Ok((job, data, state)) => {
                    let n = state.attempts + 1;
                    let line = guard.line().clone();
                    let session = call_started(radius.as_ref(), &job, &line.port, n);
                    let r = attempt(&config, &job, &data, &line, n, state.step, 0.0);
                    drop(guard);
                    append(&log, &r);
                    call_ended(radius.as_ref(), session, &r);
                    let how = Ended::from_status(&r.status);
                    let retry = settle(&config, &q2, &job, &data, state, r);
                    Some((how, retry))
                }
                Err(e) => {
                    drop(guard);
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::error!(job = %taken.id, "unreadable job, left in the spool: {e}");
                    }
                    None
                }
            };
            q2.in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&taken.id);
            let now = now_ms();
            let mut s = q2.schedule();
            match ended {
                Some((how, retry)) => {
                    s.ended(&taken.destination, how, now);
                    if let Some(due) = retry {
                        s.insert(&taken.id, &taken.destination, due);
                    }
                }
                None => s.ended(&taken.destination, Ended::NotCalled, now),
            }
            drop(s);
            q2.wake.notify_one();
        });
    }
}

/// After an attempt: done, retry later, or give up — with the DSN and MDN due. Returns when
/// the job is due again (milliseconds since the epoch), `None` when it is finished.
fn settle(
    cfg: &Config,
    q: &Queue,
    job: &Job,
    data: &[u8],
    mut state: State,
    r: Record,
) -> Option<Millis> {
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
    let mut due = None;
    let result = if last {
        q.finish(&job.id)
    } else {
        let at = now_ms() + q.schedule().retry_delay(state.attempts);
        state.next_at = at.div_ceil(1000);
        due = Some(at);
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
    due
}
