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

use super::bits::peek32;
use super::decode_row::{Fail, changes_capacity, decode_1d, decode_2d};
use super::rows::paint_changes;
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
    /// Bits passed over looking for an EOL: after a bad row, and between a row that
    /// decoded and its EOL. A clean page has none; noise (a receiver that lost its lock)
    /// has few EOLs in it, and seconds of it pass here as a row or two.
    pub skipped_bits: u64,
}

/// What [`Decoder::next_row_into`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// The next row is in the caller's buffer. A bad row is a copy of the previous one.
    Row,
    /// Push more bytes (or call [`Decoder::finish_input`]) to get the next row.
    NeedInput,
    /// The page is complete.
    End,
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
    /// Bits the row being decoded skipped to reach its EOL (counted once the row is done).
    step_skipped: u64,
    /// Rows of this page start with EOL.
    saw_eol: bool,
    ended: bool,
    /// It ended with RTC / EOFB.
    end_marker: bool,
    /// The reference row's changing elements as [`decode_2d`] wants them: a leading 0, the
    /// changes, three `width` sentinels (`reference[..reference_len]`).
    reference: Vec<u32>,
    reference_len: usize,
    /// The row being decoded: a leading 0, then its changes (`current[..current_len]`); it
    /// grows (to [`changes_capacity`] at most) when a row has more changes than it holds.
    current: Vec<u32>,
    current_len: usize,
    /// Entries [`decode_1d`] / [`decode_2d`] get in `current` (grown on [`Fail::Full`]).
    changes_room: usize,
    /// The row [`Decoder::next_row`] lends out.
    row: Vec<u8>,
    /// Scratch for [`paint_changes`]: one word per 64 pels.
    words: Vec<u64>,
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
            step_skipped: 0,
            saw_eol: false,
            ended: false,
            end_marker: false,
            reference: vec![0, w, w, w],
            reference_len: 4,
            current: Vec::new(),
            current_len: 0,
            changes_room: 256.min(changes_capacity(w)),
            row: vec![0; (w as usize).div_ceil(8)],
            words: vec![0; (w as usize).div_ceil(64)],
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
        Ok(match self.advance()? {
            RowStatus::Row => {
                let changes = &self.reference[1..self.reference_len - 3];
                paint_changes(&mut self.row, changes, self.opts.width, &mut self.words);
                Progress::Row(&self.row)
            }
            RowStatus::NeedInput => Progress::NeedInput,
            RowStatus::End => Progress::End,
        })
    }

    /// [`Decoder::next_row`] painting the row straight into `row` (every byte of it is
    /// written; it should be `width.div_ceil(8)` bytes long): a page decoded into one buffer
    /// costs no copy per row.
    pub fn next_row_into(&mut self, row: &mut [u8]) -> Result<RowStatus, DecodeError> {
        let status = self.advance()?;
        if status == RowStatus::Row {
            let changes = &self.reference[1..self.reference_len - 3];
            paint_changes(row, changes, self.opts.width, &mut self.words);
        }
        Ok(status)
    }

    /// Decode the next row; on [`RowStatus::Row`] its changing elements are in
    /// `reference[1..reference_len - 3]` (a bad row leaves the previous row's there).
    fn advance(&mut self) -> Result<RowStatus, DecodeError> {
        if self.ended {
            return Ok(RowStatus::End);
        }
        if let Some(n) = self.opts.rows
            && self.stats.rows >= n
        {
            self.ended = true;
            return Ok(RowStatus::End);
        }
        if !self.eof && self.buf.len() < self.retry_len {
            return Ok(RowStatus::NeedInput);
        }
        let data_bits = self.buf.len() * 8;
        if self.resync {
            match find_eol(&self.buf, self.pos, data_bits) {
                Ok(p) => {
                    self.stats.skipped_bits += (p - self.pos) as u64;
                    self.pos = p;
                    self.resync = false;
                }
                Err(p) => {
                    self.stats.skipped_bits += (p - self.pos) as u64;
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
        let mut result = self.step(data_bits);
        while let Err(Fail::Full) = result {
            // More changes than `current` holds: a longer list, and the row again.
            let cap = changes_capacity(self.opts.width);
            if self.changes_room >= cap {
                break; // never: `cap` entries hold any row
            }
            self.pos = start;
            self.changes_room = (self.changes_room * 2).min(cap);
            result = self.step(data_bits);
        }
        if !matches!(result, Err(Fail::OutOfData)) {
            // (Out of data, the row is decoded again from its start, skip and all.)
            self.stats.skipped_bits += self.step_skipped;
        }
        match result {
            Ok(Step::Row) => {
                let (n, w) = (self.current_len, self.opts.width);
                if self.current.len() < n + 3 {
                    self.current.resize(n + 3, 0);
                }
                self.current[n..n + 3].fill(w);
                std::mem::swap(&mut self.reference, &mut self.current);
                self.reference_len = n + 3;
                self.consecutive_bad = 0;
                self.stats.rows += 1;
                Ok(RowStatus::Row)
            }
            Ok(Step::End(marker)) => self.end(marker),
            Err(Fail::OutOfDataFrom(p)) => {
                // A long run of fill before an EOL: keep only its tail, so that endless
                // zeros cannot grow the buffer.
                self.pos = p.max(start);
                self.retry_len = self.buf.len() + 64;
                Ok(RowStatus::NeedInput)
            }
            Err(Fail::OutOfData) => {
                self.pos = start;
                if self.eof {
                    self.bad_row(ErrorKind::Truncated, start)
                } else {
                    let have = self.buf.len() - start / 8;
                    self.retry_len = self.buf.len() + have.max(64);
                    Ok(RowStatus::NeedInput)
                }
            }
            Err(Fail::Bad(kind, at)) => self.bad_row(kind, at),
            Err(Fail::Full) => self.bad_row(ErrorKind::RunPastEndOfRow, start),
        }
    }

    fn end_of_input(&mut self, marker: bool) -> Result<RowStatus, DecodeError> {
        if self.eof {
            self.end(marker)
        } else {
            self.retry_len = self.buf.len() + 64;
            Ok(RowStatus::NeedInput)
        }
    }

    fn end(&mut self, marker: bool) -> Result<RowStatus, DecodeError> {
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
        self.end_marker = marker;
        Ok(RowStatus::End)
    }

    /// The page ended with its marker (RTC, EOFB), not just with the input.
    pub fn saw_end_marker(&self) -> bool {
        self.ended && self.end_marker
    }

    fn error(&self, kind: ErrorKind, at: usize) -> DecodeError {
        DecodeError {
            row: self.stats.rows,
            bit: self.dropped_bits + at as u64,
            kind,
        }
    }

    fn bad_row(&mut self, kind: ErrorKind, at: usize) -> Result<RowStatus, DecodeError> {
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
        // `reference` still holds the previous row's changing elements: the row repeats.
        Ok(RowStatus::Row)
    }

    /// Decode one row (with its EOL and tag) into `current`.
    fn step(&mut self, data_bits: usize) -> Result<Step, Fail> {
        self.step_skipped = 0;
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
                if self.current.len() < self.changes_room {
                    self.current.resize(self.changes_room, 0);
                }
                self.current_len = decode_2d(
                    buf,
                    &mut self.pos,
                    data_bits,
                    width,
                    &self.reference[..self.reference_len],
                    &mut self.current[..self.changes_room],
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
                if self.current.len() < self.changes_room {
                    self.current.resize(self.changes_room, 0);
                }
                self.current_len = decode_1d(
                    buf,
                    &mut self.pos,
                    data_bits,
                    width,
                    &mut self.current[..self.changes_room],
                )?;
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
                                    self.step_skipped += (p - self.pos) as u64;
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
                if self.current.len() < self.changes_room {
                    self.current.resize(self.changes_room, 0);
                }
                if two_d {
                    self.current_len = decode_2d(
                        buf,
                        &mut self.pos,
                        data_bits,
                        width,
                        &self.reference[..self.reference_len],
                        &mut self.current[..self.changes_room],
                    )?;
                } else {
                    self.current_len = decode_1d(
                        buf,
                        &mut self.pos,
                        data_bits,
                        width,
                        &mut self.current[..self.changes_room],
                    )?;
                }
                Ok(Step::Row)
            }
        }
    }
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
