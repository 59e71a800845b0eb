//! The names a console certificate is valid for. Browsers compare the address typed by the
//! user against the certificate's subject alternative names, so the certificate must list
//! every name the appliance is reached by: its host name, `<host>.local` (mDNS) and the
//! loopback names. A host name the DNS cannot hold is skipped with a warning: a certificate
//! without it is still better than no console at all.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The DNS names and IP addresses to put in a certificate, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectNames {
    hostname: Option<String>,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
}

impl SubjectNames {
    /// Names for the console of `hostname`: the host name itself (lowercased, without a
    /// trailing dot), `<first label>.local` for mDNS, `localhost`, then `extra_ips`,
    /// `127.0.0.1` and `::1`. Invalid host names and meaningless addresses (unspecified,
    /// multicast) are skipped with a warning. A host name that is an IP address literal is
    /// listed as an address.
    pub fn for_host(hostname: &str, extra_ips: &[IpAddr]) -> Self {
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        let mut valid_hostname = None;

        let normalized = hostname.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Ok(address) = normalized.parse::<IpAddr>() {
            ip_addresses.push(address);
        } else if is_valid_dns_name(&normalized) {
            push_unique(&mut dns_names, normalized.clone());
            if normalized != "localhost" {
                let first_label = normalized.split('.').next().unwrap_or(&normalized);
                push_unique(&mut dns_names, format!("{first_label}.local"));
            }
            valid_hostname = Some(normalized);
        } else {
            tracing::warn!(
                hostname,
                "the host name is not a valid DNS name; the console certificate will not list it"
            );
        }
        push_unique(&mut dns_names, "localhost".to_owned());

        for address in extra_ips {
            if address.is_unspecified() || address.is_multicast() {
                tracing::warn!(%address, "not a host address; the console certificate will not list it");
                continue;
            }
            push_unique(&mut ip_addresses, address.to_canonical());
        }
        push_unique(&mut ip_addresses, IpAddr::V4(Ipv4Addr::LOCALHOST));
        push_unique(&mut ip_addresses, IpAddr::V6(Ipv6Addr::LOCALHOST));

        Self {
            hostname: valid_hostname,
            dns_names,
            ip_addresses,
        }
    }

    /// The DNS names, the host name first.
    pub fn dns_names(&self) -> &[String] {
        &self.dns_names
    }

    /// The IP addresses, the extra ones first, then `127.0.0.1` and `::1`.
    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ip_addresses
    }

    /// The certificate's common name: `WiZFS console <hostname>`, or `WiZFS console` when the
    /// host name was not valid. Browsers show it; they do not match on it.
    pub fn common_name(&self) -> String {
        match &self.hostname {
            Some(hostname) => format!("WiZFS console {hostname}"),
            None => "WiZFS console".to_owned(),
        }
    }
}

fn push_unique<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if !items.contains(&item) {
        items.push(item);
    }
}

/// A host name per RFC 1123: dot-separated labels of 1–63 letters, digits and hyphens, not
/// starting or ending with a hyphen, at most 253 characters in all. Underscores, which some
/// people put in host names, are refused: certificate validators refuse them too.
fn is_valid_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn a_short_host_name_gets_its_mdns_name_and_the_loopback_names() {
        let names = SubjectNames::for_host("nas", &[v4("192.168.1.5")]);
        assert_eq!(names.dns_names(), ["nas", "nas.local", "localhost"]);
        assert_eq!(
            names.ip_addresses(),
            [v4("192.168.1.5"), v4("127.0.0.1"), v4("::1")]
        );
        assert_eq!(names.common_name(), "WiZFS console nas");
    }

    #[test]
    fn a_fully_qualified_name_is_lowercased_and_its_first_label_gets_the_mdns_name() {
        let names = SubjectNames::for_host("NAS.Example.org.", &[]);
        assert_eq!(
            names.dns_names(),
            ["nas.example.org", "nas.local", "localhost"]
        );
        assert_eq!(names.common_name(), "WiZFS console nas.example.org");
    }

    #[test]
    fn a_name_already_under_local_is_not_listed_twice() {
        let names = SubjectNames::for_host("nas.local", &[]);
        assert_eq!(names.dns_names(), ["nas.local", "localhost"]);
    }

    #[test]
    fn invalid_host_names_are_skipped_but_loopback_names_remain() {
        for invalid in [
            "my_nas",
            "-nas",
            "nas-",
            "",
            "nas..lan",
            "näs",
            "a b",
            &"x".repeat(64),
        ] {
            let names = SubjectNames::for_host(invalid, &[]);
            assert_eq!(names.dns_names(), ["localhost"], "host name {invalid:?}");
            assert_eq!(
                names.common_name(),
                "WiZFS console",
                "host name {invalid:?}"
            );
            assert_eq!(names.ip_addresses(), [v4("127.0.0.1"), v4("::1")]);
        }
    }

    #[test]
    fn a_name_longer_than_253_characters_is_refused_even_with_short_labels() {
        let long_name = vec!["abcdefghi"; 26].join(".");
        assert_eq!(long_name.len(), 259);
        assert!(!is_valid_dns_name(&long_name));
        assert!(is_valid_dns_name(&long_name[..253]));
    }

    #[test]
    fn an_address_given_as_host_name_is_listed_as_an_address() {
        let names = SubjectNames::for_host("10.0.0.7", &[]);
        assert_eq!(names.dns_names(), ["localhost"]);
        assert_eq!(
            names.ip_addresses(),
            [v4("10.0.0.7"), v4("127.0.0.1"), v4("::1")]
        );
    }

    #[test]
    fn unspecified_multicast_and_duplicate_addresses_are_dropped_and_mapped_ones_unwrapped() {
        let names = SubjectNames::for_host(
            "nas",
            &[
                v4("0.0.0.0"),
                v4("::"),
                v4("224.0.0.251"),
                v4("::ffff:192.168.1.5"),
                v4("192.168.1.5"),
                v4("127.0.0.1"),
                v4("fd00::2"),
            ],
        );
        assert_eq!(
            names.ip_addresses(),
            [v4("192.168.1.5"), v4("127.0.0.1"), v4("fd00::2"), v4("::1")]
        );
    }

    #[test]
    fn localhost_as_host_name_gets_no_local_twin() {
        let names = SubjectNames::for_host("localhost", &[]);
        assert_eq!(names.dns_names(), ["localhost"]);
    }
}
