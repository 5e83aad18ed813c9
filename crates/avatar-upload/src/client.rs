//! [`SlackClient`] and its builder: the requests, with pacing and retries.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::UploadError;
use crate::pacing::Pacing;
use crate::photo::Photo;
use crate::response::{DeletePhotoResponse, Envelope, SetPhotoResponse};
use crate::retry::{RetryEvent, RetryHook, RetryPolicy};
use crate::token::Token;

/// Slack's Web API base URL.
pub const SLACK_API_URL: &str = "https://slack.com/api/";
/// GovSlack's Web API base URL.
pub const GOV_SLACK_API_URL: &str = "https://slack-gov.com/api/";

/// What every client made from one builder shares: the connection pool, the base URL, the
/// retry policy, the pacing and the retry hook.
struct Shared {
    http: reqwest::Client,
    base_url: String,
    retry: RetryPolicy,
    pacer: Option<Pacing>,
    on_retry: Option<RetryHook>,
}

/// An async client for `users.setPhoto` and `users.deletePhoto`, for one user token.
///
/// Cheap to clone; clones share the connection pool and the pacing.
/// [`SlackClient::with_token`] gives a client for another user on the same pool, pacing and
/// policy (a batch or a service that sets photos for many users builds one client and derives
/// the others); [`SlackClientBuilder::http_client`] shares an existing `reqwest::Client`.
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
    shared: Arc<Shared>,
    token: Token,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("base_url", &self.shared.base_url)
            .field("token", &self.token)
            .field("retry", &self.shared.retry)
            .field("pacing", &self.shared.pacer.as_ref().map(Pacing::interval))
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
    /// timeouts, [`RetryPolicy::default`], at most 20 requests per minute (Tier 2). The token
    /// is checked by [`Token::new`] when the client is built.
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

    /// A client for another user token that shares everything else with this one: the
    /// connection pool (no new TLS setup or connections), the base URL, the retry policy,
    /// the pacing budget and the retry hook. Fails, before any request, when the token is
    /// refused by [`Token::new`].
    ///
    /// ```no_run
    /// # async fn run(photos: Vec<(String, avatar_upload::Photo)>) -> Result<(), avatar_upload::UploadError> {
    /// let base = avatar_upload::SlackClient::builder("xoxp-first-user").build()?;
    /// for (token, photo) in &photos {
    ///     base.with_token(token.as_str())?.set_photo(photo).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_token(&self, token: impl Into<String>) -> Result<SlackClient, UploadError> {
        Ok(SlackClient {
            shared: Arc::clone(&self.shared),
            token: Token::new(token)?,
        })
    }

    /// The base URL in use (always ends with `/`).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
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
        let shared = &self.shared;
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            if let Some(p) = &shared.pacer {
                p.wait_turn().await;
            }
            attempt += 1;
            let err = match self.once(method, body.as_ref()).await {
                Ok(env) => return Ok((env, attempt)),
                Err(e) => e,
            };
            let retry = attempt; // retries so far + 1
            if !err.is_retryable() || retry > shared.retry.max_retries {
                return Err(err);
            }
            let wait = shared.retry.wait_for(retry - 1, &err);
            if waited + wait > shared.retry.max_total_wait {
                return Err(err);
            }
            if let Some(hook) = &shared.on_retry {
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
        let shared = &self.shared;
        let url = format!("{}{method}", shared.base_url);
        // `bearer_auth` marks the header sensitive (kept out of reqwest's Debug output).
        let mut req = shared.http.post(url).bearer_auth(self.token.expose());
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
                .map_or(shared.retry.default_retry_after, Duration::from_secs);
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
    /// A missing trailing slash is added. Default [`SLACK_API_URL`].
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

    /// Timeout for a whole request, connect to last byte. Default 60 s. Not used with
    /// [`SlackClientBuilder::http_client`] (that client's own settings apply).
    pub fn timeout(mut self, d: Duration) -> SlackClientBuilder {
        self.timeout = d;
        self
    }

    /// Timeout for connecting. Default 10 s. Not used with
    /// [`SlackClientBuilder::http_client`].
    pub fn connect_timeout(mut self, d: Duration) -> SlackClientBuilder {
        self.connect_timeout = d;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> SlackClientBuilder {
        self.retry = policy;
        self
    }

    /// At most `n` requests per minute from this client and the clients derived from it
    /// (clones, [`SlackClient::with_token`]); `None`: no pacing. Default 20, Slack's Tier 2
    /// rate for `users.setPhoto`.
    pub fn requests_per_minute(mut self, n: Option<u32>) -> SlackClientBuilder {
        self.pacing = n.map(Pacing::per_minute).transpose();
        self
    }

    /// Shares a request budget with other clients built separately (all under the same
    /// app's Tier 2 limit). Default: a budget of 20 per minute of this client's own.
    pub fn pacing(mut self, pacing: Pacing) -> SlackClientBuilder {
        self.pacing = Ok(Some(pacing));
        self
    }

    /// Called before each retry (for logs or progress). Never sees the token. Default none.
    pub fn on_retry(
        mut self,
        hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static,
    ) -> SlackClientBuilder {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Sends through this `reqwest::Client` and its connection pool instead of building
    /// one: an application that already has a client shares its pool (and TLS setup) with
    /// Slack's calls, and clients built per user token reuse the same connections. Its own
    /// timeouts, proxy and user agent apply; [`SlackClientBuilder::timeout`] and
    /// [`SlackClientBuilder::connect_timeout`] do not. Default: a new client.
    ///
    /// ```no_run
    /// # fn run(user_tokens: &[&str]) -> Result<(), avatar_upload::UploadError> {
    /// use avatar_upload::{Pacing, SlackClient};
    /// // Once, at start-up.
    /// let http = reqwest::Client::new();
    /// let budget = Pacing::per_minute(20)?;
    /// // Per request, for the user who made it: no new pool, one shared budget.
    /// for token in user_tokens {
    ///     let client = SlackClient::builder(*token)
    ///         .http_client(http.clone())
    ///         .pacing(budget.clone())
    ///         .build()?;
    ///     # let _ = client;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> SlackClientBuilder {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds the client. Fails on a refused token
    /// ([`UploadError::InvalidToken`]), a base URL that is not http(s) or a zero pacing rate
    /// ([`UploadError::InvalidRequest`]), or an HTTP client that cannot be set up
    /// ([`UploadError::HttpClient`]).
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
                .map_err(UploadError::http_client)?,
        };
        Ok(SlackClient {
            shared: Arc::new(Shared {
                http,
                base_url: self.base_url,
                retry: self.retry,
                pacer,
                on_retry: self.on_retry,
            }),
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_never_print_their_token() {
        let client = SlackClient::builder("xoxp-123-secret").build().unwrap();
        let other = client.with_token("xoxp-456-hidden").unwrap();
        for shown in [format!("{client:?}"), format!("{other:?}")] {
            assert!(
                !shown.contains("secret") && !shown.contains("hidden"),
                "{shown}"
            );
            assert!(shown.contains("REDACTED"), "{shown}");
        }
        assert!(matches!(
            client.with_token("xoxb-bot"),
            Err(UploadError::InvalidToken { .. })
        ));
    }

    #[test]
    fn with_token_shares_everything_but_the_token() {
        let a = SlackClient::builder("xoxp-a")
            .base_url("http://127.0.0.1:9/api")
            .requests_per_minute(Some(30))
            .build()
            .unwrap();
        let b = a.with_token("xoxp-b").unwrap();
        assert!(Arc::ptr_eq(&a.shared, &b.shared));
        assert_eq!(b.base_url(), "http://127.0.0.1:9/api/");
        assert_eq!(b.token.expose(), "xoxp-b");
        assert_eq!(a.token.expose(), "xoxp-a");
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
}
