//! The gateway's metrics, served in the Prometheus text exposition format (version 0.0.4)
//! at `[metrics] listen` `/metrics` ([`server`]; docs/operations.md lists every family).
//!
//! One process-wide registry ([`global`]), as a Prometheus client keeps one: the places that
//! see an event count it there (delivery's accounting, the SMTP server, a call's span
//! report, the RADIUS client) without carrying a handle. State that belongs to a running
//! gateway (lines by state, the queue) is not stored here: the server asks a collector for
//! it at each scrape ([`Collect`]).
//!
//! Names are `softfax_` + the field's words; counters end in `_total`. Each family gets
//! its `# HELP` and `# TYPE` line; label values are escaped (`\\`, `\"`, `\n`) and help text
//! (`\\`, `\n`) as the format asks.

pub mod server;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};

use crate::accounting::Record;

/// Upper bounds of the call-time histogram (seconds).
pub const CALL_BUCKETS: [f64; 11] = [
    10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1800.0,
];
/// Upper bounds of the modem-time histogram (seconds).
pub const MODEM_BUCKETS: [f64; 10] = [
    5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0, 1800.0,
];

/// `[metrics]` in softfax.toml.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where `/metrics` is served (`127.0.0.1:9109`).
    pub listen: std::net::SocketAddr,
}

/// Label values, in the family's label order.
type Labels = Vec<String>;

#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct State {
    calls: BTreeMap<Labels, u64>,
    pages: BTreeMap<Labels, u64>,
    bytes: BTreeMap<Labels, u64>,
    speeds: BTreeMap<Labels, u64>,
    refusals: BTreeMap<Labels, u64>,
    call_s: BTreeMap<Labels, Histogram>,
    modem_s: BTreeMap<Labels, Histogram>,
    smtp_sessions: BTreeMap<Labels, u64>,
    smtp_open: i64,
    smtp_replies: BTreeMap<Labels, u64>,
    span_alarms: BTreeMap<Labels, u64>,
    span_errors: BTreeMap<Labels, i64>,
    radius: BTreeMap<Labels, u64>,
    radius_dropped: u64,
    radius_rtt: Histogram,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

/// The process's registry.
pub fn global() -> &'static Metrics {
    static M: LazyLock<Metrics> = LazyLock::new(Metrics::default);
    &M
}

/// What a running gateway adds at each scrape (lines by state, the queue).
pub trait Collect: Send + Sync + 'static {
    fn collect(&self, out: &mut Exposition);
}

/// `rec`'s direction label: `send` (off-ramp) or `receive` (on-ramp).
pub fn direction(rec: &Record) -> &'static str {
    if rec.call_type == "Fax Receive" {
        "receive"
    } else {
        "send"
    }
}

/// The two numbers of `fax_modem_time = x/y`.
pub fn modem_time(rec: &Record) -> (u64, u64) {
    let mut it = rec
        .fax_modem_time
        .split('/')
        .map(|v| v.trim().parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

fn observe(h: &mut Histogram, bounds: &[f64], v: f64) {
    if h.buckets.is_empty() {
        h.buckets = vec![0; bounds.len()];
    }
    for (b, le) in h.buckets.iter_mut().zip(bounds) {
        if v <= *le {
            *b += 1;
        }
    }
    h.sum += v;
    h.count += 1;
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// An accounting record: a call (it has a port) or a job refused before one.
    pub fn record(&self, r: &Record) {
        let dir = direction(r).to_string();
        self.with(|s| {
            if r.port_used.is_empty() {
                *s.refusals.entry(vec![r.status.clone()]).or_default() += 1;
                return;
            }
            let key = vec![
                dir.clone(),
                r.status.clone(),
                r.t30_error_code.to_string(),
                r.isdn_disconnect_code.to_string(),
            ];
            *s.calls.entry(key).or_default() += 1;
            *s.pages.entry(vec![dir.clone()]).or_default() += u64::from(r.fax_pages);
            *s.bytes.entry(vec![dir.clone()]).or_default() += r.transmit_bytes;
            let (x, y) = modem_time(r);
            observe(
                s.call_s.entry(vec![dir.clone()]).or_default(),
                &CALL_BUCKETS,
                y as f64,
            );
            if x > 0 {
                observe(
                    s.modem_s.entry(vec![dir.clone()]).or_default(),
                    &MODEM_BUCKETS,
                    x as f64,
                );
                let bps = r.fax_connect_speed.trim_end_matches("bps").to_string();
                *s.speeds.entry(vec![dir, bps]).or_default() += 1;
            }
        });
    }

    /// An SMTP connection was accepted (`true`) or refused with 421 (`false`).
    pub fn smtp_session(&self, accepted: bool) {
        let result = if accepted { "accepted" } else { "refused" };
        self.with(|s| {
            *s.smtp_sessions.entry(vec![result.into()]).or_default() += 1;
            if accepted {
                s.smtp_open += 1;
            }
        });
    }

    /// An accepted SMTP connection ended.
    pub fn smtp_session_closed(&self) {
        self.with(|s| s.smtp_open -= 1);
    }

    /// Replies the server sent (one or more complete replies, CRLF-terminated lines): each
    /// final line (`NNN ` rather than `NNN-`) counts once under its code.
    pub fn smtp_replies(&self, bytes: &[u8]) {
        let mut codes = Vec::new();
        for line in bytes.split(|&b| b == b'\n') {
            if line.len() >= 4
                && line[..3].iter().all(u8::is_ascii_digit)
                && line[3] == b' '
                && let Ok(c) = std::str::from_utf8(&line[..3])
            {
                codes.push(c.to_string());
            }
        }
        if codes.is_empty() {
            return;
        }
        self.with(|s| {
            for c in codes {
                *s.smtp_replies.entry(vec![c]).or_default() += 1;
            }
        });
    }

    /// A span's status as a line read it after a call: alarms in force and error counters.
    pub fn span(&self, st: &softfax_drivers::SpanStatus) {
        let span = st.number.to_string();
        self.with(|s| {
            s.span_alarms.retain(|k, _| k[0] != span);
            for a in &st.alarms {
                s.span_alarms
                    .insert(vec![span.clone(), (*a).to_string()], 1);
            }
            for (n, v) in &st.counters {
                s.span_errors
                    .insert(vec![span.clone(), (*n).to_string()], *v);
            }
        });
    }

    /// A RADIUS request's end: `result` is `answered`, `retransmitted`, `failed` or
    /// `bad_response`; `rtt_s` the round trip of an answered one.
    pub fn radius(&self, server: &str, result: &str, rtt_s: Option<f64>) {
        self.with(|s| {
            *s.radius
                .entry(vec![server.into(), result.into()])
                .or_default() += 1;
            if let Some(t) = rtt_s {
                observe(
                    &mut s.radius_rtt,
                    &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0],
                    t,
                );
            }
        });
    }

    /// A RADIUS record dropped because the client's queue was full.
    pub fn radius_dropped(&self) {
        self.with(|s| s.radius_dropped += 1);
    }

    /// The text exposition of everything here, then what `extra` adds.
    pub fn render(&self, extra: Option<&dyn Collect>) -> String {
        let mut out = Exposition::default();
        out.gauge(
            "softfax_up",
            "1 while the gateway runs.",
            &[],
            &[(vec![], 1.0)],
        );
        out.gauge(
            "softfax_build_info",
            "The softfax version, as a label; the value is 1.",
            &["version"],
            &[(vec![env!("CARGO_PKG_VERSION").into()], 1.0)],
        );
        self.with(|s| {
            let dir = ["direction"];
            out.counter(
                "softfax_calls_total",
                "Fax calls by direction and outcome: status, Class 2 hangup code (T30_error_code) and Q.850 cause (ISDN_disconnect_code).",
                &["direction", "status", "hangup_code", "q850_cause"],
                &s.calls,
            );
            out.counter(
                "softfax_pages_total",
                "Pages confirmed by the far end (fax_pages).",
                &dir,
                &s.pages,
            );
            out.counter(
                "softfax_transmit_bytes_total",
                "Bytes of T.4/T.6 page data handed to the modem (transmit_bytes).",
                &dir,
                &s.bytes,
            );
            out.counter(
                "softfax_connect_speed_total",
                "Calls that reached the fax, by the last image-data rate (fax_connect_speed, bit/s).",
                &["direction", "bps"],
                &s.speeds,
            );
            out.counter(
                "softfax_refusals_total",
                "Jobs that ended before a call was placed (policy, client left during DATA, no free line), by status.",
                &["status"],
                &s.refusals,
            );
            out.histogram(
                "softfax_call_seconds",
                "Seconds of the whole fax job (the y of fax_modem_time).",
                &dir,
                &CALL_BUCKETS,
                &s.call_s,
            );
            out.histogram(
                "softfax_modem_seconds",
                "Seconds from the first fax signal to the hang-up (the x of fax_modem_time), calls that reached a fax.",
                &dir,
                &MODEM_BUCKETS,
                &s.modem_s,
            );
            out.counter(
                "softfax_smtp_sessions_total",
                "SMTP connections, accepted or refused (421: connection limits, draining).",
                &["result"],
                &s.smtp_sessions,
            );
            out.gauge(
                "softfax_smtp_sessions_open",
                "SMTP connections open now.",
                &[],
                &[(vec![], s.smtp_open as f64)],
            );
            out.counter(
                "softfax_smtp_replies_total",
                "SMTP replies sent, by reply code.",
                &["code"],
                &s.smtp_replies,
            );
            let alarms: Vec<(Labels, f64)> = s
                .span_alarms
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64))
                .collect();
            out.gauge(
                "softfax_span_alarm",
                "1 for each alarm in force on a span (RED, YELLOW, BLUE, …) when a call on it last read the span.",
                &["span", "alarm"],
                &alarms,
            );
            let errors: Vec<(Labels, f64)> = s
                .span_errors
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64))
                .collect();
            out.gauge(
                "softfax_span_errors",
                "A span's error counters as DAHDI keeps them (bpv, crc4, ebit, fas, fe, cv, be, errsec; slips show as fas and errsec), when a call last read them.",
                &["span", "counter"],
                &errors,
            );
            out.counter(
                "softfax_radius_requests_total",
                "RADIUS Accounting-Requests by server and result (answered, retransmitted, failed, bad_response).",
                &["server", "result"],
                &s.radius,
            );
            let mut dropped = BTreeMap::new();
            dropped.insert(vec![], s.radius_dropped);
            out.counter(
                "softfax_radius_dropped_total",
                "Accounting records not sent to RADIUS because the client's queue was full.",
                &[],
                &dropped,
            );
            let mut rtt = BTreeMap::new();
            if s.radius_rtt.count > 0 {
                rtt.insert(vec![], s.radius_rtt.clone());
            }
            out.histogram(
                "softfax_radius_response_seconds",
                "Round trip of answered RADIUS Accounting-Requests.",
                &[],
                &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0],
                &rtt,
            );
        });
        if let Some(c) = extra {
            c.collect(&mut out);
        }
        out.text
    }
}

/// A text exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

/// A label value escaped for the text format.
pub fn escape_label(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Exposition {
    fn head(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(
        &mut self,
        name: &str,
        names: &[&str],
        values: &[String],
        extra: Option<(&str, &str)>,
        v: f64,
    ) {
        self.text.push_str(name);
        let mut pairs: Vec<String> = names
            .iter()
            .zip(values)
            .map(|(n, v)| format!("{n}=\"{}\"", escape_label(v)))
            .collect();
        if let Some((n, v)) = extra {
            pairs.push(format!("{n}=\"{v}\""));
        }
        if !pairs.is_empty() {
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {}", number(v));
    }

    /// A gauge family.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[&str], samples: &[(Labels, f64)]) {
        self.head(name, help, "gauge");
        for (l, v) in samples {
            self.sample(name, labels, l, None, *v);
        }
    }

    /// A counter family (`name` ends in `_total`).
    pub fn counter(
        &mut self,
        name: &str,
        help: &str,
        labels: &[&str],
        samples: &BTreeMap<Labels, u64>,
    ) {
        self.head(name, help, "counter");
        for (l, v) in samples {
            self.sample(name, labels, l, None, *v as f64);
        }
    }

    fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels: &[&str],
        bounds: &[f64],
        samples: &BTreeMap<Labels, Histogram>,
    ) {
        self.head(name, help, "histogram");
        let bucket = format!("{name}_bucket");
        for (l, h) in samples {
            for (i, le) in bounds.iter().enumerate() {
                let n = h.buckets.get(i).copied().unwrap_or(0);
                self.sample(&bucket, labels, l, Some(("le", &number(*le))), n as f64);
            }
            self.sample(&bucket, labels, l, Some(("le", "+Inf")), h.count as f64);
            self.sample(&format!("{name}_sum"), labels, l, None, h.sum);
            self.sample(&format!("{name}_count"), labels, l, None, h.count as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut e = Exposition::default();
        e.gauge(
            "x",
            "line\nbreak \\",
            &["port"],
            &[(vec!["slot:1 \"p\"".into()], 1.0)],
        );
        assert_eq!(
            e.text,
            "# HELP x line\\nbreak \\\\\n# TYPE x gauge\nx{port=\"slot:1 \\\"p\\\"\"} 1\n"
        );
    }

    #[test]
    fn a_call_counts_in_every_family() {
        let m = Metrics::default();
        let r: Record = serde_json::from_value(serde_json::json!({
            "time": "2026-12-04T01:00:00Z", "status": "ok",
            "status_text": "Message delivered to remote fax machine", "reply_code": 250,
            "enhanced_code": "2.5.0", "fax_modem_time": "32/41", "fax_pages": 2,
            "gateway_id": "gw", "fax_connect_speed": "14400bps", "transmit_bytes": 16870,
            "port_used": "slot:1 port:1", "call_type": "Fax Send", "abort_cause": 0,
            "T30_error_code": 0, "ISDN_disconnect_code": 16, "CSID": "555 7442",
            "message_id": "<m@x>", "sender": "a@b", "recipient": "FAX=+1@example.com",
            "dial": "5557442", "hangup_text": "", "ecm": true, "compression": "mmr",
            "resolution": "fine", "attempt": 1, "document_pages": 2, "job": "j1"
        }))
        .unwrap();
        m.record(&r);
        m.smtp_replies(b"250-a\r\n250 b\r\n354 go\r\n");
        let t = m.render(None);
        for line in [
            "softfax_calls_total{direction=\"send\",status=\"ok\",hangup_code=\"0\",q850_cause=\"16\"} 1",
            "softfax_pages_total{direction=\"send\"} 2",
            "softfax_transmit_bytes_total{direction=\"send\"} 16870",
            "softfax_connect_speed_total{direction=\"send\",bps=\"14400\"} 1",
            "softfax_call_seconds_bucket{direction=\"send\",le=\"30\"} 0",
            "softfax_call_seconds_bucket{direction=\"send\",le=\"45\"} 1",
            "softfax_call_seconds_bucket{direction=\"send\",le=\"+Inf\"} 1",
            "softfax_call_seconds_sum{direction=\"send\"} 41",
            "softfax_modem_seconds_count{direction=\"send\"} 1",
            "softfax_smtp_replies_total{code=\"250\"} 1",
            "softfax_smtp_replies_total{code=\"354\"} 1",
        ] {
            assert!(t.lines().any(|l| l == line), "{line} missing from\n{t}");
        }
    }
}
