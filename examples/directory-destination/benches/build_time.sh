#!/usr/bin/env bash
# Clean-build seconds of a small crate using `#[derive(Config)]` (conduit-connector with
# `default-features = false, features = ["derive"]`: config model, derive, spec, records; no
# runtime) vs the same crate using only serde's derive (serde + serde_json), each with a fresh
# CARGO_TARGET_DIR, in a temp dir, in the same run; and of the two proc-macro crates alone
# (conduit-connector-derive vs serde_derive). Ends with `cargo tree -e normal` of the first
# crate, which must show none of tokio, tonic, prost, hyper, h2 or clap.
#
#   examples/directory-destination/benches/build_time.sh            # dev profile
#   PROFILE=release examples/directory-destination/benches/build_time.sh
#   ROUNDS=3 examples/directory-destination/benches/build_time.sh   # crates interleaved, 3 times
#
# For each crate: the clean build (all dependencies), and a rebuild of the crate alone after
# touching its source (expanding and compiling the derived code). The crates are libraries,
# so no linking is timed. Uses the workspace's Cargo.lock (no network needed).
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

# new_crate NAME DEPENDENCIES SOURCE
new_crate() {
    mkdir -p "$work/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n\n[dependencies]\n%s\n' "$1" "$2" \
        > "$work/$1/Cargo.toml"
    printf '%s\n' "$3" > "$work/$1/src/lib.rs"
    cp "$repo/Cargo.lock" "$work/$1/Cargo.lock"
}

new_crate with-config-derive \
    "conduit-connector = { path = \"$repo/connector\", default-features = false, features = [\"derive\"] }" "
use conduit_connector::Config;

/// A small config.
#[derive(Debug, Config)]
pub struct Settings {$fields
}

/// Parses a config.
pub fn parse() -> bool {
    Settings::from_config([(\"url\", \"x\"), (\"timeout\", \"5\"), (\"port\", \"1\")]).is_ok()
}"

new_crate with-serde-derive 'serde = { version = "1", features = ["derive"] }
serde_json = "1"' "
/// A small config.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = \"camelCase\")]
pub struct Settings {$fields
}

/// Parses a config.
pub fn parse() -> bool {
    serde_json::from_str::<Settings>(r#\"{\"url\": \"x\", \"timeout\": 5, \"port\": 1}\"#).is_ok()
}"

new_crate only-conduit-connector-derive "conduit-connector-derive = { path = \"$repo/connector-derive\" }" \
    "//! Builds the proc-macro crate only."
new_crate only-serde-derive 'serde_derive = "1"' "//! Builds the proc-macro crate only."

seconds() { # crate, target dir
    local start end
    start=$(date +%s.%N)
    cargo build --quiet --profile "$profile" --manifest-path "$work/$1/Cargo.toml" --target-dir "$2" >&2
    end=$(date +%s.%N)
    printf '%.1f' "$(echo "$end - $start" | bc)"
}

rounds="${ROUNDS:-1}"
crates="with-config-derive with-serde-derive only-conduit-connector-derive only-serde-derive"
for crate in $crates; do
    (cd "$work/$crate" && { cargo update --offline --workspace --quiet 2>/dev/null || cargo update --workspace --quiet; })
done

echo "| crate | round | clean build (s) | rebuild of the crate alone (s) |"
echo "|---|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
    for crate in $crates; do
        target="$work/target-$crate-$round"
        clean=$(seconds "$crate" "$target")
        touch "$work/$crate/src/lib.rs"
        again=$(seconds "$crate" "$target")
        rm -rf "$target"
        echo "| $crate | $round | $clean | $again |"
    done
done
echo
echo "profile: $profile; $(nproc) CPUs; load average at end: $(cut -d' ' -f1-3 /proc/loadavg); rustc $(rustc --version | cut -d' ' -f2)"
echo
echo "cargo tree -e normal of with-config-derive:"
(cd "$work/with-config-derive" && cargo tree --offline -e normal)
