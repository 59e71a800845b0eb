//! Table-driven tests for [`unique_versions`]: each case lists the observations oldest first
//! and the exact versions expected, including which snapshots fold into each version and
//! whose metadata (the newest observation's) each version carries.

use super::*;
use crate::model::Timestamp;
use crate::names::SnapshotName;

fn snapshot(index: u64) -> VersionSource {
    VersionSource::Snapshot {
        name: SnapshotName::new(&format!("tank/data@daily-{index}")).expect("valid snapshot name"),
        createtxg: 100 + index,
        creation: Timestamp(1_790_000_000 + 86_400 * i64::try_from(index).expect("small")),
    }
}

/// An entry; `changed` is not part of any identity, so it tells observations apart.
fn entry(kind: EntryKind, size: u64, modified: i64, changed: i64) -> EntryMetadata {
    EntryMetadata {
        kind,
        size,
        allocated: size,
        mode: 0o644,
        uid: 1000,
        gid: 1000,
        modified: FileTime {
            seconds: modified,
            nanoseconds: 500,
        },
        changed: FileTime {
            seconds: changed,
            nanoseconds: 0,
        },
        inode: 42,
        links: 1,
        symlink_target: None,
    }
}

fn file(size: u64, modified: i64, changed: i64) -> EntryMetadata {
    entry(EntryKind::File, size, modified, changed)
}

fn symlink(target: &[u8], modified: i64, changed: i64) -> EntryMetadata {
    EntryMetadata {
        symlink_target: Some(target.to_vec()),
        ..entry(EntryKind::Symlink, target.len() as u64, modified, changed)
    }
}

fn seen(source: VersionSource, metadata: EntryMetadata, digest: Option<u8>) -> Observation {
    Observation {
        source,
        metadata: Some(metadata),
        content_digest: digest.map(|byte| [byte; 32]),
    }
}

fn absent(source: VersionSource) -> Observation {
    Observation {
        source,
        metadata: None,
        content_digest: None,
    }
}

fn version(
    metadata: EntryMetadata,
    digest: Option<u8>,
    sources: Vec<VersionSource>,
    is_live: bool,
) -> FileVersion {
    FileVersion {
        metadata,
        content_digest: digest.map(|byte| [byte; 32]),
        sources,
        is_live,
    }
}

struct Case {
    name: &'static str,
    identity: VersionIdentity,
    observations: Vec<Observation>,
    expected: Vec<FileVersion>,
}

fn cases() -> Vec<Case> {
    use VersionIdentity::{Content, Metadata};
    let live = || VersionSource::Live;
    vec![
        Case {
            name: "empty input",
            identity: Metadata,
            observations: vec![],
            expected: vec![],
        },
        Case {
            name: "absent everywhere",
            identity: Metadata,
            observations: vec![absent(snapshot(1)), absent(live())],
            expected: vec![],
        },
        Case {
            name: "unchanged across five snapshots folds four",
            identity: Metadata,
            observations: (1..=5)
                .map(|i| seen(snapshot(i), file(10, 7, i as i64), None))
                .collect(),
            expected: vec![version(
                file(10, 7, 5),
                None,
                (1..=5).map(snapshot).collect(),
                false,
            )],
        },
        Case {
            name: "change in the middle",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), None),
                seen(snapshot(2), file(10, 7, 2), None),
                seen(snapshot(3), file(12, 9, 3), None),
                seen(snapshot(4), file(12, 9, 4), None),
            ],
            expected: vec![
                version(file(10, 7, 2), None, vec![snapshot(1), snapshot(2)], false),
                version(file(12, 9, 4), None, vec![snapshot(3), snapshot(4)], false),
            ],
        },
        Case {
            name: "deleted then restored identical is the same version",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), None),
                absent(snapshot(2)),
                seen(snapshot(3), file(10, 7, 3), None),
            ],
            expected: vec![version(
                file(10, 7, 3),
                None,
                vec![snapshot(1), snapshot(3)],
                false,
            )],
        },
        Case {
            name: "changed and changed back lists both stretches",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), None),
                seen(snapshot(2), file(11, 8, 2), None),
                seen(snapshot(3), file(10, 7, 3), None),
            ],
            expected: vec![
                version(file(10, 7, 3), None, vec![snapshot(1), snapshot(3)], false),
                version(file(11, 8, 2), None, vec![snapshot(2)], false),
            ],
        },
        Case {
            name: "live matches an old version",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), None),
                seen(snapshot(2), file(20, 8, 2), None),
                seen(live(), file(10, 7, 99), None),
            ],
            expected: vec![
                version(file(10, 7, 99), None, vec![snapshot(1), live()], true),
                version(file(20, 8, 2), None, vec![snapshot(2)], false),
            ],
        },
        Case {
            name: "live differs from all",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), None),
                seen(snapshot(2), file(10, 7, 2), None),
                seen(live(), file(30, 9, 99), None),
            ],
            expected: vec![
                version(file(10, 7, 2), None, vec![snapshot(1), snapshot(2)], false),
                version(file(30, 9, 99), None, vec![live()], true),
            ],
        },
        Case {
            name: "live deleted",
            identity: Metadata,
            observations: vec![seen(snapshot(1), file(10, 7, 1), None), absent(live())],
            expected: vec![version(file(10, 7, 1), None, vec![snapshot(1)], false)],
        },
        Case {
            name: "same metadata, different content: metadata identity folds",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), Some(1)),
                seen(snapshot(2), file(10, 7, 2), Some(2)),
            ],
            expected: vec![version(
                file(10, 7, 2),
                Some(2),
                vec![snapshot(1), snapshot(2)],
                false,
            )],
        },
        Case {
            name: "same metadata, different content: content identity splits",
            identity: Content,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), Some(1)),
                seen(snapshot(2), file(10, 7, 2), Some(2)),
            ],
            expected: vec![
                version(file(10, 7, 1), Some(1), vec![snapshot(1)], false),
                version(file(10, 7, 2), Some(2), vec![snapshot(2)], false),
            ],
        },
        Case {
            name: "content identity folds despite a touched modification time",
            identity: Content,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), Some(1)),
                seen(snapshot(2), file(10, 8, 2), Some(1)),
                seen(live(), file(10, 9, 3), Some(1)),
            ],
            expected: vec![version(
                file(10, 9, 3),
                Some(1),
                vec![snapshot(1), snapshot(2), live()],
                true,
            )],
        },
        Case {
            name: "content identity without a digest falls back to metadata",
            identity: Content,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), None),
                seen(snapshot(2), file(10, 7, 2), None),
                seen(snapshot(3), file(10, 7, 3), Some(3)),
            ],
            expected: vec![
                version(file(10, 7, 2), None, vec![snapshot(1), snapshot(2)], false),
                version(file(10, 7, 3), Some(3), vec![snapshot(3)], false),
            ],
        },
        Case {
            name: "metadata identity keeps the newest digest",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), file(10, 7, 1), Some(1)),
                seen(snapshot(2), file(10, 7, 2), Some(2)),
                seen(snapshot(3), file(10, 7, 3), None),
            ],
            expected: vec![version(
                file(10, 7, 3),
                Some(2),
                vec![snapshot(1), snapshot(2), snapshot(3)],
                false,
            )],
        },
        Case {
            name: "symlink target change with the same size and time",
            identity: Metadata,
            observations: vec![
                seen(snapshot(1), symlink(b"old-a", 7, 1), None),
                seen(snapshot(2), symlink(b"new-b", 7, 2), None),
                seen(live(), symlink(b"new-b", 7, 3), None),
            ],
            expected: vec![
                version(symlink(b"old-a", 7, 1), None, vec![snapshot(1)], false),
                version(
                    symlink(b"new-b", 7, 3),
                    None,
                    vec![snapshot(2), live()],
                    true,
                ),
            ],
        },
        Case {
            name: "directory and file of the same name",
            identity: Content,
            observations: vec![
                seen(snapshot(1), entry(EntryKind::Directory, 10, 7, 1), None),
                seen(snapshot(2), file(10, 7, 2), None),
                seen(snapshot(3), entry(EntryKind::Directory, 10, 7, 3), None),
            ],
            expected: vec![
                version(
                    entry(EntryKind::Directory, 10, 7, 3),
                    None,
                    vec![snapshot(1), snapshot(3)],
                    false,
                ),
                version(file(10, 7, 2), None, vec![snapshot(2)], false),
            ],
        },
    ]
}

#[test]
fn unique_versions_table() {
    for case in cases() {
        let versions = unique_versions(&case.observations, case.identity);
        assert_eq!(versions, case.expected, "{}", case.name);
    }
}

#[test]
fn folded_snapshots_counts_snapshots_beyond_the_first() {
    let observations: Vec<Observation> = (1..=5)
        .map(|i| seen(snapshot(i), file(10, 7, 0), None))
        .chain([seen(VersionSource::Live, file(10, 7, 0), None)])
        .collect();
    let versions = unique_versions(&observations, VersionIdentity::Metadata);
    let folded: Vec<(usize, bool)> = versions
        .iter()
        .map(|version| (version.folded_snapshots(), version.is_live))
        .collect();
    assert_eq!(folded, vec![(4, true)]);
}
