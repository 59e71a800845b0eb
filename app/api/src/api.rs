//! [`Api`]: every operation of `/api/v1` as one typed method (the file and download streams
//! and the event stream aside), so that a front end can call the daemon's services without
//! HTTP — the console calls them in-process — and every implementation answers the same
//! requests with the same views. Futures are boxed and `Send`, so the trait is used as
//! `dyn Api`; failures are a [`Failure`]: a kind and a message for a person.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::backups::{BackupJobQuery, BackupRunView, BackupsView};
use crate::health::{
    AcknowledgeBody, AlertsView, ChannelChange, ChannelView, HealthView, HistoryQuery, HistoryView,
    ScrubBody, SelfTestBody, StartedView, TestQuery, TestResult,
};
use crate::policies::{
    PlanQuery, PoliciesView, PolicyChange, PolicyPreviewView, PruneRequest, ReclaimView,
    RunReportView,
};
use crate::progress::ProgressView;
use crate::{
    BookmarkView, CompareQuery, CreateBookmarkBody, CreateSnapshotBody, DatasetQuery, DatasetView,
    DestroyBookmarkBody, DestroySnapshotsBody, DiffEntryView, DiffQuery, EntryQuery, EntryView,
    ErrorKind, FileVersionView, HoldBody, HoldView, IndexReportView, IndexRequest, PlanView,
    PoolView, ReclaimableQuery, ReportView, RestoreBody, RunView, SearchRequest, SearchResultsView,
    SnapshotQuery, SnapshotView, TaskRunsQuery, TaskView, TriggerRequest, VersionsQuery,
};

/// Why an operation failed: what kind of failure, and what to tell a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The answer of an operation, later.
pub type ApiFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Failure>> + Send + 'a>>;

/// The operations of `/api/v1`, typed: each method is the route named in its documentation.
pub trait Api: Send + Sync {
    /// `GET /api/v1/pools`.
    fn pools(&self) -> ApiFuture<'_, Vec<PoolView>>;
    /// `GET /api/v1/datasets`.
    fn datasets(&self) -> ApiFuture<'_, Vec<DatasetView>>;
    /// `GET /api/v1/snapshots`.
    fn snapshots(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<SnapshotView>>;
    /// `POST /api/v1/snapshots`: the snapshots made.
    fn create_snapshot(&self, body: CreateSnapshotBody) -> ApiFuture<'_, Vec<SnapshotView>>;
    /// `POST /api/v1/snapshots/destroy`: the names destroyed.
    fn destroy_snapshots(&self, body: DestroySnapshotsBody) -> ApiFuture<'_, Vec<String>>;
    /// `GET /api/v1/snapshots/reclaimable`.
    fn reclaimable(&self, query: ReclaimableQuery) -> ApiFuture<'_, Vec<ReclaimView>>;
    /// `GET /api/v1/holds`.
    fn holds(&self, query: SnapshotQuery) -> ApiFuture<'_, Vec<HoldView>>;
    /// `POST /api/v1/holds`.
    fn hold(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>>;
    /// `POST /api/v1/holds/release`.
    fn release(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>>;
    /// `GET /api/v1/bookmarks`.
    fn bookmarks(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<BookmarkView>>;
    /// `POST /api/v1/bookmarks`.
    fn create_bookmark(&self, body: CreateBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>>;
    /// `POST /api/v1/bookmarks/destroy`.
    fn destroy_bookmark(&self, body: DestroyBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>>;
    /// `GET /api/v1/diff`.
    fn diff(&self, query: DiffQuery) -> ApiFuture<'_, Vec<DiffEntryView>>;
    /// `GET /api/v1/browse`.
    fn browse(&self, query: EntryQuery) -> ApiFuture<'_, Vec<EntryView>>;
    /// `GET /api/v1/versions`.
    fn versions(&self, query: VersionsQuery) -> ApiFuture<'_, Vec<FileVersionView>>;
    /// `POST /api/v1/restore/plan`.
    fn restore_plan(&self, body: RestoreBody) -> ApiFuture<'_, PlanView>;
    /// `POST /api/v1/restore`.
    fn restore(&self, body: RestoreBody) -> ApiFuture<'_, ReportView>;
    /// `GET /api/v1/compare`: a unified diff.
    fn compare(&self, query: CompareQuery) -> ApiFuture<'_, String>;
    /// `GET /api/v1/search`.
    fn search(&self, request: SearchRequest) -> ApiFuture<'_, SearchResultsView>;
    /// `POST /api/v1/index`.
    fn reindex(&self, request: IndexRequest) -> ApiFuture<'_, Vec<IndexReportView>>;
    /// `GET /api/v1/policies`.
    fn policies(&self) -> ApiFuture<'_, PoliciesView>;
    /// `GET /api/v1/policies/plan`.
    fn policies_plan(&self, query: PlanQuery) -> ApiFuture<'_, crate::policies::PlanView>;
    /// `POST /api/v1/policies/run`.
    fn policies_run(&self) -> ApiFuture<'_, RunReportView>;
    /// `POST /api/v1/policies/prune`.
    fn policies_prune(&self, request: PruneRequest) -> ApiFuture<'_, RunReportView>;
    /// `POST /api/v1/policies/preview`: what a policy change would do, nothing saved.
    fn preview_policy_change(&self, change: PolicyChange) -> ApiFuture<'_, PolicyPreviewView>;
    /// `POST /api/v1/policies/change`: the policies once the change is saved and followed.
    fn change_policy(&self, change: PolicyChange) -> ApiFuture<'_, PoliciesView>;
    /// `GET /api/v1/backups`.
    fn backups(&self) -> ApiFuture<'_, BackupsView>;
    /// `POST /api/v1/backups/run`: the run, once finished.
    fn run_backup(&self, query: BackupJobQuery) -> ApiFuture<'_, BackupRunView>;
    /// `GET /api/v1/backups/runs`: newest first.
    fn backup_runs(&self, query: BackupJobQuery) -> ApiFuture<'_, Vec<BackupRunView>>;
    /// `GET /api/v1/health`: the latest round.
    fn health(&self) -> ApiFuture<'_, HealthView>;
    /// `POST /api/v1/health/check`: a round now.
    fn health_check(&self) -> ApiFuture<'_, HealthView>;
    /// `GET /api/v1/health/alerts`.
    fn health_alerts(&self) -> ApiFuture<'_, AlertsView>;
    /// `GET /api/v1/health/history`.
    fn health_history(&self, query: HistoryQuery) -> ApiFuture<'_, HistoryView>;
    /// `POST /api/v1/health/test-notification`.
    fn test_notification(&self, query: TestQuery) -> ApiFuture<'_, Vec<TestResult>>;
    /// `GET /api/v1/health/channels`: the notification channels.
    fn health_channels(&self) -> ApiFuture<'_, Vec<ChannelView>>;
    /// `POST /api/v1/health/channels`: the channels once the change is saved and followed.
    fn change_channel(&self, change: ChannelChange) -> ApiFuture<'_, Vec<ChannelView>>;
    /// `POST /api/v1/health/alerts/acknowledge`: the alert book after it.
    fn acknowledge_alert(&self, body: AcknowledgeBody) -> ApiFuture<'_, AlertsView>;
    /// `POST /api/v1/health/scrub`.
    fn start_scrub(&self, body: ScrubBody) -> ApiFuture<'_, StartedView>;
    /// `POST /api/v1/health/self-test`.
    fn start_self_test(&self, body: SelfTestBody) -> ApiFuture<'_, StartedView>;
    /// `GET /api/v1/tasks/progress`.
    fn progress(&self) -> ApiFuture<'_, Vec<ProgressView>>;
    /// `GET /api/v1/tasks`: the background tasks now.
    fn tasks(&self) -> ApiFuture<'_, Vec<TaskView>>;
    /// `GET /api/v1/tasks/runs`: a task's last runs, newest first.
    fn task_runs(&self, query: TaskRunsQuery) -> ApiFuture<'_, Vec<RunView>>;
    /// `POST /api/v1/tasks/trigger`: run a task now; its status.
    fn trigger_task(&self, request: TriggerRequest) -> ApiFuture<'_, TaskView>;
}
