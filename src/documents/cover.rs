//! The generated cover page, laid out as a fax cover sheet: a large bold "FAX" title over a
//! heavy rule; To, From, Subject, Date and Pages (the cover included) in 12 pt, bold labels,
//! values wrapped under themselves at word boundaries (at most 6 lines each); a thin rule; then
//! a 10 pt note naming the gateway. Header values arrive decoded — RFC 2047 encoded-words in
//! From and Subject are decoded by the MIME parser — and are drawn in DejaVu Sans Mono like
//! text parts ([`super::font`]), so Latin, Greek and Cyrillic names print as written.

use softfax_dsp::image::Page;

use super::font::Weight;
use super::text::{TextStyle, draw_str};
use super::{Geometry, ignorable_str};

/// Type sizes of the title, the fields and the note, in points.
pub const TITLE_PT: f64 = 40.0;
pub const FIELD_PT: f64 = 12.0;
pub const NOTE_PT: f64 = 10.0;
/// The most lines one field's value takes.
pub const FIELD_LINES: usize = 6;

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
    let body = TextStyle::new(geom);
    let field = TextStyle::sized(geom, FIELD_PT, u32::MAX);
    let title = TextStyle::sized(geom, TITLE_PT, u32::MAX);
    let note = TextStyle::sized(geom, NOTE_PT, u32::MAX);
    // Everything lines up with the text parts' 80 columns.
    let (x0, x1) = (body.left, body.left + body.columns * body.cell_w);
    let mm = |v: f64| (v * geom.y_per_mm).round() as u32;
    let mut page = geom.blank_page();
    let mut y = body.top;

    let mut bold_title = title.rasteriser(Weight::Bold);
    draw_str(
        &mut page,
        &mut bold_title,
        "FAX",
        x0,
        y + title.baseline,
        title.cell_w,
    );
    y += title.cell_h;
    rule(&mut page, x0, x1, y, mm(1.2));
    y += mm(8.0);

    let mut label = field.rasteriser(Weight::Bold);
    let mut value = field.rasteriser(Weight::Regular);
    let label_cols = 10u32;
    let value_x = x0 + label_cols * field.cell_w;
    let value_cols = ((x1.saturating_sub(value_x)) / field.cell_w).max(1) as usize;
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
    ];
    for (name, text) in fields {
        draw_str(
            &mut page,
            &mut label,
            name,
            x0,
            y + field.baseline,
            field.cell_w,
        );
        let text = ignorable_str(text);
        let text = match text.trim() {
            "" => "-",
            t => t,
        };
        for line in wrap(text, value_cols).into_iter().take(FIELD_LINES) {
            draw_str(
                &mut page,
                &mut value,
                &line,
                value_x,
                y + field.baseline,
                field.cell_w,
            );
            y += field.cell_h;
        }
        y += field.cell_h / 2;
    }
    y += mm(3.0);
    rule(&mut page, x0, x1, y, mm(0.3).max(1));
    y += mm(5.0);

    let mut small = note.rasteriser(Weight::Regular);
    let gateway = match ignorable_str(&info.gateway_id).trim() {
        "" => "softfax".to_string(),
        g => format!("{g} (softfax)"),
    };
    let text = format!(
        "Sent from an e-mail message by the fax gateway {gateway}. If pages are missing \
         or cannot be read, please tell the sender."
    );
    let note_cols = ((x1 - x0) / note.cell_w).max(1) as usize;
    for line in wrap(&text, note_cols).into_iter().take(FIELD_LINES) {
        draw_str(
            &mut page,
            &mut small,
            &line,
            x0,
            y + note.baseline,
            note.cell_w,
        );
        y += note.cell_h;
    }
    for r in [&bold_title, &label, &value, &small] {
        if !r.missing().is_empty() {
            let list: String = r.missing().iter().take(40).collect();
            tracing::warn!(characters = %list, "cover page: the font lacks these characters: drawn as U+FFFD");
        }
    }
    page
}

/// Split `s` into lines of at most `cols` characters, at spaces where possible; a word longer
/// than a line is broken.
pub fn wrap(s: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(1);
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
