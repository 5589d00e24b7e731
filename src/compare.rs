//! Comparing expected records with what each server serves, and judging the differences.
//! Pure: reads a [`Zone`] and [`ServerView`]s, returns a [`ZoneReport`].

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::rr::{Name, RData, RecordType};

use crate::config::{TtlPolicy, ZoneSettings};
use crate::escape;
use crate::model::presence_only;
use crate::model::{host_of, present_name, Rdata, RrSet, Zone};
use crate::observe::{Method, Observed, Probe, SerialsSeen, ServerView};
use crate::report::{
    age, Finding, HostReport, Kind, ServerReport, ServerStatus, Severity, ZoneReport,
};
use crate::transport::Failure;

/// What one server showed for one (name, type), before servers are merged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Difference {
    kind: Kind,
    severity: Severity,
    name: Name,
    rtype: RecordType,
    expected: Vec<String>,
    seen: Vec<String>,
    unexpected: Vec<String>,
    missing: Vec<String>,
    why: String,
}

/// Whether serial `a` is older than `b` in serial number arithmetic (RFC 1982).
fn serial_older(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

/// The newest serial the servers serve, who serves it and since when it is served anywhere.
struct Newest {
    serial: u32,
    leaders: Vec<String>,
    since: i64,
}

impl Newest {
    /// `earlier` tells since when a server has served its serial; a serial no earlier run saw
    /// on a server is new now.
    fn of(views: &[ServerView], earlier: &SerialsSeen, now: i64) -> Option<Newest> {
        let serials = views
            .iter()
            .filter_map(|v| Some((v, *v.serial.as_ref().ok()?)));
        let newest = serials.clone().map(|(_, serial)| serial).reduce(|a, b| {
            if serial_older(a, b) {
                b
            } else {
                a
            }
        })?;
        let leaders: Vec<&ServerView> = serials
            .filter(|(_, serial)| *serial == newest)
            .map(|(view, _)| view)
            .collect();
        let since = leaders
            .iter()
            .map(|view| {
                // By address; an older store's rows are keyed by name until this run moves them.
                let key = view.server.addr.to_string();
                earlier
                    .get(&key)
                    .or_else(|| earlier.get(&view.server.label))
            })
            .map(|known| match known {
                Some(seen) if seen.serial == newest => seen.since,
                _ => now,
            })
            .min()
            .unwrap_or(now);
        Some(Newest {
            serial: newest,
            leaders: leaders
                .iter()
                .map(|view| escape::terminal(&view.server.label))
                .collect(),
            since,
        })
    }

    /// Whether a server behind this serial is still propagating: the serial has been served
    /// for less than the zone's `serial_grace`.
    fn within_grace(&self, settings: &ZoneSettings, now: i64) -> bool {
        now - self.since < i64::try_from(settings.serial_grace).unwrap_or(i64::MAX)
    }
}

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
        servers: judged.servers,
        hosts,
        server_findings: judged.server_findings,
        zone_file: None,
        resolvers: Vec::new(),
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

/// The finding about a server's SOA serial, if any: unreachable, behind the newest, or not
/// the expected one.
fn serial_finding(
    scope: &Scope<'_, '_>,
    view: &ServerView,
    label: &str,
    behind: Option<&Newest>,
) -> Option<Finding> {
    let zone = scope.zone;
    let expected_serial = zone.serial();
    match (&view.serial, behind) {
        (Err(failure), _) => {
            let kind = if *failure == Failure::NotAuthoritative {
                Kind::NotAuthoritative
            } else {
                Kind::Unreachable
            };
            Some(server_finding(
                zone,
                kind,
                label,
                format!(
                    "{} could not be asked for the SOA of {}: {failure}; nothing it serves is known",
                    shown_server(label, view.server.addr),
                    present_name(&zone.origin)
                ),
            ))
        }
        (Ok(serial), Some(newest)) => Some(lagging(
            zone,
            scope.settings,
            label,
            *serial,
            newest,
            scope.now_s(),
        )),
        (Ok(serial), None) if Some(*serial) != expected_serial => {
            let why = match expected_serial {
                Some(expected) if *serial < expected => format!(
                    "serves serial {serial}, expected {expected}: the new zone has not reached it yet"
                ),
                Some(expected) => format!(
                    "serves serial {serial}, newer than the expected {expected}: a change not in expected-records?"
                ),
                None => format!("serves serial {serial}; expected-records has no SOA"),
            };
            let mut finding = server_finding(zone, Kind::SerialDiffers, label, why);
            finding.severity = Severity::Warning;
            finding.rtype = "SOA".into();
            finding.expected = expected_serial.iter().map(u32::to_string).collect();
            finding.seen = vec![serial.to_string()];
            Some(finding)
        }
        (Ok(_), None) => None,
    }
}

/// Every difference between what one server serves and expected-records, handed to `note`
/// with how long resolvers may cache it; returns the queries that failed, by cause.
fn data_differences(
    scope: &Scope<'_, '_>,
    view: &ServerView,
    note: &mut dyn FnMut(Difference, Option<u32>),
) -> BTreeMap<Failure, u64> {
    let (zone, settings) = (scope.zone, scope.settings);
    let mut failed: BTreeMap<Failure, u64> = BTreeMap::new();
    let soa_probe = Probe {
        name: &zone.origin,
        rtype: RecordType::SOA,
        expected: zone.rrset(&zone.origin, RecordType::SOA),
        at_cut: false,
        ask: crate::observe::Ask::Direct,
    };
    let negative = negative_ttl(&view.soa);
    let answers = view.answers.iter().zip(scope.plan);
    for (observed, probe) in std::iter::once((&view.soa, &soa_probe)).chain(answers) {
        if let Observed::Failed(failure) = observed {
            if view.serial.is_ok() {
                *failed.entry(failure.clone()).or_default() += 1;
            }
        }
        // What resolvers may keep after the fix: the RRset as served for its TTL, or its
        // absence for the negative-caching TTL (RFC 2308).
        let cached = match observed {
            Observed::Present(set) => Some(set.ttl),
            Observed::Absent => negative,
            _ => None,
        };
        if let Some(diff) = difference(probe, observed, settings.ttl) {
            note(diff, cached);
        }
        if let Some(diff) =
            expiring_signatures(probe, observed, scope.now, settings.signature_warn_days)
        {
            note(diff, None);
        }
    }
    for extra in &view.extras {
        if settings.ignore_types.contains(&extra.rtype)
            || settings.ignores_name(&zone.origin, &extra.name)
        {
            continue;
        }
        note(unexpected(zone, extra), Some(extra.set.ttl));
    }
    bogus_differences(scope, view, note);
    failed
}

/// What validating resolvers reject of what the server serves, handed to `note`. Only a
/// server that serves a DNSKEY set at the apex is validated: the map of what it serves is not
/// built for an unsigned zone.
fn bogus_differences(
    scope: &Scope<'_, '_>,
    view: &ServerView,
    note: &mut dyn FnMut(Difference, Option<u32>),
) {
    let zone = scope.zone;
    let serves_keys =
        |name: &Name, rtype: RecordType| rtype == RecordType::DNSKEY && *name == zone.origin;
    let signed = scope
        .plan
        .iter()
        .zip(&view.answers)
        .any(|(p, o)| serves_keys(p.name, p.rtype) && matches!(o, Observed::Present(_)))
        || view.extras.iter().any(|e| serves_keys(&e.name, e.rtype));
    if !signed {
        return;
    }
    for bogus in crate::dnssec::validate(zone, &served(scope, view)) {
        if !scope.settings.ignores_name(&zone.origin, &bogus.name) {
            note(bogus_rrset(bogus), None);
        }
    }
}

/// Every RRset the server showed, by owner and type.
fn served<'v>(scope: &Scope<'_, '_>, view: &'v ServerView) -> crate::dnssec::Served<'v> {
    let mut served = crate::dnssec::Served::new();
    let answers = view.answers.iter().zip(scope.plan);
    for (observed, probe) in answers {
        match observed {
            Observed::Present(set) => {
                served.insert((probe.name.clone(), probe.rtype), Some(set));
            }
            Observed::Absent => {
                served.insert((probe.name.clone(), probe.rtype), None);
            }
            Observed::Failed(_) | Observed::Unasked => {}
        }
    }
    if let Observed::Present(soa) = &view.soa {
        served.insert((scope.zone.origin.clone(), RecordType::SOA), Some(soa));
    }
    for extra in &view.extras {
        served.insert((extra.name.clone(), extra.rtype), Some(&extra.set));
    }
    served
}

/// An RRset validating resolvers reject: its own kind, beside whatever drift it has.
fn bogus_rrset(bogus: crate::dnssec::Bogus) -> Difference {
    Difference {
        kind: Kind::Bogus,
        severity: Severity::Drift,
        name: bogus.name,
        rtype: bogus.rtype,
        expected: Vec::new(),
        seen: Vec::new(),
        unexpected: Vec::new(),
        missing: Vec::new(),
        why: bogus.why,
    }
}

/// An RRset a transfer showed that expected-records does not have.
fn unexpected(zone: &Zone, extra: &crate::observe::Extra) -> Difference {
    let known_name = zone.contains(&extra.name);
    Difference {
        kind: if known_name {
            Kind::ExtraType
        } else {
            Kind::UnexpectedName
        },
        severity: Severity::Drift,
        name: extra.name.clone(),
        rtype: extra.rtype,
        expected: Vec::new(),
        seen: extra.set.shown(extra.rtype),
        unexpected: extra.set.shown(extra.rtype),
        missing: Vec::new(),
        why: if known_name {
            "served (seen in a zone transfer), but not in expected-records".into()
        } else {
            "a name nobody expected, seen in a zone transfer (a typo'd new name?)".into()
        },
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

/// The report line of one server.
fn server_report(view: &ServerView, label: String, failed_queries: u64) -> ServerReport {
    ServerReport {
        name: label,
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

/// The differences merged across servers as findings, each with the servers that showed it;
/// a name nobody expected with the expected name it resembles.
fn findings_of(scope: &Scope<'_, '_>, differences: Differences) -> Vec<Finding> {
    let zone = scope.zone;
    let mut names: Option<Vec<String>> = None;
    let mut compared = 0;
    let mut resembled = |diff: &Difference| {
        if diff.kind != Kind::UnexpectedName || compared >= MAX_RESEMBLED {
            return None;
        }
        compared += 1;
        let names =
            names.get_or_insert_with(|| zone.iter().map(|(name, _)| present_name(name)).collect());
        let typed = present_name(&diff.name);
        crate::diff::resembled(&typed, names.iter().map(String::as_str)).map(str::to_string)
    };
    differences
        .into_iter()
        .map(|(diff, (servers, cached))| Finding {
            resembles: resembled(&diff),
            severity: diff.severity,
            kind: diff.kind,
            host: host_of(&zone.origin, &diff.name, scope.settings.host_depth),
            name: present_name(&diff.name),
            rtype: diff.rtype.to_string(),
            expected: diff.expected,
            seen: diff.seen,
            unexpected: diff.unexpected,
            missing: diff.missing,
            servers,
            why: diff.why,
            since: None,
            cached_for: cached.filter(|_| diff.severity == Severity::Drift),
        })
        .collect()
}

/// Findings grouped by host, and how many hosts expected-records has.
fn hosts_of(scope: &Scope<'_, '_>, findings: Vec<Finding>) -> (Vec<HostReport>, usize) {
    let (zone, settings) = (scope.zone, scope.settings);
    let mut hosts: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for finding in findings {
        hosts.entry(finding.host.clone()).or_default().push(finding);
    }
    // The names of a host follow each other in canonical order, their keys sharing the host's
    // labels: hosts are counted where that prefix changes, with no string made per name (only
    // per host, and only when there are findings to place).
    let apex = crate::model::owner_key(&zone.origin).len();
    let mut expected_hosts: BTreeSet<String> = BTreeSet::new();
    let mut hosts_checked = 0;
    let mut last: Option<&[u8]> = None;
    for (key, name) in zone.keyed_names() {
        if settings.ignores_name(&zone.origin, name) {
            continue;
        }
        let host = host_prefix(key, apex, settings.host_depth);
        if last != Some(host) {
            last = Some(host);
            hosts_checked += 1;
            if !hosts.is_empty() {
                expected_hosts.insert(host_of(&zone.origin, name, settings.host_depth));
            }
        }
    }
    let reports = hosts
        .into_iter()
        .map(|(host, mut findings)| {
            findings.sort();
            HostReport {
                expected: expected_hosts.contains(&host),
                host,
                status: findings
                    .iter()
                    .map(|f| f.severity)
                    .min()
                    .unwrap_or(Severity::Warning),
                findings,
            }
        })
        .collect();
    (reports, hosts_checked)
}

/// The part of an owner key that names its host: the apex's labels (`apex` octets) and up to
/// `depth` (at least one) labels below, as [`host_of`] counts them.
fn host_prefix(key: &[u8], apex: usize, depth: usize) -> &[u8] {
    let mut end = apex.min(key.len());
    for _ in 0..depth.max(1) {
        // A zero octet inside a label is escaped: every zero ends a label.
        match key[end..].iter().position(|&octet| octet == 0) {
            Some(at) => end += at + 1,
            None => break,
        }
    }
    &key[..end]
}

/// A warning when the servers that answered serve different data for one probe.
/// `answered`: what each server that answered the probe said.
fn disagreement(
    zone: &Zone,
    settings: &ZoneSettings,
    probe: &Probe<'_>,
    answered: &[(&ServerView, &Observed)],
) -> Option<Finding> {
    let first = answered.first()?.1;
    if answered
        .iter()
        .all(|(_, observed)| rdatas(observed) == rdatas(first))
    {
        return None;
    }
    let said: Vec<String> = answered
        .iter()
        .map(|(view, observed)| {
            let shown = match observed {
                Observed::Present(set) => show_set(set, probe.rtype),
                _ => "(none)".to_string(),
            };
            format!("{}: {shown}", escape::terminal(&view.server.label))
        })
        .collect();
    Some(Finding {
        severity: Severity::Warning,
        kind: Kind::ServersDisagree,
        host: host_of(&zone.origin, probe.name, settings.host_depth),
        name: present_name(probe.name),
        rtype: probe.rtype.to_string(),
        expected: Vec::new(),
        seen: Vec::new(),
        unexpected: Vec::new(),
        missing: Vec::new(),
        servers: answered
            .iter()
            .map(|(view, _)| escape::terminal(&view.server.label))
            .collect(),
        why: format!(
            "the zone's servers serve different data ({})",
            said.join("; ")
        ),
        since: None,
        cached_for: None,
        resembles: None,
    })
}

fn rdatas(observed: &Observed) -> Option<&crate::model::RdataSet> {
    match observed {
        Observed::Present(set) => Some(&set.rdatas),
        _ => None,
    }
}

/// A server behind the newest serial: propagating within `serial_grace`, drift after it.
fn lagging(
    zone: &Zone,
    settings: &ZoneSettings,
    label: &str,
    serial: u32,
    newest: &Newest,
    now: i64,
) -> Finding {
    let served_for = now - newest.since;
    let grace = i64::try_from(settings.serial_grace).unwrap_or(i64::MAX);
    let leaders = newest.leaders.join(", ");
    let one = newest.leaders.len() == 1;
    let (serve, have) = if one {
        ("serves", "has")
    } else {
        ("serve", "have")
    };
    let (severity, why) = if newest.within_grace(settings, now) {
        (
            Severity::Warning,
            format!(
                "serves serial {serial}, {leaders} {serve} {} (first seen {} ago): propagating, within serial_grace of {}",
                newest.serial,
                age(served_for),
                age(grace)
            ),
        )
    } else {
        (
            Severity::Drift,
            format!(
                "still serves serial {serial} while {leaders} {have} served {} for {} (serial_grace {}): this server is not getting the new zone",
                newest.serial,
                age(served_for),
                age(grace)
            ),
        )
    };
    let mut finding = server_finding(zone, Kind::SerialDiffers, label, why);
    finding.severity = severity;
    finding.rtype = "SOA".into();
    finding.expected = vec![newest.serial.to_string()];
    finding.seen = vec![serial.to_string()];
    finding.since = crate::report::timestamp(newest.since);
    finding
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

/// Servers that serve the same SOA serial but not the same data: a hand edit on one of them
/// without a serial bump (it will never reach the others by transfer). One finding naming them.
fn same_serial_other_data(
    zone: &Zone,
    views: &[ServerView],
    disagreements: usize,
) -> Option<Finding> {
    let serials: Vec<(&str, u32)> = views
        .iter()
        .filter_map(|v| Some((v.server.label.as_str(), *v.serial.as_ref().ok()?)))
        .collect();
    let (_, first) = *serials.first()?;
    if disagreements == 0 || serials.len() < 2 || serials.iter().any(|(_, s)| *s != first) {
        return None;
    }
    let names: Vec<&str> = serials.iter().map(|(name, _)| *name).collect();
    let why = format!(
        "{} all serve serial {first} but different data ({} {}): an edit on one server without a serial bump, which transfers will never carry to the others",
        names.join(", "),
        crate::report::plural(disagreements, "RRset"),
        if disagreements == 1 { "differs" } else { "differ" }
    );
    let mut finding = server_finding(zone, Kind::SameSerialOtherData, &names.join(", "), why);
    finding.servers = names.iter().map(|n| escape::terminal(n)).collect();
    finding.severity = Severity::Warning;
    finding.rtype = "SOA".into();
    Some(finding)
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

/// Unexpected names of a zone compared with every expected name for a resemblance (a served
/// zone unlike the expected one could hold thousands).
const MAX_RESEMBLED: usize = 100;

/// The difference between what was expected and what one server showed, if any.
fn difference(probe: &Probe<'_>, observed: &Observed, ttl_policy: TtlPolicy) -> Option<Difference> {
    let (name, rtype, expected) = (probe.name, probe.rtype, probe.expected);
    let diff = |kind, severity, expected, seen, why: &str| {
        Difference::new((name, rtype), (kind, severity), expected, seen, why.into())
    };
    match (expected, observed) {
        (_, Observed::Failed(_) | Observed::Unasked) | (None, Observed::Absent) => None,
        (Some(want), Observed::Absent) => Some(diff(
            Kind::MissingRrset,
            Severity::Drift,
            want.shown(rtype),
            Vec::new(),
            "in expected-records, but the server answers authoritatively that it has none",
        )),
        (None, Observed::Present(got)) => Some(diff(
            Kind::ExtraType,
            Severity::Drift,
            Vec::new(),
            got.shown(rtype),
            "served, but not in expected-records",
        )),
        (Some(want), Observed::Present(got)) if !same(rtype, want, got) => Some(diff(
            Kind::WrongValue,
            Severity::Drift,
            want.shown(rtype),
            got.shown(rtype),
            if presence_only(rtype) {
                "signed data differs in what it covers from expected-records"
            } else {
                "served values differ from expected-records"
            },
        )),
        (Some(want), Observed::Present(got)) => {
            let severity = match ttl_policy {
                _ if want.ttl == got.ttl => return None,
                // An RRSIG's TTL is its RRset's (RFC 4034 section 3), compared there; one set
                // here holds the signatures of every RRset at the name. Only authoritative
                // servers read NSEC3PARAM (RFC 5155 section 4), so its TTL reaches no cache:
                // BIND's signer writes 0, PowerDNS serves its own.
                _ if matches!(rtype, RecordType::RRSIG | RecordType::NSEC3PARAM) => return None,
                TtlPolicy::Ignore => return None,
                TtlPolicy::Drift => Severity::Drift,
                TtlPolicy::Warn => Severity::Warning,
            };
            Some(Difference::new(
                (name, rtype),
                (Kind::TtlDiffers, severity),
                vec![want.ttl.to_string()],
                vec![got.ttl.to_string()],
                format!("TTL {} served, {} expected", got.ttl, want.ttl),
            ))
        }
    }
}

impl Difference {
    /// A difference at `name`/`rtype`, with what is missing and what is unexpected worked out
    /// from the expected and seen values.
    fn new(
        (name, rtype): (&Name, RecordType),
        (kind, severity): (Kind, Severity),
        expected: Vec<String>,
        seen: Vec<String>,
        why: String,
    ) -> Difference {
        let unexpected = seen
            .iter()
            .filter(|v| !expected.contains(v))
            .cloned()
            .collect();
        let missing = expected
            .iter()
            .filter(|v| !seen.contains(v))
            .cloned()
            .collect();
        Difference {
            kind,
            severity,
            name: name.clone(),
            rtype,
            expected,
            seen,
            unexpected,
            missing,
            why,
        }
    }
}

/// Whether two RRsets are the same for the audit: the exact data, except for SOA (serials are
/// judged apart) and the types re-signing changes (RRSIG: the types covered; NSEC, NSEC3: that
/// they exist).
fn same(rtype: RecordType, want: &RrSet, got: &RrSet) -> bool {
    let covered = |set: &RrSet| -> BTreeSet<RecordType> {
        set.rdatas.iter().filter_map(Rdata::rrsig_covered).collect()
    };
    match rtype {
        RecordType::SOA => without_serial(want) == without_serial(got),
        RecordType::RRSIG => covered(want) == covered(got),
        RecordType::NSEC | RecordType::NSEC3 => true,
        _ => want.rdatas == got.rdatas,
    }
}

/// RRSIGs a server serves that expire within `days` (0: not checked), as one warning per name.
fn expiring_signatures(
    probe: &Probe<'_>,
    observed: &Observed,
    now: u64,
    days: u32,
) -> Option<Difference> {
    let Observed::Present(set) = observed else {
        return None;
    };
    if probe.rtype != RecordType::RRSIG || days == 0 {
        return None;
    }
    let soonest = set
        .rdatas
        .iter()
        .filter_map(Rdata::rrsig_expiration)
        .min()?;
    let horizon = now + u64::from(days) * 86_400;
    if u64::from(soonest) > horizon {
        return None;
    }
    let when = crate::report::timestamp(i64::from(soonest)).unwrap_or_else(|| soonest.to_string());
    let why = if u64::from(soonest) <= now {
        format!("a signature expired at {when}: validating resolvers reject this data")
    } else {
        format!("a signature expires at {when}, within {days} days: is the signer running?")
    };
    Some(Difference {
        kind: Kind::SignatureExpiring,
        severity: Severity::Warning,
        name: probe.name.clone(),
        rtype: RecordType::RRSIG,
        expected: Vec::new(),
        seen: vec![when],
        unexpected: Vec::new(),
        missing: Vec::new(),
        why,
    })
}

/// SOA data with the serial set to 0: serials are judged on their own (propagation).
fn without_serial(set: &RrSet) -> BTreeSet<Rdata> {
    set.rdatas
        .iter()
        .map(|rdata| match rdata.to_hickory(RecordType::SOA) {
            Some(RData::SOA(mut soa)) => {
                soa.serial = 0;
                Rdata::from_hickory(&RData::SOA(soa)).unwrap_or_else(|| rdata.clone())
            }
            _ => rdata.clone(),
        })
        .collect()
}

fn show_set(set: &RrSet, rtype: RecordType) -> String {
    let values: Vec<String> = set.rdatas.iter().map(|r| r.present(rtype)).collect();
    values.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{plan, Nameserver, SerialSeen};
    use crate::transport::WireStats;
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

        // ns1 has served serial 8 for ten minutes: propagating.
        let recent = SerialsSeen::from([(
            "127.0.0.1:5301".to_string(),
            SerialSeen {
                serial: 8,
                since: now - 600,
            },
        )]);
        let report = report_at(&recent);
        assert_eq!(serial_of(&report).severity, Severity::Warning);
        let why = serial_of(&report).why;
        assert!(why.contains("first seen 10 min ago"), "{why}");
        assert_eq!(bh17(&report), Severity::Warning);

        // For two hours, past the default hour of grace: ns2 is stuck, and its data is drift.
        let stuck = SerialsSeen::from([(
            "127.0.0.1:5301".to_string(),
            SerialSeen {
                serial: 8,
                since: now - 7_200,
            },
        )]);
        let report = report_at(&stuck);
        assert_eq!(serial_of(&report).severity, Severity::Drift);
        assert!(
            serial_of(&report).why.contains("for 2 h"),
            "{}",
            serial_of(&report).why
        );
        assert_eq!(bh17(&report), Severity::Drift);

        // A history where ns1 had another serial says nothing about serial 8: it is new now.
        let other = SerialsSeen::from([(
            "127.0.0.1:5301".to_string(),
            SerialSeen {
                serial: 6,
                since: now - 7_200,
            },
        )]);
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
