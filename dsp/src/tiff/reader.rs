//! Reading a classic TIFF file (TIFF 6.0 §2) from memory: its bytes in either byte order and
//! each IFD's entries, with every offset bounds-checked against the file.

use super::tags::{
    BYTE, KNOWN_TAGS, LONG, RATIONAL, SHORT, known_tag_slot, tag_name, type_name, type_size,
};
use super::{MAX_IFD_ENTRIES, MAX_STRIPS, TiffError};

/// One 12-byte IFD entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    tag: u16,
    pub(super) typ: u16,
    pub(super) count: u32,
    /// File offset of the entry's 4-byte value-or-offset field.
    field: u64,
}

/// The file, with its byte order.
pub(super) struct Bytes<'a> {
    data: &'a [u8],
    big: bool,
}

impl<'a> Bytes<'a> {
    /// `data`, read big-endian ("MM") or little-endian ("II").
    pub(super) fn new(data: &'a [u8], big: bool) -> Self {
        Bytes { data, big }
    }

    pub(super) fn file_len(&self) -> u64 {
        self.data.len() as u64
    }

    pub(super) fn slice(&self, off: u64, len: u64) -> Option<&'a [u8]> {
        let end = off.checked_add(len)?;
        let start = usize::try_from(off).ok()?;
        let end = usize::try_from(end).ok()?;
        self.data.get(start..end)
    }

    pub(super) fn u16(&self, off: u64) -> Option<u16> {
        let b: [u8; 2] = self.slice(off, 2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    pub(super) fn u32(&self, off: u64) -> Option<u32> {
        let b: [u8; 4] = self.slice(off, 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The values of an unsigned integer field (BYTE, SHORT or LONG; others give nothing).
    pub(super) fn ints(&self, bytes: &'a [u8], typ: u16) -> impl Iterator<Item = u32> + 'a {
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
    pub(super) fn value_bytes(&self, e: &Entry, page: usize) -> Result<&'a [u8], TiffError> {
        let size = type_size(e.typ)
            .and_then(|s| s.checked_mul(u64::from(e.count)))
            .ok_or_else(|| TiffError::bad_tag(page, e.tag, format!("has {}", type_name(e.typ))))?;
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
    pub(super) fn uint(&self, e: &Entry, page: usize) -> Result<u32, TiffError> {
        if !matches!(e.typ, BYTE | SHORT | LONG) {
            return Err(TiffError::bad_tag(
                page,
                e.tag,
                format!("has {}, expected SHORT or LONG", type_name(e.typ)),
            ));
        }
        let bytes = self.value_bytes(e, page)?;
        self.ints(bytes, e.typ)
            .next()
            .ok_or_else(|| TiffError::bad_tag(page, e.tag, "has no value".into()))
    }

    /// [`Self::uint`] for tags that only inform: any problem gives `None`.
    pub(super) fn uint_lenient(&self, e: Option<&Entry>, page: usize) -> Option<u32> {
        self.uint(e?, page).ok()
    }

    /// A RATIONAL (or, tolerated, integer) tag as a number; `None` if unusable.
    pub(super) fn rational_lenient(&self, e: Option<&Entry>, page: usize) -> Option<f64> {
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
    pub(super) fn strip_array(&self, e: &Entry, page: usize) -> Result<Vec<u64>, TiffError> {
        if !matches!(e.typ, SHORT | LONG) {
            return Err(TiffError::bad_tag(
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

/// The entries of one IFD that matter here (the first of duplicated tags wins).
#[derive(Default)]
pub(super) struct Tags {
    found: [Option<Entry>; KNOWN_TAGS.len()],
}

impl Tags {
    pub(super) fn get(&self, tag: u16) -> Option<&Entry> {
        self.found.get(known_tag_slot(tag)?)?.as_ref()
    }
}

/// Reads the IFD at `off`: its known entries and the offset of the next IFD.
pub(super) fn read_ifd(r: &Bytes<'_>, off: u64, page: usize) -> Result<(Tags, u64), TiffError> {
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
        if let Some(s @ None) = known_tag_slot(tag).and_then(|slot| tags.found.get_mut(slot)) {
            *s = Some(entry);
        }
    }
    Ok((tags, u64::from(next)))
}
