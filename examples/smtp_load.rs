//! Load generator for `softfax serve` (benches/smtp_load.sh drives it): N concurrent SMTP
//! sessions, each sending M small fax-mails (a text note), one command at a time (no
//! PIPELINING), timing every reply. Every message goes to its own fax number
//! (`+1408` and 7 digits), so no destination's call limit holds a message back.
//!
//! usage: smtp_load ADDR SESSIONS MESSAGES_PER_SESSION [REPLY_TIMEOUT_S]
//!
//! A reply that takes longer than REPLY_TIMEOUT_S (default 600) ends its session as an
//! error, so the run always ends. Prints one line: sessions, accepted, refused, errors,
//! seconds, accepted messages/s, p50 and p99 of every reply's time (ms), p50 and p99 of the
//! replies to the final dot (ms), the longest reply (ms) and the final-dot replies by code
//! and enhanced code (`dot_codes=250_2.0.0:99000,450_4.3.2:1000`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A whole reply: its code and its last line's enhanced status code (or "").
async fn reply(
    r: &mut BufReader<OwnedReadHalf>,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let read = async {
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).await? == 0 {
                return Err(std::io::Error::other("closed"));
            }
            if l.as_bytes().get(3) != Some(&b'-') {
                let code = l.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
                let esc = l.get(4..).unwrap_or("").split_whitespace().next();
                let esc = esc.filter(|e| e.contains('.')).unwrap_or("").to_string();
                return Ok((code, esc));
            }
        }
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| std::io::Error::other("reply timed out"))?
}

#[derive(Default)]
struct Stats {
    accepted: u64,
    refused: u64,
    errors: u64,
    latencies: Vec<Duration>,
    dot: Vec<Duration>,
    dot_codes: BTreeMap<String, u64>,
}

struct Conn {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
    timeout: Duration,
}

impl Conn {
    async fn cmd(&mut self, line: &[u8], lat: &mut Vec<Duration>) -> std::io::Result<u16> {
        Ok(self.cmd_esc(line, lat).await?.0)
    }

    async fn cmd_esc(
        &mut self,
        line: &[u8],
        lat: &mut Vec<Duration>,
    ) -> std::io::Result<(u16, String)> {
        let t = Instant::now();
        self.w.write_all(line).await?;
        let c = reply(&mut self.r, self.timeout).await?;
        lat.push(t.elapsed());
        Ok(c)
    }
}

async fn session(addr: String, n: usize, id: usize, timeout: Duration) -> Stats {
    let mut st = Stats {
        latencies: Vec::with_capacity(n * 4 + 3),
        dot: Vec::with_capacity(n),
        ..Stats::default()
    };
    let run = async {
        let t = Instant::now();
        let s = tokio::time::timeout(timeout, TcpStream::connect(&addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        let (r, w) = s.into_split();
        let mut c = Conn {
            r: BufReader::new(r),
            w,
            timeout,
        };
        let (greet, _) = reply(&mut c.r, timeout).await?;
        st.latencies.push(t.elapsed());
        if greet != 220 {
            st.refused += n as u64;
            return Ok::<(), std::io::Error>(());
        }
        c.cmd(b"EHLO load.test\r\n", &mut st.latencies).await?;
        for m in 0..n {
            c.cmd(b"MAIL FROM:<load@example.org>\r\n", &mut st.latencies)
                .await?;
            // One number per message: +1408 and 7 digits.
            let rcpt = format!(
                "RCPT TO:<FAX=+1408{:07}@example.com>\r\n",
                (id * n + m) % 10_000_000
            );
            if c.cmd(rcpt.as_bytes(), &mut st.latencies).await? != 250 {
                st.refused += 1;
                c.cmd(b"RSET\r\n", &mut st.latencies).await?;
                continue;
            }
            c.cmd(b"DATA\r\n", &mut st.latencies).await?;
            let body = format!(
                "From: <load@example.org>\r\nSubject: load {id}/{m}\r\nMessage-ID: <{id}.{m}@load>\r\n\r\nLoad test message {m} of session {id}.\r\n.\r\n"
            );
            let t = Instant::now();
            let (code, esc) = c.cmd_esc(body.as_bytes(), &mut st.latencies).await?;
            st.dot.push(t.elapsed());
            *st.dot_codes.entry(format!("{code}_{esc}")).or_default() += 1;
            match code {
                250 => st.accepted += 1,
                _ => st.refused += 1,
            }
        }
        c.cmd(b"QUIT\r\n", &mut st.latencies).await?;
        Ok(())
    };
    if let Err(e) = run.await {
        eprintln!("session {id}: {e}");
        st.errors += 1;
    }
    st
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !(4..=5).contains(&args.len()) {
        eprintln!("usage: smtp_load ADDR SESSIONS MESSAGES_PER_SESSION [REPLY_TIMEOUT_S]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let sessions: usize = args[2].parse().expect("SESSIONS");
    let per: usize = args[3].parse().expect("MESSAGES_PER_SESSION");
    let timeout = Duration::from_secs(args.get(4).map_or(600, |t| t.parse().expect("SECONDS")));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let start = Instant::now();
    let results = rt.block_on(async {
        let tasks: Vec<_> = (0..sessions)
            .map(|i| tokio::spawn(session(addr.clone(), per, i, timeout)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("a session task"));
        }
        out
    });
    let secs = start.elapsed().as_secs_f64();
    let mut all = Stats::default();
    for s in results {
        all.accepted += s.accepted;
        all.refused += s.refused;
        all.errors += s.errors;
        all.latencies.extend(s.latencies);
        all.dot.extend(s.dot);
        for (c, k) in s.dot_codes {
            *all.dot_codes.entry(c).or_default() += k;
        }
    }
    all.latencies.sort();
    all.dot.sort();
    let codes: Vec<String> = all
        .dot_codes
        .iter()
        .map(|(c, k)| format!("{c}:{k}"))
        .collect();
    println!(
        "sessions={sessions} accepted={} refused={} errors={} seconds={secs:.2} msgs_per_s={:.1} p50_ms={:.2} p99_ms={:.2} dot_p50_ms={:.2} dot_p99_ms={:.2} max_ms={:.2} dot_codes={}",
        all.accepted,
        all.refused,
        all.errors,
        all.accepted as f64 / secs,
        percentile(&all.latencies, 0.50),
        percentile(&all.latencies, 0.99),
        percentile(&all.dot, 0.50),
        percentile(&all.dot, 0.99),
        percentile(&all.latencies, 1.0),
        codes.join(","),
    );
}
