//! The safety rules of backup, pure: which source snapshots must stay because a target still
//! needs them as its next incremental base (one set, shared with snapshot rotation, which
//! never destroys a held snapshot), which holds to place and release, and which target
//! snapshots the job's retention may destroy (only ones this job sent, never the newest
//! common base).
//!
//! This file exists so that pruning on either side can never break a backup chain, and so
//! that the rule is stated once for the backup engine and the snapshot executor alike.

use std::collections::BTreeSet;

use super::{
    Action, BackupJob, BackupPlan, SendBase, SourceDataset, TargetDataset, TargetDecision,
    TargetKeepReason, TargetRetentionPlan, TargetVerdict,
};
use crate::model::{Hold, Timestamp};
use crate::names::SnapshotName;
use crate::rotation::{
    Calendar, PolicyId, PolicyScope, RetentionPolicy, RotationCandidate, Verdict, plan_rotation,
};

/// A source snapshot a target needs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtectedSnapshot {
    /// Its name.
    pub name: SnapshotName,
    /// Its guid.
    pub guid: u64,
}

/// The source snapshots some target still needs as its next incremental base (or that this
/// run sends and the next run will need).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProtectedSnapshots {
    snapshots: BTreeSet<ProtectedSnapshot>,
}

impl ProtectedSnapshots {
    /// Whether the snapshot with this name is protected.
    pub fn protects_name(&self, name: &SnapshotName) -> bool {
        self.snapshots.iter().any(|snapshot| &snapshot.name == name)
    }

    /// Whether the snapshot with this guid is protected (a rename does not lose it).
    pub fn protects_guid(&self, guid: u64) -> bool {
        self.snapshots.iter().any(|snapshot| snapshot.guid == guid)
    }

    /// The protected snapshots, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &ProtectedSnapshot> {
        self.snapshots.iter()
    }

    /// How many snapshots are protected.
    pub fn len(&self) -> usize {
        self.snapshots.len()
    }

    /// Whether nothing is protected.
    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty()
    }

    /// Marks the protected candidates of a rotation as held, so snapshot rotation keeps
    /// them (`KeepReason::Held`) even before the engine's hold is placed.
    pub fn mark_held(&self, candidates: &mut [RotationCandidate]) {
        for candidate in candidates {
            if self.protects_name(&candidate.name) {
                candidate.held = true;
            }
        }
    }
}

/// The source snapshots the plans of all targets (of every job) still need: each dataset's
/// newest common base — also when its run is refused or resumed, since the next run needs
/// it — the snapshot the run sends up to, the base of the run after, and the base of each of
/// the run's sends (a full's first snapshot is the base of its `-I`). `sources` gives the
/// guids. Bookmarks need no protection and clone origins are kept by ZFS itself.
pub fn protected_source_snapshots(
    plans: &[&BackupPlan],
    sources: &[SourceDataset],
) -> ProtectedSnapshots {
    let guid_of = |name: &SnapshotName| {
        sources
            .iter()
            .filter(|source| &source.name == name.dataset())
            .flat_map(|source| &source.snapshots)
            .find(|snapshot| &snapshot.name == name)
            .map(|snapshot| snapshot.guid)
    };
    let mut snapshots = BTreeSet::new();
    for plan in plans.iter().flat_map(|plan| &plan.datasets) {
        let base = match &plan.base {
            Some(SendBase::Snapshot(name)) => Some(name),
            _ => None,
        };
        let sent = match &plan.action {
            Action::Refused(_) | Action::Resume { .. } => None,
            _ => plan.sends_to(),
        };
        let steps = plan.action.send_steps();
        let step_bases = steps.iter().filter_map(|step| match &step.from {
            Some(SendBase::Snapshot(name)) => Some(name),
            _ => None,
        });
        for name in base.into_iter().chain(sent).chain(step_bases) {
            if let Some(guid) = guid_of(name) {
                snapshots.insert(ProtectedSnapshot {
                    name: name.clone(),
                    guid,
                });
            }
        }
    }
    ProtectedSnapshots { snapshots }
}

/// The holds one job must place and release so that exactly its protected snapshots carry
/// its hold tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HoldChanges {
    /// Snapshots to hold with the tag (`zfs hold`), in name order.
    pub place: Vec<SnapshotName>,
    /// Snapshots whose hold with the tag to release (`zfs release`), in name order.
    pub release: Vec<SnapshotName>,
}

/// Compares the snapshots `protected` by one job's plan with the holds that carry its `tag`
/// among `current` (holds with other tags are left alone).
pub fn hold_changes(protected: &ProtectedSnapshots, current: &[Hold], tag: &str) -> HoldChanges {
    let held: BTreeSet<&SnapshotName> = current
        .iter()
        .filter(|hold| hold.tag == tag)
        .map(|hold| &hold.snapshot)
        .collect();
    let wanted: BTreeSet<&SnapshotName> = protected.iter().map(|snapshot| &snapshot.name).collect();
    HoldChanges {
        place: wanted
            .difference(&held)
            .map(|name| (*name).clone())
            .collect(),
        release: held
            .difference(&wanted)
            .map(|name| (*name).clone())
            .collect(),
    }
}

/// Plans the job's retention on one target dataset at `now`: the job's tiers and minimum
/// count, as snapshot rotation applies them, over the snapshots this job sent (the others
/// are kept as foreign, held ones as held); the newest snapshot the source still has (as a
/// snapshot or a bookmark) is always kept, as the next incremental's base. Without a
/// retention everything is kept.
pub fn plan_target_retention(
    job: &BackupJob,
    target: &TargetDataset,
    source: &SourceDataset,
    now: Timestamp,
    calendar: &dyn Calendar,
) -> TargetRetentionPlan {
    let source_guids: BTreeSet<u64> = source
        .snapshots
        .iter()
        .map(|snapshot| snapshot.guid)
        .chain(source.bookmarks.iter().map(|bookmark| bookmark.guid))
        .collect();
    let newest_common = target
        .snapshots
        .iter()
        .filter(|snapshot| source_guids.contains(&snapshot.guid))
        .max_by_key(|snapshot| snapshot.createtxg)
        .map(|snapshot| snapshot.guid);
    let policy = match (&job.retention, PolicyId::new(job.id.as_str())) {
        (Some(retention), Ok(id)) => Some(RetentionPolicy {
            id,
            scope: PolicyScope {
                dataset: target.name.clone(),
                recursive: false,
                exclude: Vec::new(),
            },
            tiers: retention.tiers.clone(),
            min_keep: retention.min_keep,
            skip_empty: false,
            free_space_floor_percent: None,
        }),
        _ => None,
    };
    let Some(policy) = policy else {
        return TargetRetentionPlan {
            decisions: target
                .snapshots
                .iter()
                .map(|snapshot| TargetDecision {
                    snapshot: snapshot.name.clone(),
                    guid: snapshot.guid,
                    verdict: TargetVerdict::Keep(vec![TargetKeepReason::NoRetention]),
                })
                .collect(),
        };
    };
    let candidates: Vec<RotationCandidate> = target
        .snapshots
        .iter()
        .map(|snapshot| RotationCandidate {
            name: snapshot.name.clone(),
            creation: snapshot.creation,
            createtxg: snapshot.createtxg,
            used: 0,
            written: 0,
            managed_by: (snapshot.sent_by.as_ref() == Some(&job.id)).then(|| policy.id.clone()),
            held: snapshot.held,
        })
        .collect();
    let rotation = plan_rotation(&candidates, &policy, now, calendar);
    let decisions = target
        .snapshots
        .iter()
        .zip(rotation.decisions)
        .map(|(snapshot, decision)| {
            let is_base = Some(snapshot.guid) == newest_common;
            let verdict = match decision.verdict {
                Verdict::Destroy(_) if is_base => {
                    TargetVerdict::Keep(vec![TargetKeepReason::NewestCommonBase])
                }
                Verdict::Destroy(reason) => TargetVerdict::Destroy(reason),
                Verdict::Keep(reasons) => {
                    let mut reasons: Vec<TargetKeepReason> = reasons
                        .into_iter()
                        .map(TargetKeepReason::Retention)
                        .collect();
                    if is_base {
                        reasons.push(TargetKeepReason::NewestCommonBase);
                    }
                    TargetVerdict::Keep(reasons)
                }
            };
            TargetDecision {
                snapshot: snapshot.name.clone(),
                guid: snapshot.guid,
                verdict,
            }
        })
        .collect();
    TargetRetentionPlan { decisions }
}
