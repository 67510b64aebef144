//! The calling station, which sends the document (T.30 §5, the transmitter's side): CNG,
//! wait for DIS (T1), choose DCS (highest common rate, MR when both can), send TSI+DCS and
//! TCF, wait for CFR (T4, three tries), walk down the rate ladder after FTT (V.17 14400 → … →
//! V.27ter 2400), send each page and MPS/EOP, wait for MCF/RTP/RTN (T4, three tries, CRP
//! repeats), DCN.

use super::super::caps::{Caps, Coding, DataRate, Resolution, ScanTime};
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
            (State::WaitCfr, FrameRepr::Plain(Fcf::Dcn)) => self.fail(Hangup::TxRspDcn, false),
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
                self.timers.stop(Timer::T4);
                self.events.push_back(Event::PageRefused(self.page));
                if self.post_cmd == Fcf::Eop {
                    // T.30 lets the sender retrain and try again, but a receiver that
                    // answered EOP with RTN may only wait for DCN (spandsp's does, and takes
                    // a DCS then as an unexpected message): release, the last page refused.
                    return self.fail(Hangup::TxPhaseD, true);
                }
                self.page_retries += 1;
                if self.page_retries > MAX_TRIES {
                    return self.fail(Hangup::TxPhaseD, true);
                }
                // Retrain one step lower and send the page again.
                if let Some(r) = self.rate.and_then(|r| self.next_rate_below(r)) {
                    self.rate = Some(r);
                }
                self.tries = 0;
                self.send_dcs_and_tcf();
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

    fn best_rate(&self) -> Option<DataRate> {
        self.remote_dis.as_ref()?;
        let top = self.config.max_rate;
        if self.remote_offers(top) {
            Some(top)
        } else {
            self.next_rate_below(top)
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
            .find(|rate| self.remote_offers(*rate))
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
            return self.fail(Hangup::DcsNoResponse, true);
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
            return self.fail(Hangup::no_response_to(self.post_cmd), true);
        }
        self.send_frames(vec![FrameRepr::Plain(self.post_cmd)]);
        self.then(State::WaitPostPageResponse);
    }
}
