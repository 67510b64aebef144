//! An analog FXO port (a DAHDI channel with FXS signalling, `fxsks`/`fxsls`, facing the
//! central office): placing and answering fax calls with a Q.850 cause for every outcome
//! (docs/reference/dahdi.md, analog FXO port, per call; docs/reference/q850-causes.md for lines without
//! signalling).
//!
//! **Outgoing** ([`FxoLine::dial`]): refuse a channel or span in alarm ("line down", 38) →
//! off hook → wait for dial tone (else 41) → DTMF digits from our own generator
//! ([`softfax_dsp::tones::dtmf`]) written as audio → call progress
//! ([`ProgressMonitor`]): busy → 17, congestion/reorder → 34, SIT → 1, ringback and no
//! answer → 19, nothing at all → 18; a fax answer (CED, or V.21 flags at 1650/1850 Hz) ends
//! dialling; a voice answer (sound that is neither a progress nor a fax tone) followed by no
//! fax tone for `fax_wait` → "no fax answer" (16, the call was answered).
//!
//! **Incoming** ([`FxoLine::answer`]): count RINGOFFHOOK events (end of each ring burst),
//! go off hook after `rings` rings.
//!
//! **During the call**: an ONHOOK event (battery drop, kewlstart CO disconnect) is the far
//! end hanging up; ALARM is the line going down. **At the end**: on hook, span counters
//! read again.
//!
//! Time here is audio: every step counts 20 ms blocks read from the channel, so the same
//! code runs on the span clock of a real card and on the virtual time of the fake device.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use softfax_dsp::g711::Law;
use softfax_dsp::tones::dtmf::DtmfSender;
use softfax_dsp::tones::fax::{FaxTone, FaxToneDetector, FaxToneEvent};
use softfax_dsp::tones::progress::{CallProgress, ProgressDetector, ProgressEvent, TonePlan};

use super::channel::{Channel, ChannelSpec};
use super::{DahdiError, Event, SpanHealth, sys};
use crate::{BLOCK, LineError, SpanReport};

/// Settings of an FXO line (`dahdi:N?…` query keys in brackets).
#[derive(Debug, Clone)]
pub struct FxoConfig {
    /// Wait for dial tone before dialling (`dialtone=0` to skip).
    pub wait_dialtone: bool,
    /// How long to wait for dial tone.
    pub dialtone_timeout: Duration,
    /// How long to wait for an answer after the last digit (`answer=SECONDS`).
    pub answer_timeout: Duration,
    /// After a voice answer, how long to wait for a fax tone.
    pub fax_wait: Duration,
    /// Rings before answering an incoming call (`rings=N`).
    pub rings: u32,
    /// How long to wait for an incoming call (`wait=SECONDS`).
    pub ring_timeout: Duration,
    /// Tone plans for call progress (`zone=us|cept|uk`; default all).
    pub plans: Vec<TonePlan>,
    /// Wall-clock limit for one block from the device.
    pub io_timeout: Duration,
    /// PRI: the span's D-channel (`dchan=N`; default: channel 16 of an E1 span, 24 of a T1).
    pub dchan: Option<u32>,
    /// PRI: our number in SETUP (`calling=DIGITS`).
    pub calling: Option<String>,
    /// Let the kernel convert G.711 (DAHDI_SETLINEAR, `linear=1`); by default softfax
    /// converts with its own G.711, so tests and production run the same code.
    pub linear: bool,
}

impl Default for FxoConfig {
    fn default() -> Self {
        FxoConfig {
            wait_dialtone: true,
            dialtone_timeout: Duration::from_secs(5),
            answer_timeout: Duration::from_secs(60),
            fax_wait: Duration::from_secs(10),
            rings: 1,
            ring_timeout: Duration::from_secs(120),
            plans: softfax_dsp::tones::progress::ALL_PLANS.to_vec(),
            io_timeout: Duration::from_secs(2),
            dchan: None,
            calling: None,
            linear: false,
        }
    }
}

/// How an attempt to place a call ended before the fax could start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A fax machine answered (CED or V.21): go ahead.
    FaxAnswer,
    Busy,
    Congestion,
    Sit,
    /// Ringback, then no answer within the timeout.
    NoAnswer,
    /// Nothing recognisable within the timeout.
    NoResponse,
    /// Answered, but no fax tone followed.
    NoFaxAnswer,
    NoDialTone,
    /// The far end dropped the line (ONHOOK) before answering.
    Dropped,
}

impl Verdict {
    /// The Q.850 cause (docs/reference/q850-causes.md).
    pub fn q850(self) -> u8 {
        match self {
            Verdict::FaxAnswer | Verdict::NoFaxAnswer => 16,
            Verdict::Busy => 17,
            Verdict::Congestion => 34,
            Verdict::Sit => 1,
            Verdict::NoAnswer => 19,
            Verdict::NoResponse => 18,
            Verdict::NoDialTone | Verdict::Dropped => 41,
        }
    }

    /// In words.
    pub fn reason(self) -> &'static str {
        match self {
            Verdict::FaxAnswer => "fax answer",
            Verdict::Busy => "busy tone",
            Verdict::Congestion => "congestion (reorder) tone",
            Verdict::Sit => "special information tone",
            Verdict::NoAnswer => "ringback, no answer",
            Verdict::NoResponse => "no response (no ringback, no answer)",
            Verdict::NoFaxAnswer => "answered, but no fax tone (voice?): no fax answer",
            Verdict::NoDialTone => "no dial tone",
            Verdict::Dropped => "the far end dropped the line before answering",
        }
    }
}

const SAMPLES_PER_MS: u64 = 8;

/// Call-progress monitor for the time between the last digit and the answer: call-progress
/// tones, fax tones and "something else" (voice) on 20 ms blocks. Sans-IO: feed it blocks.
pub struct ProgressMonitor {
    progress: ProgressDetector,
    fax: FaxToneDetector,
    pevents: Vec<ProgressEvent>,
    fevents: Vec<FaxToneEvent>,
    samples: u64,
    ringback_seen: bool,
    /// The last 50 blocks: was each "other sound"?
    other: VecDeque<bool>,
    voice_at: Option<u64>,
    v21_run: u32,
    answer_timeout: u64,
    fax_wait: u64,
    quiet: f32,
}

/// Share of a block's power at `freqs` (Goertzel, 0..1 for tones at those frequencies).
fn share(block: &[i16], energy: f32, freqs: &[f32]) -> f32 {
    let n = block.len() as f32;
    let mut total = 0.0;
    for &f in freqs {
        let w = 2.0 * std::f32::consts::PI * f / 8000.0;
        let c = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &x in block {
            let s0 = x as f32 + c * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let p = s1 * s1 + s2 * s2 - c * s1 * s2;
        total += 2.0 * p / (n * n * energy.max(1e-9));
    }
    total
}

const PROGRESS_FREQS: [f32; 8] = [350.0, 400.0, 425.0, 440.0, 450.0, 480.0, 620.0, 1100.0];

impl ProgressMonitor {
    pub fn new(cfg: &FxoConfig) -> Result<ProgressMonitor, LineError> {
        let rms = softfax_dsp::modem::dbm0_to_rms(-40.0);
        Ok(ProgressMonitor {
            progress: ProgressDetector::new(&cfg.plans)
                .map_err(|e| LineError::Wav(format!("tone plan: {e}")))?,
            fax: FaxToneDetector::new(),
            pevents: Vec::new(),
            fevents: Vec::new(),
            samples: 0,
            ringback_seen: false,
            other: VecDeque::with_capacity(50),
            voice_at: None,
            v21_run: 0,
            answer_timeout: cfg.answer_timeout.as_millis() as u64 * SAMPLES_PER_MS,
            fax_wait: cfg.fax_wait.as_millis() as u64 * SAMPLES_PER_MS,
            quiet: rms * rms,
        })
    }

    /// True once ringback has been recognised.
    pub fn ringback_seen(&self) -> bool {
        self.ringback_seen
    }

    /// Feed one 20 ms block; a verdict ends the call-progress phase.
    pub fn feed(&mut self, block: &[i16]) -> Option<Verdict> {
        self.samples += block.len() as u64;
        self.pevents.clear();
        self.fevents.clear();
        self.progress.process(block, &mut self.pevents);
        self.fax.process(block, &mut self.fevents);
        for e in &self.fevents {
            if let FaxToneEvent::Start {
                tone: FaxTone::Ced, ..
            } = e
            {
                return Some(Verdict::FaxAnswer);
            }
        }
        for e in &self.pevents {
            match e.tone {
                CallProgress::Busy => return Some(Verdict::Busy),
                CallProgress::Congestion => return Some(Verdict::Congestion),
                CallProgress::Sit => return Some(Verdict::Sit),
                CallProgress::Ringback => self.ringback_seen = true,
                _ => {}
            }
        }
        let energy =
            block.iter().map(|&x| (x as f32) * (x as f32)).sum::<f32>() / block.len().max(1) as f32;
        let loud = energy > self.quiet;
        // V.21 channel 2 (the answerer's DIS): flags at 1650/1850 Hz.
        if loud && share(block, energy, &[1650.0, 1850.0]) > 0.6 {
            self.v21_run += 1;
            if self.v21_run >= 15 {
                return Some(Verdict::FaxAnswer);
            }
        } else {
            self.v21_run = 0;
        }
        let tonal =
            share(block, energy, &PROGRESS_FREQS) + share(block, energy, &[2100.0, 1650.0, 1850.0]);
        let is_other = loud && tonal < 0.5;
        if self.other.len() == 50 {
            self.other.pop_front();
        }
        self.other.push_back(is_other);
        if self.voice_at.is_none() && self.other.iter().filter(|&&o| o).count() >= 25 {
            tracing::info!(t = self.samples / 8, "voice answer (ms)");
            self.voice_at = Some(self.samples);
        }
        if let Some(at) = self.voice_at {
            if self.samples - at > self.fax_wait {
                return Some(Verdict::NoFaxAnswer);
            }
        } else if self.samples > self.answer_timeout {
            return Some(if self.ringback_seen {
                Verdict::NoAnswer
            } else {
                Verdict::NoResponse
            });
        }
        None
    }
}

/// An FXO port line.
pub struct FxoLine {
    chan: Channel,
    cfg: FxoConfig,
    law: Law,
    /// Span status at open and after the call.
    span_before: SpanHealth,
    span_after: Option<SpanHealth>,
    offhook: bool,
    ended: bool,
    cause: Option<u8>,
    txbuf: Vec<u8>,
    rxbuf: Vec<u8>,
}

impl FxoLine {
    /// Open and prepare a channel for a fax call (docs/reference/dahdi.md, analog FXO port):
    /// check the signalling, read the span status, block size 160, echo canceller off, unity gains,
    /// buffer events on, flush.
    pub fn open(root: &Path, spec: &ChannelSpec, cfg: FxoConfig) -> Result<FxoLine, LineError> {
        let chan = Channel::open(root, spec).map_err(LineError::from)?;
        FxoLine::from_channel(chan, cfg)
    }

    /// As [`FxoLine::open`], on a channel already open.
    pub fn from_channel(mut chan: Channel, cfg: FxoConfig) -> Result<FxoLine, LineError> {
        let p = *chan.params();
        if !matches!(
            p.sigtype,
            sys::DAHDI_SIG_FXSKS | sys::DAHDI_SIG_FXSLS | sys::DAHDI_SIG_FXSGS
        ) {
            return Err(DahdiError::WrongSignalling {
                what: chan.what().to_string(),
                sigtype: p.sigtype,
                expected: "FXS signalling (an FXO port: fxsks/fxsls in system.conf)",
            }
            .into());
        }
        let before = chan.span_health().map_err(LineError::from)?;
        tracing::info!("{}: {}", chan.what(), before.status());
        if before.syncsrc == 0 && before.spantype != "FXO" && !before.spantype.is_empty() {
            tracing::warn!("{}: span is free-running: expect slips", chan.what());
        }
        let law = if p.curlaw == sys::DAHDI_LAW_ALAW {
            Law::Alaw
        } else {
            Law::Ulaw
        };
        chan.set_blocksize(BLOCK).map_err(LineError::from)?;
        if cfg.linear {
            chan.set_linear(true).map_err(LineError::from)?;
        }
        let rx_bytes = if cfg.linear { 2 * BLOCK } else { BLOCK };
        chan.echo_canceller_off().map_err(LineError::from)?;
        chan.unity_gains().map_err(LineError::from)?;
        chan.buffer_events(true).map_err(LineError::from)?;
        chan.flush(sys::DAHDI_FLUSH_ALL).map_err(LineError::from)?;
        let line = FxoLine {
            chan,
            cfg,
            law,
            span_before: before,
            span_after: None,
            offhook: false,
            ended: false,
            cause: None,
            txbuf: Vec::with_capacity(BLOCK),
            rxbuf: vec![0; rx_bytes],
        };
        Ok(line)
    }

    /// The open channel (for tests and logs).
    pub fn channel(&self) -> &Channel {
        &self.chan
    }

    fn line_down(&self) -> Option<LineError> {
        let p = self.chan.params();
        if p.chan_alarms != 0 {
            return Some(LineError::LineDown(format!(
                "{}: channel in alarm {:#x} (no battery on the line?)",
                self.chan.what(),
                p.chan_alarms
            )));
        }
        let s = &self.span_before;
        if s.in_alarm() {
            return Some(LineError::LineDown(format!(
                "{}: span {} in {} alarm",
                self.chan.what(),
                s.spanno,
                s.alarm_names()
            )));
        }
        None
    }

    /// One lock-step block: write `tx`, read into `rx`. Returns the events seen.
    fn step(&mut self, tx: &[i16], rx: &mut [i16; BLOCK]) -> Result<Vec<Event>, LineError> {
        self.txbuf.clear();
        if self.cfg.linear {
            // Native-endian s16; the block size counts samples (docs/reference/dahdi.md).
            self.txbuf.extend(tx.iter().flat_map(|s| s.to_ne_bytes()));
            self.txbuf.resize(2 * BLOCK, 0);
        } else {
            self.law.encode(tx, &mut self.txbuf);
            self.txbuf.resize(BLOCK, self.law.silence());
        }
        self.chan
            .write_all(&self.txbuf, self.cfg.io_timeout)
            .map_err(LineError::from)?;
        self.chan
            .read_block(&mut self.rxbuf, self.cfg.io_timeout, false)
            .map_err(LineError::from)?;
        if self.cfg.linear {
            for (o, b) in rx.iter_mut().zip(self.rxbuf.chunks_exact(2)) {
                *o = i16::from_ne_bytes([b[0], b[1]]);
            }
        } else {
            for (o, &c) in rx.iter_mut().zip(&self.rxbuf) {
                *o = self.law.decode_sample(c);
            }
        }
        Ok(self.chan.take_events())
    }

    fn fail(&mut self, v: Verdict) -> LineError {
        self.cause = Some(v.q850());
        let _ = self.hangup_inner();
        LineError::CallFailed {
            cause: v.q850(),
            reason: v.reason().to_string(),
        }
    }

    /// Place a call (see the [module](self) documentation). `Ok` once a fax machine answered.
    pub fn dial_number(&mut self, number: &str) -> Result<(), LineError> {
        let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.is_empty()
            || digits
                .chars()
                .any(|c| softfax_dsp::tones::dtmf::frequencies(c).is_none())
        {
            self.cause = Some(28);
            return Err(LineError::CallFailed {
                cause: 28,
                reason: format!("'{number}' is not a DTMF dial string"),
            });
        }
        if let Some(e) = self.line_down() {
            self.cause = Some(38);
            return Err(e);
        }
        self.chan
            .hook(sys::DAHDI_OFFHOOK)
            .map_err(LineError::from)?;
        self.offhook = true;
        let silence = [0i16; BLOCK];
        let mut rx = [0i16; BLOCK];
        if self.cfg.wait_dialtone {
            let mut det = ProgressDetector::new(&self.cfg.plans)
                .map_err(|e| LineError::Wav(format!("tone plan: {e}")))?;
            let mut ev = Vec::new();
            let blocks = self.cfg.dialtone_timeout.as_millis() as usize / 20;
            let mut heard = false;
            for _ in 0..blocks {
                let events = self.step(&silence, &mut rx)?;
                if let Some(e) = self.check_events(&events, false) {
                    return Err(e);
                }
                det.process(&rx, &mut ev);
                if ev.iter().any(|e| e.tone == CallProgress::DialTone) {
                    heard = true;
                    break;
                }
                ev.clear();
            }
            if !heard {
                return Err(self.fail(Verdict::NoDialTone));
            }
            tracing::info!("{}: dial tone", self.chan.what());
        }
        let mut dtmf = DtmfSender::default()
            .generator(&digits)
            .map_err(|e| LineError::Wav(format!("DTMF: {e}")))?;
        let mut tx = [0i16; BLOCK];
        while !dtmf.is_done() {
            tx.fill(0);
            dtmf.generate(&mut tx);
            let events = self.step(&tx, &mut rx)?;
            if let Some(e) = self.check_events(&events, false) {
                return Err(e);
            }
        }
        tracing::info!("{}: dialled {digits}", self.chan.what());
        let mut mon = ProgressMonitor::new(&self.cfg)?;
        loop {
            let events = self.step(&silence, &mut rx)?;
            if events.contains(&Event::OnHook) {
                return Err(self.fail(Verdict::Dropped));
            }
            if let Some(e) = self.check_events(&events, false) {
                return Err(e);
            }
            match mon.feed(&rx) {
                None => {}
                Some(Verdict::FaxAnswer) => {
                    tracing::info!("{}: fax answer", self.chan.what());
                    return Ok(());
                }
                Some(v) => {
                    tracing::info!("{}: {}", self.chan.what(), v.reason());
                    return Err(self.fail(v));
                }
            }
        }
    }

    /// Wait for an incoming call and answer it after `rings` rings.
    pub fn answer_call(&mut self) -> Result<(), LineError> {
        if let Some(e) = self.line_down() {
            self.cause = Some(38);
            return Err(e);
        }
        let silence = [0i16; BLOCK];
        let mut rx = [0i16; BLOCK];
        let mut rings = 0;
        let blocks = self.cfg.ring_timeout.as_millis() as usize / 20;
        for _ in 0..blocks {
            let events = self.step(&silence, &mut rx)?;
            if let Some(e) = self.check_events(&events, false) {
                return Err(e);
            }
            rings += events.iter().filter(|e| **e == Event::RingOffHook).count() as u32;
            if rings >= self.cfg.rings {
                self.chan
                    .hook(sys::DAHDI_OFFHOOK)
                    .map_err(LineError::from)?;
                self.offhook = true;
                tracing::info!("{}: answered after {rings} rings", self.chan.what());
                return Ok(());
            }
        }
        Err(LineError::CallFailed {
            cause: 0,
            reason: format!("no incoming call within {:?}", self.cfg.ring_timeout),
        })
    }

    /// ALARM → line down; REMOVED → error. ONHOOK only matters when `connected`.
    fn check_events(&mut self, events: &[Event], _connected: bool) -> Option<LineError> {
        for e in events {
            match e {
                Event::Alarm => {
                    self.cause = Some(38);
                    let _ = self.hangup_inner();
                    return Some(LineError::LineDown(format!(
                        "{}: the span went into alarm",
                        self.chan.what()
                    )));
                }
                Event::Removed => {
                    return Some(DahdiError::Removed(self.chan.what().to_string()).into());
                }
                Event::ReadOverrun | Event::WriteUnderrun => {
                    tracing::warn!("{}: {e:?} (audio lost)", self.chan.what());
                }
                _ => {}
            }
        }
        None
    }

    fn hangup_inner(&mut self) -> Result<(), LineError> {
        if self.offhook {
            self.offhook = false;
            self.chan.hook(sys::DAHDI_ONHOOK).map_err(LineError::from)?;
        }
        if self.span_after.is_none() {
            self.span_after = self.chan.span_health().ok();
            tracing::info!("{}: {}", self.chan.what(), self.report());
        }
        self.ended = true;
        Ok(())
    }

    /// Span health before and after the call.
    fn report(&self) -> SpanReport {
        SpanReport {
            before: Some(self.span_before.status()),
            after: self.span_after.as_ref().map(SpanHealth::status),
        }
    }

    /// The span status read at open.
    pub fn span_before(&self) -> &SpanHealth {
        &self.span_before
    }
}

impl crate::Line for FxoLine {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        if self.ended {
            rx.fill(0);
            return Ok(false);
        }
        let events = self.step(tx, rx)?;
        if let Some(e) = self.check_events(&events, true) {
            return Err(e);
        }
        if events.contains(&Event::OnHook) {
            // Battery drop: the far end has hung up.
            tracing::info!("{}: far end hung up (ONHOOK)", self.chan.what());
            self.cause.get_or_insert(16);
            self.hangup_inner()?;
            rx.fill(0);
            return Ok(false);
        }
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        self.hangup_inner()
    }

    fn q850_cause(&self) -> Option<u8> {
        self.cause.or(Some(16))
    }

    fn dial(&mut self, number: &str) -> Result<(), LineError> {
        self.dial_number(number)
    }

    fn answer(&mut self) -> Result<(), LineError> {
        self.answer_call()
    }

    fn span_report(&self) -> Option<SpanReport> {
        Some(self.report())
    }
}

impl Drop for FxoLine {
    fn drop(&mut self) {
        let _ = self.hangup_inner();
    }
}

/// Parse `N[?key=value&…]` or `/dev/…[?…]` into a channel and settings.
pub fn parse_uri(rest: &str) -> Result<(std::path::PathBuf, ChannelSpec, FxoConfig), String> {
    let (chan, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut root = super::default_root();
    let mut cfg = FxoConfig::default();
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or(format!("'{kv}': expected key=value"))?;
        let secs = || {
            v.parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| format!("{k}={v}: expected seconds"))
        };
        match k {
            "root" => root = v.into(),
            "dialtone" => cfg.wait_dialtone = v != "0",
            "answer" => cfg.answer_timeout = secs()?,
            "wait" => cfg.ring_timeout = secs()?,
            "faxwait" => cfg.fax_wait = secs()?,
            "dchan" => {
                cfg.dchan = Some(
                    v.parse()
                        .map_err(|_| format!("dchan={v}: expected a channel number"))?,
                )
            }
            "calling" => cfg.calling = Some(v.into()),
            "linear" => cfg.linear = v != "0",
            "rings" => {
                cfg.rings = v
                    .parse()
                    .map_err(|_| format!("rings={v}: expected a number"))?
            }
            "zone" => {
                use softfax_dsp::tones::progress::{CEPT, NORTH_AMERICA, UK};
                cfg.plans = match v {
                    "us" | "ca" | "na" => vec![NORTH_AMERICA],
                    "uk" | "gb" => vec![UK, CEPT],
                    "cept" | "de" | "fr" | "nl" | "ch" | "at" | "it" | "es" | "be" | "se"
                    | "no" | "pl" => vec![CEPT],
                    _ => return Err(format!("zone={v}: known zones are us, uk, cept")),
                }
            }
            _ => {
                return Err(format!(
                    "unknown key '{k}' (root, dialtone, answer, wait, faxwait, rings, zone, dchan, calling, linear)"
                ));
            }
        }
    }
    let spec = if chan.starts_with('/') {
        ChannelSpec::Path(chan.into())
    } else {
        let n: u32 = chan
            .parse()
            .map_err(|_| format!("'{chan}': expected a channel number or a /dev/dahdi/… path"))?;
        if n == 0 || n > 1024 {
            return Err(format!("channel {n}: DAHDI channels are 1..=1024"));
        }
        ChannelSpec::Number(n)
    };
    Ok((root, spec, cfg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use softfax_dsp::tones::progress::{CEPT, NORTH_AMERICA};

    fn run(mon: &mut ProgressMonitor, audio: &[i16]) -> Option<(Verdict, usize)> {
        for (i, b) in audio.chunks(BLOCK).enumerate() {
            if let Some(v) = mon.feed(b) {
                return Some((v, i * 20));
            }
        }
        None
    }

    fn play(plan: &TonePlan, kind: CallProgress, secs: usize) -> Vec<i16> {
        let t = plan.tones.iter().find(|t| t.kind == kind).unwrap();
        t.generator(-20.0).unwrap().take(secs * 8000)
    }

    #[test]
    fn busy_congestion_and_ringback_give_their_causes() {
        for plan in [NORTH_AMERICA, CEPT] {
            let cfg = FxoConfig {
                answer_timeout: Duration::from_secs(30),
                ..FxoConfig::default()
            };
            let mut m = ProgressMonitor::new(&cfg).unwrap();
            let (v, _) = run(&mut m, &play(&plan, CallProgress::Busy, 10)).unwrap();
            assert_eq!((v, v.q850()), (Verdict::Busy, 17), "{}", plan.name);
            let mut m = ProgressMonitor::new(&cfg).unwrap();
            let (v, _) = run(&mut m, &play(&plan, CallProgress::Congestion, 10)).unwrap();
            assert_eq!((v, v.q850()), (Verdict::Congestion, 34), "{}", plan.name);
            let mut m = ProgressMonitor::new(&cfg).unwrap();
            let (v, at) = run(&mut m, &play(&plan, CallProgress::Ringback, 40)).unwrap();
            assert_eq!((v, v.q850()), (Verdict::NoAnswer, 19), "{}", plan.name);
            assert!(at >= 30_000);
            let mut m = ProgressMonitor::new(&cfg).unwrap();
            let (v, _) = run(&mut m, &vec![0; 40 * 8000]).unwrap();
            assert_eq!((v, v.q850()), (Verdict::NoResponse, 18));
        }
    }

    #[test]
    fn ced_is_a_fax_answer_and_voice_without_fax_is_not() {
        let cfg = FxoConfig::default();
        let mut audio = play(&NORTH_AMERICA, CallProgress::Ringback, 6);
        audio.extend(FaxTone::Ced.generator(-15.0).unwrap().take(3 * 8000));
        let mut m = ProgressMonitor::new(&cfg).unwrap();
        let (v, at) = run(&mut m, &audio).unwrap();
        assert_eq!(v, Verdict::FaxAnswer);
        assert!(at > 6000, "{at}");
        // "Voice": a wandering multi-harmonic signal with syllable-like bursts.
        let mut audio = play(&NORTH_AMERICA, CallProgress::Ringback, 6);
        audio.extend(voice(20 * 8000));
        let mut m = ProgressMonitor::new(&cfg).unwrap();
        let (v, at) = run(&mut m, &audio).unwrap();
        assert_eq!((v, v.q850()), (Verdict::NoFaxAnswer, 16));
        assert!((15_000..18_000).contains(&at), "{at}");
    }

    /// Speech-like test signal: a 120–180 Hz buzz with harmonics, bursts of 200 ms.
    pub fn voice(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let f0 = 150.0 + 30.0 * (t * 1.3).sin();
                let env = if (i / 1600) % 3 == 2 { 0.1 } else { 1.0 };
                let mut s = 0.0;
                for h in 1..12 {
                    s += (2.0 * std::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32;
                }
                (s * 2500.0 * env) as i16
            })
            .collect()
    }

    #[test]
    fn uris() {
        let (root, spec, cfg) = parse_uri("5?root=/tmp/x&rings=3&dialtone=0&zone=cept").unwrap();
        assert_eq!(root, Path::new("/tmp/x"));
        assert_eq!(spec, ChannelSpec::Number(5));
        assert_eq!(cfg.rings, 3);
        assert!(!cfg.wait_dialtone);
        assert_eq!(cfg.plans.len(), 1);
        let (_, spec, _) = parse_uri("/dev/dahdi/chan/001/002").unwrap();
        assert_eq!(spec, ChannelSpec::Path("/dev/dahdi/chan/001/002".into()));
        assert!(parse_uri("0").is_err());
        assert!(parse_uri("x").is_err());
        assert!(parse_uri("1?bogus=1").is_err());
    }
}
