//! What every sensor source yields: a [`SensorReading`] (with its [`SensorSource`]) or a
//! [`SensorError`]. Apart from `sensors.rs` so the sources can use these without importing
//! the module that configures them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where a reading came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorSource {
    Hwmon,
    Thermal,
    I2c,
    /// A drive's temperature from UDisks2.
    Udisks,
}

/// One temperature, with the limits the sensor (or the configuration) gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    /// Stable name: `coretemp/Package id 0`, `thermal/x86_pkg_temp`, `i2c/case`.
    pub name: String,
    pub source: SensorSource,
    pub celsius: f64,
    /// The sensor's warning level (hwmon `tempN_max`, thermal `hot` trip point).
    pub warning: Option<f64>,
    /// The sensor's critical level (hwmon `tempN_crit`, thermal `critical` trip point).
    pub critical: Option<f64>,
    /// BME280: relative humidity in percent and pressure in pascal.
    pub humidity_percent: Option<f64>,
    pub pressure_pascal: Option<f64>,
}

/// A sensor that could not be read; the others still are.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} holds {text:?}, not a temperature in millidegrees", path.display())]
    NotANumber { path: PathBuf, text: String },
    #[error("I2C sensor `{sensor}` (bus {bus}, address {address:#04x}): {source}")]
    I2c {
        sensor: String,
        bus: u32,
        address: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("I2C sensor `{sensor}`: {reason}")]
    I2cDevice { sensor: String, reason: String },
    #[error("UDisks2 over D-Bus: {context}: {source}")]
    DBus {
        context: String,
        #[source]
        source: zbus::Error,
    },
}
