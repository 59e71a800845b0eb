//! Platform tests of the snapshot index on real OpenZFS in the VM: a history of file
//! creations, changes, renames and deletions across real snapshots gives exactly the
//! expected search, versions and deleted-file answers; destroying a middle and the last
//! snapshot updates them; snapshots made outside WiZFS are picked up; SIGKILL of the
//! indexer at many moments leaves a consistent index equal to one built without
//! interruption; hostile names index and search; comparing snapshots by `zfs diff`, by a
//! metadata walk, by the objects of send streams or adaptively builds the same index (also
//! one snapshot per run, where object fingerprints stored by the previous run single out the
//! changed objects), and snapshots that wrote nothing are recognised by `written` = 0 (and
//! only they: a deletion or a rename writes).

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use wizfs_core::{Dataset, DatasetName, RelativePath};
use wizfs_index::{IndexStore, SearchQuery, VersionEntry};
use wizfs_indexer::{Indexer, MethodPolicy, SyncReport};
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::{CliZfs, DestroyOptions, Scope, Zfs};

struct Fixture {
    zfs: Arc<dyn Zfs>,
    dataset: DatasetName,
    mountpoint: PathBuf,
    state: tempfile::TempDir,
    environment: VmEnvironment,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new("zfs")
            .args(["destroy", "-r", "-f", self.dataset.as_str()])
            .status();
    }
}

fn fixture(label: &str) -> Fixture {
    let environment = VmEnvironment::from_env();
    let zfs: Arc<dyn Zfs> = Arc::new(CliZfs::default());
    let dataset = environment.unique_dataset(&environment.pool, label);
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let mountpoint = PathBuf::from(format!("/{dataset}"));
    Fixture {
        zfs,
        dataset,
        mountpoint,
        state: tempfile::tempdir().expect("state"),
        environment,
    }
}

impl Fixture {
    fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.mountpoint.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Snapshots are made with the `zfs` command, as another tool would.
    fn snapshot(&self, short: &str) {
        let status = Command::new("zfs")
            .arg("snapshot")
            .arg(format!("{}@{short}", self.dataset))
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn dataset_info(&self) -> Dataset {
        self.zfs
            .list_datasets(Some(&self.dataset))
            .unwrap()
            .remove(0)
    }

    fn indexer(&self) -> Indexer {
        let store = Arc::new(IndexStore::open(&self.state.path().join("index")).expect("index"));
        // The scenarios below check `zfs diff`'s path (renames, replaced directories);
        // `diff_walk_objects_and_adaptive_comparisons_build_the_same_index` covers the others.
        Indexer::with_policy(store, self.zfs.clone(), MethodPolicy::Diff)
    }

    fn sync(&self, indexer: &Indexer) -> wizfs_indexer::SyncReport {
        indexer
            .sync_dataset(&self.dataset_info(), &mut |_| {})
            .expect("sync")
    }

    fn paths(&self, indexer: &Indexer, text: &str, deleted_only: bool) -> Vec<String> {
        let query = SearchQuery {
            text: Some(text.into()),
            deleted_only,
            datasets: vec![self.dataset.to_string()],
            limit: 500,
            ..SearchQuery::default()
        };
        let mut paths: Vec<String> = indexer
            .store()
            .search(&query)
            .unwrap()
            .hits
            .iter()
            .map(|hit| hit.path.display())
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    fn versions(&self, indexer: &Indexer, path: &str) -> Vec<VersionEntry> {
        indexer
            .store()
            .versions_of(
                self.dataset_info().guid,
                &RelativePath::new(path.as_bytes()).unwrap(),
            )
            .unwrap()
    }
}

#[test]
fn history_of_changes_gives_exact_answers_and_survives_destroys() {
    let fixture = fixture("index-history");
    let indexer = fixture.indexer();
    fixture.write("docs/report.txt", b"draft");
    fixture.write("docs/old-name.txt", b"moving soon");
    fixture.write("photos/2024/beach.jpg", b"jpeg");
    fixture.snapshot("s1");
    assert_eq!(fixture.sync(&indexer).indexed, ["s1"]);

    fixture.write("docs/report.txt", b"final version");
    fs::rename(
        fixture.mountpoint.join("docs/old-name.txt"),
        fixture.mountpoint.join("docs/new-name.txt"),
    )
    .unwrap();
    fs::rename(
        fixture.mountpoint.join("photos/2024"),
        fixture.mountpoint.join("photos/holiday"),
    )
    .unwrap();
    fixture.snapshot("s2");
    fs::remove_file(fixture.mountpoint.join("docs/report.txt")).unwrap();
    fixture.snapshot("s3");
    fixture.write("docs/report.txt", b"restored by hand, different");
    let report = fixture.sync(&indexer);
    assert_eq!(report.indexed, ["s2", "s3"]);
    assert_eq!(report.full_walks, 0, "later snapshots come from zfs diff");

    let versions = fixture.versions(&indexer, "docs/report.txt");
    let holding: Vec<Vec<String>> = versions
        .iter()
        .map(|version| version.snapshots.clone())
        .collect();
    assert_eq!(
        holding,
        [vec!["s1".to_owned()], vec!["s2".to_owned()], vec![]],
        "{versions:#?}"
    );
    assert!(versions[2].live && !versions[0].live);
    assert_eq!(
        fixture.paths(&indexer, "name", false),
        ["docs/new-name.txt", "docs/old-name.txt"]
    );
    assert_eq!(fixture.paths(&indexer, "name", true), ["docs/old-name.txt"]);
    assert_eq!(
        fixture.paths(&indexer, "beach", false),
        ["photos/2024/beach.jpg", "photos/holiday/beach.jpg"]
    );
    assert_eq!(
        fixture.paths(&indexer, "beach", true),
        ["photos/2024/beach.jpg"],
        "under a renamed directory"
    );
    let beach = fixture.versions(&indexer, "photos/holiday/beach.jpg");
    assert_eq!(beach.len(), 1);
    assert_eq!(beach[0].snapshots, ["s2", "s3"]);

    // As of s1: the file system as it was then.
    let s1_txg = indexer
        .store()
        .indexed_snapshots(fixture.dataset_info().guid)
        .unwrap()[0]
        .createtxg;
    let query = SearchQuery {
        as_of: Some((fixture.dataset_info().guid, s1_txg)),
        text: Some(".".into()),
        limit: 100,
        ..SearchQuery::default()
    };
    let mut as_of: Vec<String> = indexer
        .store()
        .search(&query)
        .unwrap()
        .hits
        .iter()
        .map(|hit| hit.path.display())
        .collect();
    as_of.sort();
    assert_eq!(
        as_of,
        [
            "docs/old-name.txt",
            "docs/report.txt",
            "photos/2024/beach.jpg"
        ]
    );

    // Destroy the middle snapshot, then the newest.
    fixture
        .zfs
        .destroy_snapshots(
            &[fixture.dataset.snapshot("s2").unwrap()],
            DestroyOptions::default(),
        )
        .unwrap();
    assert_eq!(fixture.sync(&indexer).forgotten, ["s2"]);
    let versions = fixture.versions(&indexer, "docs/report.txt");
    assert_eq!(
        versions.len(),
        2,
        "the version only s2 held is gone: {versions:#?}"
    );
    assert_eq!(
        fixture.versions(&indexer, "photos/holiday/beach.jpg")[0].snapshots,
        ["s3"]
    );
    fixture
        .zfs
        .destroy_snapshots(
            &[fixture.dataset.snapshot("s3").unwrap()],
            DestroyOptions::default(),
        )
        .unwrap();
    assert_eq!(fixture.sync(&indexer).forgotten, ["s3"]);
    let beach = fixture.versions(&indexer, "photos/holiday/beach.jpg");
    assert!(
        beach[0].snapshots.is_empty() && beach[0].live,
        "only live holds it now: {beach:#?}"
    );
    assert!(indexer.store().check_consistency().unwrap().is_consistent());
    let again = fixture.sync(&indexer);
    assert!(
        again.indexed.is_empty() && again.forgotten.is_empty(),
        "idempotent: {again:?}"
    );
}

#[test]
fn hostile_names_and_deep_trees() {
    let fixture = fixture("index-hostile");
    let indexer = fixture.indexer();
    fs::write(
        fixture
            .mountpoint
            .join(std::ffi::OsStr::from_bytes(b"new\nline \xff name.txt")),
        b"x",
    )
    .unwrap();
    let long = "l".repeat(251) + ".txt";
    fixture.write(&long, b"long");
    let deep: String = (0..60)
        .map(|level| format!("d{level}/"))
        .collect::<String>()
        + "deep-file.txt";
    fixture.write(&deep, b"deep");
    fixture.snapshot("s1");
    fs::remove_file(
        fixture
            .mountpoint
            .join(std::ffi::OsStr::from_bytes(b"new\nline \xff name.txt")),
    )
    .unwrap();
    fixture.snapshot("s2");
    fixture.sync(&indexer);
    let query = SearchQuery {
        text: Some("line".into()),
        deleted_only: true,
        ..SearchQuery::default()
    };
    let hits = indexer.store().search(&query).unwrap().hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path.as_bytes(), b"new\nline \xff name.txt");
    assert_eq!(fixture.paths(&indexer, &"l".repeat(40), false), [long]);
    assert_eq!(fixture.paths(&indexer, "deep-file", false), [deep]);
}

/// Opens an index, waiting (at most 20 s) while its writer lock is still held. Seen in the
/// VM right after a SIGKILL of the indexer (once in a full run, never alone); whether a
/// child process or tantivy's lock release causes it is not yet pinned down.
fn open_when_free(directory: &std::path::Path) -> IndexStore {
    let started = std::time::Instant::now();
    loop {
        match IndexStore::open(directory) {
            Ok(store) => return store,
            Err(wizfs_index::IndexError::Locked { .. })
                if started.elapsed() < std::time::Duration::from_secs(20) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(error) => panic!("opening {}: {error}", directory.display()),
        }
    }
}

/// SIGKILL of `wizfs index` at many moments: the index stays consistent and, once a run
/// completes, equals an index built in one go.
#[test]
fn killed_indexer_resumes_to_the_same_index() {
    let fixture = fixture("index-sigkill");
    for round in 0..6u32 {
        for file in 0..400u32 {
            if file % 6 == round % 6 || round == 0 {
                fixture.write(
                    &format!("dir{}/file{file}.dat", file % 20),
                    format!("{round}-{file}").as_bytes(),
                );
            }
        }
        fixture.snapshot(&format!("r{round}"));
    }
    let wizfs = fixture.environment.bin_dir.join("wizfs");
    let killed_dir = fixture.state.path().join("killed");
    for attempt in 0..12u64 {
        let mut child = Command::new(&wizfs)
            .arg("--data-dir")
            .arg(&killed_dir)
            .args(["index", fixture.dataset.as_str()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200 + attempt * 250));
        let _ = child.kill();
        let _ = child.wait();
        let store = open_when_free(&killed_dir.join("index"));
        let report = store.check_consistency().unwrap();
        assert!(report.is_consistent(), "after kill {attempt}: {report:#?}");
    }
    let finished = Command::new(&wizfs)
        .arg("--data-dir")
        .arg(&killed_dir)
        .args(["index", fixture.dataset.as_str()])
        .status()
        .unwrap();
    assert!(finished.success());
    let clean_dir = fixture.state.path().join("clean");
    let clean = Command::new(&wizfs)
        .arg("--data-dir")
        .arg(&clean_dir)
        .args(["--json", "index", fixture.dataset.as_str()])
        .output()
        .unwrap();
    assert!(clean.status.success());
    // The CLI indexes adaptively, which starts with object comparisons; the killed runs
    // above index the same way, so kills also land between storing a snapshot's object
    // fingerprints and its catalogue change.
    let reports: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert!(
        reports[0]["object_comparisons"].as_u64().unwrap() >= 1,
        "{reports:#}"
    );

    let summary = |directory: &std::path::Path| {
        let store = open_when_free(&directory.join("index"));
        assert!(store.check_consistency().unwrap().is_consistent());
        let guid = fixture.dataset_info().guid;
        let mut rows = Vec::new();
        for file in 0..400u32 {
            let path =
                RelativePath::new(format!("dir{}/file{file}.dat", file % 20).as_bytes()).unwrap();
            for version in store.versions_of(guid, &path).unwrap() {
                rows.push((path.display(), version.snapshots, version.live));
            }
        }
        (rows, store.check_consistency().unwrap().catalogue_versions)
    };
    let (killed_rows, killed_count) = summary(&killed_dir);
    let (clean_rows, clean_count) = summary(&clean_dir);
    assert_eq!(
        killed_count, clean_count,
        "no duplicate or missing versions"
    );
    assert_eq!(killed_rows, clean_rows);
}

/// Every version of every path the index knows, in a comparable form.
fn dump(fixture: &Fixture, indexer: &Indexer, guid: u64) -> Vec<String> {
    let paths = fixture.paths(indexer, "", false);
    paths
        .iter()
        .map(|path| {
            let versions = indexer
                .store()
                .versions_of(guid, &RelativePath::new(path.as_bytes()).unwrap())
                .unwrap();
            // Without ids: the live layer is re-derived, with new ids, on every run.
            let versions: Vec<String> = versions
                .iter()
                .map(|version| {
                    format!(
                        "{:?} {:?} live={}",
                        version.signature, version.snapshots, version.live
                    )
                })
                .collect();
            format!("{path}: {versions:?}")
        })
        .collect()
}

#[test]
fn diff_walk_objects_and_adaptive_comparisons_build_the_same_index() {
    let fixture = fixture("methods");
    fixture.write("docs/report.txt", b"draft");
    fixture.write("docs/notes.md", b"notes");
    fixture.write("docs/mode-only.txt", b"mode");
    fixture.write("keep/a.txt", b"a");
    fixture.write("photos/2024/beach.jpg", b"jpeg");
    fixture.write("photos/2024/deep/er/x.raw", b"raw");
    fixture.write("swap/file-then-dir", b"file");
    fixture.write("linked/original.txt", b"linked");
    for index in 0..100 {
        fixture.write(&format!("many/file-{index:03}.txt"), b"one of many");
    }
    // Hostile names: not UTF-8, a newline, 255 bytes, 60 levels deep.
    let raw = |bytes: &[u8]| fixture.mountpoint.join(std::ffi::OsStr::from_bytes(bytes));
    fs::create_dir_all(raw(b"hostile")).unwrap();
    fs::write(raw(b"hostile/caf\xe9.txt"), b"latin-1").unwrap();
    fs::write(raw(b"hostile/new\nline.txt"), b"newline").unwrap();
    let long = |letter: &str| format!("hostile/{}.txt", letter.repeat(251));
    fixture.write(&long("l"), b"long");
    let deep: String = (0..60).map(|level| format!("d{level}/")).collect();
    fixture.write(&format!("hostile/{deep}deep.txt"), b"deep");
    fixture.snapshot("s1");
    fixture.snapshot("s2"); // nothing changed
    fixture.write("docs/report.txt", b"final version");
    fixture.write("many/file-042.txt", b"changed, same len");
    Command::new("chmod")
        .args([
            "600",
            fixture
                .mountpoint
                .join("docs/mode-only.txt")
                .to_str()
                .unwrap(),
        ])
        .status()
        .unwrap();
    fs::remove_file(fixture.mountpoint.join("swap/file-then-dir")).unwrap();
    fixture.write("swap/file-then-dir/inside.txt", b"inside");
    fixture.write("brand/new/tree/leaf.txt", b"leaf");
    // A new name for an existing file: `zfs diff` reports only the link count.
    fs::hard_link(
        fixture.mountpoint.join("linked/original.txt"),
        fixture.mountpoint.join("linked/second-name.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../docs", fixture.mountpoint.join("linked/link")).unwrap();
    fs::write(raw(b"hostile/caf\xe9.txt"), b"latin-1, changed").unwrap();
    fs::write(raw(b"hostile/new-\xff.txt"), b"new").unwrap();
    fs::rename(
        fixture.mountpoint.join(long("l")),
        fixture.mountpoint.join(long("m")),
    )
    .unwrap();
    fixture.write(&format!("hostile/{deep}deep.txt"), b"deeper");
    fs::remove_file(fixture.mountpoint.join("keep/a.txt")).unwrap();
    fs::rename(
        fixture.mountpoint.join("photos/2024"),
        fixture.mountpoint.join("photos/holiday"),
    )
    .unwrap();
    // A directory replaced by another object, one unchanged file moved into it.
    fs::rename(
        fixture.mountpoint.join("docs"),
        fixture.mountpoint.join("docs-old"),
    )
    .unwrap();
    fs::create_dir(fixture.mountpoint.join("docs")).unwrap();
    fs::rename(
        fixture.mountpoint.join("docs-old/notes.md"),
        fixture.mountpoint.join("docs/notes.md"),
    )
    .unwrap();
    fixture.write("new.txt", b"new");
    fixture.snapshot("s3");
    fs::rename(
        fixture.mountpoint.join("new.txt"),
        fixture.mountpoint.join("renamed.txt"),
    )
    .unwrap();
    fixture.snapshot("s4"); // only a rename
    fs::remove_file(fixture.mountpoint.join("docs-old/report.txt")).unwrap();
    fixture.snapshot("s5"); // only a deletion
    fixture.write("live-only.txt", b"live");

    let written: Vec<(String, u64)> = fixture
        .zfs
        .list_snapshots(&fixture.dataset, Scope::Dataset)
        .unwrap()
        .iter()
        .map(|snapshot| (snapshot.name.short_name().to_owned(), snapshot.written))
        .collect();
    assert_eq!(written[1], ("s2".to_owned(), 0), "{written:?}");
    for (name, bytes) in &written {
        assert!(
            name == "s2" || *bytes > 0,
            "{name} changed something, so it wrote something: {written:?}"
        );
    }

    let guid = fixture.dataset_info().guid;
    // Every path's versions, and those of names that are not UTF-8 or hold a newline by
    // their exact bytes.
    let full_dump = |indexer: &Indexer| -> Vec<String> {
        let mut lines = dump(&fixture, indexer, guid);
        for bytes in [
            &b"hostile/caf\xe9.txt"[..],
            b"hostile/new-\xff.txt",
            b"hostile/new\nline.txt",
            format!("hostile/{deep}deep.txt").as_bytes(),
        ] {
            let versions = indexer
                .store()
                .versions_of(guid, &RelativePath::new(bytes).unwrap())
                .unwrap();
            let versions: Vec<String> = versions
                .iter()
                .map(|version| format!("{:?} {:?}", version.signature, version.snapshots))
                .collect();
            lines.push(format!("{bytes:?}: {versions:?}"));
        }
        lines
    };
    let mut results: Vec<(MethodPolicy, SyncReport, Vec<String>)> = Vec::new();
    for policy in [
        MethodPolicy::Diff,
        MethodPolicy::Walk,
        MethodPolicy::Objects,
        MethodPolicy::Adaptive,
    ] {
        let state = tempfile::tempdir().unwrap();
        let store = Arc::new(IndexStore::open(&state.path().join("index")).unwrap());
        let indexer = Indexer::with_policy(store, fixture.zfs.clone(), policy);
        let report = fixture.sync(&indexer);
        assert!(
            indexer.store().check_consistency().unwrap().is_consistent(),
            "{policy:?}"
        );
        // A second run changes nothing.
        let before = full_dump(&indexer);
        fixture.sync(&indexer);
        assert_eq!(full_dump(&indexer), before, "{policy:?}");
        results.push((policy, report, before));
    }
    let (_, diff_report, diff_dump) = &results[0];
    assert!(diff_dump.len() >= 10, "{diff_dump:#?}");
    for (policy, report, dumped) in &results {
        assert_eq!(dumped, diff_dump, "{policy:?} differs from diff");
        assert_eq!(report.indexed, ["s1", "s2", "s3", "s4", "s5"], "{policy:?}");
        assert_eq!(report.unchanged, 1, "{policy:?}: s2 wrote nothing");
    }
    // s3, s4, s5 and live: four comparisons besides the first walk.
    assert_eq!((diff_report.diffs, diff_report.full_walks), (4, 1));
    let walk_report = &results[1].1;
    assert_eq!((walk_report.diffs, walk_report.full_walks), (0, 5));
    // Objects for s3, s4 and s5; live has no stream and is walked.
    let objects_report = &results[2].1;
    assert_eq!(
        (
            objects_report.object_comparisons,
            objects_report.diffs,
            objects_report.full_walks
        ),
        (3, 0, 2)
    );
    // Adaptively objects first (nothing measured yet); on a dataset this small the first
    // comparison (no stored fingerprints: every streamed object stat-ed) costs more than a
    // walk, so walks or diffs may follow.
    let adaptive_report = &results[3].1;
    assert!(
        adaptive_report.object_comparisons >= 1,
        "{adaptive_report:?}"
    );
    assert!(adaptive_report.fallbacks.is_empty(), "{adaptive_report:?}");
    assert_eq!(
        adaptive_report.diffs + adaptive_report.full_walks + adaptive_report.object_comparisons,
        5
    );

    let versions = |path: &str| -> Vec<String> {
        diff_dump
            .iter()
            .filter(|line| line.starts_with(&format!("{path}: ")))
            .cloned()
            .collect()
    };
    // Moved into a replacing directory, yet one unchanged version in every snapshot.
    let notes = versions("docs/notes.md");
    assert_eq!(notes.len(), 1, "{diff_dump:#?}");
    assert!(notes[0].contains("s1") && notes[0].contains("s5") && notes[0].contains("live=true"));
    let deleted = versions("keep/a.txt");
    assert!(
        deleted[0].contains("s2") && !deleted[0].contains("s3"),
        "{deleted:?}"
    );
    // Hostile names: two versions of the Latin-1 name, one of the new one, both long names.
    let raw_versions = |bytes: &[u8]| -> usize {
        let key = format!("{bytes:?}: ");
        let line = diff_dump
            .iter()
            .find(|line| line.starts_with(&key))
            .unwrap();
        line.matches("Signature").count()
    };
    assert_eq!(raw_versions(b"hostile/caf\xe9.txt"), 2, "{diff_dump:#?}");
    assert_eq!(raw_versions(b"hostile/new-\xff.txt"), 1);
    assert_eq!(
        raw_versions(format!("hostile/{deep}deep.txt").as_bytes()),
        2
    );
    assert_eq!(versions(&long("l")).len(), 1);
    assert_eq!(versions(&long("m")).len(), 1);
    // The new name of a hard link is there from s3 on, by every method.
    let linked = versions("linked/second-name.txt");
    assert_eq!(linked.len(), 1, "{diff_dump:#?}");
    assert!(linked[0].contains("s3") && linked[0].contains("live=true"));
}

#[test]
fn object_comparisons_one_snapshot_per_run_match_diff_and_skip_unchanged_neighbours() {
    let fixture = fixture("objects");
    for index in 0..200 {
        fixture.write(&format!("many/file-{index:03}.txt"), b"one of many");
    }
    fixture.write("docs/report.txt", b"draft");
    let guid = fixture.dataset_info().guid;
    let indexer_with = |policy| {
        let state = tempfile::tempdir().unwrap();
        let store = Arc::new(IndexStore::open(&state.path().join("index")).unwrap());
        (
            Indexer::with_policy(store, fixture.zfs.clone(), policy),
            state,
        )
    };
    let (objects, _objects_state) = indexer_with(MethodPolicy::Objects);
    let (diff, _diff_state) = indexer_with(MethodPolicy::Diff);
    let mut changed_per_round = Vec::new();
    let mut decoded_per_round = Vec::new();
    let at = |path: &str| fixture.mountpoint.join(path);
    let rounds: [&dyn Fn(); 6] = [
        &|| {},
        &|| fixture.write("many/file-100.txt", b"changed in place"),
        &|| fixture.write("many/file-100.txt", b"changed in place, again"),
        &|| fs::rename(at("many/file-100.txt"), at("docs/moved.txt")).unwrap(),
        &|| fs::rename(at("docs/moved.txt"), at("many/back.txt")).unwrap(),
        &|| fs::remove_file(at("many/back.txt")).unwrap(),
    ];
    for (round, change) in rounds.iter().enumerate() {
        change();
        fixture.snapshot(&format!("r{round}"));
        let report = fixture.sync(&objects);
        fixture.sync(&diff);
        assert_eq!(
            dump(&fixture, &objects, guid),
            dump(&fixture, &diff, guid),
            "round {round}"
        );
        if round > 0 {
            assert_eq!(report.object_comparisons, 1, "round {round}: {report:?}");
            changed_per_round.push((round, report.streamed_objects, report.changed_objects));
            decoded_per_round.push((round, report.decoded_objects));
        }
    }
    // Changed files are read from their bonus buffers once a stat confirmed the layout
    // (in round 1): round 2's file changed in place, in a directory that did not change.
    assert!(
        decoded_per_round
            .iter()
            .any(|&(round, decoded)| round == 2 && decoded >= 1),
        "{decoded_per_round:?}"
    );
    // The stream carries the allocated objects of every dnode block that changed (up to 32
    // per 16 KiB block; fewer when the block is partly free, or when ZFS handed object
    // numbers out of per-CPU chunks, so the count is not fixed). Fingerprints are stored for
    // the objects a stream carried, so the first time a block comes (round 1: the walk of r0
    // stored none) each of its objects is a candidate; afterwards the stored fingerprints
    // leave the few that changed: the file, and its directories when an entry came or went
    // (plus ZFS's own bookkeeping objects, which no path names). Rounds 3 and 5 bring
    // blocks for the first time (the directories'; ZFS's delete queue's), rounds 2 and 4 none:
    // there the file's unchanged neighbours came in the stream and were left out.
    let (_, first_streamed, first_changed) = changed_per_round[0];
    assert!(first_streamed >= 2, "{changed_per_round:?}");
    assert!(first_changed >= first_streamed, "{changed_per_round:?}");
    for &(round, streamed, changed) in &changed_per_round {
        if round == 2 || round == 4 {
            assert!(streamed > changed, "round {round}: {changed_per_round:?}");
            assert!(changed <= 6, "round {round}: {changed_per_round:?}");
        }
    }
    let moved = fixture.versions(&objects, "docs/moved.txt");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].snapshots, ["r3"]);
    assert_eq!(
        fixture.paths(&objects, "file-100", true),
        ["many/file-100.txt"]
    );
    assert_eq!(
        fixture.versions(&objects, "many/file-100.txt").len(),
        3,
        "written once, changed twice"
    );
    assert_eq!(fixture.paths(&objects, "back", true), ["many/back.txt"]);
}

/// A version as `wizfs versions --json` shows it: size, modification time, whether it is
/// the live file, and the snapshots (full names, `None` live) with their creation times.
type Shown = (u64, i64, bool, Vec<(Option<String>, Option<String>)>);

fn shown_by_the_walk(versions: &[wizfs_core::versions::FileVersion]) -> Vec<Shown> {
    use wizfs_core::versions::VersionSource;
    versions
        .iter()
        .map(|version| {
            let sources = version
                .sources
                .iter()
                .map(|source| match source {
                    VersionSource::Live => (None, None),
                    VersionSource::Snapshot { name, creation, .. } => {
                        (Some(name.to_string()), Some(creation.to_string()))
                    }
                })
                .collect();
            (
                version.metadata.size,
                version.metadata.modified.seconds,
                version.is_live,
                sources,
            )
        })
        .collect()
}

fn shown_by_the_cli(json: &serde_json::Value) -> Vec<Shown> {
    let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
    json.as_array()
        .expect("a list of versions")
        .iter()
        .map(|version| {
            let sources = version["sources"]
                .as_array()
                .expect("sources")
                .iter()
                .map(|source| (text(&source["snapshot"]), text(&source["created"])))
                .collect();
            (
                version["size"].as_u64().expect("size"),
                version["modified_unix"].as_i64().expect("modified_unix"),
                version["is_live"].as_bool().expect("is_live"),
                sources,
            )
        })
        .collect()
}

/// The CLI's quick path for `wizfs versions` (the kernel's mount table, the snapshot names
/// and objset ids of `.zfs/snapshot`, the index catalogue alone; `wizfs_cli::quick`) on real
/// OpenZFS: the inode numbers of `.zfs/snapshot` give each snapshot's `objsetid`; the index
/// is found current exactly when its snapshots are the ones listed; its answer equals the walk
/// through every snapshot; and after a snapshot is destroyed and made again under the same
/// name with other contents, or a snapshot is added, the index is not current (another objset
/// id) and `wizfs versions` still answers as the walk does.
#[test]
fn quick_versions_match_the_walk_and_give_way_when_the_snapshots_change() {
    use wizfs_core::versions::VersionIdentity;
    use wizfs_index::CatalogueReader;
    use wizfs_zfs::mounts;

    let fixture = fixture("quick");
    let file = RelativePath::new(b"docs/a.txt").unwrap();
    let absolute = fixture.mountpoint.join("docs/a.txt");
    for (round, contents) in ["one", "two two", "three three three"].iter().enumerate() {
        fixture.write("docs/a.txt", contents.as_bytes());
        fixture.write("other.txt", format!("{round}").as_bytes());
        fixture.snapshot(&format!("s{}", round + 1));
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    fixture.write("docs/a.txt", b"four four four four");
    let index = fixture.state.path().join("index");
    let recovery =
        wizfs_recovery::Recovery::new(fixture.zfs.clone(), Arc::new(wizfs_recovery::system_clock));
    let walk = || {
        shown_by_the_walk(
            &recovery
                .versions(&fixture.dataset, &file, VersionIdentity::Metadata)
                .expect("walk"),
        )
    };
    let cli = || {
        let output = Command::new(fixture.environment.bin_dir.join("wizfs"))
            .arg("--data-dir")
            .arg(fixture.state.path())
            .args(["--json", "versions"])
            .arg(&absolute)
            .output()
            .expect("run wizfs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        shown_by_the_cli(&serde_json::from_slice(&output.stdout).expect("JSON"))
    };
    let seen = || -> Vec<(String, u64)> {
        mounts::snapshot_entries(&fixture.mountpoint)
            .expect(".zfs/snapshot")
            .into_iter()
            .map(|entry| (entry.name, entry.objsetid))
            .collect()
    };
    let objsetid = |short: &str| -> u64 {
        wizfs_tests::vm::run(&[
            "zfs",
            "get",
            "-H",
            "-p",
            "-o",
            "value",
            "objsetid",
            &format!("{}@{short}", fixture.dataset),
        ])
        .trim()
        .parse()
        .expect("objsetid")
    };
    let current = || {
        CatalogueReader::open(&index)
            .expect("catalogue")
            .current_versions(fixture.dataset.as_str(), &seen(), &file)
            .expect("read")
    };

    // The kernel's view: this dataset in the mount table; each snapshot's objset id from
    // its `.zfs/snapshot` entry, as `zfs get objsetid` gives it (and nothing got mounted).
    let mounted = mounts::mounted_filesystems().expect("mountinfo");
    assert!(
        mounted.iter().any(|mount| mount.dataset == fixture.dataset
            && mount.mountpoint == fixture.mountpoint),
        "{mounted:?}"
    );
    let listed = seen();
    assert_eq!(listed.len(), 3, "{listed:?}");
    for (name, id) in &listed {
        assert_eq!(*id, objsetid(name), "objset id of @{name}");
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(&format!("{}@", fixture.dataset)),
        "reading .zfs/snapshot mounted a snapshot: {mountinfo}"
    );

    // Indexed: current, and the quick answer is the walk's.
    // Index, then close the index (the catalogue is opened once per process).
    let sync = || {
        let indexer = fixture.indexer();
        fixture.sync(&indexer);
    };
    sync();
    let indexed = current().expect("the index is current");
    let snapshots: Vec<_> = indexed
        .snapshots
        .iter()
        .map(|snapshot| {
            (
                fixture.dataset.snapshot(&snapshot.name).unwrap(),
                snapshot.createtxg,
                wizfs_core::Timestamp(snapshot.identity.expect("identity").creation),
            )
        })
        .collect();
    let live = wizfs_restore::SafeRoot::open_live(&fixture.mountpoint)
        .unwrap()
        .lookup(&file)
        .unwrap()
        .present();
    let quick = wizfs_index::fold_versions(&snapshots, &indexed.versions, live).expect("a file");
    assert_eq!(shown_by_the_walk(&quick), walk());
    assert_eq!(walk().len(), 4, "{:#?}", walk());
    assert_eq!(cli(), walk());

    // @s3 destroyed and made again under its name with other contents: another objset id,
    // so the index is not current, and the CLI's answer is the walk's (with the new @s3).
    let old = objsetid("s3");
    wizfs_tests::vm::run(&["zfs", "destroy", &format!("{}@s3", fixture.dataset)]);
    fixture.write("docs/a.txt", b"made again");
    fixture.snapshot("s3");
    assert_ne!(
        objsetid("s3"),
        old,
        "a snapshot made again has a new objset id"
    );
    assert_eq!(current(), None, "a snapshot made again under its name");
    let answer = cli();
    assert_eq!(answer, walk());
    assert!(
        answer
            .iter()
            .any(|(size, _, _, _)| *size == "made again".len() as u64),
        "{answer:#?}"
    );

    // Indexed again: current again. A new snapshot: not current until indexed.
    sync();
    assert!(current().is_some());
    assert_eq!(cli(), walk());
    fixture.write("docs/a.txt", b"newest contents");
    fixture.snapshot("s4");
    assert_eq!(current(), None, "a snapshot the index has not seen");
    assert_eq!(cli(), walk());
}
