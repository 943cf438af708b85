use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    pub matrix: Vec<Vec<u8>>,
}

fn main() {}
