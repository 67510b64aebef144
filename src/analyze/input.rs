//! What `softfax analyze` reads: WAV (RIFF, PCM 8/16/24/32-bit, IEEE float, G.711 A-law and
//! µ-law, WAVE_FORMAT_EXTENSIBLE; any rate, resampled to 8 kHz), raw s16le 8 kHz mono,
//! raw G.711 (`.ulaw`/`.alaw`) and packet captures (pcap/pcapng with G.711 RTP, see
//! [`super::pcap`]). Every input becomes one or more 8 kHz [`Channel`]s.
//!
//! The format is told by the file's first bytes (RIFF/WAVE, the pcap magics); a file
//! without a known signature is raw when its name says so (`.raw`, `.s16`, `.sln`,
//! `.pcm`, `.ulaw`/`.ul`/`.mu`, `.alaw`/`.al`) and refused otherwise.

use std::path::Path;

use softfax_dsp::g711::Law;

use super::pcap;

/// One direction (or the only one) of a recorded call, at 8 kHz.
#[derive(Debug, Clone)]
pub struct Channel {
    /// How report lines mark it: `->` sent, `<-` received (a `--record` WAV), `A`, `B`, …
    /// (capture streams), ` ` (a mono recording).
    pub tag: String,
    /// What it is, for the report's header.
    pub name: String,
    /// Where it starts on the call's time line, samples.
    pub offset: u64,
    pub samples: Vec<i16>,
}

/// A file read.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file's format in words, for the report's header.
    pub description: String,
    pub channels: Vec<Channel>,
    /// Things worth knowing (truncated file, channels dropped, …).
    pub notes: Vec<String>,
}

/// What is wrong with the file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a WAV file: {why}")]
    Wav { path: String, why: String },
    #[error("{path}: {source}")]
    Pcap {
        path: String,
        source: pcap::PcapError,
    },
    #[error(
        "{path}: cannot tell the format (not WAV, pcap or pcapng); raw audio must be named .raw (s16le 8 kHz mono), .ulaw or .alaw"
    )]
    Unknown { path: String },
    #[error("{path}: {why}")]
    Unsupported { path: String, why: String },
}

/// The longest input decoded, samples per channel (4 hours at 8 kHz).
pub const MAX_SAMPLES: usize = 4 * 3600 * 8000;

/// Read `path` into 8 kHz channels.
pub fn load(path: &Path) -> Result<Input, InputError> {
    let p = path.display().to_string();
    let data = std::fs::read(path).map_err(|source| InputError::Read {
        path: p.clone(),
        source,
    })?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    from_bytes(&p, &ext, &data)
}

/// Decode the bytes of a file named `path` with extension `ext` (lower case).
pub fn from_bytes(path: &str, ext: &str, data: &[u8]) -> Result<Input, InputError> {
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WAVE" {
        return wav(data).map_err(|why| InputError::Wav {
            path: path.into(),
            why,
        });
    }
    if pcap::sniff(data) {
        let cap = pcap::read(data).map_err(|source| InputError::Pcap {
            path: path.into(),
            source,
        })?;
        return Ok(from_capture(cap));
    }
    let law = match ext {
        "raw" | "s16" | "sln" | "pcm" => None,
        "ulaw" | "ul" | "mu" | "pcmu" => Some(Law::Ulaw),
        "alaw" | "al" | "pcma" => Some(Law::Alaw),
        "wav" => {
            return Err(InputError::Wav {
                path: path.into(),
                why: format!(
                    "no RIFF/WAVE header (starts with {:02x?})",
                    &data[..data.len().min(12)]
                ),
            });
        }
        "pcap" | "pcapng" | "cap" => {
            let magic = std::array::from_fn(|i| data.get(i).copied().unwrap_or(0));
            return Err(InputError::Pcap {
                path: path.into(),
                source: pcap::PcapError::NotPcap(magic),
            });
        }
        _ => return Err(InputError::Unknown { path: path.into() }),
    };
    let mut notes = Vec::new();
    let samples: Vec<i16> = match law {
        None => {
            if !data.len().is_multiple_of(2) {
                notes.push("odd number of bytes: the last one is ignored".into());
            }
            data.chunks_exact(2)
                .take(MAX_SAMPLES)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect()
        }
        Some(law) => {
            let mut v = Vec::new();
            law.decode(&data[..data.len().min(MAX_SAMPLES)], &mut v);
            v
        }
    };
    let description = match law {
        None => "raw s16le, 8000 Hz, mono".to_string(),
        Some(l) => format!("raw G.711 {}, 8000 Hz, mono", l.rtp_name()),
    };
    Ok(Input {
        description,
        channels: vec![Channel {
            tag: " ".into(),
            name: "mono".into(),
            offset: 0,
            samples,
        }],
        notes,
    })
}

fn from_capture(cap: pcap::Capture) -> Input {
    let mut notes = Vec::new();
    if cap.truncated {
        notes.push("the capture ends inside a packet (truncated file)".into());
    }
    if cap.streams.is_empty() {
        notes.push("no RTP stream with G.711 audio (payload type 0 or 8)".into());
    }
    let description = format!(
        "{}, {} packets, {} G.711 RTP stream(s), {} other UDP, {} other",
        cap.format,
        cap.packets,
        cap.streams.len(),
        cap.other_udp,
        cap.other
    );
    let channels = cap
        .streams
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let tag = stream_tag(i);
            Channel {
                name: format!(
                    "{}, {}, {} packets, {} lost, {} duplicates",
                    s.key,
                    s.law.rtp_name(),
                    s.packets,
                    s.lost,
                    s.duplicates
                ),
                tag,
                offset: s.offset,
                samples: s.samples,
            }
        })
        .collect();
    Input {
        description,
        channels,
        notes,
    }
}

/// `A`, `B`, … `Z`, `AA`, …
fn stream_tag(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (i % 26) as u8) as char);
        if i < 26 {
            return s;
        }
        i = i / 26 - 1;
    }
}

/// A RIFF WAVE file (the chunk layout of the Multimedia Programming Interface spec).
fn wav(data: &[u8]) -> Result<Input, String> {
    let mut p = 12;
    let mut fmt: Option<&[u8]> = None;
    let mut body: Option<&[u8]> = None;
    let mut notes = Vec::new();
    while p + 8 <= data.len() {
        let id = &data[p..p + 4];
        let len = u32::from_le_bytes(data[p + 4..p + 8].try_into().unwrap_or([0; 4])) as usize;
        let start = p + 8;
        let avail = data.len() - start;
        if id == b"fmt " {
            fmt = Some(&data[start..start + len.min(avail)]);
        } else if id == b"data" {
            if len > avail {
                notes.push(format!(
                    "the data chunk claims {len} bytes, the file holds {avail}: truncated"
                ));
            }
            body = Some(&data[start..start + len.min(avail)]);
            if fmt.is_some() {
                break;
            }
        }
        p = start.saturating_add(len).saturating_add(len & 1);
    }
    let fmt = fmt.ok_or("no fmt chunk")?;
    let body = body.ok_or("no data chunk")?;
    if fmt.len() < 16 {
        return Err(format!("fmt chunk of {} bytes (16 needed)", fmt.len()));
    }
    let u16at = |o: usize| u16::from_le_bytes([fmt[o], fmt[o + 1]]);
    let mut tag = u16at(0);
    let channels = u16at(2) as usize;
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let bits = u16at(14) as usize;
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the format tag.
        if fmt.len() < 26 {
            return Err("WAVE_FORMAT_EXTENSIBLE without its sub-format".into());
        }
        tag = u16at(24);
    }
    if channels == 0 {
        return Err("0 channels".into());
    }
    if !(1000..=384_000).contains(&rate) {
        return Err(format!("sample rate {rate} Hz"));
    }
    let (kind, width) = match (tag, bits) {
        (1, 8) => ("8-bit PCM", 1),
        (1, 16) => ("16-bit PCM", 2),
        (1, 24) => ("24-bit PCM", 3),
        (1, 32) => ("32-bit PCM", 4),
        (3, 32) => ("32-bit float", 4),
        (3, 64) => ("64-bit float", 8),
        (6, 8) => ("G.711 A-law", 1),
        (7, 8) => ("G.711 µ-law", 1),
        _ => {
            return Err(format!(
                "format {tag:#06x} with {bits} bits per sample: analyze reads PCM (8/16/24/32-bit), float and G.711"
            ));
        }
    };
    let frame = width * channels;
    let frames = (body.len() / frame).min(MAX_SAMPLES * (rate as usize).div_ceil(8000));
    let sample = |b: &[u8]| -> i16 {
        match (tag, width) {
            (1, 1) => ((b[0] as i16) - 128) << 8,
            (1, 2) => i16::from_le_bytes([b[0], b[1]]),
            (1, 3) => i16::from_le_bytes([b[1], b[2]]),
            (1, 4) => i16::from_le_bytes([b[2], b[3]]),
            (3, 4) => {
                let f = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                (f.clamp(-1.0, 1.0) * 32767.0) as i16
            }
            (3, 8) => {
                let f = f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
                (f.clamp(-1.0, 1.0) * 32767.0) as i16
            }
            (6, _) => Law::Alaw.decode_sample(b[0]),
            (7, _) => Law::Ulaw.decode_sample(b[0]),
            _ => 0,
        }
    };
    let used = channels.min(2);
    if channels > 2 {
        notes.push(format!(
            "{channels} channels: the first two are analysed (left = sent, right = received)"
        ));
    }
    let mut chans: Vec<Vec<i16>> = vec![Vec::with_capacity(frames); used];
    for f in body.chunks_exact(frame).take(frames) {
        for (c, ch) in chans.iter_mut().enumerate() {
            ch.push(sample(&f[c * width..(c + 1) * width]));
        }
    }
    if rate != 8000 {
        notes.push(format!("resampled from {rate} Hz to 8000 Hz"));
        for ch in chans.iter_mut() {
            *ch = softfax_drivers::sound::resample(ch, rate, 8000);
        }
    }
    let description = format!(
        "WAV, {kind}, {rate} Hz, {}",
        match channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n} channels"),
        }
    );
    let channels = if used == 1 {
        vec![Channel {
            tag: " ".into(),
            name: "mono".into(),
            offset: 0,
            samples: chans.remove(0),
        }]
    } else {
        let right = chans.remove(1);
        let left = chans.remove(0);
        vec![
            Channel {
                tag: "->".into(),
                name: "left channel: sent (the --record convention)".into(),
                offset: 0,
                samples: left,
            },
            Channel {
                tag: "<-".into(),
                name: "right channel: received".into(),
                offset: 0,
                samples: right,
            },
        ]
    };
    Ok(Input {
        description,
        channels,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn wav_bytes(tag: u16, ch: u16, rate: u32, bits: u16, body: &[u8]) -> Vec<u8> {
        let mut v = b"RIFF".to_vec();
        v.extend(((36 + body.len()) as u32).to_le_bytes());
        v.extend(b"WAVEfmt ");
        v.extend(16u32.to_le_bytes());
        v.extend(tag.to_le_bytes());
        v.extend(ch.to_le_bytes());
        v.extend(rate.to_le_bytes());
        v.extend((rate * ch as u32 * bits as u32 / 8).to_le_bytes());
        v.extend((ch * bits / 8).to_le_bytes());
        v.extend(bits.to_le_bytes());
        v.extend(b"data");
        v.extend((body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn stereo_16_bit_splits_into_sent_and_received() {
        let body: Vec<u8> = [1i16, -1, 2, -2, 3, -3]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let i = from_bytes("x.wav", "wav", &wav_bytes(1, 2, 8000, 16, &body)).unwrap();
        assert_eq!(i.channels.len(), 2);
        assert_eq!(i.channels[0].tag, "->");
        assert_eq!(i.channels[0].samples, vec![1, 2, 3]);
        assert_eq!(i.channels[1].samples, vec![-1, -2, -3]);
    }

    #[test]
    fn other_formats_and_rates() {
        // µ-law mono.
        let i = from_bytes("x.wav", "wav", &wav_bytes(7, 1, 8000, 8, &[0x00, 0xFF])).unwrap();
        assert_eq!(i.channels[0].samples.len(), 2);
        assert!(i.channels[0].samples[0] < -30000);
        // 48 kHz float: 4800 frames become 800.
        let body: Vec<u8> = (0..4800)
            .flat_map(|n| ((n as f32 * 0.1).sin() * 0.5).to_le_bytes())
            .collect();
        let i = from_bytes("x.wav", "wav", &wav_bytes(3, 1, 48000, 32, &body)).unwrap();
        assert!((i.channels[0].samples.len() as i64 - 800).abs() <= 2);
        assert!(i.notes.iter().any(|n| n.contains("resampled")));
        // Unsupported codec.
        let e = from_bytes("x.wav", "wav", &wav_bytes(0x11, 1, 8000, 4, &[0; 4])).unwrap_err();
        assert!(e.to_string().contains("format 0x0011"), "{e}");
    }

    #[test]
    fn truncated_and_garbage() {
        let body: Vec<u8> = (0..100i16).flat_map(|s| s.to_le_bytes()).collect();
        let full = wav_bytes(1, 1, 8000, 16, &body);
        for cut in 0..full.len() {
            match from_bytes("x.wav", "wav", &full[..cut]) {
                Ok(i) => assert!(i.channels[0].samples.len() <= 100),
                Err(e) => assert!(e.to_string().starts_with("x.wav: not a WAV file"), "{e}"),
            }
        }
        let e = from_bytes("x.bin", "bin", b"hello").unwrap_err();
        assert!(matches!(e, InputError::Unknown { .. }), "{e}");
        let e = from_bytes("x.pcap", "pcap", b"hello").unwrap_err();
        assert!(e.to_string().contains("not a pcap"), "{e}");
        let i = from_bytes("x.raw", "raw", &[1, 0, 2]).unwrap();
        assert_eq!(i.channels[0].samples, vec![1]);
        assert_eq!(stream_tag(0), "A");
        assert_eq!(stream_tag(27), "AB");
    }
}
