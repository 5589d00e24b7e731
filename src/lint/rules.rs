//! What each lint check looks for, in one place: SARIF's rule descriptions and `--explain` read
//! it. A flat table reads better whole than split.

/// Every check, with what it means for the zone.
pub const RULES: &[(&str, &str)] = &[
    ("parse", "The zone file does not load as BIND loads it."),
    ("base", "The base version of the file could not be read from git."),
    ("out-of-zone", "A record outside the zone: BIND ignores it with a warning, and so does dns-audit."),
    ("unused-ignore", "An ignore_names entry matches no name of the zone file."),
    ("cname-at-apex", "A CNAME at the zone apex, where SOA and NS must be."),
    ("cname-and-other-data", "A name holds a CNAME and other data (RFC 1034 3.6.2)."),
    ("two-cnames", "A name holds more than one CNAME."),
    ("duplicate", "The same record is written twice."),
    ("repeated-origin", "A name repeats the zone name: written without its trailing dot."),
    ("missing-dot", "A host name inside a reverse zone: written without its trailing dot."),
    ("dangling-target", "A CNAME, MX, SRV or PTR target inside the zone has no records."),
    ("ns-without-address", "An NS target inside the zone has no A or AAAA record."),
    ("ns-below-dname", "An NS target below a DNAME can never be looked up."),
    ("glue", "Glue that does not belong to a delegation of the zone."),
    ("no-apex-soa", "The zone has no SOA at its apex."),
    ("no-apex-ns", "The zone has no NS at its apex."),
    ("ds-at-apex", "A DS at the apex belongs in the parent zone."),
    ("cds-without-dnskey", "A CDS or CDNSKEY stands for no DNSKEY of the zone."),
    ("ds-mismatch", "A delegation's DS points at no key of the child zone in the same directory: the child would be bogus."),
    ("nsec3-parameters", "NSEC3PARAM iterations, salt or flags against RFC 9276 (over 100 iterations: validators may refuse the zone)."),
    ("nsec3-owner", "An NSEC3 owner that is not a base32hex hash."),
    ("nsec3-hash-length", "An NSEC3 next-hash of the wrong length for SHA-1."),
    ("serial-not-raised", "The zone changed but its SOA serial did not go up (where serials are raised by hand)."),
    ("mass-change", "A large share of the zone changes or goes at once."),
    ("delegation-change", "A change to the zone's NS set, a delegation, its glue or the SOA MNAME: the whole zone or subtree depends on it."),
    ("dnssec-change", "A change to a DS, DNSKEY, CDS or CDNSKEY: a mismatch makes the zone bogus for validating resolvers."),
    ("target-removed", "The last address of a name that NS, MX, SRV or CNAME records still point at goes."),
    ("near-miss-name", "A new name one or two slips from an existing one."),
    ("near-miss-address", "An address changed by one slip from the one it replaces."),
    ("address-reuse", "An address given to a host while another host holds it."),
    ("address-pattern", "A new address outside the zone's subnets or off its host-number pattern."),
    ("second-address", "A host that had one address gains a second."),
    ("other-host", "Setting up one host also touches another the way a slip does."),
    ("ptr-twice", "An address of a reverse zone with more than one PTR (overlapping $GENERATE ranges?)."),
    ("ptr-forward", "A new PTR names a host whose forward zone has no matching address."),
    ("ttl-outlier", "A TTL far from those of its siblings."),
];

/// What `check` looks for.
pub(crate) fn describe(check: &str) -> &'static str {
    RULES
        .iter()
        .find(|(id, _)| *id == check)
        .map_or("A dns-audit lint check.", |(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_the_source_names_is_described() {
        let sources = [include_str!("mod.rs"), include_str!("run.rs")];
        let mut missing = Vec::new();
        for source in sources {
            for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices('"') {
                    let rest = &line[i + 1..];
                    let Some(end) = rest.find('"') else { continue };
                    let word = &rest[..end];
                    let looks_like_check = word.len() > 3
                        && word.contains('-')
                        && word
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                    if looks_like_check && describe(word) == "A dns-audit lint check." {
                        missing.push(word.to_string());
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "checks without a description: {missing:?}"
        );
    }
}
