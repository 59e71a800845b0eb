//! What every health rule produces: a [`Finding`] says that one subject (a disk, a pool, a
//! vdev, a sensor) shows one kind of problem, how bad it is and in words a person reads in an
//! email. Findings are plain data; [`crate::alerts`] turns successive lists of them into
//! alerts and notifications, so the rules never need to remember anything themselves.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::smart::DiskId;

/// How bad a finding is. Ordered: `Info < Warning < Critical`. The same type channels
/// filter notifications on, so it comes from [`wizfs_notify`].
pub use wizfs_notify::Severity;

/// What a finding is about. Disks are named by their stable identity (WWN, EUI-64 or
/// model + serial), never by `/dev/sdX`, which changes between boots.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    Disk {
        disk: DiskId,
    },
    Pool {
        pool: String,
    },
    /// A vdev (a disk, partition, file or group) inside a pool, named as `zpool status` names it.
    Vdev {
        pool: String,
        vdev: String,
    },
    /// A temperature sensor (hwmon, thermal zone, I2C chip), by its configured or kernel name.
    Sensor {
        sensor: String,
    },
    /// The monitoring itself (smartctl missing, a collector failing).
    Collector {
        collector: String,
    },
    /// A backup job, by its id.
    Backup {
        job: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Disk { disk } => write!(formatter, "disk {disk}"),
            Subject::Pool { pool } => write!(formatter, "pool {pool}"),
            Subject::Vdev { pool, vdev } => write!(formatter, "vdev {vdev} of pool {pool}"),
            Subject::Sensor { sensor } => write!(formatter, "sensor {sensor}"),
            Subject::Collector { collector } => write!(formatter, "collector {collector}"),
            Subject::Backup { job } => write!(formatter, "backup job {job}"),
        }
    }
}

/// The kind of problem. Together with the subject it identifies one alert: two findings with
/// the same subject and kind are the same problem, whatever their message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The drive's own overall SMART verdict is FAILED.
    SmartStatusFailed,
    /// An ATA attribute's normalized value is at or below its threshold (now or in the past).
    AttributeFailing,
    ReallocatedSectors,
    PendingSectors,
    OfflineUncorrectable,
    ReportedUncorrectable,
    CommandTimeouts,
    CrcErrors,
    NvmeCriticalWarning,
    NvmeSpareLow,
    NvmeWearOut,
    NvmeMediaErrors,
    /// SCSI/SAS: uncorrected read/write/verify errors or a growing grown-defect list.
    ScsiErrors,
    SelfTestFailed,
    DiskTemperature,
    /// smartctl could not read the disk (open failed, unknown device type).
    SmartUnavailable,
    PoolState,
    VdevState,
    VdevErrors,
    PoolCapacity,
    PoolFragmentation,
    ScrubErrors,
    ScrubOverdue,
    SensorTemperature,
    CollectorFailed,
    /// A backup job's last run failed.
    BackupFailed,
    /// A backup job's last good backup is older than its limit.
    BackupOverdue,
}

impl FindingKind {
    /// The snake_case name used in JSON, notification tags and the history metric names.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::SmartStatusFailed => "smart_status_failed",
            FindingKind::AttributeFailing => "attribute_failing",
            FindingKind::ReallocatedSectors => "reallocated_sectors",
            FindingKind::PendingSectors => "pending_sectors",
            FindingKind::OfflineUncorrectable => "offline_uncorrectable",
            FindingKind::ReportedUncorrectable => "reported_uncorrectable",
            FindingKind::CommandTimeouts => "command_timeouts",
            FindingKind::CrcErrors => "crc_errors",
            FindingKind::NvmeCriticalWarning => "nvme_critical_warning",
            FindingKind::NvmeSpareLow => "nvme_spare_low",
            FindingKind::NvmeWearOut => "nvme_wear_out",
            FindingKind::NvmeMediaErrors => "nvme_media_errors",
            FindingKind::ScsiErrors => "scsi_errors",
            FindingKind::SelfTestFailed => "self_test_failed",
            FindingKind::DiskTemperature => "disk_temperature",
            FindingKind::SmartUnavailable => "smart_unavailable",
            FindingKind::PoolState => "pool_state",
            FindingKind::VdevState => "vdev_state",
            FindingKind::VdevErrors => "vdev_errors",
            FindingKind::PoolCapacity => "pool_capacity",
            FindingKind::PoolFragmentation => "pool_fragmentation",
            FindingKind::ScrubErrors => "scrub_errors",
            FindingKind::ScrubOverdue => "scrub_overdue",
            FindingKind::SensorTemperature => "sensor_temperature",
            FindingKind::CollectorFailed => "collector_failed",
            FindingKind::BackupFailed => "backup_failed",
            FindingKind::BackupOverdue => "backup_overdue",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One problem seen in one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub subject: Subject,
    pub kind: FindingKind,
    pub severity: Severity,
    /// One sentence for people, with the numbers that matter ("12 reallocated sectors").
    pub message: String,
}

impl Finding {
    pub fn new(
        subject: Subject,
        kind: FindingKind,
        severity: Severity,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            subject,
            kind,
            severity,
            message: message.into(),
        }
    }
}
