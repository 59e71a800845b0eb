//! The console's certificate and private key on disk. A fresh appliance has no certificate
//! anyone could have issued for it, so the first start makes a self-signed one (ECDSA
//! P-256, about ten years) and every later start loads it again: users compare its
//! fingerprint once and the browser remembers the exception. An administrator may replace
//! the two files with a certificate of their own; they are then only ever read.
//!
//! Crash safety: each file is written to a temporary name in the same directory, flushed,
//! renamed into place and the directory flushed, the key before the certificate. So the
//! certificate file never exists without its key, and finding only one of the two means a
//! creation was interrupted: both are made again. A lock file keeps two processes (the
//! daemon and the CLI) from interleaving two creations into a mismatched pair.

use std::{
    fmt, fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::Engine;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, SanType, string::Ia5String,
};
use ring::digest::{Digest, SHA256, digest};
use rustls::{
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    sign::CertifiedKey,
};

use crate::{SubjectNames, TlsError};

/// File name of the certificate (PEM, the leaf first if it is a chain), mode 0644.
pub const CERTIFICATE_FILE_NAME: &str = "console.crt";
/// File name of the private key (PEM: PKCS#8, SEC1 or PKCS#1), mode 0600.
pub const KEY_FILE_NAME: &str = "console.key";
/// File locked while a pair is created; it stays behind, empty.
const LOCK_FILE_NAME: &str = "console.lock";

/// How long a generated certificate is valid. Browsers do not limit self-signed
/// certificates they are told to trust, and a certificate that expires makes users click
/// through a new warning; ten years outlive most appliances.
const VALIDITY: time::Duration = time::Duration::days(3650);
/// Generated certificates start one day in the past, for clients whose clock is behind.
const BACKDATING: time::Duration = time::Duration::days(1);

/// Where the console's certificate and key live: `console.crt` and `console.key` in one
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    directory: PathBuf,
    cert_path: PathBuf,
    key_path: PathBuf,
}

impl CertificateFiles {
    /// The files in `directory` (nothing is read or checked yet).
    pub fn in_directory(directory: &Path) -> Self {
        Self {
            directory: directory.to_owned(),
            cert_path: directory.join(CERTIFICATE_FILE_NAME),
            key_path: directory.join(KEY_FILE_NAME),
        }
    }

    /// The certificate file's path.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The private key file's path.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// Loads `directory/console.crt` and `directory/console.key`, or, when either is
    /// missing, makes a new self-signed pair for `names` (creating `directory` with mode
    /// 0700 if needed). A pair that exists but is unreadable, malformed or mismatched is an
    /// error and is left untouched. Blocking: call it from `spawn_blocking` in async code.
    pub fn load_or_create(directory: &Path, names: &SubjectNames) -> Result<Certificate, TlsError> {
        Self::in_directory(directory).load_or_create_pair(names)
    }

    /// Loads the existing pair, checking that the key belongs to the certificate.
    pub fn load(&self) -> Result<Certificate, TlsError> {
        let cert_pem = fs::read(&self.cert_path).map_err(|source| TlsError::Read {
            path: self.cert_path.clone(),
            source,
        })?;
        let key_pem = fs::read(&self.key_path).map_err(|source| TlsError::Read {
            path: self.key_path.clone(),
            source,
        })?;
        let certificate = Certificate::from_pem_pair(&cert_pem, &key_pem, self)?;
        if certificate.not_after < SystemTime::now() {
            tracing::warn!(
                path = %self.cert_path.display(),
                "the console certificate has expired; delete both files to make a new one"
            );
        }
        Ok(certificate)
    }

    fn load_or_create_pair(&self, names: &SubjectNames) -> Result<Certificate, TlsError> {
        if exists(&self.cert_path)? && exists(&self.key_path)? {
            return self.load();
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.directory)
            .map_err(|source| TlsError::CreateDirectory {
                path: self.directory.clone(),
                source,
            })?;
        let _lock = self.lock()?;
        // Look again: another process may have made the pair while we waited for the lock.
        match (exists(&self.cert_path)?, exists(&self.key_path)?) {
            (true, true) => self.load(),
            (cert_exists, key_exists) => {
                if cert_exists != key_exists {
                    let (present, missing) = if cert_exists {
                        (&self.cert_path, &self.key_path)
                    } else {
                        (&self.key_path, &self.cert_path)
                    };
                    tracing::warn!(
                        present = %present.display(),
                        missing = %missing.display(),
                        "found half a certificate pair (an interrupted creation?); making a new pair"
                    );
                }
                if cert_exists {
                    // Removed first, so that no reader ever sees it beside the new key.
                    fs::remove_file(&self.cert_path).map_err(|source| TlsError::Write {
                        path: self.cert_path.clone(),
                        source,
                    })?;
                }
                self.create(names)
            }
        }
    }

    /// Takes the creation lock; it is released when the returned file is closed.
    fn lock(&self) -> Result<fs::File, TlsError> {
        let lock_path = self.directory.join(LOCK_FILE_NAME);
        let lock_error = |source| TlsError::Lock {
            path: lock_path.clone(),
            source,
        };
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(lock_error)?;
        lock_file.lock().map_err(lock_error)?;
        Ok(lock_file)
    }

    fn create(&self, names: &SubjectNames) -> Result<Certificate, TlsError> {
        let common_name = names.common_name();
        let generate_error = |source| TlsError::Generate {
            common_name: common_name.clone(),
            source,
        };
        let key_pair =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
        let params =
            certificate_params(names, time::OffsetDateTime::now_utc()).map_err(generate_error)?;
        let generated = params.self_signed(&key_pair).map_err(generate_error)?;
        let key_pem = key_pair.serialize_pem();
        let cert_pem = generated.pem();

        write_atomically(&self.directory, &self.key_path, key_pem.as_bytes(), 0o600)?;
        write_atomically(&self.directory, &self.cert_path, cert_pem.as_bytes(), 0o644)?;

        let certificate =
            Certificate::from_pem_pair(cert_pem.as_bytes(), key_pem.as_bytes(), self)?;
        tracing::info!(
            path = %self.cert_path.display(),
            common_name,
            dns_names = ?names.dns_names(),
            ip_addresses = ?names.ip_addresses(),
            sha256_fingerprint = certificate.sha256_fingerprint(),
            "made a new self-signed console certificate"
        );
        Ok(certificate)
    }
}

/// What a generated certificate says: the names, ten years from a day before `now`, and
/// the usages browsers (Safari in particular) insist on for a server certificate.
fn certificate_params(
    names: &SubjectNames,
    now: time::OffsetDateTime,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::default();
    let mut distinguished_name = DistinguishedName::new();
    distinguished_name.push(DnType::CommonName, names.common_name());
    distinguished_name.push(DnType::OrganizationName, "WiZFS");
    params.distinguished_name = distinguished_name;
    params.subject_alt_names = names
        .dns_names()
        .iter()
        .map(|dns_name| Ia5String::try_from(dns_name.as_str()).map(SanType::DnsName))
        .chain(
            names
                .ip_addresses()
                .iter()
                .map(|address| Ok(SanType::IpAddress(*address))),
        )
        .collect::<Result<_, _>>()?;
    params.not_before = now.saturating_sub(BACKDATING);
    params.not_after = now.saturating_add(VALIDITY);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn exists(path: &Path) -> Result<bool, TlsError> {
    path.try_exists().map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Writes `contents` to `path` so that a crash leaves either the old file or the new one:
/// a temporary file in `directory` (created 0600, then given `mode`), flushed, renamed over
/// `path`, then the directory flushed so that the rename itself survives a crash.
fn write_atomically(
    directory: &Path,
    path: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<(), TlsError> {
    let write_error = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".console-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(write_error)?;
    temporary
        .as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(write_error)?;
    temporary.write_all(contents).map_err(write_error)?;
    temporary.as_file().sync_all().map_err(write_error)?;
    temporary
        .persist(path)
        .map_err(|persist_error| write_error(persist_error.error))?;
    fs::File::open(directory)
        .and_then(|directory_file| directory_file.sync_all())
        .map_err(|source| TlsError::Write {
            path: directory.to_owned(),
            source,
        })
}

/// A loaded certificate with its private key, ready for rustls, and what users are shown
/// to recognise it. `Debug` shows the fingerprints, never the key.
#[derive(Clone)]
pub struct Certificate {
    certified_key: Arc<CertifiedKey>,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    spki_sha256: Digest,
    certificate_sha256: Digest,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Certificate {
    /// Parses a PEM certificate file (the leaf first, then any intermediates) and a PEM key
    /// file; `files` names them in errors.
    fn from_pem_pair(
        cert_pem: &[u8],
        key_pem: &[u8],
        files: &CertificateFiles,
    ) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsError::CertificatePem {
                path: files.cert_path.clone(),
                source,
            })?;
        let Some(leaf) = chain.first().cloned() else {
            return Err(TlsError::NoCertificate {
                path: files.cert_path.clone(),
            });
        };
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&leaf).map_err(|error| TlsError::Certificate {
                path: files.cert_path.clone(),
                source: match error {
                    x509_parser::nom::Err::Error(error) | x509_parser::nom::Err::Failure(error) => {
                        error
                    }
                    x509_parser::nom::Err::Incomplete(_) => {
                        x509_parser::error::X509Error::InvalidCertificate
                    }
                },
            })?;
        let spki_sha256 = digest(&SHA256, parsed.tbs_certificate.subject_pki.raw);
        let not_before = system_time_from_unix(parsed.validity().not_before.timestamp());
        let not_after = system_time_from_unix(parsed.validity().not_after.timestamp());

        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| TlsError::KeyPem {
            path: files.key_path.clone(),
            source,
        })?;
        let provider = rustls::crypto::ring::default_provider();
        let certified_key =
            CertifiedKey::from_der(chain.clone(), key, &provider).map_err(|error| match error {
                rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                    cert_path: files.cert_path.clone(),
                    key_path: files.key_path.clone(),
                },
                source => TlsError::UnusableKey {
                    path: files.key_path.clone(),
                    source,
                },
            })?;

        Ok(Self {
            certified_key: Arc::new(certified_key),
            // Encoded again rather than copied from the file: whatever else the file holds
            // (comments, by mistake a key) never reaches a user downloading the certificate.
            cert_pem: chain
                .iter()
                .map(|der| pem_encode("CERTIFICATE", der))
                .collect(),
            certificate_sha256: digest(&SHA256, &leaf),
            cert_der: leaf,
            spki_sha256,
            not_before,
            not_after,
        })
    }

    /// The certificate chain in PEM, as browsers and `curl --cacert` take it.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The leaf certificate in DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Base64 (standard alphabet, padded) of the SHA-256 of the DER SubjectPublicKeyInfo:
    /// what Chromium's `--ignore-certificate-errors-spki-list` and HTTP public key pinning
    /// take. It depends on the key only, so it survives re-issuing a certificate for the
    /// same key.
    pub fn spki_sha256_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.spki_sha256)
    }

    /// The SHA-256 of the certificate in DER as colon-separated uppercase hex
    /// (`27:D5:…`), as browsers and `openssl x509 -fingerprint -sha256` show it, for users
    /// to compare before accepting the certificate.
    pub fn sha256_fingerprint(&self) -> String {
        self.certificate_sha256
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// When the certificate starts being valid.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// When the certificate expires.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// The certificate and key as rustls serves them.
    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.certified_key)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Certificate")
            .field("sha256_fingerprint", &self.sha256_fingerprint())
            .field("spki_sha256_base64", &self.spki_sha256_base64())
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn system_time_from_unix(seconds: i64) -> SystemTime {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    let time = if seconds >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    time.unwrap_or(UNIX_EPOCH)
}

/// RFC 7468 PEM: base64 in lines of 64 characters between BEGIN and END lines.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

#[cfg(test)]
mod tests;
