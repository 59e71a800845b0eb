//! What WiZFS puts in DNS-SD records and how it reads them back, as pure functions: the
//! advertiser and the browser must agree on the TXT keys, and both are tested here
//! without a network.
//!
//! TXT format version 1 (`txtvers=1`, first as RFC 6763 §6.7 recommends):
//! `scheme` (`https` or `http`), `version` (the WiZFS version) and `path` (where the
//! console is served, `/`). A later format that old readers must not misread gets a new
//! `txtvers`; new keys alone do not.

use std::net::IpAddr;

use mdns_sd::ResolvedService;

use crate::MdnsError;

/// The WiZFS service type, browsed by `wizfs discover`.
pub const WIZFS_SERVICE_TYPE: &str = "_wizfs._tcp.local.";
/// The generic service type of web consoles served over HTTPS (browsers, Avahi, Bonjour
/// browsers list it).
pub const HTTPS_SERVICE_TYPE: &str = "_https._tcp.local.";
/// The generic service type of web consoles served over plain HTTP.
pub const HTTP_SERVICE_TYPE: &str = "_http._tcp.local.";
/// The TXT format version this crate writes and reads.
pub const TXT_VERSION: &str = "1";

/// What the console announces about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertisement {
    /// The DNS-SD instance name users see, such as `WiZFS on nas` (1–63 bytes of UTF-8).
    pub instance: String,
    /// The host name, published as `<hostname>.local.`; a fully qualified name is cut to
    /// its first label.
    pub hostname: String,
    /// The console's TCP port.
    pub port: u16,
    /// Whether the console is served over HTTPS.
    pub https: bool,
    /// The WiZFS version.
    pub version: String,
    /// The path of the console, normally `/`.
    pub path: String,
}

impl Advertisement {
    /// The usual advertisement of the console on `hostname`: instance `WiZFS on
    /// <hostname>` (cut to 63 bytes), path `/`.
    pub fn for_console(hostname: &str, port: u16, https: bool, version: &str) -> Self {
        Self {
            instance: truncate_to_label(&format!("WiZFS on {hostname}")),
            hostname: hostname.to_owned(),
            port,
            https,
            version: version.to_owned(),
            path: "/".to_owned(),
        }
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The generic service type the console is also registered as, for web browsers.
    pub fn web_service_type(&self) -> &'static str {
        if self.https {
            HTTPS_SERVICE_TYPE
        } else {
            HTTP_SERVICE_TYPE
        }
    }
}

/// The TXT properties of an advertisement, in the order they are sent.
pub fn txt_properties(advertisement: &Advertisement) -> Vec<(&'static str, String)> {
    vec![
        ("txtvers", TXT_VERSION.to_owned()),
        ("scheme", advertisement.scheme().to_owned()),
        ("version", advertisement.version.clone()),
        ("path", advertisement.path.clone()),
    ]
}

/// A WiZFS console found on the network.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Found {
    /// The instance name, such as `WiZFS on nas`.
    pub instance: String,
    /// The host name the service points to, such as `nas.local` (no trailing dot).
    pub hostname: String,
    /// Its addresses, sorted, IPv4 first.
    pub addresses: Vec<IpAddr>,
    /// The console's TCP port.
    pub port: u16,
    /// Whether the console is served over HTTPS.
    pub https: bool,
    /// The WiZFS version it announced (empty if it announced none).
    pub version: String,
    /// The console's path (`/` if it announced none).
    pub path: String,
}

impl Found {
    /// A URL to open the console, by host name: `https://nas.local:8443/`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}{}", self.hostname, self.port, self.path)
    }
}

/// Why a resolved service was not taken as a WiZFS console.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Ignored {
    #[error("{fullname} is not a {WIZFS_SERVICE_TYPE} instance")]
    OtherType { fullname: String },
    #[error("{fullname} uses TXT format version {txtvers:?}; this WiZFS reads {TXT_VERSION}")]
    TxtVersion { fullname: String, txtvers: String },
    #[error("{fullname} announces scheme {scheme:?}, neither https nor http")]
    Scheme {
        fullname: String,
        scheme: Option<String>,
    },
    #[error("{fullname} has no address")]
    NoAddress { fullname: String },
}

/// Reads a resolved `_wizfs._tcp` service. A missing `txtvers` is read as version 1;
/// `scheme` is required; `version` and `path` default to empty and `/`.
pub(crate) fn found_from_resolved(resolved: &ResolvedService) -> Result<Found, Ignored> {
    let fullname = resolved.get_fullname();
    let Some(instance) = instance_from_fullname(fullname, WIZFS_SERVICE_TYPE) else {
        return Err(Ignored::OtherType {
            fullname: fullname.to_owned(),
        });
    };
    let txtvers = resolved
        .get_property_val_str("txtvers")
        .unwrap_or(TXT_VERSION);
    if txtvers != TXT_VERSION {
        return Err(Ignored::TxtVersion {
            fullname: fullname.to_owned(),
            txtvers: txtvers.to_owned(),
        });
    }
    let https = match resolved.get_property_val_str("scheme") {
        Some("https") => true,
        Some("http") => false,
        other => {
            return Err(Ignored::Scheme {
                fullname: fullname.to_owned(),
                scheme: other.map(str::to_owned),
            });
        }
    };
    let mut addresses: Vec<IpAddr> = resolved
        .get_addresses()
        .iter()
        .map(|scoped| scoped.to_ip_addr())
        .collect();
    if addresses.is_empty() {
        return Err(Ignored::NoAddress {
            fullname: fullname.to_owned(),
        });
    }
    addresses.sort();
    addresses.dedup();
    let path = match resolved.get_property_val_str("path") {
        Some(path) if !path.is_empty() => path.to_owned(),
        _ => "/".to_owned(),
    };
    Ok(Found {
        instance,
        hostname: resolved.get_hostname().trim_end_matches('.').to_owned(),
        addresses,
        port: resolved.get_port(),
        https,
        version: resolved
            .get_property_val_str("version")
            .unwrap_or_default()
            .to_owned(),
        path,
    })
}

/// The instance name of `fullname` (`<instance>.<service_type>`), with the `\.` and `\\`
/// escapes mdns-sd uses for dots and backslashes inside the instance label undone.
pub(crate) fn instance_from_fullname(fullname: &str, service_type: &str) -> Option<String> {
    let escaped = fullname.strip_suffix(service_type)?.strip_suffix('.')?;
    if escaped.is_empty() {
        return None;
    }
    let mut instance = String::with_capacity(escaped.len());
    let mut characters = escaped.chars().peekable();
    while let Some(character) = characters.next() {
        match (character, characters.peek()) {
            ('\\', Some(&escaped_character @ ('.' | '\\'))) => {
                instance.push(escaped_character);
                characters.next();
            }
            _ => instance.push(character),
        }
    }
    Some(instance)
}

/// `<label>.local.` for `hostname`: a trailing dot and a `.local` suffix are dropped, a
/// fully qualified name is cut to its first label, which must be a valid DNS label.
pub(crate) fn service_hostname(hostname: &str) -> Result<String, MdnsError> {
    let trimmed = hostname.trim().trim_end_matches('.');
    let label = trimmed
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let valid = (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if valid {
        Ok(format!("{label}.local."))
    } else {
        Err(MdnsError::InvalidHostname {
            hostname: hostname.to_owned(),
        })
    }
}

/// Checks an instance name: one DNS label (1–63 bytes of UTF-8) without control
/// characters (RFC 6763 §4.1.1).
pub(crate) fn check_instance(instance: &str) -> Result<(), MdnsError> {
    if (1..=63).contains(&instance.len()) && !instance.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(MdnsError::InvalidInstance {
            instance: instance.to_owned(),
        })
    }
}

/// `name` cut to at most 63 bytes at a character boundary.
fn truncate_to_label(name: &str) -> String {
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

#[cfg(test)]
mod tests;
