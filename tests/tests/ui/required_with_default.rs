use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(required, default = "x")]
    pub name: String,
}

fn main() {}
