//! The cpal side of `sound:` lines (feature `soundcard`): an input and an output stream on
//! the chosen devices, their callbacks feeding a shared [`Duplex`]; the line waits on a
//! condition variable until a block's worth of captured audio is there, so the card's
//! capture clock paces the call.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::{Duplex, DuplexStats, Lanes};
use crate::{BLOCK, Line, LineError};

/// Playback latency kept queued, ms.
const LATENCY_MS: u32 = 60;
/// How long a block may take before the device counts as stopped.
const STALL: Duration = Duration::from_secs(2);

struct Shared {
    duplex: Mutex<Duplex>,
    ready: Condvar,
    error: Mutex<Option<String>>,
}

/// A sound device as a line (see the [module](super) documentation).
pub struct SoundLine {
    shared: Arc<Shared>,
    _input: cpal::Stream,
    _output: cpal::Stream,
    name: String,
}

fn err(what: impl std::fmt::Display) -> LineError {
    LineError::Io {
        what: "sound card".into(),
        source: std::io::Error::other(what.to_string()),
    }
}

/// The names of the input and output devices cpal sees.
pub fn devices() -> Result<(Vec<String>, Vec<String>), LineError> {
    let host = cpal::default_host();
    let ins = host.input_devices().map_err(err)?;
    let ins = ins.filter_map(|d| d.name().ok()).collect();
    let outs = host.output_devices().map_err(err)?;
    let outs = outs.filter_map(|d| d.name().ok()).collect();
    Ok((ins, outs))
}

impl SoundLine {
    /// Open `device` (by name; empty = the default devices) carrying `lanes` (1 or 2)
    /// 8 kHz signals.
    pub fn open(device: &str, lanes: usize) -> Result<SoundLine, LineError> {
        let host = cpal::default_host();
        let (input, output) = if device.is_empty() {
            (
                host.default_input_device()
                    .ok_or_else(|| err("no default input device"))?,
                host.default_output_device()
                    .ok_or_else(|| err("no default output device"))?,
            )
        } else {
            let find = |it: Result<_, cpal::DevicesError>,
                        kind: &str|
             -> Result<cpal::Device, LineError> {
                let list: Vec<cpal::Device> = it.map_err(err)?;
                let names: Vec<String> = list.iter().filter_map(|d| d.name().ok()).collect();
                list.into_iter()
                    .find(|d| d.name().is_ok_and(|n| n == device))
                    .ok_or_else(|| {
                        err(format!(
                            "no {kind} device named '{device}' (there are: {})",
                            names.join(", ")
                        ))
                    })
            };
            (
                find(host.input_devices().map(|d| d.collect()), "input")?,
                find(host.output_devices().map(|d| d.collect()), "output")?,
            )
        };
        let in_cfg = input.default_input_config().map_err(err)?;
        let out_cfg = output.default_output_config().map_err(err)?;
        let duplex = Duplex::new(
            in_cfg.sample_rate().0,
            in_cfg.channels() as usize,
            out_cfg.sample_rate().0,
            out_cfg.channels() as usize,
            lanes,
            LATENCY_MS,
        );
        let shared = Arc::new(Shared {
            duplex: Mutex::new(duplex),
            ready: Condvar::new(),
            error: Mutex::new(None),
        });
        let in_fmt = in_cfg.sample_format();
        let out_fmt = out_cfg.sample_format();
        let _input = match in_fmt {
            SampleFormat::I16 => input_stream::<i16>(&input, &in_cfg.into(), &shared),
            SampleFormat::I32 => input_stream::<i32>(&input, &in_cfg.into(), &shared),
            SampleFormat::U16 => input_stream::<u16>(&input, &in_cfg.into(), &shared),
            SampleFormat::F32 => input_stream::<f32>(&input, &in_cfg.into(), &shared),
            f => Err(err(format!("input sample format {f} is not supported"))),
        }?;
        let _output = match out_fmt {
            SampleFormat::I16 => output_stream::<i16>(&output, &out_cfg.into(), &shared),
            SampleFormat::I32 => output_stream::<i32>(&output, &out_cfg.into(), &shared),
            SampleFormat::U16 => output_stream::<u16>(&output, &out_cfg.into(), &shared),
            SampleFormat::F32 => output_stream::<f32>(&output, &out_cfg.into(), &shared),
            f => Err(err(format!("output sample format {f} is not supported"))),
        }?;
        _input.play().map_err(err)?;
        _output.play().map_err(err)?;
        let name = format!(
            "{} / {}",
            input.name().unwrap_or_default(),
            output.name().unwrap_or_default()
        );
        tracing::info!(device = %name, "sound line open");
        Ok(SoundLine {
            shared,
            _input,
            _output,
            name,
        })
    }

    /// The devices' names (input / output).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn stats(&self) -> DuplexStats {
        self.shared
            .duplex
            .lock()
            .map(|d| d.stats())
            .unwrap_or_default()
    }

    fn wait_exchange(
        &mut self,
        tx: &[[i16; BLOCK]],
        rx: &mut [[i16; BLOCK]],
    ) -> Result<(), LineError> {
        if let Some(e) = self.shared.error.lock().ok().and_then(|e| e.clone()) {
            return Err(err(e));
        }
        let mut d = self.shared.duplex.lock().map_err(|_| err("poisoned"))?;
        loop {
            if d.exchange(tx, rx) {
                return Ok(());
            }
            let (g, t) = self
                .shared
                .ready
                .wait_timeout(d, STALL)
                .map_err(|_| err("poisoned"))?;
            d = g;
            if t.timed_out() && !d.ready() {
                return Err(err(format!(
                    "{}: no audio recorded for {} s",
                    self.name,
                    STALL.as_secs()
                )));
            }
        }
    }
}

fn input_stream<T>(
    dev: &cpal::Device,
    cfg: &cpal::StreamConfig,
    shared: &Arc<Shared>,
) -> Result<cpal::Stream, LineError>
where
    T: SizedSample,
    i16: FromSample<T>,
{
    let s = Arc::clone(shared);
    let e = Arc::clone(shared);
    let mut buf: Vec<i16> = Vec::new();
    dev.build_input_stream(
        cfg,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            buf.clear();
            buf.extend(data.iter().map(|x| x.to_sample::<i16>()));
            if let Ok(mut d) = s.duplex.lock() {
                d.capture(&buf);
                if d.ready() {
                    s.ready.notify_one();
                }
            }
        },
        move |x| {
            if let Ok(mut g) = e.error.lock() {
                *g = Some(format!("input stream: {x}"));
            }
            e.ready.notify_one();
        },
        None,
    )
    .map_err(err)
}

fn output_stream<T>(
    dev: &cpal::Device,
    cfg: &cpal::StreamConfig,
    shared: &Arc<Shared>,
) -> Result<cpal::Stream, LineError>
where
    T: SizedSample + FromSample<i16>,
{
    let s = Arc::clone(shared);
    let e = Arc::clone(shared);
    let mut buf: Vec<i16> = Vec::new();
    dev.build_output_stream(
        cfg,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            buf.resize(data.len(), 0);
            if let Ok(mut d) = s.duplex.lock() {
                d.playback(&mut buf);
            } else {
                buf.fill(0);
            }
            for (o, &x) in data.iter_mut().zip(&buf) {
                *o = T::from_sample(x);
            }
        },
        move |x| {
            if let Ok(mut g) = e.error.lock() {
                *g = Some(format!("output stream: {x}"));
            }
            e.ready.notify_one();
        },
        None,
    )
    .map_err(err)
}

impl Lanes for SoundLine {
    fn exchange_lanes(
        &mut self,
        tx: &[[i16; BLOCK]; 2],
        rx: &mut [[i16; BLOCK]; 2],
    ) -> Result<(), LineError> {
        self.wait_exchange(tx, rx)
    }
}

impl Line for SoundLine {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        let mut r = [[0i16; BLOCK]; 1];
        self.wait_exchange(std::slice::from_ref(tx), &mut r)?;
        *rx = r[0];
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        let _ = self._input.pause();
        let _ = self._output.pause();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens the device `SOFTFAX_TEST_SOUND_DEVICE` names (tests/sound.rs sets it, with an
    /// ALSA configuration whose default device is ALSA's null plugin) and runs blocks
    /// through it: cpal's streams, the callbacks and the duplex buffer at the device's rate.
    #[test]
    fn exchanges_blocks_through_a_real_device() {
        let Ok(dev) = std::env::var("SOFTFAX_TEST_SOUND_DEVICE") else {
            eprintln!("SKIP: SOFTFAX_TEST_SOUND_DEVICE is not set (tests/sound.rs sets it)");
            return;
        };
        let dev = if dev == "default" { String::new() } else { dev };
        let (ins, outs) = devices().unwrap();
        eprintln!("input devices {ins:?}, output devices {outs:?}");
        let mut line = SoundLine::open(&dev, 1).unwrap();
        eprintln!("opened {}", line.name());
        let mut rx = [0i16; BLOCK];
        let tx: [i16; BLOCK] = std::array::from_fn(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16);
        let started = std::time::Instant::now();
        for _ in 0..25 {
            assert!(line.exchange(&tx, &mut rx).unwrap());
        }
        let st = line.stats();
        eprintln!("25 blocks in {:?}: {st:?}", started.elapsed());
        assert_eq!(st.blocks, 25);
        line.hangup().unwrap();
    }
}
