//! The one place a typed [`Rate`] becomes a modem: every user (the fax terminal, the modem
//! and BER commands, the analyser, the benches) asks here, so which modem serves which rate
//! is written once.

use super::rate::{Rate, Training};
use super::v17::{V17Rx, V17Tx};
use super::v21::{V21Rx, V21Tx};
use super::v27ter::{V27terRx, V27terTx};
use super::v29::{V29Rx, V29Tx};
use super::{Receiver, Transmitter};

/// A transmitter at `rate` sending at `level_dbm0`, starting with `training` where the
/// modem has a choice.
pub fn transmitter(rate: Rate, level_dbm0: f32, training: Training) -> Box<dyn Transmitter> {
    let long = training == Training::Long;
    match rate {
        Rate::V21 => Box::new(V21Tx::new(level_dbm0)),
        Rate::V27ter(r) => Box::new(V27terTx::new(r, level_dbm0, long)),
        Rate::V29(r) => Box::new(V29Tx::new(r, level_dbm0)),
        Rate::V17(r) => Box::new(V17Tx::new(r, level_dbm0, !long)),
    }
}

/// A receiver for `rate` (expecting the long training where there is a choice).
pub fn receiver(rate: Rate) -> Box<dyn Receiver> {
    match rate {
        Rate::V21 => Box::new(V21Rx::new()),
        Rate::V27ter(r) => Box::new(V27terRx::new(r)),
        Rate::V29(r) => Box::new(V29Rx::new(r)),
        Rate::V17(r) => Box::new(V17Rx::new(r)),
    }
}
