//! Guard snapshots and their lifetime: the pure decision of which guard snapshots have
//! expired. A restore in place takes a guard snapshot first (named by
//! [`guard_snapshot_name`], marked with the user property `wizfs:guard=restore`); kept
//! forever they would pin the data every restore replaced. [`plan_guard_expiry`] says, for
//! the snapshots a listing gave and the time `now`, which are WiZFS's guards, which of them
//! have outlived their [`GuardLifetime`] and may go, and which stay (young, or held: a held
//! snapshot is never destroyed). The executor (`wizfs_restore::prune_guard_snapshots`) lists
//! and destroys.
//!
//! A snapshot is a guard only when its name is one [`guard_snapshot_name`] makes — for the
//! time written in the name and the attempt in its suffix, on its own dataset — **and** it
//! carries `wizfs:guard=restore`: user properties are inherited from the dataset, so the
//! property alone could make an administrator's own snapshot look like a guard. The last,
//! shortest name forms (`g`, `g2`, … for dataset names of more than 241 bytes) are not
//! recognised: such guards are simply kept.

use std::num::NonZeroU64;

use crate::model::{CivilDateTimeUtc, Timestamp};
use crate::names::SnapshotName;
use crate::restore::guard_snapshot_name;

#[cfg(test)]
mod tests;

/// The value of the `wizfs:guard` property on a guard snapshot.
pub const GUARD_PROPERTY_VALUE: &str = "restore";

const SECONDS_PER_DAY: u64 = 86_400;

/// How long a guard snapshot is kept after its creation; never zero (keeping guards forever
/// is the caller's choice not to prune at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuardLifetime {
    seconds: NonZeroU64,
}

impl GuardLifetime {
    /// The default lifetime in days.
    pub const DEFAULT_DAYS: u32 = 30;

    /// A lifetime of `days` days; `None` for zero.
    pub fn days(days: u32) -> Option<GuardLifetime> {
        GuardLifetime::seconds(u64::from(days) * SECONDS_PER_DAY)
    }

    /// A lifetime of `seconds` seconds; `None` for zero.
    pub fn seconds(seconds: u64) -> Option<GuardLifetime> {
        NonZeroU64::new(seconds).map(|seconds| GuardLifetime { seconds })
    }

    /// The lifetime in seconds.
    pub fn as_seconds(self) -> u64 {
        self.seconds.get()
    }

    /// When a guard created at `creation` expires.
    pub fn expiry(self, creation: Timestamp) -> Timestamp {
        let seconds = i64::try_from(self.seconds.get()).unwrap_or(i64::MAX);
        Timestamp(creation.seconds().saturating_add(seconds))
    }
}

impl Default for GuardLifetime {
    /// [`GuardLifetime::DEFAULT_DAYS`] days.
    fn default() -> GuardLifetime {
        const DEFAULT: NonZeroU64 =
            match NonZeroU64::new(GuardLifetime::DEFAULT_DAYS as u64 * SECONDS_PER_DAY) {
                Some(seconds) => seconds,
                None => NonZeroU64::MIN,
            };
        GuardLifetime { seconds: DEFAULT }
    }
}

/// One snapshot as a listing describes it (any snapshot: the planner picks the guards).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardCandidate {
    pub name: SnapshotName,
    /// `creation`.
    pub creation: Timestamp,
    /// `userrefs`: the number of holds.
    pub user_refs: u64,
    /// The value of `wizfs:guard` (`None` when unset).
    pub guard_property: Option<String>,
}

/// What happens to one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardVerdict {
    /// Not a guard snapshot of WiZFS (name or property): never touched.
    NotAGuard,
    /// A guard that has not reached its expiry yet (also one dated in the future, after the
    /// clock went back): kept.
    Young { expires: Timestamp },
    /// A held guard: kept whatever its age, as long as it is held.
    Held { expires: Timestamp, holds: u64 },
    /// A guard past its expiry and not held: to be destroyed.
    Expired { expired: Timestamp },
}

/// One snapshot and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardDecision {
    pub name: SnapshotName,
    pub creation: Timestamp,
    pub verdict: GuardVerdict,
}

/// The decisions for every guard snapshot among the candidates, in the candidates' order
/// (snapshots that are no guards are left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardPlan {
    pub guards: Vec<GuardDecision>,
}

impl GuardPlan {
    /// The guards to destroy.
    pub fn expired(&self) -> impl Iterator<Item = &SnapshotName> {
        self.guards
            .iter()
            .filter(|decision| matches!(decision.verdict, GuardVerdict::Expired { .. }))
            .map(|decision| &decision.name)
    }

    /// The guards kept because they are held.
    pub fn held(&self) -> impl Iterator<Item = &SnapshotName> {
        self.guards
            .iter()
            .filter(|decision| matches!(decision.verdict, GuardVerdict::Held { .. }))
            .map(|decision| &decision.name)
    }
}

/// The verdict on one snapshot at `now`. A guard expires when `now` reaches its creation
/// plus `lifetime`.
pub fn guard_verdict(
    candidate: &GuardCandidate,
    now: Timestamp,
    lifetime: GuardLifetime,
) -> GuardVerdict {
    if candidate.guard_property.as_deref() != Some(GUARD_PROPERTY_VALUE)
        || !is_guard_snapshot_name(&candidate.name)
    {
        return GuardVerdict::NotAGuard;
    }
    let expires = lifetime.expiry(candidate.creation);
    if candidate.user_refs > 0 {
        GuardVerdict::Held {
            expires,
            holds: candidate.user_refs,
        }
    } else if now < expires {
        GuardVerdict::Young { expires }
    } else {
        GuardVerdict::Expired { expired: expires }
    }
}

/// Which of `candidates` are guard snapshots, and which of those have expired at `now`.
pub fn plan_guard_expiry(
    candidates: &[GuardCandidate],
    now: Timestamp,
    lifetime: GuardLifetime,
) -> GuardPlan {
    GuardPlan {
        guards: candidates
            .iter()
            .filter_map(|candidate| {
                let verdict = guard_verdict(candidate, now, lifetime);
                (verdict != GuardVerdict::NotAGuard).then(|| GuardDecision {
                    name: candidate.name.clone(),
                    creation: candidate.creation,
                    verdict,
                })
            })
            .collect(),
    }
}

/// Whether `name` is a name [`guard_snapshot_name`] makes for its dataset: the time and the
/// attempt are read back from the name (`wizfs-guard-<UTC seconds or minute>[-N]` or
/// `wg-<unix seconds>[-N]`) and the name is made again from them; only an exact match
/// counts. So `-1`, `-02`, impossible dates, or the minute form where the seconds form fits
/// are no guard names.
pub fn is_guard_snapshot_name(name: &SnapshotName) -> bool {
    let Some((time, attempt)) = parse_guard_name(name.short_name()) else {
        return false;
    };
    guard_snapshot_name(name.dataset(), time, attempt).as_ref() == Some(name)
}

/// The time and attempt a guard name claims, if it has a guard name's shape.
fn parse_guard_name(short: &str) -> Option<(Timestamp, u32)> {
    if let Some(rest) = short.strip_prefix("wizfs-guard-") {
        let (stamp, suffix) = split_suffix(rest);
        let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
        if date.len() != 8 || !(time.len() == 6 || time.len() == 4) {
            return None;
        }
        let civil = CivilDateTimeUtc {
            year: digits(date.get(0..4)?)?,
            month: digits(date.get(4..6)?)?,
            day: digits(date.get(6..8)?)?,
            hour: digits(time.get(0..2)?)?,
            minute: digits(time.get(2..4)?)?,
            second: match time.get(4..6) {
                Some(seconds) => digits(seconds)?,
                None => 0,
            },
        };
        return Some((Timestamp::from_civil_utc(civil)?, attempt_of(suffix)?));
    }
    let (seconds, suffix) = split_suffix(short.strip_prefix("wg-")?);
    Some((Timestamp(digits(seconds)?), attempt_of(suffix)?))
}

/// `"<stamp>-<n>"` → `("<stamp>", Some("<n>"))`, `"<stamp>"` → `("<stamp>", None)`.
fn split_suffix(text: &str) -> (&str, Option<&str>) {
    match text.split_once('-') {
        Some((stamp, number)) => (stamp, Some(number)),
        None => (text, None),
    }
}

/// A non-empty run of ASCII digits as a number (no sign, no spaces).
fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The attempt a suffix stands for: none is attempt 0, `-N` attempt N − 1 (N ≥ 2; the
/// exact spelling is checked by making the name again).
fn attempt_of(suffix: Option<&str>) -> Option<u32> {
    match suffix {
        None => Some(0),
        Some(number) => digits::<u32>(number)?
            .checked_sub(1)
            .filter(|attempt| *attempt > 0),
    }
}
