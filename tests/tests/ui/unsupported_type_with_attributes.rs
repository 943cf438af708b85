use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    #[param(default = "x", required, regex = "^x$")]
    pub socket: Option<std::net::TcpStream>,
}

fn main() {}
