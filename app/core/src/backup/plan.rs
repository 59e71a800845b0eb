//! The backup planner: for each source dataset a job covers, what to send to its target
//! this run — a full stream, an incremental from the newest common snapshot (or from a
//! bookmark of it, or from a clone's origin), a resumed receive, nothing, or a refusal that
//! says what the user can do.
//!
//! This file exists so the chain between source and target is worked out from guids alone,
//! in one pure function the engine, the CLI's `--dry-run` and the console's "plan before a
//! run" all share.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Action, BackupJob, BackupPlan, DatasetPlan, Idle, Manifest, MissingBase, Refusal, RollBack,
    SendBase, SourceDataset, TargetDataset, TargetState,
};
use crate::model::{Snapshot, Timestamp};
use crate::names::{DatasetName, SnapshotName};

/// Plans one run of `job`: `sources` are the source datasets as listed (those the job does
/// not cover are ignored), `target` the target's state (a state of the other kind than the
/// job's target is read as an empty target: a full send never overwrites anything, since
/// `zfs receive` refuses an existing dataset without a roll-back); `now` names a new dataset
/// when the job's options start a new full backup beside a stale one.
pub fn plan_backup(
    job: &BackupJob,
    sources: &[SourceDataset],
    target: &TargetState,
    now: Timestamp,
) -> BackupPlan {
    let ordered = run_order(job, sources);
    let mut planner = Planner {
        job,
        sources,
        now,
        plans: Vec::new(),
    };
    match (target, job.target.receive_root()) {
        (TargetState::Pool(datasets), Some(root)) => {
            planner.plan_pool(&ordered, root, datasets.clone());
        }
        (TargetState::Pool(_), None) => planner.plan_files(&ordered, &[]),
        (TargetState::Files(_), Some(root)) => planner.plan_pool(&ordered, root, Vec::new()),
        (TargetState::Files(manifests), None) => planner.plan_files(&ordered, manifests),
    }
    BackupPlan {
        datasets: planner.plans,
    }
}

/// The covered source datasets in the order to run them: parents before children (the
/// component-wise name order), each clone after its origin's dataset.
fn run_order<'a>(job: &BackupJob, sources: &'a [SourceDataset]) -> Vec<&'a SourceDataset> {
    let mut covered: Vec<&SourceDataset> = sources
        .iter()
        .filter(|source| job.covers(&source.name))
        .collect();
    covered.sort_by(|left, right| left.name.cmp(&right.name));
    let covered_names: BTreeSet<&DatasetName> = covered.iter().map(|source| &source.name).collect();
    let mut placed: BTreeSet<&DatasetName> = BTreeSet::new();
    let mut ordered = Vec::with_capacity(covered.len());
    let mut waiting = covered;
    loop {
        let before = waiting.len();
        let mut still_waiting = Vec::new();
        for source in waiting {
            let origin_dataset = source.origin.as_ref().map(SnapshotName::dataset);
            let ready = origin_dataset
                .is_none_or(|origin| !covered_names.contains(origin) || placed.contains(origin));
            if ready {
                placed.insert(&source.name);
                ordered.push(source);
            } else {
                still_waiting.push(source);
            }
        }
        waiting = still_waiting;
        if waiting.is_empty() || waiting.len() == before {
            ordered.extend(waiting);
            return ordered;
        }
    }
}

/// The source's snapshots in creation order.
fn sorted_snapshots(source: &SourceDataset) -> Vec<&Snapshot> {
    let mut snapshots: Vec<&Snapshot> = source.snapshots.iter().collect();
    snapshots.sort_by_key(|snapshot| (snapshot.createtxg, snapshot.creation));
    snapshots
}

/// What the source still has of a guid: the snapshot if it exists, else a bookmark; with
/// the `createtxg` it stands at.
fn source_bases(source: &SourceDataset) -> BTreeMap<u64, (SendBase, u64)> {
    let mut bases = BTreeMap::new();
    for bookmark in &source.bookmarks {
        bases.insert(
            bookmark.guid,
            (
                SendBase::Bookmark(bookmark.name.clone()),
                bookmark.createtxg,
            ),
        );
    }
    for snapshot in &source.snapshots {
        bases.insert(
            snapshot.guid,
            (
                SendBase::Snapshot(snapshot.name.clone()),
                snapshot.createtxg,
            ),
        );
    }
    bases
}

/// A full stream of the oldest snapshot and an incremental to the newest.
fn full_send(snapshots: &[&Snapshot]) -> Action {
    match (snapshots.first(), snapshots.last()) {
        (Some(first), Some(last)) => Action::FullSend {
            first: first.name.clone(),
            to: last.name.clone(),
            intermediates: between(snapshots, first.createtxg, last.createtxg),
        },
        _ => Action::NothingToDo(Idle::NoSourceSnapshot),
    }
}

/// The snapshots strictly between two `createtxg`s, oldest first.
fn between(snapshots: &[&Snapshot], after: u64, before: u64) -> Vec<SnapshotName> {
    snapshots
        .iter()
        .filter(|snapshot| snapshot.createtxg > after && snapshot.createtxg < before)
        .map(|snapshot| snapshot.name.clone())
        .collect()
}

/// The action from a common base at `base_createtxg`: up to date, or an incremental to the
/// newest snapshot.
fn from_base(
    snapshots: &[&Snapshot],
    base: &SendBase,
    base_createtxg: u64,
    common_name: &SnapshotName,
) -> Action {
    match snapshots.last() {
        Some(newest) if newest.createtxg > base_createtxg => Action::Incremental {
            from: base.clone(),
            to: newest.name.clone(),
            intermediates: between(snapshots, base_createtxg, newest.createtxg),
        },
        _ => Action::NothingToDo(Idle::UpToDate {
            snapshot: match base {
                SendBase::Snapshot(name) => name.clone(),
                _ => common_name.clone(),
            },
        }),
    }
}

/// `dataset` with its pool-relative name appended below `root`.
fn target_name(root: &DatasetName, dataset: &DatasetName) -> Option<DatasetName> {
    dataset
        .components()
        .try_fold(root.clone(), |name, component| name.child(component).ok())
}

/// A new dataset beside `stale` for a fresh full backup: `<last>-full-<UTC second>`.
fn fresh_name(stale: &DatasetName, now: Timestamp) -> Option<DatasetName> {
    let civil = now.to_civil_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    );
    let component = format!("{}-full-{stamp}", stale.last_component());
    stale.parent()?.child(&component).ok()
}

/// `name` with its prefix `from` replaced by `to` (a rename of `from` moves its children).
fn renamed(name: &DatasetName, from: &DatasetName, to: &DatasetName) -> Option<DatasetName> {
    let rest = name.as_str().strip_prefix(from.as_str())?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    DatasetName::new(&format!("{}{rest}", to.as_str())).ok()
}

struct Planner<'a> {
    job: &'a BackupJob,
    sources: &'a [SourceDataset],
    now: Timestamp,
    plans: Vec<DatasetPlan>,
}

impl Planner<'_> {
    fn push(&mut self, source: &SourceDataset, target: DatasetName, action: Action) {
        self.plans.push(DatasetPlan {
            source: source.name.clone(),
            target,
            rename_from: None,
            roll_back: None,
            new_chain: false,
            base: None,
            action,
        });
    }

    fn plan_pool(
        &mut self,
        ordered: &[&SourceDataset],
        root: &DatasetName,
        mut targets: Vec<TargetDataset>,
    ) {
        let mapped: BTreeSet<DatasetName> = ordered
            .iter()
            .filter_map(|source| target_name(root, &source.name))
            .collect();
        let mut claimed: BTreeSet<DatasetName> = BTreeSet::new();
        for &source in ordered {
            let Some(mapped_name) = target_name(root, &source.name) else {
                let refusal = Refusal::TargetNameTooLong {
                    source_dataset: source.name.clone(),
                    root: root.clone(),
                };
                self.push(source, root.clone(), Action::Refused(refusal));
                continue;
            };
            let bases = source_bases(source);
            let shares = |dataset: &TargetDataset| {
                dataset
                    .snapshots
                    .iter()
                    .any(|snapshot| bases.contains_key(&snapshot.guid))
            };
            let exact = targets
                .iter()
                .position(|dataset| dataset.name == mapped_name);
            let exact_continues = exact.is_some_and(|index| {
                shares(&targets[index]) || targets[index].job.as_ref() != Some(&self.job.id)
            });
            // Another of this job's datasets holding this source's snapshots: the source was
            // renamed, or a new full backup was started beside a stale dataset.
            let elsewhere = if exact_continues {
                None
            } else {
                targets
                    .iter()
                    .enumerate()
                    .filter(|(_, dataset)| {
                        dataset.job.as_ref() == Some(&self.job.id)
                            && !mapped.contains(&dataset.name)
                            && !claimed.contains(&dataset.name)
                            && shares(dataset)
                    })
                    .max_by_key(|(_, dataset)| newest_common_createtxg(dataset, &bases))
                    .map(|(index, _)| index)
            };
            let mut rename_from = None;
            let chosen = match (exact, elsewhere) {
                (None, Some(index)) => {
                    let old = targets[index].name.clone();
                    for dataset in &mut targets {
                        if let Some(new_name) = renamed(&dataset.name, &old, &mapped_name) {
                            dataset.name = new_name;
                        }
                    }
                    rename_from = Some(old);
                    Some(index)
                }
                (_, Some(index)) => Some(index),
                (exact, None) => exact,
            };
            if let Some(index) = chosen {
                claimed.insert(targets[index].name.clone());
            }
            let mut plan = self.plan_pool_dataset(source, &mapped_name, chosen, &targets);
            plan.rename_from = rename_from;
            self.plans.push(plan);
        }
    }

    fn plan_pool_dataset(
        &self,
        source: &SourceDataset,
        mapped_name: &DatasetName,
        chosen: Option<usize>,
        targets: &[TargetDataset],
    ) -> DatasetPlan {
        let target = chosen.and_then(|index| targets.get(index));
        let snapshots = sorted_snapshots(source);
        let mut plan = DatasetPlan {
            source: source.name.clone(),
            target: mapped_name.clone(),
            rename_from: None,
            roll_back: None,
            new_chain: false,
            base: None,
            action: Action::NothingToDo(Idle::NoSourceSnapshot),
        };
        let Some(target) = target else {
            plan.action = self
                .clone_send(source, &snapshots, targets)
                .unwrap_or_else(|| full_send(&snapshots));
            return plan;
        };
        plan.target = target.name.clone();
        if target.job.as_ref() != Some(&self.job.id) {
            plan.action = Action::Refused(Refusal::NotThisJob {
                target: target.name.clone(),
                owner: target.job.clone(),
            });
            return plan;
        }
        let bases = source_bases(source);
        let mut target_snapshots: Vec<_> = target.snapshots.iter().collect();
        target_snapshots.sort_by_key(|snapshot| snapshot.createtxg);
        let common = target_snapshots
            .iter()
            .rev()
            .find_map(|snapshot| Some((*snapshot, bases.get(&snapshot.guid)?)));
        plan.base = common.map(|(_, (base, _))| base.clone());
        if let Some(token) = &target.resume_token {
            plan.action = Action::Resume {
                token: token.clone(),
            };
            return plan;
        }
        let Some((common_snapshot, (base, base_createtxg))) = common else {
            let roll_back_empty = target_snapshots.is_empty() && self.job.options.roll_back_target;
            if snapshots.is_empty() {
                plan.action = Action::NothingToDo(Idle::NoSourceSnapshot);
            } else if roll_back_empty {
                plan.roll_back = Some(RollBack {
                    destroys: Vec::new(),
                    discards_changes: target.modified,
                });
                plan.action = full_send(&snapshots);
            } else if self.job.options.missing_base == MissingBase::FullIntoNewDataset {
                match fresh_name(&target.name, self.now) {
                    Some(fresh) => {
                        plan.target = fresh;
                        plan.action = full_send(&snapshots);
                    }
                    None => {
                        plan.action = Action::Refused(Refusal::TargetNameTooLong {
                            source_dataset: source.name.clone(),
                            root: target.name.clone(),
                        });
                    }
                }
            } else {
                plan.action = Action::Refused(Refusal::NoCommonBase {
                    target: target.name.clone(),
                    target_newest: target_snapshots
                        .last()
                        .map(|snapshot| snapshot.name.clone()),
                });
            }
            return plan;
        };
        let newer: Vec<SnapshotName> = target_snapshots
            .iter()
            .filter(|snapshot| snapshot.createtxg > common_snapshot.createtxg)
            .map(|snapshot| snapshot.name.clone())
            .collect();
        let action = from_base(&snapshots, base, *base_createtxg, &common_snapshot.name);
        let sends = !matches!(action, Action::NothingToDo(_));
        if sends && (!newer.is_empty() || target.modified) {
            if !self.job.options.roll_back_target {
                plan.action = Action::Refused(Refusal::Diverged {
                    target: target.name.clone(),
                    common: common_snapshot.name.clone(),
                    newer_on_target: newer,
                    modified: target.modified,
                });
                return plan;
            }
            plan.roll_back = Some(RollBack {
                destroys: newer,
                discards_changes: target.modified,
            });
        }
        plan.action = action;
        plan
    }

    /// A new clone whose origin the target has (or receives earlier this run): sent as an
    /// incremental from the origin, so the target keeps sharing its blocks.
    fn clone_send(
        &self,
        source: &SourceDataset,
        snapshots: &[&Snapshot],
        targets: &[TargetDataset],
    ) -> Option<Action> {
        let origin = source.origin.as_ref()?;
        let origin_source = self
            .sources
            .iter()
            .find(|candidate| candidate.name == *origin.dataset())?;
        let origin_snapshot = origin_source
            .snapshots
            .iter()
            .find(|snapshot| snapshot.name == *origin)?;
        let origin_plan = self
            .plans
            .iter()
            .find(|plan| plan.source == origin_source.name)?;
        let sent_this_run = match &origin_plan.action {
            Action::FullSend {
                first,
                to,
                intermediates,
            } => first == origin || to == origin || intermediates.contains(origin),
            Action::Incremental {
                to, intermediates, ..
            } => to == origin || intermediates.contains(origin),
            _ => false,
        };
        let already_there = targets.iter().any(|dataset| {
            dataset.name == origin_plan.target
                && dataset
                    .snapshots
                    .iter()
                    .any(|snapshot| snapshot.guid == origin_snapshot.guid)
        });
        let origin_on_target = sent_this_run || already_there;
        if !origin_on_target {
            return None;
        }
        let newest = snapshots.last()?;
        Some(Action::Incremental {
            from: SendBase::CloneOrigin(origin.clone()),
            to: newest.name.clone(),
            intermediates: between(snapshots, 0, newest.createtxg),
        })
    }

    fn plan_files(&mut self, ordered: &[&SourceDataset], manifests: &[Manifest]) {
        let covered: BTreeSet<&DatasetName> = ordered.iter().map(|source| &source.name).collect();
        let mut claimed: BTreeSet<&DatasetName> = BTreeSet::new();
        for &source in ordered {
            let bases = source_bases(source);
            let shares = |manifest: &Manifest| {
                manifest
                    .chain
                    .iter()
                    .any(|link| bases.contains_key(&link.to_guid))
            };
            let exact = manifests
                .iter()
                .find(|manifest| manifest.dataset == source.name);
            let manifest = match exact {
                Some(found) if shares(found) || found.job.as_ref() != Some(&self.job.id) => {
                    Some(found)
                }
                _ => manifests
                    .iter()
                    .find(|manifest| {
                        manifest.job.as_ref() == Some(&self.job.id)
                            && !covered.contains(&manifest.dataset)
                            && !claimed.contains(&manifest.dataset)
                            && shares(manifest)
                    })
                    .or(exact),
            };
            if let Some(found) = manifest {
                claimed.insert(&found.dataset);
            }
            let plan = self.plan_manifest(source, manifest, &bases);
            self.plans.push(plan);
        }
    }

    fn plan_manifest(
        &self,
        source: &SourceDataset,
        manifest: Option<&Manifest>,
        bases: &BTreeMap<u64, (SendBase, u64)>,
    ) -> DatasetPlan {
        let snapshots = sorted_snapshots(source);
        let mut plan = DatasetPlan {
            source: source.name.clone(),
            target: source.name.clone(),
            rename_from: None,
            roll_back: None,
            new_chain: false,
            base: None,
            action: full_send(&snapshots),
        };
        let Some(manifest) = manifest.filter(|manifest| !manifest.chain.is_empty()) else {
            return plan;
        };
        plan.target = manifest.dataset.clone();
        if manifest.job.as_ref() != Some(&self.job.id) {
            plan.action = Action::Refused(Refusal::NotThisJob {
                target: manifest.dataset.clone(),
                owner: manifest.job.clone(),
            });
            return plan;
        }
        let broken = manifest.chain.iter().enumerate().find(|(position, link)| {
            let expected = position
                .checked_sub(1)
                .map(|previous| manifest.chain[previous].to_guid);
            link.from_guid != expected
        });
        let missing_base = self.job.options.missing_base == MissingBase::FullIntoNewDataset;
        if let Some((position, _)) = broken {
            if missing_base {
                plan.new_chain = true;
            } else {
                plan.action = Action::Refused(Refusal::BrokenChain {
                    dataset: manifest.dataset.clone(),
                    position,
                });
            }
            return plan;
        }
        let last = manifest.chain.last();
        match last.and_then(|link| Some((link, bases.get(&link.to_guid)?))) {
            Some((link, (base, base_createtxg))) => {
                plan.base = Some(base.clone());
                plan.action = from_base(&snapshots, base, *base_createtxg, &link.to);
            }
            None if missing_base => plan.new_chain = true,
            None => {
                plan.action = Action::Refused(Refusal::NoCommonBase {
                    target: manifest.dataset.clone(),
                    target_newest: last.map(|link| link.to.clone()),
                });
            }
        }
        plan
    }
}

/// The target `createtxg` of the newest snapshot the source still has, for choosing among
/// several candidate datasets.
fn newest_common_createtxg(dataset: &TargetDataset, bases: &BTreeMap<u64, (SendBase, u64)>) -> u64 {
    dataset
        .snapshots
        .iter()
        .filter(|snapshot| bases.contains_key(&snapshot.guid))
        .map(|snapshot| snapshot.createtxg)
        .max()
        .unwrap_or(0)
}
