use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    pub batch_size: u32,
    #[param(name = "batchSize")]
    pub size: u32,
}

fn main() {}
