//! Renderers: each formats a finished [`Report`](crate::report::Report) for one medium.

pub mod human;
pub mod json;
pub mod lint;
pub mod prometheus;
pub mod zone;

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Grouped per zone and host, for people.
    Human,
    /// The versioned JSON schema, for machines.
    Json,
    /// Prometheus text format (node_exporter textfile collector).
    Prometheus,
}
