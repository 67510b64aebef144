//! TIFF pages ↔ [`Page`]s through the T.4/T.6 codecs.
//!
//! Reading decodes every IFD of a file: Compression 1 (raw), 2 (CCITT RLE: MH rows without
//! EOL, byte-aligned), 3 (T.4 MH or MR by T4Options bit 0), 4 (T.6 MMR) and 32773
//! (PackBits), any FillOrder, Photometric min-is-white or min-is-black, any number of
//! strips (each strip is coded on its own, as TIFF 6.0 §10/§11 requires). Writing produces
//! TIFF Class F (RFC 3949 profile S/F): one strip per page, FillOrder 1, min-is-white.

use super::{
    Compression, FillOrder, IfdInfo, PageMeta, Photometric, TiffError, TiffStreamWriter,
    TiffWriter, parse,
};
use crate::image::{Page, PageQuality, Resolution};
use crate::t4::{
    BitOrder, Coding, DEFAULT_MAX_ROWS, DecodeOptions, DecodeStats, Decoder, EncodeOptions,
    Encoder, RowStatus,
};

/// One decoded page and what the file said about it.
#[derive(Debug, Clone)]
pub struct DecodedPage {
    pub page: Page,
    pub info: IfdInfo,
    pub stats: DecodeStats,
}

impl IfdInfo {
    /// The fax coding of this page, if it has one (Compression 2, 3 or 4).
    pub fn coding(&self) -> Option<Coding> {
        match self.compression {
            Compression::CcittRle => Some(Coding::Mh),
            Compression::T4 if self.t4_options & 1 != 0 => Some(Coding::Mr { k: 0 }),
            Compression::T4 => Some(Coding::Mh),
            Compression::T6 => Some(Coding::Mmr),
            Compression::None | Compression::PackBits => None,
        }
    }

    /// A short human name for the compression: `none`, `rle`, `mh`, `mr`, `mmr`, `packbits`.
    pub fn compression_name(&self) -> &'static str {
        match (self.compression, self.coding()) {
            (Compression::CcittRle, _) => "rle",
            (Compression::PackBits, _) => "packbits",
            (_, Some(c)) => c.name(),
            _ => "none",
        }
    }
}

/// Read and decode every page of a TIFF file.
pub fn read_pages(data: &[u8]) -> Result<Vec<DecodedPage>, TiffError> {
    parse(data)?
        .into_iter()
        .map(|info| {
            let (page, stats) = decode_ifd(data, &info)?;
            Ok(DecodedPage { page, info, stats })
        })
        .collect()
}

/// Decode one page (IFD) of `file`.
pub fn decode_ifd(file: &[u8], info: &IfdInfo) -> Result<(Page, DecodeStats), TiffError> {
    decode_ifd_into(file, info, Vec::new())
}

/// Decode one page (IFD) of `file` into `buf` (cleared first; pass the previous page's
/// `data` back in to convert a long document without touching fresh memory for each page).
pub fn decode_ifd_into(
    file: &[u8],
    info: &IfdInfo,
    buf: Vec<u8>,
) -> Result<(Page, DecodeStats), TiffError> {
    decode_ifd_from(&mut MemoryStrips(file), info, buf)
}

/// Where a page's strips come from: the whole file in memory ([`MemoryStrips`]) or read
/// strip by strip ([`FileStrips`](super::FileStrips)).
pub trait StripSource {
    /// The bytes of strip `strip` of `info` (as [`IfdInfo::strip_data`] gives them).
    fn strip(&mut self, info: &IfdInfo, strip: usize) -> Result<&[u8], TiffError>;
}

/// The strips of a file held in memory (the slice given to [`parse`]).
pub struct MemoryStrips<'a>(pub &'a [u8]);

impl StripSource for MemoryStrips<'_> {
    fn strip(&mut self, info: &IfdInfo, strip: usize) -> Result<&[u8], TiffError> {
        Ok(info.strip_data(self.0, strip))
    }
}

/// [`decode_ifd_into`] with the strips taken from `src`.
pub fn decode_ifd_from(
    src: &mut impl StripSource,
    info: &IfdInfo,
    mut buf: Vec<u8>,
) -> Result<(Page, DecodeStats), TiffError> {
    let page_no = info.index + 1;
    if info.height > DEFAULT_MAX_ROWS {
        return Err(TiffError::Unsupported {
            page: info.index,
            what: format!(
                "{} rows (softfax pages have at most {DEFAULT_MAX_ROWS})",
                info.height
            ),
        });
    }
    let resolution = info.resolution.unwrap_or(Resolution::FINE);
    let mut page = Page::new(info.width, 0, resolution);
    page.height = info.height;
    let stride = page.stride();
    // Rows go to `data[..filled]` as they decode, so memory follows the data actually
    // present, never the declared size alone (a hostile header can declare 65535 × 65536 pels
    // in 100 bytes). A coded page's rows are painted whole over what `buf` held (the previous
    // page, when the caller passes it back), which then costs no clearing; the other
    // compressions append to an empty `buf`.
    if info.coding().is_none() {
        buf.clear();
    }
    let want = stride.saturating_mul(info.height as usize).min(8 << 20);
    buf.reserve(want.saturating_sub(buf.len()));
    let mut data = buf;
    let mut filled = 0usize;
    let rps = info.rows_per_strip.clamp(1, info.height);
    let mut stats = DecodeStats::default();
    let mut y = 0u32;
    for (s, _) in info.strips.iter().enumerate() {
        if y >= info.height {
            break;
        }
        let rows = rps.min(info.height - y);
        let strip = src.strip(info, s)?;
        let first = filled;
        let need = rows as usize * stride;
        let err = |row: u32, why: String| TiffError::Decode {
            page: info.index,
            row: y + row,
            why,
        };
        match (info.compression, info.coding()) {
            (Compression::None, _) => {
                if strip.len() < need {
                    return Err(err(
                        (strip.len() / stride) as u32,
                        format!(
                            "strip {s} holds {} bytes, {} rows need {}",
                            strip.len(),
                            rows,
                            need
                        ),
                    ));
                }
                data.extend_from_slice(&strip[..need]);
                filled = data.len();
            }
            (Compression::PackBits, _) => {
                unpack_bits(strip, need, &mut data).map_err(|at| {
                    err(
                        (at / stride) as u32,
                        format!("PackBits data of strip {s} ends early"),
                    )
                })?;
                filled = data.len();
            }
            (_, Some(coding)) => {
                let opts = DecodeOptions {
                    coding,
                    width: info.width,
                    bit_order: match info.fill_order {
                        FillOrder::MsbFirst => BitOrder::MsbFirst,
                        FillOrder::LsbFirst => BitOrder::LsbFirst,
                    },
                    rows: Some(rows),
                    byte_aligned_rows: info.compression == Compression::CcittRle,
                    max_rows: rows,
                };
                let mut dec = Decoder::new(opts).map_err(|e| err(0, e.kind.to_string()))?;
                dec.push(strip);
                dec.finish_input();
                // Rows are painted in place; the buffer grows 64 rows at a time, so memory
                // follows the rows decoded.
                let mut at = first;
                loop {
                    if data.len() < at + stride {
                        data.resize((at + 64 * stride).min(first + need).max(at + stride), 0);
                    }
                    let status = dec
                        .next_row_into(&mut data[at..at + stride])
                        .map_err(|e| err(e.row, format!("strip {s}, bit {}: {}", e.bit, e.kind)))?;
                    if status != RowStatus::Row {
                        break;
                    }
                    at += stride;
                }
                filled = at;
                let st = dec.stats();
                stats.rows += st.rows;
                stats.bad_rows += st.bad_rows;
                stats.max_consecutive_bad_rows = stats
                    .max_consecutive_bad_rows
                    .max(st.max_consecutive_bad_rows);
                if stats.first_error.is_none() {
                    stats.first_error = st.first_error.map(|mut e| {
                        e.row += y;
                        e
                    });
                }
            }
            (c, None) => {
                return Err(TiffError::Unsupported {
                    page: info.index,
                    what: format!("compression {c:?}"),
                });
            }
        }
        if filled != first + need {
            return Err(err(
                ((filled - first) / stride) as u32,
                format!("strip {s} decoded to the wrong length"),
            ));
        }
        if info.fill_order == FillOrder::LsbFirst && info.coding().is_none() {
            data[first..filled]
                .iter_mut()
                .for_each(|b| *b = b.reverse_bits());
        }
        y += rows;
    }
    if y < info.height {
        return Err(TiffError::Decode {
            page: info.index,
            row: y,
            why: format!(
                "page {page_no} declares {} rows but its strips hold {y}",
                info.height
            ),
        });
    }
    data.truncate(filled);
    page.data = data;
    if info.photometric == Photometric::MinIsBlack {
        page.data.iter_mut().for_each(|b| *b = !*b);
    }
    page.clear_padding();
    if stats.bad_rows > 0 {
        page.quality = Some(PageQuality {
            bad_rows: stats.bad_rows,
            max_consecutive_bad_rows: stats.max_consecutive_bad_rows,
        });
    }
    if info.coding().is_none() {
        stats.rows = info.height;
    }
    Ok((page, stats))
}

/// PackBits (TIFF 6.0 §9): append exactly `need` bytes to `out`; `Err(bytes written)` if
/// the data is short.
fn unpack_bits(mut src: &[u8], need: usize, out: &mut Vec<u8>) -> Result<(), usize> {
    let mut o = 0;
    while o < need {
        let (&n, rest) = src.split_first().ok_or(o)?;
        src = rest;
        let n = n as i8;
        if n >= 0 {
            let k = n as usize + 1;
            let take = k.min(need - o);
            let lit = src.get(..k).ok_or(o)?;
            out.extend_from_slice(&lit[..take]);
            src = &src[k..];
            o += take;
        } else if n != -128 {
            let k = (1 - n as isize) as usize;
            let (&b, rest) = src.split_first().ok_or(o)?;
            src = rest;
            let take = k.min(need - o);
            out.resize(out.len() + take, b);
            o += take;
        }
    }
    Ok(())
}

/// How [`write_pages`] codes the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// `None` writes uncompressed pages (Compression 1).
    pub coding: Option<Coding>,
    /// Byte-align EOLs (T4Options bit 2), MH/MR only.
    pub align_eol: bool,
}

/// Write `pages` as one TIFF Class F file.
pub fn write_pages(pages: &[Page], opts: WriteOptions) -> Result<Vec<u8>, TiffError> {
    let mut w = TiffWriter::new();
    let mut scratch = Vec::new();
    for p in pages {
        add_page(&mut w, p, opts, &mut scratch)?;
    }
    Ok(w.finish())
}

/// Code `page` as `opts` asks (using `scratch` for the coded bytes) and add it to `w`.
pub fn add_page(
    w: &mut TiffWriter,
    p: &Page,
    opts: WriteOptions,
    scratch: &mut Vec<u8>,
) -> Result<(), TiffError> {
    let meta = code_page(p, opts, scratch, w.pages())?;
    w.add_page(&meta, strip_of(p, opts, scratch));
    Ok(())
}

/// [`add_page`] for a [`TiffStreamWriter`]: the page is coded into `scratch` and written.
pub fn write_page<W: std::io::Write + std::io::Seek>(
    w: &mut TiffStreamWriter<W>,
    p: &Page,
    opts: WriteOptions,
    scratch: &mut Vec<u8>,
) -> Result<(), WritePageError> {
    let meta = code_page(p, opts, scratch, w.pages())?;
    w.add_page(&meta, strip_of(p, opts, scratch))?;
    Ok(())
}

/// Why [`write_page`] failed: the page could not be coded, or the output not written.
#[derive(Debug, thiserror::Error)]
pub enum WritePageError {
    #[error(transparent)]
    Code(#[from] TiffError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The strip of `p` as [`code_page`] left it.
fn strip_of<'a>(p: &'a Page, opts: WriteOptions, scratch: &'a [u8]) -> &'a [u8] {
    if opts.coding.is_none() {
        &p.data
    } else {
        scratch
    }
}

/// Code page number `index` (0-based) into `scratch` (nothing for uncompressed pages) and
/// describe it.
fn code_page(
    p: &Page,
    opts: WriteOptions,
    scratch: &mut Vec<u8>,
    index: usize,
) -> Result<PageMeta, TiffError> {
    scratch.clear();
    let (compression, t4_options) = match opts.coding {
        None => (Compression::None, 0),
        Some(coding) => {
            let mut eo = EncodeOptions::tiff(coding, p.width);
            eo.align_eol = opts.align_eol && coding != Coding::Mmr;
            Encoder::encode_page(eo, &p.data, p.stride(), scratch).map_err(|e| {
                TiffError::Unsupported {
                    page: index,
                    what: e.kind.to_string(),
                }
            })?;
            match coding {
                Coding::Mh => (Compression::T4, if eo.align_eol { 4 } else { 0 }),
                Coding::Mr { .. } => (Compression::T4, if eo.align_eol { 5 } else { 1 }),
                Coding::Mmr => (Compression::T6, 0),
            }
        }
    };
    Ok(PageMeta {
        width: p.width,
        height: p.height,
        resolution: p.resolution,
        compression,
        t4_options,
        t6_options: 0,
        fill_order: FillOrder::MsbFirst,
        quality: p.quality,
    })
}
