use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(flatten)]
    pub size: u32,
}

fn main() {}
