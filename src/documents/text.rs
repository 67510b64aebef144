//! text/plain → fax pages, set in the embedded DejaVu Sans Mono ([`super::font`]).
//!
//! **Size.** 10 pt type on 11.8 pt lines, the same on paper at every resolution: a cell is
//! 17 pels across at R8 (204 dpi: 2.12 mm, 0.602 em) and 16, 32 or 64 scan lines down at
//! standard, fine or superfine (4.16 mm); the em is drawn 28.2 pels across and 13.5, 27.1 or
//! 54.1 lines down, so letters keep their shape on paper. 80 columns take 1360 of the 1728
//! pels (169 mm), centred (23 mm each side of the scan line); top and bottom margins are
//! 12 mm: 65 lines on A4, 61 on Letter.
//!
//! **Layout rules.** CR LF, LF, CR, U+2028 and U+2029 end a line; a tab advances to the next
//! multiple of 8 columns; a form feed (U+000C) starts a new page (several in a row do not make
//! blank pages); a line longer than 80 columns wraps after its last space (the spaces at the
//! break are dropped), and a word longer than the whole line is broken at column 80; other
//! control characters, combining marks and zero-width characters take no cell; a character the
//! font lacks is drawn as U+FFFD and logged. A page holds as many lines as fit between the
//! margins, then the text goes on on a new page. Blank lines at the end of a part and before a
//! form feed are dropped, and a part with no visible character makes no page at all.

use softfax_dsp::image::Page;

use super::font::{self, Rasteriser, Weight};
use super::{Budget, DocumentError, Geometry, MediaKind};

/// Columns of text per line.
pub const COLUMNS: u32 = 80;
/// Tab stops every this many columns.
pub const TAB: usize = 8;
/// Top and bottom margin.
pub const MARGIN_MM: f64 = 12.0;
/// Type size of text parts, in points (1/72 in).
pub const TEXT_PT: f64 = 10.0;
/// Line pitch as a multiple of the type size.
pub const LEADING: f64 = 1.18;

/// Where and how big text is drawn on a page of some geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStyle {
    /// The em in pels across and scan lines down.
    pub em_x: f32,
    pub em_y: f32,
    /// Cell (advance × line pitch) in pels.
    pub cell_w: u32,
    pub cell_h: u32,
    /// The baseline's distance from the top of a cell.
    pub baseline: u32,
    /// Left edge of column 0, top of line 0.
    pub left: u32,
    pub top: u32,
    /// Columns per line and lines per page.
    pub columns: u32,
    pub lines: u32,
}

impl TextStyle {
    /// The text-part style: [`TEXT_PT`], at most [`COLUMNS`] columns, centred.
    pub fn new(geom: &Geometry) -> TextStyle {
        TextStyle::sized(geom, TEXT_PT, COLUMNS)
    }

    /// `pt`-point type, at most `max_columns` columns centred on the scan line.
    pub fn sized(geom: &Geometry, pt: f64, max_columns: u32) -> TextStyle {
        let mm = pt * 25.4 / 72.0;
        let advance = f64::from(font::advance_em());
        let cell_w = ((mm * advance * geom.x_per_mm).round() as u32).max(1);
        // The em across that makes the advance exactly `cell_w`; the same length down.
        let em_x = f64::from(cell_w) / advance;
        let em_y = em_x / geom.x_per_mm * geom.y_per_mm;
        let cell_h = ((mm * LEADING * geom.y_per_mm).round() as u32).max(1);
        let (asc, desc) = font::extent_em();
        let spare = f64::from(cell_h) - f64::from(asc + desc) * em_y;
        let baseline = (spare / 2.0 + f64::from(asc) * em_y).round().max(0.0) as u32;
        let columns = max_columns.min(geom.width / cell_w).max(1);
        let left = geom.width.saturating_sub(columns * cell_w) / 2;
        let top = (MARGIN_MM * geom.y_per_mm).round() as u32;
        let lines = (geom.length.saturating_sub(2 * top) / cell_h).max(1);
        TextStyle {
            em_x: em_x as f32,
            em_y: em_y as f32,
            cell_w,
            cell_h,
            baseline: baseline.min(cell_h),
            left,
            top,
            columns,
            lines,
        }
    }

    /// A rasteriser of `weight` at this style's size.
    pub fn rasteriser(&self, weight: Weight) -> Rasteriser {
        Rasteriser::new(weight, self.em_x, self.em_y)
    }
}

/// Draw `s` one character per `cell_w` from x, the top of its cell at `y` (`baseline` below
/// it); returns the x after the last character. Stops at the page's edge.
pub fn draw_str(
    page: &mut Page,
    ras: &mut Rasteriser,
    s: &str,
    x: u32,
    baseline: u32,
    cell_w: u32,
) -> u32 {
    let mut x = x;
    for c in s.chars().filter(|&c| !ignorable(c)) {
        if x >= page.width {
            break;
        }
        if !c.is_whitespace() && !c.is_control() {
            ras.draw(page, c, x, baseline);
        }
        x += cell_w;
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

/// What the line breaker hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// One line of at most `columns` cells.
    Text(Vec<char>),
    /// A form feed.
    PageBreak,
}

/// Break `text` into lines of at most `cols` cells (the layout rules of the module doc, page
/// splitting aside), handing each to `sink` as it is made.
pub fn break_lines<E>(
    text: &str,
    cols: usize,
    mut sink: impl FnMut(Line) -> Result<(), E>,
) -> Result<(), E> {
    let cols = cols.max(1);
    let mut line: Vec<char> = Vec::with_capacity(cols);
    // After a wrap, spaces that would start the continuation line are dropped.
    let mut wrapped = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' | '\u{2028}' | '\u{2029}' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                sink(Line::Text(std::mem::take(&mut line)))?;
                wrapped = false;
            }
            '\x0c' => {
                if !line.is_empty() {
                    sink(Line::Text(std::mem::take(&mut line)))?;
                }
                sink(Line::PageBreak)?;
                wrapped = false;
            }
            '\t' => {
                if wrapped && line.is_empty() {
                    continue;
                }
                let n = TAB - line.len() % TAB;
                if line.len() + n >= cols {
                    sink(Line::Text(std::mem::take(&mut line)))?;
                    wrapped = true;
                } else {
                    line.extend(std::iter::repeat_n(' ', n));
                }
            }
            c if ignorable(c) => {}
            ' ' if wrapped && line.is_empty() => {}
            c => {
                if line.len() >= cols {
                    wrapped = true;
                    if c == ' ' {
                        sink(Line::Text(std::mem::take(&mut line)))?;
                        continue;
                    }
                    // The last space that follows some text (indentation is no break).
                    let first_ink = line.iter().position(|&x| x != ' ').unwrap_or(line.len());
                    match line.iter().rposition(|&x| x == ' ') {
                        Some(i) if i > first_ink => {
                            let rest: Vec<char> = line[i + 1..].to_vec();
                            line.truncate(i);
                            while line.last() == Some(&' ') {
                                line.pop();
                            }
                            sink(Line::Text(std::mem::replace(&mut line, rest)))?;
                        }
                        _ => sink(Line::Text(std::mem::take(&mut line)))?,
                    }
                }
                line.push(c);
            }
        }
    }
    if !line.is_empty() {
        sink(Line::Text(line))?;
    }
    Ok(())
}

/// Lays out lines of cells onto pages.
struct Pager<'a> {
    geom: &'a Geometry,
    style: TextStyle,
    ras: Rasteriser,
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
        let baseline = st.top + self.line * st.cell_h + st.baseline;
        for (i, &c) in cells.iter().enumerate() {
            if c != ' ' {
                self.ras
                    .draw(page, c, st.left + i as u32 * st.cell_w, baseline);
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
        let missing = self.ras.missing();
        if !missing.is_empty() {
            let list: String = missing.iter().take(40).collect();
            tracing::warn!(
                count = missing.len(),
                characters = %list,
                "the font lacks these characters: drawn as U+FFFD"
            );
        }
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
    let mut pager = Pager {
        geom,
        style,
        ras: style.rasteriser(Weight::Regular),
        budget,
        out,
        page: None,
        line: 0,
        pending_blank: 0,
        pages_made: 0,
    };
    break_lines(text, style.columns as usize, |l| match l {
        Line::Text(cells) => pager.emit(&cells),
        Line::PageBreak => {
            pager.page_break();
            Ok(())
        }
    })?;
    Ok(pager.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::Paper;
    use softfax_dsp::image::Resolution;

    fn lines(text: &str, cols: usize) -> Vec<String> {
        let mut v = Vec::new();
        break_lines::<()>(text, cols, |l| {
            v.push(match l {
                Line::Text(c) => c.into_iter().collect(),
                Line::PageBreak => "<FF>".into(),
            });
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn words_wrap_at_spaces_and_long_words_break() {
        assert_eq!(lines("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(lines("aaa bbbb", 5), ["aaa", "bbbb"]);
        // Spaces at the break are dropped, not carried.
        assert_eq!(lines("aaaaa   bb", 5), ["aaaaa", "bb"]);
        assert_eq!(
            lines("a bbbbbbbbbbbb c", 5),
            ["a", "bbbbb", "bbbbb", "bb c"]
        );
        assert_eq!(lines("abcdefghijk", 4), ["abcd", "efgh", "ijk"]);
        // Indentation is not a break point.
        assert_eq!(lines("    abcdefgh", 6), ["    ab", "cdefgh"]);
        // A word ending exactly at the margin.
        assert_eq!(lines("abcde fgh", 5), ["abcde", "fgh"]);
    }

    #[test]
    fn line_ends_tabs_form_feeds_and_invisibles() {
        assert_eq!(
            lines("a\r\nb\rc\nd\u{2028}e", 10),
            ["a", "b", "c", "d", "e"]
        );
        assert_eq!(lines("\tx\ty", 20), ["        x       y"]);
        assert_eq!(lines("abcdef\tx", 8), ["abcdef", "x"]);
        assert_eq!(lines("one\x0ctwo", 10), ["one", "<FF>", "two"]);
        assert_eq!(lines("e\u{301}\u{200b}x\u{7}", 10), ["ex"]);
        assert_eq!(lines("", 10), Vec::<String>::new());
    }

    #[test]
    fn sizes_on_paper_are_the_same_at_every_resolution() {
        let mut seen = Vec::new();
        for res in [
            Resolution::STANDARD,
            Resolution::FINE,
            Resolution::SUPERFINE,
        ] {
            let g = Geometry::new(res, Paper::A4).unwrap();
            let st = TextStyle::new(&g);
            assert_eq!((st.cell_w, st.columns, st.left), (17, 80, 184), "{res:?}");
            // The em is as long down as across, on paper.
            let across = f64::from(st.em_x) / g.x_per_mm;
            let down = f64::from(st.em_y) / g.y_per_mm;
            assert!((across - down).abs() < 1e-3 && (across - 3.51).abs() < 0.01);
            seen.push((st.cell_h, st.lines));
        }
        assert_eq!(seen, [(16, 65), (32, 65), (64, 65)]);
        let letter = Geometry::new(Resolution::FINE, Paper::Letter).unwrap();
        assert_eq!(TextStyle::new(&letter).lines, 61);
    }

    #[test]
    fn pages_split_by_height() {
        let g = Geometry::new(Resolution::STANDARD, Paper::A4).unwrap();
        let st = TextStyle::new(&g);
        let text = "x\n".repeat(st.lines as usize * 2 + 3);
        let mut out = Vec::new();
        let n = render_text(&text, &g, &mut Budget::new(), &mut out).unwrap();
        assert_eq!((n, out.len()), (3, 3));
        // A form feed right at a page's end makes no blank page; trailing blank lines none.
        let text = format!("{}\x0c\n\n\x0cy\n\n\n", "x\n".repeat(st.lines as usize));
        let mut out = Vec::new();
        assert_eq!(
            render_text(&text, &g, &mut Budget::new(), &mut out).unwrap(),
            2
        );
    }
}
