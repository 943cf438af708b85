#!/usr/bin/env bash
# Clean-build seconds of a small crate using `#[derive(Config)]` vs the same crate using only
# serde's derive (serde + serde_json), each with a fresh CARGO_TARGET_DIR, in a temp dir.
#
#   examples/directory-destination/benches/build_time.sh            # debug builds
#   PROFILE=release examples/directory-destination/benches/build_time.sh
#
# Prints, for each crate: the clean build (all dependencies) and a rebuild of the crate alone
# after touching its source (the cost of expanding and compiling the derived code).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
profile="${PROFILE:-dev}"
work="$(mktemp -d "${TMPDIR:-/tmp}/derive-build-time.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fields='
    /// Server URL.
    pub url: String,
    /// Request timeout in seconds.
    pub timeout: u64,
    /// Retries.
    pub retries: u32,
    /// Records per batch.
    pub batch_size: usize,
    /// Compress payloads.
    pub compress: bool,
    /// Output format.
    pub format: String,
    /// Sampling ratio.
    pub ratio: f64,
    /// Region.
    pub region: String,
    /// Port.
    pub port: u16,
    /// A label.
    pub label: Option<String>,'

mkdir -p "$work/with-config-derive/src" "$work/with-serde-derive/src"
cat > "$work/with-config-derive/Cargo.toml" <<TOML
[package]
name = "with-config-derive"
version = "0.1.0"
edition = "2024"

[dependencies]
conduit-connector = { path = "$repo/connector" }
TOML
cat > "$work/with-config-derive/src/main.rs" <<RS
use conduit_connector::Config;

/// A small config.
#[derive(Debug, Config)]
pub struct Settings {$fields
}

fn main() {
    let s = Settings::from_config([("url", "x"), ("timeout", "5"), ("port", "1")]);
    println!("{s:?}");
}
RS
cat > "$work/with-serde-derive/Cargo.toml" <<TOML
[package]
name = "with-serde-derive"
version = "0.1.0"
edition = "2024"

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
TOML
cat > "$work/with-serde-derive/src/main.rs" <<RS
/// A small config.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {$fields
}

fn main() {
    let s: Result<Settings, _> = serde_json::from_str(r#"{"url": "x", "timeout": 5, "port": 1}"#);
    println!("{s:?}");
}
RS

# Reuse the workspace's resolved versions where they apply (no network needed).
cp "$repo/Cargo.lock" "$work/with-config-derive/Cargo.lock"
cp "$repo/Cargo.lock" "$work/with-serde-derive/Cargo.lock"

seconds() { # crate, target dir, extra args
    local start end
    start=$(date +%s.%N)
    cargo build --quiet --profile "$profile" --manifest-path "$work/$1/Cargo.toml" --target-dir "$2" >&2
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

echo "| crate | clean build (s) | rebuild of the crate alone (s) |"
echo "|---|---:|---:|"
for crate in with-config-derive with-serde-derive; do
    (cd "$work/$crate" && cargo update --offline --workspace --quiet 2>/dev/null || cargo update --workspace --quiet)
    target="$work/target-$crate"
    clean=$(seconds "$crate" "$target")
    touch "$work/$crate/src/main.rs"
    again=$(seconds "$crate" "$target")
    echo "| $crate | $clean | $again |"
done
echo
echo "profile: $profile; $(nproc) CPUs; load average at end: $(cut -d' ' -f1-3 /proc/loadavg); rustc $(rustc --version | cut -d' ' -f2)"
