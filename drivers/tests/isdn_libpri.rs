//! softfax's Q.921/Q.931 user side against **libpri** (Debian libpri-dev, 1.6) in network
//! mode over a socketpair (one frame per datagram, two FCS placeholder bytes after it, as
//! libpri frames a D-channel): call setup, busy (17), normal clearing (16) both
//! ways, unallocated number (1), and a whole fax call whose signalling runs through libpri
//! and whose audio runs on a B-channel of the FUSE fake `/dev/dahdi`. Every scenario also
//! checks that libpri saw the call released (its exit status).
//!
//! The peer is `tests/peers/libpri_net.c`, built here with `cc … -lpri`. Without cc or
//! libpri the tests print `SKIP:` (and fail under `CI=true`).

mod fake_dahdi;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use softfax_drivers::dahdi::{Channel, ChannelSpec, PriLine};
use softfax_drivers::isdn::pri::{Placed, Pri, place_call};
use softfax_drivers::isdn::q931::{CallEvent, Setup, e1_channels};
use softfax_drivers::isdn::span::{CallRequest, SpanHandle};
use softfax_drivers::sim::test_page;
use softfax_drivers::{BLOCK, Line};
use softfax_dsp::fax::Terminal;
use softfax_dsp::g711::Law;
use softfax_dsp::t30::{Config, Hangup};
use softfax_peers::libpri::{self, SpanPeer};

/// Build the peer once per run (rebuilt when the source is newer).
fn peer() -> Option<PathBuf> {
    static PEER: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PEER.get_or_init(|| libpri::build("libpri_net", Path::new(env!("CARGO_TARGET_TMPDIR"))))
        .clone()
}

/// The scripted network side of a whole span (tests/peers/libpri_span.c).
fn span_peer() -> Option<PathBuf> {
    static PEER: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PEER.get_or_init(|| libpri::build("libpri_span", Path::new(env!("CARGO_TARGET_TMPDIR"))))
        .clone()
}

struct Peer {
    child: Child,
}

impl Peer {
    /// The peer's stdout once it has exited. It exits 0 once the call is released; anything
    /// else (its 30 s safety timeout, a crash, killed here after 5 s) fails the test.
    fn finish(mut self) -> String {
        for _ in 0..100 {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let status = self.child.wait().unwrap();
        let mut s = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        eprintln!("libpri peer ({status}):\n{s}");
        assert!(
            status.success(),
            "libpri peer ended with {status}, not after a released call:\n{s}"
        );
        s
    }
}

/// Start libpri (network side) on one end of a socketpair; ours is returned.
fn start(scenario: &str) -> Option<(Peer, Pri<UnixDatagram>)> {
    let (peer, ours) = spawn(scenario)?;
    let mut pri = Pri::new(ours);
    pri.wait_up(Duration::from_secs(5)).expect("D-channel up");
    Some((peer, pri))
}

/// Start libpri on one end of a socketpair; the other end is returned.
fn spawn(scenario: &str) -> Option<(Peer, UnixDatagram)> {
    let bin = peer()?;
    // The peer inherits its end.
    let (ours, theirs) = libpri::socketpair();
    let child = Command::new(bin)
        .arg(theirs.as_raw_fd().to_string())
        .arg(scenario)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(theirs);
    Some((Peer { child }, ours))
}

fn setup() -> Setup<'static> {
    Setup {
        called: "2125551234",
        calling: Some("5551"),
        channel: Some(1),
        exclusive: true,
        alaw: true,
        sending_complete: true,
    }
}

/// A SETUP to 2125551234 from 5551 on `channel`, exclusive, A-law.
fn request(channel: u8) -> CallRequest {
    CallRequest {
        called: "2125551234".into(),
        calling: Some("5551".into()),
        channel: Some(channel),
        exclusive: true,
        alaw: true,
        sending_complete: true,
    }
}

#[test]
fn call_setup_and_normal_clearing_by_us() {
    let Some((peer, mut pri)) = start("answer") else {
        return;
    };
    let (id, placed) = place_call(&mut pri, &setup(), Duration::from_secs(5)).unwrap();
    assert_eq!(placed, Placed::Connected { channel: Some(1) });
    pri.hangup(id, 16);
    let cause = pri.wait_released(id, Duration::from_secs(5)).unwrap();
    assert_eq!(cause.value, 16);
    let out = peer.finish();
    assert!(out.contains("UP"), "{out}");
    assert!(
        out.contains("RING channel=1 called=2125551234 calling=5551 bearer=0x10"),
        "{out}"
    );
    assert!(
        out.contains("HANGUP_REQ cause=16"),
        "libpri saw our DISCONNECT 16: {out}"
    );
}

#[test]
fn busy_is_17() {
    let Some((peer, mut pri)) = start("busy") else {
        return;
    };
    let (_, placed) = place_call(&mut pri, &setup(), Duration::from_secs(5)).unwrap();
    let Placed::Failed(cause) = placed else {
        panic!("{placed:?}")
    };
    assert_eq!(cause.value, 17, "{cause:?}");
    peer.finish();
}

#[test]
fn unallocated_number_is_1() {
    let Some((peer, mut pri)) = start("unallocated") else {
        return;
    };
    let (_, placed) = place_call(&mut pri, &setup(), Duration::from_secs(5)).unwrap();
    let Placed::Failed(cause) = placed else {
        panic!("{placed:?}")
    };
    assert_eq!(cause.value, 1, "{cause:?}");
    peer.finish();
}

#[test]
fn normal_clearing_by_the_network_is_16() {
    let Some((peer, mut pri)) = start("clear") else {
        return;
    };
    let (id, placed) = place_call(&mut pri, &setup(), Duration::from_secs(5)).unwrap();
    assert!(matches!(placed, Placed::Connected { .. }));
    let mut disconnected = None;
    let cause = loop {
        match pri.step(Duration::from_secs(5)).unwrap() {
            Some(CallEvent::Disconnected { call, cause }) if call == id => {
                disconnected = Some(cause)
            }
            Some(CallEvent::Released { call, cause }) if call == id => break cause,
            Some(_) => {}
            None => panic!("no clearing from the network"),
        }
    };
    assert_eq!(disconnected.map(|c| c.value), Some(16));
    assert_eq!(cause.value, 16);
    let out = peer.finish();
    assert!(out.contains("HANGUP"), "{out}");
}

#[test]
fn fax_call_through_libpri_call_control_and_a_fake_b_channel() {
    use fake_dahdi::far::FaxPeer;
    use fake_dahdi::{FakeChannel, FakeDahdi, SIG_CLEAR, mount_or_skip};
    let far = FaxPeer::answerer();
    let far_term = far.terminal.clone();
    let b = FakeChannel::new(1, SIG_CLEAR, Law::Alaw, Box::new(far));
    let Some(m) = mount_or_skip(FakeDahdi::new(vec![b])) else {
        return;
    };
    let Some((peer, sock)) = spawn("answer") else {
        return;
    };
    // The span's thread, restarting all channels first (libpri acknowledges).
    let span = SpanHandle::start(sock, e1_channels(), true, "test");
    span.wait_ready(Duration::from_secs(5)).unwrap();
    let (call, placed) = span.dial(request(1), Duration::from_secs(5)).unwrap();
    let Placed::Connected { channel: Some(ch) } = placed else {
        panic!("{placed:?}")
    };
    let bchan = Channel::open(&m.root, &ChannelSpec::Number(ch as u32)).unwrap();
    let mut line = PriLine::new(call, bchan, true).unwrap();
    let mut term = Terminal::caller(Config::default(), vec![test_page()]);
    let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
    for _ in 0..3 * 60 * 50 {
        if term.outcome().is_some() {
            break;
        }
        term.process(&rx, &mut tx);
        if !line.exchange(&tx, &mut rx).unwrap() {
            term.line_down();
        }
    }
    line.hangup().unwrap();
    assert_eq!(term.outcome().unwrap().hangup, Hangup::Normal);
    assert_eq!(line.q850_cause(), Some(16));
    let far = far_term.lock().unwrap();
    assert_eq!(far.as_ref().unwrap().0.received_pages(), &[test_page()]);
    drop(line);
    let rec = m.fs.record();
    assert!(
        rec.ioctls.iter().any(|l| l.starts_with("AUDIOMODE")),
        "{:?}",
        rec.ioctls
    );
    assert_eq!(rec.ec_tap_length, Some(0));
    let out = peer.finish();
    assert!(
        out.contains("EVENT 3 PRI_EVENT_RESTART"),
        "our RESTART reached libpri: {out}"
    );
    assert!(out.contains("HANGUP_REQ cause=16"), "{out}");
}

/// The production `dahdi:` URI on a PRI: B-channel 1 and D-channel 16 of an E1 span on the
/// FUSE fake, the D-channel's frames carried to libpri; `fax send --dial` as the CLI does it.
#[test]
fn fax_call_on_a_dahdi_uri_with_the_d_channel_to_libpri() {
    use fake_dahdi::far::FaxPeer;
    use fake_dahdi::{FakeChannel, FakeDahdi, mount_or_skip};
    let Some((peer, sock)) = spawn("answer") else {
        return;
    };
    let far = FaxPeer::answerer();
    let far_term = far.terminal.clone();
    let b = FakeChannel::e1_b_channel(1, Box::new(far));
    let d = FakeChannel::e1_d_channel(sock);
    let Some(m) = mount_or_skip(FakeDahdi::new(vec![b, d])) else {
        return;
    };
    let uri = format!("dahdi:1?root={}&calling=5551", m.root.display());
    let mut line = softfax_drivers::open(&uri, softfax_drivers::sim::FarEnd::Receiver).unwrap();
    line.dial("2125551234").unwrap();
    let mut term = Terminal::caller(Config::default(), vec![test_page()]);
    let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
    for _ in 0..3 * 60 * 50 {
        if term.outcome().is_some() {
            break;
        }
        term.process(&rx, &mut tx);
        if !line.exchange(&tx, &mut rx).unwrap() {
            term.line_down();
        }
    }
    line.hangup().unwrap();
    assert_eq!(term.outcome().unwrap().hangup, Hangup::Normal);
    assert_eq!(line.q850_cause(), Some(16));
    assert_eq!(
        far_term
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .0
            .received_pages(),
        &[test_page()]
    );
    drop(line);
    let rec = m.fs.record();
    assert!(
        rec.ioctls.iter().any(|l| l.starts_with("AUDIOMODE")),
        "{:?}",
        rec.ioctls
    );
    let out = peer.finish();
    assert!(
        out.contains("RING channel=1 called=2125551234 calling=5551"),
        "{out}"
    );
    assert!(out.contains("HANGUP_REQ cause=16"), "{out}");
}

#[test]
fn busy_on_a_dahdi_pri_uri_is_17() {
    use fake_dahdi::far::FaxPeer;
    use fake_dahdi::{FakeChannel, FakeDahdi, mount_or_skip};
    let Some((peer, sock)) = spawn("busy") else {
        return;
    };
    let b = FakeChannel::e1_b_channel(1, Box::new(FaxPeer::answerer()));
    let d = FakeChannel::e1_d_channel(sock);
    let Some(m) = mount_or_skip(FakeDahdi::new(vec![b, d])) else {
        return;
    };
    let uri = format!("dahdi:1?root={}", m.root.display());
    let mut line = softfax_drivers::open(&uri, softfax_drivers::sim::FarEnd::Receiver).unwrap();
    let e = line.dial("2125551234").unwrap_err();
    assert_eq!(e.q850_cause(), Some(17), "{e}");
    assert_eq!(line.q850_cause(), Some(17));
    drop(line);
    peer.finish();
}

/// Wait (up to 10 s) until `f` holds.
fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never: {what}");
}

/// One D-channel, a span of calls at once: ten SETUPs from the network (channels 1–10,
/// called numbers 5550001–5550010) and twelve of ours (17–28), all up together with a glare
/// on channel 11 (the network's SETUP, preferred, crosses our exclusive one: the network
/// wins, refuses ours with 44, and its call is moved to the line listening on 12); then a
/// STATUS ENQUIRY answered by libpri's STATUS, a RESTART of channel 5 by the network under
/// its call, a RESTART of channel 30 by us, and every call cleared, half from each side.
#[test]
fn a_span_of_calls_at_once_on_one_d_channel() {
    let Some(bin) = span_peer() else {
        return;
    };
    let (mut peer, sock) = SpanPeer::start(&bin);
    let span = SpanHandle::start(sock, e1_channels(), true, "span test");
    span.wait_ready(Duration::from_secs(10)).unwrap();
    peer.wait_for("RESTART channel=", 1);
    std::thread::scope(|s| {
        // The answering lines: channels 1–10 and 12.
        let listen: Vec<u8> = (1..=10).chain([12]).collect();
        let answering: Vec<_> = listen
            .iter()
            .map(|&ch| {
                let span = span.clone();
                s.spawn(move || {
                    let inc = span
                        .wait_call(ch, Duration::from_secs(20))
                        .unwrap()
                        .unwrap_or_else(|| panic!("no call on {ch}"));
                    let mut call = inc.call;
                    call.answer(Duration::from_secs(5)).unwrap().unwrap();
                    (ch, inc.called, call)
                })
            })
            .collect();
        until("11 lines listen", || span.stats().listening == 11);
        for ch in 1..=10 {
            peer.cmd(&format!("call {ch} 555{ch:04} 2125550000"));
        }
        peer.cmd("glare 11 5550011");
        let dialing: Vec<_> = (11..=11)
            .chain(17..=28)
            .map(|ch| {
                let span = span.clone();
                s.spawn(move || {
                    let (call, placed) = span.dial(request(ch), Duration::from_secs(10)).unwrap();
                    (ch, call, placed)
                })
            })
            .collect();
        let mut incoming: Vec<_> = answering.into_iter().map(|h| h.join().unwrap()).collect();
        let mut outgoing = Vec::new();
        for h in dialing {
            let (ch, call, placed) = h.join().unwrap();
            if ch == 11 {
                let Placed::Failed(c) = placed else {
                    panic!("glare: {placed:?}")
                };
                assert_eq!(c.value, 44, "the network won the glare");
            } else {
                assert_eq!(placed, Placed::Connected { channel: Some(ch) });
                outgoing.push((ch, call));
            }
        }
        for (ch, called, _) in &incoming {
            let want = if *ch == 12 {
                "5550011".to_string()
            } else {
                format!("555{ch:04}")
            };
            assert_eq!(
                called.as_deref(),
                Some(&want[..]),
                "the called number on {ch}"
            );
        }
        let stats = span.stats();
        assert_eq!(stats.calls, 23, "{stats:?}");
        assert!(stats.most_at_once >= 23, "{stats:?}");
        // STATUS ENQUIRY: libpri answers with its state (active), the call stays up.
        outgoing[0].1.status_enquiry().unwrap();
        until("the STATUS", || span.stats().statuses == 1);
        // The network restarts channel 5 under its call: released here with 41.
        peer.cmd("restart 5");
        let i5 = incoming.iter().position(|(ch, ..)| *ch == 5).unwrap();
        let (_, _, mut c5) = incoming.remove(i5);
        let mut cause = None;
        while cause.is_none() {
            match c5.next_event(Duration::from_secs(5)).unwrap() {
                Some(CallEvent::Released { cause: c, .. }) => cause = Some(c.value),
                Some(_) => {}
                None => panic!("the RESTART did not release the call on 5"),
            }
        }
        assert_eq!(cause, Some(41));
        peer.wait_for("RESTART_ACK channel=5", 1);
        // We restart idle channel 30; libpri acknowledges.
        span.restart(Some(30)).unwrap();
        peer.wait_for("RESTART channel=30", 1);
        until("the ACK of our RESTART", || {
            span.stats().in_maintenance == 0
        });
        // Clearing: ours by us, the network's by the network.
        for (_, call) in outgoing.iter_mut() {
            assert_eq!(call.hangup(16, Duration::from_secs(5)).unwrap().value, 16);
        }
        for (ch, _, _) in &incoming {
            peer.cmd(&format!("hangup {ch} 16"));
        }
        for (ch, _, call) in incoming.iter_mut() {
            let mut cause = None;
            while cause.is_none() {
                match call.next_event(Duration::from_secs(5)).unwrap() {
                    Some(CallEvent::Released { cause: c, .. }) => cause = Some(c.value),
                    Some(_) => {}
                    None => panic!("no clearing on {ch}"),
                }
            }
            assert_eq!(cause, Some(16), "channel {ch}");
        }
        until("an empty call table", || span.stats().calls == 0);
    });
    let out = peer.quit();
    eprintln!("libpri_span:\n{out}");
    assert_eq!(out.matches("ANSWERED channel=").count(), 12, "{out}");
    assert_eq!(out.matches("ANSWER channel=").count(), 11, "{out}");
    assert!(out.contains("GLARE channel=11"), "{out}");
    assert!(out.contains("REFUSED channel=11 cause=44"), "{out}");
    assert!(out.contains("MOVED_BY_USER from=11 to=12"), "{out}");
    assert_eq!(out.matches("HANGUP_REQ").count(), 12, "{out}");
    assert!(!out.contains("TIMEOUT"), "{out}");
}

/// The page every call of the E1 test sends: a short fine page (a frame, bars and a
/// diagonal), so that 30 calls take seconds.
fn short_page() -> softfax_dsp::image::Page {
    use softfax_dsp::image::{Page, Resolution};
    let (w, h) = (1728u32, 160u32);
    let mut p = Page::new(w, h, Resolution::FINE);
    for y in 0..h {
        for x in 0..w {
            let frame = !(32..w - 32).contains(&x) || !(8..h - 8).contains(&y);
            let bars = (40..80).contains(&y) && (x / 64) % 2 == 0;
            let diag = (90..150).contains(&y) && (x as i64 - 11 * y as i64).rem_euclid(240) < 4;
            if frame || bars || diag {
                p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    p
}

/// `pages` written as a TIFF by softfax and read back by libtiff (`tifftopnm`), as PBM
/// pages; `None` when tifftopnm is missing (reported by `softfax_peers::unavailable`).
fn through_libtiff(
    pages: &[softfax_dsp::image::Page],
    dir: &Path,
    name: &str,
) -> Option<Vec<softfax_dsp::image::Page>> {
    use softfax_dsp::tiff::{WriteOptions, write_pages};
    let tif = dir.join(format!("{name}.tif"));
    let bytes = write_pages(
        pages,
        WriteOptions {
            coding: Some(softfax_dsp::t4::Coding::Mr { k: 4 }),
            align_eol: false,
        },
    )
    .unwrap();
    std::fs::write(&tif, bytes).unwrap();
    let o = match Command::new("tifftopnm").arg(&tif).output() {
        Ok(o) => o,
        Err(e) => {
            softfax_peers::unavailable("tifftopnm (netpbm)", format!("cannot run it: {e}"));
            return None;
        }
    };
    assert!(
        o.status.success(),
        "tifftopnm {}: {}",
        tif.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(softfax_dsp::pbm::read_pbm(&o.stdout, softfax_dsp::image::Resolution::FINE).unwrap())
}

/// A whole E1 of fax calls at once through the production PRI code: 30 `dahdi:` B-channel
/// lines of one span on the FUSE fake `/dev/dahdi`, its D-channel (timeslot 16) carried to
/// libpri as the network; 15 calls from the network (channels 1–15, each a fax machine
/// sending the page) answered and received, 15 of ours (17–31) to fax machines that
/// receive it. Every page, written to TIFF and decoded by libtiff, has the source's pels.
#[test]
fn an_e1_of_fax_calls_at_once() {
    use fake_dahdi::far::{FaxPeer, Shared};
    use fake_dahdi::{FakeChannel, FakeDahdi, mount_or_skip};
    use softfax_drivers::dahdi::PriPort;
    let Some(bin) = span_peer() else {
        return;
    };
    let (mut peer, sock) = SpanPeer::start(&bin);
    let page = short_page();
    let mut chans = Vec::new();
    let mut far_receivers: Vec<(u8, Shared)> = Vec::new();
    for ch in e1_channels() {
        let far = if ch <= 15 {
            FaxPeer::caller(vec![page.clone()])
        } else {
            let f = FaxPeer::answerer();
            far_receivers.push((ch, f.terminal.clone()));
            f
        };
        chans.push(FakeChannel::e1_b_channel(ch as i32, Box::new(far)));
    }
    chans.push(FakeChannel::e1_d_channel(sock));
    let Some(m) = mount_or_skip(FakeDahdi::new(chans)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let ports: Vec<PriPort> = e1_channels()
        .into_iter()
        .map(|ch| {
            let b = Channel::open(&m.root, &ChannelSpec::Number(ch as u32)).unwrap();
            PriPort::open(
                &m.root,
                b,
                None,
                Duration::from_secs(30),
                Some("5551".into()),
            )
            .unwrap()
        })
        .collect();
    let span = ports[0].span().clone();
    let results: Vec<(u8, Option<String>, Vec<softfax_dsp::image::Page>, Hangup)> =
        std::thread::scope(|s| {
            let handles: Vec<_> = ports
                .into_iter()
                .zip(e1_channels())
                .map(|(mut port, ch)| {
                    let page = page.clone();
                    s.spawn(move || {
                        let mut term = if ch <= 15 {
                            port.answer().unwrap();
                            Terminal::answerer(Config::default())
                        } else {
                            port.dial(&format!("555{ch:04}")).unwrap();
                            Terminal::caller(Config::default(), vec![page])
                        };
                        let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
                        for _ in 0..3 * 60 * 50 {
                            if term.outcome().is_some() {
                                break;
                            }
                            term.process(&rx, &mut tx);
                            if !port.exchange(&tx, &mut rx).unwrap() {
                                term.line_down();
                            }
                        }
                        port.hangup().unwrap();
                        let hangup = term.outcome().expect("the call ended").hangup;
                        (
                            ch,
                            port.called_number(),
                            term.received_pages().to_vec(),
                            hangup,
                        )
                    })
                })
                .collect();
            until("15 lines listen", || span.stats().listening == 15);
            for ch in 1..=15 {
                peer.cmd(&format!("call {ch} 555{ch:04} 2125550000"));
            }
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let took = started.elapsed();
    let stats = span.stats();
    eprintln!("E1: 30 fax calls in {took:?}; span {stats:?}");
    assert_eq!(stats.most_at_once, 30, "all 30 calls at once: {stats:?}");
    let mut pages = Vec::new();
    for (ch, called, got, hangup) in &results {
        assert_eq!(*hangup, Hangup::Normal, "channel {ch}");
        if *ch <= 15 {
            assert_eq!(called.as_deref(), Some(&format!("555{ch:04}")[..]));
            assert_eq!(got.len(), 1, "channel {ch} received one page");
            pages.push((*ch, got[0].clone()));
        }
    }
    for (ch, far) in &far_receivers {
        let far = far.lock().unwrap();
        let got = far.as_ref().unwrap().0.received_pages();
        assert_eq!(
            got.len(),
            1,
            "the far fax on channel {ch} received one page"
        );
        pages.push((*ch, got[0].clone()));
    }
    assert_eq!(pages.len(), 30);
    for (ch, p) in &pages {
        let Some(decoded) =
            through_libtiff(std::slice::from_ref(p), dir.path(), &format!("ch{ch}"))
        else {
            return;
        };
        assert_eq!(decoded.len(), 1);
        let d = &decoded[0];
        assert_eq!(
            (d.width, d.height),
            (page.width, page.height),
            "channel {ch}"
        );
        for y in 0..page.height {
            assert_eq!(d.row(y), page.row(y), "channel {ch}, row {y}");
        }
    }
    // The last handle closes the D-channel (before the fake is unmounted).
    drop(span);
    drop(m);
    let out = peer.quit();
    assert_eq!(out.matches("ANSWERED channel=").count(), 15, "{out}");
    assert_eq!(out.matches("ANSWER channel=").count(), 15, "{out}");
}
