use conduit_connector::Config;

#[derive(Config)]
pub struct Cfg {
    pub socket: std::net::TcpStream,
}

fn main() {}
