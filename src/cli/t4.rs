//! `softfax t4 encode|decode|info` (`docs/contracts/cli.md`): pages between PBM, PNG and TIFF
//! Class F (ITU-T T.4, T.6; TIFF for fax as RFC 3949 profiles S and F).
//!
//! Bad input exits 2 with a message naming the file, the page, the row and what was wrong.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use softfax_dsp::image::Resolution;
use softfax_dsp::t4::Coding;
use softfax_dsp::{pbm, tiff};

use super::pages::{for_each_page, load_pages, read_input};

#[derive(Debug, Subcommand)]
pub enum T4Command {
    /// Encode PBM (P4/P1, several images = several pages) or TIFF into TIFF Class F.
    Encode {
        /// The coding of the pages written (`none` = uncompressed).
        #[arg(long, value_enum, default_value_t = CompressionArg::Mh)]
        compression: CompressionArg,
        /// MR only: one 1-D row, then K-1 2-D rows (T.4: 2 standard, 4 fine).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
        k: u32,
        /// Pad so that every EOL ends on a byte boundary (T4Options bit 2).
        #[arg(long)]
        align_eol: bool,
        /// Resolution of PBM input (TIFF input keeps its own).
        #[arg(long, value_enum, default_value_t = ResolutionArg::Fine)]
        resolution: ResolutionArg,
        input: PathBuf,
        output: PathBuf,
    },
    /// Decode every page of a TIFF into one PBM (or, for OUT.png, a PNG per page).
    Decode { input: PathBuf, output: PathBuf },
    /// Pages, size, resolution, compression and bad rows of a TIFF.
    Info { file: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    Mh,
    Mr,
    Mmr,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolutionArg {
    /// 204 × 98 dpi.
    Standard,
    /// 204 × 196 dpi.
    Fine,
    /// 204 × 391 dpi.
    Superfine,
    /// 200 × 200 dpi.
    R200,
    /// 300 × 300 dpi.
    R300,
    /// 400 × 400 dpi.
    R400,
}

/// Run one `t4` subcommand.
pub fn run(cmd: T4Command) -> anyhow::Result<ExitCode> {
    match cmd {
        T4Command::Encode {
            compression,
            k,
            align_eol,
            resolution,
            input,
            output,
        } => {
            let coding = match compression {
                CompressionArg::Mh => Some(Coding::Mh),
                CompressionArg::Mr => Some(Coding::Mr { k }),
                CompressionArg::Mmr => Some(Coding::Mmr),
                CompressionArg::None => None,
            };
            let opts = tiff::WriteOptions { coding, align_eol };
            let cannot_write = |e: &dyn std::fmt::Display| {
                anyhow::anyhow!("cannot write {}: {e}", output.display())
            };
            // The output is written as the pages are read, so it is created only once the
            // input has been opened; were it the input itself, it is built in memory first.
            let same_file = is_same_file(&input, &output);
            let created = std::cell::Cell::new(false);
            let open =
                |total: usize| -> std::io::Result<tiff::TiffStreamWriter<Box<dyn WriteSeek>>> {
                    let sink: Box<dyn WriteSeek> = if same_file {
                        Box::new(std::io::Cursor::new(Vec::new()))
                    } else {
                        let f = std::fs::File::create(&output)?;
                        created.set(true);
                        Box::new(std::io::BufWriter::with_capacity(1 << 16, f))
                    };
                    tiff::TiffStreamWriter::new(sink, total)
                };
            let mut w = None;
            let mut scratch = Vec::new();
            let written = for_each_page(&input, resolution.into(), |page, total| {
                let w = match &mut w {
                    Some(w) => w,
                    None => w.insert(open(total).map_err(|e| cannot_write(&e))?),
                };
                tiff::write_page(w, page, opts, &mut scratch).map_err(|e| match e {
                    tiff::WritePageError::Code(e) => anyhow::anyhow!("{}: {e}", input.display()),
                    tiff::WritePageError::Io(e) => cannot_write(&e),
                })
            })
            .and_then(|n| {
                let w = match w.take() {
                    Some(w) => w,
                    None => open(0).map_err(|e| cannot_write(&e))?,
                };
                let mut sink = w.finish().map_err(|e| cannot_write(&e))?;
                sink.flush().map_err(|e| cannot_write(&e))?;
                if let Some(bytes) = sink.into_bytes() {
                    std::fs::write(&output, bytes).map_err(|e| cannot_write(&e))?;
                }
                Ok(n)
            });
            let n = match written {
                Ok(n) => n,
                Err(e) => {
                    if created.get() {
                        let _ = std::fs::remove_file(&output);
                    }
                    return Err(e);
                }
            };
            tracing::info!(pages = n, out = %output.display(), "encoded");
        }
        T4Command::Decode { input, output } => {
            if is_png(&output) {
                let pages = load_pages(&input, Resolution::FINE)?;
                for (i, p) in pages.iter().enumerate() {
                    let path = png_name(&output, i, pages.len());
                    let f = std::fs::File::create(&path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    crate::pngout::page_png(p, std::io::BufWriter::new(f))
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
            } else {
                let f = std::fs::File::create(&output)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
                let mut header = Vec::new();
                for_each_page(&input, Resolution::FINE, |page, _| {
                    header.clear();
                    pbm::write_pbm_header(page, &mut header);
                    out.write_all(&header)?;
                    out.write_all(&page.data)?;
                    Ok(())
                })
                .and_then(|_| Ok(out.flush()?))
                .inspect_err(|_| {
                    let _ = std::fs::remove_file(&output);
                })?;
            }
        }
        T4Command::Info { file } => {
            let data = read_input(&file)?;
            let decoded =
                tiff::read_pages(&data).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!(
                "{}: {} page{}",
                file.display(),
                decoded.len(),
                if decoded.len() == 1 { "" } else { "s" }
            );
            for d in &decoded {
                let i = &d.info;
                let res = match i.resolution {
                    Some(r) => format!("{} x {} dpi", r.x_dpi, r.y_dpi),
                    None => "unknown".to_string(),
                };
                println!(
                    "page {}: {} x {} pels, {}, compression {}, fill order {}, {} strip{}, rows {}, bad rows {} (longest run {})",
                    i.index + 1,
                    i.width,
                    i.height,
                    res,
                    i.compression_name(),
                    if i.fill_order == tiff::FillOrder::MsbFirst {
                        "msb"
                    } else {
                        "lsb"
                    },
                    i.strips.len(),
                    if i.strips.len() == 1 { "" } else { "s" },
                    d.stats.rows,
                    d.stats.bad_rows,
                    d.stats.max_consecutive_bad_rows,
                );
                if let Some(e) = d.stats.first_error {
                    println!("  first error: {e}");
                }
                if i.bad_fax_lines.is_some() || i.clean_fax_data.is_some() {
                    let clean = match i.clean_fax_data {
                        Some(0) => "clean",
                        Some(1) => "regenerated",
                        Some(2) => "unclean",
                        _ => "not stated",
                    };
                    println!(
                        "  as received: {} bad rows, longest run {}, data {clean}",
                        i.bad_fax_lines.map_or("?".into(), |n| n.to_string()),
                        i.consecutive_bad_fax_lines
                            .map_or("?".into(), |n| n.to_string()),
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl From<ResolutionArg> for Resolution {
    fn from(r: ResolutionArg) -> Resolution {
        let (x_dpi, y_dpi) = match r {
            ResolutionArg::Standard => (204.0, 98.0),
            ResolutionArg::Fine => (204.0, 196.0),
            ResolutionArg::Superfine => (204.0, 391.0),
            ResolutionArg::R200 => (200.0, 200.0),
            ResolutionArg::R300 => (300.0, 300.0),
            ResolutionArg::R400 => (400.0, 400.0),
        };
        Resolution { x_dpi, y_dpi }
    }
}

fn is_png(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// `out.png` for a single page, `out-1.png`, `out-2.png`, … for several.
pub fn png_name(out: &Path, index: usize, count: usize) -> PathBuf {
    if count == 1 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{stem}-{}.png", index + 1))
}

/// Where `t4 encode` writes: a file, or memory when the output is the input.
trait WriteSeek: std::io::Write + std::io::Seek {
    /// The bytes written, when they were kept in memory.
    fn into_bytes(self: Box<Self>) -> Option<Vec<u8>>;
}

impl WriteSeek for std::io::BufWriter<std::fs::File> {
    fn into_bytes(self: Box<Self>) -> Option<Vec<u8>> {
        None
    }
}

impl WriteSeek for std::io::Cursor<Vec<u8>> {
    fn into_bytes(self: Box<Self>) -> Option<Vec<u8>> {
        Some(self.into_inner())
    }
}

/// Whether `a` and `b` name the same existing file.
fn is_same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}
