//! Packed rows ↔ changing elements (T.4 §4.2.1.3.1).

/// Append to `out` the positions in `0..width` where the colour differs from the pel to its
/// left (the pel left of the first is white). Even entries are white→black changes.
pub fn changing_elements(row: &[u8], width: u32, out: &mut Vec<u32>) {
    for_each_change(row, width, |x| out.push(x));
}

/// Call `f` with each position in `0..width` where the colour differs from the pel to its
/// left (the pel left of the first is white), in order: 64 pels at a time, each change
/// found by a leading-zero count.
#[inline(always)]
pub(super) fn for_each_change(row: &[u8], width: u32, mut f: impl FnMut(u32)) {
    let nbytes = (width as usize).div_ceil(8);
    let row = &row[..nbytes.min(row.len())];
    let mut prev: u64 = 0; // colour of the pel before this word, in bit 63
    let mut base = 0u32;
    let full = (width as usize / 64) * 8; // bytes of words whose 64 pels are all inside
    let mut chunks = row[..full.min(row.len())].chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let mut x = w ^ ((w >> 1) | prev);
        while x != 0 {
            let lz = x.leading_zeros();
            f(base + lz);
            x &= !(1u64 << 63) >> lz;
        }
        prev = w << 63;
        base += 64;
    }
    let rest = &row[full.min(row.len())..];
    if !rest.is_empty() && base < width {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        let mut w = u64::from_be_bytes(b);
        let valid = width - base; // 1..=64 pels left
        if valid < 64 {
            w &= !(u64::MAX >> valid);
        }
        let mut x = w ^ ((w >> 1) | prev);
        while x != 0 {
            let lz = x.leading_zeros();
            if lz >= valid {
                break;
            }
            f(base + lz);
            x &= !(1u64 << 63) >> lz;
        }
    }
}

/// Paint a row from its changing elements: `row` must be zeroed; pels from each even entry
/// to the next odd entry (or `width`) become black.
pub fn fill_row(row: &mut [u8], changes: &[u32], width: u32) {
    let mut it = changes.chunks(2);
    for pair in &mut it {
        let s = pair[0].min(width) as usize;
        let e = pair.get(1).copied().unwrap_or(width).min(width) as usize;
        set_run(row, s, e);
    }
}

/// Paint a whole row from its changing elements, as the decoder does: every byte of `row`
/// is written (pad bits and any bytes past the row's `width.div_ceil(8)` cleared). The
/// changes may come in any order and repeat (a change given twice cancels: a zero-length
/// run); changes at or past `width` are ignored. Without a branch per change: each change
/// XORs the mask from it to the end of its 64-pel word (`u64::MAX >> (x % 64)`) into
/// `words`, then one pass over the words carries the colour from each word into the next,
/// stores them big-endian and clears them again. `words` is scratch of at least
/// `width.div_ceil(64)` entries, all zero (as this function leaves them).
pub(super) fn paint_changes(row: &mut [u8], changes: &[u32], width: u32, words: &mut [u64]) {
    let nbytes = (width as usize).div_ceil(8).min(row.len());
    let nwords = nbytes.div_ceil(8).min(words.len());
    let words = &mut words[..nwords];
    for &x in changes {
        // A change past the width lands in the pad bits (cleared below) or in no word.
        if let Some(w) = words.get_mut(x as usize / 64) {
            *w ^= u64::MAX >> (x % 64);
        }
    }
    let (row, after) = row.split_at_mut(nbytes);
    after.fill(0);
    let mut colour = 0u64; // all ones while black
    let full = (nbytes / 8).min(nwords);
    let (row_full, rest) = row.split_at_mut(full * 8);
    let (words_full, last) = words.split_at_mut(full);
    for i in 0..full {
        let v = words_full[i] ^ colour;
        words_full[i] = 0;
        colour = 0u64.wrapping_sub(v & 1);
        row_full[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    if let Some(w) = last.first_mut() {
        let v = *w ^ colour;
        *w = 0;
        let n = rest.len().min(8);
        rest[..n].copy_from_slice(&v.to_be_bytes()[..n]);
    }
    let rem = width % 8;
    if rem != 0
        && nbytes * 8 >= width as usize
        && let Some(last) = row.last_mut()
    {
        *last &= 0xFFu8 << (8 - rem);
    }
}

#[inline]
fn set_run(row: &mut [u8], s: usize, e: usize) {
    if s >= e {
        return;
    }
    let (sb, eb) = (s / 8, e / 8);
    let head = 0xFFu8 >> (s % 8);
    if sb == eb {
        row[sb] |= head & !(0xFFu8 >> (e % 8));
        return;
    }
    row[sb] |= head;
    row[sb + 1..eb].fill(0xFF);
    if !e.is_multiple_of(8) {
        row[eb] |= !(0xFFu8 >> (e % 8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow_changes(row: &[u8], width: u32) -> Vec<u32> {
        let mut v = Vec::new();
        let mut prev = false;
        for x in 0..width {
            let b = row[x as usize / 8] & (0x80 >> (x % 8)) != 0;
            if b != prev {
                v.push(x);
            }
            prev = b;
        }
        v
    }

    #[test]
    fn changes_and_fill_agree_with_a_pel_loop() {
        let mut seed = 0x1234_5678u32;
        for width in (1..200).chain([1728, 2048, 2432, 4864]) {
            for density in [0u32, 3, 50, 97, 100] {
                let n = (width as usize).div_ceil(8);
                let mut row = vec![0u8; n];
                for x in 0..width {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if (seed >> 16) % 100 < density {
                        row[x as usize / 8] |= 0x80 >> (x % 8);
                    }
                }
                let mut dirty = row.clone();
                if width % 8 != 0 {
                    dirty[n - 1] |= 0xFF >> (width % 8); // garbage pad bits are ignored
                }
                let mut got = Vec::new();
                changing_elements(&dirty, width, &mut got);
                assert_eq!(got, slow_changes(&row, width), "width {width}");
                let mut back = vec![0u8; n];
                fill_row(&mut back, &got, width);
                assert_eq!(back, row, "width {width}");
                let mut words = vec![0u64; (width as usize).div_ceil(64)];
                let mut xored = vec![0xA5u8; n]; // dirty output
                paint_changes(&mut xored, &got, width, &mut words);
                assert_eq!(xored, row, "width {width}");
                // Order does not matter, nor do changes past the width.
                let mut shuffled: Vec<u32> = got.iter().rev().copied().collect();
                shuffled.extend([width, width + 1, width + 64]);
                paint_changes(&mut xored, &shuffled, width, &mut words);
                assert_eq!(xored, row, "width {width}");
                // A zero-length run (a change given twice) changes nothing.
                if let Some(&x) = got.first() {
                    let mut twice = vec![x, x];
                    twice.extend_from_slice(&got);
                    paint_changes(&mut xored, &twice, width, &mut words);
                    assert_eq!(xored, row, "width {width}");
                }
            }
        }
    }
}
