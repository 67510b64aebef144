//! Small PNG charts for people: BER curves (log axis) and constellation scatter plots.
//! Self-contained (a 5×7 bitmap font, RGB canvas, png crate), so no system font or
//! graphics library is needed.

use std::io::Write;

/// An RGB canvas.
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    px: Vec<u8>,
}

pub type Rgb = [u8; 3];
pub const WHITE: Rgb = [255, 255, 255];
pub const BLACK: Rgb = [0, 0, 0];
pub const GREY: Rgb = [215, 215, 215];
/// Series colours.
pub const PALETTE: [Rgb; 6] = [
    [31, 119, 180],
    [214, 39, 40],
    [44, 160, 44],
    [148, 103, 189],
    [255, 127, 14],
    [23, 190, 207],
];

impl Canvas {
    pub fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            width,
            height,
            px: vec![255; (width * height * 3) as usize],
        }
    }

    pub fn set(&mut self, x: i32, y: i32, c: Rgb) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height {
            let i = ((y as u32 * self.width + x as u32) * 3) as usize;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    /// A line (Bresenham), `thick` pixels wide.
    pub fn line(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: Rgb, thick: i32) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            for t in 0..thick {
                for u in 0..thick {
                    self.set(x + t - thick / 2, y + u - thick / 2, c);
                }
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    pub fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, c: Rgb) {
        for j in y..y + h {
            for i in x..x + w {
                self.set(i, j, c);
            }
        }
    }

    /// Text in the 5×7 font, scaled by `scale`, top-left at (x, y).
    pub fn text(&mut self, x: i32, y: i32, s: &str, c: Rgb, scale: i32) {
        let mut cx = x;
        for ch in s.chars() {
            let g = glyph(ch);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        self.rect(cx + col * scale, y + row as i32 * scale, scale, scale, c);
                    }
                }
            }
            cx += 6 * scale;
        }
    }

    /// Width in pixels of `s` at `scale`.
    pub fn text_width(s: &str, scale: i32) -> i32 {
        s.chars().count() as i32 * 6 * scale
    }

    pub fn write_png(&self, out: impl Write) -> Result<(), png::EncodingError> {
        let mut enc = png::Encoder::new(out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&self.px)?;
        w.finish()
    }
}

/// One curve of a BER chart.
pub struct Series {
    pub label: String,
    /// A peer's curve: drawn thin, in the colour of the softfax curve at the same position
    /// among its kind, with crosses for points.
    pub peer: bool,
    /// (SNR dB, BER); BER 0 points are drawn at the floor, hollow.
    pub points: Vec<(f64, f64)>,
}

/// A BER-versus-SNR chart: BER on a log axis.
pub fn ber_chart(title: &str, series: &[Series]) -> Canvas {
    let (w, h) = (900, 600);
    let mut c = Canvas::new(w, h);
    let (l, r, t, b) = (90, 30, 50, 70);
    let (pw, ph) = (w as i32 - l - r, h as i32 - t - b);
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let (mut x0, mut x1) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    if !(x0.is_finite() && x1.is_finite()) || x1 <= x0 {
        (x0, x1) = (0.0, 1.0);
    }
    let min_ber = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|&v| v > 0.0)
        .fold(1.0f64, f64::min);
    let lo_dec = (min_ber.log10().floor() as i32).clamp(-9, -1) - 1;
    let (y0, y1) = (lo_dec as f64, 0.0);
    let px = |x: f64| l + ((x - x0) / (x1 - x0) * pw as f64).round() as i32;
    let py = |v: f64| {
        let lv = if v > 0.0 { v.log10().max(y0) } else { y0 };
        t + ((y1 - lv) / (y1 - y0) * ph as f64).round() as i32
    };
    // Grid and ticks.
    for d in lo_dec..=0 {
        let y = py(10f64.powi(d));
        c.line(l, y, l + pw, y, GREY, 1);
        let label = format!("1E{d}");
        c.text(
            l - 10 - Canvas::text_width(&label, 2),
            y - 7,
            &label,
            BLACK,
            2,
        );
    }
    let step = nice_step((x1 - x0) / 8.0);
    let mut x = (x0 / step).ceil() * step;
    while x <= x1 + 1e-9 {
        let xp = px(x);
        c.line(xp, t, xp, t + ph, GREY, 1);
        let label = format!("{}", (x * 10.0).round() / 10.0);
        c.text(
            xp - Canvas::text_width(&label, 2) / 2,
            t + ph + 10,
            &label,
            BLACK,
            2,
        );
        x += step;
    }
    c.line(l, t, l, t + ph, BLACK, 2);
    c.line(l, t + ph, l + pw, t + ph, BLACK, 2);
    c.text(
        l + pw / 2 - Canvas::text_width("SNR DB", 2) / 2,
        h as i32 - 30,
        "SNR DB",
        BLACK,
        2,
    );
    c.text(10, t - 35, "BER", BLACK, 2);
    c.text(
        l + pw / 2 - Canvas::text_width(title, 2) / 2,
        12,
        title,
        BLACK,
        2,
    );
    let (mut own, mut peers) = (0, 0);
    for (i, s) in series.iter().enumerate() {
        let k = if s.peer { &mut peers } else { &mut own };
        let col = PALETTE[*k % PALETTE.len()];
        *k += 1;
        for p in s.points.windows(2) {
            let thick = if s.peer { 1 } else { 2 };
            c.line(px(p[0].0), py(p[0].1), px(p[1].0), py(p[1].1), col, thick);
        }
        for &(x, v) in &s.points {
            let (xp, yp) = (px(x), py(v));
            if s.peer {
                c.line(xp - 5, yp - 5, xp + 5, yp + 5, col, 1);
                c.line(xp - 5, yp + 5, xp + 5, yp - 5, col, 1);
            } else if v > 0.0 {
                c.rect(xp - 4, yp - 4, 9, 9, col);
            } else {
                c.line(xp - 4, yp - 4, xp + 4, yp - 4, col, 1);
                c.line(xp - 4, yp + 4, xp + 4, yp + 4, col, 1);
                c.line(xp - 4, yp - 4, xp - 4, yp + 4, col, 1);
                c.line(xp + 4, yp - 4, xp + 4, yp + 4, col, 1);
            }
        }
        let ly = t + 10 + 22 * i as i32;
        c.rect(l + pw - 260, ly, 20, 12, col);
        c.text(l + pw - 232, ly - 1, &s.label.to_uppercase(), BLACK, 2);
    }
    c
}

/// A scatter plot of received symbols (the equaliser output) on the complex plane.
pub fn constellation(title: &str, points: &[(f32, f32)]) -> Canvas {
    let size = 600;
    let mut c = Canvas::new(size, size + 40);
    let lim = points
        .iter()
        .fold(1e-6f32, |m, &(x, y)| m.max(x.abs()).max(y.abs()))
        * 1.1;
    let mid = size as i32 / 2;
    let scale = (size as f32 / 2.0 - 10.0) / lim;
    c.line(0, mid + 40, size as i32, mid + 40, GREY, 1);
    c.line(mid, 40, mid, size as i32 + 40, GREY, 1);
    c.text(10, 10, title, BLACK, 2);
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            let (xp, yp) = (mid + (x * scale) as i32, mid + 40 - (y * scale) as i32);
            c.rect(xp - 1, yp - 1, 2, 2, PALETTE[0]);
        }
    }
    c
}

fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1e-9);
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    (if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }) * p
}

/// 5×7 glyphs, one byte per row, bit 4 = leftmost column. Unknown characters draw as a box.
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        ' ' => [0; 7],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '+' => [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '=' => [0, 0, 0x1F, 0, 0x1F, 0, 0],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '<' => [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render_to_png() {
        let s = Series {
            label: "v29 9600".into(),
            peer: false,
            points: vec![(10.0, 0.1), (14.0, 1e-2), (18.0, 1e-4), (22.0, 0.0)],
        };
        let c = ber_chart("V.29 9600 BIT/S", &[s]);
        let mut png = Vec::new();
        c.write_png(&mut png).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let c = constellation("TEST", &[(1.0, 1.0), (-3.0, 0.5), (f32::NAN, 0.0)]);
        c.write_png(&mut Vec::new()).unwrap();
        // Degenerate input draws something sane.
        ber_chart("EMPTY", &[]).write_png(&mut Vec::new()).unwrap();
    }
}
