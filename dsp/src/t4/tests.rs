//! Codec unit tests: synthetic pages through every coding, chunked input, corrupt rows.

use super::*;
use crate::image::{Page, Resolution};

pub(crate) fn lcg(seed: &mut u32) -> u32 {
    *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
    *seed >> 16
}

/// Pages that stress the codes: all white, all black, checkerboards, random, columns.
pub(crate) fn test_pages(width: u32, height: u32) -> Vec<(String, Page)> {
    let mut pages = Vec::new();
    let mut make = |name: &str, f: &mut dyn FnMut(u32, u32) -> bool| {
        let mut p = Page::new(width, height, Resolution::FINE);
        for y in 0..height {
            for x in 0..width {
                if f(x, y) {
                    p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        pages.push((name.to_string(), p));
    };
    make("white", &mut |_, _| false);
    make("black", &mut |_, _| true);
    make("checker1", &mut |x, y| (x + y) % 2 == 1);
    make("checker7", &mut |x, y| (x / 7 + y / 3) % 2 == 1);
    make("columns", &mut |x, _| x % 97 == 0 || x == width - 1);
    make("stairs", &mut |x, y| x >= y * 3 % width);
    let mut seed = width ^ (height << 16);
    make("random", &mut |_, _| lcg(&mut seed).is_multiple_of(5));
    let mut seed2 = 99u32;
    make("blobs", &mut |x, y| {
        let _ = lcg(&mut seed2);
        ((x / 40) * 7 + (y / 25) * 13) % 5 < 2
    });
    pages
}

fn codings() -> Vec<Coding> {
    vec![
        Coding::Mh,
        Coding::Mr { k: 1 },
        Coding::Mr { k: 2 },
        Coding::Mr { k: 4 },
        Coding::Mr { k: 1000 },
        Coding::Mmr,
    ]
}

fn encode(page: &Page, opts: EncodeOptions) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::encode_page(opts, &page.data, page.stride(), &mut out).unwrap();
    out
}

fn decode(data: &[u8], mut opts: DecodeOptions, rows: Option<u32>) -> (Vec<u8>, DecodeStats) {
    opts.rows = rows;
    let mut out = Vec::new();
    let stats = Decoder::decode_page(opts, data, |r| out.extend_from_slice(r)).unwrap();
    (out, stats)
}

#[test]
fn round_trip_every_coding_and_width() {
    for width in [1u32, 7, 8, 9, 63, 64, 65, 200, 1728, 2048, 2432, 4864, 5000] {
        for (name, page) in test_pages(width, 23) {
            for coding in codings() {
                for (order, fill) in [
                    (BitOrder::MsbFirst, 0),
                    (BitOrder::LsbFirst, 0),
                    (BitOrder::LsbFirst, 40),
                    (BitOrder::MsbFirst, 20),
                ] {
                    let mut eo = EncodeOptions::new(coding, width).min_scan_time(fill, 14400);
                    eo.align_eol = fill == 20;
                    eo.bit_order = order;
                    let data = encode(&page, eo);
                    let mut dopt = DecodeOptions::new(coding, width);
                    dopt.bit_order = order;
                    // Until RTC/EOFB, and with the row count known.
                    for rows in [None, Some(page.height)] {
                        let (got, stats) = decode(&data, dopt, rows);
                        assert_eq!(
                            stats.rows, page.height,
                            "{name} w={width} {coding:?} {order:?}"
                        );
                        assert_eq!(stats.bad_rows, 0, "{name} w={width} {coding:?}");
                        assert!(
                            got == page.data,
                            "{name} w={width} {coding:?} {order:?} rows={rows:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn tiff_layout_without_rtc_decodes_with_row_count() {
    for (name, page) in test_pages(1728, 40) {
        for coding in codings() {
            let data = encode(&page, EncodeOptions::tiff(coding, 1728));
            let mut o = DecodeOptions::new(coding, 1728);
            o.bit_order = BitOrder::MsbFirst;
            let (got, stats) = decode(&data, o, Some(40));
            assert_eq!((stats.rows, stats.bad_rows), (40, 0), "{name} {coding:?}");
            assert!(got == page.data, "{name} {coding:?}");
        }
    }
}

#[test]
fn chunked_input_gives_the_same_rows() {
    let pages = test_pages(1728, 30);
    for coding in codings() {
        for (name, page) in &pages {
            for fill_ms in [0, 40] {
                // 40 ms at 14400 bit/s = 576 bits of fill on short rows: fill spans chunks.
                let data = encode(
                    page,
                    EncodeOptions::new(coding, 1728).min_scan_time(fill_ms, 14400),
                );
                for chunk in [1usize, 3, 17, 36, 256] {
                    let mut d = Decoder::new(DecodeOptions::new(coding, 1728)).unwrap();
                    let mut got = Vec::new();
                    let mut chunks = data.chunks(chunk);
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
                    assert!(
                        got == page.data,
                        "{name} {coding:?} chunk {chunk} fill {fill_ms} ms"
                    );
                    assert_eq!(d.stats().bad_rows, 0);
                }
            }
        }
    }
}

#[test]
fn minimum_scan_time_pads_every_row() {
    let page = &test_pages(1728, 10)[0].1; // white rows: ~20 bits each
    for coding in [Coding::Mh, Coding::Mr { k: 2 }] {
        let opts = EncodeOptions::new(coding, 1728).min_scan_time(20, 9600); // 192 bits
        assert_eq!(opts.min_row_bits, 192);
        let data = encode(page, opts);
        // 10 rows of ≥192 bits, then RTC (6 EOLs, with tags in MR).
        let rtc = if coding == Coding::Mh { 72 } else { 78 };
        assert!(
            data.len() * 8 >= 10 * 192 + rtc,
            "{coding:?}: {} bytes",
            data.len()
        );
        assert!(data.len() * 8 < 10 * 192 + rtc + 8 + 192);
        let (got, stats) = decode(&data, DecodeOptions::new(coding, 1728), None);
        assert_eq!(stats.rows, 10);
        assert!(got == page.data);
    }
}

#[test]
fn aligned_eols_end_on_byte_boundaries() {
    let page = &test_pages(1728, 12)[6].1;
    for coding in [Coding::Mh, Coding::Mr { k: 4 }] {
        let mut opts = EncodeOptions::tiff(coding, 1728);
        opts.align_eol = true;
        let data = encode(page, opts);
        // Every EOL's final 1 bit is the last bit of a byte: find them by scanning.
        let mut zeros = 0;
        let mut eols = 0;
        for (i, b) in data.iter().enumerate() {
            for k in 0..8 {
                let bit = b >> (7 - k) & 1;
                if bit == 1 {
                    if zeros >= 11 {
                        assert_eq!(k, 7, "EOL ends mid-byte at byte {i}");
                        eols += 1;
                    }
                    zeros = 0;
                } else {
                    zeros += 1;
                }
            }
        }
        assert_eq!(eols, 12);
        let mut o = DecodeOptions::new(coding, 1728);
        o.bit_order = BitOrder::MsbFirst;
        let (got, _) = decode(&data, o, Some(12));
        assert!(got == page.data);
    }
}

#[test]
fn corrupt_mh_row_is_replaced_by_the_previous_row() {
    let (_, page) = test_pages(1728, 20).into_iter().nth(7).unwrap();
    for coding in [Coding::Mh, Coding::Mr { k: 4 }] {
        let mut opts = EncodeOptions::new(coding, 1728);
        opts.bit_order = BitOrder::MsbFirst;
        opts.align_eol = true;
        let mut data = Vec::new();
        let mut enc = Encoder::new(opts).unwrap();
        let mut starts = Vec::new();
        for y in 0..20 {
            starts.push(data.len());
            enc.encode_row(page.row(y), &mut data);
        }
        enc.finish(&mut data);
        // Smash row 5's data (bytes after its EOL) with a pattern no code matches.
        let s = starts[5] + 2;
        for b in &mut data[s..s + 3] {
            *b = 0x00;
        }
        data[s + 3] = 0x01; // ... then a lone 1 after 24+7 zeros: an EOL-like stop
        let mut o = DecodeOptions::new(coding, 1728);
        o.bit_order = BitOrder::MsbFirst;
        let (got, stats) = decode(&data, o, None);
        assert!(stats.bad_rows >= 1, "{coding:?}: {stats:?}");
        assert!(stats.first_error.is_some());
        let stride = page.stride();
        assert!(stats.rows >= 20, "{coding:?}: {stats:?}");
        // Rows before the damage are intact; the bad row repeats row 4.
        assert_eq!(&got[..5 * stride], &page.data[..5 * stride]);
        assert_eq!(&got[5 * stride..6 * stride], page.row(4));
        // Decoding resynchronised: the last row is intact.
        let n = got.len() / stride;
        assert_eq!(&got[(n - 1) * stride..], page.row(19), "{coding:?}");
    }
}

#[test]
fn mmr_error_stops_the_page_with_its_row() {
    let (_, page) = test_pages(1728, 20).into_iter().nth(6).unwrap();
    let mut data = encode(&page, EncodeOptions::new(Coding::Mmr, 1728));
    let mid = data.len() / 2;
    data[mid..mid + 4].fill(0);
    let mut o = DecodeOptions::new(Coding::Mmr, 1728);
    o.rows = Some(20);
    let err = Decoder::decode_page(o, &data, |_| {}).unwrap_err();
    assert!(err.row > 0 && err.row < 20, "{err}");
    assert!(err.to_string().starts_with(&format!("row {}", err.row)));
}

#[test]
fn truncated_page_with_declared_rows_is_an_error() {
    let (_, page) = test_pages(1728, 20).into_iter().nth(6).unwrap();
    for coding in codings() {
        let data = encode(&page, EncodeOptions::tiff(coding, 1728));
        let cut = &data[..data.len() / 2];
        let mut o = DecodeOptions::new(coding, 1728);
        o.bit_order = BitOrder::MsbFirst;
        o.rows = Some(20);
        let err = Decoder::decode_page(o, cut, |_| {}).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Truncated, "{coding:?}");
    }
}

#[test]
fn garbage_never_panics_and_is_bounded() {
    let mut seed = 7u32;
    for coding in codings() {
        for len in [0usize, 1, 2, 5, 100, 5000] {
            let data: Vec<u8> = (0..len).map(|_| lcg(&mut seed) as u8).collect();
            for rows in [None, Some(100)] {
                let mut o = DecodeOptions::new(coding, 1728);
                o.rows = rows;
                o.max_rows = 10_000;
                let _ = Decoder::decode_page(o, &data, |_| {});
            }
        }
    }
}

#[test]
fn hostile_all_white_mmr_hits_the_row_limit() {
    let data = vec![0xFFu8; 100_000]; // V0 V0 V0 …: 800 000 white rows
    let mut o = DecodeOptions::new(Coding::Mmr, 1728);
    o.max_rows = 5000;
    let err = Decoder::decode_page(o, &data, |_| {}).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooManyRows { limit: 5000 });
}

#[test]
fn bad_widths_are_refused() {
    assert!(Decoder::new(DecodeOptions::new(Coding::Mh, 0)).is_err());
    assert!(Decoder::new(DecodeOptions::new(Coding::Mh, MAX_WIDTH + 1)).is_err());
    assert!(Encoder::new(EncodeOptions::new(Coding::Mr { k: 0 }, 1728)).is_err());
}

/// Golden bits from T.4's own rules: an all-white 1728 row in MH is EOL + makeup 1728
/// (010011011) + terminating 0 (00110101).
#[test]
fn golden_white_row() {
    let mut p = Page::new(1728, 1, Resolution::FINE);
    p.data.fill(0);
    let mut opts = EncodeOptions::tiff(Coding::Mh, 1728);
    opts.end_of_page = false;
    let data = encode(&p, opts);
    // 000000000001 010011011 00110101 + 3 pad bits = 32 bits
    assert_eq!(
        data,
        vec![0b0000_0000, 0b0001_0100, 0b1101_1001, 0b1010_1000]
    );
    let opts = EncodeOptions::tiff(Coding::Mmr, 1728);
    // MMR: V0 for the whole row, then EOFB.
    let data = encode(&p, opts);
    assert_eq!(
        data,
        vec![0b1000_0000, 0b0000_1000, 0b0000_0000, 0b1000_0000]
    );
}

#[test]
fn endless_fill_or_zero_length_runs_stay_bounded() {
    // Fill forever (a stuck line): the buffer keeps only a tail of it.
    for coding in [Coding::Mh, Coding::Mr { k: 4 }] {
        let mut d = Decoder::new(DecodeOptions::new(coding, 1728)).unwrap();
        let zeros = vec![0u8; 1024];
        for _ in 0..2000 {
            d.push(&zeros);
            assert_eq!(d.next_row().unwrap(), Progress::NeedInput);
            assert!(
                d.buffered() < 8192,
                "{coding:?}: {} bytes held",
                d.buffered()
            );
        }
    }
    // Zero-length runs forever: MH white 0 (00110101) and black 0 (0000110111) alternate,
    // MMR VL1 (010) against a reference with a change: each becomes a bad row or an error,
    // never an unbounded row.
    let mut w = super::bits::BitWriter::default();
    let mut mh = Vec::new();
    w.put(&mut mh, 1, 12);
    for _ in 0..20_000 {
        w.put(&mut mh, 0b00110101, 8);
        w.put(&mut mh, 0b0000110111, 10);
    }
    w.finish(&mut mh);
    let mut o = DecodeOptions::new(Coding::Mh, 64);
    o.bit_order = BitOrder::MsbFirst;
    let st = Decoder::decode_page(o, &mh, |_| {}).unwrap();
    assert!(st.bad_rows >= 1 && st.rows < 100, "{st:?}");
}
