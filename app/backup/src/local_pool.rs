//! The local-pool target: one run of a backup job into another pool of this machine (or an
//! attached rotating disk's pool), all through [`Zfs`].
//!
//! A run lists the source's snapshots and bookmarks and the target's state, asks the planner
//! of `wizfs-core` ([`plan_backup`]), holds the bases the plan needs, then per dataset sends
//! what it says — a full stream, an incremental (from a bookmark when the base snapshot is
//! gone), or the rest of an interrupted receive from its token — always into a resumable
//! receive (`zfs receive -s -u`), with `-F` only when the job chose "roll back the target"
//! and the plan names what it destroys. A resumed stream ends at the snapshot it was
//! interrupted in, so the run plans again after a resume (at most [`MAXIMUM_ROUNDS`]).
//! Then it lists both sides again and makes them agree with the new plan: received
//! snapshots marked as sent by this job (`wizfs:backup-sent`), every snapshot the target has
//! bookmarked on the source (the fallback base), this job's holds placed on the bases the
//! plan still needs and released from the others; last, the target is pruned by the job's
//! retention, destroying only snapshots this job sent. Datasets the planner refuses are not
//! touched; their refusal, with its remedies, is in the [`RunReport`].

mod listing;

use std::collections::{BTreeMap, BTreeSet};

use wizfs_core::backup::{
    Action, BackupJob, BackupPlan, DatasetPlan, SourceDataset, TargetDataset, TargetKind,
    TargetState, plan_backup, plan_target_retention,
};
use wizfs_core::rotation::Calendar;
use wizfs_core::{DatasetName, SnapshotName, Timestamp, ZfsObjectName};
use wizfs_zfs::{
    DestroyOptions, PropertyName, ReceiveOptions, ResumeToken, SendSource, Zfs, ZfsError,
};

use crate::metered::Metered;
use crate::report::{RunReport, SentStream, Step, StepError};
use crate::run::{
    RunError, RunLog, checked_hold_tag, kind_name, list_sources, send_source, sends_something,
};
pub use listing::{JOB_PROPERTY, SENT_PROPERTY};
use listing::{job_property, list_target, sent_property};

/// Rounds of planning and sending in one run (a resume, then what followed it).
pub const MAXIMUM_ROUNDS: usize = 3;

/// Runs `job` once into its local pool (or attached rotating disk) at `now`; `calendar`
/// gives the retention's buckets. Errors only when the run cannot start; everything after
/// that is in the report.
pub fn run_local_pool(
    zfs: &dyn Zfs,
    job: &BackupJob,
    now: Timestamp,
    calendar: &dyn Calendar,
) -> Result<RunReport, RunError> {
    let root = check_target(zfs, job)?;
    let mut run = Run {
        zfs,
        job,
        root: &root,
        log: RunLog::new(checked_hold_tag(job)?),
    };
    let (mut sources, mut targets) = run.list().map_err(RunError::list(job))?;
    for round in 0..MAXIMUM_ROUNDS {
        let plan = plan_backup(job, &sources, &TargetState::Pool(targets.clone()), now);
        if round == 0 {
            // Hold every base the plan needs before sending, so no snapshot policy prunes it
            // mid-run.
            run.log.sync_holds(zfs, &plan, &sources, false);
        }
        let mut resumed = false;
        for dataset_plan in &plan.datasets {
            if round > 0 && !sends_something(&dataset_plan.action) {
                continue;
            }
            resumed |= run.execute(dataset_plan, &plan, &targets);
        }
        if !resumed {
            break;
        }
        let listed = run.list();
        match run.log.listed(listed) {
            Some(listed) => (sources, targets) = listed,
            None => return Ok(run.log.finish(job)),
        }
    }
    run.settle(now, calendar);
    Ok(run.log.finish(job))
}

/// The dataset received streams land under, after checking its pool is there.
fn check_target(zfs: &dyn Zfs, job: &BackupJob) -> Result<DatasetName, RunError> {
    let (root, guid) = match &job.target {
        TargetKind::LocalPool { root } => (root, None),
        TargetKind::RotatingDisk { pool_guid, root } => (root, Some(*pool_guid)),
        other => {
            return Err(RunError::WrongTarget {
                job: job.id.to_string(),
                kind: kind_name(other),
                expected: "a pool of this machine",
            });
        }
    };
    let pools = zfs.list_pools().map_err(RunError::list(job))?;
    let pool = pools.iter().find(|pool| pool.name == root.pool());
    match (guid, pool) {
        (Some(pool_guid), found) if found.is_none_or(|pool| pool.guid != pool_guid) => {
            Err(RunError::DiskAbsent {
                job: job.id.to_string(),
                pool_guid,
            })
        }
        (None, None) => Err(RunError::PoolMissing {
            job: job.id.to_string(),
            pool: root.pool().to_string(),
        }),
        _ => Ok(root.clone()),
    }
}

/// The state of one run.
struct Run<'a> {
    zfs: &'a dyn Zfs,
    job: &'a BackupJob,
    root: &'a DatasetName,
    log: RunLog,
}

impl Run<'_> {
    fn list(&self) -> Result<(Vec<SourceDataset>, Vec<TargetDataset>), ZfsError> {
        Ok((
            list_sources(self.zfs, self.job)?,
            list_target(self.zfs, &self.job.id, self.root)?,
        ))
    }

    /// Carries out one dataset's plan; whether it resumed a receive (so the run plans
    /// again).
    fn execute(
        &mut self,
        plan: &DatasetPlan,
        whole: &BackupPlan,
        targets: &[TargetDataset],
    ) -> bool {
        self.log.report_for(plan);
        if !sends_something(&plan.action) {
            return false;
        }
        if let Some(from) = &plan.rename_from {
            let error = StepError::RenameNeeded {
                from: from.clone(),
                to: plan.target.clone(),
            };
            self.log.report_for(plan).errors.push(error);
            return false;
        }
        if let Err(error) = self.create_parents(&plan.target, whole, targets) {
            self.log.report_for(plan).errors.push(*error);
            return false;
        }
        match &plan.action {
            Action::Resume { token } => self.resume(plan, token),
            _ => {
                self.send_steps(plan);
                false
            }
        }
    }

    /// Creates the datasets between the pool and the target's parent that do not exist,
    /// with `canmount=off` (placeholders, never mounted); refuses when one of them is the
    /// target of another source of this job (it must be received, not created).
    fn create_parents(
        &self,
        target: &DatasetName,
        whole: &BackupPlan,
        targets: &[TargetDataset],
    ) -> Result<(), Box<StepError>> {
        let mut missing = Vec::new();
        let mut ancestor = target.parent();
        while let Some(name) = ancestor {
            if name.is_root() || targets.iter().any(|dataset| dataset.name == name) {
                break;
            }
            let exists = match self.zfs.list_datasets(Some(&name)) {
                Ok(_) => true,
                Err(error) if error.is_not_found() => false,
                Err(source) => {
                    return Err(Box::new(StepError::Zfs {
                        step: Step::CreateParent(name),
                        source,
                    }));
                }
            };
            if exists {
                break;
            }
            ancestor = name.parent();
            missing.push(name);
        }
        for name in missing.into_iter().rev() {
            if whole.datasets.iter().any(|other| other.target == name) {
                return Err(Box::new(StepError::ParentNotBackedUp {
                    parent: name,
                    target: target.clone(),
                }));
            }
            let canmount = (
                PropertyName::new("canmount").map_err(|error| {
                    Box::new(StepError::Zfs {
                        step: Step::CreateParent(name.clone()),
                        source: error.into(),
                    })
                })?,
                "off".to_owned(),
            );
            self.zfs
                .create_filesystem(&name, &[canmount])
                .map_err(|source| {
                    Box::new(StepError::Zfs {
                        step: Step::CreateParent(name.clone()),
                        source,
                    })
                })?;
        }
        Ok(())
    }

    /// The sends of a full or incremental action, in order; stops at the first failure.
    fn send_steps(&mut self, plan: &DatasetPlan) {
        for (index, step) in plan.action.send_steps().into_iter().enumerate() {
            let source = send_source(self.job, &step);
            let rolled_back = index == 0 && plan.roll_back.is_some();
            let mut options = ReceiveOptions {
                resumable: true,
                force_rollback: rolled_back,
                unmounted: true,
                properties: Vec::new(),
            };
            if step.from.is_none() {
                match job_property() {
                    Ok(property) => options.properties.push((property, self.job.id.to_string())),
                    Err(source) => {
                        let to = Some(step.to.clone());
                        self.log.report_for(plan).errors.push(StepError::Zfs {
                            step: Step::Send { to },
                            source,
                        });
                        return;
                    }
                }
            }
            let result = self.transfer(&source, &plan.target, &options);
            let report = self.log.report_for(plan);
            match result {
                Ok(bytes) => report.sends.push(SentStream {
                    from: step.from.clone(),
                    to: Some(step.to.clone()),
                    resumed: false,
                    rolled_back,
                    bytes,
                }),
                Err(source) => {
                    report.errors.push(StepError::Zfs {
                        step: Step::Send {
                            to: Some(step.to.clone()),
                        },
                        source,
                    });
                    return;
                }
            }
        }
    }

    /// `zfs send -t token | zfs receive -s`; a token whose snapshot is gone from the source
    /// can never be completed, so its partial state is discarded (`zfs receive -A`) and the
    /// next round plans afresh. Whether the receive was resumed.
    fn resume(&mut self, plan: &DatasetPlan, token: &str) -> bool {
        let send = ResumeToken::new(token)
            .map_err(ZfsError::from)
            .map(SendSource::Resume);
        let options = ReceiveOptions {
            resumable: true,
            force_rollback: false,
            unmounted: true,
            properties: Vec::new(),
        };
        let result = send.and_then(|source| self.transfer(&source, &plan.target, &options));
        match result {
            Ok(bytes) => {
                let mark = job_property().and_then(|property| {
                    self.zfs.set_property(
                        &ZfsObjectName::Dataset(plan.target.clone()),
                        &property,
                        self.job.id.as_str(),
                    )
                });
                let report = self.log.report_for(plan);
                report.sends.push(SentStream {
                    from: None,
                    to: None,
                    resumed: true,
                    rolled_back: false,
                    bytes,
                });
                if let Err(source) = mark {
                    report.errors.push(StepError::Zfs {
                        step: Step::Mark(plan.target.to_string()),
                        source,
                    });
                }
                true
            }
            Err(source) => {
                let unresumable = source.to_string().contains("no longer exists");
                let aborted = unresumable.then(|| self.zfs.abort_resumable_receive(&plan.target));
                let report = self.log.report_for(plan);
                report.errors.push(StepError::Zfs {
                    step: Step::Send { to: None },
                    source,
                });
                match aborted {
                    Some(Ok(())) => true,
                    Some(Err(source)) => {
                        report.errors.push(StepError::Zfs {
                            step: Step::AbortPartialReceive,
                            source,
                        });
                        false
                    }
                    None => false,
                }
            }
        }
    }

    /// One stream from `zfs send` into `zfs receive`, counted and paced; its bytes.
    fn transfer(
        &self,
        source: &SendSource,
        target: &DatasetName,
        options: &ReceiveOptions,
    ) -> Result<u64, ZfsError> {
        let stream = self.zfs.send(source)?;
        let mut metered = Metered::new(stream, self.job.options.bandwidth_limit_bytes_per_second);
        let received = self.zfs.receive(target, options, &mut metered);
        let bytes = metered.bytes_read();
        let finished = metered.into_inner().finish();
        received?;
        finished?;
        Ok(bytes)
    }

    /// After the sends: marks, bookmarks, holds, then retention on the target.
    fn settle(&mut self, now: Timestamp, calendar: &dyn Calendar) {
        let Some((sources, mut targets)) = self.log.listed(self.list()) else {
            return;
        };
        let plan = plan_backup(self.job, &sources, &TargetState::Pool(targets.clone()), now);
        let pairs: BTreeMap<DatasetName, DatasetName> = plan
            .datasets
            .iter()
            .map(|dataset| (dataset.target.clone(), dataset.source.clone()))
            .collect();
        for target in targets
            .iter_mut()
            .filter(|target| target.job.as_ref() == Some(&self.job.id))
        {
            let Some(source) = pairs
                .get(&target.name)
                .and_then(|name| sources.iter().find(|source| &source.name == name))
            else {
                continue;
            };
            self.mark_sent(target, source);
            let on_target: BTreeSet<u64> = target
                .snapshots
                .iter()
                .map(|snapshot| snapshot.guid)
                .collect();
            self.log.bookmark_sent(self.zfs, source, &on_target);
        }
        // The bookmarks are made: list the source again, so the holds see them.
        let sources = list_sources(self.zfs, self.job).unwrap_or(sources);
        self.log.sync_holds(self.zfs, &plan, &sources, true);
        for target in &targets {
            let Some(source) = pairs
                .get(&target.name)
                .and_then(|name| sources.iter().find(|source| &source.name == name))
            else {
                continue;
            };
            if target.job.as_ref() == Some(&self.job.id) {
                self.prune(target, source, now, calendar);
            }
        }
    }

    /// Marks the target's snapshots the source also has (this job sent them: the dataset
    /// is this job's and their guids are the source's) and that carry no mark yet.
    fn mark_sent(&mut self, target: &mut TargetDataset, source: &SourceDataset) {
        let guids = source_guids(source);
        for snapshot in target
            .snapshots
            .iter_mut()
            .filter(|snapshot| snapshot.sent_by.is_none() && guids.contains(&snapshot.guid))
        {
            let marked = sent_property().and_then(|property| {
                self.zfs.set_property(
                    &ZfsObjectName::Snapshot(snapshot.name.clone()),
                    &property,
                    self.job.id.as_str(),
                )
            });
            match marked {
                Ok(()) => snapshot.sent_by = Some(self.job.id.clone()),
                Err(source_error) => self.log.dataset_error(
                    &source.name,
                    StepError::Zfs {
                        step: Step::Mark(snapshot.name.to_string()),
                        source: source_error,
                    },
                ),
            }
        }
    }

    /// Destroys what the job's retention lets go on one target dataset: only snapshots
    /// marked as sent by this job and not held (the planner's verdicts, checked again).
    fn prune(
        &mut self,
        target: &TargetDataset,
        source: &SourceDataset,
        now: Timestamp,
        calendar: &dyn Calendar,
    ) {
        let retention = plan_target_retention(self.job, target, source, now, calendar);
        let doomed: Vec<SnapshotName> = retention
            .destroyed()
            .filter(|decision| {
                target.snapshots.iter().any(|snapshot| {
                    snapshot.name == decision.snapshot
                        && snapshot.sent_by.as_ref() == Some(&self.job.id)
                        && !snapshot.held
                })
            })
            .map(|decision| decision.snapshot.clone())
            .collect();
        if doomed.is_empty() {
            return;
        }
        match self
            .zfs
            .destroy_snapshots(&doomed, DestroyOptions::default())
        {
            Ok(()) => {
                if let Some(report) = self.log.dataset_report(&source.name) {
                    report.pruned.extend(doomed);
                }
            }
            Err(error) => self.log.dataset_error(
                &source.name,
                StepError::Zfs {
                    step: Step::Prune(target.name.clone()),
                    source: error,
                },
            ),
        }
    }
}

/// The guids the source still has, as snapshots or bookmarks.
fn source_guids(source: &SourceDataset) -> BTreeSet<u64> {
    source
        .snapshots
        .iter()
        .map(|snapshot| snapshot.guid)
        .chain(source.bookmarks.iter().map(|bookmark| bookmark.guid))
        .collect()
}
