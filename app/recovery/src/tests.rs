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
            wizfs_restore::ArchiveFormat::Tar,
            &mut archive,
        )
        .unwrap();
    assert_eq!(written, archive.len() as u64);
    let text = String::from_utf8_lossy(&archive);
    assert!(text.contains("ä photo.jpg"), "non-ASCII names kept");
}

/// Issue 19, item 1: `docs/d2/report.txt` was in snapshot `before`; then `docs/d2` became a
/// symlink (to another directory), live and in snapshot `after`.
fn parent_replaced_by_a_symlink() -> (Setup, SnapshotName, SnapshotName) {
    let setup = setup();
    setup.write("docs/d2/report.txt", b"the report");
    setup.write("elsewhere/report.txt", b"another file behind the symlink");
    let before = setup.snapshot("before");
    std::fs::remove_dir_all(setup.mountpoint.join("docs/d2")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", setup.mountpoint.join("docs/d2")).unwrap();
    let after = setup.snapshot("after");
    (setup, before, after)
}

fn copy_request(snapshot: &SnapshotName, path: &str, into: Option<&str>) -> RestoreRequest {
    RestoreRequest {
        snapshot: snapshot.clone(),
        path: Setup::path(path),
        target: RestoreTarget::Copy {
            into: into.map(Setup::path),
        },
        strategy: DirectoryStrategy::Merge,
    }
}

#[test]
fn a_path_behind_a_symlink_is_absent_there_and_listed_where_it_exists() {
    let (setup, before, _after) = parent_replaced_by_a_symlink();
    let path = Setup::path("docs/d2/report.txt");
    for identity in [VersionIdentity::Metadata, VersionIdentity::Content] {
        let versions = setup
            .recovery
            .versions(&setup.dataset, &path, identity)
            .unwrap();
        assert_eq!(versions.len(), 1, "{versions:?}");
        assert!(!versions[0].is_live);
        assert_eq!(versions[0].sources.len(), 1, "{versions:?}");
        assert!(
            matches!(&versions[0].sources[0], VersionSource::Snapshot { name, .. } if *name == before),
            "{versions:?}"
        );
    }
    assert_eq!(
        setup.recovery.stat(&setup.dataset, None, &path).unwrap(),
        None
    );
    assert!(
        setup
            .recovery
            .stat(&setup.dataset, Some(&before), &path)
            .unwrap()
            .is_some()
    );
    // Browsing through the symlink stays refused.
    let error = setup
        .recovery
        .list_directory(&setup.dataset, None, &Setup::path("docs/d2"))
        .unwrap_err();
    assert!(error.to_string().contains("symbolic link"), "{error}");
}

#[test]
fn a_path_behind_a_symlink_restores_as_a_copy_into_another_directory() {
    let (setup, before, after) = parent_replaced_by_a_symlink();
    std::fs::create_dir(setup.mountpoint.join("recovered")).unwrap();
    let request = copy_request(&before, "docs/d2/report.txt", Some("recovered"));
    let plan = setup.recovery.plan(&request).unwrap();
    assert_eq!(plan.destination, Setup::path("recovered/report.txt"));
    assert!(plan.guard_snapshot.is_none());
    let (_, report) = setup.recovery.restore(&request, &mut |_| {}).unwrap();
    assert_eq!(report.files, 1);
    assert_eq!(
        std::fs::read(setup.mountpoint.join("recovered/report.txt")).unwrap(),
        b"the report"
    );
    // The snapshot where the parent is a symlink does not hold the file.
    let error = setup
        .recovery
        .plan(&copy_request(
            &after,
            "docs/d2/report.txt",
            Some("recovered"),
        ))
        .unwrap_err();
    assert!(
        matches!(error, RecoveryError::Plan(PlanError::NotInSnapshot { .. })),
        "{error:?}"
    );
    // The file behind the symlink is untouched.
    assert_eq!(
        std::fs::read(setup.mountpoint.join("elsewhere/report.txt")).unwrap(),
        b"another file behind the symlink"
    );
}

#[test]
fn in_place_and_next_to_it_are_refused_with_the_copy_that_works_instead() {
    let (setup, before, _after) = parent_replaced_by_a_symlink();
    let snapshots_before = setup
        .recovery
        .zfs()
        .list_snapshots(&setup.dataset, Scope::Dataset)
        .unwrap()
        .len();
    let in_place = RestoreRequest {
        snapshot: before.clone(),
        path: Setup::path("docs/d2/report.txt"),
        target: RestoreTarget::Original,
        strategy: DirectoryStrategy::Merge,
    };
    let next_to_it = copy_request(&before, "docs/d2/report.txt", None);
    std::os::unix::fs::symlink("docs", setup.mountpoint.join("link-to-docs")).unwrap();
    let into_symlink = copy_request(&before, "docs/d2/report.txt", Some("link-to-docs"));
    let into_behind = copy_request(&before, "docs/d2/report.txt", Some("docs/d2/sub"));
    for (request, destination, shown, symlink, words) in [
        (
            &in_place,
            Destination::InPlace,
            "docs/d2/report.txt",
            "docs/d2",
            "cannot be restored in place",
        ),
        (
            &next_to_it,
            Destination::NextToOriginal,
            "docs/d2/report.txt",
            "docs/d2",
            "cannot be put next to it",
        ),
        (
            &into_symlink,
            Destination::Into,
            "link-to-docs",
            "link-to-docs",
            "cannot restore into `link-to-docs`",
        ),
        (
            &into_behind,
            Destination::Into,
            "docs/d2/sub",
            "docs/d2",
            "cannot restore into `docs/d2/sub`",
        ),
    ] {
        for attempt in [
            setup.recovery.plan(request).map(|_| ()),
            setup.recovery.restore(request, &mut |_| {}).map(|_| ()),
        ] {
            let error = attempt.unwrap_err();
            match &error {
                RecoveryError::Restore(RestoreError::LiveSymlinkOnPath {
                    destination: found,
                    path,
                    symlink: found_symlink,
                }) => {
                    assert_eq!(*found, destination);
                    assert_eq!(path, &Setup::path(shown));
                    assert_eq!(found_symlink, &Setup::path(symlink));
                }
                other => panic!("expected LiveSymlinkOnPath, got {other:?}"),
            }
            let message = error.to_string();
            assert!(message.contains(words), "{message}");
            assert!(
                message.contains(&format!("`{symlink}` is a symbolic link")),
                "{message}"
            );
            if destination != Destination::Into {
                assert!(message.contains("--into DIR"), "{message}");
            }
        }
    }
    // Nothing was written and no guard snapshot was taken.
    assert_eq!(
        setup
            .recovery
            .zfs()
            .list_snapshots(&setup.dataset, Scope::Dataset)
            .unwrap()
            .len(),
        snapshots_before
    );
    assert_eq!(
        std::fs::read(setup.mountpoint.join("elsewhere/report.txt")).unwrap(),
        b"another file behind the symlink"
    );
    assert_eq!(
        std::fs::read_dir(setup.mountpoint.join("elsewhere"))
            .unwrap()
            .count(),
        1
    );
}
#[test]
fn the_longest_mountpoint_above_a_path_holds_it() {
    use std::path::Path;
    let mounts = [
        ("tank", Path::new("/tank")),
        ("tank/a", Path::new("/tank/a")),
        ("relative", Path::new("tank/ab")),
    ];
    let (found, mountpoint, below) =
        crate::locate_in_mounts(mounts, Path::new("/tank/a/docs/x.txt")).unwrap();
    assert_eq!((found, mountpoint), ("tank/a", Path::new("/tank/a")));
    assert_eq!(below.unwrap().as_bytes(), b"docs/x.txt");
    let (found, _, below) = crate::locate_in_mounts(mounts, Path::new("/tank/ab/y")).unwrap();
    assert_eq!((found, below.unwrap().as_bytes()), ("tank", &b"ab/y"[..]));
    let (_, _, root) = crate::locate_in_mounts(mounts, Path::new("/tank/a")).unwrap();
    assert!(root.unwrap().is_root());
    assert!(crate::locate_in_mounts(mounts, Path::new("/elsewhere")).is_none());
}
