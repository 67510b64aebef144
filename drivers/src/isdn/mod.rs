//! ISDN PRI signalling on a D-channel: Q.921 LAPD ([`q921`]) and Q.931 user-side call
//! control ([`q931`]) as sans-IO state machines (frames in, frames out, an injected clock),
//! and [`pri::Pri`], which runs both over any [`pri::FrameIo`] — a DAHDI D-channel
//! (`hardhdlc`/`dchan`, one HDLC frame per read/write plus two FCS bytes, dahdi.md §7) or a
//! socketpair to a test peer.
//!
//! **Tested by:** the unit tests of each module and `drivers/tests/isdn_libpri.rs` (libpri
//! 1.6 in network mode as the peer: call setup, busy 17, normal clearing 16, unallocated
//! number 1).

pub mod pri;
pub mod q921;
pub mod q931;
