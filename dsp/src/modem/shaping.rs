//! Transmit pulse shaping by overlap-add, a block of samples at a time: the passband
//! transmitters' (V.27ter §2, V.29 §2, V.17 §3: the shaping filter is the implementer's)
//! common modulator.
//!
//! The line signal is y(n) = Re(e^{jφ(n)} Σₖ sₖ·h(n − tₖ)), symbol k entering at sample tₖ
//! with carrier phase φ(n) = n·ω. Written per symbol instead of per sample it is
//! y(n) += Re(zₖ·gₖ(n − tₖ)) with zₖ = sₖ·e^{jφ(tₖ)} (one oscillator look-up per symbol) and
//! g(m) = h(m)·e^{jωm}, the pulse already on the carrier: each symbol adds its whole pulse
//! (12 symbols of V.29/V.17, 10 of V.27ter) to an accumulator of the samples to come, a
//! loop of real multiply-adds over contiguous memory, with no per-sample filter or
//! oscillator; a block's symbols are gathered first and their pulses added in one call of
//! the dispatched kernel ([`Isa::overlap_add`]). The symbol clock is a fraction num/den of a symbol per
//! sample (3/10 at 2400 baud, 1/5 at 1600, 3/20 at 1200), so a symbol enters at one of
//! `num` positions within a sample and [`Pulses`] holds one pulse per position: the taps of
//! the polyphase bank the per-sample shaper used, in the order the samples visit them.
//!
//! The result is the per-sample shaper's to float rounding (the tests hold the V.29/V.17
//! shaper to its per-sample reference within one least significant bit).

use std::sync::Arc;

use num_complex::Complex32;

use super::common::{TURN, cos_sin_in, sine_table};
use crate::simd::{Isa, Stroke};

/// Pulses are placed at multiples of this many samples (see [`Pulses`]).
const ALIGN: usize = 8;
/// Longest pulse as stored, samples (V.27ter 2400: 10 symbols of 6⅔ samples, plus up to 7
/// leading zeros, rounded up to 8).
pub const MAX_PULSE: usize = 80;
/// Samples made per pass over the accumulator (a DAHDI block).
const CHUNK: usize = 160;
const _: () = assert!(CHUNK.is_multiple_of(ALIGN));

/// The pulse of every symbol start position, on the carrier.
#[derive(Debug)]
pub struct Pulses {
    /// Samples per pulse as stored, a multiple of [`ALIGN`] (zero-padded).
    len: usize,
    /// `re[(c·ALIGN + r)·len + m]`, `im[…]`: the pulse on the carrier m − r samples after a
    /// symbol entered at clock position c (< num); zero for m < r. A symbol entering at
    /// sample i adds the pulse with r = i mod ALIGN from sample i − r on, so that every
    /// symbol reads and writes the accumulator in the same aligned vectors: a vector just
    /// stored is read back whole (the store is forwarded), where pulses starting 3 or 4
    /// samples apart would each read vectors straddling two stores, a stall of a dozen
    /// cycles each.
    re: Vec<f32>,
    im: Vec<f32>,
    /// `advance[c]`: for a symbol entering at clock position c, the samples until the next
    /// one enters and that one's clock position.
    advance: Vec<(u32, u32)>,
    /// Carrier phase step per sample (one turn = 2³²).
    step: u32,
    /// The carrier repeats after this many samples (40 at 1800 Hz, 80 at 1700 Hz; 0: no
    /// table) …
    period: usize,
    /// … and `osc[n]` is e^{jφ(n)} for n < period + CHUNK (the period repeated), so a
    /// symbol's carrier phase is one look-up, exact, with no modulo. Empty for a carrier
    /// that does not repeat within [`MAX_PERIOD`] samples (a test's offset carrier): its
    /// phase is accumulated and looked up in the sine table.
    osc: Vec<Complex32>,
}

/// The longest carrier period kept as a table.
const MAX_PERIOD: u64 = 400;

/// The samples after which a carrier of `step` per sample (one turn = 2³²) is back in
/// phase: the first n whose n·step is within the rounding of `step` of whole turns.
fn carrier_period(step: u32) -> Option<usize> {
    (1..=MAX_PERIOD)
        .find(|&n| {
            let off = (n * step as u64) % (1u64 << 32);
            off.min((1u64 << 32) - off) <= n
        })
        .map(|n| n as usize)
}

impl Pulses {
    /// From a polyphase bank of `den` rows of `span` taps, `tap(r, j)` being the pulse
    /// r/den of a symbol after the newest symbol entered, for the symbol j older; symbol
    /// clock `num/den` per sample; carrier `step` per sample.
    pub fn new(
        den: u32,
        num: u32,
        span: usize,
        step: u32,
        tap: impl Fn(usize, usize) -> f32,
    ) -> Pulses {
        let whole = span as u32 * den;
        let longest = whole.div_ceil(num) as usize;
        let len = (longest + ALIGN - 1).div_ceil(ALIGN) * ALIGN;
        assert!(len <= MAX_PULSE, "pulse of {len} samples");
        let w = std::f64::consts::TAU * step as f64 / TURN;
        let rows = num as usize * ALIGN;
        let mut re = vec![0f32; rows * len];
        let mut im = vec![0f32; rows * len];
        for c in 0..num as usize {
            for m in 0..longest {
                let t = c as u32 + m as u32 * num;
                if t >= whole {
                    break;
                }
                let h = tap((t % den) as usize, (t / den) as usize) as f64;
                let (s, co) = (w * m as f64).sin_cos();
                for r in 0..ALIGN {
                    re[(c * ALIGN + r) * len + r + m] = (h * co) as f32;
                    im[(c * ALIGN + r) * len + r + m] = (h * s) as f32;
                }
            }
        }
        let advance = (0..num)
            .map(|c| {
                let k = (den - c).div_ceil(num);
                (k, c + k * num - den)
            })
            .collect();
        let (period, osc) = match carrier_period(step) {
            Some(period) => {
                let osc = (0..period + CHUNK)
                    .map(|n| {
                        let turns = ((n % period) as u64 * step as u64) as f64 / TURN;
                        let (s, c) = (std::f64::consts::TAU * turns).sin_cos();
                        Complex32::new(c as f32, s as f32)
                    })
                    .collect();
                (period, osc)
            }
            None => (0, Vec::new()),
        };
        Pulses {
            step,
            len,
            re,
            im,
            advance,
            period,
            osc,
        }
    }
}

/// The modulator: give [`PassbandShaper::transmit`] the symbols as it asks for them.
#[derive(Debug, Clone)]
pub struct PassbandShaper {
    pulses: Arc<Pulses>,
    /// `acc[i]`: the sample i after the next one to be sent, so far. Beyond the pulses still
    /// ringing it is zero.
    acc: [f32; CHUNK + MAX_PULSE],
    /// The next symbol enters this many samples after the next sample to be sent ...
    until: u32,
    /// ... at this position of the symbol clock (in 1/den of a symbol, < num; the clock
    /// advances num a sample).
    clock: u32,
    /// The next sample's place in the carrier's period (its phase when the carrier has no
    /// table).
    phase: usize,
    gain: f32,
    ended: bool,
    /// The kernels' instruction set.
    isa: Isa,
    /// The pulses of the symbols entering the samples being made (at most one a sample).
    strokes: [Stroke; CHUNK],
}

impl PassbandShaper {
    /// A shaper with `pulses`, output scaled by `gain`, the first symbol entering at the
    /// first sample with carrier phase 0.
    pub fn new(pulses: Arc<Pulses>, gain: f32) -> PassbandShaper {
        PassbandShaper {
            pulses,
            acc: [0.0; CHUNK + MAX_PULSE],
            until: 0,
            clock: 0,
            phase: 0,
            gain,
            ended: false,
            isa: Isa::detect(),
            strokes: [Stroke::default(); CHUNK],
        }
    }

    /// The output scale.
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Fill `out`, asking `symbol` for a symbol whenever one is due; `None` ends the
    /// transmission there (the samples before it are sent, nothing after). Returns the
    /// samples written: fewer than `out.len()` once ended.
    #[inline]
    pub fn transmit(
        &mut self,
        out: &mut [i16],
        mut symbol: impl FnMut() -> Option<Complex32>,
    ) -> usize {
        if self.ended {
            return 0;
        }
        let p = &*self.pulses;
        let len = p.len;
        let mut done = 0;
        while done < out.len() {
            let n = (out.len() - done).min(CHUNK);
            // The symbols entering in these n samples, as strokes of their pulses ...
            let mut k = 0;
            let mut end = None;
            while (self.until as usize) < n {
                let i = self.until as usize;
                let Some(s) = symbol() else {
                    end = Some(i);
                    break;
                };
                let osc = match p.osc.get(self.phase + i) {
                    Some(&o) => o,
                    None => {
                        let ph = (self.phase as u32).wrapping_add((i as u32).wrapping_mul(p.step));
                        let (c, si) = cos_sin_in(sine_table(), ph);
                        Complex32::new(c, si)
                    }
                };
                let z = s * osc * self.gain;
                let (base, r) = (i & !(ALIGN - 1), i & (ALIGN - 1));
                // acc += Re(z·pulse), the pulse on the carrier.
                self.strokes[k] = Stroke {
                    at: base as u32,
                    pulse: ((self.clock as usize * ALIGN + r) * len) as u32,
                    a: z.re,
                    b: -z.im,
                };
                k += 1;
                let (adv, c) = p.advance[self.clock as usize];
                self.until += adv;
                self.clock = c;
            }
            // ... added in one call.
            self.isa
                .overlap_add(&mut self.acc, &p.re, &p.im, len, &self.strokes[..k]);
            if let Some(i) = end {
                self.ended = true;
                self.isa
                    .round_to_i16(&self.acc[..i], &mut out[done..done + i]);
                return done + i;
            }
            self.until -= n as u32;
            self.isa
                .round_to_i16(&self.acc[..n], &mut out[done..done + n]);
            self.acc.copy_within(n..n + MAX_PULSE, 0);
            self.acc[MAX_PULSE..n + MAX_PULSE].fill(0.0);
            self.phase = if p.osc.is_empty() {
                (self.phase as u32).wrapping_add((n as u32).wrapping_mul(p.step)) as usize
            } else {
                (self.phase + n) % p.period
            };
            done += n;
        }
        out.len()
    }
}
