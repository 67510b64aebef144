//! `softfax serve`, `softfax demo` and `softfax accounting` (`docs/contracts/cli.md`): thin
//! callers of the gateway, with the demo's configuration, fax-mail and SMTP client.

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
    /// Folder for the received fax (TIFF and one PNG per page) and the demo's spool.
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
        let addr = gw.local_addr()?;
        eprintln!(
            "softfax: {} listening on {addr} ({} delivery, {} line(s))",
            config.gateway_id,
            match config.delivery {
                crate::config::DeliveryMode::Immediate => "immediate",
                crate::config::DeliveryMode::Queue => "queue",
            },
            config.lines.len()
        );
        gw.run().await?;
        Ok::<_, anyhow::Error>(())
    })?;
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

/// The configuration `demo` runs on.
pub fn demo_config(out: &Path) -> Result<Config, crate::config::ConfigError> {
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
        out = out.display()
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
    let config = Arc::new(demo_config(&out)?);
    let message = demo_message()?;
    let rt = runtime()?;
    let (code, transcript) = rt.block_on(async {
        let gw = Gateway::bind(config.clone()).await?;
        let addr = gw.local_addr()?;
        println!(
            "softfax demo: gateway {} on {addr}, line sim: (a built-in fax receiver)\n",
            config.gateway_id
        );
        tokio::spawn(gw.run());
        submit(addr, &message).await
    })?;
    let _ = transcript;
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png" || x == "tif"))
        .collect();
    pngs.sort();
    println!();
    if code == 250 {
        println!("The fax arrived. Received pages, as the far end's fax machine stored them:");
        for p in &pngs {
            println!("  {}", p.display());
        }
        println!("Accounting log: {}", config.accounting_log.display());
        std::io::stdout().flush()?;
        Ok(ExitCode::SUCCESS)
    } else {
        println!("The fax was not delivered (reply {code}).");
        Ok(ExitCode::from(1))
    }
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
