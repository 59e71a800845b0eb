//! Executor tests over `FakeZfs` (real directories, a real `written`, real space numbers)
//! with an injected clock: a month of hourly runs ends with exactly the snapshots the plan
//! says, empty runs are skipped, hooks gate and report, foreign, held and look-alike
//! snapshots survive, the free-space floor prunes oldest first down to the minimum, a clock
//! jumping backwards makes no burst, and dry-run plans carry reclaimable space. The same
//! behaviours are proven on real OpenZFS in the VM (`tests/platform/rotation.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::*;
use crate::config::parse_policies;
use wizfs_core::PoolName;
use wizfs_core::rotation::KeepReason;
use wizfs_zfs::{FakeZfs, HoldTag};

struct Setup {
    _directory: tempfile::TempDir,
    zfs: Arc<FakeZfs>,
    clock: Arc<AtomicI64>,
    memory: RunMemory,
}

fn t(year: i64, month: u8, day: u8, hour: u8, minute: u8) -> Timestamp {
    Timestamp::utc_minute(year, month, day, hour, minute).expect("valid time")
}

fn name(text: &str) -> DatasetName {
    DatasetName::new(text).expect("dataset name")
}

fn setup(pool_size: u64, datasets: &[&str]) -> Setup {
    let directory = tempfile::tempdir().expect("temporary directory");
    let zfs = Arc::new(FakeZfs::open(directory.path()).expect("fake"));
    zfs.create_pool(&PoolName::new("tank").expect("pool"), pool_size)
        .expect("pool");
    for dataset in datasets {
        zfs.create_filesystem(&name(dataset), &[]).expect("dataset");
    }
    let clock = Arc::new(AtomicI64::new(0));
    let reader = clock.clone();
    zfs.set_clock(Arc::new(move || Timestamp(reader.load(Ordering::SeqCst))));
    Setup {
        _directory: directory,
        zfs,
        clock,
        memory: RunMemory::default(),
    }
}

impl Setup {
    fn mountpoint(&self, dataset: &str) -> PathBuf {
        self.zfs.mountpoint(&name(dataset)).expect("mounted")
    }

    fn write(&self, dataset: &str, file: &str, contents: &[u8]) {
        std::fs::write(self.mountpoint(dataset).join(file), contents).expect("write");
    }

    fn run(&mut self, policies: &[PolicyConfig], now: Timestamp) -> RunReport {
        self.clock.store(now.seconds(), Ordering::SeqCst);
        run(
            self.zfs.as_ref(),
            policies,
            now,
            &mut self.memory,
            RunMode::Scheduled,
        )
    }

    fn short_names(&self, dataset: &str) -> Vec<String> {
        self.zfs
            .list_snapshots(&name(dataset), Scope::Dataset)
            .expect("list")
            .into_iter()
            .map(|snapshot| snapshot.name.short_name().to_owned())
            .collect()
    }
}

fn policies(text: &str) -> Vec<PolicyConfig> {
    parse_policies(text, Path::new("test.toml")).expect("policies")
}

fn assert_no_errors(report: &RunReport) {
    assert!(!report.has_errors(), "{report:#?}");
}

#[test]
fn a_month_of_hourly_runs_ends_with_exactly_the_planned_snapshots() {
    let mut setup = setup(
        1 << 30,
        &["tank/home", "tank/home/alice", "tank/home/scratch"],
    );
    let policies = policies(
        r#"
        [[policy]]
        id = "home"
        dataset = "tank/home"
        recursive = true
        exclude = ["tank/home/scratch"]
        hourly = 24
        daily = 7
        weekly = 3
        monthly = 2
        min_keep = 3
        timezone = "Europe/Paris"
        "#,
    );
    let start = t(2026, 10, 10, 0, 0);
    let hours = 32 * 24;
    let mut taken: Vec<SnapshotName> = Vec::new();
    let mut destroyed = 0;
    for hour in 0..hours {
        if hour % 5 == 0 {
            setup.write("tank/home/alice", "notes.txt", format!("{hour}").as_bytes());
        }
        let now = Timestamp(start.seconds() + hour * 3600 + 17);
        let report = setup.run(&policies, now);
        assert_no_errors(&report);
        assert_eq!(
            report.policies[0].created.len(),
            2,
            "home and alice, not scratch"
        );
        taken.extend(
            report.policies[0]
                .created
                .iter()
                .filter(|snapshot| snapshot.dataset().as_str() == "tank/home")
                .cloned(),
        );
        destroyed += report.destroyed().count();
        // A second run in the same hour has nothing to do and lists nothing.
        let again = setup.run(&policies, Timestamp(now.seconds() + 600));
        assert!(
            again.created().next().is_none() && !again.pruned,
            "{again:#?}"
        );
    }
    assert_eq!(taken.len() as i64, hours);
    // What the planner keeps when it sees every snapshot ever taken at once: the same set,
    // since a bucket that falls out of a tier never comes back.
    let end = Timestamp(start.seconds() + (hours - 1) * 3600 + 17);
    let plan = plan_over_history(&policies, &taken, end);
    let expected: Vec<String> = plan
        .kept()
        .map(|decision| decision.snapshot.short_name().to_owned())
        .collect();
    assert_eq!(setup.short_names("tank/home"), expected);
    assert_eq!(setup.short_names("tank/home/alice"), expected);
    assert!(setup.short_names("tank/home/scratch").is_empty());
    assert_eq!(destroyed, 2 * (taken.len() - expected.len()));
    // 24 hours, 6 more days, then weeks and months back to mid October.
    assert!(
        (24 + 6 + 1..=24 + 6 + 2 + 1).contains(&expected.len()),
        "{expected:?}"
    );
    let listed = setup
        .zfs
        .list_snapshots_with_properties(&name("tank/home"), Scope::Recursive, &[managed_property()])
        .expect("list");
    assert!(
        listed
            .iter()
            .all(|(_, values)| values[0].as_deref() == Some("home")),
        "every snapshot carries wizfs:managed=home"
    );
}

#[test]
fn empty_runs_are_skipped_and_hooks_gate_the_run() {
    let mut setup = setup(1 << 30, &["tank/home", "tank/home/alice"]);
    let marker = setup._directory.path().join("hook-ran");
    let text = format!(
        r#"
        [[policy]]
        id = "home"
        dataset = "tank/home"
        recursive = true
        hourly = 48
        skip_empty = true
        timezone = "UTC"
        pre_hook = ["sh", "-c", "test ! -e {blocker} && echo $WIZFS_POLICY $WIZFS_SNAPSHOT $WIZFS_DATASET >> {marker}"]
        post_hook = ["sh", "-c", "test ! -e {post_blocker}"]
        hook_timeout_seconds = 5
        "#,
        blocker = setup._directory.path().join("block-pre").display(),
        post_blocker = setup._directory.path().join("block-post").display(),
        marker = marker.display(),
    );
    let policies = policies(&text);
    setup.write("tank/home/alice", "a.txt", b"first");
    let first = setup.run(&policies, t(2026, 11, 26, 10, 0));
    assert_no_errors(&first);
    assert_eq!(first.policies[0].created.len(), 2);
    assert_eq!(
        std::fs::read_to_string(&marker).expect("marker"),
        "home wizfs-home-20261126T100000Z tank/home\n"
    );
    let unchanged = setup.run(&policies, t(2026, 11, 26, 11, 0));
    assert_eq!(unchanged.policies[0].skipped, Some(Skipped::Empty));
    assert!(unchanged.policies[0].created.is_empty());
    // A change in one dataset of the tree snapshots the whole tree.
    setup.write("tank/home/alice", "b.txt", b"second");
    let changed = setup.run(&policies, t(2026, 11, 26, 12, 0));
    assert_eq!(changed.policies[0].created.len(), 2, "{changed:#?}");
    // A failing pre-hook skips the run and says why.
    std::fs::write(setup._directory.path().join("block-pre"), b"").expect("blocker");
    setup.write("tank/home", "c.txt", b"third");
    let blocked = setup.run(&policies, t(2026, 11, 26, 13, 0));
    assert_eq!(blocked.policies[0].skipped, Some(Skipped::PreHookFailed));
    assert!(blocked.policies[0].created.is_empty());
    assert!(
        matches!(
            &blocked.policies[0].errors[..],
            [RunError::Hook {
                hook: "pre_hook",
                ..
            }]
        ),
        "{blocked:#?}"
    );
    // A failing post-hook is reported; the snapshot stays.
    std::fs::remove_file(setup._directory.path().join("block-pre")).expect("unblock");
    std::fs::write(setup._directory.path().join("block-post"), b"").expect("blocker");
    let post = setup.run(&policies, t(2026, 11, 26, 14, 0));
    assert_eq!(post.policies[0].created.len(), 2);
    assert!(
        matches!(
            &post.policies[0].errors[..],
            [RunError::Hook {
                hook: "post_hook",
                ..
            }]
        ),
        "{post:#?}"
    );
    assert_eq!(
        setup.short_names("tank/home"),
        [
            "wizfs-home-20261126T100000Z",
            "wizfs-home-20261126T120000Z",
            "wizfs-home-20261126T140000Z"
        ]
    );
}

#[test]
fn foreign_held_and_look_alike_snapshots_survive() {
    let mut setup = setup(1 << 30, &["tank/home"]);
    let policies = policies(
        "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = 2\ntimezone = \"UTC\"\n",
    );
    let dataset = name("tank/home");
    let managed = managed_property();
    let make = |setup: &Setup, short: &str, properties: &[(PropertyName, String)]| {
        setup
            .zfs
            .create_snapshots(&[dataset.snapshot(short).expect("name")], false, properties)
            .expect("snapshot");
    };
    setup
        .clock
        .store(t(2026, 11, 1, 0, 0).seconds(), Ordering::SeqCst);
    make(&setup, "manual", &[]);
    make(&setup, "wizfs-home-20261101T000000Z", &[]);
    make(&setup, "by-hand", &[(managed.clone(), "home".into())]);
    make(
        &setup,
        "wizfs-other-20261101T000000Z",
        &[(managed.clone(), "other".into())],
    );
    let first = setup.run(&policies, t(2026, 11, 26, 8, 0));
    assert_no_errors(&first);
    let held = first.policies[0].created[0].clone();
    setup
        .zfs
        .hold(&held, &HoldTag::new("backup").expect("tag"), false)
        .expect("hold");
    for hour in 9..20 {
        assert_no_errors(&setup.run(&policies, t(2026, 11, 26, hour, 0)));
    }
    let survivors = [
        "manual",
        "wizfs-home-20261101T000000Z",
        "by-hand",
        "wizfs-other-20261101T000000Z",
        "wizfs-home-20261126T080000Z",
        "wizfs-home-20261126T180000Z",
        "wizfs-home-20261126T190000Z",
    ];
    assert_eq!(setup.short_names("tank/home"), survivors);
    let plan = plan_now(
        setup.zfs.as_ref(),
        &policies,
        t(2026, 11, 26, 19, 30),
        false,
    );
    let verdict = |short: &str| {
        plan.plan
            .decision(&dataset.snapshot(short).expect("name"))
            .map(|decision| decision.verdict.clone())
    };
    assert_eq!(
        verdict("wizfs-home-20261126T080000Z"),
        Some(Verdict::Keep(vec![KeepReason::Held]))
    );
    for foreign in [
        "manual",
        "wizfs-home-20261101T000000Z",
        "by-hand",
        "wizfs-other-20261101T000000Z",
    ] {
        assert_eq!(
            verdict(foreign),
            Some(Verdict::Keep(vec![KeepReason::Foreign])),
            "{foreign}"
        );
    }
    // With the property on the dataset, every snapshot inherits it (the look-alike would now
    // pass for ours): the policy destroys nothing and says why.
    setup
        .zfs
        .set_property(&ZfsObjectName::Dataset(dataset.clone()), &managed, "home")
        .expect("set");
    for hour in 20..24 {
        let report = setup.run(&policies, t(2026, 11, 26, hour, 0));
        assert!(report.destroyed().next().is_none(), "{report:#?}");
        assert!(
            report
                .errors
                .iter()
                .any(|error| matches!(error, RunError::DatasetMarked { .. })),
            "{report:#?}"
        );
    }
    let names = setup.short_names("tank/home");
    assert!(
        names.contains(&"wizfs-home-20261101T000000Z".to_owned()),
        "{names:?}"
    );
    assert_eq!(names.len(), survivors.len() + 4);
}

#[test]
fn the_free_space_floor_prunes_the_oldest_first_and_stops_at_the_minimum() {
    const MIB: usize = 1 << 20;
    let mut setup = setup(20 << 20, &["tank/data"]);
    let text = |floor: u8| {
        format!(
            "[[policy]]\nid = \"data\"\ndataset = \"tank/data\"\nhourly = 100\nmin_keep = 3\n\
             free_space_floor_percent = {floor}\ntimezone = \"UTC\"\n"
        )
    };
    let policies_60 = policies(&text(60));
    let mut pruned: Vec<(i64, String)> = Vec::new();
    // Each hour a new 1 MiB file replaces the last: every older snapshot holds 1 MiB alone.
    for hour in 0..16 {
        let previous = format!("file-{}", hour - 1);
        let _ = std::fs::remove_file(setup.mountpoint("tank/data").join(previous));
        setup.write(
            "tank/data",
            &format!("file-{hour}"),
            &vec![u8::try_from(hour).expect("small"); MIB],
        );
        let report = setup.run(
            &policies_60,
            Timestamp(t(2026, 11, 26, 0, 0).seconds() + hour * 3600),
        );
        assert_no_errors(&report);
        for (snapshot, reason) in &report.policies[0].destroyed {
            assert!(
                matches!(
                    reason,
                    DestroyReason::FreeSpace {
                        floor_percent: 60,
                        ..
                    }
                ),
                "{reason:?}"
            );
            pruned.push((hour, snapshot.short_name().to_owned()));
        }
        let pool = &setup.zfs.list_pools().expect("pools")[0];
        assert!(
            floor_reached(pool.size, pool.free, 60),
            "hour {hour}: {} of {} free",
            pool.free,
            pool.size
        );
    }
    let pruned_names: Vec<&str> = pruned.iter().map(|(_, name)| name.as_str()).collect();
    let mut oldest_first = pruned_names.clone();
    oldest_first.sort();
    assert_eq!(pruned_names, oldest_first, "oldest first");
    assert!(!pruned.is_empty());
    let remaining = setup.short_names("tank/data");
    assert!(remaining.len() >= 3);
    assert!(
        pruned_names
            .iter()
            .all(|pruned| remaining.iter().all(|kept| pruned < &kept.as_str())),
        "everything pruned is older than everything kept"
    );
    // A floor that cannot be reached stops at the minimum count.
    let policies_95 = policies(&text(95));
    let report = setup.run(&policies_95, t(2026, 11, 26, 16, 30));
    assert_no_errors(&report);
    assert_eq!(setup.short_names("tank/data").len(), 3, "{report:#?}");
    assert_eq!(report.policies[0].kept, Some(3));
}

#[test]
fn a_clock_jumping_backwards_takes_one_snapshot_and_destroys_nothing_new() {
    let mut setup = setup(1 << 30, &["tank/home"]);
    let policies = policies(
        "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = 3\nmin_keep = 1\ntimezone = \"UTC\"\n",
    );
    for hour in 10..15 {
        assert_no_errors(&setup.run(&policies, t(2026, 11, 26, hour, 1)));
    }
    let mut created_after = Vec::new();
    for minute in (0..180).step_by(5) {
        let now = Timestamp(t(2026, 11, 26, 9, 3).seconds() + minute * 60);
        let report = setup.run(&policies, now);
        assert_no_errors(&report);
        created_after.extend(report.created().map(|name| name.short_name().to_owned()));
        for destroyed in report.destroyed() {
            assert!(
                !created_after
                    .iter()
                    .any(|made| made == destroyed.short_name()),
                "{destroyed} was made after the jump"
            );
        }
    }
    assert_eq!(
        created_after,
        [
            "wizfs-home-20261126T090300Z",
            "wizfs-home-20261126T100300Z",
            "wizfs-home-20261126T110300Z"
        ],
        "one per hour: no burst"
    );
    let remaining: BTreeSet<String> = setup.short_names("tank/home").into_iter().collect();
    for made in &created_after[1..] {
        assert!(remaining.contains(made), "{made}");
    }
    for future in [
        "wizfs-home-20261126T120100Z",
        "wizfs-home-20261126T130100Z",
        "wizfs-home-20261126T140100Z",
    ] {
        assert!(
            remaining.contains(future),
            "{future} is kept while dated after now"
        );
    }
}

#[test]
fn a_dry_run_plan_explains_and_estimates_without_destroying() {
    let mut setup = setup(1 << 30, &["tank/home"]);
    let policy_text = |hourly: u32| {
        format!(
            "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = {hourly}\ntimezone = \"UTC\"\n"
        )
    };
    let keep_three = policies(&policy_text(3));
    for hour in 0..3 {
        setup.write("tank/home", &format!("f{hour}"), &vec![b'x'; 4096]);
        let _ = std::fs::remove_file(setup.mountpoint("tank/home").join(format!("f{}", hour - 1)));
        assert_no_errors(&setup.run(&keep_three, t(2026, 11, 26, hour as u8, 0)));
    }
    // The policy now keeps only the newest hour.
    let policies = policies(&policy_text(1));
    let before = setup.short_names("tank/home");
    let plan = plan_now(setup.zfs.as_ref(), &policies, t(2026, 11, 26, 5, 0), true);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(setup.short_names("tank/home"), before, "nothing destroyed");
    let destroyed: Vec<&str> = plan
        .plan
        .destroyed()
        .map(|decision| decision.snapshot.short_name())
        .collect();
    assert_eq!(
        destroyed,
        ["wizfs-home-20261126T000000Z", "wizfs-home-20261126T010000Z"]
    );
    for short in &destroyed {
        let snapshot = name("tank/home").snapshot(short).expect("name");
        assert_eq!(
            plan.reclaimable.get(&snapshot),
            Some(&4096),
            "{short} alone holds 4 KiB"
        );
    }
    assert_eq!(
        plan.reclaimable_by_dataset.get(&name("tank/home")),
        Some(&8192)
    );
    assert_eq!(
        plan.due,
        [(
            PolicyId::new("home").expect("id"),
            Some(Due {
                at: t(2026, 11, 26, 5, 0),
                reason: rotation::DueReason::AfterDowntime
            })
        )]
    );
    let prune = run(
        setup.zfs.as_ref(),
        &policies,
        t(2026, 11, 26, 5, 0),
        &mut RunMemory::default(),
        RunMode::Prune { only: None },
    );
    assert!(prune.created().next().is_none());
    assert_eq!(
        prune
            .destroyed()
            .map(|name| name.short_name())
            .collect::<Vec<_>>(),
        destroyed
    );
    assert_eq!(
        prune.touched_datasets().into_iter().collect::<Vec<_>>(),
        [name("tank/home")]
    );
}

#[test]
fn a_minute_seen_twice_is_taken_once() {
    let mut setup = setup(1 << 30, &["tank/home"]);
    let policies = policies(
        "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = 5\ntimezone = \"UTC\"\n",
    );
    assert_no_errors(&setup.run(&policies, t(2026, 11, 26, 10, 0)));
    let behind = setup.run(&policies, t(2026, 11, 26, 9, 59));
    assert_eq!(
        behind.policies[0].due.map(|due| due.reason),
        Some(rotation::DueReason::ClockBehindNewest)
    );
    assert_eq!(behind.policies[0].created.len(), 1);
    let again = setup.run(&policies, Timestamp(t(2026, 11, 26, 10, 0).seconds() + 30));
    assert_eq!(
        again.policies[0].skipped,
        Some(Skipped::AlreadyTaken("wizfs-home-20261126T100000Z".into()))
    );
    assert_no_errors(&again);
    assert_eq!(
        setup.short_names("tank/home"),
        ["wizfs-home-20261126T100000Z", "wizfs-home-20261126T095900Z"]
    );
}
