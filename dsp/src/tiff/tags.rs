//! The TIFF vocabulary softfax reads and writes: field types (TIFF 6.0 §2), the tag numbers
//! and names of the baseline and fax tags it uses (§8, RFC 3949 §2.2), and the values of the
//! Compression, FillOrder, PhotometricInterpretation and T4/T6Options tags (§3, §10, §11).

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

// Field types (TIFF 6.0 §2).
pub(super) const BYTE: u16 = 1;
pub(super) const ASCII: u16 = 2;
pub(super) const SHORT: u16 = 3;
pub(super) const LONG: u16 = 4;
pub(super) const RATIONAL: u16 = 5;
pub(super) const SBYTE: u16 = 6;
pub(super) const UNDEFINED: u16 = 7;
pub(super) const SSHORT: u16 = 8;
pub(super) const SLONG: u16 = 9;
pub(super) const SRATIONAL: u16 = 10;
pub(super) const FLOAT: u16 = 11;
pub(super) const DOUBLE: u16 = 12;

/// Bytes per value of a field type; `None` for types a classic TIFF reader does not know.
pub(super) fn type_size(typ: u16) -> Option<u64> {
    match typ {
        BYTE | ASCII | SBYTE | UNDEFINED => Some(1),
        SHORT | SSHORT => Some(2),
        LONG | SLONG | FLOAT => Some(4),
        RATIONAL | SRATIONAL | DOUBLE => Some(8),
        _ => None,
    }
}

pub(super) fn type_name(typ: u16) -> String {
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
pub(super) const NEW_SUBFILE_TYPE: u16 = 254;
pub(super) const IMAGE_WIDTH: u16 = 256;
pub(super) const IMAGE_LENGTH: u16 = 257;
pub(super) const BITS_PER_SAMPLE: u16 = 258;
pub(super) const COMPRESSION: u16 = 259;
pub(super) const PHOTOMETRIC: u16 = 262;
pub(super) const FILL_ORDER: u16 = 266;
pub(super) const STRIP_OFFSETS: u16 = 273;
pub(super) const SAMPLES_PER_PIXEL: u16 = 277;
pub(super) const ROWS_PER_STRIP: u16 = 278;
pub(super) const STRIP_BYTE_COUNTS: u16 = 279;
pub(super) const X_RESOLUTION: u16 = 282;
pub(super) const Y_RESOLUTION: u16 = 283;
pub(super) const T4_OPTIONS: u16 = 292;
pub(super) const T6_OPTIONS: u16 = 293;
pub(super) const RESOLUTION_UNIT: u16 = 296;
pub(super) const PAGE_NUMBER: u16 = 297;
pub(super) const SOFTWARE: u16 = 305;
pub(super) const TILE_WIDTH: u16 = 322;
pub(super) const TILE_LENGTH: u16 = 323;
pub(super) const TILE_OFFSETS: u16 = 324;
pub(super) const TILE_BYTE_COUNTS: u16 = 325;
pub(super) const BAD_FAX_LINES: u16 = 326;
pub(super) const CLEAN_FAX_DATA: u16 = 327;
pub(super) const CONSECUTIVE_BAD_FAX_LINES: u16 = 328;

/// The tags kept from an IFD, sorted by tag number (for [`known_tag_slot`]).
pub(super) const KNOWN_TAGS: [(u16, &str); 24] = [
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
pub(super) fn tag_label(tag: u16) -> String {
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

pub(super) fn tag_name(tag: u16) -> &'static str {
    known_tag_slot(tag)
        .and_then(|i| KNOWN_TAGS.get(i))
        .map_or("unknown tag", |(_, n)| n)
}

/// Where `tag` is in [`KNOWN_TAGS`].
pub(super) fn known_tag_slot(tag: u16) -> Option<usize> {
    // KNOWN_TAGS is sorted by tag.
    KNOWN_TAGS.binary_search_by_key(&tag, |(t, _)| *t).ok()
}

pub(super) fn compression_name(v: u32) -> String {
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

pub(super) fn photometric_name(v: u32) -> String {
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
