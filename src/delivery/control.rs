//! Queue control (`softfax queue list|show|cancel|retry`, docs/operations.md) and the
//! queue's gauges for the metrics.
//!
//! **One writer.** Only the process holding `spool/queue.lock` (an exclusive `flock`)
//! changes the spool: `softfax serve` in queue mode holds it from start to exit. Reading is
//! always safe — every spool file appears by an atomic rename — so `list` and `show` read
//! directly. `cancel` and `retry` first try the lock themselves: when no `serve` runs they
//! get it and change the spool under it. Otherwise they drop a request,
//! `spool/control/<request>.req` (written durably, renamed into place), and wait for
//! `serve`'s control task to apply it and answer in `<request>.done`. In `serve`, the
//! control task and the workers agree through the queue's in-flight set: a job is taken for
//! a call only if its file is still there once its line is held, and a job on a call is
//! neither cancelled nor retried (the answer says so).
//!
//! `cancel` removes the job, appends a `cancelled` accounting record and sends the failure
//! DSN as the job's NOTIFY asks (RFC 3461: unless `NOTIFY=NEVER`) and the MDN when the
//! message asked for one; `retry` makes a waiting job due now.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::job::{Job, write_durable};
use super::pool::LinePool;
use super::queue::{Queue, State};
use super::record::{append, job_record};
use super::verdict::Verdict;
use super::{dsn, mdn};
use crate::accounting::{Log, rfc3339};
use crate::config::Config;
use crate::metrics::{Collect, Exposition};

pub use super::queue::{lock_path, try_lock};

/// A change to a queued job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Cancel,
    Retry,
}

/// A request file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub op: Op,
    pub id: String,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// `done`, `unknown` (no such job) or `busy` (the job is on a call now).
    pub result: String,
    pub message: String,
}

impl Answer {
    fn new(result: &str, message: String) -> Answer {
        Answer {
            result: result.into(),
            message,
        }
    }
}

/// One queued job as `list` and `show` present it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub sender: String,
    pub recipient: String,
    pub number: String,
    pub dial: String,
    pub arrival: String,
    pub message_id: String,
    pub attempts: u32,
    /// When the next attempt is due (RFC 3339); empty: due now.
    pub next_attempt: String,
    pub delay_notified: bool,
    pub size: u64,
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl Entry {
    fn new(job: &Job, state: &State, size: u64) -> Entry {
        Entry {
            id: job.id.clone(),
            sender: job.sender.clone(),
            recipient: job.recipient.clone(),
            number: job.number.clone(),
            dial: job.dial.clone(),
            arrival: job.arrival.clone(),
            message_id: job.message_id.clone(),
            attempts: state.attempts,
            next_attempt: if state.next_at > now_s() {
                rfc3339(UNIX_EPOCH + Duration::from_secs(state.next_at))
            } else {
                String::new()
            },
            delay_notified: state.delay_notified,
            size,
        }
    }
}

/// The jobs in `spool`'s queue (read only; safe while `serve` runs). A job that vanishes
/// while being read (delivered meanwhile) is left out.
pub fn list(spool: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for id in super::queue::pending_in(&spool.join("queue"))? {
        if let Ok(e) = show(spool, &id) {
            out.push(e);
        }
    }
    Ok(out)
}

/// One job.
pub fn show(spool: &Path, id: &str) -> std::io::Result<Entry> {
    check_id(id)?;
    let dir = spool.join("queue");
    let (job, data, state) = super::queue::load_from(&dir, id)?;
    Ok(Entry::new(&job, &state, data.len() as u64))
}

fn check_id(id: &str) -> std::io::Result<()> {
    if id.is_empty()
        || id.starts_with('.')
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("'{id}' is not a job id"),
        ));
    }
    Ok(())
}

/// Apply `req` as the spool's writer (the caller holds the lock, or is `serve`).
pub fn apply(config: &Config, q: &Queue, log: &Log, req: &Request) -> Answer {
    if check_id(&req.id).is_err() {
        return Answer::new("unknown", format!("'{}' is not a job id", req.id));
    }
    // Under the in-flight lock: a worker cannot take the job for a call meanwhile.
    let taken = q.hold_if_idle(&req.id);
    let Some(_hold) = taken else {
        return Answer::new(
            "busy",
            format!(
                "job {} is on a call now; try again when the call ends",
                req.id
            ),
        );
    };
    let (job, data, mut state) = match q.load(&req.id) {
        Ok(x) => x,
        Err(_) => return Answer::new("unknown", format!("no job {} in the queue", req.id)),
    };
    match req.op {
        Op::Retry => {
            state.next_at = 0;
            match q.save_state(&req.id, &state) {
                Ok(()) => {
                    q.retry_now(&req.id);
                    Answer::new("done", format!("job {} is due now", req.id))
                }
                Err(e) => Answer::new("error", format!("spool: {e}")),
            }
        }
        Op::Cancel => {
            let mut r = job_record(config, &job, "", state.attempts.max(1));
            Verdict::without_call(
                "cancelled",
                "Cancelled by the operator",
                (554, "5.0.0"),
                1,
                0,
            )
            .stamp(&mut r);
            append(log, &r);
            // A final failure: the DSN its NOTIFY asks for, and the MDN when it asked one.
            if let Some(action) = dsn::due(&job, &r, true) {
                dsn::send(config, &job, &data, &r, action);
            }
            mdn::send(config, &job, &data, &r);
            match q.finish(&req.id) {
                Ok(()) => Answer::new("done", format!("job {} cancelled", req.id)),
                Err(e) => Answer::new("error", format!("spool: {e}")),
            }
        }
    }
}

/// The control folder of a spool.
pub fn control_dir(spool: &Path) -> PathBuf {
    spool.join("control")
}

/// Ask a running `serve` to apply `req`; wait up to `wait` for its answer.
pub fn request(spool: &Path, req: &Request, wait: Duration) -> std::io::Result<Option<Answer>> {
    let dir = control_dir(spool);
    let name = format!(
        "{}-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros(),
        std::process::id()
    );
    let body = serde_json::to_vec(req).map_err(std::io::Error::other)?;
    write_durable(&dir, &dir.join(format!("{name}.req")), &body)?;
    let done = dir.join(format!("{name}.done"));
    let until = std::time::Instant::now() + wait;
    while std::time::Instant::now() < until {
        if let Ok(b) = std::fs::read(&done) {
            let _ = std::fs::remove_file(&done);
            return serde_json::from_slice(&b)
                .map(Some)
                .map_err(std::io::Error::other);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(None)
}

/// `serve`'s control task: apply the requests dropped into `spool/control`, oldest first.
pub async fn run(q: Arc<Queue>, config: Arc<Config>, log: Arc<Log>) {
    let dir = control_dir(&config.spool);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::error!(dir = %dir.display(), "queue control: {e}");
        return;
    }
    loop {
        let mut reqs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "req"))
                    .collect()
            })
            .unwrap_or_default();
        reqs.sort();
        for path in reqs {
            let (q, config, log) = (q.clone(), config.clone(), log.clone());
            let p = path.clone();
            let answer = tokio::task::spawn_blocking(move || {
                let req: Request = match std::fs::read(&p)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                {
                    Ok(r) => r,
                    Err(e) => return Answer::new("error", format!("bad request: {e}")),
                };
                tracing::info!(job = %req.id, op = ?req.op, "queue control");
                apply(&config, &q, &log, &req)
            })
            .await
            .unwrap_or_else(|e| Answer::new("error", format!("control task failed: {e}")));
            let done = path.with_extension("done");
            let body = serde_json::to_vec(&answer).unwrap_or_default();
            if let Err(e) = write_durable(&dir, &done, &body) {
                tracing::error!("queue control answer: {e}");
            }
            let _ = std::fs::remove_file(&path);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The gateway's gauges at a scrape: lines by state, queue depth and oldest job's age.
pub struct Gauges {
    pub pool: Arc<LinePool>,
    pub spool: PathBuf,
    pub queued: bool,
}

/// The arrival second a job id starts with (`<seconds><microseconds:6>-…`).
fn id_seconds(id: &str) -> Option<u64> {
    let digits = id.split('-').next()?;
    let secs = digits.get(..digits.len().checked_sub(6)?)?;
    secs.parse().ok()
}

impl Collect for Gauges {
    fn collect(&self, out: &mut Exposition) {
        use super::pool::PortState;
        let states = self.pool.states();
        let count = |st: PortState| states.iter().filter(|s| s.1 == st).count() as f64;
        out.gauge(
            "softfax_ports",
            "Lines of the pool by state: busy (on a call), waiting (an answering line waiting for a call), idle.",
            &["state"],
            &[PortState::Busy, PortState::Waiting, PortState::Idle]
                .map(|st| (vec![st.label().to_string()], count(st))),
        );
        let per: Vec<(Vec<String>, f64)> = states
            .iter()
            .map(|(p, s)| {
                (
                    vec![p.clone()],
                    if *s == PortState::Busy { 1.0 } else { 0.0 },
                )
            })
            .collect();
        out.gauge(
            "softfax_port_busy",
            "1 while a call holds the line with this port_used (not while it waits for one).",
            &["port"],
            &per,
        );
        if !self.queued {
            return;
        }
        let ids = super::queue::pending_in(&self.spool.join("queue")).unwrap_or_default();
        let oldest = ids
            .iter()
            .filter_map(|i| id_seconds(i))
            .min()
            .map_or(0, |t| now_s().saturating_sub(t));
        out.gauge(
            "softfax_queue_jobs",
            "Jobs waiting in the spool (on a call or not yet).",
            &[],
            &[(vec![], ids.len() as f64)],
        );
        out.gauge(
            "softfax_queue_oldest_job_age_seconds",
            "Age of the oldest job in the spool (0 when it is empty).",
            &[],
            &[(vec![], oldest as f64)],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_give_their_arrival_second() {
        assert_eq!(id_seconds("1764812345123456-77-3"), Some(1_764_812_345));
        assert_eq!(id_seconds("12-1"), None);
        assert!(check_id("../etc").is_err());
        assert!(check_id("1764812345123456-77-3").is_ok());
    }

    #[test]
    fn the_lock_has_one_holder() {
        let d = tempfile::tempdir().unwrap();
        let first = try_lock(d.path()).unwrap();
        assert!(first.is_some());
        assert!(try_lock(d.path()).unwrap().is_none());
        drop(first);
        assert!(try_lock(d.path()).unwrap().is_some());
    }
}
