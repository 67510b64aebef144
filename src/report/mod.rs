//! `softfax report` (docs/contracts/cli.md): one Markdown file, `DIR/report.md`, with the PNG
//! figures it links — the T.4/T.6 codecs on the ITU charts (with libtiff's agreement when its
//! tools are installed), BER against SNR per modem, the impairment matrix both directions
//! ([`matrix`]) with the cause of every failed cell, and the speed ratios of the benches.
//! The parts are written by [`Report`]; `cli/report.rs` runs them (and the BER sweeps, which
//! are the `ber` command's).

pub mod codecs;
pub mod figures;
pub mod matrix;
pub mod peer_ber;
pub mod speed;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::plot::Canvas;

/// What can go wrong writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("writing {what}: {source}")]
    Png {
        what: String,
        source: png::EncodingError,
    },
    #[error("{0}")]
    Codec(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ReportError {
    let what = what.into();
    move |source| ReportError::Io { what, source }
}

/// The report being written: the Markdown text and the folder of its figures.
pub struct Report {
    dir: PathBuf,
    md: String,
}

impl Report {
    /// A report in `dir` (created).
    pub fn new(dir: &Path, title: &str) -> Result<Report, ReportError> {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        Ok(Report {
            dir: dir.to_path_buf(),
            md: format!("# {title}\n\n"),
        })
    }

    /// The report's folder (figures and working files go under it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A `## heading`.
    pub fn section(&mut self, title: &str) {
        let _ = write!(self.md, "## {title}\n\n");
    }

    /// A paragraph (or any Markdown block).
    pub fn text(&mut self, block: &str) {
        self.md.push_str(block.trim_end());
        self.md.push_str("\n\n");
    }

    /// Writes `canvas` as `name` (a `.png` file name) and links it.
    pub fn figure(&mut self, name: &str, alt: &str, canvas: &Canvas) -> Result<(), ReportError> {
        let path = self.dir.join(name);
        let f =
            std::fs::File::create(&path).map_err(io(format!("cannot write {}", path.display())))?;
        canvas
            .write_png(std::io::BufWriter::new(f))
            .map_err(|source| ReportError::Png {
                what: path.display().to_string(),
                source,
            })?;
        let _ = write!(self.md, "![{alt}]({name})\n\n");
        Ok(())
    }

    /// Writes `DIR/report.md`; returns its path.
    pub fn finish(self) -> Result<PathBuf, ReportError> {
        let path = self.dir.join("report.md");
        std::fs::write(&path, &self.md).map_err(io(format!("cannot write {}", path.display())))?;
        Ok(path)
    }
}

/// A Markdown table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    s
}

/// A program on the PATH, as the report's optional peers are found.
pub fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}
