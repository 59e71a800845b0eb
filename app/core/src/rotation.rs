//! Snapshot rotation as pure decisions: which snapshots a set of retention policies keeps,
//! which it destroys and why; when a policy is due for its next snapshot
//! ([`schedule`]); and what to prune when a pool falls below a free-space floor
//! ([`free_space`]).
//!
//! This file exists so that "never lose the wrong snapshot" is decided in one place, over
//! plain data, and proven by table tests rather than by hoping the executor behaves. The
//! executor (`wizfs-snapshots`) lists snapshots, calls these functions and carries out the
//! returned plan.
//!
//! # The model (after zrepl's pure pruning and sanoid's tiers)
//!
//! * A policy takes **one snapshot per run**, at the pace of its finest tier, and each tier
//!   (`frequently` every N minutes, `hourly`, `daily`, `weekly` (ISO weeks, Monday first),
//!   `monthly`, `yearly`) keeps the newest snapshot of each of its last `keep` buckets that
//!   hold a snapshot. Counting buckets that hold a snapshot (not calendar buckets back from
//!   now) means a machine that was off for a week still keeps `keep` snapshots per tier.
//! * Buckets are computed in local civil time through a [`Calendar`]: this crate knows
//!   nothing about time zones. Hourly buckets are keyed by the instant their local hour
//!   starts, so the hour repeated when clocks fall back gives two buckets and the hour
//!   skipped when they spring forward gives none; days, weeks, months and years are local.
//! * "Newest in a bucket" is the highest `createtxg`, the order ZFS really created them in,
//!   so a clock that jumped backwards cannot make an older snapshot win over a newer one.
//! * A snapshot whose time is after `now` ("from the future", left by a clock that jumped
//!   back) is kept and counted towards the minimum, but occupies no bucket, so it cannot push
//!   the snapshots made since out of their tiers.
//! * Only snapshots managed by a policy covering their dataset are ever destroyed; held ones
//!   never (a backup's incremental base is held); a snapshot kept by any covering policy is
//!   kept (overlapping policies: a snapshot lives until the longest-keeping one lets go), and
//!   each policy keeps at least `min_keep` of its own snapshots per dataset.

pub mod free_space;
pub mod schedule;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{CivilDateTimeUtc, Snapshot, Timestamp};
use crate::names::{DatasetName, SnapshotName};

pub use free_space::{FreeSpacePrune, PoolSpace, floor_reached, plan_free_space};
pub use schedule::{
    Due, DueReason, due, parse_snapshot_time, skip_as_empty, snapshot_short_name, snapshot_time,
};

/// A local wall-clock date and time, as a [`Calendar`] sees an instant (proleptic Gregorian;
/// the same fields as [`CivilDateTimeUtc`], in the calendar's time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDateTime {
    /// The year, possibly zero or negative.
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

impl From<CivilDateTimeUtc> for CivilDateTime {
    fn from(utc: CivilDateTimeUtc) -> Self {
        Self {
            year: utc.year,
            month: utc.month,
            day: utc.day,
            hour: utc.hour,
            minute: utc.minute,
            second: utc.second,
        }
    }
}

impl CivilDateTime {
    /// Days from 1970-01-01 to this local date (as if it were a UTC date); `None` when the
    /// fields are out of range.
    fn local_day_number(&self) -> Option<i64> {
        let midnight = Timestamp::from_civil_utc(CivilDateTimeUtc {
            year: self.year,
            month: self.month,
            day: self.day,
            hour: 0,
            minute: 0,
            second: 0,
        })?;
        Some(midnight.seconds().div_euclid(SECONDS_PER_DAY))
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// How instants map to local wall-clock time. Implemented with a real time zone database
/// outside this crate; [`UtcCalendar`] for UTC.
pub trait Calendar {
    /// The local date and time at `time`.
    fn civil(&self, time: Timestamp) -> CivilDateTime;
}

/// The calendar of UTC (no offsets, no daylight saving).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UtcCalendar;

impl Calendar for UtcCalendar {
    fn civil(&self, time: Timestamp) -> CivilDateTime {
        time.to_civil_utc().into()
    }
}

/// Longest policy identifier, in bytes.
pub const MAXIMUM_POLICY_ID_LENGTH: usize = 64;

/// A policy identifier: 1–64 ASCII letters, digits, `_`, `.` or `-`, starting with a letter
/// or digit. It appears in snapshot names (`wizfs-<id>-20261126T110000Z`) and as the value of
/// the `wizfs:managed` user property, so it is restricted to characters both accept.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyId(String);

/// Why a string is not a policy identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyIdError {
    /// The identifier is empty.
    #[error("policy id is empty")]
    Empty,
    /// The identifier is too long.
    #[error("policy id `{id}` is {length} bytes long; the limit is {MAXIMUM_POLICY_ID_LENGTH}")]
    TooLong {
        /// The identifier, escaped.
        id: String,
        /// Its length in bytes.
        length: usize,
    },
    /// The identifier has a character outside the allowed set, or starts with one that may
    /// only follow.
    #[error(
        "policy id `{id}` has {character:?} at byte {position}; use letters, digits, `_`, `.` \
         and `-`, starting with a letter or digit"
    )]
    InvalidCharacter {
        /// The identifier, escaped.
        id: String,
        /// The offending character.
        character: char,
        /// Its byte offset.
        position: usize,
    },
}

/// What is wrong with an identifier of the shape policies and backup jobs share: 1 to
/// `maximum` bytes of ASCII letters, digits, `_`, `.` or `-`, starting with a letter or digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentifierProblem {
    Empty,
    TooLong { length: usize },
    InvalidCharacter { character: char, position: usize },
}

/// Checks `id` against that shape.
pub(crate) fn check_identifier(id: &str, maximum: usize) -> Result<(), IdentifierProblem> {
    if id.is_empty() {
        return Err(IdentifierProblem::Empty);
    }
    if id.len() > maximum {
        return Err(IdentifierProblem::TooLong { length: id.len() });
    }
    let bad = id.char_indices().find(|&(position, character)| {
        let allowed_anywhere = character.is_ascii_alphanumeric();
        let allowed_after_first = matches!(character, '_' | '.' | '-');
        !(allowed_anywhere || (position > 0 && allowed_after_first))
    });
    match bad {
        Some((position, character)) => Err(IdentifierProblem::InvalidCharacter {
            character,
            position,
        }),
        None => Ok(()),
    }
}

impl PolicyId {
    /// Validates an identifier.
    pub fn new(id: &str) -> Result<Self, PolicyIdError> {
        let escaped = || id.escape_debug().to_string();
        check_identifier(id, MAXIMUM_POLICY_ID_LENGTH).map_err(|problem| match problem {
            IdentifierProblem::Empty => PolicyIdError::Empty,
            IdentifierProblem::TooLong { length } => PolicyIdError::TooLong {
                id: escaped(),
                length,
            },
            IdentifierProblem::InvalidCharacter {
                character,
                position,
            } => PolicyIdError::InvalidCharacter {
                id: escaped(),
                character,
                position,
            },
        })?;
        Ok(Self(id.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PolicyId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A retention tier: how snapshots are grouped into buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Every `period_minutes` minutes (buckets of absolute time, not local).
    Frequently {
        /// The length of a bucket, at least 1.
        period_minutes: u32,
    },
    /// Local hours.
    Hourly,
    /// Local days.
    Daily,
    /// ISO weeks (Monday to Sunday), local.
    Weekly,
    /// Local months.
    Monthly,
    /// Local years.
    Yearly,
}

impl Tier {
    /// The tier's name: `frequently`, `hourly`, ...
    pub fn name(self) -> &'static str {
        match self {
            Tier::Frequently { .. } => "frequently",
            Tier::Hourly => "hourly",
            Tier::Daily => "daily",
            Tier::Weekly => "weekly",
            Tier::Monthly => "monthly",
            Tier::Yearly => "yearly",
        }
    }

    /// The usual length of a bucket in seconds (a local day may have 23 or 25 hours).
    pub fn nominal_seconds(self) -> i64 {
        match self {
            Tier::Frequently { period_minutes } => i64::from(period_minutes.max(1)) * 60,
            Tier::Hourly => 3600,
            Tier::Daily => SECONDS_PER_DAY,
            Tier::Weekly => 7 * SECONDS_PER_DAY,
            Tier::Monthly => 31 * SECONDS_PER_DAY,
            Tier::Yearly => 366 * SECONDS_PER_DAY,
        }
    }

    /// The bucket `time` (whose local date and time is `civil`) falls in: a number that grows
    /// with time, equal for instants of the same bucket.
    pub fn bucket(self, time: Timestamp, civil: &CivilDateTime) -> i64 {
        let seconds = time.seconds();
        let day = || {
            civil
                .local_day_number()
                .unwrap_or_else(|| seconds.div_euclid(SECONDS_PER_DAY))
        };
        match self {
            Tier::Frequently { period_minutes } => {
                seconds.div_euclid(i64::from(period_minutes.max(1)) * 60)
            }
            // The instant the local hour began: the repeated hour of a fall-back is two.
            Tier::Hourly => {
                seconds.saturating_sub(i64::from(civil.minute) * 60 + i64::from(civil.second))
            }
            Tier::Daily => day(),
            // 1970-01-01 was a Thursday (3 days after a Monday).
            Tier::Weekly => {
                let day = day();
                day - (day + 3).rem_euclid(7)
            }
            Tier::Monthly => civil
                .year
                .saturating_mul(12)
                .saturating_add(i64::from(civil.month) - 1),
            Tier::Yearly => civil.year,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tier::Frequently { period_minutes } => {
                write!(formatter, "frequently (every {period_minutes} min)")
            }
            other => formatter.write_str(other.name()),
        }
    }
}

/// How many buckets of a tier a policy keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TierRule {
    /// The tier.
    pub tier: Tier,
    /// How many of its most recent buckets keep their newest snapshot (0: the tier is off).
    pub keep: u32,
}

/// The datasets a policy covers: one dataset, or a tree minus excluded subtrees.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PolicyScope {
    /// The dataset (the root of the tree with `recursive`).
    pub dataset: DatasetName,
    /// Whether descendants are covered too.
    pub recursive: bool,
    /// Datasets left out, with their descendants.
    pub exclude: Vec<DatasetName>,
}

impl PolicyScope {
    /// Whether the policy covers `dataset`.
    pub fn covers(&self, dataset: &DatasetName) -> bool {
        let inside = if self.recursive {
            dataset.is_same_or_descendant_of(&self.dataset)
        } else {
            dataset == &self.dataset
        };
        inside
            && !self
                .exclude
                .iter()
                .any(|excluded| dataset.is_same_or_descendant_of(excluded))
    }
}

/// A retention policy as the planners see it (hooks and time zone stay with the executor).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RetentionPolicy {
    /// Its identifier.
    pub id: PolicyId,
    /// The datasets it covers.
    pub scope: PolicyScope,
    /// Its tiers.
    pub tiers: Vec<TierRule>,
    /// Each dataset keeps at least this many of the policy's snapshots.
    pub min_keep: u32,
    /// Whether a run is skipped when nothing was written since the last snapshot.
    pub skip_empty: bool,
    /// Prune the oldest of its snapshots while the pool has less than this percentage free.
    pub free_space_floor_percent: Option<u8>,
}

impl RetentionPolicy {
    /// The finest tier that keeps anything: the pace of the policy's runs. `None` when no
    /// tier keeps a snapshot (the policy never takes one).
    pub fn schedule_tier(&self) -> Option<Tier> {
        self.tiers
            .iter()
            .filter(|rule| rule.keep > 0)
            .map(|rule| rule.tier)
            .min_by_key(|tier| tier.nominal_seconds())
    }
}

/// A snapshot as the rotation planner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RotationCandidate {
    /// Its name.
    pub name: SnapshotName,
    /// The time it stands for: for a WiZFS snapshot the time in its name (the scheduler's
    /// clock), else its `creation`.
    pub creation: Timestamp,
    /// `createtxg`: the order ZFS created snapshots in, whatever the clock said.
    pub createtxg: u64,
    /// `used`: the bytes only this snapshot holds.
    pub used: u64,
    /// `written`.
    pub written: u64,
    /// The policy that made it, when it carries WiZFS's mark.
    pub managed_by: Option<PolicyId>,
    /// Whether it has user holds.
    pub held: bool,
}

impl RotationCandidate {
    /// From a listed snapshot: holds from `userrefs`, the time from `creation`.
    pub fn from_snapshot(snapshot: &Snapshot, managed_by: Option<PolicyId>) -> Self {
        Self {
            name: snapshot.name.clone(),
            creation: snapshot.creation,
            createtxg: snapshot.createtxg,
            used: snapshot.used,
            written: snapshot.written,
            managed_by,
            held: snapshot.user_refs > 0,
        }
    }
}

/// Why a snapshot is kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeepReason {
    /// It is the newest of one of the last buckets of a tier of `policy`.
    Tier {
        /// The policy whose tier keeps it.
        policy: PolicyId,
        /// The tier.
        tier: Tier,
    },
    /// It has user holds (a backup may depend on it).
    Held,
    /// No policy covering its dataset manages it: WiZFS did not make it for them.
    Foreign,
    /// Its time is after now (the clock went backwards since it was made).
    Future,
    /// Destroying it would leave `policy` fewer than its minimum count.
    Minimum {
        /// The policy whose minimum keeps it.
        policy: PolicyId,
    },
}

impl fmt::Display for KeepReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Tier { policy, tier } => write!(formatter, "{tier} of policy {policy}"),
            KeepReason::Held => formatter.write_str("held"),
            KeepReason::Foreign => formatter.write_str("not made by a covering policy"),
            KeepReason::Future => formatter.write_str("dated after now (clock went back)"),
            KeepReason::Minimum { policy } => {
                write!(formatter, "minimum count of policy {policy}")
            }
        }
    }
}

/// Why a snapshot is destroyed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DestroyReason {
    /// No tier of any covering policy keeps it any more.
    Expired {
        /// The policy that made it.
        policy: PolicyId,
    },
    /// The pool is below the free-space floor of the policy that made it.
    FreeSpace {
        /// The policy that made it.
        policy: PolicyId,
        /// The floor, in percent free.
        floor_percent: u8,
    },
}

impl fmt::Display for DestroyReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DestroyReason::Expired { policy } => {
                write!(formatter, "expired (no tier of policy {policy} keeps it)")
            }
            DestroyReason::FreeSpace {
                policy,
                floor_percent,
            } => write!(
                formatter,
                "pool below {floor_percent}% free (policy {policy})"
            ),
        }
    }
}

/// The verdict on one snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Kept, for every reason that applies (never empty).
    Keep(Vec<KeepReason>),
    /// Destroyed.
    Destroy(DestroyReason),
}

/// One snapshot and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// The snapshot.
    pub snapshot: SnapshotName,
    /// The time it stands for.
    pub creation: Timestamp,
    /// `createtxg`.
    pub createtxg: u64,
    /// `used`, in bytes.
    pub used: u64,
    /// The covering policy that made it, if any.
    pub managed_by: Option<PolicyId>,
    /// What happens to it.
    pub verdict: Verdict,
}

impl Decision {
    /// Whether it is destroyed.
    pub fn is_destroyed(&self) -> bool {
        matches!(self.verdict, Verdict::Destroy(_))
    }
}

/// The verdicts on a set of snapshots, in the order they were given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RotationPlan {
    /// One decision per input snapshot.
    pub decisions: Vec<Decision>,
}

impl RotationPlan {
    /// The snapshots to destroy, in input order.
    pub fn destroyed(&self) -> impl Iterator<Item = &Decision> {
        self.decisions
            .iter()
            .filter(|decision| decision.is_destroyed())
    }

    /// The snapshots kept, in input order.
    pub fn kept(&self) -> impl Iterator<Item = &Decision> {
        self.decisions
            .iter()
            .filter(|decision| !decision.is_destroyed())
    }

    /// The decision on `snapshot`.
    pub fn decision(&self, snapshot: &SnapshotName) -> Option<&Decision> {
        self.decisions
            .iter()
            .find(|decision| &decision.snapshot == snapshot)
    }

    /// Marks the snapshots a free-space plan prunes as destroyed for that reason.
    pub fn apply_free_space(&mut self, prunes: &[FreeSpacePrune]) {
        for prune in prunes {
            if let Some(decision) = self
                .decisions
                .iter_mut()
                .find(|decision| decision.snapshot == prune.snapshot)
            {
                decision.verdict = Verdict::Destroy(DestroyReason::FreeSpace {
                    policy: prune.policy.clone(),
                    floor_percent: prune.floor_percent,
                });
            }
        }
    }
}

/// Plans the rotation of `snapshots` under one policy (with its calendar) at `now`.
pub fn plan_rotation(
    snapshots: &[RotationCandidate],
    policy: &RetentionPolicy,
    now: Timestamp,
    calendar: &dyn Calendar,
) -> RotationPlan {
    plan_rotation_all(snapshots, &[(policy, calendar)], now)
}

/// Plans the rotation of `snapshots` under several policies at once, each with the calendar
/// of its time zone: a snapshot is destroyed only when the policy that made it covers its
/// dataset, no covering policy keeps it, it is not held, not from the future, and its
/// policy keeps its minimum count without it.
pub fn plan_rotation_all(
    snapshots: &[RotationCandidate],
    policies: &[(&RetentionPolicy, &dyn Calendar)],
    now: Timestamp,
) -> RotationPlan {
    let mut by_dataset: BTreeMap<&DatasetName, Vec<usize>> = BTreeMap::new();
    for (index, snapshot) in snapshots.iter().enumerate() {
        by_dataset
            .entry(snapshot.name.dataset())
            .or_default()
            .push(index);
    }
    let mut reasons: Vec<Vec<KeepReason>> = vec![Vec::new(); snapshots.len()];
    let mut owners: Vec<Option<usize>> = vec![None; snapshots.len()];
    for (dataset, members) in &by_dataset {
        let covering: Vec<usize> = (0..policies.len())
            .filter(|&index| policies[index].0.scope.covers(dataset))
            .collect();
        plan_dataset(
            snapshots,
            members,
            policies,
            &covering,
            now,
            &mut reasons,
            &mut owners,
        );
    }
    let decisions = snapshots
        .iter()
        .zip(reasons)
        .zip(owners)
        .map(|((snapshot, reasons), owner)| {
            let owner_id = owner.map(|index| policies[index].0.id.clone());
            let verdict = match (&owner_id, reasons.is_empty()) {
                (Some(policy), true) => Verdict::Destroy(DestroyReason::Expired {
                    policy: policy.clone(),
                }),
                (None, true) => Verdict::Keep(vec![KeepReason::Foreign]),
                (_, false) => Verdict::Keep(reasons),
            };
            Decision {
                snapshot: snapshot.name.clone(),
                creation: snapshot.creation,
                createtxg: snapshot.createtxg,
                used: snapshot.used,
                managed_by: owner_id,
                verdict,
            }
        })
        .collect();
    RotationPlan { decisions }
}

/// The keep reasons and owners of one dataset's snapshots (`members`, indexes into
/// `snapshots`) under the policies `covering` it (indexes into `policies`).
fn plan_dataset(
    snapshots: &[RotationCandidate],
    members: &[usize],
    policies: &[(&RetentionPolicy, &dyn Calendar)],
    covering: &[usize],
    now: Timestamp,
    reasons: &mut [Vec<KeepReason>],
    owners: &mut [Option<usize>],
) {
    for &member in members {
        let snapshot = &snapshots[member];
        owners[member] = snapshot.managed_by.as_ref().and_then(|id| {
            covering
                .iter()
                .copied()
                .find(|&index| &policies[index].0.id == id)
        });
        if owners[member].is_none() {
            reasons[member].push(KeepReason::Foreign);
        }
        if snapshot.held {
            reasons[member].push(KeepReason::Held);
        }
        if snapshot.creation > now {
            reasons[member].push(KeepReason::Future);
        }
    }
    // The snapshots every covering policy's tiers choose from: those of any covering policy,
    // not from the future.
    let pool: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&member| owners[member].is_some() && snapshots[member].creation <= now)
        .collect();
    for &policy_index in covering {
        let (policy, calendar) = policies[policy_index];
        let civil: Vec<CivilDateTime> = pool
            .iter()
            .map(|&member| calendar.civil(snapshots[member].creation))
            .collect();
        for rule in policy.tiers.iter().filter(|rule| rule.keep > 0) {
            let mut newest_per_bucket: BTreeMap<i64, usize> = BTreeMap::new();
            for (position, &member) in pool.iter().enumerate() {
                let snapshot = &snapshots[member];
                let bucket = rule.tier.bucket(snapshot.creation, &civil[position]);
                let newest = newest_per_bucket.entry(bucket).or_insert(member);
                if is_newer(snapshot, &snapshots[*newest]) {
                    *newest = member;
                }
            }
            let keep = usize::try_from(rule.keep).unwrap_or(usize::MAX);
            for &member in newest_per_bucket.values().rev().take(keep) {
                reasons[member].push(KeepReason::Tier {
                    policy: policy.id.clone(),
                    tier: rule.tier,
                });
            }
        }
    }
    // Each covering policy keeps its minimum count of its own snapshots.
    for &policy_index in covering {
        let policy = policies[policy_index].0;
        let mut own: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&member| owners[member] == Some(policy_index))
            .collect();
        let kept = own
            .iter()
            .filter(|&&member| !reasons[member].is_empty())
            .count();
        let missing = usize::try_from(policy.min_keep)
            .unwrap_or(usize::MAX)
            .saturating_sub(kept);
        own.sort_by(|&left, &right| newness(&snapshots[right]).cmp(&newness(&snapshots[left])));
        let topped_up: Vec<usize> = own
            .into_iter()
            .filter(|&member| reasons[member].is_empty())
            .take(missing)
            .collect();
        for member in topped_up {
            reasons[member].push(KeepReason::Minimum {
                policy: policy.id.clone(),
            });
        }
    }
}

/// The order "newest" follows: creation order in ZFS first, then the time, then the name.
fn newness(snapshot: &RotationCandidate) -> (u64, Timestamp, &str) {
    (
        snapshot.createtxg,
        snapshot.creation,
        snapshot.name.as_str(),
    )
}

fn is_newer(candidate: &RotationCandidate, than: &RotationCandidate) -> bool {
    newness(candidate) > newness(than)
}
