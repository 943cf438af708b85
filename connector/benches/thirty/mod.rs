#![allow(dead_code)] // each bench uses a different part
//! A 30-parameter config (values, nested structs, maps, durations, an enum, lists and
//! validations) and a config map that sets every one of them, shared by the config benches
//! (`connector/benches/config.rs`) and the comparison table
//! (`examples/directory-destination/benches/compare.rs`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use conduit_connector::{Config, ConfigValue};

/// How a client authenticates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ConfigValue)]
pub enum AuthMode {
    /// No authentication.
    #[default]
    None,
    /// User and password.
    Basic,
    /// A bearer token.
    Token,
}

/// TLS settings (5 parameters).
#[derive(Debug, Config)]
pub struct Tls {
    /// Use TLS.
    #[param(default = false)]
    pub enabled: bool,
    /// Certificate file.
    #[param(file)]
    pub cert: PathBuf,
    /// Key file.
    #[param(file)]
    pub key: PathBuf,
    /// Verify the server certificate.
    #[param(default = true)]
    pub verify: bool,
    /// Minimum TLS version.
    #[param(default = "1.2", inclusion = ["1.2", "1.3"])]
    pub min_version: String,
}

/// Authentication (5 parameters).
#[derive(Debug, Config)]
pub struct Auth {
    /// The mode.
    #[param(default = "none")]
    pub mode: AuthMode,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Bearer token.
    pub token: Option<String>,
    /// How long a token lives.
    #[param(default = "1h")]
    pub expiry: Duration,
}

/// Connection pool (5 parameters).
#[derive(Debug, Config)]
pub struct Pool {
    /// Minimum connections.
    #[param(default = 1, gt = -1)]
    pub min: u32,
    /// Maximum connections.
    #[param(default = 10, gt = 0, lt = 1000)]
    pub max: u32,
    /// Idle timeout.
    #[param(default = "30s")]
    pub idle: Duration,
    /// Maximum connection lifetime.
    #[param(default = "10m")]
    pub lifetime: Duration,
    /// Pool name.
    #[param(regex = "^[a-z][a-z0-9-]*$", default = "main")]
    pub name: String,
}

/// The 30-parameter config: 15 top-level parameters (two of them maps, `headers.*` and
/// `limits.*`) and three nested structs of 5.
#[derive(Debug, Config)]
pub struct Thirty {
    /// Server URL.
    #[param(required)]
    pub url: String,
    /// Request timeout.
    #[param(default = "1s")]
    pub timeout: Duration,
    /// Delay between retries.
    #[param(default = "250ms")]
    pub retry_delay: Duration,
    /// Retries.
    #[param(default = 3, gt = 0, lt = 100)]
    pub retries: u32,
    /// Records per batch.
    #[param(default = 100, gt = 0)]
    pub batch_size: usize,
    /// Compress payloads.
    #[param(default = true)]
    pub compress: bool,
    /// Output format.
    #[param(default = "json", inclusion = ["json", "raw", "avro"])]
    pub format: String,
    /// Sampling ratio.
    #[param(default = 0.5, gt = 0, lt = 1)]
    pub ratio: f64,
    /// Tags.
    pub tags: Vec<String>,
    /// A label.
    pub label: Option<String>,
    /// Branch.
    #[param(regex = "^[a-z]+$", default = "main")]
    pub branch: String,
    /// Region.
    #[param(default = "eu-west-1")]
    pub region: String,
    /// Port.
    #[param(default = 443, gt = 0)]
    pub port: u16,
    /// Extra headers.
    pub headers: HashMap<String, String>,
    /// Per-table limits.
    pub limits: BTreeMap<String, u64>,
    /// TLS.
    pub tls: Tls,
    /// Authentication.
    pub auth: Auth,
    /// Pool.
    pub pool: Pool,
}

/// A config map (as Conduit sends it) that sets every parameter of [`Thirty`] (32 keys: the
/// maps get two entries each).
pub fn thirty_config() -> HashMap<String, String> {
    [
        ("url", "https://example.com/api"),
        ("timeout", "5s"),
        ("retryDelay", "100ms"),
        ("retries", "5"),
        ("batchSize", "500"),
        ("compress", "false"),
        ("format", "raw"),
        ("ratio", "0.75"),
        ("tags", "a,b,c"),
        ("label", "bench"),
        ("branch", "dev"),
        ("region", "us-east-2"),
        ("port", "8443"),
        ("headers.Accept", "application/json"),
        ("headers.X-Trace", "on"),
        ("limits.orders", "1000"),
        ("limits.users", "20"),
        ("tls.enabled", "true"),
        ("tls.cert", "/etc/tls/cert.pem"),
        ("tls.key", "/etc/tls/key.pem"),
        ("tls.verify", "true"),
        ("tls.minVersion", "1.3"),
        ("auth.mode", "basic"),
        ("auth.user", "conduit"),
        ("auth.password", "secret"),
        ("auth.token", "abc"),
        ("auth.expiry", "2h30m"),
        ("pool.min", "2"),
        ("pool.max", "20"),
        ("pool.idle", "1m"),
        ("pool.lifetime", "1h"),
        ("pool.name", "bench-pool"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Parses [`thirty_config`] and checks a few fields, so a broken pipeline cannot be timed as
/// fast.
pub fn check(config: &HashMap<String, String>) {
    let parsed = Thirty::from_config(config).expect("the 30-parameter config is valid");
    assert_eq!(parsed.pool.max, 20);
    assert_eq!(parsed.auth.expiry, Duration::from_secs(9000));
    assert_eq!(parsed.headers.len(), 2);
    assert_eq!(Thirty::parameters().len(), 30);
}
