//! PRI lines on DAHDI (ITU-T Q.931 call control over Q.921 on the span's D-channel, audio on
//! a B-channel): the D-channel as a [`FrameIo`] (`hardhdlc`/`dchan`: one frame per read or
//! write, two FCS bytes appended on read and expected on write; docs/reference/dahdi.md),
//! [`PriLine`], a connected call on a B-channel in audio mode, and [`PriPort`], the `dahdi:N`
//! line on a clear channel that places or takes that call.

use std::io;
use std::time::{Duration, Instant};

use softfax_dsp::g711::Law;

use super::channel::{Channel, ReadOutcome};
use super::{ChannelSpec, DahdiError, sys};
use crate::isdn::pri::{FrameIo, Placed, Pri, PriError, place_call};
use crate::isdn::q931::{CallEvent, CallId, CallState, Cause, Setup};
use crate::{BLOCK, Line, LineError};

fn dahdi_io(e: DahdiError) -> io::Error {
    io::Error::other(e)
}

impl FrameIo for Channel {
    fn send_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let mut v = frame.to_vec();
        v.extend([0, 0]);
        let n = self.write(&v).map_err(dahdi_io)?;
        if n == v.len() {
            Ok(())
        } else {
            Err(io::Error::other("D-channel: frame not taken whole"))
        }
    }

    fn recv_frame(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        buf.resize(1024, 0);
        loop {
            match self.read(buf).map_err(dahdi_io)? {
                ReadOutcome::Data(n) => {
                    buf.truncate(n.saturating_sub(2));
                    return Ok(true);
                }
                ReadOutcome::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        buf.clear();
                        return Ok(false);
                    }
                    // Short slices: a poll that wakes early costs one more read.
                    let r = self
                        .poll(false, left.min(Duration::from_millis(10)))
                        .map_err(dahdi_io)?;
                    if r.event {
                        // ALARM, BADFCS, ABORT …: counted in the channel's event list.
                        self.drain_events().map_err(dahdi_io)?;
                    }
                }
            }
        }
    }
}

/// A fax call on a PRI: Q.931 on the D-channel, audio on a B-channel.
pub struct PriLine<T: FrameIo> {
    pri: Pri<T>,
    call: CallId,
    bchan: Channel,
    law: Law,
    cause: Option<Cause>,
    ended: bool,
    txbuf: Vec<u8>,
    rxbuf: Vec<u8>,
}

impl<T: FrameIo> PriLine<T> {
    /// Take a connected call: B-channel in audio mode, law of the bearer, block size 160,
    /// echo canceller off, flushed (docs/reference/dahdi.md, "PRI B-channel, per call").
    pub fn new(
        pri: Pri<T>,
        call: CallId,
        mut bchan: Channel,
        alaw: bool,
    ) -> Result<Self, LineError> {
        if bchan.params().sigtype != sys::DAHDI_SIG_CLEAR {
            return Err(DahdiError::WrongSignalling {
                what: bchan.what().to_string(),
                sigtype: bchan.params().sigtype,
                expected: "a clear channel (bchan= in system.conf)",
            }
            .into());
        }
        bchan.set_audio_mode(true)?;
        bchan.set_law(if alaw {
            sys::DAHDI_LAW_ALAW
        } else {
            sys::DAHDI_LAW_MULAW
        })?;
        bchan.set_blocksize(BLOCK)?;
        bchan.echo_canceller_off()?;
        bchan.flush(sys::DAHDI_FLUSH_ALL)?;
        Ok(PriLine {
            pri,
            call,
            bchan,
            law: if alaw { Law::Alaw } else { Law::Ulaw },
            cause: None,
            ended: false,
            txbuf: Vec::with_capacity(BLOCK),
            rxbuf: vec![0; BLOCK],
        })
    }

    /// The session (to clear or inspect after the call).
    pub fn pri(&mut self) -> &mut Pri<T> {
        &mut self.pri
    }

    /// The call's cause once known (with its location).
    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    fn poll_signalling(&mut self) -> Result<(), LineError> {
        let step = self.pri.step(Duration::ZERO).map_err(|e| LineError::Io {
            what: "PRI D-channel".into(),
            source: io::Error::other(e),
        })?;
        match step {
            Some(CallEvent::Disconnected { call, cause }) if call == self.call => {
                self.cause.get_or_insert(cause);
                self.ended = true;
            }
            Some(CallEvent::Released { call, cause }) if call == self.call => {
                self.cause.get_or_insert(cause);
                self.ended = true;
            }
            _ => {}
        }
        Ok(())
    }
}

impl<T: FrameIo> Line for PriLine<T> {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        self.poll_signalling()?;
        if self.ended {
            rx.fill(0);
            return Ok(false);
        }
        self.txbuf.clear();
        self.law.encode(tx, &mut self.txbuf);
        let t = Duration::from_secs(2);
        self.bchan.write_all(&self.txbuf, t)?;
        self.bchan.read_block(&mut self.rxbuf, t, false)?;
        for (o, &c) in rx.iter_mut().zip(&self.rxbuf) {
            *o = self.law.decode_sample(c);
        }
        Ok(true)
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        if self.pri.call_state(self.call) == CallState::Null {
            return Ok(());
        }
        self.pri.hangup(self.call, 16);
        let c = self
            .pri
            .wait_released(self.call, Duration::from_secs(10))
            .map_err(|e| LineError::Io {
                what: "PRI D-channel".into(),
                source: io::Error::other(e),
            })?;
        self.cause.get_or_insert(c);
        self.ended = true;
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        self.cause.map(|c| c.value)
    }
}

/// `dahdi:N` on a PRI B-channel (a clear channel): the D-channel of the same span is opened
/// for the duration of the call (`dchan=M` in the URI, else channel 16 of an E1 span or 24 of
/// a T1 span), Q.921 brought up, and [`Line::dial`] / [`Line::answer`] place or
/// take the call on this B-channel; the fax then runs on its audio.
pub struct PriPort {
    pri: Option<Pri<Channel>>,
    bchan: Option<Channel>,
    line: Option<PriLine<Channel>>,
    /// Q.931 channel number (the B-channel's position in its span).
    chanpos: u8,
    alaw: bool,
    cause: Option<u8>,
    answer_timeout: Duration,
    calling: Option<String>,
    /// The called party number of the SETUP answered (DNIS/DID).
    called: Option<String>,
}

impl PriPort {
    /// Open the D-channel of `bchan`'s span and bring layer 2 up.
    pub fn open(
        root: &std::path::Path,
        bchan: Channel,
        dchan: Option<u32>,
        answer_timeout: Duration,
        calling: Option<String>,
    ) -> Result<PriPort, LineError> {
        let p = *bchan.params();
        let span = bchan.span_health()?;
        if span.in_alarm() {
            return Err(LineError::LineDown(format!(
                "{}: span {} in {} alarm",
                bchan.what(),
                span.spanno,
                span.alarm_names()
            )));
        }
        let first = p.channo - p.chanpos + 1;
        let d = match dchan {
            Some(d) => d,
            // SPANSTAT's totalchans tells E1 (31: D in timeslot 16) from T1 (24: D last).
            None => (first + if span.totalchans >= 31 { 15 } else { 23 }) as u32,
        };
        let mut dc = Channel::open(root, &ChannelSpec::Number(d))?;
        let sig = dc.params().sigtype;
        if sig != sys::DAHDI_SIG_HDLCFCS && sig != sys::DAHDI_SIG_HARDHDLC {
            return Err(DahdiError::WrongSignalling {
                what: dc.what().to_string(),
                sigtype: sig,
                expected: "a D-channel (hardhdlc= or dchan= in system.conf)",
            }
            .into());
        }
        dc.set_bufinfo(sys::DahdiBufferInfo {
            txbufpolicy: sys::DAHDI_POLICY_IMMEDIATE,
            rxbufpolicy: sys::DAHDI_POLICY_IMMEDIATE,
            numbufs: 32,
            bufsize: 1024,
            readbufs: -1,
            writebufs: -1,
        })?;
        let mut pri = Pri::new(dc);
        pri.wait_up(Duration::from_secs(10))
            .map_err(|e| LineError::LineDown(format!("PRI D-channel {d}: {e}")))?;
        Ok(PriPort {
            pri: Some(pri),
            alaw: p.curlaw == sys::DAHDI_LAW_ALAW,
            chanpos: p.chanpos as u8,
            bchan: Some(bchan),
            line: None,
            cause: None,
            answer_timeout,
            calling,
            called: None,
        })
    }

    fn connected(&mut self, call: CallId) -> Result<(), LineError> {
        let (pri, b) = (self.pri.take(), self.bchan.take());
        let (Some(pri), Some(b)) = (pri, b) else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        self.line = Some(PriLine::new(pri, call, b, self.alaw)?);
        Ok(())
    }
}

fn pri_err(e: PriError) -> LineError {
    LineError::Io {
        what: "PRI D-channel".into(),
        source: io::Error::other(e),
    }
}

impl Line for PriPort {
    fn exchange(&mut self, tx: &[i16; BLOCK], rx: &mut [i16; BLOCK]) -> Result<bool, LineError> {
        match self.line.as_mut() {
            Some(l) => l.exchange(tx, rx),
            None => Err(LineError::CallFailed {
                cause: 0,
                reason: "a PRI line needs a call: fax send --dial NUMBER, or fax recv".into(),
            }),
        }
    }

    fn hangup(&mut self) -> Result<(), LineError> {
        if let Some(l) = self.line.as_mut() {
            l.hangup()?;
            self.cause = l.q850_cause();
        }
        Ok(())
    }

    fn q850_cause(&self) -> Option<u8> {
        self.line
            .as_ref()
            .and_then(|l| l.q850_cause())
            .or(self.cause)
    }

    fn dial(&mut self, number: &str) -> Result<(), LineError> {
        let Some(pri) = self.pri.as_mut() else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            self.cause = Some(28);
            return Err(LineError::CallFailed {
                cause: 28,
                reason: format!("'{number}' has no digits"),
            });
        }
        let setup = Setup {
            called: &digits,
            calling: self.calling.as_deref(),
            channel: self.chanpos,
            alaw: self.alaw,
            sending_complete: true,
        };
        let (id, placed) = place_call(pri, &setup, self.answer_timeout).map_err(pri_err)?;
        match placed {
            Placed::Connected { .. } => self.connected(id),
            Placed::Failed(c) => {
                self.cause = Some(c.value);
                Err(LineError::CallFailed {
                    cause: c.value,
                    reason: format!("cleared by the network (location {})", c.location),
                })
            }
        }
    }

    fn called_number(&self) -> Option<String> {
        self.called.clone()
    }

    fn answer(&mut self) -> Result<(), LineError> {
        let chanpos = self.chanpos;
        let timeout = self.answer_timeout;
        let Some(pri) = self.pri.as_mut() else {
            return Err(LineError::CallFailed {
                cause: 31,
                reason: "the PRI port was already used for a call".into(),
            });
        };
        let end = Instant::now() + timeout;
        let mut ours = None;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LineError::CallFailed {
                    cause: 0,
                    reason: format!("no incoming call within {timeout:?}"),
                });
            }
            match pri.step(left).map_err(pri_err)? {
                Some(CallEvent::Incoming {
                    call,
                    channel,
                    called,
                    ..
                }) => {
                    if channel.is_none_or(|c| c == chanpos) && ours.is_none() {
                        ours = Some(call);
                        self.called = called;
                        pri.answer(call);
                    } else {
                        // Not for this B-channel: channel unacceptable.
                        pri.hangup(call, 6);
                    }
                }
                Some(CallEvent::Connected { call }) if Some(call) == ours => {
                    return self.connected(call);
                }
                Some(CallEvent::Released { call, cause }) if Some(call) == ours => {
                    self.cause = Some(cause.value);
                    return Err(LineError::CallFailed {
                        cause: cause.value,
                        reason: "the caller cleared before the call was connected".into(),
                    });
                }
                _ => {}
            }
        }
    }
}
