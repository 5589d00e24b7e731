//! Comparing expected records with what each server serves, and judging the differences.
//! Pure: reads a [`Zone`] and [`ServerView`]s, returns a [`ZoneReport`].

use std::collections::BTreeMap;

use crate::config::ZoneSettings;
use crate::escape;
use crate::model::{present_name, Zone};
use crate::observe::{Method, Observed, Probe, SerialsSeen, ServerView};
use crate::report::{plural, Finding, Kind, ServerReport, ServerStatus, Severity, ZoneReport};
use crate::transport::Failure;

mod data;
mod merge;
mod serial;

use data::{data_differences, Difference};
use merge::{disagreement, findings_of, hosts_of, unknown_hosts};
use serial::{same_serial_other_data, serial_finding, serial_older, Newest};

/// Compares one zone on all its servers. `views` hold answers in the order of `plan`;
/// `serials` is what earlier runs saw of the servers' serials (empty without a history).
pub(crate) fn compare_zone(
    zone: &Zone,
    settings: &ZoneSettings,
    plan: &[Probe<'_>],
    views: &[ServerView],
    now: u64,
    serials: &SerialsSeen,
) -> ZoneReport {
    let scope = Scope {
        zone,
        settings,
        plan,
        now,
    };
    let newest = Newest::of(views, serials, scope.now_s());
    let mut judged = Judged::default();
    for view in views {
        judged.server(&scope, view, newest.as_ref());
    }
    let mut findings = findings_of(&scope, judged.differences);
    let mut disagreements = 0;
    // Servers can disagree only where two answered: every server's answers walked in step.
    if views.iter().filter(|view| !view.answers.is_empty()).count() > 1 {
        let mut answers: Vec<_> = views.iter().map(|view| view.answers.iter()).collect();
        let mut answered: Vec<(&ServerView, &Observed)> = Vec::with_capacity(views.len());
        for probe in plan {
            answered.clear();
            for (view, answers) in views.iter().zip(&mut answers) {
                match answers.next() {
                    Some(Observed::Failed(_)) | None => {}
                    Some(observed) => answered.push((view, observed)),
                }
            }
            if let Some(finding) = disagreement(zone, settings, probe, &answered) {
                findings.push(finding);
                disagreements += 1;
            }
        }
    }
    if let Some(finding) = same_serial_other_data(zone, views, disagreements) {
        judged.server_findings.push(finding);
    }
    let (hosts, hosts_checked) = hosts_of(&scope, findings);
    ZoneReport {
        zone: present_name(&zone.origin),
        expected_serial: zone.serial(),
        names_checked: zone.len(),
        hosts_checked,
        hosts_unknown: unknown_hosts(&scope, views),
        servers: judged.servers,
        hosts,
        server_findings: judged.server_findings,
        zone_file: None,
        resolvers: Vec::new(),
        resolver_scope: None,
    }
}

/// What every step of one zone's comparison reads.
struct Scope<'a, 'z> {
    zone: &'a Zone,
    settings: &'a ZoneSettings,
    plan: &'a [Probe<'z>],
    now: u64,
}

impl Scope<'_, '_> {
    fn now_s(&self) -> i64 {
        i64::try_from(self.now).unwrap_or(i64::MAX)
    }
}

/// Per difference: the servers that showed it, and how long resolvers may cache it.
type Differences = BTreeMap<Difference, (Vec<String>, Option<u32>)>;

/// What the servers of a zone were found to serve, server by server.
#[derive(Default)]
struct Judged {
    servers: Vec<ServerReport>,
    server_findings: Vec<Finding>,
    differences: Differences,
}

impl Judged {
    /// Judges one server: its serial, its data, its health.
    fn server(&mut self, scope: &Scope<'_, '_>, view: &ServerView, newest: Option<&Newest>) {
        let label = escape::terminal(&view.server.label);
        let behind = match (&view.serial, newest) {
            (Ok(serial), Some(newest)) if serial_older(*serial, newest.serial) => Some(newest),
            _ => None,
        };
        self.server_findings
            .extend(serial_finding(scope, view, &label, behind));
        // A server still on an older serial within the grace period is propagating: what it
        // serves differently is reported, as a warning, not as drift.
        let propagating =
            behind.is_some_and(|newest| newest.within_grace(scope.settings, scope.now_s()));
        let mut note = |mut diff: Difference, cached: Option<u32>| {
            if propagating && diff.severity == Severity::Drift {
                diff.severity = Severity::Warning;
                diff.why = format!("{}; {label} is still propagating an older serial", diff.why);
            }
            let (servers, longest) = self.differences.entry(diff).or_default();
            servers.push(label.clone());
            *longest = (*longest).max(cached);
        };
        let failed = data_differences(scope, view, &mut note);
        let failed_queries = failed.values().sum();
        self.server_findings
            .extend(health_findings(scope.zone, view, &label, &failed));
        self.servers
            .push(server_report(view, label, failed_queries));
    }
}

/// What went wrong asking a server, besides its data: a transfer that failed, rate limiting,
/// queries that got no usable answer.
fn health_findings(
    zone: &Zone,
    view: &ServerView,
    label: &str,
    failed: &BTreeMap<Failure, u64>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(failure) = &view.transfer_failure {
        findings.push(blind_spot(zone, label, failure, view.method));
    }
    if view.foreign.count > 0 {
        findings.push(foreign_records(zone, label, &view.foreign));
    }
    if view.stats.rate_limited() {
        let mut finding = server_finding(
            zone,
            Kind::RateLimited,
            label,
            format!(
                "rate-limits UDP answers ({} empty truncated answers, {} retries); the rest of the audit went over TCP, so nothing was lost",
                view.stats.slips, view.stats.retries
            ),
        );
        finding.severity = Severity::Warning;
        findings.push(finding);
    }
    let failed_queries: u64 = failed.values().sum();
    // A failed transfer under axfr = "always" is one failure (the blind spot above), not
    // one per RRset of the plan.
    let transfer_only = view.method == Method::Transfer && view.transfer_failure.is_some();
    if failed_queries > 0 && !transfer_only {
        let causes: Vec<String> = failed.iter().map(|(f, n)| format!("{f} ×{n}")).collect();
        findings.push(server_finding(
            zone,
            Kind::QueryFailed,
            label,
            format!(
                "{failed_queries} queries got no usable answer ({}); those RRsets are unknown, not drift",
                causes.join(", ")
            ),
        ));
    }
    findings
}

/// Records a server's transfer carried that are not of the zone: named as they came, not
/// compared (a record of `ns1t.example.` is no record of `t.example.`'s `ns1`).
fn foreign_records(zone: &Zone, label: &str, foreign: &crate::model::ForeignRecords) -> Finding {
    let more = foreign.count - foreign.shown.len();
    let more = match more {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let why = format!(
        "its zone transfer of {} carries {} not of the zone (outside it, or of another class than IN), not compared: {}{more}",
        present_name(&zone.origin),
        plural(foreign.count, "record"),
        foreign.shown.join(", ")
    );
    let mut finding = server_finding(zone, Kind::OutsideZone, label, why);
    finding.severity = Severity::Warning;
    finding
}

/// The report line of one server.
fn server_report(view: &ServerView, label: String, failed_queries: u64) -> ServerReport {
    ServerReport {
        name: label,
        instances: view.instances.clone(),
        address: view.server.addr.to_string(),
        status: match &view.serial {
            Ok(_) => ServerStatus::Ok,
            Err(failure) => ServerStatus::Failed(failure.to_string()),
        },
        serial: view.serial.as_ref().ok().copied(),
        method: view.method,
        transfer_failure: view.transfer_failure.as_ref().map(ToString::to_string),
        queries: view.stats.queries,
        tcp_fallbacks: view.stats.tcp_fallbacks,
        retries: view.stats.retries,
        slips: view.stats.slips,
        rate_limited: view.stats.rate_limited(),
        failed_queries,
    }
}

/// A zone transfer that failed. Read by queries instead, the server's names nobody expected
/// (a typo'd new host) cannot be seen: a warning said even under `--quiet`, until the transfer
/// is allowed or `axfr = "never"` says the user accepts it. A transfer over
/// `max_zone_records` leaves the audit incomplete (a failure), and so does any failed transfer
/// under `axfr = "always"` (its queries were not sent).
fn blind_spot(zone: &Zone, server: &str, failure: &Failure, method: Method) -> Finding {
    let why = match method {
        Method::Queries => format!(
            "zone transfer failed ({failure}); read by queries instead, which cannot see names that are not in expected-records (a typo'd new host). Allow transfers to this host, or set axfr = \"never\" to accept that"
        ),
        Method::Transfer => format!("zone transfer failed ({failure}) and axfr = \"always\": nothing was compared"),
    };
    let mut finding = server_finding(zone, Kind::TransferFailed, server, why);
    let incomplete = matches!(failure, Failure::TooLarge(_)) || method == Method::Transfer;
    if !incomplete {
        finding.severity = Severity::Warning;
    }
    finding
}

/// The negative-caching TTL a served SOA gives (RFC 2308: the lesser of its TTL and MINIMUM).
fn negative_ttl(soa: &Observed) -> Option<u32> {
    let Observed::Present(set) = soa else {
        return None;
    };
    let data = set.rdatas.iter().next()?.bytes();
    let minimum = data.get(data.len().checked_sub(4)?..)?;
    let minimum = u32::from_be_bytes([minimum[0], minimum[1], minimum[2], minimum[3]]);
    Some(minimum.min(set.ttl))
}

/// `ns1 (192.0.2.53:53)`, or the address once for a server named by it.
fn shown_server(label: &str, addr: std::net::SocketAddr) -> String {
    if label == addr.to_string() {
        label.to_string()
    } else {
        format!("{label} ({addr})")
    }
}

/// A finding about a server of the zone (not about one RRset), a failure unless changed.
pub(crate) fn server_finding(zone: &Zone, kind: Kind, server: &str, why: String) -> Finding {
    Finding {
        severity: Severity::Failure,
        kind,
        host: String::new(),
        name: present_name(&zone.origin),
        rtype: String::new(),
        expected: Vec::new(),
        seen: Vec::new(),
        unexpected: Vec::new(),
        missing: Vec::new(),
        servers: vec![server.to_string()],
        why,
        since: None,
        cached_for: None,
        resembles: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Rdata, RrSet};
    use crate::observe::{plan, Nameserver, SerialSeen};
    use crate::transport::WireStats;
    use hickory_proto::rr::{Name, RecordType};
    use std::str::FromStr;

    const ZONE: &str = "$TTL 300\n@ SOA ns1 h 7 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n\
                        bh17 A 203.0.113.17\nbh18 A 203.0.113.18\n";

    fn zone() -> Zone {
        crate::zonefile::test_zone("z.net.", ZONE).zone
    }

    fn a(ip: [u8; 4]) -> Rdata {
        Rdata::from_wire(RecordType::A, &ip).unwrap()
    }

    /// A server that serves the zone as expected except for the A RRsets in `changes`.
    fn view(
        label: &str,
        serial: Result<u32, Failure>,
        changes: Vec<(&str, Observed)>,
    ) -> ServerView {
        let zone = zone();
        let answers = if serial.is_ok() {
            plan(&zone, &settings())
                .iter()
                .map(|probe| {
                    let changed = changes.iter().find(|(name, _)| {
                        *probe.name == Name::from_str(name).unwrap() && probe.rtype == RecordType::A
                    });
                    match (changed, probe.expected) {
                        (Some((_, observed)), _) => observed.clone(),
                        (None, Some(set)) => Observed::Present(set.clone()),
                        (None, None) => Observed::Absent,
                    }
                })
                .collect()
        } else {
            Default::default()
        };
        let soa = zone.rrset(&zone.origin, RecordType::SOA).unwrap().clone();
        ServerView {
            server: Nameserver {
                label: label.into(),
                // ns1 at 127.0.0.1:5301, ns2 at :5302, …: the history knows servers by address.
                addr: std::net::SocketAddr::from((
                    [127, 0, 0, 1],
                    5300 + u16::from(label.as_bytes()[label.len() - 1].wrapping_sub(b'0') % 10),
                )),
            },
            serial,
            soa: Observed::Present(soa),
            answers,
            extras: Vec::new(),
            foreign: crate::model::ForeignRecords::default(),
            instances: Vec::new(),
            method: crate::observe::Method::Queries,
            transfer_failure: None,
            stats: WireStats::default(),
        }
    }

    fn compare(views: &[ServerView]) -> ZoneReport {
        let zone = zone();
        let plan = plan(&zone, &settings());
        compare_zone(&zone, &settings(), &plan, views, 0, &SerialsSeen::new())
    }

    fn settings() -> ZoneSettings {
        crate::config::Config::default().zone(&Name::root()).clone()
    }

    #[test]
    fn an_extra_value_on_two_servers_is_one_drift_finding() {
        let mut set = RrSet::single(300, a([203, 0, 113, 17]));
        set.insert(300, a([203, 0, 113, 18]));
        let views = vec![
            view(
                "ns1",
                Ok(7),
                vec![("bh17.z.net.", Observed::Present(set.clone()))],
            ),
            view("ns2", Ok(7), vec![("bh17.z.net.", Observed::Present(set))]),
        ];
        let report = compare(&views);
        assert_eq!(report.hosts.len(), 1);
        let host = &report.hosts[0];
        assert_eq!(host.host, "bh17");
        assert_eq!(host.status, Severity::Drift);
        assert_eq!(host.findings.len(), 1, "{:?}", host.findings);
        let finding = &host.findings[0];
        assert_eq!(finding.kind, Kind::WrongValue);
        assert_eq!(finding.unexpected, vec!["203.0.113.18"]);
        assert!(finding.missing.is_empty());
        assert_eq!(finding.servers, vec!["ns1", "ns2"]);
    }

    #[test]
    fn failures_are_never_drift() {
        let views = vec![
            view(
                "ns1",
                Ok(7),
                vec![("bh17.z.net.", Observed::Failed(Failure::Timeout))],
            ),
            view("ns2", Err(Failure::Rcode("REFUSED".into())), vec![]),
        ];
        let report = compare(&views);
        assert!(report.hosts.is_empty(), "{:?}", report.hosts);
        let kinds: Vec<Kind> = report.server_findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![Kind::QueryFailed, Kind::Unreachable]);
        assert!(report
            .server_findings
            .iter()
            .all(|f| f.severity == Severity::Failure));
    }

    #[test]
    fn missing_ttl_and_disagreement_are_told_apart() {
        let views = vec![
            view("ns1", Ok(7), vec![("bh18.z.net.", Observed::Absent)]),
            view(
                "ns2",
                Ok(7),
                vec![(
                    "bh18.z.net.",
                    Observed::Present(RrSet::single(60, a([203, 0, 113, 18]))),
                )],
            ),
        ];
        let report = compare(&views);
        let kinds: Vec<(Kind, Vec<String>)> = report.hosts[0]
            .findings
            .iter()
            .map(|f| (f.kind, f.servers.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::MissingRrset, vec!["ns1".to_string()]),
                (Kind::TtlDiffers, vec!["ns2".to_string()]),
                (
                    Kind::ServersDisagree,
                    vec!["ns1".to_string(), "ns2".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn a_server_behind_longer_than_the_grace_is_drift() {
        let zone = zone();
        let plan = plan(&zone, &settings());
        let moved = RrSet::single(300, a([203, 0, 113, 71]));
        let views = vec![
            view("ns1", Ok(8), vec![]),
            view(
                "ns2",
                Ok(7),
                vec![("bh17.z.net.", Observed::Present(moved))],
            ),
        ];
        let now = 1_800_000_000;
        let report_at = |earlier: &SerialsSeen| {
            compare_zone(&zone, &settings(), &plan, &views, now as u64, earlier)
        };
        let serial_of = |report: &ZoneReport| {
            report
                .server_findings
                .iter()
                .find(|f| f.kind == Kind::SerialDiffers && f.servers == ["ns2"])
                .cloned()
                .expect("ns2 is behind")
        };
        let bh17 = |report: &ZoneReport| report.hosts[0].findings[0].severity;

        // What earlier runs saw of ns1: `serial` since `ago` seconds.
        let ns1_saw = |serial: u32, ago: i64| {
            let since = now - ago;
            SerialsSeen::from([("127.0.0.1:5301".to_string(), SerialSeen { serial, since })])
        };

        // ns1 has served serial 8 for ten minutes: propagating.
        let recent = ns1_saw(8, 600);
        let report = report_at(&recent);
        assert_eq!(serial_of(&report).severity, Severity::Warning);
        let why = serial_of(&report).why;
        assert!(why.contains("first seen 10 min ago"), "{why}");
        assert_eq!(bh17(&report), Severity::Warning);

        // For two hours, past the default hour of grace: ns2 is stuck, and its data is drift.
        let stuck = ns1_saw(8, 7_200);
        let report = report_at(&stuck);
        assert_eq!(serial_of(&report).severity, Severity::Drift);
        assert!(
            serial_of(&report).why.contains("for 2 h"),
            "{}",
            serial_of(&report).why
        );
        assert_eq!(bh17(&report), Severity::Drift);

        // A history where ns1 had another serial says nothing about serial 8: it is new now.
        let other = ns1_saw(6, 7_200);
        assert_eq!(serial_of(&report_at(&other)).severity, Severity::Warning);
    }

    #[test]
    fn serials_compare_in_serial_number_arithmetic() {
        assert!(serial_older(7, 8));
        assert!(!serial_older(8, 7));
        assert!(serial_older(u32::MAX, 1), "1 follows 4294967295 (RFC 1982)");
        assert!(!serial_older(5, 5));
    }

    #[test]
    fn an_older_serial_is_a_warning() {
        let views = vec![view("ns1", Ok(6), vec![])];
        let report = compare(&views);
        assert_eq!(report.server_findings[0].kind, Kind::SerialDiffers);
        assert_eq!(report.server_findings[0].severity, Severity::Warning);
    }
}
