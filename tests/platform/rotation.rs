//! Platform tests of snapshot scheduling and rotation on real OpenZFS in the VM, with an
//! injected clock (the time a WiZFS snapshot stands for is the one in its name, so a month
//! of hourly runs takes minutes, not a month): the month ends with exactly the snapshots the
//! policy says; empty snapshots are skipped; the free-space floor prunes the oldest managed
//! snapshots first and stops at the minimum; foreign, look-alike and held snapshots survive;
//! the search index follows creations and destructions. Every test name contains
//! `rotation`, so `tests/vm/run --filter rotation` runs exactly these.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use wizfs_core::rotation::{DestroyReason, floor_reached};
use wizfs_core::{DatasetName, SnapshotName, Timestamp};
use wizfs_index::IndexStore;
use wizfs_indexer::Indexer;
use wizfs_snapshots::{PolicyConfig, RunMemory, RunMode, RunReport, Skipped, parse_policies};
use wizfs_tests::conformance::noise;
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::{CliZfs, Scope, Zfs};

/// Destroys the test's datasets (releasing holds first) or pool when it ends, pass or fail.
struct Cleanup {
    datasets: Vec<DatasetName>,
    holds: Vec<(String, SnapshotName)>,
    pool: Option<(String, PathBuf)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (tag, snapshot) in &self.holds {
            let _ = Command::new("zfs")
                .args(["release", tag, snapshot.as_str()])
                .status();
        }
        for dataset in &self.datasets {
            let _ = Command::new("zfs")
                .args(["destroy", "-r", "-f", dataset.as_str()])
                .status();
        }
        if let Some((pool, file)) = &self.pool {
            let _ = Command::new("zpool").args(["destroy", "-f", pool]).status();
            let _ = fs::remove_file(file);
        }
    }
}

fn zfs() -> Arc<dyn Zfs> {
    Arc::new(CliZfs::default())
}

fn t(year: i64, month: u8, day: u8, hour: u8, minute: u8) -> Timestamp {
    Timestamp::utc_minute(year, month, day, hour, minute).expect("valid time")
}

fn hours_after(start: Timestamp, hours: i64) -> Timestamp {
    Timestamp(start.seconds() + hours * 3600)
}

fn policies(text: &str) -> Vec<PolicyConfig> {
    parse_policies(text, Path::new("rotation-test.toml")).expect("policies")
}

fn mountpoint(dataset: &DatasetName) -> PathBuf {
    PathBuf::from(format!("/{dataset}"))
}

fn run(
    zfs: &dyn Zfs,
    policies: &[PolicyConfig],
    now: Timestamp,
    memory: &mut RunMemory,
) -> RunReport {
    let report = wizfs_snapshots::run(zfs, policies, now, memory, RunMode::Scheduled);
    assert!(!report.has_errors(), "run at {now}: {report:#?}");
    report
}

fn short_names(zfs: &dyn Zfs, dataset: &DatasetName) -> Vec<String> {
    zfs.list_snapshots(dataset, Scope::Dataset)
        .expect("list")
        .into_iter()
        .map(|snapshot| snapshot.name.short_name().to_owned())
        .collect()
}

fn shell(words: &[&str]) {
    let status = Command::new(words[0])
        .args(&words[1..])
        .status()
        .expect("run");
    assert!(status.success(), "{words:?}");
}

#[test]
fn rotation_month_of_hourly_runs_ends_with_exactly_the_policys_snapshots() {
    let environment = VmEnvironment::from_env();
    let zfs = zfs();
    let dataset = environment.unique_dataset(&environment.pool, "rotation-month");
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let _cleanup = Cleanup {
        datasets: vec![dataset.clone()],
        holds: Vec::new(),
        pool: None,
    };
    // Europe/Paris from the bundled time zone database (the image has no tzdata), through
    // the fall-back night of October 25 and a month boundary.
    let policies = policies(&format!(
        "[[policy]]\nid = \"month\"\ndataset = \"{dataset}\"\nhourly = 6\ndaily = 7\n\
         weekly = 2\nmonthly = 2\nmin_keep = 2\ntimezone = \"Europe/Paris\"\n"
    ));
    let start = Timestamp(t(2026, 10, 10, 0, 0).seconds() + 23);
    let hours = 30 * 24;
    let mut memory = RunMemory::default();
    let mut taken: Vec<SnapshotName> = Vec::new();
    let started = std::time::Instant::now();
    for hour in 0..hours {
        if hour % 7 == 0 {
            fs::write(mountpoint(&dataset).join("notes.txt"), format!("{hour}")).expect("write");
        }
        let report = run(
            zfs.as_ref(),
            &policies,
            hours_after(start, hour),
            &mut memory,
        );
        assert_eq!(report.policies[0].created.len(), 1, "hour {hour}");
        taken.extend(report.policies[0].created.iter().cloned());
    }
    println!(
        "{hours} hourly runs on real ZFS in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let end = hours_after(start, hours - 1);
    let expected: Vec<String> = wizfs_snapshots::plan_over_history(&policies, &taken, end)
        .kept()
        .map(|decision| decision.snapshot.short_name().to_owned())
        .collect();
    assert_eq!(short_names(zfs.as_ref(), &dataset), expected);
    assert!(expected.len() >= 6 + 6, "{expected:?}");
    assert_eq!(
        expected.last().map(String::as_str),
        taken.last().map(SnapshotName::short_name)
    );
}

#[test]
fn rotation_skips_empty_snapshots_of_a_whole_tree() {
    let environment = VmEnvironment::from_env();
    let zfs = zfs();
    let root = environment.unique_dataset(&environment.pool, "rotation-empty");
    let child = root.child("child").expect("name");
    zfs.create_filesystem(&root, &[]).expect("root");
    zfs.create_filesystem(&child, &[]).expect("child");
    let _cleanup = Cleanup {
        datasets: vec![root.clone()],
        holds: Vec::new(),
        pool: None,
    };
    let policies = policies(&format!(
        "[[policy]]\nid = \"tree\"\ndataset = \"{root}\"\nrecursive = true\nhourly = 24\n\
         skip_empty = true\ntimezone = \"UTC\"\n"
    ));
    let start = t(2026, 11, 26, 8, 0);
    let mut memory = RunMemory::default();
    fs::write(mountpoint(&child).join("a.txt"), b"first").expect("write");
    let first = run(zfs.as_ref(), &policies, start, &mut memory);
    assert_eq!(first.policies[0].created.len(), 2, "{first:#?}");
    let quiet = run(zfs.as_ref(), &policies, hours_after(start, 1), &mut memory);
    assert_eq!(
        quiet.policies[0].skipped,
        Some(Skipped::Empty),
        "{quiet:#?}"
    );
    fs::write(mountpoint(&child).join("b.txt"), b"second").expect("write");
    // `written` counts what is on disk: a change still in the open transaction group (the
    // last seconds) counts in the next run. Commit it so this run sees it.
    shell(&["zpool", "sync", environment.pool.as_str()]);
    let changed = run(zfs.as_ref(), &policies, hours_after(start, 2), &mut memory);
    assert_eq!(
        changed.policies[0].created.len(),
        2,
        "one changed dataset: the whole tree"
    );
    let quiet = run(zfs.as_ref(), &policies, hours_after(start, 3), &mut memory);
    assert_eq!(
        quiet.policies[0].skipped,
        Some(Skipped::Empty),
        "{quiet:#?}"
    );
    let expected = ["wizfs-tree-20261126T080000Z", "wizfs-tree-20261126T100000Z"];
    assert_eq!(short_names(zfs.as_ref(), &root), expected);
    assert_eq!(short_names(zfs.as_ref(), &child), expected);
    let both = zfs.list_snapshots(&root, Scope::Recursive).expect("list");
    let second: Vec<_> = both
        .iter()
        .filter(|snapshot| snapshot.name.short_name() == expected[1])
        .collect();
    assert!(
        second.len() == 2 && second[0].createtxg == second[1].createtxg,
        "one atomic recursive snapshot: {second:?}"
    );
}

#[test]
fn rotation_free_space_floor_prunes_oldest_first_and_stops_at_the_minimum() {
    let pool = format!("wzrot{}", std::process::id());
    let file = PathBuf::from(format!("/tmp/{pool}.img"));
    fs::File::create(&file)
        .and_then(|vdev| vdev.set_len(320 << 20))
        .expect("vdev file");
    shell(&[
        "zpool",
        "create",
        "-O",
        "compression=off",
        &pool,
        file.to_str().expect("path"),
    ]);
    let _cleanup = Cleanup {
        datasets: Vec::new(),
        holds: Vec::new(),
        pool: Some((pool.clone(), file.clone())),
    };
    let zfs = zfs();
    let dataset = DatasetName::new(&format!("{pool}/data")).expect("name");
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let text = |floor: u8| {
        format!(
            "[[policy]]\nid = \"space\"\ndataset = \"{dataset}\"\nhourly = 100\nmin_keep = 3\n\
             free_space_floor_percent = {floor}\ntimezone = \"UTC\"\n"
        )
    };
    let policies_80 = policies(&text(80));
    let start = t(2026, 11, 26, 0, 0);
    let mut memory = RunMemory::default();
    let mut pruned: Vec<String> = Vec::new();
    let mut data = noise(8 << 20, 7);
    // Each hour an 8 MiB file replaces the last: every older snapshot holds 8 MiB alone.
    for hour in 0..16 {
        let _ = fs::remove_file(mountpoint(&dataset).join(format!("file-{}", hour - 1)));
        // Without compression or dedup every block is allocated anew, even if alike.
        data[..8].copy_from_slice(&(hour as u64).to_le_bytes());
        fs::write(mountpoint(&dataset).join(format!("file-{hour}")), &data).expect("write");
        let report = run(
            zfs.as_ref(),
            &policies_80,
            hours_after(start, hour),
            &mut memory,
        );
        for (snapshot, reason) in &report.policies[0].destroyed {
            assert!(
                matches!(
                    reason,
                    DestroyReason::FreeSpace {
                        floor_percent: 80,
                        ..
                    }
                ),
                "{reason:?}"
            );
            pruned.push(snapshot.short_name().to_owned());
        }
        shell(&["zpool", "sync", &pool]);
        let space = zfs
            .list_pools()
            .expect("pools")
            .into_iter()
            .find(|candidate| candidate.name.as_str() == pool)
            .expect("our pool");
        let remaining = short_names(zfs.as_ref(), &dataset);
        assert!(
            floor_reached(space.size, space.free, 80) || remaining.len() == 3,
            "hour {hour}: {} of {} bytes free with {remaining:?}",
            space.free,
            space.size
        );
    }
    assert!(!pruned.is_empty(), "the floor was reached and pruned for");
    let mut sorted = pruned.clone();
    sorted.sort();
    assert_eq!(pruned, sorted, "oldest first");
    let remaining = short_names(zfs.as_ref(), &dataset);
    assert!(
        pruned
            .iter()
            .all(|gone| remaining.iter().all(|kept| gone < kept)),
        "everything pruned is older than everything kept: {pruned:?} / {remaining:?}"
    );
    // A floor the pool cannot reach stops at the minimum count: the three newest.
    let report = wizfs_snapshots::run(
        zfs.as_ref(),
        &policies(&text(95)),
        hours_after(start, 16),
        &mut memory,
        RunMode::Prune { only: None },
    );
    assert!(!report.has_errors(), "{report:#?}");
    let newest: Vec<String> = remaining[remaining.len() - 3..].to_vec();
    assert_eq!(short_names(zfs.as_ref(), &dataset), newest);
}

#[test]
fn rotation_keeps_foreign_look_alike_and_held_snapshots() {
    let environment = VmEnvironment::from_env();
    let zfs = zfs();
    let dataset = environment.unique_dataset(&environment.pool, "rotation-foreign");
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let mut cleanup = Cleanup {
        datasets: vec![dataset.clone()],
        holds: Vec::new(),
        pool: None,
    };
    let policies = policies(&format!(
        "[[policy]]\nid = \"keep\"\ndataset = \"{dataset}\"\nhourly = 2\ntimezone = \"UTC\"\n"
    ));
    // Made with plain `zfs snapshot`, as a user or another tool would.
    shell(&["zfs", "snapshot", &format!("{dataset}@manual")]);
    shell(&[
        "zfs",
        "snapshot",
        &format!("{dataset}@wizfs-keep-20261101T000000Z"),
    ]);
    shell(&[
        "zfs",
        "snapshot",
        "-o",
        "wizfs:managed=keep",
        &format!("{dataset}@by-hand"),
    ]);
    let start = t(2026, 11, 26, 8, 0);
    let mut memory = RunMemory::default();
    let first = run(zfs.as_ref(), &policies, start, &mut memory);
    let held = first.policies[0].created[0].clone();
    shell(&["zfs", "hold", "backup", held.as_str()]);
    cleanup.holds.push(("backup".to_owned(), held.clone()));
    for hour in 1..8 {
        run(
            zfs.as_ref(),
            &policies,
            hours_after(start, hour),
            &mut memory,
        );
    }
    assert_eq!(
        short_names(zfs.as_ref(), &dataset),
        [
            "manual",
            "wizfs-keep-20261101T000000Z",
            "by-hand",
            held.short_name(),
            "wizfs-keep-20261126T140000Z",
            "wizfs-keep-20261126T150000Z",
        ]
    );
}

#[test]
fn rotation_index_follows_creations_and_destructions() {
    let environment = VmEnvironment::from_env();
    let zfs = zfs();
    let dataset = environment.unique_dataset(&environment.pool, "rotation-index");
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let _cleanup = Cleanup {
        datasets: vec![dataset.clone()],
        holds: Vec::new(),
        pool: None,
    };
    let state = tempfile::tempdir().expect("state");
    let store = Arc::new(IndexStore::open(&state.path().join("index")).expect("index"));
    let indexer = Indexer::new(store.clone(), zfs.clone());
    let policies = policies(&format!(
        "[[policy]]\nid = \"indexed\"\ndataset = \"{dataset}\"\nhourly = 3\ntimezone = \"UTC\"\n"
    ));
    let start = t(2026, 11, 26, 0, 0);
    let mut memory = RunMemory::default();
    for hour in 0..8 {
        fs::write(
            mountpoint(&dataset).join(format!("hour-{hour}.txt")),
            format!("{hour}"),
        )
        .expect("write");
        let report = run(
            zfs.as_ref(),
            &policies,
            hours_after(start, hour),
            &mut memory,
        );
        for touched in report.touched_datasets() {
            let info = zfs
                .list_datasets(Some(&touched))
                .expect("list")
                .into_iter()
                .find(|candidate| candidate.name == touched)
                .expect("dataset");
            indexer.sync_dataset(&info, &mut |_| {}).expect("index");
        }
    }
    let guid = zfs.list_datasets(Some(&dataset)).expect("list")[0].guid;
    let indexed: Vec<String> = store
        .indexed_snapshots(guid)
        .expect("indexed")
        .into_iter()
        .map(|snapshot| snapshot.name)
        .collect();
    assert_eq!(indexed, short_names(zfs.as_ref(), &dataset));
    assert_eq!(
        indexed,
        [
            "wizfs-indexed-20261126T050000Z",
            "wizfs-indexed-20261126T060000Z",
            "wizfs-indexed-20261126T070000Z"
        ]
    );
}
