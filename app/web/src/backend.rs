//! Server side only (feature `ssr`): how the console's server functions reach the daemon.
//! The daemon gives every request a [`Backend`] (through Leptos's context) that answers
//! REST calls in-process, so the console and `/api/v1` run the same validation and use-case
//! code, and the console cannot do anything the API refuses. One call has a typed twin: the
//! search, which the busiest page makes on every keystroke, is answered by the same handler
//! code without encoding its answer as JSON and decoding it again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A REST answer that was not a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    pub status: u16,
    pub message: String,
}

/// The body of a successful REST answer.
pub type BackendFuture = Pin<Box<dyn Future<Output = Result<Vec<u8>, BackendError>> + Send>>;

/// A search's answer.
pub type SearchFuture =
    Pin<Box<dyn Future<Output = Result<crate::model::SearchResults, BackendError>> + Send>>;

/// Answers REST requests (`GET`/`POST` on `/api/v1/...`) in-process.
pub trait Backend: Send + Sync + 'static {
    /// `body` is JSON for POST requests.
    fn call(
        &self,
        method: &'static str,
        path_and_query: String,
        body: Option<Vec<u8>>,
    ) -> BackendFuture;

    /// `GET /api/v1/search` with `query` (`?q=…&…`): what [`Backend::call`] would answer,
    /// read from the same handler code and parameter parsing, without the JSON in between.
    fn search(&self, query: String) -> SearchFuture;
}

/// The backend of this request (provided by the daemon).
pub fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
    use_context::<Arc<dyn Backend>>()
        .ok_or_else(|| ServerFnError::new("the console backend is not available"))
}

/// The API's refusal as the server function's: its message, and its status when it is the
/// client's fault (4xx), so a bad request is not reported as the daemon's failure (500).
fn failed(error: BackendError) -> ServerFnError {
    if (400..500).contains(&error.status)
        && let Ok(status) = axum::http::StatusCode::from_u16(error.status)
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(status);
    }
    ServerFnError::new(error.message)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServerFnError> {
    serde_json::from_slice(bytes)
        .map_err(|error| ServerFnError::new(format!("unexpected answer from the daemon: {error}")))
}

/// `GET path` read as `T`.
pub async fn get<T: DeserializeOwned>(path_and_query: String) -> Result<T, ServerFnError> {
    let bytes = backend()?
        .call("GET", path_and_query, None)
        .await
        .map_err(failed)?;
    decode(&bytes)
}

/// `GET /api/v1/search` with `query`, typed (see [`Backend::search`]).
pub async fn search(query: String) -> Result<crate::model::SearchResults, ServerFnError> {
    backend()?.search(query).await.map_err(failed)
}

/// `GET path` as text (diffs).
pub async fn get_text(path_and_query: String) -> Result<String, ServerFnError> {
    let bytes = backend()?
        .call("GET", path_and_query, None)
        .await
        .map_err(failed)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `POST path` with a JSON body, read as `T`.
pub async fn post<T: DeserializeOwned>(
    path: String,
    body: &impl Serialize,
) -> Result<T, ServerFnError> {
    let body = serde_json::to_vec(body).map_err(|error| ServerFnError::new(error.to_string()))?;
    let bytes = backend()?
        .call("POST", path, Some(body))
        .await
        .map_err(failed)?;
    decode(&bytes)
}
