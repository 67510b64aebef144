//! DTMF: the push-button signals of ITU-T Q.23 (one frequency from the low group 697, 770,
//! 852, 941 Hz plus one from the high group 1209, 1336, 1477, 1633 Hz for each of the keys
//! `1 2 3 A / 4 5 6 B / 7 8 9 C / * 0 # D`) and a receiver after Q.24.
//!
//! **What it does.** [`DtmfSender::generator`] plays a digit string with given on and off
//! times. [`DtmfDetector`] reports [`DtmfEvent::Start`] when a digit has been recognised and
//! [`DtmfEvent::End`] when it has gone. The limits are chosen within the ranges Q.24 lists
//! for administrations: a signal within ±1.5 % of the nominal frequencies is accepted and one
//! ±3.5 % off rejected; the high group may be up to 8 dB above the low group (normal twist)
//! or 4 dB below it (reverse twist); each frequency must reach −46 dBm0; signals of 40 ms
//! are recognised, 20 ms are not; a pause of 40 ms separates two digits, a break of 10 ms
//! does not.
//!
//! **How it works.** Frames of 160 samples (20 ms) every 80 samples, Hann-windowed, so that
//! the strong low-group tone does not leak into the high-group bins (Hann side lobes are
//! −31 dB and fall fast). For each frame:
//!
//! 1. Goertzel power at the eight nominal frequencies; the strongest of each group wins,
//!    and the other three of its group must be at least 6 dB below it (a valid signal leaves
//!    at most −10 dB in a neighbour).
//! 2. Frequency check: two more bins at ±5 % of each winner. A tone nearer the centre than a
//!    side bin is within ±2.5 %, midway between the ±1.5 % to accept and the ±3.5 % to
//!    reject; the test is a comparison of two powers, so it does not depend on the level.
//! 3. The ratio of centre to side power gives the tone's offset under the Hann kernel, and
//!    from that its true power (a tone 2 % off loses up to 3 dB in the centre bin).
//! 4. Level, twist, and *share*: the two tones must hold at least 70 % of the frame's power
//!    (speech and noise do not; a DTMF signal at 15 dB SNR holds about 97 %).
//!
//! A digit starts after three frames in a row agree (about 35 ms of signal) and ends after
//! three frames in a row without it.
//!
//! **Not supported:** the 2nd-harmonic talk-off test of some receivers; per-administration
//! presets of Table 1/Q.24 (set [`DtmfConfig`] instead).
//!
//! **Tested by:** the unit tests below.

use super::analysis::{Analyser, coefficient, hann_kernel};
use super::{SAMPLE_RATE, Segment, Tone, ToneError, ToneGenerator, dbm0_to_power};

/// The low group (rows of the keypad), Hz.
pub const LOW_GROUP: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// The high group (columns of the keypad), Hz.
pub const HIGH_GROUP: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The (low, high) frequencies of a digit (`0-9 * # A-D`, lower case `a-d` too).
pub fn frequencies(digit: char) -> Option<(f32, f32)> {
    let digit = digit.to_ascii_uppercase();
    KEYPAD.iter().enumerate().find_map(|(row, keys)| {
        keys.iter()
            .position(|&k| k == digit)
            .map(|col| (LOW_GROUP[row], HIGH_GROUP[col]))
    })
}

/// How to send DTMF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfSender {
    /// Level of the low-group frequency, dBm0.
    pub level_dbm0: f32,
    /// Level of the high-group frequency relative to the low group, dB (Q.23 senders put
    /// the high group a little higher to make up for the line's loss).
    pub twist_db: f32,
    /// Duration of each digit, ms.
    pub on_ms: u32,
    /// Pause after each digit, ms.
    pub off_ms: u32,
}

impl Default for DtmfSender {
    /// −10 dBm0 low group, +2 dB high group, 100 ms on, 100 ms off.
    fn default() -> Self {
        DtmfSender {
            level_dbm0: -10.0,
            twist_db: 2.0,
            on_ms: 100,
            off_ms: 100,
        }
    }
}

impl DtmfSender {
    /// A generator playing `digits` once, each for `on_ms` followed by `off_ms` of silence.
    pub fn generator(&self, digits: &str) -> Result<ToneGenerator, ToneError> {
        let mut segments = Vec::with_capacity(2 * digits.len());
        for (index, ch) in digits.chars().enumerate() {
            let (low, high) = frequencies(ch).ok_or(ToneError::NotDtmfDigit { index, ch })?;
            let low = Tone {
                hz: low,
                dbm0: self.level_dbm0,
            };
            let high = Tone {
                hz: high,
                dbm0: self.level_dbm0 + self.twist_db,
            };
            segments.push(Segment::dual(low, high, self.on_ms));
            segments.push(Segment::silence(self.off_ms));
        }
        ToneGenerator::new(segments, false)
    }
}

/// Receiver limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfConfig {
    /// Weakest frequency accepted, dBm0.
    pub min_level_dbm0: f32,
    /// How far the high group may be above the low group, dB.
    pub normal_twist_db: f32,
    /// How far the high group may be below the low group, dB.
    pub reverse_twist_db: f32,
}

impl Default for DtmfConfig {
    /// −46 dBm0, 8 dB normal twist, 4 dB reverse twist.
    fn default() -> Self {
        DtmfConfig {
            min_level_dbm0: -46.0,
            normal_twist_db: 8.0,
            reverse_twist_db: 4.0,
        }
    }
}

/// What the [`DtmfDetector`] reports; `at` is the index of the sample at which it was
/// recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    /// A digit (`0-9 * # A-D`) has been recognised.
    Start { digit: char, at: u64 },
    /// The digit has gone (about 30–40 ms after it stopped).
    End { digit: char, at: u64 },
}

const FRAME: usize = 160;
const HOP: usize = 80;
/// Side bins at ±5 % of the nominal frequency.
const SIDE: f32 = 0.05;
/// Share of the frame's power the two tones must hold.
const SHARE: f32 = 0.70;
/// Other frequencies of a group must be this far (power ratio) below the strongest: 6 dB.
const NEIGHBOUR: f32 = 0.25;
/// Frames in a row that start a digit and that end it.
const START_FRAMES: u32 = 3;
const END_FRAMES: u32 = 3;

/// A Q.24 DTMF receiver (see the [module](self) documentation).
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    analyser: Analyser<FRAME, HOP>,
    /// Goertzel coefficients at the eight nominal frequencies, low group first.
    centre: [f32; 8],
    /// … at −5 % and +5 % of each.
    side: [[f32; 2]; 8],
    /// The side bins' distance in analysis bins (of 50 Hz).
    side_bins: [f32; 8],
    min_power: f32,
    normal_twist: f32,
    reverse_twist: f32,
    current: Option<char>,
    misses: u32,
    candidate: Option<char>,
    count: u32,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new(DtmfConfig::default())
    }
}

impl DtmfDetector {
    pub fn new(config: DtmfConfig) -> DtmfDetector {
        let freqs: [f32; 8] = std::array::from_fn(|i| {
            if i < 4 {
                LOW_GROUP[i]
            } else {
                HIGH_GROUP[i - 4]
            }
        });
        let db = |d: f32| 10f32.powf(d / 10.0);
        DtmfDetector {
            analyser: Analyser::new(true),
            centre: freqs.map(coefficient),
            side: freqs.map(|f| [coefficient(f * (1.0 - SIDE)), coefficient(f * (1.0 + SIDE))]),
            side_bins: freqs.map(|f| f * SIDE * FRAME as f32 / SAMPLE_RATE as f32),
            min_power: dbm0_to_power(config.min_level_dbm0),
            normal_twist: db(config.normal_twist_db),
            reverse_twist: db(config.reverse_twist_db),
            current: None,
            misses: 0,
            candidate: None,
            count: 0,
        }
    }

    /// Samples processed so far.
    pub fn samples_seen(&self) -> u64 {
        self.analyser.now()
    }

    /// The digit being received, if any.
    pub fn current(&self) -> Option<char> {
        self.current
    }

    /// Process samples, appending what was recognised to `events`.
    pub fn process(&mut self, samples: &[i16], events: &mut Vec<DtmfEvent>) {
        let mut rest = samples;
        while !rest.is_empty() {
            let (used, power) = self.analyser.feed(rest);
            rest = &rest[used..];
            if let Some(power) = power {
                let raw = self.classify(power);
                self.debounce(raw, events);
            }
        }
    }

    fn debounce(&mut self, raw: Option<char>, events: &mut Vec<DtmfEvent>) {
        let at = self.analyser.now();
        if let Some(digit) = self.current {
            if raw == Some(digit) {
                self.misses = 0;
            } else {
                self.misses = self.misses.saturating_add(1);
                if self.misses >= END_FRAMES {
                    events.push(DtmfEvent::End { digit, at });
                    self.current = None;
                }
            }
        }
        if raw.is_some() && raw == self.candidate {
            self.count = self.count.saturating_add(1);
        } else {
            self.candidate = raw;
            self.count = u32::from(raw.is_some());
        }
        if let (None, Some(digit)) = (self.current, self.candidate)
            && self.count >= START_FRAMES
        {
            events.push(DtmfEvent::Start { digit, at });
            self.current = Some(digit);
            self.misses = 0;
        }
    }

    /// The digit in the current frame, if the frame passes every test.
    fn classify(&self, power: f32) -> Option<char> {
        if power < self.min_power {
            return None;
        }
        let mut p = [0f32; 8];
        self.analyser.tone_powers(&self.centre, &mut p);
        let strongest = |group: &[f32]| -> Option<usize> {
            let (best, &pb) = group.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
            let clear = group
                .iter()
                .enumerate()
                .all(|(i, &v)| i == best || v <= NEIGHBOUR * pb);
            clear.then_some(best)
        };
        let row = strongest(&p[..4])?;
        let col = strongest(&p[4..])?;
        let low = self.true_power(row, p[row])?;
        let high = self.true_power(4 + col, p[4 + col])?;
        let ok = low >= self.min_power
            && high >= self.min_power
            && high <= low * self.normal_twist
            && low <= high * self.reverse_twist
            && low + high >= SHARE * power;
        ok.then_some(KEYPAD[row][col])
    }

    /// `None` if tone `i` is nearer a side bin than its centre (more than 2.5 % off);
    /// otherwise its power corrected for the offset the centre-to-side ratio shows.
    fn true_power(&self, i: usize, centre: f32) -> Option<f32> {
        let mut ab = [0f32; 2];
        self.analyser.tone_powers(&self.side[i], &mut ab);
        let side = ab[0].max(ab[1]);
        let nearer_centre = centre > 0.0 && side <= centre; // false on NaN too
        if !nearer_centre {
            return None;
        }
        // K²(u) / K²(d − u) falls from K²(0) / K²(d) at u = 0 to 1 at u = d / 2.
        let d = self.side_bins[i];
        let ratio = |u: f32| (hann_kernel(u) / hann_kernel(d - u).max(1e-6)).powi(2);
        let observed = centre / side.max(centre * 1e-6);
        let (mut lo, mut hi) = (0.0f32, d / 2.0);
        if observed >= ratio(0.0) {
            hi = 0.0;
        } else {
            for _ in 0..16 {
                let mid = 0.5 * (lo + hi);
                if ratio(mid) > observed {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        }
        let k = hann_kernel(0.5 * (lo + hi));
        Some(centre / (k * k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tones::testutil::*;

    const ALL: &str = "123A456B789C*0#D";

    fn detect(x: &[i16], seed: u64) -> Vec<DtmfEvent> {
        detect_with(DtmfConfig::default(), x, seed)
    }

    fn detect_with(config: DtmfConfig, x: &[i16], seed: u64) -> Vec<DtmfEvent> {
        detect_chunked(x, seed, || DtmfDetector::new(config), DtmfDetector::process)
    }

    fn digits(ev: &[DtmfEvent]) -> String {
        ev.iter()
            .filter_map(|e| match *e {
                DtmfEvent::Start { digit, .. } => Some(digit),
                _ => None,
            })
            .collect()
    }

    fn total_dbm0(low: f32, twist: f32) -> f32 {
        10.0 * (10f32.powf(low / 10.0) + 10f32.powf((low + twist) / 10.0)).log10()
    }

    /// A digit string where tone `k` is low·(1+dl), high·(1+dh), `on` ms on, `off` ms off.
    fn shifted(s: &str, dl: f32, dh: f32, level: f32, twist: f32, on: u32, off: u32) -> Vec<i16> {
        let mut segs = vec![Segment::silence(37)];
        for ch in s.chars() {
            let (l, h) = frequencies(ch).unwrap();
            let low = Tone {
                hz: l * (1.0 + dl),
                dbm0: level,
            };
            let high = Tone {
                hz: h * (1.0 + dh),
                dbm0: level + twist,
            };
            segs.push(Segment::dual(low, high, on));
            segs.push(Segment::silence(off));
        }
        play(ToneGenerator::new(segs, false).unwrap())
    }

    #[test]
    fn every_digit_in_noise_at_every_level() {
        for (i, level) in [0.0, -10.0, -30.0, -43.0].into_iter().enumerate() {
            let sender = DtmfSender {
                level_dbm0: level,
                ..DtmfSender::default()
            };
            let lead = 555;
            let mut x = vec![0i16; lead];
            x.extend(play(sender.generator(ALL).unwrap()));
            add_white_noise(&mut x, total_dbm0(level, 2.0) - 15.0, 40 + i as u64);
            let ev = detect(&x, i as u64);
            assert_eq!(digits(&ev), ALL, "{level}: {ev:?}");
            // Starts 20–60 ms into each 100 ms tone (period 200 ms); ends 20–60 ms after.
            for (k, e) in ev.iter().enumerate() {
                let tone_start = (lead + (k / 2) * 1600) as i64;
                match *e {
                    DtmfEvent::Start { at, .. } => {
                        let d = at as i64 - tone_start;
                        assert!((160..=480).contains(&d), "{level} #{k}: start +{d}");
                    }
                    DtmfEvent::End { at, .. } => {
                        let d = at as i64 - tone_start - 800;
                        assert!((160..=480).contains(&d), "{level} #{k}: end +{d}");
                    }
                }
            }
        }
    }

    #[test]
    fn frequency_tolerance_accept_1_5_reject_3_5_percent() {
        for (dl, dh) in [
            (0.015, 0.015),
            (-0.015, -0.015),
            (0.015, -0.015),
            (-0.015, 0.015),
        ] {
            let mut x = shifted(ALL, dl, dh, -20.0, 2.0, 80, 80);
            add_white_noise(&mut x, total_dbm0(-20.0, 2.0) - 15.0, 8);
            assert_eq!(digits(&detect(&x, 1)), ALL, "{dl} {dh}");
        }
        for (dl, dh) in [
            (0.035, 0.035),
            (-0.035, -0.035),
            (0.035, 0.0),
            (-0.035, 0.0),
            (0.0, 0.035),
            (0.0, -0.035),
            (0.05, 0.05),
            (-0.06, -0.06),
        ] {
            let x = shifted(ALL, dl, dh, -20.0, 2.0, 80, 80);
            assert_eq!(digits(&detect(&x, 1)), "", "{dl} {dh}");
        }
    }

    #[test]
    fn twist_limits() {
        for twist in [-3.0, 0.0, 7.0] {
            let mut x = shifted(ALL, 0.0, 0.0, -25.0, twist, 80, 80);
            add_white_noise(&mut x, -50.0, 3);
            assert_eq!(digits(&detect(&x, 1)), ALL, "twist {twist}");
        }
        for twist in [-5.5, 9.5] {
            let x = shifted(ALL, 0.0, 0.0, -25.0, twist, 80, 80);
            assert_eq!(digits(&detect(&x, 1)), "", "twist {twist}");
        }
    }

    #[test]
    fn durations_and_pauses() {
        // 40 ms digits with 40 ms pauses are all received, at any alignment.
        for lead in [0, 13, 40, 79] {
            let sender = DtmfSender {
                on_ms: 40,
                off_ms: 40,
                ..DtmfSender::default()
            };
            let mut x = vec![0i16; lead];
            x.extend(sender.generator("1234567890").unwrap().take(8000));
            add_white_noise(&mut x, -30.0, lead as u64);
            assert_eq!(digits(&detect(&x, 2)), "1234567890", "lead {lead}");
        }
        // 20 ms bursts are not.
        for lead in [0, 13, 40, 79] {
            let sender = DtmfSender {
                on_ms: 20,
                off_ms: 60,
                ..DtmfSender::default()
            };
            let mut x = vec![0i16; lead];
            x.extend(sender.generator("1234567890").unwrap().take(8000));
            assert_eq!(digits(&detect(&x, 2)), "", "lead {lead}");
        }
        // A 10 ms break inside a digit does not split it; repeated digits need their pause.
        let x = shifted("55", 0.0, 0.0, -20.0, 2.0, 60, 10);
        assert_eq!(digits(&detect(&x, 3)), "5");
        let x = shifted("55", 0.0, 0.0, -20.0, 2.0, 60, 40);
        assert_eq!(digits(&detect(&x, 3)), "55");
        // Back to back without a pause: both digits.
        let x = shifted("19", 0.0, 0.0, -20.0, 2.0, 80, 0);
        assert_eq!(digits(&detect(&x, 3)), "19");
    }

    #[test]
    fn too_weak_is_not_received() {
        let sender = DtmfSender {
            level_dbm0: -52.0,
            twist_db: 0.0,
            ..DtmfSender::default()
        };
        let x = play(sender.generator(ALL).unwrap());
        assert_eq!(digits(&detect(&x, 1)), "");
    }

    #[test]
    fn silent_on_noise_speech_and_other_tones() {
        let signals = unrelated_signals()
            .into_iter()
            .chain(fax_signals())
            .chain(progress_signals());
        for (name, x) in signals {
            assert_eq!(detect(&x, 4), [], "{name}");
        }
    }

    #[test]
    fn digits_over_speech_like_background() {
        let mut x = speech_like(8000 * 4, 7);
        for v in &mut x {
            *v /= 8; // about −33 dBm0, 20 dB under the digits
        }
        let digits_x = DtmfSender::default().generator(ALL).unwrap().take(8000 * 4);
        mix_at(&mut x, 0, &digits_x);
        assert_eq!(digits(&detect(&x, 6)), ALL);
    }

    #[test]
    fn sender_rejects_non_digits() {
        let e = DtmfSender::default().generator("12x4").err();
        assert_eq!(e, Some(ToneError::NotDtmfDigit { index: 2, ch: 'x' }));
        assert_eq!(frequencies('d'), Some((941.0, 1633.0)));
        assert_eq!(frequencies('0'), Some((941.0, 1336.0)));
        assert_eq!(frequencies('E'), None);
    }

    #[test]
    fn garbage_does_not_panic() {
        for (_, x) in garbage_signals() {
            let _ = detect(&x, 5);
        }
        let mut d = DtmfDetector::new(DtmfConfig {
            min_level_dbm0: f32::NAN,
            normal_twist_db: f32::INFINITY,
            reverse_twist_db: -1.0,
        });
        let mut ev = Vec::new();
        d.process(
            &DtmfSender::default().generator("1").unwrap().take(800),
            &mut ev,
        );
    }
}
