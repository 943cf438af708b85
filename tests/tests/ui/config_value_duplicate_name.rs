use conduit_connector::ConfigValue;

#[derive(ConfigValue)]
pub enum Format {
    Raw,
    #[param(name = "raw")]
    Plain,
}

fn main() {}
