//! Image manifests, indexes and configs as a registry or an OCI layout
//! hands them over.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::image_manifest::run(data));
