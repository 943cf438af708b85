use conduit_connector::ConfigValue;

#[derive(ConfigValue)]
pub enum Format {
    Raw,
    Custom(String),
}

fn main() {}
