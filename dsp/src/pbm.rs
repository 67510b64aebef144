//! netpbm PBM: raw (P4) and plain (P1) bilevel images, several images one after another.
//!
//! Written from the netpbm format description (`pbm(5)`): magic number, whitespace, width,
//! whitespace, height, one whitespace character, raster. P4 rows are packed 8 pels to a byte,
//! the first pel in the most significant bit, 1 = black — the layout of
//! [`crate::image::Page`]. P1 pels are ASCII `0`/`1`, whitespace between them optional.
//!
//! Reading rules, where the description leaves room:
//! - Whitespace is space, TAB, LF, VT, FF and CR (C `isspace`).
//! - A comment runs from `#` through the next LF or CR and counts as whitespace; it may stand
//!   anywhere before the raster, and also inside a P1 raster. A comment straight after the
//!   height delimits the raster by itself (the description says the comment's newline is not
//!   enough; the netpbm tools accept it, and there is no other sensible reading of such a
//!   file, since a further whitespace byte could not be told from raster data).
//! - Whitespace between images and after the last one is accepted; anything else after an
//!   image is an error (the description allows junk after a P1 raster; we do not, so damage is
//!   noticed).
//! - Pad bits at the end of P4 rows are cleared.
//!
//! Hostile input: sizes are parsed with overflow checks and nothing is allocated before the
//! file is known to hold the raster (P4: `stride × height` bytes; P1: at least
//! `width × height` bytes).

use crate::image::{Page, Resolution};

/// Why a PBM file could not be read. `image` fields are 0-based; messages count from 1.
#[derive(Debug, thiserror::Error)]
pub enum PbmError {
    #[error("no PBM image: the input is empty")]
    Empty,
    #[error("image {} (byte {offset}): not a PBM image: expected \"P1\" or \"P4\", found {found}", .image + 1)]
    BadMagic {
        image: usize,
        offset: usize,
        found: String,
    },
    #[error("image {} (byte {offset}): {kind} images are not supported, only PBM (P1 or P4)", .image + 1)]
    NotPbm {
        image: usize,
        offset: usize,
        kind: &'static str,
    },
    #[error("image {} (byte {offset}): expected {expected}, found {found}", .image + 1)]
    BadHeader {
        image: usize,
        offset: usize,
        expected: &'static str,
        found: String,
    },
    #[error("image {} (byte {offset}): the {what} does not fit in 32 bits", .image + 1)]
    TooLarge {
        image: usize,
        offset: usize,
        what: &'static str,
    },
    #[error("image {}: {width}x{height} pels; width and height must be at least 1", .image + 1)]
    ZeroSize {
        image: usize,
        width: u32,
        height: u32,
    },
    #[error("image {}: the raster starting at byte {offset} needs {needed} bytes, but only {available} are left", .image + 1)]
    Truncated {
        image: usize,
        offset: usize,
        needed: u64,
        available: u64,
    },
    #[error("image {}: the file ends at byte {offset} after {read} of {pels} pels", .image + 1)]
    PlainEnded {
        image: usize,
        offset: usize,
        read: u64,
        pels: u64,
    },
    #[error("image {} (byte {offset}): expected a pel ('0' or '1'), found {found}", .image + 1)]
    BadPel {
        image: usize,
        offset: usize,
        found: String,
    },
    #[error("after image {} (byte {offset}): expected another PBM image or the end of the file, found {found}", .image + 1)]
    TrailingGarbage {
        image: usize,
        offset: usize,
        found: String,
    },
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// How a byte (or the end) is shown in messages.
fn show(b: Option<&u8>) -> String {
    match b {
        None => "the end of the file".into(),
        Some(&b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(&b) => format!("byte 0x{b:02X}"),
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    image: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&u8> {
        self.data.get(self.pos)
    }

    fn left(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Skips a comment starting at `pos` (a `#`) through its LF or CR.
    fn skip_comment(&mut self) {
        while let Some(&b) = self.peek() {
            self.pos += 1;
            if b == b'\n' || b == b'\r' {
                break;
            }
        }
    }

    /// Skips whitespace and comments; returns whether anything was skipped.
    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while let Some(&b) = self.peek() {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'#' {
                self.skip_comment();
            } else {
                break;
            }
        }
        self.pos != start
    }

    /// Skips whitespace only (between images).
    fn skip_plain_space(&mut self) {
        while self.peek().is_some_and(|&b| is_space(b)) {
            self.pos += 1;
        }
    }

    fn bad_header(&self, expected: &'static str) -> PbmError {
        PbmError::BadHeader {
            image: self.image,
            offset: self.pos,
            expected,
            found: show(self.peek()),
        }
    }

    /// A decimal number after optional whitespace and comments.
    fn number(&mut self, what: &'static str, expected: &'static str) -> Result<u32, PbmError> {
        self.skip_space();
        let start = self.pos;
        let mut v: u32 = 0;
        while let Some(&b) = self.peek().filter(|b| b.is_ascii_digit()) {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(b - b'0')))
                .ok_or(PbmError::TooLarge {
                    image: self.image,
                    offset: start,
                    what,
                })?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.bad_header(expected));
        }
        Ok(v)
    }
}

/// Reads every image of a PBM file (P4 or P1, mixed as they come) as one page each, all with
/// `resolution` (PBM has none of its own).
pub fn read_pbm(data: &[u8], resolution: Resolution) -> Result<Vec<Page>, PbmError> {
    if data.is_empty() {
        return Err(PbmError::Empty);
    }
    let mut c = Cursor {
        data,
        pos: 0,
        image: 0,
    };
    let mut pages = Vec::new();
    loop {
        c.image = pages.len();
        if c.image > 0 {
            c.skip_plain_space();
            if c.peek().is_none() {
                return Ok(pages);
            }
        }
        pages.push(read_image(&mut c, resolution)?);
    }
}

fn read_image(c: &mut Cursor<'_>, resolution: Resolution) -> Result<Page, PbmError> {
    let image = c.image;
    let start = c.pos;
    let magic = c.data.get(start..).and_then(|d| d.get(..2));
    let plain = match magic {
        Some(b"P4") => false,
        Some(b"P1") => true,
        Some([b'P', k @ b'2'..=b'7']) => {
            return Err(PbmError::NotPbm {
                image,
                offset: start,
                kind: match k {
                    b'2' | b'5' => "PGM (greyscale)",
                    b'3' | b'6' => "PPM (colour)",
                    _ => "PAM",
                },
            });
        }
        _ if image > 0 => {
            return Err(PbmError::TrailingGarbage {
                image: image - 1,
                offset: start,
                found: show(c.peek()),
            });
        }
        _ => {
            let found = match c.data.get(start..).and_then(|d| d.get(..2)) {
                Some(m) if m.iter().all(u8::is_ascii_graphic) => {
                    format!("\"{}\"", String::from_utf8_lossy(m))
                }
                _ => show(c.peek()),
            };
            return Err(PbmError::BadMagic {
                image,
                offset: start,
                found,
            });
        }
    };
    c.pos = start + 2;

    let width = c.number("width", "the width (decimal digits)")?;
    if !c.skip_space() {
        return Err(c.bad_header("whitespace after the width"));
    }
    let height = c.number("height", "the height (decimal digits)")?;
    // One whitespace character (or a comment, see the module documentation) ends the header.
    match c.peek() {
        Some(&b) if is_space(b) => c.pos += 1,
        Some(b'#') => c.skip_comment(),
        _ => return Err(c.bad_header("whitespace after the height")),
    }
    if width == 0 || height == 0 {
        return Err(PbmError::ZeroSize {
            image,
            width,
            height,
        });
    }

    let stride = u64::from(width).div_ceil(8);
    let raster_at = c.pos;
    let available = c.left() as u64;
    let needed = if plain {
        u64::from(width) * u64::from(height)
    } else {
        stride * u64::from(height)
    };
    if needed > available {
        return Err(PbmError::Truncated {
            image,
            offset: raster_at,
            needed,
            available,
        });
    }
    // Now backed by bytes in the file (packed size ≤ pel count), so it fits a usize.
    let packed = usize::try_from(stride * u64::from(height)).unwrap_or(usize::MAX);

    let mut page = Page {
        width,
        height,
        resolution,
        data: Vec::new(),
        quality: None,
    };
    if plain {
        page.data = vec![0; packed];
        let stride = stride as usize;
        let pels = needed;
        let mut read = 0u64;
        for y in 0..height as usize {
            for x in 0..width as usize {
                c.skip_space();
                let black = match c.peek() {
                    Some(b'0') => false,
                    Some(b'1') => true,
                    None => {
                        return Err(PbmError::PlainEnded {
                            image,
                            offset: c.pos,
                            read,
                            pels,
                        });
                    }
                    other => {
                        return Err(PbmError::BadPel {
                            image,
                            offset: c.pos,
                            found: show(other),
                        });
                    }
                };
                c.pos += 1;
                read += 1;
                if black && let Some(byte) = page.data.get_mut(y * stride + x / 8) {
                    *byte |= 0x80 >> (x % 8);
                }
            }
        }
    } else {
        let end = raster_at.saturating_add(packed);
        page.data = c.data.get(raster_at..end).unwrap_or_default().to_vec();
        c.pos = end;
        page.clear_padding();
    }
    Ok(page)
}

/// Appends `pages` to `out` as raw PBM (P4) images, one after another, each with the header
/// `"P4\n{width} {height}\n"`. Pad bits are written as 0; a page whose `data` is shorter than
/// its size says is padded with white rows.
pub fn write_pbm(pages: &[Page], out: &mut Vec<u8>) {
    for page in pages {
        write_pbm_header(page, out);
        let stride = page.stride();
        let rem = page.width % 8;
        let mask = if rem == 0 { 0xFF } else { 0xFFu8 << (8 - rem) };
        for y in 0..page.height as usize {
            let start = y.saturating_mul(stride);
            let row = page
                .data
                .get(start..start.saturating_add(stride))
                .unwrap_or_default();
            let at = out.len();
            out.extend_from_slice(row);
            out.resize(at + stride, 0);
            if let Some(last) = out.last_mut().filter(|_| stride > 0) {
                *last &= mask;
            }
        }
    }
}

/// The P4 header of `page` (`P4\n{width} {height}\n`); the packed rows of a [`Page`] with
/// clear pad bits (as every decoder here leaves them) follow it unchanged.
pub fn write_pbm_header(page: &Page, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("P4\n{} {}\n", page.width, page.height).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const RES: Resolution = Resolution::FINE;

    /// The 10 × 3 picture used by several tests, as rows of pels.
    const PICTURE: [&str; 3] = ["1000000001", "0110011001", "1111111111"];

    fn picture_page() -> Page {
        let mut p = Page::new(10, 3, RES);
        for (y, row) in PICTURE.iter().enumerate() {
            for (x, ch) in row.bytes().enumerate() {
                if ch == b'1' {
                    p.row_mut(y as u32)[x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        p
    }

    /// The picture as raw PBM, by hand.
    const PICTURE_P4: &[u8] = b"P4\n10 3\n\x80\x40\x66\x40\xFF\xC0";

    #[test]
    fn p4_golden() {
        let pages = read_pbm(PICTURE_P4, RES).unwrap();
        assert_eq!(pages, vec![picture_page()]);
        let mut out = Vec::new();
        write_pbm(&pages, &mut out);
        assert_eq!(out, PICTURE_P4);
    }

    #[test]
    fn p1_golden_spaced_and_unseparated() {
        let spaced = b"P1\n# a picture\n10 3\n1 0 0 0 0 0 0 0 0 1\n0 1 1 0 0 1 1 0 0 1\n1 1 1 1 1 1 1 1 1 1\n";
        let dense = b"P1 10 3 100000000101100110011111111111";
        let odd = b"P1\t10\r\n3\x0b1000000001\x0c0110011001\n# comment in the raster\n1111111111";
        for f in [&spaced[..], &dense[..], &odd[..]] {
            assert_eq!(
                read_pbm(f, RES).unwrap(),
                vec![picture_page()],
                "{}",
                String::from_utf8_lossy(f)
            );
        }
    }

    #[test]
    fn header_comments_and_whitespace() {
        let f = b"P4 #c1\n#c2\r10#c3\n 3#c4\n\x80\x40\x66\x40\xFF\xC0";
        assert_eq!(read_pbm(f, RES).unwrap(), vec![picture_page()]);
        let f = b"P4\r\n10\t\t3\r\x80\x40\x66\x40\xFF\xC0";
        assert_eq!(read_pbm(f, RES).unwrap(), vec![picture_page()]);
        // The single whitespace after the height may be followed by raster bytes that look
        // like whitespace.
        let f = b"P4\n8 2\n\n ";
        let p = &read_pbm(f, RES).unwrap()[0];
        assert_eq!(p.data, b"\n ");
    }

    #[test]
    fn pad_bits_are_cleared() {
        let f = b"P4\n10 3\n\x80\x7F\x66\x5F\xFF\xFF";
        let p = &read_pbm(f, RES).unwrap()[0];
        assert_eq!(p, &picture_page());
        // And never written.
        let mut dirty = picture_page();
        dirty.data[1] |= 0x3F;
        let mut out = Vec::new();
        write_pbm(&[dirty], &mut out);
        assert_eq!(out, PICTURE_P4);
    }

    #[test]
    fn several_images() {
        let mut f = Vec::new();
        f.extend_from_slice(PICTURE_P4);
        f.extend_from_slice(b"P1\n2 2\n10\n01\n");
        f.extend_from_slice(PICTURE_P4); // right after the P1's newline
        f.extend_from_slice(b"P4\n1 1\n\x80"); // right after the raster, no separator
        f.extend_from_slice(b" \n\t\r\n"); // trailing whitespace
        let pages = read_pbm(&f, RES).unwrap();
        assert_eq!(pages.len(), 4);
        assert_eq!(pages[0], picture_page());
        assert_eq!((pages[1].width, pages[1].height), (2, 2));
        assert_eq!(pages[1].data, [0x80, 0x40]);
        assert_eq!(pages[2], picture_page());
        assert_eq!(pages[3].data, [0x80]);
        assert!(
            pages
                .iter()
                .all(|p| p.resolution == RES && p.quality.is_none())
        );
    }

    #[test]
    fn write_read_round_trip() {
        let mut pages = vec![picture_page()];
        for (w, h) in [(1, 1), (8, 4), (9, 2), (1728, 3), (17, 5)] {
            let mut p = Page::new(w, h, RES);
            for (i, b) in p.data.iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(37) ^ 0x5A;
            }
            p.clear_padding();
            pages.push(p);
        }
        let mut out = Vec::new();
        write_pbm(&pages, &mut out);
        assert!(out.starts_with(b"P4\n10 3\n"));
        assert_eq!(read_pbm(&out, RES).unwrap(), pages);
        // write_pbm appends.
        let mut twice = out.clone();
        write_pbm(&pages, &mut twice);
        assert_eq!(read_pbm(&twice, RES).unwrap().len(), 2 * pages.len());
        // A page with short data is padded with white.
        let short = Page {
            data: vec![0xFF],
            ..Page::new(8, 2, RES)
        };
        let mut out = Vec::new();
        write_pbm(&[short], &mut out);
        assert_eq!(out, b"P4\n8 2\n\xFF\x00");
    }

    #[test]
    fn truncated_at_every_length() {
        let p1 = b"P1\n# c\n10 3\n1 0 0 0 0 0 0 0 0 1\n0110011001\n1111111111";
        for file in [PICTURE_P4, &p1[..]] {
            for len in 0..file.len() {
                assert!(
                    read_pbm(&file[..len], RES).is_err(),
                    "prefix of {len} bytes read"
                );
            }
        }
        // Several images: a prefix either fails or holds a prefix of the images (it was cut
        // between two images).
        let mut f = Vec::new();
        write_pbm(
            &[picture_page(), Page::new(3, 2, RES), picture_page()],
            &mut f,
        );
        let all = read_pbm(&f, RES).unwrap();
        for len in 0..f.len() {
            if let Ok(pages) = read_pbm(&f[..len], RES) {
                assert!(pages.len() < all.len() && all.starts_with(&pages), "{len}");
            }
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = |f: &[u8]| read_pbm(f, RES).unwrap_err();
        assert!(matches!(err(b""), PbmError::Empty));
        let e = err(b"GIF89a");
        assert!(matches!(
            e,
            PbmError::BadMagic {
                image: 0,
                offset: 0,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "image 1 (byte 0): not a PBM image: expected \"P1\" or \"P4\", found \"GI\""
        );
        assert!(matches!(err(b" P4\n1 1\n\x00"), PbmError::BadMagic { .. }));
        assert!(matches!(
            err(b"P5\n1 1\n255\n\x00"),
            PbmError::NotPbm {
                kind: "PGM (greyscale)",
                ..
            }
        ));
        assert!(matches!(
            err(b"P4\nx 1\n"),
            PbmError::BadHeader {
                offset: 3,
                expected: "the width (decimal digits)",
                ..
            }
        ));
        assert!(matches!(err(b"P4\n-1 1\n"), PbmError::BadHeader { .. }));
        assert!(matches!(
            err(b"P4\n1x1\n"),
            PbmError::BadHeader {
                expected: "whitespace after the width",
                ..
            }
        ));
        assert!(matches!(
            err(b"P4\n1 1x"),
            PbmError::BadHeader {
                expected: "whitespace after the height",
                ..
            }
        ));
        assert!(matches!(
            err(b"P4\n1 1"),
            PbmError::BadHeader {
                expected: "whitespace after the height",
                ..
            }
        ));
        assert!(matches!(
            err(b"P4\n0 1\n"),
            PbmError::ZeroSize {
                width: 0,
                height: 1,
                ..
            }
        ));
        assert!(matches!(
            err(b"P1\n1 0\n"),
            PbmError::ZeroSize {
                width: 1,
                height: 0,
                ..
            }
        ));
        assert!(matches!(
            err(b"P4\n4294967296 1\n"),
            PbmError::TooLarge {
                what: "width",
                offset: 3,
                ..
            }
        ));
        assert!(matches!(
            err(b"P4\n1 99999999999999999999\n"),
            PbmError::TooLarge { what: "height", .. }
        ));
        // Huge but representable sizes: refused before allocating.
        let e = err(b"P4\n4294967295 4294967295\n\x00\x00");
        assert!(
            matches!(
                e,
                PbmError::Truncated {
                    offset: 25,
                    available: 2,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "image 1: the raster starting at byte 25 needs 2305843008676823040 bytes, but only 2 are left"
        );
        assert!(matches!(
            err(b"P1\n4294967295 4294967295\n0"),
            PbmError::Truncated { .. }
        ));
        // P1 with enough bytes but too few pels.
        let e = err(b"P1\n2 2\n1 0 1    ");
        assert!(
            matches!(
                e,
                PbmError::PlainEnded {
                    read: 3,
                    pels: 4,
                    offset: 16,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = err(b"P1\n2 1\n1 2");
        assert!(matches!(e, PbmError::BadPel { offset: 9, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "image 1 (byte 9): expected a pel ('0' or '1'), found '2'"
        );

        // Trailing garbage names the image it follows and the byte.
        let mut f = PICTURE_P4.to_vec();
        f.extend_from_slice(PICTURE_P4);
        f.extend_from_slice(b"\n\nxyz");
        let e = err(&f);
        assert!(
            matches!(
                e,
                PbmError::TrailingGarbage {
                    image: 1,
                    offset: 30,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "after image 2 (byte 30): expected another PBM image or the end of the file, found 'x'"
        );
        let mut f = PICTURE_P4.to_vec();
        f.push(0);
        assert!(matches!(
            err(&f),
            PbmError::TrailingGarbage {
                image: 0,
                offset: 14,
                ..
            }
        ));
        // A second image that is not PBM.
        let mut f = PICTURE_P4.to_vec();
        f.extend_from_slice(b"P6\n1 1\n255\n\0\0\0");
        assert!(matches!(
            err(&f),
            PbmError::NotPbm {
                image: 1,
                offset: 14,
                ..
            }
        ));
        // An error inside a later image names that image.
        let mut f = PICTURE_P4.to_vec();
        f.extend_from_slice(b"P4\n8 2\n\x00");
        assert!(matches!(
            err(&f),
            PbmError::Truncated {
                image: 1,
                offset: 21,
                needed: 2,
                available: 1
            }
        ));
    }
}
