//! Greyscale, colour and otherwise-compressed TIFFs → bilevel pages, by **thresholding**.
//!
//! The fax reader in `softfax-dsp` takes bilevel pages in the fax codings (none, CCITT RLE, T.4,
//! T.6, PackBits). A TIFF it refuses for that reason (more than one bit or sample per pel, or
//! another compression such as LZW or Deflate) is decoded here with the `tiff` crate instead:
//! grey (1–16 bits, min-is-white or min-is-black), grey + alpha, RGB, RGBA (8 or 16 bits) and
//! CMYK (8 bits), uncompressed, PackBits, LZW or Deflate, with or without predictor. Every pel's
//! luminance (ITU-R BT.601 weights; alpha composed over white paper) is compared with 50 %:
//! darker is black. Users prefer a fax to a refusal, and most grey TIFFs sent to fax are scanned
//! documents, which a plain threshold renders best; photographs come out as silhouettes (no
//! dithering, which would also defeat T.4 compression).
//!
//! **Not supported** (refused with 554 5.6.1): palette images, YCbCr, CIE L*a*b*, JPEG, JBIG,
//! floating-point samples, tiles are decoded only as far as the crate does.
//!
//! Limits: a grey or colour page may declare at most [`MAX_GREY_PELS`] pels and decode to at
//! most [`MAX_DECODED_BYTES`]; both are checked before decoding.

use std::io::Cursor;

use softfax_dsp::image::{Page, Resolution};
use softfax_dsp::tiff::TiffError;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError as CrateError};

use super::scale::{Target, source_dpi};
use super::{DocumentError, MAX_SOURCE_PELS, MediaKind};

/// The largest grey or colour page decoded, in pels (a 600 dpi A4 page is 35 M).
pub const MAX_GREY_PELS: u64 = 40_000_000;
/// The most bytes one decoded grey or colour page may take.
pub const MAX_DECODED_BYTES: usize = 256 << 20;

fn map_err(page: usize, e: CrateError) -> TiffError {
    match e {
        CrateError::UnsupportedError(u) => TiffError::Unsupported {
            page,
            what: u.to_string(),
        },
        CrateError::LimitsExceeded => TiffError::Limit {
            page,
            what: format!("decoded page larger than {} MiB", MAX_DECODED_BYTES >> 20),
        },
        other => TiffError::Decode {
            page,
            row: 0,
            why: other.to_string(),
        },
    }
}

/// Decode every page of `data` with the `tiff` crate, threshold it and place it on `to`;
/// returns the pages made.
pub fn threshold_pages(data: &[u8], name: &str, to: &mut Target) -> Result<usize, DocumentError> {
    let wrap = |source| DocumentError::tiff(name, source);
    let mut limits = Limits::default();
    limits.decoding_buffer_size = MAX_DECODED_BYTES;
    limits.intermediate_buffer_size = 64 << 20;
    limits.ifd_value_size = 1 << 20;
    let mut dec = Decoder::new(Cursor::new(data))
        .map_err(|e| wrap(map_err(0, e)))?
        .with_limits(limits);
    let mut made = 0;
    let mut index = 0;
    loop {
        let reduced = dec
            .find_tag_unsigned::<u32>(Tag::NewSubfileType)
            .ok()
            .flatten()
            .is_some_and(|v| v & 1 != 0);
        if !(reduced && made > 0) {
            made += one_page(&mut dec, index, name, to).map_err(|e| match e {
                Err(t) => wrap(t),
                Ok(d) => d,
            })?;
        }
        if !dec.more_images() {
            break;
        }
        index += 1;
        if index >= softfax_dsp::tiff::MAX_IFDS {
            return Err(wrap(TiffError::Limit {
                page: index,
                what: format!("more than {} IFDs", softfax_dsp::tiff::MAX_IFDS),
            }));
        }
        dec.next_image().map_err(|e| wrap(map_err(index, e)))?;
    }
    Ok(made)
}

/// One page; errors are `Err(TiffError)` for the file, `Ok(DocumentError)` for the rest.
fn one_page(
    dec: &mut Decoder<Cursor<&[u8]>>,
    page: usize,
    name: &str,
    to: &mut Target,
) -> Result<usize, Result<DocumentError, TiffError>> {
    let (w, h) = dec.dimensions().map_err(|e| Err(map_err(page, e)))?;
    let pels = u64::from(w) * u64::from(h);
    if pels > MAX_GREY_PELS.min(MAX_SOURCE_PELS) {
        return Err(Ok(DocumentError::Limit {
            kind: MediaKind::Image,
            what: format!(
                "TIFF {name} page {} is a {w} x {h} pel grey/colour image (at most {MAX_GREY_PELS} pels)",
                page + 1
            ),
        }));
    }
    to.budget.take_source_pels(pels, name).map_err(Ok)?;
    let color = dec.colortype().map_err(|e| Err(map_err(page, e)))?;
    let channels: usize = match color {
        ColorType::Gray(_) => 1,
        ColorType::GrayA(_) => 2,
        ColorType::RGB(_) => 3,
        ColorType::RGBA(_) => 4,
        ColorType::CMYK(8) => 4,
        other => {
            return Err(Err(TiffError::Unsupported {
                page,
                what: format!("colour type {other:?}"),
            }));
        }
    };
    let res = resolution(dec);
    let image = dec.read_image().map_err(|e| Err(map_err(page, e)))?;
    let mut bilevel = Page::new(w, h, Resolution::FINE);
    let (wu, hu) = (w as usize, h as usize);
    let short = || {
        Err(TiffError::Decode {
            page,
            row: 0,
            why: "decoded image shorter than its size".into(),
        })
    };
    let whole = match (&image, color) {
        (DecodingResult::U8(v), ColorType::Gray(bits)) if bits < 8 => {
            // Packed rows, MSB first, each row padded to a byte; 0 = black after the crate's
            // min-is-white inversion.
            let bits = usize::from(bits);
            let stride = (wu * bits).div_ceil(8);
            if v.len() < stride * hu {
                return Err(short());
            }
            let max = (1u32 << bits) - 1;
            for y in 0..hu {
                let row = &v[y * stride..(y + 1) * stride];
                for x in 0..wu {
                    let bit = x * bits;
                    let s = (u32::from(row[bit / 8]) >> (8 - bits - bit % 8)) & max;
                    if s * 2 < max {
                        set(&mut bilevel, x, y);
                    }
                }
            }
            Ok(())
        }
        (DecodingResult::U8(v), _) => threshold(v, color, channels, &mut bilevel),
        (DecodingResult::U16(v), _) => threshold(v, color, channels, &mut bilevel),
        _ => {
            return Err(Err(TiffError::Unsupported {
                page,
                what: format!("sample format of colour type {color:?}"),
            }));
        }
    };
    whole.map_err(|()| short())?;
    let (x_dpi, y_dpi) = source_dpi(res, w);
    to.place(&bilevel, x_dpi, y_dpi).map_err(Ok)
}

fn set(p: &mut Page, x: usize, y: usize) {
    p.row_mut(y as u32)[x / 8] |= 0x80 >> (x % 8);
}

/// A sample type the `tiff` crate decodes to, as a fraction of full scale.
trait Sample: Copy {
    fn unit(self) -> f32;
}

impl Sample for u8 {
    fn unit(self) -> f32 {
        f32::from(self) / 255.0
    }
}

impl Sample for u16 {
    fn unit(self) -> f32 {
        f32::from(self) / 65535.0
    }
}

/// Threshold samples `v` of `channels` per pel into `out` (as many pels as `out` has); `Err`
/// when `v` is too short.
fn threshold<T: Sample>(
    v: &[T],
    color: ColorType,
    channels: usize,
    out: &mut Page,
) -> Result<(), ()> {
    let (w, h) = (out.width as usize, out.height as usize);
    if v.len() < w * h * channels {
        return Err(());
    }
    for y in 0..h {
        for x in 0..w {
            let px = &v[(y * w + x) * channels..][..channels];
            let c = |i: usize| px[i].unit();
            let lum = match color {
                ColorType::Gray(_) => c(0),
                ColorType::GrayA(_) => c(0) * c(1) + (1.0 - c(1)),
                ColorType::RGB(_) => 0.299 * c(0) + 0.587 * c(1) + 0.114 * c(2),
                ColorType::RGBA(_) => {
                    (0.299 * c(0) + 0.587 * c(1) + 0.114 * c(2)) * c(3) + (1.0 - c(3))
                }
                // CMYK: ink amounts.
                _ => {
                    let k = c(3);
                    let rgb = |i: usize| (1.0 - c(i)) * (1.0 - k);
                    0.299 * rgb(0) + 0.587 * rgb(1) + 0.114 * rgb(2)
                }
            };
            if lum < 0.5 {
                set(out, x, y);
            }
        }
    }
    Ok(())
}

/// X/YResolution with ResolutionUnit (2 inch, 3 cm; 1 or missing unit: none).
fn resolution(dec: &mut Decoder<Cursor<&[u8]>>) -> Option<Resolution> {
    let unit = dec
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let f = match unit {
        2 => 1.0,
        3 => 2.54,
        _ => return None,
    };
    let mut get = |tag| -> Option<f64> {
        use tiff::decoder::ifd::Value;
        match dec.find_tag(tag).ok()?? {
            Value::Rational(n, d) if d != 0 => Some(f64::from(n) / f64::from(d)),
            Value::Float(v) => Some(v.into()),
            Value::Double(v) => Some(v),
            Value::Short(v) => Some(v.into()),
            Value::Unsigned(v) => Some(v.into()),
            _ => None,
        }
    };
    let x = get(Tag::XResolution)? * f;
    let y = get(Tag::YResolution)? * f;
    (x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0).then_some(Resolution {
        x_dpi: x as f32,
        y_dpi: y as f32,
    })
}
