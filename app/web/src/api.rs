//! The console's server functions: one typed function per thing a page needs. Each body runs
//! on the server only (feature `ssr`) and is a thin call of the daemon's REST API through
//! [`crate::backend`]; in the browser the macro turns each into a POST to its fixed endpoint
//! under `/fn/` (stable URLs, listed by the route test of `wizfsd`).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::backend::{get, get_text, post};
#[cfg(feature = "ssr")]
use crate::format::{parse_date, parse_size, path_from_query, path_pair, query};
use crate::model;

#[server(prefix = "/fn", endpoint = "dashboard")]
pub async fn dashboard() -> Result<model::Dashboard, ServerFnError> {
    let pools: Vec<model::Pool> = get("/api/v1/pools".into()).await?;
    let mut snapshots: Vec<model::Snapshot> = Vec::new();
    for pool in &pools {
        let mut of_pool: Vec<model::Snapshot> = get(format!(
            "/api/v1/snapshots{}",
            query(&[("dataset", &pool.name), ("recursive", "true")])
        ))
        .await?;
        snapshots.append(&mut of_pool);
    }
    let snapshot_count = snapshots.len();
    snapshots.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.createtxg));
    snapshots.truncate(8);
    let (health, health_error) = match get::<model::Health>("/api/v1/health".into()).await {
        Ok(health) => (Some(health), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let jobs: Vec<model::Job> = get("/api/v1/jobs".into()).await?;
    Ok(model::Dashboard {
        pools,
        recent_snapshots: snapshots,
        snapshot_count,
        health,
        health_error,
        jobs,
    })
}

#[server(prefix = "/fn", endpoint = "datasets")]
pub async fn datasets() -> Result<Vec<model::Dataset>, ServerFnError> {
    get("/api/v1/datasets".into()).await
}

#[server(prefix = "/fn", endpoint = "search")]
pub async fn search(form: model::SearchForm) -> Result<model::SearchResults, ServerFnError> {
    let size = |text: &str, what: &str| -> Result<String, ServerFnError> {
        if text.trim().is_empty() {
            return Ok(String::new());
        }
        parse_size(text)
            .map(|value| value.to_string())
            .ok_or_else(|| ServerFnError::new(format!("{what} `{text}` is not a size (try 10M)")))
    };
    let date = |text: &str, what: &str| -> Result<String, ServerFnError> {
        if text.trim().is_empty() {
            return Ok(String::new());
        }
        parse_date(text)
            .map(|value| value.to_string())
            .ok_or_else(|| {
                ServerFnError::new(format!("{what} `{text}` is not a date (YYYY-MM-DD)"))
            })
    };
    let offset = (form.page * model::SearchForm::PAGE_SIZE).to_string();
    let limit = model::SearchForm::PAGE_SIZE.to_string();
    let min_size = size(&form.min_size, "minimum size")?;
    let max_size = size(&form.max_size, "maximum size")?;
    let after = date(&form.after, "modified after")?;
    let before = date(&form.before, "modified before")?;
    let ext = form.ext.trim().trim_start_matches('.').to_ascii_lowercase();
    crate::backend::search(query(&[
        ("q", form.q.trim()),
        ("match", &form.r#match),
        ("dataset", &form.dataset),
        ("type", &form.r#type),
        ("ext", &ext),
        ("min_size", &min_size),
        ("max_size", &max_size),
        ("modified_after", &after),
        ("modified_before", &before),
        ("deleted", if form.deleted { "true" } else { "" }),
        ("sort", &form.sort),
        ("descending", if form.sort.is_empty() { "" } else { "true" }),
        ("offset", &offset),
        ("limit", &limit),
    ]))
    .await
}

#[server(prefix = "/fn", endpoint = "browse")]
pub async fn browse(
    dataset: String,
    path: String,
    snapshot: String,
) -> Result<Vec<model::Entry>, ServerFnError> {
    get(format!(
        "/api/v1/browse{}",
        query(&[
            ("dataset", &dataset),
            path_pair(&path),
            ("snapshot", &snapshot)
        ])
    ))
    .await
    .map(|entries: Vec<model::Entry>| {
        entries
            .into_iter()
            .map(|entry| model::Entry {
                path: path_from_query(Some(entry.path), Some(entry.path_hex.clone())),
                ..entry
            })
            .collect()
    })
}

#[server(prefix = "/fn", endpoint = "snapshots")]
pub async fn snapshots(
    dataset: String,
    recursive: bool,
) -> Result<Vec<model::Snapshot>, ServerFnError> {
    let mut snapshots: Vec<model::Snapshot> = get(format!(
        "/api/v1/snapshots{}",
        query(&[
            ("dataset", &dataset),
            ("recursive", if recursive { "true" } else { "" })
        ])
    ))
    .await?;
    snapshots.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.createtxg));
    Ok(snapshots)
}

#[server(prefix = "/fn", endpoint = "versions")]
pub async fn versions(
    dataset: String,
    path: String,
) -> Result<Vec<model::FileVersion>, ServerFnError> {
    get(format!(
        "/api/v1/versions{}",
        query(&[("dataset", &dataset), path_pair(&path)])
    ))
    .await
}

/// The unified diff between a snapshot's copy and another snapshot's (or the live file).
#[server(prefix = "/fn", endpoint = "compare")]
pub async fn compare(
    dataset: String,
    path: String,
    from: String,
    to: String,
) -> Result<String, ServerFnError> {
    get_text(format!(
        "/api/v1/compare{}",
        query(&[
            ("dataset", &dataset),
            path_pair(&path),
            ("from", &from),
            ("to", &to)
        ])
    ))
    .await
}

#[server(prefix = "/fn", endpoint = "restore-plan")]
pub async fn plan_restore(form: model::RestoreForm) -> Result<model::RestorePlan, ServerFnError> {
    post("/api/v1/restore/plan".into(), &form.wire()).await
}

#[server(prefix = "/fn", endpoint = "restore")]
pub async fn restore(form: model::RestoreForm) -> Result<model::RestoreReport, ServerFnError> {
    post("/api/v1/restore".into(), &form.wire()).await
}

#[server(prefix = "/fn", endpoint = "create-snapshot")]
pub async fn create_snapshot(
    dataset: String,
    name: String,
    recursive: Option<String>,
) -> Result<Vec<model::Snapshot>, ServerFnError> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        dataset: &'a str,
        name: &'a str,
        recursive: bool,
    }
    post(
        "/api/v1/snapshots".into(),
        &Body {
            dataset: dataset.trim(),
            name: name.trim(),
            recursive: recursive.is_some_and(|value| value == "on" || value == "true"),
        },
    )
    .await
}

#[server(prefix = "/fn", endpoint = "destroy-snapshots")]
pub async fn destroy_snapshots(names: Vec<String>) -> Result<Vec<String>, ServerFnError> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        snapshots: &'a [String],
    }
    post(
        "/api/v1/snapshots/destroy".into(),
        &Body { snapshots: &names },
    )
    .await
}

/// What destroying these snapshots would free, per dataset.
#[server(prefix = "/fn", endpoint = "reclaimable")]
pub async fn reclaimable(names: Vec<String>) -> Result<Vec<model::Reclaim>, ServerFnError> {
    get(format!(
        "/api/v1/snapshots/reclaimable{}",
        query(&[("snapshots", &names.join(","))])
    ))
    .await
}

#[server(prefix = "/fn", endpoint = "health")]
pub async fn health() -> Result<model::Health, ServerFnError> {
    get("/api/v1/health".into()).await
}

/// The last week of one recorded series, in at most `points` buckets.
#[server(prefix = "/fn", endpoint = "health-history")]
pub async fn health_history(metric: String, points: u32) -> Result<model::Series, ServerFnError> {
    get(format!(
        "/api/v1/health/history{}",
        query(&[("metric", &metric), ("points", &points.to_string())])
    ))
    .await
}

#[server(prefix = "/fn", endpoint = "jobs")]
pub async fn jobs() -> Result<Vec<model::Job>, ServerFnError> {
    get("/api/v1/jobs".into()).await
}

/// Starts a reconciliation of the search index (its progress appears as a job).
#[server(prefix = "/fn", endpoint = "reindex")]
pub async fn reindex() -> Result<(), ServerFnError> {
    let _: serde_json::Value = post("/api/v1/index".into(), &serde_json::json!({})).await?;
    Ok(())
}
