//! csv decoding (UTF-8/BOM, UTF-16, GB18030) and loading of arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = taizhang::read::fuzzing::load_csv(data);
});
