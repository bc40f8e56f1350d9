//! The FBC loader on a YAML file, through render's writers (seeds: YAML).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::fbc_yaml::run(data));
