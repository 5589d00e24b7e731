//! One server's data against the expected zone: RRset by RRset, the names and types only a
//! transfer shows, and the signatures that do not validate.

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::rr::{Name, RData, RecordType};

use crate::config::TtlPolicy;
use crate::model::{presence_only, Rdata, RrSet, Zone};
use crate::observe::{Observed, Probe, ServerView};
use crate::report::{Kind, Severity};
use crate::transport::Failure;

use super::{negative_ttl, Scope};

/// What one server showed for one (name, type), before servers are merged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Difference {
    pub(super) kind: Kind,
    pub(super) severity: Severity,
    pub(super) name: Name,
    pub(super) rtype: RecordType,
    pub(super) expected: Vec<String>,
    pub(super) seen: Vec<String>,
    pub(super) unexpected: Vec<String>,
    pub(super) missing: Vec<String>,
    pub(super) why: String,
}

/// Every difference between what one server serves and expected-records, handed to `note`
/// with how long resolvers may cache it; returns the queries that failed, by cause.
pub(super) fn data_differences(
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
pub(super) fn bogus_differences(
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
pub(super) fn served<'v>(scope: &Scope<'_, '_>, view: &'v ServerView) -> crate::dnssec::Served<'v> {
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
pub(super) fn bogus_rrset(bogus: crate::dnssec::Bogus) -> Difference {
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
pub(super) fn unexpected(zone: &Zone, extra: &crate::observe::Extra) -> Difference {
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

/// The difference between what was expected and what one server showed, if any.
pub(super) fn difference(
    probe: &Probe<'_>,
    observed: &Observed,
    ttl_policy: TtlPolicy,
) -> Option<Difference> {
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
    pub(super) fn new(
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
pub(super) fn same(rtype: RecordType, want: &RrSet, got: &RrSet) -> bool {
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
pub(super) fn expiring_signatures(
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
pub(super) fn without_serial(set: &RrSet) -> BTreeSet<Rdata> {
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

pub(super) fn show_set(set: &RrSet, rtype: RecordType) -> String {
    let values: Vec<String> = set.rdatas.iter().map(|r| r.present(rtype)).collect();
    values.join(", ")
}
