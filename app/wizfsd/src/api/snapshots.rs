//! The REST API of snapshot policies: the configured policies with the last scheduler runs
//! (`GET /api/v1/policies`), the dry-run plan with the reasons for every verdict and what
//! each destroy would free (`GET /api/v1/policies/plan`), a run now
//! (`POST /api/v1/policies/run`), what destroying a set or range of snapshots would free
//! before the user confirms (`GET /api/v1/snapshots/reclaimable?snapshots=tank/a@x,y`), and
//! snapshots taken and destroyed by hand (`POST /api/v1/snapshots`, `…/snapshots/destroy`),
//! a prune now (`POST /api/v1/policies/prune`), user holds (`GET`/`POST /api/v1/holds`,
//! `POST …/holds/release`), bookmarks (`GET`/`POST /api/v1/bookmarks`, `POST
//! …/bookmarks/destroy`) and `zfs diff` (`GET /api/v1/diff`).
//! Each handler is one call of the snapshot services of `wizfs-services`.

use axum::Json;
use axum::extract::State;
use wizfs_api::policies::{
    PlanQuery, PlanView, PoliciesView, PolicyChange, PolicyPreviewView, PruneRequest, ReclaimView,
    RunReportView,
};
use wizfs_api::{
    BookmarkView, CreateBookmarkBody, CreateSnapshotBody, DatasetQuery, DestroyBookmarkBody,
    DestroySnapshotsBody, DiffEntryView, DiffQuery, HoldBody, HoldView, ReclaimableQuery,
    SnapshotQuery, SnapshotView, routes,
};

use crate::http::{ApiError, ApiJson, ApiQuery, AppState};

async fn policies(State(state): State<AppState>) -> Json<PoliciesView> {
    Json(state.policies())
}

async fn plan(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PlanQuery>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(state.policies_plan(query).await?))
}

async fn run(State(state): State<AppState>) -> Result<Json<RunReportView>, ApiError> {
    Ok(Json(state.policies_run().await?))
}

async fn reclaimable(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ReclaimableQuery>,
) -> Result<Json<Vec<ReclaimView>>, ApiError> {
    Ok(Json(state.reclaimable(query).await?))
}

/// `POST /api/v1/snapshots`: takes a snapshot now; answers with the snapshots made.
async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateSnapshotBody>,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    Ok(Json(state.create_snapshot(body).await?))
}

/// `POST /api/v1/snapshots/destroy`: destroys the snapshots (held ones fail with the reason);
/// answers with the names destroyed.
async fn destroy(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DestroySnapshotsBody>,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(state.destroy_snapshots(body).await?))
}

async fn prune(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PruneRequest>,
) -> Result<Json<RunReportView>, ApiError> {
    Ok(Json(state.policies_prune(request).await?))
}

async fn preview_change(
    State(state): State<AppState>,
    ApiJson(change): ApiJson<PolicyChange>,
) -> Result<Json<PolicyPreviewView>, ApiError> {
    Ok(Json(state.preview_policy_change(change).await?))
}

async fn change(
    State(state): State<AppState>,
    ApiJson(change): ApiJson<PolicyChange>,
) -> Result<Json<PoliciesView>, ApiError> {
    Ok(Json(state.change_policy(change).await?))
}

async fn holds(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SnapshotQuery>,
) -> Result<Json<Vec<HoldView>>, ApiError> {
    Ok(Json(state.holds(query).await?))
}

async fn hold(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<Vec<HoldView>>, ApiError> {
    Ok(Json(state.hold(body).await?))
}

async fn release(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<Vec<HoldView>>, ApiError> {
    Ok(Json(state.release(body).await?))
}

async fn bookmarks(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DatasetQuery>,
) -> Result<Json<Vec<BookmarkView>>, ApiError> {
    Ok(Json(state.bookmarks(query).await?))
}

async fn create_bookmark(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBookmarkBody>,
) -> Result<Json<Vec<BookmarkView>>, ApiError> {
    Ok(Json(state.create_bookmark(body).await?))
}

async fn destroy_bookmark(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DestroyBookmarkBody>,
) -> Result<Json<Vec<BookmarkView>>, ApiError> {
    Ok(Json(state.destroy_bookmark(body).await?))
}

async fn diff(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<Json<Vec<DiffEntryView>>, ApiError> {
    Ok(Json(state.diff(query).await?))
}

/// The routes of snapshot policies, of snapshots taken and destroyed by hand, and of the
/// holds, bookmarks and diffs beside them.
pub fn router() -> crate::routes::Routes<AppState> {
    crate::routes::Routes::new()
        .get(routes::POLICIES, policies)
        .get(routes::POLICIES_PLAN, plan)
        .post(routes::POLICIES_RUN, run)
        .get(routes::SNAPSHOTS_RECLAIMABLE, reclaimable)
        .post(routes::SNAPSHOTS, create)
        .post(routes::SNAPSHOTS_DESTROY, destroy)
        .post(routes::POLICIES_PRUNE, prune)
        .post(routes::POLICIES_PREVIEW, preview_change)
        .post(routes::POLICIES_CHANGE, change)
        .get(routes::HOLDS, holds)
        .post(routes::HOLDS, hold)
        .post(routes::HOLDS_RELEASE, release)
        .get(routes::BOOKMARKS, bookmarks)
        .post(routes::BOOKMARKS, create_bookmark)
        .post(routes::BOOKMARKS_DESTROY, destroy_bookmark)
        .get(routes::DIFF, diff)
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

    use super::super::tests::post_json;
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

    /// A fake machine with the pool `tank` and its filesystem `tank/home`, mounted.
    fn home() -> (tempfile::TempDir, FakeZfs, DatasetName, std::path::PathBuf) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fake = FakeZfs::open(directory.path()).expect("fake");
        fake.create_pool(&PoolName::new("tank").expect("pool"), 1 << 30)
            .expect("pool");
        let dataset = DatasetName::new("tank/home").expect("name");
        fake.create_filesystem(&dataset, &[]).expect("dataset");
        let mountpoint = fake.mountpoint(&dataset).expect("mounted");
        (directory, fake, dataset, mountpoint)
    }

    #[tokio::test]
    async fn policies_plan_run_and_reclaimable_space() {
        let (_directory, fake, dataset, mountpoint) = home();
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

    #[tokio::test]
    async fn holds_bookmarks_diff_and_a_prune_by_hand() {
        use crate::api::tests::{get_json, post_json};
        use serde_json::json;
        let (_directory, fake, dataset, mountpoint) = home();
        fake.create_snapshots(&[dataset.snapshot("before").expect("name")], false, &[])
            .expect("snapshot");
        std::fs::write(mountpoint.join("new.txt"), b"new").expect("write");
        let zfs: Arc<dyn Zfs> = Arc::new(fake);
        let mut state = AppState::new(zfs);
        state.snapshots = SnapshotService::new(
            wizfs_snapshots::parse_policies(
                "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = 1\ntimezone = \"UTC\"\n",
                std::path::Path::new("test"),
            )
            .expect("policies"),
        );
        let router = crate::server::router(state);

        // A hold blocks a destroy until it is released.
        let hold = json!({"snapshot": "tank/home@before", "tag": "keep"});
        let (status, body) = post_json(&router, "/api/v1/holds", hold.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body[0]["tag"], "keep");
        let (status, body) = get_json(&router, "/api/v1/holds?snapshot=tank/home@before").await;
        assert_eq!(
            (status, body[0]["snapshot"].clone()),
            (StatusCode::OK, json!("tank/home@before"))
        );
        let destroy = json!({"snapshots": ["tank/home@before"]});
        let (status, body) = post_json(&router, "/api/v1/snapshots/destroy", destroy.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, body) = post_json(&router, "/api/v1/holds/release", hold).await;
        assert_eq!((status, body), (StatusCode::OK, json!([])));

        // A bookmark of the snapshot, listed, destroyed.
        let bookmark = json!({"snapshot": "tank/home@before", "bookmark": "tank/home#before"});
        let (status, body) = post_json(&router, "/api/v1/bookmarks", bookmark).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body[0]["name"], "tank/home#before");
        let (_, body) = get_json(&router, "/api/v1/bookmarks?dataset=tank/home").await;
        assert_eq!(body.as_array().map(Vec::len), Some(1), "{body}");
        let (status, body) = post_json(
            &router,
            "/api/v1/bookmarks",
            json!({"snapshot": "tank/home@before", "bookmark": "tank/other#x"}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "another dataset's bookmark: {body}"
        );
        let (status, body) = post_json(
            &router,
            "/api/v1/bookmarks/destroy",
            json!({"bookmark": "tank/home#before"}),
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, json!([])));

        // What changed since the snapshot; a snapshot that does not exist is named.
        let (status, body) = get_json(&router, "/api/v1/diff?from=tank/home@before").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entries = body.as_array().expect("entries");
        assert!(
            entries.iter().any(|entry| entry["change"] == "created"
                && entry["path"]
                    .as_str()
                    .is_some_and(|path| path.ends_with("/new.txt"))),
            "{body}"
        );
        let (status, body) = get_json(&router, "/api/v1/diff?from=tank/home@never").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _) = get_json(&router, "/api/v1/diff?from=tank/home").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // A prune by hand: an unknown policy is refused, a known one answers with its run
        // (the hand-made snapshot is not the policy's: kept).
        let (status, _) =
            post_json(&router, "/api/v1/policies/prune", json!({"policy": "nope"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) =
            post_json(&router, "/api/v1/policies/prune", json!({"policy": "home"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["policies"][0]["destroyed"], json!([]), "{body}");
        let (status, body) = post_json(&router, "/api/v1/snapshots/destroy", destroy).await;
        assert_eq!(status, StatusCode::OK, "released, then destroyed: {body}");
    }

    /// The configuration file of a policy test: a comment, the policy `home` and a key the
    /// console never touches.
    const CONFIG: &str = "# The NAS.\nlog = \"info\"\n\n# Home every hour.\n[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourly = 24 # a day\npre_hook = [\"/bin/true\"]\n";

    #[tokio::test]
    async fn policies_are_previewed_changed_and_followed_from_the_next_run() {
        let (directory, fake, dataset, _mountpoint) = home();
        let fake = Arc::new(fake);
        let media = DatasetName::new("tank/media").expect("name");
        fake.create_filesystem(&media, &[]).expect("dataset");
        let path = directory.path().join("wizfsd.toml");
        std::fs::write(&path, CONFIG).expect("config");
        let config = wizfs_services::config::Config::load(&path).expect("reads");
        let zfs: Arc<dyn Zfs> = fake.clone();
        let state = AppState::new(zfs)
            .with_policies(config.policies)
            .with_config_file(path.clone());
        let router = crate::server::router(state.clone());

        // Two hourly snapshots of `home`: this hour's, taken by a run, and the last hour's;
        // keeping 24 hours keeps both, keeping one destroys the older.
        let (status, body) = call(router.clone(), "POST", "/api/v1/policies/run").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = wizfs_core::rotation::PolicyId::new("home").expect("id");
        let hour_ago = wizfs_core::Timestamp(wizfs_recovery::system_clock().0 - 3600);
        let older = wizfs_core::rotation::snapshot_short_name(&id, hour_ago);
        let managed = wizfs_zfs::PropertyName::new("wizfs:managed").expect("property");
        fake.create_snapshots(
            &[dataset.snapshot(&older).expect("name")],
            false,
            &[(managed, "home".into())],
        )
        .expect("snapshot");
        let (_, plan) = call(router.clone(), "GET", "/api/v1/policies/plan").await;
        assert_eq!(plan["destroy_count"], 0, "{plan}");
        let edit = serde_json::json!({
            "id": "home", "dataset": "tank/home", "hourly": 1, "skip_empty": false
        });
        let change = serde_json::json!({"original": "home", "policy": edit});
        let (status, preview) =
            post_json(&router, "/api/v1/policies/preview", change.clone()).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["policy"]["tiers"][0]["keep"], 1, "{preview}");
        assert_eq!(preview["plan"]["destroy_count"], 1, "{preview}");
        let destroyed = preview["plan"]["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .find(|decision| decision["action"] == "destroy")
            .expect("one destroyed");
        assert_eq!(destroyed["short_name"], older.as_str());
        assert_eq!(
            std::fs::read_to_string(&path).expect("reads"),
            CONFIG,
            "a preview writes nothing"
        );

        let (status, body) = post_json(&router, "/api/v1/policies/change", change).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["policies"][0]["tiers"][0]["keep"], 1);
        assert_eq!(
            std::fs::read_to_string(&path).expect("reads"),
            CONFIG.replace("hourly = 24 # a day", "hourly = 1 # a day"),
            "only the value changed; comments and hooks kept"
        );
        let (_, body) = post_json(&router, "/api/v1/policies/prune", serde_json::json!({})).await;
        assert_eq!(
            body["policies"][0]["destroyed"][0]["snapshot"],
            format!("tank/home@{older}"),
            "pruning follows the change: {body}"
        );

        // A new policy on another dataset: taken at once by the next run.
        let add =
            serde_json::json!({"policy": {"id": "media", "dataset": "tank/media", "daily": 7}});
        let (status, preview) = post_json(&router, "/api/v1/policies/preview", add.clone()).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["plan"]["due"][0]["policy"], "media");
        assert_eq!(preview["plan"]["due"][0]["due"], true);
        let (status, body) = post_json(&router, "/api/v1/policies/change", add).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, body) = call(router.clone(), "POST", "/api/v1/policies/run").await;
        let created: Vec<&str> = body["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .flat_map(|run| run["created"].as_array().expect("created"))
            .filter_map(serde_json::Value::as_str)
            .collect();
        assert!(
            created
                .iter()
                .any(|name| name.starts_with("tank/media@wizfs-media-")),
            "{body}"
        );

        // Refused: a dataset that does not exist, an id taken, a bad time zone; nothing written.
        let before = std::fs::read_to_string(&path).expect("reads");
        for (change, expected) in [
            (
                serde_json::json!({"policy": {"id": "x", "dataset": "tank/none", "daily": 1}}),
                StatusCode::NOT_FOUND,
            ),
            (
                serde_json::json!({"policy": {"id": "media", "dataset": "tank/home", "daily": 1}}),
                StatusCode::CONFLICT,
            ),
            (
                serde_json::json!({"policy": {"id": "x", "dataset": "tank/home", "daily": 1, "timezone": "Mars/Olympus"}}),
                StatusCode::BAD_REQUEST,
            ),
            (
                serde_json::json!({"original": "nobody"}),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (status, body) =
                post_json(&router, "/api/v1/policies/change", change.clone()).await;
            assert_eq!(status, expected, "{change}: {body}");
            assert!(
                body["error"]
                    .as_str()
                    .is_some_and(|error| !error.is_empty()),
                "{body}"
            );
        }
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), before);

        // Removed: its snapshots stay, and the preview says so.
        let remove = serde_json::json!({"original": "media"});
        let (status, preview) =
            post_json(&router, "/api/v1/policies/preview", remove.clone()).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        let notes = preview["notes"].to_string();
        assert!(notes.contains("Its 1 snapshot stays"), "{notes}");
        let (status, body) = post_json(&router, "/api/v1/policies/change", remove).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["policies"].as_array().map(Vec::len), Some(1));
        assert!(
            !std::fs::read_to_string(&path)
                .expect("reads")
                .contains("media")
        );
        assert_eq!(
            fake.list_snapshots(&media, wizfs_zfs::Scope::Dataset)
                .expect("list")
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn without_a_configuration_file_nothing_is_changed() {
        let (_directory, fake, _dataset, _mountpoint) = home();
        let zfs: Arc<dyn Zfs> = Arc::new(fake);
        let router = crate::server::router(AppState::new(zfs));
        let add = serde_json::json!({"policy": {"id": "home", "dataset": "tank/home", "daily": 7}});
        let (status, body) = post_json(&router, "/api/v1/policies/change", add).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or_default()
                .contains("--config"),
            "{body}"
        );
    }
}
