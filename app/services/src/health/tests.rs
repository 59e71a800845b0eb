//! Rounds of the health service over the fake backend: `FakeZfs`, the fixture SMART source
//! (the two NVMe disks captured in the test VM), a sysfs tree in a temporary directory and a
//! webhook receiver on 127.0.0.1. What is checked is what reaches the receiver and the
//! disk: one message per problem, none again after a restart, a sleeping disk keeps its
//! alert, a resolved message when the problem goes, history points and a saved book.

use std::path::Path;
use std::sync::Arc;

use super::fixtures::FixtureSmartSource;
use super::*;
use crate::testing::{Machine, Receiver};

async fn round(service: &HealthService, seconds: i64, read_disks: bool) -> Arc<HealthView> {
    round_with(service, seconds, read_disks, UdisksRead::NotAsked).await
}

async fn round_with(
    service: &HealthService,
    seconds: i64,
    read_disks: bool,
    udisks: UdisksRead,
) -> Arc<HealthView> {
    let service = service.clone();
    tokio::task::spawn_blocking(move || service.round(Timestamp(seconds), read_disks, &udisks))
        .await
        .expect("round")
}

use crate::testing::START;

fn critical_disk_events(events: &[(String, String)]) -> Vec<&str> {
    events
        .iter()
        .filter(|(_, kind)| kind == "nvme_critical_warning")
        .map(|(event, _)| event.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_message_per_problem_across_rounds_and_restarts() {
    let (receiver, url) = Receiver::start().await;
    let machine = Machine::new(&url);
    let service = machine.service();
    assert!(service.latest().is_none());

    let view = round(&service, START, false).await;
    assert_eq!(view.disks.len(), 2);
    let identities: Vec<_> = view
        .disks
        .iter()
        .map(|disk| disk.identity.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        identities,
        ["QEMU_NVMe_Ctrl_WIZFSNVME0", "QEMU_NVMe_Ctrl_WIZFSNVME1"]
    );
    assert_eq!(view.disks[0].severity, None);
    assert_eq!(
        view.disks[1].severity,
        Some(wizfs_api::health::Severity::Critical)
    );
    assert_eq!(view.summary.status, "critical");
    assert_eq!(view.pools[0].name, "tank");
    assert_eq!(view.pools[0].vdevs[0].name, "fake-tank");
    assert_eq!(view.sensors[0].name, "drivetemp/temp1");
    let hottest = view.summary.hottest_disk.as_ref().expect("hottest disk");
    assert_eq!(hottest.celsius, 50.0);
    let round_view = view.round.as_ref().expect("round");
    assert!(round_view.smart_read);
    assert!(round_view.history_points > 0);
    // Warnings and worse reach the webhook: the disk (its NVMe critical warning, and the
    // FAILED verdict smartctl derives from it) and the hot sensor; "never scrubbed" is
    // information only.
    let mut first = receiver.events();
    first.sort();
    let new = |kind: &str| ("new".to_owned(), kind.to_owned());
    assert_eq!(
        first,
        [
            new("nvme_critical_warning"),
            new("sensor_temperature"),
            new("smart_status_failed"),
        ]
    );
    assert!(round_view.notifications.iter().all(|sent| sent.delivered));
    let saved = std::fs::read_to_string(machine.directory.path().join("state/health/alerts.json"))
        .expect("alerts.json");
    assert!(saved.contains("nvme_critical_warning"), "{saved}");

    // The same problems a minute later, with the disks' last reading reused: nothing new.
    let view = round(&service, START + 60, false).await;
    assert!(!view.round.as_ref().expect("round").smart_read);
    assert_eq!(view.summary.status, "critical");
    assert_eq!(receiver.events().len(), 3);

    // A restart reads the book back: still nothing new.
    drop(service);
    let restarted = machine.service();
    round(&restarted, START + 120, true).await;
    assert_eq!(receiver.events().len(), 3);

    // The failing disk falls asleep: unobserved, not resolved.
    let failing = machine
        .smart_directory()
        .join("nvme1-critical-warning.json");
    let asleep = r#"{"smartctl": {"exit_status": 2, "messages": [{"string": "Device is in STANDBY mode, exit(2)", "severity": "information"}]}}"#;
    let captured = std::fs::read(&failing).expect("capture");
    std::fs::write(&failing, asleep).expect("sleeping disk");
    let view = round(&restarted, START + 180, true).await;
    assert_eq!(view.disks[1].state, "sleeping");
    assert_eq!(
        view.disks[1].identity.as_deref(),
        Some("QEMU_NVMe_Ctrl_WIZFSNVME1"),
        "the identity last read on the device"
    );
    assert_eq!(critical_disk_events(&receiver.events()), ["new"]);
    assert!(
        restarted
            .alerts()
            .active()
            .iter()
            .any(|alert| alert.problem.kind == wizfs_health::FindingKind::NvmeCriticalWarning)
    );

    // Awake and still failing: nothing; then replaced by a healthy disk: resolved.
    std::fs::write(&failing, captured).expect("awake");
    round(&restarted, START + 240, true).await;
    assert_eq!(critical_disk_events(&receiver.events()), ["new"]);
    std::fs::remove_file(&failing).expect("disk removed");
    let view = round(&restarted, START + 300, true).await;
    assert_eq!(
        critical_disk_events(&receiver.events()),
        ["new", "resolved"]
    );
    assert_eq!(view.summary.status, "warning", "the hot sensor remains");

    let history = restarted.history().expect("history");
    let metrics = history.metrics().expect("metrics");
    for expected in [
        "disk/QEMU_NVMe_Ctrl_WIZFSNVME0/temperature",
        "pool/tank/capacity_percent",
        "sensor/drivetemp/temp1/temperature",
    ] {
        assert!(
            metrics.iter().any(|metric| metric == expected),
            "{metrics:?}"
        );
    }
    let points = history
        .query(
            "pool/tank/capacity_percent",
            Timestamp(START),
            Timestamp(START + 300),
            100,
        )
        .expect("query");
    assert_eq!(points.len(), 6, "one point per round");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_collectors_keep_alerts_and_bad_channels_are_shown() {
    let machine = Machine::new("http://127.0.0.1:9/hook");
    let service = machine.service();
    let view = round(&service, START, false).await;
    // The channel refuses connections: the round goes on, and says so.
    let sent = &view.round.as_ref().expect("round").notifications;
    assert!(!sent.is_empty() && sent.iter().all(|sent| !sent.delivered));
    assert!(
        view.problems.iter().any(|problem| problem.contains("hook")),
        "{:?}",
        view.problems
    );

    // smartctl stops working: a collector finding, and the disk's alert stays active.
    std::fs::remove_dir_all(machine.smart_directory()).expect("remove");
    let blind = HealthService::open(
        machine.config.clone(),
        machine.zfs.clone(),
        Arc::new(FixtureSmartSource::new(machine.smart_directory())),
        &machine.directory.path().join("state"),
    );
    let view = round(&blind, START + 60, true).await;
    assert!(view.disks.is_empty());
    assert!(
        view.findings
            .iter()
            .any(|finding| finding.kind == wizfs_api::health::FindingKind::CollectorFailed)
    );
    let book = blind.alerts();
    let active: Vec<_> = book
        .active()
        .iter()
        .map(|alert| alert.problem.kind)
        .collect();
    assert!(
        active.contains(&wizfs_health::FindingKind::NvmeCriticalWarning),
        "{active:?}"
    );
}

#[test]
fn state_files_are_replaced_whole_and_corrupt_ones_kept_aside() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("health/alerts.json");
    let mut book = AlertBook::default();
    book.channels.insert("hook".into(), Default::default());
    save_json(&path, &book).expect("save");
    assert_eq!(load_json::<AlertBook>(&path), book);
    std::fs::write(&path, b"{ not json").expect("corrupt");
    assert_eq!(load_json::<AlertBook>(&path), AlertBook::default());
    assert!(Path::new(&format!("{}.corrupt", path.display())).exists());
    let leftovers: Vec<_> = std::fs::read_dir(directory.path().join("health"))
        .expect("list")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["alerts.json.corrupt"]);
}

#[tokio::test]
async fn due_scrubs_start_once_and_then_wait_for_their_interval() {
    let (_receiver, url) = Receiver::start().await;
    let machine = Machine::new(&url);
    let service = machine.service();
    let first = round(&service, START, true).await;
    let started = &first.round.as_ref().expect("round").scrubs_started;
    assert_eq!(started, &["tank".to_owned()], "never scrubbed: due");
    // The fake's scrub ended at START; a day later it is recent, 30 days later due again.
    let next = round(&service, START + 86_400, false).await;
    assert!(
        next.round
            .as_ref()
            .expect("round")
            .scrubs_started
            .is_empty()
    );
    let month = round(&service, START + 30 * 86_400, false).await;
    assert_eq!(
        month.round.as_ref().expect("round").scrubs_started,
        ["tank".to_owned()]
    );
}

/// A drive only UDisks2 sees (say behind a USB bridge smartctl cannot pass through).
fn udisks_drive(failing: bool) -> UdisksRead {
    UdisksRead::Drives(vec![wizfs_health::sensors::udisks::UdisksDrive {
        object_path: "/org/freedesktop/UDisks2/drives/WD_Elements_X1".into(),
        disk: Some(wizfs_health::smart::DiskId::Wwn("50014ee2b0000001".into())),
        vendor: None,
        model: Some("WD Elements".into()),
        serial: Some("X1".into()),
        wwn: Some("0x50014ee2b0000001".into()),
        size_bytes: Some(4_000_000_000_000),
        rotation_rate: Some(5400),
        removable: Some(false),
        temperature_celsius: Some(38.0),
        smart_failing: Some(failing),
        smart_enabled: Some(true),
        power_on_seconds: None,
        bad_sectors: Some(0),
    }])
}

#[tokio::test(flavor = "multi_thread")]
async fn udisks_drives_join_the_round_and_a_failed_query_resolves_nothing() {
    let (receiver, url) = Receiver::start().await;
    let machine = Machine::new(&url);
    let service = machine.service();
    let drive_events = || {
        receiver
            .events()
            .into_iter()
            .filter(|(_, kind)| kind == "smart_status_failed")
            .count()
    };

    let view = round_with(&service, START, false, udisks_drive(true)).await;
    let sensor = view
        .sensors
        .iter()
        .find(|sensor| sensor.name == "udisks/wwn-0x50014ee2b0000001")
        .expect("the drive's temperature as a sensor");
    assert_eq!(sensor.celsius, 38.0);
    assert_eq!(
        sensor.warning,
        Some(50.0),
        "HDD limits for a spinning drive"
    );
    assert!(
        view.findings.iter().any(|finding| finding.kind
            == wizfs_api::health::FindingKind::SmartStatusFailed
            && finding.subject.to_string() == "disk wwn-0x50014ee2b0000001"),
        "{:#?}",
        view.findings
    );
    // The fixture's failing NVMe disk and the UDisks2 drive.
    assert_eq!(drive_events(), 2);

    // UDisks2 does not answer: said so, and the drive's alert is neither resolved nor sent.
    let view = round_with(
        &service,
        START + 60,
        false,
        UdisksRead::Failed("no answer".into()),
    )
    .await;
    assert!(
        view.problems
            .iter()
            .any(|problem| problem == "UDisks2: no answer"),
        "{:?}",
        view.problems
    );
    assert_eq!(drive_events(), 2);
    assert!(
        service
            .alerts()
            .active()
            .iter()
            .any(|alert| { alert.problem.subject.to_string() == "disk wwn-0x50014ee2b0000001" })
    );

    // Healthy again: resolved once.
    round_with(&service, START + 120, false, udisks_drive(false)).await;
    let resolved: Vec<_> = receiver
        .events()
        .into_iter()
        .filter(|(event, kind)| event == "resolved" && kind == "smart_status_failed")
        .collect();
    assert_eq!(resolved.len(), 1, "{:?}", receiver.events());
}
