//! I2C temperature sensors configured by bus and address (`[[sensors.i2c]]`): LM75 and
//! TMP102 (a 16-bit two's-complement temperature register, decoded by the pure
//! [`lm75_celsius`] and [`tmp102_celsius`]) and the BME280 ([`super::bme280`]). The adapter
//! works over any `i2cdev` [`I2CDevice`]: `LinuxI2CDevice` on `/dev/i2c-N` on the appliance,
//! a register map in tests. Registers are read with SMBus commands (byte, word and I2C-block
//! reads, byte writes), which all three chips answer: they work on SMBus-only controllers
//! (the Intel PCH SMBus of most NAS boards, the kernel's `i2c-stub`) and, emulated by the
//! kernel, on plain I2C controllers.

use std::path::PathBuf;

use i2cdev::core::I2CDevice;
use i2cdev::linux::LinuxI2CDevice;
use serde::{Deserialize, Serialize};

use super::bme280::{self, Calibration, RawMeasurement, registers};
use super::reading::{SensorError, SensorReading, SensorSource};

/// The chips WiZFS knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum I2cChip {
    /// LM75 family (LM75A/B, DS75, TCN75, …): 9 to 11 significant bits, left-justified.
    Lm75,
    /// TI TMP102: 12 bits, or 13 in extended mode (bit 0 of the low byte set).
    Tmp102,
    Bme280,
}

/// One `[[sensors.i2c]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct I2cSensorConfig {
    /// Shown as `i2c/<name>`.
    pub name: String,
    /// The N of `/dev/i2c-N`.
    pub bus: u32,
    /// 7-bit address (0x48 for an LM75 or TMP102 with address pins low, 0x76 or 0x77 for a
    /// BME280).
    pub address: u16,
    pub chip: I2cChip,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

/// LM75/TMP102 temperature register (pointer 0).
const TEMPERATURE_REGISTER: u8 = 0x00;
/// 7-bit addresses outside 0x03–0x77 are reserved by the I2C specification.
const VALID_ADDRESSES: std::ops::RangeInclusive<u16> = 0x03..=0x77;
/// How long a forced BME280 conversion may take at ×1 oversampling (datasheet table 13:
/// 9.3 ms maximum), with margin.
const BME280_CONVERSION_POLLS: u32 = 10;
const BME280_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

/// LM75: the two bytes of the temperature register, MSB first, are a left-justified
/// two's-complement value in 1/256 °C (the unused low bits read as zero on 9-bit parts).
pub fn lm75_celsius(bytes: [u8; 2]) -> f64 {
    f64::from(i16::from_be_bytes(bytes)) / 256.0
}

/// TMP102: 12-bit left-justified value in 1/16 °C; when bit 0 (EM) is set the chip is in
/// extended mode and the value is 13 bits (up to 150 °C).
pub fn tmp102_celsius(bytes: [u8; 2]) -> f64 {
    let raw = i16::from_be_bytes(bytes);
    let extended = bytes[1] & 1 == 1;
    let counts = if extended { raw >> 3 } else { raw >> 4 };
    f64::from(counts) * 0.0625
}

/// The bus error of an `i2cdev` call.
fn bus<T, E>(result: Result<T, E>) -> std::io::Result<T>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    result.map_err(std::io::Error::other)
}

/// A two-byte register as the chip sends it (first byte first): an SMBus word read, whose
/// first byte on the wire is the word's low byte.
fn read_register_pair<D>(device: &mut D, register: u8) -> std::io::Result<[u8; 2]>
where
    D: I2CDevice,
    D::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    bus(device.smbus_read_word_data(register)).map(u16::to_le_bytes)
}

/// `buffer.len()` consecutive registers from `register` (one SMBus I2C-block read, at most
/// 32 bytes; a shorter answer is an error).
fn read_block<D>(device: &mut D, register: u8, buffer: &mut [u8]) -> std::io::Result<()>
where
    D: I2CDevice,
    D::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let length = u8::try_from(buffer.len())
        .ok()
        .filter(|length| *length <= 32)
        .ok_or_else(|| std::io::Error::other("an SMBus block read is at most 32 bytes"))?;
    let bytes = bus(device.smbus_read_i2c_block_data(register, length))?;
    if bytes.len() != buffer.len() {
        return Err(std::io::Error::other(format!(
            "register {register:#04x}: {} of {} bytes read",
            bytes.len(),
            buffer.len()
        )));
    }
    buffer.copy_from_slice(&bytes);
    Ok(())
}

/// Reads one configured sensor from an open device.
pub fn read_sensor<D>(
    device: &mut D,
    config: &I2cSensorConfig,
) -> Result<SensorReading, SensorError>
where
    D: I2CDevice,
    D::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bus_error = |source| SensorError::I2c {
        sensor: config.name.clone(),
        bus: config.bus,
        address: config.address,
        source,
    };
    let mut reading = SensorReading {
        name: format!("i2c/{}", config.name),
        source: SensorSource::I2c,
        celsius: 0.0,
        warning: config.warning,
        critical: config.critical,
        humidity_percent: None,
        pressure_pascal: None,
    };
    match config.chip {
        I2cChip::Lm75 | I2cChip::Tmp102 => {
            let bytes = read_register_pair(device, TEMPERATURE_REGISTER).map_err(bus_error)?;
            reading.celsius = if config.chip == I2cChip::Lm75 {
                lm75_celsius(bytes)
            } else {
                tmp102_celsius(bytes)
            };
        }
        I2cChip::Bme280 => {
            let measurement = read_bme280(device).map_err(|failure| match failure {
                Bme280Failure::Bus(source) => bus_error(source),
                Bme280Failure::Chip(reason) => SensorError::I2cDevice {
                    sensor: config.name.clone(),
                    reason,
                },
            })?;
            reading.celsius = measurement.celsius;
            reading.humidity_percent = measurement.humidity_percent;
            reading.pressure_pascal = measurement.pressure_pascal;
        }
    }
    Ok(reading)
}

enum Bme280Failure {
    Bus(std::io::Error),
    Chip(String),
}

impl From<std::io::Error> for Bme280Failure {
    fn from(error: std::io::Error) -> Self {
        Bme280Failure::Bus(error)
    }
}

/// Checks the chip id, reads the calibration, starts one forced measurement, waits for it
/// and compensates it.
fn read_bme280<D>(device: &mut D) -> Result<bme280::Measurement, Bme280Failure>
where
    D: I2CDevice,
    D::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let id = bus(device.smbus_read_byte_data(registers::CHIP_ID))?;
    if id != registers::CHIP_ID_BME280 {
        return Err(Bme280Failure::Chip(format!(
            "chip id {id:#04x} is not a BME280 ({:#04x})",
            registers::CHIP_ID_BME280
        )));
    }
    let mut block_a = [0u8; registers::CALIBRATION_A_LENGTH];
    let mut block_b = [0u8; registers::CALIBRATION_B_LENGTH];
    read_block(device, registers::CALIBRATION_A, &mut block_a)?;
    read_block(device, registers::CALIBRATION_B, &mut block_b)?;
    let calibration = Calibration::from_registers(&block_a, &block_b);
    // ctrl_hum only takes effect after a write to ctrl_meas (datasheet 5.4.3).
    bus(device.smbus_write_byte_data(registers::CTRL_HUM, registers::CTRL_HUM_OVERSAMPLING_1))?;
    bus(device.smbus_write_byte_data(registers::CTRL_MEAS, registers::CTRL_MEAS_FORCED_1X))?;
    let mut polls = 0;
    loop {
        let status = bus(device.smbus_read_byte_data(registers::STATUS))?;
        if status & registers::STATUS_MEASURING == 0 {
            break;
        }
        polls += 1;
        if polls >= BME280_CONVERSION_POLLS {
            return Err(Bme280Failure::Chip("the conversion did not finish".into()));
        }
        std::thread::sleep(BME280_POLL_INTERVAL);
    }
    let mut data = [0u8; registers::DATA_LENGTH];
    read_block(device, registers::DATA, &mut data)?;
    bme280::compensate(&calibration, &RawMeasurement::from_registers(&data))
        .ok_or_else(|| Bme280Failure::Chip("the temperature measurement was skipped".into()))
}

/// Opens `/dev/i2c-<bus>` for the configured address.
pub fn open_device(config: &I2cSensorConfig) -> Result<LinuxI2CDevice, SensorError> {
    if !VALID_ADDRESSES.contains(&config.address) {
        return Err(SensorError::I2cDevice {
            sensor: config.name.clone(),
            reason: format!(
                "address {:#04x} is outside the 7-bit range 0x03–0x77",
                config.address
            ),
        });
    }
    let path = PathBuf::from(format!("/dev/i2c-{}", config.bus));
    LinuxI2CDevice::new(&path, config.address).map_err(|error| SensorError::I2c {
        sensor: config.name.clone(),
        bus: config.bus,
        address: config.address,
        source: std::io::Error::other(error),
    })
}

/// Opens and reads every configured sensor; failures are returned beside the readings.
pub fn read_configured(configs: &[I2cSensorConfig]) -> (Vec<SensorReading>, Vec<SensorError>) {
    let mut readings = Vec::new();
    let mut problems = Vec::new();
    for config in configs {
        match open_device(config).and_then(|mut device| read_sensor(&mut device, config)) {
            Ok(reading) => readings.push(reading),
            Err(error) => problems.push(error),
        }
    }
    (readings, problems)
}

#[cfg(test)]
mod tests;
