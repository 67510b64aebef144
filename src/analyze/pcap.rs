//! Captured calls: the RTP streams with G.711 audio in a packet capture, rebuilt as 8 kHz
//! sample streams, one per direction.
//!
//! - Containers (the `pcap-parser` crate): libpcap (both byte orders, micro- and nanosecond
//!   timestamps) and pcapng (draft-ietf-opsawg-pcapng: sections of either byte order,
//!   interfaces with their link type and `if_tsresol`, Enhanced and Simple Packet blocks;
//!   other blocks skipped, a damaged block whose length is sound stepped over).
//! - Link, IP and UDP layers (the `etherparse` crate, lax so a packet cut by the snap
//!   length still counts): Ethernet with up to three 802.1Q/802.1ad VLAN tags, Linux cooked
//!   capture v1 and v2, raw IP, BSD loopback (null); IPv4 and IPv6 with their extension
//!   headers; fragments are skipped.
//! - RTP (RFC 3550 §5.1): version 2, CSRCs, the header extension and padding removed;
//!   payload type 0 (PCMU, G.711 µ-law) and 8 (PCMA, A-law), the static types of RFC 3551
//!   §6. Other UDP traffic (SIP, RTCP, T.38 UDPTL, other payload types) is counted and left.
//! - Streams are told apart by source and destination address and port and SSRC; packets
//!   are ordered by their extended sequence number and placed by RTP timestamp (8 kHz
//!   clock), so a lost packet becomes silence of its length and a duplicate is dropped.
//!   A gap is filled with at most [`MAX_GAP_SAMPLES`] of silence; each stream starts at its
//!   first packet's capture time relative to the capture's first RTP packet.
//!
//! Bad input gets a [`PcapError`], never a panic; memory is bounded by the input size (and
//! the gap limit).
//!
//! **Not supported:** IP fragments (skipped), RTP over TCP, payloads other than G.711
//! (G.722, G.729, T.38 are named in the summary, not decoded), SRTP.
//!
//! **Tested by:** the unit tests below (hand-built captures of each container and link
//! layer, reordering, loss, garbage), `tests/analyze.rs` on the real captured calls in
//! vectors/real-fax-audio, and the `pcap_rtp` fuzz target.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use pcap_parser as pcapf;
use pcap_parser::traits::PcapNGPacketBlock as _;
use softfax_dsp::g711::Law;

/// The largest gap filled with silence, samples (5 s).
pub const MAX_GAP_SAMPLES: u32 = 5 * 8000;
/// The longest stream rebuilt, samples (4 hours).
pub const MAX_STREAM_SAMPLES: usize = 4 * 3600 * 8000;

/// What is wrong with a capture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcapError {
    #[error("not a pcap or pcapng capture (magic {0:02x?})")]
    NotPcap([u8; 4]),
    #[error("capture truncated in its {0} header")]
    TruncatedHeader(&'static str),
    #[error("pcapng block at offset {offset}: {why}")]
    BadBlock { offset: usize, why: &'static str },
    #[error("pcap version {0}.{1} is not 2.x")]
    Version(u16, u16),
}

/// One UDP datagram's RTP packet, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RtpPacket {
    key: StreamKey,
    /// Capture time, ns since the epoch (as the capture states it).
    time_ns: i128,
    seq: u16,
    timestamp: u32,
    law: Law,
    payload: Vec<u8>,
}

/// What tells one RTP stream from another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    pub ssrc: u32,
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ep = |(a, p): (IpAddr, u16)| match a {
            IpAddr::V4(a) => format!("{a}:{p}"),
            IpAddr::V6(a) => format!("[{a}]:{p}"),
        };
        write!(
            f,
            "{} → {} SSRC {:#010x}",
            ep(self.src),
            ep(self.dst),
            self.ssrc
        )
    }
}

/// One direction of a call, rebuilt.
#[derive(Debug, Clone)]
pub struct RtpStream {
    pub key: StreamKey,
    pub law: Law,
    /// Packets used, lost (sequence numbers never seen) and dropped (duplicates, too late).
    pub packets: u64,
    pub lost: u64,
    pub duplicates: u64,
    /// Where the stream starts relative to the capture's first RTP packet, samples.
    pub offset: u64,
    /// 8 kHz linear samples.
    pub samples: Vec<i16>,
}

/// A capture read.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    /// `pcap` or `pcapng`.
    pub format: &'static str,
    /// Packets in the capture.
    pub packets: u64,
    /// UDP datagrams that were not G.711 RTP (SIP, RTCP, T.38, other codecs, …).
    pub other_udp: u64,
    /// Packets of other kinds (TCP, ARP, fragments, unknown link layers).
    pub other: u64,
    /// The capture ended inside a packet record.
    pub truncated: bool,
    /// The G.711 RTP streams, by first appearance.
    pub streams: Vec<RtpStream>,
}

/// Read a capture and rebuild its G.711 RTP streams.
pub fn read(data: &[u8]) -> Result<Capture, PcapError> {
    let mut cap = Capture::default();
    let mut packets = Vec::new();
    let magic: [u8; 4] = data
        .get(..4)
        .and_then(|m| m.try_into().ok())
        .ok_or(PcapError::TruncatedHeader("file"))?;
    match magic {
        [0x0A, 0x0D, 0x0D, 0x0A] => {
            cap.format = "pcapng";
            read_pcapng(data, &mut cap, &mut packets)?;
        }
        _ => {
            cap.format = "pcap";
            read_pcap(data, &mut cap, &mut packets)?;
        }
    }
    cap.streams = assemble(packets);
    Ok(cap)
}

/// True if `data` starts like a capture this module reads.
pub fn sniff(data: &[u8]) -> bool {
    matches!(
        data.get(..4),
        Some([0xD4, 0xC3, 0xB2, 0xA1])
            | Some([0xA1, 0xB2, 0xC3, 0xD4])
            | Some([0x4D, 0x3C, 0xB2, 0xA1])
            | Some([0xA1, 0xB2, 0x3C, 0x4D])
            | Some([0x0A, 0x0D, 0x0D, 0x0A])
    )
}

/// libpcap: one link type and timestamp precision for the file; records until the data ends.
fn read_pcap(data: &[u8], cap: &mut Capture, out: &mut Vec<RtpPacket>) -> Result<(), PcapError> {
    let magic: [u8; 4] = std::array::from_fn(|i| data.get(i).copied().unwrap_or(0));
    if !sniff(data) {
        return Err(PcapError::NotPcap(magic));
    }
    let (mut rest, hdr) =
        pcapf::parse_pcap_header(data).map_err(|_| PcapError::TruncatedHeader("pcap"))?;
    if hdr.version_major != 2 {
        return Err(PcapError::Version(hdr.version_major, hdr.version_minor));
    }
    let frame = if hdr.is_bigendian() {
        pcapf::parse_pcap_frame_be
    } else {
        pcapf::parse_pcap_frame
    };
    // The link type is the low 16 bits (the upper ones carry FCS flags).
    let link = hdr.network.0 as u32 & 0xFFFF;
    let nanos = hdr.is_nanosecond_precision();
    while !rest.is_empty() {
        // A record header or body that runs past the end of the data is the only failure.
        let Ok((next, rec)) = frame(rest) else {
            cap.truncated = true;
            break;
        };
        rest = next;
        cap.packets += 1;
        let frac = rec.ts_usec as i128 * if nanos { 1 } else { 1000 };
        classify(
            link,
            rec.data,
            rec.ts_sec as i128 * 1_000_000_000 + frac,
            cap,
            out,
        );
    }
    Ok(())
}

/// pcapng (draft-ietf-opsawg-pcapng): per section a byte order, per interface a link type
/// and timestamp resolution.
fn read_pcapng(data: &[u8], cap: &mut Capture, out: &mut Vec<RtpPacket>) -> Result<(), PcapError> {
    use pcapf::Block;
    let mut rest = data;
    let mut big_endian = false;
    // Per interface: link type and ticks per second.
    let mut ifaces: Vec<(u32, u64)> = Vec::new();
    while !rest.is_empty() {
        let offset = data.len() - rest.len();
        // A section header is read in either byte order (its magic is a palindrome).
        let parsed = if big_endian {
            pcapf::parse_block_be(rest)
        } else {
            pcapf::parse_block_le(rest)
        };
        let (next, block) = match parsed {
            Ok(b) => b,
            Err(e) if offset == 0 && !e.is_incomplete() => {
                return Err(PcapError::BadBlock {
                    offset,
                    why: "not a section header block (byte-order magic or length wrong)",
                });
            }
            // A damaged block whose length is sound is stepped over; one that runs past the
            // end of the data is where the capture was cut.
            Err(_) => match block_len(rest, big_endian) {
                Some(len) => {
                    cap.other += 1;
                    rest = &rest[len..];
                    continue;
                }
                None => {
                    cap.truncated = true;
                    break;
                }
            },
        };
        rest = next;
        match block {
            Block::SectionHeader(shb) => {
                big_endian = shb.big_endian();
                ifaces.clear();
            }
            Block::InterfaceDescription(idb) => {
                ifaces.push((idb.linktype.0 as u32, ticks_per_second(idb.if_tsresol)));
            }
            Block::EnhancedPacket(epb) => {
                cap.packets += 1;
                let ts = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                let (link, ticks) = ifaces
                    .get(epb.if_id as usize)
                    .copied()
                    .unwrap_or((1, 1_000_000));
                let t = ts as i128 * 1_000_000_000 / ticks as i128;
                classify(link, epb.packet_data(), t, cap, out);
            }
            // Interface 0, no timestamp.
            Block::SimplePacket(spb) => {
                cap.packets += 1;
                let (link, _) = ifaces.first().copied().unwrap_or((1, 1_000_000));
                classify(link, spb.packet_data(), 0, cap, out);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The length of the pcapng block at the start of `d` when it is plausible (a multiple of 4,
/// at least 12, inside the data).
fn block_len(d: &[u8], big_endian: bool) -> Option<usize> {
    let b: [u8; 4] = d.get(4..8)?.try_into().ok()?;
    let len = if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    } as usize;
    (len >= 12 && len.is_multiple_of(4) && len <= d.len()).then_some(len)
}

/// An interface's `if_tsresol`: a power of 10, or of 2 with the top bit set.
fn ticks_per_second(tsresol: u8) -> u64 {
    let exp = (tsresol & 0x7F) as u32;
    let ticks = if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp)
    };
    ticks.unwrap_or(1_000_000).max(1)
}

/// A Linux cooked capture's packet: its protocol (an EtherType) and what follows the header.
fn cooked<'a>(
    proto: Option<&[u8]>,
    payload: Option<&'a [u8]>,
) -> Option<etherparse::LaxSlicedPacket<'a>> {
    let proto = u16::from_be_bytes(proto?.try_into().ok()?);
    let ether_type = etherparse::EtherType(proto);
    Some(etherparse::LaxSlicedPacket::from_ether_type(
        ether_type, payload?,
    ))
}

/// Link layer → IP → UDP (etherparse, lax: a packet cut short by the snap length still
/// gives what it holds) → RTP.
fn classify(link: u32, pkt: &[u8], t: i128, cap: &mut Capture, out: &mut Vec<RtpPacket>) {
    use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
    let sliced = match link {
        // Ethernet, with up to three VLAN tags (802.1Q, 802.1ad).
        1 => LaxSlicedPacket::from_ethernet(pkt).ok(),
        // Linux cooked capture v1 (16-byte header, protocol at 14).
        113 => cooked(pkt.get(14..16), pkt.get(16..)),
        // Linux cooked capture v2 (20 bytes, protocol at 0).
        276 => cooked(pkt.get(0..2), pkt.get(20..)),
        // Raw IP.
        101 | 12 | 14 | 228 | 229 => LaxSlicedPacket::from_ip(pkt).ok(),
        // BSD loopback: a 4-byte address family in host order; the IP version tells.
        0 => pkt
            .get(4..)
            .and_then(|ip| LaxSlicedPacket::from_ip(ip).ok()),
        _ => None,
    };
    let Some(sliced) = sliced else {
        cap.other += 1;
        return;
    };
    let (src, dst): (IpAddr, IpAddr) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        Some(LaxNetSlice::Ipv6(ip)) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        _ => {
            cap.other += 1;
            return;
        }
    };
    // A fragment has no transport layer here.
    let Some(TransportSlice::Udp(udp)) = &sliced.transport else {
        cap.other += 1;
        return;
    };
    match rtp(udp.payload()) {
        Some((seq, timestamp, ssrc, law, payload)) => out.push(RtpPacket {
            key: StreamKey {
                src: (src, udp.source_port()),
                dst: (dst, udp.destination_port()),
                ssrc,
            },
            time_ns: t,
            seq,
            timestamp,
            law,
            payload: payload.to_vec(),
        }),
        None => cap.other_udp += 1,
    }
}

/// RFC 3550 §5.1: sequence number, timestamp, SSRC, law and payload of a G.711 RTP packet.
fn rtp(d: &[u8]) -> Option<(u16, u32, u32, Law, &[u8])> {
    let h = d.get(..12)?;
    if h[0] >> 6 != 2 {
        return None;
    }
    let law = match h[1] & 0x7F {
        0 => Law::Ulaw,
        8 => Law::Alaw,
        _ => return None,
    };
    let seq = u16::from_be_bytes([h[2], h[3]]);
    let ts = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    let ssrc = u32::from_be_bytes([h[8], h[9], h[10], h[11]]);
    let mut start = 12 + 4 * (h[0] & 0x0F) as usize;
    if h[0] & 0x10 != 0 {
        // Header extension: 16-bit profile, 16-bit length in 32-bit words.
        let ext = d.get(start..start + 4)?;
        start += 4 + 4 * u16::from_be_bytes([ext[2], ext[3]]) as usize;
    }
    let mut end = d.len();
    if h[0] & 0x20 != 0 {
        // Padding: the last octet counts the padding octets (itself included).
        let pad = *d.last()? as usize;
        end = end.checked_sub(pad)?;
    }
    if start > end {
        return None;
    }
    Some((seq, ts, ssrc, law, &d[start..end]))
}

/// Group by stream, order by extended sequence number, place by timestamp.
fn assemble(packets: Vec<RtpPacket>) -> Vec<RtpStream> {
    let t0 = packets.iter().map(|p| p.time_ns).min().unwrap_or(0);
    let mut order: Vec<StreamKey> = Vec::new();
    let mut by_key: BTreeMap<StreamKey, Vec<RtpPacket>> = BTreeMap::new();
    for p in packets {
        if !by_key.contains_key(&p.key) {
            order.push(p.key.clone());
        }
        by_key.entry(p.key.clone()).or_default().push(p);
    }
    let mut streams = Vec::new();
    for key in order {
        let Some(pkts) = by_key.remove(&key) else {
            continue;
        };
        streams.push(assemble_one(key, pkts, t0));
    }
    streams
}

fn assemble_one(key: StreamKey, pkts: Vec<RtpPacket>, t0: i128) -> RtpStream {
    let first_time = pkts.first().map_or(t0, |p| p.time_ns);
    let law = pkts.first().map_or(Law::Ulaw, |p| p.law);
    // Extend the 16-bit sequence numbers in arrival order (RFC 3550 A.1's idea: the
    // nearest value to the last extended number).
    let mut ext: Vec<(i64, RtpPacket)> = Vec::with_capacity(pkts.len());
    let mut last: Option<i64> = None;
    for p in pkts {
        let e = match last {
            None => p.seq as i64,
            Some(l) => {
                let d = (p.seq as i64 - l).rem_euclid(65536);
                let d = if d >= 32768 { d - 65536 } else { d };
                l + d
            }
        };
        last = Some(last.map_or(e, |l| l.max(e)));
        ext.push((e, p));
    }
    ext.sort_by_key(|(e, _)| *e);
    let mut s = RtpStream {
        key,
        law,
        packets: 0,
        lost: 0,
        duplicates: 0,
        offset: ((first_time - t0).max(0) / 125_000) as u64,
        samples: Vec::new(),
    };
    let mut prev: Option<(i64, u32, usize)> = None; // seq, timestamp, payload length
    // Silence may at most double the stream (plus one gap): memory stays bounded by the
    // capture's size whatever its timestamps say.
    let payload: usize = ext.iter().map(|(_, p)| p.payload.len()).sum();
    let mut budget = payload + MAX_GAP_SAMPLES as usize;
    let mut pcm = Vec::new();
    for (e, p) in ext {
        if let Some((pe, pts, plen)) = prev {
            if e == pe {
                s.duplicates += 1;
                continue;
            }
            s.lost += (e - pe - 1).max(0) as u64;
            // Silence for what the timestamps say is missing, else for the lost packets.
            let expected = pts.wrapping_add(plen as u32);
            let gap_ts = p.timestamp.wrapping_sub(expected) as i32;
            let gap = if (0..=MAX_GAP_SAMPLES as i32).contains(&gap_ts) {
                gap_ts as usize
            } else {
                ((e - pe - 1).max(0) as usize).saturating_mul(plen)
            }
            .min(MAX_GAP_SAMPLES as usize)
            .min(budget);
            budget -= gap;
            let silence = s.samples.len() + gap;
            s.samples.resize(silence.min(MAX_STREAM_SAMPLES), 0);
        }
        if s.samples.len() + p.payload.len() > MAX_STREAM_SAMPLES {
            break;
        }
        pcm.clear();
        p.law.decode(&p.payload, &mut pcm);
        s.samples.extend_from_slice(&pcm);
        s.packets += 1;
        prev = Some((e, p.timestamp, p.payload.len()));
    }
    s
}

/// The fuzz body (fuzz target `pcap_rtp`): any bytes, no panic, bounded memory.
pub fn fuzz(data: &[u8]) {
    if let Ok(c) = read(data) {
        for s in &c.streams {
            assert!(s.samples.len() <= 2 * data.len() + MAX_GAP_SAMPLES as usize);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Ethernet/IPv4/UDP/RTP frame.
    pub(crate) fn eth_rtp(
        src: [u8; 4],
        sport: u16,
        seq: u16,
        ts: u32,
        pt: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut rtp = vec![0x80, pt];
        rtp.extend(seq.to_be_bytes());
        rtp.extend(ts.to_be_bytes());
        rtp.extend(0x1234_5678u32.to_be_bytes());
        rtp.extend_from_slice(payload);
        let mut udp = Vec::new();
        udp.extend(sport.to_be_bytes());
        udp.extend(5004u16.to_be_bytes());
        udp.extend(((8 + rtp.len()) as u16).to_be_bytes());
        udp.extend([0, 0]);
        udp.extend(rtp);
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
        ip.extend(src);
        ip.extend([10, 0, 0, 2]);
        ip.extend(udp);
        let total = ip.len() as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        let mut eth = vec![0; 12];
        eth.extend([0x08, 0x00]);
        eth.extend(ip);
        eth
    }

    /// A little-endian microsecond pcap of Ethernet frames, 20 ms apart.
    pub(crate) fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut v = vec![0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0];
        v.extend([0; 8]);
        v.extend(65535u32.to_le_bytes());
        v.extend(1u32.to_le_bytes());
        for (i, f) in frames.iter().enumerate() {
            let us = i as u32 * 20_000;
            v.extend((1000 + us / 1_000_000).to_le_bytes());
            v.extend((us % 1_000_000).to_le_bytes());
            v.extend((f.len() as u32).to_le_bytes());
            v.extend((f.len() as u32).to_le_bytes());
            v.extend_from_slice(f);
        }
        v
    }

    fn pcapng(frames: &[Vec<u8>]) -> Vec<u8> {
        let block = |t: u32, body: &[u8]| {
            let len = 12 + body.len().div_ceil(4) * 4;
            let mut b = t.to_le_bytes().to_vec();
            b.extend((len as u32).to_le_bytes());
            b.extend_from_slice(body);
            b.resize(len - 4, 0);
            b.extend((len as u32).to_le_bytes());
            b
        };
        let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
        shb.extend([1, 0, 0, 0]);
        shb.extend(u64::MAX.to_le_bytes());
        let mut v = block(0x0A0D_0D0A, &shb);
        let mut idb = vec![1, 0, 0, 0];
        idb.extend(65535u32.to_le_bytes());
        idb.extend([9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]); // if_tsresol = 10^-9, end
        v.extend(block(1, &idb));
        for (i, f) in frames.iter().enumerate() {
            let ts = 1_000_000_000u64 + i as u64 * 20_000_000;
            let mut epb = 0u32.to_le_bytes().to_vec();
            epb.extend(((ts >> 32) as u32).to_le_bytes());
            epb.extend((ts as u32).to_le_bytes());
            epb.extend((f.len() as u32).to_le_bytes());
            epb.extend((f.len() as u32).to_le_bytes());
            epb.extend_from_slice(f);
            v.extend(block(6, &epb));
        }
        v
    }

    fn payload(k: u8) -> Vec<u8> {
        vec![k; 160]
    }

    /// A pcap of one link type in either byte order, nanosecond timestamps 20 ms apart.
    fn pcap_of(link: u32, big_endian: bool, frames: &[Vec<u8>]) -> Vec<u8> {
        let w = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut v = w(0xA1B2_3C4D).to_vec();
        v.extend(if big_endian {
            [0, 2, 0, 4]
        } else {
            [2, 0, 4, 0]
        });
        v.extend([0; 8]);
        v.extend(w(65535));
        v.extend(w(link));
        for (i, f) in frames.iter().enumerate() {
            v.extend(w(1000));
            v.extend(w(i as u32 * 20_000_000));
            v.extend(w(f.len() as u32));
            v.extend(w(f.len() as u32));
            v.extend_from_slice(f);
        }
        v
    }

    #[test]
    fn every_link_layer_and_ipv6() {
        let a = [10, 0, 0, 1];
        // The IPv4 packets of two RTP packets, cut from their Ethernet frames.
        let ip4: Vec<Vec<u8>> = (0..2u16)
            .map(|k| eth_rtp(a, 4000, k, k as u32 * 160, 8, &payload(0x55))[14..].to_vec())
            .collect();
        // The same as IPv6: the UDP datagram behind a 40-byte header.
        let ip6: Vec<Vec<u8>> = ip4
            .iter()
            .map(|p| {
                let udp = &p[20..];
                let mut v = vec![0x60, 0, 0, 0];
                v.extend((udp.len() as u16).to_be_bytes());
                v.extend([17, 64]);
                v.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[1]));
                v.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[2]));
                v.extend_from_slice(udp);
                v
            })
            .collect();
        let wrap = |head: &dyn Fn(&[u8]) -> Vec<u8>, ip: &[Vec<u8>]| -> Vec<Vec<u8>> {
            ip.iter()
                .map(|p| {
                    let mut f = head(p);
                    f.extend_from_slice(p);
                    f
                })
                .collect()
        };
        let ethertype = |p: &[u8]| {
            if p[0] >> 4 == 6 {
                [0x86, 0xDD]
            } else {
                [0x08, 0x00]
            }
        };
        let vlan = |p: &[u8]| {
            let mut h = vec![0; 12];
            h.extend([0x88, 0xA8, 0, 5, 0x81, 0x00, 0, 7]);
            h.extend(ethertype(p));
            h
        };
        let sll = |p: &[u8]| {
            let mut h = vec![0; 14];
            h.extend(ethertype(p));
            h
        };
        let sll2 = |p: &[u8]| {
            let mut h = ethertype(p).to_vec();
            h.extend([0; 18]);
            h
        };
        let null = |p: &[u8]| {
            if p[0] >> 4 == 6 {
                vec![30, 0, 0, 0]
            } else {
                vec![2, 0, 0, 0]
            }
        };
        for ip in [&ip4, &ip6] {
            let v6 = ip[0][0] >> 4 == 6;
            for (link, frames) in [
                (1, wrap(&vlan, ip)),
                (113, wrap(&sll, ip)),
                (276, wrap(&sll2, ip)),
                (101, ip.clone()),
                (0, wrap(&null, ip)),
            ] {
                for be in [false, true] {
                    let c = read(&pcap_of(link, be, &frames)).unwrap();
                    let what = format!(
                        "link {link}, IPv{}, big-endian {be}",
                        if v6 { 6 } else { 4 }
                    );
                    assert_eq!((c.packets, c.other, c.streams.len()), (2, 0, 1), "{what}");
                    let s = &c.streams[0];
                    assert_eq!(
                        (s.law, s.packets, s.samples.len()),
                        (Law::Alaw, 2, 320),
                        "{what}"
                    );
                    assert_eq!(s.key.src.0.is_ipv6(), v6, "{what}");
                    assert_eq!(s.key.dst.1, 5004, "{what}");
                }
            }
        }
    }

    #[test]
    fn a_damaged_pcapng_block_is_stepped_over() {
        let a = [10, 0, 0, 1];
        let frames: Vec<_> = (0..3u16)
            .map(|k| eth_rtp(a, 4000, k, k as u32 * 160, 0, &payload(0x40)))
            .collect();
        let mut ng = pcapng(&frames);
        // The second packet block claims more captured bytes than the block holds.
        let second = 28 + 32 + (12 + 20 + frames[0].len().div_ceil(4) * 4);
        assert_eq!(ng[second..second + 4], 6u32.to_le_bytes());
        ng[second + 20..second + 24].copy_from_slice(&60_000u32.to_le_bytes());
        let c = read(&ng).unwrap();
        assert_eq!((c.packets, c.other, c.truncated), (2, 1, false));
        assert_eq!(c.streams[0].packets, 2);
        // A first block that is no section header is an error, not an empty capture.
        ng[8..12].copy_from_slice(&[1, 2, 3, 4]);
        assert!(matches!(
            read(&ng),
            Err(PcapError::BadBlock { offset: 0, .. })
        ));
    }

    #[test]
    fn two_directions_reordered_with_a_loss_and_a_duplicate() {
        let a = [10, 0, 0, 1];
        let b = [10, 0, 0, 9];
        let frames = vec![
            eth_rtp(a, 4000, 100, 1000, 0, &payload(0x10)),
            eth_rtp(b, 4002, 7, 50, 8, &payload(0xD5)),
            eth_rtp(a, 4000, 102, 1320, 0, &payload(0x30)), // 101 comes late
            eth_rtp(a, 4000, 101, 1160, 0, &payload(0x20)),
            eth_rtp(a, 4000, 101, 1160, 0, &payload(0x20)), // duplicate
            eth_rtp(a, 4000, 104, 1640, 0, &payload(0x50)), // 103 lost
            eth_rtp(b, 4002, 8, 210, 8, &payload(0xD5)),
        ];
        let c = read(&pcap(&frames)).unwrap();
        assert_eq!((c.format, c.packets, c.streams.len()), ("pcap", 7, 2));
        let s = &c.streams[0];
        assert_eq!(s.key.src, (IpAddr::from(a), 4000));
        assert_eq!((s.packets, s.lost, s.duplicates), (4, 1, 1));
        assert_eq!(s.samples.len(), 5 * 160);
        let at = |k: usize| s.samples[k * 160 + 5];
        assert_eq!(at(0), Law::Ulaw.decode_sample(0x10));
        assert_eq!(at(1), Law::Ulaw.decode_sample(0x20));
        assert_eq!(at(2), Law::Ulaw.decode_sample(0x30));
        assert_eq!(at(3), 0, "the lost packet is silence");
        assert_eq!(at(4), Law::Ulaw.decode_sample(0x50));
        let s = &c.streams[1];
        assert_eq!((s.law, s.offset, s.samples.len()), (Law::Alaw, 160, 320));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let a = [10, 0, 0, 1];
        let frames: Vec<_> = (0..6u16)
            .map(|k| {
                let seq = 65533u16.wrapping_add(k);
                eth_rtp(a, 4000, seq, k as u32 * 160, 0, &payload(k as u8))
            })
            .collect();
        let c = read(&pcap(&frames)).unwrap();
        assert_eq!(c.streams.len(), 1);
        assert_eq!((c.streams[0].packets, c.streams[0].lost), (6, 0));
        assert_eq!(c.streams[0].samples.len(), 960);
    }

    #[test]
    fn pcapng_reads_like_pcap() {
        let a = [10, 0, 0, 1];
        let frames: Vec<_> = (0..3u16)
            .map(|k| eth_rtp(a, 4000, k, k as u32 * 160, 0, &payload(0x40)))
            .collect();
        let c = read(&pcapng(&frames)).unwrap();
        assert_eq!((c.format, c.packets, c.streams.len()), ("pcapng", 3, 1));
        assert_eq!(c.streams[0].samples.len(), 480);
    }

    #[test]
    fn other_traffic_is_counted_not_decoded() {
        let a = [10, 0, 0, 1];
        let mut sip = eth_rtp(a, 5060, 0, 0, 0, b"INVITE sip:x");
        sip[14 + 28] = b'I'; // not RTP version 2
        let g729 = eth_rtp(a, 4000, 1, 0, 18, &[0; 20]);
        let mut arp = vec![0; 12];
        arp.extend([0x08, 0x06, 0, 0]);
        let c = read(&pcap(&[sip, g729, arp])).unwrap();
        assert_eq!((c.streams.len(), c.other_udp, c.other), (0, 2, 1));
    }

    #[test]
    fn garbage_and_truncation_are_errors_or_empty_never_panics() {
        assert!(matches!(read(b""), Err(PcapError::TruncatedHeader(_))));
        assert!(matches!(read(b"RIFF0000WAVE"), Err(PcapError::NotPcap(_))));
        assert!(matches!(
            read(&[0xD4, 0xC3, 0xB2, 0xA1, 2, 0]),
            Err(PcapError::TruncatedHeader("pcap"))
        ));
        let a = [10, 0, 0, 1];
        let full = pcap(&[
            eth_rtp(a, 4000, 1, 0, 0, &payload(1)),
            eth_rtp(a, 4000, 2, 160, 0, &payload(2)),
        ]);
        let one = 16 + eth_rtp(a, 4000, 1, 0, 0, &payload(1)).len();
        for cut in 24..full.len() {
            let c = read(&full[..cut]).unwrap();
            let boundary = cut == 24 || cut == 24 + one;
            assert_eq!(c.truncated, !boundary, "cut at {cut}");
        }
        let ng = pcapng(&[eth_rtp(a, 4000, 1, 0, 0, &payload(1))]);
        for cut in 0..ng.len() {
            let _ = read(&ng[..cut]);
        }
        // Every byte flipped in turn.
        for i in 0..full.len() {
            let mut d = full.clone();
            d[i] ^= 0xFF;
            fuzz(&d);
        }
    }

    #[test]
    fn timestamps_that_jump_do_not_allocate_hours_of_silence() {
        let a = [10, 0, 0, 1];
        let c = read(&pcap(&[
            eth_rtp(a, 4000, 1, 0, 0, &payload(1)),
            eth_rtp(a, 4000, 2, 0x7FFF_0000, 0, &payload(2)),
            eth_rtp(a, 4000, 30000, 0x1000, 0, &payload(2)),
        ]))
        .unwrap();
        let s = &c.streams[0];
        assert!(s.samples.len() <= 3 * 160 + MAX_GAP_SAMPLES as usize * 2);
    }
}
