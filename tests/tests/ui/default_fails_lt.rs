use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(lt = 10_000, default = 20_000)]
    pub batch_size: u32,
}

fn main() {}
