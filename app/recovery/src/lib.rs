//! `wizfs-recovery`: the recovery use-cases, the heart of WiZFS — browse a dataset as it is
//! and as it was in any snapshot, list a file's unique versions, plan a restore (the pure
//! planner of `wizfs-core`), carry it out (`wizfs-restore`), compare text versions and
//! stream downloads. The CLI and the HTTP API are thin layers over [`Recovery`].
//!
//! Snapshot contents are read through `<mountpoint>/.zfs/snapshot/<name>` (ZFS mounts them
//! on access); each use releases the automount again so snapshots are not left mounted.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wizfs_core::restore::{
    PlanError, PlanInput, RestorePlan, RestoreRequest, RestoreTarget, plan_restore,
};
use wizfs_core::versions::{
    FileVersion, Observation, VersionIdentity, VersionSource, unique_versions,
};
use wizfs_core::{
    DatasetName, EntryKind, EntryMetadata, PathError, RelativePath, SnapshotName, Timestamp,
    TreeEntry,
};
use wizfs_restore::{Destination, ExecutionReport, Lookup, Progress, RestoreError, SafeRoot};
use wizfs_zfs::{Scope, Zfs, ZfsError};

/// The largest file [`Recovery::text_diff`] compares.
pub const MAXIMUM_DIFF_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error(transparent)]
    Zfs(#[from] ZfsError),
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("dataset {0} is not mounted, so its files cannot be browsed or restored")]
    NotMounted(DatasetName),
    #[error("`{0}` is not inside any mounted dataset")]
    NotInAnyDataset(PathBuf),
    #[error("snapshot {0} does not exist")]
    SnapshotNotFound(SnapshotName),
    #[error("snapshot {snapshot} is not of dataset {dataset}")]
    WrongDataset {
        snapshot: SnapshotName,
        dataset: DatasetName,
    },
    #[error("`{path}` does not exist in {source_name}")]
    Missing { path: String, source_name: String },
    #[error("`{path}` is not a text file that can be compared ({reason})")]
    NotComparable { path: String, reason: String },
    #[error("reading `{path}` failed: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type RecoveryResult<T> = Result<T, RecoveryError>;

/// Where an absolute path lives: its dataset, that dataset's mountpoint, and the path
/// relative to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub dataset: DatasetName,
    pub mountpoint: PathBuf,
    pub path: RelativePath,
}

/// The recovery use-cases over one [`Zfs`].
#[derive(Clone)]
pub struct Recovery {
    zfs: Arc<dyn Zfs>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Recovery")
            .field("zfs", &self.zfs)
            .finish_non_exhaustive()
    }
}

/// The current time from the system clock.
pub fn system_clock() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    Timestamp(seconds)
}

impl Recovery {
    pub fn new(zfs: Arc<dyn Zfs>, clock: Arc<dyn Fn() -> Timestamp + Send + Sync>) -> Self {
        Self { zfs, clock }
    }

    pub fn zfs(&self) -> &Arc<dyn Zfs> {
        &self.zfs
    }

    /// The mountpoint of a mounted filesystem.
    pub fn mountpoint(&self, dataset: &DatasetName) -> RecoveryResult<PathBuf> {
        mounted_mountpoint(&self.zfs.list_datasets(Some(dataset))?, dataset)
    }

    /// Maps an absolute path to the mounted dataset holding it (the longest mountpoint that
    /// is a prefix of it, component-wise) and the path inside that dataset.
    pub fn locate(&self, absolute: &Path) -> RecoveryResult<Location> {
        let datasets = self.zfs.list_datasets(None)?;
        let mounted = datasets
            .iter()
            .filter(|dataset| dataset.mounted)
            .filter_map(|dataset| Some((&dataset.name, dataset.mountpoint.as_deref()?)));
        let Some((dataset, mountpoint, path)) = locate_in_mounts(mounted, absolute) else {
            return Err(RecoveryError::NotInAnyDataset(absolute.to_owned()));
        };
        Ok(Location {
            dataset: dataset.clone(),
            mountpoint: mountpoint.to_owned(),
            path: path?,
        })
    }

    /// Opens a snapshot's tree, reporting a missing snapshot as such — at once, also when it
    /// was destroyed after having been looked at (ZFS is asked when the snapshot does not
    /// mount; see [`SafeRoot::open_snapshot_checked`]).
    fn open_snapshot_root(
        &self,
        mountpoint: &Path,
        snapshot: &SnapshotName,
    ) -> RecoveryResult<SafeRoot> {
        let still_exists = || self.snapshot_exists(snapshot).unwrap_or(true);
        SafeRoot::open_snapshot_checked(mountpoint, snapshot.short_name(), &still_exists).map_err(
            |error| {
                if error.is_not_found() {
                    RecoveryError::SnapshotNotFound(snapshot.clone())
                } else {
                    error.into()
                }
            },
        )
    }

    /// Whether ZFS lists `snapshot` (one `zfs list` of its dataset's snapshots).
    fn snapshot_exists(&self, snapshot: &SnapshotName) -> RecoveryResult<bool> {
        Ok(self
            .zfs
            .list_snapshots(snapshot.dataset(), Scope::Dataset)?
            .iter()
            .any(|listed| &listed.name == snapshot))
    }

    fn check_snapshot(&self, dataset: &DatasetName, snapshot: &SnapshotName) -> RecoveryResult<()> {
        if snapshot.dataset() != dataset {
            return Err(RecoveryError::WrongDataset {
                snapshot: snapshot.clone(),
                dataset: dataset.clone(),
            });
        }
        Ok(())
    }

    /// Runs `work` on the tree of `snapshot` (or the live tree), releasing the snapshot's
    /// automount afterwards.
    fn with_root<T>(
        &self,
        dataset: &DatasetName,
        snapshot: Option<&SnapshotName>,
        work: impl FnOnce(&SafeRoot) -> RecoveryResult<T>,
    ) -> RecoveryResult<T> {
        let mountpoint = self.mountpoint(dataset)?;
        match snapshot {
            None => work(&SafeRoot::open_live(&mountpoint)?),
            Some(snapshot) => {
                self.check_snapshot(dataset, snapshot)?;
                let root = self.open_snapshot_root(&mountpoint, snapshot)?;
                let result = work(&root);
                root.forget_snapshot_mount();
                result
            }
        }
    }

    /// One directory level, live or as of a snapshot.
    pub fn list_directory(
        &self,
        dataset: &DatasetName,
        snapshot: Option<&SnapshotName>,
        path: &RelativePath,
    ) -> RecoveryResult<Vec<TreeEntry>> {
        self.with_root(dataset, snapshot, |root| Ok(root.list_directory(path)?))
    }

    /// Details of one entry (`None` when absent — also when a directory on its path is a
    /// symbolic link there, which WiZFS never follows).
    pub fn stat(
        &self,
        dataset: &DatasetName,
        snapshot: Option<&SnapshotName>,
        path: &RelativePath,
    ) -> RecoveryResult<Option<EntryMetadata>> {
        self.with_root(dataset, snapshot, |root| Ok(root.lookup(path)?.present()))
    }

    /// The unique versions of `path` across every snapshot of `dataset` and the live file,
    /// oldest first. Where a directory on the path is a symbolic link (it was replaced by
    /// one, live or in a later snapshot), the path counts as absent: symlinks are never
    /// followed, and the snapshots where the path does exist still list it. A snapshot
    /// destroyed while the list is made is left out.
    pub fn versions(
        &self,
        dataset: &DatasetName,
        path: &RelativePath,
        identity: VersionIdentity,
    ) -> RecoveryResult<Vec<FileVersion>> {
        let mountpoint = self.mountpoint(dataset)?;
        let snapshots = self.zfs.list_snapshots(dataset, Scope::Dataset)?;
        let mut observations = Vec::with_capacity(snapshots.len() + 1);
        for snapshot in &snapshots {
            let root = match self.open_snapshot_root(&mountpoint, &snapshot.name) {
                Ok(root) => root,
                Err(RecoveryError::SnapshotNotFound(_)) => continue,
                Err(other) => return Err(other),
            };
            let observed = observe(&root, path, identity);
            root.forget_snapshot_mount();
            let (metadata, content_digest) = observed?;
            observations.push(Observation {
                source: VersionSource::Snapshot {
                    name: snapshot.name.clone(),
                    createtxg: snapshot.createtxg,
                    creation: snapshot.creation,
                },
                metadata,
                content_digest,
            });
        }
        let (metadata, content_digest) =
            observe(&SafeRoot::open_live(&mountpoint)?, path, identity)?;
        observations.push(Observation {
            source: VersionSource::Live,
            metadata,
            content_digest,
        });
        Ok(unique_versions(&observations, identity))
    }

    /// What a restore would do (the dry run; nothing is changed).
    pub fn plan(&self, request: &RestoreRequest) -> RecoveryResult<RestorePlan> {
        let dataset = request.snapshot.dataset().clone();
        let mountpoint = self.mountpoint(&dataset)?;
        let snapshot_root = self.open_snapshot_root(&mountpoint, &request.snapshot)?;
        let live_root = SafeRoot::open_live(&mountpoint)?;
        let result = self.plan_with(request, &snapshot_root, &live_root);
        snapshot_root.forget_snapshot_mount();
        result
    }

    fn plan_with(
        &self,
        request: &RestoreRequest,
        snapshot_root: &SafeRoot,
        live_root: &SafeRoot,
    ) -> RecoveryResult<RestorePlan> {
        // A path behind a symlink in the snapshot is not in it (the planner says so).
        let source = match snapshot_root.lookup(&request.path)?.present() {
            None => Vec::new(),
            Some(_) => snapshot_root.read_tree(&request.path)?,
        };
        if !source.is_empty() {
            check_live_path_has_no_symlink(request, live_root)?;
        }
        // Where the data goes decides what live state matters.
        let destination_directory = match &request.target {
            RestoreTarget::Original => request.path.parent().unwrap_or_default(),
            RestoreTarget::Copy { into: None } => request.path.parent().unwrap_or_default(),
            RestoreTarget::Copy {
                into: Some(directory),
            } => directory.clone(),
        };
        if let RestoreTarget::Copy {
            into: Some(directory),
        } = &request.target
        {
            let is_directory = live_root
                .stat(directory)?
                .is_some_and(|metadata| metadata.kind == EntryKind::Directory);
            if !is_directory {
                return Err(RecoveryError::Missing {
                    path: directory.to_string(),
                    source_name: "the live filesystem (create the directory first)".to_owned(),
                });
            }
        }
        let live_names: Vec<Vec<u8>> = match live_root.stat(&destination_directory)? {
            Some(metadata) if metadata.kind == EntryKind::Directory => live_root
                .list_directory(&destination_directory)?
                .into_iter()
                .filter_map(|entry| entry.path.file_name().map(<[u8]>::to_vec))
                .collect(),
            _ => Vec::new(),
        };
        let live = match &request.target {
            RestoreTarget::Original if live_root.lookup(&request.path)?.present().is_some() => {
                live_root.read_tree(&request.path)?
            }
            _ => Vec::new(),
        };
        let missing_ancestors = match &request.target {
            RestoreTarget::Original => {
                wizfs_restore::missing_ancestors(live_root, snapshot_root, &request.path)?
            }
            RestoreTarget::Copy { .. } => Vec::new(),
        };
        let input = PlanInput {
            request,
            source: &source,
            live: &live,
            live_names_in_destination_directory: &live_names,
            missing_live_ancestors: &missing_ancestors,
            now: (self.clock)(),
        };
        Ok(plan_restore(&input)?)
    }

    /// Plans and carries out a restore. The plan (with the guard snapshot's final name in the
    /// report) is returned so the caller can show what was done.
    pub fn restore(
        &self,
        request: &RestoreRequest,
        progress: &mut dyn FnMut(Progress),
    ) -> RecoveryResult<(RestorePlan, ExecutionReport)> {
        let dataset = request.snapshot.dataset().clone();
        // One listing serves the mountpoint here and the executor's child-dataset check.
        let datasets = self.zfs.list_datasets(Some(&dataset))?;
        let mountpoint = mounted_mountpoint(&datasets, &dataset)?;
        let snapshot_root = self.open_snapshot_root(&mountpoint, &request.snapshot)?;
        let live_root = SafeRoot::open_live(&mountpoint)?;
        let result = self
            .plan_with(request, &snapshot_root, &live_root)
            .and_then(|plan| {
                let report = wizfs_restore::execute_with_datasets(
                    &plan,
                    &snapshot_root,
                    &live_root,
                    self.zfs.as_ref(),
                    &datasets,
                    progress,
                )?;
                Ok((plan, report))
            });
        snapshot_root.forget_snapshot_mount();
        result
    }

    /// A unified diff of a text file between two sources (`None` = live).
    pub fn text_diff(
        &self,
        dataset: &DatasetName,
        path: &RelativePath,
        from: Option<&SnapshotName>,
        to: Option<&SnapshotName>,
    ) -> RecoveryResult<String> {
        let read = |snapshot: Option<&SnapshotName>| -> RecoveryResult<String> {
            self.with_root(dataset, snapshot, |root| {
                let source_name =
                    snapshot.map_or_else(|| "the live filesystem".to_owned(), ToString::to_string);
                let metadata = root.stat(path)?.ok_or_else(|| RecoveryError::Missing {
                    path: path.to_string(),
                    source_name: source_name.clone(),
                })?;
                if metadata.kind != EntryKind::File || metadata.size > MAXIMUM_DIFF_BYTES {
                    return Err(RecoveryError::NotComparable {
                        path: path.to_string(),
                        reason: format!("a {} of {} bytes", metadata.kind.as_str(), metadata.size),
                    });
                }
                let bytes = root.read_prefix(path, MAXIMUM_DIFF_BYTES)?;
                if bytes.contains(&0) {
                    return Err(RecoveryError::NotComparable {
                        path: path.to_string(),
                        reason: "binary content".into(),
                    });
                }
                String::from_utf8(bytes).map_err(|_| RecoveryError::NotComparable {
                    path: path.to_string(),
                    reason: "not UTF-8 text".into(),
                })
            })
        };
        let old = read(from)?;
        let new = read(to)?;
        let from_label = from.map_or_else(
            || "live".to_owned(),
            |snapshot| format!("@{}", snapshot.short_name()),
        );
        let to_label = to.map_or_else(
            || "live".to_owned(),
            |snapshot| format!("@{}", snapshot.short_name()),
        );
        let display = path.display();
        Ok(similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("{display} ({from_label})"),
                &format!("{display} ({to_label})"),
            )
            .to_string())
    }

    /// Streams an archive (tar or ZIP) of a file or directory, live or from a snapshot.
    pub fn download(
        &self,
        dataset: &DatasetName,
        snapshot: Option<&SnapshotName>,
        path: &RelativePath,
        format: wizfs_restore::ArchiveFormat,
        out: &mut dyn Write,
    ) -> RecoveryResult<u64> {
        self.with_root(dataset, snapshot, |root| {
            Ok(wizfs_restore::write_archive(root, path, format, out)?)
        })
    }

    /// Streams a regular file's content to `out` (live or from a snapshot); returns its size.
    pub fn copy_file(
        &self,
        dataset: &DatasetName,
        snapshot: Option<&SnapshotName>,
        path: &RelativePath,
        out: &mut dyn Write,
    ) -> RecoveryResult<u64> {
        self.with_root(dataset, snapshot, |root| {
            let mut file = root.open_regular_file(path)?;
            std::io::copy(&mut file, out).map_err(|source| RecoveryError::Read {
                path: path.to_string(),
                source,
            })
        })
    }

    /// The raw bytes of a regular file (previews), at most `limit` bytes.
    pub fn read_file(
        &self,
        dataset: &DatasetName,
        snapshot: Option<&SnapshotName>,
        path: &RelativePath,
        limit: u64,
    ) -> RecoveryResult<Vec<u8>> {
        self.with_root(dataset, snapshot, |root| Ok(root.read_prefix(path, limit)?))
    }
}

/// Where an absolute path lies among mounts: of `mounts` (something and its mountpoint), the
/// one with the longest mountpoint above `absolute` (component-wise: `/tank/a` is not above
/// `/tank/ab`), and the path below that mountpoint. `None` when no mountpoint is above it.
pub fn locate_in_mounts<'a, T>(
    mounts: impl IntoIterator<Item = (T, &'a std::path::Path)>,
    absolute: &std::path::Path,
) -> Option<(
    T,
    &'a std::path::Path,
    Result<RelativePath, wizfs_core::paths::PathError>,
)> {
    use std::os::unix::ffi::OsStrExt;
    let (found, mountpoint) = mounts
        .into_iter()
        .filter(|(_, mountpoint)| mountpoint.is_absolute() && absolute.starts_with(mountpoint))
        .max_by_key(|(_, mountpoint)| mountpoint.components().count())?;
    let below = absolute
        .strip_prefix(mountpoint)
        .unwrap_or(std::path::Path::new(""));
    Some((
        found,
        mountpoint,
        RelativePath::new(below.as_os_str().as_bytes()),
    ))
}

/// Refuses a restore whose live destination lies behind a symbolic link — a directory of
/// the path that was replaced by a symlink since the snapshot, or a symlink named as the
/// directory to restore into — with the way that works instead (a copy into another
/// directory). The executor would refuse too (it resolves every path without following
/// symlinks), but only after the guard snapshot, and without saying what to do.
fn check_live_path_has_no_symlink(
    request: &RestoreRequest,
    live_root: &SafeRoot,
) -> RecoveryResult<()> {
    let refuse = |destination, path: &RelativePath, symlink| {
        Err(RecoveryError::Restore(RestoreError::LiveSymlinkOnPath {
            destination,
            path: path.clone(),
            symlink,
        }))
    };
    match &request.target {
        RestoreTarget::Original => match live_root.lookup(&request.path)? {
            Lookup::BehindSymlink(symlink) => refuse(Destination::InPlace, &request.path, symlink),
            Lookup::Present(_) | Lookup::Absent => Ok(()),
        },
        RestoreTarget::Copy { into } => {
            let (destination, directory) = match into {
                Some(directory) => (Destination::Into, directory.clone()),
                None => (
                    Destination::NextToOriginal,
                    request.path.parent().unwrap_or_default(),
                ),
            };
            let shown = match destination {
                Destination::Into => &directory,
                _ => &request.path,
            };
            match live_root.lookup(&directory)? {
                Lookup::BehindSymlink(symlink) => refuse(destination, shown, symlink),
                Lookup::Present(metadata) if metadata.kind == EntryKind::Symlink => {
                    refuse(destination, shown, directory.clone())
                }
                Lookup::Present(_) | Lookup::Absent => Ok(()),
            }
        }
    }
}

/// The mountpoint of `dataset` in a listing, if it is mounted.
fn mounted_mountpoint(
    datasets: &[wizfs_core::Dataset],
    dataset: &DatasetName,
) -> RecoveryResult<PathBuf> {
    datasets
        .iter()
        .find(|candidate| &candidate.name == dataset)
        .filter(|found| found.mounted)
        .and_then(|found| found.mountpoint.clone())
        .ok_or_else(|| RecoveryError::NotMounted(dataset.clone()))
}

/// The entry at `path` in `root`, with its content digest when comparing by content.
fn observe(
    root: &SafeRoot,
    path: &RelativePath,
    identity: VersionIdentity,
) -> RecoveryResult<(Option<EntryMetadata>, Option<[u8; 32]>)> {
    // Behind a symlink (never followed) the path is absent from this tree.
    let metadata = root.lookup(path)?.present();
    let content_digest = match (&metadata, identity) {
        (Some(found), VersionIdentity::Content) if found.kind == EntryKind::File => {
            Some(digest(root, path)?)
        }
        _ => None,
    };
    Ok((metadata, content_digest))
}

/// BLAKE3 of a regular file's content.
fn digest(root: &SafeRoot, path: &RelativePath) -> RecoveryResult<[u8; 32]> {
    let mut file = root.open_regular_file(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|source| RecoveryError::Read {
                path: path.to_string(),
                source,
            })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests;
