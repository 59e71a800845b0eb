//! Platform tests of backups (`wizfs-backup`) on real OpenZFS in the VM (issue 20). The
//! local-pool target: a full and 20 incremental runs with the target's snapshot guids equal
//! to the source's for what the retention keeps and every file alike; a receive killed
//! mid-stream (the `zfs send` of a full stream, the `zfs receive` of an incremental), resumed
//! from its token, no snapshot lost; a target pool that fills up, a clear
//! error, nothing lost, and the run after space was freed catching up. The file target: a
//! chain of a real dataset with zstd in small volumes, verified, restored through the reader
//! and `zfs receive`, through `wizfs backup restore`, and with only the stock commands its
//! `RESTORE.txt` prints, each restore compared file by file (SHA-256) with every source
//! snapshot; a corrupt and a missing volume found by `verify`, the reader and the CLI before
//! anything is received. Every test name contains `backup`, so `tests/vm/run --filter backup`
//! runs exactly these.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wizfs_backup::names::RESTORE_FILE;
use wizfs_backup::pipeline::DEFAULT_COMPRESSION;
use wizfs_backup::{
    ChainIdentity, ChainWriter, Pipeline, Problem, ReadError, RunReport, StepError, StreamHeader,
    StreamKind, TargetName, chain_directory_name, hold_tag, open_verified, parse_backups,
    run_local_pool, verify,
};
use wizfs_core::backup::{Action, BackupJob, BackupJobId, SendBase};
use wizfs_core::rotation::UtcCalendar;
use wizfs_core::{DatasetName, Snapshot, SnapshotName, Timestamp};
use wizfs_tests::conformance::noise;
use wizfs_tests::vm::{VmEnvironment, run as shell};
use wizfs_zfs::{
    CliZfs, IncrementalBase, ReceiveOptions, Scope, SendFlags, SendSource, Zfs, ZfsError,
};

const MIB: usize = 1 << 20;

/// Destroys what a test made when it ends, pass or fail: datasets (every hold on their
/// snapshots released first), file-backed pools, directories.
struct Cleanup(Made);

/// What a test made.
#[derive(Default)]
struct Made {
    datasets: Vec<DatasetName>,
    pools: Vec<(String, PathBuf)>,
    directories: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let made = &self.0;
        let zfs = CliZfs::default();
        for dataset in &made.datasets {
            for snapshot in zfs
                .list_snapshots(dataset, Scope::Recursive)
                .unwrap_or_default()
                .iter()
                .filter(|snapshot| snapshot.user_refs > 0)
            {
                for hold in zfs.holds(&snapshot.name).unwrap_or_default() {
                    let _ = Command::new("zfs")
                        .args(["release", &hold.tag, snapshot.name.as_str()])
                        .status();
                }
            }
            // A dataset the test never made (a refused restore's target) is no error.
            let _ = Command::new("zfs")
                .args(["destroy", "-r", "-f", dataset.as_str()])
                .stderr(Stdio::null())
                .status();
        }
        for (pool, file) in &made.pools {
            let _ = Command::new("zpool").args(["destroy", "-f", pool]).status();
            let _ = fs::remove_file(file);
        }
        for directory in &made.directories {
            let _ = fs::remove_dir_all(directory);
        }
    }
}

fn now() -> Timestamp {
    wizfs_recovery::system_clock()
}

fn mountpoint(dataset: &DatasetName) -> PathBuf {
    PathBuf::from(
        shell(&[
            "zfs",
            "get",
            "-H",
            "-o",
            "value",
            "mountpoint",
            dataset.as_str(),
        ])
        .trim(),
    )
}

fn write(path: &Path, contents: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, contents).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

fn snapshot(zfs: &dyn Zfs, dataset: &DatasetName, short: &str) -> SnapshotName {
    let name = dataset.snapshot(short).expect("snapshot name");
    zfs.create_snapshots(std::slice::from_ref(&name), false, &[])
        .expect("snapshot");
    name
}

fn snapshots(zfs: &dyn Zfs, dataset: &DatasetName) -> Vec<Snapshot> {
    zfs.list_snapshots(dataset, Scope::Dataset)
        .unwrap_or_else(|error| panic!("snapshots of {dataset}: {error}"))
}

/// Short name → guid of a dataset's snapshots, oldest first.
fn guids(zfs: &dyn Zfs, dataset: &DatasetName) -> Vec<(String, u64)> {
    snapshots(zfs, dataset)
        .into_iter()
        .map(|snapshot| (snapshot.name.short_name().to_owned(), snapshot.guid))
        .collect()
}

fn exists(zfs: &dyn Zfs, dataset: &DatasetName) -> bool {
    zfs.list_datasets(Some(dataset))
        .is_ok_and(|found| found.iter().any(|candidate| &candidate.name == dataset))
}

/// Every entry below `root` by relative path: kind, mode, and for files their length and
/// SHA-256, for symlinks their target.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, directory: &Path, found: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = fs::read_dir(directory)
            .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
            .map(|entry| entry.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let relative = path
                .strip_prefix(root)
                .expect("below root")
                .display()
                .to_string();
            let metadata = fs::symlink_metadata(&path).expect("metadata");
            let mode = metadata.mode() & 0o7777;
            let entry = if metadata.file_type().is_symlink() {
                format!(
                    "link {mode:o} -> {}",
                    fs::read_link(&path).expect("link").display()
                )
            } else if metadata.is_dir() {
                walk(root, &path, found);
                format!("dir {mode:o}")
            } else {
                let mut file = fs::File::open(&path).expect("open");
                let mut hasher = Sha256::new();
                let mut buffer = vec![0u8; MIB];
                loop {
                    let read = file.read(&mut buffer).expect("read");
                    if read == 0 {
                        break;
                    }
                    hasher.update(&buffer[..read]);
                }
                let digest: String = hasher
                    .finalize()
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect();
                format!("file {mode:o} {} {digest}", metadata.len())
            };
            found.insert(relative, entry);
        }
    }
    let mut found = BTreeMap::new();
    walk(root, root, &mut found);
    found
}

/// The tree of `dataset@short` as ZFS shows it under `.zfs/snapshot`.
fn snapshot_tree(dataset: &DatasetName, short: &str) -> BTreeMap<String, String> {
    tree(&mountpoint(dataset).join(".zfs/snapshot").join(short))
}

/// Mounts `copy` and checks that each of its snapshots holds, file for file (SHA-256), what
/// the same snapshot of `source` holds, with the same guid.
fn assert_same_snapshots(zfs: &dyn Zfs, source: &DatasetName, copy: &DatasetName) {
    let mounted = shell(&["zfs", "get", "-H", "-o", "value", "mounted", copy.as_str()]);
    if mounted.trim() != "yes" {
        shell(&["zfs", "mount", copy.as_str()]);
    }
    let source_guids: BTreeMap<String, u64> = guids(zfs, source).into_iter().collect();
    let copied = guids(zfs, copy);
    assert!(!copied.is_empty(), "{copy} has no snapshots");
    for (short, guid) in &copied {
        assert_eq!(
            source_guids.get(short),
            Some(guid),
            "{copy}@{short}: the source's guid"
        );
        let expected = snapshot_tree(source, short);
        assert!(!expected.is_empty(), "{source}@{short} is empty");
        assert_eq!(
            snapshot_tree(copy, short),
            expected,
            "{copy}@{short} differs from {source}@{short}"
        );
    }
}

fn assert_clean(report: &RunReport) {
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

/// A `[[backup]]` job of `source` (recursive) into `target`, as the daemon will read it.
fn job(id: &str, source: &DatasetName, target: &DatasetName, extra: &str) -> BackupJob {
    let text = format!(
        "[[backup]]\nid = \"{id}\"\ntimezone = \"UTC\"\n{extra}\n[[backup.source]]\n\
         dataset = \"{source}\"\nrecursive = true\n[backup.target]\ntype = \"pool\"\n\
         dataset = \"{target}\"\n"
    );
    let configs = parse_backups(&text, Path::new("vm-backup.toml")).expect("backup config");
    configs[0].planner_jobs().remove(0)
}

/// Where a job into `root` receives `source`.
fn target_of(root: &DatasetName, source: &DatasetName) -> DatasetName {
    DatasetName::new(&format!("{root}/{source}")).expect("target name")
}

// ------------------------------------------------------------------ local pool

#[test]
fn backup_local_pool_full_and_twenty_incrementals_keep_guids_and_files() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let source = environment.unique_dataset(&environment.pool, "backup-src");
    let docs = source.child("docs").expect("name");
    let root = environment.unique_dataset(&environment.second_pool, "backup-dst");
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone(), root.clone()],
        ..Made::default()
    });
    zfs.create_filesystem(&source, &[]).expect("source");
    zfs.create_filesystem(&docs, &[]).expect("child");
    let home = mountpoint(&source);
    write(&home.join("a.txt"), b"first");
    let mut deep = home.join("deep/er");
    write(&deep.join("b.bin"), &noise(300_000, 1));
    write(&mountpoint(&docs).join("d.txt"), b"docs");
    snapshot(&zfs, &source, "s00");
    snapshot(&zfs, &docs, "s00");
    // The retention keeps the newest five (an hourly tier of one and a minimum of five).
    let job = job(
        "vm-mirror",
        &source,
        &root,
        "[backup.retention]\nhourly = 1\nmin_keep = 5",
    );
    let tag = hold_tag(&job).expect("tag");
    let (target, target_docs) = (target_of(&root, &source), target_of(&root, &docs));
    let check = |round: u64| {
        for (from, to) in [(&source, &target), (&docs, &target_docs)] {
            let all = guids(&zfs, from);
            let kept = &all[all.len().saturating_sub(5)..];
            assert_eq!(guids(&zfs, to), kept, "round {round}: {to}");
        }
        let held: Vec<String> = snapshots(&zfs, &source)
            .iter()
            .filter(|snapshot| {
                zfs.holds(&snapshot.name)
                    .expect("holds")
                    .iter()
                    .any(|hold| hold.tag == tag.as_str())
            })
            .map(|snapshot| snapshot.name.short_name().to_owned())
            .collect();
        let newest = guids(&zfs, &source).pop().expect("snapshot").0;
        assert_eq!(held, [newest], "round {round}: only the base is held");
    };

    let started = Instant::now();
    let first = run_local_pool(&zfs, &job, now(), &UtcCalendar).expect("run starts");
    assert_clean(&first);
    let report = first.dataset(&source).expect("source report");
    assert!(
        matches!(report.action, Action::FullSend { .. }),
        "{report:?}"
    );
    assert_eq!(report.target, target);
    check(0);
    for round in 1..=20_u64 {
        let short = format!("s{round:02}");
        write(
            &home.join(format!("f{round}.bin")),
            &noise(100_000, round + 10),
        );
        write(&home.join("a.txt"), format!("version {round}").as_bytes());
        if round % 3 == 0 {
            // A deleted file and a renamed directory.
            fs::remove_file(home.join(format!("f{}.bin", round - 1))).expect("rm");
            let renamed = home.join(format!("deep/r{round}"));
            fs::rename(&deep, &renamed).expect("rename");
            deep = renamed;
        }
        snapshot(&zfs, &source, &short);
        if round % 2 == 0 {
            write(&mountpoint(&docs).join("d.txt"), &noise(5_000, round + 100));
            snapshot(&zfs, &docs, &short);
            // Two snapshots between runs: one -I stream carries both.
            write(&mountpoint(&docs).join(format!("n{round}.txt")), b"between");
            snapshot(&zfs, &docs, &format!("{short}b"));
        }
        let report = run_local_pool(&zfs, &job, now(), &UtcCalendar).expect("run starts");
        assert_clean(&report);
        let home_report = report.dataset(&source).expect("source report");
        assert!(
            matches!(
                &home_report.action,
                Action::Incremental {
                    from: SendBase::Snapshot(_),
                    ..
                }
            ),
            "round {round}: {:?}",
            home_report.action
        );
        assert_eq!(home_report.sends.len(), 1, "round {round}");
        check(round);
    }
    println!(
        "a full and 20 incremental runs on real ZFS in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(guids(&zfs, &source).len(), 21);
    assert_eq!(guids(&zfs, &target).len(), 5);
    assert_same_snapshots(&zfs, &source, &target);
    assert_same_snapshots(&zfs, &docs, &target_docs);
    // Every snapshot sent is bookmarked on the source.
    let bookmarked: Vec<u64> = zfs
        .list_bookmarks(&source)
        .expect("bookmarks")
        .iter()
        .map(|bookmark| bookmark.guid)
        .collect();
    let sent: Vec<u64> = guids(&zfs, &source).iter().map(|(_, guid)| *guid).collect();
    assert_eq!(bookmarked, sent);
    // Nothing new: nothing sent.
    let idle = run_local_pool(&zfs, &job, now(), &UtcCalendar).expect("run starts");
    assert_clean(&idle);
    assert_eq!(idle.bytes(), 0);
}

/// The pid of a running `zfs <subcommand> …` whose arguments include `name`.
fn find_zfs_process(subcommand: &str, name: &str) -> Option<u32> {
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|pid| pid.parse().ok()) else {
            continue;
        };
        let Ok(command_line) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let words: Vec<&[u8]> = command_line.split(|byte| *byte == 0).collect();
        let program = words.first().copied().unwrap_or_default();
        if (program == b"zfs" || program.ends_with(b"/zfs"))
            && words.get(1).copied() == Some(subcommand.as_bytes())
            && words.iter().any(|word| word.ends_with(name.as_bytes()))
        {
            return Some(pid);
        }
    }
    None
}

/// Runs the job in a thread, kills `zfs <subcommand>` (the one naming `name`) with SIGKILL
/// once it has run for `after`, and returns the run's report and whether the kill landed.
fn run_and_kill(
    zfs: &Arc<CliZfs>,
    job: &BackupJob,
    subcommand: &'static str,
    name: String,
    after: Duration,
) -> (RunReport, bool) {
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
                if let Some(pid) = find_zfs_process(subcommand, &name) {
                    std::thread::sleep(after);
                    return Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status()
                        .is_ok_and(|status| status.success());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        })
    };
    let report = run_local_pool(zfs.as_ref(), job, now(), &UtcCalendar).expect("run starts");
    done.store(true, Ordering::SeqCst);
    let killed = killer.join().expect("killer thread");
    (report, killed)
}

#[test]
fn backup_local_pool_resumes_a_receive_killed_mid_stream() {
    let environment = VmEnvironment::from_env();
    let zfs = Arc::new(CliZfs::default());
    let source = environment.unique_dataset(&environment.pool, "backup-kill");
    let root = environment.unique_dataset(&environment.second_pool, "backup-kill-dst");
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone(), root.clone()],
        ..Made::default()
    });
    zfs.create_filesystem(&source, &[]).expect("source");
    let home = mountpoint(&source);
    write(&home.join("big-1.bin"), &noise(24 * MIB, 21));
    write(&home.join("small.txt"), b"one");
    snapshot(zfs.as_ref(), &source, "s1");
    // 4 MiB/s: each stream of ~24 MiB takes about six seconds, time to kill it midway.
    let job = job("vm-kill", &source, &root, "bandwidth_limit = \"4 MiB/s\"");
    let target = target_of(&root, &source);
    let before = guids(zfs.as_ref(), &source);

    // The first (full) stream: its `zfs send` killed.
    let (report, killed) = run_and_kill(
        &zfs,
        &job,
        "send",
        format!("{source}@s1"),
        Duration::from_secs(2),
    );
    assert!(killed, "zfs send was killed mid-stream");
    assert!(!report.succeeded(), "the run reports the broken stream");
    let errors: Vec<String> = report
        .datasets
        .iter()
        .flat_map(|dataset| dataset.errors.iter().map(ToString::to_string))
        .collect();
    println!("full stream, zfs send killed: {errors:?}");
    assert!(
        report
            .dataset(&source)
            .expect("report")
            .errors
            .iter()
            .any(|error| matches!(
                error,
                StepError::Zfs {
                    step: wizfs_backup::Step::Send { .. },
                    ..
                }
            )),
        "{errors:?}"
    );
    assert_eq!(
        guids(zfs.as_ref(), &source),
        before,
        "nothing lost on the source"
    );
    // `zfs receive -s` kept the partial state of the new dataset: the next run resumes it.
    assert!(
        zfs.receive_resume_token(&target).expect("token").is_some(),
        "a resume token on {target}"
    );
    let resumed = run_local_pool(zfs.as_ref(), &job, now(), &UtcCalendar).expect("run starts");
    assert_clean(&resumed);
    let report = resumed.dataset(&source).expect("report");
    assert!(
        matches!(report.action, Action::Resume { .. }),
        "{:?}",
        report.action
    );
    assert!(report.sends[0].resumed);
    assert_eq!(guids(zfs.as_ref(), &target), guids(zfs.as_ref(), &source));
    assert!(zfs.receive_resume_token(&target).expect("token").is_none());

    // An incremental stream: its `zfs receive` killed.
    write(&home.join("big-2.bin"), &noise(24 * MIB, 22));
    write(&home.join("small.txt"), b"two");
    snapshot(zfs.as_ref(), &source, "s2");
    let before = guids(zfs.as_ref(), &source);
    let (report, killed) = run_and_kill(
        &zfs,
        &job,
        "receive",
        target.to_string(),
        Duration::from_secs(2),
    );
    assert!(killed, "zfs receive was killed mid-stream");
    assert!(!report.succeeded(), "the run reports the broken stream");
    println!(
        "incremental stream, zfs receive killed: {:?}",
        report
            .dataset(&source)
            .expect("report")
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        guids(zfs.as_ref(), &source),
        before,
        "nothing lost on the source"
    );
    assert_eq!(
        guids(zfs.as_ref(), &target),
        before[..1],
        "the target keeps what it had"
    );
    assert!(
        zfs.receive_resume_token(&target).expect("token").is_some(),
        "a resume token on {target}"
    );
    // Another snapshot before the next run: the resume, then an incremental to it.
    write(&home.join("small.txt"), b"three");
    snapshot(zfs.as_ref(), &source, "s3");
    let caught_up = run_local_pool(zfs.as_ref(), &job, now(), &UtcCalendar).expect("run starts");
    assert_clean(&caught_up);
    let report = caught_up.dataset(&source).expect("report");
    assert!(
        matches!(report.action, Action::Resume { .. }),
        "{:?}",
        report.action
    );
    assert!(report.sends[0].resumed);
    assert_eq!(report.sends.len(), 2, "the resume, then s2 → s3");
    assert_eq!(guids(zfs.as_ref(), &target), guids(zfs.as_ref(), &source));
    assert!(zfs.receive_resume_token(&target).expect("token").is_none());
    assert_same_snapshots(zfs.as_ref(), &source, &target);
}

#[test]
fn backup_local_pool_target_full_fails_clearly_then_catches_up() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let pool = format!("wzbfull{}", std::process::id());
    let file = PathBuf::from(format!("/tmp/{pool}.img"));
    fs::File::create(&file)
        .and_then(|vdev| vdev.set_len(512 << 20))
        .expect("vdev file");
    let source = environment.unique_dataset(&environment.pool, "backup-full");
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone()],
        pools: vec![(pool.clone(), file.clone())],
        ..Made::default()
    });
    shell(&[
        "zpool",
        "create",
        "-O",
        "compression=off",
        "-O",
        "atime=off",
        &pool,
        file.to_str().expect("path"),
    ]);
    let root = DatasetName::new(&format!("{pool}/backup")).expect("name");
    zfs.create_filesystem(&source, &[]).expect("source");
    let home = mountpoint(&source);
    write(&home.join("first.bin"), &noise(4 * MIB, 31));
    snapshot(&zfs, &source, "s1");
    let job = job("vm-full", &source, &root, "");
    let target = target_of(&root, &source);
    assert_clean(&run_local_pool(&zfs, &job, now(), &UtcCalendar).expect("run starts"));

    // Something else takes all but 16 MiB of the pool.
    let available = zfs
        .list_datasets(Some(&DatasetName::new(&pool).expect("name")))
        .expect("pool root")[0]
        .available;
    let filler = format!("{pool}/filler");
    shell(&[
        "zfs",
        "create",
        "-o",
        &format!("refreservation={}", available - (16 << 20)),
        &filler,
    ]);
    write(&home.join("second.bin"), &noise(64 * MIB, 32));
    snapshot(&zfs, &source, "s2");
    let before = guids(&zfs, &source);
    let full = run_local_pool(&zfs, &job, now(), &UtcCalendar).expect("run starts");
    assert!(!full.succeeded());
    let errors = &full.dataset(&source).expect("report").errors;
    println!(
        "into a full pool: {:?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    assert!(
        errors.iter().any(|error| matches!(
            error,
            StepError::Zfs {
                step: wizfs_backup::Step::Send { to: Some(to) },
                source: ZfsError::NoSpace { .. },
            } if to.short_name() == "s2"
        )),
        "a clear out-of-space error for the stream of s2: {errors:?}"
    );
    assert!(
        errors[0].to_string().contains("out of space"),
        "{}",
        errors[0]
    );
    assert_eq!(guids(&zfs, &source), before, "nothing lost on the source");
    assert_eq!(guids(&zfs, &target), before[..1], "the target keeps s1");
    let token = zfs.receive_resume_token(&target).expect("token");

    // Space freed: the next run catches up, from the token the failed receive left, or
    // with the whole incremental again.
    shell(&["zfs", "destroy", &filler]);
    let caught_up = run_local_pool(&zfs, &job, now(), &UtcCalendar).expect("run starts");
    assert_clean(&caught_up);
    let report = caught_up.dataset(&source).expect("report");
    if token.is_some() {
        assert!(
            matches!(report.action, Action::Resume { .. }) && report.sends[0].resumed,
            "{:?}",
            report.action
        );
    } else {
        assert!(
            matches!(report.action, Action::Incremental { .. }),
            "{:?}",
            report.action
        );
    }
    assert_eq!(guids(&zfs, &target), guids(&zfs, &source));
    assert_same_snapshots(&zfs, &source, &target);
}

// ------------------------------------------------------------------ file target

/// A dataset with a tree, five snapshots (`s3` only between `s2` and `s4`), written as a
/// chain of four zstd streams in volumes of `volume` bytes into a directory below
/// `parent`: full `s1`, `-i s1 s2`, `-I s2 s4`, `-i s4 s5`. Returns the chain directory.
fn write_chain(zfs: &dyn Zfs, source: &DatasetName, parent: &Path, volume: u64) -> PathBuf {
    let home = mountpoint(source);
    write(&home.join("docs/report.txt"), b"numbers\n");
    write(&home.join("docs/big.bin"), &noise(3 * MIB, 41));
    write(&home.join("empty"), b"");
    write(&home.join("photos/2026/a.jpg"), &noise(700_000, 42));
    std::os::unix::fs::symlink("docs/report.txt", home.join("link")).expect("symlink");
    fs::set_permissions(
        home.join("docs/report.txt"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .expect("chmod");
    let s1 = snapshot(zfs, source, "s1");
    write(&home.join("docs/report.txt"), b"numbers, revised\n");
    fs::remove_file(home.join("empty")).expect("rm");
    write(&home.join("photos/2026/b.jpg"), &noise(400_000, 43));
    let s2 = snapshot(zfs, source, "s2");
    fs::rename(home.join("photos/2026"), home.join("photos/last-year")).expect("rename");
    snapshot(zfs, source, "s3");
    write(&home.join("docs/big.bin"), &noise(2 * MIB, 44));
    let s4 = snapshot(zfs, source, "s4");
    write(&home.join("notes/new.txt"), b"fresh");
    let s5 = snapshot(zfs, source, "s5");

    let identity = ChainIdentity {
        job: BackupJobId::new("vm-files").expect("job"),
        target: TargetName::new("vm-dir").expect("target"),
        dataset: source.clone(),
    };
    let directory = parent.join(chain_directory_name(source, now()));
    let (mut writer, removed) =
        ChainWriter::open(&directory, &identity, Some(volume), now()).expect("open chain");
    assert!(removed.is_empty(), "{removed:?}");
    let pipeline = Pipeline::new(Some(DEFAULT_COMPRESSION), None).expect("zstd");
    let listed: BTreeMap<String, Snapshot> = snapshots(zfs, source)
        .into_iter()
        .map(|snapshot| (snapshot.name.short_name().to_owned(), snapshot))
        .collect();
    let steps: [(&SnapshotName, Option<(&SnapshotName, bool)>); 4] = [
        (&s1, None),
        (&s2, Some((&s1, false))),
        (&s4, Some((&s2, true))),
        (&s5, Some((&s4, false))),
    ];
    for (to, from) in steps {
        let described = &listed[to.short_name()];
        let (kind, base) = match from {
            None => (StreamKind::Full, None),
            Some((from, intermediates)) => (
                StreamKind::Incremental {
                    from_guid: listed[from.short_name()].guid,
                    from: SendBase::Snapshot(from.clone()),
                    intermediates,
                },
                Some(if intermediates {
                    IncrementalBase::SnapshotWithIntermediates(from.clone())
                } else {
                    IncrementalBase::Snapshot(from.clone())
                }),
            ),
        };
        let mut stream = zfs
            .send(&SendSource::Snapshot {
                snapshot: to.clone(),
                base,
                flags: SendFlags::default(),
            })
            .expect("zfs send");
        let header = StreamHeader {
            kind,
            to: to.clone(),
            to_guid: described.guid,
            to_createtxg: described.createtxg,
            raw: false,
        };
        let record = writer
            .write_stream(header, &pipeline, &mut stream, now())
            .expect("write stream");
        stream.finish().expect("zfs send succeeded");
        assert_eq!(
            record.volumes.len() as u64,
            record.stored_bytes().div_ceil(volume).max(1),
            "stream {} cut at {volume} bytes",
            record.number
        );
    }
    directory
}

/// Runs the `wizfs` binary the VM harness built.
fn wizfs(environment: &VmEnvironment, arguments: &[&str]) -> Output {
    Command::new(environment.bin_dir.join("wizfs"))
        .args(arguments)
        .output()
        .expect("run wizfs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn backup_file_target_chain_restores_through_wizfs_and_with_stock_tools() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let source = environment.unique_dataset(&environment.pool, "backup-files");
    let restored = environment.unique_dataset(&environment.second_pool, "backup-restored");
    let by_stock = environment.unique_dataset(&environment.second_pool, "backup-stock");
    let by_cli = environment.unique_dataset(&environment.second_pool, "backup-cli");
    let parent = PathBuf::from(format!("/tmp/backup-files-{}", std::process::id()));
    let _cleanup = Cleanup(Made {
        datasets: vec![
            source.clone(),
            restored.clone(),
            by_stock.clone(),
            by_cli.clone(),
        ],
        directories: vec![parent.clone()],
        ..Made::default()
    });
    zfs.create_filesystem(&source, &[]).expect("source");
    let chain = write_chain(&zfs, &source, &parent, 256 * 1024);

    let report = verify(&chain).expect("verify");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.manifest.streams.len(), 4);
    let volumes = fs::read_dir(&chain)
        .expect("list")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.file_name().to_string_lossy().ends_with(".zfs.zst"))
        })
        .count();
    assert_eq!(report.volumes_verified, volumes);
    assert!(volumes > 4, "{volumes} volumes");

    // Restored through the reader (every volume checked first) and `zfs receive`.
    let verified = open_verified(&chain).expect("restorable");
    let options = ReceiveOptions {
        unmounted: true,
        ..ReceiveOptions::default()
    };
    for number in 1..=4 {
        let mut stream = verified.send_stream(number).expect("stream");
        zfs.receive(&restored, &options, &mut stream)
            .unwrap_or_else(|error| panic!("stream {number}: {error}"));
    }
    assert_eq!(guids(&zfs, &restored), guids(&zfs, &source));
    assert_same_snapshots(&zfs, &source, &restored);

    // Through the CLI: verify, a dry run, the restore, a second restore refused.
    let chain_path = chain.to_str().expect("path");
    let checked = wizfs(&environment, &["backup", "verify", chain_path]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).ends_with("the chain can be restored\n"),
        "{}",
        text(&checked.stdout)
    );
    let json = wizfs(&environment, &["--json", "backup", "verify", chain_path]);
    let view: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(view["restorable"], true);
    assert_eq!(view["volumes_verified"], volumes);
    let into = by_cli.as_str();
    let dry = wizfs(
        &environment,
        &["backup", "restore", chain_path, "--into", into, "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(!exists(&zfs, &by_cli), "the dry run received nothing");
    let restored_by_cli = wizfs(
        &environment,
        &["backup", "restore", chain_path, "--into", into],
    );
    assert!(
        restored_by_cli.status.success(),
        "{}",
        text(&restored_by_cli.stderr)
    );
    assert!(
        text(&restored_by_cli.stdout).contains(&format!("received 4 streams into {into}")),
        "{}",
        text(&restored_by_cli.stdout)
    );
    assert_same_snapshots(&zfs, &source, &by_cli);
    let again = wizfs(
        &environment,
        &["backup", "restore", chain_path, "--into", into],
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );

    // With only the stock commands RESTORE.txt prints, run by bash in the chain directory.
    let instructions = fs::read_to_string(chain.join(RESTORE_FILE)).expect("RESTORE.txt");
    let commands: Vec<String> = instructions
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("sha256sum ") || line.starts_with("cat "))
        .map(|line| line.replace("POOL/RESTORED", by_stock.as_str()))
        .collect();
    assert_eq!(commands.len(), 5, "{instructions}");
    for command in &commands {
        let output = Command::new("bash")
            .args([
                "-c",
                &format!("set -o pipefail; cd \"$1\" && {command}"),
                "bash",
            ])
            .arg(&chain)
            .output()
            .expect("bash");
        assert!(
            output.status.success(),
            "{command}: {}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
    assert_eq!(guids(&zfs, &by_stock), guids(&zfs, &source));
    assert_same_snapshots(&zfs, &source, &by_stock);
}

#[test]
fn backup_file_target_corrupt_or_missing_volume_is_found_before_anything_is_received() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let source = environment.unique_dataset(&environment.pool, "backup-bad");
    let target = environment.unique_dataset(&environment.second_pool, "backup-bad-dst");
    let parent = PathBuf::from(format!("/tmp/backup-bad-{}", std::process::id()));
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone(), target.clone()],
        directories: vec![parent.clone()],
        ..Made::default()
    });
    zfs.create_filesystem(&source, &[]).expect("source");
    let chain = write_chain(&zfs, &source, &parent, 256 * 1024);
    let manifest = verify(&chain).expect("verify").manifest;
    // A volume of stream 2: a restore that did not check first would receive stream 1.
    let victim = manifest.streams[1].volumes[0].name.clone();

    let corrupt = parent.join("corrupt");
    let missing = parent.join("missing");
    for copy in [&corrupt, &missing] {
        shell(&[
            "cp",
            "-a",
            chain.to_str().expect("path"),
            copy.to_str().expect("path"),
        ]);
    }
    let mut bytes = fs::read(corrupt.join(&victim)).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    fs::write(corrupt.join(&victim), bytes).expect("write");
    fs::remove_file(missing.join(&victim)).expect("remove");

    for (copy, what) in [(&corrupt, "corrupt"), (&missing, "missing")] {
        let report = verify(copy).expect("verify");
        let expected = |problem: &Problem| match problem {
            Problem::Corrupt { stream, name, .. } => {
                what == "corrupt" && *stream == 2 && name == &victim
            }
            Problem::MissingVolume { stream, name } => {
                what == "missing" && *stream == 2 && name == &victim
            }
            _ => false,
        };
        assert!(
            report.problems.iter().any(expected),
            "{what}: {:?}",
            report.problems
        );
        assert!(!report.is_restorable());
        let refused = open_verified(copy).expect_err("not restorable");
        assert!(
            matches!(&refused, ReadError::NotRestorable { .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains(&victim), "{refused}");
        assert!(!exists(&zfs, &target), "{what}: nothing received");
        // The CLI: verify and restore both refuse, naming the volume; nothing received.
        let path = copy.to_str().expect("path");
        for words in [
            &["backup", "verify", path][..],
            &["backup", "restore", path, "--into", target.as_str()],
        ] {
            let output = wizfs(&environment, words);
            assert!(!output.status.success(), "{words:?}");
            assert!(
                text(&output.stderr).contains(&victim),
                "{words:?}: {}",
                text(&output.stderr)
            );
        }
        assert!(
            !exists(&zfs, &target),
            "{what}: nothing received by the CLI"
        );
    }
}
