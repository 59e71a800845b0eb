//! The snapshot scheduler of the daemon: the configured policies, what the executor of
//! `wizfs-snapshots` remembers between runs, and the last run reports. Every minute the
//! daemon runs the due policies with the real clock on the blocking pool, then brings the
//! search index up to date with the snapshots it made and destroyed (only the datasets that
//! changed), logs the report and keeps it for `GET /api/v1/policies`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use wizfs_api::policies::RunReportView;
use wizfs_core::Timestamp;
use wizfs_snapshots::{PolicyConfig, RunMemory, RunMode, RunReport};
use wizfs_zfs::Zfs;

mod holds;
mod operations;

pub use operations::parse_snapshot_list;

/// How many run reports the daemon keeps.
pub const KEPT_REPORTS: usize = 48;

/// The policies and the scheduler's state, shared by the schedule and the API.
#[derive(Clone, Debug, Default)]
pub struct SnapshotService {
    /// Replaced whole when the console changes a policy.
    policies: Arc<RwLock<Arc<Vec<PolicyConfig>>>>,
    memory: Arc<Mutex<RunMemory>>,
    reports: Arc<Mutex<VecDeque<RunReportView>>>,
}

impl SnapshotService {
    /// A service for `policies`, with nothing remembered yet.
    pub fn new(policies: Vec<PolicyConfig>) -> Self {
        Self {
            policies: Arc::new(RwLock::new(Arc::new(policies))),
            ..Self::default()
        }
    }

    /// The configured policies, as they are now.
    pub fn policies(&self) -> Arc<Vec<PolicyConfig>> {
        self.policies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The policies from now on (the console changed them); a run under way finishes with
    /// the ones it started with.
    pub fn set_policies(&self, policies: Vec<PolicyConfig>) {
        *self
            .policies
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(policies);
    }

    /// The last run reports, newest first, each with something to say (runs that found
    /// nothing due are not kept).
    pub fn recent_reports(&self) -> Vec<RunReportView> {
        self.reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Runs the policies once at `now` (blocking: call on the blocking pool), then indexes
    /// and un-indexes what changed through `indexer` when there is one.
    pub fn run(
        &self,
        zfs: &dyn Zfs,
        indexer: Option<&wizfs_indexer::Indexer>,
        index_config: &crate::config::IndexConfig,
        now: Timestamp,
        mode: RunMode,
    ) -> RunReport {
        let report = {
            let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
            wizfs_snapshots::run(zfs, &self.policies(), now, &mut memory, mode)
        };
        if let Some(indexer) = indexer {
            index_changes(zfs, indexer, index_config, &report);
        }
        log(&report);
        let eventful = report.pruned
            || report.has_errors()
            || report
                .policies
                .iter()
                .any(|run| run.due.is_some() || !run.destroyed.is_empty());
        if eventful {
            let mut reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
            reports.push_front(crate::views::policies::run_report(&report));
            reports.truncate(KEPT_REPORTS);
        }
        report
    }
}

/// Indexes new snapshots and forgets destroyed ones, dataset by dataset; failures only warn
/// (the periodic reconciliation catches up).
fn index_changes(
    zfs: &dyn Zfs,
    indexer: &wizfs_indexer::Indexer,
    index_config: &crate::config::IndexConfig,
    report: &RunReport,
) {
    for dataset in report.touched_datasets() {
        if !index_config.includes(&dataset) {
            continue;
        }
        let found = zfs.list_datasets(Some(&dataset)).map(|datasets| {
            datasets
                .into_iter()
                .find(|candidate| candidate.name == dataset)
        });
        let result = match found {
            Ok(Some(info)) if info.mounted => indexer
                .sync_dataset(&info, &mut |_| {})
                .map(drop)
                .map_err(|error| error.to_string()),
            Ok(_) => Ok(()),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = result {
            tracing::warn!(%dataset, %error, "indexing after a snapshot run failed");
        }
    }
}

fn log(report: &RunReport) {
    for run in &report.policies {
        if run.due.is_none() && run.destroyed.is_empty() && run.errors.is_empty() {
            continue;
        }
        let skipped = run.skipped.as_ref().map(|skipped| skipped.describe());
        tracing::info!(
            policy = %run.policy,
            created = run.created.len(),
            destroyed = run.destroyed.len(),
            kept = ?run.kept,
            skipped = ?skipped,
            "snapshot policy ran"
        );
        for error in &run.errors {
            tracing::warn!(policy = %run.policy, %error, "snapshot policy failed");
        }
    }
    for error in &report.errors {
        tracing::warn!(%error, "snapshot run failed");
    }
}

/// The real clock, in whole seconds.
pub fn now() -> Timestamp {
    wizfs_recovery::system_clock()
}
