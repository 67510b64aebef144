//! `sim:[?snr=DB&gain=DB&offset_hz=HZ&drift_ppm=PPM&model=N&law=ulaw…]`
//! (docs/contracts/lines.md): an in-process telephone line to an in-process far end — a softfax
//! fax terminal of the opposite role — through the line simulator, one [`LineSim`] per
//! direction with the URI's impairments. Deterministic: the same URI gives the same call.

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
        let q = query.trim_start_matches('?');
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
