//! JSON rendering of a report (schema `dns-audit.check/1`, see docs/json-schema.md).

use crate::report::Report;

/// The report as pretty-printed JSON with a trailing newline. serde_json escapes every control
/// character, so the output is valid JSON whatever the DNS data held.
pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise report: {e}\"}}"));
    out.push('\n');
    out
}
