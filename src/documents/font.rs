//! The embedded monospace bitmap font: X11 misc-fixed 9x15 (ISO10646-1), public domain.
//!
//! The glyph table `vectors/fonts/misc-fixed-9x15.sfxf` is generated from Debian's
//! `xfonts-base` (`/usr/share/fonts/X11/misc/9x15.pcf.gz`, through `pcf2bdf`) by
//! `vectors/fonts/make_font.py`; source, licence and sha256 are in `vectors/MANIFEST.md`.
//! Layout: `b"SFXF"`, cell width, cell height, ascent, bytes per row (one byte each), a u32 LE
//! glyph count, then per glyph (sorted by code point) a u32 LE code point and `height ×
//! bytes_per_row` bitmap bytes, MSB = leftmost pel, 1 = ink, drawn into the whole cell. Lookups
//! binary-search the table in place: nothing is parsed or allocated at start-up.

static DATA: &[u8] = include_bytes!("../../vectors/fonts/misc-fixed-9x15.sfxf");

/// U+FFFD REPLACEMENT CHARACTER: drawn for characters the font lacks.
pub const REPLACEMENT: char = '\u{FFFD}';

/// The font: a fixed cell of `width × height` pels.
#[derive(Debug, Clone, Copy)]
pub struct Font {
    data: &'static [u8],
    pub width: u32,
    pub height: u32,
    pub ascent: u32,
    bytes_per_row: usize,
    count: usize,
}

const HEADER: usize = 12;

impl Font {
    /// The embedded 9x15 font.
    pub fn fixed_9x15() -> Font {
        Font::from_table(DATA).expect("the embedded font table is well formed (tested)")
    }

    /// Read a table in the `.sfxf` layout; `None` if it is malformed.
    pub fn from_table(data: &'static [u8]) -> Option<Font> {
        if data.get(..4)? != b"SFXF" {
            return None;
        }
        let (width, height, ascent, bpr) = (data[4], data[5], data[6], data[7]);
        let count = u32::from_le_bytes(data.get(8..12)?.try_into().ok()?) as usize;
        if width == 0 || height == 0 || bpr as u32 != u32::from(width).div_ceil(8) || bpr > 4 {
            return None;
        }
        let f = Font {
            data,
            width: width.into(),
            height: height.into(),
            ascent: ascent.into(),
            bytes_per_row: bpr.into(),
            count,
        };
        (data.len() == HEADER + count * f.entry_len()).then_some(f)
    }

    fn entry_len(&self) -> usize {
        4 + self.height as usize * self.bytes_per_row
    }

    fn code_point(&self, i: usize) -> u32 {
        let o = HEADER + i * self.entry_len();
        u32::from_le_bytes(self.data[o..o + 4].try_into().unwrap())
    }

    /// The bitmap of `c` (rows of `bytes_per_row` bytes), if the font has it.
    pub fn glyph(&self, c: char) -> Option<Glyph<'static>> {
        let cp = c as u32;
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.code_point(mid).cmp(&cp) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let o = HEADER + mid * self.entry_len() + 4;
                    return Some(Glyph {
                        bits: &self.data[o..o + self.height as usize * self.bytes_per_row],
                        bytes_per_row: self.bytes_per_row,
                    });
                }
            }
        }
        None
    }

    /// The glyph of `c`, or the replacement glyph.
    pub fn glyph_or_replacement(&self, c: char) -> Glyph<'static> {
        self.glyph(c)
            .or_else(|| self.glyph(REPLACEMENT))
            .or_else(|| self.glyph('?'))
            .expect("the font has U+FFFD and '?'")
    }

    /// Number of glyphs in the table.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if the table holds no glyph.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// One glyph's bitmap.
#[derive(Debug, Clone, Copy)]
pub struct Glyph<'a> {
    bits: &'a [u8],
    bytes_per_row: usize,
}

impl Glyph<'_> {
    /// Is the pel at (x, y) of the cell inked?
    pub fn ink(&self, x: u32, y: u32) -> bool {
        let b = self.bits[y as usize * self.bytes_per_row + x as usize / 8];
        b & (0x80 >> (x % 8)) != 0
    }

    /// Row `y` as a left-aligned bit mask (bit 31 = leftmost pel).
    pub fn row_mask(&self, y: u32) -> u32 {
        let row = &self.bits[y as usize * self.bytes_per_row..][..self.bytes_per_row];
        row.iter()
            .enumerate()
            .fold(0u32, |m, (i, &b)| m | u32::from(b) << (24 - 8 * i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed_and_sorted() {
        let f = Font::fixed_9x15();
        assert_eq!((f.width, f.height, f.ascent), (9, 15, 12));
        assert!(f.len() > 3000);
        for i in 1..f.len() {
            assert!(f.code_point(i - 1) < f.code_point(i));
        }
        for c in [' ', 'A', 'z', 'é', 'ß', '€', 'Ж', 'Ω', '─', REPLACEMENT] {
            assert!(f.glyph(c).is_some(), "{c:?} missing");
        }
        assert!(f.glyph('中').is_none());
    }

    #[test]
    fn glyph_shapes() {
        let f = Font::fixed_9x15();
        let space = f.glyph(' ').unwrap();
        assert!((0..15).all(|y| space.row_mask(y) == 0));
        // 'I' has ink on the centre column through its height, and nothing in the descender.
        let i = f.glyph('I').unwrap();
        let ink_rows: Vec<u32> = (0..15).filter(|&y| i.ink(4, y)).collect();
        assert!(ink_rows.len() >= 8, "{ink_rows:?}");
        assert!(ink_rows.iter().all(|&y| y < f.ascent));
        // 'g' descends below the baseline.
        let g = f.glyph('g').unwrap();
        assert!((f.ascent..15).any(|y| g.row_mask(y) != 0));
        // Unknown characters fall back to U+FFFD.
        let r = f.glyph_or_replacement('中');
        let rep = f.glyph(REPLACEMENT).unwrap();
        assert!((0..15).all(|y| r.row_mask(y) == rep.row_mask(y)));
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(Font::from_table(b"").is_none());
        assert!(Font::from_table(b"SFXF\x09\x0f\x0c\x02\x01\x00\x00\x00").is_none());
        assert!(Font::from_table(b"XXXX\x09\x0f\x0c\x02\x00\x00\x00\x00").is_none());
        assert!(Font::from_table(b"SFXF\x09\x0f\x0c\x02\x00\x00\x00\x00").is_some());
    }
}
