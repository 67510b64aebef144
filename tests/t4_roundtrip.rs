//! Round trips of the 8 ITU charts through every coding and K, the two independent
//! encodings of the charts in vectors/ (T.6 TIFFs vs PBMs), and chunked decoding.

mod common;

use common::*;
use softfax::dsp::image::Page;
use softfax::dsp::t4::{Coding, DecodeOptions, Decoder, EncodeOptions, Encoder, Progress};
use softfax::dsp::tiff::{self, WriteOptions};

#[test]
fn ccitt_g4_tiffs_decode_to_the_itu_pbms() {
    for (n, (name, page)) in itu_charts().into_iter().enumerate() {
        let path = vectors().join(format!("ccitt-t24/g4-tiff/CCITT_{}.TIF", n + 1));
        let decoded = tiff::read_pages(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0].stats.bad_rows, 0);
        assert_same_pels(
            &format!("CCITT_{} vs {name}", n + 1),
            &decoded[0].page,
            &page,
        );
    }
}

#[test]
fn charts_round_trip_through_tiff_in_every_coding() {
    let charts = itu_charts();
    let pages: Vec<Page> = charts.iter().map(|(_, p)| p.clone()).collect();
    for coding in [
        None,
        Some(Coding::Mh),
        Some(Coding::Mr { k: 1 }),
        Some(Coding::Mr { k: 2 }),
        Some(Coding::Mr { k: 4 }),
        Some(Coding::Mr { k: 7 }),
        Some(Coding::Mmr),
    ] {
        for align_eol in [false, true] {
            let data = tiff::write_pages(&pages, WriteOptions { coding, align_eol }).unwrap();
            let back = tiff::read_pages(&data).unwrap();
            assert_eq!(back.len(), 8);
            for (i, (b, p)) in back.iter().zip(&pages).enumerate() {
                assert_eq!(b.info.page_number, Some((i as u16, 8)));
                assert_eq!(b.info.resolution, Some(p.resolution));
                assert_same_pels(
                    &format!("{coding:?} align={align_eol} {}", charts[i].0),
                    &b.page,
                    p,
                );
            }
        }
    }
}

#[test]
fn charts_stream_in_line_sized_chunks() {
    // Phase C delivers bytes in modem-sized blocks: 14400 bit/s in 20 ms = 36 bytes.
    for (name, page) in itu_charts().into_iter().take(4) {
        for coding in [Coding::Mh, Coding::Mr { k: 4 }, Coding::Mmr] {
            let mut coded = Vec::new();
            let opts = EncodeOptions::new(coding, page.width).min_scan_time(10, 14400);
            Encoder::encode_page(opts, &page.data, page.stride(), &mut coded).unwrap();
            let mut d = Decoder::new(DecodeOptions::new(coding, page.width)).unwrap();
            let mut got = Vec::with_capacity(page.data.len());
            let mut chunks = coded.chunks(36);
            loop {
                match d.next_row().unwrap() {
                    Progress::Row(r) => got.extend_from_slice(r),
                    Progress::NeedInput => match chunks.next() {
                        Some(c) => d.push(c),
                        None => d.finish_input(),
                    },
                    Progress::End => break,
                }
            }
            assert_eq!(
                d.stats().rows,
                page.height,
                "{name} {coding:?} {:?}",
                d.stats()
            );
            assert!(got == page.data, "{name} {coding:?}");
        }
    }
}
