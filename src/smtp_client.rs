//! An SMTP client that submits one message to a relay (RFC 5321): EHLO (HELO when EHLO is
//! refused), STARTTLS (RFC 3207) through rustls when the relay offers it or the
//! configuration requires it, AUTH PLAIN (RFC 4616) or LOGIN when credentials are
//! configured (RFC 4954), MAIL, RCPT, DATA with dot-stuffing (RFC 5321 §4.5.2) and QUIT.
//!
//! Replies say what the caller should do (RFC 5321 §4.2.1): a 4yz reply, a connection that
//! fails or drops, a timeout or a failed TLS handshake is [`SubmitError::Temporary`] (try
//! again later); a 5yz reply is [`SubmitError::Permanent`]. Blocking: run it on a thread of
//! its own (the on-ramp's sender, the DSN writer).
//!
//! TLS modes: `off` never starts TLS; `opportunistic` (the default) starts it when offered,
//! without checking the certificate (RFC 7435 opportunistic security: protection from passive
//! eavesdroppers only); `required` insists on STARTTLS and a certificate that verifies
//! against the configured CA file (or the system's bundle) for the relay's name. AUTH
//! credentials are only ever sent over TLS with a verified certificate.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio_rustls::rustls;

/// The longest reply line read (RFC 5321 §4.5.3.1.5 says 512; some servers write more).
const MAX_REPLY_LINE: usize = 4096;
/// The most lines of one reply.
const MAX_REPLY_LINES: usize = 200;

/// When to use STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    Off,
    #[default]
    Opportunistic,
    Required,
}

/// How to reach the relay.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub tls: TlsMode,
    /// PEM file of the CA certificates that may sign the relay's certificate
    /// (`TlsMode::Required`); the system's bundle when `None`.
    pub ca: Option<PathBuf>,
    /// AUTH user and password.
    pub auth: Option<(String, String)>,
    /// Each read and write; 0 means five minutes (RFC 5321 §4.5.3.2 asks for minutes).
    pub timeout: Duration,
}

/// A reply: its code and its lines' texts (without the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply as one line: `250 2.0.0 Ok: queued as 4F2A`.
    pub fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
    }
}

/// Why a submission did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Try again later: 4yz, no connection, a timeout, TLS or I/O trouble.
    #[error("{0}")]
    Temporary(String),
    /// The relay refused the message for good (5yz): what was refused, and the reply.
    #[error("{0}")]
    Permanent(String, Reply),
}

impl SubmitError {
    fn from_reply(what: &str, r: &Reply) -> SubmitError {
        let text = format!("{what}: {}", r.text());
        if (500..600).contains(&r.code) {
            SubmitError::Permanent(text, r.clone())
        } else {
            SubmitError::Temporary(text)
        }
    }
}

fn io(what: &str) -> impl Fn(std::io::Error) -> SubmitError + '_ {
    move |e| SubmitError::Temporary(format!("{what}: {e}"))
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    /// Between the plain connection and its TLS successor.
    Closed,
}

fn closed() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotConnected, "connection closed")
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Closed => Err(closed()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Closed => Err(closed()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Closed => Err(closed()),
        }
    }
}

/// One SMTP connection.
struct Conn {
    stream: Stream,
    /// Bytes read but not yet used.
    buf: Vec<u8>,
    verified: bool,
}

impl Conn {
    fn line(&mut self) -> Result<String, SubmitError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let l: Vec<u8> = self.buf.drain(..=i).collect();
                let s = String::from_utf8_lossy(&l);
                return Ok(s.trim_end_matches(['\r', '\n']).to_string());
            }
            if self.buf.len() > MAX_REPLY_LINE {
                return Err(SubmitError::Temporary(
                    "the relay sent a reply line that never ends".into(),
                ));
            }
            let mut chunk = [0u8; 2048];
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(io("reading a reply"))?;
            if n == 0 {
                return Err(SubmitError::Temporary(
                    "the relay closed the connection".into(),
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn reply(&mut self) -> Result<Reply, SubmitError> {
        let mut lines = Vec::new();
        loop {
            let l = self.line()?;
            let code = l
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c) || *c == 0)
                .ok_or_else(|| {
                    SubmitError::Temporary(format!(
                        "not an SMTP reply: {:?}",
                        l.chars().take(80).collect::<String>()
                    ))
                })?;
            lines.push(l.get(4..).unwrap_or("").to_string());
            if lines.len() > MAX_REPLY_LINES {
                return Err(SubmitError::Temporary("a reply of too many lines".into()));
            }
            if l.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply { code, lines });
            }
        }
    }

    fn send(&mut self, data: &[u8]) -> Result<(), SubmitError> {
        self.stream
            .write_all(data)
            .and_then(|_| self.stream.flush())
            .map_err(io("writing to the relay"))
    }

    /// Send `cmd` and read the reply; a reply outside `ok` is the error.
    fn command(&mut self, cmd: &str, ok: u16) -> Result<Reply, SubmitError> {
        self.send(format!("{cmd}\r\n").as_bytes())?;
        let r = self.reply()?;
        if r.code / 100 != ok / 100 {
            // Never repeat a password in an error.
            let what = if cmd.starts_with("AUTH") { "AUTH" } else { cmd };
            return Err(SubmitError::from_reply(what, &r));
        }
        Ok(r)
    }
}

/// The EHLO keywords the relay announced.
#[derive(Debug, Default)]
struct Extensions {
    starttls: bool,
    auth_plain: bool,
    auth_login: bool,
}

fn extensions(r: &Reply) -> Extensions {
    let mut e = Extensions::default();
    for l in r.lines.iter().skip(1) {
        let mut words = l.split_whitespace();
        match words.next().map(|w| w.to_ascii_uppercase()).as_deref() {
            Some("STARTTLS") => e.starttls = true,
            Some("AUTH") => {
                for m in words {
                    match m.to_ascii_uppercase().as_str() {
                        "PLAIN" => e.auth_plain = true,
                        "LOGIN" => e.auth_login = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    e
}

/// The message with every line ending in CRLF and lines starting with `.` doubled
/// (RFC 5321 §4.5.2), then the end-of-data line.
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 50 + 8);
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Submit `data` from `from` to `to` through `relay` (`host:port`); `helo` is our name.
/// Returns the relay's reply to the end of data.
pub fn submit(
    relay: &str,
    opts: &ClientOptions,
    helo: &str,
    from: &str,
    to: &[&str],
    data: &[u8],
) -> Result<Reply, SubmitError> {
    let timeout = if opts.timeout.is_zero() {
        Duration::from_secs(300)
    } else {
        opts.timeout
    };
    let addrs: Vec<_> = relay
        .to_socket_addrs()
        .map_err(io(&format!("relay {relay}")))?
        .collect();
    let mut last = None;
    let mut tcp = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout.min(Duration::from_secs(30))) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        SubmitError::Temporary(format!(
            "connect {relay}: {}",
            last.map_or("no address".to_string(), |e| e.to_string())
        ))
    })?;
    tcp.set_read_timeout(Some(timeout)).ok();
    tcp.set_write_timeout(Some(timeout)).ok();
    let mut c = Conn {
        stream: Stream::Plain(tcp),
        buf: Vec::new(),
        verified: false,
    };
    let greeting = c.reply()?;
    if greeting.code != 220 {
        return Err(SubmitError::from_reply("greeting", &greeting));
    }
    let mut ext = ehlo(&mut c, helo)?;
    if opts.tls != TlsMode::Off && (ext.starttls || opts.tls == TlsMode::Required) {
        if !ext.starttls {
            return Err(SubmitError::Temporary(format!(
                "{relay} does not offer STARTTLS, and TLS is required"
            )));
        }
        c.command("STARTTLS", 220)?;
        if !c.buf.is_empty() {
            // Anything after the 220 was sent in the clear and must not count (RFC 3207 §5).
            return Err(SubmitError::Temporary(
                "the relay sent data after its STARTTLS reply".into(),
            ));
        }
        start_tls(&mut c, relay, opts)?;
        ext = ehlo(&mut c, helo)?;
    }
    if let Some((user, password)) = &opts.auth {
        if !c.verified {
            return Err(SubmitError::Temporary(
                "AUTH is configured but the connection has no verified TLS".into(),
            ));
        }
        auth(&mut c, &ext, user, password)?;
    }
    c.command(&format!("MAIL FROM:<{from}>"), 250)?;
    for t in to {
        c.command(&format!("RCPT TO:<{t}>"), 250)?;
    }
    c.command("DATA", 354)?;
    c.send(&dot_stuff(data))?;
    let r = c.reply()?;
    if r.code / 100 != 2 {
        return Err(SubmitError::from_reply("end of data", &r));
    }
    let _ = c.command("QUIT", 221);
    Ok(r)
}

fn ehlo(c: &mut Conn, helo: &str) -> Result<Extensions, SubmitError> {
    c.send(format!("EHLO {helo}\r\n").as_bytes())?;
    let r = c.reply()?;
    match r.code {
        250 => Ok(extensions(&r)),
        500..=504 | 550 => {
            c.command(&format!("HELO {helo}"), 250)?;
            Ok(Extensions::default())
        }
        _ => Err(SubmitError::from_reply("EHLO", &r)),
    }
}

fn auth(c: &mut Conn, ext: &Extensions, user: &str, password: &str) -> Result<(), SubmitError> {
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    if ext.auth_plain {
        let token = b64(format!("\0{user}\0{password}").as_bytes());
        c.command(&format!("AUTH PLAIN {token}"), 235)?;
    } else if ext.auth_login {
        c.command("AUTH LOGIN", 334)?;
        c.command(&b64(user.as_bytes()), 334)
            .map_err(|_| SubmitError::Temporary("AUTH LOGIN: the user was refused".into()))?;
        // The password's own reply: 235, or the refusal (never echoing the password).
        c.send(format!("{}\r\n", b64(password.as_bytes())).as_bytes())?;
        let r = c.reply()?;
        if r.code != 235 {
            return Err(SubmitError::from_reply("AUTH LOGIN", &r));
        }
    } else {
        return Err(SubmitError::Temporary(
            "AUTH is configured but the relay offers neither PLAIN nor LOGIN".into(),
        ));
    }
    Ok(())
}

fn start_tls(c: &mut Conn, relay: &str, opts: &ClientOptions) -> Result<(), SubmitError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SubmitError::Temporary(format!("TLS: {e}")))?;
    let verified = opts.tls == TlsMode::Required;
    let config = if verified {
        builder
            .with_root_certificates(roots(opts)?)
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth()
    };
    let host = relay
        .rsplit_once(':')
        .map_or(relay, |(h, _)| h)
        .trim_matches(['[', ']']);
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| SubmitError::Temporary(format!("TLS: '{host}': {e}")))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| SubmitError::Temporary(format!("TLS: {e}")))?;
    let Stream::Plain(tcp) = std::mem::replace(&mut c.stream, Stream::Closed) else {
        return Err(SubmitError::Temporary("STARTTLS twice".into()));
    };
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Complete the handshake now, so that its failure is named as such.
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(io("TLS handshake"))?;
    }
    c.stream = Stream::Tls(Box::new(tls));
    c.verified = verified;
    Ok(())
}

fn roots(opts: &ClientOptions) -> Result<rustls::RootCertStore, SubmitError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let path = opts
        .ca
        .clone()
        .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
    let mut store = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| SubmitError::Temporary(format!("TLS: {}: {e}", path.display())))?;
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(SubmitError::Temporary(format!(
            "TLS: {}: no CA certificate",
            path.display()
        )));
    }
    Ok(store)
}

/// Opportunistic TLS: any certificate is taken, the handshake's signatures still checked.
#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    #[test]
    fn dot_stuffing_and_line_ends() {
        assert_eq!(dot_stuff(b"a\n.b\r\n..c"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
    }

    /// A relay that answers each command with the next of `replies` and records the
    /// commands (the data as one entry).
    fn relay(replies: &'static [&'static str]) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut seen = Vec::new();
            w.write_all(b"220 relay ESMTP\r\n").unwrap();
            for reply in replies {
                let mut cmd = String::new();
                if r.read_line(&mut cmd).unwrap() == 0 {
                    break;
                }
                if seen.last().is_some_and(|c: &String| c == "DATA") {
                    while !cmd.ends_with("\r\n.\r\n") && cmd != ".\r\n" {
                        if r.read_line(&mut cmd).unwrap() == 0 {
                            break;
                        }
                    }
                }
                seen.push(cmd.trim_end_matches("\r\n").to_string());
                w.write_all(reply.as_bytes()).unwrap();
            }
            seen
        });
        (addr, h)
    }

    #[test]
    fn a_message_goes_through_with_the_final_reply() {
        let (addr, h) = relay(&[
            "250-relay\r\n250 8BITMIME\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 2.0.0 queued as X\r\n",
            "221 bye\r\n",
        ]);
        let opts = ClientOptions::default();
        let r = submit(&addr, &opts, "gw", "a@b", &["c@d"], b"Subject: x\n\n.dot\n").unwrap();
        assert_eq!(r.text(), "250 2.0.0 queued as X");
        let seen = h.join().unwrap();
        assert_eq!(seen[..3], ["EHLO gw", "MAIL FROM:<a@b>", "RCPT TO:<c@d>"]);
        assert_eq!(seen[4], "Subject: x\r\n\r\n..dot\r\n.");
    }

    #[test]
    fn replies_say_later_or_never() {
        let (addr, h) = relay(&["250 relay\r\n", "250 ok\r\n", "451 4.3.0 busy\r\n"]);
        let e = submit(
            &addr,
            &ClientOptions::default(),
            "gw",
            "a@b",
            &["c@d"],
            b"x\n",
        );
        assert!(matches!(e, Err(SubmitError::Temporary(_))), "{e:?}");
        h.join().unwrap();
        let (addr, h) = relay(&["250 relay\r\n", "250 ok\r\n", "550 5.1.1 no such user\r\n"]);
        match submit(
            &addr,
            &ClientOptions::default(),
            "gw",
            "a@b",
            &["c@d"],
            b"x\n",
        ) {
            Err(SubmitError::Permanent(_, r)) => assert_eq!(r.code, 550),
            other => panic!("{other:?}"),
        }
        h.join().unwrap();
        // Credentials never go over a connection without verified TLS.
        let (addr, h) = relay(&["250-relay\r\n250 AUTH PLAIN\r\n"]);
        let opts = ClientOptions {
            tls: TlsMode::Off,
            auth: Some(("u".into(), "secret".into())),
            ..ClientOptions::default()
        };
        let e = submit(&addr, &opts, "gw", "a@b", &["c@d"], b"x\n");
        assert!(
            matches!(e, Err(SubmitError::Temporary(ref w)) if !w.contains("secret")),
            "{e:?}"
        );
        drop(h);
        // Nobody listening: later.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = submit(
            &format!("127.0.0.1:{port}"),
            &ClientOptions::default(),
            "gw",
            "a@b",
            &["c@d"],
            b"x\n",
        );
        assert!(matches!(e, Err(SubmitError::Temporary(_))), "{e:?}");
    }
}
