//! Why the console could not be advertised or other appliances browsed: one enum for the
//! crate, each variant naming the service or host involved.

use std::time::Duration;

/// Everything that can go wrong advertising or browsing.
#[derive(Debug, thiserror::Error)]
pub enum MdnsError {
    /// The mDNS daemon (a thread of mdns-sd) could not be started or configured.
    #[error("cannot start the mDNS daemon: {source}")]
    Daemon { source: mdns_sd::Error },

    /// The host name cannot be advertised as `<hostname>.local.`.
    #[error(
        "cannot advertise host name `{hostname}`: it must be one DNS label of 1–63 letters, digits and hyphens"
    )]
    InvalidHostname { hostname: String },

    /// The instance name is empty or longer than one DNS label (63 bytes).
    #[error("cannot advertise instance name `{instance}`: it must be 1–63 bytes long")]
    InvalidInstance { instance: String },

    /// mdns-sd refused the service description (a TXT value too long, for example).
    #[error("cannot describe `{instance}` as {service_type}: {source}")]
    Describe {
        instance: String,
        service_type: &'static str,
        source: mdns_sd::Error,
    },

    /// The daemon refused to register a service.
    #[error("cannot register {fullname}: {source}")]
    Register {
        fullname: String,
        source: mdns_sd::Error,
    },

    /// The daemon refused to unregister a service.
    #[error("cannot unregister {fullname}: {source}")]
    Unregister {
        fullname: String,
        source: mdns_sd::Error,
    },

    /// The daemon refused to browse.
    #[error("cannot browse for {service_type}: {source}")]
    Browse {
        service_type: &'static str,
        source: mdns_sd::Error,
    },

    /// The daemon stopped while browsing.
    #[error("the mDNS daemon stopped while browsing for {service_type}")]
    BrowseInterrupted { service_type: &'static str },

    /// The daemon did not confirm an unregistration or its shutdown in time.
    #[error("the mDNS daemon did not confirm {what} within {timeout:?}")]
    NotConfirmed { what: String, timeout: Duration },

    /// The daemon refused to shut down.
    #[error("cannot shut the mDNS daemon down: {source}")]
    Shutdown { source: mdns_sd::Error },
}
