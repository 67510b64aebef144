#![no_main]
use libfuzzer_sys::fuzz_target;
use softfax_dsp::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::modem_rx(data));
