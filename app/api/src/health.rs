//! Health as `GET /api/v1/health`, the console and `wizfs health --json` present it: disks
//! with their SMART summary and identity, pools with their vdev trees, error counters and
//! last scrub, sensors, findings, active alerts, the compact summary a front panel or kiosk
//! shows (worst severity, counts, hottest disk), what the daemon's last round did; the alert
//! book, history series and test messages. The health crate's own types (disk identities,
//! severities, findings, SMART summaries, sensor readings, alerts) are mirrored here as plain
//! data with the same JSON; `wizfs-services` converts them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A disk's stable identity: WWN, EUI-64, or model and serial (never `/dev/sdX`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "scheme", content = "value", rename_all = "snake_case")]
pub enum DiskId {
    Wwn(String),
    Eui64(String),
    ModelSerial { model: String, serial: String },
}

impl fmt::Display for DiskId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wwn(hex) => write!(formatter, "wwn-0x{hex}"),
            Self::Eui64(hex) => write!(formatter, "eui.{hex}"),
            Self::ModelSerial { model, serial } => write!(formatter, "{model} (serial {serial})"),
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    Disk {
        disk: DiskId,
    },
    Pool {
        pool: String,
    },
    /// A vdev inside a pool, named as `zpool status` names it.
    Vdev {
        pool: String,
        vdev: String,
    },
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
            Self::Disk { disk } => write!(formatter, "disk {disk}"),
            Self::Pool { pool } => write!(formatter, "pool {pool}"),
            Self::Vdev { pool, vdev } => write!(formatter, "vdev {vdev} of pool {pool}"),
            Self::Sensor { sensor } => write!(formatter, "sensor {sensor}"),
            Self::Collector { collector } => write!(formatter, "collector {collector}"),
            Self::Backup { job } => write!(formatter, "backup job {job}"),
        }
    }
}

/// The kind of problem; with the subject it identifies one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    SmartStatusFailed,
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
    ScsiErrors,
    SelfTestFailed,
    DiskTemperature,
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
    BackupFailed,
    BackupOverdue,
}

impl fmt::Display for FindingKind {
    /// The word of the JSON (`smart_status_failed`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.serialize(formatter)
    }
}

/// One problem seen now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub subject: Subject,
    pub kind: FindingKind,
    pub severity: Severity,
    /// One sentence for people, with the numbers that matter.
    pub message: String,
}

/// What kind of drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskKind {
    Hdd,
    Ssd,
    Nvme,
}

/// `when_failed` of an ATA attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFailed {
    Never,
    Now,
    Past,
}

/// One ATA attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeReading {
    pub id: u8,
    pub name: String,
    pub value: Option<u32>,
    pub worst: Option<u32>,
    pub threshold: Option<u32>,
    pub raw: Option<u64>,
    pub when_failed: WhenFailed,
    pub prefailure: bool,
}

/// The NVMe health log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvmeReading {
    pub critical_warning: u8,
    pub available_spare: Option<u8>,
    pub available_spare_threshold: Option<u8>,
    pub percentage_used: Option<u8>,
    pub media_errors: Option<u128>,
    pub error_log_entries: Option<u128>,
    pub unsafe_shutdowns: Option<u128>,
    pub data_units_written: Option<u128>,
}

/// SCSI/SAS counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScsiReading {
    pub grown_defects: Option<u64>,
    /// Uncorrected read + write + verify errors.
    pub uncorrected_errors: Option<u64>,
}

/// The newest finished self-test in the drive's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTestResult {
    pub description: String,
    pub passed: bool,
    pub lifetime_hours: Option<u64>,
}

/// Self-test state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfTestReading {
    pub in_progress: bool,
    pub latest: Option<SelfTestResult>,
    pub log_has_errors: bool,
}

/// Temperature limits the drive itself reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveTemperatureLimits {
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

/// What WiZFS keeps of a disk's SMART report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmartSummary {
    pub disk: DiskId,
    pub kind: DiskKind,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware: Option<String>,
    pub capacity_bytes: Option<u64>,
    /// The drive's overall verdict; `None` when smartctl printed none.
    pub smart_passed: Option<bool>,
    pub temperature_celsius: Option<f64>,
    pub drive_temperature_limits: DriveTemperatureLimits,
    pub power_on_hours: Option<u64>,
    pub attributes: Vec<AttributeReading>,
    pub nvme: Option<NvmeReading>,
    pub scsi: Option<ScsiReading>,
    pub self_test: SelfTestReading,
    pub ata_error_count: Option<u64>,
    /// smartctl's exit status (a bitmask).
    pub exit: u8,
}

/// Where a sensor reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorSource {
    Hwmon,
    Thermal,
    I2c,
    Udisks,
}

/// One temperature, with the limits the sensor (or the configuration) gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    pub name: String,
    pub source: SensorSource,
    pub celsius: f64,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub humidity_percent: Option<f64>,
    pub pressure_pascal: Option<f64>,
}

/// One problem from the first time it was seen until it cleared. Times in Unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub subject: Subject,
    pub kind: FindingKind,
    pub severity: Severity,
    pub message: String,
    pub first_seen: i64,
    pub last_seen: i64,
    #[serde(default)]
    pub cleared: Option<i64>,
    /// The highest severity a notification was sent for.
    pub notified_severity: Option<Severity>,
    #[serde(default)]
    pub last_notified: Option<i64>,
    /// Consecutive evaluations that did not see it.
    pub missed_evaluations: u32,
    /// When a person acknowledged it: no reminders since, until it gets worse.
    #[serde(default)]
    pub acknowledged: Option<i64>,
}

/// A kind of SMART self-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestKind {
    Short,
    Long,
}

/// A self-test the round started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSelfTest {
    pub disk: DiskId,
    pub kind: SelfTestKind,
}

/// One disk of the SMART scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VdevView {
    pub name: String,
    pub state: String,
    pub read_errors: u64,
    pub write_errors: u64,
    pub checksum_errors: u64,
    pub note: Option<String>,
    pub children: Vec<VdevView>,
}

/// The latest scrub or resilver of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// One pool as `zpool status` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

/// The warmest disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HottestDisk {
    pub identity: String,
    pub device: String,
    pub celsius: f64,
}

/// What a front panel or kiosk shows: one word, a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentView {
    pub channel: String,
    /// `new`, `escalated`, `reminder` or `resolved`.
    pub event: String,
    pub severity: Severity,
    pub subject: Subject,
    pub kind: String,
    pub delivered: bool,
}

/// What the daemon's last round did besides looking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundView {
    /// Whether the disks were read this round (else the last reading was reused).
    pub smart_read: bool,
    pub notifications: Vec<SentView>,
    pub self_tests_started: Vec<PlannedSelfTest>,
    /// Pools whose scrub this round started (`[health.scrubs]`).
    pub scrubs_started: Vec<String>,
    pub history_points: usize,
}

/// The whole health view (`GET /api/v1/health`, `POST /api/v1/health/check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// `GET /api/v1/health/alerts`: the alert book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsView {
    /// Most severe first.
    pub active: Vec<Alert>,
    /// Resolved in the last `keep_cleared_days`.
    pub cleared: Vec<Alert>,
}

/// `GET /api/v1/health/history`: one series between two times, or the list of series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// A series name (`disk/<identity>/temperature`, `pool/tank/capacity_percent`, …);
    /// without it the answer lists the series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Unix seconds; default a week before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Unix seconds; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// 1 to 5,000; default 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<usize>,
}

/// A point of a chart: the aggregate of the measurements in a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    /// Unix seconds of the bucket start (or of the measurement, for a single raw point).
    pub time: i64,
    pub count: u64,
    pub average: f64,
    pub min: f64,
    pub max: f64,
}

/// The recorded series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsView {
    pub metrics: Vec<String>,
}

/// One series between two times (Unix seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesView {
    pub metric: String,
    pub from: i64,
    pub to: i64,
    pub points: Vec<ChartPoint>,
}

/// The answer of `GET /api/v1/health/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HistoryView {
    Metrics(MetricsView),
    Series(SeriesView),
}

/// `POST /api/v1/health/alerts/acknowledge`: the active alert about `subject` of `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AcknowledgeBody {
    pub subject: Subject,
    pub kind: FindingKind,
}

/// `POST /api/v1/health/scrub`: start a scrub of `pool` now.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScrubBody {
    pub pool: String,
}

/// `POST /api/v1/health/self-test`: start a SMART self-test of a disk now.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SelfTestBody {
    /// The disk's identity token (`DiskView::identity`) or the device smartctl was given.
    pub disk: String,
    pub kind: SelfTestKind,
}

/// A notification channel as the console lists it: what it is and where it sends, never its
/// secrets (a URL shows only its scheme and host; an ntfy topic is not shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub settings: ChannelSettings,
    /// Where it sends, for a person (`to ops@example.org via smtp.example.org:587`).
    pub destination: String,
    /// Why it cannot send (a missing secret file, a bad address), when it cannot.
    pub problem: Option<String>,
}

/// The kinds of notification channel (`type` of a `[[health.notify]]` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Email,
    Webhook,
    Ntfy,
    Gotify,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [Self::Email, Self::Webhook, Self::Ntfy, Self::Gotify];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
            Self::Ntfy => "ntfy",
            Self::Gotify => "gotify",
        }
    }

    /// The kind a `type` names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// What its secret is called (`token`, `password`).
    pub fn secret_name(self) -> &'static str {
        match self {
            Self::Email => "password",
            Self::Webhook | Self::Ntfy | Self::Gotify => "token",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A channel's settings that may be shown: everything but its secrets — the token or
/// password, a webhook's URL (it often carries a token) and an ntfy topic (whoever knows it
/// may read and write it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSettings {
    pub kind: ChannelKind,
    pub name: String,
    /// The least severity it is sent.
    pub min_severity: Severity,
    /// ntfy: its server; Gotify: its URL; email: the SMTP server.
    pub server: Option<String>,
    /// email: the SMTP port (none: by `security`).
    pub smtp_port: Option<u16>,
    /// email: `starttls`, `tls` or `none`.
    pub security: Option<String>,
    /// email: the SMTP user.
    pub username: Option<String>,
    /// email: the sender (`WiZFS <nas@example.org>`).
    pub from: Option<String>,
    /// email: the recipients.
    pub to: Vec<String>,
    /// The file its token or password is read from.
    pub secret_file: Option<String>,
    /// Whether a token or password is written in the configuration itself.
    pub secret_inline: bool,
    /// webhook: whether its URL is set; ntfy: whether its topic is (kept, never shown).
    pub address_set: bool,
}

impl ChannelSettings {
    /// A channel of `kind` named `name` sent `min_severity` and worse, nothing else set.
    pub fn new(kind: ChannelKind, name: &str, min_severity: Severity) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            min_severity,
            server: None,
            smtp_port: None,
            security: None,
            username: None,
            from: None,
            to: Vec::new(),
            secret_file: None,
            secret_inline: false,
            address_set: false,
        }
    }
}

/// A channel as a person sets it: its settings and what to do with its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEdit {
    pub kind: ChannelKind,
    pub name: String,
    pub min_severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    /// webhook: its URL; ntfy: its topic. None or empty: keep the one configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The token or password, written into the configuration (readable by root only). None
    /// or empty: keep the one configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The file to read the token or password from instead (it replaces one written inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<String>,
    /// Remove the token or password written inline.
    #[serde(default)]
    pub clear_secret: bool,
}

impl ChannelEdit {
    /// A new channel of `kind` named `name` for warnings and worse, nothing else set.
    pub fn new(kind: ChannelKind, name: &str) -> Self {
        Self::of(&ChannelSettings::new(kind, name, Severity::Warning))
    }

    /// The form of a configured channel, to change it (its secrets kept unless replaced).
    pub fn of(settings: &ChannelSettings) -> Self {
        Self {
            kind: settings.kind,
            name: settings.name.clone(),
            min_severity: settings.min_severity,
            server: settings.server.clone(),
            smtp_port: settings.smtp_port,
            security: settings.security.clone(),
            username: settings.username.clone(),
            from: settings.from.clone(),
            to: settings.to.clone(),
            address: None,
            secret: None,
            secret_file: settings.secret_file.clone(),
            clear_secret: false,
        }
    }
}

/// `POST /api/v1/health/channels`: add, change or remove one `[[health.notify]]` table of
/// `wizfsd.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelChange {
    /// The name of the channel changed or removed; none: a new channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// The channel as it is to be; none: remove `original`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelEdit>,
}

/// What an action started, in words (`Scrub of tank started.`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedView {
    pub message: String,
}

/// `POST /api/v1/health/test-notification`: which channels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestQuery {
    /// Only this channel (default: every configured channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// The outcome of a test message on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub channel: String,
    pub delivered: bool,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_shapes_on_the_wire() {
        let finding = Finding {
            subject: Subject::Disk {
                disk: DiskId::ModelSerial {
                    model: "QEMU NVMe Ctrl".into(),
                    serial: "N1".into(),
                },
            },
            kind: FindingKind::NvmeCriticalWarning,
            severity: Severity::Critical,
            message: "spare low".into(),
        };
        let json = serde_json::to_value(&finding).expect("json");
        assert_eq!(json["subject"]["type"], "disk");
        assert_eq!(json["subject"]["disk"]["scheme"], "model_serial");
        assert_eq!(json["subject"]["disk"]["value"]["serial"], "N1");
        assert_eq!(json["kind"], "nvme_critical_warning");
        assert_eq!(
            serde_json::from_value::<Finding>(json).expect("back"),
            finding
        );
        assert_eq!(
            format!("{} {}", finding.subject, finding.kind),
            "disk QEMU NVMe Ctrl (serial N1) nvme_critical_warning"
        );
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        let listed = serde_json::to_value(HistoryView::Metrics(MetricsView {
            metrics: vec!["pool/tank/capacity_percent".into()],
        }))
        .expect("json");
        assert_eq!(
            listed,
            serde_json::json!({"metrics": ["pool/tank/capacity_percent"]})
        );
    }
}
