//! softfax's side of `benches/spandsp_rx_speed.sh`: run a softfax receiver over a raw s16le
//! file REPEAT times (blocks of 160 samples, a fresh receiver each pass, CPU time of this
//! process) and print `samples=… seconds=… trained=0|1`, the same line spandsp's peer
//! prints, so the script can take the ratio.
//!
//! `cargo run --release --example modem_rx_time -- MODEM RATE FILE.raw REPEAT`

#[path = "common/timing.rs"]
mod timing;

use softfax::cli::modem::{ModemKind, make_rx};
use softfax::dsp::modem::{Collect, RxEvent};

fn main() {
    let (kind, rate, file, repeat) = timing::modem_args("modem_rx_time MODEM RATE FILE.raw REPEAT");
    let raw = std::fs::read(&file).expect("readable FILE.raw");
    let samples: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut trained = false;
    let t0 = timing::cpu_seconds();
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
    let secs = timing::cpu_seconds() - t0;
    println!(
        "samples={} seconds={secs:.4} trained={}",
        samples.len() * repeat,
        trained as u8
    );
}
