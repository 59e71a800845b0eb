//! [`ZoneCalendar`]: the [`Calendar`] of `wizfs-core` backed by the IANA time zone database
//! (through `jiff`: the system's `/usr/share/zoneinfo` when present, else the copy bundled
//! into the binary, since the appliance image ships no `tzdata`). This is the one place that
//! knows about time zones; the planners only see local civil dates and times.

use std::fmt;

use jiff::tz::TimeZone;
use wizfs_core::Timestamp;
use wizfs_core::rotation::{Calendar, CivilDateTime};

/// A named time zone as a [`Calendar`].
#[derive(Clone, PartialEq, Eq)]
pub struct ZoneCalendar {
    name: String,
    zone: TimeZone,
}

/// The time zone name is not in the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone `{name}`: use an IANA name such as `Europe/Paris`, or `UTC`")]
pub struct UnknownTimeZone {
    /// The name asked for, escaped.
    pub name: String,
}

impl ZoneCalendar {
    /// The zone named `name` (`Europe/Paris`, `UTC`, ...).
    pub fn named(name: &str) -> Result<Self, UnknownTimeZone> {
        TimeZone::get(name)
            .map(|zone| Self {
                name: name.to_owned(),
                zone,
            })
            .map_err(|_| UnknownTimeZone {
                name: name.escape_debug().to_string(),
            })
    }

    /// The machine's local time zone (`/etc/localtime`, `TZ`), or UTC when it cannot be
    /// determined.
    pub fn system() -> Self {
        let zone = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let name = zone.iana_name().unwrap_or("UTC").to_owned();
        Self { name, zone }
    }

    /// UTC.
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            zone: TimeZone::UTC,
        }
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for ZoneCalendar {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("ZoneCalendar")
            .field(&self.name)
            .finish()
    }
}

impl Calendar for ZoneCalendar {
    fn civil(&self, time: Timestamp) -> CivilDateTime {
        // jiff covers years -9999 to 9999; beyond that, UTC fields keep the order of time.
        let Ok(instant) = jiff::Timestamp::from_second(time.seconds()) else {
            return time.to_civil_utc().into();
        };
        let local = self.zone.to_datetime(instant);
        let field = |value: i8| u8::try_from(value).unwrap_or(0);
        CivilDateTime {
            year: i64::from(local.year()),
            month: field(local.month()),
            day: field(local.day()),
            hour: field(local.hour()),
            minute: field(local.minute()),
            second: field(local.second()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(year: i64, month: u8, day: u8, hour: u8, minute: u8) -> Timestamp {
        Timestamp::utc_minute(year, month, day, hour, minute).expect("valid")
    }

    fn local(year: i64, month: u8, day: u8, hour: u8, minute: u8) -> CivilDateTime {
        CivilDateTime {
            year,
            month,
            day,
            hour,
            minute,
            second: 0,
        }
    }

    #[test]
    fn local_times_follow_the_zone_database() {
        let paris = ZoneCalendar::named("Europe/Paris").expect("zone");
        let new_york = ZoneCalendar::named("America/New_York").expect("zone");
        let kolkata = ZoneCalendar::named("Asia/Kolkata").expect("zone");
        let cases = [
            (&paris, t(2026, 10, 25, 0, 30), local(2026, 10, 25, 2, 30)),
            (&paris, t(2026, 10, 25, 1, 30), local(2026, 10, 25, 2, 30)),
            (&paris, t(2026, 3, 29, 0, 59), local(2026, 3, 29, 1, 59)),
            (&paris, t(2026, 3, 29, 1, 0), local(2026, 3, 29, 3, 0)),
            (&new_york, t(2026, 11, 1, 5, 30), local(2026, 11, 1, 1, 30)),
            (&new_york, t(2026, 11, 1, 6, 30), local(2026, 11, 1, 1, 30)),
            (&kolkata, t(2026, 11, 26, 18, 30), local(2026, 11, 27, 0, 0)),
            (
                &ZoneCalendar::utc(),
                t(2026, 11, 26, 18, 30),
                local(2026, 11, 26, 18, 30),
            ),
        ];
        for (calendar, instant, expected) in cases {
            assert_eq!(calendar.civil(instant), expected, "{calendar:?} {instant}");
        }
        let far = Timestamp(i64::MAX);
        assert_eq!(paris.civil(far), far.to_civil_utc().into());
    }

    #[test]
    fn unknown_zones_are_refused() {
        for name in ["Mars/Olympus", "", "Europe/Paris\n"] {
            let error = ZoneCalendar::named(name).expect_err(name);
            assert!(error.to_string().contains("unknown time zone"), "{error}");
        }
        assert_eq!(ZoneCalendar::named("UTC").expect("utc").name(), "UTC");
        assert!(!ZoneCalendar::system().name().is_empty());
    }
}
