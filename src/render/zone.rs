//! Zones as text: the canonical listing of `show` (one record per line, absolute names, TTLs in
//! seconds, DNSSEC order), and the zone file `import` writes (grouped by host, relative names).

use std::fmt::Write as _;

use hickory_proto::rr::RecordType;

use crate::diff::relative;
use crate::model::{host_of, present_name, Zone};

/// The mnemonic of a type as zone files write it (`TYPE65280` for one without a name).
pub(crate) fn type_name(rtype: RecordType) -> String {
    domain::base::iana::Rtype::from_int(u16::from(rtype)).to_string()
}

/// One line per record, `owner TTL IN TYPE data`, names absolute, in DNSSEC canonical order of
/// names, then by type number and canonical data.
pub fn listing(zone: &Zone) -> String {
    let mut out = String::new();
    for (name, sets) in zone.iter() {
        let owner = present_name(name);
        for (rtype, set) in sets {
            let shown = type_name(*rtype);
            for rdata in &set.rdatas {
                let data = rdata.present(*rtype);
                let _ = writeln!(out, "{owner}\t{}\tIN\t{shown}\t{data}", set.ttl);
            }
        }
    }
    out
}

/// A zone file for `zone`: `$ORIGIN` and `$TTL` (the most common TTL) on top, then the apex,
/// then one block per host in canonical order, owners relative to the origin and written once
/// per name, TTLs only where they differ from `$TTL`. The same zone always gives the same text.
pub fn zone_file(zone: &Zone, header: &str) -> String {
    let default_ttl = most_common_ttl(zone);
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "; {line}");
    }
    let origin = present_name(&zone.origin);
    let _ = writeln!(out, "$ORIGIN {origin}");
    let _ = writeln!(out, "$TTL {default_ttl}");
    let mut last_host: Option<String> = None;
    for (name, sets) in zone.iter() {
        let host = host_of(&zone.origin, name, 1);
        if last_host.as_ref() != Some(&host) {
            out.push('\n');
            last_host = Some(host);
        }
        // Every name of a zone lies inside it (the loader and the transfer reader see to it).
        let owner = relative(&present_name(name), &origin);
        let mut first = true;
        // SOA first at the apex, as BIND requires of a zone file.
        let mut ordered: Vec<_> = sets.iter().collect();
        ordered.sort_by_key(|(rtype, _)| (**rtype != RecordType::SOA, u16::from(**rtype)));
        for (rtype, set) in ordered {
            for rdata in &set.rdatas {
                let shown_owner = if first { owner.as_str() } else { "" };
                first = false;
                let ttl = if set.ttl == default_ttl {
                    String::new()
                } else {
                    set.ttl.to_string()
                };
                let _ = writeln!(
                    out,
                    "{shown_owner:<23} {ttl:>6} IN {:<6} {}",
                    type_name(*rtype),
                    rdata.present(*rtype)
                );
            }
        }
    }
    out
}

/// The TTL most RRsets of the zone have (the lowest of equals).
fn most_common_ttl(zone: &Zone) -> u32 {
    let mut counts: std::collections::BTreeMap<u32, usize> = Default::default();
    for (_, sets) in zone.iter() {
        for set in sets.values() {
            *counts.entry(set.ttl).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(ttl, count)| (*count, std::cmp::Reverse(*ttl)))
        .map_or(3600, |(ttl, _)| ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\n\
        WWW.bh1 60 A 192.0.2.1\nbh1 A 192.0.2.2\nbh1 TYPE65280 \\# 2 abcd\nbh1 TXT \"a b\" c\n";

    #[test]
    fn the_listing_is_canonical_and_complete() {
        let zone = crate::zonefile::test_zone("z.net.", ZONE).zone;
        assert_eq!(
            listing(&zone),
            "z.net.\t300\tIN\tNS\tns.z.net.\n\
             z.net.\t300\tIN\tSOA\tns.z.net. h.z.net. 1 2 3 4 5\n\
             bh1.z.net.\t300\tIN\tA\t192.0.2.2\n\
             bh1.z.net.\t300\tIN\tTXT\t\"a b\" \"c\"\n\
             bh1.z.net.\t300\tIN\tTYPE65280\t\\# 2 abcd\n\
             www.bh1.z.net.\t60\tIN\tA\t192.0.2.1\n\
             ns.z.net.\t300\tIN\tA\t192.0.2.53\n"
        );
    }

    #[test]
    fn a_written_zone_file_loads_back_to_the_same_zone() {
        let zone = crate::zonefile::test_zone("z.net.", ZONE).zone;
        let text = zone_file(&zone, "imported");
        assert!(
            text.starts_with("; imported\n$ORIGIN z.net.\n$TTL 300\n"),
            "{text}"
        );
        let again = crate::zonefile::test_zone("z.net.", &text).zone;
        assert_eq!(listing(&again), listing(&zone), "{text}");
        assert_eq!(
            zone_file(&again, "imported"),
            text,
            "stable: a re-import is a clean diff"
        );
    }
}
