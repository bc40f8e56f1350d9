//! The FBC loader on a JSON file, through render's writers (seeds: JSON).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::fbc_json::run(data));
