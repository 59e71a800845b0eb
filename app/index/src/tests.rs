//! Tests of the index store: applying and forgetting snapshots, every kind of query on awkward
//! names (non-UTF-8, newlines, 255 bytes, 60 levels deep), liveness, paging, sorting, facets
//! and crash consistency.

use std::path::Path;

use tempfile::TempDir;
use wizfs_core::entries::{EntryKind, EntryMetadata, FileTime};
use wizfs_core::names::DatasetName;
use wizfs_core::paths::RelativePath;
use wizfs_core::versioning::{self, LIVE_TXG, Observed, VersionOp};

use crate::*;

const TANK: u64 = 1001;
const OTHER: u64 = 2002;

fn path(bytes: &[u8]) -> RelativePath {
    RelativePath::new(bytes).unwrap()
}

fn metadata(kind: EntryKind, size: u64, seconds: i64, inode: u64) -> EntryMetadata {
    let time = FileTime {
        seconds,
        nanoseconds: 0,
    };
    EntryMetadata {
        kind,
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

fn file(size: u64, seconds: i64, inode: u64) -> EntryMetadata {
    metadata(EntryKind::File, size, seconds, inode)
}

fn open(path_bytes: &[u8], metadata: EntryMetadata, birth: u64) -> VersionOp {
    VersionOp::Open {
        path: path(path_bytes),
        metadata,
        birth,
    }
}

fn indexed(txg: u64, name: &str) -> SnapshotChange {
    SnapshotChange::Indexed {
        guid: 9_000 + txg,
        createtxg: txg,
        name: name.to_owned(),
    }
}

fn new_store(directory: &Path) -> IndexStore {
    let store = IndexStore::open(directory).unwrap();
    store
        .register_dataset(TANK, &DatasetName::new("tank/data").unwrap())
        .unwrap();
    store
}

fn assert_consistent(store: &IndexStore) {
    let report = store.check_consistency().unwrap();
    assert!(report.is_consistent(), "{report:#?}");
    assert_eq!(report.index_generation, Some(report.catalogue_generation));
}

fn text(text: &str, name_match: NameMatch) -> SearchQuery {
    SearchQuery {
        text: Some(text.to_owned()),
        name_match,
        limit: 1000,
        ..SearchQuery::default()
    }
}

fn paths(results: &SearchResults) -> Vec<Vec<u8>> {
    let mut found: Vec<Vec<u8>> = results
        .hits
        .iter()
        .map(|hit| hit.path.as_bytes().to_vec())
        .collect();
    found.sort();
    found
}

fn names(store: &IndexStore, query: &SearchQuery) -> Vec<String> {
    let mut found: Vec<String> = store
        .search(query)
        .unwrap()
        .hits
        .into_iter()
        .map(|hit| hit.name)
        .collect();
    found.sort();
    found
}

#[test]
fn the_store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IndexStore>();
}

#[test]
fn applies_and_forgets_snapshots_with_the_versioning_planner() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    let entries = vec![
        (path(b"docs"), metadata(EntryKind::Directory, 3, 100, 2)),
        (path(b"docs/report.pdf"), file(1000, 100, 3)),
        (path(b"docs/notes.txt"), file(10, 100, 4)),
        (path(b"keep.txt"), file(5, 100, 5)),
    ];
    let report = store
        .apply(
            TANK,
            indexed(10, "daily-1"),
            &versioning::initial(&entries, 10),
        )
        .unwrap();
    assert_eq!(report.opened.len(), 4);
    assert_eq!(report.generation, 1);
    assert_consistent(&store);

    // Snapshot 20: the report changed, the notes are gone.
    let observations = vec![
        Observed::Present {
            path: path(b"docs/report.pdf"),
            metadata: file(2000, 200, 3),
        },
        Observed::Absent {
            path: path(b"docs/notes.txt"),
        },
    ];
    let ops = versioning::advance(
        &observations,
        20,
        &|path| store.open_version(TANK, path).unwrap(),
        &|directory| store.open_below(TANK, directory).unwrap(),
    );
    store.apply(TANK, indexed(20, "daily-2"), &ops).unwrap();
    assert_consistent(&store);

    let snapshots = store.indexed_snapshots(TANK).unwrap();
    assert_eq!(
        snapshots.iter().map(|s| s.createtxg).collect::<Vec<_>>(),
        [10, 20]
    );
    assert_eq!(snapshots[1].name, "daily-2");
    let versions = store.versions_of(TANK, &path(b"docs/report.pdf")).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].snapshots, ["daily-1"]);
    assert_eq!(versions[0].death, Some(20));
    assert_eq!(versions[1].snapshots, ["daily-2"]);
    assert!(versions[1].live && !versions[0].live);
    assert_eq!(versions[1].signature.size, 2000);
    assert_eq!(
        store.versions_of(TANK, &path(b"docs/notes.txt")).unwrap()[0].snapshots,
        ["daily-1"]
    );
    let below: Vec<_> = store
        .open_below(TANK, &path(b"docs"))
        .unwrap()
        .into_iter()
        .map(|version| version.path)
        .collect();
    assert_eq!(below, [path(b"docs/report.pdf")]);
    assert_eq!(
        store.open_below(TANK, &RelativePath::root()).unwrap().len(),
        3
    );
    assert!(store.open_below(TANK, &path(b"doc")).unwrap().is_empty());
    assert!(
        store
            .open_version(TANK, &path(b"docs/notes.txt"))
            .unwrap()
            .is_none()
    );
    assert_eq!(store.versions_touching(TANK, &[20]).unwrap().len(), 3);

    let hits = store.search(&text("report", NameMatch::Substring)).unwrap();
    assert_eq!(hits.total, 2);
    let old = hits.hits.iter().find(|hit| hit.size == 1000).unwrap();
    assert_eq!(old.first_snapshot.as_deref(), Some("daily-1"));
    assert_eq!(old.last_snapshot.as_deref(), Some("daily-1"));
    assert_eq!(old.dataset, "tank/data");
    let new = hits.hits.iter().find(|hit| hit.size == 2000).unwrap();
    assert_eq!(new.first_snapshot.as_deref(), Some("daily-2"));
    assert_eq!(new.last_snapshot.as_deref(), Some("daily-2"));

    // Destroy snapshot 10: the first report and the notes disappear everywhere.
    let touching = store.versions_touching(TANK, &[10, 20]).unwrap();
    let ops = versioning::forget(10, None, Some(20), &touching);
    store
        .apply(TANK, SnapshotChange::Forgotten { createtxg: 10 }, &ops)
        .unwrap();
    assert_consistent(&store);
    assert_eq!(store.indexed_snapshots(TANK).unwrap().len(), 1);
    assert_eq!(
        store
            .search(&text("report", NameMatch::Substring))
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store
            .search(&text("notes", NameMatch::Substring))
            .unwrap()
            .total,
        0
    );
    let keep = store.versions_of(TANK, &path(b"keep.txt")).unwrap();
    assert_eq!(
        (keep[0].birth, keep[0].snapshots.clone()),
        (20, vec!["daily-2".to_owned()])
    );

    // Everything survives a reopen.
    drop(store);
    let store = IndexStore::open(directory.path()).unwrap();
    assert_consistent(&store);
    assert_eq!(
        store
            .search(&text("keep", NameMatch::Substring))
            .unwrap()
            .total,
        1
    );
    assert_eq!(store.datasets().unwrap()[0].name, "tank/data");
}

#[test]
fn a_failing_operation_applies_nothing() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    store
        .apply(TANK, indexed(10, "s1"), &[open(b"a", file(1, 1, 1), 10)])
        .unwrap();
    let id = store.open_version(TANK, &path(b"a")).unwrap().unwrap().id;
    for bad in [
        VersionOp::SetDeath {
            id: 999,
            death: Some(20),
        },
        VersionOp::SetDeath {
            id,
            death: Some(10),
        },
        VersionOp::SetBirth { id: 999, birth: 5 },
        VersionOp::Delete { id: 999 },
    ] {
        let result = store.apply(
            TANK,
            indexed(20, "s2"),
            &[open(b"b", file(1, 1, 2), 20), bad],
        );
        assert!(result.is_err());
    }
    assert!(matches!(
        store.apply(OTHER, SnapshotChange::None, &[]),
        Err(IndexError::UnknownDataset { guid: OTHER })
    ));
    store
        .register_dataset(OTHER, &DatasetName::new("tank/other").unwrap())
        .unwrap();
    assert!(matches!(
        store.apply(OTHER, SnapshotChange::None, &[VersionOp::Delete { id }]),
        Err(IndexError::WrongDataset { .. })
    ));
    assert_eq!(store.indexed_snapshots(TANK).unwrap().len(), 1);
    assert!(store.open_version(TANK, &path(b"b")).unwrap().is_none());
    let report = store.check_consistency().unwrap();
    assert!(report.is_consistent(), "{report:#?}");
    assert_eq!(
        (report.catalogue_versions, report.catalogue_generation),
        (1, 1)
    );
}

fn store_with_names(directory: &Path, names: &[&[u8]]) -> IndexStore {
    let store = new_store(directory);
    let ops: Vec<VersionOp> = names
        .iter()
        .enumerate()
        .map(|(index, name)| open(name, file(index as u64, 0, index as u64), 10))
        .collect();
    store.apply(TANK, indexed(10, "s1"), &ops).unwrap();
    store
}

#[test]
fn substring_search_checks_the_whole_text() {
    let directory = TempDir::new().unwrap();
    let store = store_with_names(
        directory.path(),
        &[
            b"Annual Report.PDF",
            b"report-2024.txt",
            b"xabcyybcbzzcbcq",
            b"abcbc.bin",
            b"ab",
            b"b",
            b"zz",
        ],
    );
    let substring = |query: &str| names(&store, &text(query, NameMatch::Substring));
    assert_eq!(
        substring("REPORT"),
        ["Annual Report.PDF", "report-2024.txt"]
    );
    assert_eq!(substring("port.p"), ["Annual Report.PDF"]);
    // All three trigrams of `abcbc` are in `xabcyybcbzzcbcq`, but not the text itself.
    assert_eq!(substring("abcbc"), ["abcbc.bin"]);
    // One and two characters.
    assert_eq!(substring("ab"), ["ab", "abcbc.bin", "xabcyybcbzzcbcq"]);
    assert_eq!(substring("z").len(), 2);
    assert_eq!(substring("b").len(), 4);
    assert!(substring("nothing").is_empty());
    // The exact name ranks first.
    let hits = store.search(&text("ab", NameMatch::Substring)).unwrap();
    assert_eq!(hits.hits[0].name, "ab");
    // Blank text matches everything.
    assert_eq!(
        store
            .search(&text("  ", NameMatch::Substring))
            .unwrap()
            .total,
        7
    );
}

#[test]
fn prefix_glob_and_fuzzy_search() {
    let directory = TempDir::new().unwrap();
    let store = store_with_names(
        directory.path(),
        &[
            b"report.pdf",
            b"report.txt",
            b"reprot.pdf",
            b"photo-001.jpg",
            b"photo-002.JPG",
            b"a.txt",
            b"notes.txt.bak",
            b"vacation-photos.zip",
        ],
    );
    let search = |query: &str, name_match| names(&store, &text(query, name_match));
    assert_eq!(
        search("rep", NameMatch::Prefix),
        ["report.pdf", "report.txt", "reprot.pdf"]
    );
    assert_eq!(
        search("REPO", NameMatch::Prefix),
        ["report.pdf", "report.txt"]
    );
    assert_eq!(search("a", NameMatch::Prefix), ["a.txt"]);
    assert_eq!(search("v", NameMatch::Prefix), ["vacation-photos.zip"]);
    assert_eq!(search("*p", NameMatch::Glob), ["vacation-photos.zip"]);
    assert_eq!(
        search("*g", NameMatch::Glob),
        ["photo-001.jpg", "photo-002.JPG"]
    );
    assert_eq!(
        search("*.jpg", NameMatch::Glob),
        ["photo-001.jpg", "photo-002.JPG"]
    );
    assert_eq!(search("*otes*", NameMatch::Glob), ["notes.txt.bak"]);
    assert_eq!(
        search("r*t*f", NameMatch::Glob),
        ["report.pdf", "reprot.pdf"]
    );
    assert_eq!(search("*o*o*", NameMatch::Glob).len(), 3);
    assert_eq!(search("*.txt", NameMatch::Glob), ["a.txt", "report.txt"]);
    assert_eq!(
        search("photo-00?.jpg", NameMatch::Glob),
        ["photo-001.jpg", "photo-002.JPG"]
    );
    assert_eq!(search("*photo*", NameMatch::Glob).len(), 3);
    assert_eq!(search("?.*", NameMatch::Glob), ["a.txt"]);
    assert_eq!(search("report.pdf", NameMatch::Glob), ["report.pdf"]);
    assert_eq!(search("*", NameMatch::Glob).len(), 8);
    assert_eq!(
        search("r*t.*", NameMatch::Glob),
        ["report.pdf", "report.txt", "reprot.pdf"]
    );
    let too_long = "*".repeat(300);
    assert!(matches!(
        store.search(&text(&too_long, NameMatch::Glob)),
        Err(IndexError::InvalidQuery(_))
    ));
    // Distance 2 for texts of 8 characters or more (a transposition is one edit).
    assert_eq!(
        search("report.pdf", NameMatch::Fuzzy),
        ["report.pdf", "reprot.pdf"]
    );
    assert_eq!(
        search("reportpdf", NameMatch::Fuzzy),
        ["report.pdf", "reprot.pdf"]
    );
    assert_eq!(search("rport.pd", NameMatch::Fuzzy), ["report.pdf"]);
    assert_eq!(search("a.tx", NameMatch::Fuzzy), ["a.txt"]);
    assert_eq!(search("a.tx", NameMatch::Fuzzy), ["a.txt"]);
    assert!(search("b.tx", NameMatch::Fuzzy).is_empty());
    let hits = store.search(&text("report.pdf", NameMatch::Fuzzy)).unwrap();
    assert_eq!(hits.hits[0].name, "report.pdf");
}

#[test]
fn awkward_names_round_trip_losslessly() {
    let directory = TempDir::new().unwrap();
    let long_name: Vec<u8> = [vec![b'x'; 251], b".txt".to_vec()].concat();
    assert_eq!(long_name.len(), 255);
    let long_path = [b"long/".as_slice(), &long_name].concat();
    let store = store_with_names(
        directory.path(),
        &[
            b"bin\xff\xfe/caf\xe9-menu.txt",
            b"bin\xff\xfe/100% done.txt",
            b"two\nlines.txt",
            &long_path,
        ],
    );
    assert_consistent(&store);
    let results = store.search(&text("menu", NameMatch::Substring)).unwrap();
    assert_eq!(paths(&results), [b"bin\xff\xfe/caf\xe9-menu.txt".to_vec()]);
    assert_eq!(results.hits[0].name, "caf\u{fffd}-menu.txt");
    let under = SearchQuery {
        under: Some(("tank/data".into(), path(b"bin\xff\xfe"))),
        limit: 10,
        ..SearchQuery::default()
    };
    assert_eq!(store.search(&under).unwrap().total, 2);
    let under_other = SearchQuery {
        under: Some(("tank/data".into(), path(b"bin\xff"))),
        ..under.clone()
    };
    assert_eq!(store.search(&under_other).unwrap().total, 0);
    assert_eq!(
        names(&store, &text("100%", NameMatch::Prefix)),
        ["100% done.txt"]
    );

    assert_eq!(
        names(&store, &text("o\nl", NameMatch::Substring)),
        ["two\nlines.txt"]
    );
    assert_eq!(
        names(&store, &text("two*lines.txt", NameMatch::Glob)),
        ["two\nlines.txt"]
    );
    assert_eq!(
        names(&store, &text("t?o*", NameMatch::Glob)),
        ["two\nlines.txt"]
    );
    assert_eq!(
        names(&store, &text("*\n*", NameMatch::Glob)),
        ["two\nlines.txt"]
    );

    let long = String::from_utf8(long_name.clone()).unwrap();
    let found = store.search(&text(&long, NameMatch::Substring)).unwrap();
    assert_eq!(paths(&found), std::slice::from_ref(&long_path));
    let typo = format!("{}y.txt", "x".repeat(250));
    assert_eq!(
        store.search(&text(&typo, NameMatch::Fuzzy)).unwrap().total,
        1
    );
    assert_eq!(
        store
            .search(&text(&long[..200], NameMatch::Prefix))
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store
            .search(&text("xxxx*.txt", NameMatch::Glob))
            .unwrap()
            .total,
        1
    );
    let versions = store.versions_of(TANK, &path(&long_path)).unwrap();
    assert_eq!(versions.len(), 1);
}

#[test]
fn under_a_directory_of_a_sixty_level_tree() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    let levels: Vec<String> = (0..60).map(|level| format!("d{level}")).collect();
    let mut ops = Vec::new();
    let mut current = String::new();
    for (depth, level) in levels.iter().enumerate() {
        if !current.is_empty() {
            current.push('/');
        }
        current.push_str(level);
        ops.push(open(
            current.as_bytes(),
            metadata(EntryKind::Directory, 0, 0, depth as u64 + 10),
            10,
        ));
        ops.push(open(
            format!("{current}/file{depth}.dat").as_bytes(),
            file(1, 0, depth as u64 + 100),
            10,
        ));
    }
    store.apply(TANK, indexed(10, "s1"), &ops).unwrap();
    assert_consistent(&store);
    let deepest = path(current.as_bytes());
    assert_eq!(deepest.components().count(), 60);
    let under = |directory: &str| SearchQuery {
        under: Some(("tank/data".into(), path(directory.as_bytes()))),
        limit: 0,
        ..SearchQuery::default()
    };
    // Strictly below `d0`: 59 directories and 60 files.
    assert_eq!(store.search(&under("d0")).unwrap().total, 119);
    assert_eq!(store.search(&under("")).unwrap().total, 120);
    assert_eq!(store.search(&under(&current)).unwrap().total, 1);
    let middle: String = levels[..30].join("/");
    // Below `d0/…/d29`: `d30` to `d59`, and the files of `d29` to `d59`.
    assert_eq!(store.search(&under(&middle)).unwrap().total, 30 + 31);
    let files = SearchQuery {
        kinds: vec![EntryKind::File],
        ..under(&middle)
    };
    let results = store.search(&files).unwrap();
    assert_eq!(results.total, 31);
    assert_eq!(results.facets.extensions, [("dat".to_owned(), 31)]);
    assert_eq!(results.facets.datasets, [("tank/data".to_owned(), 31)]);
    assert_eq!(
        store
            .open_below(TANK, &path(middle.as_bytes()))
            .unwrap()
            .len(),
        61
    );
    assert!(
        store
            .search(&SearchQuery {
                under: Some(("nope".into(), RelativePath::root())),
                ..SearchQuery::default()
            })
            .unwrap()
            .hits
            .is_empty()
    );
}

#[test]
fn liveness_deleted_only_and_as_of() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    store
        .apply(
            TANK,
            indexed(10, "s10"),
            &[
                open(b"kept.txt", file(1, 0, 1), 10),
                open(b"changed.txt", file(1, 0, 2), 10),
                open(b"deleted.txt", file(1, 0, 3), 10),
            ],
        )
        .unwrap();
    let id = |name: &[u8]| store.open_version(TANK, &path(name)).unwrap().unwrap().id;
    let (changed, deleted) = (id(b"changed.txt"), id(b"deleted.txt"));
    store
        .apply(
            TANK,
            indexed(20, "s20"),
            &[
                VersionOp::SetDeath {
                    id: changed,
                    death: Some(20),
                },
                open(b"changed.txt", file(2, 0, 2), 20),
            ],
        )
        .unwrap();
    // Live refresh: `deleted.txt` is gone from the live file system, a new file appeared.
    store
        .apply(
            TANK,
            SnapshotChange::None,
            &[
                VersionOp::SetDeath {
                    id: deleted,
                    death: Some(LIVE_TXG),
                },
                open(b"fresh.txt", file(3, 0, 4), LIVE_TXG),
            ],
        )
        .unwrap();
    assert_consistent(&store);
    let deleted_only = SearchQuery {
        deleted_only: true,
        limit: 100,
        ..SearchQuery::default()
    };
    assert_eq!(names(&store, &deleted_only), ["deleted.txt"]);
    let all = store
        .search(&SearchQuery {
            limit: 100,
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(all.total, 5);
    let fresh = all.hits.iter().find(|hit| hit.name == "fresh.txt").unwrap();
    assert_eq!(
        (fresh.first_snapshot.as_ref(), fresh.last_snapshot.as_ref()),
        (None, None)
    );
    let gone = all
        .hits
        .iter()
        .find(|hit| hit.name == "deleted.txt")
        .unwrap();
    assert_eq!(gone.last_snapshot.as_deref(), Some("s20"));
    assert!(!gone.path_live);
    // The old version of a live path is not "deleted".
    let old = all
        .hits
        .iter()
        .find(|hit| hit.version_id == changed)
        .unwrap();
    assert!(old.path_live);

    let as_of = |txg| SearchQuery {
        as_of: Some((TANK, txg)),
        limit: 100,
        ..SearchQuery::default()
    };
    assert_eq!(store.search(&as_of(10)).unwrap().total, 3);
    assert_eq!(store.search(&as_of(15)).unwrap().total, 3);
    let at_20 = store.search(&as_of(20)).unwrap();
    assert_eq!(at_20.total, 3);
    assert!(at_20.hits.iter().all(|hit| hit.version_id != changed));
    assert_eq!(
        names(&store, &as_of(LIVE_TXG)),
        ["changed.txt", "fresh.txt", "kept.txt"]
    );
    assert_eq!(store.search(&as_of(5)).unwrap().total, 0);

    // The path comes back live: every version of it is live again.
    store
        .apply(
            TANK,
            SnapshotChange::None,
            &[open(b"deleted.txt", file(9, 9, 9), LIVE_TXG)],
        )
        .unwrap();
    assert_consistent(&store);
    assert!(names(&store, &deleted_only).is_empty());
    let versions = store.versions_of(TANK, &path(b"deleted.txt")).unwrap();
    assert_eq!(versions.len(), 2);
    assert!(!versions[0].live && versions[1].live);
    assert_eq!(versions[0].snapshots, ["s10", "s20"]);
}

#[test]
fn paging_sorting_and_facets() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    store
        .register_dataset(OTHER, &DatasetName::new("tank/other").unwrap())
        .unwrap();
    let year_2020 = 1_590_000_000;
    let year_2024 = 1_710_000_000;
    let mut ops = Vec::new();
    for index in 0..25u64 {
        let extension = if index % 5 == 0 { "PDF" } else { "txt" };
        let modified = if index < 10 { year_2020 } else { year_2024 } + index as i64;
        ops.push(open(
            format!("dir{}/file-{:02}.{extension}", index % 3, (index * 7) % 25).as_bytes(),
            file(1000 - index * 10, modified, index),
            10,
        ));
    }
    store.apply(TANK, indexed(10, "s1"), &ops).unwrap();
    store
        .apply(
            OTHER,
            indexed(11, "o1"),
            &[open(b"file-99.txt", file(5, year_2024, 1), 11)],
        )
        .unwrap();
    assert_consistent(&store);

    let query = SearchQuery {
        text: Some("file".into()),
        limit: 7,
        ..SearchQuery::default()
    };
    let first = store.search(&query).unwrap();
    assert_eq!(first.total, 26);
    assert_eq!(first.hits.len(), 7);
    assert_eq!(
        first.facets.datasets,
        [("tank/data".to_owned(), 25), ("tank/other".to_owned(), 1)]
    );
    assert_eq!(
        first.facets.extensions,
        [("txt".to_owned(), 21), ("pdf".to_owned(), 5)]
    );
    assert_eq!(
        first.facets.years,
        [("2024".to_owned(), 16), ("2020".to_owned(), 10)]
    );

    for sort in [
        Sort::Relevance,
        Sort::Name,
        Sort::Size,
        Sort::Modified,
        Sort::Path,
    ] {
        for descending in [false, true] {
            let sorted = SearchQuery {
                sort,
                descending,
                limit: 100,
                ..query.clone()
            };
            let all: Vec<u64> = store
                .search(&sorted)
                .unwrap()
                .hits
                .iter()
                .map(|hit| hit.version_id)
                .collect();
            assert_eq!(all.len(), 26);
            let mut paged = Vec::new();
            for offset in (0..26).step_by(7) {
                let page = SearchQuery {
                    offset,
                    limit: 7,
                    ..sorted.clone()
                };
                let results = store.search(&page).unwrap();
                assert_eq!(results.total, 26);
                paged.extend(results.hits.iter().map(|hit| hit.version_id));
            }
            assert_eq!(paged, all, "{sort:?} descending={descending}");
            let hits = store.search(&sorted).unwrap().hits;
            let ordered = |key: &dyn Fn(&SearchHit) -> String| {
                let keys: Vec<String> = hits.iter().map(key).collect();
                let mut expected = keys.clone();
                expected.sort();
                if descending {
                    expected.reverse();
                }
                assert_eq!(keys, expected, "{sort:?} descending={descending}");
            };
            match sort {
                Sort::Relevance => {}
                Sort::Name => ordered(&|hit| hit.name.to_lowercase()),
                Sort::Size => ordered(&|hit| format!("{:010}", hit.size)),
                Sort::Modified => ordered(&|hit| format!("{:012}", hit.modified.seconds)),
                Sort::Path => ordered(&|hit| hit.path.display()),
            }
        }
    }

    let filtered = SearchQuery {
        datasets: vec!["tank/data".into()],
        extensions: vec![".pdf".into()],
        size: (Some(800), Some(1000)),
        limit: 100,
        ..SearchQuery::default()
    };
    let results = store.search(&filtered).unwrap();
    assert_eq!(results.total, 5, "{:?}", results.hits);
    let narrower = SearchQuery {
        size: (Some(801), None),
        modified: (Some(year_2020), Some(year_2020 + 9)),
        ..filtered.clone()
    };
    assert_eq!(store.search(&narrower).unwrap().total, 2);
    let none = SearchQuery {
        datasets: vec!["no/such".into()],
        ..SearchQuery::default()
    };
    assert_eq!(store.search(&none).unwrap().total, 0);
    let kinds = SearchQuery {
        kinds: vec![EntryKind::Directory],
        ..SearchQuery::default()
    };
    assert_eq!(store.search(&kinds).unwrap().total, 0);

    // Hidden datasets drop out of searches; a rename shows at once.
    store.set_included(OTHER, false).unwrap();
    assert_eq!(store.search(&query).unwrap().total, 25);
    store.set_included(OTHER, true).unwrap();
    store
        .rename_dataset(OTHER, &DatasetName::new("tank/renamed").unwrap())
        .unwrap();
    let renamed = SearchQuery {
        datasets: vec!["tank/renamed".into()],
        ..query.clone()
    };
    let results = store.search(&renamed).unwrap();
    assert_eq!(results.total, 1);
    assert_eq!(results.hits[0].dataset, "tank/renamed");
    let zero = SearchQuery { limit: 0, ..query };
    let results = store.search(&zero).unwrap();
    assert_eq!((results.total, results.hits.len()), (26, 0));
}

#[test]
fn a_crash_between_catalogue_and_search_index_is_repaired_on_open() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    store
        .apply(
            TANK,
            indexed(10, "s1"),
            &[open(b"a.txt", file(1, 0, 1), 10)],
        )
        .unwrap();
    let a = store
        .open_version(TANK, &path(b"a.txt"))
        .unwrap()
        .unwrap()
        .id;
    // The catalogue commits snapshot 20; the process dies before tantivy hears of it.
    store
        .apply_catalogue_only(
            TANK,
            indexed(20, "s2"),
            &[
                VersionOp::SetDeath {
                    id: a,
                    death: Some(20),
                },
                open(b"a.txt", file(2, 0, 1), 20),
                open(b"b.txt", file(3, 0, 2), 20),
            ],
        )
        .unwrap();
    let report = store.check_consistency().unwrap();
    assert!(!report.is_consistent());
    assert_eq!(
        (report.missing.len(), report.stale, report.dirty),
        (2, vec![a], 3)
    );
    drop(store);

    let store = IndexStore::open(directory.path()).unwrap();
    assert_consistent(&store);
    assert_eq!(
        names(&store, &text(".txt", NameMatch::Substring)),
        ["a.txt", "a.txt", "b.txt"]
    );

    // Dies right after the tantivy commit, before the dirty set is cleared: re-syncing must
    // not duplicate anything.
    store
        .apply_catalogue_only(
            TANK,
            SnapshotChange::None,
            &[open(b"c.txt", file(4, 0, 3), LIVE_TXG)],
        )
        .unwrap();
    store.sync_without_clearing().unwrap();
    assert_eq!(store.check_consistency().unwrap().dirty, 1);
    drop(store);
    // A writer lock file left behind by the dead process.
    std::fs::write(directory.path().join("tantivy/.tantivy-writer.lock"), b"").unwrap();
    std::fs::write(directory.path().join("tantivy/.tantivy-meta.lock"), b"").unwrap();
    let store = IndexStore::open(directory.path()).unwrap();
    assert_consistent(&store);
    assert_eq!(
        store
            .search(&text("c.txt", NameMatch::Substring))
            .unwrap()
            .total,
        1
    );

    // A second store on the same directory is refused while the first is open.
    assert!(matches!(
        IndexStore::open(directory.path()),
        Err(IndexError::Locked { .. })
    ));
}

#[test]
fn a_lost_search_index_is_rebuilt_from_the_catalogue() {
    let directory = TempDir::new().unwrap();
    let store = store_with_names(directory.path(), &[b"one.txt", b"two.txt"]);
    drop(store);
    std::fs::remove_dir_all(directory.path().join("tantivy")).unwrap();
    let store = IndexStore::open(directory.path()).unwrap();
    assert_consistent(&store);
    assert_eq!(
        store
            .search(&text("txt", NameMatch::Substring))
            .unwrap()
            .total,
        2
    );
    drop(store);
    // An index written with another schema (here: garbage metadata) is rebuilt too.
    std::fs::write(directory.path().join("tantivy/meta.json"), b"{not json").unwrap();
    let store = IndexStore::open(directory.path()).unwrap();
    assert_consistent(&store);
    assert_eq!(
        store
            .search(&text("two", NameMatch::Substring))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn complex_globs_check_every_candidate() {
    let directory = TempDir::new().unwrap();
    let store = store_with_names(directory.path(), &[b"aba", b"abba", b"xaby.ba", b"ba"]);
    let glob = |pattern: &str| names(&store, &text(pattern, NameMatch::Glob));
    // All four end with `ba` and three contain `ab`, but `ab` must come before the `ba`.
    assert_eq!(glob("*ab*ba"), ["abba", "xaby.ba"]);
    assert_eq!(glob("?ba"), ["aba"]);
    assert_eq!(glob("a*a"), ["aba", "abba"]);
    assert_eq!(glob("*b?.ba"), ["xaby.ba"]);
}

/// Moves a dataset's fingerprints the way an indexed snapshot does, without the snapshot.
fn move_fingerprints(
    store: &IndexStore,
    dataset: u64,
    base: u64,
    as_of: u64,
    set: &[(u64, u64)],
    freed: &[(u64, u64)],
) {
    let update = FingerprintUpdate {
        base,
        as_of,
        set: set.to_vec(),
        freed: freed.to_vec(),
    };
    store
        .apply_deferred_with_fingerprints(dataset, SnapshotChange::None, &[], &update)
        .unwrap();
}

#[test]
fn object_fingerprints_hold_for_the_snapshot_they_describe_only() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    store
        .register_dataset(OTHER, &DatasetName::new("tank/other").unwrap())
        .unwrap();
    let objects = [34, 128, 129, 4000];
    // Nothing stored yet.
    assert_eq!(
        store.object_fingerprints(TANK, 10, &objects).unwrap(),
        [None; 4]
    );
    move_fingerprints(&store, TANK, 0, 10, &[(34, 1), (128, 2), (129, 3)], &[]);
    move_fingerprints(&store, OTHER, 0, 10, &[(34, 99)], &[]);
    assert_eq!(
        store.object_fingerprints(TANK, 10, &objects).unwrap(),
        [Some(1), Some(2), Some(3), None]
    );
    // Stored for snapshot 10, so they say nothing about 20.
    assert_eq!(
        store.object_fingerprints(TANK, 20, &objects).unwrap(),
        [None; 4]
    );
    // From 10 to 20: 128 changed, 129 freed with its neighbours, 4000 created.
    move_fingerprints(&store, TANK, 10, 20, &[(128, 5), (4000, 6)], &[(129, 31)]);
    assert_eq!(
        store.object_fingerprints(TANK, 20, &objects).unwrap(),
        [Some(1), Some(5), None, Some(6)]
    );
    // An update from a base they do not describe (a snapshot indexed another way came in
    // between) starts over: 34 and 4000 are gone.
    move_fingerprints(&store, TANK, 25, 30, &[(128, 7)], &[]);
    assert_eq!(
        store.object_fingerprints(TANK, 30, &objects).unwrap(),
        [None, Some(7), None, None]
    );
    // Freeing to the end of the object space, and other datasets untouched throughout.
    move_fingerprints(&store, TANK, 30, 40, &[], &[(100, u64::MAX)]);
    assert_eq!(
        store.object_fingerprints(TANK, 40, &objects).unwrap(),
        [None; 4]
    );
    assert_eq!(
        store.object_fingerprints(OTHER, 10, &[34]).unwrap(),
        [Some(99)]
    );

    // With a snapshot's versions, in the same transaction: both or neither.
    let update = FingerprintUpdate {
        base: 40,
        as_of: 50,
        set: vec![(34, 11)],
        freed: Vec::new(),
    };
    let indexed = |guid| SnapshotChange::Indexed {
        guid,
        createtxg: 50,
        name: "s50".into(),
    };
    let unknown_dataset = 424_242;
    assert!(
        store
            .apply_deferred_with_fingerprints(unknown_dataset, indexed(1), &[], &update)
            .is_err()
    );
    assert_eq!(
        store.object_fingerprints(TANK, 50, &objects).unwrap(),
        [None; 4],
        "a failed apply stores no fingerprints"
    );
    store
        .apply_deferred_with_fingerprints(TANK, indexed(2), &[], &update)
        .unwrap();
    assert_eq!(
        store.object_fingerprints(TANK, 50, &objects).unwrap(),
        [Some(11), None, None, None]
    );
    assert_eq!(
        store
            .indexed_snapshots(TANK)
            .unwrap()
            .iter()
            .map(|snapshot| snapshot.createtxg)
            .collect::<Vec<_>>(),
        [50]
    );
}

/// Identities recorded for the snapshots ZFS listed (by guid) are kept in the catalogue; a
/// reader of the catalogue alone answers with the versions of a path when the snapshots it
/// is shown are exactly the indexed ones (names and objset ids), and only then.
#[test]
fn a_catalogue_reader_answers_only_for_exactly_the_indexed_snapshots() {
    let directory = TempDir::new().unwrap();
    let store = new_store(directory.path());
    let first = store
        .apply(
            TANK,
            indexed(10, "s10"),
            &[open(b"a.txt", file(1, 100, 7), 10)],
        )
        .unwrap()
        .opened[0];
    store
        .apply(
            TANK,
            indexed(20, "s20"),
            &[
                VersionOp::SetDeath {
                    id: first,
                    death: Some(20),
                },
                open(b"a.txt", file(2, 200, 7), 20),
            ],
        )
        .unwrap();
    let identity = |objsetid| SnapshotIdentity {
        objsetid,
        creation: 1_700_000_000 + i64::try_from(objsetid).unwrap(),
    };
    // Snapshot guids are 9000 + txg (`indexed`); 424242 is no indexed snapshot's.
    let recorded = store
        .record_snapshot_identities(
            TANK,
            &[
                (9_010, identity(310)),
                (9_020, identity(320)),
                (424_242, identity(1)),
            ],
        )
        .unwrap();
    assert_eq!(recorded, 2);
    assert_eq!(
        store
            .record_snapshot_identities(TANK, &[(9_010, identity(310))])
            .unwrap(),
        0,
        "unchanged identities are not written again"
    );
    assert_eq!(
        store.indexed_snapshots(TANK).unwrap()[1].identity,
        Some(identity(320))
    );
    drop(store);

    let reader = CatalogueReader::open(directory.path()).unwrap();
    let seen = |entries: &[(&str, u64)]| -> Vec<(String, u64)> {
        entries
            .iter()
            .map(|(name, objsetid)| ((*name).to_owned(), *objsetid))
            .collect()
    };
    let current = reader
        .current_versions(
            "tank/data",
            &seen(&[("s20", 320), ("s10", 310)]),
            &path(b"a.txt"),
        )
        .unwrap()
        .expect("current");
    assert_eq!(current.dataset_guid, TANK);
    assert_eq!(
        current
            .snapshots
            .iter()
            .map(|snapshot| snapshot.name.as_str())
            .collect::<Vec<_>>(),
        ["s10", "s20"]
    );
    let held: Vec<&[String]> = current
        .versions
        .iter()
        .map(|version| version.snapshots.as_slice())
        .collect();
    assert_eq!(held, [&["s10".to_owned()][..], &["s20".to_owned()][..]]);
    for not_current in [
        seen(&[("s10", 310), ("s20", 321)]),
        seen(&[("s10", 310)]),
        seen(&[("s10", 310), ("s20", 320), ("s30", 330)]),
    ] {
        assert_eq!(
            reader
                .current_versions("tank/data", &not_current, &path(b"a.txt"))
                .unwrap(),
            None,
            "{not_current:?}"
        );
    }
    assert_eq!(
        reader
            .current_versions(
                "tank/other",
                &seen(&[("s10", 310), ("s20", 320)]),
                &path(b"a.txt")
            )
            .unwrap(),
        None
    );
}

#[test]
fn a_catalogue_reader_needs_an_index() {
    let directory = TempDir::new().unwrap();
    assert!(matches!(
        CatalogueReader::open(directory.path()),
        Err(IndexError::Missing { .. })
    ));
    assert!(
        !directory.path().join("catalogue").exists(),
        "opening for reading creates nothing"
    );
}
