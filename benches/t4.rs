//! Encode and decode speed of MH, MR (K=4) and MMR on the 8 ITU charts, in rows per second
//! (`Throughput::Elements(rows)`). The libtiff comparison is `benches/libtiff_compare.sh`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use softfax::dsp::image::{Page, Resolution};
use softfax::dsp::pbm;
use softfax::dsp::t4::{BitOrder, Coding, DecodeOptions, Decoder, EncodeOptions, Encoder};

fn charts() -> Vec<Page> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/ccitt-t24/pbm");
    (1..=8)
        .map(|n| {
            pbm::read_pbm(
                &std::fs::read(dir.join(format!("itu{n}.pbm"))).unwrap(),
                Resolution::FINE,
            )
            .unwrap()
            .remove(0)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pages = charts();
    let rows: u64 = pages.iter().map(|p| p.height as u64).sum();
    for coding in [Coding::Mh, Coding::Mr { k: 4 }, Coding::Mmr] {
        let mut g = c.benchmark_group(format!("t4/{}", coding.name()));
        g.throughput(Throughput::Elements(rows));
        g.sample_size(20);
        let opts = EncodeOptions::tiff(coding, 1728);
        let coded: Vec<Vec<u8>> = pages
            .iter()
            .map(|p| {
                let mut v = Vec::new();
                Encoder::encode_page(opts, &p.data, p.stride(), &mut v).unwrap();
                v
            })
            .collect();
        g.bench_function(BenchmarkId::new("encode", "itu1-8"), |b| {
            let mut out = Vec::with_capacity(1 << 20);
            b.iter(|| {
                for p in &pages {
                    out.clear();
                    Encoder::encode_page(opts, black_box(&p.data), p.stride(), &mut out).unwrap();
                }
                black_box(out.len())
            })
        });
        g.bench_function(BenchmarkId::new("decode", "itu1-8"), |b| {
            let mut dopts = DecodeOptions::new(coding, 1728);
            dopts.bit_order = BitOrder::MsbFirst;
            b.iter(|| {
                let mut n = 0usize;
                for (p, data) in pages.iter().zip(&coded) {
                    dopts.rows = Some(p.height);
                    Decoder::decode_page(dopts, black_box(data), |r| n += r[0] as usize).unwrap();
                }
                black_box(n)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
