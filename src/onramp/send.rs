//! The sender: every message in the on-ramp's outbox goes to `[onramp] relay` until the MTA
//! takes it. A 2yz reply to the end of data moves the message to `sent/` (then the accounting
//! record with the MTA's reply is written and the folder removed); a 5yz reply moves it to
//! `failed/`, kept for the postmaster, with its record; a 4yz reply, a refused connection or
//! any other trouble leaves it in the outbox to try again after 1, 2, 5, 10, 30 and then
//! every 60 seconds (RFC 5321 §4.5.4.1 asks for retries; a restart or a reload tries at
//! once).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::OnRamp;
use super::spool::State;
use crate::smtp_client::{self, Reply, SubmitError};

/// Seconds before the next try after the n-th failed one; the last repeats.
const RETRY_S: [u64; 6] = [1, 2, 5, 10, 30, 60];

/// Send what is in the outbox, for as long as the gateway runs.
pub async fn run(ramp: Arc<OnRamp>) {
    // id → (failed tries, next try)
    let mut waiting: HashMap<String, (usize, Instant)> = HashMap::new();
    let mut generation = ramp.generation();
    loop {
        if ramp.generation() != generation {
            // A reload (perhaps a new relay, TLS or password): everything is due now.
            generation = ramp.generation();
            for w in waiting.values_mut() {
                w.1 = Instant::now();
            }
        }
        let woken = ramp.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let ids = ramp.spool.list(State::Outbox).unwrap_or_else(|e| {
            tracing::error!("on-ramp outbox: {e}");
            Vec::new()
        });
        waiting.retain(|id, _| ids.contains(id));
        let mut next = Instant::now() + Duration::from_secs(60);
        for id in ids {
            if let Some(&(_, at)) = waiting.get(&id)
                && at > Instant::now()
            {
                next = next.min(at);
                continue;
            }
            let tries = waiting.get(&id).map_or(0, |w| w.0) + 1;
            let r = ramp.clone();
            let sid = id.clone();
            let out = tokio::task::spawn_blocking(move || send_one(&r, &sid, tries))
                .await
                .unwrap_or_else(|e| Err(format!("sending thread failed: {e}")));
            if let Err(why) = out {
                let wait = Duration::from_secs(RETRY_S[(tries - 1).min(RETRY_S.len() - 1)]);
                tracing::warn!(
                    id,
                    tries,
                    "fax-mail not taken, trying again in {wait:?}: {why}"
                );
                let at = Instant::now() + wait;
                waiting.insert(id, (tries, at));
                next = next.min(at);
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep_until(next) => {}
        }
    }
}

/// Submit one message (blocking). `Err`: try again later.
fn send_one(ramp: &OnRamp, id: &str, tries: usize) -> Result<(), String> {
    let (message, mut record) = ramp.spool.outgoing(id).map_err(|e| e.to_string())?;
    record.attempt = tries as u32;
    if record.recipient.is_empty() {
        tracing::error!(
            id,
            "no [[route]] matched and there is no [onramp.default]: the fax stays in failed/"
        );
        record.status = "no_mailbox".into();
        record.status_text = format!("No route for {}", record.dial);
        return settle(ramp, id, record, State::Failed);
    }
    let o = ramp.config();
    // The sender the message was made with (its From:), even if a reload changed `from`.
    let from = if record.sender.is_empty() {
        o.from.clone()
    } else {
        record.sender.clone()
    };
    let result = smtp_client::submit(
        &o.relay,
        &o.client,
        &ramp.delivery().config.gateway_id,
        &from,
        &[&record.recipient],
        &message,
    );
    match result {
        Ok(reply) => {
            stamp(&mut record, &reply);
            record.status = if record.abort_cause == 0 {
                "ok"
            } else {
                "partial"
            }
            .into();
            tracing::info!(id, mailbox = %record.recipient, reply = %reply.text(), "fax-mail taken by the MTA");
            settle(ramp, id, record, State::Sent)
        }
        Err(SubmitError::Permanent(why, reply)) => {
            stamp(&mut record, &reply);
            // What was refused, and the reply: `AUTH: 535 5.7.8 …`, `RCPT TO:<…>: 550 …`.
            record.status_text = why.chars().take(400).collect();
            record.status = "mail_refused".into();
            tracing::error!(id, mailbox = %record.recipient, "the MTA refused the fax-mail for good; it stays in failed/: {why}");
            settle(ramp, id, record, State::Failed)
        }
        Err(e @ SubmitError::Temporary(_)) => Err(e.to_string()),
    }
}

/// The MTA's reply in the record: code, enhanced code (RFC 3463) when it gives one, text.
fn stamp(record: &mut crate::accounting::Record, reply: &Reply) {
    record.reply_code = reply.code;
    let first = reply.lines.first().map(String::as_str).unwrap_or("");
    let (esc, _) = first.split_once(' ').unwrap_or((first, ""));
    let is_esc = esc.split('.').count() == 3
        && esc
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    record.enhanced_code = if is_esc {
        esc.to_string()
    } else {
        String::new()
    };
    record.status_text = reply.text().chars().take(400).collect();
    record.time = crate::accounting::rfc3339(std::time::SystemTime::now());
}

/// Move the message to its final folder with its record; a sent one's record is logged and
/// its folder removed.
fn settle(
    ramp: &OnRamp,
    id: &str,
    record: crate::accounting::Record,
    to: State,
) -> Result<(), String> {
    let dir = ramp.spool.path(State::Outbox, id);
    let data = serde_json::to_vec_pretty(&record).map_err(|e| e.to_string())?;
    crate::delivery::job::write_durable(&dir, &dir.join("record.json"), &data)
        .and_then(|_| ramp.spool.move_to(id, State::Outbox, to))
        .map_err(|e| format!("spool: {e}"))?;
    ramp.account(&record);
    if to == State::Sent
        && let Err(e) = ramp.spool.remove(State::Sent, id)
    {
        tracing::error!(id, "cannot remove sent fax-mail: {e}");
    }
    Ok(())
}
