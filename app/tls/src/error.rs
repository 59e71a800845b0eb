//! Why the console's HTTPS could not be set up or served: one enum for the crate, each
//! variant naming the file or address involved so that the daemon's log says what to fix.

use std::{io, net::SocketAddr, path::PathBuf};

/// Everything that can go wrong loading, making or serving the console's certificate.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The directory meant to hold the certificate could not be made.
    #[error("cannot create the certificate directory {path}: {source}")]
    CreateDirectory { path: PathBuf, source: io::Error },

    /// The lock serialising certificate creation between processes could not be taken.
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: io::Error },

    /// A certificate or key file exists (or might) but could not be read.
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },

    /// A new certificate or key could not be written durably.
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },

    /// The certificate file is not valid PEM.
    #[error("{path} is not a valid PEM certificate file: {source}")]
    CertificatePem {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },

    /// The certificate file holds no `CERTIFICATE` section.
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },

    /// The first certificate of the file is not a valid X.509 certificate.
    #[error("{path} holds an invalid X.509 certificate: {source}")]
    Certificate {
        path: PathBuf,
        source: x509_parser::error::X509Error,
    },

    /// The key file holds no private key in PEM (PKCS#8, SEC1 or PKCS#1).
    #[error("{path} holds no PEM private key: {source}")]
    KeyPem {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },

    /// The key was read but rustls (ring provider) cannot sign with it.
    #[error("the private key in {path} cannot be used: {source}")]
    UnusableKey {
        path: PathBuf,
        source: rustls::Error,
    },

    /// The key does not belong to the certificate. Neither file is replaced: they may be
    /// an administrator's own certificate, and guessing which one is wrong would lose it.
    #[error("the private key {key_path} does not belong to the certificate {cert_path}")]
    KeyMismatch {
        cert_path: PathBuf,
        key_path: PathBuf,
    },

    /// rcgen failed to make the key pair or to sign the certificate.
    #[error("cannot generate a certificate for `{common_name}`: {source}")]
    Generate {
        common_name: String,
        source: rcgen::Error,
    },

    /// rustls refused the server configuration.
    #[error("cannot configure TLS: {source}")]
    ServerConfig { source: rustls::Error },

    /// The listener given to [`serve_https`](crate::serve_https) has no local address.
    #[error("cannot read the listening address: {source}")]
    LocalAddress { source: io::Error },

    /// The HTTPS server stopped with an I/O error.
    #[error("the HTTPS server on {address} failed: {source}")]
    Serve {
        address: SocketAddr,
        source: io::Error,
    },
}
