//! A config struct that uses every feature of the derive, shared by the fuzz targets (`fuzz/`)
//! and their CI-run proptest mirrors (`tests/tests/fuzz_mirror.rs`), and the decoding of fuzz
//! input into config entries.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use conduit_connector::{Config, ConfigError, ConfigErrors, ConfigValue};

/// An enum parameter (an automatic inclusion list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ConfigValue)]
pub enum Mode {
    /// Fast.
    #[default]
    Fast,
    /// Safe.
    Safe,
    /// Paranoid.
    ParanoidMode,
}

/// Nested under a prefix.
#[derive(Debug, Clone, Config)]
pub struct Auth {
    /// User name.
    #[param(required, regex = "^[a-z][a-z0-9_]*$")]
    pub user: String,
    /// Token file.
    #[param(file)]
    pub token_file: Option<PathBuf>,
}

/// Flattened into the parent.
#[derive(Debug, Clone, Config)]
pub struct Retry {
    /// Retries.
    #[param(default = 3, gt = -1, lt = 100)]
    pub retries: u8,
    /// Backoff.
    #[param(default = "100ms")]
    pub backoff: Duration,
}

/// A map value that is itself a config.
#[derive(Debug, Clone, Config)]
pub struct Endpoint {
    /// URL.
    #[param(required)]
    pub url: String,
    /// Weight.
    #[param(default = 1.0, gt = 0, lt = 1000)]
    pub weight: f64,
}

/// Every feature of `#[derive(Config)]`: nested, flatten, maps (of values and of configs),
/// durations, enums, `Vec`, `Option`, every validation, renames, skip and a validate hook.
#[derive(Debug, Clone, Config)]
#[config(validate = FuzzConfig::check)]
pub struct FuzzConfig {
    /// Directory.
    #[param(required)]
    pub directory: PathBuf,
    /// Batch size.
    #[param(default = 100, gt = 0, lt = 10_000)]
    pub batch_size: u32,
    /// Signed.
    #[param(default = -5)]
    pub offset: i64,
    /// Ratio.
    #[param(default = 0.5, gt = 0, lt = 1)]
    pub ratio: f32,
    /// Flag.
    #[param(default = true)]
    pub enabled: bool,
    /// Interval.
    #[param(default = "1s")]
    pub flush_interval: Duration,
    /// Timeout.
    pub timeout: Option<Duration>,
    /// Mode.
    #[param(default = "fast")]
    pub mode: Mode,
    /// Color (inclusion and exclusion).
    #[param(default = "red", inclusion = ["red", "green", "blue"], exclusion = ["black"])]
    pub color: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Ports.
    pub ports: Vec<u16>,
    /// Delays.
    pub delays: Vec<Duration>,
    /// Modes.
    pub modes: Vec<Mode>,
    /// Prefix.
    #[param(name = "my-prefix", regex = "^[a-z]+$")]
    pub prefix: Option<String>,
    /// Excluded words.
    #[param(exclusion = ["root", "admin"])]
    pub owner: Option<String>,
    /// Auth.
    pub auth: Auth,
    /// Retry settings.
    #[param(flatten)]
    pub retry: Retry,
    /// Headers.
    pub headers: HashMap<String, String>,
    /// Limits.
    pub limits: BTreeMap<String, u64>,
    /// Endpoints.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Not a parameter.
    #[param(skip)]
    pub cache: Vec<u8>,
}

impl FuzzConfig {
    /// The cross-field check: `offset` must not exceed `batchSize`.
    pub fn check(&self) -> Result<(), ConfigErrors> {
        if self.offset > i64::from(self.batch_size) {
            return Err(ConfigError::custom("offset", "must not be greater than batchSize").into());
        }
        Ok(())
    }
}

/// Decodes fuzz input into config entries: lines of `key=value` (split at the first `=`; a
/// line without `=` is a key with an empty value), invalid UTF-8 replaced.
pub fn config_entries(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    text.split('\n')
        .map(|line| match line.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect()
}
