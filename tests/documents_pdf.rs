//! PDF attachments → fax pages, against independent producers and an independent renderer:
//! PDFs written by Ghostscript (`pdfwrite`, from a PostScript program), by cairo (Python's
//! `cairo`) and by qpdf (linearised; encrypted), wrapped in mail by Python's `email`; every
//! page compared with Ghostscript's own rendering at the same resolution
//! (`-sDEVICE=pbmraw -r204x196` or `-r204x98`): black pels within a few percent, the ink's
//! bounding box within a few pels. Skips with a printed reason when a peer is missing; fails
//! under CI=true.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use softfax::documents::{DocumentError, Geometry, Paper, RenderOptions, message_to_pages};
use softfax::dsp::image::{Page, Resolution};

fn black(p: &Page) -> usize {
    p.data.iter().map(|b| b.count_ones() as usize).sum()
}

/// Bounding box (x0, y0, x1, y1) of the black pels.
fn bbox(p: &Page) -> (u32, u32, u32, u32) {
    let mut b = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..p.height {
        if p.row(y).iter().all(|&v| v == 0) {
            continue;
        }
        for x in 0..p.width {
            if p.pel(x, y) {
                b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            }
        }
    }
    b
}

/// A PostScript program of two pages of `w` × `h` points: text in three fonts, rules, a
/// filled and a stroked shape. Black only: grey is thresholded here (as grey TIFFs are) where
/// Ghostscript's bilevel devices halftone it, so grey areas would differ by design.
fn postscript(w: u32, h: u32) -> String {
    format!(
        r#"%!PS
<< /PageSize [{w} {h}] >> setpagedevice
/Helvetica findfont 24 scalefont setfont
72 {t1} moveto (Fax from a PDF: Ghostscript pdfwrite) show
/Times-Roman findfont 14 scalefont setfont
0 1 20 {{ /i exch def 72 {t2} i 18 mul sub moveto (The quick brown fox jumps over the lazy dog, line ) show i 3 string cvs show }} for
2 setlinewidth 72 300 moveto 523 300 lineto stroke
0.5 setlinewidth 72 290 moveto 523 290 lineto stroke
100 120 150 100 rectfill
showpage
/Courier findfont 12 scalefont setfont
72 {t1} moveto (Page two: a circle and a box) show
4 setlinewidth 300 450 120 0 360 arc stroke
100 100 200 80 rectfill
showpage
"#,
        t1 = h - 80,
        t2 = h - 130,
    )
}

/// A Python script drawing one A4 page with cairo into argv[1].
const PY_CAIRO: &str = r#"
import sys, cairo
s = cairo.PDFSurface(sys.argv[1], 595, 842)
c = cairo.Context(s)
c.set_source_rgb(0, 0, 0)
c.select_font_face('DejaVu Sans', cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_BOLD)
c.set_font_size(28)
c.move_to(72, 100)
c.show_text('Fax from a PDF: cairo')
c.set_font_size(12)
for i in range(30):
    c.move_to(72, 150 + i * 16)
    c.show_text('Line %d: pack my box with five dozen liquor jugs' % i)
c.set_line_width(3)
c.rectangle(72, 660, 450, 120)
c.stroke()
c.arc(300, 720, 40, 0, 6.2832)
c.fill()
s.finish()
"#;

/// A Python interpreter that has `cairo` (Debian's python3-cairo lives in /usr/bin/python3's
/// path, which a pyenv python3 may not see).
fn python_with_cairo() -> Option<PathBuf> {
    for py in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(py)
            .args(["-c", "import cairo"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py.into());
        }
    }
    unavailable(
        "python3-cairo",
        "not installed (apt-get install python3-cairo)",
    );
    None
}

/// Wrap `pdf` as an `application/pdf` attachment with Python's `email` package.
fn pdf_mail(pdf: &Path) -> Vec<u8> {
    let script = r#"
import sys, email.policy
from email.mime.multipart import MIMEMultipart
from email.mime.application import MIMEApplication
m = MIMEMultipart()
m['From'] = 'sender@example.com'
m['To'] = 'FAX=+14085557442@gw.example.com'
m['Subject'] = 'pdf'
p = MIMEApplication(open(sys.argv[1], 'rb').read(), 'pdf')
p.add_header('Content-Disposition', 'attachment', filename='doc.pdf')
m.attach(p)
sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
"#;
    run(Command::new("python3").arg("-c").arg(script).arg(pdf))
}

fn pages_of(mail: &[u8], resolution: Resolution, paper: Paper) -> Result<Vec<Page>, DocumentError> {
    let opts = RenderOptions {
        resolution,
        paper,
        ..RenderOptions::default()
    };
    message_to_pages(mail, &opts).map(|d| d.pages)
}

/// Ghostscript's rendering of every page of `pdf` at `x` × `y` dpi, bilevel.
fn ghostscript_pages(pdf: &Path, x: u32, y: u32, dir: &Path) -> Vec<Page> {
    let out = dir.join(format!("gs-{x}x{y}-%03d.pbm"));
    run(Command::new("gs")
        .args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pbmraw"])
        .arg(format!("-r{x}x{y}"))
        .arg(format!("-sOutputFile={}", out.display()))
        .arg(pdf));
    let mut pages = Vec::new();
    for i in 1.. {
        let p = dir.join(format!("gs-{x}x{y}-{i:03}.pbm"));
        if !p.exists() {
            break;
        }
        pages.extend(pbm_file_pages(&p));
    }
    pages
}

/// Our pages against Ghostscript's at `gs_y` lines per inch: same count; per page black pels
/// within `tol` and the ink's bounding box within 4 pels (ours is centred on the 1728-pel scan
/// line, and T.4's 7.7 lines per mm are 195.58 per inch, not Ghostscript's 196).
fn compare(what: &str, ours: &[Page], gs: &[Page], geom: &Geometry, gs_y: f64, tol: f64) {
    let rows = geom.y_per_mm * 25.4 / gs_y;
    assert_eq!(ours.len(), gs.len(), "{what}: page count");
    for (i, (o, g)) in ours.iter().zip(gs).enumerate() {
        assert_eq!(o.width, geom.width, "{what} page {}", i + 1);
        assert_eq!(o.height, geom.length, "{what} page {}", i + 1);
        let (bo, bg) = (black(o) as f64, black(g) as f64 * rows);
        assert!(
            bg > 1000.0,
            "{what} page {}: Ghostscript drew nothing",
            i + 1
        );
        let diff = (bo / bg - 1.0).abs();
        eprintln!(
            "{what} page {}: {bo} black pels, Ghostscript {bg} ({:+.2} %)",
            i + 1,
            100.0 * (bo / bg - 1.0)
        );
        assert!(
            diff < tol,
            "{what} page {}: {bo} black pels, Ghostscript {bg}",
            i + 1
        );
        let margin = (i64::from(geom.width) - i64::from(g.width)) / 2;
        let (a, b) = (bbox(o), bbox(g));
        let b = (
            b.0,
            (f64::from(b.1) * rows) as u32,
            b.2,
            (f64::from(b.3) * rows) as u32,
        );
        let near = |u: u32, v: u32, shift: i64| (i64::from(u) - i64::from(v) - shift).abs() <= 4;
        assert!(
            near(a.0, b.0, margin)
                && near(a.2, b.2, margin)
                && near(a.1, b.1, 0)
                && near(a.3, b.3, 0),
            "{what} page {}: ink at {a:?}, Ghostscript's at {b:?} (+{margin} across)",
            i + 1
        );
    }
}

fn peers() -> bool {
    require_peer("gs", "ghostscript")
        && require_peer("qpdf", "qpdf")
        && require_peer("python3", "python3")
}

#[test]
fn ghostscript_and_qpdf_pdfs_fax_as_ghostscript_renders_them() {
    if !peers() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    for (paper, w, h) in [(Paper::A4, 595, 842), (Paper::Letter, 612, 792)] {
        let ps = d("doc.ps");
        std::fs::write(&ps, postscript(w, h)).unwrap();
        let pdf = d(&format!("doc-{w}.pdf"));
        run(Command::new("gs")
            .args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite"])
            .arg(format!("-sOutputFile={}", pdf.display()))
            .arg(&ps));
        let lin = d(&format!("lin-{w}.pdf"));
        run(Command::new("qpdf").arg("--linearize").arg(&pdf).arg(&lin));
        for (res, x, y) in [
            (Resolution::FINE, 204, 196),
            (Resolution::STANDARD, 204, 98),
        ] {
            let geom = Geometry::new(res, paper).unwrap();
            let gs = ghostscript_pages(&pdf, x, y, dir.path());
            for (name, file) in [("pdfwrite", &pdf), ("qpdf --linearize", &lin)] {
                let ours = pages_of(&pdf_mail(file), res, paper).unwrap();
                compare(
                    &format!("{name} {w}x{h} pt at {x}x{y}"),
                    &ours,
                    &gs,
                    &geom,
                    f64::from(y),
                    0.05,
                );
            }
        }
    }
}

#[test]
fn a_cairo_pdf_faxes_as_ghostscript_renders_it() {
    if !peers() {
        return;
    }
    let Some(py) = python_with_cairo() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("cairo.pdf");
    run(Command::new(py).arg("-c").arg(PY_CAIRO).arg(&pdf));
    let geom = Geometry::new(Resolution::FINE, Paper::A4).unwrap();
    let gs = ghostscript_pages(&pdf, 204, 196, dir.path());
    let ours = pages_of(&pdf_mail(&pdf), Resolution::FINE, Paper::A4).unwrap();
    compare("cairo", &ours, &gs, &geom, 196.0, 0.05);
}

#[test]
fn encrypted_and_corrupt_pdfs_are_refused_with_554_5_6_1() {
    if !peers() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    std::fs::write(d("doc.ps"), postscript(595, 842)).unwrap();
    run(Command::new("gs")
        .args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite"])
        .arg(format!("-sOutputFile={}", d("doc.pdf").display()))
        .arg(d("doc.ps")));
    // A user password: nothing can be rendered without it.
    run(Command::new("qpdf")
        .args(["--encrypt", "secret", "owner", "256", "--"])
        .arg(d("doc.pdf"))
        .arg(d("locked.pdf")));
    let e = pages_of(&pdf_mail(&d("locked.pdf")), Resolution::FINE, Paper::A4).unwrap_err();
    assert!(matches!(e, DocumentError::Pdf { .. }), "{e}");
    let (code, esc, text) = e.smtp_reply();
    assert_eq!((code, esc, e.abort_cause()), (554, "5.6.1", 3), "{text}");
    assert!(text.contains("encrypted"), "{text}");
    // An empty user password (only an owner password restricting editing) opens as in any
    // reader, and renders as the plain file does.
    run(Command::new("qpdf")
        .args(["--encrypt", "", "owner", "256", "--"])
        .arg(d("doc.pdf"))
        .arg(d("open.pdf")));
    let plain = pages_of(&pdf_mail(&d("doc.pdf")), Resolution::FINE, Paper::A4).unwrap();
    let open = pages_of(&pdf_mail(&d("open.pdf")), Resolution::FINE, Paper::A4).unwrap();
    assert!(
        plain == open,
        "an owner-password-only PDF renders as the plain one"
    );
    // Truncated in the middle: refused, not a crash.
    let bytes = std::fs::read(d("doc.pdf")).unwrap();
    std::fs::write(d("cut.pdf"), &bytes[..bytes.len() / 3]).unwrap();
    match pages_of(&pdf_mail(&d("cut.pdf")), Resolution::FINE, Paper::A4) {
        Err(e) => assert_eq!(e.smtp_reply().1, "5.6.1", "{e}"),
        // hayro repairs what it can (as readers do): then pages it could read come out.
        Ok(pages) => assert!(!pages.is_empty()),
    }
}
