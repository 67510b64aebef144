//! The `softfax` command line (`docs/contracts/cli.md`). Each subcommand's module owns its
//! arguments and its work; this module only puts them together and dispatches. Subcommands
//! import the modules they share ([`pages`], [`modem`]'s modem choice), never this one.

pub mod analyze;
pub mod ber;
pub mod fax;
pub mod gateway;
pub mod mailbox;
pub mod modem;
pub mod pages;
pub mod queue;
pub mod report;
pub mod t4;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// softfax — a soft-modem fax engine and e-mail-to-fax gateway.
#[derive(Debug, Parser)]
#[command(name = "softfax", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job on embedded defaults: a fax-mail out to a simulated fax machine, and a fax in mailed to a built-in mailbox.
    Demo(gateway::DemoArgs),
    /// The ESMTP off-ramp gateway.
    Serve(gateway::ServeArgs),
    /// Place or answer one fax call.
    #[command(subcommand)]
    Fax(fax::FaxCommand),
    /// Raw modem transmit and receive.
    #[command(subcommand)]
    Modem(modem::ModemCommand),
    /// Bit-error-rate sweep of a modem through the line simulator.
    Ber(ber::BerArgs),
    /// The T.4/T.6 image codecs: encode, decode, inspect.
    #[command(subcommand)]
    T4(t4::T4Command),
    /// A whole fax call between two built-in terminals (sound card or simulator).
    Loopback(fax::LoopbackArgs),
    /// The accounting log.
    Accounting(gateway::AccountingArgs),
    /// Decode a recorded or captured call offline (WAV, raw s16le, pcap).
    Analyze(analyze::AnalyzeArgs),
    /// The queue-mode spool: list, show, cancel or retry jobs (safe while `serve` runs).
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// Measure softfax and write DIR/report.md with its figures (codecs, BER, impairments, speed).
    Report(report::ReportArgs),
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => gateway::demo(&args),
        Command::Serve(args) => gateway::serve(&args),
        Command::Fax(cmd) => fax::run(cmd),
        Command::Modem(cmd) => modem::run(cmd),
        Command::Ber(args) => ber::run(&args),
        Command::T4(cmd) => t4::run(cmd),
        Command::Loopback(args) => fax::loopback(&args),
        Command::Accounting(args) => gateway::accounting(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Queue(cmd) => queue::run(cmd),
        Command::Report(args) => report::run(&args),
    }
}
