//! The Bosch BME280 (temperature, pressure, humidity) as pure functions: decoding the
//! calibration registers and the raw measurement, and the integer compensation formulas of
//! the datasheet (BST-BME280-DS002, section 4.2.3; temperature and pressure are the same
//! formulas as the BMP280's, whose datasheet gives a worked example used in the tests).
//! Intermediate values are computed in 128-bit integers instead of the datasheet's 32 and 64
//! bits so that bad calibration bytes cannot overflow; for valid data the results are
//! identical.

/// Register addresses and values (datasheet section 5.3).
pub mod registers {
    pub const CHIP_ID: u8 = 0xD0;
    pub const CHIP_ID_BME280: u8 = 0x60;
    /// dig_T1 … dig_P9, one unused byte, dig_H1: 26 bytes.
    pub const CALIBRATION_A: u8 = 0x88;
    pub const CALIBRATION_A_LENGTH: usize = 26;
    /// dig_H2 … dig_H6: 7 bytes.
    pub const CALIBRATION_B: u8 = 0xE1;
    pub const CALIBRATION_B_LENGTH: usize = 7;
    pub const CTRL_HUM: u8 = 0xF2;
    pub const STATUS: u8 = 0xF3;
    pub const CTRL_MEAS: u8 = 0xF4;
    /// press_msb … hum_lsb: 8 bytes.
    pub const DATA: u8 = 0xF7;
    pub const DATA_LENGTH: usize = 8;
    /// Humidity oversampling ×1.
    pub const CTRL_HUM_OVERSAMPLING_1: u8 = 0b001;
    /// osrs_t = 001 (×1), osrs_p = 001 (×1), mode = 01 (forced: one measurement, then
    /// sleep).
    pub const CTRL_MEAS_FORCED_1X: u8 = 0b0010_0101;
    /// STATUS bit 3: a conversion is running.
    pub const STATUS_MEASURING: u8 = 0b1000;
}

/// The factory calibration of one chip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calibration {
    pub t1: u16,
    pub t2: i16,
    pub t3: i16,
    pub p1: u16,
    pub p2: i16,
    pub p3: i16,
    pub p4: i16,
    pub p5: i16,
    pub p6: i16,
    pub p7: i16,
    pub p8: i16,
    pub p9: i16,
    pub h1: u8,
    pub h2: i16,
    pub h3: u8,
    pub h4: i16,
    pub h5: i16,
    pub h6: i8,
}

impl Calibration {
    /// Decodes the two calibration blocks (0x88–0xA1 and 0xE1–0xE7).
    pub fn from_registers(
        block_a: &[u8; registers::CALIBRATION_A_LENGTH],
        block_b: &[u8; registers::CALIBRATION_B_LENGTH],
    ) -> Calibration {
        let unsigned = |index: usize| u16::from_le_bytes([block_a[index], block_a[index + 1]]);
        let signed = |index: usize| i16::from_le_bytes([block_a[index], block_a[index + 1]]);
        // dig_H4 and dig_H5 are 12-bit signed values sharing register 0xE5.
        let h4 = (i16::from(block_b[3] as i8) << 4) | i16::from(block_b[4] & 0x0F);
        let h5 = (i16::from(block_b[5] as i8) << 4) | i16::from(block_b[4] >> 4);
        Calibration {
            t1: unsigned(0),
            t2: signed(2),
            t3: signed(4),
            p1: unsigned(6),
            p2: signed(8),
            p3: signed(10),
            p4: signed(12),
            p5: signed(14),
            p6: signed(16),
            p7: signed(18),
            p8: signed(20),
            p9: signed(22),
            h1: block_a[25],
            h2: i16::from_le_bytes([block_b[0], block_b[1]]),
            h3: block_b[2],
            h4,
            h5,
            h6: block_b[6] as i8,
        }
    }
}

/// The raw ADC values of one measurement; `None` where the chip skipped it (0x80000 or
/// 0x8000, as after reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawMeasurement {
    pub pressure: Option<i32>,
    pub temperature: Option<i32>,
    pub humidity: Option<i32>,
}

const SKIPPED_20_BIT: i32 = 0x80000;
const SKIPPED_16_BIT: i32 = 0x8000;

impl RawMeasurement {
    /// Decodes registers 0xF7–0xFE.
    pub fn from_registers(data: &[u8; registers::DATA_LENGTH]) -> RawMeasurement {
        let twenty_bits = |msb: u8, lsb: u8, xlsb: u8| {
            (i32::from(msb) << 12) | (i32::from(lsb) << 4) | (i32::from(xlsb) >> 4)
        };
        let pressure = twenty_bits(data[0], data[1], data[2]);
        let temperature = twenty_bits(data[3], data[4], data[5]);
        let humidity = (i32::from(data[6]) << 8) | i32::from(data[7]);
        RawMeasurement {
            pressure: (pressure != SKIPPED_20_BIT).then_some(pressure),
            temperature: (temperature != SKIPPED_20_BIT).then_some(temperature),
            humidity: (humidity != SKIPPED_16_BIT).then_some(humidity),
        }
    }
}

/// Temperature in hundredths of °C and the `t_fine` the other formulas need.
pub fn compensate_temperature(calibration: &Calibration, adc_t: i32) -> (i32, i64) {
    let adc = i64::from(adc_t);
    let t1 = i64::from(calibration.t1);
    let var1 = (((adc >> 3) - (t1 << 1)) * i64::from(calibration.t2)) >> 11;
    let var2 = (((((adc >> 4) - t1) * ((adc >> 4) - t1)) >> 12) * i64::from(calibration.t3)) >> 14;
    let t_fine = var1 + var2;
    let hundredths = (t_fine * 5 + 128) >> 8;
    (
        i32::try_from(hundredths).unwrap_or(if hundredths < 0 { i32::MIN } else { i32::MAX }),
        t_fine,
    )
}

/// Pressure in Pa as Q24.8 (divide by 256), or `None` for a calibration that would divide
/// by zero.
pub fn compensate_pressure(calibration: &Calibration, adc_p: i32, t_fine: i64) -> Option<u32> {
    let p1 = i128::from(calibration.p1);
    let mut var1 = i128::from(t_fine) - 128_000;
    let mut var2 = var1 * var1 * i128::from(calibration.p6);
    var2 += (var1 * i128::from(calibration.p5)) << 17;
    var2 += i128::from(calibration.p4) << 35;
    var1 = ((var1 * var1 * i128::from(calibration.p3)) >> 8)
        + ((var1 * i128::from(calibration.p2)) << 12);
    var1 = (((1i128 << 47) + var1) * p1) >> 33;
    if var1 == 0 {
        return None;
    }
    let mut pressure = 1_048_576 - i128::from(adc_p);
    pressure = (((pressure << 31) - var2) * 3125) / var1;
    let var1 = (i128::from(calibration.p9) * (pressure >> 13) * (pressure >> 13)) >> 25;
    let var2 = (i128::from(calibration.p8) * pressure) >> 19;
    pressure = ((pressure + var1 + var2) >> 8) + (i128::from(calibration.p7) << 4);
    u32::try_from(pressure).ok()
}

/// Relative humidity in %RH as Q22.10 (divide by 1024), clamped to 0–100 %.
pub fn compensate_humidity(calibration: &Calibration, adc_h: i32, t_fine: i64) -> u32 {
    let adc = i128::from(adc_h);
    let (h1, h2, h3) = (
        i128::from(calibration.h1),
        i128::from(calibration.h2),
        i128::from(calibration.h3),
    );
    let (h4, h5, h6) = (
        i128::from(calibration.h4),
        i128::from(calibration.h5),
        i128::from(calibration.h6),
    );
    let mut value = i128::from(t_fine) - 76_800;
    value = ((((adc << 14) - (h4 << 20) - (h5 * value)) + 16_384) >> 15)
        * (((((((value * h6) >> 10) * (((value * h3) >> 11) + 32_768)) >> 10) + 2_097_152) * h2
            + 8_192)
            >> 14);
    value -= ((((value >> 15) * (value >> 15)) >> 7) * h1) >> 4;
    let value = value.clamp(0, 419_430_400);
    u32::try_from(value >> 12).unwrap_or(0)
}

/// One compensated measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    pub celsius: f64,
    pub pressure_pascal: Option<f64>,
    pub humidity_percent: Option<f64>,
}

/// Compensates a raw measurement; `None` when the temperature was skipped (every other value
/// depends on it).
pub fn compensate(calibration: &Calibration, raw: &RawMeasurement) -> Option<Measurement> {
    let (hundredths, t_fine) = compensate_temperature(calibration, raw.temperature?);
    Some(Measurement {
        celsius: f64::from(hundredths) / 100.0,
        pressure_pascal: raw
            .pressure
            .and_then(|adc| compensate_pressure(calibration, adc, t_fine))
            .map(|q24_8| f64::from(q24_8) / 256.0),
        humidity_percent: raw
            .humidity
            .map(|adc| f64::from(compensate_humidity(calibration, adc, t_fine)) / 1024.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the BMP280 datasheet (BST-BMP280-DS001, section 3.12), whose
    /// temperature and pressure formulas the BME280 shares.
    fn datasheet_example() -> Calibration {
        Calibration {
            t1: 27504,
            t2: 26435,
            t3: -1000,
            p1: 36477,
            p2: -10685,
            p3: 3024,
            p4: 2855,
            p5: 140,
            p6: -7,
            p7: 15500,
            p8: -14600,
            p9: 6000,
            ..Calibration::default()
        }
    }

    #[test]
    fn temperature_matches_the_datasheet_example() {
        let (hundredths, t_fine) = compensate_temperature(&datasheet_example(), 519_888);
        // Datasheet: t_fine = 128422, T = 25.08 °C.
        assert_eq!((hundredths, t_fine), (2508, 128_422));
    }

    #[test]
    fn pressure_matches_the_datasheet_example() {
        let pressure =
            compensate_pressure(&datasheet_example(), 415_148, 128_422).expect("pressure");
        // Datasheet: p = 100653.27 Pa (floating-point version); the integer version agrees
        // to within a few hundredths of a pascal.
        let pascal = f64::from(pressure) / 256.0;
        assert!((pascal - 100_653.27).abs() < 0.05, "{pascal}");
    }

    #[test]
    fn pressure_with_a_zero_p1_is_none_not_a_division_by_zero() {
        let calibration = Calibration {
            p1: 0,
            ..datasheet_example()
        };
        assert_eq!(compensate_pressure(&calibration, 415_148, 128_422), None);
    }

    /// Calibration bytes as a BME280 holds them, so decoding is tested too.
    fn typical_registers() -> ([u8; 26], [u8; 7]) {
        let mut block_a = [0u8; 26];
        let words: [i32; 12] = [
            27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000,
        ];
        for (index, word) in words.iter().enumerate() {
            let bytes = (*word as u16).to_le_bytes();
            block_a[index * 2] = bytes[0];
            block_a[index * 2 + 1] = bytes[1];
        }
        block_a[25] = 75; // dig_H1
        // dig_H2 = 362, dig_H3 = 0, dig_H4 = 313 (0x139), dig_H5 = 50 (0x032), dig_H6 = 30.
        let block_b = [0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 30];
        (block_a, block_b)
    }

    #[test]
    fn calibration_decoding_including_the_shared_nibbles() {
        let (block_a, block_b) = typical_registers();
        let calibration = Calibration::from_registers(&block_a, &block_b);
        assert_eq!(
            calibration,
            Calibration {
                h1: 75,
                h2: 362,
                h3: 0,
                h4: 313,
                h5: 50,
                h6: 30,
                ..datasheet_example()
            }
        );
        // Negative 12-bit values keep their sign.
        let negative = Calibration::from_registers(&block_a, &[0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!((negative.h4, negative.h5, negative.h6), (-1, -1, -1));
    }

    #[test]
    fn humidity_rises_with_the_reading_and_stays_within_0_to_100() {
        let (block_a, block_b) = typical_registers();
        let calibration = Calibration::from_registers(&block_a, &block_b);
        let t_fine = 128_422;
        let values: Vec<u32> = (0..=65_535)
            .step_by(4096)
            .map(|adc| compensate_humidity(&calibration, adc, t_fine))
            .collect();
        assert!(
            values.windows(2).all(|pair| pair[0] <= pair[1]),
            "{values:?}"
        );
        assert_eq!(values.first(), Some(&0));
        assert_eq!(values.last(), Some(&(100 * 1024)));
        assert!(values.iter().any(|value| (1..100 * 1024).contains(value)));
    }

    #[test]
    fn raw_measurement_decoding_and_skipped_values() {
        // press 0x655AC (415148), temp 0x7EED0 (519888), humidity 0x6A3C.
        let data = [0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x6A, 0x3C];
        assert_eq!(
            RawMeasurement::from_registers(&data),
            RawMeasurement {
                pressure: Some(415_148),
                temperature: Some(519_888),
                humidity: Some(0x6A3C),
            }
        );
        let skipped = RawMeasurement::from_registers(&[0x80, 0, 0, 0x80, 0, 0, 0x80, 0]);
        assert_eq!(
            skipped,
            RawMeasurement {
                pressure: None,
                temperature: None,
                humidity: None
            }
        );
        assert_eq!(compensate(&datasheet_example(), &skipped), None);
    }

    #[test]
    fn garbage_calibration_never_panics() {
        for fill in [0x00u8, 0x7F, 0x80, 0xFF] {
            let calibration = Calibration::from_registers(&[fill; 26], &[fill; 7]);
            for adc in [0, 1, 0x7FFFF, 0xFFFFF] {
                let raw = RawMeasurement {
                    pressure: Some(adc),
                    temperature: Some(adc),
                    humidity: Some(adc & 0xFFFF),
                };
                let measurement = compensate(&calibration, &raw).expect("temperature present");
                assert!(measurement.celsius.is_finite());
            }
        }
    }
}
