//! The receive sinks of a fax terminal: what the bits of each receiver are made into — T.30
//! frames from V.21 channel 2 (T.30 §5.3, HDLC), the TCF check (T.30 §5.3.6.2.9), ECM frames
//! on the image modem (T.30 Annex A) and non-ECM page data (T.4) — and the gate that finds
//! where a high-speed signal starts above the line's noise.

use super::pages;
use crate::hdlc::{HdlcEvent, HdlcRx, MAX_ECM_FRAME, MAX_T30_FRAME};
use crate::image::Page;
use crate::modem::{RxEvent, RxSink};
use crate::t4::{self, DecodeStats, Decoder, Progress};
use crate::t30::Caps;

/// Where a page's image signal is: trained, given up on before training (noise, or a
/// training missed), or over (its carrier gone, or RTC).
#[derive(Debug, Default)]
pub(crate) struct Signal {
    pub(crate) trained: bool,
    pub(crate) failed: bool,
    pub(crate) down: bool,
}

impl Signal {
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded => self.trained = true,
            RxEvent::TrainingFailed if !self.trained => self.failed = true,
            RxEvent::CarrierDown if self.trained => self.down = true,
            _ => {}
        }
    }

    /// Bits count from training to the signal's end.
    fn open(&self) -> bool {
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
    pub(crate) frames: Vec<Result<Vec<u8>, ()>>,
    pub(crate) signal: Signal,
}

impl EcmSink {
    pub(crate) fn new() -> EcmSink {
        EcmSink {
            hdlc: HdlcRx::new(MAX_ECM_FRAME),
            frames: Vec::new(),
            signal: Signal::default(),
        }
    }
}

impl RxSink for EcmSink {
    fn put_bit(&mut self, bit: bool) {
        if self.signal.open() {
            put_frame_bit(&mut self.hdlc, &mut self.frames, bit);
        }
    }
    fn event(&mut self, e: RxEvent) {
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
    match hdlc.put_bit(bit) {
        Some(HdlcEvent::Frame(f)) => frames.push(Ok(f)),
        Some(HdlcEvent::Bad { .. }) => frames.push(Err(())),
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
    acc: u8,
    n: u8,
    decoder: Decoder,
    page: Page,
    stride: usize,
}

impl PageSink {
    /// A sink for the page data that follows `dcs`; `None` if its width cannot be decoded.
    pub(crate) fn new(dcs: &Caps) -> Option<PageSink> {
        let (decoder, page) = pages::page_decoder(dcs)?;
        Some(PageSink {
            signal: Signal::default(),
            acc: 0,
            n: 0,
            stride: page.stride(),
            decoder,
            page,
        })
    }

    /// The page once its data is over (RTC or the carrier's end), with the decoder's counts.
    pub(crate) fn finish(&mut self) -> (Page, DecodeStats) {
        let (st, _) = pages::finish_page(&mut self.decoder, &mut self.page);
        let empty = Page::new(self.page.width, 0, self.page.resolution);
        (std::mem::replace(&mut self.page, empty), st)
    }
}

impl RxSink for PageSink {
    fn put_bit(&mut self, bit: bool) {
        if !self.signal.open() {
            return;
        }
        self.acc |= (bit as u8) << self.n;
        self.n += 1;
        if self.n == 8 {
            self.decoder.push(&[self.acc]);
            self.acc = 0;
            self.n = 0;
            // The line is LSB first; the decoder was told so and reverses as it stores.
            loop {
                match self.decoder.next_row() {
                    Ok(Progress::Row(row)) => {
                        if self.page.data.len() / self.stride.max(1) < t4::DEFAULT_MAX_ROWS as usize
                        {
                            self.page.data.extend_from_slice(row);
                        }
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
