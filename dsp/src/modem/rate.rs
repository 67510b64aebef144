//! Typed modem rates: which modem, at which bit rate. A rate is checked once, where a number
//! comes in ([`Rate::new`], the per-modem `TryFrom<u32>`), so the constructors take only
//! rates their modem has and cannot fail. The fax rates are those of T.30 Table 2 (DCS bits
//! 11–14); V.21 channel 2 carries only the 300 bit/s control channel.

/// The fax modems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modem {
    /// ITU-T V.21 channel 2, 300 bit/s FSK (T.30 control).
    V21,
    /// ITU-T V.27ter, 2400/4800 bit/s DPSK.
    V27ter,
    /// ITU-T V.29, 7200/9600 bit/s QAM.
    V29,
    /// ITU-T V.17, 7200–14400 bit/s trellis-coded QAM.
    V17,
}

impl Modem {
    /// The rates T.30 runs this modem at (T.30 Table 2), slowest first. V.29's 4800 bit/s
    /// fall-back is not a fax rate; [`V29Rate`] has it.
    pub fn rates(self) -> &'static [u32] {
        match self {
            Modem::V21 => &[300],
            Modem::V27ter => &[2400, 4800],
            Modem::V29 => &[7200, 9600],
            Modem::V17 => &[7200, 9600, 12000, 14400],
        }
    }
}

impl std::fmt::Display for Modem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Modem::V21 => "V.21",
            Modem::V27ter => "V.27ter",
            Modem::V29 => "V.29",
            Modem::V17 => "V.17",
        })
    }
}

/// A bit rate a modem does not run at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{modem} does not run at {bps} bit/s (it offers {offered:?})")]
pub struct RateError {
    pub modem: Modem,
    pub bps: u32,
    /// The rates it does run at.
    pub offered: &'static [u32],
}

/// Declares a modem's rate enum (variants slowest first) with its bit rates and its
/// `TryFrom<u32>`.
macro_rules! rates {
    ($(#[$doc:meta])* $name:ident, $modem:expr, [$($(#[$vdoc:meta])* $variant:ident = $bps:literal),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Bits per second.
            pub fn bps(self) -> u32 {
                match self {
                    $($name::$variant => $bps),+
                }
            }
        }

        /// The bit rate as a number (`4800`).
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.bps())
            }
        }

        impl TryFrom<u32> for $name {
            type Error = RateError;

            fn try_from(bps: u32) -> Result<$name, RateError> {
                const OFFERED: &[u32] = &[$($bps),+];
                match bps {
                    $($bps => Ok($name::$variant),)+
                    _ => Err(RateError { modem: $modem, bps, offered: OFFERED }),
                }
            }
        }
    };
}

rates!(
    /// The V.27ter data signalling rates (V.27ter §1).
    V27terRate, Modem::V27ter, [
        /// 2400 bit/s, dibits at 1200 baud.
        Bps2400 = 2400,
        /// 4800 bit/s, tribits at 1600 baud.
        Bps4800 = 4800
    ]
);

rates!(
    /// The V.29 data signalling rates (V.29 §1; 4800 bit/s is its fall-back, not a fax rate).
    V29Rate, Modem::V29, [
        /// 4800 bit/s, 2 bits per symbol.
        Bps4800 = 4800,
        /// 7200 bit/s, 3 bits per symbol.
        Bps7200 = 7200,
        /// 9600 bit/s, 4 bits per symbol.
        Bps9600 = 9600
    ]
);

rates!(
    /// The V.17 data signalling rates (V.17 §1).
    V17Rate, Modem::V17, [
        /// 7200 bit/s, 3 bits per symbol, 16 points.
        Bps7200 = 7200,
        /// 9600 bit/s, 4 bits per symbol, 32 points.
        Bps9600 = 9600,
        /// 12000 bit/s, 5 bits per symbol, 64 points.
        Bps12000 = 12000,
        /// 14400 bit/s, 6 bits per symbol, 128 points.
        Bps14400 = 14400
    ]
);

/// A fax modem at one of its rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rate {
    /// V.21 channel 2 at 300 bit/s.
    V21,
    V27ter(V27terRate),
    V29(V29Rate),
    V17(V17Rate),
}

impl Rate {
    /// `modem` at `bps`, if that is one of its fax rates ([`Modem::rates`]).
    pub fn new(modem: Modem, bps: u32) -> Result<Rate, RateError> {
        let err = RateError {
            modem,
            bps,
            offered: modem.rates(),
        };
        if !modem.rates().contains(&bps) {
            return Err(err);
        }
        Ok(match modem {
            Modem::V21 => Rate::V21,
            Modem::V27ter => Rate::V27ter(V27terRate::try_from(bps).map_err(|_| err)?),
            Modem::V29 => Rate::V29(V29Rate::try_from(bps).map_err(|_| err)?),
            Modem::V17 => Rate::V17(V17Rate::try_from(bps).map_err(|_| err)?),
        })
    }

    /// The modem.
    pub fn modem(self) -> Modem {
        match self {
            Rate::V21 => Modem::V21,
            Rate::V27ter(_) => Modem::V27ter,
            Rate::V29(_) => Modem::V29,
            Rate::V17(_) => Modem::V17,
        }
    }

    /// Bits per second.
    pub fn bps(self) -> u32 {
        match self {
            Rate::V21 => 300,
            Rate::V27ter(r) => r.bps(),
            Rate::V29(r) => r.bps(),
            Rate::V17(r) => r.bps(),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} bit/s", self.modem(), self.bps())
    }
}

/// Which training sequence a transmitter starts with (V.27ter §2.5, V.17 §7: T.30 sends the
/// long one first and may send the short one after a successful long one at the same rate).
/// V.21 and V.29 have one training each and ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Training {
    Long,
    Short,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_rate_is_built_and_nothing_else() {
        for modem in [Modem::V21, Modem::V27ter, Modem::V29, Modem::V17] {
            for &bps in modem.rates() {
                let r = Rate::new(modem, bps).unwrap();
                assert_eq!((r.modem(), r.bps()), (modem, bps));
            }
            for bps in [0, 300, 1200, 2400, 4800, 7200, 9600, 12000, 14400, 33600] {
                if !modem.rates().contains(&bps) {
                    let e = Rate::new(modem, bps).unwrap_err();
                    assert_eq!(e.offered, modem.rates());
                }
            }
        }
        assert_eq!(
            Rate::new(Modem::V29, 4800).unwrap_err().to_string(),
            "V.29 does not run at 4800 bit/s (it offers [7200, 9600])"
        );
        assert_eq!(V29Rate::try_from(4800), Ok(V29Rate::Bps4800));
        assert!(V17Rate::try_from(4800).is_err());
        assert_eq!(
            V29Rate::try_from(1).unwrap_err().offered,
            &[4800, 7200, 9600]
        );
        assert!(V27terRate::try_from(9600).is_err());
    }
}
