//! The answering station, which receives the document (T.30 §5, the receiver's side): CED,
//! CSI+DIS repeated every T4 until DCS (T1), check TCF, CFR or FTT, receive pages (T2), judge
//! copy quality (bad-row ratio and longest bad run), answer MCF or RTN, wait for DCN.

use super::super::caps::{Caps, Coding, DataRate, Modulation, ScanTime};
use super::super::fcf::Fcf;
use super::super::frame::FrameRepr;
use super::super::outcome::Hangup;
use super::{Action, Engine, Event, State, Timer};

impl Engine {
    pub(super) fn answerer_frame(&mut self, repr: FrameRepr, last: bool) {
        match (self.state, repr) {
            (_, FrameRepr::Ident(Fcf::Tsi, id)) => self.remote_ident = Some(id),
            (_, FrameRepr::NonStandard(..)) => {}
            (
                State::WaitDcs
                | State::ReceivingTcf
                | State::WaitPage
                | State::WaitEcm
                | State::Sending,
                FrameRepr::Dcs(dcs),
            ) if last => {
                self.awaiting_retrain = false;
                self.timers.stop(Timer::T1);
                self.timers.stop(Timer::T4);
                self.timers.stop(Timer::T2);
                let rate = match dcs.rate {
                    Some(rate) if self.acceptable(&dcs) => rate,
                    _ => {
                        // Not something we offered: say DIS again (T.30 §5.3.6.2.2).
                        self.events.push_back(Event::BadFrameIn(
                            "DCS asks for something not offered in DIS".into(),
                        ));
                        return self.send_dis();
                    }
                };
                self.rate = Some(rate);
                self.events.push_back(Event::Negotiated(dcs.clone()));
                self.dcs = Some(dcs);
                self.state = State::ReceivingTcf;
                self.push(Action::ReceiveTcf { rate });
                // If no TCF comes, the caller will repeat DCS; T2 bounds the wait.
                self.start(Timer::T2);
            }
            (
                State::WaitPostPage | State::WaitPage,
                FrameRepr::Plain(
                    cmd
                    @ (Fcf::Mps | Fcf::Eop | Fcf::Eom | Fcf::PriMps | Fcf::PriEop | Fcf::PriEom),
                ),
            ) => {
                self.timers.stop(Timer::T2);
                let cmd = cmd.without_pri();
                if self.state == State::WaitPage {
                    // A repeated command: our response was lost; repeat it.
                    if let Some((c, r)) = self.last_response
                        && c == cmd
                        && !self.page_attempted
                    {
                        return self.respond(cmd, r);
                    }
                    // Else the page did not come through (no carrier, or no training):
                    // a bad page, RTN (T.30 §5.3.6.1.8).
                    self.last_page_ok = false;
                }
                if self.last_page_ok {
                    self.confirm_page();
                    self.respond(cmd, Fcf::Mcf);
                } else {
                    self.events.push_back(Event::PageRefused(self.page));
                    self.page += 1;
                    self.respond(cmd, Fcf::Rtn);
                }
            }
            (State::WaitEcm, repr) if !matches!(repr, FrameRepr::Dcs(_)) => self.ecm_command(repr),
            (State::WaitDcn, FrameRepr::Plain(Fcf::Dcn)) => self.finish(Hangup::Normal),
            (State::WaitDcn, FrameRepr::Plain(Fcf::Eop | Fcf::PriEop)) => {
                self.respond(Fcf::Eop, Fcf::Mcf)
            }
            (State::WaitDcs, FrameRepr::Plain(Fcf::Dcn))
                if matches!(self.last_response, Some((_, Fcf::Rtn))) =>
            {
                // Released after our RTN: the last page was not received well.
                self.finish(Hangup::RxPhaseD)
            }
            (State::WaitDcs | State::ReceivingTcf, FrameRepr::Plain(Fcf::Dcn)) => {
                self.finish(Hangup::RxGotDcn)
            }
            (State::WaitPage | State::WaitEcm, FrameRepr::Plain(Fcf::Dcn)) => {
                self.finish(Hangup::RxPhaseC)
            }
            (State::WaitPostPage, FrameRepr::Plain(Fcf::Dcn)) => self.finish(Hangup::RxPhaseD),
            (State::WaitPostPage, _) => self.fail(Hangup::RxInvalidPostPage, true),
            // DIS while waiting for DCS: two answering stations (T.30 §5.3 collision); keep
            // waiting, T1 ends it. Anything else is only noted.
            _ => {}
        }
    }

    /// The answerer's timer `t` expired.
    pub(super) fn answerer_timeout(&mut self, t: Timer) {
        match (t, self.state) {
            (Timer::T2, State::WaitEcm) => {
                let h = if self.ecm_page_begun() {
                    Hangup::RxPhaseC
                } else {
                    Hangup::RxNoPage
                };
                self.fail(h, true)
            }
            (Timer::T4, State::WaitDcs) => self.send_dis(),
            (Timer::T2, State::WaitDcs) => self.fail(Hangup::RxPhaseB, true),
            (Timer::T2, State::ReceivingTcf) => self.enter(State::WaitDcs),
            (Timer::T2, State::WaitPage) => self.fail(Hangup::RxNoPage, true),
            (Timer::T2, State::WaitPostPage) => self.fail(Hangup::RxPhaseD, true),
            // No DCN after MCF to EOP: the message is complete anyway.
            (Timer::T2, State::WaitDcn) => self.finish(Hangup::Normal),
            _ => {}
        }
    }

    pub(super) fn our_dis(&self) -> Caps {
        let c = &self.config;
        let mods: Vec<Modulation> = [Modulation::V27ter, Modulation::V29, Modulation::V17]
            .into_iter()
            .filter(|m| *m <= c.max_rate.modulation || *m == Modulation::V27ter)
            .collect();
        Caps {
            polling: false,
            receive: true,
            v27ter_4800: c.max_rate != DataRate::V27TER_2400,
            modulations: mods,
            rate: None,
            resolutions: c.resolutions.clone(),
            codings: c
                .codings
                .iter()
                .copied()
                .filter(|x| *x != Coding::Mmr || c.ecm)
                .collect(),
            width: c.width,
            length: 2,
            scan_time: ScanTime {
                normal_ms: c.min_scan_ms,
                fine_ms: c.min_scan_ms,
            },
            uncompressed: false,
            ecm: c.ecm,
            ecm_64: false,
            inch_based: false,
            metric_based: false,
        }
    }

    fn acceptable(&self, dcs: &Caps) -> bool {
        let ours = self.our_dis();
        let Some(rate) = dcs.rate else { return false };
        ours.modulations.contains(&rate.modulation)
            && dcs.codings.iter().all(|c| ours.codings.contains(c))
            && dcs.resolutions.iter().all(|r| ours.resolutions.contains(r))
            && dcs.width <= ours.width
            && (!dcs.ecm || ours.ecm)
            && (dcs.ecm || !dcs.codings.contains(&Coding::Mmr))
    }

    pub(super) fn send_dis(&mut self) {
        self.awaiting_retrain = false;
        let mut frames = Vec::new();
        if !self.config.ident.is_empty() {
            frames.push(FrameRepr::Ident(Fcf::Csi, self.config.ident.clone()));
        }
        frames.push(FrameRepr::Dis(self.our_dis()));
        self.send_frames(frames);
        self.then(State::WaitDcs);
    }

    pub(super) fn tcf(&mut self, ok: bool) {
        if self.state != State::ReceivingTcf {
            return;
        }
        self.timers.stop(Timer::T2);
        if ok {
            self.send_frames(vec![FrameRepr::Plain(Fcf::Cfr)]);
            if self.dcs.as_ref().is_some_and(|d| d.ecm) {
                self.ecm.rx_reset_block();
                self.then(State::WaitEcm);
            } else {
                self.then(State::WaitPage);
            }
        } else {
            self.send_frames(vec![FrameRepr::Plain(Fcf::Ftt)]);
            self.awaiting_retrain = true;
            self.then(State::WaitDcs);
        }
    }

    pub(super) fn page_in(&mut self, rows: u32, bad_rows: u32, max_bad_run: u32) {
        if self.state != State::WaitPage {
            return;
        }
        self.timers.stop(Timer::T2);
        let ratio = if rows == 0 {
            1.0
        } else {
            bad_rows as f32 / rows as f32
        };
        self.last_page_ok = rows > 0
            && ratio <= self.config.max_bad_row_ratio
            && max_bad_run <= self.config.max_bad_run;
        self.enter(State::WaitPostPage);
    }

    fn respond(&mut self, cmd: Fcf, r: Fcf) {
        self.last_response = Some((cmd, r));
        self.send_frames(vec![FrameRepr::Plain(r)]);
        let next = match (cmd, r) {
            (Fcf::Eop, Fcf::Mcf) => State::WaitDcn,
            (Fcf::Mps, Fcf::Mcf) => State::WaitPage,
            (Fcf::Eom, Fcf::Mcf) => {
                // Back to phase B: a new DIS after the response.
                self.send_dis();
                return;
            }
            // After RTN the caller retrains (DCS and TCF come again) or releases.
            _ => {
                self.awaiting_retrain = true;
                State::WaitDcs
            }
        };
        self.then(next);
    }
}
