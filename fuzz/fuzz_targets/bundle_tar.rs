//! A registry+v1 bundle directory (manifests/, metadata/) from a tar, as
//! `render` reads an unpacked bundle image.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::bundle_tar::run(data));
