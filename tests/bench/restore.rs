//! Restore benchmark, run in the VM on real OpenZFS (`tests/vm/run --bench`): restores a
//! 1 GiB file and a 10,000-file directory from a snapshot with WiZFS and copies the same
//! data with `cp -a` in the same run, and prints the times and their ratio (goal ≤ 1.1×;
//! below 1 where block cloning applies). Both sides end with `sync` so durability is equal.
//! Not a test: it asserts nothing about time; it fails only if a restore fails.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wizfs_core::restore::{DirectoryStrategy, RestoreRequest, RestoreTarget};
use wizfs_core::{DatasetName, RelativePath, SnapshotName};
use wizfs_recovery::Recovery;
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::{CliZfs, PropertyName, Zfs};

const ROUNDS: usize = 3;

fn noise_file(path: &Path, bytes: u64, seed: u64) {
    let mut file =
        std::io::BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create"));
    let mut state = seed | 1;
    let mut block = vec![0u8; 1 << 20];
    let mut written = 0;
    while written < bytes {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let length = block.len().min((bytes - written) as usize);
        file.write_all(&block[..length]).expect("write");
        written += length as u64;
    }
    file.flush().expect("flush");
}

fn sync() {
    Command::new("sync").status().expect("sync");
}

fn timed(work: impl FnOnce()) -> Duration {
    let started = Instant::now();
    work();
    sync();
    started.elapsed()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn clone_bytes(pool: &str) -> u64 {
    let output = Command::new("zpool")
        .args(["get", "-H", "-p", "-o", "value", "bcloneused", pool])
        .output()
        .expect("zpool get");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

struct Case {
    label: &'static str,
    relative: &'static str,
}

fn main() {
    let environment = VmEnvironment::from_env();
    let zfs: Arc<dyn Zfs> = Arc::new(CliZfs::default());
    let dataset: DatasetName = environment.unique_dataset(&environment.pool, "bench");
    let compression = PropertyName::new("compression").expect("name");
    zfs.create_filesystem(&dataset, &[(compression, "off".into())])
        .expect("dataset");
    let mountpoint = PathBuf::from(format!("/{dataset}"));
    let recovery = Recovery::new(zfs.clone(), Arc::new(wizfs_recovery::system_clock));

    println!("generating 1 GiB file and 10,000 small files on {dataset} (compression off)");
    noise_file(&mountpoint.join("big.bin"), 1 << 30, 42);
    for index in 0..10_000u64 {
        let directory = mountpoint.join("tree").join(format!("d{:03}", index / 100));
        if index % 100 == 0 {
            fs::create_dir_all(&directory).expect("mkdir");
        }
        noise_file(
            &directory.join(format!("f{index:05}.dat")),
            1024 + (index * 37) % 7168,
            index,
        );
    }
    sync();
    let snapshot: SnapshotName = dataset.snapshot("bench").expect("name");
    zfs.create_snapshots(std::slice::from_ref(&snapshot), false, &[])
        .expect("snapshot");
    let snapshot_root = mountpoint.join(".zfs/snapshot/bench");

    let cases = [
        Case {
            label: "1 GiB file",
            relative: "big.bin",
        },
        Case {
            label: "10,000-file directory",
            relative: "tree",
        },
    ];
    println!(
        "{:<24} {:>10} {:>10} {:>7}  block cloning",
        "case", "cp -a", "wizfs", "ratio"
    );
    for case in &cases {
        let mut copy_times = Vec::new();
        let mut restore_times = Vec::new();
        let mut cloned = false;
        for round in 0..ROUNDS {
            let copy_target = mountpoint.join(format!("cp-{round}"));
            fs::create_dir_all(&copy_target).expect("mkdir");
            let clones_before = clone_bytes(environment.pool.as_str());
            copy_times.push(timed(|| {
                let status = Command::new("cp")
                    .arg("-a")
                    .arg(snapshot_root.join(case.relative))
                    .arg(&copy_target)
                    .status()
                    .expect("cp");
                assert!(status.success(), "cp -a failed");
            }));
            let into = format!("wizfs-{round}");
            fs::create_dir_all(mountpoint.join(&into)).expect("mkdir");
            let request = RestoreRequest {
                snapshot: snapshot.clone(),
                path: RelativePath::new(case.relative.as_bytes()).expect("path"),
                target: RestoreTarget::Copy {
                    into: Some(RelativePath::new(into.as_bytes()).expect("path")),
                },
                strategy: DirectoryStrategy::Merge,
            };
            restore_times.push(timed(|| {
                recovery.restore(&request, &mut |_| {}).expect("restore");
            }));
            cloned |= clone_bytes(environment.pool.as_str()) > clones_before;
            fs::remove_dir_all(&copy_target).expect("clean cp");
            fs::remove_dir_all(mountpoint.join(&into)).expect("clean restore");
            sync();
        }
        let (copy, restore) = (median(copy_times), median(restore_times));
        println!(
            "{:<24} {:>9.2}s {:>9.2}s {:>6.2}x  {}",
            case.label,
            copy.as_secs_f64(),
            restore.as_secs_f64(),
            restore.as_secs_f64() / copy.as_secs_f64(),
            if cloned { "used" } else { "not used" }
        );
    }
    let _ = Command::new("zfs")
        .args(["destroy", "-r", dataset.as_str()])
        .status();
}
