#![no_main]
use libfuzzer_sys::fuzz_target;

// The pcap/pcapng → RTP → G.711 stream parser of `softfax analyze`.
fuzz_target!(|data: &[u8]| softfax::analyze::pcap::fuzz(data));
