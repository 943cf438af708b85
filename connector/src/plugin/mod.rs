//! The standalone plugin protocol (go-plugin handshake + gRPC services).
