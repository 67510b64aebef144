//! Delivery: from an accepted message to fax calls, accounting records and replies. Two
//! modes (`delivery` in docs/contracts/config.md):
//!
//! - **immediate** (XSESSION): the session waits; a line is taken from the pool, the call
//!   placed, and the reply to the final dot is made from the call's accounting record
//!   ([`verdict`]: success 250 2.5.0, busy 450 4.3.2 `Modem busy`, … — docs/contracts/smtp.md);
//!   a message so accepted gets the DSN and MDN it asked for ([`dsn`], [`mdn`]).
//! - **queue** (store and forward, [`queue`]): the message is made durable in the spool and
//!   answered `250 2.0.0`; workers deliver with retries, back-off and a rate/ECM fallback
//!   ladder, and send RFC 3464 DSNs ([`dsn`]) and RFC 3798 MDNs ([`mdn`]).
//!
//! Layers, bottom up: [`job`] (the job and the spool's durable write), [`pool`] (the
//! `[[line]]`s, one call per line at a time; `port_used` is the line's `port`), [`record`]
//! and [`verdict`] (accounting records, what an outcome means to the client), [`attempt`]
//! (render, dial, call — on a blocking thread), [`dsn`], [`mdn`], [`queue`]; this module on top.

pub mod attempt;
pub mod control;
pub mod dsn;
pub mod job;
pub mod mdn;
pub mod pool;
pub mod queue;
pub mod record;
pub mod schedule;
pub mod verdict;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::accounting::{self, Record};
use crate::config::{Config, DeliveryMode};
use crate::envelope::{Message, Ret};

use attempt::attempt;
use job::{Job, write_durable};
use pool::{DestinationLimit, LinePool};
use queue::Queue;
use record::{blank_record, no_line_record, panic_record};
use verdict::Verdict;

/// Delivery's shared state: the configuration, the lines, the accounting log and (queue
/// mode) the spool queue.
pub struct Delivery {
    pub config: Arc<Config>,
    pub pool: Arc<LinePool>,
    /// Immediate mode's calls per destination number (the queue's schedule counts its own).
    pub destinations: Arc<DestinationLimit>,
    pub log: Arc<accounting::Log>,
    pub queue: Option<Arc<Queue>>,
    /// RADIUS accounting (`[radius]`), when configured.
    pub radius: Option<crate::radius::Client>,
    seq: Mutex<u64>,
}

impl Delivery {
    /// Set up the spool and (queue mode) recover the queue.
    pub fn new(config: Arc<Config>) -> std::io::Result<Arc<Delivery>> {
        std::fs::create_dir_all(&config.spool)?;
        let queue = match config.delivery {
            DeliveryMode::Queue => Some(Arc::new(Queue::open(&config.spool)?)),
            DeliveryMode::Immediate => None,
        };
        Ok(Arc::new(Delivery {
            pool: LinePool::new(config.lines.clone()),
            destinations: DestinationLimit::new(config.limits.max_calls_per_destination),
            log: Arc::new(accounting::Log::new(config.accounting_log.clone())),
            radius: Delivery::radius_client(&config),
            config,
            queue,
            seq: Mutex::new(0),
        }))
    }

    /// The same lines, log and queue under a new configuration (SIGHUP): what a reload
    /// cannot change (lines, spool, delivery mode, accounting log) is kept from `self`'s.
    /// The RADIUS client is kept unless `[radius]` changed.
    pub fn reloaded(&self, mut config: Config) -> Arc<Delivery> {
        let old = &self.config;
        config.lines = old.lines.clone();
        config.spool = old.spool.clone();
        config.delivery = old.delivery;
        config.accounting_log = old.accounting_log.clone();
        config.listen = old.listen;
        config.metrics = old.metrics.clone();
        let radius = if config.radius == old.radius && config.gateway_id == old.gateway_id {
            self.radius.clone()
        } else {
            Delivery::radius_client(&config)
        };
        let seq = *self.seq.lock().unwrap_or_else(|p| p.into_inner());
        self.destinations
            .set_max(config.limits.max_calls_per_destination);
        Arc::new(Delivery {
            config: Arc::new(config),
            pool: self.pool.clone(),
            destinations: self.destinations.clone(),
            log: self.log.clone(),
            queue: self.queue.clone(),
            radius,
            // Ids carry the time to the microsecond; the offset keeps the counters of the
            // old and the new delivery (both serve sessions for a while) apart as well.
            seq: Mutex::new(seq + 1_000_000),
        })
    }

    fn radius_client(config: &Config) -> Option<crate::radius::Client> {
        config.radius.clone().map(|c| {
            let nas = crate::radius::Nas {
                identifier: c
                    .nas_identifier
                    .clone()
                    .unwrap_or_else(|| config.gateway_id.clone()),
                ident: config.ident.clone(),
            };
            crate::radius::Client::spawn(c, nas)
        })
    }

    /// A fresh job id: time, process and a counter.
    pub fn new_id(&self) -> String {
        let mut s = self.seq.lock().unwrap_or_else(|p| p.into_inner());
        *s += 1;
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}{:06}-{}-{}",
            t.as_secs(),
            t.subsec_micros(),
            std::process::id(),
            *s
        )
    }

    /// The queue's workers and its control task (queue mode): a task to run for as long as
    /// the gateway runs.
    pub fn queue_workers(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let q = self.queue.clone()?;
        let workers = queue::run(
            q.clone(),
            self.config.clone(),
            self.pool.clone(),
            self.log.clone(),
            self.radius.clone(),
        );
        let control = control::run(q, self.config.clone(), self.log.clone());
        Some(async move {
            tokio::join!(workers, control);
        })
    }

    /// The gauges `/metrics` reads from this delivery at each scrape.
    pub fn gauges(&self) -> control::Gauges {
        control::Gauges {
            pool: self.pool.clone(),
            spool: self.config.spool.clone(),
            queued: self.queue.is_some(),
        }
    }

    /// The reply to the final dot for `msg`; `data_started` is when 354 went out.
    pub async fn deliver(&self, msg: Box<Message>, data_started: Instant) -> String {
        let message_id = message_id(&msg.data);
        let mut jobs = Vec::new();
        let mut postmaster = false;
        for r in &msg.recipients {
            let Some((fax, route)) = &r.fax else {
                postmaster = true;
                continue;
            };
            jobs.push(Job {
                id: self.new_id(),
                sender: msg.sender.clone(),
                recipient: r.address.clone(),
                number: fax.number.clone(),
                subaddress: fax.subaddress.clone(),
                dial: route.dial.clone(),
                cover_page: route.cover_page,
                notify: r.notify,
                orcpt: r.orcpt.as_ref().map(|o| format!("{};{}", o.0, o.1)),
                envid: msg.mail.envid.clone(),
                ret_full: msg.mail.ret == Some(Ret::Full),
                helo: msg.helo.clone(),
                arrival: accounting::rfc5322(SystemTime::now()),
                message_id: message_id.clone(),
                xact: msg.xact,
            });
        }
        if postmaster {
            let dir = self.config.spool.join("postmaster");
            let path = dir.join(format!("{}.eml", self.new_id()));
            if let Err(e) = write_durable(&dir, &path, &msg.data) {
                tracing::error!("postmaster mail: {e}");
                return "451 4.3.0 Local error writing the message\r\n".into();
            }
            if jobs.is_empty() {
                return "250 2.0.0 Message accepted for the postmaster\r\n".into();
            }
        }
        let data = Arc::new(msg.data);
        match &self.queue {
            Some(q) => match q.enqueue(&jobs, &data) {
                Ok(()) => {
                    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
                    format!("250 2.0.0 Queued for delivery as {}\r\n", ids.join(" "))
                }
                Err(e) => {
                    tracing::error!("spool: {e}");
                    "452 4.3.1 Insufficient system storage\r\n".into()
                }
            },
            None => {
                let job = jobs.remove(0);
                let xact = job.xact;
                let record = self
                    .immediate(job.clone(), data.clone(), data_started)
                    .await;
                // Accepted with 250: the DSN and MDN the message asked for, off the
                // reply's path. A 4yz/5yz reply carries the outcome itself (no notice).
                if record.reply_code / 100 == 2 {
                    let (config, r) = (self.config.clone(), record.clone());
                    tokio::task::spawn_blocking(move || {
                        if let Some(action) = dsn::due(&job, &r, true) {
                            dsn::send(&config, &job, &data, &r, action);
                        }
                        mdn::send(&config, &job, &data, &r);
                    });
                }
                record.reply(xact)
            }
        }
    }

    async fn immediate(&self, job: Job, data: Arc<Vec<u8>>, started: Instant) -> Record {
        // A place among the destination's calls (max_calls_per_destination), then a line;
        // both within line_wait_s, and neither once draining.
        let wait = Duration::from_secs(self.config.limits.line_wait_s);
        let take = async {
            let slot = tokio::select! {
                biased;
                () = self.pool.closed() => return None,
                s = self.destinations.acquire(&job.number) => s,
            };
            self.pool.acquire(None).await.map(|g| (slot, g))
        };
        let taken = tokio::time::timeout(wait, take).await.ok().flatten();
        let Some((slot, guard)) = taken else {
            let r = no_line_record(&self.config, &job, started.elapsed().as_secs_f64());
            self.append(&r);
            return r;
        };
        let (config, call_job) = (self.config.clone(), job.clone());
        let mail_s = started.elapsed().as_secs_f64();
        let session = record::call_started(self.radius.as_ref(), &job, &guard.line().port, 1);
        let r = tokio::task::spawn_blocking(move || {
            let line = guard.line().clone();
            let out = attempt(&config, &call_job, &data, &line, 1, 0, mail_s);
            drop(guard);
            drop(slot);
            out
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!("delivery thread failed: {e}");
            panic_record(&self.config, &job)
        });
        self.append(&r);
        record::call_ended(self.radius.as_ref(), session, &r);
        r
    }

    /// Append to the accounting log (an error is logged: the reply still goes out).
    pub fn append(&self, r: &Record) {
        record::append(&self.log, r);
    }

    /// A recipient refused by policy (abort_cause 5).
    pub fn record_refusal(&self, sender: &str, recipient: &str, number: &str) {
        let mut r = blank_record(&self.config.gateway_id, "");
        let text = format!("Number {number} not authorized by policy");
        Verdict::without_call("denied", text, (550, "5.7.1"), 5, 0).stamp(&mut r);
        r.sender = sender.into();
        r.recipient = recipient.into();
        self.append(&r);
    }

    /// The client left during DATA (abort_cause 2).
    pub fn record_abort(&self, sender: &str, recipients: &[String]) {
        for rcpt in recipients {
            let mut r = blank_record(&self.config.gateway_id, "");
            let text = "Client disconnected during DATA";
            Verdict::without_call("smtp_aborted", text, (451, "4.4.2"), 2, 0).stamp(&mut r);
            r.sender = sender.into();
            r.recipient = rcpt.clone();
            self.append(&r);
        }
    }
}

/// The `Message-ID` header of a message, or empty.
pub fn message_id(data: &[u8]) -> String {
    header(data, "message-id")
        .map(|v| v.chars().take(200).collect())
        .unwrap_or_default()
}

/// The first header field `name` (case-insensitive) of a message, unfolded and trimmed
/// (RFC 5322 §2.2.3); the header ends at the first empty line (or after 64 KiB).
pub fn header(data: &[u8], name: &str) -> Option<String> {
    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len().min(64 * 1024));
    let head = String::from_utf8_lossy(&data[..head_end]);
    let mut found: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(v) = found.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case(name)
        {
            found = Some(v.trim().to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids() {
        assert_eq!(
            message_id(b"From: a\r\nMessage-Id: <x@y>\r\n\r\nbody"),
            "<x@y>"
        );
        assert_eq!(message_id(b"no headers"), "");
        let m = b"Subject: a\r\nDisposition-Notification-To: Ann\r\n <ann@example.org>\r\nX: y\r\n\r\nDisposition-Notification-To: body";
        assert_eq!(
            header(m, "disposition-notification-to").as_deref(),
            Some("Ann <ann@example.org>")
        );
        assert_eq!(header(m, "x").as_deref(), Some("y"));
        assert_eq!(header(b"A: 1\r\n\r\nB: 2", "b"), None);
    }
}
