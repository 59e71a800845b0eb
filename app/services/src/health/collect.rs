//! One look at the machine: the collectors of a health round (SMART through a
//! [`SmartSource`], `zpool status` through [`Zfs::pool_status`], hwmon and thermal zones under
//! the configured sysfs root, configured I2C sensors, and UDisks2 for the drives smartctl did
//! not read, asked beforehand by the async caller) and the pure rules of `wizfs-health`
//! applied to what they return. The daemon's round and the read-only `wizfs health` share
//! it; neither the alert book nor the history is touched here.
//!
//! A collector that fails becomes a `collector_failed` finding, and the subjects it would have
//! observed are *unobserved* (their alerts are neither refreshed nor resolved). A sleeping disk
//! is unobserved too: `-n standby` kept it asleep, which is no failure.

use std::collections::{BTreeMap, BTreeSet};

use wizfs_health::alerts::{AlertBook, deduplicate};
use wizfs_health::config::HealthConfig;
use wizfs_health::pools::{PoolStatus, evaluate_pool};
use wizfs_health::sensors::udisks::{UdisksRead, udisks_observations};
use wizfs_health::sensors::{SensorReading, evaluate_sensors, i2c, sysfs};
use wizfs_health::smart::{
    DiskId, ExitStatus, ScannedDevice, SmartReading, SmartSource, SmartSummary, SmartThresholds,
    evaluate_smart, summarize,
};
use wizfs_health::{Finding, FindingKind, Severity, Subject, Timestamp};
use wizfs_zfs::Zfs;

/// The collector names used in `collector_failed` findings.
pub const SMART_COLLECTOR: &str = "smartctl";
pub const POOL_COLLECTOR: &str = "zpool status";

/// What smartctl said about one device.
#[derive(Clone, Debug)]
pub enum DiskOutcome {
    /// Read, with its stable identity.
    Read(Box<SmartSummary>),
    /// smartctl answered, but the report names no identity (WWN, EUI-64, model + serial).
    NoIdentity { messages: Vec<String> },
    /// Asleep, and left asleep; `disk` is the identity last read on this device.
    Sleeping {
        messages: Vec<String>,
        disk: Option<DiskId>,
    },
    /// smartctl could not read it (exit bits 0–1): open failed, unknown type, …
    Unavailable {
        exit: ExitStatus,
        messages: Vec<String>,
        disk: Option<DiskId>,
    },
    /// smartctl did not run or printed nothing usable.
    Failed { error: String, disk: Option<DiskId> },
}

/// One device of the SMART scan.
#[derive(Clone, Debug)]
pub struct DiskReading {
    pub device: ScannedDevice,
    pub outcome: DiskOutcome,
}

impl DiskReading {
    /// The identity read now, else the one last read on this device.
    pub fn disk(&self) -> Option<&DiskId> {
        match &self.outcome {
            DiskOutcome::Read(summary) => Some(&summary.disk),
            DiskOutcome::NoIdentity { .. } => None,
            DiskOutcome::Sleeping { disk, .. }
            | DiskOutcome::Unavailable { disk, .. }
            | DiskOutcome::Failed { disk, .. } => disk.as_ref(),
        }
    }

    pub fn summary(&self) -> Option<&SmartSummary> {
        match &self.outcome {
            DiskOutcome::Read(summary) => Some(summary),
            _ => None,
        }
    }
}

/// The SMART part of a round. The daemon reads disks every `smart_minutes` and reuses this
/// between readings.
#[derive(Clone, Debug)]
pub struct SmartPart {
    pub read_at: Timestamp,
    pub disks: Vec<DiskReading>,
    pub findings: Vec<Finding>,
    /// Disks whose state is unknown now (asleep, or smartctl failed on them).
    pub unobserved: BTreeSet<Subject>,
    /// The scan itself failed: no disk was observed.
    pub scan_error: Option<String>,
}

/// Scans and reads every disk. `previous` holds the last summary of each disk (for the rules
/// that look at growth); `known` the identity last read on each device path, so a disk that
/// sleeps or fails now keeps its alerts.
pub fn read_disks(
    source: &dyn SmartSource,
    previous: &BTreeMap<DiskId, SmartSummary>,
    known: &BTreeMap<String, DiskId>,
    thresholds: &SmartThresholds,
    now: Timestamp,
) -> SmartPart {
    let mut part = SmartPart {
        read_at: now,
        disks: Vec::new(),
        findings: Vec::new(),
        unobserved: BTreeSet::new(),
        scan_error: None,
    };
    let devices = match source.scan() {
        Ok(devices) => devices,
        Err(error) => {
            part.findings
                .push(collector_failed(SMART_COLLECTOR, &error));
            part.scan_error = Some(error.to_string());
            return part;
        }
    };
    for device in devices {
        let last_known = known.get(&device.name).cloned();
        let outcome = match source.read(&device) {
            Ok(SmartReading::Report { report, exit }) => match summarize(&report, exit) {
                Some(summary) => DiskOutcome::Read(Box::new(summary)),
                None => DiskOutcome::NoIdentity {
                    messages: report.messages(),
                },
            },
            Ok(SmartReading::Sleeping { messages }) => DiskOutcome::Sleeping {
                messages,
                disk: last_known,
            },
            Ok(SmartReading::Unavailable { exit, messages }) => DiskOutcome::Unavailable {
                exit,
                messages,
                disk: last_known,
            },
            Err(error) => DiskOutcome::Failed {
                error: error.to_string(),
                disk: last_known,
            },
        };
        match &outcome {
            DiskOutcome::Read(summary) => part.findings.extend(evaluate_smart(
                summary,
                previous.get(&summary.disk),
                thresholds,
            )),
            DiskOutcome::Sleeping {
                disk: Some(disk), ..
            } => {
                part.unobserved.insert(Subject::Disk { disk: disk.clone() });
            }
            // A disk that was readable before and no longer is: worth a look.
            DiskOutcome::Unavailable {
                disk: Some(disk),
                messages,
                ..
            } => part.findings.push(Finding::new(
                Subject::Disk { disk: disk.clone() },
                FindingKind::SmartUnavailable,
                Severity::Warning,
                format!(
                    "smartctl can no longer read {}: {}",
                    device.name,
                    messages.join("; ")
                ),
            )),
            DiskOutcome::Failed {
                disk: Some(disk), ..
            } => {
                part.unobserved.insert(Subject::Disk { disk: disk.clone() });
            }
            _ => {}
        }
        part.disks.push(DiskReading { device, outcome });
    }
    part
}

/// The pools part of a round.
#[derive(Clone, Debug, Default)]
pub struct PoolPart {
    pub pools: Vec<PoolStatus>,
    pub findings: Vec<Finding>,
    pub error: Option<String>,
}

pub fn read_pools(zfs: &dyn Zfs, config: &HealthConfig, now: Timestamp) -> PoolPart {
    match zfs.pool_status() {
        Ok(pools) => PoolPart {
            findings: pools
                .iter()
                .flat_map(|pool| evaluate_pool(pool, &config.pools, now))
                .collect(),
            pools,
            error: None,
        },
        Err(error) => PoolPart {
            pools: Vec::new(),
            findings: vec![collector_failed(POOL_COLLECTOR, &error)],
            error: Some(error.to_string()),
        },
    }
}

/// The sensors part of a round: every reading, and the sensors that could not be read.
#[derive(Clone, Debug, Default)]
pub struct SensorPart {
    pub readings: Vec<SensorReading>,
    pub findings: Vec<Finding>,
    pub problems: Vec<String>,
    /// UDisks2 was asked and failed: its drives are unobserved this round.
    pub udisks_failed: bool,
}

/// The sensors of a round: sysfs, I2C, and what `udisks` (asked by the caller, which is
/// async) says about the drives `smart` did not read.
pub fn read_sensors(config: &HealthConfig, udisks: &UdisksRead, smart: &SmartPart) -> SensorPart {
    let sensors = &config.sensors;
    let mut part = SensorPart::default();
    let scans = [
        (
            sensors.hwmon,
            sysfs::read_hwmon as fn(&std::path::Path) -> _,
        ),
        (sensors.thermal, sysfs::read_thermal),
    ];
    for (enabled, read) in scans {
        if enabled {
            let scan = read(&sensors.sysfs_root);
            part.readings.extend(scan.readings);
            part.problems
                .extend(scan.problems.iter().map(ToString::to_string));
        }
    }
    let (readings, problems) = i2c::read_configured(&sensors.i2c);
    part.readings.extend(readings);
    part.problems
        .extend(problems.iter().map(ToString::to_string));
    let mut drive_findings = Vec::new();
    match udisks {
        UdisksRead::Drives(drives) => {
            let covered: BTreeSet<DiskId> = smart
                .disks
                .iter()
                .filter_map(|reading| reading.summary().map(|summary| summary.disk.clone()))
                .collect();
            let (readings, findings) = udisks_observations(drives, &covered, &config.smart);
            part.readings.extend(readings);
            drive_findings = findings;
        }
        UdisksRead::Failed(reason) => {
            part.problems.push(format!("UDisks2: {reason}"));
            part.udisks_failed = true;
        }
        UdisksRead::NotAsked | UdisksRead::Absent => {}
    }
    part.findings = evaluate_sensors(&part.readings, sensors);
    part.findings.extend(drive_findings);
    part
}

fn collector_failed(collector: &str, error: &dyn std::fmt::Display) -> Finding {
    Finding::new(
        Subject::Collector {
            collector: collector.to_owned(),
        },
        FindingKind::CollectorFailed,
        Severity::Warning,
        format!("{collector} failed: {error}"),
    )
}

/// Everything one round saw.
#[derive(Clone, Debug)]
pub struct Observation {
    pub time: Timestamp,
    pub smart: SmartPart,
    pub pools: PoolPart,
    pub sensors: SensorPart,
    /// The findings of the backup jobs (the daemon's; none in a read-only look).
    pub backups: Vec<Finding>,
}

impl Observation {
    /// Runs every collector once (the read-only view of `wizfs health`).
    pub fn collect(
        zfs: &dyn Zfs,
        source: &dyn SmartSource,
        config: &HealthConfig,
        udisks: &UdisksRead,
        now: Timestamp,
    ) -> Observation {
        let smart = read_disks(
            source,
            &BTreeMap::new(),
            &BTreeMap::new(),
            &config.smart,
            now,
        );
        Observation {
            time: now,
            sensors: read_sensors(config, udisks, &smart),
            smart,
            pools: read_pools(zfs, config, now),
            backups: Vec::new(),
        }
    }

    /// The findings of every collector, one per problem, most severe first.
    pub fn findings(&self) -> Vec<Finding> {
        let all: Vec<Finding> = self
            .smart
            .findings
            .iter()
            .chain(&self.pools.findings)
            .chain(&self.sensors.findings)
            .chain(&self.backups)
            .cloned()
            .collect();
        let mut findings = deduplicate(&all);
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.subject.cmp(&b.subject))
                .then_with(|| a.kind.cmp(&b.kind))
        });
        findings
    }

    /// Subjects whose state this round could not see: sleeping disks, and every disk (or
    /// pool and vdev, or UDisks2 sensor) with an active alert when its collector failed.
    pub fn unobserved(&self, book: &AlertBook) -> BTreeSet<Subject> {
        let mut unobserved = self.smart.unobserved.clone();
        for alert in book.active() {
            let subject = &alert.problem.subject;
            let blind = match subject {
                Subject::Disk { .. } => {
                    self.smart.scan_error.is_some() || self.sensors.udisks_failed
                }
                Subject::Pool { .. } | Subject::Vdev { .. } => self.pools.error.is_some(),
                Subject::Sensor { sensor } => {
                    self.sensors.udisks_failed && sensor.starts_with("udisks/")
                }
                Subject::Collector { .. } | Subject::Backup { .. } => false,
            };
            if blind {
                unobserved.insert(subject.clone());
            }
        }
        unobserved
    }

    /// Problems worth showing that are no findings (a sensor that failed to read).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        problems.extend(self.smart.scan_error.iter().cloned());
        problems.extend(self.pools.error.iter().cloned());
        problems.extend(self.sensors.problems.iter().cloned());
        problems
    }
}
