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
    PlanQuery, PlanView, PoliciesView, PruneRequest, ReclaimView, RunReportView,
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
}
