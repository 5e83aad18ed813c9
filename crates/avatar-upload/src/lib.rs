//! A correct, resilient async client for Slack's `users.setPhoto` and `users.deletePhoto`.
//!
//! ```no_run
//! # async fn run() -> Result<(), avatar_upload::UploadError> {
//! let client = avatar_upload::SlackClient::builder(std::env::var("SLACK_TOKEN").unwrap()).build()?;
//! let photo = avatar_upload::Photo::new(std::fs::read("avatar.jpg").unwrap())?.crop(0, 0, 512)?;
//! let done = client.set_photo(&photo).await?;
//! # Ok(()) }
//! ```
//!
//! What it sends, as Slack documents it: `POST {base}users.setPhoto`, `multipart/form-data`,
//! the token only as `Authorization: Bearer …`, one `image` part with a plain file name and the
//! Content-Type of the actual bytes (`image/jpeg`, `image/png`, `image/gif`), and the text parts
//! `crop_x`, `crop_y`, `crop_w` only all three together. `users.deletePhoto` is a POST with no
//! arguments.
//!
//! What it does with the answer:
//! - `{"ok": true}` → [`SetPhotoResponse`] with the new [`Profile`] (`avatar_hash`,
//!   `image_24`…`image_1024`, `image_original`) and Slack's warnings.
//! - `{"ok": false, "error": code}` → [`UploadError::Slack`] with a [`SlackErrorCode`]
//!   (every documented code, plus `Other` for new ones).
//! - HTTP 429 → waits `Retry-After` seconds (30 s when missing or not a number) and retries;
//!   5xx, transport failures and `internal_error`/`fatal_error`/`service_unavailable`/
//!   `request_timeout` → exponential backoff with jitter. Both bounded by [`RetryPolicy`]
//!   (3 retries, 120 s of waiting in total). Caller errors (`bad_image`, `invalid_auth`…) are
//!   never retried. The multipart body is built once: a retry sends identical bytes.
//! - Requests are paced to 20 per minute per client by default (Tier 2), so a batch rarely
//!   meets a 429.
//!
//! The token is a [`Token`]: `Debug` shows `Token([REDACTED])`, it appears in no error or log,
//! and a bot token (`xoxb-`) is refused before any request, since only user tokens may change
//! a profile photo. TLS is rustls (ring); no OpenSSL is needed.
//!
//! Examples (run with `cargo run -p avatar-upload --example NAME`):
//! [`set_and_delete`](https://github.com/avatar-pipeline/avatar/blob/main/crates/avatar-upload/examples/set_and_delete.rs)
//! sets and deletes a photo against `SLACK_API_URL` with a retry hook that logs each wait;
//! `examples/avatar-service` at the repository root embeds this crate in an axum service,
//! one shared `reqwest::Client` ([`SlackClientBuilder::http_client`]) and a client per
//! user token.
//!
//! This crate knows nothing about image decoding: prepare the image with `avatar-prep` first.
//! The base URL is explicit ([`SlackClientBuilder::base_url`]); the `avatar` CLI reads it from
//! `SLACK_API_URL`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
mod error;
mod photo;
mod response;

pub use client::{
    Pacing, RetryEvent, RetryPolicy, SlackClient, SlackClientBuilder, Token, GOV_SLACK_API_URL,
    SLACK_API_URL,
};
pub use error::{SlackErrorCode, TransportKind, UploadError};
pub use photo::{sniff_content_type, Crop, Photo};
pub use response::{DeletePhotoResponse, Profile, SetPhotoResponse};
