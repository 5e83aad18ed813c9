//! [`UploadError`] and [`SlackErrorCode`].

use std::fmt;
use std::time::Duration;

/// An error code from Slack's `{"ok": false, "error": "…"}` answer, for `users.setPhoto` and
/// `users.deletePhoto` (and the errors every Web API method can return).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlackErrorCode {
    /// `bad_image`: the image could not be read or is not valid.
    BadImage,
    /// `too_large`: the image is too large.
    TooLarge,
    /// `too_many_frames`: the animated GIF has too many frames.
    TooManyFrames,
    /// `invalid_auth`: the token is not valid.
    InvalidAuth,
    /// `not_authed`: no token was sent.
    NotAuthed,
    /// `not_allowed_token_type`: this token type may not call the method (a bot token).
    NotAllowedTokenType,
    /// `missing_scope`: the token lacks a scope (`users.profile:write`).
    MissingScope,
    /// `no_permission`: the workspace token lacks permission.
    NoPermission,
    /// `token_revoked`: the token was revoked.
    TokenRevoked,
    /// `token_expired`: the token expired (token rotation).
    TokenExpired,
    /// `account_inactive`: the user or workspace is deactivated.
    AccountInactive,
    /// `access_denied`: access to the resource is denied.
    AccessDenied,
    /// `accesslimited`: the method cannot be called from this network.
    AccessLimited,
    /// `ekm_access_denied`: administrators suspended the ability to post.
    EkmAccessDenied,
    /// `enterprise_is_restricted`: the method cannot be called from an Enterprise.
    EnterpriseIsRestricted,
    /// `org_login_required`: the workspace is undergoing an Enterprise Grid migration.
    OrgLoginRequired,
    /// `team_access_not_granted`: the token has no access to the workspace.
    TeamAccessNotGranted,
    /// `two_factor_setup_required`: two-factor setup is required.
    TwoFactorSetupRequired,
    /// `deprecated_endpoint`: the endpoint is deprecated.
    DeprecatedEndpoint,
    /// `method_deprecated`: the method is deprecated.
    MethodDeprecated,
    /// `ratelimited`: rate limited (also sent as HTTP 429).
    Ratelimited,
    /// `request_timeout`: the POST data was missing or truncated.
    RequestTimeout,
    /// `invalid_arguments`: the arguments are not valid.
    InvalidArguments,
    /// `invalid_arg_name`: an argument name is not valid.
    InvalidArgName,
    /// `invalid_array_arg`: an array argument was passed the wrong way.
    InvalidArrayArg,
    /// `invalid_charset`: the charset of the request is not valid.
    InvalidCharset,
    /// `invalid_form_data`: the form data is not valid.
    InvalidFormData,
    /// `invalid_post_type`: the Content-Type is not one Slack takes.
    InvalidPostType,
    /// `missing_post_type`: no Content-Type was sent.
    MissingPostType,
    /// `internal_error`: a server error on Slack's side.
    InternalError,
    /// `fatal_error`: a catastrophic server error on Slack's side.
    FatalError,
    /// `service_unavailable`: the service is temporarily unavailable.
    ServiceUnavailable,
    /// A code this version does not know yet.
    Other(String),
}

impl SlackErrorCode {
    /// Reads Slack's code.
    pub fn parse(code: &str) -> SlackErrorCode {
        use SlackErrorCode as C;
        match code {
            "bad_image" => C::BadImage,
            "too_large" => C::TooLarge,
            "too_many_frames" => C::TooManyFrames,
            "invalid_auth" => C::InvalidAuth,
            "not_authed" => C::NotAuthed,
            "not_allowed_token_type" => C::NotAllowedTokenType,
            "missing_scope" => C::MissingScope,
            "no_permission" => C::NoPermission,
            "token_revoked" => C::TokenRevoked,
            "token_expired" => C::TokenExpired,
            "account_inactive" => C::AccountInactive,
            "access_denied" => C::AccessDenied,
            "accesslimited" => C::AccessLimited,
            "ekm_access_denied" => C::EkmAccessDenied,
            "enterprise_is_restricted" => C::EnterpriseIsRestricted,
            "org_login_required" => C::OrgLoginRequired,
            "team_access_not_granted" => C::TeamAccessNotGranted,
            "two_factor_setup_required" => C::TwoFactorSetupRequired,
            "deprecated_endpoint" => C::DeprecatedEndpoint,
            "method_deprecated" => C::MethodDeprecated,
            "ratelimited" => C::Ratelimited,
            "request_timeout" => C::RequestTimeout,
            "invalid_arguments" => C::InvalidArguments,
            "invalid_arg_name" => C::InvalidArgName,
            "invalid_array_arg" => C::InvalidArrayArg,
            "invalid_charset" => C::InvalidCharset,
            "invalid_form_data" => C::InvalidFormData,
            "invalid_post_type" => C::InvalidPostType,
            "missing_post_type" => C::MissingPostType,
            "internal_error" => C::InternalError,
            "fatal_error" => C::FatalError,
            "service_unavailable" => C::ServiceUnavailable,
            other => C::Other(other.to_owned()),
        }
    }

    /// Slack's code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        use SlackErrorCode as C;
        match self {
            C::BadImage => "bad_image",
            C::TooLarge => "too_large",
            C::TooManyFrames => "too_many_frames",
            C::InvalidAuth => "invalid_auth",
            C::NotAuthed => "not_authed",
            C::NotAllowedTokenType => "not_allowed_token_type",
            C::MissingScope => "missing_scope",
            C::NoPermission => "no_permission",
            C::TokenRevoked => "token_revoked",
            C::TokenExpired => "token_expired",
            C::AccountInactive => "account_inactive",
            C::AccessDenied => "access_denied",
            C::AccessLimited => "accesslimited",
            C::EkmAccessDenied => "ekm_access_denied",
            C::EnterpriseIsRestricted => "enterprise_is_restricted",
            C::OrgLoginRequired => "org_login_required",
            C::TeamAccessNotGranted => "team_access_not_granted",
            C::TwoFactorSetupRequired => "two_factor_setup_required",
            C::DeprecatedEndpoint => "deprecated_endpoint",
            C::MethodDeprecated => "method_deprecated",
            C::Ratelimited => "ratelimited",
            C::RequestTimeout => "request_timeout",
            C::InvalidArguments => "invalid_arguments",
            C::InvalidArgName => "invalid_arg_name",
            C::InvalidArrayArg => "invalid_array_arg",
            C::InvalidCharset => "invalid_charset",
            C::InvalidFormData => "invalid_form_data",
            C::InvalidPostType => "invalid_post_type",
            C::MissingPostType => "missing_post_type",
            C::InternalError => "internal_error",
            C::FatalError => "fatal_error",
            C::ServiceUnavailable => "service_unavailable",
            C::Other(s) => s,
        }
    }

    /// True for the server-side failures worth another try: `internal_error`,
    /// `fatal_error`, `service_unavailable`, `request_timeout` and `ratelimited`.
    ///
    /// `fatal_error` is included because setting (or deleting) the same photo twice is
    /// harmless: the methods are idempotent, so a partial success cannot be doubled.
    pub fn is_transient(&self) -> bool {
        use SlackErrorCode as C;
        matches!(
            self,
            C::InternalError
                | C::FatalError
                | C::ServiceUnavailable
                | C::RequestTimeout
                | C::Ratelimited
        )
    }

    /// A one-line hint for a person, where there is a useful one.
    pub fn hint(&self) -> Option<&'static str> {
        use SlackErrorCode as C;
        Some(match self {
            C::NotAllowedTokenType => "use a user token (xoxp-) with the users.profile:write scope",
            C::MissingScope => "add the users.profile:write user scope and reinstall the app",
            C::InvalidAuth | C::NotAuthed => {
                "check the token: it is missing, mistyped or for another workspace"
            }
            C::TokenRevoked | C::TokenExpired => {
                "get a new token (reinstall the app or refresh the rotated token)"
            }
            C::BadImage => "send a JPEG, PNG or GIF; `avatar prep` makes any photo valid",
            C::TooLarge => "make the image smaller (at most 1024x1024); `avatar prep` does it",
            C::TooManyFrames => {
                "use fewer GIF frames (`avatar prep --max-frames`) or a still image"
            }
            C::AccountInactive => "the user or the workspace is deactivated",
            C::Ratelimited => "too many calls: wait and try again (Tier 2, about 20 per minute)",
            _ => return None,
        })
    }
}

impl fmt::Display for SlackErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request failed.
///
/// The split follows octocrab/reqwest: [`UploadError::Slack`] is "Slack said no",
/// [`UploadError::RateLimited`] and [`UploadError::Http`] are HTTP-level answers,
/// [`UploadError::Transport`] is "the request did not get through". No variant ever holds
/// the token, and URLs are not included in messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// Slack answered `{"ok": false, "error": code}`.
    #[error("Slack answered {code}{}", needed.as_ref().map(|n| format!(" (needed: {n}, provided: {})", provided.as_deref().unwrap_or("?"))).unwrap_or_default())]
    Slack {
        /// The error code.
        code: SlackErrorCode,
        /// For `missing_scope`: the scope that was needed.
        needed: Option<String>,
        /// For `missing_scope`: the scopes the token has.
        provided: Option<String>,
        /// Warnings that came with the answer.
        warnings: Vec<String>,
    },
    /// HTTP 429 (or `ratelimited`) and the retries allowed by the policy ran out.
    #[error("rate limited: Slack asked to wait {} s", retry_after.as_secs())]
    RateLimited {
        /// What Slack asked to wait (`Retry-After`).
        retry_after: Duration,
    },
    /// An HTTP status other than 200 and 429.
    #[error("HTTP status {status}")]
    Http {
        /// The status code.
        status: u16,
        /// The start of the body (up to 200 characters; 5xx bodies may be HTML).
        body: String,
    },
    /// The request did not get through: connection refused or reset, DNS, TLS, timeout.
    #[error("{kind} error talking to Slack")]
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// The underlying error, with the URL removed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Slack answered 200 with a body that is not its JSON envelope.
    #[error("invalid response from Slack: {detail}")]
    InvalidResponse {
        /// What was wrong.
        detail: String,
    },
    /// The token cannot call these methods; nothing was sent.
    #[error("invalid token: {reason}")]
    InvalidToken {
        /// Why (never the token itself).
        reason: &'static str,
    },
    /// The photo or the client settings are not valid; nothing was sent.
    #[error("invalid request: {detail}")]
    InvalidRequest {
        /// What is wrong.
        detail: String,
    },
}

/// The kind of an [`UploadError::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// Connecting failed (refused, DNS, TLS handshake).
    Connect,
    /// The connect or request timeout expired.
    Timeout,
    /// The connection broke while sending or receiving.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection",
            TransportKind::Timeout => "timeout",
            TransportKind::Other => "transport",
        })
    }
}

impl UploadError {
    /// True when the same request may succeed later: rate limits, 5xx, transport failures
    /// and Slack's transient codes. Never for caller errors (`bad_image`, `invalid_auth`…).
    pub fn is_retryable(&self) -> bool {
        match self {
            UploadError::Slack { code, .. } => code.is_transient(),
            UploadError::RateLimited { .. } | UploadError::Transport { .. } => true,
            UploadError::Http { status, .. } => *status >= 500 || *status == 408,
            UploadError::InvalidResponse { .. }
            | UploadError::InvalidToken { .. }
            | UploadError::InvalidRequest { .. } => false,
        }
    }

    /// The Slack error code, if Slack answered with one.
    pub fn slack_code(&self) -> Option<&SlackErrorCode> {
        match self {
            UploadError::Slack { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn transport(e: reqwest::Error) -> UploadError {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        UploadError::Transport {
            kind,
            source: Box::new(e.without_url()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in [
            "bad_image",
            "too_large",
            "too_many_frames",
            "missing_scope",
            "accesslimited",
            "fatal_error",
        ] {
            assert_eq!(SlackErrorCode::parse(c).as_str(), c);
        }
        assert_eq!(
            SlackErrorCode::parse("brand_new"),
            SlackErrorCode::Other("brand_new".into())
        );
    }

    #[test]
    fn retryable_split() {
        let slack = |c: &str| UploadError::Slack {
            code: SlackErrorCode::parse(c),
            needed: None,
            provided: None,
            warnings: vec![],
        };
        assert!(slack("internal_error").is_retryable());
        assert!(slack("service_unavailable").is_retryable());
        assert!(!slack("bad_image").is_retryable());
        assert!(!slack("invalid_auth").is_retryable());
        assert!(UploadError::Http {
            status: 503,
            body: String::new()
        }
        .is_retryable());
        assert!(!UploadError::Http {
            status: 404,
            body: String::new()
        }
        .is_retryable());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<UploadError>();
    }
}
