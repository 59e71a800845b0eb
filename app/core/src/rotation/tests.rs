//! Table tests of rotation, scheduling and free-space pruning, over a table-driven calendar
//! with the daylight-saving switches of Central Europe in 2026 (clocks spring forward at
//! 2026-03-29T01:00Z and fall back at 2026-10-25T01:00Z): bucket boundaries in local time,
//! explicit verdict tables (held, foreign, excluded, minimum, overlapping policies, clock
//! jumps backwards), `due` after downtime and clock jumps, and simulations of scheduled runs
//! whose final set of snapshots is compared with an independent oracle.

use std::collections::BTreeSet;

use super::*;
use crate::names::PoolName;

/// A calendar defined by a table of UTC offsets, each in force from an instant on.
struct TableCalendar {
    offsets: Vec<(Timestamp, i64)>,
}

impl TableCalendar {
    /// Central European time in 2026: +1h, +2h from 2026-03-29T01:00Z, +1h again from
    /// 2026-10-25T01:00Z.
    fn central_europe() -> Self {
        Self {
            offsets: vec![
                (Timestamp(i64::MIN), 3600),
                (t("2026-03-29T01:00:00Z"), 7200),
                (t("2026-10-25T01:00:00Z"), 3600),
            ],
        }
    }

    fn offset(&self, time: Timestamp) -> i64 {
        self.offsets
            .iter()
            .rev()
            .find(|(from, _)| *from <= time)
            .map_or(0, |(_, offset)| *offset)
    }
}

impl Calendar for TableCalendar {
    fn civil(&self, time: Timestamp) -> CivilDateTime {
        Timestamp(time.seconds() + self.offset(time))
            .to_civil_utc()
            .into()
    }
}

/// `2026-10-25T00:30:00Z` as a timestamp.
fn t(text: &str) -> Timestamp {
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().expect("digits");
    let small = |range| u8::try_from(number(range)).expect("small");
    Timestamp::from_civil_utc(CivilDateTimeUtc {
        year: number(0..4),
        month: small(5..7),
        day: small(8..10),
        hour: small(11..13),
        minute: small(14..16),
        second: small(17..19),
    })
    .expect("valid time")
}

fn id(text: &str) -> PolicyId {
    PolicyId::new(text).expect("policy id")
}

fn dataset(text: &str) -> DatasetName {
    DatasetName::new(text).expect("dataset")
}

fn policy(identifier: &str, root: &str, tiers: &[(Tier, u32)], min_keep: u32) -> RetentionPolicy {
    RetentionPolicy {
        id: id(identifier),
        scope: PolicyScope {
            dataset: dataset(root),
            recursive: true,
            exclude: Vec::new(),
        },
        tiers: tiers
            .iter()
            .map(|&(tier, keep)| TierRule { tier, keep })
            .collect(),
        min_keep,
        skip_empty: false,
        free_space_floor_percent: None,
    }
}

fn candidate(name: &str, time: &str, createtxg: u64, owner: Option<&str>) -> RotationCandidate {
    RotationCandidate {
        name: SnapshotName::new(name).expect("snapshot"),
        creation: t(time),
        createtxg,
        used: 0,
        written: 0,
        managed_by: owner.map(id),
        held: false,
    }
}

fn short_names<'a>(decisions: impl Iterator<Item = &'a Decision>) -> Vec<&'a str> {
    decisions
        .map(|decision| decision.snapshot.short_name())
        .collect()
}

#[test]
fn policy_ids_are_validated() {
    for good in ["home", "a", "Home_1.daily-x", &"x".repeat(64)] {
        assert_eq!(
            PolicyId::new(good).map(|id| id.to_string()),
            Ok(good.to_owned())
        );
    }
    let cases: Vec<(String, PolicyIdError)> = vec![
        (String::new(), PolicyIdError::Empty),
        (
            "y".repeat(65),
            PolicyIdError::TooLong {
                id: "y".repeat(65),
                length: 65,
            },
        ),
        (
            "-home".into(),
            PolicyIdError::InvalidCharacter {
                id: "-home".into(),
                character: '-',
                position: 0,
            },
        ),
        (
            "ho me".into(),
            PolicyIdError::InvalidCharacter {
                id: "ho me".into(),
                character: ' ',
                position: 2,
            },
        ),
        (
            "a@b".into(),
            PolicyIdError::InvalidCharacter {
                id: "a@b".into(),
                character: '@',
                position: 1,
            },
        ),
        (
            "é".into(),
            PolicyIdError::InvalidCharacter {
                id: "é".into(),
                character: 'é',
                position: 0,
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(PolicyId::new(&text), Err(expected), "{text:?}");
    }
}

#[test]
fn snapshot_names_carry_the_utc_minute_and_parse_back() {
    let home = id("home");
    let cases = [
        ("2026-11-26T11:00:00Z", "wizfs-home-20261126T110000Z"),
        ("2026-02-28T23:59:00Z", "wizfs-home-20260228T235900Z"),
        ("2028-02-29T00:01:00Z", "wizfs-home-20280229T000100Z"),
    ];
    for (time, name) in cases {
        assert_eq!(snapshot_short_name(&home, t(time)), name);
        assert_eq!(parse_snapshot_time(&home, name), Some(t(time)), "{name}");
        let full = dataset("tank/home").snapshot(name);
        assert!(full.is_ok(), "{name} is a valid snapshot name");
    }
    for foreign in [
        "wizfs-home-20261126T110000",
        "wizfs-homes-20261126T110000Z",
        "wizfs-home-20261126X110000Z",
        "wizfs-home-20261326T110000Z",
        "wizfs-home-2026112aT110000Z",
        "wizfs-home-20261126T110000Zx",
        "autosnap_2026-11-26_11:00:00_hourly",
        "wizfs-home--0261126T110000Z",
    ] {
        assert_eq!(parse_snapshot_time(&home, foreign), None, "{foreign}");
    }
    assert_eq!(
        snapshot_time(Some(&home), "manual", t("2026-01-01T00:00:00Z")),
        t("2026-01-01T00:00:00Z"),
        "other names use their creation"
    );
    assert_eq!(
        snapshot_time(
            None,
            "wizfs-home-20261126T110000Z",
            t("2026-01-01T00:00:00Z")
        ),
        t("2026-01-01T00:00:00Z"),
        "unmanaged snapshots use their creation"
    );
}

#[test]
fn buckets_follow_local_civil_time_across_daylight_saving() {
    let paris = TableCalendar::central_europe();
    let same = |tier: Tier, left: &str, right: &str| {
        let (left, right) = (t(left), t(right));
        tier.bucket(left, &paris.civil(left)) == tier.bucket(right, &paris.civil(right))
    };
    let quarter = Tier::Frequently { period_minutes: 15 };
    let cases: &[(Tier, &str, &str, bool, &str)] = &[
        (
            quarter,
            "2026-10-10T10:00:00Z",
            "2026-10-10T10:14:59Z",
            true,
            "one quarter",
        ),
        (
            quarter,
            "2026-10-10T10:14:59Z",
            "2026-10-10T10:15:00Z",
            false,
            "next quarter",
        ),
        (
            Tier::Hourly,
            "2026-10-10T10:00:00Z",
            "2026-10-10T10:59:59Z",
            true,
            "one hour",
        ),
        (
            Tier::Hourly,
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:30:00Z",
            false,
            "02:30 twice at fall back: two hours",
        ),
        (
            Tier::Hourly,
            "2026-03-29T00:59:00Z",
            "2026-03-29T01:00:00Z",
            false,
            "01:59 then 03:00 at spring forward",
        ),
        (
            Tier::Daily,
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:30:00Z",
            true,
            "both 02:30 on the 25th",
        ),
        (
            Tier::Daily,
            "2026-10-24T21:30:00Z",
            "2026-10-24T22:30:00Z",
            false,
            "23:30 on the 24th, 00:30 on the 25th (CEST)",
        ),
        (
            Tier::Daily,
            "2026-10-25T22:30:00Z",
            "2026-10-25T23:30:00Z",
            false,
            "23:30 on the 25th, 00:30 on the 26th (CET)",
        ),
        (
            Tier::Daily,
            "2026-03-28T23:00:00Z",
            "2026-03-29T21:59:00Z",
            true,
            "the 23-hour day",
        ),
        (
            Tier::Daily,
            "2026-10-24T22:00:00Z",
            "2026-10-25T22:59:00Z",
            true,
            "the 25-hour day",
        ),
        (
            Tier::Weekly,
            "2026-10-25T23:30:00Z",
            "2026-11-01T22:30:00Z",
            true,
            "Monday 00:30 to Sunday 23:30",
        ),
        (
            Tier::Weekly,
            "2026-11-01T22:30:00Z",
            "2026-11-01T23:30:00Z",
            false,
            "Sunday 23:30, Monday 00:30",
        ),
        (
            Tier::Weekly,
            "2026-12-27T23:00:00Z",
            "2027-01-03T22:59:00Z",
            true,
            "ISO week across the new year",
        ),
        (
            Tier::Monthly,
            "2026-10-31T22:30:00Z",
            "2026-10-31T23:30:00Z",
            false,
            "October 31 23:30, November 1 00:30",
        ),
        (
            Tier::Monthly,
            "2026-10-01T00:00:00Z",
            "2026-10-31T22:59:00Z",
            true,
            "one local month",
        ),
        (
            Tier::Yearly,
            "2026-12-31T22:30:00Z",
            "2026-12-31T23:30:00Z",
            false,
            "new year's eve 23:30, 00:30",
        ),
        (
            Tier::Yearly,
            "2026-01-01T00:00:00Z",
            "2026-12-31T22:59:00Z",
            true,
            "one local year",
        ),
    ];
    for &(tier, left, right, expected, why) in cases {
        assert_eq!(
            same(tier, left, right),
            expected,
            "{tier} {left} {right}: {why}"
        );
    }
    // The same instants fall in one UTC day: the difference comes from the calendar.
    let (left, right) = (t("2026-10-24T21:30:00Z"), t("2026-10-24T22:30:00Z"));
    assert_eq!(
        Tier::Daily.bucket(left, &UtcCalendar.civil(left)),
        Tier::Daily.bucket(right, &UtcCalendar.civil(right))
    );
}

#[test]
fn schedule_tier_is_the_finest_tier_that_keeps_something() {
    let quarter = Tier::Frequently { period_minutes: 15 };
    type Tiers<'a> = &'a [(Tier, u32)];
    let cases: &[(Tiers, Option<Tier>)] = &[
        (&[(Tier::Daily, 7), (Tier::Hourly, 24)], Some(Tier::Hourly)),
        (&[(quarter, 4), (Tier::Hourly, 24)], Some(quarter)),
        (&[(quarter, 0), (Tier::Monthly, 3)], Some(Tier::Monthly)),
        (&[(Tier::Yearly, 1)], Some(Tier::Yearly)),
        (&[(Tier::Hourly, 0)], None),
        (&[], None),
    ];
    for (tiers, expected) in cases {
        assert_eq!(
            policy("p", "tank", tiers, 0).schedule_tier(),
            *expected,
            "{tiers:?}"
        );
    }
}

#[test]
fn due_catches_up_once_and_never_bursts() {
    let hourly = policy("p", "tank", &[(Tier::Hourly, 24)], 0);
    let daily = policy("d", "tank", &[(Tier::Daily, 7)], 0);
    let never = policy("n", "tank", &[(Tier::Daily, 0)], 0);
    let paris = TableCalendar::central_europe();
    let cases: &[(&RetentionPolicy, Option<&str>, &str, Option<DueReason>)] = &[
        (
            &hourly,
            None,
            "2026-10-10T10:17:42Z",
            Some(DueReason::First),
        ),
        (
            &hourly,
            Some("2026-10-10T10:00:00Z"),
            "2026-10-10T10:59:59Z",
            None,
        ),
        (
            &hourly,
            Some("2026-10-10T10:00:00Z"),
            "2026-10-10T11:00:05Z",
            Some(DueReason::NextSlot),
        ),
        (
            &hourly,
            Some("2026-10-10T09:59:00Z"),
            "2026-10-10T11:00:05Z",
            Some(DueReason::NextSlot),
        ),
        (
            &hourly,
            Some("2026-10-10T10:00:00Z"),
            "2026-10-13T07:12:00Z",
            Some(DueReason::AfterDowntime),
        ),
        (
            &hourly,
            Some("2026-10-10T14:00:00Z"),
            "2026-10-10T09:00:00Z",
            Some(DueReason::ClockBehindNewest),
        ),
        (
            &hourly,
            Some("2026-10-10T09:20:00Z"),
            "2026-10-10T09:05:00Z",
            None,
        ),
        (
            &hourly,
            Some("2026-10-25T00:10:00Z"),
            "2026-10-25T01:10:00Z",
            Some(DueReason::NextSlot),
        ),
        (
            &daily,
            Some("2026-10-24T21:30:00Z"),
            "2026-10-24T22:00:00Z",
            Some(DueReason::NextSlot),
        ),
        (
            &daily,
            Some("2026-10-24T22:00:00Z"),
            "2026-10-25T22:59:00Z",
            None,
        ),
        (&never, None, "2026-10-10T10:00:00Z", None),
    ];
    for &(policy, last, now, expected) in cases {
        let due = due(policy, last.map(t), t(now), &paris);
        assert_eq!(
            due.map(|due| due.reason),
            expected,
            "{} {last:?} {now}",
            policy.id
        );
        if let Some(due) = due {
            assert_eq!(due.at.seconds() % 60, 0, "names are to the minute");
            assert!(due.at <= t(now) && t(now).seconds() - due.at.seconds() < 60);
            // Once that snapshot exists, nothing more is due in the same bucket.
            assert_eq!(super::due(policy, Some(due.at), t(now), &paris), None);
        }
    }
}

#[test]
fn skip_empty_needs_every_dataset_unchanged() {
    let mut skipping = policy("p", "tank", &[(Tier::Hourly, 1)], 0);
    skipping.skip_empty = true;
    let keeping = policy("p", "tank", &[(Tier::Hourly, 1)], 0);
    let next = Due {
        at: t("2026-10-10T10:00:00Z"),
        reason: DueReason::NextSlot,
    };
    let first = Due {
        reason: DueReason::First,
        ..next
    };
    let cases: &[(&RetentionPolicy, Due, &[u64], bool)] = &[
        (&skipping, next, &[0], true),
        (&skipping, next, &[0, 0, 0], true),
        (&skipping, next, &[0, 4096, 0], false),
        (&skipping, next, &[1], false),
        (&skipping, next, &[], false),
        (&skipping, first, &[0], false),
        (&keeping, next, &[0], false),
    ];
    for &(policy, due, written, expected) in cases {
        assert_eq!(
            skip_as_empty(policy, &due, written),
            expected,
            "{written:?} {}",
            policy.skip_empty
        );
    }
}

#[test]
fn verdicts_name_their_reasons() {
    let home = policy(
        "home",
        "tank/home",
        &[(Tier::Hourly, 2), (Tier::Daily, 2)],
        0,
    );
    let mut held = candidate(
        "tank/home@wizfs-home-old",
        "2026-10-01T10:00:00Z",
        1,
        Some("home"),
    );
    held.held = true;
    let mut excluded_policy = home.clone();
    excluded_policy.scope.exclude = vec![dataset("tank/home/scratch")];
    let snapshots = vec![
        held,
        candidate("tank/home@manual", "2026-10-01T11:00:00Z", 2, None),
        candidate(
            "tank/home@other-tool",
            "2026-10-01T12:00:00Z",
            3,
            Some("elsewhere"),
        ),
        candidate("tank/home@d1-10", "2026-10-09T10:00:00Z", 4, Some("home")),
        candidate("tank/home@d1-23", "2026-10-09T23:00:00Z", 5, Some("home")),
        candidate("tank/home@d2-08", "2026-10-10T08:00:00Z", 6, Some("home")),
        candidate("tank/home@d2-09", "2026-10-10T09:00:00Z", 7, Some("home")),
        candidate("tank/home@d2-10", "2026-10-10T10:00:00Z", 8, Some("home")),
        candidate("tank/home@future", "2026-10-12T10:00:00Z", 9, Some("home")),
        candidate(
            "tank/home/scratch@s",
            "2026-10-01T10:00:00Z",
            10,
            Some("home"),
        ),
        candidate("tank/other@s", "2026-10-01T10:00:00Z", 11, Some("home")),
    ];
    let plan = plan_rotation(
        &snapshots,
        &excluded_policy,
        t("2026-10-10T10:30:00Z"),
        &UtcCalendar,
    );
    let tier = |tier| KeepReason::Tier {
        policy: id("home"),
        tier,
    };
    let expected: Vec<(&str, Verdict)> = vec![
        (
            "tank/home@wizfs-home-old",
            Verdict::Keep(vec![KeepReason::Held]),
        ),
        ("tank/home@manual", Verdict::Keep(vec![KeepReason::Foreign])),
        (
            "tank/home@other-tool",
            Verdict::Keep(vec![KeepReason::Foreign]),
        ),
        (
            "tank/home@d1-10",
            Verdict::Destroy(DestroyReason::Expired { policy: id("home") }),
        ),
        ("tank/home@d1-23", Verdict::Keep(vec![tier(Tier::Daily)])),
        (
            "tank/home@d2-08",
            Verdict::Destroy(DestroyReason::Expired { policy: id("home") }),
        ),
        ("tank/home@d2-09", Verdict::Keep(vec![tier(Tier::Hourly)])),
        (
            "tank/home@d2-10",
            Verdict::Keep(vec![tier(Tier::Hourly), tier(Tier::Daily)]),
        ),
        ("tank/home@future", Verdict::Keep(vec![KeepReason::Future])),
        (
            "tank/home/scratch@s",
            Verdict::Keep(vec![KeepReason::Foreign]),
        ),
        ("tank/other@s", Verdict::Keep(vec![KeepReason::Foreign])),
    ];
    let actual: Vec<(&str, Verdict)> = plan
        .decisions
        .iter()
        .map(|decision| (decision.snapshot.as_str(), decision.verdict.clone()))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(short_names(plan.destroyed()), ["d1-10", "d2-08"]);
    assert_eq!(
        plan.decision(&SnapshotName::new("tank/home@d2-10").expect("name"))
            .and_then(|decision| decision.managed_by.clone()),
        Some(id("home"))
    );
    assert_eq!(
        KeepReason::Tier {
            policy: id("home"),
            tier: Tier::Daily
        }
        .to_string(),
        "daily of policy home"
    );
    assert_eq!(
        DestroyReason::Expired { policy: id("home") }.to_string(),
        "expired (no tier of policy home keeps it)"
    );
}

#[test]
fn the_minimum_count_tops_up_with_the_newest_expired_snapshots() {
    let cases: &[(u32, &[&str])] = &[
        (0, &["s5"]),
        (1, &["s5"]),
        (3, &["s3", "s4", "s5"]),
        (9, &["s1", "s2", "s3", "s4", "s5"]),
    ];
    for &(min_keep, kept) in cases {
        let policy = policy("p", "tank", &[(Tier::Hourly, 1)], min_keep);
        let snapshots: Vec<RotationCandidate> = (1..=5)
            .map(|index| {
                candidate(
                    &format!("tank@s{index}"),
                    &format!("2026-10-10T0{index}:00:00Z"),
                    index,
                    Some("p"),
                )
            })
            .collect();
        let plan = plan_rotation(&snapshots, &policy, t("2026-10-10T06:00:00Z"), &UtcCalendar);
        assert_eq!(short_names(plan.kept()), kept, "min_keep {min_keep}");
        let minimum_kept = plan
            .kept()
            .filter(|decision| {
                decision.verdict == Verdict::Keep(vec![KeepReason::Minimum { policy: id("p") }])
            })
            .count();
        assert_eq!(minimum_kept, kept.len() - 1, "min_keep {min_keep}");
    }
}

/// Scheduled runs over a model of ZFS: each run takes what is due, then carries out the
/// rotation plan. `createtxg` grows with every snapshot, whatever the clock says.
struct Simulation<'a> {
    policies: Vec<(&'a RetentionPolicy, &'a dyn Calendar)>,
    /// The datasets each policy snapshots (all of them at once, like `zfs snapshot -r`).
    datasets: Vec<Vec<DatasetName>>,
    snapshots: Vec<RotationCandidate>,
    next_txg: u64,
    created: Vec<(PolicyId, Timestamp)>,
}

impl<'a> Simulation<'a> {
    fn new(
        policies: Vec<(&'a RetentionPolicy, &'a dyn Calendar)>,
        datasets: Vec<Vec<&str>>,
    ) -> Self {
        Self {
            policies,
            datasets: datasets
                .into_iter()
                .map(|names| names.into_iter().map(dataset).collect())
                .collect(),
            snapshots: Vec::new(),
            next_txg: 1,
            created: Vec::new(),
        }
    }

    fn run(&mut self, now: Timestamp) -> RotationPlan {
        for (index, (policy, calendar)) in self.policies.iter().enumerate() {
            let root = &self.datasets[index][0];
            let last = self
                .snapshots
                .iter()
                .filter(|snapshot| {
                    snapshot.name.dataset() == root
                        && snapshot.managed_by.as_ref() == Some(&policy.id)
                })
                .max_by_key(|snapshot| snapshot.createtxg)
                .map(|snapshot| snapshot.creation);
            let Some(due) = due(policy, last, now, *calendar) else {
                continue;
            };
            let short_name = snapshot_short_name(&policy.id, due.at);
            if self
                .snapshots
                .iter()
                .any(|snapshot| snapshot.name.short_name() == short_name)
            {
                continue;
            }
            for dataset in &self.datasets[index] {
                self.snapshots.push(RotationCandidate {
                    name: dataset.snapshot(&short_name).expect("name"),
                    creation: due.at,
                    createtxg: self.next_txg,
                    used: 1,
                    written: 1,
                    managed_by: Some(policy.id.clone()),
                    held: false,
                });
            }
            self.next_txg += 1;
            self.created.push((policy.id.clone(), due.at));
        }
        let plan = plan_rotation_all(&self.snapshots, &self.policies, now);
        let destroyed: BTreeSet<&SnapshotName> = plan
            .destroyed()
            .map(|decision| &decision.snapshot)
            .collect();
        self.snapshots
            .retain(|snapshot| !destroyed.contains(&snapshot.name));
        plan
    }

    /// Runs every `step` seconds from `start` (inclusive) to `end` (exclusive).
    fn run_between(&mut self, start: Timestamp, end: Timestamp, step: i64) {
        let mut now = start;
        while now < end {
            self.run(now);
            now = Timestamp(now.seconds() + step);
        }
    }

    fn times_of(&self, dataset_name: &str) -> Vec<Timestamp> {
        let mut times: Vec<Timestamp> = self
            .snapshots
            .iter()
            .filter(|snapshot| snapshot.name.dataset().as_str() == dataset_name)
            .map(|snapshot| snapshot.creation)
            .collect();
        times.sort();
        times
    }
}

/// An independent oracle for "newest in each of the last N buckets": buckets named by text
/// computed from the local date (ISO weeks by the ordinal-date rule), over every snapshot
/// ever taken (keeping the newest per bucket as time goes on is the same as choosing once
/// at the end, because a bucket that falls out of a tier never comes back).
fn expected_by_oracle(
    taken: &[Timestamp],
    tiers: &[(Tier, u32)],
    calendar: &TableCalendar,
) -> BTreeSet<Timestamp> {
    let key = |tier: Tier, time: Timestamp| -> String {
        let offset = calendar.offset(time);
        let local = Timestamp(time.seconds() + offset).to_civil_utc();
        match tier {
            Tier::Frequently { period_minutes } => {
                format!("{}", time.seconds() / (i64::from(period_minutes) * 60))
            }
            Tier::Hourly => format!(
                "{}-{}-{} {} {offset}",
                local.year, local.month, local.day, local.hour
            ),
            Tier::Daily => format!("{}-{}-{}", local.year, local.month, local.day),
            Tier::Weekly => {
                let (year, week) = iso_week(local.year, local.month, local.day);
                format!("{year}-W{week:02}")
            }
            Tier::Monthly => format!("{}-{:02}", local.year, local.month),
            Tier::Yearly => format!("{}", local.year),
        }
    };
    let mut kept = BTreeSet::new();
    for &(tier, keep) in tiers {
        let mut newest: std::collections::BTreeMap<String, Timestamp> = Default::default();
        for &time in taken {
            let entry = newest.entry(key(tier, time)).or_insert(time);
            *entry = (*entry).max(time);
        }
        let mut representatives: Vec<Timestamp> = newest.into_values().collect();
        representatives.sort();
        kept.extend(representatives.into_iter().rev().take(keep as usize));
    }
    kept
}

/// ISO 8601 (year, week) of a date, by the ordinal-date rule.
fn iso_week(year: i64, month: u8, day: u8) -> (i64, i64) {
    let leap = |year: i64| (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let ordinal =
        cumulative[usize::from(month) - 1] + i64::from(day) + i64::from(leap(year) && month > 2);
    // Zeller-style weekday, Monday = 1 ... Sunday = 7.
    let weekday = {
        let (y, m) = if month < 3 {
            (year - 1, i64::from(month) + 12)
        } else {
            (year, i64::from(month))
        };
        let h = (i64::from(day) + 13 * (m + 1) / 5 + y + y / 4 - y / 100 + y / 400) % 7; // 0 = Saturday
        (h + 5) % 7 + 1
    };
    let week = (ordinal - weekday + 10) / 7;
    let weeks_in = |year: i64| {
        let p = |y: i64| (y + y / 4 - y / 100 + y / 400) % 7;
        if p(year) == 4 || p(year - 1) == 3 {
            53
        } else {
            52
        }
    };
    if week < 1 {
        (year - 1, weeks_in(year - 1))
    } else if week > weeks_in(year) {
        (year + 1, 1)
    } else {
        (year, week)
    }
}

#[test]
fn iso_weeks_of_the_oracle() {
    let cases = [
        ((2026, 1, 1), (2026, 1)),
        ((2026, 12, 28), (2026, 53)),
        ((2027, 1, 3), (2026, 53)),
        ((2027, 1, 4), (2027, 1)),
        ((2024, 12, 30), (2025, 1)),
        ((2026, 10, 25), (2026, 43)),
        ((2026, 10, 26), (2026, 44)),
    ];
    for ((year, month, day), expected) in cases {
        assert_eq!(iso_week(year, month, day), expected, "{year}-{month}-{day}");
    }
}

#[test]
fn a_month_of_hourly_runs_keeps_exactly_what_the_tiers_say() {
    let paris = TableCalendar::central_europe();
    let tiers = [
        (Tier::Hourly, 24),
        (Tier::Daily, 7),
        (Tier::Weekly, 3),
        (Tier::Monthly, 2),
        (Tier::Yearly, 1),
    ];
    let policy = policy("home", "tank/home", &tiers, 0);
    let mut simulation = Simulation::new(
        vec![(&policy, &paris)],
        vec![vec!["tank/home", "tank/home/alice"]],
    );
    // Runs every 10 minutes from October 10 to November 12, through the fall-back night and
    // a month boundary.
    simulation.run_between(t("2026-10-10T00:03:00Z"), t("2026-11-12T09:00:00Z"), 600);
    let taken: Vec<Timestamp> = simulation.created.iter().map(|(_, time)| *time).collect();
    let hours = (t("2026-11-12T09:00:00Z").seconds() - t("2026-10-10T00:00:00Z").seconds()) / 3600;
    assert_eq!(
        taken.len() as i64,
        hours,
        "one snapshot per hour, never more"
    );
    let expected: Vec<Timestamp> = expected_by_oracle(&taken, &tiers, &paris)
        .into_iter()
        .collect();
    assert_eq!(simulation.times_of("tank/home"), expected);
    assert_eq!(
        simulation.times_of("tank/home/alice"),
        expected,
        "the tree rotates alike"
    );
    // 24 hours; days: November 6 to 10 (the 11th and 12th are among the hours); weeks: the
    // one ending Sunday November 1 (the next ends on the 8th, among the days); months:
    // October 31; the year's newest is the newest of all.
    assert_eq!(expected.len(), 24 + 5 + 1 + 1);
}

#[test]
fn hourly_runs_through_the_fall_back_night_keep_every_real_hour() {
    let paris = TableCalendar::central_europe();
    let policy = policy("p", "tank", &[(Tier::Hourly, 48)], 0);
    let mut simulation = Simulation::new(vec![(&policy, &paris)], vec![vec!["tank"]]);
    simulation.run_between(t("2026-10-24T12:00:00Z"), t("2026-10-26T12:00:00Z"), 300);
    let times = simulation.times_of("tank");
    assert_eq!(times.len(), 48);
    assert!(
        times
            .windows(2)
            .all(|pair| pair[1].seconds() - pair[0].seconds() == 3600)
    );
    let mut spring = Simulation::new(vec![(&policy, &paris)], vec![vec!["tank"]]);
    spring.run_between(t("2026-03-28T12:00:00Z"), t("2026-03-30T12:00:00Z"), 300);
    assert_eq!(
        spring.times_of("tank").len(),
        48,
        "the skipped hour has no bucket, no gap"
    );
}

#[test]
fn downtime_is_caught_up_once_and_tiers_still_keep_their_counts() {
    let paris = TableCalendar::central_europe();
    let tiers = [(Tier::Hourly, 6), (Tier::Daily, 5)];
    let policy = policy("p", "tank", &tiers, 0);
    let mut simulation = Simulation::new(vec![(&policy, &paris)], vec![vec!["tank"]]);
    simulation.run_between(t("2026-10-10T00:00:00Z"), t("2026-10-12T00:00:00Z"), 600);
    let before = simulation.created.len();
    // Off for four days; back at 09:17.
    let back = t("2026-10-16T09:17:00Z");
    let plan = simulation.run(back);
    assert_eq!(
        simulation.created.len(),
        before + 1,
        "one catch-up snapshot"
    );
    assert_eq!(
        due(&policy, Some(simulation.created[before].1), back, &paris),
        None
    );
    assert!(plan.destroyed().count() > 0);
    let times = simulation.times_of("tank");
    // The hourly tier keeps the catch-up and the five last hours before the downtime (19:00
    // to 23:00 UTC on the 11th: local days 11 and 12); the daily tier adds the last local
    // snapshot of October 10 (23:00 in Paris).
    let expected_by_tiers = expected_by_oracle(
        &simulation
            .created
            .iter()
            .map(|(_, time)| *time)
            .collect::<Vec<_>>(),
        &tiers,
        &paris,
    );
    assert_eq!(times, expected_by_tiers.into_iter().collect::<Vec<_>>());
    assert_eq!(times.len(), 6 + 1);
    assert!(times.contains(&t("2026-10-10T21:00:00Z")));
    simulation.run_between(t("2026-10-16T09:27:00Z"), t("2026-10-16T12:00:00Z"), 600);
    assert_eq!(
        simulation.created.len(),
        before + 3,
        "then hourly again: 10:00 and 11:00"
    );
}

#[test]
fn a_clock_jumping_backwards_neither_bursts_nor_destroys_new_snapshots() {
    let policy = policy("p", "tank", &[(Tier::Hourly, 3)], 2);
    let mut simulation = Simulation::new(vec![(&policy, &UtcCalendar)], vec![vec!["tank"]]);
    simulation.run_between(t("2026-10-10T10:00:00Z"), t("2026-10-10T15:00:00Z"), 300);
    assert_eq!(simulation.created.len(), 5, "10:00 to 14:00");
    // The clock jumps back to 09:02 and runs every five minutes until 12:00.
    let plan = simulation.run(t("2026-10-10T09:02:00Z"));
    assert_eq!(
        simulation.created.len(),
        6,
        "one snapshot when the clock is behind"
    );
    assert_eq!(simulation.created[5].1, t("2026-10-10T09:02:00Z"));
    let future: Vec<&str> = plan
        .kept()
        .filter(|decision| match &decision.verdict {
            Verdict::Keep(reasons) => reasons.contains(&KeepReason::Future),
            Verdict::Destroy(_) => false,
        })
        .map(|decision| decision.snapshot.short_name())
        .collect();
    assert_eq!(
        future,
        [
            "wizfs-p-20261010T120000Z",
            "wizfs-p-20261010T130000Z",
            "wizfs-p-20261010T140000Z"
        ],
        "snapshots dated after now are kept"
    );
    simulation.run_between(t("2026-10-10T09:07:00Z"), t("2026-10-10T12:00:00Z"), 300);
    let created_after_jump: Vec<Timestamp> = simulation.created[5..]
        .iter()
        .map(|(_, time)| *time)
        .collect();
    assert_eq!(
        created_after_jump,
        [
            t("2026-10-10T09:02:00Z"),
            t("2026-10-10T10:02:00Z"),
            t("2026-10-10T11:02:00Z")
        ],
        "one per hour after the jump: no burst"
    );
    let snapshot_times = simulation.times_of("tank");
    for time in &created_after_jump {
        assert!(
            snapshot_times.contains(time),
            "{time} made after the jump survives"
        );
    }
    assert!(
        snapshot_times.contains(&t("2026-10-10T14:00:00Z")),
        "still from the future"
    );
}

#[test]
fn overlapping_policies_keep_a_snapshot_until_the_longest_lets_go() {
    let hourly = policy("hourly", "tank/home", &[(Tier::Hourly, 3)], 1);
    let mut daily = policy("daily", "tank/home/alice", &[(Tier::Daily, 30)], 1);
    daily.scope.recursive = false;
    let mut simulation = Simulation::new(
        vec![(&hourly, &UtcCalendar), (&daily, &UtcCalendar)],
        vec![
            vec!["tank/home", "tank/home/alice"],
            vec!["tank/home/alice"],
        ],
    );
    simulation.run_between(t("2026-10-10T00:00:00Z"), t("2026-10-13T12:00:00Z"), 900);
    let plan = simulation.run(t("2026-10-13T12:00:00Z"));
    let kept_on = |dataset_name: &str| -> Vec<(String, Vec<KeepReason>)> {
        plan.kept()
            .filter(|decision| decision.snapshot.dataset().as_str() == dataset_name)
            .map(|decision| {
                let Verdict::Keep(reasons) = &decision.verdict else {
                    unreachable!("kept")
                };
                (decision.snapshot.short_name().to_owned(), reasons.clone())
            })
            .collect()
    };
    let hourly_tier = KeepReason::Tier {
        policy: id("hourly"),
        tier: Tier::Hourly,
    };
    let daily_tier = KeepReason::Tier {
        policy: id("daily"),
        tier: Tier::Daily,
    };
    // Where only the hourly policy applies: its three newest hours.
    assert_eq!(
        kept_on("tank/home"),
        [
            (
                "wizfs-hourly-20261013T100000Z".to_owned(),
                vec![hourly_tier.clone()]
            ),
            (
                "wizfs-hourly-20261013T110000Z".to_owned(),
                vec![hourly_tier.clone()]
            ),
            (
                "wizfs-hourly-20261013T120000Z".to_owned(),
                vec![hourly_tier.clone()]
            ),
        ]
    );
    // On alice the daily policy keeps the newest snapshot of each day, whoever made it:
    // the hourly policy's 23:00 snapshots outlive its own three hours.
    assert_eq!(
        kept_on("tank/home/alice"),
        [
            (
                "wizfs-hourly-20261010T230000Z".to_owned(),
                vec![daily_tier.clone()]
            ),
            (
                "wizfs-hourly-20261011T230000Z".to_owned(),
                vec![daily_tier.clone()]
            ),
            (
                "wizfs-hourly-20261012T230000Z".to_owned(),
                vec![daily_tier.clone()]
            ),
            (
                "wizfs-daily-20261013T000000Z".to_owned(),
                vec![KeepReason::Minimum {
                    policy: id("daily")
                }]
            ),
            (
                "wizfs-hourly-20261013T100000Z".to_owned(),
                vec![hourly_tier.clone()]
            ),
            (
                "wizfs-hourly-20261013T110000Z".to_owned(),
                vec![hourly_tier.clone()]
            ),
            (
                "wizfs-hourly-20261013T120000Z".to_owned(),
                vec![hourly_tier, daily_tier]
            ),
        ]
    );
    // Either policy alone would have destroyed the 23:00 snapshots on alice.
    let alone = plan_rotation(
        &simulation.snapshots,
        &hourly,
        t("2026-10-13T12:00:00Z"),
        &UtcCalendar,
    );
    assert!(
        alone.destroyed().any(|decision| decision.snapshot.as_str()
            == "tank/home/alice@wizfs-hourly-20261012T230000Z")
    );
}

/// `count` snapshots of policy `p` on `tank/data`, one an hour from midnight, each holding
/// `used` bytes alone.
fn hourly_series(count: u64, used: u64) -> Vec<RotationCandidate> {
    (0..count)
        .map(|index| {
            let mut snapshot = candidate(
                &format!("tank/data@s{index}"),
                &format!("2026-10-10T{index:02}:00:00Z"),
                index + 1,
                Some("p"),
            );
            snapshot.used = used;
            snapshot
        })
        .collect()
}

fn free_space_plan_case(
    free: u64,
    floor: Option<u8>,
    min_keep: u32,
    extra: &[RotationCandidate],
) -> Vec<String> {
    let mut policy = policy("p", "tank/data", &[(Tier::Hourly, 10)], min_keep);
    policy.free_space_floor_percent = floor;
    let mut snapshots = hourly_series(10, 10);
    snapshots.extend_from_slice(extra);
    let plan = plan_rotation(&snapshots, &policy, t("2026-10-10T12:00:00Z"), &UtcCalendar);
    let pool = PoolSpace {
        pool: PoolName::new("tank").expect("pool"),
        size: 1000,
        free,
    };
    let other_pool = PoolSpace {
        pool: PoolName::new("backup").expect("pool"),
        size: 1000,
        free: 0,
    };
    plan_free_space(&plan, &[other_pool, pool], &[&policy])
        .into_iter()
        .map(|prune| {
            assert_eq!(prune.estimated_bytes, 10);
            prune.snapshot.short_name().to_owned()
        })
        .collect()
}

#[test]
fn the_free_space_floor_prunes_oldest_managed_snapshots_down_to_the_minimum() {
    let mut held = candidate("tank/data@held", "2026-10-09T00:00:00Z", 100, Some("p"));
    held.held = true;
    held.used = 50;
    let foreign = {
        let mut foreign = candidate("tank/data@manual", "2026-10-08T00:00:00Z", 101, None);
        foreign.used = 50;
        foreign
    };
    /// Free bytes, floor, minimum count, extra snapshots, expected prunes, why.
    type Case<'a> = (
        u64,
        Option<u8>,
        u32,
        Vec<RotationCandidate>,
        &'a [&'a str],
        &'a str,
    );
    let cases: &[Case] = &[
        (100, Some(10), 0, vec![], &[], "already at the floor"),
        (50, None, 0, vec![], &[], "no floor"),
        (
            50,
            Some(10),
            0,
            vec![],
            &["s0", "s1", "s2", "s3", "s4"],
            "5 × 10 bytes to reach 100",
        ),
        (95, Some(10), 0, vec![], &["s0"], "one is enough"),
        (
            50,
            Some(10),
            7,
            vec![],
            &["s0", "s1", "s2"],
            "never below 7",
        ),
        (
            0,
            Some(100),
            0,
            vec![],
            &["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"],
            "everything it may",
        ),
        (
            50,
            Some(10),
            0,
            vec![held.clone(), foreign.clone()],
            &["s0", "s1", "s2", "s3", "s4"],
            "held and foreign survive",
        ),
    ];
    for (free, floor, min_keep, extra, expected, why) in cases {
        assert_eq!(
            free_space_plan_case(*free, *floor, *min_keep, extra),
            *expected,
            "{why}"
        );
    }
    assert!(floor_reached(1000, 100, 10));
    assert!(!floor_reached(1000, 99, 10));
    assert!(floor_reached(0, 0, 50));
    assert!(floor_reached(u64::MAX, u64::MAX, 100));
}

#[test]
fn what_the_rotation_destroys_counts_before_the_floor_prunes() {
    let mut policy = policy("p", "tank/data", &[(Tier::Hourly, 2)], 0);
    policy.free_space_floor_percent = Some(10);
    let snapshots = hourly_series(5, 20);
    let mut plan = plan_rotation(&snapshots, &policy, t("2026-10-10T06:00:00Z"), &UtcCalendar);
    assert_eq!(short_names(plan.destroyed()), ["s0", "s1", "s2"]);
    let pool = |free| PoolSpace {
        pool: PoolName::new("tank").expect("pool"),
        size: 1000,
        free,
    };
    assert!(
        plan_free_space(&plan, &[pool(40)], &[&policy]).is_empty(),
        "40 + 3 × 20"
    );
    let prunes = plan_free_space(&plan, &[pool(30)], &[&policy]);
    assert_eq!(prunes.len(), 1);
    plan.apply_free_space(&prunes);
    assert_eq!(short_names(plan.destroyed()), ["s0", "s1", "s2", "s3"]);
    assert_eq!(
        plan.decisions[3].verdict,
        Verdict::Destroy(DestroyReason::FreeSpace {
            policy: id("p"),
            floor_percent: 10
        })
    );
}
