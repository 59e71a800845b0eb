//! The behaviour every [`Zfs`] implementation must show, written once and run twice: against
//! [`wizfs_zfs::FakeZfs`] on the host (`tests/fake_conformance.rs`) and against real OpenZFS
//! through [`wizfs_zfs::CliZfs`] in the VM (`tests/platform/zfs.rs`). This is what keeps the
//! fake honest: a scenario the fake passes but OpenZFS fails (or the reverse) is a bug.
//!
//! Each scenario gets a [`Sandbox`]: an empty parent dataset of its own, and another parent
//! (on a second pool where there is one) to receive streams into.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::trees::assert_same_tree;
use wizfs_core::{BookmarkName, DatasetName, SnapshotName, ZfsObjectName};
use wizfs_zfs::{
    DestroyOptions, DiffChange, DiffTarget, FileKind, HoldTag, IncrementalBase, PropertyName,
    ReceiveOptions, Scope, SendFlags, SendSource, Zfs, ZfsError,
};

/// Where one scenario runs.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub zfs: Arc<dyn Zfs>,
    /// An existing, empty filesystem owned by this scenario.
    pub parent: DatasetName,
    /// An existing, empty filesystem to receive into.
    pub receive_parent: DatasetName,
}

impl Sandbox {
    /// `parent/name`; `name` may have several components (`a/b`).
    pub fn child(&self, name: &str) -> DatasetName {
        name.split('/')
            .try_fold(self.parent.clone(), |dataset, component| {
                dataset.child(component)
            })
            .expect("valid child name")
    }

    /// Creates `parent/name` and returns its name and mountpoint.
    pub fn filesystem(&self, name: &str) -> (DatasetName, PathBuf) {
        let dataset = self.child(name);
        self.zfs
            .create_filesystem(&dataset, &[])
            .expect("create filesystem");
        let mountpoint = self.mountpoint(&dataset);
        (dataset, mountpoint)
    }

    pub fn mountpoint(&self, dataset: &DatasetName) -> PathBuf {
        let datasets = self
            .zfs
            .list_datasets(Some(dataset))
            .expect("list datasets");
        let found = datasets
            .into_iter()
            .find(|candidate| &candidate.name == dataset)
            .expect("dataset listed");
        found.mountpoint.expect("a mounted filesystem")
    }

    pub fn snapshot(&self, dataset: &DatasetName, short_name: &str) -> SnapshotName {
        let snapshot = dataset.snapshot(short_name).expect("valid snapshot name");
        self.zfs
            .create_snapshots(std::slice::from_ref(&snapshot), false, &[])
            .expect("create snapshot");
        snapshot
    }

    pub fn snapshot_guid(&self, snapshot: &SnapshotName) -> u64 {
        let snapshots = self
            .zfs
            .list_snapshots(snapshot.dataset(), Scope::Dataset)
            .expect("list snapshots");
        snapshots
            .iter()
            .find(|candidate| &candidate.name == snapshot)
            .expect("snapshot listed")
            .guid
    }
}

fn snapshot_directory(mountpoint: &Path, snapshot: &SnapshotName) -> PathBuf {
    mountpoint.join(".zfs/snapshot").join(snapshot.short_name())
}

fn write(path: &Path, contents: &[u8]) {
    fs::write(path, contents).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

/// Pseudo-random, incompressible bytes (so compression cannot hide them from space numbers).
pub fn noise(length: usize, seed: u64) -> Vec<u8> {
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

/// Snapshots list in creation order with distinct guids and increasing txgs; datasets list
/// their descendants; missing datasets are NotFound.
pub fn listing_and_ordering(sandbox: &Sandbox) {
    let (dataset, mountpoint) = sandbox.filesystem("listing");
    let (child, _) = sandbox.filesystem("listing/child");
    let names = ["b-first", "a-second", "c-third"];
    for (index, name) in names.iter().enumerate() {
        write(
            &mountpoint.join("file"),
            format!("version {index}").as_bytes(),
        );
        sandbox.snapshot(&dataset, name);
    }
    let snapshots = sandbox
        .zfs
        .list_snapshots(&dataset, Scope::Dataset)
        .expect("list");
    let listed: Vec<&str> = snapshots
        .iter()
        .map(|snapshot| snapshot.name.short_name())
        .collect();
    assert_eq!(listed, names, "creation order, not name order");
    assert!(
        snapshots
            .windows(2)
            .all(|pair| pair[0].createtxg < pair[1].createtxg)
    );
    let guids: BTreeSet<u64> = snapshots.iter().map(|snapshot| snapshot.guid).collect();
    assert_eq!(guids.len(), 3);
    assert!(
        sandbox
            .zfs
            .list_snapshots(&child, Scope::Dataset)
            .expect("list child")
            .is_empty()
    );
    let recursive = sandbox
        .zfs
        .list_snapshots(&dataset, Scope::Recursive)
        .expect("list -r");
    assert_eq!(recursive.len(), 3);

    let datasets = sandbox
        .zfs
        .list_datasets(Some(&dataset))
        .expect("list datasets");
    let dataset_names: Vec<&str> = datasets
        .iter()
        .map(|dataset| dataset.name.as_str())
        .collect();
    assert_eq!(dataset_names, [dataset.as_str(), child.as_str()]);
    assert!(
        datasets
            .iter()
            .all(|dataset| dataset.mounted && dataset.mountpoint.is_some())
    );
    let pools = sandbox.zfs.list_pools().expect("pools");
    assert!(pools.iter().any(|pool| pool.name == dataset.pool()));
    // Every pool has a status with a vdev tree of error-free devices, and its capacity.
    let statuses = sandbox.zfs.pool_status().expect("pool status");
    let status = statuses
        .iter()
        .find(|status| status.name == dataset.pool().as_str())
        .expect("the sandbox's pool");
    let pool = pools
        .iter()
        .find(|pool| pool.name == dataset.pool())
        .expect("listed");
    assert_eq!(status.state, pool.health);
    assert_eq!(status.capacity_percent, Some(pool.capacity_percent));
    assert_eq!(status.data_errors, Some(0));
    let devices: Vec<&wizfs_core::Vdev> = status
        .vdevs
        .iter()
        .flat_map(wizfs_core::Vdev::walk)
        .filter(|vdev| vdev.children.is_empty())
        .collect();
    assert!(!devices.is_empty(), "{status:#?}");
    assert!(devices.iter().all(|device| device.state == pool.health
        && device.read_errors + device.write_errors + device.checksum_errors == 0));

    let missing = sandbox.child("missing");
    let error = sandbox
        .zfs
        .list_snapshots(&missing, Scope::Dataset)
        .expect_err("missing dataset");
    assert!(error.is_not_found(), "{error:?}");
    let error = sandbox
        .zfs
        .create_filesystem(&child, &[])
        .expect_err("exists");
    assert!(matches!(error, ZfsError::AlreadyExists { .. }), "{error:?}");
    let existing = dataset.snapshot("a-second").expect("name");
    let error = sandbox
        .zfs
        .create_snapshots(&[existing], false, &[])
        .expect_err("exists");
    assert!(matches!(error, ZfsError::AlreadyExists { .. }), "{error:?}");

    // Destroying a filesystem with children or snapshots needs `recursive`.
    let error = sandbox
        .zfs
        .destroy_filesystem(&dataset, false)
        .expect_err("has children");
    assert!(matches!(error, ZfsError::HasDependents { .. }), "{error:?}");
    sandbox
        .zfs
        .destroy_filesystem(&child, false)
        .expect("a leaf without snapshots");
    sandbox
        .zfs
        .destroy_filesystem(&dataset, true)
        .expect("recursive destroy");
    let remaining = sandbox
        .zfs
        .list_datasets(Some(&sandbox.parent))
        .expect("list");
    assert_eq!(
        remaining.len(),
        1,
        "only the sandbox parent is left: {remaining:?}"
    );
    assert!(
        !mountpoint.join("file").exists(),
        "the data is gone with the filesystem"
    );
}

/// `create_snapshots` is one transaction: recursive snapshots and several named snapshots
/// share a txg, and when one name is bad nothing is created.
pub fn snapshots_are_atomic(sandbox: &Sandbox) {
    let (root, _) = sandbox.filesystem("atomic");
    let (first, _) = sandbox.filesystem("atomic/first");
    let (second, _) = sandbox.filesystem("atomic/second");
    let managed = PropertyName::new("wizfs:managed").expect("property");
    let recursive = root.snapshot("r").expect("name");
    sandbox
        .zfs
        .create_snapshots(
            std::slice::from_ref(&recursive),
            true,
            &[(managed.clone(), "yes".into())],
        )
        .expect("recursive snapshot");
    let all = sandbox
        .zfs
        .list_snapshots(&root, Scope::Recursive)
        .expect("list");
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(
        all.iter()
            .all(|snapshot| snapshot.createtxg == all[0].createtxg),
        "one txg: {all:?}"
    );
    let property = sandbox
        .zfs
        .get_properties(
            &ZfsObjectName::Snapshot(second.snapshot("r").expect("name")),
            &[managed],
        )
        .expect("get");
    assert_eq!(
        property[0].value.as_deref(),
        Some("yes"),
        "property set on descendants too"
    );

    let pair = [
        first.snapshot("pair").expect("name"),
        second.snapshot("pair").expect("name"),
    ];
    sandbox
        .zfs
        .create_snapshots(&pair, false, &[])
        .expect("two at once");
    let txg = |dataset: &DatasetName| {
        let snapshots = sandbox
            .zfs
            .list_snapshots(dataset, Scope::Dataset)
            .expect("list");
        snapshots
            .iter()
            .find(|snapshot| snapshot.name.short_name() == "pair")
            .expect("pair")
            .createtxg
    };
    assert_eq!(txg(&first), txg(&second));

    let missing = sandbox.child("atomic/missing");
    let doomed = [
        first.snapshot("half").expect("name"),
        missing.snapshot("half").expect("name"),
    ];
    let error = sandbox
        .zfs
        .create_snapshots(&doomed, false, &[])
        .expect_err("missing dataset");
    assert!(error.is_not_found(), "{error:?}");
    let first_snapshots = sandbox
        .zfs
        .list_snapshots(&first, Scope::Dataset)
        .expect("list");
    assert!(
        first_snapshots
            .iter()
            .all(|snapshot| snapshot.name.short_name() != "half"),
        "a failed multi-snapshot created nothing"
    );
}

/// A held snapshot cannot be destroyed until released; a deferred destroy happens at release.
pub fn holds_block_destroy(sandbox: &Sandbox) {
    let (dataset, _) = sandbox.filesystem("holds");
    let snapshot = sandbox.snapshot(&dataset, "held");
    let tag = HoldTag::new("wizfs:test").expect("tag");
    sandbox.zfs.hold(&snapshot, &tag, false).expect("hold");
    let error = sandbox
        .zfs
        .hold(&snapshot, &tag, false)
        .expect_err("same tag twice");
    assert!(matches!(error, ZfsError::AlreadyExists { .. }), "{error:?}");
    let holds = sandbox.zfs.holds(&snapshot).expect("holds");
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].tag, "wizfs:test");
    let listed = sandbox
        .zfs
        .list_snapshots(&dataset, Scope::Dataset)
        .expect("list");
    assert_eq!(listed[0].user_refs, 1);

    let error = sandbox
        .zfs
        .destroy_snapshots(std::slice::from_ref(&snapshot), DestroyOptions::default())
        .expect_err("held");
    assert!(error.is_busy(), "{error:?}");
    sandbox
        .zfs
        .release(&snapshot, &tag, false)
        .expect("release");
    let error = sandbox
        .zfs
        .release(&snapshot, &tag, false)
        .expect_err("released twice");
    assert!(error.is_not_found(), "{error:?}");
    sandbox
        .zfs
        .destroy_snapshots(std::slice::from_ref(&snapshot), DestroyOptions::default())
        .expect("destroy after release");
    assert!(
        sandbox
            .zfs
            .list_snapshots(&dataset, Scope::Dataset)
            .expect("list")
            .is_empty()
    );

    let deferred = sandbox.snapshot(&dataset, "deferred");
    sandbox.zfs.hold(&deferred, &tag, false).expect("hold");
    let options = DestroyOptions {
        defer: true,
        ..DestroyOptions::default()
    };
    sandbox
        .zfs
        .destroy_snapshots(std::slice::from_ref(&deferred), options)
        .expect("deferred destroy");
    assert_eq!(
        sandbox
            .zfs
            .list_snapshots(&dataset, Scope::Dataset)
            .expect("list")
            .len(),
        1,
        "still held"
    );
    sandbox
        .zfs
        .release(&deferred, &tag, false)
        .expect("release");
    assert!(
        sandbox
            .zfs
            .list_snapshots(&dataset, Scope::Dataset)
            .expect("list")
            .is_empty(),
        "gone at release"
    );

    let error = sandbox
        .zfs
        .destroy_snapshots(
            &[dataset.snapshot("never").expect("name")],
            DestroyOptions::default(),
        )
        .expect_err("missing");
    assert!(error.is_not_found(), "{error:?}");
}

/// User properties round-trip; unset ones read as `None`.
pub fn properties_round_trip(sandbox: &Sandbox) {
    let (dataset, _) = sandbox.filesystem("properties");
    let target = ZfsObjectName::Dataset(dataset.clone());
    let note = PropertyName::new("wizfs:note").expect("property");
    let unset = PropertyName::new("wizfs:unset").expect("property");
    sandbox
        .zfs
        .set_property(&target, &note, "hello world")
        .expect("set");
    let used = PropertyName::new("used").expect("property");
    let values = sandbox
        .zfs
        .get_properties(&target, &[note, unset, used])
        .expect("get");
    assert_eq!(values[0].value.as_deref(), Some("hello world"));
    assert_eq!(values[0].source, wizfs_zfs::PropertySource::Local);
    assert_eq!(values[1].value, None);
    assert!(
        values[2]
            .value
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .is_some(),
        "{values:?}"
    );
}

/// `diff` reports creations, removals, modifications and renames with exact byte paths.
pub fn diff_reports_changes(sandbox: &Sandbox) {
    let (dataset, mountpoint) = sandbox.filesystem("diff");
    write(&mountpoint.join("modified.txt"), b"one");
    write(&mountpoint.join("deleted.txt"), b"gone soon");
    write(&mountpoint.join("before.txt"), b"moving");
    let before = sandbox.snapshot(&dataset, "before");
    write(&mountpoint.join("modified.txt"), b"one and two");
    fs::remove_file(mountpoint.join("deleted.txt")).expect("remove");
    fs::rename(mountpoint.join("before.txt"), mountpoint.join("after.txt")).expect("rename");
    let hostile = std::ffi::OsStr::from_bytes(b"new\nline \xff name");
    write(&mountpoint.join(hostile), b"hostile");
    let after = sandbox.snapshot(&dataset, "after");

    let summarize = |target: DiffTarget<'_>| -> BTreeSet<(String, char, Vec<u8>)> {
        let entries = sandbox.zfs.diff(&before, target).expect("diff");
        entries
            .into_iter()
            .map(|entry| {
                let change = match entry.change {
                    DiffChange::Removed => "-".to_owned(),
                    DiffChange::Created => "+".to_owned(),
                    DiffChange::Modified => "M".to_owned(),
                    DiffChange::Renamed { to } => {
                        format!(
                            "R->{}",
                            to.strip_prefix(&mountpoint)
                                .expect("under mountpoint")
                                .display()
                        )
                    }
                };
                let relative = entry
                    .path
                    .strip_prefix(&mountpoint)
                    .expect("under mountpoint");
                (
                    change,
                    entry.kind.indicator(),
                    relative.as_os_str().as_bytes().to_vec(),
                )
            })
            .collect()
    };
    let expected: BTreeSet<(String, char, Vec<u8>)> = [
        ("M".to_owned(), '/', b"".to_vec()),
        ("M".to_owned(), 'F', b"modified.txt".to_vec()),
        ("-".to_owned(), 'F', b"deleted.txt".to_vec()),
        ("R->after.txt".to_owned(), 'F', b"before.txt".to_vec()),
        ("+".to_owned(), 'F', b"new\nline \xff name".to_vec()),
    ]
    .into_iter()
    .collect();
    assert_eq!(summarize(DiffTarget::Snapshot(&after)), expected);
    assert_eq!(
        summarize(DiffTarget::Live),
        expected,
        "nothing changed after the second snapshot"
    );
    assert_eq!(FileKind::from_indicator("F"), Some(FileKind::File));
}

/// Full then incremental send into another dataset reproduces the data byte for byte and
/// keeps snapshot guids; an incremental can start from a bookmark after its snapshot is gone.
pub fn send_receive_round_trip(sandbox: &Sandbox) {
    let (dataset, mountpoint) = sandbox.filesystem("sendsource");
    fs::create_dir(mountpoint.join("dir")).expect("mkdir");
    write(&mountpoint.join("dir/a.bin"), &noise(300_000, 1));
    write(&mountpoint.join("b.txt"), b"text");
    std::os::unix::fs::symlink("b.txt", mountpoint.join("link")).expect("symlink");
    let first = sandbox.snapshot(&dataset, "first");
    write(&mountpoint.join("dir/a.bin"), &noise(300_000, 2));
    fs::remove_file(mountpoint.join("b.txt")).expect("remove");
    write(&mountpoint.join("c.txt"), b"new");
    let second = sandbox.snapshot(&dataset, "second");

    let target = sandbox.receive_parent.child("sendtarget").expect("name");
    let full = SendSource::Snapshot {
        snapshot: first.clone(),
        base: None,
        flags: SendFlags::default(),
    };
    let estimate = sandbox.zfs.estimate_send_size(&full).expect("estimate");
    assert!(estimate > 300_000, "estimate {estimate} covers the data");
    pipe(sandbox, &full, &target, &ReceiveOptions::default());
    let incremental = SendSource::Snapshot {
        snapshot: second.clone(),
        base: Some(IncrementalBase::Snapshot(first.clone())),
        flags: SendFlags::default(),
    };
    pipe(sandbox, &incremental, &target, &ReceiveOptions::default());

    let target_mountpoint = sandbox.mountpoint(&target);
    assert_same_tree(
        &snapshot_directory(&mountpoint, &second),
        &target_mountpoint,
    );
    let received = sandbox
        .zfs
        .list_snapshots(&target, Scope::Dataset)
        .expect("list");
    let received_guids: Vec<u64> = received.iter().map(|snapshot| snapshot.guid).collect();
    assert_eq!(
        received_guids,
        [
            sandbox.snapshot_guid(&first),
            sandbox.snapshot_guid(&second)
        ]
    );

    // Bookmark as the base: the source snapshot may then be destroyed.
    let bookmark = BookmarkName::from_parts(dataset.clone(), "second").expect("name");
    sandbox
        .zfs
        .create_bookmark(&second, &bookmark)
        .expect("bookmark");
    let bookmarks = sandbox.zfs.list_bookmarks(&dataset).expect("bookmarks");
    assert_eq!(bookmarks.len(), 1);
    assert_eq!(bookmarks[0].guid, sandbox.snapshot_guid(&second));
    write(&mountpoint.join("d.txt"), b"after the bookmark");
    let third = sandbox.snapshot(&dataset, "third");
    sandbox
        .zfs
        .destroy_snapshots(&[first, second], DestroyOptions::default())
        .expect("destroy");
    let from_bookmark = SendSource::Snapshot {
        snapshot: third.clone(),
        base: Some(IncrementalBase::Bookmark(bookmark.clone())),
        flags: SendFlags::default(),
    };
    pipe(sandbox, &from_bookmark, &target, &ReceiveOptions::default());
    assert_same_tree(&snapshot_directory(&mountpoint, &third), &target_mountpoint);
    sandbox
        .zfs
        .destroy_bookmark(&bookmark)
        .expect("destroy bookmark");
    assert!(
        sandbox
            .zfs
            .list_bookmarks(&dataset)
            .expect("bookmarks")
            .is_empty()
    );

    // Receiving a full stream over an existing dataset without -F is refused.
    let again = SendSource::Snapshot {
        snapshot: third,
        base: None,
        flags: SendFlags::default(),
    };
    let mut stream = sandbox.zfs.send(&again).expect("send");
    let error = sandbox
        .zfs
        .receive(&target, &ReceiveOptions::default(), &mut stream)
        .expect_err("exists");
    assert!(matches!(error, ZfsError::AlreadyExists { .. }), "{error:?}");
}

fn pipe(sandbox: &Sandbox, source: &SendSource, target: &DatasetName, options: &ReceiveOptions) {
    let mut stream = sandbox.zfs.send(source).expect("send");
    sandbox
        .zfs
        .receive(target, options, &mut stream)
        .expect("receive");
    stream.finish().expect("sender succeeded");
}

fn whole_stream(sandbox: &Sandbox, source: &SendSource) -> Vec<u8> {
    let mut stream = sandbox.zfs.send(source).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read stream");
    stream.finish().expect("sender succeeded");
    bytes
}

/// A receive cut off half-way leaves a resume token; sending from the token completes it;
/// a second interrupted receive can be aborted.
pub fn interrupted_receive_resumes(sandbox: &Sandbox) {
    let (dataset, mountpoint) = sandbox.filesystem("resumesource");
    for index in 0..8 {
        write(
            &mountpoint.join(format!("part{index}.bin")),
            &noise(256 * 1024, index),
        );
    }
    let snapshot = sandbox.snapshot(&dataset, "big");
    let source = SendSource::Snapshot {
        snapshot: snapshot.clone(),
        base: None,
        flags: SendFlags::default(),
    };
    let stream = whole_stream(sandbox, &source);
    let target = sandbox.receive_parent.child("resumetarget").expect("name");
    let resumable = ReceiveOptions {
        resumable: true,
        ..ReceiveOptions::default()
    };

    let half = &stream[..stream.len() / 2];
    let error = sandbox
        .zfs
        .receive(&target, &resumable, &mut &half[..])
        .expect_err("truncated stream");
    assert!(!matches!(error, ZfsError::Spawn { .. }), "{error:?}");
    let token = sandbox
        .zfs
        .receive_resume_token(&target)
        .expect("token property")
        .expect("a resume token");
    let resume = SendSource::Resume(token);
    assert!(sandbox.zfs.estimate_send_size(&resume).expect("estimate") > 0);
    pipe(sandbox, &resume, &target, &resumable);
    assert_eq!(
        sandbox
            .zfs
            .receive_resume_token(&target)
            .expect("token property"),
        None
    );
    let received = sandbox
        .zfs
        .list_snapshots(&target, Scope::Dataset)
        .expect("list");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].guid, sandbox.snapshot_guid(&snapshot));
    assert_same_tree(
        &snapshot_directory(&mountpoint, &snapshot),
        &sandbox.mountpoint(&target),
    );

    let aborted = sandbox.receive_parent.child("abortedtarget").expect("name");
    let quarter = &stream[..stream.len() / 4];
    sandbox
        .zfs
        .receive(&aborted, &resumable, &mut &quarter[..])
        .expect_err("truncated stream");
    assert!(
        sandbox
            .zfs
            .receive_resume_token(&aborted)
            .expect("token")
            .is_some()
    );
    sandbox
        .zfs
        .abort_resumable_receive(&aborted)
        .expect("abort");
    let remaining = sandbox
        .zfs
        .list_datasets(Some(&sandbox.receive_parent))
        .expect("list");
    assert!(
        remaining.iter().all(|dataset| dataset.name != aborted),
        "aborted receive left {aborted}"
    );
}

/// `written` is zero for a snapshot with no changes; a destroy's reclaimable space covers the
/// data only that snapshot holds.
pub fn space_accounting(sandbox: &Sandbox) {
    let (dataset, mountpoint) = sandbox.filesystem("space");
    write(&mountpoint.join("big.bin"), &noise(2 * 1024 * 1024, 7));
    let holding = sandbox.snapshot(&dataset, "holding");
    let unchanged = sandbox.snapshot(&dataset, "unchanged");
    fs::remove_file(mountpoint.join("big.bin")).expect("remove");
    let after = sandbox.snapshot(&dataset, "after");
    sandbox
        .zfs
        .destroy_snapshots(std::slice::from_ref(&unchanged), DestroyOptions::default())
        .expect("destroy");
    let snapshots = sandbox
        .zfs
        .list_snapshots(&dataset, Scope::Dataset)
        .expect("list");
    assert!(snapshots[0].written >= 2 * 1024 * 1024, "{snapshots:?}");
    let reclaim = sandbox
        .zfs
        .reclaimable_space(std::slice::from_ref(&holding))
        .expect("reclaimable");
    assert!(
        reclaim >= 2 * 1024 * 1024,
        "destroying {holding} frees the deleted file: {reclaim}"
    );
    let empty = sandbox.snapshot(&dataset, "empty");
    let snapshots = sandbox
        .zfs
        .list_snapshots(&dataset, Scope::Dataset)
        .expect("list");
    let empty_row = snapshots
        .iter()
        .find(|snapshot| snapshot.name == empty)
        .expect("listed");
    assert_eq!(empty_row.written, 0, "nothing changed since {after}");
}

/// One listing gives snapshots with user property values: set at creation (also on a
/// recursive snapshot's descendants), set later on one snapshot, unset (`None`), and inherited
/// from the dataset like any user property (why the scheduler never trusts the property alone).
pub fn snapshots_with_properties(sandbox: &Sandbox) {
    let (root, _) = sandbox.filesystem("managed");
    let (child, _) = sandbox.filesystem("managed/child");
    let managed = PropertyName::new("wizfs:managed").expect("property");
    let note = PropertyName::new("wizfs:note").expect("property");
    let tagged = root.snapshot("tagged").expect("name");
    sandbox
        .zfs
        .create_snapshots(
            std::slice::from_ref(&tagged),
            true,
            &[(managed.clone(), "home".into())],
        )
        .expect("recursive snapshot with a property");
    let plain = sandbox.snapshot(&root, "plain");
    sandbox
        .zfs
        .set_property(&ZfsObjectName::Snapshot(plain.clone()), &note, "later")
        .expect("set on a snapshot");
    let properties = [managed.clone(), note.clone()];
    let listed = sandbox
        .zfs
        .list_snapshots_with_properties(&root, Scope::Recursive, &properties)
        .expect("list with properties");
    let rows: Vec<(String, Vec<Option<String>>)> = listed
        .iter()
        .map(|(snapshot, values)| (snapshot.name.to_string(), values.clone()))
        .collect();
    let home = Some("home".to_owned());
    assert_eq!(
        rows,
        [
            (format!("{root}@tagged"), vec![home.clone(), None]),
            (format!("{child}@tagged"), vec![home.clone(), None]),
            (
                format!("{root}@plain"),
                vec![None, Some("later".to_owned())]
            ),
        ]
    );
    let plain_listing = sandbox
        .zfs
        .list_snapshots(&root, Scope::Recursive)
        .expect("list");
    let snapshots: Vec<_> = listed.into_iter().map(|(snapshot, _)| snapshot).collect();
    assert_eq!(
        snapshots
            .iter()
            .map(|s| (&s.name, s.guid, s.createtxg))
            .collect::<Vec<_>>(),
        plain_listing
            .iter()
            .map(|s| (&s.name, s.guid, s.createtxg))
            .collect::<Vec<_>>(),
        "the same snapshots, in the same order, as the plain listing"
    );
    let only_root = sandbox
        .zfs
        .list_snapshots_with_properties(&root, Scope::Dataset, std::slice::from_ref(&managed))
        .expect("list one dataset");
    assert_eq!(only_root.len(), 2);
    sandbox
        .zfs
        .set_property(
            &ZfsObjectName::Dataset(child.clone()),
            &managed,
            "inherited",
        )
        .expect("set on the dataset");
    let inherited = sandbox
        .zfs
        .list_snapshots_with_properties(&child, Scope::Dataset, std::slice::from_ref(&managed))
        .expect("list child");
    assert_eq!(
        inherited[0].1,
        [Some("home".to_owned())],
        "a value set on the snapshot wins over the dataset's"
    );
    let fresh = sandbox.snapshot(&child, "fresh");
    let inherited = sandbox
        .zfs
        .list_snapshots_with_properties(&child, Scope::Dataset, std::slice::from_ref(&managed))
        .expect("list child");
    let fresh_row = inherited
        .iter()
        .find(|(snapshot, _)| snapshot.name == fresh)
        .expect("listed");
    assert_eq!(
        fresh_row.1,
        [Some("inherited".to_owned())],
        "snapshots inherit user properties from their dataset"
    );
}

/// Generates one `#[test]` per scenario, each with its own sandbox from `$make(label)`.
/// A scrub started on the sandbox's pool finishes (the test pools are small) and is then
/// the pool's last scan, ended no earlier than it was started; a missing pool is an error.
pub fn scrubs_finish_and_are_reported(sandbox: &Sandbox) {
    let pool = sandbox.parent.pool();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    sandbox.zfs.start_scrub(&pool).expect("scrub");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let scrub = loop {
        let status = sandbox
            .zfs
            .pool_status()
            .expect("pool status")
            .into_iter()
            .find(|status| status.name == pool.as_str())
            .expect("the pool");
        match status.scrub {
            Some(scrub) if scrub.state == wizfs_core::ScanState::Finished => break scrub,
            // Another test's scrub of the same pool may still be running: wait for it.
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            other => panic!("no finished scrub after 120 s: {other:?}"),
        }
    };
    assert_eq!(scrub.function, wizfs_core::ScanFunction::Scrub);
    assert_eq!(scrub.errors, 0);
    let ended = scrub.ended.expect("end time").seconds();
    // `zpool status` prints seconds; allow the clock's rounding.
    assert!(ended + 1 >= before, "ended {ended}, started at {before}");
    let missing = wizfs_core::PoolName::new("nosuchpool").expect("name");
    let error = sandbox.zfs.start_scrub(&missing).expect_err("missing pool");
    assert!(error.is_not_found(), "{error:?}");
}

#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            listing_and_ordering, snapshots_are_atomic, holds_block_destroy, properties_round_trip,
            diff_reports_changes, send_receive_round_trip, interrupted_receive_resumes,
            space_accounting, snapshots_with_properties, scrubs_finish_and_are_reported);
    };
    (@each $make:path; $($scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                let sandbox = $make(stringify!($scenario));
                $crate::conformance::$scenario(&sandbox);
            }
        )*
    };
}
