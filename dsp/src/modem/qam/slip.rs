//! Sample slips in the V.17 and V.29 receivers (an addition of these receivers'; the
//! modem recommendations say nothing of slips). A controlled slip at a digital exchange
//! drops or repeats one 8 kHz sample: the signal comes one sample early or late from then
//! on — a third of a symbol, and a carrier phase step of 360°·1800/8000 = 81° (V.17; 76.5°
//! for V.29 at 1700 Hz). The decision-directed loops often do not pull a 128- or 16-point
//! constellation back from that: the rest of the transmission was lost (an ECM burst, the
//! rest of a page). Undoing it at the receiver's input — one sample put back, or one taken
//! out — brings back exactly the signal the equaliser, carrier and timing were trained on,
//! however late that is done (a few hundred samples later, only the symbols between are
//! lost).
//!
//! So the receiver watches the error of its decisions (V.17: the trellis decoder's
//! tentative ones): a sudden rise far above the error it has been running at starts a
//! *trial*. Two copies of the receiver continue beside
//! it, one with a sample put back (the line dropped one), one with a sample taken out (the
//! line repeated one); what each decodes is held back. After `WINDOW` samples the copy
//! whose decisions are clean takes over, with the bits it decoded; if neither is clearly
//! better than the receiver as it was (a burst of noise, not a slip), that one goes on.

use super::QamRx;
use crate::modem::{Receiver, RxEvent, RxSink};

/// A receiver that undoes slips: it keeps a [`SlipWatch`] of its own type.
pub trait SlipRx: Receiver + Clone {
    fn watch(&mut self) -> &mut SlipWatch<Self>;
    /// Take `other`'s constellation tap (a trial's copy taking over from it).
    fn take_tap(&mut self, other: &mut Self);
}

/// Samples a trial lasts: the copies' equaliser delay lines (16 symbols) and matched
/// filters (10) refill from the corrected input, then their decision error settles.
const WINDOW: u32 = 240;
/// Decision error, as a multiple of the running error (or of 30 dB SNR, whichever is more),
/// that starts a trial.
const ALARM: f32 = 8.0;
/// Data symbols before the running error is trusted, and between two trials.
const SETTLE: u32 = 64;
const HOLD_OFF: u32 = 100;
/// A copy takes over when its recent error is below this fraction of the receiver's own.
const BETTER: f32 = 0.25;

/// What a receiver keeps for slips.
#[derive(Debug, Clone)]
pub struct SlipWatch<R> {
    /// Squared decision error: recent (8 symbols) and running (256 symbols).
    fast: f32,
    slow: f32,
    /// Data symbols seen, and symbols left before a trial may start.
    n: u32,
    hold: u32,
    /// A trial is due at the next sample.
    pending: bool,
    /// This receiver is a trial's copy: it never starts one of its own.
    copy: bool,
    /// A trial is running (its state is out of `trial` while the receiver runs).
    busy: bool,
    trial: Option<Box<Trial<R>>>,
    /// Slips undone since the receiver was made.
    undone: u32,
}

impl<R> Default for SlipWatch<R> {
    fn default() -> Self {
        SlipWatch {
            fast: 0.0,
            slow: 0.0,
            n: 0,
            hold: 0,
            pending: false,
            copy: false,
            busy: false,
            trial: None,
            undone: 0,
        }
    }
}

/// What a receiver found while its output was held back.
#[derive(Debug, Clone, Default)]
struct Held {
    items: Vec<Item>,
    event: bool,
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Bit(bool),
    Event(RxEvent),
}

impl RxSink for Held {
    fn put_bit(&mut self, bit: bool) {
        self.items.push(Item::Bit(bit));
    }
    fn event(&mut self, event: RxEvent) {
        self.event = true;
        self.items.push(Item::Event(event));
    }
}

impl Held {
    fn flush(self, sink: &mut dyn RxSink) {
        for i in self.items {
            match i {
                Item::Bit(b) => sink.put_bit(b),
                Item::Event(e) => sink.event(e),
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Trial<R> {
    /// The receiver's own output meanwhile.
    own: Held,
    /// The copies: a sample put back, a sample taken out.
    copies: Vec<(R, Held)>,
    samples: u32,
}

impl<R> SlipWatch<R> {
    /// Slips undone so far.
    pub fn undone(&self) -> u32 {
        self.undone
    }

    /// The data start (after the training): the error statistics start again.
    pub fn restart(&mut self) {
        self.fast = 0.0;
        self.slow = 0.0;
        self.n = 0;
        self.hold = 0;
        self.pending = false;
    }

    /// The squared error `e2` of one data symbol's decision; `es` the constellation's mean
    /// energy.
    #[inline]
    pub fn observe(&mut self, e2: f32, es: f32) {
        let e2 = e2.min(100.0 * es);
        self.n += 1;
        self.hold = self.hold.saturating_sub(1);
        self.fast += (e2 - self.fast) * 0.125;
        if self.n <= SETTLE {
            self.slow += (e2 - self.slow) / self.n as f32;
            return;
        }
        if self.fast < 3.0 * self.slow.max(1e-3 * es) {
            self.slow += (e2 - self.slow) * (1.0 / 256.0);
        }
        if !self.copy
            && !self.busy
            && self.hold == 0
            && self.fast > ALARM * self.slow.max(1e-3 * es)
        {
            self.pending = true;
        }
    }

    /// Is a trial running or due (the receiver must see every sample first)?
    #[inline(always)]
    pub fn active(&self) -> bool {
        self.pending || self.trial.is_some()
    }
}

/// The receiver's input sample `x`, when [`SlipWatch::active`]: runs the trial. Returns
/// whether `x` was taken (always, then).
pub fn intercept<R: SlipRx + QamRx>(rx: &mut R, x: i16, sink: &mut dyn RxSink) -> bool {
    // The trial feeds the receiver and its copies sample by sample, some of them other
    // samples than the block's: what the core's front end ran ahead over is forgotten.
    rx.core_mut().rewind();
    if let Some(mut t) = rx.watch().trial.take() {
        rx.receive(&[x], &mut t.own);
        for (c, held) in &mut t.copies {
            c.receive(&[x], held);
        }
        t.samples += 1;
        if t.samples >= WINDOW || t.own.event {
            decide(rx, *t, sink);
        } else {
            rx.watch().trial = Some(t);
        }
        return true;
    }
    if !rx.watch().pending {
        return false;
    }
    rx.watch().pending = false;
    rx.watch().busy = true;
    let mut copy = rx.clone();
    copy.capture_symbols(false);
    copy.watch().copy = true;
    let mut put_back = (copy.clone(), Held::default());
    let taken_out = (copy, Held::default());
    // The line dropped a sample: this one stands in for it as well.
    put_back.0.receive(&[x, x], &mut put_back.1);
    let mut t = Trial {
        own: Held::default(),
        copies: vec![put_back, taken_out],
        samples: 0,
    };
    rx.receive(&[x], &mut t.own);
    rx.watch().trial = Some(Box::new(t));
    true
}

/// The end of a trial: the best of the receiver and its copies goes on.
fn decide<R: SlipRx>(rx: &mut R, t: Trial<R>, sink: &mut dyn RxSink) {
    let own = rx.watch().fast;
    let best = t
        .copies
        .into_iter()
        .map(|(mut c, h)| (c.watch().fast, c, h))
        .filter(|(fast, _, h)| !h.event && *fast < BETTER * own)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let held = match best {
        Some((_, mut c, held)) => {
            c.take_tap(rx);
            c.watch().copy = false;
            c.watch().busy = false;
            c.watch().undone = rx.watch().undone + 1;
            *rx = c;
            held
        }
        None => t.own,
    };
    rx.watch().hold = HOLD_OFF;
    rx.watch().busy = false;
    held.flush(sink);
}
