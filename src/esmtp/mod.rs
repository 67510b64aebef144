//! The ESMTP off-ramp (DESIGN §5, offramp.md §1 and §8): our own command [`parser`]
//! (XACT included), the sans-IO [`session`] state machine, and the tokio [`server`] that
//! runs sessions over TCP (and STARTTLS) and hands messages to [`crate::delivery`].

pub mod fuzzing;
pub mod parser;
pub mod server;
pub mod session;
