//! The report's codec part: every ITU test chart (vectors/ccitt-t24, ITU-T T.24) encoded by
//! softfax as TIFF Class F in each coding — MH and MR (ITU-T T.4 §4.1, §4.2, K = 4) and MMR
//! (ITU-T T.6) — and decoded again, pel for pel; with libtiff's tools installed, libtiff
//! decodes softfax's files (`tifftopnm`) and re-encodes them (`tiffcp -c g3|g3:2d|g4`) for
//! softfax to decode, both compared with the chart.

use std::path::{Path, PathBuf};
use std::process::Command;

use softfax_dsp::image::{Page, Resolution};
use softfax_dsp::pbm::read_pbm;
use softfax_dsp::t4::Coding;
use softfax_dsp::tiff::{WriteOptions, read_pages, write_pages};

use super::{Report, ReportError, figures, have, table};

/// The folder of the ITU charts: `vectors/ccitt-t24/pbm` under the current folder, or under
/// the source tree softfax was built from.
pub fn charts_dir() -> Option<PathBuf> {
    let rel = Path::new("vectors/ccitt-t24/pbm");
    [
        rel.to_path_buf(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel),
    ]
    .into_iter()
    .find(|p| p.join("itu1.pbm").is_file())
}

/// The charts 1..=8 that are there, as pages.
pub fn charts() -> Vec<(String, Page)> {
    let Some(dir) = charts_dir() else {
        return Vec::new();
    };
    (1..=8)
        .filter_map(|n| {
            let data = std::fs::read(dir.join(format!("itu{n}.pbm"))).ok()?;
            let page = read_pbm(&data, Resolution::FINE).ok()?.into_iter().next()?;
            Some((format!("itu{n}"), page))
        })
        .collect()
}

const CODINGS: [(&str, Coding, &str); 3] = [
    ("MH", Coding::Mh, "g3"),
    ("MR", Coding::Mr { k: 4 }, "g3:2d"),
    ("MMR", Coding::Mmr, "g4"),
];

fn same(a: &Page, b: &Page) -> bool {
    (a.width, a.height, &a.data) == (b.width, b.height, &b.data)
}

/// libtiff's decode of `tif` (tifftopnm), compared with `page`.
fn libtiff_decodes(tif: &Path, page: &Page) -> Result<bool, String> {
    let o = Command::new("tifftopnm")
        .arg("-quiet")
        .arg(tif)
        .output()
        .map_err(|e| format!("tifftopnm: {e}"))?;
    if !o.status.success() {
        return Ok(false);
    }
    let pages = read_pbm(&o.stdout, Resolution::FINE).map_err(|e| format!("tifftopnm: {e}"))?;
    Ok(pages.len() == 1 && same(&pages[0], page))
}

/// libtiff re-encodes `tif` in `scheme` (tiffcp); softfax decodes that, compared with `page`.
fn libtiff_encodes(tif: &Path, scheme: &str, page: &Page) -> Result<bool, String> {
    let out = tif.with_extension(format!("libtiff-{}.tif", scheme.replace(':', "")));
    let o = Command::new("tiffcp")
        .args(["-c", scheme])
        .arg(tif)
        .arg(&out)
        .output()
        .map_err(|e| format!("tiffcp: {e}"))?;
    if !o.status.success() {
        return Ok(false);
    }
    let data = std::fs::read(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    Ok(read_pages(&data).is_ok_and(|p| p.len() == 1 && same(&p[0].page, page)))
}

/// Writes the codec section; returns (round trips passed, total).
pub fn section(rep: &mut Report) -> Result<(usize, usize), ReportError> {
    rep.section("T.4/T.6 codecs on the ITU test charts");
    let charts = charts();
    if charts.is_empty() {
        rep.text("Not measured: the ITU charts (vectors/ccitt-t24/pbm) are not here.");
        return Ok((0, 0));
    }
    let libtiff = have("tifftopnm") && have("tiffcp");
    let work = rep.dir().join("codecs");
    std::fs::create_dir_all(&work).map_err(|source| ReportError::Io {
        what: format!("cannot create {}", work.display()),
        source,
    })?;
    let mut rows = Vec::new();
    let mut groups = Vec::new();
    let (mut passed, mut total) = (0, 0);
    for (name, page) in &charts {
        let mut sizes = Vec::new();
        for (cname, coding, scheme) in CODINGS {
            let data = write_pages(
                std::slice::from_ref(page),
                WriteOptions {
                    coding: Some(coding),
                    align_eol: false,
                },
            )
            .map_err(|e| ReportError::Codec(format!("{name} {cname}: {e}")))?;
            let back = read_pages(&data).is_ok_and(|p| p.len() == 1 && same(&p[0].page, page));
            total += 1;
            passed += back as usize;
            let (dec, enc) = if libtiff {
                let tif = work.join(format!("{name}-{cname}.tif"));
                std::fs::write(&tif, &data).map_err(|source| ReportError::Io {
                    what: format!("cannot write {}", tif.display()),
                    source,
                })?;
                let yn = |r: Result<bool, String>| match r {
                    Ok(true) => "same".to_string(),
                    Ok(false) => "**differs**".to_string(),
                    Err(e) => e,
                };
                let r = (
                    yn(libtiff_decodes(&tif, page)),
                    yn(libtiff_encodes(&tif, scheme, page)),
                );
                let _ = std::fs::remove_file(&tif);
                r
            } else {
                ("-".into(), "-".into())
            };
            let ratio = page.data.len() as f64 / data.len().max(1) as f64;
            rows.push(vec![
                name.clone(),
                cname.into(),
                data.len().to_string(),
                format!("{ratio:.1}"),
                if back { "same" } else { "**differs**" }.into(),
                dec,
                enc,
            ]);
            sizes.push(data.len() as f64 / 1024.0);
        }
        groups.push((name.trim_start_matches("itu").to_string(), sizes));
    }
    let _ = std::fs::remove_dir(&work);
    rep.text(&format!(
        "Each of the {} ITU-T T.24 charts (1728 × 2376 pels, fine) written by softfax as TIFF \
         Class F in MH and MR (T.4, K = 4) and MMR (T.6), then decoded: **{passed}/{total}** \
         round trips give the chart back pel for pel. {}",
        charts.len(),
        if libtiff {
            "libtiff decodes softfax's file (`tifftopnm`) and re-encodes it (`tiffcp -c \
             g3|g3:2d|g4`) for softfax to decode; both compared with the chart."
        } else {
            "libtiff's tools (`tifftopnm`, `tiffcp`) are not installed: its columns are empty."
        }
    ));
    rep.text(&table(
        &[
            "chart",
            "coding",
            "TIFF bytes",
            "ratio",
            "softfax round trip",
            "libtiff decodes",
            "softfax decodes libtiff",
        ],
        &rows,
    ));
    let chart = figures::bars(
        "TIFF size per ITU chart",
        "KB",
        &["MH", "MR", "MMR"],
        &groups,
    );
    rep.figure("codecs.png", "compressed size per chart and coding", &chart)?;
    Ok((passed, total))
}
