//! One open DAHDI channel (docs/reference/dahdi.md, channel I/O and the event model): open and bind, parameters,
//! per-call set-up (block size, law, echo canceller, gains, buffer events), block reads and
//! writes that honour the errno-500 (`ELAST`) event model, hook control and span status.
//!
//! Everything goes through the real system calls (`open`, `ioctl`, `read`, `write`,
//! `poll`) on a file descriptor; the tests point the device root at a FUSE fake.

use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;

use super::sys;
use super::{DahdiError, Event, SpanHealth};

/// Which channel to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSpec {
    /// A global channel number: `ROOT/channel` + DAHDI_SPECIFY.
    Number(u32),
    /// A device node opened directly (`/dev/dahdi/chan/001/001`, legacy `/dev/dahdi/N`).
    Path(PathBuf),
}

/// What a read brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes of audio.
    Data(usize),
    /// Nothing yet (non-blocking fd).
    WouldBlock,
}

/// What `poll` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready {
    pub readable: bool,
    pub writable: bool,
    pub event: bool,
}

/// errno 500 is not a Linux errno, so nix reports it as `UnknownErrno`: look at the raw
/// value of the failed call.
fn is_elast(e: Errno) -> bool {
    e as i32 == sys::ELAST || (e == Errno::UnknownErrno && Errno::last_raw() == sys::ELAST)
}

/// An open, bound DAHDI channel.
pub struct Channel {
    fd: OwnedFd,
    what: String,
    params: sys::DahdiParams,
    events: VecDeque<Event>,
    blocksize: usize,
    /// Where [`Channel::read_block`] reads to (kept: no allocation per block).
    scratch: Vec<u8>,
}

fn io<'a>(what: &'a str, op: &'static str) -> impl FnOnce(Errno) -> DahdiError + 'a {
    move |e| DahdiError::Sys {
        what: what.to_string(),
        op,
        errno: e,
    }
}

impl Channel {
    /// Open and bind a channel (docs/reference/dahdi.md, opening a channel): `open(O_RDWR | O_NONBLOCK)`,
    /// DAHDI_SPECIFY first when going through the generic node, then DAHDI_GET_PARAMS.
    pub fn open(root: &Path, spec: &ChannelSpec) -> Result<Channel, DahdiError> {
        let (path, specify) = match spec {
            ChannelSpec::Number(n) => (root.join("channel"), Some(*n)),
            ChannelSpec::Path(p) => (p.clone(), None),
        };
        let what = match spec {
            ChannelSpec::Number(n) => format!("DAHDI channel {n} ({})", path.display()),
            ChannelSpec::Path(p) => format!("DAHDI channel {}", p.display()),
        };
        let fd = open(
            &path,
            OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io(&what, "open"))?;
        if let Some(n) = specify {
            let chan = n as c_int;
            // SAFETY: a valid fd and a pointer to a live c_int.
            unsafe { sys::specify(fd.as_raw_fd(), &chan) }.map_err(|e| match e {
                Errno::EINVAL => DahdiError::NoSuchChannel(n),
                Errno::ENXIO => DahdiError::Unconfigured(n),
                Errno::EBUSY => DahdiError::Busy(n),
                e => DahdiError::Sys {
                    what: what.clone(),
                    op: "DAHDI_SPECIFY",
                    errno: e,
                },
            })?;
        }
        // SAFETY: DahdiParams is plain old data; all-zero is a valid value.
        let mut params: sys::DahdiParams = unsafe { std::mem::zeroed() };
        // SAFETY: a valid fd and a pointer to a live DahdiParams of the declared size.
        unsafe { sys::get_params(fd.as_raw_fd(), &mut params) }
            .map_err(io(&what, "DAHDI_GET_PARAMS"))?;
        tracing::debug!(
            channo = params.channo,
            spanno = params.spanno,
            chanpos = params.chanpos,
            sigtype = format_args!("{:#x}", params.sigtype),
            "{what} opened"
        );
        Ok(Channel {
            fd,
            what,
            params,
            events: VecDeque::new(),
            blocksize: 1024,
            scratch: Vec::new(),
        })
    }

    /// The parameters read at open.
    pub fn params(&self) -> &sys::DahdiParams {
        &self.params
    }

    /// Read the parameters again (hook state, alarms).
    pub fn refresh_params(&mut self) -> Result<&sys::DahdiParams, DahdiError> {
        // SAFETY: valid fd, pointer to a live DahdiParams.
        unsafe { sys::get_params(self.fd.as_raw_fd(), &mut self.params) }
            .map_err(io(&self.what, "DAHDI_GET_PARAMS"))?;
        Ok(&self.params)
    }

    /// A description for errors and logs.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The block size in bytes set by [`Channel::set_blocksize`].
    pub fn blocksize(&self) -> usize {
        self.blocksize
    }

    fn int_ioctl(
        &self,
        op: &'static str,
        f: unsafe fn(c_int, *const c_int) -> nix::Result<c_int>,
        v: c_int,
    ) -> Result<(), DahdiError> {
        // SAFETY: valid fd, pointer to a live c_int, as each DAHDI int ioctl expects.
        unsafe { f(self.fd.as_raw_fd(), &v) }.map_err(io(&self.what, op))?;
        Ok(())
    }

    /// DAHDI_SET_BLOCKSIZE (16 ≤ n ≤ 8192).
    pub fn set_blocksize(&mut self, n: usize) -> Result<(), DahdiError> {
        self.int_ioctl("DAHDI_SET_BLOCKSIZE", sys::set_blocksize, n as c_int)?;
        self.blocksize = n;
        Ok(())
    }

    /// DAHDI_SET_BUFINFO (also sets the block size to `bufsize`).
    pub fn set_bufinfo(&mut self, info: sys::DahdiBufferInfo) -> Result<(), DahdiError> {
        // SAFETY: valid fd, pointer to a live DahdiBufferInfo.
        unsafe { sys::set_bufinfo(self.fd.as_raw_fd(), &info) }
            .map_err(io(&self.what, "DAHDI_SET_BUFINFO"))?;
        self.blocksize = info.bufsize as usize;
        Ok(())
    }

    /// DAHDI_SETLAW (0 span default, 1 µ-law, 2 A-law).
    pub fn set_law(&self, law: c_int) -> Result<(), DahdiError> {
        self.int_ioctl("DAHDI_SETLAW", sys::setlaw, law)
    }

    /// DAHDI_SETLINEAR.
    pub fn set_linear(&self, on: bool) -> Result<(), DahdiError> {
        self.int_ioctl("DAHDI_SETLINEAR", sys::setlinear, on as c_int)
    }

    /// DAHDI_AUDIOMODE (PRI B-channels: 1 after every open).
    pub fn set_audio_mode(&self, on: bool) -> Result<(), DahdiError> {
        self.int_ioctl("DAHDI_AUDIOMODE", sys::audiomode, on as c_int)
    }

    /// The echo canceller off: DAHDI_ECHOCANCEL_PARAMS with `tap_length = 0`
    /// (docs/reference/dahdi.md).
    pub fn echo_canceller_off(&self) -> Result<(), DahdiError> {
        let p = sys::DahdiEchoCanParams::default();
        // SAFETY: valid fd, pointer to a live header; param_count 0, so nothing follows.
        unsafe { sys::echocancel_params(self.fd.as_raw_fd(), &p) }
            .map_err(io(&self.what, "DAHDI_ECHOCANCEL_PARAMS"))?;
        Ok(())
    }

    /// DAHDI_SETGAINS with unity maps both ways.
    pub fn unity_gains(&self) -> Result<(), DahdiError> {
        let g = sys::DahdiGains::unity();
        // SAFETY: valid fd, pointer to a live DahdiGains.
        unsafe { sys::setgains(self.fd.as_raw_fd(), &g) }
            .map_err(io(&self.what, "DAHDI_SETGAINS"))?;
        Ok(())
    }

    /// DAHDI_BUFFER_EVENTS: queue READ_OVERRUN / WRITE_UNDERRUN events.
    pub fn buffer_events(&self, on: bool) -> Result<(), DahdiError> {
        self.int_ioctl("DAHDI_BUFFER_EVENTS", sys::buffer_events, on as c_int)
    }

    /// DAHDI_FLUSH with the given bits (7 = read, write and events).
    pub fn flush(&mut self, bits: c_int) -> Result<(), DahdiError> {
        self.int_ioctl("DAHDI_FLUSH", sys::flush, bits)?;
        if bits & sys::DAHDI_FLUSH_EVENT != 0 {
            self.events.clear();
        }
        Ok(())
    }

    /// DAHDI_HOOK.
    pub fn hook(&self, state: c_int) -> Result<(), DahdiError> {
        match self.int_ioctl("DAHDI_HOOK", sys::hook, state) {
            // START on a non-blocking fd: completes later with HOOKCOMPLETE.
            Err(DahdiError::Sys {
                errno: Errno::EINPROGRESS,
                ..
            }) => Ok(()),
            r => r,
        }
    }

    /// DAHDI_SPANSTAT for this channel's span (`spanno = 0`).
    pub fn span_health(&self) -> Result<SpanHealth, DahdiError> {
        // SAFETY: plain old data; all-zero is valid (spanno 0 = span of this fd).
        let mut s: sys::DahdiSpanInfo = unsafe { std::mem::zeroed() };
        // SAFETY: valid fd, pointer to a live 314-byte DahdiSpanInfo.
        unsafe { sys::spanstat(self.fd.as_raw_fd(), &mut s) }
            .map_err(io(&self.what, "DAHDI_SPANSTAT"))?;
        Ok(SpanHealth::from_spaninfo(&s))
    }

    /// Pop one event with DAHDI_GETEVENT (`None` when the queue is empty).
    pub fn get_event(&self) -> Result<Option<Event>, DahdiError> {
        let mut code: c_int = 0;
        // SAFETY: valid fd, pointer to a live c_int.
        unsafe { sys::getevent(self.fd.as_raw_fd(), &mut code) }
            .map_err(io(&self.what, "DAHDI_GETEVENT"))?;
        Ok((code != 0).then(|| Event::from_code(code)))
    }

    /// Drain the kernel's event queue into ours.
    pub fn drain_events(&mut self) -> Result<usize, DahdiError> {
        let mut n = 0;
        // The kernel queue holds at most 64 events; a few more for ones arriving meanwhile.
        for _ in 0..256 {
            match self.get_event()? {
                Some(e) => {
                    tracing::debug!("{}: event {e:?}", self.what);
                    self.events.push_back(e);
                    n += 1;
                }
                None => return Ok(n),
            }
        }
        Err(DahdiError::EventStorm(self.what.clone()))
    }

    /// Events drained so far, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// Wait until the channel is readable, writable or has an event, up to `timeout`.
    pub fn poll(&self, want_write: bool, timeout: Duration) -> Result<Ready, DahdiError> {
        let mut flags = PollFlags::POLLIN | PollFlags::POLLPRI;
        if want_write {
            flags |= PollFlags::POLLOUT;
        }
        let mut fds = [PollFd::new(self.fd.as_fd(), flags)];
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let n = loop {
            match poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            ) {
                Err(Errno::EINTR) => continue,
                r => break r.map_err(io(&self.what, "poll"))?,
            }
        };
        if n == 0 {
            return Ok(Ready::default());
        }
        let r = fds[0].revents().unwrap_or(PollFlags::empty());
        if r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL) {
            return Err(DahdiError::Sys {
                what: self.what.clone(),
                op: "poll",
                errno: Errno::EIO,
            });
        }
        Ok(Ready {
            readable: r.contains(PollFlags::POLLIN),
            writable: r.contains(PollFlags::POLLOUT),
            event: r.contains(PollFlags::POLLPRI),
        })
    }

    /// One read of at most one block. On errno 500 the events are drained and the read
    /// retried; `buf` must hold a whole block (a shorter one loses the rest of it).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, DahdiError> {
        loop {
            match nix::unistd::read(self.fd.as_fd(), buf) {
                Ok(n) => return Ok(ReadOutcome::Data(n)),
                Err(Errno::EAGAIN) => return Ok(ReadOutcome::WouldBlock),
                Err(Errno::EINTR) => continue,
                Err(e) if is_elast(e) => {
                    self.drain_events()?;
                }
                Err(Errno::ENODEV) => return Err(DahdiError::Removed(self.what.clone())),
                Err(e) => return Err(io(&self.what, "read")(e)),
            }
        }
    }

    /// One write; returns the bytes taken (`0` when the buffers are full). Drains events on
    /// errno 500 and retries.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, DahdiError> {
        loop {
            match nix::unistd::write(&self.fd, data) {
                Ok(n) => return Ok(n),
                Err(Errno::EAGAIN) => return Ok(0),
                Err(Errno::EINTR) => continue,
                Err(e) if is_elast(e) => {
                    self.drain_events()?;
                }
                Err(Errno::ENODEV) => return Err(DahdiError::Removed(self.what.clone())),
                Err(e) => return Err(io(&self.what, "write")(e)),
            }
        }
    }

    /// Write all of `data` (looping over short writes), waiting for buffer space up to
    /// `timeout` in all.
    pub fn write_all(&mut self, mut data: &[u8], timeout: Duration) -> Result<(), DahdiError> {
        let deadline = std::time::Instant::now() + timeout;
        while !data.is_empty() {
            let n = self.write(data)?;
            data = &data[n..];
            if n == 0 {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(DahdiError::Stalled(self.what.clone(), "write"));
                }
                self.poll(true, left)?;
            }
        }
        Ok(())
    }

    /// Read one whole block into `buf` (exactly `buf.len()` bytes, gathered over several
    /// reads if need be), waiting up to `timeout` in all. Events seen on the way are queued
    /// ([`Channel::take_events`]); `Ok(false)` when an event interrupted the block and
    /// `stop_on_event` is set.
    pub fn read_block(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
        stop_on_event: bool,
    ) -> Result<bool, DahdiError> {
        let deadline = std::time::Instant::now() + timeout;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(self.blocksize.max(buf.len()), 0);
        let done = self.read_block_into(buf, &mut scratch, deadline, stop_on_event);
        self.scratch = scratch;
        done
    }

    fn read_block_into(
        &mut self,
        buf: &mut [u8],
        scratch: &mut [u8],
        deadline: std::time::Instant,
        stop_on_event: bool,
    ) -> Result<bool, DahdiError> {
        let mut got = 0;
        while got < buf.len() {
            let before = self.events.len();
            match self.read(scratch)? {
                ReadOutcome::Data(0) => return Err(DahdiError::Removed(self.what.clone())),
                ReadOutcome::Data(n) => {
                    let take = n.min(buf.len() - got);
                    buf[got..got + take].copy_from_slice(&scratch[..take]);
                    got += take;
                }
                ReadOutcome::WouldBlock => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err(DahdiError::Stalled(self.what.clone(), "read"));
                    }
                    let r = self.poll(false, left)?;
                    if r.event {
                        self.drain_events()?;
                    }
                }
            }
            if stop_on_event && self.events.len() > before {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
