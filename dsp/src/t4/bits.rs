//! Bit-level I/O, most significant bit first. Input in LSB-first order is reversed byte by
//! byte as it enters the decoder, so the hot loops only know one order.

/// Appends codes MSB-first to a byte vector, keeping the last partial word in hand (fewer
/// than 32 bits between calls, so a code of up to 32 bits always fits the register).
#[derive(Debug, Default, Clone)]
pub struct BitWriter {
    acc: u64,
    n: u32,
    /// Bits moved to the output so far (a multiple of 8).
    flushed: u64,
}

impl BitWriter {
    /// Append the low `len` bits of `code` (len ≤ 32).
    #[inline(always)]
    pub fn put(&mut self, out: &mut Vec<u8>, code: u32, len: u32) {
        debug_assert!(len <= 32 && (len == 32 || code >> len == 0) && self.n < 32);
        self.acc = (self.acc << len) | code as u64;
        self.n += len;
        if self.n >= 32 {
            self.n -= 32;
            out.extend_from_slice(&((self.acc >> self.n) as u32).to_be_bytes());
            self.flushed += 32;
        }
    }

    /// Append `count` zero bits.
    pub fn zeros(&mut self, out: &mut Vec<u8>, mut count: u64) {
        while count > 0 {
            let k = count.min(32) as u32;
            self.put(out, 0, k);
            count -= k as u64;
        }
    }

    fn drain(&mut self, out: &mut Vec<u8>) {
        while self.n >= 8 {
            self.n -= 8;
            out.push((self.acc >> self.n) as u8);
            self.flushed += 8;
        }
    }

    /// Total bits written.
    pub fn bits(&self) -> u64 {
        self.flushed + self.n as u64
    }

    /// Move every complete byte to `out` (the partial byte stays).
    pub fn flush_bytes(&mut self, out: &mut Vec<u8>) {
        self.drain(out);
    }

    /// Pad with zeros to a byte boundary and move everything to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let pad = (8 - self.n % 8) % 8;
        self.put(out, 0, pad);
        self.drain(out);
    }
}

/// The next 32 bits of `buf` starting at bit `pos`, zero past its end.
#[inline(always)]
pub fn peek32(buf: &[u8], pos: usize) -> u32 {
    let i = pos >> 3;
    let w = match buf.get(i..i + 8) {
        Some(s) => u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => slow_load(buf, i),
    };
    ((w << (pos & 7)) >> 32) as u32
}

#[cold]
fn slow_load(buf: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(rest) = buf.get(i..) {
        let n = rest.len().min(8);
        b[..n].copy_from_slice(&rest[..n]);
    }
    u64::from_be_bytes(b)
}

/// A bit reader that keeps up to 63 bits in a register, so that decoding one code is a
/// shift and a table lookup, and memory is touched once per refill (F. Giesen's "variant
/// 4" refill: whole bytes are accounted for, the bits past them are the same data bits
/// again, so OR-ing them twice is harmless). Past the end of the data it reads zeros, and
/// [`BitReader::pos`] keeps counting, so callers detect overruns by position.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    buf: &'a [u8],
    /// The next byte not yet accounted for in `acc`.
    ptr: usize,
    /// Unconsumed bits, left-aligned.
    acc: u64,
    /// How many bits of `acc` are valid.
    cnt: u32,
}

impl<'a> BitReader<'a> {
    /// A reader at bit `pos` of `buf`.
    #[inline(always)]
    pub fn new(buf: &'a [u8], pos: usize) -> BitReader<'a> {
        let mut r = BitReader {
            buf,
            ptr: pos >> 3,
            acc: 0,
            cnt: 0,
        };
        r.refill();
        r.consume((pos & 7) as u32);
        r
    }

    /// Make at least 56 bits available.
    #[inline(always)]
    pub fn refill(&mut self) {
        let w = match self.buf.get(self.ptr..self.ptr + 8) {
            Some(s) => u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
            None => slow_load(self.buf, self.ptr),
        };
        self.acc |= w >> self.cnt;
        self.ptr += ((63 - self.cnt) >> 3) as usize;
        self.cnt |= 56;
    }

    /// Refill if fewer than `n` bits are available.
    #[inline(always)]
    pub fn want(&mut self, n: u32) {
        if self.cnt < n {
            self.refill();
        }
    }

    /// The next 32 bits (valid as far as [`BitReader::want`] asked).
    #[inline(always)]
    pub fn peek32(&self) -> u32 {
        (self.acc >> 32) as u32
    }

    /// Drop `n` bits (n ≤ the bits available).
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.cnt -= n;
    }

    /// The bit position in `buf`.
    #[inline(always)]
    pub fn pos(&self) -> usize {
        self.ptr * 8 - self.cnt as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_packs_msb_first() {
        let mut w = BitWriter::default();
        let mut out = Vec::new();
        w.put(&mut out, 0b1, 1);
        w.put(&mut out, 0b0000011, 7);
        w.put(&mut out, 0xABC, 12);
        w.finish(&mut out);
        assert_eq!(out, vec![0b1000_0011, 0xAB, 0xC0]);
        assert_eq!(w.bits(), 24);
    }

    #[test]
    fn writer_long_streams() {
        let mut w = BitWriter::default();
        let mut out = Vec::new();
        for i in 0..1000u32 {
            w.put(&mut out, i & 0x1FFF, 13);
        }
        w.finish(&mut out);
        for i in 0..1000usize {
            assert_eq!(peek32(&out, i * 13) >> 19, i as u32 & 0x1FFF);
        }
    }

    #[test]
    fn reader_agrees_with_peek32() {
        let mut seed = 5u32;
        let buf: Vec<u8> = (0..300)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        for start in [0usize, 1, 7, 8, 13, 2390] {
            let mut r = BitReader::new(&buf, start);
            let mut pos = start;
            let mut step = 1u32;
            while pos < buf.len() * 8 + 40 {
                r.want(32);
                assert_eq!(r.pos(), pos);
                assert_eq!(r.peek32(), peek32(&buf, pos), "pos {pos}");
                let n = step % 14;
                r.consume(n);
                pos += n as usize;
                step = step * 7 + 3;
            }
        }
    }

    #[test]
    fn peek_past_end_is_zero() {
        let buf = [0xFFu8, 0x80];
        assert_eq!(peek32(&buf, 0), 0xFF80_0000);
        assert_eq!(peek32(&buf, 9), 0);
        assert_eq!(peek32(&buf, 1000), 0);
    }
}
