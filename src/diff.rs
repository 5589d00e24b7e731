//! Record-level differences between two versions of a zone. Pure.

use std::collections::BTreeSet;

use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;

use crate::model::{host_of, present_name, Zone};

/// How an RRset changed between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// The RRset is new.
    Added,
    /// The RRset is gone.
    Removed,
    /// Its values or TTL changed.
    Changed,
}

/// One RRset that differs between two versions of a zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordChange {
    /// Zone apex.
    pub zone: String,
    /// Host the name belongs to.
    pub host: String,
    /// Owner name.
    pub name: String,
    /// Record type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// Added, removed or changed.
    pub op: Op,
    /// Values before (empty when added).
    pub before: Vec<String>,
    /// Values after (empty when removed).
    pub after: Vec<String>,
    /// TTL before and after, when they differ.
    pub ttl: Option<(u32, u32)>,
}

impl RecordChange {
    /// `+ bh18 A 203.0.113.18`, `- …`, `~ bh17 A 203.0.113.17 -> 203.0.113.71`.
    pub fn line(&self) -> String {
        let name = relative(&self.name, &self.zone);
        match self.op {
            Op::Added => format!("+ {name} {} {}", self.rtype, self.after.join(", ")),
            Op::Removed => format!("- {name} {} {}", self.rtype, self.before.join(", ")),
            Op::Changed if self.before == self.after => match self.ttl {
                Some((old, new)) => format!("~ {name} {} TTL {old} -> {new}", self.rtype),
                None => format!("~ {name} {}", self.rtype),
            },
            Op::Changed => format!(
                "~ {name} {} {} -> {}",
                self.rtype,
                self.before.join(", "),
                self.after.join(", ")
            ),
        }
    }
}

/// `bh17` for `bh17.<zone>`, `@` for the apex.
pub fn relative(name: &str, zone: &str) -> String {
    if name == zone {
        return "@".into();
    }
    if zone == "." {
        return name.trim_end_matches('.').to_string();
    }
    name.strip_suffix(zone)
        .map(|s| s.trim_end_matches('.').to_string())
        .unwrap_or_else(|| name.to_string())
}

/// Every RRset that differs between `old` and `new` (same zone), in name order. SOA serial
/// changes are left out: every change bumps it.
pub fn diff_zones(old: &Zone, new: &Zone, host_depth: usize) -> Vec<RecordChange> {
    let names: BTreeSet<&Name> = old.iter().chain(new.iter()).map(|(name, _)| name).collect();
    let zone = present_name(&new.origin);
    let mut out = Vec::new();
    for name in names {
        let before = old.get(name);
        let after = new.get(name);
        let types: BTreeSet<RecordType> = before
            .into_iter()
            .chain(after)
            .flat_map(|sets| sets.keys().copied())
            .collect();
        for rtype in types {
            let was = before.and_then(|sets| sets.get(&rtype));
            let is = after.and_then(|sets| sets.get(&rtype));
            let op = match (was, is) {
                (None, Some(_)) => Op::Added,
                (Some(_), None) => Op::Removed,
                (Some(a), Some(b)) if a.rdatas != b.rdatas || a.ttl != b.ttl => Op::Changed,
                _ => continue,
            };
            if rtype == RecordType::SOA && op == Op::Changed {
                continue;
            }
            out.push(RecordChange {
                zone: zone.clone(),
                host: host_of(&new.origin, name, host_depth),
                name: present_name(name),
                rtype: rtype.to_string(),
                op,
                before: was.map(|s| s.shown(rtype)).unwrap_or_default(),
                after: is.map(|s| s.shown(rtype)).unwrap_or_default(),
                ttl: match (was, is) {
                    (Some(a), Some(b)) if a.ttl != b.ttl => Some((a.ttl, b.ttl)),
                    _ => None,
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(extra: &str) -> Zone {
        let text = format!("$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n{extra}");
        crate::zonefile::test_zone("z.net.", &text).zone
    }

    #[test]
    fn changes_are_per_rrset_not_per_line() {
        let old = zone("bh17 A 203.0.113.17\nbh19 A 203.0.113.19\n");
        let new = zone("bh17 A 203.0.113.17\nbh17 A 203.0.113.18\nbh18 A 203.0.113.18\n").clone();
        let lines: Vec<String> = diff_zones(&old, &new, 1)
            .iter()
            .map(RecordChange::line)
            .collect();
        assert_eq!(
            lines,
            vec![
                "~ bh17 A 203.0.113.17 -> 203.0.113.17, 203.0.113.18",
                "+ bh18 A 203.0.113.18",
                "- bh19 A 203.0.113.19",
            ]
        );
    }

    #[test]
    fn a_serial_bump_alone_is_no_change() {
        let old = zone("bh1 A 192.0.2.9\n");
        let text = "$TTL 300\n@ SOA ns h 2 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nbh1 A 192.0.2.9\n";
        let new = crate::zonefile::test_zone("z.net.", text).zone;
        assert!(diff_zones(&old, &new, 1).is_empty());
    }
}
