//! Two engines back to back at frame level (no DSP): every phase, fallback, lost frames,
//! refused pages, timeouts — each ending with its Class 2 code. Time is simulated, so T1's
//! 35 s cost nothing; every call is bounded so a livelock fails instead of hanging.

use super::*;

/// What the simulated line does to the call.
#[derive(Default, Clone)]
struct Wire {
    /// TCF fails at rates above this many bit/s (None: never fails).
    tcf_ok_up_to: Option<u32>,
    /// No answerer at all.
    silent: bool,
    /// Drop the n-th frame the answerer sends (0-based), and the n-th the caller sends.
    drop_from_answerer: Vec<usize>,
    drop_from_caller: Vec<usize>,
    /// Pages that arrive damaged the first time they are sent.
    bad_pages_once: Vec<u32>,
    /// The far end hangs up when the caller starts sending this page.
    hang_up_at_page: Option<u32>,
    /// ECM: (burst, frame number) pairs lost on the line (bursts counted from 0)…
    ecm_lose: Vec<(usize, u8)>,
    /// …and frame numbers lost in every burst (forcing CTC, then EOR).
    ecm_lose_always: Vec<u8>,
    /// A talker echo at both ends: every V.21 frame a station sends also comes back to it,
    /// whole, once it has finished sending (a long echo path).
    echo: bool,
}

struct Result_ {
    caller: Outcome,
    answerer: Option<Outcome>,
    caller_events: Vec<Event>,
    seconds: f64,
    /// ECM: the pages the answerer delivered, and what the caller coded.
    ecm_pages_in: Vec<Vec<u8>>,
    ecm_pages_out: Vec<Vec<u8>>,
    /// Frames of every kind the caller sent (FCF names), in order.
    caller_frames: Vec<String>,
}

/// The coded page the harness hands the caller for page `index` (ECM).
fn page_octets(index: u32) -> Vec<u8> {
    (0..70_000 + index as usize * 1000)
        .map(|i| (i * 7 + index as usize) as u8)
        .collect()
}

fn frame_seconds(frames: &[Vec<u8>]) -> u64 {
    // 1 s of flags, then the frames at 300 bit/s.
    let octets: usize = frames.iter().map(|f| f.len() + 3).sum();
    RATE + (octets as u64 * 8 * RATE) / 300
}

fn run(caller_cfg: Config, doc: Document, answer_cfg: Config, wire: Wire) -> Result_ {
    let mut a = Engine::caller(caller_cfg, doc);
    let mut b = Engine::answerer(answer_cfg);
    let mut now: SampleTime = 0;
    let (mut sent_a, mut sent_b) = (0usize, 0usize);
    let mut pages_sent: std::collections::HashMap<u32, u32> = Default::default();
    let mut caller_events = Vec::new();
    let mut b_alive = !wire.silent;
    let mut bursts = 0usize;
    let mut ecm_pages_in = Vec::new();
    let mut ecm_pages_out = Vec::new();
    for _ in 0..20_000 {
        let mut progress = false;
        while let Some(act) = a.poll_action() {
            progress = true;
            match act {
                Action::SendFrames(fs) => {
                    now += frame_seconds(&fs);
                    let echo = fs.clone();
                    for f in fs {
                        let drop = wire.drop_from_caller.contains(&sent_a);
                        sent_a += 1;
                        if b_alive && !drop {
                            b.handle(now, Input::Frame(f));
                        }
                    }
                    a.handle(now, Input::SendDone);
                    if wire.echo {
                        for f in echo {
                            a.handle(now, Input::Frame(f));
                        }
                    }
                }
                Action::SendTcf { rate } => {
                    now += RATE * 3 / 2;
                    let ok = wire.tcf_ok_up_to.is_none_or(|max| rate.bps <= max);
                    if b_alive {
                        b.handle(now, Input::Tcf { ok });
                    }
                    a.handle(now, Input::SendDone);
                }
                Action::SendPage { index, .. } => {
                    if wire.hang_up_at_page == Some(index) && b_alive {
                        b_alive = false;
                        now += RATE;
                        a.handle(now, Input::LineDown);
                        continue;
                    }
                    now += 10 * RATE;
                    let n = pages_sent.entry(index).or_default();
                    *n += 1;
                    let bad = wire.bad_pages_once.contains(&index) && *n == 1;
                    if b_alive {
                        b.handle(
                            now,
                            Input::Page {
                                rows: 2200,
                                bad_rows: if bad { 400 } else { 0 },
                                max_bad_run: if bad { 100 } else { 0 },
                            },
                        );
                    }
                    a.handle(now, Input::SendDone);
                }
                Action::EncodePage { index, .. } => {
                    let data = page_octets(index);
                    ecm_pages_out.push(data.clone());
                    a.handle(now, Input::PageData(data));
                }
                Action::SendEcmFrames { rate, frames, .. } => {
                    if wire.hang_up_at_page.is_some() && b_alive {
                        b_alive = false;
                        now += RATE;
                        a.handle(now, Input::LineDown);
                        continue;
                    }
                    let octets: usize = frames.iter().map(|f| f.len() + 3).sum();
                    now += RATE / 2 + (octets as u64 * 8 * RATE) / rate.bps as u64;
                    if b_alive {
                        b.handle(now, Input::PageStarted);
                    }
                    for f in frames {
                        let n = f.get(3).copied().unwrap_or(0);
                        let fcd = f[2] & 0xFE == 0x06;
                        let lost = fcd
                            && (wire.ecm_lose.contains(&(bursts, n))
                                || wire.ecm_lose_always.contains(&n));
                        if b_alive {
                            b.handle(
                                now,
                                if lost {
                                    Input::BadFrame
                                } else {
                                    Input::Frame(f)
                                },
                            );
                        }
                    }
                    bursts += 1;
                    a.handle(now, Input::SendDone);
                }
                Action::SendCng
                | Action::ReceiveFrames
                | Action::ReceiveTcf { .. }
                | Action::ReceivePage { .. }
                | Action::ReceiveEcm { .. }
                | Action::PageReceived { .. } => {}
                Action::SendCed => unreachable!("the caller sends no CED"),
                Action::Hangup(_) => {}
            }
        }
        while let Some(e) = a.poll_event() {
            caller_events.push(e);
        }
        if b_alive {
            while let Some(act) = b.poll_action() {
                progress = true;
                match act {
                    Action::SendCed => {
                        now += 3 * RATE;
                        b.handle(now, Input::SendDone);
                    }
                    Action::SendFrames(fs) => {
                        now += frame_seconds(&fs);
                        let echo = fs.clone();
                        for f in fs {
                            let drop = wire.drop_from_answerer.contains(&sent_b);
                            sent_b += 1;
                            if !drop {
                                a.handle(now, Input::Frame(f));
                            }
                        }
                        b.handle(now, Input::SendDone);
                        if wire.echo {
                            for f in echo {
                                b.handle(now, Input::Frame(f));
                            }
                        }
                    }
                    Action::PageReceived { data, .. } => ecm_pages_in.push(data),
                    Action::Hangup(_) => {}
                    _ => {}
                }
            }
            while b.poll_event().is_some() {}
        }
        if a.outcome().is_some() && (!b_alive || b.outcome().is_some()) {
            break;
        }
        if !progress {
            let t = [
                a.poll_timeout(),
                if b_alive { b.poll_timeout() } else { None },
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(t) = t else { break };
            now = now.max(t);
            a.handle_timeout(now);
            if b_alive {
                b.handle_timeout(now);
            }
        }
    }
    if a.outcome().is_some() && b_alive && b.outcome().is_none() {
        // The caller's DCN went out; the answerer hears the line drop.
        b.handle(now, Input::LineDown);
    }
    Result_ {
        caller: a
            .outcome()
            .cloned()
            .expect("the caller's call ended (no livelock)"),
        answerer: b.outcome().cloned(),
        caller_frames: caller_events
            .iter()
            .filter_map(|e| match e {
                Event::FrameOut(f) => Some(f.fcf().name().to_string()),
                _ => None,
            })
            .collect(),
        caller_events,
        seconds: now as f64 / RATE as f64,
        ecm_pages_in,
        ecm_pages_out,
    }
}

fn doc(pages: u32) -> Document {
    Document {
        pages,
        resolution: Resolution::Fine,
        width: Width::A4,
    }
}

/// A station without ECM (the non-ECM procedure).
fn cfg(ident: &str) -> Config {
    Config {
        ident: ident.into(),
        ecm: false,
        ..Default::default()
    }
}

/// A station with ECM (the default).
fn ecm_cfg(ident: &str) -> Config {
    Config {
        ident: ident.into(),
        ..Default::default()
    }
}

#[test]
fn three_pages_at_14400() {
    let r = run(
        cfg("+1 408 555 0001"),
        doc(3),
        cfg("+1 408 555 7442"),
        Wire::default(),
    );
    assert_eq!(r.caller.hangup, Hangup::Normal);
    assert_eq!(r.caller.pages, 3);
    assert_eq!(r.caller.rate, Some(DataRate::V17_14400));
    assert_eq!(r.caller.remote_ident.as_deref(), Some("+1 408 555 7442"));
    assert_eq!(r.caller.coding, Some(Coding::Mr));
    assert_eq!(r.caller.resolution, Some(Resolution::Fine));
    let b = r.answerer.unwrap();
    assert_eq!((b.hangup, b.pages), (Hangup::Normal, 3));
    assert_eq!(b.remote_ident.as_deref(), Some("+1 408 555 0001"));
    assert!(r.seconds < 60.0, "{}", r.seconds);
    // The frames in order, as a protocol trace would print them.
    let out: Vec<String> = r
        .caller_events
        .iter()
        .filter_map(|e| match e {
            Event::FrameOut(f) | Event::FrameIn(f) => Some(f.fcf().name().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        out,
        [
            "CSI", "DIS", "TSI", "DCS", "CFR", "MPS", "MCF", "MPS", "MCF", "EOP", "MCF", "DCN"
        ]
    );
}

/// After FTT one rate lower; at 9600 and 7200 V.29 rather than V.17 (both offered), unless
/// the sender asks for V.17.
#[test]
fn fallback_walks_the_ladder() {
    for (limit, want, prefer_v17) in [
        (12000, DataRate::V17_12000, false),
        (9600, DataRate::V29_9600, false),
        (7200, DataRate::V29_7200, false),
        (9600, DataRate::V17_9600, true),
        (7200, DataRate::V17_7200, true),
        (4800, DataRate::V27TER_4800, false),
        (2400, DataRate::V27TER_2400, false),
    ] {
        let r = run(
            Config {
                prefer_v17,
                ..cfg("a")
            },
            doc(1),
            cfg("b"),
            Wire {
                tcf_ok_up_to: Some(limit),
                ..Default::default()
            },
        );
        assert_eq!(
            (r.caller.hangup, r.caller.rate, r.caller.pages),
            (Hangup::Normal, Some(want), 1),
            "limit {limit}"
        );
    }
    // Capped at 9600: V.29, or V.17 when asked for.
    for (prefer_v17, want) in [(false, DataRate::V29_9600), (true, DataRate::V17_9600)] {
        let tx = Config {
            max_rate: DataRate::V17_9600,
            prefer_v17,
            ..cfg("a")
        };
        let r = run(tx, doc(1), cfg("b"), Wire::default());
        assert_eq!(r.caller.rate, Some(want));
    }
    // A V.29-only receiver: 9600 first.
    let rx = Config {
        max_rate: DataRate::V29_9600,
        ..cfg("b")
    };
    let r = run(cfg("a"), doc(1), rx, Wire::default());
    assert_eq!(r.caller.rate, Some(DataRate::V29_9600));
}

#[test]
fn training_never_succeeds() {
    let r = run(
        cfg("a"),
        doc(1),
        cfg("b"),
        Wire {
            tcf_ok_up_to: Some(0),
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup, Hangup::CannotTrain);
    assert_eq!(r.caller.hangup.code(), 27);
    assert_eq!(r.caller.pages, 0);
}

#[test]
fn silent_line_is_no_answer_after_t1() {
    let r = run(
        cfg("a"),
        doc(1),
        cfg("b"),
        Wire {
            silent: true,
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup, Hangup::NoAnswer);
    assert_eq!(r.caller.hangup.code(), 11);
    assert!(
        (r.seconds - 35.0).abs() < 1.0,
        "T1 is 35 s of simulated time, got {}",
        r.seconds
    );
}

#[test]
fn lost_cfr_and_lost_mcf_are_recovered() {
    // Answerer frames: CSI(0) DIS(1) CFR(2) MCF(3) …: lose CFR and the first MCF.
    let r = run(
        cfg("a"),
        doc(2),
        cfg("b"),
        Wire {
            drop_from_answerer: vec![2, 3],
            ..Default::default()
        },
    );
    assert_eq!((r.caller.hangup, r.caller.pages), (Hangup::Normal, 2));
    assert_eq!(r.answerer.unwrap().pages, 2);
}

#[test]
fn lost_dcs_is_repeated_and_the_limits_give_25_or_26() {
    // Caller frames: TSI(0) DCS(1) …: one lost DCS is sent again.
    let r = run(
        cfg("a"),
        doc(1),
        cfg("b"),
        Wire {
            drop_from_caller: vec![1],
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup, Hangup::Normal);
    // Every DCS lost: the answerer keeps sending DIS — "DIS received 3 times; DCS not
    // recognized".
    let r = run(
        cfg("a"),
        doc(1),
        cfg("b"),
        Wire {
            drop_from_caller: (0..40).filter(|i| i % 2 == 1).collect(),
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup.code(), 26, "{:?}", r.caller);
    // DCS arrives but no response ever comes back: "DCS sent three times without response".
    let r = run(
        cfg("a"),
        doc(1),
        cfg("b"),
        Wire {
            drop_from_answerer: (2..60).collect(),
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup.code(), 25, "{:?}", r.caller);
}

#[test]
fn a_damaged_page_is_refused_then_sent_again() {
    let r = run(
        cfg("a"),
        doc(3),
        cfg("b"),
        Wire {
            bad_pages_once: vec![1],
            ..Default::default()
        },
    );
    assert_eq!((r.caller.hangup, r.caller.pages), (Hangup::Normal, 3));
    assert!(r.caller_events.contains(&Event::PageRefused(1)));
    // RTN makes the caller retrain one step lower.
    assert_eq!(r.caller.rate, Some(DataRate::V17_12000));
}

/// RTN to EOP: the caller retrains one rate lower and sends the last page again, as after
/// MPS (T.30 Figure 5-2); both ends finish normally with every page.
#[test]
fn a_refused_last_page_is_sent_again() {
    let r = run(
        cfg("a"),
        doc(2),
        cfg("b"),
        Wire {
            bad_pages_once: vec![1],
            ..Default::default()
        },
    );
    assert_eq!(
        (r.caller.hangup, r.caller.pages),
        (Hangup::Normal, 2),
        "{:?}",
        r.caller
    );
    assert!(r.caller_events.contains(&Event::PageRefused(1)));
    assert_eq!(r.caller.rate, Some(DataRate::V17_12000));
    let b = r.answerer.expect("answerer finished");
    assert_eq!((b.hangup, b.pages), (Hangup::Normal, 2), "{b:?}");
}

#[test]
fn no_response_to_eop_gives_54() {
    // Answerer frames: CSI DIS CFR MCF …: drop every MCF.
    let r = run(
        cfg("a"),
        doc(1),
        cfg("b"),
        Wire {
            drop_from_answerer: (3..20).collect(),
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup.code(), 54, "{:?}", r.caller);
    assert_eq!(r.caller.pages, 0);
}

#[test]
fn far_end_hangs_up_mid_call() {
    let r = run(
        cfg("a"),
        doc(3),
        cfg("b"),
        Wire {
            hang_up_at_page: Some(1),
            ..Default::default()
        },
    );
    assert_eq!(r.caller.hangup, Hangup::TxPhaseC);
    assert_eq!(r.caller.pages, 1);
}

#[test]
fn answerer_hears_nothing_after_answering() {
    let mut b = Engine::answerer(cfg("b"));
    let mut now = 0;
    for _ in 0..1000 {
        while let Some(a) = b.poll_action() {
            if matches!(a, Action::SendCed | Action::SendFrames(_)) {
                now += RATE;
                b.handle(now, Input::SendDone);
            }
        }
        match b.poll_timeout() {
            Some(t) => {
                now = t;
                b.handle_timeout(now);
            }
            None => break,
        }
    }
    assert_eq!(b.outcome().map(|o| o.hangup.code()), Some(1));
}

#[test]
fn answerer_sees_dcn_in_phase_b() {
    let mut b = Engine::answerer(cfg("b"));
    while b.poll_action().is_some() {}
    b.handle(RATE, Input::SendDone);
    b.handle(RATE, Input::SendDone);
    b.handle(
        2 * RATE,
        Input::Frame(FrameRepr::Plain(Fcf::Dcn).emit(true, true)),
    );
    assert_eq!(b.outcome().map(|o| o.hangup.code()), Some(71));
}

#[test]
fn garbage_frames_never_break_the_engine() {
    let mut seed = 5u32;
    for role in 0..2 {
        let mut e = if role == 0 {
            Engine::caller(cfg("a"), doc(2))
        } else {
            Engine::answerer(cfg("b"))
        };
        let mut now = 0;
        for i in 0..5000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = (seed >> 16) as usize % 12;
            let mut f: Vec<u8> = (0..len).map(|k| (seed >> (k % 24)) as u8).collect();
            if i % 3 == 0 && f.len() >= 3 {
                f[0] = 0xFF;
                f[1] = 0x13;
                f[2] = Fcf::ALL[(seed >> 8) as usize % Fcf::ALL.len()].octet(i % 2 == 0);
            }
            now += 100;
            e.handle(now, Input::Frame(f));
            if i % 7 == 0 {
                e.handle(now, Input::SendDone);
            }
            if i % 11 == 0 {
                e.handle_timeout(now + 10 * RATE);
            }
            while e.poll_action().is_some() {}
            while e.poll_event().is_some() {}
        }
    }
}

// ---- ECM (T.30 Annex A) --------------------------------------------------------------

fn assert_ecm_pages(r: &Result_, pages: usize) {
    assert_eq!(r.ecm_pages_in.len(), pages, "{:?}", r.caller);
    for (i, (got, want)) in r.ecm_pages_in.iter().zip(&r.ecm_pages_out).enumerate() {
        // Frames are padded to 256 octets: the page is the data and then zeros.
        assert!(
            got.len() >= want.len(),
            "page {i}: {} < {}",
            got.len(),
            want.len()
        );
        assert_eq!(&got[..want.len()], &want[..], "page {i}");
        assert!(
            got[want.len()..].iter().all(|&b| b == 0),
            "page {i} padding"
        );
    }
}

#[test]
fn ecm_three_pages_in_blocks() {
    // 70 000 octets a page: two blocks of 256 frames each, PPS-NULL between them.
    let r = run(ecm_cfg("a"), doc(3), ecm_cfg("b"), Wire::default());
    assert_eq!((r.caller.hangup, r.caller.pages), (Hangup::Normal, 3));
    assert!(r.caller.ecm);
    assert_eq!(r.caller.coding, Some(Coding::Mmr));
    let b = r.answerer.clone().expect("answerer finished");
    assert_eq!((b.hangup, b.pages, b.ecm), (Hangup::Normal, 3, true));
    assert_ecm_pages(&r, 3);
    assert_eq!(r.caller_frames.iter().filter(|f| *f == "PPS").count(), 6);
}

#[test]
fn ecm_lost_frames_are_asked_for_again_with_ppr() {
    let wire = Wire {
        ecm_lose: vec![(0, 3), (0, 200), (1, 200), (3, 17)],
        ..Default::default()
    };
    let r = run(ecm_cfg("a"), doc(1), ecm_cfg("b"), wire);
    assert_eq!((r.caller.hangup, r.caller.pages), (Hangup::Normal, 1));
    assert_ecm_pages(&r, 1);
    // Burst 0 lost two frames (PPR), burst 1 (the resend) one (PPR), then block 2 lost one.
    assert_eq!(r.caller_frames.iter().filter(|f| *f == "PPS").count(), 5);
}

#[test]
fn ecm_four_pprs_bring_ctc_and_a_lower_rate() {
    // Frame 5 gets through only from the fifth burst on (after CTC).
    let wire = Wire {
        ecm_lose: (0..4).map(|b| (b, 5)).collect(),
        ..Default::default()
    };
    let r = run(ecm_cfg("a"), doc(1), ecm_cfg("b"), wire);
    assert_eq!(
        (r.caller.hangup, r.caller.pages),
        (Hangup::Normal, 1),
        "{:?}",
        r.caller_frames
    );
    assert!(r.caller_frames.contains(&"CTC".to_string()));
    assert_eq!(r.caller.rate, Some(DataRate::V17_12000));
    assert_ecm_pages(&r, 1);
}

#[test]
fn ecm_a_frame_that_never_arrives_ends_with_eor_at_the_lowest_rate() {
    let mut a = ecm_cfg("a");
    a.max_rate = DataRate::V27TER_2400;
    let wire = Wire {
        ecm_lose_always: vec![9],
        ..Default::default()
    };
    let r = run(a, doc(1), ecm_cfg("b"), wire);
    // No lower rate than 2400: EOR after the fourth PPR, ERR, and the page goes on.
    assert!(
        r.caller_frames.contains(&"EOR".to_string()),
        "{:?}",
        r.caller_frames
    );
    assert_eq!((r.caller.hangup, r.caller.pages), (Hangup::Normal, 1));
}

#[test]
fn ecm_is_used_only_when_both_offer_it() {
    let r = run(ecm_cfg("a"), doc(2), cfg("b"), Wire::default());
    assert_eq!(
        (r.caller.hangup, r.caller.pages, r.caller.ecm),
        (Hangup::Normal, 2, false)
    );
    assert_eq!(r.caller.coding, Some(Coding::Mr));
    let r = run(cfg("a"), doc(1), ecm_cfg("b"), Wire::default());
    assert_eq!((r.caller.hangup, r.caller.ecm), (Hangup::Normal, false));
}

#[test]
fn ecm_lost_mcf_is_answered_again() {
    // The answerer's frames: CSI, DIS, CFR, MCF (block 0) lost → the caller repeats PPS.
    let wire = Wire {
        drop_from_answerer: vec![3],
        ..Default::default()
    };
    let r = run(ecm_cfg("a"), doc(1), ecm_cfg("b"), wire);
    assert_eq!((r.caller.hangup, r.caller.pages), (Hangup::Normal, 1));
    assert_ecm_pages(&r, 1);
}

#[test]
fn ecm_far_end_hangs_up_mid_page() {
    let wire = Wire {
        hang_up_at_page: Some(0),
        ..Default::default()
    };
    let r = run(ecm_cfg("a"), doc(1), ecm_cfg("b"), wire);
    assert_eq!(r.caller.hangup.code(), 40, "{:?}", r.caller);
}

/// A talker echo long enough to carry whole frames back (T.30 §5.3.6.1): each station
/// hears its own DCS, MPS, PPS … or CFR, MCF … after sending them, with its own X bit, and
/// drops them as echoes (never "invalid response"), with and without ECM.
#[test]
fn own_frames_heard_back_are_echoes_not_answers() {
    for (caller, answerer) in [
        (cfg("+1 408 555 0001"), cfg("+1 408 555 7442")),
        (ecm_cfg("+1 408 555 0001"), ecm_cfg("+1 408 555 7442")),
    ] {
        let ecm = caller.ecm;
        let wire = Wire {
            echo: true,
            ..Wire::default()
        };
        let r = run(caller, doc(3), answerer, wire);
        assert_eq!(
            (r.caller.hangup, r.caller.pages),
            (Hangup::Normal, 3),
            "ECM {ecm}"
        );
        let b = r.answerer.unwrap();
        assert_eq!((b.hangup, b.pages), (Hangup::Normal, 3), "ECM {ecm}");
        let echoes: Vec<Fcf> = r
            .caller_events
            .iter()
            .filter_map(|e| match e {
                Event::EchoIn(f) => Some(*f),
                _ => None,
            })
            .collect();
        assert!(echoes.contains(&Fcf::Dcs), "ECM {ecm}: {echoes:?}");
        let post = if ecm { Fcf::Pps } else { Fcf::Mps };
        assert!(echoes.contains(&post), "ECM {ecm}: {echoes:?}");
        assert!(
            !r.caller_events
                .iter()
                .any(|e| matches!(e, Event::FrameIn(f) if f.fcf().sent_by_caller())),
            "ECM {ecm}: an own frame was taken for the far end's"
        );
    }
}

/// The far end's frames are never taken for echoes: frames of the answerer's codes pass
/// whatever their X bit (a station that gets X wrong), and DCN from the far end (the other
/// X value) ends the call.
#[test]
fn the_far_ends_frames_are_not_echoes() {
    let mut a = Engine::caller(cfg("A"), doc(1));
    // A real machine's DIS (V.27ter and V.29, MR, no ECM).
    let dis = vec![0xFF, 0x13, 0x80, 0x00, 0xCE, 0x88, 0x80, 0x80, 0x11];
    a.handle(0, Input::Frame(dis));
    while a.poll_action().is_some() {}
    a.handle(RATE, Input::SendDone);
    a.handle(RATE, Input::SendDone);
    // CFR with the X bit of a calling station (wrong, but CFR is the answerer's code).
    a.handle(
        2 * RATE,
        Input::Frame(FrameRepr::Plain(Fcf::Cfr).emit(true, true)),
    );
    assert!(
        std::iter::from_fn(|| a.poll_action()).any(|x| matches!(x, Action::SendPage { .. })),
        "CFR was taken"
    );
    a.handle(3 * RATE, Input::SendDone);
    a.handle(3 * RATE, Input::SendDone);
    // Our own DCN back (X = 1) is an echo; the far end's (X = 0) is its release.
    a.handle(
        4 * RATE,
        Input::Frame(FrameRepr::Plain(Fcf::Dcn).emit(true, true)),
    );
    assert!(a.outcome().is_none());
    a.handle(
        4 * RATE,
        Input::Frame(FrameRepr::Plain(Fcf::Dcn).emit(false, true)),
    );
    assert_eq!(a.outcome().map(|o| o.hangup), Some(Hangup::TxGotDcnPhaseD));
}
