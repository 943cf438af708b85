use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(lt = 1000)]
    pub small: u8,
    #[param(gt = 255)]
    pub never: u8,
    // In range (one step outside, as Go's `gt = -1` for "not negative"): fine.
    #[param(gt = -1, lt = 256)]
    pub fine: u8,
}

fn main() {}
