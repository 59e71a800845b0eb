//! Parser tests: hand-written edge cases here, and every file captured from real OpenZFS
//! under `tests/fixtures/openzfs-*/` (made by `tests/vm/run --capture-fixtures`, which runs
//! `tests/vm/capture-fixtures.sh` in the VM; the layout it builds is what is asserted below).

use super::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

#[test]
fn unescape_decodes_octal_escapes_losslessly() {
    let cases: &[(&str, &[u8])] = &[
        ("/a/plain", b"/a/plain"),
        ("/a/with\\0040space", b"/a/with space"),
        ("/a/new\\0012line", b"/a/new\nline"),
        ("/a/back\\0134slash", b"/a/back\\slash"),
        ("/a/\\0377\\0376", b"/a/\xff\xfe"),
        ("/a/\\0303\\0244", "/a/ä".as_bytes()),
        ("/tank/data/", b"/tank/data"),
        ("/", b"/"),
    ];
    for (escaped, expected) in cases {
        let path = unescape_diff_path(escaped).unwrap();
        assert_eq!(path.as_os_str().as_bytes(), *expected, "{escaped}");
    }
    for bad in ["/a/\\", "/a/\\012", "/a/\\0x12", "\\9999"] {
        assert!(unescape_diff_path(bad).is_err(), "{bad}");
    }
}

#[test]
fn diff_lines() {
    let output = "1700000000.5\tM\t/\t/tank/a\n\
                  1700000001.000000002\tR\tF\t/tank/a/old\t/tank/a/new\\0040name\n\
                  1700000002.0\t-\t@\t/tank/a/link\n";
    let entries = diff(output).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].kind, FileKind::Directory);
    assert_eq!(entries[0].changed_at_nanoseconds, 5);
    assert_eq!(
        entries[1].change,
        DiffChange::Renamed {
            to: PathBuf::from("/tank/a/new name")
        }
    );
    assert_eq!(entries[1].changed_at_nanoseconds, 2);
    assert_eq!(
        entries[2],
        DiffEntry {
            changed_at_seconds: 1_700_000_002,
            changed_at_nanoseconds: 0,
            change: DiffChange::Removed,
            kind: FileKind::Symlink,
            path: PathBuf::from("/tank/a/link"),
        }
    );
}

#[test]
fn diff_reads_link_count_changes_as_modifications() {
    // As OpenZFS 2.3.2 printed it in the VM after `ln original.txt second-name.txt`.
    let output = "1795740783.788000000\tM\tF\t/wzt/methods-261-1/linked/original.txt\t(+1)\n\
                  1795740784.0\tM\tF\t/tank/b\t(-2)\n";
    let entries = diff(output).unwrap();
    assert_eq!(entries[0].change, DiffChange::Modified);
    assert_eq!(
        entries[0].path,
        PathBuf::from("/wzt/methods-261-1/linked/original.txt")
    );
    assert_eq!(entries[1].change, DiffChange::Modified);
    for bad in [
        "1.0\tM\tF\t/a\t(+)",
        "1.0\tM\tF\t/a\t+1",
        "1.0\tM\tF\t/a\t/b",
    ] {
        assert!(diff(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn diff_rejects_malformed_lines() {
    for bad in [
        "x\t+\tF\t/a",
        "1.0\t?\tF\t/a",
        "1.0\t+\tF\t/a\t/b",
        "1.0\tR\tF\t/a",
        "1.0\t+\tQ\t/a",
        "1.0\t+\tF",
    ] {
        assert!(diff(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn pool_lines() {
    let output =
        "tank\t123\t1000\t400\t600\t12\t40\tONLINE\toff\nbad\t9\t1\t0\t1\t-\t0\tDEGRADED\ton\n";
    let parsed = pools(output).unwrap();
    assert_eq!(parsed[0].fragmentation_percent, Some(12));
    assert_eq!(parsed[0].capacity_percent, 40);
    assert_eq!(parsed[1].fragmentation_percent, None);
    assert_eq!(parsed[1].health, PoolHealth::Degraded);
    assert!(parsed[1].readonly);
    assert!(pools("tank\t1\t2").is_err());
    assert!(pools("tank\tx\t1000\t400\t600\t12\t40\tONLINE\toff").is_err());
}

#[test]
fn a_pool_in_transition_is_left_out_of_the_listing() {
    // What OpenZFS 2.1 printed in CI while another test created a pool from a file.
    let output = "tank\t123\t1000\t400\t600\t12\t40\tONLINE\toff\n-\t-\t-\t-\t-\t-\t-\t-\t-\n";
    let parsed = pools(output).unwrap();
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].name.as_str(), "tank");
    // A pool named `-` with real numbers is still an error, not silently dropped.
    assert!(pools("-\t1\t1000\t400\t600\t12\t40\tONLINE\toff").is_err());
}

#[test]
fn dataset_lines_with_volume_and_legacy_mountpoint() {
    let output = "tank\t1\tfilesystem\t10\t20\t30\t/tank\tyes\t1\t1700000000\n\
                  tank/vol\t2\tvolume\t10\t20\t30\t-\t-\t5\t1700000001\n\
                  tank/leg\t3\tfilesystem\t10\t20\t30\tlegacy\tno\t6\t1700000002\n";
    let parsed = datasets(output).unwrap();
    assert_eq!(parsed[0].mountpoint.as_deref(), Some(Path::new("/tank")));
    assert!(parsed[0].mounted);
    assert_eq!(parsed[1].kind, DatasetKind::Volume);
    assert_eq!(parsed[1].mountpoint, None);
    assert_eq!(parsed[2].mountpoint, None);
    assert!(
        datasets("tank/a@b\t1\tfilesystem\t10\t20\t30\t/x\tyes\t1\t1").is_err(),
        "a snapshot name is not a dataset"
    );
}

#[test]
fn property_values_may_contain_tabs() {
    let parsed =
        properties("tank\twizfs:note\ta\tb\tlocal\ntank\tused\t100\t-\ntank\torigin\t-\t-\n")
            .unwrap();
    assert_eq!(parsed[0].1.value.as_deref(), Some("a\tb"));
    assert_eq!(parsed[0].1.source, PropertySource::Local);
    assert_eq!(parsed[1].1.value.as_deref(), Some("100"));
    assert_eq!(parsed[2].1.value, None);
    assert!(properties("tank\tused\n").is_err());
}

#[test]
fn hold_times_in_both_formats() {
    let parsed = holds("tank@a\tkeep\tThu Nov 26  8:28 2026\ntank@a\tother\t1795681687\n").unwrap();
    assert_eq!(parsed[0].created, Timestamp(1_795_681_680));
    assert_eq!(parsed[1].created, Timestamp(1_795_681_687));
    assert!(holds("tank@a\tkeep\tThu Foo 26 8:28 2026").is_err());
    assert!(holds("tank@a\tkeep\tyesterday").is_err());
}

#[test]
fn reclaim_and_size_lines() {
    assert_eq!(reclaimable("destroy\ttank@a\nreclaim\t42\n").unwrap(), 42);
    assert!(reclaimable("destroy\ttank@a\n").is_err());
    assert_eq!(send_size("full\ttank@a\t99\nsize\t99\n").unwrap(), 99);
    assert!(send_size("size\tmany\n").is_err());
}

/// One captured OpenZFS version's outputs.
struct Fixture {
    directory: PathBuf,
}

impl Fixture {
    fn read(&self, name: &str) -> String {
        let path = self.directory.join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }
}

/// Found by fuzzing (`fuzz/fuzz_targets/zfs_parse.rs`): a scrub duration of more hours or
/// days than `i64` seconds hold overflowed (a panic with overflow checks on) instead of
/// being refused.
#[test]
fn scrub_durations_beyond_i64_seconds_are_refused() {
    let status = fixtures()[0].read("zpool-status-scrubbed.txt");
    assert!(status.contains(" in 00:00:01 with "), "{status}");
    assert!(pool_statuses(&status).is_ok());
    for duration in [
        "99999999999999999:00:00",
        "0:153722867280912931:00",
        "106751991167301 days 00:00:00",
        "106751991167300 days 23:59:59",
    ] {
        let text = status.replace(" in 00:00:01 with ", &format!(" in {duration} with "));
        let error = pool_statuses(&text).unwrap_err();
        assert!(
            error.reason.contains("bad duration"),
            "{duration}: {error:?}"
        );
    }
    // The largest duration that fits is read.
    let text = status.replace(
        " in 00:00:01 with ",
        " in 106751991167300 days 15:30:07 with ",
    );
    assert!(pool_statuses(&text).is_ok());
}

fn fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<Fixture> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("{}: {error}", root.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("openzfs-"))
        })
        .map(|directory| Fixture { directory })
        .collect();
    found.sort_by(|a, b| a.directory.cmp(&b.directory));
    assert!(
        !found.is_empty(),
        "no captured fixtures under {}",
        root.display()
    );
    found
}

#[test]
fn captured_version() {
    for fixture in fixtures() {
        let parsed = version(&fixture.read("zfs-version.txt")).unwrap();
        let expected = fixture
            .directory
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("openzfs-", "");
        let (major, minor, patch) = parsed.userland_semver().unwrap();
        assert_eq!(
            format!("{major}.{minor}.{patch}"),
            expected,
            "{}",
            fixture.directory.display()
        );
        assert!(parsed.kernel.is_some());
    }
}

#[test]
fn captured_pools_and_datasets() {
    for fixture in fixtures() {
        let pools = pools(&fixture.read("zpool-list.txt")).unwrap();
        let pool = pools
            .iter()
            .find(|pool| pool.name.as_str() == "wzfix")
            .expect("pool wzfix");
        assert_eq!(pool.health, PoolHealth::Online);
        assert!(pool.size > pool.allocated && pool.free > 0);
        let datasets = datasets(&fixture.read("zfs-list-datasets.txt")).unwrap();
        let names: Vec<&str> = datasets
            .iter()
            .map(|dataset| dataset.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "wzfix",
                "wzfix/data",
                "wzfix/data/child",
                "wzfix/data/with space",
                "wzfix/vol"
            ]
        );
        let volume = &datasets[4];
        assert_eq!(volume.kind, DatasetKind::Volume);
        assert_eq!(volume.mountpoint, None);
        assert_eq!(
            datasets[1].mountpoint.as_deref(),
            Some(Path::new("/wzfix/data"))
        );
        assert!(
            datasets
                .iter()
                .all(|dataset| dataset.guid != 0 && dataset.createtxg > 0)
        );
    }
}

#[test]
fn captured_snapshots_bookmarks_and_holds() {
    for fixture in fixtures() {
        let snapshots = snapshots(&fixture.read("zfs-list-snapshots.txt")).unwrap();
        let names: Vec<&str> = snapshots
            .iter()
            .map(|snapshot| snapshot.name.as_str())
            .collect();
        // `-r` with `-s createtxg`: s1 of all three filesystems share one txg (atomic -r).
        assert_eq!(names.len(), 6, "{names:?}");
        let s1: Vec<&Snapshot> = snapshots
            .iter()
            .filter(|s| s.name.short_name() == "s1")
            .collect();
        assert_eq!(s1.len(), 3);
        assert!(
            s1.iter().all(|s| s.createtxg == s1[0].createtxg),
            "recursive snapshot is atomic"
        );
        let data_s2 = snapshots
            .iter()
            .find(|s| s.name.as_str() == "wzfix/data@s2")
            .unwrap();
        assert!(data_s2.createtxg > s1[0].createtxg);
        assert!(data_s2.written > 0, "files changed between s1 and s2");
        let data_s1 = snapshots
            .iter()
            .find(|s| s.name.as_str() == "wzfix/data@s1")
            .unwrap();
        assert_eq!(data_s1.user_refs, 1, "s1 carries one hold");
        let empty = snapshots
            .iter()
            .find(|s| s.name.as_str() == "wzfix/data@empty")
            .unwrap();
        assert_eq!(empty.written, 0, "nothing changed between s2 and empty");

        let bookmarks = bookmarks(&fixture.read("zfs-list-bookmarks.txt")).unwrap();
        assert_eq!(bookmarks.len(), 1);
        assert_eq!(bookmarks[0].name.as_str(), "wzfix/data#s1");
        assert_eq!(
            bookmarks[0].guid, data_s1.guid,
            "a bookmark keeps its snapshot's guid"
        );
        assert_eq!(bookmarks[0].createtxg, data_s1.createtxg);

        let holds = holds(&fixture.read("zfs-holds.txt")).unwrap();
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].tag, "wizfs:keep");
        assert_eq!(holds[0].snapshot.as_str(), "wzfix/data@s1");
        assert!(
            holds[0].created.0 >= data_s1.creation.0 - 60,
            "minute precision"
        );
    }
}

#[test]
fn captured_snapshots_with_a_user_property() {
    for fixture in fixtures() {
        let plain = snapshots(&fixture.read("zfs-list-snapshots.txt")).unwrap();
        let listed =
            snapshots_with_properties(&fixture.read("zfs-list-snapshots-managed.txt"), 1).unwrap();
        let rows: Vec<(&str, Option<&str>)> = listed
            .iter()
            .map(|(snapshot, values)| (snapshot.name.as_str(), values[0].as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("wzfix/data@s1", None),
                ("wzfix/data/child@s1", None),
                ("wzfix/data/with space@s1", None),
                ("wzfix/data/child@s2", None),
                ("wzfix/data@s2", Some("nightly")),
                ("wzfix/data@empty", None),
            ],
            "{}",
            fixture.directory.display()
        );
        let snapshots_only: Vec<Snapshot> =
            listed.into_iter().map(|(snapshot, _)| snapshot).collect();
        assert_eq!(
            snapshots_only, plain,
            "the same snapshots as the plain listing"
        );
    }
}

#[test]
fn snapshot_property_values_split_by_count() {
    let line = "tank/a@x\t1\t2\t3\t4\t5\t6\t0";
    let one_with_tab = format!("{line}\tvalue\twith tab\n");
    let parsed = snapshots_with_properties(&one_with_tab, 1).unwrap();
    assert_eq!(parsed[0].1, [Some("value\twith tab".to_owned())]);
    let two = format!("{line}\t-\tb\n");
    let parsed = snapshots_with_properties(&two, 2).unwrap();
    assert_eq!(parsed[0].1, [None, Some("b".to_owned())]);
    assert_eq!(parsed[0].0.name.as_str(), "tank/a@x");
    let none = format!("{line}\n");
    assert_eq!(
        snapshots_with_properties(&none, 0).unwrap()[0].1,
        Vec::<Option<String>>::new()
    );
    for (text, count) in [
        (format!("{line}\n"), 1),
        (format!("{line}\ta\n"), 2),
        (format!("{line}\ta\tb\tc\n"), 2),
        (format!("{line}\ta\n"), 0),
        ("tank/a@x\t1\t2\n".to_owned(), 1),
        ("tank/a@x\tguid\t2\t3\t4\t5\t6\t0\tv\n".to_owned(), 1),
    ] {
        let error = snapshots_with_properties(&text, count).unwrap_err();
        assert!(
            error.reason.contains("fields") || error.reason.contains("number"),
            "{text:?}: {error:?}"
        );
    }
}

#[test]
fn captured_properties() {
    for fixture in fixtures() {
        let rows = properties(&fixture.read("zfs-get.txt")).unwrap();
        let value = |name: &str| {
            rows.iter()
                .find(|(_, row)| row.name == name)
                .map(|(_, row)| row.clone())
                .unwrap()
        };
        assert_eq!(value("wizfs:note").value.as_deref(), Some("tab\there"));
        assert_eq!(value("wizfs:note").source, PropertySource::Local);
        assert_eq!(value("compression").value.as_deref(), Some("lz4"));
        assert!(matches!(
            value("compression").source,
            PropertySource::Inherited { .. } | PropertySource::Local
        ));
        assert!(value("used").value.unwrap().parse::<u64>().is_ok());
        assert_eq!(value("receive_resume_token").value, None);
        assert_eq!(value("wizfs:unset").value, None);
    }
}

#[test]
fn captured_diff_with_hostile_names() {
    for fixture in fixtures() {
        let entries = diff(&fixture.read("zfs-diff.txt")).unwrap();
        let has = |change: &DiffChange, kind: FileKind, path: &[u8]| {
            entries.iter().any(|entry| {
                &entry.change == change
                    && entry.kind == kind
                    && entry.path.as_os_str().as_bytes() == path
            })
        };
        let dir = "/wzfix/data";
        assert!(has(
            &DiffChange::Created,
            FileKind::File,
            format!("{dir}/name with space.txt").as_bytes()
        ));
        assert!(has(
            &DiffChange::Created,
            FileKind::File,
            format!("{dir}/new\nline").as_bytes()
        ));
        assert!(has(
            &DiffChange::Created,
            FileKind::File,
            b"/wzfix/data/latin1-\xe9t\xe9"
        ));
        assert!(has(
            &DiffChange::Created,
            FileKind::Symlink,
            format!("{dir}/link").as_bytes()
        ));
        assert!(has(
            &DiffChange::Created,
            FileKind::Directory,
            format!("{dir}/newdir").as_bytes()
        ));
        assert!(has(
            &DiffChange::Removed,
            FileKind::File,
            format!("{dir}/deleted.txt").as_bytes()
        ));
        assert!(has(
            &DiffChange::Modified,
            FileKind::File,
            format!("{dir}/modified.txt").as_bytes()
        ));
        assert!(has(
            &DiffChange::Modified,
            FileKind::Directory,
            dir.as_bytes()
        ));
        let renamed = DiffChange::Renamed {
            to: PathBuf::from(OsStr::from_bytes(b"/wzfix/data/renamed-\xc3\xa4.txt")),
        };
        assert!(
            has(
                &renamed,
                FileKind::File,
                format!("{dir}/before-rename.txt").as_bytes()
            ),
            "{entries:#?}"
        );
        let long_name = format!("{dir}/{}", "x".repeat(255));
        assert!(has(
            &DiffChange::Created,
            FileKind::File,
            long_name.as_bytes()
        ));
    }
}

#[test]
fn captured_destroy_and_send_estimates() {
    for fixture in fixtures() {
        let reclaim = reclaimable(&fixture.read("zfs-destroy-nvp.txt")).unwrap();
        assert!(reclaim > 0, "s1 of the child holds a deleted file's blocks");
        assert!(send_size(&fixture.read("zfs-send-nvP.txt")).unwrap() > 0);
        assert!(send_size(&fixture.read("zfs-send-resume-nvP.txt")).unwrap() > 0);
    }
}

#[test]
fn captured_error_messages_are_classified() {
    use crate::error::{ZfsError, classify};
    for fixture in fixtures() {
        let text = fixture.read("errors.txt");
        let mut checked = 0;
        for line in text.lines().filter(|line| !line.is_empty()) {
            let (expected, rest) = line.split_once('\t').unwrap();
            let (command, stderr) = rest.split_once('\t').unwrap();
            let error = classify(command, "target", "exit status: 1", stderr);
            let actual = match error {
                ZfsError::NotFound { .. } => "not-found",
                ZfsError::AlreadyExists { .. } => "exists",
                ZfsError::Busy { .. } => "busy",
                ZfsError::PermissionDenied { .. } => "permission",
                ZfsError::HasDependents { .. } => "dependents",
                ZfsError::NoSpace { .. } => "no-space",
                ZfsError::ReadOnly { .. } => "read-only",
                _ => "failed",
            };
            assert_eq!(actual, expected, "{command}: {stderr}");
            checked += 1;
        }
        assert!(
            checked >= 6,
            "{}: only {checked} error samples",
            fixture.directory.display()
        );
    }
}
