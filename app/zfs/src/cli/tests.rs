//! Unit tests of [`CliZfs`] with a [`ScriptedRunner`]: the exact argv of every operation
//! (scripted mode, validated names, no shell) and the mapping of failures to typed errors.
//! Behaviour against real OpenZFS is proven by the VM platform tests in `tests/`.

use super::*;
use crate::runner::ScriptedRunner;
use wizfs_core::{DatasetName, SnapshotName};

fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).unwrap()
}

fn snapshot(name: &str) -> SnapshotName {
    SnapshotName::new(name).unwrap()
}

fn cli(runner: ScriptedRunner) -> (CliZfs, Arc<ScriptedRunner>) {
    let runner = Arc::new(runner);
    (CliZfs::new(runner.clone()), runner)
}

#[test]
fn list_snapshots_of_one_dataset_uses_depth_one_and_createtxg_order() {
    let (zfs, runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &["list", "-H", "-p", "-t", "snapshot", "-o", parse::SNAPSHOT_COLUMNS, "-s", "createtxg", "-d", "1", "tank/data"],
        "tank/data@a\t11\t100\t1700000000\t0\t4096\t4096\t0\ntank/data@b\t12\t101\t1700000060\t0\t4096\t0\t1\n",
    ));
    let snapshots = zfs
        .list_snapshots(&dataset("tank/data"), Scope::Dataset)
        .unwrap();
    assert_eq!(snapshots.len(), 2);
    assert_eq!(snapshots[1].name.short_name(), "b");
    assert_eq!(snapshots[1].user_refs, 1);
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn snapshots_with_properties_add_columns_to_one_listing() {
    let columns = format!("{},wizfs:managed,wizfs:note", parse::SNAPSHOT_COLUMNS);
    let (zfs, runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &[
            "list",
            "-H",
            "-p",
            "-t",
            "snapshot",
            "-o",
            &columns,
            "-s",
            "createtxg",
            "-r",
            "tank/data",
        ],
        "tank/data@a\t11\t100\t1700000000\t0\t4096\t4096\t0\thome\t-\n\
         tank/data/c@a\t12\t100\t1700000000\t0\t4096\t0\t0\t-\tnote\n",
    ));
    let properties = [
        PropertyName::new("wizfs:managed").unwrap(),
        PropertyName::new("wizfs:note").unwrap(),
    ];
    let listed = zfs
        .list_snapshots_with_properties(&dataset("tank/data"), Scope::Recursive, &properties)
        .unwrap();
    let rows: Vec<(&str, &[Option<String>])> = listed
        .iter()
        .map(|(snapshot, values)| (snapshot.name.as_str(), values.as_slice()))
        .collect();
    assert_eq!(
        rows,
        [
            ("tank/data@a", &[Some("home".to_owned()), None][..]),
            ("tank/data/c@a", &[None, Some("note".to_owned())][..]),
        ]
    );
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn recursive_listing_uses_dash_r() {
    let (zfs, runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &[
            "list",
            "-H",
            "-p",
            "-t",
            "snapshot",
            "-o",
            parse::SNAPSHOT_COLUMNS,
            "-s",
            "createtxg",
            "-r",
            "tank",
        ],
        "",
    ));
    assert!(
        zfs.list_snapshots(&dataset("tank"), Scope::Recursive)
            .unwrap()
            .is_empty()
    );
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn atomic_snapshot_of_several_datasets_is_one_command_with_properties() {
    let (zfs, runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &[
            "snapshot",
            "-r",
            "-o",
            "wizfs:managed=yes",
            "tank/a@x",
            "tank/b c@x",
        ],
        "",
    ));
    zfs.create_snapshots(
        &[snapshot("tank/a@x"), snapshot("tank/b c@x")],
        true,
        &[(PropertyName::new("wizfs:managed").unwrap(), "yes".into())],
    )
    .unwrap();
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn destroy_groups_snapshots_per_dataset() {
    let (zfs, runner) = cli(ScriptedRunner::new()
        .expect_ok(Program::Zfs, &["destroy", "-d", "tank/a@x,y"], "")
        .expect_ok(Program::Zfs, &["destroy", "-d", "tank/b@x"], ""));
    let options = DestroyOptions {
        recursive: false,
        defer: true,
    };
    zfs.destroy_snapshots(
        &[
            snapshot("tank/a@x"),
            snapshot("tank/b@x"),
            snapshot("tank/a@y"),
        ],
        options,
    )
    .unwrap();
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn destroy_of_held_snapshot_is_busy() {
    let (zfs, _runner) = cli(ScriptedRunner::new().expect_failure(
        Program::Zfs,
        &["destroy", "tank/a@x"],
        "cannot destroy snapshot tank/a@x: dataset is busy\n",
    ));
    let error = zfs
        .destroy_snapshots(&[snapshot("tank/a@x")], DestroyOptions::default())
        .unwrap_err();
    assert!(error.is_busy(), "{error:?}");
}

#[test]
fn missing_dataset_is_not_found() {
    let (zfs, _runner) = cli(ScriptedRunner::new().expect_failure(
        Program::Zfs,
        &[
            "list",
            "-H",
            "-p",
            "-t",
            "bookmark",
            "-o",
            parse::BOOKMARK_COLUMNS,
            "-s",
            "createtxg",
            "-d",
            "1",
            "tank/nope",
        ],
        "cannot open 'tank/nope': dataset does not exist\n",
    ));
    let error = zfs.list_bookmarks(&dataset("tank/nope")).unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("tank/nope"));
}

#[test]
fn reclaimable_space_reads_the_reclaim_line() {
    let (zfs, _runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &["destroy", "-n", "-v", "-p", "tank/a@x,y"],
        "destroy\ttank/a@x\ndestroy\ttank/a@y\nreclaim\t123456\n",
    ));
    assert_eq!(
        zfs.reclaimable_space(&[snapshot("tank/a@x"), snapshot("tank/a@y")])
            .unwrap(),
        123456
    );
}

#[test]
fn reclaimable_space_refuses_several_datasets_without_running_anything() {
    let (zfs, runner) = cli(ScriptedRunner::new());
    let error = zfs
        .reclaimable_space(&[snapshot("tank/a@x"), snapshot("tank/b@y")])
        .unwrap_err();
    assert!(matches!(error, ZfsError::InvalidRequest(_)));
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn holds_and_bookmarks() {
    let tag = HoldTag::new("wizfs:backup").unwrap();
    let (zfs, runner) = cli(ScriptedRunner::new()
        .expect_ok(Program::Zfs, &["hold", "-r", "wizfs:backup", "tank@s"], "")
        .expect_ok(
            Program::Zfs,
            &["holds", "-H", "tank@s"],
            "tank@s\twizfs:backup\tThu Nov 26  8:28 2026\n",
        )
        .expect_ok(Program::Zfs, &["release", "wizfs:backup", "tank@s"], "")
        .expect_ok(Program::Zfs, &["bookmark", "tank@s", "tank#s"], "")
        .expect_ok(Program::Zfs, &["destroy", "tank#s"], ""));
    zfs.hold(&snapshot("tank@s"), &tag, true).unwrap();
    let holds = zfs.holds(&snapshot("tank@s")).unwrap();
    assert_eq!(holds[0].tag, "wizfs:backup");
    zfs.release(&snapshot("tank@s"), &tag, false).unwrap();
    let bookmark = BookmarkName::new("tank#s").unwrap();
    zfs.create_bookmark(&snapshot("tank@s"), &bookmark).unwrap();
    zfs.destroy_bookmark(&bookmark).unwrap();
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn bookmark_of_another_dataset_is_refused_before_running() {
    let (zfs, runner) = cli(ScriptedRunner::new());
    let error = zfs
        .create_bookmark(
            &snapshot("tank/a@s"),
            &BookmarkName::new("tank/b#s").unwrap(),
        )
        .unwrap_err();
    assert!(matches!(error, ZfsError::InvalidRequest(_)));
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn diff_against_live_names_the_dataset() {
    let (zfs, _runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &["diff", "-H", "-F", "-t", "tank/a@x", "tank/a"],
        "1700000000.000000001\t+\tF\t/tank/a/new\\0040file\n",
    ));
    let entries = zfs.diff(&snapshot("tank/a@x"), DiffTarget::Live).unwrap();
    assert_eq!(entries[0].path, std::path::Path::new("/tank/a/new file"));
    assert_eq!(entries[0].change, DiffChange::Created);
}

#[test]
fn diff_across_datasets_is_refused() {
    let (zfs, _runner) = cli(ScriptedRunner::new());
    let later = snapshot("tank/b@y");
    let error = zfs
        .diff(&snapshot("tank/a@x"), DiffTarget::Snapshot(&later))
        .unwrap_err();
    assert!(matches!(error, ZfsError::InvalidRequest(_)));
}

#[test]
fn send_incremental_streams_stdout_and_reports_exit() {
    let (zfs, runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &["send", "-w", "-L", "-c", "-i", "tank/a#base", "tank/a@x"],
        "STREAM-BYTES",
    ));
    let source = SendSource::Snapshot {
        snapshot: snapshot("tank/a@x"),
        base: Some(IncrementalBase::Bookmark(
            BookmarkName::new("tank/a#base").unwrap(),
        )),
        flags: SendFlags {
            raw: true,
            large_blocks: true,
            compressed: true,
            ..SendFlags::default()
        },
    };
    let mut stream = zfs.send(&source).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    stream.finish().unwrap();
    assert_eq!(bytes, b"STREAM-BYTES");
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn send_with_base_of_another_dataset_is_refused() {
    let (zfs, _runner) = cli(ScriptedRunner::new());
    let source = SendSource::Snapshot {
        snapshot: snapshot("tank/a@x"),
        base: Some(IncrementalBase::Snapshot(snapshot("tank/b@w"))),
        flags: SendFlags::default(),
    };
    assert!(matches!(
        zfs.send(&source).map(drop),
        Err(ZfsError::InvalidRequest(_))
    ));
}

#[test]
fn resume_send_and_size_estimate() {
    let token = ResumeToken::new("1-abc-de-789c").unwrap();
    let (zfs, runner) = cli(ScriptedRunner::new().expect_ok(
        Program::Zfs,
        &["send", "-n", "-v", "-P", "-t", "1-abc-de-789c"],
        "resume token contents:\nnvlist version: 0\n\tobject = 0x2\nfull\ttank/a@x\t4096\nsize\t4096\n",
    ));
    assert_eq!(
        zfs.estimate_send_size(&SendSource::Resume(token)).unwrap(),
        4096
    );
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn receive_feeds_the_stream_and_maps_failure() {
    let (zfs, runner) = cli(
        ScriptedRunner::new()
            .expect_ok(Program::Zfs, &["receive", "-s", "-u", "-o", "readonly=on", "backup/a"], "")
            .expect_failure(
                Program::Zfs,
                &["receive", "backup/a"],
                "cannot receive new filesystem stream: destination 'backup/a' exists\nmust specify -F to overwrite it\n",
            ),
    );
    let options = ReceiveOptions {
        resumable: true,
        unmounted: true,
        properties: vec![(PropertyName::new("readonly").unwrap(), "on".into())],
        ..ReceiveOptions::default()
    };
    zfs.receive(&dataset("backup/a"), &options, &mut &b"STREAM"[..])
        .unwrap();
    assert_eq!(runner.received_input(), vec![b"STREAM".to_vec()]);
    let error = zfs
        .receive(
            &dataset("backup/a"),
            &ReceiveOptions::default(),
            &mut &b""[..],
        )
        .unwrap_err();
    assert!(matches!(error, ZfsError::AlreadyExists { .. }), "{error:?}");
}

#[test]
fn resume_token_property() {
    let (zfs, _runner) = cli(ScriptedRunner::new()
        .expect_ok(
            Program::Zfs,
            &[
                "get",
                "-H",
                "-p",
                "-o",
                "name,property,value,source",
                "receive_resume_token",
                "backup/a",
            ],
            "backup/a\treceive_resume_token\t1-f00-d0-789c\t-\n",
        )
        .expect_ok(
            Program::Zfs,
            &[
                "get",
                "-H",
                "-p",
                "-o",
                "name,property,value,source",
                "receive_resume_token",
                "backup/a",
            ],
            "backup/a\treceive_resume_token\t-\t-\n",
        ));
    let token = zfs.receive_resume_token(&dataset("backup/a")).unwrap();
    assert_eq!(
        token.map(|t| t.as_str().to_owned()),
        Some("1-f00-d0-789c".to_owned())
    );
    assert_eq!(
        zfs.receive_resume_token(&dataset("backup/a")).unwrap(),
        None
    );
}

#[test]
fn property_values_with_newlines_are_refused_before_running() {
    let (zfs, runner) = cli(ScriptedRunner::new());
    let target = wizfs_core::ZfsObjectName::parse("tank").unwrap();
    let error = zfs
        .set_property(&target, &PropertyName::new("wizfs:note").unwrap(), "a\nb")
        .unwrap_err();
    assert!(matches!(error, ZfsError::InvalidRequest(_)));
    assert_eq!(runner.remaining(), 0);
}

#[test]
fn missing_zfs_binary_is_a_spawn_error() {
    let (zfs, _runner) = cli(ScriptedRunner::new());
    let error = zfs.version().unwrap_err();
    assert!(matches!(error, ZfsError::Spawn { .. }), "{error:?}");
}

#[test]
fn pool_status_adds_capacity_from_zpool_list() {
    let (zfs, runner) = cli(ScriptedRunner::new()
        .expect_ok(
            Program::Zpool,
            &["status", "-p"],
            "  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\ttank ONLINE 0 0 0\n\t  sda ONLINE 0 0 2\n\nerrors: No known data errors\n",
        )
        .expect_ok(
            Program::Zpool,
            &["list", "-H", "-p", "-o", parse::POOL_COLUMNS],
            "tank\t42\t1000\t700\t300\t12\t70\tONLINE\toff\n",
        ));
    let statuses = zfs.pool_status().unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].vdevs[0].checksum_errors, 2);
    assert_eq!(statuses[0].capacity_percent, Some(70));
    assert_eq!(statuses[0].fragmentation_percent, Some(12));
    assert_eq!(runner.remaining(), 0);
}
