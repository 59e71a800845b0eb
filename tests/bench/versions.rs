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

/// The CPU time (user + system) of this process's children that ended so far, from
/// `/proc/self/stat` (`cutime` and `cstime`, in clock ticks of 10 ms on Linux).
fn children_cpu() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // After the name: state is field 3 of proc(5), so cutime (16) and cstime (17) are at
    // 13 and 14 here.
    let ticks = fields.get(13).copied().unwrap_or(0) + fields.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Runs a command to its end; its standard output's line count, the wall time and the CPU
/// time it used.
fn timed_with_cpu(program: &Path, arguments: &[&str]) -> (usize, Duration, Duration) {
    let cpu_before = children_cpu();
    let (lines, elapsed) = timed(program, arguments);
    (lines, elapsed, children_cpu().saturating_sub(cpu_before))
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
    /// CPU time (user + system) of the cold run and of the median warm run.
    cold_cpu: Duration,
    warm_cpu: Duration,
}

/// WiZFS's command and httm's, each cold (after unmounting every snapshot; WiZFS first),
/// then warm in turns — WiZFS, httm, WiZFS, … — so that both see the same machine (the VM
/// shares two host cores with whatever else runs there).
fn measure(
    mountpoint: &Path,
    wizfs: (&Path, &[&str]),
    httm: (&Path, &[&str]),
) -> (Measured, Measured) {
    unmount_snapshots(mountpoint);
    let wizfs_cold = timed_with_cpu(wizfs.0, wizfs.1);
    unmount_snapshots(mountpoint);
    let httm_cold = timed_with_cpu(httm.0, httm.1);
    let mut wizfs_warm: Vec<(Duration, Duration)> = Vec::new();
    let mut httm_warm: Vec<(Duration, Duration)> = Vec::new();
    for _ in 0..WARM_RUNS {
        let (_, wall, cpu) = timed_with_cpu(wizfs.0, wizfs.1);
        wizfs_warm.push((wall, cpu));
        let (_, wall, cpu) = timed_with_cpu(httm.0, httm.1);
        httm_warm.push((wall, cpu));
    }
    let summary = |(lines, cold, cold_cpu): (usize, Duration, Duration),
                   mut warm: Vec<(Duration, Duration)>| {
        warm.sort();
        Measured {
            cold,
            warm: warm[WARM_RUNS / 2].0,
            lines,
            cold_cpu,
            warm_cpu: warm[WARM_RUNS / 2].1,
        }
    };
    (
        summary(wizfs_cold, wizfs_warm),
        summary(httm_cold, httm_warm),
    )
}

/// A step of a quick path, timed in this process.
type Step<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// The median of `WARM_RUNS` runs of `step`, in this process.
fn median_of(mut step: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..WARM_RUNS)
        .map(|_| {
            let started = Instant::now();
            step();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[WARM_RUNS / 2]
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
    let versions_of = ["--data-dir", &data_dir, "versions", &watched];
    let search_deleted = [
        "--data-dir",
        &data_dir,
        "search",
        "--deleted",
        "--under",
        &directory,
        "--limit",
        "1000",
    ];
    let (wizfs_versions, httm_versions) =
        measure(&mountpoint, (&wizfs, &versions_of), (&httm, &[&watched]));
    let (wizfs_deleted, httm_deleted) = measure(
        &mountpoint,
        (&wizfs, &search_deleted),
        (&httm, &["-d", "-R", "-n", &directory]),
    );
    let cases: [(&str, Measured, Measured); 2] = [
        ("versions of one file", wizfs_versions, httm_versions),
        (
            "deleted files below the dataset",
            wizfs_deleted,
            httm_deleted,
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
    for (label, wizfs, httm) in &cases {
        println!(
            "cpu (user + system) {label:<32} wizfs {:.2}s cold, {:.2}s warm; httm {:.2}s cold, {:.2}s warm",
            wizfs.cold_cpu.as_secs_f64(),
            wizfs.warm_cpu.as_secs_f64(),
            httm.cold_cpu.as_secs_f64(),
            httm.warm_cpu.as_secs_f64()
        );
    }
    // The steps of the quick paths, in this process (no process start).
    let index = state.path().join("index");
    let relative = wizfs_core::RelativePath::new(
        Path::new(&watched)
            .strip_prefix(&mountpoint)
            .expect("inside")
            .as_os_str()
            .as_encoded_bytes(),
    )
    .expect("path");
    let seen: Vec<(String, u64)> = wizfs_zfs::mounts::snapshot_entries(&mountpoint)
        .expect(".zfs/snapshot")
        .into_iter()
        .map(|entry| (entry.name, entry.objsetid))
        .collect();
    let current = wizfs_index::CatalogueReader::open(&index)
        .expect("catalogue")
        .current_versions(dataset.as_str(), &seen, &relative)
        .expect("read")
        .is_some();
    println!("the index is current by .zfs/snapshot: {current}");
    let under = wizfs_index::SearchQuery {
        datasets: vec![dataset.to_string()],
        under: Some((dataset.to_string(), wizfs_core::RelativePath::root())),
        deleted_only: true,
        limit: 1000,
        ..wizfs_index::SearchQuery::default()
    };
    let steps: [Step<'_>; 5] = [
        (
            "read the ZFS mounts (/proc/self/mountinfo)",
            Box::new(|| drop(wizfs_zfs::mounts::mounted_filesystems().expect("mounts"))),
        ),
        (
            "list .zfs/snapshot",
            Box::new(|| drop(wizfs_zfs::mounts::snapshot_entries(&mountpoint).expect("list"))),
        ),
        (
            "open the catalogue, read the versions",
            Box::new(|| {
                let reader = wizfs_index::CatalogueReader::open(&index).expect("catalogue");
                drop(reader.current_versions(dataset.as_str(), &seen, &relative));
            }),
        ),
        (
            "open the whole index read-only",
            Box::new(|| drop(wizfs_index::IndexStore::open_read_only(&index).expect("index"))),
        ),
        (
            "open it read-only, search the deleted files",
            Box::new(|| {
                let store = wizfs_index::IndexStore::open_read_only(&index).expect("index");
                drop(store.search(&under).expect("search"));
            }),
        ),
    ];
    for (label, step) in steps {
        println!(
            "step: {label:<44} {:>9.4}s (median of {WARM_RUNS})",
            median_of(step).as_secs_f64()
        );
    }
    // Where the time goes: a process that does nothing but start (`--version`) and one
    // `zfs list`, the cost the quick paths avoid.
    let floors: [(&str, &Path, Vec<&str>); 3] = [
        ("wizfs --version", &wizfs, vec!["--version"]),
        (
            "zfs list -H -o name DATASET",
            Path::new("zfs"),
            vec!["list", "-H", "-o", "name", dataset.as_str()],
        ),
        ("httm --version", &httm, vec!["--version"]),
    ];
    for (label, program, arguments) in &floors {
        let mut times: Vec<Duration> = (0..WARM_RUNS)
            .map(|_| timed(program, arguments).1)
            .collect();
        times.sort();
        println!(
            "floor: {label:<30} {:>9.3}s (median of {WARM_RUNS})",
            times[WARM_RUNS / 2].as_secs_f64()
        );
    }
    unmount_snapshots(&mountpoint);
    wizfs_tests::vm::run(&["zfs", "destroy", "-r", dataset.as_str()]);
}
