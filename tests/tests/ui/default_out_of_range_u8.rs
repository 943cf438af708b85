use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = 300)]
    pub retries: u8,
}

fn main() {}
