use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(requird)]
    pub directory: String,
}

fn main() {}
