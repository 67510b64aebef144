//! Checks G.711 against Python's `audioop` (Sun's reference coder): every one of the 65536
//! linear inputs compressed to µ-law and A-law, every one of the 256 codes of each law
//! expanded, and every code transcoded µ→A and A→µ through linear.
//!
//! Needs `python3` with the `audioop` module: standard up to Python 3.12; from 3.13 (Debian
//! 13) the same C code as the `audioop-lts` package (`pip install audioop-lts`, which
//! `.ci/run` does), imported under the same name. When either is missing the test prints
//! `SKIP:` and passes, except under CI, where it fails (`softfax_peers::unavailable`).

use std::io::Write;
use std::process::{Command, Stdio};

use softfax_dsp::g711::{
    Law, alaw_to_linear, decode_alaw, decode_ulaw, encode_alaw, encode_ulaw, ulaw_to_linear,
};

/// Reads 65536 native-endian 16-bit samples on stdin; writes lin2ulaw, lin2alaw of them,
/// then ulaw2lin and alaw2lin of the 256 codes, then µ→A and A→µ of the 256 codes.
const SCRIPT: &str = r#"
import sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import audioop
data = sys.stdin.buffer.read()
codes = bytes(range(256))
out = sys.stdout.buffer
out.write(audioop.lin2ulaw(data, 2))
out.write(audioop.lin2alaw(data, 2))
out.write(audioop.ulaw2lin(codes, 2))
out.write(audioop.alaw2lin(codes, 2))
out.write(audioop.lin2alaw(audioop.ulaw2lin(codes, 2), 2))
out.write(audioop.lin2ulaw(audioop.alaw2lin(codes, 2), 2))
"#;

/// Why the peer cannot run: a skip, or a failure under CI.
fn skip(reason: &str) {
    softfax_peers::unavailable("python3 audioop", reason);
}

/// Runs the script; `None` (after saying why) when python3 or audioop is missing.
fn audioop(input: &[u8]) -> Option<Vec<u8>> {
    match Command::new("python3")
        .args([
            "-c",
            "import warnings; warnings.simplefilter('ignore'); import audioop",
        ])
        .output()
    {
        Err(e) => {
            skip(&format!("cannot run python3 ({e})"));
            return None;
        }
        Ok(o) if !o.status.success() => {
            skip(&format!(
                "no audioop module (removed in Python 3.13: pip install audioop-lts): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            return None;
        }
        Ok(_) => {}
    }
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 ran a moment ago");
    // Write from another thread so a full stdout pipe cannot deadlock us.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("python3 output");
    writer
        .join()
        .expect("writer thread")
        .expect("write to python3");
    assert!(
        out.status.success(),
        "the audioop script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_ne_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn g711_agrees_with_audioop() {
    let inputs: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let bytes: Vec<u8> = inputs.iter().flat_map(|s| s.to_ne_bytes()).collect();
    let Some(out) = audioop(&bytes) else {
        return;
    };
    assert_eq!(
        out.len(),
        2 * 65536 + 2 * 512 + 2 * 256,
        "audioop output length"
    );
    let (ulaw, rest) = out.split_at(65536);
    let (alaw, rest) = rest.split_at(65536);
    let (ulaw_lin, rest) = rest.split_at(512);
    let (alaw_lin, rest) = rest.split_at(512);
    let (u_to_a, a_to_u) = rest.split_at(256);

    let mut ours = Vec::new();
    encode_ulaw(&inputs, &mut ours);
    for (i, (&o, &p)) in ours.iter().zip(ulaw).enumerate() {
        assert_eq!(
            o, p,
            "µ-law of {}: ours {o:#04x}, audioop {p:#04x}",
            inputs[i]
        );
    }
    let mut ours = Vec::new();
    encode_alaw(&inputs, &mut ours);
    for (i, (&o, &p)) in ours.iter().zip(alaw).enumerate() {
        assert_eq!(
            o, p,
            "A-law of {}: ours {o:#04x}, audioop {p:#04x}",
            inputs[i]
        );
    }

    let codes: Vec<u8> = (0..=255).collect();
    let mut ours = Vec::new();
    decode_ulaw(&codes, &mut ours);
    assert_eq!(ours, samples(ulaw_lin), "µ-law expansion");
    let mut ours = Vec::new();
    decode_alaw(&codes, &mut ours);
    assert_eq!(ours, samples(alaw_lin), "A-law expansion");
    for c in 0..=255u8 {
        assert_eq!(ulaw_to_linear(c), samples(ulaw_lin)[c as usize]);
        assert_eq!(alaw_to_linear(c), samples(alaw_lin)[c as usize]);
    }

    let mut ours = Vec::new();
    Law::Ulaw.transcode(Law::Alaw, &codes, &mut ours);
    assert_eq!(ours, u_to_a, "µ-law → A-law");
    let mut ours = Vec::new();
    Law::Alaw.transcode(Law::Ulaw, &codes, &mut ours);
    assert_eq!(ours, a_to_u, "A-law → µ-law");
}
