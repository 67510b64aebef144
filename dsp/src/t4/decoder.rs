//! The decoder: MH, MR and MMR, fed in chunks, yielding rows.
//!
//! Error handling follows what a fax receiver needs (T.4 §4.1.2 note, T.30 §5.3.6.2.1 copy
//! quality): in MH and MR a row that fails to decode is *bad* — it is replaced by the previous
//! row, counted, and decoding resynchronises at the next EOL. MMR has no EOLs to resynchronise
//! on, so an error ends the page with [`DecodeError`] naming the row. [`DecodeStats`] reports
//! rows, bad rows and the longest run of consecutive bad rows.
//!
//! Two consecutive EOLs after at least one row end an MH/MR page (RTC is six, but the end is
//! certain after two); EOFB ends an MMR page. When the container knows the number of rows
//! ([`DecodeOptions::rows`], TIFF ImageLength) decoding stops there.

use super::bits::{BitReader, peek32};
use super::codes::{BLACK_TABLE, MODE_TABLE, Mode, WHITE_TABLE};
use super::rows::paint_row;
use super::{BitOrder, Coding, DEFAULT_MAX_ROWS, DecodeError, ErrorKind, MAX_WIDTH};

/// How to decode a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// MH, MR (any K) or MMR.
    pub coding: Coding,
    /// Pels per row.
    pub width: u32,
    /// Bit order of the input bytes.
    pub bit_order: BitOrder,
    /// The number of rows, when the container declares it; `None` = until RTC/EOFB or the
    /// end of the input.
    pub rows: Option<u32>,
    /// MH rows without EOL, each starting on a byte boundary (TIFF Compression 2).
    pub byte_aligned_rows: bool,
    /// Give up (with [`ErrorKind::TooManyRows`]) past this many rows.
    pub max_rows: u32,
}

impl DecodeOptions {
    /// A page as it arrives from a fax line: LSB first, ends at RTC/EOFB.
    pub fn new(coding: Coding, width: u32) -> DecodeOptions {
        DecodeOptions {
            coding,
            width,
            bit_order: BitOrder::LsbFirst,
            rows: None,
            byte_aligned_rows: false,
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

/// What [`Decoder::next_row`] has for you.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress<'a> {
    /// The next row, packed (1 = black). A bad row is a copy of the previous one.
    Row(&'a [u8]),
    /// Push more bytes (or call [`Decoder::finish_input`]) to get the next row.
    NeedInput,
    /// The page is complete.
    End,
}

/// Counts for the receiver's copy-quality check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Rows produced, bad ones included.
    pub rows: u32,
    /// Rows that failed to decode and were replaced by the previous row.
    pub bad_rows: u32,
    /// The longest run of consecutive bad rows.
    pub max_consecutive_bad_rows: u32,
    /// The first error met, if any.
    pub first_error: Option<DecodeError>,
}

enum Fail {
    /// The row needs bits beyond those received.
    OutOfData,
    /// Only fill so far: need more bits, but the bits before this position can go.
    OutOfDataFrom(usize),
    /// Bad data at this bit.
    Bad(ErrorKind, usize),
}

enum Step {
    Row,
    /// End of page; `true` when RTC/EOFB was seen.
    End(bool),
}

/// A streaming page decoder.
#[derive(Debug, Clone)]
pub struct Decoder {
    opts: DecodeOptions,
    /// Unconsumed input, MSB first.
    buf: Vec<u8>,
    /// Read position in `buf`, in bits.
    pos: usize,
    /// Bits dropped from the front of `buf` so far.
    dropped_bits: u64,
    eof: bool,
    /// Do not retry a row before `buf` holds this many bytes (amortises restarts).
    retry_len: usize,
    /// Looking for the EOL after a bad row.
    resync: bool,
    /// Rows of this page start with EOL.
    saw_eol: bool,
    ended: bool,
    reference: Vec<u32>,
    current: Vec<u32>,
    row: Vec<u8>,
    toggles: Vec<u64>,
    stats: DecodeStats,
    consecutive_bad: u32,
}

impl Decoder {
    /// A decoder for one page. Fails only for a width outside 1..=[`MAX_WIDTH`].
    pub fn new(opts: DecodeOptions) -> Result<Decoder, DecodeError> {
        let w = opts.width;
        if w == 0 || w > MAX_WIDTH {
            return Err(DecodeError {
                row: 0,
                bit: 0,
                kind: ErrorKind::BadWidth { width: w },
            });
        }
        Ok(Decoder {
            opts,
            buf: Vec::new(),
            pos: 0,
            dropped_bits: 0,
            eof: false,
            retry_len: 0,
            resync: false,
            saw_eol: false,
            ended: false,
            reference: vec![w, w, w],
            current: Vec::with_capacity(64),
            row: vec![0; (w as usize).div_ceil(8)],
            toggles: Vec::with_capacity((w as usize).div_ceil(64)),
            stats: DecodeStats::default(),
            consecutive_bad: 0,
        })
    }

    /// Decode a whole page held in memory, calling `on_row` for each row.
    pub fn decode_page(
        opts: DecodeOptions,
        data: &[u8],
        mut on_row: impl FnMut(&[u8]),
    ) -> Result<DecodeStats, DecodeError> {
        let mut d = Decoder::new(opts)?;
        d.push(data);
        d.finish_input();
        loop {
            match d.next_row()? {
                Progress::Row(r) => on_row(r),
                Progress::End | Progress::NeedInput => return Ok(d.stats),
            }
        }
    }

    /// Add received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        // Drop what has been consumed once it is most of the buffer (positions only ever
        // point at a row start or later between calls).
        let consumed = self.pos / 8;
        if consumed >= 4096 && consumed * 2 >= self.buf.len() {
            self.buf.drain(..consumed);
            self.pos -= consumed * 8;
            self.dropped_bits += consumed as u64 * 8;
            self.retry_len = self.retry_len.saturating_sub(consumed);
        }
        match self.opts.bit_order {
            BitOrder::MsbFirst => self.buf.extend_from_slice(bytes),
            BitOrder::LsbFirst => self.buf.extend(bytes.iter().map(|b| b.reverse_bits())),
        }
    }

    /// No more bytes will come: the rest of the page is decoded from what was pushed.
    pub fn finish_input(&mut self) {
        self.eof = true;
    }

    /// Counts so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Bytes held and not yet decoded (bounded: O(width) plus one chunk).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos / 8
    }

    /// Bits of input consumed so far.
    pub fn bits_consumed(&self) -> u64 {
        self.dropped_bits + self.pos as u64
    }

    /// The next row, a request for more input, or the end of the page.
    pub fn next_row(&mut self) -> Result<Progress<'_>, DecodeError> {
        if self.ended {
            return Ok(Progress::End);
        }
        if let Some(n) = self.opts.rows
            && self.stats.rows >= n
        {
            self.ended = true;
            return Ok(Progress::End);
        }
        if !self.eof && self.buf.len() < self.retry_len {
            return Ok(Progress::NeedInput);
        }
        let data_bits = self.buf.len() * 8;
        if self.resync {
            match find_eol(&self.buf, self.pos, data_bits) {
                Ok(p) => {
                    self.pos = p;
                    self.resync = false;
                }
                Err(p) => {
                    self.pos = p;
                    return self.end_of_input(false);
                }
            }
        }
        if self.stats.rows >= self.opts.max_rows {
            let limit = self.opts.max_rows;
            return Err(self.error(ErrorKind::TooManyRows { limit }, self.pos));
        }
        let start = self.pos;
        match self.step(data_bits) {
            Ok(Step::Row) => {
                paint_row(
                    &mut self.row,
                    &self.current,
                    self.opts.width,
                    &mut self.toggles,
                );
                let w = self.opts.width;
                self.current.extend_from_slice(&[w, w, w]);
                std::mem::swap(&mut self.reference, &mut self.current);
                self.consecutive_bad = 0;
                self.stats.rows += 1;
                Ok(Progress::Row(&self.row))
            }
            Ok(Step::End(marker)) => self.end(marker),
            Err(Fail::OutOfDataFrom(p)) => {
                // A long run of fill before an EOL: keep only its tail, so that endless
                // zeros cannot grow the buffer.
                self.pos = p.max(start);
                self.retry_len = self.buf.len() + 64;
                Ok(Progress::NeedInput)
            }
            Err(Fail::OutOfData) => {
                self.pos = start;
                if self.eof {
                    self.bad_row(ErrorKind::Truncated, start)
                } else {
                    let have = self.buf.len() - start / 8;
                    self.retry_len = self.buf.len() + have.max(64);
                    Ok(Progress::NeedInput)
                }
            }
            Err(Fail::Bad(kind, at)) => self.bad_row(kind, at),
        }
    }

    fn end_of_input(&mut self, marker: bool) -> Result<Progress<'_>, DecodeError> {
        if self.eof {
            self.end(marker)
        } else {
            self.retry_len = self.buf.len() + 64;
            Ok(Progress::NeedInput)
        }
    }

    fn end(&mut self, marker: bool) -> Result<Progress<'_>, DecodeError> {
        if let Some(n) = self.opts.rows
            && self.stats.rows < n
        {
            let kind = if marker {
                ErrorKind::EndOfPageTooEarly { expected: n }
            } else {
                ErrorKind::Truncated
            };
            return Err(self.error(kind, self.pos));
        }
        self.ended = true;
        Ok(Progress::End)
    }

    fn error(&self, kind: ErrorKind, at: usize) -> DecodeError {
        DecodeError {
            row: self.stats.rows,
            bit: self.dropped_bits + at as u64,
            kind,
        }
    }

    fn bad_row(&mut self, kind: ErrorKind, at: usize) -> Result<Progress<'_>, DecodeError> {
        let err = self.error(kind, at);
        let fatal = matches!(self.opts.coding, Coding::Mmr) || self.opts.byte_aligned_rows;
        if fatal || (self.eof && kind == ErrorKind::Truncated && self.opts.rows.is_some()) {
            self.ended = true;
            return Err(err);
        }
        if kind == ErrorKind::Truncated {
            // A partial last row with no RTC: the page simply ends there.
            self.stats.first_error.get_or_insert(err);
            self.pos = self.buf.len() * 8;
            return self.end(false);
        }
        self.stats.first_error.get_or_insert(err);
        self.stats.bad_rows += 1;
        self.consecutive_bad += 1;
        self.stats.max_consecutive_bad_rows = self
            .stats
            .max_consecutive_bad_rows
            .max(self.consecutive_bad);
        self.stats.rows += 1;
        self.pos = at;
        self.resync = true;
        // `row` still holds the previous row and `reference` its changing elements.
        Ok(Progress::Row(&self.row))
    }

    /// Decode one row (with its EOL and tag) into `current`.
    fn step(&mut self, data_bits: usize) -> Result<Step, Fail> {
        let buf = &self.buf[..];
        let width = self.opts.width;
        match self.opts.coding {
            Coding::Mmr => {
                let w = peek32(buf, self.pos);
                if self.pos >= data_bits
                    || (w >> 25 == 0 && self.pos + 7 > data_bits)
                    || (w == 0 && self.eof && self.pos + 32 >= data_bits)
                {
                    return if self.eof {
                        Ok(Step::End(false))
                    } else {
                        Err(Fail::OutOfData)
                    };
                }
                if w >> 20 == 1 {
                    // EOL at a row start: EOFB (T.6 §2.4).
                    if self.pos + 24 > data_bits && !self.eof {
                        return Err(Fail::OutOfData);
                    }
                    self.pos += 24;
                    return Ok(Step::End(true));
                }
                decode_2d(
                    buf,
                    &mut self.pos,
                    data_bits,
                    width,
                    &self.reference,
                    &mut self.current,
                )?;
                Ok(Step::Row)
            }
            Coding::Mh if self.opts.byte_aligned_rows => {
                self.pos = self.pos.div_ceil(8) * 8;
                if self.pos >= data_bits {
                    return if self.eof {
                        Ok(Step::End(false))
                    } else {
                        Err(Fail::OutOfData)
                    };
                }
                decode_1d(buf, &mut self.pos, data_bits, width, &mut self.current)?;
                Ok(Step::Row)
            }
            Coding::Mh | Coding::Mr { .. } => {
                let mr = matches!(self.opts.coding, Coding::Mr { .. });
                let mut eols = 0;
                let mut two_d = false;
                let mut skipped = false;
                let mut zeros = 0usize; // fill already stepped over
                loop {
                    if self.pos >= data_bits {
                        return if self.eof {
                            Ok(Step::End(false))
                        } else if eols == 0 && zeros >= 64 {
                            // Keep the last 32 zeros received: an EOL may end in the next bits.
                            Err(Fail::OutOfDataFrom(data_bits - 32))
                        } else {
                            Err(Fail::OutOfData)
                        };
                    }
                    let w = peek32(buf, self.pos);
                    if w == 0 {
                        self.pos += 32; // fill
                        zeros += 32;
                        continue;
                    }
                    let lz = w.leading_zeros() as usize;
                    if zeros + lz < 11 {
                        if eols == 0 && (mr || self.saw_eol) && !skipped {
                            // Bits between a complete row and its EOL (some encoders add a
                            // zero-length run): skip to the EOL, as libtiff does.
                            skipped = true;
                            match find_eol(buf, self.pos, data_bits) {
                                Ok(p) => {
                                    self.pos = p;
                                    zeros = 0;
                                    continue;
                                }
                                Err(_) if self.eof => return Ok(Step::End(false)),
                                Err(_) => return Err(Fail::OutOfData),
                            }
                        }
                        break;
                    }
                    self.pos += lz + 1;
                    zeros = 0;
                    if mr {
                        two_d = peek32(buf, self.pos) >> 31 == 0;
                        self.pos += 1;
                    }
                    if self.pos > data_bits {
                        return if self.eof {
                            Ok(Step::End(false))
                        } else {
                            Err(Fail::OutOfData)
                        };
                    }
                    eols += 1;
                    if eols >= 2 && self.stats.rows > 0 {
                        return Ok(Step::End(true));
                    }
                }
                if eols > 0 {
                    self.saw_eol = true;
                }
                if mr && eols == 0 {
                    return Err(Fail::Bad(ErrorKind::MissingEol, self.pos));
                }
                if two_d {
                    decode_2d(
                        buf,
                        &mut self.pos,
                        data_bits,
                        width,
                        &self.reference,
                        &mut self.current,
                    )?;
                } else {
                    decode_1d(buf, &mut self.pos, data_bits, width, &mut self.current)?;
                }
                Ok(Step::Row)
            }
        }
    }
}

/// Add a changing element. A zero-length run leaves two equal entries: the pels are the
/// same either way, but the next row's b1/b2 (T.4 §4.2.1.3.1) must see both, as the encoder
/// that made the run did (libtiff's testfax4 regression is such a page).
#[inline(always)]
fn push_change(cur: &mut Vec<u32>, x: u32) {
    cur.push(x);
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

/// A one-dimensional (MH) row (T.4 §4.1.1).
fn decode_1d(
    buf: &[u8],
    pos: &mut usize,
    data_bits: usize,
    width: u32,
    cur: &mut Vec<u32>,
) -> Result<(), Fail> {
    cur.clear();
    let mut r = BitReader::new(buf, *pos);
    let mut a0 = 0u32;
    let mut black = false;
    loop {
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
        push_change(cur, a0);
        if cur.len() > max_changes(width) {
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

/// More changing elements than any row can have, even with zero-length runs.
#[inline(always)]
fn max_changes(width: u32) -> usize {
    2 * width as usize + 8
}

/// A two-dimensional (MR/MMR) row (T.4 §4.2.1.3, T.6 §2.2), against `refl` (the reference
/// row's changing elements followed by three `width` sentinels).
fn decode_2d(
    buf: &[u8],
    pos: &mut usize,
    data_bits: usize,
    width: u32,
    refl: &[u32],
    cur: &mut Vec<u32>,
) -> Result<(), Fail> {
    // Errors met on bits beyond the data are no evidence against the data: ask for more.
    let fail = |pos: usize, kind: ErrorKind, at: usize| {
        if pos > data_bits {
            Fail::OutOfData
        } else {
            Fail::Bad(kind, at)
        }
    };
    cur.clear();
    let mut r = BitReader::new(buf, *pos);
    let w_i = width as i64;
    let mut a0: i64 = -1;
    // b1 = refl[bi]: the first change right of a0 whose index parity is a0's colour.
    let mut bi = 0usize;
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
                if a1 < w_i {
                    push_change(cur, a1 as u32);
                }
                if a1 == a0 && cur.len() > max_changes(width) {
                    let end = r.pos();
                    return Err(fail(end, ErrorKind::BadVerticalMode, end - len as usize));
                }
                a0 = a1;
                // The colour flips: b1 is the previous change if it lies right of a1,
                // else one of the following ones.
                if a0 >= w_i {
                    break;
                } else if bi > 0 && refl[bi - 1] as i64 > a0 {
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
                let black = bi & 1 == 1;
                let r1 = read_run(&mut r, data_bits, black, width)?;
                let r2 = read_run(&mut r, data_bits, !black, width)?;
                let a1 = a0.max(0) + r1 as i64;
                let a2 = a1 + r2 as i64;
                if a2 > w_i {
                    return Err(fail(r.pos(), ErrorKind::RunPastEndOfRow, at));
                }
                if a1 < w_i {
                    push_change(cur, a1 as u32);
                }
                if a2 < w_i {
                    push_change(cur, a2 as u32);
                }
                if cur.len() > max_changes(width) {
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
    Ok(())
}

/// Find the next EOL at or after `from`: `Ok(start of its 11 zeros)`, or `Err(where to
/// continue)` when the data ends first.
fn find_eol(buf: &[u8], from: usize, data_bits: usize) -> Result<usize, usize> {
    let mut p = from;
    let mut zeros = 0usize;
    loop {
        if p >= data_bits {
            return Err(data_bits.saturating_sub(zeros.min(11)).max(from));
        }
        let w = peek32(buf, p);
        if w == 0 {
            zeros += 32;
            p += 32;
            continue;
        }
        let lz = w.leading_zeros() as usize;
        let one = p + lz;
        if one >= data_bits {
            return Err(data_bits.saturating_sub((zeros + lz).min(11)).max(from));
        }
        if zeros + lz >= 11 {
            return Ok(one - 11);
        }
        zeros = 0;
        p = one + 1;
    }
}
