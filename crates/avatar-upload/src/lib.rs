//! Async client for Slack's `users.setPhoto` and `users.deletePhoto`.
//!
//! **Not implemented yet**: this crate is a placeholder in the workspace so that its place
//! and its rules are fixed. It will provide `SlackClient::builder(token)…build()`,
//! `client.set_photo(&photo).await` and `client.delete_photo().await`, with typed Slack
//! error codes, `Retry-After` handling, bounded retries, client-side pacing and a token type
//! that never prints itself. It will not depend on `avatar-prep`: the `avatar` CLI converts
//! between the two.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
