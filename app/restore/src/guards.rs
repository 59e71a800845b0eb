//! Pruning expired guard snapshots. A restore in place takes a guard snapshot first
//! (`execute.rs`); [`prune_guard_snapshots`] destroys those that outlived their lifetime,
//! as the pure planner `wizfs_core::guards` decides: only snapshots whose name is a guard
//! name **and** that carry `wizfs:guard=restore`, never a held one (the listing's `userrefs`
//! says so, and the destroy asks for no deferred destruction, so a hold placed meanwhile
//! makes ZFS refuse it). Every pool is listed in one `zfs list` with the property; expired
//! guards are destroyed per dataset in one command, one by one when that fails.

use std::collections::BTreeMap;

use wizfs_core::guards::{GuardLifetime, GuardPlan, GuardVerdict, plan_guard_expiry};
use wizfs_core::{DatasetName, SnapshotName, Timestamp};
use wizfs_zfs::{DestroyOptions, PropertyName, Scope, Zfs, ZfsError};

use crate::error::{RestoreError, RestoreResult};
use crate::execute::GUARD_PROPERTY;

#[cfg(test)]
mod tests;

/// What a prune did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardPruneReport {
    /// Every guard snapshot found, with its verdict (expiry, holds), pool by pool.
    pub plan: GuardPlan,
    /// The expired guards destroyed.
    pub destroyed: Vec<SnapshotName>,
    /// Expired guards that could not be destroyed, with ZFS's reason (held or cloned
    /// meanwhile, busy): kept, tried again next time.
    pub failed: Vec<(SnapshotName, String)>,
    /// Pools whose snapshots could not be listed, with the reason.
    pub errors: Vec<String>,
}

impl GuardPruneReport {
    /// One line for a task's summary: `2 expired guard snapshots destroyed; 5 kept (1 held)`.
    pub fn summary(&self) -> String {
        let held = self.plan.held().count();
        let kept = self.plan.guards.len() - self.plan.expired().count();
        let mut line = format!(
            "{} expired guard snapshot{} destroyed; {kept} kept ({held} held)",
            self.destroyed.len(),
            if self.destroyed.len() == 1 { "" } else { "s" },
        );
        if !self.failed.is_empty() {
            line.push_str(&format!("; {} could not be destroyed", self.failed.len()));
        }
        if !self.errors.is_empty() {
            line.push_str(&format!(
                "; {} pool(s) could not be listed",
                self.errors.len()
            ));
        }
        line
    }

    /// Whether everything that should have happened did.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.errors.is_empty()
    }
}

/// Destroys the guard snapshots of every imported pool that expired at `now` (created
/// `lifetime` or longer before it) and are not held. Fails only when the pools cannot be
/// listed; a pool whose snapshots cannot be listed, or a guard that cannot be destroyed, is
/// recorded in the report and the rest goes on.
pub fn prune_guard_snapshots(
    zfs: &dyn Zfs,
    now: Timestamp,
    lifetime: GuardLifetime,
) -> RestoreResult<GuardPruneReport> {
    let property =
        PropertyName::new(GUARD_PROPERTY).map_err(|error| RestoreError::GuardListing {
            scope: "every pool".to_owned(),
            source: ZfsError::from(error),
        })?;
    let pools = zfs
        .list_pools()
        .map_err(|source| RestoreError::GuardListing {
            scope: "every pool".to_owned(),
            source,
        })?;
    let mut report = GuardPruneReport::default();
    for pool in pools {
        let root = DatasetName::from(pool.name.clone());
        let rows = match zfs.list_snapshots_with_properties(
            &root,
            Scope::Recursive,
            std::slice::from_ref(&property),
        ) {
            Ok(rows) => rows,
            Err(source) => {
                report.errors.push(format!(
                    "listing the snapshots of pool {}: {source}",
                    pool.name
                ));
                continue;
            }
        };
        let candidates: Vec<_> = rows
            .into_iter()
            .map(|(snapshot, values)| wizfs_core::guards::GuardCandidate {
                name: snapshot.name,
                creation: snapshot.creation,
                user_refs: snapshot.user_refs,
                guard_property: values.into_iter().next().flatten(),
            })
            .collect();
        let plan = plan_guard_expiry(&candidates, now, lifetime);
        destroy_expired(zfs, &plan, &mut report);
        report.plan.guards.extend(plan.guards);
    }
    Ok(report)
}

/// Destroys the expired guards of `plan`, one command per dataset, one by one when that
/// fails (a guard may have been held, cloned or destroyed meanwhile).
fn destroy_expired(zfs: &dyn Zfs, plan: &GuardPlan, report: &mut GuardPruneReport) {
    let mut by_dataset: BTreeMap<&DatasetName, Vec<SnapshotName>> = BTreeMap::new();
    for decision in &plan.guards {
        if matches!(decision.verdict, GuardVerdict::Expired { .. }) {
            by_dataset
                .entry(decision.name.dataset())
                .or_default()
                .push(decision.name.clone());
        }
    }
    // Never `-d`: a held snapshot must make the destroy fail, not be marked for later.
    let options = DestroyOptions::default();
    for (_, names) in by_dataset {
        if zfs.destroy_snapshots(&names, options).is_ok() {
            report.destroyed.extend(names);
            continue;
        }
        for name in names {
            match zfs.destroy_snapshots(std::slice::from_ref(&name), options) {
                Ok(()) => report.destroyed.push(name),
                Err(ZfsError::NotFound { .. }) => {}
                Err(error) => report.failed.push((name, error.to_string())),
            }
        }
    }
}
