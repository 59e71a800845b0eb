//! Platform tests of the snapshot index on real OpenZFS in the VM: a history of file
//! creations, changes, renames and deletions across real snapshots gives exactly the
//! expected search, versions and deleted-file answers; destroying a middle and the last
//! snapshot updates them; snapshots made outside WiZFS are picked up; SIGKILL of the
//! indexer at many moments leaves a consistent index equal to one built without
//! interruption; hostile names index and search.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use wizfs_core::{Dataset, DatasetName, RelativePath};
use wizfs_index::{IndexStore, SearchQuery, VersionEntry};
use wizfs_indexer::Indexer;
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::{CliZfs, DestroyOptions, Zfs};

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
        Indexer::new(store, self.zfs.clone())
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
        .args(["index", fixture.dataset.as_str()])
        .status()
        .unwrap();
    assert!(clean.success());

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
