//! The generated code names everything by absolute path: it compiles in a
//! crate without the prelude that depends on the facade only.
#![no_implicit_prelude]

extern crate std;

use ::conduit_connector::{Config, ConfigValue};

#[derive(Debug, Default, PartialEq, ConfigValue)]
pub enum Kind {
    #[default]
    Plain,
    Fancy,
}

#[derive(Debug, Config)]
pub struct Nested {
    #[param(required)]
    pub user: std::string::String,
}

#[derive(Debug, Config)]
#[config(validate = check)]
pub struct NoPrelude {
    /// A documented number.
    #[param(default = 3, gt = 0, lt = 10)]
    pub count: u8,
    #[param(default = "1s")]
    pub every: std::time::Duration,
    #[param(inclusion = ["a", "b"], regex = "^[ab]$")]
    pub letter: std::option::Option<std::string::String>,
    pub kind: Kind,
    pub list: std::vec::Vec<Kind>,
    pub nested: Nested,
    pub map: std::collections::HashMap<std::string::String, Nested>,
    #[param(skip)]
    pub skipped: std::vec::Vec<u8>,
}

fn check(_: &NoPrelude) -> std::result::Result<(), ::conduit_connector::ConfigErrors> {
    std::result::Result::Ok(())
}

#[test]
fn derives_compile_and_work_without_the_prelude() {
    let params = <NoPrelude as Config>::parameters();
    std::assert_eq!(params.len(), 7);
    std::assert!(params.get("map.*.user").is_some());
    let cfg = NoPrelude::from_config([("nested.user", "u"), ("list", "fancy,plain")]).unwrap();
    std::assert_eq!(cfg.count, 3);
    std::assert_eq!(cfg.kind, Kind::Plain);
    std::assert_eq!(cfg.list, [Kind::Fancy, Kind::Plain]);
}
