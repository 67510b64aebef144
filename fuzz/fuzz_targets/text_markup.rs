#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| softfax::documents::fuzzing::text_markup(data));
