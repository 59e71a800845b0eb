//! Table-driven tests for restore planning: every case gives the request and what the reader
//! saw (snapshot listing, live listing, names, missing ancestors) and the exact plan or error
//! expected; then tables for guard snapshot names and copy names.

use super::*;

const SNAPSHOT: &str = "tank/data@daily-2026-11-20";
/// 2026-11-26T08:45:12Z.
const NOW: Timestamp = Timestamp(1_795_682_712);
const GUARD: &str = "tank/data@wizfs-guard-20261126T084512Z";

fn p(text: &str) -> RelativePath {
    RelativePath::new(text.as_bytes()).expect("valid path")
}

fn entry(kind: EntryKind, size: u64, modified: i64) -> EntryMetadata {
    EntryMetadata::sample(kind, size, modified, 0)
}

fn file(size: u64, modified: i64) -> EntryMetadata {
    entry(EntryKind::File, size, modified)
}

fn dir(modified: i64) -> EntryMetadata {
    entry(EntryKind::Directory, 3, modified)
}

fn symlink(target: &str, modified: i64) -> EntryMetadata {
    EntryMetadata {
        symlink_target: Some(target.as_bytes().to_vec()),
        ..entry(EntryKind::Symlink, target.len() as u64, modified)
    }
}

fn special(kind: EntryKind) -> EntryMetadata {
    entry(kind, 0, 1)
}

fn linked(size: u64, inode: u64, links: u64) -> EntryMetadata {
    EntryMetadata {
        inode,
        links,
        ..file(size, 1)
    }
}

fn e(path: &str, metadata: EntryMetadata) -> TreeEntry {
    TreeEntry {
        path: p(path),
        metadata,
    }
}

fn request(path: &str, target: RestoreTarget, strategy: DirectoryStrategy) -> RestoreRequest {
    RestoreRequest {
        snapshot: SnapshotName::new(SNAPSHOT).expect("valid snapshot"),
        path: p(path),
        target,
        strategy,
    }
}

fn in_place(path: &str) -> RestoreRequest {
    request(path, RestoreTarget::Original, DirectoryStrategy::Merge)
}

fn replacing(path: &str) -> RestoreRequest {
    request(path, RestoreTarget::Original, DirectoryStrategy::Replace)
}

fn copy_next(path: &str) -> RestoreRequest {
    request(
        path,
        RestoreTarget::Copy { into: None },
        DirectoryStrategy::Merge,
    )
}

fn copy_into(path: &str, into: &str) -> RestoreRequest {
    request(
        path,
        RestoreTarget::Copy {
            into: Some(p(into)),
        },
        DirectoryStrategy::Merge,
    )
}

fn write(
    source: &str,
    destination: &str,
    metadata: EntryMetadata,
    replaces: bool,
) -> RestoreAction {
    RestoreAction::WriteFile {
        source: p(source),
        destination: p(destination),
        metadata,
        replaces,
    }
}

fn mkdir(path: &str) -> RestoreAction {
    RestoreAction::CreateDirectory { path: p(path) }
}

fn finish(path: &str, metadata: EntryMetadata) -> RestoreAction {
    RestoreAction::FinishDirectory {
        path: p(path),
        metadata,
    }
}

fn remove(path: &str, kind: EntryKind) -> RestoreAction {
    RestoreAction::Remove {
        path: p(path),
        kind,
    }
}

fn hard_link(destination: &str, existing: &str, replaces: bool) -> RestoreAction {
    RestoreAction::HardLink {
        destination: p(destination),
        existing: p(existing),
        replaces,
    }
}

fn refusal(path: &str, kind: EntryKind, reason: &str) -> Refusal {
    Refusal {
        path: p(path),
        kind,
        reason: reason.to_owned(),
    }
}

fn not_below(path: &str) -> PlanError {
    PlanError::InconsistentListing {
        path: path.to_owned(),
        problem: "the entry is not listed after a directory holding it",
    }
}

struct Expected {
    destination: &'static str,
    guard: bool,
    actions: Vec<RestoreAction>,
    refused: Vec<Refusal>,
    summary: PlanSummary,
}

impl Expected {
    fn plan(self) -> RestorePlan {
        RestorePlan {
            dataset: DatasetName::new("tank/data").expect("valid dataset"),
            snapshot: SnapshotName::new(SNAPSHOT).expect("valid snapshot"),
            destination: p(self.destination),
            guard_snapshot: self
                .guard
                .then(|| SnapshotName::new(GUARD).expect("valid guard")),
            actions: self.actions,
            refused: self.refused,
            summary: self.summary,
        }
    }
}

fn plan(
    destination: &'static str,
    guard: bool,
    actions: Vec<RestoreAction>,
    summary: PlanSummary,
) -> Result<Expected, PlanError> {
    Ok(Expected {
        destination,
        guard,
        actions,
        refused: Vec::new(),
        summary,
    })
}

struct Case {
    name: &'static str,
    request: RestoreRequest,
    source: Vec<TreeEntry>,
    live: Vec<TreeEntry>,
    names: Vec<Vec<u8>>,
    ancestors: Vec<TreeEntry>,
    expected: Result<Expected, PlanError>,
}

fn case(name: &'static str, request: RestoreRequest) -> Case {
    Case {
        name,
        request,
        source: Vec::new(),
        live: Vec::new(),
        names: Vec::new(),
        ancestors: Vec::new(),
        expected: Err(PlanError::RootCopyNextToItself),
    }
}

fn names(names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().map(|name| name.as_bytes().to_vec()).collect()
}

fn counts() -> PlanSummary {
    PlanSummary::default()
}

fn cases() -> Vec<Case> {
    use EntryKind::{BlockDevice, CharacterDevice, Directory, Fifo, File, Socket, Symlink};
    let report = || vec![e("docs/report.txt", file(10, 1))];
    let merge_source = || {
        vec![
            e("docs", dir(1)),
            e("docs/changed.txt", file(10, 1)),
            e("docs/same.txt", file(7, 1)),
        ]
    };
    let live_docs = || e("docs", EntryMetadata { size: 5, ..dir(1) });
    vec![
        Case {
            source: report(),
            expected: plan(
                "docs/report.txt",
                true,
                vec![write(
                    "docs/report.txt",
                    "docs/report.txt",
                    file(10, 1),
                    false,
                )],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    ..counts()
                },
            ),
            ..case(
                "a deleted file restored in place comes after a guard",
                in_place("docs/report.txt"),
            )
        },
        Case {
            source: report(),
            live: vec![e("docs/report.txt", file(20, 2))],
            expected: plan(
                "docs/report.txt",
                true,
                vec![write(
                    "docs/report.txt",
                    "docs/report.txt",
                    file(10, 1),
                    true,
                )],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    replaced: 1,
                    ..counts()
                },
            ),
            ..case(
                "modified file restored in place replaces it",
                in_place("docs/report.txt"),
            )
        },
        Case {
            source: report(),
            live: vec![e(
                "docs/report.txt",
                EntryMetadata {
                    mode: 0o600,
                    ..file(10, 1)
                },
            )],
            expected: plan(
                "docs/report.txt",
                true,
                vec![write(
                    "docs/report.txt",
                    "docs/report.txt",
                    file(10, 1),
                    true,
                )],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    replaced: 1,
                    ..counts()
                },
            ),
            ..case(
                "a different mode alone is a change",
                in_place("docs/report.txt"),
            )
        },
        Case {
            source: report(),
            live: vec![e(
                "docs/report.txt",
                EntryMetadata {
                    inode: 99,
                    ..file(10, 1)
                },
            )],
            expected: plan(
                "docs/report.txt",
                false,
                vec![],
                PlanSummary {
                    unchanged: 1,
                    ..counts()
                },
            ),
            ..case("identical file is left alone", in_place("docs/report.txt"))
        },
        Case {
            source: report(),
            names: names(&["report.txt", "report (restored from daily-2026-11-20).txt"]),
            expected: plan(
                "docs/report (restored from daily-2026-11-20, 2).txt",
                false,
                vec![write(
                    "docs/report.txt",
                    "docs/report (restored from daily-2026-11-20, 2).txt",
                    file(10, 1),
                    false,
                )],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    ..counts()
                },
            ),
            ..case(
                "copy next to the original skips taken names",
                copy_next("docs/report.txt"),
            )
        },
        Case {
            source: report(),
            names: names(&["other.txt"]),
            expected: plan(
                "restored/report.txt",
                false,
                vec![write(
                    "docs/report.txt",
                    "restored/report.txt",
                    file(10, 1),
                    false,
                )],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    ..counts()
                },
            ),
            ..case(
                "copy into a directory keeps the name",
                copy_into("docs/report.txt", "restored"),
            )
        },
        Case {
            source: report(),
            names: names(&["report.txt"]),
            expected: plan(
                "restored/report (restored from daily-2026-11-20).txt",
                false,
                vec![write(
                    "docs/report.txt",
                    "restored/report (restored from daily-2026-11-20).txt",
                    file(10, 1),
                    false,
                )],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    ..counts()
                },
            ),
            ..case(
                "copy into a directory where the name is taken",
                copy_into("docs/report.txt", "restored"),
            )
        },
        Case {
            source: report(),
            ancestors: vec![e("restored", dir(9))],
            expected: plan(
                "restored/report.txt",
                false,
                vec![
                    mkdir("restored"),
                    write("docs/report.txt", "restored/report.txt", file(10, 1), false),
                    finish("restored", dir(9)),
                ],
                PlanSummary {
                    files: 1,
                    directories: 1,
                    bytes: 10,
                    ..counts()
                },
            ),
            ..case(
                "copy into a missing directory creates it",
                copy_into("docs/report.txt", "restored"),
            )
        },
        Case {
            source: vec![
                e("", dir(1)),
                e("a.txt", file(10, 1)),
                e("sub", dir(2)),
                e("sub/b", file(5, 1)),
            ],
            expected: plan(
                "restored/daily-2026-11-20",
                false,
                vec![
                    mkdir("restored/daily-2026-11-20"),
                    write(
                        "a.txt",
                        "restored/daily-2026-11-20/a.txt",
                        file(10, 1),
                        false,
                    ),
                    mkdir("restored/daily-2026-11-20/sub"),
                    write(
                        "sub/b",
                        "restored/daily-2026-11-20/sub/b",
                        file(5, 1),
                        false,
                    ),
                    finish("restored/daily-2026-11-20/sub", dir(2)),
                    finish("restored/daily-2026-11-20", dir(1)),
                ],
                PlanSummary {
                    files: 2,
                    directories: 2,
                    bytes: 15,
                    ..counts()
                },
            ),
            ..case(
                "copy of the root into a directory uses the snapshot name",
                copy_into("", "restored"),
            )
        },
        Case {
            source: vec![e("", dir(1))],
            expected: Err(PlanError::RootCopyNextToItself),
            ..case("copy of the root next to itself", copy_next(""))
        },
        Case {
            source: vec![e("docs", dir(1)), e("docs/a", file(1, 1))],
            expected: Err(PlanError::DestinationInsideSource {
                path: "docs".into(),
                into: "docs/sub".into(),
            }),
            ..case(
                "copy into a directory inside the source",
                copy_into("docs", "docs/sub"),
            )
        },
        Case {
            source: vec![e("docs", dir(1))],
            expected: Err(PlanError::DestinationInsideSource {
                path: "docs".into(),
                into: "docs".into(),
            }),
            ..case("copy into the source itself", copy_into("docs", "docs"))
        },
        Case {
            source: vec![e("docs", dir(1))],
            expected: plan(
                "docs2/docs",
                false,
                vec![mkdir("docs2/docs"), finish("docs2/docs", dir(1))],
                PlanSummary {
                    directories: 1,
                    ..counts()
                },
            ),
            ..case(
                "copy into a sibling sharing a prefix",
                copy_into("docs", "docs2"),
            )
        },
        Case {
            source: merge_source(),
            live: vec![
                live_docs(),
                e("docs/changed.txt", file(20, 2)),
                e("docs/extra.txt", file(3, 2)),
                e("docs/same.txt", file(7, 1)),
            ],
            expected: plan(
                "docs",
                true,
                vec![
                    write("docs/changed.txt", "docs/changed.txt", file(10, 1), true),
                    finish("docs", dir(1)),
                ],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    replaced: 1,
                    unchanged: 2,
                    ..counts()
                },
            ),
            ..case(
                "directory merge: one changed, one unchanged, one live-only",
                in_place("docs"),
            )
        },
        Case {
            source: vec![e("docs", dir(1)), e("docs/same.txt", file(7, 1))],
            live: vec![
                live_docs(),
                e("docs/extra.txt", file(3, 2)),
                e("docs/same.txt", file(7, 1)),
            ],
            expected: plan(
                "docs",
                false,
                vec![],
                PlanSummary {
                    unchanged: 2,
                    ..counts()
                },
            ),
            ..case("directory merge with nothing to do", in_place("docs"))
        },
        Case {
            source: merge_source(),
            live: vec![
                live_docs(),
                e("docs/changed.txt", file(20, 2)),
                e("docs/extra.txt", file(3, 2)),
                e("docs/old", dir(2)),
                e("docs/old/deep.txt", file(1, 2)),
                e("docs/same.txt", file(7, 1)),
            ],
            expected: plan(
                "docs",
                true,
                vec![
                    remove("docs/old/deep.txt", File),
                    remove("docs/extra.txt", File),
                    remove("docs/old", Directory),
                    write("docs/changed.txt", "docs/changed.txt", file(10, 1), true),
                    finish("docs", dir(1)),
                ],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    replaced: 1,
                    removed: 3,
                    unchanged: 2,
                    ..counts()
                },
            ),
            ..case(
                "directory replace removes live-only entries, deepest first",
                replacing("docs"),
            )
        },
        Case {
            source: vec![e("docs", dir(1)), e("docs/same.txt", file(7, 1))],
            live: vec![
                e(
                    "docs",
                    EntryMetadata {
                        mode: 0o700,
                        ..dir(1)
                    },
                ),
                e("docs/same.txt", file(7, 1)),
            ],
            expected: plan(
                "docs",
                false,
                vec![finish("docs", dir(1))],
                PlanSummary {
                    directories: 1,
                    unchanged: 1,
                    ..counts()
                },
            ),
            ..case(
                "live directory with other metadata is only finished",
                in_place("docs"),
            )
        },
        Case {
            source: vec![e("docs", dir(1)), e("docs/a.txt", file(10, 1))],
            live: vec![e("docs", file(4, 2))],
            expected: plan(
                "docs",
                true,
                vec![
                    remove("docs", File),
                    mkdir("docs"),
                    write("docs/a.txt", "docs/a.txt", file(10, 1), false),
                    finish("docs", dir(1)),
                ],
                PlanSummary {
                    files: 1,
                    directories: 1,
                    bytes: 10,
                    replaced: 1,
                    ..counts()
                },
            ),
            ..case(
                "file replaced by a directory of the same name",
                in_place("docs"),
            )
        },
        Case {
            source: vec![e("docs", file(10, 1))],
            live: vec![
                e("docs", dir(2)),
                e("docs/sub", dir(2)),
                e("docs/sub/y", file(1, 2)),
                e("docs/x.txt", file(1, 2)),
            ],
            expected: plan(
                "docs",
                true,
                vec![
                    remove("docs/sub/y", File),
                    remove("docs/sub", Directory),
                    remove("docs/x.txt", File),
                    remove("docs", Directory),
                    write("docs", "docs", file(10, 1), false),
                ],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    replaced: 1,
                    removed: 3,
                    ..counts()
                },
            ),
            ..case(
                "directory replaced by a file even when merging",
                in_place("docs"),
            )
        },
        Case {
            source: vec![e("link", symlink("new", 1))],
            live: vec![e("link", symlink("old", 1))],
            expected: plan(
                "link",
                true,
                vec![RestoreAction::CreateSymlink {
                    destination: p("link"),
                    target: b"new".to_vec(),
                    metadata: symlink("new", 1),
                    replaces: true,
                }],
                PlanSummary {
                    symlinks: 1,
                    replaced: 1,
                    ..counts()
                },
            ),
            ..case("symlink with another target is replaced", in_place("link"))
        },
        Case {
            source: vec![
                e("dev", dir(1)),
                e("dev/pipe", special(Fifo)),
                e("dev/sda", special(BlockDevice)),
                e("dev/tty", special(CharacterDevice)),
                e("dev/sock", special(Socket)),
                e("dev/ok.txt", file(10, 1)),
            ],
            expected: Ok(Expected {
                destination: "dev",
                guard: true,
                actions: vec![
                    mkdir("dev"),
                    write("dev/ok.txt", "dev/ok.txt", file(10, 1), false),
                    finish("dev", dir(1)),
                ],
                refused: vec![
                    refusal(
                        "dev/pipe",
                        Fifo,
                        "FIFOs (named pipes) are never restored: they hold no data; recreate one with mkfifo",
                    ),
                    refusal(
                        "dev/sda",
                        BlockDevice,
                        "device nodes are never restored: recreate one with mknod if it is really needed",
                    ),
                    refusal(
                        "dev/tty",
                        CharacterDevice,
                        "device nodes are never restored: recreate one with mknod if it is really needed",
                    ),
                    refusal(
                        "dev/sock",
                        Socket,
                        "sockets are never restored: the program that listens on one creates it again",
                    ),
                ],
                summary: PlanSummary {
                    files: 1,
                    directories: 1,
                    bytes: 10,
                    ..counts()
                },
            }),
            ..case(
                "special files inside a tree are refused, not errors",
                in_place("dev"),
            )
        },
        Case {
            source: vec![e("dev", dir(1)), e("dev/pipe", special(Fifo))],
            live: vec![
                e("dev", dir(1)),
                e("dev/pipe", special(Fifo)),
                e("dev/stale", file(1, 2)),
            ],
            expected: Ok(Expected {
                destination: "dev",
                guard: true,
                actions: vec![remove("dev/stale", File), finish("dev", dir(1))],
                refused: vec![refusal(
                    "dev/pipe",
                    Fifo,
                    "FIFOs (named pipes) are never restored: they hold no data; recreate one with mkfifo",
                )],
                summary: PlanSummary {
                    removed: 1,
                    unchanged: 1,
                    ..counts()
                },
            }),
            ..case(
                "replace leaves live entries where the snapshot's is refused",
                replacing("dev"),
            )
        },
        Case {
            source: vec![e("pipe", special(Fifo))],
            expected: Err(PlanError::NotRestorable {
                path: "pipe".into(),
                kind: "fifo",
            }),
            ..case("a FIFO as the top is not restorable", in_place("pipe"))
        },
        Case {
            source: vec![
                e("d", dir(1)),
                e("d/a", linked(10, 7, 2)),
                e("d/b", linked(10, 7, 2)),
                e("d/c", linked(4, 8, 3)),
            ],
            expected: plan(
                "d",
                true,
                vec![
                    mkdir("d"),
                    write("d/a", "d/a", linked(10, 7, 2), false),
                    hard_link("d/b", "d/a", false),
                    write("d/c", "d/c", linked(4, 8, 3), false),
                    finish("d", dir(1)),
                ],
                PlanSummary {
                    files: 2,
                    directories: 1,
                    hard_links: 1,
                    bytes: 14,
                    ..counts()
                },
            ),
            ..case("hard links stay hard links", in_place("d"))
        },
        Case {
            source: vec![
                e("d", dir(1)),
                e("d/a", linked(10, 7, 2)),
                e("d/b", linked(10, 7, 2)),
            ],
            live: vec![e("d", dir(1)), e("d/a", file(10, 1))],
            expected: plan(
                "d",
                true,
                vec![hard_link("d/b", "d/a", false), finish("d", dir(1))],
                PlanSummary {
                    hard_links: 1,
                    unchanged: 2,
                    ..counts()
                },
            ),
            ..case(
                "a missing link to an unchanged file links to the live one",
                in_place("d"),
            )
        },
        Case {
            source: vec![
                e("d", dir(1)),
                e("d/a", linked(10, 7, 2)),
                e("d/b", linked(10, 7, 2)),
            ],
            live: vec![e("d", dir(1)), e("d/a", file(3, 2)), e("d/b", file(10, 1))],
            expected: plan(
                "d",
                true,
                vec![
                    write("d/a", "d/a", linked(10, 7, 2), true),
                    hard_link("d/b", "d/a", true),
                    finish("d", dir(1)),
                ],
                PlanSummary {
                    files: 1,
                    hard_links: 1,
                    bytes: 10,
                    replaced: 2,
                    unchanged: 1,
                    ..counts()
                },
            ),
            ..case("a link to a rewritten file is relinked", in_place("d"))
        },
        Case {
            source: vec![e("a/b/c", dir(1)), e("a/b/c/f.txt", file(10, 1))],
            ancestors: vec![e("a", dir(11)), e("a/b", dir(12))],
            expected: plan(
                "a/b/c",
                true,
                vec![
                    mkdir("a"),
                    mkdir("a/b"),
                    mkdir("a/b/c"),
                    write("a/b/c/f.txt", "a/b/c/f.txt", file(10, 1), false),
                    finish("a/b/c", dir(1)),
                    finish("a/b", dir(12)),
                    finish("a", dir(11)),
                ],
                PlanSummary {
                    files: 1,
                    directories: 3,
                    bytes: 10,
                    ..counts()
                },
            ),
            ..case(
                "deleted directory returns with its missing ancestors",
                in_place("a/b/c"),
            )
        },
        Case {
            source: vec![e("", dir(1)), e("a.txt", file(10, 1))],
            live: vec![e("", dir(1))],
            expected: plan(
                "",
                true,
                vec![
                    write("a.txt", "a.txt", file(10, 1), false),
                    finish("", dir(1)),
                ],
                PlanSummary {
                    files: 1,
                    bytes: 10,
                    unchanged: 1,
                    ..counts()
                },
            ),
            ..case("the dataset root restored in place", in_place(""))
        },
        Case {
            source: vec![e("", dir(1))],
            expected: Err(PlanError::InconsistentListing {
                path: "/".into(),
                problem: "the live listing lacks the dataset root",
            }),
            ..case("root in place without the live root", in_place(""))
        },
        Case {
            expected: Err(PlanError::NotInSnapshot {
                snapshot: SNAPSHOT.into(),
                path: "docs/gone.txt".into(),
            }),
            ..case("not in the snapshot", in_place("docs/gone.txt"))
        },
        Case {
            source: vec![e("docs/a", file(1, 1))],
            expected: Err(PlanError::NotInSnapshot {
                snapshot: SNAPSHOT.into(),
                path: "docs".into(),
            }),
            ..case("listing without the requested path", in_place("docs"))
        },
        Case {
            source: vec![e("docs", dir(1)), e("other", file(1, 1))],
            expected: Err(PlanError::InconsistentInput("docs".into())),
            ..case("listing reaching outside the request", in_place("docs"))
        },
        Case {
            source: vec![e("d", dir(1)), e("d/x/y", file(1, 1)), e("d/x", dir(1))],
            expected: Err(not_below("d/x/y")),
            ..case("child listed before its directory", in_place("d"))
        },
        Case {
            source: vec![e("f", file(1, 1)), e("f/x", file(1, 1))],
            expected: Err(not_below("f/x")),
            ..case("entry below a file", in_place("f"))
        },
        Case {
            source: vec![e("d", dir(1)), e("d/x", file(1, 1)), e("d/x", file(1, 1))],
            expected: Err(PlanError::InconsistentListing {
                path: "d/x".into(),
                problem: "the entry is listed twice",
            }),
            ..case("entry listed twice", in_place("d"))
        },
        Case {
            source: vec![e("l", entry(Symlink, 3, 1))],
            expected: Err(PlanError::InconsistentListing {
                path: "l".into(),
                problem: "the symlink is listed without its target",
            }),
            ..case("symlink without a target", in_place("l"))
        },
        Case {
            source: report(),
            ancestors: vec![e("other", dir(1))],
            expected: Err(PlanError::InconsistentListing {
                path: "other".into(),
                problem: "a missing ancestor must be a directory above the destination, outermost first",
            }),
            ..case(
                "missing ancestor not above the destination",
                in_place("docs/report.txt"),
            )
        },
        Case {
            source: report(),
            names: (1..=1000)
                .map(|number| match number {
                    1 => b"report (restored from daily-2026-11-20).txt".to_vec(),
                    _ => format!("report (restored from daily-2026-11-20, {number}).txt")
                        .into_bytes(),
                })
                .collect(),
            expected: Err(PlanError::NoFreeName {
                path: "docs/report.txt".into(),
            }),
            ..case("no free copy name", copy_next("docs/report.txt"))
        },
    ]
}

#[test]
fn plan_restore_table() {
    for case in cases() {
        let input = PlanInput {
            request: &case.request,
            source: &case.source,
            live: &case.live,
            live_names_in_destination_directory: &case.names,
            missing_live_ancestors: &case.ancestors,
            now: NOW,
        };
        let expected = case.expected.map(Expected::plan);
        assert_eq!(plan_restore(&input), expected, "{}", case.name);
    }
}

#[test]
fn paths_beyond_the_limit_are_an_error() {
    // d/A/A/…: 15 levels of 255-byte names below `d`; copied into a 266-byte directory the
    // deepest path grows past 4095 bytes.
    let component = "A".repeat(255);
    let mut source = vec![e("d", dir(1))];
    let mut path = String::from("d");
    for _ in 0..15 {
        path = format!("{path}/{component}");
        source.push(e(&path, dir(1)));
    }
    let into = format!("{}/{}", "x".repeat(255), "y".repeat(10));
    let request = copy_into("d", &into);
    let input = PlanInput {
        request: &request,
        source: &source,
        live: &[],
        live_names_in_destination_directory: &[],
        missing_live_ancestors: &[],
        now: NOW,
    };
    let too_long = format!("{into}/{path}");
    let shown: String = too_long.chars().take(300).chain(['…']).collect();
    assert_eq!(too_long.len(), 4108);
    assert_eq!(
        plan_restore(&input),
        Err(PlanError::InvalidPath(PathError::TooLong {
            path: shown,
            length: 4108
        }))
    );
}

/// A dataset name of exactly `length` bytes.
fn dataset_of_length(length: usize) -> DatasetName {
    let mut name = String::from("tank");
    while name.len() < length {
        let remaining = length - name.len() - 1;
        // Leave at least two bytes for a last component ("/c").
        let part = if remaining > 200 { 100 } else { remaining };
        name = format!("{name}/{}", "c".repeat(part));
    }
    assert_eq!(name.len(), length);
    DatasetName::new(&name).expect("valid dataset name")
}

#[test]
fn guard_snapshot_names() {
    let cases: Vec<(usize, Timestamp, u32, Option<&str>)> = vec![
        (9, NOW, 0, Some("wizfs-guard-20261126T084512Z")),
        (9, NOW, 1, Some("wizfs-guard-20261126T084512Z-2")),
        (9, NOW, 2, Some("wizfs-guard-20261126T084512Z-3")),
        (9, Timestamp(0), 0, Some("wizfs-guard-19700101T000000Z")),
        // 254 - length bytes are left for the short name.
        (226, NOW, 0, Some("wizfs-guard-20261126T084512Z")),
        (227, NOW, 0, Some("wizfs-guard-20261126T0845Z")),
        (226, NOW, 1, Some("wizfs-guard-20261126T0845Z-2")),
        (228, NOW, 0, Some("wizfs-guard-20261126T0845Z")),
        (229, NOW, 0, Some("wg-1795682712")),
        (241, NOW, 0, Some("wg-1795682712")),
        (242, NOW, 0, Some("g")),
        (250, NOW, 0, Some("g")),
        (250, NOW, 1, Some("g2")),
        (250, NOW, 98, Some("g99")),
        (250, NOW, 999, Some("rr")),
        (253, NOW, 0, Some("g")),
        (253, NOW, 1, Some("1")),
        (253, NOW, 35, Some("z")),
        (253, NOW, 36, Some("0")),
        (254, NOW, 0, None),
        (255, NOW, 0, None),
    ];
    for (length, now, attempt, expected) in cases {
        let dataset = if length == 9 {
            DatasetName::new("tank/data").expect("valid dataset name")
        } else {
            dataset_of_length(length)
        };
        let name = guard_snapshot_name(&dataset, now, attempt);
        let expected = expected.map(|short| dataset.snapshot(short).expect("valid snapshot name"));
        assert_eq!(
            name, expected,
            "dataset of {length} bytes, attempt {attempt}"
        );
    }
}

/// `(case name, original, snapshot short name, names taken, expected copy name)`.
type CopyCase<'a> = (&'a str, Vec<u8>, &'a str, Vec<Vec<u8>>, Option<Vec<u8>>);

#[test]
fn copy_names() {
    const LABEL: &str = "daily-2026-11-20";
    let suffix = " (restored from daily-2026-11-20)";
    let long_label = "s".repeat(253);
    let cases: Vec<CopyCase<'_>> = vec![
        (
            "plain",
            b"report.txt".to_vec(),
            LABEL,
            vec![],
            Some(b"report (restored from daily-2026-11-20).txt".to_vec()),
        ),
        (
            "taken once",
            b"report.txt".to_vec(),
            LABEL,
            vec![b"report (restored from daily-2026-11-20).txt".to_vec()],
            Some(b"report (restored from daily-2026-11-20, 2).txt".to_vec()),
        ),
        (
            "taken twice",
            b"report.txt".to_vec(),
            LABEL,
            vec![
                b"report (restored from daily-2026-11-20).txt".to_vec(),
                b"report (restored from daily-2026-11-20, 2).txt".to_vec(),
            ],
            Some(b"report (restored from daily-2026-11-20, 3).txt".to_vec()),
        ),
        (
            "dotfile",
            b".bashrc".to_vec(),
            LABEL,
            vec![],
            Some(b".bashrc (restored from daily-2026-11-20)".to_vec()),
        ),
        (
            "no extension",
            b"Makefile".to_vec(),
            LABEL,
            vec![],
            Some(b"Makefile (restored from daily-2026-11-20)".to_vec()),
        ),
        (
            "last dot wins",
            b"a.tar.gz".to_vec(),
            LABEL,
            vec![],
            Some(b"a.tar (restored from daily-2026-11-20).gz".to_vec()),
        ),
        (
            "trailing dot",
            b"odd.".to_vec(),
            LABEL,
            vec![],
            Some(b"odd. (restored from daily-2026-11-20)".to_vec()),
        ),
        (
            "extension with a space",
            b"notes.my draft".to_vec(),
            LABEL,
            vec![],
            Some(b"notes.my draft (restored from daily-2026-11-20)".to_vec()),
        ),
        (
            "ten-byte extension",
            b"x.abcdefghij".to_vec(),
            LABEL,
            vec![],
            Some(b"x (restored from daily-2026-11-20).abcdefghij".to_vec()),
        ),
        (
            "eleven-byte extension",
            b"x.abcdefghijk".to_vec(),
            LABEL,
            vec![],
            Some(b"x.abcdefghijk (restored from daily-2026-11-20)".to_vec()),
        ),
        (
            "not UTF-8",
            b"caf\xe9.txt".to_vec(),
            LABEL,
            vec![],
            Some(b"caf\xe9 (restored from daily-2026-11-20).txt".to_vec()),
        ),
        (
            "long ASCII name keeps its extension",
            [&b"a".repeat(251)[..], b".txt"].concat(),
            LABEL,
            vec![],
            Some([&b"a".repeat(218)[..], suffix.as_bytes(), b".txt"].concat()),
        ),
        (
            "long name, numbered",
            [&b"a".repeat(251)[..], b".txt"].concat(),
            LABEL,
            vec![[&b"a".repeat(218)[..], suffix.as_bytes(), b".txt"].concat()],
            Some(
                [
                    &b"a".repeat(215)[..],
                    b" (restored from daily-2026-11-20, 2).txt",
                ]
                .concat(),
            ),
        ),
        (
            "long UTF-8 name is cut at a character boundary",
            format!("x{}.txt", "é".repeat(124)).into_bytes(),
            LABEL,
            vec![],
            Some(format!("x{}{suffix}.txt", "é".repeat(108)).into_bytes()),
        ),
        (
            "long non-UTF-8 name is cut at a byte",
            [&b"\xff".repeat(251)[..], b".txt"].concat(),
            LABEL,
            vec![],
            Some([&b"\xff".repeat(218)[..], suffix.as_bytes(), b".txt"].concat()),
        ),
        (
            "a huge snapshot name is shortened last",
            b"report.txt".to_vec(),
            &long_label,
            vec![],
            Some(format!("r (restored from {}).txt", "s".repeat(233)).into_bytes()),
        ),
    ];
    for (name, original, label, taken, expected) in cases {
        let is_taken = |candidate: &[u8]| taken.iter().any(|taken| taken.as_slice() == candidate);
        let copy = copy_name(&original, label, &is_taken);
        assert_eq!(copy, expected, "{name}");
        assert!(copy.is_none_or(|copy| copy.len() <= 255), "{name}");
    }
}

#[test]
fn copy_name_gives_up_after_a_thousand() {
    let tried = std::cell::RefCell::new(Vec::new());
    let is_taken = |candidate: &[u8]| {
        tried.borrow_mut().push(candidate.to_vec());
        true
    };
    assert_eq!(copy_name(b"a.txt", "s", &is_taken), None);
    let tried = tried.into_inner();
    assert_eq!(tried.len(), 1000);
    assert_eq!(
        tried.last().map(Vec::as_slice),
        Some(&b"a (restored from s, 1000).txt"[..])
    );
}

#[test]
fn error_messages() {
    let cases = [
        (
            PlanError::NotInSnapshot {
                snapshot: SNAPSHOT.into(),
                path: "docs/gone.txt".into(),
            },
            "`docs/gone.txt` does not exist in snapshot tank/data@daily-2026-11-20",
        ),
        (
            PlanError::NotRestorable {
                path: "pipe".into(),
                kind: "fifo",
            },
            "`pipe` is a fifo: only files, directories and symlinks can be restored",
        ),
        (
            PlanError::InconsistentListing {
                path: "d/x".into(),
                problem: "the entry is listed twice",
            },
            "the listing given to the planner is inconsistent at `d/x`: the entry is listed twice",
        ),
        (
            PlanError::InvalidPath(PathError::TooLong {
                path: "a/b".into(),
                length: 4100,
            }),
            "cannot restore there: path `a/b` is 4100 bytes long; the limit is 4095",
        ),
        (
            PlanError::NoGuardSnapshotName {
                dataset: "tank/x".into(),
            },
            "no guard snapshot name fits after dataset `tank/x` (a snapshot name is at most 255 bytes)",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}
