//! T.30 frames: the raw octets (`Frame`, address/control/FCF/FIF, T.30 §5.3.4–5.3.6) and their
//! typed meaning (`FrameRepr`). Frames are what HDLC delivers: without flags and FCS.

use super::caps::{Caps, CapsError};
use super::fcf::Fcf;

/// The HDLC address octet of every T.30 frame.
pub const ADDRESS: u8 = 0xFF;
/// Control field of a frame that is not the last of its message (T.30 §5.3.5).
pub const CONTROL_NOT_FINAL: u8 = 0x03;
/// Control field of the last frame of a message.
pub const CONTROL_FINAL: u8 = 0x13;

/// What is wrong with a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {0} octets: address, control and FCF need 3")]
    TooShort(usize),
    #[error("address {0:#04x} is not 0xff")]
    BadAddress(u8),
    #[error("control {0:#04x} is neither 0x03 nor 0x13")]
    BadControl(u8),
    #[error("FCF {0:#04x} is not a T.30 code")]
    UnknownFcf(u8),
    #[error("{fcf}: {source}")]
    BadCaps { fcf: Fcf, source: CapsError },
    #[error("{fcf}: the field has {len} octets, {want} expected")]
    BadLength {
        fcf: Fcf,
        len: usize,
        want: &'static str,
    },
}

/// A received frame, checked only for its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    octets: &'a [u8],
    fcf: Fcf,
}

impl<'a> Frame<'a> {
    /// Check address, control and FCF.
    pub fn new(octets: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        if octets.len() < 3 {
            return Err(FrameError::TooShort(octets.len()));
        }
        if octets[0] != ADDRESS {
            return Err(FrameError::BadAddress(octets[0]));
        }
        if octets[1] != CONTROL_NOT_FINAL && octets[1] != CONTROL_FINAL {
            return Err(FrameError::BadControl(octets[1]));
        }
        let fcf = Fcf::from_octet(octets[2]).ok_or(FrameError::UnknownFcf(octets[2]))?;
        Ok(Frame { octets, fcf })
    }

    pub fn fcf(&self) -> Fcf {
        self.fcf
    }

    /// The X bit of the FCF (set by the station that received DIS).
    pub fn x_bit(&self) -> bool {
        self.fcf.has_x_bit() && self.octets[2] & 1 != 0
    }

    /// The last frame of its message (control 0x13).
    pub fn is_final(&self) -> bool {
        self.octets[1] == CONTROL_FINAL
    }

    /// The facsimile information field.
    pub fn fif(&self) -> &'a [u8] {
        &self.octets[3..]
    }
}

/// The meaning of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameRepr {
    Dis(Caps),
    Dtc(Caps),
    Dcs(Caps),
    /// CSI, TSI or CIG: the 20-character identity, in reading order, spaces trimmed.
    Ident(Fcf, String),
    /// NSF, NSS or NSC: tolerated and ignored (country code and the rest kept for logs).
    NonStandard(Fcf, Vec<u8>),
    /// PPS (ECM): the post-message command it carries (None = PPS-NULL), page, block and
    /// frame counts (T.30 §A.4.3).
    Pps {
        fcf2: Option<Fcf>,
        page: u8,
        block: u8,
        frames: u16,
    },
    /// EOR (ECM): the command it carries.
    Eor {
        fcf2: Option<Fcf>,
    },
    /// PPR (ECM): the 256-bit map of frames to send again (bit set = resend).
    Ppr(Box<[u8; 32]>),
    /// Every frame without a field (CFR, FTT, MCF, RTN, RTP, MPS, EOM, EOP, PRI-x, DCN, CRP,
    /// RR, RNR, CTR, ERR, PIP, PIN…) — and others whose field softfax does not use.
    Plain(Fcf),
}

impl FrameRepr {
    /// The meaning of a checked frame.
    pub fn parse(frame: &Frame<'_>) -> Result<FrameRepr, FrameError> {
        let fcf = frame.fcf();
        let fif = frame.fif();
        let caps =
            |dcs| Caps::parse(fif, dcs).map_err(|source| FrameError::BadCaps { fcf, source });
        let fcf2 = |o: Option<&u8>| -> Result<Option<Fcf>, FrameError> {
            match o {
                None => Err(FrameError::BadLength {
                    fcf,
                    len: fif.len(),
                    want: "at least 1",
                }),
                Some(0) => Ok(None),
                Some(&v) => Fcf::from_octet(v)
                    .map(Some)
                    .ok_or(FrameError::UnknownFcf(v)),
            }
        };
        Ok(match fcf {
            Fcf::Dis => FrameRepr::Dis(caps(false)?),
            Fcf::Dtc => FrameRepr::Dtc(caps(false)?),
            Fcf::Dcs => FrameRepr::Dcs(caps(true)?),
            Fcf::Csi | Fcf::Tsi | Fcf::Cig => {
                // T.30 §5.3.6.2.4: exactly 20 characters; accept fewer, refuse more.
                if fif.len() > 20 {
                    return Err(FrameError::BadLength {
                        fcf,
                        len: fif.len(),
                        want: "at most 20",
                    });
                }
                FrameRepr::Ident(fcf, ident_from_fif(fif))
            }
            Fcf::Nsf | Fcf::Nss | Fcf::Nsc => FrameRepr::NonStandard(fcf, fif.to_vec()),
            Fcf::Pps => {
                if fif.len() != 4 {
                    return Err(FrameError::BadLength {
                        fcf,
                        len: fif.len(),
                        want: "4",
                    });
                }
                FrameRepr::Pps {
                    fcf2: fcf2(fif.first())?,
                    page: fif[1],
                    block: fif[2],
                    frames: fif[3] as u16 + 1,
                }
            }
            Fcf::Eor => FrameRepr::Eor {
                fcf2: fcf2(fif.first())?,
            },
            Fcf::Ppr => {
                let map: [u8; 32] = fif.try_into().map_err(|_| FrameError::BadLength {
                    fcf,
                    len: fif.len(),
                    want: "32",
                })?;
                FrameRepr::Ppr(Box::new(map))
            }
            _ => FrameRepr::Plain(fcf),
        })
    }

    /// The frame's FCF.
    pub fn fcf(&self) -> Fcf {
        match self {
            FrameRepr::Dis(_) => Fcf::Dis,
            FrameRepr::Dtc(_) => Fcf::Dtc,
            FrameRepr::Dcs(_) => Fcf::Dcs,
            FrameRepr::Ident(f, _) | FrameRepr::NonStandard(f, _) | FrameRepr::Plain(f) => *f,
            FrameRepr::Pps { .. } => Fcf::Pps,
            FrameRepr::Eor { .. } => Fcf::Eor,
            FrameRepr::Ppr(_) => Fcf::Ppr,
        }
    }

    /// The frame's octets (without FCS), with the X bit and final flag given.
    pub fn emit(&self, x: bool, last: bool) -> Vec<u8> {
        let fcf = self.fcf();
        let mut v = vec![
            ADDRESS,
            if last {
                CONTROL_FINAL
            } else {
                CONTROL_NOT_FINAL
            },
            fcf.octet(x),
        ];
        let cmd = |f: &Option<Fcf>| f.map_or(0, |f| f.octet(x));
        match self {
            FrameRepr::Dis(c) | FrameRepr::Dtc(c) => v.extend(c.to_fif(false)),
            FrameRepr::Dcs(c) => v.extend(c.to_fif(true)),
            FrameRepr::Ident(_, s) => v.extend(ident_to_fif(s)),
            FrameRepr::NonStandard(_, d) => v.extend_from_slice(d),
            FrameRepr::Pps {
                fcf2,
                page,
                block,
                frames,
            } => v.extend([
                cmd(fcf2),
                *page,
                *block,
                frames.saturating_sub(1).min(255) as u8,
            ]),
            FrameRepr::Eor { fcf2 } => v.push(cmd(fcf2)),
            FrameRepr::Ppr(map) => v.extend_from_slice(&map[..]),
            FrameRepr::Plain(_) => {}
        }
        v
    }
}

impl std::fmt::Display for FrameRepr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameRepr::Dis(c) | FrameRepr::Dtc(c) | FrameRepr::Dcs(c) => {
                write!(f, "{} {c}", self.fcf())
            }
            FrameRepr::Ident(fcf, s) => write!(f, "{fcf} \"{s}\""),
            FrameRepr::NonStandard(fcf, d) => write!(
                f,
                "{fcf} ({} octets, country {:#04x})",
                d.len(),
                d.first().copied().unwrap_or(0)
            ),
            FrameRepr::Pps {
                fcf2,
                page,
                block,
                frames,
            } => {
                write!(
                    f,
                    "PPS-{} page {page} block {block} frames {frames}",
                    fcf2.map_or("NULL", |c| c.name())
                )
            }
            FrameRepr::Eor { fcf2 } => write!(f, "EOR-{}", fcf2.map_or("NULL", |c| c.name())),
            FrameRepr::Ppr(map) => write!(
                f,
                "PPR ({} frames to resend)",
                map.iter().map(|b| b.count_ones()).sum::<u32>()
            ),
            FrameRepr::Plain(fcf) => write!(f, "{fcf}"),
        }
    }
}

/// An identity as sent (T.30 §5.3.6.2.4, and §5.3.6.2.6 for TSI, CIG alike): 20 octets,
/// the last character of the number first, and the positions the number does not use filled
/// with spaces after it, at the end of the field. Read in the order T.30 writes the number,
/// that is the number right-aligned in 20 places.
pub fn ident_to_fif(s: &str) -> Vec<u8> {
    let mut chars: Vec<u8> = s
        .bytes()
        .filter(|b| (0x20..0x7F).contains(b))
        .take(20)
        .collect();
    chars.reverse();
    chars.resize(20, b' ');
    chars
}

/// An identity as read: reversed back, spaces trimmed at both ends (so a field padded at
/// its end, as T.30 asks, and one padded at its start, as some stations send, read the
/// same); characters outside printable ASCII become '?'.
pub fn ident_from_fif(fif: &[u8]) -> String {
    let s: String = fif
        .iter()
        .rev()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::t30::caps::DataRate;

    #[test]
    fn deconstruct_real_frames() {
        let dis = [0xFF, 0x13, 0x80, 0x00, 0xCE, 0x88, 0x80, 0x80, 0x11];
        let f = Frame::new(&dis).unwrap();
        assert_eq!((f.fcf(), f.is_final(), f.x_bit()), (Fcf::Dis, true, false));
        let FrameRepr::Dis(c) = FrameRepr::parse(&f).unwrap() else {
            panic!()
        };
        assert!(c.receive);
        let dcs = [0xFF, 0x13, 0x83, 0x00, 0x86, 0x88, 0x80, 0x80, 0x00];
        let f = Frame::new(&dcs).unwrap();
        assert_eq!((f.fcf(), f.x_bit()), (Fcf::Dcs, true));
        let r = FrameRepr::parse(&f).unwrap();
        assert_eq!(
            r.to_string(),
            "DCS V.29 9600 bit/s, resolution [Standard], coding [Mr], width A4 (1728 pels), length unlimited, min scan 20 ms, receive"
        );
        let FrameRepr::Dcs(c) = r else { panic!() };
        assert_eq!(c.rate, Some(DataRate::V29_9600));
    }

    #[test]
    fn construct_and_parse_back() {
        let frames = [
            FrameRepr::Ident(Fcf::Tsi, "+1 408 555 7442".into()),
            FrameRepr::Plain(Fcf::Cfr),
            FrameRepr::Plain(Fcf::Mcf),
            FrameRepr::Plain(Fcf::Dcn),
            FrameRepr::Pps {
                fcf2: Some(Fcf::Eop),
                page: 2,
                block: 0,
                frames: 256,
            },
            FrameRepr::Pps {
                fcf2: None,
                page: 0,
                block: 1,
                frames: 17,
            },
            FrameRepr::Eor {
                fcf2: Some(Fcf::Mps),
            },
            FrameRepr::Ppr(Box::new([0x0F; 32])),
            FrameRepr::NonStandard(Fcf::Nsf, vec![0x00, 0x01, 0x02]),
        ];
        for r in frames {
            for x in [false, true] {
                let octets = r.emit(x, true);
                let f = Frame::new(&octets).unwrap();
                assert_eq!(FrameRepr::parse(&f).unwrap(), r, "{r}");
                assert_eq!(f.x_bit(), x && r.fcf().has_x_bit());
            }
        }
        // T.30's identity order: sent last character first, the unused places after it
        // (T.30 §5.3.6.2.4), so the FIF ends in the spaces.
        assert_eq!(ident_to_fif("12")[..], *b"21                  ");
        assert_eq!(ident_to_fif("+49 30 1234567")[..], *b"7654321 03 94+      ");
        assert_eq!(ident_from_fif(b"2447 555 804 1+     "), "+1 408 555 7442");
        // Padded at the wrong end (the field's start), or not at all: read the same.
        assert_eq!(ident_from_fif(b"     2447 555 804 1+"), "+1 408 555 7442");
        assert_eq!(ident_from_fif(b"2447 555 804 1+"), "+1 408 555 7442");
        let twenty = "+1 408 555 7442 0123";
        assert_eq!(ident_from_fif(&ident_to_fif(twenty)), twenty);
    }

    #[test]
    fn impossible_frames() {
        assert_eq!(Frame::new(&[0xFF, 0x13]), Err(FrameError::TooShort(2)));
        assert_eq!(
            Frame::new(&[0xFE, 0x13, 0x80]),
            Err(FrameError::BadAddress(0xFE))
        );
        assert_eq!(
            Frame::new(&[0xFF, 0x12, 0x80]),
            Err(FrameError::BadControl(0x12))
        );
        assert_eq!(
            Frame::new(&[0xFF, 0x13, 0x02]),
            Err(FrameError::UnknownFcf(0x02))
        );
        let f = Frame::new(&[0xFF, 0x13, 0xBE, 0x2E]).unwrap();
        assert!(matches!(
            FrameRepr::parse(&f),
            Err(FrameError::BadLength { fcf: Fcf::Pps, .. })
        ));
        let f = Frame::new(&[0xFF, 0x13, 0x82, 0x00]).unwrap();
        assert!(matches!(
            FrameRepr::parse(&f),
            Err(FrameError::BadCaps { fcf: Fcf::Dcs, .. })
        ));
    }

    #[test]
    fn every_code_is_found_from_its_octet() {
        for f in Fcf::ALL {
            assert_eq!(Fcf::from_octet(f.octet(false)), Some(f), "{f}");
            assert_eq!(Fcf::from_octet(f.octet(true)), Some(f), "{f} with X");
        }
    }
}
