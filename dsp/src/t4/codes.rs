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

/// Bits the white–black pair table is indexed by.
pub const PAIR_BITS: u32 = 12;

/// Two code words in one lookup: a white terminating code followed by a black terminating
/// code, both within the next 12 bits (the usual case inside text: white runs of up to 63
/// pels cost 4–8 bits, black runs of 1–6 pels 2–4 bits). Entry: `white | black << 6 |
/// length << 12` with the length of both codes together; 0 = the bits are not such a pair.
pub static WHITE_BLACK_PAIRS: [u32; 1 << PAIR_BITS] = build_pairs();

const fn build_pairs() -> [u32; 1 << PAIR_BITS] {
    let mut t = [0u32; 1 << PAIR_BITS];
    let mut i = 0;
    while i < 1 << PAIR_BITS {
        let white = WHITE_RUNS[i >> (PAIR_BITS - WHITE_BITS)];
        let (run1, len1) = ((white >> 4) as u32, (white & 15) as u32);
        if len1 != 0 && run1 < 64 {
            // The bits after the white code, zero-padded; the black code must lie within the
            // real ones, and there the table entry depends only on them (prefix-free codes).
            let rest = (i << len1) & ((1 << PAIR_BITS) - 1);
            let black = BLACK_RUNS[rest << (BLACK_BITS - PAIR_BITS)];
            let (run2, len2) = ((black >> 4) as u32, (black & 15) as u32);
            if len2 != 0 && run2 < 64 && len1 + len2 <= PAIR_BITS {
                t[i] = run1 | run2 << 6 | (len1 + len2) << 12;
            }
        }
        i += 1;
    }
    t
}

/// A two-dimensional coding mode (T.4 §4.2.1.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Horizontal,
    /// Vertical with `a1 - b1` in −3..=3.
    Vertical(i8),
    /// `0000001xxx`: an extension (uncompressed mode) — not supported.
    Extension,
    /// Seven zero bits: an EOL (or garbage) where a mode code was expected.
    Zeros,
}

/// Mode lookup entry: `(mode, length)`, indexed by the next 7 bits.
pub static MODE_TABLE: [(Mode, u8); 128] = build_modes();

const fn build_modes() -> [(Mode, u8); 128] {
    let mut t = [(Mode::Zeros, 7u8); 128];
    let mut i = 0;
    while i < 128 {
        t[i] = if i >= 64 {
            (Mode::Vertical(0), 1)
        } else if i >> 4 == 0b011 {
            (Mode::Vertical(1), 3)
        } else if i >> 4 == 0b010 {
            (Mode::Vertical(-1), 3)
        } else if i >> 4 == 0b001 {
            (Mode::Horizontal, 3)
        } else if i >> 3 == 0b0001 {
            (Mode::Pass, 4)
        } else if i >> 1 == 0b000011 {
            (Mode::Vertical(2), 6)
        } else if i >> 1 == 0b000010 {
            (Mode::Vertical(-2), 6)
        } else if i == 0b0000011 {
            (Mode::Vertical(3), 7)
        } else if i == 0b0000010 {
            (Mode::Vertical(-3), 7)
        } else if i == 0b0000001 {
            (Mode::Extension, 7)
        } else {
            (Mode::Zeros, 7)
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

    #[test]
    fn pairs_decode_as_two_lookups() {
        let mut pairs = 0;
        for (white, &(wc, wl)) in WHITE_TERM.iter().enumerate() {
            for (black, &(bc, bl)) in BLACK_TERM.iter().enumerate() {
                let len = (wl + bl) as u32;
                if len > PAIR_BITS {
                    continue;
                }
                let code = (wc as usize) << bl | bc as usize;
                for pad in 0..1usize << (PAIR_BITS - len) {
                    let e = WHITE_BLACK_PAIRS[code << (PAIR_BITS - len) | pad];
                    assert_eq!(
                        (e & 63, e >> 6 & 63, e >> 12),
                        (white as u32, black as u32, len),
                        "white {white} black {black}"
                    );
                }
                pairs += 1;
            }
        }
        let filled = WHITE_BLACK_PAIRS.iter().filter(|&&e| e != 0).count();
        assert!(pairs > 100);
        // Every other entry is 0: no pair starts with those bits.
        let covered: usize = WHITE_TERM
            .iter()
            .flat_map(|w| BLACK_TERM.iter().map(move |b| (w.1 + b.1) as u32))
            .filter(|&l| l <= PAIR_BITS)
            .map(|l| 1usize << (PAIR_BITS - l))
            .sum();
        assert_eq!(filled, covered);
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
            assert_eq!(e, (Mode::Vertical(d as i8 - 3), *len));
        }
        assert_eq!(MODE_TABLE[(PASS.0 as usize) << 3], (Mode::Pass, 4));

        assert_eq!(
            MODE_TABLE[(HORIZONTAL.0 as usize) << 4],
            (Mode::Horizontal, 3)
        );
    }
}
