use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(gt = "zero", required = "yes", inclusion = "a", skip = true)]
    pub size: u32,
}

fn main() {}
