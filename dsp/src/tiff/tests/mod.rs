//! The TIFF reader and writer against hand-built files in both byte orders: a test-only
//! builder, golden bytes, round trips and features; rejected files are in `rejected.rs`.

use super::tags::*;
use super::*;
use crate::image::{PageQuality, Resolution};

mod rejected;

// -----------------------------------------------------------------------------------------
// A test-only TIFF builder, for either byte order and for damaged files.
// -----------------------------------------------------------------------------------------

/// An entry's values: inline/out-of-line as the size requires, or a given count and offset.
enum V {
    N(Vec<u32>),
    At(u32, u32),
}

struct Hand {
    big: bool,
    buf: Vec<u8>,
    link_at: usize,
}

impl Hand {
    fn new(big: bool) -> Hand {
        let mut h = Hand {
            big,
            buf: Vec::new(),
            link_at: 4,
        };
        h.buf.extend_from_slice(if big { b"MM" } else { b"II" });
        h.put16(42);
        h.put32(0);
        h
    }

    fn bytes16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn bytes32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn put16(&mut self, v: u16) {
        let b = self.bytes16(v);
        self.buf.extend_from_slice(&b);
    }

    fn put32(&mut self, v: u32) {
        let b = self.bytes32(v);
        self.buf.extend_from_slice(&b);
    }

    fn patch32(&mut self, at: usize, v: u32) {
        let b = self.bytes32(v);
        self.buf[at..at + 4].copy_from_slice(&b);
    }

    fn pos(&self) -> u32 {
        self.buf.len() as u32
    }

    /// Appends raw bytes (strip data, arrays) on an even offset; returns the offset.
    fn blob(&mut self, b: &[u8]) -> u32 {
        if self.buf.len() % 2 == 1 {
            self.buf.push(0);
        }
        let at = self.pos();
        self.buf.extend_from_slice(b);
        at
    }

    /// An array of LONGs as a blob.
    fn longs(&mut self, v: &[u32]) -> u32 {
        let bytes: Vec<u8> = v.iter().flat_map(|&x| self.bytes32(x)).collect();
        self.blob(&bytes)
    }

    fn encode(&self, typ: u16, vals: &[u32]) -> (u32, Vec<u8>) {
        match typ {
            BYTE | ASCII | UNDEFINED => {
                (vals.len() as u32, vals.iter().map(|&v| v as u8).collect())
            }
            SHORT => (
                vals.len() as u32,
                vals.iter().flat_map(|&v| self.bytes16(v as u16)).collect(),
            ),
            LONG => (
                vals.len() as u32,
                vals.iter().flat_map(|&v| self.bytes32(v)).collect(),
            ),
            RATIONAL => (
                vals.len() as u32 / 2,
                vals.iter().flat_map(|&v| self.bytes32(v)).collect(),
            ),
            // Unknown types: the count is the number of values, the field is 0.
            _ => (vals.len() as u32, Vec::new()),
        }
    }

    /// Appends an IFD (linked from the previous one) and its out-of-line values; returns
    /// its offset.
    fn ifd(&mut self, entries: &[(u16, u16, V)]) -> u32 {
        if self.buf.len() % 2 == 1 {
            self.buf.push(0);
        }
        let at = self.pos();
        let mut values_at = at + 2 + 12 * entries.len() as u32 + 4;
        let mut values = Vec::new();
        self.put16(entries.len() as u16);
        for (tag, typ, v) in entries {
            self.put16(*tag);
            self.put16(*typ);
            match v {
                V::N(vals) => {
                    let (count, bytes) = self.encode(*typ, vals);
                    self.put32(count);
                    if bytes.len() <= 4 {
                        let mut field = bytes.clone();
                        field.resize(4, 0);
                        self.buf.extend_from_slice(&field);
                    } else {
                        self.put32(values_at);
                        values.extend_from_slice(&bytes);
                        if values.len() % 2 == 1 {
                            values.push(0);
                        }
                        values_at = at + 2 + 12 * entries.len() as u32 + 4 + values.len() as u32;
                    }
                }
                V::At(count, off) => {
                    self.put32(*count);
                    self.put32(*off);
                }
            }
        }
        let link = self.buf.len();
        self.put32(0);
        self.buf.extend_from_slice(&values);
        self.patch32(self.link_at, at);
        self.link_at = link;
        at
    }

    /// Where the next-IFD link of the IFD at `ifd` is.
    fn link_of(&self, ifd: u32) -> usize {
        let i = ifd as usize;
        let n = [self.buf[i], self.buf[i + 1]];
        let n = if self.big {
            u16::from_be_bytes(n)
        } else {
            u16::from_le_bytes(n)
        };
        i + 2 + 12 * n as usize
    }
}

fn n(v: &[u32]) -> V {
    V::N(v.to_vec())
}

/// A one-strip, uncompressed page of `width` × `height` whose strip is at `strip`, plus
/// `extra` entries (kept in ascending order by the caller's choice of tags).
fn simple_page(
    h: &mut Hand,
    width: u32,
    height: u32,
    strip: (u32, u32),
    extra: Vec<(u16, u16, V)>,
) -> u32 {
    let mut e = vec![
        (IMAGE_WIDTH, LONG, n(&[width])),
        (IMAGE_LENGTH, LONG, n(&[height])),
        (STRIP_OFFSETS, LONG, n(&[strip.0])),
        (STRIP_BYTE_COUNTS, LONG, n(&[strip.1])),
    ];
    e.extend(extra);
    e.sort_by_key(|x| x.0);
    h.ifd(&e)
}

fn one_page_file(big: bool, extra: Vec<(u16, u16, V)>) -> Vec<u8> {
    let mut h = Hand::new(big);
    let s = h.blob(&[0xF0, 0x0F]);
    simple_page(&mut h, 8, 2, (s, 2), extra);
    h.buf
}

// -----------------------------------------------------------------------------------------
// Golden bytes: deconstruct / construct / impossible length
// -----------------------------------------------------------------------------------------

/// 8 × 2 uncompressed page, strip at 8, IFD at 10 with 14 entries, two RATIONALs after it;
    /// resolution in pixels per centimetre (80 × 77).
    #[rustfmt::skip]
    static GOLDEN_LE: [u8; 200] = [
        b'I', b'I', 42, 0,   10, 0, 0, 0,               // header: IFD at 10
        0xF0, 0x0F,                                     // strip: rows 11110000, 00001111
        14, 0,                                          // 14 entries
        0xFE, 0x00, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,       // NewSubfileType LONG 2
        0x00, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0,       // ImageWidth SHORT 8
        0x01, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,       // ImageLength SHORT 2
        0x02, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,       // BitsPerSample 1
        0x03, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,       // Compression 1
        0x06, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0,       // Photometric 0
        0x11, 0x01, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0,       // StripOffsets LONG 8
        0x15, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,       // SamplesPerPixel 1
        0x16, 0x01, 4, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, // RowsPerStrip 2^32-1
        0x17, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,       // StripByteCounts SHORT 2
        0x1A, 0x01, 5, 0, 1, 0, 0, 0, 184, 0, 0, 0,     // XResolution @184
        0x1B, 0x01, 5, 0, 1, 0, 0, 0, 192, 0, 0, 0,     // YResolution @192
        0x28, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0,       // ResolutionUnit 3 (cm)
        0x29, 0x01, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0,       // PageNumber 0, 1
        0, 0, 0, 0,                                     // no next IFD
        80, 0, 0, 0, 1, 0, 0, 0,                        // 80/1
        77, 0, 0, 0, 1, 0, 0, 0,                        // 77/1
    ];

/// The same file in big-endian order.
    #[rustfmt::skip]
    static GOLDEN_BE: [u8; 200] = [
        b'M', b'M', 0, 42,   0, 0, 0, 10,
        0xF0, 0x0F,
        0, 14,
        0x00, 0xFE, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2,
        0x01, 0x00, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0,
        0x01, 0x01, 0, 3, 0, 0, 0, 1, 0, 2, 0, 0,
        0x01, 0x02, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,
        0x01, 0x03, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,
        0x01, 0x06, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0,
        0x01, 0x11, 0, 4, 0, 0, 0, 1, 0, 0, 0, 8,
        0x01, 0x15, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,
        0x01, 0x16, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF,
        0x01, 0x17, 0, 3, 0, 0, 0, 1, 0, 2, 0, 0,
        0x01, 0x1A, 0, 5, 0, 0, 0, 1, 0, 0, 0, 184,
        0x01, 0x1B, 0, 5, 0, 0, 0, 1, 0, 0, 0, 192,
        0x01, 0x28, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0,
        0x01, 0x29, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1,
        0, 0, 0, 0,
        0, 0, 0, 80, 0, 0, 0, 1,
        0, 0, 0, 77, 0, 0, 0, 1,
    ];

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-3
}

#[test]
fn deconstruct() {
    for golden in [&GOLDEN_LE[..], &GOLDEN_BE[..]] {
        let pages = parse(golden).unwrap();
        assert_eq!(pages.len(), 1);
        let p = &pages[0];
        assert_eq!(p.index, 0);
        assert_eq!((p.width, p.height), (8, 2));
        assert_eq!(p.compression, Compression::None);
        assert_eq!(p.fill_order, FillOrder::MsbFirst);
        assert_eq!(p.photometric, Photometric::MinIsWhite);
        assert_eq!((p.t4_options, p.t6_options), (0, 0));
        let res = p.resolution.unwrap();
        assert!(close(res.x_dpi, 203.2), "{res:?}");
        assert!(close(res.y_dpi, 195.58), "{res:?}");
        assert_eq!(p.rows_per_strip, 2);
        assert_eq!(p.strips, vec![(8, 2)]);
        assert_eq!(p.strip_data(golden, 0), &[0xF0, 0x0F]);
        assert_eq!(p.strip_data(golden, 1), &[] as &[u8]);
        assert_eq!(p.strip_data(&golden[..5], 0), &[] as &[u8]);
        assert_eq!(p.strip_rows(0), 2);
        assert_eq!(p.page_number, Some((0, 1)));
        assert_eq!(p.new_subfile_type, 2);
        assert_eq!(p.bad_fax_lines, None);
        assert_eq!(p.clean_fax_data, None);
        assert_eq!(p.consecutive_bad_fax_lines, None);
    }
    assert_eq!(parse(&GOLDEN_LE).unwrap(), parse(&GOLDEN_BE).unwrap());
}

#[test]
fn hand_builder_matches_golden() {
    // The builder used by the other tests lays out files like the golden ones.
    for (big, golden) in [(false, &GOLDEN_LE), (true, &GOLDEN_BE)] {
        let mut h = Hand::new(big);
        h.blob(&[0xF0, 0x0F]);
        h.ifd(&[
            (NEW_SUBFILE_TYPE, LONG, n(&[2])),
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[2])),
            (BITS_PER_SAMPLE, SHORT, n(&[1])),
            (COMPRESSION, SHORT, n(&[1])),
            (PHOTOMETRIC, SHORT, n(&[0])),
            (STRIP_OFFSETS, LONG, n(&[8])),
            (SAMPLES_PER_PIXEL, SHORT, n(&[1])),
            (ROWS_PER_STRIP, LONG, n(&[u32::MAX])),
            (STRIP_BYTE_COUNTS, SHORT, n(&[2])),
            (X_RESOLUTION, RATIONAL, n(&[80, 1])),
            (Y_RESOLUTION, RATIONAL, n(&[77, 1])),
            (RESOLUTION_UNIT, SHORT, n(&[3])),
            (PAGE_NUMBER, SHORT, n(&[0, 1])),
        ]);
        assert_eq!(&h.buf[..], &golden[..]);
    }
}

#[test]
fn construct() {
    let mut w = TiffWriter::new();
    w.add_page(
        &PageMeta {
            width: 8,
            height: 2,
            resolution: Resolution::FINE,
            compression: Compression::T4,
            t4_options: T4_OPT_FILL_BITS,
            t6_options: 99, // not written for T.4
            fill_order: FillOrder::MsbFirst,
            quality: None,
        },
        &[0xAB, 0xCD],
    );
    #[rustfmt::skip]
        let expected: [u8; 244] = [
            b'I', b'I', 42, 0,   10, 0, 0, 0,
            0xAB, 0xCD,                                 // the strip
            17, 0,
            0xFE, 0x00, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // NewSubfileType 2
            0x00, 0x01, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0,   // ImageWidth LONG 8
            0x01, 0x01, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // ImageLength LONG 2
            0x02, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,   // BitsPerSample 1
            0x03, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0,   // Compression 3
            0x06, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0,   // Photometric 0
            0x0A, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,   // FillOrder 1
            0x11, 0x01, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0,   // StripOffsets 8
            0x15, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,   // SamplesPerPixel 1
            0x16, 0x01, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // RowsPerStrip 2
            0x17, 0x01, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // StripByteCounts 2
            0x1A, 0x01, 5, 0, 1, 0, 0, 0, 220, 0, 0, 0, // XResolution @220
            0x1B, 0x01, 5, 0, 1, 0, 0, 0, 228, 0, 0, 0, // YResolution @228
            0x24, 0x01, 4, 0, 1, 0, 0, 0, 4, 0, 0, 0,   // T4Options 4
            0x28, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,   // ResolutionUnit inch
            0x29, 0x01, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0,   // PageNumber 0 of 1
            0x31, 0x01, 2, 0, 8, 0, 0, 0, 236, 0, 0, 0, // Software @236
            0, 0, 0, 0,
            204, 0, 0, 0, 1, 0, 0, 0,
            196, 0, 0, 0, 1, 0, 0, 0,
            b's', b'o', b'f', b't', b'f', b'a', b'x', 0,
        ];
    assert_eq!(w.finish(), expected);
}

#[test]
fn impossible_len() {
    let mut w = TiffWriter::new();
    let meta = PageMeta {
        width: 13,
        height: 3,
        resolution: Resolution::STANDARD,
        compression: Compression::None,
        t4_options: 0,
        t6_options: 0,
        fill_order: FillOrder::MsbFirst,
        quality: Some(PageQuality::default()),
    };
    w.add_page(&meta, &[1, 2, 3, 4, 5, 6]);
    w.add_page(&meta, &[7, 8, 9, 10, 11, 12]);
    let written = w.finish();
    assert_eq!(parse(&written).unwrap().len(), 2);
    for file in [&GOLDEN_LE[..], &GOLDEN_BE[..], &written[..]] {
        for len in 0..file.len() {
            assert!(parse(&file[..len]).is_err(), "prefix of {len} bytes parsed");
        }
    }
    // Header only.
    assert!(matches!(parse(b"II*\0"), Err(TiffError::Truncated { .. })));
    assert!(matches!(parse(b"II"), Err(TiffError::Truncated { .. })));
    assert!(matches!(parse(b"I"), Err(TiffError::NotTiff)));
    // The strip's byte count runs past the end.
    let mut bad = GOLDEN_LE;
    bad[8 + 2 + 2 + 9 * 12 + 8] = 200;
    let err = parse(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            TiffError::StripOutOfBounds {
                page: 0,
                strip: 0,
                offset: 8,
                len: 200,
                file_len: 200
            }
        ),
        "{err:?}"
    );
    // A RATIONAL's offset past the end.
    let mut bad = GOLDEN_BE;
    bad[10 + 2 + 10 * 12 + 11] = 199;
    let err = parse(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            TiffError::OutOfBounds {
                page: 0,
                tag: X_RESOLUTION,
                offset: 199,
                len: 8,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "page 1: XResolution points past the end of the file (offset 199, 8 bytes, file is 200 bytes)"
    );
    // The IFD's entry count claims more entries than there are bytes.
    let mut bad = GOLDEN_LE;
    bad[10] = 16;
    assert!(matches!(
        parse(&bad),
        Err(TiffError::Truncated {
            what: "IFD entries",
            offset: 12,
            ..
        })
    ));
}

#[test]
fn known_tags_sorted() {
    assert!(KNOWN_TAGS.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(tag_name(STRIP_OFFSETS), "StripOffsets");
    assert_eq!(tag_name(1), "unknown tag");
}

// -----------------------------------------------------------------------------------------
// Round trips and features
// -----------------------------------------------------------------------------------------

#[test]
fn write_parse_round_trip() {
    let metas = [
        PageMeta {
            width: 1728,
            height: 1143,
            resolution: Resolution::STANDARD,
            compression: Compression::T4,
            t4_options: T4_OPT_2D | T4_OPT_FILL_BITS,
            t6_options: 0,
            fill_order: FillOrder::LsbFirst,
            quality: Some(PageQuality {
                bad_rows: 7,
                max_consecutive_bad_rows: 3,
            }),
        },
        PageMeta {
            width: 2432,
            height: 3,
            resolution: Resolution {
                x_dpi: 203.2,
                y_dpi: 195.58,
            },
            compression: Compression::T6,
            t4_options: 0,
            t6_options: T6_OPT_UNCOMPRESSED,
            fill_order: FillOrder::MsbFirst,
            quality: Some(PageQuality::default()),
        },
        PageMeta {
            width: 9,
            height: 1,
            resolution: Resolution::SUPERFINE,
            compression: Compression::None,
            t4_options: 5,
            t6_options: 5,
            fill_order: FillOrder::MsbFirst,
            quality: None,
        },
    ];
    let strips: [&[u8]; 3] = [&[1, 2, 3], &[4; 10], &[0xFF, 0x80]];
    let mut w = TiffWriter::default();
    for (m, s) in metas.iter().zip(strips) {
        w.add_page(m, s);
    }
    let file = w.finish();
    let pages = parse(&file).unwrap();
    assert_eq!(pages.len(), 3);
    for (i, ((p, m), s)) in pages.iter().zip(&metas).zip(strips).enumerate() {
        assert_eq!(p.index, i);
        assert_eq!((p.width, p.height), (m.width, m.height));
        assert_eq!(p.compression, m.compression);
        assert_eq!(p.fill_order, m.fill_order);
        assert_eq!(p.photometric, Photometric::MinIsWhite);
        assert_eq!(p.rows_per_strip, m.height);
        assert_eq!(p.strips.len(), 1);
        assert_eq!(p.strips[0].0 % 2, 0, "strip on an even offset");
        assert_eq!(p.strip_data(&file, 0), s);
        assert_eq!(p.page_number, Some((i as u16, 3)));
        assert_eq!(p.new_subfile_type, 2);
        let r = p.resolution.unwrap();
        assert!(close(r.x_dpi, m.resolution.x_dpi) && close(r.y_dpi, m.resolution.y_dpi));
    }
    assert_eq!((pages[0].t4_options, pages[0].t6_options), (5, 0));
    assert_eq!((pages[1].t4_options, pages[1].t6_options), (0, 2));
    assert_eq!((pages[2].t4_options, pages[2].t6_options), (0, 0));
    assert_eq!(pages[0].bad_fax_lines, Some(7));
    assert_eq!(pages[0].clean_fax_data, Some(1));
    assert_eq!(pages[0].consecutive_bad_fax_lines, Some(3));
    assert_eq!(pages[1].bad_fax_lines, Some(0));
    assert_eq!(pages[1].clean_fax_data, Some(0));
    assert_eq!(pages[1].consecutive_bad_fax_lines, Some(0));
    assert_eq!(pages[2].bad_fax_lines, None);
    assert_eq!(pages[2].clean_fax_data, None);
}

#[test]
fn stream_writer_writes_what_the_writer_writes() {
    let meta = |width, height, compression, quality| PageMeta {
        width,
        height,
        resolution: Resolution::FINE,
        compression,
        t4_options: T4_OPT_2D,
        t6_options: 0,
        fill_order: FillOrder::MsbFirst,
        quality,
    };
    let pages: [(PageMeta, &[u8]); 4] = [
        (meta(8, 3, Compression::None, None), &[0x81, 0x42, 0x24]),
        (
            meta(1728, 1, Compression::T4, Some(PageQuality::default())),
            &[7; 11],
        ),
        (
            meta(16, 2, Compression::None, None),
            &[0xF0, 0x0F, 0xAA, 0x55],
        ),
        (meta(9, 2, Compression::T6, None), &[0xFF]),
    ];
    let mut w = TiffWriter::new();
    for (m, s) in &pages {
        w.add_page(m, s);
    }
    let expected = w.finish();
    // The total stated up front, too low, too high: the same bytes.
    for total in [4, 0, 1, 9] {
        let mut s = TiffStreamWriter::new(std::io::Cursor::new(Vec::new()), total).unwrap();
        for (m, strip) in &pages {
            s.add_page(m, strip).unwrap();
        }
        assert_eq!(s.pages(), 4);
        let got = s.finish().unwrap().into_inner();
        assert_eq!(got, expected, "total {total}");
    }
    let empty = TiffStreamWriter::new(std::io::Cursor::new(Vec::new()), 0).unwrap();
    assert_eq!(
        empty.finish().unwrap().into_inner(),
        TiffWriter::new().finish()
    );

    // Read back as from a file: the structure without the strips, then strip by strip.
    let mut file = std::io::Cursor::new(&expected[..]);
    let image = read_structure(&mut file, expected.len() as u64).unwrap();
    let ifds = parse(&expected).unwrap();
    assert_eq!(parse(&image).unwrap(), ifds);
    let mut strips = FileStrips::new(file);
    for (info, (_, strip)) in ifds.iter().zip(&pages) {
        let (off, len) = info.strips[0];
        assert!(
            image[off as usize..(off + len) as usize]
                .iter()
                .all(|&b| b == 0)
        );
        assert_eq!(strips.strip(info, 0).unwrap(), *strip);
        if info.compression == Compression::None {
            let streamed = decode_ifd_from(&mut strips, info, Vec::new()).unwrap();
            assert_eq!(streamed, decode_ifd(&expected, info).unwrap());
        }
    }
    // A file cut short under the reader: an error naming the strip, not a panic.
    let short = &expected[..ifds[2].strips[0].0 as usize + 1];
    let mut strips = FileStrips::new(std::io::Cursor::new(short));
    let err = strips.strip(&ifds[2], 0).unwrap_err();
    assert!(
        matches!(
            err,
            TiffError::Read {
                page: 2,
                strip: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn writer_word_aligns_ifds_and_values() {
    let meta = PageMeta {
        width: 5,
        height: 1,
        resolution: Resolution {
            x_dpi: 100.5,
            y_dpi: 77.777,
        },
        compression: Compression::PackBits,
        t4_options: 0,
        t6_options: 0,
        fill_order: FillOrder::MsbFirst,
        quality: None,
    };
    let mut w = TiffWriter::new();
    w.add_page(&meta, &[0x00, 0xF8, 0x01]); // odd length
    w.add_page(&meta, &[0x00, 0x08]);
    let file = w.finish();
    let mut ifd = u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize;
    let mut seen = 0;
    while ifd != 0 {
        assert_eq!(ifd % 2, 0);
        let count = u16::from_le_bytes([file[ifd], file[ifd + 1]]) as usize;
        let mut last_tag = 0;
        for i in 0..count {
            let e = &file[ifd + 2 + 12 * i..ifd + 14 + 12 * i];
            let tag = u16::from_le_bytes([e[0], e[1]]);
            assert!(tag > last_tag, "tags ascending");
            last_tag = tag;
            let typ = u16::from_le_bytes([e[2], e[3]]);
            let count = u32::from_le_bytes(e[4..8].try_into().unwrap()) as u64;
            if count * type_size(typ).unwrap() > 4 {
                let off = u32::from_le_bytes(e[8..12].try_into().unwrap());
                assert_eq!(off % 2, 0, "tag {tag} value on an even offset");
            }
            if tag == X_RESOLUTION || tag == Y_RESOLUTION {
                let off = u32::from_le_bytes(e[8..12].try_into().unwrap()) as usize;
                let num = u32::from_le_bytes(file[off..off + 4].try_into().unwrap());
                let den = u32::from_le_bytes(file[off + 4..off + 8].try_into().unwrap());
                let want = if tag == X_RESOLUTION {
                    (10050, 100)
                } else {
                    (7778, 100)
                };
                assert_eq!((num, den), want);
            }
        }
        ifd = u32::from_le_bytes(file[ifd + 2 + 12 * count..][..4].try_into().unwrap()) as usize;
        seen += 1;
    }
    assert_eq!(seen, 2);
    let pages = parse(&file).unwrap();
    assert_eq!(pages[0].strip_data(&file, 0), &[0x00, 0xF8, 0x01]);
    assert_eq!(pages[1].strip_data(&file, 0), &[0x00, 0x08]);
    assert_eq!(pages[1].compression, Compression::PackBits);
}

#[test]
fn empty_writer_is_rejected_by_reader() {
    let file = TiffWriter::new().finish();
    assert_eq!(file, b"II*\0\0\0\0\0");
    assert!(matches!(parse(&file), Err(TiffError::NoImages)));
}

#[test]
fn multi_strip_both_byte_orders() {
    for big in [false, true] {
        let mut h = Hand::new(big);
        let a = h.blob(&[0x80, 0x40]);
        let b = h.blob(&[0x20]);
        let c = h.blob(&[0x10, 0x08, 0x04]);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[5])),
            (COMPRESSION, SHORT, n(&[4])),
            (PHOTOMETRIC, SHORT, n(&[1])),
            (FILL_ORDER, SHORT, n(&[2])),
            (STRIP_OFFSETS, LONG, n(&[a, b, c])),
            (ROWS_PER_STRIP, SHORT, n(&[2])),
            (STRIP_BYTE_COUNTS, SHORT, n(&[2, 1, 3])),
            (T6_OPTIONS, LONG, n(&[0])),
            (RESOLUTION_UNIT, SHORT, n(&[1])),
            (BAD_FAX_LINES, SHORT, n(&[4])),
            (CLEAN_FAX_DATA, SHORT, n(&[2])),
            (CONSECUTIVE_BAD_FAX_LINES, LONG, n(&[2])),
        ]);
        // A second page whose two strip offsets and counts are SHORTs held inline.
        let d = h.blob(&[0xAA, 0x55]);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[3])),
            (IMAGE_LENGTH, SHORT, n(&[2])),
            (STRIP_OFFSETS, SHORT, n(&[d, d + 1])),
            (ROWS_PER_STRIP, LONG, n(&[1])),
            (STRIP_BYTE_COUNTS, SHORT, n(&[1, 1])),
            (X_RESOLUTION, RATIONAL, n(&[204, 1])),
            (Y_RESOLUTION, RATIONAL, n(&[196, 1])),
            // An unknown tag of an unknown type (LONG8) with an absurd count is skipped.
            (50_000, 16, V::At(u32::MAX, u32::MAX)),
        ]);
        let file = h.buf;
        let pages = parse(&file).unwrap();
        assert_eq!(pages.len(), 2);
        let p = &pages[0];
        assert_eq!(p.compression, Compression::T6);
        assert_eq!(p.photometric, Photometric::MinIsBlack);
        assert_eq!(p.fill_order, FillOrder::LsbFirst);
        assert_eq!(p.rows_per_strip, 2);
        assert_eq!(p.strips.len(), 3);
        assert_eq!(p.strip_data(&file, 0), &[0x80, 0x40]);
        assert_eq!(p.strip_data(&file, 1), &[0x20]);
        assert_eq!(p.strip_data(&file, 2), &[0x10, 0x08, 0x04]);
        assert_eq!(
            (0..4).map(|i| p.strip_rows(i)).collect::<Vec<_>>(),
            [2, 2, 1, 0]
        );
        assert_eq!(p.resolution, None, "ResolutionUnit 1 has no unit");
        assert_eq!(p.bad_fax_lines, Some(4));
        assert_eq!(p.clean_fax_data, Some(2));
        assert_eq!(p.consecutive_bad_fax_lines, Some(2));
        assert_eq!(p.page_number, None);
        let q = &pages[1];
        assert_eq!(q.index, 1);
        assert_eq!(q.strips, vec![(u64::from(d), 1), (u64::from(d) + 1, 1)]);
        assert_eq!(q.strip_data(&file, 1), &[0x55]);
        assert_eq!(
            q.resolution,
            Some(Resolution {
                x_dpi: 204.0,
                y_dpi: 196.0
            })
        );
    }
}

#[test]
fn resolution_rules() {
    let res = |extra| parse(&one_page_file(false, extra)).unwrap()[0].resolution;
    let xy = |x: u32, y: u32| {
        vec![
            (X_RESOLUTION, RATIONAL, n(&[x, 1])),
            (Y_RESOLUTION, RATIONAL, n(&[y, 1])),
        ]
    };
    // ResolutionUnit missing = inch.
    assert_eq!(
        res(xy(200, 100)),
        Some(Resolution {
            x_dpi: 200.0,
            y_dpi: 100.0
        })
    );
    let mut cm = xy(8, 4);
    cm.push((RESOLUTION_UNIT, SHORT, n(&[3])));
    let r = res(cm).unwrap();
    assert!(close(r.x_dpi, 20.32) && close(r.y_dpi, 10.16));
    assert_eq!(res(vec![(X_RESOLUTION, RATIONAL, n(&[200, 1]))]), None);
    assert_eq!(res(xy(0, 100)), None);
    assert_eq!(
        res(vec![
            (X_RESOLUTION, RATIONAL, n(&[200, 0])),
            (Y_RESOLUTION, RATIONAL, n(&[200, 1]))
        ]),
        None
    );
    assert_eq!(res(vec![]), None);
}

#[test]
fn rows_per_strip_above_height_is_clamped() {
    let f = one_page_file(true, vec![(ROWS_PER_STRIP, SHORT, n(&[1000]))]);
    assert_eq!(parse(&f).unwrap()[0].rows_per_strip, 2);
}
