//! Renderers: each formats a finished [`Report`](crate::report::Report) for one medium.

pub mod human;
pub mod json;
pub mod lint;
pub mod prometheus;
pub mod recent;
pub mod zone;

use crate::diff::{slips, Piece};
use crate::escape::terminal;

/// `text` in an ANSI colour (`code`, e.g. `1;31`) when `colour`, else as it is.
pub(crate) fn paint(colour: bool, code: &str, text: &str) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `typed` over the value it resembles, with each slip marked `[intended→typed]`:
/// `203.0.113.1[7→8]`. Escaped for a terminal; the marks in colour when `colour`. The one way
/// `check`, `recent` and `lint` show a slip.
pub fn slip(intended: &str, typed: &str, colour: bool) -> String {
    slips(intended, typed)
        .iter()
        .map(|piece| match piece {
            Piece::Same(same) => terminal(same),
            Piece::Slip { intended, typed } => format!(
                "[{}→{}]",
                paint(colour, "31", &terminal(intended)),
                paint(colour, "1;32", &terminal(typed))
            ),
        })
        .collect()
}

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
