//! When a policy takes its next snapshot, what it is called, and when a run is skipped as
//! empty: pure functions of the policy, the time of its last snapshot and `now`.
//!
//! A policy is due once per bucket of its finest tier (see
//! [`RetentionPolicy::schedule_tier`]): after downtime it catches up with **one** snapshot,
//! not one per missed bucket; when the clock went backwards (the last snapshot is dated in a
//! later bucket than now) it takes one snapshot, after which the last snapshot is in the
//! current bucket again, so there is never a burst. Names carry the scheduler's time in UTC,
//! to the minute: `wizfs-<policy>-20261126T110000Z`.

use super::{Calendar, PolicyId, RetentionPolicy};
use crate::model::{CivilDateTimeUtc, Timestamp};

/// Why a policy is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DueReason {
    /// It has no snapshot yet.
    First,
    /// A new bucket of its finest tier began since its last snapshot.
    NextSlot,
    /// Its last snapshot is more than two buckets old (the machine was off, or runs failed):
    /// one snapshot now, not one per missed bucket.
    AfterDowntime,
    /// Its last snapshot is dated in a later bucket than now: the clock went backwards.
    ClockBehindNewest,
}

impl DueReason {
    /// A short explanation.
    pub fn describe(self) -> &'static str {
        match self {
            DueReason::First => "first snapshot",
            DueReason::NextSlot => "next slot",
            DueReason::AfterDowntime => "catching up once after downtime",
            DueReason::ClockBehindNewest => "clock is behind the newest snapshot",
        }
    }
}

/// A policy's next snapshot, due now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Due {
    /// The time the snapshot stands for (and its name carries): `now` to the minute.
    pub at: Timestamp,
    /// Why it is due.
    pub reason: DueReason,
}

/// Whether `policy` should take a snapshot at `now`, given the time of its newest snapshot
/// (the one ZFS created last, by `createtxg`) or of its last run skipped as empty.
pub fn due(
    policy: &RetentionPolicy,
    last: Option<Timestamp>,
    now: Timestamp,
    calendar: &dyn Calendar,
) -> Option<Due> {
    let tier = policy.schedule_tier()?;
    let at = Timestamp(now.seconds() - now.seconds().rem_euclid(60));
    let Some(last) = last else {
        return Some(Due {
            at,
            reason: DueReason::First,
        });
    };
    let bucket_now = tier.bucket(now, &calendar.civil(now));
    let bucket_last = tier.bucket(last, &calendar.civil(last));
    let reason = if bucket_last == bucket_now {
        return None;
    } else if bucket_last > bucket_now {
        DueReason::ClockBehindNewest
    } else if now.seconds().saturating_sub(last.seconds()) > 2 * tier.nominal_seconds() {
        DueReason::AfterDowntime
    } else {
        DueReason::NextSlot
    };
    Some(Due { at, reason })
}

const NAME_PREFIX: &str = "wizfs-";

/// The short name of the snapshot `policy` takes for `at`:
/// `wizfs-<policy>-YYYYMMDDTHHMMSSZ` (UTC).
pub fn snapshot_short_name(policy: &PolicyId, at: Timestamp) -> String {
    let civil = at.to_civil_utc();
    format!(
        "{NAME_PREFIX}{policy}-{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    )
}

/// The time in a name made by [`snapshot_short_name`] for `policy`; `None` for any other
/// name.
pub fn parse_snapshot_time(policy: &PolicyId, short_name: &str) -> Option<Timestamp> {
    let stamp = short_name
        .strip_prefix(NAME_PREFIX)?
        .strip_prefix(policy.as_str())?
        .strip_prefix('-')?;
    let bytes = stamp.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let text = stamp.get(range)?;
        if text.bytes().all(|byte| byte.is_ascii_digit()) {
            text.parse().ok()
        } else {
            None
        }
    };
    let small = |range| digits(range).and_then(|value| u8::try_from(value).ok());
    Timestamp::from_civil_utc(CivilDateTimeUtc {
        year: digits(0..4)?,
        month: small(4..6)?,
        day: small(6..8)?,
        hour: small(9..11)?,
        minute: small(11..13)?,
        second: small(13..15)?,
    })
}

/// The time a snapshot stands for: the one in its name when `policy` made it, else its
/// `creation`.
pub fn snapshot_time(
    policy: Option<&PolicyId>,
    short_name: &str,
    creation: Timestamp,
) -> Timestamp {
    policy
        .and_then(|policy| parse_snapshot_time(policy, short_name))
        .unwrap_or(creation)
}

/// Whether a due run of `policy` is skipped because nothing was written: `written` holds
/// the `written` property of every dataset the snapshot would cover, and the run is
/// skipped only when all of them are 0 (a recursive policy snapshots the whole tree as soon
/// as one dataset changed). A policy's first snapshot is never skipped: there is nothing
/// it would repeat.
pub fn skip_as_empty(policy: &RetentionPolicy, due: &Due, written: &[u64]) -> bool {
    policy.skip_empty
        && due.reason != DueReason::First
        && !written.is_empty()
        && written.iter().all(|&bytes| bytes == 0)
}
