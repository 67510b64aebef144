//! `softfax analyze FILE` (docs/contracts/cli.md): a recorded or captured fax call decoded
//! offline, like a protocol analyser — tones, V.21 frames with their T.30 meaning,
//! high-speed modem segments, pages — as one time-ordered report. The analysis itself is
//! [`softfax_dsp::fax::analysis`]; here are the files it reads ([`input`], [`pcap`]), the
//! report ([`report`]), the spectrogram ([`spectrogram`]) and the command.
//!
//! **Tested by:** `tests/analyze.rs` — the real captured calls of vectors/real-fax-audio
//! (NSF/CSI/DIS, TSI/DCS and the V.29 9600 TCF found as spandsp found them), a `--record`
//! WAV of a `sim:` call (the same frames as the call's own log, the page pel for pel; an
//! ECM and a non-ECM call), garbage, truncated and misnamed files.

pub mod input;
pub mod pcap;
pub mod report;
pub mod spectrogram;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use softfax_dsp::fax::analysis::{self, Track};

pub use input::{Channel, Input};
pub use report::{Report, write_pages};
pub use softfax_dsp::fax::analysis::{Item, PageFound, Segment, SegmentKind, What};

/// Analyse the channels of `input`.
pub fn analyze(source: &str, input: Input) -> Report {
    let tracks: Vec<Track> = input
        .channels
        .iter()
        .map(|c| Track {
            offset: c.offset,
            samples: &c.samples,
        })
        .collect();
    let items = analysis::analyze(&tracks);
    Report {
        source: source.to_string(),
        description: input.description,
        notes: input.notes,
        channels: input
            .channels
            .iter()
            .map(|c| {
                (
                    c.tag.clone(),
                    c.name.clone(),
                    c.samples.len() as u64 + c.offset,
                )
            })
            .collect(),
        items,
        pngs: Default::default(),
    }
}

/// The CLI: read the file, write its pages (and spectrogram), print the report.
pub fn run(
    file: &Path,
    pages: Option<&Path>,
    spectrogram: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let input = match input::load(file) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("softfax: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(png) = spectrogram {
        let f = std::fs::File::create(png)
            .with_context(|| format!("cannot create {}", png.display()))?;
        spectrogram::write_png(&input.channels, std::io::BufWriter::new(f))
            .with_context(|| format!("writing {}", png.display()))?;
    }
    let mut report = analyze(&file.display().to_string(), input);
    let stem = file
        .file_stem()
        .map_or("call".into(), |s| s.to_string_lossy().into_owned());
    let dir = pages.unwrap_or(Path::new("."));
    write_pages(&mut report, dir, &stem)?;
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}
