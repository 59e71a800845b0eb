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
//! anything is received. The file target's run (`run_files`): a recursive job's full and six
//! incremental runs (`-I` streams too) into one chain per dataset that verifies, the job's
//! hold on each chain's end only and every stream's end bookmarked (`zfs holds`, `zfs list -t
//! bookmark`), the chains restored with the source's guids and files; a `zfs send` killed
//! mid-stream and a target file system that fills up, each leaving the chain as it was and
//! verifying, the next run completing it. Jobs in the daemon: a file and a pool job run by
//! `wizfs backup run` through a running `wizfsd`, whose record (`GET /api/v1/backups`,
//! `wizfs backup list`) keeps the last good backup across a failed run and a restart. Every
//! test name contains `backup`, so `tests/vm/run --filter backup` runs exactly these
//! (`--filter backup_files_run` the file target's runs and the daemon's jobs).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wizfs_backup::names::RESTORE_FILE;
use wizfs_backup::pipeline::DEFAULT_COMPRESSION;
use wizfs_backup::{
    BackupTarget, ChainIdentity, ChainWriter, Pipeline, Problem, ReadError, RunReport, StepError,
    StreamHeader, StreamKind, TargetName, VerifyReport, chain_directory_name, hold_tag,
    list_chains, open_verified, parse_backups, run_files, run_local_pool, verify,
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
    /// File systems mounted for the test (unmounted before the directories go).
    mounts: Vec<PathBuf>,
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
        for mount in &made.mounts {
            let _ = Command::new("umount")
                .arg(mount)
                .stderr(Stdio::null())
                .status();
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

/// One round of changes to the tree at `home`: a new file `f<round>.bin` of `bytes` bytes
/// (`seed`), `a.txt` rewritten, and every third round the file of the round before deleted
/// and the directory `deep` renamed. Returns where `deep` is now.
fn change_tree(home: &Path, deep: &Path, round: u64, bytes: usize, seed: u64) -> PathBuf {
    write(&home.join(format!("f{round}.bin")), &noise(bytes, seed));
    write(&home.join("a.txt"), format!("version {round}").as_bytes());
    if !round.is_multiple_of(3) {
        return deep.to_owned();
    }
    fs::remove_file(home.join(format!("f{}.bin", round - 1))).expect("rm");
    let renamed = home.join(format!("deep/r{round}"));
    fs::rename(deep, &renamed).expect("rename");
    renamed
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
        deep = change_tree(&home, &deep, round, 100_000, round + 10);
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

/// Runs the job (`run`), kills `zfs <subcommand>` (the one naming `name`) from a thread
/// with SIGKILL once it has run for `after`, and returns the run's report and whether the
/// kill landed.
fn run_and_kill(
    run: impl FnOnce() -> RunReport,
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
    let report = run();
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
    let run = || run_local_pool(zfs.as_ref(), &job, now(), &UtcCalendar).expect("run starts");
    let (report, killed) =
        run_and_kill(run, "send", format!("{source}@s1"), Duration::from_secs(2));
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
    let (report, killed) = run_and_kill(run, "receive", target.to_string(), Duration::from_secs(2));
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

// ------------------------------------------------------------------ the file target's run

/// A `[[backup]]` job of `source` (recursive) into the directory `directory` in volumes of
/// 1 MB, as the daemon reads it, with `extra` lines; and the name its manifests carry.
fn files_job(
    id: &str,
    source: &DatasetName,
    directory: &Path,
    extra: &str,
) -> (BackupJob, TargetName) {
    let text = format!(
        "[[backup]]\nid = \"{id}\"\ntimezone = \"UTC\"\n{extra}\n[[backup.source]]\n\
         dataset = \"{source}\"\nrecursive = true\n[backup.target]\ntype = \"files\"\n\
         directory = \"{}\"\nvolume_size = \"1 MB\"\n",
        directory.display()
    );
    let configs = parse_backups(&text, Path::new("vm-backup.toml")).expect("backup config");
    let BackupTarget::Files(files) = &configs[0].target else {
        panic!("a files target");
    };
    (configs[0].planner_jobs().remove(0), files.name.clone())
}

/// The chain directories of `dataset` in the target directory `directory`.
fn chains_in(directory: &Path, dataset: &DatasetName) -> Vec<PathBuf> {
    list_chains(directory)
        .expect("chains")
        .into_iter()
        .filter(|chain| {
            chain
                .manifest
                .as_ref()
                .is_ok_and(|manifest| &manifest.dataset == dataset)
        })
        .map(|chain| chain.directory)
        .collect()
}

/// The one chain of `dataset` in `directory`, checked by `verify`: nothing wrong with it,
/// no leftover of an interrupted stream beside it.
fn verified_chain(directory: &Path, dataset: &DatasetName) -> VerifyReport {
    let chains = chains_in(directory, dataset);
    assert_eq!(chains.len(), 1, "one chain of {dataset}: {chains:?}");
    let report = verify(&chains[0]).expect("verify");
    assert!(
        report.problems.is_empty(),
        "{dataset}: {:?}",
        report.problems
    );
    assert!(report.other_files.is_empty(), "{:?}", report.other_files);
    assert!(report.is_restorable());
    report
}

/// The snapshots of `dataset` (short names, oldest first) that carry the hold `tag`, as
/// `zfs holds` lists them.
fn held_by(dataset: &DatasetName, tag: &str) -> Vec<String> {
    let listed = shell(&[
        "zfs",
        "list",
        "-H",
        "-t",
        "snapshot",
        "-s",
        "createtxg",
        "-o",
        "name",
        "-d",
        "1",
        dataset.as_str(),
    ]);
    let mut words = vec!["zfs", "holds", "-H"];
    words.extend(listed.lines());
    if words.len() == 3 {
        return Vec::new();
    }
    let holds = shell(&words);
    listed
        .lines()
        .filter(|snapshot| {
            holds.lines().any(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                fields.first() == Some(snapshot) && fields.get(1) == Some(&tag)
            })
        })
        .map(|snapshot| snapshot.rsplit_once('@').expect("a snapshot").1.to_owned())
        .collect()
}

/// The guids of `dataset`'s own bookmarks, oldest first, as `zfs list -t bookmark` lists
/// them.
fn bookmark_guids(dataset: &DatasetName) -> Vec<u64> {
    let prefix = format!("{dataset}#");
    shell(&[
        "zfs",
        "list",
        "-H",
        "-p",
        "-t",
        "bookmark",
        "-s",
        "createtxg",
        "-o",
        "name,guid",
        "-r",
        dataset.as_str(),
    ])
    .lines()
    .filter(|line| line.starts_with(&prefix))
    .map(|line| {
        line.split('\t')
            .nth(1)
            .and_then(|guid| guid.parse().ok())
            .unwrap_or_else(|| panic!("a bookmark's guid: {line}"))
    })
    .collect()
}

/// Restores the chain of `source` in `directory` into `into` with `wizfs backup restore`
/// and checks that `into` has every snapshot of `source`, guid and files alike.
fn restore_with_cli(
    environment: &VmEnvironment,
    zfs: &dyn Zfs,
    directory: &Path,
    source: &DatasetName,
    into: &DatasetName,
) {
    let chain = chains_in(directory, source).remove(0);
    let chain = chain.to_str().expect("path");
    let output = wizfs(
        environment,
        &["backup", "restore", chain, "--into", into.as_str()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(guids(zfs, into), guids(zfs, source));
    assert_same_snapshots(zfs, source, into);
}

/// The errors of a run that failed for `dataset`, printed with `what` happened.
fn failures<'a>(report: &'a RunReport, dataset: &DatasetName, what: &str) -> &'a [StepError] {
    assert!(!report.succeeded(), "{what}: the run reports the failure");
    let errors = &report.dataset(dataset).expect("report").errors;
    println!(
        "{what}: {:?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    errors
}

/// Whether `error` or one of its sources is the operating system's "no space left"
/// (`ENOSPC`, error 28), as an `io::Error` or in what it says.
fn is_out_of_space(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error() == Some(28))
            || error.to_string().contains("os error 28")
        {
            return true;
        }
        next = error.source();
    }
    false
}

#[test]
fn backup_files_run_full_and_incrementals_restore_with_the_sources_guids() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let source = environment.unique_dataset(&environment.pool, "backup-run-src");
    let docs = source.child("docs").expect("name");
    let restored = environment.unique_dataset(&environment.second_pool, "backup-run-home");
    let restored_docs = environment.unique_dataset(&environment.second_pool, "backup-run-docs");
    let directory = PathBuf::from(format!("/tmp/backup-run-{}", std::process::id()));
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone(), restored.clone(), restored_docs.clone()],
        directories: vec![directory.clone()],
        ..Made::default()
    });
    fs::create_dir_all(&directory).expect("target directory");
    zfs.create_filesystem(&source, &[]).expect("source");
    zfs.create_filesystem(&docs, &[]).expect("child");
    let home = mountpoint(&source);
    write(&home.join("a.txt"), b"first");
    write(&home.join("big.bin"), &noise(2_500_000, 51));
    let mut deep = home.join("deep/er");
    write(&deep.join("b.bin"), &noise(300_000, 52));
    std::os::unix::fs::symlink("a.txt", home.join("link")).expect("symlink");
    write(&mountpoint(&docs).join("d.txt"), b"docs");
    snapshot(&zfs, &source, "s00");
    snapshot(&zfs, &docs, "s00");
    let (job, target) = files_job("vm-files-run", &source, &directory, "");
    let tag = hold_tag(&job).expect("tag");
    // After each run: one chain per dataset that verifies, one stream per run ending at the
    // newest snapshot, the job's hold on that snapshot only, every stream's end bookmarked.
    let check = |round: u64| {
        for dataset in [&source, &docs] {
            let report = verified_chain(&directory, dataset);
            let streams = &report.manifest.streams;
            assert_eq!(streams.len() as u64, round + 1, "round {round}: {dataset}");
            let all = guids(&zfs, dataset);
            let (newest, newest_guid) = all.last().expect("snapshots").clone();
            assert_eq!(
                streams.last().map(|stream| stream.to_guid),
                Some(newest_guid)
            );
            assert_eq!(
                held_by(dataset, tag.as_str()),
                [newest],
                "round {round}: {dataset}: only the chain's end is held"
            );
            let ends: Vec<u64> = streams.iter().map(|stream| stream.to_guid).collect();
            assert_eq!(bookmark_guids(dataset), ends, "round {round}: {dataset}");
        }
    };

    let first = run_files(&zfs, &job, &target, now(), &UtcCalendar).expect("run starts");
    assert_clean(&first);
    for dataset in [&source, &docs] {
        let report = first.dataset(dataset).expect("report");
        assert!(
            matches!(report.action, Action::FullSend { .. }),
            "{report:?}"
        );
        assert_eq!(report.sends.len(), 1);
    }
    check(0);
    // The full stream of the source is cut into volumes of exactly 1 MB.
    let full = &verified_chain(&directory, &source).manifest.streams[0];
    let limit = full.volume_limit_bytes.expect("a volume size");
    assert_eq!(limit, 1_000_000);
    assert!(full.volumes.len() >= 3, "{} volumes", full.volumes.len());
    let (last, cut) = full.volumes.split_last().expect("volumes");
    assert!(cut.iter().all(|volume| volume.bytes == limit));
    assert!(last.bytes <= limit);

    for round in 1..=6_u64 {
        let short = format!("s{round:02}");
        deep = change_tree(&home, &deep, round, 200_000, round + 60);
        snapshot(&zfs, &source, &short);
        write(&mountpoint(&docs).join("d.txt"), &noise(5_000, round + 100));
        if round % 2 == 0 {
            // Two snapshots between runs: one -I stream carries both.
            snapshot(&zfs, &docs, &format!("{short}a"));
            write(&mountpoint(&docs).join(format!("n{round}.txt")), b"between");
        }
        snapshot(&zfs, &docs, &short);
        let report = run_files(&zfs, &job, &target, now(), &UtcCalendar).expect("run starts");
        assert_clean(&report);
        for dataset in [&source, &docs] {
            let dataset_report = report.dataset(dataset).expect("report");
            assert!(
                matches!(
                    &dataset_report.action,
                    Action::Incremental {
                        from: SendBase::Snapshot(_),
                        ..
                    }
                ),
                "round {round}: {dataset}: {:?}",
                dataset_report.action
            );
            assert_eq!(dataset_report.sends.len(), 1, "round {round}: {dataset}");
        }
        check(round);
    }
    let docs_streams = verified_chain(&directory, &docs).manifest.streams;
    assert!(
        docs_streams.iter().any(|stream| matches!(
            stream.kind,
            StreamKind::Incremental {
                intermediates: true,
                ..
            }
        )),
        "a -I stream in the chain of {docs}"
    );

    // Nothing new: nothing written.
    let idle = run_files(&zfs, &job, &target, now(), &UtcCalendar).expect("run starts");
    assert_clean(&idle);
    assert_eq!(idle.bytes(), 0);
    check(6);

    // The source's chain through the reader (every volume checked first) and `zfs receive`.
    let chain = chains_in(&directory, &source).remove(0);
    let verified = open_verified(&chain).expect("restorable");
    let options = ReceiveOptions {
        unmounted: true,
        ..ReceiveOptions::default()
    };
    for number in 1..=7 {
        let mut stream = verified.send_stream(number).expect("stream");
        zfs.receive(&restored, &options, &mut stream)
            .unwrap_or_else(|error| panic!("stream {number}: {error}"));
    }
    assert_eq!(guids(&zfs, &restored), guids(&zfs, &source));
    assert_same_snapshots(&zfs, &source, &restored);
    // The child's chain with `wizfs backup restore`: every snapshot, those between runs too.
    restore_with_cli(&environment, &zfs, &directory, &docs, &restored_docs);
    assert_eq!(guids(&zfs, &docs).len(), 10);
}

#[test]
fn backup_files_run_killed_send_and_full_file_system_leave_a_verifying_chain_then_complete() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let source = environment.unique_dataset(&environment.pool, "backup-run-cut");
    let restored = environment.unique_dataset(&environment.second_pool, "backup-run-cut-dst");
    let directory = PathBuf::from(format!("/tmp/backup-run-cut-{}", std::process::id()));
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone(), restored.clone()],
        mounts: vec![directory.clone()],
        directories: vec![directory.clone()],
        ..Made::default()
    });
    // The target: a file system of its own, 40 MiB, to fill up later.
    fs::create_dir_all(&directory).expect("target directory");
    let target_path = directory.to_str().expect("path");
    shell(&[
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=40m",
        "tmpfs",
        target_path,
    ]);
    zfs.create_filesystem(&source, &[]).expect("source");
    let home = mountpoint(&source);
    write(&home.join("small.txt"), b"one");
    write(&home.join("first.bin"), &noise(MIB, 61));
    snapshot(&zfs, &source, "s1");
    // 4 MiB/s: a stream of ~24 MiB takes about six seconds, time to kill it midway.
    let (job, target) = files_job(
        "vm-files-cut",
        &source,
        &directory,
        "bandwidth_limit = \"4 MiB/s\"",
    );
    let tag = hold_tag(&job).expect("tag");
    let run = || run_files(&zfs, &job, &target, now(), &UtcCalendar).expect("run starts");
    assert_clean(&run());
    // The chain's streams, and the job's holds: the chain's end, and after a failed run
    // also the snapshot the next run sends up to.
    let streams = |count: usize, end: &str, held: &[&str]| {
        let report = verified_chain(&directory, &source);
        let chain = &report.manifest.streams;
        assert_eq!(chain.len(), count, "{:?}", report.manifest);
        assert_eq!(chain.last().expect("a stream").to.short_name(), end);
        // Nothing of a failed stream is left: every file is the manifest's or WiZFS's own.
        let leftovers: Vec<String> = fs::read_dir(&report.directory)
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| {
                name.ends_with(".partial") || name.starts_with(&format!("s{:06}.", count + 1))
            })
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert_eq!(held_by(&source, tag.as_str()), held);
    };
    streams(1, "s1", &["s1"]);

    // An incremental whose `zfs send` is killed mid-stream.
    write(&home.join("big-2.bin"), &noise(24 * MIB, 62));
    snapshot(&zfs, &source, "s2");
    let before = guids(&zfs, &source);
    let (report, killed) =
        run_and_kill(run, "send", format!("{source}@s2"), Duration::from_secs(2));
    assert!(killed, "zfs send was killed mid-stream");
    let errors = failures(&report, &source, "file target, zfs send killed");
    // The sender's exit status failed the stream: a `zfs` error, not a short stream.
    assert!(
        errors.iter().any(|error| matches!(
            error,
            StepError::Zfs {
                step: wizfs_backup::Step::Send { to: Some(to) },
                ..
            } if to.short_name() == "s2"
        )),
        "{errors:?}"
    );
    assert_eq!(guids(&zfs, &source), before, "nothing lost on the source");
    streams(1, "s1", &["s1", "s2"]);
    open_verified(&chains_in(&directory, &source)[0]).expect("still restorable");
    let completed = run();
    assert_clean(&completed);
    let sent = &completed.dataset(&source).expect("report").sends;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].to.as_ref().map(SnapshotName::short_name),
        Some("s2")
    );
    streams(2, "s2", &["s2"]);

    // An incremental that does not fit on the target's file system.
    write(&home.join("big-3.bin"), &noise(32 * MIB, 63));
    snapshot(&zfs, &source, "s3");
    let full = run();
    let errors = failures(&full, &source, "file target full");
    assert!(
        errors.iter().any(|error| matches!(
            error,
            StepError::Chain {
                step: wizfs_backup::Step::Send { to: Some(to) },
                ..
            } if to.short_name() == "s3"
        ) && is_out_of_space(error)),
        "out of space writing the stream of s3: {errors:?}"
    );
    streams(2, "s2", &["s2", "s3"]);
    // Room again: the next run completes the chain.
    shell(&["mount", "-o", "remount,size=160m", target_path]);
    assert_clean(&run());
    streams(3, "s3", &["s3"]);
    assert_eq!(
        bookmark_guids(&source),
        guids(&zfs, &source)
            .iter()
            .map(|(_, guid)| *guid)
            .collect::<Vec<_>>()
    );

    // The chain restores to the source's snapshots.
    restore_with_cli(&environment, &zfs, &directory, &source, &restored);
}

// ------------------------------------------------------------------ jobs in the daemon

/// A running `wizfsd`, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Daemon {
    /// Starts `wizfsd --config config` and waits until its control socket answers.
    fn start(environment: &VmEnvironment, config: &Path, socket: &Path) -> Daemon {
        let child = Command::new(environment.bin_dir.join("wizfsd"))
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .spawn()
            .expect("start wizfsd");
        let daemon = Daemon(child);
        let started = Instant::now();
        while daemon_get(socket, "/api/v1/backups").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the daemon's control socket does not answer"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        daemon
    }
}

/// `GET path` on the daemon's control socket: its JSON answer when it answered 200.
fn daemon_get(socket: &Path, path: &str) -> Option<serde_json::Value> {
    let mut stream = UnixStream::connect(socket).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    // HTTP/1.0: the answer is not chunked and ends when the connection closes.
    let request = format!("GET {path} HTTP/1.0\r\nHost: wizfsd\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n")?;
    (head.split_whitespace().nth(1) == Some("200")).then_some(())?;
    serde_json::from_str(body).ok()
}

/// Runs `wizfs --config config …` (which goes to the daemon while it runs).
fn wizfs_with(environment: &VmEnvironment, config: &Path, arguments: &[&str]) -> Output {
    Command::new(environment.bin_dir.join("wizfs"))
        .arg("--config")
        .arg(config)
        .args(arguments)
        .output()
        .expect("run wizfs")
}

/// The job `id` of a `GET /api/v1/backups` answer.
fn job_view<'a>(view: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    view["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["id"] == id))
        .unwrap_or_else(|| panic!("no job {id} in {view}"))
}

#[test]
fn backup_files_run_and_pool_jobs_in_the_daemon_through_the_cli_keep_the_last_good_backup() {
    let environment = VmEnvironment::from_env();
    let zfs = CliZfs::default();
    let source = environment.unique_dataset(&environment.pool, "backup-daemon-src");
    let root = environment.unique_dataset(&environment.second_pool, "backup-daemon-dst");
    let directory = PathBuf::from(format!("/tmp/backup-daemon-{}", std::process::id()));
    let _cleanup = Cleanup(Made {
        datasets: vec![source.clone(), root.clone()],
        directories: vec![directory.clone()],
        ..Made::default()
    });
    let files = directory.join("usb");
    fs::create_dir_all(&files).expect("target directory");
    zfs.create_filesystem(&source, &[]).expect("source");
    let home = mountpoint(&source);
    write(&home.join("a.txt"), b"first");
    write(&home.join("b.bin"), &noise(1_500_000, 71));
    snapshot(&zfs, &source, "s1");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let state = directory.join("state");
    let socket = state.join("api.sock");
    let config = directory.join("wizfsd.toml");
    let job = |id: &str, target: &str| {
        format!(
            "\n[[backup]]\nid = \"{id}\"\nschedule = \"manual\"\ntimezone = \"UTC\"\n\
             [[backup.source]]\ndataset = \"{source}\"\n[backup.target]\n{target}\n"
        )
    };
    fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\nlog = \"info\"\n\n\
             [index]\ninterval_seconds = 0\nexclude = [\"{}\"]\nmethod = \"diff\"\n{}{}{}",
            state.display(),
            environment.second_pool,
            job(
                "vm-daemon-files",
                &format!(
                    "type = \"files\"\ndirectory = \"{}\"\nvolume_size = \"1 MB\"",
                    files.display()
                )
            ),
            job(
                "vm-daemon-pool",
                &format!("type = \"pool\"\ndataset = \"{root}\"")
            ),
            job(
                "vm-daemon-absent",
                &format!(
                    "type = \"files\"\ndirectory = \"{}\"",
                    directory.join("not-mounted").display()
                )
            ),
        ),
    )
    .expect("write the configuration");
    let daemon = Daemon::start(&environment, &config, &socket);
    let ran = |arguments: &[&str]| {
        let output = wizfs_with(&environment, &config, arguments);
        assert!(
            output.status.success(),
            "wizfs {arguments:?}: {}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    };

    let listed: serde_json::Value =
        serde_json::from_str(&ran(&["--json", "backup", "list"])).expect("JSON");
    for id in ["vm-daemon-files", "vm-daemon-pool", "vm-daemon-absent"] {
        let job = job_view(&listed, id);
        assert!(job["last_success"].is_null(), "{job}");
        assert_eq!(job["schedule"], "manual");
    }

    // Each job run by the CLI, through the daemon.
    let first = ran(&["backup", "run", "vm-daemon-files"]);
    assert!(
        first.contains("succeeded") && first.contains("full send of @s1"),
        "{first}"
    );
    let pool = ran(&["backup", "run", "vm-daemon-pool"]);
    assert!(pool.contains("full send of @s1"), "{pool}");
    let absent = wizfs_with(
        &environment,
        &config,
        &["backup", "run", "vm-daemon-absent"],
    );
    assert!(!absent.status.success(), "a missing target directory fails");
    assert!(
        text(&absent.stderr).contains("did not succeed"),
        "{}",
        text(&absent.stderr)
    );
    assert!(
        text(&absent.stdout).contains("not-mounted"),
        "the error names the directory: {}",
        text(&absent.stdout)
    );
    write(&home.join("c.txt"), b"second");
    snapshot(&zfs, &source, "s2");
    let second = ran(&["backup", "run", "vm-daemon-files"]);
    assert!(second.contains("incremental up to @s2"), "{second}");

    // The daemon's own record (its REST answer, not the CLI's): the last good backups.
    let view = daemon_get(&socket, "/api/v1/backups").expect("GET /api/v1/backups");
    let files_job = job_view(&view, "vm-daemon-files");
    assert_eq!(files_job["last_run"]["succeeded"], true, "{files_job}");
    assert_eq!(files_job["last_run"]["trigger"], "manual");
    assert_eq!(files_job["last_success"], files_job["last_run"]["finished"]);
    assert!(
        files_job["last_run"]["datasets"][0]
            .as_str()
            .is_some_and(|line| line.contains("incremental up to @s2")),
        "{files_job}"
    );
    let pool_job = job_view(&view, "vm-daemon-pool");
    assert!(pool_job["last_success"].is_string(), "{pool_job}");
    let absent_job = job_view(&view, "vm-daemon-absent");
    assert_eq!(absent_job["last_run"]["succeeded"], false, "{absent_job}");
    assert!(absent_job["last_success"].is_null(), "{absent_job}");
    let runs: serde_json::Value =
        serde_json::from_str(&ran(&["--json", "backup", "runs", "vm-daemon-files"])).expect("JSON");
    assert_eq!(runs.as_array().map(Vec::len), Some(2), "{runs}");
    assert_eq!(
        runs[0]["finished"], files_job["last_success"],
        "newest first"
    );
    let listed = ran(&["backup", "list"]);
    assert!(
        listed.contains(&format!(
            "last good backup: {}",
            files_job["last_success"].as_str().expect("a time")
        )) && listed.contains("last good backup: never"),
        "{listed}"
    );

    // What the runs left on real ZFS and on the disk.
    let report = verified_chain(&files, &source);
    let chain_ends: Vec<u64> = report
        .manifest
        .streams
        .iter()
        .map(|stream| stream.to_guid)
        .collect();
    let source_guids: Vec<u64> = guids(&zfs, &source).iter().map(|(_, guid)| *guid).collect();
    assert_eq!(chain_ends, source_guids);
    assert_eq!(
        guids(&zfs, &target_of(&root, &source)),
        guids(&zfs, &source)[..1]
    );
    assert_eq!(held_by(&source, "wizfs-backup-vm-daemon-files"), ["s2"]);
    assert_eq!(held_by(&source, "wizfs-backup-vm-daemon-pool"), ["s1"]);
    assert_eq!(bookmark_guids(&source), source_guids);

    // A restarted daemon still knows the last good backup.
    drop(daemon);
    let _daemon = Daemon::start(&environment, &config, &socket);
    let again = daemon_get(&socket, "/api/v1/backups").expect("GET /api/v1/backups");
    assert_eq!(
        job_view(&again, "vm-daemon-files")["last_success"],
        files_job["last_success"]
    );
    assert_eq!(
        job_view(&again, "vm-daemon-pool")["last_success"],
        pool_job["last_success"]
    );
}
