//! Codec-only timing for `benches/libtiff_compare.sh`: decodes every page of a T.4/T.6 TIFF
//! and encodes the pages again with the same coding, in process, and prints the best
//! seconds of `runs` passes for each — the same work `benches/libtiff_codec.c` makes
//! libtiff do, in memory on both sides (the file is read once, before the timing).
//!
//! `cargo run --release --example t4_codec_time -- FILE.tif [RUNS]`
//! prints `decode <seconds> <pages>` and `encode <seconds> <pages>`.

use std::hint::black_box;

#[path = "common/timing.rs"]
mod timing;

use softfax::dsp::t4::{
    BitOrder, Coding, DecodeOptions, Decoder, EncodeOptions, Encoder, RowStatus,
};
use softfax::dsp::tiff::{self, FillOrder};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: t4_codec_time FILE.tif [RUNS]");
    let runs: usize = args.next().map(|r| r.parse().expect("RUNS")).unwrap_or(5);
    let data = std::fs::read(&path).expect("readable file");
    let ifds = tiff::parse(&data).expect("a TIFF");
    let pages: Vec<_> = ifds
        .iter()
        .map(|i| tiff::decode_ifd(&data, i).expect("decodable").0)
        .collect();
    let coding = match ifds[0].coding().expect("a T.4/T.6 TIFF") {
        Coding::Mr { .. } => Coding::Mr { k: 4 },
        c => c,
    };

    let mut best_dec = f64::MAX;
    let mut row_out = Vec::new();
    for _ in 0..runs {
        let t0 = timing::cpu_seconds();
        for info in &ifds {
            let mut opts = DecodeOptions::new(coding, info.width);
            opts.bit_order = if info.fill_order == FillOrder::MsbFirst {
                BitOrder::MsbFirst
            } else {
                BitOrder::LsbFirst
            };
            opts.rows = Some(info.height);
            let mut d = Decoder::new(opts).unwrap();
            d.push(info.strip_data(&data, 0));
            d.finish_input();
            // The page's rows painted in place, as libtiff decodes a strip into one buffer.
            let stride = (info.width as usize).div_ceil(8);
            row_out.resize(stride * info.height as usize, 0);
            for row in row_out.chunks_exact_mut(stride) {
                if d.next_row_into(row).unwrap() != RowStatus::Row {
                    break;
                }
            }
            black_box(&row_out);
        }
        best_dec = best_dec.min(timing::cpu_seconds() - t0);
    }

    let mut best_enc = f64::MAX;
    let mut coded = Vec::with_capacity(1 << 20);
    for _ in 0..runs {
        let t0 = timing::cpu_seconds();
        for p in &pages {
            coded.clear();
            Encoder::encode_page(
                EncodeOptions::tiff(coding, p.width),
                &p.data,
                p.stride(),
                &mut coded,
            )
            .unwrap();
            black_box(&coded);
        }
        best_enc = best_enc.min(timing::cpu_seconds() - t0);
    }
    println!("decode {best_dec:.6} {}", pages.len());
    println!("encode {best_enc:.6} {}", pages.len());
}
