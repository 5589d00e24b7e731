//! `dns-audit lint`: validity of the proposed zone files, and the risk in the change against a
//! base version. Pure: takes loaded zones, returns findings; loading and git live in the caller.

pub mod conventions;
#[cfg(test)]
mod habits_tests;
mod numbering;
pub mod rules;
pub mod run;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;

use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;

use crate::diff::{diff_zones, relative, Op, RecordChange};
use crate::model::{host_of, present_name, target_of, Rdata, RrSet, TypeMap, Zone};
use crate::typo;
use crate::zonefile::{LoadedZone, ZoneError};

use conventions::{Conventions, Naming, SerialPolicy};
pub use rules::Check;

/// Schema tag of `lint --format json`.
pub const SCHEMA: &str = "dns-audit.lint/1";

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the lint (exit 1).
    Error,
    /// Reported; fails only with --strict.
    Warning,
}

/// One lint finding, with the place and the record it resembles.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LintFinding {
    /// Error or warning.
    pub level: Level,
    /// Which check (stable id, used by waivers).
    pub check: Check,
    /// File, as given.
    pub file: String,
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// 1-based column (0: unknown).
    pub column: usize,
    /// Zone apex.
    pub zone: String,
    /// Owner name.
    pub name: String,
    /// Record type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// What is wrong and why it is suspicious.
    pub message: String,
    /// The existing record it resembles, if any.
    pub resembles: Option<String>,
    /// For a near miss: what was intended and what was typed, for marking the slip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slip: Option<Slip>,
    /// The waiver's reason, when the config waives it.
    pub waived: Option<String>,
}

/// A value typed one edit from the one it resembles.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Slip {
    /// What exists (the intended value).
    pub intended: String,
    /// What the change brings.
    pub typed: String,
}

pub use crate::config::Waiver;

/// Settings of a lint run.
#[derive(Clone, Debug, Default)]
pub struct LintSettings {
    /// Share of the zone's RRsets that may change or go at once (0.3 = 30%).
    pub mass_change_share: f64,
    /// Allow a mass change.
    pub allow_mass_change: bool,
    /// Waivers.
    pub waivers: Vec<Waiver>,
}

/// The result of a lint run.
#[derive(Clone, Debug, Serialize)]
pub struct LintReport {
    /// Schema tag.
    pub schema: &'static str,
    /// Base revision compared against, if any.
    pub base: Option<String>,
    /// Findings, errors first.
    pub findings: Vec<LintFinding>,
    /// Errors not waived.
    pub errors: usize,
    /// Warnings not waived.
    pub warnings: usize,
    /// How each zone is kept, as lint judged it (learned from history or set in the config).
    pub conventions: Vec<Conventions>,
    /// The root of the git repository holding the files, when there is one (SARIF's URIs are
    /// relative to it).
    #[serde(skip)]
    pub root: Option<std::path::PathBuf>,
}

impl LintReport {
    /// Builds the report: applies waivers and counts.
    pub fn new(base: Option<String>, mut findings: Vec<LintFinding>, waivers: &[Waiver]) -> Self {
        for finding in &mut findings {
            finding.waived = waivers
                .iter()
                .find(|w| w.check == finding.check.id() && waiver_matches(w, finding))
                .map(|w| w.reason.clone());
        }
        findings.sort();
        findings.dedup();
        let count = |level| {
            findings
                .iter()
                .filter(|f| f.level == level && f.waived.is_none())
                .count()
        };
        LintReport {
            schema: SCHEMA,
            base,
            errors: count(Level::Error),
            warnings: count(Level::Warning),
            findings,
            conventions: Vec::new(),
            root: None,
        }
    }

    /// 1 with errors (or warnings under --strict), else 0.
    pub fn exit_code(&self, strict: bool) -> i32 {
        if self.errors > 0 || (strict && self.warnings > 0) {
            crate::exit::DRIFT
        } else {
            crate::exit::CLEAN
        }
    }
}

/// Whether `waiver` covers `finding`: its check, at its name.
pub(crate) fn waiver_matches(waiver: &Waiver, finding: &LintFinding) -> bool {
    if waiver.name == "*" {
        return true;
    }
    let wanted = if waiver.name.ends_with('.') {
        waiver.name.to_ascii_lowercase()
    } else if waiver.name == "@" {
        finding.zone.clone()
    } else if finding.zone == "." {
        format!("{}.", waiver.name.to_ascii_lowercase())
    } else {
        format!("{}.{}", waiver.name.to_ascii_lowercase(), finding.zone)
    };
    wanted == finding.name
}

/// Parse errors as findings.
pub(crate) fn parse_findings(errors: &[ZoneError]) -> Vec<LintFinding> {
    errors
        .iter()
        .map(|e| LintFinding {
            level: Level::Error,
            check: Check::Parse,
            file: e.file.display().to_string(),
            line: e.line,
            column: e.column,
            zone: String::new(),
            name: String::new(),
            rtype: String::new(),
            message: crate::escape::terminal(&e.message),
            resembles: None,
            slip: None,
            waived: None,
        })
        .collect()
}

/// Lints one zone as proposed, against its base version when there is one, with the
/// conventions the base alone shows (no history: serials by hand).
pub fn lint_zone(
    current: &LoadedZone,
    file: &str,
    base: Option<&Zone>,
    settings: &LintSettings,
    host_depth: usize,
) -> Vec<LintFinding> {
    let conventions = Conventions::learn(
        &current.zone,
        base,
        (Default::default(), Default::default()),
        Default::default(),
        host_depth,
    );
    let neighbours = Neighbours::default();
    lint_zone_in(
        current,
        file,
        base,
        settings,
        (&conventions, &neighbours),
        host_depth,
    )
}

/// Lints one zone as [`lint_zone`] does, under the conventions learned from its history and
/// beside the other zones of its directory.
pub(crate) fn lint_zone_in(
    current: &LoadedZone,
    file: &str,
    base: Option<&Zone>,
    settings: &LintSettings,
    (conventions, neighbours): (&Conventions, &Neighbours<'_>),
    host_depth: usize,
) -> Vec<LintFinding> {
    let mut lint = Lint {
        zone: &current.zone,
        loaded: current,
        file,
        origin: present_name(&current.zone.origin),
        host_depth,
        conventions,
        neighbours,
        findings: Vec::new(),
    };
    lint.validity();
    if let Some(base) = base {
        lint.risk(base, settings);
    }
    lint.findings
}

struct Lint<'a> {
    zone: &'a Zone,
    loaded: &'a LoadedZone,
    file: &'a str,
    origin: String,
    host_depth: usize,
    conventions: &'a Conventions,
    neighbours: &'a Neighbours<'a>,
    findings: Vec<LintFinding>,
}

/// Types that may sit beside a CNAME (DNSSEC data about it).
fn beside_cname(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
    )
}

impl Lint<'_> {
    fn line(&self, name: &Name, rtype: RecordType) -> usize {
        self.loaded
            .locations
            .get(&(name.clone(), rtype))
            .map_or(0, |l| l.line)
    }

    /// The line of one value of an RRset (the record a finding is about).
    fn value_line(&self, name: &Name, rtype: RecordType, value: &str) -> Option<usize> {
        let set = self.zone.rrset(name, rtype)?;
        let rdata = set.rdatas.iter().find(|r| r.present(rtype) == value)?;
        self.loaded
            .record_lines
            .get(&(name.clone(), rtype, rdata.clone()))
            .copied()
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        level: Level,
        check: Check,
        name: &str,
        rtype: &str,
        line: usize,
        message: String,
        resembles: Option<String>,
    ) {
        self.findings.push(LintFinding {
            level,
            check,
            file: self.file.to_string(),
            line,
            column: 0,
            zone: self.origin.clone(),
            name: name.to_string(),
            rtype: rtype.to_string(),
            message,
            resembles,
            slip: None,
            waived: None,
        });
    }

    /// Marks the finding just pushed as a slip of `intended`.
    fn slipped(&mut self, intended: &str, typed: &str) {
        if let Some(last) = self.findings.last_mut() {
            last.slip = Some(Slip {
                intended: intended.to_string(),
                typed: typed.to_string(),
            });
        }
    }

    fn rel(&self, name: &str) -> String {
        relative(name, &self.origin)
    }

    /// What makes the zone wrong on its own, whatever changed: each named check below.
    fn validity(&mut self) {
        let zone = self.zone;
        for (name, sets) in zone.iter() {
            if let Some(cname) = sets.get(&RecordType::CNAME) {
                self.cname_rules(name, sets, cname);
            }
            self.nsec3_validity(name, sets);
            if let Some(repeat) = repeats_origin(&zone.origin, name) {
                let shown = present_name(name);
                let rtype = sets.keys().next().copied().unwrap_or(RecordType::A);
                self.push(Level::Error, Check::RepeatedOrigin, &shown, &rtype.to_string(), self.line(name, rtype),
                    format!("{shown} repeats the zone name: was `{repeat}` written without its trailing dot?"), None);
            }
            for (rtype, set) in sets {
                for rdata in &set.rdatas {
                    let Some(target) = rdata.to_hickory(*rtype).as_ref().and_then(target_of) else {
                        continue;
                    };
                    // The line of this record, not of its RRset's first one.
                    let line = self
                        .value_line(name, *rtype, &rdata.present(*rtype))
                        .unwrap_or_else(|| self.line(name, *rtype));
                    self.target(name, *rtype, &crate::model::canonical_name(&target), line);
                }
            }
        }
        if let Some(mname) = mname(zone).and_then(|m| Name::from_ascii(m).ok()) {
            let line = self.line(&zone.origin, RecordType::SOA);
            let mname = crate::model::canonical_name(&mname);
            if let Some(meant) = reverse_slip(zone, &mname) {
                let message = format!("the SOA MNAME {} lies inside this reverse zone: was `{meant}` written without its trailing dot?", present_name(&mname));
                self.push(
                    Level::Error,
                    Check::MissingDot,
                    &self.origin.clone(),
                    "SOA",
                    line,
                    message,
                    None,
                );
            }
        }
        self.dnssec_validity();
        self.nsec3_parameters();
        self.apex_records();
        self.duplicates();
        self.ptrs_twice();
    }

    /// nsec3-parameters: the apex NSEC3PARAM against RFC 9276: more than 100 extra iterations
    /// and validating resolvers may treat the zone as insecure or answer SERVFAIL (an error);
    /// any extra iteration or a salt costs every resolver work for no protection, and flags
    /// other than opt-out are not defined (warnings).
    fn nsec3_parameters(&mut self) {
        let zone = self.zone;
        let Some(set) = zone.rrset(&zone.origin, RecordType::NSEC3PARAM) else {
            return;
        };
        for rdata in &set.rdatas {
            let wire = rdata.bytes();
            let (Some(&flags), Some(iterations), Some(&salt)) = (
                wire.get(1),
                wire.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]])),
                wire.get(4),
            ) else {
                continue;
            };
            let (level, why) = if iterations > 100 {
                (Level::Error, format!("{iterations} extra iterations: validating resolvers may treat the zone as insecure or answer SERVFAIL (RFC 9276 3.2); use 0"))
            } else if iterations > 0 || salt > 0 {
                (Level::Warning, format!("{iterations} extra iterations and a salt of {salt} octets cost every resolver work for no protection (RFC 9276 3.1 advises 0 and no salt)"))
            } else if flags > 1 {
                (
                    Level::Warning,
                    format!("flags {flags}: only opt-out (1) is defined for NSEC3 (RFC 5155)"),
                )
            } else {
                continue;
            };
            let line = self.line(&zone.origin, RecordType::NSEC3PARAM);
            let origin = self.origin.clone();
            self.push(
                level,
                Check::Nsec3Parameters,
                &origin,
                "NSEC3PARAM",
                line,
                format!(
                    "NSEC3PARAM {}: {why}",
                    rdata.present(RecordType::NSEC3PARAM)
                ),
                None,
            );
        }
    }

    /// ptr-twice: in a reverse zone, an address with more than one PTR (overlapping
    /// `$GENERATE` ranges, or a line copied and not changed): lookups answer with either name.
    fn ptrs_twice(&mut self) {
        if self.conventions.naming.value != Naming::Reverse {
            return;
        }
        let zone = self.zone;
        for (name, sets) in zone.iter() {
            let Some(set) = sets.get(&RecordType::PTR).filter(|s| s.rdatas.len() > 1) else {
                continue;
            };
            let shown = present_name(name);
            let message = format!(
                "{} has {} PTR records ({}): overlapping $GENERATE ranges, or a copied line? Reverse lookups answer with either",
                relative(&shown, &self.origin),
                set.rdatas.len(),
                set.shown(RecordType::PTR).join(", ")
            );
            let line = self.line(name, RecordType::PTR);
            self.push(
                Level::Warning,
                Check::PtrTwice,
                &shown,
                "PTR",
                line,
                message,
                None,
            );
        }
    }

    /// cname-at-apex, cname-and-other-data, two-cnames.
    fn cname_rules(&mut self, name: &Name, sets: &TypeMap, cname: &RrSet) {
        let shown = present_name(name);
        let line = self.line(name, RecordType::CNAME);
        if *name == self.zone.origin {
            let message = "a CNAME at the zone apex: the apex must hold SOA and NS".into();
            self.push(
                Level::Error,
                Check::CnameAtApex,
                &shown,
                "CNAME",
                line,
                message,
                None,
            );
        }
        if let Some(other) = sets.keys().find(|t| !beside_cname(**t)) {
            let message = format!(
                "{} has a CNAME and other data ({other}): a CNAME must stand alone",
                self.rel(&shown)
            );
            let check = Check::CnameAndOtherData;
            self.push(Level::Error, check, &shown, "CNAME", line, message, None);
        }
        if cname.rdatas.len() > 1 {
            let message = format!(
                "{} has {} CNAME records: only one is allowed",
                self.rel(&shown),
                cname.rdatas.len()
            );
            self.push(
                Level::Error,
                Check::TwoCnames,
                &shown,
                "CNAME",
                line,
                message,
                None,
            );
        }
    }

    /// What a name-bearing record at `name` points at: repeated-origin (a name written without
    /// its trailing dot), ns-below-dname, ns-without-address, dangling-target.
    fn target(&mut self, name: &Name, rtype: RecordType, target: &Name, line: usize) {
        let zone = self.zone;
        let shown = present_name(name);
        let (check, message) = if let Some(meant) = reverse_slip(zone, target) {
            (Check::MissingDot, format!("{rtype} target {} lies inside this reverse zone: was `{meant}` written without its trailing dot?", present_name(target)))
        } else if let Some(repeat) = repeats_origin(&zone.origin, target) {
            (Check::RepeatedOrigin, format!("{rtype} target {} repeats the zone name: was `{repeat}` written without its trailing dot?", present_name(target)))
        } else if let Some(dname) = below_dname(zone, target).filter(|_| rtype == RecordType::NS) {
            (
                Check::NsBelowDname,
                format!(
                    "NS {} is below the DNAME at {}: its address can never be looked up ({})",
                    present_name(target),
                    present_name(&dname),
                    if *name == zone.origin {
                        "BIND refuses to load the zone"
                    } else {
                        "Knot's kzonecheck rejects the zone"
                    }
                ),
            )
        } else if rtype == RecordType::NS && without_address(zone, target) {
            // named-checkzone refuses the zone: nobody could reach that server.
            (Check::NsWithoutAddress, format!(
                "NS {} is inside the zone but has no A or AAAA record (BIND refuses to load the zone)",
                present_name(target)
            ))
        } else if dangling(zone, target) {
            let hint = missing_dot_hint(&zone.origin, target).map_or_else(String::new, |meant| {
                format!(": was `{meant}` meant, written without its trailing dot?")
            });
            (
                Check::DanglingTarget,
                format!(
                    "{rtype} target {} is inside the zone but has no records{hint}",
                    present_name(target)
                ),
            )
        } else {
            return;
        };
        self.push(
            Level::Error,
            check,
            &shown,
            &rtype.to_string(),
            line,
            message,
            None,
        );
    }

    /// no-apex-soa, no-apex-ns: what BIND refuses to load a zone without.
    fn apex_records(&mut self) {
        let origin = &self.zone.origin;
        let apex = self.zone.get(origin);
        for (rtype, check) in [
            (RecordType::SOA, Check::NoApexSoa),
            (RecordType::NS, Check::NoApexNs),
        ] {
            if !apex.is_some_and(|sets| sets.contains_key(&rtype)) {
                let shown = present_name(origin);
                let message = format!(
                    "the zone has no {rtype} record at its apex {shown} (BIND refuses to load it)"
                );
                self.push(
                    Level::Error,
                    check,
                    &shown,
                    &rtype.to_string(),
                    0,
                    message,
                    None,
                );
            }
        }
    }

    /// duplicate: a record written twice with the same data (BIND keeps one).
    fn duplicates(&mut self) {
        for (name, rtype, place) in &self.loaded.duplicates {
            self.findings.push(LintFinding {
                level: Level::Warning,
                check: Check::Duplicate,
                file: self.file.to_string(),
                line: place.line,
                column: 0,
                zone: self.origin.clone(),
                name: present_name(name),
                rtype: rtype.to_string(),
                message: format!(
                    "{} {rtype} is written twice with the same data",
                    relative(&present_name(name), &self.origin)
                ),
                resembles: None,
                slip: None,
                waived: None,
            });
        }
    }

    /// Each DS of a delegation to a zone of the same directory against that zone's DNSKEY set:
    /// a DS that points at no key of it (a rollover that went too far, a child that is no longer
    /// signed) would make every name of the child bogus once both are live.
    fn delegation_chains(&mut self) {
        let zone = self.zone;
        let neighbours = self.neighbours;
        for (name, sets) in zone.iter() {
            let Some(ds) = sets.get(&RecordType::DS) else {
                continue;
            };
            if *name == zone.origin {
                continue;
            }
            let Some(child) = neighbours.current.iter().find(|z| z.origin == *name) else {
                continue;
            };
            let keys = child.rrset(&child.origin, RecordType::DNSKEY);
            let Some(broken) = crate::dnssec::broken_chain(name, Some(ds), keys) else {
                continue;
            };
            let shown = present_name(name);
            let message = format!(
                "the DS of {shown} (key tag {}) points at no key of the zone {shown} in this directory, which {}: once both are live, validating resolvers reject every name of {shown}",
                broken.ds(),
                broken.keys("has")
            );
            self.push(
                Level::Error,
                Check::DsMismatch,
                &shown,
                "DS",
                self.line(name, RecordType::DS),
                message,
                None,
            );
        }
    }

    /// What named-checkzone refuses in the apex's DNSSEC data: a DS (it belongs in the parent),
    /// CDS/CDNSKEY that match no DNSKEY of the zone (the parent would install a DS for a key
    /// that does not sign: the zone goes bogus). NSEC3 and NS-below-DNAME are checked with
    /// every name in `validity`.
    fn dnssec_validity(&mut self) {
        self.delegation_chains();
        let zone = self.zone;
        let origin = &zone.origin;
        let apex = zone.get(origin);
        let shown = present_name(origin);
        if apex.is_some_and(|sets| sets.contains_key(&RecordType::DS)) {
            let line = self.line(origin, RecordType::DS);
            let message = "a DS record at the zone apex: DS belongs in the parent zone (BIND refuses to load it)".to_string();
            self.push(
                Level::Error,
                Check::DsAtApex,
                &shown,
                "DS",
                line,
                message,
                None,
            );
        }
        let keys: Vec<&Rdata> = apex
            .and_then(|sets| sets.get(&RecordType::DNSKEY))
            .map(|set| set.rdatas.iter().collect())
            .unwrap_or_default();
        // With no DNSKEY at all, only a delete record (RFC 8078) matches.
        for rtype in [RecordType::CDS, RecordType::CDNSKEY] {
            let Some(set) = apex.and_then(|sets| sets.get(&rtype)) else {
                continue;
            };
            for rdata in &set.rdatas {
                if !child_key_matches(rtype, rdata.bytes(), &keys) {
                    let line = self.line(origin, rtype);
                    let message = format!(
                        "{rtype} {} matches no DNSKEY of the zone: the parent would publish a DS for a key that signs nothing, and validating resolvers would reject the zone (BIND refuses to load it)",
                        rdata.present(rtype)
                    );
                    self.push(
                        Level::Error,
                        Check::CdsWithoutDnskey,
                        &shown,
                        &rtype.to_string(),
                        line,
                        message,
                        None,
                    );
                }
            }
        }
    }

    /// NSEC3 records BIND refuses: an owner that is not a base32hex hash, a SHA-1 next hash
    /// that is not 20 octets.
    fn nsec3_validity(&mut self, name: &Name, sets: &crate::model::TypeMap) {
        if let Some(set) = sets.get(&RecordType::NSEC3) {
            let label = name.iter().next().unwrap_or_default();
            let base32hex =
                |b: &u8| b.is_ascii_digit() || matches!(b.to_ascii_lowercase(), b'a'..=b'v');
            if label.is_empty() || !label.iter().all(base32hex) {
                let line = self.line(name, RecordType::NSEC3);
                let message = "an NSEC3 owner's first label is a hash in base32hex without padding (BIND refuses to load it)".to_string();
                self.push(
                    Level::Error,
                    Check::Nsec3Owner,
                    &present_name(name),
                    "NSEC3",
                    line,
                    message,
                    None,
                );
            }
            for rdata in &set.rdatas {
                if let Some(length) = sha1_nsec3_hash_length(rdata.bytes()).filter(|l| *l != 20) {
                    let line = self.line(name, RecordType::NSEC3);
                    let message = format!("NSEC3 next hashed owner of {length} octets: SHA-1 gives 20 (BIND refuses to load it)");
                    self.push(
                        Level::Error,
                        Check::Nsec3HashLength,
                        &present_name(name),
                        "NSEC3",
                        line,
                        message,
                        None,
                    );
                }
            }
        }
    }

    /// The judgement of the change from `base`: each named check below, in turn.
    fn risk(&mut self, base: &Zone, settings: &LintSettings) {
        self.mname_changed(base);
        let changes = diff_zones(base, self.zone, self.host_depth);
        if changes.is_empty() {
            return;
        }
        self.serial_not_raised(base);
        let view = ZoneView::new(base, self.zone, self.host_depth);
        let systematic = systematic(&changes);
        let new_hosts: BTreeSet<String> = view
            .current_hosts
            .difference(&view.base_hosts)
            .cloned()
            .collect();
        self.mass_change(base, &changes, settings, systematic.is_some());
        self.targets_removed(base, &changes);
        let mut flagged_hosts = BTreeSet::new();
        for change in &changes {
            let Some(spot) = self.spot(change) else {
                continue;
            };
            self.zone_wide(&spot, base);
            if new_hosts.contains(&change.host) && flagged_hosts.insert(change.host.clone()) {
                self.near_miss_host(&spot, &view);
            }
            self.near_miss_shape(&spot, &view);
            self.other_host(&spot, &new_hosts, &view);
            if matches!(spot.rtype, RecordType::A | RecordType::AAAA) {
                for value in &spot.added {
                    self.address(&spot, value, &view, systematic);
                }
                self.second_address(&spot);
            }
            if spot.rtype == RecordType::PTR {
                self.ptr_forward(&spot);
            }
            self.ttl_outlier(change, spot.rtype, spot.line, &systematic);
        }
    }

    /// Where findings about `change` point: the record it added, else its RRset.
    fn spot<'c>(&self, change: &'c RecordChange) -> Option<Spot<'c>> {
        let rtype = change.rtype.parse::<RecordType>().ok()?;
        let name = Name::from_ascii(&change.name)
            .map(|n| crate::model::canonical_name(&n))
            .ok();
        let added: Vec<&'c String> = change
            .after
            .iter()
            .filter(|v| !change.before.contains(v))
            .collect();
        let line = name.as_ref().map_or(0, |n| {
            added
                .first()
                .and_then(|v| self.value_line(n, rtype, v))
                .unwrap_or_else(|| self.line(n, rtype))
        });
        Some(Spot {
            change,
            rtype,
            name,
            added,
            line,
            rel: self.rel(&change.name),
        })
    }

    /// A finding about the change at `spot`.
    fn flag(
        &mut self,
        spot: &Spot<'_>,
        level: Level,
        check: Check,
        message: String,
        resembles: Option<String>,
    ) {
        let (name, rtype) = (&spot.change.name, &spot.change.rtype);
        // The blast radius of an error, unless the message already names a TTL.
        let message = match self.linger(spot) {
            Some(linger) if level == Level::Error && !message.contains("TTL") => {
                format!("{message}; {linger}")
            }
            _ => message,
        };
        self.push(level, check, name, rtype, spot.line, message, resembles);
    }

    /// How long a mistake in the change at `spot` would linger in resolvers' caches after the
    /// fix: the RRset's TTL; for a new name or a removal, the zone's negative-caching TTL
    /// (RFC 2308) answered to those who asked for what was not there. With the advice to
    /// lower a long TTL ahead of a risky change.
    fn linger(&self, spot: &Spot<'_>) -> Option<String> {
        let name = spot.name.as_ref()?;
        let (ttl, what) = match spot.change.op {
            Op::Changed => (self.zone.rrset(name, spot.rtype)?.ttl, "its TTL"),
            Op::Added if self.zone.get(name).is_some_and(|sets| sets.len() > 1) => {
                (self.zone.rrset(name, spot.rtype)?.ttl, "its TTL")
            }
            Op::Added | Op::Removed => (self.zone.soa_minimum()?, "the negative-caching TTL"),
        };
        let advice = if ttl > 300 {
            ": lower the TTL a while ahead of a risky change to shorten that"
        } else {
            ""
        };
        Some(format!(
            "a mistake here lingers in resolvers' caches up to {} after the fix ({what} {ttl}){advice}",
            crate::report::age(i64::from(ttl))
        ))
    }

    /// delegation-change, dnssec-change: a change that can take the whole zone (or a whole
    /// delegated subtree) down, named with its blast radius. A planned change (a key rollover,
    /// a move of nameservers) goes through with a waiver and its reason. What cannot break a
    /// name that resolves today is left alone: a new delegation over nothing, new glue, glue
    /// no NS uses any more, a TTL alone; a delegation or DS that goes is a warning.
    fn zone_wide(&mut self, spot: &Spot<'_>, base: &Zone) {
        let Some(name) = &spot.name else {
            return;
        };
        let change = spot.change;
        if change.op == Op::Changed && change.before == change.after {
            return;
        }
        let zone = self.zone;
        // Where the name sits: at a delegation, or below one (glue), in either version.
        let cut = zone
            .cut_above(name)
            .or_else(|| base.cut_above(name))
            .cloned();
        let ttl = zone
            .rrset(name, spot.rtype)
            .or_else(|| base.rrset(name, spot.rtype))
            .map_or(0, |set| set.ttl);
        let place = Place {
            name,
            apex: *name == zone.origin,
            at_cut: cut.as_ref() == Some(name),
            cut: cut.as_ref().filter(|c| *c != name),
            ttl,
            cached: crate::report::age(i64::from(ttl)),
        };
        let judged = match spot.rtype {
            RecordType::NS => self.delegation_change(spot, base, &place),
            RecordType::A | RecordType::AAAA => self.glue_change(spot, &place),
            _ => dnssec_change(spot, &place),
        };
        if let Some((level, check, message)) = judged {
            self.flag(spot, level, check, message, None);
        }
    }

    /// A change of the zone's own NS set or of a delegation's.
    fn delegation_change(
        &self,
        spot: &Spot<'_>,
        base: &Zone,
        place: &Place<'_>,
    ) -> Option<(Level, Check, String)> {
        let (change, zone, name) = (spot.change, self.zone, place.name);
        let (ttl, cached) = (place.ttl, &place.cached);
        let (level, message) = match change.op {
            _ if place.apex => {
                let (level, how) = ns_set_change(base, zone, name, self.neighbours);
                return Some((level, Check::DelegationChange, format!(
                    "the zone's own NS set changes ({}){how}: every name of the zone depends on it; the parent's copy must change with it, and resolvers keep the old set up to the parent's NS TTL",
                    change.line()
                )));
            }
            _ if !place.at_cut => return None,
            Op::Added => {
                let hidden = occluded(base, name, &ns_targets(zone, name));
                if hidden == 0 {
                    return None;
                }
                (Level::Error, format!(
                    "a new delegation at {} ({}) hides {hidden} name{} of this zone below it: they stop resolving here",
                    spot.rel, change.line(), if hidden == 1 { "" } else { "s" }
                ))
            }
            Op::Removed => (Level::Warning, format!(
                "the delegation of {} goes ({}): every name below it stops resolving, after up to {cached} (TTL {ttl}) in caches",
                spot.rel, change.line()
            )),
            _ => {
                let (level, how) = ns_set_change(base, zone, name, self.neighbours);
                (level, format!(
                    "the delegation of {} changes ({}){how}: every name below it depends on it; resolvers keep the old one up to {cached} (TTL {ttl})",
                    spot.rel, change.line()
                ))
            }
        };
        Some((level, Check::DelegationChange, message))
    }

    /// A change of glue: an address below a delegation that an NS record of the zone uses.
    fn glue_change(&self, spot: &Spot<'_>, place: &Place<'_>) -> Option<(Level, Check, String)> {
        let cut = place.cut?;
        let op = spot.change.op;
        let used = !self.ns_pointing_at(place.name).is_empty();
        if op == Op::Added || (op == Op::Removed && !used) {
            return None;
        }
        let (ttl, cached) = (place.ttl, &place.cached);
        Some((Level::Error, Check::DelegationChange, format!(
            "glue of a delegation changes ({}): the servers of {} are reached through it; resolvers keep the old address up to {cached} (TTL {ttl})",
            spot.change.line(),
            self.rel(&crate::model::present_name(cut))
        )))
    }

    /// The NS records of the zone that name `target`, as `owner NS`.
    fn ns_pointing_at(&self, target: &Name) -> Vec<String> {
        self.pointers_to(target)
            .into_iter()
            .filter(|p| p.ends_with(" NS"))
            .collect()
    }

    /// target-removed: the last address of a name that an NS, MX, SRV or CNAME still points
    /// at goes away.
    fn targets_removed(&mut self, base: &Zone, changes: &[RecordChange]) {
        let zone = self.zone;
        let has_address = |z: &Zone, n: &Name| {
            z.rrset(n, RecordType::A).is_some() || z.rrset(n, RecordType::AAAA).is_some()
        };
        let mut told = BTreeSet::new();
        for change in changes.iter().filter(|c| c.op == Op::Removed) {
            let Ok(name) = Name::from_ascii(&change.name).map(|n| crate::model::canonical_name(&n))
            else {
                continue;
            };
            if !matches!(change.rtype.as_str(), "A" | "AAAA")
                || !has_address(base, &name)
                || has_address(zone, &name)
                || !told.insert(name.clone())
            {
                continue;
            }
            let pointers = self.pointers_to(&name);
            if pointers.is_empty() {
                continue;
            }
            // A removed record has no line in the proposed file: the finding is the file's.
            let line = 0;
            let shown = crate::model::present_name(&name);
            let message = format!(
                "the last address of {} goes, while {} still point{} at it: mail, delegations or services there stop",
                self.rel(&shown),
                pointers.join(", "),
                if pointers.len() == 1 { "s" } else { "" }
            );
            self.push(
                Level::Error,
                Check::TargetRemoved,
                &shown,
                &change.rtype,
                line,
                message,
                None,
            );
        }
    }

    /// The NS, MX, SRV and CNAME records of the zone that point at `name`, as `owner TYPE`.
    fn pointers_to(&self, name: &Name) -> Vec<String> {
        let pointing = |rtype: RecordType, set: &RrSet| {
            matches!(
                rtype,
                RecordType::NS | RecordType::MX | RecordType::SRV | RecordType::CNAME
            ) && set.rdatas.iter().any(|rdata| {
                rdata
                    .to_hickory(rtype)
                    .as_ref()
                    .and_then(target_of)
                    .is_some_and(|t| crate::model::canonical_name(&t) == *name)
            })
        };
        self.zone
            .iter()
            .flat_map(|(owner, sets)| sets.iter().map(move |(rtype, set)| (owner, *rtype, set)))
            .filter(|(_, rtype, set)| pointing(*rtype, set))
            .map(|(owner, rtype, _)| {
                format!("{} {rtype}", self.rel(&crate::model::present_name(owner)))
            })
            .collect()
    }

    /// delegation-change: the SOA MNAME, the primary that dynamic updates and NOTIFY go to,
    /// changes (the SOA's other changes, its serial first, are the routine of every edit): an
    /// error when the new primary is a name of this zone with no address, else a warning.
    fn mname_changed(&mut self, base: &Zone) {
        let (old, new) = (mname(base), mname(self.zone));
        if old == new {
            return;
        }
        let zone = self.zone;
        let unreachable = new
            .as_deref()
            .and_then(|n| Name::from_ascii(n).ok())
            .map(|n| crate::model::canonical_name(&n))
            .is_some_and(|n| {
                zone.origin.zone_of(&n) && zone.cut_above(&n).is_none() && without_address(zone, &n)
            });
        let (level, why) = if unreachable {
            (Level::Error, ": it has no address in this zone")
        } else {
            (Level::Warning, "")
        };
        let line = self.line(&self.zone.origin, RecordType::SOA);
        let message = format!(
            "the SOA MNAME changes ({} -> {}){why}: dynamic updates and NOTIFY go to the primary it names",
            old.unwrap_or_default(),
            new.unwrap_or_default()
        );
        let origin = self.origin.clone();
        self.push(
            level,
            Check::DelegationChange,
            &origin,
            "SOA",
            line,
            message,
            None,
        );
    }

    /// serial-not-raised: the zone changed and its SOA serial did not go up: an error where
    /// serials are raised by hand, a warning where they usually are, nothing where tooling
    /// raises them (see [`conventions`]).
    fn serial_not_raised(&mut self, base: &Zone) {
        let level = match self.conventions.serials.value {
            SerialPolicy::ByHand => Level::Error,
            SerialPolicy::Usually => Level::Warning,
            SerialPolicy::Managed => return,
        };
        let (Some(old), Some(new)) = (base.serial(), self.zone.serial()) else {
            return;
        };
        if new <= old {
            let line = self.line(&self.zone.origin, RecordType::SOA);
            // Lowered by hand where the history raises serials in the file: always an error,
            // as secondaries take a lower serial for an older zone and keep theirs.
            let (level, what) = match new < old {
                true => (Level::Error, "its SOA serial went down"),
                false => (level, "its SOA serial did not go up"),
            };
            let message = format!(
                "the zone changed but {what} ({old} -> {new}): secondaries will not pick up the change (serials: {})",
                self.conventions.serials.why
            );
            self.push(
                level,
                Check::SerialNotRaised,
                &self.origin.clone(),
                "SOA",
                line,
                message,
                None,
            );
        }
    }

    /// mass-change: a share of the zone changed or deleted at once (octoDNS's safety check),
    /// unless the change is systematic (a renumbering, a TTL policy) or allowed.
    fn mass_change(
        &mut self,
        base: &Zone,
        changes: &[RecordChange],
        settings: &LintSettings,
        systematic: bool,
    ) {
        let touched = changes.iter().filter(|c| c.op != Op::Added).count();
        let total = base
            .iter()
            .map(|(_, sets)| sets.len())
            .sum::<usize>()
            .max(1);
        let share = touched as f64 / total as f64;
        if touched >= MASS_CHANGE_MIN
            && share > settings.mass_change_share
            && !settings.allow_mass_change
            && !systematic
        {
            let line = self.line(&self.zone.origin, RecordType::SOA);
            self.push(Level::Error, Check::MassChange, &self.origin.clone(), "", line,
                format!("{touched} of {total} RRsets ({:.0}%) change or go at once, over the {:.0}% threshold: pass --allow-mass-change if that is meant",
                    share * 100.0, settings.mass_change_share * 100.0), None);
        }
    }

    /// near-miss-name: a new host whose label is a near miss of an existing one. An error where
    /// the zone's own naming makes it one (a slip of a numbered series in a numbered zone, a
    /// slip of the hand on a word, a new name that gets just what its near twin lacks); a
    /// warning where a new word may be meant (`nodes` beside `node`). Reverse zones are not
    /// judged by spelling.
    fn near_miss_host(&mut self, spot: &Spot<'_>, view: &ZoneView) {
        let host = &spot.change.host;
        let Some(near) = view.near_miss_host(host) else {
            return;
        };
        let existing = &near.existing;
        let level = match (self.conventions.naming.value, near.judged_by) {
            (Naming::Reverse, _) => return,
            (Naming::Numbered, Judged::Series) => Level::Error,
            (Naming::Words, Judged::Series) => Level::Warning,
            (_, Judged::Spelling) => {
                let one_slip = typo::distance(existing, host) == 1;
                if typo::typo_like(existing, host) || (one_slip && view.complements(existing, host))
                {
                    Level::Error
                } else {
                    Level::Warning
                }
            }
        };
        let message = format!(
            "new host {host} is a near miss of existing host {existing} ({}){}",
            near.why,
            self.naming_note(level)
        );
        self.flag(
            spot,
            level,
            Check::NearMissName,
            message,
            Some(view.describe_host(existing)),
        );
        self.slipped(existing, host);
    }

    /// Why a near miss is only a warning: the zone names things by words.
    fn naming_note(&self, level: Level) -> String {
        if level == Level::Warning {
            format!(": a new name, or a slip? ({})", self.conventions.naming.why)
        } else {
            String::new()
        }
    }

    /// near-miss-name: a new name of a shape no host has, one or two edits from one that
    /// exists (underscore names, service labels, are left alone). An error for a slip of the
    /// hand, else a warning.
    fn near_miss_shape(&mut self, spot: &Spot<'_>, view: &ZoneView) {
        let change = spot.change;
        if change.op != Op::Added
            || self.conventions.naming.value == Naming::Reverse
            || spot.rel.split('.').any(|l| l.starts_with('_'))
            || view.base_names.contains(&change.name)
        {
            return;
        }
        if let Some((shape, why, typed)) = view.near_miss_shape(&change.name, &change.host) {
            let level = if typo::typo_like(&shape, &typed) {
                Level::Error
            } else {
                Level::Warning
            };
            let shown = shape.replace("{}", &change.host);
            let message = format!(
                "{} looks like a slip of the existing name pattern {shown} ({why}){}",
                spot.rel,
                self.naming_note(level)
            );
            self.flag(spot, level, Check::NearMissName, message, Some(shown));
        }
    }

    /// other-host: setting up one host must not touch another the way a slip does: giving it a
    /// value of the new host (the incident) or of another host (a copied line), or changing
    /// its value by one slip. Other edits bundled in the same change are the reviewer's to
    /// read, not an alarm.
    fn other_host(&mut self, spot: &Spot<'_>, new_hosts: &BTreeSet<String>, view: &ZoneView) {
        let change = spot.change;
        if new_hosts.is_empty()
            || new_hosts.contains(&change.host)
            || change.host == "@"
            || view.pool(spot.rtype, &change.host)
        {
            return;
        }
        let copied = spot.added.iter().find_map(|value| {
            if view.shared(spot.rtype, value, &change.host) {
                return None;
            }
            let owners = view.owners.get(&(spot.rtype, (*value).clone()))?;
            let from = owners
                .iter()
                .filter(|o| *o != &change.host && *o != "@")
                .min_by_key(|o| !new_hosts.contains(*o))?;
            Some(format!("{} {value}, {from}'s value", spot.rtype))
        });
        // A value naming a new host (a CNAME or NS moved onto it) is the setup itself.
        let names_new = change.after.iter().any(|v| {
            new_hosts
                .iter()
                .any(|h| v.contains(&format!("{h}.{}", self.origin)))
        });
        if names_new {
            return;
        }
        let slipped = match (change.before.as_slice(), change.after.as_slice()) {
            ([before], [after]) if typo::typo_like(before, after) => typo::slip(before, after)
                .map(|why| format!("{} {after}, one {why} from {before}", spot.rtype)),
            _ => None,
        };
        let numbered = spot.added.iter().find_map(|value| {
            number_slip(&change.host, value).map(|why| format!("{} {value}, {why}", spot.rtype))
        });
        let Some(what) = copied.or(slipped).or(numbered) else {
            return;
        };
        let hosts: Vec<&str> = new_hosts.iter().map(String::as_str).collect();
        let message = format!(
            "this change sets up {} but also gives {} {what}: {}",
            hosts.join(", "),
            change.host,
            change.line()
        );
        self.flag(spot, Level::Error, Check::OtherHost, message, None);
    }

    /// address-reuse, near-miss-address, address-pattern: an address the change adds that
    /// belongs to another host, is one slip from the one it replaces, or breaks the pattern.
    fn address(
        &mut self,
        spot: &Spot<'_>,
        value: &str,
        view: &ZoneView,
        systematic: Option<Systematic>,
    ) {
        let (change, rtype, rel) = (spot.change, spot.rtype, &spot.rel);
        // Glue repeats the address of the server it names: judged with the delegation.
        let glue = spot
            .name
            .as_ref()
            .is_some_and(|n| self.zone.cut_above(n).is_some_and(|cut| cut != n));
        let line = spot
            .name
            .as_ref()
            .and_then(|n| self.value_line(n, rtype, value))
            .unwrap_or(spot.line);
        let at = Spot {
            line,
            ..spot.clone()
        };
        if let Some(owner) = view
            .owner_elsewhere(rtype, value, &change.host)
            .filter(|_| !glue)
        {
            if let Some((level, why)) = self.reuse(view, &change.host, &owner, rtype, value) {
                let message =
                    format!("{rel} {rtype} {value}: that address belongs to {owner}{why}");
                let like = Some(format!("{owner} {rtype} {value}"));
                self.flag(&at, level, Check::AddressReuse, message, like);
            }
            return;
        }
        if change.op == Op::Changed && change.before.len() == 1 && change.after.len() == 1 {
            let before = &change.before[0];
            if let Some(why) = typo::slip(before, value) {
                let message = format!(
                    "{rel} {rtype} changes from {before} to {value}, one {why} away: a slip?"
                );
                let like = Some(format!("{rel} {rtype} {before}"));
                self.flag(&at, Level::Warning, Check::NearMissAddress, message, like);
                self.slipped(before, value);
                return;
            }
        }
        if systematic != Some(Systematic::Renumbering) {
            if let Some(why) = view.off_pattern(rtype, value, &change.host) {
                let (level, why) = numbering::judged(
                    view.numbering.off(rtype, value, &change.host),
                    why,
                    &format!("{rel} {rtype}"),
                );
                let message = format!("{rel} {rtype} {value} {why}");
                self.flag(&at, level, Check::AddressPattern, message, None);
            }
        }
    }

    /// How bad it is that `host` takes `owner`'s address: an error when an existing host
    /// takes it (the incident: bh17 given the address of the host being set up), or a new
    /// host of a numbered series takes its sibling's (a copied line); a warning when a new name
    /// joins an existing server (an alias, often deliberate); nothing when the address was
    /// already shared (the apex's, or two hosts').
    fn reuse(
        &self,
        view: &ZoneView,
        host: &str,
        owner: &str,
        rtype: RecordType,
        value: &str,
    ) -> Option<(Level, &'static str)> {
        if view.shared(rtype, value, host) || view.pool(rtype, owner) {
            return None;
        }
        // The apex, or a name given the addresses of several hosts at once, is a service name
        // (round robin over servers), not a host.
        if host == "@" || owner == "@" || view.pool(rtype, host) {
            return Some((
                Level::Warning,
                ": a service name over existing servers, or a slip?",
            ));
        }
        if view.base_hosts.contains(host) {
            return Some((Level::Error, ""));
        }
        let siblings = matches!(
            (typo::numbered(host), typo::numbered(owner)),
            (Some((a, _, _)), Some((b, _, _))) if a == b
        );
        if self.conventions.naming.value == Naming::Numbered && siblings {
            Some((Level::Error, ": a copied line?"))
        } else {
            Some((
                Level::Warning,
                ": a new name on an existing server (an alias?), or a slip?",
            ))
        }
    }

    /// ptr-forward: a PTR the change adds names a host of another zone of the directory that
    /// has no A or AAAA record for the PTR's address (forward and reverse disagree: mail
    /// servers and logs that check both will distrust the host).
    fn ptr_forward(&mut self, spot: &Spot<'_>) {
        let Some(address) = spot
            .name
            .as_ref()
            .and_then(|n| n.parse_arpa_name().ok())
            .filter(|net| net.prefix_len() == net.max_prefix_len())
            .map(|net| net.addr().to_string())
        else {
            return;
        };
        for value in &spot.added {
            let Ok(target) = Name::from_ascii(value.as_str()) else {
                continue;
            };
            let target = crate::model::canonical_name(&target);
            let Some(forward) = self.neighbours.holder(&target) else {
                continue;
            };
            let has: BTreeSet<String> = [RecordType::A, RecordType::AAAA]
                .iter()
                .filter_map(|t| forward.rrset(&target, *t).map(|s| s.shown(*t)))
                .flatten()
                .collect();
            if has.contains(&address) {
                continue;
            }
            let holds = if has.is_empty() {
                "no address".to_string()
            } else {
                has.into_iter().collect::<Vec<_>>().join(", ")
            };
            let message = format!(
                "{} PTR {value}: that name has {holds} in {}, not {address}: forward and reverse disagree",
                spot.rel,
                present_name(&forward.origin)
            );
            self.flag(spot, Level::Warning, Check::PtrForward, message, None);
        }
    }

    /// second-address: a host that had one address gains a second.
    fn second_address(&mut self, spot: &Spot<'_>) {
        let change = spot.change;
        if change.op != Op::Changed || change.before.len() != 1 || change.after.len() != 2 {
            return;
        }
        let added: Vec<&str> = spot.added.iter().map(|v| v.as_str()).collect();
        let message = format!(
            "{} gains a second {} ({}) it never had: is one of them meant for another host?",
            spot.rel,
            spot.rtype,
            added.join(", ")
        );
        let like = Some(format!("{} {} {}", spot.rel, spot.rtype, change.before[0]));
        self.flag(spot, Level::Warning, Check::SecondAddress, message, like);
    }

    fn ttl_outlier(
        &mut self,
        change: &RecordChange,
        rtype: RecordType,
        line: usize,
        systematic: &Option<Systematic>,
    ) {
        if change.op == Op::Removed || *systematic == Some(Systematic::TtlPolicy) {
            return;
        }
        let Ok(name) = Name::from_ascii(&change.name).map(|n| crate::model::canonical_name(&n))
        else {
            return;
        };
        let Some(ttl) = self.zone.rrset(&name, rtype).map(|s| s.ttl) else {
            return;
        };
        let mut ttls: Vec<u32> = self
            .zone
            .iter()
            .filter_map(|(_, s)| s.get(&rtype))
            .map(|s| s.ttl)
            .collect();
        if ttls.len() < 4 {
            return;
        }
        ttls.sort_unstable();
        let median = ttls[ttls.len() / 2].max(1);
        if ttl > median.saturating_mul(10) || ttl.saturating_mul(10) < median {
            let rel = self.rel(&change.name);
            self.push(
                Level::Warning,
                Check::TtlOutlier,
                &change.name,
                &change.rtype,
                line,
                format!("{rel} {rtype} has TTL {ttl}, far from the {median} of its siblings"),
                None,
            );
        }
    }
}

/// `info.example.edu.` when `name` is `info.example.edu.145.153.128.in-addr.arpa.` in that
/// reverse zone: a host name there (labels that are not address digits) is a name written
/// without its trailing dot.
fn reverse_slip(zone: &Zone, name: &Name) -> Option<String> {
    if !conventions::is_reverse(zone) || !zone.origin.zone_of(name) {
        return None;
    }
    let ip6 = present_name(&zone.origin).ends_with("ip6.arpa.");
    let own = name.num_labels() - zone.origin.num_labels();
    let labels: Vec<String> = name
        .iter()
        .take(usize::from(own))
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    let address = |l: &String| {
        if ip6 {
            l.len() == 1 && l.chars().all(|c| c.is_ascii_hexdigit())
        } else {
            l.parse::<u8>().is_ok() || l.contains('-') || l.contains('/')
        }
    };
    if labels.iter().all(address) {
        return None;
    }
    Some(format!("{}.", labels.join(".")))
}

/// `bh18.bots.example.net` when `name` is `bh18.bots.example.net.bots.example.net.`.
/// `web.example.com.` when a target `web.example.com.<zone>` has no records: a relative part of
/// two labels or more reads as a whole name written without its trailing dot.
fn missing_dot_hint(origin: &Name, target: &Name) -> Option<String> {
    let relative = target.num_labels().checked_sub(origin.num_labels())?;
    if relative < 2 {
        return None;
    }
    let labels: Vec<&[u8]> = target.iter().take(usize::from(relative)).collect();
    let meant = Name::from_labels(labels).ok()?;
    Some(present_name(&meant))
}

fn repeats_origin(origin: &Name, name: &Name) -> Option<String> {
    if origin.is_root() || !origin.zone_of(name) {
        return None;
    }
    let labels: Vec<&[u8]> = name.iter().collect();
    let n = origin.iter().count();
    if labels.len() < 2 * n + 1 {
        return None;
    }
    let inner = Name::from_labels(
        labels[labels.len() - 2 * n..labels.len() - n]
            .iter()
            .copied(),
    )
    .ok()?;
    if inner.to_lowercase() != origin.to_lowercase().trim_to(n) {
        return None;
    }
    let written = Name::from_labels(labels[..labels.len() - n].iter().copied()).ok()?;
    Some(present_name(&written).trim_end_matches('.').to_string())
}

/// Where a changed name sits, for the zone-wide checks.
struct Place<'a> {
    name: &'a Name,
    /// The zone's apex.
    apex: bool,
    /// At a delegation (in either version).
    at_cut: bool,
    /// The delegation it is below (glue or occluded data), in either version.
    cut: Option<&'a Name>,
    /// Its RRset's TTL, and that as an age.
    ttl: u32,
    cached: String,
}

/// A change of a delegation's DS or of the zone's keys.
fn dnssec_change(spot: &Spot<'_>, place: &Place<'_>) -> Option<(Level, Check, String)> {
    let (change, ttl, cached) = (spot.change, place.ttl, &place.cached);
    let (level, message) = match (spot.rtype, change.op) {
        (RecordType::DS, Op::Removed) if place.at_cut => (Level::Warning, format!(
            "the DS of {} goes ({}): names below it become insecure (unsigned) for validating resolvers",
            spot.rel, change.line()
        )),
        (RecordType::DS, _) if place.at_cut => (Level::Error, format!(
            "the DS of {} changes ({}): if it matches no key of the child, validating resolvers reject every name below it for up to {cached} (TTL {ttl})",
            spot.rel, change.line()
        )),
        (RecordType::DNSKEY | RecordType::CDS | RecordType::CDNSKEY, _) if place.apex => (Level::Error, format!(
            "the zone's {} set changes ({}): a key the parent's DS points at, or one that signs, gone too soon makes the whole zone bogus for validating resolvers, for up to {cached} (TTL {ttl}) and the parent's DS TTL",
            spot.rtype, change.line()
        )),
        _ => return None,
    };
    Some((level, Check::DnssecChange, message))
}

/// How risky a change of the NS set at `name` is: servers only added or only removed, or the
/// same servers (by address, looked up in every zone of the directory) under new names, keep
/// a path working (a warning, said with why); a server replaced by another is an error.
fn ns_set_change(
    base: &Zone,
    zone: &Zone,
    name: &Name,
    neighbours: &Neighbours<'_>,
) -> (Level, &'static str) {
    let (old, new) = (ns_targets(base, name), ns_targets(zone, name));
    let gone: Vec<&Name> = old.difference(&new).collect();
    let added: Vec<&Name> = new.difference(&old).collect();
    if gone.is_empty() {
        return (Level::Warning, ", servers only added");
    }
    if added.is_empty() && !new.is_empty() {
        return (Level::Warning, ", servers only removed");
    }
    let renamed = gone.iter().all(|g| {
        let was = neighbours.addresses(base, g, true);
        !was.is_empty()
            && added
                .iter()
                .any(|n| neighbours.addresses(zone, n, false) == was)
    });
    if renamed {
        (
            Level::Warning,
            ", the same servers by address under new names",
        )
    } else {
        (Level::Error, "")
    }
}

/// The other zones of the directory, before and after the change: where names a zone points
/// at outside itself are looked up.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbours<'a> {
    /// The proposed zones.
    pub current: &'a [&'a Zone],
    /// The same zones at the base.
    pub base: &'a [&'a Zone],
}

impl Neighbours<'_> {
    /// The proposed zone of the directory that holds `name` (the deepest), if any.
    fn holder(&self, name: &Name) -> Option<&Zone> {
        self.current
            .iter()
            .copied()
            .filter(|z| z.origin.zone_of(name))
            .max_by_key(|z| z.origin.num_labels())
    }

    /// The A and AAAA values of `name`, in `own` or in the zone of the directory that holds
    /// it (at the base, or as proposed).
    fn addresses(&self, own: &Zone, name: &Name, at_base: bool) -> BTreeSet<String> {
        let others = if at_base { self.base } else { self.current };
        let holder = std::iter::once(own)
            .chain(others.iter().copied())
            .filter(|z| z.origin.zone_of(name))
            .max_by_key(|z| z.origin.num_labels());
        let Some(zone) = holder else {
            return BTreeSet::new();
        };
        [RecordType::A, RecordType::AAAA]
            .iter()
            .filter_map(|t| zone.rrset(name, *t).map(|s| s.shown(*t)))
            .flatten()
            .collect()
    }
}

/// The servers the NS set at `name` names, canonical.
fn ns_targets(zone: &Zone, name: &Name) -> BTreeSet<Name> {
    zone.rrset(name, RecordType::NS)
        .map(|set| {
            set.rdatas
                .iter()
                .filter_map(|r| r.to_hickory(RecordType::NS))
                .filter_map(|r| target_of(&r))
                .map(|n| crate::model::canonical_name(&n))
                .collect()
        })
        .unwrap_or_default()
}

/// How many names of `base` at or below `cut` hold data a new delegation at `cut` would hide
/// (everything but NS and DS; the addresses of the delegation's own servers become its glue).
fn occluded(base: &Zone, cut: &Name, servers: &BTreeSet<Name>) -> usize {
    base.iter()
        .filter(|(name, sets)| {
            cut.zone_of(name)
                && !servers.contains(name)
                && sets
                    .keys()
                    .any(|t| !matches!(t, RecordType::NS | RecordType::DS))
        })
        .count()
}

/// Whether a CDS (key tag and algorithm) or CDNSKEY (the key itself) stands for one of `keys`,
/// or is the delete record (RFC 8078: `0 0 0 00`, `0 3 0 AA==`).
fn child_key_matches(rtype: RecordType, data: &[u8], keys: &[&Rdata]) -> bool {
    match rtype {
        RecordType::CDS => {
            if data.len() >= 4 && data[..4] == [0, 0, 0, 0] {
                return true;
            }
            let (Some(tag), Some(&algorithm)) = (data.get(..2), data.get(2)) else {
                return false;
            };
            let tag = u16::from_be_bytes([tag[0], tag[1]]);
            keys.iter()
                .any(|key| key.bytes().get(3) == Some(&algorithm) && key_tag(key.bytes()) == tag)
        }
        _ => data == [0, 0, 3, 0, 0] || keys.iter().any(|key| key.bytes() == data),
    }
}

/// RFC 4034 appendix B key tag of DNSKEY data.
fn key_tag(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, &b) in data.iter().enumerate() {
        sum += if i % 2 == 0 {
            u32::from(b) << 8
        } else {
            u32::from(b)
        };
    }
    sum += (sum >> 16) & 0xffff;
    (sum & 0xffff) as u16
}

/// The next-hashed-owner length of NSEC3 data whose hash algorithm is SHA-1 (1).
fn sha1_nsec3_hash_length(data: &[u8]) -> Option<usize> {
    if data.first() != Some(&1) {
        return None;
    }
    let salt = usize::from(*data.get(4)?);
    data.get(5 + salt).map(|l| usize::from(*l))
}

/// The DNAME owner above `target` (strictly) inside the zone, if any.
fn below_dname(zone: &Zone, target: &Name) -> Option<Name> {
    if !zone.origin.zone_of(target) || *target == zone.origin {
        return None;
    }
    let mut parent = target.base_name();
    loop {
        if zone.rrset(&parent, RecordType::DNAME).is_some() {
            return Some(parent);
        }
        if parent == zone.origin || !zone.origin.zone_of(&parent) {
            return None;
        }
        parent = parent.base_name();
    }
}

/// An NS target inside the zone (glue below a delegation included) with no A or AAAA record.
fn without_address(zone: &Zone, target: &Name) -> bool {
    zone.origin.zone_of(target)
        && !zone.get(target).is_some_and(|sets| {
            sets.contains_key(&RecordType::A) || sets.contains_key(&RecordType::AAAA)
        })
}

/// A name inside the zone, not at or below a delegation, that has no records and no wildcard.
fn dangling(zone: &Zone, target: &Name) -> bool {
    if !zone.origin.zone_of(target) || zone.contains(target) || zone.cut_above(target).is_some() {
        return false;
    }
    let mut parent = target.base_name();
    while zone.origin.zone_of(&parent) {
        if let Ok(wild) = Name::from_ascii("*").and_then(|w| w.append_domain(&parent)) {
            if zone.contains(&wild) {
                return false;
            }
        }
        if parent == zone.origin {
            break;
        }
        parent = parent.base_name();
    }
    true
}

/// A change that touches much of the zone in one regular way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Systematic {
    /// Every changed address moved from one subnet to another, keeping its host part.
    Renumbering,
    /// Every changed RRset kept its data and took one new TTL.
    TtlPolicy,
}

fn systematic(changes: &[RecordChange]) -> Option<Systematic> {
    let changed: Vec<&RecordChange> = changes
        .iter()
        .filter(|c| c.op == Op::Changed && c.rtype != "SOA")
        .collect();
    if changed.len() < 3 {
        return None;
    }
    let new_ttls: BTreeSet<u32> = changed.iter().filter_map(|c| c.ttl.map(|t| t.1)).collect();
    if changed
        .iter()
        .all(|c| c.before == c.after && c.ttl.is_some())
        && new_ttls.len() == 1
    {
        return Some(Systematic::TtlPolicy);
    }
    let mut mappings = BTreeSet::new();
    for c in &changed {
        if !matches!(c.rtype.as_str(), "A" | "AAAA") || c.before.len() != c.after.len() {
            return None;
        }
        for (old, new) in c.before.iter().zip(&c.after) {
            let (Some(from), Some(to)) = (typo::subnet(old), typo::subnet(new)) else {
                return None;
            };
            let host_part = |a: &str| a.rsplit(['.', ':']).next().unwrap_or_default().to_string();
            if host_part(old) != host_part(new) {
                return None;
            }
            mappings.insert((from, to));
        }
    }
    (mappings.len() <= 2).then_some(Systematic::Renumbering)
}

/// The SOA MNAME of a zone, as written.
fn mname(zone: &Zone) -> Option<String> {
    let set = zone.rrset(&zone.origin, RecordType::SOA)?;
    match set.rdatas.iter().next()?.to_hickory(RecordType::SOA)? {
        RData::SOA(soa) => Some(crate::model::present_name(&soa.mname)),
        _ => None,
    }
}

/// Where the findings about one change point, and what it adds.
#[derive(Clone)]
struct Spot<'c> {
    change: &'c RecordChange,
    rtype: RecordType,
    /// The owner, canonical (None when it does not parse).
    name: Option<Name>,
    /// Values the change brings.
    added: Vec<&'c String>,
    line: usize,
    /// The owner relative to the zone.
    rel: String,
}

/// An existing host a new one is a near miss of.
struct NearMiss {
    existing: String,
    why: String,
    judged_by: Judged,
}

/// What a near miss is measured against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Judged {
    /// A numbered series: its prefix, its order.
    Series,
    /// The spelling of another name.
    Spelling,
}

/// The A and AAAA values at a name, as shown.
fn addresses(sets: &TypeMap) -> impl Iterator<Item = (RecordType, String)> + '_ {
    [RecordType::A, RecordType::AAAA]
        .into_iter()
        .flat_map(move |rtype| {
            let values = sets.get(&rtype).map(|s| s.shown(rtype)).unwrap_or_default();
            values.into_iter().map(move |value| (rtype, value))
        })
}

/// RRsets a change must touch (change or delete) before the share of the zone it touches is
/// judged: a small zone's every change is not a mass change.
const MASS_CHANGE_MIN: usize = 10;

/// What the base and the proposed zone hold, indexed for the risk checks.
#[derive(Default)]
struct ZoneView {
    origin: String,
    base_hosts: BTreeSet<String>,
    current_hosts: BTreeSet<String>,
    base_names: BTreeSet<String>,
    /// Relative names with the host label replaced by `{}`: the shapes names take.
    base_shapes: BTreeSet<String>,
    /// (type, value) -> hosts holding it, in base.
    base_owners: HashMap<(RecordType, String), BTreeSet<String>>,
    /// (type, value) -> hosts holding it, proposed.
    owners: HashMap<(RecordType, String), BTreeSet<String>>,
    /// Numbered series of host labels: prefix -> numbers in base.
    series: BTreeMap<String, BTreeSet<u64>>,
    /// The same in the proposed zone (a change may add several hosts of a series).
    current_series: BTreeMap<String, BTreeSet<u64>>,
    /// Subnets of addresses by type, in base.
    subnets: HashMap<RecordType, BTreeSet<String>>,
    /// How the numbered hosts' addresses follow their numbers, per type and series.
    numbering: numbering::Numbering,
    /// A record of each base host, to show what a near miss resembles.
    host_example: BTreeMap<String, String>,
    /// The record types each host holds, in base and proposed.
    base_types: BTreeMap<String, BTreeSet<RecordType>>,
    current_types: BTreeMap<String, BTreeSet<RecordType>>,
}

impl ZoneView {
    fn new(base: &Zone, current: &Zone, depth: usize) -> ZoneView {
        let mut view = ZoneView {
            origin: present_name(&current.origin),
            ..ZoneView::default()
        };
        for (name, sets) in base.iter() {
            view.add_base(name, sets, host_of(&base.origin, name, depth));
        }
        for (name, sets) in current.iter() {
            view.add_current(sets, host_of(&current.origin, name, depth));
        }
        view
    }

    /// One name of the base zone, of `host`.
    fn add_base(&mut self, name: &Name, sets: &TypeMap, host: String) {
        let shown = present_name(name);
        let types = self.base_types.entry(host.clone()).or_default();
        types.extend(sets.keys().copied());
        for (rtype, value) in addresses(sets) {
            if let Some(net) = typo::subnet(&value) {
                self.subnets.entry(rtype).or_default().insert(net);
            }
            self.numbering.learn(rtype, &host, &value);
            let owners = self.base_owners.entry((rtype, value)).or_default();
            owners.insert(host.clone());
        }
        let rel = relative(&shown, &self.origin);
        self.base_shapes.insert(shape(&rel, &host));
        if let Some((prefix, number, _)) = typo::numbered(&host) {
            let series = self.series.entry(prefix.to_string()).or_default();
            series.insert(number);
        }
        if let Some((rtype, set)) = sets.iter().next() {
            self.host_example
                .entry(host.clone())
                .or_insert_with(|| format!("{rel} {rtype} {}", set.shown(*rtype).join(", ")));
        }
        self.base_names.insert(shown);
        self.base_hosts.insert(host);
    }

    /// One name of the proposed zone, of `host`.
    fn add_current(&mut self, sets: &TypeMap, host: String) {
        let types = self.current_types.entry(host.clone()).or_default();
        types.extend(sets.keys().copied());
        for (rtype, value) in addresses(sets) {
            let owners = self.owners.entry((rtype, value)).or_default();
            owners.insert(host.clone());
        }
        if let Some((prefix, number, _)) = typo::numbered(&host) {
            let series = self.current_series.entry(prefix.to_string()).or_default();
            series.insert(number);
        }
        self.current_hosts.insert(host);
    }

    fn describe_host(&self, host: &str) -> String {
        self.host_example
            .get(host)
            .cloned()
            .unwrap_or_else(|| host.to_string())
    }

    /// The existing host a new host label is one or two slips from, unless it is the next of a
    /// numbered series (bh19 after bh18) or fills a gap in it.
    fn near_miss_host(&self, host: &str) -> Option<NearMiss> {
        if host == "@" || host.starts_with('_') {
            return None;
        }
        match self.by_series(host) {
            ControlFlow::Break(judged) => judged,
            ControlFlow::Continue(()) => self.by_spelling(host),
        }
    }

    /// What the numbered series say of a new host: the next of one or a gap filled (no near
    /// miss), a slip of a series' prefix, digits that lost their prefix; or nothing (go on).
    fn by_series(&self, host: &str) -> ControlFlow<Option<NearMiss>> {
        match typo::numbered(host) {
            Some((prefix, number, _)) => match self.series.get(prefix) {
                Some(numbers) if numbers.len() >= 2 => {
                    let max = numbers.iter().max().copied().unwrap_or(0);
                    let fresh = !numbers.contains(&number);
                    // The next numbers of the series, without a hole, or a hole filled.
                    let proposed = self.current_series.get(prefix);
                    let contiguous =
                        proposed.is_some_and(|p| (max + 1..number).all(|k| p.contains(&k)));
                    if fresh && number >= 1 && (number <= max + 1 || contiguous) {
                        return ControlFlow::Break(None);
                    }
                }
                // A numbered host of no known series: a slip of a series' prefix?
                _ => {
                    if let Some(miss) = self.prefix_slip(prefix, number) {
                        return ControlFlow::Break(Some(miss));
                    }
                }
            },
            // Digits only, where the fleet names hosts prefix + number: a lost prefix.
            None if host.chars().all(|c| c.is_ascii_digit()) => {
                if let Some((series, _)) = self
                    .series
                    .iter()
                    .find(|(p, n)| n.len() >= 2 && !p.is_empty())
                {
                    return ControlFlow::Break(Some(NearMiss {
                        existing: format!("{series}{host}"),
                        why: "the host is only digits: prefix lost (a dot slip?)".into(),
                        judged_by: Judged::Series,
                    }));
                }
            }
            None => {}
        }
        ControlFlow::Continue(())
    }

    /// The series whose prefix `prefix` is one or two slips of, as its member nearest
    /// `number` (a real name).
    fn prefix_slip(&self, prefix: &str, number: u64) -> Option<NearMiss> {
        let (_, series) = self
            .series
            .iter()
            .filter(|(p, numbers)| numbers.len() >= 2 && !p.is_empty())
            .map(|(p, _)| (typo::distance(p, prefix), p))
            // Two edits of a short prefix (`cs` for `dns`) is another prefix.
            .filter(|(d, p)| *d >= 1 && (*d == 1 || p.len().min(prefix.len()) >= 4) && *d <= 2)
            .min()?;
        let why = typo::slip(series, prefix).unwrap_or("2 edits");
        let member = self
            .base_hosts
            .iter()
            .filter_map(|h| typo::numbered(h).map(|(p, n, _)| (p, n, h)))
            .filter(|(p, _, _)| p == series)
            .min_by_key(|(_, n, _)| n.abs_diff(number))
            .map_or_else(|| series.clone(), |(_, _, h)| h.clone());
        Some(NearMiss {
            existing: member,
            why: format!("{why} in the prefix of the {series}NN series"),
            judged_by: Judged::Series,
        })
    }

    /// The existing host one or two edits from `host`, the likeliest slip first.
    fn by_spelling(&self, host: &str) -> Option<NearMiss> {
        let limit = if host.len() <= 3 { 1 } else { 2 };
        // The likeliest slips first (a swap before a replacement), at most three named.
        let rank = |slip: Option<&str>| match slip {
            Some("transposition") => 0,
            Some("omission") | Some("repetition") => 1,
            Some("insertion") | Some("hyphen or dot slip") => 2,
            Some("keyboard neighbour") => 3,
            Some(_) => 4,
            None => 5,
        };
        let mut near: Vec<(usize, usize, &String, Option<&str>)> = self
            .base_hosts
            .iter()
            .filter(|h| *h != "@" && !h.starts_with('_'))
            .map(|h| (typo::distance(h, host), h))
            .filter(|(d, _)| *d >= 1 && *d <= limit)
            .map(|(d, h)| {
                let slip = typo::slip(h, host);
                (d, rank(slip), h, slip)
            })
            .collect();
        near.sort();
        let (d, _, first, slip) = near.first()?;
        let mut why = slip.map_or_else(|| format!("{d} edits"), str::to_string);
        if near.len() > 1 {
            let others: Vec<&str> = near.iter().skip(1).take(2).map(|n| n.2.as_str()).collect();
            why.push_str(&format!("; also near {}", others.join(", ")));
        }
        // Out of the order of a known series (bh211 in a fleet of bh01..bh40).
        let in_series = typo::numbered(host)
            .is_some_and(|(prefix, _, _)| self.series.get(prefix).is_some_and(|n| n.len() >= 2));
        Some(NearMiss {
            existing: (*first).clone(),
            why,
            judged_by: if in_series {
                Judged::Series
            } else {
                Judged::Spelling
            },
        })
    }

    /// The name pattern a new name is a slip of (`pnael.{}` for `panel.{}`): the pattern, the
    /// slip, and the new name's own pattern.
    fn near_miss_shape(&self, name: &str, host: &str) -> Option<(String, String, String)> {
        let rel = relative(name, &self.origin);
        let own = shape(&rel, host);
        if own == "{}" || self.base_shapes.contains(&own) {
            return None;
        }
        self.base_shapes
            .iter()
            .filter(|s| *s != "{}" && s.contains("{}"))
            .map(|s| (typo::distance(s, &own), s))
            .filter(|(d, _)| *d >= 1 && *d <= 2)
            .min()
            .map(|(d, s)| {
                let why = typo::slip(s, &own).map_or_else(|| format!("{d} edits"), str::to_string);
                (s.clone(), why, own.clone())
            })
    }

    /// Whether the new host `host` gets only record types its near twin `existing` lacks (an
    /// AAAA under `gtilab` where `gitlab` has no AAAA): what was meant for the twin.
    fn complements(&self, existing: &str, host: &str) -> bool {
        let (Some(theirs), Some(own)) =
            (self.base_types.get(existing), self.current_types.get(host))
        else {
            return false;
        };
        // A delegation or an alias is structure, built on purpose; a CNAME twin holds nothing else.
        let data = |t: &RecordType| {
            !matches!(
                t,
                RecordType::NS | RecordType::DS | RecordType::CNAME | RecordType::DNAME
            )
        };
        existing.len() >= 4
            && !theirs.contains(&RecordType::CNAME)
            && !own.is_empty()
            && own.iter().all(|t| data(t) && !theirs.contains(t))
    }

    /// Another host that holds `value` in the proposed zone, if any (one that gives it up in
    /// the same change is a move, not a reuse).
    fn owner_elsewhere(&self, rtype: RecordType, value: &str, host: &str) -> Option<String> {
        self.owners
            .get(&(rtype, value.to_string()))?
            .iter()
            .find(|owner| *owner != host)
            .cloned()
    }

    /// Whether `host` holds, in the proposed zone, addresses of two other hosts or more.
    fn pool(&self, rtype: RecordType, host: &str) -> bool {
        let others: BTreeSet<&String> = self
            .owners
            .iter()
            .filter(|((t, _), owners)| *t == rtype && owners.contains(host))
            .flat_map(|(_, owners)| owners.iter().filter(|o| *o != host))
            .collect();
        others.len() >= 2
    }

    /// Whether `value` was already shared before the change: held by the apex (the web
    /// server's address that names are pointed at) or by two hosts or more.
    fn shared(&self, rtype: RecordType, value: &str, host: &str) -> bool {
        self.base_owners
            .get(&(rtype, value.to_string()))
            .is_some_and(|owners| {
                owners.contains("@") || owners.iter().filter(|o| *o != host).count() >= 2
            })
    }

    /// Why a new address does not fit the fleet: outside every subnet in use, or not ending with
    /// the host's number where (nearly) every numbered host's address does.
    fn off_pattern(&self, rtype: RecordType, value: &str, host: &str) -> Option<String> {
        if let (Some(net), Some(nets)) = (typo::subnet(value), self.subnets.get(&rtype)) {
            if !nets.contains(&net) {
                let known: Vec<&String> = nets.iter().take(3).collect();
                return Some(format!(
                    "is outside every subnet the zone uses ({})",
                    known
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        self.numbering.off(rtype, value, host).map(|off| off.why)
    }
}

/// `panel.{}` for `panel.bh17` with host `bh17`.
fn shape(relative: &str, host: &str) -> String {
    let labels: Vec<&str> = relative.split('.').collect();
    let host_labels: Vec<&str> = host.split('.').collect();
    if labels.len() >= host_labels.len()
        && labels[labels.len() - host_labels.len()..] == host_labels[..]
    {
        let mut out: Vec<&str> = labels[..labels.len() - host_labels.len()].to_vec();
        out.push("{}");
        out.join(".")
    } else {
        relative.to_string()
    }
}

/// `ends with 81, one transposition from bh18's number`: an address whose last group is one
/// slip from the number of the numbered host it is given to.
fn number_slip(host: &str, address: &str) -> Option<String> {
    let (_, number, _) = typo::numbered(host)?;
    let last = address.rsplit(['.', ':']).next()?;
    let own = number.to_string();
    if last == own || last.is_empty() {
        return None;
    }
    // A swap or a doubled digit: a replaced digit is as often another address of the host.
    match typo::slip(&own, last) {
        Some(why @ ("transposition" | "repetition")) => {
            Some(format!("ends with {last}, one {why} from {host}'s number"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "$ORIGIN z.net.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n\
        bh16 A 203.0.113.16\nbh17 A 203.0.113.17\npanel.bh17 A 203.0.113.17\nbh18 A 203.0.113.18\n\
        www CNAME bh16\n";

    fn load(text: &str) -> LoadedZone {
        crate::zonefile::test_zone("z.net.", text)
    }

    fn lint(text: &str) -> Vec<(&'static str, String)> {
        let base = load(BASE).zone;
        let settings = LintSettings {
            mass_change_share: 0.3,
            ..Default::default()
        };
        lint_zone(&load(text), "z.net.zone", Some(&base), &settings, 1)
            .into_iter()
            .map(|f| (f.check.id(), f.name))
            .collect()
    }

    fn bumped(extra: &str) -> String {
        format!("{}{extra}", BASE.replace("h 1 2 3 4 5", "h 2 2 3 4 5"))
    }

    #[test]
    fn the_incident_is_an_address_of_another_host_on_a_host_not_being_set_up() {
        let found = lint(&bumped("bh19 A 203.0.113.19\nbh17 A 203.0.113.18\n"));
        let checks: BTreeSet<&str> = found.iter().map(|(c, _)| *c).collect();
        assert!(checks.contains("address-reuse"), "{found:?}");
        assert!(checks.contains("other-host"), "{found:?}");
        assert!(checks.contains("second-address"), "{found:?}");
    }

    #[test]
    fn the_next_host_of_a_series_is_not_noise() {
        assert_eq!(
            lint(&bumped("bh19 A 203.0.113.19\npanel.bh19 A 203.0.113.19\n")),
            vec![]
        );
    }

    #[test]
    fn near_misses_of_names_are_found() {
        assert!(lint(&bumped("bh71 A 203.0.113.71\n"))
            .iter()
            .any(|(c, _)| *c == "near-miss-name"));
        assert!(lint(&bumped("bhh17 A 203.0.113.19\n"))
            .iter()
            .any(|(c, _)| *c == "near-miss-name"));
        assert!(lint(&bumped("pnael.bh18 A 203.0.113.18\n"))
            .iter()
            .any(|(c, _)| *c == "near-miss-name"));
    }

    #[test]
    fn dnssec_and_dname_data_bind_refuses_are_errors() {
        let checks = |text: &str| -> Vec<&'static str> {
            lint_zone(&load(text), "z.net.zone", None, &LintSettings::default(), 1)
                .into_iter()
                .map(|f| f.check.id())
                .collect()
        };
        let head = "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
        let key = "@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n";
        assert!(checks(&format!("{head}@ DS 1 13 2 {}\n", "ab".repeat(32))).contains(&"ds-at-apex"));
        let apex = Name::from_ascii("z.net.").unwrap();
        let loaded = load(&format!("{head}{key}"));
        let tag = key_tag(
            loaded
                .zone
                .rrset(&apex, RecordType::DNSKEY)
                .unwrap()
                .rdatas
                .iter()
                .next()
                .unwrap()
                .bytes(),
        );
        let good = format!(
            "{head}{key}@ CDS {tag} 13 2 {}\n@ CDS 0 0 0 00\n",
            "ab".repeat(32)
        );
        assert!(
            !checks(&good).contains(&"cds-without-dnskey"),
            "{:?}",
            checks(&good)
        );
        let bad = format!("{head}{key}@ CDS {} 13 2 {}\n", tag ^ 1, "ab".repeat(32));
        assert!(checks(&bad).contains(&"cds-without-dnskey"));
        let bad = format!("{head}{key}@ CDS {tag} 8 2 {}\n", "ab".repeat(32));
        assert!(
            checks(&bad).contains(&"cds-without-dnskey"),
            "another algorithm"
        );
        let bad = format!("{head}{key}@ CDNSKEY 257 3 13 AAAA\n");
        assert!(checks(&bad).contains(&"cds-without-dnskey"));
        let unsigned = format!("{head}@ CDS 0 0 0 00\n@ CDNSKEY 0 3 0 AA==\n");
        assert!(!checks(&unsigned).contains(&"cds-without-dnskey"));
        let no_keys = format!("{head}@ CDS {tag} 13 2 {}\n", "ab".repeat(32));
        assert!(
            checks(&no_keys).contains(&"cds-without-dnskey"),
            "a CDS in a zone with no DNSKEY at all"
        );
        let nsec3 = |owner: &str| format!("{head}{owner} NSEC3 1 0 0 - {} A\n", "0".repeat(32));
        assert!(!checks(&nsec3("CPNMU0")).contains(&"nsec3-owner"));
        assert!(
            checks(&nsec3("CPNMU\\061\\061")).contains(&"nsec3-owner"),
            "padding"
        );
        assert!(
            checks(&nsec3("www")).contains(&"nsec3-owner"),
            "not base32hex"
        );
        let dname = "$TTL 300\n@ SOA ns.other. h 1 2 3 4 5\n@ NS ns.sub\nsub DNAME other.net.\nns.sub A 192.0.2.1\n";
        assert!(
            checks(dname).contains(&"ns-below-dname"),
            "{:?}",
            checks(dname)
        );
    }

    #[test]
    fn zones_bind_refuses_to_load_are_errors() {
        let checks = |text: &str| -> Vec<(&'static str, String, String)> {
            lint_zone(&load(text), "z.net.zone", None, &LintSettings::default(), 1)
                .into_iter()
                .map(|f| (f.check.id(), f.name, f.message))
                .collect()
        };
        let found = checks(
            "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n@ NS ns.other.net.\nns TXT x\n\
             sub NS ns.sub\nsub NS ns2.sub\nns.sub A 192.0.2.1\n",
        );
        let ns: Vec<&String> = found
            .iter()
            .filter(|(check, _, _)| *check == "ns-without-address")
            .map(|(_, _, message)| message)
            .collect();
        assert_eq!(ns.len(), 2, "{found:?}");
        assert!(ns.iter().any(|m| m.contains("NS ns.z.net.")), "{found:?}");
        assert!(
            ns.iter().any(|m| m.contains("NS ns2.sub.z.net.")),
            "glue below a cut: {found:?}"
        );
        let found = checks("$TTL 300\n@ SOA ns.other.net. h 1 2 3 4 5\n");
        assert!(
            found.iter().any(|(check, _, _)| *check == "no-apex-ns"),
            "{found:?}"
        );
    }

    #[test]
    fn validity_problems_are_errors_without_a_base() {
        let text = "$ORIGIN z.net.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n\
            www CNAME bh16\nwww TXT \"x\"\nmail MX 10 mx9\napi CNAME bh16.z.net\n";
        let found: Vec<&str> = lint_zone(&load(text), "f", None, &LintSettings::default(), 1)
            .iter()
            .map(|f| f.check.id())
            .collect();
        assert!(found.contains(&"cname-and-other-data"), "{found:?}");
        assert!(found.contains(&"dangling-target"), "{found:?}");
        let text = "$ORIGIN z.net.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n\
            www CNAME web.example.com\n";
        let messages: Vec<String> = lint_zone(&load(text), "f", None, &LintSettings::default(), 1)
            .into_iter()
            .filter(|f| f.check == "dangling-target")
            .map(|f| f.message)
            .collect();
        assert!(
            messages
                .iter()
                .any(|m| m
                    .contains("was `web.example.com.` meant, written without its trailing dot?")),
            "{messages:?}"
        );
        assert!(found.contains(&"repeated-origin"), "{found:?}");
    }

    #[test]
    fn a_change_without_a_new_serial_is_an_error() {
        let text = format!("{BASE}bh19 A 203.0.113.19\n");
        assert!(lint(&text).iter().any(|(c, _)| *c == "serial-not-raised"));
    }

    #[test]
    fn zone_wide_changes_are_errors_of_their_own() {
        let base = format!(
            "{BASE}sub NS ns.sub\nns.sub A 192.0.2.80\nsub DS 12345 13 2 {}\n\
             @ MX 10 mail\nmail A 192.0.2.25\n",
            "ab".repeat(32)
        );
        let lint_against = |text: &str| -> Vec<(&'static str, String)> {
            let settings = LintSettings {
                mass_change_share: 0.3,
                ..Default::default()
            };
            lint_zone(
                &load(text),
                "z.net.zone",
                Some(&load(&base).zone),
                &settings,
                1,
            )
            .into_iter()
            .map(|f| (f.check.id(), f.name))
            .collect()
        };
        let bump = |text: String| text.replace("h 1 2 3 4 5", "h 2 2 3 4 5");
        let cases: [(&str, String, &str, &str); 7] = [
            (
                "apex NS",
                format!("{base}@ NS ns2.other.net.\n"),
                "delegation-change",
                "z.net.",
            ),
            (
                "delegation NS",
                base.replace("sub NS ns.sub", "sub NS ns.other.net."),
                "delegation-change",
                "sub.z.net.",
            ),
            (
                "glue",
                base.replace("192.0.2.80", "192.0.2.81"),
                "delegation-change",
                "ns.sub.z.net.",
            ),
            (
                "SOA MNAME",
                base.replace("@ SOA ns1 h", "@ SOA ns9.other.net. h"),
                "delegation-change",
                "z.net.",
            ),
            (
                "DS",
                base.replace("12345 13 2", "54321 13 2"),
                "dnssec-change",
                "sub.z.net.",
            ),
            (
                "DNSKEY",
                format!("{base}@ DNSKEY 256 3 13 {}\n", "A".repeat(88)),
                "dnssec-change",
                "z.net.",
            ),
            (
                "MX target",
                base.replace("mail A 192.0.2.25\n", ""),
                "target-removed",
                "mail.z.net.",
            ),
        ];
        for (case, text, check, name) in cases {
            let found = lint_against(&bump(text));
            assert!(
                found.iter().any(|(c, n)| *c == check && n == name),
                "{case}: {found:?}"
            );
        }
        let host_change = bump(base.replace("bh16 A 203.0.113.16", "bh16 A 203.0.113.61"));
        let found = lint_against(&host_change);
        assert!(
            !found.iter().any(|(c, _)| matches!(
                *c,
                "delegation-change" | "dnssec-change" | "target-removed"
            )),
            "a host's own address is not zone-wide: {found:?}"
        );
    }
}
