//! The REST API of the recovery use-cases (`/api/v1/...`), used by the web console: browse,
//! versions, restore plans and restores, text comparison, previews and downloads, search and
//! reindexing. Handlers are thin: they read the typed request of `wizfs-api`, call the
//! service of `wizfs-services`, and map its errors to HTTP statuses through [`ApiError`].
//! What is HTTP's own stays here: content types, `Content-Disposition`, the sandbox policy of
//! a file read from a pool, and streaming a download.
//!
//! Paths are given relative to the dataset, as `path` (UTF-8) or `path_hex` (exact bytes,
//! for names that are not UTF-8); listings return both forms.

use std::io::Write;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wizfs_api::{
    CompareQuery, DatasetQuery, DatasetView, DownloadFormat, DownloadQuery, EntryQuery, EntryView,
    FileVersionView, IndexReportView, IndexRequest, PlanView, PoolView, ReportView, RestoreBody,
    SearchRequest, SearchResultsView, SnapshotView, VersionView, VersionsQuery, routes,
};

use wizfs_core::EntryKind;
use wizfs_restore::ArchiveFormat;

use crate::http::{ApiError, ApiJson, ApiQuery, AppState};
use crate::routes::Routes;

mod backups;
mod health;
mod progress;
mod snapshots;
pub mod tasks;

async fn pools(State(state): State<AppState>) -> Result<Json<Vec<PoolView>>, ApiError> {
    Ok(Json(state.pools().await?))
}

async fn datasets(State(state): State<AppState>) -> Result<Json<Vec<DatasetView>>, ApiError> {
    Ok(Json(state.datasets().await?))
}

async fn snapshots(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DatasetQuery>,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    Ok(Json(state.snapshots(query).await?))
}

async fn browse(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    Ok(Json(state.browse(query).await?))
}

async fn versions(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<VersionsQuery>,
) -> Result<Json<Vec<FileVersionView>>, ApiError> {
    Ok(Json(state.versions(query).await?))
}

async fn restore_plan(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RestoreBody>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(state.restore_plan(body).await?))
}

async fn restore(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RestoreBody>,
) -> Result<Json<ReportView>, ApiError> {
    Ok(Json(state.restore(body).await?))
}

async fn compare(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CompareQuery>,
) -> Result<Response, ApiError> {
    let diff = state.compare(query).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], diff).into_response())
}

/// Largest preview served whole.
const MAXIMUM_PREVIEW_BYTES: u64 = 64 << 20;

/// A content type from the file name, for previews (images, video, PDF, text).
pub fn content_type(name: &[u8]) -> &'static str {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    let extension = lower
        .rsplit_once('.')
        .map_or("", |(_, extension)| extension);
    match extension {
        "txt" | "md" | "log" | "csv" | "conf" | "ini" | "toml" | "yaml" | "yml" | "json" | "rs"
        | "py" | "sh" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// `Content-Disposition` that keeps non-ASCII names (RFC 6266 / 5987).
pub fn content_disposition(kind: &str, file_name: &[u8]) -> HeaderValue {
    let ascii: String = String::from_utf8_lossy(file_name)
        .chars()
        .map(|character| {
            if character.is_ascii_graphic() && character != '"' && character != '\\' {
                character
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .iter()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn file(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> Result<Response, ApiError> {
    let entry = wizfs_services::recovery::entry(&query)?;
    let name = entry.path.file_name().unwrap_or_default().to_vec();
    let bytes = state.read_file(entry, MAXIMUM_PREVIEW_BYTES).await?;
    let kind = content_type(&name);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("inline", &name),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(file_policy(kind)),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The Content-Security-Policy of a file served from a pool: anyone who can write a file
/// may have written it to attack the administrator who previews it, so it never runs as
/// the console's content (`crate::security::FILE_POLICY`: a sandbox where nothing runs or
/// loads; SVG and text included); PDFs go to the browser's own viewer, which a sandbox
/// would refuse (`crate::security::PDF_POLICY`).
pub fn file_policy(content_type: &str) -> &'static str {
    if content_type == "application/pdf" {
        crate::security::PDF_POLICY
    } else {
        crate::security::FILE_POLICY
    }
}

/// Sends written bytes to the response body in chunks.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.sender
            .blocking_send(Ok(Bytes::copy_from_slice(buffer)))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
            })?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `GET /api/v1/download`: a file as itself (`format=auto`, the default), or a file or
/// directory as a tar or ZIP archive; streamed, never shown inline (an attachment, no
/// sniffing, and the sandbox policy of files from a pool should a browser render it anyway).
async fn download(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
) -> Result<Response, ApiError> {
    let entry = wizfs_services::recovery::entry(&query.entry)?;
    let recovery = state.recovery.clone();
    // Fail before streaming when the entry does not exist.
    let Some(kind) = state.entry_kind(entry.clone()).await? else {
        return Err(ApiError::not_found(format!(
            "`{}` does not exist there",
            entry.path
        )));
    };
    let archive = match (query.format, kind) {
        (DownloadFormat::Auto | DownloadFormat::File, EntryKind::File) => None,
        (DownloadFormat::File, _) => {
            return Err(ApiError::bad_request(format!(
                "`{}` is a {}, not a regular file",
                entry.path,
                kind.as_str()
            )));
        }
        (DownloadFormat::Auto | DownloadFormat::Tar, _) => Some(ArchiveFormat::Tar),
        (DownloadFormat::Zip, _) => Some(ArchiveFormat::Zip),
    };
    let mut name = entry.path.file_name().map_or_else(
        || entry.dataset.last_component().as_bytes().to_vec(),
        <[u8]>::to_vec,
    );
    let content_type = match archive {
        None => "application/octet-stream",
        Some(ArchiveFormat::Tar) => {
            name.extend_from_slice(b".tar");
            "application/x-tar"
        }
        Some(ArchiveFormat::Zip) => {
            name.extend_from_slice(b".zip");
            "application/zip"
        }
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::task::spawn_blocking(move || {
        let mut writer = std::io::BufWriter::with_capacity(
            256 * 1024,
            ChannelWriter {
                sender: sender.clone(),
            },
        );
        let snapshot = entry.snapshot.as_ref();
        let result = match archive {
            None => recovery.copy_file(&entry.dataset, snapshot, &entry.path, &mut writer),
            Some(format) => {
                recovery.download(&entry.dataset, snapshot, &entry.path, format, &mut writer)
            }
        };
        let flushed = writer.flush();
        if let Err(error) = result {
            tracing::warn!(%error, "download failed while streaming");
            let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
        } else if let Err(error) = flushed {
            let _ = sender.blocking_send(Err(error));
        }
    });
    let stream = futures_util::stream::poll_fn(move |context| receiver.poll_recv(context));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("attachment", &name),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(crate::security::FILE_POLICY),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn search(
    State(state): State<AppState>,
    ApiQuery(request): ApiQuery<SearchRequest>,
) -> Result<Json<SearchResultsView>, ApiError> {
    Ok(Json(state.search(request).await?))
}

/// `POST /api/v1/index`: reconcile the index with ZFS now (an empty body: every dataset the
/// configuration includes).
async fn reindex(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Vec<IndexReportView>>, ApiError> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        IndexRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| ApiError::bad_request(error.to_string()))?
    };
    Ok(Json(state.reindex(request).await?))
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pools: Option<Vec<PoolView>>,
}

/// `GET /healthz`: the daemon runs and can talk to ZFS (503 otherwise). Without a session it
/// says only that (`{"status": "ok"}`); signed in, also the versions and the pools.
async fn healthz(
    State(state): State<AppState>,
    signed_in: Option<axum::Extension<crate::auth::SignedIn>>,
) -> Result<Json<Health>, ApiError> {
    let zfs = state.zfs.clone();
    if signed_in.is_none() {
        let version = tokio::task::spawn_blocking(move || zfs.version())
            .await
            .map_err(|error| ApiError::internal(format!("health check task failed: {error}")))?;
        return match version {
            Ok(_) => Ok(Json(Health {
                status: "ok",
                version: None,
                pools: None,
            })),
            Err(error) => {
                tracing::warn!(%error, "health check: ZFS is not usable");
                Err(ApiError::unavailable("ZFS is not usable".into()))
            }
        };
    }
    let (version, pools) = tokio::task::spawn_blocking(move || (zfs.version(), zfs.list_pools()))
        .await
        .map_err(|error| ApiError::internal(format!("health check task failed: {error}")))?;
    let version =
        version.map_err(|error| ApiError::unavailable(format!("ZFS is not usable: {error}")))?;
    let pools = pools.map_err(ApiError::from)?;
    let degraded = pools.iter().any(|pool| !pool.health.is_online());
    Ok(Json(Health {
        status: if degraded { "degraded" } else { "ok" },
        version: Some(VersionView::new(crate::VERSION, Some(&version))),
        pools: Some(pools.iter().map(PoolView::from).collect()),
    }))
}

/// The REST API (`/api/v1/…` and `/healthz`) without the guard: what the control socket
/// serves, and what the API's unit tests exercise.
pub fn router(state: AppState) -> axum::Router {
    routes().router.with_state(state)
}

/// Every route of the REST API, listed.
pub fn routes() -> Routes<AppState> {
    Routes::new()
        .get(wizfs_api::routes::HEALTHZ, healthz)
        .merge(api_routes())
}

/// The `/api/v1` routes.
fn api_routes() -> Routes<AppState> {
    Routes::new()
        .get(routes::SEARCH, search)
        .post(routes::INDEX, reindex)
        .get(routes::POOLS, pools)
        .get(routes::DATASETS, datasets)
        .get(routes::SNAPSHOTS, snapshots)
        .get(routes::BROWSE, browse)
        .get(routes::VERSIONS, versions)
        .post(routes::RESTORE_PLAN, restore_plan)
        .post(routes::RESTORE, restore)
        .get(routes::COMPARE, compare)
        .get(routes::FILE, file)
        .get(routes::DOWNLOAD, download)
        .merge(snapshots::router())
        .merge(backups::router())
        .merge(health::router())
        .merge(progress::router())
        .merge(tasks::router())
}

#[cfg(test)]
mod tests;
