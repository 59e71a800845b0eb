//! The health views of `wizfs-api` from the health crate's types and one round's
//! observation: disks, pools with their vdev trees and scrubs, the findings and alerts, and
//! the compact summary a front panel shows (worst severity, counts, hottest disk).

use wizfs_api::health::{
    Alert, AttributeReading, ChartPoint, DiskId, DiskKind, DiskView, DriveTemperatureLimits,
    Finding, FindingKind, HealthView, HottestDisk, NvmeReading, PanelSummary, PlannedSelfTest,
    PoolStatusView, RoundView, ScrubView, ScsiReading, SelfTestKind, SelfTestReading,
    SelfTestResult, SensorReading, SensorSource, SentView, Severity, SeverityCounts, SmartSummary,
    Subject, VdevView, WhenFailed,
};
use wizfs_health::Timestamp;
use wizfs_health::alerts::Delivery;
use wizfs_health::pools::{PoolStatus, ScanFunction, ScanState, ScrubInfo, Vdev};
use wizfs_health::smart;

use crate::health::collect::{DiskOutcome, DiskReading, Observation};

/// A severity.
pub fn severity(severity: wizfs_health::Severity) -> Severity {
    match severity {
        wizfs_health::Severity::Info => Severity::Info,
        wizfs_health::Severity::Warning => Severity::Warning,
        wizfs_health::Severity::Critical => Severity::Critical,
    }
}

/// A disk's identity.
pub fn disk_id(disk: &smart::DiskId) -> DiskId {
    match disk {
        smart::DiskId::Wwn(hex) => DiskId::Wwn(hex.clone()),
        smart::DiskId::Eui64(hex) => DiskId::Eui64(hex.clone()),
        smart::DiskId::ModelSerial { model, serial } => DiskId::ModelSerial {
            model: model.clone(),
            serial: serial.clone(),
        },
    }
}

/// What a finding is about.
pub fn subject(subject: &wizfs_health::Subject) -> Subject {
    use wizfs_health::Subject as Health;
    match subject {
        Health::Disk { disk } => Subject::Disk {
            disk: disk_id(disk),
        },
        Health::Pool { pool } => Subject::Pool { pool: pool.clone() },
        Health::Vdev { pool, vdev } => Subject::Vdev {
            pool: pool.clone(),
            vdev: vdev.clone(),
        },
        Health::Sensor { sensor } => Subject::Sensor {
            sensor: sensor.clone(),
        },
        Health::Collector { collector } => Subject::Collector {
            collector: collector.clone(),
        },
        Health::Backup { job } => Subject::Backup { job: job.clone() },
    }
}

/// A kind of finding.
pub fn finding_kind(kind: wizfs_health::FindingKind) -> FindingKind {
    use wizfs_health::FindingKind as Health;
    match kind {
        Health::SmartStatusFailed => FindingKind::SmartStatusFailed,
        Health::AttributeFailing => FindingKind::AttributeFailing,
        Health::ReallocatedSectors => FindingKind::ReallocatedSectors,
        Health::PendingSectors => FindingKind::PendingSectors,
        Health::OfflineUncorrectable => FindingKind::OfflineUncorrectable,
        Health::ReportedUncorrectable => FindingKind::ReportedUncorrectable,
        Health::CommandTimeouts => FindingKind::CommandTimeouts,
        Health::CrcErrors => FindingKind::CrcErrors,
        Health::NvmeCriticalWarning => FindingKind::NvmeCriticalWarning,
        Health::NvmeSpareLow => FindingKind::NvmeSpareLow,
        Health::NvmeWearOut => FindingKind::NvmeWearOut,
        Health::NvmeMediaErrors => FindingKind::NvmeMediaErrors,
        Health::ScsiErrors => FindingKind::ScsiErrors,
        Health::SelfTestFailed => FindingKind::SelfTestFailed,
        Health::DiskTemperature => FindingKind::DiskTemperature,
        Health::SmartUnavailable => FindingKind::SmartUnavailable,
        Health::PoolState => FindingKind::PoolState,
        Health::VdevState => FindingKind::VdevState,
        Health::VdevErrors => FindingKind::VdevErrors,
        Health::PoolCapacity => FindingKind::PoolCapacity,
        Health::PoolFragmentation => FindingKind::PoolFragmentation,
        Health::ScrubErrors => FindingKind::ScrubErrors,
        Health::ScrubOverdue => FindingKind::ScrubOverdue,
        Health::SensorTemperature => FindingKind::SensorTemperature,
        Health::CollectorFailed => FindingKind::CollectorFailed,
        Health::BackupFailed => FindingKind::BackupFailed,
        Health::BackupOverdue => FindingKind::BackupOverdue,
    }
}

/// A finding.
pub fn finding(finding: &wizfs_health::Finding) -> Finding {
    Finding {
        subject: subject(&finding.subject),
        kind: finding_kind(finding.kind),
        severity: severity(finding.severity),
        message: finding.message.clone(),
    }
}

/// An alert of the book.
pub fn alert(alert: &wizfs_health::alerts::Alert) -> Alert {
    let problem = &alert.problem;
    Alert {
        subject: subject(&problem.subject),
        kind: finding_kind(problem.kind),
        severity: severity(problem.severity),
        message: problem.message.clone(),
        first_seen: problem.first_seen.seconds(),
        last_seen: problem.last_seen.seconds(),
        cleared: problem.cleared.map(Timestamp::seconds),
        notified_severity: alert.notified_severity.map(severity),
        last_notified: alert.last_notified.map(Timestamp::seconds),
        missed_evaluations: alert.missed_evaluations,
        acknowledged: alert.acknowledged.map(Timestamp::seconds),
    }
}

fn attribute(reading: &smart::summary::AttributeReading) -> AttributeReading {
    AttributeReading {
        id: reading.id,
        name: reading.name.clone(),
        value: reading.value,
        worst: reading.worst,
        threshold: reading.threshold,
        raw: reading.raw,
        when_failed: match reading.when_failed {
            smart::summary::WhenFailed::Never => WhenFailed::Never,
            smart::summary::WhenFailed::Now => WhenFailed::Now,
            smart::summary::WhenFailed::Past => WhenFailed::Past,
        },
        prefailure: reading.prefailure,
    }
}

/// What WiZFS keeps of a disk's SMART report.
pub fn smart_summary(summary: &smart::SmartSummary) -> SmartSummary {
    let self_test = &summary.self_test;
    SmartSummary {
        disk: disk_id(&summary.disk),
        kind: match summary.kind {
            smart::DiskKind::Hdd => DiskKind::Hdd,
            smart::DiskKind::Ssd => DiskKind::Ssd,
            smart::DiskKind::Nvme => DiskKind::Nvme,
        },
        model: summary.model.clone(),
        serial: summary.serial.clone(),
        firmware: summary.firmware.clone(),
        capacity_bytes: summary.capacity_bytes,
        smart_passed: summary.smart_passed,
        temperature_celsius: summary.temperature_celsius,
        drive_temperature_limits: DriveTemperatureLimits {
            warning: summary.drive_temperature_limits.warning,
            critical: summary.drive_temperature_limits.critical,
        },
        power_on_hours: summary.power_on_hours,
        attributes: summary.attributes.iter().map(attribute).collect(),
        nvme: summary.nvme.as_ref().map(|nvme| NvmeReading {
            critical_warning: nvme.critical_warning,
            available_spare: nvme.available_spare,
            available_spare_threshold: nvme.available_spare_threshold,
            percentage_used: nvme.percentage_used,
            media_errors: nvme.media_errors,
            error_log_entries: nvme.error_log_entries,
            unsafe_shutdowns: nvme.unsafe_shutdowns,
            data_units_written: nvme.data_units_written,
        }),
        scsi: summary.scsi.as_ref().map(|scsi| ScsiReading {
            grown_defects: scsi.grown_defects,
            uncorrected_errors: scsi.uncorrected_errors,
        }),
        self_test: SelfTestReading {
            in_progress: self_test.in_progress,
            latest: self_test.latest.as_ref().map(|latest| SelfTestResult {
                description: latest.description.clone(),
                passed: latest.passed,
                lifetime_hours: latest.lifetime_hours,
            }),
            log_has_errors: self_test.log_has_errors,
        },
        ata_error_count: summary.ata_error_count,
        exit: summary.exit.0,
    }
}

/// A sensor's reading.
pub fn sensor_reading(reading: &wizfs_health::sensors::SensorReading) -> SensorReading {
    use wizfs_health::sensors::SensorSource as Health;
    SensorReading {
        name: reading.name.clone(),
        source: match reading.source {
            Health::Hwmon => SensorSource::Hwmon,
            Health::Thermal => SensorSource::Thermal,
            Health::I2c => SensorSource::I2c,
            Health::Udisks => SensorSource::Udisks,
        },
        celsius: reading.celsius,
        warning: reading.warning,
        critical: reading.critical,
        humidity_percent: reading.humidity_percent,
        pressure_pascal: reading.pressure_pascal,
    }
}

/// A self-test a round started.
pub fn planned_self_test(planned: &smart::PlannedSelfTest) -> PlannedSelfTest {
    PlannedSelfTest {
        disk: disk_id(&planned.disk),
        kind: match planned.kind {
            smart::SelfTestKind::Short => SelfTestKind::Short,
            smart::SelfTestKind::Long => SelfTestKind::Long,
        },
    }
}

/// A point of a history chart.
pub fn chart_point(point: &wizfs_health::history::ChartPoint) -> ChartPoint {
    ChartPoint {
        time: point.time,
        count: point.count,
        average: point.average,
        min: point.min,
        max: point.max,
    }
}

/// A notification the round handed to a channel, and whether it arrived.
pub fn sent(delivery: &Delivery, delivered: bool) -> SentView {
    let notification = &delivery.notification;
    SentView {
        channel: delivery.channel.clone(),
        event: notification.event.as_str().to_owned(),
        severity: severity(notification.problem.severity),
        subject: subject(&notification.problem.subject),
        kind: notification.problem.kind.as_str().to_owned(),
        delivered,
    }
}

fn vdev(vdev: &Vdev) -> VdevView {
    VdevView {
        name: vdev.name.clone(),
        state: vdev.state.as_str().to_owned(),
        read_errors: vdev.read_errors,
        write_errors: vdev.write_errors,
        checksum_errors: vdev.checksum_errors,
        note: vdev.note.clone(),
        children: vdev.children.iter().map(self::vdev).collect(),
    }
}

fn scrub(scrub: &ScrubInfo) -> ScrubView {
    ScrubView {
        function: match scrub.function {
            ScanFunction::Scrub => "scrub",
            ScanFunction::Resilver => "resilver",
        }
        .to_owned(),
        state: match scrub.state {
            ScanState::Scanning => "scanning",
            ScanState::Finished => "finished",
            ScanState::Canceled => "canceled",
        }
        .to_owned(),
        started: scrub.started.map(|time| time.to_string()),
        started_unix: scrub.started.map(Timestamp::seconds),
        ended: scrub.ended.map(|time| time.to_string()),
        ended_unix: scrub.ended.map(Timestamp::seconds),
        errors: scrub.errors,
        repaired_bytes: scrub.repaired_bytes,
    }
}

fn worst<'a>(
    findings: &'a [wizfs_health::Finding],
    about: impl Fn(&wizfs_health::Subject) -> bool + 'a,
) -> Option<Severity> {
    findings
        .iter()
        .filter(|finding| about(&finding.subject))
        .map(|finding| finding.severity)
        .max()
        .map(severity)
}

fn disk(reading: &DiskReading, findings: &[wizfs_health::Finding], read_at: Timestamp) -> DiskView {
    let disk = reading.disk();
    let (state, messages) = match &reading.outcome {
        DiskOutcome::Read(_) => ("read", Vec::new()),
        DiskOutcome::NoIdentity { messages } => ("no_identity", messages.clone()),
        DiskOutcome::Sleeping { messages, .. } => ("sleeping", messages.clone()),
        DiskOutcome::Unavailable { messages, .. } => ("unavailable", messages.clone()),
        DiskOutcome::Failed { error, .. } => ("failed", vec![error.clone()]),
    };
    DiskView {
        device: reading.device.name.clone(),
        device_type: reading.device.device_type.clone(),
        protocol: reading.device.protocol.clone(),
        state: state.to_owned(),
        identity: disk.map(smart::DiskId::token),
        severity: disk.and_then(|disk| {
            worst(
                findings,
                |subject| matches!(subject, wizfs_health::Subject::Disk { disk: other } if other == disk),
            )
        }),
        disk: disk.map(disk_id),
        summary: reading.summary().map(smart_summary),
        messages,
        read_at: read_at.to_string(),
        read_at_unix: read_at.seconds(),
    }
}

fn pool(pool: &PoolStatus, findings: &[wizfs_health::Finding]) -> PoolStatusView {
    use wizfs_health::Subject as Health;
    PoolStatusView {
        name: pool.name.clone(),
        state: pool.state.as_str().to_owned(),
        status: pool.status.clone(),
        action: pool.action.clone(),
        capacity_percent: pool.capacity_percent,
        fragmentation_percent: pool.fragmentation_percent,
        data_errors: pool.data_errors,
        scrub: pool.scrub.as_ref().map(scrub),
        vdevs: pool.vdevs.iter().map(vdev).collect(),
        severity: worst(findings, |subject| match subject {
            Health::Pool { pool: name } | Health::Vdev { pool: name, .. } => *name == pool.name,
            _ => false,
        }),
    }
}

/// The view of one observation, with the daemon's active alerts and round (none for the
/// read-only CLI view).
pub fn health(
    observation: &Observation,
    alerts: Vec<Alert>,
    extra_problems: Vec<String>,
    round: Option<RoundView>,
) -> HealthView {
    let findings = observation.findings();
    let disks: Vec<DiskView> = observation
        .smart
        .disks
        .iter()
        .map(|reading| disk(reading, &findings, observation.smart.read_at))
        .collect();
    let pools: Vec<PoolStatusView> = observation
        .pools
        .pools
        .iter()
        .map(|status| pool(status, &findings))
        .collect();
    let mut counts = SeverityCounts::default();
    for finding in &findings {
        match finding.severity {
            wizfs_health::Severity::Critical => counts.critical += 1,
            wizfs_health::Severity::Warning => counts.warning += 1,
            wizfs_health::Severity::Info => counts.info += 1,
        }
    }
    let hottest_disk = disks
        .iter()
        .filter_map(|disk| {
            let celsius = disk.summary.as_ref()?.temperature_celsius?;
            Some(HottestDisk {
                identity: disk.identity.clone()?,
                device: disk.device.clone(),
                celsius,
            })
        })
        .max_by(|a, b| a.celsius.total_cmp(&b.celsius));
    let summary = PanelSummary {
        status: findings
            .iter()
            .map(|finding| finding.severity)
            .max()
            .map_or("ok", wizfs_health::Severity::as_str)
            .to_owned(),
        counts,
        disks: disks.len(),
        disks_sleeping: disks.iter().filter(|disk| disk.state == "sleeping").count(),
        pools: pools.len(),
        pools_online: pools.iter().filter(|pool| pool.state == "ONLINE").count(),
        hottest_disk,
        active_alerts: alerts.len(),
    };
    let mut problems = observation.problems();
    problems.extend(extra_problems);
    HealthView {
        checked_at: observation.time.to_string(),
        checked_at_unix: observation.time.seconds(),
        summary,
        disks,
        pools,
        sensors: observation
            .sensors
            .readings
            .iter()
            .map(sensor_reading)
            .collect(),
        findings: findings.iter().map(finding).collect(),
        alerts,
        problems,
        round,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde::Serialize;
    use wizfs_health::alerts::{AlertBook, AlertPolicy};
    use wizfs_health::sensors::udisks::UdisksRead;

    use super::*;
    use crate::health::fixtures::FixtureSmartSource;
    use crate::testing::{Machine, START};

    fn same(mirror: &impl Serialize, original: &impl Serialize) {
        assert_eq!(
            serde_json::to_value(mirror).expect("the mirror's JSON"),
            serde_json::to_value(original).expect("the original's JSON")
        );
    }

    /// The API's mirrors of the health crate's types have its JSON, field for field: the REST
    /// answers and `wizfs health --json` did not change when the views moved to `wizfs-api`.
    #[test]
    fn the_mirrors_have_the_json_of_the_health_crate() {
        let machine = Machine::new("http://127.0.0.1:9/");
        let source = FixtureSmartSource::seeded(&machine.smart_directory()).expect("fixtures");
        let observation = Observation::collect(
            machine.zfs.as_ref(),
            &source,
            &machine.config,
            &UdisksRead::NotAsked,
            Timestamp(START),
        );
        let findings = observation.findings();
        assert!(findings.len() > 2, "{findings:?}");
        for original in &findings {
            same(&finding(original), original);
        }
        let summaries: Vec<_> = observation
            .smart
            .disks
            .iter()
            .filter_map(|reading| reading.summary())
            .collect();
        assert_eq!(summaries.len(), 2);
        for original in summaries {
            same(&smart_summary(original), original);
        }
        assert!(!observation.sensors.readings.is_empty());
        for original in &observation.sensors.readings {
            same(&sensor_reading(original), original);
        }
        let mut book = AlertBook::default();
        let policy = AlertPolicy::default();
        book.evaluate(&findings, &BTreeSet::new(), &policy, Timestamp(START));
        book.evaluate(
            &findings[1..],
            &BTreeSet::new(),
            &policy,
            Timestamp(START + 60),
        );
        assert!(book.alerts.iter().any(|alert| !alert.is_active()));
        for original in &book.alerts {
            same(&alert(original), original);
        }
        let planned = smart::PlannedSelfTest {
            disk: smart::DiskId::Wwn("5000cca37fca81a8".into()),
            kind: smart::SelfTestKind::Long,
        };
        same(&planned_self_test(&planned), &planned);
        let point = wizfs_health::history::ChartPoint {
            time: START,
            count: 3,
            average: 41.5,
            min: 40.0,
            max: 43.0,
        };
        same(&chart_point(&point), &point);
    }
}
