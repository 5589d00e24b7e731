//! The chain of trust between zones audited together: the DS a parent's servers serve for a
//! delegation against the keys the child's servers serve. A DS that points at no key the
//! child serves makes every name of the child bogus for validating resolvers (.se 2009, the
//! Slack 2021 rollout): a finding of its own, on the child.

use hickory_proto::rr::{Name, RecordType};

use crate::compare::server_finding;
use crate::dnssec::broken_chain;
use crate::model::Zone;
use crate::observe::{Method, Observed, Probe, ServerView};
use crate::report::{Finding, Kind, Severity, ZoneReport};

/// What one server serves: the DS of a delegation (a parent's server), or the apex DNSKEY set
/// (a child's; None: it answered that it has none).
#[derive(Clone, Debug)]
struct ServedBy {
    /// The server's name as reports show it (escaped for a terminal).
    server: String,
    set: Option<crate::model::RrSet>,
}

/// What one zone's servers serve of the chain: the DS at each of its delegations, and its own
/// apex DNSKEY set (what could not be asked, or is not known, is left out).
#[derive(Debug, Default)]
pub(super) struct Links {
    ds: Vec<(Name, Vec<ServedBy>)>,
    keys: Vec<ServedBy>,
}

impl Links {
    /// Read from the answers of one zone's servers.
    pub(super) fn of(zone: &Zone, plan: &[Probe<'_>], views: &[ServerView]) -> Links {
        let mut links = Links::default();
        let known = |observed: &Observed| match observed {
            Observed::Present(set) => Some(Some(set.clone())),
            Observed::Absent => Some(None),
            Observed::Failed(_) | Observed::Unasked => None,
        };
        let served_by = |view: &ServerView, set| ServedBy {
            server: crate::escape::terminal(&view.server.label),
            set,
        };
        let mut keys_probed = false;
        for (index, probe) in plan.iter().enumerate() {
            let ds = probe.at_cut && probe.rtype == RecordType::DS;
            let keys = probe.rtype == RecordType::DNSKEY && *probe.name == zone.origin;
            if !ds && !keys {
                continue;
            }
            let served: Vec<ServedBy> = views
                .iter()
                .filter_map(|view| Some(served_by(view, known(view.answers.get(index)?)?)))
                .collect();
            if ds {
                links.ds.push((probe.name.clone(), served));
            } else {
                keys_probed = true;
                links.keys = served;
            }
        }
        // An unsigned zone has no DNSKEY probe: a transfer still tells whether it serves keys.
        if !keys_probed {
            links.keys = views
                .iter()
                .filter(|view| view.method == Method::Transfer && view.serial.is_ok())
                .map(|view| {
                    let extra = view.extras.iter().find(|extra| {
                        extra.rtype == RecordType::DNSKEY && extra.name == zone.origin
                    });
                    served_by(view, extra.map(|extra| extra.set.clone()))
                })
                .collect();
        }
        links
    }
}

/// Adds to the report of each child zone a `bogus` finding for every server of it whose keys
/// no DS of the parent points at, where the parent is audited in the same run.
pub(super) fn check_links(zones: &[(&Zone, Links)], reports: &mut [ZoneReport]) {
    for (child_at, (child, child_links)) in zones.iter().enumerate() {
        let parent_ds = zones
            .iter()
            .flat_map(|(_, links)| &links.ds)
            .filter(|(cut, _)| *cut == child.origin)
            .flat_map(|(_, served)| served);
        let mut findings: Vec<Finding> = Vec::new();
        for ds in parent_ds {
            for keys in &child_links.keys {
                if findings.iter().any(|f| f.servers.contains(&keys.server)) {
                    continue;
                }
                if let Some(broken) =
                    broken_chain(&child.origin, ds.set.as_ref(), keys.set.as_ref())
                {
                    let why = format!(
                        "validating resolvers reject every name of {}: {} serves its DS (key tag {}), {} {}",
                        crate::model::present_name(&child.origin),
                        ds.server,
                        broken.ds(),
                        keys.server,
                        broken.keys("serves"),
                    );
                    let mut finding = server_finding(child, Kind::Bogus, &keys.server, why);
                    finding.severity = Severity::Drift;
                    finding.host = "@".into();
                    finding.rtype = "DNSKEY".into();
                    findings.push(finding);
                }
            }
        }
        if let Some(report) = reports.get_mut(child_at) {
            report.server_findings.extend(findings);
        }
    }
}
