//! One coded row to its changing elements: one-dimensional (T.4 §4.1.1, MH) and
//! two-dimensional (T.4 §4.2.1.3, T.6 §2.2: MR and MMR).
//!
//! The bits come from a [`BitReader`] (a 64-bit register, refilled a word at a time). A white
//! run followed by a black run whose codes fit in 12 bits — most pairs inside text — is
//! decoded with one lookup in [`WHITE_BLACK_PAIRS`]; longer codes and make-up codes take one
//! lookup each. Errors are located by bit position; a code read partly from beyond the data
//! is no evidence of an error, so it asks for more data instead.

use super::ErrorKind;
use super::bits::BitReader;
use super::codes::{BLACK_TABLE, MODE_TABLE, Mode, PAIR_BITS, WHITE_BLACK_PAIRS, WHITE_TABLE};

/// Why a row could not be decoded (yet).
pub(super) enum Fail {
    /// The row needs bits beyond those received.
    OutOfData,
    /// Only fill so far: need more bits, but the bits before this position can go.
    OutOfDataFrom(usize),
    /// Bad data at this bit.
    Bad(ErrorKind, usize),
    /// [`decode_2d`]'s change list is full: call again with a longer one.
    Full,
}

/// Why no run code matched at `pos`.
#[cold]
fn bad_code(w: u32, pos: usize, data_bits: usize) -> Fail {
    if pos + 13 > data_bits {
        Fail::OutOfData
    } else if w.leading_zeros() >= 11 {
        Fail::Bad(ErrorKind::PrematureEol, pos)
    } else {
        Fail::Bad(ErrorKind::InvalidCode, pos)
    }
}

/// One run (make-up codes and a terminating code) of the given colour. Whether the bits
/// read lay inside the data is the caller's check (by position, at the end of the row).
#[inline(always)]
fn read_run(r: &mut BitReader<'_>, data_bits: usize, black: bool, width: u32) -> Result<u32, Fail> {
    let mut run = 0u32;
    loop {
        r.want(13);
        let w = r.peek32();
        let e = if black {
            BLACK_TABLE[(w >> 19) as usize]
        } else {
            WHITE_TABLE[(w >> 20) as usize]
        };
        let len = (e & 15) as u32;
        if len == 0 {
            return Err(bad_code(w, r.pos(), data_bits));
        }
        r.consume(len);
        let v = (e >> 4) as u32;
        run += v;
        if v < 64 {
            return Ok(run);
        }
        if run > width {
            // A make-up code read partly from beyond the data is no evidence of an error.
            let end = r.pos();
            return Err(if end > data_bits {
                Fail::OutOfData
            } else {
                Fail::Bad(ErrorKind::RunPastEndOfRow, end - len as usize)
            });
        }
    }
}

/// The next white–black pair of terminating codes, if the next 12 bits are one:
/// `(white run, black run, bits)`.
#[inline(always)]
fn pair(r: &mut BitReader<'_>) -> Option<(u32, u32, u32)> {
    r.want(PAIR_BITS);
    let e = WHITE_BLACK_PAIRS[(r.peek32() >> (32 - PAIR_BITS)) as usize];
    (e != 0).then_some((e & 63, (e >> 6) & 63, e >> 12))
}

/// More changing elements than any row can have, even with zero-length runs.
#[inline(always)]
fn max_changes(width: u32) -> usize {
    2 * width as usize + 8
}

/// Entries a change list handed to [`decode_2d`] never needs more than: the leading 0,
/// up to `max_changes + 2` changes checked against the limit, up to `width + 1` vertical-mode
/// changes that are not (each greater than the one before), and three sentinels.
pub(super) fn changes_capacity(width: u32) -> usize {
    2 * max_changes(width) + 8
}

/// A one-dimensional (MH) row (T.4 §4.1.1) at bit `*pos`: `cur` becomes a leading 0 and
/// the row's changing elements (zero-length runs give two equal entries: the pels are the
/// same either way, but the next row's b1/b2, T.4 §4.2.1.3.1, must see both, as the encoder
/// that made the run did — libtiff's testfax4 regression is such a page).
pub(super) fn decode_1d(
    buf: &[u8],
    pos: &mut usize,
    data_bits: usize,
    width: u32,
    cur: &mut Vec<u32>,
) -> Result<(), Fail> {
    cur.clear();
    cur.push(0);
    // `cur` holds the leading 0 besides the changes.
    let limit = max_changes(width) + 1;
    let mut r = BitReader::new(buf, *pos);
    let mut a0 = 0u32;
    let mut black = false;
    loop {
        if !black && let Some((white_run, black_run, len)) = pair(&mut r) {
            let a1 = a0 + white_run;
            let a2 = a1 + black_run;
            // Inside the row and within the change limit: nothing to check one code at a
            // time (the end of the row and the limit go the long way, one code each).
            if a2 < width && cur.len() + 2 <= limit {
                r.consume(len);
                cur.push(a1);
                cur.push(a2);
                a0 = a2;
                continue;
            }
        }
        let at = r.pos();
        a0 += read_run(&mut r, data_bits, black, width)?;
        if a0 >= width {
            *pos = r.pos();
            if *pos > data_bits {
                return Err(Fail::OutOfData);
            }
            if a0 > width {
                return Err(Fail::Bad(ErrorKind::RunPastEndOfRow, at));
            }
            return Ok(());
        }
        cur.push(a0);
        if cur.len() > limit {
            // Endless zero-length runs: no row has that many changes.
            return Err(if r.pos() > data_bits {
                Fail::OutOfData
            } else {
                Fail::Bad(ErrorKind::RunPastEndOfRow, at)
            });
        }
        black = !black;
    }
}

/// A two-dimensional (MR/MMR) row (T.4 §4.2.1.3, T.6 §2.2) at bit `*pos`, against `refl`:
/// the reference row as a leading 0, its changing elements and three `width` sentinels.
/// `cur[..n]` (`n` returned) becomes a leading 0 and the row's changing elements, or
/// [`Fail::Full`] if `cur` is too short (never with [`changes_capacity`] entries or more).
pub(super) fn decode_2d(
    buf: &[u8],
    pos: &mut usize,
    data_bits: usize,
    width: u32,
    refl: &[u32],
    cur: &mut [u32],
) -> Result<usize, Fail> {
    // Errors met on bits beyond the data are no evidence against the data: ask for more.
    let fail = |pos: usize, kind: ErrorKind, at: usize| {
        if pos > data_bits {
            Fail::OutOfData
        } else {
            Fail::Bad(kind, at)
        }
    };
    let limit = max_changes(width) + 1;
    let mut n = 0usize;
    // Store one change; a full list asks the caller for a longer one.
    macro_rules! push {
        ($x:expr) => {
            match cur.get_mut(n) {
                Some(slot) => {
                    *slot = $x;
                    n += 1;
                }
                None => return Err(Fail::Full),
            }
        };
    }
    push!(0);
    let mut r = BitReader::new(buf, *pos);
    let w_i = width as i64;
    let mut a0: i64 = -1;
    // b1 = refl[bi]: the first change right of a0 whose index parity is a0's colour (odd
    // indexes turn black, the leading 0 being index 0). refl[bi - 1] always exists.
    let mut bi = 1usize;
    while a0 < w_i {
        r.want(7);
        let w = r.peek32();
        let (mode, len) = MODE_TABLE[(w >> 25) as usize];
        match mode {
            Mode::Vertical(d) => {
                r.consume(len as u32);
                let a1 = refl[bi] as i64 + d as i64;
                if a1 < a0 || a1 < 0 || a1 > w_i {
                    let end = r.pos();
                    return Err(fail(end, ErrorKind::BadVerticalMode, end - len as usize));
                }
                if a1 >= w_i {
                    break;
                }
                push!(a1 as u32);
                if a1 == a0 && n > limit {
                    let end = r.pos();
                    return Err(fail(end, ErrorKind::BadVerticalMode, end - len as usize));
                }
                a0 = a1;
                // The colour flips: b1 is the previous change if it lies right of a1 (the
                // leading 0 never does), else one of the following ones.
                if refl[bi - 1] as i64 > a0 {
                    bi -= 1;
                } else {
                    bi += 1;
                    while (refl[bi] as i64) <= a0 {
                        bi += 2;
                    }
                }
            }
            Mode::Horizontal => {
                let at = r.pos();
                r.consume(3);
                let black = bi & 1 == 0;
                let start = a0.max(0);
                if !black && let Some((white_run, black_run, len)) = pair(&mut r) {
                    let a1 = start + white_run as i64;
                    let a2 = a1 + black_run as i64;
                    if a2 < w_i {
                        r.consume(len);
                        push!(a1 as u32);
                        push!(a2 as u32);
                        if n > limit {
                            return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                        }
                        a0 = a2;
                        while (refl[bi] as i64) <= a0 {
                            bi += 2;
                        }
                        continue;
                    }
                }
                let r1 = read_run(&mut r, data_bits, black, width)?;
                let r2 = read_run(&mut r, data_bits, !black, width)?;
                let a1 = start + r1 as i64;
                let a2 = a1 + r2 as i64;
                if a2 > w_i {
                    return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                }
                if a1 < w_i {
                    push!(a1 as u32);
                }
                if a2 < w_i {
                    push!(a2 as u32);
                }
                if n > limit {
                    return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                }
                a0 = a2;
                while (refl[bi] as i64) <= a0 && a0 < w_i {
                    bi += 2;
                }
            }
            Mode::Pass => {
                r.consume(4);
                a0 = refl[bi + 1] as i64;
                while (refl[bi] as i64) <= a0 && a0 < w_i {
                    bi += 2;
                }
            }
            Mode::Extension => {
                let at = r.pos();
                return Err(if at + 10 > data_bits {
                    Fail::OutOfData
                } else {
                    Fail::Bad(ErrorKind::UncompressedMode, at)
                });
            }
            Mode::Zeros => {
                r.want(32);
                return Err(bad_code(r.peek32(), r.pos(), data_bits));
            }
        }
    }
    *pos = r.pos();
    if *pos > data_bits {
        return Err(Fail::OutOfData);
    }
    Ok(n)
}
