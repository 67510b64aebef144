//! softfax's side of `benches/spandsp_tx_speed.sh`: run a softfax transmitter over SECONDS
//! of PRBS data (the 2²³ − 1 sequence, −13 dBm0; handed over a symbol's bits at a time)
//! REPEAT times (a fresh transmitter each
//! pass, blocks of 160 samples until it ends, CPU time of this process) and print
//! `samples=… seconds=…`, the line spandsp's `benches/spandsp_tx_time.c` prints.
//!
//! `cargo run --release --example modem_tx_time -- MODEM RATE SECONDS REPEAT [OUT.raw]`
//!
//! With OUT.raw, the first pass's signal is also kept and written there (s16le) after the
//! timing, for the script to decode with spandsp's receiver before it takes a ratio; run it
//! so with REPEAT 1 (keeping the signal costs a copy per block).

#[path = "common/timing.rs"]
mod timing;

use softfax::cli::modem::make_tx;
use softfax::dsp::modem::GetBit;
use softfax::dsp::modem::common::{Prbs23, Prbs23Words};

/// The PRBS, `left` bits of it, handed over as words when a transmitter asks for them
/// (softfax's transmitters take a symbol's bits in one call; spandsp's take a bit per call
/// of its `get_bit` callback, benches/spandsp_tx_time.c). The same bits either way.
struct Source {
    words: Prbs23Words,
    left: u64,
}

impl GetBit for Source {
    fn get_bit(&mut self) -> Option<bool> {
        (self.left > 0).then(|| {
            self.left -= 1;
            self.words.next_bits(1) != 0
        })
    }

    fn get_bits(&mut self, n: u32) -> (u32, u32) {
        let n = n.min(self.left.min(18) as u32);
        if n == 0 {
            return (0, 0);
        }
        self.left -= n as u64;
        (self.words.next_bits(n), n)
    }
}

fn main() {
    let (kind, rate, seconds, repeat, out_file) =
        timing::modem_args("modem_tx_time MODEM RATE SECONDS REPEAT [OUT.raw]");
    let seconds: u64 = seconds.parse().expect("SECONDS");
    let bits = seconds * rate as u64;
    let mut samples = 0u64;
    let t0 = timing::cpu_seconds();
    let mut out = [0i16; 160];
    let mut kept: Vec<i16> = Vec::new();
    for pass in 0..repeat {
        let mut tx = match make_tx(kind, rate, -13.0) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2)
            }
        };
        let mut src = Source {
            words: Prbs23::default().words(),
            left: bits,
        };
        loop {
            let n = tx.transmit(&mut out, &mut src);
            samples += n as u64;
            std::hint::black_box(&out);
            if pass == 0 && out_file.is_some() {
                kept.extend_from_slice(&out[..n]);
            }
            if n < out.len() {
                break;
            }
        }
    }
    let secs = timing::cpu_seconds() - t0;
    println!("samples={samples} seconds={secs:.4}");
    if let Some(path) = out_file {
        let bytes: Vec<u8> = kept.iter().flat_map(|v| v.to_le_bytes()).collect();
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
