//! The REST API of snapshot policies: the configured policies with the last scheduler runs
//! (`GET /api/v1/policies`), the dry-run plan with the reasons for every verdict and what
//! each destroy would free (`GET /api/v1/policies/plan`), a run now
//! (`POST /api/v1/policies/run`), and what destroying a set or range of snapshots would free
//! before the user confirms (`GET /api/v1/snapshots/reclaimable?snapshots=tank/a@x,y`).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use wizfs_core::SnapshotName;
use wizfs_snapshots::RunMode;

use super::blocking;
use crate::server::{ApiError, AppState};
use wizfs_services::wire::snapshots::{PlanView, PolicyView, ReclaimView, RunReportView};

/// `GET /api/v1/policies`.
#[derive(Debug, Serialize)]
pub struct PoliciesView {
    pub policies: Vec<PolicyView>,
    /// The last runs with something to report, newest first.
    pub recent_runs: Vec<RunReportView>,
}

async fn policies(State(state): State<AppState>) -> Json<PoliciesView> {
    Json(PoliciesView {
        policies: state
            .snapshots
            .policies()
            .iter()
            .map(PolicyView::from)
            .collect(),
        recent_runs: state.snapshots.recent_reports(),
    })
}

#[derive(Debug, Deserialize)]
pub struct PlanQuery {
    /// Only the decisions on this policy's snapshots (the plan still weighs every policy).
    #[serde(default)]
    pub policy: Option<String>,
    /// Ask ZFS what each destroy would free (default true).
    #[serde(default)]
    pub estimate: Option<bool>,
}

async fn plan(
    State(state): State<AppState>,
    Query(query): Query<PlanQuery>,
) -> Result<Json<PlanView>, ApiError> {
    let policies = state.snapshots.policies().to_vec();
    if let Some(id) = &query.policy
        && !policies.iter().any(|policy| policy.id().as_str() == id)
    {
        return Err(ApiError::not_found(format!(
            "no policy `{id}` is configured"
        )));
    }
    let zfs = state.zfs.clone();
    let estimate = query.estimate.unwrap_or(true);
    blocking(move || {
        let report = wizfs_snapshots::plan_now(
            zfs.as_ref(),
            &policies,
            wizfs_services::snapshots::now(),
            estimate,
        );
        let mut view = PlanView::from(&report);
        if let Some(id) = &query.policy {
            view.decisions
                .retain(|decision| decision.managed_by.as_deref() == Some(id.as_str()));
            view.due.retain(|due| &due.policy == id);
            view.destroy_count = view
                .decisions
                .iter()
                .filter(|decision| decision.action == "destroy")
                .count();
        }
        Ok(Json(view))
    })
    .await
}

async fn run(State(state): State<AppState>) -> Result<Json<RunReportView>, ApiError> {
    if state.snapshots.policies().is_empty() {
        return Err(ApiError::not_found(
            "no snapshot policy is configured".into(),
        ));
    }
    blocking(move || {
        let report = state.snapshots.run(
            state.zfs.as_ref(),
            state.indexer.as_ref(),
            &state.index_config,
            wizfs_services::snapshots::now(),
            RunMode::Scheduled,
        );
        Ok(Json(RunReportView::from(&report)))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ReclaimableQuery {
    /// Comma-separated snapshots; a name without `@` is a snapshot of the dataset named
    /// before it (`tank/a@x,y` is `tank/a@x` and `tank/a@y`, as `zfs destroy` takes them).
    pub snapshots: String,
}

/// Parses `tank/a@x,y,tank/b@z`.
pub fn parse_snapshot_list(text: &str) -> Result<Vec<SnapshotName>, ApiError> {
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
                ApiError::bad_request(format!(
                    "`{item}` needs a dataset: write dataset@{item} first"
                ))
            })?;
            previous.dataset().snapshot(item)
        };
        names.push(name.map_err(|error| ApiError::bad_request(error.to_string()))?);
    }
    if names.is_empty() {
        return Err(ApiError::bad_request("no snapshot given".into()));
    }
    Ok(names)
}

async fn reclaimable(
    State(state): State<AppState>,
    Query(query): Query<ReclaimableQuery>,
) -> Result<Json<Vec<ReclaimView>>, ApiError> {
    let names = parse_snapshot_list(&query.snapshots)?;
    let zfs = state.zfs.clone();
    blocking(move || {
        let mut datasets: Vec<&wizfs_core::DatasetName> =
            names.iter().map(SnapshotName::dataset).collect();
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
        Ok(Json(views))
    })
    .await
}

/// The routes of snapshot policies.
pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get("/api/v1/policies", policies)
        .get("/api/v1/policies/plan", plan)
        .post("/api/v1/policies/run", run)
        .get("/api/v1/snapshots/reclaimable", reclaimable)
        .post("/api/v1/snapshots", create)
        .post("/api/v1/snapshots/destroy", destroy)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;
    use wizfs_core::{DatasetName, PoolName};
    use wizfs_zfs::{FakeZfs, Zfs};

    use super::*;
    use wizfs_services::snapshots::SnapshotService;

    async fn call(router: Router, method: &str, uri: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        let response = router.oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn policies_plan_run_and_reclaimable_space() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fake = FakeZfs::open(directory.path()).expect("fake");
        fake.create_pool(&PoolName::new("tank").expect("pool"), 1 << 30)
            .expect("pool");
        let dataset = DatasetName::new("tank/home").expect("name");
        fake.create_filesystem(&dataset, &[]).expect("dataset");
        let mountpoint = fake.mountpoint(&dataset).expect("mounted");
        let fake = Arc::new(fake);
        for short in ["one", "two"] {
            std::fs::write(mountpoint.join(short), vec![b'x'; 8192]).expect("write");
            fake.create_snapshots(&[dataset.snapshot(short).expect("name")], false, &[])
                .expect("snapshot");
            std::fs::remove_file(mountpoint.join(short)).expect("remove");
        }
        let policies = wizfs_snapshots::parse_policies(
            "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = 24\ntimezone = \"UTC\"\n",
            std::path::Path::new("test"),
        )
        .expect("policies");
        let zfs: Arc<dyn Zfs> = fake.clone();
        let mut state = AppState::new(zfs);
        state.snapshots = SnapshotService::new(policies);
        let router = || crate::server::router(state.clone());

        let (status, body) = call(router(), "GET", "/api/v1/policies").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["policies"][0]["id"], "home");
        assert_eq!(body["policies"][0]["schedule"], "hourly");
        assert_eq!(body["recent_runs"], serde_json::json!([]));

        let (status, body) = call(router(), "GET", "/api/v1/policies/plan").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["due"][0]["due"], true);
        assert_eq!(body["due"][0]["reason"], "first snapshot");
        assert_eq!(body["decisions"][0]["action"], "keep");
        assert_eq!(body["decisions"][0]["reasons"][0]["kind"], "foreign");

        let (status, body) = call(router(), "POST", "/api/v1/policies/run").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let created = body["policies"][0]["created"][0].as_str().expect("created");
        assert!(created.starts_with("tank/home@wizfs-home-"), "{created}");
        let (_, body) = call(router(), "GET", "/api/v1/policies").await;
        assert_eq!(body["recent_runs"][0]["policies"][0]["created"][0], created);

        let (status, body) = call(
            router(),
            "GET",
            "/api/v1/snapshots/reclaimable?snapshots=tank/home@one,two",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body[0]["dataset"], "tank/home");
        assert_eq!(body[0]["reclaimable_bytes"], 16384);
        assert_eq!(
            body[0]["snapshots"],
            serde_json::json!(["tank/home@one", "tank/home@two"])
        );
        for bad in ["one", "tank/home@@x", ""] {
            let (status, body) = call(
                router(),
                "GET",
                &format!("/api/v1/snapshots/reclaimable?snapshots={bad}"),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
        let (status, _) = call(router(), "GET", "/api/v1/policies/plan?policy=nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// The body of `POST /api/v1/snapshots`.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    pub dataset: String,
    /// The short name (after `@`).
    pub name: String,
    /// Also every descendant dataset, atomically (`zfs snapshot -r`).
    #[serde(default)]
    pub recursive: bool,
}

/// Re-indexes in the background after snapshots were made or destroyed by hand.
fn follow_in_index(state: &AppState) {
    if state.indexer.is_none() {
        return;
    }
    let worker = state.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(error) = worker.reconcile_index() {
            tracing::warn!(%error, "re-indexing after a snapshot change failed");
        }
    });
}

/// `POST /api/v1/snapshots`: takes a snapshot now; answers with the snapshots made.
async fn create(
    State(state): State<AppState>,
    Json(body): Json<CreateBody>,
) -> Result<Json<Vec<wizfs_api::SnapshotView>>, ApiError> {
    let dataset = wizfs_services::recovery::dataset(body.dataset.trim())?;
    let name = dataset
        .snapshot(body.name.trim())
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let zfs = state.zfs.clone();
    let recursive = body.recursive;
    let made = blocking(move || {
        zfs.create_snapshots(std::slice::from_ref(&name), recursive, &[])?;
        let scope = if recursive {
            wizfs_zfs::Scope::Recursive
        } else {
            wizfs_zfs::Scope::Dataset
        };
        Ok(zfs
            .list_snapshots(&dataset, scope)?
            .iter()
            .filter(|snapshot| snapshot.name.short_name() == name.short_name())
            .map(wizfs_api::SnapshotView::from)
            .collect::<Vec<_>>())
    })
    .await?;
    tracing::info!(snapshots = made.len(), "snapshot taken by hand");
    follow_in_index(&state);
    Ok(Json(made))
}

/// The body of `POST /api/v1/snapshots/destroy`.
#[derive(Debug, Deserialize)]
pub struct DestroyBody {
    /// Full names (`tank/a@x`); the list syntax of `reclaimable` also works (`tank/a@x,y`).
    pub snapshots: Vec<String>,
}

/// `POST /api/v1/snapshots/destroy`: destroys the snapshots (held ones fail with the reason);
/// answers with the names destroyed.
async fn destroy(
    State(state): State<AppState>,
    Json(body): Json<DestroyBody>,
) -> Result<Json<Vec<String>>, ApiError> {
    let names = parse_snapshot_list(&body.snapshots.join(","))?;
    let zfs = state.zfs.clone();
    let destroyed = names.iter().map(ToString::to_string).collect::<Vec<_>>();
    blocking(move || {
        zfs.destroy_snapshots(&names, wizfs_zfs::DestroyOptions::default())?;
        Ok(())
    })
    .await?;
    tracing::info!(?destroyed, "snapshots destroyed by hand");
    follow_in_index(&state);
    Ok(Json(destroyed))
}
