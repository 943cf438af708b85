use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    // `\d` is ASCII-only, as in Go: U+0663 ARABIC-INDIC DIGIT THREE is not a match.
    #[param(default = "\u{0663}", regex = "^\\d$")]
    pub digit: String,
}

fn main() {}
