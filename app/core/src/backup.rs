//! Backup as pure decisions: what a backup job is (plain data), what each of its datasets
//! must send to its target next ([`plan_backup`]), which source snapshots must be held
//! because a target still needs them as its next incremental base
//! ([`protected_source_snapshots`], shared with snapshot rotation), and which target
//! snapshots the job's retention may destroy ([`plan_target_retention`]).
//!
//! This file exists so that "never lose the chain between source and target" is decided in
//! one place, over plain data, and proven by table tests; the backup engine lists snapshots
//! and bookmarks on both sides, calls these functions and carries out the returned plans.
//!
//! # The model (after zrepl's replication planner and syncoid's incremental logic)
//!
//! * Snapshots are matched by **guid**, never by name: a snapshot renamed on either side is
//!   still the same snapshot, and a bookmark carries the guid of the snapshot it was made
//!   from, so it serves as the incremental base once that snapshot is pruned.
//! * A source dataset `tank/home` of a job whose target root is `backup/wizfs` lands in
//!   `backup/wizfs/tank/home` (the full source name below the root, as zrepl does); file
//!   and S3 targets keep one manifest per source dataset, keyed by its name. When that name
//!   holds nothing of the source but another dataset of this job shares its snapshots' guids
//!   (the source dataset was renamed, or a new full backup was started beside a stale one),
//!   that dataset is the one continued.
//! * The newest common snapshot is the newest target snapshot whose guid the source still
//!   has as a snapshot or a bookmark. A target with snapshots newer than it, or with changes
//!   written since its newest snapshot, has **diverged**: it is refused unless the user chose
//!   "roll back the target" for this target (`zfs receive -F`), and the plan then names what
//!   the roll-back destroys.
//! * A target dataset is continued only when it carries this job's identity (the engine
//!   sets it when it creates the dataset or the manifest); anything else is refused, so a
//!   misconfigured job never writes into another job's backup or a user's dataset.
//! * A resume token on the target is always used before anything else.

pub mod plan;
pub mod safety;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use crate::model::{Bookmark, Snapshot, Timestamp};
use crate::names::{DatasetName, SnapshotName};
use crate::rotation::{DestroyReason, KeepReason, PolicyScope, TierRule};

pub use plan::plan_backup;
pub use safety::{
    HoldChanges, ProtectedSnapshot, ProtectedSnapshots, hold_changes, plan_target_retention,
    protected_source_snapshots,
};

/// Longest job identifier, in bytes.
pub const MAXIMUM_JOB_ID_LENGTH: usize = 64;

/// A backup job's identifier: 1–64 ASCII letters, digits, `_`, `.` or `-`, starting with a
/// letter or digit. Target datasets and manifests carry it (as the value of a user property
/// or a manifest field) to say which job they belong to; snapshots this job received carry
/// it too, so target retention destroys only those.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackupJobId(String);

/// Why a string is not a backup job identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupJobIdError {
    /// The identifier is empty.
    #[error("backup job id is empty")]
    Empty,
    /// The identifier is too long.
    #[error("backup job id `{id}` is {length} bytes long; the limit is {MAXIMUM_JOB_ID_LENGTH}")]
    TooLong {
        /// The identifier, escaped.
        id: String,
        /// Its length in bytes.
        length: usize,
    },
    /// The identifier has a character outside the allowed set.
    #[error(
        "backup job id `{id}` has {character:?} at byte {position}; use letters, digits, `_`, \
         `.` and `-`, starting with a letter or digit"
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

impl BackupJobId {
    /// Validates an identifier (the shape of policy identifiers).
    pub fn new(id: &str) -> Result<Self, BackupJobIdError> {
        use crate::rotation::{IdentifierProblem, check_identifier};
        let escaped = || id.escape_debug().to_string();
        check_identifier(id, MAXIMUM_JOB_ID_LENGTH).map_err(|problem| match problem {
            IdentifierProblem::Empty => BackupJobIdError::Empty,
            IdentifierProblem::TooLong { length } => BackupJobIdError::TooLong {
                id: escaped(),
                length,
            },
            IdentifierProblem::InvalidCharacter {
                character,
                position,
            } => BackupJobIdError::InvalidCharacter {
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

impl fmt::Display for BackupJobId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Where a job's backups go, as plain data: just enough to plan (connection details beyond
/// these stay with the target adapters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// Another pool of this machine, received below `root`.
    LocalPool {
        /// The dataset the source datasets land under.
        root: DatasetName,
    },
    /// A pool on another host reached over SSH, received below `root` there.
    Ssh {
        /// The host name or address.
        host: String,
        /// The SSH port.
        port: u16,
        /// The remote user.
        user: String,
        /// The remote dataset the source datasets land under.
        root: DatasetName,
    },
    /// A removable disk's pool, known by its pool guid (it may be absent between runs).
    RotatingDisk {
        /// The pool's `guid`.
        pool_guid: u64,
        /// The dataset the source datasets land under.
        root: DatasetName,
    },
    /// Stream files on a mounted file system, with a manifest per source dataset.
    Files {
        /// The directory holding the volumes and manifests.
        directory: PathBuf,
        /// Split streams into volumes of this many bytes (`None`: one file per stream).
        volume_bytes: Option<u64>,
    },
    /// Stream objects in S3-compatible storage, in the same format as [`TargetKind::Files`].
    S3 {
        /// The endpoint URL.
        endpoint: String,
        /// The bucket.
        bucket: String,
        /// The key prefix of this job's objects.
        prefix: String,
        /// Split streams into objects of this many bytes (`None`: one object per stream).
        volume_bytes: Option<u64>,
    },
}

impl TargetKind {
    /// The dataset received streams land under, for targets that are pools; `None` for file
    /// and S3 targets (they keep manifests).
    pub fn receive_root(&self) -> Option<&DatasetName> {
        match self {
            TargetKind::LocalPool { root }
            | TargetKind::Ssh { root, .. }
            | TargetKind::RotatingDisk { root, .. } => Some(root),
            TargetKind::Files { .. } | TargetKind::S3 { .. } => None,
        }
    }
}

/// How a stream is compressed on file and S3 targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// zstd at a level (the default, 3).
    Zstd {
        /// The level, 1–19.
        level: u8,
    },
    /// xz at a level.
    Xz {
        /// The level, 0–9.
        level: u8,
    },
}

/// How a stream is encrypted on file and S3 targets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Encryption {
    /// age to these recipients (the default).
    Age {
        /// Public keys (`age1…`).
        recipients: Vec<String>,
    },
    /// GnuPG to these recipients.
    Gpg {
        /// Key ids or fingerprints.
        recipients: Vec<String>,
    },
    /// OpenSSL with a passphrase read from this file.
    OpenSsl {
        /// The passphrase file.
        passphrase_file: PathBuf,
    },
}

/// What to do for a dataset whose target shares no snapshot with the source any more (its
/// base was pruned on the source and no bookmark of it is left).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissingBase {
    /// Refuse and say so (the default).
    #[default]
    Refuse,
    /// Start a new full backup beside the stale one: into a new dataset next to it (pool
    /// targets) or a new chain (file and S3 targets); the stale one is left as it is.
    FullIntoNewDataset,
}

/// A job's options, as plain fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BackupOptions {
    /// Raw sends (`zfs send -w`): encrypted datasets stay encrypted on the target.
    pub raw: bool,
    /// Stream compression for file and S3 targets.
    pub compression: Option<Compression>,
    /// Stream encryption for file and S3 targets.
    pub encryption: Option<Encryption>,
    /// At most this many bytes per second (`None`: no limit).
    pub bandwidth_limit_bytes_per_second: Option<u64>,
    /// The user chose "roll back the target" for this target: a diverged target is rolled
    /// back to the newest common snapshot (`zfs receive -F`) instead of refused.
    pub roll_back_target: bool,
    /// What to do when no common base is left.
    pub missing_base: MissingBase,
}

/// The retention on the target, in the language of snapshot policies: the tiers and the
/// minimum count of [`crate::rotation::RetentionPolicy`], applied to each target dataset's
/// snapshots this job sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetRetention {
    /// The tiers.
    pub tiers: Vec<TierRule>,
    /// Each target dataset keeps at least this many of the snapshots this job sent.
    pub min_keep: u32,
}

/// A backup job as the planners see it (its schedule and connection secrets stay with the
/// engine).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BackupJob {
    /// The identity that marks what this job sent.
    pub id: BackupJobId,
    /// The source datasets: each a dataset, or a tree minus excluded subtrees.
    pub sources: Vec<PolicyScope>,
    /// Its one target.
    pub target: TargetKind,
    /// Retention on the target; `None` keeps everything sent.
    pub retention: Option<TargetRetention>,
    /// Its options.
    pub options: BackupOptions,
}

impl BackupJob {
    /// Whether the job backs up `dataset`.
    pub fn covers(&self, dataset: &DatasetName) -> bool {
        self.sources.iter().any(|scope| scope.covers(dataset))
    }
}

/// One source dataset as listed before a run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceDataset {
    /// Its name.
    pub name: DatasetName,
    /// `origin`, when it is a clone.
    pub origin: Option<SnapshotName>,
    /// Its snapshots (any order).
    pub snapshots: Vec<Snapshot>,
    /// Its bookmarks (any order).
    pub bookmarks: Vec<Bookmark>,
}

/// A snapshot on a pool target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetSnapshot {
    /// Its name on the target.
    pub name: SnapshotName,
    /// `guid` (that of the source snapshot it was received from).
    pub guid: u64,
    /// `createtxg` on the target (the order it was received in).
    pub createtxg: u64,
    /// `creation` (a received snapshot keeps the source's).
    pub creation: Timestamp,
    /// Whether it has user holds.
    pub held: bool,
    /// The job that sent it, from the mark the engine sets after receiving it.
    pub sent_by: Option<BackupJobId>,
}

/// A dataset on a pool target as listed before a run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetDataset {
    /// Its name.
    pub name: DatasetName,
    /// The job whose identity it carries, if any.
    pub job: Option<BackupJobId>,
    /// `receive_resume_token`, when a resumable receive was interrupted.
    pub resume_token: Option<String>,
    /// Whether it was written since its newest snapshot (`written` > 0).
    pub modified: bool,
    /// Its snapshots (any order).
    pub snapshots: Vec<TargetSnapshot>,
}

/// One stream of a file target's chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChainLink {
    /// The guid of the base of an incremental stream; `None` for a full stream.
    pub from_guid: Option<u64>,
    /// The snapshot it brings the chain to, named as on the source when it was sent.
    pub to: SnapshotName,
    /// That snapshot's guid.
    pub to_guid: u64,
}

/// A file or S3 target's manifest of one source dataset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Manifest {
    /// The source dataset it was written for.
    pub dataset: DatasetName,
    /// The job whose identity it carries, if any.
    pub job: Option<BackupJobId>,
    /// The streams, in the order they are received (a full first).
    pub chain: Vec<ChainLink>,
}

/// The target's state as listed before a run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetState {
    /// A pool target: every dataset below the job's root.
    Pool(Vec<TargetDataset>),
    /// A file or S3 target: every manifest it holds.
    Files(Vec<Manifest>),
}

/// The base of an incremental send.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SendBase {
    /// A snapshot of the dataset (`zfs send -I base to`).
    Snapshot(SnapshotName),
    /// A bookmark of the dataset, the snapshot it was made from being gone. The zfs-send
    /// manual names a bookmark as the base of `-i` only, so [`Action::send_steps`] sends
    /// `-i bookmark first` and then `-I first to` (to be proven on OpenZFS in the VM).
    Bookmark(crate::names::BookmarkName),
    /// The origin snapshot of a clone, in another dataset: the target receives the dataset
    /// as a clone of its copy of that snapshot.
    CloneOrigin(SnapshotName),
}

impl SendBase {
    /// The full name of the base.
    pub fn as_str(&self) -> &str {
        match self {
            SendBase::Snapshot(name) | SendBase::CloneOrigin(name) => name.as_str(),
            SendBase::Bookmark(name) => name.as_str(),
        }
    }
}

impl fmt::Display for SendBase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why nothing is sent for a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Idle {
    /// The target already has the source's newest snapshot.
    UpToDate {
        /// That snapshot, named as on the source.
        snapshot: SnapshotName,
    },
    /// The source dataset has no snapshot to send yet.
    NoSourceSnapshot,
}

/// What a user can do about a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Remedy {
    /// Choose "roll back the target" for this target (its newer snapshots and changes go).
    RollBackTarget,
    /// Start a new full backup into an empty dataset (or a new chain), keeping the old one.
    FullIntoNewDataset,
    /// Give the job a target root no other job or user writes into.
    ChooseAnotherTarget,
    /// Look into the manifest's files: a stream of the chain is missing.
    RepairManifest,
}

impl fmt::Display for Remedy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Remedy::RollBackTarget => {
                "choose 'roll back the target' for this target (its snapshots newer than the \
                 common one and its changes since are destroyed)"
            }
            Remedy::FullIntoNewDataset => {
                "start a new full backup into an empty dataset (the old backup is kept)"
            }
            Remedy::ChooseAnotherTarget => {
                "choose another target dataset for this job, or remove the one in the way"
            }
            Remedy::RepairManifest => {
                "restore the missing stream files, or start a new full backup chain"
            }
        })
    }
}

/// Why a dataset is not backed up this run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Refusal {
    /// The target has snapshots newer than the newest common one, or changes since it.
    #[error(
        "target `{target}` has diverged from the source after `{common}`: {}",
        describe_divergence(newer_on_target, *modified)
    )]
    Diverged {
        /// The target dataset.
        target: DatasetName,
        /// The newest snapshot both sides have, named as on the target.
        common: SnapshotName,
        /// Target snapshots newer than it (oldest first).
        newer_on_target: Vec<SnapshotName>,
        /// Whether the target was written since its newest snapshot.
        modified: bool,
    },
    /// The target has snapshots, but none that the source still has as a snapshot or a
    /// bookmark (or it has none at all and cannot take a full stream without a roll-back).
    #[error(
        "target `{target}` shares no snapshot with the source any more (its newest is {}); \
         an incremental backup is impossible",
        target_newest.as_ref().map_or("none".to_owned(), |name| format!("`{name}`"))
    )]
    NoCommonBase {
        /// The target dataset (or manifest's dataset).
        target: DatasetName,
        /// The target's newest snapshot.
        target_newest: Option<SnapshotName>,
    },
    /// The target dataset or manifest does not carry this job's identity.
    #[error(
        "target `{target}` is not this job's: it {}",
        owner.as_ref().map_or("carries no backup job's mark".to_owned(), |owner| format!("belongs to backup job `{owner}`"))
    )]
    NotThisJob {
        /// The target dataset (or manifest's dataset).
        target: DatasetName,
        /// The job whose identity it carries, if any.
        owner: Option<BackupJobId>,
    },
    /// A file target's chain has a gap: a stream's base is not the previous stream's end.
    #[error("the backup chain of `{dataset}` is broken at stream {position}")]
    BrokenChain {
        /// The source dataset of the manifest.
        dataset: DatasetName,
        /// The position (0-based) of the first stream whose base does not match.
        position: usize,
    },
    /// The target dataset's name cannot be formed (too long for ZFS).
    #[error("no valid target dataset name for `{source_dataset}` below `{root}`")]
    TargetNameTooLong {
        /// The source dataset.
        source_dataset: DatasetName,
        /// The target root.
        root: DatasetName,
    },
}

fn describe_divergence(newer: &[SnapshotName], modified: bool) -> String {
    let mut parts = Vec::new();
    if !newer.is_empty() {
        let names: Vec<String> = newer.iter().map(|name| format!("`{name}`")).collect();
        parts.push(format!("it has newer snapshots ({})", names.join(", ")));
    }
    if modified {
        parts.push("it was changed since its newest snapshot".to_owned());
    }
    parts.join(" and ")
}

impl Refusal {
    /// What the user can do, most likely first.
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Refusal::Diverged { .. } => vec![Remedy::RollBackTarget, Remedy::FullIntoNewDataset],
            Refusal::NoCommonBase { .. } => vec![Remedy::FullIntoNewDataset],
            Refusal::NotThisJob { .. } | Refusal::TargetNameTooLong { .. } => {
                vec![Remedy::ChooseAnotherTarget]
            }
            Refusal::BrokenChain { .. } => {
                vec![Remedy::RepairManifest, Remedy::FullIntoNewDataset]
            }
        }
    }
}

/// What a roll-back of the target (`zfs receive -F`) destroys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RollBack {
    /// Target snapshots newer than the newest common one (oldest first).
    pub destroys: Vec<SnapshotName>,
    /// Whether changes written since the target's newest snapshot are discarded.
    pub discards_changes: bool,
}

/// What one dataset does this run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A full stream of `first`, then (when `to` is newer) an incremental from `first` to
    /// `to` with every snapshot between, so the target gets the source's history.
    FullSend {
        /// The oldest source snapshot.
        first: SnapshotName,
        /// The newest source snapshot.
        to: SnapshotName,
        /// The snapshots between them, oldest first (as `zfs send -I` includes them).
        intermediates: Vec<SnapshotName>,
    },
    /// An incremental stream from `from` to `to` with every snapshot between.
    Incremental {
        /// The base the target already has.
        from: SendBase,
        /// The newest source snapshot.
        to: SnapshotName,
        /// The source snapshots between them, oldest first (as `zfs send -I` includes them).
        intermediates: Vec<SnapshotName>,
    },
    /// Resume an interrupted receive (`zfs send -t token`).
    Resume {
        /// The target's `receive_resume_token`.
        token: String,
    },
    /// Nothing to send.
    NothingToDo(Idle),
    /// Refused, with what the user can do ([`Refusal::remedies`]).
    Refused(Refusal),
}

/// One `zfs send` of a run, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SendStep {
    /// The base (`None`: a full stream).
    pub from: Option<SendBase>,
    /// The snapshot sent.
    pub to: SnapshotName,
    /// Whether the snapshots between `from` and `to` are included (`-I` rather than `-i`).
    pub intermediates: bool,
}

impl Action {
    /// The sends that carry out a full or incremental action, in order (none for the
    /// others): a full stream of the first snapshot then `-I` to the newest; an incremental
    /// as one `-I`, except from a bookmark, which is the base of one `-i` to the first
    /// snapshot to send, then `-I` from there.
    pub fn send_steps(&self) -> Vec<SendStep> {
        let step = |from: Option<SendBase>, to: &SnapshotName, intermediates: bool| SendStep {
            from,
            to: to.clone(),
            intermediates,
        };
        match self {
            Action::FullSend { first, to, .. } => {
                let mut steps = vec![step(None, first, false)];
                if first != to {
                    steps.push(step(Some(SendBase::Snapshot(first.clone())), to, true));
                }
                steps
            }
            Action::Incremental {
                from: from @ SendBase::Bookmark(_),
                to,
                intermediates,
            } => match intermediates.first() {
                Some(first) => vec![
                    step(Some(from.clone()), first, false),
                    step(Some(SendBase::Snapshot(first.clone())), to, true),
                ],
                None => vec![step(Some(from.clone()), to, false)],
            },
            Action::Incremental { from, to, .. } => vec![step(Some(from.clone()), to, true)],
            Action::Resume { .. } | Action::NothingToDo(_) | Action::Refused(_) => Vec::new(),
        }
    }
}

/// The plan of one source dataset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DatasetPlan {
    /// The source dataset.
    pub source: DatasetName,
    /// The target dataset (pool targets) or the manifest's dataset (file targets) the
    /// action writes to.
    pub target: DatasetName,
    /// For pool targets: the target dataset to rename to `target` first, found by its
    /// snapshots' guids (the source dataset was renamed).
    pub rename_from: Option<DatasetName>,
    /// For pool targets: the roll-back the user chose, when the target diverged.
    pub roll_back: Option<RollBack>,
    /// For file targets: the stream starts a new chain beside the old one.
    pub new_chain: bool,
    /// The newest common base, named as on the source (`None`: the target shares nothing
    /// with the source yet). The source keeps it whatever the action: a failed or refused
    /// run still needs it next time.
    pub base: Option<SendBase>,
    /// What happens.
    pub action: Action,
}

impl DatasetPlan {
    /// The source snapshot the target will have as its newest after this run.
    pub fn sends_to(&self) -> Option<&SnapshotName> {
        match &self.action {
            Action::FullSend { to, .. } | Action::Incremental { to, .. } => Some(to),
            Action::NothingToDo(Idle::UpToDate { snapshot }) => Some(snapshot),
            _ => None,
        }
    }

    /// Whether the dataset was refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.action {
            Action::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }
}

/// The plan of one job's run: one entry per covered source dataset, in the order to run
/// them (parents before children, a clone's origin before the clone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BackupPlan {
    /// The datasets' plans.
    pub datasets: Vec<DatasetPlan>,
}

impl BackupPlan {
    /// The plan of `source`.
    pub fn dataset(&self, source: &DatasetName) -> Option<&DatasetPlan> {
        self.datasets.iter().find(|plan| &plan.source == source)
    }
}

/// Why a target snapshot is kept by target retention.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetKeepReason {
    /// The job's retention keeps it, as snapshot rotation would (a tier, the minimum count,
    /// a hold, not sent by this job, dated in the future).
    Retention(KeepReason),
    /// It is the newest snapshot the source also has: the next incremental's base.
    NewestCommonBase,
    /// The job has no retention: everything it sent is kept.
    NoRetention,
}

/// The verdict on one target snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetVerdict {
    /// Kept, for every reason that applies (never empty).
    Keep(Vec<TargetKeepReason>),
    /// Destroyed.
    Destroy(DestroyReason),
}

/// One target snapshot and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetDecision {
    /// The snapshot.
    pub snapshot: SnapshotName,
    /// Its guid.
    pub guid: u64,
    /// What happens to it.
    pub verdict: TargetVerdict,
}

/// The verdicts on one target dataset's snapshots, in the order they were given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TargetRetentionPlan {
    /// One decision per target snapshot.
    pub decisions: Vec<TargetDecision>,
}

impl TargetRetentionPlan {
    /// The snapshots to destroy, in input order.
    pub fn destroyed(&self) -> impl Iterator<Item = &TargetDecision> {
        self.decisions
            .iter()
            .filter(|decision| matches!(decision.verdict, TargetVerdict::Destroy(_)))
    }
}
