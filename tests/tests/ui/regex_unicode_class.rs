use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    // Go's RE2 accepts Unicode classes; regex-lite, which checks patterns here, does not.
    #[param(regex = "^\\p{L}+$")]
    pub name: String,
}

fn main() {}
