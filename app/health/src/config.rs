//! The health configuration, one TOML document: how often to look, every threshold, the
//! self-test schedule, sensors, alert policy, history retention and the `[[notify]]`
//! channels. Every section and field has a default, so an empty file is a valid
//! configuration; unknown fields are errors (a typo must not silently disable an alert).
//! `docs/samples/health.toml` is the annotated example, parsed by the tests.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::alerts::AlertPolicy;
use crate::history::Retention;
use crate::notify::ChannelConfig;
use crate::pools::PoolThresholds;
use crate::sensors::SensorConfig;
use crate::smart::rules::Limits;
use crate::smart::{SelfTestPolicy, SmartThresholds};

/// How often each collector runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intervals {
    /// smartctl on every disk (sleeping disks are not woken).
    pub smart_minutes: u32,
    /// `zpool status` of every pool.
    pub pools_seconds: u32,
    /// hwmon, thermal, I2C.
    pub sensors_seconds: u32,
    /// Folding old history points ([`crate::history::History::compact`]).
    pub compact_hours: u32,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            smart_minutes: 30,
            pools_seconds: 60,
            sensors_seconds: 60,
            compact_hours: 6,
        }
    }
}

/// The whole `health.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    pub intervals: Intervals,
    pub smart: SmartThresholds,
    pub self_tests: SelfTestPolicy,
    pub pools: PoolThresholds,
    pub scrubs: crate::scrubs::ScrubPolicy,
    pub sensors: SensorConfig,
    pub alerts: AlertPolicy,
    pub history: Retention,
    /// `[[notify]]`
    pub notify: Vec<ChannelConfig>,
}

/// A configuration that does not parse or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("health configuration: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("health configuration: `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

fn invalid(field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_limits<T: PartialOrd + Copy>(field: &str, limits: &Limits<T>) -> Result<(), ConfigError> {
    match (limits.warning, limits.critical) {
        (Some(warning), Some(critical)) if warning > critical => Err(invalid(
            field,
            "the warning level is above the critical level",
        )),
        _ => Ok(()),
    }
}

impl HealthConfig {
    /// Parses and checks a configuration.
    pub fn from_toml(text: &str) -> Result<HealthConfig, ConfigError> {
        let config: HealthConfig = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types cannot: levels in order, non-zero intervals, unique channel names.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let intervals = [
            ("intervals.smart_minutes", self.intervals.smart_minutes),
            ("intervals.pools_seconds", self.intervals.pools_seconds),
            ("intervals.sensors_seconds", self.intervals.sensors_seconds),
            ("intervals.compact_hours", self.intervals.compact_hours),
        ];
        for (field, value) in intervals {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        let temperature = &self.smart.temperature;
        for (field, limits) in [
            ("smart.temperature.hdd", &temperature.hdd),
            ("smart.temperature.ssd", &temperature.ssd),
            ("smart.temperature.nvme", &temperature.nvme),
        ] {
            check_limits(field, limits)?;
        }
        for (field, limits) in [
            ("smart.reallocated_sectors", &self.smart.reallocated_sectors),
            ("smart.pending_sectors", &self.smart.pending_sectors),
            (
                "smart.offline_uncorrectable",
                &self.smart.offline_uncorrectable,
            ),
            (
                "smart.reported_uncorrectable",
                &self.smart.reported_uncorrectable,
            ),
            ("smart.command_timeouts", &self.smart.command_timeouts),
            ("smart.scsi_grown_defects", &self.smart.scsi_grown_defects),
            (
                "smart.scsi_uncorrected_errors",
                &self.smart.scsi_uncorrected_errors,
            ),
            ("pools.vdev_errors", &self.pools.vdev_errors),
        ] {
            check_limits(field, limits)?;
        }
        check_limits(
            "smart.nvme_percentage_used",
            &self.smart.nvme_percentage_used,
        )?;
        check_limits("smart.nvme_media_errors", &self.smart.nvme_media_errors)?;
        check_limits("pools.capacity_percent", &self.pools.capacity_percent)?;
        check_limits(
            "pools.fragmentation_percent",
            &self.pools.fragmentation_percent,
        )?;
        check_limits("pools.scrub_age_days", &self.pools.scrub_age_days)?;
        if self.history.daily_days != 0 && self.history.daily_days < self.history.hourly_days {
            return Err(invalid(
                "history.daily_days",
                "daily aggregates must be kept at least as long as hourly ones (or 0 = forever)",
            ));
        }
        if self.history.hourly_days < self.history.raw_days {
            return Err(invalid(
                "history.hourly_days",
                "hourly aggregates must be kept at least as long as raw points",
            ));
        }
        let mut names = BTreeSet::new();
        for channel in &self.notify {
            if !names.insert(channel.name()) {
                return Err(invalid(
                    "notify.name",
                    format!("two channels are named `{}`", channel.name()),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    #[test]
    fn an_empty_file_is_the_default() {
        assert_eq!(
            HealthConfig::from_toml("").expect("parses"),
            HealthConfig::default()
        );
    }

    #[test]
    fn the_documented_sample_parses_with_every_section() {
        let text = include_str!("../../../docs/samples/health.toml");
        let config = HealthConfig::from_toml(text).expect("the sample parses");
        assert_eq!(config.notify.len(), 4);
        let names: Vec<_> = config.notify.iter().map(ChannelConfig::name).collect();
        assert_eq!(names, ["mail", "hook", "phone", "desk"]);
        assert_eq!(config.notify[2].min_severity(), Severity::Critical);
        assert!(
            matches!(&config.notify[3], ChannelConfig::Gotify(gotify) if gotify.url == "https://gotify.example.org"),
            "{:?}",
            config.notify[3]
        );
        assert_eq!(config.sensors.i2c.len(), 2);
        assert_eq!(config.smart.temperature.hdd.critical, Some(55.0));
        assert_eq!(config.pools.scrub_age_days.warning, Some(35));
        assert_eq!(config.alerts.reminder_hours, Some(24));
    }

    #[test]
    fn mistakes_are_reported() {
        let cases = [
            (
                "[smart]\nreallocated_sector = { warning = 1 }\n",
                "unknown field",
            ),
            (
                "[pools]\ncapacity_percent = { warning = 95, critical = 90 }\n",
                "pools.capacity_percent",
            ),
            (
                "[intervals]\nsmart_minutes = 0\n",
                "intervals.smart_minutes",
            ),
            (
                "[history]\nraw_days = 30\nhourly_days = 7\n",
                "history.hourly_days",
            ),
            (
                "[[notify]]\ntype = \"webhook\"\nname = \"a\"\nurl = \"https://x\"\n[[notify]]\ntype = \"webhook\"\nname = \"a\"\nurl = \"https://y\"\n",
                "two channels",
            ),
            ("[[notify]]\ntype = \"pigeon\"\nname = \"a\"\n", "pigeon"),
            (
                "[[notify]]\ntype = \"ntfy\"\nname = \"a\"\nserver = \"https://ntfy.sh\"\ntopic = \"t\"\npriority = 5\n",
                "priority",
            ),
            (
                "[[notify]]\ntype = \"gotify\"\nname = \"a\"\nurl = \"https://g\"\npriority = 5\n",
                "priority",
            ),
        ];
        for (text, expected) in cases {
            let error = HealthConfig::from_toml(text).expect_err(text);
            assert!(error.to_string().contains(expected), "{text}: {error}");
        }
    }
}
