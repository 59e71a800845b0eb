//! Register decoding against the datasheet tables, and the adapter against a recording
//! stand-in for an SMBus controller (a register file that logs every command and, like
//! Intel's PCH SMBus or the kernel's `i2c-stub`, refuses plain I2C transfers), so the exact
//! sequence of commands each chip sees is checked without hardware.

use super::*;

/// One SMBus command as the chip sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Transaction {
    ReadByte(u8),
    WriteByte(u8, u8),
    ReadWord(u8),
    ReadBlock(u8, u8),
}

/// A chip with 256 byte registers; multi-byte reads return consecutive registers, first
/// byte first, as a chip with an auto-incrementing register pointer sends them.
struct RecordingBus {
    registers: [u8; 256],
    log: Vec<Transaction>,
    fail: bool,
    /// Block reads answer at most this many bytes (a controller that stops early).
    block_limit: usize,
}

impl RecordingBus {
    fn new() -> RecordingBus {
        RecordingBus {
            registers: [0; 256],
            log: Vec::new(),
            fail: false,
            block_limit: 32,
        }
    }

    fn set(&mut self, register: u8, bytes: &[u8]) {
        for (offset, byte) in bytes.iter().enumerate() {
            self.registers[usize::from(register) + offset] = *byte;
        }
    }

    fn command(&mut self, transaction: Transaction) -> std::io::Result<()> {
        if self.fail {
            return Err(std::io::Error::from_raw_os_error(121)); // EREMOTEIO: no ACK
        }
        self.log.push(transaction);
        Ok(())
    }

    fn bytes(&self, register: u8, length: usize) -> Vec<u8> {
        (0..length)
            .map(|offset| self.registers[(usize::from(register) + offset) % 256])
            .collect()
    }
}

fn not_smbus() -> std::io::Error {
    std::io::Error::from_raw_os_error(95) // EOPNOTSUPP, as from an SMBus-only adapter
}

impl I2CDevice for RecordingBus {
    type Error = std::io::Error;

    fn read(&mut self, _data: &mut [u8]) -> std::io::Result<()> {
        Err(not_smbus())
    }

    fn write(&mut self, _data: &[u8]) -> std::io::Result<()> {
        Err(not_smbus())
    }

    fn smbus_read_byte_data(&mut self, register: u8) -> std::io::Result<u8> {
        self.command(Transaction::ReadByte(register))?;
        Ok(self.registers[usize::from(register)])
    }

    fn smbus_write_byte_data(&mut self, register: u8, value: u8) -> std::io::Result<()> {
        self.command(Transaction::WriteByte(register, value))?;
        self.registers[usize::from(register)] = value;
        Ok(())
    }

    fn smbus_read_word_data(&mut self, register: u8) -> std::io::Result<u16> {
        self.command(Transaction::ReadWord(register))?;
        let bytes = self.bytes(register, 2);
        Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
    }

    fn smbus_read_i2c_block_data(&mut self, register: u8, len: u8) -> std::io::Result<Vec<u8>> {
        self.command(Transaction::ReadBlock(register, len))?;
        Ok(self.bytes(register, usize::from(len).min(self.block_limit)))
    }

    fn smbus_write_quick(&mut self, _bit: bool) -> std::io::Result<()> {
        Err(not_smbus())
    }

    fn smbus_read_block_data(&mut self, _register: u8) -> std::io::Result<Vec<u8>> {
        Err(not_smbus())
    }

    fn smbus_write_block_data(&mut self, _register: u8, _values: &[u8]) -> std::io::Result<()> {
        Err(not_smbus())
    }

    fn smbus_process_block(&mut self, _register: u8, _values: &[u8]) -> std::io::Result<Vec<u8>> {
        Err(not_smbus())
    }

    fn smbus_write_i2c_block_data(&mut self, _register: u8, _values: &[u8]) -> std::io::Result<()> {
        Err(not_smbus())
    }
}

fn config(chip: I2cChip) -> I2cSensorConfig {
    I2cSensorConfig {
        name: "case".into(),
        bus: 1,
        address: 0x48,
        chip,
        warning: Some(45.0),
        critical: None,
    }
}

#[test]
fn lm75_register_values() {
    // LM75 datasheet, "Temperature Data Format" table (9-bit), plus 11-bit LM75B codes.
    let cases: [([u8; 2], f64); 9] = [
        ([0x7D, 0x00], 125.0),
        ([0x19, 0x00], 25.0),
        ([0x00, 0x80], 0.5),
        ([0x00, 0x00], 0.0),
        ([0xFF, 0x80], -0.5),
        ([0xE7, 0x00], -25.0),
        ([0xC9, 0x00], -55.0),
        ([0x19, 0x20], 25.125),
        ([0xFF, 0xE0], -0.125),
    ];
    for (bytes, celsius) in cases {
        assert_eq!(lm75_celsius(bytes), celsius, "{bytes:02x?}");
    }
}

#[test]
fn tmp102_register_values() {
    // TMP102 datasheet, tables "12-bit temperature data format" and "13-bit (extended mode)".
    let cases: [([u8; 2], f64); 12] = [
        ([0x7F, 0xF0], 127.9375),
        ([0x64, 0x00], 100.0),
        ([0x50, 0x00], 80.0),
        ([0x19, 0x00], 25.0),
        ([0x00, 0x40], 0.25),
        ([0x00, 0x00], 0.0),
        ([0xFF, 0xC0], -0.25),
        ([0xE7, 0x00], -25.0),
        ([0xC9, 0x00], -55.0),
        // Extended mode: EM bit set, 13 bits.
        ([0x4B, 0x01], 150.0),
        ([0x0C, 0x81], 25.0),
        ([0xE4, 0x81], -55.0),
    ];
    for (bytes, celsius) in cases {
        assert_eq!(tmp102_celsius(bytes), celsius, "{bytes:02x?}");
    }
}

#[test]
fn lm75_reads_the_temperature_register() {
    let mut bus = RecordingBus::new();
    bus.set(0x00, &[0xE7, 0x00]);
    let reading = read_sensor(&mut bus, &config(I2cChip::Lm75)).expect("reads");
    assert_eq!(reading.name, "i2c/case");
    assert_eq!(reading.celsius, -25.0);
    assert_eq!(reading.warning, Some(45.0));
    assert_eq!(bus.log, vec![Transaction::ReadWord(0x00)]);
}

#[test]
fn tmp102_in_extended_mode() {
    let mut bus = RecordingBus::new();
    bus.set(0x00, &[0x4B, 0x01]);
    let reading = read_sensor(&mut bus, &config(I2cChip::Tmp102)).expect("reads");
    assert_eq!(reading.celsius, 150.0);
}

/// A BME280 register file holding the BMP280 datasheet example's calibration and readings.
fn bme280_bus() -> RecordingBus {
    let mut bus = RecordingBus::new();
    bus.set(registers::CHIP_ID, &[registers::CHIP_ID_BME280]);
    let words: [i32; 12] = [
        27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000,
    ];
    let mut block_a = [0u8; 26];
    for (index, word) in words.iter().enumerate() {
        block_a[index * 2..index * 2 + 2].copy_from_slice(&(*word as u16).to_le_bytes());
    }
    block_a[25] = 75;
    bus.set(registers::CALIBRATION_A, &block_a);
    bus.set(
        registers::CALIBRATION_B,
        &[0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 30],
    );
    // press 415148, temp 519888, humidity 0x6A3C.
    bus.set(
        registers::DATA,
        &[0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x6A, 0x3C],
    );
    bus
}

#[test]
fn bme280_forced_measurement_transactions_and_values() {
    let mut bus = bme280_bus();
    let reading = read_sensor(&mut bus, &config(I2cChip::Bme280)).expect("reads");
    assert_eq!(reading.celsius, 25.08);
    let pressure = reading.pressure_pascal.expect("pressure");
    assert!((pressure - 100_653.27).abs() < 0.05, "{pressure}");
    let humidity = reading.humidity_percent.expect("humidity");
    assert!((0.0..=100.0).contains(&humidity), "{humidity}");
    use Transaction::*;
    assert_eq!(
        bus.log,
        vec![
            ReadByte(0xD0),
            ReadBlock(0x88, 26),
            ReadBlock(0xE1, 7),
            WriteByte(0xF2, 0x01),
            WriteByte(0xF4, 0x25),
            ReadByte(0xF3),
            ReadBlock(0xF7, 8),
        ]
    );
}

#[test]
fn bme280_wrong_chip_and_stuck_conversion() {
    let mut bus = bme280_bus();
    bus.set(registers::CHIP_ID, &[0x58]); // a BMP280
    let error = read_sensor(&mut bus, &config(I2cChip::Bme280)).expect_err("not a BME280");
    assert!(error.to_string().contains("0x58"), "{error}");

    let mut bus = bme280_bus();
    bus.set(registers::STATUS, &[registers::STATUS_MEASURING]);
    let error = read_sensor(&mut bus, &config(I2cChip::Bme280)).expect_err("stuck");
    assert!(matches!(error, SensorError::I2cDevice { .. }), "{error}");
}

#[test]
fn a_short_block_read_is_a_bus_error_not_a_wrong_value() {
    let mut bus = bme280_bus();
    bus.block_limit = 20;
    let error = read_sensor(&mut bus, &config(I2cChip::Bme280)).expect_err("short");
    assert!(error.to_string().contains("20 of 26 bytes"), "{error}");
}

#[test]
fn bus_errors_name_the_sensor_bus_and_address() {
    let mut bus = RecordingBus::new();
    bus.fail = true;
    let error = read_sensor(&mut bus, &config(I2cChip::Lm75)).expect_err("no ack");
    assert_eq!(
        error.to_string().split(':').next(),
        Some("I2C sensor `case` (bus 1, address 0x48)")
    );
}

#[test]
fn addresses_outside_the_seven_bit_range_are_refused() {
    for address in [0x00, 0x02, 0x78, 0x3FF] {
        let mut bad = config(I2cChip::Lm75);
        bad.address = address;
        assert!(
            matches!(open_device(&bad), Err(SensorError::I2cDevice { .. })),
            "{address:#x}"
        );
    }
}

#[test]
fn a_missing_bus_device_is_an_i2c_error() {
    // No /dev/i2c-250 exists on a build machine or the appliance.
    let mut missing = config(I2cChip::Lm75);
    missing.bus = 250;
    let (readings, problems) = read_configured(&[missing]);
    assert!(readings.is_empty());
    assert!(
        matches!(problems.as_slice(), [SensorError::I2c { bus: 250, .. }]),
        "{problems:?}"
    );
}
