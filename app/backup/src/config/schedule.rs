//! When a backup job runs: by hand only, or once per bucket of a tier of the snapshot
//! policies' language (`"every 15 minutes"`, `"hourly"`, `"daily"`, `"weekly"`,
//! `"monthly"`), counted in the job's time zone. Like snapshot policies, a job that missed
//! buckets (the machine was off) runs once, not once per missed bucket, and a clock that went
//! backwards does not make it run again and again.

use std::fmt;

use wizfs_core::Timestamp;
use wizfs_core::rotation::{Calendar, Tier};

/// A job's schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// Only when asked (`wizfs backup run`, the console's "run now").
    Manual,
    /// Once in every bucket of this tier.
    Every(Tier),
}

impl Schedule {
    /// Reads `manual`, `hourly`, `daily`, `weekly`, `monthly`, or `every N minutes`
    /// (1–1440); `None` for anything else.
    pub fn parse(text: &str) -> Option<Schedule> {
        let lower = text.trim().to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        Some(match words.as_slice() {
            ["manual"] => Schedule::Manual,
            ["hourly"] => Schedule::Every(Tier::Hourly),
            ["daily"] => Schedule::Every(Tier::Daily),
            ["weekly"] => Schedule::Every(Tier::Weekly),
            ["monthly"] => Schedule::Every(Tier::Monthly),
            ["every", minutes, "minute" | "minutes"] => {
                let period_minutes: u32 = minutes.parse().ok()?;
                if !(1..=1440).contains(&period_minutes) {
                    return None;
                }
                Schedule::Every(Tier::Frequently { period_minutes })
            }
            _ => return None,
        })
    }

    /// Whether a run is due at `now`, given when the last run started: when there was none,
    /// or `now` is in another bucket of the tier than the last run (earlier, after a clock
    /// jump, counts too: one run, after which they share a bucket again).
    pub fn is_due(
        &self,
        last_run: Option<Timestamp>,
        now: Timestamp,
        calendar: &dyn Calendar,
    ) -> bool {
        match self {
            Schedule::Manual => false,
            Schedule::Every(tier) => last_run.is_none_or(|last| {
                tier.bucket(last, &calendar.civil(last)) != tier.bucket(now, &calendar.civil(now))
            }),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Manual => formatter.write_str("manual"),
            Schedule::Every(Tier::Frequently { period_minutes }) => {
                write!(formatter, "every {period_minutes} minutes")
            }
            Schedule::Every(tier) => formatter.write_str(tier.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wizfs_core::rotation::UtcCalendar;

    #[test]
    fn words_and_their_round_trip() {
        for text in [
            "manual",
            "hourly",
            "daily",
            "weekly",
            "monthly",
            "every 15 minutes",
        ] {
            let schedule = Schedule::parse(text).expect(text);
            assert_eq!(schedule.to_string(), text);
        }
        assert_eq!(
            Schedule::parse(" Every 1 minute "),
            Some(Schedule::Every(Tier::Frequently { period_minutes: 1 }))
        );
        for bad in [
            "",
            "yearly",
            "every 0 minutes",
            "every 1441 minutes",
            "often",
        ] {
            assert_eq!(Schedule::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn due_once_per_bucket_never_by_hand_only() {
        // 2026-12-07T05:00:00Z.
        let now = Timestamp(1_796_619_600);
        let hourly = Schedule::Every(Tier::Hourly);
        let calendar = UtcCalendar;
        assert!(hourly.is_due(None, now, &calendar));
        assert!(!hourly.is_due(Some(Timestamp(now.0 + 59 * 60)), now, &calendar));
        assert!(hourly.is_due(Some(Timestamp(now.0 - 1)), now, &calendar));
        assert!(hourly.is_due(Some(Timestamp(now.0 - 30 * 86_400)), now, &calendar));
        // A clock that went back: one run, then quiet within the bucket.
        assert!(hourly.is_due(Some(Timestamp(now.0 + 7200)), now, &calendar));
        assert!(!Schedule::Manual.is_due(None, now, &calendar));
    }
}
