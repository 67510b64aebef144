//! Error correction mode (T.30 Annex A, T.4 Annex A), both sides. The caller asks the
//! terminal for the coded page ([`Action::EncodePage`]), sends it in blocks of up to 256 FCD
//! frames (256 octets each) and three RCP on the image modem, then PPS-NULL/MPS/EOP; PPR's
//! bitmap makes it resend those frames; after four PPRs CTC one rate lower (CTR, long
//! training), or EOR at the lowest rate; RNR is answered with RR within T5. The answerer
//! stores FCD frames by number, answers PPS with MCF or PPR, RR with its last answer, CTC with
//! CTR, EOR with ERR, and hands each complete page over with [`Action::PageReceived`]. MMR is
//! used only with ECM.

use super::super::caps::Caps;
use super::super::fcf::Fcf;
use super::super::frame::{self, FrameRepr};
use super::super::outcome::Hangup;
use super::{Action, Engine, Event, Sending, State, Timer};

/// ECM (T.30 Annex A) state of both sides.
#[derive(Debug, Default)]
pub(super) struct EcmState {
    // Sender.
    /// The coded page being sent, and which page it is.
    data: Vec<u8>,
    page: u32,
    /// Offset in `data` of the current block (partial page), its number in the page.
    block_start: usize,
    block: u32,
    /// The FCD frames of the current block, and which of them still have to go.
    frames: Vec<Vec<u8>>,
    resend: Vec<bool>,
    /// PPRs for this block since the last CTC.
    pprs: u32,
    /// The next burst starts with the long training (after CTC).
    long_train: bool,
    // Receiver.
    /// The frames of the block so far, by frame number.
    rx: Vec<Option<Vec<u8>>>,
    /// Frames in the block, as the first PPS gave it.
    rx_frames: Option<usize>,
    /// Blocks of the page accepted so far, and the block awaited.
    rx_page: Vec<u8>,
    rx_block: u32,
    /// Any FCD seen since the last page.
    rx_any: bool,
    /// The response to the last PPS (MCF or PPR), repeated on RR.
    last_reply: Option<FrameRepr>,
}

impl EcmState {
    pub(super) fn rx_reset_block(&mut self) {
        self.rx = vec![None; 256];
        self.rx_frames = None;
    }
}

/// Octets of image data per FCD frame (T.30 §A.3.1: 256, or 64 when DCS says so).
fn ecm_frame_size(dcs: &Caps) -> usize {
    if dcs.ecm_64 { 64 } else { 256 }
}

/// The FCD frames of a block: address, control, FCD, the frame number, the data padded to
/// the frame size (T.30 §A.3.1, T.4 Annex A).
fn fcd_frames(chunk: &[u8], size: usize) -> Vec<Vec<u8>> {
    // An empty page still sends one (all-fill) frame.
    let chunks: Vec<&[u8]> = if chunk.is_empty() {
        vec![&[]]
    } else {
        chunk.chunks(size).collect()
    };
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut f = Vec::with_capacity(4 + size);
            f.extend_from_slice(&[
                frame::ADDRESS,
                frame::CONTROL_NOT_FINAL,
                Fcf::Fcd as u8,
                i as u8,
            ]);
            f.extend_from_slice(c);
            f.resize(4 + size, 0);
            f
        })
        .collect()
}

/// RCP, sent three times after the FCD frames (T.4 §A.2).
const RCP: [u8; 3] = [frame::ADDRESS, frame::CONTROL_NOT_FINAL, Fcf::Rcp as u8];

impl Engine {
    // ---- ECM sender --------------------------------------------------------------------

    pub(super) fn ecm_start_page(&mut self) {
        let dcs = self.dcs.clone().expect("DCS before a page");
        self.push(Action::EncodePage {
            index: self.page,
            dcs,
        });
        self.state = State::WaitPageData;
    }

    /// Sender: the coded page being sent is the current page's (a retrain mid-page).
    pub(super) fn ecm_page_in_hand(&self) -> bool {
        !self.ecm.data.is_empty() && self.ecm.page == self.page
    }

    pub(super) fn ecm_page_data(&mut self, data: Vec<u8>) {
        self.post_cmd = self.post_page_command();
        self.ecm.data = data;
        self.ecm.page = self.page;
        self.ecm.block_start = 0;
        self.ecm.block = 0;
        self.ecm_next_block();
    }

    fn ecm_block_len(&self) -> usize {
        256 * ecm_frame_size(self.dcs.as_ref().expect("DCS"))
    }

    fn ecm_last_block(&self) -> bool {
        self.ecm.block_start + self.ecm_block_len() >= self.ecm.data.len()
    }

    fn ecm_next_block(&mut self) {
        let size = ecm_frame_size(self.dcs.as_ref().expect("DCS"));
        let end = (self.ecm.block_start + 256 * size).min(self.ecm.data.len());
        let start = self.ecm.block_start.min(end);
        self.ecm.frames = fcd_frames(&self.ecm.data[start..end], size);
        self.ecm.resend = vec![true; self.ecm.frames.len()];
        self.ecm.pprs = 0;
        self.ecm_send_burst();
    }

    pub(super) fn ecm_send_burst(&mut self) {
        let mut frames: Vec<Vec<u8>> = self
            .ecm
            .frames
            .iter()
            .zip(&self.ecm.resend)
            .filter(|(_, r)| **r)
            .map(|(f, _)| f.clone())
            .collect();
        frames.extend(std::iter::repeat_n(RCP.to_vec(), 3));
        let long_train = std::mem::take(&mut self.ecm.long_train);
        self.push(Action::SendEcmFrames {
            rate: self.rate.expect("a rate"),
            frames,
            long_train,
        });
        self.in_flight.push_back(Sending::Page);
        self.tries = 0;
        self.ecm_send_pps();
    }

    fn ecm_fcf2(&self) -> Option<Fcf> {
        self.ecm_last_block().then_some(self.post_cmd)
    }

    pub(super) fn ecm_send_pps(&mut self) {
        if !self.next_try() {
            let h = self
                .ecm_fcf2()
                .map_or(Hangup::TxPhaseD, Hangup::no_response_to);
            return self.fail(h, true);
        }
        self.send_frames(vec![FrameRepr::Pps {
            fcf2: self.ecm_fcf2(),
            page: self.ecm.page as u8,
            block: self.ecm.block as u8,
            frames: self.ecm.frames.len() as u16,
        }]);
        self.then(State::WaitPpsResponse);
    }

    pub(super) fn ecm_send_ctc(&mut self) {
        if !self.next_try() {
            return self.fail(Hangup::TxPhaseD, true);
        }
        // The FIF carries DCS bits 9–16, whose bits 11–14 give the new rate (T.30 §A.4.3.4).
        let mut dcs = self.build_dcs();
        dcs.rate = self.rate;
        let fif = dcs.to_fif(true);
        let octets = vec![
            frame::ADDRESS,
            frame::CONTROL_FINAL,
            Fcf::Ctc.octet(true),
            0,
            fif.get(1).copied().unwrap_or(0),
        ];
        self.events
            .push_back(Event::FrameOut(FrameRepr::Plain(Fcf::Ctc)));
        self.push(Action::SendFrames(vec![octets]));
        self.in_flight.push_back(Sending::Frames);
        self.then(State::WaitCtr);
    }

    pub(super) fn ecm_send_eor(&mut self) {
        if !self.next_try() {
            return self.fail(Hangup::TxPhaseD, true);
        }
        self.send_frames(vec![FrameRepr::Eor {
            fcf2: self.ecm_fcf2(),
        }]);
        self.then(State::WaitErr);
    }

    pub(super) fn ecm_send_rr(&mut self) {
        if !self.next_try() {
            return self.fail(Hangup::TxPhaseD, true);
        }
        self.send_frames(vec![FrameRepr::Plain(Fcf::Rr)]);
        self.then(State::WaitRrResponse);
    }

    /// The block went through (MCF, or ERR after EOR): the next block, page, or the end.
    fn ecm_block_done(&mut self) {
        self.timers.stop(Timer::T4);
        self.timers.stop(Timer::T5);
        if !self.ecm_last_block() {
            self.ecm.block_start += self.ecm_block_len();
            self.ecm.block += 1;
            return self.ecm_next_block();
        }
        self.confirm_page();
        self.ecm.data.clear();
        if self.post_cmd == Fcf::Eop {
            self.release(Hangup::Normal);
        } else {
            self.ecm_start_page();
        }
    }

    pub(super) fn ecm_response(&mut self, repr: FrameRepr) {
        let state = self.state;
        match (state, repr) {
            (
                State::WaitPpsResponse | State::WaitRrResponse,
                FrameRepr::Plain(Fcf::Mcf | Fcf::Rtp),
            ) => self.ecm_block_done(),
            (State::WaitErr, FrameRepr::Plain(Fcf::Err)) => self.ecm_block_done(),
            (State::WaitPpsResponse | State::WaitRrResponse, FrameRepr::Ppr(map)) => {
                self.timers.stop(Timer::T4);
                self.timers.stop(Timer::T5);
                for (i, r) in self.ecm.resend.iter_mut().enumerate() {
                    *r = map[i / 8] >> (i % 8) & 1 != 0;
                }
                self.ecm.pprs += 1;
                self.tries = 0;
                if self.ecm.pprs >= 4 {
                    // Four PPRs for one block: continue to correct, one rate lower when
                    // there is one (CTC), else end the retransmission (EOR).
                    self.ecm.pprs = 0;
                    if let Some(r) = self.rate.and_then(|r| self.next_rate_below(r)) {
                        self.rate = Some(r);
                        if let Some(d) = self.dcs.as_mut() {
                            d.rate = Some(r);
                        }
                        return self.ecm_send_ctc();
                    }
                    return self.ecm_send_eor();
                }
                self.ecm_send_burst();
            }
            (State::WaitCtr, FrameRepr::Plain(Fcf::Ctr)) => {
                self.timers.stop(Timer::T4);
                self.ecm.long_train = true;
                self.ecm_send_burst();
            }
            (
                State::WaitPpsResponse | State::WaitRrResponse | State::WaitErr,
                FrameRepr::Plain(Fcf::Rnr),
            ) => {
                // The receiver is busy: ask again with RR until it is ready, within T5.
                self.timers.stop(Timer::T4);
                if !self.timers.running(Timer::T5) {
                    self.start(Timer::T5);
                }
                self.tries = 0;
                self.ecm_send_rr();
            }
            (State::WaitPpsResponse | State::WaitRrResponse, FrameRepr::Dis(caps)) => {
                // The receiver is back in phase B: the burst never reached it. Retrain
                // (lower, long training) and send the whole block again.
                self.timers.stop(Timer::T4);
                if caps.receive {
                    self.remote_dis = Some(caps);
                }
                self.ecm.resend.iter_mut().for_each(|r| *r = true);
                let h = self
                    .ecm_fcf2()
                    .map_or(Hangup::TxPhaseD, Hangup::invalid_response_to);
                self.page_lost(h);
            }
            (_, FrameRepr::Plain(Fcf::Crp)) => match state {
                State::WaitCtr => self.ecm_send_ctc(),
                State::WaitErr => self.ecm_send_eor(),
                State::WaitRrResponse => self.ecm_send_rr(),
                _ => self.ecm_send_pps(),
            },
            (_, FrameRepr::Plain(Fcf::Dcn)) => self.fail(Hangup::TxGotDcnPhaseD, false),
            _ => {
                let h = self
                    .ecm_fcf2()
                    .map_or(Hangup::TxPhaseD, Hangup::invalid_response_to);
                self.fail(h, true)
            }
        }
    }

    // ---- ECM receiver ------------------------------------------------------------------

    /// An FCD or RCP frame from the image modem.
    /// Receiver: image data of the awaited page has come (frames, or blocks accepted).
    pub(super) fn ecm_page_begun(&self) -> bool {
        self.ecm.rx_any || !self.ecm.rx_page.is_empty()
    }

    pub(super) fn ecm_data_frame(&mut self, octets: &[u8]) {
        if self.state != State::WaitEcm {
            return;
        }
        if octets[2] & 0xFE == Fcf::Rcp as u8 {
            // RCP: the burst is over; the post-message command follows on V.21.
            self.start(Timer::T2);
            return;
        }
        let Some((&n, data)) = octets.get(3..).and_then(|f| f.split_first()) else {
            return;
        };
        if data.is_empty() || data.len() > 256 {
            return;
        }
        if self.ecm.rx.len() < 256 {
            self.ecm.rx_reset_block();
        }
        self.ecm.rx_any = true;
        self.ecm.rx[n as usize] = Some(data.to_vec());
    }

    fn ecm_reply(&mut self, r: FrameRepr) {
        self.ecm.last_reply = Some(r.clone());
        self.send_frames(vec![r]);
    }

    /// Take the block into the page (missing frames, after EOR, as nothing).
    fn ecm_accept_block(&mut self) {
        let n = self.ecm.rx_frames.unwrap_or(0);
        for f in self.ecm.rx.iter_mut().take(n) {
            if let Some(d) = f.take() {
                self.ecm.rx_page.extend_from_slice(&d);
            }
        }
        self.ecm.rx_reset_block();
        self.ecm.rx_block += 1;
    }

    /// The block is in: if the command ends the page, deliver it; respond and go on.
    fn ecm_block_in(&mut self, fcf2: Option<Fcf>, response: FrameRepr) {
        self.ecm_accept_block();
        let Some(cmd) = fcf2 else {
            self.ecm_reply(response);
            return self.then(State::WaitEcm);
        };
        let cmd = cmd.without_pri();
        let data = std::mem::take(&mut self.ecm.rx_page);
        let dcs = self.dcs.clone().expect("DCS before a page");
        self.push(Action::PageReceived { data, dcs });
        self.confirm_page();
        self.ecm.rx_block = 0;
        self.ecm.rx_any = false;
        self.last_response = Some((cmd, Fcf::Mcf));
        self.ecm_reply(response);
        match cmd {
            Fcf::Eop => self.then(State::WaitDcn),
            Fcf::Eom => self.send_dis(),
            _ => self.then(State::WaitEcm),
        }
    }

    pub(super) fn ecm_command(&mut self, repr: FrameRepr) {
        match repr {
            FrameRepr::Pps {
                fcf2,
                page,
                block,
                frames,
            } => {
                self.timers.stop(Timer::T2);
                if page != self.page as u8 || block != self.ecm.rx_block as u8 {
                    // Our MCF to the previous block was lost: the same PPS again.
                    let prev_block =
                        page == self.page as u8 && block == self.ecm.rx_block.wrapping_sub(1) as u8;
                    let prev_page = page == self.page.wrapping_sub(1) as u8;
                    if prev_block || prev_page {
                        self.ecm_reply(FrameRepr::Plain(Fcf::Mcf));
                        return self.then(State::WaitEcm);
                    }
                    return self.fail(Hangup::RxPhaseD, true);
                }
                if self.ecm.rx.len() < 256 {
                    self.ecm.rx_reset_block();
                }
                let n = *self
                    .ecm
                    .rx_frames
                    .get_or_insert(frames.clamp(1, 256) as usize);
                let mut map = [0u8; 32];
                let mut missing = 0;
                for i in 0..n {
                    if self.ecm.rx[i].is_none() {
                        map[i / 8] |= 1 << (i % 8);
                        missing += 1;
                    }
                }
                if missing == 0 {
                    self.ecm_block_in(fcf2, FrameRepr::Plain(Fcf::Mcf));
                } else {
                    self.ecm_reply(FrameRepr::Ppr(Box::new(map)));
                    self.then(State::WaitEcm);
                }
            }
            FrameRepr::Eor { fcf2 } => {
                self.timers.stop(Timer::T2);
                if self.ecm.rx_frames.is_none() {
                    self.ecm.rx_frames = Some(256);
                }
                self.ecm_block_in(fcf2, FrameRepr::Plain(Fcf::Err));
            }
            FrameRepr::Plain(Fcf::Ctc) => {
                // The rate was read by `ecm_ctc` from the raw frame; answer CTR, then the
                // retransmission comes with long training.
                self.timers.stop(Timer::T2);
                self.send_frames(vec![FrameRepr::Plain(Fcf::Ctr)]);
                self.then(State::WaitEcm);
            }
            FrameRepr::Plain(Fcf::Rr) => {
                self.timers.stop(Timer::T2);
                let r = self
                    .ecm
                    .last_reply
                    .clone()
                    .unwrap_or(FrameRepr::Plain(Fcf::Mcf));
                self.send_frames(vec![r]);
                self.then(State::WaitEcm);
            }
            FrameRepr::Plain(Fcf::Crp) => {
                if let Some(r) = self.ecm.last_reply.clone() {
                    self.send_frames(vec![r]);
                    self.then(State::WaitEcm);
                }
            }
            FrameRepr::Plain(Fcf::Dcn) => {
                let h = if self.ecm.rx_any {
                    Hangup::RxPhaseC
                } else {
                    Hangup::RxPhaseD
                };
                self.finish(h)
            }
            FrameRepr::Plain(Fcf::Mps | Fcf::Eop | Fcf::Eom) => {
                // A non-ECM post-page command while in ECM: not valid here.
                self.fail(Hangup::RxInvalidPostPage, true)
            }
            _ => {}
        }
    }

    /// CTC's new rate (its FIF: DCS bits 9–16), read from the raw frame.
    pub(super) fn ecm_ctc(&mut self, octets: &[u8]) {
        let Some(&bits) = octets.get(4) else { return };
        let mut fif = vec![0u8, bits, 0];
        if let Some(d) = self.dcs.as_ref() {
            let mut ours = d.to_fif(true);
            if ours.len() >= 2 {
                ours[1] = bits;
                fif = ours;
            }
        }
        if let Ok(c) = Caps::parse(&fif, true)
            && let Some(r) = c.rate
            && self.our_dis().modulations.contains(&r.modulation)
        {
            self.rate = Some(r);
            if let Some(d) = self.dcs.as_mut() {
                d.rate = Some(r);
            }
        }
    }
}
