use conduit_connector::ConfigValue;

#[derive(ConfigValue)]
pub struct Format {
    pub name: String,
}

fn main() {}
