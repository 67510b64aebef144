//! `exec:COMMAND` (docs/contracts/lines.md, the `exec:` protocol): the far end is a child
//! process (`sh -c COMMAND`). Its stdin receives what softfax transmits, its stdout is what
//! softfax receives, both signed 16-bit little-endian mono at 8000 Hz, in lock-step blocks of
//! 160 samples: softfax writes one block, flushes, then reads exactly one block, and repeats.
//! The child closing its stdout (or exiting) is the far end hanging up; softfax hanging up
//! closes the child's stdin, reads (and discards) what the child still writes until it
//! closes its stdout, and waits for it to exit (killing it after 10 s). The child's stderr
//! passes through.
//!
//! **Answering** ([`Line::answer`]): the child is the calling fax. Answering waits for the
//! child's first block (its call arriving: softfax's first block of silence is sent, and the
//! child answers it whenever it has a call to make); a child that exits or closes its stdout
//! first made no call ([`LineError::CallFailed`], cause 0). That first block is the first
//! block [`Line::exchange`] returns.

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
    /// The child's first block, read while answering.
    pending: Option<[i16; BLOCK]>,
    /// The child has been waited for.
    released: bool,
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
            pending: None,
            released: false,
        })
    }
}

impl Line for ExecLine {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        rx.fill(0);
        if let Some(first) = self.pending.take() {
            // One block behind from here on: what we send now is read by the child after
            // it answered our first block (the pipes hold a block each way).
            self.write_block(tx);
            *rx = first;
            return Ok(true);
        }
        if self.stdout.is_none() {
            return Ok(false);
        }
        self.write_block(tx);
        let Some(stdout) = self.stdout.as_mut() else {
            return Ok(false);
        };
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

    fn answer(&mut self) -> Result<(), LineError> {
        let mut first = [0i16; BLOCK];
        if self.pending.is_some() || !self.exchange(&[0; BLOCK], &mut first)? {
            if self.pending.is_none() {
                return Err(LineError::CallFailed {
                    cause: 0,
                    reason: format!("'{}' ended without a call", self.command),
                });
            }
            return Ok(());
        }
        self.pending = Some(first);
        Ok(())
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        self.pending = None;
        self.stdin = None; // closes the child's stdin
        // The child may still be writing (an answering line runs a block ahead of it): keep
        // reading its output until it closes it, so that it never dies of SIGPIPE before
        // it has finished (and, say, written its report). A thread reads, so a child that
        // neither writes nor exits cannot hold us: it gets HANGUP_GRACE to exit, then is
        // killed.
        if let Some(mut stdout) = self.stdout.take() {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut stdout, &mut std::io::sink());
            });
        }
        let deadline = std::time::Instant::now() + HANGUP_GRACE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                Ok(None) => {
                    tracing::warn!(command = %self.command, "far end did not exit after the hang-up: killed");
                    let _ = self.child.kill();
                    break self.child.wait().map_err(|source| LineError::Io {
                        what: format!("waiting for '{}'", self.command),
                        source,
                    })?;
                }
                Err(source) => {
                    return Err(LineError::Io {
                        what: format!("waiting for '{}'", self.command),
                        source,
                    });
                }
            }
        };
        if !self.released {
            self.released = true;
            tracing::info!(command = %self.command, %status, "exec line released");
        }
        Ok(())
    }
}

/// How long a child has to exit after its stdin is closed.
const HANGUP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

impl ExecLine {
    /// Write one block to the child. A child that stopped reading (or exited) may still
    /// have output for us: a failed write (a broken pipe is not an error) closes our side
    /// of its stdin, and the call ends when its stdout does.
    fn write_block(&mut self, tx: &[i16; BLOCK]) {
        for (i, s) in tx.iter().enumerate() {
            self.buf[2 * i..2 * i + 2].copy_from_slice(&s.to_le_bytes());
        }
        if let Some(stdin) = self.stdin.as_mut()
            && stdin
                .write_all(&self.buf)
                .and_then(|_| stdin.flush())
                .is_err()
        {
            self.stdin = None;
        }
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
    fn answering_waits_for_the_first_block_and_returns_it_first() {
        // The caller: one block of 5s, then it echoes what it hears (our first block of
        // silence, then the rest, a block behind).
        let mut line = ExecLine::spawn("head -c 320 /dev/zero | tr '\\0' '\\5'; cat").unwrap();
        line.answer().unwrap();
        let mut rx = [1i16; BLOCK];
        assert!(line.exchange(&[9; BLOCK], &mut rx).unwrap());
        assert_eq!(rx, [0x0505; BLOCK]);
        assert!(line.exchange(&[3; BLOCK], &mut rx).unwrap());
        assert_eq!(rx, [0; BLOCK]);
        assert!(line.exchange(&[4; BLOCK], &mut rx).unwrap());
        assert_eq!(rx, [9; BLOCK]);
        line.hangup().unwrap();
        let mut none = ExecLine::spawn("exit 0").unwrap();
        match none.answer() {
            Err(LineError::CallFailed { cause: 0, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hanging_up_lets_the_child_finish_writing() {
        // After its stdin closes the child writes 320 kB (five pipe buffers) more, then
        // leaves a mark: with its stdout closed under it, it would die of SIGPIPE first.
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("finished");
        let mut line = ExecLine::spawn(&format!(
            "cat >/dev/null; head -c 320000 /dev/zero && echo ok > '{}'",
            mark.display()
        ))
        .unwrap();
        line.hangup().unwrap();
        assert_eq!(std::fs::read_to_string(&mark).unwrap(), "ok\n");
    }

    #[test]
    fn a_command_that_cannot_run_is_an_error_or_a_hangup() {
        let mut line = ExecLine::spawn("exec /nonexistent/program").unwrap();
        let mut rx = [0i16; BLOCK];
        assert!(!line.exchange(&[0; BLOCK], &mut rx).unwrap());
    }
}
