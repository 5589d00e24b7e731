//! Handling of arbitrary answers from the wire: errors are fine, panics are not, and nothing
//! that is not an authoritative answer to our question may become data. The partial decode a
//! probe uses must agree with hickory's full decode wherever that one succeeds.
#![no_main]

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, Record, RecordType};
use libfuzzer_sys::fuzz_target;

use dns_audit::transport::{decode_for, Keep};

fn kept<'a>(records: &'a [Record], name: &Name, rtype: RecordType) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.record_type() == rtype && r.name == *name)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let name = Name::from_ascii("bh17.bots.example.net.").unwrap();
    for rtype in [RecordType::A, RecordType::TXT, RecordType::NS, RecordType::RRSIG] {
        let _ = dns_audit::observe::observe_bytes(data, &name, rtype, false);
        let _ = dns_audit::observe::observe_bytes(data, &name, rtype, true);
        let Ok(full) = Message::from_vec(data) else {
            continue;
        };
        let part = decode_for(data, &Keep::rrset(&name, rtype)).expect("a full decode succeeded");
        assert_eq!(part.metadata, full.metadata);
        assert_eq!(part.queries, full.queries);
        assert_eq!(part.edns, full.edns);
        if full.metadata.truncation {
            assert_eq!(part, full);
            continue;
        }
        assert_eq!(kept(&part.answers, &name, rtype), kept(&full.answers, &name, rtype));
        assert_eq!(part.answers.len(), kept(&full.answers, &name, rtype).len());
        assert_eq!(kept(&part.authorities, &name, rtype), kept(&full.authorities, &name, rtype));
        assert_eq!(kept(&part.additionals, &name, rtype), kept(&full.additionals, &name, rtype));
    }
});
