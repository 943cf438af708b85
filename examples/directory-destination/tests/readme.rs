//! The workspace README documents this connector's parameters in blocks that
//! readmegen-style tags delimit; this test keeps them current.
//!
//! Regenerate with `CONDUIT_UPDATE_SPEC=1 cargo test -p directory-destination --test readme`.

use directory_destination::{DirectoryDestination, specification};

#[test]
fn readme_parameter_table_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md exists at the workspace root");
    let spec = specification().with_destination::<DirectoryDestination>();
    let updated = spec.update_readme(&readme).expect("the README's readmegen tags are valid");
    if std::env::var("CONDUIT_UPDATE_SPEC").is_ok_and(|v| v == "1") {
        std::fs::write(path, &updated).expect("README.md is writable");
        return;
    }
    assert!(
        readme == updated,
        "README.md's generated parameter blocks are out of date; regenerate with \
         CONDUIT_UPDATE_SPEC=1 cargo test -p directory-destination --test readme"
    );
}
