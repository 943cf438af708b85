//! Compiles the plugin protocol's `.proto` files (in `proto/`) into Rust with
//! `protox` (a pure-Rust protobuf compiler, so no `protoc` is needed) and
//! `tonic-prost-build`. Only with the `plugin` feature: without it neither
//! the generated code nor the protobuf tooling is built.

#[cfg(feature = "plugin")]
use std::path::Path;

/// The protocol's files, relative to `proto/`.
#[cfg(feature = "plugin")]
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
    println!("cargo:rerun-if-changed=build.rs");
    // Build scripts are compiled with the package's features.
    #[cfg(feature = "plugin")]
    compile_protos()?;
    Ok(())
}

#[cfg(feature = "plugin")]
fn compile_protos() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new("proto");
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
