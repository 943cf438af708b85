use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "Out_Dir", regex = "^[a-z]+$")]
    pub prefix: String,
}

fn main() {}
