//! The whole application over `FakeZfs` (API, sign-in and the server-rendered console):
//! every route refuses requests without a session, first-boot setup and sign-in work, the
//! CSRF check and the login limiter bite, and console pages render real data through the
//! in-process backend.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt;
use wizfs_core::{DatasetName, PoolName};
use wizfs_zfs::{FakeZfs, Zfs};

use crate::auth::Auth;
use crate::server::{AppState, app_with_routes};

/// The console's routes, generated once for all tests of the process, as the daemon does
/// (see [`crate::console::Site`]).
static SITE: std::sync::LazyLock<crate::console::Site> =
    std::sync::LazyLock::new(|| crate::console::Site::new(std::path::Path::new("/nonexistent")));

struct Console {
    _directory: tempfile::TempDir,
    fake: Arc<FakeZfs>,
    router: Router,
    listed: Vec<(&'static str, String)>,
}

fn console() -> Console {
    console_with(|state, _| state)
}

/// The console of [`console`] with its state adjusted by `adjust` (given the test's
/// directory).
fn console_with(adjust: impl FnOnce(AppState, &std::path::Path) -> AppState) -> Console {
    let directory = tempfile::tempdir().unwrap();
    let fake = FakeZfs::open(directory.path().join("pools")).unwrap();
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let dataset = DatasetName::new("tank/home").unwrap();
    fake.create_filesystem(&dataset, &[]).unwrap();
    let mountpoint = fake.mountpoint(&dataset).unwrap();
    std::fs::create_dir_all(mountpoint.join("docs")).unwrap();
    std::fs::write(mountpoint.join("docs/notes.txt"), b"milk\nbread\n").unwrap();
    fake.create_snapshots(&[dataset.snapshot("monday").unwrap()], false, &[])
        .unwrap();
    std::fs::remove_file(mountpoint.join("docs/notes.txt")).unwrap();
    let fake = Arc::new(fake);
    let state = adjust(AppState::new(fake.clone()), directory.path());
    let auth = Auth::open(&directory.path().join("state"), false).unwrap();
    let site = directory.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/wizfs.css"), b"body {}").unwrap();
    let (router, listed) = app_with_routes(state, auth, &SITE.with_site_dir(&site));
    Console {
        _directory: directory,
        fake,
        router,
        listed,
    }
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn location(headers: &HeaderMap) -> &str {
    headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

fn form(uri: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(uri)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri).header(header::HOST, "localhost");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

/// The `name=value` of a `Set-Cookie` answer.
fn cookie_of(headers: &HeaderMap) -> String {
    let set = headers
        .get(header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

const PASSWORD: &str = "correct horse battery";

/// Runs first-boot setup; the session cookie.
async fn set_up(console: &Console) -> String {
    cookie_of(&set_up_answer(console).await)
}

/// Runs first-boot setup; the answer's headers.
async fn set_up_answer(console: &Console) -> HeaderMap {
    let (status, headers, _) = send(
        &console.router,
        form(
            "/setup",
            &format!("password={PASSWORD}&confirm={PASSWORD}").replace(' ', "+"),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/");
    headers
}

#[tokio::test]
async fn every_route_but_the_public_ones_needs_a_session() {
    let console = console();
    set_up(&console).await;
    let listed = &console.listed;
    for expected in [
        ("GET", "/api/v1/search"),
        ("POST", "/api/v1/restore"),
        ("GET", "/api/v1/events"),
        ("GET", "/search"),
        ("POST", "/fn/restore"),
        ("POST", "/login"),
    ] {
        assert!(
            listed
                .iter()
                .any(|(method, path)| (*method, path.as_str()) == expected),
            "{expected:?} is not in the route list {listed:?}"
        );
    }
    assert!(listed.len() > 40, "only {} routes listed", listed.len());
    let mut checked = 0;
    for (method, path) in listed
        .iter()
        .map(|(method, path)| (*method, path.clone()))
        .chain([("GET", "/no-such-page".to_owned())])
    {
        if crate::auth::is_public(&path) {
            continue;
        }
        let request = Request::builder()
            .method(method)
            .uri(&path)
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = send(&console.router, request).await;
        let page = method == "GET" && !path.starts_with("/api/") && !path.starts_with("/fn/");
        if page {
            assert_eq!(status, StatusCode::SEE_OTHER, "{method} {path}: {body}");
            assert!(
                location(&headers).starts_with("/login?next="),
                "{method} {path} → {}",
                location(&headers)
            );
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            assert!(body.contains("sign in"), "{method} {path}: {body}");
        }
        checked += 1;
    }
    assert!(checked > 40, "checked {checked}");
    // Public: the sign-in page and the static bundle (setup, done, sends to sign-in:
    // tests/account.rs).
    for path in ["/login", "/pkg/wizfs.css"] {
        let (status, _, _) = send(&console.router, get(path, None)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn first_boot_setup_sign_in_and_out() {
    let console = console();
    let (status, headers, _) = send(&console.router, get("/", None)).await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, "/setup"),
        "first boot leads to setup"
    );
    let (status, headers, _) = send(
        &console.router,
        form("/setup", "password=abcdefghijk&confirm=abcdefghijX", None),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location(&headers).starts_with("/setup?error="),
        "{headers:?}"
    );
    let (_, headers, _) = send(
        &console.router,
        form("/setup", "password=short&confirm=short", None),
    )
    .await;
    assert!(
        location(&headers).starts_with("/setup?error="),
        "{headers:?}"
    );
    let cookie = set_up(&console).await;

    let (status, _, page) = send(&console.router, get("/", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Dashboard"), "{page}");
    assert!(
        page.contains("tank"),
        "the dashboard shows the pool: {page}"
    );

    let (_, headers, _) = send(
        &console.router,
        form("/setup", "password=abcdefghijk&confirm=abcdefghijk", None),
    )
    .await;
    assert!(
        location(&headers).starts_with("/login?error="),
        "setup runs once"
    );

    let (status, headers, _) = send(&console.router, form("/logout", "", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, headers, _) = send(&console.router, get("/search?q=x", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie is dead");
    assert_eq!(location(&headers), "/login?next=%2Fsearch%3Fq%3Dx");

    let (_, headers, _) = send(
        &console.router,
        form(
            "/login",
            &format!(
                "password={}&next=%2Fsearch%3Fq%3Dx",
                PASSWORD.replace(' ', "+")
            ),
            None,
        ),
    )
    .await;
    assert_eq!(location(&headers), "/search?q=x");
    let cookie = cookie_of(&headers);
    let (status, _, _) = send(&console.router, get("/api/v1/pools", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let console = console();
    let cookie = set_up(&console).await;
    let forged = Request::post("/api/v1/index")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&console.router, forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let no_headers = Request::post("/api/v1/snapshots")
        .header(header::HOST, "localhost")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"dataset":"tank/home","name":"x"}"#))
        .unwrap();
    let (status, _, body) = send(&console.router, no_headers).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a script without the CSRF token: {body}"
    );
    let (_, _, session) = send(&console.router, get("/api/v1/session", Some(&cookie))).await;
    let token = serde_json::from_str::<serde_json::Value>(&session).unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let scripted = Request::post("/api/v1/snapshots")
        .header(header::HOST, "localhost")
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"dataset":"tank/home","name":"by-script"}"#))
        .unwrap();
    let (status, _, body) = send(&console.router, scripted).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("tank/home@by-script"), "{body}");
    let forged_login = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let (status, _, _) = send(&console.router, forged_login).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "login CSRF");
}

#[tokio::test]
async fn sign_in_is_rate_limited() {
    let console = console();
    set_up(&console).await;
    for attempt in 0..5 {
        let (status, headers, _) = send(
            &console.router,
            form("/login", "password=wrong+password", None),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "attempt {attempt}");
        assert!(location(&headers).starts_with("/login?error="));
    }
    let right = format!("password={}", PASSWORD.replace(' ', "+"));
    let (status, headers, body) = send(&console.router, form("/login", &right, None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn pages_render_real_data_on_the_server() {
    let console = console();
    let cookie = set_up(&console).await;
    let (status, _, page) = send(
        &console.router,
        get(
            "/browse?dataset=tank%2Fhome&path=docs&snapshot=monday",
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("notes.txt"), "{page}");
    assert!(page.contains("/pkg/wizfs.js"), "the page loads the bundle");
    // The navigation marks the page it is on, and only that one.
    assert!(
        page.contains(r#"<a href="/browse" aria-current="page">Browse"#),
        "{page}"
    );
    assert_eq!(page.matches("aria-current").count(), 1, "{page}");
    // Its row: preview and download of the file as of the snapshot; sortable columns.
    assert!(
        page.contains(
            r#"href="/view?dataset=tank%2Fhome&amp;path=docs%2Fnotes.txt&amp;snapshot=monday""#
        ) && page.contains(
            r#"href="/api/v1/download?dataset=tank%2Fhome&amp;path=docs%2Fnotes.txt&amp;snapshot=monday""#
        ),
        "{page}"
    );
    assert!(
        page.contains(r#"aria-sort="ascending""#) && page.contains("&amp;sort=size"),
        "{page}"
    );
    assert!(page.contains("0 folders, 1 file (11 B)"), "{page}");
    // Times leave the server in UTC, exact in `datetime` (the browser shows them local).
    assert!(
        page.contains(r#"<time datetime=""#) && page.contains(" UTC<"),
        "{page}"
    );
    let (_, _, page) = send(
        &console.router,
        get(
            "/versions?dataset=tank%2Fhome&path=docs%2Fnotes.txt",
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.contains("1 unique version<!>, newest first"), "{page}");
    assert!(page.contains("deleted"), "{page}");
    // A deleted file has no live file to compare with; it can be restored.
    assert!(!page.contains("Compare with live"), "{page}");
    assert!(page.contains("restore-copy"), "{page}");
    // The crumbs name the file once after its folder.
    assert!(
        page.contains(r#"title="docs/notes.txt">notes.txt<"#) && !page.contains(">docs/notes.txt<"),
        "{page}"
    );
    // A file only live: one version, the live one — nothing to restore or compare, preview
    // and download of the live file.
    let mountpoint = console
        .fake
        .mountpoint(&DatasetName::new("tank/home").unwrap())
        .unwrap();
    std::fs::create_dir_all(mountpoint.join("photos")).unwrap();
    std::fs::write(mountpoint.join("photos/beach.jpg"), b"jpeg").unwrap();
    let (_, _, page) = send(
        &console.router,
        get(
            "/versions?dataset=tank%2Fhome&path=photos%2Fbeach.jpg",
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.contains("1 unique version<!>, newest first"), "{page}");
    assert!(
        !page.contains("restore-copy") && !page.contains("Compare with live"),
        "{page}"
    );
    assert!(
        page.contains("/api/v1/download?dataset=tank%2Fhome&amp;path=photos%2Fbeach.jpg\""),
        "{page}"
    );
    let (_, _, page) = send(
        &console.router,
        get("/snapshots?dataset=tank%2Fhome", Some(&cookie)),
    )
    .await;
    assert!(page.contains("tank/home@monday"), "{page}");
    let (status, _, page) = send(&console.router, get("/policies", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No snapshot policy is configured"), "{page}");
    let (status, _, page) = send(&console.router, get("/notifications", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("health monitoring is not running"),
        "the API's refusal, shown: {page}"
    );
    let (status, _, page) = send(&console.router, get("/nowhere", Some(&cookie))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
}

#[tokio::test]
async fn policies_change_from_the_console_and_its_pages_show_them() {
    let console = console_with(|state, directory| {
        let path = directory.join("wizfsd.toml");
        std::fs::write(&path, "# Mine.\n").unwrap();
        state.with_config_file(path)
    });
    let cookie = set_up(&console).await;
    let (_, _, page) = send(&console.router, get("/policies/edit", Some(&cookie))).await;
    assert!(
        page.contains("Add a policy") && page.contains("tank/home"),
        "the datasets offered: {page}"
    );
    let change = serde_json::json!({"policy": {"id": "home", "dataset": "tank/home", "daily": 7}});
    let body = format!("change={}", urlencode(&change.to_string()));
    let (status, _, answer) = send(
        &console.router,
        form("/fn/preview-policy", &body, Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("\"due\":true"), "{answer}");
    let (status, _, answer) = send(
        &console.router,
        form("/fn/change-policy", &body, Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, _, page) = send(&console.router, get("/policies", Some(&cookie))).await;
    assert!(
        page.contains("/policies/edit?id=home"),
        "the new policy, shown at once: {page}"
    );
    let (_, _, page) = send(
        &console.router,
        get("/policies/edit?id=home", Some(&cookie)),
    )
    .await;
    assert!(
        page.contains("Change the policy") && page.contains("value=\"7\""),
        "{page}"
    );
    let bad = format!("change={}", urlencode("{\"policy\": 1}"));
    let (status, _, answer) = send(
        &console.router,
        form("/fn/change-policy", &bad, Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

/// `text` as a form value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn server_functions_answer_through_the_in_process_backend() {
    let console = console();
    let cookie = set_up(&console).await;
    let call = form(
        "/fn/versions",
        "dataset=tank%2Fhome&path=docs%2Fnotes.txt",
        Some(&cookie),
    );
    let (status, _, body) = send(&console.router, call).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let versions: Vec<wizfs_api::FileVersionView> = serde_json::from_str(&body).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(
        wizfs_web::pages::versions::newest_snapshot(&versions[0]),
        Some("tank/home@monday")
    );
    let bad = form("/fn/versions", "dataset=..%2Fetc&path=x", Some(&cookie));
    let (status, _, body) = send(&console.router, bad).await;
    // The API's refusal keeps its status: the client's fault, not the daemon's.
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("pool name"),
        "the API's message reaches the page: {body}"
    );
}

#[tokio::test]
async fn pages_read_listings_through_a_cache_the_consoles_own_changes_clear() {
    let console = console();
    let cookie = set_up(&console).await;
    let page = || async {
        let (status, _, page) = send(
            &console.router,
            get("/snapshots?dataset=tank%2Fhome", Some(&cookie)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page
    };
    assert!(page().await.contains("tank/home@monday"));
    // Made behind the console's back: the kept listing is shown (for up to its TTL).
    let dataset = DatasetName::new("tank/home").unwrap();
    console
        .fake
        .create_snapshots(&[dataset.snapshot("outside").unwrap()], false, &[])
        .unwrap();
    assert!(!page().await.contains("tank/home@outside"));
    // Made through the console: seen at once, with everything else that changed.
    let take = form(
        "/fn/create-snapshot",
        "dataset=tank%2Fhome&name=console",
        Some(&cookie),
    );
    let (status, _, body) = send(&console.router, take).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = page().await;
    assert!(page.contains("tank/home@console"), "{page}");
    assert!(page.contains("tank/home@outside"), "{page}");
}

/// What the console keeps: the machine's listings, read through its typed API, until a
/// change of its own; live things (tasks) are read anew every time.
#[tokio::test]
async fn only_listings_are_kept_and_a_change_clears_them() {
    use wizfs_api::Api;
    let directory = tempfile::tempdir().unwrap();
    let fake = FakeZfs::open(directory.path()).unwrap();
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let fake = Arc::new(fake);
    let state = AppState::new(fake.clone());
    let tasks = state.progress.clone();
    let console = super::InProcess::new(state);
    let tank = || wizfs_api::DatasetQuery {
        dataset: "tank".into(),
        recursive: false,
    };
    assert_eq!(console.pools().await.unwrap().len(), 1);
    assert!(console.snapshots(tank()).await.unwrap().is_empty());
    fake.create_pool(&PoolName::new("backup").unwrap(), 1 << 30)
        .unwrap();
    let dataset = DatasetName::new("tank").unwrap();
    fake.create_snapshots(&[dataset.snapshot("outside").unwrap()], false, &[])
        .unwrap();
    assert_eq!(console.pools().await.unwrap().len(), 1, "kept");
    assert!(console.snapshots(tank()).await.unwrap().is_empty(), "kept");
    assert!(console.progress().await.unwrap().is_empty());
    let task = tasks.start("index", "Indexing");
    assert_eq!(console.progress().await.unwrap().len(), 1, "tasks are live");
    task.succeed("done");
    let made = console
        .create_snapshot(wizfs_api::CreateSnapshotBody {
            dataset: "tank".into(),
            name: "console".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(made[0].name, "tank@console");
    assert_eq!(console.pools().await.unwrap().len(), 2, "a change clears");
    assert_eq!(console.snapshots(tank()).await.unwrap().len(), 2);
}

/// Every data page loaded many times at once: each load must finish (a page stuck waiting for
/// a `Suspense` boundary would hang a browser for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_data_page_finishes_under_concurrent_loads() {
    let console = console();
    let cookie = set_up(&console).await;
    let pages = [
        "/",
        "/snapshots?dataset=tank%2Fhome",
        "/search?q=notes&deleted=true",
        "/browse?dataset=tank%2Fhome&path=docs&snapshot=monday",
        "/versions?dataset=tank%2Fhome&path=docs%2Fnotes.txt",
        "/health",
    ];
    let loads: Vec<_> = (0..40)
        .flat_map(|_| pages)
        .map(|page| {
            let (router, cookie) = (console.router.clone(), cookie.clone());
            tokio::spawn(async move {
                let loaded = tokio::time::timeout(
                    std::time::Duration::from_secs(30),
                    send(&router, get(page, Some(&cookie))),
                )
                .await;
                (page, loaded.map(|(status, _, body)| (status, body.len())))
            })
        })
        .collect();
    let mut stuck = Vec::new();
    for load in loads {
        let (page, loaded) = load.await.unwrap();
        match loaded {
            Ok((status, length)) => {
                assert_eq!(status, StatusCode::OK, "{page}");
                assert!(length > 0, "{page}");
            }
            Err(_) => stuck.push(page),
        }
    }
    assert!(stuck.is_empty(), "pages that never finished: {stuck:?}");
}

/// Apps made while other apps render pages (as the tests of this module do all the time): each
/// page must finish. Generating Leptos's route list during other renders left some of them
/// waiting forever (one in ~20 runs of this module hung); a [`crate::console::Site`] is made
/// once and shared, so making an app generates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn making_consoles_while_others_render_leaves_no_page_waiting() {
    let workers: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..8 {
                    let console = console();
                    let cookie = set_up(&console).await;
                    for page in ["/snapshots?dataset=tank%2Fhome", "/", "/health"] {
                        let loaded = tokio::time::timeout(
                            std::time::Duration::from_secs(30),
                            send(&console.router, get(page, Some(&cookie))),
                        )
                        .await;
                        assert!(loaded.is_ok(), "{page} never finished");
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
}

/// A `tank/home` of four files over two snapshots (`s1`, `s2`; `docs/notes.txt` changed in
/// `s2` and deleted since), indexed, under `directory`.
fn indexed(directory: &std::path::Path) -> (Arc<FakeZfs>, AppState) {
    let fake = FakeZfs::open(directory.join("pools")).unwrap();
    fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .unwrap();
    let dataset = DatasetName::new("tank/home").unwrap();
    fake.create_filesystem(&dataset, &[]).unwrap();
    let mountpoint = fake.mountpoint(&dataset).unwrap();
    for (path, contents) in [
        ("docs/notes.txt", "milk\n"),
        ("docs/été.txt", "summer\n"),
        ("photos/beach.jpg", "jpeg"),
        ("photos/snow.jpg", "jpeg jpeg"),
    ] {
        let path = mountpoint.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    // A name an old client wrote in Latin-1: not UTF-8. Deleted after s1.
    std::fs::write(mountpoint.join(latin1_path()), "grandma's recipe\n").unwrap();
    fake.create_snapshots(&[dataset.snapshot("s1").unwrap()], false, &[])
        .unwrap();
    std::fs::remove_file(mountpoint.join(latin1_path())).unwrap();
    std::fs::write(mountpoint.join("docs/notes.txt"), "milk\nbread\n").unwrap();
    fake.create_snapshots(&[dataset.snapshot("s2").unwrap()], false, &[])
        .unwrap();
    std::fs::remove_file(mountpoint.join("docs/notes.txt")).unwrap();
    let store = wizfs_services::open_index(&directory.join("state")).unwrap();
    let fake = Arc::new(fake);
    let state = AppState::new(fake.clone()).with_index(
        store,
        wizfs_services::config::IndexConfig::default(),
        wizfs_indexer::MethodPolicy::Diff,
    );
    state.reconcile_index().unwrap();
    (fake, state)
}

/// A console over [`indexed`]'s dataset and index.
fn indexed_console() -> Console {
    let directory = tempfile::tempdir().unwrap();
    let (fake, state) = indexed(directory.path());
    let auth = Auth::open(&directory.path().join("auth"), false).unwrap();
    let site = directory.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let (router, listed) = app_with_routes(state, auth, &SITE.with_site_dir(&site));
    Console {
        _directory: directory,
        fake,
        router,
        listed,
    }
}

/// `docs/café.txt` in Latin-1 (`é` is the single byte 0xE9).
fn latin1_path() -> &'static std::path::Path {
    use std::os::unix::ffi::OsStrExt;
    std::path::Path::new(std::ffi::OsStr::from_bytes(b"docs/caf\xe9.txt"))
}

/// A name that is not UTF-8 goes through the console byte for byte: the search links to its
/// versions by `path_hex`, the versions page finds them, browse links to it the same way,
/// and a copy and a restore in place bring back exactly that name's bytes.
#[tokio::test]
async fn a_name_that_is_not_utf8_is_found_shown_and_restored_byte_for_byte() {
    let console = indexed_console();
    let mountpoint = console
        .fake
        .mountpoint(&DatasetName::new("tank/home").unwrap())
        .unwrap();
    let cookie = set_up(&console).await;
    let digits = "646f63732f636166e92e747874";
    let versions = format!("/versions?dataset=tank%2Fhome&amp;path_hex={digits}");

    let (status, _, page) = send(
        &console.router,
        get("/search?q=caf&deleted=true", Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!(
            r#"<a class="hit-name" href="{versions}">caf�.txt</a><div class="muted small">tank/home / docs/caf�.txt</div>"#
        )),
        "{page}"
    );

    let (status, _, page) = send(
        &console.router,
        get(&versions.replace("&amp;", "&"), Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("1 unique version<!>, newest first"), "{page}");
    assert!(
        page.contains("docs/caf\u{fffd}.txt") && page.contains("deleted"),
        "{page}"
    );
    // The crumbs name the file once, as shown, also when its path travels in hexadecimal.
    assert!(
        page.contains("title=\"docs/caf\u{fffd}.txt\">caf\u{fffd}.txt<"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "/api/v1/download?dataset=tank%2Fhome&amp;path_hex={digits}&amp;snapshot=tank%2Fhome%40s1"
        )),
        "{page}"
    );

    let (_, _, page) = send(
        &console.router,
        get(
            "/browse?dataset=tank%2Fhome&path=docs&snapshot=s1",
            Some(&cookie),
        ),
    )
    .await;
    assert!(
        page.contains(&format!(r#"<a href="{versions}">caf�.txt"#)),
        "{page}"
    );

    // The restore panel's form, as the browser sends it: the path in the console's hex form.
    let in_place = format!(
        "form[dataset]=tank%2Fhome&form[snapshot]=tank%2Fhome%40s1&form[path]=%00{digits}&form[target]=original&form[strategy]=merge"
    );
    // A copy next to it (the panel sends no strategy for copies).
    let copy = in_place
        .replace("target]=original", "target]=copy")
        .replace("strategy]=merge", "strategy]=");
    let (status, _, body) = send(&console.router, form("/fn/restore", &copy, Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let copies: Vec<_> = std::fs::read_dir(mountpoint.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.as_encoded_bytes().starts_with(b"caf\xe9"))
        })
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(std::fs::read(&copies[0]).unwrap(), b"grandma's recipe\n");
    // In place, behind a guard snapshot.
    let (status, _, body) = send(
        &console.router,
        form("/fn/restore-plan", &in_place, Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let plan: wizfs_api::PlanView = serde_json::from_str(&body).unwrap();
    assert_eq!(plan.files, 1, "{plan:?}");
    assert!(
        !mountpoint.join(latin1_path()).exists(),
        "a plan writes nothing"
    );
    let (status, _, body) = send(
        &console.router,
        form("/fn/restore", &in_place, Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        std::fs::read(mountpoint.join(latin1_path())).unwrap(),
        b"grandma's recipe\n"
    );
}

/// The search page's one typed call is the REST search minus the URL and the JSON: for the
/// same request it gives what decoding `GET /api/v1/search` gives, and refuses what it
/// refuses, alike — the services' refusals with their kind and message, and words the API
/// does not know as the client's fault.
#[tokio::test]
async fn the_typed_search_answers_as_the_rest_search_does() {
    use wizfs_api::{Api, SearchRequest, SearchResultsView};
    let directory = tempfile::tempdir().unwrap();
    let (_, state) = indexed(directory.path());
    let rest = crate::server::router(state.clone());
    let console = super::InProcess::new(state);
    let request = |query: &str| {
        serde_html_form::from_str::<SearchRequest>(query.trim_start_matches('?')).unwrap()
    };
    let rest_search = |query: &str| send(&rest, get(&format!("/api/v1/search{query}"), None));
    for query in [
        "?q=notes",
        "?q=notes&deleted=true",
        "?q=*.jpg&match=glob",
        "?q=ntoes.txt&match=fuzzy",
        "?q=%C3%A9t%C3%A9",
        "?q=o&type=file&sort=size&descending=true",
        "?q=jpg&ext=jpg&offset=1&limit=1",
        "?q=o&dataset=tank%2Fhome&as_of=s1",
        "?q=o&type=file&type=directory&ext=jpg&ext=txt",
        "?q=o&dataset=tank%2Fhome&dataset=tank&as_of=tank%2Fhome%40s1",
    ] {
        let typed = console.search(request(query)).await.unwrap();
        assert!(
            typed.total > 0 && !typed.hits.is_empty(),
            "{query}: {typed:?}"
        );
        let (status, _, body) = rest_search(query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        let decoded: SearchResultsView = serde_json::from_str(&body).unwrap();
        assert_eq!(typed, decoded, "{query}");
    }
    for query in ["?q=x&as_of=s1", "?q=x&dataset=tank%2Fhome&as_of=never"] {
        let typed = console.search(request(query)).await.unwrap_err();
        assert!(
            typed.kind.is_client_error() && !typed.message.is_empty(),
            "{typed:?}"
        );
        let (status, _, body) = rest_search(query).await;
        assert_eq!(typed.kind.http_status(), status.as_u16(), "{query}");
        let refused: wizfs_api::ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(typed.message, refused.error, "{query}");
    }
    let console = indexed_console();
    let cookie = set_up(&console).await;
    for (fields, query) in [
        ("form[q]=x&form[sort]=sideways", "?q=x&sort=sideways"),
        ("form[q]=x&form[match]=regex", "?q=x&match=regex"),
        ("form[q]=x&form[type]=pipe", "?q=x&type=pipe"),
    ] {
        let (status, _, body) =
            send(&console.router, form("/fn/search", fields, Some(&cookie))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fields}: {body}");
        assert!(body.contains("unknown variant"), "{fields}: {body}");
        let (status, _, body) = send(
            &console.router,
            get(&format!("/api/v1/search{query}"), Some(&cookie)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
}

/// The search page renders its hits as rows on the server and leaves them out of the data it
/// carries for hydration (the browser keeps the rows it was sent); the facets go in.
#[tokio::test]
async fn the_search_page_sends_its_rows_once() {
    let console = indexed_console();
    let cookie = set_up(&console).await;
    let (status, _, page) = send(
        &console.router,
        get("/search?q=notes&deleted=true", Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(concat!(
            r#"<a class="hit-name" href="/versions?dataset=tank%2Fhome&amp;path=docs%2Fnotes.txt">notes.txt</a>"#,
            r#"<div class="muted small">tank/home / docs/notes.txt</div>"#
        )),
        "{page}"
    );
    assert_eq!(page.matches(r#"<tr class="hit">"#).count(), 2, "{page}");
    let (rendered, hydration) = page
        .split_once("__RESOLVED_RESOURCES")
        .expect("hydration data");
    assert!(rendered.contains("docs/notes.txt"));
    assert!(!hydration.contains("notes.txt"), "{hydration}");
    assert!(hydration.contains(r#"\"total\":2"#), "{hydration}");
    assert!(hydration.contains(r#"\"value\":\"txt\""#), "{hydration}");
}

mod account;
mod hostile;
