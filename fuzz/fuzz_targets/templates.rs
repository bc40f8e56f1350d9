//! The catalog template decoders (basic, semver, substitutes) and
//! `alpha convert-template`, with a stub that renders any image
//! `<repo>/<package>:v<version>` into one bundle.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::templates::run(data));
