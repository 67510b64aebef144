//! The fax tones of ITU-T T.30 §4, the calling tone CNG and the called terminal
//! identification CED: CNG is 1100 Hz ± 38 Hz, 0.5 s on / 3 s off, sent by a calling
//! terminal; CED is 2100 Hz ± 15 Hz for 2.6–4.0 s, sent by the called terminal after
//! answering (the same tone as the V.25 answer tone ANS).
//!
//! **What it does.** [`FaxTone::generator`] plays CNG (repeating) or 3 s of CED (once).
//! [`FaxToneDetector`] reports [`FaxToneEvent::Start`] once a tone has lasted its minimum
//! (CNG 0.4 s, CED 0.5 s) and [`FaxToneEvent::End`] when it stops.
//!
//! **How it works.** Frames of 160 samples (20 ms), rectangular, not overlapping. For each
//! tone three Goertzel bins at f − 50, f, f + 50 Hz (DFT bins 21–23 and 41–43, which are
//! orthogonal) add up to the power in a band about 150 Hz wide, which covers the T.30
//! tolerances with room for a line's frequency offset. A frame is *on* when that band holds
//! at least 70 % of the frame's power and the band is above −48 dBm0. White noise puts
//! 3.75 % of its power in the band, a tone at 15 dB SNR about 97 %, so the 70 % threshold
//! works down to about 6 dB SNR while speech, which rarely keeps 70 % of its power inside
//! 150 Hz for 0.4 s, stays out. One off frame inside a run is forgiven; two end it.
//!
//! **Not supported:** ANSam's 15 Hz amplitude modulation and phase reversals are not
//! checked (ANSam reads as CED); a CNG burst is not checked for being at most 0.5 s long,
//! so a long 1100 Hz tone also reads as CNG.
//!
//! **Tested by:** the unit tests below.

use super::analysis::{Analyser, coefficient};
use super::{Segment, ToneError, ToneGenerator, dbm0_to_power};

/// Share of the frame's power the band must hold (−1.5 dB).
const BAND_SHARE: f32 = 0.70;
/// Weakest tone detected, dBm0 (5 dB below the −43 dBm0 a receiver must handle).
const MIN_LEVEL_DBM0: f32 = -48.0;
/// Frame length in samples (20 ms; a multiple of 1/50 Hz so the bins are orthogonal).
const FRAME: usize = 160;
const FRAME_MS: u32 = 20;

/// The two fax tones of T.30 §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaxTone {
    /// Calling tone, 1100 Hz, 0.5 s on / 3 s off.
    Cng,
    /// Called terminal identification (answer tone), 2100 Hz.
    Ced,
}

impl FaxTone {
    /// Nominal frequency, Hz.
    pub fn hz(self) -> f32 {
        match self {
            FaxTone::Cng => 1100.0,
            FaxTone::Ced => 2100.0,
        }
    }

    /// How long the tone must last before it is reported, ms.
    pub fn min_duration_ms(self) -> u32 {
        match self {
            FaxTone::Cng => 400,
            FaxTone::Ced => 500,
        }
    }

    /// CNG as T.30 sends it (0.5 s on, 3 s off, forever) or 3 s of CED, at `dbm0`.
    pub fn generator(self, dbm0: f32) -> Result<ToneGenerator, ToneError> {
        match self {
            FaxTone::Cng => ToneGenerator::new(
                vec![Segment::tone(1100.0, dbm0, 500), Segment::silence(3000)],
                true,
            ),
            FaxTone::Ced => ToneGenerator::new(vec![Segment::tone(2100.0, dbm0, 3000)], false),
        }
    }
}

impl std::fmt::Display for FaxTone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FaxTone::Cng => "CNG",
            FaxTone::Ced => "CED",
        })
    }
}

/// What the [`FaxToneDetector`] reports; `at` is the index of the sample at which it was
/// recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaxToneEvent {
    /// The tone has been present for its minimum duration.
    Start { tone: FaxTone, at: u64 },
    /// The tone reported by `Start` has stopped (recognised 20–40 ms after its end).
    End { tone: FaxTone, at: u64 },
}

/// One tone's run of on frames.
#[derive(Debug, Clone, Copy, Default)]
struct Track {
    run: u32,
    misses: u32,
    active: bool,
}

/// Detects CNG and CED (see the [module](self) documentation).
#[derive(Debug, Clone)]
pub struct FaxToneDetector {
    analyser: Analyser<FRAME, FRAME>,
    /// Goertzel coefficients of f − 50, f, f + 50 Hz for CNG, then for CED.
    coeffs: [f32; 6],
    tracks: [Track; 2],
    min_power: f32,
}

impl Default for FaxToneDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl FaxToneDetector {
    const TONES: [FaxTone; 2] = [FaxTone::Cng, FaxTone::Ced];

    pub fn new() -> FaxToneDetector {
        let coeffs = std::array::from_fn(|i| {
            coefficient(Self::TONES[i / 3].hz() + 50.0 * (i % 3) as f32 - 50.0)
        });
        FaxToneDetector {
            analyser: Analyser::new(false),
            coeffs,
            tracks: [Track::default(); 2],
            min_power: dbm0_to_power(MIN_LEVEL_DBM0),
        }
    }

    /// Samples processed so far.
    pub fn samples_seen(&self) -> u64 {
        self.analyser.now()
    }

    /// Process samples, appending what was recognised to `events`.
    pub fn process(&mut self, samples: &[i16], events: &mut Vec<FaxToneEvent>) {
        let mut rest = samples;
        while !rest.is_empty() {
            let (used, power) = self.analyser.feed(rest);
            rest = &rest[used..];
            if let Some(power) = power {
                self.frame(power, events);
            }
        }
    }

    fn frame(&mut self, power: f32, events: &mut Vec<FaxToneEvent>) {
        let at = self.analyser.now();
        let mut bins = [0f32; 6];
        if power >= self.min_power {
            self.analyser.tone_powers(&self.coeffs, &mut bins);
        }
        for (i, tone) in Self::TONES.into_iter().enumerate() {
            let band: f32 = bins[3 * i..3 * i + 3].iter().sum();
            let on = band >= self.min_power && band >= BAND_SHARE * power;
            let t = &mut self.tracks[i];
            if on {
                t.misses = 0;
                t.run = t.run.saturating_add(1);
                if !t.active && t.run.saturating_mul(FRAME_MS) >= tone.min_duration_ms() {
                    t.active = true;
                    events.push(FaxToneEvent::Start { tone, at });
                }
            } else {
                t.misses = t.misses.saturating_add(1);
                if t.misses >= 2 {
                    t.run = 0;
                    if t.active {
                        t.active = false;
                        events.push(FaxToneEvent::End { tone, at });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tones::testutil::*;

    fn detect(x: &[i16], seed: u64) -> Vec<FaxToneEvent> {
        detect_chunked(x, seed, FaxToneDetector::new, FaxToneDetector::process)
    }

    fn starts(ev: &[FaxToneEvent]) -> Vec<(FaxTone, u64)> {
        ev.iter()
            .filter_map(|e| match *e {
                FaxToneEvent::Start { tone, at } => Some((tone, at)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn cng_is_detected_in_noise_at_every_level() {
        for (i, level) in [0.0, -10.0, -30.0, -43.0].into_iter().enumerate() {
            let lead = 1234; // not a multiple of the frame
            let mut x = vec![0i16; lead];
            x.extend(FaxTone::Cng.generator(level).unwrap().take(8 * 8000));
            add_white_noise(&mut x, level - 15.0, 1 + i as u64);
            let ev = detect(&x, 7 + i as u64);
            let s = starts(&ev);
            // Bursts at 0, 3.5, 7 s; each reported 0.38–0.44 s into the burst.
            assert_eq!(s.len(), 3, "{level}: {ev:?}");
            for (k, &(tone, at)) in s.iter().enumerate() {
                assert_eq!(tone, FaxTone::Cng);
                let into = at as i64 - lead as i64 - k as i64 * 28_000;
                assert!(
                    (3040..=3520).contains(&into),
                    "{level}: burst {k} at +{into}"
                );
            }
            // Each burst ends 0–40 ms after it stops.
            let ends: Vec<u64> = ev
                .iter()
                .filter_map(|e| match *e {
                    FaxToneEvent::End { at, .. } => Some(at),
                    _ => None,
                })
                .collect();
            assert_eq!(ends.len(), 3, "{level}: {ev:?}");
            for (k, &at) in ends.iter().enumerate() {
                let after = at as i64 - lead as i64 - k as i64 * 28_000 - 4000;
                assert!((0..=480).contains(&after), "{level}: end {k} +{after}");
            }
        }
    }

    #[test]
    fn ced_is_detected_in_noise_at_every_level() {
        for (i, level) in [0.0, -10.0, -30.0, -43.0].into_iter().enumerate() {
            let lead = 1600 + 37;
            let mut x = vec![0i16; lead];
            x.extend(FaxTone::Ced.generator(level).unwrap().take(4 * 8000));
            x.extend(vec![0; 4000]);
            add_white_noise(&mut x, level - 15.0, 11 + i as u64);
            let ev = detect(&x, 3 + i as u64);
            assert_eq!(ev.len(), 2, "{level}: {ev:?}");
            let FaxToneEvent::Start { tone, at } = ev[0] else {
                panic!("{ev:?}")
            };
            assert_eq!(tone, FaxTone::Ced);
            assert!(
                (3800..=4320).contains(&(at as usize - lead)),
                "{level}: +{}",
                at as usize - lead
            );
            let FaxToneEvent::End { tone, at } = ev[1] else {
                panic!("{ev:?}")
            };
            assert_eq!(tone, FaxTone::Ced);
            let after = at as i64 - lead as i64 - 24_000;
            assert!((0..=480).contains(&after), "{level}: end +{after}");
        }
    }

    #[test]
    fn tolerates_t30_frequency_offsets() {
        for (tone, offsets) in [(FaxTone::Cng, [-38.0, 38.0]), (FaxTone::Ced, [-15.0, 15.0])] {
            for off in offsets {
                let hz = tone.hz() + off;
                let mut x = vec![0i16; 800];
                x.extend(tone_burst(hz, -30.0, 8000));
                add_white_noise(&mut x, -45.0, 5);
                let s = starts(&detect(&x, 1));
                assert_eq!(s.len(), 1, "{tone} {hz} Hz");
                assert_eq!(s[0].0, tone);
            }
        }
        // 150 Hz away is not the tone.
        for hz in [950.0, 1250.0, 1950.0, 2250.0] {
            let x = tone_burst(hz, -20.0, 8000);
            assert_eq!(detect(&x, 2), [], "{hz} Hz");
        }
    }

    #[test]
    fn short_bursts_are_not_reported() {
        for (tone, ms) in [(FaxTone::Cng, 300), (FaxTone::Ced, 400)] {
            let mut x = vec![0i16; 500];
            x.extend(tone_burst(tone.hz(), -20.0, ms * 8));
            x.extend(vec![0; 4000]);
            assert_eq!(detect(&x, 4), [], "{tone} {ms} ms");
        }
    }

    #[test]
    fn cng_is_not_ced_and_ced_is_not_cng() {
        let x = FaxTone::Cng.generator(-10.0).unwrap().take(8000 * 8);
        assert!(
            starts(&detect(&x, 1))
                .iter()
                .all(|&(t, _)| t == FaxTone::Cng)
        );
        let x = FaxTone::Ced.generator(-10.0).unwrap().take(8000 * 4);
        assert!(
            starts(&detect(&x, 1))
                .iter()
                .all(|&(t, _)| t == FaxTone::Ced)
        );
    }

    #[test]
    fn silent_on_noise_speech_chirp_and_other_tones() {
        let signals = unrelated_signals()
            .into_iter()
            .chain(dtmf_signals())
            .chain(progress_signals());
        for (name, x) in signals {
            assert_eq!(detect(&x, 9), [], "{name}");
        }
    }

    #[test]
    fn garbage_does_not_panic() {
        for (_, x) in garbage_signals() {
            let _ = detect(&x, 5);
        }
    }
}
