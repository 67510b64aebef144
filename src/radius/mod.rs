//! RADIUS accounting (RFC 2866): an Accounting-Request Start when a call takes a line and a
//! Stop with the call's accounting record when it ends, to the `[radius] servers`
//! (docs/operations.md). The Stop carries the standard attributes (RFC 2865/2866/2869) and
//! Cisco's T.37 store-and-forward VSAs (vendor 9, types 3–21) with the same values as the
//! XACCOUNTING reply (docs/contracts/accounting.md).
//!
//! **Never in the call's way.** [`Client::start`]/[`Client::stop`] put the request into a
//! bounded queue and return; a full queue drops the record, counts it
//! (`softfax_radius_dropped_total`) and logs it. A task sends each request on its own UDP
//! socket: retransmitted after `timeout_ms`, doubled each time (back-off), `retries` times per
//! server, then the next server (failover; the one that answered last is tried first). Each
//! retransmission carries a fresh Acct-Delay-Time, hence a new Identifier and Request
//! Authenticator (RFC 2866 §5.2). An answer counts only if its Response Authenticator
//! checks out (RFC 2866 §3).

pub mod md5;
pub mod packet;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::accounting::Record;
use crate::metrics;
use packet::{Attributes, START, STOP, attr};

/// `[radius]` in softfax.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawRadius")]
pub struct RadiusConfig {
    /// Accounting servers, tried in order (`host:port`, port 1813 by default).
    pub servers: Vec<SocketAddr>,
    pub secret: String,
    /// NAS-Identifier; the gateway's `gateway_id` when not set.
    pub nas_identifier: Option<String>,
    /// NAS-IP-Address (or NAS-IPv6-Address); the address the request leaves from when not set.
    pub nas_ip: Option<IpAddr>,
    /// First retransmission timeout; doubled at each retransmission.
    pub timeout_ms: u64,
    /// Transmissions per server before the next one is tried.
    pub retries: u32,
    /// Requests waiting to be sent, at most; more are dropped (and counted).
    pub queue: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRadius {
    servers: Vec<String>,
    secret: String,
    nas_identifier: Option<String>,
    nas_ip: Option<String>,
    timeout_ms: Option<u64>,
    retries: Option<u32>,
    queue: Option<usize>,
}

impl TryFrom<RawRadius> for RadiusConfig {
    type Error = String;
    fn try_from(r: RawRadius) -> Result<Self, String> {
        use std::net::ToSocketAddrs;
        if r.servers.is_empty() {
            return Err("radius.servers: at least one server".into());
        }
        if r.secret.is_empty() {
            return Err("radius.secret: the shared secret may not be empty".into());
        }
        let mut servers = Vec::new();
        for s in &r.servers {
            let with_port = if s.parse::<SocketAddr>().is_ok()
                || s.rsplit_once(':')
                    .is_some_and(|(h, p)| !h.contains(':') && p.parse::<u16>().is_ok())
            {
                s.clone()
            } else {
                format!("{s}:1813")
            };
            let a = with_port
                .to_socket_addrs()
                .ok()
                .and_then(|mut i| i.next())
                .ok_or_else(|| format!("radius.servers: '{s}' is not HOST[:PORT]"))?;
            servers.push(a);
        }
        let nas_ip = match r.nas_ip {
            Some(ip) => Some(
                ip.parse()
                    .map_err(|_| format!("radius.nas_ip: '{ip}' is not an IP address"))?,
            ),
            None => None,
        };
        Ok(RadiusConfig {
            servers,
            secret: r.secret,
            nas_identifier: r.nas_identifier,
            nas_ip,
            timeout_ms: r.timeout_ms.unwrap_or(2000).max(1),
            retries: r.retries.unwrap_or(3).max(1),
            queue: r.queue.unwrap_or(1024).max(1),
        })
    }
}

/// What the gateway knows about itself, for every request.
#[derive(Debug, Clone)]
pub struct Nas {
    pub identifier: String,
    /// Our T.30 identity: the Calling-Station-Id of a fax we send.
    pub ident: String,
}

/// One request to send.
#[derive(Debug)]
struct Request {
    attrs: Attributes,
    /// When the event happened (Event-Timestamp; Acct-Delay-Time counts from it).
    at: SystemTime,
    what: &'static str,
    session: String,
}

/// The handle delivery holds; cheap to clone.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Request>,
    nas: Arc<Nas>,
}

/// A call under way: what its Stop needs from its Start.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    started: Instant,
}

impl Client {
    /// Start the sending task (on the current tokio runtime).
    pub fn spawn(cfg: RadiusConfig, nas: Nas) -> Client {
        let (tx, rx) = mpsc::channel(cfg.queue);
        tokio::spawn(run(Arc::new(cfg), rx));
        Client {
            tx,
            nas: Arc::new(nas),
        }
    }

    fn push(&self, r: Request) {
        if let Err(e) = self.tx.try_send(r) {
            metrics::global().radius_dropped();
            let r = match e {
                mpsc::error::TrySendError::Full(r) | mpsc::error::TrySendError::Closed(r) => r,
            };
            tracing::warn!(session = %r.session, "RADIUS: queue full, {} not sent", r.what);
        }
    }

    /// Accounting Start for a call that took the line `port` to dial `called` (or that a
    /// line answered, `call_type` `Fax Receive`: `called` is the called number, empty when
    /// the line gives none). `session` is the Acct-Session-Id.
    pub fn start(
        &self,
        session: &str,
        port: &str,
        called: &str,
        user: &str,
        call_type: &str,
    ) -> Session {
        let mut a = Attributes::default();
        a.int(attr::ACCT_STATUS_TYPE, START);
        a.text(attr::ACCT_SESSION_ID, session);
        a.text(attr::USER_NAME, user);
        if !called.is_empty() {
            a.text(attr::CALLED_STATION_ID, called);
        }
        if call_type != "Fax Receive" {
            a.text(attr::CALLING_STATION_ID, &self.nas.ident);
        }
        a.text(attr::NAS_IDENTIFIER, &self.nas.identifier);
        a.text(attr::NAS_PORT_ID, port);
        a.cisco(cisco::GATEWAY_ID, &self.nas.identifier);
        a.cisco(cisco::CALL_TYPE, call_type);
        a.cisco(cisco::PORT_USED, port);
        self.push(Request {
            attrs: a,
            at: SystemTime::now(),
            what: "Start",
            session: session.into(),
        });
        Session {
            id: session.into(),
            started: Instant::now(),
        }
    }

    /// Accounting Stop: the call's record.
    pub fn stop(&self, s: &Session, r: &Record) {
        let secs = s.started.elapsed().as_secs() as u32;
        self.push(Request {
            attrs: stop_attributes(&s.id, secs, r, &self.nas),
            at: SystemTime::now(),
            what: "Stop",
            session: s.id.clone(),
        });
    }

    /// Accounting Stop for a call the on-ramp answered (Acct-Session-Id `session`, the
    /// call's id): its record is complete only once the MTA took the mail (or refused it),
    /// which may be long after the call `ended` after `secs` seconds. Event-Timestamp is the
    /// call's end and Acct-Delay-Time the time since (RFC 2866 §5.2: the server subtracts
    /// it from the arrival to find the event).
    pub fn stop_received(&self, session: &str, secs: u32, ended: SystemTime, r: &Record) {
        self.push(Request {
            attrs: stop_attributes(session, secs, r, &self.nas),
            at: ended.min(SystemTime::now()),
            what: "Stop",
            session: session.into(),
        });
    }
}

/// Cisco's T.37 store-and-forward attributes (vendor 9; FreeRADIUS `dictionary.cisco`).
pub mod cisco {
    pub const FAX_MSG_ID: u8 = 4;
    pub const FAX_PAGES: u8 = 5;
    pub const FAX_MODEM_TIME: u8 = 7;
    pub const FAX_CONNECT_SPEED: u8 = 8;
    pub const FAX_PROCESS_ABORT_FLAG: u8 = 10;
    pub const FAX_DSN_ADDRESS: u8 = 11;
    pub const GATEWAY_ID: u8 = 18;
    pub const CALL_TYPE: u8 = 19;
    pub const PORT_USED: u8 = 20;
    pub const ABORT_CAUSE: u8 = 21;
    /// Cisco-AVPair (`name=value`), for the XACCOUNTING fields without a VSA of their own.
    pub const AVPAIR: u8 = 1;
}

/// Acct-Terminate-Cause (RFC 2866 §5.10) for an accounting `status`.
pub fn terminate_cause(status: &str) -> u32 {
    match status {
        "ok" => 10,            // NAS-Request: the gateway ended the call, the fax sent
        "line_down" => 8,      // Port-Error
        "internal_error" => 9, // NAS-Error
        "line_dropped" => 2,   // Lost-Carrier
        "bad_document" | "too_many_pages" => 17, // User-Error
        "busy" | "no_answer" | "no_fax_answer" | "congestion" | "temporary_failure"
        | "not_in_service" | "number_changed" | "no_line" => 15, // Service-Unavailable
        _ => 3,                // Lost-Service: the fax call failed under way
    }
}

/// Acct-Terminate-Cause (RFC 2866 §5.10) for a call the on-ramp answered: the caller ended
/// it (User-Request) when T.30 ended normally; the gateway's stop cut it (NAS-Reboot);
/// else the fax call failed under way (Lost-Service).
pub fn terminate_cause_received(r: &Record) -> u32 {
    if r.hangup_text == crate::accounting::CUT_OFF {
        11 // NAS-Reboot: the gateway stopped (or crashed) during the call
    } else if r.t30_error_code == 0 {
        1 // User-Request: the caller sent DCN after its last page
    } else {
        3 // Lost-Service
    }
}

/// The attributes of a Stop for record `r`.
pub fn stop_attributes(session: &str, secs: u32, r: &Record, nas: &Nas) -> Attributes {
    let receive = r.call_type == "Fax Receive";
    // An answered call's `dial` is the called number, or the line's port when the line gives
    // no number: then there is no Called-Station-Id.
    let (called, calling) = if receive {
        (
            (r.dial != r.port_used).then_some(r.dial.as_str()),
            r.csid.as_str(),
        )
    } else {
        (Some(r.dial.as_str()), nas.ident.as_str())
    };
    let mut a = Attributes::default();
    a.int(attr::ACCT_STATUS_TYPE, STOP);
    a.text(attr::ACCT_SESSION_ID, session);
    a.text(
        attr::USER_NAME,
        if receive { &r.recipient } else { &r.sender },
    );
    if let Some(called) = called.filter(|c| !c.is_empty()) {
        a.text(attr::CALLED_STATION_ID, called);
    }
    if !calling.is_empty() {
        a.text(attr::CALLING_STATION_ID, calling);
    }
    a.text(attr::NAS_IDENTIFIER, &nas.identifier);
    a.text(attr::NAS_PORT_ID, &r.port_used);
    a.int(attr::ACCT_SESSION_TIME, secs);
    a.int(
        attr::ACCT_OUTPUT_OCTETS,
        r.transmit_bytes.min(u32::MAX as u64) as u32,
    );
    a.int(
        attr::ACCT_TERMINATE_CAUSE,
        if receive {
            terminate_cause_received(r)
        } else {
            terminate_cause(&r.status)
        },
    );
    a.cisco(cisco::FAX_MSG_ID, &r.message_id);
    a.cisco(cisco::FAX_PAGES, &r.fax_pages.to_string());
    a.cisco(cisco::FAX_MODEM_TIME, &r.fax_modem_time);
    a.cisco(cisco::FAX_CONNECT_SPEED, &r.fax_connect_speed);
    a.cisco(
        cisco::FAX_PROCESS_ABORT_FLAG,
        if r.abort_cause != 0 { "true" } else { "false" },
    );
    if !r.sender.is_empty() && !receive {
        a.cisco(cisco::FAX_DSN_ADDRESS, &r.sender);
    }
    a.cisco(cisco::GATEWAY_ID, &r.gateway_id);
    a.cisco(cisco::CALL_TYPE, &r.call_type);
    a.cisco(cisco::PORT_USED, &r.port_used);
    a.cisco(cisco::ABORT_CAUSE, &r.abort_cause.to_string());
    for (k, v) in [
        ("transmit_bytes", r.transmit_bytes.to_string()),
        ("T30_error_code", r.t30_error_code.to_string()),
        ("ISDN_disconnect_code", r.isdn_disconnect_code.to_string()),
        ("CSID", r.csid.clone()),
    ] {
        a.cisco(cisco::AVPAIR, &format!("{k}={v}"));
    }
    a
}

/// Send requests as they come, each on its own task (at most 64 at once).
async fn run(cfg: Arc<RadiusConfig>, mut rx: mpsc::Receiver<Request>) {
    let preferred = Arc::new(AtomicUsize::new(0));
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    while let Some(req) = rx.recv().await {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let (cfg, preferred) = (cfg.clone(), preferred.clone());
        tokio::spawn(async move {
            send(&cfg, &preferred, req).await;
            drop(permit);
        });
    }
}

fn unix_seconds(t: SystemTime) -> u32 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as u32
}

/// Send one request until a server answers or every server was tried.
async fn send(cfg: &RadiusConfig, preferred: &AtomicUsize, req: Request) {
    let n = cfg.servers.len();
    let first = preferred.load(Ordering::Relaxed) % n;
    let stamp = unix_seconds(req.at);
    for k in 0..n {
        let i = (first + k) % n;
        let server = cfg.servers[i];
        let label = server.to_string();
        let sock = match bind_for(server).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%server, "RADIUS: cannot send: {e}");
                continue;
            }
        };
        let local = sock.local_addr().ok().map(|a| a.ip());
        let mut timeout = Duration::from_millis(cfg.timeout_ms);
        for t in 0..cfg.retries {
            let mut attrs = req.attrs.clone();
            match cfg.nas_ip.or(local) {
                Some(IpAddr::V4(ip)) if !ip.is_unspecified() => {
                    attrs.octets(attr::NAS_IP_ADDRESS, &ip.octets())
                }
                Some(IpAddr::V6(ip)) if !ip.is_unspecified() => {
                    attrs.octets(attr::NAS_IPV6_ADDRESS, &ip.octets())
                }
                _ => {}
            }
            attrs.int(attr::EVENT_TIMESTAMP, stamp);
            let delay = req.at.elapsed().unwrap_or_default().as_secs() as u32;
            if delay > 0 || t > 0 {
                attrs.int(attr::ACCT_DELAY_TIME, delay);
            }
            let id = rand_id();
            let p = packet::accounting_request(id, &attrs, cfg.secret.as_bytes());
            let sent = Instant::now();
            if let Err(e) = sock.send(&p).await {
                tracing::debug!(%server, "RADIUS send: {e}");
            }
            if t > 0 {
                metrics::global().radius(&label, "retransmitted", None);
            }
            match wait_answer(&sock, &p, cfg.secret.as_bytes(), timeout, &label).await {
                true => {
                    let rtt = sent.elapsed().as_secs_f64();
                    metrics::global().radius(&label, "answered", Some(rtt));
                    preferred.store(i, Ordering::Relaxed);
                    tracing::debug!(session = %req.session, %server, rtt_ms = rtt * 1e3, "RADIUS {} answered", req.what);
                    return;
                }
                false => timeout *= 2,
            }
        }
        metrics::global().radius(&label, "failed", None);
        tracing::warn!(session = %req.session, %server, "RADIUS {}: no answer, trying the next server", req.what);
    }
    tracing::error!(session = %req.session, "RADIUS {}: no server answered; the record is in the accounting log only", req.what);
}

async fn bind_for(server: SocketAddr) -> std::io::Result<UdpSocket> {
    let any: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let s = UdpSocket::bind(any).await?;
    s.connect(server).await?;
    Ok(s)
}

/// Wait up to `timeout` for the answer to `request`; other datagrams are skipped.
async fn wait_answer(
    sock: &UdpSocket,
    request: &[u8],
    secret: &[u8],
    timeout: Duration,
    label: &str,
) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = vec![0u8; packet::MAX_PACKET];
    loop {
        match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => return false,
            // ICMP port unreachable shows up as an error on a connected socket: wait out
            // the timeout as for silence, so back-off still applies.
            Ok(Err(_)) => {
                tokio::time::sleep_until(deadline).await;
                return false;
            }
            Ok(Ok(n)) => match packet::check_response(request, &buf[..n], secret) {
                Ok(()) => return true,
                Err(e) => {
                    metrics::global().radius(label, "bad_response", None);
                    tracing::warn!(server = label, "RADIUS: ignoring a datagram: {e}");
                }
            },
        }
    }
}

/// An identifier: each request has its own socket, so any value will do; vary it anyway.
fn rand_id() -> u8 {
    static N: AtomicUsize = AtomicUsize::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos() as usize;
    (N.fetch_add(1, Ordering::Relaxed).wrapping_add(t)) as u8
}
