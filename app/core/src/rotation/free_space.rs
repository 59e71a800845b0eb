//! Pruning by free space: when a pool has less than a policy's floor free, which of that
//! policy's snapshots go first. A pure function over a rotation plan and the pools' sizes.
//!
//! Only snapshots that the plan keeps for tier reasons alone are candidates (never held,
//! foreign, future-dated or minimum-count ones), oldest first across the pool, and a policy
//! never goes below its minimum count per dataset. The estimate of what a destroy frees is
//! the snapshot's `used` plus what the plan already destroys: a lower bound (destroying a
//! snapshot can make its neighbour's shared data unique to it), so the list is never too
//! short; the executor re-reads the pool's real free space after each destroy and stops as
//! soon as the floor is reached.

use std::collections::BTreeMap;

use super::{KeepReason, PolicyId, RetentionPolicy, RotationPlan, Verdict};
use crate::names::{DatasetName, PoolName, SnapshotName};

/// A pool's size and free space, in bytes (`zpool list`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolSpace {
    /// The pool.
    pub pool: PoolName,
    /// `size`.
    pub size: u64,
    /// `free`.
    pub free: u64,
}

/// One snapshot to destroy for free space, in the order to destroy them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FreeSpacePrune {
    /// The snapshot.
    pub snapshot: SnapshotName,
    /// The policy that made it.
    pub policy: PolicyId,
    /// That policy's floor, in percent free.
    pub floor_percent: u8,
    /// Its `used`: a lower bound of what destroying it frees.
    pub estimated_bytes: u64,
}

/// Whether `free` bytes of a pool of `size` bytes are at least `floor_percent` % of it.
pub fn floor_reached(size: u64, free: u64, floor_percent: u8) -> bool {
    u128::from(free) * 100 >= u128::from(size) * u128::from(floor_percent.min(100))
}

/// The snapshots to destroy, oldest first, so that every pool in `pools` gets back above the
/// free-space floor of each policy of `policies` that has one, after the destroys `plan`
/// already makes. Empty when every floor is reached.
pub fn plan_free_space(
    plan: &RotationPlan,
    pools: &[PoolSpace],
    policies: &[&RetentionPolicy],
) -> Vec<FreeSpacePrune> {
    let mut prunes = Vec::new();
    for pool in pools {
        let floors: BTreeMap<&PolicyId, (u8, u32)> = policies
            .iter()
            .filter(|policy| policy.scope.dataset.pool() == pool.pool)
            .filter_map(|policy| {
                policy
                    .free_space_floor_percent
                    .map(|floor| (&policy.id, (floor, policy.min_keep)))
            })
            .collect();
        if floors.is_empty() {
            continue;
        }
        let in_pool: Vec<_> = plan
            .decisions
            .iter()
            .filter(|decision| decision.snapshot.dataset().pool() == pool.pool)
            .collect();
        let mut estimated_free = in_pool
            .iter()
            .filter(|decision| decision.is_destroyed())
            .fold(pool.free, |free, decision| {
                free.saturating_add(decision.used)
            });
        // Snapshots each policy still has per dataset once the plan is carried out.
        let mut remaining: BTreeMap<(&DatasetName, &PolicyId), u32> = BTreeMap::new();
        for decision in in_pool.iter().filter(|decision| !decision.is_destroyed()) {
            if let Some(policy) = &decision.managed_by {
                *remaining
                    .entry((decision.snapshot.dataset(), policy))
                    .or_default() += 1;
            }
        }
        let mut candidates: Vec<_> = in_pool
            .iter()
            .filter(|decision| match &decision.verdict {
                Verdict::Keep(reasons) => reasons
                    .iter()
                    .all(|reason| matches!(reason, KeepReason::Tier { .. })),
                Verdict::Destroy(_) => false,
            })
            .filter_map(|decision| {
                let policy = decision.managed_by.as_ref()?;
                let &(floor, minimum) = floors.get(policy)?;
                Some((*decision, policy, floor, minimum))
            })
            .collect();
        candidates.sort_by(|left, right| {
            (left.0.creation, left.0.createtxg, &left.0.snapshot).cmp(&(
                right.0.creation,
                right.0.createtxg,
                &right.0.snapshot,
            ))
        });
        for (decision, policy, floor, minimum) in candidates {
            let highest_unmet = floors
                .values()
                .map(|(floor, _)| *floor)
                .filter(|&floor| !floor_reached(pool.size, estimated_free, floor))
                .max();
            if highest_unmet.is_none() {
                break;
            }
            if floor_reached(pool.size, estimated_free, floor) {
                continue;
            }
            let count = remaining
                .entry((decision.snapshot.dataset(), policy))
                .or_default();
            if *count <= minimum {
                continue;
            }
            *count -= 1;
            estimated_free = estimated_free.saturating_add(decision.used);
            prunes.push(FreeSpacePrune {
                snapshot: decision.snapshot.clone(),
                policy: policy.clone(),
                floor_percent: floor,
                estimated_bytes: decision.used,
            });
        }
    }
    prunes
}
