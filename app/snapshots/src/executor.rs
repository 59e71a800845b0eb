//! The executor: takes the snapshots that are due and carries out the rotation, through
//! [`Zfs`] and with the time given by the caller (so tests can run a month in seconds).
//!
//! One run, for a list of policies:
//! 1. **Due?** For each policy, [`wizfs_core::rotation::due`] on the time of its newest
//!    snapshot (remembered in [`RunMemory`] between runs, listed once otherwise).
//! 2. **Take.** The covered datasets are listed (a name taken already, after the clock came
//!    back to a minute it had seen, skips the run); with `skip_empty` the run is skipped when
//!    every one of them has `written` = 0; the pre-hook runs (a failure skips the run); one
//!    atomic `zfs snapshot` (`-r` for a whole tree, an explicit list when some descendants are
//!    excluded) named `wizfs-<policy>-<UTC minute>` with `wizfs:managed=<policy>`; the
//!    post-hook runs.
//! 3. **Prune** (after a snapshot was taken or skipped, on the first run, or when a pool is
//!    below a policy's free-space floor): every policy root is listed in one
//!    `zfs list -o …,wizfs:managed` each; the planners decide; expired snapshots are
//!    destroyed per dataset, then free-space prunes one at a time, re-reading the pool's free
//!    space before each and stopping once the floor is reached.
//!
//! A snapshot counts as WiZFS's only when it carries `wizfs:managed=<policy>` **and** its
//! name is that policy's `wizfs-<policy>-<time>`: user properties are inherited from the
//! dataset, so the property alone could make a user's own snapshot look managed. The time a
//! managed snapshot stands for is the one in its name (the scheduler's clock).

use std::collections::{BTreeMap, BTreeSet};

use wizfs_core::rotation::{
    self, DestroyReason, Due, FreeSpacePrune, PolicyId, PoolSpace, RetentionPolicy,
    RotationCandidate, RotationPlan, Verdict, floor_reached, parse_snapshot_time, plan_free_space,
    plan_rotation_all, skip_as_empty, snapshot_short_name,
};
use wizfs_core::{DatasetName, SnapshotName, Timestamp, ZfsObjectName};
use wizfs_zfs::{DestroyOptions, PropertyName, Scope, Zfs, ZfsError};

use crate::config::PolicyConfig;
use crate::hooks::{HookError, run_hook};

#[cfg(test)]
mod tests;

/// The user property that marks a snapshot as made by a policy (its value: the policy id).
pub const MANAGED_PROPERTY: &str = "wizfs:managed";

/// What the scheduler remembers between runs: the time of each policy's newest snapshot
/// (or last skipped run), so a run that has nothing due lists nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunMemory {
    last: BTreeMap<PolicyId, Timestamp>,
    pruned_once: bool,
}

/// What a run may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMode {
    /// Take due snapshots, then prune when something changed.
    Scheduled,
    /// Only prune, now: the snapshots of every policy, or of `only` (the plan still weighs
    /// every policy, so an overlapping policy's keep still protects a snapshot).
    Prune {
        /// The one policy whose snapshots may be destroyed.
        only: Option<PolicyId>,
    },
}

/// Why a due run took no snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// `skip_empty`, and no covered dataset was written to since its last snapshot.
    Empty,
    /// A snapshot of that name exists already (the clock came back to a minute it had seen).
    AlreadyTaken(String),
    /// The pre-hook failed (the error is in the run's errors).
    PreHookFailed,
    /// Listing the covered datasets or their `written` failed (see the errors).
    Failed,
}

impl Skipped {
    /// A short explanation.
    pub fn describe(&self) -> String {
        match self {
            Skipped::Empty => "nothing written since the last snapshot".into(),
            Skipped::AlreadyTaken(name) => format!("{name} exists already"),
            Skipped::PreHookFailed => "the pre-hook failed".into(),
            Skipped::Failed => "the datasets could not be read".into(),
        }
    }
}

/// A failure during a run (the run goes on with what it can do).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A ZFS operation failed.
    #[error("{action}: {source}")]
    Zfs {
        /// What was being done.
        action: String,
        /// The failure.
        #[source]
        source: ZfsError,
    },
    /// The policy's dataset carries `wizfs:managed` itself, so its snapshots inherit it.
    #[error(
        "dataset {dataset} has the user property `{MANAGED_PROPERTY}` (set there or inherited), \
         which every snapshot inherits: policy {policy} destroys nothing until it is removed \
         (`zfs inherit {MANAGED_PROPERTY} <dataset>`)"
    )]
    DatasetMarked {
        /// The policy.
        policy: PolicyId,
        /// Its dataset.
        dataset: DatasetName,
    },
    /// A hook failed.
    #[error("{hook} of policy {policy}: {source}")]
    Hook {
        /// The policy.
        policy: PolicyId,
        /// `pre_hook` or `post_hook`.
        hook: &'static str,
        /// The failure.
        #[source]
        source: HookError,
    },
}

fn zfs_error(action: impl Into<String>) -> impl FnOnce(ZfsError) -> RunError {
    let action = action.into();
    move |source| RunError::Zfs { action, source }
}

/// What a run did for one policy.
#[derive(Debug)]
pub struct PolicyRun {
    /// The policy.
    pub policy: PolicyId,
    /// Whether (and why) it was due.
    pub due: Option<Due>,
    /// The snapshots taken (one per covered dataset).
    pub created: Vec<SnapshotName>,
    /// Why a due run took no snapshot.
    pub skipped: Option<Skipped>,
    /// Its snapshots destroyed, and why.
    pub destroyed: Vec<(SnapshotName, DestroyReason)>,
    /// How many of its snapshots remain (when the run pruned).
    pub kept: Option<usize>,
    /// What went wrong.
    pub errors: Vec<RunError>,
}

/// What one run did.
#[derive(Debug)]
pub struct RunReport {
    /// The time the run was given.
    pub at: Timestamp,
    /// Per policy, in configuration order.
    pub policies: Vec<PolicyRun>,
    /// Whether the run planned and pruned.
    pub pruned: bool,
    /// Failures not tied to one policy (listing pools, snapshots of overlapping trees).
    pub errors: Vec<RunError>,
}

impl RunReport {
    /// Every snapshot taken.
    pub fn created(&self) -> impl Iterator<Item = &SnapshotName> {
        self.policies.iter().flat_map(|run| run.created.iter())
    }

    /// Every snapshot destroyed.
    pub fn destroyed(&self) -> impl Iterator<Item = &SnapshotName> {
        self.policies
            .iter()
            .flat_map(|run| run.destroyed.iter().map(|(name, _)| name))
    }

    /// The datasets whose snapshots changed: what the search index must catch up with.
    pub fn touched_datasets(&self) -> BTreeSet<DatasetName> {
        self.created()
            .chain(self.destroyed())
            .map(|snapshot| snapshot.dataset().clone())
            .collect()
    }

    /// Whether anything failed.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.policies.iter().any(|run| !run.errors.is_empty())
    }
}

/// The plan a run would carry out now, for `wizfs prune --dry-run` and the API.
#[derive(Debug)]
pub struct PlanReport {
    /// The time planned for.
    pub at: Timestamp,
    /// Whether each policy is due, in configuration order.
    pub due: Vec<(PolicyId, Option<Due>)>,
    /// The verdict on every listed snapshot (free-space prunes included).
    pub plan: RotationPlan,
    /// The free-space prunes, in the order they would happen.
    pub free_space: Vec<FreeSpacePrune>,
    /// What destroying each snapshot alone would free (`zfs destroy -nvp`), when asked.
    pub reclaimable: BTreeMap<SnapshotName, u64>,
    /// What destroying all of a dataset's planned snapshots together would free.
    pub reclaimable_by_dataset: BTreeMap<DatasetName, u64>,
    /// What could not be listed or estimated.
    pub errors: Vec<RunError>,
}

fn managed_property() -> PropertyName {
    // A constant that PropertyName accepts; the fallback keeps this free of panics.
    PropertyName::new(MANAGED_PROPERTY)
        .unwrap_or_else(|_| unreachable!("`{MANAGED_PROPERTY}` is a valid user property name"))
}

/// Lists the snapshots of every policy root, each once, as rotation candidates.
fn list_candidates(
    zfs: &dyn Zfs,
    policies: &[PolicyConfig],
    errors: &mut Vec<RunError>,
) -> Vec<RotationCandidate> {
    let property = managed_property();
    let by_id: BTreeMap<&str, &PolicyId> = policies
        .iter()
        .map(|policy| (policy.id().as_str(), policy.id()))
        .collect();
    let scopes: Vec<(&DatasetName, bool)> = policies
        .iter()
        .map(|policy| {
            (
                &policy.retention.scope.dataset,
                policy.retention.scope.recursive,
            )
        })
        .collect();
    let mut listed: BTreeSet<(&DatasetName, bool)> = BTreeSet::new();
    let mut candidates: BTreeMap<SnapshotName, RotationCandidate> = BTreeMap::new();
    for &(root, recursive) in &scopes {
        let inside_another = scopes.iter().any(|&(other, other_recursive)| {
            other_recursive && other != root && root.is_same_or_descendant_of(other)
        });
        if inside_another || !listed.insert((root, recursive)) {
            continue;
        }
        let scope = if recursive {
            Scope::Recursive
        } else {
            Scope::Dataset
        };
        let rows = match zfs.list_snapshots_with_properties(
            root,
            scope,
            std::slice::from_ref(&property),
        ) {
            Ok(rows) => rows,
            Err(source) => {
                errors.push(zfs_error(format!("listing the snapshots of {root}"))(
                    source,
                ));
                continue;
            }
        };
        for (snapshot, values) in rows {
            let managed_by = values
                .first()
                .and_then(Option::as_deref)
                .and_then(|value| by_id.get(value).copied())
                .filter(|id| parse_snapshot_time(id, snapshot.name.short_name()).is_some())
                .cloned();
            let mut candidate = RotationCandidate::from_snapshot(&snapshot, managed_by);
            candidate.creation = rotation::snapshot_time(
                candidate.managed_by.as_ref(),
                snapshot.name.short_name(),
                snapshot.creation,
            );
            candidates.insert(snapshot.name.clone(), candidate);
        }
    }
    let mut candidates: Vec<RotationCandidate> = candidates.into_values().collect();
    candidates
        .sort_by(|left, right| (left.createtxg, &left.name).cmp(&(right.createtxg, &right.name)));
    candidates
}

/// The time of `policy`'s newest snapshot (by `createtxg`) on its root dataset.
fn newest_time(candidates: &[RotationCandidate], policy: &RetentionPolicy) -> Option<Timestamp> {
    candidates
        .iter()
        .filter(|candidate| {
            candidate.name.dataset() == &policy.scope.dataset
                && candidate.managed_by.as_ref() == Some(&policy.id)
        })
        .max_by_key(|candidate| candidate.createtxg)
        .map(|candidate| candidate.creation)
}

/// The datasets `policy` snapshots now.
fn covered_datasets(zfs: &dyn Zfs, policy: &RetentionPolicy) -> Result<Vec<DatasetName>, RunError> {
    let scope = &policy.scope;
    if !scope.recursive {
        return Ok(vec![scope.dataset.clone()]);
    }
    let datasets = zfs
        .list_datasets(Some(&scope.dataset))
        .map_err(zfs_error(format!(
            "listing the datasets under {}",
            scope.dataset
        )))?;
    Ok(datasets
        .into_iter()
        .map(|dataset| dataset.name)
        .filter(|name| scope.covers(name))
        .collect())
}

/// The `written` property of each dataset.
fn written_bytes(zfs: &dyn Zfs, datasets: &[DatasetName]) -> Result<Vec<u64>, RunError> {
    let written = PropertyName::new("written").unwrap_or_else(|_| unreachable!("native name"));
    datasets
        .iter()
        .map(|dataset| {
            let target = ZfsObjectName::Dataset(dataset.clone());
            let values = zfs
                .get_properties(&target, std::slice::from_ref(&written))
                .map_err(zfs_error(format!("reading `written` of {dataset}")))?;
            Ok(values
                .first()
                .and_then(|property| property.value.as_deref())
                .and_then(|value| value.parse().ok())
                .unwrap_or(u64::MAX))
        })
        .collect()
}

/// Step 2 for one due policy.
fn take_snapshot(zfs: &dyn Zfs, policy: &PolicyConfig, due: Due, run: &mut PolicyRun) {
    let retention = &policy.retention;
    let short_name = snapshot_short_name(&retention.id, due.at);
    let datasets = match covered_datasets(zfs, retention) {
        Ok(datasets) => datasets,
        Err(error) => {
            run.errors.push(error);
            run.skipped = Some(Skipped::Failed);
            return;
        }
    };
    if retention.skip_empty {
        match written_bytes(zfs, &datasets) {
            Ok(written) if skip_as_empty(retention, &due, &written) => {
                run.skipped = Some(Skipped::Empty);
                return;
            }
            Ok(_) => {}
            Err(error) => {
                run.errors.push(error);
                run.skipped = Some(Skipped::Failed);
                return;
            }
        }
    }
    let root = retention.scope.dataset.as_str();
    let environment = [
        ("WIZFS_POLICY", retention.id.as_str()),
        ("WIZFS_SNAPSHOT", short_name.as_str()),
        ("WIZFS_DATASET", root),
    ];
    if !policy.pre_hook.is_empty()
        && let Err(source) = run_hook(&policy.pre_hook, policy.hook_timeout, &environment)
    {
        run.errors.push(RunError::Hook {
            policy: retention.id.clone(),
            hook: "pre_hook",
            source,
        });
        run.skipped = Some(Skipped::PreHookFailed);
        return;
    }
    let names: Result<Vec<SnapshotName>, _> = datasets
        .iter()
        .map(|dataset| dataset.snapshot(&short_name))
        .collect();
    let created = names
        .map_err(|error| zfs_error(format!("naming the snapshots of {root}"))(error.into()))
        .and_then(|names| {
            let whole_tree = retention.scope.recursive && retention.scope.exclude.is_empty();
            let property = [(managed_property(), retention.id.to_string())];
            let result = if whole_tree {
                let root_snapshot: Vec<SnapshotName> = names
                    .iter()
                    .filter(|name| name.dataset() == &retention.scope.dataset)
                    .cloned()
                    .collect();
                zfs.create_snapshots(&root_snapshot, true, &property)
            } else {
                zfs.create_snapshots(&names, false, &property)
            };
            result
                .map(|()| names)
                .map_err(zfs_error(format!("taking {short_name} of {root}")))
        });
    match created {
        Ok(names) => run.created = names,
        // The clock came back to a minute it had seen: that slot is taken.
        Err(RunError::Zfs {
            source: ZfsError::AlreadyExists { .. },
            ..
        }) => {
            run.skipped = Some(Skipped::AlreadyTaken(short_name.clone()));
            return;
        }
        Err(error) => run.errors.push(error),
    }
    if !policy.post_hook.is_empty()
        && let Err(source) = run_hook(&policy.post_hook, policy.hook_timeout, &environment)
    {
        run.errors.push(RunError::Hook {
            policy: retention.id.clone(),
            hook: "post_hook",
            source,
        });
    }
}

fn calendars(policies: &[PolicyConfig]) -> Vec<(&RetentionPolicy, &dyn rotation::Calendar)> {
    policies
        .iter()
        .map(|policy| {
            (
                &policy.retention,
                &policy.calendar as &dyn rotation::Calendar,
            )
        })
        .collect()
}

fn pool_spaces(zfs: &dyn Zfs) -> Result<Vec<PoolSpace>, RunError> {
    let pools = zfs.list_pools().map_err(zfs_error("listing pools"))?;
    Ok(pools
        .into_iter()
        .map(|pool| PoolSpace {
            pool: pool.name,
            size: pool.size,
            free: pool.free,
        })
        .collect())
}

/// Whether some pool is below the floor of a policy on it.
fn floor_unmet(pools: &[PoolSpace], policies: &[PolicyConfig]) -> bool {
    policies.iter().any(|policy| {
        let retention = &policy.retention;
        retention.free_space_floor_percent.is_some_and(|floor| {
            pools.iter().any(|pool| {
                pool.pool == retention.scope.dataset.pool()
                    && !floor_reached(pool.size, pool.free, floor)
            })
        })
    })
}

/// Runs the policies once at `now`.
pub fn run(
    zfs: &dyn Zfs,
    policies: &[PolicyConfig],
    now: Timestamp,
    memory: &mut RunMemory,
    mode: RunMode,
) -> RunReport {
    let mut report = RunReport {
        at: now,
        policies: policies
            .iter()
            .map(|policy| PolicyRun {
                policy: policy.id().clone(),
                due: None,
                created: Vec::new(),
                skipped: None,
                destroyed: Vec::new(),
                kept: None,
                errors: Vec::new(),
            })
            .collect(),
        pruned: false,
        errors: Vec::new(),
    };
    let only = match &mode {
        RunMode::Prune { only } => only.clone(),
        RunMode::Scheduled => None,
    };
    let mut changed = !memory.pruned_once || mode != RunMode::Scheduled;
    let mut candidates: Option<Vec<RotationCandidate>> = None;
    if mode == RunMode::Scheduled {
        for (policy, policy_run) in policies.iter().zip(report.policies.iter_mut()) {
            let retention = &policy.retention;
            let last = match memory.last.get(&retention.id) {
                Some(time) => Some(*time),
                None => newest_time(
                    candidates
                        .get_or_insert_with(|| list_candidates(zfs, policies, &mut report.errors)),
                    retention,
                ),
            };
            let Some(due) = rotation::due(retention, last, now, &policy.calendar) else {
                continue;
            };
            policy_run.due = Some(due);
            take_snapshot(zfs, policy, due, policy_run);
            memory.last.insert(retention.id.clone(), due.at);
            changed = true;
        }
    }
    let pools = match pool_spaces(zfs) {
        Ok(pools) => pools,
        Err(error) => {
            report.errors.push(error);
            Vec::new()
        }
    };
    if changed || floor_unmet(&pools, policies) {
        prune(zfs, policies, now, &pools, only.as_ref(), &mut report);
        memory.pruned_once = true;
    }
    report
}

/// Policies whose dataset has `wizfs:managed` itself (set there or inherited): every
/// snapshot of it inherits the value, so WiZFS could not tell its own from the user's, and
/// destroys nothing of those policies until the property is removed.
fn untrusted_policies(
    zfs: &dyn Zfs,
    policies: &[PolicyConfig],
    errors: &mut Vec<RunError>,
) -> BTreeSet<PolicyId> {
    let property = managed_property();
    let mut untrusted = BTreeSet::new();
    for policy in policies {
        let root = &policy.retention.scope.dataset;
        let target = ZfsObjectName::Dataset(root.clone());
        match zfs.get_properties(&target, std::slice::from_ref(&property)) {
            Ok(values) if values.iter().all(|value| value.value.is_none()) => {}
            Ok(_) => {
                errors.push(RunError::DatasetMarked {
                    policy: policy.id().clone(),
                    dataset: root.clone(),
                });
                untrusted.insert(policy.id().clone());
            }
            Err(source) => {
                errors.push(zfs_error(format!("reading `{MANAGED_PROPERTY}` of {root}"))(source));
                untrusted.insert(policy.id().clone());
            }
        }
    }
    untrusted
}

/// Step 3: plan over a fresh listing and destroy.
fn prune(
    zfs: &dyn Zfs,
    policies: &[PolicyConfig],
    now: Timestamp,
    pools: &[PoolSpace],
    only: Option<&PolicyId>,
    report: &mut RunReport,
) {
    let mut spared = untrusted_policies(zfs, policies, &mut report.errors);
    if let Some(only) = only {
        spared.extend(
            policies
                .iter()
                .map(|policy| policy.id().clone())
                .filter(|id| id != only),
        );
    }
    let candidates = list_candidates(zfs, policies, &mut report.errors);
    let plan = plan_rotation_all(&candidates, &calendars(policies), now);
    let retentions: Vec<&RetentionPolicy> =
        policies.iter().map(|policy| &policy.retention).collect();
    let prunes = plan_free_space(&plan, pools, &retentions);
    report.pruned = true;
    let position = |id: &PolicyId| policies.iter().position(|policy| policy.id() == id);
    let mut expired: BTreeMap<&DatasetName, Vec<(SnapshotName, PolicyId)>> = BTreeMap::new();
    for decision in plan.destroyed() {
        if let (Verdict::Destroy(DestroyReason::Expired { policy }), Some(_)) =
            (&decision.verdict, &decision.managed_by)
            && !spared.contains(policy)
        {
            expired
                .entry(decision.snapshot.dataset())
                .or_default()
                .push((decision.snapshot.clone(), policy.clone()));
        }
    }
    for (dataset, group) in expired {
        let names: Vec<SnapshotName> = group.iter().map(|(name, _)| name.clone()).collect();
        let outcomes: Vec<Result<(), ZfsError>> =
            match zfs.destroy_snapshots(&names, DestroyOptions::default()) {
                Ok(()) => names.iter().map(|_| Ok(())).collect(),
                // One snapshot may have been held or destroyed meanwhile: one by one.
                Err(_) => names
                    .iter()
                    .map(|name| {
                        zfs.destroy_snapshots(std::slice::from_ref(name), DestroyOptions::default())
                    })
                    .collect(),
            };
        for ((name, policy), outcome) in group.into_iter().zip(outcomes) {
            let Some(index) = position(&policy) else {
                continue;
            };
            match outcome {
                Ok(()) => report.policies[index]
                    .destroyed
                    .push((name, DestroyReason::Expired { policy })),
                Err(source) => report.policies[index]
                    .errors
                    .push(zfs_error(format!("destroying {name} of {dataset}"))(source)),
            }
        }
    }
    for prune in prunes {
        let Some(index) = position(&prune.policy) else {
            continue;
        };
        if spared.contains(&prune.policy) {
            continue;
        }
        let pool = prune.snapshot.dataset().pool();
        match pool_spaces(zfs) {
            Ok(now_pools) => {
                let reached = now_pools.iter().any(|space| {
                    space.pool == pool && floor_reached(space.size, space.free, prune.floor_percent)
                });
                if reached {
                    continue;
                }
            }
            Err(error) => {
                report.errors.push(error);
                break;
            }
        }
        match zfs.destroy_snapshots(
            std::slice::from_ref(&prune.snapshot),
            DestroyOptions::default(),
        ) {
            Ok(()) => report.policies[index].destroyed.push((
                prune.snapshot,
                DestroyReason::FreeSpace {
                    policy: prune.policy,
                    floor_percent: prune.floor_percent,
                },
            )),
            Err(source) => report.policies[index].errors.push(zfs_error(format!(
                "destroying {} for free space",
                prune.snapshot
            ))(source)),
        }
    }
    for (policy, policy_run) in policies.iter().zip(report.policies.iter_mut()) {
        let destroyed: BTreeSet<&SnapshotName> =
            policy_run.destroyed.iter().map(|(name, _)| name).collect();
        let kept = plan
            .decisions
            .iter()
            .filter(|decision| {
                decision.managed_by.as_ref() == Some(policy.id())
                    && !destroyed.contains(&decision.snapshot)
            })
            .count();
        policy_run.kept = Some(kept);
    }
}

/// What a run would do now, without doing it; with `estimate`, what each destroy would
/// free (`zfs destroy -nvp`, one command per snapshot and one per dataset).
pub fn plan_now(
    zfs: &dyn Zfs,
    policies: &[PolicyConfig],
    now: Timestamp,
    estimate: bool,
) -> PlanReport {
    let mut errors = Vec::new();
    untrusted_policies(zfs, policies, &mut errors);
    let candidates = list_candidates(zfs, policies, &mut errors);
    let due = policies
        .iter()
        .map(|policy| {
            let last = newest_time(&candidates, &policy.retention);
            (
                policy.id().clone(),
                rotation::due(&policy.retention, last, now, &policy.calendar),
            )
        })
        .collect();
    let mut plan = plan_rotation_all(&candidates, &calendars(policies), now);
    let pools = pool_spaces(zfs).unwrap_or_else(|error| {
        errors.push(error);
        Vec::new()
    });
    let retentions: Vec<&RetentionPolicy> =
        policies.iter().map(|policy| &policy.retention).collect();
    let free_space = plan_free_space(&plan, &pools, &retentions);
    plan.apply_free_space(&free_space);
    let mut reclaimable = BTreeMap::new();
    let mut reclaimable_by_dataset = BTreeMap::new();
    if estimate {
        let mut by_dataset: BTreeMap<DatasetName, Vec<SnapshotName>> = BTreeMap::new();
        for decision in plan.destroyed() {
            let snapshot = &decision.snapshot;
            match zfs.reclaimable_space(std::slice::from_ref(snapshot)) {
                Ok(bytes) => {
                    reclaimable.insert(snapshot.clone(), bytes);
                }
                Err(source) => {
                    errors.push(zfs_error(format!(
                        "estimating what destroying {snapshot} frees"
                    ))(source));
                }
            }
            by_dataset
                .entry(snapshot.dataset().clone())
                .or_default()
                .push(snapshot.clone());
        }
        for (dataset, snapshots) in by_dataset {
            match zfs.reclaimable_space(&snapshots) {
                Ok(bytes) => {
                    reclaimable_by_dataset.insert(dataset, bytes);
                }
                Err(source) => {
                    errors.push(zfs_error(format!(
                        "estimating what pruning {dataset} frees"
                    ))(source));
                }
            }
        }
    }
    PlanReport {
        at: now,
        due,
        plan,
        free_space,
        reclaimable,
        reclaimable_by_dataset,
        errors,
    }
}

/// The plan `policies` make at `now` over every snapshot in `taken` (oldest first), as if
/// all had survived until now. Since a bucket that falls out of a tier never comes back,
/// this is what a faithful run after run must leave: the tests on the fake and on real ZFS
/// compare the snapshots that remain with its kept ones.
pub fn plan_over_history(
    policies: &[PolicyConfig],
    taken: &[SnapshotName],
    now: Timestamp,
) -> RotationPlan {
    let candidates: Vec<RotationCandidate> = taken
        .iter()
        .zip(0_u64..)
        .map(|(snapshot, createtxg)| {
            let owner = policies
                .iter()
                .map(PolicyConfig::id)
                .find(|id| parse_snapshot_time(id, snapshot.short_name()).is_some());
            RotationCandidate {
                name: snapshot.clone(),
                creation: owner
                    .and_then(|id| parse_snapshot_time(id, snapshot.short_name()))
                    .unwrap_or(now),
                createtxg,
                used: 0,
                written: 0,
                managed_by: owner.cloned(),
                held: false,
            }
        })
        .collect();
    plan_rotation_all(&candidates, &calendars(policies), now)
}
