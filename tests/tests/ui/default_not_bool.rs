use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "yes")]
    pub enabled: bool,
}

fn main() {}
