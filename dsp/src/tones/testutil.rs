//! Test signals: a small seeded PRNG, white noise, chirps, a speech-like source, garbage,
//! and streaming in random chunk sizes.

use super::ToneGenerator;
use super::dtmf::DtmfSender;
use super::progress::{self, CEPT, NORTH_AMERICA, UK};
use crate::modem::dbm0_to_rms;

/// SplitMix64: tiny, seeded, good enough for test noise.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn clamp(v: f64) -> i16 {
    v.round().clamp(-32768.0, 32767.0) as i16
}

/// Add white Gaussian noise of mean square equal to that of a sine at `dbm0`.
pub fn add_white_noise(x: &mut [i16], dbm0: f32, seed: u64) {
    let mut rng = Rng::new(seed);
    let sigma = dbm0_to_rms(dbm0) as f64;
    for v in x {
        *v = clamp(*v as f64 + sigma * rng.gauss());
    }
}

/// `n` samples of white Gaussian noise at `dbm0`.
pub fn white_noise(n: usize, dbm0: f32, seed: u64) -> Vec<i16> {
    let mut x = vec![0; n];
    add_white_noise(&mut x, dbm0, seed);
    x
}

/// A steady sine of `n` samples.
pub fn tone_burst(hz: f32, dbm0: f32, n: usize) -> Vec<i16> {
    let a = dbm0_to_rms(dbm0) as f64 * std::f64::consts::SQRT_2;
    (0..n)
        .map(|i| clamp(a * (std::f64::consts::TAU * hz as f64 * i as f64 / 8000.0).sin()))
        .collect()
}

/// A linear chirp from `f0` to `f1` Hz over `n` samples.
pub fn chirp(f0: f64, f1: f64, n: usize, dbm0: f32) -> Vec<i16> {
    let a = dbm0_to_rms(dbm0) as f64 * std::f64::consts::SQRT_2;
    let t_end = n as f64 / 8000.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let phase = std::f64::consts::TAU * (f0 * t + (f1 - f0) * t * t / (2.0 * t_end));
            clamp(a * phase.sin())
        })
        .collect()
}

/// Two-pole resonator (a formant).
struct Resonator {
    a1: f64,
    a2: f64,
    gain: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn new(hz: f64, bandwidth: f64) -> Resonator {
        let r = (-std::f64::consts::PI * bandwidth / 8000.0).exp();
        let theta = std::f64::consts::TAU * hz / 8000.0;
        Resonator {
            a1: 2.0 * r * theta.cos(),
            a2: -r * r,
            gain: 1.0 - r,
            y1: 0.0,
            y2: 0.0,
        }
    }

    fn retune(&mut self, hz: f64, bandwidth: f64) {
        let n = Resonator::new(hz, bandwidth);
        (self.a1, self.a2, self.gain) = (n.a1, n.a2, n.gain);
    }

    fn step(&mut self, x: f64) -> f64 {
        let y = self.gain * x + self.a1 * self.y1 + self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// A crude talker: syllables of 120–320 ms, each a vowel (glottal pulses at a drifting
/// pitch through three formants) or a fricative (noise), with pauses; about −15 dBm0.
pub fn speech_like(n: usize, seed: u64) -> Vec<i16> {
    const VOWELS: [[f64; 3]; 6] = [
        [730.0, 1090.0, 2440.0], // a
        [270.0, 2290.0, 3010.0], // i
        [300.0, 870.0, 2240.0],  // u
        [530.0, 1840.0, 2480.0], // e
        [570.0, 840.0, 2410.0],  // o
        [660.0, 1720.0, 2410.0], // æ
    ];
    let mut rng = Rng::new(seed);
    let mut formants = [
        Resonator::new(700.0, 90.0),
        Resonator::new(1200.0, 110.0),
        Resonator::new(2500.0, 160.0),
    ];
    let mut out = Vec::with_capacity(n);
    let mut pitch = 90.0 + 120.0 * rng.uniform();
    let mut phase = 0.0;
    let mut glottis = 0.0;
    while out.len() < n {
        let len = 960 + rng.below(1600);
        let kind = rng.below(10); // 0..6 vowel, 7..8 fricative, 9 pause
        if kind < 7 {
            let v = VOWELS[rng.below(VOWELS.len())];
            for (f, &hz) in formants.iter_mut().zip(&v) {
                f.retune(
                    hz * (0.9 + 0.2 * rng.uniform()),
                    60.0 + 80.0 * rng.uniform(),
                );
            }
        }
        let glide = (rng.uniform() - 0.5) * 60.0 / len as f64;
        for i in 0..len {
            let env = (std::f64::consts::PI * i as f64 / len as f64).sin();
            let s = match kind {
                0..=6 => {
                    pitch = (pitch + glide + 0.3 * rng.gauss()).clamp(70.0, 300.0);
                    phase += pitch / 8000.0;
                    let pulse = if phase >= 1.0 {
                        phase -= 1.0;
                        1.0
                    } else {
                        0.0
                    };
                    glottis = 0.9 * glottis + pulse;
                    formants.iter_mut().map(|f| f.step(glottis)).sum::<f64>() * 3000.0
                }
                7 | 8 => 1500.0 * rng.gauss() * (i % 3) as f64,
                _ => 0.0,
            };
            out.push(clamp(s * env));
        }
    }
    out.truncate(n);
    out
}

/// Named signals that are no tone at all: no detector may report anything on them (the
/// call progress detector may report silence on silence).
pub fn unrelated_signals() -> Vec<(&'static str, Vec<i16>)> {
    vec![
        ("white noise -10 dBm0", white_noise(8000 * 6, -10.0, 21)),
        ("white noise -35 dBm0", white_noise(8000 * 6, -35.0, 22)),
        ("silence", vec![0; 8000 * 6]),
        ("chirp 300-3400 Hz", chirp(300.0, 3400.0, 8000, -10.0)),
        ("chirp 3400-300 Hz", chirp(3400.0, 300.0, 8000, -20.0)),
        ("speech-like 1", speech_like(8000 * 8, 1)),
        ("speech-like 2", speech_like(8000 * 8, 2)),
        ("speech-like 3 + noise", {
            let mut x = speech_like(8000 * 8, 3);
            add_white_noise(&mut x, -35.0, 4);
            x
        }),
    ]
}

/// Fax tones, for the other detectors.
pub fn fax_signals() -> Vec<(&'static str, Vec<i16>)> {
    use super::fax::FaxTone;
    vec![
        ("CNG", FaxTone::Cng.generator(-10.0).unwrap().take(8000 * 8)),
        ("CED", FaxTone::Ced.generator(-10.0).unwrap().take(8000 * 4)),
    ]
}

/// DTMF strings, for the other detectors.
pub fn dtmf_signals() -> Vec<(&'static str, Vec<i16>)> {
    let fast = DtmfSender {
        on_ms: 50,
        off_ms: 50,
        ..DtmfSender::default()
    };
    let slow = DtmfSender {
        on_ms: 400,
        off_ms: 200,
        ..DtmfSender::default()
    };
    vec![
        (
            "DTMF 0-9*#A-D",
            DtmfSender::default()
                .generator("0123456789*#ABCD")
                .unwrap()
                .take(8000 * 4),
        ),
        ("DTMF fast", fast.generator("5551234").unwrap().take(8000)),
        ("DTMF slow", slow.generator("19#").unwrap().take(8000 * 2)),
    ]
}

/// Call progress tones of every plan, for the other detectors.
pub fn progress_signals() -> Vec<(&'static str, Vec<i16>)> {
    let mut v = Vec::new();
    for plan in [NORTH_AMERICA, CEPT, UK] {
        for t in plan.tones {
            v.push((t.name, t.generator(-13.0).unwrap().take(8000 * 12)));
        }
    }
    v.push((
        "SIT",
        progress::sit_generator(-13.0).unwrap().take(8000 * 2),
    ));
    v
}

/// Signals that are not tones at all: they must not panic anything.
pub fn garbage_signals() -> Vec<(&'static str, Vec<i16>)> {
    let square = |period: usize| -> Vec<i16> {
        (0..8000 * 3)
            .map(|i| {
                if (i / (period / 2)).is_multiple_of(2) {
                    i16::MAX
                } else {
                    i16::MIN
                }
            })
            .collect()
    };
    let mut rng = Rng::new(99);
    vec![
        ("square 1100 Hz-ish", square(8)),
        ("square 2 samples", square(2)),
        ("square 100 Hz", square(80)),
        ("DC +max", vec![i16::MAX; 8000 * 3]),
        ("DC min", vec![i16::MIN; 8000 * 3]),
        (
            "random bytes",
            (0..8000 * 3).map(|_| rng.next_u64() as i16).collect(),
        ),
        ("empty", Vec::new()),
        ("one sample", vec![1234]),
    ]
}

/// Everything a one-shot generator plays.
pub fn play(mut g: ToneGenerator) -> Vec<i16> {
    let n = g.pattern_len() as usize;
    g.take(n)
}

/// Call `f` on `x` in random chunks of 1..=700 samples (and some empty ones).
pub fn chunked(x: &[i16], seed: u64, mut f: impl FnMut(&[i16])) {
    let mut rng = Rng::new(seed);
    let mut rest = x;
    while !rest.is_empty() {
        let n = rng.below(701).min(rest.len());
        f(&rest[..n]);
        rest = &rest[n..];
    }
}

/// Run a fresh detector (`make`) over `x` in random chunks and another over `x` whole, check
/// that chunking changed nothing, and return the events.
pub fn detect_chunked<D, E: PartialEq + std::fmt::Debug>(
    x: &[i16],
    seed: u64,
    make: impl Fn() -> D,
    process: impl Fn(&mut D, &[i16], &mut Vec<E>),
) -> Vec<E> {
    let mut d = make();
    let mut ev = Vec::new();
    chunked(x, seed, |c| process(&mut d, c, &mut ev));
    let mut whole = make();
    let mut ev2 = Vec::new();
    process(&mut whole, x, &mut ev2);
    assert_eq!(ev, ev2, "chunking changed the result");
    ev
}

/// Mix `b` into `a` starting at `offset` (saturating), growing `a` as needed.
pub fn mix_at(a: &mut Vec<i16>, offset: usize, b: &[i16]) {
    if a.len() < offset + b.len() {
        a.resize(offset + b.len(), 0);
    }
    for (x, &y) in a[offset..].iter_mut().zip(b) {
        *x = x.saturating_add(y);
    }
}
