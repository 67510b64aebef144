//! Far ends for the fake channel: a PSTN exchange script (dial tone, digit collection,
//! ringback / busy / congestion per tone plan, answer by a softfax fax terminal with CED +
//! V.21, or by a voice) and an incoming caller (ring cadence, then a fax sender).

use std::sync::{Arc, Mutex};

use softfax_dsp::fax::Terminal;
use softfax_dsp::image::Page;
use softfax_dsp::t30::Config;
use softfax_dsp::tones::ToneGenerator;
use softfax_dsp::tones::dtmf::{DtmfConfig, DtmfDetector, DtmfEvent};
use softfax_dsp::tones::progress::{CallProgress, TonePlan};

use super::{EV_ONHOOK, EV_RINGBEGIN, EV_RINGOFFHOOK, FarEnd};

/// What the called number does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee {
    /// A fax machine that answers after `rings` ringback cycles.
    Fax {
        rings: u32,
    },
    Busy,
    Congestion,
    /// Rings for ever.
    NoAnswer,
    /// A person answers after `rings` cycles and talks.
    Voice {
        rings: u32,
    },
}

/// A fax terminal moved into the FUSE server's thread (`Terminal` is `Send`: the modem
/// traits require it).
pub struct Far(pub Terminal);

/// Shared view of the far fax terminal, for the test to inspect after the call.
pub type Shared = Arc<Mutex<Option<Far>>>;

enum Phase {
    OnHook,
    DialTone(ToneGenerator),
    Digits {
        quiet_blocks: u32,
    },
    Progress {
        tones: ToneGenerator,
        blocks_left: Option<u32>,
    },
    Fax,
    Voice {
        t: u64,
    },
    /// Far end gone: battery dropped.
    Gone,
}

/// A PSTN exchange with one called party.
pub struct Pstn {
    plan: TonePlan,
    pub expected: String,
    callee: Callee,
    phase: Phase,
    dtmf: DtmfDetector,
    dtmf_events: Vec<DtmfEvent>,
    pub digits: Arc<Mutex<String>>,
    pub terminal: Shared,
    gone_after: Option<u32>,
}

fn tone(plan: &TonePlan, kind: CallProgress) -> ToneGenerator {
    plan.tones
        .iter()
        .find(|t| t.kind == kind)
        .unwrap()
        .generator(-18.0)
        .unwrap()
}

impl Pstn {
    pub fn new(plan: TonePlan, expected: &str, callee: Callee) -> Pstn {
        Pstn {
            plan,
            expected: expected.into(),
            callee,
            phase: Phase::OnHook,
            dtmf: DtmfDetector::new(DtmfConfig::default()),
            dtmf_events: Vec::new(),
            digits: Arc::new(Mutex::new(String::new())),
            terminal: Arc::new(Mutex::new(None)),
            gone_after: None,
        }
    }

    fn route(&mut self) -> Phase {
        let dialled = self.digits.lock().unwrap().clone();
        if dialled != self.expected {
            return Phase::Progress {
                tones: tone(&self.plan, CallProgress::Congestion),
                blocks_left: None,
            };
        }
        // One ringback period in 20 ms blocks.
        let period: u32 = self
            .plan
            .tones
            .iter()
            .find(|t| t.kind == CallProgress::Ringback)
            .map(|t| t.cadence_ms.iter().sum::<u32>() / 20)
            .unwrap_or(300);
        match self.callee {
            Callee::Busy => Phase::Progress {
                tones: tone(&self.plan, CallProgress::Busy),
                blocks_left: None,
            },
            Callee::Congestion => Phase::Progress {
                tones: tone(&self.plan, CallProgress::Congestion),
                blocks_left: None,
            },
            Callee::NoAnswer => Phase::Progress {
                tones: tone(&self.plan, CallProgress::Ringback),
                blocks_left: None,
            },
            Callee::Fax { rings } | Callee::Voice { rings } => Phase::Progress {
                tones: tone(&self.plan, CallProgress::Ringback),
                blocks_left: Some(rings * period),
            },
        }
    }

    fn answer(&mut self) -> Phase {
        match self.callee {
            Callee::Fax { .. } => {
                let cfg = Config {
                    ident: "fake far fax".into(),
                    ..Config::default()
                };
                *self.terminal.lock().unwrap() = Some(Far(Terminal::answerer(cfg)));
                Phase::Fax
            }
            _ => Phase::Voice { t: 0 },
        }
    }
}

impl FarEnd for Pstn {
    fn hook(&mut self, offhook: bool) {
        if offhook {
            if matches!(self.phase, Phase::OnHook) {
                self.phase = Phase::DialTone(tone(&self.plan, CallProgress::DialTone));
            }
        } else {
            if let Some(Far(t)) = self.terminal.lock().unwrap().as_mut()
                && t.outcome().is_none()
            {
                t.line_down();
            }
            self.phase = Phase::OnHook;
        }
    }

    fn process(&mut self, from_us: &[i16], to_us: &mut [i16], events: &mut Vec<i32>) {
        self.dtmf_events.clear();
        self.dtmf.process(from_us, &mut self.dtmf_events);
        let mut digit_started = false;
        for e in &self.dtmf_events {
            if let DtmfEvent::Start { digit, .. } = e {
                self.digits.lock().unwrap().push(*digit);
                digit_started = true;
            }
        }
        let next = match &mut self.phase {
            Phase::OnHook | Phase::Gone => None,
            Phase::DialTone(tones) => {
                if digit_started {
                    Some(Phase::Digits { quiet_blocks: 0 })
                } else {
                    tones.generate(to_us);
                    None
                }
            }
            Phase::Digits { quiet_blocks } => {
                *quiet_blocks = if digit_started { 0 } else { *quiet_blocks + 1 };
                // En-bloc: the number is complete after 1 s without a new digit.
                (*quiet_blocks >= 50).then(|| self.route())
            }
            Phase::Progress { tones, blocks_left } => {
                tones.generate(to_us);
                match blocks_left {
                    Some(0) => {
                        // Answer supervision by polarity reversal, as some lines give it.
                        events.push(super::EV_POLARITY);
                        Some(self.answer())
                    }
                    Some(n) => {
                        *n -= 1;
                        None
                    }
                    None => None,
                }
            }
            Phase::Fax => {
                let mut t = self.terminal.lock().unwrap();
                let term = &mut t.as_mut().unwrap().0;
                term.process(from_us, to_us);
                if term.outcome().is_some() && self.gone_after.is_none() {
                    self.gone_after = Some(25);
                }
                None
            }
            Phase::Voice { t } => {
                for s in to_us.iter_mut() {
                    let x = *t as f32 / 8000.0;
                    let f0 = 140.0 + 25.0 * (x * 1.7).sin();
                    let env = if (*t / 1600) % 3 == 2 { 0.1 } else { 1.0 };
                    let mut v = 0.0;
                    for h in 1..10 {
                        v += (2.0 * std::f32::consts::PI * f0 * h as f32 * x).sin() / h as f32;
                    }
                    *s = (v * 2000.0 * env) as i16;
                    *t += 1;
                }
                None
            }
        };
        if let Some(p) = next {
            self.phase = p;
        }
        if let Some(n) = self.gone_after.as_mut() {
            if *n == 0 {
                // The far fax machine has hung up: the CO drops the battery (kewlstart).
                events.push(EV_ONHOOK);
                self.phase = Phase::Gone;
                self.gone_after = None;
                self.callee = Callee::NoAnswer;
            } else {
                *n -= 1;
            }
        }
    }
}

/// An incoming call: ring cadence 2 s on / 4 s off until answered, then a fax sender.
pub struct Caller {
    pages: Vec<Page>,
    blocks: u64,
    answered: bool,
    pub terminal: Shared,
    hung_up: bool,
    gone_after: Option<u32>,
}

impl Caller {
    pub fn new(pages: Vec<Page>) -> Caller {
        Caller {
            pages,
            blocks: 0,
            answered: false,
            terminal: Arc::new(Mutex::new(None)),
            hung_up: false,
            gone_after: None,
        }
    }
}

impl FarEnd for Caller {
    fn hook(&mut self, offhook: bool) {
        if offhook && !self.answered {
            self.answered = true;
            let cfg = Config {
                ident: "fake far sender".into(),
                ..Config::default()
            };
            *self.terminal.lock().unwrap() =
                Some(Far(Terminal::caller(cfg, std::mem::take(&mut self.pages))));
        } else if !offhook
            && let Some(Far(t)) = self.terminal.lock().unwrap().as_mut()
            && t.outcome().is_none()
        {
            t.line_down();
        }
    }

    fn process(&mut self, from_us: &[i16], to_us: &mut [i16], events: &mut Vec<i32>) {
        if !self.answered {
            // 300 blocks = 6 s: ring begins at 0, the burst ends at 2 s (+50 ms trailer).
            match self.blocks % 300 {
                0 => events.push(EV_RINGBEGIN),
                103 => events.push(EV_RINGOFFHOOK),
                _ => {}
            }
            self.blocks += 1;
            return;
        }
        if self.hung_up {
            return;
        }
        let mut t = self.terminal.lock().unwrap();
        let term = &mut t.as_mut().unwrap().0;
        term.process(from_us, to_us);
        if term.outcome().is_some() && self.gone_after.is_none() {
            self.gone_after = Some(25);
        }
        if let Some(n) = self.gone_after.as_mut() {
            if *n == 0 {
                events.push(EV_ONHOOK);
                self.hung_up = true;
            } else {
                *n -= 1;
            }
        }
    }
}

/// A fax machine that is simply there (a PRI B-channel after CONNECT): answers with CED
/// and V.21 from the first block.
pub struct FaxPeer {
    pub terminal: Shared,
}

impl FaxPeer {
    pub fn answerer() -> FaxPeer {
        let cfg = Config {
            ident: "fake far fax".into(),
            ..Config::default()
        };
        FaxPeer {
            terminal: Arc::new(Mutex::new(Some(Far(Terminal::answerer(cfg))))),
        }
    }

    /// A fax machine that called (the network's call on a PRI B-channel): sends `pages`
    /// from the first block.
    pub fn caller(pages: Vec<Page>) -> FaxPeer {
        let cfg = Config {
            ident: "fake far sender".into(),
            ..Config::default()
        };
        FaxPeer {
            terminal: Arc::new(Mutex::new(Some(Far(Terminal::caller(cfg, pages))))),
        }
    }
}

impl FarEnd for FaxPeer {
    fn hook(&mut self, _offhook: bool) {}

    fn process(&mut self, from_us: &[i16], to_us: &mut [i16], _events: &mut Vec<i32>) {
        if let Some(Far(t)) = self.terminal.lock().unwrap().as_mut() {
            t.process(from_us, to_us);
        }
    }
}

/// One end of a cross-connect between two fake channels (like a DACS): what one side's
/// user writes, the other side's user reads, 20 ms later.
pub struct CrossConnect {
    to_peer: Arc<Mutex<std::collections::VecDeque<i16>>>,
    from_peer: Arc<Mutex<std::collections::VecDeque<i16>>>,
}

impl CrossConnect {
    pub fn pair() -> (CrossConnect, CrossConnect) {
        let a = Arc::new(Mutex::new(std::collections::VecDeque::from(vec![
            0i16;
            160
        ])));
        let b = Arc::new(Mutex::new(std::collections::VecDeque::from(vec![
            0i16;
            160
        ])));
        (
            CrossConnect {
                to_peer: a.clone(),
                from_peer: b.clone(),
            },
            CrossConnect {
                to_peer: b,
                from_peer: a,
            },
        )
    }
}

impl FarEnd for CrossConnect {
    fn hook(&mut self, _offhook: bool) {}

    fn process(&mut self, from_us: &[i16], to_us: &mut [i16], _events: &mut Vec<i32>) {
        self.to_peer.lock().unwrap().extend(from_us.iter().copied());
        let mut q = self.from_peer.lock().unwrap();
        for s in to_us.iter_mut() {
            *s = q.pop_front().unwrap_or(0);
        }
    }
}
