//! Bilevel pages as the fax codecs see them.
//!
//! A [`Page`] holds packed rows: each row is `width.div_ceil(8)` bytes, the first pel in the
//! most significant bit, **1 = black** (the PBM and TIFF min-is-white convention). Pad bits at
//! the end of a row are always 0.

/// Horizontal and vertical resolution in dots per inch (fax: 204 × 98/196/391, or 200/300/400).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    pub x_dpi: f32,
    pub y_dpi: f32,
}

impl Resolution {
    /// T.4 standard resolution: 8 pels/mm × 3.85 lines/mm.
    pub const STANDARD: Resolution = Resolution {
        x_dpi: 204.0,
        y_dpi: 98.0,
    };
    /// T.4 fine resolution: 8 pels/mm × 7.7 lines/mm.
    pub const FINE: Resolution = Resolution {
        x_dpi: 204.0,
        y_dpi: 196.0,
    };
    /// T.4 superfine resolution: 8 pels/mm × 15.4 lines/mm.
    pub const SUPERFINE: Resolution = Resolution {
        x_dpi: 204.0,
        y_dpi: 391.0,
    };
}

/// What the decoder found wrong with a page that came in with errors (TIFF BadFaxLines,
/// CleanFaxData, ConsecutiveBadFaxLines).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageQuality {
    /// Rows that failed to decode and were replaced by the previous row.
    pub bad_rows: u32,
    /// The longest run of consecutive bad rows.
    pub max_consecutive_bad_rows: u32,
}

/// One bilevel page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub width: u32,
    pub height: u32,
    pub resolution: Resolution,
    /// `height` rows of `stride()` bytes, MSB = leftmost pel, 1 = black.
    pub data: Vec<u8>,
    /// Set when the page was received or decoded with errors (rows regenerated).
    pub quality: Option<PageQuality>,
}

impl Page {
    /// A white page.
    pub fn new(width: u32, height: u32, resolution: Resolution) -> Page {
        let stride = (width as usize).div_ceil(8);
        Page {
            width,
            height,
            resolution,
            data: vec![0; stride * height as usize],
            quality: None,
        }
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        (self.width as usize).div_ceil(8)
    }

    /// Row `y` as packed bytes.
    pub fn row(&self, y: u32) -> &[u8] {
        let s = self.stride();
        &self.data[y as usize * s..(y as usize + 1) * s]
    }

    /// Row `y`, writable.
    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let s = self.stride();
        &mut self.data[y as usize * s..(y as usize + 1) * s]
    }

    /// The pel at (x, y): true = black.
    pub fn pel(&self, x: u32, y: u32) -> bool {
        self.row(y)[x as usize / 8] & (0x80 >> (x % 8)) != 0
    }

    /// Clear the pad bits after the last pel of every row (so pages compare by bytes).
    pub fn clear_padding(&mut self) {
        let rem = self.width % 8;
        if rem == 0 || self.width == 0 {
            return;
        }
        let mask = 0xFFu8 << (8 - rem);
        let s = self.stride();
        for row in self.data.chunks_exact_mut(s) {
            row[s - 1] &= mask;
        }
    }
}
