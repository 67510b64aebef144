//! Many concurrent `dahdi:` channels on one process: every channel is a real FXO line
//! (`softfax_drivers::open("dahdi:N?root=…")`, the production ioctl/poll/read/write path)
//! on the FUSE fake `/dev/dahdi`, with a softfax fax terminal on it. Channels are
//! cross-connected in pairs inside the fake (caller ↔ answerer), so every terminal is in a
//! real fax call (CNG/CED, V.21, training, V.17 image data) and the fake adds no modem work
//! of its own.
//!
//! Criterion times one 20 ms block on all N channels; the summary after it runs a whole
//! E1's worth (30 channels) for 20 s of audio and divides by the CPU time of the whole
//! process (user + system, including the FUSE server thread and the kernel's FUSE round
//! trips, which a real DAHDI card does not need): **real-time channels per core**.
//!
//! Needs /dev/fuse and fusermount3 (Debian fuse3); prints SKIP otherwise.

#[path = "../tests/fake_dahdi/mod.rs"]
mod fake_dahdi;

use std::time::Instant;

use criterion::{Criterion, Throughput};
use fake_dahdi::far::CrossConnect;
use fake_dahdi::{FakeChannel, FakeDahdi, Mounted, SIG_FXSKS};
use softfax_drivers::sim::{FarEnd, test_page};
use softfax_drivers::{BLOCK, Line};
use softfax_dsp::fax::Terminal;
use softfax_dsp::g711::Law;
use softfax_dsp::t30::Config;

struct Chan {
    line: Box<dyn Line>,
    term: Terminal,
    caller: bool,
    tx: [i16; BLOCK],
    rx: [i16; BLOCK],
}

fn terminal(caller: bool) -> Terminal {
    if caller {
        Terminal::caller(Config::default(), vec![test_page()])
    } else {
        Terminal::answerer(Config::default())
    }
}

/// Mount a fake with `n` (even) cross-connected channels and open them all.
fn setup(n: usize, with_terminals: bool) -> Option<(Mounted, Vec<Chan>)> {
    let mut chans = Vec::new();
    for i in (0..n).step_by(2) {
        let (a, b) = CrossConnect::pair();
        chans.push(FakeChannel::new(
            i as i32 + 1,
            SIG_FXSKS,
            Law::Alaw,
            Box::new(a),
        ));
        chans.push(FakeChannel::new(
            i as i32 + 2,
            SIG_FXSKS,
            Law::Alaw,
            Box::new(b),
        ));
    }
    let m = match fake_dahdi::mount(FakeDahdi::new(chans)) {
        Ok(m) => m,
        Err(why) => {
            eprintln!("SKIP: fake /dev/dahdi: {why}");
            return None;
        }
    };
    let lines = (0..n)
        .map(|i| {
            let uri = format!("dahdi:{}?root={}", i + 1, m.root.display());
            let caller = i % 2 == 0;
            Chan {
                line: softfax_drivers::open(&uri, FarEnd::Receiver).unwrap(),
                term: terminal(caller && with_terminals),
                caller: caller && with_terminals,
                tx: [0; BLOCK],
                rx: [0; BLOCK],
            }
        })
        .collect();
    Some((m, lines))
}

fn block(chans: &mut [Chan], with_terminals: bool) {
    for c in chans.iter_mut() {
        if with_terminals {
            if c.term.outcome().is_some() {
                c.term = terminal(c.caller);
            }
            c.term.process(&c.rx, &mut c.tx);
        }
        c.line.exchange(&c.tx, &mut c.rx).unwrap();
    }
}

fn cpu_seconds() -> f64 {
    use nix::libc;
    // SAFETY: getrusage fills the struct we pass; all-zero is a valid rusage.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dahdi_channels");
    for n in [2usize, 8, 30] {
        for (name, term) in [("driver_only", false), ("with_fax_terminal", true)] {
            let Some((_m, mut chans)) = setup(n, term) else {
                return;
            };
            g.throughput(Throughput::Elements((n * BLOCK) as u64));
            g.bench_function(format!("{name}/{n}"), |b| {
                b.iter(|| block(&mut chans, term))
            });
        }
    }
    g.finish();
}

fn summary() {
    for (name, term) in [("driver only", false), ("with a fax terminal", true)] {
        let n = 30;
        let blocks = 1000; // 20 s of audio
        let Some((_m, mut chans)) = setup(n, term) else {
            return;
        };
        let (c0, w0) = (cpu_seconds(), Instant::now());
        for _ in 0..blocks {
            block(&mut chans, term);
        }
        let (cpu, wall) = (cpu_seconds() - c0, w0.elapsed().as_secs_f64());
        if term {
            // The calls must really be under way: negotiated, and into the image phase.
            let bytes: u64 = chans.iter().map(|c| c.term.transmit_bytes).sum();
            let modem: f64 = chans.iter().map(|c| c.term.modem_seconds()).sum();
            println!("  (after 20 s: {bytes} image bytes sent, {modem:.0} s of modem time in all)");
        }
        let audio = n as f64 * blocks as f64 * 0.02;
        println!(
            "dahdi {name}: {n} channels x 20 s in {wall:.2} s wall, {cpu:.2} s CPU: \
             {:.0} real-time channels per core ({:.1} us CPU per channel-block)",
            audio / cpu,
            cpu / (n * blocks) as f64 * 1e6
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}
