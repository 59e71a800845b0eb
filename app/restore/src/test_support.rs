//! Fixtures shared by this crate's unit tests: a `FakeZfs` pool in a temporary directory
//! (its dataset mountpoint is a plain directory, its snapshots real directories under
//! `.zfs/snapshot/`), helpers to fill it, and hand-built restore plans, so the executor is
//! tested on exactly the plans it is given rather than on what a planner would decide.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use wizfs_core::restore::{PlanSummary, RestoreAction, RestorePlan};
use wizfs_core::{DatasetName, EntryMetadata, PoolName, RelativePath, SnapshotName};
use wizfs_zfs::{FakeZfs, Scope, Zfs};

use crate::SafeRoot;

/// A `tank` pool of `FakeZfs` in a temporary directory.
pub(crate) struct Fixture {
    _directory: TempDir,
    pub(crate) zfs: FakeZfs,
    pub(crate) dataset: DatasetName,
    pub(crate) mountpoint: PathBuf,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let directory = tempfile::tempdir().expect("temporary directory");
        let zfs = FakeZfs::open(directory.path().join("zfs")).expect("fake zfs");
        zfs.create_pool(&PoolName::new("tank").expect("pool name"), 1 << 30)
            .expect("pool");
        let dataset = DatasetName::new("tank").expect("dataset name");
        let mountpoint = zfs.mountpoint(&dataset).expect("mountpoint");
        Fixture {
            _directory: directory,
            zfs,
            dataset,
            mountpoint,
        }
    }

    /// The live path of `relative`.
    pub(crate) fn live_path(&self, relative: &str) -> PathBuf {
        self.mountpoint.join(relative)
    }

    /// Writes a live file (creating its directories).
    pub(crate) fn write(&self, relative: &str, content: &[u8]) {
        write_file(&self.live_path(relative), content);
    }

    pub(crate) fn read(&self, relative: &str) -> Vec<u8> {
        fs::read(self.live_path(relative)).expect("read live file")
    }

    /// Takes a snapshot of the dataset.
    pub(crate) fn snapshot(&self, short_name: &str) -> SnapshotName {
        let name = self.dataset.snapshot(short_name).expect("snapshot name");
        self.zfs
            .create_snapshots(std::slice::from_ref(&name), false, &[])
            .expect("snapshot");
        name
    }

    /// The directory holding a snapshot's files (writable by root, for setting up content
    /// the fake does not copy: sparse files, extended attributes, owners).
    pub(crate) fn snapshot_directory(&self, short_name: &str) -> PathBuf {
        self.mountpoint.join(".zfs/snapshot").join(short_name)
    }

    pub(crate) fn snapshot_names(&self) -> Vec<String> {
        self.zfs
            .list_snapshots(&self.dataset, Scope::Dataset)
            .expect("list snapshots")
            .into_iter()
            .map(|snapshot| snapshot.name.short_name().to_owned())
            .collect()
    }

    pub(crate) fn live(&self) -> SafeRoot {
        SafeRoot::open_live(&self.mountpoint).expect("open live root")
    }

    pub(crate) fn snapshot_root(&self, short_name: &str) -> SafeRoot {
        SafeRoot::open_snapshot(&self.mountpoint, short_name).expect("open snapshot root")
    }

    /// A plan for this dataset.
    pub(crate) fn plan(
        &self,
        snapshot: &SnapshotName,
        destination: &str,
        guard: Option<&str>,
        actions: Vec<RestoreAction>,
    ) -> RestorePlan {
        RestorePlan {
            dataset: self.dataset.clone(),
            snapshot: snapshot.clone(),
            destination: path(destination),
            guard_snapshot: guard.map(|short| self.dataset.snapshot(short).expect("guard name")),
            actions,
            refused: Vec::new(),
            summary: PlanSummary::default(),
        }
    }
}

pub(crate) fn path(text: &str) -> RelativePath {
    RelativePath::new(text.as_bytes()).expect("valid relative path")
}

pub(crate) fn write_file(path: &Path, content: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create directories");
    }
    fs::write(path, content).expect("write file");
}

/// The metadata `root` reports for `relative` (what a planner would put in the plan).
pub(crate) fn metadata_of(root: &SafeRoot, relative: &str) -> EntryMetadata {
    root.stat(&path(relative))
        .expect("stat")
        .expect("entry exists")
}

/// Every name below `directory` that looks like one of our temporary entries.
pub(crate) fn temporaries_below(directory: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let entry_path = entry.path();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(".wizfs-restore-")
            {
                found.push(entry_path.clone());
            }
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(entry_path);
            }
        }
    }
    found
}

pub(crate) fn inode(path: &Path) -> u64 {
    fs::symlink_metadata(path).expect("metadata").ino()
}
