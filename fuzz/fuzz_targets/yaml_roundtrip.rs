//! The YAML scanner, parser and emitter: what parses must emit, and the
//! emitted text must parse back to the same value.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::yaml_roundtrip::run(data));
