#![no_main]
use libfuzzer_sys::fuzz_target;
#[allow(unused_imports)]
use softfax_dsp::{fuzzing, t4::Coding};

fuzz_target!(|data: &[u8]| fuzzing::t4_decode(Coding::Mh, data));
