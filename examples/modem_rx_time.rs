//! softfax's side of `benches/spandsp_rx_speed.sh`: run a softfax receiver over a raw s16le
//! file REPEAT times (blocks of 160 samples, a fresh receiver each pass, CPU time of this
//! process) and print `samples=… seconds=… trained=0|1`, the same line spandsp's peer
//! prints, so the script can take the ratio.
//!
//! `cargo run --release --example modem_rx_time -- MODEM RATE FILE.raw REPEAT`

use softfax::cli::modem::{ModemKind, make_rx};
use softfax::dsp::modem::{Collect, RxEvent};

fn cpu_seconds() -> f64 {
    // /proc/self/stat fields 14 and 15: user and system time in clock ticks.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 4 {
        eprintln!("usage: modem_rx_time MODEM RATE FILE.raw REPEAT");
        std::process::exit(2);
    }
    let kind = match a[0].as_str() {
        "v21" => ModemKind::V21,
        "v27ter" => ModemKind::V27ter,
        "v29" => ModemKind::V29,
        "v17" => ModemKind::V17,
        m => {
            eprintln!("unknown modem {m}");
            std::process::exit(2)
        }
    };
    let rate: u32 = a[1].parse().expect("RATE");
    let raw = std::fs::read(&a[2]).expect("readable FILE.raw");
    let samples: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let repeat: usize = a[3].parse().expect("REPEAT");
    let mut trained = false;
    let t0 = cpu_seconds();
    let wall = std::time::Instant::now();
    for _ in 0..repeat {
        let mut rx = match make_rx(kind, rate) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2)
            }
        };
        let mut sink = Collect::default();
        for chunk in samples.chunks(160) {
            rx.receive(chunk, &mut sink);
        }
        trained |= sink
            .events
            .iter()
            .any(|e| matches!(e.1, RxEvent::TrainingSucceeded))
            || (kind == ModemKind::V21 && !sink.bits.is_empty());
        std::hint::black_box(sink.bits.len());
    }
    let cpu = cpu_seconds() - t0;
    // /proc ticks are 10 ms: fall back to wall time for short runs.
    let secs = if cpu >= 0.5 {
        cpu
    } else {
        wall.elapsed().as_secs_f64()
    };
    println!(
        "samples={} seconds={secs:.4} trained={}",
        samples.len() * repeat,
        trained as u8
    );
}
