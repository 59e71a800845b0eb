//! The fixture the recovery platform tests share (`restore.rs`, `recovery.rs`, each a test
//! binary that includes this file as a module): a fresh dataset of the VM's test pool with a
//! `Recovery` over `CliZfs`, destroyed — holds released first — when the test ends, pass or
//! fail; helpers to take snapshots, name paths, build restore requests and run `wizfs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use wizfs_core::restore::{DirectoryStrategy, RestoreRequest, RestoreTarget};
use wizfs_core::{DatasetName, RelativePath, SnapshotName};
use wizfs_recovery::Recovery;
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::{CliZfs, Scope, Zfs};

pub struct Fixture {
    pub zfs: Arc<dyn Zfs>,
    pub recovery: Recovery,
    pub dataset: DatasetName,
    pub mountpoint: PathBuf,
    pub environment: VmEnvironment,
    /// Holds (tag, snapshot) to release before the dataset is destroyed.
    pub holds: Vec<(String, SnapshotName)>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for (tag, snapshot) in &self.holds {
            let _ = Command::new("zfs")
                .args(["release", tag, snapshot.as_str()])
                .status();
        }
        let _ = Command::new("zfs")
            .args(["destroy", "-r", "-f", self.dataset.as_str()])
            .status();
    }
}

/// A fresh dataset named after `label` (unique to this process and call).
pub fn fixture(label: &str) -> Fixture {
    let environment = VmEnvironment::from_env();
    let zfs: Arc<dyn Zfs> = Arc::new(CliZfs::default());
    let dataset = environment.unique_dataset(&environment.pool, label);
    zfs.create_filesystem(&dataset, &[])
        .expect("create dataset");
    let mountpoint = PathBuf::from(format!("/{dataset}"));
    let recovery = Recovery::new(zfs.clone(), Arc::new(wizfs_recovery::system_clock));
    Fixture {
        zfs,
        recovery,
        dataset,
        mountpoint,
        environment,
        holds: Vec::new(),
    }
}

impl Fixture {
    pub fn snapshot(&self, short: &str) -> SnapshotName {
        let name = self.dataset.snapshot(short).expect("name");
        self.zfs
            .create_snapshots(std::slice::from_ref(&name), false, &[])
            .expect("snapshot");
        name
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.mountpoint.join(relative)
    }

    pub fn snapshot_path(&self, snapshot: &SnapshotName, relative: &str) -> PathBuf {
        self.mountpoint
            .join(".zfs/snapshot")
            .join(snapshot.short_name())
            .join(relative)
    }

    pub fn request(
        &self,
        snapshot: &SnapshotName,
        relative: &str,
        target: RestoreTarget,
    ) -> RestoreRequest {
        RestoreRequest {
            snapshot: snapshot.clone(),
            path: RelativePath::new(relative.as_bytes()).expect("path"),
            target,
            strategy: DirectoryStrategy::Merge,
        }
    }

    /// The short names of the dataset's snapshots, oldest first.
    pub fn snapshot_names(&self) -> Vec<String> {
        let snapshots = self
            .zfs
            .list_snapshots(&self.dataset, Scope::Dataset)
            .expect("list");
        snapshots
            .iter()
            .map(|snapshot| snapshot.name.short_name().to_owned())
            .collect()
    }

    /// Runs the `wizfs` binary the VM harness built.
    pub fn wizfs(&self, arguments: &[&str]) -> std::process::Output {
        Command::new(self.environment.bin_dir.join("wizfs"))
            .args(arguments)
            .output()
            .expect("run wizfs")
    }
}

/// Writes a file, creating its directories.
pub fn write(path: &Path, contents: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, contents).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}
