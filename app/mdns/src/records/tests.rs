//! Tests of the DNS-SD record helpers, on resolved services built in memory.

use std::net::IpAddr;

use mdns_sd::{ResolvedService, ServiceInfo};

use super::*;

fn address(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// What a browser would resolve for `instance` registered with `properties`.
fn resolved(
    service_type: &str,
    instance: &str,
    addresses: &[&str],
    properties: &[(&str, &str)],
) -> ResolvedService {
    ServiceInfo::new(
        service_type,
        instance,
        "nas.local.",
        addresses,
        8443,
        properties,
    )
    .expect("service info")
    .as_resolved_service()
}

fn console() -> Advertisement {
    Advertisement::for_console("nas", 8443, true, "0.3.1")
}

#[test]
fn a_console_advertisement_is_named_after_its_host_and_served_at_the_root() {
    let advertisement = console();
    assert_eq!(advertisement.instance, "WiZFS on nas");
    assert_eq!(advertisement.hostname, "nas");
    assert_eq!(advertisement.path, "/");
    assert_eq!(advertisement.web_service_type(), "_https._tcp.local.");
    let plain = Advertisement::for_console("nas", 8080, false, "0.3.1");
    assert_eq!(plain.web_service_type(), "_http._tcp.local.");
}

#[test]
fn a_long_instance_name_is_cut_to_63_bytes_at_a_character_boundary() {
    let advertisement = Advertisement::for_console(&"é".repeat(40), 443, true, "1");
    // "WiZFS on " is 9 bytes, each "é" 2: 27 of them fit in 63 bytes.
    assert_eq!(advertisement.instance.len(), 63);
    assert!(advertisement.instance.ends_with('é'));
    assert!(check_instance(&advertisement.instance).is_ok());
}

#[test]
fn txt_properties_start_with_the_format_version_and_carry_scheme_version_and_path() {
    assert_eq!(
        txt_properties(&console()),
        [
            ("txtvers", "1".to_owned()),
            ("scheme", "https".to_owned()),
            ("version", "0.3.1".to_owned()),
            ("path", "/".to_owned()),
        ]
    );
    let plain = Advertisement::for_console("nas", 8080, false, "0.3.1");
    assert_eq!(txt_properties(&plain)[1], ("scheme", "http".to_owned()));
}

#[test]
fn what_the_advertiser_writes_the_browser_reads_back() {
    let properties = txt_properties(&console());
    let service = ServiceInfo::new(
        WIZFS_SERVICE_TYPE,
        "WiZFS on nas",
        "nas.local.",
        &["192.168.1.5", "fd00::5", "10.0.0.2"][..],
        8443,
        properties.as_slice(),
    )
    .expect("service info")
    .as_resolved_service();

    let found = found_from_resolved(&service).expect("a console");

    assert_eq!(
        found,
        Found {
            instance: "WiZFS on nas".to_owned(),
            hostname: "nas.local".to_owned(),
            addresses: vec![
                address("10.0.0.2"),
                address("192.168.1.5"),
                address("fd00::5")
            ],
            port: 8443,
            https: true,
            version: "0.3.1".to_owned(),
            path: "/".to_owned(),
        }
    );
    assert_eq!(found.url(), "https://nas.local:8443/");
}

#[test]
fn an_instance_name_with_dots_and_backslashes_is_read_back_as_written() {
    let service = resolved(
        WIZFS_SERVICE_TYPE,
        r"WiZFS on nas.v2 \ lab",
        &["192.168.1.5"],
        &[("scheme", "https")],
    );
    assert_eq!(
        service.get_fullname(),
        r"WiZFS on nas\.v2 \\ lab._wizfs._tcp.local."
    );
    let found = found_from_resolved(&service).expect("a console");
    assert_eq!(found.instance, r"WiZFS on nas.v2 \ lab");
}

#[test]
fn missing_optional_keys_take_their_defaults() {
    let service = resolved(
        WIZFS_SERVICE_TYPE,
        "WiZFS on nas",
        &["192.168.1.5"],
        &[("scheme", "http")],
    );
    let found = found_from_resolved(&service).expect("txtvers defaults to 1");
    assert!(!found.https);
    assert_eq!(found.version, "");
    assert_eq!(found.path, "/");
    assert_eq!(found.url(), "http://nas.local:8443/");
}

#[test]
fn services_that_are_not_readable_consoles_are_ignored_with_the_reason() {
    let cases = [
        (
            resolved(
                WIZFS_SERVICE_TYPE,
                "WiZFS on nas",
                &["192.168.1.5"],
                &[("txtvers", "2"), ("scheme", "https")],
            ),
            Ignored::TxtVersion {
                fullname: "WiZFS on nas._wizfs._tcp.local.".to_owned(),
                txtvers: "2".to_owned(),
            },
        ),
        (
            resolved(
                WIZFS_SERVICE_TYPE,
                "WiZFS on nas",
                &["192.168.1.5"],
                &[("txtvers", "1")],
            ),
            Ignored::Scheme {
                fullname: "WiZFS on nas._wizfs._tcp.local.".to_owned(),
                scheme: None,
            },
        ),
        (
            resolved(
                WIZFS_SERVICE_TYPE,
                "WiZFS on nas",
                &["192.168.1.5"],
                &[("scheme", "ftp")],
            ),
            Ignored::Scheme {
                fullname: "WiZFS on nas._wizfs._tcp.local.".to_owned(),
                scheme: Some("ftp".to_owned()),
            },
        ),
        (
            resolved(
                WIZFS_SERVICE_TYPE,
                "WiZFS on nas",
                &[],
                &[("scheme", "https")],
            ),
            Ignored::NoAddress {
                fullname: "WiZFS on nas._wizfs._tcp.local.".to_owned(),
            },
        ),
        (
            resolved(
                HTTPS_SERVICE_TYPE,
                "Printer",
                &["192.168.1.9"],
                &[("scheme", "https")],
            ),
            Ignored::OtherType {
                fullname: "Printer._https._tcp.local.".to_owned(),
            },
        ),
    ];
    for (service, expected) in cases {
        assert_eq!(found_from_resolved(&service), Err(expected));
    }
}

#[test]
fn instance_names_come_only_from_full_names_of_the_given_type() {
    assert_eq!(
        instance_from_fullname("WiZFS on nas._wizfs._tcp.local.", WIZFS_SERVICE_TYPE).as_deref(),
        Some("WiZFS on nas")
    );
    assert_eq!(
        instance_from_fullname("_wizfs._tcp.local.", WIZFS_SERVICE_TYPE),
        None
    );
    assert_eq!(
        instance_from_fullname("._wizfs._tcp.local.", WIZFS_SERVICE_TYPE),
        None
    );
    assert_eq!(
        instance_from_fullname("x_wizfs._tcp.local.", WIZFS_SERVICE_TYPE),
        None
    );
    assert_eq!(
        instance_from_fullname("x._http._tcp.local.", WIZFS_SERVICE_TYPE),
        None
    );
}

#[test]
fn host_names_become_one_label_under_local() {
    for (given, expected) in [
        ("nas", "nas.local."),
        ("NAS", "nas.local."),
        ("nas.local", "nas.local."),
        ("nas.local.", "nas.local."),
        ("nas.example.org", "nas.local."),
        ("wizfs-01", "wizfs-01.local."),
    ] {
        assert_eq!(
            service_hostname(given).expect("valid").as_str(),
            expected,
            "{given}"
        );
    }
    for invalid in ["", ".", "my_nas", "-nas", "nas-", "näs", &"x".repeat(64)] {
        assert!(
            matches!(
                service_hostname(invalid),
                Err(MdnsError::InvalidHostname { hostname }) if hostname == invalid
            ),
            "{invalid:?}"
        );
    }
}

#[test]
fn instance_names_must_fit_one_label_without_control_characters() {
    assert!(check_instance("WiZFS on nas").is_ok());
    assert!(check_instance(&"x".repeat(63)).is_ok());
    for invalid in ["", "WiZFS\non nas", "tab\there", &"x".repeat(64)] {
        assert!(
            matches!(
                check_instance(invalid),
                Err(MdnsError::InvalidInstance { instance }) if instance == invalid
            ),
            "{invalid:?}"
        );
    }
}
