//! ISDN PRI signalling on a D-channel, with no device under it: Q.921 LAPD ([`q921`], ITU-T
//! Q.921) and Q.931 user-side call control ([`q931`], ITU-T Q.931) as sans-IO state machines
//! (frames in, frames out, an injected clock), and [`pri::Pri`], which runs both over any
//! [`pri::FrameIo`] — a DAHDI D-channel (`crate::dahdi::pri`) or a socketpair to a test peer —
//! and [`span`], the thread that owns a span's D-channel for all its B-channels' calls.
//!
//! **Tested by:** the unit tests of each module and `drivers/tests/isdn_libpri.rs` (libpri
//! 1.6 in network mode as the peer: call setup, busy 17, normal clearing 16, unallocated
//! number 1; a span of calls at once with glare, RESTART and STATUS ENQUIRY; an E1 of fax
//! calls).

pub mod pri;
pub mod q921;
pub mod q931;
pub mod span;

/// Bytes from hex pairs separated by spaces, as the tests write golden frames.
#[cfg(test)]
fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}
