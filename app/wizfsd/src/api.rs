//! The REST API of the recovery use-cases (`/api/v1/...`), used by the web console: browse,
//! versions, restore plans and restores, text comparison, previews and downloads. Handlers
//! are thin: they parse and validate the request, run the blocking use-case on the blocking
//! pool, and map errors to HTTP statuses through [`ApiError`].
//!
//! Paths are given relative to the dataset, as `path` (UTF-8) or `path_hex` (exact bytes,
//! for names that are not UTF-8); listings return both forms.

use std::io::Write;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wizfs_core::restore::{DirectoryStrategy, RestoreRequest, RestoreTarget};
use wizfs_core::versions::VersionIdentity;
use wizfs_core::{DatasetName, RelativePath, SnapshotName};

use wizfs_zfs::Scope;

use crate::server::{ApiError, AppState};
use wizfs_api::*;

mod health;
mod jobs;
mod snapshots;

/// Runs blocking work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::internal(format!("task failed: {error}")))?
}

fn dataset(text: &str) -> Result<DatasetName, ApiError> {
    DatasetName::new(text).map_err(|error| ApiError::bad_request(error.to_string()))
}

fn snapshot(dataset: &DatasetName, text: &str) -> Result<SnapshotName, ApiError> {
    let name = if text.contains('@') {
        SnapshotName::new(text)
    } else {
        dataset.snapshot(text)
    };
    let name = name.map_err(|error| ApiError::bad_request(error.to_string()))?;
    if name.dataset() != dataset {
        return Err(ApiError::bad_request(format!(
            "snapshot {name} is not of dataset {dataset}"
        )));
    }
    Ok(name)
}

/// Location of one entry in a request.
#[derive(Debug, Deserialize)]
pub struct EntryQuery {
    pub dataset: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub path_hex: Option<String>,
    /// Short or full snapshot name; absent = live.
    #[serde(default)]
    pub snapshot: Option<String>,
}

struct Entry {
    dataset: DatasetName,
    path: RelativePath,
    snapshot: Option<SnapshotName>,
}

impl EntryQuery {
    fn parse(&self) -> Result<Entry, ApiError> {
        let dataset = dataset(&self.dataset)?;
        let bytes = match (&self.path, &self.path_hex) {
            (Some(path), None) => path.as_bytes().to_vec(),
            (None, Some(hexadecimal)) => unhex(hexadecimal)
                .ok_or_else(|| ApiError::bad_request("path_hex is not hexadecimal".into()))?,
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "give path or path_hex, not both".into(),
                ));
            }
        };
        let path =
            RelativePath::new(&bytes).map_err(|error| ApiError::bad_request(error.to_string()))?;
        let snapshot = self
            .snapshot
            .as_deref()
            .map(|name| snapshot(&dataset, name))
            .transpose()?;
        Ok(Entry {
            dataset,
            path,
            snapshot,
        })
    }
}

async fn pools(State(state): State<AppState>) -> Result<Json<Vec<PoolView>>, ApiError> {
    let zfs = state.zfs.clone();
    blocking(move || Ok(Json(zfs.list_pools()?.iter().map(PoolView::from).collect()))).await
}

async fn datasets(State(state): State<AppState>) -> Result<Json<Vec<DatasetView>>, ApiError> {
    let zfs = state.zfs.clone();
    blocking(move || {
        Ok(Json(
            zfs.list_datasets(None)?
                .iter()
                .map(DatasetView::from)
                .collect(),
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct DatasetQuery {
    pub dataset: String,
    #[serde(default)]
    pub recursive: bool,
}

async fn snapshots(
    State(state): State<AppState>,
    Query(query): Query<DatasetQuery>,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    let dataset = dataset(&query.dataset)?;
    let scope = if query.recursive {
        Scope::Recursive
    } else {
        Scope::Dataset
    };
    let zfs = state.zfs.clone();
    blocking(move || {
        Ok(Json(
            zfs.list_snapshots(&dataset, scope)?
                .iter()
                .map(SnapshotView::from)
                .collect(),
        ))
    })
    .await
}

async fn browse(
    State(state): State<AppState>,
    Query(query): Query<EntryQuery>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let entry = query.parse()?;
    let recovery = state.recovery.clone();
    blocking(move || {
        let entries =
            recovery.list_directory(&entry.dataset, entry.snapshot.as_ref(), &entry.path)?;
        Ok(Json(entries.iter().map(EntryView::from).collect()))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct VersionsQuery {
    #[serde(flatten)]
    pub entry: EntryQuery,
    /// `metadata` (default) or `content`.
    #[serde(default)]
    pub by: Option<String>,
}

async fn versions(
    State(state): State<AppState>,
    Query(query): Query<VersionsQuery>,
) -> Result<Json<Vec<FileVersionView>>, ApiError> {
    let entry = query.entry.parse()?;
    let identity = match query.by.as_deref() {
        None | Some("metadata") => VersionIdentity::Metadata,
        Some("content") => VersionIdentity::Content,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "by must be metadata or content, not `{other}`"
            )));
        }
    };
    let recovery = state.recovery.clone();
    blocking(move || {
        let versions = recovery.versions(&entry.dataset, &entry.path, identity)?;
        Ok(Json(versions.iter().map(FileVersionView::from).collect()))
    })
    .await
}

/// The body of `POST /api/v1/restore` and `/api/v1/restore/plan`. The destination is derived
/// on the server from the snapshot path; the client can only choose between restoring over
/// the original, a copy next to it, or a copy inside a directory of the same dataset.
#[derive(Debug, Deserialize)]
pub struct RestoreBody {
    pub dataset: String,
    pub snapshot: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub path_hex: Option<String>,
    /// `copy` (default) or `original`.
    #[serde(default)]
    pub target: Option<String>,
    /// With `copy`: a directory of the dataset to put the copy into.
    #[serde(default)]
    pub into: Option<String>,
    /// `merge` (default) or `replace`.
    #[serde(default)]
    pub strategy: Option<String>,
}

impl RestoreBody {
    fn request(&self) -> Result<RestoreRequest, ApiError> {
        let entry = EntryQuery {
            dataset: self.dataset.clone(),
            path: self.path.clone(),
            path_hex: self.path_hex.clone(),
            snapshot: Some(self.snapshot.clone()),
        }
        .parse()?;
        let target = match (self.target.as_deref(), &self.into) {
            (None | Some("copy"), None) => RestoreTarget::Copy { into: None },
            (None | Some("copy"), Some(into)) => RestoreTarget::Copy {
                into: Some(
                    RelativePath::new(into.as_bytes())
                        .map_err(|error| ApiError::bad_request(error.to_string()))?,
                ),
            },
            (Some("original"), None) => RestoreTarget::Original,
            (Some("original"), Some(_)) => {
                return Err(ApiError::bad_request(
                    "`into` only applies to copies".into(),
                ));
            }
            (Some(other), _) => {
                return Err(ApiError::bad_request(format!(
                    "target must be copy or original, not `{other}`"
                )));
            }
        };
        let strategy = match self.strategy.as_deref() {
            None | Some("merge") => DirectoryStrategy::Merge,
            Some("replace") => DirectoryStrategy::Replace,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "strategy must be merge or replace, not `{other}`"
                )));
            }
        };
        let snapshot = entry
            .snapshot
            .ok_or_else(|| ApiError::bad_request("snapshot is required".into()))?;
        Ok(RestoreRequest {
            snapshot,
            path: entry.path,
            target,
            strategy,
        })
    }
}

async fn restore_plan(
    State(state): State<AppState>,
    Json(body): Json<RestoreBody>,
) -> Result<Json<PlanView>, ApiError> {
    let request = body.request()?;
    let recovery = state.recovery.clone();
    blocking(move || Ok(Json(PlanView::from(&recovery.plan(&request)?)))).await
}

async fn restore(
    State(state): State<AppState>,
    Json(body): Json<RestoreBody>,
) -> Result<Json<ReportView>, ApiError> {
    let request = body.request()?;
    let recovery = state.recovery.clone();
    let job = state.jobs.start(
        "restore",
        format!("Restore {} from {}", request.path, request.snapshot),
    );
    blocking(move || {
        let restored = recovery.restore(&request, &mut |progress| {
            job.progress(
                progress.bytes_done,
                progress.bytes_total,
                progress.current.to_string(),
            );
        });
        match restored {
            Ok((plan, report)) => {
                job.succeed(format!("{} files, {} bytes", report.files, report.bytes));
                Ok(Json(wizfs_services::views::restore_report(&plan, &report)))
            }
            Err(error) => {
                job.fail(error.to_string());
                Err(error.into())
            }
        }
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    pub dataset: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub path_hex: Option<String>,
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
}

async fn compare(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> Result<Response, ApiError> {
    let entry = EntryQuery {
        dataset: query.dataset,
        path: query.path,
        path_hex: query.path_hex,
        snapshot: Some(query.from),
    }
    .parse()?;
    let to = query
        .to
        .as_deref()
        .map(|name| snapshot(&entry.dataset, name))
        .transpose()?;
    let recovery = state.recovery.clone();
    let diff = blocking(move || {
        Ok(recovery.text_diff(
            &entry.dataset,
            &entry.path,
            entry.snapshot.as_ref(),
            to.as_ref(),
        )?)
    })
    .await?;
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
    Query(query): Query<EntryQuery>,
) -> Result<Response, ApiError> {
    let entry = query.parse()?;
    let name = entry.path.file_name().unwrap_or_default().to_vec();
    let recovery = state.recovery.clone();
    let bytes = blocking(move || {
        Ok(recovery.read_file(
            &entry.dataset,
            entry.snapshot.as_ref(),
            &entry.path,
            MAXIMUM_PREVIEW_BYTES,
        )?)
    })
    .await?;
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

async fn download(
    State(state): State<AppState>,
    Query(query): Query<EntryQuery>,
) -> Result<Response, ApiError> {
    let entry = query.parse()?;
    let recovery = state.recovery.clone();
    // Fail before streaming when the entry does not exist.
    let probe = recovery.clone();
    let (probe_dataset, probe_snapshot, probe_path) = (
        entry.dataset.clone(),
        entry.snapshot.clone(),
        entry.path.clone(),
    );
    let exists = blocking(move || {
        Ok(probe
            .stat(&probe_dataset, probe_snapshot.as_ref(), &probe_path)?
            .is_some())
    })
    .await?;
    if !exists {
        return Err(ApiError::not_found(format!(
            "`{}` does not exist there",
            entry.path
        )));
    }
    let mut name = entry.path.file_name().map_or_else(
        || entry.dataset.last_component().as_bytes().to_vec(),
        <[u8]>::to_vec,
    );
    name.extend_from_slice(b".tar");
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::task::spawn_blocking(move || {
        let mut writer = std::io::BufWriter::with_capacity(
            256 * 1024,
            ChannelWriter {
                sender: sender.clone(),
            },
        );
        let result = recovery.download(
            &entry.dataset,
            entry.snapshot.as_ref(),
            &entry.path,
            &mut writer,
        );
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
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            ),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("attachment", &name),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `GET /api/v1/search`: the query parameters of `wizfs search`.
#[derive(Debug, Deserialize)]
pub struct SearchParameters {
    #[serde(default)]
    pub q: String,
    /// substring (default), prefix, glob, fuzzy
    #[serde(default, rename = "match")]
    pub name_match: Option<String>,
    #[serde(default)]
    pub dataset: Option<String>,
    /// With `dataset`: only below this directory (relative to the dataset).
    #[serde(default)]
    pub under: Option<String>,
    /// file, directory, symlink
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub ext: Option<String>,
    #[serde(default)]
    pub min_size: Option<u64>,
    #[serde(default)]
    pub max_size: Option<u64>,
    #[serde(default)]
    pub modified_after: Option<i64>,
    #[serde(default)]
    pub modified_before: Option<i64>,
    #[serde(default)]
    pub deleted: bool,
    /// A snapshot of `dataset` (short or full name).
    #[serde(default)]
    pub as_of: Option<String>,
    /// relevance (default), name, size, modified, path
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub limit: Option<usize>,
}

fn indexer(state: &AppState) -> Result<wizfs_indexer::Indexer, ApiError> {
    state
        .indexer
        .clone()
        .ok_or_else(|| ApiError::unavailable("the search index is not open".into()))
}

async fn search(
    State(state): State<AppState>,
    Query(parameters): Query<SearchParameters>,
) -> Result<Json<SearchResultsView>, ApiError> {
    search_view(state, parameters).await.map(Json)
}

/// The answer of `GET /api/v1/search` before it is encoded: the console's search page reads
/// it in-process without the JSON round trip (`console::InProcess::search`).
pub(crate) async fn search_view(
    state: AppState,
    parameters: SearchParameters,
) -> Result<SearchResultsView, ApiError> {
    use wizfs_index::{NameMatch, SearchQuery, Sort};
    let indexer = indexer(&state)?;
    let bad = |what: &str, value: &str| ApiError::bad_request(format!("unknown {what} `{value}`"));
    let name_match = match parameters.name_match.as_deref() {
        None | Some("substring") => NameMatch::Substring,
        Some("prefix") => NameMatch::Prefix,
        Some("glob") => NameMatch::Glob,
        Some("fuzzy") => NameMatch::Fuzzy,
        Some(other) => return Err(bad("match", other)),
    };
    let sort = match parameters.sort.as_deref() {
        None | Some("relevance") => Sort::Relevance,
        Some("name") => Sort::Name,
        Some("size") => Sort::Size,
        Some("modified") => Sort::Modified,
        Some("path") => Sort::Path,
        Some(other) => return Err(bad("sort", other)),
    };
    let kinds = match parameters.kind.as_deref() {
        None => Vec::new(),
        Some("file") => vec![wizfs_core::EntryKind::File],
        Some("directory") => vec![wizfs_core::EntryKind::Directory],
        Some("symlink") => vec![wizfs_core::EntryKind::Symlink],
        Some(other) => return Err(bad("type", other)),
    };
    let dataset_name = parameters.dataset.as_deref().map(dataset).transpose()?;
    let under = match (&dataset_name, &parameters.under) {
        (Some(name), Some(under)) => Some((
            name.to_string(),
            RelativePath::new(under.as_bytes())
                .map_err(|error| ApiError::bad_request(error.to_string()))?,
        )),
        (None, Some(_)) => return Err(ApiError::bad_request("`under` needs `dataset`".into())),
        _ => None,
    };
    let zfs = state.zfs.clone();
    let _turn = state
        .searches
        .clone()
        .acquire_owned()
        .await
        .map_err(|error| ApiError::internal(format!("search queue: {error}")))?;
    // A search of the index alone takes about a millisecond or less (glob searches over
    // 100k versions: p99 16 ms; docs/benchmarks.md) and runs right here on the request's
    // worker thread: handing it to the blocking pool meant a wait in the run queue for
    // another thread, which on a loaded machine cost more than the search (console bench:
    // API search p50 15 -> 9 ms at 64 connections on 2 cores). `as_of` asks ZFS for the
    // snapshot first, and that may block: on the blocking pool.
    let inline = parameters.as_of.is_none();
    let search = move || {
        let as_of = match (&dataset_name, &parameters.as_of) {
            (Some(name), Some(short)) => {
                let wanted = snapshot(name, short)?;
                let found = zfs
                    .list_snapshots(name, Scope::Dataset)?
                    .into_iter()
                    .find(|candidate| candidate.name == wanted)
                    .ok_or_else(|| {
                        ApiError::not_found(format!("snapshot {wanted} does not exist"))
                    })?;
                let guid = zfs
                    .list_datasets(Some(name))?
                    .first()
                    .map(|found| found.guid)
                    .unwrap_or_default();
                Some((guid, found.createtxg))
            }
            (None, Some(_)) => return Err(ApiError::bad_request("`as_of` needs `dataset`".into())),
            _ => None,
        };
        let query = SearchQuery {
            text: Some(parameters.q.clone()).filter(|text| !text.is_empty()),
            name_match,
            datasets: dataset_name.iter().map(ToString::to_string).collect(),
            under,
            kinds,
            extensions: parameters.ext.iter().cloned().collect(),
            size: (parameters.min_size, parameters.max_size),
            modified: (parameters.modified_after, parameters.modified_before),
            deleted_only: parameters.deleted,
            as_of,
            sort,
            descending: parameters.descending,
            offset: parameters.offset,
            limit: parameters.limit.unwrap_or(50).clamp(1, 1000),
        };
        let results = indexer
            .store()
            .search(&query)
            .map_err(|error| ApiError::bad_request(error.to_string()))?;
        Ok(wizfs_services::views::search_results(&results))
    };
    if inline {
        search()
    } else {
        blocking(search).await
    }
}

/// `POST /api/v1/index`: reconcile the index with ZFS now.
async fn reindex(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    indexer(&state)?;
    let reports = blocking(move || Ok(state.reconcile_index()?)).await?;
    Ok(Json(serde_json::json!(reports
        .iter()
        .map(|report| serde_json::json!({"dataset": report.dataset, "indexed": report.indexed, "forgotten": report.forgotten}))
        .collect::<Vec<_>>())))
}

/// The API routes.
pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get("/api/v1/search", search)
        .post("/api/v1/index", reindex)
        .get("/api/v1/pools", pools)
        .get("/api/v1/datasets", datasets)
        .get("/api/v1/snapshots", snapshots)
        .get("/api/v1/browse", browse)
        .get("/api/v1/versions", versions)
        .post("/api/v1/restore/plan", restore_plan)
        .post("/api/v1/restore", restore)
        .get("/api/v1/compare", compare)
        .get("/api/v1/file", file)
        .get("/api/v1/download", download)
        .merge(snapshots::router())
        .merge(health::router())
        .merge(jobs::router())
}

#[cfg(test)]
mod tests;
