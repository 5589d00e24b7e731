//! The interoperability matrix: `check` against every major authoritative server, each a real
//! one from Debian's packages on 127.0.0.1 (NSD, Knot DNS, BIND 9, PowerDNS with its BIND
//! backend), by zone transfer and by queries. What differs between them (Knot's AA=0 on
//! transfers, its single RRSIG for a question of type RRSIG, NSEC3 owners answered with a
//! denial) must never show as drift.

use std::io::Read;

use crate::common::*;

const QUERIES: &str = "timeout_ms = 1000\nretries = 2\naxfr = \"never\"\n";
const TRANSFER: &str = "timeout_ms = 1000\nretries = 2\naxfr = \"always\"\n";

/// Both ways of reading a zone, with the method the report must name.
const BOTH: [(&str, &str); 2] = [(TRANSFER, "axfr"), (QUERIES, "queries")];

const SIGNED: &str = include_str!("../fixtures/signed.example.net.zone");
const SIGNED_NSEC3: &str = include_str!("../fixtures/signed.example.net.nsec3.zone");

/// A directory holding one zone file named for `origin` and a config.
fn dir_with(origin: &str, text: &str, config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = if origin == "." {
        "root.zone".to_string()
    } else {
        format!("{origin}zone")
    };
    std::fs::write(dir.path().join(file), text).unwrap();
    std::fs::write(dir.path().join("dns-audit.toml"), config).unwrap();
    dir
}

/// Audits `expected` (a zone of `origin`) on `server`, read `config`'s way.
async fn audit(
    server: &Daemon,
    origin: &str,
    expected: &str,
    config: &str,
) -> (i32, serde_json::Value) {
    let dir = dir_with(origin, expected, config);
    check_json(dir.path(), &[("ns1", server.addr)]).await
}

fn method(json: &serde_json::Value) -> &str {
    json["zones"][0]["servers"][0]["method"].as_str().unwrap()
}

/// Asserts a clean audit read the expected way, naming the server in every message.
fn assert_clean(server: &Daemon, how: &str, code: i32, json: &serde_json::Value) {
    let who = server.software;
    assert_eq!(method(json), how, "{who:?}: {json:#}");
    assert_eq!(code, 0, "{who:?} by {how}: {:#}", json["zones"][0]);
    assert!(findings(json).is_empty(), "{who:?} by {how}: {json:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_serving_the_expected_zone_is_clean_both_ways() {
    for software in EVERY_SERVER {
        let Some(server) = Daemon::start(software, ORIGIN, ZONE, &Setup::default()) else {
            continue;
        };
        for (config, how) in BOTH {
            let (code, json) = audit(&server, ORIGIN, ZONE, config).await;
            assert_clean(&server, how, code, &json);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_shows_the_incident_as_exactly_one_drift_both_ways() {
    let live = ZONE.replace("bh17 IN A 203.0.113.17", "bh17 IN A 203.0.113.71");
    assert_ne!(live, ZONE);
    for software in EVERY_SERVER {
        let Some(server) = Daemon::start(software, ORIGIN, &live, &Setup::default()) else {
            continue;
        };
        for (config, how) in BOTH {
            let (code, json) = audit(&server, ORIGIN, ZONE, config).await;
            assert_eq!(method(&json), how, "{software:?}");
            assert_eq!(code, 1, "{software:?} by {how}: {json:#}");
            let drift = drift(&json);
            assert_eq!(drift.len(), 1, "{software:?} by {how}: {drift:#?}");
            assert_eq!(drift[0]["name"], "bh17.bots.example.net.");
            assert_eq!(drift[0]["unexpected"], serde_json::json!(["203.0.113.71"]));
            assert_eq!(drift[0]["missing"], serde_json::json!(["203.0.113.17"]));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_shows_a_typo_d_new_name_by_transfer() {
    let live = format!("{ZONE}bh71 IN A 203.0.113.17\n");
    for software in EVERY_SERVER {
        let Some(server) = Daemon::start(software, ORIGIN, &live, &Setup::default()) else {
            continue;
        };
        let (code, json) = audit(&server, ORIGIN, ZONE, TRANSFER).await;
        assert_eq!(method(&json), "axfr", "{software:?}");
        assert_eq!(code, 1, "{software:?}: {json:#}");
        let drift = drift(&json);
        assert_eq!(drift.len(), 1, "{software:?}: {drift:#?}");
        assert_eq!(drift[0]["kind"], "unexpected_name", "{software:?}");
        assert_eq!(drift[0]["name"], "bh71.bots.example.net.");
        assert_eq!(drift[0]["resembles"], "bh17.bots.example.net.");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_serving_a_signed_zone_is_clean_both_ways_with_nsec_and_nsec3() {
    let origin = "signed.example.net.";
    for zone in [SIGNED, SIGNED_NSEC3] {
        for software in EVERY_SERVER {
            let Some(server) = Daemon::start(software, origin, zone, &Setup::default()) else {
                continue;
            };
            for (config, how) in BOTH {
                let (code, json) = audit(&server, origin, zone, config).await;
                assert_clean(&server, how, code, &json);
            }
        }
    }
}

/// `zone` (either fixture's layout: one record a line, or BIND's with owners left out and
/// RRSIGs over several lines) without the RRSIG over bh1's A.
fn without_signature_over_a_at_bh1(zone: &str) -> String {
    let mut out = String::new();
    let mut owner = "";
    let mut lines = zone.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with(char::is_whitespace) && !line.starts_with(';') {
            owner = line.split_whitespace().next().unwrap_or("");
        }
        if owner == "bh1.signed.example.net." && line.contains("RRSIG\tA ") {
            if line.ends_with('(') {
                for rest in lines.by_ref() {
                    if rest.contains(')') {
                        break;
                    }
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_lost_on_any_server_is_drift_and_bogus_both_ways() {
    let origin = "signed.example.net.";
    for zone in [SIGNED, SIGNED_NSEC3] {
        let live = without_signature_over_a_at_bh1(zone);
        assert_ne!(live, zone, "the fixture must lose bh1's signature over A");
        for software in EVERY_SERVER {
            let Some(server) = Daemon::start(software, origin, &live, &Setup::default()) else {
                continue;
            };
            for (config, how) in BOTH {
                let (code, json) = audit(&server, origin, zone, config).await;
                assert_eq!(code, 1, "{software:?} by {how}: {json:#}");
                let drift = drift(&json);
                assert_eq!(drift.len(), 2, "{software:?} by {how}: {drift:#?}");
                assert!(drift.iter().all(|f| f["name"] == "bh1.signed.example.net."));
                let lost = drift.iter().find(|f| f["type"] == "RRSIG").unwrap();
                assert_eq!(lost["missing"], serde_json::json!(["signature over A"]));
                let bogus = drift.iter().find(|f| f["kind"] == "bogus").unwrap();
                assert_eq!(bogus["type"], "A", "{software:?} by {how}: {bogus:#}");
            }
        }
    }
}

/// `zone` with one octet of bh1's signature over A changed (a base64 digit of the
/// signature's middle replaced by another).
fn with_a_flipped_signature(zone: &str) -> String {
    zone.lines()
        .map(|line| {
            if !line.starts_with("bh1.signed.example.net.\t300\tIN\tRRSIG\tA ") {
                return format!("{line}\n");
            }
            let at = line.len() - 20;
            let old = &line[at..=at];
            let new = if old == "A" { "B" } else { "A" };
            format!("{}{new}{}\n", &line[..at], &line[at + 1..])
        })
        .collect()
}

/// What validating resolvers reject is its own finding, `bogus`, on every server and both
/// ways: a signature that does not verify, and signatures by a key the DNSKEY set no longer
/// holds. A re-signed zone (new signatures, same keys) stays clean (the fixtures' own test).
#[tokio::test(flavor = "multi_thread")]
async fn what_validating_resolvers_reject_is_bogus_on_every_server() {
    let origin = "signed.example.net.";
    let flipped = with_a_flipped_signature(SIGNED);
    assert_ne!(flipped, SIGNED);
    let no_zsk: String = SIGNED
        .lines()
        .filter(|l| !l.contains("DNSKEY\t256 3 13"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(no_zsk, SIGNED);
    for software in EVERY_SERVER {
        let Some(server) = Daemon::start(software, origin, &flipped, &Setup::default()) else {
            continue;
        };
        for (config, how) in BOTH {
            let (code, json) = audit(&server, origin, SIGNED, config).await;
            assert_eq!(code, 1, "{software:?} by {how}: {json:#}");
            let drift = drift(&json);
            // RRSIGs compare by what they cover: the change is not drift of the RRSIG RRset.
            assert_eq!(drift.len(), 1, "{software:?} by {how}: {drift:#?}");
            assert_eq!(drift[0]["kind"], "bogus");
            assert_eq!(drift[0]["name"], "bh1.signed.example.net.");
            assert_eq!(drift[0]["type"], "A");
            let why = drift[0]["why"].as_str().unwrap();
            assert!(
                why.contains("the signature by key 10624 does not verify"),
                "{why}"
            );
        }
        let Some(server) = Daemon::start(software, origin, &no_zsk, &Setup::default()) else {
            continue;
        };
        for (config, how) in BOTH {
            let (code, json) = audit(&server, origin, SIGNED, config).await;
            assert_eq!(code, 1, "{software:?} by {how}: {json:#}");
            let bogus: Vec<_> = drift(&json)
                .into_iter()
                .filter(|f| f["kind"] == "bogus")
                .collect();
            let bh1 = bogus
                .iter()
                .find(|f| f["name"] == "bh1.signed.example.net." && f["type"] == "A")
                .unwrap_or_else(|| panic!("{software:?} by {how}: {bogus:#?}"));
            let why = bh1["why"].as_str().unwrap();
            assert!(
                why.contains("key 10624 (algorithm 13), which the DNSKEY set does not hold"),
                "{why}"
            );
            // The KSK's signature was made over the set that held the ZSK: it no longer
            // verifies either.
            let keys = bogus.iter().find(|f| f["type"] == "DNSKEY").unwrap();
            let why = keys["why"].as_str().unwrap();
            assert!(
                why.contains("the signature by key 63562 does not verify"),
                "{why}"
            );
        }
    }
}

/// Response rate limiting with slips, where the server has it: the audit goes over TCP once
/// it sees the slips, and stays exact.
#[tokio::test(flavor = "multi_thread")]
async fn the_audit_stays_exact_under_each_servers_rate_limiting() {
    let mut zone = String::from(ZONE);
    for i in 0..300 {
        zone.push_str(&format!("h{i} IN A 198.18.{}.{}\n", i / 256, i % 256));
    }
    let limited = Setup {
        rate_limit: true,
        ..Setup::default()
    };
    for software in [Software::Knot, Software::Bind] {
        let Some(server) = Daemon::start(software, ORIGIN, &zone, &limited) else {
            continue;
        };
        let (code, json) = audit(&server, ORIGIN, &zone, QUERIES).await;
        let view = &json["zones"][0]["servers"][0];
        assert_eq!(code, 0, "{software:?}: {view} {:#}", json["findings"]);
        assert_eq!(
            view["rate_limited"], true,
            "{software:?}: RRL did not kick in: {view}"
        );
        let all = findings(&json);
        assert_eq!(all.len(), 1, "{software:?}: {all:#?}");
        assert_eq!(all[0]["kind"], "rate_limited");

        let live = zone.replace("h299 IN A 198.18.1.43", "h299 IN A 198.18.1.34");
        assert_ne!(live, zone);
        let Some(server) = Daemon::start(software, ORIGIN, &live, &limited) else {
            continue;
        };
        let (code, json) = audit(&server, ORIGIN, &zone, QUERIES).await;
        assert_eq!(code, 1, "{software:?}: {json:#}");
        assert_eq!(drift(&json).len(), 1, "{software:?}: {json:#}");
    }
}

fn root_zone() -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(&include_bytes!("../fixtures/root.zone.gz")[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The root zone's transfer runs to hundreds of messages, each signed (RFC 8945 5.3.1): every
/// one must verify, and a wrong key must fail the transfer, never give an empty zone.
#[tokio::test(flavor = "multi_thread")]
async fn every_server_signs_a_long_transfer_with_tsig_and_a_wrong_key_fails_it() {
    let text = root_zone();
    let secret = "K2tf3TRjvQkVCmJF3/Z9vA==";
    let keyed = Setup {
        transfer: Transfer::Tsig("audit-key".into(), secret.into()),
        ..Setup::default()
    };
    let outside = tempfile::tempdir().unwrap();
    let secret_file = outside.path().join("tsig.secret");
    let config = format!(
        "{TRANSFER}signature_warn_days = 0\n\
         tsig = {{ name = \"audit-key\", algorithm = \"hmac-sha256\", secret_file = \"{}\" }}\n",
        secret_file.display()
    );
    for software in EVERY_SERVER {
        let Some(server) = Daemon::start(software, ".", &text, &keyed) else {
            continue;
        };
        std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
        let (code, json) = audit(&server, ".", &text, &config).await;
        assert_clean(&server, "axfr", code, &json);

        std::fs::write(&secret_file, "AAAAAAAAAAAAAAAAAAAAAA==\n").unwrap();
        let (code, json) = audit(&server, ".", &text, &config).await;
        assert_eq!(code, 3, "{software:?}: {:#}", json["zones"][0]["servers"]);
        assert!(drift(&json).is_empty(), "{software:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_root_zone_is_clean_on_nsd_knot_and_bind_both_ways() {
    let text = root_zone();
    // Its signatures expired in 2023: expiry warnings are off for this comparison.
    for software in [Software::Nsd, Software::Knot, Software::Bind] {
        let Some(server) = Daemon::start(software, ".", &text, &Setup::default()) else {
            continue;
        };
        for (config, how) in BOTH {
            let config = format!("{config}signature_warn_days = 0\nconcurrency = 32\n");
            let (code, json) = audit(&server, ".", &text, &config).await;
            assert_clean(&server, how, code, &json);
        }
    }
}
