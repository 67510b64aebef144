//! The impairments of a simulated line, and their `sim:` URI query form
//! (docs/contracts/lines.md): `snr=DB&gain=DB&offset_hz=HZ&drift_ppm=PPM&model=N&law=ulaw`,
//! plus `noise_dbm0`, `echo_ms`, `echo_db`, `slip_every`, `slip` and `seed`.

use std::fmt;

/// Which band-limited channel the signal goes through first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineModel {
    /// No filter: the full 0–4 kHz band, no delay (`model=0`, `none`).
    #[default]
    None,
    /// `model=1`, `flat`: band-pass 300–3400 Hz (−3 dB points), flat between 400 and 3300 Hz,
    /// linear phase, [`BULK_DELAY`](super::BULK_DELAY) samples of delay.
    Flat,
    /// `model=2`, `moderate`: the band edges of model 1 plus a gentle amplitude slope
    /// (−1 dB at 500 Hz, −2 dB at 3000 Hz relative to 1 kHz) and group-delay distortion
    /// (1.2 ms at 500 Hz, 1.0 ms at 3000 Hz above the minimum at 1700 Hz): a good
    /// conditioned line, M.1025-like.
    Moderate,
    /// `model=3`, `severe`: the limits of ITU-T M.1020 and beyond (−3 dB at 500 Hz, −6 dB at
    /// 3000 Hz; 3 ms of delay distortion at 500 Hz and 2800 Hz, 4 ms at 3000 Hz).
    Severe,
}

impl LineModel {
    /// Every model, in number order.
    pub const ALL: [LineModel; 4] = [
        LineModel::None,
        LineModel::Flat,
        LineModel::Moderate,
        LineModel::Severe,
    ];

    /// The number used in `model=N` (0 = none).
    pub fn number(self) -> u8 {
        match self {
            LineModel::None => 0,
            LineModel::Flat => 1,
            LineModel::Moderate => 2,
            LineModel::Severe => 3,
        }
    }

    /// The model numbered `n`, if there is one.
    pub fn from_number(n: u64) -> Option<LineModel> {
        Self::ALL.into_iter().find(|m| m.number() as u64 == n)
    }

    /// Short lowercase name: `none`, `flat`, `moderate`, `severe`.
    pub fn name(self) -> &'static str {
        match self {
            LineModel::None => "none",
            LineModel::Flat => "flat",
            LineModel::Moderate => "moderate",
            LineModel::Severe => "severe",
        }
    }

    /// The designed gain at `freq_hz` relative to 1 kHz, dB (band edges included; −∞ outside
    /// 200–3500 Hz); 0 for [`LineModel::None`].
    pub fn gain_db(self, freq_hz: f64) -> f64 {
        super::channel::gain_db(self, freq_hz).unwrap_or(0.0)
    }

    /// The designed group delay at `freq_hz`, samples at 8 kHz (the bulk delay included); 0
    /// for [`LineModel::None`].
    pub fn group_delay_samples(self, freq_hz: f64) -> f64 {
        super::channel::group_delay(self, freq_hz).unwrap_or(0.0)
    }
}

/// The G.711 law of a transcoding line (the codec itself is [`crate::g711`]).
pub use crate::g711::Law;

/// A talker echo: the signal plus a delayed, attenuated copy of itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Echo {
    /// Delay of the copy, ms (rounded to whole samples, at least one).
    pub delay_ms: f32,
    /// How much weaker the copy is, dB (≥ 0).
    pub attenuation_db: f32,
}

/// What a simulated line does to a signal. `Default` is an ideal line: the output is the input,
/// bit for bit, with no delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineParams {
    /// Signal-to-noise ratio, dB: the power of a −13 dBm0 reference over the power of white
    /// Gaussian noise spread over the whole 0–4 kHz band (spandsp's convention). `None` = no
    /// noise, unless `noise_dbm0` is given (which then wins).
    pub snr_db: Option<f32>,
    /// Noise level, dBm0, white over 0–4 kHz; overrides `snr_db`.
    pub noise_dbm0: Option<f32>,
    /// Gain, dB (negative = loss). The result saturates at the 16-bit range.
    pub gain_db: f32,
    /// Carrier frequency offset, Hz: every frequency moves by this much (as through an
    /// analogue FDM carrier system whose carriers do not match).
    pub carrier_offset_hz: f32,
    /// Sample-clock drift, ppm: the line gives 1 + ppm·10⁻⁶ samples per sample sent.
    pub drift_ppm: f32,
    /// The channel filter.
    pub model: LineModel,
    /// A talker echo.
    pub echo: Option<Echo>,
    /// Transcoding through G.711.
    pub law: Option<Law>,
    /// A slip every this many samples: every N-th sample is dropped (or sent twice, with
    /// `slip_repeat`). At least 2.
    pub slip_every: Option<u64>,
    /// Slips repeat a sample instead of dropping one (the line's clock is slower than the
    /// sender's rather than faster).
    pub slip_repeat: bool,
    /// Seed of the noise generator.
    pub seed: u64,
}

impl Default for LineParams {
    fn default() -> Self {
        Self {
            snr_db: None,
            noise_dbm0: None,
            gain_db: 0.0,
            carrier_offset_hz: 0.0,
            drift_ppm: 0.0,
            model: LineModel::None,
            echo: None,
            law: None,
            slip_every: None,
            slip_repeat: false,
            seed: 0,
        }
    }
}

/// A bad `sim:` query or out-of-range [`LineParams`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error(
        "unknown line parameter `{key}` (known: snr, noise_dbm0, gain, offset_hz, drift_ppm, \
         model, echo_ms, echo_db, law, slip_every, slip, seed)"
    )]
    UnknownKey { key: String },
    #[error("line parameter `{key}` has no value (write `{key}=…`)")]
    MissingValue { key: String },
    #[error("line parameter `{key}` is given twice")]
    Duplicate { key: &'static str },
    #[error("line parameter `{key}={value}`: expected {expected}")]
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("line parameters `{first}` and `{second}` cannot be given together")]
    Conflict {
        first: &'static str,
        second: &'static str,
    },
    #[error("line parameter `{key}` needs `{needs}` as well")]
    Requires {
        key: &'static str,
        needs: &'static str,
    },
}

/// The accepted ranges (inclusive), shared by the parser, [`LineParams::validate`] and the
/// clamping in [`LineSim::new`](super::LineSim::new).
pub(crate) mod range {
    pub const SNR_DB: (f32, f32) = (-20.0, 150.0);
    pub const NOISE_DBM0: (f32, f32) = (-150.0, 10.0);
    pub const GAIN_DB: (f32, f32) = (-100.0, 40.0);
    pub const OFFSET_HZ: (f32, f32) = (-500.0, 500.0);
    pub const DRIFT_PPM: (f32, f32) = (-10_000.0, 10_000.0);
    pub const ECHO_MS: (f32, f32) = (0.125, 2000.0);
    pub const ECHO_DB: (f32, f32) = (0.0, 120.0);
    pub const SLIP_MIN: u64 = 2;
}

const SNR: &str = "a number of dB in -20..=150";
const NOISE: &str = "a level in dBm0 in -150..=10";
const GAIN: &str = "a number of dB in -100..=40";
const OFFSET: &str = "a frequency in Hz in -500..=500";
const DRIFT: &str = "a number of ppm in -10000..=10000";
const MODEL: &str = "0, 1, 2, 3, none, flat, moderate or severe";
const ECHO_MS: &str = "a delay in ms in 0.125..=2000";
const ECHO_DB: &str = "an attenuation in dB in 0..=120";
const LAW: &str = "ulaw, mulaw, alaw or linear";
const SLIP_EVERY: &str = "a whole number of samples, at least 2";
const SLIP: &str = "drop or repeat";
const SEED: &str = "a whole number (decimal or 0x hex) that fits 64 bits";

fn bad(key: &'static str, value: &str, expected: &'static str) -> ParamError {
    // Keep errors readable when the value is garbage.
    let value: String = value.chars().take(40).collect();
    ParamError::BadValue {
        key,
        value,
        expected,
    }
}

fn number(
    key: &'static str,
    value: &str,
    (lo, hi): (f32, f32),
    expected: &'static str,
) -> Result<f32, ParamError> {
    match value.trim().parse::<f32>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        _ => Err(bad(key, value, expected)),
    }
}

fn in_range(v: f32, (lo, hi): (f32, f32)) -> bool {
    v.is_finite() && (lo..=hi).contains(&v)
}

fn whole(value: &str) -> Option<u64> {
    let v = value.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

impl LineParams {
    /// Parses the query of a `sim:` URI: `key=value` pairs joined by `&` (a leading `?` is
    /// allowed; empty pairs are skipped). Keys:
    ///
    /// | key | value | field |
    /// |---|---|---|
    /// | `snr` | dB, −20…150 | `snr_db` |
    /// | `noise_dbm0` | dBm0, −150…10 (not with `snr`) | `noise_dbm0` |
    /// | `gain` | dB, −100…40 | `gain_db` |
    /// | `offset_hz` | Hz, −500…500 | `carrier_offset_hz` |
    /// | `drift_ppm` | ppm, −10000…10000 | `drift_ppm` |
    /// | `model` | 0–3 or `none`/`flat`/`moderate`/`severe` | `model` |
    /// | `echo_ms` | ms, 0.125…2000 | `echo.delay_ms` |
    /// | `echo_db` | dB, 0…120 (default 15; needs `echo_ms`) | `echo.attenuation_db` |
    /// | `law` | `ulaw`/`mulaw`/`alaw`/`linear` | `law` |
    /// | `slip_every` | samples, ≥ 2 | `slip_every` |
    /// | `slip` | `drop` (default) / `repeat` (needs `slip_every`) | `slip_repeat` |
    /// | `seed` | u64, decimal or `0x` hex | `seed` |
    pub fn from_query(query: &str) -> Result<LineParams, ParamError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut p = LineParams::default();
        let mut seen: Vec<&'static str> = Vec::new();
        let mut echo_ms = None;
        let mut echo_db = None;
        let mut slip = None;
        for pair in query.split('&').filter(|s| !s.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(ParamError::MissingValue {
                    key: pair.chars().take(40).collect(),
                });
            };
            let key: &'static str = match key.trim() {
                "snr" => "snr",
                "noise_dbm0" => "noise_dbm0",
                "gain" => "gain",
                "offset_hz" => "offset_hz",
                "drift_ppm" => "drift_ppm",
                "model" => "model",
                "echo_ms" => "echo_ms",
                "echo_db" => "echo_db",
                "law" => "law",
                "slip_every" => "slip_every",
                "slip" => "slip",
                "seed" => "seed",
                other => {
                    return Err(ParamError::UnknownKey {
                        key: other.chars().take(40).collect(),
                    });
                }
            };
            if seen.contains(&key) {
                return Err(ParamError::Duplicate { key });
            }
            seen.push(key);
            match key {
                "snr" => p.snr_db = Some(number(key, value, range::SNR_DB, SNR)?),
                "noise_dbm0" => p.noise_dbm0 = Some(number(key, value, range::NOISE_DBM0, NOISE)?),
                "gain" => p.gain_db = number(key, value, range::GAIN_DB, GAIN)?,
                "offset_hz" => p.carrier_offset_hz = number(key, value, range::OFFSET_HZ, OFFSET)?,
                "drift_ppm" => p.drift_ppm = number(key, value, range::DRIFT_PPM, DRIFT)?,
                "model" => {
                    let v = value.trim();
                    p.model = whole(v)
                        .and_then(LineModel::from_number)
                        .or_else(|| {
                            LineModel::ALL
                                .into_iter()
                                .find(|m| m.name().eq_ignore_ascii_case(v))
                        })
                        .ok_or_else(|| bad(key, value, MODEL))?;
                }
                "echo_ms" => echo_ms = Some(number(key, value, range::ECHO_MS, ECHO_MS)?),
                "echo_db" => echo_db = Some(number(key, value, range::ECHO_DB, ECHO_DB)?),
                "law" => {
                    p.law = match value.trim().to_ascii_lowercase().as_str() {
                        "ulaw" | "mulaw" | "u" => Some(Law::Ulaw),
                        "alaw" | "a" => Some(Law::Alaw),
                        "linear" | "none" => None,
                        _ => return Err(bad(key, value, LAW)),
                    }
                }
                "slip_every" => {
                    p.slip_every = Some(
                        whole(value)
                            .filter(|&n| n >= range::SLIP_MIN)
                            .ok_or_else(|| bad(key, value, SLIP_EVERY))?,
                    )
                }
                "slip" => {
                    slip = Some(match value.trim() {
                        "drop" => false,
                        "repeat" => true,
                        _ => return Err(bad(key, value, SLIP)),
                    })
                }
                "seed" => p.seed = whole(value).ok_or_else(|| bad(key, value, SEED))?,
                _ => unreachable!("every key matched above"),
            }
        }
        if p.snr_db.is_some() && p.noise_dbm0.is_some() {
            return Err(ParamError::Conflict {
                first: "snr",
                second: "noise_dbm0",
            });
        }
        match (echo_ms, echo_db) {
            (Some(delay_ms), db) => {
                p.echo = Some(Echo {
                    delay_ms,
                    attenuation_db: db.unwrap_or(15.0),
                })
            }
            (None, Some(_)) => {
                return Err(ParamError::Requires {
                    key: "echo_db",
                    needs: "echo_ms",
                });
            }
            (None, None) => {}
        }
        if let Some(repeat) = slip {
            if p.slip_every.is_none() {
                return Err(ParamError::Requires {
                    key: "slip",
                    needs: "slip_every",
                });
            }
            p.slip_repeat = repeat;
        }
        Ok(p)
    }

    /// The canonical query for these parameters (only what differs from an ideal line, in the
    /// order of the table in [`from_query`](Self::from_query)); `from_query` reads it back to
    /// the same value. Empty for an ideal line.
    pub fn to_query(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(v) = self.snr_db {
            parts.push(format!("snr={v}"));
        }
        if let Some(v) = self.noise_dbm0 {
            parts.push(format!("noise_dbm0={v}"));
        }
        if self.gain_db != 0.0 {
            parts.push(format!("gain={}", self.gain_db));
        }
        if self.carrier_offset_hz != 0.0 {
            parts.push(format!("offset_hz={}", self.carrier_offset_hz));
        }
        if self.drift_ppm != 0.0 {
            parts.push(format!("drift_ppm={}", self.drift_ppm));
        }
        if self.model != LineModel::None {
            parts.push(format!("model={}", self.model.number()));
        }
        if let Some(e) = self.echo {
            parts.push(format!(
                "echo_ms={}&echo_db={}",
                e.delay_ms, e.attenuation_db
            ));
        }
        match self.law {
            Some(Law::Ulaw) => parts.push("law=ulaw".into()),
            Some(Law::Alaw) => parts.push("law=alaw".into()),
            None => {}
        }
        if let Some(n) = self.slip_every {
            parts.push(format!("slip_every={n}"));
            if self.slip_repeat {
                parts.push("slip=repeat".into());
            }
        }
        if self.seed != 0 {
            parts.push(format!("seed={}", self.seed));
        }
        parts.join("&")
    }

    /// Checks every field against the ranges [`from_query`](Self::from_query) accepts (for
    /// parameters built in code). The error names the query key of the first bad field.
    pub fn validate(&self) -> Result<(), ParamError> {
        let check = |key, v: f32, r, expected| {
            if in_range(v, r) {
                Ok(())
            } else {
                Err(bad(key, &format!("{v}"), expected))
            }
        };
        if let Some(v) = self.snr_db {
            check("snr", v, range::SNR_DB, SNR)?;
        }
        if let Some(v) = self.noise_dbm0 {
            check("noise_dbm0", v, range::NOISE_DBM0, NOISE)?;
        }
        check("gain", self.gain_db, range::GAIN_DB, GAIN)?;
        check(
            "offset_hz",
            self.carrier_offset_hz,
            range::OFFSET_HZ,
            OFFSET,
        )?;
        check("drift_ppm", self.drift_ppm, range::DRIFT_PPM, DRIFT)?;
        if let Some(e) = self.echo {
            check("echo_ms", e.delay_ms, range::ECHO_MS, ECHO_MS)?;
            check("echo_db", e.attenuation_db, range::ECHO_DB, ECHO_DB)?;
        }
        if let Some(n) = self.slip_every
            && n < range::SLIP_MIN
        {
            return Err(bad("slip_every", &n.to_string(), SLIP_EVERY));
        }
        Ok(())
    }

    /// These parameters with every out-of-range value clamped into range and every NaN
    /// replaced by the ideal value (no noise, 0 dB, 0 Hz, 0 ppm, no echo, no slips).
    pub(crate) fn sanitized(&self) -> LineParams {
        let clamp = |v: f32, (lo, hi): (f32, f32), ideal: f32| {
            if v.is_nan() { ideal } else { v.clamp(lo, hi) }
        };
        let mut p = *self;
        p.snr_db = self
            .snr_db
            .filter(|v| !v.is_nan())
            .map(|v| clamp(v, range::SNR_DB, 0.0));
        p.noise_dbm0 = self
            .noise_dbm0
            .filter(|v| !v.is_nan())
            .map(|v| clamp(v, range::NOISE_DBM0, 0.0));
        p.gain_db = clamp(self.gain_db, range::GAIN_DB, 0.0);
        p.carrier_offset_hz = clamp(self.carrier_offset_hz, range::OFFSET_HZ, 0.0);
        p.drift_ppm = clamp(self.drift_ppm, range::DRIFT_PPM, 0.0);
        p.echo = self
            .echo
            .filter(|e| !e.delay_ms.is_nan() && !e.attenuation_db.is_nan())
            .map(|e| Echo {
                delay_ms: clamp(e.delay_ms, range::ECHO_MS, 1.0),
                attenuation_db: clamp(e.attenuation_db, range::ECHO_DB, 0.0),
            });
        p.slip_every = self.slip_every.map(|n| n.max(range::SLIP_MIN));
        p
    }
}

impl fmt::Display for LineParams {
    /// The `sim:` URI of these parameters: `sim:` or `sim:?snr=30&model=2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.to_query();
        if q.is_empty() {
            write!(f, "sim:")
        } else {
            write!(f, "sim:?{q}")
        }
    }
}
