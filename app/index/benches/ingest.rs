//! Ingest benchmark: the write side of indexing, without ZFS. It replays the VM indexing
//! benchmark's shape (`tests/bench/index.rs`: F files in D directories, S snapshots, C files
//! rewritten between snapshots) into a fresh store the way the indexer does — one
//! `apply_deferred_with_fingerprints` per snapshot after looking up the open version of each
//! changed path and the fingerprints of the objects the send stream carries (every object of
//! each changed object's block of 32), one `flush` at the end — and reports each stage
//! against a baseline measured in the same run: a walk (`read_dir` + `lstat`) of a real
//! directory tree with as many files. Run:
//! `cargo bench -p wizfs-index --bench ingest -- --files 100000 --snapshots 100 --changes 1000`.

use std::path::Path;
use std::time::{Duration, Instant};

use std::collections::{BTreeSet, HashMap};
use wizfs_core::entries::{EntryKind, EntryMetadata, FileTime};
use wizfs_core::names::DatasetName;
use wizfs_core::paths::RelativePath;
use wizfs_core::versioning::{self, Observed};

use wizfs_index::{FingerprintUpdate, IndexStore, SnapshotChange};

const GUID: u64 = 7;
/// Objects per dnode block: a send stream carries the whole block of a changed object.
const BLOCK: u64 = 32;

fn setting(arguments: &[String], name: &str, default: u64) -> u64 {
    arguments
        .windows(2)
        .find(|pair| pair[0] == name)
        .map(|pair| pair[1].parse().unwrap_or_else(|_| panic!("{name} N")))
        .unwrap_or(default)
}

mod common;
use common::Rng;

fn path_of(index: u64, directories: u64) -> RelativePath {
    let path = format!("d{:03}/file-{index:06}.dat", index % directories);
    RelativePath::new(path.as_bytes()).expect("valid path")
}

fn file(inode: u64, size: u64, seconds: i64) -> EntryMetadata {
    let time = FileTime {
        seconds,
        nanoseconds: 0,
    };
    EntryMetadata {
        kind: EntryKind::File,
        size,
        allocated: size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        modified: time,
        changed: time,
        inode,
        links: 1,
        symlink_target: None,
    }
}

fn directory(inode: u64) -> EntryMetadata {
    EntryMetadata {
        kind: EntryKind::Directory,
        size: 0,
        ..file(inode, 0, 1_700_000_000)
    }
}

/// Walks `root` like a metadata walk does: every entry listed and `lstat`-ed.
fn walk(root: &Path) -> usize {
    let mut pending = vec![root.to_path_buf()];
    let mut entries = 0;
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("read_dir") {
            let entry = entry.expect("entry");
            let metadata = std::fs::symlink_metadata(entry.path()).expect("lstat");
            entries += 1;
            if metadata.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    entries
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let files = setting(&arguments, "--files", 100_000);
    let directories = setting(&arguments, "--directories", 1_000);
    let snapshots = setting(&arguments, "--snapshots", 100);
    let changes = setting(&arguments, "--changes", 1_000);

    // Baseline: a real tree of the same shape, walked twice (the second, warm, is kept).
    let tree = tempfile::tempdir().expect("temporary directory");
    for index in 0..directories {
        std::fs::create_dir(tree.path().join(format!("d{index:03}"))).expect("mkdir");
    }
    for index in 0..files {
        let path = path_of(index, directories);
        let path = tree
            .path()
            .join(String::from_utf8_lossy(path.as_bytes()).as_ref());
        std::fs::write(path, index.to_le_bytes()).expect("write");
    }
    walk(tree.path());
    let started = Instant::now();
    let walked = walk(tree.path());
    let one_walk = started.elapsed();

    let directory_store = tempfile::tempdir().expect("temporary directory");
    let store = IndexStore::open(directory_store.path()).expect("open");
    store
        .register_dataset(GUID, &DatasetName::new("tank/bench").expect("name"))
        .expect("register");

    let (mut plan, mut catalogue, mut fingerprints) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    // The first snapshot: every directory and file, as a full walk reports them.
    let stage = Instant::now();
    let mut entries: Vec<(RelativePath, EntryMetadata)> = (0..directories)
        .map(|index| {
            let path = RelativePath::new(format!("d{index:03}").as_bytes()).expect("path");
            (path, directory(files + index + 2))
        })
        .collect();
    entries.extend((0..files).map(|index| (path_of(index, directories), file(index + 2, 8, 1))));
    let ops = versioning::initial(&entries, 1);
    plan += stage.elapsed();
    let stage = Instant::now();
    store
        .apply_deferred(
            GUID,
            SnapshotChange::Indexed {
                guid: 1_000,
                createtxg: 1,
                name: "bench-000".into(),
            },
            &ops,
        )
        .expect("apply");
    catalogue += stage.elapsed();
    let mut versions = ops.len() as u64;
    // Each object's current fingerprint (its last change), as the stream would show it.
    let mut current: HashMap<u64, u64> = HashMap::new();
    for snapshot in 2..=snapshots {
        let stage = Instant::now();
        let changed: BTreeSet<u64> = (0..changes).map(|_| rng.next() % files).collect();
        let observed: Vec<Observed> = changed
            .iter()
            .map(|&index| Observed::Present {
                path: path_of(index, directories),
                metadata: file(index + 2, 20, snapshot as i64),
            })
            .collect();
        let open = |path: &RelativePath| store.open_version(GUID, path).expect("lookup");
        let open_below = |path: &RelativePath| store.open_below(GUID, path).expect("lookup");
        let ops = versioning::advance(&observed, snapshot, &open, &open_below);
        plan += stage.elapsed();
        let stage = Instant::now();
        for &index in &changed {
            current.insert(index + 2, snapshot);
        }
        let streamed: BTreeSet<u64> = changed
            .iter()
            .flat_map(|&index| {
                let first = (index + 2) / BLOCK * BLOCK;
                first..first + BLOCK
            })
            .collect();
        let objects: Vec<u64> = streamed.into_iter().collect();
        let stored = store
            .object_fingerprints(GUID, snapshot - 1, &objects)
            .expect("fingerprints");
        let set: Vec<(u64, u64)> = objects
            .iter()
            .zip(stored)
            .filter_map(|(object, stored)| {
                let fingerprint = current.get(object).copied().unwrap_or(1);
                (stored != Some(fingerprint)).then_some((*object, fingerprint))
            })
            .collect();
        fingerprints += stage.elapsed();
        let stage = Instant::now();
        let report = store
            .apply_deferred_with_fingerprints(
                GUID,
                SnapshotChange::Indexed {
                    guid: 1_000 + snapshot,
                    createtxg: snapshot,
                    name: format!("bench-{snapshot:03}"),
                },
                &ops,
                &FingerprintUpdate {
                    base: snapshot - 1,
                    as_of: snapshot,
                    set,
                    freed: Vec::new(),
                },
            )
            .expect("apply");
        catalogue += stage.elapsed();
        versions += report.opened.len() as u64;
    }
    let stage = Instant::now();
    let documents = store.flush().expect("flush");
    let flush = stage.elapsed();
    let total = started.elapsed();
    let (catalogue_bytes, index_bytes) = store.disk_usage().expect("disk usage");

    println!(
        "ingest: {files} files in {directories} directories, {snapshots} snapshots, \
         {changes} changed per snapshot: {versions} versions, {documents} documents"
    );
    println!(
        "baseline: one warm walk of {walked} entries {:.3} s",
        seconds(one_walk)
    );
    let ratio = |duration: Duration| duration.as_secs_f64() / one_walk.as_secs_f64();
    for (label, duration) in [
        ("planning (open-version look-ups)", plan),
        ("catalogue (versions + fingerprints)", catalogue),
        ("fingerprint look-ups", fingerprints),
        ("search index (flush)", flush),
        ("total", total),
    ] {
        println!(
            "{label:<34} {:>8.3} s  = {:>7.1} walks",
            seconds(duration),
            ratio(duration)
        );
    }
    println!(
        "{:.0} versions/s; {:.0} bytes per version ({catalogue_bytes} catalogue + {index_bytes} \
         search index)",
        versions as f64 / seconds(total),
        (catalogue_bytes + index_bytes) as f64 / versions as f64
    );
}
