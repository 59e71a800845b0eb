//! HTTPS for the WiZFS console. A fresh appliance has no certificate anyone could have
//! issued for it, so `wizfsd` makes a self-signed one on first start
//! ([`CertificateFiles::load_or_create`]) and shows its fingerprint for users to compare;
//! then [`serve_https`] serves the console's axum router with it over rustls (the `ring`
//! provider only: aws-lc-rs needs cmake and a long build). Plain HTTP is for loopback only
//! ([`is_loopback_only`]): passwords must not cross the network in clear.

mod certificate;
mod error;
mod names;
mod serve;

use std::net::SocketAddr;

pub use certificate::{CERTIFICATE_FILE_NAME, Certificate, CertificateFiles, KEY_FILE_NAME};
pub use error::TlsError;
pub use names::SubjectNames;
pub use serve::{ServeLimits, serve, serve_https, server_config};

/// Whether `addr` is a loopback address (127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into
/// IPv6), where plain HTTP cannot be overheard. The unspecified addresses (`0.0.0.0`, `::`)
/// listen on every interface and are not loopback.
pub fn is_loopback_only(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(text: &str) -> SocketAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn loopback_addresses_are_loopback_only() {
        for loopback in [
            "127.0.0.1:80",
            "127.1.2.3:8080",
            "[::1]:443",
            "[::ffff:127.0.0.1]:80",
        ] {
            assert!(is_loopback_only(&socket(loopback)), "{loopback}");
        }
    }

    #[test]
    fn other_and_wildcard_addresses_are_not_loopback_only() {
        for reachable in [
            "0.0.0.0:80",
            "[::]:80",
            "192.168.1.5:80",
            "128.0.0.1:80",
            "[fe80::1]:80",
            "[::ffff:192.168.1.5]:80",
            "[::2]:80",
        ] {
            assert!(!is_loopback_only(&socket(reachable)), "{reachable}");
        }
    }
}
