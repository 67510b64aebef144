//! A real fax call captured on a carrier's SIP trunk (G.711 µ-law RTP, vectors/real-fax-audio):
//! softfax's G.711, V.21 channel 2 receiver and HDLC deframer must find the frames the two
//! fax machines really sent, FCS intact — the answering machine's NSF/CSI/DIS and the
//! calling machine's TSI/DCS — and the CNG/CED tones.

mod common;

use std::collections::BTreeMap;

use common::vectors;
use softfax::dsp::g711::Law;
use softfax::dsp::hdlc::{HdlcEvent, HdlcRx, MAX_T30_FRAME};
use softfax::dsp::modem::v21::V21Rx;
use softfax::dsp::modem::{Receiver, RxEvent, RxSink};
use softfax::dsp::tones::fax::{FaxTone, FaxToneDetector, FaxToneEvent};

/// The RTP payloads of a pcap, by source IPv4 address, in capture order.
fn rtp_streams(pcap: &[u8]) -> BTreeMap<[u8; 4], Vec<u8>> {
    let mut streams: BTreeMap<[u8; 4], Vec<u8>> = BTreeMap::new();
    assert_eq!(&pcap[..4], &[0xD4, 0xC3, 0xB2, 0xA1], "little-endian pcap");
    let mut p = 24;
    while p + 16 <= pcap.len() {
        let incl = u32::from_le_bytes(pcap[p + 8..p + 12].try_into().unwrap()) as usize;
        let pkt = &pcap[p + 16..p + 16 + incl];
        p += 16 + incl;
        // Ethernet → IPv4 → UDP → RTP.
        if pkt.len() < 14 + 20 + 8 + 12 || pkt[12..14] != [0x08, 0x00] {
            continue;
        }
        let ip = &pkt[14..];
        let ihl = (ip[0] & 0x0F) as usize * 4;
        if ip[9] != 17 {
            continue;
        }
        let src: [u8; 4] = ip[12..16].try_into().unwrap();
        let rtp = &ip[ihl + 8..];
        if rtp[0] >> 6 != 2 || rtp[1] & 0x7F != 0 {
            continue; // not RTP PCMU
        }
        let cc = (rtp[0] & 0x0F) as usize;
        let payload = &rtp[12 + 4 * cc..];
        streams.entry(src).or_default().extend_from_slice(payload);
    }
    streams
}

struct Frames {
    hdlc: HdlcRx,
    frames: Vec<Vec<u8>>,
    bad: usize,
}

impl RxSink for Frames {
    fn put_bit(&mut self, bit: bool) {
        match self.hdlc.put_bit(bit) {
            Some(HdlcEvent::Frame(f)) => self.frames.push(f),
            Some(HdlcEvent::Bad { .. }) => self.bad += 1,
            _ => {}
        }
    }
    fn event(&mut self, e: RxEvent) {
        if e == RxEvent::CarrierDown {
            self.hdlc.reset();
        }
    }
}

fn decode(ulaw: &[u8]) -> (Vec<Vec<u8>>, Vec<FaxToneEvent>) {
    let mut pcm = Vec::new();
    Law::Ulaw.decode(ulaw, &mut pcm);
    let mut rx = V21Rx::new();
    let mut sink = Frames {
        hdlc: HdlcRx::new(MAX_T30_FRAME),
        frames: Vec::new(),
        bad: 0,
    };
    let mut tones = FaxToneDetector::new();
    let mut events = Vec::new();
    for chunk in pcm.chunks(160) {
        rx.receive(chunk, &mut sink);
        tones.process(chunk, &mut events);
    }
    (sink.frames, events)
}

fn fcf(frame: &[u8]) -> u8 {
    frame[2] & 0xFE // without the X bit
}

#[test]
fn answering_machine_sends_nsf_csi_dis_and_ced() {
    let pcap = std::fs::read(
        vectors().join("real-fax-audio/asterisk_t38_two_reinvite_CUSTOMER_G711U.pcap"),
    )
    .unwrap();
    let streams = rtp_streams(&pcap);
    let answer = &streams[&[204, 101, 5, 68]];
    let (frames, tones) = decode(answer);
    let fcfs: Vec<u8> = frames.iter().map(|f| fcf(f)).collect();
    // NSF 0x20, CSI 0x40, DIS 0x80 (T.30 Table 2, as received LSB first).
    assert_eq!(fcfs, vec![0x20, 0x40, 0x80], "{frames:02x?}");
    assert_eq!(
        frames[2],
        vec![0xFF, 0x13, 0x80, 0x00, 0xCE, 0x88, 0x80, 0x80, 0x11]
    );
    assert_eq!(frames[0].len(), 40, "NSF: 40 octets");
    assert!(
        String::from_utf8_lossy(&frames[0]).contains("babyTEL"),
        "{:?}",
        String::from_utf8_lossy(&frames[0])
    );
    assert_eq!(frames[1].len(), 3 + 20, "CSI: 20 digits");
    assert!(
        tones.iter().any(|e| matches!(
            e,
            FaxToneEvent::Start {
                tone: FaxTone::Ced,
                ..
            }
        )),
        "{tones:?}"
    );
}

#[test]
fn calling_machine_sends_tsi_dcs_and_cng() {
    let pcap = std::fs::read(
        vectors().join("real-fax-audio/asterisk_t38_two_reinvite_CARRIER_G711U.pcap"),
    )
    .unwrap();
    let streams = rtp_streams(&pcap);
    let call = &streams[&[208, 89, 128, 69]];
    let (frames, tones) = decode(call);
    let fcfs: Vec<u8> = frames.iter().map(|f| fcf(f)).collect();
    // TSI 0x42, DCS 0x82.
    assert_eq!(fcfs, vec![0x42, 0x82], "{frames:02x?}");
    assert_eq!(
        frames[1],
        vec![0xFF, 0x13, 0x83, 0x00, 0x86, 0x88, 0x80, 0x80, 0x00]
    );
    assert!(
        tones.iter().any(|e| matches!(
            e,
            FaxToneEvent::Start {
                tone: FaxTone::Cng,
                ..
            }
        )),
        "{tones:?}"
    );
}
