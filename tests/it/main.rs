//! The one integration-test binary of the workspace (see `tests/README.md`).

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing.

mod alloc;
mod animation;
mod corpus;
mod damaged;
mod formats;
#[cfg(feature = "heic")]
mod heic;
mod limits;
mod lossless;
mod passthrough;
mod regressions;
mod still;
mod upload;
