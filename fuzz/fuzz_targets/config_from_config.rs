//! `from_config` on arbitrary maps for a struct using every derive feature: never panics,
//! errors are sorted by key and name a key, successes are deterministic.
#![no_main]

use conduit_connector::Config;
use conduit_connector_fuzz::{FuzzConfig, config_entries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let entries = config_entries(data);
    match FuzzConfig::from_config(entries.clone()) {
        Ok(config) => {
            // Parsing the same input again gives the same result.
            let again = FuzzConfig::from_config(entries).expect("second parse of an accepted config failed");
            assert_eq!(format!("{config:?}"), format!("{again:?}"));
            assert!(config.batch_size > 0 && config.batch_size < 10_000);
            assert!(config.retry.retries < 100);
            assert!(!config.auth.user.is_empty());
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result without errors");
            let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "errors not sorted by key: {keys:?}");
            let text = errors.to_string();
            assert!(!text.is_empty());
        }
    }
});
