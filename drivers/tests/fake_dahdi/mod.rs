//! A fake `/dev/dahdi` for tests (docs/reference/dahdi.md): a FUSE file system with one
//! regular file, `channel`, opened `direct_io` + `nonseekable`, that answers the DAHDI
//! ioctls, `poll`, 160-byte reads and writes and errno 500 the way the kernel does, so the
//! real `dahdi:` code runs its real system calls against it.
//!
//! The ioctl numbers and struct offsets here are the literal values of the golden table
//! (docs/reference/dahdi.md), written independently of `softfax_drivers::dahdi::sys`.
//!
//! Audio runs on virtual time: each read produces one block by running the channel's far
//! end ([`FarEnd`]) over what we wrote, so a 60-second call takes only CPU time.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, INodeNo, IoctlFlags, LockOwner,
    OpenFlags, PollEvents, PollFlags, PollNotifier, ReplyAttr, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyIoctl, ReplyOpen, ReplyPoll, ReplyWrite, Request, WriteFlags,
};
use softfax_dsp::g711::Law;

pub mod far;

/// The uid and gid this process runs as (the owner of its /proc entry), for the fake's files.
fn owner() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| (m.uid(), m.gid()))
        .unwrap_or((0, 0))
}

/// DAHDI event codes (docs/reference/dahdi.md).
pub const EV_ONHOOK: i32 = 1;
pub const EV_RINGOFFHOOK: i32 = 2;
pub const EV_ALARM: i32 = 4;
pub const EV_POLARITY: i32 = 17;
pub const EV_RINGBEGIN: i32 = 18;

pub const SIG_FXSKS: i32 = 0x2004;
pub const SIG_CLEAR: i32 = 0x80;
pub const SIG_HDLCFCS: i32 = 0x380;
pub const SIG_FXOKS: i32 = 0x1020;
pub const ALARM_RED: i32 = 0x8;

/// The far end of a channel: the telephone network and whoever is at the other end.
pub trait FarEnd: Send {
    /// Our side went off hook (`true`) or on hook.
    fn hook(&mut self, offhook: bool);
    /// 160 samples from us in, 160 samples to us out; events to queue.
    fn process(&mut self, from_us: &[i16], to_us: &mut [i16], events: &mut Vec<i32>);
}

/// One configured channel.
pub struct FakeChannel {
    pub channo: i32,
    pub spanno: i32,
    pub chanpos: i32,
    pub sigtype: i32,
    pub law: Law,
    pub chan_alarms: u32,
    pub span_alarms: i32,
    /// Channels in the span (SPANSTAT totalchans): 31 for an E1.
    pub totalchans: i32,
    /// A D-channel: HDLC frames (+2 FCS bytes) to and from this socket, e.g. libpri.
    pub hdlc: Option<std::os::unix::net::UnixDatagram>,
    pub far: Box<dyn FarEnd>,
    // state
    open: bool,
    blocksize: usize,
    linear: bool,
    offhook: bool,
    events: VecDeque<i32>,
    from_us: VecDeque<i16>,
    to_us: VecDeque<u8>,
    /// Error counters that move during the call (CRC-4 errors, one per 1000 blocks).
    blocks: u64,
}

impl FakeChannel {
    pub fn new(channo: i32, sigtype: i32, law: Law, far: Box<dyn FarEnd>) -> FakeChannel {
        FakeChannel {
            channo,
            spanno: 1,
            chanpos: channo,
            sigtype,
            law,
            chan_alarms: 0,
            span_alarms: 0,
            totalchans: 1,
            hdlc: None,
            far,
            open: false,
            blocksize: 1024,
            linear: false,
            offhook: false,
            events: VecDeque::new(),
            from_us: VecDeque::new(),
            to_us: VecDeque::new(),
            blocks: 0,
        }
    }

    /// B-channel `channo` of an E1 span (31 timeslots): a clear channel, A-law.
    pub fn e1_b_channel(channo: i32, far: Box<dyn FarEnd>) -> FakeChannel {
        let mut b = FakeChannel::new(channo, SIG_CLEAR, Law::Alaw, far);
        b.totalchans = 31;
        b
    }

    /// The D-channel of an E1 span (timeslot 16): its HDLC frames go to and come from
    /// `sock` (made non-blocking), e.g. libpri's end of a socketpair.
    pub fn e1_d_channel(sock: std::os::unix::net::UnixDatagram) -> FakeChannel {
        let mut d = FakeChannel::new(
            16,
            SIG_HDLCFCS,
            Law::Alaw,
            Box::new(far::FaxPeer::answerer()),
        );
        d.totalchans = 31;
        sock.set_nonblocking(true).unwrap();
        d.hdlc = Some(sock);
        d
    }
}

/// What the fake saw: one line per ioctl and the final settings, for the tests to check.
#[derive(Default, Debug, Clone)]
pub struct Record {
    pub ioctls: Vec<String>,
    pub ec_tap_length: Option<u32>,
    pub unity_gains: Option<bool>,
    pub buffer_events: Option<i32>,
    pub blocksize: Option<usize>,
    pub hooks: Vec<i32>,
    pub reads: u64,
    pub writes: u64,
    pub elast_returned: u64,
    pub short_writes: u64,
}

struct State {
    chans: HashMap<i32, FakeChannel>,
    handles: HashMap<u64, Option<i32>>,
    next_fh: u64,
    rec: Record,
}

/// The file system.
#[derive(Clone)]
pub struct FakeDahdi {
    state: Arc<Mutex<State>>,
}

const TTL: Duration = Duration::from_secs(1);
const CHANNEL_INO: u64 = 2;

fn attr(ino: u64, kind: FileType) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size: 0,
        blocks: 0,
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind,
        perm: if kind == FileType::Directory {
            0o755
        } else {
            0o666
        },
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid: owner().0,
        gid: owner().1,
        rdev: 0,
        flags: 0,
        blksize: 512,
    }
}

fn put(out: &mut [u8], off: usize, v: i32) {
    out[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}

fn put_str(out: &mut [u8], off: usize, s: &str) {
    out[off..off + s.len()].copy_from_slice(s.as_bytes());
}

fn int(data: &[u8]) -> Option<i32> {
    Some(i32::from_ne_bytes(data.get(..4)?.try_into().ok()?))
}

impl FakeDahdi {
    pub fn new(chans: Vec<FakeChannel>) -> FakeDahdi {
        FakeDahdi {
            state: Arc::new(Mutex::new(State {
                chans: chans.into_iter().map(|c| (c.channo, c)).collect(),
                handles: HashMap::new(),
                next_fh: 1,
                rec: Record::default(),
            })),
        }
    }

    /// What has happened so far.
    pub fn record(&self) -> Record {
        self.state.lock().unwrap().rec.clone()
    }

    /// Run `f` on a channel (e.g. to look at its far end).
    pub fn with_channel<R>(&self, channo: i32, f: impl FnOnce(&mut FakeChannel) -> R) -> R {
        f(self.state.lock().unwrap().chans.get_mut(&channo).unwrap())
    }

    fn ioctl_on(
        st: &mut State,
        fh: u64,
        cmd: u32,
        input: &[u8],
        out_size: u32,
    ) -> Result<Vec<u8>, Errno> {
        let bound = st.handles.get(&fh).copied().flatten();
        let name = match cmd {
            0x4004DA26 => "SPECIFY",
            0xC088DA05 => "GET_PARAMS",
            0xC13ADA0A => "SPANSTAT",
            0x4004DA01 => "SET_BLOCKSIZE",
            0x4018DA1B => "SET_BUFINFO",
            0x4008DA21 => "ECHOCANCEL_PARAMS",
            0x4204DA10 => "SETGAINS",
            0x4004DA69 => "BUFFER_EVENTS",
            0x4004DA03 => "FLUSH",
            0x4004DA07 => "HOOK",
            0x8004DA08 => "GETEVENT",
            0x4004DA27 => "SETLAW",
            0x4004DA28 => "SETLINEAR",
            0x4004DA20 => "AUDIOMODE",
            _ => "?",
        };
        st.rec
            .ioctls
            .push(format!("{name} {cmd:#010X} in {}", input.len()));
        let chan = match (cmd, bound) {
            (0x4004DA26, _) => {
                let n = int(input).ok_or(Errno::EFAULT)?;
                let c = st.chans.get_mut(&n).ok_or(Errno::EINVAL)?;
                if c.sigtype == 0 {
                    return Err(Errno::ENXIO);
                }
                if c.open {
                    return Err(Errno::EBUSY);
                }
                c.open = true;
                c.blocksize = 1024;
                c.linear = false;
                c.events.clear();
                st.handles.insert(fh, Some(n));
                return Ok(vec![]);
            }
            // Before SPECIFY every other ioctl is ENOSYS (docs/reference/dahdi.md).
            (_, None) => return Err(Errno::ENOSYS),
            (_, Some(n)) => st.chans.get_mut(&n).unwrap(),
        };
        match cmd {
            0xC088DA05 => {
                if input.len() != 136 || out_size != 136 {
                    return Err(Errno::EFAULT);
                }
                let mut out = vec![0u8; 136];
                put(&mut out, 0, chan.channo);
                put(&mut out, 4, chan.spanno);
                put(&mut out, 8, chan.chanpos);
                put(&mut out, 12, chan.sigtype);
                put(&mut out, 20, chan.offhook as i32);
                put(&mut out, 40, if chan.law == Law::Alaw { 2 } else { 1 });
                put_str(&mut out, 48, &format!("FAKE/1/{}", chan.chanpos));
                put(&mut out, 132, chan.chan_alarms as i32);
                Ok(out)
            }
            0xC13ADA0A => {
                if input.len() != 314 || out_size != 314 {
                    return Err(Errno::EFAULT);
                }
                let mut out = vec![0u8; 314];
                put(&mut out, 0, chan.spanno);
                put_str(&mut out, 4, "FAKE/1");
                put_str(&mut out, 24, "softfax fake span");
                put(&mut out, 64, chan.span_alarms);
                put(&mut out, 80, (chan.blocks / 1000) as i32); // crc4count
                put(&mut out, 116, 1); // syncsrc
                put(&mut out, 120, 1);
                put(&mut out, 124, chan.totalchans);
                put_str(
                    &mut out,
                    308,
                    if chan.sigtype == SIG_CLEAR {
                        "E1"
                    } else {
                        "FXO"
                    },
                );
                Ok(out)
            }
            0x4004DA01 => {
                let n = int(input).ok_or(Errno::EFAULT)?;
                if !(16..=8192).contains(&n) {
                    return Err(Errno::EINVAL);
                }
                chan.blocksize = n as usize;
                st.rec.blocksize = Some(n as usize);
                Ok(vec![])
            }
            0x4018DA1B => {
                let bufsize = int(&input[12..]).ok_or(Errno::EFAULT)?;
                if !(16..=8192).contains(&bufsize) {
                    return Err(Errno::EINVAL);
                }
                chan.blocksize = bufsize as usize;
                st.rec.blocksize = Some(bufsize as usize);
                Ok(vec![])
            }
            0x4008DA21 => {
                let taps = int(input).ok_or(Errno::EFAULT)? as u32;
                let count = int(&input[4..]).ok_or(Errno::EFAULT)?;
                if count > 8 {
                    return Err(Errno::E2BIG);
                }
                if taps != 0 && ![32, 64, 128, 256, 512, 1024].contains(&taps) {
                    return Err(Errno::EINVAL);
                }
                st.rec.ec_tap_length = Some(taps);
                Ok(vec![])
            }
            0x4204DA10 => {
                if input.len() != 516 {
                    return Err(Errno::EFAULT);
                }
                let unity = (0..256).all(|i| input[4 + i] == i as u8 && input[260 + i] == i as u8);
                st.rec.unity_gains = Some(unity && int(input) == Some(0));
                Ok(vec![])
            }
            0x4004DA69 => {
                st.rec.buffer_events = int(input);
                Ok(vec![])
            }
            0x4004DA03 => {
                let bits = int(input).ok_or(Errno::EFAULT)?;
                if bits & 1 != 0 {
                    chan.to_us.clear();
                }
                if bits & 2 != 0 {
                    chan.from_us.clear();
                }
                if bits & 4 != 0 {
                    chan.events.clear();
                }
                Ok(vec![])
            }
            0x4004DA07 => {
                let h = int(input).ok_or(Errno::EFAULT)?;
                if chan.sigtype == SIG_CLEAR {
                    return Err(Errno::EINVAL);
                }
                st.rec.hooks.push(h);
                match h {
                    0 => {
                        chan.offhook = false;
                        chan.far.hook(false);
                    }
                    1 => {
                        chan.offhook = true;
                        chan.far.hook(true);
                    }
                    _ => return Err(Errno::EINVAL),
                }
                Ok(vec![])
            }
            0x8004DA08 => {
                if out_size != 4 {
                    return Err(Errno::EFAULT);
                }
                let e = chan.events.pop_front().unwrap_or(0);
                Ok(e.to_ne_bytes().to_vec())
            }
            0x4004DA27 => match int(input) {
                Some(1) => {
                    chan.law = Law::Ulaw;
                    Ok(vec![])
                }
                Some(2) => {
                    chan.law = Law::Alaw;
                    Ok(vec![])
                }
                Some(0) => Ok(vec![]),
                _ => Err(Errno::EINVAL),
            },
            0x4004DA28 => {
                chan.linear = int(input).ok_or(Errno::EFAULT)? != 0;
                Ok(vec![])
            }
            0x4004DA20 => {
                if chan.sigtype != SIG_CLEAR {
                    return Err(Errno::EINVAL);
                }
                Ok(vec![])
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}

impl FakeChannel {
    /// Produce audio for us until `bytes` are available.
    fn fill(&mut self, bytes: usize) {
        let mut from = [0i16; 160];
        let mut to = [0i16; 160];
        let mut ev = Vec::new();
        while self.to_us.len() < bytes {
            for s in from.iter_mut() {
                *s = self.from_us.pop_front().unwrap_or(0);
            }
            to.fill(0);
            self.far.process(&from, &mut to, &mut ev);
            self.blocks += 1;
            self.events.extend(ev.drain(..));
            if self.linear {
                for s in to {
                    self.to_us.extend(s.to_ne_bytes());
                }
            } else {
                self.to_us
                    .extend(to.iter().map(|&s| self.law.encode_sample(s)));
            }
        }
    }
}

impl Filesystem for FakeDahdi {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        if parent == INodeNo::ROOT && name == "channel" {
            reply.entry(
                &TTL,
                &attr(CHANNEL_INO, FileType::RegularFile),
                fuser::Generation(0),
            );
        } else {
            reply.error(Errno::ENOENT);
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match ino.0 {
            1 => reply.attr(&TTL, &attr(1, FileType::Directory)),
            CHANNEL_INO => reply.attr(&TTL, &attr(CHANNEL_INO, FileType::RegularFile)),
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        if ino != INodeNo::ROOT {
            reply.error(Errno::ENOENT);
            return;
        }
        let entries = [
            (1, FileType::Directory, "."),
            (1, FileType::Directory, ".."),
            (CHANNEL_INO, FileType::RegularFile, "channel"),
        ];
        for (i, e) in entries.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(e.0), (i + 1) as u64, e.1, e.2) {
                break;
            }
        }
        reply.ok();
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if ino.0 != CHANNEL_INO {
            reply.error(Errno::EISDIR);
            return;
        }
        let mut st = self.state.lock().unwrap();
        let fh = st.next_fh;
        st.next_fh += 1;
        st.handles.insert(fh, None);
        reply.opened(
            FileHandle(fh),
            FopenFlags::FOPEN_DIRECT_IO | FopenFlags::FOPEN_NONSEEKABLE,
        );
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let mut st = self.state.lock().unwrap();
        if let Some(Some(n)) = st.handles.remove(&fh.0) {
            let c = st.chans.get_mut(&n).unwrap();
            // Close hangs up and resets the channel (docs/reference/dahdi.md).
            c.open = false;
            if c.offhook {
                c.offhook = false;
                c.far.hook(false);
            }
        }
        reply.ok();
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let mut guard = self.state.lock().unwrap();
        let st = &mut *guard;
        let Some(Some(n)) = st.handles.get(&fh.0).copied() else {
            reply.error(Errno::EINVAL);
            return;
        };
        let c = st.chans.get_mut(&n).unwrap();
        if !c.events.is_empty() {
            st.rec.elast_returned += 1;
            reply.error(Errno::from_i32(500));
            return;
        }
        if let Some(sock) = &c.hdlc {
            // One frame per read; nothing there: EAGAIN (the fd is non-blocking).
            let mut buf = vec![0u8; 1024];
            match sock.recv(&mut buf) {
                Ok(n) => reply.data(&buf[..n.min(size as usize)]),
                Err(_) => reply.error(Errno::EAGAIN),
            }
            return;
        }
        let block = c.blocksize * if c.linear { 2 } else { 1 };
        c.fill(block);
        // One read returns at most one block; a shorter buffer loses the rest of it.
        let data: Vec<u8> = c.to_us.drain(..block).collect();
        st.rec.reads += 1;
        reply.data(&data[..block.min(size as usize)]);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut guard = self.state.lock().unwrap();
        let st = &mut *guard;
        let Some(Some(n)) = st.handles.get(&fh.0).copied() else {
            reply.error(Errno::EINVAL);
            return;
        };
        let c = st.chans.get_mut(&n).unwrap();
        if !c.events.is_empty() {
            st.rec.elast_returned += 1;
            reply.error(Errno::from_i32(500));
            return;
        }
        if let Some(sock) = &c.hdlc {
            match sock.send(data) {
                Ok(_) => reply.written(data.len() as u32),
                Err(_) => reply.error(Errno::EIO),
            }
            return;
        }
        // At most one block per write.
        let take = data.len().min(c.blocksize * if c.linear { 2 } else { 1 });
        if take < data.len() {
            st.rec.short_writes += 1;
        }
        if c.linear {
            for b in data[..take].chunks_exact(2) {
                c.from_us.push_back(i16::from_ne_bytes([b[0], b[1]]));
            }
        } else {
            let law = c.law;
            c.from_us
                .extend(data[..take].iter().map(|&b| law.decode_sample(b)));
        }
        st.rec.writes += 1;
        reply.written(take as u32);
    }

    fn ioctl(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: IoctlFlags,
        cmd: u32,
        in_data: &[u8],
        out_size: u32,
        reply: ReplyIoctl,
    ) {
        let mut st = self.state.lock().unwrap();
        match Self::ioctl_on(&mut st, fh.0, cmd, in_data, out_size) {
            Ok(out) => reply.ioctl(0, &out),
            Err(e) => reply.error(e),
        }
    }

    fn poll(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _ph: PollNotifier,
        _events: PollEvents,
        _flags: PollFlags,
        reply: ReplyPoll,
    ) {
        let st = self.state.lock().unwrap();
        let mut ev = PollEvents::POLLIN | PollEvents::POLLOUT;
        if let Some(Some(n)) = st.handles.get(&fh.0) {
            let c = &st.chans[n];
            if !c.events.is_empty() {
                ev |= PollEvents::POLLPRI;
            }
            if let Some(sock) = &c.hdlc {
                // Readable only with a frame waiting (no notification: the caller's poll
                // times out and reads again).
                let mut b = [0u8; 1];
                let ready = nix::sys::socket::recv(
                    std::os::fd::AsRawFd::as_raw_fd(sock),
                    &mut b,
                    nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT,
                )
                .is_ok();
                if !ready {
                    ev.remove(PollEvents::POLLIN);
                }
            }
        }
        reply.poll(ev);
    }
}

/// A mounted fake; unmounted when dropped.
pub struct Mounted {
    pub root: PathBuf,
    pub fs: FakeDahdi,
    _session: fuser::BackgroundSession,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        // The session unmounts when dropped (after this body); remove the directory then.
        let root = self.root.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let _ = std::fs::remove_dir(root);
        });
    }
}

/// Mount `fs` on a fresh directory. `Err(reason)` when FUSE is not available here.
pub fn mount(fs: FakeDahdi) -> Result<Mounted, String> {
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse does not exist".into());
    }
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let root = std::env::temp_dir().join(format!(
        "softfax-fake-dahdi-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut cfg = fuser::Config::default();
    cfg.mount_options
        .push(fuser::MountOption::FSName("softfax-fake-dahdi".into()));
    let session = fuser::spawn_mount(fs.clone(), &root, &cfg)
        .map_err(|e| format!("cannot mount a FUSE file system on {}: {e}", root.display()))?;
    // Wait until the mount answers.
    for _ in 0..100 {
        if root.join("channel").exists() {
            return Ok(Mounted {
                root,
                fs,
                _session: session,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("the FUSE mount did not come up".into())
}

/// Mount, or print `SKIP:` and return `None` (a failure under CI: `softfax_peers::unavailable`).
pub fn mount_or_skip(fs: FakeDahdi) -> Option<Mounted> {
    match mount(fs) {
        Ok(m) => Some(m),
        Err(why) => {
            softfax_peers::unavailable("the FUSE fake /dev/dahdi", why);
            None
        }
    }
}
