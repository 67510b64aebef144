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
use softfax_drivers::isdn::q931::{CallEvent, Setup};
use softfax_drivers::sim::test_page;
use softfax_drivers::{BLOCK, Line};
use softfax_dsp::fax::Terminal;
use softfax_dsp::g711::Law;
use softfax_dsp::t30::{Config, Hangup};

fn skip(why: &str) -> Option<PathBuf> {
    softfax_peers::unavailable("libpri", why);
    None
}

/// Build the peer once per run (rebuilt when the source is newer).
fn peer() -> Option<PathBuf> {
    static PEER: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PEER.get_or_init(build_peer).clone()
}

fn build_peer() -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/libpri_net.c");
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("libpri_net");
    let fresh = match (bin.metadata(), src.metadata()) {
        (Ok(b), Ok(s)) => b.modified().ok() >= s.modified().ok(),
        _ => false,
    };
    if fresh {
        return Some(bin);
    }
    if !Path::new("/usr/include/libpri.h").exists() {
        return skip("libpri.h not found (apt-get install libpri-dev)");
    }
    let tmp = bin.with_extension(format!("tmp{}", std::process::id()));
    let out = Command::new("cc")
        .args(["-O2", "-Wall", "-o"])
        .arg(&tmp)
        .arg(&src)
        .arg("-lpri")
        .output();
    match out {
        Ok(o) if o.status.success() => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::rename(&tmp, &bin).unwrap();
            Some(bin)
        }
        Ok(o) => skip(&format!(
            "cc failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => skip(&format!("cannot run cc: {e}")),
    }
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
    let (ours, theirs) = UnixDatagram::pair().unwrap();
    // The peer inherits its end (CLOEXEC cleared).
    nix::fcntl::fcntl(
        &theirs,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .unwrap();
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
        channel: 1,
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
    let Some((peer, mut pri)) = start("answer") else {
        return;
    };
    let (id, placed) = place_call(&mut pri, &setup(), Duration::from_secs(5)).unwrap();
    let Placed::Connected { channel: Some(ch) } = placed else {
        panic!("{placed:?}")
    };
    let bchan = Channel::open(&m.root, &ChannelSpec::Number(ch as u32)).unwrap();
    let mut line = PriLine::new(pri, id, bchan, true).unwrap();
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
    assert!(out.contains("HANGUP_REQ cause=16"), "{out}");
}

/// The production `dahdi:` URI on a PRI: B-channel 1 and D-channel 16 of an E1 span on the
/// FUSE fake, the D-channel's frames carried to libpri; `fax send --dial` as the CLI does it.
#[test]
fn fax_call_on_a_dahdi_uri_with_the_d_channel_to_libpri() {
    use fake_dahdi::far::FaxPeer;
    use fake_dahdi::{FakeChannel, FakeDahdi, SIG_CLEAR, SIG_HDLCFCS, mount_or_skip};
    let Some((peer, sock)) = spawn("answer") else {
        return;
    };
    let far = FaxPeer::answerer();
    let far_term = far.terminal.clone();
    let mut b = FakeChannel::new(1, SIG_CLEAR, Law::Alaw, Box::new(far));
    b.totalchans = 31;
    let mut d = FakeChannel::new(16, SIG_HDLCFCS, Law::Alaw, Box::new(FaxPeer::answerer()));
    d.totalchans = 31;
    d.chanpos = 16;
    sock.set_nonblocking(true).unwrap();
    d.hdlc = Some(sock);
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
    use fake_dahdi::{FakeChannel, FakeDahdi, SIG_CLEAR, SIG_HDLCFCS, mount_or_skip};
    let Some((peer, sock)) = spawn("busy") else {
        return;
    };
    let mut b = FakeChannel::new(1, SIG_CLEAR, Law::Alaw, Box::new(FaxPeer::answerer()));
    b.totalchans = 31;
    let mut d = FakeChannel::new(16, SIG_HDLCFCS, Law::Alaw, Box::new(FaxPeer::answerer()));
    d.totalchans = 31;
    d.chanpos = 16;
    sock.set_nonblocking(true).unwrap();
    d.hdlc = Some(sock);
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
