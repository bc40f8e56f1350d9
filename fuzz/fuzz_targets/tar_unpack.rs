//! Image layer unpacking: whatever the archives say, nothing is written
//! outside the root (checked by `unpack_checked`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::tar_unpack::run(data));
