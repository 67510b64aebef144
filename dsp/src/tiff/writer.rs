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
        let strip_len = offset32(coded.len());
        let page_index = u16::try_from(self.page_number_at.len()).unwrap_or(u16::MAX);

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
        entries.push(OutEntry {
            tag: PAGE_NUMBER,
            typ: SHORT,
            count: 2,
            // The total (second SHORT) is patched by finish().
            value: Value::Inline([a, b, 0, 0]),
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

        let ifd_at = self.out.len();
        let values_at = ifd_at + 2 + 12 * entries.len() + 4;
        let mut values: Vec<u8> = Vec::new();
        let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
        self.out.extend_from_slice(&count.to_le_bytes());
        for e in &entries {
            self.out.extend_from_slice(&e.tag.to_le_bytes());
            self.out.extend_from_slice(&e.typ.to_le_bytes());
            self.out.extend_from_slice(&e.count.to_le_bytes());
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
                self.page_number_at.push(self.out.len());
            }
            self.out.extend_from_slice(&field);
        }
        let next_link_at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        self.out.extend_from_slice(&values);

        self.patch_u32(self.link_at, offset32(ifd_at));
        self.link_at = next_link_at;
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
