use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "xml", inclusion = ["raw", "json"])]
    pub format: String,
}

fn main() {}
