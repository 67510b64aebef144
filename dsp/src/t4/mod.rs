//! The Group 3 and Group 4 fax image codecs: ITU-T T.4 §4.1 (MH, one-dimensional
//! modified Huffman), T.4 §4.2 (MR, two-dimensional modified READ with parameter K) and
//! ITU-T T.6 (MMR, modified modified READ, ending in EOFB).
//!
//! Both directions stream by rows. [`Encoder::encode_row`] appends one row's bits to a byte
//! vector; [`Decoder::push`] takes bytes in whatever chunks Phase C delivers them and
//! [`Decoder::next_row`] yields rows as soon as they are complete. Memory is O(width) per
//! stream plus the bytes not yet decoded.
//!
//! Rows are packed bytes, first pel in the most significant bit, 1 = black (see
//! [`crate::image`]). Internally a row is its list of *changing elements* (T.4 §4.2.1.3.1):
//! the positions where the colour changes, white first.
//!
//! **Not supported:** uncompressed mode (the `0000001xxx` extension codes, T.4 §4.2.1.3.4) —
//! a row using it is reported as bad; T.4 Annex (JBIG, colour) codings.
//!
//! **Tested by:** unit tests here, `tests/t4_roundtrip.rs` (ITU charts and synthetic
//! bitmaps, every coding) and `tests/interop_libtiff.rs` (libtiff decodes what we encode and
//! we decode what libtiff encodes, pel for pel).

mod bits;
pub mod codes;
mod decode_row;
mod decoder;
mod encoder;
mod rows;

pub use decoder::{DecodeOptions, DecodeStats, Decoder, Progress, RowStatus};
pub use encoder::{EncodeOptions, Encoder};
pub use rows::{changing_elements, fill_row};

/// Widest row the codecs accept (T.4 goes to 4864 pels for A3 at 400 dpi; TIFFs from
/// scanners can be wider).
pub const MAX_WIDTH: u32 = 65_535;

/// Longest page the decoder produces before it gives up (a hostile stream of all-white rows
/// in MMR costs one bit per row).
pub const DEFAULT_MAX_ROWS: u32 = 65_536;

/// The coding scheme of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// T.4 one-dimensional modified Huffman.
    Mh,
    /// T.4 two-dimensional modified READ: one 1-D row, then up to `k - 1` 2-D rows.
    /// T.4 uses K = 2 (standard resolution) or 4 (fine); any K ≥ 1 works. Decoders ignore K
    /// (each row's tag bit says how it is coded).
    Mr { k: u32 },
    /// T.6 modified modified READ (every row 2-D, no EOL, EOFB at the end).
    Mmr,
}

impl Coding {
    /// Short lowercase name: `mh`, `mr`, `mmr`.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Mh => "mh",
            Coding::Mr { .. } => "mr",
            Coding::Mmr => "mmr",
        }
    }
}

/// The order of bits within each byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BitOrder {
    /// First bit in the most significant bit (TIFF FillOrder 1).
    MsbFirst,
    /// First bit in the least significant bit: how T.4 data travels on the line and over
    /// HDLC/ECM (TIFF FillOrder 2).
    LsbFirst,
}

/// What went wrong in a coded page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No code word starts with these bits.
    InvalidCode,
    /// The runs add up to more than the row width.
    RunPastEndOfRow,
    /// An EOL (or fill) came before the row was complete.
    PrematureEol,
    /// A vertical mode put a1 outside the row or before a0.
    BadVerticalMode,
    /// An uncompressed-mode extension code (not supported).
    UncompressedMode,
    /// A 2-D row (MR tag bit 0) or a row without its EOL where the coding needs one.
    MissingEol,
    /// The data ended in the middle of a row or before the expected number of rows.
    Truncated,
    /// RTC or EOFB came before the number of rows the container declared.
    EndOfPageTooEarly { expected: u32 },
    /// The page grew past the row limit.
    TooManyRows { limit: u32 },
    /// The width is 0 or above [`MAX_WIDTH`].
    BadWidth { width: u32 },
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorKind::InvalidCode => write!(f, "invalid code word"),
            ErrorKind::RunPastEndOfRow => write!(f, "runs extend past the end of the row"),
            ErrorKind::PrematureEol => write!(f, "EOL before the row was complete"),
            ErrorKind::BadVerticalMode => write!(f, "vertical mode outside the row"),
            ErrorKind::UncompressedMode => write!(f, "uncompressed mode is not supported"),
            ErrorKind::MissingEol => write!(f, "row does not start with EOL"),
            ErrorKind::Truncated => write!(f, "data ends before the page is complete"),
            ErrorKind::EndOfPageTooEarly { expected } => {
                write!(
                    f,
                    "end of page (RTC/EOFB) before the {expected} rows declared"
                )
            }
            ErrorKind::TooManyRows { limit } => write!(f, "page longer than {limit} rows"),
            ErrorKind::BadWidth { width } => {
                write!(f, "width {width} is outside 1..={MAX_WIDTH}")
            }
        }
    }
}

/// A decoding error: what, in which row (0-based), at which bit of the page's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("row {row}, bit {bit}: {kind}")]
pub struct DecodeError {
    pub row: u32,
    pub bit: u64,
    pub kind: ErrorKind,
}

#[cfg(test)]
mod tests;
