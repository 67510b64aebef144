//! The code words of ITU-T T.4 §4.1.2 (Tables 1/T.4, 2/T.4, 3/T.4: terminating, make-up and
//! extended make-up codes) and §4.2.1.3.3 (Table 4/T.4: two-dimensional mode codes), and the
//! lookup tables the decoder derives from them at compile time.
//!
//! Every code is `(bits, length)` with the first transmitted bit as the most significant of
//! `length` bits. The table builders reject any overlap at compile time, so a typo in a code
//! word cannot build.

/// White terminating codes, runs 0..=63 (Table 2/T.4).
pub const WHITE_TERM: [(u16, u8); 64] = [
    (0b00110101, 8),
    (0b000111, 6),
    (0b0111, 4),
    (0b1000, 4),
    (0b1011, 4),
    (0b1100, 4),
    (0b1110, 4),
    (0b1111, 4),
    (0b10011, 5),
    (0b10100, 5),
    (0b00111, 5),
    (0b01000, 5),
    (0b001000, 6),
    (0b000011, 6),
    (0b110100, 6),
    (0b110101, 6),
    (0b101010, 6),
    (0b101011, 6),
    (0b0100111, 7),
    (0b0001100, 7),
    (0b0001000, 7),
    (0b0010111, 7),
    (0b0000011, 7),
    (0b0000100, 7),
    (0b0101000, 7),
    (0b0101011, 7),
    (0b0010011, 7),
    (0b0100100, 7),
    (0b0011000, 7),
    (0b00000010, 8),
    (0b00000011, 8),
    (0b00011010, 8),
    (0b00011011, 8),
    (0b00010010, 8),
    (0b00010011, 8),
    (0b00010100, 8),
    (0b00010101, 8),
    (0b00010110, 8),
    (0b00010111, 8),
    (0b00101000, 8),
    (0b00101001, 8),
    (0b00101010, 8),
    (0b00101011, 8),
    (0b00101100, 8),
    (0b00101101, 8),
    (0b00000100, 8),
    (0b00000101, 8),
    (0b00001010, 8),
    (0b00001011, 8),
    (0b01010010, 8),
    (0b01010011, 8),
    (0b01010100, 8),
    (0b01010101, 8),
    (0b00100100, 8),
    (0b00100101, 8),
    (0b01011000, 8),
    (0b01011001, 8),
    (0b01011010, 8),
    (0b01011011, 8),
    (0b01001010, 8),
    (0b01001011, 8),
    (0b00110010, 8),
    (0b00110011, 8),
    (0b00110100, 8),
];

/// White make-up codes, runs 64, 128, …, 1728 (Table 3a/T.4).
pub const WHITE_MAKEUP: [(u16, u8); 27] = [
    (0b11011, 5),
    (0b10010, 5),
    (0b010111, 6),
    (0b0110111, 7),
    (0b00110110, 8),
    (0b00110111, 8),
    (0b01100100, 8),
    (0b01100101, 8),
    (0b01101000, 8),
    (0b01100111, 8),
    (0b011001100, 9),
    (0b011001101, 9),
    (0b011010010, 9),
    (0b011010011, 9),
    (0b011010100, 9),
    (0b011010101, 9),
    (0b011010110, 9),
    (0b011010111, 9),
    (0b011011000, 9),
    (0b011011001, 9),
    (0b011011010, 9),
    (0b011011011, 9),
    (0b010011000, 9),
    (0b010011001, 9),
    (0b010011010, 9),
    (0b011000, 6),
    (0b010011011, 9),
];

/// Black terminating codes, runs 0..=63 (Table 2/T.4).
pub const BLACK_TERM: [(u16, u8); 64] = [
    (0b0000110111, 10),
    (0b010, 3),
    (0b11, 2),
    (0b10, 2),
    (0b011, 3),
    (0b0011, 4),
    (0b0010, 4),
    (0b00011, 5),
    (0b000101, 6),
    (0b000100, 6),
    (0b0000100, 7),
    (0b0000101, 7),
    (0b0000111, 7),
    (0b00000100, 8),
    (0b00000111, 8),
    (0b000011000, 9),
    (0b0000010111, 10),
    (0b0000011000, 10),
    (0b0000001000, 10),
    (0b00001100111, 11),
    (0b00001101000, 11),
    (0b00001101100, 11),
    (0b00000110111, 11),
    (0b00000101000, 11),
    (0b00000010111, 11),
    (0b00000011000, 11),
    (0b000011001010, 12),
    (0b000011001011, 12),
    (0b000011001100, 12),
    (0b000011001101, 12),
    (0b000001101000, 12),
    (0b000001101001, 12),
    (0b000001101010, 12),
    (0b000001101011, 12),
    (0b000011010010, 12),
    (0b000011010011, 12),
    (0b000011010100, 12),
    (0b000011010101, 12),
    (0b000011010110, 12),
    (0b000011010111, 12),
    (0b000001101100, 12),
    (0b000001101101, 12),
    (0b000011011010, 12),
    (0b000011011011, 12),
    (0b000001010100, 12),
    (0b000001010101, 12),
    (0b000001010110, 12),
    (0b000001010111, 12),
    (0b000001100100, 12),
    (0b000001100101, 12),
    (0b000001010010, 12),
    (0b000001010011, 12),
    (0b000000100100, 12),
    (0b000000110111, 12),
    (0b000000111000, 12),
    (0b000000100111, 12),
    (0b000000101000, 12),
    (0b000001011000, 12),
    (0b000001011001, 12),
    (0b000000101011, 12),
    (0b000000101100, 12),
    (0b000001011010, 12),
    (0b000001100110, 12),
    (0b000001100111, 12),
];

/// Black make-up codes, runs 64, 128, …, 1728 (Table 3a/T.4).
pub const BLACK_MAKEUP: [(u16, u8); 27] = [
    (0b0000001111, 10),
    (0b000011001000, 12),
    (0b000011001001, 12),
    (0b000001011011, 12),
    (0b000000110011, 12),
    (0b000000110100, 12),
    (0b000000110101, 12),
    (0b0000001101100, 13),
    (0b0000001101101, 13),
    (0b0000001001010, 13),
    (0b0000001001011, 13),
    (0b0000001001100, 13),
    (0b0000001001101, 13),
    (0b0000001110010, 13),
    (0b0000001110011, 13),
    (0b0000001110100, 13),
    (0b0000001110101, 13),
    (0b0000001110110, 13),
    (0b0000001110111, 13),
    (0b0000001010010, 13),
    (0b0000001010011, 13),
    (0b0000001010100, 13),
    (0b0000001010101, 13),
    (0b0000001011010, 13),
    (0b0000001011011, 13),
    (0b0000001100100, 13),
    (0b0000001100101, 13),
];

/// Extended make-up codes shared by both colours, runs 1792, 1856, …, 2560 (Table 3b/T.4).
pub const EXT_MAKEUP: [(u16, u8); 13] = [
    (0b00000001000, 11),
    (0b00000001100, 11),
    (0b00000001101, 11),
    (0b000000010010, 12),
    (0b000000010011, 12),
    (0b000000010100, 12),
    (0b000000010101, 12),
    (0b000000010110, 12),
    (0b000000010111, 12),
    (0b000000011100, 12),
    (0b000000011101, 12),
    (0b000000011110, 12),
    (0b000000011111, 12),
];

/// EOL: 0000 0000 0001 (§4.1.2).
pub const EOL: (u16, u8) = (0b000000000001, 12);

/// Two-dimensional mode codes (Table 4/T.4).
pub const PASS: (u16, u8) = (0b0001, 4);
pub const HORIZONTAL: (u16, u8) = (0b001, 3);
/// Vertical mode codes indexed by `a1 - b1 + 3` (VL3, VL2, VL1, V0, VR1, VR2, VR3).
pub const VERTICAL: [(u16, u8); 7] = [
    (0b0000010, 7),
    (0b000010, 6),
    (0b010, 3),
    (0b1, 1),
    (0b011, 3),
    (0b000011, 6),
    (0b0000011, 7),
];

/// A run-length lookup entry: `run << 4 | length`; length 0 = no code starts with these bits.
pub type RunEntry = u16;

/// Bits the white table is indexed by.
pub const WHITE_BITS: u32 = 12;
/// Bits the black table is indexed by.
pub const BLACK_BITS: u32 = 13;

const fn put(table: &mut [u16], bits: u32, code: (u16, u8), run: u16) {
    let shift = bits - code.1 as u32;
    let first = (code.0 as usize) << shift;
    let n = 1usize << shift;
    let mut i = 0;
    while i < n {
        assert!(table[first + i] == 0, "T.4 code table overlap");
        table[first + i] = (run << 4) | code.1 as u16;
        i += 1;
    }
}

const fn build<const N: usize>(
    bits: u32,
    term: &[(u16, u8); 64],
    makeup: &[(u16, u8); 27],
) -> [RunEntry; N] {
    let mut t = [0u16; N];
    let mut i = 0;
    while i < 64 {
        put(&mut t, bits, term[i], i as u16);
        i += 1;
    }
    i = 0;
    while i < 27 {
        put(&mut t, bits, makeup[i], 64 * (i as u16 + 1));
        i += 1;
    }
    i = 0;
    while i < 13 {
        put(&mut t, bits, EXT_MAKEUP[i], 1792 + 64 * i as u16);
        i += 1;
    }
    t
}

const WHITE_RUNS: [RunEntry; 1 << WHITE_BITS] =
    build::<{ 1 << WHITE_BITS }>(WHITE_BITS, &WHITE_TERM, &WHITE_MAKEUP);
const BLACK_RUNS: [RunEntry; 1 << BLACK_BITS] =
    build::<{ 1 << BLACK_BITS }>(BLACK_BITS, &BLACK_TERM, &BLACK_MAKEUP);

/// White run decoding table, indexed by the next 12 bits.
pub static WHITE_TABLE: [RunEntry; 1 << WHITE_BITS] = WHITE_RUNS;
/// Black run decoding table, indexed by the next 13 bits.
pub static BLACK_TABLE: [RunEntry; 1 << BLACK_BITS] = BLACK_RUNS;

/// Bits the run table is indexed by.
pub const RUN_BITS: u32 = 12;

/// Up to two runs in one lookup, for the colour the next run has: index `colour <<
/// RUN_BITS | next 12 bits` (colour 0 = white, 1 = black). Whatever of the following fits
/// in those 12 bits, in this order:
/// - a whole run of that colour (make-up codes and its terminating code; a white run of up
///   to 63 pels costs 4–8 bits, a black run of 1–6 pels 2–4 bits), then a whole run of the
///   other colour: `count` 2;
/// - a whole run of that colour: `count` 1;
/// - make-up codes only (the terminating code lies further): `count` 0, `run1` their pels.
///
/// Entry: `len | count << 4 | run1 << 6 | run2 << 18` (`len` the bits of all the codes,
/// `run2` 0 unless `count` is 2); 0 = no code word starts with these bits, or only one
/// longer than 12 bits (the single-code tables decode those).
pub static RUNS: [u32; 2 << RUN_BITS] = build_runs();

/// The fields of a [`RUNS`] entry: `(bits, count, run1, run2)`.
#[inline(always)]
pub const fn run_entry(e: u32) -> (u32, u32, u32, u32) {
    (e & 15, (e >> 4) & 3, (e >> 6) & 0xFFF, e >> 18)
}

/// One code word of the colour at the start of `bits` (left-aligned, `avail` of them
/// valid): `(pels, length)`, length 0 if none lies within the valid bits.
const fn one_code(black: bool, bits: u32, avail: u32) -> (u32, u32) {
    let e = if black {
        BLACK_RUNS[(bits >> (32 - BLACK_BITS)) as usize]
    } else {
        WHITE_RUNS[(bits >> (32 - WHITE_BITS)) as usize]
    };
    let len = (e & 15) as u32;
    if len == 0 || len > avail {
        (0, 0)
    } else {
        ((e >> 4) as u32, len)
    }
}

/// Make-up codes and a terminating code at the start of `bits`: `(pels, length, whole)`,
/// `whole` false when the terminating code does not lie within the `avail` valid bits.
const fn whole_run(black: bool, bits: u32, avail: u32) -> (u32, u32, bool) {
    let (mut run, mut len) = (0, 0);
    loop {
        let (v, l) = one_code(black, if len < 32 { bits << len } else { 0 }, avail - len);
        if l == 0 {
            return (run, len, false);
        }
        run += v;
        len += l;
        if v < 64 {
            return (run, len, true);
        }
    }
}

const fn build_runs() -> [u32; 2 << RUN_BITS] {
    let mut t = [0u32; 2 << RUN_BITS];
    let mut i = 0;
    while i < 2 << RUN_BITS {
        let black = i >> RUN_BITS == 1;
        let bits = ((i & ((1 << RUN_BITS) - 1)) as u32) << (32 - RUN_BITS);
        let (run1, len1, whole1) = whole_run(black, bits, RUN_BITS);
        assert!(run1 < 1 << 12, "run1 field overflow");
        if len1 > 0 {
            let (run2, len2, whole2) = whole_run(!black, bits << len1, RUN_BITS - len1);
            assert!(run2 < 1 << 12, "run2 field overflow");
            t[i] = if !whole1 {
                len1 | run1 << 6
            } else if len2 > 0 && whole2 {
                (len1 + len2) | 2 << 4 | run1 << 6 | run2 << 18
            } else {
                len1 | 1 << 4 | run1 << 6
            };
        }
        i += 1;
    }
    t
}

/// The two-dimensional mode codes (T.4 §4.2.1.3.2), as the kinds of [`MODE_TABLE`]
/// entries: kinds 0..=6 are vertical modes with `a1 - b1 = kind - 3`.
pub const MODE_VERTICAL_MAX: u8 = 6;
/// Horizontal mode.
pub const MODE_HORIZONTAL: u8 = 7;
/// Pass mode.
pub const MODE_PASS: u8 = 8;
/// `0000001xxx`: an extension (uncompressed mode) — not supported.
pub const MODE_EXTENSION: u8 = 9;
/// Seven zero bits: an EOL (or garbage) where a mode code was expected.
pub const MODE_ZEROS: u8 = 10;

/// Mode lookup entry: `(kind, length)`, indexed by the next 7 bits.
pub static MODE_TABLE: [(u8, u8); 128] = build_modes();

const fn build_modes() -> [(u8, u8); 128] {
    let mut t = [(MODE_ZEROS, 7u8); 128];
    let mut i = 0;
    while i < 128 {
        t[i] = if i >= 64 {
            (3, 1)
        } else if i >> 4 == 0b011 {
            (4, 3)
        } else if i >> 4 == 0b010 {
            (2, 3)
        } else if i >> 4 == 0b001 {
            (MODE_HORIZONTAL, 3)
        } else if i >> 3 == 0b0001 {
            (MODE_PASS, 4)
        } else if i >> 1 == 0b000011 {
            (5, 6)
        } else if i >> 1 == 0b000010 {
            (1, 6)
        } else if i == 0b0000011 {
            (6, 7)
        } else if i == 0b0000010 {
            (0, 7)
        } else if i == 0b0000001 {
            (MODE_EXTENSION, 7)
        } else {
            (MODE_ZEROS, 7)
        };
        i += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_decodes_to_itself() {
        for (table, bits, term, makeup) in [
            (&WHITE_TABLE[..], WHITE_BITS, &WHITE_TERM, &WHITE_MAKEUP),
            (&BLACK_TABLE[..], BLACK_BITS, &BLACK_TERM, &BLACK_MAKEUP),
        ] {
            let all = term
                .iter()
                .enumerate()
                .map(|(r, c)| (r as u16, *c))
                .chain(
                    makeup
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (64 * (i as u16 + 1), *c)),
                )
                .chain(
                    EXT_MAKEUP
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (1792 + 64 * i as u16, *c)),
                );
            for (run, (code, len)) in all {
                let idx = (code as usize) << (bits - len as u32);
                let e = table[idx];
                assert_eq!((e >> 4, e & 15), (run, len as u16), "run {run}");
            }
        }
    }

    /// Every run as its code words: make-up codes (the longest first, as encoders write
    /// them) and a terminating code.
    fn run_codes(run: u32, black: bool) -> Vec<(u16, u8)> {
        let (term, makeup) = if black {
            (&BLACK_TERM, &BLACK_MAKEUP)
        } else {
            (&WHITE_TERM, &WHITE_MAKEUP)
        };
        let mut codes = Vec::new();
        let mut left = run;
        while left >= 64 {
            let m = (left / 64).min(40);
            codes.push(if m > 27 {
                EXT_MAKEUP[(m - 28) as usize]
            } else {
                makeup[(m - 1) as usize]
            });
            left -= 64 * m;
        }
        codes.push(term[left as usize]);
        codes
    }

    #[test]
    fn run_table_decodes_as_single_lookups() {
        // Every (run, run) of the two colours whose codes fit: the entry for every padding.
        let runs: Vec<u32> = (0..64).chain((1..=40).map(|m| 64 * m + 5)).collect();
        let mut seen = [0usize; 3];
        for first_black in [false, true] {
            for &r1 in &runs {
                for &r2 in &runs {
                    let mut bits = 0u64;
                    let mut len = 0u32;
                    let c1 = run_codes(r1, first_black);
                    let c2 = run_codes(r2, !first_black);
                    for &(c, l) in c1.iter().chain(&c2) {
                        bits = bits << l | c as u64;
                        len += l as u32;
                    }
                    let len1: u32 = c1.iter().map(|c| c.1 as u32).sum();
                    let first_code = c1[0].1 as u32;
                    // Left-align in 12 bits (or cut to 12).
                    let top = if len >= RUN_BITS {
                        (bits >> (len - RUN_BITS)) as usize
                    } else {
                        (bits << (RUN_BITS - len)) as usize
                    };
                    let e = RUNS[(first_black as usize) << RUN_BITS | top];
                    let want = if len <= RUN_BITS {
                        (len, 2, r1, r2)
                    } else if len1 <= RUN_BITS {
                        (len1, 1, r1, 0)
                    } else if first_code <= RUN_BITS {
                        // Make-up codes as far as they fit.
                        let mut l = 0;
                        let mut pels = 0;
                        for &(c, cl) in &c1 {
                            let v = run_of(c, cl, first_black);
                            if v < 64 || l + cl as u32 > RUN_BITS {
                                break;
                            }
                            l += cl as u32;
                            pels += v;
                        }
                        (l, 0, pels, 0)
                    } else {
                        (0, 0, 0, 0)
                    };
                    assert_eq!(run_entry(e), want, "{first_black} {r1} {r2}");
                    seen[want.1 as usize] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        // Invalid bits and the EOL are no run.
        assert_eq!(RUNS[1], 0);
        assert_eq!(RUNS[1 << RUN_BITS | 1], 0);
    }

    fn run_of(code: u16, len: u8, black: bool) -> u32 {
        let (table, bits) = if black {
            (&BLACK_TABLE[..], BLACK_BITS)
        } else {
            (&WHITE_TABLE[..], WHITE_BITS)
        };
        (table[(code as usize) << (bits - len as u32)] >> 4) as u32
    }

    #[test]
    fn eol_is_not_a_run_code() {
        assert_eq!(WHITE_TABLE[1], 0);
        assert_eq!(BLACK_TABLE[2], 0);
        assert_eq!(BLACK_TABLE[3], 0);
    }

    #[test]
    fn mode_table_matches_the_code_words() {
        for (d, (code, len)) in VERTICAL.iter().enumerate() {
            let e = MODE_TABLE[(*code as usize) << (7 - len)];
            assert_eq!(e, (d as u8, *len), "V{}", d as i32 - 3);
        }
        assert_eq!(MODE_TABLE[(PASS.0 as usize) << 3], (MODE_PASS, 4));
        assert_eq!(
            MODE_TABLE[(HORIZONTAL.0 as usize) << 4],
            (MODE_HORIZONTAL, 3)
        );
        assert_eq!(MODE_TABLE[1], (MODE_EXTENSION, 7));
        assert_eq!(MODE_TABLE[0], (MODE_ZEROS, 7));
    }
}
