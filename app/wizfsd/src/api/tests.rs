//! HTTP tests of the recovery API over `FakeZfs`: the routes answer with the documented
//! JSON, bad input is a 400 with a message, missing things are 404, downloads carry
//! RFC 5987 names, and a restore through the API lands on disk.

use super::*;
use axum::Router;
use axum::http::{Request, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;
use wizfs_api::{hex, unhex};
use wizfs_core::DatasetName;
use wizfs_core::PoolName;
use wizfs_zfs::{FakeZfs, Zfs};

struct Api {
    _directory: tempfile::TempDir,
    router: Router,
    mountpoint: std::path::PathBuf,
}

fn api() -> Api {
    let directory = tempfile::tempdir().unwrap();
    let fake = FakeZfs::open(directory.path()).unwrap();
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let dataset = DatasetName::new("tank/home").unwrap();
    fake.create_filesystem(&dataset, &[]).unwrap();
    let mountpoint = fake.mountpoint(&dataset).unwrap();
    std::fs::create_dir_all(mountpoint.join("docs")).unwrap();
    std::fs::write(mountpoint.join("docs/notes.txt"), b"milk\nbread\n").unwrap();
    std::fs::write(mountpoint.join("docs/été.txt"), b"summer").unwrap();
    fake.create_snapshots(&[dataset.snapshot("s1").unwrap()], false, &[])
        .unwrap();
    std::fs::write(mountpoint.join("docs/notes.txt"), b"milk\nbread\ncoffee\n").unwrap();
    let router = crate::server::router(AppState::new(Arc::new(fake)));
    Api {
        _directory: directory,
        router,
        mountpoint,
    }
}

async fn call(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, bytes.to_vec(), headers)
}

pub(super) async fn get_json(router: &Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let (status, body, _) = call(router, Request::get(uri).body(Body::empty()).unwrap()).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

pub(super) async fn post_json(
    router: &Router,
    uri: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, body, _) = call(router, request).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn browse_live_and_snapshot() {
    let api = api();
    let (status, live) = get_json(&api.router, "/api/v1/browse?dataset=tank/home&path=docs").await;
    assert_eq!(status, StatusCode::OK, "{live}");
    let names: Vec<&str> = live
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["notes.txt", "été.txt"]);
    assert_eq!(live[1]["path_hex"], hex("docs/été.txt".as_bytes()));
    let (status, old) = get_json(
        &api.router,
        "/api/v1/browse?dataset=tank/home&path=docs&snapshot=s1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(old[0]["size"], 11);
}

#[tokio::test]
async fn bad_input_is_a_400_with_a_message_and_missing_is_404() {
    let api = api();
    for uri in [
        "/api/v1/browse?dataset=tank/home&path=../etc",
        "/api/v1/browse?dataset=tank/home&path=/etc",
        "/api/v1/browse?dataset=tank/../x&path=docs",
        "/api/v1/browse?dataset=tank/home&path_hex=zz",
        "/api/v1/browse?dataset=tank/home&path=docs&snapshot=tank@s1",
        "/api/v1/versions?dataset=tank/home&path=docs/notes.txt&by=magic",
    ] {
        let (status, body) = get_json(&api.router, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(!body["error"].as_str().unwrap().is_empty(), "{uri}");
    }
    let (status, _) = get_json(
        &api.router,
        "/api/v1/browse?dataset=tank/home&path=docs&snapshot=nope",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn versions_and_compare() {
    let api = api();
    let (status, versions) = get_json(
        &api.router,
        "/api/v1/versions?dataset=tank/home&path=docs/notes.txt",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[1]["is_live"], true);
    assert_eq!(versions[0]["sources"][0]["snapshot"], "tank/home@s1");
    let (status, diff, headers) = call(
        &api.router,
        Request::get("/api/v1/compare?dataset=tank/home&path=docs/notes.txt&from=s1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(String::from_utf8_lossy(&diff).contains("+coffee"));
}

#[tokio::test]
async fn restore_plan_then_restore_in_place() {
    let api = api();
    let body = serde_json::json!({"dataset": "tank/home", "snapshot": "s1", "path": "docs/notes.txt", "target": "original"});
    let (status, plan) = post_json(&api.router, "/api/v1/restore/plan", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert!(
        plan["guard_snapshot"]
            .as_str()
            .unwrap()
            .starts_with("tank/home@wizfs-guard-")
    );
    assert_eq!(plan["replaced"], 1);
    assert_eq!(
        std::fs::read(api.mountpoint.join("docs/notes.txt")).unwrap(),
        b"milk\nbread\ncoffee\n",
        "a plan changes nothing"
    );
    let (status, report) = post_json(&api.router, "/api/v1/restore", body).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        std::fs::read(api.mountpoint.join("docs/notes.txt")).unwrap(),
        b"milk\nbread\n"
    );
    let (_, snapshots) = get_json(&api.router, "/api/v1/snapshots?dataset=tank/home").await;
    assert_eq!(
        snapshots.as_array().unwrap().len(),
        2,
        "the guard snapshot exists: {snapshots}"
    );
    let bad = serde_json::json!({"dataset": "tank/home", "snapshot": "s1", "path": "docs", "target": "sideways"});
    let (status, _) = post_json(&api.router, "/api/v1/restore", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn downloads_and_previews_keep_non_ascii_names() {
    let api = api();
    let (status, archive, headers) = call(
        &api.router,
        Request::get("/api/v1/download?dataset=tank/home&path=docs&snapshot=s1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-tar");
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''docs.tar")
    );
    assert!(
        archive
            .windows("été.txt".len())
            .any(|window| window == "été.txt".as_bytes())
    );
    let (status, bytes, headers) = call(
        &api.router,
        Request::get(format!(
            "/api/v1/file?dataset=tank/home&path_hex={}",
            hex("docs/été.txt".as_bytes())
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"summer");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.contains("filename*=UTF-8''%C3%A9t%C3%A9.txt"),
        "{disposition}"
    );
    let (status, _, _) = call(
        &api.router,
        Request::get("/api/v1/download?dataset=tank/home&path=nothing")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_file_downloads_as_itself_and_a_folder_as_tar_or_zip() {
    let api = api();
    let get = |uri: String| {
        let router = api.router.clone();
        async move { call(&router, Request::get(uri).body(Body::empty()).unwrap()).await }
    };
    let file = format!(
        "/api/v1/download?dataset=tank/home&snapshot=s1&path_hex={}",
        hex("docs/été.txt".as_bytes())
    );
    let (status, bytes, headers) = get(file.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"summer", "the file itself, not an archive");
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment")
            && disposition.contains("filename*=UTF-8''%C3%A9t%C3%A9.txt"),
        "{disposition}"
    );
    // Asked for, a file comes as an archive too.
    let (status, archive, headers) = get(format!("{file}&format=tar")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-tar");
    assert!(archive.windows(6).any(|window| window == b"summer"));

    let (status, archive, headers) =
        get("/api/v1/download?dataset=tank/home&path=docs&snapshot=s1&format=zip".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''docs.zip")
    );
    assert!(
        archive.starts_with(b"PK\x03\x04"),
        "a ZIP local header first"
    );
    assert!(
        archive
            .windows("docs/été.txt".len())
            .any(|window| window == "docs/été.txt".as_bytes())
    );
    let (status, _, _) =
        get("/api/v1/download?dataset=tank/home&path=docs&format=rar".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn content_types_and_hex() {
    assert_eq!(content_type(b"a.PNG"), "image/png");
    assert_eq!(content_type(b"movie.mkv"), "video/x-matroska");
    assert_eq!(content_type(b"noextension"), "application/octet-stream");
    assert_eq!(hex(b"\x00\xff/a\x0f"), "00ff2f610f");
    assert_eq!(unhex(&hex(b"\x00\xff/a")).unwrap(), b"\x00\xff/a");
    assert_eq!(unhex("abc"), None);
    assert_eq!(unhex("zz"), None);
}

#[tokio::test]
async fn search_finds_a_deleted_file_after_indexing() {
    let directory = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeZfs::open(directory.path().join("pools")).unwrap());
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let mountpoint = fake.mountpoint(&DatasetName::new("tank").unwrap()).unwrap();
    std::fs::write(mountpoint.join("tax-return-2025.pdf"), b"%PDF").unwrap();
    fake.create_snapshots(
        &[DatasetName::new("tank").unwrap().snapshot("s1").unwrap()],
        false,
        &[],
    )
    .unwrap();
    std::fs::remove_file(mountpoint.join("tax-return-2025.pdf")).unwrap();
    let store = wizfs_services::open_index(&directory.path().join("state")).unwrap();
    let state = AppState::new(fake).with_index(
        store,
        wizfs_services::config::IndexConfig::default(),
        wizfs_indexer::MethodPolicy::Diff,
    );
    let router = crate::server::router(state);
    let (status, before) = get_json(&router, "/api/v1/search?q=tax").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["total"], 0, "nothing indexed yet");
    let (status, report) = post_json(&router, "/api/v1/index", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, found) = get_json(&router, "/api/v1/search?q=tax&deleted=true").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["total"], 1);
    assert_eq!(found["hits"][0]["path"], "tax-return-2025.pdf");
    assert_eq!(found["hits"][0]["path_live"], false);
    assert_eq!(found["hits"][0]["first_snapshot"], "s1");
    assert_eq!(found["extensions"][0]["value"], "pdf");
    let (status, _) = get_json(&router, "/api/v1/search?q=tax&sort=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn excluded_datasets_disappear_from_search() {
    let directory = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeZfs::open(directory.path().join("pools")).unwrap());
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let mountpoint = fake.mountpoint(&DatasetName::new("tank").unwrap()).unwrap();
    std::fs::write(mountpoint.join("secret-plans.txt"), b"x").unwrap();
    let store = wizfs_services::open_index(&directory.path().join("state")).unwrap();
    let included = AppState::new(fake.clone()).with_index(
        store.clone(),
        wizfs_services::config::IndexConfig::default(),
        wizfs_indexer::MethodPolicy::Diff,
    );
    included.reconcile_index().unwrap();
    let router = crate::server::router(included);
    assert_eq!(
        get_json(&router, "/api/v1/search?q=secret").await.1["total"],
        1
    );
    let config = wizfs_services::config::IndexConfig {
        exclude: vec!["tank".into()],
        ..wizfs_services::config::IndexConfig::default()
    };
    let excluded = AppState::new(fake).with_index(store, config, wizfs_indexer::MethodPolicy::Diff);
    excluded.reconcile_index().unwrap();
    let router = crate::server::router(excluded);
    assert_eq!(
        get_json(&router, "/api/v1/search?q=secret").await.1["total"],
        0
    );
}

#[tokio::test]
async fn search_without_an_index_is_503() {
    let api = api();
    let (status, body) = get_json(&api.router, "/api/v1/search?q=x").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
