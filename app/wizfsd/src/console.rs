//! The web console on the daemon's router: the Leptos app of `wizfs-web` rendered on the
//! server (its pages, server functions and static bundle), with [`InProcess`] as the
//! [`Api`] its server functions call — the services' own typed operations, the ones the
//! REST handlers call, so the console runs exactly the validation and use-cases of
//! `/api/v1` and can do nothing the API refuses, without URLs or JSON in between. Its reads
//! of the machine's listings go through a short-lived [`cache::ReadCache`] so that pages
//! under load do not queue behind `zfs list`.

mod cache;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use serde::Serialize;
use wizfs_api::backups::{BackupJobQuery, BackupRunView, BackupsView};
use wizfs_api::health::{
    AcknowledgeBody, AlertsView, ChannelChange, ChannelView, HealthView, HistoryQuery, HistoryView,
    ScrubBody, SelfTestBody, StartedView, TestQuery, TestResult,
};
use wizfs_api::policies::{
    PlanQuery, PoliciesView, PolicyChange, PolicyPreviewView, PruneRequest, ReclaimView,
    RunReportView,
};
use wizfs_api::progress::ProgressView;
use wizfs_api::{
    Api, ApiFuture, BookmarkView, CompareQuery, CreateBookmarkBody, CreateSnapshotBody,
    DatasetQuery, DatasetView, DestroyBookmarkBody, DestroySnapshotsBody, DiffEntryView, DiffQuery,
    EntryQuery, EntryView, FileVersionView, HoldBody, HoldView, IndexReportView, IndexRequest,
    PlanView, PoolView, ReclaimableQuery, ReportView, RestoreBody, RunView, SearchRequest,
    SearchResultsView, SnapshotQuery, SnapshotView, TaskRunsQuery, TaskView, TriggerRequest,
    VersionsQuery,
};

use crate::http::AppState;

/// The reads of the console that describe the machine and may be shown slightly old, each
/// with its request: the keys of the console's cache. Search (the index grows while the
/// user types), the tasks and their progress (live), and what a change depends on (a plan, reclaimable
/// space) are read anew every time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Read {
    Pools,
    Datasets,
    Snapshots(DatasetQuery),
    Browse(EntryQuery),
    Versions(VersionsQuery),
    Compare(CompareQuery),
    Policies,
    Health,
    HealthAlerts,
    HealthHistory(HistoryQuery),
}

/// The services as the console's server functions call them: [`Api`] of `wizfs-services`
/// in-process, the machine's listings read through a [`cache::ReadCache`] that every change
/// the console makes clears.
#[derive(Clone)]
pub struct InProcess {
    services: Arc<dyn Api>,
    cache: Arc<cache::ReadCache<Read>>,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("InProcess").finish_non_exhaustive()
    }
}

impl InProcess {
    /// The console's way to `services`.
    pub fn new(services: AppState) -> Self {
        Self {
            services: Arc::new(services),
            cache: Arc::default(),
        }
    }

    /// `call`'s answer, kept under `key` for the next callers (see [`cache`]).
    fn cached<T>(
        &self,
        key: Read,
        call: impl for<'a> FnOnce(&'a dyn Api) -> ApiFuture<'a, T> + Send + 'static,
    ) -> ApiFuture<'_, T>
    where
        T: Clone + Serialize + Send + Sync + 'static,
    {
        let services = self.services.clone();
        let read = async move { call(services.as_ref()).await };
        Box::pin(async move { self.cache.get_or_read(&key, read).await })
    }

    /// `call`, which may change something: everything kept is stale after it.
    fn changing<'a, T: Send + 'a>(&'a self, call: ApiFuture<'a, T>) -> ApiFuture<'a, T> {
        Box::pin(async move {
            let answer = call.await;
            self.cache.invalidate();
            answer
        })
    }
}

impl Api for InProcess {
    fn pools(&self) -> ApiFuture<'_, Vec<PoolView>> {
        self.cached(Read::Pools, |api| api.pools())
    }

    fn datasets(&self) -> ApiFuture<'_, Vec<DatasetView>> {
        self.cached(Read::Datasets, |api| api.datasets())
    }

    fn snapshots(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<SnapshotView>> {
        self.cached(Read::Snapshots(query.clone()), |api| api.snapshots(query))
    }

    fn create_snapshot(&self, body: CreateSnapshotBody) -> ApiFuture<'_, Vec<SnapshotView>> {
        self.changing(self.services.create_snapshot(body))
    }

    fn destroy_snapshots(&self, body: DestroySnapshotsBody) -> ApiFuture<'_, Vec<String>> {
        self.changing(self.services.destroy_snapshots(body))
    }

    fn reclaimable(&self, query: ReclaimableQuery) -> ApiFuture<'_, Vec<ReclaimView>> {
        self.services.reclaimable(query)
    }

    fn holds(&self, query: SnapshotQuery) -> ApiFuture<'_, Vec<HoldView>> {
        self.services.holds(query)
    }

    fn hold(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>> {
        self.changing(self.services.hold(body))
    }

    fn release(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>> {
        self.changing(self.services.release(body))
    }

    fn bookmarks(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<BookmarkView>> {
        self.services.bookmarks(query)
    }

    fn create_bookmark(&self, body: CreateBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>> {
        self.changing(self.services.create_bookmark(body))
    }

    fn destroy_bookmark(&self, body: DestroyBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>> {
        self.changing(self.services.destroy_bookmark(body))
    }

    fn diff(&self, query: DiffQuery) -> ApiFuture<'_, Vec<DiffEntryView>> {
        self.services.diff(query)
    }

    fn browse(&self, query: EntryQuery) -> ApiFuture<'_, Vec<EntryView>> {
        self.cached(Read::Browse(query.clone()), |api| api.browse(query))
    }

    fn versions(&self, query: VersionsQuery) -> ApiFuture<'_, Vec<FileVersionView>> {
        self.cached(Read::Versions(query.clone()), |api| api.versions(query))
    }

    fn restore_plan(&self, body: RestoreBody) -> ApiFuture<'_, PlanView> {
        self.changing(self.services.restore_plan(body))
    }

    fn restore(&self, body: RestoreBody) -> ApiFuture<'_, ReportView> {
        self.changing(self.services.restore(body))
    }

    fn compare(&self, query: CompareQuery) -> ApiFuture<'_, String> {
        self.cached(Read::Compare(query.clone()), |api| api.compare(query))
    }

    fn search(&self, request: SearchRequest) -> ApiFuture<'_, SearchResultsView> {
        self.services.search(request)
    }

    fn reindex(&self, request: IndexRequest) -> ApiFuture<'_, Vec<IndexReportView>> {
        self.changing(self.services.reindex(request))
    }

    fn policies(&self) -> ApiFuture<'_, PoliciesView> {
        self.cached(Read::Policies, |api| api.policies())
    }

    fn policies_plan(&self, query: PlanQuery) -> ApiFuture<'_, wizfs_api::policies::PlanView> {
        self.services.policies_plan(query)
    }

    fn policies_run(&self) -> ApiFuture<'_, RunReportView> {
        self.changing(self.services.policies_run())
    }

    fn policies_prune(&self, request: PruneRequest) -> ApiFuture<'_, RunReportView> {
        self.changing(self.services.policies_prune(request))
    }

    fn backups(&self) -> ApiFuture<'_, BackupsView> {
        self.services.backups()
    }

    fn run_backup(&self, query: BackupJobQuery) -> ApiFuture<'_, BackupRunView> {
        self.changing(self.services.run_backup(query))
    }

    fn backup_runs(&self, query: BackupJobQuery) -> ApiFuture<'_, Vec<BackupRunView>> {
        self.services.backup_runs(query)
    }

    fn preview_policy_change(&self, change: PolicyChange) -> ApiFuture<'_, PolicyPreviewView> {
        self.services.preview_policy_change(change)
    }

    fn change_policy(&self, change: PolicyChange) -> ApiFuture<'_, PoliciesView> {
        self.changing(self.services.change_policy(change))
    }

    fn health(&self) -> ApiFuture<'_, HealthView> {
        self.cached(Read::Health, |api| api.health())
    }

    fn health_check(&self) -> ApiFuture<'_, HealthView> {
        self.changing(self.services.health_check())
    }

    fn health_alerts(&self) -> ApiFuture<'_, AlertsView> {
        self.cached(Read::HealthAlerts, |api| api.health_alerts())
    }

    fn health_history(&self, query: HistoryQuery) -> ApiFuture<'_, HistoryView> {
        self.cached(Read::HealthHistory(query.clone()), |api| {
            api.health_history(query)
        })
    }

    fn test_notification(&self, query: TestQuery) -> ApiFuture<'_, Vec<TestResult>> {
        self.changing(self.services.test_notification(query))
    }

    fn health_channels(&self) -> ApiFuture<'_, Vec<ChannelView>> {
        self.services.health_channels()
    }

    fn change_channel(&self, change: ChannelChange) -> ApiFuture<'_, Vec<ChannelView>> {
        self.changing(self.services.change_channel(change))
    }

    fn acknowledge_alert(&self, body: AcknowledgeBody) -> ApiFuture<'_, AlertsView> {
        self.changing(self.services.acknowledge_alert(body))
    }

    fn start_scrub(&self, body: ScrubBody) -> ApiFuture<'_, StartedView> {
        self.changing(self.services.start_scrub(body))
    }

    fn start_self_test(&self, body: SelfTestBody) -> ApiFuture<'_, StartedView> {
        self.changing(self.services.start_self_test(body))
    }

    fn progress(&self) -> ApiFuture<'_, Vec<ProgressView>> {
        self.services.progress()
    }

    fn tasks(&self) -> ApiFuture<'_, Vec<TaskView>> {
        self.services.tasks()
    }

    fn task_runs(&self, query: TaskRunsQuery) -> ApiFuture<'_, Vec<RunView>> {
        self.services.task_runs(query)
    }

    fn trigger_task(&self, request: TriggerRequest) -> ApiFuture<'_, TaskView> {
        self.changing(self.services.trigger_task(request))
    }
}

/// What serving the console needs: Leptos's options for the site folder and the page routes.
/// The routes come from rendering the whole app once (`generate_route_list`); make a `Site`
/// once per process, before serving, and share it. Route generation while other pages of the
/// console render can leave those renders waiting forever (seen with several apps in one
/// process: the tests), so nothing generates routes after start-up.
#[derive(Clone)]
pub struct Site {
    pub options: LeptosOptions,
    routes: Arc<Vec<AxumRouteListing>>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Site")
            .field("site_root", &self.options.site_root)
            .field("routes", &self.routes.len())
            .finish()
    }
}

impl Site {
    /// The console served from `site_dir`, its routes generated now.
    pub fn new(site_dir: &Path) -> Self {
        Self {
            options: options(site_dir),
            routes: Arc::new(generate_route_list(wizfs_web::App)),
        }
    }

    /// The same routes with the files of another folder.
    pub fn with_site_dir(&self, site_dir: &Path) -> Self {
        Self {
            options: options(site_dir),
            routes: self.routes.clone(),
        }
    }

    /// The paths of the console's pages and server functions (for the route test).
    pub fn route_paths(&self) -> Vec<(String, &'static str)> {
        let mut paths: Vec<(String, &'static str)> = self
            .routes
            .iter()
            .map(|listing| (listing.path().to_owned(), "GET"))
            .collect();
        for (path, method) in leptos::server_fn::axum::server_fn_paths() {
            let method = match method.as_str() {
                "GET" => "GET",
                _ => "POST",
            };
            paths.push((path.to_owned(), method));
        }
        paths
    }
}

/// Leptos's options for the console served from `site_dir`.
fn options(site_dir: &Path) -> LeptosOptions {
    if !site_dir.join("pkg").join("wizfs.js").exists() {
        tracing::warn!(
            site = %site_dir.display(),
            "the console's browser bundle is missing (build it with app/web/build): pages render but stay static"
        );
    }
    LeptosOptions::builder()
        .output_name(wizfs_web::OUTPUT_NAME)
        .site_root(site_dir.display().to_string())
        .site_pkg_dir("pkg")
        .build()
}

/// The console's pages, server functions (`/fn/…`, calling `state`'s services through
/// [`InProcess`]) and static files. The bundle's files (`/pkg/…`) and `/favicon.ico` come from a
/// plain static handler that answers 404 for anything it does not have and never renders
/// the app (those paths are public); every page carries its Content-Security-Policy with the
/// nonce of its inline scripts.
pub fn router(
    site: &Site,
    state: AppState,
    account: Arc<dyn wizfs_web::backend::Account>,
) -> Router {
    let api: Arc<dyn Api> = Arc::new(InProcess::new(state));
    let options = site.options.clone();
    let shell_options = options.clone();
    let site_root = Path::new(options.site_root.as_ref()).to_path_buf();
    let bundle = tower_http::services::ServeDir::new(site_root.join("pkg"))
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let favicon = tower_http::services::ServeFile::new(site_root.join("favicon.ico"));
    Router::new()
        .leptos_routes_with_context(
            &options,
            site.routes.as_ref().clone(),
            move || {
                provide_context(api.clone());
                provide_context(account.clone());
            },
            move || {
                crate::security::set_page_policy();
                wizfs_web::shell(shell_options.clone())
            },
        )
        .nest_service("/pkg", bundle)
        .route_service("/favicon.ico", favicon)
        .fallback(leptos_axum::file_and_error_handler(|options| {
            crate::security::set_page_policy();
            wizfs_web::shell(options)
        }))
        .with_state(options)
        .layer(axum::middleware::from_fn(server_function_errors))
}

/// Largest error answer of a server function that is read to be rewritten.
const MAXIMUM_ERROR_BYTES: usize = 64 << 10;

/// Server functions answer a request they cannot read (missing or malformed arguments) with
/// 500 and the parser's own words (`Args|missing field …`): that is the client's fault, and
/// a person should read what to do. Such answers become `400` with a plain message.
async fn server_function_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let server_function = request.uri().path().starts_with("/fn/");
    let response = next.run(request).await;
    if !server_function || response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAXIMUM_ERROR_BYTES).await else {
        return (parts.status, "the console's answer could not be read").into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    let unreadable = [
        "Args|",
        "MissingArg|",
        "Deserialization|",
        "UnsupportedRequestMethod|",
    ]
    .iter()
    .any(|kind| text.starts_with(kind));
    if unreadable {
        tracing::debug!(error = %text, "a server function could not read its request");
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "The console could not read this request. Reload the page and try again.",
        )
            .into_response();
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests;
