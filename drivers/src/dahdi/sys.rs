//! The DAHDI user-space ABI (`include/dahdi/user.h`, DAHDI 2.11.1 = dahdi-linux 3.4.0+):
//! ioctl request numbers, `#[repr(C)]` structures and constants, exactly as the golden table
//! of docs/reference/dahdi.md lists them for x86_64 and aarch64 (generic `_IOC`, LP64).
//!
//! Every DAHDI "int" ioctl takes a *pointer* to an int (the kernel does `get_user`), so the
//! wrappers are `ioctl_write_ptr!` / `ioctl_read!` on `c_int`, never `ioctl_write_int!`.
//! `dahdi_spaninfo` and `dahdi_versioninfo` are packed: copy their fields out, never borrow.
//!
//! The layout is checked at compile time (size, alignment and every field offset, see the
//! `const _` blocks) and every request number by the golden test below.
//!
//! This module is the only place with `unsafe` in the DAHDI driver.

#![allow(clippy::missing_safety_doc)]

use std::mem::{offset_of, size_of};
use std::os::raw::{c_char, c_int};

use nix::{ioctl_none, ioctl_read, ioctl_readwrite, ioctl_write_ptr};

/// The ioctl type ("magic") of every DAHDI request.
pub const DAHDI_CODE: u8 = 0xDA;
/// errno "event pending": read()/write() fail with it while the event queue is not empty.
pub const ELAST: i32 = 500;

// ---- structures (docs/reference/dahdi.md) -------------------------------------------------------

/// `struct dahdi_params` (136 bytes): DAHDI_GET_PARAMS / SET_PARAMS.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiParams {
    pub channo: c_int,
    pub spanno: c_int,
    pub chanpos: c_int,
    pub sigtype: c_int,
    pub sigcap: c_int,
    pub rxisoffhook: c_int,
    pub rxbits: c_int,
    pub txbits: c_int,
    pub txhooksig: c_int,
    pub rxhooksig: c_int,
    pub curlaw: c_int,
    pub idlebits: c_int,
    pub name: [c_char; 40],
    pub prewinktime: c_int,
    pub preflashtime: c_int,
    pub winktime: c_int,
    pub flashtime: c_int,
    pub starttime: c_int,
    pub rxwinktime: c_int,
    pub rxflashtime: c_int,
    pub debouncetime: c_int,
    pub pulsebreaktime: c_int,
    pub pulsemaketime: c_int,
    pub pulseaftertime: c_int,
    pub chan_alarms: u32,
}

/// `struct dahdi_spaninfo` (314 bytes, packed): DAHDI_SPANSTAT.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiSpanInfo {
    pub spanno: c_int,
    pub name: [c_char; 20],
    pub desc: [c_char; 40],
    pub alarms: c_int,
    pub txlevel: c_int,
    pub rxlevel: c_int,
    pub bpvcount: c_int,
    pub crc4count: c_int,
    pub ebitcount: c_int,
    pub fascount: c_int,
    pub fecount: c_int,
    pub cvcount: c_int,
    pub becount: c_int,
    pub prbs: c_int,
    pub errsec: c_int,
    pub irqmisses: c_int,
    pub syncsrc: c_int,
    pub numchans: c_int,
    pub totalchans: c_int,
    pub totalspans: c_int,
    pub lbo: c_int,
    pub lineconfig: c_int,
    pub lboname: [c_char; 40],
    pub location: [c_char; 40],
    pub manufacturer: [c_char; 40],
    pub devicetype: [c_char; 40],
    pub irq: c_int,
    pub linecompat: c_int,
    pub spantype: [c_char; 6],
}

/// `struct dahdi_spaninfo_v1` (296 bytes): only its size matters (DAHDI_SPANSTAT_V1).
#[repr(C)]
pub struct DahdiSpanInfoV1([c_int; 74]);

/// `struct dahdi_maintinfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiMaintInfo {
    pub spanno: c_int,
    pub command: c_int,
}

/// `struct dahdi_confinfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiConfInfo {
    pub chan: c_int,
    pub confno: c_int,
    pub confmode: c_int,
}

/// `struct dahdi_gains`: 256-entry rx and tx maps indexed by the G.711 code.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiGains {
    pub chan: c_int,
    pub rxgain: [u8; 256],
    pub txgain: [u8; 256],
}

impl DahdiGains {
    /// Unity gain both ways (identity maps) on the fd's own channel.
    pub fn unity() -> DahdiGains {
        let id: [u8; 256] = std::array::from_fn(|i| i as u8);
        DahdiGains {
            chan: 0,
            rxgain: id,
            txgain: id,
        }
    }
}

/// `struct dahdi_lineconfig`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiLineConfig {
    pub span: c_int,
    pub name: [c_char; 20],
    pub lbo: c_int,
    pub lineconfig: c_int,
    pub sync: c_int,
}

/// `struct dahdi_chanconfig`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiChanConfig {
    pub chan: c_int,
    pub name: [c_char; 40],
    pub sigtype: c_int,
    pub deflaw: c_int,
    pub master: c_int,
    pub idlebits: c_int,
    pub netdev_name: [c_char; 16],
}

/// `struct dahdi_tone_def`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiToneDef {
    pub tone: c_int,
    pub next: c_int,
    pub samples: c_int,
    pub shift: c_int,
    pub fac1: c_int,
    pub init_v2_1: c_int,
    pub init_v3_1: c_int,
    pub fac2: c_int,
    pub init_v2_2: c_int,
    pub init_v3_2: c_int,
    pub modulate: c_int,
}

/// `struct dahdi_tone_def_header` (followed by `count` tone definitions).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiToneDefHeader {
    pub count: c_int,
    pub zone: c_int,
    pub ringcadence: [c_int; 16],
    pub name: [c_char; 40],
}

/// `struct dahdi_bufferinfo`: DAHDI_GET_BUFINFO / SET_BUFINFO.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DahdiBufferInfo {
    pub txbufpolicy: c_int,
    pub rxbufpolicy: c_int,
    pub numbufs: c_int,
    pub bufsize: c_int,
    pub readbufs: c_int,
    pub writebufs: c_int,
}

/// `struct dahdi_dialparams`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiDialParams {
    pub mfv1_tonelen: c_int,
    pub dtmf_tonelen: c_int,
    pub mfr2_tonelen: c_int,
    pub reserved: [c_int; 3],
}

/// `struct dahdi_dialoperation`: DAHDI_DIAL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiDialOperation {
    pub op: c_int,
    pub dialstr: [c_char; 256],
}

/// `struct dahdi_echocanparam`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiEchoCanParam {
    pub name: [c_char; 16],
    pub value: i32,
}

/// `struct dahdi_echocanparams` (the header; `param_count` params follow it in memory).
/// `tap_length = 0` disables the echo canceller.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DahdiEchoCanParams {
    pub tap_length: u32,
    pub param_count: u32,
}

/// `struct dahdi_ring_cadence`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiRingCadence {
    pub ringcadence: [c_int; 16],
}

/// `struct dahdi_indirect_data`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiIndirectData {
    pub chan: c_int,
    pub op: c_int,
    pub data: *mut std::ffi::c_void,
}

/// `struct dahdi_versioninfo` (packed).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiVersionInfo {
    pub version: [c_char; 80],
    pub echo_canceller: [c_char; 80],
}

/// `struct dahdi_attach_echocan`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiAttachEchocan {
    pub chan: c_int,
    pub echocan: [c_char; 16],
}

/// `struct dahdi_dynamic_span`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiDynamicSpan {
    pub driver: [c_char; 20],
    pub addr: [c_char; 40],
    pub numchans: c_int,
    pub timing: c_int,
    pub spanno: c_int,
}

/// `struct dahdi_hwgain`: `{ s32 newgain; u32 tx:1; }` — the bit field is bit 0 of `tx`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiHwGain {
    pub newgain: i32,
    pub tx: u32,
}

/// `struct dahdi_vmwi_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiVmwiInfo {
    pub flags: u32,
}

/// Compile-time layout checks against docs/reference/dahdi.md.
macro_rules! layout {
    ($t:ty, $size:expr, $align:expr $(, $f:ident @ $off:expr)*) => {
        const _: () = {
            assert!(size_of::<$t>() == $size);
            assert!(std::mem::align_of::<$t>() == $align);
            $(assert!(offset_of!($t, $f) == $off);)*
        };
    };
}

layout!(DahdiParams, 136, 4, channo @ 0, spanno @ 4, chanpos @ 8, sigtype @ 12, sigcap @ 16,
    rxisoffhook @ 20, rxbits @ 24, txbits @ 28, txhooksig @ 32, rxhooksig @ 36, curlaw @ 40,
    idlebits @ 44, name @ 48, prewinktime @ 88, preflashtime @ 92, winktime @ 96,
    flashtime @ 100, starttime @ 104, rxwinktime @ 108, rxflashtime @ 112, debouncetime @ 116,
    pulsebreaktime @ 120, pulsemaketime @ 124, pulseaftertime @ 128, chan_alarms @ 132);
layout!(DahdiSpanInfo, 314, 1, spanno @ 0, name @ 4, desc @ 24, alarms @ 64, txlevel @ 68,
    rxlevel @ 72, bpvcount @ 76, crc4count @ 80, ebitcount @ 84, fascount @ 88, fecount @ 92,
    cvcount @ 96, becount @ 100, prbs @ 104, errsec @ 108, irqmisses @ 112, syncsrc @ 116,
    numchans @ 120, totalchans @ 124, totalspans @ 128, lbo @ 132, lineconfig @ 136,
    lboname @ 140, location @ 180, manufacturer @ 220, devicetype @ 260, irq @ 300,
    linecompat @ 304, spantype @ 308);
layout!(DahdiSpanInfoV1, 296, 4);
layout!(DahdiMaintInfo, 8, 4, spanno @ 0, command @ 4);
layout!(DahdiConfInfo, 12, 4, chan @ 0, confno @ 4, confmode @ 8);
layout!(DahdiGains, 516, 4, chan @ 0, rxgain @ 4, txgain @ 260);
layout!(DahdiLineConfig, 36, 4, span @ 0, name @ 4, lbo @ 24, lineconfig @ 28, sync @ 32);
layout!(DahdiChanConfig, 76, 4, chan @ 0, name @ 4, sigtype @ 44, deflaw @ 48, master @ 52,
    idlebits @ 56, netdev_name @ 60);
layout!(DahdiToneDef, 44, 4);
layout!(DahdiToneDefHeader, 112, 4);
layout!(DahdiBufferInfo, 24, 4, txbufpolicy @ 0, rxbufpolicy @ 4, numbufs @ 8, bufsize @ 12,
    readbufs @ 16, writebufs @ 20);
layout!(DahdiDialParams, 24, 4, mfv1_tonelen @ 0, dtmf_tonelen @ 4, mfr2_tonelen @ 8,
    reserved @ 12);
layout!(DahdiDialOperation, 260, 4, op @ 0, dialstr @ 4);
layout!(DahdiEchoCanParam, 20, 4, name @ 0, value @ 16);
layout!(DahdiEchoCanParams, 8, 4, tap_length @ 0, param_count @ 4);
layout!(DahdiRingCadence, 64, 4);
layout!(DahdiIndirectData, 16, 8, chan @ 0, op @ 4, data @ 8);
layout!(DahdiVersionInfo, 160, 1, version @ 0, echo_canceller @ 80);
layout!(DahdiAttachEchocan, 20, 4, chan @ 0, echocan @ 4);
layout!(DahdiDynamicSpan, 72, 4, driver @ 0, addr @ 20, numchans @ 60, timing @ 64,
    spanno @ 68);
layout!(DahdiHwGain, 8, 4);
layout!(DahdiVmwiInfo, 4, 4);

// ---- request numbers (docs/reference/dahdi.md) -----------------------------------------

/// An ioctl request number as the kernel sees it.
pub type Request = nix::sys::ioctl::ioctl_num_type;

macro_rules! req {
    ($name:ident, none, $nr:expr) => {
        pub const $name: Request = nix::request_code_none!(DAHDI_CODE, $nr);
    };
    ($name:ident, R, $nr:expr, $t:ty) => {
        pub const $name: Request = nix::request_code_read!(DAHDI_CODE, $nr, size_of::<$t>());
    };
    ($name:ident, W, $nr:expr, $t:ty) => {
        pub const $name: Request = nix::request_code_write!(DAHDI_CODE, $nr, size_of::<$t>());
    };
    ($name:ident, RW, $nr:expr, $t:ty) => {
        pub const $name: Request = nix::request_code_readwrite!(DAHDI_CODE, $nr, size_of::<$t>());
    };
}

req!(DAHDI_GET_BLOCKSIZE, R, 1, c_int);
req!(DAHDI_SET_BLOCKSIZE, W, 1, c_int);
req!(DAHDI_FLUSH, W, 3, c_int);
req!(DAHDI_SYNC, none, 4);
req!(DAHDI_GET_PARAMS_V1, R, 5, DahdiParams);
req!(DAHDI_GET_PARAMS, RW, 5, DahdiParams);
req!(DAHDI_SET_PARAMS, W, 5, DahdiParams);
req!(DAHDI_HOOK, W, 7, c_int);
req!(DAHDI_GETEVENT, R, 8, c_int);
req!(DAHDI_IOMUX, RW, 9, c_int);
req!(DAHDI_SPANSTAT, RW, 10, DahdiSpanInfo);
req!(DAHDI_SPANSTAT_V1, RW, 10, DahdiSpanInfoV1);
req!(DAHDI_MAINT, W, 11, DahdiMaintInfo);
req!(DAHDI_GETCONF, RW, 12, DahdiConfInfo);
req!(DAHDI_SETCONF, RW, 13, DahdiConfInfo);
req!(DAHDI_CONFLINK, W, 14, DahdiConfInfo);
req!(DAHDI_GETGAINS_V1, R, 16, DahdiGains);
req!(DAHDI_GETGAINS, RW, 16, DahdiGains);
req!(DAHDI_SETGAINS, W, 16, DahdiGains);
req!(DAHDI_SPANCONFIG, W, 18, DahdiLineConfig);
req!(DAHDI_CHANCONFIG, W, 19, DahdiChanConfig);
req!(DAHDI_SENDTONE, W, 21, c_int);
req!(DAHDI_GETTONEZONE, R, 22, c_int);
req!(DAHDI_SETTONEZONE, W, 22, c_int);
req!(DAHDI_DEFAULTZONE, W, 24, c_int);
req!(DAHDI_LOADZONE, W, 25, DahdiToneDefHeader);
req!(DAHDI_FREEZONE, W, 26, c_int);
req!(DAHDI_GET_BUFINFO, R, 27, DahdiBufferInfo);
req!(DAHDI_SET_BUFINFO, W, 27, DahdiBufferInfo);
req!(DAHDI_GET_DIALPARAMS, R, 29, DahdiDialParams);
req!(DAHDI_SET_DIALPARAMS, W, 29, DahdiDialParams);
req!(DAHDI_DIAL, W, 31, DahdiDialOperation);
req!(DAHDI_AUDIOMODE, W, 32, c_int);
req!(DAHDI_ECHOCANCEL, W, 33, c_int);
req!(DAHDI_ECHOCANCEL_PARAMS, W, 33, DahdiEchoCanParams);
req!(DAHDI_CHANNO, R, 34, c_int);
req!(DAHDI_DIALING, R, 35, c_int);
req!(DAHDI_HDLCRAWMODE, W, 36, c_int);
req!(DAHDI_HDLCFCSMODE, W, 37, c_int);
req!(DAHDI_SPECIFY, W, 38, c_int);
req!(DAHDI_SETLAW, W, 39, c_int);
req!(DAHDI_SETLINEAR, W, 40, c_int);
req!(DAHDI_HDLCPPP, W, 41, c_int);
req!(DAHDI_SETCADENCE, W, 42, DahdiRingCadence);
req!(DAHDI_GETRXBITS, R, 43, c_int);
req!(DAHDI_SETTXBITS, W, 43, c_int);
req!(DAHDI_CHANDIAG, W, 44, c_int);
req!(DAHDI_TIMERCONFIG, W, 47, c_int);
req!(DAHDI_TIMERACK, W, 48, c_int);
req!(DAHDI_ECHOTRAIN, W, 50, c_int);
req!(DAHDI_ONHOOKTRANSFER, W, 51, c_int);
req!(DAHDI_TIMERPING, none, 52);
req!(DAHDI_TIMERPONG, none, 53);
req!(DAHDI_GETSIGFREEZE, R, 54, c_int);
req!(DAHDI_SETSIGFREEZE, W, 54, c_int);
req!(DAHDI_INDIRECT, RW, 56, DahdiIndirectData);
req!(DAHDI_GETVERSION, R, 57, DahdiVersionInfo);
req!(DAHDI_LOOPBACK, W, 58, c_int);
req!(DAHDI_ATTACH_ECHOCAN, W, 59, DahdiAttachEchocan);
req!(DAHDI_DYNAMIC_CREATE, RW, 80, DahdiDynamicSpan);
req!(DAHDI_DYNAMIC_DESTROY, W, 81, DahdiDynamicSpan);
req!(DAHDI_SET_HWGAIN, W, 86, DahdiHwGain);
req!(DAHDI_TONEDETECT, W, 91, c_int);
req!(DAHDI_SETPOLARITY, W, 92, c_int);
req!(DAHDI_VMWI, RW, 94, DahdiVmwiInfo);
req!(DAHDI_VMWI_CONFIG, W, 95, DahdiVmwiInfo);
req!(DAHDI_STARTUP, W, 99, c_int);
req!(DAHDI_SHUTDOWN, W, 100, c_int);
req!(DAHDI_HDLC_RATE, W, 101, c_int);
req!(DAHDI_ECHOCANCEL_FAX_MODE, W, 102, c_int);
req!(DAHDI_BUFFER_EVENTS, W, 105, c_int);

/// Every request with its name, for the golden test and for logs.
pub const ALL_REQUESTS: &[(&str, Request)] = &[
    ("DAHDI_GET_BLOCKSIZE", DAHDI_GET_BLOCKSIZE),
    ("DAHDI_SET_BLOCKSIZE", DAHDI_SET_BLOCKSIZE),
    ("DAHDI_FLUSH", DAHDI_FLUSH),
    ("DAHDI_SYNC", DAHDI_SYNC),
    ("DAHDI_GET_PARAMS_V1", DAHDI_GET_PARAMS_V1),
    ("DAHDI_GET_PARAMS", DAHDI_GET_PARAMS),
    ("DAHDI_SET_PARAMS", DAHDI_SET_PARAMS),
    ("DAHDI_HOOK", DAHDI_HOOK),
    ("DAHDI_GETEVENT", DAHDI_GETEVENT),
    ("DAHDI_IOMUX", DAHDI_IOMUX),
    ("DAHDI_SPANSTAT", DAHDI_SPANSTAT),
    ("DAHDI_SPANSTAT_V1", DAHDI_SPANSTAT_V1),
    ("DAHDI_MAINT", DAHDI_MAINT),
    ("DAHDI_GETCONF", DAHDI_GETCONF),
    ("DAHDI_SETCONF", DAHDI_SETCONF),
    ("DAHDI_CONFLINK", DAHDI_CONFLINK),
    ("DAHDI_GETGAINS_V1", DAHDI_GETGAINS_V1),
    ("DAHDI_GETGAINS", DAHDI_GETGAINS),
    ("DAHDI_SETGAINS", DAHDI_SETGAINS),
    ("DAHDI_SPANCONFIG", DAHDI_SPANCONFIG),
    ("DAHDI_CHANCONFIG", DAHDI_CHANCONFIG),
    ("DAHDI_SENDTONE", DAHDI_SENDTONE),
    ("DAHDI_GETTONEZONE", DAHDI_GETTONEZONE),
    ("DAHDI_SETTONEZONE", DAHDI_SETTONEZONE),
    ("DAHDI_DEFAULTZONE", DAHDI_DEFAULTZONE),
    ("DAHDI_LOADZONE", DAHDI_LOADZONE),
    ("DAHDI_FREEZONE", DAHDI_FREEZONE),
    ("DAHDI_GET_BUFINFO", DAHDI_GET_BUFINFO),
    ("DAHDI_SET_BUFINFO", DAHDI_SET_BUFINFO),
    ("DAHDI_GET_DIALPARAMS", DAHDI_GET_DIALPARAMS),
    ("DAHDI_SET_DIALPARAMS", DAHDI_SET_DIALPARAMS),
    ("DAHDI_DIAL", DAHDI_DIAL),
    ("DAHDI_AUDIOMODE", DAHDI_AUDIOMODE),
    ("DAHDI_ECHOCANCEL", DAHDI_ECHOCANCEL),
    ("DAHDI_ECHOCANCEL_PARAMS", DAHDI_ECHOCANCEL_PARAMS),
    ("DAHDI_CHANNO", DAHDI_CHANNO),
    ("DAHDI_DIALING", DAHDI_DIALING),
    ("DAHDI_HDLCRAWMODE", DAHDI_HDLCRAWMODE),
    ("DAHDI_HDLCFCSMODE", DAHDI_HDLCFCSMODE),
    ("DAHDI_SPECIFY", DAHDI_SPECIFY),
    ("DAHDI_SETLAW", DAHDI_SETLAW),
    ("DAHDI_SETLINEAR", DAHDI_SETLINEAR),
    ("DAHDI_HDLCPPP", DAHDI_HDLCPPP),
    ("DAHDI_SETCADENCE", DAHDI_SETCADENCE),
    ("DAHDI_GETRXBITS", DAHDI_GETRXBITS),
    ("DAHDI_SETTXBITS", DAHDI_SETTXBITS),
    ("DAHDI_CHANDIAG", DAHDI_CHANDIAG),
    ("DAHDI_TIMERCONFIG", DAHDI_TIMERCONFIG),
    ("DAHDI_TIMERACK", DAHDI_TIMERACK),
    ("DAHDI_ECHOTRAIN", DAHDI_ECHOTRAIN),
    ("DAHDI_ONHOOKTRANSFER", DAHDI_ONHOOKTRANSFER),
    ("DAHDI_TIMERPING", DAHDI_TIMERPING),
    ("DAHDI_TIMERPONG", DAHDI_TIMERPONG),
    ("DAHDI_GETSIGFREEZE", DAHDI_GETSIGFREEZE),
    ("DAHDI_SETSIGFREEZE", DAHDI_SETSIGFREEZE),
    ("DAHDI_INDIRECT", DAHDI_INDIRECT),
    ("DAHDI_GETVERSION", DAHDI_GETVERSION),
    ("DAHDI_LOOPBACK", DAHDI_LOOPBACK),
    ("DAHDI_ATTACH_ECHOCAN", DAHDI_ATTACH_ECHOCAN),
    ("DAHDI_DYNAMIC_CREATE", DAHDI_DYNAMIC_CREATE),
    ("DAHDI_DYNAMIC_DESTROY", DAHDI_DYNAMIC_DESTROY),
    ("DAHDI_SET_HWGAIN", DAHDI_SET_HWGAIN),
    ("DAHDI_TONEDETECT", DAHDI_TONEDETECT),
    ("DAHDI_SETPOLARITY", DAHDI_SETPOLARITY),
    ("DAHDI_VMWI", DAHDI_VMWI),
    ("DAHDI_VMWI_CONFIG", DAHDI_VMWI_CONFIG),
    ("DAHDI_STARTUP", DAHDI_STARTUP),
    ("DAHDI_SHUTDOWN", DAHDI_SHUTDOWN),
    ("DAHDI_HDLC_RATE", DAHDI_HDLC_RATE),
    ("DAHDI_ECHOCANCEL_FAX_MODE", DAHDI_ECHOCANCEL_FAX_MODE),
    ("DAHDI_BUFFER_EVENTS", DAHDI_BUFFER_EVENTS),
];

/// The name of a request number (for logs and the fake device).
pub fn request_name(req: Request) -> Option<&'static str> {
    ALL_REQUESTS
        .iter()
        .find(|(_, r)| *r == req)
        .map(|(n, _)| *n)
}

// ---- constants (docs/reference/dahdi.md) -------------------------------------------------------

pub const DAHDI_SIG_NONE: c_int = 0;
pub const DAHDI_SIG_FXSLS: c_int = 0x2001;
pub const DAHDI_SIG_FXSGS: c_int = 0x2002;
pub const DAHDI_SIG_FXSKS: c_int = 0x2004;
pub const DAHDI_SIG_FXOLS: c_int = 0x1008;
pub const DAHDI_SIG_FXOGS: c_int = 0x1010;
pub const DAHDI_SIG_FXOKS: c_int = 0x1020;
pub const DAHDI_SIG_EM: c_int = 0x40;
pub const DAHDI_SIG_CLEAR: c_int = 0x80;
pub const DAHDI_SIG_HDLCRAW: c_int = 0x180;
pub const DAHDI_SIG_HDLCFCS: c_int = 0x380;
pub const DAHDI_SIG_HARDHDLC: c_int = 0x80080;
pub const DAHDI_SIG_CAS: c_int = 0x8000;

pub const DAHDI_ALARM_NONE: c_int = 0;
pub const DAHDI_ALARM_RECOVER: c_int = 0x1;
pub const DAHDI_ALARM_LOOPBACK: c_int = 0x2;
pub const DAHDI_ALARM_YELLOW: c_int = 0x4;
pub const DAHDI_ALARM_RED: c_int = 0x8;
pub const DAHDI_ALARM_BLUE: c_int = 0x10;
pub const DAHDI_ALARM_NOTOPEN: c_int = 0x20;

pub const DAHDI_LAW_DEFAULT: c_int = 0;
pub const DAHDI_LAW_MULAW: c_int = 1;
pub const DAHDI_LAW_ALAW: c_int = 2;

pub const DAHDI_FLUSH_READ: c_int = 1;
pub const DAHDI_FLUSH_WRITE: c_int = 2;
pub const DAHDI_FLUSH_EVENT: c_int = 4;
pub const DAHDI_FLUSH_ALL: c_int = 7;

pub const DAHDI_POLICY_IMMEDIATE: c_int = 0;
pub const DAHDI_POLICY_WHEN_FULL: c_int = 1;

pub const DAHDI_ONHOOK: c_int = 0;
pub const DAHDI_OFFHOOK: c_int = 1;
pub const DAHDI_WINK: c_int = 2;
pub const DAHDI_FLASH: c_int = 3;
pub const DAHDI_START: c_int = 4;
pub const DAHDI_RING: c_int = 5;
pub const DAHDI_RINGOFF: c_int = 6;

// ---- the ioctl wrappers ---------------------------------------------------------------------

ioctl_write_ptr!(specify, DAHDI_CODE, 38, c_int);
ioctl_readwrite!(get_params, DAHDI_CODE, 5, DahdiParams);
ioctl_readwrite!(spanstat, DAHDI_CODE, 10, DahdiSpanInfo);
ioctl_write_ptr!(set_blocksize, DAHDI_CODE, 1, c_int);
ioctl_read!(get_blocksize, DAHDI_CODE, 1, c_int);
ioctl_write_ptr!(set_bufinfo, DAHDI_CODE, 27, DahdiBufferInfo);
ioctl_read!(get_bufinfo, DAHDI_CODE, 27, DahdiBufferInfo);
ioctl_write_ptr!(flush, DAHDI_CODE, 3, c_int);
ioctl_none!(sync, DAHDI_CODE, 4);
ioctl_write_ptr!(hook, DAHDI_CODE, 7, c_int);
ioctl_read!(getevent, DAHDI_CODE, 8, c_int);
ioctl_write_ptr!(setgains, DAHDI_CODE, 16, DahdiGains);
ioctl_write_ptr!(dial, DAHDI_CODE, 31, DahdiDialOperation);
ioctl_write_ptr!(audiomode, DAHDI_CODE, 32, c_int);
ioctl_write_ptr!(echocancel_params, DAHDI_CODE, 33, DahdiEchoCanParams);
ioctl_write_ptr!(setlaw, DAHDI_CODE, 39, c_int);
ioctl_write_ptr!(setlinear, DAHDI_CODE, 40, c_int);
ioctl_write_ptr!(buffer_events, DAHDI_CODE, 105, c_int);
ioctl_write_ptr!(echocancel_fax_mode, DAHDI_CODE, 102, c_int);
ioctl_read!(channo, DAHDI_CODE, 34, c_int);

/// A C string field as Rust text (up to the first NUL).
pub fn c_str(field: &[c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden table of docs/reference/dahdi.md, generated from the real user.h with gcc
    /// on x86_64.
    const GOLDEN: &[(&str, u32)] = &[
        ("DAHDI_GET_BLOCKSIZE", 0x8004DA01),
        ("DAHDI_SET_BLOCKSIZE", 0x4004DA01),
        ("DAHDI_FLUSH", 0x4004DA03),
        ("DAHDI_SYNC", 0x0000DA04),
        ("DAHDI_GET_PARAMS_V1", 0x8088DA05),
        ("DAHDI_GET_PARAMS", 0xC088DA05),
        ("DAHDI_SET_PARAMS", 0x4088DA05),
        ("DAHDI_HOOK", 0x4004DA07),
        ("DAHDI_GETEVENT", 0x8004DA08),
        ("DAHDI_IOMUX", 0xC004DA09),
        ("DAHDI_SPANSTAT", 0xC13ADA0A),
        ("DAHDI_SPANSTAT_V1", 0xC128DA0A),
        ("DAHDI_MAINT", 0x4008DA0B),
        ("DAHDI_GETCONF", 0xC00CDA0C),
        ("DAHDI_SETCONF", 0xC00CDA0D),
        ("DAHDI_CONFLINK", 0x400CDA0E),
        ("DAHDI_GETGAINS_V1", 0x8204DA10),
        ("DAHDI_GETGAINS", 0xC204DA10),
        ("DAHDI_SETGAINS", 0x4204DA10),
        ("DAHDI_SPANCONFIG", 0x4024DA12),
        ("DAHDI_CHANCONFIG", 0x404CDA13),
        ("DAHDI_SENDTONE", 0x4004DA15),
        ("DAHDI_GETTONEZONE", 0x8004DA16),
        ("DAHDI_SETTONEZONE", 0x4004DA16),
        ("DAHDI_DEFAULTZONE", 0x4004DA18),
        ("DAHDI_LOADZONE", 0x4070DA19),
        ("DAHDI_FREEZONE", 0x4004DA1A),
        ("DAHDI_GET_BUFINFO", 0x8018DA1B),
        ("DAHDI_SET_BUFINFO", 0x4018DA1B),
        ("DAHDI_GET_DIALPARAMS", 0x8018DA1D),
        ("DAHDI_SET_DIALPARAMS", 0x4018DA1D),
        ("DAHDI_DIAL", 0x4104DA1F),
        ("DAHDI_AUDIOMODE", 0x4004DA20),
        ("DAHDI_ECHOCANCEL", 0x4004DA21),
        ("DAHDI_ECHOCANCEL_PARAMS", 0x4008DA21),
        ("DAHDI_CHANNO", 0x8004DA22),
        ("DAHDI_DIALING", 0x8004DA23),
        ("DAHDI_HDLCRAWMODE", 0x4004DA24),
        ("DAHDI_HDLCFCSMODE", 0x4004DA25),
        ("DAHDI_SPECIFY", 0x4004DA26),
        ("DAHDI_SETLAW", 0x4004DA27),
        ("DAHDI_SETLINEAR", 0x4004DA28),
        ("DAHDI_HDLCPPP", 0x4004DA29),
        ("DAHDI_SETCADENCE", 0x4040DA2A),
        ("DAHDI_GETRXBITS", 0x8004DA2B),
        ("DAHDI_SETTXBITS", 0x4004DA2B),
        ("DAHDI_CHANDIAG", 0x4004DA2C),
        ("DAHDI_TIMERCONFIG", 0x4004DA2F),
        ("DAHDI_TIMERACK", 0x4004DA30),
        ("DAHDI_ECHOTRAIN", 0x4004DA32),
        ("DAHDI_ONHOOKTRANSFER", 0x4004DA33),
        ("DAHDI_TIMERPING", 0x0000DA34),
        ("DAHDI_TIMERPONG", 0x0000DA35),
        ("DAHDI_GETSIGFREEZE", 0x8004DA36),
        ("DAHDI_SETSIGFREEZE", 0x4004DA36),
        ("DAHDI_INDIRECT", 0xC010DA38),
        ("DAHDI_GETVERSION", 0x80A0DA39),
        ("DAHDI_LOOPBACK", 0x4004DA3A),
        ("DAHDI_ATTACH_ECHOCAN", 0x4014DA3B),
        ("DAHDI_DYNAMIC_CREATE", 0xC048DA50),
        ("DAHDI_DYNAMIC_DESTROY", 0x4048DA51),
        ("DAHDI_SET_HWGAIN", 0x4008DA56),
        ("DAHDI_TONEDETECT", 0x4004DA5B),
        ("DAHDI_SETPOLARITY", 0x4004DA5C),
        ("DAHDI_VMWI", 0xC004DA5E),
        ("DAHDI_VMWI_CONFIG", 0x4004DA5F),
        ("DAHDI_STARTUP", 0x4004DA63),
        ("DAHDI_SHUTDOWN", 0x4004DA64),
        ("DAHDI_HDLC_RATE", 0x4004DA65),
        ("DAHDI_ECHOCANCEL_FAX_MODE", 0x4004DA66),
        ("DAHDI_BUFFER_EVENTS", 0x4004DA69),
    ];

    #[test]
    #[allow(clippy::unnecessary_cast)] // ioctl_num_type is not u64 on every libc
    fn every_request_number_matches_the_golden_table() {
        assert_eq!(GOLDEN.len(), ALL_REQUESTS.len());
        for ((gname, gnum), (name, num)) in GOLDEN.iter().zip(ALL_REQUESTS) {
            assert_eq!(gname, name);
            assert_eq!(*num as u64, *gnum as u64, "{name}: {num:#X} != {gnum:#X}");
        }
    }

    #[test]
    fn request_names_are_unique_per_number() {
        // The one true collision in the ABI is none; each number names one request.
        for (i, (a, ra)) in ALL_REQUESTS.iter().enumerate() {
            for (b, rb) in &ALL_REQUESTS[i + 1..] {
                assert_ne!(ra, rb, "{a} and {b} share a number");
            }
        }
        assert_eq!(request_name(0xC13ADA0A as Request), Some("DAHDI_SPANSTAT"));
        assert_eq!(request_name(0xC13EDA0A as Request), None);
    }

    #[test]
    fn unity_gains_are_identity_maps() {
        let g = DahdiGains::unity();
        assert_eq!(g.chan, 0);
        assert!(g.rxgain.iter().enumerate().all(|(i, &v)| v as usize == i));
        assert_eq!(g.rxgain, g.txgain);
    }

    #[test]
    fn c_strings_stop_at_nul() {
        let mut f = [0 as c_char; 6];
        for (i, b) in b"E1".iter().enumerate() {
            f[i] = *b as c_char;
        }
        assert_eq!(c_str(&f), "E1");
    }
}
