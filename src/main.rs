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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match softfax::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("softfax: {e:#}");
            ExitCode::from(2)
        }
    }
}
