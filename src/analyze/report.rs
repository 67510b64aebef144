//! The report of `softfax analyze` (docs/contracts/cli.md): the header (file, channels,
//! notes) and one time-stamped line per thing found; the pages found written as PNG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use softfax_dsp::fax::analysis::{Item, PageFound, Segment, SegmentKind, What};
use softfax_dsp::t30::FrameRepr;
use softfax_dsp::tones::fax::FaxTone;

/// The whole analysis.
#[derive(Debug, Clone)]
pub struct Report {
    pub source: String,
    pub description: String,
    pub notes: Vec<String>,
    pub channels: Vec<(String, String, u64)>,
    pub items: Vec<Item>,
    /// Where each page's PNG was written, by page number.
    pub pngs: BTreeMap<u32, PathBuf>,
}

impl Report {
    /// The frames found, in time order: (channel tag, meaning).
    pub fn frames(&self) -> Vec<(String, FrameRepr)> {
        self.items
            .iter()
            .filter_map(|i| match &i.what {
                What::Frame { repr: Ok(r), .. } => {
                    Some((self.channels[i.channel].0.clone(), r.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// The modem segments found, in time order.
    pub fn segments(&self) -> Vec<&Segment> {
        self.items
            .iter()
            .filter_map(|i| match &i.what {
                What::Modem(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// The pages decoded (non-ECM and ECM), in time order.
    pub fn pages(&self) -> Vec<&PageFound> {
        self.items
            .iter()
            .filter_map(|i| match &i.what {
                What::Modem(Segment {
                    kind: SegmentKind::Page(p),
                    ..
                })
                | What::Page(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

/// Write every page as `<stem>-page-<n>.png` into `dir`.
pub fn write_pages(report: &mut Report, dir: &Path, stem: &str) -> anyhow::Result<()> {
    for item in &report.items {
        if let What::Modem(Segment {
            kind: SegmentKind::Page(p),
            ..
        })
        | What::Page(p) = &item.what
        {
            let path = dir.join(format!("{stem}-page-{}.png", p.number));
            let f = std::fs::File::create(&path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            crate::pngout::page_png(&p.page, std::io::BufWriter::new(f))?;
            report.pngs.insert(p.number, path);
        }
    }
    Ok(())
}

fn secs(samples: u64) -> f64 {
    samples as f64 / 8000.0
}

/// One item's line: what was found, and where its page went.
struct Line<'a> {
    what: &'a What,
    pngs: &'a BTreeMap<u32, PathBuf>,
}

impl Line<'_> {
    /// "page N: W × H coding, B bad rows[, no RTC][ → file]".
    fn page(&self, f: &mut std::fmt::Formatter<'_>, p: &PageFound) -> std::fmt::Result {
        write!(
            f,
            "page {}: {} × {} {}, {} bad rows{}",
            p.number,
            p.page.width,
            p.page.height,
            p.coding.name(),
            p.bad_rows,
            if p.complete { "" } else { ", no RTC" }
        )?;
        if let Some(path) = self.pngs.get(&p.number) {
            write!(f, " → {}", path.display())?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.what {
            What::FaxTone { tone, samples } => {
                let name = match tone {
                    FaxTone::Cng => "CNG 1100 Hz",
                    FaxTone::Ced => "CED 2100 Hz",
                };
                match samples {
                    Some(n) => write!(f, "{name} ({:.2} s)", secs(*n)),
                    None => write!(f, "{name} (to the end)"),
                }
            }
            What::Dtmf(d) => write!(f, "DTMF {d}"),
            What::Progress(p) => write!(f, "call progress: {p}"),
            What::Frame { octets, repr } => match repr {
                Ok(r) => write!(f, "{r}"),
                Err(e) => write!(f, "frame {octets:02x?}: {e}"),
            },
            What::BadFrames(n) => write!(f, "V.21: {n} frame(s) with a bad FCS"),
            What::Page(p) => {
                write!(f, "ECM ")?;
                self.page(f, p)
            }
            What::V21Flags { flags, samples } => write!(
                f,
                "V.21: {flags} flags, no whole frame ({:.2} s)",
                secs(*samples)
            ),
            What::Unknown {
                samples,
                level_dbm0,
            } => write!(
                f,
                "signal, no modem trained ({:.2} s, {level_dbm0:.1} dBm0)",
                secs(*samples)
            ),
            What::Modem(s) => {
                write!(f, "{}", s.rate)?;
                if s.probed {
                    write!(f, " (probed)")?;
                }
                if !s.trained {
                    return write!(f, ": training failed ({:.2} s of signal)", secs(s.samples));
                }
                write!(
                    f,
                    ": trained in {:.2} s, {:.1} dBm0, SNR {:.1} dB, {:.2} s, {} bits",
                    secs(s.training_samples),
                    s.quality.level_dbm0,
                    s.quality.snr_db,
                    secs(s.samples),
                    s.bits
                )?;
                match &s.kind {
                    SegmentKind::None => write!(f, "; not T.4 data"),
                    SegmentKind::Tcf {
                        zeros,
                        longest_zero_run,
                    } => {
                        let need = s.rate.bps as u64;
                        write!(
                            f,
                            "; TCF: {:.1} % zeros, longest run {longest_zero_run} ({:.2} s): {}",
                            *zeros as f64 * 100.0 / s.bits.max(1) as f64,
                            *longest_zero_run as f64 / need as f64,
                            if *longest_zero_run >= need {
                                "good (≥ 1 s)"
                            } else {
                                "would fail (< 1 s)"
                            }
                        )
                    }
                    SegmentKind::Ecm { frames, bad, fcd } => write!(
                        f,
                        "; ECM: {frames} HDLC frames ({} FCD), {bad} bad",
                        fcd.len()
                    ),
                    SegmentKind::Page(p) => {
                        write!(f, "; ")?;
                        self.page(f, p)
                    }
                }
            }
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}: {}", self.source, self.description)?;
        for (tag, name, len) in &self.channels {
            writeln!(f, "  {tag:>2}  {name} ({:.2} s)", secs(*len))?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        if self.items.is_empty() {
            writeln!(f, "  (no fax signal found)")?;
        }
        for i in &self.items {
            let mut line = String::new();
            let _ = write!(
                line,
                "{:8.2} {:<2} {}",
                secs(i.at),
                self.channels[i.channel].0,
                Line {
                    what: &i.what,
                    pngs: &self.pngs,
                }
            );
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
