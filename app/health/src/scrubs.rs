//! Scrub scheduling: which pools to start a scrub on now, a pure function of the pools'
//! last scans and the `[scrubs]` policy. A scrub reads every block and checks it against
//! its checksum, the only way ZFS finds silent corruption before a disk failure turns it
//! into data loss; OpenZFS's own packages default to a monthly scrub (Debian's cron job on
//! the second Sunday), which is this policy's default too.

use serde::{Deserialize, Serialize};
use wizfs_core::model::PoolHealth;

use crate::Timestamp;
use crate::pools::{PoolStatus, ScanFunction, ScanState};

const DAY_SECONDS: i64 = 24 * 60 * 60;

/// `[scrubs]` of the health configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrubPolicy {
    pub enabled: bool,
    /// Days between scrubs of a pool (counted from the end of the last finished one).
    pub every_days: u32,
    /// Scrubs running at once across all pools (they compete for the same disks when
    /// pools share a controller).
    pub max_concurrent: u32,
    /// Start only during these UTC hours, `[start, end)` (wrapping past midnight when
    /// `start > end`); `None`: any time.
    pub window_utc_hours: Option<(u8, u8)>,
    /// A scrub the administrator canceled is not restarted for this many days.
    pub respect_cancel_days: u32,
}

impl Default for ScrubPolicy {
    fn default() -> Self {
        ScrubPolicy {
            enabled: true,
            every_days: 30,
            max_concurrent: 1,
            window_utc_hours: None,
            respect_cancel_days: 1,
        }
    }
}

/// Why a pool is (or is not) due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScrubDecision {
    /// Start a scrub now.
    Start,
    /// Not yet: the last scrub is recent.
    Recent,
    /// A scrub or resilver is running.
    Scanning,
    /// The pool cannot be scrubbed in its state (faulted, unavailable, suspended).
    Unavailable,
    /// Canceled recently by the administrator.
    CanceledRecently,
    /// Due, but outside the window or beyond `max_concurrent`.
    Waiting,
    /// Scheduling is off.
    Disabled,
}

/// One decision per pool (in the order given), oldest-scrubbed pools first among the due
/// ones when `max_concurrent` limits how many start.
pub fn plan_scrubs(
    pools: &[PoolStatus],
    policy: &ScrubPolicy,
    now: Timestamp,
) -> Vec<(String, ScrubDecision)> {
    let mut decisions: Vec<(String, ScrubDecision, i64)> = pools
        .iter()
        .map(|pool| {
            let (decision, age) = decide(pool, policy, now);
            (pool.name.clone(), decision, age)
        })
        .collect();
    let running = decisions
        .iter()
        .filter(|(_, decision, _)| *decision == ScrubDecision::Scanning)
        .count();
    let mut slots = usize::try_from(policy.max_concurrent)
        .unwrap_or(usize::MAX)
        .saturating_sub(running);
    let in_window = policy
        .window_utc_hours
        .is_none_or(|window| in_window(window, now));
    // Oldest first: a pool never scrubbed has age `i64::MAX`.
    let mut due: Vec<usize> = (0..decisions.len())
        .filter(|&index| decisions[index].1 == ScrubDecision::Start)
        .collect();
    due.sort_by_key(|&index| std::cmp::Reverse(decisions[index].2));
    for index in due {
        if in_window && slots > 0 {
            slots -= 1;
        } else {
            decisions[index].1 = ScrubDecision::Waiting;
        }
    }
    decisions
        .into_iter()
        .map(|(name, decision, _)| (name, decision))
        .collect()
}

/// The decision for one pool before the window and concurrency limits, and the age in
/// seconds of its last finished scrub (`i64::MAX` when unknown).
fn decide(pool: &PoolStatus, policy: &ScrubPolicy, now: Timestamp) -> (ScrubDecision, i64) {
    if !policy.enabled {
        return (ScrubDecision::Disabled, 0);
    }
    if !matches!(pool.state, PoolHealth::Online | PoolHealth::Degraded) {
        return (ScrubDecision::Unavailable, 0);
    }
    let Some(scan) = &pool.scrub else {
        return (ScrubDecision::Start, i64::MAX);
    };
    match (scan.function, scan.state) {
        (_, ScanState::Scanning) => (ScrubDecision::Scanning, 0),
        (ScanFunction::Scrub, ScanState::Canceled) => {
            let since = scan.ended.map_or(i64::MAX, |ended| {
                now.seconds().saturating_sub(ended.seconds())
            });
            if since < i64::from(policy.respect_cancel_days) * DAY_SECONDS {
                (ScrubDecision::CanceledRecently, 0)
            } else {
                (ScrubDecision::Start, i64::MAX)
            }
        }
        // A resilver reads only what the new disk needs, so it is no scrub; a canceled
        // resilver neither. When the last scan was one, the last scrub is unknown.
        (ScanFunction::Resilver, _) => (ScrubDecision::Start, i64::MAX),
        (ScanFunction::Scrub, ScanState::Finished) => {
            let age = scan.ended.map_or(i64::MAX, |ended| {
                now.seconds().saturating_sub(ended.seconds())
            });
            if age >= i64::from(policy.every_days) * DAY_SECONDS {
                (ScrubDecision::Start, age)
            } else {
                (ScrubDecision::Recent, age)
            }
        }
    }
}

fn in_window((start, end): (u8, u8), now: Timestamp) -> bool {
    let hour = now.to_civil_utc().hour;
    if start <= end {
        (start..end).contains(&hour)
    } else {
        hour >= start || hour < end
    }
}

#[cfg(test)]
mod tests;
