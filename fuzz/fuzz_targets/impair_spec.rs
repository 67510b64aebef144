#![no_main]
use libfuzzer_sys::fuzz_target;
use softfax_drivers::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::impair_spec(data));
