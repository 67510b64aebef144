//! libpri (Debian libpri-dev) as the network side of a PRI D-channel, for the drivers'
//! tests and the root crate's: the C peers `libpri_net.c` (one scripted call) and
//! `libpri_span.c` (a whole span scripted on stdin), built with `-lpri`; the socketpair
//! that carries the D-channel's frames (one frame per datagram, two FCS placeholder bytes
//! after it, as libpri frames a D-channel); and [`SpanPeer`], libpri_span running with its
//! event lines gathered.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{CPeer, unavailable};

/// Build the libpri peer `name` (`libpri_net` or `libpri_span`) into `out_dir` (the test's
/// `CARGO_TARGET_TMPDIR`); `None` when cc or libpri is missing, reported by
/// [`unavailable`] (a failure under CI).
pub fn build(name: &str, out_dir: &Path) -> Option<PathBuf> {
    let peer = CPeer {
        name,
        libs: vec!["-lpri".into()],
        package: "libpri-dev",
        missing_if: &["libpri.h", "-lpri"],
    };
    match peer.build(out_dir) {
        Ok(bin) => Some(bin),
        Err(why) => {
            unavailable("libpri", why);
            None
        }
    }
}

/// A socketpair for a D-channel: (ours, theirs), theirs without `FD_CLOEXEC` so that the
/// peer started next inherits it (pass its number on the command line, then drop it).
pub fn socketpair() -> (UnixDatagram, UnixDatagram) {
    let (ours, theirs) = UnixDatagram::pair().expect("socketpair");
    nix::fcntl::fcntl(
        &theirs,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .expect("clear FD_CLOEXEC");
    (ours, theirs)
}

/// libpri_span: libpri as the network side of a whole span, scripted on its stdin
/// (`call CH NUMBER [CALLING]`, `glare`, `hangup`, `restart`, `quit`); its event lines
/// gathered as they come. Killed on drop if still running.
pub struct SpanPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
}

impl SpanPeer {
    /// Start `bin` (from [`build`]`("libpri_span", …)`) on a new socketpair; our end is
    /// returned.
    pub fn start(bin: &Path) -> (SpanPeer, UnixDatagram) {
        let (ours, theirs) = socketpair();
        let mut child = Command::new(bin)
            .arg(theirs.as_raw_fd().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        drop(theirs);
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped stdout");
        let out = Arc::new(Mutex::new(String::new()));
        let o = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                o.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        (SpanPeer { child, stdin, out }, ours)
    }

    /// Send one command line.
    pub fn cmd(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("libpri_span's stdin");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Wait (up to 10 s) until it has printed `n` lines containing `what`.
    pub fn wait_for(&self, what: &str, n: usize) {
        for _ in 0..1000 {
            if self.output().matches(what).count() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("libpri never printed {n} x {what:?}:\n{}", self.output());
    }

    /// `quit`: it must exit 0; its whole output.
    pub fn quit(mut self) -> String {
        self.cmd("quit");
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let out = self.output();
        assert!(status.success(), "libpri_span ended with {status}:\n{out}");
        out
    }
}

impl Drop for SpanPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
