//! TIFF container: reading bilevel TIFF files and writing TIFF Class F (no codec in here; the
//! strips are handed to [`crate::t4`] by the glue in `pages.rs`).
//!
//! Written from TIFF Revision 6.0 (Adobe, 1992): §2 (header, IFDs, field types), §3 (bilevel
//! images), §8 (baseline field reference), §9 (PackBits), §10/§11 (CCITT compression,
//! T4Options, T6Options); and RFC 3949 (TIFF-FX) profile S (minimal black-and-white, MH) and
//! profile F (extended black-and-white, MR/MMR), which also define BadFaxLines, CleanFaxData and
//! ConsecutiveBadFaxLines.
//!
//! - [`parse`] reads every IFD of a classic TIFF (either byte order) from memory and checks
//!   that it describes a bilevel, stripped image whose strips lie inside the file. It is meant
//!   for hostile input: every offset is bounds-checked, IFD loops are detected, and nothing is
//!   allocated for a declared count unless the file really holds that many bytes.
//! - [`TiffWriter`] writes TIFF Class F: little-endian, one IFD and one strip per page.
//!
//! **Not supported:** BigTIFF; tiled images; more than one sample or more than one bit per
//! sample (grey, colour, palette); photometric interpretations other than min-is-white /
//! min-is-black; compressions other than none, CCITT RLE, T.4, T.6 and PackBits (no LZW, JPEG,
//! Deflate, JBIG …); writing anything but one strip per page.

mod pages;
pub use pages::*;

use std::collections::HashSet;

use crate::image::{PageQuality, Resolution};

/// At most this many IFDs (pages) are read from one file.
pub const MAX_IFDS: usize = 10_000;
/// At most this many entries in one IFD.
pub const MAX_IFD_ENTRIES: u16 = 4096;
/// At most this many strips in one page.
pub const MAX_STRIPS: usize = 1_000_000;
/// The widest page accepted.
pub const MAX_WIDTH: u32 = 65_535;

/// T4Options bit 0: two-dimensional coding (MR) is used.
pub const T4_OPT_2D: u32 = 1;
/// T4Options bit 1 / T6Options bit 1: uncompressed mode may be used.
pub const T4_OPT_UNCOMPRESSED: u32 = 2;
/// T4Options bit 2: fill bits have been added so that every EOL ends on a byte boundary.
pub const T4_OPT_FILL_BITS: u32 = 4;
/// T6Options bit 1: uncompressed mode may be used.
pub const T6_OPT_UNCOMPRESSED: u32 = 2;

/// The Compression tag (259).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// 1: uncompressed, rows packed (one row starts on a byte boundary).
    None,
    /// 2: CCITT modified Huffman run length encoding (no EOLs, rows byte-aligned).
    CcittRle,
    /// 3: ITU-T T.4 (MH or MR, see T4Options).
    T4,
    /// 4: ITU-T T.6 (MMR).
    T6,
    /// 32773: PackBits.
    PackBits,
}

impl Compression {
    /// The tag value for this compression.
    pub fn tag_value(self) -> u16 {
        match self {
            Compression::None => 1,
            Compression::CcittRle => 2,
            Compression::T4 => 3,
            Compression::T6 => 4,
            Compression::PackBits => 32773,
        }
    }

    /// The compression for a tag value, if supported.
    pub fn from_tag_value(v: u16) -> Option<Compression> {
        Some(match v {
            1 => Compression::None,
            2 => Compression::CcittRle,
            3 => Compression::T4,
            4 => Compression::T6,
            32773 => Compression::PackBits,
            _ => return None,
        })
    }
}

/// The FillOrder tag (266): how the bits of a byte are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillOrder {
    /// 1: the first pel (or code bit) is the most significant bit.
    MsbFirst,
    /// 2: the first pel (or code bit) is the least significant bit (fax modems' order).
    LsbFirst,
}

impl FillOrder {
    /// The tag value.
    pub fn tag_value(self) -> u16 {
        match self {
            FillOrder::MsbFirst => 1,
            FillOrder::LsbFirst => 2,
        }
    }
}

/// The PhotometricInterpretation tag (262) of a bilevel image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photometric {
    /// 0: a 0 bit is white (fax, TIFF Class F).
    MinIsWhite,
    /// 1: a 0 bit is black.
    MinIsBlack,
}

/// One page (IFD) as declared in the file, checked by [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct IfdInfo {
    /// 0-based IFD number in the chain.
    pub index: usize,
    /// Pels per row, 1..=[`MAX_WIDTH`].
    pub width: u32,
    /// Rows, at least 1.
    pub height: u32,
    /// Default [`Compression::None`].
    pub compression: Compression,
    /// Default [`FillOrder::MsbFirst`].
    pub fill_order: FillOrder,
    /// When the tag is missing, [`Photometric::MinIsWhite`] (the fax convention).
    pub photometric: Photometric,
    /// T4Options (292), 0 when missing.
    pub t4_options: u32,
    /// T6Options (293), 0 when missing.
    pub t6_options: u32,
    /// In dots per inch; ResolutionUnit 3 (cm) is converted (×2.54). `None` when XResolution or
    /// YResolution is missing or unusable (zero, wrong type) or ResolutionUnit is 1 (no unit).
    pub resolution: Option<Resolution>,
    /// Rows in each strip (the last may have fewer), 1..=`height`: the tag's default
    /// (2³²−1) and any value above `height` become `height`.
    pub rows_per_strip: u32,
    /// `(offset, byte count)` of each strip, each checked to lie inside the file. There are
    /// at least `height.div_ceil(rows_per_strip)` strips; extra strips declared by the file are
    /// kept but are not part of the image.
    pub strips: Vec<(u64, u64)>,
    /// PageNumber (297): (page index, total pages; 0 = unknown).
    pub page_number: Option<(u16, u16)>,
    /// NewSubfileType (254), 0 when missing (bit 1 = one page of many, bit 0 = reduced image).
    pub new_subfile_type: u32,
    /// BadFaxLines (326).
    pub bad_fax_lines: Option<u32>,
    /// CleanFaxData (327): 0 clean, 1 regenerated, 2 unclean.
    pub clean_fax_data: Option<u16>,
    /// ConsecutiveBadFaxLines (328).
    pub consecutive_bad_fax_lines: Option<u32>,
}

impl IfdInfo {
    /// The bytes of strip `i`, taken from `file` (the slice given to [`parse`]). An index past
    /// the strips, or a `file` that is not the parsed one and is too short, gives `&[]`.
    pub fn strip_data<'a>(&self, file: &'a [u8], i: usize) -> &'a [u8] {
        self.strips
            .get(i)
            .and_then(|&(off, len)| {
                let start = usize::try_from(off).ok()?;
                let end = start.checked_add(usize::try_from(len).ok()?)?;
                file.get(start..end)
            })
            .unwrap_or(&[])
    }

    /// How many image rows strip `i` holds (`rows_per_strip`, fewer for the last strip, 0 for
    /// strips past the end of the image).
    pub fn strip_rows(&self, i: usize) -> u32 {
        let first = (i as u64).saturating_mul(u64::from(self.rows_per_strip));
        let left = u64::from(self.height).saturating_sub(first);
        // `left` ≤ height, so it fits.
        left.min(u64::from(self.rows_per_strip)) as u32
    }
}

/// Why a TIFF file could not be read.
///
/// `page` fields are 0-based IFD indexes (as [`IfdInfo::index`]); the messages count pages
/// from 1.
#[derive(Debug, thiserror::Error)]
pub enum TiffError {
    #[error("not a TIFF file (it does not start with \"II\" or \"MM\" followed by 42)")]
    NotTiff,
    #[error("BigTIFF files (version 43) are not supported, only classic TIFF (version 42)")]
    BigTiff,
    #[error("the TIFF file holds no image (its first IFD offset is 0)")]
    NoImages,
    #[error(
        "truncated TIFF file: the {what} at offset {offset} runs past the end of the file ({file_len} bytes)"
    )]
    Truncated {
        what: &'static str,
        offset: u64,
        file_len: u64,
    },
    #[error("the IFD chain loops: offset {offset} is reached a second time")]
    IfdLoop { offset: u64 },
    #[error("page {}: {what}", .page + 1)]
    Limit { page: usize, what: String },
    #[error("page {}: the required tag {tag} is missing", .page + 1)]
    MissingTag { page: usize, tag: &'static str },
    #[error("page {}: bad {tag}: {why}", .page + 1)]
    BadTag {
        page: usize,
        tag: &'static str,
        why: String,
    },
    /// The values of an IFD entry lie (partly) outside the file.
    #[error("page {}: {} points past the end of the file (offset {offset}, {len} bytes, file is {file_len} bytes)", .page + 1, tag_label(*.tag))]
    OutOfBounds {
        page: usize,
        tag: u16,
        offset: u64,
        len: u64,
        file_len: u64,
    },
    #[error("page {}: strip {strip} (offset {offset}, {len} bytes) runs past the end of the file ({file_len} bytes)", .page + 1)]
    StripOutOfBounds {
        page: usize,
        strip: usize,
        offset: u64,
        len: u64,
        file_len: u64,
    },
    #[error("page {}: not supported: {what}", .page + 1)]
    Unsupported { page: usize, what: String },
    #[error("page {}: not a bilevel image ({bits} bits per sample, {samples} samples per pixel; only 1 and 1 are supported)", .page + 1)]
    NotBilevel {
        page: usize,
        bits: u16,
        samples: u16,
    },
    /// For the codec glue: the strip data of a page could not be decoded.
    #[error("page {}, row {row}: {why}", .page + 1)]
    Decode { page: usize, row: u32, why: String },
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

// Field types (TIFF 6.0 §2).
const BYTE: u16 = 1;
const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const SBYTE: u16 = 6;
const UNDEFINED: u16 = 7;
const SSHORT: u16 = 8;
const SLONG: u16 = 9;
const SRATIONAL: u16 = 10;
const FLOAT: u16 = 11;
const DOUBLE: u16 = 12;

/// Bytes per value of a field type; `None` for types a classic TIFF reader does not know.
fn type_size(typ: u16) -> Option<u64> {
    match typ {
        BYTE | ASCII | SBYTE | UNDEFINED => Some(1),
        SHORT | SSHORT => Some(2),
        LONG | SLONG | FLOAT => Some(4),
        RATIONAL | SRATIONAL | DOUBLE => Some(8),
        _ => None,
    }
}

fn type_name(typ: u16) -> String {
    let name = match typ {
        BYTE => "BYTE",
        ASCII => "ASCII",
        SHORT => "SHORT",
        LONG => "LONG",
        RATIONAL => "RATIONAL",
        SBYTE => "SBYTE",
        UNDEFINED => "UNDEFINED",
        SSHORT => "SSHORT",
        SLONG => "SLONG",
        SRATIONAL => "SRATIONAL",
        FLOAT => "FLOAT",
        DOUBLE => "DOUBLE",
        16 => "LONG8",
        _ => return format!("type {typ}"),
    };
    format!("type {typ} ({name})")
}

// The tags this module looks at.
const NEW_SUBFILE_TYPE: u16 = 254;
const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const BITS_PER_SAMPLE: u16 = 258;
const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const FILL_ORDER: u16 = 266;
const STRIP_OFFSETS: u16 = 273;
const SAMPLES_PER_PIXEL: u16 = 277;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;
const X_RESOLUTION: u16 = 282;
const Y_RESOLUTION: u16 = 283;
const T4_OPTIONS: u16 = 292;
const T6_OPTIONS: u16 = 293;
const RESOLUTION_UNIT: u16 = 296;
const PAGE_NUMBER: u16 = 297;
const SOFTWARE: u16 = 305;
const TILE_WIDTH: u16 = 322;
const TILE_LENGTH: u16 = 323;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const BAD_FAX_LINES: u16 = 326;
const CLEAN_FAX_DATA: u16 = 327;
const CONSECUTIVE_BAD_FAX_LINES: u16 = 328;

/// The tags kept from an IFD, sorted by tag number (for [`Tags::slot`]).
const KNOWN_TAGS: [(u16, &str); 24] = [
    (NEW_SUBFILE_TYPE, "NewSubfileType"),
    (IMAGE_WIDTH, "ImageWidth"),
    (IMAGE_LENGTH, "ImageLength"),
    (BITS_PER_SAMPLE, "BitsPerSample"),
    (COMPRESSION, "Compression"),
    (PHOTOMETRIC, "PhotometricInterpretation"),
    (FILL_ORDER, "FillOrder"),
    (STRIP_OFFSETS, "StripOffsets"),
    (SAMPLES_PER_PIXEL, "SamplesPerPixel"),
    (ROWS_PER_STRIP, "RowsPerStrip"),
    (STRIP_BYTE_COUNTS, "StripByteCounts"),
    (X_RESOLUTION, "XResolution"),
    (Y_RESOLUTION, "YResolution"),
    (T4_OPTIONS, "T4Options"),
    (T6_OPTIONS, "T6Options"),
    (RESOLUTION_UNIT, "ResolutionUnit"),
    (PAGE_NUMBER, "PageNumber"),
    (TILE_WIDTH, "TileWidth"),
    (TILE_LENGTH, "TileLength"),
    (TILE_OFFSETS, "TileOffsets"),
    (TILE_BYTE_COUNTS, "TileByteCounts"),
    (BAD_FAX_LINES, "BadFaxLines"),
    (CLEAN_FAX_DATA, "CleanFaxData"),
    (CONSECUTIVE_BAD_FAX_LINES, "ConsecutiveBadFaxLines"),
];

/// A tag's name for messages: known names, else the number.
fn tag_label(tag: u16) -> String {
    let name = match tag {
        269 => "DocumentName",
        270 => "ImageDescription",
        271 => "Make",
        272 => "Model",
        285 => "PageName",
        SOFTWARE => "Software",
        306 => "DateTime",
        315 => "Artist",
        _ => tag_name(tag),
    };
    if name == "unknown tag" {
        format!("tag {tag}")
    } else {
        name.to_string()
    }
}

fn tag_name(tag: u16) -> &'static str {
    Tags::slot(tag)
        .and_then(|i| KNOWN_TAGS.get(i))
        .map_or("unknown tag", |(_, n)| n)
}

/// One 12-byte IFD entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    /// File offset of the entry's 4-byte value-or-offset field.
    field: u64,
}

/// The file, with its byte order.
struct Bytes<'a> {
    data: &'a [u8],
    big: bool,
}

impl<'a> Bytes<'a> {
    fn file_len(&self) -> u64 {
        self.data.len() as u64
    }

    fn slice(&self, off: u64, len: u64) -> Option<&'a [u8]> {
        let end = off.checked_add(len)?;
        let start = usize::try_from(off).ok()?;
        let end = usize::try_from(end).ok()?;
        self.data.get(start..end)
    }

    fn u16(&self, off: u64) -> Option<u16> {
        let b: [u8; 2] = self.slice(off, 2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, off: u64) -> Option<u32> {
        let b: [u8; 4] = self.slice(off, 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The values of an unsigned integer field (BYTE, SHORT or LONG; others give nothing).
    fn ints(&self, bytes: &'a [u8], typ: u16) -> impl Iterator<Item = u32> + 'a {
        let big = self.big;
        let size = match typ {
            BYTE => 1,
            SHORT => 2,
            LONG => 4,
            _ => 0,
        };
        // Other types yield nothing (and chunks_exact must not be given 0).
        let bytes = if size == 0 { &[][..] } else { bytes };
        bytes.chunks_exact(size.max(1)).map(move |c| match *c {
            [a] => u32::from(a),
            [a, b] if big => u32::from(u16::from_be_bytes([a, b])),
            [a, b] => u32::from(u16::from_le_bytes([a, b])),
            [a, b, c, d] if big => u32::from_be_bytes([a, b, c, d]),
            [a, b, c, d] => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        })
    }

    /// The bytes holding an entry's values: inline when they fit in 4 bytes, otherwise at the
    /// offset the entry gives. Bounds-checked, so callers may allocate in proportion.
    fn value_bytes(&self, e: &Entry, page: usize) -> Result<&'a [u8], TiffError> {
        let size = type_size(e.typ)
            .and_then(|s| s.checked_mul(u64::from(e.count)))
            .ok_or_else(|| bad_tag(page, e.tag, format!("has {}", type_name(e.typ))))?;
        if size <= 4 {
            // The entry itself was bounds-checked when the IFD was read.
            return self.slice(e.field, size).ok_or(TiffError::Truncated {
                what: "IFD entry",
                offset: e.field,
                file_len: self.file_len(),
            });
        }
        let offset = self.u32(e.field).ok_or(TiffError::Truncated {
            what: "IFD entry",
            offset: e.field,
            file_len: self.file_len(),
        })?;
        let offset = u64::from(offset);
        self.slice(offset, size).ok_or(TiffError::OutOfBounds {
            page,
            tag: e.tag,
            offset,
            len: size,
            file_len: self.file_len(),
        })
    }

    /// The first value of a single-valued unsigned integer tag.
    fn uint(&self, e: &Entry, page: usize) -> Result<u32, TiffError> {
        if !matches!(e.typ, BYTE | SHORT | LONG) {
            return Err(bad_tag(
                page,
                e.tag,
                format!("has {}, expected SHORT or LONG", type_name(e.typ)),
            ));
        }
        let bytes = self.value_bytes(e, page)?;
        self.ints(bytes, e.typ)
            .next()
            .ok_or_else(|| bad_tag(page, e.tag, "has no value".into()))
    }

    /// [`Self::uint`] for tags that only inform: any problem gives `None`.
    fn uint_lenient(&self, e: Option<&Entry>, page: usize) -> Option<u32> {
        self.uint(e?, page).ok()
    }

    /// A RATIONAL (or, tolerated, integer) tag as a number; `None` if unusable.
    fn rational_lenient(&self, e: Option<&Entry>, page: usize) -> Option<f64> {
        let e = e?;
        if e.typ == RATIONAL {
            let bytes = self.value_bytes(e, page).ok()?;
            let mut v = self.ints(bytes, LONG);
            let (n, d) = (v.next()?, v.next()?);
            (d != 0).then(|| f64::from(n) / f64::from(d))
        } else {
            self.uint(e, page).ok().map(f64::from)
        }
    }

    /// An array of offsets or byte counts (SHORT or LONG), at most [`MAX_STRIPS`] long.
    fn strip_array(&self, e: &Entry, page: usize) -> Result<Vec<u64>, TiffError> {
        if !matches!(e.typ, SHORT | LONG) {
            return Err(bad_tag(
                page,
                e.tag,
                format!("has {}, expected SHORT or LONG", type_name(e.typ)),
            ));
        }
        if e.count as usize > MAX_STRIPS {
            return Err(TiffError::Limit {
                page,
                what: format!(
                    "{} declares {} strips (at most {MAX_STRIPS} supported)",
                    tag_name(e.tag),
                    e.count
                ),
            });
        }
        // Checked against the file before anything is allocated.
        let bytes = self.value_bytes(e, page)?;
        Ok(self.ints(bytes, e.typ).map(u64::from).collect())
    }
}

fn bad_tag(page: usize, tag: u16, why: String) -> TiffError {
    TiffError::BadTag {
        page,
        tag: tag_name(tag),
        why,
    }
}

/// The entries of one IFD that matter here (the first of duplicated tags wins).
#[derive(Default)]
struct Tags {
    found: [Option<Entry>; KNOWN_TAGS.len()],
}

impl Tags {
    fn slot(tag: u16) -> Option<usize> {
        // KNOWN_TAGS is sorted by tag.
        KNOWN_TAGS.binary_search_by_key(&tag, |(t, _)| *t).ok()
    }

    fn get(&self, tag: u16) -> Option<&Entry> {
        self.found.get(Self::slot(tag)?)?.as_ref()
    }
}

/// Reads the IFD at `off`: its known entries and the offset of the next IFD.
fn read_ifd(r: &Bytes<'_>, off: u64, page: usize) -> Result<(Tags, u64), TiffError> {
    let file_len = r.file_len();
    let n = r.u16(off).ok_or(TiffError::Truncated {
        what: "IFD entry count",
        offset: off,
        file_len,
    })?;
    if n > MAX_IFD_ENTRIES {
        return Err(TiffError::Limit {
            page,
            what: format!(
                "the IFD at offset {off} declares {n} entries (at most {MAX_IFD_ENTRIES} supported)"
            ),
        });
    }
    // `off` came from a u32, so none of these sums can overflow a u64.
    let first = off.saturating_add(2);
    let next_at = first.saturating_add(12 * u64::from(n));
    if r.slice(first, 12 * u64::from(n)).is_none() {
        return Err(TiffError::Truncated {
            what: "IFD entries",
            offset: first,
            file_len,
        });
    }
    let next = r.u32(next_at).ok_or(TiffError::Truncated {
        what: "next-IFD offset",
        offset: next_at,
        file_len,
    })?;

    let mut tags = Tags::default();
    for i in 0..u64::from(n) {
        let at = first.saturating_add(12 * i);
        let truncated = TiffError::Truncated {
            what: "IFD entry",
            offset: at,
            file_len,
        };
        let tag = r.u16(at).ok_or(truncated)?;
        let entry = Entry {
            tag,
            typ: r.u16(at.saturating_add(2)).unwrap_or(0),
            count: r.u32(at.saturating_add(4)).unwrap_or(0),
            field: at.saturating_add(8),
        };
        // Every value of a known type, even of a tag not used here, must lie in the file: a
        // truncated file is an error, not a quietly shorter one.
        if type_size(entry.typ).is_some() {
            r.value_bytes(&entry, page)?;
        }
        // Tags not used here, of whatever type, are skipped (§2, "readers should skip over
        // fields containing an unexpected field type").
        if let Some(s @ None) = Tags::slot(tag).and_then(|slot| tags.found.get_mut(slot)) {
            *s = Some(entry);
        }
    }
    Ok((tags, u64::from(next)))
}

fn compression_name(v: u32) -> String {
    let name = match v {
        5 => "LZW",
        6 => "old-style JPEG",
        7 => "JPEG",
        8 | 32946 => "Deflate",
        9 | 10 => "JBIG (T.85/T.43)",
        32771 => "CCITT RLE/W",
        32809 => "ThunderScan",
        34661 => "JBIG",
        34712 => "JPEG 2000",
        34925 => "LZMA",
        50000 => "Zstandard",
        50001 => "WebP",
        _ => return format!("compression {v}"),
    };
    format!("compression {v} ({name})")
}

fn photometric_name(v: u32) -> String {
    let name = match v {
        2 => "RGB",
        3 => "palette",
        4 => "transparency mask",
        5 => "separated/CMYK",
        6 => "YCbCr",
        8 => "CIE L*a*b*",
        _ => return format!("photometric interpretation {v}"),
    };
    format!("photometric interpretation {v} ({name})")
}

/// Checks one IFD and turns it into an [`IfdInfo`]. `strip_budget` is the number of strip
/// entries the rest of the file may still declare (see [`parse`]).
fn build_page(
    r: &Bytes<'_>,
    page: usize,
    tags: &Tags,
    strip_budget: &mut u64,
) -> Result<IfdInfo, TiffError> {
    let missing = |tag: &'static str| TiffError::MissingTag { page, tag };

    for tile_tag in [TILE_WIDTH, TILE_LENGTH, TILE_OFFSETS, TILE_BYTE_COUNTS] {
        if tags.get(tile_tag).is_some() {
            return Err(TiffError::Unsupported {
                page,
                what: format!(
                    "tiled image ({}); only strips are supported",
                    tag_name(tile_tag)
                ),
            });
        }
    }

    let bits = match tags.get(BITS_PER_SAMPLE) {
        Some(e) => r.uint(e, page)?,
        None => 1,
    };
    let samples = match tags.get(SAMPLES_PER_PIXEL) {
        Some(e) => r.uint(e, page)?,
        None => 1,
    };
    if bits != 1 || samples != 1 {
        return Err(TiffError::NotBilevel {
            page,
            bits: u16::try_from(bits).unwrap_or(u16::MAX),
            samples: u16::try_from(samples).unwrap_or(u16::MAX),
        });
    }

    let compression = match tags.get(COMPRESSION) {
        Some(e) => {
            let v = r.uint(e, page)?;
            u16::try_from(v)
                .ok()
                .and_then(Compression::from_tag_value)
                .ok_or_else(|| TiffError::Unsupported {
                    page,
                    what: compression_name(v),
                })?
        }
        None => Compression::None,
    };

    let photometric = match tags.get(PHOTOMETRIC) {
        Some(e) => match r.uint(e, page)? {
            0 => Photometric::MinIsWhite,
            1 => Photometric::MinIsBlack,
            v => {
                return Err(TiffError::Unsupported {
                    page,
                    what: photometric_name(v),
                });
            }
        },
        None => Photometric::MinIsWhite,
    };

    let fill_order = match tags.get(FILL_ORDER) {
        Some(e) => match r.uint(e, page)? {
            1 => FillOrder::MsbFirst,
            2 => FillOrder::LsbFirst,
            v => return Err(bad_tag(page, FILL_ORDER, format!("{v} (expected 1 or 2)"))),
        },
        None => FillOrder::MsbFirst,
    };

    let width = r.uint(tags.get(IMAGE_WIDTH).ok_or(missing("ImageWidth"))?, page)?;
    let height = r.uint(tags.get(IMAGE_LENGTH).ok_or(missing("ImageLength"))?, page)?;
    if width == 0 {
        return Err(bad_tag(
            page,
            IMAGE_WIDTH,
            "the image is 0 pels wide".into(),
        ));
    }
    if width > MAX_WIDTH {
        return Err(TiffError::Unsupported {
            page,
            what: format!("image width {width} pels (at most {MAX_WIDTH})"),
        });
    }
    if height == 0 {
        return Err(bad_tag(page, IMAGE_LENGTH, "the image has 0 rows".into()));
    }

    let rows_per_strip = match tags.get(ROWS_PER_STRIP) {
        Some(e) => match r.uint(e, page)? {
            0 => return Err(bad_tag(page, ROWS_PER_STRIP, "is 0".into())),
            v => v.min(height),
        },
        None => height,
    };

    let offsets_entry = tags.get(STRIP_OFFSETS).ok_or(missing("StripOffsets"))?;
    let counts_entry = tags
        .get(STRIP_BYTE_COUNTS)
        .ok_or(missing("StripByteCounts"))?;
    if offsets_entry.count != counts_entry.count {
        return Err(bad_tag(
            page,
            STRIP_BYTE_COUNTS,
            format!(
                "{} values, but StripOffsets has {}",
                counts_entry.count, offsets_entry.count
            ),
        ));
    }
    let needed = height.div_ceil(rows_per_strip);
    if offsets_entry.count < needed {
        return Err(bad_tag(
            page,
            STRIP_OFFSETS,
            format!(
                "{} strips, but {height} rows at {rows_per_strip} rows per strip need {needed}",
                offsets_entry.count
            ),
        ));
    }
    *strip_budget = strip_budget
        .checked_sub(u64::from(offsets_entry.count))
        .ok_or_else(|| TiffError::Limit {
            page,
            what: format!(
                "{} strips: the file declares more strips than it could hold (IFDs sharing strip tables?)",
                offsets_entry.count
            ),
        })?;
    let offsets = r.strip_array(offsets_entry, page)?;
    let counts = r.strip_array(counts_entry, page)?;
    let file_len = r.file_len();
    let strips: Vec<(u64, u64)> = offsets.into_iter().zip(counts).collect();
    for (strip, &(offset, len)) in strips.iter().enumerate() {
        if offset.checked_add(len).is_none_or(|end| end > file_len) {
            return Err(TiffError::StripOutOfBounds {
                page,
                strip,
                offset,
                len,
                file_len,
            });
        }
    }

    let t4_options = match tags.get(T4_OPTIONS) {
        Some(e) => r.uint(e, page)?,
        None => 0,
    };
    let t6_options = match tags.get(T6_OPTIONS) {
        Some(e) => r.uint(e, page)?,
        None => 0,
    };

    let unit = r.uint_lenient(tags.get(RESOLUTION_UNIT), page).unwrap_or(2);
    let to_dpi = match unit {
        2 => Some(1.0),
        3 => Some(2.54),
        _ => None,
    };
    let x = r.rational_lenient(tags.get(X_RESOLUTION), page);
    let y = r.rational_lenient(tags.get(Y_RESOLUTION), page);
    let resolution = match (to_dpi, x, y) {
        (Some(k), Some(x), Some(y)) if x > 0.0 && y > 0.0 => Some(Resolution {
            x_dpi: (x * k) as f32,
            y_dpi: (y * k) as f32,
        }),
        _ => None,
    };

    let page_number = tags.get(PAGE_NUMBER).and_then(|e| {
        if e.typ != SHORT {
            return None;
        }
        let mut v = r.ints(r.value_bytes(e, page).ok()?, SHORT);
        let (n, total) = (v.next()?, v.next()?);
        Some((u16::try_from(n).ok()?, u16::try_from(total).ok()?))
    });

    Ok(IfdInfo {
        index: page,
        width,
        height,
        compression,
        fill_order,
        photometric,
        t4_options,
        t6_options,
        resolution,
        rows_per_strip,
        strips,
        page_number,
        new_subfile_type: r
            .uint_lenient(tags.get(NEW_SUBFILE_TYPE), page)
            .unwrap_or(0),
        bad_fax_lines: r.uint_lenient(tags.get(BAD_FAX_LINES), page),
        clean_fax_data: r
            .uint_lenient(tags.get(CLEAN_FAX_DATA), page)
            .and_then(|v| u16::try_from(v).ok()),
        consecutive_bad_fax_lines: r.uint_lenient(tags.get(CONSECUTIVE_BAD_FAX_LINES), page),
    })
}

/// Reads every IFD of a classic TIFF file.
///
/// Each IFD must describe a bilevel (1 bit, 1 sample), stripped image with a supported
/// compression (see the module documentation); the first one that does not makes the whole
/// file fail, as does any structural damage. All IFDs are returned, including ones a fax
/// reader may want to skip (NewSubfileType bit 0, reduced-resolution images).
///
/// Hostile files: at most [`MAX_IFDS`] IFDs of at most [`MAX_IFD_ENTRIES`] entries and
/// [`MAX_STRIPS`] strips each; moreover all pages together may declare at most one strip per
/// 4 bytes of file (each strip needs at least a SHORT offset and a SHORT byte count), so IFDs
/// that share one huge strip table cannot multiply the work.
pub fn parse(data: &[u8]) -> Result<Vec<IfdInfo>, TiffError> {
    let big = match data.get(0..2) {
        Some(b"II") => false,
        Some(b"MM") => true,
        _ => return Err(TiffError::NotTiff),
    };
    let r = Bytes { data, big };
    let header_truncated = TiffError::Truncated {
        what: "TIFF header",
        offset: 0,
        file_len: r.file_len(),
    };
    match r.u16(2) {
        Some(42) => {}
        Some(43) => return Err(TiffError::BigTiff),
        Some(_) => return Err(TiffError::NotTiff),
        None => return Err(header_truncated),
    }
    let mut next = u64::from(r.u32(4).ok_or(header_truncated)?);
    if next == 0 {
        return Err(TiffError::NoImages);
    }

    let mut pages = Vec::new();
    let mut visited = HashSet::new();
    let mut strip_budget = r.file_len() / 4;
    while next != 0 {
        let page = pages.len();
        if page >= MAX_IFDS {
            return Err(TiffError::Limit {
                page,
                what: format!("the file has more than {MAX_IFDS} IFDs"),
            });
        }
        if !visited.insert(next) {
            return Err(TiffError::IfdLoop { offset: next });
        }
        let (tags, following) = read_ifd(&r, next, page)?;
        pages.push(build_page(&r, page, &tags, &mut strip_budget)?);
        next = following;
    }
    Ok(pages)
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    // -----------------------------------------------------------------------------------------
    // A test-only TIFF builder, for either byte order and for damaged files.
    // -----------------------------------------------------------------------------------------

    /// An entry's values: inline/out-of-line as the size requires, or a given count and offset.
    enum V {
        N(Vec<u32>),
        At(u32, u32),
    }

    struct Hand {
        big: bool,
        buf: Vec<u8>,
        link_at: usize,
    }

    impl Hand {
        fn new(big: bool) -> Hand {
            let mut h = Hand {
                big,
                buf: Vec::new(),
                link_at: 4,
            };
            h.buf.extend_from_slice(if big { b"MM" } else { b"II" });
            h.put16(42);
            h.put32(0);
            h
        }

        fn bytes16(&self, v: u16) -> [u8; 2] {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        fn bytes32(&self, v: u32) -> [u8; 4] {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        fn put16(&mut self, v: u16) {
            let b = self.bytes16(v);
            self.buf.extend_from_slice(&b);
        }

        fn put32(&mut self, v: u32) {
            let b = self.bytes32(v);
            self.buf.extend_from_slice(&b);
        }

        fn patch32(&mut self, at: usize, v: u32) {
            let b = self.bytes32(v);
            self.buf[at..at + 4].copy_from_slice(&b);
        }

        fn pos(&self) -> u32 {
            self.buf.len() as u32
        }

        /// Appends raw bytes (strip data, arrays) on an even offset; returns the offset.
        fn blob(&mut self, b: &[u8]) -> u32 {
            if self.buf.len() % 2 == 1 {
                self.buf.push(0);
            }
            let at = self.pos();
            self.buf.extend_from_slice(b);
            at
        }

        /// An array of LONGs as a blob.
        fn longs(&mut self, v: &[u32]) -> u32 {
            let bytes: Vec<u8> = v.iter().flat_map(|&x| self.bytes32(x)).collect();
            self.blob(&bytes)
        }

        fn encode(&self, typ: u16, vals: &[u32]) -> (u32, Vec<u8>) {
            match typ {
                BYTE | ASCII | UNDEFINED => {
                    (vals.len() as u32, vals.iter().map(|&v| v as u8).collect())
                }
                SHORT => (
                    vals.len() as u32,
                    vals.iter().flat_map(|&v| self.bytes16(v as u16)).collect(),
                ),
                LONG => (
                    vals.len() as u32,
                    vals.iter().flat_map(|&v| self.bytes32(v)).collect(),
                ),
                RATIONAL => (
                    vals.len() as u32 / 2,
                    vals.iter().flat_map(|&v| self.bytes32(v)).collect(),
                ),
                // Unknown types: the count is the number of values, the field is 0.
                _ => (vals.len() as u32, Vec::new()),
            }
        }

        /// Appends an IFD (linked from the previous one) and its out-of-line values; returns
        /// its offset.
        fn ifd(&mut self, entries: &[(u16, u16, V)]) -> u32 {
            if self.buf.len() % 2 == 1 {
                self.buf.push(0);
            }
            let at = self.pos();
            let mut values_at = at + 2 + 12 * entries.len() as u32 + 4;
            let mut values = Vec::new();
            self.put16(entries.len() as u16);
            for (tag, typ, v) in entries {
                self.put16(*tag);
                self.put16(*typ);
                match v {
                    V::N(vals) => {
                        let (count, bytes) = self.encode(*typ, vals);
                        self.put32(count);
                        if bytes.len() <= 4 {
                            let mut field = bytes.clone();
                            field.resize(4, 0);
                            self.buf.extend_from_slice(&field);
                        } else {
                            self.put32(values_at);
                            values.extend_from_slice(&bytes);
                            if values.len() % 2 == 1 {
                                values.push(0);
                            }
                            values_at =
                                at + 2 + 12 * entries.len() as u32 + 4 + values.len() as u32;
                        }
                    }
                    V::At(count, off) => {
                        self.put32(*count);
                        self.put32(*off);
                    }
                }
            }
            let link = self.buf.len();
            self.put32(0);
            self.buf.extend_from_slice(&values);
            self.patch32(self.link_at, at);
            self.link_at = link;
            at
        }

        /// Where the next-IFD link of the IFD at `ifd` is.
        fn link_of(&self, ifd: u32) -> usize {
            let i = ifd as usize;
            let n = [self.buf[i], self.buf[i + 1]];
            let n = if self.big {
                u16::from_be_bytes(n)
            } else {
                u16::from_le_bytes(n)
            };
            i + 2 + 12 * n as usize
        }
    }

    fn n(v: &[u32]) -> V {
        V::N(v.to_vec())
    }

    /// A one-strip, uncompressed page of `width` × `height` whose strip is at `strip`, plus
    /// `extra` entries (kept in ascending order by the caller's choice of tags).
    fn simple_page(
        h: &mut Hand,
        width: u32,
        height: u32,
        strip: (u32, u32),
        extra: Vec<(u16, u16, V)>,
    ) -> u32 {
        let mut e = vec![
            (IMAGE_WIDTH, LONG, n(&[width])),
            (IMAGE_LENGTH, LONG, n(&[height])),
            (STRIP_OFFSETS, LONG, n(&[strip.0])),
            (STRIP_BYTE_COUNTS, LONG, n(&[strip.1])),
        ];
        e.extend(extra);
        e.sort_by_key(|x| x.0);
        h.ifd(&e)
    }

    fn one_page_file(big: bool, extra: Vec<(u16, u16, V)>) -> Vec<u8> {
        let mut h = Hand::new(big);
        let s = h.blob(&[0xF0, 0x0F]);
        simple_page(&mut h, 8, 2, (s, 2), extra);
        h.buf
    }

    // -----------------------------------------------------------------------------------------
    // Golden bytes: deconstruct / construct / impossible length
    // -----------------------------------------------------------------------------------------

    /// 8 × 2 uncompressed page, strip at 8, IFD at 10 with 14 entries, two RATIONALs after it;
    /// resolution in pixels per centimetre (80 × 77).
    #[rustfmt::skip]
    static GOLDEN_LE: [u8; 200] = [
        b'I', b'I', 42, 0,   10, 0, 0, 0,               // header: IFD at 10
        0xF0, 0x0F,                                     // strip: rows 11110000, 00001111
        14, 0,                                          // 14 entries
        0xFE, 0x00, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,       // NewSubfileType LONG 2
        0x00, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0,       // ImageWidth SHORT 8
        0x01, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,       // ImageLength SHORT 2
        0x02, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,       // BitsPerSample 1
        0x03, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,       // Compression 1
        0x06, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0,       // Photometric 0
        0x11, 0x01, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0,       // StripOffsets LONG 8
        0x15, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,       // SamplesPerPixel 1
        0x16, 0x01, 4, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, // RowsPerStrip 2^32-1
        0x17, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,       // StripByteCounts SHORT 2
        0x1A, 0x01, 5, 0, 1, 0, 0, 0, 184, 0, 0, 0,     // XResolution @184
        0x1B, 0x01, 5, 0, 1, 0, 0, 0, 192, 0, 0, 0,     // YResolution @192
        0x28, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0,       // ResolutionUnit 3 (cm)
        0x29, 0x01, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0,       // PageNumber 0, 1
        0, 0, 0, 0,                                     // no next IFD
        80, 0, 0, 0, 1, 0, 0, 0,                        // 80/1
        77, 0, 0, 0, 1, 0, 0, 0,                        // 77/1
    ];

    /// The same file in big-endian order.
    #[rustfmt::skip]
    static GOLDEN_BE: [u8; 200] = [
        b'M', b'M', 0, 42,   0, 0, 0, 10,
        0xF0, 0x0F,
        0, 14,
        0x00, 0xFE, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2,
        0x01, 0x00, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0,
        0x01, 0x01, 0, 3, 0, 0, 0, 1, 0, 2, 0, 0,
        0x01, 0x02, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,
        0x01, 0x03, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,
        0x01, 0x06, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0,
        0x01, 0x11, 0, 4, 0, 0, 0, 1, 0, 0, 0, 8,
        0x01, 0x15, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,
        0x01, 0x16, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF,
        0x01, 0x17, 0, 3, 0, 0, 0, 1, 0, 2, 0, 0,
        0x01, 0x1A, 0, 5, 0, 0, 0, 1, 0, 0, 0, 184,
        0x01, 0x1B, 0, 5, 0, 0, 0, 1, 0, 0, 0, 192,
        0x01, 0x28, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0,
        0x01, 0x29, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1,
        0, 0, 0, 0,
        0, 0, 0, 80, 0, 0, 0, 1,
        0, 0, 0, 77, 0, 0, 0, 1,
    ];

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn deconstruct() {
        for golden in [&GOLDEN_LE[..], &GOLDEN_BE[..]] {
            let pages = parse(golden).unwrap();
            assert_eq!(pages.len(), 1);
            let p = &pages[0];
            assert_eq!(p.index, 0);
            assert_eq!((p.width, p.height), (8, 2));
            assert_eq!(p.compression, Compression::None);
            assert_eq!(p.fill_order, FillOrder::MsbFirst);
            assert_eq!(p.photometric, Photometric::MinIsWhite);
            assert_eq!((p.t4_options, p.t6_options), (0, 0));
            let res = p.resolution.unwrap();
            assert!(close(res.x_dpi, 203.2), "{res:?}");
            assert!(close(res.y_dpi, 195.58), "{res:?}");
            assert_eq!(p.rows_per_strip, 2);
            assert_eq!(p.strips, vec![(8, 2)]);
            assert_eq!(p.strip_data(golden, 0), &[0xF0, 0x0F]);
            assert_eq!(p.strip_data(golden, 1), &[] as &[u8]);
            assert_eq!(p.strip_data(&golden[..5], 0), &[] as &[u8]);
            assert_eq!(p.strip_rows(0), 2);
            assert_eq!(p.page_number, Some((0, 1)));
            assert_eq!(p.new_subfile_type, 2);
            assert_eq!(p.bad_fax_lines, None);
            assert_eq!(p.clean_fax_data, None);
            assert_eq!(p.consecutive_bad_fax_lines, None);
        }
        assert_eq!(parse(&GOLDEN_LE).unwrap(), parse(&GOLDEN_BE).unwrap());
    }

    #[test]
    fn hand_builder_matches_golden() {
        // The builder used by the other tests lays out files like the golden ones.
        for (big, golden) in [(false, &GOLDEN_LE), (true, &GOLDEN_BE)] {
            let mut h = Hand::new(big);
            h.blob(&[0xF0, 0x0F]);
            h.ifd(&[
                (NEW_SUBFILE_TYPE, LONG, n(&[2])),
                (IMAGE_WIDTH, SHORT, n(&[8])),
                (IMAGE_LENGTH, SHORT, n(&[2])),
                (BITS_PER_SAMPLE, SHORT, n(&[1])),
                (COMPRESSION, SHORT, n(&[1])),
                (PHOTOMETRIC, SHORT, n(&[0])),
                (STRIP_OFFSETS, LONG, n(&[8])),
                (SAMPLES_PER_PIXEL, SHORT, n(&[1])),
                (ROWS_PER_STRIP, LONG, n(&[u32::MAX])),
                (STRIP_BYTE_COUNTS, SHORT, n(&[2])),
                (X_RESOLUTION, RATIONAL, n(&[80, 1])),
                (Y_RESOLUTION, RATIONAL, n(&[77, 1])),
                (RESOLUTION_UNIT, SHORT, n(&[3])),
                (PAGE_NUMBER, SHORT, n(&[0, 1])),
            ]);
            assert_eq!(&h.buf[..], &golden[..]);
        }
    }

    #[test]
    fn construct() {
        let mut w = TiffWriter::new();
        w.add_page(
            &PageMeta {
                width: 8,
                height: 2,
                resolution: Resolution::FINE,
                compression: Compression::T4,
                t4_options: T4_OPT_FILL_BITS,
                t6_options: 99, // not written for T.4
                fill_order: FillOrder::MsbFirst,
                quality: None,
            },
            &[0xAB, 0xCD],
        );
        #[rustfmt::skip]
        let expected: [u8; 244] = [
            b'I', b'I', 42, 0,   10, 0, 0, 0,
            0xAB, 0xCD,                                 // the strip
            17, 0,
            0xFE, 0x00, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // NewSubfileType 2
            0x00, 0x01, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0,   // ImageWidth LONG 8
            0x01, 0x01, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // ImageLength LONG 2
            0x02, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,   // BitsPerSample 1
            0x03, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0,   // Compression 3
            0x06, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0,   // Photometric 0
            0x0A, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,   // FillOrder 1
            0x11, 0x01, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0,   // StripOffsets 8
            0x15, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,   // SamplesPerPixel 1
            0x16, 0x01, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // RowsPerStrip 2
            0x17, 0x01, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // StripByteCounts 2
            0x1A, 0x01, 5, 0, 1, 0, 0, 0, 220, 0, 0, 0, // XResolution @220
            0x1B, 0x01, 5, 0, 1, 0, 0, 0, 228, 0, 0, 0, // YResolution @228
            0x24, 0x01, 4, 0, 1, 0, 0, 0, 4, 0, 0, 0,   // T4Options 4
            0x28, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // ResolutionUnit inch
            0x29, 0x01, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0,   // PageNumber 0 of 1
            0x31, 0x01, 2, 0, 8, 0, 0, 0, 236, 0, 0, 0, // Software @236
            0, 0, 0, 0,
            204, 0, 0, 0, 1, 0, 0, 0,
            196, 0, 0, 0, 1, 0, 0, 0,
            b's', b'o', b'f', b't', b'f', b'a', b'x', 0,
        ];
        assert_eq!(w.finish(), expected);
    }

    #[test]
    fn impossible_len() {
        let mut w = TiffWriter::new();
        let meta = PageMeta {
            width: 13,
            height: 3,
            resolution: Resolution::STANDARD,
            compression: Compression::None,
            t4_options: 0,
            t6_options: 0,
            fill_order: FillOrder::MsbFirst,
            quality: Some(PageQuality::default()),
        };
        w.add_page(&meta, &[1, 2, 3, 4, 5, 6]);
        w.add_page(&meta, &[7, 8, 9, 10, 11, 12]);
        let written = w.finish();
        assert_eq!(parse(&written).unwrap().len(), 2);
        for file in [&GOLDEN_LE[..], &GOLDEN_BE[..], &written[..]] {
            for len in 0..file.len() {
                assert!(parse(&file[..len]).is_err(), "prefix of {len} bytes parsed");
            }
        }
        // Header only.
        assert!(matches!(parse(b"II*\0"), Err(TiffError::Truncated { .. })));
        assert!(matches!(parse(b"II"), Err(TiffError::Truncated { .. })));
        assert!(matches!(parse(b"I"), Err(TiffError::NotTiff)));
        // The strip's byte count runs past the end.
        let mut bad = GOLDEN_LE;
        bad[8 + 2 + 2 + 9 * 12 + 8] = 200;
        let err = parse(&bad).unwrap_err();
        assert!(
            matches!(
                err,
                TiffError::StripOutOfBounds {
                    page: 0,
                    strip: 0,
                    offset: 8,
                    len: 200,
                    file_len: 200
                }
            ),
            "{err:?}"
        );
        // A RATIONAL's offset past the end.
        let mut bad = GOLDEN_BE;
        bad[10 + 2 + 10 * 12 + 11] = 199;
        let err = parse(&bad).unwrap_err();
        assert!(
            matches!(
                err,
                TiffError::OutOfBounds {
                    page: 0,
                    tag: X_RESOLUTION,
                    offset: 199,
                    len: 8,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "page 1: XResolution points past the end of the file (offset 199, 8 bytes, file is 200 bytes)"
        );
        // The IFD's entry count claims more entries than there are bytes.
        let mut bad = GOLDEN_LE;
        bad[10] = 16;
        assert!(matches!(
            parse(&bad),
            Err(TiffError::Truncated {
                what: "IFD entries",
                offset: 12,
                ..
            })
        ));
    }

    #[test]
    fn known_tags_sorted() {
        assert!(KNOWN_TAGS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(tag_name(STRIP_OFFSETS), "StripOffsets");
        assert_eq!(tag_name(1), "unknown tag");
    }

    // -----------------------------------------------------------------------------------------
    // Round trips and features
    // -----------------------------------------------------------------------------------------

    #[test]
    fn write_parse_round_trip() {
        let metas = [
            PageMeta {
                width: 1728,
                height: 1143,
                resolution: Resolution::STANDARD,
                compression: Compression::T4,
                t4_options: T4_OPT_2D | T4_OPT_FILL_BITS,
                t6_options: 0,
                fill_order: FillOrder::LsbFirst,
                quality: Some(PageQuality {
                    bad_rows: 7,
                    max_consecutive_bad_rows: 3,
                }),
            },
            PageMeta {
                width: 2432,
                height: 3,
                resolution: Resolution {
                    x_dpi: 203.2,
                    y_dpi: 195.58,
                },
                compression: Compression::T6,
                t4_options: 0,
                t6_options: T6_OPT_UNCOMPRESSED,
                fill_order: FillOrder::MsbFirst,
                quality: Some(PageQuality::default()),
            },
            PageMeta {
                width: 9,
                height: 1,
                resolution: Resolution::SUPERFINE,
                compression: Compression::None,
                t4_options: 5,
                t6_options: 5,
                fill_order: FillOrder::MsbFirst,
                quality: None,
            },
        ];
        let strips: [&[u8]; 3] = [&[1, 2, 3], &[4; 10], &[0xFF, 0x80]];
        let mut w = TiffWriter::default();
        for (m, s) in metas.iter().zip(strips) {
            w.add_page(m, s);
        }
        let file = w.finish();
        let pages = parse(&file).unwrap();
        assert_eq!(pages.len(), 3);
        for (i, ((p, m), s)) in pages.iter().zip(&metas).zip(strips).enumerate() {
            assert_eq!(p.index, i);
            assert_eq!((p.width, p.height), (m.width, m.height));
            assert_eq!(p.compression, m.compression);
            assert_eq!(p.fill_order, m.fill_order);
            assert_eq!(p.photometric, Photometric::MinIsWhite);
            assert_eq!(p.rows_per_strip, m.height);
            assert_eq!(p.strips.len(), 1);
            assert_eq!(p.strips[0].0 % 2, 0, "strip on an even offset");
            assert_eq!(p.strip_data(&file, 0), s);
            assert_eq!(p.page_number, Some((i as u16, 3)));
            assert_eq!(p.new_subfile_type, 2);
            let r = p.resolution.unwrap();
            assert!(close(r.x_dpi, m.resolution.x_dpi) && close(r.y_dpi, m.resolution.y_dpi));
        }
        assert_eq!((pages[0].t4_options, pages[0].t6_options), (5, 0));
        assert_eq!((pages[1].t4_options, pages[1].t6_options), (0, 2));
        assert_eq!((pages[2].t4_options, pages[2].t6_options), (0, 0));
        assert_eq!(pages[0].bad_fax_lines, Some(7));
        assert_eq!(pages[0].clean_fax_data, Some(1));
        assert_eq!(pages[0].consecutive_bad_fax_lines, Some(3));
        assert_eq!(pages[1].bad_fax_lines, Some(0));
        assert_eq!(pages[1].clean_fax_data, Some(0));
        assert_eq!(pages[1].consecutive_bad_fax_lines, Some(0));
        assert_eq!(pages[2].bad_fax_lines, None);
        assert_eq!(pages[2].clean_fax_data, None);
    }

    #[test]
    fn writer_word_aligns_ifds_and_values() {
        let meta = PageMeta {
            width: 5,
            height: 1,
            resolution: Resolution {
                x_dpi: 100.5,
                y_dpi: 77.777,
            },
            compression: Compression::PackBits,
            t4_options: 0,
            t6_options: 0,
            fill_order: FillOrder::MsbFirst,
            quality: None,
        };
        let mut w = TiffWriter::new();
        w.add_page(&meta, &[0x00, 0xF8, 0x01]); // odd length
        w.add_page(&meta, &[0x00, 0x08]);
        let file = w.finish();
        let mut ifd = u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize;
        let mut seen = 0;
        while ifd != 0 {
            assert_eq!(ifd % 2, 0);
            let count = u16::from_le_bytes([file[ifd], file[ifd + 1]]) as usize;
            let mut last_tag = 0;
            for i in 0..count {
                let e = &file[ifd + 2 + 12 * i..ifd + 14 + 12 * i];
                let tag = u16::from_le_bytes([e[0], e[1]]);
                assert!(tag > last_tag, "tags ascending");
                last_tag = tag;
                let typ = u16::from_le_bytes([e[2], e[3]]);
                let count = u32::from_le_bytes(e[4..8].try_into().unwrap()) as u64;
                if count * type_size(typ).unwrap() > 4 {
                    let off = u32::from_le_bytes(e[8..12].try_into().unwrap());
                    assert_eq!(off % 2, 0, "tag {tag} value on an even offset");
                }
                if tag == X_RESOLUTION || tag == Y_RESOLUTION {
                    let off = u32::from_le_bytes(e[8..12].try_into().unwrap()) as usize;
                    let num = u32::from_le_bytes(file[off..off + 4].try_into().unwrap());
                    let den = u32::from_le_bytes(file[off + 4..off + 8].try_into().unwrap());
                    let want = if tag == X_RESOLUTION {
                        (10050, 100)
                    } else {
                        (7778, 100)
                    };
                    assert_eq!((num, den), want);
                }
            }
            ifd =
                u32::from_le_bytes(file[ifd + 2 + 12 * count..][..4].try_into().unwrap()) as usize;
            seen += 1;
        }
        assert_eq!(seen, 2);
        let pages = parse(&file).unwrap();
        assert_eq!(pages[0].strip_data(&file, 0), &[0x00, 0xF8, 0x01]);
        assert_eq!(pages[1].strip_data(&file, 0), &[0x00, 0x08]);
        assert_eq!(pages[1].compression, Compression::PackBits);
    }

    #[test]
    fn empty_writer_is_rejected_by_reader() {
        let file = TiffWriter::new().finish();
        assert_eq!(file, b"II*\0\0\0\0\0");
        assert!(matches!(parse(&file), Err(TiffError::NoImages)));
    }

    #[test]
    fn multi_strip_both_byte_orders() {
        for big in [false, true] {
            let mut h = Hand::new(big);
            let a = h.blob(&[0x80, 0x40]);
            let b = h.blob(&[0x20]);
            let c = h.blob(&[0x10, 0x08, 0x04]);
            h.ifd(&[
                (IMAGE_WIDTH, SHORT, n(&[8])),
                (IMAGE_LENGTH, SHORT, n(&[5])),
                (COMPRESSION, SHORT, n(&[4])),
                (PHOTOMETRIC, SHORT, n(&[1])),
                (FILL_ORDER, SHORT, n(&[2])),
                (STRIP_OFFSETS, LONG, n(&[a, b, c])),
                (ROWS_PER_STRIP, SHORT, n(&[2])),
                (STRIP_BYTE_COUNTS, SHORT, n(&[2, 1, 3])),
                (T6_OPTIONS, LONG, n(&[0])),
                (RESOLUTION_UNIT, SHORT, n(&[1])),
                (BAD_FAX_LINES, SHORT, n(&[4])),
                (CLEAN_FAX_DATA, SHORT, n(&[2])),
                (CONSECUTIVE_BAD_FAX_LINES, LONG, n(&[2])),
            ]);
            // A second page whose two strip offsets and counts are SHORTs held inline.
            let d = h.blob(&[0xAA, 0x55]);
            h.ifd(&[
                (IMAGE_WIDTH, SHORT, n(&[3])),
                (IMAGE_LENGTH, SHORT, n(&[2])),
                (STRIP_OFFSETS, SHORT, n(&[d, d + 1])),
                (ROWS_PER_STRIP, LONG, n(&[1])),
                (STRIP_BYTE_COUNTS, SHORT, n(&[1, 1])),
                (X_RESOLUTION, RATIONAL, n(&[204, 1])),
                (Y_RESOLUTION, RATIONAL, n(&[196, 1])),
                // An unknown tag of an unknown type (LONG8) with an absurd count is skipped.
                (50_000, 16, V::At(u32::MAX, u32::MAX)),
            ]);
            let file = h.buf;
            let pages = parse(&file).unwrap();
            assert_eq!(pages.len(), 2);
            let p = &pages[0];
            assert_eq!(p.compression, Compression::T6);
            assert_eq!(p.photometric, Photometric::MinIsBlack);
            assert_eq!(p.fill_order, FillOrder::LsbFirst);
            assert_eq!(p.rows_per_strip, 2);
            assert_eq!(p.strips.len(), 3);
            assert_eq!(p.strip_data(&file, 0), &[0x80, 0x40]);
            assert_eq!(p.strip_data(&file, 1), &[0x20]);
            assert_eq!(p.strip_data(&file, 2), &[0x10, 0x08, 0x04]);
            assert_eq!(
                (0..4).map(|i| p.strip_rows(i)).collect::<Vec<_>>(),
                [2, 2, 1, 0]
            );
            assert_eq!(p.resolution, None, "ResolutionUnit 1 has no unit");
            assert_eq!(p.bad_fax_lines, Some(4));
            assert_eq!(p.clean_fax_data, Some(2));
            assert_eq!(p.consecutive_bad_fax_lines, Some(2));
            assert_eq!(p.page_number, None);
            let q = &pages[1];
            assert_eq!(q.index, 1);
            assert_eq!(q.strips, vec![(u64::from(d), 1), (u64::from(d) + 1, 1)]);
            assert_eq!(q.strip_data(&file, 1), &[0x55]);
            assert_eq!(
                q.resolution,
                Some(Resolution {
                    x_dpi: 204.0,
                    y_dpi: 196.0
                })
            );
        }
    }

    #[test]
    fn resolution_rules() {
        let res = |extra| parse(&one_page_file(false, extra)).unwrap()[0].resolution;
        let xy = |x: u32, y: u32| {
            vec![
                (X_RESOLUTION, RATIONAL, n(&[x, 1])),
                (Y_RESOLUTION, RATIONAL, n(&[y, 1])),
            ]
        };
        // ResolutionUnit missing = inch.
        assert_eq!(
            res(xy(200, 100)),
            Some(Resolution {
                x_dpi: 200.0,
                y_dpi: 100.0
            })
        );
        let mut cm = xy(8, 4);
        cm.push((RESOLUTION_UNIT, SHORT, n(&[3])));
        let r = res(cm).unwrap();
        assert!(close(r.x_dpi, 20.32) && close(r.y_dpi, 10.16));
        assert_eq!(res(vec![(X_RESOLUTION, RATIONAL, n(&[200, 1]))]), None);
        assert_eq!(res(xy(0, 100)), None);
        assert_eq!(
            res(vec![
                (X_RESOLUTION, RATIONAL, n(&[200, 0])),
                (Y_RESOLUTION, RATIONAL, n(&[200, 1]))
            ]),
            None
        );
        assert_eq!(res(vec![]), None);
    }

    #[test]
    fn rows_per_strip_above_height_is_clamped() {
        let f = one_page_file(true, vec![(ROWS_PER_STRIP, SHORT, n(&[1000]))]);
        assert_eq!(parse(&f).unwrap()[0].rows_per_strip, 2);
    }

    // -----------------------------------------------------------------------------------------
    // Rejected files
    // -----------------------------------------------------------------------------------------

    fn err(extra: Vec<(u16, u16, V)>) -> TiffError {
        parse(&one_page_file(false, extra)).unwrap_err()
    }

    #[test]
    fn unsupported_and_bad_fields() {
        assert!(matches!(
            err(vec![(BITS_PER_SAMPLE, SHORT, n(&[8]))]),
            TiffError::NotBilevel {
                page: 0,
                bits: 8,
                samples: 1
            }
        ));
        assert!(matches!(
            err(vec![
                (BITS_PER_SAMPLE, SHORT, n(&[8, 8, 8])),
                (SAMPLES_PER_PIXEL, SHORT, n(&[3]))
            ]),
            TiffError::NotBilevel {
                page: 0,
                bits: 8,
                samples: 3
            }
        ));
        let e = err(vec![(COMPRESSION, SHORT, n(&[5]))]);
        assert!(e.to_string().contains("LZW"), "{e}");
        assert!(matches!(e, TiffError::Unsupported { page: 0, .. }));
        assert!(matches!(
            err(vec![(PHOTOMETRIC, SHORT, n(&[3]))]),
            TiffError::Unsupported { .. }
        ));
        assert!(matches!(
            err(vec![(TILE_WIDTH, SHORT, n(&[16]))]),
            TiffError::Unsupported { .. }
        ));
        assert!(matches!(
            err(vec![(FILL_ORDER, SHORT, n(&[3]))]),
            TiffError::BadTag {
                tag: "FillOrder",
                ..
            }
        ));
        assert!(matches!(
            err(vec![(ROWS_PER_STRIP, SHORT, n(&[0]))]),
            TiffError::BadTag {
                tag: "RowsPerStrip",
                ..
            }
        ));
        assert!(matches!(
            err(vec![(COMPRESSION, ASCII, n(&[b'a'.into(), 0]))]),
            TiffError::BadTag {
                tag: "Compression",
                ..
            }
        ));
        assert!(matches!(
            err(vec![(T4_OPTIONS, LONG, V::At(0, 0))]),
            TiffError::BadTag {
                tag: "T4Options",
                ..
            }
        ));

        let page = |w: u32, h: u32| {
            let mut hand = Hand::new(false);
            let s = hand.blob(&[0; 4]);
            simple_page(&mut hand, w, h, (s, 4), vec![]);
            parse(&hand.buf)
        };
        assert!(page(65_535, 1).is_ok());
        assert!(matches!(
            page(0, 1),
            Err(TiffError::BadTag {
                tag: "ImageWidth",
                ..
            })
        ));
        assert!(matches!(
            page(1, 0),
            Err(TiffError::BadTag {
                tag: "ImageLength",
                ..
            })
        ));
        assert!(matches!(
            page(65_536, 1),
            Err(TiffError::Unsupported { .. })
        ));

        // Missing and inconsistent strip tags.
        let mut h = Hand::new(false);
        let s = h.blob(&[0; 2]);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[2])),
            (STRIP_OFFSETS, LONG, n(&[s])),
        ]);
        assert!(matches!(
            parse(&h.buf),
            Err(TiffError::MissingTag {
                page: 0,
                tag: "StripByteCounts"
            })
        ));
        let mut h = Hand::new(false);
        h.ifd(&[(IMAGE_WIDTH, SHORT, n(&[8]))]);
        assert!(matches!(
            parse(&h.buf),
            Err(TiffError::MissingTag {
                tag: "ImageLength",
                ..
            })
        ));
        let mut h = Hand::new(false);
        let s = h.blob(&[0; 2]);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[2])),
            (STRIP_OFFSETS, LONG, n(&[s, s])),
            (ROWS_PER_STRIP, SHORT, n(&[1])),
            (STRIP_BYTE_COUNTS, LONG, n(&[1])),
        ]);
        assert!(matches!(
            parse(&h.buf),
            Err(TiffError::BadTag {
                tag: "StripByteCounts",
                ..
            })
        ));
        let mut h = Hand::new(false);
        let s = h.blob(&[0; 2]);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[3])),
            (STRIP_OFFSETS, LONG, n(&[s, s])),
            (ROWS_PER_STRIP, SHORT, n(&[1])),
            (STRIP_BYTE_COUNTS, LONG, n(&[1, 1])),
        ]);
        let e = parse(&h.buf).unwrap_err();
        assert!(
            matches!(
                e,
                TiffError::BadTag {
                    tag: "StripOffsets",
                    ..
                }
            ),
            "{e}"
        );
        // An error in the second page fails the file.
        let mut h = Hand::new(false);
        let s = h.blob(&[0; 2]);
        simple_page(&mut h, 8, 2, (s, 2), vec![]);
        simple_page(
            &mut h,
            8,
            2,
            (s, 2),
            vec![(BITS_PER_SAMPLE, SHORT, n(&[4]))],
        );
        assert!(matches!(
            parse(&h.buf),
            Err(TiffError::NotBilevel {
                page: 1,
                bits: 4,
                ..
            })
        ));
    }

    #[test]
    fn header_errors() {
        assert!(matches!(parse(b""), Err(TiffError::NotTiff)));
        assert!(matches!(parse(b"GIF89a\0\0"), Err(TiffError::NotTiff)));
        assert!(matches!(
            parse(b"II\x2b\0\x08\0\0\0"),
            Err(TiffError::BigTiff)
        ));
        assert!(matches!(
            parse(b"MM\0\x2b\0\x08\0\0"),
            Err(TiffError::BigTiff)
        ));
        assert!(matches!(
            parse(b"MM\0\x2a\0\0\0\0"),
            Err(TiffError::NoImages)
        ));
        assert!(matches!(
            parse(b"MM\0\x2a\0\0\0"),
            Err(TiffError::Truncated { .. })
        ));
        assert!(matches!(
            parse(b"II\x2a\0\xff\xff\xff\xff"),
            Err(TiffError::Truncated {
                what: "IFD entry count",
                offset: 0xFFFF_FFFF,
                ..
            })
        ));
    }

    #[test]
    fn ifd_loops() {
        // An IFD that links to itself.
        let mut f = one_page_file(false, vec![]);
        let ifd = u32::from_le_bytes(f[4..8].try_into().unwrap());
        let h = Hand {
            big: false,
            buf: f.clone(),
            link_at: 0,
        };
        let link = h.link_of(ifd);
        f[link..link + 4].copy_from_slice(&ifd.to_le_bytes());
        assert!(
            matches!(parse(&f), Err(TiffError::IfdLoop { offset }) if offset == u64::from(ifd))
        );
        // Three IFDs, the last linking back to the second.
        let mut h = Hand::new(true);
        let s = h.blob(&[0; 2]);
        simple_page(&mut h, 8, 2, (s, 2), vec![]);
        let second = simple_page(&mut h, 8, 2, (s, 2), vec![]);
        let third = simple_page(&mut h, 8, 2, (s, 2), vec![]);
        let link = h.link_of(third);
        h.patch32(link, second);
        let e = parse(&h.buf).unwrap_err();
        assert!(matches!(e, TiffError::IfdLoop { offset } if offset == u64::from(second)));
        assert!(e.to_string().contains(&second.to_string()));
    }

    #[test]
    fn huge_counts() {
        // IFD entry count above the limit.
        let mut f = one_page_file(false, vec![]);
        let ifd = u32::from_le_bytes(f[4..8].try_into().unwrap()) as usize;
        f[ifd..ifd + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
        assert!(matches!(parse(&f), Err(TiffError::Limit { page: 0, .. })));
        f[ifd..ifd + 2].copy_from_slice(&(MAX_IFD_ENTRIES).to_le_bytes());
        assert!(matches!(
            parse(&f),
            Err(TiffError::Truncated {
                what: "IFD entries",
                ..
            })
        ));

        // Strip tables of 2^32-1 and of 900 000 entries, more than the file holds: refused
        // before anything is allocated.
        for count in [u32::MAX, 900_000] {
            let mut h = Hand::new(false);
            h.ifd(&[
                (IMAGE_WIDTH, SHORT, n(&[8])),
                (IMAGE_LENGTH, LONG, n(&[900_000])),
                (STRIP_OFFSETS, LONG, V::At(count, 8)),
                (ROWS_PER_STRIP, SHORT, n(&[1])),
                (STRIP_BYTE_COUNTS, LONG, V::At(count, 8)),
            ]);
            let e = parse(&h.buf).unwrap_err();
            assert!(
                matches!(
                    e,
                    TiffError::OutOfBounds {
                        page: 0,
                        tag: STRIP_OFFSETS,
                        offset: 8,
                        ..
                    }
                ),
                "{e:?}"
            );
        }

        // An unused tag with an absurd count is an error too (the file is damaged).
        let e = err(vec![(SOFTWARE, ASCII, V::At(u32::MAX, 8))]);
        assert!(
            matches!(e, TiffError::OutOfBounds { tag: SOFTWARE, .. }),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with("page 1: Software points past"),
            "{e}"
        );
        let e = err(vec![(40_000, DOUBLE, V::At(2, 0xFFFF))]);
        assert!(
            e.to_string().starts_with("page 1: tag 40000 points past"),
            "{e}"
        );

        // A table that fits the budget but whose offset points outside the file.
        let mut h = Hand::new(false);
        h.blob(&[0; 64]);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[3])),
            (STRIP_OFFSETS, LONG, V::At(3, 0xFFFF_FFF0)),
            (ROWS_PER_STRIP, SHORT, n(&[1])),
            (STRIP_BYTE_COUNTS, LONG, V::At(3, 8)),
        ]);
        let e = parse(&h.buf).unwrap_err();
        assert!(
            matches!(
                e,
                TiffError::OutOfBounds {
                    page: 0,
                    tag: STRIP_OFFSETS,
                    offset: 0xFFFF_FFF0,
                    len: 12,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "page 1: StripOffsets points past the end of the file (offset 4294967280, 12 bytes, file is {} bytes)",
                h.buf.len()
            )
        );
    }

    #[test]
    fn shared_strip_tables_are_bounded() {
        // 40 IFDs all pointing at the same 1000-strip tables: legal-looking, but 40 000 strip
        // entries from a file of about 10 kB.
        let mut h = Hand::new(false);
        let data = h.blob(&[0; 8]);
        let offsets = h.longs(&[data; 1000]);
        let counts = h.longs(&[1; 1000]);
        let page = |h: &mut Hand| {
            h.ifd(&[
                (IMAGE_WIDTH, SHORT, n(&[8])),
                (IMAGE_LENGTH, SHORT, n(&[1000])),
                (STRIP_OFFSETS, LONG, V::At(1000, offsets)),
                (ROWS_PER_STRIP, SHORT, n(&[1])),
                (STRIP_BYTE_COUNTS, LONG, V::At(1000, counts)),
            ])
        };
        page(&mut h);
        assert_eq!(parse(&h.buf).unwrap()[0].strips.len(), 1000);
        for _ in 1..40 {
            page(&mut h);
        }
        assert!(matches!(parse(&h.buf), Err(TiffError::Limit { .. })));
    }

    #[test]
    fn too_many_ifds() {
        let mut h = Hand::new(false);
        let s = h.blob(&[0; 2]);
        for _ in 0..MAX_IFDS {
            simple_page(&mut h, 8, 2, (s, 2), vec![]);
        }
        assert_eq!(parse(&h.buf).unwrap().len(), MAX_IFDS);
        simple_page(&mut h, 8, 2, (s, 2), vec![]);
        assert!(matches!(
            parse(&h.buf),
            Err(TiffError::Limit { page, .. }) if page == MAX_IFDS
        ));
    }

    #[test]
    fn error_messages_read_well() {
        let e = TiffError::StripOutOfBounds {
            page: 1,
            strip: 0,
            offset: 123_456,
            len: 300,
            file_len: 9000,
        };
        assert_eq!(
            e.to_string(),
            "page 2: strip 0 (offset 123456, 300 bytes) runs past the end of the file (9000 bytes)"
        );
        let e = TiffError::MissingTag {
            page: 0,
            tag: "StripByteCounts",
        };
        assert_eq!(
            e.to_string(),
            "page 1: the required tag StripByteCounts is missing"
        );
        let e = TiffError::Decode {
            page: 2,
            row: 17,
            why: "bad code".into(),
        };
        assert_eq!(e.to_string(), "page 3, row 17: bad code");
    }

    /// A small xorshift generator, so the mutation test needs no dependency.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn mutated_files_never_panic() {
        let mut w = TiffWriter::new();
        let meta = PageMeta {
            width: 20,
            height: 4,
            resolution: Resolution::FINE,
            compression: Compression::T4,
            t4_options: 1,
            t6_options: 0,
            fill_order: FillOrder::LsbFirst,
            quality: Some(PageQuality {
                bad_rows: 1,
                max_consecutive_bad_rows: 1,
            }),
        };
        w.add_page(&meta, &[0x12; 12]);
        w.add_page(&meta, &[0x34; 7]);
        let seeds = [GOLDEN_LE.to_vec(), GOLDEN_BE.to_vec(), w.finish()];
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut parsed = 0;
        for _ in 0..20_000 {
            let mut f = seeds[(xorshift(&mut rng) % 3) as usize].clone();
            for _ in 0..1 + xorshift(&mut rng) % 4 {
                let i = (xorshift(&mut rng) % f.len() as u64) as usize;
                f[i] = match xorshift(&mut rng) % 4 {
                    0 => 0,
                    1 => 0xFF,
                    _ => xorshift(&mut rng) as u8,
                };
            }
            if xorshift(&mut rng).is_multiple_of(8) {
                let len = (xorshift(&mut rng) % f.len() as u64) as usize;
                f.truncate(len);
            }
            if let Ok(pages) = parse(&f) {
                parsed += 1;
                for p in &pages {
                    for i in 0..p.strips.len() + 1 {
                        let _ = p.strip_data(&f, i);
                        let _ = p.strip_rows(i);
                    }
                }
            }
        }
        assert!(parsed > 0);
    }
}
