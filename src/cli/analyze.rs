//! `softfax analyze FILE [--pages DIR]`: the arguments; the work is [`crate::analyze`]'s.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    file: PathBuf,
    /// Where the pages found are written as PNG (default: the current directory).
    #[arg(long)]
    pages: Option<PathBuf>,
}

/// `softfax analyze`.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    crate::analyze::run(&args.file, args.pages.as_deref())
}
