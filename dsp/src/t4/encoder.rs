//! The encoder: MH (T.4 §4.1), MR (T.4 §4.2) and MMR (T.6 §2), one row at a time.
//!
//! Layout of an MH/MR page: `EOL [tag] row fill EOL [tag] row fill … RTC` — an EOL before
//! every row (T.4 §4.1.2), a tag bit after each EOL in MR (1 = the next row is 1-D), fill bits
//! (zeros) before an EOL to make each coded row last at least the minimum scan-line time
//! (T.4 §4.1.3), optionally also to end each EOL on a byte boundary (TIFF T4Options bit 2),
//! and RTC = six EOLs (with tag bit 1 in MR) after the last row (§4.1.4). An MMR page is the
//! rows back to back and EOFB (two EOLs, T.6 §2.4) at the end.

use super::bits::BitWriter;
use super::codes::{
    BLACK_MAKEUP, BLACK_TERM, EOL, EXT_MAKEUP, HORIZONTAL, PASS, VERTICAL, WHITE_MAKEUP, WHITE_TERM,
};
use super::rows::{changing_elements, for_each_change};
use super::{BitOrder, Coding, DecodeError, ErrorKind, MAX_WIDTH};

/// How to encode a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    pub coding: Coding,
    /// Pels per row.
    pub width: u32,
    /// Minimum bits per coded row (EOL, tag and fill included); 0 = no minimum. Ignored by
    /// MMR. See [`EncodeOptions::min_scan_time`].
    pub min_row_bits: u32,
    /// Pad with fill so that every EOL ends on a byte boundary (TIFF T4Options bit 2).
    pub align_eol: bool,
    /// Write RTC (MH/MR) or EOFB (MMR) when the page is finished.
    pub end_of_page: bool,
    /// Bit order of the output bytes.
    pub bit_order: BitOrder,
}

impl EncodeOptions {
    /// Options for a page written on a fax line: LSB first, RTC/EOFB, no minimum scan time.
    pub fn new(coding: Coding, width: u32) -> EncodeOptions {
        EncodeOptions {
            coding,
            width,
            min_row_bits: 0,
            align_eol: false,
            end_of_page: true,
            bit_order: BitOrder::LsbFirst,
        }
    }

    /// Options for a TIFF strip (libtiff's layout): MSB first (FillOrder 1), no RTC; EOFB
    /// for MMR as T.6 asks.
    pub fn tiff(coding: Coding, width: u32) -> EncodeOptions {
        EncodeOptions {
            coding,
            width,
            min_row_bits: 0,
            align_eol: false,
            end_of_page: matches!(coding, Coding::Mmr),
            bit_order: BitOrder::MsbFirst,
        }
    }

    /// Make every coded row last at least `ms` milliseconds (T.4 §4.1.3: 0, 5, 10, 20 or 40
    /// ms, from DIS/DCS) at `bit_rate` bit/s.
    pub fn min_scan_time(mut self, ms: u32, bit_rate: u32) -> EncodeOptions {
        self.min_row_bits =
            ((ms as u64 * bit_rate as u64).div_ceil(1000)).min(u32::MAX as u64) as u32;
        self
    }
}

/// A streaming page encoder.
#[derive(Debug, Clone)]
pub struct Encoder {
    opts: EncodeOptions,
    w: BitWriter,
    /// Changing elements of the reference row, with three `width` sentinels.
    reference: Vec<u32>,
    /// Changing elements of the row being coded, with sentinels.
    current: Vec<u32>,
    rows: u32,
    /// Bit count where the current coded row (its EOL) started.
    row_start: u64,
    finished: bool,
}

impl Encoder {
    /// A new page. Fails only for a width outside 1..=[`MAX_WIDTH`], or K = 0.
    pub fn new(opts: EncodeOptions) -> Result<Encoder, DecodeError> {
        if opts.width == 0 || opts.width > MAX_WIDTH || opts.coding == (Coding::Mr { k: 0 }) {
            return Err(DecodeError {
                row: 0,
                bit: 0,
                kind: ErrorKind::BadWidth { width: opts.width },
            });
        }
        let w = opts.width;
        Ok(Encoder {
            opts,
            w: BitWriter::default(),
            reference: vec![w, w, w],
            current: Vec::with_capacity(64),
            rows: 0,
            row_start: 0,
            finished: false,
        })
    }

    /// The options this encoder was made with.
    pub fn options(&self) -> &EncodeOptions {
        &self.opts
    }

    /// Rows encoded so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Encode one packed row (`width.div_ceil(8)` bytes, 1 = black; pad bits are ignored)
    /// and append the completed bytes to `out`.
    ///
    /// # Panics
    /// If `row` is shorter than `width.div_ceil(8)` bytes, or the page was finished.
    pub fn encode_row(&mut self, row: &[u8], out: &mut Vec<u8>) {
        assert!(!self.finished, "encode_row after finish");
        assert!(
            row.len() >= (self.opts.width as usize).div_ceil(8),
            "row shorter than the width"
        );
        let start = out.len();
        match self.opts.coding {
            Coding::Mh => {
                // No reference row: the runs are coded as the scan finds them.
                self.eol(out, None, true);
                self.scan_1d(row, out);
            }
            Coding::Mr { k } => {
                self.load_current(row);
                let one_d = self.rows.is_multiple_of(k);
                self.eol(out, Some(one_d), true);
                if one_d {
                    self.code_1d(out);
                } else {
                    self.code_2d(out);
                }
                std::mem::swap(&mut self.reference, &mut self.current);
            }
            Coding::Mmr => {
                self.load_current(row);
                self.code_2d(out);
                std::mem::swap(&mut self.reference, &mut self.current);
            }
        }
        self.rows += 1;
        self.order(out, start);
    }

    /// The changing elements of `row` into `current`, with their sentinels.
    fn load_current(&mut self, row: &[u8]) {
        let width = self.opts.width;
        self.current.clear();
        changing_elements(row, width, &mut self.current);
        self.current.extend_from_slice(&[width, width, width]);
    }

    /// End the page: RTC or EOFB if asked for, pad to a byte, append the last bytes.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.finished {
            return;
        }
        self.finished = true;
        let start = out.len();
        if self.opts.end_of_page {
            match self.opts.coding {
                Coding::Mh => (0..6).for_each(|i| self.eol(out, None, i == 0)),
                Coding::Mr { .. } => (0..6).for_each(|i| self.eol(out, Some(true), i == 0)),
                Coding::Mmr => {
                    self.w.put(out, EOL.0 as u32, EOL.1 as u32);
                    self.w.put(out, EOL.0 as u32, EOL.1 as u32);
                }
            }
        }
        self.w.finish(out);
        self.order(out, start);
    }

    /// Encode a whole page of packed rows (`stride` bytes each) into `out`, finishing it.
    pub fn encode_page(
        opts: EncodeOptions,
        data: &[u8],
        stride: usize,
        out: &mut Vec<u8>,
    ) -> Result<u32, DecodeError> {
        let mut enc = Encoder::new(opts)?;
        if stride > 0 {
            for row in data.chunks_exact(stride) {
                enc.encode_row(row, out);
            }
        }
        enc.finish(out);
        Ok(enc.rows)
    }

    fn order(&mut self, out: &mut Vec<u8>, start: usize) {
        self.w.flush_bytes(out);
        if self.opts.bit_order == BitOrder::LsbFirst {
            for b in &mut out[start..] {
                *b = b.reverse_bits();
            }
        }
    }

    /// Fill for the row that is ending (when `fill`), then EOL (and the MR tag bit).
    fn eol(&mut self, out: &mut Vec<u8>, tag: Option<bool>, fill: bool) {
        if fill && self.w.bits() > 0 {
            let used = self.w.bits() - self.row_start;
            if used < self.opts.min_row_bits as u64 {
                self.w.zeros(out, self.opts.min_row_bits as u64 - used);
            }
        }
        if self.opts.align_eol {
            let pad = (8 - (self.w.bits() + 12) % 8) % 8;
            self.w.zeros(out, pad);
        }
        self.row_start = self.w.bits();
        self.w.put(out, EOL.0 as u32, EOL.1 as u32);
        if let Some(one_d) = tag {
            self.w.put(out, one_d as u32, 1);
        }
    }

    fn code_1d(&mut self, out: &mut Vec<u8>) {
        let width = self.opts.width;
        let mut a0 = 0u32;
        let mut black = false;
        for &c in &self.current {
            let c = c.min(width);
            put_run(&mut self.w, out, c - a0, black);
            a0 = c;
            black = !black;
            if a0 >= width {
                break;
            }
        }
    }

    /// A one-dimensional row straight from its pels: each run coded as the scan reaches
    /// its end.
    fn scan_1d(&mut self, row: &[u8], out: &mut Vec<u8>) {
        let width = self.opts.width;
        let w = &mut self.w;
        let mut a0 = 0u32;
        let mut black = false;
        for_each_change(row, width, |x| {
            put_run(w, out, x - a0, black);
            a0 = x;
            black = !black;
        });
        put_run(w, out, width - a0, black);
    }

    fn code_2d(&mut self, out: &mut Vec<u8>) {
        let width = self.opts.width as i64;
        let cur = &self.current;
        let refl = &self.reference;
        let mut a0: i64 = -1;
        let mut ai = 0usize; // index of a1 in `cur`; its parity is the colour of a0
        let mut bi = 0usize;
        while a0 < width {
            bi = find_b1(refl, bi, a0, ai & 1);
            let b1 = refl[bi] as i64;
            let b2 = refl[bi + 1] as i64;
            let a1 = cur[ai] as i64;
            if b2 < a1 {
                self.w.put(out, PASS.0 as u32, PASS.1 as u32);
                a0 = b2;
            } else if (a1 - b1).abs() <= 3 {
                let (code, len) = VERTICAL[(a1 - b1 + 3) as usize];
                self.w.put(out, code as u32, len as u32);
                a0 = a1;
                ai += 1;
            } else {
                let a2 = cur[ai + 1] as i64;
                let black = ai & 1 == 1;
                self.w.put(out, HORIZONTAL.0 as u32, HORIZONTAL.1 as u32);
                put_run(&mut self.w, out, (a1 - a0.max(0)) as u32, black);
                put_run(&mut self.w, out, (a2 - a1) as u32, !black);
                a0 = a2;
                ai += 2;
            }
        }
    }
}

/// The index of b1 (T.4 §4.2.1.3.1): the first changing element of the reference row right
/// of `a0` whose index parity is `colour` (the colour of a0: changes at even indexes turn
/// black). `hint` is the previous b1; b1 moves back at most one element.
#[inline(always)]
pub(super) fn find_b1(refl: &[u32], hint: usize, a0: i64, colour: usize) -> usize {
    let mut i = hint.saturating_sub(1);
    if i & 1 != colour {
        i += 1;
    }
    while (refl[i] as i64) <= a0 {
        i += 2;
    }
    i
}

#[inline(always)]
fn put_run(w: &mut BitWriter, out: &mut Vec<u8>, mut run: u32, black: bool) {
    let (term, makeup) = if black {
        (&BLACK_TERM, &BLACK_MAKEUP)
    } else {
        (&WHITE_TERM, &WHITE_MAKEUP)
    };
    while run >= 2624 {
        let (c, l) = EXT_MAKEUP[12];
        w.put(out, c as u32, l as u32);
        run -= 2560;
    }
    let (c, l) = term[run as usize % 64];
    if run >= 64 {
        // The make-up code and the terminating code in one write (at most 13 + 12 bits).
        let m = run / 64; // 1..=40
        let (mc, ml) = if m <= 27 {
            makeup[m as usize - 1]
        } else {
            EXT_MAKEUP[m as usize - 28]
        };
        w.put(out, (mc as u32) << l | c as u32, ml as u32 + l as u32);
    } else {
        w.put(out, c as u32, l as u32);
    }
}
