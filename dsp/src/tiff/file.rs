//! Reading a TIFF file from disk without holding its strips in memory: [`read_structure`]
//! loads the bytes [`parse`](super::parse) looks at (header, IFDs and their out-of-line
//! values) into an image of the file whose other bytes stay zero, and [`FileStrips`] reads
//! the strips as their pages are decoded. A long document is then read once, a window of
//! consecutive strips at a time, into one reused buffer.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

use super::pages::StripSource;
use super::tags::type_size;
use super::{IfdInfo, MAX_IFD_ENTRIES, MAX_IFDS, TiffError};

/// An image of the `len`-byte file `src` holding everything [`parse`](super::parse) reads:
/// the header, every IFD of the chain (as far as [`MAX_IFDS`]) and every out-of-line value
/// of their entries; the rest is zero. The zeroed image is not touched where nothing is
/// loaded, so its untouched pages cost no memory. Should the values add up to more than the
/// file (a hostile file pointing many entries at the same bytes), the whole file is read
/// once instead, so the bytes read stay within twice the file's length.
pub fn read_structure<R: Read + Seek>(src: &mut R, len: u64) -> std::io::Result<Vec<u8>> {
    let n = usize::try_from(len).map_err(std::io::Error::other)?;
    let mut image = vec![0u8; n];
    let mut budget = len;
    let mut load =
        |src: &mut R, image: &mut Vec<u8>, off: u64, size: u64| -> std::io::Result<bool> {
            let Some(end) = off.checked_add(size).filter(|&e| e <= len) else {
                return Ok(true); // out of bounds: parse reports it
            };
            if size > budget {
                src.seek(SeekFrom::Start(0))?;
                src.read_exact(image)?;
                return Ok(false);
            }
            budget -= size;
            src.seek(SeekFrom::Start(off))?;
            src.read_exact(&mut image[off as usize..end as usize])?;
            Ok(true)
        };
    if !load(src, &mut image, 0, len.min(8))? {
        return Ok(image);
    }
    let big = match image.get(0..2) {
        Some(b"II") => false,
        Some(b"MM") => true,
        _ => return Ok(image),
    };
    let u16_at = |image: &[u8], off: u64| -> Option<u16> {
        let b: [u8; 2] = image.get(off as usize..off as usize + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |image: &[u8], off: u64| -> Option<u32> {
        let b: [u8; 4] = image.get(off as usize..off as usize + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let mut next = u64::from(u32_at(&image, 4).unwrap_or(0));
    let mut visited = HashSet::new();
    while next != 0 && visited.len() <= MAX_IFDS && visited.insert(next) {
        if !load(src, &mut image, next, 2)? {
            return Ok(image);
        }
        let Some(count) = u16_at(&image, next).filter(|&c| c <= MAX_IFD_ENTRIES) else {
            break;
        };
        let entries = next + 2;
        if !load(src, &mut image, entries, 12 * u64::from(count) + 4)? {
            return Ok(image);
        }
        for i in 0..u64::from(count) {
            let e = entries + 12 * i;
            let (Some(typ), Some(n)) = (u16_at(&image, e + 2), u32_at(&image, e + 4)) else {
                break;
            };
            let size = type_size(typ).and_then(|s| s.checked_mul(u64::from(n)));
            if let Some(size) = size.filter(|&s| s > 4)
                && let Some(off) = u32_at(&image, e + 8)
                && !load(src, &mut image, u64::from(off), size)?
            {
                return Ok(image);
            }
        }
        next = u64::from(u32_at(&image, entries + 12 * u64::from(count)).unwrap_or(0));
    }
    Ok(image)
}

/// Bytes [`FileStrips`] reads at a time when strips are smaller: encoders write a page's
/// strips one after the other (libtiff's `tiffcp` makes 8 KiB strips, 65 to an A4 page), so
/// one read serves many strips.
pub const READ_AHEAD: usize = 256 << 10;

/// The strips of a file read from `src` as pages are decoded, through a window of the file
/// reused for every read: a strip inside the window costs no read, one outside it is read
/// with the bytes after it (up to [`READ_AHEAD`] in all). Memory: the larger of the largest
/// strip and [`READ_AHEAD`].
pub struct FileStrips<R> {
    src: R,
    /// The bytes of the file from offset `start`.
    buf: Vec<u8>,
    start: u64,
    /// Where `src` stands, when known (sequential windows need no seek).
    at: Option<u64>,
}

impl<R: Read + Seek> FileStrips<R> {
    pub fn new(src: R) -> Self {
        FileStrips {
            src,
            buf: Vec::new(),
            start: 0,
            at: None,
        }
    }
}

impl<R: Read + Seek> StripSource for FileStrips<R> {
    fn strip(&mut self, info: &IfdInfo, strip: usize) -> Result<&[u8], TiffError> {
        let Some(&(off, len)) = info.strips.get(strip) else {
            return Ok(&[]);
        };
        let read = |e: std::io::Error| TiffError::Read {
            page: info.index,
            strip,
            offset: off,
            source: e,
        };
        let len = usize::try_from(len).map_err(|e| read(std::io::Error::other(e)))?;
        let end = off.saturating_add(len as u64);
        if off >= self.start && end <= self.start + self.buf.len() as u64 {
            let i = (off - self.start) as usize;
            return Ok(&self.buf[i..i + len]);
        }
        self.buf.clear();
        if self.at != Some(off) {
            self.at = None;
            self.src.seek(SeekFrom::Start(off)).map_err(read)?;
        }
        let want = len.max(READ_AHEAD);
        self.buf.resize(want, 0);
        self.start = off;
        let mut got = 0;
        while got < want {
            match self.src.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.clear();
                    self.at = None;
                    return Err(read(e));
                }
            }
        }
        self.buf.truncate(got);
        self.at = Some(off + got as u64);
        if got < len {
            return Err(read(std::io::ErrorKind::UnexpectedEof.into()));
        }
        Ok(&self.buf[..len])
    }
}
