//! SMART failure rules: a pure function from one disk's summary (and the previous one, for
//! counters whose growth matters more than their value) to findings. Every default threshold
//! and its source is listed in `docs/health.md`; all of them are configurable.

use serde::{Deserialize, Serialize};

use super::summary::{DiskKind, SmartSummary, WhenFailed};
use crate::finding::{Finding, FindingKind, Severity, Subject};

#[cfg(test)]
mod tests;

/// A warning and a critical limit; `None` disables that level.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits<T> {
    pub warning: Option<T>,
    pub critical: Option<T>,
}

impl<T: PartialOrd + Copy> Limits<T> {
    pub const fn new(warning: Option<T>, critical: Option<T>) -> Limits<T> {
        Limits { warning, critical }
    }

    /// The severity of `value`: critical at or above the critical limit, else warning at or
    /// above the warning limit.
    pub fn severity(&self, value: T) -> Option<Severity> {
        if self.critical.is_some_and(|limit| value >= limit) {
            Some(Severity::Critical)
        } else if self.warning.is_some_and(|limit| value >= limit) {
            Some(Severity::Warning)
        } else {
            None
        }
    }
}

/// Temperature limits in °C per kind of drive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemperatureLimits {
    pub hdd: Limits<f64>,
    pub ssd: Limits<f64>,
    pub nvme: Limits<f64>,
    /// Use the limits a drive reports about itself (NVMe WCTEMP/CCTEMP, SCSI trip
    /// temperature) instead of the defaults above when it reports them.
    pub use_drive_limits: bool,
}

impl Default for TemperatureLimits {
    fn default() -> Self {
        TemperatureLimits {
            hdd: Limits::new(Some(50.0), Some(60.0)),
            ssd: Limits::new(Some(60.0), Some(70.0)),
            nvme: Limits::new(Some(70.0), Some(80.0)),
            use_drive_limits: true,
        }
    }
}

/// All SMART thresholds (`[smart]` in the health configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmartThresholds {
    pub temperature: TemperatureLimits,
    /// ATA 5, Reallocated_Sector_Ct (raw count).
    pub reallocated_sectors: Limits<u64>,
    /// ATA 197, Current_Pending_Sector.
    pub pending_sectors: Limits<u64>,
    /// ATA 198, Offline_Uncorrectable.
    pub offline_uncorrectable: Limits<u64>,
    /// ATA 187, Reported_Uncorrect.
    pub reported_uncorrectable: Limits<u64>,
    /// ATA 188, Command_Timeout (some vendors pack three counters in the raw value, so it
    /// never goes beyond a warning by default).
    pub command_timeouts: Limits<u64>,
    /// NVMe: warn while the available spare is less than this many points above the drive's
    /// own threshold (the drive itself sets critical_warning bit 0 below it).
    pub nvme_spare_margin: u8,
    /// NVMe percentage_used (endurance estimate).
    pub nvme_percentage_used: Limits<u8>,
    /// NVMe media_errors.
    pub nvme_media_errors: Limits<u128>,
    /// SCSI grown defect list length.
    pub scsi_grown_defects: Limits<u64>,
    /// SCSI uncorrected read + write + verify errors.
    pub scsi_uncorrected_errors: Limits<u64>,
}

impl Default for SmartThresholds {
    fn default() -> Self {
        SmartThresholds {
            temperature: TemperatureLimits::default(),
            reallocated_sectors: Limits::new(Some(1), Some(100)),
            pending_sectors: Limits::new(Some(1), Some(10)),
            offline_uncorrectable: Limits::new(Some(1), Some(10)),
            reported_uncorrectable: Limits::new(Some(1), Some(10)),
            command_timeouts: Limits::new(Some(1), None),
            nvme_spare_margin: 10,
            nvme_percentage_used: Limits::new(Some(80), Some(100)),
            nvme_media_errors: Limits::new(Some(1), None),
            scsi_grown_defects: Limits::new(Some(1), Some(100)),
            scsi_uncorrected_errors: Limits::new(Some(1), None),
        }
    }
}

/// ATA attribute ids the counter rules read.
pub mod attribute_ids {
    pub const REALLOCATED_SECTORS: u8 = 5;
    pub const REPORTED_UNCORRECTABLE: u8 = 187;
    pub const COMMAND_TIMEOUT: u8 = 188;
    pub const CURRENT_PENDING_SECTORS: u8 = 197;
    pub const OFFLINE_UNCORRECTABLE: u8 = 198;
    pub const UDMA_CRC_ERRORS: u8 = 199;
}

/// The meaning of each NVMe critical_warning bit (NVMe Base Specification 2.0, SMART /
/// Health Information log, byte 0) and whether it is critical.
const NVME_CRITICAL_WARNING_BITS: [(u8, &str, Severity); 6] = [
    (0, "available spare below threshold", Severity::Critical),
    (1, "temperature outside its thresholds", Severity::Warning),
    (2, "NVM subsystem reliability degraded", Severity::Critical),
    (3, "media placed in read-only mode", Severity::Critical),
    (
        4,
        "volatile memory backup device failed",
        Severity::Critical,
    ),
    (
        5,
        "persistent memory region read-only or unreliable",
        Severity::Critical,
    ),
];

/// Evaluates every SMART rule for one disk. `previous` is the summary of the reading before
/// (for the CRC rule, which only reports new errors).
pub fn evaluate_smart(
    current: &SmartSummary,
    previous: Option<&SmartSummary>,
    thresholds: &SmartThresholds,
) -> Vec<Finding> {
    let subject = Subject::Disk {
        disk: current.disk.clone(),
    };
    let mut findings = Vec::new();
    let mut push = |kind, severity, message: String| {
        findings.push(Finding::new(subject.clone(), kind, severity, message));
    };

    if current.smart_passed == Some(false) || current.exit.disk_failing() {
        push(
            FindingKind::SmartStatusFailed,
            Severity::Critical,
            "the drive's SMART overall-health self-assessment is FAILED".into(),
        );
    }

    failing_attributes(current, &mut push);
    ata_counters(current, thresholds, &mut push);
    crc_errors(current, previous, &mut push);
    if current.nvme.is_some() {
        nvme_rules(current, thresholds, &mut push);
    }
    if let Some(scsi) = &current.scsi {
        let counters = [
            (
                scsi.grown_defects,
                &thresholds.scsi_grown_defects,
                "defects in the grown defect list",
            ),
            (
                scsi.uncorrected_errors,
                &thresholds.scsi_uncorrected_errors,
                "uncorrected read/write/verify errors",
            ),
        ];
        let worst = counters
            .iter()
            .filter_map(|(value, limits, what)| {
                let value = (*value)?;
                limits
                    .severity(value)
                    .map(|severity| (severity, value, *what))
            })
            .collect::<Vec<_>>();
        if let Some(severity) = worst.iter().map(|(severity, _, _)| *severity).max() {
            let message = worst
                .iter()
                .map(|(_, value, what)| format!("{value} {what}"))
                .collect::<Vec<_>>()
                .join(", ");
            push(FindingKind::ScsiErrors, severity, message);
        }
    }
    self_test_rules(current, &mut push);
    temperature_rule(current, &thresholds.temperature, &mut push);
    findings
}

fn failing_attributes(
    current: &SmartSummary,
    push: &mut impl FnMut(FindingKind, Severity, String),
) {
    let describe = |when: WhenFailed| {
        current
            .attributes
            .iter()
            .filter(|attribute| attribute.when_failed == when)
            .map(|attribute| {
                format!(
                    "{} ({}) value {} threshold {}",
                    attribute.name,
                    attribute.id,
                    attribute
                        .value
                        .map_or("?".into(), |value| value.to_string()),
                    attribute
                        .threshold
                        .map_or("?".into(), |value| value.to_string())
                )
            })
            .collect::<Vec<_>>()
    };
    let now = describe(WhenFailed::Now);
    let past = describe(WhenFailed::Past);
    if !now.is_empty() {
        push(
            FindingKind::AttributeFailing,
            Severity::Critical,
            format!(
                "attributes at or below their threshold now: {}",
                now.join("; ")
            ),
        );
    } else if !past.is_empty() {
        push(
            FindingKind::AttributeFailing,
            Severity::Warning,
            format!(
                "attributes were below their threshold in the past: {}",
                past.join("; ")
            ),
        );
    }
}

fn ata_counters(
    current: &SmartSummary,
    thresholds: &SmartThresholds,
    push: &mut impl FnMut(FindingKind, Severity, String),
) {
    use attribute_ids::*;
    let rules = [
        (
            REALLOCATED_SECTORS,
            FindingKind::ReallocatedSectors,
            &thresholds.reallocated_sectors,
            "reallocated sectors",
        ),
        (
            CURRENT_PENDING_SECTORS,
            FindingKind::PendingSectors,
            &thresholds.pending_sectors,
            "sectors pending reallocation (unreadable)",
        ),
        (
            OFFLINE_UNCORRECTABLE,
            FindingKind::OfflineUncorrectable,
            &thresholds.offline_uncorrectable,
            "offline uncorrectable sectors",
        ),
        (
            REPORTED_UNCORRECTABLE,
            FindingKind::ReportedUncorrectable,
            &thresholds.reported_uncorrectable,
            "reported uncorrectable errors",
        ),
        (
            COMMAND_TIMEOUT,
            FindingKind::CommandTimeouts,
            &thresholds.command_timeouts,
            "command timeouts",
        ),
    ];
    for (id, kind, limits, what) in rules {
        let Some(raw) = current.raw(id) else { continue };
        if let Some(severity) = limits.severity(raw) {
            push(
                kind,
                severity,
                format!("{raw} {what} (SMART attribute {id})"),
            );
        }
    }
}

/// CRC errors are link errors (cable, backplane, controller), not media errors, and the
/// counter never goes down: only new ones since the previous reading are a warning; a
/// non-zero count with nothing to compare against is information.
fn crc_errors(
    current: &SmartSummary,
    previous: Option<&SmartSummary>,
    push: &mut impl FnMut(FindingKind, Severity, String),
) {
    let id = attribute_ids::UDMA_CRC_ERRORS;
    let Some(now) = current.raw(id) else { return };
    match previous.and_then(|previous| previous.raw(id)) {
        Some(before) if now > before => push(
            FindingKind::CrcErrors,
            Severity::Warning,
            format!(
                "{} new interface CRC errors since the last check ({now} in total): check the cable or backplane",
                now - before
            ),
        ),
        Some(_) => {}
        None if now > 0 => push(
            FindingKind::CrcErrors,
            Severity::Info,
            format!("{now} interface CRC errors recorded over the drive's life"),
        ),
        None => {}
    }
}

fn nvme_rules(
    current: &SmartSummary,
    thresholds: &SmartThresholds,
    push: &mut impl FnMut(FindingKind, Severity, String),
) {
    let Some(nvme) = &current.nvme else { return };
    let set_bits: Vec<_> = NVME_CRITICAL_WARNING_BITS
        .iter()
        .filter(|(bit, _, _)| nvme.critical_warning & (1 << bit) != 0)
        .collect();
    let unknown_bits = nvme.critical_warning & 0b1100_0000;
    if !set_bits.is_empty() || unknown_bits != 0 {
        let severity = set_bits
            .iter()
            .map(|(_, _, severity)| *severity)
            .max()
            .unwrap_or(Severity::Warning);
        let mut reasons: Vec<String> = set_bits.iter().map(|(_, what, _)| (*what).into()).collect();
        if unknown_bits != 0 {
            reasons.push(format!("reserved bits {unknown_bits:#04x}"));
        }
        push(
            FindingKind::NvmeCriticalWarning,
            severity,
            format!(
                "critical warning {:#04x}: {}",
                nvme.critical_warning,
                reasons.join(", ")
            ),
        );
    }
    // A threshold of 0 means the drive does not use one (QEMU reports 0/0).
    if let (Some(spare), Some(threshold)) = (nvme.available_spare, nvme.available_spare_threshold)
        && threshold > 0
    {
        let severity = if spare < threshold {
            Some(Severity::Critical)
        } else if u16::from(spare) < u16::from(threshold) + u16::from(thresholds.nvme_spare_margin)
        {
            Some(Severity::Warning)
        } else {
            None
        };
        if let Some(severity) = severity {
            push(
                FindingKind::NvmeSpareLow,
                severity,
                format!("available spare {spare}% (drive threshold {threshold}%)"),
            );
        }
    }
    if let Some(used) = nvme.percentage_used
        && let Some(severity) = thresholds.nvme_percentage_used.severity(used)
    {
        push(
            FindingKind::NvmeWearOut,
            severity,
            format!("{used}% of the rated endurance used"),
        );
    }
    if let Some(errors) = nvme.media_errors
        && let Some(severity) = thresholds.nvme_media_errors.severity(errors)
    {
        push(
            FindingKind::NvmeMediaErrors,
            severity,
            format!("{errors} unrecovered media and data integrity errors"),
        );
    }
}

fn self_test_rules(current: &SmartSummary, push: &mut impl FnMut(FindingKind, Severity, String)) {
    match &current.self_test.latest {
        Some(latest) if !latest.passed => push(
            FindingKind::SelfTestFailed,
            Severity::Critical,
            format!("the latest self-test failed: {}", latest.description),
        ),
        _ if current.self_test.log_has_errors => push(
            FindingKind::SelfTestFailed,
            Severity::Warning,
            "the self-test log records failed tests not outdated by a newer passing extended test"
                .into(),
        ),
        _ => {}
    }
}

fn temperature_rule(
    current: &SmartSummary,
    limits: &TemperatureLimits,
    push: &mut impl FnMut(FindingKind, Severity, String),
) {
    let Some(celsius) = current.temperature_celsius else {
        return;
    };
    let defaults = match current.kind {
        DiskKind::Hdd => limits.hdd,
        DiskKind::Ssd => limits.ssd,
        DiskKind::Nvme => limits.nvme,
    };
    let drive = current.drive_temperature_limits;
    let effective = if limits.use_drive_limits {
        Limits {
            warning: drive
                .warning
                .or_else(|| drive.critical.map(|critical| critical - 10.0))
                .or(defaults.warning),
            critical: drive.critical.or(defaults.critical),
        }
    } else {
        defaults
    };
    if let Some(severity) = effective.severity(celsius) {
        let limit = match severity {
            Severity::Critical => effective.critical,
            _ => effective.warning,
        };
        push(
            FindingKind::DiskTemperature,
            severity,
            format!(
                "temperature {celsius:.0} °C (limit {:.0} °C)",
                limit.unwrap_or(celsius)
            ),
        );
    }
}
