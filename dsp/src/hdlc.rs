//! HDLC framing for T.30 (T.30 §5.3, ISO/IEC 13239): flags (0x7E), zero-bit insertion
//! after five ones, the 16-bit frame check sequence of ITU-T V.41/T.30 §5.3.7
//! (x¹⁶ + x¹² + x⁵ + 1, preset to ones, sent complemented, least significant bit first),
//! aborts (seven or more ones). Bits go and come least significant bit first, as the V.21
//! and image modems carry them.
//!
//! - [`HdlcTx`] queues flags and frames and is a [`GetBit`] source for a modem transmitter:
//!   it returns `None` once everything queued has been sent, so the modem can stop.
//! - [`HdlcRx`] takes bits from a receiver and reports frames whose FCS checks, frames that
//!   fail (bad FCS, too long, too short, not a whole number of octets — reported, never
//!   passed up as good), aborts, and the start of a flag sequence (T.30 uses flags to know a
//!   frame is coming).
//!
//! **Tested by:** unit tests here (round trips, stuffing edge cases, the CRC-16/X-25 check
//! value, corruption at every bit) and `tests/real_fax_audio.rs` (frames of a real call).

use std::collections::VecDeque;

use crate::modem::GetBit;

/// The flag octet.
pub const FLAG: u8 = 0x7E;

/// FCS residue: the CRC over a frame plus its FCS, when both are intact.
const GOOD_RESIDUE: u16 = 0xF0B8;

/// Longest T.30 control frame: address, control, FCF and up to 256 octets of FIF (the NSF
/// can be long), without FCS.
pub const MAX_T30_FRAME: usize = 3 + 256;
/// Longest ECM frame: address, control, FCD, frame number, 256 octets of data.
pub const MAX_ECM_FRAME: usize = 4 + 256;

static CRC_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x8408
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Continue the V.41 CRC (bit-reversed form, 0x8408) over `data`.
pub fn crc16_update(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc = (crc >> 8) ^ CRC_TABLE[((crc ^ b as u16) & 0xFF) as usize];
    }
    crc
}

/// The FCS of `frame` as sent: complemented CRC, low octet first.
pub fn fcs(frame: &[u8]) -> [u8; 2] {
    (!crc16_update(0xFFFF, frame)).to_le_bytes()
}

/// What cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HdlcError {
    #[error("frame of {len} octets is longer than the {max} allowed")]
    TooLong { len: usize, max: usize },
    #[error("empty frame")]
    Empty,
}

#[derive(Debug, Clone)]
enum Item {
    Flags(usize),
    Frame(Vec<u8>),
    Abort,
}

/// The transmitting side.
///
/// Each queued item is made into its line bits when the modem reaches it — a frame stuffed
/// octet by octet (an octet that cannot make five ones in a row with the ones before it
/// goes in whole) — and the modem takes them from that bit buffer.
#[derive(Debug, Clone)]
pub struct HdlcTx {
    queue: VecDeque<Item>,
    max_len: usize,
    /// Line bits made and not yet sent: bit `i` of the stream is bit `i % 64` of
    /// `words[i / 64]`; `read` and `written` count bits from the start of `words`.
    words: Vec<u64>,
    read: usize,
    written: usize,
    bits_sent: u64,
}

impl Default for HdlcTx {
    fn default() -> Self {
        Self::new(MAX_ECM_FRAME)
    }
}

/// Flags made into line bits at a time (a long preamble is made a piece at a time).
const FLAGS_AT_A_TIME: usize = 64;

/// Zero-bit insertion of one octet after `ones` (0–4) ones: `STUFFED[ones][octet]` holds the
/// line bits (the first in bit 0, at most 10) in bits 0–9, their count in bits 16–19 and
/// the ones they end with (0–4) in bits 24–26.
static STUFFED: [[u32; 256]; 5] = {
    let mut t = [[0u32; 256]; 5];
    let mut start = 0;
    while start < 5 {
        let mut o = 0;
        while o < 256 {
            let (mut bits, mut len, mut ones) = (0u32, 0u32, start as u32);
            let mut i = 0;
            while i < 8 {
                let bit = (o >> i) & 1;
                bits |= (bit as u32) << len;
                len += 1;
                ones = if bit != 0 { ones + 1 } else { 0 };
                if ones == 5 {
                    len += 1; // the stuffed zero
                    ones = 0;
                }
                i += 1;
            }
            t[start][o] = bits | len << 16 | ones << 24;
            o += 1;
        }
        start += 1;
    }
    t
};

impl HdlcTx {
    /// A transmitter that refuses frames longer than `max_len` octets (without FCS).
    pub fn new(max_len: usize) -> HdlcTx {
        HdlcTx {
            queue: VecDeque::new(),
            max_len,
            words: Vec::new(),
            read: 0,
            written: 0,
            bits_sent: 0,
        }
    }

    /// Queue `n` flags (T.30 §5.3.1: the first frame after a carrier starts is preceded by
    /// 1 s ± 15 % of flags; see [`flags_for`]).
    pub fn send_flags(&mut self, n: usize) {
        if n > 0 {
            self.queue.push_back(Item::Flags(n));
        }
    }

    /// Queue a frame (the FCS is appended here), followed by a closing flag.
    pub fn send_frame(&mut self, frame: &[u8]) -> Result<(), HdlcError> {
        if frame.is_empty() {
            return Err(HdlcError::Empty);
        }
        if frame.len() > self.max_len {
            return Err(HdlcError::TooLong {
                len: frame.len(),
                max: self.max_len,
            });
        }
        self.queue.push_back(Item::Frame(frame.to_vec()));
        Ok(())
    }

    /// Queue an abort (eight ones) after what is queued.
    pub fn abort(&mut self) {
        self.queue.push_back(Item::Abort);
    }

    /// Nothing left to send.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.read == self.written
    }

    /// Bits produced so far.
    pub fn bits_sent(&self) -> u64 {
        self.bits_sent
    }

    /// Append the `k` ≤ 57 low bits of `w` (the first in bit 0, none above) to the line
    /// bits.
    #[inline]
    fn put(&mut self, w: u64, k: u32) {
        let (at, off) = (self.written / 64, (self.written % 64) as u32);
        if off == 0 {
            self.words.push(w);
        } else {
            self.words[at] |= w << off;
            if off + k > 64 {
                self.words.push(w >> (64 - off));
            }
        }
        self.written += k as usize;
    }

    /// Make the next queued item into line bits; false when the queue is empty.
    fn refill(&mut self) -> bool {
        if self.read == self.written {
            self.words.clear();
            self.read = 0;
            self.written = 0;
        }
        match self.queue.pop_front() {
            None => false,
            Some(Item::Flags(n)) => {
                let now = n.min(FLAGS_AT_A_TIME);
                if n > now {
                    self.queue.push_front(Item::Flags(n - now));
                }
                for _ in 0..now {
                    self.put(FLAG as u64, 8);
                }
                true
            }
            Some(Item::Abort) => {
                self.put(0xFF, 8);
                true
            }
            Some(Item::Frame(f)) => {
                let fcs = fcs(&f);
                // Zero-bit insertion octet by octet (a zero after every five ones, also
                // after the FCS's last bits before the closing flag), the line bits
                // gathered in `acc` and put 32 at a time.
                let (mut acc, mut k, mut ones) = (0u64, 0u32, 0usize);
                for &b in f.iter().chain(&fcs) {
                    let e = STUFFED[ones][b as usize];
                    acc |= ((e & 0x3FF) as u64) << k;
                    k += (e >> 16) & 0xF;
                    ones = (e >> 24) as usize;
                    if k >= 32 {
                        self.put(acc & 0xFFFF_FFFF, 32);
                        acc >>= 32;
                        k -= 32;
                    }
                }
                self.put(acc | (FLAG as u64) << k, k + 8);
                true
            }
        }
    }

    /// The next `n` ≤ 32 line bits made, the first in bit 0 (fewer if fewer are made).
    #[inline]
    fn take(&mut self, n: u32) -> (u32, u32) {
        let k = n.min((self.written - self.read) as u32);
        let (at, off) = (self.read / 64, (self.read % 64) as u32);
        let mut v = self.words[at] >> off;
        if off + k > 64 {
            v |= self.words[at + 1] << (64 - off);
        }
        self.read += k as usize;
        self.bits_sent += k as u64;
        ((v & ((1u64 << k) - 1)) as u32, k)
    }
}

impl GetBit for HdlcTx {
    fn get_bit(&mut self) -> Option<bool> {
        if self.read == self.written && !self.refill() {
            return None;
        }
        Some(self.take(1).0 != 0)
    }

    /// [`HdlcTx::get_bit`] `n` times, from the bit buffer a word at a time.
    #[inline]
    fn get_bits(&mut self, n: u32) -> (u32, u32) {
        let n = n.min(32);
        if self.written - self.read >= n as usize {
            return self.take(n);
        }
        let (mut w, mut i) = (0u32, 0u32);
        while i < n {
            if self.read == self.written && !self.refill() {
                break;
            }
            let (v, k) = self.take(n - i);
            w |= v << i;
            i += k;
        }
        (w, i)
    }
}

/// How many flags fill `ms` milliseconds at `bit_rate` (rounded up).
pub fn flags_for(ms: u32, bit_rate: u32) -> usize {
    ((ms as u64 * bit_rate as u64).div_ceil(8000)) as usize
}

/// Why a received frame was thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFrame {
    /// The FCS did not check.
    BadFcs,
    /// Longer than the receiver's limit.
    TooLong,
    /// Fewer than two octets besides the FCS.
    TooShort,
    /// Not a whole number of octets between the flags.
    NotOctets,
}

/// What the receiver found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HdlcEvent {
    /// The first flag of a run of flags after something else (or after start).
    FlagsStart,
    /// A frame whose FCS checks, without its FCS.
    Frame(Vec<u8>),
    /// A frame that failed, with its length in octets (FCS included) as far as it went.
    Bad { reason: BadFrame, len: usize },
    /// Seven or more ones.
    Abort,
}

/// The receiving side.
#[derive(Debug, Clone)]
pub struct HdlcRx {
    max_len: usize,
    /// Consecutive ones seen.
    ones: u32,
    /// Destuffed bits of the frame being collected: whole octets in `buf`, the
    /// `nbits % 8` bits after them in the low bits of `acc`, the newest lowest.
    buf: Vec<u8>,
    acc: u64,
    nbits: u32,
    /// Between an opening flag and the next flag.
    in_frame: bool,
    overflow: bool,
    /// Flags seen since the last frame or non-flag bits.
    flag_run: u32,
    /// Counts for diagnostics.
    pub frames_good: u64,
    pub frames_bad: u64,
}

impl Default for HdlcRx {
    fn default() -> Self {
        Self::new(MAX_ECM_FRAME)
    }
}

/// Each octet with its bits in the opposite order.
static REVERSED: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).reverse_bits();
        i += 1;
    }
    t
};

impl HdlcRx {
    /// A receiver that rejects frames longer than `max_len` octets (without FCS).
    pub fn new(max_len: usize) -> HdlcRx {
        HdlcRx {
            max_len,
            ones: 0,
            buf: Vec::with_capacity(max_len + 2),
            acc: 0,
            nbits: 0,
            in_frame: false,
            overflow: false,
            flag_run: 0,
            frames_good: 0,
            frames_bad: 0,
        }
    }

    /// Forget any partial frame (e.g. at carrier loss).
    pub fn reset(&mut self) {
        let (g, b) = (self.frames_good, self.frames_bad);
        *self = HdlcRx::new(self.max_len);
        self.frames_good = g;
        self.frames_bad = b;
    }

    /// Take one received bit; returns what it completed, if anything.
    pub fn put_bit(&mut self, bit: bool) -> Option<HdlcEvent> {
        if bit {
            self.ones += 1;
            if self.ones == 7 {
                // Abort (or idle ones): drop any frame in progress.
                let was = self.in_frame;
                self.in_frame = false;
                self.flag_run = 0;
                return was.then_some(HdlcEvent::Abort);
            }
            if self.ones > 7 {
                return None;
            }
            return self.data_bit(true);
        }
        // A zero.
        let ones = self.ones;
        self.ones = 0;
        if ones == 6 {
            // 0111111 0 … the zero ends a flag (its last bit); the bits before it that went
            // into the frame buffer were the flag's first seven.
            return self.flag();
        }
        if ones == 5 {
            // A stuffed zero: drop it.
            return None;
        }
        if ones == 7 {
            return None;
        }
        self.data_bit(false)
    }

    /// Take the `n` ≤ 32 low bits of `bits` in line order, the first one highest (bit
    /// n−1), as a modem receiver hands over a symbol's bits; `event` gets what they
    /// completed. The same as `n` calls of [`HdlcRx::put_bit`]: bits with no run of six
    /// ones in them (with the ones before them) are data and stuffed zeros — the zeros
    /// after five ones are taken out and the rest go into the frame at once; the others
    /// (a flag or an abort among them) go a bit at a time.
    #[inline]
    pub fn put_bits(&mut self, bits: u32, n: u32, mut event: impl FnMut(HdlcEvent)) {
        let n = n.min(32);
        let w = bits as u64 & ((1u64 << n) - 1);
        if self.ones <= 5 {
            // The ones before these bits, above them.
            let x = w | (((1u64 << self.ones) - 1) << n);
            let five = x & (x >> 1) & (x >> 2) & (x >> 3) & (x >> 4);
            if five & (x >> 5) == 0 {
                // No flag or abort: the zeros right after five ones are stuffed.
                let mut stuffed = five >> 1 & !x & ((1u64 << n) - 1);
                let t = w.trailing_ones();
                let (mut d, mut m) = (w, n);
                // Each stuffed zero out, the last first (the bits above it move down).
                while stuffed != 0 {
                    let p = 63 - stuffed.leading_zeros();
                    d = (d >> (p + 1) << p) | (d & ((1u64 << p) - 1));
                    m -= 1;
                    stuffed &= !(1u64 << p);
                }
                let total = (self.nbits & 7) + m;
                let room = self.buf.len() + (total / 8) as usize <= self.max_len + 2;
                if room || !self.in_frame || self.overflow {
                    self.ones = if t >= n { self.ones + n } else { t };
                    if self.in_frame && !self.overflow {
                        self.acc = (self.acc << m) | d;
                        for k in (0..total / 8).rev() {
                            self.buf
                                .push(REVERSED[(self.acc >> (8 * k + total % 8)) as u8 as usize]);
                        }
                        self.acc &= (1 << (total % 8)) - 1;
                        self.nbits += m;
                    }
                    return;
                }
            }
        }
        for i in (0..n).rev() {
            if let Some(e) = self.put_bit(w >> i & 1 != 0) {
                event(e);
            }
        }
    }

    fn data_bit(&mut self, bit: bool) -> Option<HdlcEvent> {
        if !self.in_frame {
            return None;
        }
        if self.overflow {
            return None;
        }
        self.acc = (self.acc << 1) | bit as u64;
        self.nbits += 1;
        if self.nbits.is_multiple_of(8) {
            if self.buf.len() >= self.max_len + 2 {
                self.overflow = true;
                return None;
            }
            self.buf.push(REVERSED[self.acc as u8 as usize]);
            self.acc = 0;
        }
        None
    }

    fn flag(&mut self) -> Option<HdlcEvent> {
        // The flag's first seven bits (0111111) were counted as data bits: remove them.
        let mut ev = None;
        if self.in_frame {
            let data_bits = self.nbits.saturating_sub(7);
            let len = (data_bits / 8) as usize;
            if data_bits > 0 {
                ev = Some(self.finish(data_bits, len));
            }
        }
        if ev.is_none() && (self.flag_run == 0 || !self.in_frame) {
            self.flag_run += 1;
            if self.flag_run == 1 {
                ev = Some(HdlcEvent::FlagsStart);
            }
        } else if ev.is_some() {
            self.flag_run = 1;
        }
        self.in_frame = true;
        self.overflow = false;
        self.buf.clear();
        self.acc = 0;
        self.nbits = 0;
        ev
    }

    fn finish(&mut self, data_bits: u32, len: usize) -> HdlcEvent {
        let bad = |s: &mut Self, reason| {
            s.frames_bad += 1;
            HdlcEvent::Bad { reason, len }
        };
        if self.overflow {
            return bad(self, BadFrame::TooLong);
        }
        if !data_bits.is_multiple_of(8) {
            return bad(self, BadFrame::NotOctets);
        }
        let frame = &self.buf[..len.min(self.buf.len())];
        if frame.len() < 4 {
            return bad(self, BadFrame::TooShort);
        }
        if frame.len() > self.max_len + 2 {
            return bad(self, BadFrame::TooLong);
        }
        if crc16_update(0xFFFF, frame) != GOOD_RESIDUE {
            return bad(self, BadFrame::BadFcs);
        }
        self.frames_good += 1;
        HdlcEvent::Frame(frame[..frame.len() - 2].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(tx: &mut HdlcTx) -> Vec<bool> {
        std::iter::from_fn(|| tx.get_bit()).collect()
    }

    fn frames_of(bits: &[bool], max: usize) -> Vec<HdlcEvent> {
        let mut rx = HdlcRx::new(max);
        bits.iter().filter_map(|&b| rx.put_bit(b)).collect()
    }

    fn good(ev: &[HdlcEvent]) -> Vec<Vec<u8>> {
        ev.iter()
            .filter_map(|e| {
                if let HdlcEvent::Frame(f) = e {
                    Some(f.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    #[test]
    fn words_are_its_bits() {
        // Frames of every kind of content (runs of ones that need stuffing, five ones at the
        // end before the FCS), flags, an abort, taken a bit at a time and in words of 1..=17.
        let fill = |tx: &mut HdlcTx| {
            tx.send_flags(150); // more than are made into bits at a time
            tx.send_frame(&[0xFF, 0x1F, 0xF8, 0x7E, 0x00, 0xFF])
                .unwrap();
            tx.send_frame(&[0x3E; 40]).unwrap();
            tx.send_flags(2);
            tx.abort();
            let mut seed = 9u32;
            let random: Vec<u8> = (0..250)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let b = (seed >> 16) as u8;
                    if seed & 0x8000_0000 != 0 { b | 0xF8 } else { b }
                })
                .collect();
            tx.send_frame(&random).unwrap();
            tx.send_frame(&[0x1F]).unwrap();
        };
        let mut a = HdlcTx::new(MAX_ECM_FRAME);
        fill(&mut a);
        let want = bits_of(&mut a);
        // The bits as T.30 §5.3 / ISO/IEC 13239 spell them, made here bit by bit: flags,
        // each frame with its FCS and a zero after every five ones, a closing flag, and an
        // abort's eight ones.
        let mut spec = Vec::new();
        let octet = |v: &mut Vec<bool>, o: u8| v.extend((0..8).map(|i| o >> i & 1 != 0));
        let frame = |v: &mut Vec<bool>, f: &[u8]| {
            let mut all = f.to_vec();
            all.extend_from_slice(&fcs(f));
            let mut ones = 0;
            for o in all {
                for i in 0..8 {
                    let b = o >> i & 1 != 0;
                    v.push(b);
                    ones = if b { ones + 1 } else { 0 };
                    if ones == 5 {
                        v.push(false);
                        ones = 0;
                    }
                }
            }
            octet(v, FLAG);
        };
        let mut r = HdlcTx::new(MAX_ECM_FRAME);
        fill(&mut r);
        for item in r.queue.iter() {
            match item {
                Item::Flags(n) => (0..*n).for_each(|_| octet(&mut spec, FLAG)),
                Item::Frame(f) => frame(&mut spec, f),
                Item::Abort => octet(&mut spec, 0xFF),
            }
        }
        assert_eq!(want, spec);
        for step in 1..=17u32 {
            let mut b = HdlcTx::new(MAX_ECM_FRAME);
            fill(&mut b);
            let mut got = Vec::new();
            loop {
                let (w, k) = b.get_bits(step);
                got.extend((0..k).map(|i| w >> i & 1 != 0));
                assert_eq!(w >> k, 0, "bits above the count");
                if k < step {
                    break;
                }
            }
            assert_eq!(got, want, "words of {step}");
            assert_eq!(b.bits_sent(), a.bits_sent());
            assert_eq!(b.get_bits(step), (0, 0));
        }
    }

    #[test]
    fn words_in_are_its_bits() {
        // A receiver given words of 0..=32 bits (the first highest) finds what one given the
        // same bits one at a time finds: frames good and bad (stuffing everywhere, a frame
        // longer than the limit), flags, aborts, idle ones, noise.
        let mut tx = HdlcTx::new(MAX_ECM_FRAME);
        tx.send_flags(5);
        tx.send_frame(&[0xFF, 0x1F, 0xF8, 0x7E, 0x00, 0xFF])
            .unwrap();
        tx.send_frame(&[0x3E; 40]).unwrap();
        tx.send_frame(&[0x55; 80]).unwrap(); // too long for the receiver below
        tx.send_flags(2);
        tx.abort();
        let mut seed = 5u32;
        let mut rand = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            seed >> 16
        };
        for len in [2usize, 3, 30, 64] {
            let f: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
            tx.send_frame(&f).unwrap();
        }
        tx.send_flags(3);
        let mut bits = bits_of(&mut tx);
        bits.extend(std::iter::repeat_n(true, 40));
        bits.extend((0..3000).map(|_| rand() & 1 != 0));
        let mut tx = HdlcTx::new(MAX_ECM_FRAME);
        tx.send_flags(2);
        tx.send_frame(&[0xFF; 64]).unwrap();
        bits.extend(bits_of(&mut tx));
        let want = frames_of(&bits, 64);
        assert!(good(&want).len() >= 6, "{want:?}");
        for step in 0..=32u32 {
            let mut rx = HdlcRx::new(64);
            let mut got = Vec::new();
            let mut at = 0;
            let mut k = step;
            while at < bits.len() {
                // Steps of `step`, or of every size in turn for step 0.
                k = if step == 0 { (k + 1) % 33 } else { step };
                let k = k.min((bits.len() - at) as u32);
                let w = bits[at..at + k as usize]
                    .iter()
                    .fold(0u32, |w, &b| (w << 1) | b as u32);
                rx.put_bits(w | (!0u32).checked_shl(k).unwrap_or(0), k, |e| got.push(e));
                at += k as usize;
            }
            assert_eq!(got, want, "words of {step}");
        }
    }

    #[test]
    fn crc_check_value() {
        // CRC-16/X-25 of "123456789" is 0x906E (the complemented register).
        assert_eq!(!crc16_update(0xFFFF, b"123456789"), 0x906E);
        let mut f = b"123456789".to_vec();
        f.extend_from_slice(&fcs(b"123456789"));
        assert_eq!(crc16_update(0xFFFF, &f), GOOD_RESIDUE);
    }

    #[test]
    fn round_trip_frames_and_stuffing() {
        let mut seed = 3u32;
        let mut frames = vec![
            vec![0xFF, 0x13, 0x80, 0x00, 0xCE, 0x88, 0x80, 0x80, 0x11], // a DIS
            vec![0xFF; 40],
            vec![0x7E; 33],
            vec![0x3F, 0x7C, 0x1F, 0xF8],
            vec![0xFF, 0x03],
        ];
        for len in [2usize, 3, 17, 64, 256, 260] {
            frames.push(
                (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (seed >> 16) as u8
                    })
                    .collect(),
            );
        }
        let mut tx = HdlcTx::new(MAX_ECM_FRAME);
        tx.send_flags(flags_for(1000, 300));
        for f in &frames {
            tx.send_frame(f).unwrap();
        }
        tx.send_flags(2);
        let bits = bits_of(&mut tx);
        assert!(tx.is_idle());
        // No six ones in a row except inside flags.
        let ev = frames_of(&bits, MAX_ECM_FRAME);
        assert_eq!(good(&ev), frames);
        assert_eq!(ev[0], HdlcEvent::FlagsStart);
        assert!(
            !ev.iter().any(|e| matches!(e, HdlcEvent::Bad { .. })),
            "{ev:?}"
        );
        assert_eq!(tx.bits_sent(), bits.len() as u64);
    }

    /// Found by fuzzing: a frame whose FCS ends in five ones needs its stuffed zero before
    /// the closing flag.
    #[test]
    fn stuffing_at_the_end_of_the_fcs() {
        let mut n = 0;
        for len in 2..40usize {
            for seed in 0..64u8 {
                let frame: Vec<u8> = (0..len)
                    .map(|i| (i as u8).wrapping_mul(37) ^ seed)
                    .collect();
                let f = fcs(&frame);
                if f[1] >> 3 != 0x1F {
                    continue; // want FCS ending in five ones
                }
                n += 1;
                let mut tx = HdlcTx::default();
                tx.send_flags(1);
                tx.send_frame(&frame).unwrap();
                assert_eq!(
                    good(&frames_of(&bits_of(&mut tx), MAX_ECM_FRAME)),
                    vec![frame]
                );
            }
        }
        assert!(n > 10);
    }

    #[test]
    fn limits_and_errors() {
        let mut tx = HdlcTx::new(10);
        assert_eq!(
            tx.send_frame(&[0; 11]),
            Err(HdlcError::TooLong { len: 11, max: 10 })
        );
        assert_eq!(tx.send_frame(&[]), Err(HdlcError::Empty));
        // A receiver with a lower limit reports the long frame, then takes the next one.
        let mut tx = HdlcTx::new(300);
        tx.send_flags(3);
        tx.send_frame(&[0x55; 300]).unwrap();
        tx.send_frame(&[1, 2, 3]).unwrap();
        let ev = frames_of(&bits_of(&mut tx), 64);
        assert!(
            ev.contains(&HdlcEvent::Bad {
                reason: BadFrame::TooLong,
                len: 38
            }) || ev.iter().any(|e| matches!(
                e,
                HdlcEvent::Bad {
                    reason: BadFrame::TooLong,
                    ..
                }
            )),
            "{ev:?}"
        );
        assert_eq!(good(&ev), vec![vec![1, 2, 3]]);
    }

    #[test]
    fn every_single_bit_error_is_caught() {
        let frame = [0xFFu8, 0x13, 0x83, 0x00, 0x86, 0x88, 0x80, 0x80, 0x00];
        let mut tx = HdlcTx::default();
        tx.send_flags(2);
        tx.send_frame(&frame).unwrap();
        tx.send_flags(2);
        let bits = bits_of(&mut tx);
        for i in 16..bits.len() - 16 {
            let mut b = bits.clone();
            b[i] = !b[i];
            // The damaged frame never comes through as good.
            let ev = frames_of(&b, MAX_T30_FRAME);
            assert!(good(&ev).is_empty(), "bit {i}: {ev:?}");
        }
    }

    #[test]
    fn abort_drops_the_frame() {
        let mut tx = HdlcTx::default();
        tx.send_flags(2);
        tx.send_frame(&[9; 20]).unwrap();
        let mut bits = bits_of(&mut tx);
        bits.truncate(16 + 80); // part of the frame
        bits.extend(std::iter::repeat_n(true, 10));
        let mut tx2 = HdlcTx::default();
        tx2.send_flags(2);
        tx2.send_frame(&[7; 5]).unwrap();
        bits.extend(bits_of(&mut tx2));
        let ev = frames_of(&bits, MAX_T30_FRAME);
        assert!(ev.contains(&HdlcEvent::Abort), "{ev:?}");
        assert_eq!(good(&ev), vec![vec![7; 5]]);
    }

    #[test]
    fn garbage_never_panics() {
        let mut rx = HdlcRx::new(MAX_T30_FRAME);
        let mut seed = 9u32;
        for i in 0..200_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = if i % 50_000 < 20_000 {
                seed >> 16 & 1 != 0
            } else {
                seed >> 31 != 0 || i % 7 == 0
            };
            let _ = rx.put_bit(b);
        }
        assert_eq!(rx.frames_good, 0);
    }
}
