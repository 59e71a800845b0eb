//! Tests of certificate creation and loading, on real files in temporary directories.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn names() -> SubjectNames {
    SubjectNames::for_host("wizfs-test", &["192.168.1.5".parse().expect("address")])
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn sorted_file_names(directory: &Path) -> Vec<String> {
    let mut file_names: Vec<String> = fs::read_dir(directory)
        .expect("read_dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    file_names.sort();
    file_names
}

#[test]
fn a_created_certificate_is_loaded_back_unchanged() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let created = CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let loaded = CertificateFiles::load_or_create(temporary.path(), &names()).expect("load");

    assert_eq!(loaded.spki_sha256_base64(), created.spki_sha256_base64());
    assert_eq!(loaded.sha256_fingerprint(), created.sha256_fingerprint());
    assert_eq!(loaded.cert_pem(), created.cert_pem());
    assert_eq!(loaded.not_after(), created.not_after());
    // Made once: the same bytes are on disk as at creation.
    let on_disk = fs::read(temporary.path().join(CERTIFICATE_FILE_NAME)).expect("read");
    let der_on_disk = CertificateDer::from_pem_slice(&on_disk).expect("pem");
    assert_eq!(&der_on_disk, loaded.cert_der());
}

#[test]
fn the_spki_hash_is_that_of_the_key_file_computed_independently() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let certificate = CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");

    // From the key rather than from the certificate: rcgen's own DER encoding of the
    // SubjectPublicKeyInfo, hashed and encoded here.
    let key_pem = fs::read_to_string(temporary.path().join(KEY_FILE_NAME)).expect("key");
    let key_pair = KeyPair::from_pem(&key_pem).expect("key pair");
    let spki_der = rcgen::PublicKeyData::subject_public_key_info(&key_pair);
    let expected =
        base64::engine::general_purpose::STANDARD.encode(digest(&SHA256, &spki_der).as_ref());

    assert_eq!(certificate.spki_sha256_base64(), expected);
    assert_eq!(expected.len(), 44, "32 bytes in padded base64");
}

#[test]
fn fingerprints_of_an_openssl_certificate_match_what_openssl_computes() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openssl-p256");
    for file_name in [CERTIFICATE_FILE_NAME, KEY_FILE_NAME] {
        fs::copy(fixture.join(file_name), temporary.path().join(file_name)).expect("copy");
    }

    let certificate = CertificateFiles::load_or_create(temporary.path(), &names()).expect("load");

    // Values from the fixture's README, computed with the openssl command line.
    assert_eq!(
        certificate.spki_sha256_base64(),
        "lB9ou1bpe/zDUvm4mZo6rlWKt53Gj6htXDIH69TGdZc="
    );
    assert_eq!(
        certificate.sha256_fingerprint(),
        "27:D5:7C:92:60:62:54:BE:16:8E:41:B2:CF:92:4C:D3:19:BA:7C:4C:E5:38:31:8B:FD:AD:F7:3E:DB:03:8B:F3"
    );
    assert_eq!(
        certificate.not_after(),
        UNIX_EPOCH + Duration::from_secs(2_111_062_617)
    );
    // An existing pair is only read.
    assert_eq!(
        fs::read(temporary.path().join(CERTIFICATE_FILE_NAME)).expect("read"),
        fs::read(fixture.join(CERTIFICATE_FILE_NAME)).expect("read")
    );
}

#[test]
fn a_generated_certificate_names_the_host_and_is_a_p256_server_certificate_for_ten_years() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let certificate = CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.cert_der()).expect("x509");

    let common_names: Vec<&str> = parsed
        .subject()
        .iter_common_name()
        .map(|attribute| attribute.as_str().expect("utf8"))
        .collect();
    assert_eq!(common_names, ["WiZFS console wizfs-test"]);
    assert_eq!(parsed.subject(), parsed.issuer(), "self-signed");

    let alternative_names = parsed
        .subject_alternative_name()
        .expect("extension")
        .expect("present");
    let listed: Vec<String> = alternative_names
        .value
        .general_names
        .iter()
        .map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns_name) => format!("DNS:{dns_name}"),
            x509_parser::extensions::GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => format!(
                    "IP:{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).expect("4"))
                ),
                _ => format!(
                    "IP:{}",
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).expect("16"))
                ),
            },
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        listed,
        [
            "DNS:wizfs-test",
            "DNS:wizfs-test.local",
            "DNS:localhost",
            "IP:192.168.1.5",
            "IP:127.0.0.1",
            "IP:::1"
        ]
    );

    let extended_usage = parsed
        .extended_key_usage()
        .expect("extension")
        .expect("present");
    assert!(extended_usage.value.server_auth);
    assert!(!parsed.is_ca());
    assert_eq!(
        parsed.public_key().algorithm.algorithm.to_id_string(),
        "1.2.840.10045.2.1",
        "id-ecPublicKey"
    );
    let curve = parsed
        .public_key()
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.as_oid().ok())
        .map(|oid| oid.to_id_string());
    assert_eq!(curve.as_deref(), Some("1.2.840.10045.3.1.7"), "prime256v1");

    let now = SystemTime::now();
    assert!(certificate.not_before() < now);
    let lifetime = certificate
        .not_after()
        .duration_since(certificate.not_before())
        .expect("ordered");
    assert_eq!(
        lifetime.as_secs(),
        3651 * 86_400,
        "ten years and the backdated day"
    );
}

#[test]
fn the_key_is_private_the_certificate_public_and_nothing_temporary_remains() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let directory = temporary.path().join("tls");
    CertificateFiles::load_or_create(&directory, &names()).expect("create");

    assert_eq!(mode(&directory.join(KEY_FILE_NAME)), 0o600);
    assert_eq!(mode(&directory.join(CERTIFICATE_FILE_NAME)), 0o644);
    assert_eq!(mode(&directory), 0o700, "a directory it creates is private");
    assert_eq!(
        sorted_file_names(&directory),
        ["console.crt", "console.key", "console.lock"]
    );
    let key_pem = fs::read_to_string(directory.join(KEY_FILE_NAME)).expect("key");
    assert!(
        key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "PKCS#8"
    );
}

#[test]
fn a_certificate_without_its_key_is_replaced_by_a_new_pair() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let first = CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    fs::remove_file(temporary.path().join(KEY_FILE_NAME)).expect("remove key");

    let second = CertificateFiles::load_or_create(temporary.path(), &names()).expect("recreate");

    assert_ne!(second.spki_sha256_base64(), first.spki_sha256_base64());
    let reloaded = CertificateFiles::in_directory(temporary.path())
        .load()
        .expect("the new pair matches");
    assert_eq!(reloaded.spki_sha256_base64(), second.spki_sha256_base64());
    assert_eq!(mode(&temporary.path().join(KEY_FILE_NAME)), 0o600);
}

#[test]
fn a_key_without_its_certificate_is_replaced_by_a_new_pair() {
    let temporary = tempfile::tempdir().expect("tempdir");
    CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let old_key = fs::read(temporary.path().join(KEY_FILE_NAME)).expect("key");
    fs::remove_file(temporary.path().join(CERTIFICATE_FILE_NAME)).expect("remove cert");

    let certificate =
        CertificateFiles::load_or_create(temporary.path(), &names()).expect("recreate");

    assert_ne!(
        fs::read(temporary.path().join(KEY_FILE_NAME)).expect("key"),
        old_key
    );
    let reloaded = CertificateFiles::in_directory(temporary.path())
        .load()
        .expect("the new pair matches");
    assert_eq!(
        reloaded.sha256_fingerprint(),
        certificate.sha256_fingerprint()
    );
}

#[test]
fn a_mismatched_pair_is_an_error_naming_both_files_and_is_left_alone() {
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    CertificateFiles::load_or_create(first.path(), &names()).expect("create");
    CertificateFiles::load_or_create(second.path(), &names()).expect("create");
    fs::copy(
        second.path().join(KEY_FILE_NAME),
        first.path().join(KEY_FILE_NAME),
    )
    .expect("copy");
    let cert_before = fs::read(first.path().join(CERTIFICATE_FILE_NAME)).expect("read");

    let error = CertificateFiles::load_or_create(first.path(), &names()).expect_err("mismatch");

    match &error {
        TlsError::KeyMismatch {
            cert_path,
            key_path,
        } => {
            assert_eq!(cert_path, &first.path().join(CERTIFICATE_FILE_NAME));
            assert_eq!(key_path, &first.path().join(KEY_FILE_NAME));
        }
        other => panic!("expected KeyMismatch, got {other:?}"),
    }
    assert!(error.to_string().contains("console.key"), "{error}");
    assert_eq!(
        fs::read(first.path().join(CERTIFICATE_FILE_NAME)).expect("read"),
        cert_before
    );
}

#[test]
fn a_file_that_is_not_a_certificate_is_an_error_naming_it_and_is_left_alone() {
    let temporary = tempfile::tempdir().expect("tempdir");
    CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let cert_path = temporary.path().join(CERTIFICATE_FILE_NAME);

    fs::write(&cert_path, "not a certificate\n").expect("write");
    let error = CertificateFiles::load_or_create(temporary.path(), &names()).expect_err("no pem");
    assert!(
        matches!(&error, TlsError::NoCertificate { path } if path == &cert_path),
        "{error:?}"
    );
    assert_eq!(
        fs::read_to_string(&cert_path).expect("read"),
        "not a certificate\n"
    );

    let broken_der = "-----BEGIN CERTIFICATE-----\nAAECAwQ=\n-----END CERTIFICATE-----\n";
    fs::write(&cert_path, broken_der).expect("write");
    let error = CertificateFiles::load_or_create(temporary.path(), &names()).expect_err("bad der");
    assert!(
        matches!(&error, TlsError::Certificate { path, .. } if path == &cert_path),
        "{error:?}"
    );
}

#[test]
fn a_key_file_without_a_key_is_an_error_naming_it() {
    let temporary = tempfile::tempdir().expect("tempdir");
    CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let key_path = temporary.path().join(KEY_FILE_NAME);
    fs::write(&key_path, "").expect("write");

    let error = CertificateFiles::load_or_create(temporary.path(), &names()).expect_err("no key");

    assert!(
        matches!(&error, TlsError::KeyPem { path, .. } if path == &key_path),
        "{error:?}"
    );
}

#[test]
fn the_pem_handed_out_holds_only_certificates_even_if_the_file_holds_the_key_too() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let created = CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let cert_path = temporary.path().join(CERTIFICATE_FILE_NAME);
    let key_pem = fs::read_to_string(temporary.path().join(KEY_FILE_NAME)).expect("key");
    let combined = format!("{}{key_pem}", fs::read_to_string(&cert_path).expect("cert"));
    fs::write(&cert_path, combined).expect("write");

    let loaded = CertificateFiles::in_directory(temporary.path())
        .load()
        .expect("load");

    assert!(!loaded.cert_pem().contains("PRIVATE KEY"));
    assert_eq!(loaded.cert_pem(), created.cert_pem());
    let lines: Vec<&str> = loaded.cert_pem().lines().collect();
    assert_eq!(lines.first(), Some(&"-----BEGIN CERTIFICATE-----"));
    assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
    assert!(lines.iter().all(|line| line.len() <= 64));
}

#[test]
fn processes_racing_to_create_end_up_with_one_pair() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let spkis: Vec<String> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    CertificateFiles::load_or_create(temporary.path(), &names())
                        .expect("create or load")
                        .spki_sha256_base64()
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|racer| racer.join().expect("no panic"))
            .collect()
    });
    let on_disk = CertificateFiles::in_directory(temporary.path())
        .load()
        .expect("load");
    assert!(
        spkis
            .iter()
            .all(|spki| spki == &on_disk.spki_sha256_base64()),
        "{spkis:?}"
    );
}

#[test]
fn debug_output_shows_the_fingerprint_and_not_the_key() {
    let temporary = tempfile::tempdir().expect("tempdir");
    let certificate = CertificateFiles::load_or_create(temporary.path(), &names()).expect("create");
    let debug = format!("{certificate:?}");
    assert!(debug.contains(&certificate.sha256_fingerprint()), "{debug}");
    assert!(!debug.contains("key"), "{debug}");
}

#[test]
fn unix_times_before_the_epoch_or_out_of_range_do_not_panic() {
    assert_eq!(
        system_time_from_unix(-86_400),
        UNIX_EPOCH - Duration::from_secs(86_400)
    );
    assert_eq!(system_time_from_unix(0), UNIX_EPOCH);
    let _ = system_time_from_unix(i64::MIN);
    let _ = system_time_from_unix(i64::MAX);
}
