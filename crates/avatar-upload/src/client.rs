//! [`SlackClient`], its builder, the token type, retries and pacing.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::{SlackErrorCode, UploadError};
use crate::photo::Photo;
use crate::response::{DeletePhotoResponse, Envelope, SetPhotoResponse};

/// Slack's Web API base URL.
pub const SLACK_API_URL: &str = "https://slack.com/api/";
/// GovSlack's Web API base URL.
pub const GOV_SLACK_API_URL: &str = "https://slack-gov.com/api/";

/// A Slack user token. `Debug` shows `Token([REDACTED])`; there is no `Display`, and the
/// value is only read to build the `Authorization` header (marked sensitive).
#[derive(Clone)]
pub struct Token(SecretString);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

impl Token {
    /// Checks the token's shape. Bot (`xoxb-`) and app-level (`xapp-`) tokens are refused:
    /// only user tokens (`xoxp-`) may change a profile photo, so sending one would only earn
    /// `not_allowed_token_type`.
    pub fn new(token: impl Into<String>) -> Result<Token, UploadError> {
        let token: String = token.into();
        let t = token.trim();
        let reason = if t.is_empty() {
            Some("the token is empty")
        } else if t.starts_with("xoxb-") {
            Some("a bot token (xoxb-) cannot set profile photos: use a user token (xoxp-) with users.profile:write")
        } else if t.starts_with("xapp-") {
            Some("an app-level token (xapp-) cannot call Web API methods: use a user token (xoxp-)")
        } else if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("the token contains spaces or control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(UploadError::InvalidToken { reason }),
            None => Ok(Token(SecretString::from(t.to_owned()))),
        }
    }
}

/// When and how often a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first request. Default 3.
    pub max_retries: u32,
    /// The most time spent waiting between attempts, in total; a wait that would pass it is
    /// not taken and the last error is returned. Default 120 s.
    pub max_total_wait: Duration,
    /// The wait after HTTP 429 when `Retry-After` is missing or not a number, and after
    /// `ratelimited` in a 200 body. Default 30 s.
    pub default_retry_after: Duration,
    /// First backoff for transient failures (5xx, transport, `internal_error`…); doubles
    /// each retry, with full jitter. Default 500 ms.
    pub base_backoff: Duration,
    /// Largest single backoff. Default 30 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            max_total_wait: Duration::from_secs(120),
            default_retry_after: Duration::from_secs(30),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Sets [`RetryPolicy::max_retries`].
    pub fn max_retries(mut self, n: u32) -> RetryPolicy {
        self.max_retries = n;
        self
    }

    /// Sets [`RetryPolicy::max_total_wait`].
    pub fn max_total_wait(mut self, d: Duration) -> RetryPolicy {
        self.max_total_wait = d;
        self
    }

    /// Sets [`RetryPolicy::default_retry_after`].
    pub fn default_retry_after(mut self, d: Duration) -> RetryPolicy {
        self.default_retry_after = d;
        self
    }

    /// Sets [`RetryPolicy::base_backoff`] and [`RetryPolicy::max_backoff`].
    pub fn backoff(mut self, base: Duration, max: Duration) -> RetryPolicy {
        self.base_backoff = base;
        self.max_backoff = max;
        self
    }

    /// The wait before retry number `retry` (0-based) after `error`.
    fn wait_for(&self, retry: u32, error: &UploadError) -> Duration {
        match error {
            UploadError::RateLimited { retry_after } => *retry_after,
            UploadError::Slack {
                code: SlackErrorCode::Ratelimited,
                ..
            } => self.default_retry_after,
            _ => {
                let exp = self
                    .base_backoff
                    .saturating_mul(2u32.saturating_pow(retry))
                    .min(self.max_backoff);
                // Full jitter: anywhere in [exp/2, exp], so a fleet of clients spreads out.
                let ms = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(ms / 2 + fastrand::u64(0..=ms / 2))
            }
        }
    }
}

/// What happened before a retry: given to the hook set with
/// [`SlackClientBuilder::on_retry`].
#[derive(Debug)]
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The Web API method (`users.setPhoto`).
    pub method: &'static str,
    /// Which retry this is, from 1.
    pub retry: u32,
    /// How long the client waits before it.
    pub wait: Duration,
    /// The failure that caused it.
    pub error: &'a UploadError,
}

type RetryHook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// A request budget: at most N requests per minute, shared by every client built with it
/// (Slack's limits are per app and workspace, not per token, so a batch that uploads for
/// many users shares one `Pacing`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Pacing(Arc<Pacer>);

impl Pacing {
    /// At most `n` requests per minute, evenly spaced. `n` must be at least 1.
    pub fn per_minute(n: u32) -> Result<Pacing, UploadError> {
        if n == 0 {
            return Err(UploadError::InvalidRequest {
                detail: "requests per minute must be at least 1".into(),
            });
        }
        Ok(Pacing(Arc::new(Pacer {
            interval: Duration::from_secs(60) / n,
            next: Mutex::new(None),
        })))
    }

    /// Time between two requests.
    pub fn interval(&self) -> Duration {
        self.0.interval
    }
}

#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    async fn wait_turn(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(t) if t > now => t,
                _ => now,
            };
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

struct Inner {
    http: reqwest::Client,
    token: Token,
    base_url: String,
    retry: RetryPolicy,
    pacer: Option<Pacing>,
    on_retry: Option<RetryHook>,
}

/// An async client for `users.setPhoto` and `users.deletePhoto`. Cheap to clone; clones
/// share the connection pool and the pacing.
///
/// ```no_run
/// # async fn run() -> Result<(), avatar_upload::UploadError> {
/// let client = avatar_upload::SlackClient::builder("xoxp-…").build()?;
/// let photo = avatar_upload::Photo::new(std::fs::read("avatar.jpg").unwrap())?;
/// let done = client.set_photo(&photo).await?;
/// println!("avatar hash {:?}", done.profile.and_then(|p| p.avatar_hash));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SlackClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .field("retry", &self.inner.retry)
            .field("pacing", &self.inner.pacer.as_ref().map(Pacing::interval))
            .finish()
    }
}

/// Builds a [`SlackClient`].
pub struct SlackClientBuilder {
    token: Result<Token, UploadError>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    pacing: Result<Option<Pacing>, UploadError>,
    on_retry: Option<RetryHook>,
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for SlackClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClientBuilder")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl SlackClient {
    /// A builder with the defaults: `https://slack.com/api/`, 10 s connect and 60 s request
    /// timeouts, [`RetryPolicy::default`], at most 20 requests per minute (Tier 2).
    pub fn builder(token: impl Into<String>) -> SlackClientBuilder {
        SlackClientBuilder {
            token: Token::new(token),
            base_url: SLACK_API_URL.to_owned(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            pacing: Pacing::per_minute(20).map(Some),
            on_retry: None,
            http: None,
        }
    }

    /// The base URL in use (always ends with `/`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Sets the user's profile photo (`users.setPhoto`).
    pub async fn set_photo(&self, photo: &Photo) -> Result<SetPhotoResponse, UploadError> {
        let (content_type, body) = photo.multipart();
        let (env, attempts) = self
            .call("users.setPhoto", Some((content_type, body)))
            .await?;
        Ok(SetPhotoResponse {
            warnings: env.warnings(),
            profile: env.profile,
            attempts,
        })
    }

    /// Removes the user's profile photo (`users.deletePhoto`).
    pub async fn delete_photo(&self) -> Result<DeletePhotoResponse, UploadError> {
        let (env, attempts) = self.call("users.deletePhoto", None).await?;
        Ok(DeletePhotoResponse {
            warnings: env.warnings(),
            attempts,
        })
    }

    /// Sends the request with pacing and the retry policy. The body is built once by the
    /// caller: every attempt sends the same bytes.
    async fn call(
        &self,
        method: &'static str,
        body: Option<(String, Bytes)>,
    ) -> Result<(Envelope, u32), UploadError> {
        let inner = &self.inner;
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            if let Some(p) = &inner.pacer {
                p.0.wait_turn().await;
            }
            attempt += 1;
            let err = match self.once(method, body.as_ref()).await {
                Ok(env) => return Ok((env, attempt)),
                Err(e) => e,
            };
            let retry = attempt; // retries so far + 1
            if !err.is_retryable() || retry > inner.retry.max_retries {
                return Err(err);
            }
            let wait = inner.retry.wait_for(retry - 1, &err);
            if waited + wait > inner.retry.max_total_wait {
                return Err(err);
            }
            if let Some(hook) = &inner.on_retry {
                hook(&RetryEvent {
                    method,
                    retry,
                    wait,
                    error: &err,
                });
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    async fn once(
        &self,
        method: &str,
        body: Option<&(String, Bytes)>,
    ) -> Result<Envelope, UploadError> {
        let inner = &self.inner;
        let url = format!("{}{method}", inner.base_url);
        let mut req = inner
            .http
            .post(url)
            .bearer_auth(inner.token.0.expose_secret());
        req = match body {
            Some((content_type, bytes)) => req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes.clone()),
            // Slack wants a POST with a form Content-Type even without arguments.
            None => req
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(""),
        };
        let resp = req.send().await.map_err(UploadError::transport)?;
        let status = resp.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(inner.retry.default_retry_after, Duration::from_secs);
            return Err(UploadError::RateLimited { retry_after });
        }
        let bytes = resp.bytes().await.map_err(UploadError::transport)?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(UploadError::Http {
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            });
        }
        Envelope::parse(&bytes)
    }
}

impl SlackClientBuilder {
    /// Sets the base URL: GovSlack ([`GOV_SLACK_API_URL`]), a proxy, or a test server.
    /// A missing trailing slash is added.
    pub fn base_url(mut self, url: impl Into<String>) -> SlackClientBuilder {
        let mut url: String = url.into();
        if !url.ends_with('/') {
            url.push('/');
        }
        self.base_url = url;
        self
    }

    /// Uses GovSlack's base URL.
    pub fn gov_slack(self) -> SlackClientBuilder {
        self.base_url(GOV_SLACK_API_URL)
    }

    /// Timeout for a whole request, connect to last byte. Default 60 s.
    pub fn timeout(mut self, d: Duration) -> SlackClientBuilder {
        self.timeout = d;
        self
    }

    /// Timeout for connecting. Default 10 s.
    pub fn connect_timeout(mut self, d: Duration) -> SlackClientBuilder {
        self.connect_timeout = d;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> SlackClientBuilder {
        self.retry = policy;
        self
    }

    /// At most `n` requests per minute from this client and its clones (`None`: no pacing).
    /// Default 20, Slack's Tier 2 rate for `users.setPhoto`.
    pub fn requests_per_minute(mut self, n: Option<u32>) -> SlackClientBuilder {
        self.pacing = n.map(Pacing::per_minute).transpose();
        self
    }

    /// Shares a request budget with other clients (e.g. one client per user token in a
    /// batch, all under the same app's Tier 2 limit).
    pub fn pacing(mut self, pacing: Pacing) -> SlackClientBuilder {
        self.pacing = Ok(Some(pacing));
        self
    }

    /// Called before each retry (for logs or progress). Never sees the token.
    pub fn on_retry(
        mut self,
        hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static,
    ) -> SlackClientBuilder {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Uses this `reqwest::Client` (to share a pool); the timeouts set here then do not apply.
    pub fn http_client(mut self, client: reqwest::Client) -> SlackClientBuilder {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds the client. Fails on a refused token, a base URL that
    /// is not http(s), or a zero pacing rate.
    pub fn build(self) -> Result<SlackClient, UploadError> {
        let token = self.token?;
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(UploadError::InvalidRequest {
                detail: "the base URL must start with https:// or http://".into(),
            });
        }
        let pacer = self.pacing?;
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .user_agent(concat!("avatar-upload/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| UploadError::InvalidRequest {
                    detail: format!("cannot build the HTTP client: {}", e.without_url()),
                })?,
        };
        Ok(SlackClient {
            inner: Arc::new(Inner {
                http,
                token,
                base_url: self.base_url,
                retry: self.retry,
                pacer,
                on_retry: self.on_retry,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_and_never_printed() {
        let t = Token::new("xoxp-123-secret").unwrap();
        assert_eq!(format!("{t:?}"), "Token([REDACTED])");
        for bad in ["", "  ", "xoxb-1-2", "xapp-1-2", "xoxp-1 2"] {
            assert!(
                matches!(Token::new(bad), Err(UploadError::InvalidToken { .. })),
                "{bad:?}"
            );
        }
        let client = SlackClient::builder("xoxp-123-secret").build().unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn base_url_is_normalised() {
        let c = SlackClient::builder("xoxp-1")
            .base_url("http://127.0.0.1:9/api")
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9/api/");
        let c = SlackClient::builder("xoxp-1").gov_slack().build().unwrap();
        assert_eq!(c.base_url(), GOV_SLACK_API_URL);
        assert!(SlackClient::builder("xoxp-1")
            .base_url("ftp://x")
            .build()
            .is_err());
        assert!(SlackClient::builder("xoxp-1")
            .requests_per_minute(Some(0))
            .build()
            .is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(400));
        let e = UploadError::Http {
            status: 500,
            body: String::new(),
        };
        for (retry, max) in [(0u32, 100u64), (1, 200), (2, 400), (5, 400)] {
            let w = p.wait_for(retry, &e).as_millis() as u64;
            assert!(w >= max / 2 && w <= max, "retry {retry}: {w} ms");
        }
        let rl = UploadError::RateLimited {
            retry_after: Duration::from_secs(7),
        };
        assert_eq!(p.wait_for(0, &rl), Duration::from_secs(7));
    }
}
