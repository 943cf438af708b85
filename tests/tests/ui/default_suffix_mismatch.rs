use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = 100u64)]
    pub count: u32,
    #[param(default = 1.5f32)]
    pub ratio: f64,
    // The field's own suffix: fine.
    #[param(default = 7u32)]
    pub fine: Option<u32>,
}

fn main() {}
