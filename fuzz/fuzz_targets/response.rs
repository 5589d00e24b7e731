//! Handling of arbitrary answers from the wire: errors are fine, panics are not, and nothing
//! that is not an authoritative answer to our question may become data.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = hickory_proto::rr::Name::from_ascii("bh17.bots.example.net.").unwrap();
    for rtype in [
        hickory_proto::rr::RecordType::A,
        hickory_proto::rr::RecordType::TXT,
        hickory_proto::rr::RecordType::NS,
        hickory_proto::rr::RecordType::RRSIG,
    ] {
        let _ = dns_audit::observe::observe_bytes(data, &name, rtype, false);
        let _ = dns_audit::observe::observe_bytes(data, &name, rtype, true);
    }
});
