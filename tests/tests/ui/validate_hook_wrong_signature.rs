use conduit_connector::Config;

#[derive(Config)]
#[config(validate = check)]
pub struct Cfg {
    pub size: u32,
}

fn check(_: &Cfg) -> bool {
    true
}

fn main() {}
