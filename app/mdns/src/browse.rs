//! Finding WiZFS consoles on the LAN, for `wizfs discover`: browse `_wizfs._tcp` for a
//! fixed time and list what resolved.
//!
//! Browsing always lasts the whole `timeout`. Stopping at the first answer would be quicker
//! but would miss the second appliance of a network, whose responder waits a random 20–120
//! ms before answering and may resolve later still; a command that lists consoles should
//! list the same ones every time. The caller picks the wait (a second or two is plenty on a
//! LAN).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use mdns_sd::{RecvTimeoutError, ServiceEvent};

use crate::{
    Found, Interfaces, MdnsError, WIZFS_SERVICE_TYPE, daemon, records::found_from_resolved,
};

/// The longest browse: beyond it a caller is not waiting but stuck.
const MAX_BROWSE: Duration = Duration::from_secs(3600);

/// Browses `_wizfs._tcp.local.` on `interfaces` for `timeout` (at most an hour) and
/// returns the consoles that resolved and did not say goodbye meanwhile, sorted, one per
/// service instance (the last resolution wins). Services that are not WiZFS consoles of
/// a known TXT format are skipped (logged at debug). Blocks the calling thread: in async
/// code, call it from `spawn_blocking`.
pub fn browse(interfaces: Interfaces, timeout: Duration) -> Result<Vec<Found>, MdnsError> {
    let daemon = daemon::start(interfaces)?;
    let collected = collect(&daemon, timeout.min(MAX_BROWSE));
    let shutdown = daemon::shut_down(&daemon);
    let by_fullname = collected?;
    if let Err(error) = shutdown {
        tracing::debug!(%error, "stopping the mDNS daemon after browsing");
    }
    let mut found: Vec<Found> = by_fullname.into_values().collect();
    found.sort();
    found.dedup();
    Ok(found)
}

fn collect(
    daemon: &mdns_sd::ServiceDaemon,
    timeout: Duration,
) -> Result<BTreeMap<String, Found>, MdnsError> {
    let receiver = daemon
        .browse(WIZFS_SERVICE_TYPE)
        .map_err(|source| MdnsError::Browse {
            service_type: WIZFS_SERVICE_TYPE,
            source,
        })?;
    let started = Instant::now();
    let deadline = started.checked_add(timeout).unwrap_or(started);
    let mut by_fullname = BTreeMap::new();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        match receiver.recv_timeout(remaining) {
            Ok(ServiceEvent::ServiceResolved(resolved)) => match found_from_resolved(&resolved) {
                Ok(found) => {
                    tracing::debug!(fullname = resolved.get_fullname(), ?found, "resolved");
                    by_fullname.insert(resolved.get_fullname().to_owned(), found);
                }
                Err(ignored) => tracing::debug!(%ignored, "skipping a service"),
            },
            Ok(ServiceEvent::ServiceRemoved(_, fullname)) => {
                tracing::debug!(fullname, "said goodbye");
                by_fullname.remove(&fullname);
            }
            Ok(other) => tracing::trace!(event = ?other, "mDNS browse event"),
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(MdnsError::BrowseInterrupted {
                    service_type: WIZFS_SERVICE_TYPE,
                });
            }
        }
    }
    if let Err(error) = daemon.stop_browse(WIZFS_SERVICE_TYPE) {
        tracing::debug!(%error, "stopping the mDNS browse");
    }
    Ok(by_fullname)
}
