//! Serde structs for `smartctl --json` output, written to accept every smartctl 7.x release:
//! every field is optional, unknown fields are ignored, and a field whose type differs from
//! what we expect (a string where a number was, a float for an integer) becomes `None`
//! instead of failing the whole report. smartctl prints integers wider than 53 bits a second
//! time as a `KEY_s` string; [`Number`] and [`pick`] prefer that exact form.
//!
//! Only the fields WiZFS reads are modelled; the rest of the JSON is skipped.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Deserializes `T`, or `None` when the value has another shape. Keeps one odd field in one
/// smartctl version from losing the whole report.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A JSON number as smartctl prints it: usually an unsigned integer, sometimes signed, a
/// float (a 128-bit counter that serde_json can only hold approximately) or a string.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(String),
}

impl Number {
    /// The value as an unsigned integer; `None` for negative, non-finite or non-numeric text.
    pub fn as_u128(&self) -> Option<u128> {
        match self {
            Number::Unsigned(value) => Some(u128::from(*value)),
            Number::Signed(value) => u128::try_from(*value).ok(),
            Number::Float(value) if value.is_finite() && *value >= 0.0 => {
                // Saturating float-to-int conversion; precision beyond 53 bits is lost, which is
                // why `pick` prefers the `_s` string when smartctl prints one.
                Some(*value as u128)
            }
            Number::Float(_) => None,
            Number::Text(text) => text.trim().parse().ok(),
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_u128().and_then(|value| u64::try_from(value).ok())
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Signed(value) => Some(*value),
            Number::Text(text) => text.trim().parse().ok(),
            Number::Float(value) if value.is_finite() => Some(value.round() as i64),
            other => other.as_u64().and_then(|value| i64::try_from(value).ok()),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Unsigned(value) => Some(*value as f64),
            Number::Signed(value) => Some(*value as f64),
            Number::Float(value) => value.is_finite().then_some(*value),
            Number::Text(text) => text
                .trim()
                .parse()
                .ok()
                .filter(|value: &f64| value.is_finite()),
        }
    }
}

/// The exact value of a counter: the `KEY_s` string when smartctl printed one (values over 53
/// bits), else the number.
pub fn pick(number: Option<&Number>, exact_text: Option<&String>) -> Option<u128> {
    exact_text
        .and_then(|text| text.trim().parse().ok())
        .or_else(|| number.and_then(Number::as_u128))
}

/// The whole report of `smartctl --json -a` (or `-x`, `-A`, `--scan-open`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SmartctlReport {
    #[serde(default, deserialize_with = "lenient")]
    pub json_format_version: Option<Vec<u32>>,
    #[serde(default, deserialize_with = "lenient")]
    pub smartctl: Option<SmartctlInfo>,
    #[serde(default, deserialize_with = "lenient")]
    pub device: Option<DeviceInfo>,
    #[serde(default, deserialize_with = "lenient")]
    pub devices: Option<Vec<DeviceInfo>>,
    #[serde(default, deserialize_with = "lenient")]
    pub model_family: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub model_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub scsi_model_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub vendor: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub product: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub scsi_vendor: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub scsi_product: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub serial_number: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub firmware_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub wwn: Option<Wwn>,
    /// SCSI/SAS: the NAA logical unit identifier, `0x5000…` (the disk's WWN).
    #[serde(default, deserialize_with = "lenient")]
    pub logical_unit_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub nvme_namespaces: Option<Vec<NvmeNamespace>>,
    #[serde(default, deserialize_with = "lenient")]
    pub user_capacity: Option<Capacity>,
    /// 0 for solid state, revolutions per minute for spinning disks.
    #[serde(default, deserialize_with = "lenient")]
    pub rotation_rate: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub smart_support: Option<SmartSupport>,
    #[serde(default, deserialize_with = "lenient")]
    pub smart_status: Option<SmartStatus>,
    #[serde(default, deserialize_with = "lenient")]
    pub temperature: Option<Temperature>,
    #[serde(default, deserialize_with = "lenient")]
    pub power_on_time: Option<PowerOnTime>,
    #[serde(default, deserialize_with = "lenient")]
    pub power_cycle_count: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub ata_smart_data: Option<AtaSmartData>,
    #[serde(default, deserialize_with = "lenient")]
    pub ata_smart_attributes: Option<AtaAttributes>,
    #[serde(default, deserialize_with = "lenient")]
    pub ata_smart_error_log: Option<AtaErrorLog>,
    #[serde(default, deserialize_with = "lenient")]
    pub ata_smart_self_test_log: Option<AtaSelfTestLog>,
    #[serde(default, deserialize_with = "lenient")]
    pub nvme_smart_health_information_log: Option<NvmeHealthLog>,
    #[serde(default, deserialize_with = "lenient")]
    pub nvme_self_test_log: Option<NvmeSelfTestLog>,
    #[serde(default, deserialize_with = "lenient")]
    pub nvme_composite_temperature_threshold: Option<NvmeTemperatureThreshold>,
    #[serde(default, deserialize_with = "lenient")]
    pub scsi_grown_defect_list: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub scsi_error_counter_log: Option<ScsiErrorCounterLog>,
    #[serde(default, deserialize_with = "lenient")]
    pub scsi_environmental_reports: Option<BTreeMap<String, ScsiEnvironmentalReport>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SmartctlInfo {
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<Vec<u32>>,
    #[serde(default, deserialize_with = "lenient")]
    pub svn_revision: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub argv: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient")]
    pub messages: Option<Vec<SmartctlMessage>>,
    #[serde(default, deserialize_with = "lenient")]
    pub exit_status: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SmartctlMessage {
    #[serde(default, deserialize_with = "lenient")]
    pub string: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub severity: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeviceInfo {
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub info_name: Option<String>,
    /// smartctl's `-d` type: `sat`, `nvme`, `scsi`, `megaraid,1`, `usbjmicron`, …
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub device_type: Option<String>,
    /// `ATA`, `NVMe` or `SCSI`.
    #[serde(default, deserialize_with = "lenient")]
    pub protocol: Option<String>,
    /// `--scan-open` only: set when the device could not be opened.
    #[serde(default, deserialize_with = "lenient")]
    pub open_error: Option<String>,
}

/// The 64-bit NAA world wide name, split as smartctl prints it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Wwn {
    #[serde(default, deserialize_with = "lenient")]
    pub naa: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub oui: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NvmeNamespace {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub eui64: Option<Eui64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Eui64 {
    #[serde(default, deserialize_with = "lenient")]
    pub oui: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub ext_id: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Capacity {
    #[serde(default, deserialize_with = "lenient")]
    pub blocks: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub bytes: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub bytes_s: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SmartSupport {
    #[serde(default, deserialize_with = "lenient")]
    pub available: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SmartStatus {
    #[serde(default, deserialize_with = "lenient")]
    pub passed: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Temperature {
    #[serde(default, deserialize_with = "lenient")]
    pub current: Option<Number>,
    /// SCSI: the drive's trip temperature.
    #[serde(default, deserialize_with = "lenient")]
    pub drive_trip: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PowerOnTime {
    #[serde(default, deserialize_with = "lenient")]
    pub hours: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub minutes: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaSmartData {
    #[serde(default, deserialize_with = "lenient")]
    pub self_test: Option<AtaSelfTestState>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaSelfTestState {
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<AtaSelfTestStatus>,
    #[serde(default, deserialize_with = "lenient")]
    pub polling_minutes: Option<PollingMinutes>,
}

/// The self-test execution status byte: the high nibble 0xF means "in progress", with the
/// low nibble giving the remaining work in tenths (ATA ACS-3, SMART READ DATA byte 363).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaSelfTestStatus {
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub string: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub passed: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub remaining_percent: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PollingMinutes {
    #[serde(default, deserialize_with = "lenient")]
    pub short: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub extended: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaAttributes {
    #[serde(default, deserialize_with = "lenient")]
    pub revision: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub table: Option<Vec<AtaAttribute>>,
}

/// One row of the ATA SMART attribute table.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaAttribute {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<u8>,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// Normalized value (vendor scale, usually 1–253, higher is better).
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub worst: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub thresh: Option<u32>,
    /// `""`, `"now"` (value ≤ threshold now) or `"past"` (was ≤ threshold once).
    #[serde(default, deserialize_with = "lenient")]
    pub when_failed: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub flags: Option<AttributeFlags>,
    #[serde(default, deserialize_with = "lenient")]
    pub raw: Option<RawValue>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AttributeFlags {
    #[serde(default, deserialize_with = "lenient")]
    pub prefailure: Option<bool>,
}

/// The 48-bit raw value and smartctl's decoded text ("25 (Min/Max 19/39)").
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RawValue {
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub value_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub string: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaErrorLog {
    #[serde(default, deserialize_with = "lenient")]
    pub summary: Option<ErrorLogCount>,
    #[serde(default, deserialize_with = "lenient")]
    pub extended: Option<ErrorLogCount>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorLogCount {
    #[serde(default, deserialize_with = "lenient")]
    pub count: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaSelfTestLog {
    #[serde(default, deserialize_with = "lenient")]
    pub standard: Option<AtaSelfTestTable>,
    #[serde(default, deserialize_with = "lenient")]
    pub extended: Option<AtaSelfTestTable>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaSelfTestTable {
    /// Newest first.
    #[serde(default, deserialize_with = "lenient")]
    pub table: Option<Vec<AtaSelfTestEntry>>,
    #[serde(default, deserialize_with = "lenient")]
    pub error_count_total: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AtaSelfTestEntry {
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub test_type: Option<ValueString>,
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<AtaSelfTestStatus>,
    #[serde(default, deserialize_with = "lenient")]
    pub lifetime_hours: Option<Number>,
}

/// smartctl's frequent `{ "value": N, "string": "…" }` pair.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ValueString {
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub string: Option<String>,
}

/// The NVMe SMART / Health Information log page (log identifier 02h).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NvmeHealthLog {
    #[serde(default, deserialize_with = "lenient")]
    pub critical_warning: Option<u8>,
    #[serde(default, deserialize_with = "lenient")]
    pub temperature: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub available_spare: Option<u8>,
    #[serde(default, deserialize_with = "lenient")]
    pub available_spare_threshold: Option<u8>,
    /// Vendor estimate of life used; may exceed 100 (capped at 255 by the spec).
    #[serde(default, deserialize_with = "lenient")]
    pub percentage_used: Option<u8>,
    #[serde(default, deserialize_with = "lenient")]
    pub data_units_read: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub data_units_read_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub data_units_written: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub data_units_written_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub power_on_hours: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub power_on_hours_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub unsafe_shutdowns: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub unsafe_shutdowns_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub media_errors: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub media_errors_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub num_err_log_entries: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub num_err_log_entries_s: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub warning_temp_time: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub critical_comp_time: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NvmeSelfTestLog {
    #[serde(default, deserialize_with = "lenient")]
    pub current_self_test_operation: Option<ValueString>,
    #[serde(default, deserialize_with = "lenient")]
    pub table: Option<Vec<NvmeSelfTestEntry>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NvmeSelfTestEntry {
    #[serde(default, deserialize_with = "lenient")]
    pub self_test_code: Option<ValueString>,
    #[serde(default, deserialize_with = "lenient")]
    pub self_test_result: Option<ValueString>,
    #[serde(default, deserialize_with = "lenient")]
    pub power_on_hours: Option<Number>,
}

/// WCTEMP and CCTEMP from the controller's identify data (smartctl 7.3+ with `-c`/`-x`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NvmeTemperatureThreshold {
    #[serde(default, deserialize_with = "lenient")]
    pub warning: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub critical: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScsiErrorCounterLog {
    #[serde(default, deserialize_with = "lenient")]
    pub read: Option<ScsiErrorCounter>,
    #[serde(default, deserialize_with = "lenient")]
    pub write: Option<ScsiErrorCounter>,
    #[serde(default, deserialize_with = "lenient")]
    pub verify: Option<ScsiErrorCounter>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScsiErrorCounter {
    #[serde(default, deserialize_with = "lenient")]
    pub total_errors_corrected: Option<Number>,
    #[serde(default, deserialize_with = "lenient")]
    pub total_uncorrected_errors: Option<Number>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScsiEnvironmentalReport {
    #[serde(default, deserialize_with = "lenient")]
    pub current: Option<Number>,
}

impl SmartctlReport {
    /// Parses smartctl's JSON text. Fails only on text that is not a JSON object at all.
    pub fn from_json(text: &[u8]) -> Result<SmartctlReport, serde_json::Error> {
        serde_json::from_slice(text)
    }

    /// The messages smartctl printed, as text.
    pub fn messages(&self) -> Vec<String> {
        self.smartctl
            .as_ref()
            .and_then(|info| info.messages.as_ref())
            .map(|messages| {
                messages
                    .iter()
                    .filter_map(|message| message.string.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The smartctl version, such as `[7, 3]`.
    pub fn smartctl_version(&self) -> Option<&[u32]> {
        self.smartctl.as_ref()?.version.as_deref()
    }

    /// The protocol, lower case: `ata`, `nvme` or `scsi` (from `device.protocol`, else the
    /// device type).
    pub fn protocol(&self) -> Option<String> {
        let device = self.device.as_ref()?;
        if let Some(protocol) = &device.protocol {
            return Some(protocol.to_ascii_lowercase());
        }
        let device_type = device.device_type.as_deref()?.to_ascii_lowercase();
        if device_type.starts_with("nvme") {
            Some("nvme".into())
        } else if device_type.starts_with("scsi") {
            Some("scsi".into())
        } else {
            Some("ata".into())
        }
    }

    /// The ATA attribute with SMART id `id`.
    pub fn attribute(&self, id: u8) -> Option<&AtaAttribute> {
        self.ata_smart_attributes
            .as_ref()?
            .table
            .as_ref()?
            .iter()
            .find(|attribute| attribute.id == Some(id))
    }
}

impl AtaAttribute {
    /// The raw value as a counter. smartctl decodes most raw values into `raw.value`; for
    /// temperatures and some vendor formats the meaningful number is the first one of
    /// `raw.string` ("25 (Min/Max 19/39)"), which [`AtaAttribute::raw_leading_number`] reads.
    pub fn raw_value(&self) -> Option<u64> {
        let raw = self.raw.as_ref()?;
        pick(raw.value.as_ref(), raw.value_s.as_ref()).and_then(|value| u64::try_from(value).ok())
    }

    /// The first integer of `raw.string` ("25 (Min/Max 19/39)" → 25, "0/0" → 0).
    pub fn raw_leading_number(&self) -> Option<u64> {
        let text = self.raw.as_ref()?.string.as_deref()?.trim_start();
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_strings_win_over_wide_numbers() {
        // A 128-bit counter: the number is beyond u64, so serde_json can only hold it as a
        // float; smartctl prints the exact value as `KEY_s`.
        let json = br#"{"nvme_smart_health_information_log": {
            "media_errors": 340282366920938463463374607431768211455,
            "media_errors_s": "340282366920938463463374607431768211455",
            "data_units_written": 12345,
            "power_on_hours": 18446744073709551616,
            "critical_warning": 0}}"#;
        let report = SmartctlReport::from_json(json).expect("parses");
        let log = report.nvme_smart_health_information_log.expect("log");
        assert_eq!(
            pick(log.media_errors.as_ref(), log.media_errors_s.as_ref()),
            Some(u128::MAX)
        );
        assert_eq!(
            pick(
                log.data_units_written.as_ref(),
                log.data_units_written_s.as_ref()
            ),
            Some(12345)
        );
        // No `_s`: the float approximation of 2^64 is still read.
        assert_eq!(
            pick(log.power_on_hours.as_ref(), log.power_on_hours_s.as_ref()),
            Some(1 << 64)
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_dropped_not_fatal() {
        let json = br#"{
            "model_name": 42,
            "serial_number": "S1",
            "temperature": {"current": "hot"},
            "smart_status": {"passed": "yes"},
            "ata_smart_attributes": {"table": [
                {"id": 5, "name": "Reallocated_Sector_Ct", "raw": {"value": 3, "string": "3"}},
                {"id": "five", "raw": {"value": -1}}
            ]},
            "unknown_future_field": {"anything": [1, 2, 3]}
        }"#;
        let report = SmartctlReport::from_json(json).expect("parses");
        assert_eq!(report.model_name, None);
        assert_eq!(report.serial_number.as_deref(), Some("S1"));
        assert_eq!(report.smart_status.and_then(|status| status.passed), None);
        let attributes = report
            .ata_smart_attributes
            .and_then(|table| table.table)
            .expect("table");
        assert_eq!(attributes.len(), 2);
        assert_eq!(attributes[0].raw_value(), Some(3));
        assert_eq!(attributes[1].id, None);
        assert_eq!(attributes[1].raw_value(), None);
    }

    #[test]
    fn numbers_convert_without_panicking() {
        let cases = [
            (Number::Unsigned(7), Some(7), Some(7), Some(7.0)),
            (Number::Signed(-3), None, Some(-3), Some(-3.0)),
            (Number::Float(2.6), Some(2), Some(3), Some(2.6)),
            (Number::Float(f64::NAN), None, None, None),
            (Number::Float(-1.0), None, Some(-1), Some(-1.0)),
            (Number::Text(" 12 ".into()), Some(12), Some(12), Some(12.0)),
            (Number::Text("n/a".into()), None, None, None),
        ];
        for (number, unsigned, signed, float) in cases {
            assert_eq!(number.as_u64(), unsigned, "{number:?}");
            assert_eq!(number.as_i64(), signed, "{number:?}");
            assert_eq!(number.as_f64(), float, "{number:?}");
        }
    }

    #[test]
    fn raw_text_leading_numbers() {
        let attribute = |text: &str| AtaAttribute {
            raw: Some(RawValue {
                value: None,
                value_s: None,
                string: Some(text.into()),
            }),
            ..AtaAttribute::default()
        };
        assert_eq!(
            attribute("25 (Min/Max 19/39)").raw_leading_number(),
            Some(25)
        );
        assert_eq!(
            attribute("2725 (151 234 0)").raw_leading_number(),
            Some(2725)
        );
        assert_eq!(attribute("(none)").raw_leading_number(), None);
    }

    #[test]
    fn text_that_is_not_json_is_an_error() {
        assert!(SmartctlReport::from_json(b"smartctl 7.3: no JSON here").is_err());
        assert!(SmartctlReport::from_json(b"").is_err());
    }
}
