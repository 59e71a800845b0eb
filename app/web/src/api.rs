//! The console's server functions: one typed function per thing a page needs. Each body runs
//! on the server only (feature `ssr`) and is a typed call of the daemon's services through
//! [`crate::backend`] — a request of `wizfs-api` in, its view out; in the browser the macro
//! turns each into a POST to its fixed endpoint under `/fn/` (stable URLs, listed by the
//! route test of `wizfsd`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wizfs_api::health::{Alert, HealthView, PanelSummary, SeriesView};
use wizfs_api::policies::ReclaimView;
use wizfs_api::progress::ProgressView;
use wizfs_api::{
    DatasetView, EntryView, FileVersionView, PlanView, PoolView, ReportView, SearchResultsView,
    SnapshotView,
};

#[cfg(feature = "ssr")]
use crate::backend::{api, failed, refused, word};
use crate::forms::{RestoreForm, SearchForm};
use crate::sessions::AccountView;

/// The health part of the dashboard: the summary and the open alerts, worst first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardHealth {
    pub summary: PanelSummary,
    pub alerts: Vec<Alert>,
}

/// The dashboard in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub pools: Vec<PoolView>,
    /// The newest few, newest first.
    pub recent_snapshots: Vec<SnapshotView>,
    pub snapshot_count: usize,
    pub health: Option<DashboardHealth>,
    /// Why there is no health part.
    pub health_error: Option<String>,
    pub tasks: Vec<ProgressView>,
}

/// The API's request of an entry: a dataset, a console path (`path`, or `path_hex` when it
/// is not UTF-8; none for the root) and a snapshot (none for the live data).
#[cfg(feature = "ssr")]
fn entry(dataset: String, path: &str, snapshot: String) -> wizfs_api::EntryQuery {
    let (path, path_hex) = path_fields(path);
    wizfs_api::EntryQuery {
        dataset,
        path,
        path_hex,
        snapshot: Some(snapshot).filter(|snapshot| !snapshot.is_empty()),
    }
}

/// A console path as the API's `path` and `path_hex` fields.
#[cfg(feature = "ssr")]
fn path_fields(path: &str) -> (Option<String>, Option<String>) {
    match crate::format::path_pair(path) {
        (_, "") => (None, None),
        ("path_hex", digits) => (None, Some(digits.to_owned())),
        (_, text) => (Some(text.to_owned()), None),
    }
}

#[server(prefix = "/fn", endpoint = "dashboard")]
pub async fn dashboard() -> Result<DashboardView, ServerFnError> {
    let api = api()?;
    let pools = api.pools().await.map_err(failed)?;
    let mut snapshots: Vec<SnapshotView> = Vec::new();
    for pool in &pools {
        let query = wizfs_api::DatasetQuery {
            dataset: pool.name.clone(),
            recursive: true,
        };
        snapshots.append(&mut api.snapshots(query).await.map_err(failed)?);
    }
    let snapshot_count = snapshots.len();
    snapshots.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.createtxg));
    snapshots.truncate(8);
    let (health, health_error) = match api.health().await {
        Ok(health) => (
            Some(DashboardHealth {
                alerts: crate::pages::open_alerts(&health.alerts)
                    .into_iter()
                    .cloned()
                    .collect(),
                summary: health.summary,
            }),
            None,
        ),
        Err(error) => (None, Some(error.message)),
    };
    let tasks = api.progress().await.map_err(failed)?;
    Ok(DashboardView {
        pools,
        recent_snapshots: snapshots,
        snapshot_count,
        health,
        health_error,
        tasks,
    })
}

#[server(prefix = "/fn", endpoint = "datasets")]
pub async fn datasets() -> Result<Vec<DatasetView>, ServerFnError> {
    api()?.datasets().await.map_err(failed)
}

/// The API's search request for a filled-in form (sizes and dates as people write them).
#[cfg(feature = "ssr")]
fn search_request(form: &SearchForm) -> Result<wizfs_api::SearchRequest, ServerFnError> {
    use crate::format::{parse_date, parse_size};
    let size = |text: &str, what: &str| -> Result<Option<u64>, ServerFnError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse_size(text)
            .map(Some)
            .ok_or_else(|| refused(format!("{what} `{text}` is not a size (try 10M)")))
    };
    let date = |text: &str, what: &str| -> Result<Option<i64>, ServerFnError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse_date(text)
            .map(Some)
            .ok_or_else(|| refused(format!("{what} `{text}` is not a date (YYYY-MM-DD)")))
    };
    let ext = form.ext.trim().trim_start_matches('.').to_ascii_lowercase();
    Ok(wizfs_api::SearchRequest {
        q: form.q.trim().to_owned(),
        name_match: word(&form.r#match, "match")?.unwrap_or_default(),
        dataset: Some(form.dataset.clone())
            .filter(|dataset| !dataset.is_empty())
            .into_iter()
            .collect(),
        under: None,
        kind: word(&form.r#type, "type")?.into_iter().collect(),
        ext: Some(ext)
            .filter(|ext| !ext.is_empty())
            .into_iter()
            .collect(),
        min_size: size(&form.min_size, "minimum size")?,
        max_size: size(&form.max_size, "maximum size")?,
        modified_after: date(&form.after, "modified after")?,
        modified_before: date(&form.before, "modified before")?,
        deleted: form.deleted,
        as_of: None,
        sort: word(&form.sort, "sort")?.unwrap_or_default(),
        descending: !form.sort.is_empty(),
        offset: form.page * SearchForm::PAGE_SIZE,
        limit: Some(SearchForm::PAGE_SIZE),
    })
}

/// One typed search: the form as the API's request, its results as the API's view.
#[server(prefix = "/fn", endpoint = "search")]
pub async fn search(form: SearchForm) -> Result<SearchResultsView, ServerFnError> {
    let request = search_request(&form)?;
    api()?.search(request).await.map_err(failed)
}

/// A directory, live or in a snapshot; each entry's console path is
/// [`crate::format::console_path_from_hex`] of its `path_hex`.
#[server(prefix = "/fn", endpoint = "browse")]
pub async fn browse(
    dataset: String,
    path: String,
    snapshot: String,
) -> Result<Vec<EntryView>, ServerFnError> {
    api()?
        .browse(entry(dataset, &path, snapshot))
        .await
        .map_err(failed)
}

/// A dataset's snapshots (with its descendants' when `recursive`), newest first.
#[server(prefix = "/fn", endpoint = "snapshots")]
pub async fn snapshots(
    dataset: String,
    recursive: bool,
) -> Result<Vec<SnapshotView>, ServerFnError> {
    let query = wizfs_api::DatasetQuery { dataset, recursive };
    let mut snapshots = api()?.snapshots(query).await.map_err(failed)?;
    snapshots.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.createtxg));
    Ok(snapshots)
}

#[server(prefix = "/fn", endpoint = "versions")]
pub async fn versions(
    dataset: String,
    path: String,
) -> Result<Vec<FileVersionView>, ServerFnError> {
    let query = wizfs_api::VersionsQuery {
        entry: entry(dataset, &path, String::new()),
        by: wizfs_api::VersionsBy::default(),
    };
    api()?.versions(query).await.map_err(failed)
}

/// The unified diff between a snapshot's copy and another snapshot's (or the live file).
#[server(prefix = "/fn", endpoint = "compare")]
pub async fn compare(
    dataset: String,
    path: String,
    from: String,
    to: String,
) -> Result<String, ServerFnError> {
    let (path, path_hex) = path_fields(&path);
    let query = wizfs_api::CompareQuery {
        dataset,
        path,
        path_hex,
        from,
        to: Some(to).filter(|to| !to.is_empty()),
    };
    api()?.compare(query).await.map_err(failed)
}

/// The API's restore request for the panel's choice (its path as `path` or `path_hex`).
#[cfg(feature = "ssr")]
fn restore_body(form: RestoreForm) -> Result<wizfs_api::RestoreBody, ServerFnError> {
    let (path, path_hex) = path_fields(&form.path);
    Ok(wizfs_api::RestoreBody {
        target: word(&form.target, "target")?.unwrap_or_default(),
        // A copy has no strategy: the API takes none as its default.
        strategy: word(&form.strategy, "strategy")?.unwrap_or_default(),
        dataset: form.dataset,
        snapshot: form.snapshot,
        path,
        path_hex,
        into: None,
    })
}

#[server(prefix = "/fn", endpoint = "restore-plan")]
pub async fn plan_restore(form: RestoreForm) -> Result<PlanView, ServerFnError> {
    let body = restore_body(form)?;
    api()?.restore_plan(body).await.map_err(failed)
}

#[server(prefix = "/fn", endpoint = "restore")]
pub async fn restore(form: RestoreForm) -> Result<ReportView, ServerFnError> {
    let body = restore_body(form)?;
    api()?.restore(body).await.map_err(failed)
}

#[server(prefix = "/fn", endpoint = "create-snapshot")]
pub async fn create_snapshot(
    dataset: String,
    name: String,
    recursive: Option<String>,
) -> Result<Vec<SnapshotView>, ServerFnError> {
    let body = wizfs_api::CreateSnapshotBody {
        dataset: dataset.trim().to_owned(),
        name: name.trim().to_owned(),
        recursive: recursive.is_some_and(|value| value == "on" || value == "true"),
        ..Default::default()
    };
    api()?.create_snapshot(body).await.map_err(failed)
}

#[server(prefix = "/fn", endpoint = "destroy-snapshots")]
pub async fn destroy_snapshots(names: Vec<String>) -> Result<Vec<String>, ServerFnError> {
    let body = wizfs_api::DestroySnapshotsBody {
        snapshots: names,
        ..Default::default()
    };
    api()?.destroy_snapshots(body).await.map_err(failed)
}

/// What destroying these snapshots would free, per dataset.
#[server(prefix = "/fn", endpoint = "reclaimable")]
pub async fn reclaimable(names: Vec<String>) -> Result<Vec<ReclaimView>, ServerFnError> {
    let query = wizfs_api::ReclaimableQuery {
        snapshots: names.join(","),
    };
    api()?.reclaimable(query).await.map_err(failed)
}

#[server(prefix = "/fn", endpoint = "health")]
pub async fn health() -> Result<HealthView, ServerFnError> {
    api()?.health().await.map_err(failed)
}

/// Acknowledges the active alert about `subject` (the alert's subject as JSON, as the health
/// view gives it) of `kind`.
#[server(prefix = "/fn", endpoint = "acknowledge-alert")]
pub async fn acknowledge_alert(subject: String, kind: String) -> Result<(), ServerFnError> {
    let subject =
        serde_json::from_str(&subject).map_err(|error| refused(format!("subject: {error}")))?;
    let kind = word(&kind, "kind")?.ok_or_else(|| refused("kind: missing".into()))?;
    let body = wizfs_api::health::AcknowledgeBody { subject, kind };
    api()?.acknowledge_alert(body).await.map_err(failed)?;
    Ok(())
}

/// Starts a scrub of `pool` now; what started, in words.
#[server(prefix = "/fn", endpoint = "start-scrub")]
pub async fn start_scrub(pool: String) -> Result<String, ServerFnError> {
    let body = wizfs_api::health::ScrubBody { pool };
    Ok(api()?.start_scrub(body).await.map_err(failed)?.message)
}

/// Starts a SMART self-test (`short` or `long`) of `disk` now; what started, in words.
#[server(prefix = "/fn", endpoint = "start-self-test")]
pub async fn start_self_test(disk: String, kind: String) -> Result<String, ServerFnError> {
    let kind = word(&kind, "kind")?.ok_or_else(|| refused("kind: missing".into()))?;
    let body = wizfs_api::health::SelfTestBody { disk, kind };
    Ok(api()?.start_self_test(body).await.map_err(failed)?.message)
}

/// The last week of one recorded series, in at most `points` buckets.
#[server(prefix = "/fn", endpoint = "health-history")]
pub async fn health_history(metric: String, points: u32) -> Result<SeriesView, ServerFnError> {
    let query = wizfs_api::health::HistoryQuery {
        metric: Some(metric),
        from: None,
        to: None,
        points: usize::try_from(points).ok(),
    };
    match api()?.health_history(query).await.map_err(failed)? {
        wizfs_api::health::HistoryView::Series(series) => Ok(series),
        wizfs_api::health::HistoryView::Metrics(_) => {
            Err(ServerFnError::new("the daemon listed the series instead"))
        }
    }
}

#[server(prefix = "/fn", endpoint = "task-progress")]
pub async fn task_progress() -> Result<Vec<ProgressView>, ServerFnError> {
    api()?.progress().await.map_err(failed)
}

/// Starts a reconciliation of the search index (its progress appears as a task).
#[server(prefix = "/fn", endpoint = "reindex")]
pub async fn reindex() -> Result<(), ServerFnError> {
    api()?
        .reindex(wizfs_api::IndexRequest::default())
        .await
        .map_err(failed)?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "account")]
pub async fn account() -> Result<AccountView, ServerFnError> {
    let account = crate::backend::account()?;
    let parts = use_context::<axum::http::request::Parts>()
        .ok_or_else(|| ServerFnError::new("the request is not available"))?;
    let mut sessions = account.sessions(&parts.headers);
    sessions.sort_by_key(|session| !session.current);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    Ok(AccountView { sessions, now })
}

/// The snapshot policies, what the next run would do, and the last runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoliciesPageView {
    pub policies: wizfs_api::policies::PoliciesView,
    /// `None` when the plan could not be made (its error in `plan_error`).
    pub plan: Option<wizfs_api::policies::PlanView>,
    pub plan_error: Option<String>,
}

/// The configured policies and their last runs, without the plan (the policy editor).
#[server(prefix = "/fn", endpoint = "configured-policies")]
pub async fn configured_policies() -> Result<wizfs_api::policies::PoliciesView, ServerFnError> {
    api()?.policies().await.map_err(failed)
}

#[server(prefix = "/fn", endpoint = "policies")]
pub async fn policies() -> Result<PoliciesPageView, ServerFnError> {
    let api = api()?;
    let policies = api.policies().await.map_err(failed)?;
    let query = wizfs_api::policies::PlanQuery {
        policy: None,
        estimate: Some(true),
    };
    let (plan, plan_error) = match api.policies_plan(query).await {
        Ok(plan) => (Some(plan), None),
        Err(failure) => (None, Some(failure.message)),
    };
    Ok(PoliciesPageView {
        policies,
        plan,
        plan_error,
    })
}

/// Runs the policies now (take what is due, prune what they no longer keep).
#[server(prefix = "/fn", endpoint = "run-policies")]
pub async fn run_policies() -> Result<wizfs_api::policies::RunReportView, ServerFnError> {
    api()?.policies_run().await.map_err(failed)
}

/// Destroys now what the policies no longer keep (`policy`: only its snapshots).
#[server(prefix = "/fn", endpoint = "prune-policies")]
pub async fn prune_policies(
    policy: Option<String>,
) -> Result<wizfs_api::policies::RunReportView, ServerFnError> {
    let request = wizfs_api::policies::PruneRequest {
        policy: policy.filter(|policy| !policy.is_empty()),
    };
    api()?.policies_prune(request).await.map_err(failed)
}

/// The backup jobs with their last runs.
#[server(prefix = "/fn", endpoint = "backups")]
pub async fn backups() -> Result<wizfs_api::backups::BackupsView, ServerFnError> {
    api()?.backups().await.map_err(failed)
}

/// Runs a backup job now; its run once finished.
#[server(prefix = "/fn", endpoint = "run-backup")]
pub async fn run_backup(job: String) -> Result<wizfs_api::backups::BackupRunView, ServerFnError> {
    api()?
        .run_backup(wizfs_api::backups::BackupJobQuery { job })
        .await
        .map_err(failed)
}

/// The notification channels (never their secrets).
#[server(prefix = "/fn", endpoint = "notification-channels")]
pub async fn notification_channels() -> Result<Vec<wizfs_api::health::ChannelView>, ServerFnError> {
    api()?.health_channels().await.map_err(failed)
}

/// A change of the configuration as the page sends it: the API's request as JSON (a server
/// function's arguments are flat form fields).
#[cfg(feature = "ssr")]
fn change_of<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ServerFnError> {
    serde_json::from_str(json)
        .map_err(|error| refused(format!("the change does not read: {error}")))
}

/// What adding, changing or removing a policy would do (`change`: a
/// `wizfs_api::policies::PolicyChange` as JSON); nothing is saved.
#[server(prefix = "/fn", endpoint = "preview-policy")]
pub async fn preview_policy(
    change: String,
) -> Result<wizfs_api::policies::PolicyPreviewView, ServerFnError> {
    api()?
        .preview_policy_change(change_of(&change)?)
        .await
        .map_err(failed)
}

/// Saves a policy change (`change` as for [`preview_policy`]) to the configuration file.
#[server(prefix = "/fn", endpoint = "change-policy")]
pub async fn change_policy(
    change: String,
) -> Result<wizfs_api::policies::PoliciesView, ServerFnError> {
    api()?
        .change_policy(change_of(&change)?)
        .await
        .map_err(failed)
}

/// Saves a notification channel change (`change`: a `wizfs_api::health::ChannelChange` as
/// JSON) to the configuration file.
#[server(prefix = "/fn", endpoint = "change-channel")]
pub async fn change_channel(
    change: String,
) -> Result<Vec<wizfs_api::health::ChannelView>, ServerFnError> {
    api()?
        .change_channel(change_of(&change)?)
        .await
        .map_err(failed)
}

/// Sends a test message through one channel (`channel`) or every one (empty).
#[server(prefix = "/fn", endpoint = "test-notification")]
pub async fn test_notifications(
    channel: String,
) -> Result<Vec<wizfs_api::health::TestResult>, ServerFnError> {
    let query = wizfs_api::health::TestQuery {
        channel: Some(channel).filter(|channel| !channel.is_empty()),
    };
    api()?.test_notification(query).await.map_err(failed)
}
