//! softfax's side of `benches/spandsp_tx_speed.sh`: run a softfax transmitter over SECONDS
//! of PRBS data (the 2²³ − 1 sequence, −13 dBm0) REPEAT times (a fresh transmitter each
//! pass, blocks of 160 samples until it ends, CPU time of this process) and print
//! `samples=… seconds=…`, the line spandsp's `benches/spandsp_tx_time.c` prints.
//!
//! `cargo run --release --example modem_tx_time -- MODEM RATE SECONDS REPEAT`

use softfax::cli::modem::{ModemKind, make_tx};
use softfax::dsp::modem::common::Prbs23;

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
        eprintln!("usage: modem_tx_time MODEM RATE SECONDS REPEAT");
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
    let seconds: u64 = a[2].parse().expect("SECONDS");
    let repeat: usize = a[3].parse().expect("REPEAT");
    let bits = seconds * rate as u64;
    let mut samples = 0u64;
    let t0 = cpu_seconds();
    let wall = std::time::Instant::now();
    let mut out = [0i16; 160];
    for _ in 0..repeat {
        let mut tx = match make_tx(kind, rate, -13.0) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2)
            }
        };
        let mut prbs = Prbs23::default();
        let mut left = bits;
        let mut src = move || {
            (left > 0).then(|| {
                left -= 1;
                prbs.next_bit()
            })
        };
        loop {
            let n = tx.transmit(&mut out, &mut src);
            samples += n as u64;
            std::hint::black_box(&out);
            if n < out.len() {
                break;
            }
        }
    }
    let cpu = cpu_seconds() - t0;
    // /proc ticks are 10 ms: fall back to wall time for short runs.
    let secs = if cpu >= 0.5 {
        cpu
    } else {
        wall.elapsed().as_secs_f64()
    };
    println!("samples={samples} seconds={secs:.4}");
}
