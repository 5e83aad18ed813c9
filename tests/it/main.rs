//! The one integration-test binary of the workspace (see `tests/README.md`).

mod alloc;
mod corpus;
mod limits;
mod still;
