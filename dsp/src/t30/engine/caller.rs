//! The calling station, which sends the document (T.30 §5, the transmitter's side): CNG,
//! wait for DIS (T1), choose DCS (highest common rate, MR when both can), send TSI+DCS and
//! TCF, wait for CFR (T4, three tries), walk down the rate ladder after FTT (V.17 14400 → … →
//! V.27ter 2400), send each page and MPS/EOP, wait for MCF/RTP/RTN (T4, three tries, CRP
//! repeats), DCN. At 9600 and 7200 bit/s V.29 is chosen over V.17 unless configured
//! otherwise. A post-page answer that shows the page was lost or refused (DIS, RTN to MPS
//! or EOP, no answer to three tries) leads back to phase B — DCS and a long-trained TCF, a
//! lower rate — and the page again, up to three times (T.30 §5.3.6.1.8, §5.4.3.1 flow of
//! Figure 5-2b).

use super::super::caps::{Caps, Coding, DataRate, Modulation, Resolution, ScanTime};
use super::super::fcf::Fcf;
use super::super::frame::FrameRepr;
use super::super::outcome::Hangup;
use super::{Action, Engine, Event, MAX_TRIES, Sending, State, Timer};

impl Engine {
    pub(super) fn caller_frame(&mut self, repr: FrameRepr, last: bool) {
        let fcf = repr.fcf();
        match (self.state, repr) {
            (_, FrameRepr::Ident(Fcf::Csi, id)) => self.remote_ident = Some(id),
            (_, FrameRepr::NonStandard(..)) => {}
            (State::WaitDis | State::WaitCfr, FrameRepr::Dis(caps)) if last => {
                self.dis_seen += 1;
                self.timers.stop(Timer::T1);
                if self.dis_seen > MAX_TRIES {
                    return self.fail(Hangup::Incompatible, true);
                }
                if !caps.receive {
                    self.remote_dis = Some(caps);
                    return self.fail(Hangup::RemoteCannotReceive, true);
                }
                let first = self.remote_dis.is_none();
                self.remote_dis = Some(caps);
                if first || self.rate.is_none() {
                    self.rate = self.best_rate();
                }
                if self.rate.is_none() {
                    return self.fail(Hangup::Incompatible, true);
                }
                self.tries = 0;
                self.send_dcs_and_tcf();
            }
            (State::WaitDis, FrameRepr::Plain(Fcf::Dcn)) => self.fail(Hangup::TxGotDcn, false),
            (State::WaitCfr, FrameRepr::Plain(Fcf::Cfr)) => {
                self.timers.stop(Timer::T4);
                self.tries = 0;
                self.recovering = None;
                if self.dcs.as_ref().is_some_and(|d| d.ecm) {
                    if self.ecm_page_in_hand() {
                        // After FTT/CTC-style retraining mid-page: carry on with the block.
                        self.ecm_send_burst();
                    } else {
                        self.ecm_start_page();
                    }
                } else {
                    self.send_page();
                }
            }
            (State::WaitCfr, FrameRepr::Plain(Fcf::Ftt)) => {
                self.timers.stop(Timer::T4);
                match self.rate.and_then(|r| self.next_rate_below(r)) {
                    Some(r) => {
                        self.rate = Some(r);
                        self.tries = 0;
                        self.send_dcs_and_tcf();
                    }
                    None => self.fail(Hangup::CannotTrain, true),
                }
            }
            (State::WaitCfr, FrameRepr::Plain(Fcf::Dcn)) => {
                // Released during a retrain after a refused or lost page: that page's code.
                let h = self.recovering.unwrap_or(Hangup::TxRspDcn);
                self.fail(h, false)
            }
            (State::WaitCfr, FrameRepr::Plain(Fcf::Crp)) => self.send_dcs_and_tcf(),
            (State::WaitCfr, _) => self.fail(Hangup::TxInvalidResponse, true),
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Mcf | Fcf::Rtp)) => {
                self.timers.stop(Timer::T4);
                self.confirm_page();
                self.page_retries = 0;
                if self.post_cmd == Fcf::Eop {
                    self.release(Hangup::Normal);
                } else if fcf == Fcf::Rtp {
                    // Retrain before the next page.
                    self.tries = 0;
                    self.send_dcs_and_tcf();
                } else {
                    self.send_page();
                }
            }
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Rtn)) => {
                // The page was not good enough (T.30 §5.3.6.2.6, Figure 5-2): retrain one
                // rate lower (DCS, TCF) and send it again — after EOP too, as after MPS —
                // up to three times. A receiver that will not take a retrain after RTN to
                // EOP answers the DCS with DCN: the call ends with 50, as it would have.
                self.timers.stop(Timer::T4);
                self.events.push_back(Event::PageRefused(self.page));
                self.page_retries += 1;
                if self.page_retries > MAX_TRIES {
                    return self.fail(Hangup::TxPhaseD, true);
                }
                if let Some(r) = self.rate.and_then(|r| self.next_rate_below(r)) {
                    self.rate = Some(r);
                }
                self.recovering = Some(Hangup::TxPhaseD);
                self.tries = 0;
                self.send_dcs_and_tcf();
            }
            (State::WaitPostPageResponse, FrameRepr::Dis(caps)) if last => {
                // The receiver is back in phase B: it did not get the page.
                self.timers.stop(Timer::T4);
                if caps.receive {
                    self.remote_dis = Some(caps);
                }
                self.page_lost(Hangup::invalid_response_to(self.post_cmd));
            }
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Crp)) => self.send_post_cmd(),
            (State::WaitPostPageResponse, FrameRepr::Plain(Fcf::Dcn)) => {
                self.fail(Hangup::TxGotDcnPhaseD, false)
            }
            (State::WaitPostPageResponse, _) => {
                self.fail(Hangup::invalid_response_to(self.post_cmd), true)
            }
            (
                State::WaitPpsResponse | State::WaitRrResponse | State::WaitCtr | State::WaitErr,
                repr,
            ) => self.ecm_response(repr),
            // Anything else, frames before DIS among them, is only noted (code 23 at T1).
            _ => {}
        }
    }

    /// The caller's timer `t` expired.
    pub(super) fn caller_timeout(&mut self, t: Timer) {
        match (t, self.state) {
            (Timer::T4, State::WaitCfr) => self.send_dcs_and_tcf(),
            (Timer::T4, State::WaitPostPageResponse) => self.send_post_cmd(),
            (Timer::T4, State::WaitPpsResponse) => self.ecm_send_pps(),
            (Timer::T4, State::WaitCtr) => self.ecm_send_ctc(),
            (Timer::T4, State::WaitErr) => self.ecm_send_eor(),
            (Timer::T4, State::WaitRrResponse) => self.ecm_send_rr(),
            (Timer::T5, _) => self.fail(Hangup::TxPhaseD, true),
            _ => {}
        }
    }

    /// The receiver did not get the page (`hangup` is what its answer would have ended the
    /// call with before): back to phase B, one rate lower — from V.17 straight to V.29,
    /// whose long training does not depend on the short retrain — and the page again.
    pub(super) fn page_lost(&mut self, hangup: Hangup) {
        self.page_retries += 1;
        if self.page_retries > MAX_TRIES {
            return self.fail(hangup, true);
        }
        let below = self.rate.and_then(|r| {
            let v29 = [DataRate::V29_9600, DataRate::V29_7200]
                .into_iter()
                .find(|v| v.bps <= r.bps && self.remote_offers(*v));
            match v29 {
                Some(v) if r.modulation == Modulation::V17 => Some(v),
                _ => self.next_rate_below(r),
            }
        });
        if let Some(r) = below {
            self.rate = Some(r);
        }
        self.recovering = Some(hangup);
        self.tries = 0;
        self.send_dcs_and_tcf();
    }

    fn best_rate(&self) -> Option<DataRate> {
        self.remote_dis.as_ref()?;
        let top = self.preferred(self.config.max_rate);
        if self.remote_offers(top) {
            Some(top)
        } else {
            self.next_rate_below(top)
        }
    }

    /// V.29 for V.17 at 9600 and 7200 bit/s when the far end offers V.29 and V.17 is not
    /// asked for ([`super::Config::prefer_v17`]).
    fn preferred(&self, r: DataRate) -> DataRate {
        let v29 = match r {
            DataRate::V17_9600 => DataRate::V29_9600,
            DataRate::V17_7200 => DataRate::V29_7200,
            _ => return r,
        };
        if !self.config.prefer_v17 && self.remote_offers(v29) {
            v29
        } else {
            r
        }
    }

    /// Whether the far end's DIS offers `rate`.
    fn remote_offers(&self, rate: DataRate) -> bool {
        self.remote_dis.as_ref().is_some_and(|dis| {
            dis.modulations.contains(&rate.modulation)
                && (rate != DataRate::V27TER_4800 || dis.v27ter_4800)
        })
    }

    /// The next rate below `r` on the fallback ladder that the far end offers.
    pub(super) fn next_rate_below(&self, r: DataRate) -> Option<DataRate> {
        self.remote_dis.as_ref()?;
        std::iter::successors(r.fallback(), |rate| rate.fallback())
            .map(|rate| self.preferred(rate))
            .find(|rate| rate.bps < r.bps && self.remote_offers(*rate))
    }

    pub(super) fn build_dcs(&self) -> Caps {
        let dis = self.remote_dis.as_ref().expect("DIS before DCS");
        let doc = self.doc.expect("caller has a document");
        let ecm = self.config.ecm && dis.ecm;
        let both = |c: Coding| self.config.codings.contains(&c) && dis.codings.contains(&c);
        let coding = if ecm && both(Coding::Mmr) {
            Coding::Mmr
        } else if both(Coding::Mr) {
            Coding::Mr
        } else {
            Coding::Mh
        };
        // The document's resolution if the receiver takes it, else standard (the terminal
        // drops rows to fit).
        let resolution = if dis.resolutions.contains(&doc.resolution) {
            doc.resolution
        } else {
            Resolution::Standard
        };
        let width = doc.width.min(dis.width);
        let scan = match resolution {
            Resolution::Standard => dis.scan_time.normal_ms,
            _ => dis.scan_time.fine_ms,
        };
        Caps {
            polling: false,
            receive: true,
            modulations: Vec::new(),
            v27ter_4800: false,
            rate: self.rate,
            resolutions: vec![resolution],
            codings: vec![coding],
            width,
            length: dis.length,
            scan_time: ScanTime {
                normal_ms: scan,
                fine_ms: scan,
            },
            uncompressed: false,
            ecm,
            ecm_64: false,
            inch_based: false,
            metric_based: false,
        }
    }

    fn send_dcs_and_tcf(&mut self) {
        if !self.next_try() {
            let h = self.recovering.unwrap_or(Hangup::DcsNoResponse);
            return self.fail(h, true);
        }
        let dcs = self.build_dcs();
        self.events.push_back(Event::Negotiated(dcs.clone()));
        self.dcs = Some(dcs.clone());
        let mut frames = Vec::new();
        if !self.config.ident.is_empty() {
            frames.push(FrameRepr::Ident(Fcf::Tsi, self.config.ident.clone()));
        }
        frames.push(FrameRepr::Dcs(dcs));
        self.send_frames(frames);
        self.push(Action::SendTcf {
            rate: self.rate.expect("a rate"),
        });
        self.in_flight.push_back(Sending::Tcf);
        self.then(State::WaitCfr);
    }

    /// The post-page command after page `self.page`: MPS, or EOP after the last.
    pub(super) fn post_page_command(&self) -> Fcf {
        let doc = self.doc.expect("caller has a document");
        if self.page + 1 >= doc.pages {
            Fcf::Eop
        } else {
            Fcf::Mps
        }
    }

    fn send_page(&mut self) {
        let dcs = self.dcs.clone().expect("DCS before a page");
        self.push(Action::SendPage {
            index: self.page,
            dcs,
        });
        self.in_flight.push_back(Sending::Page);
        self.post_cmd = self.post_page_command();
        self.tries = 0;
        self.send_post_cmd();
    }

    fn send_post_cmd(&mut self) {
        if !self.next_try() {
            // No answer to three tries: the receiver may have lost the page and wait in
            // phase B; try it there (an absent one leaves DCS unanswered: the same code).
            return self.page_lost(Hangup::no_response_to(self.post_cmd));
        }
        self.send_frames(vec![FrameRepr::Plain(self.post_cmd)]);
        self.then(State::WaitPostPageResponse);
    }
}
