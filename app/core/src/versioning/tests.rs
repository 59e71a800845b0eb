//! Tests for the version index decisions. First exact-output tables for every rule of
//! [`Signature::of`], [`initial`], [`advance`] and [`forget`]; then a simulator that applies the
//! operations to an in-memory store over scripted random histories (files created, modified,
//! deleted, restored identical after a gap, renamed; directories renamed, replaced, deleted;
//! the live pseudo-snapshot refreshed) and compares the store, after every step, with a
//! brute-force oracle computed from the full trees of the remaining snapshots.

use std::collections::BTreeSet;

use super::*;

const BEFORE: u64 = 100;
const PREVIOUS: u64 = 200;
const NEW: u64 = 300;

fn p(text: &str) -> RelativePath {
    RelativePath::new(text.as_bytes()).expect("valid path")
}

fn entry(kind: EntryKind, size: u64, modified: i64, inode: u64) -> EntryMetadata {
    EntryMetadata::sample(kind, size, modified, inode)
}

fn file(size: u64, modified: i64, inode: u64) -> EntryMetadata {
    entry(EntryKind::File, size, modified, inode)
}

fn dir(modified: i64, inode: u64) -> EntryMetadata {
    entry(EntryKind::Directory, 3, modified, inode)
}

fn stored(
    id: u64,
    path: &str,
    metadata: &EntryMetadata,
    birth: u64,
    death: Option<u64>,
) -> StoredVersion {
    StoredVersion {
        id,
        path: p(path),
        signature: Signature::of(metadata),
        birth,
        death,
    }
}

fn present(path: &str, metadata: &EntryMetadata) -> Observed {
    Observed::Present {
        path: p(path),
        metadata: metadata.clone(),
    }
}

fn absent(path: &str) -> Observed {
    Observed::Absent { path: p(path) }
}

fn opened(path: &str, metadata: &EntryMetadata, birth: u64) -> VersionOp {
    VersionOp::Open {
        path: p(path),
        metadata: metadata.clone(),
        birth,
    }
}

fn dies(id: u64, death: Option<u64>) -> VersionOp {
    VersionOp::SetDeath { id, death }
}

fn born(id: u64, birth: u64) -> VersionOp {
    VersionOp::SetBirth { id, birth }
}

fn delete(id: u64) -> VersionOp {
    VersionOp::Delete { id }
}

// ---------------------------------------------------------------------------------------------
// Signature

#[test]
fn signatures() {
    let base = file(10, 7, 42);
    let mut other_attributes = base.clone();
    other_attributes.mode = 0o600;
    other_attributes.uid = 0;
    other_attributes.changed.seconds = 99;
    other_attributes.allocated = 0;
    other_attributes.links = 2;
    let mut bigger_directory = dir(7, 42);
    bigger_directory.size = 40;
    let mut symlink = entry(EntryKind::Symlink, 6, 7, 42);
    symlink.symlink_target = Some(b"target".to_vec());
    let cases: Vec<(&str, EntryMetadata, Signature)> = vec![
        (
            "file keeps kind, size, mtime and inode",
            base.clone(),
            Signature {
                kind: EntryKind::File,
                size: 10,
                modified: FileTime {
                    seconds: 7,
                    nanoseconds: 0,
                },
                inode: 42,
            },
        ),
        (
            "mode, owner, ctime, allocation and links are not part of it",
            other_attributes,
            Signature::of(&base),
        ),
        (
            "directory size is ignored",
            bigger_directory,
            Signature {
                kind: EntryKind::Directory,
                size: 0,
                modified: FileTime {
                    seconds: 7,
                    nanoseconds: 0,
                },
                inode: 42,
            },
        ),
        (
            "symlink keeps its size",
            symlink,
            Signature {
                kind: EntryKind::Symlink,
                size: 6,
                modified: FileTime {
                    seconds: 7,
                    nanoseconds: 0,
                },
                inode: 42,
            },
        ),
    ];
    for (name, metadata, expected) in cases {
        assert_eq!(Signature::of(&metadata), expected, "{name}");
    }
    assert_eq!(Signature::of(&dir(7, 42)), Signature::of(&dir(7, 42)));
}

#[test]
fn visibility() {
    let cases: Vec<(StoredVersion, Vec<(u64, bool)>)> = vec![
        (
            stored(1, "a", &file(1, 1, 1), 200, Some(300)),
            vec![(100, false), (200, true), (250, true), (300, false)],
        ),
        (
            stored(2, "a", &file(1, 1, 1), 200, None),
            vec![(100, false), (200, true), (LIVE_TXG, true)],
        ),
        (
            stored(3, "a", &file(1, 1, 1), 200, Some(LIVE_TXG)),
            vec![(200, true), (LIVE_TXG - 1, true), (LIVE_TXG, false)],
        ),
        (
            stored(4, "a", &file(1, 1, 1), LIVE_TXG, None),
            vec![(200, false), (LIVE_TXG, true)],
        ),
    ];
    for (version, checks) in cases {
        for (txg, expected) in checks {
            assert_eq!(version.is_visible_in(txg), expected, "{version:?} in {txg}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// initial

#[test]
fn initial_opens_every_entry() {
    type Case = (
        &'static str,
        Vec<(RelativePath, EntryMetadata)>,
        u64,
        Vec<VersionOp>,
    );
    let cases: Vec<Case> = vec![
        ("empty dataset", vec![], 100, vec![]),
        (
            "sorted by path bytes",
            vec![
                (p("b"), file(1, 1, 5)),
                (p("a/x"), file(2, 1, 6)),
                (p("a"), dir(1, 4)),
                (p("B"), file(3, 1, 7)),
            ],
            100,
            vec![
                opened("B", &file(3, 1, 7), 100),
                opened("a", &dir(1, 4), 100),
                opened("a/x", &file(2, 1, 6), 100),
                opened("b", &file(1, 1, 5), 100),
            ],
        ),
        (
            "a repeated path keeps its last entry",
            vec![(p("a"), file(1, 1, 5)), (p("a"), file(9, 2, 5))],
            100,
            vec![opened("a", &file(9, 2, 5), 100)],
        ),
        (
            "live file system with nothing indexed",
            vec![(p("a"), file(1, 1, 5))],
            LIVE_TXG,
            vec![opened("a", &file(1, 1, 5), LIVE_TXG)],
        ),
    ];
    for (name, entries, txg, expected) in cases {
        assert_eq!(initial(&entries, txg), expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// advance

/// Runs `advance` against `index` with exact lookups.
fn run_advance(index: &[StoredVersion], observations: &[Observed], txg: u64) -> Vec<VersionOp> {
    let open = |path: &RelativePath| {
        index
            .iter()
            .find(|version| version.path == *path && version.death.is_none())
            .cloned()
    };
    let open_below = |directory: &RelativePath| {
        index
            .iter()
            .filter(|version| {
                version.death.is_none()
                    && version.path != *directory
                    && version.path.starts_with(directory)
            })
            .cloned()
            .collect()
    };
    advance(observations, txg, &open, &open_below)
}

struct AdvanceCase {
    name: &'static str,
    index: Vec<StoredVersion>,
    observations: Vec<Observed>,
    txg: u64,
    expected: Vec<VersionOp>,
}

/// A directory tree as indexed before the new snapshot:
/// 1 `a/` (inode 1), 2 `a/x`, 3 `a/sub/` (inode 3), 4 `a/sub/y`, 5 `ab`, 6 `b`.
fn tree_index() -> Vec<StoredVersion> {
    vec![
        stored(1, "a", &dir(5, 1), BEFORE, None),
        stored(2, "a/x", &file(10, 5, 2), BEFORE, None),
        stored(3, "a/sub", &dir(5, 3), BEFORE, None),
        stored(4, "a/sub/y", &file(20, 5, 4), PREVIOUS, None),
        stored(5, "ab", &file(30, 5, 5), BEFORE, None),
        stored(6, "b", &file(40, 5, 6), BEFORE, None),
    ]
}

fn advance_cases() -> Vec<AdvanceCase> {
    let f1 = file(10, 1, 11);
    let f2 = file(20, 2, 11);
    let mut f1_chmod = f1.clone();
    f1_chmod.mode = 0o600;
    f1_chmod.changed.seconds = 50;
    let mut bigger_directory = dir(5, 1);
    bigger_directory.size = 9;
    vec![
        AdvanceCase {
            name: "unchanged file: nothing",
            index: vec![stored(1, "a", &f1, BEFORE, None)],
            observations: vec![present("a", &f1)],
            txg: NEW,
            expected: vec![],
        },
        AdvanceCase {
            name: "change outside the signature (chmod): nothing",
            index: vec![stored(1, "a", &f1, BEFORE, None)],
            observations: vec![present("a", &f1_chmod)],
            txg: NEW,
            expected: vec![],
        },
        AdvanceCase {
            name: "directory size alone changed: nothing",
            index: vec![stored(1, "a", &dir(5, 1), BEFORE, None)],
            observations: vec![present("a", &bigger_directory)],
            txg: NEW,
            expected: vec![],
        },
        AdvanceCase {
            name: "modified file: the old version dies, a new one opens",
            index: vec![stored(1, "a", &f1, BEFORE, None)],
            observations: vec![present("a", &f2)],
            txg: NEW,
            expected: vec![dies(1, Some(NEW)), opened("a", &f2, NEW)],
        },
        AdvanceCase {
            name: "kind changed with the same inode, size and mtime",
            index: vec![stored(1, "a", &file(0, 1, 11), BEFORE, None)],
            observations: vec![present("a", &entry(EntryKind::Fifo, 0, 1, 11))],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                opened("a", &entry(EntryKind::Fifo, 0, 1, 11), NEW),
            ],
        },
        AdvanceCase {
            name: "new path: open",
            index: vec![stored(1, "a", &f1, BEFORE, Some(PREVIOUS))],
            observations: vec![present("a", &f1)],
            txg: NEW,
            expected: vec![opened("a", &f1, NEW)],
        },
        AdvanceCase {
            name: "absent with an open version: it dies",
            index: vec![stored(1, "a", &f1, BEFORE, None)],
            observations: vec![absent("a")],
            txg: NEW,
            expected: vec![dies(1, Some(NEW))],
        },
        AdvanceCase {
            name: "absent without an open version: nothing",
            index: vec![stored(1, "a", &f1, BEFORE, Some(PREVIOUS))],
            observations: vec![absent("a"), absent("never")],
            txg: NEW,
            expected: vec![],
        },
        AdvanceCase {
            name: "deleted directory: everything below dies, not `ab` sharing the prefix",
            index: tree_index(),
            observations: vec![absent("a")],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(2, Some(NEW)),
                dies(3, Some(NEW)),
                dies(4, Some(NEW)),
            ],
        },
        AdvanceCase {
            name: "renamed directory: old subtree dies, the walked new location opens",
            index: tree_index(),
            observations: vec![
                absent("a"),
                present("c", &dir(6, 1)),
                present("c/x", &file(10, 5, 2)),
                present("c/sub", &dir(5, 3)),
                present("c/sub/y", &file(20, 5, 4)),
            ],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(2, Some(NEW)),
                dies(3, Some(NEW)),
                dies(4, Some(NEW)),
                opened("c", &dir(6, 1), NEW),
                opened("c/sub", &dir(5, 3), NEW),
                opened("c/sub/y", &file(20, 5, 4), NEW),
                opened("c/x", &file(10, 5, 2), NEW),
            ],
        },
        AdvanceCase {
            name: "directory with a new mtime (same inode) keeps its entries",
            index: tree_index(),
            observations: vec![present("a", &dir(6, 1)), absent("a/x")],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(2, Some(NEW)),
                opened("a", &dir(6, 1), NEW),
            ],
        },
        AdvanceCase {
            name: "directory replaced (mv a c; mkdir a; mv c/x a/x): unobserved entries die",
            index: tree_index(),
            observations: vec![
                present("a", &dir(6, 9)),
                present("a/x", &file(10, 5, 2)),
                present("c", &dir(6, 1)),
                present("c/sub", &dir(5, 3)),
                present("c/sub/y", &file(20, 5, 4)),
            ],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(3, Some(NEW)),
                dies(4, Some(NEW)),
                opened("a", &dir(6, 9), NEW),
                opened("c", &dir(6, 1), NEW),
                opened("c/sub", &dir(5, 3), NEW),
                opened("c/sub/y", &file(20, 5, 4), NEW),
            ],
        },
        AdvanceCase {
            name: "directory replaced by a file: its entries die",
            index: tree_index(),
            observations: vec![present("a", &file(1, 6, 9))],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(2, Some(NEW)),
                dies(3, Some(NEW)),
                dies(4, Some(NEW)),
                opened("a", &file(1, 6, 9), NEW),
            ],
        },
        AdvanceCase {
            name: "a directory kept below a replaced one keeps its own entries",
            index: tree_index(),
            observations: vec![present("a", &dir(6, 9)), present("a/sub", &dir(5, 3))],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(2, Some(NEW)),
                opened("a", &dir(6, 9), NEW),
            ],
        },
        AdvanceCase {
            name: "an entry observed below an absent directory follows its own observation",
            index: tree_index(),
            observations: vec![
                absent("a"),
                present("a/x", &file(10, 5, 2)),
                present("a/sub/y", &file(21, 6, 4)),
            ],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(3, Some(NEW)),
                dies(4, Some(NEW)),
                opened("a/sub/y", &file(21, 6, 4), NEW),
            ],
        },
        AdvanceCase {
            name: "nested absences: each version dies once",
            index: tree_index(),
            observations: vec![
                absent("a/sub/y"),
                absent("a/sub"),
                absent("a"),
                absent("a/x"),
                absent("a/sub"),
            ],
            txg: NEW,
            expected: vec![
                dies(1, Some(NEW)),
                dies(2, Some(NEW)),
                dies(3, Some(NEW)),
                dies(4, Some(NEW)),
            ],
        },
        AdvanceCase {
            name: "a repeated path: the last observation wins",
            index: vec![
                stored(1, "a", &f1, BEFORE, None),
                stored(2, "b", &f1, BEFORE, None),
            ],
            observations: vec![
                absent("a"),
                present("b", &f2),
                present("c", &f1),
                present("a", &f1),
                absent("b"),
                present("c", &f2),
            ],
            txg: NEW,
            expected: vec![dies(2, Some(NEW)), opened("c", &f2, NEW)],
        },
        AdvanceCase {
            name: "any order in: deaths by id, then opens by path bytes",
            index: vec![
                stored(7, "z", &f1, BEFORE, None),
                stored(3, "m", &f1, BEFORE, None),
                stored(5, "B", &f1, BEFORE, None),
            ],
            observations: vec![
                absent("z"),
                present("y", &f1),
                absent("B"),
                present("a", &f1),
                present("m", &f2),
                present("Y", &f1),
            ],
            txg: NEW,
            expected: vec![
                dies(3, Some(NEW)),
                dies(5, Some(NEW)),
                dies(7, Some(NEW)),
                opened("Y", &f1, NEW),
                opened("a", &f1, NEW),
                opened("m", &f2, NEW),
                opened("y", &f1, NEW),
            ],
        },
        AdvanceCase {
            name: "the live pseudo-snapshot: versions die at LIVE_TXG",
            index: vec![
                stored(1, "a", &f1, BEFORE, None),
                stored(2, "b", &f1, BEFORE, None),
            ],
            observations: vec![absent("a"), present("b", &f2)],
            txg: LIVE_TXG,
            expected: vec![
                dies(1, Some(LIVE_TXG)),
                dies(2, Some(LIVE_TXG)),
                opened("b", &f2, LIVE_TXG),
            ],
        },
        AdvanceCase {
            name: "no observations: nothing",
            index: tree_index(),
            observations: vec![],
            txg: NEW,
            expected: vec![],
        },
    ]
}

#[test]
fn advance_rules() {
    for case in advance_cases() {
        assert_eq!(
            run_advance(&case.index, &case.observations, case.txg),
            case.expected,
            "{}",
            case.name
        );
    }
}

#[test]
fn compare_walk_reports_only_changes() {
    let index = vec![
        stored(1, "a", &file(1, 10, 11), PREVIOUS, None),
        stored(2, "gone", &file(2, 10, 12), PREVIOUS, None),
        stored(3, "d", &dir(10, 13), PREVIOUS, None),
        stored(4, "d/x", &file(3, 10, 14), PREVIOUS, None),
        stored(5, "old", &file(4, 10, 15), BEFORE, Some(PREVIOUS)),
    ];
    let walked = vec![
        (p("d/x"), file(3, 10, 14)),
        (p(""), dir(10, 1)),
        (p("a"), file(1, 20, 11)),
        (p("d"), dir(10, 13)),
        (p("new"), file(5, 10, 16)),
        (p("old"), file(4, 10, 15)),
    ];
    assert_eq!(
        compare_walk(&walked, &index),
        vec![
            present("a", &file(1, 20, 11)),
            absent("gone"),
            present("new", &file(5, 10, 16)),
            present("old", &file(4, 10, 15)),
        ]
    );
    assert_eq!(compare_walk(&[], &[]), vec![]);
    assert_eq!(
        compare_walk(&[], &index[..1]),
        vec![absent("a")],
        "an emptied tree closes everything"
    );
    // `mv d d2; mkdir d; mv d2/x d/x`: x is unchanged but its directory is another object.
    let moved = vec![(p("d"), dir(30, 99)), (p("d/x"), file(3, 10, 14))];
    assert_eq!(
        compare_walk(&moved, &index[2..4]),
        vec![present("d", &dir(30, 99)), present("d/x", &file(3, 10, 14))]
    );
}

#[test]
fn advance_ignores_closed_versions_from_sloppy_lookups() {
    let mut index = tree_index();
    index.push(stored(8, "a/old", &file(1, 1, 8), BEFORE, Some(PREVIOUS)));
    index.push(stored(9, "ab/elsewhere", &file(1, 1, 9), BEFORE, None));
    let open = |path: &RelativePath| {
        // Returns the newest version of the path, open or not.
        index
            .iter()
            .filter(|version| version.path == *path)
            .max_by_key(|version| version.birth)
            .cloned()
    };
    // Returns every version, open or not, anywhere.
    let open_below = |_: &RelativePath| index.clone();
    let observations = vec![absent("a"), absent("a/old")];
    assert_eq!(
        advance(&observations, NEW, &open, &open_below),
        vec![
            dies(1, Some(NEW)),
            dies(2, Some(NEW)),
            dies(3, Some(NEW)),
            dies(4, Some(NEW)),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// forget

struct ForgetCase {
    name: &'static str,
    destroyed: u64,
    previous: Option<u64>,
    next: Option<u64>,
    touching: Vec<StoredVersion>,
    expected: Vec<VersionOp>,
}

fn forget_cases() -> Vec<ForgetCase> {
    // Indexed snapshots 100, 200, 300, 400; mostly 200 is destroyed.
    let f1 = file(10, 1, 11);
    let f2 = file(20, 2, 11);
    let middle = |touching: Vec<StoredVersion>, expected: Vec<VersionOp>| {
        (200, Some(100), Some(300), touching, expected)
    };
    let newest = |touching: Vec<StoredVersion>, expected: Vec<VersionOp>| {
        (400, Some(300), None, touching, expected)
    };
    type Parts = (
        u64,
        Option<u64>,
        Option<u64>,
        Vec<StoredVersion>,
        Vec<VersionOp>,
    );
    let cases: Vec<(&'static str, Parts)> = vec![
        (
            "visible only in the destroyed snapshot: delete",
            middle(vec![stored(1, "a", &f1, 200, Some(300))], vec![delete(1)]),
        ),
        (
            "newest destroyed, born there: delete",
            newest(vec![stored(1, "a", &f1, 400, None)], vec![delete(1)]),
        ),
        (
            "born at the destroyed snapshot, still in next: birth moves to next",
            middle(
                vec![stored(1, "a", &f1, 200, Some(400))],
                vec![born(1, 300)],
            ),
        ),
        (
            "born at the destroyed snapshot, open: birth moves to next",
            middle(vec![stored(1, "a", &f1, 200, None)], vec![born(1, 300)]),
        ),
        (
            "dying at the destroyed snapshot: death moves to next",
            middle(
                vec![stored(1, "a", &f1, 100, Some(200))],
                vec![dies(1, Some(300))],
            ),
        ),
        (
            "newest destroyed: what died there is open again",
            newest(
                vec![stored(1, "a", &f1, 100, Some(400))],
                vec![dies(1, None)],
            ),
        ),
        (
            "changed in the destroyed snapshot: the new one starts at next, the old ends there",
            middle(
                vec![
                    stored(1, "a", &f1, 100, Some(200)),
                    stored(2, "a", &f2, 200, None),
                ],
                vec![born(2, 300), dies(1, Some(300))],
            ),
        ),
        (
            "identical stretches around the destroyed gap merge",
            middle(
                vec![
                    stored(1, "a", &f1, 100, Some(200)),
                    stored(2, "a", &f1, 300, None),
                ],
                vec![delete(2), dies(1, None)],
            ),
        ),
        (
            "a merge keeps the later death",
            middle(
                vec![
                    stored(2, "a", &f1, 300, Some(400)),
                    stored(1, "a", &f1, 100, Some(200)),
                ],
                vec![delete(2), dies(1, Some(400))],
            ),
        ),
        (
            "different signatures across the gap do not merge",
            middle(
                vec![
                    stored(1, "a", &f1, 100, Some(200)),
                    stored(2, "a", &f2, 300, None),
                ],
                vec![dies(1, Some(300))],
            ),
        ),
        (
            "changed only in the destroyed snapshot: delete it and merge around it",
            middle(
                vec![
                    stored(1, "a", &f1, 100, Some(200)),
                    stored(2, "a", &f2, 200, Some(300)),
                    stored(3, "a", &f1, 300, None),
                ],
                vec![delete(2), delete(3), dies(1, None)],
            ),
        ),
        (
            "an identical version on another path does not merge",
            middle(
                vec![
                    stored(1, "a", &f1, 100, Some(200)),
                    stored(2, "b", &f1, 300, None),
                ],
                vec![dies(1, Some(300))],
            ),
        ),
        (
            "already adjacent identical stretches (not made by advance) merge too",
            middle(
                vec![
                    stored(1, "a", &f1, 100, Some(300)),
                    stored(2, "a", &f1, 300, None),
                ],
                vec![delete(2), dies(1, None)],
            ),
        ),
        (
            "versions merely touching next, or spanning the gap: nothing",
            middle(
                vec![
                    stored(1, "a", &f1, 100, None),
                    stored(2, "b", &f1, 300, Some(400)),
                    stored(3, "c", &f1, 100, Some(300)),
                    stored(4, "c", &f2, 300, None),
                ],
                vec![],
            ),
        ),
        (
            "duplicates in touching are read once",
            middle(
                vec![
                    stored(1, "a", &f1, 200, Some(300)),
                    stored(1, "a", &f1, 200, Some(300)),
                ],
                vec![delete(1)],
            ),
        ),
        (
            "output: deletes, then births, then deaths, each by id",
            middle(
                vec![
                    stored(9, "a", &f1, 100, Some(200)),
                    stored(8, "a", &f2, 200, Some(300)),
                    stored(7, "a", &f1, 300, None),
                    stored(6, "b", &f1, 100, Some(200)),
                    stored(5, "b", &f2, 200, None),
                    stored(4, "c", &f1, 200, Some(300)),
                    stored(3, "d", &f1, 200, None),
                    stored(2, "e", &f1, 100, Some(200)),
                ],
                vec![
                    delete(4),
                    delete(7),
                    delete(8),
                    born(3, 300),
                    born(5, 300),
                    dies(2, Some(300)),
                    dies(6, Some(300)),
                    dies(9, None),
                ],
            ),
        ),
        (
            "first snapshot destroyed",
            (
                100,
                None,
                Some(200),
                vec![
                    stored(1, "a", &f1, 100, Some(200)),
                    stored(2, "b", &f1, 100, None),
                    stored(3, "c", &f1, 100, Some(300)),
                ],
                vec![delete(1), born(2, 200), born(3, 200)],
            ),
        ),
        (
            "only snapshot destroyed",
            (
                100,
                None,
                None,
                vec![stored(1, "a", &f1, 100, None)],
                vec![delete(1)],
            ),
        ),
        (
            "no previous yet something died at the destroyed snapshot: visible nowhere",
            (
                200,
                None,
                Some(300),
                vec![stored(1, "a", &f1, 100, Some(200))],
                vec![delete(1)],
            ),
        ),
        (
            "newest real snapshot destroyed while live is indexed (next = LIVE_TXG)",
            (
                400,
                Some(300),
                Some(LIVE_TXG),
                vec![
                    stored(1, "a", &f1, 400, Some(LIVE_TXG)),
                    stored(2, "b", &f1, 400, None),
                    stored(3, "c", &f1, 100, Some(400)),
                    stored(4, "d", &f1, 100, Some(400)),
                    stored(5, "d", &f1, LIVE_TXG, None),
                    stored(6, "e", &f1, 300, Some(LIVE_TXG)),
                ],
                vec![
                    delete(1),
                    delete(5),
                    born(2, LIVE_TXG),
                    dies(3, Some(LIVE_TXG)),
                    dies(4, None),
                ],
            ),
        ),
        (
            "forgetting the live pseudo-snapshot before a refresh",
            (
                LIVE_TXG,
                Some(400),
                None,
                vec![
                    stored(1, "a", &f1, LIVE_TXG, None),
                    stored(2, "b", &f1, 100, Some(LIVE_TXG)),
                    stored(3, "c", &f2, 400, Some(LIVE_TXG)),
                ],
                vec![delete(1), dies(2, None), dies(3, None)],
            ),
        ),
        ("nothing touching: nothing", middle(vec![], vec![])),
    ];
    cases
        .into_iter()
        .map(
            |(name, (destroyed, previous, next, touching, expected))| ForgetCase {
                name,
                destroyed,
                previous,
                next,
                touching,
                expected,
            },
        )
        .collect()
}

#[test]
fn forget_rules() {
    for case in forget_cases() {
        assert_eq!(
            forget(case.destroyed, case.previous, case.next, &case.touching),
            case.expected,
            "{}",
            case.name
        );
        let mut reversed = case.touching.clone();
        reversed.reverse();
        assert_eq!(
            forget(case.destroyed, case.previous, case.next, &reversed),
            case.expected,
            "{} (reversed input)",
            case.name
        );
    }
}

/// Destroying the newest real snapshot while live is indexed gives the same index whether
/// live is its `next` neighbour or is forgotten first and indexed again.
#[test]
fn live_as_neighbour_or_forgotten_first_agree() {
    let f1 = file(10, 1, 11);
    let f2 = file(20, 2, 11);
    let f3 = file(30, 3, 12);
    // Real snapshots 100 and 200 (200 destroyed), then live.
    let history: Vec<(u64, Tree)> = vec![
        (
            100,
            Tree::from([(p("a"), f1.clone()), (p("d"), f1.clone())]),
        ),
        (
            200,
            Tree::from([(p("a"), f2.clone()), (p("b"), f3.clone())]),
        ),
        (
            LIVE_TXG,
            Tree::from([(p("a"), f2.clone()), (p("d"), f1.clone())]),
        ),
    ];
    let mut rng = Rng::new(7);
    let mut store = Store::default();
    for index in 0..history.len() {
        index_snapshot(&mut store, &history, index, &mut rng);
    }

    let mut as_neighbour = store.clone();
    let mut remaining = history.clone();
    forget_snapshot(&mut as_neighbour, &mut remaining, 1, &mut rng);
    check_index(&as_neighbour, &remaining, "live as neighbour");

    let mut forgotten_first = store;
    let mut remaining = history.clone();
    forget_snapshot(&mut forgotten_first, &mut remaining, 2, &mut rng);
    forget_snapshot(&mut forgotten_first, &mut remaining, 1, &mut rng);
    remaining.push(history[2].clone());
    index_snapshot(&mut forgotten_first, &remaining, 1, &mut rng);
    check_index(&forgotten_first, &remaining, "live forgotten first");

    assert_eq!(keys(&as_neighbour), keys(&forgotten_first));
    assert_eq!(
        keys(&as_neighbour),
        vec![
            key(&p("a"), &Signature::of(&f1), 100, Some(LIVE_TXG)),
            key(&p("a"), &Signature::of(&f2), LIVE_TXG, None),
            key(&p("d"), &Signature::of(&f1), 100, None),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Simulator and brute-force oracle

type Tree = BTreeMap<RelativePath, EntryMetadata>;

/// SplitMix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..bound` (`bound > 0`).
    fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len())).cloned()
        }
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            let other = self.below(index + 1);
            items.swap(index, other);
        }
    }
}

/// The versions store as the storage layer would keep it.
#[derive(Clone, Debug, Default)]
struct Store {
    versions: Vec<StoredVersion>,
    last_id: u64,
}

impl Store {
    fn open(&self, path: &RelativePath) -> Option<StoredVersion> {
        let found: Vec<&StoredVersion> = self
            .versions
            .iter()
            .filter(|version| version.path == *path && version.death.is_none())
            .collect();
        assert!(found.len() <= 1, "two open versions: {found:?}");
        found.first().map(|version| (*version).clone())
    }

    fn open_below(&self, directory: &RelativePath) -> Vec<StoredVersion> {
        self.versions
            .iter()
            .filter(|version| {
                version.death.is_none()
                    && version.path != *directory
                    && version.path.starts_with(directory)
            })
            .cloned()
            .collect()
    }

    fn touching(&self, destroyed: u64, next: Option<u64>) -> Vec<StoredVersion> {
        let hits = |txg: u64| txg == destroyed || Some(txg) == next;
        self.versions
            .iter()
            .filter(|version| hits(version.birth) || version.death.is_some_and(hits))
            .cloned()
            .collect()
    }

    fn get(&mut self, id: u64) -> &mut StoredVersion {
        self.versions
            .iter_mut()
            .find(|version| version.id == id)
            .unwrap_or_else(|| panic!("no version {id}"))
    }

    fn apply(&mut self, ops: &[VersionOp]) {
        for op in ops {
            match op {
                VersionOp::Open {
                    path,
                    metadata,
                    birth,
                } => {
                    self.last_id += 1;
                    self.versions.push(StoredVersion {
                        id: self.last_id,
                        path: path.clone(),
                        signature: Signature::of(metadata),
                        birth: *birth,
                        death: None,
                    });
                }
                VersionOp::SetDeath { id, death } => {
                    let version = self.get(*id);
                    assert_ne!(version.death, *death, "no-op {op:?}");
                    version.death = *death;
                }
                VersionOp::SetBirth { id, birth } => {
                    let version = self.get(*id);
                    assert_ne!(version.birth, *birth, "no-op {op:?}");
                    version.birth = *birth;
                }
                VersionOp::Delete { id } => {
                    let before = self.versions.len();
                    self.versions.retain(|version| version.id != *id);
                    assert_eq!(self.versions.len(), before - 1, "no version {id}");
                }
            }
        }
    }
}

/// A version as the oracle sees it: path, birth, death, then the signature's fields.
type Key = (
    RelativePath,
    u64,
    Option<u64>,
    EntryKind,
    u64,
    FileTime,
    u64,
);

fn key(path: &RelativePath, signature: &Signature, birth: u64, death: Option<u64>) -> Key {
    (
        path.clone(),
        birth,
        death,
        signature.kind,
        signature.size,
        signature.modified,
        signature.inode,
    )
}

fn keys(store: &Store) -> Vec<Key> {
    let mut keys: Vec<Key> = store
        .versions
        .iter()
        .map(|version| {
            key(
                &version.path,
                &version.signature,
                version.birth,
                version.death,
            )
        })
        .collect();
    keys.sort();
    keys
}

/// The canonical versions of the remaining snapshots: per path, maximal runs of consecutive
/// snapshots with one signature.
fn oracle(snapshots: &[(u64, Tree)]) -> Vec<Key> {
    let paths: BTreeSet<&RelativePath> =
        snapshots.iter().flat_map(|(_, tree)| tree.keys()).collect();
    let mut keys = Vec::new();
    for path in paths {
        let mut run: Option<(Signature, u64)> = None;
        for (txg, tree) in snapshots {
            let signature = tree.get(path).map(Signature::of);
            if run.map(|(current, _)| current) != signature {
                if let Some((current, birth)) = run {
                    keys.push(key(path, &current, birth, Some(*txg)));
                }
                run = signature.map(|signature| (signature, *txg));
            }
        }
        if let Some((current, birth)) = run {
            keys.push(key(path, &current, birth, None));
        }
    }
    keys.sort();
    keys
}

/// The store must be exactly the canonical index of `snapshots` (the remaining indexed
/// snapshots, oldest first); the explicit checks say which property broke.
fn check_index(store: &Store, snapshots: &[(u64, Tree)], context: &str) {
    let txgs: BTreeSet<u64> = snapshots.iter().map(|(txg, _)| *txg).collect();
    for version in &store.versions {
        assert!(
            txgs.contains(&version.birth),
            "{context}: birth not indexed: {version:?}"
        );
        if let Some(death) = version.death {
            assert!(
                txgs.contains(&death),
                "{context}: death not indexed: {version:?}"
            );
            assert!(
                version.birth < death,
                "{context}: empty version {version:?}"
            );
        }
    }
    for (txg, tree) in snapshots {
        let visible: BTreeSet<(RelativePath, Key)> = store
            .versions
            .iter()
            .filter(|version| version.is_visible_in(*txg))
            .map(|version| {
                (
                    version.path.clone(),
                    key(&version.path, &version.signature, 0, None),
                )
            })
            .collect();
        let truth: BTreeSet<(RelativePath, Key)> = tree
            .iter()
            .map(|(path, metadata)| (path.clone(), key(path, &Signature::of(metadata), 0, None)))
            .collect();
        assert_eq!(
            visible, truth,
            "{context}: snapshot {txg} holds the wrong paths"
        );
    }
    let mut by_path: BTreeMap<&RelativePath, Vec<&StoredVersion>> = BTreeMap::new();
    for version in &store.versions {
        by_path.entry(&version.path).or_default().push(version);
    }
    for (path, mut versions) in by_path {
        versions.sort_by_key(|version| version.birth);
        for pair in versions.windows(2) {
            let [earlier, later] = pair else { continue };
            let end = earlier
                .death
                .unwrap_or_else(|| panic!("{context}: {path:?}: open version before another"));
            assert!(
                end <= later.birth,
                "{context}: overlap {earlier:?} {later:?}"
            );
            assert!(
                !(end == later.birth && earlier.signature == later.signature),
                "{context}: identical adjacent stretches not merged: {earlier:?} {later:?}"
            );
        }
    }
    assert_eq!(
        keys(store),
        oracle(snapshots),
        "{context}: not the canonical index"
    );
}

/// What the simulations did, to make sure they exercise every rule.
#[derive(Debug, Default)]
struct Coverage {
    opens: usize,
    deaths: usize,
    cascaded_deaths: usize,
    deletes: usize,
    births_moved: usize,
    reopened: usize,
    merges: usize,
    walks: usize,
}

impl Coverage {
    fn assert_complete(&self) {
        let counts = [
            self.opens,
            self.deaths,
            self.cascaded_deaths,
            self.deletes,
            self.births_moved,
            self.reopened,
            self.merges,
            self.walks,
        ];
        assert!(counts.iter().all(|count| *count > 0), "{self:?}");
    }
}

thread_local! {
    static COVERAGE: std::cell::RefCell<Coverage> = std::cell::RefCell::new(Coverage::default());
}

fn covered(update: impl FnOnce(&mut Coverage)) {
    COVERAGE.with(|coverage| update(&mut coverage.borrow_mut()));
}

/// Advance ops: every `SetDeath` (ids strictly increasing, at `txg`), then every `Open`
/// (paths strictly increasing, born at `txg`).
fn check_advance_ops(ops: &[VersionOp], txg: u64, context: &str) {
    let deaths: Vec<u64> = ops
        .iter()
        .map_while(|op| match op {
            VersionOp::SetDeath { id, death } => {
                assert_eq!(*death, Some(txg), "{context}: {op:?}");
                Some(*id)
            }
            _ => None,
        })
        .collect();
    assert!(
        deaths.windows(2).all(|pair| pair[0] < pair[1]),
        "{context}: {ops:?}"
    );
    let mut previous_path: Option<&RelativePath> = None;
    for op in ops.iter().skip(deaths.len()) {
        let VersionOp::Open { path, birth, .. } = op else {
            panic!("{context}: unexpected {op:?} in {ops:?}");
        };
        assert_eq!(*birth, txg, "{context}");
        assert!(
            previous_path.is_none_or(|previous| previous < path),
            "{context}: {ops:?}"
        );
        previous_path = Some(path);
    }
}

/// Forget ops: deletes, births, deaths, each by id, each id once.
fn check_forget_ops(ops: &[VersionOp], context: &str) {
    let ranked: Vec<(u8, u64)> = ops
        .iter()
        .map(|op| match op {
            VersionOp::Delete { id } => (0, *id),
            VersionOp::SetBirth { id, .. } => (1, *id),
            VersionOp::SetDeath { id, .. } => (2, *id),
            VersionOp::Open { .. } => panic!("{context}: forget opened {op:?}"),
        })
        .collect();
    assert!(
        ranked.windows(2).all(|pair| pair[0] < pair[1]),
        "{context}: {ops:?}"
    );
    let ids: BTreeSet<u64> = ranked.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), ranked.len(), "{context}: an id twice in {ops:?}");
}

/// Indexes `snapshots[index]` (all earlier ones are indexed) the way the daemon would.
fn index_snapshot(store: &mut Store, snapshots: &[(u64, Tree)], index: usize, rng: &mut Rng) {
    let (txg, tree) = &snapshots[index];
    let context = format!("indexing {txg}");
    let ops = match index
        .checked_sub(1)
        .and_then(|previous| snapshots.get(previous))
    {
        None => {
            let entries: Vec<(RelativePath, EntryMetadata)> = tree
                .iter()
                .map(|(path, metadata)| (path.clone(), metadata.clone()))
                .collect();
            initial(&entries, *txg)
        }
        Some((_, previous)) => {
            // Half the time the snapshot is compared by a metadata walk instead of a diff.
            let observations = if rng.chance(50) {
                covered(|coverage| coverage.walks += 1);
                let walked: Vec<(RelativePath, EntryMetadata)> = tree
                    .iter()
                    .map(|(path, metadata)| (path.clone(), metadata.clone()))
                    .collect();
                compare_walk(&walked, &store.open_below(&RelativePath::root()))
            } else {
                diff(previous, tree, rng)
            };
            let observed: BTreeSet<&RelativePath> =
                observations.iter().map(Observed::path).collect();
            let ops = advance(
                &observations,
                *txg,
                &|path| store.open(path),
                &|directory| store.open_below(directory),
            );
            for op in &ops {
                if let VersionOp::SetDeath { id, .. } = op {
                    let cascaded = store
                        .versions
                        .iter()
                        .any(|version| version.id == *id && !observed.contains(&version.path));
                    covered(|coverage| {
                        coverage.deaths += 1;
                        coverage.cascaded_deaths += usize::from(cascaded);
                    });
                }
            }
            ops
        }
    };
    check_advance_ops(&ops, *txg, &context);
    covered(|coverage| {
        coverage.opens += ops
            .iter()
            .filter(|op| matches!(op, VersionOp::Open { .. }))
            .count();
    });
    store.apply(&ops);
}

/// Forgets `snapshots[index]` from the store and from `snapshots`.
fn forget_snapshot(
    store: &mut Store,
    snapshots: &mut Vec<(u64, Tree)>,
    index: usize,
    rng: &mut Rng,
) {
    let destroyed = snapshots[index].0;
    let previous = index
        .checked_sub(1)
        .and_then(|previous| snapshots.get(previous))
        .map(|(txg, _)| *txg);
    let next = snapshots.get(index + 1).map(|(txg, _)| *txg);
    let context = format!("forgetting {destroyed} between {previous:?} and {next:?}");
    let touching = store.touching(destroyed, next);
    let ops = forget(destroyed, previous, next, &touching);
    // A shuffled superset with duplicates decides the same.
    let mut superset = store.versions.clone();
    superset.extend(touching.iter().cloned());
    rng.shuffle(&mut superset);
    assert_eq!(
        forget(destroyed, previous, next, &superset),
        ops,
        "{context}"
    );
    check_forget_ops(&ops, &context);
    for op in &ops {
        match op {
            VersionOp::Delete { .. } => covered(|coverage| coverage.deletes += 1),
            VersionOp::SetBirth { .. } => covered(|coverage| coverage.births_moved += 1),
            VersionOp::SetDeath { death, .. } => {
                if death.is_none() {
                    covered(|coverage| coverage.reopened += 1);
                }
                if *death != next {
                    covered(|coverage| coverage.merges += 1);
                }
            }
            VersionOp::Open { .. } => {}
        }
    }
    store.apply(&ops);
    snapshots.remove(index);
}

/// Whether the directory object at `path` left it between `old` and `new`.
fn departed(old: &Tree, new: &Tree, path: &RelativePath) -> bool {
    match old.get(path) {
        Some(before) if before.kind == EntryKind::Directory => !new
            .get(path)
            .is_some_and(|after| Signature::of(before).is_same_directory(&Signature::of(after))),
        _ => false,
    }
}

/// What `zfs diff` plus walking renamed directories tells the caller, within `advance`'s
/// contract and with noise: random order, redundant observations of unchanged entries, stale
/// contradicting observations before the real ones, and (half the time) no `Absent` for
/// entries whose nearest observed ancestor is a directory that left its path.
fn diff(old: &Tree, new: &Tree, rng: &mut Rng) -> Vec<Observed> {
    let mut observed: BTreeMap<RelativePath, Option<EntryMetadata>> = BTreeMap::new();
    for (path, metadata) in new {
        let under_departed = ancestors(path).any(|ancestor| departed(old, new, &ancestor));
        if old.get(path) != Some(metadata) || under_departed || rng.chance(5) {
            observed.insert(path.clone(), Some(metadata.clone()));
        }
    }
    for path in old.keys().filter(|path| !new.contains_key(*path)) {
        observed.insert(path.clone(), None);
    }
    if rng.chance(50) {
        let dropped: Vec<RelativePath> = observed
            .iter()
            .filter(|(path, seen)| {
                seen.is_none()
                    && ancestors(path)
                        .find(|ancestor| observed.contains_key(ancestor))
                        .is_some_and(|ancestor| departed(old, new, &ancestor))
            })
            .map(|(path, _)| path.clone())
            .collect();
        for path in dropped {
            observed.remove(&path);
        }
    }
    let mut observations: Vec<Observed> = observed
        .into_iter()
        .map(|(path, seen)| match seen {
            Some(metadata) => Observed::Present { path, metadata },
            None => Observed::Absent { path },
        })
        .collect();
    rng.shuffle(&mut observations);
    for _ in 0..rng.below(3) {
        if observations.is_empty() {
            break;
        }
        let real = rng.below(observations.len());
        let stale = match &observations[real] {
            Observed::Present { path, .. } => Observed::Absent { path: path.clone() },
            Observed::Absent { path } => Observed::Present {
                path: path.clone(),
                metadata: file(1, 1, 999_999),
            },
        };
        let position = rng.below(real + 1);
        observations.insert(position, stale);
    }
    observations
}

const NAMES: [&str; 5] = ["a", "ab", "b", "c", "d"];

/// A small file system changing at random.
struct World {
    tree: Tree,
    last_inode: u64,
    clock: i64,
    /// Deleted entries, restorable identical (same path and metadata).
    graveyard: Vec<(RelativePath, EntryMetadata)>,
}

impl World {
    fn new() -> Self {
        Self {
            tree: Tree::new(),
            last_inode: 1,
            clock: 1_000,
            graveyard: Vec::new(),
        }
    }

    fn tick(&mut self) -> FileTime {
        self.clock += 1;
        FileTime {
            seconds: self.clock,
            nanoseconds: 0,
        }
    }

    fn new_entry(&mut self, kind: EntryKind, rng: &mut Rng) -> EntryMetadata {
        self.last_inode += 1;
        let modified = self.tick();
        let size = if kind == EntryKind::File {
            rng.below(4) as u64
        } else {
            2
        };
        let mut metadata = entry(kind, size, 0, self.last_inode);
        metadata.modified = modified;
        metadata.changed = modified;
        metadata
    }

    fn directories(&self) -> Vec<RelativePath> {
        std::iter::once(RelativePath::root())
            .chain(
                self.tree
                    .iter()
                    .filter(|(_, metadata)| metadata.kind == EntryKind::Directory)
                    .map(|(path, _)| path.clone()),
            )
            .collect()
    }

    fn paths(&self, kind: Option<EntryKind>) -> Vec<RelativePath> {
        self.tree
            .iter()
            .filter(|(_, metadata)| kind.is_none_or(|kind| metadata.kind == kind))
            .map(|(path, _)| path.clone())
            .collect()
    }

    fn free_path(&self, rng: &mut Rng) -> Option<RelativePath> {
        let parent = rng.pick(&self.directories())?;
        let name = rng.pick(&NAMES)?;
        let path = parent.join(name.as_bytes()).expect("valid name");
        (!self.tree.contains_key(&path)).then_some(path)
    }

    /// A directory changes mtime and size when an entry is added to or removed from it.
    fn touch_parent(&mut self, path: &RelativePath) {
        let Some(parent) = path.parent() else { return };
        let children = self
            .tree
            .keys()
            .filter(|other| other.parent().as_ref() == Some(&parent))
            .count() as u64;
        let now = self.tick();
        if let Some(metadata) = self.tree.get_mut(&parent) {
            metadata.modified = now;
            metadata.changed = now;
            metadata.size = 2 + children;
        }
    }

    fn insert(&mut self, path: RelativePath, metadata: EntryMetadata) {
        self.tree.insert(path.clone(), metadata);
        self.touch_parent(&path);
    }

    fn remove_subtree(&mut self, path: &RelativePath) -> Vec<(RelativePath, EntryMetadata)> {
        let removed: Vec<(RelativePath, EntryMetadata)> = self
            .tree
            .iter()
            .filter(|(other, _)| other.starts_with(path))
            .map(|(other, metadata)| (other.clone(), metadata.clone()))
            .collect();
        for (other, _) in &removed {
            self.tree.remove(other);
        }
        self.touch_parent(path);
        removed
    }

    fn move_subtree(&mut self, from: &RelativePath, to: &RelativePath) {
        for (path, metadata) in self.remove_subtree(from) {
            let below = path.strip_prefix(from).expect("below");
            self.tree
                .insert(to.join_path(&below).expect("valid"), metadata);
        }
        self.touch_parent(to);
    }

    fn step(&mut self, rng: &mut Rng) {
        match rng.below(12) {
            0 | 1 => {
                if let Some(path) = self.free_path(rng) {
                    let metadata = self.new_entry(EntryKind::File, rng);
                    self.insert(path, metadata);
                }
            }
            2 => {
                if let Some(path) = self.free_path(rng) {
                    let metadata = self.new_entry(EntryKind::Directory, rng);
                    self.insert(path, metadata);
                }
            }
            3 => {
                // Modify a file in place.
                if let Some(path) = rng.pick(&self.paths(Some(EntryKind::File))) {
                    let now = self.tick();
                    if let Some(metadata) = self.tree.get_mut(&path) {
                        metadata.size += 1 + rng.below(3) as u64;
                        metadata.modified = now;
                        metadata.changed = now;
                    }
                }
            }
            4 => {
                // chmod: nothing in the signature changes.
                if let Some(path) = rng.pick(&self.paths(None)) {
                    let now = self.tick();
                    if let Some(metadata) = self.tree.get_mut(&path) {
                        metadata.mode ^= 0o020;
                        metadata.changed = now;
                    }
                }
            }
            5 => {
                if let Some(path) = rng.pick(&self.paths(Some(EntryKind::File))) {
                    let removed = self.remove_subtree(&path);
                    self.graveyard.extend(removed);
                }
            }
            6 | 7 => {
                // Restore a deleted entry identical (a copy back from a snapshot).
                if let Some((path, metadata)) = rng.pick(&self.graveyard) {
                    let parent_is_directory = path.parent().is_some_and(|parent| {
                        parent.is_root()
                            || self
                                .tree
                                .get(&parent)
                                .is_some_and(|parent| parent.kind == EntryKind::Directory)
                    });
                    let inode_in_use = self
                        .tree
                        .values()
                        .any(|other| other.inode == metadata.inode);
                    if parent_is_directory && !inode_in_use && !self.tree.contains_key(&path) {
                        self.graveyard
                            .retain(|(_, other)| other.inode != metadata.inode);
                        self.insert(path, metadata);
                    }
                }
            }
            8 => {
                // Rename any entry (a directory takes its subtree along), possibly back.
                if let (Some(from), Some(to)) = (rng.pick(&self.paths(None)), self.free_path(rng))
                    && !to.starts_with(&from)
                {
                    self.move_subtree(&from, &to);
                }
            }
            9 => {
                // rm -r a directory.
                if let Some(path) = rng.pick(&self.paths(Some(EntryKind::Directory))) {
                    let removed = self.remove_subtree(&path);
                    self.graveyard.extend(removed);
                }
            }
            10 => {
                // mv a c; mkdir a; maybe mv c/x a/x.
                if let (Some(from), Some(to)) = (
                    rng.pick(&self.paths(Some(EntryKind::Directory))),
                    self.free_path(rng),
                ) && !to.starts_with(&from)
                {
                    self.move_subtree(&from, &to);
                    let fresh = self.new_entry(EntryKind::Directory, rng);
                    self.insert(from.clone(), fresh);
                    let children: Vec<RelativePath> = self
                        .tree
                        .keys()
                        .filter(|path| path.parent().as_ref() == Some(&to))
                        .cloned()
                        .collect();
                    if let Some(child) = rng.pick(&children)
                        && rng.chance(70)
                    {
                        let name = child.file_name().expect("not the root").to_vec();
                        self.move_subtree(&child, &from.join(&name).expect("valid"));
                    }
                }
            }
            _ => {
                // Replace an entry by one of the other kind (file <-> directory).
                if let Some(path) = rng.pick(&self.paths(None)) {
                    let kind = match self.tree.get(&path).map(|metadata| metadata.kind) {
                        Some(EntryKind::Directory) => EntryKind::File,
                        _ => EntryKind::Directory,
                    };
                    let removed = self.remove_subtree(&path);
                    self.graveyard.extend(removed);
                    let metadata = self.new_entry(kind, rng);
                    self.insert(path, metadata);
                }
            }
        }
    }
}

/// 5 to 8 snapshots (the last one sometimes the live pseudo-snapshot) of a random history.
fn history(seed: u64, rng: &mut Rng) -> Vec<(u64, Tree)> {
    let mut world = World::new();
    for _ in 0..4 + rng.below(8) {
        world.step(rng);
    }
    let count = 5 + rng.below(4);
    let mut snapshots = Vec::new();
    for index in 0..count {
        if index > 0 {
            for _ in 0..rng.below(5) {
                world.step(rng);
            }
        }
        let txg = if seed.is_multiple_of(3) && index + 1 == count {
            LIVE_TXG
        } else {
            100 + 10 * index as u64
        };
        snapshots.push((txg, world.tree.clone()));
    }
    snapshots
}

#[test]
fn histories_match_the_oracle() {
    for seed in 0..300 {
        let mut rng = Rng::new(seed);
        let snapshots = history(seed, &mut rng);
        let mut store = Store::default();
        for index in 0..snapshots.len() {
            index_snapshot(&mut store, &snapshots, index, &mut rng);
            check_index(
                &store,
                &snapshots[..=index],
                &format!("seed {seed}, indexed {}", index + 1),
            );
        }

        // Any single snapshot destroyed: first, middle or last.
        for index in 0..snapshots.len() {
            let mut alone = store.clone();
            let mut remaining = snapshots.clone();
            forget_snapshot(&mut alone, &mut remaining, index, &mut rng);
            check_index(
                &alone,
                &remaining,
                &format!("seed {seed}, without #{index}"),
            );
        }

        // Several in sequence, down to none.
        let mut remaining = snapshots.clone();
        let mut destroyed = Vec::new();
        while !remaining.is_empty() {
            let index = rng.below(remaining.len());
            destroyed.push(remaining[index].0);
            forget_snapshot(&mut store, &mut remaining, index, &mut rng);
            check_index(
                &store,
                &remaining,
                &format!("seed {seed}, destroyed {destroyed:?}"),
            );
        }
        assert!(
            store.versions.is_empty(),
            "seed {seed}: {:?}",
            store.versions
        );
    }
    COVERAGE.with(|coverage| coverage.borrow().assert_complete());
}

/// The daemon's life: the file system changes, snapshots are taken (live forgotten first, as
/// `advance` only appends after the newest), live is refreshed (forget, then index again),
/// and real snapshots are destroyed (with live as `next`, or live forgotten first).
#[test]
fn live_refreshes_match_the_oracle() {
    for seed in 0..150 {
        let mut rng = Rng::new(1_000 + seed);
        let mut world = World::new();
        let mut store = Store::default();
        let mut indexed: Vec<(u64, Tree)> = Vec::new();
        let mut next_txg = 100;
        for event in 0..40 {
            let live_indexed = indexed.last().is_some_and(|(txg, _)| *txg == LIVE_TXG);
            let context = format!("seed {seed}, event {event}");
            match rng.below(10) {
                0..=3 => world.step(&mut rng),
                4 | 5 => {
                    if live_indexed {
                        let last = indexed.len() - 1;
                        forget_snapshot(&mut store, &mut indexed, last, &mut rng);
                    }
                    indexed.push((next_txg, world.tree.clone()));
                    next_txg += 10;
                    index_snapshot(&mut store, &indexed, indexed.len() - 1, &mut rng);
                }
                6 | 7 => {
                    if live_indexed {
                        let last = indexed.len() - 1;
                        forget_snapshot(&mut store, &mut indexed, last, &mut rng);
                    }
                    indexed.push((LIVE_TXG, world.tree.clone()));
                    index_snapshot(&mut store, &indexed, indexed.len() - 1, &mut rng);
                }
                _ => {
                    let real = indexed.len() - usize::from(live_indexed);
                    if real > 0 {
                        let index = rng.below(real);
                        if live_indexed && rng.chance(50) {
                            let last = indexed.len() - 1;
                            let live = indexed[last].clone();
                            forget_snapshot(&mut store, &mut indexed, last, &mut rng);
                            forget_snapshot(&mut store, &mut indexed, index, &mut rng);
                            indexed.push(live);
                            index_snapshot(&mut store, &indexed, indexed.len() - 1, &mut rng);
                        } else {
                            forget_snapshot(&mut store, &mut indexed, index, &mut rng);
                        }
                    }
                }
            }
            check_index(&store, &indexed, &context);
        }
    }
}
