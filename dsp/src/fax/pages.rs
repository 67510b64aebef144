//! Pages on the line: what a DCS (T.30 §5.3.6.2.2, Table 2) says about the T.4 coding, width
//! and resolution of the page data that follows — the one mapping the terminal and the
//! analyser use — and the coding of a page for the line and its decoding from it.
//!
//! Page data travels least significant bit of each octet first (T.4 §2.1 as T.30 §5.3.6.1
//! sends octets).

use crate::image::{Page, PageQuality, Resolution as PageResolution};
use crate::t4::{
    self, BitOrder, DecodeOptions, DecodeStats, Decoder, EncodeOptions, Encoder, Progress,
};
use crate::t30::{Caps, Coding, Resolution};

/// Whether the DCS asks for standard resolution (3.85 lines/mm): T.30 Table 2 bit 15 and
/// bits 41-43 clear. A DCS parsed from the line lists exactly one resolution.
fn standard(dcs: &Caps) -> bool {
    dcs.resolutions
        .first()
        .is_none_or(|r| *r == Resolution::Standard)
}

/// The T.4 coding of the DCS: MR (bit 16) with K = 2 at standard resolution and 4 at the
/// higher ones (T.4 §4.2.1.3.4 gives the largest K; a decoder reads any), MMR (bit 31),
/// else MH.
pub fn t4_coding(dcs: &Caps) -> t4::Coding {
    match dcs.codings.first() {
        Some(Coding::Mr) => t4::Coding::Mr {
            k: if standard(dcs) { 2 } else { 4 },
        },
        Some(Coding::Mmr) => t4::Coding::Mmr,
        Some(Coding::Mh) | None => t4::Coding::Mh,
    }
}

/// The page resolution of the DCS: standard without bit 15 or bits 41-43 (T.30 Table 2),
/// fine (bit 15), superfine (bit 41), 300 × 300 (bit 42), 16 × 15.4 (bit 43).
pub fn page_resolution(dcs: &Caps) -> PageResolution {
    match dcs.resolutions.first() {
        None | Some(Resolution::Standard) => PageResolution::STANDARD,
        Some(Resolution::Fine) => PageResolution::FINE,
        Some(Resolution::Superfine) => PageResolution::SUPERFINE,
        Some(Resolution::R300) => PageResolution {
            x_dpi: 300.0,
            y_dpi: 300.0,
        },
        Some(Resolution::R400) => PageResolution {
            x_dpi: 408.0,
            y_dpi: 391.0,
        },
    }
}

/// The T.30 resolution that describes a page (for the document the caller offers).
pub fn t30_resolution(r: PageResolution) -> Resolution {
    if r.y_dpi > 300.0 {
        Resolution::Superfine
    } else if r.y_dpi > 150.0 {
        Resolution::Fine
    } else {
        Resolution::Standard
    }
}

/// A decoder for the page data that follows `dcs` and the empty page it fills; it takes
/// octets in `order`: [`BitOrder::LsbFirst`] for octets as they travel (T.4 §2.1), or
/// [`BitOrder::MsbFirst`] for the line's bits packed first bit highest, as a receiver hands
/// them over.
pub fn page_decoder(dcs: &Caps, order: BitOrder) -> Option<(Decoder, Page)> {
    decoder(
        t4_coding(dcs),
        dcs.width.pels(),
        page_resolution(dcs),
        order,
    )
}

fn decoder(
    coding: t4::Coding,
    width: u32,
    resolution: PageResolution,
    order: BitOrder,
) -> Option<(Decoder, Page)> {
    let mut o = DecodeOptions::new(coding, width);
    o.bit_order = order;
    let decoder = Decoder::new(o).ok()?;
    Some((decoder, Page::new(width, 0, resolution)))
}

/// The rows a decoder still holds once its input is over, added to `page` (up to
/// [`t4::DEFAULT_MAX_ROWS`]); the page's height and quality (rows that did not decode) are
/// set from them. Also whether the data ended with RTC (EOFB for MMR).
pub fn finish_page(dec: &mut Decoder, page: &mut Page) -> (DecodeStats, bool) {
    dec.finish_input();
    let max = t4::DEFAULT_MAX_ROWS as usize * page.stride();
    let complete = loop {
        match dec.next_row() {
            Ok(Progress::Row(row)) => {
                if page.data.len() < max {
                    page.data.extend_from_slice(row);
                }
            }
            Ok(Progress::End) => break dec.saw_end_marker(),
            Ok(Progress::NeedInput) | Err(_) => break false,
        }
    };
    page.height = (page.data.len() / page.stride().max(1)) as u32;
    page.data.truncate(page.height as usize * page.stride());
    let st = dec.stats();
    if st.bad_rows > 0 {
        page.quality = Some(PageQuality {
            bad_rows: st.bad_rows,
            max_consecutive_bad_rows: st.max_consecutive_bad_rows,
        });
    }
    (st, complete)
}

/// A page decoded from the line, and how the decoding went.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub page: Page,
    pub stats: DecodeStats,
    /// The data ended with RTC (EOFB for MMR).
    pub complete: bool,
}

/// Coded octets (LSB first) decoded into a page of `width` pels with `coding`; `None` if
/// the width cannot be decoded.
pub fn decode(
    data: &[u8],
    coding: t4::Coding,
    width: u32,
    resolution: PageResolution,
) -> Option<Decoded> {
    let (mut dec, mut page) = decoder(coding, width, resolution, BitOrder::LsbFirst)?;
    dec.push(data);
    let (stats, complete) = finish_page(&mut dec, &mut page);
    Some(Decoded {
        page,
        stats,
        complete,
    })
}

/// A page as it arrived whole (an ECM page: coded octets, LSB first) decoded into pels;
/// rows that do not decode are counted in its quality, as for non-ECM pages.
pub fn decode_page(data: &[u8], dcs: &Caps) -> Page {
    let (width, resolution) = (dcs.width.pels(), page_resolution(dcs));
    decode(data, t4_coding(dcs), width, resolution)
        .map_or_else(|| Page::new(width, 0, resolution), |d| d.page)
}

/// `page` coded for the line: fitted to the DCS width and resolution, MH/MR with the
/// minimum scan-line time and RTC, LSB first.
pub fn encode_page(page: &Page, dcs: &Caps) -> Vec<u8> {
    let width = dcs.width.pels();
    let rate = dcs.rate.map_or(2400, |r| r.bps);
    // With ECM the minimum scan-line time does not apply (T.30 §A.1, T.4 §A.2).
    let scan_ms = if dcs.ecm {
        0
    } else {
        dcs.scan_time.normal_ms as u32
    };
    // LSB-first octets: the modem sends each octet's least significant bit first.
    let opts = EncodeOptions::new(t4_coding(dcs), width).min_scan_time(scan_ms, rate);
    let mut out = Vec::new();
    let Ok(mut enc) = Encoder::new(opts) else {
        return out;
    };
    // Standard resolution from a fine page: every other row.
    let step = if standard(dcs) && page.resolution.y_dpi > 150.0 {
        2
    } else {
        1
    };
    let mut row = vec![0u8; (width as usize).div_ceil(8)];
    for y in (0..page.height).step_by(step) {
        let src = page.row(y);
        if src.len() == row.len() && page.width == width {
            // The page is the line's width: its rows as they are.
            enc.encode_row(src, &mut out);
            continue;
        }
        row.fill(0);
        let n = row.len().min(src.len());
        row[..n].copy_from_slice(&src[..n]);
        if page.width < width {
            // Clear pad bits of a narrower page so they do not read as black.
            let w = page.width as usize;
            if !w.is_multiple_of(8) {
                row[w / 8] &= 0xFFu8 << (8 - w % 8);
            }
        }
        enc.encode_row(&row, &mut out);
    }
    enc.finish(&mut out);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::t30::{DataRate, ScanTime, Width};

    /// A V.29 9600 DCS, A4, with these codings and resolutions (the page tests' and the
    /// page sink's).
    pub(crate) fn dcs(codings: Vec<Coding>, resolutions: Vec<Resolution>) -> Caps {
        Caps {
            polling: false,
            receive: true,
            modulations: vec![],
            v27ter_4800: false,
            rate: Some(DataRate::V29_9600),
            resolutions,
            codings,
            width: Width::A4,
            length: 0,
            scan_time: ScanTime {
                normal_ms: 0,
                fine_ms: 0,
            },
            uncompressed: false,
            ecm: false,
            ecm_64: false,
            inch_based: false,
            metric_based: true,
        }
    }

    #[test]
    fn the_dcs_says_coding_and_resolution_as_t30_table_2_does() {
        let c = dcs(vec![Coding::Mr], vec![Resolution::Standard]);
        assert_eq!(t4_coding(&c), t4::Coding::Mr { k: 2 });
        assert_eq!(page_resolution(&c), PageResolution::STANDARD);
        let c = dcs(vec![Coding::Mr], vec![Resolution::Fine]);
        assert_eq!(t4_coding(&c), t4::Coding::Mr { k: 4 });
        assert_eq!(page_resolution(&c), PageResolution::FINE);
        let c = dcs(vec![Coding::Mmr], vec![Resolution::Superfine]);
        assert_eq!(t4_coding(&c), t4::Coding::Mmr);
        assert_eq!(page_resolution(&c), PageResolution::SUPERFINE);
        // No coding or resolution bit: MH at standard resolution.
        let c = dcs(vec![], vec![]);
        assert_eq!(t4_coding(&c), t4::Coding::Mh);
        assert_eq!(page_resolution(&c), PageResolution::STANDARD);
        assert_eq!(
            page_resolution(&dcs(vec![], vec![Resolution::R300])).y_dpi,
            300.0
        );
        for r in [
            PageResolution::STANDARD,
            PageResolution::FINE,
            PageResolution::SUPERFINE,
        ] {
            let c = dcs(vec![], vec![t30_resolution(r)]);
            assert_eq!(page_resolution(&c), r);
        }
    }

    #[test]
    fn a_page_coded_for_the_line_decodes_back() {
        let mut page = Page::new(1728, 40, PageResolution::FINE);
        for y in 0..40 {
            let stride = page.stride();
            page.data[y * stride + y % 200] = 0xF0;
        }
        for coding in [Coding::Mh, Coding::Mr, Coding::Mmr] {
            let c = dcs(vec![coding], vec![Resolution::Fine]);
            let back = decode_page(&encode_page(&page, &c), &c);
            assert_eq!(
                (back.height, back.quality.is_none()),
                (40, true),
                "{coding:?}"
            );
            assert!(back.data == page.data, "{coding:?}");
        }
        // Standard resolution from a fine page: every other row.
        let c = dcs(vec![Coding::Mh], vec![Resolution::Standard]);
        assert_eq!(decode_page(&encode_page(&page, &c), &c).height, 20);
    }
}
