//! Page files named on the command line: PBM (P1/P4) or TIFF, told apart by content.

use std::io::Read;
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
    for_each_page(path, pbm_resolution, |p, _| {
        pages.push(p.clone());
        Ok(())
    })?;
    Ok(pages)
}

/// Call `f` with each page of a PBM or TIFF file in turn and the number of pages the file
/// holds, one page in memory at a time; returns the number of pages. A TIFF file is read a
/// strip at a time (its structure first, then each page's strips as the page is decoded).
/// Bad rows are reported on stderr.
pub fn for_each_page(
    path: &Path,
    pbm_resolution: Resolution,
    mut f: impl FnMut(&Page, usize) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let at = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", path.display());
    let cannot_read = || format!("cannot read {}", path.display());
    let mut file = std::fs::File::open(path).with_context(cannot_read)?;
    let len = file.metadata().with_context(cannot_read)?.len();
    if len > MAX_INPUT_BYTES {
        bail!(
            "{}: {len} bytes is more than the {} MiB softfax reads",
            path.display(),
            MAX_INPUT_BYTES >> 20
        );
    }
    let mut magic = [0u8; 2];
    let got = file.read(&mut magic).with_context(cannot_read)?;
    let magic = &magic[..got];
    if magic == b"P1" || magic == b"P4" {
        let data = read_input(path)?;
        let pages = pbm::read_pbm(&data, pbm_resolution).map_err(|e| at(&e))?;
        let n = pages.len();
        pages.iter().try_for_each(|p| f(p, n))?;
        return Ok(n);
    }
    if magic == b"II" || magic == b"MM" {
        let structure = tiff::read_structure(&mut file, len).with_context(cannot_read)?;
        let ifds = tiff::parse(&structure).map_err(|e| at(&e))?;
        drop(structure);
        let mut strips = tiff::FileStrips::new(file);
        let mut buf = Vec::new();
        for info in &ifds {
            let (page, stats) =
                tiff::decode_ifd_from(&mut strips, info, buf).map_err(|e| at(&e))?;
            if let Some(first) = stats.first_error.filter(|_| stats.bad_rows > 0) {
                eprintln!(
                    "softfax: {}: page {}: {} bad rows replaced (longest run {}); first: {first}",
                    path.display(),
                    info.index + 1,
                    stats.bad_rows,
                    stats.max_consecutive_bad_rows,
                );
            }
            f(&page, ifds.len())?;
            buf = page.data;
        }
        return Ok(ifds.len());
    }
    bail!("{}: neither PBM (P1/P4) nor TIFF", path.display())
}
