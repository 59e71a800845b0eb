//! Versions and deleted-file search against httm, run in the VM on real OpenZFS (`tests/vm/run
//! --bench`, which builds httm from crates.io — `HTTM_VERSION` in tests/vm/run — and puts it
//! beside `wizfs`): a generated dataset (`WIZFS_BENCH_VERSIONS_FILES`, default 20,000 files
//! in 200 directories; `WIZFS_BENCH_VERSIONS_SNAPSHOTS`, default 100 snapshots; between
//! snapshots 1 % of the files change and 0.1 % are deleted), indexed once with `wizfs index`.
//! Then, end to end as a person runs them — a new process each time —, in the same run on the
//! same pool:
//! - the versions of one file changed in many snapshots: `wizfs versions FILE` (from the
//!   index, which is current) against `httm FILE`;
//! - the files deleted below a directory: `wizfs search --deleted --under DIR` against `httm
//!   -d -R -n DIR`.
//!
//! Each is timed cold (no snapshot mounted: httm mounts every snapshot it looks into) and
//! warm (median of 5 runs). Prints the times, the ratios and how many lines each printed.
//! Asserts nothing about time; it fails only when a command fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wizfs_tests::vm::VmEnvironment;

const WARM_RUNS: usize = 5;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Runs a command to its end; its standard output's line count and the wall time.
fn timed(program: &Path, arguments: &[&str]) -> (usize, Duration) {
    let started = Instant::now();
    let output = Command::new(program)
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("{} {arguments:?}: {error}", program.display()));
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{} {arguments:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output
            .stdout
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
            .count(),
        elapsed,
    )
}

/// Unmounts every snapshot of the dataset mounted at `mountpoint` (ZFS mounts them on first
/// access below `.zfs/snapshot`), so the next run starts cold.
fn unmount_snapshots(mountpoint: &Path) {
    let prefix = mountpoint.join(".zfs/snapshot/");
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    for line in mounts.lines() {
        let Some(target) = line.split_whitespace().nth(1) else {
            continue;
        };
        if Path::new(target).starts_with(&prefix) {
            let _ = Command::new("umount").arg(target).status();
        }
    }
}

struct Measured {
    cold: Duration,
    warm: Duration,
    lines: usize,
}

fn measure(mountpoint: &Path, program: &Path, arguments: &[&str]) -> Measured {
    unmount_snapshots(mountpoint);
    let (lines, cold) = timed(program, arguments);
    let mut warm: Vec<Duration> = (0..WARM_RUNS)
        .map(|_| timed(program, arguments).1)
        .collect();
    warm.sort();
    Measured {
        cold,
        warm: warm[WARM_RUNS / 2],
        lines,
    }
}

fn main() {
    let environment = VmEnvironment::from_env();
    let files = setting("WIZFS_BENCH_VERSIONS_FILES", 20_000).max(1_000);
    let snapshots = setting("WIZFS_BENCH_VERSIONS_SNAPSHOTS", 100).max(2);
    let directories = (files / 100).max(1);
    let httm = environment.bin_dir.join("httm");
    let wizfs = environment.bin_dir.join("wizfs");
    assert!(
        httm.is_file(),
        "{} is missing: run through tests/vm/run --bench",
        httm.display()
    );
    let dataset = environment.unique_dataset(&environment.pool, "versions");
    wizfs_tests::vm::run(&["zfs", "create", dataset.as_str()]);
    let mountpoint = PathBuf::from(format!("/{dataset}"));
    let path_of = |index: usize| {
        mountpoint
            .join(format!("d{:03}", index % directories))
            .join(format!("f{index:06}.txt"))
    };

    println!(
        "generating {files} files in {directories} directories and {snapshots} snapshots on {dataset}"
    );
    let started = Instant::now();
    for directory in 0..directories {
        fs::create_dir_all(mountpoint.join(format!("d{directory:03}"))).expect("mkdir");
    }
    for index in 0..files {
        fs::write(path_of(index), format!("file {index} version 0\n")).expect("write");
    }
    // The file whose versions are asked for: changed in every snapshot.
    let watched = path_of(7);
    let mut deleted = 0;
    for round in 0..snapshots {
        if round > 0 {
            for step in 0..files / 100 {
                let index = (round * 7919 + step * 101) % files;
                let path = path_of(index);
                if path.exists() {
                    fs::write(&path, format!("file {index} version {round}\n")).expect("change");
                }
            }
            for step in 0..files / 1000 {
                let index = (round * 104_729 + step * 1009) % files;
                let path = path_of(index);
                if index != 7 && path.exists() {
                    fs::remove_file(&path).expect("delete");
                    deleted += 1;
                }
            }
            fs::write(&watched, format!("watched version {round}\n")).expect("change");
        }
        wizfs_tests::vm::run(&["zfs", "snapshot", &format!("{dataset}@bench-{round:03}")]);
    }
    println!(
        "generated in {:.1} s ({deleted} files deleted along the way)",
        started.elapsed().as_secs_f64()
    );

    let state = tempfile::tempdir().expect("state directory");
    let data_dir = state.path().to_string_lossy().into_owned();
    let started = Instant::now();
    timed(
        &wizfs,
        &["--data-dir", &data_dir, "index", dataset.as_str()],
    );
    println!("wizfs index: {:.1} s", started.elapsed().as_secs_f64());

    let watched = watched.to_string_lossy().into_owned();
    let directory = mountpoint.to_string_lossy().into_owned();
    let cases: [(&str, Measured, Measured); 2] = [
        (
            "versions of one file",
            measure(
                &mountpoint,
                &wizfs,
                &["--data-dir", &data_dir, "versions", &watched],
            ),
            measure(&mountpoint, &httm, &[&watched]),
        ),
        (
            "deleted files below the dataset",
            measure(
                &mountpoint,
                &wizfs,
                &[
                    "--data-dir",
                    &data_dir,
                    "search",
                    "--deleted",
                    "--under",
                    &directory,
                    "--limit",
                    "1000",
                ],
            ),
            measure(&mountpoint, &httm, &["-d", "-R", "-n", &directory]),
        ),
    ];
    println!(
        "{:<32} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7}  lines (wizfs / httm)",
        "case", "wizfs cold", "httm cold", "ratio", "wizfs warm", "httm warm", "ratio"
    );
    for (label, wizfs, httm) in &cases {
        println!(
            "{label:<32} {:>9.3}s {:>9.3}s {:>6.1}× {:>9.3}s {:>9.3}s {:>6.1}×  {} / {}",
            wizfs.cold.as_secs_f64(),
            httm.cold.as_secs_f64(),
            httm.cold.as_secs_f64() / wizfs.cold.as_secs_f64(),
            wizfs.warm.as_secs_f64(),
            httm.warm.as_secs_f64(),
            httm.warm.as_secs_f64() / wizfs.warm.as_secs_f64(),
            wizfs.lines,
            httm.lines
        );
    }
    println!("(ratio: httm's time over WiZFS's; above 1, WiZFS is faster)");
    unmount_snapshots(&mountpoint);
    wizfs_tests::vm::run(&["zfs", "destroy", "-r", dataset.as_str()]);
}
