//! Shared helpers for the workspace-level tests live in `tests/`.
