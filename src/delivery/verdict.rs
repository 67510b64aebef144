//! What a finished call means to the client: the reply code, enhanced status code
//! (RFC 3463) and text, with the accounting causes (docs/contracts/smtp.md; Class 2 hangup
//! codes: docs/reference/t30-hangup-codes.md; Q.850 causes: docs/reference/q850-causes.md).

use softfax_dsp::t30::Hangup;
use softfax_dsp::tones::progress::CallProgress;

use crate::accounting::Record;
use crate::call::CallReport;

/// What an outcome means to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: &'static str,
    pub text: String,
    pub code: u16,
    pub esc: &'static str,
    pub abort_cause: u8,
    pub t30: u8,
    pub q850: u8,
}

impl Verdict {
    /// A job that ended before or without a fax call (T.30 code 0).
    pub fn without_call(
        status: &'static str,
        text: impl Into<String>,
        (code, esc): (u16, &'static str),
        abort_cause: u8,
        q850: u8,
    ) -> Verdict {
        Verdict {
            status,
            text: text.into(),
            code,
            esc,
            abort_cause,
            t30: 0,
            q850,
        }
    }

    /// Write it into an accounting record: status, reply and the three causes.
    pub fn stamp(self, r: &mut Record) {
        r.status = self.status.into();
        r.status_text = self.text;
        r.reply_code = self.code;
        r.enhanced_code = self.esc.into();
        r.abort_cause = self.abort_cause;
        r.t30_error_code = self.t30;
        r.isdn_disconnect_code = self.q850;
    }
}

/// Map a finished call to the reply (the table of docs/contracts/smtp.md).
pub fn classify(report: &CallReport, doc_pages: u32) -> Verdict {
    let h = report.outcome.hangup;
    let q = report.q850;
    let v = |status, text: &str, code, esc, t30| Verdict {
        status,
        text: text.to_string(),
        code,
        esc,
        abort_cause: 1,
        t30,
        q850: q,
    };
    match report.progress {
        Some(CallProgress::Busy) => return v("busy", "Modem busy", 450, "4.3.2", 11),
        Some(CallProgress::Congestion) => {
            return v("congestion", "Network congestion", 451, "4.4.5", 0);
        }
        Some(CallProgress::Sit) => {
            return v("not_in_service", "Number not in service", 550, "5.1.1", 11);
        }
        _ => {}
    }
    let pages = report.outcome.pages;
    if h == Hangup::Normal && pages >= doc_pages {
        return Verdict {
            status: "ok",
            text: "Message delivered to remote fax machine".into(),
            code: 250,
            esc: "2.5.0",
            abort_cause: 0,
            t30: 0,
            q850: q,
        };
    }
    let t30 = h.code();
    if !report.fax_heard {
        // Causes a line with call control reported while dialling (docs/reference/q850-causes.md).
        match q {
            17 => return v("busy", "Modem busy", 450, "4.3.2", 11),
            34 | 42 => return v("congestion", "Network congestion", 451, "4.4.5", 0),
            41 => {
                return v(
                    "temporary_failure",
                    "Temporary network failure",
                    451,
                    "4.4.2",
                    0,
                );
            }
            1 => return v("not_in_service", "Number not in service", 550, "5.1.1", 11),
            22 => return v("number_changed", "Number changed", 550, "5.1.6", 11),
            18 => return v("no_answer", "No answer", 450, "4.4.1", 11),
            _ => {}
        }
        if report.ringback {
            return v("no_answer", "No answer", 450, "4.4.1", 11);
        }
        if matches!(h, Hangup::NoAnswer | Hangup::TxPhaseA | Hangup::NoDis) {
            return v("no_fax_answer", "No fax answer", 450, "4.4.1", 11);
        }
        return v(
            "line_dropped",
            "Line dropped before the fax answered",
            451,
            "4.4.2",
            t30,
        );
    }
    match h {
        Hangup::Normal => v(
            "partial",
            &format!("Partial delivery, {pages} of {doc_pages} pages"),
            451,
            "4.4.2",
            50,
        ),
        Hangup::NoAnswer | Hangup::NoDis => v("no_fax_answer", "No fax answer", 450, "4.4.1", t30),
        Hangup::CannotTrain => v("training_failed", "Training failed", 451, "4.4.2", t30),
        Hangup::RemoteCannotReceive => v(
            "incapable",
            "Remote fax machine cannot receive",
            554,
            "5.3.3",
            t30,
        ),
        Hangup::Incompatible => v(
            "incapable",
            "No common capability with the remote fax machine",
            554,
            "5.3.3",
            t30,
        ),
        _ if pages > 0 => v(
            "partial",
            &format!("Partial delivery, {pages} of {doc_pages} pages"),
            451,
            "4.4.2",
            t30,
        ),
        Hangup::TxPhaseC
        | Hangup::TxPhaseD
        | Hangup::TxGotDcnPhaseD
        | Hangup::NoResponseMps
        | Hangup::NoResponseEop
        | Hangup::NoResponseEom
        | Hangup::InvalidResponseMps
        | Hangup::InvalidResponseEop
        | Hangup::InvalidResponseEom => v(
            "page_failed",
            &format!("Page transfer failed: {}", h.text()),
            451,
            "4.4.2",
            t30,
        ),
        _ => v(
            "handshake_failed",
            &format!("Fax handshake failed: {}", h.text()),
            451,
            "4.4.2",
            t30,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use softfax_dsp::t30::Outcome;

    fn report(h: Hangup, pages: u32, heard: bool, progress: Option<CallProgress>) -> CallReport {
        CallReport {
            outcome: Outcome {
                hangup: h,
                pages,
                rate: None,
                ecm: false,
                coding: None,
                resolution: None,
                remote_ident: None,
            },
            modem_s: 0.0,
            call_s: 59.0,
            transmit_bytes: 0,
            q850: if progress == Some(CallProgress::Busy) {
                17
            } else {
                16
            },
            progress,
            ringback: false,
            fax_heard: heard,
        }
    }

    #[test]
    fn outcome_table() {
        let busy = classify(
            &report(Hangup::NoAnswer, 0, false, Some(CallProgress::Busy)),
            2,
        );
        assert_eq!(
            (
                busy.code,
                busy.esc,
                busy.text.as_str(),
                busy.abort_cause,
                busy.t30,
                busy.q850
            ),
            (450, "4.3.2", "Modem busy", 1, 11, 17)
        );
        let ok = classify(&report(Hangup::Normal, 2, true, None), 2);
        assert_eq!(
            (ok.code, ok.esc, ok.abort_cause, ok.t30),
            (250, "2.5.0", 0, 0)
        );
        let nofax = classify(&report(Hangup::NoAnswer, 0, false, None), 2);
        assert_eq!((nofax.code, nofax.esc, nofax.t30), (450, "4.4.1", 11));
        let train = classify(&report(Hangup::CannotTrain, 0, true, None), 2);
        assert_eq!((train.code, train.esc, train.t30), (451, "4.4.2", 27));
        let part = classify(&report(Hangup::NoResponseEop, 1, true, None), 2);
        assert_eq!(part.text, "Partial delivery, 1 of 2 pages");
        let cap = classify(&report(Hangup::Incompatible, 0, true, None), 2);
        assert_eq!((cap.code, cap.esc, cap.t30), (554, "5.3.3", 26));
        let sit = classify(
            &report(Hangup::NoAnswer, 0, false, Some(CallProgress::Sit)),
            2,
        );
        assert_eq!((sit.code, sit.esc), (550, "5.1.1"));
        let cong = classify(
            &report(Hangup::NoAnswer, 0, false, Some(CallProgress::Congestion)),
            2,
        );
        assert_eq!((cong.code, cong.esc, cong.t30), (451, "4.4.5", 0));
    }
}
