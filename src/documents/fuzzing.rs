//! Bodies of the cargo-fuzz targets `mime_to_pages`, `pdf_to_pages` and `text_markup`
//! (fuzz/fuzz_targets/), kept here so that `tests/fuzz_corpus.rs` replays the committed corpus
//! through the same code.

use softfax_dsp::image::Resolution;

use super::{DocumentError, MAX_PAGES, Paper, RenderOptions, message_to_pages};

/// Byte 0 picks the options (resolution, paper, cover page); the rest is the message. Checks
/// that every page has the promised geometry and that every error makes a sane SMTP reply.
pub fn mime_to_pages(data: &[u8]) {
    let [sel, msg @ ..] = data else { return };
    let opts = RenderOptions {
        resolution: match sel & 3 {
            0 => Resolution::STANDARD,
            1 => Resolution::FINE,
            _ => Resolution::STANDARD,
        },
        paper: if sel & 4 == 0 {
            Paper::A4
        } else {
            Paper::Letter
        },
        cover_page: sel & 8 != 0,
        recipient: "+14085557442".into(),
        gateway_id: "gw.fuzz.example".into(),
    };
    let geom = super::Geometry::new(opts.resolution, opts.paper).unwrap();
    match message_to_pages(msg, &opts) {
        Ok(doc) => {
            assert!(!doc.pages.is_empty());
            assert!(doc.pages.len() <= MAX_PAGES);
            assert_eq!(doc.cover_pages, usize::from(opts.cover_page));
            for p in &doc.pages {
                assert_eq!((p.width, p.height), (geom.width, geom.length));
                assert_eq!(p.data.len(), p.stride() * p.height as usize);
                assert_eq!(p.resolution, opts.resolution);
            }
        }
        Err(e) => check_error(&e),
    }
}

fn check_error(e: &DocumentError) {
    let (code, esc, text) = e.smtp_reply();
    assert!(code == 554 || code == 451, "{code}");
    assert_eq!(
        esc.as_bytes()[0],
        b'0' + (code / 100) as u8,
        "{esc} under {code}"
    );
    assert!(!text.is_empty() && text.len() <= 400, "{text}");
    assert!(
        text.chars().all(|c| c.is_ascii_graphic() || c == ' '),
        "{text}"
    );
    assert!(matches!(e.abort_cause(), 3 | 4));
}

/// Body of the cargo-fuzz target `pdf_to_pages`: the input is a PDF, rendered at standard
/// resolution (to keep runs fast) with at most 4 pages; every page rendered has a size and
/// every refusal makes a sane SMTP reply.
pub fn pdf_to_pages(data: &[u8]) {
    let result = super::pdf::render_pages(data, "fuzz.pdf", 204.0, 97.79, 1728, 4, |r| {
        if let Ok(p) = &r {
            assert!(p.page.width >= 1 && p.page.height >= 1);
            assert_eq!(p.page.data.len(), p.page.stride() * p.page.height as usize);
            assert!(p.x_dpi > 0.0 && p.y_dpi > 0.0);
        }
        true
    });
    if let Err(e) = result {
        check_error(&e);
    }
}

/// Body of the cargo-fuzz target `text_markup`: byte 0 picks text/enriched, text/richtext or
/// text/html, the rest (as UTF-8, lossily) is the part. The plain text is at most as long as
/// the markup (enriched, richtext), HTML nested too deep is refused, and the text breaks into
/// lines of at most 80 cells.
pub fn text_markup(data: &[u8]) {
    let [sel, body @ ..] = data else { return };
    let src = String::from_utf8_lossy(body);
    let text = match sel % 3 {
        0 => {
            let t = super::markup::enriched_to_text(&src, false);
            assert!(t.chars().count() <= src.chars().count());
            t
        }
        1 => {
            let t = super::markup::enriched_to_text(&src, true);
            assert!(t.chars().count() <= src.chars().count());
            t
        }
        _ => match super::markup::html_to_text(&src, 80) {
            Some(t) => t,
            None => {
                assert!(super::markup::html_depth(&src) > super::markup::MAX_HTML_DEPTH);
                return;
            }
        },
    };
    super::text::break_lines::<()>(&text, 80, |l| {
        if let super::text::Line::Text(cells) = l {
            assert!(cells.len() <= 80);
        }
        Ok(())
    })
    .unwrap();
}
