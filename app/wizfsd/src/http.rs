//! What the HTTP side shares, imported by every handler and never importing them: the state
//! handlers get ([`AppState`], the services), the error they answer with ([`ApiError`]: a
//! `ServiceError` whose kind decides the status), the typed extractors whose failures are
//! JSON `400`s like every other refusal, and who asked ([`Caller`]).

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use wizfs_services::ServiceError;
use wizfs_zfs::ZfsError;

/// What request handlers share: the services (`wizfs-services`).
pub type AppState = wizfs_services::Services;

/// An API failure as HTTP sees it: a [`ServiceError`], whose kind decides the status and
/// whose message is the body (`{"error": …}`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub ServiceError);

impl From<ZfsError> for ApiError {
    fn from(error: ZfsError) -> Self {
        Self(error.into())
    }
}

impl From<wizfs_recovery::RecoveryError> for ApiError {
    fn from(error: wizfs_recovery::RecoveryError) -> Self {
        Self(error.into())
    }
}

impl ApiError {
    pub fn bad_request(message: String) -> Self {
        Self(ServiceError::BadRequest(message))
    }

    pub fn not_found(message: String) -> Self {
        Self(ServiceError::NotFound(message))
    }

    pub fn conflict(message: String) -> Self {
        Self(ServiceError::Conflict(message))
    }

    pub fn unavailable(message: String) -> Self {
        Self(ServiceError::Unavailable(message))
    }

    pub fn internal(message: String) -> Self {
        Self(ServiceError::Internal(message))
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.kind().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status(),
            Json(wizfs_api::ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response()
    }
}

/// A query string as a typed request; a malformed one is a `400` with the usual JSON body.
/// A repeated key fills a list (`dataset=a&dataset=b`), as HTML forms send them.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        serde_html_form::from_str(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(|error| {
                ApiError::bad_request(format!("Failed to deserialize query string: {error}"))
            })
    }
}

/// A JSON body as a typed request; a malformed one is a `400` with the usual JSON body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(value)| Self(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// Who asked, as the task log records it: set by the control socket for the CLI.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub &'static str);
