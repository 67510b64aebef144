//! softfax's side of `benches/spandsp_rx_speed.sh`: run a softfax receiver over a raw s16le
//! file REPEAT times (blocks of 160 samples, a fresh receiver each pass, CPU time of this
//! process) and print `samples=… seconds=… trained=0|1`, the same line spandsp's peer
//! prints, so the script can take the ratio. The timed passes do with the receiver's output
//! what spandsp's `bench` does with its own: count the bits and note the training (the
//! [`Count`] sink), so neither side pays for storing bits the other does not store. With
//! NPRBS (the signal carries the first NPRBS bits of the 2²³ − 1 PRBS, as `spandsp_modem tx
//! --prbs NPRBS` makes it) one more pass, untimed, keeps the bits and checks them, as
//! spandsp's peer checks its own (`spandsp_modem rx --prbs`): ` sync=0|1 bits=… errors=…
//! missing=…` (bits compared, wrong, and sent but not received), so that a receiver made
//! faster but wrong shows.
//!
//! `cargo run --release --example modem_rx_time -- MODEM RATE FILE.raw REPEAT [NPRBS]`

#[path = "common/timing.rs"]
mod timing;

use softfax::cli::modem::{ModemKind, make_rx};
use std::collections::HashMap;

use softfax::dsp::modem::common::Prbs23;
use softfax::dsp::modem::{Collect, RxEvent, RxSink};

fn main() {
    let (kind, rate, file, repeat, nprbs) =
        timing::modem_args("modem_rx_time MODEM RATE FILE.raw REPEAT [NPRBS]");
    let raw = std::fs::read(&file).expect("readable FILE.raw");
    let samples: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let new_rx = || {
        make_rx(kind, rate).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        })
    };
    let mut trained = false;
    let t0 = timing::cpu_seconds();
    for _ in 0..repeat {
        let mut rx = new_rx();
        let mut sink = Count::default();
        for chunk in samples.chunks(160) {
            rx.receive(chunk, &mut sink);
        }
        trained |= sink.trained || (kind == ModemKind::V21 && sink.bits > 0);
        std::hint::black_box((sink.bits, sink.xor));
    }
    let secs = timing::cpu_seconds() - t0;
    print!(
        "samples={} seconds={secs:.4} trained={}",
        samples.len() * repeat,
        trained as u8
    );
    match nprbs {
        Some(n) => {
            let mut rx = new_rx();
            let mut sink = Collect::default();
            for chunk in samples.chunks(160) {
                rx.receive(chunk, &mut sink);
            }
            let c = check_prbs(&sink.bits, n.parse().expect("NPRBS"));
            println!(
                " sync={} bits={} errors={} missing={}",
                c.sync as u8, c.bits, c.errors, c.missing
            )
        }
        None => println!(),
    }
}

/// The timed passes' sink: what spandsp's `bench` keeps of its receiver's output — the
/// number of bits and whether it trained — and an XOR of the bits, so that none of them
/// goes unused.
#[derive(Default)]
struct Count {
    bits: u64,
    xor: u32,
    trained: bool,
}

impl RxSink for Count {
    fn put_bit(&mut self, bit: bool) {
        self.bits += 1;
        self.xor ^= bit as u32;
    }
    fn put_bits(&mut self, bits: u32, n: u32) {
        self.bits += u64::from(n.min(32));
        self.xor ^= bits;
    }
    fn event(&mut self, event: RxEvent) {
        self.trained |= matches!(event, RxEvent::TrainingSucceeded);
    }
}

/// What [`check_prbs`] found.
struct PrbsCheck {
    sync: bool,
    bits: u64,
    errors: u64,
    missing: u64,
}

/// The received bits against the first `n` bits of the PRBS: find where they join it (23
/// received bits equal to a window of the sequence, which fixes the place, and 64 more that
/// agree), then count the bits compared, the wrong ones, and those sent but not received
/// (before the join and after the end). Bits after the sequence's end (the carrier's tail)
/// are not counted.
fn check_prbs(rx: &[bool], n: usize) -> PrbsCheck {
    const RUN: usize = 64;
    let mut p = Prbs23::default();
    let sent: Vec<bool> = (0..n).map(|_| p.next_bit()).collect();
    let mut at = HashMap::with_capacity(n);
    let mut w = 0u32;
    for (j, &b) in sent.iter().enumerate() {
        w = ((w << 1) | b as u32) & 0x7F_FFFF;
        if j >= 22 {
            at.insert(w, j + 1);
        }
    }
    let mut w = 0u32;
    for (i, &b) in rx.iter().enumerate() {
        w = ((w << 1) | b as u32) & 0x7F_FFFF;
        let Some(&j) = at.get(&w).filter(|_| i >= 22) else {
            continue;
        };
        // rx[i + 1..] should go on as sent[j..].
        let agree = rx[i + 1..]
            .iter()
            .zip(&sent[j..])
            .take(RUN)
            .all(|(a, b)| a == b);
        if !agree || rx.len() < i + 1 + RUN.min(n - j) {
            continue;
        }
        let compared = (rx.len() - i - 1).min(n - j);
        let errors = rx[i + 1..]
            .iter()
            .zip(&sent[j..])
            .take(compared)
            .filter(|(a, b)| a != b)
            .count();
        return PrbsCheck {
            sync: true,
            bits: (compared + 23) as u64,
            errors: errors as u64,
            missing: (n - j - compared + j - 23) as u64,
        };
    }
    PrbsCheck {
        sync: false,
        bits: 0,
        errors: 0,
        missing: n as u64,
    }
}
