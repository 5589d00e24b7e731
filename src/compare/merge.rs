//! The differences of every server merged into findings, the servers that disagree, and the
//! findings grouped by host.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ZoneSettings;
use crate::escape;
use crate::model::{host_of, present_name, Zone};
use crate::observe::{Observed, Probe, ServerView};
use crate::report::{Finding, HostReport, Kind, Severity};

use super::data::{show_set, Difference};
use super::{Differences, Scope};

/// The differences merged across servers as findings, each with the servers that showed it;
/// a name nobody expected with the expected name it resembles.
pub(super) fn findings_of(scope: &Scope<'_, '_>, differences: Differences) -> Vec<Finding> {
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
pub(super) fn hosts_of(scope: &Scope<'_, '_>, findings: Vec<Finding>) -> (Vec<HostReport>, usize) {
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

/// How many expected hosts no server answered for: every RRset of theirs failed (or was not
/// asked) on every server. Not known to match, so never counted as matching. Worked out only
/// where something failed: a run where every query was answered knows every host.
pub(super) fn unknown_hosts(scope: &Scope<'_, '_>, views: &[ServerView]) -> usize {
    let failed = |observed: Option<&Observed>| matches!(observed, Some(Observed::Failed(_)) | None);
    let mut answers: Vec<_> = views.iter().map(|view| view.answers.iter()).collect();
    let any_failed = views.is_empty()
        || views
            .iter()
            .any(|view| view.answers.is_empty() || view.answers.iter().any(|o| failed(Some(o))));
    if !any_failed {
        return 0;
    }
    let (zone, settings) = (scope.zone, scope.settings);
    let mut known: BTreeMap<String, bool> = BTreeMap::new();
    for probe in scope.plan {
        // Every server's answers walked in step: each is read, whatever the others said.
        let mut seen = false;
        for answers in &mut answers {
            seen |= !failed(answers.next());
        }
        if settings.ignores_name(&zone.origin, probe.name) {
            continue;
        }
        *known
            .entry(host_of(&zone.origin, probe.name, settings.host_depth))
            .or_default() |= seen;
    }
    known.values().filter(|known| !**known).count()
}

/// The part of an owner key that names its host: the apex's labels (`apex` octets) and up to
/// `depth` (at least one) labels below, as [`host_of`] counts them.
pub(super) fn host_prefix(key: &[u8], apex: usize, depth: usize) -> &[u8] {
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
pub(super) fn disagreement(
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

pub(super) fn rdatas(observed: &Observed) -> Option<&crate::model::RdataSet> {
    match observed {
        Observed::Present(set) => Some(&set.rdatas),
        _ => None,
    }
}

/// Unexpected names of a zone compared with every expected name for a resemblance (a served
/// zone unlike the expected one could hold thousands).
pub(super) const MAX_RESEMBLED: usize = 100;
