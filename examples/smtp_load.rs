//! Load generator for `softfax serve` (benches/smtp_load.sh drives it): N concurrent SMTP
//! sessions, each sending M small fax-mails (a text note) with PIPELINING-free
//! request/response, measuring every reply's latency.
//!
//! usage: smtp_load ADDR SESSIONS MESSAGES_PER_SESSION
//! Prints one line: sessions, accepted, refused, errors, seconds, msgs/s, p50 and p99 reply
//! latency (ms).

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<u16> {
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).await? == 0 {
            return Err(std::io::Error::other("closed"));
        }
        if l.as_bytes().get(3) != Some(&b'-') {
            return Ok(l.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0));
        }
    }
}

struct Stats {
    accepted: u64,
    refused: u64,
    errors: u64,
    latencies: Vec<Duration>,
}

async fn session(addr: String, n: usize, id: usize) -> Stats {
    let mut st = Stats {
        accepted: 0,
        refused: 0,
        errors: 0,
        latencies: Vec::with_capacity(n * 5 + 3),
    };
    let run = async {
        let s = TcpStream::connect(&addr).await?;
        let (r, mut w) = s.into_split();
        let mut r = BufReader::new(r);
        let t = Instant::now();
        let greet = reply(&mut r).await?;
        st.latencies.push(t.elapsed());
        if greet != 220 {
            st.refused += n as u64;
            return Ok::<(), std::io::Error>(());
        }
        let cmd = async |w: &mut tokio::net::tcp::OwnedWriteHalf,
                         r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
                         line: &[u8],
                         lat: &mut Vec<Duration>| {
            let t = Instant::now();
            w.write_all(line).await?;
            let c = reply(r).await?;
            lat.push(t.elapsed());
            Ok::<u16, std::io::Error>(c)
        };
        cmd(&mut w, &mut r, b"EHLO load.test\r\n", &mut st.latencies).await?;
        for m in 0..n {
            cmd(
                &mut w,
                &mut r,
                b"MAIL FROM:<load@example.org>\r\n",
                &mut st.latencies,
            )
            .await?;
            let rcpt = format!(
                "RCPT TO:<FAX=+1408555{:04}@example.com>\r\n",
                (id * 7 + m) % 10000
            );
            if cmd(&mut w, &mut r, rcpt.as_bytes(), &mut st.latencies).await? != 250 {
                st.refused += 1;
                cmd(&mut w, &mut r, b"RSET\r\n", &mut st.latencies).await?;
                continue;
            }
            cmd(&mut w, &mut r, b"DATA\r\n", &mut st.latencies).await?;
            let body = format!(
                "From: <load@example.org>\r\nSubject: load {id}/{m}\r\nMessage-ID: <{id}.{m}@load>\r\n\r\nLoad test message {m} of session {id}.\r\n.\r\n"
            );
            match cmd(&mut w, &mut r, body.as_bytes(), &mut st.latencies).await? {
                250 => st.accepted += 1,
                _ => st.refused += 1,
            }
        }
        cmd(&mut w, &mut r, b"QUIT\r\n", &mut st.latencies).await?;
        Ok(())
    };
    if run.await.is_err() {
        st.errors += 1;
    }
    st
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: smtp_load ADDR SESSIONS MESSAGES_PER_SESSION");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let sessions: usize = args[2].parse().expect("SESSIONS");
    let per: usize = args[3].parse().expect("MESSAGES_PER_SESSION");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let results = rt.block_on(async {
        let tasks: Vec<_> = (0..sessions)
            .map(|i| tokio::spawn(session(addr.clone(), per, i)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let secs = start.elapsed().as_secs_f64();
    let (mut acc, mut refd, mut err) = (0, 0, 0);
    let mut lat: Vec<Duration> = Vec::new();
    for s in results {
        acc += s.accepted;
        refd += s.refused;
        err += s.errors;
        lat.extend(s.latencies);
    }
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "sessions={sessions} accepted={acc} refused={refd} errors={err} seconds={secs:.2} msgs_per_s={:.1} p50_ms={:.2} p99_ms={:.2}",
        acc as f64 / secs,
        pct(0.50),
        pct(0.99)
    );
}
