//! The running daemon, from the CLI: its control socket (`<data_dir>/api.sock`, see
//! `wizfsd::control`) speaks the REST API of `wizfs-api` over HTTP/1.1, and [`Daemon`]
//! implements [`Api`] over it — each method the route its documentation names, the query or
//! body the same typed request. When a daemon answers there, every CLI command that is an
//! API operation goes through it: the daemon is the index's single writer, so nothing races
//! it and a snapshot taken with the CLI is indexed at once; when none does, the CLI runs the
//! same services in-process (`crate::context::Backend`).

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::http::{Method, Request, header};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
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
use wizfs_api::routes;
use wizfs_api::{
    Api, ApiFuture, BookmarkView, CompareQuery, CreateBookmarkBody, CreateSnapshotBody,
    DatasetQuery, DatasetView, DestroyBookmarkBody, DestroySnapshotsBody, DiffEntryView, DiffQuery,
    EntryQuery, EntryView, ErrorBody, ErrorKind, Failure, FileVersionView, HoldBody, HoldView,
    IndexReportView, IndexRequest, PlanView, PoolView, ReclaimableQuery, ReportView, RestoreBody,
    RunView, SearchRequest, SearchResultsView, SnapshotQuery, SnapshotView, TaskRunsQuery,
    TaskView, TriggerRequest, VersionsQuery,
};

/// Largest answer read from the daemon.
const MAXIMUM_ANSWER_BYTES: usize = 256 << 20;

/// A daemon that answered on its control socket.
#[derive(Debug, Clone)]
pub struct Daemon {
    socket: PathBuf,
}

impl Daemon {
    /// The daemon of the data directory `data_dir`, if one answers on its socket.
    pub fn find(data_dir: &Path) -> Option<Daemon> {
        let socket = data_dir.join(routes::CONTROL_SOCKET);
        // A cheap probe: no socket file, or nobody listening, is no daemon.
        std::os::unix::net::UnixStream::connect(&socket).ok()?;
        Some(Daemon { socket })
    }

    /// Where the daemon listens.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    async fn get<Q: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T, Failure> {
        let query = encode(query)?;
        let path_and_query = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        decode(
            &self
                .call(Method::GET, &path_and_query, Bytes::new())
                .await?,
        )
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let body = serde_json::to_vec(body).map_err(|error| {
            Failure::new(
                ErrorKind::BadRequest,
                format!("encoding the request: {error}"),
            )
        })?;
        decode(&self.call(Method::POST, path, Bytes::from(body)).await?)
    }

    /// One exchange: the answer's bytes when it succeeded, else the daemon's failure with
    /// its kind (from the status) and message (from the JSON error body).
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Bytes,
    ) -> Result<Bytes, Failure> {
        let (status, answer) = exchange(&self.socket, method, path_and_query, body)
            .await
            .map_err(|error| {
                Failure::new(
                    ErrorKind::Unavailable,
                    format!("asking the daemon at {}: {error}", self.socket.display()),
                )
            })?;
        if status.is_success() {
            return Ok(answer);
        }
        let message = serde_json::from_slice::<ErrorBody>(&answer)
            .map(|body| body.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&answer).into_owned());
        Err(Failure::new(
            ErrorKind::from_http_status(status.as_u16()),
            message,
        ))
    }
}

impl Daemon {
    /// `GET /api/v1/download` of an entry in `format`, its bytes written to `out` as they
    /// come (a file's size is not bounded by memory); the bytes written. A failure before
    /// the first byte is the daemon's, with its kind; one in the middle of the stream says
    /// so (what `out` got so far is incomplete).
    pub async fn download(
        &self,
        query: &wizfs_api::DownloadQuery,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, Failure> {
        let path = format!("{}?{}", routes::DOWNLOAD, encode(query)?);
        let unavailable = |error: &dyn std::fmt::Display| {
            Failure::new(
                ErrorKind::Unavailable,
                format!("asking the daemon at {}: {error}", self.socket.display()),
            )
        };
        let (response, connection) = send(&self.socket, Method::GET, &path, Bytes::new())
            .await
            .map_err(|error| unavailable(&*error))?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let answer = collect(body).await.unwrap_or_default();
            let message = serde_json::from_slice::<ErrorBody>(&answer)
                .map(|body| body.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&answer).into_owned());
            return Err(Failure::new(
                ErrorKind::from_http_status(status.as_u16()),
                message,
            ));
        }
        let mut written = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                Failure::new(
                    ErrorKind::Internal,
                    format!("the download broke off after {written} bytes: {error}"),
                )
            })?;
            if let Ok(data) = frame.into_data() {
                out.write_all(&data).map_err(|error| {
                    Failure::new(
                        ErrorKind::Internal,
                        format!("writing the download: {error}"),
                    )
                })?;
                written += u64::try_from(data.len()).unwrap_or(u64::MAX);
            }
        }
        let _ = connection.await;
        Ok(written)
    }
}

/// A typed request as a query string (a list repeats its key).
fn encode<Q: Serialize>(query: &Q) -> Result<String, Failure> {
    serde_html_form::to_string(query).map_err(|error| {
        Failure::new(
            ErrorKind::BadRequest,
            format!("encoding the request: {error}"),
        )
    })
}

fn decode<T: DeserializeOwned>(answer: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(answer).map_err(|error| {
        Failure::new(
            ErrorKind::Internal,
            format!("reading the daemon's answer: {error}"),
        )
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request sent over a fresh connection: the answer's head and streaming body, and the
/// connection's task (to await once the body is read).
async fn send(
    socket: &Path,
    method: Method,
    path_and_query: &str,
    body: Bytes,
) -> Result<
    (
        hyper::Response<hyper::body::Incoming>,
        tokio::task::JoinHandle<()>,
    ),
    BoxError,
> {
    let stream = tokio::net::UnixStream::connect(socket).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(header::HOST, "wizfsd")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))?;
    let response = sender.send_request(request).await?;
    Ok((response, connection))
}

/// A body read whole (at most [`MAXIMUM_ANSWER_BYTES`]).
async fn collect(body: hyper::body::Incoming) -> Result<Bytes, BoxError> {
    Ok(Limited::new(body, MAXIMUM_ANSWER_BYTES)
        .collect()
        .await?
        .to_bytes())
}

/// One request and its whole answer over a fresh connection.
async fn exchange(
    socket: &Path,
    method: Method,
    path_and_query: &str,
    body: Bytes,
) -> Result<(hyper::StatusCode, Bytes), BoxError> {
    let (response, connection) = send(socket, method, path_and_query, body).await?;
    let status = response.status();
    let answer = collect(response.into_body()).await?;
    let _ = connection.await;
    Ok((status, answer))
}

/// No query.
#[derive(Serialize)]
struct Nothing {}

impl Api for Daemon {
    fn pools(&self) -> ApiFuture<'_, Vec<PoolView>> {
        Box::pin(self.get(routes::POOLS, &Nothing {}))
    }

    fn datasets(&self) -> ApiFuture<'_, Vec<DatasetView>> {
        Box::pin(self.get(routes::DATASETS, &Nothing {}))
    }

    fn snapshots(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<SnapshotView>> {
        Box::pin(async move { self.get(routes::SNAPSHOTS, &query).await })
    }

    fn create_snapshot(&self, body: CreateSnapshotBody) -> ApiFuture<'_, Vec<SnapshotView>> {
        Box::pin(async move { self.post(routes::SNAPSHOTS, &body).await })
    }

    fn destroy_snapshots(&self, body: DestroySnapshotsBody) -> ApiFuture<'_, Vec<String>> {
        Box::pin(async move { self.post(routes::SNAPSHOTS_DESTROY, &body).await })
    }

    fn reclaimable(&self, query: ReclaimableQuery) -> ApiFuture<'_, Vec<ReclaimView>> {
        Box::pin(async move { self.get(routes::SNAPSHOTS_RECLAIMABLE, &query).await })
    }

    fn holds(&self, query: SnapshotQuery) -> ApiFuture<'_, Vec<HoldView>> {
        Box::pin(async move { self.get(routes::HOLDS, &query).await })
    }

    fn hold(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>> {
        Box::pin(async move { self.post(routes::HOLDS, &body).await })
    }

    fn release(&self, body: HoldBody) -> ApiFuture<'_, Vec<HoldView>> {
        Box::pin(async move { self.post(routes::HOLDS_RELEASE, &body).await })
    }

    fn bookmarks(&self, query: DatasetQuery) -> ApiFuture<'_, Vec<BookmarkView>> {
        Box::pin(async move { self.get(routes::BOOKMARKS, &query).await })
    }

    fn create_bookmark(&self, body: CreateBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>> {
        Box::pin(async move { self.post(routes::BOOKMARKS, &body).await })
    }

    fn destroy_bookmark(&self, body: DestroyBookmarkBody) -> ApiFuture<'_, Vec<BookmarkView>> {
        Box::pin(async move { self.post(routes::BOOKMARKS_DESTROY, &body).await })
    }

    fn diff(&self, query: DiffQuery) -> ApiFuture<'_, Vec<DiffEntryView>> {
        Box::pin(async move { self.get(routes::DIFF, &query).await })
    }

    fn browse(&self, query: EntryQuery) -> ApiFuture<'_, Vec<EntryView>> {
        Box::pin(async move { self.get(routes::BROWSE, &query).await })
    }

    fn versions(&self, query: VersionsQuery) -> ApiFuture<'_, Vec<FileVersionView>> {
        Box::pin(async move { self.get(routes::VERSIONS, &query).await })
    }

    fn restore_plan(&self, body: RestoreBody) -> ApiFuture<'_, PlanView> {
        Box::pin(async move { self.post(routes::RESTORE_PLAN, &body).await })
    }

    fn restore(&self, body: RestoreBody) -> ApiFuture<'_, ReportView> {
        Box::pin(async move { self.post(routes::RESTORE, &body).await })
    }

    fn compare(&self, query: CompareQuery) -> ApiFuture<'_, String> {
        Box::pin(async move {
            let query = encode(&query)?;
            let answer = self
                .call(
                    Method::GET,
                    &format!("{}?{query}", routes::COMPARE),
                    Bytes::new(),
                )
                .await?;
            // The diff is text/plain, not JSON.
            Ok(String::from_utf8_lossy(&answer).into_owned())
        })
    }

    fn search(&self, request: SearchRequest) -> ApiFuture<'_, SearchResultsView> {
        Box::pin(async move { self.get(routes::SEARCH, &request).await })
    }

    fn reindex(&self, request: IndexRequest) -> ApiFuture<'_, Vec<IndexReportView>> {
        Box::pin(async move { self.post(routes::INDEX, &request).await })
    }

    fn policies(&self) -> ApiFuture<'_, PoliciesView> {
        Box::pin(self.get(routes::POLICIES, &Nothing {}))
    }

    fn policies_plan(&self, query: PlanQuery) -> ApiFuture<'_, wizfs_api::policies::PlanView> {
        Box::pin(async move { self.get(routes::POLICIES_PLAN, &query).await })
    }

    fn policies_run(&self) -> ApiFuture<'_, RunReportView> {
        Box::pin(self.post(routes::POLICIES_RUN, &Nothing {}))
    }

    fn policies_prune(&self, request: PruneRequest) -> ApiFuture<'_, RunReportView> {
        Box::pin(async move { self.post(routes::POLICIES_PRUNE, &request).await })
    }

    fn backups(&self) -> ApiFuture<'_, BackupsView> {
        Box::pin(self.get(routes::BACKUPS, &Nothing {}))
    }

    fn run_backup(&self, query: BackupJobQuery) -> ApiFuture<'_, BackupRunView> {
        Box::pin(async move { self.post(routes::BACKUPS_RUN, &query).await })
    }

    fn backup_runs(&self, query: BackupJobQuery) -> ApiFuture<'_, Vec<BackupRunView>> {
        Box::pin(async move { self.get(routes::BACKUPS_RUNS, &query).await })
    }

    fn preview_policy_change(&self, change: PolicyChange) -> ApiFuture<'_, PolicyPreviewView> {
        Box::pin(async move { self.post(routes::POLICIES_PREVIEW, &change).await })
    }

    fn change_policy(&self, change: PolicyChange) -> ApiFuture<'_, PoliciesView> {
        Box::pin(async move { self.post(routes::POLICIES_CHANGE, &change).await })
    }

    fn health(&self) -> ApiFuture<'_, HealthView> {
        Box::pin(self.get(routes::HEALTH, &Nothing {}))
    }

    fn health_check(&self) -> ApiFuture<'_, HealthView> {
        Box::pin(self.post(routes::HEALTH_CHECK, &Nothing {}))
    }

    fn health_alerts(&self) -> ApiFuture<'_, AlertsView> {
        Box::pin(self.get(routes::HEALTH_ALERTS, &Nothing {}))
    }

    fn health_history(&self, query: HistoryQuery) -> ApiFuture<'_, HistoryView> {
        Box::pin(async move { self.get(routes::HEALTH_HISTORY, &query).await })
    }

    fn test_notification(&self, query: TestQuery) -> ApiFuture<'_, Vec<TestResult>> {
        Box::pin(async move {
            let query = encode(&query)?;
            let path = format!("{}?{query}", routes::HEALTH_TEST_NOTIFICATION);
            self.post(&path, &Nothing {}).await
        })
    }

    fn health_channels(&self) -> ApiFuture<'_, Vec<ChannelView>> {
        Box::pin(self.get(routes::HEALTH_CHANNELS, &Nothing {}))
    }

    fn change_channel(&self, change: ChannelChange) -> ApiFuture<'_, Vec<ChannelView>> {
        Box::pin(async move { self.post(routes::HEALTH_CHANNELS, &change).await })
    }

    fn acknowledge_alert(&self, body: AcknowledgeBody) -> ApiFuture<'_, AlertsView> {
        Box::pin(async move { self.post(routes::HEALTH_ACKNOWLEDGE, &body).await })
    }

    fn start_scrub(&self, body: ScrubBody) -> ApiFuture<'_, StartedView> {
        Box::pin(async move { self.post(routes::HEALTH_SCRUB, &body).await })
    }

    fn start_self_test(&self, body: SelfTestBody) -> ApiFuture<'_, StartedView> {
        Box::pin(async move { self.post(routes::HEALTH_SELF_TEST, &body).await })
    }

    fn progress(&self) -> ApiFuture<'_, Vec<ProgressView>> {
        Box::pin(self.get(routes::TASK_PROGRESS, &Nothing {}))
    }

    fn tasks(&self) -> ApiFuture<'_, Vec<TaskView>> {
        Box::pin(self.get(routes::TASKS, &Nothing {}))
    }

    fn task_runs(&self, query: TaskRunsQuery) -> ApiFuture<'_, Vec<RunView>> {
        Box::pin(async move { self.get(routes::TASK_RUNS, &query).await })
    }

    fn trigger_task(&self, request: TriggerRequest) -> ApiFuture<'_, TaskView> {
        Box::pin(async move { self.post(routes::TASK_TRIGGER, &request).await })
    }
}
