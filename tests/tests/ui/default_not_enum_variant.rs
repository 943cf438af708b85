use conduit_connector::{Config, ConfigValue};

#[derive(ConfigValue)]
pub enum Format {
    Raw,
    Json,
}

#[derive(Config)]
pub struct Cfg {
    #[param(default = "xml")]
    pub format: Format,
}

fn main() {}
