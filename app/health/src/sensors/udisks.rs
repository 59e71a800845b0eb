//! Disks as UDisks2 sees them, over the system D-Bus with zbus: one `GetManagedObjects` call
//! on `/org/freedesktop/UDisks2` lists every object with its interfaces and properties. The
//! adapter ([`list_drives`]) only turns the D-Bus variants into the plain [`Objects`] map;
//! [`drives_from_objects`] is the pure mapping to [`UdisksDrive`] (model, serial, WWN, size,
//! rotation and the ATA SMART temperature, failing flag and bad-sector count), tested without
//! any bus. UDisks2 has no SMART data for SAS or NVMe drives (smartctl covers those).
//! A health round asks it through [`read_udisks`]; [`udisks_observations`] (pure) turns the
//! drives smartctl did not read into sensor readings and findings.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use zbus::Variant;

use super::SensorConfig;
use super::reading::{SensorError, SensorReading, SensorSource};
use crate::finding::{Finding, FindingKind, Severity, Subject};
use crate::smart::DiskId;
use crate::smart::identity::naa_from_text;
use crate::smart::rules::SmartThresholds;

pub const UDISKS_SERVICE: &str = "org.freedesktop.UDisks2";
pub const UDISKS_PATH: &str = "/org/freedesktop/UDisks2";
pub const DRIVE_INTERFACE: &str = "org.freedesktop.UDisks2.Drive";
pub const ATA_INTERFACE: &str = "org.freedesktop.UDisks2.Drive.Ata";

/// Absolute zero, for UDisks' kelvin temperatures.
const KELVIN_OFFSET: f64 = 273.15;

/// A D-Bus property value reduced to what the mapping reads.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    Text(String),
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Double(f64),
    /// Arrays, structures and other shapes the mapping does not use.
    Other,
}

/// interface name → property name → value.
pub type Interfaces = BTreeMap<String, BTreeMap<String, PropertyValue>>;
/// object path → interfaces.
pub type Objects = BTreeMap<String, Interfaces>;

/// One drive (`org.freedesktop.UDisks2.Drive`, plus `.Drive.Ata` when present).
#[derive(Clone, Debug, PartialEq)]
pub struct UdisksDrive {
    pub object_path: String,
    /// WWN, EUI-64 or model + serial; `None` when the drive reports neither.
    pub disk: Option<DiskId>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub size_bytes: Option<u64>,
    /// Revolutions per minute; 0 for solid state; `None` when unknown (-1).
    pub rotation_rate: Option<u32>,
    pub removable: Option<bool>,
    /// From `SmartTemperature` (kelvin; 0 means unknown).
    pub temperature_celsius: Option<f64>,
    pub smart_failing: Option<bool>,
    pub smart_enabled: Option<bool>,
    pub power_on_seconds: Option<u64>,
    pub bad_sectors: Option<i64>,
}

fn text(properties: &BTreeMap<String, PropertyValue>, name: &str) -> Option<String> {
    match properties.get(name) {
        Some(PropertyValue::Text(value)) if !value.trim().is_empty() => {
            Some(value.trim().to_owned())
        }
        _ => None,
    }
}

fn unsigned(properties: &BTreeMap<String, PropertyValue>, name: &str) -> Option<u64> {
    match properties.get(name) {
        Some(PropertyValue::Unsigned(value)) => Some(*value),
        Some(PropertyValue::Signed(value)) => u64::try_from(*value).ok(),
        _ => None,
    }
}

fn signed(properties: &BTreeMap<String, PropertyValue>, name: &str) -> Option<i64> {
    match properties.get(name) {
        Some(PropertyValue::Signed(value)) => Some(*value),
        Some(PropertyValue::Unsigned(value)) => i64::try_from(*value).ok(),
        _ => None,
    }
}

fn boolean(properties: &BTreeMap<String, PropertyValue>, name: &str) -> Option<bool> {
    match properties.get(name) {
        Some(PropertyValue::Bool(value)) => Some(*value),
        _ => None,
    }
}

fn double(properties: &BTreeMap<String, PropertyValue>, name: &str) -> Option<f64> {
    match properties.get(name) {
        Some(PropertyValue::Double(value)) if value.is_finite() => Some(*value),
        _ => None,
    }
}

/// The identity UDisks gives: `WWN` is `0x5000…` for SATA/SAS and `eui.…` for many NVMe
/// drives; else model and serial.
fn identity(wwn: Option<&str>, model: Option<&String>, serial: Option<&String>) -> Option<DiskId> {
    if let Some(wwn) = wwn {
        if let Some(hex) = naa_from_text(wwn) {
            return Some(DiskId::Wwn(hex));
        }
        if let Some(hex) = wwn.strip_prefix("eui.")
            && hex.len() == 16
            && hex.chars().all(|character| character.is_ascii_hexdigit())
            && hex.chars().any(|character| character != '0')
        {
            return Some(DiskId::Eui64(hex.to_ascii_lowercase()));
        }
    }
    Some(DiskId::ModelSerial {
        model: model?.clone(),
        serial: serial?.clone(),
    })
}

/// Maps the managed objects of UDisks2 to drives, sorted by object path.
pub fn drives_from_objects(objects: &Objects) -> Vec<UdisksDrive> {
    objects
        .iter()
        .filter_map(|(path, interfaces)| {
            let drive = interfaces.get(DRIVE_INTERFACE)?;
            let empty = BTreeMap::new();
            let ata = interfaces.get(ATA_INTERFACE).unwrap_or(&empty);
            let model = text(drive, "Model");
            let serial = text(drive, "Serial");
            let wwn = text(drive, "WWN");
            let kelvin = double(ata, "SmartTemperature").filter(|kelvin| *kelvin > 0.0);
            Some(UdisksDrive {
                object_path: path.clone(),
                disk: identity(wwn.as_deref(), model.as_ref(), serial.as_ref()),
                vendor: text(drive, "Vendor"),
                size_bytes: unsigned(drive, "Size").filter(|size| *size > 0),
                rotation_rate: signed(drive, "RotationRate")
                    .and_then(|rate| u32::try_from(rate).ok()),
                removable: boolean(drive, "Removable"),
                temperature_celsius: kelvin.map(|kelvin| kelvin - KELVIN_OFFSET),
                smart_failing: boolean(ata, "SmartFailing"),
                smart_enabled: boolean(ata, "SmartEnabled"),
                power_on_seconds: unsigned(ata, "SmartPowerOnSeconds")
                    .filter(|seconds| *seconds > 0),
                bad_sectors: signed(ata, "SmartNumBadSectors").filter(|count| *count >= 0),
                model,
                serial,
                wwn,
            })
        })
        .collect()
}

/// Reduces a D-Bus variant to a [`PropertyValue`].
pub fn property_value(variant: &Variant<'_>) -> PropertyValue {
    match variant {
        Variant::Str(value) => PropertyValue::Text(value.as_str().to_owned()),
        Variant::ObjectPath(path) => PropertyValue::Text(path.as_str().to_owned()),
        Variant::Bool(value) => PropertyValue::Bool(*value),
        Variant::U8(value) => PropertyValue::Unsigned(u64::from(*value)),
        Variant::U16(value) => PropertyValue::Unsigned(u64::from(*value)),
        Variant::U32(value) => PropertyValue::Unsigned(u64::from(*value)),
        Variant::U64(value) => PropertyValue::Unsigned(*value),
        Variant::I16(value) => PropertyValue::Signed(i64::from(*value)),
        Variant::I32(value) => PropertyValue::Signed(i64::from(*value)),
        Variant::I64(value) => PropertyValue::Signed(*value),
        Variant::F64(value) => PropertyValue::Double(*value),
        Variant::Variant(inner) => property_value(inner),
        _ => PropertyValue::Other,
    }
}

/// Connects to the system bus (where UDisks2 lives).
pub async fn system_bus() -> Result<zbus::Connection, SensorError> {
    zbus::Connection::system()
        .await
        .map_err(|source| SensorError::DBus {
            context: "connecting to the system bus".into(),
            source,
        })
}

/// What asking UDisks2 gave in one round.
#[derive(Clone, Debug, PartialEq)]
pub enum UdisksRead {
    /// Turned off in the configuration.
    NotAsked,
    /// No system bus, or no UDisks2 on it (the appliance image has none): nothing to report.
    Absent,
    Drives(Vec<UdisksDrive>),
    /// UDisks2 is there but did not answer properly.
    Failed(String),
}

/// How long one round waits for UDisks2.
const UDISKS_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `error` means that there is no bus or no UDisks2 on it, rather than a failure.
fn is_absent(error: &zbus::Error) -> bool {
    match error {
        zbus::Error::MethodError(name, _, _) => matches!(
            name.as_str(),
            "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
        ),
        zbus::Error::FDO(error) => matches!(
            **error,
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
        ),
        zbus::Error::InputOutput(error) | zbus::Error::Connection(error, _) => matches!(
            error.kind(),
            std::io::ErrorKind::NotFound
                | std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::PermissionDenied
        ),
        _ => false,
    }
}

/// Asks UDisks2 (on `config.dbus_address`, else the system bus) for its drives, within
/// [`UDISKS_TIMEOUT`].
pub async fn read_udisks(config: &SensorConfig) -> UdisksRead {
    if !config.udisks {
        return UdisksRead::NotAsked;
    }
    let ask = async {
        let connection = match &config.dbus_address {
            Some(address) => zbus::connection::Builder::address(address.as_str())
                .build()
                .await
                .map_err(|source| SensorError::DBus {
                    context: format!("connecting to {address}"),
                    source,
                })?,
            None => system_bus().await?,
        };
        list_drives(&connection).await
    };
    match tokio::time::timeout(UDISKS_TIMEOUT, ask).await {
        Ok(Ok(drives)) => UdisksRead::Drives(drives),
        Ok(Err(SensorError::DBus { source, .. })) if is_absent(&source) => UdisksRead::Absent,
        Ok(Err(error)) => UdisksRead::Failed(error.to_string()),
        Err(_) => UdisksRead::Failed(format!(
            "UDisks2 did not answer within {} s",
            UDISKS_TIMEOUT.as_secs()
        )),
    }
}

/// What the drives UDisks2 knows add to a round, for those smartctl did not read (`covered`:
/// smartctl's view of a drive is the richer one, and the same problem must not be reported
/// twice): each one's temperature as the sensor `udisks/<disk>` with the `[smart.temperature]`
/// limits of its kind (HDD when it spins, else SSD), and a finding when UDisks2 says its SMART
/// status is failing or it has bad (reallocated or pending) sectors, against the
/// `reallocated_sectors` limits.
pub fn udisks_observations(
    drives: &[UdisksDrive],
    covered: &BTreeSet<DiskId>,
    thresholds: &SmartThresholds,
) -> (Vec<SensorReading>, Vec<Finding>) {
    let mut readings = Vec::new();
    let mut findings = Vec::new();
    for drive in drives {
        if drive
            .disk
            .as_ref()
            .is_some_and(|disk| covered.contains(disk))
        {
            continue;
        }
        let label = drive.disk.as_ref().map_or_else(
            || {
                drive
                    .object_path
                    .rsplit('/')
                    .next()
                    .unwrap_or(&drive.object_path)
                    .to_owned()
            },
            DiskId::token,
        );
        if let Some(celsius) = drive.temperature_celsius {
            let limits = if drive.rotation_rate.is_some_and(|rate| rate > 0) {
                thresholds.temperature.hdd
            } else {
                thresholds.temperature.ssd
            };
            readings.push(SensorReading {
                name: format!("udisks/{label}"),
                source: SensorSource::Udisks,
                celsius: (celsius * 10.0).round() / 10.0,
                warning: limits.warning,
                critical: limits.critical,
                humidity_percent: None,
                pressure_pascal: None,
            });
        }
        let Some(disk) = &drive.disk else {
            continue;
        };
        let subject = || Subject::Disk { disk: disk.clone() };
        if drive.smart_failing == Some(true) {
            findings.push(Finding::new(
                subject(),
                FindingKind::SmartStatusFailed,
                Severity::Critical,
                "UDisks2 reports the drive's SMART status as failing",
            ));
        }
        if let Some(count) = drive
            .bad_sectors
            .and_then(|count| u64::try_from(count).ok())
            && let Some(severity) = thresholds.reallocated_sectors.severity(count)
        {
            findings.push(Finding::new(
                subject(),
                FindingKind::ReallocatedSectors,
                severity,
                format!("{count} bad sectors (UDisks2)"),
            ));
        }
    }
    (readings, findings)
}

/// Lists the drives UDisks2 knows, through `connection`.
pub async fn list_drives(connection: &zbus::Connection) -> Result<Vec<UdisksDrive>, SensorError> {
    let error = |context: &str| {
        let context = context.to_owned();
        move |source| SensorError::DBus { context, source }
    };
    let manager = zbus::fdo::ObjectManagerProxy::builder(connection)
        .destination(UDISKS_SERVICE)
        .path(UDISKS_PATH)
        .build()
        .await
        .map_err(error("creating the ObjectManager proxy"))?;
    let managed = manager
        .get_managed_objects()
        .await
        .map_err(|source| SensorError::DBus {
            context: format!("{UDISKS_SERVICE} GetManagedObjects"),
            source: source.into(),
        })?;
    let objects: Objects = managed
        .into_iter()
        .map(|(path, interfaces)| {
            let interfaces = interfaces
                .into_iter()
                .map(|(interface, properties)| {
                    let properties = properties
                        .iter()
                        .map(|(name, value)| (name.clone(), property_value(value)))
                        .collect();
                    (interface.to_string(), properties)
                })
                .collect();
            (path.to_string(), interfaces)
        })
        .collect();
    Ok(drives_from_objects(&objects))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(path: &str, disk: Option<DiskId>) -> UdisksDrive {
        UdisksDrive {
            object_path: format!("/org/freedesktop/UDisks2/drives/{path}"),
            disk,
            vendor: None,
            model: None,
            serial: None,
            wwn: None,
            size_bytes: None,
            rotation_rate: None,
            removable: None,
            temperature_celsius: None,
            smart_failing: None,
            smart_enabled: None,
            power_on_seconds: None,
            bad_sectors: None,
        }
    }

    #[test]
    fn udisks_fills_in_the_drives_smartctl_did_not_read() {
        let wwn = |hex: &str| Some(DiskId::Wwn(hex.into()));
        let mut read_by_smartctl = drive("covered", wwn("5000000000000001"));
        read_by_smartctl.temperature_celsius = Some(70.0);
        read_by_smartctl.smart_failing = Some(true);
        let mut hot_hdd = drive("hdd", wwn("5000000000000002"));
        hot_hdd.rotation_rate = Some(7200);
        hot_hdd.temperature_celsius = Some(52.349_999);
        hot_hdd.bad_sectors = Some(0);
        let mut worn_ssd = drive("ssd", wwn("5000000000000003"));
        worn_ssd.rotation_rate = Some(0);
        worn_ssd.temperature_celsius = Some(35.0);
        worn_ssd.smart_failing = Some(false);
        worn_ssd.bad_sectors = Some(120);
        let mut anonymous = drive("usb_stick", None);
        anonymous.temperature_celsius = Some(30.0);
        anonymous.smart_failing = Some(true);

        let covered: BTreeSet<DiskId> = wwn("5000000000000001").into_iter().collect();
        let thresholds = SmartThresholds::default();
        let (readings, findings) = udisks_observations(
            &[read_by_smartctl, hot_hdd, worn_ssd, anonymous],
            &covered,
            &thresholds,
        );
        let readings: Vec<(&str, f64, Option<f64>)> = readings
            .iter()
            .map(|reading| (reading.name.as_str(), reading.celsius, reading.warning))
            .collect();
        assert_eq!(
            readings,
            [
                // HDD limits (warning 50 °C) for a spinning drive, SSD limits (60 °C) else.
                ("udisks/wwn-0x5000000000000002", 52.3, Some(50.0)),
                ("udisks/wwn-0x5000000000000003", 35.0, Some(60.0)),
                // No identity: named by its object path, and no finding without a subject.
                ("udisks/usb_stick", 30.0, Some(60.0)),
            ]
        );
        let findings: Vec<(String, &str, Severity)> = findings
            .iter()
            .map(|finding| {
                (
                    finding.subject.to_string(),
                    finding.kind.as_str(),
                    finding.severity,
                )
            })
            .collect();
        assert_eq!(
            findings,
            [(
                "disk wwn-0x5000000000000003".to_owned(),
                "reallocated_sectors",
                Severity::Critical
            )]
        );
    }

    fn properties(entries: &[(&str, PropertyValue)]) -> BTreeMap<String, PropertyValue> {
        entries
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    #[test]
    fn mapping_table() {
        use PropertyValue::*;
        let mut objects = Objects::new();
        objects.insert(
            "/org/freedesktop/UDisks2/drives/WDC_WD40EFRX_WD_1".into(),
            BTreeMap::from([
                (
                    DRIVE_INTERFACE.to_owned(),
                    properties(&[
                        ("Vendor", Text("".into())),
                        ("Model", Text("WDC WD40EFRX-68N32N0".into())),
                        ("Serial", Text("WD-WCC7K1234567".into())),
                        ("WWN", Text("0x50014ee2b5f0c5b3".into())),
                        ("Size", Unsigned(4_000_787_030_016)),
                        ("RotationRate", Signed(5400)),
                        ("Removable", Bool(false)),
                    ]),
                ),
                (
                    ATA_INTERFACE.to_owned(),
                    properties(&[
                        ("SmartTemperature", Double(311.15)),
                        ("SmartFailing", Bool(false)),
                        ("SmartEnabled", Bool(true)),
                        ("SmartPowerOnSeconds", Unsigned(3600)),
                        ("SmartNumBadSectors", Signed(0)),
                    ]),
                ),
            ]),
        );
        objects.insert(
            "/org/freedesktop/UDisks2/drives/Samsung_SSD_980".into(),
            BTreeMap::from([(
                DRIVE_INTERFACE.to_owned(),
                properties(&[
                    ("Model", Text("Samsung SSD 980 1TB".into())),
                    ("Serial", Text("S64ANS0T123456".into())),
                    ("WWN", Text("eui.002538b111b1a2c3".into())),
                    ("RotationRate", Signed(0)),
                ]),
            )]),
        );
        objects.insert(
            "/org/freedesktop/UDisks2/drives/USB_stick".into(),
            BTreeMap::from([(
                DRIVE_INTERFACE.to_owned(),
                properties(&[
                    ("Model", Text("Flash".into())),
                    ("RotationRate", Signed(-1)),
                    ("Size", Unsigned(0)),
                ]),
            )]),
        );
        // Block devices and jobs are no drives.
        objects.insert(
            "/org/freedesktop/UDisks2/block_devices/sda".into(),
            BTreeMap::from([(
                "org.freedesktop.UDisks2.Block".to_owned(),
                properties(&[("Size", Unsigned(1))]),
            )]),
        );
        let drives = drives_from_objects(&objects);
        let summary: Vec<_> = drives
            .iter()
            .map(|drive| {
                (
                    drive
                        .object_path
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    drive.disk.as_ref().map(DiskId::token),
                    drive.rotation_rate,
                    drive
                        .temperature_celsius
                        .map(|celsius| (celsius * 100.0).round() / 100.0),
                    drive.smart_failing,
                    drive.size_bytes,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "Samsung_SSD_980".into(),
                    Some("eui.002538b111b1a2c3".into()),
                    Some(0),
                    None,
                    None,
                    None
                ),
                ("USB_stick".into(), None, None, None, None, None),
                (
                    "WDC_WD40EFRX_WD_1".into(),
                    Some("wwn-0x50014ee2b5f0c5b3".into()),
                    Some(5400),
                    Some(38.0),
                    Some(false),
                    Some(4_000_787_030_016)
                ),
            ]
        );
        assert_eq!(drives[2].vendor, None, "an empty vendor is no vendor");
        assert_eq!(drives[2].power_on_seconds, Some(3600));
    }

    #[test]
    fn variants_reduce_to_property_values() {
        let cases = [
            (Variant::from("text"), PropertyValue::Text("text".into())),
            (Variant::from(true), PropertyValue::Bool(true)),
            (Variant::from(7u32), PropertyValue::Unsigned(7)),
            (Variant::from(-7i32), PropertyValue::Signed(-7)),
            (Variant::from(311.5f64), PropertyValue::Double(311.5)),
        ];
        for (variant, expected) in cases {
            assert_eq!(property_value(&variant), expected);
        }
    }
}
