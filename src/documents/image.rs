//! image/tiff → fax pages: decode every page with [`softfax_dsp::tiff`] (bilevel pages in the
//! fax codings) or, for grey, colour and otherwise-compressed TIFFs, with [`super::grey`]; then
//! scale each to the fax geometry with [`super::scale`].
//!
//! **Limits.** A TIFF page may declare at most [`MAX_SOURCE_PELS`] pels, and one message at
//! most [`MAX_MESSAGE_SOURCE_PELS`](super::MAX_MESSAGE_SOURCE_PELS) in all, checked before anything is decoded; the output
//! shares the message's page budget, checked before a scaled image is allocated. IFDs marked as
//! reduced-resolution copies (NewSubfileType bit 0) are skipped when full-size pages exist.

use softfax_dsp::tiff::{self, IfdInfo, TiffError};

use super::scale::{Target, source_dpi};
use super::{DocumentError, MAX_SOURCE_PELS, MediaKind};

/// Decode the TIFF `data` (named `name` in errors) and place its pages on `to`; returns the
/// number of pages made.
pub fn tiff_to_pages(data: &[u8], name: &str, to: &mut Target) -> Result<usize, DocumentError> {
    let tiff_err = |source| DocumentError::tiff(name, source);
    let infos = match tiff::parse(data) {
        Ok(infos) => infos,
        // Grey, colour, LZW, Deflate, tiles …: the `tiff` crate and a threshold (see grey.rs).
        Err(e @ (TiffError::NotBilevel { .. } | TiffError::Unsupported { .. })) => {
            return match super::grey::threshold_pages(data, name, to) {
                Err(DocumentError::Tiff {
                    source: TiffError::Unsupported { .. },
                    ..
                }) => Err(tiff_err(e)),
                other => other,
            };
        }
        Err(e) => return Err(tiff_err(e)),
    };
    let full: Vec<&IfdInfo> = infos
        .iter()
        .filter(|i| i.new_subfile_type & 1 == 0)
        .collect();
    let pages: Vec<&IfdInfo> = if full.is_empty() {
        infos.iter().collect()
    } else {
        full
    };
    let mut made = 0;
    let mut buf = Vec::new();
    for info in pages {
        let pels = u64::from(info.width) * u64::from(info.height);
        if pels > MAX_SOURCE_PELS {
            return Err(DocumentError::Limit {
                kind: MediaKind::Image,
                what: format!(
                    "TIFF {name} page {} is {} x {} pels (at most {MAX_SOURCE_PELS} pels per page)",
                    info.index + 1,
                    info.width,
                    info.height
                ),
            });
        }
        to.budget.take_source_pels(pels, name)?;
        let (page, _stats) = tiff::decode_ifd_into(data, info, buf).map_err(tiff_err)?;
        let (x_dpi, y_dpi) = source_dpi(info.resolution, info.width);
        made += to.place(&page, x_dpi, y_dpi)?;
        buf = page.data;
    }
    Ok(made)
}
