use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = 0, gt = 0)]
    pub batch_size: u32,
}

fn main() {}
