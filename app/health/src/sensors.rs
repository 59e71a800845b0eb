//! Temperature sensors besides the disks' own: hwmon and thermal zones from sysfs
//! ([`sysfs`], root configurable so tests use a fake tree), I2C chips configured by bus and
//! address ([`i2c`], LM75/TMP102 and the BME280 of [`bme280`]), and the drive list of UDisks2
//! over D-Bus ([`udisks`]). Every source yields [`SensorReading`]s; [`evaluate_sensors`] is
//! the pure rule that turns them into findings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, FindingKind, Severity, Subject};
use crate::smart::rules::Limits;

pub mod bme280;
pub mod i2c;
mod reading;
pub mod sysfs;
pub mod udisks;

pub use reading::{SensorError, SensorReading, SensorSource};

/// Limits for one sensor by name, overriding what the sensor reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorLimits {
    pub name: String,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

/// `[sensors]` of the health configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorConfig {
    /// Where sysfs is mounted (`/sys`).
    pub sysfs_root: PathBuf,
    pub hwmon: bool,
    pub thermal: bool,
    /// When a sensor reports only a critical level, warn this many degrees below it.
    pub warning_margin: f64,
    /// `[[sensors.i2c]]`
    pub i2c: Vec<i2c::I2cSensorConfig>,
    /// `[[sensors.limits]]`
    pub limits: Vec<SensorLimits>,
    /// Ask UDisks2 on the system D-Bus about drives smartctl does not cover (a machine
    /// without UDisks2 is not a problem: nothing is reported).
    pub udisks: bool,
    /// Find UDisks2 on this D-Bus address instead of the system bus.
    pub dbus_address: Option<String>,
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            sysfs_root: PathBuf::from("/sys"),
            hwmon: true,
            thermal: true,
            warning_margin: 10.0,
            i2c: Vec::new(),
            limits: Vec::new(),
            udisks: true,
            dbus_address: None,
        }
    }
}

/// Findings for readings at or above their limits: a configured override first, else the
/// sensor's own levels (warning = its max, or `warning_margin` below its critical level).
/// Sensors without any limit are recorded but never alert.
pub fn evaluate_sensors(readings: &[SensorReading], config: &SensorConfig) -> Vec<Finding> {
    readings
        .iter()
        .filter_map(|reading| {
            let limits = match config
                .limits
                .iter()
                .find(|limits| limits.name == reading.name)
            {
                Some(limits) => Limits::new(limits.warning, limits.critical),
                None => Limits::new(
                    reading.warning.or_else(|| {
                        reading
                            .critical
                            .map(|critical| critical - config.warning_margin)
                    }),
                    reading.critical,
                ),
            };
            let severity = limits.severity(reading.celsius)?;
            let limit = match severity {
                Severity::Critical => limits.critical,
                _ => limits.warning,
            }
            .unwrap_or(reading.celsius);
            Some(Finding::new(
                Subject::Sensor {
                    sensor: reading.name.clone(),
                },
                FindingKind::SensorTemperature,
                severity,
                format!("{:.1} °C (limit {limit:.1} °C)", reading.celsius),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(
        name: &str,
        celsius: f64,
        warning: Option<f64>,
        critical: Option<f64>,
    ) -> SensorReading {
        SensorReading {
            name: name.into(),
            source: SensorSource::Hwmon,
            celsius,
            warning,
            critical,
            humidity_percent: None,
            pressure_pascal: None,
        }
    }

    #[test]
    fn table() {
        let config = SensorConfig {
            limits: vec![SensorLimits {
                name: "i2c/case".into(),
                warning: Some(40.0),
                critical: Some(50.0),
            }],
            ..SensorConfig::default()
        };
        let cases = [
            (
                "no limits never alert",
                reading("a", 150.0, None, None),
                None,
            ),
            (
                "below max",
                reading("a", 79.0, Some(80.0), Some(100.0)),
                None,
            ),
            (
                "at max",
                reading("a", 80.0, Some(80.0), Some(100.0)),
                Some(Severity::Warning),
            ),
            (
                "at crit",
                reading("a", 100.0, Some(80.0), Some(100.0)),
                Some(Severity::Critical),
            ),
            (
                "crit only: margin",
                reading("a", 91.0, None, Some(100.0)),
                Some(Severity::Warning),
            ),
            (
                "crit only: below margin",
                reading("a", 89.0, None, Some(100.0)),
                None,
            ),
            (
                "override wins",
                reading("i2c/case", 45.0, None, Some(100.0)),
                Some(Severity::Warning),
            ),
            (
                "negative is fine",
                reading("a", -20.0, Some(80.0), Some(100.0)),
                None,
            ),
        ];
        for (name, reading, expected) in cases {
            let findings = evaluate_sensors(std::slice::from_ref(&reading), &config);
            assert_eq!(
                findings.first().map(|finding| finding.severity),
                expected,
                "{name}"
            );
            assert!(findings.len() <= 1, "{name}");
        }
    }
}
