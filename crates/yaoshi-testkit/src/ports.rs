//! Free loopback ports for the processes a test starts.
//!
//! A port is found by binding `127.0.0.1:0` and releasing it; another process may take it before
//! the child binds it, which is rare enough on a test machine to be accepted everywhere.

/// A free loopback port (bound then released).
///
/// # Panics
///
/// Panics when no loopback port can be bound.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// `127.0.0.1:<free port>`.
pub fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_can_be_bound() {
        let addr = free_addr();
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        std::net::TcpListener::bind(&addr).unwrap();
        assert_ne!(free_port(), 0);
    }
}
