//! Calls that fail, in simulated time, each with its Class 2 hangup code and without panic or
//! hang: a silent line, noise instead of a fax, the far end hanging up mid-page, DCN instead
//! of the post-page response, training that fails at every rate. The terminals run in
//! process (softfax-dsp's `fax::Terminal`) through the line simulator; T1's 35 s cost only
//! CPU time. (The engine's own tests cover the same and more at frame level, with RTN.)

use softfax::dsp::fax::Terminal;
use softfax::dsp::hdlc::{HdlcTx, MAX_T30_FRAME, flags_for};
use softfax::dsp::image::{Page, Resolution as PageResolution};
use softfax::dsp::linesim::{LineParams, LineSim};
use softfax::dsp::modem::Transmitter;
use softfax::dsp::modem::v21::V21Tx;
use softfax::dsp::t30::{Config, Event, Fcf, FrameRepr};

mod common;
use common::vectors;

const BLOCK: usize = 160;

fn chart() -> Page {
    let path = vectors().join("ccitt-t24/pbm/itu1.pbm");
    softfax::dsp::pbm::read_pbm(&std::fs::read(path).unwrap(), PageResolution::FINE)
        .unwrap()
        .remove(0)
}

fn config(ecm: bool) -> Config {
    Config {
        ident: "test".into(),
        ecm,
        ..Config::default()
    }
}

/// Run `t` against a far end that hears what `t` sends and answers a block (`false`: it
/// hung up), for at most `seconds`. Returns the hangup code and the simulated seconds.
fn drive(
    t: &mut Terminal,
    seconds: u64,
    mut far: impl FnMut(&Terminal, &[i16], &mut [i16]) -> bool,
) -> (u8, f64) {
    let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
    let mut up = true;
    for _ in 0..seconds * 50 {
        t.process(&rx, &mut tx);
        if t.outcome().is_some() {
            break;
        }
        if up && !far(t, &tx, &mut rx) {
            up = false;
            rx.fill(0);
            t.line_down();
        }
    }
    let o = t
        .outcome()
        .expect("the call ended within its bound (no hang)");
    (o.hangup.code(), t.now() as f64 / 8000.0)
}

#[test]
fn silent_line_is_no_answer_at_t1_in_simulated_time() {
    let mut caller = Terminal::caller(config(true), vec![chart()]);
    let (code, secs) = drive(&mut caller, 120, |_, _, rx| {
        rx.fill(0);
        true
    });
    assert_eq!(code, 11);
    assert!((35.0..40.0).contains(&secs), "T1 is 35 s: {secs}");
    let mut answerer = Terminal::answerer(config(true));
    let (code, _) = drive(&mut answerer, 120, |_, _, rx| {
        rx.fill(0);
        true
    });
    assert_eq!(code, 1, "answered, no handshake");
}

#[test]
fn noise_instead_of_a_fax() {
    for level in [-30.0, -15.0] {
        let mut noise = LineSim::new(LineParams {
            noise_dbm0: Some(level),
            seed: 11,
            ..Default::default()
        });
        let mut buf = Vec::new();
        let mut noisy = move |rx: &mut [i16]| {
            noise.process(&[0; BLOCK], &mut buf);
            for (o, s) in rx.iter_mut().zip(buf.iter().chain(std::iter::repeat(&0))) {
                *o = *s;
            }
            true
        };
        let mut caller = Terminal::caller(config(true), vec![chart()]);
        let (code, _) = drive(&mut caller, 120, |_, _, rx| noisy(rx));
        assert_eq!(code, 11, "caller, noise at {level} dBm0");
        let mut answerer = Terminal::answerer(config(true));
        let (code, _) = drive(&mut answerer, 120, |_, _, rx| noisy(rx));
        assert_eq!(code, 1, "answerer, noise at {level} dBm0");
    }
}

/// A softfax answerer as the far end, through a clean line (80 ms each way).
struct Far {
    t: Terminal,
    out: [i16; BLOCK],
    delay: std::collections::VecDeque<i16>,
}

impl Far {
    fn new(ecm: bool) -> Far {
        Far {
            t: Terminal::answerer(config(ecm)),
            out: [0; BLOCK],
            delay: std::iter::repeat_n(0, 640).collect(),
        }
    }
    fn exchange(&mut self, tx: &[i16], rx: &mut [i16]) {
        self.delay.extend(tx.iter().copied());
        let heard: Vec<i16> = self.delay.drain(..BLOCK).collect();
        self.t.process(&heard, &mut self.out);
        rx.copy_from_slice(&self.out);
    }
}

#[test]
fn far_end_hangs_up_mid_page() {
    for ecm in [false, true] {
        let mut far = Far::new(ecm);
        let mut caller = Terminal::caller(config(ecm), vec![chart()]);
        let mut cfr_at = None;
        let (code, _) = drive(&mut caller, 300, |t, tx, rx| {
            if cfr_at.is_none() && far.t.now() > 0 {
                // CFR sent by the far end: the page follows.
                for e in far.t.take_events() {
                    if e == Event::FrameOut(FrameRepr::Plain(Fcf::Cfr)) {
                        cfr_at = Some(t.now());
                    }
                }
            }
            if cfr_at.is_some_and(|at| t.now() > at + 3 * 8000) {
                return false; // two seconds into the page
            }
            far.exchange(tx, rx);
            true
        });
        assert_eq!(code, 40, "ecm {ecm}: the line went in phase C");
    }
}

/// The V.21 signal of one T.30 frame (with its preamble).
fn v21_frame(octets: &[u8]) -> Vec<i16> {
    let mut h = HdlcTx::new(MAX_T30_FRAME);
    h.send_flags(flags_for(1000, 300));
    h.send_frame(octets).unwrap();
    h.send_flags(1);
    let mut m = V21Tx::new(-10.0);
    let mut out = vec![0i16; 8000 * 3];
    let n = m.transmit(&mut out, &mut h);
    out.truncate(n);
    out
}

#[test]
fn dcn_instead_of_the_post_page_response() {
    for ecm in [false, true] {
        let mut far = Far::new(ecm);
        let mut caller = Terminal::caller(config(ecm), vec![chart()]);
        // Once the caller's post-page command (EOP, or PPS-EOP) has been heard, the far end
        // answers DCN instead of MCF.
        let dcn = v21_frame(&FrameRepr::Plain(Fcf::Dcn).emit(false, true));
        let mut script: Option<std::vec::IntoIter<i16>> = None;
        let mut quiet = 0;
        let (code, _) = drive(&mut caller, 300, |_, tx, rx| {
            if let Some(s) = script.as_mut() {
                for o in rx.iter_mut() {
                    *o = s.next().unwrap_or(0);
                }
                return true;
            }
            far.exchange(tx, rx);
            let post = far.t.take_events().into_iter().any(|e| match e {
                Event::FrameIn(FrameRepr::Plain(Fcf::Eop)) => true,
                Event::FrameIn(FrameRepr::Pps { fcf2, .. }) => fcf2 == Some(Fcf::Eop),
                _ => false,
            });
            if post || quiet > 0 {
                quiet += 1;
                if quiet > 5 {
                    script = Some(dcn.clone().into_iter());
                }
            }
            true
        });
        assert_eq!(code, 51, "ecm {ecm}: DCN after the page");
    }
}

/// A far end that is a real answerer until it has heard DCS, then a script: each time the
/// caller's transmission ends (200 ms of quiet after it was sending), the next response of
/// `script` goes back on V.21.
fn scripted(ecm: bool, script: Vec<Fcf>) -> impl FnMut(&Terminal, &[i16], &mut [i16]) -> bool {
    let mut far = Far::new(ecm);
    let mut scripting = false;
    let mut script = script.into_iter();
    let mut playing: Vec<i16> = Vec::new();
    let (mut active, mut quiet) = (false, 0);
    move |_, tx, rx| {
        if !scripting {
            far.exchange(tx, rx);
            scripting = far
                .t
                .take_events()
                .iter()
                .any(|e| matches!(e, Event::FrameIn(FrameRepr::Dcs(_))));
            return true;
        }
        let loud = tx.iter().any(|s| s.unsigned_abs() > 100);
        if loud {
            active = true;
            quiet = 0;
        } else if active {
            quiet += 1;
            if quiet == 10 {
                active = false;
                if let Some(r) = script.next() {
                    playing = v21_frame(&FrameRepr::Plain(r).emit(false, true));
                    playing.reverse();
                }
            }
        }
        for o in rx.iter_mut() {
            *o = playing.pop().unwrap_or(0);
        }
        true
    }
}

#[test]
fn training_fails_at_every_rate() {
    // FTT to every TCF: the caller walks the whole ladder, then code 27.
    let mut caller = Terminal::caller(config(false), vec![chart()]);
    let (code, _) = drive(&mut caller, 600, scripted(false, vec![Fcf::Ftt; 20]));
    let mut rates = Vec::new();
    for e in caller.take_events() {
        if let Event::Negotiated(c) = e {
            rates.extend(c.rate.map(|r| r.bps));
        }
    }
    assert_eq!(code, 27, "rates tried: {rates:?}");
    rates.dedup();
    // V.17 14400 and 12000, then V.29 (preferred to V.17 at 9600 and 7200), then V.27ter.
    assert_eq!(
        rates,
        [14400, 12000, 9600, 7200, 4800, 2400],
        "V.17, V.29 and V.27ter, every rate"
    );
}

#[test]
fn rtn_to_the_last_page() {
    // CFR, then RTN to EOP: the caller retrains to send the page again (DCS); nothing
    // answers it, so the call ends with the refused page's code, 50, the page not confirmed.
    let mut caller = Terminal::caller(config(false), vec![chart()]);
    let (code, _) = drive(&mut caller, 600, scripted(false, vec![Fcf::Cfr, Fcf::Rtn]));
    assert_eq!(code, 50);
    assert_eq!(caller.outcome().unwrap().pages, 0);
}
