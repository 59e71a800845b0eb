//! `wizfs-indexer`: keeps the search index (`wizfs-index`) in step with ZFS.
//!
//! For each dataset it reconciles the snapshots ZFS has with the ones the index knows (by
//! guid, so renames are harmless), whoever created them:
//! 1. the live layer is forgotten (it is always re-derived last);
//! 2. destroyed snapshots are forgotten, one at a time, with their neighbours
//!    (`wizfs_core::versioning::forget`);
//! 3. new snapshots are indexed in creation order: the first of a dataset by walking it in
//!    full, every later one from `zfs diff` against the previous one plus a stat of each
//!    changed path (`advance`), so the work grows with changes, not with snapshots;
//! 4. the live file system is indexed as the pseudo-snapshot `LIVE_TXG` from `zfs diff` of
//!    the newest snapshot against it.
//!
//! Every step is one atomic catalogue change (`IndexStore::apply_deferred`): a crash (even
//! SIGKILL) leaves the index before or after a whole snapshot, and the next run continues
//! from there; the search documents follow in one commit at the end of the run.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wizfs_core::versioning::{self, LIVE_TXG, Observed, StoredVersion, VersionOp};
use wizfs_core::{
    Dataset, DatasetKind, DatasetName, EntryKind, PathError, RelativePath, SnapshotName,
};
use wizfs_index::{IndexError, IndexStore, SnapshotChange};
use wizfs_restore::{RestoreError, SafeRoot};
use wizfs_zfs::{DiffChange, DiffTarget, Scope, Zfs, ZfsError};

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Zfs(#[from] ZfsError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Read(#[from] RestoreError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("dataset {0} is not mounted, so it cannot be indexed")]
    NotMounted(DatasetName),
    #[error("zfs diff reported `{path}`, which is not below the mountpoint {mountpoint}")]
    OutsideMountpoint { path: PathBuf, mountpoint: PathBuf },
}

pub type IndexerResult<T> = Result<T, IndexerError>;

/// What one dataset's reconciliation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub dataset: String,
    /// Snapshots indexed, oldest first.
    pub indexed: Vec<String>,
    /// Snapshots forgotten because they were destroyed.
    pub forgotten: Vec<String>,
    /// Full walks (the first snapshot of a dataset, or live without snapshots).
    pub full_walks: usize,
    /// Paths observed through `zfs diff` (after expanding renamed directories).
    pub observed_paths: usize,
    /// Version operations applied.
    pub operations: usize,
}

/// A progress message for long runs (the CLI prints them, the console shows them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub dataset: String,
    pub step: String,
    pub done: usize,
    pub total: usize,
}

/// Reconciles datasets with the index.
#[derive(Clone)]
pub struct Indexer {
    store: Arc<IndexStore>,
    zfs: Arc<dyn Zfs>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Indexer")
            .field("zfs", &self.zfs)
            .finish_non_exhaustive()
    }
}

impl Indexer {
    pub fn new(store: Arc<IndexStore>, zfs: Arc<dyn Zfs>) -> Self {
        Self { store, zfs }
    }

    pub fn store(&self) -> &Arc<IndexStore> {
        &self.store
    }

    /// Reconciles every mounted filesystem that `include` accepts.
    pub fn sync_all(
        &self,
        include: &dyn Fn(&DatasetName) -> bool,
        progress: &mut dyn FnMut(Progress),
    ) -> IndexerResult<Vec<SyncReport>> {
        let datasets = self.zfs.list_datasets(None)?;
        let mut reports = Vec::new();
        for dataset in datasets
            .iter()
            .filter(|dataset| dataset.kind == DatasetKind::Filesystem)
        {
            if !dataset.mounted || dataset.mountpoint.is_none() || !include(&dataset.name) {
                continue;
            }
            reports.push(self.sync_dataset(dataset, progress)?);
        }
        Ok(reports)
    }

    /// Reconciles one dataset: forget live, forget destroyed snapshots, index new ones,
    /// index live.
    pub fn sync_dataset(
        &self,
        dataset: &Dataset,
        progress: &mut dyn FnMut(Progress),
    ) -> IndexerResult<SyncReport> {
        let mountpoint = match (&dataset.mountpoint, dataset.mounted) {
            (Some(mountpoint), true) => mountpoint.clone(),
            _ => return Err(IndexerError::NotMounted(dataset.name.clone())),
        };
        let guid = dataset.guid;
        let mut report = SyncReport {
            dataset: dataset.name.to_string(),
            ..SyncReport::default()
        };
        // Child datasets are indexed on their own; their mountpoints inside this one are kept
        // as entries but nothing below them (on ZFS they are other mounts anyway).
        let children: Vec<RelativePath> = self
            .zfs
            .list_datasets(Some(&dataset.name))?
            .into_iter()
            .filter(|child| child.name != dataset.name)
            .filter_map(|child| child.mountpoint)
            .filter_map(|child_mountpoint| relative_to(&mountpoint, &child_mountpoint).ok())
            .filter(|relative| !relative.is_root())
            .collect();
        let outside_children = |path: &RelativePath| {
            !children
                .iter()
                .any(|child| path != child && path.starts_with(child))
        };
        self.store.register_dataset(guid, &dataset.name)?;
        let snapshots = self.zfs.list_snapshots(&dataset.name, Scope::Dataset)?;

        // 1. The live layer is re-derived at the end of every run.
        self.forget_live(guid, &mut report)?;

        // 2. Destroyed snapshots, and any snapshot that would break creation order.
        let existing: HashSet<u64> = snapshots.iter().map(|snapshot| snapshot.guid).collect();
        let newest_known = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| snapshot.createtxg);
        let out_of_order = snapshots.iter().any(|snapshot| {
            newest_known.is_some_and(|newest| snapshot.createtxg < newest)
                && !self.is_indexed(guid, snapshot.guid).unwrap_or(true)
        });
        loop {
            let indexed = self.store.indexed_snapshots(guid)?;
            let Some(position) = (if out_of_order {
                indexed.len().checked_sub(1)
            } else {
                indexed
                    .iter()
                    .position(|snapshot| !existing.contains(&snapshot.guid))
            }) else {
                break;
            };
            let destroyed = &indexed[position];
            let previous = position
                .checked_sub(1)
                .map(|index| indexed[index].createtxg);
            let next = indexed.get(position + 1).map(|snapshot| snapshot.createtxg);
            let mut txgs = vec![destroyed.createtxg];
            txgs.extend(next);
            let touching = self.store.versions_touching(guid, &txgs)?;
            let operations = versioning::forget(destroyed.createtxg, previous, next, &touching);
            report.operations += operations.len();
            progress(Progress {
                dataset: report.dataset.clone(),
                step: format!("forgetting @{}", destroyed.name),
                done: 0,
                total: 1,
            });
            self.store.apply_deferred(
                guid,
                SnapshotChange::Forgotten {
                    createtxg: destroyed.createtxg,
                },
                &operations,
            )?;
            report.forgotten.push(destroyed.name.clone());
        }

        // 3. New snapshots, oldest first.
        let newest_txg = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| snapshot.createtxg);
        let new: Vec<_> = snapshots
            .iter()
            .filter(|snapshot| newest_txg.is_none_or(|newest| snapshot.createtxg > newest))
            .collect();
        let mut previous: Option<SnapshotName> = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| dataset.name.snapshot(&snapshot.name))
            .transpose()
            .map_err(|error| IndexerError::Zfs(ZfsError::InvalidName(error)))?;
        for (position, snapshot) in new.iter().enumerate() {
            progress(Progress {
                dataset: report.dataset.clone(),
                step: format!("indexing @{}", snapshot.name.short_name()),
                done: position,
                total: new.len(),
            });
            let root = SafeRoot::open_snapshot(&mountpoint, snapshot.name.short_name())?;
            let operations = match &previous {
                None => {
                    report.full_walks += 1;
                    let walked = walk(&root);
                    root.forget_snapshot_mount();
                    let walked: Vec<_> = walked?
                        .into_iter()
                        .filter(|(path, _)| outside_children(path))
                        .collect();
                    versioning::initial(&walked, snapshot.createtxg)
                }
                Some(from) => {
                    let observed = self.observe_diff(
                        guid,
                        from,
                        DiffTarget::Snapshot(&snapshot.name),
                        &root,
                        &mountpoint,
                    );
                    root.forget_snapshot_mount();
                    let observed: Vec<Observed> = observed?
                        .into_iter()
                        .filter(|observation| outside_children(observation.path()))
                        .collect();
                    report.observed_paths += observed.len();
                    self.advance(guid, &observed, snapshot.createtxg)?
                }
            };
            report.operations += operations.len();
            let change = SnapshotChange::Indexed {
                guid: snapshot.guid,
                createtxg: snapshot.createtxg,
                name: snapshot.name.short_name().to_owned(),
            };
            self.store.apply_deferred(guid, change, &operations)?;
            report.indexed.push(snapshot.name.short_name().to_owned());
            previous = Some(snapshot.name.clone());
        }

        // 4. The live file system.
        progress(Progress {
            dataset: report.dataset.clone(),
            step: "indexing live".into(),
            done: new.len(),
            total: new.len(),
        });
        let live = SafeRoot::open_live(&mountpoint)?;
        let operations = match &previous {
            None => {
                report.full_walks += 1;
                let walked: Vec<_> = walk(&live)?
                    .into_iter()
                    .filter(|(path, _)| outside_children(path))
                    .collect();
                versioning::initial(&walked, LIVE_TXG)
            }
            Some(from) => {
                let observed: Vec<Observed> = self
                    .observe_diff(guid, from, DiffTarget::Live, &live, &mountpoint)?
                    .into_iter()
                    .filter(|observation| outside_children(observation.path()))
                    .collect();
                report.observed_paths += observed.len();
                self.advance(guid, &observed, LIVE_TXG)?
            }
        };
        report.operations += operations.len();
        self.store
            .apply_deferred(guid, SnapshotChange::None, &operations)?;
        // One search-index commit for the whole run (each snapshot above is already atomic in
        // the catalogue; a crash before this point is caught up when the index next opens).
        self.store.flush()?;
        Ok(report)
    }

    fn is_indexed(&self, dataset_guid: u64, snapshot_guid: u64) -> IndexerResult<bool> {
        Ok(self
            .store
            .indexed_snapshots(dataset_guid)?
            .iter()
            .any(|snapshot| snapshot.guid == snapshot_guid))
    }

    /// Removes the live pseudo-snapshot (`forget` with the newest snapshot as its
    /// predecessor and nothing after it).
    fn forget_live(&self, guid: u64, report: &mut SyncReport) -> IndexerResult<()> {
        let previous = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| snapshot.createtxg);
        let touching = self.store.versions_touching(guid, &[LIVE_TXG])?;
        if touching.is_empty() {
            return Ok(());
        }
        let operations = versioning::forget(LIVE_TXG, previous, None, &touching);
        report.operations += operations.len();
        self.store
            .apply_deferred(guid, SnapshotChange::None, &operations)?;
        Ok(())
    }

    /// `advance` with the store's open versions (lookups that fail are reported after).
    fn advance(&self, guid: u64, observed: &[Observed], txg: u64) -> IndexerResult<Vec<VersionOp>> {
        let failure: RefCell<Option<IndexError>> = RefCell::new(None);
        let open = |path: &RelativePath| -> Option<StoredVersion> {
            self.store.open_version(guid, path).unwrap_or_else(|error| {
                failure.borrow_mut().get_or_insert(error);
                None
            })
        };
        let open_below = |path: &RelativePath| -> Vec<StoredVersion> {
            self.store.open_below(guid, path).unwrap_or_else(|error| {
                failure.borrow_mut().get_or_insert(error);
                Vec::new()
            })
        };
        let operations = versioning::advance(observed, txg, &open, &open_below);
        match failure.into_inner() {
            Some(error) => Err(error.into()),
            None => Ok(operations),
        }
    }

    /// What changed from snapshot `from` to `target` (whose tree `root` is), as observations:
    /// removed paths are absent, created and modified ones are stat-ed in the target, a
    /// rename is the old path absent plus the new one present (for a directory, with
    /// everything below it, which `zfs diff` does not list).
    fn observe_diff(
        &self,
        guid: u64,
        from: &SnapshotName,
        target: DiffTarget<'_>,
        root: &SafeRoot,
        mountpoint: &Path,
    ) -> IndexerResult<Vec<Observed>> {
        let entries = self.zfs.diff(from, target)?;
        let mut observed = Vec::with_capacity(entries.len());
        for entry in entries {
            let path = relative_to(mountpoint, &entry.path)?;
            if path.is_root() {
                continue;
            }
            match entry.change {
                DiffChange::Removed => observed.push(Observed::Absent { path }),
                DiffChange::Created => observed.push(present_or_absent(root, path)?),
                DiffChange::Modified => {
                    // `M` is the same object changed in place (a replaced object shows as `-`
                    // and `+`, or `R`): it keeps the identity the index knows, whatever inode
                    // number the tree at hand reports (FakeZfs's snapshot copies have their own).
                    let mut observation = present_or_absent(root, path)?;
                    if let Observed::Present { path, metadata } = &mut observation
                        && let Some(open) = self.store.open_version(guid, path)?
                        && open.signature.kind == metadata.kind
                    {
                        metadata.inode = open.signature.inode;
                    }
                    observed.push(observation);
                }
                DiffChange::Renamed { to } => {
                    observed.push(Observed::Absent { path });
                    let destination = relative_to(mountpoint, &to)?;
                    let present = present_or_absent(root, destination.clone())?;
                    let is_directory = matches!(&present, Observed::Present { metadata, .. } if metadata.kind == EntryKind::Directory);
                    observed.push(present);
                    if is_directory {
                        for below in tree_below(root, &destination)? {
                            observed.push(Observed::Present {
                                path: below.path,
                                metadata: below.metadata,
                            });
                        }
                    }
                }
            }
        }
        Ok(observed)
    }
}

/// A `zfs diff` path (absolute, below the mountpoint) as a path of the dataset.
fn relative_to(mountpoint: &Path, absolute: &Path) -> IndexerResult<RelativePath> {
    use std::os::unix::ffi::OsStrExt;
    let relative =
        absolute
            .strip_prefix(mountpoint)
            .map_err(|_| IndexerError::OutsideMountpoint {
                path: absolute.to_owned(),
                mountpoint: mountpoint.to_owned(),
            })?;
    Ok(RelativePath::new(relative.as_os_str().as_bytes())?)
}

/// Stats `path` in the target tree: present with its metadata, or absent (gone again, or
/// behind something WiZFS never follows: a symlink or another mount).
fn present_or_absent(root: &SafeRoot, path: RelativePath) -> IndexerResult<Observed> {
    match root.stat(&path) {
        Ok(Some(metadata)) => Ok(Observed::Present { path, metadata }),
        Ok(None) => Ok(Observed::Absent { path }),
        Err(error) if is_unreachable(&error) => Ok(Observed::Absent { path }),
        Err(error) => Err(error.into()),
    }
}

fn is_unreachable(error: &RestoreError) -> bool {
    error.is_not_found()
        || matches!(
            error,
            RestoreError::SymlinkInPath { .. }
                | RestoreError::CrossesMount { .. }
                | RestoreError::NotADirectory { .. }
        )
}

/// Every entry strictly below `directory`.
fn tree_below(
    root: &SafeRoot,
    directory: &RelativePath,
) -> IndexerResult<Vec<wizfs_core::TreeEntry>> {
    match root.read_tree(directory) {
        Ok(entries) => Ok(entries
            .into_iter()
            .filter(|entry| &entry.path != directory)
            .collect()),
        Err(error) if is_unreachable(&error) => Ok(Vec::new()),
        Err(error) => Err(error.into()),
    }
}

/// Every entry of a tree except its root, for a full walk.
fn walk(root: &SafeRoot) -> IndexerResult<Vec<(RelativePath, wizfs_core::EntryMetadata)>> {
    Ok(tree_below(root, &RelativePath::root())?
        .into_iter()
        .map(|entry| (entry.path, entry.metadata))
        .collect())
}

#[cfg(test)]
mod tests;
