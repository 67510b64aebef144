//! The embedded text font: DejaVu Sans Mono (regular and bold), rasterised by `ab_glyph` at the
//! fax's anisotropic resolution and thresholded to bilevel.
//!
//! The TrueType files `vectors/fonts/DejaVuSansMono.ttf` and `DejaVuSansMono-Bold.ttf` are
//! Debian's `fonts-dejavu-core` 2.37 files, unmodified; their licence (Bitstream Vera, DejaVu
//! changes in the public domain) is `vectors/fonts/LICENSE-DejaVu.txt` beside them; source and
//! sha256 are in `vectors/MANIFEST.md`. They cover Latin-1, Latin Extended-A/B, Greek,
//! Cyrillic, box drawing and the common symbols.
//!
//! **Anisotropic scaling.** A fax pel is not square: R8 is 204 dpi across, 98, 196 or 391 lines
//! per inch down (T.4 §2.2). A [`Rasteriser`] is made for one type size *on paper* — `em_x`
//! pels across and `em_y` scan lines down per em, each computed from the page's own pel pitch —
//! so a letter keeps its shape on paper at every resolution.
//!
//! **Bilevel.** The outline's coverage of each pel is thresholded: a pel is black when the
//! glyph covers at least [`THRESHOLD`] of it. Glyphs are placed on whole pels (the pen and the
//! baseline are integers), so every occurrence of a character is the same bitmap, cached per
//! rasteriser.
//!
//! **Missing glyphs.** A character the font lacks is drawn as U+FFFD (a visible, black
//! diamond with a question mark) and remembered: [`Rasteriser::missing`] lists them for the
//! caller to report. Nothing here panics on any input.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef, GlyphId, PxScale, point};
use softfax_dsp::image::Page;

static REGULAR_TTF: &[u8] = include_bytes!("../../vectors/fonts/DejaVuSansMono.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../vectors/fonts/DejaVuSansMono-Bold.ttf");

/// U+FFFD REPLACEMENT CHARACTER: drawn for characters the font lacks.
pub const REPLACEMENT: char = '\u{FFFD}';

/// A pel is inked when the outline covers at least this fraction of it. A little under one
/// half keeps one-pel horizontal strokes at standard resolution (98 lpi) from vanishing when
/// they straddle two scan lines.
pub const THRESHOLD: f32 = 0.42;

/// The most glyph bitmaps one rasteriser keeps (a hostile text can hold any code point).
const CACHE_MAX: usize = 4096;

/// Which of the two embedded faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// The parsed face (parsed once per process; the TrueType tables are read in place).
pub fn face(weight: Weight) -> &'static FontRef<'static> {
    static REGULAR: OnceLock<FontRef<'static>> = OnceLock::new();
    static BOLD: OnceLock<FontRef<'static>> = OnceLock::new();
    let (cell, data) = match weight {
        Weight::Regular => (&REGULAR, REGULAR_TTF),
        Weight::Bold => (&BOLD, BOLD_TTF),
    };
    cell.get_or_init(|| {
        FontRef::try_from_slice(data).expect("the embedded DejaVu Sans Mono parses (tested)")
    })
}

/// Does the face have a glyph of its own for `c` (not .notdef)?
pub fn has_glyph(weight: Weight, c: char) -> bool {
    face(weight).glyph_id(c) != GlyphId(0)
}

/// The advance of every glyph of the monospace face, in ems.
pub fn advance_em() -> f32 {
    let f = face(Weight::Regular);
    let upem = f.units_per_em().unwrap_or(2048.0);
    f.h_advance_unscaled(f.glyph_id('0')) / upem
}

/// Ascent and descent (positive, below the baseline) of the face, in ems.
pub fn extent_em() -> (f32, f32) {
    let f = face(Weight::Regular);
    let upem = f.units_per_em().unwrap_or(2048.0);
    (f.ascent_unscaled() / upem, -f.descent_unscaled() / upem)
}

/// One glyph as black pels, placed relative to the pen position on the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// Offset of the bitmap's left column from the pen, and of its top row from the baseline
    /// (negative: above it).
    pub left: i32,
    pub top: i32,
    pub width: u32,
    pub height: u32,
    /// `width × height` pels, row by row, true = black.
    pub ink: Vec<bool>,
}

impl Bitmap {
    fn empty() -> Bitmap {
        Bitmap {
            left: 0,
            top: 0,
            width: 0,
            height: 0,
            ink: Vec::new(),
        }
    }

    /// Black pels in the bitmap.
    pub fn black(&self) -> usize {
        self.ink.iter().filter(|&&b| b).count()
    }

    /// Is the pel at (x, y) of the bitmap black?
    pub fn pel(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.ink[(y * self.width + x) as usize]
    }
}

/// Rasterises one face at one size, caching the bitmaps it made.
pub struct Rasteriser {
    weight: Weight,
    scale: PxScale,
    cache: HashMap<char, Rc<Bitmap>>,
    missing: BTreeSet<char>,
}

impl std::fmt::Debug for Rasteriser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rasteriser")
            .field("weight", &self.weight)
            .field("scale", &self.scale)
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Rasteriser {
    /// A rasteriser drawing an em `em_x` pels wide and `em_y` scan lines high.
    pub fn new(weight: Weight, em_x: f32, em_y: f32) -> Rasteriser {
        let f = face(weight);
        let upem = f.units_per_em().unwrap_or(2048.0);
        // ab_glyph's PxScale is the face's ascent − descent in pels, not the em.
        let h = f.height_unscaled() / upem;
        Rasteriser {
            weight,
            scale: PxScale {
                x: (em_x * h).max(0.1),
                y: (em_y * h).max(0.1),
            },
            cache: HashMap::new(),
            missing: BTreeSet::new(),
        }
    }

    /// The characters asked for that the font lacks (drawn as U+FFFD).
    pub fn missing(&self) -> &BTreeSet<char> {
        &self.missing
    }

    /// The bitmap of `c`; U+FFFD for a character the font lacks (recorded in
    /// [`missing`](Self::missing)).
    pub fn glyph(&mut self, c: char) -> Rc<Bitmap> {
        if let Some(b) = self.cache.get(&c) {
            return b.clone();
        }
        let f = face(self.weight);
        let mut id = f.glyph_id(c);
        if id == GlyphId(0) && !c.is_whitespace() {
            if self.missing.len() < CACHE_MAX {
                self.missing.insert(c);
            }
            id = f.glyph_id(REPLACEMENT);
        }
        let b = Rc::new(self.rasterise(id));
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        self.cache.insert(c, b.clone());
        b
    }

    fn rasterise(&self, id: GlyphId) -> Bitmap {
        let f = face(self.weight);
        let glyph = id.with_scale_and_position(self.scale, point(0.0, 0.0));
        let Some(outlined) = f.outline_glyph(glyph) else {
            return Bitmap::empty();
        };
        let r = outlined.px_bounds();
        let (width, height) = (r.width().max(0.0) as u32, r.height().max(0.0) as u32);
        let mut ink = vec![false; (width * height) as usize];
        outlined.draw(|x, y, cov| {
            if x < width && y < height && cov >= THRESHOLD {
                ink[(y * width + x) as usize] = true;
            }
        });
        Bitmap {
            left: r.min.x as i32,
            top: r.min.y as i32,
            width,
            height,
            ink,
        }
    }

    /// Draw `c` with the pen at `x` on the baseline `baseline`; pels off the page are clipped.
    pub fn draw(&mut self, page: &mut Page, c: char, x: u32, baseline: u32) {
        let g = self.glyph(c);
        draw_bitmap(page, &g, i64::from(x), i64::from(baseline));
    }
}

/// Ink `g` into `page` with the pen at (x, baseline).
pub fn draw_bitmap(page: &mut Page, g: &Bitmap, x: i64, baseline: i64) {
    let (pw, ph) = (i64::from(page.width), i64::from(page.height));
    for gy in 0..g.height {
        let py = baseline + i64::from(g.top) + i64::from(gy);
        if py < 0 || py >= ph {
            continue;
        }
        let row = page.row_mut(py as u32);
        let ink = &g.ink[(gy * g.width) as usize..][..g.width as usize];
        for (gx, _) in ink.iter().enumerate().filter(|(_, b)| **b) {
            let px = x + i64::from(g.left) + gx as i64;
            if (0..pw).contains(&px) {
                row[px as usize / 8] |= 0x80 >> (px % 8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_parse_and_cover_the_scripts() {
        for w in [Weight::Regular, Weight::Bold] {
            for c in [
                'A',
                'z',
                '0',
                'é',
                'ß',
                'ÿ',
                '€',
                'Ł',
                'ő',
                'Ж',
                'я',
                'Ω',
                'ς',
                '─',
                REPLACEMENT,
            ] {
                assert!(has_glyph(w, c), "{w:?} {c:?} missing");
            }
            assert!(!has_glyph(w, '中'));
        }
        // Monospace: 1233/2048 em; ascent + descent 2384/2048.
        assert!((advance_em() - 0.602).abs() < 0.001, "{}", advance_em());
        let (a, d) = extent_em();
        assert!((a + d - 1.164).abs() < 0.001, "{a} {d}");
    }

    #[test]
    fn glyphs_keep_their_shape_at_anisotropic_scales() {
        // 'O' at 28 pels across, 28 and 14 lines down: the bitmap halves in height only.
        let mut fine = Rasteriser::new(Weight::Regular, 28.0, 28.0);
        let mut std = Rasteriser::new(Weight::Regular, 28.0, 14.0);
        let (a, b) = (fine.glyph('O'), std.glyph('O'));
        assert_eq!(a.width, b.width);
        assert!(
            a.height.abs_diff(2 * b.height) <= 2,
            "{} {}",
            a.height,
            b.height
        );
        // Cap height about 0.73 em above the baseline.
        assert!((-a.top - 20).abs() <= 2, "{}", a.top);
        // 'g' descends below the baseline, '-' has ink, ' ' none.
        let g = fine.glyph('g');
        assert!(g.top + g.height as i32 > 3);
        assert!(fine.glyph('-').black() > 10);
        assert_eq!(fine.glyph(' ').black(), 0);
        assert!(fine.missing().is_empty());
    }

    #[test]
    fn missing_characters_draw_the_replacement_and_are_recorded() {
        let mut r = Rasteriser::new(Weight::Regular, 28.0, 28.0);
        let fallback = r.glyph('中');
        assert_eq!(*fallback, *r.glyph(REPLACEMENT));
        assert!(fallback.black() > 50);
        assert_eq!(r.missing().iter().copied().collect::<Vec<_>>(), vec!['中']);
        // Odd code points, tiny and zero sizes: no panic.
        let mut tiny = Rasteriser::new(Weight::Bold, 0.0, 0.0);
        for c in ['\u{0}', '\u{10FFFF}', '\u{E000}', 'W'] {
            let mut page = Page::new(64, 8, softfax_dsp::image::Resolution::FINE);
            let _ = tiny.glyph(c);
            r.draw(&mut page, c, 60, 4);
        }
    }
}
