//! Unit tests of [`FakeZfs`]: each behaviour the module documents, exercised through the
//! [`Zfs`] trait on temporary directories (the shared conformance suite later runs similar
//! scenarios against real OpenZFS).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tempfile::TempDir;
use wizfs_core::{
    BookmarkName, DatasetName, PoolHealth, PoolName, SnapshotName, Timestamp, ZfsObjectName,
};

use super::FakeZfs;
use crate::Zfs;
use crate::error::ZfsError;
use crate::types::{
    DestroyOptions, DiffChange, DiffTarget, HoldTag, IncrementalBase, PropertyName, PropertySource,
    ReceiveOptions, ResumeToken, Scope, SendFlags, SendSource,
};

const NOW: i64 = 1_750_000_000;

/// A fake with pools `tank` and `backup`, kept alive with its temporary directory.
struct Fixture {
    directory: TempDir,
    zfs: FakeZfs,
}

fn fixture() -> Fixture {
    let directory = TempDir::new().expect("temporary directory");
    let zfs = FakeZfs::open(directory.path().join("root")).expect("open");
    zfs.set_clock(Arc::new(|| Timestamp(NOW)));
    zfs.create_pool(&PoolName::new("tank").expect("pool name"), 1 << 30)
        .expect("create tank");
    zfs.create_pool(&PoolName::new("backup").expect("pool name"), 1 << 30)
        .expect("create backup");
    Fixture { directory, zfs }
}

fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).expect(name)
}

fn snapshot(name: &str) -> SnapshotName {
    SnapshotName::new(name).expect(name)
}

fn property(name: &str) -> PropertyName {
    PropertyName::new(name).expect(name)
}

fn tag(name: &str) -> HoldTag {
    HoldTag::new(name).expect(name)
}

fn mountpoint(zfs: &FakeZfs, name: &str) -> PathBuf {
    zfs.mountpoint(&dataset(name)).expect("dataset exists")
}

fn create(zfs: &FakeZfs, name: &str) -> PathBuf {
    zfs.create_filesystem(&dataset(name), &[])
        .expect("create filesystem");
    mountpoint(zfs, name)
}

fn take(zfs: &FakeZfs, name: &str) {
    zfs.create_snapshots(&[snapshot(name)], false, &[])
        .expect("snapshot");
}

fn write(path: &Path, content: &[u8]) {
    fs::write(path, content).expect("write file");
}

fn name_bytes(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

fn get(zfs: &FakeZfs, target: &str, name: &str) -> (Option<String>, PropertySource) {
    let target = ZfsObjectName::parse(target).expect("object name");
    let mut values = zfs
        .get_properties(&target, &[property(name)])
        .expect("get properties");
    let value = values.pop().expect("one value");
    assert_eq!(value.name, name);
    (value.value, value.source)
}

fn get_number(zfs: &FakeZfs, target: &str, name: &str) -> u64 {
    get(zfs, target, name)
        .0
        .expect("a value")
        .parse()
        .expect("a number")
}

fn snapshot_row(zfs: &FakeZfs, name: &str) -> wizfs_core::Snapshot {
    let name = snapshot(name);
    zfs.list_snapshots(name.dataset(), Scope::Dataset)
        .expect("list snapshots")
        .into_iter()
        .find(|row| row.name == name)
        .expect("snapshot listed")
}

fn send_bytes(zfs: &FakeZfs, source: &SendSource) -> Vec<u8> {
    let mut stream = zfs.send(source).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read stream");
    stream.finish().expect("sender succeeded");
    bytes
}

fn full(name: &str) -> SendSource {
    SendSource::Snapshot {
        snapshot: snapshot(name),
        base: None,
        flags: SendFlags::default(),
    }
}

fn incremental(from: &str, to: &str) -> SendSource {
    SendSource::Snapshot {
        snapshot: snapshot(to),
        base: Some(IncrementalBase::Snapshot(snapshot(from))),
        flags: SendFlags::default(),
    }
}

fn receive(
    zfs: &FakeZfs,
    target: &str,
    options: &ReceiveOptions,
    bytes: &[u8],
) -> Result<(), ZfsError> {
    zfs.receive(&dataset(target), options, &mut &bytes[..])
}

fn resumable() -> ReceiveOptions {
    ReceiveOptions {
        resumable: true,
        ..ReceiveOptions::default()
    }
}

/// What a tree holds, for byte-exact comparisons (`.zfs` at the top is skipped).
#[derive(Debug, PartialEq, Eq)]
enum Node {
    File {
        content: Vec<u8>,
        mode: u32,
        mtime: (i64, i64),
    },
    Directory {
        mode: u32,
    },
    Symlink {
        target: Vec<u8>,
    },
}

fn read_tree(root: &Path) -> BTreeMap<Vec<u8>, Node> {
    let mut nodes = BTreeMap::new();
    let mut pending = vec![(root.to_path_buf(), Vec::new())];
    while let Some((directory, relative)) = pending.pop() {
        for item in fs::read_dir(&directory).expect("read dir") {
            let item = item.expect("dir entry");
            let name = item.file_name().into_vec();
            if relative.is_empty() && name == b".zfs" {
                continue;
            }
            let mut path = relative.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(&name);
            let metadata = fs::symlink_metadata(item.path()).expect("lstat");
            let node = if metadata.file_type().is_symlink() {
                Node::Symlink {
                    target: fs::read_link(item.path())
                        .expect("readlink")
                        .into_os_string()
                        .into_vec(),
                }
            } else if metadata.is_dir() {
                pending.push((item.path(), path.clone()));
                Node::Directory {
                    mode: metadata.mode() & 0o7777,
                }
            } else {
                Node::File {
                    content: fs::read(item.path()).expect("read"),
                    mode: metadata.mode() & 0o7777,
                    mtime: (metadata.mtime(), metadata.mtime_nsec()),
                }
            };
            nodes.insert(path, node);
        }
    }
    nodes
}

/// A diff line as (change, type indicator, path, new path).
type Line = (char, char, PathBuf, Option<PathBuf>);

fn diff_lines(zfs: &FakeZfs, from: &str, to: DiffTarget<'_>) -> BTreeSet<Line> {
    zfs.diff(&snapshot(from), to)
        .expect("diff")
        .into_iter()
        .map(|entry| {
            let (change, to) = match entry.change {
                DiffChange::Created => ('+', None),
                DiffChange::Removed => ('-', None),
                DiffChange::Modified => ('M', None),
                DiffChange::Renamed { to } => ('R', Some(to)),
            };
            (change, entry.kind.indicator(), entry.path, to)
        })
        .collect()
}

/// A source tree with the awkward cases: nested directories, a non-UTF-8 name, a newline in
/// a name, an empty file, a file spanning several stream blocks, a symlink, odd modes.
fn populate(root: &Path) {
    write(&root.join("readme.txt"), b"hello\n");
    write(&root.join(name_bytes(b"caf\xe9.txt")), b"latin-1 name\n");
    write(&root.join("line\nbreak"), b"newline in the name\n");
    write(&root.join("empty"), b"");
    fs::create_dir_all(root.join("nested/deeper")).expect("mkdir");
    let large: Vec<u8> = (0..200_000_u32).map(|index| (index % 251) as u8).collect();
    write(&root.join("nested/deeper/large.bin"), &large);
    write(&root.join("nested/secret"), b"mode 600\n");
    fs::set_permissions(
        root.join("nested/secret"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("../readme.txt", root.join("nested/link")).expect("symlink");
    std::os::unix::fs::symlink("/etc/passwd", root.join("absolute-link")).expect("symlink");
}

#[test]
fn version_pools_and_debug() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let version = zfs.version().expect("version");
    assert_eq!(version.userland, "zfs-fake-2.3.99");
    assert_eq!(version.kernel.as_deref(), Some("zfs-kmod-fake-2.3.99"));
    write(&mountpoint(zfs, "tank").join("data"), &[7; 1000]);
    let pools = zfs.list_pools().expect("pools");
    let names: Vec<&str> = pools.iter().map(|pool| pool.name.as_str()).collect();
    assert_eq!(names, ["backup", "tank"]);
    let tank = &pools[1];
    assert_eq!(tank.health, PoolHealth::Online);
    assert_eq!(tank.size, 1 << 30);
    assert_eq!(tank.allocated, 1000);
    assert_eq!(tank.free, (1 << 30) - 1000);
    assert_eq!(tank.fragmentation_percent, Some(0));
    assert_eq!(tank.capacity_percent, 0);
    assert!(!tank.readonly);
    assert_ne!(pools[0].guid, tank.guid);
    let duplicate = zfs.create_pool(&PoolName::new("tank").expect("pool name"), 1);
    assert!(
        matches!(duplicate, Err(ZfsError::AlreadyExists { .. })),
        "{duplicate:?}"
    );
    assert!(format!("{zfs:?}").contains("FakeZfs"));
}

#[test]
fn create_filesystem_requires_parent_and_refuses_duplicates() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let missing_parent = zfs.create_filesystem(&dataset("tank/a/b"), &[]);
    assert!(
        matches!(missing_parent, Err(ZfsError::NotFound { .. })),
        "{missing_parent:?}"
    );
    let properties = [
        (property("compression"), "zstd".to_owned()),
        (property("wizfs:role"), "source".to_owned()),
    ];
    zfs.create_filesystem(&dataset("tank/a"), &properties)
        .expect("create");
    let duplicate = zfs.create_filesystem(&dataset("tank/a"), &[]);
    assert!(
        matches!(duplicate, Err(ZfsError::AlreadyExists { .. })),
        "{duplicate:?}"
    );
    let no_pool = zfs.create_filesystem(&dataset("nopool/a"), &[]);
    assert!(
        matches!(no_pool, Err(ZfsError::NotFound { .. })),
        "{no_pool:?}"
    );
    let child = create(zfs, "tank/a/b");
    assert!(child.is_dir());
    assert_eq!(child, fixture.zfs.root().join("tank/a/b"));
    assert!(child.join(".zfs/snapshot").is_dir());

    let listed: Vec<String> = zfs
        .list_datasets(None)
        .expect("list")
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    assert_eq!(listed, ["backup", "tank", "tank/a", "tank/a/b"]);
    let below: Vec<String> = zfs
        .list_datasets(Some(&dataset("tank/a")))
        .expect("list")
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    assert_eq!(below, ["tank/a", "tank/a/b"]);
    let missing = zfs.list_datasets(Some(&dataset("tank/nope")));
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );
    let row = &zfs.list_datasets(Some(&dataset("tank/a/b"))).expect("list")[0];
    assert!(row.mounted);
    assert_eq!(row.mountpoint.as_deref(), Some(child.as_path()));
    assert_eq!(row.creation, Timestamp(NOW));

    assert_eq!(
        get(zfs, "tank/a", "compression"),
        (Some("zstd".into()), PropertySource::Local)
    );
    assert_eq!(
        get(zfs, "tank/a/b", "compression"),
        (
            Some("zstd".into()),
            PropertySource::Inherited {
                from: "tank/a".into()
            }
        )
    );
    assert_eq!(
        get(zfs, "tank", "compression"),
        (Some("on".into()), PropertySource::Default)
    );
    assert_eq!(
        get(zfs, "tank/a", "snapdir"),
        (Some("hidden".into()), PropertySource::Default)
    );
    assert_eq!(
        get(zfs, "tank/a/b", "wizfs:role"),
        (
            Some("source".into()),
            PropertySource::Inherited {
                from: "tank/a".into()
            }
        )
    );
    assert_eq!(get(zfs, "tank", "wizfs:role"), (None, PropertySource::None));
    assert_eq!(get(zfs, "tank/a", "type").0.as_deref(), Some("filesystem"));
    assert_eq!(get(zfs, "tank/a", "mounted").0.as_deref(), Some("yes"));
    assert_eq!(
        get(zfs, "tank/a", "receive_resume_token"),
        (None, PropertySource::None)
    );
    assert_eq!(
        get(zfs, "tank/a", "mountpoint").0,
        Some(mountpoint(zfs, "tank/a").display().to_string())
    );
    assert!(get_number(zfs, "tank/a", "available") > 0);

    let target = ZfsObjectName::parse("tank/a/b").expect("name");
    zfs.set_property(&target, &property("wizfs:role"), "override")
        .expect("set");
    assert_eq!(
        get(zfs, "tank/a/b", "wizfs:role"),
        (Some("override".into()), PropertySource::Local)
    );
    let read_only = zfs.set_property(&target, &property("used"), "1");
    assert!(
        matches!(read_only, Err(ZfsError::Failed { .. })),
        "{read_only:?}"
    );
    let mountpoint_change = zfs.set_property(&target, &property("mountpoint"), "/elsewhere");
    assert!(
        matches!(mountpoint_change, Err(ZfsError::InvalidRequest(_))),
        "{mountpoint_change:?}"
    );
    let newline = zfs.set_property(&target, &property("wizfs:x"), "a\nb");
    assert!(
        matches!(newline, Err(ZfsError::InvalidRequest(_))),
        "{newline:?}"
    );
    let missing_target = zfs.get_properties(
        &ZfsObjectName::parse("tank/nope").expect("name"),
        &[property("used")],
    );
    assert!(
        matches!(missing_target, Err(ZfsError::NotFound { .. })),
        "{missing_target:?}"
    );
    let dot_zfs = zfs.create_filesystem(&dataset("tank/.zfs"), &[]);
    assert!(
        matches!(dot_zfs, Err(ZfsError::InvalidRequest(_))),
        "{dot_zfs:?}"
    );
}

#[test]
fn destroy_filesystem_needs_recursion_for_children_and_snapshots() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let parent = create(zfs, "tank/a");
    let child = create(zfs, "tank/a/b");
    write(&child.join("file"), b"x");
    take(zfs, "tank/a/b@s1");
    zfs.create_bookmark(
        &snapshot("tank/a/b@s1"),
        &BookmarkName::new("tank/a/b#s1").expect("bookmark"),
    )
    .expect("bookmark");

    let with_children = zfs.destroy_filesystem(&dataset("tank/a"), false);
    let Err(ZfsError::HasDependents { stderr, .. }) = with_children else {
        panic!("{with_children:?}")
    };
    assert!(stderr.contains("filesystem has children"), "{stderr}");
    let with_snapshots = zfs.destroy_filesystem(&dataset("tank/a/b"), false);
    let Err(ZfsError::HasDependents { stderr, .. }) = with_snapshots else {
        panic!("{with_snapshots:?}")
    };
    assert!(stderr.contains("tank/a/b@s1"), "{stderr}");
    let pool_root = zfs.destroy_filesystem(&dataset("tank"), false);
    assert!(
        matches!(pool_root, Err(ZfsError::Failed { .. })),
        "{pool_root:?}"
    );
    let missing = zfs.destroy_filesystem(&dataset("tank/nope"), true);
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );

    zfs.hold(&snapshot("tank/a/b@s1"), &tag("keep"), false)
        .expect("hold");
    let held = zfs.destroy_filesystem(&dataset("tank/a"), true);
    assert!(matches!(held, Err(ZfsError::Busy { .. })), "{held:?}");
    zfs.release(&snapshot("tank/a/b@s1"), &tag("keep"), false)
        .expect("release");

    zfs.destroy_filesystem(&dataset("tank/a"), true)
        .expect("recursive destroy");
    assert!(!parent.exists());
    assert_eq!(zfs.mountpoint(&dataset("tank/a/b")), None);
    let names: Vec<String> = zfs
        .list_datasets(Some(&dataset("tank")))
        .expect("list")
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    assert_eq!(names, ["tank"]);
    let manifests = fs::read_dir(fixture.zfs.root().join(".fakezfs/manifests"))
        .expect("manifests")
        .count();
    assert_eq!(
        manifests, 0,
        "manifests of destroyed snapshots and bookmarks are deleted"
    );

    let leaf = create(zfs, "tank/leaf");
    zfs.destroy_filesystem(&dataset("tank/leaf"), false)
        .expect("destroy leaf");
    assert!(!leaf.exists());
}

#[test]
fn recursive_snapshots_are_atomic_and_share_one_txg() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let parent = create(zfs, "tank/a");
    let child = create(zfs, "tank/a/b");
    write(&parent.join("top"), b"top");
    write(&child.join("below"), b"below");
    let managed = [(property("wizfs:managed"), "true".to_owned())];
    zfs.create_snapshots(&[snapshot("tank/a@daily")], true, &managed)
        .expect("recursive snapshot");

    let rows = zfs
        .list_snapshots(&dataset("tank/a"), Scope::Recursive)
        .expect("list");
    let names: Vec<String> = rows.iter().map(|row| row.name.to_string()).collect();
    assert_eq!(names, ["tank/a@daily", "tank/a/b@daily"]);
    assert_eq!(rows[0].createtxg, rows[1].createtxg);
    assert_ne!(rows[0].guid, rows[1].guid);
    assert_eq!(rows[0].creation, Timestamp(NOW));
    assert_eq!(
        get(zfs, "tank/a/b@daily", "wizfs:managed"),
        (Some("true".into()), PropertySource::Local)
    );
    assert_eq!(
        get(zfs, "tank/a@daily", "type").0.as_deref(),
        Some("snapshot")
    );
    let only_parent = zfs
        .list_snapshots(&dataset("tank/a"), Scope::Dataset)
        .expect("list");
    assert_eq!(only_parent.len(), 1);

    let copy = parent.join(".zfs/snapshot/daily");
    assert_eq!(fs::read(copy.join("top")).expect("copy"), b"top");
    assert!(
        !copy.join("b").exists(),
        "a child dataset's mountpoint is not part of its parent's snapshot"
    );
    assert_eq!(
        fs::read(child.join(".zfs/snapshot/daily/below")).expect("copy"),
        b"below"
    );

    // A missing dataset: nothing is created.
    let missing = zfs.create_snapshots(
        &[snapshot("tank/a@next"), snapshot("tank/nope@next")],
        false,
        &[],
    );
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );
    // An existing snapshot: nothing is created either.
    let existing = zfs.create_snapshots(
        &[snapshot("tank/a@next"), snapshot("tank/a/b@daily")],
        false,
        &[],
    );
    assert!(
        matches!(existing, Err(ZfsError::AlreadyExists { .. })),
        "{existing:?}"
    );
    assert_eq!(
        zfs.list_snapshots(&dataset("tank/a"), Scope::Recursive)
            .expect("list")
            .len(),
        2
    );
    assert!(!parent.join(".zfs/snapshot/next").exists());
    let two_of_one =
        zfs.create_snapshots(&[snapshot("tank/a@x"), snapshot("tank/a@y")], false, &[]);
    assert!(
        matches!(two_of_one, Err(ZfsError::Failed { .. })),
        "{two_of_one:?}"
    );

    // Separate calls get separate, increasing txgs; one call with two names shares one.
    zfs.create_snapshots(
        &[snapshot("tank/a@later"), snapshot("tank/a/b@other")],
        false,
        &[],
    )
    .expect("snapshot");
    let later = snapshot_row(zfs, "tank/a@later");
    assert_eq!(
        later.createtxg,
        snapshot_row(zfs, "tank/a/b@other").createtxg
    );
    assert!(later.createtxg > rows[0].createtxg);
}

#[test]
fn snapshot_copies_keep_content_modes_times_and_symlinks() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/data");
    populate(&root);
    let old = filetime(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(root.join("readme.txt"))
        .expect("open")
        .set_modified(old)
        .expect("mtime");
    take(zfs, "tank/data@s1");
    let copy = root.join(".zfs/snapshot/s1");
    assert_eq!(read_tree(&copy), read_tree(&root));
    let link = fs::symlink_metadata(copy.join("absolute-link")).expect("lstat");
    assert!(
        link.file_type().is_symlink(),
        "symlinks are copied as symlinks, never followed"
    );
    assert_eq!(
        fs::metadata(copy.join("readme.txt")).expect("stat").mtime(),
        1_600_000_000
    );
    assert_eq!(
        fs::metadata(copy.join("nested/secret"))
            .expect("stat")
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        fs::read(copy.join(name_bytes(b"caf\xe9.txt"))).expect("read"),
        b"latin-1 name\n"
    );
    // The live tree changes, the copy does not.
    write(&root.join("readme.txt"), b"changed");
    assert_eq!(fs::read(copy.join("readme.txt")).expect("read"), b"hello\n");
}

fn filetime(seconds: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}

#[test]
fn space_accounting_and_written_zero_without_changes() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/data");
    write(&root.join("file"), &[1; 100]);
    take(zfs, "tank/data@s1");
    take(zfs, "tank/data@s2");
    let s1 = snapshot_row(zfs, "tank/data@s1");
    let s2 = snapshot_row(zfs, "tank/data@s2");
    assert_eq!((s1.referenced, s1.written, s1.used), (100, 100, 0));
    assert_eq!(
        (s2.referenced, s2.written, s2.used),
        (100, 0, 0),
        "no change since s1: written is 0"
    );
    assert_eq!(get_number(zfs, "tank/data", "written"), 0);
    assert_eq!(get_number(zfs, "tank/data@s2", "written"), 0);

    write(&root.join("file"), &[2; 50]);
    take(zfs, "tank/data@s3");
    let s3 = snapshot_row(zfs, "tank/data@s3");
    assert_eq!(
        (s3.referenced, s3.written, s3.used),
        (50, 50 + 512, 0),
        "the new data, and the changed entry's metadata"
    );

    // The old 100 bytes are shared by s1 and s2: unique to neither, but held by snapshots.
    assert_eq!(snapshot_row(zfs, "tank/data@s1").used, 0);
    assert_eq!(get_number(zfs, "tank/data", "usedbysnapshots"), 100);
    assert_eq!(get_number(zfs, "tank/data", "referenced"), 50);
    assert_eq!(get_number(zfs, "tank/data", "used"), 150);
    assert_eq!(
        zfs.reclaimable_space(&[snapshot("tank/data@s2")])
            .expect("reclaim"),
        0
    );
    assert_eq!(
        zfs.reclaimable_space(&[snapshot("tank/data@s1"), snapshot("tank/data@s2")])
            .expect("reclaim"),
        100
    );
    let mixed = zfs.reclaimable_space(&[snapshot("tank/data@s1"), snapshot("tank@s1")]);
    assert!(
        matches!(mixed, Err(ZfsError::InvalidRequest(_))),
        "{mixed:?}"
    );
    assert!(matches!(
        zfs.reclaimable_space(&[]),
        Err(ZfsError::InvalidRequest(_))
    ));

    zfs.destroy_snapshots(&[snapshot("tank/data@s1")], DestroyOptions::default())
        .expect("destroy");
    assert_eq!(
        snapshot_row(zfs, "tank/data@s2").used,
        100,
        "now unique to s2"
    );
    let child = create(zfs, "tank/data/child");
    write(&child.join("more"), &[3; 10]);
    assert_eq!(get_number(zfs, "tank/data", "used"), 160);
    assert_eq!(get_number(zfs, "tank/data", "usedbychildren"), 10);
    let tank = zfs
        .list_pools()
        .expect("pools")
        .into_iter()
        .find(|pool| pool.name.as_str() == "tank")
        .expect("tank");
    assert_eq!(tank.allocated, 160);
    assert_eq!(get_number(zfs, "tank/data", "available"), (1 << 30) - 160);
}

#[test]
fn deletions_and_renames_write_metadata() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/data");
    write(&root.join("a"), b"a");
    write(&root.join("b"), b"b");
    take(zfs, "tank/data@s1");
    fs::remove_file(root.join("a")).expect("remove");
    assert_eq!(
        get_number(zfs, "tank/data", "written"),
        2 * 512,
        "the removed entry and its directory: written is 0 only when nothing changed"
    );
    take(zfs, "tank/data@s2");
    fs::rename(root.join("b"), root.join("c")).expect("rename");
    take(zfs, "tank/data@s3");
    assert_eq!(snapshot_row(zfs, "tank/data@s2").written, 2 * 512);
    assert!(snapshot_row(zfs, "tank/data@s3").written > 0, "a rename");
}

#[test]
fn same_size_rewrite_right_after_a_snapshot_is_seen() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/data");
    write(&root.join("file"), b"aaaa");
    take(zfs, "tank/data@s1");
    write(&root.join("file"), b"bbbb");
    take(zfs, "tank/data@s2");
    assert_eq!(snapshot_row(zfs, "tank/data@s2").written, 4 + 512);
    let lines = diff_lines(
        zfs,
        "tank/data@s1",
        DiffTarget::Snapshot(&snapshot("tank/data@s2")),
    );
    assert!(
        lines.contains(&('M', 'F', root.join("file"), None)),
        "{lines:?}"
    );
}

#[test]
fn holds_refuse_destroy_and_deferred_destroy_waits_for_release() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/data");
    take(zfs, "tank/data@s1");
    let s1 = snapshot("tank/data@s1");
    zfs.hold(&s1, &tag("wizfs:replica"), false).expect("hold");
    let twice = zfs.hold(&s1, &tag("wizfs:replica"), false);
    assert!(
        matches!(twice, Err(ZfsError::AlreadyExists { .. })),
        "{twice:?}"
    );
    let holds = zfs.holds(&s1).expect("holds");
    assert_eq!(holds.len(), 1);
    assert_eq!(
        (holds[0].tag.as_str(), holds[0].created, &holds[0].snapshot),
        ("wizfs:replica", Timestamp(NOW), &s1)
    );
    assert_eq!(snapshot_row(zfs, "tank/data@s1").user_refs, 1);
    assert_eq!(get_number(zfs, "tank/data@s1", "userrefs"), 1);

    let busy = zfs.destroy_snapshots(std::slice::from_ref(&s1), DestroyOptions::default());
    let Err(ZfsError::Busy { stderr, .. }) = busy else {
        panic!("{busy:?}")
    };
    assert!(
        stderr.starts_with("cannot destroy snapshot tank/data@s1: it's being held."),
        "{stderr}"
    );
    let no_tag = zfs.release(&s1, &tag("other"), false);
    assert!(
        matches!(no_tag, Err(ZfsError::NotFound { .. })),
        "{no_tag:?}"
    );
    let missing = zfs.hold(&snapshot("tank/data@nope"), &tag("x"), false);
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );

    zfs.destroy_snapshots(
        std::slice::from_ref(&s1),
        DestroyOptions {
            defer: true,
            ..DestroyOptions::default()
        },
    )
    .expect("defer");
    assert_eq!(
        get(zfs, "tank/data@s1", "defer_destroy").0.as_deref(),
        Some("on")
    );
    assert!(root.join(".zfs/snapshot/s1").is_dir());
    zfs.release(&s1, &tag("wizfs:replica"), false)
        .expect("release");
    assert!(
        zfs.list_snapshots(&dataset("tank/data"), Scope::Dataset)
            .expect("list")
            .is_empty()
    );
    assert!(!root.join(".zfs/snapshot/s1").exists());

    // Recursive holds and releases.
    create(zfs, "tank/data/child");
    zfs.create_snapshots(&[snapshot("tank/data@s2")], true, &[])
        .expect("snapshot");
    zfs.hold(&snapshot("tank/data@s2"), &tag("keep"), true)
        .expect("recursive hold");
    assert_eq!(
        zfs.holds(&snapshot("tank/data/child@s2"))
            .expect("holds")
            .len(),
        1
    );
    zfs.release(&snapshot("tank/data@s2"), &tag("keep"), true)
        .expect("recursive release");
    assert!(
        zfs.holds(&snapshot("tank/data/child@s2"))
            .expect("holds")
            .is_empty()
    );
}

#[test]
fn destroy_snapshots_recursively_and_reports_missing_ones() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    create(zfs, "tank/a");
    let child = create(zfs, "tank/a/b");
    zfs.create_snapshots(&[snapshot("tank/a@s1")], true, &[])
        .expect("snapshot");
    take(zfs, "tank/a@s2");
    let missing = zfs.destroy_snapshots(&[snapshot("tank/a@nope")], DestroyOptions::default());
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );
    let missing_dataset =
        zfs.destroy_snapshots(&[snapshot("tank/zz@s1")], DestroyOptions::default());
    assert!(
        matches!(missing_dataset, Err(ZfsError::NotFound { .. })),
        "{missing_dataset:?}"
    );
    zfs.destroy_snapshots(
        &[snapshot("tank/a@s1")],
        DestroyOptions {
            recursive: true,
            defer: false,
        },
    )
    .expect("destroy -r");
    let left: Vec<String> = zfs
        .list_snapshots(&dataset("tank/a"), Scope::Recursive)
        .expect("list")
        .iter()
        .map(|row| row.name.to_string())
        .collect();
    assert_eq!(left, ["tank/a@s2"]);
    assert!(!child.join(".zfs/snapshot/s1").exists());
}

#[test]
fn bookmarks_copy_guid_txg_and_creation() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    create(zfs, "tank/data");
    create(zfs, "tank/other");
    take(zfs, "tank/data@s1");
    let bookmark = BookmarkName::new("tank/data#b1").expect("bookmark");
    zfs.create_bookmark(&snapshot("tank/data@s1"), &bookmark)
        .expect("bookmark");
    let rows = zfs.list_bookmarks(&dataset("tank/data")).expect("list");
    let source = snapshot_row(zfs, "tank/data@s1");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].guid, rows[0].createtxg, rows[0].creation),
        (source.guid, source.createtxg, source.creation)
    );
    assert_eq!(get_number(zfs, "tank/data#b1", "guid"), source.guid);
    let duplicate = zfs.create_bookmark(&snapshot("tank/data@s1"), &bookmark);
    assert!(
        matches!(duplicate, Err(ZfsError::AlreadyExists { .. })),
        "{duplicate:?}"
    );
    let elsewhere = zfs.create_bookmark(
        &snapshot("tank/data@s1"),
        &BookmarkName::new("tank/other#b").expect("name"),
    );
    assert!(
        matches!(elsewhere, Err(ZfsError::InvalidRequest(_))),
        "{elsewhere:?}"
    );
    let no_snapshot = zfs.create_bookmark(
        &snapshot("tank/data@nope"),
        &BookmarkName::new("tank/data#b2").expect("name"),
    );
    assert!(
        matches!(no_snapshot, Err(ZfsError::NotFound { .. })),
        "{no_snapshot:?}"
    );
    zfs.destroy_snapshots(&[snapshot("tank/data@s1")], DestroyOptions::default())
        .expect("destroy snapshot");
    assert_eq!(
        zfs.list_bookmarks(&dataset("tank/data"))
            .expect("list")
            .len(),
        1,
        "bookmarks outlive snapshots"
    );
    zfs.destroy_bookmark(&bookmark).expect("destroy bookmark");
    let again = zfs.destroy_bookmark(&bookmark);
    assert!(matches!(again, Err(ZfsError::NotFound { .. })), "{again:?}");
    assert!(
        zfs.list_bookmarks(&dataset("tank/data"))
            .expect("list")
            .is_empty()
    );
}

#[test]
fn diff_reports_created_removed_modified_and_renamed_paths() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/docs");
    write(&root.join("keep.txt"), b"keep");
    write(&root.join("change.txt"), b"before");
    write(&root.join("remove.txt"), b"bye");
    write(&root.join("move-me.txt"), b"moving");
    fs::create_dir(root.join("dir")).expect("mkdir");
    write(&root.join("dir/inner.txt"), b"inner");
    take(zfs, "tank/docs@one");

    let latin1 = root.join(name_bytes(b"caf\xe9.txt"));
    write(&latin1, b"new");
    write(&root.join("line\nbreak"), b"nl");
    fs::remove_file(root.join("remove.txt")).expect("rm");
    write(&root.join("change.txt"), b"before and after");
    fs::rename(root.join("move-me.txt"), root.join("dir/moved.txt")).expect("mv");
    write(&root.join("dir/moved.txt"), b"moved and modified");

    let expected: BTreeSet<Line> = [
        ('+', 'F', latin1.clone(), None),
        ('+', 'F', root.join("line\nbreak"), None),
        ('-', 'F', root.join("remove.txt"), None),
        ('M', 'F', root.join("change.txt"), None),
        (
            'R',
            'F',
            root.join("move-me.txt"),
            Some(root.join("dir/moved.txt")),
        ),
        ('M', '/', root.clone(), None),
        ('M', '/', root.join("dir"), None),
    ]
    .into_iter()
    .collect();
    assert_eq!(diff_lines(zfs, "tank/docs@one", DiffTarget::Live), expected);
    let entries = zfs
        .diff(&snapshot("tank/docs@one"), DiffTarget::Live)
        .expect("diff");
    assert!(entries.iter().all(|entry| entry.path.is_absolute()));
    assert!(entries.iter().all(|entry| entry.changed_at_seconds > 0));

    take(zfs, "tank/docs@two");
    assert_eq!(
        diff_lines(
            zfs,
            "tank/docs@one",
            DiffTarget::Snapshot(&snapshot("tank/docs@two"))
        ),
        expected
    );
    assert!(diff_lines(zfs, "tank/docs@two", DiffTarget::Live).is_empty());

    // Directory removal reports every removed entry.
    fs::remove_dir_all(root.join("dir")).expect("rm -r");
    let lines = diff_lines(zfs, "tank/docs@two", DiffTarget::Live);
    for path in ["dir", "dir/inner.txt", "dir/moved.txt"] {
        assert!(
            lines
                .iter()
                .any(|(change, _, line_path, _)| *change == '-' && *line_path == root.join(path)),
            "{lines:?}"
        );
    }
}

#[test]
fn diff_tells_apart_new_files_that_reuse_inode_numbers() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let root = create(zfs, "tank/churn");
    for index in 0..30 {
        write(&root.join(format!("old-{index}")), b"old");
    }
    take(zfs, "tank/churn@before");
    for index in 0..30 {
        fs::remove_file(root.join(format!("old-{index}"))).expect("rm");
        write(&root.join(format!("new-{index}")), b"new");
    }
    let lines = diff_lines(zfs, "tank/churn@before", DiffTarget::Live);
    let count = |change: char| lines.iter().filter(|line| line.0 == change).count();
    assert_eq!(
        (count('-'), count('+'), count('R')),
        (30, 30, 0),
        "{lines:?}"
    );
    assert!(lines.contains(&('M', '/', root.clone(), None)));
}

#[test]
fn diff_rejects_bad_ranges() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    create(zfs, "tank/a");
    create(zfs, "tank/b");
    take(zfs, "tank/a@one");
    take(zfs, "tank/a@two");
    take(zfs, "tank/b@one");
    let backwards = zfs.diff(
        &snapshot("tank/a@two"),
        DiffTarget::Snapshot(&snapshot("tank/a@one")),
    );
    assert!(
        matches!(backwards, Err(ZfsError::InvalidRequest(_))),
        "{backwards:?}"
    );
    let same = zfs.diff(
        &snapshot("tank/a@one"),
        DiffTarget::Snapshot(&snapshot("tank/a@one")),
    );
    assert!(matches!(same, Err(ZfsError::InvalidRequest(_))), "{same:?}");
    let across = zfs.diff(
        &snapshot("tank/a@one"),
        DiffTarget::Snapshot(&snapshot("tank/b@one")),
    );
    assert!(
        matches!(across, Err(ZfsError::InvalidRequest(_))),
        "{across:?}"
    );
    let missing = zfs.diff(&snapshot("tank/a@nope"), DiffTarget::Live);
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );
}

#[test]
fn full_and_incremental_send_receive_round_trip() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let source = create(zfs, "tank/src");
    populate(&source);
    take(zfs, "tank/src@s1");
    let stream = send_bytes(zfs, &full("tank/src@s1"));
    assert_eq!(
        zfs.estimate_send_size(&full("tank/src@s1"))
            .expect("estimate"),
        stream.len() as u64
    );
    assert!(stream.starts_with(b"WIZFS-FAKE-STREAM 1\n"));
    receive(zfs, "backup/dst", &ReceiveOptions::default(), &stream).expect("full receive");
    let target = mountpoint(zfs, "backup/dst");
    assert_eq!(
        read_tree(&target),
        read_tree(&source.join(".zfs/snapshot/s1"))
    );
    assert_eq!(
        read_tree(&target.join(".zfs/snapshot/s1")),
        read_tree(&source.join(".zfs/snapshot/s1"))
    );
    let sent = snapshot_row(zfs, "tank/src@s1");
    let received = snapshot_row(zfs, "backup/dst@s1");
    assert_eq!(
        (received.guid, received.creation),
        (sent.guid, sent.creation),
        "snapshot guids are preserved"
    );
    assert_ne!(
        get_number(zfs, "backup/dst", "guid"),
        get_number(zfs, "tank/src", "guid"),
        "the received filesystem gets its own guid"
    );

    // Changes of every kind, including a same-size rewrite in place.
    write(&source.join("readme.txt"), b"HELLO\n");
    fs::remove_file(source.join("empty")).expect("rm");
    write(&source.join("added"), b"new file\n");
    fs::rename(source.join("nested/secret"), source.join("secret-moved")).expect("mv");
    fs::set_permissions(
        source.join("secret-moved"),
        fs::Permissions::from_mode(0o640),
    )
    .expect("chmod");
    fs::remove_file(source.join("absolute-link")).expect("rm link");
    std::os::unix::fs::symlink("readme.txt", source.join("absolute-link")).expect("symlink");
    fs::remove_dir_all(source.join("nested/deeper")).expect("rm -r");
    fs::create_dir(source.join("nested/deeper")).expect("mkdir");
    write(
        &source.join(name_bytes(b"nested/deeper/\xff\xfe")),
        b"binary name",
    );
    take(zfs, "tank/src@s2");
    let delta = send_bytes(zfs, &incremental("tank/src@s1", "tank/src@s2"));
    assert_eq!(
        zfs.estimate_send_size(&incremental("tank/src@s1", "tank/src@s2"))
            .expect("estimate"),
        delta.len() as u64
    );
    assert!(
        delta.len() < stream.len(),
        "an incremental stream only carries changes"
    );
    receive(zfs, "backup/dst", &ReceiveOptions::default(), &delta).expect("incremental receive");
    assert_eq!(
        read_tree(&target),
        read_tree(&source.join(".zfs/snapshot/s2"))
    );
    assert_eq!(
        snapshot_row(zfs, "backup/dst@s2").guid,
        snapshot_row(zfs, "tank/src@s2").guid
    );
    assert!(snapshot_row(zfs, "backup/dst@s2").written > 0);
    let received_changes = diff_lines(
        zfs,
        "backup/dst@s1",
        DiffTarget::Snapshot(&snapshot("backup/dst@s2")),
    );
    assert!(
        received_changes.contains(&('M', 'F', target.join("readme.txt"), None)),
        "{received_changes:?}"
    );
    assert!(diff_lines(zfs, "backup/dst@s2", DiffTarget::Live).is_empty());

    // Nothing changed: the next snapshot writes nothing on either side.
    take(zfs, "tank/src@s3");
    receive(
        zfs,
        "backup/dst",
        &ReceiveOptions::default(),
        &send_bytes(zfs, &incremental("tank/src@s2", "tank/src@s3")),
    )
    .expect("empty incremental");
    assert_eq!(snapshot_row(zfs, "tank/src@s3").written, 0);
    assert_eq!(snapshot_row(zfs, "backup/dst@s3").written, 0);

    // Properties given to receive are set locally; -u leaves the dataset unmounted.
    let options = ReceiveOptions {
        unmounted: true,
        properties: vec![(property("wizfs:origin"), "tank/src".into())],
        ..ReceiveOptions::default()
    };
    receive(zfs, "backup/copy", &options, &stream).expect("receive with options");
    assert_eq!(
        get(zfs, "backup/copy", "wizfs:origin"),
        (Some("tank/src".into()), PropertySource::Local)
    );
    assert_eq!(get(zfs, "backup/copy", "mounted").0.as_deref(), Some("no"));
}

#[test]
fn receive_between_two_fakes_and_with_intermediates_and_bookmarks() {
    let sender = fixture();
    let receiver = fixture();
    let (source_zfs, target_zfs) = (&sender.zfs, &receiver.zfs);
    let source = create(source_zfs, "tank/src");
    write(&source.join("a"), b"1");
    take(source_zfs, "tank/src@s1");
    write(&source.join("b"), b"2");
    take(source_zfs, "tank/src@s2");
    write(&source.join("a"), b"3");
    take(source_zfs, "tank/src@s3");
    receive(
        target_zfs,
        "backup/dst",
        &ReceiveOptions::default(),
        &send_bytes(source_zfs, &full("tank/src@s1")),
    )
    .expect("full");
    let with_intermediates = SendSource::Snapshot {
        snapshot: snapshot("tank/src@s3"),
        base: Some(IncrementalBase::SnapshotWithIntermediates(snapshot(
            "tank/src@s1",
        ))),
        flags: SendFlags::default(),
    };
    let bytes = send_bytes(source_zfs, &with_intermediates);
    assert_eq!(
        source_zfs
            .estimate_send_size(&with_intermediates)
            .expect("estimate"),
        bytes.len() as u64
    );
    receive(target_zfs, "backup/dst", &ReceiveOptions::default(), &bytes).expect("-I receive");
    let guids = |zfs: &FakeZfs, name: &str| -> Vec<(String, u64)> {
        zfs.list_snapshots(&dataset(name), Scope::Dataset)
            .expect("list")
            .iter()
            .map(|row| (row.name.short_name().to_owned(), row.guid))
            .collect()
    };
    assert_eq!(
        guids(target_zfs, "backup/dst"),
        guids(source_zfs, "tank/src")
    );
    let target = mountpoint(target_zfs, "backup/dst");
    assert_eq!(read_tree(&target), read_tree(&source));

    // Incremental from a bookmark after its snapshot is gone.
    source_zfs
        .create_bookmark(
            &snapshot("tank/src@s3"),
            &BookmarkName::new("tank/src#s3").expect("bookmark"),
        )
        .expect("bookmark");
    source_zfs
        .destroy_snapshots(&[snapshot("tank/src@s3")], DestroyOptions::default())
        .expect("destroy");
    write(&source.join("c"), b"4");
    take(source_zfs, "tank/src@s4");
    let from_bookmark = SendSource::Snapshot {
        snapshot: snapshot("tank/src@s4"),
        base: Some(IncrementalBase::Bookmark(
            BookmarkName::new("tank/src#s3").expect("bookmark"),
        )),
        flags: SendFlags::default(),
    };
    receive(
        target_zfs,
        "backup/dst",
        &ReceiveOptions::default(),
        &send_bytes(source_zfs, &from_bookmark),
    )
    .expect("incremental from bookmark");
    assert_eq!(read_tree(&target), read_tree(&source));
    assert_eq!(
        snapshot_row(target_zfs, "backup/dst@s4").guid,
        snapshot_row(source_zfs, "tank/src@s4").guid
    );

    let replicate = SendSource::Snapshot {
        snapshot: snapshot("tank/src@s4"),
        base: None,
        flags: SendFlags {
            replicate: true,
            ..SendFlags::default()
        },
    };
    assert!(matches!(
        source_zfs.send(&replicate),
        Err(ZfsError::InvalidRequest(_))
    ));
    let backwards = source_zfs.send(&incremental("tank/src@s4", "tank/src@s2"));
    assert!(
        matches!(backwards, Err(ZfsError::InvalidRequest(_))),
        "{backwards:?}"
    );
}

#[test]
fn incremental_receive_checks_base_modifications_and_rolls_back_with_force() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let source = create(zfs, "tank/src");
    write(&source.join("file"), b"one");
    take(zfs, "tank/src@s1");
    write(&source.join("file"), b"two!");
    take(zfs, "tank/src@s2");
    write(&source.join("other"), b"three");
    take(zfs, "tank/src@s3");

    let missing = receive(
        zfs,
        "backup/dst",
        &ReceiveOptions::default(),
        &send_bytes(zfs, &incremental("tank/src@s1", "tank/src@s2")),
    );
    assert!(
        matches!(missing, Err(ZfsError::NotFound { .. })),
        "{missing:?}"
    );
    let initial = send_bytes(zfs, &full("tank/src@s1"));
    receive(zfs, "backup/dst", &ReceiveOptions::default(), &initial).expect("full");
    let exists = receive(zfs, "backup/dst", &ReceiveOptions::default(), &initial);
    assert!(
        matches!(exists, Err(ZfsError::AlreadyExists { .. })),
        "{exists:?}"
    );
    let has_snapshots = receive(
        zfs,
        "backup/dst",
        &ReceiveOptions {
            force_rollback: true,
            ..ReceiveOptions::default()
        },
        &initial,
    );
    assert!(
        matches!(has_snapshots, Err(ZfsError::Failed { .. })),
        "{has_snapshots:?}"
    );

    let wrong_base = receive(
        zfs,
        "backup/dst",
        &ReceiveOptions::default(),
        &send_bytes(zfs, &incremental("tank/src@s2", "tank/src@s3")),
    );
    let Err(ZfsError::Failed { stderr, .. }) = wrong_base else {
        panic!("{wrong_base:?}")
    };
    assert!(
        stderr.contains("does not match incremental source"),
        "{stderr}"
    );

    let target = mountpoint(zfs, "backup/dst");
    write(&target.join("local-change"), b"oops");
    write(&target.join("file"), b"ONE");
    let step = send_bytes(zfs, &incremental("tank/src@s1", "tank/src@s2"));
    let modified = receive(zfs, "backup/dst", &ReceiveOptions::default(), &step);
    let Err(ZfsError::Failed { stderr, .. }) = modified else {
        panic!("{modified:?}")
    };
    assert!(stderr.contains("has been modified"), "{stderr}");
    assert!(
        target.join("local-change").exists(),
        "a refused receive changes nothing"
    );

    let force = ReceiveOptions {
        force_rollback: true,
        ..ReceiveOptions::default()
    };
    receive(zfs, "backup/dst", &force, &step).expect("forced receive");
    assert!(!target.join("local-change").exists());
    assert_eq!(
        read_tree(&target),
        read_tree(&source.join(".zfs/snapshot/s2"))
    );
    assert!(diff_lines(zfs, "backup/dst@s2", DiffTarget::Live).is_empty());
    assert!(
        diff_lines(zfs, "backup/dst@s1", DiffTarget::Live)
            .iter()
            .all(|line| line.2 != target.join("local-change"))
    );

    // A snapshot taken on the target after the base is destroyed by -F.
    take(zfs, "backup/dst@local");
    let next = send_bytes(zfs, &incremental("tank/src@s2", "tank/src@s3"));
    let newer = receive(zfs, "backup/dst", &ReceiveOptions::default(), &next);
    assert!(matches!(newer, Err(ZfsError::Failed { .. })), "{newer:?}");
    receive(zfs, "backup/dst", &force, &next).expect("forced receive over a newer snapshot");
    let names: Vec<String> = zfs
        .list_snapshots(&dataset("backup/dst"), Scope::Dataset)
        .expect("list")
        .iter()
        .map(|row| row.name.short_name().to_owned())
        .collect();
    assert_eq!(names, ["s1", "s2", "s3"]);
    assert_eq!(read_tree(&target), read_tree(&source));
}

#[test]
fn full_receive_with_force_replaces_a_dataset_without_snapshots() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let source = create(zfs, "tank/src");
    write(&source.join("file"), b"content");
    take(zfs, "tank/src@s1");
    let target = create(zfs, "backup/dst");
    write(&target.join("stale"), b"stale");
    let stream = send_bytes(zfs, &full("tank/src@s1"));
    receive(
        zfs,
        "backup/dst",
        &ReceiveOptions {
            force_rollback: true,
            ..ReceiveOptions::default()
        },
        &stream,
    )
    .expect("forced full receive");
    assert_eq!(
        read_tree(&target),
        read_tree(&source.join(".zfs/snapshot/s1"))
    );
}

#[test]
fn truncated_resumable_receive_can_be_resumed() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let source = create(zfs, "tank/src");
    populate(&source);
    take(zfs, "tank/src@s1");
    let stream = send_bytes(zfs, &full("tank/src@s1"));
    // Three quarters in: inside the large file, after its first 128 KiB piece.
    let cut = stream.len() * 3 / 4;
    let interrupted = receive(zfs, "backup/dst", &resumable(), &stream[..cut]);
    let Err(ZfsError::Failed { stderr, .. }) = interrupted else {
        panic!("{interrupted:?}")
    };
    assert!(stderr.contains("zfs send -t 1-"), "{stderr}");
    let token = zfs
        .receive_resume_token(&dataset("backup/dst"))
        .expect("token")
        .expect("a token");
    assert!(ResumeToken::new(token.as_str()).is_ok());
    assert_eq!(
        get(zfs, "backup/dst", "receive_resume_token").0.as_deref(),
        Some(token.as_str())
    );
    assert_eq!(get(zfs, "backup/dst", "mounted").0.as_deref(), Some("no"));
    assert!(
        zfs.list_snapshots(&dataset("backup/dst"), Scope::Dataset)
            .expect("list")
            .is_empty()
    );
    let again = receive(zfs, "backup/dst", &resumable(), &stream);
    assert!(
        matches!(again, Err(ZfsError::Failed { .. })),
        "a new full stream cannot start over partial state"
    );

    let resume = SendSource::Resume(token.clone());
    let rest = send_bytes(zfs, &resume);
    assert_eq!(
        zfs.estimate_send_size(&resume).expect("estimate"),
        rest.len() as u64
    );
    assert!(
        rest.len() < stream.len() / 2,
        "resumes inside the large file: {} of {}",
        rest.len(),
        stream.len()
    );
    // The rest may itself be interrupted and resumed again.
    let second_cut = rest.len() - 30;
    receive(zfs, "backup/dst", &resumable(), &rest[..second_cut]).expect_err("interrupted again");
    let second_token = zfs
        .receive_resume_token(&dataset("backup/dst"))
        .expect("token")
        .expect("a token");
    assert_ne!(second_token, token);
    let rest = send_bytes(zfs, &SendSource::Resume(second_token));
    receive(zfs, "backup/dst", &resumable(), &rest).expect("resumed receive");
    assert_eq!(
        zfs.receive_resume_token(&dataset("backup/dst"))
            .expect("token"),
        None
    );
    let target = mountpoint(zfs, "backup/dst");
    assert_eq!(
        read_tree(&target),
        read_tree(&source.join(".zfs/snapshot/s1"))
    );
    assert_eq!(
        snapshot_row(zfs, "backup/dst@s1").guid,
        snapshot_row(zfs, "tank/src@s1").guid
    );
    assert_eq!(get(zfs, "backup/dst", "mounted").0.as_deref(), Some("yes"));

    // The same for an incremental stream.
    write(&source.join("nested/deeper/large.bin"), &[9; 150_000]);
    take(zfs, "tank/src@s2");
    let delta = send_bytes(zfs, &incremental("tank/src@s1", "tank/src@s2"));
    receive(zfs, "backup/dst", &resumable(), &delta[..delta.len() - 100]).expect_err("interrupted");
    assert!(snapshot_row_missing(zfs, "backup/dst@s2"));
    assert_eq!(
        fs::read(target.join("nested/deeper/large.bin"))
            .expect("read")
            .len(),
        200_000,
        "target untouched"
    );
    let token = zfs
        .receive_resume_token(&dataset("backup/dst"))
        .expect("token")
        .expect("a token");
    receive(
        zfs,
        "backup/dst",
        &resumable(),
        &send_bytes(zfs, &SendSource::Resume(token)),
    )
    .expect("resumed");
    assert_eq!(
        read_tree(&target),
        read_tree(&source.join(".zfs/snapshot/s2"))
    );
}

fn snapshot_row_missing(zfs: &FakeZfs, name: &str) -> bool {
    let name = snapshot(name);
    zfs.list_snapshots(name.dataset(), Scope::Dataset)
        .expect("list")
        .iter()
        .all(|row| row.name != name)
}

#[test]
fn truncated_or_corrupt_streams_without_resume_leave_nothing() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let source = create(zfs, "tank/src");
    populate(&source);
    take(zfs, "tank/src@s1");
    let stream = send_bytes(zfs, &full("tank/src@s1"));
    for cut in [0, 10, 30, stream.len() / 3, stream.len() - 1] {
        let result = receive(
            zfs,
            "backup/dst",
            &ReceiveOptions::default(),
            &stream[..cut],
        );
        assert!(
            matches!(result, Err(ZfsError::Failed { .. })),
            "cut at {cut}: {result:?}"
        );
        assert_eq!(zfs.mountpoint(&dataset("backup/dst")), None, "cut at {cut}");
    }
    let mut corrupt = stream.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let result = receive(zfs, "backup/dst", &ReceiveOptions::default(), &corrupt);
    assert!(matches!(result, Err(ZfsError::Failed { .. })), "{result:?}");
    assert_eq!(zfs.mountpoint(&dataset("backup/dst")), None);
    let garbage = receive(
        zfs,
        "backup/dst",
        &ReceiveOptions::default(),
        b"not a stream at all",
    );
    assert!(
        matches!(garbage, Err(ZfsError::Failed { .. })),
        "{garbage:?}"
    );
    let spools = fs::read_dir(fixture.zfs.root().join(".fakezfs/receive"))
        .expect("receive dir")
        .count();
    assert_eq!(spools, 0, "no spool files are left behind");
    // A cut inside the BEGIN record leaves nothing even when resumable.
    receive(zfs, "backup/dst", &resumable(), &stream[..25]).expect_err("truncated");
    assert_eq!(zfs.mountpoint(&dataset("backup/dst")), None);
}

#[test]
fn abort_resumable_receive_discards_partial_state() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    let source = create(zfs, "tank/src");
    populate(&source);
    take(zfs, "tank/src@s1");
    let stream = send_bytes(zfs, &full("tank/src@s1"));
    receive(zfs, "backup/dst", &resumable(), &stream[..stream.len() / 2]).expect_err("interrupted");
    assert!(zfs.mountpoint(&dataset("backup/dst")).is_some());
    zfs.abort_resumable_receive(&dataset("backup/dst"))
        .expect("abort");
    assert_eq!(
        zfs.mountpoint(&dataset("backup/dst")),
        None,
        "the partially received filesystem is destroyed"
    );
    let gone = zfs.abort_resumable_receive(&dataset("backup/dst"));
    assert!(matches!(gone, Err(ZfsError::NotFound { .. })), "{gone:?}");

    receive(zfs, "backup/dst", &ReceiveOptions::default(), &stream).expect("full receive");
    write(&source.join("readme.txt"), b"changed");
    take(zfs, "tank/src@s2");
    let delta = send_bytes(zfs, &incremental("tank/src@s1", "tank/src@s2"));
    receive(zfs, "backup/dst", &resumable(), &delta[..delta.len() - 20]).expect_err("interrupted");
    zfs.abort_resumable_receive(&dataset("backup/dst"))
        .expect("abort");
    assert_eq!(
        zfs.receive_resume_token(&dataset("backup/dst"))
            .expect("token"),
        None
    );
    assert!(
        zfs.mountpoint(&dataset("backup/dst")).is_some(),
        "an incremental abort keeps the dataset"
    );
    let nothing = zfs.abort_resumable_receive(&dataset("backup/dst"));
    assert!(
        matches!(nothing, Err(ZfsError::NotFound { .. })),
        "{nothing:?}"
    );
    receive(zfs, "backup/dst", &ReceiveOptions::default(), &delta).expect("receive after abort");
    let spools = fs::read_dir(fixture.zfs.root().join(".fakezfs/receive"))
        .expect("receive dir")
        .count();
    assert_eq!(spools, 0);
}

#[test]
fn state_survives_reopening() {
    let fixture = fixture();
    let root = fixture.zfs.root().to_path_buf();
    let clock = Arc::new(AtomicI64::new(NOW));
    let ticking = Arc::clone(&clock);
    fixture.zfs.set_clock(Arc::new(move || {
        Timestamp(ticking.fetch_add(1, Ordering::SeqCst))
    }));
    let source = create(&fixture.zfs, "tank/src");
    populate(&source);
    fixture
        .zfs
        .create_snapshots(
            &[snapshot("tank/src@s1")],
            false,
            &[(property("wizfs:managed"), "true".into())],
        )
        .expect("snapshot");
    fixture
        .zfs
        .hold(&snapshot("tank/src@s1"), &tag("keep"), false)
        .expect("hold");
    fixture
        .zfs
        .create_bookmark(
            &snapshot("tank/src@s1"),
            &BookmarkName::new("tank/src#b").expect("name"),
        )
        .expect("bookmark");
    let stream = send_bytes(&fixture.zfs, &full("tank/src@s1"));
    receive(
        &fixture.zfs,
        "backup/dst",
        &resumable(),
        &stream[..stream.len() / 2],
    )
    .expect_err("interrupted");
    let before = (
        fixture.zfs.list_datasets(None).expect("datasets"),
        fixture
            .zfs
            .list_snapshots(&dataset("tank"), Scope::Recursive)
            .expect("snapshots"),
        fixture
            .zfs
            .list_bookmarks(&dataset("tank/src"))
            .expect("bookmarks"),
        fixture.zfs.holds(&snapshot("tank/src@s1")).expect("holds"),
        fixture.zfs.list_pools().expect("pools"),
    );
    let Fixture { directory, zfs } = fixture;
    drop(zfs);

    let reopened = FakeZfs::open(&root).expect("reopen");
    let after = (
        reopened.list_datasets(None).expect("datasets"),
        reopened
            .list_snapshots(&dataset("tank"), Scope::Recursive)
            .expect("snapshots"),
        reopened
            .list_bookmarks(&dataset("tank/src"))
            .expect("bookmarks"),
        reopened.holds(&snapshot("tank/src@s1")).expect("holds"),
        reopened.list_pools().expect("pools"),
    );
    assert_eq!(before, after);
    assert_eq!(
        get(&reopened, "tank/src@s1", "wizfs:managed").0.as_deref(),
        Some("true")
    );
    let token = reopened
        .receive_resume_token(&dataset("backup/dst"))
        .expect("token")
        .expect("a token");
    receive(
        &reopened,
        "backup/dst",
        &resumable(),
        &send_bytes(&reopened, &SendSource::Resume(token)),
    )
    .expect("resume");
    assert_eq!(
        read_tree(&mountpoint(&reopened, "backup/dst")),
        read_tree(&source.join(".zfs/snapshot/s1"))
    );
    assert!(diff_lines(&reopened, "tank/src@s1", DiffTarget::Live).is_empty());
    drop(directory);
}

#[test]
fn guids_are_unique_and_never_zero() {
    let fixture = fixture();
    let zfs = &fixture.zfs;
    create(zfs, "tank/a");
    for index in 0..20 {
        take(zfs, &format!("tank/a@s{index}"));
    }
    let mut guids: Vec<u64> = zfs
        .list_snapshots(&dataset("tank/a"), Scope::Dataset)
        .expect("list")
        .iter()
        .map(|row| row.guid)
        .collect();
    guids.extend(
        zfs.list_datasets(None)
            .expect("list")
            .iter()
            .map(|row| row.guid),
    );
    guids.extend(
        zfs.list_pools()
            .expect("pools")
            .iter()
            .map(|pool| pool.guid),
    );
    let unique: BTreeSet<u64> = guids.iter().copied().collect();
    assert_eq!(unique.len(), guids.len());
    assert!(!unique.contains(&0));
    let txgs: Vec<u64> = zfs
        .list_snapshots(&dataset("tank/a"), Scope::Dataset)
        .expect("list")
        .iter()
        .map(|row| row.createtxg)
        .collect();
    assert!(txgs.windows(2).all(|pair| pair[0] < pair[1]), "{txgs:?}");
    // Another root draws from another sequence.
    let other = fixture_at(fixture.directory.path().join("other-root"));
    assert_ne!(
        get_number(&other, "tank", "guid"),
        get_number(zfs, "tank", "guid")
    );
}

fn fixture_at(root: PathBuf) -> FakeZfs {
    let zfs = FakeZfs::open(root).expect("open");
    zfs.create_pool(&PoolName::new("tank").expect("pool name"), 1 << 20)
        .expect("create pool");
    zfs
}
