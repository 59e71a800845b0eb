//! What every target's run of a backup job shares, whatever it writes to: why a run does not
//! start ([`RunError`]), the tag of the job's holds on the source ([`hold_tag`]), listing the
//! source datasets a job covers, turning a planned send step into a `zfs send`, and the
//! [`RunLog`] a run fills — the report of each dataset, the holds placed and released so
//! exactly the bases the plan needs are held, and the bookmarks of what the target has.
//!
//! This file exists so the local-pool and the file target (and the targets still to come)
//! keep the chain on the source by the same rules, written once.

use std::collections::BTreeSet;
use std::path::PathBuf;

use wizfs_core::backup::{
    Action, BackupJob, BackupPlan, DatasetPlan, SendBase, SendStep, SourceDataset, TargetKind,
    hold_changes, protected_source_snapshots,
};
use wizfs_core::{DatasetName, Hold, SnapshotName};
use wizfs_zfs::{HoldTag, IncrementalBase, Scope, SendFlags, SendSource, Zfs, ZfsError, ZfsResult};

use crate::durable::FileError;
use crate::pipeline::PipelineError;
use crate::report::{DatasetReport, RunReport, Step, StepError};

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The job's target is not of the kind this run writes to.
    #[error("backup job `{job}` writes to a {kind} target, not {expected}")]
    WrongTarget {
        /// The job.
        job: String,
        /// Its target's kind.
        kind: &'static str,
        /// What the run writes to, in words.
        expected: &'static str,
    },
    /// The target pool is not imported.
    #[error("the target pool `{pool}` of backup job `{job}` is not imported")]
    PoolMissing {
        /// The job.
        job: String,
        /// The pool.
        pool: String,
    },
    /// The rotating disk is not attached (or imported under another pool): the job waits.
    #[error(
        "the disk of backup job `{job}` with pool guid {pool_guid} is not attached; the job \
         waits for it"
    )]
    DiskAbsent {
        /// The job.
        job: String,
        /// The disk's pool guid.
        pool_guid: u64,
    },
    /// The file target's directory does not exist (a disk not mounted, a share not
    /// reached): nothing is written beside it, into the mount point's own file system.
    #[error(
        "the target directory `{}` of backup job `{job}` does not exist or is no directory; \
         mount its disk or share, or create it",
        directory.display()
    )]
    DirectoryMissing {
        /// The job.
        job: String,
        /// The target directory.
        directory: PathBuf,
    },
    /// Another run of the job is writing to the file target right now.
    #[error("another run of backup job `{job}` is writing to `{}` right now", directory.display())]
    Busy {
        /// The job.
        job: String,
        /// The target directory.
        directory: PathBuf,
    },
    /// The file target's directory cannot be locked or listed.
    #[error("backup job `{job}` cannot use its target directory: {source}")]
    Directory {
        /// The job.
        job: String,
        /// What failed, on which path.
        #[source]
        source: FileError,
    },
    /// The job's compression or encryption cannot be used by a file target (yet).
    #[error("backup job `{job}` cannot store its streams: {source}")]
    Pipeline {
        /// The job.
        job: String,
        /// Why.
        #[source]
        source: PipelineError,
    },
    /// The job's hold tag cannot be formed (never for a valid job id).
    #[error("backup job `{job}` has no valid hold tag: {source}")]
    HoldTag {
        /// The job.
        job: String,
        /// Why.
        #[source]
        source: wizfs_zfs::types::ArgumentError,
    },
    /// Listing the source or the target failed before anything was changed.
    #[error("listing for backup job `{job}` failed: {source}")]
    List {
        /// The job.
        job: String,
        /// What ZFS said.
        #[source]
        source: ZfsError,
    },
}

impl RunError {
    /// A listing failure of `job`, for `map_err`.
    pub(crate) fn list(job: &BackupJob) -> impl FnOnce(ZfsError) -> RunError + '_ {
        move |source| RunError::List {
            job: job.id.to_string(),
            source,
        }
    }
}

/// The word of a target kind, for messages.
pub(crate) fn kind_name(target: &TargetKind) -> &'static str {
    match target {
        TargetKind::LocalPool { .. } => "pool",
        TargetKind::Ssh { .. } => "ssh",
        TargetKind::RotatingDisk { .. } => "rotating-disks",
        TargetKind::Files { .. } => "files",
        TargetKind::S3 { .. } => "s3",
    }
}

/// The tag of a job's holds on the source: `wizfs-backup-<job>`, and `-<pool guid>` for a
/// rotating disk (each disk needs its own base).
pub fn hold_tag(job: &BackupJob) -> Result<HoldTag, wizfs_zfs::types::ArgumentError> {
    match &job.target {
        TargetKind::RotatingDisk { pool_guid, .. } => {
            HoldTag::new(&format!("wizfs-backup-{}-{pool_guid}", job.id))
        }
        _ => HoldTag::new(&format!("wizfs-backup-{}", job.id)),
    }
}

/// The job's hold tag, or why the run cannot start.
pub(crate) fn checked_hold_tag(job: &BackupJob) -> Result<HoldTag, RunError> {
    hold_tag(job).map_err(|source| RunError::HoldTag {
        job: job.id.to_string(),
        source,
    })
}

/// Every dataset the job covers, with its snapshots and bookmarks. Clones are listed
/// without their origin: they are sent in full (no target receives clones as clones yet).
pub(crate) fn list_sources(zfs: &dyn Zfs, job: &BackupJob) -> ZfsResult<Vec<SourceDataset>> {
    let mut sources: Vec<SourceDataset> = Vec::new();
    for scope in &job.sources {
        for dataset in zfs.list_datasets(Some(&scope.dataset))? {
            if !job.covers(&dataset.name) || sources.iter().any(|known| known.name == dataset.name)
            {
                continue;
            }
            sources.push(SourceDataset {
                snapshots: zfs.list_snapshots(&dataset.name, Scope::Dataset)?,
                bookmarks: zfs.list_bookmarks(&dataset.name)?,
                name: dataset.name,
                origin: None,
            });
        }
    }
    Ok(sources)
}

/// Whether an action sends a stream.
pub(crate) fn sends_something(action: &Action) -> bool {
    matches!(
        action,
        Action::FullSend { .. } | Action::Incremental { .. } | Action::Resume { .. }
    )
}

/// The `zfs send` of one planned step (`-w` when the job sends raw).
pub(crate) fn send_source(job: &BackupJob, step: &SendStep) -> SendSource {
    let base = step.from.as_ref().map(|from| match from {
        SendBase::Snapshot(name) | SendBase::CloneOrigin(name) if step.intermediates => {
            IncrementalBase::SnapshotWithIntermediates(name.clone())
        }
        SendBase::Snapshot(name) | SendBase::CloneOrigin(name) => {
            IncrementalBase::Snapshot(name.clone())
        }
        SendBase::Bookmark(name) => IncrementalBase::Bookmark(name.clone()),
    });
    SendSource::Snapshot {
        snapshot: step.to.clone(),
        base,
        flags: SendFlags {
            raw: job.options.raw,
            ..SendFlags::default()
        },
    }
}

/// What a run did so far, and the holds and bookmarks it keeps in step with its plans.
#[derive(Debug)]
pub(crate) struct RunLog {
    /// The job's hold tag.
    pub tag: HoldTag,
    /// Per source dataset, in the order they ran.
    pub reports: Vec<DatasetReport>,
    /// Failures outside any one dataset.
    pub errors: Vec<StepError>,
    /// Holds placed.
    pub held: Vec<SnapshotName>,
    /// Holds released.
    pub released: Vec<SnapshotName>,
}

impl RunLog {
    pub fn new(tag: HoldTag) -> RunLog {
        RunLog {
            tag,
            reports: Vec::new(),
            errors: Vec::new(),
            held: Vec::new(),
            released: Vec::new(),
        }
    }

    /// The run's report.
    pub fn finish(self, job: &BackupJob) -> RunReport {
        RunReport {
            job: job.id.clone(),
            datasets: self.reports,
            held: self.held,
            released: self.released,
            errors: self.errors,
        }
    }

    /// What a listing after the sends gave; its failure is the run's error (`None`).
    pub fn listed<T>(&mut self, listing: ZfsResult<T>) -> Option<T> {
        match listing {
            Ok(listed) => Some(listed),
            Err(source) => {
                self.errors.push(StepError::Zfs {
                    step: Step::List,
                    source,
                });
                None
            }
        }
    }

    /// The report of `plan`'s dataset (made the first time it is asked for).
    pub fn report_for(&mut self, plan: &DatasetPlan) -> &mut DatasetReport {
        let index = match self
            .reports
            .iter()
            .position(|report| report.source == plan.source)
        {
            Some(index) => index,
            None => {
                self.reports.push(DatasetReport {
                    source: plan.source.clone(),
                    target: plan.target.clone(),
                    action: plan.action.clone(),
                    chain: None,
                    sends: Vec::new(),
                    bookmarks: Vec::new(),
                    pruned: Vec::new(),
                    removed_chains: Vec::new(),
                    errors: Vec::new(),
                });
                self.reports.len() - 1
            }
        };
        &mut self.reports[index]
    }

    pub fn dataset_report(&mut self, source: &DatasetName) -> Option<&mut DatasetReport> {
        self.reports
            .iter_mut()
            .find(|report| &report.source == source)
    }

    /// Files `error` under its dataset's report (the run's when the dataset has none).
    pub fn dataset_error(&mut self, source: &DatasetName, error: StepError) {
        match self.dataset_report(source) {
            Some(report) => report.errors.push(error),
            None => self.errors.push(error),
        }
    }

    /// Makes this job's holds match what `plan` protects: places the missing ones, and with
    /// `release` releases the others.
    pub fn sync_holds(
        &mut self,
        zfs: &dyn Zfs,
        plan: &BackupPlan,
        sources: &[SourceDataset],
        release: bool,
    ) {
        let protected = protected_source_snapshots(&[plan], sources);
        let mut current: Vec<Hold> = Vec::new();
        for snapshot in sources
            .iter()
            .flat_map(|source| &source.snapshots)
            .filter(|snapshot| snapshot.user_refs > 0)
        {
            match zfs.holds(&snapshot.name) {
                Ok(holds) => current.extend(holds),
                Err(source) => self.errors.push(StepError::Zfs {
                    step: Step::Hold(snapshot.name.clone()),
                    source,
                }),
            }
        }
        let changes = hold_changes(&protected, &current, self.tag.as_str());
        for snapshot in changes.place {
            match zfs.hold(&snapshot, &self.tag, false) {
                Ok(()) => self.held.push(snapshot),
                Err(source) => self.errors.push(StepError::Zfs {
                    step: Step::Hold(snapshot),
                    source,
                }),
            }
        }
        if !release {
            return;
        }
        for snapshot in changes.release {
            match zfs.release(&snapshot, &self.tag, false) {
                Ok(()) => self.released.push(snapshot),
                Err(source) => self.errors.push(StepError::Zfs {
                    step: Step::Hold(snapshot),
                    source,
                }),
            }
        }
    }

    /// Bookmarks every source snapshot whose guid the target has (`on_target`) and the
    /// source has no bookmark of: the base of a later incremental once the snapshot is
    /// pruned.
    pub fn bookmark_sent(
        &mut self,
        zfs: &dyn Zfs,
        source: &SourceDataset,
        on_target: &BTreeSet<u64>,
    ) {
        let bookmarked: BTreeSet<u64> = source
            .bookmarks
            .iter()
            .map(|bookmark| bookmark.guid)
            .collect();
        for snapshot in source.snapshots.iter().filter(|snapshot| {
            on_target.contains(&snapshot.guid) && !bookmarked.contains(&snapshot.guid)
        }) {
            let bookmark = snapshot.name.to_bookmark_name();
            match zfs.create_bookmark(&snapshot.name, &bookmark) {
                Ok(()) => {
                    if let Some(report) = self.dataset_report(&source.name) {
                        report.bookmarks.push(bookmark);
                    }
                }
                Err(error) => self.dataset_error(
                    &source.name,
                    StepError::Zfs {
                        step: Step::Bookmark(snapshot.name.clone()),
                        source: error,
                    },
                ),
            }
        }
    }
}
