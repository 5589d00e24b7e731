//! dns-audit: audit live authoritative DNS against versioned zone files.

pub mod check;
pub mod compare;
pub mod config;
pub mod demo;
pub mod diff;
pub mod error;
pub mod escape;
pub mod files;
pub mod git;
pub mod history;
pub mod import;
pub mod lint;
pub mod lock;
pub mod model;
pub mod notify;
pub mod observe;
pub mod recent;
pub mod render;
pub mod report;
pub mod server;
pub mod show;
pub mod transport;
pub mod zonefile;
