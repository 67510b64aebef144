//! `softfax queue list | show ID | cancel ID | retry ID [--config FILE] [--format table|json]`
//! (docs/contracts/cli.md): the queue-mode spool, inspected and changed while `serve` runs.
//! How the two agree on one writer: [`crate::delivery::control`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::config::Config;
use crate::delivery::control::{self, Answer, Entry, Op, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct QueueOpts {
    /// Configuration file (its `spool`).
    #[arg(long, default_value = "softfax.toml")]
    pub config: PathBuf,
    #[arg(long, value_enum, default_value_t = QueueFormat::Table)]
    pub format: QueueFormat,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// The jobs waiting in the spool, oldest first.
    List(QueueOpts),
    /// One job: envelope, attempts, next attempt, and its accounting records.
    Show {
        id: String,
        #[command(flatten)]
        opts: QueueOpts,
    },
    /// Remove a waiting job and send its failure DSN (as its NOTIFY asks).
    Cancel {
        id: String,
        #[command(flatten)]
        opts: QueueOpts,
    },
    /// Make a waiting job due now.
    Retry {
        id: String,
        #[command(flatten)]
        opts: QueueOpts,
    },
}

/// Run a `queue` subcommand.
pub fn run(cmd: QueueCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        QueueCommand::List(o) => {
            let cfg = Config::load(&o.config)?;
            let jobs = control::list(&cfg.spool)
                .or_else(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        Ok(Vec::new())
                    } else {
                        Err(e)
                    }
                })
                .with_context(|| format!("cannot read the queue in {}", cfg.spool.display()))?;
            match o.format {
                QueueFormat::Json => println!("{}", serde_json::to_string_pretty(&jobs)?),
                QueueFormat::Table => print!("{}", table(&jobs)),
            }
            Ok(ExitCode::SUCCESS)
        }
        QueueCommand::Show { id, opts } => {
            let cfg = Config::load(&opts.config)?;
            let e = control::show(&cfg.spool, &id)
                .with_context(|| format!("no job {id} in {}", cfg.spool.join("queue").display()))?;
            let records: Vec<_> = crate::accounting::read_log(&cfg.accounting_log)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| r.job == id)
                .collect();
            match opts.format {
                QueueFormat::Json => {
                    let mut v = serde_json::to_value(&e)?;
                    v["records"] = serde_json::to_value(&records)?;
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                QueueFormat::Table => {
                    let v = serde_json::to_value(&e)?;
                    if let Some(m) = v.as_object() {
                        for (k, x) in m {
                            let s = x.as_str().map_or_else(|| x.to_string(), str::to_string);
                            println!("{k:<15} {s}");
                        }
                    }
                    for r in &records {
                        println!(
                            "attempt {:<7} {} {} {} {} ({})",
                            r.attempt,
                            r.time,
                            r.status,
                            r.reply_code,
                            r.enhanced_code,
                            r.status_text
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        QueueCommand::Cancel { id, opts } => change(Op::Cancel, id, &opts),
        QueueCommand::Retry { id, opts } => change(Op::Retry, id, &opts),
    }
}

/// Cancel or retry: as the spool's writer when no `serve` holds it, else through `serve`.
fn change(op: Op, id: String, o: &QueueOpts) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&o.config)?;
    let req = Request { op, id };
    let answer: Answer = match control::try_lock(&cfg.spool)
        .with_context(|| format!("cannot open {}", cfg.spool.display()))?
    {
        Some(lock) => {
            // No serve runs: this process is the writer for as long as it holds the lock.
            let q = crate::delivery::queue::Queue::open_locked(&cfg.spool, lock)?;
            let log = crate::accounting::Log::new(cfg.accounting_log.clone());
            control::apply(&cfg, &q, &log, &req)
        }
        None => control::request(&cfg.spool, &req, Duration::from_secs(15))?.ok_or_else(|| {
            anyhow::anyhow!(
                "softfax serve holds the spool but did not answer within 15 s; the request stays in {} and is applied when it does",
                control::control_dir(&cfg.spool).display()
            )
        })?,
    };
    match o.format {
        QueueFormat::Json => println!("{}", serde_json::to_string(&answer)?),
        QueueFormat::Table => println!("{}", answer.message),
    }
    Ok(match answer.result.as_str() {
        "done" => ExitCode::SUCCESS,
        "unknown" => ExitCode::from(2),
        _ => ExitCode::from(1),
    })
}

fn table(jobs: &[Entry]) -> String {
    let mut s = format!(
        "{:<28} {:<16} {:>8} {:<20} {:<20} {}\n",
        "id", "number", "attempts", "arrival", "next_attempt", "sender"
    );
    for j in jobs {
        s.push_str(&format!(
            "{:<28} {:<16} {:>8} {:<20} {:<20} {}\n",
            j.id,
            j.number,
            j.attempts,
            j.arrival,
            if j.next_attempt.is_empty() {
                "now"
            } else {
                &j.next_attempt
            },
            j.sender
        ));
    }
    s.push_str(&format!("{} job(s)\n", jobs.len()));
    s
}
