//! Starting and stopping mdns-sd's daemon on the chosen interfaces. Both the advertiser and
//! the browser need one, and both must stop it before returning or being dropped: a daemon
//! left running keeps a thread and two sockets, and keeps answering for the console.

use std::time::Duration;

use mdns_sd::{DaemonStatus, IfKind, ServiceDaemon};

use crate::MdnsError;

/// How long shutting down waits for the daemon to confirm that it sent its goodbyes.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Which network interfaces mDNS packets are sent and received on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interfaces {
    /// Every interface that is up (mdns-sd skips point-to-point links), loopback included:
    /// what the appliance uses.
    All,
    /// IPv4 loopback only, for tests: no mDNS packet leaves loopback. One caveat, from
    /// mdns-sd 0.21 itself: its daemon joins the mDNS groups on every interface as it
    /// starts, before this restriction reaches it, so the kernel still sends an IGMP and an
    /// MLD membership report (224.0.0.251, ff02::fb) out of each real interface. Seen with
    /// tcpdump on the build machine; tests that must not touch a network at all run in a
    /// network namespace holding only `lo`, where this works as well.
    LoopbackOnly,
}

/// A daemon on the standard mDNS port, restricted to `interfaces`. The restriction is
/// queued before any other command, so no mDNS packet goes out on an interface excluded
/// (but see [`Interfaces::LoopbackOnly`] about group membership reports).
pub(crate) fn start(interfaces: Interfaces) -> Result<ServiceDaemon, MdnsError> {
    let daemon = ServiceDaemon::new().map_err(|source| MdnsError::Daemon { source })?;
    if let Err(source) = restrict(&daemon, interfaces) {
        if let Err(error) = shut_down(&daemon) {
            tracing::debug!(%error, "stopping the mDNS daemon that could not be configured");
        }
        return Err(MdnsError::Daemon { source });
    }
    Ok(daemon)
}

fn restrict(daemon: &ServiceDaemon, interfaces: Interfaces) -> Result<(), mdns_sd::Error> {
    match interfaces {
        Interfaces::All => Ok(()),
        Interfaces::LoopbackOnly => {
            daemon.disable_interface(IfKind::All)?;
            daemon.enable_interface(IfKind::LoopbackV4)
        }
    }
}

/// Stops `daemon` (which first sends goodbye packets for every service it still
/// advertises) and waits at most [`STOP_TIMEOUT`] for it to confirm.
pub(crate) fn shut_down(daemon: &ServiceDaemon) -> Result<(), MdnsError> {
    let status = daemon
        .shutdown()
        .map_err(|source| MdnsError::Shutdown { source })?;
    match status.recv_timeout(STOP_TIMEOUT) {
        Ok(DaemonStatus::Shutdown) => Ok(()),
        Ok(other) => {
            tracing::debug!(status = ?other, "unexpected mDNS daemon status after shutdown");
            Ok(())
        }
        Err(_) => Err(MdnsError::NotConfirmed {
            what: "its shutdown".to_owned(),
            timeout: STOP_TIMEOUT,
        }),
    }
}
