//! The real `dahdi:` code path (open → DAHDI_SPECIFY → ioctls → poll/read/write with errno
//! 500) against a FUSE fake `/dev/dahdi` (tests/fake_dahdi), whose far end is a PSTN script
//! and a softfax fax terminal: whole fax calls both ways, and every call-progress outcome
//! with its Q.850 cause.

mod fake_dahdi;

use std::sync::{Arc, Mutex};

use fake_dahdi::far::{Callee, Caller, Pstn, Shared};
use fake_dahdi::{ALARM_RED, FakeChannel, FakeDahdi, Mounted, SIG_FXOKS, SIG_FXSKS, mount_or_skip};
use softfax_drivers::sim::{FarEnd, test_page};
use softfax_drivers::{BLOCK, Line, LineError};
use softfax_dsp::fax::Terminal;
use softfax_dsp::g711::Law;
use softfax_dsp::t30::{Config, Hangup};
use softfax_dsp::tones::progress::{CEPT, NORTH_AMERICA, TonePlan};

const NUMBER: &str = "2125551234";

/// Run our terminal over the line until it finishes (bounded: 3 simulated minutes).
fn run_call(line: &mut dyn Line, term: &mut Terminal) {
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
}

struct Setup {
    m: Mounted,
    digits: Arc<Mutex<String>>,
    far: Shared,
}

fn pstn(plan: TonePlan, law: Law, callee: Callee, alarms: i32) -> Option<Setup> {
    let far = Pstn::new(plan, NUMBER, callee);
    let (digits, term) = (far.digits.clone(), far.terminal.clone());
    let mut ch = FakeChannel::new(1, SIG_FXSKS, law, Box::new(far));
    ch.span_alarms = alarms;
    let m = mount_or_skip(FakeDahdi::new(vec![ch]))?;
    Some(Setup {
        m,
        digits,
        far: term,
    })
}

fn uri(s: &Setup, extra: &str) -> String {
    format!("dahdi:1?root={}{extra}", s.m.root.display())
}

fn caller_terminal() -> Terminal {
    Terminal::caller(
        Config {
            ident: "softfax dahdi".into(),
            ..Config::default()
        },
        vec![test_page()],
    )
}

#[test]
fn fax_call_through_the_fake_device_us_ulaw() {
    let Some(s) = pstn(NORTH_AMERICA, Law::Ulaw, Callee::Fax { rings: 1 }, 0) else {
        return;
    };
    let mut line = softfax_drivers::open(&uri(&s, ""), FarEnd::Receiver).unwrap();
    line.dial(NUMBER).unwrap();
    assert_eq!(
        *s.digits.lock().unwrap(),
        NUMBER,
        "the exchange heard our DTMF"
    );
    let mut term = caller_terminal();
    run_call(&mut *line, &mut term);
    let o = term.outcome().unwrap();
    assert_eq!(o.hangup, Hangup::Normal, "{o:?}");
    assert_eq!(o.pages, 1);
    assert_eq!(line.q850_cause(), Some(16));
    let far = s.far.lock().unwrap();
    let far = &far.as_ref().unwrap().0;
    assert_eq!(far.received_pages().len(), 1);
    assert_eq!(
        far.received_pages()[0],
        test_page(),
        "page arrives pel-identical"
    );
    let report = line.span_report().unwrap();
    assert!(report.before.is_some() && report.after.is_some());
    let (b, a) = (report.before.unwrap(), report.after.unwrap());
    assert_eq!(b.kind, "FXO");
    assert!(
        a.counter("crc4") > b.counter("crc4"),
        "the fake counts errors during the call"
    );
    drop(line);
    let rec = s.m.fs.record();
    // The per-call set-up the reference asks for, seen by the device.
    assert_eq!(
        rec.ioctls[0].split(' ').next(),
        Some("SPECIFY"),
        "{:?}",
        rec.ioctls
    );
    assert_eq!(rec.blocksize, Some(160));
    assert_eq!(rec.ec_tap_length, Some(0), "echo canceller off");
    assert_eq!(rec.unity_gains, Some(true));
    assert_eq!(rec.buffer_events, Some(1));
    assert_eq!(rec.hooks, vec![1, 0], "off hook, then on hook");
    assert!(
        rec.elast_returned > 0,
        "the far end's hang-up arrived as errno 500"
    );
    assert!(
        !rec.ioctls.iter().any(|l| l.starts_with('?')),
        "{:?}",
        rec.ioctls
    );
    eprintln!(
        "reads {} writes {} ioctls {} modem {:.1} s rate {:?}",
        rec.reads,
        rec.writes,
        rec.ioctls.len(),
        term.modem_seconds(),
        o.rate
    );
}

#[test]
fn fax_call_through_the_fake_device_cept_alaw() {
    let Some(s) = pstn(CEPT, Law::Alaw, Callee::Fax { rings: 2 }, 0) else {
        return;
    };
    // Linear mode: the device converts A-law, reads and writes carry native s16.
    let mut line =
        softfax_drivers::open(&uri(&s, "&zone=cept&linear=1"), FarEnd::Receiver).unwrap();
    line.dial(NUMBER).unwrap();
    let mut term = caller_terminal();
    run_call(&mut *line, &mut term);
    assert_eq!(term.outcome().unwrap().hangup, Hangup::Normal);
    let far = s.far.lock().unwrap();
    assert_eq!(far.as_ref().unwrap().0.received_pages(), &[test_page()]);
    let rec = s.m.fs.record();
    assert!(
        rec.ioctls.iter().any(|l| l.starts_with("SETLINEAR")),
        "{:?}",
        rec.ioctls
    );
}

fn dial_fails(plan: TonePlan, callee: Callee, extra: &str, number: &str) -> Option<(u8, String)> {
    let s = pstn(plan, Law::Ulaw, callee, 0)?;
    let mut line = softfax_drivers::open(&uri(&s, extra), FarEnd::Receiver).unwrap();
    let e = line.dial(number).unwrap_err();
    let cause = e.q850_cause().expect("a call outcome");
    assert_eq!(line.q850_cause(), Some(cause));
    drop(line);
    assert_eq!(s.m.fs.record().hooks.last(), Some(&0), "back on hook");
    Some((cause, e.to_string()))
}

#[test]
fn busy_is_cause_17() {
    for plan in [NORTH_AMERICA, CEPT] {
        let Some((c, why)) = dial_fails(plan, Callee::Busy, "", NUMBER) else {
            return;
        };
        assert_eq!(c, 17, "{why}");
    }
}

#[test]
fn reorder_is_cause_34() {
    let Some((c, why)) = dial_fails(NORTH_AMERICA, Callee::Congestion, "", NUMBER) else {
        return;
    };
    assert_eq!(c, 34, "{why}");
    // A wrong number gets the exchange's congestion tone as well.
    let Some((c, _)) = dial_fails(CEPT, Callee::Fax { rings: 1 }, "", "5550000") else {
        return;
    };
    assert_eq!(c, 34);
}

#[test]
fn ringback_without_answer_is_cause_19() {
    let Some((c, why)) = dial_fails(NORTH_AMERICA, Callee::NoAnswer, "&answer=30", NUMBER) else {
        return;
    };
    assert_eq!(c, 19, "{why}");
}

#[test]
fn voice_answer_is_no_fax_answer() {
    let Some((c, why)) = dial_fails(NORTH_AMERICA, Callee::Voice { rings: 1 }, "", NUMBER) else {
        return;
    };
    assert_eq!(c, 16, "{why}");
    assert!(why.contains("no fax answer"), "{why}");
}

#[test]
fn span_in_alarm_is_line_down_and_nothing_is_dialled() {
    let Some(s) = pstn(
        NORTH_AMERICA,
        Law::Ulaw,
        Callee::Fax { rings: 1 },
        ALARM_RED,
    ) else {
        return;
    };
    let mut line = softfax_drivers::open(&uri(&s, ""), FarEnd::Receiver).unwrap();
    let e = line.dial(NUMBER).unwrap_err();
    assert!(matches!(e, LineError::LineDown(_)), "{e}");
    assert!(e.to_string().contains("RED"), "{e}");
    assert_eq!(e.q850_cause(), Some(38));
    drop(line);
    assert!(s.m.fs.record().hooks.is_empty(), "never went off hook");
}

#[test]
fn incoming_call_is_answered_after_two_rings_and_received() {
    let far = Caller::new(vec![test_page()]);
    let term_far = far.terminal.clone();
    let ch = FakeChannel::new(3, SIG_FXSKS, Law::Ulaw, Box::new(far));
    let Some(m) = mount_or_skip(FakeDahdi::new(vec![ch])) else {
        return;
    };
    let uri = format!("dahdi:3?root={}&rings=2", m.root.display());
    let mut line = softfax_drivers::open(&uri, FarEnd::Receiver).unwrap();
    line.answer().unwrap();
    let mut term = Terminal::answerer(Config::default());
    run_call(&mut *line, &mut term);
    assert_eq!(term.outcome().unwrap().hangup, Hangup::Normal);
    assert_eq!(term.received_pages(), &[test_page()]);
    assert!(
        term_far
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .0
            .outcome()
            .is_some()
    );
    drop(line);
    let rec = m.fs.record();
    assert_eq!(rec.hooks, vec![1, 0]);
    // Two rings of 6 s before the answer: about 300 + 103 blocks read on hook.
    assert!(rec.reads > 400, "{}", rec.reads);
}

#[test]
fn device_errors_are_typed() {
    let far = Pstn::new(NORTH_AMERICA, NUMBER, Callee::Busy);
    let clear = FakeChannel::new(2, SIG_FXOKS, Law::Alaw, Box::new(far));
    let far = Pstn::new(NORTH_AMERICA, NUMBER, Callee::Busy);
    let fxs = FakeChannel::new(1, SIG_FXSKS, Law::Ulaw, Box::new(far));
    let Some(m) = mount_or_skip(FakeDahdi::new(vec![fxs, clear])) else {
        return;
    };
    let open = |n: u32| {
        softfax_drivers::open(
            &format!("dahdi:{n}?root={}", m.root.display()),
            FarEnd::Receiver,
        )
    };
    // No such channel: DAHDI_SPECIFY fails with EINVAL.
    let e = open(9).err().unwrap().to_string();
    assert!(e.contains("does not exist"), "{e}");
    // An FXS port (FXO signalling, rings a phone) is not an FXO port.
    let e = open(2).err().unwrap().to_string();
    assert!(e.contains("FXS signalling"), "{e}");
    // Exclusive open: the second one is EBUSY.
    let first = open(1).unwrap();
    let e = open(1).err().unwrap().to_string();
    assert!(e.contains("busy"), "{e}");
    drop(first);
    assert!(open(1).is_ok(), "closing released the channel");
}
