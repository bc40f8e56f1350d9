//! Regenerate the checked-in gRPC code of `opm serve` from `proto/`.
//!
//! `cargo run --manifest-path tools/protogen/Cargo.toml` from the repository
//! root. The `.proto` files are compiled by protox (pure Rust), so neither
//! this tool nor the opm build ever needs a system `protoc`. Output:
//! `src/serve/proto/{api,grpc.health.v1}.rs` and `descriptor.bin` (the file
//! descriptor set served by reflection).

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let proto = root.join("proto");
    let out = root.join("src/serve/proto");
    std::fs::create_dir_all(&out)?;
    let fds = protox::compile(["registry.proto", "grpc/health/v1/health.proto"], [&proto])?;
    std::fs::write(out.join("descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .build_transport(false)
        .out_dir(&out)
        .compile_fds(fds)?;
    Ok(())
}
