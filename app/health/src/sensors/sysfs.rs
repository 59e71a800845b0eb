//! hwmon and thermal-zone temperatures read straight from sysfs under a configurable root
//! (`/sys` on the appliance, a temporary tree in tests). hwmon: `class/hwmon/hwmonN/name`,
//! `tempK_input` (millidegrees), `tempK_label`, `tempK_max`, `tempK_crit`. Thermal zones:
//! `class/thermal/thermal_zoneN/type`, `temp`, and `trip_point_K_type`/`_temp` (`hot` is the
//! warning level, `critical` the critical one). A missing class directory means no such
//! sensors; one sensor that fails to read (EIO from a sleeping chip, EAGAIN) is reported and
//! skipped without losing the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::reading::{SensorError, SensorReading, SensorSource};

/// The readings and the sensors that failed.
#[derive(Debug, Default)]
pub struct SysfsScan {
    pub readings: Vec<SensorReading>,
    pub problems: Vec<SensorError>,
}

fn read_text(path: &Path) -> Result<String, SensorError> {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|source| SensorError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn read_optional_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// Millidegrees Celsius as the kernel writes them ("45000", "-5250").
pub fn parse_millidegrees(text: &str) -> Option<f64> {
    text.trim()
        .parse::<i64>()
        .ok()
        .map(|milli| milli as f64 / 1000.0)
}

fn read_millidegrees(path: &Path) -> Result<f64, SensorError> {
    let text = read_text(path)?;
    parse_millidegrees(&text).ok_or_else(|| SensorError::NotANumber {
        path: path.to_path_buf(),
        text,
    })
}

fn optional_millidegrees(path: &Path) -> Option<f64> {
    read_optional_text(path).and_then(|text| parse_millidegrees(&text))
}

/// The entries of `directory` whose names start with `prefix`, sorted by the number that
/// follows (hwmon2 before hwmon10). A missing directory is empty.
fn numbered_entries(directory: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let number = name.to_str()?.strip_prefix(prefix)?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// The `tempK_input` indices of one hwmon directory.
fn temperature_indices(directory: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut indices: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            name.to_str()?
                .strip_prefix("temp")?
                .strip_suffix("_input")?
                .parse()
                .ok()
        })
        .collect();
    indices.sort_unstable();
    indices
}

/// Reads every hwmon temperature under `root/class/hwmon`. Sensors are named
/// `<chip name>/<label or tempK>`; two chips with the same name are told apart by their
/// device (`nvme/Composite@nvme0`), else by their hwmon directory.
pub fn read_hwmon(root: &Path) -> SysfsScan {
    let mut scan = SysfsScan::default();
    let chips = numbered_entries(&root.join("class/hwmon"), "hwmon");
    let chip_names: Vec<String> = chips
        .iter()
        .map(|(number, path)| {
            read_optional_text(&path.join("name")).unwrap_or_else(|| format!("hwmon{number}"))
        })
        .collect();
    let mut name_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &chip_names {
        *name_counts.entry(name.as_str()).or_default() += 1;
    }
    for ((number, path), chip) in chips.iter().zip(&chip_names) {
        let suffix = if name_counts.get(chip.as_str()).copied().unwrap_or(0) > 1 {
            let device = std::fs::read_link(path.join("device"))
                .ok()
                .and_then(|target| {
                    target
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| format!("hwmon{number}"));
            format!("@{device}")
        } else {
            String::new()
        };
        for index in temperature_indices(path) {
            let file = |field: &str| path.join(format!("temp{index}_{field}"));
            let celsius = match read_millidegrees(&file("input")) {
                Ok(celsius) => celsius,
                Err(error) => {
                    scan.problems.push(error);
                    continue;
                }
            };
            let label =
                read_optional_text(&file("label")).unwrap_or_else(|| format!("temp{index}"));
            scan.readings.push(SensorReading {
                name: format!("{chip}/{label}{suffix}"),
                source: SensorSource::Hwmon,
                celsius,
                warning: optional_millidegrees(&file("max")),
                critical: optional_millidegrees(&file("crit")),
                humidity_percent: None,
                pressure_pascal: None,
            });
        }
    }
    scan
}

/// Reads every thermal zone under `root/class/thermal`, named `thermal/<type>` (with the
/// zone number when two zones share a type).
pub fn read_thermal(root: &Path) -> SysfsScan {
    let mut scan = SysfsScan::default();
    let zones = numbered_entries(&root.join("class/thermal"), "thermal_zone");
    let types: Vec<String> = zones
        .iter()
        .map(|(number, path)| {
            read_optional_text(&path.join("type")).unwrap_or_else(|| format!("zone{number}"))
        })
        .collect();
    for ((number, path), zone_type) in zones.iter().zip(&types) {
        let celsius = match read_millidegrees(&path.join("temp")) {
            Ok(celsius) => celsius,
            Err(error) => {
                scan.problems.push(error);
                continue;
            }
        };
        let shared = types.iter().filter(|other| *other == zone_type).count() > 1;
        let name = if shared {
            format!("thermal/{zone_type}@{number}")
        } else {
            format!("thermal/{zone_type}")
        };
        let mut warning = None;
        let mut critical = None;
        for trip in trip_points(path) {
            let kind = read_optional_text(&path.join(format!("trip_point_{trip}_type")));
            let temperature = optional_millidegrees(&path.join(format!("trip_point_{trip}_temp")));
            match kind.as_deref() {
                Some("critical") => critical = critical.or(temperature),
                Some("hot") => warning = warning.or(temperature),
                _ => {}
            }
        }
        scan.readings.push(SensorReading {
            name,
            source: SensorSource::Thermal,
            celsius,
            warning,
            critical,
            humidity_percent: None,
            pressure_pascal: None,
        });
    }
    scan
}

/// The trip point numbers of a thermal zone.
fn trip_points(zone: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(zone) else {
        return Vec::new();
    };
    let mut trips: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            name.to_str()?
                .strip_prefix("trip_point_")?
                .strip_suffix("_type")?
                .parse()
                .ok()
        })
        .collect();
    trips.sort_unstable();
    trips
}

#[cfg(test)]
mod tests;
