//! `softfax analyze FILE [--pages DIR] [--spectrogram PNG]`: the arguments; the work is [`crate::analyze`]'s.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    file: PathBuf,
    /// Where the pages found are written as PNG (default: the current directory).
    #[arg(long)]
    pages: Option<PathBuf>,
    /// Also draw the call's spectrogram (time × 0–4 kHz, one panel per channel) as this PNG.
    #[arg(long, value_name = "PNG")]
    spectrogram: Option<PathBuf>,
}

/// `softfax analyze`.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    crate::analyze::run(
        &args.file,
        args.pages.as_deref(),
        args.spectrogram.as_deref(),
    )
}
