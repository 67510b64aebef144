//! `softfax ber MODEM --rate BPS [--snr-from DB --snr-to DB --step DB] [--plot FILE.png]`:
//! a bit-error-rate sweep through the line simulator (`docs/contracts/cli.md`).
//!
//! Method (the one spandsp's published figures use, so the numbers compare): a PRBS 2²³−1
//! from the transmitter at −13 dBm0, one long transmission after one training, white
//! Gaussian noise across the whole 0–4 kHz band with SNR = power of a −13 dBm0 signal over
//! the noise power, BER counted after the descrambler once the receiver has trained (the
//! first 64 bits after training are not counted, nor any after the transmission). Each point
//! uses its own seed, so a run is repeatable.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use softfax_dsp::linesim::{LineParams, LineSim};
use softfax_dsp::modem::common::{Prbs23, PrbsChecker};
use softfax_dsp::modem::{RxEvent, RxSink};

use super::modem::{MakeError, ModemKind, make_rx, make_tx, name};

#[derive(Debug, Args)]
pub struct BerArgs {
    pub modem: ModemKind,
    #[arg(long)]
    pub rate: u32,
    #[arg(long, allow_negative_numbers = true)]
    pub snr_from: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    pub snr_to: Option<f64>,
    #[arg(long)]
    pub step: Option<f64>,
    /// PRBS bits per point.
    #[arg(long, default_value_t = 100_000)]
    pub bits: u64,
    /// Also draw the curve as PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// One measured point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub snr_db: f64,
    pub bits: u64,
    pub errors: u64,
    pub trained: bool,
}

impl Point {
    pub fn ber(&self) -> f64 {
        if self.bits == 0 {
            1.0
        } else {
            self.errors as f64 / self.bits as f64
        }
    }
}

struct Check {
    skip: u32,
    /// Bits still to count: the receiver keeps producing bits from noise until it sees the
    /// carrier go, and those are not part of the transmission.
    remaining: u64,
    open: bool,
    trained: bool,
    needs_training: bool,
    chk: PrbsChecker,
}

impl RxSink for Check {
    fn put_bit(&mut self, bit: bool) {
        if !self.open {
            return;
        }
        if self.skip > 0 {
            self.skip -= 1;
        } else if self.remaining > 0 {
            self.remaining -= 1;
            self.chk.put(bit);
        }
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded => {
                self.trained = true;
                self.open = true;
            }
            RxEvent::CarrierUp if !self.needs_training => {
                self.trained = true;
                self.open = true;
            }
            RxEvent::CarrierDown => self.open = false,
            _ => {}
        }
    }
}

/// Measure one point: `bits` PRBS bits through a line with `params`.
pub fn measure(
    kind: ModemKind,
    rate: u32,
    bits: u64,
    params: LineParams,
) -> Result<Point, MakeError> {
    let mut tx = make_tx(kind, rate, -13.0)?;
    let mut rx = make_rx(kind, rate)?;
    let snr_db = params.snr_db.unwrap_or(f32::INFINITY) as f64;
    let mut line = LineSim::new(params);
    let mut prbs = Prbs23::default();
    let mut sent = 0u64;
    let mut src = move || {
        sent += 1;
        (sent <= bits).then(|| prbs.next_bit())
    };
    let mut sink = Check {
        skip: 64,
        remaining: bits.saturating_sub(64 + 32),
        open: false,
        trained: false,
        needs_training: kind != ModemKind::V21,
        chk: PrbsChecker::default(),
    };
    let mut buf = [0i16; 160];
    let mut through = Vec::with_capacity(200);
    // Lead-in silence (noise only), the transmission, then silence for the tail.
    let mut tail = 0;
    loop {
        let n = if tail == 0 {
            tx.transmit(&mut buf, &mut src)
        } else {
            0
        };
        buf[n..].fill(0);
        through.clear();
        line.process(&buf, &mut through);
        rx.receive(&through, &mut sink);
        if n < buf.len() {
            tail += 1;
            if tail > 25 {
                break;
            }
        }
    }
    Ok(Point {
        snr_db,
        bits: sink.chk.bits,
        errors: sink.chk.errors,
        trained: sink.trained,
    })
}

/// Default sweep per modem and rate (from far below to a little past the error-free point).
pub fn default_range(kind: ModemKind, rate: u32) -> (f64, f64, f64) {
    match (kind, rate) {
        (ModemKind::V21, _) => (0.0, 12.0, 1.0),
        (ModemKind::V27ter, 2400) => (4.0, 16.0, 1.0),
        (ModemKind::V27ter, _) => (8.0, 20.0, 1.0),
        (ModemKind::V29, 7200) => (10.0, 22.0, 1.0),
        (ModemKind::V29, _) => (12.0, 24.0, 1.0),
        (ModemKind::V17, 7200) => (8.0, 20.0, 1.0),
        (ModemKind::V17, 9600) => (10.0, 22.0, 1.0),
        (ModemKind::V17, 12000) => (14.0, 26.0, 1.0),
        (ModemKind::V17, _) => (16.0, 28.0, 1.0),
    }
}

/// `softfax ber`.
pub fn run(args: &BerArgs) -> anyhow::Result<ExitCode> {
    let BerArgs {
        modem: kind,
        rate,
        snr_from,
        snr_to,
        step,
        bits,
        ref plot,
    } = *args;
    let (f, t, s) = default_range(kind, rate);
    let (from, to, step) = (
        snr_from.unwrap_or(f),
        snr_to.unwrap_or(t),
        step.unwrap_or(s),
    );
    anyhow::ensure!(
        step > 0.0 && from.is_finite() && to.is_finite() && to >= from,
        "need --snr-from ≤ --snr-to and --step > 0"
    );
    anyhow::ensure!(
        ((to - from) / step) < 1000.0,
        "more than 1000 points: use a larger --step"
    );
    // Fail early on a rate the modem does not have.
    super::modem::rate(kind, rate)?;
    let snrs: Vec<f64> = (0..)
        .map(|i| from + i as f64 * step)
        .take_while(|&x| x <= to + 1e-9)
        .collect();
    let bar = indicatif::ProgressBar::new(snrs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} points, {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} {rate}", name(kind)));
    println!(
        "{:>8} {:>10} {:>8} {:>12} {:>8}",
        "snr_db", "bits", "errors", "ber", "trained"
    );
    let mut points = Vec::new();
    for (i, &snr) in snrs.iter().enumerate() {
        let params = LineParams {
            snr_db: Some(snr as f32),
            seed: 0x5EED_0000 + i as u64,
            ..Default::default()
        };
        let p = measure(kind, rate, bits, params)?;
        let ber = if p.errors == 0 {
            "0".to_string()
        } else {
            format!("{:.3e}", p.ber())
        };
        bar.suspend(|| {
            println!(
                "{:>8.1} {:>10} {:>8} {:>12} {:>8}",
                snr,
                p.bits,
                p.errors,
                ber,
                if p.trained { "yes" } else { "no" }
            )
        });
        bar.inc(1);
        points.push(p);
    }
    bar.finish_and_clear();
    if let Some(path) = plot {
        let series = crate::plot::Series {
            label: format!("{} {rate}", name(kind)),
            peer: false,
            points: points
                .iter()
                .map(|p| (p.snr_db, if p.trained { p.ber() } else { 1.0 }))
                .collect(),
        };
        let chart = crate::plot::ber_chart(
            &format!("{} {rate} BIT/S, PRBS, AWGN", name(kind)),
            &[series],
        );
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        chart
            .write_png(std::io::BufWriter::new(f))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let clean = points.iter().rev().find(|p| p.errors == 0 && p.trained);
    if let Some(p) = clean {
        eprintln!(
            "{} {rate}: no errors in {} bits at {:.1} dB (BER < {:.1e})",
            name(kind),
            p.bits,
            p.snr_db,
            1.0 / p.bits.max(1) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}
