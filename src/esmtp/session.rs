//! The SMTP session as a sans-IO state machine (RFC 5321 §3–4, RFC 2920 PIPELINING, RFC
//! 3207 STARTTLS, RFC 4954 AUTH, Cisco's XACT): bytes from the client go in through
//! [`Session::input`], and [`Session::poll`] hands out what to do, in order — bytes to send,
//! a message to deliver, TLS to start, the connection to close. It reads no clock and
//! touches no socket; the tokio server ([`super::server`]) and the tests drive it.
//!
//! Order of work: [`Session::poll`] consumes the buffered input strictly in order, one
//! command (or a slice of message data) at a time; replies are queued as they are made, so
//! a pipelined group gets its replies in order and the server flushes them before it reads
//! again. After [`Action::Deliver`] the session is blocked until [`Session::delivered`]
//! gives the reply to the final dot; input that arrives meanwhile waits in the buffer.
//! After `STARTTLS`'s 220 every byte already buffered is thrown away (RFC 3207 §4.2, the
//! command-injection class of CVE-2011-0411).
//!
//! Limits: a command line may be 4096 octets (AUTH 12288); a longer one is answered
//! `500 5.5.6` and skipped to its end; buffered input is bounded by the same figure; message
//! data is counted while it streams and past `max_message_size` is dropped, read on to the
//! final dot, and answered `552 5.3.4`; 20 errors close the session with `421`.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use super::auth;
use super::data::DataReceiver;
use super::parser::{self, Command, RcptParams};
use crate::address;
use crate::config::{Config, DeliveryMode};
use crate::envelope::{MailParams, Message, Recipient};

/// Longest command line, CRLF included: more than the 512 of RFC 5321 §4.5.3.1.4, as
/// §4.5.3.1 advises (docs/contracts/smtp.md).
pub const MAX_COMMAND: usize = 4096;
/// Longest AUTH line (RFC 4954 §4).
pub const MAX_AUTH_LINE: usize = 12288;
/// Errors before the session is closed.
const MAX_ERRORS: u32 = 20;

/// What the session needs to know about the gateway.
#[derive(Debug)]
pub struct SessionConfig {
    pub config: Arc<Config>,
    /// A TLS certificate is loaded: offer STARTTLS.
    pub tls_available: bool,
}

/// What the server must do next.
#[derive(Debug)]
pub enum Action {
    /// Write these bytes (one or more whole replies).
    Send(Vec<u8>),
    /// The 354 reply was queued: the mail part of the job starts now (`t_data_start`).
    DataStarted,
    /// Deliver the message; then call [`Session::delivered`] with the reply.
    Deliver(Box<Message>),
    /// A recipient was refused by policy: record it (abort_cause 5).
    PolicyDenied {
        sender: String,
        recipient: String,
        number: String,
    },
    /// The client left in the middle of DATA (abort_cause 2).
    DataAborted {
        sender: String,
        recipients: Vec<String>,
    },
    /// Flush, then start the TLS handshake; then call [`Session::tls_started`].
    StartTls,
    /// Flush, then close the connection.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Commands.
    Command,
    /// Message data after 354.
    Data,
    /// Waiting for the reply to the final dot.
    Delivering,
    /// AUTH LOGIN/PLAIN continuation lines.
    Auth,
    /// Closed: nothing more is read.
    Closed,
}

#[derive(Debug)]
enum AuthStep {
    PlainResponse,
    LoginUser,
    LoginPassword(String),
}

/// One SMTP session.
pub struct Session {
    cfg: Arc<SessionConfig>,
    peer: Option<IpAddr>,
    phase: Phase,
    /// `Some((name, esmtp))` after EHLO (`true`) or HELO.
    helo: Option<(String, bool)>,
    tls: bool,
    authenticated: Option<String>,
    auth: Option<AuthStep>,
    xact: bool,
    mail: Option<(String, MailParams)>,
    rcpts: Vec<Recipient>,
    data: Option<DataReceiver>,
    inbuf: Vec<u8>,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
    out: VecDeque<Action>,
    errors: u32,
}

fn reply(code: u16, esc: &str, text: &str) -> Vec<u8> {
    format!("{code} {esc} {text}\r\n").into_bytes()
}

impl Session {
    /// A new session; queue the greeting.
    pub fn new(cfg: Arc<SessionConfig>, peer: Option<IpAddr>) -> Session {
        let greeting = format!("220 {} softfax ESMTP\r\n", cfg.config.gateway_id).into_bytes();
        let mut s = Session {
            cfg,
            peer,
            phase: Phase::Command,
            helo: None,
            tls: false,
            authenticated: None,
            auth: None,
            xact: false,
            mail: None,
            rcpts: Vec::new(),
            data: None,
            inbuf: Vec::new(),
            skipping: false,
            out: VecDeque::new(),
            errors: 0,
        };
        s.out.push_back(Action::Send(greeting));
        s
    }

    /// Bytes from the client.
    pub fn input(&mut self, bytes: &[u8]) {
        if self.phase != Phase::Closed {
            self.inbuf.extend_from_slice(bytes);
        }
    }

    /// Will the session take more input now? (No while a delivery is pending, after
    /// close, or while the buffer already holds a full line's worth.)
    pub fn wants_input(&self) -> bool {
        matches!(self.phase, Phase::Command | Phase::Data | Phase::Auth)
            && self.inbuf.len() < MAX_AUTH_LINE
    }

    /// In the middle of message data (the server uses the DATA timeout then).
    pub fn in_data(&self) -> bool {
        self.phase == Phase::Data
    }

    /// Bytes of input waiting to be processed.
    pub fn buffered(&self) -> usize {
        self.inbuf.len()
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The next thing to do, or `None` when more input (or a delivery result) is needed.
    pub fn poll(&mut self) -> Option<Action> {
        loop {
            if let Some(a) = self.out.pop_front() {
                return Some(a);
            }
            match self.phase {
                Phase::Closed | Phase::Delivering => return None,
                Phase::Data => {
                    if self.inbuf.is_empty() {
                        return None;
                    }
                    let dr = self.data.as_mut().expect("a receiver in the data phase");
                    let (used, done) = dr.feed(&self.inbuf);
                    self.inbuf.drain(..used);
                    if done {
                        self.end_of_data();
                    }
                }
                Phase::Command | Phase::Auth => {
                    let limit = if self.phase == Phase::Auth {
                        MAX_AUTH_LINE
                    } else {
                        MAX_AUTH_LINE.max(MAX_COMMAND)
                    };
                    match self.inbuf.iter().position(|&b| b == b'\n') {
                        Some(i) => {
                            let mut line: Vec<u8> = self.inbuf.drain(..=i).collect();
                            line.pop();
                            if line.last() == Some(&b'\r') {
                                line.pop();
                            }
                            if std::mem::take(&mut self.skipping) {
                                continue;
                            }
                            let is_auth = self.phase == Phase::Auth
                                || line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"AUTH");
                            if line.len() + 2 > MAX_COMMAND && !is_auth {
                                self.error(500, "5.5.6", "Line too long");
                                continue;
                            }
                            if self.phase == Phase::Auth {
                                self.auth_line(&line);
                            } else {
                                self.command(&line);
                            }
                        }
                        None if self.inbuf.len() >= limit => {
                            // A line with no end in sight: answer once, skip to its end.
                            self.inbuf.clear();
                            if !self.skipping {
                                self.skipping = true;
                                self.error(500, "5.5.6", "Line too long");
                            }
                        }
                        None => return None,
                    }
                }
            }
        }
    }

    /// The reply to the final dot (one or more lines, CRLF-terminated).
    pub fn delivered(&mut self, reply: String) {
        if self.phase != Phase::Delivering {
            return;
        }
        self.out.push_back(Action::Send(reply.into_bytes()));
        self.reset_transaction();
        self.phase = Phase::Command;
    }

    /// The TLS handshake is done: the session starts over (RFC 3207 §4.2).
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.helo = None;
        self.xact = false;
        self.authenticated = None;
        self.reset_transaction();
        self.inbuf.clear();
        self.phase = Phase::Command;
    }

    /// The client went away.
    pub fn eof(&mut self) {
        if self.phase == Phase::Data
            && let Some((sender, _)) = self.mail.take()
        {
            let recipients = self.rcpts.drain(..).map(|r| r.address).collect();
            self.out
                .push_back(Action::DataAborted { sender, recipients });
        }
        self.phase = Phase::Closed;
    }

    /// The client was silent too long.
    pub fn timeout(&mut self) {
        let data = self.phase == Phase::Data;
        self.eof();
        let text = if data {
            "Error: timeout waiting for message data, closing"
        } else {
            "Error: timeout exceeded, closing"
        };
        self.out.push_back(Action::Send(
            format!("421 4.4.2 {} {text}\r\n", self.cfg.config.gateway_id).into_bytes(),
        ));
        self.out.push_back(Action::Close);
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.out.push_back(Action::Send(bytes));
    }

    fn ok(&mut self, code: u16, esc: &str, text: &str) {
        self.send(reply(code, esc, text));
    }

    fn error(&mut self, code: u16, esc: &str, text: &str) {
        self.send(reply(code, esc, text));
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            let t = format!(
                "421 4.7.0 {} Too many errors, closing\r\n",
                self.cfg.config.gateway_id
            );
            self.send(t.into_bytes());
            self.out.push_back(Action::Close);
            self.phase = Phase::Closed;
        }
    }

    fn reset_transaction(&mut self) {
        self.mail = None;
        self.rcpts.clear();
        self.data = None;
    }

    fn command(&mut self, line: &[u8]) {
        let cmd = match parser::parse(line) {
            Ok(c) => c,
            Err(e) => {
                let (c, esc) = e.reply_code();
                return self.error(c, esc, &e.to_string());
            }
        };
        let cfg = self.cfg.config.clone();
        match cmd {
            Command::Ehlo(name) => {
                self.reset_transaction();
                let ip = self.peer.map_or(String::new(), |p| format!(" [{p}]"));
                let mut lines = vec![
                    format!("{} hello {name}{ip}", cfg.gateway_id),
                    "ENHANCEDSTATUSCODES".into(),
                    "8BITMIME".into(),
                    "PIPELINING".into(),
                    "HELP".into(),
                    "DSN".into(),
                ];
                // Only where the reply to the final dot carries the call's outcome.
                if cfg.delivery == DeliveryMode::Immediate {
                    lines.push("XSESSION".into());
                }
                lines.push("XACCOUNTING".into());
                lines.push(format!("SIZE {}", cfg.limits.max_message_size));
                if self.cfg.tls_available && !self.tls {
                    lines.push("STARTTLS".into());
                }
                if self.tls && !cfg.users.is_empty() {
                    lines.push("AUTH PLAIN LOGIN".into());
                }
                let n = lines.len();
                let mut out = String::new();
                for (i, l) in lines.iter().enumerate() {
                    let sep = if i + 1 == n { ' ' } else { '-' };
                    out.push_str(&format!("250{sep}{l}\r\n"));
                }
                self.helo = Some((name, true));
                self.send(out.into_bytes());
            }
            Command::Helo(name) => {
                self.reset_transaction();
                self.helo = Some((name, false));
                self.xact = false;
                self.send(format!("250 {}\r\n", cfg.gateway_id).into_bytes());
            }
            Command::Mail { path, params } => {
                if self.helo.is_none() {
                    return self.error(503, "5.5.1", "Send EHLO or HELO first");
                }
                if self.mail.is_some() {
                    return self.error(503, "5.5.1", "Nested MAIL command");
                }
                if cfg.require_auth && self.authenticated.is_none() {
                    return self.error(530, "5.7.0", "Authentication required");
                }
                if !path.is_empty() && !path.contains('@') {
                    return self.error(501, "5.1.7", "Bad sender address syntax");
                }
                if let Some(size) = params.size
                    && size > cfg.limits.max_message_size
                {
                    return self.error(
                        552,
                        "5.3.4",
                        &format!(
                            "Message size exceeds fixed maximum message size ({} bytes)",
                            cfg.limits.max_message_size
                        ),
                    );
                }
                self.ok(250, "2.1.0", &format!("Sender <{path}> ok"));
                self.mail = Some((path, params));
            }
            Command::Rcpt { path, params } => self.rcpt(&cfg, path, params),
            Command::Data => {
                if self.mail.is_none() {
                    return self.error(503, "5.5.1", "Need MAIL command");
                }
                if self.rcpts.is_empty() {
                    return self.error(554, "5.5.1", "No valid recipients");
                }
                self.send(b"354 Enter mail, end with a single \".\"\r\n".to_vec());
                self.out.push_back(Action::DataStarted);
                self.data = Some(DataReceiver::new(cfg.limits.max_message_size));
                self.phase = Phase::Data;
            }
            Command::Rset => {
                self.reset_transaction();
                self.ok(250, "2.0.0", "Reset state");
            }
            Command::Noop => self.ok(250, "2.0.0", "OK"),
            Command::Quit => {
                self.send(
                    format!("221 2.0.0 {} closing connection\r\n", cfg.gateway_id).into_bytes(),
                );
                self.out.push_back(Action::Close);
                self.phase = Phase::Closed;
            }
            Command::Vrfy(_) => self.ok(
                252,
                "2.1.5",
                "Cannot VRFY user, but will accept message and attempt delivery",
            ),
            Command::Expn => self.error(502, "5.5.1", "EXPN not implemented"),
            Command::Help(_) => self.send(
                b"214-2.0.0 softfax ESMTP off-ramp: mail to FAX=+<number>@<domain> is faxed\r\n\
214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP XACT STARTTLS AUTH\r\n\
214 2.0.0 XACT turns on the XACCOUNTING reply to the final dot\r\n"
                    .to_vec(),
            ),
            Command::StartTls => {
                if !self.cfg.tls_available {
                    return self.error(454, "4.7.0", "TLS not available");
                }
                if self.tls {
                    return self.error(503, "5.5.1", "TLS already active");
                }
                if self.mail.is_some() {
                    return self.error(503, "5.5.1", "STARTTLS inside a mail transaction");
                }
                self.ok(220, "2.0.0", "Ready to start TLS");
                self.out.push_back(Action::StartTls);
                // Nothing read before the handshake may be acted on (RFC 3207 §4.2).
                self.inbuf.clear();
                self.phase = Phase::Delivering;
            }
            Command::Auth { mechanism, initial } => self.auth_start(&cfg, &mechanism, initial),
            Command::Xact => match &self.helo {
                Some((_, true)) => {
                    self.xact = true;
                    self.ok(250, "2.5.0", "XACCOUNTING enabled");
                }
                _ => self.error(503, "5.5.1", "XACT needs EHLO first"),
            },
        }
    }

    fn rcpt(&mut self, cfg: &Config, path: String, params: RcptParams) {
        if self.mail.is_none() {
            return self.error(503, "5.5.1", "Need MAIL before RCPT");
        }
        let limit = match cfg.delivery {
            DeliveryMode::Immediate => 1,
            DeliveryMode::Queue => cfg.limits.max_recipients,
        };
        if self.rcpts.len() >= limit {
            let why = if limit == 1 {
                "Too many recipients (one per transaction with immediate delivery)"
            } else {
                "Too many recipients"
            };
            return self.ok(452, "4.5.3", why);
        }
        if path.eq_ignore_ascii_case("postmaster")
            || path
                .split_once('@')
                .is_some_and(|(l, d)| l.eq_ignore_ascii_case("postmaster") && cfg.serves(d))
        {
            self.rcpts.push(Recipient {
                address: path.clone(),
                fax: None,
                notify: params.notify,
                orcpt: params.orcpt,
            });
            return self.ok(250, "2.1.5", &format!("Recipient <{path}> ok"));
        }
        let Some((_, domain)) = path.rsplit_once('@') else {
            return self.error(550, "5.1.1", &format!("<{path}>: not a fax address"));
        };
        if !cfg.serves(domain) {
            return self.error(
                550,
                "5.7.1",
                &format!("<{path}>: relay access denied (fax-mail for our domains only)"),
            );
        }
        let fax = match address::parse(&path) {
            Ok(a) => a,
            Err(e) => {
                let (c, esc) = e.reply_code();
                return self.error(c, esc, &format!("<{path}>: {e}"));
            }
        };
        let route = match cfg.dialplan.route(&fax.number) {
            Ok(r) => r,
            Err(e) => {
                if let crate::dialplan::RouteError::Denied { number, .. } = &e {
                    self.out.push_back(Action::PolicyDenied {
                        sender: self.mail.as_ref().map(|m| m.0.clone()).unwrap_or_default(),
                        recipient: path.clone(),
                        number: number.clone(),
                    });
                }
                let (c, esc) = e.reply_code();
                let text = match e {
                    crate::dialplan::RouteError::Denied { number, .. } => {
                        format!("<{path}>: number {number} not authorized by policy")
                    }
                    crate::dialplan::RouteError::NoRule(n) => {
                        format!("<{path}>: no route to {n}")
                    }
                    e => format!("<{path}>: {e}"),
                };
                return self.error(c, esc, &text);
            }
        };
        self.ok(
            250,
            "2.1.5",
            &format!(
                "Recipient <{path}> ok, maps to '{}' (cp={})",
                route.dial,
                if route.cover_page { "yes" } else { "no" }
            ),
        );
        self.rcpts.push(Recipient {
            address: path,
            fax: Some((fax, route)),
            notify: params.notify,
            orcpt: params.orcpt,
        });
    }

    fn end_of_data(&mut self) {
        let dr = self.data.take().expect("a receiver");
        if dr.size > dr.max {
            self.reset_transaction();
            self.phase = Phase::Command;
            return self.error(
                552,
                "5.3.4",
                &format!(
                    "Message too big ({} bytes; the limit is {})",
                    dr.size, dr.max
                ),
            );
        }
        let (sender, mail) = self.mail.take().expect("MAIL before DATA");
        let msg = Message {
            helo: self.helo.as_ref().map(|h| h.0.clone()).unwrap_or_default(),
            peer: self.peer,
            sender,
            mail,
            recipients: std::mem::take(&mut self.rcpts),
            data: dr.data,
            xact: self.xact,
            authenticated: self.authenticated.clone(),
        };
        self.phase = Phase::Delivering;
        self.out.push_back(Action::Deliver(Box::new(msg)));
    }

    fn auth_start(&mut self, cfg: &Config, mechanism: &str, initial: Option<String>) {
        if self.authenticated.is_some() {
            return self.error(503, "5.5.1", "Already authenticated");
        }
        if self.mail.is_some() {
            return self.error(503, "5.5.1", "AUTH inside a mail transaction");
        }
        if self.helo.as_ref().is_none_or(|h| !h.1) {
            return self.error(503, "5.5.1", "Send EHLO first");
        }
        if !self.tls {
            return self.error(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism",
            );
        }
        if cfg.users.is_empty() {
            return self.error(502, "5.5.1", "AUTH not available");
        }
        match (mechanism, initial) {
            ("PLAIN", Some(ir)) if ir != "=" => self.auth_plain(&ir),
            ("PLAIN", _) => {
                self.auth = Some(AuthStep::PlainResponse);
                self.phase = Phase::Auth;
                self.send(b"334 \r\n".to_vec());
            }
            ("LOGIN", Some(user)) => match auth::text(&user) {
                Some(u) => {
                    self.auth = Some(AuthStep::LoginPassword(u));
                    self.phase = Phase::Auth;
                    self.send(b"334 UGFzc3dvcmQ6\r\n".to_vec());
                }
                None => self.error(501, "5.5.2", "Bad base64"),
            },
            ("LOGIN", None) => {
                self.auth = Some(AuthStep::LoginUser);
                self.phase = Phase::Auth;
                self.send(b"334 VXNlcm5hbWU6\r\n".to_vec());
            }
            _ => self.error(504, "5.5.4", "Unrecognized authentication mechanism"),
        }
    }

    fn auth_line(&mut self, line: &[u8]) {
        self.phase = Phase::Command;
        let step = self.auth.take();
        let text = String::from_utf8_lossy(line).trim().to_string();
        if text == "*" {
            return self.error(501, "5.0.0", "Authentication cancelled");
        }
        match step {
            Some(AuthStep::PlainResponse) => self.auth_plain(&text),
            Some(AuthStep::LoginUser) => match auth::text(&text) {
                Some(u) => {
                    self.auth = Some(AuthStep::LoginPassword(u));
                    self.phase = Phase::Auth;
                    self.send(b"334 UGFzc3dvcmQ6\r\n".to_vec());
                }
                None => self.error(501, "5.5.2", "Bad base64"),
            },
            Some(AuthStep::LoginPassword(user)) => match auth::text(&text) {
                Some(p) => self.auth_check(&user, &p),
                None => self.error(501, "5.5.2", "Bad base64"),
            },
            None => self.error(503, "5.5.1", "No AUTH in progress"),
        }
    }

    fn auth_plain(&mut self, response: &str) {
        match auth::plain(response) {
            Ok((user, pass)) => self.auth_check(&user, &pass),
            Err(why) => self.error(501, "5.5.2", why),
        }
    }

    fn auth_check(&mut self, user: &str, pass: &str) {
        if auth::verify(&self.cfg.config.users, user, pass) {
            self.authenticated = Some(user.to_string());
            self.ok(235, "2.7.0", "Authentication successful");
        } else {
            self.error(535, "5.7.8", "Authentication credentials invalid");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CONF: &str = r#"
gateway_id = "gw.example.com"
listen = "127.0.0.1:2525"
spool = "/tmp/x"
domains = ["example.com"]
[[line]]
uri = "sim:"
[[dialplan]]
match = "^\\+1408(555\\d{4})$"
dial = "$1"
cover_page = true
[[dialplan]]
match = "^\\+(\\d+)$"
dial = "011$1"
[policy]
deny = ["^\\+1900"]
[limits]
max_message_size = 100
"#;

    fn session() -> Session {
        let config = Config::parse(CONF, "t.toml", Path::new("/")).unwrap();
        Session::new(
            Arc::new(SessionConfig {
                config: Arc::new(config),
                tls_available: false,
            }),
            Some("127.0.0.1".parse().unwrap()),
        )
    }

    #[test]
    fn xsession_only_in_immediate_mode() {
        let conf = CONF.replace("domains =", "delivery = \"queue\"\ndomains =");
        let config = Config::parse(&conf, "t.toml", Path::new("/")).unwrap();
        let mut s = Session::new(
            Arc::new(SessionConfig {
                config: Arc::new(config),
                tls_available: false,
            }),
            None,
        );
        talk(&mut s, "");
        let (o, _) = talk(&mut s, "EHLO client.test\r\n");
        assert!(o.contains("250-DSN\r\n250-XACCOUNTING\r\n"), "{o}");
        assert!(!o.contains("XSESSION"), "{o}");
    }

    /// Feed `input`, collect everything sent until the session needs more (or delivers).
    fn talk(s: &mut Session, input: &str) -> (String, Option<Box<Message>>) {
        s.input(input.as_bytes());
        let mut out = String::new();
        let mut msg = None;
        while let Some(a) = s.poll() {
            match a {
                Action::Send(b) => out.push_str(&String::from_utf8(b).unwrap()),
                Action::Deliver(m) => msg = Some(m),
                _ => {}
            }
        }
        (out, msg)
    }

    #[test]
    fn the_cisco_session() {
        let mut s = session();
        let (o, _) = talk(&mut s, "");
        assert_eq!(o, "220 gw.example.com softfax ESMTP\r\n");
        let (o, _) = talk(&mut s, "EHLO client.test\r\n");
        assert_eq!(
            o,
            "250-gw.example.com hello client.test [127.0.0.1]\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-HELP\r\n250-DSN\r\n250-XSESSION\r\n250-XACCOUNTING\r\n250 SIZE 100\r\n"
        );
        let (o, _) = talk(
            &mut s,
            "mail from:<>\r\nrcpt to:<FAX=+1408555-7442@example.com>\r\nxact\r\nDATA\r\n",
        );
        assert_eq!(
            o,
            "250 2.1.0 Sender <> ok\r\n250 2.1.5 Recipient <FAX=+1408555-7442@example.com> ok, maps to '5557442' (cp=yes)\r\n250 2.5.0 XACCOUNTING enabled\r\n354 Enter mail, end with a single \".\"\r\n"
        );
        let (o, m) = talk(&mut s, "..x\r\nline\r\n.\r\nQUIT\r\n");
        assert_eq!(o, "");
        let m = m.unwrap();
        assert_eq!(m.data, b".x\r\nline\r\n");
        assert!(m.xact);
        assert_eq!(m.recipients[0].fax.as_ref().unwrap().1.dial, "5557442");
        assert!(s.poll().is_none());
        s.delivered("250 2.5.0 done\r\n".into());
        let (o, _) = talk(&mut s, "");
        assert_eq!(
            o,
            "250 2.5.0 done\r\n221 2.0.0 gw.example.com closing connection\r\n"
        );
    }

    #[test]
    fn refusals_at_rcpt_and_order() {
        let mut s = session();
        talk(&mut s, "");
        let (o, _) = talk(&mut s, "XACT\r\nMAIL FROM:<a@b>\r\nHELO x\r\nXACT\r\n");
        assert_eq!(
            o,
            "503 5.5.1 XACT needs EHLO first\r\n503 5.5.1 Send EHLO or HELO first\r\n250 gw.example.com\r\n503 5.5.1 XACT needs EHLO first\r\n"
        );
        let (o, _) = talk(
            &mut s,
            "RCPT TO:<FAX=+1@example.com>\r\nDATA\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\n",
        );
        assert_eq!(
            o,
            "503 5.5.1 Need MAIL before RCPT\r\n503 5.5.1 Need MAIL command\r\n250 2.1.0 Sender <a@b> ok\r\n503 5.5.1 Nested MAIL command\r\n554 5.5.1 No valid recipients\r\n"
        );
        let (o, _) = talk(
            &mut s,
            "RCPT TO:<FAX=+19005550100@example.com>\r\nRCPT TO:<FAX=+1408@other.org>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<FAX=1408@example.com>\r\n",
        );
        let l: Vec<&str> = o.lines().collect();
        assert!(
            l[0].starts_with(
                "550 5.7.1 <FAX=+19005550100@example.com>: number +19005550100 not authorized"
            ),
            "{o}"
        );
        assert!(
            l[1].starts_with("550 5.7.1 <FAX=+1408@other.org>: relay access denied"),
            "{o}"
        );
        assert!(l[2].starts_with("550 5.1.1 "), "{o}");
        assert!(l[3].starts_with("553 5.1.3 "), "{o}");
        let (o, _) = talk(
            &mut s,
            "RCPT TO:<FAX=+4930123@example.com>\r\nRCPT TO:<FAX=+4930124@example.com>\r\n",
        );
        assert_eq!(
            o,
            "250 2.1.5 Recipient <FAX=+4930123@example.com> ok, maps to '0114930123' (cp=no)\r\n452 4.5.3 Too many recipients (one per transaction with immediate delivery)\r\n"
        );
    }

    #[test]
    fn data_limits_and_hostility() {
        let mut s = session();
        talk(&mut s, "EHLO x\r\n");
        let (o, _) = talk(&mut s, "MAIL FROM:<a@b> SIZE=101\r\n");
        assert!(o.starts_with("552 5.3.4 "), "{o}");
        talk(
            &mut s,
            "MAIL FROM:<a@b>\r\nRCPT TO:<FAX=+4930@example.com>\r\nDATA\r\n",
        );
        let big = "x".repeat(300);
        let (o, m) = talk(&mut s, &format!("{big}\r\n.\r\nNOOP\r\n"));
        assert!(m.is_none());
        assert!(o.starts_with("552 5.3.4 Message too big"), "{o}");
        assert!(o.ends_with("250 2.0.0 OK\r\n"), "{o}");
        // A long line is refused once, then the session goes on.
        let (o, _) = talk(&mut s, &format!("NOOP {}\r\nNOOP\r\n", "y".repeat(5000)));
        assert_eq!(o, "500 5.5.6 Line too long\r\n250 2.0.0 OK\r\n");
        let (o, _) = talk(&mut s, &"z".repeat(40000));
        assert_eq!(o, "500 5.5.6 Line too long\r\n");
        assert!(s.inbuf.len() < MAX_AUTH_LINE);
        let (o, _) = talk(&mut s, "\r\nNOOP\r\n");
        assert_eq!(o, "250 2.0.0 OK\r\n");
        // Errors pile up to a 421.
        let (o, _) = talk(&mut s, &"BOGUS\r\n".repeat(30));
        assert!(o.contains("421 4.7.0"), "{o}");
        assert!(s.is_closed());
    }

    #[test]
    fn client_vanishing_mid_data() {
        let mut s = session();
        talk(
            &mut s,
            "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<FAX=+4930@example.com>\r\nDATA\r\nhalf a mess",
        );
        s.eof();
        assert!(matches!(s.poll(), Some(Action::DataAborted { .. })));
        assert!(s.poll().is_none());
        assert!(!s.wants_input());
    }
}
