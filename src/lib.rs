//! dns-audit: audit live authoritative DNS against versioned zone files.

pub mod check;
pub mod compare;
pub mod config;
pub mod demo;
pub mod error;
pub mod escape;
pub mod model;
pub mod observe;
pub mod render;
pub mod report;
pub mod server;
pub mod transport;
pub mod zonefile;
