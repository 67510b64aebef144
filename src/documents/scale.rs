//! Document scaling: a bilevel page at any resolution → pages at the fax geometry (T.4 §2:
//! 1728 pels on the 215 mm scan line at R8; 3.85, 7.7 or 15.4 lines per mm).
//!
//! **Resolution.** The source's X/YResolution (inch or cm) is taken at face value when it is
//! between 20 and 4800 dpi. Without a usable resolution, an image 1728, 2048 or 2432 pels wide
//! is a fax page at R8 × 7.7 l/mm (204 × 196 dpi, as `softfax t4` assumes) and one 3456, 4096 or
//! 4864 pels wide is R16 × 15.4 l/mm; any other image is taken to span the 215 mm scan line.
//! Densities within 1 % of the target, or of 2, 3, 4, ½, ⅓ or ¼ times it, count as exactly
//! that ratio (T.4 allows ±1 %), so fax pages are never resampled by a hair.
//!
//! **Scaling** (both axes, independently): every target pel gets the fraction of its area that
//! black source pels cover (area averaging, exact for any ratio, up or down); it is black when
//! that fraction reaches the threshold [`threshold`]: ⅓, or less on strong reductions —
//! 0.45 / (source pels per target pel along the more reduced axis), so 0.24 from 400 dpi and
//! 0.15 from 600 dpi. The threshold is that low so that a one-pel rule of a 300, 400 or 600 dpi
//! page (table borders, form lines: 0.04 mm at 600 dpi) survives the reduction to fax
//! resolution, which a ½ threshold loses; text comes out slightly bolder, which faxes well,
//! isolated specks (dust) still vanish, but fine dither patterns darken.
//!
//! **Width.** An image up to 3 % wider than the scan line (a Letter page scanned at 200 dpi is
//! 1734 pels at R8) is cropped equally on both sides; a wider one (B4, A3, a 72-dpi screenshot
//! whose resolution says it is 30 inches wide) is reduced to fit, keeping its aspect ratio; a
//! narrower one is centred (an A4 page at 300 dpi becomes 1687 pels with 20 white pels each
//! side, as a fax machine centres A4 on its 215 mm line).
//!
//! **Length.** White rows at the bottom are dropped; a page is padded with white to the paper
//! length (A4 297 mm, Letter 279.4 mm); a longer one is **split** into several pages, never
//! cropped: losing the bottom of a page silently is what users complain about (spandsp issue
//! #25), and an extra sheet costs only seconds. A page with no black pel at all is kept as one
//! blank page (the sender put it there).

use softfax_dsp::image::{Page, Resolution};

use super::{Budget, DocumentError, Geometry, MediaKind};

/// A target pel is black when at least this fraction of it is covered by black source pels
/// (lowered on strong reductions, see [`threshold`]).
pub const THRESHOLD: f32 = 1.0 / 3.0;

/// The black threshold for a reduction of `rx` × `ry` source pels per target pel.
pub fn threshold(rx: f64, ry: f64) -> f32 {
    THRESHOLD.min((0.45 / rx.max(ry)) as f32)
}
/// Images up to this much wider than the page are cropped; wider ones are reduced to fit.
pub const CROP_TOLERANCE: f64 = 1.03;

/// Widths that are fax scan lines at R8 (A4, B4, A3) and R16.
const R8_WIDTHS: [u32; 3] = [1728, 2048, 2432];
const R16_WIDTHS: [u32; 3] = [3456, 4096, 4864];

/// The source resolution to scale from, for a page `width` pels wide that declares
/// `resolution`.
pub fn source_dpi(resolution: Option<Resolution>, width: u32) -> (f64, f64) {
    let ok = |v: f32| (20.0..=4800.0).contains(&v);
    match resolution {
        Some(Resolution { x_dpi, y_dpi }) if ok(x_dpi) && ok(y_dpi) => (x_dpi.into(), y_dpi.into()),
        _ if R8_WIDTHS.contains(&width) => (204.0, 196.0),
        _ if R16_WIDTHS.contains(&width) => (408.0, 391.0),
        _ => {
            let dpi = f64::from(width) / (Geometry::SCAN_LINE_MM / 25.4);
            (dpi, dpi)
        }
    }
}

/// Where scaled pages go: the fax geometry, the message's budget and the pages made so far.
pub struct Target<'a> {
    pub geom: &'a Geometry,
    pub budget: &'a mut Budget,
    pub pages: &'a mut Vec<Page>,
}

impl Target<'_> {
    /// [`normalise`] `src` (at `x_dpi × y_dpi`) onto these pages; returns how many it made.
    pub fn place(&mut self, src: &Page, x_dpi: f64, y_dpi: f64) -> Result<usize, DocumentError> {
        normalise(src, x_dpi, y_dpi, self.geom, self.budget, self.pages)
    }
}

/// Target pels per source pel for densities `target` and `source` (per mm), snapped to a
/// simple ratio when within 1 % of it.
pub fn ratio(target: f64, source: f64) -> f64 {
    let r = target / source;
    for n in 1..=4 {
        let n = f64::from(n);
        for simple in [n, 1.0 / n] {
            if (r / simple - 1.0).abs() < 0.01 {
                return simple;
            }
        }
    }
    r
}

/// Scale `src` (at `x_dpi × y_dpi`) to `geom`, fit, split and pad it; append the pages to
/// `out` and return how many.
pub fn normalise(
    src: &Page,
    x_dpi: f64,
    y_dpi: f64,
    geom: &Geometry,
    budget: &mut Budget,
    out: &mut Vec<Page>,
) -> Result<usize, DocumentError> {
    let mut rx = ratio(geom.x_per_mm, x_dpi / 25.4);
    let mut ry = ratio(geom.y_per_mm, y_dpi / 25.4);
    let size = |r: f64, n: u32| ((f64::from(n) * r).round() as u64).max(1);
    let mut tw = size(rx, src.width);
    if tw as f64 > f64::from(geom.width) * CROP_TOLERANCE {
        let f = f64::from(geom.width) / tw as f64;
        tracing::info!(
            "image {} pels wide at {x_dpi:.0} dpi is wider than the page: reduced by {f:.3}",
            src.width
        );
        rx *= f;
        ry *= f;
        tw = size(rx, src.width);
    }
    let th = size(ry, src.height);
    // Bound memory before allocating the scaled image: it may fill at most the pages left.
    let max_pages = th.div_ceil(u64::from(geom.length));
    budget.check_pages(max_pages, MediaKind::Image)?;
    let tw = tw.min(u64::from(geom.width) * 2) as u32;
    let th = th as u32;
    let scaled = if tw == src.width && th == src.height {
        std::borrow::Cow::Borrowed(src)
    } else {
        std::borrow::Cow::Owned(scale(src, tw, th))
    };
    let content = (0..scaled.height)
        .rev()
        .find(|&y| scaled.row(y).iter().any(|&b| b != 0))
        .map_or(0, |y| y + 1);
    let n = content.div_ceil(geom.length).max(1);
    let (src_x0, dst_x0, w) = if tw <= geom.width {
        (0, (geom.width - tw) / 2, tw)
    } else {
        ((tw - geom.width) / 2, 0, geom.width)
    };
    for k in 0..n {
        budget.take_page(MediaKind::Image)?;
        let mut page = geom.blank_page();
        let y0 = k * geom.length;
        for y in y0..(y0 + geom.length).min(content) {
            blit_row(scaled.row(y), src_x0, w, page.row_mut(y - y0), dst_x0);
        }
        out.push(page);
    }
    Ok(n as usize)
}

/// Copy pels `src_x0 .. src_x0 + n` of `src` to `dst` from `dst_x0` (OR, dst starts white).
fn blit_row(src: &[u8], src_x0: u32, n: u32, dst: &mut [u8], dst_x0: u32) {
    if src_x0.is_multiple_of(8) && dst_x0.is_multiple_of(8) {
        let (s, d) = ((src_x0 / 8) as usize, (dst_x0 / 8) as usize);
        let full = (n / 8) as usize;
        dst[d..d + full].copy_from_slice(&src[s..s + full]);
        let rem = n % 8;
        if rem != 0 {
            dst[d + full] |= src[s + full] & (0xFF << (8 - rem));
        }
        return;
    }
    for i in 0..n {
        let sx = src_x0 + i;
        if src[sx as usize / 8] & (0x80 >> (sx % 8)) != 0 {
            let dx = dst_x0 + i;
            dst[dx as usize / 8] |= 0x80 >> (dx % 8);
        }
    }
}

/// Area-averaging bilevel scaling of `src` to `tw × th` (see the module doc).
pub fn scale(src: &Page, tw: u32, th: u32) -> Page {
    let mut dst = Page::new(tw, th, src.resolution);
    if src.width == 0 || src.height == 0 || tw == 0 || th == 0 {
        return dst;
    }
    let sw = src.width as usize;
    let rx = f64::from(src.width) / f64::from(tw);
    let ry = f64::from(src.height) / f64::from(th);
    // Integer row duplication with the width unchanged (standard → fine): copy rows.
    if tw == src.width && th.is_multiple_of(src.height) {
        let k = th / src.height;
        for y in 0..th {
            dst.row_mut(y).copy_from_slice(src.row(y / k));
        }
        return dst;
    }
    let thresh = threshold(rx, ry);
    let xb: Vec<f64> = (0..=tw)
        .map(|t| (f64::from(t) * rx).min(f64::from(src.width)))
        .collect();
    // Each target column's left edge in source pels: integer part and fraction.
    let ix: Vec<usize> = xb.iter().map(|&x| (x as usize).min(sw)).collect();
    let fx: Vec<f64> = xb.iter().zip(&ix).map(|(&x, &i)| x - i as f64).collect();
    let mut prefix = vec![0u32; sw + 1];
    let mut hrow = vec![0f32; tw as usize];
    let mut cached: Option<u32> = None;
    let mut acc = vec![0f32; tw as usize];
    for ty in 0..th {
        let y0 = f64::from(ty) * ry;
        let y1 = (f64::from(ty + 1) * ry).min(f64::from(src.height));
        acc.iter_mut().for_each(|a| *a = 0.0);
        let mut any = false;
        let first = y0.floor() as u32;
        let last = (y1.ceil() as u32).min(src.height);
        for sy in first..last {
            let w = (y1.min(f64::from(sy + 1)) - y0.max(f64::from(sy))) as f32;
            if w <= 0.0 {
                continue;
            }
            let row = src.row(sy);
            if row.iter().all(|&b| b == 0) {
                continue;
            }
            if cached != Some(sy) {
                let mut n = 0u32;
                for (x, p) in prefix[1..].iter_mut().enumerate() {
                    n += u32::from(row[x / 8] >> (7 - x % 8) & 1);
                    *p = n;
                }
                // P(x) = black pels in [0, x) for fractional x.
                let at = |t: usize| -> f64 {
                    let i = ix[t];
                    let whole = f64::from(prefix[i]);
                    if i < sw {
                        whole + fx[t] * f64::from(prefix[i + 1] - prefix[i])
                    } else {
                        whole
                    }
                };
                let mut prev = at(0);
                for (t, h) in hrow.iter_mut().enumerate() {
                    let next = at(t + 1);
                    *h = (next - prev) as f32;
                    prev = next;
                }
                cached = Some(sy);
            }
            for (a, h) in acc.iter_mut().zip(&hrow) {
                *a += w * h;
            }
            any = true;
        }
        if !any {
            continue;
        }
        let dy = (y1 - y0) as f32;
        let out = dst.row_mut(ty);
        for (t, &a) in acc.iter().enumerate() {
            let area = dy * (xb[t + 1] - xb[t]) as f32;
            if a > 0.0 && a >= thresh * area * 0.9999 {
                out[t / 8] |= 0x80 >> (t % 8);
            }
        }
    }
    dst
}
#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &mut Page, x: u32, y: u32) {
        p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
    }

    fn black(p: &Page) -> usize {
        p.data.iter().map(|b| b.count_ones() as usize).sum()
    }

    #[test]
    fn ratios_snap_to_simple_fractions() {
        let r8 = 1728.0 / 215.0;
        assert_eq!(ratio(r8, 204.0 / 25.4), 1.0);
        assert_eq!(ratio(7.7, 196.0 / 25.4), 1.0);
        assert_eq!(ratio(7.7, 98.0 / 25.4), 2.0);
        assert_eq!(ratio(3.85, 196.0 / 25.4), 0.5);
        assert_eq!(ratio(15.4, 98.0 / 25.4), 4.0);
        let r = ratio(r8, 200.0 / 25.4);
        assert!((r - 1.0207).abs() < 0.001, "{r}");
        let r = ratio(r8, 300.0 / 25.4);
        assert!((r - 0.6805).abs() < 0.001, "{r}");
    }

    #[test]
    fn identity_and_row_doubling_are_exact() {
        let mut p = Page::new(37, 5, Resolution::STANDARD);
        for (x, y) in [(0, 0), (36, 4), (8, 2), (9, 2), (20, 3)] {
            set(&mut p, x, y);
        }
        assert_eq!(scale(&p, 37, 5).data, p.data);
        let d = scale(&p, 37, 10);
        for y in 0..10 {
            assert_eq!(d.row(y), p.row(y / 2));
        }
        // Halving the rows again gives the original back.
        assert_eq!(scale(&d, 37, 5).data, p.data);
    }

    #[test]
    fn area_scaling_keeps_shapes_and_thin_lines() {
        // A 300-dpi page with a filled square and a one-pel vertical line.
        let mut p = Page::new(600, 600, Resolution::FINE);
        for y in 100..400 {
            for x in 100..400 {
                set(&mut p, x, y);
            }
            set(&mut p, 500, y);
        }
        let d = scale(&p, 408, 392);
        // The square maps to ~68..272 × ~65..261.
        let sq = (0..392)
            .flat_map(|y| (0..300).map(move |x| (x, y)))
            .filter(|&(x, y)| d.pel(x, y))
            .count();
        let want = (300.0 * 0.68) * (300.0 * 0.653);
        assert!(((sq as f64) - want).abs() / want < 0.03, "{sq} vs {want}");
        // The thin line survives on every row it crosses.
        for y in 75..255 {
            assert!((330..350).any(|x| d.pel(x, y)), "line lost at row {y}");
        }
        // Upscaling 3x keeps the square's area ×9 (within the edge rows).
        let u = scale(&p, 1800, 1800);
        let want = 300.0 * 300.0 * 9.0 + 300.0 * 9.0;
        let got = black(&u) as f64;
        assert!((got - want).abs() / want < 0.02, "{got} vs {want}");
    }

    fn geom() -> Geometry {
        Geometry::new(Resolution::FINE, super::super::Paper::A4).unwrap()
    }

    #[test]
    fn long_pages_split_short_pages_pad_and_wide_pages_fit() {
        let g = geom();
        let mut budget = Budget::new();
        // 204 × 196 dpi, 1728 wide, 2.5 A4 lengths with ink at the very bottom → 3 pages.
        let mut p = Page::new(1728, g.length * 5 / 2, Resolution::FINE);
        set(&mut p, 0, 0);
        let last = p.height - 1;
        set(&mut p, 1727, last);
        let mut out = Vec::new();
        assert_eq!(
            normalise(&p, 204.0, 196.0, &g, &mut budget, &mut out).unwrap(),
            3
        );
        assert!(out.iter().all(|q| q.width == 1728 && q.height == g.length));
        assert!(out[0].pel(0, 0));
        assert!(out[2].pel(1727, g.length / 2 - 1));
        // The same page with white bottom rows only → trimmed to 1 page.
        let mut q = Page::new(1728, g.length + 300, Resolution::FINE);
        set(&mut q, 5, 10);
        out.clear();
        assert_eq!(
            normalise(&q, 204.0, 196.0, &g, &mut budget, &mut out).unwrap(),
            1
        );
        // Twice as wide as the page at its resolution: reduced to fit, aspect kept.
        let mut w = Page::new(3456, 1000, Resolution::FINE);
        for y in 0..1000 {
            set(&mut w, 3455, y);
            set(&mut w, 0, y);
        }
        out.clear();
        normalise(&w, 204.0, 196.0, &g, &mut budget, &mut out).unwrap();
        let page = &out[0];
        assert!(page.pel(0, 100) && page.pel(1727, 100));
        let rows = (0..g.length).filter(|&y| page.pel(0, y)).count();
        assert!((495..=505).contains(&rows), "{rows}");
        // A blank page stays one blank page.
        out.clear();
        let blank = Page::new(1728, 100, Resolution::FINE);
        assert_eq!(
            normalise(&blank, 204.0, 196.0, &g, &mut budget, &mut out).unwrap(),
            1
        );
        assert_eq!(black(&out[0]), 0);
    }

    #[test]
    fn narrow_pages_are_centred_and_letter_width_cropped() {
        let g = geom();
        let mut budget = Budget::new();
        let mut out = Vec::new();
        // A4 width at 300 dpi: 2480 pels → 1687, centred.
        let mut p = Page::new(2480, 30, Resolution::FINE);
        for y in 0..30 {
            set(&mut p, 0, y);
            set(&mut p, 2479, y);
        }
        normalise(&p, 300.0, 300.0, &g, &mut budget, &mut out).unwrap();
        let row: Vec<u32> = (0..1728).filter(|&x| out[0].pel(x, 5)).collect();
        assert_eq!(row.len(), 2, "{row:?}");
        assert!(
            (19..=22).contains(&row[0]) && (1705..=1708).contains(&row[1]),
            "{row:?}"
        );
        // Letter width at 200 dpi: 1700 → 1735, cropped 3–4 pels each side.
        out.clear();
        let mut l = Page::new(1700, 20, Resolution::FINE);
        for y in 0..20 {
            for x in 0..10 {
                set(&mut l, x, y);
                set(&mut l, 1699 - x, y);
            }
        }
        normalise(&l, 200.0, 200.0, &g, &mut budget, &mut out).unwrap();
        assert!(out[0].pel(0, 5) && out[0].pel(1727, 5));
        let left = (0..20).filter(|&x| out[0].pel(x, 5)).count();
        assert!((6..=8).contains(&left), "{left}");
    }
}
