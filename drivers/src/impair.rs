//! `--impair SPEC` and `impair = "SPEC"` (docs/contracts/lines.md, "Impairments"): the line
//! simulator ([`softfax_dsp::linesim`]) between softfax and a line of any kind, both
//! directions, seeded and reproducible.
//!
//! What softfax sends goes through one [`LineSim`] to the far end; what the far end sends
//! comes back through another. A talker echo (`echo=LEVEL@DELAYms`) returns softfax's own
//! transmitted signal into its receive path, `LEVEL` dB and `DELAY` later, as an unbalanced
//! 2-wire/4-wire hybrid does (ITU-T G.131 §2). `drift_ppm` is softfax's sample clock against
//! the far end's: the far end hears softfax's frequencies scaled by 1 + ppm·10⁻⁶ and softfax
//! hears the far end's scaled by 1/(1 + ppm·10⁻⁶). Slips (`slip_every_s`) happen in both
//! directions, as a frame slip at a digital exchange does.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use softfax_dsp::linesim::{
    FRACTIONAL_LATENCY, FractionalDelay, Law, LineModel, LineParams, LineSim, SAMPLE_RATE,
};

use crate::{BLOCK, Line, LineError, SpanReport};

/// A bad `--impair` SPEC: names the item at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImpairError {
    #[error(
        "impairment `{item}`: unknown (known: noise, snr, drift_ppm, offset_hz, echo, \
         slip_every_s, slip, bandpass, group_delay, model, gain, law, delay, seed)"
    )]
    Unknown { item: String },
    #[error("impairment `{item}`: expected {expected}")]
    BadValue {
        item: String,
        expected: &'static str,
    },
    #[error("impairment `{key}` is given twice")]
    Duplicate { key: String },
    #[error("impairments `{first}` and `{second}` cannot be given together")]
    Conflict {
        first: &'static str,
        second: &'static str,
    },
}

/// A talker echo: softfax's own signal back in its receive path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TalkerEcho {
    /// Level of the echo relative to the transmitted signal, dB (≤ 0).
    pub level_db: f32,
    /// Round-trip delay, ms.
    pub delay_ms: f32,
}

/// A parsed SPEC. [`fmt::Display`] gives it back in canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ImpairSpec {
    /// The impairments of each direction (the seeds are derived from `line.seed`).
    pub line: LineParams,
    /// A slip every this many seconds (both directions).
    pub slip_every_s: Option<f32>,
    pub echo: Option<TalkerEcho>,
    /// A sub-sample delay, samples (0 ≤ d < 1), both directions.
    pub delay: Option<f32>,
}

const NUMBER_DB: &str = "a number of dB";
const ECHO: &str =
    "LEVEL@DELAYms with LEVEL in -120..=0 dB and DELAY in 0.125..=2000 ms, e.g. -20@20ms";
const SLIP: &str = "a number of seconds, at least 0.00025";
const LAW: &str = "ulaw or alaw";
const DELAY: &str = "a fraction of a sample, 0 <= d < 1";
const MODEL: &str = "none, flat, moderate or severe";
const SLIP_KIND: &str = "drop or repeat";

fn bad(item: &str, expected: &'static str) -> ImpairError {
    ImpairError::BadValue {
        item: item.chars().take(60).collect(),
        expected,
    }
}

fn num(item: &str, v: &str, expected: &'static str) -> Result<f32, ImpairError> {
    v.trim()
        .parse::<f32>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(item, expected))
}

impl FromStr for ImpairSpec {
    type Err = ImpairError;

    /// Parses `noise=-46,drift_ppm=50,offset_hz=7,echo=-20@20ms,slip_every_s=10,bandpass,
    /// group_delay,gain=-20,law=ulaw,seed=1` (any subset, any order; empty items skipped).
    fn from_str(spec: &str) -> Result<ImpairSpec, ImpairError> {
        let mut s = ImpairSpec::default();
        let mut seen: Vec<String> = Vec::new();
        let (mut bandpass, mut group_delay) = (false, false);
        let mut model: Option<LineModel> = None;
        let mut slip_repeat = None;
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            if seen.iter().any(|k| k == key) {
                return Err(ImpairError::Duplicate {
                    key: key.chars().take(40).collect(),
                });
            }
            seen.push(key.to_string());
            let has_value = value.is_some();
            let value = |expected| value.ok_or_else(|| bad(item, expected));
            let p = &mut s.line;
            match key {
                "noise" => {
                    p.noise_dbm0 = Some(num(item, value("a level in dBm0")?, "a level in dBm0")?)
                }
                "snr" => p.snr_db = Some(num(item, value(NUMBER_DB)?, NUMBER_DB)?),
                "drift_ppm" => {
                    p.drift_ppm = num(item, value("a number of ppm")?, "a number of ppm")?
                }
                "offset_hz" => {
                    p.carrier_offset_hz =
                        num(item, value("a frequency in Hz")?, "a frequency in Hz")?
                }
                "gain" => p.gain_db = num(item, value(NUMBER_DB)?, NUMBER_DB)?,
                "law" => {
                    p.law = match value(LAW)?.to_ascii_lowercase().as_str() {
                        "ulaw" | "mulaw" => Some(Law::Ulaw),
                        "alaw" => Some(Law::Alaw),
                        _ => return Err(bad(item, LAW)),
                    }
                }
                "seed" => {
                    let v = value("a whole number")?;
                    p.seed = match v.strip_prefix("0x") {
                        Some(h) => u64::from_str_radix(h, 16).ok(),
                        None => v.parse().ok(),
                    }
                    .ok_or_else(|| bad(item, "a whole number (decimal or 0x hex)"))?;
                }
                "echo" => {
                    let v = value(ECHO)?;
                    let (level, delay) = v.split_once('@').ok_or_else(|| bad(item, ECHO))?;
                    let delay = delay.trim().strip_suffix("ms").unwrap_or(delay);
                    let level_db = num(item, level, ECHO)?;
                    let delay_ms = num(item, delay, ECHO)?;
                    if !(-120.0..=0.0).contains(&level_db) || !(0.125..=2000.0).contains(&delay_ms)
                    {
                        return Err(bad(item, ECHO));
                    }
                    s.echo = Some(TalkerEcho { level_db, delay_ms });
                }
                "slip_every_s" => {
                    let v = num(item, value(SLIP)?, SLIP)?;
                    if v * (SAMPLE_RATE as f32) < 2.0 {
                        return Err(bad(item, SLIP));
                    }
                    s.slip_every_s = Some(v);
                    p.slip_every = Some((v as f64 * SAMPLE_RATE).round() as u64);
                }
                "slip" => {
                    slip_repeat = Some(match value(SLIP_KIND)? {
                        "drop" => false,
                        "repeat" => true,
                        _ => return Err(bad(item, SLIP_KIND)),
                    })
                }
                "delay" => {
                    let d = num(item, value(DELAY)?, DELAY)?;
                    if !(0.0..1.0).contains(&d) {
                        return Err(bad(item, DELAY));
                    }
                    s.delay = Some(d);
                }
                "bandpass" | "group_delay" if has_value => {
                    return Err(bad(item, "no value (a flag)"));
                }
                "bandpass" => bandpass = true,
                "group_delay" => group_delay = true,
                "model" => {
                    let v = value(MODEL)?;
                    model = Some(
                        LineModel::ALL
                            .into_iter()
                            .find(|m| m.name().eq_ignore_ascii_case(v))
                            .ok_or_else(|| bad(item, MODEL))?,
                    );
                }
                _ => {
                    return Err(ImpairError::Unknown {
                        item: item.chars().take(60).collect(),
                    });
                }
            }
        }
        // The channel: band-pass alone is the flat 300–3400 Hz model; with group delay the
        // M.1025-like conditioned line (delay distortion needs the band edges).
        s.line.model = match (model, bandpass || group_delay) {
            (Some(_), true) => {
                return Err(ImpairError::Conflict {
                    first: "model",
                    second: if bandpass { "bandpass" } else { "group_delay" },
                });
            }
            (Some(m), false) => m,
            (None, _) if group_delay => LineModel::Moderate,
            (None, _) if bandpass => LineModel::Flat,
            (None, _) => LineModel::None,
        };
        if s.line.snr_db.is_some() && s.line.noise_dbm0.is_some() {
            return Err(ImpairError::Conflict {
                first: "noise",
                second: "snr",
            });
        }
        if let Some(r) = slip_repeat {
            if s.line.slip_every.is_none() {
                return Err(bad("slip", "slip_every_s as well"));
            }
            s.line.slip_repeat = r;
        }
        // The simulator's own ranges (noise, gain, offset, drift) name the same keys.
        s.line.validate().map_err(|e| ImpairError::BadValue {
            item: e.to_string(),
            expected: "a value in the simulator's range",
        })?;
        Ok(s)
    }
}

impl fmt::Display for ImpairSpec {
    /// The canonical SPEC (`none` for no impairment); parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.line;
        let mut parts: Vec<String> = Vec::new();
        if let Some(v) = p.noise_dbm0 {
            parts.push(format!("noise={v}"));
        }
        if let Some(v) = p.snr_db {
            parts.push(format!("snr={v}"));
        }
        if p.drift_ppm != 0.0 {
            parts.push(format!("drift_ppm={}", p.drift_ppm));
        }
        if p.carrier_offset_hz != 0.0 {
            parts.push(format!("offset_hz={}", p.carrier_offset_hz));
        }
        if let Some(e) = self.echo {
            parts.push(format!("echo={}@{}ms", e.level_db, e.delay_ms));
        }
        if let Some(v) = self.slip_every_s {
            parts.push(format!("slip_every_s={v}"));
            if p.slip_repeat {
                parts.push("slip=repeat".into());
            }
        }
        match p.model {
            LineModel::None => {}
            LineModel::Flat => parts.push("bandpass".into()),
            LineModel::Moderate => parts.push("bandpass,group_delay".into()),
            LineModel::Severe => parts.push("model=severe".into()),
        }
        if p.gain_db != 0.0 {
            parts.push(format!("gain={}", p.gain_db));
        }
        match p.law {
            Some(Law::Ulaw) => parts.push("law=ulaw".into()),
            Some(Law::Alaw) => parts.push("law=alaw".into()),
            None => {}
        }
        if let Some(d) = self.delay {
            parts.push(format!("delay={d}"));
        }
        if p.seed != 0 {
            parts.push(format!("seed={}", p.seed));
        }
        if parts.is_empty() {
            write!(f, "none")
        } else {
            write!(f, "{}", parts.join(","))
        }
    }
}

/// Samples each direction's queue starts with: 100 ms, so a clock that runs slow (or slips
/// that drop samples) never leaves a lock-step block short (100 ppm takes 17 minutes).
const PREFILL: usize = 800;

/// One direction: the simulator, the sub-sample delay, and the queue that turns its
/// variable output back into whole blocks.
struct Direction {
    sim: LineSim,
    delay: Option<FractionalDelay>,
    queue: VecDeque<i16>,
    f: Vec<f32>,
    buf: Vec<i16>,
}

impl Direction {
    fn new(params: LineParams, delay: Option<f32>) -> Direction {
        Direction {
            sim: LineSim::new(params),
            delay: delay.map(|d| FractionalDelay::new(d as f64)),
            queue: VecDeque::from(vec![0; PREFILL]),
            f: Vec::new(),
            buf: Vec::new(),
        }
    }

    fn pass(&mut self, input: &[i16; BLOCK], out: &mut [i16; BLOCK]) {
        match &mut self.delay {
            None => self.sim.process(input, &mut self.buf),
            Some(d) => {
                self.f.clear();
                self.f.extend(input.iter().map(|&x| x as f32));
                d.process(&mut self.f);
                let delayed: Vec<i16> = self
                    .f
                    .iter()
                    .map(|v| v.round().clamp(i16::MIN as f32, i16::MAX as f32) as i16)
                    .collect();
                self.sim.process(&delayed, &mut self.buf);
            }
        }
        self.queue.extend(self.buf.iter().copied());
        for s in out.iter_mut() {
            *s = self.queue.pop_front().unwrap_or(0);
        }
    }
}

/// `line` behind the impairments of `spec`, when there is one.
pub fn wrap(line: Box<dyn Line>, spec: Option<&ImpairSpec>) -> Box<dyn Line> {
    match spec {
        Some(spec) => Box::new(Impaired::new(line, spec)),
        None => line,
    }
}

/// Any line behind the simulator. See the [module documentation](self).
pub struct Impaired<L> {
    inner: L,
    spec: ImpairSpec,
    to_far: Direction,
    to_us: Direction,
    /// Softfax's transmitted samples, `echo_delay` behind, and the echo's gain.
    echo: Option<(VecDeque<i16>, f32)>,
    far_tx: [i16; BLOCK],
    far_rx: [i16; BLOCK],
    /// The far end has not hung up.
    up: bool,
}

impl<L: Line> Impaired<L> {
    /// `inner` behind the impairments of `spec`.
    pub fn new(inner: L, spec: &ImpairSpec) -> Impaired<L> {
        let p = spec.line;
        let e = p.drift_ppm as f64 * 1e-6;
        let to_far = LineParams {
            // Softfax's clock 1 + e fast: the far end takes 1/(1 + e) samples per sample.
            drift_ppm: ((1.0 / (1.0 + e) - 1.0) * 1e6) as f32,
            seed: p.seed.wrapping_mul(2).wrapping_add(1),
            ..p
        };
        let to_us = LineParams {
            seed: p.seed.wrapping_mul(2).wrapping_add(2),
            ..p
        };
        let echo = spec.echo.map(|e| {
            let d = ((e.delay_ms as f64 * SAMPLE_RATE / 1000.0).round() as usize).max(1);
            (VecDeque::from(vec![0i16; d]), 10f32.powf(e.level_db / 20.0))
        });
        Impaired {
            inner,
            spec: *spec,
            to_far: Direction::new(to_far, spec.delay),
            to_us: Direction::new(to_us, spec.delay),
            echo,
            far_tx: [0; BLOCK],
            far_rx: [0; BLOCK],
            up: true,
        }
    }

    /// The SPEC in force.
    pub fn spec(&self) -> &ImpairSpec {
        &self.spec
    }

    /// The line behind the impairments.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// The fixed one-way delay the stage adds (queue and filters), samples.
    pub fn latency_samples(&self) -> f64 {
        let frac = self
            .spec
            .delay
            .map_or(0.0, |d| FRACTIONAL_LATENCY as f64 + d as f64);
        PREFILL as f64 + self.to_far.sim.latency_samples() + frac
    }
}

impl<L: Line> Line for Impaired<L> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        self.to_far.pass(tx, &mut self.far_tx);
        let up = self.inner.exchange(&self.far_tx, &mut self.far_rx)?;
        self.up &= up;
        self.to_us.pass(&self.far_rx, rx);
        if let Some((past, gain)) = &mut self.echo {
            past.extend(tx.iter().copied());
            for s in rx.iter_mut() {
                let e = past.pop_front().unwrap_or(0) as f32 * *gain;
                *s = (*s as f32 + e)
                    .round()
                    .clamp(i16::MIN as f32, i16::MAX as f32) as i16;
            }
        }
        Ok(up)
    }
    /// What softfax sent last is still on its way (the queue and the filters): the far end
    /// hears it out — silence after it — before the line is released.
    fn hangup(&mut self) -> Result<(), LineError> {
        let in_flight = self.latency_samples() as usize + self.to_far.queue.len();
        let mut blocks = in_flight.div_ceil(BLOCK) + 1;
        while self.up && blocks > 0 {
            self.to_far.pass(&[0; BLOCK], &mut self.far_tx);
            self.up = self.inner.exchange(&self.far_tx, &mut self.far_rx)?;
            blocks -= 1;
        }
        self.up = false;
        self.inner.hangup()
    }
    fn q850_cause(&self) -> Option<u8> {
        self.inner.q850_cause()
    }
    fn dial(&mut self, number: &str) -> Result<(), LineError> {
        self.inner.dial(number)
    }
    fn answer(&mut self) -> Result<(), LineError> {
        self.inner.answer()
    }
    fn span_report(&self) -> Option<SpanReport> {
        self.inner.span_report()
    }
    fn called_number(&self) -> Option<String> {
        self.inner.called_number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ImpairSpec, ImpairError> {
        s.parse()
    }

    #[test]
    fn the_contract_example_parses() {
        let s = parse(
            "noise=-46,drift_ppm=50,offset_hz=7,echo=-20@20ms,slip_every_s=10,bandpass,\
             group_delay,gain=-20,law=ulaw,seed=1",
        )
        .unwrap();
        assert_eq!(s.line.noise_dbm0, Some(-46.0));
        assert_eq!(s.line.drift_ppm, 50.0);
        assert_eq!(s.line.carrier_offset_hz, 7.0);
        assert_eq!(
            s.echo,
            Some(TalkerEcho {
                level_db: -20.0,
                delay_ms: 20.0
            })
        );
        assert_eq!(s.line.slip_every, Some(80_000));
        assert_eq!(s.line.model, LineModel::Moderate);
        assert_eq!(s.line.gain_db, -20.0);
        assert_eq!(s.line.law, Some(Law::Ulaw));
        assert_eq!(s.line.seed, 1);
        // The canonical form reads back to the same value.
        assert_eq!(parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn flags_values_and_the_empty_spec() {
        assert_eq!(parse("bandpass").unwrap().line.model, LineModel::Flat);
        assert_eq!(
            parse("group_delay").unwrap().line.model,
            LineModel::Moderate
        );
        assert_eq!(parse("model=severe").unwrap().line.model, LineModel::Severe);
        assert_eq!(parse("law=alaw").unwrap().line.law, Some(Law::Alaw));
        assert_eq!(parse("delay=0.5").unwrap().delay, Some(0.5));
        assert_eq!(parse("echo=-12@40").unwrap().echo.unwrap().delay_ms, 40.0);
        let s = parse("slip_every_s=60,slip=repeat").unwrap();
        assert!(s.line.slip_repeat);
        assert_eq!(s.line.slip_every, Some(480_000));
        assert_eq!(parse("").unwrap(), ImpairSpec::default());
        assert_eq!(ImpairSpec::default().to_string(), "none");
        for spec in [
            "delay=0.25,seed=9",
            "echo=-6@64ms,law=alaw",
            "model=severe,snr=30",
        ] {
            let s = parse(spec).unwrap();
            assert_eq!(parse(&s.to_string()).unwrap(), s, "{spec}");
        }
    }

    #[test]
    fn bad_items_are_named() {
        let cases = [
            ("noise=loud", "noise=loud"),
            ("wobble=3", "wobble=3"),
            ("echo=-20", "echo=-20"),
            ("echo=6@20ms", "echo=6@20ms"),
            ("echo=-20@0ms", "echo=-20@0ms"),
            ("law=pcm", "law=pcm"),
            ("bandpass=1", "bandpass=1"),
            ("delay=1.5", "delay=1.5"),
            ("slip_every_s=0", "slip_every_s=0"),
            ("seed=-1", "seed=-1"),
            ("gain", "gain"),
            ("drift_ppm=1e9", "drift_ppm"),
            ("noise=-46,noise=-50", "noise"),
        ];
        for (spec, named) in cases {
            let e = parse(spec).unwrap_err().to_string();
            assert!(e.contains(named), "{spec}: {e}");
        }
        assert!(matches!(
            parse("noise=-50,snr=30"),
            Err(ImpairError::Conflict { .. })
        ));
        assert!(matches!(
            parse("bandpass,model=flat"),
            Err(ImpairError::Conflict { .. })
        ));
        assert!(parse("slip=repeat").is_err());
    }

    /// A far end that sends a fixed tone and records what reached it.
    struct Tone {
        n: usize,
        heard: Vec<i16>,
    }

    impl Line for Tone {
        fn exchange(
            &mut self,
            tx: &[i16; BLOCK],
            rx: &mut [i16; BLOCK],
        ) -> Result<bool, LineError> {
            self.heard.extend_from_slice(tx);
            for s in rx.iter_mut() {
                *s = ((self.n as f64 * 0.7).sin() * 3000.0) as i16;
                self.n += 1;
            }
            Ok(true)
        }
        fn hangup(&mut self) -> Result<(), LineError> {
            Ok(())
        }
    }

    /// Runs 200 blocks of a chirp from softfax through `spec`: (what softfax heard, what the
    /// far end heard).
    fn run(spec: &str) -> (Vec<i16>, Vec<i16>) {
        let spec: ImpairSpec = spec.parse().unwrap();
        let mut line = Impaired::new(
            Tone {
                n: 0,
                heard: Vec::new(),
            },
            &spec,
        );
        let mut heard = Vec::new();
        let mut rx = [0; BLOCK];
        for b in 0..200 {
            let tx: [i16; BLOCK] = std::array::from_fn(|i| {
                let n = (b * BLOCK + i) as f64;
                ((n * n * 1e-6).sin() * 5000.0) as i16
            });
            assert!(line.exchange(&tx, &mut rx).unwrap());
            heard.extend_from_slice(&rx);
        }
        (heard, line.inner().heard.clone())
    }

    #[test]
    fn the_same_seed_gives_the_same_audio_both_ways() {
        let spec = "noise=-50,drift_ppm=-100,offset_hz=7,echo=-20@20ms,slip_every_s=0.5,\
                    bandpass,group_delay,gain=-3,law=alaw,delay=0.3,seed=";
        let a = run(&format!("{spec}5"));
        let b = run(&format!("{spec}5"));
        let c = run(&format!("{spec}6"));
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
        assert_ne!(a.1, c.1);
        // Both directions are impaired, and differently (their own noise).
        let clean = run("");
        assert_ne!(a.0, clean.0);
        assert_ne!(a.1, clean.1);
    }

    #[test]
    fn no_impairment_is_a_fixed_delay() {
        let (heard, far) = run("");
        let (_, far_clean): (Vec<i16>, Vec<i16>) = (Vec::new(), far.clone());
        assert_eq!(&far[..PREFILL], &vec![0; PREFILL][..]);
        assert_eq!(far_clean.len(), 200 * BLOCK);
        // The tone arrives unchanged, PREFILL samples late.
        let tone: Vec<i16> = (0..10)
            .map(|n| ((n as f64 * 0.7).sin() * 3000.0) as i16)
            .collect();
        assert_eq!(&heard[PREFILL..PREFILL + 10], &tone[..]);
    }

    #[test]
    fn talker_echo_returns_our_own_signal() {
        // Silence from the far end: all softfax hears is its own echo.
        struct Quiet;
        impl Line for Quiet {
            fn exchange(
                &mut self,
                _: &[i16; BLOCK],
                rx: &mut [i16; BLOCK],
            ) -> Result<bool, LineError> {
                rx.fill(0);
                Ok(true)
            }
            fn hangup(&mut self) -> Result<(), LineError> {
                Ok(())
            }
        }
        let spec: ImpairSpec = "echo=-20@20ms".parse().unwrap();
        let mut line = Impaired::new(Quiet, &spec);
        let tx = [10_000i16; BLOCK];
        let mut rx = [0; BLOCK];
        line.exchange(&tx, &mut rx).unwrap();
        assert_eq!(rx, [0; BLOCK], "the echo is 20 ms = one block late");
        line.exchange(&[0; BLOCK], &mut rx).unwrap();
        assert_eq!(rx, [1000; BLOCK]);
    }
}
