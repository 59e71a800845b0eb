//! Table tests of the backup planner and its safety rules: each case gives the source's
//! snapshots and bookmarks, the target's state and the job's options, and the expected plan
//! of every dataset written as one line (`describe`), so a case reads like the plan a user
//! would see. Cases: first run, nothing new, incremental, pruned bases (a bookmark, none,
//! a new full beside the stale one and its next run), renamed snapshots and datasets (guids,
//! not names), clones (with and without their origin on the target), diverged targets
//! (newer snapshots, changes, the roll-back chosen), targets that are not this job's, resume
//! tokens, a child added later, excluded children, file targets' manifests; then several
//! targets at different points and what they protect on the source (shared with rotation),
//! holds to place and release, and target retention.

use super::*;
use crate::model::Hold;
use crate::rotation::{
    KeepReason, RetentionPolicy, RotationCandidate, Tier, UtcCalendar, plan_rotation,
};

const HOUR: i64 = 3600;
/// 2026-12-07T05:00:00Z.
const NOW: Timestamp = Timestamp(1_796_619_600);

fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).expect("dataset")
}

fn job_id(id: &str) -> BackupJobId {
    BackupJobId::new(id).expect("job id")
}

/// A source snapshot `short` of `dataset`, its time `createtxg` hours before now.
fn snapshot(dataset_name: &str, short: &str, guid: u64, createtxg: u64) -> Snapshot {
    Snapshot {
        name: dataset(dataset_name).snapshot(short).expect("snapshot"),
        guid,
        createtxg,
        creation: Timestamp(NOW.0 - 1000 * HOUR + i64::try_from(createtxg).expect("small") * HOUR),
        used: 0,
        referenced: 0,
        written: 0,
        user_refs: 0,
    }
}

/// A source dataset with snapshots and bookmarks given as `(short name, guid, createtxg)`.
fn source(
    name: &str,
    snapshots: &[(&str, u64, u64)],
    bookmarks: &[(&str, u64, u64)],
) -> SourceDataset {
    SourceDataset {
        name: dataset(name),
        origin: None,
        snapshots: snapshots
            .iter()
            .map(|&(short, guid, createtxg)| snapshot(name, short, guid, createtxg))
            .collect(),
        bookmarks: bookmarks
            .iter()
            .map(|&(short, guid, createtxg)| Bookmark {
                name: dataset(name).bookmark(short).expect("bookmark"),
                guid,
                createtxg,
                creation: Timestamp(NOW.0 - 1000 * HOUR),
            })
            .collect(),
    }
}

/// `tank/home` with `s1`…`s4` (guids 101…104, createtxg 10…40).
fn home() -> SourceDataset {
    source(
        "tank/home",
        &[
            ("s1", 101, 10),
            ("s2", 102, 20),
            ("s3", 103, 30),
            ("s4", 104, 40),
        ],
        &[],
    )
}

/// A target dataset of job `owner` with snapshots `(short name, guid)`, received in that
/// order; those whose guid is below 900 were sent by `owner`.
fn target(name: &str, owner: Option<&str>, snapshots: &[(&str, u64)]) -> TargetDataset {
    TargetDataset {
        name: dataset(name),
        job: owner.map(job_id),
        resume_token: None,
        modified: false,
        snapshots: snapshots
            .iter()
            .enumerate()
            .map(|(index, &(short, guid))| {
                let createtxg = 500 + u64::try_from(index).expect("small");
                TargetSnapshot {
                    name: dataset(name).snapshot(short).expect("snapshot"),
                    guid,
                    createtxg,
                    creation: Timestamp(
                        NOW.0 - 100 * HOUR + i64::try_from(createtxg).expect("small"),
                    ),
                    held: false,
                    sent_by: owner.filter(|_| guid < 900).map(job_id),
                }
            })
            .collect(),
    }
}

fn scope(root: &str, exclude: &[&str]) -> PolicyScope {
    PolicyScope {
        dataset: dataset(root),
        recursive: true,
        exclude: exclude.iter().map(|name| dataset(name)).collect(),
    }
}

/// Job `nightly` backing up `tank/home` (recursively) to a local pool under `backup`.
fn job(options: BackupOptions) -> BackupJob {
    BackupJob {
        id: job_id("nightly"),
        sources: vec![scope("tank/home", &[])],
        target: TargetKind::LocalPool {
            root: dataset("backup"),
        },
        retention: None,
        options,
    }
}

fn files_job(options: BackupOptions) -> BackupJob {
    BackupJob {
        target: TargetKind::Files {
            directory: "/mnt/usb/wizfs".into(),
            volume_bytes: Some(4_700_000_000),
        },
        ..job(options)
    }
}

fn short(name: &SnapshotName) -> &str {
    name.short_name()
}

fn shorts(names: &[SnapshotName]) -> String {
    names.iter().map(short).collect::<Vec<_>>().join(",")
}

/// One line per dataset plan: `source -> target: action`.
fn describe(plan: &BackupPlan) -> Vec<String> {
    plan.datasets
        .iter()
        .map(|dataset_plan| {
            let mut line = format!("{} -> {}: ", dataset_plan.source, dataset_plan.target);
            if let Some(from) = &dataset_plan.rename_from {
                line.push_str(&format!("rename from {from}; "));
            }
            if let Some(roll_back) = &dataset_plan.roll_back {
                line.push_str(&format!(
                    "roll back [{}]{}; ",
                    shorts(&roll_back.destroys),
                    if roll_back.discards_changes {
                        " and changes"
                    } else {
                        ""
                    }
                ));
            }
            if dataset_plan.new_chain {
                line.push_str("new chain; ");
            }
            line.push_str(&match &dataset_plan.action {
                Action::FullSend {
                    first,
                    to,
                    intermediates,
                } => format!(
                    "full {}..{} [{}]",
                    short(first),
                    short(to),
                    shorts(intermediates)
                ),
                Action::Incremental {
                    from,
                    to,
                    intermediates,
                } => {
                    let from = match from {
                        SendBase::Snapshot(name) => format!("@{}", name.short_name()),
                        SendBase::Bookmark(name) => format!("#{}", name.short_name()),
                        SendBase::CloneOrigin(name) => format!("origin {name}"),
                    };
                    format!(
                        "incremental {from}..{} [{}]",
                        short(to),
                        shorts(intermediates)
                    )
                }
                Action::Resume { token } => format!("resume {token}"),
                Action::NothingToDo(Idle::UpToDate { snapshot }) => {
                    format!("up to date at {}", short(snapshot))
                }
                Action::NothingToDo(Idle::NoSourceSnapshot) => "no snapshot yet".to_owned(),
                Action::Refused(Refusal::Diverged {
                    common,
                    newer_on_target,
                    modified,
                    ..
                }) => format!(
                    "refused: diverged after {} [{}]{}",
                    short(common),
                    shorts(newer_on_target),
                    if *modified { " modified" } else { "" }
                ),
                Action::Refused(Refusal::NoCommonBase { target_newest, .. }) => format!(
                    "refused: no common base (target newest {})",
                    target_newest.as_ref().map_or("none", short)
                ),
                Action::Refused(Refusal::NotThisJob { owner, .. }) => format!(
                    "refused: not this job's (owner {})",
                    owner.as_ref().map_or("none", BackupJobId::as_str)
                ),
                Action::Refused(Refusal::BrokenChain { position, .. }) => {
                    format!("refused: broken chain at {position}")
                }
                Action::Refused(Refusal::TargetNameTooLong { .. }) => {
                    "refused: name too long".to_owned()
                }
            });
            line
        })
        .collect()
}

struct Case {
    name: &'static str,
    options: BackupOptions,
    sources: Vec<SourceDataset>,
    target: TargetState,
    expected: Vec<&'static str>,
}

fn roll_back() -> BackupOptions {
    BackupOptions {
        roll_back_target: true,
        ..BackupOptions::default()
    }
}

fn full_into_new() -> BackupOptions {
    BackupOptions {
        missing_base: MissingBase::FullIntoNewDataset,
        ..BackupOptions::default()
    }
}

fn clone_of(mut dataset_source: SourceDataset, origin: &str) -> SourceDataset {
    dataset_source.origin = Some(SnapshotName::new(origin).expect("origin"));
    dataset_source
}

fn with_token(mut dataset_target: TargetDataset, token: &str) -> TargetDataset {
    dataset_target.resume_token = Some(token.to_owned());
    dataset_target
}

fn modified(mut dataset_target: TargetDataset) -> TargetDataset {
    dataset_target.modified = true;
    dataset_target
}

fn pool(datasets: Vec<TargetDataset>) -> TargetState {
    TargetState::Pool(datasets)
}

fn pool_cases() -> Vec<Case> {
    let mine = Some("nightly");
    let at_s2 = || target("backup/tank/home", mine, &[("s1", 101), ("s2", 102)]);
    vec![
        Case {
            name: "first run: full of the oldest, then the history up to the newest",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![]),
            expected: vec!["tank/home -> backup/tank/home: full s1..s4 [s2,s3]"],
        },
        Case {
            name: "one snapshot only: a full of it",
            options: BackupOptions::default(),
            sources: vec![source("tank/home", &[("only", 1, 5)], &[])],
            target: pool(vec![]),
            expected: vec!["tank/home -> backup/tank/home: full only..only []"],
        },
        Case {
            name: "no snapshot on the source yet",
            options: BackupOptions::default(),
            sources: vec![source("tank/home", &[], &[])],
            target: pool(vec![]),
            expected: vec!["tank/home -> backup/tank/home: no snapshot yet"],
        },
        Case {
            name: "nothing new to send",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("s2", 102), ("s3", 103), ("s4", 104)],
            )]),
            expected: vec!["tank/home -> backup/tank/home: up to date at s4"],
        },
        Case {
            name: "incremental from the newest common snapshot, intermediates included",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![at_s2()]),
            expected: vec!["tank/home -> backup/tank/home: incremental @s2..s4 [s3]"],
        },
        Case {
            name: "intermediates follow createtxg, not names",
            options: BackupOptions::default(),
            sources: vec![source(
                "tank/home",
                &[
                    ("z-first", 101, 10),
                    ("b", 102, 20),
                    ("a", 103, 30),
                    ("m", 104, 40),
                ],
                &[],
            )],
            target: pool(vec![target("backup/tank/home", mine, &[("z-first", 101)])]),
            expected: vec!["tank/home -> backup/tank/home: incremental @z-first..m [b,a]"],
        },
        Case {
            name: "pruned base: the bookmark of it serves",
            options: BackupOptions::default(),
            sources: vec![source(
                "tank/home",
                &[("s3", 103, 30), ("s4", 104, 40)],
                &[("s1", 101, 10), ("s2", 102, 20)],
            )],
            target: pool(vec![at_s2()]),
            expected: vec!["tank/home -> backup/tank/home: incremental #s2..s4 [s3]"],
        },
        Case {
            name: "pruned base, only an older bookmark: the target diverged after it",
            options: BackupOptions::default(),
            sources: vec![source("tank/home", &[("s3", 103, 30)], &[("s1", 101, 10)])],
            target: pool(vec![at_s2()]),
            expected: vec!["tank/home -> backup/tank/home: refused: diverged after s1 [s2]"],
        },
        Case {
            name: "pruned base, no bookmark: refused",
            options: BackupOptions::default(),
            sources: vec![source(
                "tank/home",
                &[("s3", 103, 30), ("s4", 104, 40)],
                &[],
            )],
            target: pool(vec![at_s2()]),
            expected: vec![
                "tank/home -> backup/tank/home: refused: no common base (target newest s2)",
            ],
        },
        Case {
            name: "pruned base, no bookmark, the option chosen: a full into a new dataset",
            options: full_into_new(),
            sources: vec![source(
                "tank/home",
                &[("s3", 103, 30), ("s4", 104, 40)],
                &[],
            )],
            target: pool(vec![at_s2()]),
            expected: vec!["tank/home -> backup/tank/home-full-20261207T050000Z: full s3..s4 []"],
        },
        Case {
            name: "the run after a new full: the new dataset is found by guid, the stale one left",
            options: full_into_new(),
            sources: vec![source(
                "tank/home",
                &[("s3", 103, 30), ("s4", 104, 40), ("s5", 105, 50)],
                &[],
            )],
            target: pool(vec![
                at_s2(),
                target(
                    "backup/tank/home-full-20261207T050000Z",
                    mine,
                    &[("s3", 103), ("s4", 104)],
                ),
            ]),
            expected: vec![
                "tank/home -> backup/tank/home-full-20261207T050000Z: incremental @s4..s5 []",
            ],
        },
        Case {
            name: "snapshot renamed on the source: matched by guid",
            options: BackupOptions::default(),
            sources: vec![source(
                "tank/home",
                &[("s1", 101, 10), ("renamed", 102, 20), ("s3", 103, 30)],
                &[],
            )],
            target: pool(vec![at_s2()]),
            expected: vec!["tank/home -> backup/tank/home: incremental @renamed..s3 []"],
        },
        Case {
            name: "snapshot renamed on the target: matched by guid",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("kept-forever", 102)],
            )]),
            expected: vec!["tank/home -> backup/tank/home: incremental @s2..s4 [s3]"],
        },
        Case {
            name: "dataset renamed on the source: its target found by guid and renamed, children move along",
            options: BackupOptions::default(),
            sources: vec![
                source("tank/home", &[("s1", 101, 10), ("s2", 102, 20)], &[]),
                source("tank/home/alice", &[("a1", 201, 11), ("a2", 202, 21)], &[]),
            ],
            target: pool(vec![
                target("backup/tank/house", mine, &[("s1", 101)]),
                target("backup/tank/house/alice", mine, &[("a1", 201)]),
            ]),
            expected: vec![
                "tank/home -> backup/tank/home: rename from backup/tank/house; incremental @s1..s2 []",
                "tank/home/alice -> backup/tank/home/alice: incremental @a1..a2 []",
            ],
        },
        Case {
            name: "a name match of another job is not taken, nor a foreign dataset sharing guids",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![
                target("backup/tank/home", Some("weekly"), &[("s1", 101)]),
                target("backup/tank/elsewhere", None, &[("s1", 101)]),
            ]),
            expected: vec!["tank/home -> backup/tank/home: refused: not this job's (owner weekly)"],
        },
        Case {
            name: "target without this job's mark: refused",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![target("backup/tank/home", None, &[("s1", 101)])]),
            expected: vec!["tank/home -> backup/tank/home: refused: not this job's (owner none)"],
        },
        Case {
            name: "diverged: a snapshot the source never had, newer than the common one",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("s2", 102), ("made-on-target", 901)],
            )]),
            expected: vec![
                "tank/home -> backup/tank/home: refused: diverged after s2 [made-on-target]",
            ],
        },
        Case {
            name: "diverged: changed since its newest snapshot",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![modified(at_s2())]),
            expected: vec!["tank/home -> backup/tank/home: refused: diverged after s2 [] modified"],
        },
        Case {
            name: "diverged, 'roll back the target' chosen: incremental with the roll-back named",
            options: roll_back(),
            sources: vec![home()],
            target: pool(vec![modified(target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("s2", 102), ("made-on-target", 901)],
            ))]),
            expected: vec![
                "tank/home -> backup/tank/home: roll back [made-on-target] and changes; incremental @s2..s4 [s3]",
            ],
        },
        Case {
            name: "an older snapshot the source never had does not block",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("local", 902), ("s2", 102)],
            )]),
            expected: vec!["tank/home -> backup/tank/home: incremental @s2..s4 [s3]"],
        },
        Case {
            name: "diverged but nothing new to send: no refusal yet",
            options: BackupOptions::default(),
            sources: vec![source(
                "tank/home",
                &[("s1", 101, 10), ("s2", 102, 20)],
                &[],
            )],
            target: pool(vec![target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("s2", 102), ("made-on-target", 901)],
            )]),
            expected: vec!["tank/home -> backup/tank/home: up to date at s2"],
        },
        Case {
            name: "target with no snapshot in common and none of its own: refused, or rolled back",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![target("backup/tank/home", mine, &[])]),
            expected: vec![
                "tank/home -> backup/tank/home: refused: no common base (target newest none)",
            ],
        },
        Case {
            name: "empty target dataset of this job with the roll-back chosen: a forced full",
            options: roll_back(),
            sources: vec![home()],
            target: pool(vec![target("backup/tank/home", mine, &[])]),
            expected: vec!["tank/home -> backup/tank/home: roll back []; full s1..s4 [s2,s3]"],
        },
        Case {
            name: "resume token present: resume first",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![with_token(at_s2(), "1-abc-def")]),
            expected: vec!["tank/home -> backup/tank/home: resume 1-abc-def"],
        },
        Case {
            name: "resume token on an interrupted first full",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![with_token(
                target("backup/tank/home", mine, &[]),
                "1-full",
            )]),
            expected: vec!["tank/home -> backup/tank/home: resume 1-full"],
        },
        Case {
            name: "resume token on another job's dataset: refused",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: pool(vec![with_token(
                target("backup/tank/home", Some("weekly"), &[]),
                "1-x",
            )]),
            expected: vec!["tank/home -> backup/tank/home: refused: not this job's (owner weekly)"],
        },
        Case {
            name: "a child added later gets a full while its siblings continue",
            options: BackupOptions::default(),
            sources: vec![
                home(),
                source("tank/home/alice", &[("s3", 303, 30), ("s4", 304, 40)], &[]),
                source("tank/home/bob", &[("s4", 404, 40)], &[]),
            ],
            target: pool(vec![
                at_s2(),
                target("backup/tank/home/alice", mine, &[("s3", 303)]),
            ]),
            expected: vec![
                "tank/home -> backup/tank/home: incremental @s2..s4 [s3]",
                "tank/home/alice -> backup/tank/home/alice: incremental @s3..s4 []",
                "tank/home/bob -> backup/tank/home/bob: full s4..s4 []",
            ],
        },
        Case {
            name: "datasets outside the job are ignored",
            options: BackupOptions::default(),
            sources: vec![
                source("tank/homework", &[("x", 1, 1)], &[]),
                home(),
                source("tank", &[("x", 2, 1)], &[]),
            ],
            target: pool(vec![]),
            expected: vec!["tank/home -> backup/tank/home: full s1..s4 [s2,s3]"],
        },
        Case {
            name: "clone whose origin the target has: incremental from the origin",
            options: BackupOptions::default(),
            sources: vec![
                home(),
                clone_of(
                    source("tank/home/copy", &[("c1", 501, 45), ("c2", 502, 50)], &[]),
                    "tank/home@s2",
                ),
            ],
            target: pool(vec![target(
                "backup/tank/home",
                mine,
                &[("s1", 101), ("s2", 102), ("s3", 103), ("s4", 104)],
            )]),
            expected: vec![
                "tank/home -> backup/tank/home: up to date at s4",
                "tank/home/copy -> backup/tank/home/copy: incremental origin tank/home@s2..c2 [c1]",
            ],
        },
        Case {
            name: "clone whose origin arrives this run, the origin listed after the clone",
            options: BackupOptions::default(),
            sources: vec![
                clone_of(
                    source("tank/home/a-copy", &[("c1", 501, 45)], &[]),
                    "tank/home/z@z1",
                ),
                home(),
                source("tank/home/z", &[("z1", 601, 12)], &[]),
            ],
            target: pool(vec![]),
            expected: vec![
                "tank/home -> backup/tank/home: full s1..s4 [s2,s3]",
                "tank/home/z -> backup/tank/home/z: full z1..z1 []",
                "tank/home/a-copy -> backup/tank/home/a-copy: incremental origin tank/home/z@z1..c1 []",
            ],
        },
        Case {
            name: "clone whose origin is not backed up: a full",
            options: BackupOptions::default(),
            sources: vec![
                home(),
                clone_of(
                    source("tank/home/copy", &[("c1", 501, 45)], &[]),
                    "tank/templates@base",
                ),
            ],
            target: pool(vec![]),
            expected: vec![
                "tank/home -> backup/tank/home: full s1..s4 [s2,s3]",
                "tank/home/copy -> backup/tank/home/copy: full c1..c1 []",
            ],
        },
    ]
}

#[test]
fn pool_targets_are_planned_from_guids() {
    for case in pool_cases() {
        let plan = plan_backup(&job(case.options), &case.sources, &case.target, NOW);
        assert_eq!(describe(&plan), case.expected, "{}", case.name);
    }
}

#[test]
fn excluded_children_are_left_out_even_when_the_target_still_has_them() {
    let mut backup_job = job(BackupOptions::default());
    backup_job.sources = vec![scope("tank/home", &["tank/home/cache"])];
    let sources = vec![
        home(),
        source("tank/home/cache", &[("k1", 701, 15)], &[]),
        source("tank/home/cache/deep", &[("d1", 801, 16)], &[]),
        source("tank/home/docs", &[("d1", 901, 17)], &[]),
    ];
    let target_state = pool(vec![
        target("backup/tank/home", Some("nightly"), &[("s4", 104)]),
        target("backup/tank/home/cache", Some("nightly"), &[("k0", 700)]),
    ]);
    let plan = plan_backup(&backup_job, &sources, &target_state, NOW);
    assert_eq!(
        describe(&plan),
        vec![
            "tank/home -> backup/tank/home: up to date at s4",
            "tank/home/docs -> backup/tank/home/docs: full d1..d1 []",
        ]
    );
}

fn link(from: Option<u64>, to: &str, to_guid: u64) -> ChainLink {
    ChainLink {
        from_guid: from,
        to: SnapshotName::new(to).expect("snapshot"),
        to_guid,
    }
}

fn manifest(dataset_name: &str, owner: Option<&str>, chain: Vec<ChainLink>) -> Manifest {
    Manifest {
        dataset: dataset(dataset_name),
        job: owner.map(job_id),
        chain,
    }
}

#[test]
fn file_targets_are_planned_from_their_manifests() {
    let mine = Some("nightly");
    let chain_to_s2 = || {
        vec![
            link(None, "tank/home@s1", 101),
            link(Some(101), "tank/home@s2", 102),
        ]
    };
    let cases = vec![
        Case {
            name: "no manifest: a full",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: TargetState::Files(vec![]),
            expected: vec!["tank/home -> tank/home: full s1..s4 [s2,s3]"],
        },
        Case {
            name: "chain to s2: incremental",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: TargetState::Files(vec![manifest("tank/home", mine, chain_to_s2())]),
            expected: vec!["tank/home -> tank/home: incremental @s2..s4 [s3]"],
        },
        Case {
            name: "chain complete: nothing to do",
            options: BackupOptions::default(),
            sources: vec![source(
                "tank/home",
                &[("s1", 101, 10), ("s2", 102, 20)],
                &[],
            )],
            target: TargetState::Files(vec![manifest("tank/home", mine, chain_to_s2())]),
            expected: vec!["tank/home -> tank/home: up to date at s2"],
        },
        Case {
            name: "base pruned, bookmark left",
            options: BackupOptions::default(),
            sources: vec![source("tank/home", &[("s3", 103, 30)], &[("s2", 102, 20)])],
            target: TargetState::Files(vec![manifest("tank/home", mine, chain_to_s2())]),
            expected: vec!["tank/home -> tank/home: incremental #s2..s3 []"],
        },
        Case {
            name: "base pruned, nothing left: refused",
            options: BackupOptions::default(),
            sources: vec![source("tank/home", &[("s3", 103, 30)], &[])],
            target: TargetState::Files(vec![manifest("tank/home", mine, chain_to_s2())]),
            expected: vec!["tank/home -> tank/home: refused: no common base (target newest s2)"],
        },
        Case {
            name: "base pruned, the option chosen: a new chain",
            options: full_into_new(),
            sources: vec![source("tank/home", &[("s3", 103, 30)], &[])],
            target: TargetState::Files(vec![manifest("tank/home", mine, chain_to_s2())]),
            expected: vec!["tank/home -> tank/home: new chain; full s3..s3 []"],
        },
        Case {
            name: "a gap in the chain: refused",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: TargetState::Files(vec![manifest(
                "tank/home",
                mine,
                vec![
                    link(None, "tank/home@s1", 101),
                    link(Some(102), "tank/home@s3", 103),
                ],
            )]),
            expected: vec!["tank/home -> tank/home: refused: broken chain at 1"],
        },
        Case {
            name: "another job's manifest: refused",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: TargetState::Files(vec![manifest("tank/home", Some("weekly"), chain_to_s2())]),
            expected: vec!["tank/home -> tank/home: refused: not this job's (owner weekly)"],
        },
        Case {
            name: "source renamed: its old manifest continued, found by guid",
            options: BackupOptions::default(),
            sources: vec![home()],
            target: TargetState::Files(vec![manifest(
                "tank/house",
                mine,
                vec![
                    link(None, "tank/house@s1", 101),
                    link(Some(101), "tank/house@s2", 102),
                ],
            )]),
            expected: vec!["tank/home -> tank/house: incremental @s2..s4 [s3]"],
        },
    ];
    for case in cases {
        let plan = plan_backup(&files_job(case.options), &case.sources, &case.target, NOW);
        assert_eq!(describe(&plan), case.expected, "{}", case.name);
    }
}

#[test]
fn refusals_say_what_happened_and_what_to_do() {
    let plan = plan_backup(
        &job(BackupOptions::default()),
        &[home()],
        &pool(vec![target(
            "backup/tank/home",
            Some("nightly"),
            &[("s1", 101), ("s2", 102), ("x", 901)],
        )]),
        NOW,
    );
    let refusal = plan.datasets[0].refusal().expect("refused");
    assert_eq!(
        refusal.to_string(),
        "target `backup/tank/home` has diverged from the source after `backup/tank/home@s2`: \
         it has newer snapshots (`backup/tank/home@x`)"
    );
    assert_eq!(
        refusal.remedies(),
        vec![Remedy::RollBackTarget, Remedy::FullIntoNewDataset]
    );
    assert!(
        Remedy::RollBackTarget
            .to_string()
            .starts_with("choose 'roll back the target' for this target")
    );
    let cases: Vec<(Refusal, &str, Vec<Remedy>)> = vec![
        (
            Refusal::NoCommonBase {
                target: dataset("backup/tank/home"),
                target_newest: Some(SnapshotName::new("backup/tank/home@s2").expect("name")),
            },
            "target `backup/tank/home` shares no snapshot with the source any more (its newest \
             is `backup/tank/home@s2`); an incremental backup is impossible",
            vec![Remedy::FullIntoNewDataset],
        ),
        (
            Refusal::NotThisJob {
                target: dataset("backup/tank/home"),
                owner: Some(job_id("weekly")),
            },
            "target `backup/tank/home` is not this job's: it belongs to backup job `weekly`",
            vec![Remedy::ChooseAnotherTarget],
        ),
        (
            Refusal::NotThisJob {
                target: dataset("backup/tank/home"),
                owner: None,
            },
            "target `backup/tank/home` is not this job's: it carries no backup job's mark",
            vec![Remedy::ChooseAnotherTarget],
        ),
        (
            Refusal::Diverged {
                target: dataset("backup/tank/home"),
                common: SnapshotName::new("backup/tank/home@s2").expect("name"),
                newer_on_target: vec![],
                modified: true,
            },
            "target `backup/tank/home` has diverged from the source after \
             `backup/tank/home@s2`: it was changed since its newest snapshot",
            vec![Remedy::RollBackTarget, Remedy::FullIntoNewDataset],
        ),
        (
            Refusal::BrokenChain {
                dataset: dataset("tank/home"),
                position: 3,
            },
            "the backup chain of `tank/home` is broken at stream 3",
            vec![Remedy::RepairManifest, Remedy::FullIntoNewDataset],
        ),
    ];
    for (refusal, message, remedies) in cases {
        assert_eq!(refusal.to_string(), message);
        assert_eq!(refusal.remedies(), remedies, "{message}");
    }
}

#[test]
fn job_ids_are_validated() {
    for good in ["nightly", "a", "usb_1.weekly-x", &"j".repeat(64)] {
        assert_eq!(
            BackupJobId::new(good).map(|id| id.to_string()),
            Ok(good.to_owned())
        );
    }
    let cases: Vec<(String, BackupJobIdError)> = vec![
        (String::new(), BackupJobIdError::Empty),
        (
            "j".repeat(65),
            BackupJobIdError::TooLong {
                id: "j".repeat(65),
                length: 65,
            },
        ),
        (
            ".hidden".into(),
            BackupJobIdError::InvalidCharacter {
                id: ".hidden".into(),
                character: '.',
                position: 0,
            },
        ),
        (
            "a/b".into(),
            BackupJobIdError::InvalidCharacter {
                id: "a/b".into(),
                character: '/',
                position: 1,
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(BackupJobId::new(&text), Err(expected), "{text:?}");
    }
}

/// Three targets of the same source at different points: one behind (at s2), one up to
/// date (s4), one diverged after s1. The source must keep s1 (the diverged one's base), s2
/// (the base of the run in progress) and s4 (where the runs end); s3 may go.
#[test]
fn several_targets_at_different_points_protect_their_bases_and_rotation_keeps_them() {
    let sources = vec![home()];
    let mine = Some("nightly");
    let behind = plan_backup(
        &job(BackupOptions::default()),
        &sources,
        &pool(vec![target(
            "backup/tank/home",
            mine,
            &[("s1", 101), ("s2", 102)],
        )]),
        NOW,
    );
    let current = plan_backup(
        &job(BackupOptions::default()),
        &sources,
        &pool(vec![target(
            "backup/tank/home",
            mine,
            &[("s1", 101), ("s2", 102), ("s3", 103), ("s4", 104)],
        )]),
        NOW,
    );
    let diverged = plan_backup(
        &job(BackupOptions::default()),
        &sources,
        &pool(vec![target(
            "backup/tank/home",
            mine,
            &[("s1", 101), ("x", 901)],
        )]),
        NOW,
    );
    assert_eq!(
        [&behind, &current, &diverged].map(|plan| describe(plan)[0].clone()),
        [
            "tank/home -> backup/tank/home: incremental @s2..s4 [s3]",
            "tank/home -> backup/tank/home: up to date at s4",
            "tank/home -> backup/tank/home: refused: diverged after s1 [x]",
        ]
    );
    let protected = protected_source_snapshots(&[&behind, &current, &diverged], &sources);
    let names: Vec<(&str, u64)> = protected
        .iter()
        .map(|snapshot| (snapshot.name.short_name(), snapshot.guid))
        .collect();
    assert_eq!(names, vec![("s1", 101), ("s2", 102), ("s4", 104)]);
    assert!(protected.protects_guid(102) && !protected.protects_guid(103));

    // The rotation that would destroy every one of them keeps the protected ones as held.
    let policy_id = crate::rotation::PolicyId::new("hourly").expect("policy");
    let mut candidates: Vec<RotationCandidate> = sources[0]
        .snapshots
        .iter()
        .map(|snapshot| RotationCandidate::from_snapshot(snapshot, Some(policy_id.clone())))
        .collect();
    protected.mark_held(&mut candidates);
    let policy = RetentionPolicy {
        id: policy_id,
        scope: scope("tank", &[]),
        tiers: vec![],
        min_keep: 0,
        skip_empty: false,
        free_space_floor_percent: None,
    };
    let rotation = plan_rotation(&candidates, &policy, NOW, &UtcCalendar);
    let destroyed: Vec<&str> = rotation
        .destroyed()
        .map(|decision| decision.snapshot.short_name())
        .collect();
    assert_eq!(destroyed, vec!["s3"]);
    let s2 = SnapshotName::new("tank/home@s2").expect("name");
    assert_eq!(
        rotation.decision(&s2).map(|decision| &decision.verdict),
        Some(&crate::rotation::Verdict::Keep(vec![KeepReason::Held]))
    );
}

#[test]
fn bookmarks_and_not_this_job_protect_nothing() {
    let sources = vec![source("tank/home", &[("s3", 103, 30)], &[("s2", 102, 20)])];
    let from_bookmark = plan_backup(
        &job(BackupOptions::default()),
        &sources,
        &pool(vec![target(
            "backup/tank/home",
            Some("nightly"),
            &[("s2", 102)],
        )]),
        NOW,
    );
    let foreign = plan_backup(
        &job(BackupOptions::default()),
        &sources,
        &pool(vec![target("backup/tank/home", None, &[("s3", 103)])]),
        NOW,
    );
    let protected = protected_source_snapshots(&[&from_bookmark, &foreign], &sources);
    let names: Vec<&str> = protected
        .iter()
        .map(|snapshot| snapshot.name.short_name())
        .collect();
    assert_eq!(names, vec!["s3"], "only where the incremental ends");
}

#[test]
fn holds_are_placed_on_needed_bases_and_released_from_the_rest() {
    let sources = vec![home()];
    let plan = plan_backup(
        &job(BackupOptions::default()),
        &sources,
        &pool(vec![target(
            "backup/tank/home",
            Some("nightly"),
            &[("s1", 101), ("s2", 102)],
        )]),
        NOW,
    );
    let protected = protected_source_snapshots(&[&plan], &sources);
    let hold = |name: &str, tag: &str| Hold {
        snapshot: SnapshotName::new(name).expect("name"),
        tag: tag.to_owned(),
        created: NOW,
    };
    let current = vec![
        hold("tank/home@s1", "wizfs-backup-nightly"),
        hold("tank/home@s2", "wizfs-backup-nightly"),
        hold("tank/home@s3", "keep-me"),
    ];
    let changes = hold_changes(&protected, &current, "wizfs-backup-nightly");
    let short_names = |names: &[SnapshotName]| {
        names
            .iter()
            .map(short)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(short_names(&changes.place), vec!["s4"]);
    assert_eq!(short_names(&changes.release), vec!["s1"]);
}

/// Daily retention keeping 1 over a target where s4 is newer than the newest common base
/// (the source lost it): s4 is kept by the tier, s3 — which the tier would let go — stays
/// as the base, s1 and s2 go; a snapshot this job did not send and a held one stay.
#[test]
fn target_retention_destroys_only_what_this_job_sent_and_never_the_base() {
    let mut backup_job = job(BackupOptions::default());
    backup_job.retention = Some(TargetRetention {
        tiers: vec![TierRule {
            tier: Tier::Daily,
            keep: 1,
        }],
        min_keep: 0,
    });
    let source_home = source(
        "tank/home",
        &[("s1", 101, 10), ("s2", 102, 20), ("s3", 103, 30)],
        &[],
    );
    let mut target_home = target(
        "backup/tank/home",
        Some("nightly"),
        &[
            ("s1", 101),
            ("local", 901),
            ("held", 105),
            ("s2", 102),
            ("s3", 103),
            ("s4", 104),
        ],
    );
    target_home.snapshots[2].held = true;
    let retention =
        plan_target_retention(&backup_job, &target_home, &source_home, NOW, &UtcCalendar);
    let verdicts: Vec<(&str, String)> = retention
        .decisions
        .iter()
        .map(|decision| {
            let verdict = match &decision.verdict {
                TargetVerdict::Destroy(_) => "destroy".to_owned(),
                TargetVerdict::Keep(reasons) => format!("keep {reasons:?}"),
            };
            (decision.snapshot.short_name(), verdict)
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("s1", "destroy".to_owned()),
            ("local", "keep [Retention(Foreign)]".to_owned()),
            ("held", "keep [Retention(Held)]".to_owned()),
            ("s2", "destroy".to_owned()),
            ("s3", "keep [NewestCommonBase]".to_owned()),
            (
                "s4",
                "keep [Retention(Tier { policy: PolicyId(\"nightly\"), tier: Daily })]".to_owned()
            ),
        ]
    );
    let destroyed: Vec<u64> = retention
        .destroyed()
        .map(|decision| decision.guid)
        .collect();
    assert_eq!(destroyed, vec![101, 102]);

    backup_job.retention = None;
    let keep_all =
        plan_target_retention(&backup_job, &target_home, &source_home, NOW, &UtcCalendar);
    assert_eq!(keep_all.destroyed().count(), 0);
    assert!(keep_all.decisions.iter().all(
        |decision| decision.verdict == TargetVerdict::Keep(vec![TargetKeepReason::NoRetention])
    ));
}

#[test]
fn target_kinds_name_their_receive_root() {
    let kinds = [
        (
            TargetKind::Ssh {
                host: "nas2.lan".into(),
                port: 22,
                user: "wizfs".into(),
                root: dataset("vault/wizfs"),
            },
            Some("vault/wizfs"),
        ),
        (
            TargetKind::RotatingDisk {
                pool_guid: 42,
                root: dataset("usb"),
            },
            Some("usb"),
        ),
        (
            TargetKind::S3 {
                endpoint: "https://s3.example".into(),
                bucket: "backups".into(),
                prefix: "wizfs/".into(),
                volume_bytes: None,
            },
            None,
        ),
    ];
    for (kind, root) in kinds {
        assert_eq!(
            kind.receive_root().map(DatasetName::as_str),
            root,
            "{kind:?}"
        );
    }
}

#[test]
fn actions_become_sends_and_a_bookmark_base_is_only_ever_used_with_dash_i() {
    let name = |text: &str| SnapshotName::new(text).expect("name");
    let bookmark =
        || SendBase::Bookmark(crate::names::BookmarkName::new("tank/a#s2").expect("name"));
    let describe_steps = |action: &Action| {
        action
            .send_steps()
            .iter()
            .map(|step| {
                format!(
                    "{}{} {}",
                    if step.intermediates {
                        "-I "
                    } else if step.from.is_some() {
                        "-i "
                    } else {
                        ""
                    },
                    step.from.as_ref().map_or("", SendBase::as_str),
                    step.to
                )
                .trim_start()
                .to_owned()
            })
            .collect::<Vec<_>>()
    };
    let cases: Vec<(Action, Vec<&str>)> = vec![
        (
            Action::FullSend {
                first: name("tank/a@s1"),
                to: name("tank/a@s3"),
                intermediates: vec![name("tank/a@s2")],
            },
            vec![" tank/a@s1", "-I tank/a@s1 tank/a@s3"],
        ),
        (
            Action::FullSend {
                first: name("tank/a@s1"),
                to: name("tank/a@s1"),
                intermediates: vec![],
            },
            vec![" tank/a@s1"],
        ),
        (
            Action::Incremental {
                from: SendBase::Snapshot(name("tank/a@s1")),
                to: name("tank/a@s3"),
                intermediates: vec![name("tank/a@s2")],
            },
            vec!["-I tank/a@s1 tank/a@s3"],
        ),
        (
            Action::Incremental {
                from: bookmark(),
                to: name("tank/a@s5"),
                intermediates: vec![name("tank/a@s3"), name("tank/a@s4")],
            },
            vec!["-i tank/a#s2 tank/a@s3", "-I tank/a@s3 tank/a@s5"],
        ),
        (
            Action::Incremental {
                from: bookmark(),
                to: name("tank/a@s3"),
                intermediates: vec![],
            },
            vec!["-i tank/a#s2 tank/a@s3"],
        ),
        (
            Action::Incremental {
                from: SendBase::CloneOrigin(name("tank/a@s1")),
                to: name("tank/b@c2"),
                intermediates: vec![name("tank/b@c1")],
            },
            vec!["-I tank/a@s1 tank/b@c2"],
        ),
        (
            Action::Resume {
                token: "1-x".into(),
            },
            vec![],
        ),
        (Action::NothingToDo(Idle::NoSourceSnapshot), vec![]),
    ];
    for (action, expected) in cases {
        let expected: Vec<String> = expected
            .iter()
            .map(|line| line.trim_start().to_owned())
            .collect();
        assert_eq!(describe_steps(&action), expected, "{action:?}");
    }
}

#[test]
fn a_state_of_the_other_kind_reads_as_an_empty_target() {
    let pool_state = pool(vec![target(
        "backup/tank/home",
        Some("nightly"),
        &[("s4", 104)],
    )]);
    let files_state = TargetState::Files(vec![manifest(
        "tank/home",
        Some("nightly"),
        vec![link(None, "tank/home@s4", 104)],
    )]);
    let plan = plan_backup(
        &files_job(BackupOptions::default()),
        &[home()],
        &pool_state,
        NOW,
    );
    assert_eq!(
        describe(&plan),
        vec!["tank/home -> tank/home: full s1..s4 [s2,s3]"]
    );
    let plan = plan_backup(&job(BackupOptions::default()), &[home()], &files_state, NOW);
    assert_eq!(
        describe(&plan),
        vec!["tank/home -> backup/tank/home: full s1..s4 [s2,s3]"]
    );
}

#[test]
fn a_first_full_protects_its_first_snapshot_until_the_history_follows() {
    let sources = vec![home()];
    let plan = plan_backup(&job(BackupOptions::default()), &sources, &pool(vec![]), NOW);
    let protected = protected_source_snapshots(&[&plan], &sources);
    let names: Vec<&str> = protected
        .iter()
        .map(|snapshot| snapshot.name.short_name())
        .collect();
    assert_eq!(names, vec!["s1", "s4"]);
}
