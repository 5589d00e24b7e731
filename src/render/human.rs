//! The human report: per zone, its servers, then one line per host with findings, worst first.
//!
//! ```text
//! bots.example.net.  serial 2026112401  2 servers ok  21 hosts
//!   bh17   DRIFT  A 203.0.113.1[7→8] not expected (seen on ns1, ns2), for 42 min
//! DRIFT  1 host drifted · 0 failed · 0 warnings · 21 hosts, 372 queries in 0.04 s
//! ```
//!
//! Every string in a report is already escaped for a terminal; this module adds only layout
//! and, when asked, ANSI colour.

use std::fmt::Write;

use crate::report::{plural, Finding, Kind, Report, Severity, Verdict};

/// Layout options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// ANSI colour (only on a terminal, and never with NO_COLOR).
    pub colour: bool,
    /// Print drift and failure findings only; nothing at all when the run is clean.
    pub quiet: bool,
    /// One line per finding, even where many hosts have the same one (`--verbose`).
    pub expand: bool,
}

/// Hosts with the same finding from which it is told once, with a count and the first names.
const GROUP_AT: usize = 4;
/// Names shown in a grouped line.
const GROUP_NAMES: usize = 3;

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        super::paint(self.colour, code, text)
    }

    fn severity(&self, severity: Severity) -> String {
        match severity {
            Severity::Drift => self.paint("1;31", "DRIFT "),
            Severity::Failure => self.paint("1;35", "FAILED"),
            Severity::Warning => self.paint("33", "WARN  "),
        }
    }
}

/// Renders the whole report.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    // A blind spot is said even when all else is well, under --quiet too.
    let has_blind_spot = report
        .zones
        .iter()
        .any(|z| z.server_findings.iter().any(is_blind_spot));
    if style.quiet && report.verdict == Verdict::Clean && !has_blind_spot {
        return out;
    }
    let started = report
        .started_at
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second());
    for zone in &report.zones {
        out.push_str(&zone_lines(zone, style, started));
    }
    if !style.quiet {
        out.push_str(&summary_line(report, style));
        // With a history behind the findings, the story of the change is one command away.
        let recorded_drift = report.zones.iter().flat_map(|z| &z.hosts).any(|h| {
            h.findings
                .iter()
                .any(|f| f.severity == Severity::Drift && f.since.is_some())
        });
        if recorded_drift {
            out.push_str(
                "what changed, when, and whether a commit explains it: dns-audit recent\n",
            );
        }
    }
    out
}

/// One zone: its header, server findings, host lines, and (unless quiet) what matched.
fn zone_lines(zone: &crate::report::ZoneReport, style: Style, started: Option<i64>) -> String {
    let mut out = String::new();
    let shown = |f: &&Finding| !style.quiet || f.severity != Severity::Warning || is_blind_spot(f);
    // Under --quiet a zone keeps its header when it has something to say: a cron mail about
    // several zones names each.
    let says_something = zone.server_findings.iter().any(|f| shown(&f))
        || zone
            .hosts
            .iter()
            .any(|h| h.findings.iter().any(|f| shown(&f)));
    if !style.quiet || says_something {
        out.push_str(&header(zone, style));
    }
    let width = zone
        .hosts
        .iter()
        .map(|h| h.host.len())
        .chain(
            zone.server_findings
                .iter()
                .flat_map(|f| f.servers.iter().map(String::len)),
        )
        .max()
        .unwrap_or(4)
        .max(4);
    if !style.quiet {
        for server in zone.servers.iter().filter(|s| !s.instances.is_empty()) {
            let _ = writeln!(
                out,
                "  {}  answered as instance {} (NSID)",
                server.name,
                server.instances.join(", ")
            );
        }
    }
    for finding in zone.server_findings.iter().filter(shown) {
        let who = finding.servers.join(", ");
        let _ = writeln!(
            out,
            "  {who:<width$}  {}  {}: {}",
            style.severity(finding.severity),
            finding.kind.label(),
            finding.why
        );
    }
    let rows = host_rows(zone, &shown, started, style.colour);
    out.push_str(&host_lines(&rows, style, width));
    if !style.quiet {
        out.push_str(&matched_line(zone));
        out.push_str(&resolvers_fixed(zone));
        if let Some(scope) = &zone.resolver_scope {
            let _ = writeln!(out, "  resolvers: {scope}");
        }
    }
    out
}

/// How many expected hosts have no findings; a host nobody expected is not one of them.
fn matched_line(zone: &crate::report::ZoneReport) -> String {
    // What no server answered is not known to match.
    if !zone.servers.iter().any(|s| s.answered()) {
        return String::new();
    }
    let with_findings = zone.hosts.iter().filter(|h| h.expected).count();
    let unknown = match zone.hosts_unknown {
        0 => String::new(),
        n => format!(
            "  {} unknown: no server answered for {}\n",
            plural(n, "host"),
            if n == 1 { "it" } else { "them" }
        ),
    };
    let clean = zone
        .hosts_checked
        .saturating_sub(with_findings + zone.hosts_unknown);
    let matched = if clean > 0 && !zone.hosts.is_empty() {
        let other = if with_findings == 0 {
            "expected"
        } else {
            "other"
        };
        let verb = if clean == 1 { "matches" } else { "match" };
        let hosts = plural(clean, &format!("{other} host"));
        format!("  {hosts} {verb} expected-records\n")
    } else if zone.hosts.is_empty() && zone.server_findings.is_empty() && zone.hosts_unknown == 0 {
        "  every host matches expected-records on every server\n".to_string()
    } else {
        String::new()
    };
    format!("{unknown}{matched}")
}

/// The resolvers that serve every name they were asked about as expected: after a fix, the
/// line that says the world sees it too.
fn resolvers_fixed(zone: &crate::report::ZoneReport) -> String {
    use crate::resolvers::Seen;
    let mut asked: std::collections::BTreeMap<&str, (usize, bool)> = Default::default();
    for answer in &zone.resolvers {
        let entry = asked.entry(answer.resolver.as_str()).or_insert((0, true));
        entry.0 += 1;
        entry.1 &= answer.seen == Seen::Expected;
    }
    let mut out = String::new();
    for (resolver, (names, fixed)) in asked {
        if fixed {
            let which = if names == 1 {
                "1 RRset that drifts or was fixed lately"
            } else {
                "RRsets that drift or were fixed lately"
            };
            let count = if names == 1 {
                String::new()
            } else {
                format!("{names} ")
            };
            let _ = writeln!(
                out,
                "  {}  serves what is expected (asked about {count}{which})",
                crate::escape::terminal(resolver)
            );
        }
    }
    out
}

fn is_blind_spot(finding: &Finding) -> bool {
    finding.kind == Kind::TransferFailed
}

/// The zone's line: its name, the serial expected and what each server serves, how many servers
/// answered, how many hosts.
fn header(zone: &crate::report::ZoneReport, style: Style) -> String {
    let ok = zone.servers.iter().filter(|s| s.answered()).count();
    let served: Vec<(String, u32)> = zone
        .servers
        .iter()
        .filter_map(|s| Some((s.name.clone(), s.serial?)))
        .collect();
    let serial = match zone.expected_serial {
        None => "no SOA expected".to_string(),
        // No serial seen: nothing is known to be served, least of all the expected one.
        Some(expected) if served.is_empty() => format!("serial {expected} expected, none served"),
        Some(expected) if served.iter().all(|(_, s)| *s == expected) => {
            format!("serial {expected} expected and served")
        }
        Some(expected) => {
            let by: Vec<String> = served.iter().map(|(n, s)| format!("{n} {s}")).collect();
            format!("serial {expected} expected, served: {}", by.join(", "))
        }
    };
    format!(
        "{}  {serial}  {ok}/{} servers answered  {} hosts\n",
        style.paint("1", &zone.zone),
        zone.servers.len(),
        zone.hosts_checked
    )
}

/// Whether `finding` is a disagreement between servers that a drift line of the same RRset of
/// `host` already tells (which server serves what): not told again, nor counted in the
/// summary line; JSON keeps it.
fn retold(host: &crate::report::HostReport, finding: &Finding) -> bool {
    finding.kind == Kind::ServersDisagree
        && host.findings.iter().any(|d| {
            d.severity == Severity::Drift && d.name == finding.name && d.rtype == finding.rtype
        })
}

/// Each shown finding of each host as (host, severity, text). A disagreement that drift lines
/// of the same RRset already tell (which server serves what) is not told again; JSON keeps it.
fn host_rows<'r>(
    zone: &'r crate::report::ZoneReport,
    shown: &dyn Fn(&&Finding) -> bool,
    started: Option<i64>,
    colour: bool,
) -> Vec<(&'r str, Severity, String, Option<String>)> {
    let mut rows = Vec::new();
    for host in &zone.hosts {
        let retold = |f: &&Finding| retold(host, f);
        for finding in host
            .findings
            .iter()
            .filter(|f| shown(f))
            .filter(|f| !retold(f))
        {
            let text = format!(
                "{}{}{}",
                describe(finding, &zone.zone, colour),
                since(finding, started),
                cached(finding)
            );
            let fix = fix(finding, &zone.zone, zone.zone_file.as_deref());
            rows.push((host.host.as_str(), finding.severity, text, fix));
        }
    }
    rows
}

/// The host lines. The same finding on many hosts (an expired signature on every delegation
/// of the root) is one line with a count and the first names; JSON and --verbose keep all.
fn host_lines(
    rows: &[(&str, Severity, String, Option<String>)],
    style: Style,
    width: usize,
) -> String {
    let mut out = String::new();
    let mut hosts_of: std::collections::HashMap<(Severity, &str), Vec<&str>> = Default::default();
    for (host, severity, text, _) in rows {
        hosts_of
            .entry((*severity, text.as_str()))
            .or_default()
            .push(host);
    }
    let mut told: std::collections::HashSet<(Severity, &str)> = Default::default();
    let mut last_host = "";
    for (host, severity, text, fix) in rows {
        let key = (*severity, text.as_str());
        let hosts = &hosts_of[&key];
        if hosts.len() >= GROUP_AT && !style.expand {
            if told.insert(key) {
                let first = hosts[..GROUP_NAMES].join(", ");
                let more = hosts.len() - GROUP_NAMES;
                let _ = writeln!(
                    out,
                    "  {:<width$}  {}  {text}; {first} and {more} more",
                    format!("{} hosts", hosts.len()),
                    style.severity(*severity),
                );
            }
            continue;
        }
        let label = if *host == last_host { "" } else { *host };
        last_host = host;
        let _ = writeln!(
            out,
            "  {label:<width$}  {}  {text}",
            style.severity(*severity)
        );
        if let Some(fix) = fix {
            let _ = writeln!(out, "  {:<width$}          fix: {fix}", "");
        }
    }
    out
}

/// What on-call can do about a drift finding, in live terms and in expected-records terms.
fn fix(finding: &Finding, zone: &str, file: Option<&str>) -> Option<String> {
    if finding.severity != Severity::Drift {
        return None;
    }
    let name = relative(&finding.name, zone, "");
    let name = if name.is_empty() {
        "@".to_string()
    } else {
        name
    };
    let rtype = &finding.rtype;
    let on = finding.servers.join(", ");
    let file = file.unwrap_or("expected-records");
    let live = match finding.kind {
        Kind::WrongValue if finding.missing.is_empty() => format!(
            "remove {name} {rtype} {} from {on}",
            values(&finding.unexpected)
        ),
        Kind::WrongValue | Kind::MissingRrset => {
            format!("serve {name} {rtype} {} on {on}", values(&finding.expected))
        }
        Kind::ExtraType | Kind::UnexpectedName => format!("remove {name} {rtype} from {on}"),
        Kind::TtlDiffers => format!(
            "serve {name} {rtype} with TTL {} on {on}",
            values(&finding.expected)
        ),
        _ => return None,
    };
    let written = match finding.kind {
        Kind::MissingRrset => format!("if it is meant to go, remove it from {file} and commit"),
        Kind::TtlDiffers => format!("if the served TTL is meant, write it in {file} and commit"),
        _ => format!("if what is served is meant, write it in {file} and commit"),
    };
    Some(format!("{live}; or, {written}"))
}

/// The verdict and the counts, the whole run's time and when it ran (UTC).
fn summary_line(report: &Report, style: Style) -> String {
    let summary = &report.summary;
    // The warnings the lines above show: a retold disagreement is not one of them.
    let hosts = report.zones.iter().flat_map(|zone| &zone.hosts);
    let retold_warnings = hosts
        .flat_map(|host| host.findings.iter().filter(move |f| retold(host, f)))
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let warnings = summary.warnings.saturating_sub(retold_warnings);
    let verdict = match report.verdict {
        Verdict::Clean => style.paint("1;32", "CLEAN"),
        Verdict::Drift => style.paint("1;31", "DRIFT"),
        Verdict::Incomplete => style.paint("1;35", "INCOMPLETE"),
    };
    let when = report
        .started_at
        .parse::<jiff::Timestamp>()
        .map(|t| format!(", {}", t.strftime("%Y-%m-%d %H:%M:%S UTC")))
        .unwrap_or_default();
    let against = report
        .revision
        .as_deref()
        .map(|r| {
            format!(
                "\ncompared with expected-records: {}",
                crate::escape::terminal(r)
            )
        })
        .unwrap_or_default();
    format!(
        "{verdict}  {} drifted · {} failed · {} · {} in {}, {} queries in {:.2} s{when}{against}\n",
        plural(summary.hosts_drifted, "host"),
        summary.failures,
        plural(warnings, "warning"),
        plural(summary.hosts, "host"),
        plural(summary.zones, "zone"),
        summary.queries,
        report.duration_ms as f64 / 1000.0
    )
}

/// One finding in a line: what, and where it was seen.
fn describe(finding: &Finding, zone: &str, colour: bool) -> String {
    // A name nobody expected, one edit from one expected: the slip marked, even where the
    // host column already names it.
    let name = match &finding.resembles {
        Some(like) => super::slip(
            &relative(like, zone, ""),
            &relative(&finding.name, zone, ""),
            colour,
        ),
        None => relative(&finding.name, zone, &finding.host),
    };
    let subject = if name.is_empty() {
        finding.rtype.clone()
    } else {
        format!("{name} {}", finding.rtype)
    };
    let served = |list: &[String]| served_marked(finding, list, colour);
    let what = match finding.kind {
        Kind::WrongValue => match (finding.unexpected.is_empty(), finding.missing.is_empty()) {
            (false, true) => format!(
                "{subject} {} not expected",
                values(&served(&finding.unexpected))
            ),
            (true, false) => format!("{subject} {} missing", values(&finding.missing)),
            _ => format!(
                "{subject} {} instead of {}",
                values(&served(&finding.unexpected)),
                values(&finding.missing)
            ),
        },
        Kind::MissingRrset => {
            let servers = finding.servers.join(", ");
            return format!(
                "{subject} missing on {servers} (expected {})",
                values(&finding.expected)
            );
        }
        Kind::ExtraType | Kind::UnexpectedName => {
            format!("{subject} {} not expected", values(&finding.seen))
        }
        Kind::TtlDiffers => format!(
            "{subject} TTL {} (expected {})",
            values(&finding.seen),
            values(&finding.expected)
        ),
        _ => format!("{subject} {}: {}", finding.kind.label(), finding.why),
    };
    if finding.kind == Kind::ServersDisagree {
        return what;
    }
    format!("{what} (seen on {})", finding.servers.join(", "))
}

/// Served values that are a slip of an expected one, marked against it. Many unexpected values
/// are not a slip: past MAX_SLIPS they are shown as they are.
fn served_marked(finding: &Finding, list: &[String], colour: bool) -> Vec<String> {
    if list.len() > MAX_SLIPS {
        return list.to_vec();
    }
    list.iter()
        .map(|value| {
            let against = finding.missing.iter().chain(&finding.expected);
            match crate::diff::resembled(value, against.map(String::as_str)) {
                Some(intended) => super::slip(intended, value, colour),
                None => value.clone(),
            }
        })
        .collect()
}

/// How long resolvers may keep what a drift finding reports after the fix: "; cached up to
/// 5 min (TTL 300)", or for a missing RRset its absence (the negative TTL, RFC 2308).
fn cached(finding: &Finding) -> String {
    let Some(ttl) = finding.cached_for else {
        return String::new();
    };
    let up_to = crate::report::age(i64::from(ttl));
    match finding.kind {
        Kind::MissingRrset => format!("; its absence cached up to {up_to} (negative TTL {ttl})"),
        _ => format!("; cached up to {up_to} (TTL {ttl})"),
    }
}

/// How long what a finding reports has been served, as of the run's start: ", for 42 min", or
/// ", new" when this run is the first to see it (nothing when no history tells).
fn since(finding: &Finding, started: Option<i64>) -> String {
    let Some(since) = finding.since.as_deref() else {
        return String::new();
    };
    match (since.parse::<jiff::Timestamp>(), started) {
        // New only when this run is the first to see it; an earlier run's, however recent,
        // is told as its age.
        (Ok(since), Some(started)) if since.as_second() < started => {
            format!(", for {}", crate::report::age(started - since.as_second()))
        }
        (Ok(_), Some(_)) => ", new".to_string(),
        _ => String::new(),
    }
}

/// Values shown in one line: up to [`SHOWN_VALUES`], then how many more (a server can answer
/// with thousands; the JSON report keeps them all).
fn values(list: &[String]) -> String {
    if list.len() <= SHOWN_VALUES {
        return list.join(", ");
    }
    format!(
        "{} … and {} more",
        list[..SHOWN_VALUES].join(", "),
        list.len() - SHOWN_VALUES
    )
}

/// Most unexpected values of one RRset that are each marked as a slip of an expected one.
const MAX_SLIPS: usize = 2;

/// Most values of one RRset shown on a line.
const SHOWN_VALUES: usize = 8;

/// The owner name relative to the zone; empty when it is the host's own name.
fn relative(name: &str, zone: &str, host: &str) -> String {
    let short = if zone == "." {
        name.trim_end_matches('.')
    } else {
        name.strip_suffix(zone)
            .map(|s| s.trim_end_matches('.'))
            .unwrap_or(name)
    };
    let short = if short.is_empty() { "@" } else { short };
    if short == host {
        String::new()
    } else {
        short.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: Kind, unexpected: &[&str], missing: &[&str]) -> Finding {
        Finding {
            severity: Severity::Drift,
            kind,
            host: "bh17".into(),
            name: "bh17.bots.example.net.".into(),
            rtype: "A".into(),
            expected: vec!["203.0.113.17".into()],
            seen: Vec::new(),
            unexpected: unexpected.iter().map(|s| s.to_string()).collect(),
            missing: missing.iter().map(|s| s.to_string()).collect(),
            servers: vec!["ns1".into(), "ns2".into()],
            why: String::new(),
            since: None,
            cached_for: None,
            resembles: None,
        }
    }

    #[test]
    fn the_incident_reads_in_one_line() {
        let line = describe(
            &finding(Kind::WrongValue, &["203.0.113.18"], &[]),
            "bots.example.net.",
            false,
        );
        assert_eq!(line, "A 203.0.113.1[7→8] not expected (seen on ns1, ns2)");
        let line = describe(
            &finding(Kind::WrongValue, &["203.0.113.71"], &["203.0.113.17"]),
            "bots.example.net.",
            false,
        );
        assert_eq!(
            line,
            "A 203.0.113.[17→71] instead of 203.0.113.17 (seen on ns1, ns2)"
        );
        let line = describe(
            &finding(Kind::WrongValue, &["198.51.100.9"], &[]),
            "bots.example.net.",
            false,
        );
        assert_eq!(line, "A 198.51.100.9 not expected (seen on ns1, ns2)");
        let coloured = describe(
            &finding(Kind::WrongValue, &["203.0.113.18"], &[]),
            "bots.example.net.",
            true,
        );
        assert!(
            coloured.contains("[\x1b[31m7\x1b[0m→\x1b[1;32m8\x1b[0m]"),
            "{coloured}"
        );
        let mut typo = finding(Kind::UnexpectedName, &[], &[]);
        typo.name = "bh71.bots.example.net.".into();
        typo.host = "bh71".into();
        typo.seen = vec!["203.0.113.17".into()];
        typo.resembles = Some("bh17.bots.example.net.".into());
        let line = describe(&typo, "bots.example.net.", false);
        assert!(
            line.starts_with("bh[17→71] A 203.0.113.17 not expected"),
            "{line}"
        );
    }

    #[test]
    fn a_huge_rrset_is_shown_in_part() {
        let many: Vec<String> = (0..1000)
            .map(|i| format!("203.0.113.{}", i % 256))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let line = describe(
            &finding(Kind::WrongValue, &many, &[]),
            "bots.example.net.",
            false,
        );
        assert!(line.starts_with("A 203.0.113.0, 203.0.113.1,"), "{line}");
        assert!(
            line.ends_with("203.0.113.7 … and 992 more not expected (seen on ns1, ns2)"),
            "{line}"
        );
    }

    #[test]
    fn names_below_the_host_are_shown_relative() {
        assert_eq!(
            relative("panel.bh17.z.net.", "z.net.", "bh17"),
            "panel.bh17"
        );
        assert_eq!(relative("bh17.z.net.", "z.net.", "bh17"), "");
        assert_eq!(relative("z.net.", "z.net.", "@"), "");
        assert_eq!(relative("com.", ".", "com"), "");
    }
}
