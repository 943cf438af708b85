use conduit_connector::Config;

#[derive(Config)]
pub enum Cfg {
    A,
    B,
}

fn main() {}
