use conduit_connector::Config;

#[derive(Config)]
#[config(rename = "camelCase")]
pub struct Cfg {
    pub size: u32,
}

fn main() {}
