//! The receive sinks of a fax terminal: what the bits of each receiver are made into — T.30
//! frames from V.21 channel 2 (T.30 §5.3, HDLC), the TCF check (T.30 §5.3.6.2.9), ECM frames
//! on the image modem (T.30 Annex A) and non-ECM page data (T.4) — and the gate that finds
//! where a high-speed signal starts above the line's noise.

use super::pages;
use crate::hdlc::{HdlcEvent, HdlcRx, MAX_ECM_FRAME, MAX_T30_FRAME};
use crate::image::Page;
use crate::modem::{RxEvent, RxSink};
use crate::t4::{self, BitOrder, DecodeStats, Decoder, Progress};
use crate::t30::{Caps, Fcf};

/// Where a page's image signal is: trained, given up on before training (noise, or a
/// training missed), or over (its carrier gone, or RTC).
#[derive(Debug, Default)]
pub(crate) struct Signal {
    /// A carrier came (trained on or not).
    pub(crate) heard: bool,
    pub(crate) trained: bool,
    pub(crate) failed: bool,
    pub(crate) down: bool,
}

impl Signal {
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::CarrierUp => self.heard = true,
            RxEvent::TrainingSucceeded => self.trained = true,
            RxEvent::TrainingFailed if !self.trained => self.failed = true,
            RxEvent::CarrierDown if self.trained => self.down = true,
            _ => {}
        }
    }

    /// Bits count from training to the signal's end.
    pub(crate) fn open(&self) -> bool {
        self.trained && !self.down
    }
}

/// A sink for a page's image signal (ECM frames or page data).
pub(crate) trait ImageSink: RxSink {
    fn signal(&mut self) -> &mut Signal;
}

/// HDLC frames from the image modem (ECM).
pub(crate) struct EcmSink {
    hdlc: HdlcRx,
    frames: Vec<Result<Vec<u8>, ()>>,
    pub(crate) signal: Signal,
    /// Line bits not yet given to the HDLC receiver: the low `n` (≤ 32) bits of `acc`, the
    /// first highest. They go to it up to 32 at a time, and all of them before an event is
    /// taken or the frames are.
    acc: u64,
    n: u32,
    /// Frames with a good FCS handed on so far, and whether one of them was RCP (the
    /// burst's end, T.4 §A.2).
    pub(crate) good_frames: u32,
    pub(crate) rcp: bool,
}

impl EcmSink {
    pub(crate) fn new() -> EcmSink {
        EcmSink {
            hdlc: HdlcRx::new(MAX_ECM_FRAME),
            frames: Vec::new(),
            signal: Signal::default(),
            acc: 0,
            n: 0,
            good_frames: 0,
            rcp: false,
        }
    }

    /// The bits not yet given to the HDLC receiver, given.
    fn flush(&mut self) {
        if self.n > 0 {
            let frames = &mut self.frames;
            self.hdlc
                .put_bits(self.acc as u32, self.n, |e| keep_frame(frames, e));
            self.acc = 0;
            self.n = 0;
        }
    }

    /// Move the frames received so far to the end of `out`, counting the good ones.
    pub(crate) fn take_frames(&mut self, out: &mut Vec<Result<Vec<u8>, ()>>) {
        self.flush();
        for f in self.frames.iter().flatten() {
            self.good_frames = self.good_frames.wrapping_add(1);
            // Address (0xFF, T.30 §5.3.4), control, FCF with its final bit masked: RCP.
            if f.len() >= 3 && f[0] == 0xFF && f[2] & 0xFE == Fcf::Rcp as u8 {
                self.rcp = true;
            }
        }
        out.append(&mut self.frames);
    }
}

impl RxSink for EcmSink {
    fn put_bit(&mut self, bit: bool) {
        self.put_bits(bit as u32, 1);
    }
    /// The bits (first highest) join those not yet given; they go on 32 at most at a time.
    #[inline]
    fn put_bits(&mut self, bits: u32, n: u32) {
        if !self.signal.open() || n == 0 {
            return;
        }
        let n = n.min(32);
        if self.n + n > 32 {
            self.flush();
        }
        self.acc = (self.acc << n) | (bits as u64 & (u64::MAX >> (64 - n)));
        self.n += n;
    }
    fn event(&mut self, e: RxEvent) {
        self.flush();
        self.signal.event(e);
    }
}

impl ImageSink for EcmSink {
    fn signal(&mut self) -> &mut Signal {
        &mut self.signal
    }
}

/// One bit into an HDLC receiver; a frame it completes, good or bad (FCS), is kept.
fn put_frame_bit(hdlc: &mut HdlcRx, frames: &mut Vec<Result<Vec<u8>, ()>>, bit: bool) {
    if let Some(e) = hdlc.put_bit(bit) {
        keep_frame(frames, e);
    }
}

/// A frame, good or bad (FCS), is kept; the other events are not.
fn keep_frame(frames: &mut Vec<Result<Vec<u8>, ()>>, e: HdlcEvent) {
    match e {
        HdlcEvent::Frame(f) => frames.push(Ok(f)),
        HdlcEvent::Bad { .. } => frames.push(Err(())),
        _ => {}
    }
}

/// TCF (T.30 §5.3.6.2.9): how many bits came after training and the longest run of zeros.
#[derive(Default)]
pub(crate) struct TcfSink {
    pub(crate) trained: bool,
    pub(crate) bits: u64,
    run: u64,
    pub(crate) longest_zeros: u64,
    pub(crate) down: bool,
    pub(crate) failed: bool,
}

impl RxSink for TcfSink {
    fn put_bit(&mut self, bit: bool) {
        if !self.trained {
            return;
        }
        self.bits += 1;
        if bit {
            self.run = 0;
        } else {
            self.run += 1;
            self.longest_zeros = self.longest_zeros.max(self.run);
        }
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded => self.trained = true,
            RxEvent::TrainingFailed => self.failed = true,
            // Whatever happened, the TCF is over when its carrier goes.
            RxEvent::CarrierDown => self.down = true,
            _ => {}
        }
    }
}

/// Non-ECM page data, decoded row by row as it arrives.
pub(crate) struct PageSink {
    pub(crate) signal: Signal,
    /// Line bits not yet given to the decoder: the low `n` (< 32) bits of `acc`, the first
    /// highest. They go to the decoder 32 at a time (as four octets, first bit highest).
    acc: u64,
    n: u32,
    decoder: Decoder,
    page: Page,
    stride: usize,
    /// Octets given to the decoder, and how many it had decoded at the end of the last run
    /// of good rows ([`GOOD_RUN`] or more); rows good, good in a row, and since that run —
    /// all and bad (see [`PageSink::finish`]).
    octets: u64,
    at_good: u64,
    good_rows: u32,
    good_run: u32,
    tail_rows: u32,
    tail_bad: u32,
    bad_seen: u32,
    /// Bits the decoder had taken and skipped (see [`DecodeStats::skipped_bits`]) when the
    /// last row came out, and rows lost inside the page (see [`LostRows`]).
    row_end: u64,
    skipped: u64,
    lost: LostRows,
    /// Good rows that came right after a good row (noise now and then decodes to a good
    /// row, hardly ever to two in a row): the page's data is coming in.
    pub(crate) steady_rows: u32,
}

/// Good rows in a row that show the data is page data again (noise decodes to a good row
/// now and then, never to many in a row).
const GOOD_RUN: u32 = 8;

/// Rows lost inside a page: a receiver that lost its lock for seconds and found it again
/// gives noise, which has few row ends in it; the decoder passes over it looking for one
/// after a bad row, or takes it as fill after a row that decoded (T.4 allows fill before an
/// EOL), and seconds of data come out as a handful of rows each far longer than the page's
/// rows. Such a row ([`LONG_ROW`]) stands for as many rows as its data would make at the
/// mean coded length of the page's rows lately, and those count as bad rows in one stretch
/// — so that the copy quality check sees a page that lost its middle as it sees one that
/// lost its end — once [`GOOD_RUN`] ordinary good rows after it show the page going on,
/// far shorter than the longest of the stretch, and if at least half its long rows were
/// bad or skipped data to find their EOL (noise hardly ever decodes cleanly): long rows
/// that decode cleanly are the page's own (a halftone), and so are long rows followed by
/// rows as long. Noise after a page whose RTC was lost is
/// its tail ([`PageSink::finish`]).
#[derive(Debug, Default)]
struct LostRows {
    /// Good rows measured (good, after a good one): mean coded length, about the last 64,
    /// and the longest, bits (fill included).
    mean: f32,
    max: f32,
    /// The stretch of long rows being judged: how many, how many not clean, the longest,
    /// the rows they stood for, and the most in a row (with the bad rows before them).
    stretch: u32,
    stretch_bad: u32,
    long: f32,
    lost: u32,
    run: u32,
    /// Ordinary good rows since the stretch, and the longest of them.
    after: u32,
    after_max: f32,
    /// Rows counted lost in the page, and the most in one stretch.
    total: u32,
    total_run: u32,
}

/// A row is long when it takes more than 4 times the longest of the page's rows so far and
/// more than this many bits (256 octets: 0.14 s at 14400 bit/s).
const LONG_ROW: f32 = 2048.0;

impl LostRows {
    /// A row of `span` bits came out, `clean` (good, nothing skipped) or not, `measured`
    /// when the row before it was good too (after a bad row the decoder skipped data to
    /// find the row's start), after `bad_before` bad rows in a row.
    fn row(&mut self, span: f32, clean: bool, measured: bool, bad_before: u32) {
        if span > (4.0 * self.max).max(LONG_ROW) {
            if self.stretch == 0 {
                (self.stretch_bad, self.long, self.lost, self.run) = (0, 0.0, 0, 0);
            }
            self.stretch += 1;
            self.stretch_bad += u32::from(!clean);
            self.long = self.long.max(span);
            if self.mean > 0.0 {
                let n = ((span - self.mean) / self.mean).ceil() as u32;
                self.lost = self.lost.saturating_add(n);
                self.run = self.run.max(n.saturating_add(bad_before));
            }
            (self.after, self.after_max) = (0, 0.0);
            return;
        }
        if self.stretch > 0 {
            // Rows inside or just after a stretch are not measured.
            if clean {
                self.after += 1;
                self.after_max = self.after_max.max(span);
                if self.after >= GOOD_RUN {
                    if 2 * self.stretch_bad >= self.stretch && self.long > 4.0 * self.after_max {
                        self.total = self.total.saturating_add(self.lost);
                        self.total_run = self.total_run.max(self.run);
                    } else {
                        self.max = self.max.max(self.long);
                    }
                    self.stretch = 0;
                }
            }
            return;
        }
        if measured {
            self.mean = if self.mean == 0.0 {
                span
            } else {
                self.mean + (span - self.mean) / 64.0
            };
            self.max = self.max.max(span);
        }
    }
}

impl PageSink {
    /// A sink for the page data that follows `dcs`; `None` if its width cannot be decoded.
    pub(crate) fn new(dcs: &Caps) -> Option<PageSink> {
        let (decoder, page) = pages::page_decoder(dcs, BitOrder::MsbFirst)?;
        Some(PageSink {
            signal: Signal::default(),
            acc: 0,
            n: 0,
            stride: page.stride(),
            decoder,
            page,
            octets: 0,
            at_good: 0,
            good_rows: 0,
            good_run: 0,
            tail_rows: 0,
            tail_bad: 0,
            bad_seen: 0,
            row_end: 0,
            skipped: 0,
            lost: LostRows::default(),
            steady_rows: 0,
        })
    }

    /// A row came out of the decoder: good or bad, and how much data did it take?
    fn row_out(&mut self) {
        let st = self.decoder.stats();
        let (bad, bits) = (st.bad_rows, self.decoder.bits_consumed());
        let span = (bits - self.row_end) as f32;
        let good = bad == self.bad_seen;
        let clean = good && st.skipped_bits == self.skipped;
        (self.row_end, self.skipped) = (bits, st.skipped_bits);
        self.lost
            .row(span, clean, clean && self.good_run > 0, self.tail_bad);
        self.tail_rows += 1;
        if bad > self.bad_seen {
            self.bad_seen = bad;
            self.tail_bad += 1;
            self.good_run = 0;
        } else {
            self.good_rows += 1;
            self.good_run += 1;
            if self.good_run >= 2 {
                self.steady_rows = self.steady_rows.wrapping_add(1);
            }
            if self.good_run >= GOOD_RUN || self.bad_seen == 0 {
                self.at_good = self.decoder.bits_consumed().div_ceil(8);
                self.tail_rows = 0;
                self.tail_bad = 0;
            }
        }
    }

    /// The page once its data is over (RTC or the carrier's end), with the decoder's counts.
    ///
    /// A page whose carrier went before RTC (T.4 §4.1.4) lost its end on the line: the data
    /// after the last run of good rows stands for as many rows as it would at the page's
    /// mean coded row length, and those are counted as bad rows in one run at the end, so
    /// the copy quality check (MCF, RTN) sees them — a page that lost its second half after
    /// a modem lost its lock is no longer a short page under MCF. A page that lost only its
    /// RTC counts one bad row.
    pub(crate) fn finish(&mut self) -> (Page, DecodeStats) {
        if self.n > 0 {
            // The bits not yet given, in whole octets (the last one's rest as fill).
            let k = self.n.div_ceil(8);
            let v = ((self.acc << (8 * k - self.n)) as u32).to_be_bytes();
            self.decoder.push(&v[(4 - k) as usize..]);
            self.octets += k as u64;
            self.acc = 0;
            self.n = 0;
        }
        let (mut st, complete) = pages::finish_page(&mut self.decoder, &mut self.page);
        if !complete {
            let tail = self.octets.saturating_sub(self.at_good);
            let lost = if self.good_rows == 0 {
                st.rows.max(1)
            } else {
                let per_row = (self.at_good as f64 / self.good_rows as f64).max(1.0);
                ((tail as f64 / per_row).ceil() as u32).max(1)
            };
            let extra = lost.saturating_sub(self.tail_rows).max(1);
            st.rows += extra;
            st.bad_rows += extra;
            st.max_consecutive_bad_rows = st.max_consecutive_bad_rows.max(self.tail_bad + extra);
        }
        let (lost, lost_run) = (self.lost.total, self.lost.total_run);
        if lost > 0 {
            st.rows += lost;
            st.bad_rows += lost;
            st.max_consecutive_bad_rows = st.max_consecutive_bad_rows.max(lost_run);
        }
        if !complete || lost > 0 {
            self.page.quality = Some(crate::image::PageQuality {
                bad_rows: st.bad_rows,
                max_consecutive_bad_rows: st.max_consecutive_bad_rows,
            });
        }
        self.octets = 0;
        self.at_good = 0;
        self.good_rows = 0;
        self.good_run = 0;
        self.tail_rows = 0;
        self.tail_bad = 0;
        self.bad_seen = 0;
        self.row_end = 0;
        self.skipped = 0;
        self.lost = LostRows::default();
        let empty = Page::new(self.page.width, 0, self.page.resolution);
        (std::mem::replace(&mut self.page, empty), st)
    }

    /// Four octets (32 line bits, first bit highest) to the decoder, and the rows they
    /// complete into the page.
    fn word(&mut self, w: u32) {
        self.decoder.push(&w.to_be_bytes());
        self.octets += 4;
        loop {
            match self.decoder.next_row() {
                Ok(Progress::Row(row)) => {
                    if self.page.data.len() / self.stride.max(1) < t4::DEFAULT_MAX_ROWS as usize {
                        self.page.data.extend_from_slice(row);
                    }
                    self.row_out();
                }
                // RTC: the page is complete, whatever the carrier detector says.
                Ok(Progress::End) => {
                    self.signal.down = true;
                    break;
                }
                Ok(Progress::NeedInput) | Err(_) => break,
            }
        }
    }
}

impl RxSink for PageSink {
    fn put_bit(&mut self, bit: bool) {
        self.put_bits(bit as u32, 1);
    }
    /// The bits (first highest) join those not yet given; every 32 go to the decoder.
    #[inline]
    fn put_bits(&mut self, bits: u32, n: u32) {
        if !self.signal.open() || n == 0 {
            return;
        }
        let n = n.min(32);
        self.acc = (self.acc << n) | (bits as u64 & (u64::MAX >> (64 - n)));
        self.n += n;
        if self.n >= 32 {
            self.n -= 32;
            let w = (self.acc >> self.n) as u32;
            self.acc &= (1u64 << self.n) - 1;
            self.word(w);
        }
    }
    fn event(&mut self, e: RxEvent) {
        self.signal.event(e);
    }
}

impl ImageSink for PageSink {
    fn signal(&mut self) -> &mut Signal {
        &mut self.signal
    }
}

/// Finds where a signal starts above the line's noise: closed, it measures the noise floor
/// in 20-sample pieces; it opens at the first piece 6 dB above the floor and above
/// −43 dBm0 (V.17's carrier-detect level), and stays open until closed again.
#[derive(Default)]
pub(crate) struct Onset {
    open: bool,
    floor: f32,
    pieces: u32,
}

impl Onset {
    const PIECE: usize = 20;

    /// How many samples of `x` precede the signal (all of them while there is none).
    pub(crate) fn feed(&mut self, x: &[i16]) -> usize {
        if self.open {
            return 0;
        }
        let min = crate::modem::dbm0_to_rms(-43.0).powi(2);
        for (i, piece) in x.chunks(Self::PIECE).enumerate() {
            let p = piece.iter().map(|&s| (s as f32).powi(2)).sum::<f32>() / piece.len() as f32;
            if self.pieces >= 2 && p > min && p > 4.0 * self.floor {
                self.open = true;
                return i * Self::PIECE;
            }
            self.floor = if self.pieces == 0 {
                p
            } else {
                self.floor + (p - self.floor) / 16.0
            };
            self.pieces += 1;
        }
        x.len()
    }

    pub(crate) fn close(&mut self) {
        self.open = false;
    }
}

/// A sink for signals nobody wants.
pub(crate) struct NullSink;

impl RxSink for NullSink {
    fn put_bit(&mut self, _bit: bool) {}
    fn event(&mut self, _e: RxEvent) {}
}

/// V.21 channel 2 with HDLC (T.30 §5.3): the control frames, good or bad; and, for the
/// analyser, the flags seen and where the carrier is.
pub(crate) struct V21Sink {
    hdlc: HdlcRx,
    pub(crate) frames: Vec<Result<Vec<u8>, ()>>,
    /// The last 8 bits, and the flags (0x7E) seen since the count was cleared.
    shift: u8,
    pub(crate) flags: u32,
    /// The carrier is up; it came or went since `changed` was cleared.
    pub(crate) up: bool,
    pub(crate) changed: bool,
}

impl V21Sink {
    pub(crate) fn new() -> V21Sink {
        V21Sink {
            hdlc: HdlcRx::new(MAX_T30_FRAME),
            frames: Vec::new(),
            shift: 0,
            flags: 0,
            up: false,
            changed: false,
        }
    }

    /// Forget a frame half received.
    pub(crate) fn reset(&mut self) {
        self.hdlc.reset();
    }
}

impl RxSink for V21Sink {
    fn put_bit(&mut self, bit: bool) {
        self.shift = (self.shift >> 1) | (bit as u8) << 7;
        if self.shift == 0x7E {
            self.flags += 1;
        }
        put_frame_bit(&mut self.hdlc, &mut self.frames, bit);
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::CarrierUp => {
                self.up = true;
                self.changed = true;
            }
            RxEvent::CarrierDown => {
                self.up = false;
                self.changed = true;
                self.hdlc.reset();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Resolution as PageResolution;
    use crate::t30::{Coding, Resolution};

    fn dcs() -> Caps {
        pages::tests::dcs(vec![Coding::Mr], vec![Resolution::Fine])
    }

    /// ITU chart 1 coded as MR, and the page.
    fn chart1() -> (Page, Vec<u8>) {
        let path = format!(
            "{}/../vectors/ccitt-t24/pbm/itu1.pbm",
            env!("CARGO_MANIFEST_DIR")
        );
        let page = crate::pbm::read_pbm(&std::fs::read(path).unwrap(), PageResolution::FINE)
            .unwrap()
            .remove(0);
        let data = pages::encode_page(&page, &dcs());
        (page, data)
    }

    /// The page's octets through a sink: the first `octets` of them, then (a receiver that
    /// lost its lock) as many octets of noise as the page had left, then the carrier goes.
    fn through(data: &[u8], octets: usize, noise: bool) -> (Page, DecodeStats) {
        let mut sink = PageSink::new(&dcs()).unwrap();
        sink.event(RxEvent::TrainingSucceeded);
        let mut seed = 7u32;
        let rest = if noise { data.len() - octets } else { 0 };
        let garbage = (0..rest).map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        });
        'all: for o in data[..octets].iter().copied().chain(garbage) {
            for i in 0..8 {
                sink.put_bit(o >> i & 1 != 0);
                if sink.signal.down {
                    break 'all;
                }
            }
        }
        sink.event(RxEvent::CarrierDown);
        sink.finish()
    }

    #[test]
    fn words_in_are_its_bits() {
        // The page's octets (half of them, then noise, so that rows go bad too; and the
        // whole page, ended by RTC, so that bits after it are dropped mid-word), and a
        // partial octet, in words of 1..=32 bits, the first highest, as a modem hands them
        // over: the same page and counts as bit by bit.
        let (_, data) = chart1();
        for (octets, noise) in [(data.len() / 2, true), (data.len(), false)] {
            let mut seed = 7u32;
            let rest = if noise { data.len() - octets } else { 0 };
            let garbage = (0..rest).map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            });
            let mut bits: Vec<bool> = data[..octets]
                .iter()
                .copied()
                .chain(garbage)
                .flat_map(|o| (0..8).map(move |i| o >> i & 1 != 0))
                .collect();
            bits.extend([true, false, true]);
            let sink = || {
                let mut s = PageSink::new(&dcs()).unwrap();
                s.event(RxEvent::TrainingSucceeded);
                s
            };
            let mut a = sink();
            for &b in &bits {
                a.put_bit(b);
            }
            a.event(RxEvent::CarrierDown);
            let (want, want_st) = a.finish();
            assert!(want.height > 100, "{}", want.height);
            for step in 1..=32usize {
                let mut b = sink();
                for w in bits.chunks(step) {
                    let word = w.iter().fold(0u32, |a, &b| (a << 1) | b as u32);
                    b.put_bits(word, w.len() as u32);
                }
                b.event(RxEvent::CarrierDown);
                let (got, st) = b.finish();
                assert!(got.data == want.data, "words of {step}");
                assert_eq!((got.height, st), (want.height, want_st), "words of {step}");
            }
        }
    }

    /// Issue 12: a page whose carrier goes before RTC lost its end on the line, and the copy
    /// quality check must see it — the rows the data after the last good row stood for
    /// count as bad rows in one run at the end (a V.17 receiver that lost its lock half way
    /// gave a short page with a handful of bad rows, under MCF). A whole page counts none,
    /// one missing only its RTC one at most.
    #[test]
    fn a_page_cut_short_counts_its_lost_rows() {
        let (page, data) = chart1();
        let (got, st) = through(&data, data.len(), false);
        assert_eq!((got.height, st.bad_rows), (page.height, 0));
        assert!(got.data == page.data);
        let (got, st) = through(&data, data.len() - 10, false);
        assert!(got.height >= page.height - 1, "{}", got.height);
        assert!(
            st.bad_rows <= 1 && st.max_consecutive_bad_rows <= 1,
            "{st:?}"
        );
        // Half the data, then noise: about half the rows are lost, in one run.
        let (got, st) = through(&data, data.len() / 2, true);
        let lost = page.height - got.height.min(page.height);
        assert!(lost > page.height / 3, "{} rows", got.height);
        assert!(
            st.bad_rows >= lost / 2 && st.bad_rows <= lost * 2,
            "{st:?}, {lost} rows missing"
        );
        assert!(st.max_consecutive_bad_rows >= lost / 2, "{st:?}");
        // Cut off with nothing after: what is missing cannot be counted, but it is damage.
        let (_, st) = through(&data, data.len() / 2, false);
        assert!(st.bad_rows >= 1, "{st:?}");
    }

    /// The page's octets with `noise` octets of noise in place of those from `at` on (a
    /// receiver that lost its lock for a while and found it again), through a sink, to RTC.
    fn through_burst(data: &[u8], at: usize, noise: usize) -> (Page, DecodeStats) {
        let mut sink = PageSink::new(&dcs()).unwrap();
        sink.event(RxEvent::TrainingSucceeded);
        let mut seed = 11u32;
        let octets = data.iter().enumerate().map(|(i, &o)| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if (at..at + noise).contains(&i) {
                (seed >> 16) as u8
            } else {
                o
            }
        });
        for o in octets {
            sink.put_bits(u32::from(o.reverse_bits()), 8);
        }
        sink.event(RxEvent::CarrierDown);
        sink.finish()
    }

    /// A page that lost a stretch of its middle to noise (the modem relocked after it, so
    /// the page ends with RTC) counts the rows that stretch stood for as bad rows in one
    /// run, as a page that lost its end does: the decoder finds few row ends in noise, so
    /// its own count of bad rows was a handful and the page went under MCF. A single
    /// damaged octet costs a few rows, not a stretch.
    #[test]
    fn a_page_that_lost_its_middle_counts_its_lost_rows() {
        let (page, data) = chart1();
        let third = data.len() / 3;
        let (got, st) = through_burst(&data, third, third);
        let lost = page.height - got.height.min(page.height);
        assert!(lost > 100, "{} of {} rows", got.height, page.height);
        // An estimate from the mean coded length of the page's rows lately: its white rows
        // are two octets, its rows of text tens, and the noise took mostly text; far above
        // any copy quality limit (T30Config's max_bad_run is 16) either way.
        assert!(
            st.bad_rows >= lost / 3 && st.bad_rows <= lost * 4,
            "{st:?}, {lost} rows missing"
        );
        assert!(
            st.max_consecutive_bad_rows >= lost / 3,
            "{st:?}, {lost} rows missing"
        );
        assert_eq!(got.quality.map(|q| q.bad_rows), Some(st.bad_rows));
        let (_, st) = through_burst(&data, third, 1);
        assert!(
            st.bad_rows <= 8 && st.max_consecutive_bad_rows <= 8,
            "one bad octet: {st:?}"
        );
    }

    /// Rows as long as noise's that decode cleanly are the page's own: a band of halftone
    /// (every pel alternating: the longest codes there are) between white, clean or with
    /// one damaged octet in it, loses no rows beyond those the decoder counts bad.
    #[test]
    fn a_halftone_band_loses_no_rows() {
        let mut page = Page::new(1728, 800, PageResolution::FINE);
        let stride = page.stride();
        for r in 300..500 {
            let pattern = if r % 2 == 0 { 0xAA } else { 0x55 };
            page.data[r * stride..(r + 1) * stride].fill(pattern);
        }
        let data = pages::encode_page(&page, &dcs());
        let (got, st) = through_burst(&data, 0, 0);
        assert_eq!((got.height, st.bad_rows), (800, 0), "{st:?}");
        assert!(got.data == page.data);
        // One damaged octet in the band, a few rows after its start.
        let at = data.len() / 2;
        let (_, st) = through_burst(&data, at, 1);
        assert!(st.bad_rows <= 8, "{st:?}");
    }
}
