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

/// Paint a whole row (every byte of `row` is written; pad bits cleared) from its changing
/// elements, in nondecreasing order as the decoders produce them, 64 pels at a time: each
/// change inside a word flips the pels from it to the word's end (one XOR of a mask), and
/// the colour is carried between words; the words between changes are filled with the carried
/// colour. Duplicate changes (zero-length runs) cancel, as they should; changes at or past
/// `width` (or out of order) are ignored.
pub fn paint_row(row: &mut [u8], changes: &[u32], width: u32) {
    let width = width.min(row.len() as u32 * 8);
    let mut colour = 0u64; // all ones while black
    let mut done = 0usize; // bytes written
    let mut i = 0;
    while let Some(&x) = changes.get(i)
        && x < width
    {
        let start = x & !63;
        let end = start.saturating_add(64);
        let at = start as usize / 8;
        if at < done {
            i += 1; // out of order
            continue;
        }
        // Whole words without changes (`done` and `at` are both word starts here).
        for gap in row[done..at].chunks_exact_mut(8) {
            gap.copy_from_slice(&colour.to_ne_bytes());
        }
        let mut t = 0u64;
        while let Some(&x) = changes.get(i)
            && x < end
            && x < width
        {
            t ^= u64::MAX >> (x.wrapping_sub(start) & 63);
            i += 1;
        }
        let w = colour ^ t;
        colour = 0u64.wrapping_sub(w & 1);
        let n = (row.len() - at).min(8);
        if n == 8 {
            row[at..at + 8].copy_from_slice(&w.to_be_bytes());
        } else {
            row[at..at + n].copy_from_slice(&w.to_be_bytes()[..n]);
        }
        done = at + n;
    }
    row[done..].fill(colour as u8);
    let rem = width % 8;
    if rem != 0
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
                let mut painted = vec![0xA5u8; n]; // dirty output
                paint_row(&mut painted, &got, width);
                assert_eq!(painted, row, "width {width}");
                // A zero-length run (a change given twice) changes nothing.
                if let Some(&x) = got.first() {
                    let mut twice = vec![x, x];
                    twice.extend_from_slice(&got);
                    paint_row(&mut painted, &twice, width);
                    assert_eq!(painted, row, "width {width}");
                }
            }
        }
    }
}
