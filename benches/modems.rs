//! Modem speed: samples per second through each transmitter and receiver
//! (`Throughput::Elements(samples)`); divide by 8000 for real-time channels per core.
//! The spandsp comparison is `benches/spandsp_rx_speed.sh`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use softfax::cli::modem::{ModemKind, make_rx, make_tx, name, rates};
use softfax::dsp::modem::Collect;
use softfax::dsp::modem::common::Prbs23;

fn signal(kind: ModemKind, rate: u32, seconds: usize) -> Vec<i16> {
    let mut tx = make_tx(kind, rate, -13.0).unwrap();
    let mut prbs = Prbs23::default();
    let mut src = move || Some(prbs.next_bit());
    let mut out = vec![0i16; seconds * 8000];
    let n = tx.transmit(&mut out, &mut src);
    out.truncate(n);
    out
}

fn bench(c: &mut Criterion) {
    for kind in [
        ModemKind::V21,
        ModemKind::V27ter,
        ModemKind::V29,
        ModemKind::V17,
    ] {
        for &rate in rates(kind) {
            let sig = signal(kind, rate, 10);
            let mut g = c.benchmark_group(format!("modem/{}/{rate}", name(kind)));
            g.throughput(Throughput::Elements(sig.len() as u64));
            g.sample_size(10);
            g.bench_function("rx", |b| {
                b.iter(|| {
                    let mut rx = make_rx(kind, rate).unwrap();
                    let mut sink = Collect::default();
                    for chunk in sig.chunks(160) {
                        rx.receive(black_box(chunk), &mut sink);
                    }
                    black_box(sink.bits.len())
                })
            });
            g.bench_function("tx", |b| {
                let mut out = vec![0i16; sig.len()];
                b.iter(|| {
                    let mut tx = make_tx(kind, rate, -13.0).unwrap();
                    let mut prbs = Prbs23::default();
                    let mut src = move || Some(prbs.next_bit());
                    black_box(tx.transmit(&mut out, &mut src))
                })
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
