//! Many concurrent `sim:` lines on one core, each with a full softfax fax terminal on it
//! (issue 7 §4, the `sim:` half; drivers/benches/dahdi_channels.rs is the DAHDI half).
//!
//! A `sim:` line is the production `softfax_drivers::sim::SimLine` — its far end is a second
//! softfax terminal behind two line-simulator directions — so one channel here is two
//! terminals (caller and answerer) plus the line model: a fax call costs at least this much
//! on a real line, where the far end is not ours to compute. The channels run whole fax
//! calls (CNG/CED, V.21, TCF, a V.17 14400 ECM page, post-page exchange) one after another,
//! started at staggered times so that every phase of a call is represented at any moment.
//!
//! Criterion times one 20 ms block on all N channels (throughput = samples per channel).
//! The summary after it runs N channels for 60 s of audio on this thread and divides by the
//! thread's CPU time (from /proc/thread-self/stat, so other processes on the machine do not
//! count): **real-time channels per core**, for a clean line and an impaired one
//! (`snr=30&drift_ppm=50&law=alaw`).
//!
//! `cargo bench --bench sim_channels` (`-- --quick` for criterion's short run).

use std::time::Instant;

use criterion::{Criterion, Throughput};
use softfax::drivers::sim::{FarEnd, SimLine, test_page};
use softfax::drivers::{BLOCK, Line};
use softfax::dsp::fax::Terminal;
use softfax::dsp::image::Page;
use softfax::dsp::t30::Config;

struct Chan {
    query: &'static str,
    page: Page,
    line: SimLine,
    term: Terminal,
    tx: [i16; BLOCK],
    rx: [i16; BLOCK],
    calls: u32,
}

impl Chan {
    fn new(query: &'static str, page: Page) -> Chan {
        Chan {
            line: SimLine::new(query, FarEnd::Receiver).expect("valid sim: query"),
            term: Terminal::caller(Config::default(), vec![page.clone()]),
            query,
            page,
            tx: [0; BLOCK],
            rx: [0; BLOCK],
            calls: 0,
        }
    }

    /// One 20 ms block; a finished call is replaced by a new one.
    fn step(&mut self) {
        self.term.process(&self.rx, &mut self.tx);
        if !self
            .line
            .exchange(&self.tx, &mut self.rx)
            .expect("sim: lines do not fail")
        {
            self.term.line_down();
        }
        if self.term.outcome().is_some() {
            self.calls += 1;
            self.line = SimLine::new(self.query, FarEnd::Receiver).expect("valid");
            self.term = Terminal::caller(Config::default(), vec![self.page.clone()]);
            self.rx = [0; BLOCK];
        }
    }
}

/// `n` channels, channel i advanced by a different number of blocks (up to a call's length).
fn channels(n: usize, query: &'static str) -> Vec<Chan> {
    let page = test_page();
    (0..n)
        .map(|i| {
            let mut c = Chan::new(query, page.clone());
            for _ in 0..(i * 397) % 1400 {
                c.step();
            }
            c
        })
        .collect()
}

/// CPU time of this thread, seconds (Linux: utime + stime in clock ticks of 100 Hz).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name in parentheses; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Resident memory of this process, KiB (Linux /proc/self/statm, 4 KiB pages).
fn rss_kib() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4.0)
}

const CLEAN: &str = "";
const IMPAIRED: &str = "snr=30&drift_ppm=50&law=alaw";

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim_channels");
    for n in [1usize, 8, 32] {
        let mut chans = channels(n, CLEAN);
        g.throughput(Throughput::Elements((n * BLOCK) as u64));
        g.bench_function(format!("block_x{n}"), |b| {
            b.iter(|| {
                for ch in chans.iter_mut() {
                    ch.step();
                }
            })
        });
    }
    g.finish();
}

fn summary() {
    println!("\nreal-time channels per core (sim: line + softfax terminal, whole calls):");
    println!(
        "{:<32} {:>5} {:>9} {:>8} {:>8} {:>7} {:>14} {:>10}",
        "line", "chans", "audio_s", "cpu_s", "wall_s", "calls", "rt_chans/core", "KiB/chan"
    );
    for (name, query) in [
        ("sim: (clean)", CLEAN),
        ("sim:?snr=30&drift_ppm=50&law=alaw", IMPAIRED),
    ] {
        let n = 32;
        let seconds = 60;
        let rss0 = rss_kib();
        let mut chans = channels(n, query);
        // Resident memory the channels added (state, buffers, the line models), per channel.
        let kib = match (rss0, rss_kib()) {
            (Some(a), Some(b)) if b >= a => format!("{:.0}", (b - a) / n as f64),
            _ => "-".into(),
        };
        let cpu0 = thread_cpu_seconds();
        let t0 = Instant::now();
        for _ in 0..seconds * 50 {
            for ch in chans.iter_mut() {
                ch.step();
            }
        }
        let wall = t0.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu_seconds()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall,
        };
        let audio = (n * seconds) as f64;
        let calls: u32 = chans.iter().map(|c| c.calls).sum();
        println!(
            "{name:<32} {n:>5} {audio:>9.0} {cpu:>8.2} {wall:>8.2} {calls:>7} {:>14.0} {kib:>10}",
            audio / cpu
        );
    }
    println!(
        "(each channel = two fax terminals and a two-way line model; 120 E1 channels need 120 / that of a core)"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}
