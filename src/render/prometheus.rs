//! The report in the Prometheus text exposition format, for node_exporter's textfile collector.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::report::{Report, ServerReport, Verdict};

/// Escapes a label value: backslash, double quote and line feed (the format's three escapes);
/// other control characters become `\DDD` so a metric line stays one line.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&crate::escape::terminal(&c.to_string())),
            c => out.push(c),
        }
    }
    out
}

/// Metrics in the text format, one gauge after another.
#[derive(Default)]
struct Metrics(String);

impl Metrics {
    /// One gauge with its help line and its samples (labels, value).
    fn gauge(&mut self, name: &str, help: &str, samples: Vec<(String, String)>) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in samples {
            if labels.is_empty() {
                let _ = writeln!(self.0, "{name} {value}");
            } else {
                let _ = writeln!(self.0, "{name}{{{labels}}} {value}");
            }
        }
    }

    /// One gauge with a single unlabelled value.
    fn value(&mut self, name: &str, help: &str, value: String) {
        self.gauge(name, help, vec![(String::new(), value)]);
    }
}

/// Renders the metrics of one run. `now` is the run's start, seconds since 1970.
pub fn render(report: &Report, now: i64) -> String {
    let mut metrics = Metrics::default();
    metrics.gauge(
        "dns_audit_findings",
        "Findings of the last run by zone, host, kind and severity.",
        finding_counts(report),
    );
    metrics.gauge(
        "dns_audit_server_up",
        "1 when the server answered for the zone in the last run, else 0.",
        per_server(report, &|s| Some(u8::from(s.answered()).to_string())),
    );
    metrics.gauge(
        "dns_audit_soa_serial",
        "SOA serial each server served in the last run.",
        per_server(report, &|s| s.serial.map(|n| n.to_string())),
    );
    let stale = stale_answers(report);
    if !stale.is_empty() {
        metrics.gauge(
            "dns_audit_resolver_stale_answers",
            "Answers a recursive resolver still serves from before a fix (other data, or a negative answer), by zone and resolver; 0 for a resolver that serves what is expected.",
            stale,
        );
    }
    let drift = u8::from(report.verdict == Verdict::Drift);
    metrics.value(
        "dns_audit_drift",
        "1 when the last run found drift, else 0.",
        drift.to_string(),
    );
    metrics.value(
        "dns_audit_exit_code",
        "Exit code of the last run (0 clean, 1 drift, 3 incomplete).",
        report.exit_code.to_string(),
    );
    metrics.value(
        "dns_audit_run_duration_seconds",
        "How long the last run took.",
        format!("{:.3}", report.duration_ms as f64 / 1000.0),
    );
    metrics.value(
        "dns_audit_run_success",
        "1 when the last run audited (whatever it found), 0 when it could not (bad zone file or config, another run holding the lock).",
        "1".into(),
    );
    metrics.value(
        "dns_audit_last_run_timestamp_seconds",
        "When the last run started, seconds since 1970.",
        now.to_string(),
    );
    metrics.0
}

/// Findings counted by zone, host, kind and severity.
fn finding_counts(report: &Report) -> Vec<(String, String)> {
    let mut counts: BTreeMap<(&str, &str, &str, &str), u64> = BTreeMap::new();
    for zone in &report.zones {
        let all = zone
            .hosts
            .iter()
            .flat_map(|h| &h.findings)
            .chain(&zone.server_findings);
        for f in all {
            let key = (
                zone.zone.as_str(),
                f.host.as_str(),
                f.kind.as_str(),
                f.severity.as_str(),
            );
            *counts.entry(key).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((zone, host, kind, severity), n)| {
            let labels = format!(
                "zone=\"{}\",host=\"{}\",kind=\"{}\",severity=\"{}\"",
                label(zone),
                label(host),
                label(kind),
                label(severity)
            );
            (labels, n.to_string())
        })
        .collect()
}

/// Stale answers counted by zone and resolver, every resolver asked included (a resolver that
/// did not answer has no sample: its failure is in dns_audit_findings).
fn stale_answers(report: &Report) -> Vec<(String, String)> {
    use crate::resolvers::Seen;
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for zone in &report.zones {
        for answer in &zone.resolvers {
            let count = counts
                .entry((zone.zone.as_str(), answer.resolver.as_str()))
                .or_default();
            *count += u64::from(matches!(
                answer.seen,
                Seen::Stale { .. } | Seen::Negative { .. }
            ));
        }
    }
    counts
        .into_iter()
        .map(|((zone, resolver), n)| {
            let labels = format!("zone=\"{}\",resolver=\"{}\"", label(zone), label(resolver));
            (labels, n.to_string())
        })
        .collect()
}

/// One sample per server of each zone, where `value` gives one.
fn per_server(
    report: &Report,
    value: &dyn Fn(&ServerReport) -> Option<String>,
) -> Vec<(String, String)> {
    report
        .zones
        .iter()
        .flat_map(|z| z.servers.iter().map(move |s| (z, s)))
        .filter_map(|(z, s)| {
            let value = value(s)?;
            let labels = format!(
                "zone=\"{}\",server=\"{}\",address=\"{}\"",
                label(&z.zone),
                label(&s.name),
                label(&s.address)
            );
            Some((labels, value))
        })
        .collect()
}

/// The metrics of a run that audited nothing (exit 2: a broken zone file or config; exit 4:
/// another run holds the lock), so an alert fires on the next scrape instead of the old
/// metrics standing for 30 minutes. `now` is seconds since 1970.
pub fn render_failed_run(exit_code: i32, now: i64) -> String {
    format!(
        "# HELP dns_audit_run_success 1 when the last run audited (whatever it found), 0 when it could not (bad zone file or config, another run holding the lock).\n\
         # TYPE dns_audit_run_success gauge\ndns_audit_run_success 0\n\
         # HELP dns_audit_exit_code Exit code of the last run (0 clean, 1 drift, 2 bad input, 3 incomplete, 4 locked).\n\
         # TYPE dns_audit_exit_code gauge\ndns_audit_exit_code {exit_code}\n\
         # HELP dns_audit_last_run_timestamp_seconds When the last run started, seconds since 1970.\n\
         # TYPE dns_audit_last_run_timestamp_seconds gauge\ndns_audit_last_run_timestamp_seconds {now}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_cannot_break_a_line() {
        assert_eq!(label("a\"b\\c\nd\re"), "a\\\"b\\\\c\\nd\\013e");
    }
}
