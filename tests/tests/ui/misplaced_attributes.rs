use conduit_connector::Config;

#[derive(Config)]
#[param(name = "cfg")]
pub struct Cfg {
    #[config(rename_all = "snake_case")]
    pub batch_size: u32,
}

fn main() {}
