use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "-1s")]
    pub interval: std::time::Duration,
}

fn main() {}
