//! The host names the console answers to.
//!
//! A web page on the LAN or the internet can make a victim's browser send requests to the
//! console under a name the attacker controls (DNS rebinding: `evil.example` first resolves
//! to the attacker's server, then to the appliance's address). The browser then treats the
//! console as `evil.example`'s own origin: `Origin` and `Host` agree, cookies for the console
//! are not sent, but a console that has no password yet, or one behind plain HTTP on
//! loopback, could be driven. The defence is to answer only to names the console is known
//! by: the configured ones, the machine's host name (and its `.local` mDNS name),
//! `localhost`, loopback addresses and the machine's own addresses as IP literals.
//!
//! Pure: the daemon gathers the machine's names and addresses and asks [`AllowedHosts`].

use std::collections::BTreeSet;
use std::net::IpAddr;

use thiserror::Error;

/// The host part of a `Host` header or `:authority`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lower-cased, without a trailing dot.
    Name(String),
    /// An IP literal (IPv6 written in brackets in the header).
    Address(IpAddr),
}

/// Why a `Host` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HostRefusal {
    /// Not `host[:port]`.
    #[error("the Host header {0:?} is not a host name or address with an optional port")]
    Malformed(String),
    /// A name or address this console is not known by.
    #[error(
        "this console does not answer to the host {0:?} (add it to [console] allowed_hosts if it is one of its names)"
    )]
    Unknown(String),
}

/// Longest `Host` value quoted in a refusal, in characters.
const QUOTE_MAX_CHARS: usize = 100;

fn quote(value: &str) -> String {
    value.chars().take(QUOTE_MAX_CHARS).collect()
}

/// Reads `host[:port]` (`[v6]:port` for IPv6). `None` when it is not of that form: empty,
/// with characters no host name has, a port that is not a number, a bare IPv6 literal.
pub fn parse_host(value: &str) -> Option<Host> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|port| port.parse::<u16>().is_ok());
        if !port_ok {
            return None;
        }
        return address
            .parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|address| Host::Address(IpAddr::V6(address)));
    }
    let host = match value.rsplit_once(':') {
        Some((host, port)) => {
            port.parse::<u16>().ok()?;
            host
        }
        None => value,
    };
    if let Ok(address) = host.parse::<std::net::Ipv4Addr>() {
        return Some(Host::Address(IpAddr::V4(address)));
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    (!name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok))
        .then_some(Host::Name(name))
}

/// The names and addresses the console answers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    names: BTreeSet<String>,
    addresses: BTreeSet<IpAddr>,
}

impl AllowedHosts {
    /// `names` (case and a trailing dot do not matter; entries that are IP literals count
    /// as addresses) and `addresses`; `localhost` and loopback addresses are always allowed.
    pub fn new<N: AsRef<str>>(
        names: impl IntoIterator<Item = N>,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> Self {
        let mut allowed = Self::default();
        for name in names {
            match parse_host(name.as_ref()) {
                Some(Host::Name(name)) => {
                    allowed.names.insert(name);
                }
                Some(Host::Address(address)) => {
                    allowed.addresses.insert(address.to_canonical());
                }
                None => {}
            }
        }
        allowed
            .addresses
            .extend(addresses.into_iter().map(|address| address.to_canonical()));
        allowed
    }

    /// Whether a request with this `Host` header is answered.
    pub fn check(&self, host_header: &str) -> Result<(), HostRefusal> {
        match parse_host(host_header) {
            None => Err(HostRefusal::Malformed(quote(host_header))),
            Some(host) if self.allows(&host) => Ok(()),
            Some(_) => Err(HostRefusal::Unknown(quote(host_header))),
        }
    }

    /// Whether `host` is one of the console's names or addresses.
    pub fn allows(&self, host: &Host) -> bool {
        match host {
            Host::Name(name) => name == "localhost" || self.names.contains(name),
            Host::Address(address) => {
                let address = address.to_canonical();
                address.is_loopback() || self.addresses.contains(&address)
            }
        }
    }

    /// Whether `host` is an IP literal this list does not know (the caller may refresh the
    /// machine's addresses, which change with DHCP, and ask again).
    pub fn is_unknown_address(&self, host: &Host) -> bool {
        matches!(host, Host::Address(_)) && !self.allows(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_are_parsed_strictly() {
        let name = |text: &str| Some(Host::Name(text.to_owned()));
        let address = |text: &str| Some(Host::Address(text.parse().unwrap()));
        let cases = [
            ("nas.local", name("nas.local")),
            ("NAS.Local.:8443", name("nas.local")),
            ("nas:443", name("nas")),
            ("192.168.1.5:8080", address("192.168.1.5")),
            ("[fe80::1]:8080", address("fe80::1")),
            ("[::1]", address("::1")),
            ("", None),
            ("nas:", None),
            ("nas:99999", None),
            ("nas:http", None),
            ("::1", None),
            ("[::1]x", None),
            ("evil.example/", None),
            ("evil example", None),
            ("evil\u{0}.example", None),
            ("a..b", None),
            ("user@evil.example", None),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_host(header), expected, "{header:?}");
        }
    }

    #[test]
    fn only_the_consoles_own_names_and_addresses_are_answered() {
        let allowed = AllowedHosts::new(
            ["nas", "nas.local", "NAS.example.com.", "10.0.0.9"],
            ["192.168.1.5".parse().unwrap(), "fd00::5".parse().unwrap()],
        );
        for host in [
            "nas",
            "nas.local:8080",
            "nas.example.com",
            "localhost:8080",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "192.168.1.5:443",
            "[::ffff:192.168.1.5]",
            "[fd00::5]:8080",
            "10.0.0.9",
        ] {
            assert_eq!(allowed.check(host), Ok(()), "{host}");
        }
        for host in [
            "evil.example:8080",
            "nas.evil.example",
            "192.168.1.6",
            "[fd00::6]",
            "0.0.0.0",
        ] {
            assert!(
                matches!(allowed.check(host), Err(HostRefusal::Unknown(_))),
                "{host}"
            );
        }
        assert!(matches!(
            allowed.check("evil example"),
            Err(HostRefusal::Malformed(_))
        ));
        assert!(allowed.is_unknown_address(&parse_host("192.168.1.6").unwrap()));
        assert!(!allowed.is_unknown_address(&parse_host("evil.example").unwrap()));
    }
}
