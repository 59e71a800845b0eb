//! Platform tests of browse and restore on real OpenZFS in the VM: every restore mode,
//! deleted files and directories, hard links, sparse and large files, xattrs, and the safety
//! rules (symlinks, device nodes, FIFOs, paths, full and read-only datasets, SIGKILL during
//! an in-place restore). Data is compared byte for byte afterwards.

#[allow(dead_code, reason = "shared with recovery.rs, which uses other parts")]
mod fixture;

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;
use std::process::Command;

use fixture::{fixture, write};
use wizfs_core::RelativePath;
use wizfs_core::restore::{DirectoryStrategy, RestoreTarget};
use wizfs_core::versions::VersionIdentity;
use wizfs_recovery::RecoveryError;
use wizfs_tests::trees::assert_same_tree;
use wizfs_zfs::PropertyName;

fn noise(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn deleted_file_returns_in_place_behind_a_guard() {
    let fixture = fixture("restore-deleted");
    write(&fixture.path("docs/report.txt"), b"quarterly numbers");
    let snapshot = fixture.snapshot("before");
    fs::remove_file(fixture.path("docs/report.txt")).expect("rm");
    let request = fixture.request(&snapshot, "docs/report.txt", RestoreTarget::Original);
    let (plan, report) = fixture
        .recovery
        .restore(&request, &mut |_| {})
        .expect("restore");
    let guard = report
        .guard_snapshot
        .clone()
        .expect("a restore in place takes a guard snapshot even when it only adds");
    assert_eq!(plan.guard_snapshot.as_ref(), Some(&guard));
    assert!(
        fixture
            .zfs
            .list_snapshots(guard.dataset(), wizfs_zfs::Scope::Dataset)
            .expect("list")
            .iter()
            .any(|snapshot| snapshot.name == guard),
        "the guard snapshot exists"
    );
    assert_eq!(
        fs::read(fixture.path("docs/report.txt")).expect("read"),
        b"quarterly numbers"
    );
    assert_eq!(
        fixture.snapshot_names(),
        ["before", guard.short_name()],
        "only the guard was added"
    );
}

#[test]
fn in_place_restore_takes_a_guard_snapshot_first() {
    let fixture = fixture("restore-inplace");
    write(&fixture.path("notes.txt"), b"good version");
    let snapshot = fixture.snapshot("good");
    write(&fixture.path("notes.txt"), b"bad edit");
    let output = fixture.wizfs(&[
        "restore",
        fixture.path("notes.txt").to_str().unwrap(),
        "--from",
        "good",
        "--mode",
        "in-place",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read(fixture.path("notes.txt")).expect("read"),
        b"good version"
    );
    let names = fixture.snapshot_names();
    let guard = names
        .iter()
        .find(|name| name.starts_with("wizfs-guard-"))
        .expect("a guard snapshot");
    let guard_name = fixture.dataset.snapshot(guard).expect("name");
    assert_eq!(
        fs::read(fixture.snapshot_path(&guard_name, "notes.txt")).expect("read"),
        b"bad edit",
        "the guard holds what was overwritten"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(guard),
        "the user is told the guard's name: {stdout}"
    );
    let _ = snapshot;
}

#[test]
fn copies_never_clobber() {
    let fixture = fixture("restore-copy");
    write(&fixture.path("photo.jpg"), &noise(100_000, 1));
    let snapshot = fixture.snapshot("daily-1");
    write(&fixture.path("photo.jpg"), b"edited");
    for expected in [
        "photo (restored from daily-1).jpg",
        "photo (restored from daily-1, 2).jpg",
    ] {
        let request = fixture.request(&snapshot, "photo.jpg", RestoreTarget::Copy { into: None });
        let (plan, _) = fixture
            .recovery
            .restore(&request, &mut |_| {})
            .expect("restore copy");
        assert_eq!(plan.destination.as_bytes(), expected.as_bytes());
        assert_eq!(
            fs::read(fixture.path(expected)).expect("copy"),
            noise(100_000, 1)
        );
    }
    assert_eq!(
        fs::read(fixture.path("photo.jpg")).expect("live"),
        b"edited",
        "the live file is untouched"
    );
    let into = fixture.request(
        &snapshot,
        "photo.jpg",
        RestoreTarget::Copy {
            into: Some(RelativePath::new(b"recovered").unwrap()),
        },
    );
    let error = fixture
        .recovery
        .restore(&into, &mut |_| {})
        .expect_err("the directory must exist");
    assert!(matches!(error, RecoveryError::Missing { .. }), "{error:?}");
    fs::create_dir(fixture.path("recovered")).expect("mkdir");
    fixture
        .recovery
        .restore(&into, &mut |_| {})
        .expect("restore into a directory");
    assert_eq!(
        fs::read(fixture.path("recovered/photo.jpg")).expect("copy"),
        noise(100_000, 1)
    );
    assert!(
        fixture
            .snapshot_names()
            .iter()
            .all(|name| !name.starts_with("wizfs-guard")),
        "copies need no guard"
    );
}

#[test]
fn deleted_directory_returns_as_a_unit_with_hard_links_symlinks_and_xattrs() {
    let fixture = fixture("restore-dir");
    let project = fixture.path("project");
    write(&project.join("src/main.rs"), b"fn main() {}");
    write(&project.join("data/big.bin"), &noise(3_000_000, 2));
    write(&project.join("名前 with space.txt"), b"unicode");
    symlink("src/main.rs", project.join("link-to-main")).expect("symlink");
    fs::hard_link(project.join("src/main.rs"), project.join("hardlink.rs")).expect("hard link");
    let xattr = Command::new("setfattr")
        .args(["-n", "user.origin", "-v", "camera-7"])
        .arg(project.join("data/big.bin"))
        .status();
    assert!(xattr.expect("setfattr").success());
    let snapshot = fixture.snapshot("with-project");
    fs::remove_dir_all(&project).expect("rm -rf");
    let request = fixture.request(&snapshot, "project", RestoreTarget::Original);
    fixture
        .recovery
        .restore(&request, &mut |_| {})
        .expect("restore directory");
    assert_same_tree(&fixture.snapshot_path(&snapshot, "project"), &project);
    let main = fs::metadata(project.join("src/main.rs")).expect("stat");
    let hard = fs::metadata(project.join("hardlink.rs")).expect("stat");
    assert_eq!(main.ino(), hard.ino(), "hard links stay hard links");
    assert_eq!(
        fs::read_link(project.join("link-to-main")).expect("readlink"),
        Path::new("src/main.rs")
    );
    let value = Command::new("getfattr")
        .args(["--only-values", "-n", "user.origin"])
        .arg(project.join("data/big.bin"))
        .output()
        .expect("getfattr");
    assert_eq!(value.stdout, b"camera-7", "xattrs preserved");
}

#[test]
fn directory_merge_keeps_and_replace_removes_live_only_files() {
    let fixture = fixture("restore-merge");
    write(&fixture.path("dir/a.txt"), b"a1");
    write(&fixture.path("dir/b.txt"), b"b1");
    let snapshot = fixture.snapshot("s1");
    write(&fixture.path("dir/a.txt"), b"a2");
    write(&fixture.path("dir/new.txt"), b"created later");
    let merge = fixture.request(&snapshot, "dir", RestoreTarget::Original);
    let (plan, _) = fixture
        .recovery
        .restore(&merge, &mut |_| {})
        .expect("merge");
    assert!(plan.guard_snapshot.is_some());
    assert_eq!(fs::read(fixture.path("dir/a.txt")).unwrap(), b"a1");
    assert_eq!(
        fs::read(fixture.path("dir/new.txt")).unwrap(),
        b"created later",
        "merge keeps live-only files"
    );
    let mut replace = fixture.request(&snapshot, "dir", RestoreTarget::Original);
    replace.strategy = DirectoryStrategy::Replace;
    let dry_run = fixture.recovery.plan(&replace).expect("plan");
    assert_eq!(dry_run.summary.removed, 1);
    assert!(
        fixture.path("dir/new.txt").exists(),
        "a dry run changes nothing"
    );
    fixture
        .recovery
        .restore(&replace, &mut |_| {})
        .expect("replace");
    assert_same_tree(
        &fixture.snapshot_path(&snapshot, "dir"),
        &fixture.path("dir"),
    );
}

#[test]
fn sparse_gigabyte_file_restores_sparse_and_identical() {
    let fixture = fixture("restore-sparse");
    let path = fixture.path("disk.img");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = fs::File::create(&path).expect("create");
        file.set_len(1 << 30).expect("1 GiB");
        for offset in [0u64, 300 << 20, (1 << 30) - 4096] {
            file.seek(SeekFrom::Start(offset)).expect("seek");
            file.write_all(&noise(4096, offset)).expect("write");
        }
    }
    let snapshot = fixture.snapshot("sparse");
    fs::remove_file(&path).expect("rm");
    let request = fixture.request(&snapshot, "disk.img", RestoreTarget::Original);
    fixture
        .recovery
        .restore(&request, &mut |_| {})
        .expect("restore");
    let metadata = fs::metadata(&path).expect("stat");
    assert_eq!(metadata.len(), 1 << 30);
    assert!(
        metadata.blocks() * 512 < 64 << 20,
        "still sparse: {} bytes allocated",
        metadata.blocks() * 512
    );
    let status = Command::new("cmp")
        .arg(&path)
        .arg(fixture.snapshot_path(&snapshot, "disk.img"))
        .status()
        .expect("cmp");
    assert!(status.success(), "byte-identical");
}

#[test]
fn versions_fold_identical_snapshots() {
    let fixture = fixture("versions");
    write(&fixture.path("file.txt"), b"one");
    fixture.snapshot("a");
    fixture.snapshot("b");
    write(&fixture.path("file.txt"), b"two!");
    fixture.snapshot("c");
    fs::remove_file(fixture.path("file.txt")).expect("rm");
    fixture.snapshot("d");
    let path = RelativePath::new(b"file.txt").unwrap();
    let versions = fixture
        .recovery
        .versions(&fixture.dataset, &path, VersionIdentity::Metadata)
        .expect("versions");
    assert_eq!(versions.len(), 2, "{versions:#?}");
    assert_eq!(versions[0].sources.len(), 2);
    assert_eq!(versions[0].folded_snapshots(), 1);
    assert_eq!(versions[1].metadata.size, 4);
    assert!(
        versions.iter().all(|version| !version.is_live),
        "the file is deleted"
    );
    let diff = fixture
        .recovery
        .text_diff(
            &fixture.dataset,
            &path,
            Some(&fixture.dataset.snapshot("a").unwrap()),
            Some(&fixture.dataset.snapshot("c").unwrap()),
        )
        .expect("diff");
    assert!(diff.contains("-one") && diff.contains("+two!"), "{diff}");
}

#[test]
fn symlinks_device_nodes_and_fifos_are_never_followed_or_restored() {
    let fixture = fixture("restore-safety");
    write(&fixture.path("real/secret.txt"), b"inside");
    symlink("/etc", fixture.path("escape")).expect("symlink to /etc");
    let fifo = Command::new("mkfifo")
        .arg(fixture.path("pipe"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    let node = Command::new("mknod")
        .arg(fixture.path("null-device"))
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(node.success());
    let snapshot = fixture.snapshot("hostile");
    for (path, what) in [
        ("escape/passwd", "a path through a symlink"),
        ("pipe", "a FIFO"),
        ("null-device", "a device node"),
    ] {
        let request = fixture.request(&snapshot, path, RestoreTarget::Copy { into: None });
        let error = fixture
            .recovery
            .restore(&request, &mut |_| {})
            .expect_err(what);
        let message = error.to_string();
        assert!(!message.is_empty(), "{what}: {message}");
        assert!(
            matches!(error, RecoveryError::Restore(_) | RecoveryError::Plan(_)),
            "{what}: {error:?}"
        );
    }
    let listing = fixture.recovery.list_directory(
        &fixture.dataset,
        Some(&snapshot),
        &RelativePath::new(b"escape").unwrap(),
    );
    assert!(
        listing.is_err(),
        "browsing never follows a symlink out of the snapshot"
    );
    let output = fixture.wizfs(&[
        "restore",
        &format!("{}/real/../../etc/passwd", fixture.mountpoint.display()),
        "--from",
        "hostile",
    ]);
    assert!(!output.status.success(), "`..` in a path is refused");
    let output = fixture.wizfs(&[
        "restore",
        fixture.path("real/secret.txt").to_str().unwrap(),
        "--from",
        "hostile",
        "--into",
        "/etc",
    ]);
    assert!(
        !output.status.success(),
        "a target outside the dataset is refused"
    );
    assert!(!Path::new("/etc/secret.txt").exists());
    // A tree containing them restores the rest and reports what it skipped.
    fs::create_dir(fixture.path("copy")).expect("mkdir");
    let request = fixture.request(
        &snapshot,
        "",
        RestoreTarget::Copy {
            into: Some(RelativePath::new(b"copy").unwrap()),
        },
    );
    let (plan, _) = fixture
        .recovery
        .restore(&request, &mut |_| {})
        .expect("restore root as a copy");
    assert_eq!(plan.refused.len(), 2, "{:?}", plan.refused);
    let copied_root = fixture.path("copy").join(snapshot.short_name());
    assert_eq!(
        fs::read_link(copied_root.join("escape")).unwrap(),
        Path::new("/etc"),
        "symlinks are copied as symlinks"
    );
    assert_eq!(
        fs::read(copied_root.join("real/secret.txt")).unwrap(),
        b"inside"
    );
}

#[test]
fn full_or_read_only_dataset_fails_cleanly() {
    let fixture = fixture("restore-full");
    write(&fixture.path("big.bin"), &noise(12 << 20, 3));
    let snapshot = fixture.snapshot("big");
    fs::remove_file(fixture.path("big.bin")).expect("rm");
    let quota = PropertyName::new("refquota").unwrap();
    let target = wizfs_core::ZfsObjectName::Dataset(fixture.dataset.clone());
    fixture
        .zfs
        .set_property(&target, &quota, &(16u64 << 20).to_string())
        .expect("quota");
    write(&fixture.path("filler.bin"), &noise(8 << 20, 4));
    Command::new("sync").status().expect("sync");
    let request = fixture.request(&snapshot, "big.bin", RestoreTarget::Original);
    let error = fixture
        .recovery
        .restore(&request, &mut |_| {})
        .expect_err("no space");
    assert!(
        error.to_string().to_lowercase().contains("space") || error.to_string().contains("quota"),
        "{error}"
    );
    let leftovers: Vec<_> = fs::read_dir(&fixture.mountpoint)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only filler.bin remains: {leftovers:?}");

    let readonly = PropertyName::new("readonly").unwrap();
    fixture
        .zfs
        .set_property(&target, &quota, "none")
        .expect("no quota");
    fixture
        .zfs
        .set_property(&target, &readonly, "on")
        .expect("readonly");
    let error = fixture
        .recovery
        .restore(&request, &mut |_| {})
        .expect_err("read-only");
    assert!(error.to_string().contains("read-only"), "{error}");
    assert!(!fixture.path("big.bin").exists());
    assert!(
        fixture
            .snapshot_names()
            .iter()
            .all(|name| !name.starts_with("wizfs-guard")),
        "no guard left by a failed restore that changed nothing"
    );
}

/// SIGKILL at many points of an in-place restore: the live file is always the old or the
/// new content, and whenever it changed, the guard snapshot exists.
#[test]
fn sigkill_during_in_place_restore_never_leaves_a_partial_file() {
    let fixture = fixture("restore-sigkill");
    let old = noise(6 << 20, 5);
    let new = noise(6 << 20, 6);
    write(&fixture.path("victim.bin"), &new);
    fixture.snapshot("wanted");
    let wizfs = fixture.environment.bin_dir.join("wizfs");
    let path = fixture.path("victim.bin");
    let mut changed_runs = 0;
    for run in 0..50u64 {
        write(&path, &old);
        let guards_before = fixture
            .snapshot_names()
            .iter()
            .filter(|name| name.starts_with("wizfs-guard"))
            .count();
        let mut child = Command::new(&wizfs)
            .args([
                "restore",
                path.to_str().unwrap(),
                "--from",
                "wanted",
                "--mode",
                "in-place",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(run * 40));
        let _ = child.kill();
        let _ = child.wait();
        let content = fs::read(&path).expect("read live file");
        let guards_after = fixture
            .snapshot_names()
            .iter()
            .filter(|name| name.starts_with("wizfs-guard"))
            .count();
        if content == new {
            changed_runs += 1;
            assert!(
                guards_after > guards_before,
                "run {run}: the file changed without a guard snapshot"
            );
        } else {
            assert!(
                content == old,
                "run {run}: a partial file ({} bytes)",
                content.len()
            );
        }
    }
    println!("{changed_runs} of 50 runs completed before the kill");
    assert!(
        changed_runs > 0,
        "the delays reach completion at least once"
    );
    assert!(changed_runs < 50, "some kills landed before the rename");
}

#[test]
fn posix_acls_survive_a_restore() {
    let fixture = fixture("restore-acl");
    let acltype = PropertyName::new("acltype").unwrap();
    let target = wizfs_core::ZfsObjectName::Dataset(fixture.dataset.clone());
    fixture
        .zfs
        .set_property(&target, &acltype, "posix")
        .expect("acltype=posix");
    write(&fixture.path("shared.txt"), b"for the family");
    let status = Command::new("setfacl")
        .args(["-m", "u:1234:rw,g:5678:r"])
        .arg(fixture.path("shared.txt"))
        .status()
        .expect("setfacl");
    assert!(status.success());
    let acl = |path: &Path| {
        let output = Command::new("getfacl")
            .args(["--omit-header", "--numeric"])
            .arg(path)
            .output()
            .expect("getfacl");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let expected = acl(&fixture.path("shared.txt"));
    assert!(expected.contains("user:1234:rw-"), "{expected}");
    let snapshot = fixture.snapshot("acl");
    fs::remove_file(fixture.path("shared.txt")).expect("rm");
    fixture
        .recovery
        .restore(
            &fixture.request(&snapshot, "shared.txt", RestoreTarget::Original),
            &mut |_| {},
        )
        .expect("restore");
    assert_eq!(acl(&fixture.path("shared.txt")), expected);
}

/// Browsing or restoring from a snapshot does not leave it mounted under `.zfs/snapshot`
/// (other tools' prunes then fail with "dataset is busy").
#[test]
fn snapshots_are_not_left_mounted() {
    let fixture = fixture("restore-mounts");
    write(&fixture.path("a.txt"), b"a");
    let snapshot = fixture.snapshot("browsed");
    let mounted = || {
        fs::read_to_string("/proc/mounts")
            .expect("mounts")
            .contains(&format!("{}@browsed", fixture.dataset))
    };
    fixture
        .recovery
        .list_directory(&fixture.dataset, Some(&snapshot), &RelativePath::root())
        .expect("browse");
    assert!(!mounted(), "browsing left the snapshot mounted");
    fixture
        .recovery
        .restore(
            &fixture.request(&snapshot, "a.txt", RestoreTarget::Copy { into: None }),
            &mut |_| {},
        )
        .expect("restore");
    assert!(!mounted(), "restoring left the snapshot mounted");
    fixture
        .zfs
        .destroy_snapshots(&[snapshot], wizfs_zfs::DestroyOptions::default())
        .expect("the snapshot can be destroyed right away");
}

/// Many threads open the same fresh snapshots at the same moment, as the console's requests
/// and the indexer do: OpenZFS 2.3.2 and 2.1 panic the kernel when two threads trigger one
/// snapshot's automount at once (openzfs/zfs#17659); `SafeRoot` takes those opens one at a
/// time, so every open succeeds and the kernel stays up (a panic would end the whole VM run).
#[test]
fn fresh_snapshots_opened_by_many_threads_at_once_keep_the_kernel_up() {
    let fixture = fixture("mount-race");
    write(&fixture.path("file.txt"), b"contents");
    const THREADS: usize = 8;
    for round in 0..12 {
        let snapshot = fixture.snapshot(&format!("race{round}"));
        let short = snapshot.short_name().to_owned();
        let barrier = std::sync::Barrier::new(THREADS);
        std::thread::scope(|scope| {
            let opened: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        let root =
                            wizfs_restore::SafeRoot::open_snapshot(&fixture.mountpoint, &short)
                                .expect("the snapshot opens");
                        let file = RelativePath::new(b"file.txt").expect("path");
                        let found = root.stat(&file).expect("stat").is_some();
                        root.forget_snapshot_mount();
                        found
                    })
                })
                .collect();
            for thread in opened {
                assert!(
                    thread.join().expect("no thread panicked"),
                    "the file is in {short}"
                );
            }
        });
    }
}
