//! Fax-mail → fax pages, against independent implementations: messages are written by Python's
//! `email` package (not by us), TIFF attachments by libtiff's tools (`ppm2tiff`, `tiffcp`) and
//! netpbm's `pnmtotiff`, and the expected scaled images by netpbm's `pamscale` (pixel mixing)
//! and `pamthreshold`. Rendered pages go through our T.4 coder and back through libtiff's
//! decoder (`tifftopnm`). Skips with a printed reason when a peer is missing; fails under
//! CI=true.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use softfax::documents::{
    DocumentError, Geometry, MAX_PAGES, Paper, RenderOptions, font::Weight, message_to_pages,
    text::TextStyle,
};
use softfax::dsp::image::{Page, Resolution};
use softfax::dsp::t4::Coding;
use softfax::dsp::{pbm, tiff};

fn black(p: &Page) -> usize {
    p.data.iter().map(|b| b.count_ones() as usize).sum()
}

/// Bounding box (x0, y0, x1, y1), inclusive, of the black pels of `p`.
fn bbox(p: &Page) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for y in 0..p.height {
        if p.row(y).iter().all(|&v| v == 0) {
            continue;
        }
        for x in 0..p.width {
            if p.pel(x, y) {
                b = Some(match b {
                    None => (x, y, x, y),
                    Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
                });
            }
        }
    }
    b
}

fn set(p: &mut Page, x: u32, y: u32) {
    p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
}

/// Run a Python script (Python's `email` package writes the message) with `args`; the message
/// comes back on stdout. `None` (skip) without python3.
fn python_message(script: &str, args: &[&Path]) -> Option<Vec<u8>> {
    if !require_peer("python3", "python3") {
        return None;
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "python3 failed");
    Some(out.stdout)
}

/// A Python script writing a multipart/mixed fax-mail: a short text note, then every file in
/// argv as an `image/tiff; application=faxbw` attachment (base64).
const PY_TIFF_MAIL: &str = r#"
import sys, os, email.policy
from email.mime.multipart import MIMEMultipart
from email.mime.image import MIMEImage
m = MIMEMultipart()
m['From'] = 'Sender <sender@example.com>'
m['To'] = 'FAX=+14085557442@gw.example.com'
m['Subject'] = 'chart'
for path in sys.argv[1:]:
    part = MIMEImage(open(path, 'rb').read(), 'tiff', name=os.path.basename(path))
    part.set_param('application', 'faxbw')
    part.add_header('Content-Disposition', 'attachment', filename=os.path.basename(path))
    m.attach(part)
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#;

/// A test chart at `dpi`: an A4-wide (210 mm) image 250 mm tall with a 2 mm frame from 10 to
/// 200 mm across and 10 to 240 mm down, a filled 40 mm square at (30, 40) mm, a 0.5 mm
/// diagonal, and a one-pel horizontal hairline at 150 mm.
fn chart(dpi: f64) -> Page {
    let px = |mm: f64| (mm * dpi / 25.4).round() as u32;
    let (w, h) = (px(210.0), px(250.0));
    let mut p = Page::new(
        w,
        h,
        Resolution {
            x_dpi: dpi as f32,
            y_dpi: dpi as f32,
        },
    );
    let (f0, f1, fy1, t) = (px(10.0), px(200.0), px(240.0), px(2.0));
    for y in f0..fy1 {
        for x in f0..f1 {
            let frame = x < f0 + t || x >= f1 - t || y < f0 + t || y >= fy1 - t;
            let square = (px(30.0)..px(70.0)).contains(&x) && (px(40.0)..px(80.0)).contains(&y);
            let diag = (i64::from(x) - i64::from(y)).abs() < i64::from(px(0.25));
            if frame || square || (diag && y > px(90.0)) {
                set(&mut p, x, y);
            }
        }
    }
    let hair = px(150.0);
    for x in px(80.0)..px(180.0) {
        set(&mut p, x, hair);
    }
    p
}

fn write_pbm_file(p: &Page, path: &Path) {
    let mut v = Vec::new();
    pbm::write_pbm(std::slice::from_ref(p), &mut v);
    std::fs::write(path, v).unwrap();
}

/// The netpbm reference: `pamscale -xsize tw -ysize th` (pixel mixing: area averaging) then
/// black where at least a fraction `t` of the pel is covered (the documented threshold: ⅓, or
/// 0.45 / reduction on strong reductions), centred on a blank page like ours.
fn netpbm_reference(src: &Path, tw: u32, th: u32, geom: &Geometry, sw: u32, sh: u32) -> Page {
    let reduction = (f64::from(sw) / f64::from(tw)).max(f64::from(sh) / f64::from(th));
    let t = (1.0f64 / 3.0).min(0.45 / reduction);
    let grey = run(Command::new("pamscale")
        .args(["-xsize", &tw.to_string(), "-ysize", &th.to_string()])
        .arg(src));
    let grey_path = src.with_extension("scaled.pgm");
    std::fs::write(&grey_path, grey).unwrap();
    let pam = run(Command::new("pamthreshold")
        .args(["-simple", "-threshold", &format!("{:.4}", 1.0 - t + 0.0001)])
        .arg(&grey_path));
    let scaled = pam_to_page(&pam);
    assert_eq!((scaled.width, scaled.height), (tw, th));
    let mut page = geom.blank_page();
    let x0 = (geom.width - tw) / 2;
    for y in 0..th.min(geom.length) {
        for x in 0..tw {
            if scaled.pel(x, y) {
                set(&mut page, x0 + x, y);
            }
        }
    }
    page
}

/// pamthreshold writes a PAM (BLACKANDWHITE tuple type, one byte per pel, 0 = black).
fn pam_to_page(data: &[u8]) -> Page {
    let text = String::from_utf8_lossy(&data[..data.len().min(200)]).to_string();
    if text.starts_with("P4") || text.starts_with("P1") {
        return pbm_pages(data).remove(0);
    }
    assert!(text.starts_with("P7"), "unexpected output {text:?}");
    let end = text.find("ENDHDR\n").unwrap() + 7;
    let field = |k: &str| -> u32 {
        let l = text.lines().find(|l| l.starts_with(k)).unwrap();
        l[k.len()..].trim().parse().unwrap()
    };
    let (w, h) = (field("WIDTH"), field("HEIGHT"));
    let mut p = Page::new(w, h, Resolution::FINE);
    for y in 0..h {
        for x in 0..w {
            if data[end + (y * w + x) as usize] == 0 {
                set(&mut p, x, y);
            }
        }
    }
    p
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn peers_for_tiff() -> bool {
    require_peer("ppm2tiff", "libtiff-tools")
        && require_peer("tiffcp", "libtiff-tools")
        && require_peer("pamscale", "netpbm")
        && require_peer("pamthreshold", "netpbm")
        && require_peer("pnmtotiff", "netpbm")
}

#[test]
fn tiff_attachments_at_200_300_400_600_dpi_land_where_netpbm_puts_them() {
    if !peers_for_tiff() {
        return;
    }
    let dir = tempdir();
    for res in [Resolution::FINE, Resolution::STANDARD] {
        let geom = Geometry::new(res, Paper::A4).unwrap();
        for dpi in [200.0, 300.0, 400.0, 600.0] {
            let src = chart(dpi);
            let pbm_path = dir.path().join(format!("chart{dpi}.pbm"));
            write_pbm_file(&src, &pbm_path);
            // libtiff writes the TIFF: uncompressed with resolution, then G4 by tiffcp.
            let raw = dir.path().join(format!("chart{dpi}-raw.tif"));
            let g4 = dir.path().join(format!("chart{dpi}.tif"));
            run(Command::new("ppm2tiff")
                .args(["-R", &format!("{dpi}")])
                .arg(&pbm_path)
                .arg(&raw));
            run(Command::new("tiffcp").args(["-c", "g4"]).arg(&raw).arg(&g4));
            let Some(msg) = python_message(PY_TIFF_MAIL, &[&g4]) else {
                return;
            };
            let opts = RenderOptions {
                resolution: res,
                ..RenderOptions::default()
            };
            let doc = message_to_pages(&msg, &opts).unwrap();
            assert_eq!(doc.pages.len(), 1, "{dpi} dpi");
            let page = &doc.pages[0];
            assert_eq!((page.width, page.height), (1728, geom.length));
            assert_eq!(page.resolution, res);

            // Where the frame should land: 8.037 pels/mm across (1728 on 215 mm), centred;
            // 3.85 or 7.7 lines/mm down.
            let tw = (f64::from(src.width) * geom.x_per_mm / (dpi / 25.4)).round() as u32;
            let th = (f64::from(src.height) * geom.y_per_mm / (dpi / 25.4)).round() as u32;
            let x0 = (1728 - tw) / 2;
            let want = (
                x0 + (10.0 * geom.x_per_mm) as u32,
                (10.0 * geom.y_per_mm) as u32,
                x0 + (200.0 * geom.x_per_mm) as u32,
                (240.0 * geom.y_per_mm) as u32,
            );
            let got = bbox(page).unwrap();
            for (g, w) in [
                (got.0, want.0),
                (got.1, want.1),
                (got.2, want.2),
                (got.3, want.3),
            ] {
                assert!(
                    g.abs_diff(w) <= 2,
                    "{dpi} dpi {res:?}: bbox {got:?}, want {want:?}"
                );
            }
            // The one-pel hairline at 150 mm survives the reduction.
            let hy = (150.0 * geom.y_per_mm) as u32;
            let hx = x0 + (130.0 * geom.x_per_mm) as u32;
            assert!(
                (hy.saturating_sub(2)..hy + 3).any(|y| page.pel(hx, y)),
                "{dpi} dpi {res:?}: hairline lost"
            );

            // Pel for pel against netpbm's area-averaged scaling.
            let reference = netpbm_reference(&pbm_path, tw, th, &geom, src.width, src.height);
            let diff: usize = reference
                .data
                .iter()
                .zip(&page.data)
                .map(|(a, b)| (a ^ b).count_ones() as usize)
                .sum();
            let ink = black(&reference);
            eprintln!(
                "{dpi} dpi → {res:?}: {tw} x {th} pels, {ink} black, {diff} differ from netpbm"
            );
            // Pixel mixing at a ⅓ threshold in both: the two may disagree only on edge pels
            // (a different rounding of the area split), never a pel away from an edge. The
            // hairline's rows are left out: where its coverage is near ⅓ either may drop it
            // (ours is checked above to keep it).
            let near = |x: u32, y: u32, want: bool| {
                [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)]
                    .iter()
                    .any(|&(dx, dy)| {
                        let (nx, ny) = (i64::from(x) + dx, i64::from(y) + dy);
                        nx >= 0
                            && ny >= 0
                            && nx < i64::from(reference.width)
                            && ny < i64::from(reference.height)
                            && reference.pel(nx as u32, ny as u32) == want
                    })
            };
            for y in 0..page.height {
                if page.row(y) == reference.row(y) || y.abs_diff(hy) <= 2 {
                    continue;
                }
                for x in 0..page.width {
                    let ours = page.pel(x, y);
                    if ours != reference.pel(x, y) {
                        assert!(
                            near(x, y, ours),
                            "{dpi} dpi {res:?}: pel ({x}, {y}) is not on an edge"
                        );
                    }
                }
            }
            assert!(
                (diff as f64) < 0.06 * ink as f64,
                "{dpi} dpi {res:?}: {diff} of {ink} pels differ from netpbm"
            );
        }
    }
}

#[test]
fn every_bilevel_tiff_form_gives_the_same_page() {
    if !peers_for_tiff() {
        return;
    }
    let dir = tempdir();
    let src = chart(300.0);
    let pbm_path = dir.path().join("c.pbm");
    write_pbm_file(&src, &pbm_path);
    let raw = dir.path().join("raw.tif");
    run(Command::new("ppm2tiff")
        .args(["-R", "300", "-r", "64"])
        .arg(&pbm_path)
        .arg(&raw));
    let mut files: Vec<PathBuf> = vec![raw.clone()];
    for (name, args) in [
        ("g3-1d", &["-c", "g3:1d"][..]),
        ("g3-2d-fill", &["-c", "g3:2d:fill"]),
        ("g4-lsb", &["-c", "g4", "-f", "lsb2msb"]),
        ("packbits", &["-c", "packbits"]),
        ("g4-strips", &["-c", "g4", "-r", "7"]),
    ] {
        let f = dir.path().join(format!("{name}.tif"));
        run(Command::new("tiffcp").args(args).arg(&raw).arg(&f));
        files.push(f);
    }
    // netpbm's writer: min-is-black G3 2-D with small strips, resolution in the file. (Not
    // its -lsb2msb: netpbm 11 writes pels that libtiff's own tifftopnm decodes shifted.)
    let pt = dir.path().join("pnmtotiff.tif");
    let out = run(Command::new("pnmtotiff")
        .args(["-g3", "-2d", "-minisblack", "-rowsperstrip", "50"])
        .args(["-xresolution", "300", "-yresolution", "300"])
        .arg(&pbm_path));
    std::fs::write(&pt, out).unwrap();
    files.push(pt);
    let mut first: Option<Page> = None;
    for f in &files {
        let Some(msg) = python_message(PY_TIFF_MAIL, &[f]) else {
            return;
        };
        let doc = message_to_pages(&msg, &RenderOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(doc.pages.len(), 1);
        match &first {
            None => first = Some(doc.pages[0].clone()),
            Some(p) => assert_same_pels(&f.display().to_string(), &doc.pages[0], p),
        }
    }
    // All of them in one message: one page each, in order.
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let msg = python_message(PY_TIFF_MAIL, &refs).unwrap();
    let doc = message_to_pages(&msg, &RenderOptions::default()).unwrap();
    assert_eq!(doc.pages.len(), files.len());
}

#[test]
fn letter_paper_and_long_pages_split() {
    if !peers_for_tiff() {
        return;
    }
    let dir = tempdir();
    // US Legal (8.5 × 14 in) at 200 dpi with ink at the top and bottom edges.
    let (w, h) = (1700, 2800);
    let mut p = Page::new(w, h, Resolution::FINE);
    for x in 100..1600 {
        set(&mut p, x, 50);
        set(&mut p, x, h - 51);
    }
    let pbm_path = dir.path().join("legal.pbm");
    write_pbm_file(&p, &pbm_path);
    let tif = dir.path().join("legal.tif");
    run(Command::new("ppm2tiff")
        .args(["-R", "200"])
        .arg(&pbm_path)
        .arg(&tif));
    let Some(msg) = python_message(PY_TIFF_MAIL, &[&tif]) else {
        return;
    };
    for (paper, res, len) in [
        (Paper::Letter, Resolution::FINE, 2151),
        (Paper::Letter, Resolution::STANDARD, 1076),
        (Paper::A4, Resolution::FINE, 2287),
        (Paper::Letter, Resolution::SUPERFINE, 4303),
    ] {
        let opts = RenderOptions {
            resolution: res,
            paper,
            ..RenderOptions::default()
        };
        let doc = message_to_pages(&msg, &opts).unwrap();
        // 14 in is longer than Letter and A4: two pages, nothing cropped.
        assert_eq!(doc.pages.len(), 2, "{paper:?} {res:?}");
        for page in &doc.pages {
            assert_eq!((page.width, page.height), (1728, len));
        }
        let total_rows = f64::from(h) / 200.0 * 25.4 * Geometry::new(res, paper).unwrap().y_per_mm;
        let last = bbox(&doc.pages[1]).unwrap();
        let want_last_y = (total_rows * (h - 51) as f64 / h as f64) as u32 - len;
        assert!(
            last.3.abs_diff(want_last_y) <= 4,
            "{last:?} vs {want_last_y}"
        );
        // Letter width at 200 dpi is 1735 pels at R8: cropped, the line keeps its ends.
        let first = bbox(&doc.pages[0]).unwrap();
        assert!(first.0 > 90 && first.2 < 1650, "{first:?}");
    }
}

/// The same text in several charsets and transfer encodings, written by Python.
const PY_TEXT_MAIL: &str = r#"
import sys, email.policy
from email.message import EmailMessage
text, charset, cte = sys.argv[1], sys.argv[2], sys.argv[3]
m = EmailMessage()
m['From'] = 'J\u00f6rg <j@example.com>'
m['Subject'] = 'Gr\u00fc\u00dfe'
m.set_content(text, charset=charset, cte=cte)
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#;

#[test]
fn text_in_any_charset_renders_the_same_glyphs() {
    let latin = "Gr\u{fc}\u{df}e aus K\u{f6}ln, caf\u{e9} \u{e4} \u{a7}3\n\tTab\tstops\n";
    let cp1252 = "\u{201c}Quotes\u{201d} \u{2013} 5 \u{20ac} \u{2026}\n";
    let utf8 = "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442} \u{3a9} \u{2192} \u{4e2d}\n";
    let cases: [(&str, &str, &str); 6] = [
        (latin, "iso-8859-1", "quoted-printable"),
        (latin, "iso-8859-1", "base64"),
        (latin, "iso-8859-15", "8bit"),
        (cp1252, "windows-1252", "quoted-printable"),
        (utf8, "utf-8", "base64"),
        (utf8, "utf-8", "quoted-printable"),
    ];
    for (text, cs, cte) in cases {
        if !require_peer("python3", "python3") {
            return;
        }
        let out = Command::new("python3")
            .arg("-c")
            .arg(PY_TEXT_MAIL)
            .args([text, cs, cte])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            raw.to_ascii_lowercase()
                .contains(&format!("charset=\"{cs}\""))
                || raw.to_ascii_lowercase().contains(&format!("charset={cs}")),
            "{raw}"
        );
        let doc = message_to_pages(&out.stdout, &RenderOptions::default()).unwrap();
        // Our own UTF-8 8bit message with the same text is the reference.
        let reference = format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
        );
        let want = message_to_pages(reference.as_bytes(), &RenderOptions::default()).unwrap();
        assert_eq!(doc.pages.len(), 1);
        assert_same_pels(&format!("{cs} {cte}"), &doc.pages[0], &want.pages[0]);
    }
    // The glyphs are where the layout says: 'ü' in column 2 of line 0 is the font's 'ü'.
    let doc = message_to_pages(
        "Content-Type: text/plain; charset=utf-8\r\n\r\nGr\u{fc}\u{df}e\r\n".as_bytes(),
        &RenderOptions::default(),
    )
    .unwrap();
    let geom = Geometry::new(Resolution::FINE, Paper::A4).unwrap();
    let st = TextStyle::new(&geom);
    assert_eq!((st.cell_w, st.cell_h, st.columns), (17, 32, 80));
    assert_eq!((st.left, st.top, st.lines), (184, 92, 65));
    let page = &doc.pages[0];
    let glyph = st.rasteriser(Weight::Regular).glyph('\u{fc}');
    assert!(glyph.black() > 40);
    let (pen, baseline) = (st.left + 2 * st.cell_w, st.top + st.baseline);
    for gy in 0..glyph.height {
        for gx in 0..glyph.width {
            let x = (pen as i32 + glyph.left) as u32 + gx;
            let y = (baseline as i32 + glyph.top) as u32 + gy;
            assert_eq!(page.pel(x, y), glyph.pel(gx, gy), "({gx},{gy})");
        }
    }
    // Nothing outside the text area.
    let b = bbox(page).unwrap();
    assert!(b.0 >= st.left && b.1 >= st.top, "{b:?}");
}

#[test]
fn text_layout_wraps_tabs_and_form_feeds() {
    let opts = RenderOptions::default();
    let geom = Geometry::new(opts.resolution, opts.paper).unwrap();
    let st = TextStyle::new(&geom);
    let lines_at = |p: &Page| -> Vec<u32> {
        (0..st.lines)
            .filter(|&l| {
                let y0 = st.top + l * st.cell_h;
                (y0..y0 + st.cell_h).any(|y| p.row(y).iter().any(|&b| b != 0))
            })
            .collect()
    };
    // 200 'x' wrap to 80 + 80 + 40 columns.
    let m = format!("\r\n{}\r\n", "x".repeat(200));
    let d = message_to_pages(m.as_bytes(), &opts).unwrap();
    assert_eq!(lines_at(&d.pages[0]), vec![0, 1, 2]);
    let b = bbox(&d.pages[0]).unwrap();
    assert!(
        b.2 < st.left + 80 * st.cell_w && b.2 >= st.left + 79 * st.cell_w,
        "{b:?}"
    );
    // Words wrap at a space.
    let words = "word ".repeat(30);
    let d = message_to_pages(format!("\r\n{words}\r\n").as_bytes(), &opts).unwrap();
    assert_eq!(lines_at(&d.pages[0]), vec![0, 1]);
    // A form feed starts a page; a tab moves to column 8.
    let d = message_to_pages(b"\r\none\x0ctwo\r\n\tx\r\n", &opts).unwrap();
    assert_eq!(d.pages.len(), 2);
    let y1 = st.top + st.cell_h;
    let p1 = &d.pages[1];
    let x_ink = (y1..y1 + st.cell_h)
        .flat_map(|y| (0..1728).filter(move |&x| p1.pel(x, y)))
        .min()
        .unwrap();
    assert_eq!((x_ink - st.left) / st.cell_w, 8, "{x_ink}");
    // 100 lines fill the first page and continue on the second.
    let many = "line\r\n".repeat(100);
    let d = message_to_pages(format!("\r\n{many}").as_bytes(), &opts).unwrap();
    assert_eq!(d.pages.len(), 2);
    assert_eq!(lines_at(&d.pages[0]).len() as u32, st.lines);
    assert_eq!(lines_at(&d.pages[1]).len() as u32, 100 - st.lines);
}

#[test]
fn rendered_text_survives_the_t4_round_trip_through_libtiff() {
    let msg = "Subject: t4\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe quick brown fox \u{2192} jumps over the lazy dog. 0123456789\r\n\u{416}\u{436} \u{3a3}\u{3c3} \u{20ac}\u{fffd}\r\nGr\u{fc}\u{df}e \u{c0}\u{e6}\u{f8}\u{ff} \u{39e}\u{3b5}\u{3c3}\u{3ba}\u{3b5}\u{3c0}\u{3ac}\u{3b6}\u{3c9} \u{421}\u{44a}\u{435}\u{448}\u{44c} \u{451}\u{449}\u{451}\r\n".as_bytes();
    for res in [Resolution::STANDARD, Resolution::FINE] {
        let opts = RenderOptions {
            resolution: res,
            cover_page: true,
            recipient: "+14085557442".into(),
            gateway_id: "gw.example.com".into(),
            ..RenderOptions::default()
        };
        let doc = message_to_pages(msg, &opts).unwrap();
        assert_eq!((doc.pages.len(), doc.cover_pages), (2, 1));
        for coding in [Coding::Mh, Coding::Mr { k: 4 }, Coding::Mmr] {
            let tif = tiff::write_pages(
                &doc.pages,
                tiff::WriteOptions {
                    coding: Some(coding),
                    align_eol: false,
                },
            )
            .unwrap();
            let back = tiff::read_pages(&tif).unwrap();
            for (a, b) in back.iter().zip(&doc.pages) {
                assert_same_pels("our T.4 round trip", &a.page, b);
            }
            if !require_peer("tifftopnm", "netpbm") {
                continue;
            }
            let dir = tempdir();
            let f = dir.path().join("text.tif");
            std::fs::write(&f, &tif).unwrap();
            let pages = pbm_pages(&run(Command::new("tifftopnm").arg("-quiet").arg(&f)));
            assert_eq!(pages.len(), 2);
            for (a, b) in pages.iter().zip(&doc.pages) {
                assert_same_pels(&format!("libtiff decoding {coding:?}"), a, b);
            }
        }
    }
}

#[test]
fn cover_page_counts_and_shows_the_headers() {
    let Some(msg) = python_message(
        r#"
import sys, email.policy
from email.message import EmailMessage
m = EmailMessage()
m['From'] = 'Alice Example <alice@example.com>'
m['To'] = 'FAX=+1408555-7442@gw.example.com'
m['Subject'] = 'Quarterly report'
m['Date'] = 'Fri, 27 Nov 2026 02:00:00 +0000'
m.set_content('Page one.\f' + 'Page two.\n')
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#,
        &[],
    ) else {
        return;
    };
    let opts = RenderOptions {
        cover_page: true,
        recipient: "+14085557442".into(),
        gateway_id: "gw.example.com".into(),
        ..RenderOptions::default()
    };
    let doc = message_to_pages(&msg, &opts).unwrap();
    assert_eq!((doc.pages.len(), doc.cover_pages), (3, 1));
    // Without a cover: the same two body pages.
    let plain = message_to_pages(&msg, &RenderOptions::default()).unwrap();
    assert_eq!(plain.cover_pages, 0);
    assert_eq!(&plain.pages[..], &doc.pages[1..]);
    // The cover changes with what it reports (subject, recipient).
    let other = message_to_pages(
        &msg,
        &RenderOptions {
            recipient: "+4930123456".into(),
            ..opts.clone()
        },
    )
    .unwrap();
    assert_ne!(other.pages[0], doc.pages[0]);
    assert!(black(&doc.pages[0]) > black(&plain.pages[1]));
}

#[test]
fn greyscale_and_colour_tiffs_are_thresholded() {
    if !peers_for_tiff() {
        return;
    }
    let dir = tempdir();
    let (w, h) = (600u32, 300u32);
    // Grey: the left half dark (60/255), the right half light (200/255), a mid-grey (100)
    // band across rows 100..120. Colour: red, yellow, blue thirds (BT.601 luminance 0.30,
    // 0.89, 0.11).
    let mut pgm = format!("P5 {w} {h} 255\n").into_bytes();
    let mut ppm = format!("P6 {w} {h} 255\n").into_bytes();
    let mut grey_want = Page::new(w, h, Resolution::FINE);
    let mut colour_want = Page::new(w, h, Resolution::FINE);
    for y in 0..h {
        for x in 0..w {
            let v: u8 = if (100..120).contains(&y) {
                100
            } else if x < w / 2 {
                60
            } else {
                200
            };
            pgm.push(v);
            if v < 128 {
                set(&mut grey_want, x, y);
            }
            let rgb: [u8; 3] = match x * 3 / w {
                0 => [255, 0, 0],
                1 => [255, 255, 0],
                _ => [0, 0, 255],
            };
            ppm.extend_from_slice(&rgb);
            if x * 3 / w != 1 {
                set(&mut colour_want, x, y);
            }
        }
    }
    let write = |name: &str, data: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let (pgm, ppm) = (write("g.pgm", &pgm), write("c.ppm", &ppm));
    let pbm_of = |p: &Page, name: &str| {
        let path = dir.path().join(name);
        write_pbm_file(p, &path);
        path
    };
    let (grey_pbm, colour_pbm) = (pbm_of(&grey_want, "g.pbm"), pbm_of(&colour_want, "c.pbm"));
    let render = |src: &Path, compression: &str| -> Page {
        let tif = dir.path().join(format!(
            "{}-{compression}.tif",
            src.file_name().unwrap().to_string_lossy()
        ));
        run(Command::new("ppm2tiff")
            .args(["-R", "300", "-c", compression])
            .arg(src)
            .arg(&tif));
        let msg = python_message(PY_TIFF_MAIL, &[&tif]).unwrap();
        let mut doc = message_to_pages(&msg, &RenderOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", tif.display()));
        assert_eq!(doc.pages.len(), 1);
        doc.pages.remove(0)
    };
    if !require_peer("python3", "python3") {
        return;
    }
    for (src, reference) in [(&pgm, &grey_pbm), (&ppm, &colour_pbm)] {
        let want = render(reference, "none");
        assert!(black(&want) > 1000);
        for compression in ["none", "lzw", "zip", "packbits"] {
            assert_same_pels(
                &format!("{} {compression}", src.display()),
                &render(src, compression),
                &want,
            );
        }
    }
    // A bilevel page in LZW (not a fax coding) goes the same way.
    let want = render(&grey_pbm, "none");
    assert_same_pels("bilevel LZW", &render(&grey_pbm, "lzw"), &want);
}

#[test]
fn unsupported_corrupt_and_palette_attachments_get_their_replies() {
    if !peers_for_tiff() {
        return;
    }
    let dir = tempdir();
    // A palette TIFF (netpbm writes one for a few-colour PPM) and a JPEG-coded one (libtiff).
    let ppm = dir.path().join("few.ppm");
    let mut data = b"P6 8 8 255\n".to_vec();
    for i in 0..64 {
        data.extend_from_slice(if i % 2 == 0 {
            &[255, 0, 0]
        } else {
            &[0, 0, 255]
        });
    }
    std::fs::write(&ppm, data).unwrap();
    let palette = dir.path().join("palette.tif");
    std::fs::write(&palette, run(Command::new("pnmtotiff").arg(&ppm))).unwrap();
    let jpeg = dir.path().join("jpeg.tif");
    run(Command::new("ppm2tiff")
        .args(["-c", "jpeg"])
        .arg(&ppm)
        .arg(&jpeg));
    // A truncated G4 TIFF.
    let src = chart(200.0);
    let pbm_path = dir.path().join("c.pbm");
    write_pbm_file(&src, &pbm_path);
    let good = dir.path().join("good.tif");
    std::fs::write(
        &good,
        run(Command::new("pnmtotiff").arg("-g4").arg(&pbm_path)),
    )
    .unwrap();
    let data = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.tif");
    std::fs::write(&cut, &data[..data.len() / 2]).unwrap();
    for (f, esc) in [(&palette, "5.6.1"), (&jpeg, "5.6.1"), (&cut, "5.6.5")] {
        let Some(msg) = python_message(PY_TIFF_MAIL, &[f]) else {
            return;
        };
        let e = message_to_pages(&msg, &RenderOptions::default()).unwrap_err();
        let (code, got_esc, text) = e.smtp_reply();
        eprintln!("{}: {code} {got_esc} {text}", f.display());
        assert_eq!((code, got_esc), (554, esc), "{text}");
        assert_eq!(e.abort_cause(), 3);
        let fname = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(text.contains(&fname), "{text}");
    }
    // Other media written by Python: a PNG (image → 3) and HTML alone (text → 4).
    let Some(msg) = python_message(
        r#"
import sys, email.policy
from email.message import EmailMessage
m = EmailMessage()
m.set_content('note')
m.add_attachment(b'\x89PNG\r\n\x1a\n', maintype='image', subtype='png', filename='logo.png')
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#,
        &[],
    ) else {
        return;
    };
    let e = message_to_pages(&msg, &RenderOptions::default()).unwrap_err();
    assert_eq!(
        e.smtp_reply(),
        (554, "5.6.1", "unsupported media type image/png".into())
    );
    assert_eq!(e.abort_cause(), 3);
    let msg = python_message(
        r#"
import sys, email.policy
from email.message import EmailMessage
m = EmailMessage()
m.set_content('<p> </p><img src="cid:x"><script>var a;</script>', subtype='html')
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#,
        &[],
    )
    .unwrap();
    // HTML is faxed as its text (issue 14); one with no text has nothing to fax.
    let e = message_to_pages(&msg, &RenderOptions::default()).unwrap_err();
    assert!(matches!(e, DocumentError::Empty), "{e}");
    assert_eq!(e.smtp_reply().1, "5.6.0");
    assert_eq!(e.abort_cause(), 4);
}

/// A little-endian TIFF with one IFD declaring `w × h` pels, G4, one 16-byte strip.
fn tiff_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut f = b"II*\0\x08\0\0\0".to_vec();
    let entries: [(u16, u16, u32); 8] = [
        (256, 4, w),
        (257, 4, h),
        (258, 3, 1),
        (259, 3, 4),
        (262, 3, 0),
        (273, 4, 8 + 2 + 8 * 12 + 4),
        (278, 4, h),
        (279, 4, 16),
    ];
    f.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, v) in entries {
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&typ.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        if typ == 3 {
            f.extend_from_slice(&(v as u16).to_le_bytes());
            f.extend_from_slice(&[0, 0]);
        } else {
            f.extend_from_slice(&v.to_le_bytes());
        }
    }
    f.extend_from_slice(&[0; 4]);
    f.extend_from_slice(&[0; 16]);
    f
}

fn tiff_mail(tif: &[u8]) -> Vec<u8> {
    let mut m = b"Content-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    m.extend_from_slice(base64(tif).as_bytes());
    m
}

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

#[test]
fn hostile_input_gets_clear_errors_within_bounds() {
    let opts = RenderOptions::default();
    // A TIFF declaring 60000 × 60000 pels in 140 bytes: refused before decoding.
    let e = message_to_pages(&tiff_mail(&tiff_header_only(60000, 60000)), &opts).unwrap_err();
    let (code, esc, text) = e.smtp_reply();
    assert_eq!((code, esc, e.abort_cause()), (554, "5.3.4", 3), "{text}");
    assert!(text.contains("60000 x 60000"), "{text}");
    // A mostly white G4 page 1728 × 50000 at 204 × 30 dpi with ink on its last row would be
    // 142 A4 pages at fine resolution: refused before the scaled image is allocated.
    let mut tall = Page::new(
        1728,
        50000,
        Resolution {
            x_dpi: 204.0,
            y_dpi: 30.0,
        },
    );
    set(&mut tall, 5, 49999);
    let tif = tiff::write_pages(
        &[tall],
        tiff::WriteOptions {
            coding: Some(Coding::Mmr),
            align_eol: false,
        },
    )
    .unwrap();
    assert!(tif.len() < 20_000, "{}", tif.len());
    let e = message_to_pages(&tiff_mail(&tif), &opts).unwrap_err();
    assert_eq!((e.smtp_reply().1, e.abort_cause()), ("5.3.4", 3));
    assert!(
        e.to_string()
            .contains(&format!("more than {MAX_PAGES} pages")),
        "{e}"
    );
    // A text of 8000 lines is more than 100 pages.
    let long = format!("\r\n{}", "a line\r\n".repeat(8000));
    let e = message_to_pages(long.as_bytes(), &opts).unwrap_err();
    assert!(matches!(e, DocumentError::Limit { .. }), "{e}");
    assert_eq!(e.abort_cause(), 4);
    // 3 MB of base64 zeros declared as TIFF: not a TIFF, said quickly.
    let zeros = vec![0u8; 3 << 20];
    let e = message_to_pages(&tiff_mail(&zeros), &opts).unwrap_err();
    assert_eq!(e.smtp_reply().1, "5.6.5");
    assert!(e.to_string().contains("not a TIFF"), "{e}");
    // 10 000 nested multiparts.
    let mut m = Vec::new();
    for i in 0..10_000 {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                .as_bytes(),
        );
    }
    let e = message_to_pages(&m, &opts).unwrap_err();
    assert!(
        matches!(e, DocumentError::Structure(_) | DocumentError::Empty),
        "{e}"
    );
}

/// Latin-1 (every printable character of ISO 8859-1), Latin Extended-A, Greek and Cyrillic,
/// as pangrams and as whole blocks.
fn script_samples() -> Vec<(String, String)> {
    let block = |lo: u32, hi: u32| -> String {
        (lo..=hi)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_control() && !c.is_whitespace() && *c != '\u{ad}')
            .collect()
    };
    vec![
        ("ascii".into(), block(0x21, 0x7e)),
        ("latin-1".into(), block(0xa1, 0xff)),
        ("latin extended-a".into(), block(0x100, 0x17f)),
        (
            "german".into(),
            "Falsches Üben von Xylophonmusik quält jeden größeren Zwerg".into(),
        ),
        (
            "french".into(),
            "Voix ambiguë d'un cœur qui au zéphyr préfère les jattes de kiwis; où, ça, naïve, Ÿ"
                .into(),
        ),
        ("greek".into(), "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία".into()),
        (
            "greek block".into(),
            // U+0386..U+03CE less the unassigned U+038B, U+038D, U+03A2.
            block(0x386, 0x3ce)
                .chars()
                .filter(|c| !matches!(*c as u32, 0x387 | 0x38b | 0x38d | 0x3a2))
                .collect(),
        ),
        (
            "russian".into(),
            "Съешь же ещё этих мягких французских булок, да выпей чаю".into(),
        ),
        ("cyrillic block".into(), block(0x400, 0x45f)),
        (
            "ukrainian".into(),
            "Жебракують філософи при ґанку церкви в Гадячі, ще й шатро їхнє п'яне знаємо".into(),
        ),
    ]
}

#[test]
fn latin_greek_and_cyrillic_render_with_no_replacement_glyphs() {
    use softfax::documents::font::{self, REPLACEMENT};
    let geom = Geometry::new(Resolution::FINE, Paper::A4).unwrap();
    let st = TextStyle::new(&geom);
    let mut ras = st.rasteriser(Weight::Regular);
    let replacement = ras.glyph(REPLACEMENT);
    for (name, sample) in script_samples() {
        // The font has every character (both faces: the cover's labels are bold).
        for c in sample.chars().filter(|c| *c != ' ') {
            for w in [Weight::Regular, Weight::Bold] {
                assert!(
                    font::has_glyph(w, c),
                    "{name}: {w:?} lacks {c:?} U+{:04X}",
                    c as u32
                );
            }
        }
        let msg = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{sample}\r\n");
        let doc = message_to_pages(msg.as_bytes(), &RenderOptions::default()).unwrap();
        assert_eq!(doc.pages.len(), 1, "{name}");
        let page = &doc.pages[0];
        // Every cell of a visible character has ink, and is not the replacement glyph.
        let mut lines: Vec<Vec<char>> = Vec::new();
        softfax::documents::text::break_lines::<()>(&sample, st.columns as usize, |l| {
            if let softfax::documents::text::Line::Text(cells) = l {
                lines.push(cells);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            lines.iter().flatten().filter(|c| **c != ' ').count(),
            sample.chars().filter(|c| *c != ' ').count()
        );
        let cells = lines.iter().enumerate().flat_map(|(l, cells)| {
            cells
                .iter()
                .enumerate()
                .map(move |(col, &c)| (col as u32, l as u32, c))
        });
        for (col, line, c) in cells {
            let (x0, y0) = (st.left + col * st.cell_w, st.top + line * st.cell_h);
            let cell = |p: &Page| -> Vec<bool> {
                (y0..y0 + st.cell_h)
                    .flat_map(|y| (x0..x0 + st.cell_w).map(move |x| (x, y)))
                    .map(|(x, y)| p.pel(x, y))
                    .collect()
            };
            let got = cell(page);
            if c == ' ' {
                continue;
            }
            assert!(got.iter().any(|&b| b), "{name}: no ink for {c:?}");
            let mut fffd = geom.blank_page();
            softfax::documents::font::draw_bitmap(
                &mut fffd,
                &replacement,
                i64::from(x0),
                i64::from(y0 + st.baseline),
            );
            assert_ne!(got, cell(&fffd), "{name}: {c:?} drawn as U+FFFD");
            // The rasteriser drew its own glyph there, nothing reported missing.
            assert!(ras.glyph(c).black() > 0, "{name}: {c:?}");
        }
        assert!(ras.missing().is_empty(), "{name}: {:?}", ras.missing());
    }
    // The check can fail: a CJK character is reported and drawn as U+FFFD.
    let _ = ras.glyph('中');
    assert_eq!(ras.missing().len(), 1);
}

/// The pages of a UTF-8 text/plain message holding `text`: what a marked-up part must equal.
fn plain_pages(text: &str) -> Vec<Page> {
    let m = format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
    );
    message_to_pages(m.as_bytes(), &RenderOptions::default())
        .unwrap()
        .pages
}

#[test]
fn cover_page_decodes_rfc2047_headers_in_any_charset() {
    // Python's email package writes the encoded-words (B and Q, three charsets).
    let Some(msg) = python_message(
        r#"
import sys, email.policy
from email.message import Message
from email.header import Header
m = Message()
h = Header('Jürgen Müller', 'iso-8859-1')
m['From'] = h.encode() + ' <juergen@example.de>'
s = Header('Αναφορά ', 'iso-8859-7')
s.append('Квартальный отчёт', 'koi8-r')
s.append(' Grüße', 'utf-8')
m['Subject'] = s.encode()
m['Date'] = 'Fri, 27 Nov 2026 02:00:00 +0000'
m['Content-Type'] = 'text/plain; charset=utf-8'
m.set_payload('Body.\n')
sys.stdout.buffer.write(m.as_bytes())
"#,
        &[],
    ) else {
        return;
    };
    let raw = String::from_utf8_lossy(&msg);
    for cs in ["iso-8859-1", "iso-8859-7", "koi8-r"] {
        assert!(
            raw.to_ascii_lowercase().contains(&format!("=?{cs}?")),
            "{raw}"
        );
    }
    let opts = RenderOptions {
        cover_page: true,
        recipient: "+14085557442".into(),
        gateway_id: "gw.example.com".into(),
        ..RenderOptions::default()
    };
    let doc = message_to_pages(&msg, &opts).unwrap();
    let geom = Geometry::new(opts.resolution, opts.paper).unwrap();
    // Python's header decoder says what the words are; the cover must draw exactly those.
    let want = softfax::documents::cover::render_cover(
        &softfax::documents::cover::CoverInfo {
            to: "+14085557442".into(),
            from: "Jürgen Müller <juergen@example.de>".into(),
            subject: "Αναφορά Квартальный отчёт Grüße".into(),
            date: "Fri, 27 Nov 2026 02:00:00 +0000".into(),
            pages: 2,
            gateway_id: "gw.example.com".into(),
        },
        &geom,
    );
    assert_same_pels("cover", &doc.pages[0], &want);
}

#[test]
fn html_and_enriched_parts_render_as_their_text() {
    let Some(msg) = python_message(
        r#"
import sys, email.policy
from email.message import EmailMessage
m = EmailMessage()
m['Subject'] = 'html'
m.set_content('<html><head><style>p {color: red}</style></head><body>'
  '<p>Gr&uuml;&szlig;e &amp; <b>hello</b> &#931;&#963;</p>'
  '<p>Second<br>line</p><script>var x = 1;</script></body></html>', subtype='html')
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#,
        &[],
    ) else {
        return;
    };
    let doc = message_to_pages(&msg, &RenderOptions::default()).unwrap();
    let want = plain_pages("Grüße & hello Σσ\n\nSecond\nline\n");
    assert_eq!(doc.pages.len(), 1);
    assert_same_pels("html", &doc.pages[0], &want[0]);

    let Some(msg) = python_message(
        r#"
import sys, email.policy
from email.message import EmailMessage
m = EmailMessage()
m['Subject'] = 'enriched'
m.set_content('<bold>Now</bold> is the time\n<italic>for</italic> all <<good> men\n\n'
  '<color><param>red</param>Съешь</color> ещё\n', subtype='enriched', charset='koi8-r',
  cte='quoted-printable')
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#,
        &[],
    ) else {
        return;
    };
    assert!(String::from_utf8_lossy(&msg).contains("text/enriched"));
    let doc = message_to_pages(&msg, &RenderOptions::default()).unwrap();
    let want = plain_pages("Now is the time for all <good> men\nСъешь ещё\n");
    assert_same_pels("enriched", &doc.pages[0], &want[0]);
}

#[test]
fn alternatives_prefer_plain_then_enriched_then_html() {
    let alt = |parts: &[(&str, &str)]| -> Vec<u8> {
        let mut m = String::from("Content-Type: multipart/alternative; boundary=b\r\n\r\n");
        for (t, body) in parts {
            m.push_str(&format!(
                "--b\r\nContent-Type: {t}; charset=utf-8\r\n\r\n{body}\r\n"
            ));
        }
        m.push_str("--b--\r\n");
        m.into_bytes()
    };
    let pages = |m: &[u8]| {
        message_to_pages(m, &RenderOptions::default())
            .unwrap()
            .pages
    };
    let (p, e, h) = (
        ("text/plain", "from plain"),
        ("text/enriched", "from <bold>enriched</bold>"),
        ("text/html", "<p>from html</p>"),
    );
    assert_eq!(pages(&alt(&[h, e, p])), plain_pages("from plain"));
    assert_eq!(pages(&alt(&[h, e])), plain_pages("from enriched"));
    assert_eq!(pages(&alt(&[h])), plain_pages("from html"));
    // An empty plain part does not win.
    assert_eq!(
        pages(&alt(&[("text/plain", "  "), h])),
        plain_pages("from html")
    );
    // multipart/related: the HTML root is faxed, its pictures are not (nor refused).
    let related = b"Content-Type: multipart/related; boundary=r; type=\"text/html\"; start=\"<root@x>\"\r\n\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r\r\nContent-Type: text/html\r\nContent-ID: <root@x>\r\n\r\n<p>from html</p><img src=\"cid:logo@x\">\r\n--r--\r\n";
    assert_eq!(pages(related), plain_pages("from html"));
}

#[test]
fn deeply_nested_html_is_refused_quickly() {
    let m = format!(
        "Content-Type: text/html\r\n\r\n{}deep\r\n",
        "<ul><li>".repeat(20_000)
    );
    let e = message_to_pages(m.as_bytes(), &RenderOptions::default()).unwrap_err();
    assert!(matches!(e, DocumentError::Limit { .. }), "{e}");
    assert_eq!(e.smtp_reply().1, "5.3.4");
    assert_eq!(e.abort_cause(), 4);
}
