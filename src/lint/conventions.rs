//! How a zone is kept, learned from its own history: whether its SOA serial is raised by hand
//! in each change or by tooling elsewhere, whether it names hosts as numbered series or as
//! words, whether it is a reverse zone. The risk checks read these instead of assuming one
//! house style, and `lint --explain` states them with the evidence. Pure: takes loaded
//! versions, oldest first.

use serde::Serialize;

use crate::config::{NamingRule, SerialRule};
use crate::diff::diff_zones;
use crate::model::{host_of, present_name, Zone};
use crate::typo;

/// Changes a history needs before a convention is learned from it rather than defaulted.
pub const MIN_CHANGES: usize = 3;

/// How many earlier versions of a zone file `lint` reads to learn its conventions.
pub const HISTORY_DEPTH: usize = 30;

/// Who raises the SOA serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SerialPolicy {
    /// Each change raises it: a change without a new serial is an error.
    ByHand,
    /// Most changes raise it, some leave it to a later bump: a change without a new serial is
    /// a warning.
    Usually,
    /// Tooling raises it (the server's serial policy, a deploy script, a bulk bump commit): a
    /// change without a new serial is normal.
    Managed,
}

/// How the zone names its hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Naming {
    /// Mostly numbered series (`bh17`, `node-003`): a new host is judged against its series.
    Numbered,
    /// Mostly words (`gitlab`, `talos`): a new name near an existing one is often a new word.
    Words,
    /// Owners are address digits (in-addr.arpa, ip6.arpa): never judged by spelling.
    Reverse,
}

/// A convention and why it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Learned<T> {
    /// The convention.
    pub value: T,
    /// Where it comes from: the config, the history (with its figures), or the default.
    pub why: String,
}

/// The conventions of one zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conventions {
    /// The zone apex.
    pub zone: String,
    /// Who raises the serial.
    pub serials: Learned<SerialPolicy>,
    /// How hosts are named.
    pub naming: Learned<Naming>,
}

impl Conventions {
    /// The conventions of `current` from what its history shows (see [`SerialEvidence`]),
    /// unless the config sets them; names are judged on `base` (the zone before the change).
    pub(crate) fn learn(
        current: &Zone,
        base: Option<&Zone>,
        serials: (SerialRule, SerialEvidence),
        naming: NamingRule,
        depth: usize,
    ) -> Conventions {
        Conventions {
            zone: present_name(&current.origin),
            serials: serial_policy(serials.0, serials.1),
            naming: naming_of(base.unwrap_or(current), naming, depth),
        }
    }
}

/// What a history shows of serials: how many changes of records it holds, in how many the
/// serial went up, and whose history it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SerialEvidence {
    /// Changes of records (a bump alone is not one).
    pub changes: usize,
    /// Of those, the ones that raised the serial.
    pub raised: usize,
    /// Read from every zone file of the directory, the file's own history being too short.
    pub pooled: bool,
}

impl SerialEvidence {
    /// The evidence of one file's versions, oldest first.
    pub fn of(history: &[Zone], depth: usize) -> SerialEvidence {
        let mut evidence = SerialEvidence::default();
        for pair in history.windows(2) {
            if diff_zones(&pair[0], &pair[1], depth).is_empty() {
                continue;
            }
            evidence.changes += 1;
            if let (Some(old), Some(new)) = (pair[0].serial(), pair[1].serial()) {
                evidence.raised += usize::from(new > old);
            }
        }
        evidence
    }

    /// This file's evidence when there is enough of it, else the directory's (`all`).
    pub(crate) fn or_pooled(self, all: &[SerialEvidence]) -> SerialEvidence {
        if self.changes >= MIN_CHANGES {
            return self;
        }
        SerialEvidence {
            changes: all.iter().map(|e| e.changes).sum(),
            raised: all.iter().map(|e| e.raised).sum(),
            pooled: true,
        }
    }
}

/// By hand when nine changes in ten raised the serial; usually when three in five did (a
/// forgotten bump is then said, not failed); managed when fewer did. A short history keeps
/// the safe default, by hand.
fn serial_policy(rule: SerialRule, evidence: SerialEvidence) -> Learned<SerialPolicy> {
    match rule {
        SerialRule::ByHand => return set(SerialPolicy::ByHand),
        SerialRule::Managed => return set(SerialPolicy::Managed),
        SerialRule::Learn => {}
    }
    let SerialEvidence {
        changes,
        raised,
        pooled,
    } = evidence;
    if changes < MIN_CHANGES {
        return Learned {
            value: SerialPolicy::ByHand,
            why: format!(
                "default: the history has {changes} change{} of records, too few to learn from",
                plural(changes)
            ),
        };
    }
    let (value, how) = if raised * 10 >= changes * 9 {
        (SerialPolicy::ByHand, "raised by hand in each change")
    } else if raised * 5 >= changes * 3 {
        (
            SerialPolicy::Usually,
            "usually raised by hand, some changes left to a later bump",
        )
    } else {
        (
            SerialPolicy::Managed,
            "raised elsewhere (server serial policy, deploy script or bump commits)",
        )
    };
    let whose = if pooled {
        "the directory's zone files"
    } else {
        "this file"
    };
    Learned {
        value,
        why: format!(
            "{how}: the serial went up in {raised} of the last {changes} changes of records of {whose}"
        ),
    }
}

/// Reverse by origin; numbered when numbered series hold at least two in five hosts.
fn naming_of(zone: &Zone, rule: NamingRule, depth: usize) -> Learned<Naming> {
    if is_reverse(zone) {
        return Learned {
            value: Naming::Reverse,
            why: "a reverse zone: owners are address digits".into(),
        };
    }
    match rule {
        NamingRule::Numbered => return set(Naming::Numbered),
        NamingRule::Words => return set(Naming::Words),
        NamingRule::Learn => {}
    }
    let hosts: std::collections::BTreeSet<String> = zone
        .iter()
        .map(|(name, _)| host_of(&zone.origin, name, depth))
        .filter(|h| h != "@" && !h.starts_with('_'))
        .collect();
    let mut series: std::collections::BTreeMap<&str, usize> = Default::default();
    for host in &hosts {
        if let Some((prefix, _, _)) = typo::numbered(host) {
            *series.entry(prefix).or_default() += 1;
        }
    }
    let numbered: usize = series.values().filter(|n| **n >= 2).sum();
    let value = if hosts.is_empty() || numbered * 5 >= hosts.len() * 2 {
        Naming::Numbered
    } else {
        Naming::Words
    };
    Learned {
        value,
        why: format!(
            "{numbered} of {} hosts belong to numbered series",
            hosts.len()
        ),
    }
}

/// Whether the zone is below in-addr.arpa or ip6.arpa.
pub(crate) fn is_reverse(zone: &Zone) -> bool {
    let origin = present_name(&zone.origin).to_ascii_lowercase();
    origin.ends_with("in-addr.arpa.") || origin.ends_with("ip6.arpa.")
}

fn set<T>(value: T) -> Learned<T> {
    Learned {
        value,
        why: format!("set in {}", crate::config::CONFIG_FILE),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(origin: &str, serial: u32, hosts: &[&str]) -> Zone {
        let mut text =
            format!("$TTL 300\n@ SOA ns1 h {serial} 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n");
        for (i, host) in hosts.iter().enumerate() {
            text.push_str(&format!("{host} A 192.0.2.{}\n", i + 10));
        }
        crate::zonefile::test_zone(origin, &text).zone
    }

    fn history(raised: &[bool]) -> Vec<Zone> {
        let mut serial = 1;
        let mut hosts: Vec<String> = Vec::new();
        let mut out = vec![zone("z.net.", serial, &[])];
        for (i, up) in raised.iter().enumerate() {
            hosts.push(format!("host{}x", i));
            serial += u32::from(*up);
            let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
            out.push(zone("z.net.", serial, &names));
        }
        out
    }

    fn learned(raised: &[bool]) -> Learned<SerialPolicy> {
        serial_policy(SerialRule::Learn, SerialEvidence::of(&history(raised), 1))
    }

    #[test]
    fn serials_raised_in_each_change_are_by_hand() {
        let by_hand = learned(&[true; 10]);
        assert_eq!(by_hand.value, SerialPolicy::ByHand, "{}", by_hand.why);
        assert!(by_hand.why.contains("10 of the last 10"), "{}", by_hand.why);
        // A forgotten bump in ten is still by hand; two in six is usually.
        let mut nine = [true; 10];
        nine[4] = false;
        assert_eq!(learned(&nine).value, SerialPolicy::ByHand);
        let usually = learned(&[true, true, false, true, false, true]);
        assert_eq!(usually.value, SerialPolicy::Usually, "{}", usually.why);
    }

    #[test]
    fn serials_rarely_raised_are_managed_elsewhere() {
        let managed = learned(&[false, false, true, false, false]);
        assert_eq!(managed.value, SerialPolicy::Managed, "{}", managed.why);
        assert!(managed.why.contains("1 of the last 5"), "{}", managed.why);
    }

    #[test]
    fn a_short_history_borrows_the_directorys_and_the_config_wins() {
        let short = SerialEvidence::of(&history(&[false, false]), 1);
        let learned_alone = serial_policy(SerialRule::Learn, short);
        assert_eq!(learned_alone.value, SerialPolicy::ByHand);
        assert!(
            learned_alone.why.starts_with("default"),
            "{}",
            learned_alone.why
        );
        let other = SerialEvidence::of(&history(&[false; 8]), 1);
        let pooled = serial_policy(SerialRule::Learn, short.or_pooled(&[short, other]));
        assert_eq!(pooled.value, SerialPolicy::Managed, "{}", pooled.why);
        assert!(pooled.why.contains("0 of the last 10"), "{}", pooled.why);
        assert!(pooled.why.contains("directory"), "{}", pooled.why);
        let set_by_hand = serial_policy(SerialRule::ByHand, other);
        assert_eq!(set_by_hand.value, SerialPolicy::ByHand);
        assert!(set_by_hand.why.starts_with("set in"), "{}", set_by_hand.why);
    }

    #[test]
    fn naming_is_read_from_the_zone() {
        let numbered = zone("z.net.", 1, &["bh1", "bh2", "bh3", "www"]);
        assert_eq!(
            naming_of(&numbered, NamingRule::Learn, 1).value,
            Naming::Numbered
        );
        let words = zone(
            "z.net.",
            1,
            &["talos", "atlas", "docs", "wiki", "dns1", "dns2"],
        );
        let learned = naming_of(&words, NamingRule::Learn, 1);
        assert_eq!(learned.value, Naming::Words, "{}", learned.why);
        let reverse = zone("2.0.192.in-addr.arpa.", 1, &[]);
        assert_eq!(
            naming_of(&reverse, NamingRule::Numbered, 1).value,
            Naming::Reverse
        );
        assert_eq!(
            naming_of(&words, NamingRule::Numbered, 1).value,
            Naming::Numbered
        );
    }
}
