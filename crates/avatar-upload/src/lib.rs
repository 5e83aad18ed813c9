//! A correct, resilient async client for Slack's `users.setPhoto` and `users.deletePhoto`.
//!
//! ```no_run
//! # async fn run() -> Result<(), avatar_upload::UploadError> {
//! use avatar_upload::{Crop, Photo, SlackClient};
//!
//! let client = SlackClient::builder(std::env::var("SLACK_TOKEN").unwrap()).build()?;
//! let photo = Photo::new(std::fs::read("avatar.jpg").unwrap())?.crop(Crop::new(0, 0, 512)?);
//! let done = client.set_photo(&photo).await?;
//! # Ok(()) }
//! ```
//!
//! The main types: [`SlackClient`] (built by [`SlackClientBuilder`]), [`Photo`] (bytes, their
//! [`Mime`] type, an optional [`Crop`]), [`UploadError`] with [`SlackErrorCode`], and
//! [`RetryPolicy`] / [`Pacing`] for how it behaves under failures and rate limits.
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
//!   `request_timeout` → exponential backoff with equal jitter. Both bounded by
//!   [`RetryPolicy`] (3 retries, 120 s of waiting in total). Caller errors (`bad_image`,
//!   `invalid_auth`…) are never retried. The multipart body is built once: a retry sends
//!   identical bytes.
//! - Requests are paced to 20 per minute per client by default (Tier 2), so a batch rarely
//!   meets a 429.
//!
//! Errors keep what caused them as their [`source`](std::error::Error::source) (the reqwest or
//! JSON error, boxed) and never repeat it in their own message: print the chain.
//!
//! # Many users, one connection pool
//! A batch or a service that sets photos for many users should not build a connection pool
//! per user. [`SlackClient::with_token`] derives a client for another token from an existing
//! one (same pool, base URL, retry policy, pacing and hook);
//! [`SlackClientBuilder::http_client`] builds a client on a `reqwest::Client` the application
//! already has, and [`SlackClientBuilder::pacing`] shares one request budget.
//!
//! # Tokens
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
//! # Features
//! This crate has no optional features.
//!
//! This crate knows nothing about image decoding: prepare the image with `avatar-prep` first.
//! The base URL is explicit ([`SlackClientBuilder::base_url`]); the `avatar` CLI reads it from
//! `SLACK_API_URL`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

mod client;
mod error;
mod pacing;
mod photo;
mod response;
mod retry;
mod token;

pub use client::{SlackClient, SlackClientBuilder, GOV_SLACK_API_URL, SLACK_API_URL};
pub use error::{SlackErrorCode, TransportKind, UploadError};
pub use pacing::Pacing;
pub use photo::{Crop, Mime, Photo};
pub use response::{DeletePhotoResponse, Profile, SetPhotoResponse};
pub use retry::{RetryEvent, RetryPolicy};
pub use token::Token;

/// The README's example, compiled by `cargo test --doc`.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
