//! [`ApiError`]: every failure as `{"ok":false,"error":KIND,"message":…}` with its status.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The error kind of a failed request, kept in the response's extensions for the access log.
#[derive(Debug, Clone)]
pub struct LoggedKind(pub Cow<'static, str>);

/// A failed request: a status, a stable snake_case kind, a message for people and, for 429
/// and 503, the seconds to wait.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `error` field: a `PrepError` kind, a Slack code or one of this service's kinds.
    pub kind: Cow<'static, str>,
    /// The `message` field. Never holds the token.
    pub message: String,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no `Retry-After`.
    pub fn new(
        status: StatusCode,
        kind: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            kind: kind.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed (no `image` part, bad crop fields…).
    pub fn bad_request(kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, kind, message)
    }

    /// Adds `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    /// 422 for an image the library cannot use, with the `PrepError` kind; 500 for the
    /// library's own internal errors.
    pub fn from_prep(e: &avatar_prep::PrepError) -> ApiError {
        let kind = e.kind();
        let status = match kind {
            avatar_prep::ErrorKind::Internal | avatar_prep::ErrorKind::Io => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, kind.as_str(), e.to_string())
    }

    /// 500: a bug in this service.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "ok": false,
            "error": self.kind,
            "message": self.message,
        });
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp.extensions_mut().insert(LoggedKind(self.kind));
        resp
    }
}
