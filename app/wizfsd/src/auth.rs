//! The console's front door, in front of every route: sessions from the cookie, the CSRF
//! check on every state-changing request, and the three public form endpoints — first-boot
//! setup of the admin password, sign-in (rate-limited per client) and sign-out. The rules
//! themselves (argon2id, session lifetimes, origin checks, limits) are `wizfs-auth`'s; this
//! module only applies them to HTTP.
//!
//! Public without a session: [`PUBLIC_PATHS`] and the static assets under `/pkg/`. Anything
//! else gets a redirect to `/login` (pages) or `401` (API, server functions, events).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Json;
use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use wizfs_auth::{
    CredentialState, CredentialStore, Decision, LoginLimiter, RequestFacts, SessionInfo, Sessions,
};

/// Routes that answer without a session (besides `/pkg/…`). `/logout` only ends the
/// session it is given, so an expired one still leads back to the sign-in page.
pub const PUBLIC_PATHS: [&str; 5] = ["/login", "/setup", "/logout", "/healthz", "/favicon.ico"];

/// Whether `path` is served without a session.
pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path) || path.starts_with("/pkg/")
}

/// Sessions, the admin credential and the login limiter, shared by all requests.
#[derive(Debug)]
pub struct Auth {
    credentials: CredentialStore,
    sessions: Sessions,
    limiter: Mutex<LoginLimiter>,
    /// Served over TLS: `Secure` `__Host-` cookies, `https://` origins.
    secure: bool,
}

/// The signed-in user of a request (a request extension set by [`guard`]).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: String,
    pub csrf_token: String,
}

fn now() -> u64 {
    wizfs_auth::unix_time(SystemTime::now())
}

impl Auth {
    /// Opens the credential file `data_dir/admin.json` (missing: first boot).
    pub fn open(data_dir: &Path, secure: bool) -> anyhow::Result<Arc<Self>> {
        std::fs::create_dir_all(data_dir)
            .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", data_dir.display()))?;
        let credentials = CredentialStore::open(&data_dir.join("admin.json"))?;
        Ok(Arc::new(Self {
            credentials,
            sessions: Sessions::new(Default::default()),
            limiter: Mutex::new(LoginLimiter::default()),
            secure,
        }))
    }

    pub fn secure(&self) -> bool {
        self.secure
    }

    fn first_boot(&self) -> bool {
        matches!(self.credentials.state(), Ok(CredentialState::Unset))
    }

    fn session(&self, headers: &HeaderMap) -> Option<(String, SessionInfo)> {
        let token = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| wizfs_auth::session_token_from_cookie_header(value, self.secure))?
            .to_owned();
        let info = self.sessions.validate(&token, now())?;
        Some((token, info))
    }

    /// A new session for `user`: the `Set-Cookie` value.
    fn open_session(&self, user: &str) -> Result<HeaderValue, String> {
        let internal = |error: &dyn std::fmt::Display| format!("cannot open a session: {error}");
        let session = self
            .sessions
            .create(user, now())
            .map_err(|error| internal(&error))?;
        let cookie = wizfs_auth::session_cookie(
            &session.token,
            self.secure,
            self.sessions.policy().cookie_max_age_secs(),
        )
        .map_err(|error| internal(&error))?;
        HeaderValue::from_str(&cookie).map_err(|error| internal(&error))
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A page (HTML navigation) rather than an API, server function or event stream.
fn is_page(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/fn/")
}

fn unauthorized(message: &str) -> Response {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
    }
    (StatusCode::UNAUTHORIZED, Json(Body { error: message })).into_response()
}

/// The middleware in front of every route.
pub async fn guard(State(auth): State<Arc<Auth>>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let session = auth.session(headers);
    let host = header_text(headers, "host")
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(ToString::to_string));
    let facts = RequestFacts {
        method: request.method().as_str(),
        host: host.as_deref(),
        origin: header_text(headers, "origin"),
        referer: header_text(headers, "referer"),
        sec_fetch_site: header_text(headers, "sec-fetch-site"),
        csrf_header: header_text(headers, "x-csrf-token"),
        session_csrf: session.as_ref().map(|(_, info)| info.csrf_token.as_str()),
        secure: auth.secure,
    };
    if let Err(rejection) = wizfs_auth::csrf::check(&facts) {
        tracing::warn!(path = %request.uri().path(), %rejection, "refused a possible cross-site request");
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "error": format!("refused: {rejection}") })),
        )
            .into_response();
    }
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    match session {
        Some((_, info)) => {
            request.extensions_mut().insert(SignedIn {
                user: info.user,
                csrf_token: info.csrf_token,
            });
            next.run(request).await
        }
        None if is_page(request.method(), &path) => {
            if auth.first_boot() {
                Redirect::to("/setup").into_response()
            } else {
                let wanted = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |value| value.as_str());
                Redirect::to(&format!(
                    "/login{}",
                    wizfs_web::format::query(&[("next", wanted)])
                ))
                .into_response()
            }
        }
        None if auth.first_boot() => {
            unauthorized("no admin password is set yet: open the console to set it")
        }
        None => unauthorized("sign in first (POST /login)"),
    }
}

/// Where to go after signing in: only paths of this console (no `//host`, no scheme).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next
        }
        _ => "/",
    }
}

fn back_with_error(page: &str, error: &str, next: Option<&str>) -> Response {
    let next = next.filter(|next| *next != "/").unwrap_or("");
    Redirect::to(&format!(
        "{page}{}",
        wizfs_web::format::query(&[("error", error), ("next", next)])
    ))
    .into_response()
}

fn signed_in(cookie: HeaderValue, next: &str) -> Response {
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub user: Option<String>,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

fn client_ip(request_info: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
    request_info.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

async fn login(
    State(auth): State<Arc<Auth>>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let ip = client_ip(connection.as_ref().map(|extension| &extension.0));
    let limited = {
        let limiter = auth
            .limiter
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        limiter.check(ip, now())
    };
    if let Decision::Limited { retry_after_secs } = limited {
        tracing::warn!(%ip, "login refused: too many failed attempts");
        let minutes = retry_after_secs.div_ceil(60);
        let body = format!(
            "<!DOCTYPE html><title>Too many attempts</title><p>Too many failed sign-ins from \
             your address. Try again in {minutes} minute(s). <a href=\"/login\">Back</a></p>"
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, retry_after_secs.to_string()),
                (header::CONTENT_TYPE, "text/html; charset=utf-8".into()),
            ],
            body,
        )
            .into_response();
    }
    let user = form
        .user
        .clone()
        .filter(|user| !user.trim().is_empty())
        .unwrap_or_else(|| wizfs_auth::ADMIN_USER.to_owned());
    let checking = auth.clone();
    let (checked_user, password) = (user.clone(), form.password.clone());
    let valid =
        tokio::task::spawn_blocking(move || checking.credentials.verify(&checked_user, &password))
            .await
            .unwrap_or(false);
    let mut limiter = auth
        .limiter
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if !valid {
        limiter.record_failure(ip, now());
        drop(limiter);
        tracing::warn!(%ip, "failed sign-in");
        if auth.first_boot() {
            return Redirect::to("/setup").into_response();
        }
        return back_with_error("/login", "Wrong user or password.", form.next.as_deref());
    }
    limiter.record_success(ip, now());
    drop(limiter);
    match auth.open_session(&user) {
        Ok(cookie) => {
            tracing::info!(%ip, %user, "signed in");
            signed_in(cookie, safe_next(form.next.as_deref()))
        }
        Err(message) => (StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    pub password: String,
    pub confirm: String,
}

async fn setup(State(auth): State<Arc<Auth>>, Form(form): Form<SetupForm>) -> Response {
    if !auth.first_boot() {
        return back_with_error("/login", "The admin password is already set.", None);
    }
    if form.password != form.confirm {
        return back_with_error("/setup", "The two passwords differ.", None);
    }
    let storing = auth.clone();
    let stored =
        tokio::task::spawn_blocking(move || storing.credentials.set_initial(&form.password, now()))
            .await;
    match stored {
        Ok(Ok(())) => {
            tracing::info!("admin password set (first-boot setup)");
            match auth.open_session(wizfs_auth::ADMIN_USER) {
                Ok(cookie) => signed_in(cookie, "/"),
                Err(message) => (StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
            }
        }
        Ok(Err(error)) => back_with_error("/setup", &error.to_string(), None),
        Err(error) => back_with_error("/setup", &format!("setup failed: {error}"), None),
    }
}

async fn logout(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    if let Some((token, _)) = auth.session(&headers) {
        auth.sessions.revoke(&token);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&wizfs_auth::clear_cookie(auth.secure)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Serialize)]
struct SessionView {
    user: String,
    /// For API clients without `Origin`/`Referer`: send it back in `X-CSRF-Token`.
    csrf_token: String,
}

/// `GET /api/v1/session`: who is signed in, and the CSRF token for scripts.
async fn session(request: Request) -> Response {
    match request.extensions().get::<SignedIn>() {
        Some(signed_in) => Json(SessionView {
            user: signed_in.user.clone(),
            csrf_token: signed_in.csrf_token.clone(),
        })
        .into_response(),
        None => unauthorized("sign in first"),
    }
}

/// The routes of this module (their GET pages are the console's).
pub fn router(auth: Arc<Auth>) -> crate::routes::Routes {
    crate::routes::Routes::new()
        .post("/login", login)
        .post("/setup", setup)
        .post("/logout", logout)
        .get("/api/v1/session", session)
        .with_state(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        let cases = [
            (None, "/"),
            (Some("/search?q=x"), "/search?q=x"),
            (Some("//evil.example/"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("relative"), "/"),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(next), expected, "{next:?}");
        }
    }

    #[test]
    fn public_paths_are_few() {
        for path in [
            "/login",
            "/setup",
            "/logout",
            "/healthz",
            "/pkg/wizfs.js",
            "/pkg/wizfs_bg.wasm",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/search",
            "/api/v1/search",
            "/fn/search",
            "/pkgx",
            "/login/x",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }
}
