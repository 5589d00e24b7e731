//! Differences, pure: record-level between two versions of a zone, and character-level between
//! a value and the one it resembles (the slip).

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
    // Only at a label boundary: `ns1t.example.` is not `ns1` in `t.example.`.
    let prefix = if zone == "." {
        Some(name)
    } else {
        name.strip_suffix(zone)
    };
    match prefix.and_then(without_separator) {
        Some(relative) if !relative.is_empty() => relative.to_string(),
        _ => name.to_string(),
    }
}

/// `prefix` without the one label separator it ends with: a `.` no backslash escapes (`a\.`
/// ends in a label's own dot, not a separator).
fn without_separator(prefix: &str) -> Option<&str> {
    let rest = prefix.strip_suffix('.')?;
    let escapes = rest.bytes().rev().take_while(|b| *b == b'\\').count();
    (escapes % 2 == 0).then_some(rest)
}

/// Every RRset that differs between `old` and `new` (same zone), in name order. SOA serial
/// changes are left out: every change bumps it.
pub(crate) fn diff_zones(old: &Zone, new: &Zone, host_depth: usize) -> Vec<RecordChange> {
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

/// A piece of a typed value laid over the value it resembles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Characters both have.
    Same(String),
    /// Where they part: what was intended, what was typed (either may be empty).
    Slip {
        /// In the intended value.
        intended: String,
        /// In the typed value.
        typed: String,
    },
}

/// How far apart two values may be for one to be taken as a slip of the other: one edit, a
/// transposition included (`bh71` for `bh17`, `.18` for `.17`). Two would make most addresses
/// of a /24 slips of each other.
const SLIP_EDITS: usize = 1;

/// The value among `candidates` that `typed` is a slip of: one edit away (the first such),
/// never itself, and never for values of three characters or fewer.
pub(crate) fn resembled<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    if typed.chars().count() <= 3 {
        return None;
    }
    candidates
        .into_iter()
        .filter(|c| *c != typed && c.len().abs_diff(typed.len()) <= SLIP_EDITS)
        .map(|c| (crate::typo::distance(c, typed), c))
        .filter(|(d, _)| *d <= SLIP_EDITS)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `typed` laid over `intended`, character by character: `203.0.113.18` over `203.0.113.17`
/// is `203.0.113.1`, then 7 intended where 8 was typed. Changes with fewer than two equal
/// characters between them are one slip (`bot-hsot-41` over `bot-host-41`: one `os`/`so`).
pub fn slips(intended: &str, typed: &str) -> Vec<Piece> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_chars(intended, typed);
    let mut pieces: Vec<Piece> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match (change.tag(), pieces.last_mut()) {
            (ChangeTag::Equal, Some(Piece::Same(same))) => same.push_str(text),
            (ChangeTag::Equal, _) => pieces.push(Piece::Same(text.to_string())),
            (tag, Some(Piece::Slip { intended, typed })) => if tag == ChangeTag::Delete {
                intended
            } else {
                typed
            }
            .push_str(text),
            (tag, _) => {
                let (mut intended, mut typed) = (String::new(), String::new());
                if tag == ChangeTag::Delete {
                    &mut intended
                } else {
                    &mut typed
                }
                .push_str(text);
                // One equal character between two slips joins them.
                if let [.., Piece::Slip {
                    intended: i,
                    typed: t,
                }, Piece::Same(between)] = pieces.as_mut_slice()
                {
                    if between.chars().count() < 2 {
                        i.push_str(between);
                        t.push_str(between);
                        i.push_str(&intended);
                        t.push_str(&typed);
                        pieces.pop();
                        continue;
                    }
                }
                pieces.push(Piece::Slip { intended, typed });
            }
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(extra: &str) -> Zone {
        let text = format!("$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n{extra}");
        crate::zonefile::test_zone("z.net.", &text).zone
    }

    #[test]
    fn names_are_relative_only_at_a_label_boundary() {
        assert_eq!(relative("ns1.t.example.", "t.example."), "ns1");
        assert_eq!(relative("t.example.", "t.example."), "@");
        // Another name that ends with the zone's letters is not inside it.
        assert_eq!(relative("ns1t.example.", "t.example."), "ns1t.example.");
        // A label's own escaped dot is kept; only the separator goes.
        assert_eq!(relative("a\\..t.example.", "t.example."), "a\\.");
        assert_eq!(relative("a\\..", "."), "a\\.");
        assert_eq!(relative("www.example.", "."), "www.example");
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

    fn shown(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Same(s) => s.clone(),
                Piece::Slip { intended, typed } => format!("[{intended}→{typed}]"),
            })
            .collect()
    }

    #[test]
    fn slips_mark_the_characters_that_differ() {
        assert_eq!(
            shown(&slips("203.0.113.17", "203.0.113.18")),
            "203.0.113.1[7→8]"
        );
        assert_eq!(
            shown(&slips("bot-host-41", "bot-hsot-41")),
            "bot-h[os→so]t-41"
        );
        assert_eq!(shown(&slips("bh17", "bh17x")), "bh17[→x]");
        assert_eq!(shown(&slips("bh17", "bh17")), "bh17");
        assert_eq!(resembled("bh71", ["bh17", "bh18", "www"]), Some("bh17"));
        assert_eq!(resembled("203.0.113.0", ["203.0.113.17"]), None);
        assert_eq!(resembled("mail", ["web", "ns1"]), None);
        assert_eq!(resembled("bh1", ["bh2"]), None, "too short to tell");
    }
}
