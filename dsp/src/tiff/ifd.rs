//! The pages of a TIFF file: [`parse`] walks the IFD chain, and each IFD is checked against
//! what softfax can read (a bilevel, stripped image, TIFF 6.0 §3 and §8) and turned into an
//! [`IfdInfo`].

use std::collections::HashSet;

use super::reader::{Bytes, Tags, read_ifd};
use super::tags::*;
use super::{MAX_IFDS, MAX_WIDTH, TiffError};
use crate::image::Resolution;

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

/// Checks one IFD and turns it into an [`IfdInfo`]. `strip_budget` is the number of strip
/// entries the rest of the file may still declare (see [`parse`]).
pub(super) fn build_page(
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
            v => {
                return Err(TiffError::bad_tag(
                    page,
                    FILL_ORDER,
                    format!("{v} (expected 1 or 2)"),
                ));
            }
        },
        None => FillOrder::MsbFirst,
    };

    let width = r.uint(tags.get(IMAGE_WIDTH).ok_or(missing("ImageWidth"))?, page)?;
    let height = r.uint(tags.get(IMAGE_LENGTH).ok_or(missing("ImageLength"))?, page)?;
    if width == 0 {
        return Err(TiffError::bad_tag(
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
        return Err(TiffError::bad_tag(
            page,
            IMAGE_LENGTH,
            "the image has 0 rows".into(),
        ));
    }

    let rows_per_strip = match tags.get(ROWS_PER_STRIP) {
        Some(e) => match r.uint(e, page)? {
            0 => return Err(TiffError::bad_tag(page, ROWS_PER_STRIP, "is 0".into())),
            v => v.min(height),
        },
        None => height,
    };

    let offsets_entry = tags.get(STRIP_OFFSETS).ok_or(missing("StripOffsets"))?;
    let counts_entry = tags
        .get(STRIP_BYTE_COUNTS)
        .ok_or(missing("StripByteCounts"))?;
    if offsets_entry.count != counts_entry.count {
        return Err(TiffError::bad_tag(
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
        return Err(TiffError::bad_tag(
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
/// Hostile files: at most [`MAX_IFDS`] IFDs of at most [`MAX_IFD_ENTRIES`](super::MAX_IFD_ENTRIES) entries and
/// [`MAX_STRIPS`](super::MAX_STRIPS) strips each; moreover all pages together may declare at most one strip per
/// 4 bytes of file (each strip needs at least a SHORT offset and a SHORT byte count), so IFDs
/// that share one huge strip table cannot multiply the work.
pub fn parse(data: &[u8]) -> Result<Vec<IfdInfo>, TiffError> {
    let big = match data.get(0..2) {
        Some(b"II") => false,
        Some(b"MM") => true,
        _ => return Err(TiffError::NotTiff),
    };
    let r = Bytes::new(data, big);
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
