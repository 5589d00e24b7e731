//! The integration tests, one binary with a module per area (as ripgrep's `tests/tests.rs`):
//! one link of the crate and its dependencies instead of one per file, which was most of a cold
//! `cargo test`.

mod common;

mod big_zone;
mod chain;
mod check;
mod cli;
mod conformance;
mod golden;
mod import;
mod layering;
mod lint;
mod lint_quality;
mod nsd;
mod recent;
mod resolvers;
mod scale;
mod scheduled;
mod servers;
mod transfers;
mod zonefiles;
