//! One coded row to its changing elements: one-dimensional (T.4 §4.1.1, MH) and
//! two-dimensional (T.4 §4.2.1.3, T.6 §2.2: MR and MMR).
//!
//! The bits come from a [`BitReader`] (a 64-bit register, refilled a word at a time). Runs
//! are decoded from the next 12 bits with one lookup in [`RUNS`]: two whole runs (a run and
//! the next one of the other colour, make-up codes included) when their codes fit — most
//! pairs inside text — else one whole run, or its make-up codes. The few longer code words
//! (and the end of the row) take one lookup per code word. In 2-D rows, `b1` is an index
//! into the reference row's changes that only moves forward (one step back after a
//! vertical mode left of it), never a search from the row start. Errors are located by bit
//! position; a code read partly from beyond the data is no evidence of an error, so it asks
//! for more data instead.

use super::ErrorKind;
use super::bits::BitReader;
use super::codes::{
    BLACK_TABLE, MODE_EXTENSION, MODE_HORIZONTAL, MODE_PASS, MODE_TABLE, MODE_VERTICAL_MAX,
    RUN_BITS, RUNS, WHITE_TABLE, run_entry,
};

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

/// A one-dimensional (MH) row (T.4 §4.1.1) at bit `*pos`: `cur[..n]` (`n` returned)
/// becomes a leading 0 and the row's changing elements (zero-length runs give two equal
/// entries: the pels are the same either way, but the next row's b1/b2, T.4 §4.2.1.3.1, must
/// see both, as the encoder that made the run did — libtiff's testfax4 regression is such a
/// page), or [`Fail::Full`] if `cur` is too short (never with [`changes_capacity`] entries).
pub(super) fn decode_1d(
    buf: &[u8],
    pos: &mut usize,
    data_bits: usize,
    width: u32,
    cur: &mut [u32],
) -> Result<usize, Fail> {
    // `n` counts the leading 0 besides the changes.
    let limit = max_changes(width) + 1;
    // Two entries per lookup while both fit the list and stay within the limit.
    let fast_room = cur.len().min(limit);
    let Some(first) = cur.first_mut() else {
        return Err(Fail::Full);
    };
    *first = 0;
    let mut n = 1usize;
    let mut r = BitReader::new(buf, *pos);
    let mut a0 = 0u32;
    let mut black = 0usize;
    loop {
        r.want(RUN_BITS);
        let e = RUNS[black << RUN_BITS | (r.peek32() >> (32 - RUN_BITS)) as usize];
        let (len, count, run1, run2) = run_entry(e);
        let a1 = a0 + run1;
        let a2 = a1 + run2;
        // Inside the row and the list: nothing to check one run at a time (the end of the
        // row, long codes and errors go the long way, one code word per lookup).
        if len != 0 && a2 < width && n + 2 <= fast_room {
            cur[n] = a1;
            cur[n + 1] = a2;
            n += count as usize;
            black ^= count as usize & 1;
            a0 = a2;
            r.consume(len);
            continue;
        }
        let at = r.pos();
        a0 += read_run(&mut r, data_bits, black == 1, width)?;
        if a0 >= width {
            *pos = r.pos();
            if *pos > data_bits {
                return Err(Fail::OutOfData);
            }
            if a0 > width {
                return Err(Fail::Bad(ErrorKind::RunPastEndOfRow, at));
            }
            return Ok(n);
        }
        match cur.get_mut(n) {
            Some(slot) => *slot = a0,
            None => return Err(Fail::Full),
        }
        n += 1;
        if n > limit {
            // Endless zero-length runs: no row has that many changes.
            return Err(if r.pos() > data_bits {
                Fail::OutOfData
            } else {
                Fail::Bad(ErrorKind::RunPastEndOfRow, at)
            });
        }
        black ^= 1;
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
    let Some(first) = cur.first_mut() else {
        return Err(Fail::Full);
    };
    *first = 0;
    let mut n = 1usize;
    let mut r = BitReader::new(buf, *pos);
    let w = width;
    // a0 starts on the imaginary pel before the row (T.4 §4.2.1.3.1); as an unsigned
    // position 0 serves: a1 ≥ 0 is all the first code needs either way.
    let mut a0 = 0u32;
    // b1 = refl[bi]: the first change right of a0 whose index parity is a0's colour (odd
    // indexes turn black, the leading 0 being index 0). refl[bi - 1] always exists, and
    // while a0 < w, bi stays at or before the second sentinel (so refl[bi + 1] exists).
    let mut bi = 1usize;
    while a0 < w {
        // Room for the two changes of a horizontal mode (with `changes_capacity` entries
        // always: no row reaches `cur.len() - 2`, see there).
        if n + 2 > cur.len() {
            return Err(Fail::Full);
        }
        r.want(7);
        let (kind, len) = MODE_TABLE[(r.peek32() >> 25) as usize];
        if kind <= MODE_VERTICAL_MAX {
            r.consume(len as u32);
            let a1 = refl[bi].wrapping_add(kind as u32).wrapping_sub(3);
            // a1 in a0..w (one unsigned comparison; a1 = w ends the row).
            if a1.wrapping_sub(a0) >= w - a0 {
                if a1 == w {
                    break;
                }
                let end = r.pos();
                return Err(fail(end, ErrorKind::BadVerticalMode, end - len as usize));
            }
            cur[n] = a1;
            n += 1;
            if a1 == a0 && n > limit {
                let end = r.pos();
                return Err(fail(end, ErrorKind::BadVerticalMode, end - len as usize));
            }
            a0 = a1;
            // The colour flips: b1 is the previous change if it lies right of a1 (the
            // leading 0 never does), else one of the following ones.
            bi = if refl[bi - 1] > a0 { bi - 1 } else { bi + 1 };
            while refl[bi] <= a0 {
                bi += 2;
            }
            continue;
        }
        match kind {
            MODE_HORIZONTAL => {
                let at = r.pos();
                r.consume(3);
                let black = bi & 1 == 0;
                r.want(RUN_BITS);
                let e =
                    RUNS[(black as usize) << RUN_BITS | (r.peek32() >> (32 - RUN_BITS)) as usize];
                let (len, count, run1, run2) = run_entry(e);
                let a1 = a0 + run1;
                let a2 = a1 + run2;
                if count == 2 && a2 < w {
                    // Both runs in one lookup.
                    r.consume(len);
                    cur[n] = a1;
                    cur[n + 1] = a2;
                    n += 2;
                    if n > limit {
                        return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                    }
                    a0 = a2;
                    while refl[bi] <= a0 {
                        bi += 2;
                    }
                    continue;
                }
                let r1 = read_run(&mut r, data_bits, black, width)?;
                let r2 = read_run(&mut r, data_bits, !black, width)?;
                let a1 = a0 + r1;
                let a2 = a1 + r2;
                if a2 > w {
                    return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                }
                if a1 < w {
                    cur[n] = a1;
                    n += 1;
                }
                if a2 < w {
                    cur[n] = a2;
                    n += 1;
                }
                if n > limit {
                    return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                }
                a0 = a2;
                while refl[bi] <= a0 && a0 < w {
                    bi += 2;
                }
            }
            MODE_PASS => {
                r.consume(4);
                a0 = refl[bi + 1];
                while refl[bi] <= a0 && a0 < w {
                    bi += 2;
                }
            }
            MODE_EXTENSION => {
                let at = r.pos();
                return Err(if at + 10 > data_bits {
                    Fail::OutOfData
                } else {
                    Fail::Bad(ErrorKind::UncompressedMode, at)
                });
            }
            _ => {
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
