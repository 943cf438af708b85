use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(regex = "(unclosed")]
    pub prefix: String,
    #[param(default = 0, gt = 0)]
    pub batch_size: u32,
    #[param(inclusoin = ["a"])]
    pub format: String,
}

fn main() {
    // The dummy impls keep uses of the type free of follow-up errors.
    let _ = Cfg::parameters();
    let _ = Cfg::from_config([("prefix", "x")]);
}
