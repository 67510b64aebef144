//! The report's PNG figures other than the BER curves ([`crate::plot::ber_chart`]): the
//! impairment matrix as a grid of pass/fail cells, and the codecs' compressed sizes as bars.

use crate::plot::{BLACK, Canvas, GREY, PALETTE, Rgb, WHITE};

use super::matrix::{Cell, Direction, Outcome};

const PASS: Rgb = [70, 170, 80];
const FAIL: Rgb = [210, 60, 50];

/// The font draws upper case, digits and `. , - + / : = ( ) < %`; anything else becomes a
/// space.
fn label(s: &str) -> String {
    s.chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_alphanumeric() || " .,-+/:=()<%".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// One direction of the matrix: rows × modes, green passed, red failed (with the first
/// letter of the failure class: L line, M modem training, P protocol step, D page data,
/// F far end; a green R: rows lost across slips without ECM, which is allowed).
pub fn matrix(title: &str, rows: &[&str], modes: &[&str], cells: &[Cell], d: Direction) -> Canvas {
    let (lw, cw, ch, top) = (330, 180, 26, 80);
    let w = lw + cw * modes.len() as i32 + 20;
    let h = top + ch * rows.len() as i32 + 20;
    let mut c = Canvas::new(w as u32, h as u32);
    c.text(10, 12, &label(title), BLACK, 2);
    for (m, name) in modes.iter().enumerate() {
        let x = lw + cw * m as i32;
        c.text(x + 6, top - 26, &label(name), BLACK, 2);
    }
    for (r, name) in rows.iter().enumerate() {
        let y = top + ch * r as i32;
        c.text(10, y + 6, &label(name), BLACK, 2);
        for m in 0..modes.len() {
            let x = lw + cw * m as i32;
            let cell = cells
                .iter()
                .find(|k| k.row == r && k.mode == m && k.direction == d);
            let (col, mark) = match cell.map(|k| &k.outcome) {
                Some(Outcome::Pass) => (PASS, String::new()),
                Some(Outcome::Lossy { .. }) => (PASS, "R".to_string()),
                Some(Outcome::Fail { class, .. }) => (FAIL, class_letter(class).to_string()),
                None => (GREY, String::new()),
            };
            c.rect(x + 2, y + 2, cw - 4, ch - 4, col);
            if !mark.is_empty() {
                c.text(x + cw / 2 - 5, y + 6, &mark, WHITE, 2);
            }
        }
    }
    c
}

/// L line, M modem training, P protocol step, D page data, F far end.
pub fn class_letter(class: &str) -> &'static str {
    match class {
        "line" => "L",
        "modem training" => "M",
        "protocol step" => "P",
        "page data" => "D",
        _ => "F",
    }
}

/// Grouped bars: one group per item (`groups`: name and one value per series).
pub fn bars(title: &str, unit: &str, series: &[&str], groups: &[(String, Vec<f64>)]) -> Canvas {
    let (w, h) = (900, 500);
    let (l, r, t, b) = (90, 20, 60, 60);
    let (pw, ph) = (w - l - r, h - t - b);
    let mut c = Canvas::new(w as u32, h as u32);
    c.text(10, 12, &label(title), BLACK, 2);
    c.text(10, 34, &label(unit), BLACK, 2);
    let max = groups
        .iter()
        .flat_map(|g| g.1.iter().copied())
        .fold(1e-9f64, f64::max);
    c.line(l, t, l, t + ph, BLACK, 2);
    c.line(l, t + ph, l + pw, t + ph, BLACK, 2);
    for k in 1..=4 {
        let y = t + ph - ph * k / 4;
        c.line(l, y, l + pw, y, GREY, 1);
        let v = format!("{:.0}", max * k as f64 / 4.0);
        c.text(l - 10 - Canvas::text_width(&v, 2), y - 7, &v, BLACK, 2);
    }
    let gw = pw / groups.len().max(1) as i32;
    let bw = (gw - 10) / series.len().max(1) as i32;
    for (g, (name, vals)) in groups.iter().enumerate() {
        let gx = l + gw * g as i32 + 5;
        for (s, v) in vals.iter().enumerate() {
            let bh = (v / max * ph as f64).round() as i32;
            c.rect(
                gx + bw * s as i32,
                t + ph - bh,
                bw - 2,
                bh,
                PALETTE[s % PALETTE.len()],
            );
        }
        let n = label(name);
        c.text(
            gx + (gw - 10) / 2 - Canvas::text_width(&n, 2) / 2,
            t + ph + 10,
            &n,
            BLACK,
            2,
        );
    }
    for (s, name) in series.iter().enumerate() {
        let x = l + pw - 120;
        let y = t + 8 + 22 * s as i32;
        c.rect(x, y, 20, 12, PALETTE[s % PALETTE.len()]);
        c.text(x + 28, y - 1, &label(name), BLACK, 2);
    }
    c
}
