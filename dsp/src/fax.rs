//! The fax terminal: the T.30 [`Engine`] joined to the modems, HDLC, the fax tones and the
//! T.4 codec, driven by blocks of 8 kHz samples (DESIGN §1). Feed what the line received
//! and take what to send with [`Terminal::process`]; time is the number of samples
//! processed, so a call through an in-process line costs only CPU time.
//!
//! Half duplex as T.30 is: while the terminal transmits it does not listen. When listening
//! for a high-speed signal (TCF, a page) it also listens on V.21, so a repeated DCS or a
//! post-page command is never missed.
//!
//! ECM blocks travel as HDLC frames on the image modem. V.17 pages and ECM bursts after TCF
//! use the short retrain (T.30 §5.3.2 / V.17); the receiver then starts from TCF's training,
//! and hears the line only from the signal's onset above the noise (a short training must be
//! acquired from its first symbol).

use crate::hdlc::{HdlcEvent, HdlcRx, HdlcTx, MAX_ECM_FRAME, MAX_T30_FRAME, flags_for};
use crate::image::{Page, Resolution as PageResolution};
use crate::modem::v17::V17Rx;
use crate::modem::v21::{V21Rx, V21Tx};
use crate::modem::{
    GetBit, Rate, Receiver, RxEvent, RxSink, Training, Transmitter, V17Rate, V27terRate, V29Rate,
    factory,
};
use crate::t4::{self, BitOrder, DecodeOptions, Decoder, EncodeOptions, Encoder, Progress};
use crate::t30::{
    Action, Caps, Coding, Config, DataRate, Document, Engine, Event, Input, Modulation, Outcome,
    Resolution, Width,
};
use crate::tones::ToneGenerator;
use crate::tones::fax::FaxTone;

/// Transmit level of every signal, dBm0.
pub const TX_LEVEL_DBM0: f32 = -10.0;
/// Silence between signals of different modulations (T.30 §5.3.2: 75 ± 20 ms).
const GAP: u64 = 600;

/// The modem rate of a T.30 data rate (T.30 Table 2). `DataRate`'s constants are exactly
/// the modem rates; any other bit rate (none is built) is taken at its modulation's fastest
/// rate not above it, or its slowest.
pub fn modem_rate(rate: DataRate) -> Rate {
    let b = rate.bps;
    match rate.modulation {
        Modulation::V27ter if b >= 4800 => Rate::V27ter(V27terRate::Bps4800),
        Modulation::V27ter => Rate::V27ter(V27terRate::Bps2400),
        Modulation::V29 if b >= 9600 => Rate::V29(V29Rate::Bps9600),
        Modulation::V29 => Rate::V29(V29Rate::Bps7200),
        Modulation::V17 if b >= 14400 => Rate::V17(V17Rate::Bps14400),
        Modulation::V17 if b >= 12000 => Rate::V17(V17Rate::Bps12000),
        Modulation::V17 if b >= 9600 => Rate::V17(V17Rate::Bps9600),
        Modulation::V17 => Rate::V17(V17Rate::Bps7200),
    }
}

/// The V.17 rate of a V.17 data rate (the slowest for any other modulation).
fn v17_rate(rate: DataRate) -> V17Rate {
    match modem_rate(rate) {
        Rate::V17(r) => r,
        _ => V17Rate::Bps7200,
    }
}

/// A transmitter for an image rate.
pub fn image_tx(rate: DataRate, long_train: bool) -> Box<dyn Transmitter> {
    let training = if long_train {
        Training::Long
    } else {
        Training::Short
    };
    factory::transmitter(modem_rate(rate), TX_LEVEL_DBM0, training)
}

/// A receiver for an image rate.
pub fn image_rx(rate: DataRate) -> Box<dyn Receiver> {
    factory::receiver(modem_rate(rate))
}

/// Whether `rate` is one of the image modems' rates (all of T.30 Table 2's are).
fn supported(rate: DataRate) -> bool {
    modem_rate(rate).bps() == rate.bps
}

/// An image receiver; V.17's is kept by type so that a page after TCF can start from the
/// training TCF gave it (the short retrain, T.30 §5.3.2 / V.17 §7).
enum ImageRx {
    V17(Box<V17Rx>),
    Other(Box<dyn Receiver>),
}

impl ImageRx {
    /// After a training given up on line noise: listen again for the page's training (V.17
    /// keeps what TCF taught it and waits for a short retrain; the others start afresh).
    fn rearm(&mut self, rate: DataRate) {
        match self {
            ImageRx::V17(v17) => {
                v17.receive(&[0; 1600], &mut NullSink);
                v17.restart(v17_rate(rate), true);
            }
            other => *other = ImageRx::new(rate),
        }
    }

    fn new(rate: DataRate) -> ImageRx {
        match modem_rate(rate) {
            Rate::V17(r) => ImageRx::V17(Box::new(V17Rx::new(r))),
            r => ImageRx::Other(factory::receiver(r)),
        }
    }

    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        match self {
            ImageRx::V17(r) => r.receive(samples, sink),
            ImageRx::Other(r) => r.receive(samples, sink),
        }
    }
}

enum TxMode {
    Silence,
    Cng(ToneGenerator),
    Ced(ToneGenerator),
    Frames(V21Tx, HdlcTx),
    /// A high-speed modem with its bits (TCF zeros or page data).
    Image(Box<dyn Transmitter>, BitSource),
    /// A high-speed modem carrying HDLC frames (ECM, T.30 Annex A).
    EcmImage(Box<dyn Transmitter>, HdlcTx),
    /// Silence before the next signal (T.30 §5.3.2: 75 ± 20 ms between signals).
    Gap(u64, Box<TxMode>),
}

/// Bits for the image modem: `zeros` zero bits (TCF), or the bytes of a page, LSB first.
struct BitSource {
    zeros: u64,
    bytes: Vec<u8>,
    pos: usize,
}

impl GetBit for BitSource {
    fn get_bit(&mut self) -> Option<bool> {
        if self.zeros > 0 {
            self.zeros -= 1;
            return Some(false);
        }
        let b = self.bytes.get(self.pos / 8)?;
        let bit = b >> (self.pos % 8) & 1 != 0;
        self.pos += 1;
        Some(bit)
    }
}

/// What the image receiver is collecting.
enum RxImage {
    None,
    Tcf {
        rx: ImageRx,
        sink: TcfSink,
        rate: DataRate,
    },
    Page {
        rx: ImageRx,
        sink: Box<PageSink>,
        rate: DataRate,
        gate: Onset,
    },
    /// ECM: HDLC frames on the image modem.
    Ecm {
        rx: ImageRx,
        sink: Box<EcmSink>,
        rate: DataRate,
        gate: Onset,
    },
}

/// HDLC frames from the image modem (ECM).
struct EcmSink {
    hdlc: HdlcRx,
    frames: Vec<Result<Vec<u8>, ()>>,
    trained: bool,
    failed: bool,
    down: bool,
}

impl RxSink for EcmSink {
    fn put_bit(&mut self, bit: bool) {
        if !self.trained || self.down {
            return;
        }
        match self.hdlc.put_bit(bit) {
            Some(HdlcEvent::Frame(f)) => self.frames.push(Ok(f)),
            Some(HdlcEvent::Bad { .. }) => self.frames.push(Err(())),
            _ => {}
        }
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded => self.trained = true,
            RxEvent::TrainingFailed if !self.trained => self.failed = true,
            RxEvent::CarrierDown if self.trained => self.down = true,
            _ => {}
        }
    }
}

#[derive(Default)]
struct TcfSink {
    trained: bool,
    bits: u64,
    run: u64,
    longest_zeros: u64,
    down: bool,
    failed: bool,
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

struct PageSink {
    trained: bool,
    /// The receiver gave up on a signal before training (noise, or a training it missed).
    failed: bool,
    down: bool,
    acc: u8,
    n: u8,
    decoder: Decoder,
    page: Page,
    stride: usize,
}

impl RxSink for PageSink {
    fn put_bit(&mut self, bit: bool) {
        if !self.trained || self.down {
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
                        self.down = true;
                        break;
                    }
                    Ok(Progress::NeedInput) | Err(_) => break,
                }
            }
        }
    }
    fn event(&mut self, e: RxEvent) {
        match e {
            RxEvent::TrainingSucceeded => self.trained = true,
            RxEvent::TrainingFailed if !self.trained => self.failed = true,
            RxEvent::CarrierDown if self.trained => self.down = true,
            _ => {}
        }
    }
}

/// Finds where a signal starts above the line's noise: closed, it measures the noise floor
/// in 20-sample pieces; it opens at the first piece 6 dB above the floor and above
/// −43 dBm0 (V.17's carrier-detect level), and stays open until closed again.
#[derive(Default)]
struct Onset {
    open: bool,
    floor: f32,
    pieces: u32,
}

impl Onset {
    const PIECE: usize = 20;

    /// How many samples of `x` precede the signal (all of them while there is none).
    fn feed(&mut self, x: &[i16]) -> usize {
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

    fn close(&mut self) {
        self.open = false;
    }
}

/// A sink for signals nobody wants.
struct NullSink;

impl RxSink for NullSink {
    fn put_bit(&mut self, _bit: bool) {}
    fn event(&mut self, _e: RxEvent) {}
}

struct FrameSink<'a> {
    hdlc: &'a mut HdlcRx,
    frames: &'a mut Vec<Result<Vec<u8>, ()>>,
}

impl RxSink for FrameSink<'_> {
    fn put_bit(&mut self, bit: bool) {
        match self.hdlc.put_bit(bit) {
            Some(HdlcEvent::Frame(f)) => self.frames.push(Ok(f)),
            Some(HdlcEvent::Bad { .. }) => self.frames.push(Err(())),
            _ => {}
        }
    }
    fn event(&mut self, e: RxEvent) {
        if e == RxEvent::CarrierDown {
            self.hdlc.reset();
        }
    }
}

/// A fax terminal for one call.
pub struct Terminal {
    engine: Engine,
    now: u64,
    tx: TxMode,
    /// Pending `SendDone`s to report when the current transmission (and its gap) ends.
    sending: bool,
    v21_rx: V21Rx,
    hdlc_rx: HdlcRx,
    listening: bool,
    image: RxImage,
    /// The image receiver to start once V.21 is quiet.
    image_pending: Option<RxImage>,
    pages_out: Vec<Page>,
    pages_in: Vec<Page>,
    events: Vec<Event>,
    frames: Vec<Result<Vec<u8>, ()>>,
    /// Bytes of page data handed to the modem (`transmit_bytes`).
    pub transmit_bytes: u64,
    /// Samples from the first fax signal heard to now (`fax_modem_time`).
    first_signal_at: Option<u64>,
    /// Sender: the rate of the last TCF sent (V.17 pages at that rate use the short train).
    tcf_rate: Option<DataRate>,
    /// Receiver: the V.17 receiver trained by the last TCF (or page) at this rate.
    v17_trained: Option<(DataRate, Box<V17Rx>)>,
}

impl Terminal {
    /// A calling terminal sending `pages`.
    pub fn caller(mut config: Config, pages: Vec<Page>) -> Terminal {
        clamp_rate(&mut config);
        let first = pages.first();
        let doc = Document {
            pages: pages.len() as u32,
            resolution: first.map_or(Resolution::Fine, |p| t30_resolution(p.resolution)),
            width: Width::A4,
        };
        Terminal::new(Engine::caller(config, doc), pages)
    }

    /// An answering terminal.
    pub fn answerer(mut config: Config) -> Terminal {
        clamp_rate(&mut config);
        Terminal::new(Engine::answerer(config), Vec::new())
    }

    fn new(engine: Engine, pages: Vec<Page>) -> Terminal {
        let mut t = Terminal {
            engine,
            now: 0,
            tx: TxMode::Silence,
            sending: false,
            v21_rx: V21Rx::new(),
            hdlc_rx: HdlcRx::new(MAX_T30_FRAME),
            listening: false,
            image: RxImage::None,
            image_pending: None,
            pages_out: pages,
            pages_in: Vec::new(),
            events: Vec::new(),
            frames: Vec::new(),
            transmit_bytes: 0,
            first_signal_at: None,
            tcf_rate: None,
            v17_trained: None,
        };
        t.next_action();
        t
    }

    /// The call's outcome, once it is over.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.engine.outcome()
    }

    /// Pages received so far (answerer).
    pub fn received_pages(&self) -> &[Page] {
        &self.pages_in
    }

    /// Protocol events since the last call (frames in and out, negotiation, pages).
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Seconds from the first fax signal heard until now.
    pub fn modem_seconds(&self) -> f64 {
        self.first_signal_at
            .map_or(0.0, |t| (self.now - t) as f64 / 8000.0)
    }

    /// Samples processed so far.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The far end hung up.
    pub fn line_down(&mut self) {
        self.engine.handle(self.now, Input::LineDown);
        self.next_action();
    }

    /// One block: `rx` is what the line brought, `tx` is filled with what to send (same
    /// length).
    pub fn process(&mut self, rx: &[i16], tx: &mut [i16]) {
        let n = rx.len().min(tx.len());
        self.fill_tx(&mut tx[..n]);
        if !self.sending {
            self.receive(&rx[..n]);
        }
        self.now += n as u64;
        if let Some(t) = self.engine.poll_timeout()
            && t <= self.now
        {
            self.engine.handle_timeout(self.now);
        }
        self.next_action();
    }

    fn fill_tx(&mut self, out: &mut [i16]) {
        out.fill(0);
        let mut done = false;
        match &mut self.tx {
            TxMode::Silence => done = self.sending,
            TxMode::Cng(g) => {
                g.generate(out);
            }
            TxMode::Ced(g) => {
                let k = g.generate(out);
                done = k < out.len() || g.is_done();
            }
            TxMode::Frames(m, h) => {
                let k = m.transmit(out, h);
                done = k < out.len();
            }
            TxMode::Image(m, bits) => {
                let k = m.transmit(out, bits);
                done = k < out.len();
            }
            TxMode::EcmImage(m, h) => {
                let k = m.transmit(out, h);
                done = k < out.len();
            }
            TxMode::Gap(left, _) => {
                let k = (*left).min(out.len() as u64);
                *left -= k;
                if *left == 0 {
                    let TxMode::Gap(_, next) = std::mem::replace(&mut self.tx, TxMode::Silence)
                    else {
                        unreachable!()
                    };
                    self.tx = *next;
                    // The signal starts in the next block.
                }
                return;
            }
        }
        if done {
            // The signal is out: the line is ours to listen to at once.
            self.tx = TxMode::Silence;
            self.sending = false;
            self.engine
                .handle(self.now + out.len() as u64, Input::SendDone);
        }
    }

    fn receive(&mut self, rx: &[i16]) {
        // The high-speed receiver starts once the V.21 signal before it (DCS, CFR) has
        // ended, so that the tail of V.21 is not taken for its carrier.
        if let Some(img) = self.image_pending.take() {
            if self.v21_rx.carrier_present() {
                self.image_pending = Some(img);
            } else {
                self.image = img;
            }
        }
        let heard = rx.iter().any(|s| s.unsigned_abs() > 64);
        if heard && self.first_signal_at.is_none() && self.listening {
            self.first_signal_at = Some(self.now);
        }
        if self.listening {
            let mut sink = FrameSink {
                hdlc: &mut self.hdlc_rx,
                frames: &mut self.frames,
            };
            self.v21_rx.receive(rx, &mut sink);
        }
        let mut report = None;
        match &mut self.image {
            RxImage::None | RxImage::Ecm { .. } => {}
            RxImage::Tcf { rx: r, sink, rate } => {
                r.receive(rx, sink);
                // TCF is 1.5 s: decide at its carrier's end, or once 1.4 s of it has come (a
                // noisy line may keep the carrier detector up after the TCF).
                if sink.down
                    || sink.failed
                    || (sink.trained && sink.bits >= rate.bps as u64 * 7 / 5)
                {
                    // T.30 §5.3.6.2.9 practice: accept if a long clean run of zeros came.
                    let ok = sink.trained
                        && sink.longest_zeros >= rate.bps as u64
                        && sink.bits >= rate.bps as u64;
                    report = Some(Input::Tcf { ok });
                }
            }
            RxImage::Page {
                rx: r,
                sink,
                rate,
                gate,
            } => {
                let was = sink.trained;
                // Until the page's signal starts the receiver hears nothing, not the line's
                // noise: a short V.17 retrain must be acquired from its first symbol.
                let from = gate.feed(rx);
                if from < rx.len() {
                    r.receive(&rx[from..], &mut **sink);
                }
                if sink.failed {
                    // Line noise above the carrier threshold makes the receiver look for a
                    // training that is not there, and give up after a second: look again,
                    // so the page's training is not missed.
                    sink.failed = false;
                    gate.close();
                    r.rearm(*rate);
                }
                if sink.trained && !was {
                    report = Some(Input::PageStarted);
                }
                if sink.down {
                    sink.decoder.finish_input();
                    while let Ok(Progress::Row(row)) = sink.decoder.next_row() {
                        sink.page.data.extend_from_slice(row);
                    }
                    let st = sink.decoder.stats();
                    let mut page =
                        std::mem::replace(&mut sink.page, Page::new(1, 0, PageResolution::FINE));
                    page.height = (page.data.len() / page.stride().max(1)) as u32;
                    page.data.truncate(page.height as usize * page.stride());
                    if st.bad_rows > 0 {
                        page.quality = Some(crate::image::PageQuality {
                            bad_rows: st.bad_rows,
                            max_consecutive_bad_rows: st.max_consecutive_bad_rows,
                        });
                    }
                    report = Some(Input::Page {
                        rows: st.rows,
                        bad_rows: st.bad_rows,
                        max_bad_run: st.max_consecutive_bad_rows,
                    });
                    if st.rows > 0 {
                        self.pages_in.push(page);
                    }
                }
            }
        }
        if let RxImage::Ecm {
            rx: r,
            sink,
            rate,
            gate,
        } = &mut self.image
        {
            let was = sink.trained;
            let from = gate.feed(rx);
            if from < rx.len() {
                r.receive(&rx[from..], &mut **sink);
            }
            if sink.failed {
                sink.failed = false;
                gate.close();
                r.rearm(*rate);
            }
            if sink.trained && !was {
                report = Some(Input::PageStarted);
            }
            self.frames.append(&mut sink.frames);
            if sink.down {
                self.park_image();
            }
        }
        if let Some(input) = report {
            if input != Input::PageStarted {
                match std::mem::replace(&mut self.image, RxImage::None) {
                    // A V.17 receiver that trained keeps its equaliser for the next page.
                    RxImage::Tcf {
                        rx: ImageRx::V17(r),
                        rate,
                        ..
                    } if input == Input::Tcf { ok: true } => self.v17_trained = Some((rate, r)),
                    RxImage::Page {
                        rx: ImageRx::V17(r),
                        rate,
                        sink,
                        ..
                    } if sink.trained => self.v17_trained = Some((rate, r)),
                    _ => {}
                }
            }
            self.engine.handle(self.now + rx.len() as u64, input);
        }
        for f in std::mem::take(&mut self.frames) {
            let input = match f {
                Ok(octets) => Input::Frame(octets),
                Err(()) => Input::BadFrame,
            };
            self.engine.handle(self.now + rx.len() as u64, input);
        }
    }

    fn next_action(&mut self) {
        while let Some(e) = self.engine.poll_event() {
            self.events.push(e);
        }
        // Start a new transmission only when the current one is over.
        while !self.sending {
            let Some(a) = self.engine.poll_action() else {
                break;
            };
            match a {
                Action::SendCng => {
                    self.tx =
                        TxMode::Cng(FaxTone::Cng.generator(TX_LEVEL_DBM0).expect("valid tone"));
                }
                Action::SendCed => {
                    self.tx =
                        TxMode::Ced(FaxTone::Ced.generator(TX_LEVEL_DBM0).expect("valid tone"));
                    self.start_sending();
                }
                Action::SendFrames(frames) => {
                    let mut h = HdlcTx::new(MAX_T30_FRAME);
                    h.send_flags(flags_for(1000, 300));
                    for f in &frames {
                        let _ = h.send_frame(f);
                    }
                    h.send_flags(1);
                    self.tx = TxMode::Frames(V21Tx::new(TX_LEVEL_DBM0), h);
                    self.start_sending();
                }
                Action::SendTcf { rate } => {
                    self.tcf_rate = Some(rate);
                    let bits = BitSource {
                        zeros: rate.bps as u64 * 3 / 2,
                        bytes: Vec::new(),
                        pos: 0,
                    };
                    self.tx = TxMode::Image(image_tx(rate, true), bits);
                    self.start_sending();
                }
                Action::SendPage { index, dcs } => {
                    let bytes = self.encode_page(index as usize, &dcs);
                    self.transmit_bytes += bytes.len() as u64;
                    let rate = dcs.rate.unwrap_or(DataRate::V27TER_2400);
                    let bits = BitSource {
                        zeros: 0,
                        bytes,
                        pos: 0,
                    };
                    // TCF has the long training; V.17 pages at the rate TCF proved have the
                    // short one (T.30 §5.3.2.4 / V.17 §7), everything else the long one.
                    let long = !(rate.modulation == Modulation::V17 && self.tcf_rate == Some(rate));
                    self.tx = TxMode::Image(image_tx(rate, long), bits);
                    self.start_sending();
                }
                Action::EncodePage { index, dcs } => {
                    let bytes = self.encode_page(index as usize, &dcs);
                    self.transmit_bytes += bytes.len() as u64;
                    self.engine.handle(self.now, Input::PageData(bytes));
                }
                Action::SendEcmFrames {
                    rate,
                    frames,
                    long_train,
                } => {
                    let mut h = HdlcTx::new(MAX_ECM_FRAME);
                    // Flags after the training (T.30 §A.3.3), then the frames.
                    h.send_flags(flags_for(200, rate.bps));
                    for f in &frames {
                        let _ = h.send_frame(f);
                    }
                    h.send_flags(2);
                    let long = long_train
                        || !(rate.modulation == Modulation::V17 && self.tcf_rate == Some(rate));
                    if long {
                        self.tcf_rate = Some(rate);
                    }
                    self.tx = TxMode::EcmImage(image_tx(rate, long), h);
                    self.start_sending();
                }
                Action::ReceiveEcm { dcs } => {
                    self.listen();
                    let rate = dcs.rate.unwrap_or(DataRate::V27TER_2400);
                    let rx = self.page_receiver(rate);
                    self.image_pending = Some(RxImage::Ecm {
                        rx,
                        sink: Box::new(EcmSink {
                            hdlc: HdlcRx::new(MAX_ECM_FRAME),
                            frames: Vec::new(),
                            trained: false,
                            failed: false,
                            down: false,
                        }),
                        rate,
                        gate: Onset::default(),
                    });
                }
                Action::PageReceived { data, dcs } => {
                    self.pages_in.push(decode_page(&data, &dcs));
                }
                Action::ReceiveFrames => self.listen(),
                Action::ReceiveTcf { rate } => {
                    self.listen();
                    self.image_pending = Some(RxImage::Tcf {
                        rx: ImageRx::new(rate),
                        sink: TcfSink::default(),
                        rate,
                    });
                }
                Action::ReceivePage { dcs } => {
                    self.listen();
                    let rate = dcs.rate.unwrap_or(DataRate::V27TER_2400);
                    let rx = self.page_receiver(rate);
                    self.image_pending = Some(RxImage::Page {
                        rx,
                        sink: Box::new(self.page_sink(&dcs)),
                        rate,
                        gate: Onset::default(),
                    });
                }
                Action::Hangup(_) => {
                    self.tx = TxMode::Silence;
                    self.listening = false;
                    self.image = RxImage::None;
                }
            }
            while let Some(e) = self.engine.poll_event() {
                self.events.push(e);
            }
        }
    }

    /// Begin the transmission just set in `tx`, after the silence T.30 asks between signals.
    fn start_sending(&mut self) {
        let signal = std::mem::replace(&mut self.tx, TxMode::Silence);
        self.tx = TxMode::Gap(GAP, Box::new(signal));
        self.sending = true;
        self.listening = false;
        self.park_image();
        self.image_pending = None;
    }

    /// Stop the image receiver, keeping a trained V.17 one for the next short retrain.
    fn park_image(&mut self) {
        match std::mem::replace(&mut self.image, RxImage::None) {
            RxImage::Page {
                rx: ImageRx::V17(r),
                rate,
                sink,
                ..
            } if sink.trained => self.v17_trained = Some((rate, r)),
            RxImage::Ecm {
                rx: ImageRx::V17(r),
                rate,
                sink,
                ..
            } if sink.trained => self.v17_trained = Some((rate, r)),
            _ => {}
        }
    }

    fn listen(&mut self) {
        if !self.listening {
            self.listening = true;
            self.v21_rx = V21Rx::new();
            self.hdlc_rx.reset();
        }
    }

    /// The receiver for a page or ECM burst at `rate`: after TCF (or the last page) at the
    /// same V.17 rate, the short retrain, starting from that training.
    fn page_receiver(&mut self, rate: DataRate) -> ImageRx {
        match self.v17_trained.take() {
            Some((r, mut v17)) if r == rate => {
                // It may have been left mid-signal (TCF is judged before its end): let it
                // hear the signal end, so it acquires the next one afresh.
                v17.receive(&[0; 1600], &mut NullSink);
                v17.restart(v17_rate(rate), true);
                ImageRx::V17(v17)
            }
            _ => ImageRx::new(rate),
        }
    }

    fn page_sink(&self, dcs: &Caps) -> PageSink {
        let width = dcs.width.pels();
        let coding = match dcs.codings.first() {
            Some(Coding::Mr) => t4::Coding::Mr { k: 4 },
            Some(Coding::Mmr) => t4::Coding::Mmr,
            _ => t4::Coding::Mh,
        };
        // Received bits are packed into octets first bit in the least significant place,
        // as T.4 data travels (the decoder reverses them).
        let mut o = DecodeOptions::new(coding, width);
        o.bit_order = BitOrder::LsbFirst;
        let resolution = match dcs.resolutions.first() {
            Some(Resolution::Standard) => PageResolution::STANDARD,
            Some(Resolution::Superfine) => PageResolution::SUPERFINE,
            _ => PageResolution::FINE,
        };
        PageSink {
            trained: false,
            failed: false,
            down: false,
            acc: 0,
            n: 0,
            decoder: Decoder::new(o).expect("fax widths are valid"),
            page: Page::new(width, 0, resolution),
            stride: (width as usize).div_ceil(8),
        }
    }

    /// The page coded for the line: fitted to the DCS width and resolution, MH/MR with the
    /// minimum scan-line time and RTC, LSB first.
    fn encode_page(&self, index: usize, dcs: &Caps) -> Vec<u8> {
        let Some(page) = self.pages_out.get(index) else {
            return Vec::new();
        };
        let width = dcs.width.pels();
        let coding = match dcs.codings.first() {
            Some(Coding::Mr) => t4::Coding::Mr {
                k: if dcs.resolutions.first() == Some(&Resolution::Standard) {
                    2
                } else {
                    4
                },
            },
            Some(Coding::Mmr) => t4::Coding::Mmr,
            _ => t4::Coding::Mh,
        };
        let rate = dcs.rate.map_or(2400, |r| r.bps);
        // With ECM the minimum scan-line time does not apply (T.30 §A.1, T.4 §A.2).
        let scan_ms = if dcs.ecm {
            0
        } else {
            dcs.scan_time.normal_ms as u32
        };
        // LSB-first octets: the modem sends each octet's least significant bit first.
        let opts = EncodeOptions::new(coding, width).min_scan_time(scan_ms, rate);
        let mut out = Vec::new();
        let mut enc = Encoder::new(opts).expect("fax widths are valid");
        // Standard resolution from a fine page: every other row.
        let step = if dcs.resolutions.first() == Some(&Resolution::Standard)
            && page.resolution.y_dpi > 150.0
        {
            2
        } else {
            1
        };
        let mut row = vec![0u8; (width as usize).div_ceil(8)];
        for y in (0..page.height).step_by(step) {
            let src = page.row(y);
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
}

/// Run a whole call between two terminals joined back to back (each hears the other's
/// block of 20 ms before), for at most `max_seconds`; returns the samples the call took.
/// Both outcomes are set unless the bound was reached. (Benchmarks and examples use it.)
pub fn run_pair(caller: &mut Terminal, answerer: &mut Terminal, max_seconds: u64) -> u64 {
    let (mut a_tx, mut b_tx) = ([0i16; 160], [0i16; 160]);
    let (mut a_rx, mut b_rx) = ([0i16; 160], [0i16; 160]);
    let mut n = 0;
    while n < max_seconds * 8000 {
        caller.process(&a_rx, &mut a_tx);
        answerer.process(&b_rx, &mut b_tx);
        a_rx = b_tx;
        b_rx = a_tx;
        n += 160;
        match (caller.outcome().is_some(), answerer.outcome().is_some()) {
            (true, true) => break,
            // The caller released after its DCN went out: the answerer hears the line go.
            (true, false) if matches!(caller.tx, TxMode::Silence) => answerer.line_down(),
            _ => {}
        }
    }
    n
}

/// An ECM page as it arrived (coded octets, LSB first) decoded into pels; rows that do not
/// decode are counted in its quality, as for non-ECM pages.
fn decode_page(data: &[u8], dcs: &Caps) -> Page {
    let width = dcs.width.pels();
    let coding = match dcs.codings.first() {
        Some(Coding::Mr) => t4::Coding::Mr { k: 4 },
        Some(Coding::Mmr) => t4::Coding::Mmr,
        _ => t4::Coding::Mh,
    };
    let resolution = match dcs.resolutions.first() {
        Some(Resolution::Standard) => PageResolution::STANDARD,
        Some(Resolution::Superfine) => PageResolution::SUPERFINE,
        _ => PageResolution::FINE,
    };
    let mut o = DecodeOptions::new(coding, width);
    o.bit_order = BitOrder::LsbFirst;
    let mut page = Page::new(width, 0, resolution);
    let Ok(mut dec) = Decoder::new(o) else {
        return page;
    };
    dec.push(data);
    dec.finish_input();
    let max = t4::DEFAULT_MAX_ROWS as usize * page.stride();
    while let Ok(Progress::Row(row)) = dec.next_row() {
        if page.data.len() < max {
            page.data.extend_from_slice(row);
        }
    }
    page.height = (page.data.len() / page.stride().max(1)) as u32;
    let st = dec.stats();
    if st.bad_rows > 0 {
        page.quality = Some(crate::image::PageQuality {
            bad_rows: st.bad_rows,
            max_consecutive_bad_rows: st.max_consecutive_bad_rows,
        });
    }
    page
}

fn clamp_rate(config: &mut Config) {
    let mut r = Some(config.max_rate);
    while let Some(rate) = r {
        if supported(rate) {
            config.max_rate = rate;
            return;
        }
        r = rate.fallback();
    }
}

fn t30_resolution(r: PageResolution) -> Resolution {
    if r.y_dpi > 300.0 {
        Resolution::Superfine
    } else if r.y_dpi > 150.0 {
        Resolution::Fine
    } else {
        Resolution::Standard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linesim::{LineParams, LineSim};

    fn chart(n: u32) -> Page {
        let path = format!(
            "{}/../vectors/ccitt-t24/pbm/itu{n}.pbm",
            env!("CARGO_MANIFEST_DIR")
        );
        crate::pbm::read_pbm(&std::fs::read(path).unwrap(), PageResolution::FINE)
            .unwrap()
            .remove(0)
    }

    /// Two terminals back to back through two simulated line directions; returns both.
    fn call(pages: Vec<Page>, line: LineParams, max_seconds: u64) -> (Terminal, Terminal) {
        call_ecm(pages, line, max_seconds, true)
    }

    fn call_ecm(
        pages: Vec<Page>,
        line: LineParams,
        max_seconds: u64,
        ecm: bool,
    ) -> (Terminal, Terminal) {
        let cfg = |id: &str| Config {
            ident: id.into(),
            ecm,
            ..Config::default()
        };
        let mut a = Terminal::caller(cfg("+1 408 555 0001"), pages);
        let mut b = Terminal::answerer(cfg("+1 408 555 7442"));
        let mut ab = LineSim::new(LineParams {
            seed: line.seed.wrapping_mul(2) + 1,
            ..line
        });
        let mut ba = LineSim::new(LineParams {
            seed: line.seed.wrapping_mul(2) + 2,
            ..line
        });
        let (mut a_tx, mut b_tx) = ([0i16; 160], [0i16; 160]);
        let (mut a_rx, mut b_rx) = (vec![0i16; 160], vec![0i16; 160]);
        // Each direction's output (which drift makes a sample longer or shorter now and then)
        // goes through a FIFO, so that each side still gets exactly 160 samples a block.
        // 100 ms of line delay each way, so a slow clock (negative drift) never underflows.
        let (mut to_b, mut to_a) = (
            std::collections::VecDeque::from(vec![0i16; 800]),
            std::collections::VecDeque::from(vec![0i16; 800]),
        );
        let mut buf = Vec::new();
        let take = |q: &mut std::collections::VecDeque<i16>, out: &mut Vec<i16>| {
            out.clear();
            out.extend((0..160).map(|_| q.pop_front().unwrap_or(0)));
        };
        for _ in 0..max_seconds * 50 {
            a.process(&a_rx, &mut a_tx);
            b.process(&b_rx, &mut b_tx);
            ab.process(&a_tx, &mut buf);
            to_b.extend(buf.iter().copied());
            take(&mut to_b, &mut b_rx);
            ba.process(&b_tx, &mut buf);
            to_a.extend(buf.iter().copied());
            take(&mut to_a, &mut a_rx);
            if std::env::var("FAXDBG").is_ok() {
                for e in a.take_events() {
                    eprintln!("{:7.2} A {e:?}", a.now() as f64 / 8000.0);
                }
                for e in b.take_events() {
                    eprintln!("{:7.2} B {e:?}", b.now() as f64 / 8000.0);
                }
            }
            if a.outcome().is_some() && b.outcome().is_some() {
                break;
            }
            if a.outcome().is_some() && b.outcome().is_none() && a.now() > 0 {
                // The caller has released after DCN; the answerer hears the line go.
                if matches!(a.tx, TxMode::Silence) {
                    b.line_down();
                }
            }
        }
        (a, b)
    }

    #[test]
    fn a_two_page_fax_through_a_clean_line() {
        let pages = vec![chart(1), chart(2)];
        let (a, b) = call(pages.clone(), LineParams::default(), 300);
        let oa = a.outcome().expect("caller finished");
        assert_eq!(oa.hangup, crate::t30::Hangup::Normal, "{oa:?}");
        assert_eq!(oa.pages, 2);
        assert_eq!(oa.rate, Some(DataRate::V17_14400));
        assert_eq!(oa.remote_ident.as_deref(), Some("+1 408 555 7442"));
        let ob = b.outcome().expect("answerer finished");
        assert_eq!(
            (ob.hangup, ob.pages),
            (crate::t30::Hangup::Normal, 2),
            "{ob:?}"
        );
        assert_eq!(b.received_pages().len(), 2);
        for (got, want) in b.received_pages().iter().zip(&pages) {
            assert_eq!((got.width, got.height), (want.width, want.height));
            assert!(got.data == want.data, "pels differ");
        }
        assert!(a.transmit_bytes > 10_000);
    }

    /// V.17 pages (and ECM bursts) come with the short retrain after TCF's long one; the receiver starts
    /// from TCF's training and finds the page's start above the line noise (25–28 dB SNR,
    /// ±100 ppm: the conditions that lost pages when it listened to the noise as well).
    #[test]
    fn short_trained_v17_pages_through_noise_and_drift() {
        let pages = vec![chart(1), chart(3)];
        for (snr, drift, seed, ecm) in [
            (25.0, -100.0, 7, false),
            (26.0, 100.0, 1, true),
            (27.0, -50.0, 7, false),
            (27.0, 50.0, 7, true),
            (28.0, 100.0, 7, false),
            (28.0, -100.0, 7, true),
        ] {
            let line = LineParams {
                snr_db: Some(snr),
                drift_ppm: drift,
                seed,
                ..Default::default()
            };
            let (a, b) = call_ecm(pages.clone(), line, 400, ecm);
            let oa = a.outcome().expect("caller finished");
            let what = format!("{snr} dB, {drift} ppm, seed {seed}, ecm {ecm}: {oa:?}");
            assert_eq!(oa.ecm, ecm, "{what}");
            assert_eq!(
                (oa.hangup, oa.pages),
                (crate::t30::Hangup::Normal, 2),
                "{what}"
            );
            assert_eq!(oa.rate, Some(DataRate::V17_14400), "{what}");
            assert_eq!(b.received_pages().len(), 2, "{what}");
            for (got, want) in b.received_pages().iter().zip(&pages) {
                assert!(got.data == want.data, "pels differ: {what}");
            }
        }
    }

    #[test]
    fn a_fax_through_an_impaired_line() {
        let line = LineParams {
            snr_db: Some(30.0),
            drift_ppm: -100.0,
            law: Some(crate::g711::Law::Ulaw),
            ..Default::default()
        };
        let pages = vec![chart(3)];
        let (a, b) = call(pages.clone(), line, 300);
        let oa = a.outcome().expect("caller finished");
        assert_eq!(
            (oa.hangup, oa.pages),
            (crate::t30::Hangup::Normal, 1),
            "{oa:?}"
        );
        assert!(b.received_pages()[0].data == pages[0].data, "pels differ");
    }
}
