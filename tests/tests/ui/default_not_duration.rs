use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "5 minutes")]
    pub interval: std::time::Duration,
}

fn main() {}
