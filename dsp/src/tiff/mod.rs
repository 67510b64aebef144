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
//! - [`TiffWriter`] writes TIFF Class F: little-endian, one IFD and one strip per page;
//!   [`TiffStreamWriter`] writes the same bytes to a file as the pages come.
//! - [`read_structure`] and [`FileStrips`] read a file from disk a strip at a time.
//!
//! **Not supported:** BigTIFF; tiled images; more than one sample or more than one bit per
//! sample (grey, colour, palette); photometric interpretations other than min-is-white /
//! min-is-black; compressions other than none, CCITT RLE, T.4, T.6 and PackBits (no LZW, JPEG,
//! Deflate, JBIG …); writing anything but one strip per page.
//!
//! The parts, each using only the ones before it (and this file's limits and errors):
//! `tags.rs` (field types, tag numbers and values), `reader.rs` (byte order, bounds-checked
//! reads, IFD entries), `ifd.rs` (the IFD chain, each IFD checked into an [`IfdInfo`]),
//! `writer.rs` (TIFF Class F), `pages.rs` (pages through the T.4/T.6 codecs), `file.rs`
//! (reading from disk a strip at a time).

mod file;
mod ifd;
mod pages;
mod reader;
mod tags;
mod writer;

pub use file::{FileStrips, read_structure};
pub use ifd::{IfdInfo, parse};
pub use pages::*;
pub use tags::{
    Compression, FillOrder, Photometric, T4_OPT_2D, T4_OPT_FILL_BITS, T4_OPT_UNCOMPRESSED,
    T6_OPT_UNCOMPRESSED,
};
pub use writer::{PageMeta, TiffStreamWriter, TiffWriter};

use tags::{tag_label, tag_name};

/// At most this many IFDs (pages) are read from one file.
pub const MAX_IFDS: usize = 10_000;
/// At most this many entries in one IFD.
pub const MAX_IFD_ENTRIES: u16 = 4096;
/// At most this many strips in one page.
pub const MAX_STRIPS: usize = 1_000_000;
/// The widest page accepted.
pub const MAX_WIDTH: u32 = 65_535;

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
    /// Reading a strip from the file failed (it changed under us, or the disk failed).
    #[error("page {}: cannot read strip {strip} (offset {offset}): {source}", .page + 1)]
    Read {
        page: usize,
        strip: usize,
        offset: u64,
        source: std::io::Error,
    },
    /// For the codec glue: the strip data of a page could not be decoded.
    #[error("page {}, row {row}: {why}", .page + 1)]
    Decode { page: usize, row: u32, why: String },
}

impl TiffError {
    /// A tag with an unusable value.
    pub(super) fn bad_tag(page: usize, tag: u16, why: String) -> TiffError {
        TiffError::BadTag {
            page,
            tag: tag_name(tag),
            why,
        }
    }
}

#[cfg(test)]
mod tests;
