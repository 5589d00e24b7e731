//! dns-audit: audit live authoritative DNS against versioned zone files.

pub mod config;
pub mod error;
pub mod escape;
pub mod model;
pub mod zonefile;
