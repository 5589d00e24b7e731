//! Handling of arbitrary answers from the wire: errors are fine, panics are not, and nothing
//! that is not an authoritative answer to our question may become data. The partial decode a
//! probe uses must agree with hickory's full decode wherever that one succeeds.
#![no_main]

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, Record, RecordData, RecordType};
use libfuzzer_sys::fuzz_target;

use dns_audit::transport::{decode_for, Keep};

/// What `Keep` names: the question's RRset and those it adds, and with `dnssec` every
/// signature and denial record.
fn kept<'a>(records: &'a [Record], keep: &Keep, asked: Option<&Query>) -> Vec<&'a Record> {
    let dnssec = |t| matches!(t, RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3);
    records
        .iter()
        .filter(|r| {
            (keep.dnssec && dnssec(r.record_type()))
                || asked.is_some_and(|q| r.record_type() == q.query_type() && r.name == *q.name())
                || keep
                    .also
                    .iter()
                    .any(|(n, t)| r.record_type() == *t && r.name == *n)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let name = Name::from_ascii("bh17.bots.example.net.").unwrap();
    for rtype in [
        RecordType::A,
        RecordType::TXT,
        RecordType::NS,
        RecordType::RRSIG,
    ] {
        let _ = dns_audit::observe::observe_bytes(data, &name, rtype, false);
        let _ = dns_audit::observe::observe_bytes(data, &name, rtype, true);
        let Ok(full) = Message::from_vec(data) else {
            continue;
        };
        let keep = Keep::rrset(&name, rtype);
        let part = match decode_for(data, &keep) {
            Ok(part) => part,
            Err(e) => {
                // The partial decode refuses an empty (update-form) record among those it
                // keeps, which a full decode takes: such an answer is never data.
                let sections = [&full.answers, &full.authorities, &full.additionals];
                let empty_kept = sections
                    .iter()
                    .flat_map(|records| kept(records, &keep, full.queries.first()))
                    .any(|r| r.data.is_update());
                assert!(
                    empty_kept,
                    "a full decode succeeded where the partial one failed: {e}"
                );
                continue;
            }
        };
        assert_eq!(part.metadata, full.metadata);
        assert_eq!(part.queries, full.queries);
        assert_eq!(part.edns, full.edns);
        if full.metadata.truncation {
            assert_eq!(part, full);
            continue;
        }
        let asked = full.queries.first();
        assert_eq!(
            kept(&part.answers, &keep, asked),
            kept(&full.answers, &keep, asked)
        );
        assert_eq!(part.answers.len(), kept(&full.answers, &keep, asked).len());
        assert_eq!(
            kept(&part.authorities, &keep, asked),
            kept(&full.authorities, &keep, asked)
        );
        assert_eq!(
            kept(&part.additionals, &keep, asked),
            kept(&full.additionals, &keep, asked)
        );
    }
});
