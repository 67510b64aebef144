//! Bodies of the cargo-fuzz targets in `fuzz/`, kept here so that a normal test
//! (`tests/fuzz_corpus.rs`) replays every committed corpus file and crash through exactly
//! the same code. Each body checks invariants beyond "does not panic".

use crate::image::Resolution;
use crate::t4::{
    BitOrder, Coding, DecodeOptions, Decoder, EncodeOptions, Encoder, Progress, RowStatus,
};
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
    // The same decoder painting into a caller's buffer must give the same rows and status.
    let mut d_into = d.clone();
    let mut row_into = vec![0xA5u8; (width as usize).div_ceil(8)];
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
        let into = d_into.next_row_into(&mut row_into);
        match d.next_row() {
            Ok(Progress::Row(r)) => {
                assert_eq!(r.len(), stride);
                assert_eq!(r[stride - 1] & pad_mask, 0, "pad bits set");
                assert_eq!(into, Ok(RowStatus::Row));
                assert_eq!(r, &row_into[..], "next_row_into painted another row");
                rows += 1;
            }
            Ok(Progress::NeedInput) => {
                assert_eq!(into, Ok(RowStatus::NeedInput));
                match chunks.next() {
                    Some(c) => {
                        fed += c.len();
                        d.push(c);
                        d_into.push(c);
                    }
                    None => {
                        d.finish_input();
                        d_into.finish_input();
                    }
                }
            }
            Ok(Progress::End) => {
                assert_eq!(into, Ok(RowStatus::End));
                break;
            }
            Err(e) => {
                assert_eq!(into, Err(e));
                break;
            }
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
    // Read as from a file: the structure image parses as the whole file does.
    let mut file = std::io::Cursor::new(data);
    let image = tiff::read_structure(&mut file, data.len() as u64).expect("reads from memory");
    assert_eq!(image.len(), data.len());
    let from_file = tiff::parse(&image);
    let Ok(ifds) = tiff::parse(data) else {
        assert!(
            from_file.is_err(),
            "the structure image parses, the file does not"
        );
        return;
    };
    assert_eq!(
        from_file.as_ref().ok(),
        Some(&ifds),
        "the structure image parses otherwise"
    );
    let mut strips = tiff::FileStrips::new(file);
    for ifd in &ifds {
        if ifd.width as u64 * ifd.height as u64 > MAX_FUZZ_PELS {
            continue;
        }
        let decoded = tiff::decode_ifd(data, ifd);
        let streamed = tiff::decode_ifd_from(&mut strips, ifd, Vec::new());
        match (&decoded, &streamed) {
            (Ok((a, x)), Ok((b, y))) => assert!(a == b && x == y, "strip by strip differs"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("strip by strip: {streamed:?}, in memory: {decoded:?}"),
        }
        if let Ok((page, stats)) = decoded {
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

/// One input to the T.30 engine, for [`t30_engine`]: frames from the T.30 alphabet (good
/// DIS/DCS/PPS/PPR among them, so the fuzzer reaches every phase), raw octets, modem results,
/// the line going down, and time passing.
#[cfg(feature = "arbitrary")]
#[derive(Debug, arbitrary::Arbitrary)]
pub enum EngineOp {
    /// A valid DIS offering ECM or not, with V.17 or not.
    Dis {
        ecm: bool,
        v17: bool,
        mmr: bool,
    },
    /// A valid DCS at the rate of this index (V.17 14400 … V.27ter 2400).
    Dcs {
        rate: u8,
        ecm: bool,
        mmr: bool,
    },
    /// A field-less frame: the FCF of this index in T.30's table, X bit, final or not.
    Plain {
        fcf: u8,
        x: bool,
        last: bool,
    },
    Pps {
        fcf2: u8,
        page: u8,
        block: u8,
        frames: u8,
    },
    Ppr([u8; 32]),
    /// An ECM data frame: number and length.
    Fcd {
        n: u8,
        len: u8,
    },
    Ctc(u8),
    Raw(Vec<u8>),
    BadFrame,
    SendDone,
    Tcf(bool),
    Page {
        rows: u16,
        bad: u16,
        run: u16,
    },
    PageStarted,
    NoPage,
    CarrierHeard,
    LineDown,
    /// Time passes: this many tenths of a second.
    Wait(u16),
}

/// Drive a caller (first byte even) or an answerer with the operations `data` decodes to;
/// answer every `EncodePage` with page data. Checks: no panic; once the call is over it
/// stays over with one `Hangup` action; a caller never confirms more pages than it has; and
/// after the operations, the engine ends the call by itself when only time passes (T1, T2,
/// T4 and the 3-try rule leave no state without a way out).
#[cfg(feature = "arbitrary")]
pub fn t30_engine(data: &[u8]) {
    use crate::t30::{
        Action, Caps, Coding, Config, DataRate, Document, Engine, Fcf, FrameRepr, Input,
        Modulation, RATE, Resolution, ScanTime, Width,
    };
    use arbitrary::{Arbitrary, Unstructured};
    let Some((&role, rest)) = data.split_first() else {
        return;
    };
    let u = Unstructured::new(rest);
    let Ok(ops) = Vec::<EngineOp>::arbitrary_take_rest(u) else {
        return;
    };
    let caller = role & 1 == 0;
    let pages = 1 + (role >> 1) as u32 % 3;
    let config = Config {
        ident: "fuzz".into(),
        ecm: role & 0x80 == 0,
        ..Config::default()
    };
    let mut e = if caller {
        Engine::caller(
            config,
            Document {
                pages,
                resolution: Resolution::Fine,
                width: Width::A4,
            },
        )
    } else {
        Engine::answerer(config)
    };
    let rates = [
        DataRate::V17_14400,
        DataRate::V17_12000,
        DataRate::V17_9600,
        DataRate::V17_7200,
        DataRate::V29_9600,
        DataRate::V29_7200,
        DataRate::V27TER_4800,
        DataRate::V27TER_2400,
    ];
    let caps = |ecm: bool, mmr: bool| Caps {
        polling: false,
        receive: true,
        modulations: vec![Modulation::V27ter, Modulation::V29],
        v27ter_4800: true,
        rate: None,
        resolutions: vec![Resolution::Standard, Resolution::Fine],
        codings: if mmr {
            vec![Coding::Mh, Coding::Mr, Coding::Mmr]
        } else {
            vec![Coding::Mh, Coding::Mr]
        },
        width: Width::A4,
        length: 0,
        scan_time: ScanTime {
            normal_ms: 0,
            fine_ms: 0,
        },
        uncompressed: false,
        ecm,
        ecm_64: false,
        inch_based: false,
        metric_based: false,
    };
    let mut now = 0u64;
    let mut hangups = 0;
    let drain = |e: &mut Engine, now: u64, hangups: &mut u32| {
        let mut guard = 0;
        while let Some(a) = e.poll_action() {
            guard += 1;
            assert!(guard < 10_000, "the engine keeps producing actions");
            match a {
                Action::EncodePage { index, .. } => {
                    e.handle(now, Input::PageData(vec![index as u8; 700]))
                }
                Action::Hangup(_) => *hangups += 1,
                _ => {}
            }
        }
        while e.poll_event().is_some() {}
    };
    for op in ops.into_iter().take(500) {
        let input = match op {
            EngineOp::Dis { ecm, v17, mmr } => {
                let mut c = caps(ecm, mmr);
                if v17 {
                    c.modulations.push(Modulation::V17);
                }
                Input::Frame(FrameRepr::Dis(c).emit(false, true))
            }
            EngineOp::Dcs { rate, ecm, mmr } => {
                let mut c = caps(ecm, mmr && ecm);
                c.modulations.clear();
                c.rate = Some(rates[rate as usize % rates.len()]);
                c.resolutions = vec![Resolution::Fine];
                c.codings = vec![if mmr && ecm { Coding::Mmr } else { Coding::Mr }];
                Input::Frame(FrameRepr::Dcs(c).emit(true, true))
            }
            EngineOp::Plain { fcf, x, last } => {
                let f = Fcf::ALL[fcf as usize % Fcf::ALL.len()];
                Input::Frame(FrameRepr::Plain(f).emit(x, last))
            }
            EngineOp::Pps {
                fcf2,
                page,
                block,
                frames,
            } => {
                let cmds = [None, Some(Fcf::Mps), Some(Fcf::Eop), Some(Fcf::Eom)];
                Input::Frame(
                    FrameRepr::Pps {
                        fcf2: cmds[fcf2 as usize % 4],
                        page: page % 4,
                        block: block % 4,
                        frames: frames as u16 + 1,
                    }
                    .emit(true, true),
                )
            }
            EngineOp::Ppr(map) => Input::Frame(FrameRepr::Ppr(Box::new(map)).emit(false, true)),
            EngineOp::Fcd { n, len } => {
                let mut f = vec![0xFF, 0x03, 0x06, n];
                f.resize(4 + len as usize, 0x5A);
                Input::Frame(f)
            }
            EngineOp::Ctc(bits) => Input::Frame(vec![0xFF, 0x13, 0x13, 0, bits]),
            EngineOp::Raw(v) => Input::Frame(v),
            EngineOp::BadFrame => Input::BadFrame,
            EngineOp::SendDone => Input::SendDone,
            EngineOp::Tcf(ok) => Input::Tcf { ok },
            EngineOp::Page { rows, bad, run } => Input::Page {
                rows: rows as u32,
                bad_rows: bad as u32,
                max_bad_run: run as u32,
            },
            EngineOp::PageStarted => Input::PageStarted,
            EngineOp::NoPage => Input::NoPage,
            EngineOp::CarrierHeard => Input::CarrierHeard,
            EngineOp::LineDown => Input::LineDown,
            EngineOp::Wait(tenths) => {
                now += tenths as u64 * RATE / 10;
                e.handle_timeout(now);
                drain(&mut e, now, &mut hangups);
                continue;
            }
        };
        e.handle(now, input);
        drain(&mut e, now, &mut hangups);
    }
    // Only time passes now (and every signal goes out): the call must end by itself.
    for _ in 0..1000 {
        if e.outcome().is_some() {
            break;
        }
        e.handle(now, Input::SendDone);
        drain(&mut e, now, &mut hangups);
        match e.poll_timeout() {
            Some(t) => {
                now = now.max(t);
                e.handle_timeout(now);
            }
            None => {
                // Nothing pending but a send: let it finish.
                now += RATE;
            }
        }
        drain(&mut e, now, &mut hangups);
    }
    let o = e.outcome().expect("the call ends when only time passes");
    assert_eq!(hangups, 1, "one Hangup action");
    if caller {
        assert!(o.pages <= pages, "{} pages confirmed of {pages}", o.pages);
    }
}

/// Audio into a receiver. Byte 0 picks the modem and rate (÷ 9) and the size of the blocks
/// the audio comes in (the rest); the other bytes are s16le samples at 8 kHz. Checks: no
/// panic; carrier up and down alternate, up first; a training's verdict comes while the
/// carrier is up; no data bits before a training succeeded (V.21 has none to pass); the
/// quality figures are finite whatever came in.
pub fn modem_rx(data: &[u8]) {
    use crate::modem::rate::{Modem, Rate};
    use crate::modem::{Collect, RxEvent, factory};
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    const RATES: [(Modem, u32); 9] = [
        (Modem::V21, 300),
        (Modem::V27ter, 2400),
        (Modem::V27ter, 4800),
        (Modem::V29, 7200),
        (Modem::V29, 9600),
        (Modem::V17, 7200),
        (Modem::V17, 9600),
        (Modem::V17, 12000),
        (Modem::V17, 14400),
    ];
    const BLOCKS: [usize; 7] = [160, 1, 7, 33, 200, 256, 1000];
    let (modem, bps) = RATES[sel as usize % RATES.len()];
    let block = BLOCKS[sel as usize / RATES.len() % BLOCKS.len()];
    let mut rx = factory::receiver(Rate::new(modem, bps).expect("a fax rate"));
    let samples: Vec<i16> = rest
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut sink = Collect::default();
    for chunk in samples.chunks(block) {
        rx.receive(chunk, &mut sink);
    }
    let mut up = false;
    let mut trained = false;
    for &(bits, event) in &sink.events {
        match event {
            RxEvent::CarrierUp => {
                assert!(!up, "{modem} {bps}: carrier up twice: {:?}", sink.events);
                up = true;
            }
            RxEvent::CarrierDown => {
                assert!(
                    up,
                    "{modem} {bps}: carrier down while down: {:?}",
                    sink.events
                );
                up = false;
            }
            RxEvent::TrainingSucceeded | RxEvent::TrainingFailed => {
                if event == RxEvent::TrainingSucceeded {
                    trained = true;
                }
                assert!(
                    up || event == RxEvent::TrainingFailed,
                    "{modem} {bps}: {event:?} without a carrier: {:?}",
                    sink.events
                );
            }
        }
        assert!(
            modem == Modem::V21 || trained || bits == 0,
            "{modem} {bps}: {bits} bits before a training: {:?}",
            sink.events
        );
    }
    assert!(
        modem == Modem::V21 || trained || sink.bits.is_empty(),
        "{modem} {bps}: {} bits and no training",
        sink.bits.len()
    );
    let q = rx.quality();
    assert!(q.is_finite(), "{modem} {bps}: {q:?}");
}
