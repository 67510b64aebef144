//! application/pdf → fax pages, rasterised by the `hayro` crate (pure Rust) straight at the
//! fax's resolution — 204 pels per inch across, 7.7 (or 3.85) lines per mm down — and
//! thresholded at 50 % luminance as grey TIFFs are ([`super::grey`]); then placed by
//! [`super::scale`] like any image (centred, split or padded to the paper length). A page wider
//! than the scan line (beyond what scale.rs crops) is rendered smaller, keeping its aspect ratio. `/Rotate` is honoured.
//!
//! **Refused** with `554 5.6.1` and abort_cause 3 ([`super::DocumentError::Pdf`]): a file
//! hayro cannot read (corrupt), one encrypted with a user password (an empty user password is
//! opened, as any reader does), one that takes longer than [`TIME_BUDGET`] to render, and
//! pages over the limits: at most the message's page budget, at most [`MAX_RENDER_PELS`] pels
//! per rendered page (a 200-inch `MediaBox` is refused before anything is drawn).
//!
//! **The time budget.** Rendering runs on a thread of its own and the caller waits at most
//! [`TIME_BUDGET`] for all pages; hayro cannot be interrupted, so a document past the budget is
//! refused at once and its thread left to finish on its own (its memory is bounded by the
//! page and pel limits, one page at a time).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings, render};
use softfax_dsp::image::{Page, Resolution};

use super::scale::{CROP_TOLERANCE, Target};
use super::{DocumentError, Geometry, MAX_PAGES};

/// The longest a PDF may take to render, all pages together.
pub const TIME_BUDGET: Duration = Duration::from_secs(30);
/// The most pels one page may be rendered to (an A3 page at 204 × 196 is 11 M).
pub const MAX_RENDER_PELS: u64 = 24_000_000;
/// PDF points per inch.
const PT_PER_INCH: f64 = 72.0;

/// One rendered page: bilevel, with the densities (dpi) it was rendered at.
pub struct Rendered {
    pub page: Page,
    pub x_dpi: f64,
    pub y_dpi: f64,
}

/// Render the PDF `data` (named `name` in errors) and place its pages on `to`; returns the
/// number of fax pages made.
pub fn pdf_to_pages(data: &[u8], name: &str, to: &mut Target) -> Result<usize, DocumentError> {
    let (x_dpi, y_dpi) = densities(to.geom);
    let max_width = to.geom.width;
    let (tx, rx) = mpsc::sync_channel::<Result<Rendered, DocumentError>>(1);
    let (owned, owned_name) = (data.to_vec(), name.to_string());
    let max_pages = MAX_PAGES;
    std::thread::Builder::new()
        .name("pdf-render".into())
        .spawn(move || {
            let send = |r| tx.send(r).is_ok();
            if let Err(e) = render_pages(
                &owned,
                &owned_name,
                x_dpi,
                y_dpi,
                max_width,
                max_pages,
                send,
            ) {
                let _ = tx.send(Err(e));
            }
        })
        .map_err(|e| pdf_error(name, format!("cannot start rendering: {e}")))?;
    let deadline = Instant::now() + TIME_BUDGET;
    let mut made = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(r)) => made += to.place(&r.page, r.x_dpi, r.y_dpi)?,
            Ok(Err(e)) => return Err(e),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(made),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(pdf_error(
                    name,
                    format!("rendering took longer than {} s", TIME_BUDGET.as_secs()),
                ));
            }
        }
    }
}

fn pdf_error(name: &str, what: String) -> DocumentError {
    DocumentError::Pdf {
        name: name.to_string(),
        what,
    }
}

/// Render every page of `data` at `x_dpi × y_dpi` (narrower when the page is wider than
/// `max_width` pels), at most `max_pages`, handing each to `sink` (which returns false to
/// stop). The body of the time-limited thread, and of the fuzz target.
pub fn render_pages(
    data: &[u8],
    name: &str,
    x_dpi: f64,
    y_dpi: f64,
    max_width: u32,
    max_pages: usize,
    mut sink: impl FnMut(Result<Rendered, DocumentError>) -> bool,
) -> Result<(), DocumentError> {
    let pdf = Pdf::new(data.to_vec()).map_err(|e| {
        pdf_error(
            name,
            match e {
                LoadPdfError::Decryption(d) => {
                    format!("encrypted PDF, cannot be opened without its password ({d:?})")
                }
                LoadPdfError::Invalid => "not a readable PDF file".into(),
            },
        )
    })?;
    let pages = pdf.pages();
    if pages.is_empty() {
        return Err(pdf_error(name, "the PDF has no pages".into()));
    }
    if pages.len() > max_pages {
        return Err(DocumentError::Limit {
            kind: super::MediaKind::Image,
            what: format!("PDF {name} has {} pages (at most {max_pages})", pages.len()),
        });
    }
    let cache = RenderCache::new();
    let settings = InterpreterSettings::default();
    let render_settings = RenderSettings::default();
    for (i, page) in pages.iter().enumerate() {
        let (w_pt, h_pt) = page.render_dimensions();
        let (w_pt, h_pt) = (f64::from(w_pt), f64::from(h_pt));
        if !(w_pt.is_finite() && h_pt.is_finite() && w_pt >= 1.0 && h_pt >= 1.0) {
            return Err(pdf_error(name, format!("page {} has no size", i + 1)));
        }
        // Wider than the scan line by more than scale.rs crops: render smaller, keeping the
        // aspect ratio (a Letter page, 1734 pels, is rendered full size and cropped there).
        let full = w_pt / PT_PER_INCH * x_dpi;
        let fit = if full > f64::from(max_width) * CROP_TOLERANCE {
            f64::from(max_width) / full
        } else {
            1.0
        };
        let (px, py) = (x_dpi * fit, y_dpi * fit);
        let (w, h) = (w_pt / PT_PER_INCH * px, h_pt / PT_PER_INCH * py);
        if w * h > MAX_RENDER_PELS as f64 || h > f64::from(u16::MAX) || w > f64::from(u16::MAX) {
            return Err(DocumentError::Limit {
                kind: super::MediaKind::Image,
                what: format!(
                    "PDF {name} page {} is {:.0} x {:.0} mm (at most {MAX_RENDER_PELS} pels at fax resolution)",
                    i + 1,
                    w_pt / PT_PER_INCH * 25.4,
                    h_pt / PT_PER_INCH * 25.4
                ),
            });
        }
        let pixmap = render(
            page,
            &cache,
            &settings,
            &render_settings,
            &PixmapSettings {
                x_scale: (px / PT_PER_INCH) as f32,
                y_scale: (py / PT_PER_INCH) as f32,
                bg_color: WHITE,
            },
        );
        let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
        let mut out = Page::new(pw.max(1), ph.max(1), Resolution::FINE);
        for (y, row) in pixmap.data().chunks(pw.max(1) as usize).enumerate() {
            let bits = out.row_mut(y as u32);
            for (x, p) in row.iter().enumerate() {
                // Premultiplied over a white background: composite what alpha leaves.
                let a = u32::from(p.a);
                let luma = 299 * (u32::from(p.r) + 255 - a)
                    + 587 * (u32::from(p.g) + 255 - a)
                    + 114 * (u32::from(p.b) + 255 - a);
                if luma < 1000 * 128 {
                    bits[x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        if !sink(Ok(Rendered {
            page: out,
            x_dpi: px,
            y_dpi: py,
        })) {
            break;
        }
    }
    Ok(())
}

/// The render densities for a geometry (dpi across, dpi down).
pub fn densities(geom: &Geometry) -> (f64, f64) {
    (geom.x_per_mm * 25.4, geom.y_per_mm * 25.4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{Budget, Paper};

    /// A one-page PDF (A4, 595 × 842 pt) whose content stream is `content`, with a correct
    /// cross-reference table.
    pub(crate) fn one_page_pdf(content: &str) -> Vec<u8> {
        let objs = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_string(),
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len() + 1
            ),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes(),
        );
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objs.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn black(p: &Page) -> usize {
        p.data.iter().map(|b| b.count_ones() as usize).sum()
    }

    #[test]
    fn a_filled_square_lands_where_the_pdf_puts_it() {
        // A 1-inch black square, 1 inch from the left and from the top of an A4 page.
        let pdf = one_page_pdf("0 g 72 698 72 72 re f");
        let geom = Geometry::new(Resolution::FINE, Paper::A4).unwrap();
        let pages = fax(&pdf, &geom).unwrap();
        assert_eq!(pages.len(), 1);
        let p = &pages[0];
        assert_eq!((p.width, p.height), (geom.width, geom.length));
        // 204 × 195.6 pels for one square inch.
        let want = 204.0 * 195.58;
        let got = black(p) as f64;
        assert!(
            (got / want - 1.0).abs() < 0.03,
            "{got} black pels, want {want}"
        );
        // Its top-left corner: 1 inch down and (the A4 page centred on the scan line) a
        // little more than 1 inch across.
        let ink = |x: u32, y: u32| p.row(y)[(x / 8) as usize] & (0x80 >> (x % 8)) != 0;
        let margin = (geom.width - (595.0 / 72.0 * 204.0_f64).round() as u32) / 2;
        assert!(ink(margin + 214, 206) && !ink(margin + 195, 206) && !ink(margin + 214, 188));
    }

    #[test]
    fn corrupt_and_oversized_pdfs_are_refused() {
        let geom = Geometry::new(Resolution::FINE, Paper::A4).unwrap();
        let e = fax(b"%PDF-1.7\nnonsense", &geom).unwrap_err();
        assert!(matches!(e, DocumentError::Pdf { .. }), "{e}");
        let huge = one_page_pdf("0 g 0 0 10 10 re f").replace_media_box("[0 0 595 14400]");
        let e = fax(&huge, &geom).unwrap_err();
        assert!(matches!(e, DocumentError::Limit { .. }), "{e}");
    }

    fn fax(pdf: &[u8], geom: &Geometry) -> Result<Vec<Page>, DocumentError> {
        let (mut budget, mut pages) = (Budget::new(), Vec::new());
        let mut to = Target {
            geom,
            budget: &mut budget,
            pages: &mut pages,
        };
        pdf_to_pages(pdf, "t.pdf", &mut to)?;
        Ok(pages)
    }

    trait MediaBox {
        fn replace_media_box(&self, with: &str) -> Vec<u8>;
    }

    impl MediaBox for Vec<u8> {
        /// The same file with another MediaBox (same length keeps the xref valid; hayro
        /// repairs it otherwise).
        fn replace_media_box(&self, with: &str) -> Vec<u8> {
            String::from_utf8_lossy(self)
                .replace("[0 0 595 842]", with)
                .into_bytes()
        }
    }
}
