//! Which physical disk a report is about. `/dev/sdX` names move between boots and when disks
//! are added, so history and alerts key on what the disk says about itself: its world wide
//! name (ATA `wwn`, SAS `logical_unit_id`), else the EUI-64 of an NVMe namespace, else model
//! and serial number. A report with none of these (`smartctl -A` prints no identity) has no
//! identity, and the caller must not invent one from the device path.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::report::SmartctlReport;

/// A stable disk identity.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "scheme", content = "value", rename_all = "snake_case")]
pub enum DiskId {
    /// 16 lower-case hex digits, as in `/dev/disk/by-id/wwn-0x…`.
    Wwn(String),
    /// 16 lower-case hex digits, as in `/dev/disk/by-id/nvme-eui.…`.
    Eui64(String),
    /// Model and serial number as the disk reports them.
    ModelSerial { model: String, serial: String },
}

impl DiskId {
    /// The identity as one token without spaces, shaped like the `/dev/disk/by-id/` names
    /// (`wwn-0x5000cca37fe9d5a8`, `eui.0025385b71b0a2c4`, `QEMU_NVMe_Ctrl_WIZFSNVME0`); used as
    /// the history metric prefix.
    pub fn token(&self) -> String {
        match self {
            DiskId::Wwn(hex) => format!("wwn-0x{hex}"),
            DiskId::Eui64(hex) => format!("eui.{hex}"),
            DiskId::ModelSerial { model, serial } => {
                let joined = format!("{model}_{serial}");
                joined
                    .chars()
                    .map(|character| {
                        if character.is_ascii_alphanumeric() || "-_.".contains(character) {
                            character
                        } else {
                            '_'
                        }
                    })
                    .collect()
            }
        }
    }
}

impl fmt::Display for DiskId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskId::ModelSerial { model, serial } => write!(formatter, "{model} (serial {serial})"),
            other => formatter.write_str(&other.token()),
        }
    }
}

/// The identity of the disk in `report`, or `None` when it names none.
pub fn disk_identity(report: &SmartctlReport) -> Option<DiskId> {
    if let Some(hex) = report.wwn.as_ref().and_then(ata_wwn) {
        return Some(DiskId::Wwn(hex));
    }
    if let Some(hex) = report.logical_unit_id.as_deref().and_then(naa_from_text) {
        return Some(DiskId::Wwn(hex));
    }
    if let Some(hex) = nvme_eui64(report) {
        return Some(DiskId::Eui64(hex));
    }
    let model = first_present(&[
        report.model_name.as_deref(),
        report.scsi_model_name.as_deref(),
        report.product.as_deref(),
        report.scsi_product.as_deref(),
    ])?;
    let serial = first_present(&[report.serial_number.as_deref()])?;
    Some(DiskId::ModelSerial {
        model: model.to_owned(),
        serial: serial.to_owned(),
    })
}

fn first_present<'a>(candidates: &[Option<&'a str>]) -> Option<&'a str> {
    candidates
        .iter()
        .flatten()
        .map(|text| text.trim())
        .find(|text| !text.is_empty())
}

/// NAA (4 bits) + OUI (24 bits) + vendor id (36 bits) = the 64-bit WWN.
fn ata_wwn(wwn: &super::report::Wwn) -> Option<String> {
    let (naa, oui, id) = (wwn.naa?, wwn.oui?, wwn.id?);
    if naa > 0xF || oui > 0xFF_FFFF || id > 0xF_FFFF_FFFF || (naa | oui | id) == 0 {
        return None;
    }
    Some(format!("{naa:x}{oui:06x}{id:09x}"))
}

/// `0x5000c500a1b2c3d4` → `5000c500a1b2c3d4`; 16 or 32 hex digits, not all zero.
pub(crate) fn naa_from_text(text: &str) -> Option<String> {
    let hex = text.trim();
    let hex = hex
        .strip_prefix("0x")
        .or_else(|| hex.strip_prefix("0X"))
        .unwrap_or(hex);
    let valid = matches!(hex.len(), 16 | 32)
        && hex.chars().all(|character| character.is_ascii_hexdigit())
        && hex.chars().any(|character| character != '0');
    valid.then(|| hex.to_ascii_lowercase())
}

/// The EUI-64 of the first namespace that has a non-zero one (OUI 24 bits + extension 40).
fn nvme_eui64(report: &SmartctlReport) -> Option<String> {
    report
        .nvme_namespaces
        .as_ref()?
        .iter()
        .filter_map(|namespace| namespace.eui64.as_ref())
        .find_map(|eui| {
            let (oui, extension) = (eui.oui?, eui.ext_id?);
            let valid = oui <= 0xFF_FFFF && extension <= 0xFF_FFFF_FFFF && (oui | extension) != 0;
            valid.then(|| format!("{oui:06x}{extension:010x}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> SmartctlReport {
        SmartctlReport::from_json(json.as_bytes()).expect("valid JSON")
    }

    #[test]
    fn identity_prefers_wwn_then_lun_then_eui_then_model_serial() {
        let cases = [
            (
                r#"{"wwn": {"naa": 5, "oui": 3274, "id": 15028879784}, "model_name": "M", "serial_number": "S"}"#,
                Some(DiskId::Wwn("5000cca37fca81a8".into())),
            ),
            (
                r#"{"logical_unit_id": "0x5000C500A1B2C3D4", "serial_number": "S"}"#,
                Some(DiskId::Wwn("5000c500a1b2c3d4".into())),
            ),
            (
                r#"{"nvme_namespaces": [{"id": 1, "eui64": {"oui": 9528, "ext_id": 376106710327}}], "model_name": "M", "serial_number": "S"}"#,
                Some(DiskId::Eui64("0025385791b4f537".into())),
            ),
            (
                r#"{"model_name": "QEMU NVMe Ctrl", "serial_number": "WIZFSNVME0"}"#,
                Some(DiskId::ModelSerial {
                    model: "QEMU NVMe Ctrl".into(),
                    serial: "WIZFSNVME0".into(),
                }),
            ),
            (
                r#"{"scsi_model_name": "SEAGATE ST373453LC", "serial_number": "X1"}"#,
                Some(DiskId::ModelSerial {
                    model: "SEAGATE ST373453LC".into(),
                    serial: "X1".into(),
                }),
            ),
            // An all-zero WWN or LUN is no identity; falls through to model + serial.
            (
                r#"{"wwn": {"naa": 0, "oui": 0, "id": 0}, "logical_unit_id": "0x0000000000000000", "model_name": "M", "serial_number": "S"}"#,
                Some(DiskId::ModelSerial {
                    model: "M".into(),
                    serial: "S".into(),
                }),
            ),
            // `smartctl -A` output: only a device path, which is no identity.
            (r#"{"device": {"name": "/dev/sdc"}}"#, None),
            (r#"{"model_name": "M", "serial_number": "  "}"#, None),
        ];
        for (json, expected) in cases {
            assert_eq!(disk_identity(&report(json)), expected, "{json}");
        }
    }

    #[test]
    fn tokens_look_like_by_id_names() {
        let cases = [
            (
                DiskId::Wwn("5000cca37fca81a8".into()),
                "wwn-0x5000cca37fca81a8",
            ),
            (
                DiskId::Eui64("0025385791b4f537".into()),
                "eui.0025385791b4f537",
            ),
            (
                DiskId::ModelSerial {
                    model: "QEMU NVMe Ctrl".into(),
                    serial: "WIZFSNVME0".into(),
                },
                "QEMU_NVMe_Ctrl_WIZFSNVME0",
            ),
            (
                DiskId::ModelSerial {
                    model: "a/b".into(),
                    serial: "c d".into(),
                },
                "a_b_c_d",
            ),
        ];
        for (disk, token) in cases {
            assert_eq!(disk.token(), token);
        }
    }
}
