//! Every lint check, declared once: its id (as JSON, SARIF, `--explain` and `[[waive]]` write
//! it) and what it means for the zone. A new rule is one line here and its check in the rule's
//! file; a waiver of an id not declared here is an error at its line.

/// Declares [`Check`] from `Variant => "id", "what it means";` lines.
macro_rules! checks {
    ($($variant:ident => $id:literal, $doc:literal;)*) => {
        /// A lint check. Serialised as its id, so JSON and SARIF read as they always did.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Check {
            $(
                #[doc = $doc]
                $variant,
            )*
        }

        impl Check {
            /// Every check, in the order declared.
            pub const ALL: &'static [Check] = &[$(Check::$variant,)*];

            /// The id users write (`address-reuse`).
            pub fn id(self) -> &'static str {
                match self {
                    $(Check::$variant => $id,)*
                }
            }

            /// What it flags, in one line (SARIF's rule descriptions, `--explain`).
            pub fn description(self) -> &'static str {
                match self {
                    $(Check::$variant => $doc,)*
                }
            }
        }
    };
}

checks! {
    Parse => "parse", "The zone file does not load as BIND loads it.";
    Base => "base", "The base version of the file could not be read from git.";
    OutOfZone => "out-of-zone", "A record outside the zone: BIND ignores it with a warning, and so does dns-audit.";
    UnusedIgnore => "unused-ignore", "An ignore_names entry matches no name of the zone file.";
    CnameAtApex => "cname-at-apex", "A CNAME at the zone apex, where SOA and NS must be.";
    CnameAndOtherData => "cname-and-other-data", "A name holds a CNAME and other data (RFC 1034 3.6.2).";
    TwoCnames => "two-cnames", "A name holds more than one CNAME.";
    Duplicate => "duplicate", "The same record is written twice.";
    RepeatedOrigin => "repeated-origin", "A name repeats the zone name: written without its trailing dot.";
    MissingDot => "missing-dot", "A host name inside a reverse zone: written without its trailing dot.";
    DanglingTarget => "dangling-target", "A CNAME, MX, SRV or PTR target inside the zone has no records.";
    NsWithoutAddress => "ns-without-address", "An NS target inside the zone has no A or AAAA record.";
    NsBelowDname => "ns-below-dname", "An NS target below a DNAME can never be looked up.";
    NoApexSoa => "no-apex-soa", "The zone has no SOA at its apex.";
    NoApexNs => "no-apex-ns", "The zone has no NS at its apex.";
    DsAtApex => "ds-at-apex", "A DS at the apex belongs in the parent zone.";
    CdsWithoutDnskey => "cds-without-dnskey", "A CDS or CDNSKEY stands for no DNSKEY of the zone.";
    DsMismatch => "ds-mismatch", "A delegation's DS points at no key of the child zone in the same directory: the child would be bogus.";
    Nsec3Parameters => "nsec3-parameters", "NSEC3PARAM iterations, salt or flags against RFC 9276 (over 100 iterations: validators may refuse the zone).";
    Nsec3Owner => "nsec3-owner", "An NSEC3 owner that is not a base32hex hash.";
    Nsec3HashLength => "nsec3-hash-length", "An NSEC3 next-hash of the wrong length for SHA-1.";
    SerialNotRaised => "serial-not-raised", "The zone changed but its SOA serial did not go up (where serials are raised by hand).";
    MassChange => "mass-change", "A large share of the zone changes or goes at once.";
    DelegationChange => "delegation-change", "A change to the zone's NS set, a delegation, its glue or the SOA MNAME: the whole zone or subtree depends on it.";
    DnssecChange => "dnssec-change", "A change to a DS, DNSKEY, CDS or CDNSKEY: a mismatch makes the zone bogus for validating resolvers.";
    TargetRemoved => "target-removed", "The last address of a name that NS, MX, SRV or CNAME records still point at goes.";
    NearMissName => "near-miss-name", "A new name one or two slips from an existing one.";
    NearMissAddress => "near-miss-address", "An address changed by one slip from the one it replaces.";
    AddressReuse => "address-reuse", "An address given to a host while another host holds it.";
    AddressPattern => "address-pattern", "A new address outside the zone's subnets or off its host-number pattern.";
    SecondAddress => "second-address", "A host that had one address gains a second.";
    OtherHost => "other-host", "Setting up one host also touches another the way a slip does.";
    PtrTwice => "ptr-twice", "An address of a reverse zone with more than one PTR (overlapping $GENERATE ranges?).";
    PtrForward => "ptr-forward", "A new PTR names a host whose forward zone has no matching address.";
    TtlOutlier => "ttl-outlier", "A TTL far from those of its siblings.";
}

impl Check {
    /// The check of an id, if one is declared.
    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.iter().copied().find(|check| check.id() == id)
    }
}

/// Checks order by id, as findings always have (errors first, then by check).
impl Ord for Check {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id().cmp(other.id())
    }
}

impl PartialOrd for Check {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl PartialEq<&str> for Check {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_read_back() {
        let mut ids: Vec<&str> = Check::ALL.iter().map(|c| c.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Check::ALL.len());
        for check in Check::ALL {
            assert_eq!(Check::from_id(check.id()), Some(*check));
            assert_eq!(serde_json::json!(check), check.id());
        }
        assert_eq!(Check::from_id("adress-reuse"), None);
    }

    /// The README's lint tables name every declared check (a new rule gets its row).
    #[test]
    fn the_readme_names_every_declared_check() {
        let readme = include_str!("../../README.md");
        let missing: Vec<&str> = Check::ALL
            .iter()
            .map(|c| c.id())
            .filter(|id| {
                !readme.contains(&format!("| `{id}`")) && !readme.contains(&format!("`{id}` |"))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "declared, in no README table: {missing:?}"
        );
    }
}
