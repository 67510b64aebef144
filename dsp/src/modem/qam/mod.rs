//! The QAM machinery shared by V.29 (9600/7200/4800 bit/s, carrier 1700 Hz) and V.17
//! (14400–7200 bit/s, carrier 1800 Hz): both send 2400 symbols/s of a two-dimensional
//! constellation (V.29 §2, V.17 §2) and both open with the same kind of training — silence or
//! not, then alternations of two points A and B, then an equaliser conditioning pattern whose
//! first two symbols C and D are A and B turned by 180° (V.29 §6, V.17 §7). This module holds
//! what the two modems share; the constellations, coding and training contents live in
//! [`super::v29`] and [`super::v17`].
//!
//! - `tx.rs`: the pulse [`Shaper`] and the end of a transmission ([`DataTail`]).
//! - `rx/`: the receiver core [`RxCore`]: carrier detect, acquisition on the alternations
//!   and the reversal, equaliser, carrier and timing loops, quality; `filters.rs` holds its
//!   matched-filter bank.
//! - `slip.rs`: sample slips undone at the receiver's input (a trial of two copies, one
//!   with a sample put back, one with one taken out; [`QamRx::intercept`] is its hook).
//!
//! Everything is `f32` on the signal path, with fixed-size arrays and no allocation after
//! construction; the polyphase banks and tables are built once per process. The front
//! end's and the equaliser's dot products and LMS update run on the run-time chosen SIMD
//! kernels of [`crate::simd`] (SSE4.1, AVX2+FMA, NEON).
//!
//! **Not supported:** passband (pre-demodulation) equalisation, echo cancelling, and the
//! optional echo-protection tone in the transmitters (the receivers skip it).
//!
//! **Tested by:** the unit tests in this folder (filters, timing detector, level, block descrambler,
//! acquisition on a synthetic signal) and through the V.29 and V.17 round-trip, noise,
//! drift, offset, distorted-line and garbage tests.

use std::sync::LazyLock;

use num_complex::Complex32;

mod filters;
mod rx;
pub mod slip;
mod tx;

pub use filters::EQ_LEN;
pub use rx::{Loops, MAX_DELAY, RxCore, Tick, TrainingPoints};

use super::{Receiver, RxEvent, RxQuality, RxSink, SymbolTap};
#[cfg(test)]
pub use tx::ReferenceShaper;
pub use tx::{DataTail, QamSymbols, Shaper, TRAILER, TX_SPAN, TailSymbol};

/// Symbols per second of V.29 and V.17.
pub const BAUD: f64 = 2400.0;
/// Samples per symbol (3⅓).
pub const SAMPLES_PER_SYMBOL: f64 = 8000.0 / BAUD;
/// Roll-off of the transmit pulse and of the receive matched filter.
pub const ROLLOFF: f64 = 0.25;

/// A sine table, one turn in 1024 steps plus a guard entry (linear interpolation: error
/// below 5e-6). Users keep the `&'static` so that the hot loops skip the lazy-init check.
static SINE: LazyLock<[f32; 1025]> = LazyLock::new(|| {
    let mut t = [0f32; 1025];
    for (i, v) in t.iter_mut().enumerate() {
        *v = (i as f64 * std::f64::consts::TAU / 1024.0).sin() as f32;
    }
    t
});

/// e^{jφ} for a `u32` phase (one turn = 2³²).
#[inline(always)]
fn cis(tab: &[f32; 1025], phase: u32) -> Complex32 {
    let at = |p: u32| {
        let i = (p >> 22) as usize;
        let f = (p & 0x3F_FFFF) as f32 * (1.0 / 4_194_304.0);
        tab[i] + (tab[i + 1] - tab[i]) * f
    };
    Complex32::new(at(phase.wrapping_add(1 << 30)), at(phase))
}

/// The 1 + x⁻¹⁸ + x⁻²³ descrambler of V.29 and V.17, working a symbol's bits at a
/// time (the same sums as [`super::common::Scrambler::descramble`], bit for bit).
#[derive(Debug, Clone, Copy, Default)]
pub struct Descrambler(u32);

impl Descrambler {
    /// Descramble `n` ≤ 8 bits given in line order from the most significant (bit n−1 is the
    /// first); the result is laid out the same way.
    #[inline(always)]
    pub fn bits(&mut self, w: u32, n: u32) -> u32 {
        // With the newest bit lowest, the bits 18 and 23 places older sit 18 and 23 higher.
        let reg = (self.0 << n) | w;
        self.0 = reg;
        (w ^ (reg >> 18) ^ (reg >> 23)) & ((1 << n) - 1)
    }
}

/// A QAM receiver as the shared [`Receiver`] implementation drives it: the modem's own
/// training contents and decoding on top of [`RxCore`].
pub trait QamRx {
    fn core(&self) -> &RxCore;
    fn core_mut(&mut self) -> &mut RxCore;
    /// Where data symbols are kept for a constellation plot.
    fn tap(&mut self) -> &mut SymbolTap;
    /// Are data symbols flowing (the ones worth plotting)?
    fn in_data(&self) -> bool;
    /// Is the training over, successful or given up (so that losing the carrier now is no
    /// failed training)?
    fn settled(&self) -> bool;
    /// Back to waiting for a training (the carrier came or went).
    fn wait(&mut self);
    /// The training failed: park until the carrier goes, and say so.
    fn fail(&mut self, sink: &mut dyn RxSink);
    /// The core found the reversal into the conditioning pattern (its first two symbols
    /// have passed): start training on it.
    fn reversal(&mut self);
    /// An equalised symbol after the reversal.
    fn symbol(&mut self, z: Complex32, sink: &mut dyn RxSink);
    /// Input samples come here first; a receiver that took one itself (V.17 and V.29
    /// undoing a sample slip) says true. Asked for the first sample of each block and for
    /// the first after each call into the modem (a tick); once it says false it is not
    /// asked again until the modem has been called, so it must keep saying false until
    /// then (the core takes the samples between in one call).
    #[inline(always)]
    fn intercept(&mut self, _x: i16, _sink: &mut dyn RxSink) -> bool {
        false
    }
}

/// Every QAM modem's receiver: samples into the core, its ticks to the modem.
impl<T: QamRx + Send> Receiver for T {
    fn capture_symbols(&mut self, on: bool) {
        self.tap().set(on);
    }

    fn take_symbols(&mut self) -> Vec<Complex32> {
        self.tap().take()
    }

    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        let isa = self.core().isa();
        crate::modem::receive_compiled(isa, self, samples, sink)
    }

    fn quality(&self) -> RxQuality {
        self.core().quality()
    }
}

/// [`Receiver::receive`]'s work for a QAM modem.
impl<T: QamRx> crate::modem::ReceiveBlock for T {
    #[inline(always)]
    fn receive_block(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        receive_block(self, samples, sink)
    }
}

#[inline(always)]
fn receive_block<T: QamRx>(this: &mut T, samples: &[i16], sink: &mut dyn RxSink) {
    let mut i = 0;
    // The modem is offered the first sample and the first after each tick (see
    // QamRx::intercept); the core takes the rest up to its next tick in one call.
    let mut offer = true;
    while i < samples.len() {
        if offer {
            if this.intercept(samples[i], sink) {
                i += 1;
                continue;
            }
            offer = false;
        }
        let (n, tick) = this.core_mut().run(&samples[i..]);
        i += n;
        if matches!(tick, Tick::Nothing) {
            continue;
        }
        offer = true;
        match tick {
            Tick::Nothing => {}
            Tick::Symbol(z) => {
                if this.in_data() {
                    this.tap().push(z);
                }
                this.symbol(z, sink)
            }
            Tick::CarrierUp => {
                this.wait();
                sink.event(RxEvent::CarrierUp);
            }
            Tick::CarrierDown => {
                if !this.settled() {
                    sink.event(RxEvent::TrainingFailed);
                }
                this.wait();
                sink.event(RxEvent::CarrierDown);
            }
            Tick::AcquisitionFailed => this.fail(sink),
            Tick::Reversal => {
                this.reversal();
                this.core_mut().set_loops(Loops {
                    carrier_hz: 40.0,
                    timing_hz: 10.0,
                });
                this.core_mut().reset_mse(64.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_descrambler_matches_the_bitwise_one() {
        let mut slow = crate::modem::common::Scrambler::new(18, 23);
        let mut fast = Descrambler::default();
        let mut p = crate::modem::common::Prbs23::default();
        for k in 0..5000u32 {
            let n = 1 + k % 8;
            let w = (0..n).fold(0, |w, _| w << 1 | p.next_bit() as u32);
            let want = (0..n)
                .rev()
                .fold(0, |o, i| o << 1 | slow.descramble(w >> i & 1 != 0) as u32);
            assert_eq!(fast.bits(w, n), want, "symbol {k}");
        }
    }
}
