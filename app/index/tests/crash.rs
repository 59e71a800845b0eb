//! Real crashes: a child process applies snapshots in a loop and is killed with SIGKILL at
//! arbitrary moments; after each kill the reopened index must hold exactly the snapshots the
//! catalogue committed, with one search document per version (no duplicate, none missing).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wizfs_core::entries::{EntryKind, EntryMetadata, FileTime};
use wizfs_core::names::DatasetName;
use wizfs_core::paths::RelativePath;
use wizfs_core::versioning::VersionOp;
use wizfs_index::{IndexStore, NameMatch, SearchQuery, SnapshotChange};

const DATASET: u64 = 77;
const CHILD_DIRECTORY: &str = "WIZFS_INDEX_CRASH_DIRECTORY";

fn file(size: u64) -> EntryMetadata {
    let time = FileTime {
        seconds: 1_700_000_000 + size as i64,
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
        inode: 5,
        links: 1,
        symlink_target: None,
    }
}

/// Snapshot `n` (txg `10 n`) adds `file-n.txt` and a new version of `rolling.txt`: after `n`
/// snapshots there are exactly `2 n` versions.
fn apply_snapshot(store: &IndexStore, n: u64) {
    let txg = n * 10;
    let rolling = RelativePath::new(b"rolling.txt").unwrap();
    let mut ops = Vec::new();
    if let Some(previous) = store.open_version(DATASET, &rolling).unwrap() {
        ops.push(VersionOp::SetDeath {
            id: previous.id,
            death: Some(txg),
        });
    }
    ops.push(VersionOp::Open {
        path: rolling,
        metadata: file(n),
        birth: txg,
    });
    // Some bulk, so that kills land inside the tantivy sync too.
    for extra in 0..20 {
        ops.push(VersionOp::Open {
            path: RelativePath::new(format!("bulk/{n}/file-{extra}.txt").as_bytes()).unwrap(),
            metadata: file(extra),
            birth: txg,
        });
    }
    ops.push(VersionOp::Open {
        path: RelativePath::new(format!("file-{n}.txt").as_bytes()).unwrap(),
        metadata: file(n),
        birth: txg,
    });
    store
        .apply(
            DATASET,
            SnapshotChange::Indexed {
                guid: 1000 + n,
                createtxg: txg,
                name: format!("auto-{n}"),
            },
            &ops,
        )
        .unwrap();
}

fn open(directory: &Path) -> IndexStore {
    let store = IndexStore::open(directory).unwrap();
    store
        .register_dataset(DATASET, &DatasetName::new("tank/crash").unwrap())
        .unwrap();
    store
}

/// The process the parent test kills: with `CHILD_DIRECTORY` set it applies snapshots until
/// it is killed; run on its own (as part of the suite) it applies three and checks them.
#[test]
fn crash_child() {
    let (directory, rounds, _temporary) = match std::env::var_os(CHILD_DIRECTORY) {
        Some(directory) => (std::path::PathBuf::from(directory), 10_000, None),
        None => {
            let temporary = tempfile::tempdir().unwrap();
            (temporary.path().to_path_buf(), 3, Some(temporary))
        }
    };
    let store = open(&directory);
    let done = store.indexed_snapshots(DATASET).unwrap().len() as u64;
    for n in done + 1..=done + rounds {
        apply_snapshot(&store, n);
    }
    assert!(store.check_consistency().unwrap().is_consistent());
    assert_eq!(
        store.indexed_snapshots(DATASET).unwrap().len() as u64,
        done + rounds
    );
}

#[test]
fn sigkill_at_any_moment_leaves_a_consistent_index() {
    let directory = tempfile::tempdir().unwrap();
    let executable = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut kills = 0;
    let mut snapshots = 0;
    // At least 6 kills, and on until some snapshots landed (bounded in time).
    while kills < 6 || (snapshots < 3 && started.elapsed() < Duration::from_secs(120)) {
        let mut child = Command::new(&executable)
            .args(["--exact", "crash_child", "--nocapture"])
            .env(CHILD_DIRECTORY, directory.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(250 + 137 * (kills % 7)));
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;

        let store = open(directory.path());
        let report = store.check_consistency().unwrap();
        assert!(report.is_consistent(), "after kill {kills}: {report:#?}");
        let indexed = store.indexed_snapshots(DATASET).unwrap();
        snapshots = indexed.len() as u64;
        eprintln!("kill {kills}: {snapshots} snapshots committed");
        assert_eq!(
            indexed.iter().map(|s| s.createtxg).collect::<Vec<_>>(),
            (1..=snapshots).map(|n| n * 10).collect::<Vec<_>>(),
            "snapshots are applied whole and in order"
        );
        assert_eq!(report.catalogue_versions, 22 * snapshots);
        let rolling = SearchQuery {
            text: Some("rolling".into()),
            name_match: NameMatch::Prefix,
            limit: 0,
            ..SearchQuery::default()
        };
        assert_eq!(store.search(&rolling).unwrap().total, snapshots);
        let versions = store
            .versions_of(DATASET, &RelativePath::new(b"rolling.txt").unwrap())
            .unwrap();
        assert_eq!(versions.len() as u64, snapshots);
        assert!(versions.iter().all(|version| version.snapshots.len() == 1));
    }
    assert!(
        snapshots >= 3,
        "the child made no progress: {snapshots} snapshots"
    );
}
