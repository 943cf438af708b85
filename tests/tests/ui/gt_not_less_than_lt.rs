use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(gt = 100, lt = 10)]
    pub batch_size: u32,
}

fn main() {}
