//! The few numbers WiZFS keeps from a smartctl report, as plain serializable data: what the
//! failure rules read, what the history records and what the console shows. Building it is
//! the one place that knows where each protocol (ATA, NVMe, SCSI) and each smartctl version
//! puts a value, so the rules do not.

use serde::{Deserialize, Serialize};

use super::exit::ExitStatus;
use super::identity::{DiskId, disk_identity};
use super::report::{AtaSelfTestEntry, Number, SmartctlReport, pick};

/// What kind of drive: the default temperature limits differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskKind {
    /// A spinning disk (ATA or SAS).
    Hdd,
    /// A SATA or SAS solid-state drive.
    Ssd,
    Nvme,
}

/// `when_failed` of an ATA attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFailed {
    Never,
    /// The normalized value is at or below the threshold now.
    Now,
    /// It was at some time in the past.
    Past,
}

/// One ATA attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScsiReading {
    pub grown_defects: Option<u64>,
    /// Uncorrected read + write + verify errors.
    pub uncorrected_errors: Option<u64>,
}

/// The newest finished self-test in the drive's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelfTestResult {
    pub description: String,
    pub passed: bool,
    pub lifetime_hours: Option<u64>,
}

/// Self-test state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfTestReading {
    pub in_progress: bool,
    pub latest: Option<SelfTestResult>,
    /// Exit status bit 7: failed tests not outdated by a newer passing extended test.
    pub log_has_errors: bool,
}

/// Temperature limits the drive itself reports (NVMe WCTEMP/CCTEMP, SCSI trip temperature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveTemperatureLimits {
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

/// Everything the rules and history need from one report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// ATA error log entries (summary or extended count).
    pub ata_error_count: Option<u64>,
    pub exit: ExitStatus,
}

impl SmartSummary {
    pub fn attribute(&self, id: u8) -> Option<&AttributeReading> {
        self.attributes.iter().find(|attribute| attribute.id == id)
    }

    /// Raw value of attribute `id`.
    pub fn raw(&self, id: u8) -> Option<u64> {
        self.attribute(id).and_then(|attribute| attribute.raw)
    }
}

/// Builds the summary of `report`; `None` when the report names no disk identity.
pub fn summarize(report: &SmartctlReport, exit: ExitStatus) -> Option<SmartSummary> {
    let disk = disk_identity(report)?;
    let protocol = report.protocol().unwrap_or_default();
    let rotation = report.rotation_rate.as_ref().and_then(Number::as_u64);
    let kind = if protocol == "nvme" || report.nvme_smart_health_information_log.is_some() {
        DiskKind::Nvme
    } else if rotation == Some(0) {
        DiskKind::Ssd
    } else {
        DiskKind::Hdd
    };
    let attributes = attributes(report);
    Some(SmartSummary {
        disk,
        kind,
        model: report
            .model_name
            .clone()
            .or_else(|| report.scsi_model_name.clone()),
        serial: report.serial_number.clone(),
        firmware: report.firmware_version.clone(),
        capacity_bytes: report.user_capacity.as_ref().and_then(|capacity| {
            pick(capacity.bytes.as_ref(), capacity.bytes_s.as_ref())
                .and_then(|bytes| u64::try_from(bytes).ok())
        }),
        smart_passed: report
            .smart_status
            .as_ref()
            .and_then(|status| status.passed),
        temperature_celsius: temperature(report),
        drive_temperature_limits: drive_temperature_limits(report),
        power_on_hours: power_on_hours(report),
        nvme: nvme(report),
        scsi: scsi(report),
        self_test: self_test(report, exit),
        ata_error_count: report.ata_smart_error_log.as_ref().and_then(|log| {
            [log.extended.as_ref(), log.summary.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|count| count.count.as_ref().and_then(Number::as_u64))
        }),
        attributes,
        exit,
    })
}

fn attributes(report: &SmartctlReport) -> Vec<AttributeReading> {
    let Some(table) = report
        .ata_smart_attributes
        .as_ref()
        .and_then(|attributes| attributes.table.as_ref())
    else {
        return Vec::new();
    };
    table
        .iter()
        .filter_map(|attribute| {
            let id = attribute.id?;
            let when_failed = match attribute.when_failed.as_deref().map(str::trim) {
                Some("now") | Some("FAILING_NOW") => WhenFailed::Now,
                Some("past") | Some("In_the_past") => WhenFailed::Past,
                _ => WhenFailed::Never,
            };
            Some(AttributeReading {
                id,
                name: attribute.name.clone().unwrap_or_default(),
                value: attribute.value,
                worst: attribute.worst,
                threshold: attribute.thresh,
                raw: attribute.raw_value(),
                when_failed,
                prefailure: attribute
                    .flags
                    .as_ref()
                    .and_then(|flags| flags.prefailure)
                    .unwrap_or(false),
            })
        })
        .collect()
}

/// SMART attribute ids that hold the drive temperature in the low bits of their raw value.
const TEMPERATURE_ATTRIBUTES: [u8; 2] = [194, 190];

/// Current temperature: `temperature.current` (ATA, NVMe, SCSI), else the NVMe log, else a
/// SCSI environmental report, else attribute 194/190 (the first number of its raw text).
/// A SCSI drive that reports 0 °C in `temperature.current` but a real value in its
/// environmental report (smart-scsi-sas-env-temp.json) is read from the report.
fn temperature(report: &SmartctlReport) -> Option<f64> {
    let plausible = |celsius: f64| (celsius > 0.0 && celsius < 200.0).then_some(celsius);
    report
        .temperature
        .as_ref()
        .and_then(|temperature| temperature.current.as_ref())
        .and_then(Number::as_f64)
        .and_then(plausible)
        .or_else(|| {
            report
                .nvme_smart_health_information_log
                .as_ref()
                .and_then(|log| log.temperature.as_ref())
                .and_then(Number::as_f64)
                .and_then(plausible)
        })
        .or_else(|| {
            report
                .scsi_environmental_reports
                .as_ref()
                .and_then(|reports| {
                    reports
                        .iter()
                        .filter(|(name, _)| name.starts_with("temperature"))
                        .find_map(|(_, report)| report.current.as_ref().and_then(Number::as_f64))
                        .and_then(plausible)
                })
        })
        .or_else(|| {
            TEMPERATURE_ATTRIBUTES.iter().find_map(|id| {
                report
                    .attribute(*id)?
                    .raw_leading_number()
                    .map(|celsius| celsius as f64)
                    .and_then(plausible)
            })
        })
}

fn drive_temperature_limits(report: &SmartctlReport) -> DriveTemperatureLimits {
    let positive = |number: Option<&Number>| number.and_then(Number::as_f64).filter(|v| *v > 0.0);
    if let Some(threshold) = &report.nvme_composite_temperature_threshold {
        return DriveTemperatureLimits {
            warning: positive(threshold.warning.as_ref()),
            critical: positive(threshold.critical.as_ref()),
        };
    }
    DriveTemperatureLimits {
        warning: None,
        critical: positive(
            report
                .temperature
                .as_ref()
                .and_then(|temperature| temperature.drive_trip.as_ref()),
        ),
    }
}

const POWER_ON_HOURS_ATTRIBUTE: u8 = 9;

fn power_on_hours(report: &SmartctlReport) -> Option<u64> {
    report
        .power_on_time
        .as_ref()
        .and_then(|time| time.hours.as_ref())
        .and_then(Number::as_u64)
        .or_else(|| {
            report
                .nvme_smart_health_information_log
                .as_ref()
                .and_then(|log| {
                    pick(log.power_on_hours.as_ref(), log.power_on_hours_s.as_ref())
                        .and_then(|hours| u64::try_from(hours).ok())
                })
        })
        .or_else(|| {
            // Some vendors pack minutes or milliseconds into the upper raw bytes; the first
            // number of smartctl's text is the hours.
            report
                .attribute(POWER_ON_HOURS_ATTRIBUTE)
                .and_then(|attribute| attribute.raw_leading_number())
        })
}

fn nvme(report: &SmartctlReport) -> Option<NvmeReading> {
    let log = report.nvme_smart_health_information_log.as_ref()?;
    Some(NvmeReading {
        critical_warning: log.critical_warning.unwrap_or(0),
        available_spare: log.available_spare,
        available_spare_threshold: log.available_spare_threshold,
        percentage_used: log.percentage_used,
        media_errors: pick(log.media_errors.as_ref(), log.media_errors_s.as_ref()),
        error_log_entries: pick(
            log.num_err_log_entries.as_ref(),
            log.num_err_log_entries_s.as_ref(),
        ),
        unsafe_shutdowns: pick(
            log.unsafe_shutdowns.as_ref(),
            log.unsafe_shutdowns_s.as_ref(),
        ),
        data_units_written: pick(
            log.data_units_written.as_ref(),
            log.data_units_written_s.as_ref(),
        ),
    })
}

fn scsi(report: &SmartctlReport) -> Option<ScsiReading> {
    let grown_defects = report
        .scsi_grown_defect_list
        .as_ref()
        .and_then(Number::as_u64);
    let counters = report.scsi_error_counter_log.as_ref();
    if grown_defects.is_none() && counters.is_none() {
        return None;
    }
    let uncorrected_errors = counters.map(|log| {
        [log.read.as_ref(), log.write.as_ref(), log.verify.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|counter| {
                counter
                    .total_uncorrected_errors
                    .as_ref()
                    .and_then(Number::as_u64)
            })
            .fold(0u64, u64::saturating_add)
    });
    Some(ScsiReading {
        grown_defects,
        uncorrected_errors,
    })
}

/// ATA self-test execution status: high nibble 15 = in progress.
const ATA_SELF_TEST_IN_PROGRESS: u32 = 0xF;
/// NVMe self-test log "current operation" 0 = none running.
const NVME_NO_SELF_TEST_RUNNING: u128 = 0;
/// NVMe self-test result (low nibble) 0xF = unused entry; 0 = completed without error.
const NVME_RESULT_UNUSED: u128 = 0xF;

fn self_test(report: &SmartctlReport, exit: ExitStatus) -> SelfTestReading {
    let ata_in_progress = report
        .ata_smart_data
        .as_ref()
        .and_then(|data| data.self_test.as_ref())
        .and_then(|state| state.status.as_ref())
        .and_then(|status| status.value)
        .is_some_and(|value| value >> 4 == ATA_SELF_TEST_IN_PROGRESS);
    let nvme_log = report.nvme_self_test_log.as_ref();
    let nvme_in_progress = nvme_log
        .and_then(|log| log.current_self_test_operation.as_ref())
        .and_then(|operation| operation.value.as_ref())
        .and_then(Number::as_u128)
        .is_some_and(|value| value != NVME_NO_SELF_TEST_RUNNING);
    let ata_latest = report
        .ata_smart_self_test_log
        .as_ref()
        .and_then(|log| log.extended.as_ref().or(log.standard.as_ref()))
        .and_then(|table| table.table.as_ref())
        .and_then(|entries| entries.first())
        .and_then(ata_result);
    let nvme_latest = nvme_log
        .and_then(|log| log.table.as_ref())
        .and_then(|entries| {
            entries.iter().find(|entry| {
                entry
                    .self_test_result
                    .as_ref()
                    .and_then(|result| result.value.as_ref())
                    .and_then(Number::as_u128)
                    .is_some_and(|value| value & 0xF != NVME_RESULT_UNUSED)
            })
        })
        .map(|entry| {
            let result = entry.self_test_result.as_ref();
            let code = result
                .and_then(|result| result.value.as_ref())
                .and_then(Number::as_u128)
                .unwrap_or(0);
            SelfTestResult {
                description: [
                    entry
                        .self_test_code
                        .as_ref()
                        .and_then(|code| code.string.clone()),
                    result.and_then(|result| result.string.clone()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
                passed: code & 0xF == 0,
                lifetime_hours: entry.power_on_hours.as_ref().and_then(Number::as_u64),
            }
        });
    SelfTestReading {
        in_progress: ata_in_progress || nvme_in_progress,
        latest: ata_latest.or(nvme_latest),
        log_has_errors: exit.self_test_log_has_errors(),
    }
}

fn ata_result(entry: &AtaSelfTestEntry) -> Option<SelfTestResult> {
    let status = entry.status.as_ref()?;
    // A test still running is listed with status 0xF_; it has no verdict yet.
    if status
        .value
        .is_some_and(|value| value >> 4 == ATA_SELF_TEST_IN_PROGRESS)
    {
        return None;
    }
    let passed = status
        .passed
        .unwrap_or_else(|| status.value.is_some_and(|value| value >> 4 == 0));
    let test_type = entry
        .test_type
        .as_ref()
        .and_then(|test_type| test_type.string.clone());
    Some(SelfTestResult {
        description: [test_type, status.string.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": "),
        passed,
        lifetime_hours: entry.lifetime_hours.as_ref().and_then(Number::as_u64),
    })
}
