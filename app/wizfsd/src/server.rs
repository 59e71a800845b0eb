//! The HTTP server of `wizfsd`: the whole application ([`app`]: the REST API of
//! [`crate::api`], the console, sign-in, all behind the session and CSRF guard of
//! [`crate::auth`]), and serving — HTTPS with the self-signed certificate, or plain HTTP on
//! loopback only — with the control socket for the CLI, the background tasks, the mDNS
//! announcement and graceful shutdown on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

pub use crate::api::router;
pub use crate::http::{ApiError, AppState};

/// The whole application: API, console and sign-in, every route behind [`crate::auth::guard`].
pub fn app(
    state: AppState,
    auth: Arc<crate::auth::Auth>,
    console: &crate::console::Site,
) -> Router {
    app_with_routes(state, auth, console).0
}

/// [`app`] and every (method, path) it routes: the API's, sign-in's and the console's pages
/// and server functions (static files and unknown paths go to the console's fallback).
pub fn app_with_routes(
    state: AppState,
    auth: Arc<crate::auth::Auth>,
    console: &crate::console::Site,
) -> (Router, Vec<(&'static str, String)>) {
    let api = crate::api::routes().with_state::<()>(state.clone());
    let sign_in = crate::auth::router(auth.clone());
    let mut listed: Vec<(&'static str, String)> = api
        .listed
        .iter()
        .chain(&sign_in.listed)
        .map(|(method, path)| (*method, (*path).to_owned()))
        .collect();
    listed.extend(
        console
            .route_paths()
            .into_iter()
            .map(|(path, method)| (method, path)),
    );
    let secure = auth.secure();
    let router = Router::new()
        .merge(api.router)
        .merge(sign_in.router)
        .merge(crate::console::router(console, state, auth.clone()))
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            crate::security::HeaderPolicy { secure },
            crate::security::headers,
        ));
    (router, listed)
}

/// How the daemon serves: what [`serve`] needs besides the state.
#[derive(Debug)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// HTTPS with this certificate; `None`: plain HTTP (loopback only).
    pub certificate: Option<wizfs_tls::Certificate>,
    pub auth: Arc<crate::auth::Auth>,
    /// The console (made once, before serving).
    pub console: crate::console::Site,
    /// The mDNS announcement, when enabled.
    pub advertise: Option<wizfs_mdns::Advertisement>,
    /// Caps and time limits on connections.
    pub limits: wizfs_tls::ServeLimits,
    /// The control socket for the CLI (`crate::control`), when wanted.
    pub control_socket: Option<std::path::PathBuf>,
    /// Where the background tasks keep their run log (none: a temporary one).
    pub task_log: Option<std::path::PathBuf>,
}

/// Starts the background tasks with their run log at `log` — or, when it cannot be opened
/// (another daemon holds it), in a temporary directory kept as long as the driver, so that
/// snapshots and health rounds still run.
fn start_tasks(
    state: &AppState,
    log: Option<&std::path::Path>,
    stop: tokio_util::sync::CancellationToken,
) -> Option<(wizfs_tasks::Driver, Option<tempfile::TempDir>)> {
    if let Some(log) = log {
        match wizfs_services::tasks::start(state, log, stop.clone()) {
            Ok(driver) => return Some((driver, None)),
            Err(error) => {
                tracing::error!(%error, "the task run log is unavailable; runs are kept until the daemon stops");
            }
        }
    }
    let temporary = match tempfile::tempdir() {
        Ok(directory) => directory,
        Err(error) => {
            tracing::error!(%error, "no background tasks: no run log");
            return None;
        }
    };
    match wizfs_services::tasks::start(state, temporary.path(), stop) {
        Ok(driver) => Some((driver, Some(temporary))),
        Err(error) => {
            tracing::error!(%error, "no background tasks");
            None
        }
    }
}

/// Serves until SIGINT or SIGTERM.
pub async fn serve(options: ServeOptions, state: AppState) -> anyhow::Result<()> {
    let listen = options.listen;
    if options.certificate.is_none() && !wizfs_tls::is_loopback_only(&listen) {
        anyhow::bail!(
            "refusing plain HTTP on {listen}: it is not a loopback address (use [console] tls = \"auto\" or \"https\")"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {listen}: {error}"))?;
    let address = listener.local_addr()?;
    let scheme = if options.certificate.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%address, scheme, "wizfsd listening");
    let tasks_stop = tokio_util::sync::CancellationToken::new();
    let tasks = start_tasks(&state, options.task_log.as_deref(), tasks_stop.clone());
    // Announced only once listening; withdrawn when the advertiser is dropped at the end.
    let _advertiser = options.advertise.and_then(|mut advertisement| {
        advertisement.port = address.port();
        match wizfs_mdns::Advertiser::start(&advertisement, wizfs_mdns::Interfaces::All) {
            Ok(advertiser) => {
                tracing::info!(instance = %advertisement.instance, "announced on the LAN (mDNS)");
                Some(advertiser)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot announce the console on the LAN (mDNS)");
                None
            }
        }
    });
    // The CLI's way in; the daemon still serves the console without it.
    let control_stop = Arc::new(tokio::sync::Notify::new());
    let mut bound_socket = None;
    if let Some(path) = &options.control_socket {
        match crate::control::bind(path).await {
            Ok(listener) => {
                bound_socket = Some(path.clone());
                tracing::info!(path = %path.display(), "control socket for the CLI");
                let stop = control_stop.clone();
                let control_state = state.clone();
                tokio::spawn(async move {
                    let stopped = async move { stop.notified().await };
                    if let Err(error) =
                        crate::control::serve(listener, control_state, stopped).await
                    {
                        tracing::warn!(%error, "the control socket stopped");
                    }
                });
            }
            Err(error) => {
                tracing::error!(%error, "no control socket: the CLI works without the daemon")
            }
        }
    }
    let app = app(state, options.auth, &options.console);
    // Open event streams (`/api/v1/events`) never end by themselves: after SIGTERM the
    // server stops accepting, gives requests in flight `SHUTDOWN_GRACE`, then stops anyway.
    let stop = Arc::new(tokio::sync::Notify::new());
    let graceful = {
        let stop = stop.clone();
        async move { stop.notified().await }
    };
    let tls = match &options.certificate {
        Some(certificate) => {
            tracing::info!(fingerprint = %certificate.sha256_fingerprint(), "serving HTTPS with the console's certificate");
            Some(wizfs_tls::server_config(certificate)?)
        }
        None => None,
    };
    let limits = options.limits;
    let serving: std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> =
        Box::pin(async move {
            wizfs_tls::serve(listener, tls, app, limits, graceful).await?;
            Ok(())
        });
    let served = run_until_stopped(serving, shutdown_signal(), stop, SHUTDOWN_GRACE).await;
    control_stop.notify_one();
    tasks_stop.cancel();
    if let Some((driver, _temporary)) = tasks {
        driver.stopped().await;
    }
    if let Some(path) = bound_socket {
        let _ = std::fs::remove_file(path);
    }
    served?;
    tracing::info!("wizfsd stopped");
    Ok(())
}

/// How long requests in flight get after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `serving` until it ends, or until `signal`: then tells it to stop (`stop`) and waits
/// at most `grace` for it to finish.
async fn run_until_stopped(
    mut serving: std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>,
    signal: impl Future<Output = ()>,
    stop: Arc<tokio::sync::Notify>,
    grace: std::time::Duration,
) -> anyhow::Result<()> {
    tokio::select! {
        result = &mut serving => result,
        () = signal => {
            stop.notify_one();
            match tokio::time::timeout(grace, &mut serving).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::info!(seconds = grace.as_secs(), "connections still open (event streams) after the grace period; stopping anyway");
                    Ok(())
                }
            }
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::http::StatusCode;
    use tower::ServiceExt;
    use wizfs_core::PoolName;
    use wizfs_zfs::FakeZfs;

    async fn get_json(router: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        get_json_as(router, uri, None).await
    }

    /// `GET uri`, as the guard hands it on for a signed-in user when `signed_in` is given.
    async fn get_json_as(
        router: Router,
        uri: &str,
        signed_in: Option<crate::auth::SignedIn>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = Request::get(uri).body(Body::empty()).unwrap();
        if let Some(signed_in) = signed_in {
            request.extensions_mut().insert(signed_in);
        }
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_stop_ends_serving_even_with_an_event_stream_open() {
        let directory = tempfile::tempdir().unwrap();
        let state = AppState::new(Arc::new(FakeZfs::open(directory.path()).unwrap()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(tokio::sync::Notify::new());
        let graceful = {
            let stop = stop.clone();
            async move { stop.notified().await }
        };
        let serving: std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> =
            Box::pin(async move {
                axum::serve(listener, router(state))
                    .with_graceful_shutdown(graceful)
                    .await?;
                Ok(())
            });
        let (signal_sender, signal) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(run_until_stopped(
            serving,
            async move {
                let _ = signal.await;
            },
            stop,
            std::time::Duration::from_millis(300),
        ));
        // An event stream that never ends by itself.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        client
            .write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 64];
        let read = client.read(&mut first).await.unwrap();
        assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"));
        signal_sender.send(()).unwrap();
        let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "serving ended within the grace period: {stopped:?}"
        );
    }

    #[tokio::test]
    async fn healthz_reports_version_and_pools_to_a_signed_in_user_and_only_ok_to_others() {
        let directory = tempfile::tempdir().unwrap();
        let fake = FakeZfs::open(directory.path()).unwrap();
        fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
            .unwrap();
        let app = router(AppState::new(Arc::new(fake)));
        let (status, body) = get_json(app.clone(), "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, serde_json::json!({ "status": "ok" }));
        let admin = crate::auth::SignedIn {
            user: "admin".into(),
            csrf_token: "token".into(),
        };
        let (status, body) = get_json_as(app, "/healthz", Some(admin)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"]["wizfs"], crate::VERSION);
        assert_eq!(body["pools"][0]["name"], "tank");
        assert_eq!(body["pools"][0]["health"], "ONLINE");
    }

    #[tokio::test]
    async fn healthz_is_503_without_zfs() {
        let zfs = wizfs_zfs::CliZfs::new(Arc::new(wizfs_zfs::ScriptedRunner::new()));
        let (status, body) = get_json(router(AppState::new(Arc::new(zfs))), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body["error"], "ZFS is not usable",
            "no details without a session"
        );
    }
}
