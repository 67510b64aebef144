//! Render a fax-mail into fax pages and write them as PNG for people to look at.
//!
//! ```sh
//! cargo run --release --example fax_mail_pages -- [MESSAGE.eml] [--out=DIR] [--cover] [--standard] [--letter]
//! ```
//! Without a message it renders a built-in sample (a text note in ISO-8859-1 quoted-printable,
//! and a TIFF chart at 300 dpi made here). Writes DIR/page-N.png (default `fax-pages/`).

use std::path::PathBuf;

use softfax::documents::{Paper, RenderOptions, message_to_pages};
use softfax::dsp::image::{Page, Resolution};
use softfax::dsp::tiff::{self, WriteOptions};
use softfax::pngout::page_png;

fn sample() -> Vec<u8> {
    // A 300 dpi "chart": a frame, a diagonal and bars, A4 wide (2480 pels).
    let (w, h) = (2480u32, 1200u32);
    let mut p = Page::new(
        w,
        h,
        Resolution {
            x_dpi: 300.0,
            y_dpi: 300.0,
        },
    );
    let mut set = |x: u32, y: u32| p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
    for y in 0..h {
        for x in 0..w {
            let frame = !(100..w - 100).contains(&x) || !(100..h - 100).contains(&y);
            let inside = (60..w - 60).contains(&x) && (60..h - 60).contains(&y);
            let bar = (300..2200).contains(&x)
                && (200..h - 200).contains(&y)
                && (y / 100) % 2 == 0
                && x % 400 < 40 + (y / 100) * 20;
            let diag = (x as i64 - y as i64 * 2).abs() < 3;
            if (frame && inside) || bar || diag {
                set(x, y);
            }
        }
    }
    let tif = tiff::write_pages(
        &[p],
        WriteOptions {
            coding: Some(softfax::dsp::t4::Coding::Mmr),
            align_eol: false,
        },
    )
    .unwrap();
    let b64 = base64_lines(&tif);
    let mut m = String::new();
    m.push_str("From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.com>\r\n");
    m.push_str("To: FAX=+14085557442@gw.example.com\r\n");
    m.push_str("Subject: Sample fax with a chart\r\nDate: Fri, 27 Nov 2026 02:30:00 +0000\r\n");
    m.push_str("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n");
    m.push_str("--XX\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    m.push_str("Gr=FC=DFe aus K=F6ln!\r\n\r\nThis note is set in the embedded DejaVu Sans Mono; the chart after it was\r\n");
    m.push_str("a 300 dpi TIFF, scaled to 204 x 196 dpi.\r\n\r\n\tTabs\tline\tup\tat\t8.\r\n");
    m.push_str(
        &"A long line that wraps at eighty columns because nobody pressed return. ".repeat(3),
    );
    m.push_str("\r\n--XX\r\nContent-Type: image/tiff; application=faxbw; name=chart.tif\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    m.push_str(&b64);
    m.push_str("--XX--\r\n");
    m.into_bytes()
}

fn base64_lines(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
        if i % 19 == 18 {
            s.push_str("\r\n");
        }
    }
    s.push_str("\r\n");
    s
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: Vec<&str> = args
        .iter()
        .filter(|a| a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let raw = match pos.first() {
        Some(p) => std::fs::read(p)?,
        None => sample(),
    };
    let out = PathBuf::from(
        flags
            .iter()
            .find_map(|f| f.strip_prefix("--out="))
            .unwrap_or("fax-pages"),
    );
    let opts = RenderOptions {
        resolution: if flags.contains(&"--standard") {
            Resolution::STANDARD
        } else {
            Resolution::FINE
        },
        paper: if flags.contains(&"--letter") {
            Paper::Letter
        } else {
            Paper::A4
        },
        cover_page: flags.contains(&"--cover"),
        recipient: "+14085557442".into(),
        gateway_id: "gw.example.com".into(),
    };
    let doc = match message_to_pages(&raw, &opts) {
        Ok(d) => d,
        Err(e) => {
            let (code, esc, text) = e.smtp_reply();
            anyhow::bail!(
                "{e}\nSMTP reply: {code} {esc} {text} (abort_cause = {})",
                e.abort_cause()
            );
        }
    };
    std::fs::create_dir_all(&out)?;
    for (i, p) in doc.pages.iter().enumerate() {
        let path = out.join(format!("page-{}.png", i + 1));
        page_png(p, std::io::BufWriter::new(std::fs::File::create(&path)?))?;
        println!(
            "{} ({} x {}{})",
            path.display(),
            p.width,
            p.height,
            if i < doc.cover_pages { ", cover" } else { "" }
        );
    }
    Ok(())
}
