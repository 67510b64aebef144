//! The fax modems: V.21 channel 2 (300 bit/s FSK), V.27ter (2400/4800 DPSK), V.29
//! (7200/9600 QAM) and V.17 (7200–14400 trellis-coded QAM), one module per modem and
//! direction, all at 8000 samples/s, sans-IO: transmitters fill sample buffers from a bit
//! source, receivers eat sample buffers and hand bits and events to a sink. Time is the
//! number of samples processed.
//!
//! [`factory`] makes any of them from a typed [`Rate`] (checked where a number comes in, so
//! no constructor can fail). The QAM machinery V.29 and V.17 share is [`qam`]; the filters
//! are [`crate::signal`]'s.
//!
//! Bits are given and taken in line order (for HDLC and T.4 data: each byte least
//! significant bit first); transmitters take a symbol's bits at a time
//! ([`GetBit::get_bits`]), receivers hand them over one at a time.

pub mod common;
pub mod factory;
pub mod qam;
pub mod rate;
pub mod shaping;
#[cfg(test)]
pub mod testutil;
pub mod v17;
pub mod v21;
pub mod v27ter;
pub mod v29;

pub use rate::{Modem, Rate, RateError, Training, V17Rate, V27terRate, V29Rate};

/// Where a transmitter takes its bits from. `None` ends the data: the transmitter then sends
/// its ending (e.g. V.29/V.17 have none but stop; V.21 stops) and reports it is done.
pub trait GetBit {
    fn get_bit(&mut self) -> Option<bool>;

    /// The next `n` ≤ 32 bits at once, the first in bit 0, and how many there were: fewer
    /// than `n` only when the data ended there (the bits above them are zero). Exactly
    /// [`GetBit::get_bit`] `n` times, stopping at the first `None` — what this default
    /// does; a transmitter asks for a symbol's bits in one call, and a source that holds
    /// its bits in bytes or words can hand them over without a call per bit.
    #[inline]
    fn get_bits(&mut self, n: u32) -> (u32, u32) {
        debug_assert!(n <= 32);
        let mut w = 0u32;
        for i in 0..n {
            match self.get_bit() {
                Some(b) => w |= (b as u32) << i,
                None => return (w, i),
            }
        }
        (w, n)
    }
}

impl<F: FnMut() -> Option<bool>> GetBit for F {
    #[inline]
    fn get_bit(&mut self) -> Option<bool> {
        self()
    }
}

/// A modem transmitter.
pub trait Transmitter: Send {
    /// Fill `out` with samples at 8 kHz; returns how many were written. Fewer than
    /// `out.len()` means the transmission has ended (the rest of `out` is untouched).
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize;
}

/// What a receiver reports besides bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RxEvent {
    /// Energy in band above the turn-on threshold (with hysteresis).
    CarrierUp,
    /// The carrier went away (below the turn-off threshold).
    CarrierDown,
    /// The training sequence was recognised and the equaliser converged; bits follow.
    TrainingSucceeded,
    /// A carrier came but training did not complete.
    TrainingFailed,
}

/// Where a receiver puts what it finds.
pub trait RxSink {
    fn put_bit(&mut self, bit: bool);
    fn event(&mut self, event: RxEvent);
    /// The `n` ≤ 32 low bits of `bits` in line order, the first one highest (bit n−1): the
    /// same as `n` calls of [`RxSink::put_bit`], which is what it does unless the sink takes
    /// words itself. The QAM and PSK receivers hand over a symbol's bits with it.
    #[inline]
    fn put_bits(&mut self, bits: u32, n: u32) {
        for i in (0..n.min(32)).rev() {
            self.put_bit(bits >> i & 1 != 0);
        }
    }
}

/// Signal quality after training (T.30 uses it; `modem rx` prints it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RxQuality {
    /// Signal level of the received carrier, dBm0.
    pub level_dbm0: f32,
    /// Estimated signal-to-noise ratio at the decision point, dB.
    pub snr_db: f32,
    /// Carrier frequency offset tracked, Hz.
    pub carrier_offset_hz: f32,
    /// Symbol timing offset tracked, parts per million.
    pub timing_offset_ppm: f32,
}

impl RxQuality {
    /// Are all the figures finite numbers (what any input, garbage included, must give)?
    pub fn is_finite(&self) -> bool {
        self.level_dbm0.is_finite()
            && self.snr_db.is_finite()
            && self.carrier_offset_hz.is_finite()
            && self.timing_offset_ppm.is_finite()
    }
}

/// A receiver whose [`Receiver::receive`] is [`receive_compiled`]: the per-block work, to
/// be `#[inline(always)]` so that it is generated for the instruction set in use.
pub(crate) trait ReceiveBlock {
    fn receive_block(&mut self, samples: &[i16], sink: &mut dyn RxSink);
}

/// `rx.receive_block(samples, sink)` compiled for `isa` ([`crate::simd::Isa::compiled_for`]).
#[inline(always)]
pub(crate) fn receive_compiled<R: ReceiveBlock>(
    isa: crate::simd::Isa,
    rx: &mut R,
    samples: &[i16],
    sink: &mut dyn RxSink,
) {
    struct Block<'a, R> {
        rx: &'a mut R,
        samples: &'a [i16],
        sink: &'a mut dyn RxSink,
    }
    impl<R: ReceiveBlock> crate::simd::Compiled for Block<'_, R> {
        type Out = ();
        #[inline(always)]
        fn run(self) {
            self.rx.receive_block(self.samples, self.sink)
        }
    }
    isa.compiled_for(Block { rx, samples, sink })
}

/// A modem receiver.
pub trait Receiver: Send {
    /// Process received samples at 8 kHz.
    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink);
    /// Quality as of now.
    fn quality(&self) -> RxQuality;

    /// Start or stop keeping the equaliser's output symbols (for constellation plots);
    /// receivers without a constellation (FSK) ignore it.
    fn capture_symbols(&mut self, _on: bool) {}

    /// The symbols kept since the last call (normalised so that the constellation's outer
    /// points lie near unit magnitude or their nominal coordinates).
    fn take_symbols(&mut self) -> Vec<num_complex::Complex32> {
        Vec::new()
    }
}

/// Equaliser outputs a receiver keeps for [`Receiver::take_symbols`] while asked to
/// ([`Receiver::capture_symbols`]), at most 65 536 between takes.
#[derive(Debug, Clone, Default)]
pub struct SymbolTap(Option<Vec<num_complex::Complex32>>);

impl SymbolTap {
    pub fn set(&mut self, on: bool) {
        self.0 = on.then(Vec::new);
    }

    #[inline(always)]
    pub fn push(&mut self, z: num_complex::Complex32) {
        if let Some(v) = self.0.as_mut()
            && v.len() < 65_536
        {
            v.push(z);
        }
    }

    pub fn take(&mut self) -> Vec<num_complex::Complex32> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// A sink that collects bits and events (tests, CLI).
#[derive(Debug, Default, Clone)]
pub struct Collect {
    pub bits: Vec<bool>,
    pub events: Vec<(usize, RxEvent)>,
}

impl RxSink for Collect {
    fn put_bit(&mut self, bit: bool) {
        self.bits.push(bit);
    }
    fn put_bits(&mut self, bits: u32, n: u32) {
        self.bits
            .extend((0..n.min(32)).rev().map(|i| bits >> i & 1 != 0));
    }
    fn event(&mut self, event: RxEvent) {
        self.events.push((self.bits.len(), event));
    }
}

/// The level of a full-scale sine (peak 32767 in 16-bit linear samples), dBm0. G.711 puts it
/// at +3.14 dBm0 (A-law; µ-law +3.17); softfax, like spandsp, uses 3.14 so that levels and
/// SNR figures compare with spandsp's.
#[allow(clippy::approx_constant)] // 3.14 dB, not π
pub const DBM0_FULL_SCALE: f32 = 3.14;

/// RMS amplitude (16-bit linear) of a signal at `dbm0`.
pub fn dbm0_to_rms(dbm0: f32) -> f32 {
    // A full-scale sine (peak 32767) is DBM0_FULL_SCALE; its RMS is 32767/√2.
    32767.0 / std::f32::consts::SQRT_2 * 10f32.powf((dbm0 - DBM0_FULL_SCALE) / 20.0)
}

/// Level in dBm0 of a signal of RMS amplitude `rms` (16-bit linear).
pub fn rms_to_dbm0(rms: f32) -> f32 {
    DBM0_FULL_SCALE + 20.0 * (rms.max(1e-3) / (32767.0 / std::f32::consts::SQRT_2)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Collect::put_bits` is `put_bit` for each bit, the highest first.
    #[test]
    fn collect_put_bits_is_put_bit_by_bit() {
        let mut seed = 1u32;
        let (mut words, mut bits) = (Collect::default(), Collect::default());
        for k in 0..300u32 {
            let n = k % 35;
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let w = seed ^ seed.rotate_left(13);
            words.put_bits(w, n);
            for i in (0..n.min(32)).rev() {
                bits.put_bit(w >> i & 1 != 0);
            }
        }
        assert_eq!(words.bits, bits.bits);
    }
}
