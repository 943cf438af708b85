use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(skip, default = 5)]
    pub cache: u32,
}

fn main() {}
