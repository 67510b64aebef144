//! The modem set of a fax terminal: which modem carries which phase of a T.30 call. V.21
//! channel 2 carries the control frames (T.30 §5.3); the image modem of the DCS's data rate
//! (T.30 Table 2: V.27 ter, V.29, V.17) carries TCF and the pages, made by the modem
//! factory from the typed rate. A V.17 receiver is kept by type so that a page after TCF
//! can start from TCF's training (the short retrain).

use super::sinks::NullSink;
use crate::modem::v17::V17Rx;
use crate::modem::{
    Rate, Receiver, RxSink, Training, Transmitter, V17Rate, V27terRate, V29Rate, factory,
};
use crate::t30::{Config, DataRate, Modulation};

/// Transmit level of every signal, dBm0.
pub const TX_LEVEL_DBM0: f32 = -10.0;

/// The modem rate of a T.30 data rate (T.30 Table 2). `DataRate`'s constants are exactly
/// the modem rates; any other bit rate (none is built) is taken at its modulation's fastest
/// rate not above it, or its slowest.
pub fn modem_rate(rate: DataRate) -> Rate {
    let b = rate.bps;
    match rate.modulation {
        Modulation::V27ter if b >= 4800 => Rate::V27ter(V27terRate::Bps4800),
        Modulation::V27ter => Rate::V27ter(V27terRate::Bps2400),
        Modulation::V29 if b >= 9600 => Rate::V29(V29Rate::Bps9600),
        Modulation::V29 => Rate::V29(V29Rate::Bps7200),
        Modulation::V17 if b >= 14400 => Rate::V17(V17Rate::Bps14400),
        Modulation::V17 if b >= 12000 => Rate::V17(V17Rate::Bps12000),
        Modulation::V17 if b >= 9600 => Rate::V17(V17Rate::Bps9600),
        Modulation::V17 => Rate::V17(V17Rate::Bps7200),
    }
}

/// The V.17 rate of a V.17 data rate (the slowest for any other modulation).
pub(crate) fn v17_rate(rate: DataRate) -> V17Rate {
    match modem_rate(rate) {
        Rate::V17(r) => r,
        _ => V17Rate::Bps7200,
    }
}

/// A transmitter for an image rate.
pub fn image_tx(rate: DataRate, long_train: bool) -> Box<dyn Transmitter> {
    let training = if long_train {
        Training::Long
    } else {
        Training::Short
    };
    factory::transmitter(modem_rate(rate), TX_LEVEL_DBM0, training)
}

/// A receiver for an image rate.
pub fn image_rx(rate: DataRate) -> Box<dyn Receiver> {
    factory::receiver(modem_rate(rate))
}

/// Whether `rate` is one of the image modems' rates (all of T.30 Table 2's are).
fn supported(rate: DataRate) -> bool {
    modem_rate(rate).bps() == rate.bps
}

/// An image receiver; V.17's is kept by type so that a page after TCF can start from the
/// training TCF gave it (the short retrain, T.30 §5.3.2 / V.17 §7).
pub(crate) enum ImageRx {
    V17(Box<V17Rx>),
    Other(Box<dyn Receiver>),
}

impl ImageRx {
    /// After a training given up on line noise: listen again for the page's training (V.17
    /// keeps what TCF taught it and waits for a short retrain; the others start afresh).
    pub(crate) fn rearm(&mut self, rate: DataRate) {
        match self {
            ImageRx::V17(v17) => short_retrain(v17, rate),
            other => *other = ImageRx::new(rate),
        }
    }

    pub(crate) fn new(rate: DataRate) -> ImageRx {
        match modem_rate(rate) {
            Rate::V17(r) => ImageRx::V17(Box::new(V17Rx::new(r))),
            r => ImageRx::Other(factory::receiver(r)),
        }
    }

    pub(crate) fn receive(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        match self {
            ImageRx::V17(r) => r.receive(samples, sink),
            ImageRx::Other(r) => r.receive(samples, sink),
        }
    }
}

/// The configured fastest rate lowered to one the image modems have (T.30 fallback order).
pub(crate) fn clamp_rate(config: &mut Config) {
    let mut r = Some(config.max_rate);
    while let Some(rate) = r {
        if supported(rate) {
            config.max_rate = rate;
            return;
        }
        r = rate.fallback();
    }
}

/// Make a trained V.17 receiver wait for the short retrain at `rate` (T.30 §5.3.2 / V.17
/// §7), keeping its equaliser. It may have been left mid-signal (TCF is judged before its
/// end, a training may have been given up on noise): it first hears the signal end, so it
/// acquires the next one afresh.
pub(crate) fn short_retrain(v17: &mut V17Rx, rate: DataRate) {
    v17.receive(&[0; 1600], &mut NullSink);
    v17.restart(v17_rate(rate), true);
}
