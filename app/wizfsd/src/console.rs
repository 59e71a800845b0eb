//! The web console on the daemon's router: the Leptos app of `wizfs-web` rendered on the
//! server (its pages, server functions and static bundle), with [`InProcess`] as the
//! backend its server functions call — the REST API answered in-process, so the console
//! uses exactly the validation and use-cases of `/api/v1`. Its listings go through a
//! short-lived [`cache::ReadCache`] so that pages under load do not queue behind `zfs list`.
//! Searches take the typed path of [`Backend::search`]: the handler's own parsing and code,
//! its answer handed over as a value instead of JSON.

mod cache;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::http::{Request, Uri, header};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceExt;
use wizfs_web::backend::{Backend, BackendError, BackendFuture, SearchFuture};
use wizfs_web::model;

use crate::server::AppState;
use wizfs_api::SearchResultsView;

/// The REST router, answering the console's server functions without a network hop; the
/// machine's listings are read through a [`cache::ReadCache`] that the console's own changes
/// clear.
#[derive(Debug, Clone)]
pub struct InProcess {
    api: Router,
    /// What the API's handlers share, for the typed search.
    state: AppState,
    cache: Arc<cache::ReadCache>,
}

impl InProcess {
    /// `api` must be the REST router made with `state`.
    pub fn new(api: Router, state: AppState) -> Self {
        Self {
            api,
            state,
            cache: Arc::default(),
        }
    }
}

/// Largest REST answer a server function reads.
const MAXIMUM_ANSWER_BYTES: usize = 64 << 20;

impl Backend for InProcess {
    fn call(
        &self,
        method: &'static str,
        path_and_query: String,
        body: Option<Vec<u8>>,
    ) -> BackendFuture {
        let (api, cache) = (self.api.clone(), self.cache.clone());
        Box::pin(async move {
            if cache::cacheable(method, &path_and_query) {
                let key = path_and_query.clone();
                return cache
                    .get_or_read(&key, call(api, method, path_and_query, body))
                    .await;
            }
            let answer = call(api, method, path_and_query, body).await;
            if method != "GET" {
                cache.invalidate();
            }
            answer
        })
    }

    fn search(&self, query: String) -> SearchFuture {
        let state = self.state.clone();
        Box::pin(async move {
            let uri: Uri =
                format!("/api/v1/search{query}")
                    .parse()
                    .map_err(|error| BackendError {
                        status: 400,
                        message: format!("bad search {query}: {error}"),
                    })?;
            // The extractor of the REST handler, so both read the same parameters alike.
            let Query(parameters) =
                Query::<wizfs_api::SearchRequest>::try_from_uri(&uri).map_err(|rejection| {
                    BackendError {
                        status: rejection.status().as_u16(),
                        message: rejection.body_text(),
                    }
                })?;
            let view = state.search(parameters).await.map_err(|error| {
                let error = crate::server::ApiError(error);
                BackendError {
                    status: error.status().as_u16(),
                    message: error.to_string(),
                }
            })?;
            Ok(search_model(view))
        })
    }
}

/// The API's search answer as the console's model: what decoding its JSON gives, except that
/// a path that is not UTF-8 is the console's hex form (`wizfs_web::format::console_path`),
/// which its links carry as `path_hex`.
fn search_model(view: SearchResultsView) -> model::SearchResults {
    let facets = |facets: Vec<wizfs_api::FacetView>| {
        facets
            .into_iter()
            .map(|facet| model::Facet {
                value: facet.value,
                count: facet.count,
            })
            .collect()
    };
    model::SearchResults {
        total: view.total,
        hits: view
            .hits
            .into_iter()
            .map(|hit| model::SearchHit {
                dataset: hit.dataset,
                path: wizfs_web::format::path_from_query(Some(hit.path), Some(hit.path_hex)),
                name: hit.name,
                kind: hit.kind.to_owned(),
                size: hit.size,
                modified: hit.modified,
                first_snapshot: hit.first_snapshot,
                last_snapshot: hit.last_snapshot,
                path_live: hit.path_live,
                is_live_version: hit.is_live_version,
            })
            .collect(),
        datasets: facets(view.datasets),
        extensions: facets(view.extensions),
        years: facets(view.years),
    }
}

/// One REST request answered by `api`.
async fn call(
    api: Router,
    method: &'static str,
    path_and_query: String,
    body: Option<Vec<u8>>,
) -> Result<Vec<u8>, BackendError> {
    let failed = |message: String| BackendError {
        status: 500,
        message,
    };
    let mut request = Request::builder().method(method).uri(&path_and_query);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .map_err(|error| failed(format!("bad request {path_and_query}: {error}")))?;
    let response = api
        .oneshot(request)
        .await
        .map_err(|error| failed(error.to_string()))?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), MAXIMUM_ANSWER_BYTES)
        .await
        .map_err(|error| failed(format!("reading the answer: {error}")))?;
    if status.is_success() {
        return Ok(bytes.to_vec());
    }
    // The API's errors are `{"error": "…"}`.
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|value| value.get("error")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    Err(BackendError {
        status: status.as_u16(),
        message,
    })
}

/// What serving the console needs: Leptos's options for the site folder and the page routes.
/// The routes come from rendering the whole app once (`generate_route_list`); make a `Site`
/// once per process, before serving, and share it. Route generation while other pages of the
/// console render can leave those renders waiting forever (seen with several apps in one
/// process: the tests), so nothing generates routes after start-up.
#[derive(Clone)]
pub struct Site {
    pub options: LeptosOptions,
    routes: Arc<Vec<AxumRouteListing>>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Site")
            .field("site_root", &self.options.site_root)
            .field("routes", &self.routes.len())
            .finish()
    }
}

impl Site {
    /// The console served from `site_dir`, its routes generated now.
    pub fn new(site_dir: &Path) -> Self {
        Self {
            options: options(site_dir),
            routes: Arc::new(generate_route_list(wizfs_web::App)),
        }
    }

    /// The same routes with the files of another folder.
    pub fn with_site_dir(&self, site_dir: &Path) -> Self {
        Self {
            options: options(site_dir),
            routes: self.routes.clone(),
        }
    }

    /// The paths of the console's pages and server functions (for the route test).
    pub fn route_paths(&self) -> Vec<(String, &'static str)> {
        let mut paths: Vec<(String, &'static str)> = self
            .routes
            .iter()
            .map(|listing| (listing.path().to_owned(), "GET"))
            .collect();
        for (path, method) in leptos::server_fn::axum::server_fn_paths() {
            let method = match method.as_str() {
                "GET" => "GET",
                _ => "POST",
            };
            paths.push((path.to_owned(), method));
        }
        paths
    }
}

/// Leptos's options for the console served from `site_dir`.
fn options(site_dir: &Path) -> LeptosOptions {
    if !site_dir.join("pkg").join("wizfs.js").exists() {
        tracing::warn!(
            site = %site_dir.display(),
            "the console's browser bundle is missing (build it with app/web/build): pages render but stay static"
        );
    }
    LeptosOptions::builder()
        .output_name(wizfs_web::OUTPUT_NAME)
        .site_root(site_dir.display().to_string())
        .site_pkg_dir("pkg")
        .build()
}

/// The console's pages, server functions (`/fn/…`) and static files; `api` is the REST
/// router made with `state`. The bundle's files (`/pkg/…`) and `/favicon.ico` come from a
/// plain static handler that answers 404 for anything it does not have and never renders
/// the app (those paths are public); every page carries its Content-Security-Policy with the
/// nonce of its inline scripts.
pub fn router(site: &Site, api: Router, state: AppState) -> Router {
    let backend: Arc<dyn Backend> = Arc::new(InProcess::new(api, state));
    let options = site.options.clone();
    let shell_options = options.clone();
    let site_root = Path::new(options.site_root.as_ref()).to_path_buf();
    let bundle = tower_http::services::ServeDir::new(site_root.join("pkg"))
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let favicon = tower_http::services::ServeFile::new(site_root.join("favicon.ico"));
    Router::new()
        .leptos_routes_with_context(
            &options,
            site.routes.as_ref().clone(),
            move || provide_context(backend.clone()),
            move || {
                crate::security::set_page_policy();
                wizfs_web::shell(shell_options.clone())
            },
        )
        .nest_service("/pkg", bundle)
        .route_service("/favicon.ico", favicon)
        .fallback(leptos_axum::file_and_error_handler(|options| {
            crate::security::set_page_policy();
            wizfs_web::shell(options)
        }))
        .with_state(options)
        .layer(axum::middleware::from_fn(server_function_errors))
}

/// Largest error answer of a server function that is read to be rewritten.
const MAXIMUM_ERROR_BYTES: usize = 64 << 10;

/// Server functions answer a request they cannot read (missing or malformed arguments) with
/// 500 and the parser's own words (`Args|missing field …`): that is the client's fault, and
/// a person should read what to do. Such answers become `400` with a plain message.
async fn server_function_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let server_function = request.uri().path().starts_with("/fn/");
    let response = next.run(request).await;
    if !server_function || response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAXIMUM_ERROR_BYTES).await else {
        return (parts.status, "the console's answer could not be read").into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    let unreadable = [
        "Args|",
        "MissingArg|",
        "Deserialization|",
        "UnsupportedRequestMethod|",
    ]
    .iter()
    .any(|kind| text.starts_with(kind));
    if unreadable {
        tracing::debug!(error = %text, "a server function could not read its request");
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "The console could not read this request. Reload the page and try again.",
        )
            .into_response();
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests;
