//! The local-pool target end to end on `FakeZfs` (the same trait as real OpenZFS): a full
//! run then 20 incremental ones with the target's snapshot guids equal to the source's and
//! the files alike; a pruned source base continued from its bookmark; a diverged target
//! refused, and rolled back only when the job chose it; an interrupted receive resumed, full
//! and incremental; retention on the target destroying only what the job sent; holds
//! following the base; targets that are absent or not this job's.

mod support;

use std::path::Path;

use support::{Fixture, assert_clean, content, dataset, snapshot};
use wizfs_backup::{
    BackupJobConfig, RunError, SENT_PROPERTY, hold_tag, parse_backups, run_local_pool,
};
use wizfs_core::ZfsObjectName;
use wizfs_core::backup::{
    Action, BackupJob, BackupJobId, BackupOptions, Refusal, Remedy, SendBase, TargetKind,
    TargetRetention,
};
use wizfs_core::rotation::{PolicyScope, Tier, TierRule, UtcCalendar};
use wizfs_zfs::{
    DestroyOptions, IncrementalBase, PropertyName, ReceiveOptions, Scope, SendFlags, SendSource,
    Zfs,
};

fn job(id: &str) -> BackupJob {
    BackupJob {
        id: BackupJobId::new(id).expect("id"),
        sources: vec![PolicyScope {
            dataset: dataset("tank/home"),
            recursive: true,
            exclude: Vec::new(),
        }],
        target: TargetKind::LocalPool {
            root: dataset("backup/wizfs"),
        },
        retention: None,
        options: BackupOptions::default(),
    }
}

/// `tank/home@s1` (`a.txt` = "one") backed up once by job `mirror` into `backup/wizfs`.
fn backed_up_once() -> (Fixture, BackupJob) {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    fixture.write("tank/home", "a.txt", b"one");
    fixture.snapshot("tank/home", "s1");
    let job = job("mirror");
    assert_clean(&fixture.run(&job));
    (fixture, job)
}

#[test]
fn full_then_twenty_incrementals_keep_the_target_equal_to_the_source() {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    fixture.create("tank/home/docs");
    fixture.write("tank/home", "a.txt", b"first");
    fixture.write("tank/home/docs", "d.txt", b"docs");
    fixture.snapshot("tank/home", "s00");
    fixture.snapshot("tank/home/docs", "s00");
    // The job from its configuration, as the daemon will read it.
    let text = r#"
[[backup]]
id = "mirror"
timezone = "UTC"
[[backup.source]]
dataset = "tank/home"
recursive = true
[backup.target]
type = "pool"
dataset = "backup/wizfs"
"#;
    let configs: Vec<BackupJobConfig> =
        parse_backups(text, Path::new("backups.toml")).expect("config");
    let job = configs[0].planner_jobs().remove(0);

    let first = fixture.run(&job);
    assert_clean(&first);
    let home = first.dataset(&dataset("tank/home")).expect("home");
    assert_eq!(home.target, dataset("backup/wizfs/tank/home"));
    assert!(matches!(home.action, Action::FullSend { .. }));
    assert_eq!(home.sends.len(), 1);
    assert!(home.bytes() > 0);
    assert_eq!(home.bookmarks.len(), 1);
    assert_eq!(fixture.held_by(&job, "tank/home"), ["s00"]);

    for round in 1..=20_u64 {
        let short = format!("s{round:02}");
        // Every other round two snapshots of the child: one -I stream carries both.
        fixture.change_tree(round, &short);
        let report = fixture.run(&job);
        assert_clean(&report);
        let home = report.dataset(&dataset("tank/home")).expect("home");
        assert!(
            matches!(
                &home.action,
                Action::Incremental {
                    from: SendBase::Snapshot(_),
                    ..
                }
            ),
            "{:?}",
            home.action
        );
        assert_eq!(home.sends.len(), 1);
        assert_eq!(
            fixture.held_by(&job, "tank/home"),
            std::slice::from_ref(&short)
        );
        assert_eq!(
            fixture.guids("tank/home"),
            fixture.guids("backup/wizfs/tank/home"),
            "round {round}"
        );
        assert_eq!(
            fixture.guids("tank/home/docs"),
            fixture.guids("backup/wizfs/tank/home/docs"),
            "round {round}"
        );
    }
    assert_eq!(fixture.guids("tank/home").len(), 21);
    assert_eq!(fixture.guids("tank/home/docs").len(), 21);
    for file in ["a.txt", "f7.bin", "f20.bin"] {
        assert_eq!(
            fixture.read("tank/home", file),
            fixture.read("backup/wizfs/tank/home", file)
        );
    }
    assert_eq!(
        fixture.read("tank/home/docs", "d.txt"),
        fixture.read("backup/wizfs/tank/home/docs", "d.txt")
    );
    // Every sent snapshot is bookmarked on the source and marked as this job's on the target.
    let bookmarks = fixture
        .zfs
        .list_bookmarks(&dataset("tank/home"))
        .expect("bookmarks");
    assert_eq!(
        bookmarks
            .iter()
            .map(|bookmark| bookmark.guid)
            .collect::<Vec<_>>(),
        fixture.guids("tank/home")
    );
    let marks = fixture
        .zfs
        .list_snapshots_with_properties(
            &dataset("backup/wizfs/tank/home"),
            Scope::Dataset,
            &[PropertyName::new(SENT_PROPERTY).expect("property")],
        )
        .expect("marks");
    assert!(
        marks
            .iter()
            .all(|(_, values)| values[0].as_deref() == Some("mirror"))
    );
    // Nothing new: nothing sent, nothing changed.
    let idle = fixture.run(&job);
    assert_clean(&idle);
    assert_eq!(idle.bytes(), 0);
    assert!(matches!(
        idle.dataset(&dataset("tank/home")).expect("home").action,
        Action::NothingToDo(_)
    ));
}

#[test]
fn a_pruned_base_is_continued_from_its_bookmark() {
    let (fixture, job) = backed_up_once();
    fixture.write("tank/home", "a.txt", b"two");
    fixture.snapshot("tank/home", "s2");
    fixture.write("tank/home", "b.txt", b"three");
    fixture.snapshot("tank/home", "s3");
    // The base is pruned on the source (its hold released by hand first).
    let base = snapshot("tank/home@s1");
    fixture
        .zfs
        .release(&base, &hold_tag(&job).expect("tag"), false)
        .expect("release");
    fixture
        .zfs
        .destroy_snapshots(&[base], DestroyOptions::default())
        .expect("destroy");

    let report = fixture.run(&job);
    assert_clean(&report);
    let home = report.dataset(&dataset("tank/home")).expect("home");
    assert!(
        matches!(&home.action, Action::Incremental { from: SendBase::Bookmark(bookmark), .. }
            if bookmark.as_str() == "tank/home#s1"),
        "{:?}",
        home.action
    );
    // `-i #s1 s2`, then `-I s2 s3`.
    assert_eq!(home.sends.len(), 2);
    assert_eq!(
        fixture.short_names("backup/wizfs/tank/home"),
        ["s1", "s2", "s3"]
    );
    let source = fixture.guids("tank/home");
    assert_eq!(fixture.guids("backup/wizfs/tank/home")[1..], source[..]);
    assert_eq!(fixture.read("backup/wizfs/tank/home", "b.txt"), b"three");
    assert_eq!(fixture.held_by(&job, "tank/home"), ["s3"]);
}

#[test]
fn a_diverged_target_is_refused_unless_the_job_chose_to_roll_it_back() {
    let (fixture, mut job) = backed_up_once();
    // Someone writes into the backup and snapshots it.
    fixture.write(
        "backup/wizfs/tank/home",
        "stray.txt",
        b"not from the source",
    );
    fixture.snapshot("backup/wizfs/tank/home", "mine");
    fixture.write("tank/home", "a.txt", b"two");
    fixture.snapshot("tank/home", "s2");

    let refused = fixture.run(&job);
    assert!(!refused.succeeded());
    let (source, refusal) = refused.refusals().next().expect("refused");
    assert_eq!(source, &dataset("tank/home"));
    assert!(
        matches!(refusal, Refusal::Diverged { newer_on_target, .. }
            if newer_on_target == &[snapshot("backup/wizfs/tank/home@mine")]),
        "{refusal}"
    );
    assert_eq!(refusal.remedies()[0], Remedy::RollBackTarget);
    assert_eq!(
        fixture.short_names("backup/wizfs/tank/home"),
        ["s1", "mine"],
        "nothing changed on the target"
    );
    assert_eq!(
        fixture.held_by(&job, "tank/home"),
        ["s1"],
        "the base stays held"
    );

    job.options.roll_back_target = true;
    let rolled = fixture.run(&job);
    assert_clean(&rolled);
    let home = rolled.dataset(&dataset("tank/home")).expect("home");
    assert!(home.sends[0].rolled_back);
    assert_eq!(fixture.short_names("backup/wizfs/tank/home"), ["s1", "s2"]);
    assert_eq!(
        fixture.guids("backup/wizfs/tank/home"),
        fixture.guids("tank/home")
    );
    assert_eq!(fixture.read("backup/wizfs/tank/home", "a.txt"), b"two");
}

/// Sends `source` into `target` but stops the stream at half its length, with `-s`.
fn interrupted_receive(fixture: &Fixture, source: SendSource, target: &str) {
    let mut stream = fixture.zfs.send(&source).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read");
    stream.finish().expect("finish");
    let half = &bytes[..bytes.len() / 2];
    let options = ReceiveOptions {
        resumable: true,
        unmounted: true,
        ..ReceiveOptions::default()
    };
    let result = fixture
        .zfs
        .receive(&dataset(target), &options, &mut &half[..]);
    assert!(result.is_err(), "a broken stream fails");
    assert!(
        fixture
            .zfs
            .receive_resume_token(&dataset(target))
            .expect("token")
            .is_some()
    );
}

#[test]
fn an_interrupted_incremental_receive_is_resumed_then_continued() {
    let (fixture, job) = backed_up_once();
    fixture.write("tank/home", "big.bin", &content(7, 700_000));
    fixture.snapshot("tank/home", "s2");
    fixture.write("tank/home", "c.txt", b"after");
    fixture.snapshot("tank/home", "s3");
    interrupted_receive(
        &fixture,
        SendSource::Snapshot {
            snapshot: snapshot("tank/home@s2"),
            base: Some(IncrementalBase::Snapshot(snapshot("tank/home@s1"))),
            flags: SendFlags::default(),
        },
        "backup/wizfs/tank/home",
    );

    let report = fixture.run(&job);
    assert_clean(&report);
    let home = report.dataset(&dataset("tank/home")).expect("home");
    assert!(
        matches!(home.action, Action::Resume { .. }),
        "{:?}",
        home.action
    );
    assert!(home.sends[0].resumed);
    assert!(home.sends[0].bytes > 0);
    assert_eq!(home.sends.len(), 2, "the resume, then s2 → s3");
    assert_eq!(
        fixture.guids("backup/wizfs/tank/home"),
        fixture.guids("tank/home")
    );
    assert_eq!(
        fixture.read("backup/wizfs/tank/home", "big.bin"),
        content(7, 700_000)
    );
    assert!(
        fixture
            .zfs
            .receive_resume_token(&dataset("backup/wizfs/tank/home"))
            .expect("token")
            .is_none()
    );
}

#[test]
fn an_interrupted_first_receive_is_resumed_and_marked_as_the_jobs() {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    fixture.write("tank/home", "big.bin", &content(3, 600_000));
    fixture.snapshot("tank/home", "s1");
    fixture.create("backup/wizfs");
    fixture.create("backup/wizfs/tank");
    interrupted_receive(
        &fixture,
        SendSource::Snapshot {
            snapshot: snapshot("tank/home@s1"),
            base: None,
            flags: SendFlags::default(),
        },
        "backup/wizfs/tank/home",
    );
    let job = job("mirror");
    let report = fixture.run(&job);
    assert_clean(&report);
    assert_eq!(
        fixture.guids("backup/wizfs/tank/home"),
        fixture.guids("tank/home")
    );
    let mark = fixture
        .zfs
        .get_properties(
            &ZfsObjectName::Dataset(dataset("backup/wizfs/tank/home")),
            &[PropertyName::new(wizfs_backup::JOB_PROPERTY).expect("property")],
        )
        .expect("mark");
    assert_eq!(mark[0].value.as_deref(), Some("mirror"));
    // The next run continues it like any other.
    fixture.snapshot("tank/home", "s2");
    let next = fixture.run(&job);
    assert_clean(&next);
    assert_eq!(
        fixture.guids("backup/wizfs/tank/home"),
        fixture.guids("tank/home")
    );
}

#[test]
fn retention_on_the_target_destroys_only_what_the_job_sent() {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    let mut job = job("mirror");
    job.retention = Some(TargetRetention {
        tiers: vec![TierRule {
            tier: Tier::Hourly,
            keep: 3,
        }],
        min_keep: 0,
    });
    for hour in 0..8_u64 {
        fixture.write("tank/home", "a.txt", format!("hour {hour}").as_bytes());
        fixture.snapshot("tank/home", &format!("h{hour}"));
        let report = fixture.run(&job);
        assert_clean(&report);
        if hour == 0 {
            // A snapshot of the target another tool marked as its own: never this job's to prune.
            fixture
                .zfs
                .set_property(
                    &ZfsObjectName::Snapshot(snapshot("backup/wizfs/tank/home@h0")),
                    &PropertyName::new(SENT_PROPERTY).expect("property"),
                    "someone-else",
                )
                .expect("mark");
        }
    }
    assert_eq!(
        fixture.short_names("backup/wizfs/tank/home"),
        ["h0", "h5", "h6", "h7"]
    );
    // The source keeps everything (retention is the target's).
    assert_eq!(fixture.short_names("tank/home").len(), 8);
    assert_eq!(fixture.read("backup/wizfs/tank/home", "a.txt"), b"hour 7");
}

#[test]
fn a_target_that_is_not_this_jobs_is_refused_and_left_alone() {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    fixture.snapshot("tank/home", "s1");
    fixture.create("backup/wizfs");
    fixture.create("backup/wizfs/tank");
    fixture.create("backup/wizfs/tank/home");
    fixture.write("backup/wizfs/tank/home", "precious.txt", b"mine");
    let report = fixture.run(&job("mirror"));
    let (_, refusal) = report.refusals().next().expect("refused");
    assert!(
        matches!(refusal, Refusal::NotThisJob { owner: None, .. }),
        "{refusal}"
    );
    assert_eq!(
        fixture.read("backup/wizfs/tank/home", "precious.txt"),
        b"mine"
    );
    assert!(fixture.short_names("backup/wizfs/tank/home").is_empty());
}

#[test]
fn targets_that_are_absent_or_elsewhere_do_not_start() {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    let mut elsewhere = job("mirror");
    elsewhere.target = TargetKind::LocalPool {
        root: dataset("nopool/wizfs"),
    };
    assert!(matches!(
        run_local_pool(&fixture.zfs, &elsewhere, fixture.now(), &UtcCalendar),
        Err(RunError::PoolMissing { .. })
    ));
    elsewhere.target = TargetKind::Files {
        directory: "/media/usb".into(),
        volume_bytes: None,
    };
    assert!(matches!(
        run_local_pool(&fixture.zfs, &elsewhere, fixture.now(), &UtcCalendar),
        Err(RunError::WrongTarget { kind: "files", .. })
    ));
    let backup_guid = fixture
        .zfs
        .list_pools()
        .expect("pools")
        .iter()
        .find(|pool| pool.name.as_str() == "backup")
        .expect("backup")
        .guid;
    elsewhere.target = TargetKind::RotatingDisk {
        pool_guid: backup_guid ^ 1,
        root: dataset("backup/usb"),
    };
    let absent = run_local_pool(&fixture.zfs, &elsewhere, fixture.now(), &UtcCalendar);
    assert!(matches!(absent, Err(RunError::DiskAbsent { .. })));
    // The disk attached: caught up like a local pool, with a hold of its own.
    fixture.snapshot("tank/home", "s1");
    elsewhere.target = TargetKind::RotatingDisk {
        pool_guid: backup_guid,
        root: dataset("backup/usb"),
    };
    assert_clean(&fixture.run(&elsewhere));
    assert_eq!(
        fixture.guids("backup/usb/tank/home"),
        fixture.guids("tank/home")
    );
    assert_eq!(fixture.held_by(&elsewhere, "tank/home"), ["s1"]);
    assert!(
        hold_tag(&elsewhere)
            .expect("tag")
            .as_str()
            .ends_with(&backup_guid.to_string())
    );
}
