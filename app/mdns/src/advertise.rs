//! Announcing the console on the LAN, so that users reach it as `https://nas.local/` and
//! see it in Bonjour/Avahi browsers without knowing its address. The appliance registers
//! itself twice under one instance name: as `_wizfs._tcp` (found by `wizfs discover`) and
//! as `_https._tcp` or `_http._tcp` (found by generic browsers). Addresses are left to
//! mdns-sd, which follows the host's addresses as DHCP changes them.

use std::fmt;

use mdns_sd::{ServiceDaemon, ServiceInfo, UnregisterStatus};

use crate::{
    Advertisement, Interfaces, MdnsError, WIZFS_SERVICE_TYPE,
    daemon::{self, STOP_TIMEOUT},
    records::{check_instance, service_hostname, txt_properties},
};

/// The console's advertisement, live until [`stop`](Self::stop) or drop. Stopping sends
/// goodbye packets so that browsers forget the console at once rather than after the
/// records' time to live. Both block for at most a few seconds.
pub struct Advertiser {
    daemon: Option<ServiceDaemon>,
    fullnames: Vec<String>,
}

impl Advertiser {
    /// Registers `advertisement` on `interfaces`. Everything is checked before the mDNS
    /// daemon starts. The services are announced after mdns-sd has probed for name
    /// conflicts (about a second); a conflicting host name is renamed (`nas-2.local.`).
    pub fn start(advertisement: &Advertisement, interfaces: Interfaces) -> Result<Self, MdnsError> {
        check_instance(&advertisement.instance)?;
        let hostname = service_hostname(&advertisement.hostname)?;
        let properties = txt_properties(advertisement);
        let service_infos = [WIZFS_SERVICE_TYPE, advertisement.web_service_type()]
            .into_iter()
            .map(|service_type| {
                ServiceInfo::new(
                    service_type,
                    &advertisement.instance,
                    &hostname,
                    (),
                    advertisement.port,
                    properties.as_slice(),
                )
                .map(ServiceInfo::enable_addr_auto)
                .map_err(|source| MdnsError::Describe {
                    instance: advertisement.instance.clone(),
                    service_type,
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        // From here on, dropping `advertiser` on an error stops the daemon.
        let mut advertiser = Self {
            daemon: Some(daemon::start(interfaces)?),
            fullnames: Vec::new(),
        };
        for service_info in service_infos {
            let fullname = service_info.get_fullname().to_owned();
            if let Some(daemon) = &advertiser.daemon {
                daemon
                    .register(service_info)
                    .map_err(|source| MdnsError::Register {
                        fullname: fullname.clone(),
                        source,
                    })?;
            }
            advertiser.fullnames.push(fullname);
        }
        tracing::info!(
            services = ?advertiser.fullnames,
            hostname,
            port = advertisement.port,
            ?interfaces,
            "advertising the console over mDNS"
        );
        Ok(advertiser)
    }

    /// The full names of the registered services (`WiZFS on nas._wizfs._tcp.local.`, …).
    pub fn fullnames(&self) -> &[String] {
        &self.fullnames
    }

    /// Unregisters the services, waiting for the daemon to confirm that the goodbye
    /// packets went out, then stops the daemon. Blocks for at most a few seconds: in async
    /// code, call it from `spawn_blocking`.
    pub fn stop(mut self) -> Result<(), MdnsError> {
        self.stop_daemon()
    }

    fn stop_daemon(&mut self) -> Result<(), MdnsError> {
        let Some(daemon) = self.daemon.take() else {
            return Ok(());
        };
        let mut first_error = None;
        for fullname in &self.fullnames {
            let confirmed = daemon
                .unregister(fullname)
                .map_err(|source| MdnsError::Unregister {
                    fullname: fullname.clone(),
                    source,
                })
                .and_then(|status| {
                    status
                        .recv_timeout(STOP_TIMEOUT)
                        .map_err(|_| MdnsError::NotConfirmed {
                            what: format!("the unregistration of {fullname}"),
                            timeout: STOP_TIMEOUT,
                        })
                });
            match confirmed {
                Ok(UnregisterStatus::OK) => {}
                Ok(UnregisterStatus::NotFound) => {
                    tracing::debug!(fullname, "the mDNS daemon no longer knew the service");
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let shutdown = daemon::shut_down(&daemon);
        match first_error {
            Some(error) => Err(error),
            None => shutdown,
        }
    }
}

impl Drop for Advertiser {
    fn drop(&mut self) {
        if let Err(error) = self.stop_daemon() {
            tracing::warn!(%error, "stopping the mDNS advertisement");
        }
    }
}

impl fmt::Debug for Advertiser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Advertiser")
            .field("running", &self.daemon.is_some())
            .field("fullnames", &self.fullnames)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // These fail before any daemon starts: no socket is opened, no packet sent.

    #[test]
    fn an_invalid_host_name_is_refused_before_the_daemon_starts() {
        let advertisement = Advertisement::for_console("my_nas", 8443, true, "0.3.1");
        let error = Advertiser::start(&advertisement, Interfaces::LoopbackOnly)
            .expect_err("invalid host name");
        assert!(
            matches!(&error, MdnsError::InvalidHostname { hostname } if hostname == "my_nas"),
            "{error:?}"
        );
    }

    #[test]
    fn a_txt_value_too_long_for_a_txt_string_is_refused_before_the_daemon_starts() {
        let advertisement = Advertisement::for_console("nas", 8443, true, &"9".repeat(300));
        let error =
            Advertiser::start(&advertisement, Interfaces::LoopbackOnly).expect_err("too long");
        assert!(
            matches!(
                &error,
                MdnsError::Describe { instance, service_type, .. }
                    if instance == "WiZFS on nas" && *service_type == WIZFS_SERVICE_TYPE
            ),
            "{error:?}"
        );
    }

    #[test]
    fn an_empty_instance_name_is_refused_before_the_daemon_starts() {
        let mut advertisement = Advertisement::for_console("nas", 8443, true, "0.3.1");
        advertisement.instance.clear();
        let error = Advertiser::start(&advertisement, Interfaces::LoopbackOnly).expect_err("empty");
        assert!(
            matches!(error, MdnsError::InvalidInstance { .. }),
            "{error:?}"
        );
    }
}
