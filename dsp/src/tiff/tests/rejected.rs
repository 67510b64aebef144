//! Files the reader must reject, each with the error that says why: unsupported and damaged
//! fields, header errors, IFD loops, huge counts, shared strip tables, too many IFDs; and
//! mutated files that must never panic.

use super::*;

fn err(extra: Vec<(u16, u16, V)>) -> TiffError {
    parse(&one_page_file(false, extra)).unwrap_err()
}

#[test]
fn unsupported_and_bad_fields() {
    assert!(matches!(
        err(vec![(BITS_PER_SAMPLE, SHORT, n(&[8]))]),
        TiffError::NotBilevel {
            page: 0,
            bits: 8,
            samples: 1
        }
    ));
    assert!(matches!(
        err(vec![
            (BITS_PER_SAMPLE, SHORT, n(&[8, 8, 8])),
            (SAMPLES_PER_PIXEL, SHORT, n(&[3]))
        ]),
        TiffError::NotBilevel {
            page: 0,
            bits: 8,
            samples: 3
        }
    ));
    let e = err(vec![(COMPRESSION, SHORT, n(&[5]))]);
    assert!(e.to_string().contains("LZW"), "{e}");
    assert!(matches!(e, TiffError::Unsupported { page: 0, .. }));
    assert!(matches!(
        err(vec![(PHOTOMETRIC, SHORT, n(&[3]))]),
        TiffError::Unsupported { .. }
    ));
    assert!(matches!(
        err(vec![(TILE_WIDTH, SHORT, n(&[16]))]),
        TiffError::Unsupported { .. }
    ));
    assert!(matches!(
        err(vec![(FILL_ORDER, SHORT, n(&[3]))]),
        TiffError::BadTag {
            tag: "FillOrder",
            ..
        }
    ));
    assert!(matches!(
        err(vec![(ROWS_PER_STRIP, SHORT, n(&[0]))]),
        TiffError::BadTag {
            tag: "RowsPerStrip",
            ..
        }
    ));
    assert!(matches!(
        err(vec![(COMPRESSION, ASCII, n(&[b'a'.into(), 0]))]),
        TiffError::BadTag {
            tag: "Compression",
            ..
        }
    ));
    assert!(matches!(
        err(vec![(T4_OPTIONS, LONG, V::At(0, 0))]),
        TiffError::BadTag {
            tag: "T4Options",
            ..
        }
    ));

    let page = |w: u32, h: u32| {
        let mut hand = Hand::new(false);
        let s = hand.blob(&[0; 4]);
        simple_page(&mut hand, w, h, (s, 4), vec![]);
        parse(&hand.buf)
    };
    assert!(page(65_535, 1).is_ok());
    assert!(matches!(
        page(0, 1),
        Err(TiffError::BadTag {
            tag: "ImageWidth",
            ..
        })
    ));
    assert!(matches!(
        page(1, 0),
        Err(TiffError::BadTag {
            tag: "ImageLength",
            ..
        })
    ));
    assert!(matches!(
        page(65_536, 1),
        Err(TiffError::Unsupported { .. })
    ));

    // Missing and inconsistent strip tags.
    let mut h = Hand::new(false);
    let s = h.blob(&[0; 2]);
    h.ifd(&[
        (IMAGE_WIDTH, SHORT, n(&[8])),
        (IMAGE_LENGTH, SHORT, n(&[2])),
        (STRIP_OFFSETS, LONG, n(&[s])),
    ]);
    assert!(matches!(
        parse(&h.buf),
        Err(TiffError::MissingTag {
            page: 0,
            tag: "StripByteCounts"
        })
    ));
    let mut h = Hand::new(false);
    h.ifd(&[(IMAGE_WIDTH, SHORT, n(&[8]))]);
    assert!(matches!(
        parse(&h.buf),
        Err(TiffError::MissingTag {
            tag: "ImageLength",
            ..
        })
    ));
    let mut h = Hand::new(false);
    let s = h.blob(&[0; 2]);
    h.ifd(&[
        (IMAGE_WIDTH, SHORT, n(&[8])),
        (IMAGE_LENGTH, SHORT, n(&[2])),
        (STRIP_OFFSETS, LONG, n(&[s, s])),
        (ROWS_PER_STRIP, SHORT, n(&[1])),
        (STRIP_BYTE_COUNTS, LONG, n(&[1])),
    ]);
    assert!(matches!(
        parse(&h.buf),
        Err(TiffError::BadTag {
            tag: "StripByteCounts",
            ..
        })
    ));
    let mut h = Hand::new(false);
    let s = h.blob(&[0; 2]);
    h.ifd(&[
        (IMAGE_WIDTH, SHORT, n(&[8])),
        (IMAGE_LENGTH, SHORT, n(&[3])),
        (STRIP_OFFSETS, LONG, n(&[s, s])),
        (ROWS_PER_STRIP, SHORT, n(&[1])),
        (STRIP_BYTE_COUNTS, LONG, n(&[1, 1])),
    ]);
    let e = parse(&h.buf).unwrap_err();
    assert!(
        matches!(
            e,
            TiffError::BadTag {
                tag: "StripOffsets",
                ..
            }
        ),
        "{e}"
    );
    // An error in the second page fails the file.
    let mut h = Hand::new(false);
    let s = h.blob(&[0; 2]);
    simple_page(&mut h, 8, 2, (s, 2), vec![]);
    simple_page(
        &mut h,
        8,
        2,
        (s, 2),
        vec![(BITS_PER_SAMPLE, SHORT, n(&[4]))],
    );
    assert!(matches!(
        parse(&h.buf),
        Err(TiffError::NotBilevel {
            page: 1,
            bits: 4,
            ..
        })
    ));
}

#[test]
fn header_errors() {
    assert!(matches!(parse(b""), Err(TiffError::NotTiff)));
    assert!(matches!(parse(b"GIF89a\0\0"), Err(TiffError::NotTiff)));
    assert!(matches!(
        parse(b"II\x2b\0\x08\0\0\0"),
        Err(TiffError::BigTiff)
    ));
    assert!(matches!(
        parse(b"MM\0\x2b\0\x08\0\0"),
        Err(TiffError::BigTiff)
    ));
    assert!(matches!(
        parse(b"MM\0\x2a\0\0\0\0"),
        Err(TiffError::NoImages)
    ));
    assert!(matches!(
        parse(b"MM\0\x2a\0\0\0"),
        Err(TiffError::Truncated { .. })
    ));
    assert!(matches!(
        parse(b"II\x2a\0\xff\xff\xff\xff"),
        Err(TiffError::Truncated {
            what: "IFD entry count",
            offset: 0xFFFF_FFFF,
            ..
        })
    ));
}

#[test]
fn ifd_loops() {
    // An IFD that links to itself.
    let mut f = one_page_file(false, vec![]);
    let ifd = u32::from_le_bytes(f[4..8].try_into().unwrap());
    let h = Hand {
        big: false,
        buf: f.clone(),
        link_at: 0,
    };
    let link = h.link_of(ifd);
    f[link..link + 4].copy_from_slice(&ifd.to_le_bytes());
    assert!(matches!(parse(&f), Err(TiffError::IfdLoop { offset }) if offset == u64::from(ifd)));
    // Three IFDs, the last linking back to the second.
    let mut h = Hand::new(true);
    let s = h.blob(&[0; 2]);
    simple_page(&mut h, 8, 2, (s, 2), vec![]);
    let second = simple_page(&mut h, 8, 2, (s, 2), vec![]);
    let third = simple_page(&mut h, 8, 2, (s, 2), vec![]);
    let link = h.link_of(third);
    h.patch32(link, second);
    let e = parse(&h.buf).unwrap_err();
    assert!(matches!(e, TiffError::IfdLoop { offset } if offset == u64::from(second)));
    assert!(e.to_string().contains(&second.to_string()));
}

#[test]
fn huge_counts() {
    // IFD entry count above the limit.
    let mut f = one_page_file(false, vec![]);
    let ifd = u32::from_le_bytes(f[4..8].try_into().unwrap()) as usize;
    f[ifd..ifd + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
    assert!(matches!(parse(&f), Err(TiffError::Limit { page: 0, .. })));
    f[ifd..ifd + 2].copy_from_slice(&(MAX_IFD_ENTRIES).to_le_bytes());
    assert!(matches!(
        parse(&f),
        Err(TiffError::Truncated {
            what: "IFD entries",
            ..
        })
    ));

    // Strip tables of 2^32-1 and of 900 000 entries, more than the file holds: refused
    // before anything is allocated.
    for count in [u32::MAX, 900_000] {
        let mut h = Hand::new(false);
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, LONG, n(&[900_000])),
            (STRIP_OFFSETS, LONG, V::At(count, 8)),
            (ROWS_PER_STRIP, SHORT, n(&[1])),
            (STRIP_BYTE_COUNTS, LONG, V::At(count, 8)),
        ]);
        let e = parse(&h.buf).unwrap_err();
        assert!(
            matches!(
                e,
                TiffError::OutOfBounds {
                    page: 0,
                    tag: STRIP_OFFSETS,
                    offset: 8,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    // An unused tag with an absurd count is an error too (the file is damaged).
    let e = err(vec![(SOFTWARE, ASCII, V::At(u32::MAX, 8))]);
    assert!(
        matches!(e, TiffError::OutOfBounds { tag: SOFTWARE, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("page 1: Software points past"),
        "{e}"
    );
    let e = err(vec![(40_000, DOUBLE, V::At(2, 0xFFFF))]);
    assert!(
        e.to_string().starts_with("page 1: tag 40000 points past"),
        "{e}"
    );

    // A table that fits the budget but whose offset points outside the file.
    let mut h = Hand::new(false);
    h.blob(&[0; 64]);
    h.ifd(&[
        (IMAGE_WIDTH, SHORT, n(&[8])),
        (IMAGE_LENGTH, SHORT, n(&[3])),
        (STRIP_OFFSETS, LONG, V::At(3, 0xFFFF_FFF0)),
        (ROWS_PER_STRIP, SHORT, n(&[1])),
        (STRIP_BYTE_COUNTS, LONG, V::At(3, 8)),
    ]);
    let e = parse(&h.buf).unwrap_err();
    assert!(
        matches!(
            e,
            TiffError::OutOfBounds {
                page: 0,
                tag: STRIP_OFFSETS,
                offset: 0xFFFF_FFF0,
                len: 12,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "page 1: StripOffsets points past the end of the file (offset 4294967280, 12 bytes, file is {} bytes)",
            h.buf.len()
        )
    );
}

#[test]
fn shared_strip_tables_are_bounded() {
    // 40 IFDs all pointing at the same 1000-strip tables: legal-looking, but 40 000 strip
    // entries from a file of about 10 kB.
    let mut h = Hand::new(false);
    let data = h.blob(&[0; 8]);
    let offsets = h.longs(&[data; 1000]);
    let counts = h.longs(&[1; 1000]);
    let page = |h: &mut Hand| {
        h.ifd(&[
            (IMAGE_WIDTH, SHORT, n(&[8])),
            (IMAGE_LENGTH, SHORT, n(&[1000])),
            (STRIP_OFFSETS, LONG, V::At(1000, offsets)),
            (ROWS_PER_STRIP, SHORT, n(&[1])),
            (STRIP_BYTE_COUNTS, LONG, V::At(1000, counts)),
        ])
    };
    page(&mut h);
    assert_eq!(parse(&h.buf).unwrap()[0].strips.len(), 1000);
    for _ in 1..40 {
        page(&mut h);
    }
    assert!(matches!(parse(&h.buf), Err(TiffError::Limit { .. })));
}

#[test]
fn too_many_ifds() {
    let mut h = Hand::new(false);
    let s = h.blob(&[0; 2]);
    for _ in 0..MAX_IFDS {
        simple_page(&mut h, 8, 2, (s, 2), vec![]);
    }
    assert_eq!(parse(&h.buf).unwrap().len(), MAX_IFDS);
    simple_page(&mut h, 8, 2, (s, 2), vec![]);
    assert!(matches!(
        parse(&h.buf),
        Err(TiffError::Limit { page, .. }) if page == MAX_IFDS
    ));
}

#[test]
fn error_messages_read_well() {
    let e = TiffError::StripOutOfBounds {
        page: 1,
        strip: 0,
        offset: 123_456,
        len: 300,
        file_len: 9000,
    };
    assert_eq!(
        e.to_string(),
        "page 2: strip 0 (offset 123456, 300 bytes) runs past the end of the file (9000 bytes)"
    );
    let e = TiffError::MissingTag {
        page: 0,
        tag: "StripByteCounts",
    };
    assert_eq!(
        e.to_string(),
        "page 1: the required tag StripByteCounts is missing"
    );
    let e = TiffError::Decode {
        page: 2,
        row: 17,
        why: "bad code".into(),
    };
    assert_eq!(e.to_string(), "page 3, row 17: bad code");
}

/// A small xorshift generator, so the mutation test needs no dependency.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn mutated_files_never_panic() {
    let mut w = TiffWriter::new();
    let meta = PageMeta {
        width: 20,
        height: 4,
        resolution: Resolution::FINE,
        compression: Compression::T4,
        t4_options: 1,
        t6_options: 0,
        fill_order: FillOrder::LsbFirst,
        quality: Some(PageQuality {
            bad_rows: 1,
            max_consecutive_bad_rows: 1,
        }),
    };
    w.add_page(&meta, &[0x12; 12]);
    w.add_page(&meta, &[0x34; 7]);
    let seeds = [GOLDEN_LE.to_vec(), GOLDEN_BE.to_vec(), w.finish()];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut f = seeds[(xorshift(&mut rng) % 3) as usize].clone();
        for _ in 0..1 + xorshift(&mut rng) % 4 {
            let i = (xorshift(&mut rng) % f.len() as u64) as usize;
            f[i] = match xorshift(&mut rng) % 4 {
                0 => 0,
                1 => 0xFF,
                _ => xorshift(&mut rng) as u8,
            };
        }
        if xorshift(&mut rng).is_multiple_of(8) {
            let len = (xorshift(&mut rng) % f.len() as u64) as usize;
            f.truncate(len);
        }
        if let Ok(pages) = parse(&f) {
            parsed += 1;
            for p in &pages {
                for i in 0..p.strips.len() + 1 {
                    let _ = p.strip_data(&f, i);
                    let _ = p.strip_rows(i);
                }
            }
        }
    }
    assert!(parsed > 0);
}
