//! ITU-T G.711 pulse code modulation of voice frequencies: the A-law (Table 1/G.711) and the
//! µ-law (Table 2/G.711), in both directions, and µ-law ↔ A-law the way a gateway does it:
//! expand to linear, compress again.
//!
//! Linear samples are 16-bit (`i16`). G.711 works on 13-bit (A-law) or 14-bit (µ-law)
//! uniform PCM (G.711 §3.6), so the expansion is the G.711 quantized value shifted up by 3
//! or 2 bits: A-law gives ±8 ..= ±32256, µ-law 0 ..= ±32124. Expansion is exact: a
//! 256-entry table per law, built at compile time from the table formulas.
//!
//! Compression from uniform PCM is "left to the individual equipment specification" (G.711
//! §3.6). We drop the low bits by an arithmetic shift (floor) and then, for negative values,
//! take the µ-law magnitude as `-x` and the A-law magnitude as `!x` (one's complement), which
//! is what Sun's reference coder, Python's `audioop` and many telephony stacks do. So every
//! one of the 65536 inputs compresses to the same code as in `audioop`. (The ITU-T G.191
//! software tools take the µ-law magnitude of a negative value as its one's complement, as
//! for A-law, so their µ-law codes differ from these by one step for the negative inputs at
//! the edge of a step.)
//!
//! Compression is branch-light bit arithmetic (segment = position of the top bit), no table.
//!
//! **Not supported:** the direct code conversions of Tables 3 and 4/G.711. Those were
//! adjusted for A→µ→A transparency (µ-80 → → µ-79), so a few codes differ from
//! [`Law::transcode`], which goes through linear as a VoIP gateway does.
//!
//! **Tested by:** the unit tests here (every input against a slow coder that searches the
//! decision values of Tables 1 and 2, every code against the table formulas) and
//! `tests/g711_audioop.rs` (all 65536 inputs and all 256 codes against Python's `audioop`).

use std::fmt;
use std::str::FromStr;

/// A-law: even bits inverted on the line (Table 1/G.711).
const ALAW_XOR: u8 = 0x55;

/// The two G.711 companding laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law (North America, Japan; RTP payload PCMU).
    Ulaw,
    /// A-law (Europe and most of the world; RTP payload PCMA).
    Alaw,
}

impl Law {
    /// Compress one 16-bit linear sample.
    #[inline]
    pub fn encode_sample(self, s: i16) -> u8 {
        match self {
            Law::Ulaw => linear_to_ulaw(s),
            Law::Alaw => linear_to_alaw(s),
        }
    }

    /// Expand one code to 16-bit linear.
    #[inline]
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            Law::Ulaw => ulaw_to_linear(code),
            Law::Alaw => alaw_to_linear(code),
        }
    }

    /// Compress `samples`, appending the codes to `out`.
    pub fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        match self {
            Law::Ulaw => encode_ulaw(samples, out),
            Law::Alaw => encode_alaw(samples, out),
        }
    }

    /// Expand `codes`, appending the linear samples to `out`.
    pub fn decode(self, codes: &[u8], out: &mut Vec<i16>) {
        match self {
            Law::Ulaw => decode_ulaw(codes, out),
            Law::Alaw => decode_alaw(codes, out),
        }
    }

    /// Convert one code of this law to the law `to` (expand, then compress).
    #[inline]
    pub fn transcode_sample(self, to: Law, code: u8) -> u8 {
        match (self, to) {
            (Law::Ulaw, Law::Alaw) => ULAW_TO_ALAW[code as usize],
            (Law::Alaw, Law::Ulaw) => ALAW_TO_ULAW[code as usize],
            _ => code,
        }
    }

    /// Convert `codes` of this law to the law `to`, appending to `out`. The same law copies.
    pub fn transcode(self, to: Law, codes: &[u8], out: &mut Vec<u8>) {
        match (self, to) {
            (Law::Ulaw, Law::Alaw) => out.extend(codes.iter().map(|&c| ULAW_TO_ALAW[c as usize])),
            (Law::Alaw, Law::Ulaw) => out.extend(codes.iter().map(|&c| ALAW_TO_ULAW[c as usize])),
            _ => out.extend_from_slice(codes),
        }
    }

    /// The code of a zero sample, sent on an idle channel: µ-law `0xFF`, A-law `0xD5`.
    pub fn silence(self) -> u8 {
        self.encode_sample(0)
    }

    /// The RTP name of the law (RFC 3551): `PCMU` or `PCMA`.
    pub fn rtp_name(self) -> &'static str {
        match self {
            Law::Ulaw => "PCMU",
            Law::Alaw => "PCMA",
        }
    }
}

impl fmt::Display for Law {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Law::Ulaw => "µ-law",
            Law::Alaw => "A-law",
        })
    }
}

/// A law name that is neither µ-law nor A-law.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown G.711 law {got:?} (expected ulaw/mulaw/pcmu or alaw/pcma)")]
pub struct ParseLawError {
    pub got: String,
}

impl FromStr for Law {
    type Err = ParseLawError;

    /// Accepts `ulaw`, `mulaw`, `u-law`, `µ-law`, `pcmu`, `alaw`, `a-law`, `pcma` (any case).
    fn from_str(s: &str) -> Result<Law, ParseLawError> {
        match s.to_ascii_lowercase().as_str() {
            // µ as the micro sign (U+00B5) or the Greek letter (U+03BC).
            "ulaw" | "u-law" | "mulaw" | "mu-law" | "µlaw" | "µ-law" | "\u{3bc}law"
            | "\u{3bc}-law" | "pcmu" => Ok(Law::Ulaw),
            "alaw" | "a-law" | "pcma" => Ok(Law::Alaw),
            _ => Err(ParseLawError { got: s.to_owned() }),
        }
    }
}

/// Compress a 16-bit linear sample to µ-law (Table 2/G.711).
///
/// The sample is taken as 14-bit (`s >> 2`), its magnitude biased by 33 so that each segment
/// starts at a power of two; the segment is then the position of the top bit and the step
/// the next four bits. All bits are inverted on the line.
#[inline]
pub const fn linear_to_ulaw(s: i16) -> u8 {
    let x = (s >> 2) as i32; // 14-bit, floor
    let (magnitude, mask) = if x < 0 { (-x, 0x7F) } else { (x, 0xFF) };
    // 8158 + 33 = 8191 is the top of segment 7; anything above clips to the last code.
    let biased = (if magnitude > 8158 { 8158 } else { magnitude }) + 33;
    let segment = (32 - biased.leading_zeros()) - 6; // biased ∈ [32, 8191] → 0..=7
    let step = (biased >> (segment + 1)) & 0x0F;
    ((segment << 4) as u8 | step as u8) ^ mask
}

/// Expand a µ-law code to 16-bit linear (Table 2/G.711, quantized values × 4).
#[inline]
pub const fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TO_LINEAR[code as usize]
}

/// Compress a 16-bit linear sample to A-law (Table 1/G.711).
///
/// The sample is taken as 13-bit (`s >> 3`); a negative value's magnitude is its one's
/// complement. Segments 0 and 1 share the step 2; from segment 2 on the step doubles. Even
/// bits are inverted on the line.
#[inline]
pub const fn linear_to_alaw(s: i16) -> u8 {
    let x = (s >> 3) as i32; // 13-bit, floor
    let (magnitude, mask) = if x >= 0 {
        (x, 0x80 | ALAW_XOR)
    } else {
        (!x, ALAW_XOR)
    };
    // magnitude ∈ [0, 4095]; below 32 → segment 0, then one segment per bit.
    let segment = (32 - (magnitude | 0x1F).leading_zeros()) - 5;
    let shift = if segment < 2 { 1 } else { segment };
    let step = (magnitude >> shift) & 0x0F;
    ((segment << 4) as u8 | step as u8) ^ mask
}

/// Expand an A-law code to 16-bit linear (Table 1/G.711, quantized values × 8).
#[inline]
pub const fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TO_LINEAR[code as usize]
}

/// Compress `samples` to µ-law, appending to `out`.
pub fn encode_ulaw(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| linear_to_ulaw(s)));
}

/// Expand µ-law `codes`, appending to `out`.
pub fn decode_ulaw(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| ULAW_TO_LINEAR[c as usize]));
}

/// Compress `samples` to A-law, appending to `out`.
pub fn encode_alaw(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| linear_to_alaw(s)));
}

/// Expand A-law `codes`, appending to `out`.
pub fn decode_alaw(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| ALAW_TO_LINEAR[c as usize]));
}

/// µ-law quantized value (Table 2/G.711): segment `e`, step `m` give
/// `(2m + 33)·2^e − 33` in 14-bit units.
const fn ulaw_expand(code: u8) -> i16 {
    let u = !code;
    let segment = ((u >> 4) & 0x07) as i32;
    let step = (u & 0x0F) as i32;
    let magnitude = ((2 * step + 33) << segment) - 33; // 0 ..= 8031
    let v = magnitude << 2;
    (if u & 0x80 != 0 { -v } else { v }) as i16
}

/// A-law quantized value (Table 1/G.711): segment 0 gives `2m + 1`, segment `e ≥ 1` gives
/// `(2m + 33)·2^(e−1)`, in 13-bit units.
const fn alaw_expand(code: u8) -> i16 {
    let a = code ^ ALAW_XOR;
    let segment = ((a >> 4) & 0x07) as i32;
    let step = (a & 0x0F) as i32;
    let magnitude = if segment == 0 {
        2 * step + 1
    } else {
        (2 * step + 33) << (segment - 1)
    }; // 1 ..= 4032
    let v = magnitude << 3;
    (if a & 0x80 != 0 { v } else { -v }) as i16
}

const fn expansion_table(law: Law) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match law {
            Law::Ulaw => ulaw_expand(i as u8),
            Law::Alaw => alaw_expand(i as u8),
        };
        i += 1;
    }
    t
}

const fn transcode_table(from: Law) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match from {
            Law::Ulaw => linear_to_alaw(ulaw_expand(i as u8)),
            Law::Alaw => linear_to_ulaw(alaw_expand(i as u8)),
        };
        i += 1;
    }
    t
}

static ULAW_TO_LINEAR: [i16; 256] = expansion_table(Law::Ulaw);
static ALAW_TO_LINEAR: [i16; 256] = expansion_table(Law::Alaw);
static ULAW_TO_ALAW: [u8; 256] = transcode_table(Law::Ulaw);
static ALAW_TO_ULAW: [u8; 256] = transcode_table(Law::Alaw);

#[cfg(test)]
mod tests {
    use super::*;

    /// Slow µ-law coder straight from the decision values of Table 2/G.711: magnitude index
    /// k = 16e + m covers [x_k, x_{k+1}) in 14-bit units, x_0 = 0,
    /// x_k = (16 + m)·2^(e+1) − 33; magnitudes from 8159 up clip to the last index.
    fn slow_ulaw(s: i16) -> u8 {
        let x = (s as i32).div_euclid(4);
        let magnitude = x.abs();
        let decision = |k: i32| {
            if k == 0 {
                0
            } else {
                (16 + (k & 15)) * (2 << (k >> 4)) - 33
            }
        };
        let k = (0..128).rev().find(|&k| decision(k) <= magnitude).unwrap();
        // Before the inversion the sign bit is 1 for negative values.
        let code = if x < 0 { 0x80 | k } else { k };
        !(code as u8)
    }

    /// Slow A-law coder from the decision values of Table 1/G.711 (13-bit units): index
    /// k = 16e + m covers [2m, 2m + 2) in segment 0 and [(16 + m)·2^e, (17 + m)·2^e) above.
    fn slow_alaw(s: i16) -> u8 {
        let x = (s as i32).div_euclid(8);
        let (magnitude, sign) = if x >= 0 { (x, 0x80) } else { (-x - 1, 0) };
        let decision = |k: i32| {
            let (e, m) = (k >> 4, k & 15);
            if e == 0 { 2 * m } else { (16 + m) << e }
        };
        let k = (0..128).rev().find(|&k| decision(k) <= magnitude).unwrap();
        (sign | k as u8) ^ ALAW_XOR
    }

    #[test]
    fn encoders_match_the_decision_tables_for_every_input() {
        for s in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_ulaw(s), slow_ulaw(s), "µ-law of {s}");
            assert_eq!(linear_to_alaw(s), slow_alaw(s), "A-law of {s}");
        }
    }

    #[test]
    fn expansion_matches_the_g711_tables() {
        // Table 2/G.711: code 0x80 (segment 7, step 15, positive) is +8031 (14-bit).
        assert_eq!(ulaw_to_linear(0x80), 8031 * 4);
        assert_eq!(ulaw_to_linear(0x00), -8031 * 4);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0xFE), 2 * 4);
        assert_eq!(ulaw_to_linear(0xEF), 33 * 4); // first step of segment 1
        // Table 1/G.711: 0xD5 (line code of +0, i.e. 1000 0000 with even bits inverted) is +1
        // (13-bit); the largest is 4032.
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 4032 * 8);
        assert_eq!(alaw_to_linear(0x2A), -4032 * 8);
        // Expansion is monotonic in the magnitude index and each decoded value re-encodes to
        // its own code (except µ-law's negative zero, which becomes positive zero).
        for code in 0..=255u8 {
            let u = ulaw_to_linear(code);
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(linear_to_ulaw(u), expected, "µ-law {code:#04x} → {u}");
            let a = alaw_to_linear(code);
            assert_eq!(linear_to_alaw(a), code, "A-law {code:#04x} → {a}");
        }
        for k in 1..128u8 {
            assert!(ulaw_to_linear(!k) > ulaw_to_linear(!(k - 1)));
            assert!(alaw_to_linear((0x80 | k) ^ 0x55) > alaw_to_linear((0x80 | (k - 1)) ^ 0x55));
        }
    }

    #[test]
    fn quantizing_error_is_within_half_a_step() {
        // The largest step is 256 (µ-law, 14-bit) or 128 (A-law, 13-bit): 1024 either way in
        // 16-bit, so half a step is 512, plus the low bits dropped. Beyond the largest
        // quantized value the error is the clipping.
        for s in i16::MIN..=i16::MAX {
            let s32 = s as i32;
            let u = ulaw_to_linear(linear_to_ulaw(s)) as i32;
            let a = alaw_to_linear(linear_to_alaw(s)) as i32;
            let bound_u = 512 + 4 + (s32.abs() - 32124).max(0);
            let bound_a = 512 + 8 + (s32.abs() - 32256).max(0);
            assert!((s32 - u).abs() <= bound_u, "µ-law {s} → {u}");
            assert!((s32 - a).abs() <= bound_a, "A-law {s} → {a}");
        }
    }

    #[test]
    fn transcoding_goes_through_linear() {
        for code in 0..=255u8 {
            let via = linear_to_alaw(ulaw_to_linear(code));
            assert_eq!(Law::Ulaw.transcode_sample(Law::Alaw, code), via);
            let via = linear_to_ulaw(alaw_to_linear(code));
            assert_eq!(Law::Alaw.transcode_sample(Law::Ulaw, code), via);
            assert_eq!(Law::Alaw.transcode_sample(Law::Alaw, code), code);
        }
        let codes: Vec<u8> = (0..=255).collect();
        let mut a = Vec::new();
        Law::Ulaw.transcode(Law::Alaw, &codes, &mut a);
        let mut lin = Vec::new();
        Law::Ulaw.decode(&codes, &mut lin);
        let mut a2 = Vec::new();
        Law::Alaw.encode(&lin, &mut a2);
        assert_eq!(a, a2);
    }

    #[test]
    fn slice_helpers_append() {
        let mut out = vec![0xAB];
        encode_ulaw(&[0, -1, 1000], &mut out);
        assert_eq!(out, [0xAB, 0xFF, linear_to_ulaw(-1), linear_to_ulaw(1000)]);
        let mut lin = vec![7];
        decode_alaw(&[0xD5, 0x55], &mut lin);
        assert_eq!(lin, [7, 8, -8]);
        assert_eq!(Law::Ulaw.silence(), 0xFF);
        assert_eq!(Law::Alaw.silence(), 0xD5);
    }

    #[test]
    fn law_names() {
        assert_eq!("PCMU".parse::<Law>(), Ok(Law::Ulaw));
        assert_eq!("a-law".parse::<Law>(), Ok(Law::Alaw));
        assert_eq!("µ-law".parse::<Law>(), Ok(Law::Ulaw));
        assert_eq!("\u{3bc}-law".parse::<Law>(), Ok(Law::Ulaw));
        assert!("g722".parse::<Law>().is_err());
        assert_eq!(Law::Alaw.to_string(), "A-law");
        assert_eq!(Law::Ulaw.rtp_name(), "PCMU");
    }
}
