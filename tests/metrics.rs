//! `/metrics` read by an independent parser: Python's `prometheus_client`
//! (`text_string_to_metric_families`) parses what a running gateway serves after a few
//! fax-mails — calls, pages, histograms, SMTP replies, ports, the queue — and gets back the
//! exact label values, escapes included.

#[path = "common/gateway.rs"]
mod gateway;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gateway::*;

/// `GET path` → (status line, body).
fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    (head.lines().next().unwrap().to_string(), body.to_string())
}

/// Parse with prometheus_client: one JSON line per sample (family, type, name, labels, value).
const PARSER: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "doc": fam.documentation,
                    "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;

fn parse(text: &str) -> Vec<serde_json::Value> {
    let mut child = Command::new("python3")
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}

fn value(samples: &[serde_json::Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(*v))
        })
        .and_then(|s| s["value"].as_f64())
}

#[test]
fn prometheus_client_parses_what_a_running_gateway_serves() {
    let ok = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        softfax_peers::unavailable(
            "prometheus_client",
            "python3 -m pip install prometheus_client",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A port string that needs escaping in a label value.
    let port = r#"slot:1 "port" \2"#;
    let lines = format!(
        "[[line]]\nuri = \"sim:\"\nport = '{port}'\n\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
    );
    let server = Server::start(dir.path(), &config("queue", "", &lines));
    let maddr = server
        .metrics_addr()
        .expect("the metrics address in the log");
    let mut c = Client::connect(server.addr);
    c.reply();
    c.cmd("EHLO metrics.test");
    for n in 0..3 {
        c.cmd("MAIL FROM:<alice@example.org>");
        assert!(
            c.cmd(&format!("RCPT TO:<FAX=+1408555-744{n}@example.com>"))
                .starts_with("250")
        );
        c.cmd("DATA");
        c.send(&fax_mail(
            "FAX=+14085557440@example.com",
            "metrics",
            &chart_tiff(),
        ));
        let r = c.cmd(".");
        assert!(r.starts_with("250 2.0.0 Queued"), "{r}");
    }
    // A recipient the policy refuses.
    c.cmd("MAIL FROM:<alice@example.org>");
    assert!(
        c.cmd("RCPT TO:<FAX=+1900555-1212@example.com>")
            .starts_with("550")
    );
    c.cmd("QUIT");
    let start = Instant::now();
    while server
        .accounting()
        .iter()
        .filter(|r| r["status"] == "ok")
        .count()
        < 3
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));

    let (status, text) = http_get(maddr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let s = parse(&text);
    let v = |name: &str, labels: &[(&str, &str)]| value(&s, name, labels);
    assert_eq!(
        v(
            "softfax_calls_total",
            &[
                ("direction", "send"),
                ("status", "ok"),
                ("hangup_code", "0")
            ]
        ),
        Some(3.0)
    );
    let acct = server.accounting();
    let pages: u64 = acct.iter().map(|r| r["fax_pages"].as_u64().unwrap()).sum();
    let bytes: u64 = acct
        .iter()
        .map(|r| r["transmit_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(
        v("softfax_pages_total", &[("direction", "send")]),
        Some(pages as f64)
    );
    assert_eq!(
        v("softfax_transmit_bytes_total", &[("direction", "send")]),
        Some(bytes as f64)
    );
    assert_eq!(
        v("softfax_call_seconds_count", &[("direction", "send")]),
        Some(3.0)
    );
    assert_eq!(
        v(
            "softfax_call_seconds_bucket",
            &[("direction", "send"), ("le", "+Inf")]
        ),
        Some(3.0)
    );
    assert_eq!(
        v("softfax_modem_seconds_count", &[("direction", "send")]),
        Some(3.0)
    );
    assert_eq!(
        v("softfax_connect_speed_total", &[("bps", "14400")]),
        Some(3.0)
    );
    assert_eq!(
        v("softfax_refusals_total", &[("status", "denied")]),
        Some(1.0)
    );
    assert_eq!(
        v("softfax_smtp_replies_total", &[("code", "354")]),
        Some(3.0)
    );
    assert_eq!(
        v("softfax_smtp_replies_total", &[("code", "550")]),
        Some(1.0)
    );
    assert_eq!(
        v("softfax_smtp_replies_total", &[("code", "220")]),
        Some(1.0)
    );
    assert_eq!(
        v("softfax_smtp_sessions_total", &[("result", "accepted")]),
        Some(1.0)
    );
    assert_eq!(v("softfax_ports", &[("state", "idle")]), Some(1.0));
    assert_eq!(v("softfax_ports", &[("state", "busy")]), Some(0.0));
    // The escaped label comes back as written.
    assert_eq!(v("softfax_port_busy", &[("port", port)]), Some(0.0));
    assert_eq!(v("softfax_queue_jobs", &[]), Some(0.0));
    assert_eq!(v("softfax_queue_oldest_job_age_seconds", &[]), Some(0.0));
    // Every family is named softfax_ and typed; counters as the parser reads them.
    for x in &s {
        assert!(x["name"].as_str().unwrap().starts_with("softfax_"), "{x}");
        assert!(!x["doc"].as_str().unwrap().is_empty(), "{x}");
    }
    let typed = |fam: &str| {
        s.iter()
            .find(|x| x["family"] == fam)
            .map(|x| x["type"].clone())
    };
    assert_eq!(typed("softfax_calls"), Some("counter".into()));
    assert_eq!(typed("softfax_call_seconds"), Some("histogram".into()));
    assert_eq!(typed("softfax_ports"), Some("gauge".into()));

    assert_eq!(http_get(maddr, "/other").0, "HTTP/1.1 404 Not Found");
}
