use conduit_connector::Config;

#[derive(Config)]
pub struct Inner {
    pub size: u32,
}

#[derive(Config)]
pub struct Cfg {
    #[param(default = "x")]
    pub inner: Inner,
}

fn main() {}
