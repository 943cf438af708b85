use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(gt = 0)]
    pub name: String,
}

fn main() {}
