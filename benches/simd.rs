//! Each SIMD kernel on each ISA this CPU has, at equaliser/filter lengths (the RustFFT
//! `bench_compare_scalar_sse_avx` habit): the speed-up over scalar, measured side by side.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use num_complex::Complex32;
use softfax::dsp::simd::Isa;

fn bench(c: &mut Criterion) {
    let f: Vec<f32> = (0..256).map(|i| (i as f32 * 0.37).sin()).collect();
    let x: Vec<Complex32> = (0..256)
        .map(|i| Complex32::new((i as f32 * 0.11).cos(), (i as f32 * 0.23).sin()))
        .collect();
    let mut w: Vec<Complex32> = x.iter().rev().copied().collect();
    for n in [27usize, 64, 255] {
        let mut g = c.benchmark_group(format!("simd/n{n}"));
        g.throughput(Throughput::Elements(n as u64));
        for isa in Isa::available() {
            g.bench_with_input(BenchmarkId::new("dot_f32", isa.name()), &n, |b, &n| {
                b.iter(|| isa.dot_f32(black_box(&f[..n]), black_box(&f[1..n + 1])))
            });
            g.bench_with_input(
                BenchmarkId::new("dot_real_complex", isa.name()),
                &n,
                |b, &n| b.iter(|| isa.dot_real_complex(black_box(&f[..n]), black_box(&x[..n]))),
            );
            g.bench_with_input(BenchmarkId::new("dot_complex", isa.name()), &n, |b, &n| {
                b.iter(|| isa.dot_complex(black_box(&w[..n]), black_box(&x[..n])))
            });
            g.bench_with_input(BenchmarkId::new("lms_update", isa.name()), &n, |b, &n| {
                b.iter(|| {
                    isa.lms_update(
                        black_box(&mut w[..n]),
                        Complex32::new(1e-9, -1e-9),
                        black_box(&x[..n]),
                    )
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
