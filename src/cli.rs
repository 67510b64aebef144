//! The command line of DESIGN §4. Subcommands that later work fills in say so and exit 2;
//! none of them pretends.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::accounting::Format;

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
    /// The main job on embedded defaults: gateway, simulated line, built-in receiver, one fax-mail.
    Demo {
        /// Folder for the received fax (TIFF and one PNG per page) and the demo's spool.
        #[arg(long, default_value = "softfax-demo")]
        out: PathBuf,
    },
    /// The ESMTP off-ramp gateway.
    Serve {
        /// Configuration file (DESIGN §6).
        #[arg(long, default_value = "softfax.toml")]
        config: PathBuf,
    },
    /// Place or answer one fax call.
    #[command(subcommand)]
    Fax(FaxCommand),
    /// Raw modem transmit and receive.
    #[command(subcommand)]
    Modem(ModemCommand),
    /// Bit-error-rate sweep of a modem through the line simulator.
    Ber {
        modem: ModemKind,
        #[arg(long)]
        rate: u32,
        #[arg(long, allow_negative_numbers = true)]
        snr_from: Option<f64>,
        #[arg(long, allow_negative_numbers = true)]
        snr_to: Option<f64>,
        #[arg(long)]
        step: Option<f64>,
        /// PRBS bits per point.
        #[arg(long, default_value_t = 100_000)]
        bits: u64,
        /// Also draw the curve as PNG.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// The T.4/T.6 image codecs: encode, decode, inspect.
    #[command(subcommand)]
    T4(T4Command),
    /// A whole fax call between two built-in terminals (sound card or simulator).
    Loopback {
        #[arg(long)]
        line: Option<String>,
    },
    /// The accounting log.
    Accounting {
        #[arg(long, default_value = "softfax.toml")]
        config: PathBuf,
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Decode a recorded or captured call offline (WAV, raw s16le, pcap).
    Analyze {
        file: PathBuf,
        /// Where the pages found are written as PNG (default: the current directory).
        #[arg(long)]
        pages: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FaxCommand {
    /// Place one fax call and send the pages of the TIFF files.
    Send {
        #[command(flatten)]
        line: LineArgs,
        #[arg(long)]
        dial: Option<String>,
        #[command(flatten)]
        ecm: EcmArgs,
        #[arg(long)]
        max_rate: Option<u32>,
        #[arg(long)]
        ident: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Answer one fax call and write the pages received.
    Recv {
        #[command(flatten)]
        line: LineArgs,
        #[command(flatten)]
        ecm: EcmArgs,
        #[arg(long)]
        ident: Option<String>,
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct LineArgs {
    /// Line URI: sim:…, exec:COMMAND, dahdi:N, sound:DEVICE, wav:FILE.
    #[arg(long)]
    pub line: String,
    /// Record the call as stereo 8 kHz WAV (left sent, right received).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write a readable protocol trace.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EcmArgs {
    /// Offer and use error correction mode (T.30 Annex A; the default).
    #[arg(long, overrides_with = "no_ecm")]
    pub ecm: bool,
    /// Do not use ECM (nor MMR, which needs it).
    #[arg(long)]
    pub no_ecm: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModemCommand {
    /// Training, then the bytes of FILE (or stdin), as s16le 8 kHz on stdout.
    Tx {
        modem: ModemKind,
        #[arg(long)]
        rate: u32,
        #[arg(long)]
        input: Option<PathBuf>,
        /// Transmit level, dBm0.
        #[arg(long, default_value_t = -13.0, allow_negative_numbers = true)]
        level: f32,
    },
    /// s16le 8 kHz on stdin; the bytes received on stdout; a summary on stderr.
    Rx {
        modem: ModemKind,
        #[arg(long)]
        rate: u32,
        #[arg(long)]
        constellation: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModemKind {
    V21,
    V27ter,
    V29,
    V17,
}

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

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::T4(cmd) => crate::t4cmd::run(cmd),
        Command::Demo { out } => crate::gatewaycmd::demo(&out),
        Command::Serve { config } => crate::gatewaycmd::serve(&config),
        Command::Fax(FaxCommand::Send {
            line,
            ecm,
            max_rate,
            ident,
            files,
            dial,
            ..
        }) => crate::faxcmd::send_with(
            &line,
            dial.as_deref(),
            max_rate,
            ident.as_deref(),
            &files,
            !ecm.no_ecm,
        ),
        Command::Fax(FaxCommand::Recv {
            line,
            ecm,
            ident,
            out,
        }) => crate::faxcmd::recv(&line, ident.as_deref(), &out, !ecm.no_ecm),
        Command::Modem(ModemCommand::Tx {
            modem,
            rate,
            input,
            level,
        }) => crate::modemcmd::tx(modem, rate, input.as_deref(), level),
        Command::Modem(ModemCommand::Rx {
            modem,
            rate,
            constellation,
        }) => crate::modemcmd::rx(modem, rate, constellation.as_deref()),
        Command::Ber {
            modem,
            rate,
            snr_from,
            snr_to,
            step,
            bits,
            plot,
        } => crate::bercmd::run(modem, rate, snr_from, snr_to, step, bits, plot.as_deref()),
        Command::Loopback { line } => crate::faxcmd::loopback(line.as_deref()),
        Command::Accounting {
            config,
            since,
            format,
        } => crate::gatewaycmd::accounting(&config, since.as_deref(), format),
        Command::Analyze { file, pages } => crate::analyze::run(&file, pages.as_deref()),
    }
}
