//! Writing TIFF Class F (RFC 3949 profiles S and F; TIFF 6.0 §2 layout).

use super::tags::*;
use crate::image::{PageQuality, Resolution};

/// What [`TiffWriter::add_page`] needs to know about a page besides its coded strip.
#[derive(Debug, Clone, PartialEq)]
pub struct PageMeta {
    pub width: u32,
    pub height: u32,
    /// Written as XResolution/YResolution in inches: whole dpi as n/1, anything else rounded
    /// to hundredths (n/100). A zero, negative or non-finite value is written as 0/1.
    pub resolution: Resolution,
    pub compression: Compression,
    /// Written (tag 292) only when `compression` is [`Compression::T4`].
    pub t4_options: u32,
    /// Written (tag 293) only when `compression` is [`Compression::T6`].
    pub t6_options: u32,
    pub fill_order: FillOrder,
    /// When `Some`, BadFaxLines, CleanFaxData and ConsecutiveBadFaxLines are written.
    pub quality: Option<PageQuality>,
}

/// Writes a TIFF Class F file (RFC 3949 profile S/F): little-endian ("II"), one IFD per page
/// with its tags in ascending order, one strip per page, PhotometricInterpretation 0
/// (min-is-white), ResolutionUnit inch, NewSubfileType 2 (one page of a multi-page document)
/// and PageNumber (index, total).
///
/// Each page's strip is written first, then its IFD, then the IFD's out-of-line values
/// (XResolution, YResolution, Software), all starting on even offsets. The total page count
/// in every PageNumber is filled in by [`TiffWriter::finish`].
///
/// When a page has [`PageQuality`], CleanFaxData is 0 if no row was bad and otherwise 1
/// ("regenerated"), because softfax replaces every bad row by the previous one; it never
/// writes 2 ("unclean").
#[derive(Debug, Clone)]
pub struct TiffWriter {
    out: Vec<u8>,
    /// Where the offset of the next IFD goes (the header's, then each IFD's next link).
    link_at: usize,
    /// Where each page's PageNumber value field is.
    page_number_at: Vec<usize>,
}

impl Default for TiffWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// A value for an IFD entry.
enum Value {
    Inline([u8; 4]),
    Out(Vec<u8>),
}

struct OutEntry {
    tag: u16,
    typ: u16,
    count: u32,
    value: Value,
}

fn short(tag: u16, v: u16) -> OutEntry {
    let [a, b] = v.to_le_bytes();
    OutEntry {
        tag,
        typ: SHORT,
        count: 1,
        value: Value::Inline([a, b, 0, 0]),
    }
}

fn long(tag: u16, v: u32) -> OutEntry {
    OutEntry {
        tag,
        typ: LONG,
        count: 1,
        value: Value::Inline(v.to_le_bytes()),
    }
}

fn rational(tag: u16, dpi: f32) -> OutEntry {
    let v = f64::from(dpi);
    let (n, d) = if !(v.is_finite() && v > 0.0) {
        (0, 1)
    } else if v.fract() == 0.0 && v <= f64::from(u32::MAX) {
        (v as u32, 1)
    } else {
        // `as` saturates; fax resolutions are far from the limit.
        ((v * 100.0).round() as u32, 100)
    };
    let mut bytes = Vec::with_capacity(8);
    bytes.extend_from_slice(&u32::to_le_bytes(n));
    bytes.extend_from_slice(&u32::to_le_bytes(d));
    OutEntry {
        tag,
        typ: RATIONAL,
        count: 1,
        value: Value::Out(bytes),
    }
}

/// Offsets in a classic TIFF are 32-bit.
fn offset32(pos: usize) -> u32 {
    u32::try_from(pos).expect("a classic TIFF file cannot exceed 4 GiB")
}

impl TiffWriter {
    /// An empty file (header only).
    pub fn new() -> Self {
        TiffWriter {
            // "II", 42, first IFD offset (patched by the first add_page).
            out: vec![b'I', b'I', 42, 0, 0, 0, 0, 0],
            link_at: 4,
            page_number_at: Vec::new(),
        }
    }

    fn pad_even(&mut self) {
        if self.out.len() % 2 == 1 {
            self.out.push(0);
        }
    }

    fn patch_u32(&mut self, at: usize, v: u32) {
        if let Some(field) = self.out.get_mut(at..at + 4) {
            field.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Appends one page: `coded` is its single strip, already coded as `meta.compression`
    /// says and in `meta.fill_order` (it is written as is; for [`Compression::None`] it is
    /// the packed rows).
    ///
    /// # Panics
    /// If the file would grow past 4 GiB, which classic TIFF cannot address.
    pub fn add_page(&mut self, meta: &PageMeta, coded: &[u8]) {
        self.pad_even();
        let strip_at = offset32(self.out.len());
        self.out.extend_from_slice(coded);
        self.pad_even();
        let page_index = u16::try_from(self.page_number_at.len()).unwrap_or(u16::MAX);
        let ifd_at = self.out.len();
        let ifd = ifd_bytes(meta, strip_at, coded.len(), page_index, 0, ifd_at);
        self.out.extend_from_slice(&ifd.bytes);
        self.page_number_at.push(ifd_at + ifd.page_number_at);
        self.patch_u32(self.link_at, offset32(ifd_at));
        self.link_at = ifd_at + ifd.link_at;
    }

    /// Pages added so far.
    pub fn pages(&self) -> usize {
        self.page_number_at.len()
    }

    /// The finished file. Without any page it is only a header with no IFD, which readers
    /// reject.
    pub fn finish(mut self) -> Vec<u8> {
        let total = u16::try_from(self.page_number_at.len()).unwrap_or(u16::MAX);
        for &at in &self.page_number_at {
            if let Some(field) = self.out.get_mut(at + 2..at + 4) {
                field.copy_from_slice(&total.to_le_bytes());
            }
        }
        self.out
    }
}

/// One page's IFD as written at file offset `ifd_at`, with where its PageNumber value field and
/// its next-IFD link lie (relative to `ifd_at`; the link is 0).
struct IfdBytes {
    bytes: Vec<u8>,
    page_number_at: usize,
    link_at: usize,
}

/// The IFD of a page whose strip of `strip_len` bytes is at `strip_at`: its entries in
/// ascending tag order, the link, then the out-of-line values.
fn ifd_bytes(
    meta: &PageMeta,
    strip_at: u32,
    strip_len: usize,
    page_index: u16,
    total: u16,
    ifd_at: usize,
) -> IfdBytes {
    let strip_len = offset32(strip_len);
    let mut entries = vec![
        long(NEW_SUBFILE_TYPE, 2),
        long(IMAGE_WIDTH, meta.width),
        long(IMAGE_LENGTH, meta.height),
        short(BITS_PER_SAMPLE, 1),
        short(COMPRESSION, meta.compression.tag_value()),
        short(PHOTOMETRIC, 0),
        short(FILL_ORDER, meta.fill_order.tag_value()),
        long(STRIP_OFFSETS, strip_at),
        short(SAMPLES_PER_PIXEL, 1),
        long(ROWS_PER_STRIP, meta.height),
        long(STRIP_BYTE_COUNTS, strip_len),
        rational(X_RESOLUTION, meta.resolution.x_dpi),
        rational(Y_RESOLUTION, meta.resolution.y_dpi),
    ];
    match meta.compression {
        Compression::T4 => entries.push(long(T4_OPTIONS, meta.t4_options)),
        Compression::T6 => entries.push(long(T6_OPTIONS, meta.t6_options)),
        _ => {}
    }
    entries.push(short(RESOLUTION_UNIT, 2));
    let [a, b] = page_index.to_le_bytes();
    let [c, d] = total.to_le_bytes();
    entries.push(OutEntry {
        tag: PAGE_NUMBER,
        typ: SHORT,
        count: 2,
        value: Value::Inline([a, b, c, d]),
    });
    entries.push(OutEntry {
        tag: SOFTWARE,
        typ: ASCII,
        count: 8,
        value: Value::Out(b"softfax\0".to_vec()),
    });
    if let Some(q) = meta.quality {
        entries.push(long(BAD_FAX_LINES, q.bad_rows));
        entries.push(short(CLEAN_FAX_DATA, if q.bad_rows == 0 { 0 } else { 1 }));
        entries.push(long(CONSECUTIVE_BAD_FAX_LINES, q.max_consecutive_bad_rows));
    }
    debug_assert!(entries.windows(2).all(|w| w[0].tag < w[1].tag));

    let values_at = ifd_at + 2 + 12 * entries.len() + 4;
    let mut values: Vec<u8> = Vec::new();
    let mut out = Vec::with_capacity(2 + 12 * entries.len() + 4 + 32);
    let mut page_number_at = 0;
    let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    for e in &entries {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.typ.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        let field = match &e.value {
            Value::Inline(v) => *v,
            Value::Out(bytes) => {
                let at = offset32(values_at + values.len());
                values.extend_from_slice(bytes);
                if values.len() % 2 == 1 {
                    values.push(0);
                }
                at.to_le_bytes()
            }
        };
        if e.tag == PAGE_NUMBER {
            page_number_at = out.len();
        }
        out.extend_from_slice(&field);
    }
    let link_at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&values);
    IfdBytes {
        bytes: out,
        page_number_at,
        link_at,
    }
}

/// [`TiffWriter`] writing as it goes: the same file, byte for byte, but each page's strip goes
/// straight to `out` (one write for a large strip through a [`std::io::BufWriter`]), so that a
/// long document never sits in memory. A page's IFD is held until the next page (or
/// [`TiffStreamWriter::finish`]) says where the next IFD lies.
///
/// Every PageNumber is written with the total given to [`TiffStreamWriter::new`]; if a
/// different number of pages was added, `finish` seeks back and corrects them.
pub struct TiffStreamWriter<W: std::io::Write + std::io::Seek> {
    out: W,
    /// Bytes written (or pending) so far: the offset of the next byte.
    len: u64,
    total: u16,
    pending: Option<IfdBytes>,
    /// File offset of each page's PageNumber value field.
    page_number_at: Vec<u64>,
}

impl<W: std::io::Write + std::io::Seek> TiffStreamWriter<W> {
    /// A file of `total` pages (the count PageNumber states; see the type's documentation),
    /// its header written to `out`, which must be positioned at its start.
    pub fn new(mut out: W, total: usize) -> std::io::Result<Self> {
        out.write_all(&[b'I', b'I', 42, 0])?;
        Ok(TiffStreamWriter {
            out,
            len: 4,
            total: u16::try_from(total).unwrap_or(u16::MAX),
            pending: None,
            page_number_at: Vec::new(),
        })
    }

    /// The link before the next IFD (the header's or the pending IFD's) and the pending IFD,
    /// written now that the next IFD's offset (0: none) is known.
    fn write_link(&mut self, next_ifd: u32) -> std::io::Result<()> {
        match self.pending.take() {
            None => {
                self.out.write_all(&next_ifd.to_le_bytes())?;
                self.len += 4;
            }
            Some(mut ifd) => {
                ifd.bytes[ifd.link_at..ifd.link_at + 4].copy_from_slice(&next_ifd.to_le_bytes());
                self.out.write_all(&ifd.bytes)?;
                self.len += ifd.bytes.len() as u64;
            }
        }
        Ok(())
    }

    /// Appends one page, as [`TiffWriter::add_page`].
    ///
    /// A page that would take the file past 4 GiB, which classic TIFF cannot address, is an
    /// error (nothing of it is written).
    pub fn add_page(&mut self, meta: &PageMeta, coded: &[u8]) -> std::io::Result<()> {
        // Where this page's strip and IFD go: after the pending IFD (or the header's link).
        let mut at = self.len
            + match &self.pending {
                Some(ifd) => ifd.bytes.len() as u64,
                None => 4,
            };
        let strip_pad = at % 2;
        at += strip_pad;
        let strip_at = at as u32;
        at += coded.len() as u64;
        let ifd_pad = at % 2;
        at += ifd_pad;
        if at > u64::from(u32::MAX) - 4096 {
            return Err(std::io::Error::other(
                "a classic TIFF file cannot exceed 4 GiB",
            ));
        }
        let ifd_at = at as u32;
        self.write_link(ifd_at)?;
        if strip_pad == 1 {
            self.out.write_all(&[0])?;
        }
        self.out.write_all(coded)?;
        if ifd_pad == 1 {
            self.out.write_all(&[0])?;
        }
        self.len = at;
        let index = u16::try_from(self.page_number_at.len()).unwrap_or(u16::MAX);
        let ifd = ifd_bytes(
            meta,
            strip_at,
            coded.len(),
            index,
            self.total,
            ifd_at as usize,
        );
        self.page_number_at.push(at + ifd.page_number_at as u64);
        self.pending = Some(ifd);
        Ok(())
    }

    /// Pages added so far.
    pub fn pages(&self) -> usize {
        self.page_number_at.len()
    }

    /// Writes the last IFD, corrects the PageNumbers if the total given to
    /// [`TiffStreamWriter::new`] was not the number of pages added, and hands back `out`
    /// (flush it). Without any page the file is only a header with no IFD, which readers
    /// reject.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.write_link(0)?;
        let total = u16::try_from(self.page_number_at.len()).unwrap_or(u16::MAX);
        if total != self.total {
            for &at in &self.page_number_at {
                self.out.seek(std::io::SeekFrom::Start(at + 2))?;
                self.out.write_all(&total.to_le_bytes())?;
            }
            self.out.seek(std::io::SeekFrom::End(0))?;
        }
        Ok(self.out)
    }
}
