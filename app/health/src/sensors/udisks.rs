//! Disks as UDisks2 sees them, over the system D-Bus with zbus: one `GetManagedObjects` call
//! on `/org/freedesktop/UDisks2` lists every object with its interfaces and properties. The
//! adapter ([`list_drives`]) only turns the D-Bus variants into the plain [`Objects`] map;
//! [`drives_from_objects`] is the pure mapping to [`UdisksDrive`] (model, serial, WWN, size,
//! rotation and the ATA SMART temperature, failing flag and bad-sector count), tested without
//! any bus. UDisks2 has no SMART data for SAS or NVMe drives (smartctl covers those).

use std::collections::BTreeMap;

use zbus::Variant;

use super::SensorError;
use crate::smart::DiskId;
use crate::smart::identity::naa_from_text;

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
