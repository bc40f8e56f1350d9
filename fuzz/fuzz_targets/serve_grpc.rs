//! `serve`'s gRPC handlers on a small catalog (testdata/example-catalog):
//! the first byte picks the method, the rest is the protobuf request.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::serve_grpc::run(data));
