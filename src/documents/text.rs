//! text/plain → fax pages, with the embedded 9x15 font.
//!
//! **Size.** The font's 9 × 15 pel cell is drawn with each pel doubled horizontally at R8
//! (204 dpi: 18 pels = 2.24 mm) and one scan line per font row at standard resolution (98 lpi:
//! 15 lines = 3.9 mm ≈ 11 pt), two at fine, four at superfine: the cell has the same size and
//! proportions at every resolution. 80 columns take 1440 of the 1728 pels (179 mm), centred,
//! leaving 18 mm margins; top and bottom margins are 12 mm: 70 lines on A4, 65 on Letter
//! (a typewriter page has 66).
//!
//! **Layout rules.** CR LF, LF, CR, U+2028 and U+2029 end a line; a tab advances to the next
//! multiple of 8 columns; a form feed (U+000C) starts a new page (several in a row do not make
//! blank pages); a line longer than 80 columns wraps at its last space when that lies in the
//! second half of the line, else exactly at column 80; other control characters, combining marks
//! and zero-width characters take no cell; a character the font lacks is drawn as U+FFFD.
//! Blank lines at the end of a part and before a form feed are dropped, and a part with no
//! visible character makes no page at all.

use softfax_dsp::image::Page;

use super::font::{Font, Glyph};
use super::{Budget, DocumentError, Geometry, MediaKind};

/// Columns of text per line.
pub const COLUMNS: u32 = 80;
/// Tab stops every this many columns.
pub const TAB: usize = 8;
/// Top and bottom margin.
pub const MARGIN_MM: f64 = 12.0;

/// Where and how big text is drawn on a page of some geometry.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    pub font: Font,
    /// Pels per font pel, horizontally and vertically.
    pub sx: u32,
    pub sy: u32,
    /// Cell size in pels.
    pub cell_w: u32,
    pub cell_h: u32,
    /// Left edge of column 0, top of line 0.
    pub left: u32,
    pub top: u32,
    /// Columns per line and lines per page.
    pub columns: u32,
    pub lines: u32,
}

impl TextStyle {
    pub fn new(geom: &Geometry) -> TextStyle {
        let font = Font::fixed_9x15();
        // 204 dpi → 2, 408 → 4; 98 lpi → 1, 196 → 2, 391 → 4.
        let sx = ((geom.resolution.x_dpi / 102.0).round() as u32).max(1);
        let sy = ((geom.resolution.y_dpi / 98.0).round() as u32).max(1);
        let cell_w = font.width * sx;
        let cell_h = font.height * sy;
        let columns = COLUMNS.min(geom.width / cell_w).max(1);
        let left = geom.width.saturating_sub(columns * cell_w) / 2;
        let top = (MARGIN_MM * geom.y_per_mm).round() as u32;
        let lines = (geom.length.saturating_sub(2 * top) / cell_h).max(1);
        TextStyle {
            font,
            sx,
            sy,
            cell_w,
            cell_h,
            left,
            top,
            columns,
            lines,
        }
    }
}

/// Ink `glyph` into `page` with its cell's top-left corner at (x, y), each font pel drawn as
/// `sx × sy` pels. Pels outside the page are clipped.
pub fn draw_glyph(
    page: &mut Page,
    glyph: Glyph<'_>,
    font: &Font,
    x: u32,
    y: u32,
    sx: u32,
    sy: u32,
) {
    let width = page.width;
    for gy in 0..font.height {
        let mask = glyph.row_mask(gy);
        if mask == 0 {
            continue;
        }
        for gx in 0..font.width {
            if mask & (0x8000_0000 >> gx) == 0 {
                continue;
            }
            for dy in 0..sy {
                let py = y + gy * sy + dy;
                if py >= page.height {
                    break;
                }
                let row = page.row_mut(py);
                for dx in 0..sx {
                    let px = x + gx * sx + dx;
                    if px < width {
                        row[px as usize / 8] |= 0x80 >> (px % 8);
                    }
                }
            }
        }
    }
}

/// Draw `s` from (x, y) in cells of `font.width·sx × font.height·sy`; returns the x after the
/// last character.
pub fn draw_str(page: &mut Page, font: &Font, s: &str, x: u32, y: u32, sx: u32, sy: u32) -> u32 {
    let mut x = x;
    for c in s.chars().filter(|&c| !ignorable(c)) {
        if x >= page.width {
            break;
        }
        let c = if c.is_control() { ' ' } else { c };
        draw_glyph(page, font.glyph_or_replacement(c), font, x, y, sx, sy);
        x += font.width * sx;
    }
    x
}

/// Characters that take no cell: controls (the ones the layout uses are handled before),
/// combining marks, zero-width and format characters, variation selectors.
pub fn ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x1F | 0x7F..=0x9F
        | 0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0xFEFF
        | 0xE0000..=0xE007F)
}

/// Lays out lines of cells onto pages.
struct Pager<'a> {
    geom: &'a Geometry,
    style: TextStyle,
    budget: &'a mut Budget,
    out: &'a mut Vec<Page>,
    page: Option<Page>,
    line: u32,
    /// Blank lines seen but not yet placed (dropped at a page break or the end).
    pending_blank: u32,
    pages_made: usize,
}

impl Pager<'_> {
    fn emit(&mut self, cells: &[char]) -> Result<(), DocumentError> {
        if cells.iter().all(|&c| c == ' ') {
            self.pending_blank = self.pending_blank.saturating_add(1);
            return Ok(());
        }
        while self.pending_blank > 0 {
            self.pending_blank -= 1;
            self.place(&[])?;
        }
        self.place(cells)
    }

    fn place(&mut self, cells: &[char]) -> Result<(), DocumentError> {
        if self.page.is_none() {
            self.budget.take_page(MediaKind::Text)?;
            self.page = Some(self.geom.blank_page());
            self.line = 0;
            self.pages_made += 1;
        }
        let st = self.style;
        let page = self.page.as_mut().expect("just made");
        let y = st.top + self.line * st.cell_h;
        for (i, &c) in cells.iter().enumerate() {
            if c != ' ' {
                let x = st.left + i as u32 * st.cell_w;
                draw_glyph(
                    page,
                    st.font.glyph_or_replacement(c),
                    &st.font,
                    x,
                    y,
                    st.sx,
                    st.sy,
                );
            }
        }
        self.line += 1;
        if self.line >= st.lines {
            self.out.push(self.page.take().expect("page in progress"));
        }
        Ok(())
    }

    fn page_break(&mut self) {
        self.pending_blank = 0;
        if let Some(p) = self.page.take() {
            self.out.push(p);
        }
    }

    fn finish(mut self) -> usize {
        self.page_break();
        self.pages_made
    }
}

/// Render `text` onto new pages appended to `out`; returns how many pages it made (0 for a
/// text with nothing visible).
pub fn render_text(
    text: &str,
    geom: &Geometry,
    budget: &mut Budget,
    out: &mut Vec<Page>,
) -> Result<usize, DocumentError> {
    let style = TextStyle::new(geom);
    let cols = style.columns as usize;
    let mut pager = Pager {
        geom,
        style,
        budget,
        out,
        page: None,
        line: 0,
        pending_blank: 0,
        pages_made: 0,
    };
    let mut line: Vec<char> = Vec::with_capacity(cols);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                pager.emit(&line)?;
                line.clear();
            }
            '\n' | '\u{2028}' | '\u{2029}' => {
                pager.emit(&line)?;
                line.clear();
            }
            '\x0c' => {
                if !line.is_empty() {
                    pager.emit(&line)?;
                    line.clear();
                }
                pager.page_break();
            }
            '\t' => {
                let n = TAB - line.len() % TAB;
                if line.len() + n >= cols {
                    pager.emit(&line)?;
                    line.clear();
                } else {
                    line.extend(std::iter::repeat_n(' ', n));
                }
            }
            c if ignorable(c) => {}
            c => {
                if line.len() >= cols {
                    if c == ' ' {
                        pager.emit(&line)?;
                        line.clear();
                        continue;
                    }
                    match line.iter().rposition(|&x| x == ' ') {
                        Some(i) if i >= cols / 2 => {
                            let rest: Vec<char> = line[i + 1..].to_vec();
                            line.truncate(i);
                            pager.emit(&line)?;
                            line = rest;
                        }
                        _ => {
                            pager.emit(&line)?;
                            line.clear();
                        }
                    }
                }
                line.push(c);
            }
        }
    }
    pager.emit(&line)?;
    Ok(pager.finish())
}
