//! `softfax.toml` (docs/contracts/config.md): the gateway's configuration. Every error names the file, the
//! line and the key (`softfax.toml line 12, key dialplan[2].match: …`), whether TOML itself
//! refused the text or a value made no sense (a regular expression that does not compile,
//! an unknown line type, a listen address that is not one).
//!
//! ```toml
//! gateway_id = "gw.example.com"
//! listen = "127.0.0.1:2525"
//! spool = "/var/spool/softfax"
//! delivery = "immediate"           # or "queue"
//! domains = ["example.com"]
//!
//! [[line]]
//! uri = "sim:"
//! port = "slot:1 port:1"
//!
//! [[dialplan]]
//! match = "^\\+1408(555\\d{4})$"
//! dial = "$1"
//! cover_page = true
//!
//! [policy]
//! deny = ["^\\+1900", "^\\+8[78]"]
//! ```
//!
//! A `[[line]]` may also set `max_rate` (bit/s), `ecm` [true], `prefer_v17` [false] and, for `sim:` lines,
//! `capture` (a folder for what the simulated far end received).
//!
//! Optional tables (defaults in brackets): `[limits]` (`max_message_size` [10 MiB],
//! `max_recipients` [100], `max_connections` [1000], `max_connections_per_ip` [100],
//! `command_timeout_s` [300], `data_timeout_s` [180], `line_wait_s` [120],
//! `max_calls_per_destination` [1]), `[queue]` (`retry_s` [60, 300, 900, 1800, 3600],
//! `max_attempts` [6], `retry_jitter` [0.2]), `[dsn]` (`outbox` dir or
//! `relay` host:port), `[tls]` (`certificate`, `key`, `require_auth`), `[[user]]` (`name`,
//! `password` as SHA-crypt `$6$`/`$5$`, as `openssl passwd -6` writes), and top-level
//! `accounting_log` [spool/accounting.jsonl], `ident` [softfax], `paper` [a4],
//! `resolution` [fine], `max_pages` [100].

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::dialplan::{Dialplan, Rule};

/// A configuration error: where, which key, what.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{file} line {line}, key {key}: {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// How accepted mail is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// The final dot is answered when the call ends (XSESSION).
    Immediate,
    /// Store and forward: answered once spooled, DSN later.
    Queue,
}

/// Paper of generated pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperSize {
    A4,
    Letter,
}

/// One line of the pool.
#[derive(Debug, Clone)]
pub struct LineConfig {
    pub uri: String,
    /// `port_used` in the accounting (`slot:1 port:1`).
    pub port: String,
    /// The fastest rate to offer on this line (bit/s).
    pub max_rate: Option<u32>,
    /// `sim:` lines only: write what the simulated far end received (TIFF + PNG) here.
    pub capture: Option<PathBuf>,
    /// Use ECM when the far end offers it (default on; the fallback ladder toggles it).
    pub ecm: bool,
    /// At 9600 and 7200 bit/s send on V.17 rather than V.29 when the receiver offers both
    /// (`prefer_v17`, default off: `t30::Config::prefer_v17`).
    pub prefer_v17: bool,
    /// The line simulator in front of the line (`impair = "SPEC"`, docs/contracts/lines.md).
    pub impair: Option<softfax_drivers::impair::ImpairSpec>,
    /// Wait for calls on this line and receive them (the on-ramp).
    pub answer: bool,
    /// Place the off-ramp's calls on this line.
    pub dial: bool,
}

/// Session and resource limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_size: u64,
    pub max_recipients: usize,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub command_timeout_s: u64,
    pub data_timeout_s: u64,
    pub line_wait_s: u64,
    /// Calls in progress to one destination number at once (both delivery modes).
    pub max_calls_per_destination: u32,
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 10 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 1000,
            max_connections_per_ip: 100,
            command_timeout_s: 300,
            data_timeout_s: 180,
            line_wait_s: 120,
            max_calls_per_destination: 1,
            max_pages: 100,
        }
    }
}

/// Queue-mode retries.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Seconds to wait before attempt 2, 3, …; the last value repeats.
    pub retry_s: Vec<u64>,
    pub max_attempts: u32,
    /// Each retry and back-off delay is multiplied by a random factor in 1 ± this (0 … 1).
    pub retry_jitter: f64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            retry_s: vec![60, 300, 900, 1800, 3600],
            max_attempts: 6,
            retry_jitter: 0.2,
        }
    }
}

/// Where delivery status notifications go.
#[derive(Debug, Clone, Default)]
pub struct DsnConfig {
    /// Write each DSN as a file `<id>.eml` into this folder.
    pub outbox: Option<PathBuf>,
    /// Or send it to this SMTP relay (`host:port`).
    pub relay: Option<String>,
}

/// STARTTLS.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// A user allowed to AUTH.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    /// SHA-crypt (`$6$…` or `$5$…`).
    pub password_hash: String,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub gateway_id: String,
    pub listen: SocketAddr,
    pub spool: PathBuf,
    pub delivery: DeliveryMode,
    pub domains: Vec<String>,
    pub accounting_log: PathBuf,
    /// Our T.30 identity (TSI), at most 20 characters.
    pub ident: String,
    pub paper: PaperSize,
    /// Fine (204 × 196) or standard (204 × 98) pages from text.
    pub fine: bool,
    pub lines: Vec<LineConfig>,
    pub dialplan: Dialplan,
    pub limits: Limits,
    pub queue: QueueConfig,
    pub dsn: DsnConfig,
    pub tls: Option<TlsConfig>,
    pub require_auth: bool,
    pub users: Vec<User>,
    /// `[onramp]` and `[[route]]`: where received faxes are mailed.
    pub onramp: Option<crate::onramp::config::OnrampConfig>,
    /// `[metrics]` and `[radius]` (docs/operations.md).
    pub metrics: Option<crate::metrics::MetricsConfig>,
    pub radius: Option<crate::radius::RadiusConfig>,
}

impl Config {
    /// Read and check a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, &path.display().to_string(), base)
    }

    /// Check configuration text; `file` names it in errors, relative paths are taken from
    /// `base`.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Config, ConfigError> {
        let at = |span: Range<usize>, key: &str, message: String| ConfigError::Invalid {
            file: file.to_string(),
            line: line_of(text, span.start),
            key: key.to_string(),
            message,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            ConfigError::Invalid {
                file: file.to_string(),
                line: line_of(text, span.start),
                key: key_at(text, span.start),
                message: e.message().trim().to_string(),
            }
        })?;
        let path = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { base.join(p) }
        };

        let gateway_id = raw.gateway_id.as_ref().to_string();
        if gateway_id.is_empty()
            || gateway_id.len() > 255
            || !gateway_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(at(
                raw.gateway_id.span(),
                "gateway_id",
                "must be a host name (letters, digits, '.', '-')".into(),
            ));
        }
        let listen = raw.listen.as_ref().parse::<SocketAddr>().map_err(|e| {
            at(
                raw.listen.span(),
                "listen",
                format!("'{}' is not ADDRESS:PORT ({e})", raw.listen.as_ref()),
            )
        })?;
        let delivery = match raw.delivery.as_ref().map(|d| d.as_ref().as_str()) {
            None | Some("immediate") => DeliveryMode::Immediate,
            Some("queue") => DeliveryMode::Queue,
            Some(other) => {
                return Err(at(
                    raw.delivery.as_ref().map_or(0..0, |d| d.span()),
                    "delivery",
                    format!("'{other}': expected \"immediate\" or \"queue\""),
                ));
            }
        };
        let mut domains = Vec::new();
        for d in raw.domains.as_ref() {
            let v = d.as_ref();
            if v.is_empty() || v.contains('@') || v.contains(char::is_whitespace) {
                return Err(at(d.span(), "domains", format!("'{v}' is not a domain")));
            }
            domains.push(v.to_ascii_lowercase());
        }
        if domains.is_empty() {
            return Err(at(
                raw.domains.span(),
                "domains",
                "at least one domain is needed (fax-mail is accepted for these only)".into(),
            ));
        }
        let ident = raw.ident.unwrap_or_else(|| "softfax".into());
        if ident.chars().count() > 20 || !ident.is_ascii() {
            return Err(at(
                0..0,
                "ident",
                "a T.30 identity is at most 20 ASCII characters".into(),
            ));
        }
        let paper = match raw.paper.as_ref().map(|p| p.as_ref().to_ascii_lowercase()) {
            None => PaperSize::A4,
            Some(p) if p == "a4" => PaperSize::A4,
            Some(p) if p == "letter" => PaperSize::Letter,
            Some(p) => {
                return Err(at(
                    raw.paper.as_ref().map_or(0..0, |x| x.span()),
                    "paper",
                    format!("'{p}': expected \"a4\" or \"letter\""),
                ));
            }
        };
        let fine = match raw.resolution.as_ref().map(|p| p.as_ref().as_str()) {
            None | Some("fine") => true,
            Some("standard") => false,
            Some(p) => {
                return Err(at(
                    raw.resolution.as_ref().map_or(0..0, |x| x.span()),
                    "resolution",
                    format!("'{p}': expected \"fine\" or \"standard\""),
                ));
            }
        };

        let mut lines = Vec::new();
        for (i, l) in raw.line.iter().enumerate() {
            let key = |k: &str| format!("line[{}].{k}", i + 1);
            let uri = l.uri.as_ref().clone();
            let scheme = uri.split_once(':').map(|(s, _)| s).unwrap_or("");
            if !["sim", "exec", "dahdi", "sound", "wav"].contains(&scheme) {
                return Err(at(
                    l.uri.span(),
                    &key("uri"),
                    format!("'{uri}': expected sim:…, exec:COMMAND, dahdi:N, sound:…, wav:FILE"),
                ));
            }
            if scheme == "sim"
                && let Err(e) = softfax_drivers::sim::SimLine::new(
                    &uri[4..],
                    softfax_drivers::sim::FarEnd::Receiver,
                )
            {
                return Err(at(l.uri.span(), &key("uri"), e.to_string()));
            }
            if let Some(r) = &l.max_rate
                && ![2400, 4800, 7200, 9600, 12000, 14400].contains(r.as_ref())
            {
                return Err(at(
                    r.span(),
                    &key("max_rate"),
                    format!(
                        "{}: expected 2400, 4800, 7200, 9600, 12000 or 14400",
                        r.as_ref()
                    ),
                ));
            }
            lines.push(LineConfig {
                uri,
                port: l
                    .port
                    .clone()
                    .unwrap_or_else(|| format!("slot:1 port:{}", i + 1)),
                max_rate: l.max_rate.as_ref().map(|r| *r.as_ref()),
                capture: l.capture.as_deref().map(path),
                ecm: l.ecm.unwrap_or(true),
                prefer_v17: l.prefer_v17.unwrap_or(false),
                impair: (l.impair.as_ref())
                    .map(|s| {
                        (s.as_ref().parse())
                            .map_err(|e| at(s.span(), &key("impair"), format!("{e}")))
                    })
                    .transpose()?,
                answer: l.answer.unwrap_or(false),
                dial: l.dial.unwrap_or(true),
            });
            if !l.answer.unwrap_or(false) && !l.dial.unwrap_or(true) {
                return Err(at(
                    l.uri.span(),
                    &key("dial"),
                    "a line that neither answers nor dials is never used".into(),
                ));
            }
        }
        if lines.is_empty() {
            return Err(at(
                0..0,
                "line",
                "no [[line]]: the pool needs at least one line".into(),
            ));
        }

        let mut dialplan = Dialplan::default();
        for (i, r) in raw.dialplan.iter().enumerate() {
            let pattern = Regex::new(r.pattern.as_ref()).map_err(|e| {
                at(
                    r.pattern.span(),
                    &format!("dialplan[{}].match", i + 1),
                    format!("not a regular expression: {}", one_line(&e.to_string())),
                )
            })?;
            dialplan.rules.push(Rule {
                pattern,
                dial: r.dial.clone(),
                cover_page: r.cover_page,
            });
        }
        if let Some(p) = &raw.policy {
            for (i, d) in p.deny.iter().enumerate() {
                dialplan.deny.push(Regex::new(d.as_ref()).map_err(|e| {
                    at(
                        d.span(),
                        &format!("policy.deny[{}]", i + 1),
                        format!("not a regular expression: {}", one_line(&e.to_string())),
                    )
                })?);
            }
        }

        let mut limits = Limits::default();
        if let Some(l) = raw.limits {
            let d = Limits::default();
            limits = Limits {
                max_message_size: l.max_message_size.unwrap_or(d.max_message_size),
                max_recipients: l.max_recipients.unwrap_or(d.max_recipients),
                max_connections: l.max_connections.unwrap_or(d.max_connections),
                max_connections_per_ip: l
                    .max_connections_per_ip
                    .unwrap_or(d.max_connections_per_ip),
                command_timeout_s: l.command_timeout_s.unwrap_or(d.command_timeout_s),
                data_timeout_s: l.data_timeout_s.unwrap_or(d.data_timeout_s),
                line_wait_s: l.line_wait_s.unwrap_or(d.line_wait_s),
                max_calls_per_destination: l
                    .max_calls_per_destination
                    .unwrap_or(d.max_calls_per_destination),
                max_pages: raw.max_pages.unwrap_or(d.max_pages),
            };
            for (k, v) in [
                ("limits.max_message_size", limits.max_message_size),
                ("limits.max_recipients", limits.max_recipients as u64),
                ("limits.max_connections", limits.max_connections as u64),
                (
                    "limits.max_connections_per_ip",
                    limits.max_connections_per_ip as u64,
                ),
                ("limits.command_timeout_s", limits.command_timeout_s),
                ("limits.data_timeout_s", limits.data_timeout_s),
                (
                    "limits.max_calls_per_destination",
                    limits.max_calls_per_destination as u64,
                ),
            ] {
                if v == 0 {
                    return Err(at(key_span(text, k), k, "must be greater than 0".into()));
                }
            }
        }
        // `max_pages` is a top-level key; it counts whether or not a [limits] table is there.
        if let Some(n) = raw.max_pages {
            limits.max_pages = n;
        }
        let mut queue = QueueConfig::default();
        if let Some(q) = raw.queue {
            if let Some(r) = q.retry_s {
                if r.is_empty() {
                    return Err(at(
                        key_span(text, "retry_s"),
                        "queue.retry_s",
                        "needs at least one delay".into(),
                    ));
                }
                queue.retry_s = r;
            }
            if let Some(m) = q.max_attempts {
                queue.max_attempts = m.max(1);
            }
            if let Some(j) = q.retry_jitter {
                if !(0.0..=1.0).contains(&j) {
                    return Err(at(
                        key_span(text, "retry_jitter"),
                        "queue.retry_jitter",
                        format!("{j} is not between 0 and 1"),
                    ));
                }
                queue.retry_jitter = j;
            }
        }
        let dsn = match raw.dsn {
            Some(d) => {
                if let Some(r) = &d.relay
                    && r.as_ref()
                        .rsplit_once(':')
                        .is_none_or(|(_, p)| p.parse::<u16>().is_err())
                {
                    return Err(at(
                        r.span(),
                        "dsn.relay",
                        format!("'{}' is not HOST:PORT", r.as_ref()),
                    ));
                }
                DsnConfig {
                    outbox: d.outbox.as_deref().map(path),
                    relay: d.relay.map(|r| r.into_inner()),
                }
            }
            None => DsnConfig::default(),
        };
        let (tls, require_auth) = match raw.tls {
            Some(t) => (
                Some(TlsConfig {
                    certificate: path(&t.certificate),
                    key: path(&t.key),
                }),
                t.require_auth,
            ),
            None => (None, false),
        };
        let mut users = Vec::new();
        for (i, u) in raw.user.iter().enumerate() {
            let h = u.password.as_ref();
            if !(h.starts_with("$6$") || h.starts_with("$5$")) {
                return Err(at(
                    u.password.span(),
                    &format!("user[{}].password", i + 1),
                    "must be a SHA-crypt hash ($6$… or $5$…, e.g. from `openssl passwd -6`), never the password itself".into(),
                ));
            }
            users.push(User {
                name: u.name.clone(),
                password_hash: h.clone(),
            });
        }
        if require_auth && users.is_empty() {
            return Err(at(
                key_span(text, "require_auth"),
                "tls.require_auth",
                "AUTH is required but no [[user]] is configured".into(),
            ));
        }
        let answering = lines.iter().any(|l| l.answer);
        let onramp = crate::onramp::config::parse(raw.onramp, raw.route, answering, base, &at)?;
        let spool = path(raw.spool.as_ref());
        let accounting_log = raw
            .accounting_log
            .as_deref()
            .map(path)
            .unwrap_or_else(|| spool.join("accounting.jsonl"));
        Ok(Config {
            gateway_id,
            listen,
            spool,
            delivery,
            domains,
            accounting_log,
            ident,
            paper,
            fine,
            lines,
            dialplan,
            limits,
            queue,
            dsn,
            tls,
            require_auth,
            users,
            onramp,
            metrics: raw.metrics,
            radius: raw.radius,
        })
    }

    /// Is `domain` one of ours?
    pub fn serves(&self, domain: &str) -> bool {
        let d = domain.to_ascii_lowercase();
        self.domains.contains(&d)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    gateway_id: Spanned<String>,
    listen: Spanned<String>,
    spool: Spanned<String>,
    delivery: Option<Spanned<String>>,
    domains: Spanned<Vec<Spanned<String>>>,
    accounting_log: Option<String>,
    ident: Option<String>,
    paper: Option<Spanned<String>>,
    resolution: Option<Spanned<String>>,
    max_pages: Option<usize>,
    #[serde(default)]
    line: Vec<RawLine>,
    #[serde(default)]
    dialplan: Vec<RawRule>,
    policy: Option<RawPolicy>,
    limits: Option<RawLimits>,
    queue: Option<RawQueue>,
    dsn: Option<RawDsn>,
    tls: Option<RawTls>,
    #[serde(default)]
    user: Vec<RawUser>,
    onramp: Option<crate::onramp::config::RawOnramp>,
    #[serde(default)]
    route: Vec<crate::onramp::config::RawRoute>,
    metrics: Option<crate::metrics::MetricsConfig>,
    radius: Option<crate::radius::RadiusConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    uri: Spanned<String>,
    port: Option<String>,
    max_rate: Option<Spanned<u32>>,
    capture: Option<String>,
    ecm: Option<bool>,
    prefer_v17: Option<bool>,
    impair: Option<Spanned<String>>,
    answer: Option<bool>,
    dial: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    dial: String,
    #[serde(default)]
    cover_page: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    deny: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_message_size: Option<u64>,
    max_recipients: Option<usize>,
    max_connections: Option<usize>,
    max_connections_per_ip: Option<usize>,
    command_timeout_s: Option<u64>,
    data_timeout_s: Option<u64>,
    line_wait_s: Option<u64>,
    max_calls_per_destination: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    retry_s: Option<Vec<u64>>,
    max_attempts: Option<u32>,
    retry_jitter: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDsn {
    outbox: Option<String>,
    relay: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    certificate: String,
    key: String,
    #[serde(default)]
    require_auth: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: String,
    password: Spanned<String>,
}

/// 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key written on the line of `offset` (`name = …`), or the table header.
fn key_at(text: &str, offset: usize) -> String {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("").trim();
    if let Some((k, _)) = line.split_once('=') {
        return k.trim().trim_matches('"').to_string();
    }
    if line.starts_with('[') {
        return line.trim_matches(|c| c == '[' || c == ']').to_string();
    }
    // An error at the end of the text (a missing key) has no line of its own.
    "(top level)".to_string()
}

/// The span of the first line that assigns the last component of `key`.
fn key_span(text: &str, key: &str) -> Range<usize> {
    let name = key.rsplit('.').next().unwrap_or(key);
    let mut off = 0;
    for l in text.split_inclusive('\n') {
        if l.trim_start()
            .strip_prefix(name)
            .is_some_and(|r| r.trim_start().starts_with('='))
        {
            return off..off;
        }
        off += l.len();
    }
    0..0
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
gateway_id = "gw.example.com"
listen = "127.0.0.1:2525"
spool = "/tmp/sfx"
delivery = "immediate"
domains = ["example.com"]

[[line]]
uri = "sim:"
port = "slot:1 port:2"

[[dialplan]]
match = "^\\+1408(555\\d{4})$"
dial = "$1"
cover_page = true

[policy]
deny = ["^\\+1900", "^\\+8[78]"]
"#;

    fn err(text: &str) -> String {
        Config::parse(text, "softfax.toml", Path::new("/"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn design_example_parses() {
        let c = Config::parse(GOOD, "softfax.toml", Path::new("/")).unwrap();
        assert_eq!(c.gateway_id, "gw.example.com");
        assert_eq!(c.delivery, DeliveryMode::Immediate);
        assert_eq!(c.lines[0].port, "slot:1 port:2");
        assert_eq!(c.dialplan.route("+14085557442").unwrap().dial, "5557442");
        assert!(c.serves("EXAMPLE.com"));
        assert_eq!(c.accounting_log, PathBuf::from("/tmp/sfx/accounting.jsonl"));
    }

    #[test]
    fn max_pages_counts_with_and_without_a_limits_table() {
        let top = GOOD.replace("domains =", "max_pages = 7\ndomains =");
        let c = Config::parse(&top, "softfax.toml", Path::new("/")).unwrap();
        assert_eq!(c.limits.max_pages, 7);
        let both = format!("{top}\n[limits]\nmax_recipients = 3\n");
        let c = Config::parse(&both, "softfax.toml", Path::new("/")).unwrap();
        assert_eq!((c.limits.max_pages, c.limits.max_recipients), (7, 3));
        let none = Config::parse(GOOD, "softfax.toml", Path::new("/")).unwrap();
        assert_eq!(none.limits.max_pages, 100);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = err(&GOOD.replace("\"immediate\"", "\"later\""));
        assert_eq!(
            e,
            "softfax.toml line 5, key delivery: 'later': expected \"immediate\" or \"queue\""
        );
        let e = err(&GOOD.replace("(555", "((555"));
        assert!(
            e.starts_with("softfax.toml line 13, key dialplan[1].match: not a regular expression"),
            "{e}"
        );
        let e = err(&GOOD.replace("8[78]", "8[78"));
        assert!(
            e.starts_with("softfax.toml line 18, key policy.deny[2]"),
            "{e}"
        );
        let e = err(&GOOD.replace("port = \"slot", "prot = \"slot"));
        assert!(e.starts_with("softfax.toml line 10, key prot:"), "{e}");
        assert!(e.contains("unknown field"), "{e}");
        let e = err(&GOOD.replace("127.0.0.1:2525", "localhost"));
        assert!(e.starts_with("softfax.toml line 3, key listen:"), "{e}");
        let e = err(&GOOD.replace("uri = \"sim:\"", "uri = \"isdn:1\""));
        assert!(
            e.starts_with("softfax.toml line 9, key line[1].uri:"),
            "{e}"
        );
        let e = err(&GOOD.replace("\"/tmp/sfx\"", "5"));
        assert!(e.starts_with("softfax.toml line 4, key spool:"), "{e}");
        let e = err(&GOOD.replace("gateway_id = \"gw.example.com\"\n", ""));
        assert!(e.contains("gateway_id"), "{e}");
    }
}
