//! The finished result of a `check` run: findings per zone and host, server status, verdict and
//! exit code. Renderers only format a [`Report`]; nothing here does I/O.
//!
//! The JSON form of this type is the documented, versioned schema (`docs/json-schema.md`).

use crate::exit;
use serde::Serialize;

/// Version tag of the JSON schema; bumped on any incompatible change.
pub const SCHEMA: &str = "dns-audit.check/1";

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Live DNS differs from the expected records (exit 1).
    Drift,
    /// A server could not be asked or gave no usable answer (exit 3); never drift.
    Failure,
    /// Worth knowing, not wrong (propagation in progress, TTL with `ttl = "warn"`).
    Warning,
}

/// What kind of difference or fault a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An expected RRset is not served.
    MissingRrset,
    /// The RRset is served with other values than expected.
    WrongValue,
    /// A type is served at an expected name where none was expected.
    ExtraType,
    /// A name is served that is not expected at all (found by a zone transfer).
    UnexpectedName,
    /// The TTL differs from the expected one.
    TtlDiffers,
    /// The zone's servers do not serve the same RRset.
    ServersDisagree,
    /// SOA serials differ from the expected one or between servers (propagation in progress).
    SerialDiffers,
    /// A server answered without authority (lame delegation).
    NotAuthoritative,
    /// A server could not be asked about the zone at all.
    Unreachable,
    /// Some queries to a server failed; those RRsets are unknown.
    QueryFailed,
    /// A signature expires soon or has expired.
    SignatureExpiring,
    /// A server rate-limits our queries (the audit went on over TCP).
    RateLimited,
    /// A server the base branch's config does not allow was not asked (CI safety).
    NotAllowed,
    /// A zone transfer failed: the server was read by queries, which cannot see names nobody
    /// expected (a blind spot, said even under `--quiet`).
    TransferFailed,
    /// Servers on the same SOA serial serve different data (an edit without a serial bump).
    SameSerialOtherData,
    /// A signed RRset no signature of which verifies with a key of the zone: validating
    /// resolvers reject it (SERVFAIL for their users).
    Bogus,
    /// A recursive resolver still serves other data than expected (or a negative answer),
    /// cached from before a fix: it clears when the TTL it reports runs out.
    ResolverStale,
    /// A recursive resolver did not answer usably: what it serves is unknown.
    ResolverUnreachable,
    /// A server's zone transfer carried records not of the zone (outside its apex, or of
    /// another class): named, never compared as zone data.
    OutsideZone,
}

impl Severity {
    /// As JSON and metrics spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Drift => "drift",
            Severity::Failure => "failure",
            Severity::Warning => "warning",
        }
    }
}

impl Kind {
    /// As JSON and metrics spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MissingRrset => "missing_rrset",
            Kind::WrongValue => "wrong_value",
            Kind::ExtraType => "extra_type",
            Kind::UnexpectedName => "unexpected_name",
            Kind::TtlDiffers => "ttl_differs",
            Kind::ServersDisagree => "servers_disagree",
            Kind::SerialDiffers => "serial_differs",
            Kind::NotAuthoritative => "not_authoritative",
            Kind::Unreachable => "unreachable",
            Kind::QueryFailed => "query_failed",
            Kind::SignatureExpiring => "signature_expiring",
            Kind::RateLimited => "rate_limited",
            Kind::NotAllowed => "not_allowed",
            Kind::TransferFailed => "transfer_failed",
            Kind::SameSerialOtherData => "same_serial_other_data",
            Kind::Bogus => "bogus",
            Kind::ResolverStale => "resolver_stale",
            Kind::ResolverUnreachable => "resolver_unreachable",
            Kind::OutsideZone => "outside_zone",
        }
    }

    /// Short human label.
    pub fn label(self) -> &'static str {
        match self {
            Kind::MissingRrset => "missing",
            Kind::WrongValue => "wrong value",
            Kind::ExtraType => "not expected",
            Kind::UnexpectedName => "unexpected name",
            Kind::TtlDiffers => "TTL differs",
            Kind::ServersDisagree => "servers disagree",
            Kind::SerialDiffers => "serial differs",
            Kind::NotAuthoritative => "not authoritative",
            Kind::Unreachable => "unreachable",
            Kind::QueryFailed => "query failed",
            Kind::SignatureExpiring => "signature expiring",
            Kind::RateLimited => "rate limited",
            Kind::TransferFailed => "blind spot",
            Kind::SameSerialOtherData => "same serial, other data",
            Kind::NotAllowed => "not allowed",
            Kind::Bogus => "bogus",
            Kind::ResolverStale => "stale in a resolver",
            Kind::ResolverUnreachable => "resolver unreachable",
            Kind::OutsideZone => "not of the zone",
        }
    }
}

/// One thing found, with what, where and why. Every string is already escaped for display.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What it is.
    pub kind: Kind,
    /// The host (label below the apex; `@` for the apex; empty for server-wide findings).
    pub host: String,
    /// Owner name, fully qualified.
    pub name: String,
    /// Record type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// Expected values (presentation format), empty when none.
    pub expected: Vec<String>,
    /// Values served, empty when none.
    pub seen: Vec<String>,
    /// Values served but not expected.
    pub unexpected: Vec<String>,
    /// Values expected but not served.
    pub missing: Vec<String>,
    /// The servers that said so.
    pub servers: Vec<String>,
    /// Why this is reported, in a sentence.
    pub why: String,
    /// Since when (RFC 3339) its servers have served what is reported, from the history of
    /// earlier runs: the start of this run when no earlier run saw it; null when unknown.
    pub since: Option<String>,
    /// For drift: how long, in seconds, resolvers may keep serving what is reported after the
    /// fix: the served RRset's TTL, or for a missing one the negative-caching TTL of the
    /// served SOA (RFC 2308). Additive; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_for: Option<u32>,
    /// For a name nobody expected: the expected name it is one or two edits from (a typo'd
    /// new host?), fully qualified. Additive; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resembles: Option<String>,
}

/// `1 host`, `2 hosts`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// An age for people: "42 s", "6 min", "3 h", "2 d" (rounded).
pub fn age(seconds: i64) -> String {
    let secs = seconds.max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=5_399 => format!("{} min", (secs + 30) / 60),
        5_400..=172_799 => format!("{} h", (secs + 1800) / 3600),
        _ => format!("{} d", (secs + 43_200) / 86_400),
    }
}

/// RFC 3339 form of a time in seconds since 1970.
pub(crate) fn timestamp(seconds: i64) -> Option<String> {
    jiff::Timestamp::from_second(seconds)
        .ok()
        .map(|t| t.to_string())
}

/// One server of a zone.
#[derive(Clone, Debug, Serialize)]
pub struct ServerReport {
    /// NS name (or address when given directly).
    pub name: String,
    /// The instances that answered for its address (RFC 5001 NSID), where it says (additive;
    /// absent when it does not): one bad anycast node behind a shared address is told apart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<String>,
    /// Address asked.
    pub address: String,
    /// `ok`, or why it could not be asked.
    pub status: ServerStatus,
    /// SOA serial it serves.
    pub serial: Option<u32>,
    /// How its data was read: `axfr` or `queries`.
    pub method: crate::observe::Method,
    /// Why a zone transfer was not used, when one was tried.
    pub transfer_failure: Option<String>,
    /// Queries sent.
    pub queries: u64,
    /// Truncated answers asked again over TCP.
    pub tcp_fallbacks: u64,
    /// Timeouts retried.
    pub retries: u64,
    /// Empty truncated answers (rate-limit slips).
    pub slips: u64,
    /// The server rate-limited UDP; the rest of the audit went over TCP.
    pub rate_limited: bool,
    /// Queries that got no usable answer.
    pub failed_queries: u64,
}

impl ServerReport {
    /// Whether the server gave its zone's SOA (and so was read).
    pub fn answered(&self) -> bool {
        self.status == ServerStatus::Ok
    }
}

/// Whether a server gave its zone's SOA (and so was read): in JSON `ok`, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerStatus {
    /// It answered.
    Ok,
    /// Why it could not be asked: a timeout, an rcode, a lame answer, …
    Failed(String),
}

impl Serialize for ServerStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ServerStatus::Ok => serializer.serialize_str("ok"),
            ServerStatus::Failed(why) => serializer.serialize_str(why),
        }
    }
}

/// Findings of one host.
#[derive(Clone, Debug, Serialize)]
pub struct HostReport {
    /// Host label.
    pub host: String,
    /// Whether expected-records has the host (false: only names nobody expected are served
    /// under it).
    pub expected: bool,
    /// Worst severity among its findings.
    pub status: Severity,
    /// Its findings, worst first.
    pub findings: Vec<Finding>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One zone.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneReport {
    /// Zone apex.
    pub zone: String,
    /// The expected SOA serial.
    pub expected_serial: Option<u32>,
    /// Names compared.
    pub names_checked: usize,
    /// Hosts compared.
    pub hosts_checked: usize,
    /// Hosts no server answered for (every RRset failed or was not asked): unknown, never
    /// counted as matching (additive; absent when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub hosts_unknown: usize,
    /// Its servers.
    pub servers: Vec<ServerReport>,
    /// Hosts with findings only; the others are clean.
    pub hosts: Vec<HostReport>,
    /// Findings about the zone's servers rather than a host (unreachable, lame).
    pub server_findings: Vec<Finding>,
    /// The zone file the servers were compared with (additive; absent when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_file: Option<String>,
    /// What each recursive resolver serves of the names that drift or were fixed within their
    /// TTL (additive; absent when no resolver is configured or nothing needed asking).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolvers: Vec<crate::resolvers::Answer>,
    /// What the resolvers were asked about when no history narrowed it down (additive; absent
    /// when the history did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver_scope: Option<String>,
}

/// Overall verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every server answered, nothing drifted.
    Clean,
    /// Drift found.
    Drift,
    /// Some server could not be asked; what was asked had no drift.
    Incomplete,
}

impl Verdict {
    /// As JSON, metrics and the history store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Drift => "drift",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// Counts over the whole run.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Summary {
    /// Zones audited.
    pub zones: usize,
    /// Hosts audited.
    pub hosts: usize,
    /// Hosts with drift.
    pub hosts_drifted: usize,
    /// Drift findings.
    pub drift: usize,
    /// Failure findings.
    pub failures: usize,
    /// Warnings.
    pub warnings: usize,
    /// Queries sent.
    pub queries: u64,
}

/// The whole result of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Schema version tag.
    pub schema: &'static str,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long the whole run took: loading expected-records, asking, comparing, recording.
    pub duration_ms: u64,
    /// Of that, loading and planning expected-records (additive; absent when not measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<u64>,
    /// Verdict.
    pub verdict: Verdict,
    /// The process exit code that goes with the verdict.
    pub exit_code: i32,
    /// Counts.
    pub summary: Summary,
    /// Per zone.
    pub zones: Vec<ZoneReport>,
    /// The revision of expected-records compared: "commit HASH", "commit HASH with
    /// uncommitted changes to expected-records", or "not in git" (additive; absent when not
    /// looked up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Why this run is not in the history store, and what to do (absent when it is, or when
    /// `--no-record` said not to record it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_recorded: Option<String>,
}

impl Report {
    /// When the run started, seconds since 1970.
    pub fn started(&self) -> i64 {
        self.started_at
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_second())
            .unwrap_or_default()
    }

    /// Builds the report and its verdict from finished zone reports.
    pub fn new(started_at: String, duration_ms: u64, zones: Vec<ZoneReport>) -> Report {
        let mut summary = Summary {
            zones: zones.len(),
            ..Summary::default()
        };
        for zone in &zones {
            summary.hosts += zone.hosts_checked;
            summary.queries += zone.servers.iter().map(|s| s.queries).sum::<u64>();
            for host in &zone.hosts {
                if host.status == Severity::Drift {
                    summary.hosts_drifted += 1;
                }
            }
            let findings = zone.hosts.iter().flat_map(|h| &h.findings);
            for finding in findings.chain(&zone.server_findings) {
                match finding.severity {
                    Severity::Drift => summary.drift += 1,
                    Severity::Failure => summary.failures += 1,
                    Severity::Warning => summary.warnings += 1,
                }
            }
        }
        let verdict = if summary.drift > 0 {
            Verdict::Drift
        } else if summary.failures > 0 {
            Verdict::Incomplete
        } else {
            Verdict::Clean
        };
        let exit_code = match verdict {
            Verdict::Clean => exit::CLEAN,
            Verdict::Drift => exit::DRIFT,
            Verdict::Incomplete => exit::INCOMPLETE,
        };
        Report {
            schema: SCHEMA,
            started_at,
            duration_ms,
            verdict,
            exit_code,
            summary,
            zones,
            not_recorded: None,
            load_ms: None,
            revision: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_spelled_as_serde_spells_them() {
        let kinds = [
            Kind::MissingRrset,
            Kind::WrongValue,
            Kind::ExtraType,
            Kind::UnexpectedName,
            Kind::TtlDiffers,
            Kind::ServersDisagree,
            Kind::SerialDiffers,
            Kind::NotAuthoritative,
            Kind::Unreachable,
            Kind::QueryFailed,
            Kind::SignatureExpiring,
            Kind::RateLimited,
            Kind::NotAllowed,
            Kind::TransferFailed,
            Kind::SameSerialOtherData,
            Kind::Bogus,
            Kind::ResolverStale,
            Kind::ResolverUnreachable,
            Kind::OutsideZone,
        ];
        for kind in kinds {
            assert_eq!(serde_json::json!(kind), kind.as_str(), "{kind:?}");
        }
        for severity in [Severity::Drift, Severity::Failure, Severity::Warning] {
            assert_eq!(serde_json::json!(severity), severity.as_str());
        }
        for verdict in [Verdict::Clean, Verdict::Drift, Verdict::Incomplete] {
            assert_eq!(serde_json::json!(verdict), verdict.as_str());
        }
    }
}
