//! The snapshot operations of the API as methods of [`Services`]: the policies with their
//! last runs, the dry-run plan, a run now, what destroying snapshots would free, and taking
//! and destroying snapshots by hand (the index follows in the background).

use wizfs_api::policies::{
    PlanQuery, PlanView, PoliciesView, PruneRequest, ReclaimView, RunReportView,
};
use wizfs_api::{CreateSnapshotBody, DestroySnapshotsBody, ReclaimableQuery, SnapshotView};
use wizfs_core::{DatasetName, SnapshotName};
use wizfs_snapshots::RunMode;

use crate::recovery::{blocking, dataset};
use crate::views::policies::{only_policies, plan, policy, run_report};
use crate::{ServiceError, Services};

/// Parses `tank/a@x,y,tank/b@z`: a name without `@` is a snapshot of the dataset named
/// before it, as `zfs destroy` takes them.
pub fn parse_snapshot_list(text: &str) -> Result<Vec<SnapshotName>, ServiceError> {
    let mut names: Vec<SnapshotName> = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let name = if item.contains('@') {
            SnapshotName::new(item)
        } else {
            let previous = names.last().ok_or_else(|| {
                ServiceError::BadRequest(format!(
                    "`{item}` needs a dataset: write dataset@{item} first"
                ))
            })?;
            previous.dataset().snapshot(item)
        };
        names.push(name.map_err(|error| ServiceError::BadRequest(error.to_string()))?);
    }
    if names.is_empty() {
        return Err(ServiceError::BadRequest("no snapshot given".into()));
    }
    Ok(names)
}

impl Services {
    /// The configured policies with the last runs that had something to report.
    pub fn policies(&self) -> PoliciesView {
        PoliciesView {
            policies: self.snapshots.policies().iter().map(policy).collect(),
            recent_runs: self.snapshots.recent_reports(),
        }
    }

    /// What the policies would do now (a dry run), for one policy or all.
    pub async fn policies_plan(&self, query: PlanQuery) -> Result<PlanView, ServiceError> {
        let policies = self.snapshots.policies().to_vec();
        self.configured_policy(query.policy.as_deref())?;
        let zfs = self.zfs.clone();
        let estimate = query.estimate.unwrap_or(true);
        blocking(move || {
            let report = wizfs_snapshots::plan_now(
                zfs.as_ref(),
                &policies,
                crate::snapshots::now(),
                estimate,
            );
            let view = plan(&report);
            Ok(match &query.policy {
                Some(id) => only_policies(view, std::slice::from_ref(id)),
                None => view,
            })
        })
        .await
    }

    /// Runs the due policies now.
    pub async fn policies_run(&self) -> Result<RunReportView, ServiceError> {
        self.run_policies(|_| Ok(RunMode::Scheduled)).await
    }

    /// One run of the policies in the mode `mode` gives (refused when none is configured),
    /// on the blocking pool; the index follows what it made and destroyed.
    async fn run_policies(
        &self,
        mode: impl FnOnce(&Self) -> Result<RunMode, ServiceError>,
    ) -> Result<RunReportView, ServiceError> {
        if self.snapshots.policies().is_empty() {
            return Err(ServiceError::NotFound(
                "no snapshot policy is configured".into(),
            ));
        }
        let mode = mode(self)?;
        let services = self.clone();
        blocking(move || {
            let report = services.snapshots.run(
                services.zfs.as_ref(),
                services.indexer.as_ref(),
                &services.index_config,
                crate::snapshots::now(),
                mode,
            );
            Ok(run_report(&report))
        })
        .await
    }

    /// The configured policy `id` names (none for none); an unknown one is refused.
    fn configured_policy(
        &self,
        id: Option<&str>,
    ) -> Result<Option<wizfs_core::rotation::PolicyId>, ServiceError> {
        let Some(id) = id else {
            return Ok(None);
        };
        self.snapshots
            .policies()
            .iter()
            .map(|policy| policy.id())
            .find(|known| known.as_str() == id.trim())
            .cloned()
            .map(Some)
            .ok_or_else(|| ServiceError::NotFound(format!("no policy `{id}` is configured")))
    }

    /// Destroys now what the policies no longer keep (of every policy, or only `policy`'s
    /// snapshots: every policy still protects what it keeps); the index follows.
    pub async fn policies_prune(
        &self,
        request: PruneRequest,
    ) -> Result<RunReportView, ServiceError> {
        self.run_policies(|services| {
            let only = services.configured_policy(request.policy.as_deref())?;
            Ok(RunMode::Prune { only })
        })
        .await
    }

    /// What destroying the snapshots named would free, per dataset.
    pub async fn reclaimable(
        &self,
        query: ReclaimableQuery,
    ) -> Result<Vec<ReclaimView>, ServiceError> {
        let names = parse_snapshot_list(&query.snapshots)?;
        let zfs = self.zfs.clone();
        blocking(move || {
            let mut datasets: Vec<&DatasetName> = names.iter().map(SnapshotName::dataset).collect();
            datasets.sort();
            datasets.dedup();
            let mut views = Vec::new();
            for dataset in datasets {
                let group: Vec<SnapshotName> = names
                    .iter()
                    .filter(|name| name.dataset() == dataset)
                    .cloned()
                    .collect();
                views.push(ReclaimView {
                    dataset: dataset.to_string(),
                    reclaimable_bytes: zfs.reclaimable_space(&group)?,
                    snapshots: group.iter().map(ToString::to_string).collect(),
                });
            }
            Ok(views)
        })
        .await
    }

    /// Re-indexes after snapshots of `roots` (and of their descendants when `recursive`) were
    /// made or destroyed by hand.
    async fn follow_in_index(&self, roots: Vec<DatasetName>, recursive: bool) {
        if self.indexer.is_none() {
            return;
        }
        // In the daemon, a run of the index task (logged; one more at most if one is going
        // on); elsewhere (the CLI without a daemon), a reconciliation of the datasets touched
        // that the configuration includes, awaited, so the change is searchable when the
        // answer comes. A failure only warns: the snapshot change itself succeeded.
        if let Some(driver) = self.tasks.get()
            && driver
                .trigger(crate::tasks::INDEX, "snapshot change")
                .is_ok()
        {
            return;
        }
        let worker = self.clone();
        let reconciled = blocking(move || {
            let config = worker.index_config.clone();
            worker.reconcile_index_of(&|dataset| {
                config.includes(dataset)
                    && roots.iter().any(|root| {
                        dataset == root || (recursive && dataset.is_same_or_descendant_of(root))
                    })
            })
        })
        .await;
        if let Err(error) = reconciled {
            tracing::warn!(%error, "re-indexing after a snapshot change failed");
        }
    }

    /// Takes a snapshot now; the snapshots made.
    pub async fn create_snapshot(
        &self,
        body: CreateSnapshotBody,
    ) -> Result<Vec<SnapshotView>, ServiceError> {
        let dataset = dataset(body.dataset.trim())?;
        let name = dataset
            .snapshot(body.name.trim())
            .map_err(|error| ServiceError::BadRequest(error.to_string()))?;
        let mut names = vec![name];
        for also in &body.also {
            names.push(
                SnapshotName::new(also.trim())
                    .map_err(|error| ServiceError::BadRequest(error.to_string()))?,
            );
        }
        let properties = body
            .properties
            .iter()
            .map(|(property, value)| {
                wizfs_zfs::PropertyName::new(property.trim())
                    .map(|property| (property, value.clone()))
                    .map_err(|error| ServiceError::BadRequest(error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let zfs = self.zfs.clone();
        let recursive = body.recursive;
        let roots: Vec<DatasetName> = names.iter().map(|name| name.dataset().clone()).collect();
        let made = blocking(move || {
            zfs.create_snapshots(&names, recursive, &properties)?;
            let scope = if recursive {
                wizfs_zfs::Scope::Recursive
            } else {
                wizfs_zfs::Scope::Dataset
            };
            let mut made = Vec::new();
            for name in &names {
                made.extend(
                    zfs.list_snapshots(name.dataset(), scope)?
                        .iter()
                        .filter(|snapshot| snapshot.name.short_name() == name.short_name())
                        .map(SnapshotView::from)
                        .collect::<Vec<_>>(),
                );
            }
            // Two names of one recursive tree list the same descendants.
            made.sort_by(|a, b| a.name.cmp(&b.name));
            made.dedup_by(|a, b| a.name == b.name);
            Ok(made)
        })
        .await?;
        tracing::info!(snapshots = made.len(), "snapshot taken by hand");
        self.follow_in_index(roots, recursive).await;
        Ok(made)
    }

    /// Destroys snapshots (a held one fails with the reason); the names destroyed.
    pub async fn destroy_snapshots(
        &self,
        body: DestroySnapshotsBody,
    ) -> Result<Vec<String>, ServiceError> {
        let names = parse_snapshot_list(&body.snapshots.join(","))?;
        let zfs = self.zfs.clone();
        let destroyed = names.iter().map(ToString::to_string).collect::<Vec<_>>();
        let roots: Vec<DatasetName> = names.iter().map(|name| name.dataset().clone()).collect();
        let recursive = body.recursive;
        blocking(move || {
            let options = wizfs_zfs::DestroyOptions {
                recursive: body.recursive,
                defer: body.defer,
            };
            zfs.destroy_snapshots(&names, options)?;
            Ok(())
        })
        .await?;
        tracing::info!(?destroyed, "snapshots destroyed by hand");
        self.follow_in_index(roots, recursive).await;
        Ok(destroyed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_lists_take_the_dataset_of_the_name_before() {
        let names = parse_snapshot_list("tank/a@x, y,tank/b@z").expect("a list");
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["tank/a@x", "tank/a@y", "tank/b@z"]);
        for bad in ["one", "tank/home@@x", "", " , "] {
            assert!(
                matches!(parse_snapshot_list(bad), Err(ServiceError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
