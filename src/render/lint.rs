//! Renderers of a lint report: human, JSON, GitHub workflow commands, SARIF 2.1.0. Every text
//! from a zone file is escaped for its medium.

use std::fmt::Write;

use crate::lint::conventions::{Naming, SerialPolicy};
use crate::lint::{Level, LintFinding, LintReport};

/// One line per finding (`file:line: error[check]: message`), then a summary.
pub fn human(report: &LintReport, colour: bool, explain: bool) -> String {
    let mut out = String::new();
    // Per file, at most SHOWN_PER_FILE findings of each check on a terminal; the rest counted.
    use crate::lint::Check;
    let mut shown: std::collections::HashMap<(&str, Check), usize> = Default::default();
    let mut hidden: std::collections::BTreeMap<(&str, Check), usize> = Default::default();
    for f in &report.findings {
        let count = shown.entry((f.file.as_str(), f.check)).or_default();
        *count += 1;
        if *count > crate::error::SHOWN_PER_FILE {
            *hidden.entry((f.file.as_str(), f.check)).or_default() += 1;
            continue;
        }
        out.push_str(&finding_line(f, colour));
    }
    for ((file, check), more) in hidden {
        let file = crate::escape::terminal(file);
        let _ = writeln!(
            out,
            "{file}: and {more} more [{check}] findings in this file (--format json lists all)"
        );
    }
    if explain {
        out.push_str(&conventions(report));
    }
    let base = report.base.as_deref().map_or_else(
        || "no base".to_string(),
        |b| format!("base {}", b.get(..12).unwrap_or(b)),
    );
    let _ = writeln!(
        out,
        "lint: {}, {} ({base})",
        crate::report::plural(report.errors, "error"),
        crate::report::plural(report.warnings, "warning")
    );
    out
}

/// `file:line:col: error[check]: message`, what it resembles, the slip marked, the waiver;
/// with its newline.
fn finding_line(f: &LintFinding, colour: bool) -> String {
    let (code, word) = match f.level {
        Level::Error => ("1;31", "error"),
        Level::Warning => ("33", "warning"),
    };
    let word = super::paint(colour, code, word);
    let place = match (f.line, f.column) {
        (0, _) => f.file.clone(),
        (l, 0) => format!("{}:{l}", f.file),
        (l, c) => format!("{}:{l}:{c}", f.file),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "{}: {word}[{}]: {}",
        crate::escape::terminal(&place),
        f.check,
        crate::escape::terminal(&f.message)
    );
    if let Some(like) = &f.resembles {
        let _ = write!(out, " (resembles: {})", crate::escape::terminal(like));
    }
    if let Some(slip) = &f.slip {
        let _ = write!(
            out,
            ": {}",
            super::slip(&slip.intended, &slip.typed, colour)
        );
    }
    if let Some(reason) = &f.waived {
        let _ = write!(out, " [waived: {}]", crate::escape::terminal(reason));
    }
    out.push('\n');
    out
}

/// How lint read each zone (`lint --explain`): who raises its serial and how it names hosts,
/// with the evidence, so a reader can see why a check is on, softened or off.
pub fn conventions(report: &LintReport) -> String {
    let mut out = format!(
        "how lint reads each zone (set `serials` = \"by-hand\"/\"managed\" or `naming` = \"numbered\"/\"words\" in {} to override):\n",
        crate::config::CONFIG_FILE
    );
    for zone in &report.conventions {
        let serials = match zone.serials.value {
            SerialPolicy::ByHand => "by hand: a change without a new serial is an error",
            SerialPolicy::Usually => "usually by hand: a change without a new serial is a warning",
            SerialPolicy::Managed => "managed elsewhere: serial-not-raised is off",
        };
        let naming = match zone.naming.value {
            Naming::Numbered => "numbered series: a new host out of its series is an error",
            Naming::Words => {
                "words: a near miss is an error only for a slip of the hand, else a warning"
            }
            Naming::Reverse => "reverse: names are not judged by spelling",
        };
        let _ = writeln!(
            out,
            "  {}\n    serials {serials} ({})\n    names {naming} ({})",
            crate::escape::terminal(&zone.zone),
            crate::escape::terminal(&zone.serials.why),
            crate::escape::terminal(&zone.naming.why)
        );
    }
    out
}

/// The report as JSON (schema `dns-audit.lint/1`).
pub fn json(report: &LintReport) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}

/// Escapes the message of a workflow command (`%`, CR, LF), so nothing can end the command or
/// start another line.
pub(crate) fn github_data(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            // Line ends are the command's own escape; other controls (ESC, BEL) and bidi
            // characters never reach the log raw.
            '\r' | '\n' => safe.push(ch),
            _ if crate::escape::is_unsafe(ch) => {
                safe.push_str(&crate::escape::terminal(&ch.to_string()))
            }
            _ => safe.push(ch),
        }
    }
    safe.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command: as data, plus `:` and `,`.
pub(crate) fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: an annotation per finding on the pull request.
pub fn github(report: &LintReport) -> String {
    let mut out = String::new();
    for f in report.findings.iter().filter(|f| f.waived.is_none()) {
        let level = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut props = vec![format!("file={}", github_property(&f.file))];
        if f.line > 0 {
            props.push(format!("line={}", f.line));
        }
        if f.column > 0 {
            props.push(format!("col={}", f.column));
        }
        props.push(format!(
            "title={}",
            github_property(&format!("dns-audit {}", f.check))
        ));
        let mut message = crate::escape::terminal(&f.message);
        if let Some(like) = &f.resembles {
            message.push_str(&format!(" (resembles: {})", crate::escape::terminal(like)));
        }
        if let Some(slip) = &f.slip {
            message.push_str(&format!(
                ": {}",
                super::slip(&slip.intended, &slip.typed, false)
            ));
        }
        let _ = writeln!(
            out,
            "::{level} {}::{}",
            props.join(","),
            github_data(&message)
        );
    }
    let _ = writeln!(
        out,
        "dns-audit lint: {}, {}",
        crate::report::plural(report.errors, "error"),
        crate::report::plural(report.warnings, "warning")
    );
    out
}

/// SARIF 2.1.0 for code scanning.
pub fn sarif(report: &LintReport) -> String {
    let mut rules: Vec<crate::lint::Check> = report.findings.iter().map(|f| f.check).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| sarif_result(f, report.root.as_deref()))
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "dns-audit",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| serde_json::json!({
                    "id": r,
                    "name": r,
                    "shortDescription": { "text": r.description() },
                    "fullDescription": { "text": r.description() }
                })).collect::<Vec<_>>()
            }},
            "results": results
        }]
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// A finding's file as a URI relative to the repository root (`%SRCROOT%`), as code scanning
/// places it on the pull request. Lint names files relative to the root already
/// (`lint::run`); an absolute path lies outside the repository and is given as it is.
fn repository_uri(file: &str, root: Option<&std::path::Path>) -> (String, bool) {
    let in_repository = root.is_some() && std::path::Path::new(file).is_relative();
    (file.to_string(), in_repository)
}

fn sarif_result(f: &LintFinding, root: Option<&std::path::Path>) -> serde_json::Value {
    let mut region = serde_json::json!({ "startLine": f.line.max(1) });
    if f.column > 0 {
        region["startColumn"] = serde_json::json!(f.column);
    }
    let (uri, in_repository) = repository_uri(&f.file, root);
    let mut artifact = serde_json::json!({ "uri": uri });
    if in_repository {
        artifact["uriBaseId"] = serde_json::json!("%SRCROOT%");
    }
    let mut result = serde_json::json!({
        "ruleId": f.check,
        "level": match f.level { Level::Error => "error", Level::Warning => "warning" },
        "message": { "text": crate::escape::terminal(&f.message) },
        "locations": [{ "physicalLocation": {
            "artifactLocation": artifact,
            "region": region
        }}]
    });
    if let Some(reason) = &f.waived {
        result["suppressions"] =
            serde_json::json!([{ "kind": "external", "justification": reason }]);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_cannot_be_injected() {
        let data = github_data("x\n::error::pwned %0A");
        assert!(
            !data.contains('\n') && data.contains("%0A::error::pwned %250A"),
            "{data}"
        );
        assert_eq!(github_property("a:b,c"), "a%3Ab%2Cc");
        // ESC and BEL from a path, and a bidi override, never reach the log raw.
        let file = github_property("x\x1b[2J\x07\u{202E}.zone");
        assert!(!file.contains(['\x1b', '\x07', '\u{202E}']), "{file}");
        assert!(file.starts_with("x\\027[2J\\007"), "{file}");
    }
}
