//! `softfax demo`'s built-in mailbox: a minimal SMTP listener (RFC 5321: EHLO/HELO, MAIL,
//! RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) on a loopback port, standing in for the
//! site's MTA the on-ramp mails received faxes to. Each message is written to the mailbox
//! folder as `N.eml` and reported with the session's transcript.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The longest message the mailbox keeps.
const MAX_MESSAGE: usize = 32 << 20;

/// One message delivered to the mailbox.
#[derive(Debug)]
pub struct Delivered {
    pub path: PathBuf,
    /// The session, `C:` and `S:` lines (the data summarised).
    pub transcript: String,
}

/// Listen on a free loopback port; messages are written to `dir` and announced on the
/// returned channel.
pub async fn start(
    dir: &Path,
) -> anyhow::Result<(std::net::SocketAddr, mpsc::Receiver<Delivered>)> {
    std::fs::create_dir_all(dir)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(8);
    let dir = dir.to_path_buf();
    tokio::spawn(async move {
        let mut n = 0u32;
        while let Ok((s, _)) = listener.accept().await {
            n += 1;
            let (dir, tx) = (dir.clone(), tx.clone());
            tokio::spawn(async move {
                match session(s, &dir, n).await {
                    Ok(Some(d)) => {
                        let _ = tx.send(d).await;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!("demo mailbox: {e}"),
                }
            });
        }
    });
    Ok((addr, rx))
}

async fn session(
    s: tokio::net::TcpStream,
    dir: &Path,
    n: u32,
) -> anyhow::Result<Option<Delivered>> {
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut t = String::new();
    let mut delivered = None;
    macro_rules! say {
        ($($a:tt)*) => {{
            let l = format!($($a)*);
            t.push_str(&format!("S: {l}\n"));
            w.write_all(format!("{l}\r\n").as_bytes()).await?;
        }};
    }
    say!("220 mailbox.example.com ESMTP softfax demo mailbox");
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            break;
        }
        let cmd = line.trim_end().to_string();
        t.push_str(&format!("C: {cmd}\n"));
        let verb = cmd.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                t.push_str("S: 250-mailbox.example.com\n");
                w.write_all(b"250-mailbox.example.com\r\n").await?;
                say!("250 8BITMIME");
            }
            "HELO" => say!("250 mailbox.example.com"),
            "MAIL" | "RCPT" | "RSET" | "NOOP" => say!("250 2.0.0 Ok"),
            "DATA" => {
                say!("354 End data with <CR><LF>.<CR><LF>");
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await? == 0 {
                        anyhow::bail!("the client left during DATA");
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    let l = l.strip_prefix(b".").unwrap_or(&l);
                    if data.len() + l.len() > MAX_MESSAGE {
                        anyhow::bail!("a message over {MAX_MESSAGE} bytes");
                    }
                    data.extend_from_slice(l);
                }
                let path = dir.join(format!("{n}.eml"));
                std::fs::write(&path, &data)?;
                t.push_str(&format!("C: <{} bytes of fax-mail>\nC: .\n", data.len()));
                say!("250 2.0.0 Ok: delivered to {}", path.display());
                delivered = Some(path);
            }
            "QUIT" => {
                say!("221 2.0.0 Bye");
                break;
            }
            _ => say!("502 5.5.2 Not implemented"),
        }
    }
    Ok(delivered.map(|path| Delivered {
        path,
        transcript: t,
    }))
}
