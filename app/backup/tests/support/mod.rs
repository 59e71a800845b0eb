//! What the backup tests on `FakeZfs` share: a fake machine with the pools `tank` and
//! `backup` and a clock that moves an hour per snapshot, with helpers to write files, take
//! snapshots, run a job into a pool or a file target, and read back guids, holds and files.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tempfile::TempDir;
use wizfs_backup::{RunError, RunReport, TargetName, hold_tag, run_files, run_local_pool};
use wizfs_core::backup::BackupJob;
use wizfs_core::rotation::UtcCalendar;
use wizfs_core::{DatasetName, PoolName, SnapshotName, Timestamp};
use wizfs_zfs::{FakeZfs, Scope, Zfs};

pub const HOUR: i64 = 3600;
/// 2026-12-07T05:00:00Z.
pub const START: i64 = 1_796_619_600;

pub struct Fixture {
    pub temporary: TempDir,
    pub zfs: FakeZfs,
    pub clock: Arc<AtomicI64>,
}

impl Fixture {
    pub fn new() -> Self {
        let directory = TempDir::new().expect("temporary directory");
        let zfs = FakeZfs::open(directory.path().join("root")).expect("fake");
        let clock = Arc::new(AtomicI64::new(START));
        let reader = Arc::clone(&clock);
        zfs.set_clock(Arc::new(move || Timestamp(reader.load(Ordering::SeqCst))));
        for pool in ["tank", "backup"] {
            zfs.create_pool(&PoolName::new(pool).expect("pool"), 1 << 30)
                .expect("pool");
        }
        Self {
            temporary: directory,
            zfs,
            clock,
        }
    }

    pub fn now(&self) -> Timestamp {
        Timestamp(self.clock.load(Ordering::SeqCst))
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn create(&self, name: &str) {
        self.zfs
            .create_filesystem(&dataset(name), &[])
            .expect("create");
    }

    pub fn write(&self, dataset_name: &str, file: &str, content: &[u8]) {
        let path = self
            .zfs
            .mountpoint(&dataset(dataset_name))
            .expect("mountpoint")
            .join(file);
        fs::write(path, content).expect("write");
    }

    /// `dataset@short`, an hour after the previous one.
    pub fn snapshot(&self, dataset_name: &str, short: &str) {
        self.advance(HOUR);
        self.zfs
            .create_snapshots(&[snapshot(&format!("{dataset_name}@{short}"))], false, &[])
            .expect("snapshot");
    }

    /// One round of changes to `tank/home` and `tank/home/docs` between runs: new and
    /// rewritten files and the snapshot `short` of the parent; every other round the child
    /// changes too and takes two snapshots (`short`, `<short>b`: one `-I` stream).
    pub fn change_tree(&self, round: u64, short: &str) {
        self.write("tank/home", &format!("f{round}.bin"), &content(round, 3000));
        self.write("tank/home", "a.txt", format!("version {round}").as_bytes());
        self.snapshot("tank/home", short);
        if round.is_multiple_of(2) {
            self.write("tank/home/docs", "d.txt", &content(round + 100, 500));
            self.snapshot("tank/home/docs", short);
            self.snapshot("tank/home/docs", &format!("{short}b"));
        }
    }

    /// A directory for file targets, on the test's temporary directory.
    pub fn files_directory(&self) -> std::path::PathBuf {
        let path = self.temporary.path().join("files");
        fs::create_dir_all(&path).expect("files directory");
        path
    }

    /// One run of `job` into its file target named `target`.
    pub fn run_files(&self, job: &BackupJob, target: &str) -> Result<RunReport, RunError> {
        let target = TargetName::new(target).expect("target name");
        run_files(&self.zfs, job, &target, self.now(), &UtcCalendar)
    }

    pub fn run(&self, job: &BackupJob) -> RunReport {
        run_local_pool(&self.zfs, job, self.now(), &UtcCalendar).expect("run starts")
    }

    pub fn guids(&self, dataset_name: &str) -> Vec<u64> {
        self.zfs
            .list_snapshots(&dataset(dataset_name), Scope::Dataset)
            .expect("list")
            .iter()
            .map(|snapshot| snapshot.guid)
            .collect()
    }

    pub fn short_names(&self, dataset_name: &str) -> Vec<String> {
        self.zfs
            .list_snapshots(&dataset(dataset_name), Scope::Dataset)
            .expect("list")
            .iter()
            .map(|snapshot| snapshot.name.short_name().to_owned())
            .collect()
    }

    pub fn held_by(&self, job: &BackupJob, dataset_name: &str) -> Vec<String> {
        let tag = hold_tag(job).expect("tag");
        self.zfs
            .list_snapshots(&dataset(dataset_name), Scope::Dataset)
            .expect("list")
            .iter()
            .filter(|snapshot| {
                self.zfs
                    .holds(&snapshot.name)
                    .expect("holds")
                    .iter()
                    .any(|hold| hold.tag == tag.as_str())
            })
            .map(|snapshot| snapshot.name.short_name().to_owned())
            .collect()
    }

    pub fn read(&self, dataset_name: &str, file: &str) -> Vec<u8> {
        let mut content = Vec::new();
        fs::File::open(
            self.zfs
                .mountpoint(&dataset(dataset_name))
                .expect("mountpoint")
                .join(file),
        )
        .and_then(|mut opened| opened.read_to_end(&mut content))
        .expect("read");
        content
    }
}

pub fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).expect("dataset")
}

pub fn snapshot(name: &str) -> SnapshotName {
    SnapshotName::new(name).expect("snapshot")
}

/// Bytes that differ per seed.
pub fn content(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

pub fn assert_clean(report: &RunReport) {
    assert!(
        report.succeeded(),
        "errors: {:?}; refusals: {:?}",
        report
            .datasets
            .iter()
            .flat_map(|dataset| dataset.errors.iter().map(ToString::to_string))
            .chain(report.errors.iter().map(ToString::to_string))
            .collect::<Vec<_>>(),
        report.refusals().collect::<Vec<_>>()
    );
}
