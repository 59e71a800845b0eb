//! Tests of `SafeRoot`: path resolution refuses symlinks, escapes and mount crossings; reads
//! describe entries completely; tree listings have the promised order.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::time::{Duration, UNIX_EPOCH};

use rustix::fs::{FileType, Mode};
use wizfs_core::{EntryKind, RelativePath};

use super::MountCheck;
use crate::test_support::{Fixture, path, write_file};
use crate::{Lookup, RestoreError, SafeRoot, missing_ancestors};

fn paths(entries: &[wizfs_core::TreeEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| String::from_utf8_lossy(entry.path.as_bytes()).into_owned())
        .collect()
}

#[test]
fn a_symlink_anywhere_in_a_path_is_refused() {
    let fixture = Fixture::new();
    fixture.write("real/file.txt", b"inside");
    symlink("real", fixture.live_path("link")).unwrap();
    symlink("/etc", fixture.live_path("outside")).unwrap();
    symlink("..", fixture.live_path("real/up")).unwrap();
    let live = fixture.live();

    for (request, symlink_at) in [
        ("link/file.txt", "link"),
        ("outside/passwd", "outside"),
        ("real/up/real/file.txt", "real/up"),
    ] {
        let error = live.open_regular_file(&path(request)).unwrap_err();
        match &error {
            RestoreError::SymlinkInPath {
                path: refused,
                symlink,
            } => {
                assert_eq!(refused, &path(request));
                assert_eq!(symlink, &path(symlink_at));
            }
            other => panic!("{request}: expected SymlinkInPath, got {other:?}"),
        }
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert!(matches!(
            live.stat(&path(request)),
            Err(RestoreError::SymlinkInPath { .. })
        ));
        // `lookup` says the same without failing: the path is not in this tree.
        assert_eq!(
            live.lookup(&path(request)).unwrap(),
            Lookup::BehindSymlink(path(symlink_at)),
            "{request}"
        );
        assert_eq!(live.lookup(&path(request)).unwrap().present(), None);
    }
    assert!(matches!(
        live.lookup(&path("outside")).unwrap(),
        Lookup::Present(metadata) if metadata.kind == EntryKind::Symlink
    ));
    assert_eq!(live.lookup(&path("missing/file")).unwrap(), Lookup::Absent);
    assert!(matches!(
        live.lookup(&path("real/file.txt")).unwrap(),
        Lookup::Present(metadata) if metadata.kind == EntryKind::File
    ));
    assert!(matches!(
        live.list_directory(&path("outside")),
        Err(RestoreError::SymlinkInPath { .. })
    ));

    // The symlink itself is described, never followed.
    let link = live.stat(&path("outside")).unwrap().unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert_eq!(link.symlink_target.as_deref(), Some(&b"/etc"[..]));
    assert_eq!(link.size, 4);
    assert!(matches!(
        live.open_regular_file(&path("outside")),
        Err(RestoreError::NotARegularFile {
            kind: EntryKind::Symlink,
            ..
        })
    ));
    assert_eq!(
        live.read_prefix(&path("real/file.txt"), 100).unwrap(),
        b"inside"
    );
}

#[test]
fn escaping_paths_cannot_even_be_built() {
    for bad in [
        &b".."[..],
        b"a/../../etc",
        b"/etc/passwd",
        b"a\0b",
        b"./a",
        b"a//b",
    ] {
        assert!(RelativePath::new(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_control_directory_is_refused() {
    let fixture = Fixture::new();
    fixture.write("file", b"x");
    fixture.snapshot("first");
    let live = fixture.live();
    assert!(matches!(
        live.stat(&path(".zfs/snapshot/first/file")),
        Err(RestoreError::ControlDirectory { .. })
    ));
    assert!(matches!(
        live.list_directory(&path(".zfs")),
        Err(RestoreError::ControlDirectory { .. })
    ));
}

#[test]
fn fifos_devices_and_directories_are_not_opened_as_files() {
    let fixture = Fixture::new();
    fs::create_dir(fixture.live_path("dir")).unwrap();
    let live = fixture.live();
    let directory = fs::File::open(&fixture.mountpoint).unwrap();
    rustix::fs::mknodat(
        &directory,
        "pipe",
        FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let error = live.open_regular_file(&path("pipe")).unwrap_err();
    assert!(matches!(
        error,
        RestoreError::NotARegularFile {
            kind: EntryKind::Fifo,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "`pipe` is a FIFO: WiZFS only reads regular files"
    );
    assert!(live.read_prefix(&path("pipe"), 10).is_err());

    let device = rustix::fs::makedev(1, 3);
    match rustix::fs::mknodat(
        &directory,
        "null",
        FileType::CharacterDevice,
        Mode::from_raw_mode(0o644),
        device,
    ) {
        Ok(()) => {
            let error = live.open_regular_file(&path("null")).unwrap_err();
            assert!(
                matches!(
                    error,
                    RestoreError::NotARegularFile {
                        kind: EntryKind::CharacterDevice,
                        ..
                    }
                ),
                "{error:?}"
            );
            assert!(
                error.to_string().contains("is a character device"),
                "{error}"
            );
        }
        Err(errno) => eprintln!("skipping the device part: mknod is not permitted here ({errno})"),
    }
    assert!(matches!(
        live.open_regular_file(&path("dir")),
        Err(RestoreError::NotARegularFile {
            kind: EntryKind::Directory,
            ..
        })
    ));
    assert!(matches!(
        live.open_regular_file(&path("missing")),
        Err(RestoreError::NotFound { .. })
    ));
}

#[test]
fn read_tree_lists_parents_first_sorted_and_without_the_control_directory() {
    let fixture = Fixture::new();
    fixture.write("b/2", b"two");
    fixture.write("b/1", b"one");
    fixture.write("a", b"a");
    fixture.write("c/d/e", b"e");
    fs::create_dir(fixture.live_path("c/empty")).unwrap();
    symlink("b", fixture.live_path("c/link")).unwrap();
    fixture.snapshot("first");
    assert!(fixture.live_path(".zfs").is_dir(), "the fake shows .zfs");
    let live = fixture.live();

    let tree = live.read_tree(&RelativePath::root()).unwrap();
    assert_eq!(
        paths(&tree),
        [
            "", "a", "b", "b/1", "b/2", "c", "c/d", "c/d/e", "c/empty", "c/link"
        ]
    );
    assert_eq!(tree[0].metadata.kind, EntryKind::Directory);
    assert_eq!(
        paths(&live.read_tree(&path("c")).unwrap()),
        ["c", "c/d", "c/d/e", "c/empty", "c/link"]
    );
    assert_eq!(paths(&live.read_tree(&path("b/1")).unwrap()), ["b/1"]);
    assert!(live.read_tree(&path("nothing/here")).unwrap().is_empty());

    let listing = live.list_directory(&RelativePath::root()).unwrap();
    assert_eq!(paths(&listing), ["a", "b", "c"]);
    // The same names with the inode numbers a stat reports, read without a stat.
    let inodes = live.list_inodes(&RelativePath::root()).unwrap();
    let expected: Vec<(Vec<u8>, u64)> = listing
        .iter()
        .map(|entry| (entry.path.as_bytes().to_vec(), entry.metadata.inode))
        .collect();
    assert_eq!(inodes, expected);
    assert!(
        live.list_inodes(&path("nothing"))
            .unwrap_err()
            .is_not_found()
    );
    assert!(matches!(
        live.list_directory(&path("a")),
        Err(RestoreError::NotADirectory { .. })
    ));

    // The snapshot has the same tree.
    let snapshot = fixture.snapshot_root("first");
    assert_eq!(
        paths(&snapshot.read_tree(&path("c")).unwrap()),
        ["c", "c/d", "c/d/e", "c/empty", "c/link"]
    );
    snapshot.forget_snapshot_mount();
}

#[test]
fn metadata_is_read_completely() {
    let fixture = Fixture::new();
    fixture.write("file", b"hello");
    let file_path = fixture.live_path("file");
    fs::set_permissions(&file_path, fs::Permissions::from_mode(0o4751)).unwrap();
    let modified = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    fs::File::options()
        .write(true)
        .open(&file_path)
        .unwrap()
        .set_times(
            fs::FileTimes::new()
                .set_modified(modified)
                .set_accessed(modified),
        )
        .unwrap();
    fs::hard_link(&file_path, fixture.live_path("second-name")).unwrap();
    let metadata = fixture.live().stat(&path("file")).unwrap().unwrap();
    assert_eq!(metadata.kind, EntryKind::File);
    assert_eq!(metadata.size, 5);
    assert_eq!(metadata.mode, 0o4751);
    assert_eq!(metadata.modified.seconds, 1_700_000_000);
    assert_eq!(metadata.modified.nanoseconds, 123_456_789);
    assert_eq!(metadata.links, 2);
    assert_eq!(metadata.inode, crate::test_support::inode(&file_path));
    assert_eq!(
        (metadata.uid, metadata.gid),
        (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw()
        )
    );
    assert!(metadata.allocated >= 512, "{}", metadata.allocated);
    assert!(metadata.symlink_target.is_none());
    assert_eq!(fixture.live().stat(&path("absent")).unwrap(), None);
    assert_eq!(fixture.live().stat(&path("file/below")).unwrap(), None);
}

#[test]
fn snapshot_roots_read_the_snapshot() {
    let fixture = Fixture::new();
    fixture.write("notes.txt", b"version one");
    fixture.snapshot("first");
    fixture.write("notes.txt", b"version two, longer");
    let snapshot = fixture.snapshot_root("first");
    assert_eq!(snapshot.snapshot_short_name(), Some("first"));
    assert_eq!(
        snapshot.read_prefix(&path("notes.txt"), 1024).unwrap(),
        b"version one"
    );
    assert_eq!(
        snapshot.read_prefix(&path("notes.txt"), 7).unwrap(),
        b"version"
    );
    assert_eq!(
        fixture
            .live()
            .read_prefix(&path("notes.txt"), 1024)
            .unwrap(),
        b"version two, longer"
    );
    assert!(fixture.live().snapshot_short_name().is_none());
    // In the fake the snapshot is no mount: forgetting it is a harmless no-op.
    snapshot.forget_snapshot_mount();

    assert!(matches!(
        SafeRoot::open_snapshot(&fixture.mountpoint, "../first"),
        Err(RestoreError::InvalidSnapshotName { .. })
    ));
    assert!(matches!(
        SafeRoot::open_snapshot(&fixture.mountpoint, "nonexistent"),
        Err(RestoreError::OpenRoot { .. })
    ));
    symlink(&fixture.mountpoint, fixture.live_path("loop")).unwrap();
    assert!(matches!(
        SafeRoot::open_live(&fixture.live_path("loop")),
        Err(RestoreError::OpenRoot { .. })
    ));
}

#[test]
fn a_snapshot_that_does_not_mount_is_reported_missing_at_once_when_zfs_no_longer_lists_it() {
    let fixture = Fixture::new();
    fixture.snapshot("gone");
    let asked = std::cell::Cell::new(0);
    let never_mounted = |_: std::os::fd::BorrowedFd<'_>, _: std::os::fd::BorrowedFd<'_>| Ok(false);
    let check = MountCheck {
        attempts: 4,
        pause: Duration::from_millis(1),
        is_mounted: &never_mounted,
    };
    // ZFS no longer lists it: no waiting, "does not exist", a not-found class.
    let error = SafeRoot::open_snapshot_with(
        &fixture.mountpoint,
        "gone",
        &|| {
            asked.set(asked.get() + 1);
            false
        },
        &check,
    )
    .unwrap_err();
    assert!(
        matches!(&error, RestoreError::SnapshotMissing { name, .. } if name == "gone"),
        "{error:?}"
    );
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("does not exist"), "{error}");
    assert_eq!(asked.get(), 1);
    // It is listed: ZFS is asked once, then the mount is waited for as before.
    asked.set(0);
    let error = SafeRoot::open_snapshot_with(
        &fixture.mountpoint,
        "gone",
        &|| {
            asked.set(asked.get() + 1);
            true
        },
        &check,
    )
    .unwrap_err();
    assert!(
        matches!(error, RestoreError::SnapshotNotMounted { .. }),
        "{error:?}"
    );
    assert_eq!(asked.get(), 1);
    // A mounted snapshot never makes anyone ask.
    let root = SafeRoot::open_snapshot_checked(&fixture.mountpoint, "gone", &|| {
        panic!("a mounted snapshot needs no existence check")
    })
    .unwrap();
    assert_eq!(root.snapshot_short_name(), Some("gone"));
}

#[test]
fn missing_ancestors_are_the_deleted_directories_outermost_first() {
    let fixture = Fixture::new();
    fixture.write("a/b/c/file.txt", b"data");
    fixture.snapshot("first");
    fs::remove_dir_all(fixture.live_path("a/b")).unwrap();
    let live = fixture.live();
    let snapshot = fixture.snapshot_root("first");
    let missing = missing_ancestors(&live, &snapshot, &path("a/b/c/file.txt")).unwrap();
    assert_eq!(paths(&missing), ["a/b", "a/b/c"]);
    assert!(
        missing
            .iter()
            .all(|entry| entry.metadata.kind == EntryKind::Directory)
    );
    assert!(
        missing_ancestors(&live, &snapshot, &path("a/x"))
            .unwrap()
            .is_empty()
    );
    assert!(
        missing_ancestors(&live, &snapshot, &path("top"))
            .unwrap()
            .is_empty()
    );
}

/// Unmounts the test mount even when an assertion fails.
struct MountGuard(std::path::PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

#[test]
fn crossing_into_another_mount_is_refused() {
    let fixture = Fixture::new();
    fixture.write("child/hidden-below-the-mount", b"x");
    let target = fixture.live_path("child");
    if let Err(errno) = rustix::mount::mount(
        "wizfs-test",
        &target,
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    ) {
        eprintln!(
            "skipping: cannot mount a tmpfs here ({errno}); mount crossing is covered in the VM"
        );
        return;
    }
    let _guard = MountGuard(target.clone());
    write_file(&target.join("inside.txt"), b"other file system");
    let live = fixture.live();
    match live
        .open_regular_file(&path("child/inside.txt"))
        .unwrap_err()
    {
        RestoreError::CrossesMount { mount_point, .. } => assert_eq!(mount_point, path("child")),
        other => panic!("expected CrossesMount, got {other:?}"),
    }
    assert!(matches!(
        live.read_tree(&path("child/inside.txt")),
        Err(RestoreError::CrossesMount { .. })
    ));
    // The mountpoint itself is listed, its content is not.
    let tree = live.read_tree(&RelativePath::root()).unwrap();
    assert_eq!(paths(&tree), ["", "child"]);
    assert_eq!(paths(&live.read_tree(&path("child")).unwrap()), ["child"]);
}
