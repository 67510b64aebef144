//! Running as a service (docs/operations.md): the systemd notification protocol
//! ([`notify`]), log lines journald reads well ([`log`]), and the signals `softfax serve`
//! answers — SIGHUP reloads the configuration and dial plan, SIGTERM (or SIGINT) drains:
//! new SMTP sessions get `421 4.3.2`, no new call starts, calls in progress finish, the
//! spool stays as it is for the next start.

pub mod log;
pub mod notify;

/// What a signal asks of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Reload,
    Stop,
}

/// The signals `serve` answers, as a stream.
pub struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers (inside the runtime).
    pub fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.hup.recv() => Signal::Reload,
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
        }
    }
}
