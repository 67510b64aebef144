//! `softfax analyze --spectrogram FILE.png`: a picture of a call's spectrum over time, for
//! people to see what was on the line — CNG and CED, the V.21 flags of the T.30 frames, the
//! training and page data of the high-speed modem, echo, noise.
//!
//! One panel per channel on the call's time line: time on x ([`COLUMN_SAMPLES`] per column
//! unless the call is longer than [`MAX_COLUMNS`] allows), 0 Hz at the bottom to 4 kHz at the
//! top, [`ROW_PIXELS`] rows per bin of a [`FFT_LEN`]-point FFT (31.25 Hz) of Hann-windowed
//! frames, a column's frames averaged in power. Colour is the level against a full-scale
//! sine in the same bin, from [`FLOOR_DB`] (black) to 0 dB (pale yellow).
//!
//! **Tested by:** the unit tests below (size, a tone in its row, a silent channel) and
//! `tests/analyze.rs` (the CLI option on a recorded call).

use std::io::Write;

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use super::input::Channel;
use crate::plot::{BLACK, Canvas, GREY, Rgb};

/// The FFT's length: 31.25 Hz bins at 8 kHz.
pub const FFT_LEN: usize = 256;
/// Bins shown, 0 Hz to 4 kHz.
pub const BINS: usize = FFT_LEN / 2 + 1;
/// Pixel rows per bin.
pub const ROW_PIXELS: u32 = 2;
/// Samples per column: 10 ms.
pub const COLUMN_SAMPLES: usize = 80;
/// The widest picture's plot area, columns; longer calls get more samples per column.
pub const MAX_COLUMNS: usize = 4000;
/// The level drawn black, dB against a full-scale sine.
pub const FLOOR_DB: f32 = -100.0;

/// Left margin (frequency labels), top of each panel (its title), bottom (time labels),
/// right margin, pixels.
const LEFT: u32 = 48;
const TITLE: u32 = 14;
const BOTTOM: u32 = 16;
const RIGHT: u32 = 8;

/// Where things are in the picture of `channels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    /// Samples per column.
    pub hop: usize,
    pub columns: usize,
}

impl Layout {
    pub fn of(channels: &[Channel]) -> Layout {
        let span = channels
            .iter()
            .map(|c| c.offset as usize + c.samples.len())
            .max()
            .unwrap_or(0);
        let hop = COLUMN_SAMPLES.max(span.div_ceil(MAX_COLUMNS));
        let columns = span.div_ceil(hop).max(1);
        Layout {
            width: LEFT + columns as u32 + RIGHT,
            height: channels.len().max(1) as u32 * (TITLE + BINS as u32 * ROW_PIXELS) + BOTTOM,
            hop,
            columns,
        }
    }

    /// The first pixel row of `bin` in the panel of channel `panel` (bins run upwards).
    pub fn row(&self, panel: usize, bin: usize) -> u32 {
        self.panel_top(panel) + (BINS - 1 - bin.min(BINS - 1)) as u32 * ROW_PIXELS
    }

    /// The pixel column of plot column `col`.
    pub fn x(&self, col: usize) -> u32 {
        LEFT + col as u32
    }

    /// The first pixel row of the plot area of channel `panel`.
    fn panel_top(&self, panel: usize) -> u32 {
        panel as u32 * (TITLE + BINS as u32 * ROW_PIXELS) + TITLE
    }
}

/// The bin nearest `hz`.
pub fn bin_of(hz: f32) -> usize {
    ((hz * FFT_LEN as f32 / 8000.0).round().max(0.0) as usize).min(BINS - 1)
}

/// Levels in dB against a full-scale sine, one `[f32; BINS]` per column of `hop` samples
/// (its Hann-windowed frames, half overlapped, averaged in power).
pub fn levels(samples: &[i16], hop: usize) -> Vec<[f32; BINS]> {
    let fft = FftPlanner::<f32>::new().plan_fft_forward(FFT_LEN);
    let window: Vec<f32> = (0..FFT_LEN)
        .map(|n| {
            let phase = 2.0 * std::f32::consts::PI * n as f32 / FFT_LEN as f32;
            0.5 - 0.5 * phase.cos()
        })
        .collect();
    // A full-scale sine in one bin: amplitude × the window's sum / 2.
    let full = 32768.0 * window.iter().sum::<f32>() / 2.0;
    let mut buf = vec![Complex::new(0.0f32, 0.0); FFT_LEN];
    let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
    let step = (FFT_LEN / 2).min(hop);
    let hop = hop.max(1);
    (0..samples.len().div_ceil(hop))
        .map(|c| {
            let mut power = [0f32; BINS];
            let mut frames = 0;
            let mut start = c * hop;
            while start < (c + 1) * hop && start < samples.len() {
                for (n, z) in buf.iter_mut().enumerate() {
                    let s = samples.get(start + n).copied().unwrap_or(0);
                    *z = Complex::new(s as f32 * window[n], 0.0);
                }
                fft.process_with_scratch(&mut buf, &mut scratch);
                for (p, z) in power.iter_mut().zip(&buf) {
                    *p += z.norm_sqr();
                }
                frames += 1;
                start += step;
            }
            power.map(|p| {
                let p = p / frames.max(1) as f32 / (full * full);
                (10.0 * p.max(1e-20).log10()).max(FLOOR_DB)
            })
        })
        .collect()
}

/// Black through purple, red and orange to pale yellow, brighter with every step.
fn colour(db: f32) -> Rgb {
    const STOPS: [Rgb; 5] = [
        [0, 0, 4],
        [81, 18, 124],
        [183, 55, 121],
        [252, 137, 97],
        [252, 253, 191],
    ];
    let t = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    std::array::from_fn(|k| {
        let (a, b) = (STOPS[i][k] as f32, STOPS[i + 1][k] as f32);
        (a + (b - a) * f).round() as u8
    })
}

/// The spectrogram of `channels` (each with its tag and name as the panel's title).
pub fn render(channels: &[Channel]) -> Canvas {
    let lay = Layout::of(channels);
    let mut c = Canvas::new(lay.width, lay.height);
    for (panel, ch) in channels.iter().enumerate() {
        let top = lay.panel_top(panel) as i32;
        // The font has ASCII only.
        let title = format!("{} {}", ch.tag.trim(), ch.name.replace('→', "to"));
        c.text(LEFT as i32, top - TITLE as i32 + 3, title.trim(), BLACK, 1);
        let plot_h = (BINS as u32 * ROW_PIXELS) as i32;
        c.rect(
            LEFT as i32,
            top,
            lay.columns as i32,
            plot_h,
            colour(FLOOR_DB),
        );
        // The channel starts at its offset on the call's time line; columns stay aligned
        // across channels because the offset is rounded to a whole column.
        let first = ch.offset as usize / lay.hop;
        let skip = (lay.hop - ch.offset as usize % lay.hop) % lay.hop;
        let first = first + usize::from(skip > 0);
        let samples = ch.samples.get(skip..).unwrap_or(&[]);
        for (col, lv) in levels(samples, lay.hop).iter().enumerate() {
            if first + col >= lay.columns {
                break;
            }
            let x = lay.x(first + col) as i32;
            for (bin, &db) in lv.iter().enumerate() {
                let y = lay.row(panel, bin) as i32;
                c.rect(x, y, 1, ROW_PIXELS as i32, colour(db));
            }
        }
        for khz in 0..=4 {
            let y = lay.row(panel, bin_of(khz as f32 * 1000.0)) as i32 + ROW_PIXELS as i32 / 2;
            let label = if khz == 4 {
                "4 KHZ".into()
            } else {
                khz.to_string()
            };
            c.text(
                LEFT as i32 - 4 - Canvas::text_width(&label, 1),
                y - 3,
                &label,
                BLACK,
                1,
            );
            c.line(LEFT as i32 - 3, y, LEFT as i32 - 1, y, BLACK, 1);
        }
    }
    // Time ticks along the bottom, at least 60 pixels apart.
    let secs_per_col = lay.hop as f64 / 8000.0;
    let step = [1u32, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800]
        .into_iter()
        .find(|&s| s as f64 / secs_per_col >= 60.0)
        .unwrap_or(3600);
    let bottom = (lay.height - BOTTOM) as i32;
    let mut t = 0;
    while (t as f64 / secs_per_col) < lay.columns as f64 {
        let x = lay.x((t as f64 / secs_per_col) as usize) as i32;
        c.line(x, bottom, x, bottom + 3, GREY, 1);
        let label = format!("{t} S");
        if x + Canvas::text_width(&label, 1) <= lay.width as i32 {
            c.text(x, bottom + 5, &label, BLACK, 1);
        }
        t += step;
    }
    c
}

/// Write the spectrogram of `channels` as PNG.
pub fn write_png(channels: &[Channel], out: impl Write) -> Result<(), png::EncodingError> {
    render(channels).write_png(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, amplitude: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let phase = 2.0 * std::f32::consts::PI * hz * i as f32 / 8000.0;
                (amplitude * phase.sin()) as i16
            })
            .collect()
    }

    fn channel(tag: &str, offset: u64, samples: Vec<i16>) -> Channel {
        Channel {
            tag: tag.into(),
            name: "test".into(),
            offset,
            samples,
        }
    }

    fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut r = png::Decoder::new(png_bytes).read_info().unwrap();
        let mut px = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut px).unwrap();
        (info, px)
    }

    #[test]
    fn a_tone_lands_in_its_row_and_the_png_has_the_layout_size() {
        // 1 s of silence on A, then 2 s of a 1800 Hz tone (-10 dB); B: 2100 Hz from 0.5 s.
        let mut a = vec![0; 8000];
        a.extend(tone(1800.0, 10362.0, 16000));
        let b = tone(2100.0, 3276.0, 8000);
        let chans = [channel("A", 0, a), channel("B", 4000, b)];
        let lay = Layout::of(&chans);
        assert_eq!((lay.hop, lay.columns), (80, 300));
        assert_eq!(lay.width, LEFT + 300 + RIGHT);
        assert_eq!(lay.height, 2 * (TITLE + BINS as u32 * 2) + BOTTOM);
        let mut out = Vec::new();
        write_png(&chans, &mut out).unwrap();
        let (info, px) = decode(&out);
        assert_eq!((info.width, info.height), (lay.width, lay.height));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let brightness = |x: u32, y: u32| {
            let i = ((y * info.width + x) * 3) as usize;
            px[i] as u32 + px[i + 1] as u32 + px[i + 2] as u32
        };
        // The brightest row of a column, within a panel.
        let peak = |panel: usize, col: usize| {
            let (top, bottom) = (lay.row(panel, BINS - 1), lay.row(panel, 0) + ROW_PIXELS);
            (top..bottom)
                .max_by_key(|&y| brightness(lay.x(col), y))
                .unwrap()
        };
        assert_eq!(bin_of(1800.0), 58);
        for col in [110, 200, 290] {
            let y = peak(0, col);
            let want = lay.row(0, bin_of(1800.0));
            assert!(
                (want..want + ROW_PIXELS).contains(&y),
                "column {col}: row {y}"
            );
        }
        for col in [60, 100, 140] {
            let y = peak(1, col);
            let want = lay.row(1, bin_of(2100.0));
            assert!(
                (want..want + ROW_PIXELS).contains(&y),
                "column {col}: row {y}"
            );
        }
        // Silence (A's first second, B before its offset and after its end) is the floor.
        let floor = colour(FLOOR_DB);
        let floor = floor.iter().map(|&v| v as u32).sum::<u32>();
        for (panel, col) in [(0, 50), (1, 20), (1, 250)] {
            assert_eq!(
                brightness(lay.x(col), peak(panel, col)),
                floor,
                "{panel} {col}"
            );
        }
        // The -10 dB tone is brighter than the -20 dB one.
        let a_peak = brightness(lay.x(200), peak(0, 200));
        let b_peak = brightness(lay.x(100), peak(1, 100));
        assert!(a_peak > b_peak, "{a_peak} {b_peak}");
    }

    #[test]
    fn levels_are_against_a_full_scale_sine() {
        let lv = levels(&tone(1000.0, 32767.0, 800), 80);
        let db = lv[5][bin_of(1000.0)];
        assert!(db.abs() < 0.5, "{db}");
        let db = levels(&tone(1000.0, 3277.0, 800), 80)[5][bin_of(1000.0)];
        assert!((db + 20.0).abs() < 0.5, "{db}");
    }

    #[test]
    fn long_calls_and_no_channels_stay_in_bounds() {
        let lay = Layout::of(&[channel(" ", 0, vec![0; 8000 * 3600])]);
        assert_eq!(lay.columns, MAX_COLUMNS);
        assert_eq!(lay.hop, 7200);
        let c = render(&[]);
        assert_eq!(
            (c.width, c.height),
            (LEFT + 1 + RIGHT, TITLE + BINS as u32 * 2 + BOTTOM)
        );
        c.write_png(&mut Vec::new()).unwrap();
    }
}
