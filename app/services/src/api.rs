//! [`wizfs_api::Api`] for [`Services`]: each operation is the service method the REST
//! handler of its route calls, its [`ServiceError`] turned into the API's [`Failure`]. The
//! console calls the services through this trait, so it can do nothing the API refuses.

use std::future::Future;

use wizfs_api::backups::{BackupJobQuery, BackupRunView, BackupsView};
use wizfs_api::health::{
    AcknowledgeBody, AlertsView, ChannelChange, ChannelView, HealthView, HistoryQuery, HistoryView,
    ScrubBody, SelfTestBody, StartedView, TestQuery, TestResult,
};
use wizfs_api::policies::{
    PlanQuery, PlanView, PoliciesView, PolicyChange, PolicyPreviewView, PruneRequest, ReclaimView,
    RunReportView,
};
use wizfs_api::progress::ProgressView;
use wizfs_api::{
    Api, ApiFuture, BookmarkView, CompareQuery, CreateBookmarkBody, CreateSnapshotBody,
    DatasetQuery, DatasetView, DestroyBookmarkBody, DestroySnapshotsBody, DiffEntryView, DiffQuery,
    EntryQuery, EntryView, Failure, FileVersionView, HoldBody, HoldView, IndexReportView,
    IndexRequest, PoolView, ReclaimableQuery, ReportView, RestoreBody, RunView, SearchRequest,
    SearchResultsView, SnapshotQuery, SnapshotView, TaskRunsQuery, TaskView, TriggerRequest,
    VersionsQuery,
};

use crate::{ServiceError, Services};

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        Failure::new(error.kind(), error.to_string())
    }
}

/// A service call as the API's answer.
fn answer<'a, T>(
    call: impl Future<Output = Result<T, ServiceError>> + Send + 'a,
) -> ApiFuture<'a, T> {
    Box::pin(async move { call.await.map_err(Failure::from) })
}

/// An answer that is ready.
fn ready<'a, T: Send + 'a>(result: Result<T, ServiceError>) -> ApiFuture<'a, T> {
    Box::pin(std::future::ready(result.map_err(Failure::from)))
}

impl Api for Services {
    fn pools(&self) -> ApiFuture<'_, Vec<PoolView>> {
        answer(Services::pools(self))
    }

    fn datasets(&self) -> ApiFuture<'_, Vec<DatasetView>> {
        answer(Services::datasets(self))
    }

    fn snapshots(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<SnapshotView>> {
        answer(Services::snapshots(self, query))
    }

    fn create_snapshot(&self, body: CreateSnapshotBody) -> ApiFuture<'_, Vec<SnapshotView>> {
        answer(Services::create_snapshot(self, body))
    }

    fn destroy_snapshots(&self, body: DestroySnapshotsBody) -> ApiFuture<'_, Vec<String>> {
        answer(Services::destroy_snapshots(self, body))
    }

    fn reclaimable(&self, query: ReclaimableQuery) -> ApiFuture<'_, Vec<ReclaimView>> {
        answer(Services::reclaimable(self, query))
    }

    fn holds(&self, query: SnapshotQuery) -> ApiFuture<'_, Vec<HoldView>> {
        answer(Services::holds(self, query))
    }

    fn hold(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>> {
        answer(Services::hold(self, body))
    }

    fn release(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>> {
        answer(Services::release(self, body))
    }

    fn bookmarks(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<BookmarkView>> {
        answer(Services::bookmarks(self, query))
    }

    fn create_bookmark(&self, body: CreateBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>> {
        answer(Services::create_bookmark(self, body))
    }

    fn destroy_bookmark(&self, body: DestroyBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>> {
        answer(Services::destroy_bookmark(self, body))
    }

    fn diff(&self, query: DiffQuery) -> ApiFuture<'_, Vec<DiffEntryView>> {
        answer(Services::diff(self, query))
    }

    fn browse(&self, query: EntryQuery) -> ApiFuture<'_, Vec<EntryView>> {
        answer(Services::browse(self, query))
    }

    fn versions(&self, query: VersionsQuery) -> ApiFuture<'_, Vec<FileVersionView>> {
        answer(Services::versions(self, query))
    }

    fn restore_plan(&self, body: RestoreBody) -> ApiFuture<'_, wizfs_api::PlanView> {
        answer(Services::restore_plan(self, body))
    }

    fn restore(&self, body: RestoreBody) -> ApiFuture<'_, ReportView> {
        answer(Services::restore(self, body))
    }

    fn compare(&self, query: CompareQuery) -> ApiFuture<'_, String> {
        answer(Services::compare(self, query))
    }

    fn search(&self, request: SearchRequest) -> ApiFuture<'_, SearchResultsView> {
        answer(Services::search(self, request))
    }

    fn reindex(&self, request: IndexRequest) -> ApiFuture<'_, Vec<IndexReportView>> {
        answer(Services::reindex(self, request))
    }

    fn policies(&self) -> ApiFuture<'_, PoliciesView> {
        ready(Ok(Services::policies(self)))
    }

    fn policies_plan(&self, query: PlanQuery) -> ApiFuture<'_, PlanView> {
        answer(Services::policies_plan(self, query))
    }

    fn policies_run(&self) -> ApiFuture<'_, RunReportView> {
        answer(Services::policies_run(self))
    }

    fn policies_prune(&self, request: PruneRequest) -> ApiFuture<'_, RunReportView> {
        answer(Services::policies_prune(self, request))
    }

    fn backups(&self) -> ApiFuture<'_, BackupsView> {
        Box::pin(std::future::ready(Ok(self.backups_view())))
    }

    fn run_backup(&self, query: BackupJobQuery) -> ApiFuture<'_, BackupRunView> {
        answer(Services::run_backup(self, query))
    }

    fn backup_runs(&self, query: BackupJobQuery) -> ApiFuture<'_, Vec<BackupRunView>> {
        ready(Services::backup_runs(self, &query))
    }

    fn preview_policy_change(&self, change: PolicyChange) -> ApiFuture<'_, PolicyPreviewView> {
        answer(Services::preview_policy_change(self, change))
    }

    fn change_policy(&self, change: PolicyChange) -> ApiFuture<'_, PoliciesView> {
        answer(Services::change_policy(self, change))
    }

    fn health(&self) -> ApiFuture<'_, HealthView> {
        ready(self.health_view())
    }

    fn health_check(&self) -> ApiFuture<'_, HealthView> {
        answer(Services::health_check(self))
    }

    fn health_alerts(&self) -> ApiFuture<'_, AlertsView> {
        answer(Services::health_alerts(self))
    }

    fn health_history(&self, query: HistoryQuery) -> ApiFuture<'_, HistoryView> {
        answer(Services::health_history(self, query))
    }

    fn test_notification(&self, query: TestQuery) -> ApiFuture<'_, Vec<TestResult>> {
        answer(Services::test_notification(self, query))
    }

    fn health_channels(&self) -> ApiFuture<'_, Vec<ChannelView>> {
        ready(Services::health_channels(self))
    }

    fn change_channel(&self, change: ChannelChange) -> ApiFuture<'_, Vec<ChannelView>> {
        answer(Services::change_channel(self, change))
    }

    fn acknowledge_alert(&self, body: AcknowledgeBody) -> ApiFuture<'_, AlertsView> {
        answer(Services::acknowledge_alert(self, body))
    }

    fn start_scrub(&self, body: ScrubBody) -> ApiFuture<'_, StartedView> {
        answer(Services::start_scrub(self, body))
    }

    fn start_self_test(&self, body: SelfTestBody) -> ApiFuture<'_, StartedView> {
        answer(Services::start_self_test(self, body))
    }

    fn progress(&self) -> ApiFuture<'_, Vec<ProgressView>> {
        ready(Ok(self.progress.list()))
    }

    fn tasks(&self) -> ApiFuture<'_, Vec<TaskView>> {
        ready(Services::tasks(self))
    }

    fn task_runs(&self, query: TaskRunsQuery) -> ApiFuture<'_, Vec<RunView>> {
        answer(Services::task_runs(self, query))
    }

    fn trigger_task(&self, request: TriggerRequest) -> ApiFuture<'_, TaskView> {
        ready(Services::trigger_task(self, request, "api"))
    }
}
