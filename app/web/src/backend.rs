//! Server side only (feature `ssr`): how the console's server functions reach the daemon.
//! The daemon gives every request an `Arc<dyn wizfs_api::Api>` (through Leptos's context):
//! the typed operations of its services, the ones its REST handlers call, so the console
//! runs the same validation and use-case code as `/api/v1` and cannot do anything the API
//! refuses — without URLs or JSON in between.

use std::sync::Arc;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wizfs_api::{Api, ErrorKind, Failure};

/// The sign-in layer's view of the administrator's account (provided by the daemon, which
/// owns sessions and the credential file: they are HTTP matters, not services).
pub trait Account: Send + Sync {
    /// The live sessions, the one the request `headers` carry marked current.
    fn sessions(&self, headers: &axum::http::HeaderMap) -> Vec<crate::sessions::SessionRow>;
}

/// The account of this request (provided by the daemon).
pub fn account() -> Result<Arc<dyn Account>, ServerFnError> {
    use_context::<Arc<dyn Account>>()
        .ok_or_else(|| ServerFnError::new("the account is not available"))
}

/// The services of this request (provided by the daemon).
pub fn api() -> Result<Arc<dyn Api>, ServerFnError> {
    use_context::<Arc<dyn Api>>()
        .ok_or_else(|| ServerFnError::new("the console backend is not available"))
}

/// The API's refusal as the server function's: its message, and its status when it is the
/// client's fault (4xx), so a bad request is not reported as the daemon's failure (500).
pub fn failed(failure: Failure) -> ServerFnError {
    if failure.kind.is_client_error()
        && let Ok(status) = axum::http::StatusCode::from_u16(failure.kind.http_status())
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(status);
    }
    ServerFnError::new(failure.message)
}

/// A request the console itself refuses before asking the services (a size that is not
/// one): the client's fault, as the API would say.
pub fn refused(message: String) -> ServerFnError {
    failed(Failure::new(ErrorKind::BadRequest, message))
}

/// A word of a form as one of the API's enums (`glob`, `original`, …), read by the API's own
/// serde names; `None` for an empty field (the API's default). An unknown word is refused
/// as the REST API refuses it.
pub fn word<T: DeserializeOwned>(text: &str, field: &str) -> Result<Option<T>, ServerFnError> {
    if text.is_empty() {
        return Ok(None);
    }
    let words = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
    T::deserialize(words)
        .map(Some)
        .map_err(|error| refused(format!("{field}: {error}")))
}
