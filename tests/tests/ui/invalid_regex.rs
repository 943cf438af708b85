use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(regex = "[a-")]
    pub prefix: String,
}

fn main() {}
