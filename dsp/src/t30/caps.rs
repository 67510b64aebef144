//! The facsimile information field of DIS, DTC and DCS (T.30 §5.3.6.2.1–2, Table 2),
//! bit by bit. Bit n of the field is bit (n−1) mod 8 of octet (n−1)/8 as received (least
//! significant bit first). DIS/DTC state what a station can do ([`Caps`] with sets of
//! options); DCS states the one choice made for the coming message (the same struct, each
//! set holding a single choice). Fields softfax does not use (T.37/T.38, colour, BFT…)
//! are not kept.

/// The modulation of the image data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modulation {
    V27ter,
    V29,
    V17,
}

/// A modulation and bit rate (a DCS choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataRate {
    pub modulation: Modulation,
    pub bps: u32,
}

impl DataRate {
    const fn new(modulation: Modulation, bps: u32) -> DataRate {
        DataRate { modulation, bps }
    }

    pub const V17_14400: DataRate = DataRate::new(Modulation::V17, 14400);
    pub const V17_12000: DataRate = DataRate::new(Modulation::V17, 12000);
    pub const V17_9600: DataRate = DataRate::new(Modulation::V17, 9600);
    pub const V17_7200: DataRate = DataRate::new(Modulation::V17, 7200);
    pub const V29_9600: DataRate = DataRate::new(Modulation::V29, 9600);
    pub const V29_7200: DataRate = DataRate::new(Modulation::V29, 7200);
    pub const V27TER_4800: DataRate = DataRate::new(Modulation::V27ter, 4800);
    pub const V27TER_2400: DataRate = DataRate::new(Modulation::V27ter, 2400);

    /// DCS bits 11–14 (as b11 | b12<<1 | b13<<2 | b14<<3) of each rate.
    const DCS_CODES: [(DataRate, u8); 8] = [
        (DataRate::V27TER_2400, 0b0000),
        (DataRate::V27TER_4800, 0b0010),
        (DataRate::V29_9600, 0b0001),
        (DataRate::V29_7200, 0b0011),
        (DataRate::V17_14400, 0b1000),
        (DataRate::V17_12000, 0b1010),
        (DataRate::V17_9600, 0b1001),
        (DataRate::V17_7200, 0b1011),
    ];

    /// The fallback ladder T.30 walks down after FTT (§5.3.6.2.8 practice): V.17 14400 →
    /// 12000 → 9600 → 7200, then V.29 9600 → 7200, then V.27ter 4800 → 2400.
    pub fn fallback(self) -> Option<DataRate> {
        use DataRate as R;
        match self {
            R::V17_14400 => Some(R::V17_12000),
            R::V17_12000 => Some(R::V17_9600),
            R::V17_9600 => Some(R::V17_7200),
            R::V17_7200 => Some(R::V29_9600),
            R::V29_9600 => Some(R::V29_7200),
            R::V29_7200 => Some(R::V27TER_4800),
            R::V27TER_4800 => Some(R::V27TER_2400),
            _ => None,
        }
    }
}

impl std::fmt::Display for DataRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = match self.modulation {
            Modulation::V27ter => "V.27ter",
            Modulation::V29 => "V.29",
            Modulation::V17 => "V.17",
        };
        write!(f, "{m} {} bit/s", self.bps)
    }
}

/// Vertical resolutions (and the square ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// 8 pels/mm × 3.85 lines/mm (204 × 98 dpi).
    Standard,
    /// 8 × 7.7 (204 × 196 dpi), bit 15.
    Fine,
    /// 8 × 15.4 (204 × 391 dpi), bit 41.
    Superfine,
    /// 300 × 300 pels per 25.4 mm, bit 42.
    R300,
    /// 16 × 15.4 (408 × 391 dpi, "400 × 400"), bit 43.
    R400,
}

/// Recording widths (bits 17–18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Width {
    /// 215 mm, 1728 pels.
    A4,
    /// 255 mm, 2048 pels.
    B4,
    /// 303 mm, 2432 pels.
    A3,
}

impl Width {
    /// Pels per row at 8 pels/mm.
    pub fn pels(self) -> u32 {
        match self {
            Width::A4 => 1728,
            Width::B4 => 2048,
            Width::A3 => 2432,
        }
    }
}

/// One-dimensional, two-dimensional, or T.6 coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    Mh,
    Mr,
    Mmr,
}

/// Minimum scan-line time (bits 21–23), in ms at standard/fine resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScanTime {
    pub normal_ms: u8,
    /// At fine resolution (DIS may ask half of the normal time there).
    pub fine_ms: u8,
}

/// DIS/DTC capabilities, or a DCS choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Bit 9: ready to transmit a document (polling).
    pub polling: bool,
    /// Bit 10: ready to receive (DIS/DTC) / receiver fax operation (DCS).
    pub receive: bool,
    /// DIS/DTC: the modulations offered (bits 11–14); DCS: empty.
    pub modulations: Vec<Modulation>,
    /// DIS/DTC: V.27ter at 4800 as well as 2400.
    pub v27ter_4800: bool,
    /// DCS: the chosen rate (bits 11–14); DIS/DTC: None.
    pub rate: Option<DataRate>,
    /// Resolutions offered (DIS) / the one chosen (DCS, Standard when no bit is set).
    pub resolutions: Vec<Resolution>,
    /// Codings offered (MH always) / the one chosen.
    pub codings: Vec<Coding>,
    /// Widest width offered / the width chosen.
    pub width: Width,
    /// Bits 19–20: 0 = A4 (297 mm), 1 = B4 (364 mm), 2 = unlimited.
    pub length: u8,
    pub scan_time: ScanTime,
    /// Bit 26: uncompressed mode.
    pub uncompressed: bool,
    /// Bit 27: error correction mode.
    pub ecm: bool,
    /// Bit 28 (DCS): 64-octet ECM frames instead of 256.
    pub ecm_64: bool,
    /// Bits 44/45: inch-based / metric-based resolution preferred.
    pub inch_based: bool,
    pub metric_based: bool,
}

/// A field too short or with a value T.30 does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapsError {
    #[error("{what}: the field has {len} octets, at least 3 are needed")]
    TooShort { what: &'static str, len: usize },
    #[error("{what}: bits {bits} hold {value:#06b}, which T.30 does not define")]
    Undefined {
        what: &'static str,
        bits: &'static str,
        value: u8,
    },
}

fn bit(fif: &[u8], n: usize) -> bool {
    fif.get((n - 1) / 8)
        .is_some_and(|o| o >> ((n - 1) % 8) & 1 != 0)
}

fn set(fif: &mut Vec<u8>, n: usize, v: bool) {
    let i = (n - 1) / 8;
    if fif.len() <= i {
        fif.resize(i + 1, 0);
    }
    if v {
        fif[i] |= 1 << ((n - 1) % 8);
    }
}

impl Caps {
    /// Parse a DIS or DTC field (`dcs = false`) or a DCS field (`dcs = true`).
    pub fn parse(fif: &[u8], dcs: bool) -> Result<Caps, CapsError> {
        let what = if dcs { "DCS" } else { "DIS/DTC" };
        if fif.len() < 3 {
            return Err(CapsError::TooShort {
                what,
                len: fif.len(),
            });
        }
        let rate_bits = bit(fif, 11) as u8
            | (bit(fif, 12) as u8) << 1
            | (bit(fif, 13) as u8) << 2
            | (bit(fif, 14) as u8) << 3;
        let (modulations, v27ter_4800, rate) = if dcs {
            let r = DataRate::DCS_CODES
                .iter()
                .find(|(_, c)| *c == rate_bits)
                .map(|(r, _)| *r);
            let r = r.ok_or(CapsError::Undefined {
                what,
                bits: "11-14",
                value: rate_bits,
            })?;
            (Vec::new(), false, Some(r))
        } else {
            // As bits 11..14: 0000 V.27ter fallback (2400 only); 0100 V.27ter; 1000 V.29
            // only; 1100 V.27ter + V.29; 1101 V.27ter + V.29 + V.17. Reserved codes are read
            // bit by bit (b11 V.29, b12 V.27ter, b14 V.17).
            // V.17 is only defined as 1101 (with V.27ter 4800 and V.29): any code with bit 14
            // reads as that.
            let v17 = rate_bits & 8 != 0;
            let mut m = Vec::new();
            if rate_bits & 2 != 0 || rate_bits == 0 || v17 {
                m.push(Modulation::V27ter);
            }
            if rate_bits & 1 != 0 || v17 {
                m.push(Modulation::V29);
            }
            if v17 {
                m.push(Modulation::V17);
            }
            if m.is_empty() {
                // A reserved code naming none of them: V.27ter 2400, the fallback every
                // Group 3 station has.
                m.push(Modulation::V27ter);
            }
            (m, rate_bits & 2 != 0 || v17, None)
        };
        let mut resolutions = vec![Resolution::Standard];
        for (n, r) in [
            (15, Resolution::Fine),
            (41, Resolution::Superfine),
            (42, Resolution::R300),
            (43, Resolution::R400),
        ] {
            if bit(fif, n) {
                resolutions.push(r);
            }
        }
        if dcs && resolutions.len() > 1 {
            resolutions.remove(0);
        }
        let mut codings = vec![Coding::Mh];
        if bit(fif, 16) {
            codings.push(Coding::Mr);
        }
        if bit(fif, 31) {
            codings.push(Coding::Mmr);
        }
        if dcs && codings.len() > 1 {
            codings.remove(0);
        }
        let width = match (bit(fif, 17), bit(fif, 18)) {
            (false, false) => Width::A4,
            (false, true) => Width::B4,
            (true, false) => Width::A3,
            (true, true) if !dcs => Width::A3,
            _ => {
                return Err(CapsError::Undefined {
                    what,
                    bits: "17-18",
                    value: 3,
                });
            }
        };
        let length = match (bit(fif, 19), bit(fif, 20)) {
            (false, false) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (true, true) => {
                return Err(CapsError::Undefined {
                    what,
                    bits: "19-20",
                    value: 3,
                });
            }
        };
        let scan_bits = (bit(fif, 21) as u8) << 2 | (bit(fif, 22) as u8) << 1 | bit(fif, 23) as u8;
        let (normal_ms, fine_ms) = match scan_bits {
            0b000 => (20, 20),
            0b001 => (40, 40),
            0b010 => (10, 10),
            0b100 => (5, 5),
            0b111 => (0, 0),
            0b011 if !dcs => (10, 5),
            0b110 if !dcs => (20, 10),
            0b101 if !dcs => (40, 20),
            v => {
                return Err(CapsError::Undefined {
                    what,
                    bits: "21-23",
                    value: v,
                });
            }
        };
        Ok(Caps {
            polling: bit(fif, 9),
            receive: bit(fif, 10),
            modulations,
            v27ter_4800,
            rate,
            resolutions,
            codings,
            width,
            length,
            scan_time: ScanTime { normal_ms, fine_ms },
            uncompressed: bit(fif, 26),
            ecm: bit(fif, 27),
            ecm_64: dcs && bit(fif, 28),
            inch_based: bit(fif, 44),
            metric_based: bit(fif, 45),
        })
    }

    /// The field as sent: a DIS/DTC (`dcs = false`) or DCS, extended only as far as needed.
    pub fn to_fif(&self, dcs: bool) -> Vec<u8> {
        let mut f = vec![0u8; 3];
        set(&mut f, 9, self.polling);
        set(&mut f, 10, self.receive);
        let rate_bits = if dcs {
            let r = self.rate.unwrap_or(DataRate::V27TER_2400);
            DataRate::DCS_CODES
                .iter()
                .find(|(x, _)| *x == r)
                .map_or(0, |(_, c)| *c)
        } else {
            let v27 = self.modulations.contains(&Modulation::V27ter);
            let v29 = self.modulations.contains(&Modulation::V29);
            let v17 = self.modulations.contains(&Modulation::V17);
            // V.17 is only defined together with V.27ter and V.29 (1101); V.27ter beside
            // V.29 is always 4800 (1100).
            let b12 = v27 && (self.v27ter_4800 || v29 || v17);
            (v29 as u8 | v17 as u8) | (b12 as u8) << 1 | (v17 as u8) << 3
        };
        for (i, n) in (11..=14).enumerate() {
            set(&mut f, n, rate_bits >> i & 1 != 0);
        }
        set(&mut f, 15, self.resolutions.contains(&Resolution::Fine));
        set(&mut f, 16, self.codings.contains(&Coding::Mr));
        let (b17, b18) = match self.width {
            Width::A4 => (false, false),
            Width::B4 => (false, true),
            Width::A3 => (true, false),
        };
        set(&mut f, 17, b17);
        set(&mut f, 18, b18);
        set(&mut f, 19, self.length == 1);
        set(&mut f, 20, self.length == 2);
        let s = self.scan_time;
        let scan_bits = match (s.normal_ms, s.fine_ms) {
            (0, _) => 0b111,
            (5, _) => 0b100,
            (10, 5) if !dcs => 0b011,
            (10, _) => 0b010,
            (20, 10) if !dcs => 0b110,
            (40, 20) if !dcs => 0b101,
            (40, _) => 0b001,
            _ => 0b000,
        };
        set(&mut f, 21, scan_bits & 4 != 0);
        set(&mut f, 22, scan_bits & 2 != 0);
        set(&mut f, 23, scan_bits & 1 != 0);
        let need4 =
            self.uncompressed || self.ecm || self.ecm_64 || self.codings.contains(&Coding::Mmr);
        let need6 = self.inch_based
            || self.metric_based
            || self.resolutions.iter().any(|r| {
                matches!(
                    r,
                    Resolution::Superfine | Resolution::R300 | Resolution::R400
                )
            });
        if need4 || need6 {
            set(&mut f, 24, true);
            set(&mut f, 26, self.uncompressed);
            set(&mut f, 27, self.ecm);
            set(&mut f, 28, dcs && self.ecm_64);
            set(&mut f, 31, self.codings.contains(&Coding::Mmr));
            f.resize(4, 0);
        }
        if need6 {
            set(&mut f, 32, true);
            set(&mut f, 40, true);
            f.resize(6, 0);
            set(
                &mut f,
                41,
                self.resolutions.contains(&Resolution::Superfine),
            );
            set(&mut f, 42, self.resolutions.contains(&Resolution::R300));
            set(&mut f, 43, self.resolutions.contains(&Resolution::R400));
            set(&mut f, 44, self.inch_based);
            set(&mut f, 45, self.metric_based);
        }
        f
    }
}

impl std::fmt::Display for Caps {
    /// The fields spelled out, for protocol traces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(r) = self.rate {
            write!(f, "{r}")?;
        } else {
            let m: Vec<String> = self
                .modulations
                .iter()
                .map(|m| match m {
                    Modulation::V27ter if self.v27ter_4800 => "V.27ter 4800".into(),
                    Modulation::V27ter => "V.27ter 2400".into(),
                    Modulation::V29 => "V.29".into(),
                    Modulation::V17 => "V.17".into(),
                })
                .collect();
            write!(f, "modems {}", m.join("/"))?;
        }
        write!(
            f,
            ", resolution {:?}, coding {:?}, width {:?} ({} pels)",
            self.resolutions,
            self.codings,
            self.width,
            self.width.pels()
        )?;
        write!(
            f,
            ", length {}",
            ["A4", "B4", "unlimited"][self.length.min(2) as usize]
        )?;
        write!(f, ", min scan {} ms", self.scan_time.normal_ms)?;
        if self.scan_time.fine_ms != self.scan_time.normal_ms {
            write!(f, " ({} ms fine)", self.scan_time.fine_ms)?;
        }
        if self.ecm {
            write!(
                f,
                ", ECM{}",
                if self.ecm_64 { " 64-octet frames" } else { "" }
            )?;
        }
        if self.receive {
            write!(f, ", receive")?;
        }
        if self.polling {
            write!(f, ", polling")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DIS and DCS of the real call in vectors/real-fax-audio.
    const REAL_DIS: [u8; 6] = [0x00, 0xCE, 0x88, 0x80, 0x80, 0x11];
    const REAL_DCS: [u8; 6] = [0x00, 0x86, 0x88, 0x80, 0x80, 0x00];

    #[test]
    fn real_dis_reads_as_the_machine_meant() {
        let c = Caps::parse(&REAL_DIS, false).unwrap();
        assert!(c.receive && !c.polling);
        assert_eq!(c.modulations, vec![Modulation::V27ter, Modulation::V29]);
        assert!(c.v27ter_4800);
        assert_eq!(
            c.resolutions,
            vec![
                Resolution::Standard,
                Resolution::Fine,
                Resolution::Superfine
            ]
        );
        assert_eq!(c.codings, vec![Coding::Mh, Coding::Mr]);
        assert_eq!((c.width, c.length), (Width::A4, 2));
        assert_eq!(
            c.scan_time,
            ScanTime {
                normal_ms: 20,
                fine_ms: 20
            }
        );
        assert!(!c.ecm && c.metric_based);
        assert_eq!(
            c.to_string(),
            "modems V.27ter 4800/V.29, resolution [Standard, Fine, Superfine], coding [Mh, Mr], width A4 (1728 pels), length unlimited, min scan 20 ms, receive"
        );
    }

    #[test]
    fn real_dcs_chooses_v29_9600_standard_mr() {
        let c = Caps::parse(&REAL_DCS, true).unwrap();
        assert_eq!(c.rate, Some(DataRate::V29_9600));
        assert_eq!(c.resolutions, vec![Resolution::Standard]);
        assert_eq!(c.codings, vec![Coding::Mr]);
        assert!(c.receive);
        // Our encoding of the same choice: the same bits, without the empty extension octets
        // (the real machine set bit 24 and sent three octets of nothing).
        assert_eq!(c.to_fif(true), vec![0x00, 0x86, 0x08]);
        assert_eq!(Caps::parse(&c.to_fif(true), true).unwrap(), c);
    }

    #[test]
    fn every_dcs_rate_round_trips() {
        let base = Caps::parse(&REAL_DCS, true).unwrap();
        let mut r = Some(DataRate::V17_14400);
        let mut n = 0;
        while let Some(rate) = r {
            let c = Caps {
                rate: Some(rate),
                ecm: true,
                codings: vec![Coding::Mmr],
                resolutions: vec![Resolution::Superfine],
                ..base.clone()
            };
            assert_eq!(Caps::parse(&c.to_fif(true), true).unwrap(), c);
            r = rate.fallback();
            n += 1;
        }
        assert_eq!(n, 8);
    }

    #[test]
    fn dis_round_trips() {
        let c = Caps {
            polling: false,
            receive: true,
            modulations: vec![Modulation::V27ter, Modulation::V29, Modulation::V17],
            v27ter_4800: true,
            rate: None,
            resolutions: vec![
                Resolution::Standard,
                Resolution::Fine,
                Resolution::Superfine,
                Resolution::R300,
            ],
            codings: vec![Coding::Mh, Coding::Mr, Coding::Mmr],
            width: Width::A3,
            length: 2,
            scan_time: ScanTime {
                normal_ms: 10,
                fine_ms: 5,
            },
            uncompressed: false,
            ecm: true,
            ecm_64: false,
            inch_based: false,
            metric_based: true,
        };
        let fif = c.to_fif(false);
        // V.27ter + V.29 + V.17 is 1101 in bits 11..14.
        assert_eq!(fif[1] & 0b0011_1100, 0b0010_1100);
        assert_eq!(Caps::parse(&fif, false).unwrap(), c);
    }

    /// Found by fuzzing: a V.29-only DIS (1000) must not read as offering V.27ter.
    #[test]
    fn v29_only_dis() {
        let c = Caps::parse(&[0x00, 0x84, 0x00], false).unwrap();
        assert_eq!(c.modulations, vec![Modulation::V29]);
        assert_eq!(Caps::parse(&c.to_fif(false), false).unwrap(), c);
        let c = Caps::parse(&[0x00, 0x80, 0x00], false).unwrap();
        assert_eq!(
            (c.modulations.clone(), c.v27ter_4800),
            (vec![Modulation::V27ter], false)
        );
    }

    /// Every value of the first 24 bits (and each extension bit alone) that parses, as DIS
    /// or as DCS, emits a field that parses back to the same meaning.
    #[test]
    fn every_basic_field_round_trips() {
        for dcs in [false, true] {
            for v in 0..=0xFFFFu32 {
                let mut fifs = vec![vec![0x00, v as u8, (v >> 8) as u8]];
                if v & 0x8000 != 0 {
                    for bit in 24..48 {
                        let mut f = vec![0x00, v as u8, (v >> 8) as u8, 0x80, 0x80, 0x00];
                        f[bit / 8] |= 1 << (bit % 8);
                        fifs.push(f);
                    }
                }
                for f in fifs {
                    if let Ok(c) = Caps::parse(&f, dcs) {
                        assert_eq!(
                            Caps::parse(&c.to_fif(dcs), dcs).as_ref(),
                            Ok(&c),
                            "dcs={dcs} {f:02x?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn short_or_undefined_fields_are_errors() {
        assert!(matches!(
            Caps::parse(&[0, 0x86], true),
            Err(CapsError::TooShort { .. })
        ));
        // DCS bits 11..14 = 0100 (b13 alone) is not a rate.
        assert!(matches!(
            Caps::parse(&[0, 0x10, 0], true),
            Err(CapsError::Undefined { bits: "11-14", .. })
        ));
        // Every 3..8-octet DIS/DCS parses or errs, never panics.
        let mut seed = 1u32;
        for len in 0..9 {
            for _ in 0..2000 {
                let f: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (seed >> 16) as u8
                    })
                    .collect();
                let _ = Caps::parse(&f, false);
                let _ = Caps::parse(&f, true);
            }
        }
    }
}
