//! Slack: one `reqwest::Client` for the whole service, a `SlackClient` per request with the
//! caller's own token, and Slack's answers turned into statuses.

use std::time::Duration;

use avatar_upload::{Pacing, RetryPolicy, SlackClient, SlackErrorCode, UploadError};
use axum::http::StatusCode;
use tracing::warn;

use crate::error::ApiError;

/// Where Slack is and how hard to try.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// The Web API base URL.
    pub base_url: String,
    /// Calls per minute for the whole service (`None`: no pacing).
    pub per_minute: Option<u32>,
    /// Longest total wait between retries within one request.
    pub max_wait: Duration,
}

/// What every request shares: the connection pool, the pacing, the retry policy.
#[derive(Debug)]
pub struct Slack {
    http: reqwest::Client,
    base_url: String,
    pacing: Option<Pacing>,
    retry: RetryPolicy,
}

impl Slack {
    /// Builds the shared HTTP client.
    pub fn new(config: SlackConfig) -> anyhow::Result<Slack> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("avatar-service/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let pacing = config.per_minute.map(Pacing::per_minute).transpose()?;
        // A person is waiting on the other end: retry briefly, and pass a long Retry-After on
        // as 429 instead of holding the request for half a minute.
        let retry = RetryPolicy::default()
            .max_retries(2)
            .max_total_wait(config.max_wait)
            .backoff(Duration::from_millis(250), Duration::from_secs(4));
        Ok(Slack {
            http,
            base_url: config.base_url,
            pacing,
            retry,
        })
    }

    /// A client for this caller's token, sharing the connection pool and the pacing. Refuses
    /// a missing, bot (`xoxb-`) or app (`xapp-`) token before anything is sent.
    pub fn client_for(&self, token: &str) -> Result<SlackClient, ApiError> {
        let t = token.trim();
        if t.starts_with("xoxb-") || t.starts_with("xapp-") {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_allowed_token_type",
                "only a user token (xoxp-) with the users.profile:write scope can set a profile photo",
            ));
        }
        let mut builder = SlackClient::builder(t)
            .base_url(self.base_url.clone())
            .http_client(self.http.clone())
            .retry(self.retry)
            .on_retry(|e| {
                warn!(
                    method = e.method,
                    retry = e.retry,
                    wait_ms = e.wait.as_millis() as u64,
                    error = %e.error,
                    "Slack call failed, retrying"
                );
            });
        builder = match &self.pacing {
            Some(p) => builder.pacing(p.clone()),
            None => builder.requests_per_minute(None),
        };
        builder.build().map_err(|e| match e {
            UploadError::InvalidToken { reason } => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_auth", reason)
            }
            other => ApiError::internal(other.to_string()),
        })
    }
}

/// The bearer token of the request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Slack's failure as our answer: 401/403 for auth and scope codes, 429 with `Retry-After`
/// when the retries ran out on a rate limit, 502 for the rest.
pub fn slack_error(e: &UploadError) -> ApiError {
    use SlackErrorCode as C;
    match e {
        UploadError::Slack { code, .. } => {
            let status = match code {
                C::InvalidAuth
                | C::NotAuthed
                | C::TokenRevoked
                | C::TokenExpired
                | C::AccountInactive => StatusCode::UNAUTHORIZED,
                C::NotAllowedTokenType
                | C::MissingScope
                | C::NoPermission
                | C::AccessDenied
                | C::AccessLimited
                | C::EkmAccessDenied
                | C::EnterpriseIsRestricted
                | C::OrgLoginRequired
                | C::TeamAccessNotGranted
                | C::TwoFactorSetupRequired => StatusCode::FORBIDDEN,
                C::Ratelimited => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_GATEWAY,
            };
            let message = match code.hint() {
                Some(hint) => format!("{e}: {hint}"),
                None => e.to_string(),
            };
            let err = ApiError::new(status, code.as_str().to_owned(), message);
            if status == StatusCode::TOO_MANY_REQUESTS {
                err.retry_after(30)
            } else {
                err
            }
        }
        UploadError::RateLimited { retry_after } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ratelimited",
            format!("{e}: try again later"),
        )
        .retry_after(retry_after.as_secs().max(1)),
        UploadError::Http { status, .. } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "slack_http_error",
            format!("Slack answered HTTP {status}"),
        ),
        UploadError::Transport { .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, "slack_unreachable", e.to_string())
        }
        UploadError::InvalidResponse { .. } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "slack_invalid_response",
            e.to_string(),
        ),
        _ => ApiError::internal(e.to_string()),
    }
}

/// The profile Slack sent back, as JSON.
pub fn profile_json(p: &avatar_upload::Profile) -> serde_json::Value {
    serde_json::json!({
        "avatar_hash": p.avatar_hash,
        "image_24": p.image_24,
        "image_32": p.image_32,
        "image_48": p.image_48,
        "image_72": p.image_72,
        "image_192": p.image_192,
        "image_512": p.image_512,
        "image_1024": p.image_1024,
        "image_original": p.image_original,
        "is_custom_image": p.is_custom_image,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn bearer_is_read_and_tokens_are_checked() {
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("authorization", "Bearer xoxp-1-2".parse().unwrap());
        assert_eq!(bearer(&h), Some("xoxp-1-2"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);

        let slack = Slack::new(SlackConfig {
            base_url: "http://127.0.0.1:9/api/".into(),
            per_minute: None,
            max_wait: Duration::from_secs(1),
        })
        .unwrap();
        let e = slack.client_for("xoxb-1-secret").unwrap_err();
        assert_eq!(
            (e.status, e.kind.as_ref()),
            (StatusCode::FORBIDDEN, "not_allowed_token_type")
        );
        let e = slack.client_for("xoxp-1 secret").unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert!(!e.message.contains("secret"));
        assert!(slack.client_for("xoxp-1-secret").is_ok());
    }

    #[test]
    fn slack_codes_map_to_statuses() {
        let slack = |c: &str| UploadError::Slack {
            code: SlackErrorCode::parse(c),
            needed: None,
            provided: None,
            warnings: vec![],
        };
        for (code, status) in [
            ("invalid_auth", 401),
            ("token_revoked", 401),
            ("missing_scope", 403),
            ("not_allowed_token_type", 403),
            ("bad_image", 502),
            ("internal_error", 502),
            ("ratelimited", 429),
        ] {
            let e = slack_error(&slack(code));
            assert_eq!((e.status.as_u16(), e.kind.as_ref()), (status, code));
        }
        let e = slack_error(&UploadError::RateLimited {
            retry_after: Duration::from_secs(42),
        });
        assert_eq!((e.status.as_u16(), e.retry_after), (429, Some(42)));
        let e = slack_error(&UploadError::Http {
            status: 503,
            body: "<html>".into(),
        });
        assert_eq!(
            (e.status.as_u16(), e.kind.as_ref()),
            (502, "slack_http_error")
        );
    }
}
