//! WAV lines and taps: `wav:FILE` replays a recorded far end; [`WavTap`] records any line
//! as stereo 8 kHz 16-bit WAV, left = sent, right = received (docs/contracts/lines.md, `--record`).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::{BLOCK, Line, LineError};

/// `wav:FILE`: the far end's audio from a WAV file (8 kHz, 16-bit; of a stereo file the
/// right channel, which is what `--record` calls "received"). What softfax sends is dropped.
#[derive(Debug)]
pub struct WavLine {
    samples: Vec<i16>,
    pos: usize,
}

impl WavLine {
    pub fn open(path: &Path) -> Result<WavLine, LineError> {
        let mut r = hound::WavReader::open(path)
            .map_err(|e| LineError::Wav(format!("{}: {e}", path.display())))?;
        let spec = r.spec();
        if spec.sample_rate != 8000
            || spec.bits_per_sample != 16
            || spec.sample_format != hound::SampleFormat::Int
        {
            return Err(LineError::Wav(format!(
                "{}: {} Hz, {}-bit {:?}: wav: lines take 8000 Hz 16-bit PCM",
                path.display(),
                spec.sample_rate,
                spec.bits_per_sample,
                spec.sample_format
            )));
        }
        let ch = spec.channels.max(1) as usize;
        let all: Result<Vec<i16>, _> = r.samples::<i16>().collect();
        let all = all.map_err(|e| LineError::Wav(format!("{}: {e}", path.display())))?;
        let samples = all.chunks(ch).map(|f| f[ch.min(2) - 1]).collect();
        Ok(WavLine { samples, pos: 0 })
    }
}

impl Line for WavLine {
    fn exchange(&mut self, _tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        rx.fill(0);
        if self.pos >= self.samples.len() {
            return Ok(false);
        }
        let n = (self.samples.len() - self.pos).min(BLOCK);
        rx[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        self.pos = self.samples.len();
        Ok(())
    }
}

/// Records a line as stereo WAV while passing everything through.
pub struct WavTap<L: Line> {
    inner: L,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
}

impl<L: Line> WavTap<L> {
    pub fn new(inner: L, path: &Path) -> Result<WavTap<L>, LineError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec)
            .map_err(|e| LineError::Wav(format!("{}: {e}", path.display())))?;
        Ok(WavTap {
            inner,
            writer: Some(writer),
        })
    }

    /// Finish the WAV file (also done on hang-up and drop).
    pub fn finish(&mut self) -> Result<(), LineError> {
        if let Some(w) = self.writer.take() {
            w.finalize().map_err(|e| LineError::Wav(e.to_string()))?;
        }
        Ok(())
    }
}

impl<L: Line> Line for WavTap<L> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        let up = self.inner.exchange(tx, rx)?;
        if let Some(w) = self.writer.as_mut() {
            for (t, r) in tx.iter().zip(rx.iter()) {
                w.write_sample(*t)
                    .and_then(|_| w.write_sample(*r))
                    .map_err(|e| LineError::Wav(e.to_string()))?;
            }
        }
        Ok(up)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        let r = self.inner.hangup();
        self.finish()?;
        r
    }

    fn q850_cause(&self) -> Option<u8> {
        self.inner.q850_cause()
    }

    // The tap records; placing and answering the call is the wrapped line's (a `dahdi:` line
    // under `--record` must still dial and answer).
    fn dial(&mut self, number: &str) -> Result<(), LineError> {
        self.inner.dial(number)
    }

    fn answer(&mut self) -> Result<(), LineError> {
        self.inner.answer()
    }

    fn span_report(&self) -> Option<crate::line::SpanReport> {
        self.inner.span_report()
    }

    fn called_number(&self) -> Option<String> {
        self.inner.called_number()
    }
}

impl<L: Line> Drop for WavTap<L> {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::ExecLine;

    /// A line that only remembers what it was asked to do.
    #[derive(Default)]
    struct Switchboard {
        dialled: Vec<String>,
        answered: bool,
    }

    impl Line for Switchboard {
        fn exchange(&mut self, _: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
            rx.fill(0);
            Ok(true)
        }
        fn hangup(&mut self) -> Result<(), LineError> {
            Ok(())
        }
        fn dial(&mut self, number: &str) -> Result<(), LineError> {
            self.dialled.push(number.to_string());
            Ok(())
        }
        fn answer(&mut self) -> Result<(), LineError> {
            self.answered = true;
            Ok(())
        }
    }

    #[test]
    fn tap_passes_dial_and_answer_to_the_line_it_records() {
        let dir = std::env::temp_dir().join(format!("softfax-wavdial-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut tap = WavTap::new(Switchboard::default(), &dir.join("dial.wav")).unwrap();
        tap.dial("2125551234").unwrap();
        tap.answer().unwrap();
        assert_eq!(tap.inner.dialled, ["2125551234"]);
        assert!(tap.inner.answered);
        tap.hangup().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tap_records_both_directions_and_wav_line_replays_the_far_end() {
        let dir = std::env::temp_dir().join(format!("softfax-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("call.wav");
        // The far end echoes each block (cat); what it sends is what it got, one block later
        // in its own time but in the same lock-step block for us.
        let mut tap = WavTap::new(ExecLine::spawn("cat").unwrap(), &path).unwrap();
        let mut rx = [0i16; BLOCK];
        for k in 0..10i16 {
            let tx: [i16; BLOCK] = std::array::from_fn(|i| k * 100 + i as i16);
            assert!(tap.exchange(&tx, &mut rx).unwrap());
            assert_eq!(rx, tx);
        }
        tap.hangup().unwrap();
        let r = hound::WavReader::open(&path).unwrap();
        assert_eq!((r.spec().channels, r.spec().sample_rate), (2, 8000));
        let s: Vec<i16> = r.into_samples::<i16>().map(|x| x.unwrap()).collect();
        assert_eq!(s.len(), 2 * 10 * BLOCK);
        // Interleaved: left = sent, right = received.
        assert_eq!((s[2 * 5], s[2 * 5 + 1]), (5, 5));
        // wav: replays the right channel.
        let mut line = WavLine::open(&path).unwrap();
        let mut got = Vec::new();
        while line.exchange(&[0; BLOCK], &mut rx).unwrap() {
            got.extend_from_slice(&rx);
        }
        assert_eq!(got.len(), 10 * BLOCK);
        assert_eq!(got[BLOCK * 9 + 3], 903);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_wav_is_a_clear_error() {
        let path = std::env::temp_dir().join(format!("softfax-bad-{}.wav", std::process::id()));
        std::fs::write(&path, b"RIFF....WAVEjunk").unwrap();
        let e = WavLine::open(&path).unwrap_err().to_string();
        assert!(e.contains("softfax-bad"), "{e}");
        std::fs::remove_file(&path).ok();
        use crate::sim::FarEnd;
        assert!(crate::open("nonsense", FarEnd::Receiver).is_err());
        assert!(matches!(
            crate::open("dahdi:1?root=/nonexistent-softfax", FarEnd::Receiver),
            Err(LineError::Device(e)) if e.is::<crate::dahdi::DahdiError>()
        ));
        assert!(crate::open("exec:", FarEnd::Receiver).is_err());
        assert!(crate::open("sim:?snr=abc", FarEnd::Receiver).is_err());
    }
}
