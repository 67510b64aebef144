//! `exec:COMMAND` (docs/contracts/lines.md, the `exec:` protocol): the far end is a child
//! process (`sh -c COMMAND`). Its stdin receives what softfax transmits, its stdout is what
//! softfax receives, both signed 16-bit little-endian mono at 8000 Hz, in lock-step blocks of
//! 160 samples: softfax writes one block, flushes, then reads exactly one block, and repeats.
//! The child closing its stdout (or exiting) is the far end hanging up; softfax hanging up
//! closes the child's stdin and waits for it. The child's stderr passes through.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::{BLOCK, Line, LineError};

/// A line to a child process.
#[derive(Debug)]
pub struct ExecLine {
    command: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    buf: Vec<u8>,
}

impl ExecLine {
    /// Start `sh -c command`; the call is connected when it starts.
    pub fn spawn(command: &str) -> Result<ExecLine, LineError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| LineError::Io {
                what: format!("cannot start '{command}'"),
                source,
            })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        tracing::info!(command, pid = child.id(), "exec line connected");
        Ok(ExecLine {
            command: command.into(),
            child,
            stdin,
            stdout,
            buf: vec![0; 2 * BLOCK],
        })
    }
}

impl Line for ExecLine {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        rx.fill(0);
        let Some(stdout) = self.stdout.as_mut() else {
            return Ok(false);
        };
        for (i, s) in tx.iter().enumerate() {
            self.buf[2 * i..2 * i + 2].copy_from_slice(&s.to_le_bytes());
        }
        // A child that stopped reading has hung up: a broken pipe is not an error.
        // A child that stopped reading (or exited) may still have output for us: a failed
        // write closes our side of its stdin, and the call ends when its stdout does.
        if let Some(stdin) = self.stdin.as_mut()
            && stdin
                .write_all(&self.buf)
                .and_then(|_| stdin.flush())
                .is_err()
        {
            self.stdin = None;
        }
        match stdout.read_exact(&mut self.buf) {
            Ok(()) => {
                for (i, s) in rx.iter_mut().enumerate() {
                    *s = i16::from_le_bytes([self.buf[2 * i], self.buf[2 * i + 1]]);
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                tracing::info!(command = %self.command, "far end hung up (stdout closed)");
                self.stdout = None;
                Ok(false)
            }
            Err(source) => Err(LineError::Io {
                what: format!("reading from '{}'", self.command),
                source,
            }),
        }
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        self.stdin = None; // closes the child's stdin
        if self.stdout.take().is_some() || self.child.try_wait().ok().flatten().is_none() {
            let status = self.child.wait().map_err(|source| LineError::Io {
                what: format!("waiting for '{}'", self.command),
                source,
            })?;
            tracing::info!(command = %self.command, %status, "exec line released");
        }
        Ok(())
    }
}

impl Drop for ExecLine {
    fn drop(&mut self) {
        let _ = self.hangup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_child_returns_every_block() {
        let mut line = ExecLine::spawn("cat").unwrap();
        let mut rx = [0i16; BLOCK];
        for k in 0..50i16 {
            let tx: [i16; BLOCK] = std::array::from_fn(|i| (i as i16 - 80) * k);
            assert!(line.exchange(&tx, &mut rx).unwrap());
            assert_eq!(rx, tx);
        }
        line.hangup().unwrap();
        line.hangup().unwrap();
    }

    #[test]
    fn child_exit_is_the_far_end_hanging_up() {
        // Answers two blocks of silence, then exits.
        let mut line = ExecLine::spawn("head -c 640 /dev/zero; exit 0").unwrap();
        let tx = [7i16; BLOCK];
        let mut rx = [1i16; BLOCK];
        assert!(line.exchange(&tx, &mut rx).unwrap());
        assert!(line.exchange(&tx, &mut rx).unwrap());
        assert!(!line.exchange(&tx, &mut rx).unwrap());
        assert_eq!(rx, [0; BLOCK]);
        assert!(!line.exchange(&tx, &mut rx).unwrap());
        line.hangup().unwrap();
    }

    #[test]
    fn a_command_that_cannot_run_is_an_error_or_a_hangup() {
        let mut line = ExecLine::spawn("exec /nonexistent/program").unwrap();
        let mut rx = [0i16; BLOCK];
        assert!(!line.exchange(&[0; BLOCK], &mut rx).unwrap());
    }
}
