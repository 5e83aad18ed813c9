//! Criterion benchmarks for the avatar workspace: `cargo bench -p avatar-benches`.
//!
//! The benches live in `prepare.rs`; inputs are generated in code once, outside the timed
//! loops (see `avatar-tests`).
