//! The smartctl parser, identity, summary and rules run over every captured smartctl JSON
//! output in `tests/fixtures/smartctl/` (real output from public projects and from the WiZFS
//! test VM, see the LICENSE/NOTICE/README beside them): none may fail to parse, and a handful
//! are checked value by value.

use std::path::{Path, PathBuf};

use wizfs_health::smart::summary::WhenFailed;
use wizfs_health::smart::{
    DiskId, DiskKind, SmartReading, SmartSummary, SmartThresholds, evaluate_smart,
    interpret_output, parse_scan, summarize,
};
use wizfs_health::{FindingKind, Severity};

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smartctl")
}

fn all_fixtures() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![fixture_root()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read(relative: &str) -> SmartReading {
    let bytes = std::fs::read(fixture_root().join(relative)).expect("fixture");
    interpret_output(&bytes, None).expect("parses")
}

fn summary(relative: &str) -> SmartSummary {
    match read(relative) {
        SmartReading::Report { report, exit } => summarize(&report, exit).expect("has identity"),
        other => panic!("{relative}: expected a report, got {other:?}"),
    }
}

fn kinds(summary: &SmartSummary) -> Vec<(FindingKind, Severity)> {
    evaluate_smart(summary, None, &SmartThresholds::default())
        .into_iter()
        .map(|finding| (finding.kind, finding.severity))
        .collect()
}

#[test]
fn every_fixture_parses_and_evaluates() {
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 20, "only {} fixtures", fixtures.len());
    let mut reports = 0;
    for path in &fixtures {
        let bytes = std::fs::read(path).expect("fixture");
        let reading = interpret_output(&bytes, None)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        if let SmartReading::Report { report, exit } = reading
            && let Some(summary) = summarize(&report, exit)
        {
            reports += 1;
            // Every rule runs on every real report without panicking; the kinds found must
            // each be reported once.
            let findings = evaluate_smart(&summary, Some(&summary), &SmartThresholds::default());
            let mut seen: Vec<_> = findings.iter().map(|finding| finding.kind).collect();
            seen.sort();
            seen.dedup();
            assert_eq!(
                seen.len(),
                findings.len(),
                "{}: duplicate kinds",
                path.display()
            );
        }
    }
    assert!(
        reports >= 13,
        "only {reports} fixtures had a report with an identity"
    );
}

#[test]
fn qemu_nvme_with_critical_warning_is_critical() {
    let summary = summary("wizfs-vm/qemu-nvme1-critical-warning-a.json");
    assert_eq!(
        summary.disk,
        DiskId::ModelSerial {
            model: "QEMU NVMe Ctrl".into(),
            serial: "WIZFSNVME1".into()
        }
    );
    assert_eq!(summary.kind, DiskKind::Nvme);
    assert!(summary.exit.disk_failing());
    assert_eq!(
        summary.nvme.as_ref().map(|nvme| nvme.critical_warning),
        Some(4)
    );
    let findings = evaluate_smart(&summary, None, &SmartThresholds::default());
    let warning = findings
        .iter()
        .find(|finding| finding.kind == FindingKind::NvmeCriticalWarning)
        .expect("critical warning finding");
    assert_eq!(warning.severity, Severity::Critical);
    assert!(
        warning.message.contains("reliability degraded"),
        "{}",
        warning.message
    );
    assert_eq!(
        kinds(&summary),
        vec![
            (FindingKind::SmartStatusFailed, Severity::Critical),
            (FindingKind::NvmeCriticalWarning, Severity::Critical),
        ]
    );
}

#[test]
fn healthy_qemu_nvme_has_no_findings() {
    let summary = summary("wizfs-vm/qemu-nvme0-healthy-a.json");
    assert_eq!(summary.disk.token(), "QEMU_NVMe_Ctrl_WIZFSNVME0");
    assert_eq!(summary.temperature_celsius, Some(50.0));
    // QEMU reports available spare 0 with threshold 0: no spare finding.
    assert_eq!(kinds(&summary), vec![]);
}

#[test]
fn failing_hitachi_behind_usb_bridge() {
    let summary = summary("scrutiny/smart-fail2.json");
    assert_eq!(summary.disk, DiskId::Wwn("5000cca37fca81a8".into()));
    assert_eq!(summary.kind, DiskKind::Hdd);
    assert_eq!(summary.exit.0, 216);
    assert_eq!(summary.temperature_celsius, Some(25.0));
    assert_eq!(summary.power_on_hours, Some(65592));
    assert_eq!(summary.raw(5), Some(1975));
    assert_eq!(summary.raw(197), Some(8));
    assert_eq!(
        summary.attribute(5).map(|attribute| attribute.when_failed),
        Some(WhenFailed::Now)
    );
    assert_eq!(
        kinds(&summary),
        vec![
            (FindingKind::SmartStatusFailed, Severity::Critical),
            (FindingKind::AttributeFailing, Severity::Critical),
            (FindingKind::ReallocatedSectors, Severity::Critical),
            (FindingKind::PendingSectors, Severity::Warning),
            // The newest test passed, but older failures are not outdated by a passing
            // extended test (exit bit 7).
            (FindingKind::SelfTestFailed, Severity::Warning),
        ]
    );
}

#[test]
fn unreadable_devices_are_unavailable_not_errors() {
    for relative in [
        "scrutiny/smart-fail.json",
        "smartctl_exporter/nonexistent-device.json",
        "wizfs-vm/virtio-vdb-unable-to-detect-a.json",
    ] {
        match read(relative) {
            SmartReading::Unavailable { exit, messages } => {
                assert!(!exit.has_data(), "{relative}");
                assert!(!messages.is_empty(), "{relative}");
            }
            other => panic!("{relative}: {other:?}"),
        }
    }
}

#[test]
fn nvme_media_errors_and_eui64_identity() {
    let summary = summary("scrutiny/smart-nvme-failed.json");
    assert_eq!(summary.disk, DiskId::Eui64("0025385791b4f537".into()));
    assert_eq!(
        summary.nvme.as_ref().and_then(|nvme| nvme.media_errors),
        Some(7)
    );
    assert_eq!(
        kinds(&summary),
        vec![(FindingKind::NvmeMediaErrors, Severity::Warning)]
    );
}

#[test]
fn scsi_disks() {
    let sas = summary("scrutiny/smart-scsi-sas-env-temp.json");
    // temperature.current is 0; the environmental report has the real value.
    assert_eq!(sas.temperature_celsius, Some(38.0));
    assert_eq!(sas.kind, DiskKind::Hdd);

    let old = summary("smartctl_exporter/SEAGATE_ST373453LC_26.json");
    let scsi = old.scsi.clone().expect("scsi counters");
    assert_eq!(scsi.grown_defects, Some(260));
    assert_eq!(scsi.uncorrected_errors, Some(536));
    assert_eq!(
        kinds(&old),
        vec![(FindingKind::ScsiErrors, Severity::Critical)]
    );

    let hitachi = summary("smartctl_exporter/HITACHI_H109060SESUN600G_9.json");
    assert_eq!(hitachi.disk, DiskId::Wwn("1234567890abcdef".into()));
    assert_eq!(hitachi.drive_temperature_limits.critical, Some(85.0));
    assert_eq!(kinds(&hitachi), vec![]);
}

#[test]
fn attributes_only_output_has_no_identity() {
    match read("scrutiny/smart-sat.json") {
        SmartReading::Report { report, exit } => assert_eq!(summarize(&report, exit), None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn healthy_old_barracuda_has_no_findings() {
    let summary = summary("smartctl_exporter/ST3200820AS_15.json");
    assert_eq!(summary.temperature_celsius, Some(35.0));
    assert_eq!(summary.power_on_hours, Some(100216));
    assert_eq!(kinds(&summary), vec![]);
}

#[test]
fn scan_open_lists_the_vm_nvme_disks() {
    let bytes = std::fs::read(fixture_root().join("wizfs-vm/scan-open.json")).expect("fixture");
    let devices = parse_scan(&bytes).expect("parses");
    let names: Vec<_> = devices
        .iter()
        .map(|device| (device.name.as_str(), device.device_type.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![("/dev/nvme0", Some("nvme")), ("/dev/nvme1", Some("nvme"))]
    );
}

#[test]
fn sata_and_nvme_ssds() {
    let sata = summary(
        "smartctl_exporter/sat-Dell_Certified_Intel_S3520_Series_SSDs-SSDSCKJB240G7R-sdm.json",
    );
    assert_eq!(sata.disk, DiskId::Wwn("55cd2e40499602d2".into()));
    assert_eq!(sata.kind, DiskKind::Ssd);
    assert_eq!(sata.temperature_celsius, Some(47.0));
    assert_eq!(sata.power_on_hours, Some(21213));
    // 47 °C is below the SSD warning level; no counter is above zero.
    assert_eq!(kinds(&sata), vec![]);

    let nvme = summary("smartctl_exporter/nvme-null-Samsung_SSD_970_EVO_Plus_250GB-nvme0.json");
    assert_eq!(nvme.disk, DiskId::Eui64("0025385a11b3699d".into()));
    assert_eq!(nvme.kind, DiskKind::Nvme);
    let log = nvme.nvme.clone().expect("health log");
    assert_eq!(
        (log.available_spare, log.available_spare_threshold),
        (Some(100), Some(10))
    );
    assert_eq!(log.error_log_entries, Some(22));
    assert_eq!(kinds(&nvme), vec![]);
}
