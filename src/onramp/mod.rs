//! The on-ramp: fax calls in, fax-mail out (RFC 2305; docs/architecture.md). Lines with
//! `answer = true` wait for calls ([`answer`]); each page received is kept in the spool
//! before it is confirmed, and the finished call becomes a message ([`mail`]) in the spool's
//! outbox ([`spool`]; PDF pages: [`pdf`]), which the sender ([`send`]) submits to `[onramp] relay` with the SMTP
//! client ([`crate::smtp_client`]) until the MTA takes it. The mailbox comes from
//! `[[route]]` on the called number (or the line's `port`), else `[onramp.default]`
//! ([`config`]). One accounting record per call, `call_type = Fax Receive`.

pub mod answer;
pub mod config;
pub mod mail;
pub mod pdf;
pub mod send;
pub mod spool;

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::Notify;

use crate::accounting::Record;
use crate::delivery::Delivery;
use crate::delivery::record::blank_record;
use config::OnrampConfig;
use spool::{CallEnd, CallStart, Spool, State};

/// The on-ramp's shared state.
pub struct OnRamp {
    /// The off-ramp's delivery: configuration, line pool, accounting log, ids.
    pub delivery: Arc<Delivery>,
    pub onramp: OnrampConfig,
    pub spool: Spool,
    /// Wakes the sender when a message is put in the outbox.
    pub wake: Notify,
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
            delivery,
            onramp,
            spool,
            wake: Notify::new(),
        })))
    }

    /// Recover the spool (calls cut off by a crash become messages; sent ones are
    /// recorded), then start the sender and one answering loop per answering line. Call
    /// from within the runtime.
    pub fn start(self: &Arc<Self>) {
        self.recover();
        tokio::spawn(send::run(self.clone()));
        for (i, l) in self.delivery.config.lines.iter().enumerate() {
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
                Ok(r) => self.delivery.append(&r),
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
        let mut record = self.record(&start, end.as_ref(), pages.len());
        if pages.is_empty() {
            record.status = "no_pages".into();
            record.status_text = "No page received".into();
            record.abort_cause = 1;
            self.delivery.append(&record);
            if let Err(e) = self.spool.remove(State::Receiving, id) {
                tracing::error!(id, "cannot remove an empty call: {e}");
            }
            return;
        }
        let fax = mail::Fax {
            gateway_id: &self.delivery.config.gateway_id,
            from: &self.onramp.from,
            start: &start,
            end: end.as_ref(),
            pages: &pages,
            attach: self.onramp.attach,
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
        let config = &self.delivery.config;
        let mut r = blank_record(&config.gateway_id, &start.port);
        r.call_type = "Fax Receive".into();
        r.job = start.id.clone();
        r.message_id = format!("<fax-{}@{}>", start.id, config.gateway_id);
        r.sender = self.onramp.from.clone();
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
                r.hangup_text = "The gateway stopped during the call".into();
                r.abort_cause = 1;
            }
        }
        r
    }
}
