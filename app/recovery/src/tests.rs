//! Tests of the recovery use-cases over `FakeZfs` (its snapshots are real directories under
//! `.zfs/snapshot`, so the same file-system code runs as on ZFS). The same behaviours are
//! proven on real OpenZFS by `tests/platform/restore.rs` in the VM.

use super::*;
use wizfs_core::PoolName;
use wizfs_core::restore::DirectoryStrategy;
use wizfs_zfs::FakeZfs;

struct Setup {
    _directory: tempfile::TempDir,
    recovery: Recovery,
    dataset: DatasetName,
    mountpoint: PathBuf,
}

fn setup() -> Setup {
    let directory = tempfile::tempdir().unwrap();
    let fake = FakeZfs::open(directory.path()).unwrap();
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let dataset = DatasetName::new("tank/home").unwrap();
    fake.create_filesystem(&dataset, &[]).unwrap();
    let mountpoint = fake.mountpoint(&dataset).unwrap();
    let recovery = Recovery::new(Arc::new(fake), Arc::new(|| Timestamp(1_795_600_000)));
    Setup {
        _directory: directory,
        recovery,
        dataset,
        mountpoint,
    }
}

impl Setup {
    fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.mountpoint.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn snapshot(&self, short: &str) -> SnapshotName {
        let name = self.dataset.snapshot(short).unwrap();
        self.recovery
            .zfs()
            .create_snapshots(std::slice::from_ref(&name), false, &[])
            .unwrap();
        name
    }

    fn path(text: &str) -> RelativePath {
        RelativePath::new(text.as_bytes()).unwrap()
    }
}

#[test]
fn locate_finds_the_deepest_mounted_dataset() {
    let setup = setup();
    let location = setup
        .recovery
        .locate(&setup.mountpoint.join("alice/notes.txt"))
        .unwrap();
    assert_eq!(location.dataset, setup.dataset);
    assert_eq!(location.path.as_bytes(), b"alice/notes.txt");
    let error = setup
        .recovery
        .locate(Path::new("/definitely/not/zfs"))
        .unwrap_err();
    assert!(
        matches!(error, RecoveryError::NotInAnyDataset(_)),
        "{error:?}"
    );
}

#[test]
fn browse_live_and_as_of_a_snapshot() {
    let setup = setup();
    setup.write("docs/a.txt", b"a");
    let snapshot = setup.snapshot("one");
    setup.write("docs/b.txt", b"b");
    std::fs::remove_file(setup.mountpoint.join("docs/a.txt")).unwrap();
    let names = |snapshot: Option<&SnapshotName>| -> Vec<Vec<u8>> {
        let entries = setup
            .recovery
            .list_directory(&setup.dataset, snapshot, &Setup::path("docs"))
            .unwrap();
        entries
            .iter()
            .map(|entry| entry.path.file_name().unwrap().to_vec())
            .collect()
    };
    assert_eq!(names(None), [b"b.txt".to_vec()]);
    assert_eq!(names(Some(&snapshot)), [b"a.txt".to_vec()]);
    let missing = setup.dataset.snapshot("never").unwrap();
    let error = setup
        .recovery
        .list_directory(&setup.dataset, Some(&missing), &RelativePath::root())
        .unwrap_err();
    assert!(
        matches!(error, RecoveryError::SnapshotNotFound(_)),
        "{error:?}"
    );
    let other = DatasetName::new("tank").unwrap().snapshot("x").unwrap();
    let error = setup
        .recovery
        .list_directory(&setup.dataset, Some(&other), &RelativePath::root())
        .unwrap_err();
    assert!(
        matches!(error, RecoveryError::WrongDataset { .. }),
        "{error:?}"
    );
}

#[test]
fn versions_plan_and_restore_a_deleted_file() {
    let setup = setup();
    setup.write("notes.txt", b"first");
    setup.snapshot("a");
    setup.snapshot("b");
    setup.write("notes.txt", b"second version");
    let c = setup.snapshot("c");
    std::fs::remove_file(setup.mountpoint.join("notes.txt")).unwrap();
    let versions = setup
        .recovery
        .versions(
            &setup.dataset,
            &Setup::path("notes.txt"),
            VersionIdentity::Metadata,
        )
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].folded_snapshots(), 1);
    assert!(!versions[1].is_live);
    let by_content = setup
        .recovery
        .versions(
            &setup.dataset,
            &Setup::path("notes.txt"),
            VersionIdentity::Content,
        )
        .unwrap();
    assert!(
        by_content
            .iter()
            .all(|version| version.content_digest.is_some())
    );

    let request = RestoreRequest {
        snapshot: c,
        path: Setup::path("notes.txt"),
        target: RestoreTarget::Original,
        strategy: DirectoryStrategy::Merge,
    };
    let plan = setup.recovery.plan(&request).unwrap();
    assert!(
        plan.guard_snapshot.is_some(),
        "a restore in place comes after a guard snapshot"
    );
    assert!(
        !setup.mountpoint.join("notes.txt").exists(),
        "planning changes nothing"
    );
    let (_, report) = setup.recovery.restore(&request, &mut |_| {}).unwrap();
    assert_eq!(report.files, 1);
    assert_eq!(
        std::fs::read(setup.mountpoint.join("notes.txt")).unwrap(),
        b"second version"
    );
}

#[test]
fn text_diff_between_versions() {
    let setup = setup();
    setup.write("list.txt", b"milk\nbread\n");
    let before = setup.snapshot("before");
    setup.write("list.txt", b"milk\nbread\ncoffee\n");
    let diff = setup
        .recovery
        .text_diff(
            &setup.dataset,
            &Setup::path("list.txt"),
            Some(&before),
            None,
        )
        .unwrap();
    assert!(diff.contains("+coffee"), "{diff}");
    assert!(
        diff.contains("(@before)") && diff.contains("(live)"),
        "{diff}"
    );
    setup.write("binary.bin", b"\x00\x01\x02");
    let snapshot = setup.snapshot("bin");
    let error = setup
        .recovery
        .text_diff(
            &setup.dataset,
            &Setup::path("binary.bin"),
            Some(&snapshot),
            None,
        )
        .unwrap_err();
    assert!(
        matches!(error, RecoveryError::NotComparable { .. }),
        "{error:?}"
    );
}

#[test]
fn download_streams_a_tar_of_a_snapshot_directory() {
    let setup = setup();
    setup.write("album/ä photo.jpg", b"jpeg bytes");
    let snapshot = setup.snapshot("s");
    let mut archive = Vec::new();
    let written = setup
        .recovery
        .download(
            &setup.dataset,
            Some(&snapshot),
            &Setup::path("album"),
            &mut archive,
        )
        .unwrap();
    assert_eq!(written, archive.len() as u64);
    let text = String::from_utf8_lossy(&archive);
    assert!(text.contains("ä photo.jpg"), "non-ASCII names kept");
}
