//! What one run of a backup job did, typed, for the CLI, the console and the run history:
//! per source dataset the planner's action (a refusal keeps its reason and remedies), each
//! stream sent with its bytes, the bookmarks made, the target snapshots pruned (or, on a
//! file target, the chain written and the old chains removed), and every failure with the
//! step it happened in; for the run the holds placed and released.

use std::path::PathBuf;

use wizfs_core::backup::{Action, BackupJobId, Refusal, SendBase};
use wizfs_core::{BookmarkName, DatasetName, SnapshotName};
use wizfs_zfs::ZfsError;

use crate::durable::FileError;
use crate::writer::WriteError;

/// One `zfs send | zfs receive` of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentStream {
    /// The base (`None`: a full stream).
    pub from: Option<SendBase>,
    /// The snapshot sent; `None` for a resumed stream (the token names it).
    pub to: Option<SnapshotName>,
    /// Whether the stream continued an interrupted receive (`zfs send -t`).
    pub resumed: bool,
    /// Whether the target was rolled back first (`zfs receive -F`, the job's opt-in).
    pub rolled_back: bool,
    /// The stream's length, as read from `zfs send`.
    pub bytes: u64,
}

/// The step a failure happened in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Listing the source or the target.
    List,
    /// Creating a dataset above the target (`canmount=off`).
    CreateParent(DatasetName),
    /// Sending or receiving a stream to `to` (`None`: a resume).
    Send {
        /// The snapshot sent.
        to: Option<SnapshotName>,
    },
    /// Discarding a partial receive that can never be resumed (`zfs receive -A`).
    AbortPartialReceive,
    /// Marking the target dataset or a received snapshot as this job's.
    Mark(String),
    /// Bookmarking a sent snapshot on the source.
    Bookmark(SnapshotName),
    /// Placing or releasing this job's hold on a source snapshot.
    Hold(SnapshotName),
    /// Destroying target snapshots the retention let go.
    Prune(DatasetName),
    /// Opening (or starting) a file target's chain directory.
    OpenChain(PathBuf),
    /// Reading a file target's chain directory.
    ReadChain(PathBuf),
    /// Removing a file target's chain the retention let go.
    RemoveChain(PathBuf),
}

impl std::fmt::Display for Step {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::List => formatter.write_str("listing snapshots"),
            Step::CreateParent(name) => write!(formatter, "creating `{name}`"),
            Step::Send { to: Some(to) } => write!(formatter, "sending `{to}`"),
            Step::Send { to: None } => formatter.write_str("resuming the interrupted receive"),
            Step::AbortPartialReceive => {
                formatter.write_str("discarding the partial receive that cannot be resumed")
            }
            Step::Mark(name) => write!(formatter, "marking `{name}` as this job's"),
            Step::Bookmark(name) => write!(formatter, "bookmarking `{name}`"),
            Step::Hold(name) => write!(formatter, "changing the hold on `{name}`"),
            Step::Prune(name) => write!(formatter, "pruning snapshots of `{name}`"),
            Step::OpenChain(path) => write!(formatter, "opening the chain `{}`", path.display()),
            Step::ReadChain(path) => write!(formatter, "reading the chain `{}`", path.display()),
            Step::RemoveChain(path) => {
                write!(formatter, "removing the chain `{}`", path.display())
            }
        }
    }
}

/// A failure in a run.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A ZFS operation failed.
    #[error("{step}: {source}")]
    Zfs {
        /// Where.
        step: Step,
        /// What ZFS said.
        #[source]
        source: ZfsError,
    },
    /// Writing to a file target's chain failed (the chain keeps what it had before).
    #[error("{step}: {source}")]
    Chain {
        /// Where.
        step: Step,
        /// What failed.
        #[source]
        source: WriteError,
    },
    /// A file of a file target's chain could not be read or removed.
    #[error("{step}: {source}")]
    File {
        /// Where.
        step: Step,
        /// What failed, on which path.
        #[source]
        source: FileError,
    },
    /// Something the step needs is not as it must be (a chain that cannot be read, a
    /// snapshot gone from the source during the run).
    #[error("{step}: {problem}")]
    Failed {
        /// Where.
        step: Step,
        /// What is wrong, in words.
        problem: String,
    },
    /// The target dataset has to be renamed (the source was renamed) and the ZFS adapter
    /// has no rename yet: do it by hand (`zfs rename FROM TO`) and run again.
    #[error(
        "the target `{from}` holds this source's backup under its old name: rename it to `{to}` \
         (zfs rename) and run again"
    )]
    RenameNeeded {
        /// The target dataset as it is.
        from: DatasetName,
        /// The name it must have.
        to: DatasetName,
    },
    /// The target's parent is itself a source of this job that is not on the target yet.
    #[error("`{parent}` must be backed up before `{target}`; it is not on the target yet")]
    ParentNotBackedUp {
        /// The missing parent on the target.
        parent: DatasetName,
        /// The target dataset.
        target: DatasetName,
    },
}

/// What happened to one source dataset.
#[derive(Debug)]
pub struct DatasetReport {
    /// The source dataset.
    pub source: DatasetName,
    /// The target dataset (a file target: the dataset its chain's manifest names).
    pub target: DatasetName,
    /// The planner's action at the start of the run.
    pub action: Action,
    /// A file target: the chain directory the run wrote to.
    pub chain: Option<PathBuf>,
    /// The streams sent, in order.
    pub sends: Vec<SentStream>,
    /// Bookmarks made on the source.
    pub bookmarks: Vec<BookmarkName>,
    /// Target snapshots destroyed by the job's retention.
    pub pruned: Vec<SnapshotName>,
    /// A file target: older chain directories removed by the job's retention.
    pub removed_chains: Vec<PathBuf>,
    /// What failed.
    pub errors: Vec<StepError>,
}

impl DatasetReport {
    /// The planner's refusal, if the dataset was refused (see [`Refusal::remedies`]).
    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.action {
            Action::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// The bytes sent for this dataset.
    pub fn bytes(&self) -> u64 {
        self.sends.iter().map(|sent| sent.bytes).sum()
    }
}

/// One run of a job on one target.
#[derive(Debug)]
pub struct RunReport {
    /// The job.
    pub job: BackupJobId,
    /// Per source dataset, in the order they ran.
    pub datasets: Vec<DatasetReport>,
    /// Source snapshots that got this job's hold.
    pub held: Vec<SnapshotName>,
    /// Source snapshots whose hold of this job was released.
    pub released: Vec<SnapshotName>,
    /// Failures outside any one dataset (holds, listing after the sends).
    pub errors: Vec<StepError>,
}

impl RunReport {
    /// The dataset's report.
    pub fn dataset(&self, source: &DatasetName) -> Option<&DatasetReport> {
        self.datasets.iter().find(|report| &report.source == source)
    }

    /// The refusals, by source dataset.
    pub fn refusals(&self) -> impl Iterator<Item = (&DatasetName, &Refusal)> {
        self.datasets
            .iter()
            .filter_map(|report| Some((&report.source, report.refusal()?)))
    }

    /// Whether every dataset was backed up (or already was) without a failure or refusal.
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty()
            && self
                .datasets
                .iter()
                .all(|report| report.errors.is_empty() && report.refusal().is_none())
    }

    /// The bytes sent in the run.
    pub fn bytes(&self) -> u64 {
        self.datasets.iter().map(DatasetReport::bytes).sum()
    }
}
