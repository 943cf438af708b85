//! The config pipeline of conduit-commons: sanitize, apply defaults,
//! validate; and `from_config` on top of it.
//!
//! TEMPORARY: placeholder bodies.

use super::{ConfigErrors, ConfigField, ConfigMap, DecodeCx, IntoConfigMap, Parameters};

impl ConfigMap {
    /// Builds a map from raw entries, trimming keys and values (Go's
    /// `Sanitize`).
    pub fn sanitized(config: impl IntoConfigMap) -> (ConfigMap, ConfigErrors) {
        let mut map = ConfigMap::new();
        config.for_each_entry(&mut |k, v| {
            map.insert(k.trim(), v.trim());
        });
        (map, ConfigErrors::new())
    }

    /// Go's `ApplyDefaults`.
    pub fn apply_defaults(&mut self, params: &Parameters) {
        let _ = params;
    }

    /// Go's `Validate`, with errors sorted by key.
    pub fn validate(&self, params: &Parameters) -> Result<(), ConfigErrors> {
        let _ = params;
        Ok(())
    }
}

/// The whole `from_config` pipeline for a config type.
pub fn from_config<T: ConfigField>(config: impl IntoConfigMap, params: &Parameters) -> Result<T, ConfigErrors> {
    let (mut map, mut errors) = ConfigMap::sanitized(config);
    map.apply_defaults(params);
    if let Err(e) = map.validate(params) {
        errors.extend(e);
    }
    let value = {
        let mut cx = DecodeCx::new(&map, &mut errors);
        T::decode("", &mut cx)
    };
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => {
            errors.into_result()?;
            unreachable!("decoding failed without reporting an error")
        }
    }
}
