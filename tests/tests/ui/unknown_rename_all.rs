use conduit_connector::Config;

#[derive(Config)]
#[config(rename_all = "camel")]
pub struct Cfg {
    pub batch_size: u32,
}

fn main() {}
