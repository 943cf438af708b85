//! Shared pieces of the fuzz targets: the every-feature config struct and the decoding of fuzz
//! input, from the workspace test package (so the CI-run proptest mirrors use the same ones).

pub use conduit_connector_tests::every_feature::*;
