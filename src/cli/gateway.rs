//! `softfax serve`, `softfax demo` and `softfax accounting` (`docs/contracts/cli.md`): thin
//! callers of the gateway, with the demo's configuration, fax-mail and SMTP client. The demo
//! shows both directions: a fax-mail out to a simulated fax machine, and a simulated fax
//! machine calling in, its fax mailed to a built-in mailbox ([`super::mailbox`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::accounting::Format;
use crate::config::Config;
use crate::gateway::Gateway;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the fax the far end received (TIFF and one PNG per page), the demo's
    /// spool, and `fax-in/` (the fax that called in, the mailbox and what it got).
    #[arg(long, default_value = "softfax-demo")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (docs/contracts/config.md).
    #[arg(long, default_value = "softfax.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct AccountingArgs {
    #[arg(long, default_value = "softfax.toml")]
    pub config: PathBuf,
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `softfax serve --config FILE`.
pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Arc::new(Config::load(&args.config)?);
    let rt = runtime()?;
    rt.block_on(async {
        let gw = Gateway::bind(config.clone()).await?;
        let signals = crate::service::Signals::new()?;
        let addr = gw.local_addr()?;
        if let Some(m) = gw.metrics_addr() {
            eprintln!("softfax: metrics on http://{m}/metrics");
        }
        eprintln!(
            "softfax: {} listening on {addr} ({} delivery, {} line(s))",
            config.gateway_id,
            match config.delivery {
                crate::config::DeliveryMode::Immediate => "immediate",
                crate::config::DeliveryMode::Queue => "queue",
            },
            config.lines.len()
        );
        let path = args.config.clone();
        gw.run_service(signals, move || {
            Config::load(&path).map_err(|e| e.to_string())
        })
        .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    // Drained: an answering line may still sit in a blocking wait for a ring; do not wait
    // for it.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}

/// `softfax accounting [--since T] [--format …] [--config FILE]`.
pub fn accounting(args: &AccountingArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&args.config)?;
    let since = match &args.since {
        Some(s) => Some(crate::accounting::parse_since(s, SystemTime::now())?),
        None => None,
    };
    let records = crate::accounting::read_log(&cfg.accounting_log)
        .with_context(|| format!("cannot read {}", cfg.accounting_log.display()))?;
    print!(
        "{}",
        crate::accounting::render(&records, since, args.format)
    );
    Ok(ExitCode::SUCCESS)
}

/// The configuration `demo` runs on; received faxes are mailed to `mailbox`.
pub fn demo_config(
    out: &Path,
    mailbox: std::net::SocketAddr,
) -> Result<Config, crate::config::ConfigError> {
    let text = format!(
        r#"gateway_id = "gw.example.com"
listen = "127.0.0.1:0"
spool = "{spool}"
delivery = "immediate"
domains = ["example.com"]

[[line]]
uri = "sim:"
port = "slot:1 port:1"
capture = "{out}"

[[line]]
uri = "sim:?caller={caller}"
port = "slot:1 port:2"
answer = true
dial = false

[onramp]
relay = "{mailbox}"
from = "fax@gw.example.com"
attach = ["tiff", "png", "pdf"]

[[route]]
match = "^slot:1 port:(\\d+)$"
to = "fax-port$1@example.com"

[onramp.default]
to = "fax@example.com"

[[dialplan]]
match = "^\\+1408(555\\d{{4}})$"
dial = "$1"
cover_page = true

[[dialplan]]
match = "^\\+(\\d+)$"
dial = "011$1"

[policy]
deny = ["^\\+1900", "^\\+8[78]"]
"#,
        spool = out.join("spool").display(),
        out = out.display(),
        caller = out.join("fax-in").join("caller.tif").display(),
    );
    Config::parse(&text, "(demo)", Path::new("/"))
}

/// The bundled fax-mail: a text part and a TIFF (MH, fine) attachment.
pub fn demo_message() -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    let page = softfax_drivers::sim::test_page();
    let tif = softfax_dsp::tiff::write_pages(
        &[page],
        softfax_dsp::tiff::WriteOptions {
            coding: Some(softfax_dsp::t4::Coding::Mh),
            align_eol: false,
        },
    )?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(tif);
    let mut m = String::new();
    m.push_str("From: Demo Sender <demo@example.org>\r\n");
    m.push_str("To: <FAX=+1408555-7442@example.com>\r\n");
    m.push_str("Subject: softfax demo\r\n");
    m.push_str(&format!(
        "Date: {}\r\n",
        crate::accounting::rfc5322(SystemTime::now())
    ));
    m.push_str("Message-ID: <demo@softfax.example>\r\nMIME-Version: 1.0\r\n");
    m.push_str("Content-Type: multipart/mixed; boundary=\"sfx-demo\"\r\n\r\n");
    m.push_str("--sfx-demo\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
    m.push_str("Hello from softfax.\r\n\r\nThis note and the test chart attached to it travel as one fax:\r\nSMTP in, T.30 and V.17 out, through a simulated telephone line.\r\n\r\n");
    m.push_str("--sfx-demo\r\nContent-Type: image/tiff; application=faxbw; name=\"chart.tif\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"chart.tif\"\r\n\r\n");
    for chunk in b64.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        m.push_str("\r\n");
    }
    m.push_str("--sfx-demo--\r\n");
    Ok(m.into_bytes())
}

/// `softfax demo`.
pub fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = out
        .canonicalize()
        .with_context(|| format!("cannot use {}", out.display()))?;
    let fax_in = out.join("fax-in");
    std::fs::create_dir_all(&fax_in)
        .with_context(|| format!("cannot create {}", fax_in.display()))?;
    let caller = softfax_dsp::tiff::write_pages(
        &[softfax_drivers::sim::test_page()],
        softfax_dsp::tiff::WriteOptions {
            coding: Some(softfax_dsp::t4::Coding::Mh),
            align_eol: false,
        },
    )?;
    std::fs::write(fax_in.join("caller.tif"), caller)?;
    let message = demo_message()?;
    let rt = runtime()?;
    let (code, inbound, config) = rt.block_on(async {
        let (mailbox, mut inbox) = super::mailbox::start(&fax_in.join("mailbox")).await?;
        let config = Arc::new(demo_config(&out, mailbox)?);
        let gw = Gateway::bind(config.clone()).await?;
        let addr = gw.local_addr()?;
        println!(
            "softfax demo: gateway {} on {addr}\n\
             \x20 out: fax-mail by SMTP -> line slot:1 port:1 (sim:) -> a built-in fax receiver\n\
             \x20 in:  a built-in fax machine calls line slot:1 port:2 -> fax-mail to the mailbox on {mailbox}\n\n\
             == Fax out: the SMTP session of a fax-mail client ==\n",
            config.gateway_id
        );
        tokio::spawn(gw.run());
        let (code, _) = submit(addr, &message).await?;
        let inbound =
            tokio::time::timeout(std::time::Duration::from_secs(120), inbox.recv()).await;
        // The on-ramp records the call once the mailbox has answered: wait for its record.
        for _ in 0..100 {
            let log = crate::accounting::read_log(&config.accounting_log).unwrap_or_default();
            if log.iter().any(|r| r.call_type == "Fax Receive") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok::<_, anyhow::Error>((code, inbound.ok().flatten(), config))
    })?;
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png" || x == "tif"))
        .collect();
    pngs.sort();
    println!();
    let sent = code == 250;
    if sent {
        println!("The fax arrived. Received pages, as the far end's fax machine stored them:");
        for p in &pngs {
            println!("  {}", p.display());
        }
    } else {
        println!("The fax was not delivered (reply {code}).");
    }
    println!("\n== Fax in: the on-ramp mails the fax that called in to the built-in mailbox ==\n");
    let received = match &inbound {
        Some(d) => {
            print!("{}", d.transcript);
            show_fax_mail(&d.path, &fax_in)?;
            true
        }
        None => {
            println!("No fax-mail reached the mailbox.");
            false
        }
    };
    println!("\nAccounting log: {}", config.accounting_log.display());
    std::io::stdout().flush()?;
    Ok(if sent && received {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Print the fax-mail's headers and summary and write its attachments beside it.
fn show_fax_mail(path: &Path, dir: &Path) -> anyhow::Result<()> {
    use mail_parser::MimeHeaders;
    let data = std::fs::read(path)?;
    let msg = mail_parser::MessageParser::default()
        .parse(&data)
        .context("the mailbox holds a message that does not parse")?;
    println!("\nThe fax-mail ({}):", path.display());
    for h in ["From", "To", "Subject", "Date"] {
        if let Some(v) = msg.header_raw(h) {
            println!("  {h}: {}", v.trim());
        }
    }
    if let Some(text) = msg.body_text(0) {
        println!();
        for l in text.lines() {
            println!("  {l}");
        }
    }
    for a in msg.attachments() {
        let name = a.attachment_name().unwrap_or("attachment");
        // Only the file name: never a path from the message.
        let name = Path::new(name)
            .file_name()
            .map_or("attachment".into(), |n| n.to_owned());
        let file = dir.join(name);
        std::fs::write(&file, a.contents())?;
        println!(
            "  attached: {} ({}), saved as {}",
            a.content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                .unwrap_or_default(),
            a.contents().len(),
            file.display()
        );
    }
    Ok(())
}

/// Send `message` over SMTP with XACT, printing the transcript; returns the final reply
/// code of the DATA transaction.
async fn submit(addr: std::net::SocketAddr, message: &[u8]) -> anyhow::Result<(u16, String)> {
    let s = tokio::net::TcpStream::connect(addr).await?;
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut transcript = String::new();
    async fn reply(
        r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
        t: &mut String,
    ) -> anyhow::Result<u16> {
        loop {
            let mut l = String::new();
            anyhow::ensure!(
                r.read_line(&mut l).await? > 0,
                "the gateway closed the connection"
            );
            let l = l.trim_end().to_string();
            println!("S: {l}");
            t.push_str(&format!("S: {l}\n"));
            if l.as_bytes().get(3) != Some(&b'-') {
                return Ok(l.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0));
            }
        }
    }
    reply(&mut r, &mut transcript).await?;
    let mut final_code = 0;
    for cmd in [
        "EHLO demo.client",
        "MAIL FROM:<demo@example.org>",
        "RCPT TO:<FAX=+1408555-7442@example.com>",
        "XACT",
        "DATA",
    ] {
        println!("C: {cmd}");
        transcript.push_str(&format!("C: {cmd}\n"));
        w.write_all(format!("{cmd}\r\n").as_bytes()).await?;
        let c = reply(&mut r, &mut transcript).await?;
        anyhow::ensure!(c < 400, "'{cmd}' was refused ({c})");
    }
    let mut body = Vec::with_capacity(message.len() + 8);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(line);
    }
    body.extend_from_slice(b".\r\n");
    println!(
        "C: <{} bytes of fax-mail: a text part and a TIFF attachment>",
        message.len()
    );
    println!("C: .");
    w.write_all(&body).await?;
    final_code = final_code.max(reply(&mut r, &mut transcript).await?);
    println!("C: QUIT");
    w.write_all(b"QUIT\r\n").await?;
    reply(&mut r, &mut transcript).await?;
    Ok((final_code, transcript))
}
