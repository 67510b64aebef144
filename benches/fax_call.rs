//! A complete 3-page call (ITU charts 1, 2 and 4, fine) between two softfax terminals back to
//! back in simulated time, with ECM (MMR) and without (MR). Throughput is in samples of call:
//! divide the elements/s criterion prints by 8000 for concurrent real-time calls per core
//! (twice that for terminals). `benches/spandsp_call_speed.sh` compares with spandsp.
//!
//!   cargo bench --bench fax_call

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use softfax::dsp::fax::{Terminal, run_pair};
use softfax::dsp::image::Resolution;
use softfax::dsp::t30::Config;

fn pages() -> Vec<softfax::dsp::image::Page> {
    [1, 2, 4]
        .iter()
        .map(|n| {
            let p = format!(
                "{}/vectors/ccitt-t24/pbm/itu{n}.pbm",
                env!("CARGO_MANIFEST_DIR")
            );
            softfax::dsp::pbm::read_pbm(&std::fs::read(p).unwrap(), Resolution::FINE)
                .unwrap()
                .remove(0)
        })
        .collect()
}

fn call(pages: &[softfax::dsp::image::Page], ecm: bool) -> u64 {
    let cfg = |id: &str| Config {
        ident: id.into(),
        ecm,
        ..Config::default()
    };
    let mut a = Terminal::caller(cfg("a"), pages.to_vec());
    let mut b = Terminal::answerer(cfg("b"));
    let n = run_pair(&mut a, &mut b, 3600);
    assert_eq!(b.received_pages().len(), 3);
    n
}

fn bench(c: &mut Criterion) {
    let pages = pages();
    let mut g = c.benchmark_group("fax_call_3_pages");
    g.sample_size(10);
    for ecm in [true, false] {
        let samples = call(&pages, ecm);
        eprintln!(
            "3-page call, ecm={ecm}: {:.1} s simulated",
            samples as f64 / 8000.0
        );
        g.throughput(Throughput::Elements(samples));
        g.bench_function(if ecm { "ecm_mmr" } else { "no_ecm_mr" }, |b| {
            b.iter(|| call(&pages, ecm))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
