//! The console's front door, in front of every route: sessions from the cookie, the CSRF
//! check on every state-changing request, the three public form endpoints — first-boot
//! setup of the admin password, sign-in (rate-limited per client) and sign-out — and the
//! account's (changing the password, ending sessions; the console's `/account` page lists
//! them through [`Auth`]'s [`wizfs_web::backend::Account`]). The rules
//! themselves (argon2id, session lifetimes, origin checks, limits) are `wizfs-auth`'s; this
//! module only applies them to HTTP.
//!
//! First of all, a request must name one of the console's own hosts (against DNS rebinding:
//! `crate::security::HostCheck`). Public without a session: [`PUBLIC_PATHS`] and the files of
//! the browser bundle under `/pkg/` ([`crate::security::is_bundle_path`], decided on the
//! path as sent, so no encoded `..` passes). Anything else gets a redirect to `/login`
//! (pages) or `401` (API, server functions, events). The public pages send a person where
//! they belong: `/setup` once a password is set to sign-in (or home, signed in), `/login` on
//! first boot to setup and, signed in, on to its `next`. Password checks are counted by the
//! limiter before they run and at most [`MAX_PASSWORD_CHECKS`] run at a time (a few requests
//! wait briefly for a turn).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Json;
use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use wizfs_auth::safe_next;
use wizfs_auth::{
    CredentialState, CredentialStore, Decision, Ended, LoginLimiter, RequestFacts, SessionInfo,
    SessionOrigin, Sessions,
};
use wizfs_web::pages::account::AccountCode;
use wizfs_web::pages::auth::SignInError;

/// Routes that answer without a session (besides the bundle's files,
/// [`crate::security::is_bundle_path`]).
/// `/logout` only ends the session it is given, so an expired one still leads back to the
/// sign-in page.
pub const PUBLIC_PATHS: [&str; 5] = ["/login", "/setup", "/logout", "/healthz", "/favicon.ico"];

/// Whether `path` (as sent, still percent-encoded) is served without a session: one of
/// [`PUBLIC_PATHS`] exactly, or a file of the browser bundle. Decided on the path as the
/// router will see it — no `%` escapes, no `.` or `..` segments, no empty segment — so that
/// no spelling of another page (`/pkg/%2e%2e/search`) passes as public.
pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path) || crate::security::is_bundle_path(path)
}

/// Password verifications (sign-in) and hashings (setup) at a time: each takes ~19 MiB and
/// a core for a few tenths of a second, so a burst of parallel sign-ins must not start them
/// all. One: the appliance has one administrator, and with two the daemon's peak memory
/// under a burst grew by 42 MB instead of staying where it was (tests/sign_in_burst.rs).
pub const MAX_PASSWORD_CHECKS: usize = 1;

/// Sessions, the admin credential and the login limiter, shared by all requests.
#[derive(Debug)]
pub struct Auth {
    credentials: CredentialStore,
    sessions: Sessions,
    limiter: Mutex<LoginLimiter>,
    /// Argon2 runs at a time ([`MAX_PASSWORD_CHECKS`]); a few more wait briefly, the rest are
    /// refused with 429.
    password_checks: Arc<tokio::sync::Semaphore>,
    /// Requests waiting for a turn of `password_checks`.
    waiting_for_a_check: AtomicUsize,
    /// The host names and addresses the console answers to.
    hosts: crate::security::HostCheck,
    /// Served over TLS: `Secure` `__Host-` cookies, `https://` origins.
    secure: bool,
}

/// The signed-in user of a request (a request extension set by [`guard`]).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: String,
    pub csrf_token: String,
}

impl From<SessionInfo> for SignedIn {
    fn from(info: SessionInfo) -> Self {
        Self {
            user: info.user,
            csrf_token: info.csrf_token,
        }
    }
}

fn now() -> u64 {
    wizfs_auth::unix_time(SystemTime::now())
}

impl Auth {
    /// Opens the credential file `data_dir/admin.json` (missing: first boot), answering to
    /// the machine's own names and addresses.
    pub fn open(data_dir: &Path, secure: bool) -> anyhow::Result<Arc<Self>> {
        Self::open_with_hosts(
            data_dir,
            secure,
            crate::security::HostCheck::for_machine(&[], None),
        )
    }

    /// [`Auth::open`] answering to the host names and addresses of `hosts`.
    pub fn open_with_hosts(
        data_dir: &Path,
        secure: bool,
        hosts: crate::security::HostCheck,
    ) -> anyhow::Result<Arc<Self>> {
        std::fs::create_dir_all(data_dir)
            .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", data_dir.display()))?;
        let credentials = CredentialStore::open(&data_dir.join("admin.json"))?;
        Ok(Arc::new(Self {
            credentials,
            sessions: Sessions::new(Default::default()),
            limiter: Mutex::new(LoginLimiter::default()),
            password_checks: Arc::new(tokio::sync::Semaphore::new(MAX_PASSWORD_CHECKS)),
            waiting_for_a_check: AtomicUsize::new(0),
            hosts,
            secure,
        }))
    }

    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Counts a password attempt from `ip` before its check runs (parallel attempts see each
    /// other); whether it may run.
    fn count_attempt(&self, ip: IpAddr) -> Decision {
        self.limiter
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .attempt(ip, now())
    }

    /// The attempt from `ip` was right: its failures are forgiven.
    fn attempt_succeeded(&self, ip: IpAddr) {
        self.limiter
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .attempt_succeeded(ip, now());
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

    /// A new session for `user`, opened from `origin`: the `Set-Cookie` value.
    fn open_session(&self, user: &str, origin: SessionOrigin) -> Result<HeaderValue, String> {
        let internal = |error: &dyn std::fmt::Display| format!("cannot open a session: {error}");
        let session = self
            .sessions
            .create_from(user, now(), origin)
            .map_err(|error| internal(&error))?;
        let cookie = wizfs_auth::session_cookie(&session.token, self.secure)
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
    let host = header_text(headers, "host")
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(ToString::to_string));
    // A request without any host (HTTP/1.0) cannot come from a rebinding browser, which
    // always names the host it thinks it talks to.
    if let Some(host) = &host
        && let Err(refusal) = auth.hosts.check(host)
    {
        tracing::warn!(path = %request.uri().path(), %refusal, "refused a request for another host");
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "error": refusal.to_string() })),
        )
            .into_response();
    }
    let session = auth.session(headers);
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
        if is_page(request.method(), &path)
            && let Some(elsewhere) =
                public_page_elsewhere(&auth, &path, &request, session.is_some())
        {
            return Redirect::to(&elsewhere).into_response();
        }
        // Public pages may still tell a signed-in user more (`/healthz`).
        if let Some((_, info)) = session {
            request.extensions_mut().insert(SignedIn::from(info));
        }
        return next.run(request).await;
    }
    match session {
        Some((_, info)) => {
            request.extensions_mut().insert(SignedIn::from(info));
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

/// Where a public page sends a person instead of showing itself: setup once the password is
/// set (to sign-in, or home when signed in), sign-in on first boot (to setup) or when already
/// signed in (on to its `next`).
fn public_page_elsewhere(
    auth: &Auth,
    path: &str,
    request: &Request,
    signed_in: bool,
) -> Option<String> {
    match path {
        "/setup" if !auth.first_boot() => Some(if signed_in { "/" } else { "/login" }.to_owned()),
        "/login" if auth.first_boot() => Some("/setup".to_owned()),
        "/logout" if !signed_in => Some("/login".to_owned()),
        "/login" if signed_in => {
            let next = request.uri().query().and_then(|query| {
                serde_html_form::from_str::<std::collections::HashMap<String, String>>(query)
                    .ok()?
                    .remove("next")
            });
            Some(safe_next(next.as_deref()).to_owned())
        }
        _ => None,
    }
}

/// Back to the sign-in or setup page with one of the page's fixed error codes (the page
/// never shows text taken from its URL).
fn back_with_error(page: &str, error: SignInError, next: Option<&str>) -> Response {
    let next = safe_next(next);
    let next = if next == "/" { "" } else { next };
    Redirect::to(&format!(
        "{page}{}",
        wizfs_web::format::query(&[("error", error.code()), ("next", next)])
    ))
    .into_response()
}

/// `429 Too Many Requests` as a small page for people, with `Retry-After`.
fn too_many(retry_after_secs: u64, title: &str, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><title>{title}</title><p>{message} \
         <a href=\"/login\">Back</a></p></html>"
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, retry_after_secs.to_string()),
            (header::CONTENT_TYPE, "text/html; charset=utf-8".into()),
        ],
        body,
    )
        .into_response()
}

/// Requests that may wait for a turn to check a password (a person who pressed "Sign in"
/// twice), and how long; beyond, `429` at once.
const MAX_WAITING_FOR_A_CHECK: usize = 4;
const WAIT_FOR_A_CHECK: std::time::Duration = std::time::Duration::from_secs(3);

/// A turn to run Argon2, waited for a little while at most [`MAX_WAITING_FOR_A_CHECK`]
/// requests wait; `None` when it is busy.
async fn password_check_turn(auth: &Auth) -> Option<tokio::sync::OwnedSemaphorePermit> {
    if let Ok(turn) = auth.password_checks.clone().try_acquire_owned() {
        return Some(turn);
    }
    let waiting = auth.waiting_for_a_check.fetch_add(1, Ordering::SeqCst);
    let turn = if waiting < MAX_WAITING_FOR_A_CHECK {
        tokio::time::timeout(
            WAIT_FOR_A_CHECK,
            auth.password_checks.clone().acquire_owned(),
        )
        .await
        .ok()
        .and_then(Result::ok)
    } else {
        None
    };
    auth.waiting_for_a_check.fetch_sub(1, Ordering::SeqCst);
    turn
}

/// Runs `work` on the credential store on the blocking pool, giving `turn` back when it is
/// done; `None` when the work panicked (logged).
async fn in_turn<T: Send + 'static>(
    auth: &Arc<Auth>,
    turn: tokio::sync::OwnedSemaphorePermit,
    work: impl FnOnce(&CredentialStore) -> T + Send + 'static,
) -> Option<T> {
    let auth = auth.clone();
    tokio::task::spawn_blocking(move || {
        let done = work(&auth.credentials);
        drop(turn);
        done
    })
    .await
    .inspect_err(|error| tracing::error!(%error, "a password check failed"))
    .ok()
}

fn busy() -> Response {
    tracing::warn!("sign-in refused: password checks already running");
    too_many(
        2,
        "Busy",
        "The console is busy checking other sign-ins. Try again in a few seconds.",
    )
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

/// Where a request comes from, for the account page's list of sessions.
fn origin_of(ip: IpAddr, headers: &HeaderMap) -> SessionOrigin {
    SessionOrigin::new(
        ip.to_string(),
        header_text(headers, "user-agent").unwrap_or_default(),
    )
}

async fn login(
    State(auth): State<Arc<Auth>>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let ip = client_ip(connection.as_ref().map(|extension| &extension.0));
    let Some(turn) = password_check_turn(&auth).await else {
        return busy();
    };
    // Counted before the password is checked, so that parallel attempts see each other.
    let decision = auth.count_attempt(ip);
    if let Decision::Limited { retry_after_secs } = decision {
        tracing::warn!(%ip, "login refused: too many failed attempts");
        let minutes = retry_after_secs.div_ceil(60);
        return too_many(
            retry_after_secs,
            "Too many attempts",
            &format!(
                "Too many failed sign-ins from your address. Try again in {minutes} minute(s)."
            ),
        );
    }
    let user = form
        .user
        .clone()
        .filter(|user| !user.trim().is_empty())
        .unwrap_or_else(|| wizfs_auth::ADMIN_USER.to_owned());
    let (checked_user, password) = (user.clone(), form.password.clone());
    let valid = in_turn(&auth, turn, move |credentials| {
        credentials.verify(&checked_user, &password)
    })
    .await
    .unwrap_or(false);
    if !valid {
        tracing::warn!(%ip, "failed sign-in");
        if auth.first_boot() {
            return Redirect::to("/setup").into_response();
        }
        return back_with_error("/login", SignInError::WrongPassword, form.next.as_deref());
    }
    auth.attempt_succeeded(ip);
    match auth.open_session(&user, origin_of(ip, &headers)) {
        Ok(cookie) => {
            tracing::info!(%ip, %user, "signed in");
            signed_in(cookie, safe_next(form.next.as_deref()))
        }
        Err(message) => (StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    /// The user name field shown for password managers (always the administrator).
    #[serde(default)]
    pub user: Option<String>,
    pub password: String,
    pub confirm: String,
}

async fn setup(
    State(auth): State<Arc<Auth>>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let ip = client_ip(connection.as_ref().map(|extension| &extension.0));
    if !auth.first_boot() {
        return back_with_error("/login", SignInError::AlreadySet, None);
    }
    if form.password != form.confirm {
        return back_with_error("/setup", SignInError::PasswordsDiffer, None);
    }
    let Some(turn) = password_check_turn(&auth).await else {
        return busy();
    };
    let stored = in_turn(&auth, turn, move |credentials| {
        credentials.set_initial(&form.password, now())
    })
    .await;
    match stored {
        Some(Ok(())) => {
            tracing::info!("admin password set (first-boot setup)");
            match auth.open_session(wizfs_auth::ADMIN_USER, origin_of(ip, &headers)) {
                Ok(cookie) => signed_in(cookie, "/"),
                Err(message) => (StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
            }
        }
        Some(Err(error)) => {
            tracing::warn!(%error, "first-boot setup refused");
            back_with_error("/setup", setup_error(&error), None)
        }
        None => back_with_error("/setup", SignInError::NotSaved, None),
    }
}

/// The setup page's code for a refusal of the credential store.
fn setup_error(error: &wizfs_auth::CredentialError) -> SignInError {
    use wizfs_auth::{CredentialError, PasswordError};
    match error {
        CredentialError::AlreadySet { .. } => SignInError::AlreadySet,
        CredentialError::Policy(PasswordError::TooShort { .. }) => SignInError::TooShort,
        CredentialError::Policy(PasswordError::TooLong { .. }) => SignInError::TooLong,
        CredentialError::Policy(PasswordError::AllWhitespace) => SignInError::WhiteSpace,
        _ => SignInError::NotSaved,
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

/// Back to the account page with one of its fixed codes (`done=` or `error=`).
fn back_to_account(key: &str, code: AccountCode) -> Response {
    Redirect::to(&format!(
        "/account{}",
        wizfs_web::format::query(&[(key, code.code())])
    ))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    /// The user name field shown for password managers (always the administrator).
    #[serde(default)]
    pub user: Option<String>,
    pub current: String,
    pub password: String,
    pub confirm: String,
}

/// `POST /account/password`: a new admin password, given the current one. Counted by the
/// sign-in limiter like a sign-in (a stolen session must not make it a password oracle) and
/// run in turn with the other password checks. Every other session ends; this one stays.
async fn change_password(
    State(auth): State<Arc<Auth>>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    use wizfs_auth::{CredentialError, PasswordError};
    let ip = client_ip(connection.as_ref().map(|extension| &extension.0));
    let Some((token, _)) = auth.session(&headers) else {
        return unauthorized("sign in first");
    };
    if form.password != form.confirm {
        return back_to_account("error", AccountCode::PasswordsDiffer);
    }
    let Some(turn) = password_check_turn(&auth).await else {
        return busy();
    };
    let decision = auth.count_attempt(ip);
    if let Decision::Limited { .. } = decision {
        tracing::warn!(%ip, "password change refused: too many failed attempts");
        return back_to_account("error", AccountCode::TooManyAttempts);
    }
    let changed = in_turn(&auth, turn, move |credentials| {
        credentials.change(&form.current, &form.password, now())
    })
    .await;
    let refusal = match changed {
        Some(Ok(())) => {
            auth.attempt_succeeded(ip);
            let ended = auth.sessions.revoke_all_except(&token);
            tracing::info!(%ip, ended, "admin password changed; the other sessions ended");
            return back_to_account("done", AccountCode::PasswordChanged);
        }
        Some(Err(CredentialError::WrongPassword)) => {
            tracing::warn!(%ip, "password change refused: wrong current password");
            AccountCode::WrongPassword
        }
        Some(Err(CredentialError::Policy(policy))) => match policy {
            PasswordError::TooShort { .. } => AccountCode::TooShort,
            PasswordError::TooLong { .. } => AccountCode::TooLong,
            PasswordError::AllWhitespace => AccountCode::WhiteSpace,
            PasswordError::SameAsOld => AccountCode::SameAsOld,
        },
        Some(Err(error)) => {
            tracing::error!(%error, "password change failed");
            AccountCode::NotSaved
        }
        None => AccountCode::NotSaved,
    };
    back_to_account("error", refusal)
}

#[derive(Debug, Deserialize)]
pub struct EndSessionForm {
    /// The session's id as listed; absent or empty: every session but this one.
    #[serde(default)]
    pub id: Option<String>,
}

/// `POST /account/sessions/end`: ends the listed session `id` (this one: signed out), or
/// without an id every other session.
async fn end_session(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    Form(form): Form<EndSessionForm>,
) -> Response {
    let Some((token, _)) = auth.session(&headers) else {
        return unauthorized("sign in first");
    };
    let id = form.id.filter(|id| !id.is_empty());
    match auth.sessions.end(&token, id.as_deref()) {
        Ended::Others(ended) => {
            tracing::info!(ended, "the other sessions ended from the account page");
            back_to_account("done", AccountCode::OthersEnded)
        }
        Ended::Current => logout(State(auth), headers).await,
        Ended::Listed => {
            tracing::info!(session = ?id, "a session ended from the account page");
            back_to_account("done", AccountCode::SessionEnded)
        }
        Ended::Unknown => back_to_account("error", AccountCode::NoSuchSession),
    }
}

impl wizfs_web::backend::Account for Auth {
    fn sessions(&self, headers: &HeaderMap) -> Vec<wizfs_web::sessions::SessionRow> {
        let current = self
            .session(headers)
            .and_then(|(token, _)| self.sessions.id_of(&token));
        self.sessions
            .list(now())
            .into_iter()
            .map(|session| wizfs_web::sessions::SessionRow {
                current: current.as_deref() == Some(session.id.as_str()),
                id: session.id,
                created: session.created,
                last_used: session.last_used,
                expires: session.expires,
                address: session.origin.address,
                agent: session.origin.agent,
            })
            .collect()
    }
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
        .post("/account/password", change_password)
        .post("/account/sessions/end", end_session)
        .get("/api/v1/session", session)
        .with_state(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "/pkg/",
            "/login/x",
            "/pkg/%2e%2e/search",
            "/pkg/%2E%2E/search",
            "/pkg/../search",
            "/pkg/./x",
            "/pkg//search",
            "/pkg/.hidden",
            "/pkg/a%2fb",
            "/pkg/a\\b",
            "/healthz/",
            "/Login",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }
}
