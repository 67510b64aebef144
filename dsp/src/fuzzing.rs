//! Bodies of the cargo-fuzz targets in `fuzz/`, kept here so that a normal test
//! (`tests/fuzz_corpus.rs`) replays every committed corpus file and crash through exactly
//! the same code. Each body checks invariants beyond "does not panic".

use crate::image::Resolution;
use crate::t4::{BitOrder, Coding, DecodeOptions, Decoder, EncodeOptions, Encoder, Progress};
use crate::{pbm, tiff};

/// Largest page (in pels) the fuzz bodies decode, to keep each run fast.
const MAX_FUZZ_PELS: u64 = 1 << 26;

/// Decode `data` as a `coding` page. Byte 0 picks the options (bit order, declared rows,
/// byte-aligned rows, chunk size), bytes 1–2 the width; the rest is the coded page.
pub fn t4_decode(coding: Coding, data: &[u8]) {
    let [sel, w0, w1, body @ ..] = data else {
        return;
    };
    let width = 1 + u16::from_le_bytes([*w0, *w1]) as u32 % 4864;
    let opts = DecodeOptions {
        coding,
        width,
        bit_order: if sel & 1 == 0 {
            BitOrder::MsbFirst
        } else {
            BitOrder::LsbFirst
        },
        rows: (sel & 2 != 0).then_some(1 + (*w1 as u32 & 0x3F)),
        byte_aligned_rows: sel & 4 != 0 && coding == Coding::Mh,
        max_rows: 4096,
    };
    let chunk = if sel & 8 != 0 {
        1 + (sel >> 4) as usize * 3
    } else {
        body.len().max(1)
    };
    let Ok(mut d) = Decoder::new(opts) else {
        return;
    };
    let stride = (width as usize).div_ceil(8);
    let pad_mask = if width.is_multiple_of(8) {
        0
    } else {
        0xFFu8 >> (width % 8)
    };
    let mut chunks = body.chunks(chunk);
    let mut rows = 0u32;
    let mut fed = 0usize;
    loop {
        match d.next_row() {
            Ok(Progress::Row(r)) => {
                assert_eq!(r.len(), stride);
                assert_eq!(r[stride - 1] & pad_mask, 0, "pad bits set");
                rows += 1;
            }
            Ok(Progress::NeedInput) => match chunks.next() {
                Some(c) => {
                    fed += c.len();
                    d.push(c);
                }
                None => d.finish_input(),
            },
            Ok(Progress::End) | Err(_) => break,
        }
        assert!(rows <= 4096 + 1, "row limit not enforced");
    }
    let st = d.stats();
    assert_eq!(st.rows, rows);
    assert!(st.bad_rows <= st.rows && st.max_consecutive_bad_rows <= st.bad_rows);
    assert!(d.bits_consumed() <= fed as u64 * 8 + 64);
}

/// Interpret `data` as a bitmap (bytes 0–1: width), encode it with every coding, decode it
/// again and compare pels.
pub fn t4_roundtrip(data: &[u8]) {
    let [w0, w1, k, body @ ..] = data else { return };
    let width = 1 + u16::from_le_bytes([*w0, *w1]) as u32 % 2500;
    let stride = (width as usize).div_ceil(8);
    let height = (body.len() / stride).min(64);
    if height == 0 {
        return;
    }
    let mut page = crate::image::Page::new(width, height as u32, Resolution::FINE);
    page.data.copy_from_slice(&body[..height * stride]);
    page.clear_padding();
    for coding in [
        Coding::Mh,
        Coding::Mr {
            k: 1 + *k as u32 % 8,
        },
        Coding::Mmr,
    ] {
        let mut opts = EncodeOptions::new(coding, width);
        opts.align_eol = k & 0x80 != 0;
        opts.min_row_bits = if k & 0x40 != 0 { 96 } else { 0 };
        let mut coded = Vec::new();
        Encoder::encode_page(opts, &page.data, stride, &mut coded).expect("valid width");
        let mut got = Vec::with_capacity(page.data.len());
        let st = Decoder::decode_page(DecodeOptions::new(coding, width), &coded, |r| {
            got.extend_from_slice(r)
        })
        .expect("our own encoding decodes");
        assert_eq!(st.bad_rows, 0, "{coding:?}");
        assert!(got == page.data, "{coding:?} width {width}: pels differ");
    }
}

/// Parse `data` as TIFF and decode every page of a sane size.
pub fn tiff_read(data: &[u8]) {
    let Ok(ifds) = tiff::parse(data) else { return };
    for ifd in &ifds {
        if ifd.width as u64 * ifd.height as u64 > MAX_FUZZ_PELS {
            continue;
        }
        if let Ok((page, stats)) = tiff::decode_ifd(data, ifd) {
            assert_eq!(page.data.len(), page.stride() * page.height as usize);
            assert!(stats.bad_rows <= page.height);
        }
    }
}

/// Parse `data` as PBM; what parses must write and parse back to the same pages.
pub fn pbm_read(data: &[u8]) {
    let Ok(pages) = pbm::read_pbm(data, Resolution::FINE) else {
        return;
    };
    let mut out = Vec::new();
    pbm::write_pbm(&pages, &mut out);
    let again = pbm::read_pbm(&out, Resolution::FINE).expect("our PBM parses");
    assert_eq!(pages, again);
}

/// Feed `data` as bits (LSB first) to the HDLC receiver; then send the first bytes as a
/// frame through the transmitter and check the receiver gets it back exactly.
pub fn hdlc_deframe(data: &[u8]) {
    use crate::hdlc::{HdlcEvent, HdlcRx, HdlcTx, MAX_T30_FRAME};
    use crate::modem::GetBit;
    let mut rx = HdlcRx::new(MAX_T30_FRAME);
    for b in data {
        for i in 0..8 {
            if let Some(HdlcEvent::Frame(f)) = rx.put_bit(b >> i & 1 != 0) {
                assert!(f.len() >= 2 && f.len() <= MAX_T30_FRAME);
            }
        }
    }
    let frame = &data[..data.len().min(MAX_T30_FRAME)];
    if frame.is_empty() {
        return;
    }
    let mut tx = HdlcTx::new(MAX_T30_FRAME);
    tx.send_flags(2);
    tx.send_frame(frame).expect("within limits");
    tx.send_flags(1);
    let mut rx = HdlcRx::new(MAX_T30_FRAME);
    let mut got = Vec::new();
    while let Some(bit) = tx.get_bit() {
        if let Some(HdlcEvent::Frame(f)) = rx.put_bit(bit) {
            got.push(f);
        }
    }
    if frame.len() >= 2 {
        assert_eq!(got, vec![frame.to_vec()]);
    }
}

/// Parse `data` as a T.30 frame; what parses must emit and parse back to the same meaning.
pub fn t30_frame(data: &[u8]) {
    use crate::t30::{Frame, FrameRepr};
    let Ok(f) = Frame::new(data) else { return };
    let Ok(r) = FrameRepr::parse(&f) else { return };
    let _ = r.to_string();
    let again = r.emit(f.x_bit(), f.is_final());
    let f2 = Frame::new(&again).expect("our frame has a valid header");
    assert_eq!(FrameRepr::parse(&f2).expect("our frame parses"), r);
}
