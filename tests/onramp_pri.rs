//! DID routing on a PRI: `softfax serve` answers two `dahdi:` B-channel lines of one E1 span
//! on the FUSE fake `/dev/dahdi` (drivers/tests/fake_dahdi), whose D-channel (timeslot 16)
//! is carried to **libpri** as the network side (tests/peers/libpri_span.c). libpri sends
//! two SETUPs at once with different called party numbers; each call's far end is a fax
//! machine sending a page. The on-ramp routes each fax-mail by its Q.931 called number
//! (`[[route]]`, first match, `$1` capture): the mail reaches a plain SMTP listener
//! (tests/peers/smtp_sink.py) addressed to the routed mailbox, Python's `email` package
//! reads it and libtiff decodes its TIFF to the pels the caller sent.

mod common;
#[path = "../drivers/tests/fake_dahdi/mod.rs"]
mod fake_dahdi;
#[path = "common/gateway.rs"]
mod gateway;
#[path = "common/onramp.rs"]
mod onramp;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_same_pels, libtiff_pages};
use fake_dahdi::far::FaxPeer;
use fake_dahdi::{FakeChannel, FakeDahdi, mount_or_skip};
use gateway::Server;
use onramp::{Sink, config_routed, parse_mail, peers};
use softfax::dsp::image::{Page, Resolution};
use softfax_peers::libpri::{self, SpanPeer};

/// Offer a call on `ch` until a line of the server answers it (a SETUP that comes while no
/// line is waiting yet is refused, and offered again).
fn offer(net: &mut SpanPeer, ch: u8, called: &str, server: &Server) {
    let start = Instant::now();
    loop {
        let refused = net
            .output()
            .matches(&format!("HANGUP channel={ch} "))
            .count();
        net.cmd(&format!("call {ch} {called} 2125550000"));
        loop {
            let out = net.output();
            if out.contains(&format!("ANSWER channel={ch}\n")) {
                return;
            }
            if out.matches(&format!("HANGUP channel={ch} ")).count() > refused {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no line answered on channel {ch}:\n{out}\nserver log:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A short fine page the calling fax machines send.
fn page(seed: u32) -> Page {
    let (w, h) = (1728u32, 120u32);
    let mut p = Page::new(w, h, Resolution::FINE);
    for y in 0..h {
        for x in 0..w {
            let frame = !(32..w - 32).contains(&x) || !(8..h - 8).contains(&y);
            let bars = (30..60).contains(&y) && ((x + 40 * seed) / 64).is_multiple_of(2);
            if frame || bars {
                p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    p
}

#[test]
fn pri_calls_are_routed_by_their_called_number() {
    let Some(()) = peers() else { return };
    let Some(bin) = libpri::build("libpri_span", Path::new(env!("CARGO_TARGET_TMPDIR"))) else {
        return;
    };
    let (mut net, sock) = SpanPeer::start(&bin);
    let pages = [page(1), page(2)];
    let mut chans = Vec::new();
    for (ch, p) in [(1, &pages[0]), (2, &pages[1])] {
        chans.push(FakeChannel::e1_b_channel(
            ch,
            Box::new(FaxPeer::caller(vec![p.clone()])),
        ));
    }
    chans.push(FakeChannel::e1_d_channel(sock));
    let Some(m) = mount_or_skip(FakeDahdi::new(chans)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let lines: String = (1..=2)
        .map(|ch| {
            format!(
                "[[line]]\nuri = \"dahdi:{ch}?root={}\"\nport = \"span:1 b:{ch}\"\nanswer = true\ndial = false\n\n",
                m.root.display()
            )
        })
        .collect();
    let config = config_routed(
        &lines,
        sink.port,
        r#"
[[route]]
match = "^5550001$"
to = "alice@example.com"

[[route]]
match = "^555(\\d+)$"
to = "did-$1@example.com"
"#,
    );
    let server = Server::start(dir.path(), &config);
    // Both calls at once.
    offer(&mut net, 1, "5550001", &server);
    offer(&mut net, 2, "5550002", &server);
    let start = Instant::now();
    while server.accounting().len() < 2 || sink.messages().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "two fax-mails; network:\n{}\nserver log:\n{}",
            net.output(),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut got = Vec::new();
    for eml in sink.messages() {
        let env: serde_json::Value =
            serde_json::from_slice(&std::fs::read(eml.with_extension("env")).unwrap()).unwrap();
        let to = env["to"][0].as_str().unwrap().to_string();
        let out = dir.path().join(format!("parts-{to}"));
        let mail = parse_mail(&eml, &out);
        assert_eq!(mail["defects"], 0);
        assert_eq!(mail["to"], to);
        let summary = mail["summary"].as_str().unwrap().to_string();
        let tif = mail["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "image/tiff")
            .expect("an image/tiff part")["filename"]
            .as_str()
            .unwrap()
            .to_string();
        let decoded = libtiff_pages(&out.join(tif));
        got.push((to, summary, decoded));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want = [
        ("alice@example.com", "5550001", &pages[0]),
        ("did-0002@example.com", "5550002", &pages[1]),
    ];
    for ((to, summary, decoded), (want_to, called, want_page)) in got.iter().zip(want) {
        assert_eq!(to, want_to, "routed by the called number");
        assert!(
            summary.contains("Called:") && summary.contains(called),
            "the called number in the summary:\n{summary}"
        );
        assert_eq!(decoded.len(), 1, "{to}");
        assert_same_pels(to, &decoded[0], want_page);
    }
    let records = server.accounting();
    let mut recipients: Vec<&str> = records
        .iter()
        .map(|r| r["recipient"].as_str().unwrap())
        .collect();
    recipients.sort();
    assert_eq!(recipients, ["alice@example.com", "did-0002@example.com"]);
    assert!(records.iter().all(|r| r["call_type"] == "Fax Receive"));
    let out = net.output();
    assert_eq!(out.matches("ANSWER channel=").count(), 2, "{out}");
    for ch in 1..=2 {
        assert!(
            out.contains(&format!("HANGUP_REQ channel={ch} cause=16")),
            "the server cleared the call on {ch} with 16:
{out}"
        );
    }
    drop(server);
    drop(m);
}
