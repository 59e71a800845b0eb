//! Tests of pruning guard snapshots over `FakeZfs` (two pools, a clock set per snapshot):
//! only expired, unheld snapshots with a guard name and `wizfs:guard=restore` go; the same
//! is proven on real OpenZFS by `tests/platform/restore.rs` in the VM.

use std::sync::{Arc, Mutex};

use wizfs_core::guards::{GuardLifetime, GuardVerdict};
use wizfs_core::restore::guard_snapshot_name;
use wizfs_core::{DatasetName, PoolName, SnapshotName, Timestamp};
use wizfs_zfs::{FakeZfs, HoldTag, PropertyName, Scope, Zfs};

use super::prune_guard_snapshots;
use crate::GUARD_PROPERTY;

const DAY: i64 = 86_400;
const NOW: Timestamp = Timestamp(1_795_682_712);

struct Pools {
    _directory: tempfile::TempDir,
    zfs: FakeZfs,
    clock: Arc<Mutex<Timestamp>>,
}

impl Pools {
    fn new() -> Pools {
        let directory = tempfile::tempdir().expect("temporary directory");
        let zfs = FakeZfs::open(directory.path().join("zfs")).expect("fake zfs");
        let clock = Arc::new(Mutex::new(NOW));
        let shared = clock.clone();
        zfs.set_clock(Arc::new(move || *shared.lock().expect("clock lock")));
        for pool in ["tank", "backup"] {
            zfs.create_pool(&PoolName::new(pool).expect("pool name"), 1 << 30)
                .expect("pool");
        }
        zfs.create_filesystem(&DatasetName::new("tank/home").expect("name"), &[])
            .expect("dataset");
        Pools {
            _directory: directory,
            zfs,
            clock,
        }
    }

    /// Takes `name` at `NOW - age_days`, with `wizfs:guard=<value>` when given.
    fn snapshot(&self, name: &SnapshotName, age_days: i64, guard: Option<&str>) {
        *self.clock.lock().expect("clock lock") = Timestamp(NOW.seconds() - age_days * DAY);
        let properties: Vec<(PropertyName, String)> = guard
            .map(|value| {
                (
                    PropertyName::new(GUARD_PROPERTY).expect("property"),
                    value.to_owned(),
                )
            })
            .into_iter()
            .collect();
        self.zfs
            .create_snapshots(std::slice::from_ref(name), false, &properties)
            .expect("snapshot");
    }

    /// A guard name of `dataset` for the time `age_days` ago.
    fn guard(&self, dataset: &str, age_days: i64, attempt: u32) -> SnapshotName {
        let dataset = DatasetName::new(dataset).expect("dataset");
        let name =
            guard_snapshot_name(&dataset, Timestamp(NOW.seconds() - age_days * DAY), attempt)
                .expect("guard name");
        self.snapshot(&name, age_days, Some("restore"));
        name
    }

    fn remaining(&self) -> Vec<String> {
        let mut names = Vec::new();
        for pool in ["tank", "backup"] {
            let root = DatasetName::new(pool).expect("name");
            names.extend(
                self.zfs
                    .list_snapshots(&root, Scope::Recursive)
                    .expect("list")
                    .into_iter()
                    .map(|snapshot| snapshot.name.to_string()),
            );
        }
        names.sort();
        names
    }
}

#[test]
fn only_expired_unheld_guards_are_destroyed() {
    let pools = Pools::new();
    let lifetime = GuardLifetime::days(30).expect("non-zero");
    let old = pools.guard("tank/home", 45, 0);
    let old_retry = pools.guard("tank/home", 45, 1);
    let old_held = pools.guard("tank/home", 60, 0);
    pools
        .zfs
        .hold(&old_held, &HoldTag::new("keep").expect("tag"), false)
        .expect("hold");
    let young = pools.guard("tank/home", 29, 0);
    let other_pool = pools.guard("backup", 31, 0);
    // Not guards: a user snapshot with the property (as if inherited), a guard name without
    // it, a policy snapshot.
    let user = DatasetName::new("tank/home")
        .expect("name")
        .snapshot("before-upgrade")
        .expect("name");
    pools.snapshot(&user, 90, Some("restore"));
    let unmarked = guard_snapshot_name(
        &DatasetName::new("tank").expect("name"),
        Timestamp(NOW.seconds() - 90 * DAY),
        0,
    )
    .expect("name");
    pools.snapshot(&unmarked, 90, None);
    let policy = DatasetName::new("tank")
        .expect("name")
        .snapshot("wizfs-daily-20260801T0000Z")
        .expect("name");
    pools.snapshot(&policy, 90, Some("restore"));

    let report = prune_guard_snapshots(&pools.zfs, NOW, lifetime).expect("prune");
    let mut destroyed: Vec<String> = report.destroyed.iter().map(ToString::to_string).collect();
    destroyed.sort();
    let mut expected = vec![
        old.to_string(),
        old_retry.to_string(),
        other_pool.to_string(),
    ];
    expected.sort();
    assert_eq!(destroyed, expected);
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.plan.guards.len(), 5, "{report:?}");
    assert!(
        report
            .plan
            .guards
            .iter()
            .any(|decision| decision.name == old_held
                && matches!(decision.verdict, GuardVerdict::Held { holds: 1, .. }))
    );
    assert!(
        report
            .plan
            .guards
            .iter()
            .any(|decision| decision.name == young
                && matches!(decision.verdict, GuardVerdict::Young { .. }))
    );
    assert_eq!(
        report.summary(),
        "3 expired guard snapshots destroyed; 2 kept (1 held)"
    );
    let mut left = vec![
        old_held.to_string(),
        young.to_string(),
        user.to_string(),
        unmarked.to_string(),
        policy.to_string(),
    ];
    left.sort();
    assert_eq!(pools.remaining(), left);

    // Nothing more to do the next time; the held one goes once released and expired.
    let again = prune_guard_snapshots(&pools.zfs, NOW, lifetime).expect("prune");
    assert!(again.destroyed.is_empty());
    pools
        .zfs
        .release(&old_held, &HoldTag::new("keep").expect("tag"), false)
        .expect("release");
    let released = prune_guard_snapshots(&pools.zfs, NOW, lifetime).expect("prune");
    assert_eq!(released.destroyed, [old_held]);
    assert_eq!(
        released.summary(),
        "1 expired guard snapshot destroyed; 1 kept (0 held)"
    );
}

#[test]
fn a_guard_held_after_the_listing_is_kept_and_reported() {
    let pools = Pools::new();
    let first = pools.guard("tank/home", 45, 0);
    let second = pools.guard("tank/home", 45, 1);
    // As if the plan had been made just before someone placed a hold on `first`.
    let expired = |name: &SnapshotName| wizfs_core::guards::GuardDecision {
        name: name.clone(),
        creation: Timestamp(NOW.seconds() - 45 * DAY),
        verdict: GuardVerdict::Expired { expired: NOW },
    };
    let plan = wizfs_core::guards::GuardPlan {
        guards: vec![expired(&first), expired(&second)],
    };
    pools
        .zfs
        .hold(&first, &HoldTag::new("late").expect("tag"), false)
        .expect("hold");
    let mut report = super::GuardPruneReport::default();
    super::destroy_expired(&pools.zfs, &plan, &mut report);
    assert_eq!(report.destroyed, [second]);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, first);
    assert!(!report.is_complete());
    assert_eq!(pools.remaining(), [first.to_string()]);
}
