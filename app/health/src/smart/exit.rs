//! smartctl's exit status, which is a bitmask and not a success/failure flag (`man smartctl`,
//! EXIT STATUS). Bits 0 and 1 mean smartctl could not read the device at all (bad command
//! line; open failed, no IDENTIFY data, or the disk is asleep under `-n standby`); bits 2–7
//! report what it found while reading, and the JSON still carries the data. Treating every
//! non-zero exit as a failure would hide exactly the disks that are failing.

use serde::{Deserialize, Serialize};

/// The decoded bitmask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExitStatus(pub u8);

impl ExitStatus {
    /// Takes the process exit code (0–255); anything outside that range (a negative code, a
    /// death by signal mapped to `None` by the caller) is not a smartctl status.
    pub fn from_code(code: i64) -> Option<ExitStatus> {
        u8::try_from(code).ok().map(ExitStatus)
    }

    fn bit(self, bit: u8) -> bool {
        self.0 & (1 << bit) != 0
    }

    /// Bit 0: the command line did not parse.
    pub fn command_line_error(self) -> bool {
        self.bit(0)
    }

    /// Bit 1: the device could not be opened, did not answer IDENTIFY, or is in a low-power
    /// mode and `-n` told smartctl not to wake it.
    pub fn device_open_failed(self) -> bool {
        self.bit(1)
    }

    /// Bit 2: some SMART or other command failed, or a checksum error in a SMART data
    /// structure; the rest of the data is still there.
    pub fn command_failed(self) -> bool {
        self.bit(2)
    }

    /// Bit 3: SMART status check returned "DISK FAILING".
    pub fn disk_failing(self) -> bool {
        self.bit(3)
    }

    /// Bit 4: prefail attributes are at or below their threshold now.
    pub fn prefail_below_threshold(self) -> bool {
        self.bit(4)
    }

    /// Bit 5: some attributes were at or below their threshold at some time in the past.
    pub fn attributes_below_threshold_in_past(self) -> bool {
        self.bit(5)
    }

    /// Bit 6: the device error log contains records of errors.
    pub fn error_log_has_errors(self) -> bool {
        self.bit(6)
    }

    /// Bit 7: the device self-test log contains records of errors.
    pub fn self_test_log_has_errors(self) -> bool {
        self.bit(7)
    }

    /// Whether the JSON carries device data (neither bit 0 nor bit 1).
    pub fn has_data(self) -> bool {
        !self.command_line_error() && !self.device_open_failed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bit_is_decoded_on_its_own() {
        type Getter = fn(ExitStatus) -> bool;
        let getters: [(u8, Getter); 8] = [
            (0, ExitStatus::command_line_error),
            (1, ExitStatus::device_open_failed),
            (2, ExitStatus::command_failed),
            (3, ExitStatus::disk_failing),
            (4, ExitStatus::prefail_below_threshold),
            (5, ExitStatus::attributes_below_threshold_in_past),
            (6, ExitStatus::error_log_has_errors),
            (7, ExitStatus::self_test_log_has_errors),
        ];
        for (set_bit, _) in getters {
            let status = ExitStatus(1 << set_bit);
            for (bit, getter) in getters {
                assert_eq!(
                    getter(status),
                    bit == set_bit,
                    "bit {bit} of status {}",
                    status.0
                );
            }
        }
    }

    #[test]
    fn only_bits_zero_and_one_mean_no_data() {
        let cases = [
            (0, true),
            (1, false),
            (2, false),
            (3, false),
            (4, true),
            (8, true),
            // smart-fail2.json: failing, prefail now, error log and self-test log errors.
            (216, true),
            (64 | 128, true),
            (2 | 64, false),
        ];
        for (code, has_data) in cases {
            assert_eq!(ExitStatus(code).has_data(), has_data, "exit status {code}");
        }
    }

    #[test]
    fn codes_outside_a_byte_are_not_statuses() {
        assert_eq!(ExitStatus::from_code(216), Some(ExitStatus(216)));
        assert_eq!(ExitStatus::from_code(-1), None);
        assert_eq!(ExitStatus::from_code(256), None);
    }
}
