use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg(pub u32);

fn main() {}
