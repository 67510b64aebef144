//! Test helpers of every modem's unit tests: a seeded Gaussian source, a resampler, PRBS bit sources and BER counting.

use crate::modem::common::Prbs23;
use crate::modem::{Collect, GetBit, Receiver, RxEvent, RxQuality, Transmitter};

/// A seeded Gaussian generator (SplitMix64 + Box–Muller).
pub struct Gauss {
    state: u64,
    spare: Option<f64>,
}

impl Gauss {
    pub fn new(seed: u64) -> Gauss {
        Gauss {
            state: seed,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn sample(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * v).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

/// Add white Gaussian noise across the band so that a `signal_dbm0` signal sees `snr_db`.
pub fn add_noise(x: &[i16], signal_dbm0: f32, snr_db: f32, seed: u64) -> Vec<i16> {
    let rms = crate::modem::dbm0_to_rms(signal_dbm0 - snr_db) as f64;
    let mut g = Gauss::new(seed);
    x.iter()
        .map(|&v| {
            (v as f64 + g.sample() * rms)
                .round()
                .clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// Resample by `ratio` (output rate / input rate), windowed-sinc interpolation: a far end
/// whose clock runs at (1/ratio − 1)·10⁶ ppm relative to ours.
pub fn resample(x: &[i16], ratio: f64) -> Vec<i16> {
    const HALF: i64 = 16;
    let n_out = ((x.len() as f64) * ratio) as usize;
    (0..n_out)
        .map(|i| {
            let t = i as f64 / ratio;
            let k0 = t.floor() as i64;
            let mut acc = 0.0;
            for k in k0 - HALF + 1..=k0 + HALF {
                if k < 0 || k as usize >= x.len() {
                    continue;
                }
                let d = t - k as f64;
                let sinc = if d.abs() < 1e-12 {
                    1.0
                } else {
                    (std::f64::consts::PI * d).sin() / (std::f64::consts::PI * d)
                };
                let w = 0.5 + 0.5 * (std::f64::consts::PI * d / HALF as f64).cos();
                acc += x[k as usize] as f64 * sinc * w;
            }
            acc.round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// A line as an FIR filter `h` at 8000 samples/s (amplitude and delay distortion, echoes).
pub fn channel(x: &[i16], h: &[f64]) -> Vec<i16> {
    (0..x.len())
        .map(|n| {
            let acc: f64 = h
                .iter()
                .enumerate()
                .filter(|&(k, _)| n >= k)
                .map(|(k, c)| c * x[n - k] as f64)
                .sum();
            acc.round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// Lines for the equaliser tests: mild distortion, an echo 0.75 ms late, and a slope of
/// about 15 dB across the band.
pub const LINES: [(&str, &[f64]); 3] = [
    ("mild", &[0.05, -0.15, 1.0, 0.25, -0.1, 0.05]),
    (
        "echo",
        &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0, -0.15],
    ),
    ("slope", &[0.3, 0.5, 0.3, -0.2, -0.1]),
];

/// `n` bits of the PRBS.
pub fn prbs(n: usize) -> Vec<bool> {
    let mut p = Prbs23::default();
    (0..n).map(|_| p.next_bit()).collect()
}

/// Run a transmitter over `bits` with `lead` samples of silence before and `tail` after.
pub fn transmit(tx: &mut dyn Transmitter, bits: &[bool], lead: usize, tail: usize) -> Vec<i16> {
    let mut out = vec![0i16; lead];
    let mut it = bits.iter().copied();
    let mut src = move || it.next();
    let mut buf = [0i16; 160];
    let mut guard = 0;
    loop {
        let n = tx.transmit(&mut buf, &mut src as &mut dyn GetBit);
        out.extend_from_slice(&buf[..n]);
        if n < buf.len() {
            break;
        }
        guard += 1;
        assert!(guard < 10_000_000, "transmitter never ends");
    }
    out.extend(std::iter::repeat_n(0, tail));
    out
}

/// Feed a receiver in chunks of varying size.
pub fn receive(rx: &mut dyn Receiver, samples: &[i16]) -> Collect {
    let mut c = Collect::default();
    let sizes = [160usize, 1, 7, 333, 80, 2];
    let mut i = 0;
    let mut k = 0;
    while i < samples.len() {
        let n = sizes[k % sizes.len()].min(samples.len() - i);
        rx.receive(&samples[i..i + n], &mut c);
        i += n;
        k += 1;
    }
    c
}

/// The receivers' `receiver_speed` tests (ignored; run with `--ignored --nocapture`): 20
/// passes of a fresh receiver from `make` over `line` in blocks of 160 samples; prints
/// `{what} rx:` Msamples/s, the real-time channels per core and the bits received.
pub fn time_receiver<R: Receiver>(what: &str, line: &[i16], mut make: impl FnMut() -> R) {
    let t0 = std::time::Instant::now();
    let reps = 20;
    let mut nbits = 0;
    for _ in 0..reps {
        let mut rx = make();
        let mut c = Collect::default();
        for chunk in line.chunks(160) {
            rx.receive(chunk, &mut c);
        }
        nbits += c.bits.len();
    }
    let secs = t0.elapsed().as_secs_f64();
    let sps = (line.len() * reps) as f64 / secs;
    eprintln!(
        "{what} rx: {:.1} Msamples/s = {:.0} channels per core ({nbits} bits)",
        sps / 1e6,
        sps / 8000.0
    );
}

/// Errors of `got` against `sent`, when `got` is expected to start with `sent` exactly
/// (extra bits at the end are ignored). Returns (compared, errors).
pub fn count_errors(got: &[bool], sent: &[bool]) -> (usize, usize) {
    let n = got.len().min(sent.len());
    (
        n,
        got[..n]
            .iter()
            .zip(&sent[..n])
            .filter(|(a, b)| a != b)
            .count(),
    )
}

/// The events, without positions.
pub fn events(c: &Collect) -> Vec<RxEvent> {
    c.events.iter().map(|e| e.1).collect()
}

/// Inputs no receiver may train on (or panic over): silence, DC, full-scale DC, a square
/// wave at the rails, noise, a clipped tone.
pub fn garbage() -> Vec<(&'static str, Vec<i16>)> {
    let mut seed = 1u32;
    let mut rnd = move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (seed >> 16) as i16
    };
    vec![
        ("silence", vec![0; 20_000]),
        ("dc", vec![12_000; 20_000]),
        ("full-scale dc", vec![i16::MIN; 20_000]),
        (
            "square",
            (0..20_000)
                .map(|i| if i % 6 < 3 { i16::MAX } else { i16::MIN })
                .collect(),
        ),
        ("noise", (0..40_000).map(|_| rnd()).collect()),
        (
            "clipped tone",
            (0..20_000)
                .map(|i| ((i as f32 * 0.3).sin() * 1e6).clamp(-32768.0, 32767.0) as i16)
                .collect(),
        ),
    ]
}

/// What a receiver fed [`garbage`] `what` must show: finite quality figures, no training
/// and no bits, and for silence no event at all.
pub fn assert_untrained(what: &str, rx: &dyn Receiver, c: &Collect) {
    let q = rx.quality();
    assert!(q.is_finite(), "{what}: {q:?}");
    let ev = events(c);
    assert!(
        !ev.contains(&RxEvent::TrainingSucceeded) && c.bits.is_empty(),
        "{what}: {ev:?}"
    );
    if what == "silence" {
        assert!(ev.is_empty(), "{what}: {ev:?}");
    }
}

/// The bit error rate of `rx` on `line`, which carries `bits` after a training `rx` must
/// succeed on, with nearly all the bits delivered; and the quality it ends with.
pub fn bit_error_rate(
    rx: &mut dyn Receiver,
    line: &[i16],
    bits: &[bool],
    what: &str,
) -> (f64, RxQuality) {
    let c = receive(rx, line);
    assert_eq!(
        events(&c)[..2],
        [RxEvent::CarrierUp, RxEvent::TrainingSucceeded],
        "{what}"
    );
    let (n, e) = count_errors(&c.bits, bits);
    assert!(n + 10 >= bits.len(), "{what}: only {n} bits");
    (e as f64 / n as f64, rx.quality())
}
