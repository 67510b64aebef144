//! Call progress tones: dial tone, ringback (audible ringing), busy, congestion (reorder) and
//! the special information tone (SIT), as North America (the precise tone plan, ±0.5 %;
//! the Telcordia SIT), CEPT countries (425 Hz, ETSI TR 101 041 and ITU-T E.180 Supplement 2)
//! and the UK (BT's 350+450 Hz dial tone and 400+450 Hz double ring) send them.
//!
//! **What it does.** [`ProgressTone::generator`] and [`sit_generator`] play the tones.
//! [`ProgressDetector`] reports a [`CallProgress`] once it is sure:
//!
//! - a continuous tone (dial tone) after 1 s, or 1.5 × the longest burst of any cadenced tone
//!   on the same frequencies (CEPT: 1.5 s, since CEPT ringback is 1 s of the same 425 Hz);
//! - a cadenced tone once two whole periods have been seen: on, off, on and the second off
//!   for at least its minimum (busy ≈ 1.9 s, congestion ≈ 0.95 s, NA ringback ≈ 11.3 s,
//!   CEPT ringback ≈ 9.3 s, UK ringback ≈ 5.6 s after the tone starts);
//! - SIT once its three segments have sounded in rising order (about 1 s);
//! - silence after 5 s with nothing above −55 dBm0 (longer than any ringback pause).
//!
//! Each is reported once; it is reported again only after something else was recognised or
//! the cadence broke.
//!
//! **How it works.** Frames of 320 samples (40 ms, so 25 Hz resolution) every 160 samples
//! (20 ms), Hann-windowed. Goertzel bins sit on every frequency of the tone plans and of SIT.
//! Each frame is classified as one of the plans' frequency sets (a *signature*: 350+440,
//! 440+480, 480+620, 425, 350+450, 400+450, or one SIT frequency) or as *off*. A signature
//! matches when its bins hold at least 70 % of the frame's power, each of its frequencies is
//! above −48 dBm0 and within 10 dB of the other; among several matches the one already
//! sounding is kept, otherwise the strongest wins. A change of class needs two frames in a
//! row, so a one-frame glitch does not cut a burst. The resulting on/off segments are
//! matched against each cadence with a tolerance of ±(15 % + 60 ms), enough for the smearing
//! of a 40 ms frame and far from confusing busy (0.5 s) with congestion (0.25 s).
//!
//! **Not supported:** the E.180 SIT (950/1400/1800 Hz); other countries' plans (build a
//! [`TonePlan`]); tones of three or more frequencies; cadences of more than 8 segments.
//!
//! **Tested by:** the unit tests below.

use super::analysis::{Analyser, coefficient};
use super::{SAMPLE_RATE, Segment, Tone, ToneError, ToneGenerator, dbm0_to_power};

/// What the line is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallProgress {
    /// The exchange is ready for digits.
    DialTone,
    /// The far end is ringing (audible ringing tone).
    Ringback,
    /// The called line is busy.
    Busy,
    /// The network is congested (North America: reorder; also "fast busy").
    Congestion,
    /// Special information tone: an announcement follows (number unobtainable, …).
    Sit,
    /// Nothing on the line.
    Silence,
}

impl std::fmt::Display for CallProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CallProgress::DialTone => "dial tone",
            CallProgress::Ringback => "ringback",
            CallProgress::Busy => "busy",
            CallProgress::Congestion => "congestion",
            CallProgress::Sit => "special information tone",
            CallProgress::Silence => "silence",
        })
    }
}

/// One call progress tone of a plan: frequencies sounding together and the cadence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressTone {
    pub kind: CallProgress,
    /// What the plan calls it.
    pub name: &'static str,
    /// One or two frequencies, Hz.
    pub freqs: &'static [f32],
    /// One period: on, off, on, off, … in ms (an even number, at most 8). Empty: continuous.
    pub cadence_ms: &'static [u32],
}

impl ProgressTone {
    /// A generator playing this tone forever, each frequency at `dbm0`.
    pub fn generator(&self, dbm0: f32) -> Result<ToneGenerator, ToneError> {
        let tones: [Option<Tone>; 2] = match self.freqs {
            [a] => [Some(Tone { hz: *a, dbm0 }), None],
            [a, b] => [Some(Tone { hz: *a, dbm0 }), Some(Tone { hz: *b, dbm0 })],
            _ => return Err(self.bad("", "needs one or two frequencies")),
        };
        let on = |ms: u32| Segment {
            tones,
            samples: super::ms_to_samples(ms),
        };
        let segments = if self.cadence_ms.is_empty() {
            // Whole seconds: the integer frequencies of the plans restart in phase.
            vec![on(1000)]
        } else {
            self.cadence_ms
                .iter()
                .enumerate()
                .map(|(i, &ms)| {
                    if i.is_multiple_of(2) {
                        on(ms)
                    } else {
                        Segment::silence(ms)
                    }
                })
                .collect()
        };
        ToneGenerator::new(segments, true)
    }

    fn bad(&self, plan: &'static str, reason: &'static str) -> ToneError {
        ToneError::BadPlan {
            plan,
            tone: self.name,
            reason,
        }
    }
}

/// The call progress tones of a country or region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TonePlan {
    pub name: &'static str,
    pub tones: &'static [ProgressTone],
}

/// North America, the precise tone plan.
pub const NORTH_AMERICA: TonePlan = TonePlan {
    name: "North America",
    tones: &[
        ProgressTone {
            kind: CallProgress::DialTone,
            name: "NA dial tone",
            freqs: &[350.0, 440.0],
            cadence_ms: &[],
        },
        ProgressTone {
            kind: CallProgress::Ringback,
            name: "NA audible ringing",
            freqs: &[440.0, 480.0],
            cadence_ms: &[2000, 4000],
        },
        ProgressTone {
            kind: CallProgress::Busy,
            name: "NA busy",
            freqs: &[480.0, 620.0],
            cadence_ms: &[500, 500],
        },
        ProgressTone {
            kind: CallProgress::Congestion,
            name: "NA reorder",
            freqs: &[480.0, 620.0],
            cadence_ms: &[250, 250],
        },
    ],
};

/// CEPT countries: 425 Hz throughout (ETSI TR 101 041, E.180 Supplement 2).
pub const CEPT: TonePlan = TonePlan {
    name: "CEPT",
    tones: &[
        ProgressTone {
            kind: CallProgress::DialTone,
            name: "CEPT dial tone",
            freqs: &[425.0],
            cadence_ms: &[],
        },
        ProgressTone {
            kind: CallProgress::Ringback,
            name: "CEPT ringing tone",
            freqs: &[425.0],
            cadence_ms: &[1000, 4000],
        },
        ProgressTone {
            kind: CallProgress::Busy,
            name: "CEPT busy tone",
            freqs: &[425.0],
            cadence_ms: &[500, 500],
        },
        ProgressTone {
            kind: CallProgress::Congestion,
            name: "CEPT congestion tone",
            freqs: &[425.0],
            cadence_ms: &[250, 250],
        },
    ],
};

/// The UK (BT): dial tone and the double ring.
pub const UK: TonePlan = TonePlan {
    name: "UK",
    tones: &[
        ProgressTone {
            kind: CallProgress::DialTone,
            name: "UK dial tone",
            freqs: &[350.0, 450.0],
            cadence_ms: &[],
        },
        ProgressTone {
            kind: CallProgress::Ringback,
            name: "UK ringing tone",
            freqs: &[400.0, 450.0],
            cadence_ms: &[400, 200, 400, 2000],
        },
    ],
};

/// Every built-in plan.
pub const ALL_PLANS: [TonePlan; 3] = [NORTH_AMERICA, CEPT, UK];

/// SIT first segment: 913.8 Hz (low) or 985.2 Hz (high).
pub const SIT_FIRST: [f32; 2] = [913.8, 985.2];
/// SIT second segment: 1370.6 Hz (low) or 1428.5 Hz (high).
pub const SIT_SECOND: [f32; 2] = [1370.6, 1428.5];
/// SIT third segment: 1776.7 Hz.
pub const SIT_THIRD: f32 = 1776.7;

/// The SIT 913.8 / 1370.6 / 1776.7 Hz for 274 / 274 / 380 ms (intercept), played once.
pub fn sit_generator(dbm0: f32) -> Result<ToneGenerator, ToneError> {
    sit_generator_with(SIT_FIRST[0], SIT_SECOND[0], [274, 274, 380], dbm0)
}

/// A SIT with the given first and second frequencies and segment durations, played once.
/// The combinations encode the reason: intercept 913.8/1370.6 Hz for 274/274 ms, vacant
/// code 985.2/1370.6 Hz for 380/274 ms, reorder 913.8/1428.5 Hz for 274/380 ms, no circuit
/// 985.2/1428.5 Hz for 380/380 ms; the third segment is 1776.7 Hz for 380 ms.
pub fn sit_generator_with(
    first_hz: f32,
    second_hz: f32,
    durations_ms: [u32; 3],
    dbm0: f32,
) -> Result<ToneGenerator, ToneError> {
    let segments = [first_hz, second_hz, SIT_THIRD]
        .into_iter()
        .zip(durations_ms)
        .map(|(hz, ms)| Segment::tone(hz, dbm0, ms))
        .collect();
    ToneGenerator::new(segments, false)
}

/// What the [`ProgressDetector`] reports: `tone` recognised at sample index `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressEvent {
    pub tone: CallProgress,
    pub at: u64,
}

const FRAME: usize = 320;
const HOP: usize = 160;
const FRAME_MS: u32 = (HOP as u32 * 1000) / SAMPLE_RATE;
/// Share of the frame's power a signature must hold.
const SHARE: f32 = 0.70;
/// Weakest frequency detected, dBm0.
const MIN_LEVEL_DBM0: f32 = -48.0;
/// Below this a frame is quiet (counts towards silence), dBm0.
const QUIET_DBM0: f32 = -55.0;
/// The weaker frequency of a pair must be within 10 dB of the stronger.
const BALANCE: f32 = 0.1;
/// Continuous tones are recognised after this long, or 1.5 × the longest burst of a
/// cadenced tone on the same frequencies.
const CONTINUOUS_MS: u32 = 1000;
/// SIT segments must last this long (NA: 274 or 380 ms; E.180: 330 ± 70 ms), ms.
const SIT_MS: (u32, u32) = (160, 480);
/// Gaps allowed between SIT segments, frames.
const SIT_GAP_FRAMES: u32 = 3;
const DEFAULT_SILENCE_MS: u32 = 5000;
/// Completed segments remembered (two periods of the longest cadence).
const HISTORY: usize = 16;
const MAX_CADENCE: usize = 8;
/// Longest segment of a cadence, ms.
const MAX_SEGMENT_MS: u32 = 60_000;
/// Most tones of all plans together (a bit each in [`Seg::tried`]).
const MAX_TONES: usize = 32;

/// What a frame, or a segment of frames, sounds like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Off,
    Sig(u8),
}

/// A run of frames of one class.
#[derive(Debug, Clone, Copy)]
struct Seg {
    class: Class,
    frames: u32,
    /// Cadenced patterns (bit per pattern) already tried with this segment open.
    tried: u32,
}

impl Seg {
    const EMPTY: Seg = Seg {
        class: Class::Off,
        frames: 0,
        tried: 0,
    };

    fn ms(&self) -> u32 {
        self.frames.saturating_mul(FRAME_MS)
    }
}

/// A set of frequencies sounding together.
#[derive(Debug, Clone)]
struct Signature {
    freqs: Vec<f32>,
    /// Indices into the bins.
    bins: Vec<usize>,
    /// 0, 1, 2 for the SIT segments.
    sit_stage: Option<u8>,
}

/// A tone of a plan, by signature.
#[derive(Debug, Clone)]
struct Pattern {
    kind: CallProgress,
    sig: u8,
    cadence: &'static [u32],
    /// For continuous tones: frames before recognising.
    continuous_frames: u32,
}

fn tolerance(nominal_ms: u32) -> u32 {
    nominal_ms * 15 / 100 + 60
}

/// The measured duration fits the nominal one.
fn fits(ms: u32, nominal_ms: u32) -> bool {
    ms.abs_diff(nominal_ms) <= tolerance(nominal_ms)
}

/// The measured duration, still growing, has reached the least the nominal one allows.
fn reaches(ms: u32, nominal_ms: u32) -> bool {
    ms.saturating_add(tolerance(nominal_ms)) >= nominal_ms
}

/// Recognises call progress tones by their frequencies and cadence (see the
/// [module](self) documentation).
#[derive(Debug, Clone)]
pub struct ProgressDetector {
    analyser: Analyser<FRAME, HOP>,
    coeffs: Vec<f32>,
    powers: Vec<f32>,
    signatures: Vec<Signature>,
    patterns: Vec<Pattern>,
    history: [Seg; HISTORY],
    completed: usize,
    current: Seg,
    /// A frame of another class than `current`, waiting for a second one.
    deviant: Option<Class>,
    quiet_frames: u32,
    silence_frames: u32,
    recognised: Option<CallProgress>,
    min_power: f32,
    quiet_power: f32,
}

impl Default for ProgressDetector {
    /// A detector for every built-in plan.
    fn default() -> Self {
        Self::build(&ALL_PLANS)
    }
}

impl ProgressDetector {
    /// A detector for the tones of `plans` (and SIT). Fails on a tone with no or more than
    /// two frequencies, a frequency outside 0–4000 Hz, a cadence that is odd, longer than 8
    /// or has a duration of 0 or over 60 s, or more than 32 tones in all.
    pub fn new(plans: &[TonePlan]) -> Result<ProgressDetector, ToneError> {
        for plan in plans {
            for tone in plan.tones {
                if !(1..=2).contains(&tone.freqs.len()) {
                    return Err(tone.bad(plan.name, "needs one or two frequencies"));
                }
                if tone.freqs.iter().any(|&f| !(f > 0.0 && f < 4000.0)) {
                    return Err(tone.bad(plan.name, "frequency outside 0-4000 Hz"));
                }
                let c = tone.cadence_ms;
                if !c.len().is_multiple_of(2)
                    || c.len() > MAX_CADENCE
                    || c.iter().any(|&ms| ms == 0 || ms > MAX_SEGMENT_MS)
                {
                    return Err(tone.bad(
                        plan.name,
                        "cadence must be on/off pairs, at most 8 entries of 1 ms to 60 s",
                    ));
                }
            }
        }
        if plans.iter().map(|p| p.tones.len()).sum::<usize>() > MAX_TONES {
            return Err(ToneError::BadPlan {
                plan: plans.first().map_or("", |p| p.name),
                tone: "",
                reason: "more than 32 tones in all",
            });
        }
        Ok(Self::build(plans))
    }

    fn build(plans: &[TonePlan]) -> ProgressDetector {
        let mut bins: Vec<f32> = Vec::new();
        let mut signatures: Vec<Signature> = Vec::new();
        let mut signature = |freqs: &[f32], sit_stage: Option<u8>| -> u8 {
            let mut freqs = freqs.to_vec();
            freqs.sort_by(f32::total_cmp);
            if let Some(i) = signatures
                .iter()
                .position(|s| s.freqs == freqs && s.sit_stage == sit_stage)
            {
                return i as u8;
            }
            let idx = freqs
                .iter()
                .map(|&f| match bins.iter().position(|&b| b == f) {
                    Some(i) => i,
                    None => {
                        bins.push(f);
                        bins.len() - 1
                    }
                })
                .collect();
            signatures.push(Signature {
                freqs,
                bins: idx,
                sit_stage,
            });
            (signatures.len() - 1) as u8
        };
        let mut patterns: Vec<Pattern> = Vec::new();
        for tone in plans.iter().flat_map(|p| p.tones) {
            let sig = signature(tone.freqs, None);
            patterns.push(Pattern {
                kind: tone.kind,
                sig,
                cadence: tone.cadence_ms,
                continuous_frames: 0,
            });
        }
        for (stage, freqs) in [&SIT_FIRST[..], &SIT_SECOND[..], &[SIT_THIRD][..]]
            .into_iter()
            .enumerate()
        {
            for &f in freqs {
                signature(&[f], Some(stage as u8));
            }
        }
        // A continuous tone must outlast every burst on its frequencies.
        for i in 0..patterns.len() {
            if patterns[i].cadence.is_empty() {
                let longest_burst = patterns
                    .iter()
                    .filter(|p| p.sig == patterns[i].sig)
                    .flat_map(|p| p.cadence.iter().step_by(2))
                    .max()
                    .map_or(0, |&ms| ms + ms / 2);
                patterns[i].continuous_frames = CONTINUOUS_MS.max(longest_burst) / FRAME_MS;
            }
        }
        ProgressDetector {
            analyser: Analyser::new(true),
            coeffs: bins.iter().map(|&f| coefficient(f)).collect(),
            powers: vec![0.0; bins.len()],
            signatures,
            patterns,
            history: [Seg::EMPTY; HISTORY],
            completed: 0,
            current: Seg::EMPTY,
            deviant: None,
            quiet_frames: 0,
            silence_frames: DEFAULT_SILENCE_MS / FRAME_MS,
            recognised: None,
            min_power: dbm0_to_power(MIN_LEVEL_DBM0),
            quiet_power: dbm0_to_power(QUIET_DBM0),
        }
    }

    /// Report [`CallProgress::Silence`] after `ms` of quiet instead of 5 s.
    pub fn with_silence_ms(mut self, ms: u32) -> ProgressDetector {
        self.silence_frames = (ms / FRAME_MS).max(1);
        self
    }

    /// Samples processed so far.
    pub fn samples_seen(&self) -> u64 {
        self.analyser.now()
    }

    /// What was last recognised, while it lasts.
    pub fn current(&self) -> Option<CallProgress> {
        self.recognised
    }

    /// Process samples, appending what was recognised to `events`.
    pub fn process(&mut self, samples: &[i16], events: &mut Vec<ProgressEvent>) {
        let mut rest = samples;
        while !rest.is_empty() {
            let (used, power) = self.analyser.feed(rest);
            rest = &rest[used..];
            if let Some(power) = power {
                self.frame(power, events);
            }
        }
    }

    fn frame(&mut self, power: f32, events: &mut Vec<ProgressEvent>) {
        let class = self.classify(power);
        self.track(class, events);
        self.check_open(events);
        if power < self.quiet_power {
            self.quiet_frames = self.quiet_frames.saturating_add(1);
            if self.quiet_frames == self.silence_frames {
                self.recognise(CallProgress::Silence, events);
            }
        } else {
            self.quiet_frames = 0;
        }
    }

    fn classify(&mut self, power: f32) -> Class {
        if power < self.min_power {
            return Class::Off;
        }
        self.analyser.tone_powers(&self.coeffs, &mut self.powers);
        let mut best: Option<(u8, f32)> = None;
        for (s, sig) in self.signatures.iter().enumerate() {
            let (mut sum, mut max, mut min) = (0.0f32, 0.0f32, f32::INFINITY);
            for &b in &sig.bins {
                let p = self.powers[b];
                sum += p;
                max = max.max(p);
                min = min.min(p);
            }
            if min < self.min_power || min < BALANCE * max || sum < SHARE * power {
                continue;
            }
            let class = Class::Sig(s as u8);
            if class == self.current.class {
                return class; // keep what is sounding
            }
            if best.is_none_or(|(_, b)| sum > b) {
                best = Some((s as u8, sum));
            }
        }
        best.map_or(Class::Off, |(s, _)| Class::Sig(s))
    }

    /// Extends the current segment, or closes it after two frames of another class.
    fn track(&mut self, class: Class, events: &mut Vec<ProgressEvent>) {
        if class == self.current.class {
            let absorbed = 1 + u32::from(self.deviant.is_some());
            self.current.frames = self.current.frames.saturating_add(absorbed);
            self.deviant = None;
        } else if self.deviant == Some(class) {
            self.deviant = None;
            if self.current.frames > 0 {
                self.history[self.completed % HISTORY] = self.current;
                self.completed += 1;
                self.current = Seg {
                    class,
                    frames: 2,
                    tried: 0,
                };
                self.check_completed(events);
            } else {
                self.current = Seg {
                    class,
                    frames: 2,
                    tried: 0,
                };
            }
        } else {
            if self.deviant.is_some() {
                self.current.frames = self.current.frames.saturating_add(1);
            }
            self.deviant = Some(class);
        }
        // A continuous tone.
        if let Class::Sig(s) = self.current.class
            && let Some(p) = self
                .patterns
                .iter()
                .find(|p| p.sig == s && p.cadence.is_empty())
            && self.current.frames >= p.continuous_frames
        {
            let kind = p.kind;
            self.recognise(kind, events);
        }
    }

    /// The last `n` completed segments, oldest first.
    fn last(&self, n: usize) -> Option<impl Iterator<Item = &Seg>> {
        (n <= self.completed && n <= HISTORY)
            .then(|| (self.completed - n..self.completed).map(|i| &self.history[i % HISTORY]))
    }

    /// A segment has been completed: check every cadence (and SIT) against the segments up
    /// to it.
    fn check_completed(&mut self, events: &mut Vec<ProgressEvent>) {
        let found = self
            .patterns
            .iter()
            .find(|p| !p.cadence.is_empty() && self.matches(p, false))
            .map(|p| p.kind)
            .or_else(|| self.sit_completed().then_some(CallProgress::Sit));
        match found {
            Some(kind) => self.recognise(kind, events),
            None => self.recognised = None,
        }
    }

    /// The current segment is a pause: check the cadences ending with it, each at most
    /// once per segment (so that a pause that outlasts a `Silence` report does not report
    /// the cadence again).
    fn check_open(&mut self, events: &mut Vec<ProgressEvent>) {
        if self.current.class != Class::Off {
            return;
        }
        for i in 0..self.patterns.len().min(MAX_TONES) {
            let p = &self.patterns[i];
            let bit = 1u32 << i;
            if !p.cadence.is_empty() && self.current.tried & bit == 0 && self.matches(p, true) {
                let kind = p.kind;
                self.current.tried |= bit;
                self.recognise(kind, events);
                return;
            }
        }
    }

    /// Two whole periods of `p` end with the last completed segment, or (`open`) with the
    /// current pause, which must have reached its least duration and not passed its most.
    fn matches(&self, p: &Pattern, open: bool) -> bool {
        let len = p.cadence.len();
        let n = 2 * len;
        let closed = if open { n - 1 } else { n };
        let Some(segs) = self.last(closed) else {
            return false;
        };
        let segs: [Seg; 2 * MAX_CADENCE] = {
            let mut a = [Seg::EMPTY; 2 * MAX_CADENCE];
            for (d, s) in a.iter_mut().zip(segs) {
                *d = *s;
            }
            if open {
                a[n - 1] = self.current;
            }
            a
        };
        (0..len).any(|phase| {
            segs[..n].iter().enumerate().all(|(i, s)| {
                let j = (phase + i) % len;
                let expected = if j.is_multiple_of(2) {
                    Class::Sig(p.sig)
                } else {
                    Class::Off
                };
                let nominal = p.cadence[j];
                s.class == expected
                    && if open && i == n - 1 {
                        reaches(s.ms(), nominal) && s.ms() <= nominal + tolerance(nominal)
                    } else {
                        fits(s.ms(), nominal)
                    }
            })
        })
    }

    /// The segments completed last are the three of a SIT in order (short gaps allowed).
    fn sit_completed(&self) -> bool {
        let stage = |s: &Seg| match s.class {
            Class::Sig(i) => self.signatures[i as usize].sit_stage,
            Class::Off => None,
        };
        let sit_ms = |s: &Seg| (SIT_MS.0..=SIT_MS.1).contains(&s.ms());
        let mut want = 2u8;
        let mut back = 0;
        while back < self.completed.min(HISTORY) {
            let s = &self.history[(self.completed - 1 - back) % HISTORY];
            back += 1;
            if s.class == Class::Off && want < 2 && s.frames <= SIT_GAP_FRAMES {
                continue;
            }
            if stage(s) != Some(want) || !sit_ms(s) {
                return false;
            }
            if want == 0 {
                return true;
            }
            want -= 1;
        }
        false
    }

    fn recognise(&mut self, kind: CallProgress, events: &mut Vec<ProgressEvent>) {
        if self.recognised != Some(kind) {
            self.recognised = Some(kind);
            events.push(ProgressEvent {
                tone: kind,
                at: self.analyser.now(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tones::testutil::*;

    fn detect(x: &[i16], seed: u64) -> Vec<ProgressEvent> {
        detect_chunked(
            x,
            seed,
            ProgressDetector::default,
            ProgressDetector::process,
        )
    }

    fn kinds(ev: &[ProgressEvent]) -> Vec<CallProgress> {
        ev.iter().map(|e| e.tone).collect()
    }

    /// When a tone starting at 0 should be recognised, in samples: (earliest, latest).
    fn expected_window(t: &ProgressTone) -> (u64, u64) {
        if t.cadence_ms.is_empty() {
            let ms: u64 = if t.freqs == [425.0] { 1500 } else { 1000 };
            (ms * 8 - 160, ms * 8 + 480)
        } else {
            // During the second period's last pause.
            let period: u32 = t.cadence_ms.iter().sum();
            let last_off = *t.cadence_ms.last().unwrap();
            ((2 * period - last_off) as u64 * 8, 2 * period as u64 * 8)
        }
    }

    #[test]
    fn every_tone_of_every_plan_at_every_level() {
        for plan in ALL_PLANS {
            for t in plan.tones {
                for (i, level) in [0.0f32, -10.0, -30.0, -43.0].into_iter().enumerate() {
                    let lead = 2400 + 17 * i;
                    let total = level + 10.0 * (t.freqs.len() as f32).log10();
                    let mut x = vec![0i16; lead];
                    let period: u32 = t.cadence_ms.iter().sum::<u32>().max(1000);
                    let n = (2 * period as usize + 500) * 8;
                    x.extend(t.generator(level).unwrap().take(n.max(8000 * 3)));
                    add_white_noise(&mut x, total - 15.0, 100 + i as u64);
                    let ev = detect(&x, i as u64);
                    assert_eq!(kinds(&ev), [t.kind], "{} at {level}: {ev:?}", t.name);
                    let (a, b) = expected_window(t);
                    let at = ev[0].at - lead as u64;
                    assert!(
                        (a..=b).contains(&at),
                        "{} at {level}: at {} ms, expected {}..={} ms",
                        t.name,
                        at / 8,
                        a / 8,
                        b / 8
                    );
                }
            }
        }
    }

    #[test]
    fn tolerates_frequency_offsets_of_2_percent() {
        for pct in [-2.0f32, -1.0, 1.0, 2.0] {
            for plan in ALL_PLANS {
                for t in plan.tones {
                    let freqs: Vec<f32> = t.freqs.iter().map(|f| f * (1.0 + pct / 100.0)).collect();
                    let shifted = ProgressTone {
                        freqs: Box::leak(freqs.into_boxed_slice()),
                        ..*t
                    };
                    let period: u32 = t.cadence_ms.iter().sum::<u32>().max(1000);
                    let mut x = vec![0i16; 2000];
                    x.extend(
                        shifted
                            .generator(-20.0)
                            .unwrap()
                            .take((2 * period as usize + 500) * 8),
                    );
                    add_white_noise(&mut x, -35.0, 3);
                    assert_eq!(kinds(&detect(&x, 1)), [t.kind], "{} {pct:+}%", t.name);
                }
            }
        }
    }

    #[test]
    fn sit_at_every_level_and_variant() {
        for (i, level) in [0.0f32, -10.0, -30.0, -43.0].into_iter().enumerate() {
            let lead = 1000 + 33 * i;
            let mut x = vec![0i16; lead];
            x.extend(play(sit_generator(level).unwrap()));
            x.extend(vec![0i16; 4000]);
            add_white_noise(&mut x, level - 15.0, 7 + i as u64);
            let ev = detect(&x, 1);
            assert_eq!(kinds(&ev), [CallProgress::Sit], "{level}: {ev:?}");
            let after_end = ev[0].at as i64 - lead as i64 - 928 * 8;
            assert!((0..=800).contains(&after_end), "{level}: +{after_end}");
        }
        for (f1, f2, d) in [
            (985.2, 1428.5, [380, 380, 380]),
            (913.8, 1428.5, [274, 380, 380]),
            (985.2, 1370.6, [380, 274, 380]),
        ] {
            let mut x = vec![0i16; 800];
            x.extend(play(sit_generator_with(f1, f2, d, -20.0).unwrap()));
            x.extend(vec![0i16; 4000]);
            assert_eq!(
                kinds(&detect(&x, 2)),
                [CallProgress::Sit],
                "{f1} {f2} {d:?}"
            );
        }
        // Wrong order or a missing segment is not SIT.
        let bad = [
            vec![
                Segment::tone(1776.7, -20.0, 300),
                Segment::tone(1370.6, -20.0, 300),
                Segment::tone(913.8, -20.0, 300),
            ],
            vec![
                Segment::tone(913.8, -20.0, 300),
                Segment::tone(1776.7, -20.0, 300),
            ],
            vec![
                Segment::tone(913.8, -20.0, 300),
                Segment::tone(1370.6, -20.0, 300),
                Segment::tone(1776.7, -20.0, 1200),
            ],
        ];
        for segs in bad {
            let mut x = vec![0i16; 800];
            x.extend(play(ToneGenerator::new(segs, false).unwrap()));
            x.extend(vec![0i16; 4000]);
            assert_eq!(detect(&x, 3), [], "not SIT");
        }
    }

    #[test]
    fn silence_after_five_seconds() {
        let ev = detect(&vec![0; 8000 * 12], 1);
        assert_eq!(kinds(&ev), [CallProgress::Silence]);
        assert!((40_000..=40_320).contains(&ev[0].at), "{:?}", ev);
        // Low line noise is silence too; with a shorter setting, sooner.
        let x = white_noise(8000 * 3, -62.0, 5);
        let mut d = ProgressDetector::default().with_silence_ms(2000);
        let mut ev = Vec::new();
        d.process(&x, &mut ev);
        assert_eq!(kinds(&ev), [CallProgress::Silence]);
        assert!((16_000..=16_320).contains(&ev[0].at), "{:?}", ev);
    }

    #[test]
    fn a_call_dial_ringback_busy() {
        let level = -20.0;
        let mut x = vec![0i16; 1000];
        x.extend(
            NORTH_AMERICA.tones[0]
                .generator(level)
                .unwrap()
                .take(8000 * 2),
        );
        x.extend(vec![0i16; 8000]);
        x.extend(
            NORTH_AMERICA.tones[1]
                .generator(level)
                .unwrap()
                .take(8000 * 14),
        );
        x.extend(
            NORTH_AMERICA.tones[2]
                .generator(level)
                .unwrap()
                .take(8000 * 3),
        );
        add_white_noise(&mut x, level - 12.0, 77);
        let ev = detect(&x, 5);
        assert_eq!(
            kinds(&ev),
            [
                CallProgress::DialTone,
                CallProgress::Ringback,
                CallProgress::Busy
            ],
            "{ev:?}"
        );
    }

    #[test]
    fn a_cadence_once_started_is_reported_once() {
        let x = NORTH_AMERICA.tones[2]
            .generator(-20.0)
            .unwrap()
            .take(8000 * 30);
        assert_eq!(kinds(&detect(&x, 1)), [CallProgress::Busy]);
        let x = UK.tones[1].generator(-20.0).unwrap().take(8000 * 30);
        assert_eq!(kinds(&detect(&x, 1)), [CallProgress::Ringback]);
    }

    #[test]
    fn cadences_off_by_a_third_are_not_recognised() {
        // Busy at 0.33/0.33 s is neither busy (0.5) nor congestion (0.25).
        let t = ProgressTone {
            kind: CallProgress::Busy,
            name: "odd",
            freqs: &[480.0, 620.0],
            cadence_ms: &[340, 340],
        };
        let x = t.generator(-20.0).unwrap().take(8000 * 10);
        assert_eq!(detect(&x, 1), []);
        // Ringback 440+480 at 1/1 s.
        let t = ProgressTone {
            kind: CallProgress::Ringback,
            name: "odd",
            freqs: &[440.0, 480.0],
            cadence_ms: &[1000, 1000],
        };
        let x = t.generator(-20.0).unwrap().take(8000 * 10);
        assert_eq!(detect(&x, 1), []);
    }

    #[test]
    fn silent_on_noise_speech_and_other_tones() {
        let signals = unrelated_signals()
            .into_iter()
            .chain(fax_signals())
            .chain(dtmf_signals());
        for (name, x) in signals {
            let ev = detect(&x, 4);
            let allowed: &[CallProgress] = if name == "silence" {
                &[CallProgress::Silence]
            } else {
                &[]
            };
            assert_eq!(kinds(&ev), allowed, "{name}");
        }
    }

    #[test]
    fn bad_plans_are_refused() {
        let three = TonePlan {
            name: "bad",
            tones: &[ProgressTone {
                kind: CallProgress::Busy,
                name: "three",
                freqs: &[400.0, 500.0, 600.0],
                cadence_ms: &[],
            }],
        };
        let odd = TonePlan {
            name: "bad",
            tones: &[ProgressTone {
                kind: CallProgress::Busy,
                name: "odd",
                freqs: &[400.0],
                cadence_ms: &[500],
            }],
        };
        let high = TonePlan {
            name: "bad",
            tones: &[ProgressTone {
                kind: CallProgress::Busy,
                name: "high",
                freqs: &[f32::NAN],
                cadence_ms: &[500, 500],
            }],
        };
        let long = TonePlan {
            name: "bad",
            tones: &[ProgressTone {
                kind: CallProgress::Ringback,
                name: "long",
                freqs: &[400.0],
                cadence_ms: &[500, 70_000],
            }],
        };
        for plan in [three, odd, high, long] {
            assert!(matches!(
                ProgressDetector::new(&[plan]),
                Err(ToneError::BadPlan { .. })
            ));
        }
        assert!(ProgressDetector::new(&ALL_PLANS).is_ok());
        assert!(three.tones[0].generator(-10.0).is_err());
    }

    #[test]
    fn one_plan_only() {
        // A CEPT-only detector does not know NA busy.
        let mut d = ProgressDetector::new(&[CEPT]).unwrap();
        let mut ev = Vec::new();
        let x = NORTH_AMERICA.tones[2]
            .generator(-20.0)
            .unwrap()
            .take(8000 * 5);
        d.process(&x, &mut ev);
        assert_eq!(ev, []);
        let x = CEPT.tones[2].generator(-20.0).unwrap().take(8000 * 5);
        d.process(&x, &mut ev);
        assert_eq!(kinds(&ev), [CallProgress::Busy]);
    }

    #[test]
    fn garbage_does_not_panic() {
        for (_, x) in garbage_signals() {
            let _ = detect(&x, 5);
        }
    }
}
