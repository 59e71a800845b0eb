//! Wire types of health, as `GET /api/v1/health` and `wizfs health --json` present them:
//! disks with their SMART summary and identity, pools with their vdev trees, error counters
//! and last scrub, sensors, findings, active alerts, and the compact summary a front panel or
//! kiosk shows (worst severity, counts, hottest disk). The plain pool model of `wizfs-core`
//! is converted here; the health crate's own types are already serializable.

use serde::{Deserialize, Serialize};
use wizfs_health::alerts::{Alert, Delivery};
use wizfs_health::pools::{PoolStatus, ScanFunction, ScanState, ScrubInfo, Vdev};
use wizfs_health::sensors::SensorReading;
use wizfs_health::smart::{DiskId, PlannedSelfTest, SmartSummary};
use wizfs_health::{Finding, Severity, Subject, Timestamp};

use crate::health::collect::{DiskOutcome, DiskReading, Observation};

/// One disk of the SMART scan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiskView {
    /// The path smartctl was given (for people; the identity is `disk`).
    pub device: String,
    pub device_type: Option<String>,
    pub protocol: Option<String>,
    /// `read`, `no_identity`, `sleeping`, `unavailable` or `failed`.
    pub state: String,
    /// The stable identity (WWN, EUI-64 or model + serial).
    pub disk: Option<DiskId>,
    /// The identity as one token (`wwn-0x5000…`, `QEMU_NVMe_Ctrl_WIZFSNVME0`), the prefix of
    /// the disk's history metrics.
    pub identity: Option<String>,
    /// The worst finding about this disk.
    pub severity: Option<Severity>,
    pub summary: Option<SmartSummary>,
    /// What smartctl said when it could not read the disk.
    pub messages: Vec<String>,
    pub read_at: String,
    pub read_at_unix: i64,
}

/// A vdev and its children.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VdevView {
    pub name: String,
    pub state: String,
    pub read_errors: u64,
    pub write_errors: u64,
    pub checksum_errors: u64,
    pub note: Option<String>,
    pub children: Vec<VdevView>,
}

impl From<&Vdev> for VdevView {
    fn from(vdev: &Vdev) -> Self {
        Self {
            name: vdev.name.clone(),
            state: vdev.state.as_str().to_owned(),
            read_errors: vdev.read_errors,
            write_errors: vdev.write_errors,
            checksum_errors: vdev.checksum_errors,
            note: vdev.note.clone(),
            children: vdev.children.iter().map(VdevView::from).collect(),
        }
    }
}

/// The latest scrub or resilver of a pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScrubView {
    /// `scrub` or `resilver`.
    pub function: String,
    /// `scanning`, `finished` or `canceled`.
    pub state: String,
    pub started: Option<String>,
    pub started_unix: Option<i64>,
    pub ended: Option<String>,
    pub ended_unix: Option<i64>,
    pub errors: u64,
    pub repaired_bytes: u64,
}

impl From<&ScrubInfo> for ScrubView {
    fn from(scrub: &ScrubInfo) -> Self {
        Self {
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
}

/// One pool as `zpool status` describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PoolStatusView {
    pub name: String,
    pub state: String,
    pub status: Option<String>,
    pub action: Option<String>,
    pub capacity_percent: Option<u8>,
    pub fragmentation_percent: Option<u8>,
    pub data_errors: Option<u64>,
    pub scrub: Option<ScrubView>,
    pub vdevs: Vec<VdevView>,
    /// The worst finding about the pool or one of its vdevs.
    pub severity: Option<Severity>,
}

/// How many findings of each severity.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

/// The warmest disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HottestDisk {
    pub identity: String,
    pub device: String,
    pub celsius: f64,
}

/// What a front panel or kiosk shows: one word, a few numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PanelSummary {
    /// `ok` or the worst severity: `info`, `warning`, `critical`.
    pub status: String,
    pub counts: SeverityCounts,
    pub disks: usize,
    pub disks_sleeping: usize,
    pub pools: usize,
    pub pools_online: usize,
    pub hottest_disk: Option<HottestDisk>,
    pub active_alerts: usize,
}

/// A notification the round handed to a channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentView {
    pub channel: String,
    /// `new`, `escalated`, `reminder` or `resolved`.
    pub event: String,
    pub severity: Severity,
    pub subject: Subject,
    pub kind: String,
    pub delivered: bool,
}

impl SentView {
    pub fn new(delivery: &Delivery, delivered: bool) -> Self {
        let notification = &delivery.notification;
        Self {
            channel: delivery.channel.clone(),
            event: notification.event.as_str().to_owned(),
            severity: notification.problem.severity,
            subject: notification.problem.subject.clone(),
            kind: notification.problem.kind.as_str().to_owned(),
            delivered,
        }
    }
}

/// What the daemon's last round did besides looking.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoundView {
    /// Whether the disks were read this round (else the last reading was reused).
    pub smart_read: bool,
    pub notifications: Vec<SentView>,
    pub self_tests_started: Vec<PlannedSelfTest>,
    /// Pools whose scrub this round started (`[health.scrubs]`).
    pub scrubs_started: Vec<String>,
    pub history_points: usize,
}

/// The whole health view.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthView {
    pub checked_at: String,
    pub checked_at_unix: i64,
    pub summary: PanelSummary,
    pub disks: Vec<DiskView>,
    pub pools: Vec<PoolStatusView>,
    pub sensors: Vec<SensorReading>,
    /// Every problem seen now, most severe first.
    pub findings: Vec<Finding>,
    /// The daemon's active alerts (first and last seen); empty in the read-only CLI view.
    pub alerts: Vec<Alert>,
    /// Collectors, sensors and channels that failed, in words.
    pub problems: Vec<String>,
    /// The daemon's round; absent in the read-only CLI view.
    pub round: Option<RoundView>,
}

fn worst<'a>(findings: &'a [Finding], about: impl Fn(&Subject) -> bool + 'a) -> Option<Severity> {
    findings
        .iter()
        .filter(|finding| about(&finding.subject))
        .map(|finding| finding.severity)
        .max()
}

fn disk_view(reading: &DiskReading, findings: &[Finding], read_at: Timestamp) -> DiskView {
    let disk = reading.disk().cloned();
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
        identity: disk.as_ref().map(DiskId::token),
        severity: disk.as_ref().and_then(|disk| {
            worst(
                findings,
                |subject| matches!(subject, Subject::Disk { disk: other } if other == disk),
            )
        }),
        disk,
        summary: reading.summary().cloned(),
        messages,
        read_at: read_at.to_string(),
        read_at_unix: read_at.seconds(),
    }
}

fn pool_view(pool: &PoolStatus, findings: &[Finding]) -> PoolStatusView {
    PoolStatusView {
        name: pool.name.clone(),
        state: pool.state.as_str().to_owned(),
        status: pool.status.clone(),
        action: pool.action.clone(),
        capacity_percent: pool.capacity_percent,
        fragmentation_percent: pool.fragmentation_percent,
        data_errors: pool.data_errors,
        scrub: pool.scrub.as_ref().map(ScrubView::from),
        vdevs: pool.vdevs.iter().map(VdevView::from).collect(),
        severity: worst(findings, |subject| match subject {
            Subject::Pool { pool: name } | Subject::Vdev { pool: name, .. } => *name == pool.name,
            _ => false,
        }),
    }
}

impl HealthView {
    /// The view of one observation, with the daemon's active alerts and round (none for the
    /// CLI).
    pub fn new(
        observation: &Observation,
        alerts: Vec<Alert>,
        extra_problems: Vec<String>,
        round: Option<RoundView>,
    ) -> Self {
        let findings = observation.findings();
        let disks: Vec<DiskView> = observation
            .smart
            .disks
            .iter()
            .map(|reading| disk_view(reading, &findings, observation.smart.read_at))
            .collect();
        let pools: Vec<PoolStatusView> = observation
            .pools
            .pools
            .iter()
            .map(|pool| pool_view(pool, &findings))
            .collect();
        let mut counts = SeverityCounts::default();
        for finding in &findings {
            match finding.severity {
                Severity::Critical => counts.critical += 1,
                Severity::Warning => counts.warning += 1,
                Severity::Info => counts.info += 1,
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
                .map_or("ok", Severity::as_str)
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
        Self {
            checked_at: observation.time.to_string(),
            checked_at_unix: observation.time.seconds(),
            summary,
            disks,
            pools,
            sensors: observation.sensors.readings.clone(),
            findings,
            alerts,
            problems,
            round,
        }
    }
}
