use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(inclusion = ["raw", "json"], exclusion = ["json"])]
    pub format: String,
}

fn main() {}
