//! When to start SMART self-tests: a pure planner. By default a short test every week and a
//! long (extended) test every month per disk; never on a disk whose pool is scrubbing (both
//! read the whole disk, and a scrub is the more useful of the two), never while a test is
//! already running on it, never on a sleeping disk, and at most one long test per pool at a
//! time so a pool does not lose the speed of all its disks at once.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::identity::DiskId;
use crate::Timestamp;

const DAY_SECONDS: i64 = 24 * 60 * 60;

/// `[self_tests]` of the health configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfTestPolicy {
    pub enabled: bool,
    /// Days between short self-tests.
    pub short_every_days: u32,
    /// Days between long self-tests.
    pub long_every_days: u32,
}

impl Default for SelfTestPolicy {
    fn default() -> Self {
        SelfTestPolicy {
            enabled: true,
            short_every_days: 7,
            long_every_days: 30,
        }
    }
}

/// A kind of self-test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestKind {
    Short,
    Long,
}

impl SelfTestKind {
    /// The `smartctl -t` argument.
    pub fn smartctl_argument(self) -> &'static str {
        match self {
            SelfTestKind::Short => "short",
            SelfTestKind::Long => "long",
        }
    }
}

/// What the planner knows about one disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskTestState {
    pub disk: DiskId,
    /// When WiZFS last started (or saw complete) a short test; `None` if never.
    #[serde(default, with = "crate::serde_time::optional_seconds")]
    pub last_short: Option<Timestamp>,
    #[serde(default, with = "crate::serde_time::optional_seconds")]
    pub last_long: Option<Timestamp>,
    /// A self-test is running now (from the SMART data).
    pub test_running: bool,
    /// The disk was asleep at the last reading (`-n standby`): a test would wake it.
    pub sleeping: bool,
    /// Pools with a vdev on this disk.
    pub pools: BTreeSet<String>,
}

/// One self-test to start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSelfTest {
    pub disk: DiskId,
    pub kind: SelfTestKind,
}

/// Plans which self-tests to start now. `scrubbing_pools` are the pools with a scrub (or
/// resilver) in progress; `long_tests_running` the pools that already have a long test
/// running on one of their disks.
pub fn plan_self_tests(
    disks: &[DiskTestState],
    scrubbing_pools: &BTreeSet<String>,
    long_tests_running: &BTreeSet<String>,
    policy: &SelfTestPolicy,
    now: Timestamp,
) -> Vec<PlannedSelfTest> {
    if !policy.enabled {
        return Vec::new();
    }
    let due = |last: Option<Timestamp>, every_days: u32| {
        every_days > 0
            && last.is_none_or(|last| {
                now.seconds().saturating_sub(last.seconds())
                    >= i64::from(every_days).saturating_mul(DAY_SECONDS)
            })
    };
    let mut pools_with_long: BTreeSet<String> = long_tests_running.clone();
    let mut plan = Vec::new();
    for disk in disks {
        if disk.test_running || disk.sleeping || !disk.pools.is_disjoint(scrubbing_pools) {
            continue;
        }
        if due(disk.last_long, policy.long_every_days) {
            if disk.pools.is_disjoint(&pools_with_long) {
                pools_with_long.extend(disk.pools.iter().cloned());
                plan.push(PlannedSelfTest {
                    disk: disk.disk.clone(),
                    kind: SelfTestKind::Long,
                });
            }
            // A long test is due but waits for another disk of the pool: no short test in
            // between, the long one covers it.
            continue;
        }
        // The long test also counts as a short one.
        let last_any = disk.last_short.max(disk.last_long);
        if due(last_any, policy.short_every_days) {
            plan.push(PlannedSelfTest {
                disk: disk.disk.clone(),
                kind: SelfTestKind::Short,
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn days_ago(days: i64) -> Option<Timestamp> {
        Some(Timestamp(NOW - days * DAY_SECONDS))
    }

    fn disk(serial: &str, pools: &[&str]) -> DiskTestState {
        DiskTestState {
            disk: DiskId::ModelSerial {
                model: "M".into(),
                serial: serial.into(),
            },
            last_short: days_ago(1),
            last_long: days_ago(20),
            test_running: false,
            sleeping: false,
            pools: pools.iter().map(|pool| (*pool).to_owned()).collect(),
        }
    }

    fn plan(
        disks: &[DiskTestState],
        scrubbing: &[&str],
        long_running: &[&str],
    ) -> Vec<(String, SelfTestKind)> {
        let set = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        plan_self_tests(
            disks,
            &set(scrubbing),
            &set(long_running),
            &SelfTestPolicy::default(),
            Timestamp(NOW),
        )
        .into_iter()
        .map(|planned| match planned.disk {
            DiskId::ModelSerial { serial, .. } => (serial, planned.kind),
            other => (other.token(), planned.kind),
        })
        .collect()
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            disks: Vec<DiskTestState>,
            scrubbing: &'static [&'static str],
            long_running: &'static [&'static str],
            expected: Vec<(&'static str, SelfTestKind)>,
        }
        let with = |serial: &str, change: &dyn Fn(&mut DiskTestState)| {
            let mut state = disk(serial, &["tank"]);
            change(&mut state);
            state
        };
        let cases = vec![
            Case {
                name: "recent tests: nothing to do",
                disks: vec![disk("a", &["tank"])],
                scrubbing: &[],
                long_running: &[],
                expected: vec![],
            },
            Case {
                name: "short due after a week",
                disks: vec![with("a", &|d| d.last_short = days_ago(7))],
                scrubbing: &[],
                long_running: &[],
                expected: vec![("a", SelfTestKind::Short)],
            },
            Case {
                name: "six days is not a week",
                disks: vec![with("a", &|d| d.last_short = days_ago(6))],
                scrubbing: &[],
                long_running: &[],
                expected: vec![],
            },
            Case {
                name: "never tested: long first",
                disks: vec![with("a", &|d| {
                    d.last_short = None;
                    d.last_long = None;
                })],
                scrubbing: &[],
                long_running: &[],
                expected: vec![("a", SelfTestKind::Long)],
            },
            Case {
                name: "a recent long test counts as a short one",
                disks: vec![with("a", &|d| {
                    d.last_short = days_ago(10);
                    d.last_long = days_ago(2);
                })],
                scrubbing: &[],
                long_running: &[],
                expected: vec![],
            },
            Case {
                name: "never while the pool scrubs",
                disks: vec![with("a", &|d| d.last_long = days_ago(40))],
                scrubbing: &["tank"],
                long_running: &[],
                expected: vec![],
            },
            Case {
                name: "a scrub of another pool does not matter",
                disks: vec![with("a", &|d| d.last_long = days_ago(40))],
                scrubbing: &["other"],
                long_running: &[],
                expected: vec![("a", SelfTestKind::Long)],
            },
            Case {
                name: "never while a test runs",
                disks: vec![with("a", &|d| {
                    d.last_long = days_ago(40);
                    d.test_running = true;
                })],
                scrubbing: &[],
                long_running: &[],
                expected: vec![],
            },
            Case {
                name: "never on a sleeping disk",
                disks: vec![with("a", &|d| {
                    d.last_short = days_ago(8);
                    d.sleeping = true;
                })],
                scrubbing: &[],
                long_running: &[],
                expected: vec![],
            },
            Case {
                name: "one long test per pool; the other disk waits (no short either)",
                disks: vec![
                    with("a", &|d| d.last_long = days_ago(31)),
                    with("b", &|d| {
                        d.last_long = days_ago(31);
                        d.last_short = days_ago(8);
                    }),
                ],
                scrubbing: &[],
                long_running: &[],
                expected: vec![("a", SelfTestKind::Long)],
            },
            Case {
                name: "a long test already running in the pool blocks a new one",
                disks: vec![with("a", &|d| d.last_long = days_ago(31))],
                scrubbing: &[],
                long_running: &["tank"],
                expected: vec![],
            },
            Case {
                name: "disks of different pools test in parallel",
                disks: vec![with("a", &|d| d.last_long = days_ago(31)), {
                    let mut other = disk("b", &["backup"]);
                    other.last_long = days_ago(31);
                    other
                }],
                scrubbing: &[],
                long_running: &[],
                expected: vec![("a", SelfTestKind::Long), ("b", SelfTestKind::Long)],
            },
            Case {
                name: "a disk in no pool is tested too",
                disks: vec![{
                    let mut spare = disk("s", &[]);
                    spare.last_short = days_ago(9);
                    spare
                }],
                scrubbing: &["tank"],
                long_running: &[],
                expected: vec![("s", SelfTestKind::Short)],
            },
        ];
        for case in cases {
            let expected: Vec<(String, SelfTestKind)> = case
                .expected
                .iter()
                .map(|(serial, kind)| ((*serial).to_owned(), *kind))
                .collect();
            assert_eq!(
                plan(&case.disks, case.scrubbing, case.long_running),
                expected,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn disabled_policy_plans_nothing() {
        let mut state = disk("a", &["tank"]);
        state.last_long = None;
        let policy = SelfTestPolicy {
            enabled: false,
            ..SelfTestPolicy::default()
        };
        let planned = plan_self_tests(
            &[state],
            &BTreeSet::new(),
            &BTreeSet::new(),
            &policy,
            Timestamp(NOW),
        );
        assert_eq!(planned, Vec::new());
    }
}
