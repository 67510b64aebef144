//! Speed of `documents::message_to_pages` (fax-mail → fax pages at 204 × 196 dpi, A4), in
//! messages per second: a 3-page text/plain mail (quoted-printable ISO-8859-1, 190 lines, 65
//! to an A4 page), and a mail with a 300 dpi A4 TIFF (G4, 2480 × 3508) that is decoded,
//! scaled to 1687 × 2287 and centred. `cargo bench --bench documents`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use softfax::documents::{RenderOptions, message_to_pages};
use softfax::dsp::image::{Page, Resolution};
use softfax::dsp::t4::Coding;
use softfax::dsp::tiff::{self, WriteOptions};

fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            s.push(if k <= c.len() {
                A[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
        if i % 19 == 18 {
            s.push_str("\r\n");
        }
    }
    s.push_str("\r\n");
    s
}

fn text_mail() -> Vec<u8> {
    let mut m = b"From: a@example.com\r\nSubject: three pages\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".to_vec();
    for i in 0..190 {
        m.extend_from_slice(
            format!(
                "{i:3}: Gr=FC=DFe aus K=F6ln, the quick brown fox jumps over the lazy dog.\r\n"
            )
            .as_bytes(),
        );
    }
    m
}

fn tiff_mail() -> Vec<u8> {
    // A4 at 300 dpi: a frame, bars and text-like speckle rows.
    let (w, h) = (2480u32, 3508u32);
    let mut p = Page::new(
        w,
        h,
        Resolution {
            x_dpi: 300.0,
            y_dpi: 300.0,
        },
    );
    for y in 0..h {
        let row = p.row_mut(y);
        for x in 0..w {
            let frame = !(130..w - 130).contains(&x) || !(130..h - 130).contains(&y);
            let inside = (118..w - 118).contains(&x) && (118..h - 118).contains(&y);
            let text = (300..3200).contains(&y)
                && (y / 50) % 2 == 0
                && (x / 7 + y / 3) % 5 < 2
                && (300..2100).contains(&x);
            if (frame && inside) || text {
                row[x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    let tif = tiff::write_pages(
        &[p],
        WriteOptions {
            coding: Some(Coding::Mmr),
            align_eol: false,
        },
    )
    .unwrap();
    let mut m = b"MIME-Version: 1.0\r\nContent-Type: image/tiff; application=faxbw\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    m.extend_from_slice(base64(&tif).as_bytes());
    m
}

fn bench(c: &mut Criterion) {
    let opts = RenderOptions::default();
    let mut g = c.benchmark_group("documents");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    let text = text_mail();
    assert_eq!(message_to_pages(&text, &opts).unwrap().pages.len(), 3);
    g.bench_function("text_3_pages", |b| {
        b.iter(|| message_to_pages(black_box(&text), &opts).unwrap())
    });
    let tif = tiff_mail();
    assert_eq!(message_to_pages(&tif, &opts).unwrap().pages.len(), 1);
    g.bench_function("tiff_300dpi_a4", |b| {
        b.iter(|| message_to_pages(black_box(&tif), &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
