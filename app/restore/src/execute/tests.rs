//! Tests of plan execution on `FakeZfs` with hand-built plans: guard snapshots first,
//! atomic placement, no clobbering, sparse files, extended attributes and ownership,
//! whole-directory replacement, and nothing left behind after a failure (not even the guard
//! snapshot when nothing live changed).

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown, symlink};
use std::time::{Duration, UNIX_EPOCH};

use rustix::fs::XattrFlags;
use wizfs_core::EntryKind;
use wizfs_core::restore::{Refusal, RestoreAction};
use wizfs_zfs::{PropertyName, Zfs};

use crate::test_support::{Fixture, inode, metadata_of, path, temporaries_below};
use crate::{ExecutionReport, Progress, RestoreError, execute};

/// Runs `plan` with fresh roots, collecting progress reports.
fn run(
    fixture: &Fixture,
    plan: &wizfs_core::restore::RestorePlan,
) -> (Result<ExecutionReport, RestoreError>, Vec<Progress>) {
    let snapshot = fixture.snapshot_root(plan.snapshot.short_name());
    let live = fixture.live();
    let mut reports = Vec::new();
    let result = execute(plan, &snapshot, &live, &fixture.zfs, &mut |progress| {
        reports.push(progress)
    });
    (result, reports)
}

#[test]
fn a_file_restored_over_its_live_version_takes_the_guard_snapshot_first() {
    let fixture = Fixture::new();
    fixture.write("docs/report.txt", b"the original report");
    let snapshot = fixture.snapshot("daily");
    fixture.write("docs/report.txt", b"overwritten by mistake");
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "docs/report.txt",
        Some("wizfs-guard-test"),
        vec![RestoreAction::WriteFile {
            source: path("docs/report.txt"),
            destination: path("docs/report.txt"),
            metadata: metadata_of(&source, "docs/report.txt"),
            replaces: true,
        }],
    );
    let (result, progress) = run(&fixture, &plan);
    let report = result.unwrap();
    assert_eq!(fixture.read("docs/report.txt"), b"the original report");
    assert_eq!(report.guard_snapshot, plan.guard_snapshot);
    assert_eq!((report.files, report.bytes), (1, 19));
    assert!(
        fixture
            .snapshot_names()
            .contains(&"wizfs-guard-test".to_owned())
    );
    // The guard holds the live version from before the restore.
    let guard_copy = fixture
        .snapshot_directory("wizfs-guard-test")
        .join("docs/report.txt");
    assert_eq!(fs::read(guard_copy).unwrap(), b"overwritten by mistake");
    let guard_property = fixture
        .zfs
        .get_properties(
            &wizfs_core::ZfsObjectName::Snapshot(plan.guard_snapshot.clone().unwrap()),
            &[PropertyName::new("wizfs:guard").unwrap()],
        )
        .unwrap();
    assert_eq!(guard_property[0].value.as_deref(), Some("restore"));
    let last = progress.last().unwrap();
    assert_eq!((last.actions_done, last.actions_total), (1, 1));
    assert_eq!((last.bytes_done, last.bytes_total), (19, 19));
    assert_eq!(last.current, path("docs/report.txt"));
    assert!(temporaries_below(&fixture.mountpoint).is_empty());
}

#[test]
fn a_taken_guard_name_is_replaced_by_a_free_one() {
    let fixture = Fixture::new();
    fixture.write("file", b"one");
    let snapshot = fixture.snapshot("daily");
    fixture.snapshot("guard");
    fixture.write("file", b"two");
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "file",
        Some("guard"),
        vec![RestoreAction::WriteFile {
            source: path("file"),
            destination: path("file"),
            metadata: metadata_of(&source, "file"),
            replaces: true,
        }],
    );
    let report = run(&fixture, &plan).0.unwrap();
    let guard = report.guard_snapshot.unwrap();
    assert_ne!(guard.short_name(), "guard");
    assert!(guard.short_name().starts_with("wizfs-guard-"), "{guard}");
    assert!(guard.short_name().ends_with("-2"), "{guard}");
    assert!(
        fixture
            .snapshot_names()
            .contains(&guard.short_name().to_owned())
    );
    assert_eq!(fixture.read("file"), b"one");
}

#[test]
fn a_copy_never_clobbers_a_file_that_appeared_meanwhile() {
    let fixture = Fixture::new();
    fixture.write("letter.txt", b"from the snapshot");
    let snapshot = fixture.snapshot("daily");
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "letter (restored from daily).txt",
        None,
        vec![RestoreAction::WriteFile {
            source: path("letter.txt"),
            destination: path("letter (restored from daily).txt"),
            metadata: metadata_of(&source, "letter.txt"),
            replaces: false,
        }],
    );
    fixture.write(
        "letter (restored from daily).txt",
        b"someone else's new file",
    );
    let error = run(&fixture, &plan).0.unwrap_err();
    assert!(
        matches!(error, RestoreError::DestinationAppeared { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("left untouched"), "{error}");
    assert_eq!(
        fixture.read("letter (restored from daily).txt"),
        b"someone else's new file"
    );
    assert!(temporaries_below(&fixture.mountpoint).is_empty());

    // Without the intruder the copy is made, and the original is untouched.
    fs::remove_file(fixture.live_path("letter (restored from daily).txt")).unwrap();
    let report = run(&fixture, &plan).0.unwrap();
    assert_eq!(report.files, 1);
    assert_eq!(
        fixture.read("letter (restored from daily).txt"),
        b"from the snapshot"
    );
    assert_eq!(fixture.read("letter.txt"), b"from the snapshot");
}

#[test]
fn a_sparse_file_keeps_its_holes() {
    const LENGTH: u64 = 64 << 20;
    let fixture = Fixture::new();
    let snapshot = fixture.snapshot("daily");
    // The fake copies files densely, so the sparse file is made in the snapshot directly.
    let image_path = fixture.snapshot_directory("daily").join("disk.img");
    let mut image = fs::File::create(&image_path).unwrap();
    image.set_len(LENGTH).unwrap();
    image.write_all(b"boot sector").unwrap();
    image.seek(SeekFrom::Start(LENGTH / 2)).unwrap();
    image.write_all(b"middle").unwrap();
    image.seek(SeekFrom::Start(LENGTH - 4)).unwrap();
    image.write_all(b"tail").unwrap();
    drop(image);
    let source = fixture.snapshot_root("daily");
    let source_metadata = metadata_of(&source, "disk.img");
    assert!(
        source_metadata.allocated < 1 << 20,
        "the test file is not sparse here"
    );
    let plan = fixture.plan(
        &snapshot,
        "disk.img",
        None,
        vec![RestoreAction::WriteFile {
            source: path("disk.img"),
            destination: path("disk.img"),
            metadata: source_metadata,
            replaces: false,
        }],
    );
    let report = run(&fixture, &plan).0.unwrap();
    assert_eq!(report.bytes, LENGTH);
    let restored = metadata_of(&fixture.live(), "disk.img");
    assert_eq!(restored.size, LENGTH);
    assert!(
        restored.allocated < 1 << 20,
        "holes were filled: {} bytes allocated",
        restored.allocated
    );
    let content = fs::read(fixture.live_path("disk.img")).unwrap();
    assert!(content.starts_with(b"boot sector") && content.ends_with(b"tail"));
    let middle = usize::try_from(LENGTH / 2).unwrap();
    assert_eq!(&content[middle..middle + 6], b"middle");
    assert!(content[20..middle].iter().all(|byte| *byte == 0));
}

/// Whether the file system under `directory` accepts `user.*` extended attributes.
fn supports_user_attributes(directory: &std::path::Path) -> bool {
    let probe = fs::File::create(directory.join("xattr-probe")).unwrap();
    let supported =
        match rustix::fs::fsetxattr(&probe, "user.wizfs-probe", b"1", XattrFlags::empty()) {
            Ok(()) => true,
            Err(errno) => {
                eprintln!(
                    "user extended attributes are not supported here ({errno}); skipping that part"
                );
                false
            }
        };
    drop(probe);
    fs::remove_file(directory.join("xattr-probe")).unwrap();
    supported
}

#[test]
fn extended_attributes_owner_mode_and_times_are_restored() {
    let fixture = Fixture::new();
    fixture.write("secret.txt", b"content");
    let snapshot = fixture.snapshot("daily");
    let in_snapshot = fixture.snapshot_directory("daily").join("secret.txt");
    let with_attributes = supports_user_attributes(&fixture.mountpoint);
    if with_attributes {
        let file = fs::File::open(&in_snapshot).unwrap();
        rustix::fs::fsetxattr(&file, "user.comment", b"keep me", XattrFlags::empty()).unwrap();
        rustix::fs::fsetxattr(&file, "user.binary", b"\x00\xff\x01", XattrFlags::empty()).unwrap();
    }
    chown(&in_snapshot, Some(1234), Some(5678)).unwrap();
    fs::set_permissions(&in_snapshot, fs::Permissions::from_mode(0o2640)).unwrap();
    let modified = UNIX_EPOCH + Duration::new(1_600_000_000, 987_654_321);
    fs::File::options()
        .write(true)
        .open(&in_snapshot)
        .unwrap()
        .set_times(
            fs::FileTimes::new()
                .set_modified(modified)
                .set_accessed(modified),
        )
        .unwrap();
    fs::remove_file(fixture.live_path("secret.txt")).unwrap();
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "secret.txt",
        None,
        vec![RestoreAction::WriteFile {
            source: path("secret.txt"),
            destination: path("secret.txt"),
            metadata: metadata_of(&source, "secret.txt"),
            replaces: false,
        }],
    );
    run(&fixture, &plan).0.unwrap();
    let restored = metadata_of(&fixture.live(), "secret.txt");
    assert_eq!((restored.uid, restored.gid), (1234, 5678));
    assert_eq!(restored.mode, 0o2640);
    assert_eq!(
        (restored.modified.seconds, restored.modified.nanoseconds),
        (1_600_000_000, 987_654_321)
    );
    if with_attributes {
        let file = fs::File::open(fixture.live_path("secret.txt")).unwrap();
        let mut value = [0; 64];
        let length = rustix::fs::fgetxattr(&file, "user.comment", &mut value[..]).unwrap();
        assert_eq!(&value[..length], b"keep me");
        let length = rustix::fs::fgetxattr(&file, "user.binary", &mut value[..]).unwrap();
        assert_eq!(&value[..length], b"\x00\xff\x01");
    }
}

#[test]
fn a_directory_replace_swaps_the_whole_tree_at_once() {
    let fixture = Fixture::new();
    fixture.write("project/keep.txt", b"unchanged");
    fixture.write("project/changed.txt", b"good version");
    fixture.write("project/sub/deep.txt", b"deep");
    symlink("keep.txt", fixture.live_path("project/shortcut")).unwrap();
    let snapshot = fixture.snapshot("daily");
    fixture.write("project/changed.txt", b"broken version");
    fixture.write("project/extra.txt", b"live only");
    fixture.write("project/sub/junk/file", b"live only too");
    let before = inode(&fixture.live_path("project"));
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "project",
        Some("wizfs-guard-replace"),
        vec![
            RestoreAction::Remove {
                path: path("project/sub/junk/file"),
                kind: EntryKind::File,
            },
            RestoreAction::Remove {
                path: path("project/extra.txt"),
                kind: EntryKind::File,
            },
            RestoreAction::Remove {
                path: path("project/sub/junk"),
                kind: EntryKind::Directory,
            },
            RestoreAction::WriteFile {
                source: path("project/changed.txt"),
                destination: path("project/changed.txt"),
                metadata: metadata_of(&source, "project/changed.txt"),
                replaces: true,
            },
            RestoreAction::FinishDirectory {
                path: path("project/sub"),
                metadata: metadata_of(&source, "project/sub"),
            },
            RestoreAction::FinishDirectory {
                path: path("project"),
                metadata: metadata_of(&source, "project"),
            },
        ],
    );
    let (result, progress) = run(&fixture, &plan);
    let report = result.unwrap();
    assert!(report.replaced_as_unit);
    assert_eq!(report.removed, 3);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_ne!(
        inode(&fixture.live_path("project")),
        before,
        "the directory was swapped"
    );
    assert_eq!(fixture.read("project/keep.txt"), b"unchanged");
    assert_eq!(fixture.read("project/changed.txt"), b"good version");
    assert_eq!(fixture.read("project/sub/deep.txt"), b"deep");
    assert_eq!(
        fs::read_link(fixture.live_path("project/shortcut")).unwrap(),
        std::path::Path::new("keep.txt")
    );
    assert!(!fixture.live_path("project/extra.txt").exists());
    assert!(!fixture.live_path("project/sub/junk").exists());
    let mut names: Vec<String> = fs::read_dir(fixture.live_path("project"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["changed.txt", "keep.txt", "shortcut", "sub"]);
    let restored_directory = metadata_of(&fixture.live(), "project");
    let snapshot_directory = metadata_of(&source, "project");
    assert_eq!(restored_directory.mode, snapshot_directory.mode);
    assert_eq!(restored_directory.modified, snapshot_directory.modified);
    // The guard snapshot holds the replaced tree.
    let guard = fixture.snapshot_directory("wizfs-guard-replace");
    assert_eq!(
        fs::read(guard.join("project/extra.txt")).unwrap(),
        b"live only"
    );
    assert!(temporaries_below(&fixture.mountpoint).is_empty());
    let last = progress.last().unwrap();
    assert_eq!(last.actions_done, last.actions_total);
}

#[test]
fn a_merge_restores_missing_directories_symlinks_and_hard_links() {
    let fixture = Fixture::new();
    fixture.write("project/a.txt", b"alpha");
    fs::set_permissions(
        fixture.live_path("project"),
        fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    let snapshot = fixture.snapshot("daily");
    fs::remove_dir_all(fixture.live_path("project")).unwrap();
    let source = fixture.snapshot_root("daily");
    let mut link_metadata = metadata_of(&source, "project/a.txt");
    link_metadata.kind = EntryKind::Symlink;
    let plan = fixture.plan(
        &snapshot,
        "project",
        None,
        vec![
            RestoreAction::CreateDirectory {
                path: path("project"),
            },
            RestoreAction::WriteFile {
                source: path("project/a.txt"),
                destination: path("project/a.txt"),
                metadata: metadata_of(&source, "project/a.txt"),
                replaces: false,
            },
            RestoreAction::CreateSymlink {
                destination: path("project/link"),
                target: b"a.txt".to_vec(),
                metadata: link_metadata,
                replaces: false,
            },
            RestoreAction::HardLink {
                destination: path("project/second-name"),
                existing: path("project/a.txt"),
                replaces: false,
            },
            RestoreAction::FinishDirectory {
                path: path("project"),
                metadata: metadata_of(&source, "project"),
            },
        ],
    );
    let report = run(&fixture, &plan).0.unwrap();
    assert!(!report.replaced_as_unit);
    assert_eq!(
        (
            report.files,
            report.directories,
            report.symlinks,
            report.hard_links,
            report.removed
        ),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(fixture.read("project/a.txt"), b"alpha");
    assert_eq!(
        fs::read_link(fixture.live_path("project/link")).unwrap(),
        std::path::Path::new("a.txt")
    );
    assert_eq!(
        inode(&fixture.live_path("project/second-name")),
        inode(&fixture.live_path("project/a.txt"))
    );
    let directory = fs::metadata(fixture.live_path("project")).unwrap();
    assert_eq!(directory.mode() & 0o7777, 0o750);
    assert_eq!(
        directory.mtime(),
        metadata_of(&source, "project").modified.seconds
    );
    assert!(temporaries_below(&fixture.mountpoint).is_empty());
}

#[test]
fn a_merge_removes_entries_of_another_kind_in_place() {
    let fixture = Fixture::new();
    fixture.write("dir/name", b"was a file");
    fixture.write("dir/other", b"live only, kept by a merge");
    let snapshot = fixture.snapshot("daily");
    fs::remove_file(fixture.live_path("dir/name")).unwrap();
    fixture.write("dir/name/inside", b"now a directory");
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "dir",
        Some("wizfs-guard-merge"),
        vec![
            RestoreAction::Remove {
                path: path("dir/name/inside"),
                kind: EntryKind::File,
            },
            RestoreAction::Remove {
                path: path("dir/name"),
                kind: EntryKind::Directory,
            },
            RestoreAction::WriteFile {
                source: path("dir/name"),
                destination: path("dir/name"),
                metadata: metadata_of(&source, "dir/name"),
                replaces: false,
            },
        ],
    );
    let report = run(&fixture, &plan).0.unwrap();
    assert!(!report.replaced_as_unit, "a merge is never a swap");
    assert_eq!(report.removed, 2);
    assert_eq!(fixture.read("dir/name"), b"was a file");
    assert_eq!(fixture.read("dir/other"), b"live only, kept by a merge");
}

#[test]
fn a_failure_leaves_nothing_behind() {
    let fixture = Fixture::new();
    fixture.write("project/keep.txt", b"unchanged");
    fixture.write("project/changed.txt", b"good version");
    let snapshot = fixture.snapshot("daily");
    fixture.write("project/changed.txt", b"live version");
    fixture.write("project/extra.txt", b"live only");
    let source = fixture.snapshot_root("daily");
    let metadata = metadata_of(&source, "project/changed.txt");
    // A source that is not in the snapshot: the copy fails midway through the rebuild.
    let plan = fixture.plan(
        &snapshot,
        "project",
        Some("wizfs-guard-failed"),
        vec![
            RestoreAction::Remove {
                path: path("project/extra.txt"),
                kind: EntryKind::File,
            },
            RestoreAction::WriteFile {
                source: path("project/vanished.txt"),
                destination: path("project/changed.txt"),
                metadata: metadata.clone(),
                replaces: true,
            },
        ],
    );
    let error = run(&fixture, &plan).0.unwrap_err();
    assert!(matches!(error, RestoreError::NotFound { .. }), "{error:?}");
    assert!(temporaries_below(&fixture.mountpoint).is_empty());
    assert_eq!(fixture.read("project/changed.txt"), b"live version");
    assert_eq!(fixture.read("project/extra.txt"), b"live only");

    // Per action: the failing file is not half-written either.
    let plan = fixture.plan(
        &snapshot,
        "project/changed.txt",
        None,
        vec![RestoreAction::WriteFile {
            source: path("project/vanished.txt"),
            destination: path("project/changed.txt"),
            metadata,
            replaces: true,
        }],
    );
    assert!(run(&fixture, &plan).0.is_err());
    assert_eq!(fixture.read("project/changed.txt"), b"live version");
    assert!(temporaries_below(&fixture.mountpoint).is_empty());
}

#[test]
fn a_guard_goes_again_when_the_restore_fails_before_changing_anything() {
    let fixture = Fixture::new();
    fixture.write("notes.txt", b"snapshot version");
    let snapshot = fixture.snapshot("daily");
    fixture.write("notes.txt", b"live version");
    let metadata = metadata_of(&fixture.snapshot_root("daily"), "notes.txt");
    // The source is missing: the copy fails before anything is renamed into place.
    let plan = fixture.plan(
        &snapshot,
        "notes.txt",
        Some("wizfs-guard-unused"),
        vec![RestoreAction::WriteFile {
            source: path("vanished.txt"),
            destination: path("notes.txt"),
            metadata,
            replaces: true,
        }],
    );
    assert!(run(&fixture, &plan).0.is_err());
    assert_eq!(fixture.read("notes.txt"), b"live version");
    assert_eq!(fixture.snapshot_names(), ["daily"], "no guard left behind");
}

#[test]
fn refusals_keep_a_replace_per_action() {
    let fixture = Fixture::new();
    fixture.write("dir/file", b"snapshot");
    let snapshot = fixture.snapshot("daily");
    fixture.write("dir/extra", b"live only");
    let before = inode(&fixture.live_path("dir"));
    let mut plan = fixture.plan(
        &snapshot,
        "dir",
        Some("wizfs-guard-refusal"),
        vec![RestoreAction::Remove {
            path: path("dir/extra"),
            kind: EntryKind::File,
        }],
    );
    plan.refused.push(Refusal {
        path: path("dir/pipe"),
        kind: EntryKind::Fifo,
        reason: "FIFOs are never restored".to_owned(),
    });
    let report = run(&fixture, &plan).0.unwrap();
    assert!(!report.replaced_as_unit);
    assert_eq!(inode(&fixture.live_path("dir")), before);
    assert!(!fixture.live_path("dir/extra").exists());
}

#[test]
fn plans_that_do_not_fit_the_roots_are_refused_before_anything_changes() {
    let fixture = Fixture::new();
    fixture.write("file", b"one");
    let daily = fixture.snapshot("daily");
    let weekly = fixture.snapshot("weekly");
    let plan = fixture.plan(&weekly, "file", Some("wizfs-guard-never"), Vec::new());
    let snapshot = fixture.snapshot_root("daily");
    let live = fixture.live();
    let error = execute(&plan, &snapshot, &live, &fixture.zfs, &mut |_| {}).unwrap_err();
    assert!(matches!(error, RestoreError::PlanMismatch(_)), "{error:?}");

    // A live root that is not the dataset's mountpoint.
    fixture.write("sub/file", b"x");
    let plan = fixture.plan(&daily, "file", Some("wizfs-guard-never"), Vec::new());
    let not_the_mountpoint = crate::SafeRoot::open_live(&fixture.live_path("sub")).unwrap();
    let error = execute(
        &plan,
        &snapshot,
        &not_the_mountpoint,
        &fixture.zfs,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(error, RestoreError::PlanMismatch(_)), "{error:?}");
    let error = execute(&plan, &snapshot, &snapshot, &fixture.zfs, &mut |_| {}).unwrap_err();
    assert!(matches!(error, RestoreError::PlanMismatch(_)), "{error:?}");
    assert!(
        !fixture
            .snapshot_names()
            .contains(&"wizfs-guard-never".to_owned())
    );
}

#[test]
fn nothing_is_written_into_a_child_dataset() {
    let fixture = Fixture::new();
    fixture.write("file", b"one");
    let snapshot = fixture.snapshot("daily");
    let child = fixture.dataset.child("child").unwrap();
    fixture.zfs.create_filesystem(&child, &[]).unwrap();
    let source = fixture.snapshot_root("daily");
    let plan = fixture.plan(
        &snapshot,
        "child/file",
        None,
        vec![RestoreAction::WriteFile {
            source: path("file"),
            destination: path("child/file"),
            metadata: metadata_of(&source, "file"),
            replaces: false,
        }],
    );
    match run(&fixture, &plan).0.unwrap_err() {
        RestoreError::CrossesMount { mount_point, .. } => assert_eq!(mount_point, path("child")),
        other => panic!("expected CrossesMount, got {other:?}"),
    }
    let plan = fixture.plan(
        &snapshot,
        "",
        None,
        vec![RestoreAction::Remove {
            path: path("child"),
            kind: EntryKind::Directory,
        }],
    );
    assert!(matches!(
        run(&fixture, &plan).0,
        Err(RestoreError::CrossesMount { .. })
    ));
    assert!(!fixture.live_path("child/file").exists());
}

#[test]
fn a_remove_refuses_an_entry_that_changed_kind() {
    let fixture = Fixture::new();
    fixture.write("dir/file", b"x");
    let snapshot = fixture.snapshot("daily");
    fs::remove_file(fixture.live_path("dir/file")).unwrap();
    fs::create_dir(fixture.live_path("dir/file")).unwrap();
    let plan = fixture.plan(
        &snapshot,
        "dir/file",
        None,
        vec![RestoreAction::Remove {
            path: path("dir/file"),
            kind: EntryKind::File,
        }],
    );
    assert!(matches!(
        run(&fixture, &plan).0,
        Err(RestoreError::LiveChanged { .. })
    ));
    assert!(fixture.live_path("dir/file").is_dir());
}

/// Plans with the real planner from what `SafeRoot` reads, then executes.
fn plan_and_execute(
    fixture: &Fixture,
    snapshot: &wizfs_core::SnapshotName,
    request_path: &str,
    target: wizfs_core::restore::RestoreTarget,
    strategy: wizfs_core::restore::DirectoryStrategy,
) -> ExecutionReport {
    use wizfs_core::restore::{PlanInput, RestoreRequest, RestoreTarget, plan_restore};
    let request = RestoreRequest {
        snapshot: snapshot.clone(),
        path: path(request_path),
        target,
        strategy,
    };
    let snapshot_root = fixture.snapshot_root(snapshot.short_name());
    let live = fixture.live();
    let source = snapshot_root.read_tree(&request.path).unwrap();
    let (live_entries, ancestors) = match &request.target {
        RestoreTarget::Original => (
            live.read_tree(&request.path).unwrap(),
            crate::missing_ancestors(&live, &snapshot_root, &request.path).unwrap(),
        ),
        RestoreTarget::Copy { .. } => (Vec::new(), Vec::new()),
    };
    let directory = match &request.target {
        RestoreTarget::Copy { into: Some(into) } => into.clone(),
        _ => request.path.parent().unwrap_or_default(),
    };
    let names: Vec<Vec<u8>> = live
        .list_directory(&directory)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| entry.path.file_name().map(<[u8]>::to_vec))
        .collect();
    let plan = plan_restore(&PlanInput {
        request: &request,
        source: &source,
        live: &live_entries,
        live_names_in_destination_directory: &names,
        missing_live_ancestors: &ancestors,
        now: wizfs_core::Timestamp(1_800_000_000),
    })
    .unwrap();
    execute(&plan, &snapshot_root, &live, &fixture.zfs, &mut |_| {}).unwrap()
}

#[test]
fn plans_of_the_real_planner_execute_as_intended() {
    use wizfs_core::restore::{DirectoryStrategy, RestoreTarget};
    let fixture = Fixture::new();
    fixture.write("site/index.html", b"<h1>good</h1>");
    fixture.write("site/css/main.css", b"body {}");
    fs::hard_link(
        fixture.live_path("site/index.html"),
        fixture.live_path("site/home.html"),
    )
    .unwrap();
    symlink("index.html", fixture.live_path("site/default")).unwrap();
    let snapshot = fixture.snapshot("daily");
    // The fake copies hard links as separate files: link them in the snapshot again.
    let in_snapshot = fixture.snapshot_directory("daily").join("site");
    fs::remove_file(in_snapshot.join("home.html")).unwrap();
    fs::hard_link(
        in_snapshot.join("index.html"),
        in_snapshot.join("home.html"),
    )
    .unwrap();
    fixture.write("site/index.html.new", b"live only");
    fs::remove_file(fixture.live_path("site/index.html")).unwrap();
    fixture.write("site/index.html", b"<h1>broken</h1>");
    fs::remove_dir_all(fixture.live_path("site/css")).unwrap();

    // Merge: brings back what is missing or different, keeps the live-only file.
    let report = plan_and_execute(
        &fixture,
        &snapshot,
        "site",
        RestoreTarget::Original,
        DirectoryStrategy::Merge,
    );
    assert!(!report.replaced_as_unit);
    assert_eq!(fixture.read("site/index.html"), b"<h1>good</h1>");
    assert_eq!(fixture.read("site/css/main.css"), b"body {}");
    assert_eq!(fixture.read("site/index.html.new"), b"live only");
    assert_eq!(
        inode(&fixture.live_path("site/index.html")),
        inode(&fixture.live_path("site/home.html"))
    );

    // Replace: the live-only file goes, as a unit.
    fixture.write("site/index.html", b"<h1>broken again</h1>");
    let report = plan_and_execute(
        &fixture,
        &snapshot,
        "site",
        RestoreTarget::Original,
        DirectoryStrategy::Replace,
    );
    assert!(report.replaced_as_unit);
    assert!(report.guard_snapshot.is_some());
    assert!(!fixture.live_path("site/index.html.new").exists());
    assert_eq!(fixture.read("site/index.html"), b"<h1>good</h1>");
    assert_eq!(
        inode(&fixture.live_path("site/index.html")),
        inode(&fixture.live_path("site/home.html"))
    );
    assert_eq!(
        fs::read_link(fixture.live_path("site/default")).unwrap(),
        std::path::Path::new("index.html")
    );

    // Copy next to the original and into a new directory.
    plan_and_execute(
        &fixture,
        &snapshot,
        "site/css",
        RestoreTarget::Copy { into: None },
        DirectoryStrategy::Merge,
    );
    assert_eq!(
        fixture.read("site/css (restored from daily)/main.css"),
        b"body {}"
    );
    // (The planner emits no CreateDirectory for a missing `into`: it must exist.)
    fs::create_dir(fixture.live_path("recovered")).unwrap();
    plan_and_execute(
        &fixture,
        &snapshot,
        "site/index.html",
        RestoreTarget::Copy {
            into: Some(path("recovered")),
        },
        DirectoryStrategy::Merge,
    );
    assert_eq!(fixture.read("recovered/index.html"), b"<h1>good</h1>");

    // A file of a deleted directory comes back with its directories.
    fs::remove_dir_all(fixture.live_path("site")).unwrap();
    plan_and_execute(
        &fixture,
        &snapshot,
        "site/css/main.css",
        RestoreTarget::Original,
        DirectoryStrategy::Merge,
    );
    assert_eq!(fixture.read("site/css/main.css"), b"body {}");
    assert!(temporaries_below(&fixture.mountpoint).is_empty());
}

/// Unmounts the test mount even when an assertion fails.
struct MountGuard(std::path::PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

#[test]
fn a_full_or_read_only_file_system_is_reported_as_such_and_leaves_nothing() {
    use rustix::mount::{MountFlags, mount, mount_remount};
    let fixture = Fixture::new();
    fixture.write("big.bin", &vec![7; 1 << 20]);
    let snapshot = fixture.snapshot("daily");
    let source = fixture.snapshot_root("daily");
    let metadata = metadata_of(&source, "big.bin");
    // A tiny tmpfs over the dataset's mountpoint plays a full dataset.
    if let Err(errno) = mount(
        "wizfs-test",
        &fixture.mountpoint,
        "tmpfs",
        MountFlags::empty(),
        c"size=64k",
    ) {
        eprintln!("skipping: cannot mount a tmpfs here ({errno}); covered in the VM");
        return;
    }
    let _guard = MountGuard(fixture.mountpoint.clone());
    let live = fixture.live();
    let plan = fixture.plan(
        &snapshot,
        "big.bin",
        None,
        vec![RestoreAction::WriteFile {
            source: path("big.bin"),
            destination: path("big.bin"),
            metadata,
            replaces: false,
        }],
    );
    let error = execute(&plan, &source, &live, &fixture.zfs, &mut |_| {}).unwrap_err();
    assert!(matches!(error, RestoreError::NoSpace { .. }), "{error:?}");
    assert!(error.to_string().contains("no space left"), "{error}");
    assert_eq!(
        fs::read_dir(&fixture.mountpoint).unwrap().count(),
        0,
        "nothing left behind"
    );

    mount_remount(&fixture.mountpoint, MountFlags::RDONLY, c"").unwrap();
    let error = execute(&plan, &source, &live, &fixture.zfs, &mut |_| {}).unwrap_err();
    assert!(matches!(error, RestoreError::ReadOnly { .. }), "{error:?}");
    assert_eq!(error.http_class(), crate::ErrorClass::Conflict);
}
