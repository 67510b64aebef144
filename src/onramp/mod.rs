//! The on-ramp: fax calls in, fax-mail out (RFC 2305; docs/architecture.md). Lines with
//! `answer = true` wait for calls ([`answer`]); each page received is kept in the spool
//! before it is confirmed, and the finished call becomes a message ([`mail`]) in the spool's
//! outbox ([`spool`]; PDF pages: [`pdf`]), which the sender ([`send`]) submits to `[onramp] relay` with the SMTP
//! client ([`crate::smtp_client`]) until the MTA takes it. The mailbox comes from
//! `[[route]]` on the called number (or the line's `port`), else `[onramp.default]`
//! ([`config`]). One accounting record per call, `call_type = Fax Receive`, and RADIUS
//! accounting (`[radius]`): a Start when a call is answered, a Stop with the record when it
//! is written ([`OnRamp::account`]).
//!
//! SIGHUP ([`OnRamp::reload`]): `[onramp]`, `[[route]]`, `ident`, `gateway_id` and
//! `[radius]` of the new configuration apply to calls answered and messages sent from then
//! on; a call under way finishes with the mailbox its route chose when it was answered.

pub mod answer;
pub mod config;
pub mod mail;
pub mod pdf;
pub mod send;
pub mod spool;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use crate::accounting::Record;
use crate::delivery::Delivery;
use crate::delivery::record::blank_record;
use config::OnrampConfig;
use spool::{CallEnd, CallStart, Spool, State};

pub use crate::accounting::CUT_OFF;

/// The configuration in force: the off-ramp's delivery (configuration, line pool,
/// accounting log, RADIUS, ids) and `[onramp]`; replaced whole by a reload.
struct Current {
    delivery: Arc<Delivery>,
    onramp: Arc<OnrampConfig>,
}

/// The on-ramp's shared state.
pub struct OnRamp {
    current: RwLock<Current>,
    pub spool: Spool,
    /// Wakes the sender when a message is put in the outbox (or the relay changed).
    pub wake: Notify,
    /// Counts reloads: the sender forgets its back-off when it changes.
    generation: AtomicU64,
}

impl OnRamp {
    /// The on-ramp of `delivery`'s configuration, with its spool opened; `None` when there
    /// is no `[onramp]`.
    pub fn new(delivery: Arc<Delivery>) -> std::io::Result<Option<Arc<OnRamp>>> {
        let Some(onramp) = delivery.config.onramp.clone() else {
            return Ok(None);
        };
        let spool = Spool::open(&delivery.config.spool)?;
        Ok(Some(Arc::new(OnRamp {
            current: RwLock::new(Current {
                delivery,
                onramp: Arc::new(onramp),
            }),
            spool,
            wake: Notify::new(),
            generation: AtomicU64::new(0),
        })))
    }

    /// The delivery in force (its configuration, pool, log, RADIUS client).
    pub fn delivery(&self) -> Arc<Delivery> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .delivery
            .clone()
    }

    /// `[onramp]` and `[[route]]` in force.
    pub fn config(&self) -> Arc<OnrampConfig> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .onramp
            .clone()
    }

    /// Take a reloaded configuration (SIGHUP): its `[onramp]` and delivery from now on; the
    /// sender tries the outbox again at once, with the new relay. `delivery` keeps the
    /// running lines (a reload does not change them). An error, and nothing changed, when the
    /// new configuration has no `[onramp]`.
    pub fn reload(&self, delivery: Arc<Delivery>) -> Result<(), String> {
        let Some(onramp) = delivery.config.onramp.clone() else {
            return Err(
                "[onramp] cannot be removed by a reload (restart to stop answering)".into(),
            );
        };
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Current {
            delivery,
            onramp: Arc::new(onramp),
        };
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
        Ok(())
    }

    /// How many reloads the on-ramp took.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Write a received call's accounting record (the log, the metrics) and send its RADIUS
    /// Stop: Acct-Session-Time is the call's duration, Event-Timestamp the call's end (the
    /// record may be written long after it, when the MTA took the mail; Acct-Delay-Time then
    /// says how long after).
    pub fn account(&self, r: &Record) {
        let delivery = self.delivery();
        delivery.append(r);
        if let Some(radius) = &delivery.radius {
            let call_s = r
                .fax_modem_time
                .split_once('/')
                .and_then(|(_, y)| y.parse::<u64>().ok())
                .unwrap_or(0);
            let ended = self
                .spool
                .call_times(&r.job)
                .map_or_else(SystemTime::now, |(_, e)| {
                    UNIX_EPOCH + Duration::from_secs(e)
                });
            radius.stop_received(&r.job, call_s as u32, ended, r);
        }
    }

    /// Recover the spool (calls cut off by a crash become messages; sent ones are
    /// recorded), then start the sender and one answering loop per answering line. Call
    /// from within the runtime.
    pub fn start(self: &Arc<Self>) {
        self.recover();
        tokio::spawn(send::run(self.clone()));
        for (i, l) in self.delivery().config.lines.iter().enumerate() {
            if l.answer {
                tokio::spawn(answer::run_line(self.clone(), i));
            }
        }
    }

    fn recover(&self) {
        for id in self.spool.list(State::Receiving).unwrap_or_default() {
            tracing::warn!(
                id,
                "a call was cut off by a stop of the gateway: mailing what it kept"
            );
            self.finish(&id);
        }
        for id in self.spool.list(State::Sent).unwrap_or_default() {
            match self.spool.record(State::Sent, &id) {
                Ok(r) => self.account(&r),
                Err(e) => tracing::error!(id, "sent fax-mail without a record: {e}"),
            }
            if let Err(e) = self.spool.remove(State::Sent, &id) {
                tracing::error!(id, "cannot remove sent fax-mail: {e}");
            }
        }
    }

    /// A call is over (or was cut off): its pages become a message in the outbox; a call
    /// without a page leaves only its accounting record.
    pub fn finish(&self, id: &str) {
        let (start, end, pages) = match self.spool.read_call(id) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(id, "cannot read the spooled call: {e}");
                return;
            }
        };
        let (delivery, onramp) = (self.delivery(), self.config());
        let mut record = self.record(&start, end.as_ref(), pages.len());
        if pages.is_empty() {
            record.status = "no_pages".into();
            record.status_text = "No page received".into();
            record.abort_cause = 1;
            self.account(&record);
            if let Err(e) = self.spool.remove(State::Receiving, id) {
                tracing::error!(id, "cannot remove an empty call: {e}");
            }
            return;
        }
        let fax = mail::Fax {
            gateway_id: &delivery.config.gateway_id,
            from: &onramp.from,
            start: &start,
            end: end.as_ref(),
            pages: &pages,
            attach: onramp.attach,
        };
        let result = mail::build(&fax, SystemTime::now())
            .map_err(std::io::Error::other)
            .and_then(|m| self.spool.to_outbox(id, &m, &record));
        match result {
            Ok(()) => {
                tracing::info!(id, pages = pages.len(), mailbox = %start.mailbox, "fax-mail in the outbox");
                self.wake.notify_one();
            }
            // The pages stay in receiving/: the next start tries again.
            Err(e) => tracing::error!(id, "cannot make the fax-mail: {e}"),
        }
    }

    /// The accounting record of a received call, before the MTA's reply.
    fn record(&self, start: &CallStart, end: Option<&CallEnd>, kept: usize) -> Record {
        let delivery = self.delivery();
        let config = &delivery.config;
        let mut r = blank_record(&config.gateway_id, &start.port);
        r.call_type = "Fax Receive".into();
        r.job = start.id.clone();
        r.message_id = format!("<fax-{}@{}>", start.id, config.gateway_id);
        r.sender = self.config().from.clone();
        r.recipient = start.mailbox.clone();
        r.dial = start.called.clone();
        r.fax_pages = kept as u32;
        r.document_pages = kept as u32;
        r.attempt = 0;
        match end {
            Some(e) => {
                r.fax_modem_time =
                    format!("{}/{}", e.modem_s.floor() as u64, e.call_s.floor() as u64);
                r.fax_connect_speed = format!("{}bps", e.bit_rate);
                r.csid = e.remote_ident.clone();
                r.t30_error_code = e.hangup_code;
                r.isdn_disconnect_code = e.q850;
                r.hangup_text = e.hangup_text.clone();
                r.ecm = e.ecm;
                r.compression = e.compression.clone();
                r.resolution = e.resolution.clone();
                r.abort_cause = u8::from(e.hangup_code != 0);
            }
            None => {
                r.hangup_text = CUT_OFF.into();
                r.abort_cause = 1;
            }
        }
        r
    }
}
