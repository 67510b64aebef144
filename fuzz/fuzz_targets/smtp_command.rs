#![no_main]
use libfuzzer_sys::fuzz_target;
use softfax::esmtp::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::smtp_command(data));
