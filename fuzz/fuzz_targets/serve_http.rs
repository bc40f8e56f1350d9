//! `serve`'s catalogd HTTP API on a small catalog: the input is the
//! request target (path and query) and header lines, one per line.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::serve_http::run(data));
