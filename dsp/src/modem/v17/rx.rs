//! The V.17 receiver: training (V.17 §7) on the shared QAM core, then the trellis decoder.

use num_complex::Complex32;

use super::echo::EchoCanceller;
use super::trellis::Viterbi;
use super::{
    ABCD, CARRIER_HZ, Constellation, SCRAMBLER_SEED, SEG2_LONG, SEG2_SHORT, SEG3, SEG4,
    SeededScrambler, training_points,
};
use crate::modem::qam::slip::{self, SlipRx, SlipWatch};
use crate::modem::qam::{Descrambler, Loops, QamRx, RxCore};
use crate::modem::rate::V17Rate;
use crate::modem::{RxEvent, RxSink, SymbolTap};

/// How late the decisions the loops adapt on are, symbols (the best survivor's label).
const TENTATIVE: usize = 6;
/// Equalised symbols kept for them.
const LATE: usize = 8;

/// Symbols looked at to tell long from short training.
const PROBE: usize = 8;

/// Six bits reversed.
const REVERSE6: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        let mut r = 0;
        let mut b = 0;
        while b < 6 {
            r |= ((i >> b) & 1) << (5 - b);
            b += 1;
        }
        t[i] = r as u8;
        i += 1;
    }
    t
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// No carrier, or the core is looking for the training.
    Waiting,
    /// Segments 2 and 3: known symbols.
    Training,
    /// The symbols after 38 of segment 2: more of segment 2 (long training) or segment 4
    /// (short)?
    Probe,
    /// Segment 4 and data, through the Viterbi decoder.
    Trellis,
    /// Training failed: wait for the carrier to go.
    Parked,
}

/// The V.17 receiver.
#[derive(Debug, Clone)]
pub struct V17Rx {
    /// Equaliser outputs kept for a constellation plot, when asked.
    captured: SymbolTap,
    rate: V17Rate,
    /// What the caller said comes next, and what this reception turned out to be.
    expect_short: bool,
    short_train: bool,
    /// Symbols kept while telling long from short training, and their squared distance
    /// from what segment 2 would have sent.
    probe: [Complex32; PROBE],
    probe_dist: f32,
    /// SNR over the first 38 symbols of segment 2.
    short_snr: f32,
    core: RxCore,
    stage: Stage,
    /// Symbols since the first of segment 2.
    n: u32,
    scrambler: SeededScrambler,
    abcd: usize,
    viterbi: Viterbi,
    /// Symbols out of the Viterbi decoder since the first of segment 4.
    decoded: u32,
    y: u8,
    descrambler: Descrambler,
    constellation: &'static Constellation,
    /// The last equalised symbols, by `n`.
    zs: [Complex32; LATE],
    echo: EchoCanceller,
    /// Symbols given to the trellis decoder.
    tcm_n: u32,
    /// Sample slips: watched for, and undone ([`slip`]).
    slip: SlipWatch<V17Rx>,
}

/// Normalised LMS steps: training fast, fine, and on decisions.
const MU_TRAIN: f32 = 0.25;
const MU_FINE: f32 = 0.05;
const MU_DATA: f32 = 0.02;

impl V17Rx {
    /// A receiver for `rate`, expecting the long training.
    pub fn new(rate: V17Rate) -> V17Rx {
        let c = rate.constellation();
        V17Rx {
            captured: SymbolTap::default(),
            rate,
            expect_short: false,
            short_train: false,
            probe: [Complex32::default(); PROBE],
            probe_dist: 0.0,
            short_snr: 0.0,
            core: RxCore::new(CARRIER_HZ, training_points(), c.energy),
            stage: Stage::Waiting,
            n: 0,
            scrambler: SeededScrambler(SCRAMBLER_SEED),
            abcd: 0,
            viterbi: Viterbi::new(),
            decoded: 0,
            y: 0,
            descrambler: Descrambler::default(),
            constellation: c,
            zs: [Complex32::default(); LATE],
            echo: EchoCanceller::new(),
            tcm_n: 0,
            slip: SlipWatch::default(),
        }
    }

    /// Prepare for the next signal: at `rate`, expecting the long training or the short
    /// retrain (which starts from the equaliser, AGC and carrier frequency of the last good
    /// training, if any). T.30 sends the short one on the pages after the first at the same
    /// rate. Either way the receiver follows the training that actually comes.
    pub fn restart(&mut self, rate: V17Rate, short_train: bool) {
        self.rate = rate;
        self.constellation = rate.constellation();
        self.core
            .set_points(training_points(), self.constellation.energy);
        self.expect_short = short_train;
        self.core.use_saved(short_train);
        if !self.core.carrier_present() {
            self.stage = Stage::Waiting;
        }
    }

    /// Is a carrier present now?
    pub fn carrier_present(&self) -> bool {
        self.core.carrier_present()
    }

    fn seg2(&self) -> u32 {
        if self.short_train {
            SEG2_SHORT
        } else {
            SEG2_LONG
        }
    }

    fn tcm_start(&self) -> u32 {
        if self.short_train {
            SEG2_SHORT
        } else {
            SEG2_LONG + SEG3
        }
    }

    fn on_symbol(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        match self.stage {
            Stage::Training => self.training(z, sink),
            Stage::Probe => self.probe(z, sink),
            Stage::Trellis => self.trellis(z, true, sink),
            Stage::Waiting | Stage::Parked => {}
        }
    }

    fn training(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        let seg2 = self.seg2();
        let target = if self.n < seg2 {
            self.abcd = self.scrambler.cdba();
            ABCD[self.abcd]
        } else {
            self.abcd = (self.abcd + self.scrambler.bridge_step(self.n - seg2)) & 3;
            ABCD[self.abcd]
        };
        self.echo.set(self.n, target);
        let z = z - self.echo.echo(self.n);
        if !self.short_train && self.n < SEG2_LONG {
            self.echo.measure(self.n, z - target);
        }
        let fresh = !(self.short_train && self.core.has_saved());
        let mu = if self.short_train {
            if fresh { MU_TRAIN } else { MU_FINE }
        } else if self.n < 400 {
            MU_TRAIN
        } else if self.n < 1500 {
            0.1
        } else {
            MU_FINE
        };
        self.core.adapt(z, target, mu);
        self.n += 1;
        if !self.short_train {
            match self.n {
                150 => self.core.set_loops(Loops {
                    carrier_hz: 20.0,
                    timing_hz: 8.0,
                }),
                1500 => self.core.set_loops(Loops {
                    carrier_hz: 12.0,
                    timing_hz: 4.0,
                }),
                _ => {}
            }
        }
        if self.n == 8 || self.n == SEG2_LONG - 128 {
            self.core.reset_mse(128.0);
        }
        if self.n == SEG2_SHORT {
            // Long or short? The next symbols tell (see `probe`).
            self.short_snr = self.core.snr_db();
            self.probe_dist = 0.0;
            self.stage = Stage::Probe;
            return;
        }
        if self.n == SEG2_LONG {
            self.echo.decide(40.0);
        }
        if self.n == SEG2_LONG && self.core.snr_db() < self.rate.min_snr_db() {
            return self.fail(sink);
        }
        if self.n == self.tcm_start() {
            self.start_trellis();
        }
    }

    /// Symbols 38 to 45 of segment 2 — or the first 8 of segment 4 after a short training.
    /// Whatever the caller expected, if they follow segment 2's scrambler it is the long
    /// training, else the short one: on segment 2 the mean squared distance is the
    /// equaliser's error (well under half the symbol energy even half-trained), on data it
    /// is about twice the symbol energy.
    fn probe(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        let i = (self.n - SEG2_SHORT) as usize;
        self.abcd = self.scrambler.cdba();
        let target = ABCD[self.abcd];
        self.probe[i] = z;
        self.probe_dist += (z - target).norm_sqr().min(1e3);
        self.echo.set(self.n, target);
        self.n += 1;
        if i + 1 < PROBE {
            return;
        }
        if self.probe_dist < 0.4 * 40.0 * PROBE as f32 {
            self.short_train = false;
            self.stage = Stage::Training;
            return;
        }
        self.short_train = true;
        if self.short_snr < self.rate.min_snr_db() {
            return self.fail(sink);
        }
        self.start_trellis();
        let probe = self.probe;
        for z in probe {
            if self.stage == Stage::Trellis {
                self.trellis(z, false, sink);
            }
        }
    }

    fn start_trellis(&mut self) {
        self.stage = Stage::Trellis;
        self.viterbi = Viterbi::new();
        self.decoded = 0;
        self.tcm_n = 0;
        self.y = if self.short_train { 0 } else { 1 };
        self.slip.restart();
        self.core.set_loops(Loops {
            carrier_hz: 12.0,
            timing_hz: 4.0,
        });
        self.core.reset_mse(64.0);
    }

    fn trellis(&mut self, z: Complex32, adapt: bool, sink: &mut dyn RxSink) {
        let z = z - self.echo.echo(self.tcm_start() + self.tcm_n);
        self.tcm_n += 1;
        let c = self.constellation;
        let cell = c.cell(z);
        let dist = self.viterbi.isa.distances8(z, &cell.re, &cell.im);
        let block = self.viterbi.step(&cell.labels, &dist);
        // The loops adapt on the decoder's tentative decision a few symbols back: at the
        // SNR where V.17 14400 works a nearest-point decision is wrong one time in ten.
        self.zs[self.n as usize % LATE] = z;
        self.n += 1;
        let (tent, mud) = (TENTATIVE, MU_DATA);
        if self.viterbi.steps > tent {
            let late = self.zs[(self.n as usize + LATE - 1 - tent) % LATE];
            let decision = c.point(self.viterbi.tentative(tent) as usize);
            if self.decoded >= SEG4 {
                self.slip.observe((late - decision).norm_sqr(), c.energy);
            }
            if adapt {
                let mu = if self.n & 1 == 0 { 2.0 * mud } else { 0.0 };
                self.core.adapt_delayed(late, decision, mu, tent);
            } else {
                self.core.observe(late, decision);
            }
        }
        let Some(block) = block else {
            return;
        };
        for label in block {
            if self.stage != Stage::Trellis {
                return;
            }
            self.decode(label, sink);
        }
    }

    /// One decided symbol: differential decoding, then the bits Q1 Q2 Q3 … in order.
    fn decode(&mut self, label: u8, sink: &mut dyn RxSink) {
        if self.echo.active() {
            let at = self.tcm_start() + self.decoded;
            self.echo.set(at, self.constellation.point(label as usize));
        }
        let y = (label >> 1) & 3;
        let q = ((y.wrapping_sub(self.y) & 3) as u32) | ((label >> 3) as u32) << 2;
        self.y = y;
        // Q1 first: reversed into line order with the first bit highest.
        let n = self.rate.bits_per_symbol();
        let out = self
            .descrambler
            .bits(REVERSE6[q as usize] as u32 >> (6 - n), n);
        if self.decoded >= SEG4 {
            sink.put_bits(out, n);
        }
        self.decoded += 1;
        if self.decoded == SEG4 {
            // Segment 4 went through the decoder: check it before the data.
            if self.core.snr_db() < self.rate.min_snr_db() {
                return self.fail(sink);
            }
            self.core.save();
            self.core.reset_mse(256.0);
            sink.event(RxEvent::TrainingSucceeded);
        }
    }
}

impl V17Rx {
    /// Sample slips undone so far ([`slip`]).
    pub fn slips_undone(&self) -> u32 {
        self.slip.undone()
    }
}

impl SlipRx for V17Rx {
    fn watch(&mut self) -> &mut SlipWatch<V17Rx> {
        &mut self.slip
    }
    fn take_tap(&mut self, other: &mut V17Rx) {
        self.captured = std::mem::take(&mut other.captured);
    }
}

impl QamRx for V17Rx {
    fn core(&self) -> &RxCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut RxCore {
        &mut self.core
    }
    fn tap(&mut self) -> &mut SymbolTap {
        &mut self.captured
    }
    fn in_data(&self) -> bool {
        self.stage == Stage::Trellis
    }
    fn settled(&self) -> bool {
        self.stage == Stage::Parked || (self.stage == Stage::Trellis && self.decoded >= SEG4)
    }
    fn wait(&mut self) {
        self.stage = Stage::Waiting;
    }
    fn fail(&mut self, sink: &mut dyn RxSink) {
        self.stage = Stage::Parked;
        self.core.park();
        sink.event(RxEvent::TrainingFailed);
    }
    fn reversal(&mut self) {
        // The reversal was seen on C and D, the first two points of segment 2.
        self.scrambler = SeededScrambler(SCRAMBLER_SEED);
        self.abcd = self.scrambler.cdba();
        self.abcd = self.scrambler.cdba();
        self.n = 2;
        self.short_train = self.expect_short;
        self.echo.restart(!self.expect_short);
        self.echo.set(0, ABCD[2]);
        self.echo.set(1, ABCD[3]);
        self.stage = Stage::Training;
        self.descrambler = Descrambler::default();
    }
    fn symbol(&mut self, z: Complex32, sink: &mut dyn RxSink) {
        self.on_symbol(z, sink)
    }
    #[inline(always)]
    fn intercept(&mut self, x: i16, sink: &mut dyn RxSink) -> bool {
        self.slip.active() && slip::intercept(self, x, sink)
    }
}
