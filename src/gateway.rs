//! The e-mail-to-fax gateway, assembled: [`delivery`](crate::delivery) set up on the spool
//! (queue mode: the queue recovered), the ESMTP port bound, then the queue's workers and the
//! [`onramp`](crate::onramp) (answering lines, fax-mail to the MTA) started and the
//! [`esmtp`](crate::esmtp) server run with delivery as its [`Deliver`]er. The one place that
//! knows them all; none names the others (docs/architecture.md).
//!
//! As a service ([`Gateway::run_service`], docs/operations.md): `/metrics` served when
//! `[metrics]` is set, systemd told READY/STATUS/WATCHDOG ([`crate::service::notify`]),
//! SIGHUP reloads the configuration — the SMTP server restarts on the same listening
//! socket, so no connection is refused and sessions and calls under way keep their
//! configuration; the on-ramp takes its new `[onramp]` and routes — and SIGTERM drains.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::delivery::Delivery;
use crate::envelope::Message;
use crate::esmtp::Deliver;
use crate::esmtp::server::{self, ServerError};
use crate::metrics;
use crate::onramp::OnRamp;
use crate::service::notify::{Notifier, watchdog_interval};
use crate::service::{Signal, Signals};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("spool {}", path.display())]
    Spool {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("metrics: cannot listen on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The gateway, ready to serve: delivery set up and the SMTP port bound.
pub struct Gateway {
    config: Arc<Config>,
    delivery: Arc<Delivery>,
    onramp: Option<Arc<OnRamp>>,
    listener: TcpListener,
    metrics: Option<TcpListener>,
}

impl Gateway {
    /// Set up the spool (recovering the queue in queue mode), then bind `listen`.
    pub async fn bind(config: Arc<Config>) -> Result<Gateway, GatewayError> {
        let delivery = Delivery::new(config.clone()).map_err(|source| GatewayError::Spool {
            path: config.spool.clone(),
            source,
        })?;
        let onramp = OnRamp::new(delivery.clone()).map_err(|source| GatewayError::Spool {
            path: config.spool.join("onramp"),
            source,
        })?;
        let listener = server::bind(config.listen).await?;
        let metrics = match &config.metrics {
            Some(m) => Some(metrics::server::bind(m.listen).await.map_err(|source| {
                GatewayError::Metrics {
                    addr: m.listen,
                    source,
                }
            })?),
            None => None,
        };
        Ok(Gateway {
            config,
            delivery,
            onramp,
            listener,
            metrics,
        })
    }

    /// The address `/metrics` is served on, when `[metrics]` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|m| m.local_addr().ok())
    }

    fn start_metrics(&mut self) {
        if let Some(l) = self.metrics.take() {
            tokio::spawn(metrics::server::serve(l, Arc::new(self.delivery.gauges())));
        }
    }

    /// The address the SMTP server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Start the queue's workers (queue mode) and the on-ramp (answering lines), and serve
    /// SMTP forever.
    pub async fn run(mut self) -> Result<(), GatewayError> {
        self.start_metrics();
        if let Some(workers) = self.delivery.queue_workers() {
            tokio::spawn(workers);
        }
        if let Some(onramp) = &self.onramp {
            onramp.start();
        }
        server::serve(self.config, self.delivery, self.listener).await?;
        Ok(())
    }

    /// Serve until SIGTERM or SIGINT, then drain and return; SIGHUP calls `reload` for a
    /// new configuration (on an error the running one stays). `signals` are installed by
    /// the caller before it announces the gateway, so none is missed.
    pub async fn run_service<F>(
        mut self,
        mut signals: Signals,
        reload: F,
    ) -> Result<(), GatewayError>
    where
        F: Fn() -> Result<Config, String>,
    {
        let sd = Notifier::from_env();
        self.start_metrics();
        let socket = self.listener.into_std()?;
        let mut delivery = self.delivery;
        let mut serving = spawn_serve(&delivery, &socket)?;
        let mut workers = delivery.queue_workers().map(tokio::spawn);
        // The on-ramp's answering loops run for good; a reload hands them the new
        // configuration.
        if let Some(onramp) = &self.onramp {
            onramp.start();
        }
        let watchdog = watchdog_interval().filter(|_| sd.enabled()).map(|every| {
            tokio::spawn(async move {
                let sd = Notifier::from_env();
                loop {
                    sd.notify("WATCHDOG=1");
                    tokio::time::sleep(every).await;
                }
            })
        });
        let status = |d: &Delivery| {
            format!(
                "STATUS=serving SMTP on {} ({} delivery, {} line(s), {} on a call)",
                d.config.listen,
                if d.queue.is_some() {
                    "queue"
                } else {
                    "immediate"
                },
                d.config.lines.len(),
                d.pool.busy()
            )
        };
        sd.notify(&format!("READY=1\n{}", status(&delivery)));
        loop {
            match signals.next().await {
                Signal::Stop => break,
                Signal::Reload => {
                    sd.notify("RELOADING=1\nSTATUS=reloading the configuration");
                    let next = reload().and_then(|c| {
                        if let Some(t) = &c.tls {
                            server::tls_acceptor(t).map_err(|e| e.to_string())?;
                        }
                        match (&self.onramp, &c.onramp) {
                            (Some(_), None) => {
                                return Err("[onramp] cannot be removed by a reload (restart to stop answering)".into());
                            }
                            (None, Some(_)) => tracing::warn!(
                                "[onramp] added: it starts with the next restart"
                            ),
                            _ => {}
                        }
                        Ok(delivery.reloaded(c))
                    });
                    match next
                        .and_then(|d| Ok((spawn_serve(&d, &socket).map_err(|e| e.to_string())?, d)))
                    {
                        Ok((s, d)) => {
                            serving.abort();
                            serving = s;
                            if let Some(w) = workers.take() {
                                w.abort();
                            }
                            workers = d.queue_workers().map(tokio::spawn);
                            if let Some(o) = &self.onramp
                                && let Err(e) = o.reload(d.clone())
                            {
                                tracing::error!("on-ramp: {e}");
                            }
                            delivery = d;
                            tracing::info!("configuration reloaded");
                        }
                        Err(e) => {
                            tracing::error!("reload refused, the running configuration stays: {e}")
                        }
                    }
                    sd.notify(&format!("READY=1\n{}", status(&delivery)));
                }
            }
        }
        // Drain: refuse new sessions, start no call, let the calls under way end.
        serving.abort();
        // Gone for sure before the refusals start: no session is accepted from here on.
        let _ = serving.await;
        sd.notify("STOPPING=1\nSTATUS=draining");
        tracing::info!("draining: new sessions get 421, calls in progress finish");
        let refusing = tokio::spawn(refuse(
            TcpListener::from_std(socket.try_clone()?)?,
            delivery.config.gateway_id.clone(),
        ));
        delivery.pool.close();
        if let Some(w) = workers.take() {
            w.abort();
        }
        let mut told = usize::MAX;
        loop {
            // Calls out (immediate mode; queue mode counts a job until it is settled) and
            // calls coming in (an answering line waiting for a ring holds its line, so
            // those are counted by the on-ramp's spool instead).
            let in_flight = delivery.queue.as_ref().map_or(0, |q| q.in_flight());
            let receiving = self.onramp.as_ref().map_or(0, |o| {
                o.spool
                    .list(crate::onramp::spool::State::Receiving)
                    .map_or(0, |v| v.len())
            });
            let calls = delivery.pool.dialing().max(in_flight) + receiving;
            if calls == 0 {
                break;
            }
            if calls != told {
                sd.notify(&format!("STATUS=draining: {calls} call(s) in progress"));
                told = calls;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = signals.next() => {
                    tracing::warn!("second signal: leaving with {calls} call(s) in progress");
                    break;
                }
            }
        }
        // The reply to a call that just ended is on its way to its session.
        tokio::time::sleep(Duration::from_millis(300)).await;
        refusing.abort();
        if let Some(w) = watchdog {
            w.abort();
        }
        tracing::info!("drained; the spool is kept");
        Ok(())
    }
}

/// Run the SMTP server for `d` on a copy of the listening socket.
fn spawn_serve(
    d: &Arc<Delivery>,
    socket: &std::net::TcpListener,
) -> std::io::Result<tokio::task::JoinHandle<Result<(), ServerError>>> {
    let l = TcpListener::from_std(socket.try_clone()?)?;
    Ok(tokio::spawn(server::serve(d.config.clone(), d.clone(), l)))
}

/// While draining: every new SMTP connection gets `421 4.3.2` (RFC 5321 §3.8, RFC 3463
/// X.3.2 "system not accepting network messages") and is closed.
async fn refuse(listener: TcpListener, gateway_id: String) {
    let reply = format!("421 4.3.2 {gateway_id} Service shutting down, try again later\r\n");
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        metrics::global().smtp_session(false);
        metrics::global().smtp_replies(reply.as_bytes());
        let reply = reply.clone();
        tokio::spawn(async move {
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = s.shutdown().await;
        });
    }
}

impl Deliver for Delivery {
    fn deliver(
        &self,
        msg: Box<Message>,
        data_started: Instant,
    ) -> impl Future<Output = String> + Send {
        Delivery::deliver(self, msg, data_started)
    }

    fn policy_denied(&self, sender: &str, recipient: &str, number: &str) {
        self.record_refusal(sender, recipient, number);
    }

    fn data_aborted(&self, sender: &str, recipients: &[String]) {
        self.record_abort(sender, recipients);
    }
}
