//! A private, minimal G.711 round trip (linear → code → linear) for the `law=` impairment.
//!
//! STOPGAP: to be replaced by `crate::g711` once that module lands (it is being written in
//! parallel); nothing outside `linesim` uses this. Written from ITU-T G.711 (its A-law and
//! µ-law tables): 8 segments of 16 steps each, sign–magnitude, the step doubling from one
//! segment to the next; µ-law on 14-bit magnitudes with a bias of 33 and all bits inverted,
//! A-law on 13-bit magnitudes with the even bits inverted (XOR 0x55). Decoding gives the
//! middle of each step. Linear samples are 16-bit: µ-law uses the top 14 bits, A-law the top
//! 13.

use super::Law;

/// µ-law code of a 16-bit linear sample.
pub(crate) fn ulaw_encode(x: i16) -> u8 {
    let x = x as i32;
    let (sign, mag) = if x < 0 {
        (0x80, (-x) >> 2)
    } else {
        (0x00, x >> 2)
    };
    // Biased magnitude in 33..=8191; its highest set bit (5..=12) gives the segment.
    let biased = (mag + 33).min(8191);
    let seg = 31 - biased.leading_zeros() as i32 - 5;
    let mantissa = (biased >> (seg + 1)) & 0x0F;
    !((sign | (seg << 4) | mantissa) as u8)
}

/// 16-bit linear value of a µ-law code (±32124 at most).
pub(crate) fn ulaw_decode(code: u8) -> i16 {
    let c = !code;
    let seg = ((c >> 4) & 0x07) as i32;
    let mantissa = (c & 0x0F) as i32;
    let mag = (((mantissa << 1) + 33) << seg) - 33;
    let v = mag << 2;
    (if c & 0x80 != 0 { -v } else { v }) as i16
}

/// A-law code of a 16-bit linear sample.
pub(crate) fn alaw_encode(x: i16) -> u8 {
    let x = x as i32;
    // Negative values mirror the positive ones around −½ (there is no zero level).
    let (sign, mag) = if x < 0 {
        (0x00, (-x - 1) >> 3)
    } else {
        (0x80, x >> 3)
    };
    let (seg, mantissa) = if mag < 32 {
        (0, mag >> 1)
    } else {
        let seg = 31 - mag.leading_zeros() as i32 - 4; // 32..=63 → 1, …, 2048..=4095 → 7
        (seg, (mag >> seg) & 0x0F)
    };
    ((sign | (seg << 4) | mantissa) as u8) ^ 0x55
}

/// 16-bit linear value of an A-law code (±32256 at most).
pub(crate) fn alaw_decode(code: u8) -> i16 {
    let c = code ^ 0x55;
    let seg = ((c >> 4) & 0x07) as i32;
    let mantissa = (c & 0x0F) as i32;
    let mag = if seg == 0 {
        (mantissa << 1) + 1
    } else {
        ((mantissa << 1) + 33) << (seg - 1)
    };
    let v = mag << 3;
    (if c & 0x80 != 0 { v } else { -v }) as i16
}

/// Linear → code → linear.
pub(crate) fn round_trip(law: Law, x: i16) -> i16 {
    match law {
        Law::Ulaw => ulaw_decode(ulaw_encode(x)),
        Law::Alaw => alaw_decode(alaw_encode(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The width of the quantisation step the decoded value `y` sits in, 16-bit units.
    fn step(law: Law, y: i16) -> i32 {
        let seg = match law {
            Law::Ulaw => ((!ulaw_encode(y) >> 4) & 7) as i32,
            Law::Alaw => (((alaw_encode(y) ^ 0x55) >> 4) & 7) as i32,
        };
        match law {
            Law::Ulaw => 8 << seg,
            Law::Alaw => 16 << seg.max(1) >> 1,
        }
    }

    #[test]
    fn known_codes() {
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn round_trip_error_is_within_the_step() {
        for law in [Law::Ulaw, Law::Alaw] {
            let top = match law {
                Law::Ulaw => 32124,
                Law::Alaw => 32256,
            };
            for x in i16::MIN..=i16::MAX {
                let y = round_trip(law, x);
                let err = (x as i32 - y as i32).abs();
                if (x as i32).abs() <= top {
                    // Half a step from decoding to the middle, plus the low bits dropped.
                    let bound = step(law, y) / 2 + if law == Law::Ulaw { 3 } else { 8 };
                    assert!(err <= bound, "{law:?} {x} → {y}: error {err} > {bound}");
                    assert!(err <= step(law, y), "{law:?} {x} → {y}: error {err}");
                } else {
                    assert_eq!(y as i32, top * (x as i32).signum(), "{law:?} {x} clips");
                }
                // Decoded values are fixed points.
                assert_eq!(round_trip(law, y), y, "{law:?} {y}");
            }
        }
    }

    #[test]
    fn decoding_is_monotone_and_symmetric() {
        for law in [Law::Ulaw, Law::Alaw] {
            let mut last = i16::MIN;
            for x in (i16::MIN..=i16::MAX).step_by(7) {
                let y = round_trip(law, x);
                assert!(y >= last, "{law:?}: {x}");
                last = y;
            }
            for x in 0..=32000i16 {
                let neg = match law {
                    Law::Ulaw => -x,
                    Law::Alaw => -x - 1,
                };
                assert_eq!(round_trip(law, neg), -round_trip(law, x), "{law:?} {x}");
            }
        }
    }

    #[test]
    fn every_code_decodes_back_to_itself() {
        for c in 0..=255u8 {
            if c != 0x7F {
                assert_eq!(ulaw_encode(ulaw_decode(c)), c, "µ-law {c:#04x}");
            }
            assert_eq!(alaw_encode(alaw_decode(c)), c, "A-law {c:#04x}");
        }
    }
}
