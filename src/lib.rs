//! dns-audit: audit live authoritative DNS against versioned zone files.
//!
//! Data flows one way: load (zone files, config) → observe (ask every server) → compare
//! (expected with observed) → judge (the report) → render. The modules below are listed by
//! layer, and the rule is: **a module uses only modules listed above it** (`tests/it/layering.rs`
//! reads the `crate::` paths of every file and fails on a use that points down or round).
//! So `config` is a leaf of the input layer and knows nothing of its consumers, the history
//! store knows observations but not the judge, and renderers only format a finished report.

// No unwrap or expect outside tests: a panic is never the answer to a bad zone file, packet or
// store (clippy.toml lets tests unwrap).
#![warn(clippy::unwrap_used, clippy::expect_used)]

// Foundation: text, the record model and pure differences; small I/O pieces every layer may use.
pub mod exit;
pub mod escape;
pub mod hash;
pub mod typo;
pub mod model;
pub mod diff;
pub mod files;
pub mod lock;
pub mod git;
pub mod progress;

// Input: what the user wrote, read as BIND reads it, with errors at file:line:column.
pub mod zonefile;
pub mod error;
pub mod config;
pub mod expected;

// The audit, in data-flow order; then the judge of proposed changes and the side channels.
pub mod transport;
pub mod resolvers;
pub mod observe;
pub mod dnssec;
pub mod report;
pub mod compare;
pub mod lint;
pub mod history;
pub mod notify;
pub mod recent;

// Renderers: each formats a finished report for one medium.
pub mod render;

// Subcommands, and the loopback authoritative server of the demo and the tests.
pub mod check;
pub mod recent_command;
pub mod show;
pub mod import;
pub mod server;
pub mod demo;
