//! [`UploadError`] and [`SlackErrorCode`].

use std::fmt;
use std::time::Duration;

/// A foreign error kept as a source without exposing its type.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Writes [`SlackErrorCode`] with its wire names once: the enum, [`SlackErrorCode::parse`],
/// [`SlackErrorCode::as_str`] and the list of known codes all come from this one table.
macro_rules! slack_error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )*) => {
        /// An error code from Slack's `{"ok": false, "error": "…"}` answer, for
        /// `users.setPhoto` and `users.deletePhoto` (and the errors every Web API method can
        /// return).
        ///
        /// [`SlackErrorCode::parse`] never gives [`SlackErrorCode::Other`] for a code listed
        /// here.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum SlackErrorCode {
            $( $(#[$doc])* $variant, )*
            /// A code this version does not know yet.
            Other(String),
        }

        impl SlackErrorCode {
            /// Every code this version knows, in the table's order.
            #[cfg(test)]
            const KNOWN: &'static [SlackErrorCode] = &[$(SlackErrorCode::$variant),*];

            /// Reads Slack's code.
            pub fn parse(code: &str) -> SlackErrorCode {
                match code {
                    $( $code => SlackErrorCode::$variant, )*
                    other => SlackErrorCode::Other(other.to_owned()),
                }
            }

            /// Slack's code as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( SlackErrorCode::$variant => $code, )*
                    SlackErrorCode::Other(code) => code,
                }
            }
        }
    };
}

slack_error_codes! {
    /// `bad_image`: the image could not be read or is not valid.
    BadImage = "bad_image",
    /// `too_large`: the image is too large.
    TooLarge = "too_large",
    /// `too_many_frames`: the animated GIF has too many frames.
    TooManyFrames = "too_many_frames",
    /// `invalid_auth`: the token is not valid.
    InvalidAuth = "invalid_auth",
    /// `not_authed`: no token was sent.
    NotAuthed = "not_authed",
    /// `not_allowed_token_type`: this token type may not call the method (a bot token).
    NotAllowedTokenType = "not_allowed_token_type",
    /// `missing_scope`: the token lacks a scope (`users.profile:write`).
    MissingScope = "missing_scope",
    /// `no_permission`: the workspace token lacks permission.
    NoPermission = "no_permission",
    /// `token_revoked`: the token was revoked.
    TokenRevoked = "token_revoked",
    /// `token_expired`: the token expired (token rotation).
    TokenExpired = "token_expired",
    /// `account_inactive`: the user or workspace is deactivated.
    AccountInactive = "account_inactive",
    /// `access_denied`: access to the resource is denied.
    AccessDenied = "access_denied",
    /// `accesslimited`: the method cannot be called from this network.
    AccessLimited = "accesslimited",
    /// `ekm_access_denied`: administrators suspended the ability to post.
    EkmAccessDenied = "ekm_access_denied",
    /// `enterprise_is_restricted`: the method cannot be called from an Enterprise.
    EnterpriseIsRestricted = "enterprise_is_restricted",
    /// `org_login_required`: the workspace is undergoing an Enterprise Grid migration.
    OrgLoginRequired = "org_login_required",
    /// `team_access_not_granted`: the token has no access to the workspace.
    TeamAccessNotGranted = "team_access_not_granted",
    /// `two_factor_setup_required`: two-factor setup is required.
    TwoFactorSetupRequired = "two_factor_setup_required",
    /// `deprecated_endpoint`: the endpoint is deprecated.
    DeprecatedEndpoint = "deprecated_endpoint",
    /// `method_deprecated`: the method is deprecated.
    MethodDeprecated = "method_deprecated",
    /// `ratelimited`: rate limited (also sent as HTTP 429).
    Ratelimited = "ratelimited",
    /// `request_timeout`: the POST data was missing or truncated.
    RequestTimeout = "request_timeout",
    /// `invalid_arguments`: the arguments are not valid.
    InvalidArguments = "invalid_arguments",
    /// `invalid_arg_name`: an argument name is not valid.
    InvalidArgName = "invalid_arg_name",
    /// `invalid_array_arg`: an array argument was passed the wrong way.
    InvalidArrayArg = "invalid_array_arg",
    /// `invalid_charset`: the charset of the request is not valid.
    InvalidCharset = "invalid_charset",
    /// `invalid_form_data`: the form data is not valid.
    InvalidFormData = "invalid_form_data",
    /// `invalid_post_type`: the Content-Type is not one Slack takes.
    InvalidPostType = "invalid_post_type",
    /// `missing_post_type`: no Content-Type was sent.
    MissingPostType = "missing_post_type",
    /// `internal_error`: a server error on Slack's side.
    InternalError = "internal_error",
    /// `fatal_error`: a catastrophic server error on Slack's side.
    FatalError = "fatal_error",
    /// `service_unavailable`: the service is temporarily unavailable.
    ServiceUnavailable = "service_unavailable",
}

impl SlackErrorCode {
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
///
/// Variants caused by another error keep it as their [`source`](std::error::Error::source)
/// (boxed: the foreign type is not part of this API) and do not repeat its text in their own
/// message, so print the whole chain (`anyhow`'s `{:#}`, or a loop over `source()`).
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
        /// The underlying error (reqwest's), with the URL removed.
        #[source]
        source: BoxError,
    },
    /// Slack answered 200 with a body that is not its JSON envelope.
    #[error("invalid response from Slack: the body is not its JSON envelope")]
    InvalidResponse {
        /// The start of the body (up to 200 characters), for a person to read.
        body: String,
        /// Why it could not be read (the JSON parser's error).
        #[source]
        source: BoxError,
    },
    /// The HTTP client (TLS configuration, connection pool) could not be built; nothing was
    /// sent.
    #[error("cannot build the HTTP client")]
    HttpClient {
        /// The underlying error (reqwest's).
        #[source]
        source: BoxError,
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
            | UploadError::HttpClient { .. }
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

    /// A failed request; the URL is removed from reqwest's error before it is kept.
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

    /// `reqwest::ClientBuilder::build` failed.
    pub(crate) fn http_client(e: reqwest::Error) -> UploadError {
        UploadError::HttpClient {
            source: Box::new(e.without_url()),
        }
    }

    /// A 200 answer whose body is not Slack's envelope.
    pub(crate) fn invalid_response(body: &[u8], e: serde_json::Error) -> UploadError {
        UploadError::InvalidResponse {
            body: String::from_utf8_lossy(body).chars().take(200).collect(),
            source: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn every_known_code_round_trips_and_unknown_ones_are_kept() {
        assert_eq!(SlackErrorCode::KNOWN.len(), 32);
        for code in SlackErrorCode::KNOWN {
            let wire = code.as_str();
            assert_eq!(&SlackErrorCode::parse(wire), code, "{wire}");
            assert_eq!(code.to_string(), wire);
            assert!(
                wire.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{wire}"
            );
        }
        let mut wires: Vec<&str> = SlackErrorCode::KNOWN.iter().map(|c| c.as_str()).collect();
        wires.sort_unstable();
        wires.dedup();
        assert_eq!(wires.len(), 32, "no wire name is listed twice");
        assert_eq!(
            SlackErrorCode::parse("brand_new"),
            SlackErrorCode::Other("brand_new".into())
        );
        assert_eq!(SlackErrorCode::parse("brand_new").as_str(), "brand_new");
        assert_eq!(
            SlackErrorCode::parse("accesslimited"),
            SlackErrorCode::AccessLimited
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

    /// Each error's message, then its sources' messages, outermost first.
    fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut next = e.source();
        while let Some(s) = next {
            out.push(s.to_string());
            next = s.source();
        }
        out
    }

    /// No message repeats the text of the error below it.
    fn assert_no_repeats(e: &(dyn std::error::Error + 'static)) {
        let msgs = chain(e);
        for pair in msgs.windows(2) {
            assert!(
                !pair[0].contains(&pair[1]),
                "{:?} repeats {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn invalid_response_keeps_the_json_error_as_its_source() {
        let body = b"<html>Service Unavailable</html>";
        let json_err = serde_json::from_slice::<serde_json::Value>(body).unwrap_err();
        let json_text = json_err.to_string();
        let e = UploadError::invalid_response(body, json_err);
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<serde_json::Error>().is_some());
        assert_eq!(chain(&e)[1], json_text);
        assert_no_repeats(&e);
        match &e {
            UploadError::InvalidResponse { body, .. } => assert!(body.starts_with("<html>")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_builder_errors_keep_reqwest_as_their_source() {
        // A relative URL is a builder error in reqwest: a real `reqwest::Error` to wrap.
        let reqwest_err = reqwest::Client::new().get("not a url").build().unwrap_err();
        let e = UploadError::http_client(reqwest_err);
        assert_eq!(e.to_string(), "cannot build the HTTP client");
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<reqwest::Error>().is_some());
        assert!(!e.is_retryable());
        assert_no_repeats(&e);
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<UploadError>();
    }
}
