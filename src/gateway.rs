//! The e-mail-to-fax gateway, assembled: [`delivery`](crate::delivery) set up on the spool
//! (queue mode: the queue recovered), the ESMTP port bound, then the queue's workers and the
//! [`onramp`](crate::onramp) (answering lines, fax-mail to the MTA) started and the
//! [`esmtp`](crate::esmtp) server run with delivery as its [`Deliver`]er. The one place that
//! knows them all; none names the others (docs/architecture.md).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::delivery::Delivery;
use crate::envelope::Message;
use crate::esmtp::Deliver;
use crate::esmtp::server::{self, ServerError};
use crate::onramp::OnRamp;

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
}

/// The gateway, ready to serve: delivery set up and the SMTP port bound.
pub struct Gateway {
    config: Arc<Config>,
    delivery: Arc<Delivery>,
    onramp: Option<Arc<OnRamp>>,
    listener: TcpListener,
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
        Ok(Gateway {
            config,
            delivery,
            onramp,
            listener,
        })
    }

    /// The address the SMTP server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Start the queue's workers (queue mode) and the on-ramp (answering lines), and serve
    /// SMTP forever.
    pub async fn run(self) -> Result<(), GatewayError> {
        if let Some(workers) = self.delivery.queue_workers() {
            tokio::spawn(workers);
        }
        if let Some(onramp) = &self.onramp {
            onramp.start();
        }
        server::serve(self.config, self.delivery, self.listener).await?;
        Ok(())
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
