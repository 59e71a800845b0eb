//! Advertising and browsing for real, over multicast on the loopback interface only (no
//! mDNS packet reaches a real network; see `Interfaces::LoopbackOnly` for the group
//! membership reports the kernel still sends). Two consoles are advertised, one over HTTPS
//! and one over plain HTTP; `browse` must find both with their TXT values, a generic
//! browser must see each under `_https._tcp` or `_http._tcp`, and stopping or dropping an
//! advertiser must send goodbyes that browsers act on.
//!
//! Other tests of the machine may advertise on loopback at the same time: assertions look
//! only at the instances made here, named after this process.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr},
    time::{Duration, Instant},
};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};
use wizfs_mdns::{
    Advertisement, Advertiser, Found, HTTP_SERVICE_TYPE, HTTPS_SERVICE_TYPE, Interfaces,
    WIZFS_SERVICE_TYPE, browse,
};

const BROWSE_TIME: Duration = Duration::from_secs(3);
const PATIENCE: Duration = Duration::from_secs(10);

/// What a generic browser saw: full name → (port, TXT `scheme`), and the full names that
/// said goodbye.
#[derive(Debug, Default)]
struct Seen {
    resolved: BTreeMap<String, (u16, Option<String>)>,
    removed: Vec<String>,
}

/// A raw mdns-sd browser on loopback, independent of the code under test.
struct GenericBrowser {
    daemon: ServiceDaemon,
    receivers: Vec<mdns_sd::Receiver<ServiceEvent>>,
    seen: Seen,
}

impl GenericBrowser {
    fn start(service_types: &[&str]) -> Self {
        let daemon = ServiceDaemon::new().expect("daemon");
        daemon.disable_interface(IfKind::All).expect("disable");
        daemon
            .enable_interface(IfKind::LoopbackV4)
            .expect("enable loopback");
        let receivers = service_types
            .iter()
            .map(|service_type| daemon.browse(service_type).expect("browse"))
            .collect();
        Self {
            daemon,
            receivers,
            seen: Seen::default(),
        }
    }

    /// Reads events until `done` holds or `PATIENCE` runs out; returns whether it held.
    fn wait_until(&mut self, done: impl Fn(&Seen) -> bool) -> bool {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.seen) {
            if Instant::now() > deadline {
                return false;
            }
            let mut idle = true;
            for receiver in &self.receivers {
                while let Ok(event) = receiver.try_recv() {
                    idle = false;
                    match event {
                        ServiceEvent::ServiceResolved(service) => {
                            let scheme = service.get_property_val_str("scheme").map(str::to_owned);
                            self.seen.resolved.insert(
                                service.get_fullname().to_owned(),
                                (service.get_port(), scheme),
                            );
                        }
                        ServiceEvent::ServiceRemoved(_, fullname) => {
                            self.seen.removed.push(fullname)
                        }
                        _ => {}
                    }
                }
            }
            if idle {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        true
    }
}

impl Drop for GenericBrowser {
    fn drop(&mut self) {
        if let Ok(status) = self.daemon.shutdown() {
            let _ = status.recv_timeout(Duration::from_secs(2));
        }
    }
}

#[test]
fn consoles_advertised_on_loopback_are_browsed_with_their_txt_values_until_they_stop() {
    let https_host = format!("wizfs-test-{}-a", std::process::id());
    let http_host = format!("wizfs-test-{}-b", std::process::id());
    let https_console = Advertisement::for_console(&https_host, 8443, true, "1.2.3-test");
    let http_console = Advertisement::for_console(&http_host, 8080, false, "1.2.3-test");
    let https_wizfs = format!("WiZFS on {https_host}.{WIZFS_SERVICE_TYPE}");
    let https_web = format!("WiZFS on {https_host}.{HTTPS_SERVICE_TYPE}");
    let http_wizfs = format!("WiZFS on {http_host}.{WIZFS_SERVICE_TYPE}");
    let http_web = format!("WiZFS on {http_host}.{HTTP_SERVICE_TYPE}");

    let mut generic =
        GenericBrowser::start(&[WIZFS_SERVICE_TYPE, HTTPS_SERVICE_TYPE, HTTP_SERVICE_TYPE]);
    let https_advertiser =
        Advertiser::start(&https_console, Interfaces::LoopbackOnly).expect("advertise https");
    let http_advertiser =
        Advertiser::start(&http_console, Interfaces::LoopbackOnly).expect("advertise http");
    assert_eq!(
        https_advertiser.fullnames(),
        [https_wizfs.clone(), https_web.clone()]
    );
    assert_eq!(
        http_advertiser.fullnames(),
        [http_wizfs.clone(), http_web.clone()]
    );

    let found = std::thread::scope(|scope| {
        let browsing = scope.spawn(|| browse(Interfaces::LoopbackOnly, BROWSE_TIME));
        let all_resolved = generic.wait_until(|seen| {
            [&https_wizfs, &https_web, &http_wizfs, &http_web]
                .iter()
                .all(|fullname| seen.resolved.contains_key(*fullname))
        });
        assert!(
            all_resolved,
            "a generic browser resolved only {:?}",
            generic.seen
        );
        browsing.join().expect("no panic").expect("browse")
    });

    let ours: Vec<&Found> = found
        .iter()
        .filter(|found| {
            found
                .hostname
                .starts_with(&format!("wizfs-test-{}-", std::process::id()))
        })
        .collect();
    let loopback = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    assert_eq!(
        ours,
        [
            &Found {
                instance: format!("WiZFS on {https_host}"),
                hostname: format!("{https_host}.local"),
                addresses: loopback.clone(),
                port: 8443,
                https: true,
                version: "1.2.3-test".to_owned(),
                path: "/".to_owned(),
            },
            &Found {
                instance: format!("WiZFS on {http_host}"),
                hostname: format!("{http_host}.local"),
                addresses: loopback,
                port: 8080,
                https: false,
                version: "1.2.3-test".to_owned(),
                path: "/".to_owned(),
            },
        ],
        "all found: {found:#?}"
    );

    // Generic browsers see each console under its web type only.
    assert_eq!(
        generic.seen.resolved[&https_web],
        (8443, Some("https".to_owned()))
    );
    assert_eq!(
        generic.seen.resolved[&http_web],
        (8080, Some("http".to_owned()))
    );
    assert!(
        !generic
            .seen
            .resolved
            .contains_key(&format!("WiZFS on {https_host}.{HTTP_SERVICE_TYPE}"))
    );
    assert!(
        !generic
            .seen
            .resolved
            .contains_key(&format!("WiZFS on {http_host}.{HTTPS_SERVICE_TYPE}"))
    );

    // Stopping one and dropping the other both say goodbye.
    https_advertiser.stop().expect("stop");
    drop(http_advertiser);
    let goodbyes_heard = generic.wait_until(|seen| {
        [&https_wizfs, &http_wizfs]
            .iter()
            .all(|fullname| seen.removed.contains(*fullname))
    });
    assert!(goodbyes_heard, "goodbyes heard: {:?}", generic.seen.removed);

    let after_stop = browse(Interfaces::LoopbackOnly, Duration::from_secs(2)).expect("browse");
    assert!(
        after_stop
            .iter()
            .all(|found| found.hostname != format!("{https_host}.local")
                && found.hostname != format!("{http_host}.local")),
        "still answering after stop: {after_stop:#?}"
    );
}
