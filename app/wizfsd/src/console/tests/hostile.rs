//! The console attacked as issue 17 found it, through the whole application (guard, API,
//! sign-in and pages over `FakeZfs`): each test reproduces one finding and fails on the code
//! before the fix — a hostile SVG preview, parallel sign-ins, open redirects, `/pkg/` paths
//! that spell other pages, a foreign `Host`, missing security headers, text injected into the
//! sign-in page, `/healthz` telling strangers about the pools, server-function errors with
//! parser internals.

use super::*;

const HOSTILE_SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('/api/v1/session')"><script>fetch('/api/v1/snapshots', {method: 'POST'})</script></svg>"#;

fn with_host(mut request: Request<Body>, host: &str) -> Request<Body> {
    request
        .headers_mut()
        .insert(header::HOST, host.parse().unwrap());
    request
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_hostile_svg_is_previewed_in_a_sandbox_where_no_script_runs() {
    let console = console();
    let cookie = set_up(&console).await;
    let dataset = DatasetName::new("tank/home").unwrap();
    let mountpoint = console.fake.mountpoint(&dataset).unwrap();
    std::fs::write(mountpoint.join("docs/invoice.svg"), HOSTILE_SVG).unwrap();
    std::fs::write(mountpoint.join("docs/scan.pdf"), b"%PDF-1.4\n").unwrap();
    console
        .fake
        .create_snapshots(&[dataset.snapshot("tuesday").unwrap()], false, &[])
        .unwrap();
    for query in [
        "dataset=tank%2Fhome&path=docs%2Finvoice.svg",
        "dataset=tank%2Fhome&path=docs%2Finvoice.svg&snapshot=tuesday",
    ] {
        let (status, headers, body) = send(
            &console.router,
            get(&format!("/api/v1/file?{query}"), Some(&cookie)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(body, HOSTILE_SVG);
        let policy = header_text(&headers, header::CONTENT_SECURITY_POLICY);
        assert!(policy.starts_with("sandbox;"), "{query}: {policy}");
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert!(!policy.contains("script-src"), "{policy}");
        assert_eq!(
            header_text(&headers, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
        assert_eq!(header_text(&headers, header::X_FRAME_OPTIONS), "SAMEORIGIN");
    }
    // PDFs go to the browser's viewer, which a sandbox would refuse; still nothing loads.
    let (_, headers, _) = send(
        &console.router,
        get(
            "/api/v1/file?dataset=tank%2Fhome&path=docs%2Fscan.pdf",
            Some(&cookie),
        ),
    )
    .await;
    let policy = header_text(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    // The console's viewer shows the SVG as an image, which never runs script.
    let (status, _, page) = send(
        &console.router,
        get(
            "/view?dataset=tank%2Fhome&path=docs%2Finvoice.svg&snapshot=tuesday",
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(r#"<img src="/api/v1/file?dataset=tank%2Fhome&amp;path=docs%2Finvoice.svg&amp;snapshot=tuesday""#),
        "{page}"
    );
    assert!(
        !page.contains("<object") && !page.contains("<embed"),
        "{page}"
    );
}

#[tokio::test]
async fn parallel_sign_ins_are_counted_before_their_passwords_are_checked() {
    let console = console();
    set_up(&console).await;
    let attempts = (0..40).map(|_| {
        let router = console.router.clone();
        tokio::spawn(async move {
            send(&router, form("/login", "password=guess+number+one", None)).await
        })
    });
    let (mut verified, mut refused) = (0, 0);
    for attempt in futures_util::future::join_all(attempts).await {
        let (status, headers, body) = attempt.unwrap();
        match status {
            StatusCode::SEE_OTHER => {
                assert!(
                    location(&headers).starts_with("/login?error=wrong-password"),
                    "{}",
                    location(&headers)
                );
                verified += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(headers.contains_key(header::RETRY_AFTER), "{body}");
                refused += 1;
            }
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    let limit = wizfs_auth::LimitPolicy::default().max_failures_per_client;
    assert!(
        verified <= limit,
        "{verified} passwords checked, at most {limit} allowed"
    );
    assert_eq!(verified + refused, 40);
}

#[tokio::test]
async fn pkg_paths_that_spell_other_pages_never_render_the_app() {
    let console = console();
    set_up(&console).await;
    for path in [
        "/pkg/%2e%2e/search?q=report",
        "/pkg/%2E%2E/search?q=report",
        "/pkg/..%2fsearch",
        "/pkg/../search",
        "/pkg//search",
        "/pkg/no-such-file.js",
        "/pkg/",
    ] {
        let (status, headers, body) = send(&console.router, get(path, None)).await;
        assert!(
            status == StatusCode::NOT_FOUND
                || (status == StatusCode::SEE_OTHER && location(&headers).starts_with("/login")),
            "{path}: {status} {body}"
        );
        assert!(!body.contains("<nav"), "{path} rendered the app: {body}");
    }
    let (status, _, body) = send(&console.router, get("/pkg/wizfs.css", None)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "body {}"));
}

#[tokio::test]
async fn a_foreign_host_is_refused_even_with_a_session_and_a_matching_origin() {
    let console = console();
    let cookie = set_up(&console).await;
    let snapshot = |host: &str| {
        Request::post("/api/v1/snapshots")
            .header(header::HOST, host)
            .header(header::ORIGIN, format!("http://{host}"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"dataset":"tank/home","name":"rebound"}"#))
            .unwrap()
    };
    let (status, _, body) = send(&console.router, snapshot("evil.example:8080")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("does not answer to the host"), "{body}");
    for page in ["/login", "/setup", "/healthz"] {
        let (status, _, _) =
            send(&console.router, with_host(get(page, None), "evil.example")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    }
    assert!(
        !console
            .fake
            .list_snapshots(
                &DatasetName::new("tank/home").unwrap(),
                wizfs_zfs::Scope::Dataset
            )
            .unwrap()
            .iter()
            .any(|snapshot| snapshot.name.to_string().ends_with("@rebound"))
    );
    let (status, _, body) = send(&console.router, snapshot("localhost")).await;
    assert!(
        status.is_success(),
        "the console's own name works: {status} {body}"
    );
}

#[tokio::test]
async fn next_values_that_browsers_read_as_another_host_are_refused() {
    let console = console();
    set_up(&console).await;
    for next in [
        "%2F%09%2Fexample.com%2Fphish",
        "%2F%0A%2Fx",
        "%2F%0D%2Fx",
        "%2F%2Fexample.com",
        "https%3A%2F%2Fexample.com",
        "%2F%5Cexample.com",
    ] {
        let (status, headers, body) = send(
            &console.router,
            form(
                "/login",
                &format!("password={}&next={next}", PASSWORD.replace(' ', "+")),
                None,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next}: {body}");
        assert_eq!(location(&headers), "/", "{next}");
    }
    // (A path of the console is followed: `first_boot_setup_sign_in_and_out`.)
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let console = console();
    let cookie = set_up(&console).await;
    let mut paths: Vec<String> = console
        .listed
        .iter()
        .filter(|(method, path)| {
            *method == "GET" && !path.contains('{') && path != "/api/v1/events"
        })
        .map(|(_, path)| path.clone())
        .collect();
    paths.extend([
        "/no-such-page".into(),
        "/view?dataset=tank%2Fhome&path=docs%2Fnotes.txt".into(),
    ]);
    assert!(paths.len() > 15, "{paths:?}");
    for path in &paths {
        let (status, headers, body) = send(&console.router, get(path, Some(&cookie))).await;
        let policy = header_text(&headers, header::CONTENT_SECURITY_POLICY);
        assert!(!policy.is_empty(), "{path}: no CSP");
        assert!(
            policy.contains("frame-ancestors 'none'") || policy.contains("frame-ancestors 'self'"),
            "{path}: {policy}"
        );
        assert_eq!(
            header_text(&headers, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header_text(&headers, header::REFERRER_POLICY),
            "same-origin",
            "{path}"
        );
        assert_eq!(
            header_text(&headers, header::CACHE_CONTROL),
            "no-store",
            "{path}"
        );
        assert!(headers.contains_key(header::X_FRAME_OPTIONS), "{path}");
        let html = header_text(&headers, header::CONTENT_TYPE).starts_with("text/html");
        if html && status == StatusCode::OK {
            // A page: its inline scripts carry the nonce its policy names, and nothing else
            // may run.
            let nonce = policy
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"));
            assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{path}");
            let scripts = policy
                .split(';')
                .find(|directive| directive.trim_start().starts_with("script-src"))
                .unwrap_or_default();
            assert!(
                !scripts.contains("'unsafe-inline'") && !scripts.contains("'unsafe-eval'"),
                "{path}: {scripts}"
            );
            assert!(
                policy.contains("frame-ancestors 'none'"),
                "{path}: {policy}"
            );
        }
    }
    // The bundle may be cached; everything behind the session may not.
    let (_, headers, _) = send(&console.router, get("/pkg/wizfs.css", None)).await;
    assert_ne!(header_text(&headers, header::CACHE_CONTROL), "no-store");
    assert_eq!(
        header_text(&headers, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
}

#[tokio::test]
async fn hsts_is_sent_over_https() {
    let directory = tempfile::tempdir().unwrap();
    let fake = FakeZfs::open(directory.path().join("pools")).unwrap();
    let auth = Auth::open(&directory.path().join("state"), true).unwrap();
    let router = crate::server::app(AppState::new(Arc::new(fake)), auth, &SITE);
    let (_, headers, _) = send(&router, get("/login", None)).await;
    assert!(
        header_text(&headers, header::STRICT_TRANSPORT_SECURITY).starts_with("max-age="),
        "{headers:?}"
    );
}

#[tokio::test]
async fn the_sign_in_page_shows_only_its_own_messages() {
    let console = console();
    set_up(&console).await;
    let (_, _, page) = send(
        &console.router,
        get("/login?error=Your+NAS+is+infected%3A+call+us", None),
    )
    .await;
    assert!(!page.contains("infected"), "{page}");
    let (_, _, page) = send(&console.router, get("/login?error=wrong-password", None)).await;
    assert!(page.contains("Wrong user or password."), "{page}");
}

#[tokio::test]
async fn healthz_tells_strangers_only_that_it_is_up() {
    let console = console();
    let cookie = set_up(&console).await;
    let (status, _, body) = send(&console.router, get("/healthz", None)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    let (_, _, body) = send(&console.router, get("/healthz", Some(&cookie))).await;
    assert!(body.contains("\"tank\""), "{body}");
}

#[tokio::test]
async fn a_session_cookie_ends_with_the_browser() {
    let console = console();
    let headers = set_up_answer(&console).await;
    let set = header_text(&headers, header::SET_COOKIE);
    assert!(
        !set.contains("Max-Age") && !set.contains("Expires"),
        "{set}"
    );
}

#[tokio::test]
async fn server_function_errors_are_4xx_for_people() {
    let console = console();
    let cookie = set_up(&console).await;
    let request = form("/fn/versions", "garbage=%ZZ&&", Some(&cookie));
    let (status, _, body) = send(&console.router, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        !body.contains("Args") && !body.contains("missing field"),
        "{body}"
    );
    assert!(body.contains("Reload the page"), "{body}");
    // A refusal of the API keeps its status (here: no such dataset).
    let request = form(
        "/fn/versions",
        "dataset=tank%2Fnothing&path=a",
        Some(&cookie),
    );
    let (status, _, body) = send(&console.router, request).await;
    assert!(status.is_client_error(), "{status}: {body}");
}
