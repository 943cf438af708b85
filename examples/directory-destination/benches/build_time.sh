#!/usr/bin/env bash
# Clean-build seconds of a small crate using `#[derive(Config)]` vs the same crate using only
# serde's derive (serde + serde_json), each with a fresh CARGO_TARGET_DIR, in a temp dir; and
# of the two proc-macro crates alone (conduit-connector-derive vs serde_derive).
#
#   examples/directory-destination/benches/build_time.sh            # dev profile
#   PROFILE=release examples/directory-destination/benches/build_time.sh
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

new_crate with-config-derive "conduit-connector = { path = \"$repo/connector\" }" "
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

echo "| crate | clean build (s) | rebuild of the crate alone (s) |"
echo "|---|---:|---:|"
for crate in with-config-derive with-serde-derive only-conduit-connector-derive only-serde-derive; do
    (cd "$work/$crate" && { cargo update --offline --workspace --quiet 2>/dev/null || cargo update --workspace --quiet; })
    target="$work/target-$crate"
    clean=$(seconds "$crate" "$target")
    touch "$work/$crate/src/lib.rs"
    again=$(seconds "$crate" "$target")
    echo "| $crate | $clean | $again |"
done
echo
echo "profile: $profile; $(nproc) CPUs; load average at end: $(cut -d' ' -f1-3 /proc/loadavg); rustc $(rustc --version | cut -d' ' -f2)"
