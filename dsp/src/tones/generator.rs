//! Playing a pattern of tone segments: each segment sounds up to two sines (or nothing) for
//! a number of samples; the pattern plays once or repeats forever. Each sine is a complex
//! rotator in f64 renormalised after every call, so a tone stays exact over hours and
//! costs four multiplications per sample. A segment's sines start at phase 0, so bursts
//! start without a click; a segment followed by one with the same tones (a continuous tone
//! repeating its one-segment pattern) goes on without a phase jump.

use super::{SAMPLE_RATE, ToneError, ms_to_samples};
use crate::modem::{DBM0_FULL_SCALE, dbm0_to_rms};

/// One sine: frequency in Hz and level in dBm0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    pub hz: f32,
    pub dbm0: f32,
}

/// A piece of a pattern: up to two tones sounding together (none = silence) for
/// `samples` samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub tones: [Option<Tone>; 2],
    pub samples: u32,
}

impl Segment {
    /// `ms` milliseconds of silence.
    pub const fn silence(ms: u32) -> Segment {
        Segment {
            tones: [None, None],
            samples: ms_to_samples(ms),
        }
    }

    /// `ms` milliseconds of one tone.
    pub const fn tone(hz: f32, dbm0: f32, ms: u32) -> Segment {
        Segment {
            tones: [Some(Tone { hz, dbm0 }), None],
            samples: ms_to_samples(ms),
        }
    }

    /// `ms` milliseconds of two tones, each at its own level.
    pub const fn dual(a: Tone, b: Tone, ms: u32) -> Segment {
        Segment {
            tones: [Some(a), Some(b)],
            samples: ms_to_samples(ms),
        }
    }
}

/// A sine as a rotating unit vector times an amplitude.
#[derive(Debug, Clone, Copy, Default)]
struct Rotator {
    re: f64,
    im: f64,
    step_re: f64,
    step_im: f64,
    amplitude: f64,
}

impl Rotator {
    fn start(tone: Option<Tone>) -> Rotator {
        match tone {
            None => Rotator::default(),
            Some(t) => {
                let w = std::f64::consts::TAU * t.hz as f64 / SAMPLE_RATE as f64;
                Rotator {
                    re: 1.0,
                    im: 0.0,
                    step_re: w.cos(),
                    step_im: w.sin(),
                    amplitude: dbm0_to_rms(t.dbm0) as f64 * std::f64::consts::SQRT_2,
                }
            }
        }
    }

    #[inline]
    fn next(&mut self) -> f64 {
        let out = self.amplitude * self.im;
        let re = self.re * self.step_re - self.im * self.step_im;
        self.im = self.re * self.step_im + self.im * self.step_re;
        self.re = re;
        out
    }

    fn renormalise(&mut self) {
        let m = (self.re * self.re + self.im * self.im).sqrt();
        if m > 0.0 {
            self.re /= m;
            self.im /= m;
        }
    }
}

/// Plays a list of [`Segment`]s once or forever.
///
/// Samples are rounded and saturate at ±32767 (two tones near full scale clip).
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    segments: Vec<Segment>,
    repeat: bool,
    index: usize,
    left: u32,
    rotators: [Rotator; 2],
    started: bool,
}

impl ToneGenerator {
    /// A generator for `segments`, played once (`repeat == false`) or forever.
    ///
    /// Fails on a level that is not finite or above full scale, a frequency outside
    /// 0–4000 Hz, or a repeating pattern of zero length.
    pub fn new(segments: Vec<Segment>, repeat: bool) -> Result<ToneGenerator, ToneError> {
        for tone in segments.iter().flat_map(|s| s.tones.iter().flatten()) {
            check_level(tone.dbm0)?;
            if !(tone.hz > 0.0 && tone.hz < SAMPLE_RATE as f32 / 2.0) {
                return Err(ToneError::BadFrequency { hz: tone.hz });
            }
        }
        if repeat && segments.iter().all(|s| s.samples == 0) {
            return Err(ToneError::EmptyPattern);
        }
        let mut g = ToneGenerator {
            segments,
            repeat,
            index: 0,
            left: 0,
            rotators: [Rotator::default(); 2],
            started: false,
        };
        g.enter(0);
        Ok(g)
    }

    fn enter(&mut self, index: usize) {
        let before = self.segments.get(self.index).map(|s| s.tones);
        self.index = index;
        if let Some(s) = self.segments.get(index) {
            self.left = s.samples;
            // The same tones going on (a continuous tone's pattern repeating) keep their
            // phase; anything else starts at phase 0.
            if before != Some(s.tones) || !self.started {
                self.rotators = [Rotator::start(s.tones[0]), Rotator::start(s.tones[1])];
                self.started = true;
            }
        }
    }

    /// Moves to the next segment with samples left; false when the pattern has ended.
    fn advance(&mut self) -> bool {
        // A repeating pattern has a segment with samples (checked in `new`), so this loop
        // ends within one pass over the segments.
        while self.left == 0 {
            let next = self.index + 1;
            if next < self.segments.len() {
                self.enter(next);
            } else if self.repeat {
                self.enter(0);
            } else {
                self.index = self.segments.len();
                return false;
            }
        }
        true
    }

    /// Fill `out` with samples; returns how many were written. Fewer than `out.len()` means
    /// the pattern has ended (the rest of `out` is untouched); a repeating pattern always
    /// fills `out`.
    pub fn generate(&mut self, out: &mut [i16]) -> usize {
        let mut done = 0;
        while done < out.len() && self.advance() {
            let n = (self.left as usize).min(out.len() - done);
            let [a, b] = &mut self.rotators;
            for o in &mut out[done..done + n] {
                let v = a.next() + b.next();
                // `as` saturates; the value is finite.
                *o = v.round() as i16;
            }
            a.renormalise();
            b.renormalise();
            done += n;
            self.left -= n as u32;
        }
        done
    }

    /// Generate `n` samples into a new vector (shorter if the pattern ends first).
    pub fn take(&mut self, n: usize) -> Vec<i16> {
        let mut v = vec![0; n];
        let got = self.generate(&mut v);
        v.truncate(got);
        v
    }

    /// True once a pattern played once has ended.
    pub fn is_done(&self) -> bool {
        !self.repeat && self.index >= self.segments.len()
    }

    /// Samples in one pass through the pattern.
    pub fn pattern_len(&self) -> u64 {
        self.segments.iter().map(|s| s.samples as u64).sum()
    }
}

pub(super) fn check_level(dbm0: f32) -> Result<(), ToneError> {
    if dbm0.is_finite() && dbm0 <= DBM0_FULL_SCALE + 1e-3 {
        Ok(())
    } else {
        Err(ToneError::BadLevel { dbm0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::rms_to_dbm0;

    fn rms(x: &[i16]) -> f32 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt() as f32
    }

    #[test]
    fn level_and_frequency() {
        let mut g = ToneGenerator::new(vec![Segment::tone(1000.0, -10.0, 1000)], false).unwrap();
        let x = g.take(10_000);
        assert_eq!(x.len(), 8000);
        assert!(g.is_done());
        assert!((rms_to_dbm0(rms(&x)) + 10.0).abs() < 0.02);
        // 1000 Hz at 8000 samples/s: period of 8 samples, starts at phase 0.
        assert_eq!(x[0], 0);
        assert_eq!(x[2], -x[6]);
        assert_eq!(x[8], 0);
        assert_eq!(x[7992], 0);
    }

    #[test]
    fn repeats_and_chunks_alike() {
        let segs = vec![Segment::tone(440.0, -20.0, 30), Segment::silence(20)];
        let mut whole = ToneGenerator::new(segs.clone(), true).unwrap();
        let a = whole.take(5000);
        let mut chunked = ToneGenerator::new(segs, true).unwrap();
        let mut b = Vec::new();
        for n in [1, 7, 239, 240, 1000, 3513] {
            b.extend(chunked.take(n));
        }
        assert_eq!(a, b);
        assert_eq!(&a[240..400], &[0; 160][..]);
        assert_eq!(&a[0..240], &a[400..640]);
    }

    #[test]
    fn a_repeating_single_segment_is_one_continuous_tone() {
        // 353.5 Hz does not fit a whole number of cycles in the 100 ms pattern.
        let mut g = ToneGenerator::new(vec![Segment::tone(353.5, 0.0, 100)], true).unwrap();
        let x = g.take(8000);
        let amplitude = dbm0_to_rms(0.0) * std::f32::consts::SQRT_2;
        let max_step = amplitude * std::f32::consts::TAU * 353.5 / 8000.0 + 1.0;
        for w in x.windows(2) {
            assert!(
                ((w[1] as i32 - w[0] as i32) as f32).abs() <= max_step,
                "{w:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_tones() {
        let e = ToneGenerator::new(vec![Segment::tone(1000.0, f32::NAN, 10)], false);
        assert!(matches!(e, Err(ToneError::BadLevel { .. })));
        let e = ToneGenerator::new(vec![Segment::tone(1000.0, 6.0, 10)], false);
        assert!(matches!(e, Err(ToneError::BadLevel { .. })));
        let e = ToneGenerator::new(vec![Segment::tone(4000.0, -10.0, 10)], false);
        assert!(matches!(e, Err(ToneError::BadFrequency { .. })));
        let e = ToneGenerator::new(vec![Segment::silence(0)], true);
        assert!(matches!(e, Err(ToneError::EmptyPattern)));
        // An empty one-shot pattern is simply over.
        let mut g = ToneGenerator::new(vec![], false).unwrap();
        assert_eq!(g.generate(&mut [0; 4]), 0);
        assert!(g.is_done());
    }

    #[test]
    fn full_scale_pair_saturates() {
        let a = Tone {
            hz: 1000.0,
            dbm0: DBM0_FULL_SCALE,
        };
        let b = Tone { hz: 1500.0, ..a };
        let mut g = ToneGenerator::new(vec![Segment::dual(a, b, 100)], false).unwrap();
        let x = g.take(800);
        assert_eq!(x.iter().max(), Some(&i16::MAX));
        assert_eq!(x.iter().min(), Some(&i16::MIN));
    }
}
