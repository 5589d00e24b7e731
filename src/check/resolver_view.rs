//! The resolver view of a check: which names recursive resolvers are asked about (drifting
//! now, fixed in this run, or fixed within their TTL), and their answers as findings.

use hickory_proto::rr::{Name, RecordType};

use crate::history::History;
use crate::model::{present_name, Zone};
use crate::observe::{Observed, Probe, ServerView};
use crate::report::{Finding, Kind, ZoneReport};

/// The longest a resolver may cache anything of a zone for the resolver view: a week, the
/// usual cap of resolvers.
const RESOLVER_WINDOW: i64 = 7 * 86_400;

/// How long after its TTL ran out a fixed name is still asked about, so the report shows the
/// caches cleared.
const RESOLVER_GRACE: i64 = 300;

/// What resolvers are asked about: every name and type that drifts now, every one the last
/// runs saw served wrong (fixed in this run, then), and every one fixed on the authoritative
/// servers within its TTL (the expected RRset's, or the negative-caching TTL for one that was
/// missing) and a grace after, so their caches may still hold the old answer.
///
/// With no history to narrow it down (`--no-record`, a new store, on-call's laptop), every
/// expected address RRset (A, AAAA, CNAME) is asked, up to `limit`: a fix made before this run
/// may still be cached, and nothing else can tell. The second value says so, with the count.
pub(super) fn questions(
    (zone, depth): (&Zone, usize),
    (plan, views): (&[Probe<'_>], &[ServerView]),
    report: &ZoneReport,
    (history, limit): (Option<&History>, usize),
    now: i64,
) -> (Vec<crate::resolvers::Question>, Option<String>) {
    let drifting = |kind: Kind| {
        matches!(
            kind,
            Kind::MissingRrset | Kind::WrongValue | Kind::ExtraType | Kind::UnexpectedName
        )
    };
    let mut wanted: Vec<(String, String)> = report
        .hosts
        .iter()
        .flat_map(|h| &h.findings)
        .filter(|f| drifting(f.kind))
        .map(|f| (f.name.clone(), f.rtype.clone()))
        .collect();
    // The negative-caching TTL, for RRsets that should not exist (0 without an SOA).
    let negative_ttl = zone.soa_minimum().unwrap_or(0);
    let narrowed = history.is_some_and(|h| h.summary().is_ok_and(|(runs, _)| runs > 0));
    if let Some(history) = history.filter(|_| narrowed) {
        wanted.extend(fixed_earlier((zone, negative_ttl), report, history, now));
        wanted.extend(fixed_now(zone, (plan, views), report, history));
    }
    let scope = (!narrowed).then(|| {
        let addresses = every_address(plan);
        let asked = addresses.len().min(limit);
        let note = format!(
            "no history to narrow down what resolvers may cache: asked about {asked} of {} expected address RRsets (A, AAAA, CNAME; max_resolver_questions = {limit})",
            addresses.len()
        );
        wanted.extend(addresses.into_iter().take(limit));
        note
    });
    wanted.sort();
    wanted.dedup();
    let questions = wanted
        .into_iter()
        .filter_map(|(name, rtype)| {
            let owner = crate::model::canonical_name(&Name::from_ascii(&name).ok()?);
            let rtype = rtype.parse::<RecordType>().ok()?;
            let expected = zone.rrset(&owner, rtype);
            Some(crate::resolvers::Question {
                zone: report.zone.clone(),
                host: crate::model::host_of(&zone.origin, &owner, depth),
                expected: expected.map(|set| set.shown(rtype)).unwrap_or_default(),
                ttl: expected.map_or(negative_ttl, |set| set.ttl),
                name: owner,
                rtype,
            })
        })
        .collect();
    (questions, scope)
}

/// Every expected A, AAAA and CNAME RRset of the plan, in its order.
fn every_address(plan: &[Probe<'_>]) -> Vec<(String, String)> {
    plan.iter()
        .filter(|p| p.expected.is_some())
        .filter(|p| {
            matches!(
                p.rtype,
                RecordType::A | RecordType::AAAA | RecordType::CNAME
            )
        })
        .map(|p| (present_name(p.name), p.rtype.to_string()))
        .collect()
}

/// A resolver's answer as a finding: a stale or negative answer is a warning that clears
/// with its TTL; a resolver that did not answer is a failure (what it serves is unknown).
///
/// `served` is what the authoritative servers serve now where it drifts: a resolver that
/// serves the same is serving the drift (it will keep it up to its TTL after the fix), not
/// a stale cache.
pub fn finding(
    answer: &crate::resolvers::Answer,
    served: &[(String, String, Vec<String>)],
) -> Option<Finding> {
    use crate::report::Severity;
    use crate::resolvers::Seen;
    let what = format!("{} {}", answer.name, answer.rtype);
    let (severity, kind, seen, why, cached_for) = match &answer.seen {
        Seen::Expected => return None,
        Seen::Stale { values, ttl_left } => {
            let shown = values.join(", ");
            let resolver = &answer.resolver;
            let why = if serves_the_drift(answer, values, served) {
                format!("{resolver} serves the drift too: {what} {shown}, as the authoritative servers do now; after the fix it keeps it up to {ttl_left} s")
            } else {
                format!("{resolver} still serves {what} {shown}, for up to {ttl_left} s more")
            };
            let stale = (Severity::Warning, Kind::ResolverStale);
            (stale.0, stale.1, values.clone(), why, Some(*ttl_left))
        }
        Seen::Negative { ttl_left, nxdomain } => (
            Severity::Warning,
            Kind::ResolverStale,
            Vec::new(),
            format!(
                "{} holds a negative answer ({}) for {what}, for up to {ttl_left} s more",
                answer.resolver,
                if *nxdomain { "NXDOMAIN" } else { "no data" }
            ),
            Some(*ttl_left),
        ),
        Seen::Failed { why } => (
            Severity::Failure,
            Kind::ResolverUnreachable,
            Vec::new(),
            format!("{} did not answer about {what}: {why}", answer.resolver),
            None,
        ),
    };
    Some(Finding {
        severity,
        kind,
        host: answer.host.clone(),
        name: answer.name.clone(),
        rtype: answer.rtype.clone(),
        expected: answer.expected.clone(),
        seen,
        unexpected: Vec::new(),
        missing: Vec::new(),
        servers: vec![answer.resolver.clone()],
        why: crate::escape::terminal(&why),
        since: None,
        cached_for,
        resembles: None,
    })
}

/// Whether the resolver serves what the authoritative servers serve now where it drifts.
fn serves_the_drift(
    answer: &crate::resolvers::Answer,
    values: &[String],
    served: &[(String, String, Vec<String>)],
) -> bool {
    served.iter().any(|(name, rtype, seen)| {
        *name == answer.name && *rtype == answer.rtype && crate::resolvers::same_set(seen, values)
    })
}

/// The RRsets whose latest change in the history, on some server, made them what is expected
/// recently enough that caches may still hold the old answer (and a while after, to see them
/// clear).
fn fixed_earlier(
    (zone, negative_ttl): (&Zone, u32),
    report: &ZoneReport,
    history: &History,
    now: i64,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let changes = history
        .changes_since(now - RESOLVER_WINDOW)
        .unwrap_or_default();
    // Newest first: the first change of each RRset on each server is its latest.
    let mut latest = std::collections::HashSet::new();
    for change in changes.iter().filter(|c| c.zone == report.zone) {
        if !latest.insert((&change.name, &change.rtype, &change.server)) {
            continue;
        }
        let (Ok(name), Ok(rtype)) = (
            Name::from_ascii(&change.name),
            change.rtype.parse::<RecordType>(),
        ) else {
            continue;
        };
        let expected = zone.rrset(&crate::model::canonical_name(&name), rtype);
        let fixed = match expected {
            Some(set) => {
                change.present && crate::resolvers::same_set(&change.values, &set.shown(rtype))
            }
            None => !change.present,
        };
        let ttl = expected.map_or(negative_ttl, |set| set.ttl);
        if fixed && change.at + i64::from(ttl) + RESOLVER_GRACE >= now {
            out.push((change.name.clone(), change.rtype.clone()));
        }
    }
    out
}

/// The RRsets this run sees served as expected where the last run saw them otherwise, or not
/// at all: fixed in this run. A server's first run has nothing to compare with.
fn fixed_now(
    zone: &Zone,
    (plan, views): (&[Probe<'_>], &[ServerView]),
    report: &ZoneReport,
    history: &History,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(recorded) = history.latest_of_zone(&report.zone) {
        let known: std::collections::HashSet<&String> =
            recorded.keys().map(|(_, _, server)| server).collect();
        for view in views
            .iter()
            .filter(|v| known.contains(&v.server.addr.to_string()))
        {
            {
                let server = view.server.addr.to_string();
                for (probe, observed) in plan.iter().zip(&view.answers) {
                    let Observed::Present(set) = observed else {
                        continue;
                    };
                    let Some(expected) = zone.rrset(probe.name, probe.rtype) else {
                        continue;
                    };
                    let shown = set.shown(probe.rtype);
                    let (name, rtype) = (present_name(probe.name), probe.rtype.to_string());
                    let before = recorded.get(&(name.clone(), rtype.clone(), server.clone()));
                    let was_right = before
                        .and_then(|v| v.as_ref())
                        .is_some_and(|v| crate::resolvers::same_set(v, &shown));
                    if crate::resolvers::same_set(&shown, &expected.shown(probe.rtype))
                        && !was_right
                    {
                        out.push((name, rtype));
                    }
                }
            }
        }
    }
    out
}
