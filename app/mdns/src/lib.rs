//! Finding the WiZFS console on the LAN by name. A NAS gets its address from DHCP and has
//! no DNS entry, so `wizfsd` announces the console over multicast DNS (RFC 6762) with
//! DNS-SD records (RFC 6763): users type `https://<hostname>.local/` or pick it in a
//! Bonjour/Avahi browser, and `wizfs discover` lists every appliance of the network
//! ([`browse`]). Built on mdns-sd, which runs its own thread and needs no async runtime.

mod advertise;
mod browse;
mod daemon;
mod error;
mod records;

pub use advertise::Advertiser;
pub use browse::browse;
pub use daemon::Interfaces;
pub use error::MdnsError;
pub use records::{
    Advertisement, Found, HTTP_SERVICE_TYPE, HTTPS_SERVICE_TYPE, TXT_VERSION, WIZFS_SERVICE_TYPE,
    txt_properties,
};
