//! The `check` job: load expected records, observe every server of every zone, compare, judge.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use hickory_proto::rr::Name;

use crate::compare::compare_zone;
use crate::config::AxfrMode;
use crate::expected::Expected;
use crate::history::{History, HistoryError, RunSummary, ZoneObservations};
use crate::model::present_name;
use crate::observe::{nameservers, observe_zone, plan, Nameserver};
use crate::report::{Finding, Kind, Report, ZoneReport};

/// Everything `check` needs, as resolved from flags and files.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// The expected-records directory.
    pub expected: PathBuf,
    /// Zones to audit (empty: all).
    pub zones: Vec<Name>,
    /// Addresses that replace every zone's nameservers (empty: none).
    pub nameservers: Vec<Nameserver>,
    /// Transfer mode forced on every zone (None: the config's).
    pub axfr: Option<AxfrMode>,
}

/// The queries an audit by queries sends, one `NAME TYPE` line each (dnsperf's input format):
/// per zone, the SOA, then every distinct question of the plan (glue is read from its
/// delegation's NS referral, signatures from the answers they come with).
pub fn query_plan(expected: &Expected) -> String {
    let mut out = String::new();
    for loaded in &expected.zones {
        let zone = &loaded.zone;
        let settings = expected.config.zone(&zone.origin);
        let plan = plan(zone, settings);
        for question in crate::observe::questions(&zone.origin, &plan).0 {
            out.push_str(&format!(
                "{} {}\n",
                present_name(question.name),
                question.rtype
            ));
        }
    }
    out
}

/// Audits every zone of `expected` on its servers (or on `overrides`). With a `history`, what
/// every server answered is recorded there as changes, in one transaction after the audit; a
/// failure to record is returned beside the report, which stands on its own.
pub async fn check(
    expected: &Expected,
    overrides: &[Nameserver],
    history: Option<&mut History>,
) -> (Report, Option<HistoryError>) {
    let started = jiff::Timestamp::now();
    let started_at = started.to_string();
    let now = u64::try_from(started.as_second()).unwrap_or(0);
    let clock = Instant::now();
    let mut reports: Vec<ZoneReport> = Vec::new();
    let mut observed = Vec::new();
    for loaded in &expected.zones {
        let zone = &loaded.zone;
        let settings = expected.config.zone(&zone.origin);
        let plan = plan(zone, settings);
        // Without a readable history every serial is new: propagation is assumed to have
        // just begun (a warning), never drift.
        let serials = history
            .as_deref()
            .and_then(|h| h.serials(&present_name(&zone.origin)).ok())
            .unwrap_or_default();
        let mut refused = Vec::new();
        let views = match nameservers(zone, settings, overrides).await {
            Ok(mut servers) if !servers.is_empty() => {
                if let Some(allowed) = &expected.allowed_servers {
                    let (ok, not): (Vec<_>, Vec<_>) = servers
                        .into_iter()
                        .partition(|s| allowed.contains(&s.addr) || overrides.contains(s));
                    servers = ok;
                    refused = not;
                }
                observe_zone(zone, &plan, servers, expected.config.query, settings).await
            }
            Ok(_) => Vec::new(),
            Err(why) => {
                let mut report = compare_zone(zone, settings, &plan, &[], now, &serials);
                report.server_findings.push(no_servers(zone, why));
                reports.push(report);
                continue;
            }
        };
        let mut report = compare_zone(zone, settings, &plan, &views, now, &serials);
        let file = expected
            .dir
            .join(crate::zonefile::file_name_for_zone(&zone.origin));
        report.zone_file = Some(file.display().to_string());
        if let Some(history) = history.as_deref() {
            let addresses: HashMap<&str, String> = views
                .iter()
                .map(|v| (v.server.label.as_str(), v.server.addr.to_string()))
                .collect();
            annotate_since(history, &mut report, &addresses, started.as_second());
        }
        for server in refused {
            let mut finding = no_servers(
                zone,
                format!(
                    "{} ({}) is not among the nameservers the base branch's config allows: not asked",
                    server.label, server.addr
                ),
            );
            finding.kind = Kind::NotAllowed;
            finding.servers = vec![crate::escape::terminal(&server.label)];
            report.server_findings.push(finding);
        }
        if views.is_empty() && report.server_findings.is_empty() {
            report
                .server_findings
                .push(no_servers(zone, "no nameserver addresses found".into()));
        }
        reports.push(report);
        if history.is_some() {
            observed.push((present_name(&zone.origin), plan, views));
        }
    }
    let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let report = Report::new(started_at, duration_ms, reports);
    let failure = history.and_then(|history| {
        let run = RunSummary {
            started_at: started.as_second(),
            duration_ms: i64::try_from(duration_ms).unwrap_or(i64::MAX),
            servers: report.zones.iter().map(|z| z.servers.len() as i64).sum(),
            verdict: format!("{:?}", report.verdict).to_ascii_lowercase(),
            drift: report.summary.drift as i64,
            failures: report.summary.failures as i64,
        };
        let zones: Vec<ZoneObservations<'_, '_>> = observed
            .iter()
            .map(|(zone, plan, views)| ZoneObservations {
                zone: zone.clone(),
                plan,
                views,
            })
            .collect();
        history.record(&run, &zones).err()
    });
    (report, failure)
}

/// Findings looked up in the history at most, per zone: a mass failure stays fast.
const SINCE_LOOKUPS: usize = 1000;

/// Fills in since when the servers of each finding about data have served what it reports:
/// the earliest time one of them started to (a state no earlier run saw is new now).
/// `addresses` gives each server name of the report its address, which the history is keyed by.
fn annotate_since(
    history: &History,
    report: &mut ZoneReport,
    addresses: &HashMap<&str, String>,
    now: i64,
) {
    let about_data = |kind: Kind| {
        matches!(
            kind,
            Kind::MissingRrset | Kind::WrongValue | Kind::ExtraType | Kind::UnexpectedName
        )
    };
    let findings = report.hosts.iter_mut().flat_map(|host| &mut host.findings);
    for finding in findings.filter(|f| about_data(f.kind)).take(SINCE_LOOKUPS) {
        let Ok(states) = history.latest(&report.zone, &finding.name, &finding.rtype) else {
            continue;
        };
        let present = finding.kind != Kind::MissingRrset;
        let since = finding
            .servers
            .iter()
            .map(|server| {
                states
                    .iter()
                    .find(|s| {
                        // Rows of an older store are keyed by name until this run moves them.
                        let same = addresses.get(server.as_str()) == Some(&s.address)
                            || s.address == *server;
                        same && s.present == present && (!present || s.values == finding.seen)
                    })
                    .map_or(now, |s| s.since)
            })
            .min();
        finding.since = since.and_then(crate::report::timestamp);
    }
}

fn no_servers(zone: &crate::model::Zone, why: String) -> Finding {
    let why = crate::escape::terminal(&why);
    let mut finding = crate::compare::server_finding(zone, Kind::Unreachable, "", why);
    finding.servers.clear();
    finding.rtype = "NS".into();
    finding
}
