//! Indexer tests over `FakeZfs` (real directories, real `.zfs/snapshot` trees, a faithful
//! `zfs diff`): a history of creations, changes, renames and deletions gives exactly the
//! expected search, versions and deleted-file answers, destroyed snapshots are forgotten,
//! and runs are idempotent. The same scenarios run on real OpenZFS in the VM
//! (`tests/platform/index.rs`).

use super::*;
use std::fs;
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
    let indexer = Indexer::new(store, zfs.clone());
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
    assert!(
        setup
            .indexer
            .store()
            .check_consistency()
            .unwrap()
            .is_consistent()
    );
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
    assert!(
        setup
            .indexer
            .store()
            .check_consistency()
            .unwrap()
            .is_consistent()
    );
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
