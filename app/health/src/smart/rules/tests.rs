//! Table tests of the SMART rules over hand-made summaries: one row per rule and boundary.

use super::*;
use crate::smart::exit::ExitStatus;
use crate::smart::identity::DiskId;
use crate::smart::summary::{
    AttributeReading, DriveTemperatureLimits, NvmeReading, ScsiReading, SelfTestReading,
    SelfTestResult,
};

fn base(kind: DiskKind) -> SmartSummary {
    SmartSummary {
        disk: DiskId::Wwn("5000c500a1b2c3d4".into()),
        kind,
        model: Some("Model".into()),
        serial: Some("Serial".into()),
        firmware: None,
        capacity_bytes: None,
        smart_passed: Some(true),
        temperature_celsius: Some(30.0),
        drive_temperature_limits: DriveTemperatureLimits::default(),
        power_on_hours: Some(1000),
        attributes: Vec::new(),
        nvme: (kind == DiskKind::Nvme).then(|| NvmeReading {
            available_spare: Some(100),
            available_spare_threshold: Some(10),
            percentage_used: Some(3),
            media_errors: Some(0),
            ..NvmeReading::default()
        }),
        scsi: None,
        self_test: SelfTestReading::default(),
        ata_error_count: None,
        exit: ExitStatus(0),
    }
}

fn attribute(id: u8, raw: u64) -> AttributeReading {
    AttributeReading {
        id,
        name: format!("Attribute_{id}"),
        value: Some(100),
        worst: Some(100),
        threshold: Some(10),
        raw: Some(raw),
        when_failed: WhenFailed::Never,
        prefailure: false,
    }
}

fn with_attribute(kind: DiskKind, id: u8, raw: u64) -> SmartSummary {
    let mut summary = base(kind);
    summary.attributes.push(attribute(id, raw));
    summary
}

fn nvme(change: impl Fn(&mut NvmeReading)) -> SmartSummary {
    let mut summary = base(DiskKind::Nvme);
    if let Some(reading) = summary.nvme.as_mut() {
        change(reading);
    }
    summary
}

fn temperature(kind: DiskKind, celsius: f64) -> SmartSummary {
    let mut summary = base(kind);
    summary.temperature_celsius = Some(celsius);
    summary
}

fn found(summary: &SmartSummary, previous: Option<&SmartSummary>) -> Vec<(FindingKind, Severity)> {
    evaluate_smart(summary, previous, &SmartThresholds::default())
        .into_iter()
        .map(|finding| (finding.kind, finding.severity))
        .collect()
}

#[test]
fn single_reading_rules() {
    use DiskKind::*;
    use FindingKind as K;
    use Severity::*;
    let failed = {
        let mut summary = base(Hdd);
        summary.smart_passed = Some(false);
        summary
    };
    let exit_failing = {
        let mut summary = base(Hdd);
        summary.smart_passed = None;
        summary.exit = ExitStatus(8);
        summary
    };
    let attribute_now = {
        let mut summary = base(Hdd);
        let mut failing = attribute(3, 0);
        failing.when_failed = WhenFailed::Now;
        summary.attributes.push(failing);
        summary
    };
    let attribute_past = {
        let mut summary = base(Hdd);
        let mut failing = attribute(3, 0);
        failing.when_failed = WhenFailed::Past;
        summary.attributes.push(failing);
        summary
    };
    let self_test = |passed: bool, log_errors: bool| {
        let mut summary = base(Ssd);
        summary.self_test = SelfTestReading {
            in_progress: false,
            latest: Some(SelfTestResult {
                description: "Extended offline: Completed: read failure".into(),
                passed,
                lifetime_hours: Some(10),
            }),
            log_has_errors: log_errors,
        };
        summary
    };
    let scsi = |grown: u64, uncorrected: u64| {
        let mut summary = base(Hdd);
        summary.scsi = Some(ScsiReading {
            grown_defects: Some(grown),
            uncorrected_errors: Some(uncorrected),
        });
        summary
    };
    let drive_limits = |kind, celsius, warning, critical| {
        let mut summary = temperature(kind, celsius);
        summary.drive_temperature_limits = DriveTemperatureLimits { warning, critical };
        summary
    };
    type Case = (&'static str, SmartSummary, Vec<(FindingKind, Severity)>);
    let cases: Vec<Case> = vec![
        ("healthy hdd", base(Hdd), vec![]),
        ("healthy nvme", base(Nvme), vec![]),
        (
            "overall status failed",
            failed,
            vec![(K::SmartStatusFailed, Critical)],
        ),
        (
            "exit bit 3 alone",
            exit_failing,
            vec![(K::SmartStatusFailed, Critical)],
        ),
        (
            "attribute failing now",
            attribute_now,
            vec![(K::AttributeFailing, Critical)],
        ),
        (
            "attribute failed in the past",
            attribute_past,
            vec![(K::AttributeFailing, Warning)],
        ),
        ("no reallocated sectors", with_attribute(Hdd, 5, 0), vec![]),
        (
            "one reallocated sector",
            with_attribute(Hdd, 5, 1),
            vec![(K::ReallocatedSectors, Warning)],
        ),
        (
            "99 reallocated",
            with_attribute(Hdd, 5, 99),
            vec![(K::ReallocatedSectors, Warning)],
        ),
        (
            "100 reallocated",
            with_attribute(Hdd, 5, 100),
            vec![(K::ReallocatedSectors, Critical)],
        ),
        (
            "pending",
            with_attribute(Hdd, 197, 1),
            vec![(K::PendingSectors, Warning)],
        ),
        (
            "many pending",
            with_attribute(Hdd, 197, 10),
            vec![(K::PendingSectors, Critical)],
        ),
        (
            "offline uncorrectable",
            with_attribute(Hdd, 198, 2),
            vec![(K::OfflineUncorrectable, Warning)],
        ),
        (
            "reported uncorrectable",
            with_attribute(Ssd, 187, 12),
            vec![(K::ReportedUncorrectable, Critical)],
        ),
        (
            "command timeouts never critical",
            with_attribute(Hdd, 188, 1_000_000),
            vec![(K::CommandTimeouts, Warning)],
        ),
        (
            "crc without history is information",
            with_attribute(Hdd, 199, 3),
            vec![(K::CrcErrors, Info)],
        ),
        (
            "nvme critical warning bit 2",
            nvme(|n| n.critical_warning = 0b100),
            vec![(K::NvmeCriticalWarning, Critical)],
        ),
        (
            "nvme temperature bit only",
            nvme(|n| n.critical_warning = 0b10),
            vec![(K::NvmeCriticalWarning, Warning)],
        ),
        (
            "nvme reserved bit",
            nvme(|n| n.critical_warning = 0b1000_0000),
            vec![(K::NvmeCriticalWarning, Warning)],
        ),
        (
            "spare below threshold",
            nvme(|n| n.available_spare = Some(9)),
            vec![(K::NvmeSpareLow, Critical)],
        ),
        (
            "spare near threshold",
            nvme(|n| n.available_spare = Some(19)),
            vec![(K::NvmeSpareLow, Warning)],
        ),
        (
            "spare at margin",
            nvme(|n| n.available_spare = Some(20)),
            vec![],
        ),
        (
            "spare threshold zero is unused",
            nvme(|n| {
                n.available_spare = Some(0);
                n.available_spare_threshold = Some(0);
            }),
            vec![],
        ),
        ("wear 79%", nvme(|n| n.percentage_used = Some(79)), vec![]),
        (
            "wear 80%",
            nvme(|n| n.percentage_used = Some(80)),
            vec![(K::NvmeWearOut, Warning)],
        ),
        (
            "wear 255%",
            nvme(|n| n.percentage_used = Some(255)),
            vec![(K::NvmeWearOut, Critical)],
        ),
        (
            "media errors",
            nvme(|n| n.media_errors = Some(1)),
            vec![(K::NvmeMediaErrors, Warning)],
        ),
        (
            "media errors beyond 64 bits",
            nvme(|n| n.media_errors = Some(u128::MAX)),
            vec![(K::NvmeMediaErrors, Warning)],
        ),
        (
            "scsi grown defects",
            scsi(3, 0),
            vec![(K::ScsiErrors, Warning)],
        ),
        (
            "scsi many defects",
            scsi(100, 0),
            vec![(K::ScsiErrors, Critical)],
        ),
        (
            "scsi uncorrected",
            scsi(0, 1),
            vec![(K::ScsiErrors, Warning)],
        ),
        (
            "latest self-test failed",
            self_test(false, true),
            vec![(K::SelfTestFailed, Critical)],
        ),
        (
            "old failures not outdated",
            self_test(true, true),
            vec![(K::SelfTestFailed, Warning)],
        ),
        ("self-tests fine", self_test(true, false), vec![]),
        ("hdd 49 °C", temperature(Hdd, 49.0), vec![]),
        (
            "hdd 50 °C",
            temperature(Hdd, 50.0),
            vec![(K::DiskTemperature, Warning)],
        ),
        (
            "hdd 60 °C",
            temperature(Hdd, 60.0),
            vec![(K::DiskTemperature, Critical)],
        ),
        ("ssd 55 °C", temperature(Ssd, 55.0), vec![]),
        (
            "ssd 65 °C",
            temperature(Ssd, 65.0),
            vec![(K::DiskTemperature, Warning)],
        ),
        ("nvme 69 °C", temperature(Nvme, 69.0), vec![]),
        (
            "nvme 80 °C",
            temperature(Nvme, 80.0),
            vec![(K::DiskTemperature, Critical)],
        ),
        (
            "nvme own limits lower",
            drive_limits(Nvme, 66.0, Some(65.0), Some(75.0)),
            vec![(K::DiskTemperature, Warning)],
        ),
        (
            "scsi trip only: warn 10 below",
            drive_limits(Hdd, 56.0, None, Some(65.0)),
            vec![(K::DiskTemperature, Warning)],
        ),
        (
            "scsi trip reached",
            drive_limits(Hdd, 65.0, None, Some(65.0)),
            vec![(K::DiskTemperature, Critical)],
        ),
    ];
    for (name, summary, expected) in cases {
        assert_eq!(found(&summary, None), expected, "{name}");
    }
}

#[test]
fn crc_errors_warn_only_when_they_grow() {
    let before = with_attribute(DiskKind::Hdd, 199, 5);
    let same = with_attribute(DiskKind::Hdd, 199, 5);
    let grown = with_attribute(DiskKind::Hdd, 199, 7);
    assert_eq!(found(&same, Some(&before)), vec![]);
    let findings = evaluate_smart(&grown, Some(&before), &SmartThresholds::default());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::CrcErrors);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.starts_with("2 new"),
        "{}",
        findings[0].message
    );
}

#[test]
fn drive_limits_can_be_ignored_and_levels_disabled() {
    let mut summary = temperature(DiskKind::Nvme, 66.0);
    summary.drive_temperature_limits = DriveTemperatureLimits {
        warning: Some(65.0),
        critical: Some(75.0),
    };
    let mut thresholds = SmartThresholds::default();
    thresholds.temperature.use_drive_limits = false;
    assert!(evaluate_smart(&summary, None, &thresholds).is_empty());

    thresholds.reallocated_sectors = Limits::new(None, Some(5));
    let reallocated = with_attribute(DiskKind::Hdd, 5, 4);
    assert!(evaluate_smart(&reallocated, None, &thresholds).is_empty());
}

#[test]
fn findings_name_the_disk_and_the_numbers() {
    let summary = with_attribute(DiskKind::Hdd, 5, 12);
    let findings = evaluate_smart(&summary, None, &SmartThresholds::default());
    assert_eq!(
        findings[0].subject,
        Subject::Disk {
            disk: DiskId::Wwn("5000c500a1b2c3d4".into())
        }
    );
    assert_eq!(
        findings[0].message,
        "12 reallocated sectors (SMART attribute 5)"
    );
}
