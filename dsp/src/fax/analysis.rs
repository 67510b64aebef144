//! A recorded fax call read back like a protocol analyser, audio in and findings out: tones,
//! V.21 frames with their T.30 meaning, high-speed modem segments (which modem and rate,
//! training, SNR, TCF) and pages, in time order. No files, no rendering: `softfax analyze`
//! reads the recording and prints the report.
//!
//! How it works, per channel (one direction of the call; a stereo `--record` WAV has two,
//! a capture one per RTP stream):
//!
//! 1. One pass with the listeners a fax terminal has: the CNG/CED detector (T.30 §4), the
//!    DTMF receiver (Q.24), the call-progress detector (busy, ringback, … of every built-in
//!    tone plan) and the V.21 channel 2 receiver with HDLC (T.30 §5.3), whose frames are
//!    parsed as T.30 frames ([`FrameRepr`], DIS/DTC/DCS spelled out). The V.21 receiver's
//!    carrier detector, which is a wide-band power detector, also cuts the channel into
//!    bursts of signal.
//! 2. Every burst that is not V.21 (no frame in it; or the part of it that continues well
//!    after its last frame) and not a tone is a high-speed modem candidate. It is run
//!    through the receiver of the rate the latest DCS (T.30 §5.3.6.2.2) before it announced
//!    (V.17 with the short retrain after a first long training, as T.30 allows); when there
//!    is none or it does not train, every modem and rate is probed and the best training
//!    is kept. A segment whose bits are nearly all zeros is a TCF (T.30 §5.3.6.2.9: the
//!    longest run of zeros is reported against the 1 s that softfax asks); any other is
//!    page data, decoded with the T.4 coding, width and resolution of the DCS (or, without
//!    one, the coding that decodes best).
//!
//!    With ECM (T.30 Annex A) a segment's bits are HDLC frames: the FCD frames fill each
//!    block by frame number (retransmissions after PPR fill the gaps), the PPS that follows
//!    on V.21 closes the block, and a PPS with EOP/MPS/EOM ends the page, decoded like the
//!    others.
//!
//! **Not supported:** V.34 and V.8, T.38 (a UDPTL capture has no audio to decode), ECM
//! blocks that never arrive complete (the page is not shown).
//!
//! **Tested by:** `tests/analyze.rs` (through `softfax analyze`) — the real captured calls of vectors/real-fax-audio
//! (NSF/CSI/DIS, TSI/DCS and the V.29 9600 TCF found as spandsp found them), a `--record`
//! WAV of a `sim:` call (the same frames as the call's own log, the page pel for pel; an
//! ECM and a non-ECM call), garbage, truncated and misnamed files.

use super::pages;
use super::sinks::V21Sink;
use crate::hdlc::{HdlcEvent, HdlcRx};
use crate::image::{Page, Resolution as PageResolution};
use crate::modem::v17::V17Rx;
use crate::modem::v21::V21Rx;
use crate::modem::{Rate, Receiver, RxEvent, RxQuality, RxSink, rms_to_dbm0};
use crate::t4;
use crate::t30::{Caps, DataRate, Fcf, Frame, FrameRepr};
use crate::tones::dtmf::{DtmfConfig, DtmfDetector, DtmfEvent};
use crate::tones::fax::{FaxTone, FaxToneDetector, FaxToneEvent};
use crate::tones::progress::{ALL_PLANS, CallProgress, ProgressDetector};

/// Samples per analysis step (5 ms): the time resolution of the report.
const STEP: usize = 40;
/// Bursts shorter than this are not modem candidates (a TCF lasts 1.5 s), samples.
const MIN_BURST: u64 = 1600;
/// Of a burst with V.21 frames, a tail this long after the last frame is looked at as a
/// high-speed signal of its own (no silence between them on some lines), samples.
const V21_TAIL: u64 = 2400;

/// Every image rate, in the order they are probed.
const PROBE: [DataRate; 8] = [
    DataRate::V17_14400,
    DataRate::V17_12000,
    DataRate::V17_9600,
    DataRate::V17_7200,
    DataRate::V29_9600,
    DataRate::V29_7200,
    DataRate::V27TER_4800,
    DataRate::V27TER_2400,
];

/// One thing found.
#[derive(Debug, Clone)]
pub struct Item {
    /// When, samples on the call's time line.
    pub at: u64,
    /// The channel (index into the tracks analysed).
    pub channel: usize,
    pub what: What,
}

/// What was found.
#[derive(Debug, Clone)]
pub enum What {
    /// A fax tone from start to end.
    FaxTone { tone: FaxTone, samples: Option<u64> },
    /// A DTMF digit.
    Dtmf(char),
    /// A call-progress tone recognised.
    Progress(CallProgress),
    /// A V.21 frame with a good FCS, and its meaning (or why it has none).
    Frame {
        octets: Vec<u8>,
        repr: Result<FrameRepr, String>,
    },
    /// V.21 frames whose FCS failed.
    BadFrames(u32),
    /// A V.21 signal of flags without a whole frame.
    V21Flags { flags: u32, samples: u64 },
    /// A high-speed modem segment.
    Modem(Segment),
    /// A burst of signal nothing recognised.
    Unknown { samples: u64, level_dbm0: f32 },
    /// An ECM page put together from the FCD frames of its blocks, at the PPS that ended it.
    Page(PageFound),
}

/// A high-speed modem segment.
#[derive(Debug, Clone)]
pub struct Segment {
    pub rate: DataRate,
    /// Found by probing (no DCS announced it, or the announced rate did not train).
    pub probed: bool,
    pub trained: bool,
    /// Samples from the burst's start to the end of training.
    pub training_samples: u64,
    /// Burst length, samples.
    pub samples: u64,
    pub quality: RxQuality,
    /// Bits received after training.
    pub bits: u64,
    pub kind: SegmentKind,
}

#[derive(Debug, Clone)]
pub enum SegmentKind {
    /// Training failed.
    None,
    /// Training check: zeros, and the longest run of them.
    Tcf { zeros: u64, longest_zero_run: u64 },
    /// Page data decoded.
    Page(PageFound),
    /// ECM (T.30 Annex A): HDLC frames at high speed, good and bad, and the facsimile data
    /// of each FCD frame by frame number (the page is put together at PPS, [`What::Page`]).
    Ecm {
        frames: u32,
        bad: u32,
        fcd: Vec<(u8, Vec<u8>)>,
    },
}

/// A page decoded from a segment.
#[derive(Debug, Clone)]
pub struct PageFound {
    /// 1, 2, … in the order found.
    pub number: u32,
    pub coding: t4::Coding,
    pub page: Page,
    pub bad_rows: u32,
    /// Decoded up to RTC/EOFB.
    pub complete: bool,
}

/// One direction of a call (or the only one), at 8 kHz.
#[derive(Debug, Clone, Copy)]
pub struct Track<'a> {
    /// Where it starts on the call's time line, samples.
    pub offset: u64,
    pub samples: &'a [i16],
}

/// Analyse the tracks of one call: what was found, in time order.
pub fn analyze(tracks: &[Track]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut bursts = Vec::new();
    for (c, track) in tracks.iter().enumerate() {
        scan(c, track, &mut items, &mut bursts);
    }
    items.sort_by_key(|i: &Item| i.at);
    // High-speed candidates in time order, each with the DCS before it.
    bursts.sort_by_key(|b: &Burst| b.start);
    let mut modem_items = Vec::new();
    let mut v17_state: Option<(DataRate, V17Rx)> = None;
    let mut page_no = 0;
    for b in &bursts {
        let dcs = items
            .iter()
            .rev()
            .filter(|i| i.at <= b.start)
            .find_map(|i| match &i.what {
                What::Frame {
                    repr: Ok(FrameRepr::Dcs(c)),
                    ..
                } => Some(c.clone()),
                _ => None,
            });
        let ch = &tracks[b.channel];
        let lo = (b.start - ch.offset) as usize;
        let hi = ((b.end - ch.offset) as usize + 800).min(ch.samples.len());
        let samples = &ch.samples[lo.saturating_sub(160)..hi];
        let what = match high_speed(samples, dcs.as_ref(), &mut v17_state, &mut page_no) {
            Some(seg) => What::Modem(seg),
            None => What::Unknown {
                samples: b.end - b.start,
                level_dbm0: level(&ch.samples[lo..(b.end - ch.offset) as usize]),
            },
        };
        modem_items.push(Item {
            at: b.start,
            channel: b.channel,
            what,
        });
    }
    // Broken "frames" the V.21 receiver made of a modem signal are no news.
    let spans: Vec<(usize, u64, u64)> = modem_items
        .iter()
        .filter_map(|i| match &i.what {
            What::Modem(s) if s.trained => Some((i.channel, i.at, i.at + s.samples)),
            _ => None,
        })
        .collect();
    items.retain(|i| {
        !matches!(i.what, What::BadFrames(_))
            || !spans
                .iter()
                .any(|&(c, a, z)| c == i.channel && (a..=z + 1600).contains(&i.at))
    });
    items.extend(modem_items);
    items.sort_by_key(|i: &Item| i.at);
    ecm_pages(&mut items, &mut page_no);
    items
}

/// A stretch of signal to try the high-speed receivers on.
#[derive(Debug, Clone, Copy)]
struct Burst {
    channel: usize,
    start: u64,
    end: u64,
}

/// Pass 1 over one channel: tones, V.21 frames, bursts.
fn scan(c: usize, ch: &Track, items: &mut Vec<Item>, bursts: &mut Vec<Burst>) {
    let off = ch.offset;
    let mut v21 = V21Rx::new();
    let mut sink = V21Sink::new();
    let mut fax = FaxToneDetector::new();
    let mut dtmf = DtmfDetector::new(DtmfConfig::default());
    let mut progress = ProgressDetector::new(&ALL_PLANS).ok();
    let (mut fe, mut de, mut pe) = (Vec::new(), Vec::new(), Vec::new());
    let mut tone_start: [Option<u64>; 2] = [None, None];
    // Tone intervals (to keep them out of the modem candidates).
    let mut tone_spans: Vec<(u64, u64)> = Vec::new();
    let mut burst_start: Option<u64> = None;
    let mut last_frame_end: Option<u64> = None;
    let mut bad_run = 0u32;
    let push = |items: &mut Vec<Item>, at: u64, what: What| {
        items.push(Item {
            at: at + off,
            channel: c,
            what,
        })
    };
    let mut pos = 0u64;
    let flush_bad = |items: &mut Vec<Item>, bad_run: &mut u32, at: u64| {
        if *bad_run > 0 {
            items.push(Item {
                at: at + off,
                channel: c,
                what: What::BadFrames(*bad_run),
            });
            *bad_run = 0;
        }
    };
    let n_total = ch.samples.len() as u64;
    for chunk in ch
        .samples
        .chunks(STEP)
        .chain(std::iter::once(&[0i16; 0][..]))
    {
        let end_of_input = chunk.is_empty();
        if !end_of_input {
            v21.receive(chunk, &mut sink);
            fax.process(chunk, &mut fe);
            dtmf.process(chunk, &mut de);
            if let Some(p) = progress.as_mut() {
                p.process(chunk, &mut pe);
            }
            pos += chunk.len() as u64;
        }
        for f in sink.frames.drain(..) {
            match f {
                Ok(octets) => {
                    flush_bad(items, &mut bad_run, pos);
                    let repr = Frame::new(&octets)
                        .and_then(|f| FrameRepr::parse(&f))
                        .map_err(|e| e.to_string());
                    push(items, pos, What::Frame { octets, repr });
                    last_frame_end = Some(pos);
                }
                // Not a frame boundary worth knowing: a modem signal makes the V.21
                // receiver see stray flags and broken frames too.
                Err(()) => bad_run += 1,
            }
        }
        for e in fe.drain(..) {
            match e {
                // Recognised once it has lasted its minimum duration: it began that much
                // earlier.
                FaxToneEvent::Start { tone, at } => {
                    let min = crate::tones::ms_to_samples(tone.min_duration_ms()) as u64;
                    tone_start[tone as usize] = Some(at.saturating_sub(min));
                }
                FaxToneEvent::End { tone, at } => {
                    let from = tone_start[tone as usize].take().unwrap_or(at);
                    tone_spans.push((from, at));
                    push(
                        items,
                        from,
                        What::FaxTone {
                            tone,
                            samples: Some(at - from),
                        },
                    );
                }
            }
        }
        for e in de.drain(..) {
            if let DtmfEvent::Start { digit, at } = e {
                tone_spans.push((at.saturating_sub(400), at + 400));
                push(items, at, What::Dtmf(digit));
            }
        }
        for e in pe.drain(..) {
            if e.tone != CallProgress::Silence {
                tone_spans.push((e.at.saturating_sub(8000), e.at + 8000));
                push(items, e.at, What::Progress(e.tone));
            }
        }
        // Bursts: the V.21 receiver's carrier detector.
        if sink.changed || end_of_input {
            sink.changed = false;
            if sink.up && burst_start.is_none() && !end_of_input {
                burst_start = Some(pos - chunk.len() as u64);
                last_frame_end = None;
                sink.flags = 0;
            } else if (!sink.up || end_of_input)
                && let Some(s) = burst_start.take()
            {
                flush_bad(items, &mut bad_run, pos);
                let e = pos;
                // Mostly flags but no whole frame (a preamble cut short, a frame lost):
                // V.21 all the same. A modem signal makes a stray flag a second or so.
                let v21_bits = (e - s) * 300 / 8000;
                if last_frame_end.is_none()
                    && sink.flags >= 10
                    && sink.flags as u64 * 8 * 4 >= v21_bits
                {
                    push(
                        items,
                        s,
                        What::V21Flags {
                            flags: sink.flags,
                            samples: e - s,
                        },
                    );
                    continue;
                }
                let start = match last_frame_end {
                    // V.21 with a long tail: the tail may be a modem signal.
                    Some(f) if e > f + V21_TAIL => Some(f + 160),
                    Some(_) => None,
                    None => Some(s),
                };
                if let Some(start) = start
                    && e - start >= MIN_BURST
                {
                    bursts.push(Burst {
                        channel: c,
                        start: start + off,
                        end: e + off,
                    });
                }
            }
        }
    }
    // A tone still sounding at the end.
    for (k, t) in [FaxTone::Cng, FaxTone::Ced].into_iter().enumerate() {
        if let Some(from) = tone_start[k] {
            tone_spans.push((from, n_total));
            push(
                items,
                from,
                What::FaxTone {
                    tone: t,
                    samples: None,
                },
            );
        }
    }
    // Bursts that are mostly tone are tones.
    bursts.retain(|b| {
        if b.channel != c {
            return true;
        }
        let (s, e) = (b.start - off, b.end - off);
        let covered: u64 = tone_spans
            .iter()
            .map(|&(a, z)| z.min(e).saturating_sub(a.max(s)))
            .sum();
        covered * 2 < e - s
    });
}

fn level(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return -99.0;
    }
    let p = samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len() as f64;
    rms_to_dbm0(p.sqrt() as f32)
}

/// What a high-speed receiver gave on one burst.
struct Run {
    trained_at: Option<u64>,
    quality: RxQuality,
    bits: Vec<bool>,
    failed: bool,
}

struct RunSink {
    now: u64,
    trained_at: Option<u64>,
    down: bool,
    failed: bool,
    bits: Vec<bool>,
    max_bits: usize,
}

impl RxSink for RunSink {
    fn put_bit(&mut self, bit: bool) {
        if self.trained_at.is_some() && !self.down && self.bits.len() < self.max_bits {
            self.bits.push(bit);
        }
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded if self.trained_at.is_none() => {
                self.trained_at = Some(self.now)
            }
            RxEvent::TrainingFailed if self.trained_at.is_none() => self.failed = true,
            RxEvent::CarrierDown if self.trained_at.is_some() => self.down = true,
            _ => {}
        }
    }
}

/// Run `rx` over `samples` (at most `limit` of them).
fn run_rx(rx: &mut dyn Receiver, samples: &[i16], limit: usize) -> Run {
    let mut sink = RunSink {
        now: 0,
        trained_at: None,
        down: false,
        failed: false,
        bits: Vec::new(),
        max_bits: 30 * 60 * 14_400,
    };
    let mut quality = RxQuality::default();
    let mut quality_taken = false;
    for chunk in samples[..samples.len().min(limit)].chunks(STEP) {
        rx.receive(chunk, &mut sink);
        sink.now += chunk.len() as u64;
        // Quality half a second into the data (the loops have settled, the carrier is on).
        if let Some(t) = sink.trained_at
            && !quality_taken
            && (sink.now >= t + 4000 || sink.down)
        {
            quality = rx.quality();
            quality_taken = true;
        }
        if sink.down || (sink.failed && sink.trained_at.is_none()) {
            break;
        }
    }
    if !quality_taken && sink.trained_at.is_some() {
        quality = rx.quality();
    }
    Run {
        trained_at: sink.trained_at,
        quality,
        bits: sink.bits,
        failed: sink.failed,
    }
}

fn receiver(rate: DataRate) -> Box<dyn Receiver> {
    crate::fax::image_rx(rate)
}

/// Decode a burst as a high-speed modem signal.
fn high_speed(
    samples: &[i16],
    dcs: Option<&Caps>,
    v17: &mut Option<(DataRate, V17Rx)>,
    page_no: &mut u32,
) -> Option<Segment> {
    let announced = dcs.and_then(|c| c.rate);
    let mut chosen: Option<(DataRate, Run, bool)> = None;
    if let Some(rate) = announced {
        let r = if let Rate::V17(v17_rate) = crate::fax::modem_rate(rate) {
            // After a long training at this rate the next may be the short retrain.
            let mut rx = match v17.take() {
                Some((r0, mut rx)) if r0 == rate => {
                    rx.restart(v17_rate, true);
                    rx
                }
                _ => V17Rx::new(v17_rate),
            };
            let r = run_rx(&mut rx, samples, usize::MAX);
            if r.trained_at.is_some() {
                *v17 = Some((rate, rx));
            }
            r
        } else {
            run_rx(&mut *receiver(rate), samples, usize::MAX)
        };
        if r.trained_at.is_some() {
            chosen = Some((rate, r, false));
        }
    }
    if chosen.is_none() {
        // Probe: one second of the burst through every receiver; the clearest training
        // wins (a TCF's zeros decide between rates of one modem), then run it all.
        let mut best: Option<(DataRate, f32)> = None;
        for rate in PROBE {
            let r = run_rx(&mut *receiver(rate), samples, 12_000);
            if r.trained_at.is_none() {
                continue;
            }
            let zeros = r.bits.iter().filter(|b| !**b).count() as f32 / r.bits.len().max(1) as f32;
            let score = r.quality.snr_db + if zeros > 0.95 { 100.0 } else { 0.0 };
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((rate, score));
            }
        }
        if let Some((rate, _)) = best {
            let r = run_rx(&mut *receiver(rate), samples, usize::MAX);
            if r.trained_at.is_some() {
                chosen = Some((rate, r, true));
            }
        }
    }
    let Some((rate, r, probed)) = chosen else {
        // Announced but nothing trained: report the failure for the announced rate.
        return announced.map(|rate| Segment {
            rate,
            probed: false,
            trained: false,
            training_samples: 0,
            samples: samples.len() as u64,
            quality: RxQuality::default(),
            bits: 0,
            kind: SegmentKind::None,
        });
    };
    let _ = r.failed;
    let bits = r.bits.len() as u64;
    let zeros = r.bits.iter().filter(|b| !**b).count() as u64;
    let mut longest = 0u64;
    let mut run_len = 0u64;
    for &b in &r.bits {
        run_len = if b { 0 } else { run_len + 1 };
        longest = longest.max(run_len);
    }
    let ecm = !probed && dcs.is_some_and(|c| c.ecm);
    let kind = if bits > 0 && zeros * 100 >= bits * 90 {
        SegmentKind::Tcf {
            zeros,
            longest_zero_run: longest,
        }
    } else if ecm {
        let mut h = HdlcRx::new(crate::hdlc::MAX_ECM_FRAME);
        let (mut good, mut bad, mut fcd) = (0, 0, Vec::new());
        for &b in &r.bits {
            match h.put_bit(b) {
                Some(HdlcEvent::Frame(f)) => {
                    good += 1;
                    // FCD: address, control, FCD (X bit free), frame number, data.
                    if f.len() > 4 && f[2] & 0xFE == Fcf::Fcd as u8 {
                        fcd.push((f[3], f[4..].to_vec()));
                    }
                }
                Some(HdlcEvent::Bad { .. }) => bad += 1,
                _ => {}
            }
        }
        SegmentKind::Ecm {
            frames: good,
            bad,
            fcd,
        }
    } else {
        match decode_page(&r.bits, if probed { None } else { dcs }) {
            Some(mut p) => {
                *page_no += 1;
                p.number = *page_no;
                SegmentKind::Page(p)
            }
            None => SegmentKind::None,
        }
    };
    Some(Segment {
        rate,
        probed,
        trained: true,
        training_samples: r.trained_at.unwrap_or(0).saturating_sub(160),
        samples: samples.len() as u64,
        quality: r.quality,
        bits,
        kind,
    })
}

/// T.4 data (bits in line order) into a page, with the DCS's coding, or the best of all.
fn decode_page(bits: &[bool], dcs: Option<&Caps>) -> Option<PageFound> {
    let bytes: Vec<u8> = bits
        .chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |a, (i, &b)| a | (b as u8) << i)
        })
        .collect();
    let width = dcs.map_or(1728, |c| c.width.pels());
    // The DCS's coding and resolution (T.30 Table 2), as the terminal reads them; without a
    // DCS every coding is tried, at fine resolution.
    let resolution = dcs.map_or(PageResolution::FINE, pages::page_resolution);
    let codings: Vec<t4::Coding> = match dcs {
        Some(c) => vec![pages::t4_coding(c)],
        None => vec![t4::Coding::Mh, t4::Coding::Mr { k: 4 }, t4::Coding::Mmr],
    };
    let mut best: Option<PageFound> = None;
    for coding in codings {
        let Some(d) = pages::decode(&bytes, coding, width, resolution) else {
            continue;
        };
        if d.page.height == 0 {
            continue;
        }
        let found = PageFound {
            number: 0,
            coding,
            page: d.page,
            bad_rows: d.stats.bad_rows,
            complete: d.complete,
        };
        let better = |a: &PageFound, b: &PageFound| {
            (a.complete, a.page.height.saturating_sub(a.bad_rows * 4))
                > (b.complete, b.page.height.saturating_sub(b.bad_rows * 4))
        };
        if best.as_ref().is_none_or(|b| better(&found, b)) {
            best = Some(found);
        }
    }
    best
}

/// Put ECM pages together (T.30 Annex A): the FCD frames of each channel's segments fill
/// the current block by frame number (a retransmission after PPR fills the gaps); the PPS
/// that follows on V.21 from the same channel says how many frames the block has — once all
/// are in, the block joins the page; a PPS carrying EOP, MPS or EOM ends the page, which is
/// decoded with the DCS's coding.
fn ecm_pages(items: &mut Vec<Item>, page_no: &mut u32) {
    use std::collections::BTreeMap;
    let mut block: BTreeMap<usize, BTreeMap<u8, Vec<u8>>> = BTreeMap::new();
    let mut page: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut dcs: Option<Caps> = None;
    let mut found = Vec::new();
    for i in items.iter() {
        match &i.what {
            What::Frame {
                repr: Ok(FrameRepr::Dcs(c)),
                ..
            } => dcs = Some(c.clone()),
            What::Modem(Segment {
                kind: SegmentKind::Ecm { fcd, .. },
                ..
            }) => {
                let b = block.entry(i.channel).or_default();
                for (n, d) in fcd {
                    b.entry(*n).or_insert_with(|| d.clone());
                }
            }
            What::Frame {
                repr: Ok(FrameRepr::Pps { fcf2, frames, .. }),
                ..
            } => {
                let b = block.entry(i.channel).or_default();
                let n = (*frames as usize).min(256);
                if n > 0 && (0..n).all(|k| b.contains_key(&(k as u8))) {
                    let p = page.entry(i.channel).or_default();
                    for k in 0..n {
                        p.extend_from_slice(&b[&(k as u8)]);
                    }
                    b.clear();
                    if fcf2.is_some() {
                        let data = std::mem::take(p);
                        let bits: Vec<bool> = data
                            .iter()
                            .flat_map(|o| (0..8).map(move |k| o >> k & 1 != 0))
                            .collect();
                        if let Some(mut pf) = decode_page(&bits, dcs.as_ref()) {
                            *page_no += 1;
                            pf.number = *page_no;
                            found.push(Item {
                                at: i.at,
                                channel: i.channel,
                                what: What::Page(pf),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    items.extend(found);
    items.sort_by_key(|i| i.at);
}
