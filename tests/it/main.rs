//! The one integration-test binary of the workspace (see `tests/README.md`).

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing.

mod alloc;
mod animation;
#[cfg(feature = "avif")]
mod avif;
mod corpus;
mod damaged;
mod error_chains;
mod formats;
#[cfg(feature = "heic")]
mod heic;
#[cfg(any(feature = "heic", feature = "avif"))]
mod heif_fixtures;
mod house;
mod limits;
mod lossless;
mod passthrough;
mod quality;
mod regressions;
mod still;
mod upload;
