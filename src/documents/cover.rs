//! The generated cover page: a large "FAX" title, then To, From, Subject, Date, Pages (the
//! cover included) and the gateway, in the text font; a rule under the title and one at the
//! end. Values longer than a line wrap under their label; every value is cut at 6 lines.

use softfax_dsp::image::Page;

use super::text::{TextStyle, draw_str};
use super::{Geometry, ignorable_str};

/// What the cover page says.
#[derive(Debug, Clone, Default)]
pub struct CoverInfo {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub date: String,
    /// Pages of the whole fax, this cover included.
    pub pages: usize,
    pub gateway_id: String,
}

/// Render the cover page.
pub fn render_cover(info: &CoverInfo, geom: &Geometry) -> Page {
    let st = TextStyle::new(geom);
    let font = st.font;
    let mut page = geom.blank_page();
    let mut y = st.top;
    // Title: each font pel 4 cells' pels wide/high.
    let (tx, ty) = (st.sx * 4, st.sy * 4);
    draw_str(&mut page, &font, "FAX", st.left, y, tx, ty);
    y += font.height * ty + st.cell_h;
    rule(
        &mut page,
        st.left,
        st.left + st.columns * st.cell_w,
        y,
        st.sy * 2,
    );
    y += st.cell_h * 2;

    let label_cols = 10u32;
    let value_cols = st.columns.saturating_sub(label_cols).max(1) as usize;
    let pages = if info.pages == 1 {
        "1 (this cover page only)".to_string()
    } else {
        format!("{} (including this cover page)", info.pages)
    };
    let fields = [
        ("To:", info.to.as_str()),
        ("From:", info.from.as_str()),
        ("Subject:", info.subject.as_str()),
        ("Date:", info.date.as_str()),
        ("Pages:", pages.as_str()),
        ("Gateway:", info.gateway_id.as_str()),
    ];
    for (label, value) in fields {
        draw_str(&mut page, &font, label, st.left, y, st.sx, st.sy);
        let value = ignorable_str(value);
        let value = if value.trim().is_empty() {
            "-"
        } else {
            value.trim()
        };
        let x = st.left + label_cols * st.cell_w;
        for line in wrap(value, value_cols).into_iter().take(6) {
            draw_str(&mut page, &font, &line, x, y, st.sx, st.sy);
            y += st.cell_h;
        }
        y += st.cell_h / 2;
    }
    y += st.cell_h;
    rule(
        &mut page,
        st.left,
        st.left + st.columns * st.cell_w,
        y,
        st.sy,
    );
    page
}

/// Split `s` into lines of at most `cols` characters, at spaces where possible.
fn wrap(s: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur: Vec<char> = Vec::new();
    for word in s.split_whitespace() {
        let w: Vec<char> = word.chars().collect();
        if !cur.is_empty() && cur.len() + 1 + w.len() > cols {
            lines.push(cur.iter().collect());
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        for c in w {
            if cur.len() == cols {
                lines.push(cur.iter().collect());
                cur.clear();
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        lines.push(cur.iter().collect());
    }
    lines
}

/// A horizontal rule from x0 to x1, `thick` rows from y.
fn rule(page: &mut Page, x0: u32, x1: u32, y: u32, thick: u32) {
    let x1 = x1.min(page.width);
    for yy in y..(y + thick).min(page.height) {
        let row = page.row_mut(yy);
        for x in x0..x1 {
            row[x as usize / 8] |= 0x80 >> (x % 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert!(wrap("   ", 5).is_empty());
    }
}
