//! `serve`'s cache file damaged at any byte: opening it is an error or a
//! cache that answers every query without a panic. The input is a list of
//! edits `[offset u32 le][len u8][bytes...]` on a good cache file; a
//! leading 0xff byte truncates the file at the first offset instead, a
//! leading 0xfe forges the body's CRC-32 after the edits (so that what lies
//! behind the checksum is fuzzed too).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::serve_cache::run(data));
