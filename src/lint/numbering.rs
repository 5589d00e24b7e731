//! address-pattern, for numbered fleets: how the hosts' addresses follow their numbers.
//!
//! A fleet numbered `bh1`..`bh44` at `198.51.100.(100+N)` says, by its base zone, that `bh45`
//! belongs at `.145`. A new `bh45 A 198.51.100.154` is off that numbering by a transposition:
//! the typo of a new host's address, deployed, is an outage nobody's lint saw, since no other
//! host holds that address. Off by one slip of the hand (a transposition, a digit dropped,
//! doubled or replaced) it is an error naming the address meant; otherwise a warning (a host
//! placed elsewhere on purpose). The numbering is learned, never assumed: at least three
//! numbered hosts, nine in ten of them at the same offset from their number (`::17` for host
//! 17 in IPv6 reads as decimal digits, as fleets write it).

use std::collections::{BTreeMap, HashMap};

use hickory_proto::rr::RecordType;

use super::Level;
use crate::typo;

/// Per type and series prefix: how many hosts' addresses end with their number plus each
/// offset (`bh17` at `.117`: offset 100), and how many numbered hosts there are.
#[derive(Debug, Default)]
pub(super) struct Numbering {
    series: HashMap<(RecordType, String), (BTreeMap<i64, usize>, usize)>,
}

/// An address off its fleet's numbering: why, and the slip that explains it, if one does.
pub(super) struct Off {
    /// "does not follow the fleet's numbering (...): bh45's would end with 145".
    pub why: String,
    /// The slip (`transposition`) and the address meant, when one slip explains it.
    pub slip: Option<(&'static str, String)>,
}

impl Numbering {
    /// Learns one address of a base host.
    pub(super) fn learn(&mut self, rtype: RecordType, host: &str, value: &str) {
        let Some((prefix, number, _)) = typo::numbered(host) else {
            return;
        };
        let counts = self.series.entry((rtype, prefix.to_string())).or_default();
        counts.1 += 1;
        if let Some(offset) = number_offset(value, number) {
            *counts.0.entry(offset).or_default() += 1;
        }
    }

    /// Whether `value`, a new address of `host`, is off the numbering its series follows.
    pub(super) fn off(&self, rtype: RecordType, value: &str, host: &str) -> Option<Off> {
        let (prefix, number, _) = typo::numbered(host)?;
        let (offsets, total) = self.series.get(&(rtype, prefix.to_string()))?;
        let (&offset, &matching) = offsets.iter().max_by_key(|(_, count)| **count)?;
        let (last, written) = last_group(value)?;
        let wanted = i64::try_from(number).ok()?.checked_add(offset)?;
        if *total < 3 || matching * 10 < total * 9 || last == wanted {
            return None;
        }
        let follows = match offset {
            0 => "N".to_string(),
            k => format!("N+{k}"),
        };
        let why = format!(
            "does not follow the fleet's numbering ({matching} of {total} {prefix}N hosts have addresses ending with {follows}): {host}'s would end with {wanted}"
        );
        let slip = typo::slip(&wanted.to_string(), written).map(|slip| {
            (
                slip,
                format!("{}{wanted}", &value[..value.len() - written.len()]),
            )
        });
        Some(Off { why, slip })
    }
}

/// The level and message of an address off the numbering (`why` when nothing more is known):
/// one slip from the address meant is an error that names the fix, anything else a warning.
pub(super) fn judged(off: Option<Off>, why: String, rel: &str) -> (Level, String) {
    match off.and_then(|off| Some((off.why, off.slip?))) {
        Some((why, (slip, meant))) => (
            Level::Error,
            format!("{why}; one {slip} from {meant}: fix: {rel} {meant}"),
        ),
        None => (Level::Warning, why),
    }
}

/// The last group of an address as a number, and as written (decimal digits only: `.145`,
/// `::17` as fleets write host 17).
fn last_group(address: &str) -> Option<(i64, &str)> {
    let last = address.rsplit(['.', ':']).next()?;
    if last.is_empty() || last.len() > 9 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((last.parse().ok()?, last))
}

/// How far the address's last group is from the host's number (`.117` for 17: 100).
fn number_offset(address: &str, number: u64) -> Option<i64> {
    let (last, _) = last_group(address)?;
    last.checked_sub(i64::try_from(number).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fleet bh1..bh44 at `prefix` + (offset + N).
    fn fleet(rtype: RecordType, prefix: &str, offset: u64) -> Numbering {
        let mut numbering = Numbering::default();
        for n in 1..45 {
            numbering.learn(rtype, &format!("bh{n}"), &format!("{prefix}{}", offset + n));
        }
        numbering
    }

    #[test]
    fn a_new_host_one_slip_off_its_fleets_numbering_is_an_error_naming_the_fix() {
        let cases = [
            (
                RecordType::A,
                "198.51.100.",
                100,
                "198.51.100.154",
                "198.51.100.145",
                "transposition",
            ),
            (
                RecordType::A,
                "198.51.100.",
                100,
                "198.51.100.15",
                "198.51.100.145",
                "omission",
            ),
            (
                RecordType::A,
                "203.0.113.",
                0,
                "203.0.113.54",
                "203.0.113.45",
                "transposition",
            ),
            (
                RecordType::A,
                "203.0.113.",
                0,
                "203.0.113.455",
                "203.0.113.45",
                "repetition",
            ),
            (
                RecordType::AAAA,
                "2001:db8::",
                0,
                "2001:db8::54",
                "2001:db8::45",
                "transposition",
            ),
        ];
        for (rtype, prefix, offset, typed, meant, slip) in cases {
            let off = fleet(rtype, prefix, offset).off(rtype, typed, "bh45");
            let off = off.unwrap_or_else(|| panic!("{typed}: not off"));
            assert_eq!(off.slip, Some((slip, meant.to_string())), "{typed}");
            let (level, message) = judged(Some(off), String::new(), "bh45");
            assert_eq!(level, Level::Error, "{typed}");
            assert!(
                message.ends_with(&format!("fix: bh45 {meant}")),
                "{message}"
            );
        }
    }

    #[test]
    fn on_the_numbering_or_far_off_it_is_no_error() {
        let numbering = fleet(RecordType::A, "198.51.100.", 100);
        assert!(numbering
            .off(RecordType::A, "198.51.100.145", "bh45")
            .is_none());
        // Far from it: placed elsewhere on purpose, perhaps; a warning at most.
        let off = numbering
            .off(RecordType::A, "198.51.100.7", "bh45")
            .unwrap();
        assert!(off.slip.is_none());
        let (level, _) = judged(Some(off), String::new(), "bh45");
        assert_eq!(level, Level::Warning);
        // Not a numbered host, or no numbering learned: nothing to say.
        assert!(numbering
            .off(RecordType::A, "198.51.100.154", "www")
            .is_none());
        assert!(numbering
            .off(RecordType::AAAA, "2001:db8::54", "bh45")
            .is_none());
    }

    #[test]
    fn a_numbering_is_learned_only_where_nine_in_ten_follow_it() {
        let mut numbering = Numbering::default();
        for n in 1..=6 {
            let last = if n % 2 == 0 { 100 + n } else { 200 + n };
            numbering.learn(RecordType::A, &format!("bh{n}"), &format!("192.0.2.{last}"));
        }
        assert!(numbering.off(RecordType::A, "192.0.2.170", "bh7").is_none());
    }
}
