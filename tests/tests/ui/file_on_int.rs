use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(file)]
    pub size: u32,
}

fn main() {}
