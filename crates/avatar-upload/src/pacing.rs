//! [`Pacing`]: a request budget shared by clients.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::UploadError;

/// A request budget: at most N requests per minute, shared by every client built with it
/// and their clones (Slack's limits are per app and workspace, not per token, so a batch that
/// uploads for many users shares one `Pacing`). Cheap to clone.
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

    /// Waits until this request's slot: the first caller goes at once, each next one an
    /// interval after the slot before it.
    pub(crate) async fn wait_turn(&self) {
        let slot = {
            let mut next = self.0.next.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(t) if t > now => t,
                _ => now,
            };
            *next = Some(slot + self.0.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}
