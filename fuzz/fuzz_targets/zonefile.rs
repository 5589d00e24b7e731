//! Zone loading on arbitrary bytes: errors are fine, panics are not.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = hickory_proto::rr::Name::from_ascii("bots.example.net.").unwrap();
    let limits = dns_audit::zonefile::ZoneLimits {
        record_lines: true,
        ..Default::default()
    };
    if let Ok(loaded) =
        dns_audit::zonefile::load_zone_bytes(Path::new("fuzz.zone"), data, &origin, limits)
    {
        // Everything loaded must also present and plan without panicking.
        for (name, sets) in loaded.zone.iter() {
            let _ = dns_audit::model::present_name(name);
            for (rtype, set) in sets {
                let _ = set.shown(*rtype);
            }
        }
        let _ = dns_audit::lint::lint_zone(&loaded, "fuzz.zone", None, &Default::default(), 1);
    }
});
