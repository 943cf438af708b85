//! Compile errors of `#[derive(Config)]` and `#[derive(ConfigValue)]`: one
//! file per diagnostic in `tests/ui/`, with the expected rustc output next to
//! it. Regenerate with `TRYBUILD=overwrite cargo test -p conduit-connector-tests --test ui`
//! and read every `.stderr` before committing it.

#[test]
fn derive_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
