//! Code generated from `proto/` by `tools/protogen` (protox + tonic-prost-build),
//! checked in so that building opm never needs `protoc`. Do not edit by hand.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// `api` (operator-registry `pkg/api/registry.proto`).
pub mod api {
    include!("api.rs");
}

/// `grpc.health.v1`.
pub mod health {
    include!("grpc.health.v1.rs");
}

/// The encoded `FileDescriptorSet` of `registry.proto` and `health.proto`,
/// served by reflection.
pub const DESCRIPTOR_SET: &[u8] = include_bytes!("descriptor.bin");
