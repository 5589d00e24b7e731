//! DNSSEC validation of what one server serves, as a validating resolver would: every RRset
//! the zone is authoritative for must carry a signature that verifies with a key of the
//! zone's served DNSKEY set. Pure: the served RRsets in, the bogus ones out.
//!
//! Time is left out: expired and soon-expiring signatures are their own warnings
//! (`signature_expiring`), and a zone audited from an old copy (the 2023 root zone of the
//! tests) still validates cryptographically.

use std::collections::HashMap;

use hickory_proto::dnssec::rdata::{DNSSECRData, DNSKEY, DS, RRSIG};
use hickory_proto::dnssec::Verifier;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::model::{RrSet, Zone};

/// An RRset validating resolvers reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bogus {
    /// Owner name (canonical).
    pub name: Name,
    /// Type.
    pub rtype: RecordType,
    /// Why: no signature, or none that verifies with a key of the zone.
    pub why: String,
}

/// What one server showed, by owner and type: the RRset it serves, or None where it answered
/// that it has none. What could not be asked is not in it (unknown proves nothing).
pub type Served<'v> = HashMap<(Name, RecordType), Option<&'v RrSet>>;

/// A chain of trust broken: the key tags of the parent's DS, and those of the child's keys
/// (empty: it has no DNSKEY at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenChain {
    /// Key tags the DS set points at.
    pub ds_tags: Vec<u16>,
    /// Key tags of the child's DNSKEY set.
    pub key_tags: Vec<u16>,
}

impl BrokenChain {
    /// What the child has, said after its name: "has DNSKEY 6457, 4548 and none of them", or
    /// "has no DNSKEY at all", with `has` the verb.
    pub fn keys(&self, has: &str) -> String {
        if self.key_tags.is_empty() {
            format!("{has} no DNSKEY at all")
        } else {
            format!("{has} DNSKEY {} and none of them", tags(&self.key_tags))
        }
    }

    /// The DS key tags, comma separated.
    pub fn ds(&self) -> String {
        tags(&self.ds_tags)
    }
}

fn tags(tags: &[u16]) -> String {
    let tags: Vec<String> = tags.iter().map(u16::to_string).collect();
    tags.join(", ")
}

/// Whether the chain of trust from a DS set (a parent's, for `child`) to a DNSKEY set (the
/// child's; None: it has none) is broken: no DS points at a zone key of the set. None when one
/// does, or when there is no DS (the child is unsigned for validators: insecure, not bogus).
pub(crate) fn broken_chain(
    child: &Name,
    ds: Option<&RrSet>,
    keys: Option<&RrSet>,
) -> Option<BrokenChain> {
    let ds_records: Vec<DS> = ds?
        .rdatas
        .iter()
        .filter_map(|rdata| match rdata.to_hickory(RecordType::DS)? {
            RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds),
            _ => None,
        })
        .collect();
    let keys: Vec<DNSKEY> = keys
        .iter()
        .flat_map(|set| &set.rdatas)
        .filter_map(|rdata| match rdata.to_hickory(RecordType::DNSKEY)? {
            RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key),
            _ => None,
        })
        .collect();
    // A DS of a digest type this build cannot compute is taken for its key tag and algorithm.
    let points_at = |ds: &DS, key: &DNSKEY| match ds.covers(child, key) {
        Ok(covers) => covers,
        Err(_) => {
            key.calculate_key_tag().ok() == Some(ds.key_tag()) && key.algorithm() == ds.algorithm()
        }
    };
    let holds = ds_records.iter().any(|ds| {
        keys.iter()
            .any(|key| key.zone_key() && !key.revoke() && points_at(ds, key))
    });
    (!holds && !ds_records.is_empty()).then(|| BrokenChain {
        ds_tags: ds_records.iter().map(DS::key_tag).collect(),
        key_tags: keys
            .iter()
            .filter_map(|key| key.calculate_key_tag().ok())
            .collect(),
    })
}

/// The RRsets of `served` that a validating resolver rejects, in name order. Nothing when the
/// server serves no DNSKEY at the apex (an unsigned zone; a signed one that lost its keys is
/// drift of the DNSKEY RRset, and every answer of it is then bogus too).
pub(crate) fn validate(zone: &Zone, served: &Served<'_>) -> Vec<Bogus> {
    let origin = &zone.origin;
    let Some(Some(keys)) = served.get(&(origin.clone(), RecordType::DNSKEY)) else {
        return Vec::new();
    };
    let keys: Vec<(u16, DNSKEY)> = keys
        .rdatas
        .iter()
        .filter_map(|rdata| match rdata.to_hickory(RecordType::DNSKEY)? {
            RData::DNSSEC(DNSSECRData::DNSKEY(key)) if key.zone_key() && !key.revoke() => {
                Some((key.calculate_key_tag().ok()?, key))
            }
            _ => None,
        })
        .collect();
    let candidates = candidates(zone, served);
    let judge_part = |part: &[Candidate<'_>]| -> Vec<Bogus> {
        part.iter()
            .filter_map(|(name, rtype, set, signatures)| {
                let why = judge(origin, &keys, name, *rtype, set, signatures)?;
                Some(Bogus {
                    name: (*name).clone(),
                    rtype: *rtype,
                    why,
                })
            })
            .collect()
    };
    // Verifying is the cost (the root zone: 2,849 RSA signatures): spread over the cores
    // when there is enough of it.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = candidates.len().div_ceil(threads).max(64);
    let mut bogus: Vec<Bogus> = if candidates.len() <= chunk {
        judge_part(&candidates)
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = candidates
                .chunks(chunk)
                .map(|part| scope.spawn(move || judge_part(part)))
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    bogus.sort_by(|a, b| (&a.name, a.rtype).cmp(&(&b.name, b.rtype)));
    bogus
}

/// The RRsets to validate, with their signatures: every one the zone signs whose signatures
/// are known (at a delegation read by queries they are not).
fn candidates<'s>(zone: &Zone, served: &'s Served<'_>) -> Vec<Candidate<'s>> {
    served
        .iter()
        .filter_map(|(key, set)| Some((key, (*set)?)))
        .filter(|((name, rtype), _)| *rtype != RecordType::RRSIG && signed_here(zone, name, *rtype))
        .filter_map(|((name, rtype), set)| {
            Some((name, *rtype, set, signatures_over(served, name, *rtype)?))
        })
        .collect()
}

/// An RRset to validate: owner, type, data, signatures over it.
type Candidate<'s> = (&'s Name, RecordType, &'s RrSet, Vec<RRSIG>);

/// Whether the zone signs `rtype` at `name`: everything it is authoritative for. At a
/// delegation only DS and NSEC are the parent's; below one (glue, occluded data) nothing is.
fn signed_here(zone: &Zone, name: &Name, rtype: RecordType) -> bool {
    match zone.cut_above(name) {
        None => true,
        Some(cut) if cut == name => matches!(rtype, RecordType::DS | RecordType::NSEC),
        Some(_) => false,
    }
}

/// The RRSIGs served at `name` that cover `rtype`; None when the signatures at that name are
/// not known.
fn signatures_over(served: &Served<'_>, name: &Name, rtype: RecordType) -> Option<Vec<RRSIG>> {
    let Some(set) = served.get(&(name.clone(), RecordType::RRSIG))? else {
        return Some(Vec::new());
    };
    let signatures = set
        .rdatas
        .iter()
        .filter(|rdata| rdata.rrsig_covered() == Some(rtype))
        .filter_map(|rdata| match rdata.to_hickory(RecordType::RRSIG)? {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) => Some(sig),
            _ => None,
        })
        .collect();
    Some(signatures)
}

/// Whether a signature verifies with one of the keys it names.
enum Verified {
    /// It does, or it cannot be checked here (an algorithm this build lacks proves nothing).
    Yes,
    /// It does not.
    No,
}

fn verify(keys: &[&DNSKEY], name: &Name, sig: &RRSIG, records: &[Record]) -> Verified {
    let supported = sig.input().algorithm.is_supported();
    let verifies = keys.iter().any(|key| {
        key.verify_rrsig(name, DNSClass::IN, sig, records.iter())
            .is_ok()
    });
    if verifies || !supported {
        Verified::Yes
    } else {
        Verified::No
    }
}

/// Why the RRset does not validate, or None when one of its signatures verifies (a resolver
/// needs one) or none could be checked (an algorithm this build cannot verify is treated as
/// resolvers treat it: not bogus).
fn judge(
    origin: &Name,
    keys: &[(u16, DNSKEY)],
    name: &Name,
    rtype: RecordType,
    set: &RrSet,
    signatures: &[RRSIG],
) -> Option<String> {
    if signatures.is_empty() {
        return Some(format!(
            "no RRSIG over {rtype}: validating resolvers reject it"
        ));
    }
    let records: Vec<Record> = set
        .rdatas
        .iter()
        .filter_map(|rdata| {
            Some(Record::from_rdata(
                name.clone(),
                set.ttl,
                rdata.to_hickory(rtype)?,
            ))
        })
        .collect();
    let mut reasons = Vec::new();
    for sig in signatures {
        let input = sig.input();
        if input.signer_name != *origin {
            reasons.push(format!("signed by {}, not by the zone", input.signer_name));
            continue;
        }
        let candidates: Vec<&DNSKEY> = keys
            .iter()
            .filter(|(tag, key)| *tag == input.key_tag && key.algorithm() == input.algorithm)
            .map(|(_, key)| key)
            .collect();
        if candidates.is_empty() {
            reasons.push(format!(
                "signed by key {} (algorithm {}), which the DNSKEY set does not hold",
                input.key_tag,
                u8::from(input.algorithm)
            ));
            continue;
        }
        match verify(&candidates, name, sig, &records) {
            Verified::Yes => return None,
            Verified::No => reasons.push(format!(
                "the signature by key {} does not verify",
                input.key_tag
            )),
        }
    }
    Some(format!(
        "{}: validating resolvers reject it",
        reasons.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str = include_str!("../tests/fixtures/signed.example.net.zone");

    fn served(zone: &Zone) -> Served<'_> {
        zone.iter()
            .flat_map(|(name, sets)| {
                sets.iter()
                    .map(move |(rtype, set)| ((name.clone(), *rtype), Some(set)))
            })
            .collect()
    }

    /// The DS of `key` (its SHA-256 digest), as a parent serves it.
    fn ds_of(name: &Name, key: &crate::model::Rdata) -> crate::model::Rdata {
        let Some(RData::DNSSEC(DNSSECRData::DNSKEY(key))) = key.to_hickory(RecordType::DNSKEY)
        else {
            panic!("not a key");
        };
        let digest = key
            .to_digest(name, hickory_proto::dnssec::DigestType::SHA256)
            .unwrap();
        let ds = DS::new(
            key.calculate_key_tag().unwrap(),
            key.algorithm(),
            hickory_proto::dnssec::DigestType::SHA256,
            digest.as_ref().to_vec(),
        );
        crate::model::Rdata::from_hickory(&RData::DNSSEC(DNSSECRData::DS(ds))).unwrap()
    }

    #[test]
    fn a_ds_that_points_at_no_served_key_breaks_the_chain() {
        let zone = crate::zonefile::test_zone("signed.example.net.", SIGNED).zone;
        let origin = &zone.origin;
        let keys = zone.rrset(origin, RecordType::DNSKEY).unwrap();
        // The DS of the key-signing key (tag 63562): the chain holds.
        let ksk = keys.rdatas.iter().find(|k| k.bytes()[1] == 1).unwrap();
        let ds = RrSet::single(3600, ds_of(origin, ksk));
        assert_eq!(broken_chain(origin, Some(&ds), Some(keys)), None);
        // No DS at the parent: insecure, not bogus.
        assert_eq!(broken_chain(origin, None, Some(keys)), None);
        // The child lost the key the DS points at (a rollover done too soon).
        let zsk_only = RrSet {
            ttl: 3600,
            rdatas: keys
                .rdatas
                .iter()
                .filter(|k| k.bytes()[1] == 0)
                .cloned()
                .collect(),
        };
        let broken = broken_chain(origin, Some(&ds), Some(&zsk_only)).unwrap();
        assert_eq!(broken.ds(), "63562");
        assert_eq!(
            broken.keys("serves"),
            "serves DNSKEY 10624 and none of them"
        );
        // The child went unsigned while the parent still has its DS.
        let broken = broken_chain(origin, Some(&ds), None).unwrap();
        assert_eq!(broken.keys("has"), "has no DNSKEY at all");
    }

    #[test]
    fn a_zone_as_signed_validates_and_a_changed_rrset_does_not() {
        let zone = crate::zonefile::test_zone("signed.example.net.", SIGNED).zone;
        assert_eq!(validate(&zone, &served(&zone)), Vec::new());

        // The A RRset changed after signing: its signature no longer verifies.
        let changed = SIGNED.replace("IN\tA\t203.0.113.1\n", "IN\tA\t203.0.113.71\n");
        assert_ne!(changed, SIGNED);
        let zone = crate::zonefile::test_zone("signed.example.net.", &changed).zone;
        let bogus = validate(&zone, &served(&zone));
        assert_eq!(bogus.len(), 1, "{bogus:?}");
        assert_eq!(bogus[0].name.to_ascii(), "bh1.signed.example.net.");
        assert_eq!(bogus[0].rtype, RecordType::A);
        assert!(bogus[0].why.contains("does not verify"), "{}", bogus[0].why);

        // A signature not known (a delegation read by queries) proves nothing; one known to be
        // absent makes the RRset bogus.
        let zone = crate::zonefile::test_zone("signed.example.net.", SIGNED).zone;
        let bh1 = Name::from_ascii("bh1.signed.example.net.").unwrap();
        let mut unknown = served(&zone);
        unknown.remove(&(bh1.clone(), RecordType::RRSIG));
        assert_eq!(validate(&zone, &unknown), Vec::new());
        let mut absent = served(&zone);
        absent.insert((bh1, RecordType::RRSIG), None);
        let bogus = validate(&zone, &absent);
        assert_eq!(bogus.len(), 3, "A, AAAA and NSEC at bh1: {bogus:?}");
        assert!(bogus.iter().all(|b| b.why.starts_with("no RRSIG over")));
    }

    #[test]
    fn an_unsigned_zone_has_nothing_to_validate() {
        let text = "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n";
        let zone = crate::zonefile::test_zone("z.net.", text).zone;
        assert_eq!(validate(&zone, &served(&zone)), Vec::new());
    }
}
