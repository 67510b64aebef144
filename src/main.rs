//! The `softfax` binary: parse the command line, run, map the outcome to an exit status
//! (0 success, 1 the call or job failed, 2 bad usage or input).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = softfax::cli::Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    softfax::service::log::init(filter);
    match softfax::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("softfax: {e:#}");
            ExitCode::from(2)
        }
    }
}
