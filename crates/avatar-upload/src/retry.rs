//! [`RetryPolicy`]: when and how often a failed request is sent again.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{SlackErrorCode, UploadError};

/// When and how often a failed request is tried again.
///
/// Rate limits wait what Slack asks (`Retry-After`). Other transient failures (5xx,
/// transport errors, `internal_error`…) back off exponentially with *equal jitter*: the wait
/// before retry *n* is `min(base_backoff × 2ⁿ, max_backoff)`, half of it fixed and half
/// random, so it falls in `[exp/2, exp]`. The fixed half keeps a lone client (the usual
/// case: one CLI run) from retrying a struggling server at once; the random half spreads a
/// fleet of clients apart.
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
    /// each retry, with equal jitter (see above). Default 500 ms.
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
    pub(crate) fn wait_for(&self, retry: u32, error: &UploadError) -> Duration {
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
                equal_jitter(exp)
            }
        }
    }
}

/// Equal jitter: half of `exp` fixed, the other half uniformly random (to the millisecond).
fn equal_jitter(exp: Duration) -> Duration {
    let ms = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX);
    let half = ms / 2;
    Duration::from_millis(half + fastrand::u64(0..=ms - half))
}

/// What happened before a retry: given to the hook set with
/// [`SlackClientBuilder::on_retry`](crate::SlackClientBuilder::on_retry).
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

/// The hook called before each retry.
pub(crate) type RetryHook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_has_equal_jitter() {
        fastrand::seed(15);
        let p =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(400));
        let e = UploadError::Http {
            status: 500,
            body: String::new(),
        };
        for (retry, exp) in [(0u32, 100u64), (1, 200), (2, 400), (5, 400), (40, 400)] {
            let waits: Vec<u64> = (0..400)
                .map(|_| p.wait_for(retry, &e).as_millis() as u64)
                .collect();
            let (lo, hi) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
            // Equal jitter: never below half the exponential step, never above it...
            assert!(*lo >= exp / 2 && *hi <= exp, "retry {retry}: {lo}..{hi} ms");
            // ...and spread over that whole half, not a constant (full jitter would go
            // down to 0, a fixed backoff would not spread at all).
            assert!(*lo < exp / 2 + exp / 10, "retry {retry}: lowest {lo} ms");
            assert!(*hi > exp - exp / 10, "retry {retry}: highest {hi} ms");
        }
    }

    #[test]
    fn rate_limits_wait_what_slack_asks() {
        let p = RetryPolicy::default().default_retry_after(Duration::from_secs(9));
        let rl = UploadError::RateLimited {
            retry_after: Duration::from_secs(7),
        };
        assert_eq!(p.wait_for(0, &rl), Duration::from_secs(7));
        let code = UploadError::Slack {
            code: SlackErrorCode::Ratelimited,
            needed: None,
            provided: None,
            warnings: vec![],
        };
        assert_eq!(p.wait_for(2, &code), Duration::from_secs(9));
    }

    #[test]
    fn odd_milliseconds_stay_in_range() {
        for ms in [0u64, 1, 3, 999] {
            for _ in 0..50 {
                let w = equal_jitter(Duration::from_millis(ms)).as_millis() as u64;
                assert!(w >= ms / 2 && w <= ms, "{ms}: {w}");
            }
        }
    }
}
