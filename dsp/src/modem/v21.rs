//! ITU-T V.21 channel 2: 300 bit/s binary FSK, mark (1) = 1650 Hz, space (0) = 1850 Hz
//! (V.21 §2, Table 1) — the T.30 control channel (T.30 §5.1: HDLC frames at 300 bit/s).
//!
//! How it works:
//! - Transmit: a phase-continuous oscillator switched between the two frequencies on bit
//!   boundaries kept by a 300/8000 fractional bit clock.
//! - Receive: two complex correlators (one per tone) summed over a sliding window of one bit
//!   (26–27 samples); the decision each sample is which tone holds more energy. A bit clock
//!   runs at 300 Hz and is pulled towards each decision transition (a digital PLL, strong
//!   while acquiring, gentle once locked), and bits are taken at mid-bit. Carrier detect
//!   uses the in-band energy with V.21 §8's hysteresis (on above −43 dBm0, off below
//!   −48 dBm0).
//!
//! **Not supported:** channel 1 (980/1180 Hz) — fax uses channel 2 only.
//!
//! **Tested by:** unit tests here (clean line, noise, offsets, garbage) and
//! `tests/interop_spandsp.rs` (spandsp's FSK modem in both directions).

use super::common::{CarrierDetect, PowerMeter, phase_step, sine_block_i16};
use super::{GetBit, Receiver, RxEvent, RxQuality, RxSink, Transmitter};

/// Mark (binary 1), Hz.
pub const MARK_HZ: f32 = 1650.0;
/// Space (binary 0), Hz.
pub const SPACE_HZ: f32 = 1850.0;
/// Bits per second.
pub const BAUD: u32 = 300;

/// The V.21 channel 2 transmitter.
#[derive(Debug, Clone)]
pub struct V21Tx {
    phase: u32,
    amplitude: f32,
    baud_phase: u32,
    bit: bool,
    started: bool,
    done: bool,
}

impl V21Tx {
    /// A transmitter at `level_dbm0` (T.30 uses the same level as the image modems,
    /// typically −13 dBm0 … −9 dBm0).
    pub fn new(level_dbm0: f32) -> V21Tx {
        V21Tx {
            phase: 0,
            amplitude: super::dbm0_to_rms(level_dbm0) * std::f32::consts::SQRT_2,
            baud_phase: 0,
            bit: true,
            started: false,
            done: false,
        }
    }
}

impl Transmitter for V21Tx {
    fn transmit(&mut self, out: &mut [i16], bits: &mut dyn GetBit) -> usize {
        let (mark, space) = (phase_step(MARK_HZ), phase_step(SPACE_HZ));
        let mut n = 0;
        while n < out.len() {
            if self.done {
                return n;
            }
            if !self.started || self.baud_phase >= 8000 {
                if self.started {
                    self.baud_phase -= 8000;
                }
                self.started = true;
                match bits.get_bit() {
                    Some(b) => self.bit = b,
                    None => {
                        self.done = true;
                        return n;
                    }
                }
            }
            // The rest of this bit (or of `out`) in one go.
            let k = ((8000 - self.baud_phase).div_ceil(BAUD) as usize).min(out.len() - n);
            let step = if self.bit { mark } else { space };
            self.phase = sine_block_i16(&mut out[n..n + k], self.phase, step, self.amplitude);
            self.baud_phase += BAUD * k as u32;
            n += k;
        }
        out.len()
    }
}

/// Samples per correlation window (one bit is 26.67 samples).
const WINDOW: usize = 27;

/// Both tones repeat exactly every 160 samples (1650 Hz: 33 cycles, 1850 Hz: 37 cycles),
/// so the receiver's local oscillators are a 160-entry table.
const PERIOD: usize = 160;

/// The correlator sums are recomputed from the window every this many samples, so that
/// float drift cannot accumulate.
const RENORM: u32 = 8000;

/// Samples correlated at a time, before the decisions on them.
const BLOCK: usize = 160;

/// Four lanes of one sample's correlation: mark real and imaginary, space real and
/// imaginary (one SIMD register; each lane computed as the scalar code would).
type Lanes = [f32; 4];

/// The mark and space local oscillators, e^(−jωn), as lanes.
static OSC: std::sync::LazyLock<[Lanes; PERIOD]> = std::sync::LazyLock::new(|| {
    let tone = |hz: f32, n: usize| {
        let w = -std::f64::consts::TAU * hz as f64 * n as f64 / 8000.0;
        (w.cos() as f32, w.sin() as f32)
    };
    std::array::from_fn(|n| {
        let (m, s) = (tone(MARK_HZ, n), tone(SPACE_HZ, n));
        [m.0, m.1, s.0, s.1]
    })
});

/// The V.21 channel 2 receiver.
///
/// It works in blocks: first the correlators over up to [`BLOCK`] samples (a loop with no
/// branches on the signal, four lanes wide), then the carrier detector, the bit clock and
/// the decisions over their energies.
#[derive(Debug, Clone)]
pub struct V21Rx {
    /// Position in the 160-sample oscillator period.
    osc: usize,
    /// The last [`WINDOW`] products (a ring, `idx` the oldest) and their sum.
    hist: [Lanes; WINDOW],
    sum: Lanes,
    idx: usize,
    /// Signal power (for level and carrier detect).
    power: PowerMeter,
    carrier: CarrierDetect,
    /// Bit clock: 0..8000 per bit, bits sampled at 4000 (mid-bit).
    baud_phase: i32,
    last_decision: bool,
    /// Transitions seen since carrier up (the PLL is strong for the first few).
    transitions: u32,
    /// Mean and mean square of the decision statistic |Em−Es|/(Em+Es) at mid-bit: its
    /// spread relative to its mean gives the SNR estimate.
    contrast: f32,
    contrast_sq: f32,
    samples_since_renorm: u32,
}

impl Default for V21Rx {
    fn default() -> Self {
        Self::new()
    }
}

impl V21Rx {
    pub fn new() -> V21Rx {
        V21Rx {
            osc: 0,
            hist: [[0.0; 4]; WINDOW],
            sum: [0.0; 4],
            idx: 0,
            power: PowerMeter::new(64.0),
            carrier: CarrierDetect::new(-43.0, -48.0),
            baud_phase: 0,
            last_decision: true,
            transitions: 0,
            contrast: 0.0,
            contrast_sq: 0.0,
            samples_since_renorm: 0,
        }
    }

    /// Is a carrier present now?
    pub fn carrier_present(&self) -> bool {
        self.carrier.present
    }

    /// The mark and space energies |Σ|² of the correlators after each sample of `x`
    /// (at most [`BLOCK`]), and the power meter over them.
    #[inline(always)]
    fn correlate(&mut self, x: &[i16], energy: &mut [[f32; 2]; BLOCK]) {
        let osc = &*OSC;
        let (mut k, mut i, mut sum) = (self.osc, self.idx, self.sum);
        let mut power = self.power;
        let mut j = 0;
        while j < x.len() {
            // A run over which neither the oscillator nor the window's ring wraps.
            let run = (x.len() - j).min(PERIOD - k).min(WINDOW - i);
            let samples = x[j..j + run].iter().zip(&mut energy[j..j + run]);
            for ((&x, e), (o, h)) in
                samples.zip(osc[k..k + run].iter().zip(&mut self.hist[i..i + run]))
            {
                let x = x as f32;
                let p = [o[0] * x, o[1] * x, o[2] * x, o[3] * x];
                sum = [
                    sum[0] + (p[0] - h[0]),
                    sum[1] + (p[1] - h[1]),
                    sum[2] + (p[2] - h[2]),
                    sum[3] + (p[3] - h[3]),
                ];
                *h = p;
                *e = energies(&sum);
                power.update(x);
            }
            j += run;
            k = if k + run == PERIOD { 0 } else { k + run };
            i = if i + run == WINDOW { 0 } else { i + run };
        }
        (self.osc, self.idx, self.sum) = (k, i, sum);
        self.power = power;
    }

    /// The carrier detector, bit clock and decisions over the energies of a block.
    #[inline(always)]
    fn decide(&mut self, energy: &[[f32; 2]], sink: &mut dyn RxSink) {
        for &[em, es] in energy {
            // In-band power from the correlators: a tone of amplitude A gives |sum|² ≈
            // (A·W/2)², i.e. mean square A²/2 = 2|sum|²/W².
            let inband = 2.0 * (em + es) / (WINDOW * WINDOW) as f32;
            match self.carrier.update(inband) {
                Some(true) => {
                    sink.event(RxEvent::CarrierUp);
                    self.transitions = 0;
                    self.baud_phase = 0;
                }
                Some(false) => sink.event(RxEvent::CarrierDown),
                None => {}
            }
            if !self.carrier.present {
                continue;
            }
            let decision = em > es;
            if decision != self.last_decision {
                self.last_decision = decision;
                // A transition should sit on a bit boundary (phase 0 / 8000): pull the clock.
                let err = if self.baud_phase < 4000 {
                    -self.baud_phase
                } else {
                    8000 - self.baud_phase
                };
                let gain = if self.transitions < 8 { 2 } else { 8 };
                self.baud_phase += err / gain;
                self.transitions = self.transitions.saturating_add(1);
            }
            let before = self.baud_phase;
            self.baud_phase += BAUD as i32;
            if before < 4000 && self.baud_phase >= 4000 {
                // Mid-bit: the window holds one tone only; the other's share is noise.
                let total = em + es;
                if total > 0.0 {
                    let d = (em - es).abs() / total;
                    self.contrast += (d - self.contrast) * (1.0 / 32.0);
                    self.contrast_sq += (d * d - self.contrast_sq) * (1.0 / 32.0);
                }
                sink.put_bit(decision);
            }
            if self.baud_phase >= 8000 {
                self.baud_phase -= 8000;
            }
        }
    }
}

/// Mark and space energy of the correlator sums.
#[inline(always)]
fn energies(sum: &Lanes) -> [f32; 2] {
    [
        sum[0] * sum[0] + sum[1] * sum[1],
        sum[2] * sum[2] + sum[3] * sum[3],
    ]
}

impl Receiver for V21Rx {
    fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        let mut energy = [[0.0f32; 2]; BLOCK];
        let mut rest = samples;
        while !rest.is_empty() {
            // A block, ending at the next recomputation of the sums if one comes first.
            let to_renorm = (RENORM - self.samples_since_renorm) as usize;
            let (x, after) = rest.split_at(rest.len().min(BLOCK).min(to_renorm));
            rest = after;
            self.correlate(x, &mut energy);
            self.samples_since_renorm += x.len() as u32;
            if self.samples_since_renorm >= RENORM {
                // After the last sample's products went in: its energies from the new sums.
                self.samples_since_renorm = 0;
                self.sum = self.hist.iter().fold([0.0; 4], |s, h| {
                    [s[0] + h[0], s[1] + h[1], s[2] + h[2], s[3] + h[3]]
                });
                energy[x.len() - 1] = energies(&self.sum);
            }
            self.decide(&energy[..x.len()], sink);
        }
    }

    fn quality(&self) -> RxQuality {
        // Decision SNR: mean² / variance of the decision statistic (capped at 60 dB).
        let m = self.contrast;
        let var = (self.contrast_sq - m * m).max(m * m * 1e-6).max(1e-12);
        RxQuality {
            level_dbm0: self.power.dbm0(),
            snr_db: (10.0 * (m * m / var).log10()).clamp(-10.0, 60.0),
            carrier_offset_hz: 0.0,
            timing_offset_ppm: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::Collect;
    use crate::modem::common::{Prbs23, PrbsChecker};
    use num_complex::Complex32;

    fn tx_bits(bits: &[bool], level: f32) -> Vec<i16> {
        let mut tx = V21Tx::new(level);
        let mut it = bits.iter().copied();
        let mut src = move || it.next();
        let mut out = vec![0i16; 800]; // 100 ms of silence first
        let mut buf = [0i16; 160];
        loop {
            let n = tx.transmit(&mut buf, &mut src);
            out.extend_from_slice(&buf[..n]);
            if n < buf.len() {
                break;
            }
        }
        out.extend(std::iter::repeat_n(0, 800));
        out
    }

    #[test]
    fn block_transmitter_is_the_per_sample_one() {
        // The per-sample transmitter this one replaced: a bit boundary test, one sine look-up
        // and a phase step per sample. Same samples, same length, in blocks of odd sizes.
        let bits: Vec<bool> = {
            let mut p = Prbs23::default();
            (0..997).map(|_| p.next_bit()).collect()
        };
        let amplitude = crate::modem::dbm0_to_rms(-13.0) * std::f32::consts::SQRT_2;
        let (mark, space) = (phase_step(MARK_HZ), phase_step(SPACE_HZ));
        let (mut phase, mut baud_phase) = (0u32, 0u32);
        let mut want = Vec::new();
        'bits: for &b in &bits {
            loop {
                want.push((crate::modem::common::sin_u32(phase) * amplitude) as i16);
                phase = phase.wrapping_add(if b { mark } else { space });
                baud_phase += BAUD;
                if baud_phase >= 8000 {
                    baud_phase -= 8000;
                    continue 'bits;
                }
            }
        }
        for block in [1, 7, 160, 173] {
            let mut tx = V21Tx::new(-13.0);
            let mut it = bits.iter().copied();
            let mut src = move || it.next();
            let mut got = Vec::new();
            let mut buf = vec![0i16; block];
            loop {
                let n = tx.transmit(&mut buf, &mut src);
                got.extend_from_slice(&buf[..n]);
                if n < buf.len() {
                    break;
                }
            }
            assert_eq!(tx.transmit(&mut buf, &mut src), 0);
            assert_eq!(got, want, "blocks of {block}");
        }
    }

    /// The per-sample receiver the block one replaced (its state and loop as they were),
    /// which the block receiver must match bit for bit.
    struct PerSample {
        osc: usize,
        hist_m: [Complex32; WINDOW],
        hist_s: [Complex32; WINDOW],
        sum_m: Complex32,
        sum_s: Complex32,
        idx: usize,
        power: PowerMeter,
        carrier: CarrierDetect,
        baud_phase: i32,
        last_decision: bool,
        transitions: u32,
        contrast: f32,
        contrast_sq: f32,
        samples_since_renorm: u32,
    }

    impl PerSample {
        fn new() -> PerSample {
            PerSample {
                osc: 0,
                hist_m: [Complex32::default(); WINDOW],
                hist_s: [Complex32::default(); WINDOW],
                sum_m: Complex32::default(),
                sum_s: Complex32::default(),
                idx: 0,
                power: PowerMeter::new(64.0),
                carrier: CarrierDetect::new(-43.0, -48.0),
                baud_phase: 0,
                last_decision: true,
                transitions: 0,
                contrast: 0.0,
                contrast_sq: 0.0,
                samples_since_renorm: 0,
            }
        }

        fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
            let mark: Vec<Complex32> = OSC.iter().map(|o| Complex32::new(o[0], o[1])).collect();
            let space: Vec<Complex32> = OSC.iter().map(|o| Complex32::new(o[2], o[3])).collect();
            for &x in samples {
                let x = x as f32;
                let k = self.osc;
                self.osc = if k + 1 == PERIOD { 0 } else { k + 1 };
                let m = mark[k] * x;
                let s = space[k] * x;
                let i = self.idx;
                self.sum_m += m - self.hist_m[i];
                self.sum_s += s - self.hist_s[i];
                self.hist_m[i] = m;
                self.hist_s[i] = s;
                self.idx = if i + 1 == WINDOW { 0 } else { i + 1 };
                self.samples_since_renorm += 1;
                if self.samples_since_renorm >= 8000 {
                    self.samples_since_renorm = 0;
                    self.sum_m = self.hist_m.iter().sum();
                    self.sum_s = self.hist_s.iter().sum();
                }
                let em = self.sum_m.norm_sqr();
                let es = self.sum_s.norm_sqr();
                let inband = 2.0 * (em + es) / (WINDOW * WINDOW) as f32;
                self.power.update(x);
                match self.carrier.update(inband) {
                    Some(true) => {
                        sink.event(RxEvent::CarrierUp);
                        self.transitions = 0;
                        self.baud_phase = 0;
                    }
                    Some(false) => sink.event(RxEvent::CarrierDown),
                    None => {}
                }
                if !self.carrier.present {
                    continue;
                }
                let decision = em > es;
                if decision != self.last_decision {
                    self.last_decision = decision;
                    let err = if self.baud_phase < 4000 {
                        -self.baud_phase
                    } else {
                        8000 - self.baud_phase
                    };
                    let gain = if self.transitions < 8 { 2 } else { 8 };
                    self.baud_phase += err / gain;
                    self.transitions = self.transitions.saturating_add(1);
                }
                let before = self.baud_phase;
                self.baud_phase += BAUD as i32;
                if before < 4000 && self.baud_phase >= 4000 {
                    let total = em + es;
                    if total > 0.0 {
                        let d = (em - es).abs() / total;
                        self.contrast += (d - self.contrast) * (1.0 / 32.0);
                        self.contrast_sq += (d * d - self.contrast_sq) * (1.0 / 32.0);
                    }
                    sink.put_bit(decision);
                }
                if self.baud_phase >= 8000 {
                    self.baud_phase -= 8000;
                }
            }
        }
    }

    #[test]
    fn block_receiver_is_the_per_sample_one() {
        // Frames' worth of V.21 at three levels with noise, silence and loud garbage between
        // them, over 6 s (the sums are recomputed every second): the same bits, events (at the
        // same bit), SNR and level as the per-sample receiver, in blocks of any size.
        let mut p = Prbs23::default();
        let bits: Vec<bool> = (0..600).map(|_| p.next_bit()).collect();
        let mut line = Vec::new();
        for level in [-13.0, -40.0, 0.0] {
            line.extend(tx_bits(&bits, level));
            line.extend(std::iter::repeat_n(0, 3001));
        }
        let mut seed = 77u32;
        for (i, x) in line.iter_mut().enumerate() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = ((seed >> 16) as i16 as i32) >> if i % 9000 < 700 { 0 } else { 6 };
            *x = (*x as i32 + n).clamp(-32768, 32767) as i16;
        }
        assert!(line.len() > 6 * 8000, "{}", line.len());
        let mut want = Collect::default();
        let mut a = PerSample::new();
        a.receive(&line, &mut want);
        assert!(want.bits.len() > 1500, "{}", want.bits.len());
        assert!(want.events.len() >= 6, "{:?}", want.events);
        for block in [1, 7, 160, 161, 1000, line.len()] {
            let mut b = V21Rx::new();
            let mut got = Collect::default();
            for x in line.chunks(block) {
                b.receive(x, &mut got);
            }
            assert_eq!(got.bits, want.bits, "blocks of {block}");
            assert_eq!(got.events, want.events, "blocks of {block}");
            assert_eq!(
                b.contrast.to_bits(),
                a.contrast.to_bits(),
                "blocks of {block}"
            );
            assert_eq!(b.contrast_sq.to_bits(), a.contrast_sq.to_bits());
            assert_eq!(b.power.power().to_bits(), a.power.power().to_bits());
            assert_eq!(b.carrier_present(), a.carrier.present);
        }
    }

    fn rx(samples: &[i16]) -> Collect {
        let mut rx = V21Rx::new();
        let mut c = Collect::default();
        for chunk in samples.chunks(160) {
            rx.receive(chunk, &mut c);
        }
        c
    }

    /// Where `want` appears in `got` (the receiver adds a few bits at carrier edges).
    fn find(got: &[bool], want: &[bool]) -> Option<usize> {
        (0..got.len().saturating_sub(want.len()) + 1).find(|&i| got[i..i + want.len()] == *want)
    }

    #[test]
    fn clean_line_is_error_free() {
        let mut p = Prbs23::default();
        // Flags first (T.30 sends ≥ 1 s of them), then data.
        let mut bits: Vec<bool> = (0..80)
            .flat_map(|_| [false, true, true, true, true, true, true, false])
            .collect();
        bits.extend((0..3000).map(|_| p.next_bit()));
        for level in [0.0, -13.0, -30.0, -40.0] {
            let c = rx(&tx_bits(&bits, level));
            assert!(
                find(&c.bits, &bits[200..]).is_some(),
                "level {level}: {} bits",
                c.bits.len()
            );
            assert_eq!(c.events.first().map(|e| e.1), Some(RxEvent::CarrierUp));
            assert_eq!(c.events.last().map(|e| e.1), Some(RxEvent::CarrierDown));
        }
    }

    #[test]
    fn below_the_threshold_is_silence() {
        let bits: Vec<bool> = (0..300).map(|i| i % 2 == 0).collect();
        let c = rx(&tx_bits(&bits, -50.0));
        assert!(c.bits.is_empty() && c.events.is_empty());
    }

    #[test]
    fn noisy_line_with_timing_error() {
        // 8 kHz with 100 ppm drift and noise at about 12 dB SNR in the full band.
        let mut p = Prbs23::default();
        let bits: Vec<bool> = (0..6000).map(|_| p.next_bit()).collect();
        let clean = tx_bits(&bits, -13.0);
        let mut seed = 12345u64;
        let mut gauss = || {
            let mut s = 0.0f32;
            for _ in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s += (seed >> 40) as f32 / (1u64 << 24) as f32;
            }
            s - 6.0
        };
        let sig_rms = crate::modem::dbm0_to_rms(-13.0);
        let noise_rms = sig_rms / 10f32.powf(12.0 / 20.0);
        // Resample by linear interpolation for +100 ppm.
        let ratio = 1.0 + 100e-6;
        let n = (clean.len() as f64 / ratio) as usize - 2;
        let noisy: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 * ratio;
                let k = t as usize;
                let f = (t - k as f64) as f32;
                let v = clean[k] as f32 * (1.0 - f) + clean[k + 1] as f32 * f;
                (v + gauss() * noise_rms).clamp(-32768.0, 32767.0) as i16
            })
            .collect();
        let mut c = rx(&noisy);
        let mut chk = PrbsChecker::default();
        // Drop the bits around carrier up and down (the window straddles the edges).
        let n = c.bits.len();
        for &b in &c.bits[30..n - 30] {
            chk.put(b);
        }
        c.bits.clear();
        assert!(chk.bits > 5700, "{chk:?}");
        assert!((chk.errors as f64) / (chk.bits as f64) < 1e-3, "{chk:?}");
    }

    #[test]
    fn garbage_never_panics() {
        let mut rx = V21Rx::new();
        let mut c = Collect::default();
        let mut seed = 1u32;
        let junk: Vec<i16> = (0..40_000)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                match i / 10_000 {
                    0 => (seed >> 16) as i16,
                    1 => i16::MAX,
                    2 => {
                        if i % 2 == 0 {
                            i16::MIN
                        } else {
                            i16::MAX
                        }
                    }
                    _ => 0,
                }
            })
            .collect();
        rx.receive(&junk, &mut c);
        assert!(rx.quality().snr_db.is_finite());
        assert!(!rx.carrier_present());
    }
}
