//! Facsimile control field codes (T.30 §5.3.6, Table 1). Values are the octet as received
//! least significant bit first (the first transmitted bit is bit 0), with the X bit — bit
//! 0 of "X..." codes, which the station that received a valid DIS sets to 1 — cleared.

/// A facsimile control field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Fcf {
    /// Digital identification signal.
    Dis = 0x80,
    /// Called subscriber identification.
    Csi = 0x40,
    /// Non-standard facilities.
    Nsf = 0x20,
    /// Digital transmit command (polling).
    Dtc = 0x81,
    /// Calling subscriber identification.
    Cig = 0x41,
    /// Non-standard facilities command.
    Nsc = 0x21,
    /// Password.
    Pwd = 0xC1,
    /// Selective polling.
    Sep = 0xA1,
    /// Digital command signal.
    Dcs = 0x82,
    /// Transmitting subscriber identification.
    Tsi = 0x42,
    /// Non-standard facilities set-up.
    Nss = 0x22,
    /// Sub-address.
    Sub = 0xC2,
    /// Sender identification.
    Sid = 0xA2,
    /// Continue to correct (ECM).
    Ctc = 0x12,
    /// Confirmation to receive.
    Cfr = 0x84,
    /// Failure to train.
    Ftt = 0x44,
    /// Response for continue to correct (ECM).
    Ctr = 0xC4,
    /// End of message.
    Eom = 0x8E,
    /// Multipage signal.
    Mps = 0x4E,
    /// End of procedure.
    Eop = 0x2E,
    /// Procedure interrupt – end of message.
    PriEom = 0x9E,
    /// Procedure interrupt – multipage signal.
    PriMps = 0x5E,
    /// Procedure interrupt – end of procedure.
    PriEop = 0x3E,
    /// End of selection.
    Eos = 0x1E,
    /// Partial page signal (ECM).
    Pps = 0xBE,
    /// End of retransmission (ECM).
    Eor = 0xCE,
    /// Receiver ready (ECM).
    Rr = 0x6E,
    /// Message confirmation.
    Mcf = 0x8C,
    /// Retrain positive.
    Rtp = 0xCC,
    /// Retrain negative.
    Rtn = 0x4C,
    /// Procedure interrupt positive.
    Pip = 0xAC,
    /// Procedure interrupt negative.
    Pin = 0x2C,
    /// Partial page request (ECM).
    Ppr = 0xBC,
    /// Receive not ready (ECM).
    Rnr = 0xEC,
    /// Response for end of retransmission (ECM).
    Err = 0x1C,
    /// Disconnect.
    Dcn = 0xFA,
    /// Command repeat.
    Crp = 0x1A,
    /// Field not valid.
    Fnv = 0xCA,
    /// Facsimile coded data (ECM Phase C frames).
    Fcd = 0x06,
    /// Return to control for partial page (ECM Phase C).
    Rcp = 0x86,
}

impl Fcf {
    /// Every code, for lookups and tests.
    pub const ALL: [Fcf; 40] = [
        Fcf::Dis,
        Fcf::Csi,
        Fcf::Nsf,
        Fcf::Dtc,
        Fcf::Cig,
        Fcf::Nsc,
        Fcf::Pwd,
        Fcf::Sep,
        Fcf::Dcs,
        Fcf::Tsi,
        Fcf::Nss,
        Fcf::Sub,
        Fcf::Sid,
        Fcf::Ctc,
        Fcf::Cfr,
        Fcf::Ftt,
        Fcf::Ctr,
        Fcf::Eom,
        Fcf::Mps,
        Fcf::Eop,
        Fcf::PriEom,
        Fcf::PriMps,
        Fcf::PriEop,
        Fcf::Eos,
        Fcf::Pps,
        Fcf::Eor,
        Fcf::Rr,
        Fcf::Mcf,
        Fcf::Rtp,
        Fcf::Rtn,
        Fcf::Pip,
        Fcf::Pin,
        Fcf::Ppr,
        Fcf::Rnr,
        Fcf::Err,
        Fcf::Dcn,
        Fcf::Crp,
        Fcf::Fnv,
        Fcf::Fcd,
        Fcf::Rcp,
    ];

    /// The code of a received FCF octet. Codes of the initial identification and of DTC's
    /// group (DIS, CSI, NSF, DTC, CIG, NSC, PWD, SEP) are matched exactly (they have no X
    /// bit); the others with their X bit ignored.
    pub fn from_octet(o: u8) -> Option<Fcf> {
        let exact = Fcf::ALL
            .iter()
            .copied()
            .find(|f| *f as u8 == o && !f.has_x_bit());
        exact.or_else(|| {
            Fcf::ALL
                .iter()
                .copied()
                .find(|f| f.has_x_bit() && *f as u8 == o & 0xFE)
        })
    }

    /// Whether bit 0 of this code is the X bit (set by the station that received DIS).
    pub fn has_x_bit(self) -> bool {
        !matches!(
            self,
            Fcf::Dis | Fcf::Csi | Fcf::Nsf | Fcf::Dtc | Fcf::Cig | Fcf::Nsc | Fcf::Pwd | Fcf::Sep
        )
    }

    /// The octet to send, with the X bit set for the station that received a valid DIS.
    pub fn octet(self, x: bool) -> u8 {
        self as u8 | (x && self.has_x_bit()) as u8
    }

    /// Whether the calling station (the one that sends the document, T.30 §5.3.6.1's
    /// "transmitter") sends this code: its commands, identifications and the two codes both
    /// stations send (DCN, CRP).
    pub fn sent_by_caller(self) -> bool {
        matches!(
            self,
            Fcf::Dcs
                | Fcf::Tsi
                | Fcf::Nss
                | Fcf::Sub
                | Fcf::Sid
                | Fcf::Pwd
                | Fcf::Ctc
                | Fcf::Eom
                | Fcf::Mps
                | Fcf::Eop
                | Fcf::PriEom
                | Fcf::PriMps
                | Fcf::PriEop
                | Fcf::Eos
                | Fcf::Pps
                | Fcf::Eor
                | Fcf::Rr
                | Fcf::Fcd
                | Fcf::Rcp
                | Fcf::Dcn
                | Fcf::Crp
        )
    }

    /// Whether the answering station (the receiver of the document) sends this code: DIS
    /// and its identifications, the responses, and DCN and CRP.
    pub fn sent_by_answerer(self) -> bool {
        matches!(
            self,
            Fcf::Dis
                | Fcf::Csi
                | Fcf::Nsf
                | Fcf::Cfr
                | Fcf::Ftt
                | Fcf::Ctr
                | Fcf::Mcf
                | Fcf::Rtp
                | Fcf::Rtn
                | Fcf::Pip
                | Fcf::Pin
                | Fcf::Ppr
                | Fcf::Rnr
                | Fcf::Err
                | Fcf::Fnv
                | Fcf::Dcn
                | Fcf::Crp
        )
    }

    /// A procedure interrupt command's non-PRI twin (PRI-MPS → MPS …); others unchanged.
    pub fn without_pri(self) -> Fcf {
        match self {
            Fcf::PriMps => Fcf::Mps,
            Fcf::PriEop => Fcf::Eop,
            Fcf::PriEom => Fcf::Eom,
            c => c,
        }
    }

    /// The three-letter name T.30 uses.
    pub fn name(self) -> &'static str {
        match self {
            Fcf::Dis => "DIS",
            Fcf::Csi => "CSI",
            Fcf::Nsf => "NSF",
            Fcf::Dtc => "DTC",
            Fcf::Cig => "CIG",
            Fcf::Nsc => "NSC",
            Fcf::Pwd => "PWD",
            Fcf::Sep => "SEP",
            Fcf::Dcs => "DCS",
            Fcf::Tsi => "TSI",
            Fcf::Nss => "NSS",
            Fcf::Sub => "SUB",
            Fcf::Sid => "SID",
            Fcf::Ctc => "CTC",
            Fcf::Cfr => "CFR",
            Fcf::Ftt => "FTT",
            Fcf::Ctr => "CTR",
            Fcf::Eom => "EOM",
            Fcf::Mps => "MPS",
            Fcf::Eop => "EOP",
            Fcf::PriEom => "PRI-EOM",
            Fcf::PriMps => "PRI-MPS",
            Fcf::PriEop => "PRI-EOP",
            Fcf::Eos => "EOS",
            Fcf::Pps => "PPS",
            Fcf::Eor => "EOR",
            Fcf::Rr => "RR",
            Fcf::Mcf => "MCF",
            Fcf::Rtp => "RTP",
            Fcf::Rtn => "RTN",
            Fcf::Pip => "PIP",
            Fcf::Pin => "PIN",
            Fcf::Ppr => "PPR",
            Fcf::Rnr => "RNR",
            Fcf::Err => "ERR",
            Fcf::Dcn => "DCN",
            Fcf::Crp => "CRP",
            Fcf::Fnv => "FNV",
            Fcf::Fcd => "FCD",
            Fcf::Rcp => "RCP",
        }
    }
}

impl std::fmt::Display for Fcf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
