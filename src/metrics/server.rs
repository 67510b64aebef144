//! `GET /metrics` over HTTP/1.x (RFC 9112), just enough for a Prometheus scraper: one
//! request per connection, the answer in the text format with
//! `Content-Type: text/plain; version=0.0.4`, then the connection is closed. Any other path
//! is 404, any other method 405; a request head over 8 KiB or slower than 10 s is dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Collect, global};

/// The content type of the text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Bind `addr` for the metrics endpoint.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serve `/metrics` on `listener` forever; `extra` adds the gateway's own gauges.
pub async fn serve(listener: TcpListener, extra: Arc<dyn Collect>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("metrics accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let extra = extra.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &*extra).await {
                tracing::debug!(%peer, "metrics request: {e}");
            }
        });
    }
}

/// The request line of a request head (`GET /metrics HTTP/1.1`), once the head is complete.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let first = head[..end].split(|&b| b == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?.trim_end();
    let mut it = first.split(' ');
    let (method, target) = (it.next()?, it.next()?);
    Some((method, target))
}

async fn answer(mut s: TcpStream, extra: &dyn Collect) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            if request_line(&head).is_some() || head.len() > 8192 {
                return Ok::<_, std::io::Error>(());
            }
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            head.extend_from_slice(&buf[..n]);
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .is_err()
    {
        return Ok(());
    }
    let (status, body) = match request_line(&head) {
        None => ("400 Bad Request", String::from("bad request\n")),
        Some(("GET", t)) if t == "/metrics" || t.starts_with("/metrics?") => {
            ("200 OK", global().render(Some(extra)))
        }
        Some(("GET", _)) => ("404 Not Found", String::from("see /metrics\n")),
        Some(_) => ("405 Method Not Allowed", String::from("GET only\n")),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(reply.as_bytes()).await?;
    s.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            request_line(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(request_line(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None);
    }
}
