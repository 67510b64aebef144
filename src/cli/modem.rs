//! `softfax modem tx|rx` (`docs/contracts/cli.md`): raw modem transmit and receive on s16le
//! 8 kHz audio; and the modem named on the command line ([`ModemKind`]), which `ber` takes too.
//!
//! - `modem tx MODEM --rate BPS [--input FILE] [--level DBM0]`: training, then the bytes of
//!   FILE (or stdin), each byte LSB first, as s16le on stdout.
//! - `modem rx MODEM --rate BPS`: s16le on stdin; the bytes received after training (LSB
//!   first) on stdout; a summary on stderr (training result, bits, level, SNR, carrier and
//!   timing offset).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use softfax_dsp::modem::{Modem, Rate, Receiver, RxEvent, RxSink, Training, Transmitter, factory};

#[derive(Debug, Subcommand)]
pub enum ModemCommand {
    /// Training, then the bytes of FILE (or stdin), as s16le 8 kHz on stdout.
    Tx {
        modem: ModemKind,
        #[arg(long)]
        rate: u32,
        #[arg(long)]
        input: Option<PathBuf>,
        /// Transmit level, dBm0.
        #[arg(long, default_value_t = -13.0, allow_negative_numbers = true)]
        level: f32,
    },
    /// s16le 8 kHz on stdin; the bytes received on stdout; a summary on stderr.
    Rx {
        modem: ModemKind,
        #[arg(long)]
        rate: u32,
        #[arg(long)]
        constellation: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModemKind {
    V21,
    V27ter,
    V29,
    V17,
}

/// Run one `modem` subcommand.
pub fn run(cmd: ModemCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModemCommand::Tx {
            modem,
            rate,
            input,
            level,
        } => tx(modem, rate, input.as_deref(), level),
        ModemCommand::Rx {
            modem,
            rate,
            constellation,
        } => rx(modem, rate, constellation.as_deref()),
    }
}

/// The modem a command-line name stands for.
pub fn modem(kind: ModemKind) -> Modem {
    match kind {
        ModemKind::V21 => Modem::V21,
        ModemKind::V27ter => Modem::V27ter,
        ModemKind::V29 => Modem::V29,
        ModemKind::V17 => Modem::V17,
    }
}

/// The rates each modem offers.
pub fn rates(kind: ModemKind) -> &'static [u32] {
    modem(kind).rates()
}

/// The name used on the command line.
pub fn name(kind: ModemKind) -> &'static str {
    match kind {
        ModemKind::V21 => "v21",
        ModemKind::V27ter => "v27ter",
        ModemKind::V29 => "v29",
        ModemKind::V17 => "v17",
    }
}

/// Why a modem cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error("{modem} does not run at {rate} bit/s (it offers {offered:?})")]
    BadRate {
        modem: &'static str,
        rate: u32,
        offered: &'static [u32],
    },
}

/// `kind` at `bps`, named as on the command line if it has no such rate.
pub fn rate(kind: ModemKind, bps: u32) -> Result<Rate, MakeError> {
    Rate::new(modem(kind), bps).map_err(|e| MakeError::BadRate {
        modem: name(kind),
        rate: e.bps,
        offered: e.offered,
    })
}

/// A transmitter for `kind` at `rate`, with the long training.
pub fn make_tx(
    kind: ModemKind,
    rate: u32,
    level_dbm0: f32,
) -> Result<Box<dyn Transmitter>, MakeError> {
    Ok(factory::transmitter(
        self::rate(kind, rate)?,
        level_dbm0,
        Training::Long,
    ))
}

/// A receiver for `kind` at `rate`.
pub fn make_rx(kind: ModemKind, rate: u32) -> Result<Box<dyn Receiver>, MakeError> {
    Ok(factory::receiver(self::rate(kind, rate)?))
}

/// `modem tx`.
pub fn tx(
    kind: ModemKind,
    rate: u32,
    input: Option<&Path>,
    level_dbm0: f32,
) -> anyhow::Result<ExitCode> {
    let mut t = make_tx(kind, rate, level_dbm0)?;
    let data = match input {
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .context("cannot read stdin")?;
            v
        }
    };
    let mut bits = data
        .iter()
        .flat_map(|b| (0..8).map(move |i| b >> i & 1 != 0));
    let mut src = move || bits.next();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = [0i16; 160];
    let mut bytes = Vec::with_capacity(320);
    loop {
        let n = t.transmit(&mut buf, &mut src);
        bytes.clear();
        bytes.extend(buf[..n].iter().flat_map(|s| s.to_le_bytes()));
        out.write_all(&bytes).context("cannot write stdout")?;
        if n < buf.len() {
            break;
        }
    }
    out.flush().context("cannot write stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Collects the bits that come while a trained carrier is up, packing bytes LSB first.
#[derive(Debug, Default)]
struct Bytes {
    needs_training: bool,
    open: bool,
    trained: Option<bool>,
    bits: u64,
    acc: u8,
    n: u8,
    out: Vec<u8>,
}

impl RxSink for Bytes {
    fn put_bit(&mut self, bit: bool) {
        if !self.open {
            return;
        }
        self.bits += 1;
        self.acc |= (bit as u8) << self.n;
        self.n += 1;
        if self.n == 8 {
            self.out.push(self.acc);
            self.acc = 0;
            self.n = 0;
        }
    }
    fn put_bits(&mut self, bits: u32, n: u32) {
        if !self.open || n == 0 {
            return;
        }
        let n = n.min(32);
        self.bits += n as u64;
        // Bytes fill from their least significant bit, in line order: the first bit (the
        // highest of `bits`) goes lowest.
        let mut acc = self.acc as u64 | ((bits.reverse_bits() >> (32 - n)) as u64) << self.n;
        let mut have = self.n as u32 + n;
        while have >= 8 {
            self.out.push(acc as u8);
            acc >>= 8;
            have -= 8;
        }
        self.acc = acc as u8;
        self.n = have as u8;
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::CarrierUp if !self.needs_training => self.open = true,
            RxEvent::TrainingSucceeded => {
                self.trained = Some(true);
                self.open = true;
            }
            RxEvent::TrainingFailed => self.trained = Some(false),
            RxEvent::CarrierDown => self.open = false,
            _ => {}
        }
    }
}

/// `modem rx`; with `constellation`, the equaliser's output symbols are also drawn as PNG.
pub fn rx(kind: ModemKind, rate: u32, constellation: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut r = make_rx(kind, rate)?;
    r.capture_symbols(constellation.is_some());
    let mut symbols: std::collections::VecDeque<(f32, f32)> = std::collections::VecDeque::new();
    let mut sink = Bytes {
        needs_training: kind != ModemKind::V21,
        ..Default::default()
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut raw = vec![0u8; 320];
    let mut carry: Option<u8> = None;
    let mut samples = Vec::with_capacity(161);
    loop {
        let n = input.read(&mut raw).context("cannot read stdin")?;
        if n == 0 {
            break;
        }
        samples.clear();
        let mut it = raw[..n].iter().copied();
        if let Some(lo) = carry.take()
            && let Some(hi) = it.next()
        {
            samples.push(i16::from_le_bytes([lo, hi]));
        }
        loop {
            match (it.next(), it.next()) {
                (Some(lo), Some(hi)) => samples.push(i16::from_le_bytes([lo, hi])),
                (Some(lo), None) => carry = Some(lo),
                _ => break,
            }
        }
        r.receive(&samples, &mut sink);
        if constellation.is_some() {
            for z in r.take_symbols() {
                if symbols.len() == 20_000 {
                    symbols.pop_front();
                }
                symbols.push_back((z.re, z.im));
            }
        }
        if !sink.out.is_empty() {
            out.write_all(&sink.out).context("cannot write stdout")?;
            sink.out.clear();
        }
    }
    out.flush().context("cannot write stdout")?;
    let q = r.quality();
    let training = match (kind, sink.trained) {
        (ModemKind::V21, _) => "none (FSK)",
        (_, Some(true)) => "succeeded",
        (_, Some(false)) => "failed",
        (_, None) => "no training seen",
    };
    eprintln!(
        "{} {} bit/s: training {training}, bits {}, level {:.1} dBm0, snr {:.1} dB, carrier offset {:.2} Hz, timing offset {:.0} ppm",
        name(kind),
        rate,
        sink.bits,
        q.level_dbm0,
        q.snr_db,
        q.carrier_offset_hz,
        q.timing_offset_ppm
    );
    if let Some(path) = constellation {
        let pts: Vec<(f32, f32)> = symbols.into_iter().collect();
        let title = format!(
            "{} {rate} BIT/S, {} SYMBOLS, SNR {:.1} DB",
            name(kind),
            pts.len(),
            q.snr_db
        );
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        crate::plot::constellation(&title, &pts)
            .write_png(std::io::BufWriter::new(f))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if kind != ModemKind::V21 && sink.trained != Some(true) {
        bail!("{} {rate}: no successful training in the input", name(kind));
    }
    Ok(ExitCode::SUCCESS)
}
