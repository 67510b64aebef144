//! Tests of the whole simulator, measuring what comes out against what was asked for.

use super::rng::Xoshiro256;
use super::*;
use crate::modem::rms_to_dbm0;
use std::f64::consts::{PI, TAU};

const FS: f64 = SAMPLE_RATE;

/// Runs `input` through a new line in chunks of `chunk` samples.
fn run(params: LineParams, input: &[i16], chunk: usize) -> Vec<i16> {
    let mut sim = LineSim::new(params);
    let (mut out, mut buf) = (Vec::new(), Vec::new());
    for c in input.chunks(chunk) {
        sim.process(c, &mut buf);
        out.extend_from_slice(&buf);
    }
    out
}

fn tone(f: f64, amp: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| (amp * (TAU * f / FS * i as f64).cos()).round() as i16)
        .collect()
}

fn random_samples(seed: u64, n: usize) -> Vec<i16> {
    let mut r = Xoshiro256::new(seed);
    let mut v: Vec<i16> = (0..n).map(|_| r.next_u64() as i16).collect();
    v.extend([i16::MIN, i16::MAX, 0, -1, 1, i16::MIN, i16::MAX]);
    v
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Complex amplitude a·e^{jθ} of the component a·cos(2πf·n/fs + θ) over `x[start..start+len]`
/// (n absolute, so phases of different windows compare).
fn phasor(x: &[i16], f: f64, start: usize, len: usize) -> (f64, f64) {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate().skip(start).take(len) {
        let w = TAU * f / FS * n as f64;
        re += v as f64 * w.cos();
        im -= v as f64 * w.sin();
    }
    (2.0 * re / len as f64, 2.0 * im / len as f64)
}

fn wrap(phi: f64) -> f64 {
    (phi + PI).rem_euclid(TAU) - PI
}

/// Frequency of the dominant tone near `f_guess` in `x[start..]`, from the slope of its phase
/// across 0.1 s blocks.
fn measure_frequency(x: &[i16], f_guess: f64, start: usize) -> f64 {
    let block = 800;
    let blocks = (x.len() - start) / block;
    let phase = |b: usize| {
        let (re, im) = phasor(x, f_guess, start + b * block, block);
        im.atan2(re)
    };
    let mut total = 0.0;
    let mut last = phase(0);
    for b in 1..blocks {
        let p = phase(b);
        total += wrap(p - last);
        last = p;
    }
    f_guess + total / (TAU * ((blocks - 1) * block) as f64 / FS)
}

#[test]
fn ideal_line_is_the_identity() {
    let x = random_samples(7, 20_000);
    for chunk in [1, 7, 160, 20_007] {
        assert_eq!(run(LineParams::default(), &x, chunk), x, "chunk {chunk}");
    }
    let sim = LineSim::new(LineParams::default());
    assert_eq!(sim.latency_samples(), 0.0);
    // 0 dB of gain and a seed alone change nothing either.
    let p = LineParams {
        gain_db: 0.0,
        seed: 99,
        ..LineParams::default()
    };
    assert_eq!(run(p, &x, 160), x);
}

fn everything(seed: u64) -> LineParams {
    LineParams {
        snr_db: Some(25.0),
        gain_db: -3.0,
        carrier_offset_hz: 7.0,
        drift_ppm: 100.0,
        model: LineModel::Moderate,
        echo: Some(Echo {
            delay_ms: 20.0,
            attenuation_db: 12.0,
        }),
        law: Some(Law::Alaw),
        slip_every: Some(3000),
        seed,
        ..LineParams::default()
    }
}

#[test]
fn deterministic_per_seed_and_chunking() {
    let x = tone(1800.0, 8000.0, 24_000);
    let a = run(everything(1), &x, 160);
    assert_eq!(a, run(everything(1), &x, 160), "same seed, same output");
    assert_ne!(a, run(everything(2), &x, 160), "another seed, other noise");
    for chunk in [1, 13, 441, 24_000] {
        assert_eq!(a, run(everything(1), &x, chunk), "chunks of {chunk}");
    }
    // Noise alone, too.
    let p = |seed| LineParams {
        snr_db: Some(20.0),
        seed,
        ..LineParams::default()
    };
    assert_ne!(run(p(5), &x, 160), run(p(6), &x, 160));
}

#[test]
fn noise_power_matches_the_snr() {
    let n = 80_000; // 10 s
    let silence = vec![0i16; n];
    let reference = dbm0_to_rms(SNR_REFERENCE_DBM0) as f64;
    for snr in [0.0f32, 10.0, 20.0, 30.0, 40.0, 50.0] {
        let p = LineParams {
            snr_db: Some(snr),
            seed: snr as u64,
            ..LineParams::default()
        };
        let out = run(p, &silence, 160);
        let measured = 20.0 * (reference / rms(&out)).log10();
        assert!(
            (measured - snr as f64).abs() < 0.2,
            "SNR {snr}: measured {measured:.3} dB"
        );
        assert!((rms(&out) / noise_rms_for_snr(snr) as f64 - 1.0).abs() < 0.02);
    }
    // With a −13 dBm0 signal present: output − input is the noise.
    let x = tone(1000.0, reference * 2f64.sqrt(), n);
    let p = LineParams {
        snr_db: Some(30.0),
        ..LineParams::default()
    };
    let out = run(p, &x, 160);
    let noise: Vec<i16> = out.iter().zip(&x).map(|(o, i)| o - i).collect();
    let measured = 20.0 * (rms(&x) / rms(&noise)).log10();
    assert!((measured - 30.0).abs() < 0.2, "measured {measured:.3} dB");
    // An explicit level.
    let p = LineParams {
        noise_dbm0: Some(-40.0),
        ..LineParams::default()
    };
    let level = rms_to_dbm0(rms(&run(p, &silence, 160)) as f32);
    assert!((level + 40.0).abs() < 0.2, "noise at {level:.3} dBm0");
}

#[test]
fn noise_is_white() {
    let p = LineParams {
        snr_db: Some(10.0),
        seed: 3,
        ..LineParams::default()
    };
    let out: Vec<f64> = run(p, &vec![0i16; 80_000], 160)
        .iter()
        .map(|&v| v as f64)
        .collect();
    let power: f64 = out.iter().map(|v| v * v).sum();
    for lag in 1..=4 {
        let r: f64 = out.iter().zip(&out[lag..]).map(|(a, b)| a * b).sum();
        assert!(
            (r / power).abs() < 0.02,
            "lag {lag}: correlation {}",
            r / power
        );
    }
    // x[n] + x[n−1] keeps the lower half of the band, x[n] − x[n−1] the upper; white noise
    // has as much power in each.
    let (lo, hi) = out.windows(2).fold((0.0, 0.0), |(lo, hi), w| {
        (lo + (w[1] + w[0]).powi(2), hi + (w[1] - w[0]).powi(2))
    });
    let tilt = 10.0 * (lo / hi).log10();
    assert!(tilt.abs() < 0.1, "0–2 kHz vs 2–4 kHz: {tilt:.3} dB");
}

#[test]
fn carrier_offset_moves_a_1khz_tone() {
    let n = 80_000;
    let x = tone(1000.0, 10_000.0, n);
    for offset in [7.0f32, -7.0, 0.5, 50.0, -123.4] {
        let p = LineParams {
            carrier_offset_hz: offset,
            ..LineParams::default()
        };
        let out = run(p, &x, 160);
        assert_eq!(out.len(), n);
        let want = 1000.0 + offset as f64;
        let f = measure_frequency(&out, want, 1000);
        assert!(
            (f - want).abs() < 0.1,
            "offset {offset}: {f:.4} Hz, want {want}"
        );
        assert!(
            (f - want).abs() < 0.001,
            "offset {offset}: {f:.6} Hz, want {want}"
        );
        // Level kept, and no image at 1000 − offset. 0.5 Hz needs a longer window to resolve.
        let len = if offset.abs() < 1.0 { 64_000 } else { 8000 };
        let (re, im) = phasor(&out, want, 8000, len);
        let level = 20.0 * ((re * re + im * im).sqrt() / 10_000.0).log10();
        assert!(level.abs() < 0.01, "offset {offset}: level {level:.4} dB");
        let (re, im) = phasor(&out, 1000.0 - offset as f64, 8000, len);
        let image = 20.0 * ((re * re + im * im).sqrt() / 10_000.0).log10();
        assert!(image < -60.0, "offset {offset}: image at {image:.1} dB");
    }
}

#[test]
fn drift_ratio_and_frequency() {
    let n = 480_000; // 60 s
    let x = tone(1000.0, 10_000.0, n);
    for ppm in [100.0f32, -100.0, 1000.0, -1000.0, 10_000.0, -10_000.0, 0.5] {
        let p = LineParams {
            drift_ppm: ppm,
            ..LineParams::default()
        };
        let ratio = 1.0 + ppm as f64 * 1e-6;
        // Within a sample of the ideal count after every chunk, not just at the end.
        let mut sim = LineSim::new(p);
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        for (i, c) in x.chunks(160).enumerate() {
            sim.process(c, &mut buf);
            out.extend_from_slice(&buf);
            let want = ((i + 1) * 160) as f64 * ratio;
            assert!(
                (out.len() as f64 - want).abs() <= 1.0,
                "{ppm} ppm: {} samples out for {} in, want {want:.2}",
                out.len(),
                (i + 1) * 160
            );
        }
        // The tone comes out at f / ratio, at its level.
        let f = measure_frequency(&out[..80_000], 1000.0 / ratio, 1000);
        assert!((f - 1000.0 / ratio).abs() < 0.001, "{ppm} ppm: {f:.5} Hz");
        let (re, im) = phasor(&out, 1000.0 / ratio, 8000, 8000);
        let level = 20.0 * ((re * re + im * im).sqrt() / 10_000.0).log10();
        assert!(level.abs() < 0.01, "{ppm} ppm: level {level:.4} dB");
    }
}

#[test]
fn drift_keeps_its_phase_across_chunks() {
    let x = tone(2900.0, 12_000.0, 30_000);
    let p = LineParams {
        drift_ppm: -250.0,
        ..LineParams::default()
    };
    let whole = run(p, &x, 30_000);
    for chunk in [1, 3, 159, 160, 161, 4096] {
        assert_eq!(run(p, &x, chunk), whole, "chunks of {chunk}");
    }
}

/// Gain (dB) and group delay (samples) of a line at `f`, measured with tones.
fn measure_response(p: LineParams, f: f64) -> (f64, f64) {
    let h = |f: f64| {
        let x = tone(f, 8000.0, 16_000);
        let y = run(p, &x, 160);
        let (xr, xi) = phasor(&x, f, 8000, 8000);
        let (yr, yi) = phasor(&y, f, 8000, 8000);
        // y/x
        let d = xr * xr + xi * xi;
        ((yr * xr + yi * xi) / d, (yi * xr - yr * xi) / d)
    };
    let (re, im) = h(f);
    let gain_db = 10.0 * (re * re + im * im).log10();
    let d = 5.0;
    let (r1, i1) = h(f + d);
    let (r0, i0) = h(f - d);
    let dphi = wrap(i1.atan2(r1) - i0.atan2(r0));
    (gain_db, -dphi / (TAU * 2.0 * d / FS))
}

#[test]
fn channel_models_measured() {
    // (model, [(f, gain dB, group delay ms above the bulk delay)]) as documented.
    let table = [
        (
            LineModel::Flat,
            [(500.0, 0.0, 0.0), (1000.0, 0.0, 0.0), (3000.0, 0.0, 0.0)],
        ),
        (
            LineModel::Moderate,
            [(500.0, -1.0, 1.2), (1000.0, 0.0, 0.3), (3000.0, -2.0, 1.0)],
        ),
        (
            LineModel::Severe,
            [(500.0, -3.0, 3.0), (1000.0, 0.0, 0.5), (3000.0, -6.0, 4.0)],
        ),
    ];
    for (model, points) in table {
        let p = LineParams {
            model,
            ..LineParams::default()
        };
        let sim = LineSim::new(p);
        for (f, gain, gdd_ms) in points {
            let (g, tau) = measure_response(p, f);
            let want_tau = BULK_DELAY as f64 + gdd_ms * 8.0;
            assert!((model.gain_db(f) - gain).abs() < 1e-9);
            assert!((sim.group_delay_samples(f) - want_tau).abs() < 1e-9);
            assert!(
                (g - gain).abs() < 0.1,
                "{model:?} {f} Hz: {g:.3} dB, want {gain}"
            );
            assert!(
                (tau - want_tau).abs() < 0.4,
                "{model:?} {f} Hz: delay {tau:.2} samples, want {want_tau}"
            );
        }
    }
    // Model 1's band edges.
    let p = LineParams {
        model: LineModel::Flat,
        ..LineParams::default()
    };
    for f in [300.0, 3400.0] {
        let (g, tau) = measure_response(p, f);
        assert!((g + 3.01).abs() < 0.1, "{f} Hz: {g:.3} dB");
        assert!((tau - BULK_DELAY as f64).abs() < 0.4, "{f} Hz: {tau:.2}");
    }
    for f in [100.0, 3700.0] {
        let (g, _) = measure_response(p, f);
        assert!(g < -50.0, "{f} Hz: {g:.1} dB");
    }
}

/// Where the biggest sample of `y` is.
fn peak(y: &[i16]) -> usize {
    (0..y.len()).max_by_key(|&i| (y[i] as i32).abs()).unwrap()
}

fn click(n: usize, at: usize) -> Vec<i16> {
    let mut x = vec![0i16; n];
    x[at] = 10_000;
    x
}

#[test]
fn delays_of_offset_and_drift_stages() {
    let x = click(4000, 1000);
    // A tiny offset leaves the Hilbert delay and a nearly unchanged signal.
    let p = LineParams {
        carrier_offset_hz: 0.001,
        ..LineParams::default()
    };
    let y = run(p, &x, 160);
    assert_eq!(LineSim::new(p).latency_samples(), 63.0);
    assert_eq!(peak(&y), 1063);
    assert!((y[1063] - 10_000).abs() <= 1);
    let p = LineParams {
        drift_ppm: 1.0,
        ..LineParams::default()
    };
    let y = run(p, &x, 160);
    assert_eq!(LineSim::new(p).latency_samples(), 24.0);
    assert_eq!(peak(&y), 1024);
    let p = LineParams {
        model: LineModel::Flat,
        carrier_offset_hz: 1.0,
        drift_ppm: 1.0,
        ..LineParams::default()
    };
    assert_eq!(LineSim::new(p).latency_samples(), (80 + 63 + 24) as f64);
}

#[test]
fn echo_delay_and_level() {
    let x = click(2000, 100);
    for (ms, db, d) in [(50.0, 10.0, 400), (0.125, 0.0, 1), (12.3, 20.0, 98)] {
        let p = LineParams {
            echo: Some(Echo {
                delay_ms: ms,
                attenuation_db: db,
            }),
            ..LineParams::default()
        };
        let y = run(p, &x, 160);
        let copy = (10_000.0 * 10f64.powf(-db as f64 / 20.0)).round() as i16;
        for (n, &v) in y.iter().enumerate() {
            let want = match n {
                100 if d > 0 => 10_000,
                _ if n == 100 + d => copy,
                _ => 0,
            };
            assert_eq!(v, want, "echo {ms} ms {db} dB, sample {n}");
        }
    }
}

#[test]
fn g711_through_the_line() {
    let x = random_samples(11, 50_000);
    for law in [Law::Ulaw, Law::Alaw] {
        let p = LineParams {
            law: Some(law),
            ..LineParams::default()
        };
        let y = run(p, &x, 160);
        assert_eq!(y.len(), x.len());
        for (&a, &b) in x.iter().zip(&y) {
            assert_eq!(b, super::g711::round_trip(law, a));
            // Within one step: at most 1/16 of the value's magnitude, at least 8 or 16 near 0,
            // and the clipped range beyond the top code.
            let err = (a as i32 - b as i32).abs();
            let top = if law == Law::Ulaw { 32124 } else { 32256 };
            let bound = ((a as i32).abs() / 16).max(16) + ((a as i32).abs() - top).max(0);
            assert!(err <= bound, "{law:?}: {a} → {b}");
        }
        // Noise before the codec: every output is a code's value.
        let p = LineParams {
            law: Some(law),
            snr_db: Some(20.0),
            ..LineParams::default()
        };
        for v in run(p, &x, 160) {
            assert_eq!(super::g711::round_trip(law, v), v);
        }
    }
}

#[test]
fn gain_and_saturation() {
    let x: Vec<i16> = vec![1000, -1000, 20_000, -20_000, 16_382, i16::MAX, i16::MIN, 0];
    let p = LineParams {
        gain_db: 20.0 * 2f32.log10(),
        ..LineParams::default()
    };
    assert_eq!(
        run(p, &x, 3),
        [2000, -2000, 32767, -32768, 32764, 32767, -32768, 0]
    );
    let p = LineParams {
        gain_db: -20.0 * 2f32.log10(),
        ..LineParams::default()
    };
    assert_eq!(
        run(p, &x, 3),
        [500, -500, 10_000, -10_000, 8191, 16383, -16384, 0]
    );
}

#[test]
fn slips_drop_or_repeat() {
    let x: Vec<i16> = (0..10_000).map(|i| i as i16).collect();
    let p = LineParams {
        slip_every: Some(100),
        ..LineParams::default()
    };
    let y = run(p, &x, 37);
    assert_eq!(y.len(), 9900);
    let want: Vec<i16> = x.iter().copied().filter(|v| v % 100 != 99).collect();
    assert_eq!(y, want);
    let p = LineParams {
        slip_every: Some(100),
        slip_repeat: true,
        ..LineParams::default()
    };
    let y = run(p, &x, 41);
    assert_eq!(y.len(), 10_100);
    let want: Vec<i16> = x
        .iter()
        .flat_map(|&v| if v % 100 == 99 { vec![v, v] } else { vec![v] })
        .collect();
    assert_eq!(y, want);
}

#[test]
fn parse_queries() {
    let p = LineParams::from_query("snr=30&offset_hz=7&drift_ppm=100&model=2&law=ulaw").unwrap();
    assert_eq!(
        p,
        LineParams {
            snr_db: Some(30.0),
            carrier_offset_hz: 7.0,
            drift_ppm: 100.0,
            model: LineModel::Moderate,
            law: Some(Law::Ulaw),
            ..LineParams::default()
        }
    );
    assert_eq!(LineParams::from_query("").unwrap(), LineParams::default());
    assert_eq!(LineParams::from_query("?").unwrap(), LineParams::default());
    let p = LineParams::from_query(
        "?noise_dbm0=-45.5&gain=-6&model=severe&echo_ms=30&law=alaw\
         &slip_every=8000&slip=repeat&seed=0x10",
    )
    .unwrap();
    assert_eq!(p.noise_dbm0, Some(-45.5));
    assert_eq!(p.gain_db, -6.0);
    assert_eq!(p.model, LineModel::Severe);
    assert_eq!(
        p.echo,
        Some(Echo {
            delay_ms: 30.0,
            attenuation_db: 15.0
        })
    );
    assert_eq!(p.law, Some(Law::Alaw));
    assert_eq!(p.slip_every, Some(8000));
    assert!(p.slip_repeat);
    assert_eq!(p.seed, 16);
    // Canonical form round trip.
    for q in [
        "",
        "snr=30&offset_hz=7&drift_ppm=100&model=2&law=ulaw",
        "noise_dbm0=-45.5&gain=-6&model=3&echo_ms=30&echo_db=15&law=alaw\
         &slip_every=8000&slip=repeat&seed=16",
        "snr=12.34&drift_ppm=-0.1&echo_ms=0.125&echo_db=0&slip_every=2&seed=18446744073709551615",
    ] {
        let p = LineParams::from_query(q).unwrap();
        assert_eq!(p.to_query(), q);
        assert_eq!(LineParams::from_query(&p.to_query()).unwrap(), p);
        p.validate().unwrap();
    }
    assert_eq!(LineParams::default().to_string(), "sim:");
    assert_eq!(
        LineParams::from_query("model=1&snr=20")
            .unwrap()
            .to_string(),
        "sim:?snr=20&model=1"
    );
}

#[test]
fn parse_errors_name_the_culprit() {
    let err = |q: &str| LineParams::from_query(q).unwrap_err();
    assert_eq!(
        err("snr=30&foo=1"),
        ParamError::UnknownKey { key: "foo".into() }
    );
    assert_eq!(err("snr"), ParamError::MissingValue { key: "snr".into() });
    assert_eq!(err("snr=1&snr=2"), ParamError::Duplicate { key: "snr" });
    for (q, key) in [
        ("snr=NaN", "snr"),
        ("snr=nan", "snr"),
        ("snr=inf", "snr"),
        ("snr=1e30", "snr"),
        ("snr=", "snr"),
        ("snr=thirty", "snr"),
        ("gain=41", "gain"),
        ("gain=-inf", "gain"),
        ("offset_hz=1e9", "offset_hz"),
        ("drift_ppm=-10001", "drift_ppm"),
        ("drift_ppm=NaN", "drift_ppm"),
        ("noise_dbm0=20", "noise_dbm0"),
        ("model=4", "model"),
        ("model=-1", "model"),
        ("model=99999999999999999999999", "model"),
        ("model=bumpy", "model"),
        ("law=g722", "law"),
        ("echo_ms=0", "echo_ms"),
        ("echo_ms=1e6", "echo_ms"),
        ("echo_ms=10&echo_db=-3", "echo_db"),
        ("slip_every=1", "slip_every"),
        ("slip_every=0", "slip_every"),
        ("slip_every=-5", "slip_every"),
        ("slip_every=1.5", "slip_every"),
        ("slip_every=3&slip=sideways", "slip"),
        ("seed=18446744073709551616", "seed"),
        ("seed=-1", "seed"),
    ] {
        match err(q) {
            ParamError::BadValue { key: k, .. } => assert_eq!(k, key, "{q}"),
            other => panic!("{q}: {other:?}"),
        }
    }
    assert_eq!(
        err("snr=30&noise_dbm0=-40"),
        ParamError::Conflict {
            first: "snr",
            second: "noise_dbm0"
        }
    );
    assert_eq!(
        err("echo_db=10"),
        ParamError::Requires {
            key: "echo_db",
            needs: "echo_ms"
        }
    );
    assert_eq!(
        err("slip=repeat"),
        ParamError::Requires {
            key: "slip",
            needs: "slip_every"
        }
    );
    // Messages say which key and value.
    assert_eq!(
        err("drift_ppm=lots").to_string(),
        "line parameter `drift_ppm=lots`: expected a number of ppm in -10000..=10000"
    );
    // Garbage values are cut short in the message.
    let long = format!("snr={}", "9".repeat(1000));
    match err(&long) {
        ParamError::BadValue { value, .. } => assert_eq!(value.chars().count(), 40),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_never_panics() {
    // Queries built from the grammar's own pieces and some junk.
    let pieces = [
        "snr",
        "noise_dbm0",
        "gain",
        "offset_hz",
        "drift_ppm",
        "model",
        "echo_ms",
        "echo_db",
        "law",
        "slip_every",
        "slip",
        "seed",
        "=",
        "&",
        "?",
        "1",
        "-1",
        "0",
        "3",
        "NaN",
        "inf",
        "1e38",
        "-1e38",
        "0x",
        "ulaw",
        "repeat",
        "é",
        "\u{0}",
        " ",
        "2.5",
        "99999999999999999999",
    ];
    let mut r = Xoshiro256::new(1234);
    let x = tone(1000.0, 30_000.0, 64);
    let mut out = Vec::new();
    for _ in 0..20_000 {
        let n = (r.next_u64() % 8) as usize;
        let q: String = (0..n)
            .map(|_| pieces[(r.next_u64() % pieces.len() as u64) as usize])
            .collect();
        if let Ok(p) = LineParams::from_query(&q) {
            p.validate().unwrap();
            LineSim::new(p).process(&x, &mut out);
        }
    }
    // Parameters built in code with garbage: `new` clamps, `try_new` refuses.
    let bad = [
        LineParams {
            snr_db: Some(f32::NAN),
            gain_db: f32::INFINITY,
            carrier_offset_hz: f32::NAN,
            drift_ppm: 1e30,
            ..LineParams::default()
        },
        LineParams {
            noise_dbm0: Some(f32::INFINITY),
            carrier_offset_hz: -1e30,
            drift_ppm: f32::NEG_INFINITY,
            echo: Some(Echo {
                delay_ms: 1e30,
                attenuation_db: f32::NAN,
            }),
            slip_every: Some(0),
            ..LineParams::default()
        },
        LineParams {
            echo: Some(Echo {
                delay_ms: -5.0,
                attenuation_db: -1e9,
            }),
            slip_every: Some(1),
            slip_repeat: true,
            gain_db: f32::NAN,
            ..LineParams::default()
        },
    ];
    for p in bad {
        assert!(LineSim::try_new(p).is_err(), "{p:?}");
        let mut sim = LineSim::new(p);
        sim.params().validate().unwrap();
        sim.process(&x, &mut out);
        sim.process(&x, &mut out);
    }
}
