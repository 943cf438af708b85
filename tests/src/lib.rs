//! Shared helpers for the workspace-level tests in `tests/` (and the fuzz targets in `fuzz/`).

pub mod every_feature;
