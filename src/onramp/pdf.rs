//! Received pages as a PDF (ISO 32000-1): one page per fax page, its size the page's at its
//! resolution, each the image of the page coded T.6 (MMR) as the `CCITTFaxDecode` filter
//! reads it (§7.4.6: `K -1`, `Columns`, `Rows`; 0 bits are black, `BlackIs1 false`), drawn to
//! fill the page. No fonts, no compression of its own: the images are the file.

use std::fmt::Write as _;

use softfax_dsp::image::Page;
use softfax_dsp::t4::{Coding, EncodeOptions, Encoder};

/// Why a page could not be coded.
#[derive(Debug, thiserror::Error)]
#[error("PDF: page {page}: {why}")]
pub struct PdfError {
    pub page: usize,
    pub why: String,
}

/// The PDF of `pages`.
pub fn write(pages: &[Page]) -> Result<Vec<u8>, PdfError> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let object = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    // 1: catalog, 2: page tree, then three objects a page: page, contents, image.
    object(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let mut kids = String::new();
    for i in 0..pages.len() {
        let _ = write!(kids, "{} 0 R ", 3 + 3 * i);
    }
    object(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.trim_end(),
            pages.len()
        )
        .as_bytes(),
    );
    let mut coded = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let n = 3 + 3 * i;
        let w_pt = p.width as f32 * 72.0 / p.resolution.x_dpi;
        let h_pt = p.height as f32 * 72.0 / p.resolution.y_dpi;
        object(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.4} {h_pt:.4}] /Resources << /XObject << /Im0 {} 0 R >> >> /Contents {} 0 R >>",
                n + 2,
                n + 1
            )
            .as_bytes(),
        );
        let draw = format!("q {w_pt:.4} 0 0 {h_pt:.4} 0 0 cm /Im0 Do Q");
        object(
            &mut out,
            &mut offsets,
            format!(
                "<< /Length {} >>\nstream\n{draw}\nendstream",
                draw.len() + 1
            )
            .as_bytes(),
        );
        coded.clear();
        Encoder::encode_page(
            EncodeOptions::tiff(Coding::Mmr, p.width),
            &p.data,
            p.stride(),
            &mut coded,
        )
        .map_err(|e| PdfError {
            page: i + 1,
            why: e.to_string(),
        })?;
        let mut image = format!(
            "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns {w} /Rows {h} >> /Length {} >>\nstream\n",
            coded.len(),
            w = p.width,
            h = p.height
        )
        .into_bytes();
        image.extend_from_slice(&coded);
        image.extend_from_slice(b"\nendstream");
        object(&mut out, &mut offsets, &image);
    }
    let xref = out.len();
    let mut x = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(x, "{o:010} 00000 n ");
    }
    let _ = write!(
        x,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(x.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use softfax_dsp::image::Resolution;

    #[test]
    fn the_cross_reference_points_at_every_object() {
        let mut p = Page::new(1728, 40, Resolution::FINE);
        p.row_mut(3)[0] = 0xf0;
        let pdf = write(&[p.clone(), p]).unwrap();
        let find = |needle: &[u8]| {
            pdf.windows(needle.len())
                .rposition(|w| w == needle)
                .unwrap()
        };
        let tail = std::str::from_utf8(&pdf[find(b"startxref\n")..]).unwrap();
        let start: usize = tail.lines().nth(1).and_then(|n| n.parse().ok()).unwrap();
        let xref = std::str::from_utf8(&pdf[start..]).unwrap();
        assert!(xref.starts_with("xref\n0 9\n"));
        for (k, line) in xref.lines().skip(3).take(8).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            let head = format!("{} 0 obj", k + 1);
            assert!(pdf[off..].starts_with(head.as_bytes()), "object {}", k + 1);
        }
    }
}
