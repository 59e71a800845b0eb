//! The object comparison on a real directory tree: the objects a send stream would single
//! out (those whose change time moved, plus removed ones) must lead to exactly the version
//! operations a full walk leads to, also when every object is a candidate (the unchanged
//! neighbours in a dnode block); the tree must then describe the new state.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;

use wizfs_core::versioning::{self, Signature, StoredVersion, VersionOp};
use wizfs_core::{EntryMetadata, RelativePath};
use wizfs_restore::SafeRoot;

use super::*;

/// The open versions of a tree (ids by path order) and each object's change time.
struct State {
    open: Vec<StoredVersion>,
    changed_at: HashMap<u64, (i64, i64)>,
    root_object: u64,
}

fn read_state(root: &Path) -> State {
    let safe = SafeRoot::open_live(root).unwrap();
    let tree = safe.read_tree(&RelativePath::root()).unwrap();
    let mut open = Vec::new();
    let mut changed_at = HashMap::new();
    for (position, entry) in tree.iter().enumerate() {
        let full = root.join(String::from_utf8_lossy(entry.path.as_bytes()).as_ref());
        let metadata = fs::symlink_metadata(&full).unwrap();
        changed_at.insert(metadata.ino(), (metadata.ctime(), metadata.ctime_nsec()));
        if entry.path.is_root() {
            continue;
        }
        open.push(StoredVersion {
            id: position as u64,
            path: entry.path.clone(),
            signature: Signature::of(&entry.metadata),
            birth: 1,
            death: None,
        });
    }
    State {
        open,
        changed_at,
        root_object: fs::metadata(root).unwrap().ino(),
    }
}

/// What a send stream singles out between two states of a tree: the objects whose change
/// time moved or that are gone, sorted.
fn changed_between(before: &State, after: &State) -> Vec<u64> {
    let mut changed: Vec<u64> = before
        .changed_at
        .iter()
        .filter(|(object, time)| after.changed_at.get(object) != Some(time))
        .map(|(object, _)| *object)
        .collect();
    changed.sort();
    changed
}

/// `advance` over `before` with these observations.
fn operations(before: &State, observed: &[Observed]) -> Vec<VersionOp> {
    let by_path: BTreeMap<&RelativePath, &StoredVersion> = before
        .open
        .iter()
        .map(|version| (&version.path, version))
        .collect();
    let open = |path: &RelativePath| by_path.get(path).map(|version| (*version).clone());
    let open_below = |directory: &RelativePath| -> Vec<StoredVersion> {
        before
            .open
            .iter()
            .filter(|version| version.path != *directory && version.path.starts_with(directory))
            .cloned()
            .collect()
    };
    // Without what a bonus buffer does not hold (the index keeps neither).
    versioning::advance(observed, 2, &open, &open_below)
        .into_iter()
        .map(|operation| match operation {
            VersionOp::Open {
                path,
                metadata,
                birth,
            } => VersionOp::Open {
                path,
                metadata: EntryMetadata {
                    allocated: 0,
                    symlink_target: None,
                    ..metadata
                },
                birth,
            },
            other => other,
        })
        .collect()
}

fn write(root: &Path, path: &str, contents: &[u8]) {
    let full = root.join(path);
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    fs::write(full, contents).unwrap();
}

fn build_before(root: &Path) {
    for (path, contents) in [
        ("docs/report.txt", b"draft" as &[u8]),
        ("docs/notes.md", b"notes"),
        ("docs/same-size.txt", b"aaaa"),
        ("docs/mode-only.txt", b"mode"),
        ("keep/a.txt", b"a"),
        ("keep/b.txt", b"b"),
        ("photos/2024/beach.jpg", b"jpeg"),
        ("photos/2024/deep/er/x.raw", b"raw"),
        ("old/tree/one.txt", b"1"),
        ("old/tree/two.txt", b"2"),
        ("swap/file-then-dir", b"f"),
        ("linked/original.txt", b"linked"),
        ("untouched/z.txt", b"z"),
    ] {
        write(root, path, contents);
    }
}

fn change(root: &Path) {
    let at = |path: &str| root.join(path);
    write(root, "docs/report.txt", b"final version");
    write(root, "docs/same-size.txt", b"bbbb");
    let mut permissions = fs::metadata(at("docs/mode-only.txt"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    fs::set_permissions(at("docs/mode-only.txt"), permissions).unwrap();
    fs::remove_file(at("keep/a.txt")).unwrap();
    fs::rename(at("keep/b.txt"), at("keep/b-renamed.txt")).unwrap();
    fs::rename(at("photos/2024"), at("photos/holiday")).unwrap();
    fs::remove_dir_all(at("old/tree")).unwrap();
    // A directory replaced by another object, an unchanged file moved into the new one.
    fs::rename(at("docs"), at("docs-old")).unwrap();
    fs::create_dir(at("docs")).unwrap();
    fs::rename(at("docs-old/notes.md"), at("docs/notes.md")).unwrap();
    fs::remove_file(at("swap/file-then-dir")).unwrap();
    write(root, "swap/file-then-dir/inside.txt", b"inside");
    write(root, "brand/new/tree/leaf.txt", b"leaf");
    fs::hard_link(at("linked/original.txt"), at("linked/second-name.txt")).unwrap();
    symlink("../untouched/z.txt", at("linked/link")).unwrap();
    write(root, "top-level.txt", b"top");
}

#[test]
fn changed_objects_lead_to_the_operations_of_a_full_walk() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    build_before(root);
    let before = read_state(root);
    // Change times have a coarse clock: let it move on.
    std::thread::sleep(std::time::Duration::from_millis(50));
    change(root);
    let after = read_state(root);

    let walked: Vec<(RelativePath, EntryMetadata)> = SafeRoot::open_live(root)
        .unwrap()
        .read_tree(&RelativePath::root())
        .unwrap()
        .into_iter()
        .filter(|entry| !entry.path.is_root())
        .map(|entry| (entry.path, entry.metadata))
        .collect();
    let expected = operations(&before, &versioning::compare_walk(&walked, &before.open));
    assert!(expected.len() > 15, "{expected:#?}");

    let changed = changed_between(&before, &after);
    let untouched = |path: &str| fs::symlink_metadata(root.join(path)).unwrap().ino();
    assert!(!changed.contains(&untouched("untouched/z.txt")));
    assert!(!changed.contains(&untouched("photos/holiday/deep/er/x.raw")));
    // Every object a candidate: the unchanged neighbours of a dnode block cost reads only.
    let mut everything: Vec<u64> = before.changed_at.keys().copied().collect();
    everything.sort();

    // What the stream's bonus buffers would say: every object's attributes after the change.
    let streamed = attributes_of(root);
    let open = || Ok(SafeRoot::open_live(root)?);
    for (candidates, label, decode) in [
        (&changed, "changed", false),
        (&everything, "all", false),
        (&changed, "changed, decoded", true),
        (&everything, "all, decoded", true),
    ] {
        let tree = ObjectTree::new(&before.open, before.root_object);
        let mut layouts = Layouts::new();
        let mut decoder = match decode {
            true => Decoder::new(&streamed, &mut layouts),
            false => Decoder::off(&mut layouts),
        };
        let observed = observe(&tree, candidates, &LazyRoot::new(&open), &mut decoder).unwrap();
        assert_eq!(operations(&before, &observed), expected, "{label}");
        // Names moved, so most paths are stat-ed; new names in changed directories decode.
        assert_eq!(decoder.decoded > 0, decode, "{label}: {}", decoder.decoded);
        assert!(!decoder.contradicted);

        // Followed along, the tree is the new state.
        let mut followed = tree.clone();
        followed.apply(&observed);
        let rebuilt = ObjectTree::new(&after.open, after.root_object);
        assert_eq!(followed.paths(), rebuilt.paths(), "{label}");
    }
}

/// Every object's attributes as a bonus buffer would hold them (layout 1).
fn attributes_of(root: &Path) -> Vec<(u64, ZplAttributes)> {
    let safe = SafeRoot::open_live(root).unwrap();
    safe.read_tree(&RelativePath::root())
        .unwrap()
        .into_iter()
        .map(|entry| {
            let full = root.join(String::from_utf8_lossy(entry.path.as_bytes()).as_ref());
            let metadata = fs::symlink_metadata(&full).unwrap();
            let attributes = ZplAttributes {
                layout: 1,
                mode: u64::from(metadata.mode()),
                size: metadata.size(),
                generation: 1,
                uid: u64::from(metadata.uid()),
                gid: u64::from(metadata.gid()),
                parent: 0,
                modified: (metadata.mtime() as u64, metadata.mtime_nsec() as u64),
                changed: (metadata.ctime() as u64, metadata.ctime_nsec() as u64),
                links: metadata.nlink(),
            };
            (metadata.ino(), attributes)
        })
        .collect()
}

#[test]
fn files_changed_in_place_are_read_from_confirmed_bonus_buffers_without_opening_the_snapshot() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    build_before(root);
    let before = read_state(root);
    std::thread::sleep(std::time::Duration::from_millis(50));
    // Changes in place only: no directory changes.
    write(root, "docs/report.txt", b"final version");
    write(root, "photos/2024/deep/er/x.raw", b"RAW");
    let mut permissions = fs::metadata(root.join("keep/a.txt")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    fs::set_permissions(root.join("keep/a.txt"), permissions).unwrap();
    let after = read_state(root);
    let walked: Vec<(RelativePath, EntryMetadata)> = after
        .open
        .iter()
        .map(|version| {
            let full = root.join(String::from_utf8_lossy(version.path.as_bytes()).as_ref());
            let stat = SafeRoot::open_live(root)
                .unwrap()
                .stat(&version.path)
                .unwrap();
            assert!(full.exists() || stat.is_some());
            (version.path.clone(), stat.unwrap())
        })
        .collect();
    let expected = operations(&before, &versioning::compare_walk(&walked, &before.open));
    assert_eq!(
        expected.len(),
        4,
        "two new versions, two ended: {expected:#?}"
    );
    let changed = changed_between(&before, &after);
    assert_eq!(changed.len(), 3);
    let streamed = attributes_of(root);
    let opened = std::cell::Cell::new(0);
    let open = || {
        opened.set(opened.get() + 1);
        Ok(SafeRoot::open_live(root)?)
    };

    // Unconfirmed layout: the first changed object is stat-ed, which confirms it, and the
    // others decode.
    let tree = ObjectTree::new(&before.open, before.root_object);
    let mut layouts = Layouts::new();
    let mut decoder = Decoder::new(&streamed, &mut layouts);
    let observed = observe(&tree, &changed, &LazyRoot::new(&open), &mut decoder).unwrap();
    assert_eq!(operations(&before, &observed), expected);
    assert_eq!((decoder.decoded, opened.get()), (2, 1));
    assert_eq!(layouts, Layouts::from([(1, true)]));

    // Confirmed: nothing is opened.
    opened.set(0);
    let mut decoder = Decoder::new(&streamed, &mut layouts);
    let observed = observe(&tree, &changed, &LazyRoot::new(&open), &mut decoder).unwrap();
    assert_eq!(operations(&before, &observed), expected);
    assert_eq!((decoder.decoded, opened.get()), (3, 0));

    // A bonus buffer that disagrees with the stat of its object contradicts the layout:
    // after use, the comparison says so (the indexer then stats everything); a layout
    // contradicted is never used again.
    let mut lying = streamed.clone();
    for (object, attributes) in &mut lying {
        if *object == changed[1] {
            attributes.size += 1;
        }
    }
    let mut layouts = Layouts::new();
    let mut decoder = Decoder::new(&lying, &mut layouts);
    let observed = observe(&tree, &changed, &LazyRoot::new(&open), &mut decoder).unwrap();
    // changed[0] confirmed the layout, changed[1] decoded (wrongly), changed[2] decoded.
    assert_ne!(operations(&before, &observed), expected);
    assert!(!decoder.contradicted, "nothing stat-ed after the lie");
    let stat = SafeRoot::open_live(root)
        .unwrap()
        .stat(
            &after
                .open
                .iter()
                .find(|v| v.signature.inode == changed[1])
                .unwrap()
                .path,
        )
        .unwrap()
        .unwrap();
    decoder.check(&stat);
    assert!(decoder.contradicted);
    assert_eq!(layouts, Layouts::from([(1, false)]));
    let mut decoder = Decoder::new(&lying, &mut layouts);
    let observed = observe(&tree, &changed, &LazyRoot::new(&open), &mut decoder).unwrap();
    assert_eq!(operations(&before, &observed), expected);
    assert_eq!(decoder.decoded, 0);
}

#[test]
fn changed_objects_are_fingerprint_changes_and_known_freed_objects() {
    let tree = ObjectTree::new(
        &[
            version("a", 128),
            version("b", 129),
            version("c", 130),
            version("d", 500),
        ],
        34,
    );
    let scan = ObjectScan {
        objects: vec![(34, 1), (128, 2), (129, 3), (131, 4)],
        freed: vec![(130, 1), (200, u64::MAX - 200)],
        attributes: Vec::new(),
        data_bytes: 0,
    };
    // 34 unchanged, 128 changed, 129 unknown before, 131 new; 130 and 500 freed (known).
    let stored = [Some(1), Some(9), None, None];
    assert_eq!(
        changed_objects(&scan, &stored, &tree),
        [128, 129, 130, 131, 500]
    );
}

fn version(path: &str, inode: u64) -> StoredVersion {
    let mut metadata = EntryMetadata {
        kind: EntryKind::File,
        size: 1,
        allocated: 1,
        mode: 0o644,
        uid: 0,
        gid: 0,
        modified: wizfs_core::FileTime {
            seconds: 1,
            nanoseconds: 0,
        },
        changed: wizfs_core::FileTime {
            seconds: 1,
            nanoseconds: 0,
        },
        inode,
        links: 1,
        symlink_target: None,
    };
    metadata.inode = inode;
    StoredVersion {
        id: inode,
        path: RelativePath::new(path.as_bytes()).unwrap(),
        signature: Signature::of(&metadata),
        birth: 1,
        death: None,
    }
}

#[test]
fn the_fingerprint_cache_reads_each_object_once_and_follows_updates() {
    let stored: BTreeMap<u64, u64> = BTreeMap::from([(34, 1), (128, 2), (129, 3)]);
    let loads = std::cell::RefCell::new(Vec::new());
    let load = |objects: &[u64]| -> IndexerResult<Vec<Option<u64>>> {
        loads.borrow_mut().push(objects.to_vec());
        Ok(objects
            .iter()
            .map(|object| stored.get(object).copied())
            .collect())
    };
    let mut cache = FingerprintCache::default();
    assert_eq!(
        cache.lookup(10, &[34, 128, 500], load).unwrap(),
        [Some(1), Some(2), None]
    );
    // Cached, whether stored or not; only the new object is loaded.
    assert_eq!(
        cache.lookup(10, &[128, 129, 500], load).unwrap(),
        [Some(2), Some(3), None]
    );
    assert_eq!(*loads.borrow(), [vec![34, 128, 500], vec![129]]);

    // An update from 10 to 20: set, freed (known and unknown objects alike).
    cache.advance(&FingerprintUpdate {
        base: 10,
        as_of: 20,
        set: vec![(128, 7), (600, 8)],
        freed: vec![(129, 2)],
    });
    assert_eq!(
        cache.lookup(20, &[34, 128, 129, 600], load).unwrap(),
        [Some(1), Some(7), None, Some(8)]
    );
    assert_eq!(loads.borrow().len(), 2, "all cached");

    // Asked for another snapshot than the one cached (a walk compared one in between):
    // everything is read again.
    assert_eq!(cache.lookup(30, &[34], load).unwrap(), [Some(1)]);
    assert_eq!(loads.borrow().last().unwrap(), &vec![34]);
    // An update from another base than the cached one forgets the cache too.
    cache.advance(&FingerprintUpdate {
        base: 25,
        as_of: 40,
        set: vec![(34, 9)],
        freed: Vec::new(),
    });
    assert_eq!(
        cache.lookup(40, &[34, 128], load).unwrap(),
        [Some(9), Some(2)]
    );
    assert_eq!(loads.borrow().last().unwrap(), &vec![128]);
}
