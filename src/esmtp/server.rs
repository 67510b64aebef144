//! The tokio ESMTP server: accepts connections (bounded in total and per client address),
//! runs a [`Session`] per connection over plain TCP or, after STARTTLS, rustls, applies the
//! idle and DATA timeouts, and hands messages to a [`Deliver`]er.
//!
//! Replies are batched and flushed before every read (RFC 2920 §3.1: the server may batch
//! but must flush before it blocks); a read never happens while a delivery is pending, so
//! buffered input stays bounded.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::Deliver;
use super::session::{Action, Session, SessionConfig};
use crate::config::{Config, TlsConfig};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
}

/// Load the certificate chain and key of `[tls]`.
pub fn tls_acceptor(t: &TlsConfig) -> Result<TlsAcceptor, ServerError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&t.certificate)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServerError::Tls(format!("{}: {e}", t.certificate.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no certificate",
            t.certificate.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&t.key)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", t.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

/// Counts connections in total and per address.
struct Limiter {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

struct Slot {
    limiter: Arc<Mutex<Limiter>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        crate::metrics::global().smtp_session_closed();
        let mut l = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        l.total -= 1;
        if let Some(n) = l.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                l.per_ip.remove(&self.ip);
            }
        }
    }
}

/// Connections the kernel completes and keeps for us before we accept them (`listen(2)`'s
/// backlog; Linux caps it at `net.core.somaxconn`, 4096 by default). A full queue drops the
/// client's final ACK: with the 128 of a default bind, a burst of 1000 clients left some
/// believing they were connected while the server had never seen them, each waiting for a
/// greeting that never came (SMTP's server speaks first).
pub const BACKLOG: u32 = 4096;

/// Bind the configured address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    let err = |source| ServerError::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    socket.listen(BACKLOG).map_err(err)
}

/// Serve forever on `listener`, handing messages to `sink`.
pub async fn serve<D: Deliver>(
    config: Arc<Config>,
    sink: Arc<D>,
    listener: TcpListener,
) -> Result<(), ServerError> {
    let tls = match &config.tls {
        Some(t) => Some(tls_acceptor(t)?),
        None => None,
    };
    let scfg = Arc::new(SessionConfig {
        config: config.clone(),
        tls_available: tls.is_some(),
    });
    let limiter = Arc::new(Mutex::new(Limiter {
        total: 0,
        per_ip: HashMap::new(),
    }));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ip = peer.ip();
        let refused = {
            let mut l = limiter.lock().unwrap_or_else(|p| p.into_inner());
            let n = l.per_ip.get(&ip).copied().unwrap_or(0);
            if l.total >= config.limits.max_connections {
                Some("Too many connections")
            } else if n >= config.limits.max_connections_per_ip {
                Some("Too many connections from your address")
            } else {
                l.total += 1;
                *l.per_ip.entry(ip).or_insert(0) += 1;
                None
            }
        };
        let gid = config.gateway_id.clone();
        crate::metrics::global().smtp_session(refused.is_none());
        if let Some(why) = refused {
            tokio::spawn(async move {
                let mut s = stream;
                let reply = format!("421 4.7.0 {gid} {why}, try again later\r\n");
                crate::metrics::global().smtp_replies(reply.as_bytes());
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.shutdown().await;
            });
            continue;
        }
        let slot = Slot {
            limiter: limiter.clone(),
            ip,
        };
        let (sink, scfg, tls) = (sink.clone(), scfg.clone(), tls.clone());
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = connection(sink, scfg, tls, stream, peer).await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Gone,
}

impl Conn {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
            Conn::Gone => Ok(0),
        }
    }
    async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.write_all(b).await,
            Conn::Tls(s) => {
                s.write_all(b).await?;
                s.flush().await
            }
            Conn::Gone => Ok(()),
        }
    }
    async fn shutdown(&mut self) {
        let _ = match self {
            Conn::Plain(s) => s.shutdown().await,
            Conn::Tls(s) => s.shutdown().await,
            Conn::Gone => Ok(()),
        };
    }
}

async fn connection<D: Deliver>(
    sink: Arc<D>,
    scfg: Arc<SessionConfig>,
    tls: Option<TlsAcceptor>,
    stream: TcpStream,
    peer: SocketAddr,
) -> std::io::Result<()> {
    let mut conn = Conn::Plain(stream);
    let limits = scfg.config.limits.clone();
    let mut session = Session::new(scfg, Some(peer.ip()));
    let mut out: Vec<u8> = Vec::with_capacity(1024);
    let mut buf = vec![0u8; 8192];
    let mut data_started = Instant::now();
    loop {
        while let Some(a) = session.poll() {
            match a {
                Action::Send(b) => {
                    crate::metrics::global().smtp_replies(&b);
                    out.extend_from_slice(&b)
                }
                Action::DataStarted => data_started = Instant::now(),
                Action::Deliver(msg) => {
                    conn.write_all(&out).await?;
                    out.clear();
                    let reply = sink.deliver(msg, data_started).await;
                    session.delivered(reply);
                }
                Action::PolicyDenied {
                    sender,
                    recipient,
                    number,
                } => {
                    let sink = sink.clone();
                    tokio::task::spawn_blocking(move || {
                        sink.policy_denied(&sender, &recipient, &number)
                    });
                }
                Action::DataAborted { sender, recipients } => {
                    let sink = sink.clone();
                    tokio::task::spawn_blocking(move || sink.data_aborted(&sender, &recipients));
                }
                Action::StartTls => {
                    conn.write_all(&out).await?;
                    out.clear();
                    let (Conn::Plain(tcp), Some(acc)) =
                        (std::mem::replace(&mut conn, Conn::Gone), &tls)
                    else {
                        return Ok(());
                    };
                    let hs = tokio::time::timeout(Duration::from_secs(30), acc.accept(tcp)).await;
                    match hs {
                        Ok(Ok(s)) => {
                            conn = Conn::Tls(Box::new(s));
                            session.tls_started();
                        }
                        _ => return Ok(()),
                    }
                }
                Action::Close => {
                    conn.write_all(&out).await?;
                    conn.shutdown().await;
                    return Ok(());
                }
            }
        }
        if !out.is_empty() {
            conn.write_all(&out).await?;
            out.clear();
        }
        if session.is_closed() {
            conn.shutdown().await;
            return Ok(());
        }
        if !session.wants_input() {
            // Only a pending delivery or a full buffer stops input; both are handled by
            // poll(), so this is a closed session.
            return Ok(());
        }
        let timeout = Duration::from_secs(if session.in_data() {
            limits.data_timeout_s
        } else {
            limits.command_timeout_s
        });
        match tokio::time::timeout(timeout, conn.read(&mut buf)).await {
            Err(_) => session.timeout(),
            Ok(Ok(0)) | Ok(Err(_)) => session.eof(),
            Ok(Ok(n)) => session.input(&buf[..n]),
        }
    }
}
