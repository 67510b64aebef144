//! `sim:[?snr=DB&gain=DB&offset_hz=HZ&drift_ppm=PPM&model=N&law=ulaw…]`
//! (docs/contracts/lines.md): an in-process telephone line to an in-process far end — a softfax
//! fax terminal of the opposite role — through the line simulator, one [`LineSim`] per
//! direction with the URI's impairments. Deterministic: the same URI gives the same call.
//!
//! `caller=FILE.tif` makes the far end a calling fax that sends the pages of FILE (a TIFF),
//! whatever the far end asked for: `fax recv --line 'sim:?caller=letter.tif'`, and the
//! on-ramp's simulated incoming call.

use std::collections::VecDeque;

use softfax_dsp::fax::Terminal;
use softfax_dsp::image::{Page, Resolution};
use softfax_dsp::linesim::{LineParams, LineSim};
use softfax_dsp::t30::Config;

use crate::{BLOCK, Line, LineError};

/// Samples of delay each direction starts with.
const PREFILL: usize = 800;

/// A simulated line with its far end.
pub struct SimLine {
    far: Terminal,
    to_far: LineSim,
    to_us: LineSim,
    q_far: VecDeque<i16>,
    q_us: VecDeque<i16>,
    far_tx: [i16; BLOCK],
    far_rx: [i16; BLOCK],
    buf: Vec<i16>,
    ended: bool,
}

/// Who the far end is.
pub enum FarEnd {
    /// A fax receiver (we send).
    Receiver,
    /// A fax sender with these pages (we receive).
    Sender(Vec<Page>),
}

impl SimLine {
    /// `query` is what follows `sim:` (with or without the leading `?`).
    pub fn new(query: &str, far: FarEnd) -> Result<SimLine, LineError> {
        let (q, caller) = split_caller(query.trim_start_matches('?'));
        let far = match caller {
            Some(file) => FarEnd::Sender(caller_pages(file).map_err(|why| LineError::BadUri {
                uri: format!("sim:{query}"),
                why,
            })?),
            None => far,
        };
        let q = q.as_str();
        let params = if q.is_empty() {
            LineParams::default()
        } else {
            LineParams::from_query(q).map_err(|e| LineError::BadUri {
                uri: format!("sim:{query}"),
                why: e.to_string(),
            })?
        };
        let cfg = Config {
            ident: "softfax sim".into(),
            ..Config::default()
        };
        let far = match far {
            FarEnd::Receiver => Terminal::answerer(cfg),
            FarEnd::Sender(pages) => Terminal::caller(cfg, pages),
        };
        Ok(SimLine {
            far,
            to_far: LineSim::new(LineParams {
                seed: params.seed.wrapping_add(1),
                ..params
            }),
            to_us: LineSim::new(LineParams {
                seed: params.seed.wrapping_add(2),
                ..params
            }),
            // 100 ms of line delay in each direction: a clock that runs slow (negative
            // drift) delivers fewer samples than the lock-step blocks take, and without
            // this reserve the line would slip at once (100 ppm takes 17 minutes to use it).
            q_far: VecDeque::from(vec![0; PREFILL]),
            q_us: VecDeque::from(vec![0; PREFILL]),
            far_tx: [0; BLOCK],
            far_rx: [0; BLOCK],
            buf: Vec::new(),
            ended: false,
        })
    }

    /// The far end's terminal (its outcome and received pages).
    pub fn far_end(&self) -> &Terminal {
        &self.far
    }
}

impl Line for SimLine {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        rx.fill(0);
        if self.ended {
            return Ok(false);
        }
        self.far.process(&self.far_rx, &mut self.far_tx);
        self.to_far.process(tx, &mut self.buf);
        self.q_far.extend(self.buf.iter().copied());
        self.to_us.process(&self.far_tx, &mut self.buf);
        self.q_us.extend(self.buf.iter().copied());
        for s in self.far_rx.iter_mut() {
            *s = self.q_far.pop_front().unwrap_or(0);
        }
        for s in rx.iter_mut() {
            *s = self.q_us.pop_front().unwrap_or(0);
        }
        if self.far.outcome().is_some() {
            // The far end has released: a moment later the line is gone.
            self.ended = true;
        }
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        if self.far.outcome().is_none() {
            self.far.line_down();
        }
        self.ended = true;
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        Some(16) // normal call clearing
    }
}

/// The query without its `caller=FILE` parameter, and FILE.
pub fn split_caller(q: &str) -> (String, Option<&str>) {
    let mut rest = Vec::new();
    let mut caller = None;
    for kv in q.split('&').filter(|kv| !kv.is_empty()) {
        match kv.strip_prefix("caller=") {
            Some(f) => caller = Some(f),
            None => rest.push(kv),
        }
    }
    (rest.join("&"), caller)
}

/// The largest TIFF a simulated caller sends.
const MAX_CALLER_FILE: u64 = 64 << 20;

/// The pages of the TIFF a simulated caller sends.
fn caller_pages(file: &str) -> Result<Vec<Page>, String> {
    let why = |e: &dyn std::fmt::Display| format!("caller={file}: {e}");
    let len = std::fs::metadata(file).map_err(|e| why(&e))?.len();
    if len > MAX_CALLER_FILE {
        return Err(why(&format!(
            "{len} bytes is more than a simulated caller sends"
        )));
    }
    let data = std::fs::read(file).map_err(|e| why(&e))?;
    let pages: Vec<Page> = softfax_dsp::tiff::read_pages(&data)
        .map_err(|e| why(&e))?
        .into_iter()
        .map(|p| p.page)
        .collect();
    if pages.is_empty() {
        return Err(why(&"no pages"));
    }
    Ok(pages)
}

/// A built-in test page for the simulated far end to send: A4 fine, boxes, lines, a
/// checkerboard strip and bars — every kind of run the codecs meet.
pub fn test_page() -> Page {
    let (w, h) = (1728u32, 2200u32);
    let mut p = Page::new(w, h, Resolution::FINE);
    for y in 0..h {
        for x in 0..w {
            let border = !(40..w - 40).contains(&x) || !(40..h - 40).contains(&y);
            let bars = (300..600).contains(&y) && (x / 48) % 2 == 0;
            let checker = (700..760).contains(&y) && (x + y) % 2 == 0;
            let diag = (900..1700).contains(&y) && (x as i64 - y as i64 + 700).rem_euclid(300) < 6;
            let bx = (1800..2000).contains(&y)
                && (200..1500).contains(&x)
                && ((x / 100 + y / 100) % 2 == 0);
            if border || bars || checker || diag || bx {
                p.row_mut(y)[x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_parameter_is_split_from_the_impairments() {
        assert_eq!(
            split_caller("snr=30&caller=/tmp/a.tif&seed=2"),
            ("snr=30&seed=2".to_string(), Some("/tmp/a.tif"))
        );
        assert_eq!(split_caller(""), (String::new(), None));
    }

    #[test]
    fn a_simulated_caller_sends_the_pages_of_its_file() {
        let dir = std::env::temp_dir().join(format!("sfx-sim-caller-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut page = Page::new(1728, 100, Resolution::FINE);
        page.row_mut(50)[10] = 0xff;
        let tif = softfax_dsp::tiff::write_pages(
            std::slice::from_ref(&page),
            softfax_dsp::tiff::WriteOptions {
                coding: Some(softfax_dsp::t4::Coding::Mh),
                align_eol: false,
            },
        )
        .unwrap();
        let f = dir.join("p.tif");
        std::fs::write(&f, tif).unwrap();
        let mut sim = SimLine::new(&format!("?caller={}", f.display()), FarEnd::Receiver).unwrap();
        // We answer; the far end calls and sends the file's page.
        let mut us = Terminal::answerer(Config::default());
        let (mut tx, mut rx) = ([0i16; BLOCK], [0i16; BLOCK]);
        for _ in 0..50 * 120 {
            us.process(&rx, &mut tx);
            if !sim.exchange(&tx, &mut rx).unwrap() {
                us.line_down();
            }
            if us.outcome().is_some() {
                break;
            }
        }
        assert_eq!(us.outcome().map(|o| o.pages), Some(1));
        assert!(us.received_pages()[0].data == page.data);
        match SimLine::new("caller=/nonexistent.tif", FarEnd::Receiver) {
            Err(LineError::BadUri { why, .. }) => assert!(why.contains("nonexistent"), "{why}"),
            _ => panic!("a missing caller file must be refused"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
