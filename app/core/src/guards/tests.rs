//! Tables for guard snapshots: which names are guard names (every name the restore planner
//! makes, nothing else), and the verdict on each snapshot at a time — young, held, expired,
//! not a guard — around the expiry boundary.

use super::*;
use crate::names::DatasetName;

const NOW: Timestamp = Timestamp(1_795_682_712); // 2026-11-26T08:45:12Z
const DAY: i64 = 86_400;

fn dataset_of_length(length: usize) -> DatasetName {
    let mut name = String::from("tank");
    while name.len() < length {
        let remaining = length - name.len() - 1;
        let component = "d".repeat(remaining.clamp(1, 200));
        name.push('/');
        name.push_str(&component);
    }
    DatasetName::new(&name).expect("valid dataset name")
}

fn snapshot(full: &str) -> SnapshotName {
    SnapshotName::new(full).expect("valid snapshot name")
}

#[test]
fn every_name_the_planner_makes_is_a_guard_name() {
    let short = DatasetName::new("tank/data").expect("valid dataset name");
    let mut datasets = vec![short];
    // The seconds form, the minute form, the `wg-` form.
    datasets.extend([200, 226, 227, 228, 229, 241].map(dataset_of_length));
    let times = [
        Timestamp(0),
        Timestamp(951_825_599), // 2000-02-29T11:59:59Z
        NOW,
        Timestamp(4_102_444_799), // 2099-12-31T23:59:59Z
    ];
    for dataset in &datasets {
        for time in times {
            for attempt in 0..=11 {
                let Some(name) = guard_snapshot_name(dataset, time, attempt) else {
                    continue;
                };
                let short = name.short_name();
                if !short.starts_with("wizfs-guard-") && !short.starts_with("wg-") {
                    // The last resort forms of very long dataset names are not recognised.
                    assert!(!is_guard_snapshot_name(&name), "{name}");
                    continue;
                }
                assert!(
                    is_guard_snapshot_name(&name),
                    "{name} (dataset of {} bytes, attempt {attempt})",
                    dataset.as_str().len()
                );
            }
        }
    }
}

#[test]
fn other_names_are_not_guard_names() {
    let long = dataset_of_length(228);
    let cases = [
        // Attempt 0 has no suffix, and -1 is never made.
        "tank/data@wizfs-guard-20261126T084512Z-1".to_owned(),
        "tank/data@wizfs-guard-20261126T084512Z-02".to_owned(),
        "tank/data@wizfs-guard-20261126T084512Z-".to_owned(),
        "tank/data@wizfs-guard-20261126T084512Z-x".to_owned(),
        "tank/data@wizfs-guard-20261126T084512Z2".to_owned(),
        "tank/data@wizfs-guard-20261126T084512".to_owned(),
        "tank/data@wizfs-guard-2026112T084512Z".to_owned(),
        // Impossible dates and times.
        "tank/data@wizfs-guard-20261132T084512Z".to_owned(),
        "tank/data@wizfs-guard-20260229T084512Z".to_owned(),
        "tank/data@wizfs-guard-20261126T246000Z".to_owned(),
        // The shorter forms where the longer ones fit.
        "tank/data@wizfs-guard-20261126T0845Z".to_owned(),
        "tank/data@wg-1795682712".to_owned(),
        "tank/data@g".to_owned(),
        "tank/data@g2".to_owned(),
        // The `wg-` form needs digits.
        format!("{long}@wg-"),
        format!("{long}@wg-x17"),
        format!("{long}@wg-1795682712-1"),
        // Other snapshots.
        "tank/data@wizfs-hourly-20261126T0800Z".to_owned(),
        "tank/data@daily-2026-11-26".to_owned(),
        "tank/data@wizfs-guard".to_owned(),
        "tank/data@WIZFS-GUARD-20261126T084512Z".to_owned(),
    ];
    for name in cases {
        assert!(!is_guard_snapshot_name(&snapshot(&name)), "{name}");
    }
    // Where the seconds form does not fit, the minute form is a guard name; `wg-` where
    // neither fits.
    assert!(is_guard_snapshot_name(&snapshot(&format!(
        "{long}@wizfs-guard-20261126T0845Z"
    ))));
    assert!(is_guard_snapshot_name(
        &dataset_of_length(229)
            .snapshot("wg-1795682712-3")
            .expect("valid")
    ));
}

fn candidate(
    name: &str,
    creation: Timestamp,
    user_refs: u64,
    property: Option<&str>,
) -> GuardCandidate {
    GuardCandidate {
        name: snapshot(name),
        creation,
        user_refs,
        guard_property: property.map(str::to_owned),
    }
}

#[test]
fn verdicts_around_the_expiry() {
    let lifetime = GuardLifetime::days(30).expect("non-zero");
    let created = Timestamp(NOW.seconds() - 30 * DAY);
    let guard = "tank/data@wizfs-guard-20261027T084512Z";
    let expires = Timestamp(created.seconds() + 30 * DAY);
    let cases: Vec<(&str, GuardCandidate, Timestamp, GuardVerdict)> = vec![
        (
            "one second before its expiry",
            candidate(guard, created, 0, Some("restore")),
            Timestamp(expires.seconds() - 1),
            GuardVerdict::Young { expires },
        ),
        (
            "at its expiry",
            candidate(guard, created, 0, Some("restore")),
            expires,
            GuardVerdict::Expired { expired: expires },
        ),
        (
            "long after",
            candidate(guard, created, 0, Some("restore")),
            Timestamp(expires.seconds() + 365 * DAY),
            GuardVerdict::Expired { expired: expires },
        ),
        (
            "held, long after",
            candidate(guard, created, 2, Some("restore")),
            Timestamp(expires.seconds() + 365 * DAY),
            GuardVerdict::Held { expires, holds: 2 },
        ),
        (
            "held and young",
            candidate(guard, created, 1, Some("restore")),
            created,
            GuardVerdict::Held { expires, holds: 1 },
        ),
        (
            "dated in the future (the clock went back)",
            candidate(guard, Timestamp(NOW.seconds() + DAY), 0, Some("restore")),
            NOW,
            GuardVerdict::Young {
                expires: Timestamp(NOW.seconds() + 31 * DAY),
            },
        ),
        (
            "without the property",
            candidate(guard, created, 0, None),
            Timestamp(expires.seconds() + DAY),
            GuardVerdict::NotAGuard,
        ),
        (
            "another value of the property",
            candidate(guard, created, 0, Some("keep")),
            Timestamp(expires.seconds() + DAY),
            GuardVerdict::NotAGuard,
        ),
        (
            "the property inherited by a user's snapshot",
            candidate("tank/data@before-upgrade", created, 0, Some("restore")),
            Timestamp(expires.seconds() + DAY),
            GuardVerdict::NotAGuard,
        ),
        (
            "a policy snapshot",
            candidate(
                "tank/data@wizfs-daily-20261027T0000Z",
                created,
                0,
                Some("restore"),
            ),
            Timestamp(expires.seconds() + DAY),
            GuardVerdict::NotAGuard,
        ),
    ];
    for (label, candidate, now, expected) in cases {
        assert_eq!(
            guard_verdict(&candidate, now, lifetime),
            expected,
            "{label}"
        );
    }
}

#[test]
fn the_plan_lists_guards_only_and_destroys_the_expired_unheld_ones() {
    let lifetime = GuardLifetime::days(7).expect("non-zero");
    let candidates = [
        candidate(
            "tank/a@wizfs-guard-20261101T000000Z",
            Timestamp(NOW.seconds() - 25 * DAY),
            0,
            Some("restore"),
        ),
        candidate("tank/a@daily", Timestamp(NOW.seconds() - 25 * DAY), 0, None),
        candidate(
            "tank/a@wizfs-guard-20261101T000000Z-2",
            Timestamp(NOW.seconds() - 25 * DAY),
            1,
            Some("restore"),
        ),
        candidate(
            "tank/b@wizfs-guard-20261125T000000Z",
            Timestamp(NOW.seconds() - DAY),
            0,
            Some("restore"),
        ),
    ];
    let plan = plan_guard_expiry(&candidates, NOW, lifetime);
    let names: Vec<&str> = plan
        .guards
        .iter()
        .map(|decision| decision.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "tank/a@wizfs-guard-20261101T000000Z",
            "tank/a@wizfs-guard-20261101T000000Z-2",
            "tank/b@wizfs-guard-20261125T000000Z"
        ]
    );
    let expired: Vec<&str> = plan.expired().map(SnapshotName::as_str).collect();
    assert_eq!(expired, ["tank/a@wizfs-guard-20261101T000000Z"]);
    let held: Vec<&str> = plan.held().map(SnapshotName::as_str).collect();
    assert_eq!(held, ["tank/a@wizfs-guard-20261101T000000Z-2"]);
    assert_eq!(plan_guard_expiry(&[], NOW, lifetime), GuardPlan::default());
}

#[test]
fn lifetimes() {
    assert_eq!(GuardLifetime::days(0), None);
    assert_eq!(GuardLifetime::seconds(0), None);
    assert_eq!(
        GuardLifetime::default(),
        GuardLifetime::days(30).expect("30")
    );
    assert_eq!(GuardLifetime::default().as_seconds(), 30 * 86_400);
    assert_eq!(
        GuardLifetime::days(u32::MAX)
            .expect("non-zero")
            .expiry(Timestamp(i64::MAX - 5)),
        Timestamp(i64::MAX),
        "no overflow"
    );
}
