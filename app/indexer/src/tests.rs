//! Indexer tests over `FakeZfs` (real directories, real `.zfs/snapshot` trees, a faithful
//! `zfs diff`): a history of creations, changes, renames and deletions gives exactly the
//! expected search, versions and deleted-file answers, destroyed snapshots are forgotten,
//! and runs are idempotent. The same scenarios run on real OpenZFS in the VM
//! (`tests/platform/index.rs`).

use super::*;
use std::fs;
use std::path::PathBuf;
use wizfs_core::PoolName;
use wizfs_index::{SearchQuery, SearchResults};
use wizfs_zfs::{DestroyOptions, FakeZfs};

struct Setup {
    _directory: tempfile::TempDir,
    zfs: Arc<FakeZfs>,
    indexer: Indexer,
    dataset: DatasetName,
    mountpoint: PathBuf,
}

fn setup() -> Setup {
    let directory = tempfile::tempdir().unwrap();
    let zfs = Arc::new(FakeZfs::open(directory.path().join("pools")).unwrap());
    zfs.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let dataset = DatasetName::new("tank/home").unwrap();
    zfs.create_filesystem(&dataset, &[]).unwrap();
    let mountpoint = zfs.mountpoint(&dataset).unwrap();
    let store = Arc::new(IndexStore::open(&directory.path().join("index")).unwrap());
    // The fake's snapshot trees are copies with inode numbers of their own: only its `zfs
    // diff` is faithful (see `MethodPolicy::Diff`); walks are proven on real ZFS in the VM.
    let indexer = Indexer::with_policy(store, zfs.clone(), MethodPolicy::Diff);
    Setup {
        _directory: directory,
        zfs,
        indexer,
        dataset,
        mountpoint,
    }
}

impl Setup {
    fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.mountpoint.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    fn snapshot(&self, short: &str) {
        self.zfs
            .create_snapshots(&[self.dataset.snapshot(short).unwrap()], false, &[])
            .unwrap();
    }

    fn sync(&self) -> SyncReport {
        let reports = self.indexer.sync_all(&|_| true, &mut |_| {}).unwrap();
        reports
            .into_iter()
            .find(|report| report.dataset == self.dataset.as_str())
            .unwrap()
    }

    fn search(&self, text: &str, deleted_only: bool) -> SearchResults {
        let query = SearchQuery {
            text: Some(text.into()),
            deleted_only,
            limit: 100,
            ..SearchQuery::default()
        };
        self.indexer.store().search(&query).unwrap()
    }

    fn paths(&self, text: &str, deleted_only: bool) -> Vec<String> {
        let mut paths: Vec<String> = self
            .search(text, deleted_only)
            .hits
            .iter()
            .map(|hit| hit.path.display())
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    fn guid(&self) -> u64 {
        self.zfs.list_datasets(Some(&self.dataset)).unwrap()[0].guid
    }

    /// The catalogue and tantivy agree: no duplicate or missing version.
    fn assert_consistent(&self) {
        let report = self.indexer.store().check_consistency().unwrap();
        assert!(report.is_consistent(), "{report:?}");
    }

    fn versions(&self, path: &str) -> Vec<wizfs_index::VersionEntry> {
        self.indexer
            .store()
            .versions_of(self.guid(), &RelativePath::new(path.as_bytes()).unwrap())
            .unwrap()
    }
}

#[test]
fn history_of_changes_gives_exact_answers() {
    let setup = setup();
    setup.write("docs/report.txt", b"draft");
    setup.write("docs/old-name.txt", b"moving soon");
    setup.write("photos/2024/beach.jpg", b"jpeg");
    setup.snapshot("s1");
    let first = setup.sync();
    assert_eq!(first.indexed, ["s1"]);
    assert_eq!(first.full_walks, 1);

    setup.write("docs/report.txt", b"final version");
    fs::rename(
        setup.mountpoint.join("docs/old-name.txt"),
        setup.mountpoint.join("docs/new-name.txt"),
    )
    .unwrap();
    fs::rename(
        setup.mountpoint.join("photos/2024"),
        setup.mountpoint.join("photos/holiday"),
    )
    .unwrap();
    setup.snapshot("s2");
    fs::remove_file(setup.mountpoint.join("docs/report.txt")).unwrap();
    setup.snapshot("s3");
    let second = setup.sync();
    assert_eq!(second.indexed, ["s2", "s3"]);
    assert_eq!(second.full_walks, 0, "later snapshots come from zfs diff");

    let report_versions = setup.versions("docs/report.txt");
    assert_eq!(report_versions.len(), 2, "{report_versions:#?}");
    assert_eq!(report_versions[0].snapshots, ["s1"]);
    assert_eq!(report_versions[1].snapshots, ["s2"]);
    assert!(report_versions.iter().all(|version| !version.live));
    assert_eq!(
        setup.paths("report", true),
        ["docs/report.txt"],
        "deleted, found by deleted-only"
    );
    assert_eq!(
        setup.paths("name", false),
        ["docs/new-name.txt", "docs/old-name.txt"]
    );
    assert_eq!(
        setup.paths("name", true),
        ["docs/old-name.txt"],
        "the old name is gone live"
    );
    assert_eq!(
        setup.paths("beach", false),
        ["photos/2024/beach.jpg", "photos/holiday/beach.jpg"]
    );
    let beach = setup.versions("photos/holiday/beach.jpg");
    assert_eq!(beach.len(), 1);
    assert_eq!(beach[0].snapshots, ["s2", "s3"]);
    assert!(beach[0].live);

    let again = setup.sync();
    assert!(
        again.indexed.is_empty() && again.forgotten.is_empty(),
        "idempotent: {again:?}"
    );
    setup.assert_consistent();
}

#[test]
fn destroyed_snapshots_are_forgotten_and_live_changes_are_seen() {
    let setup = setup();
    setup.write("a.txt", b"one");
    setup.snapshot("s1");
    setup.write("a.txt", b"two!");
    setup.snapshot("s2");
    setup.write("a.txt", b"three");
    setup.snapshot("s3");
    setup.sync();
    assert_eq!(setup.versions("a.txt").len(), 3);
    setup
        .zfs
        .destroy_snapshots(
            &[setup.dataset.snapshot("s2").unwrap()],
            DestroyOptions::default(),
        )
        .unwrap();
    let report = setup.sync();
    assert_eq!(report.forgotten, ["s2"]);
    let versions = setup.versions("a.txt");
    assert_eq!(
        versions.len(),
        2,
        "the version only s2 held is gone: {versions:#?}"
    );
    assert_eq!(versions[1].snapshots, ["s3"]);
    setup
        .zfs
        .destroy_snapshots(
            &[setup.dataset.snapshot("s3").unwrap()],
            DestroyOptions::default(),
        )
        .unwrap();
    setup.sync();
    let versions = setup.versions("a.txt");
    assert_eq!(versions.len(), 2, "s3's version is still the live file");
    assert!(versions[1].snapshots.is_empty() && versions[1].live);

    setup.write("brand-new.txt", b"not in any snapshot");
    setup.sync();
    assert_eq!(
        setup.paths("brand", false),
        ["brand-new.txt"],
        "live files are searchable"
    );
    setup.assert_consistent();
}

#[test]
fn hostile_names_index_and_search() {
    let setup = setup();
    use std::os::unix::ffi::OsStrExt;
    let weird = std::ffi::OsStr::from_bytes(b"new\nline \xff name.txt");
    fs::write(setup.mountpoint.join(weird), b"x").unwrap();
    let long = "l".repeat(251) + ".txt";
    setup.write(&long, b"long");
    let deep: String = (0..60)
        .map(|level| format!("d{level}/"))
        .collect::<String>()
        + "deep-file.txt";
    setup.write(&deep, b"deep");
    setup.snapshot("s1");
    setup.sync();
    let hits = setup.search("line", false).hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path.as_bytes(), b"new\nline \xff name.txt");
    assert_eq!(setup.search(&"l".repeat(40), false).hits.len(), 1);
    assert_eq!(setup.paths("deep-file", false), [deep]);
}

#[test]
fn snapshots_that_wrote_nothing_are_indexed_without_reading_them() {
    let setup = setup();
    setup.write("a.txt", b"a");
    setup.snapshot("s1");
    setup.snapshot("s2");
    setup.write("b.txt", b"b");
    setup.snapshot("s3");
    let report = setup.sync();
    assert_eq!(report.indexed, ["s1", "s2", "s3"]);
    assert_eq!(report.unchanged, 1, "s2 wrote nothing");
    // s3 and live are compared by diff.
    assert_eq!(report.diffs, 2);
    let versions = setup.versions("a.txt");
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].snapshots, ["s1", "s2", "s3"]);
    assert!(versions[0].live);
    assert_eq!(setup.versions("b.txt")[0].snapshots, ["s3"]);
}

#[test]
fn method_choice_follows_measured_costs() {
    let ms = Duration::from_millis;
    let costs = |diff: Option<u64>, walk: Option<u64>, walks_since_diff: u32| MethodCosts {
        diff: diff.map(ms),
        walk: walk.map(ms),
        walks_since_diff,
        ..MethodCosts::default()
    };
    use Method::{Diff, Objects, Unchanged, Walk};
    use MethodPolicy::Adaptive;
    let cases = [
        // (policy, change, costs, expected, why): live never has a send stream, so it
        // chooses between diff and walk alone.
        (
            Adaptive,
            Change::Unchanged,
            costs(None, None, 0),
            Unchanged,
            "written = 0 reads nothing",
        ),
        (
            MethodPolicy::Walk,
            Change::Unchanged,
            costs(None, None, 0),
            Unchanged,
            "for every policy",
        ),
        (
            MethodPolicy::Diff,
            Change::Live,
            costs(Some(9000), Some(1), 0),
            Diff,
            "forced diff",
        ),
        (
            MethodPolicy::Walk,
            Change::Live,
            costs(Some(1), Some(9000), 0),
            Walk,
            "forced walk",
        ),
        (
            Adaptive,
            Change::Live,
            costs(None, None, 0),
            Diff,
            "nothing measured: diff",
        ),
        (
            Adaptive,
            Change::Live,
            costs(None, Some(1), 0),
            Diff,
            "diff never tried",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(500), None, 0),
            Diff,
            "fast diff, no walk known",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(1500), None, 0),
            Walk,
            "slow diff: learn the walk",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(100), Some(200), 0),
            Diff,
            "diff cheaper",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(200), Some(200), 0),
            Diff,
            "a tie goes to diff",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(300), Some(200), 0),
            Walk,
            "walk cheaper",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(300), Some(200), 7),
            Walk,
            "still walking",
        ),
        (
            Adaptive,
            Change::Live,
            costs(Some(300), Some(200), 8),
            Diff,
            "retry diff now and then",
        ),
    ];
    for (policy, change, costs, expected, why) in cases {
        assert_eq!(choose_method(policy, change, &costs), expected, "{why}");
        // A snapshot where objects failed before chooses the same way.
        if change == Change::Live {
            let failed = MethodCosts {
                objects_failed: true,
                ..costs
            };
            let snapshot = Change::Written(1);
            assert_eq!(choose_method(policy, snapshot, &failed), expected, "{why}");
        }
    }

    // Objects, adaptively: for snapshots, unless a walk is expected to be cheaper.
    let mib = |n: u64| n << 20;
    let with_objects = |objects: Option<(u64, u64)>, walk: Option<u64>| MethodCosts {
        objects: objects.map(|(cost, written)| (ms(cost), written)),
        walk: walk.map(ms),
        ..MethodCosts::default()
    };
    let objects_cases = [
        // (change, costs, expected, why)
        (
            Change::Written(mib(1)),
            with_objects(None, None),
            Objects,
            "first try",
        ),
        (
            Change::Written(mib(1)),
            with_objects(None, Some(10)),
            Objects,
            "not measured yet",
        ),
        (
            Change::Written(mib(1)),
            with_objects(Some((50, mib(1))), Some(10_000)),
            Objects,
            "cheaper than a walk",
        ),
        (
            Change::Written(mib(1)),
            with_objects(Some((20_000, mib(1))), Some(10_000)),
            Walk,
            "dearer than a walk: diff is not faster, walk",
        ),
        (
            Change::Written(mib(200)),
            with_objects(Some((50, mib(1))), Some(10_000)),
            Objects,
            "below the scale floor, the cost is not scaled",
        ),
        (
            Change::Written(mib(256) * 400),
            with_objects(Some((50, mib(1))), Some(10_000)),
            Walk,
            "100 GiB written: the stream would carry them (50 ms × 400 > 10 s)",
        ),
        (
            Change::Live,
            with_objects(Some((1, mib(1))), Some(10_000)),
            Diff,
            "live: no stream",
        ),
        (
            Change::Written(mib(1)),
            MethodCosts {
                walks_since_objects: 8,
                ..with_objects(Some((20_000, mib(1))), Some(10_000))
            },
            Objects,
            "retried after 8 walks",
        ),
        (
            Change::Unchanged,
            with_objects(None, None),
            Unchanged,
            "nothing to read",
        ),
    ];
    for (change, costs, expected, why) in objects_cases {
        let costs = MethodCosts {
            diff: (expected == Walk).then(|| ms(100_000)),
            ..costs
        };
        assert_eq!(choose_method(Adaptive, change, &costs), expected, "{why}");
    }
    assert_eq!(
        objects_estimate((ms(100), mib(1024)), mib(4096)),
        ms(400),
        "scaled by the data written"
    );
    // Forced objects: snapshots by objects even when dear, live by a walk.
    let dear = with_objects(Some((1_000_000, mib(1))), Some(1));
    let forced = MethodPolicy::Objects;
    assert_eq!(
        choose_method(forced, Change::Written(mib(1)), &dear),
        Objects
    );
    assert_eq!(choose_method(forced, Change::Live, &dear), Walk);
    assert_eq!(choose_method(forced, Change::Unchanged, &dear), Unchanged);

    // A diff 8× dearer than a walk is retried after 32 walks; at most every 1024.
    let retry =
        |diff, walk, since| choose_method(Adaptive, Change::Live, &costs(diff, walk, since));
    assert_eq!(retry(Some(3000), Some(400), 31), Walk);
    assert_eq!(retry(Some(3000), Some(400), 32), Diff);
    assert_eq!(retry(Some(3000), Some(0), 1023), Walk);
    assert_eq!(retry(Some(3000), Some(0), 1024), Diff);

    let mut recorded = MethodCosts::default();
    recorded.record(Method::Walk, ms(5));
    recorded.record(Method::Walk, ms(7));
    let walked_twice = MethodCosts {
        walks_since_objects: 2,
        ..costs(None, Some(7), 2)
    };
    assert_eq!(recorded, walked_twice);
    recorded.record(Method::Diff, ms(3));
    recorded.record(Method::Unchanged, ms(100));
    // (Objects record their cost with the bytes written, in the comparison itself.)
    recorded.record(Method::Objects, ms(100));
    let then_diff = MethodCosts {
        walks_since_objects: 2,
        ..costs(Some(3), Some(7), 0)
    };
    assert_eq!(recorded, then_diff);
}

#[test]
fn concurrent_synchronisations_index_each_snapshot_once() {
    let setup = setup();
    for round in 0..6 {
        setup.write(&format!("docs/file-{round}.txt"), b"contents");
        setup.write("docs/changing.txt", format!("round {round}").as_bytes());
        setup.snapshot(&format!("s{round}"));
    }
    // Clones share the lock, as the daemon's schedule, its policies and the console do.
    let indexers: Vec<Indexer> = (0..4).map(|_| setup.indexer.clone()).collect();
    let indexed: usize = std::thread::scope(|scope| {
        let runs: Vec<_> = indexers
            .iter()
            .map(|indexer| {
                scope.spawn(move || {
                    indexer
                        .sync_all(&|_| true, &mut |_| {})
                        .unwrap()
                        .iter()
                        .map(|report| report.indexed.len())
                        .sum::<usize>()
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).sum()
    });
    assert_eq!(
        indexed, 6,
        "every snapshot indexed exactly once across the runs"
    );
    assert_eq!(
        setup.versions("docs/changing.txt").len(),
        6,
        "one version per round"
    );
    setup.assert_consistent();
}

#[test]
fn a_stream_that_cannot_be_read_turns_objects_off_for_the_adaptive_indexer() {
    let setup = setup();
    // The fake's `zfs send` writes a stream of its own format, not OpenZFS's.
    let adaptive = Indexer::with_policy(
        setup.indexer.store().clone(),
        setup.zfs.clone(),
        MethodPolicy::Adaptive,
    );
    setup.write("docs/a.txt", b"one");
    setup.snapshot("s1");
    setup.write("docs/a.txt", b"two, longer");
    setup.snapshot("s2");
    setup.write("docs/b.txt", b"new");
    setup.snapshot("s3");
    let report = adaptive
        .sync_all(&|_| true, &mut |_| {})
        .unwrap()
        .into_iter()
        .find(|report| report.dataset == setup.dataset.as_str())
        .unwrap();
    // s2 tried objects and fell back (to a diff: nothing else was measured); s3 did not try
    // them again. (What s3 and live use next depends on measured costs; on the fake only
    // diffs are faithful, so only the snapshots' versions are checked.)
    assert_eq!(report.fallbacks.len(), 1, "{report:?}");
    assert!(
        report.fallbacks[0].starts_with("@s2: ")
            && report.fallbacks[0].contains("not a ZFS send stream"),
        "{report:?}"
    );
    assert_eq!(report.object_comparisons, 0);
    assert!(report.diffs >= 1, "{report:?}");
    assert!(adaptive.costs_of(setup.guid()).objects_failed);
    let snapshots = |path: &str| -> Vec<Vec<String>> {
        setup
            .versions(path)
            .into_iter()
            .map(|version| version.snapshots)
            .filter(|snapshots| !snapshots.is_empty())
            .collect()
    };
    // s2's diff saw the change (s3 may be walked, which on the fake is not faithful).
    let a = snapshots("docs/a.txt");
    assert_eq!(a[0], ["s1"], "{a:?}");
    assert_eq!(a[1][0], "s2", "{a:?}");
    assert!(
        snapshots("docs/b.txt")
            .iter()
            .any(|found| found.contains(&"s3".to_owned()))
    );
    setup.assert_consistent();
}

#[test]
fn a_path_replaced_by_another_object_stays_present_in_whatever_order_diff_lists_it() {
    let path = RelativePath::new(b"swap/file-then-dir").unwrap();
    let directory = wizfs_core::EntryMetadata {
        kind: EntryKind::Directory,
        size: 2,
        allocated: 0,
        mode: 0o755,
        uid: 0,
        gid: 0,
        modified: wizfs_core::FileTime {
            seconds: 2,
            nanoseconds: 0,
        },
        changed: wizfs_core::FileTime {
            seconds: 2,
            nanoseconds: 0,
        },
        inode: 10,
        links: 2,
        symlink_target: None,
    };
    let present = Observed::Present {
        path: path.clone(),
        metadata: directory,
    };
    let absent = Observed::Absent { path: path.clone() };
    let other = Observed::Absent {
        path: RelativePath::new(b"gone").unwrap(),
    };
    // `+` (the new object, numbered lower) before `-` (the old one), and the other way.
    for listed in [
        vec![present.clone(), other.clone(), absent.clone()],
        vec![absent.clone(), present.clone(), other.clone()],
    ] {
        let ordered = removals_first(listed);
        let last_for_path = ordered
            .iter()
            .rev()
            .find(|observation| observation.path() == &path)
            .unwrap();
        assert_eq!(last_for_path, &present);
        assert_eq!(ordered.len(), 3);
    }
}
