use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "root", exclusion = ["root", "admin"])]
    pub user: String,
}

fn main() {}
