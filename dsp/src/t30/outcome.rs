//! How a call ended: the Class 2 hangup status (TIA-592 / T.32, decimal as Class 2 prints
//! it; docs/reference/t30-hangup-codes.md) and the call's facts.

use super::caps::{Coding, DataRate, Resolution};
use super::fcf::Fcf;

/// Why the call ended, as a Class 2 hangup status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hangup {
    /// 0: normal and proper end of connection.
    Normal,
    /// 1: answered, but the caller sent no T.30 within T1.
    RingNoHandshake,
    /// 10: unspecified transmit phase A error.
    TxPhaseA,
    /// 11: no answer (T1 timeout) — no fax heard.
    NoAnswer,
    /// 20: unspecified transmit phase B error (e.g. the line dropped).
    TxPhaseB,
    /// 21: the remote cannot receive or send.
    RemoteCannotReceive,
    /// 22: DCN while waiting for DIS.
    TxGotDcn,
    /// 23: frames, but no DIS.
    NoDis,
    /// 24: RSPREC error / got DCN.
    TxRspDcn,
    /// 25: DCS sent three times without response.
    DcsNoResponse,
    /// 26: DIS received three times; DCS not recognised / no common capability.
    Incompatible,
    /// 27: failure to train at the lowest rate.
    CannotTrain,
    /// 28: invalid response in phase B.
    TxInvalidResponse,
    /// 40: unspecified transmit phase C error.
    TxPhaseC,
    /// 50: unspecified transmit phase D error.
    TxPhaseD,
    /// 51: DCN after a page.
    TxGotDcnPhaseD,
    /// 52 / 54 / 56: no response to MPS / EOP / EOM after three tries.
    NoResponseMps,
    NoResponseEop,
    NoResponseEom,
    /// 53 / 55 / 57: invalid response to MPS / EOP / EOM.
    InvalidResponseMps,
    InvalidResponseEop,
    InvalidResponseEom,
    /// 70: unspecified receive phase B error (T2 expired waiting for DCS, never trained).
    RxPhaseB,
    /// 71: DCN while waiting for DCS.
    RxGotDcn,
    /// 73: T2 expired, expected page not received.
    RxNoPage,
    /// 90: unspecified receive phase C error (carrier lost or DCN during image data).
    RxPhaseC,
    /// 100: unspecified receive phase D error (DCN or T2 in phase D).
    RxPhaseD,
    /// 102: invalid command after a page.
    RxInvalidPostPage,
}

impl Hangup {
    /// The Class 2 code (decimal).
    pub fn code(self) -> u8 {
        use Hangup::*;
        match self {
            Normal => 0,
            RingNoHandshake => 1,
            TxPhaseA => 10,
            NoAnswer => 11,
            TxPhaseB => 20,
            RemoteCannotReceive => 21,
            TxGotDcn => 22,
            NoDis => 23,
            TxRspDcn => 24,
            DcsNoResponse => 25,
            Incompatible => 26,
            CannotTrain => 27,
            TxInvalidResponse => 28,
            TxPhaseC => 40,
            TxPhaseD => 50,
            TxGotDcnPhaseD => 51,
            NoResponseMps => 52,
            InvalidResponseMps => 53,
            NoResponseEop => 54,
            InvalidResponseEop => 55,
            NoResponseEom => 56,
            InvalidResponseEom => 57,
            RxPhaseB => 70,
            RxGotDcn => 71,
            RxNoPage => 73,
            RxPhaseC => 90,
            RxPhaseD => 100,
            RxInvalidPostPage => 102,
        }
    }

    /// The meaning text of the code.
    pub fn text(self) -> &'static str {
        use Hangup::*;
        match self {
            Normal => "Normal and proper end of connection",
            RingNoHandshake => "Ring detect without successful handshake",
            TxPhaseA => "Unspecified phase A error",
            NoAnswer => "No answer (T.30 T1 timeout)",
            TxPhaseB => "Unspecified transmit phase B error",
            RemoteCannotReceive => "Remote cannot receive or send",
            TxGotDcn => "COMREC error in transmit phase B / got DCN",
            NoDis => "COMREC invalid command received / no DIS or DTC",
            TxRspDcn => "RSPREC error / got DCN",
            DcsNoResponse => "DCS sent three times without response",
            Incompatible => "DIS/DTC received 3 times; DCS not recognized",
            CannotTrain => "Failure to train at 2400 bps or +FMINSP (+FMS) value",
            TxInvalidResponse => "RSPREC invalid response received",
            TxPhaseC => "Unspecified transmit phase C error",
            TxPhaseD => "Unspecified transmit phase D error",
            TxGotDcnPhaseD => "RSPREC error / got DCN",
            NoResponseMps => "No response to MPS repeated 3 times",
            InvalidResponseMps => "Invalid response to MPS",
            NoResponseEop => "No response to EOP repeated 3 times",
            InvalidResponseEop => "Invalid response to EOP",
            NoResponseEom => "No response to EOM repeated 3 times",
            InvalidResponseEom => "Invalid response to EOM",
            RxPhaseB => "Unspecified receive phase B error",
            RxGotDcn => "RSPREC error / got DCN",
            RxNoPage => "T.30 T2 timeout, expected page not received",
            RxPhaseC => "Unspecified receive phase C error",
            RxPhaseD => "Unspecified receive phase D error",
            RxInvalidPostPage => "COMREC invalid response received",
        }
    }
}

impl Hangup {
    /// No response to the post-page command `cmd` (MPS, EOP or EOM) after three tries.
    pub(crate) fn no_response_to(cmd: Fcf) -> Hangup {
        match cmd {
            Fcf::Mps => Hangup::NoResponseMps,
            Fcf::Eom => Hangup::NoResponseEom,
            _ => Hangup::NoResponseEop,
        }
    }

    /// An invalid response to the post-page command `cmd` (MPS, EOP or EOM).
    pub(crate) fn invalid_response_to(cmd: Fcf) -> Hangup {
        match cmd {
            Fcf::Mps => Hangup::InvalidResponseMps,
            Fcf::Eom => Hangup::InvalidResponseEom,
            _ => Hangup::InvalidResponseEop,
        }
    }
}

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.text(), self.code())
    }
}

/// The facts of a finished call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub hangup: Hangup,
    /// Pages confirmed (MCF or RTP after the page).
    pub pages: u32,
    /// The last image rate set by DCS.
    pub rate: Option<DataRate>,
    pub ecm: bool,
    pub coding: Option<Coding>,
    pub resolution: Option<Resolution>,
    /// The far end's CSI (when sending) or TSI (when receiving).
    pub remote_ident: Option<String>,
}
