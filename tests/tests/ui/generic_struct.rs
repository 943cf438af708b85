use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg<T> {
    pub value: T,
}

fn main() {}
