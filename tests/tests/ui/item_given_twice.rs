use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(gt = 0)]
    #[param(gt = 1, default = 5)]
    pub size: u32,
}

fn main() {}
