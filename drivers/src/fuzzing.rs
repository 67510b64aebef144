//! Bodies of the cargo-fuzz targets for the driver crate's parsers (fuzz/fuzz_targets/
//! `q921_frame.rs`, `q931_message.rs`, `impair_spec.rs`), shared with `tests/fuzz_corpus.rs`, which replays
//! the committed corpora on the stable toolchain. Each body panics only on a real bug.

use crate::isdn::q921::{Control, Frame, Link, Side};
use crate::isdn::q931::{Calls, Message, Setup};

/// Q.921: the frame codec round-trips what it accepts, and a user-side link driven by the
/// input (frames, timer ticks, layer-3 messages) only ever sends frames it can parse, with
/// bounded queues.
pub fn q921_frame(data: &[u8]) {
    if let Ok(f) = Frame::parse(data) {
        let b = Frame::build(f.sapi, f.cr, f.tei, f.control, f.info);
        let g = Frame::parse(&b).expect("a built frame parses");
        assert_eq!(g.control, f.control);
        assert_eq!(g.info, f.info);
        if !matches!(
            f.control,
            Control::I { .. } | Control::Ui { .. } | Control::Frmr { .. } | Control::Xid { .. }
        ) {
            assert_eq!(b, data, "S/U frames round-trip byte for byte");
        }
    }
    let mut link = Link::new(if data.first().is_some_and(|b| b & 1 == 1) {
        Side::Network
    } else {
        Side::User
    });
    let mut now = 0u64;
    let mut rest = data;
    let mut sent = 0usize;
    link.establish(now);
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 4 {
            0 | 1 => {
                let n = (op as usize / 4).min(rest.len());
                let (frame, tail) = rest.split_at(n);
                rest = tail;
                // Make most frames addressed to SAPI 0, TEI 0 so they reach the state machine.
                let mut f = frame.to_vec();
                if op % 4 == 0 && f.len() >= 2 {
                    f[0] &= 0x02;
                    f[1] = 0x01;
                }
                link.handle_frame(now, &f);
            }
            2 => {
                now += (op as u64) * 50;
                link.handle_timeout(now);
            }
            _ => link.send_data(now, vec![op; (op as usize) % 40]),
        }
        while let Some(f) = link.poll_transmit() {
            Frame::parse(&f).expect("the link sends frames it can parse");
            sent += 1;
        }
        while link.poll_event().is_some() {}
        assert!(sent <= 64 * (data.len() + 1), "frame storm");
    }
}

/// Q.931: the message parser never panics, and the call state machine (with one outgoing
/// call in progress) answers any message with messages it can parse.
pub fn q931_message(data: &[u8]) {
    if let Ok(m) = Message::parse(data) {
        let _ = (m.cause(), m.channel(), m.number(0x70), m.number(0x6C));
    }
    let mut calls = Calls::new();
    let id = calls.setup(
        0,
        &Setup {
            called: "123",
            calling: None,
            channel: Some(1),
            exclusive: true,
            alaw: false,
            sending_complete: false,
        },
    );
    // The input as several messages: each prefixed with its length.
    let mut rest = data;
    let mut now = 0;
    while let Some((&n, tail)) = rest.split_first() {
        let n = (n as usize).min(tail.len());
        let (m, tail) = tail.split_at(n);
        rest = tail;
        let mut m = m.to_vec();
        // Steer half the messages to the call in progress.
        if n >= 5 && m[0] == 0x08 && m[1] == 2 && m[4] & 0x80 != 0 {
            m[2] = 0x80;
            m[3] = id.cr as u8;
        }
        calls.handle_message(now, &m);
        now += 1000;
        calls.handle_timeout(now);
        while let Some(out) = calls.poll_transmit() {
            Message::parse(&out).expect("we send messages we can parse");
        }
        while calls.poll_event().is_some() {}
    }
    calls.hangup(now, id, 16);
    while let Some(out) = calls.poll_transmit() {
        Message::parse(&out).expect("we send messages we can parse");
    }
}

/// `--impair SPEC`: whatever parses prints a canonical form that parses back to the same
/// value, and a call's first blocks go through the stage both ways without a panic.
pub fn impair_spec(data: &[u8]) {
    use crate::impair::{ImpairSpec, Impaired};
    use crate::{BLOCK, Line, LineError};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = text.parse::<ImpairSpec>() else {
        return;
    };
    let again: ImpairSpec = spec.to_string().parse().expect("the canonical form parses");
    assert_eq!(again, spec);
    struct Loud;
    impl Line for Loud {
        fn exchange(
            &mut self,
            tx: &[i16; BLOCK],
            rx: &mut [i16; BLOCK],
        ) -> Result<bool, LineError> {
            rx.copy_from_slice(tx);
            Ok(true)
        }
        fn hangup(&mut self) -> Result<(), LineError> {
            Ok(())
        }
    }
    let mut line = Impaired::new(Loud, &spec);
    let mut rx = [0; BLOCK];
    for k in 0..4 {
        let tx = [if k % 2 == 0 { i16::MAX } else { i16::MIN }; BLOCK];
        line.exchange(&tx, &mut rx).expect("an in-memory line");
    }
    line.hangup().expect("an in-memory line");
}

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_accept_anything_small() {
        for n in 0..300u32 {
            let v: Vec<u8> = (0..(n % 40)).map(|i| (i * 37 + n * 11) as u8).collect();
            super::q921_frame(&v);
            super::q931_message(&v);
        }
    }
}
