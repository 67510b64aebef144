//! Page files named on the command line: PBM (P1/P4) or TIFF, told apart by content.

use std::path::Path;

use anyhow::{Context, bail};
use softfax_dsp::image::{Page, Resolution};
use softfax_dsp::{pbm, tiff};

/// Largest input file read (a fax page is tens of kilobytes; a raw A3 400 dpi page 3 MB).
pub const MAX_INPUT_BYTES: u64 = 512 << 20;

/// The bytes of `path`, refused above [`MAX_INPUT_BYTES`].
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_INPUT_BYTES {
        bail!(
            "{}: {} bytes is more than the {} MiB softfax reads",
            path.display(),
            meta.len(),
            MAX_INPUT_BYTES >> 20
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Pages of a PBM or TIFF file (by content, not by name). Bad rows are reported on stderr.
pub fn load_pages(path: &Path, pbm_resolution: Resolution) -> anyhow::Result<Vec<Page>> {
    let mut pages = Vec::new();
    for_each_page(path, pbm_resolution, |p| {
        pages.push(p.clone());
        Ok(())
    })?;
    Ok(pages)
}

/// Call `f` with each page of a PBM or TIFF file in turn, one page in memory at a time;
/// returns the number of pages. Bad rows are reported on stderr.
pub fn for_each_page(
    path: &Path,
    pbm_resolution: Resolution,
    mut f: impl FnMut(&Page) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let data = read_input(path)?;
    let at = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", path.display());
    if data.starts_with(b"P1") || data.starts_with(b"P4") {
        let pages = pbm::read_pbm(&data, pbm_resolution).map_err(|e| at(&e))?;
        pages.iter().try_for_each(&mut f)?;
        return Ok(pages.len());
    }
    if data.starts_with(b"II") || data.starts_with(b"MM") {
        let ifds = tiff::parse(&data).map_err(|e| at(&e))?;
        let mut buf = Vec::new();
        for info in &ifds {
            let (page, stats) = tiff::decode_ifd_into(&data, info, buf).map_err(|e| at(&e))?;
            if let Some(first) = stats.first_error.filter(|_| stats.bad_rows > 0) {
                eprintln!(
                    "softfax: {}: page {}: {} bad rows replaced (longest run {}); first: {first}",
                    path.display(),
                    info.index + 1,
                    stats.bad_rows,
                    stats.max_consecutive_bad_rows,
                );
            }
            f(&page)?;
            buf = page.data;
        }
        return Ok(ifds.len());
    }
    bail!("{}: neither PBM (P1/P4) nor TIFF", path.display())
}
