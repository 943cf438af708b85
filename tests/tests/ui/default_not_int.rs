use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "ten")]
    pub batch_size: u32,
}

fn main() {}
