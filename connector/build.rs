//! Compiles the plugin protocol's `.proto` files (in `proto/`) into Rust with
//! `protox` (a pure-Rust protobuf compiler, so no `protoc` is needed) and
//! `tonic-prost-build`.

use std::path::Path;

/// The protocol's files, relative to `proto/`.
const PROTOS: &[&str] = &[
    "opencdc/v1/struct.proto",
    "opencdc/v1/opencdc.proto",
    "config/v1/parameter.proto",
    "connector/v2/specifier.proto",
    "connector/v2/destination.proto",
    "connector/v2/source.proto",
    "plugin/grpc_controller.proto",
    "schema/v1/schema.proto",
    "connutils/v1/schema.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new("proto");
    println!("cargo:rerun-if-changed=build.rs");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }

    let files: Vec<_> = PROTOS.iter().map(|p| root.join(p)).collect();
    let descriptors = protox::compile(&files, [root]).map_err(|e| format!("compiling {}: {e:?}", root.display()))?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Maps as BTreeMap: entries are written in key order, so re-encoding a
        // message gives the same bytes as Conduit's deterministic encoding.
        .btree_map(".")
        // prost plus our own nesting limit for structured data (see
        // `plugin::codec`): the crate builds prost without its recursion limit.
        .codec_path("crate::plugin::codec::PluginCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
