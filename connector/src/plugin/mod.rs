//! The standalone plugin protocol (go-plugin handshake + gRPC services).

pub mod convert;
pub mod proto;
