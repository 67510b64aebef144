//! `stdio:` (docs/contracts/lines.md): softfax as the *child* of another program's `exec:`
//! line, speaking the lock-step protocol on its own standard input and output — s16le 8 kHz
//! mono blocks of 160 samples. Each exchange writes one block (silence when softfax has
//! nothing to send), flushes, then reads one, as the parent does (the pipes hold a block each
//! way, so neither side waits for the other). End of standard input is the far end hanging up.

use std::io::{Read, Write};

use crate::{BLOCK, Line, LineError};

/// The line on standard input and output.
#[derive(Debug)]
pub struct StdioLine<R, W> {
    input: R,
    output: Option<W>,
    buf: Vec<u8>,
    up: bool,
}

impl StdioLine<std::io::Stdin, std::io::Stdout> {
    /// The process's own standard input and output.
    pub fn open() -> Self {
        Self::new(std::io::stdin(), std::io::stdout())
    }
}

impl<R: Read, W: Write> StdioLine<R, W> {
    /// A line reading the far end from `input` and writing to it on `output`.
    pub fn new(input: R, output: W) -> Self {
        StdioLine {
            input,
            output: Some(output),
            buf: vec![0; 2 * BLOCK],
            up: true,
        }
    }
}

impl<R: Read, W: Write> Line for StdioLine<R, W> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        rx.fill(0);
        if !self.up {
            return Ok(false);
        }
        for (i, s) in tx.iter().enumerate() {
            self.buf[2 * i..2 * i + 2].copy_from_slice(&s.to_le_bytes());
        }
        // A parent that stopped reading has hung up; what it still sent is read below.
        if let Some(out) = self.output.as_mut()
            && out.write_all(&self.buf).and_then(|_| out.flush()).is_err()
        {
            self.output = None;
        }
        match self.input.read_exact(&mut self.buf) {
            Ok(()) => {
                for (i, s) in rx.iter_mut().enumerate() {
                    *s = i16::from_le_bytes([self.buf[2 * i], self.buf[2 * i + 1]]);
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                tracing::info!("far end hung up (standard input ended)");
                self.up = false;
                Ok(false)
            }
            Err(source) => Err(LineError::Io {
                what: "reading standard input".into(),
                source,
            }),
        }
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        self.up = false;
        if let Some(mut out) = self.output.take() {
            let _ = out.flush();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_then_reads_one_block_and_ends_with_its_input() {
        let far: Vec<u8> = (0..2 * BLOCK as i16)
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut line = StdioLine::new(&far[..], Vec::new());
        let mut rx = [0; BLOCK];
        let tx: [i16; BLOCK] = std::array::from_fn(|i| -(i as i16));
        assert!(line.exchange(&tx, &mut rx).unwrap());
        assert_eq!(rx[1], 1);
        assert!(line.exchange(&[0; BLOCK], &mut rx).unwrap());
        assert_eq!(rx[0], BLOCK as i16);
        assert!(!line.exchange(&tx, &mut rx).unwrap());
        assert_eq!(rx, [0; BLOCK]);
        let written = line.output.as_ref().unwrap();
        assert_eq!(written.len(), 3 * 2 * BLOCK);
        assert_eq!(&written[2..4], &(-1i16).to_le_bytes());
        line.hangup().unwrap();
        assert!(!line.exchange(&tx, &mut rx).unwrap());
    }
}
